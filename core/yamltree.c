/* YAML into jansson: a libyaml event parser that builds the tree and records,
 * beside it, where every key and value is written in the source. */
#include "core/yamltree.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "base/fs.h"
#include "base/util.h"

/* Where a node starts and, for scalars, how to find its text again. */
struct ninfo {
	int line, col;   /* 1-based */
	int style;       /* yaml_scalar_style_t for scalars, 0 for containers */
	size_t src;      /* byte offset of the scalar's first character (its indicator) */
	size_t src_end;  /* byte offset just past the scalar */
	int sline;       /* 0-based line of src */
};

struct yent {
	const json_t *parent;
	char *key;       /* NULL for a sequence item */
	size_t index;
	int kline, kcol; /* key position (mappings only) */
	struct ninfo v;
};

struct ypos {
	char *file;
	char *text;      /* the source, kept for ypos_value_offset */
	size_t len;
	size_t *lines;   /* byte offset of each line's start */
	size_t n_lines;
	/* the last mark converted to a byte offset: events come in source
	 * order, so the next one is found by walking on from it rather than
	 * from its line's start (which is quadratic on one long line) */
	size_t mc_line, mc_col, mc_byte;
	struct ninfo root;

	struct yent *ents;
	size_t n_ents, cap_ents;
	/* open addressing over ents: slot holds index + 1, 0 = empty */
	uint32_t *slots;
	size_t n_slots;

	struct ydup *dups;
	size_t n_dups;
	/* Values dropped while loading (duplicates, merge sources) stay alive here:
	 * positions are keyed by container address, which must not be reused. */
	json_t *keep;
};

/* ---- position table ------------------------------------------------------ */

static uint64_t ent_hash(const json_t *parent, const char *key, size_t index)
{
	uint64_t h = 1469598103934665603ull;
	uintptr_t p = (uintptr_t)parent;
	for (size_t i = 0; i < sizeof p; i++) {
		h ^= (p >> (i * 8)) & 0xff;
		h *= 1099511628211ull;
	}
	if (key) {
		for (const unsigned char *s = (const unsigned char *)key; *s; s++) {
			h ^= *s;
			h *= 1099511628211ull;
		}
	} else {
		h ^= index + 0x9e3779b97f4a7c15ull;
		h *= 1099511628211ull;
	}
	return h;
}

static bool ent_match(const struct yent *e, const json_t *parent, const char *key, size_t index)
{
	if (e->parent != parent)
		return false;
	if (key)
		return e->key && strcmp(e->key, key) == 0;
	return !e->key && e->index == index;
}

static struct yent *ent_find(const struct ypos *p, const json_t *parent, const char *key, size_t index)
{
	if (!p || !parent || !p->n_slots)
		return NULL;
	size_t mask = p->n_slots - 1;
	for (size_t i = ent_hash(parent, key, index) & mask;; i = (i + 1) & mask) {
		uint32_t s = p->slots[i];
		if (!s)
			return NULL;
		if (ent_match(&p->ents[s - 1], parent, key, index))
			return &p->ents[s - 1];
	}
}

static void slots_insert(struct ypos *p, size_t ei)
{
	const struct yent *e = &p->ents[ei];
	size_t mask = p->n_slots - 1;
	size_t i = ent_hash(e->parent, e->key, e->index) & mask;
	while (p->slots[i])
		i = (i + 1) & mask;
	p->slots[i] = (uint32_t)(ei + 1);
}

/* Records (or replaces) the position of parent[key] / parent[index]. */
static void ent_put(struct ypos *p, const json_t *parent, const char *key, size_t index, int kline,
		    int kcol, const struct ninfo *v)
{
	struct yent *e = ent_find(p, parent, key, index);
	if (e) {
		e->kline = kline;
		e->kcol = kcol;
		e->v = *v;
		return;
	}
	if (p->n_ents == p->cap_ents) {
		p->cap_ents = p->cap_ents ? p->cap_ents * 2 : 64;
		p->ents = xrealloc(p->ents, p->cap_ents * sizeof *p->ents);
	}
	/* keep the load factor under 1/2 */
	if ((p->n_ents + 1) * 2 > p->n_slots) {
		free(p->slots);
		p->n_slots = p->n_slots ? p->n_slots * 2 : 128;
		p->slots = xcalloc(p->n_slots, sizeof *p->slots);
		for (size_t i = 0; i < p->n_ents; i++)
			slots_insert(p, i);
	}
	e = &p->ents[p->n_ents];
	e->parent = parent;
	e->key = xstrdup(key);
	e->index = key ? 0 : index;
	e->kline = kline;
	e->kcol = kcol;
	e->v = *v;
	slots_insert(p, p->n_ents);
	p->n_ents++;
}

/* ---- text positions ------------------------------------------------------ */

static void lines_build(struct ypos *p)
{
	size_t cap = 64;
	p->lines = xmalloc(cap * sizeof *p->lines);
	p->n_lines = 0;
	/* libyaml skips a UTF-8 byte order mark without counting it */
	size_t start = (p->len >= 3 && memcmp(p->text, "\xEF\xBB\xBF", 3) == 0) ? 3 : 0;
	p->lines[p->n_lines++] = start;
	for (size_t i = start; i < p->len; i++) {
		if (p->text[i] != '\n' && p->text[i] != '\r')
			continue;
		if (p->text[i] == '\r' && i + 1 < p->len && p->text[i + 1] == '\n')
			i++;
		if (p->n_lines == cap) {
			cap *= 2;
			p->lines = xrealloc(p->lines, cap * sizeof *p->lines);
		}
		p->lines[p->n_lines++] = i + 1;
	}
}

static size_t line_end(const struct ypos *p, size_t line)
{
	size_t i = p->lines[line];
	while (i < p->len && p->text[i] != '\n' && p->text[i] != '\r')
		i++;
	return i;
}

static bool utf8_cont(char c)
{
	return ((unsigned char)c & 0xC0) == 0x80;
}

/* libyaml counts columns in characters; convert to a byte offset. */
static size_t mark_to_byte(struct ypos *p, size_t line, size_t col)
{
	if (line >= p->n_lines)
		return p->len;
	size_t i = p->lines[line], c = 0;
	if (line == p->mc_line && col >= p->mc_col) {
		i = p->mc_byte;
		c = p->mc_col;
	}
	p->mc_line = line;
	for (; c < col && i < p->len; c++) {
		i++;
		while (i < p->len && utf8_cont(p->text[i]))
			i++;
	}
	p->mc_col = c;
	p->mc_byte = i;
	return i;
}

struct loc ypos_offset_loc(const struct ypos *p, size_t off)
{
	struct loc l = {p ? p->file : NULL, 0, 0};
	if (!p)
		return l;
	if (off > p->len)
		off = p->len;
	size_t lo = 0, hi = p->n_lines;
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		if (p->lines[mid] <= off)
			lo = mid;
		else
			hi = mid;
	}
	int col = 1;
	for (size_t i = p->lines[lo]; i < off && i < p->len; i++)
		if (!utf8_cont(p->text[i]))
			col++;
	l.line = (int)lo + 1;
	l.col = col;
	return l;
}

static struct ninfo info_at(struct ypos *p, yaml_mark_t m)
{
	struct ninfo n = {0};
	n.line = (int)m.line + 1;
	n.col = (int)m.column + 1;
	n.src = mark_to_byte(p, m.line, m.column);
	n.src_end = n.src;
	n.sline = (int)m.line;
	return n;
}

/* ---- public lookups ------------------------------------------------------ */

void ypos_free(struct ypos *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_ents; i++)
		free(p->ents[i].key);
	for (size_t i = 0; i < p->n_dups; i++)
		free((char *)p->dups[i].key);
	free(p->ents);
	free(p->slots);
	free(p->dups);
	json_decref(p->keep);
	free(p->lines);
	free(p->text);
	free(p->file);
	free(p);
}

const char *ypos_file(const struct ypos *p)
{
	return p ? p->file : NULL;
}

static struct loc mkloc(const struct ypos *p, int line, int col)
{
	struct loc l = {p ? p->file : NULL, line, col};
	return l;
}

struct loc ypos_root(const struct ypos *p)
{
	if (!p)
		return mkloc(p, 0, 0);
	return mkloc(p, p->root.line, p->root.col);
}

struct loc ypos_value(const struct ypos *p, const json_t *parent, const char *key)
{
	const struct yent *e = key ? ent_find(p, parent, key, 0) : NULL;
	return e ? mkloc(p, e->v.line, e->v.col) : mkloc(p, 0, 0);
}

struct loc ypos_key(const struct ypos *p, const json_t *parent, const char *key)
{
	const struct yent *e = key ? ent_find(p, parent, key, 0) : NULL;
	return e ? mkloc(p, e->kline, e->kcol) : mkloc(p, 0, 0);
}

struct loc ypos_item(const struct ypos *p, const json_t *parent, size_t index)
{
	const struct yent *e = ent_find(p, parent, NULL, index);
	return e ? mkloc(p, e->v.line, e->v.col) : mkloc(p, 0, 0);
}

size_t ypos_n_dups(const struct ypos *p)
{
	return p ? p->n_dups : 0;
}

const struct ydup *ypos_dup(const struct ypos *p, size_t i)
{
	return p && i < p->n_dups ? &p->dups[i] : NULL;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Number of bytes the UTF-8 encoding of code point cp takes. */
static size_t utf8_len(unsigned long cp)
{
	return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* For a double-quoted escape at s (after the backslash): how many source bytes
 * it spans and how many value bytes it produces. */
static void dq_escape(const char *s, size_t avail, size_t *src_n, size_t *val_n)
{
	size_t digits = 0;
	if (avail == 0) {
		*src_n = 0;
		*val_n = 0;
		return;
	}
	switch (s[0]) {
	case 'x': digits = 2; break;
	case 'u': digits = 4; break;
	case 'U': digits = 8; break;
	case 'N': *src_n = 1; *val_n = 2; return;      /* U+0085 */
	case '_': *src_n = 1; *val_n = 2; return;      /* U+00A0 */
	case 'L': case 'P': *src_n = 1; *val_n = 3; return; /* U+2028/9 */
	default: *src_n = 1; *val_n = 1; return;
	}
	unsigned long cp = 0;
	size_t i;
	for (i = 1; i <= digits && i < avail && hexval(s[i]) >= 0; i++)
		cp = cp * 16 + (unsigned long)hexval(s[i]);
	*src_n = i;
	*val_n = utf8_len(cp);
}

/* Walks the source of a flow scalar (plain or quoted) and its value side by
 * side up to value offset off. Folded line breaks are the only place where
 * the two differ in more than escapes. */
static size_t flow_walk(const struct ypos *p, const struct yent *e, const char *val, size_t vlen,
			size_t off)
{
	size_t s = e->v.src, end = e->v.src_end;
	int style = e->v.style;
	if (style != YAML_PLAIN_SCALAR_STYLE)
		s++; /* the opening quote */
	size_t i = 0;
	while (i < off && i < vlen && s < end) {
		char c = p->text[s];
		if (style == YAML_SINGLE_QUOTED_SCALAR_STYLE && c == '\'' && s + 1 < end &&
		    p->text[s + 1] == '\'') {
			s += 2;
			i++;
		} else if (style == YAML_DOUBLE_QUOTED_SCALAR_STYLE && c == '\\') {
			size_t sn, vn;
			if (s + 1 < end && (p->text[s + 1] == '\n' || p->text[s + 1] == '\r')) {
				/* escaped line break: produces nothing */
				s++;
				while (s < end && is_space(p->text[s]))
					s++;
				continue;
			}
			dq_escape(p->text + s + 1, end - s - 1, &sn, &vn);
			if (i + vn > off)
				break; /* off is inside this escape: point at the backslash */
			s += 1 + sn;
			i += vn;
		} else if (c == val[i]) {
			s++;
			i++;
		} else if (is_space(c)) {
			/* a folded line break: source whitespace run vs value ' ' / '\n's */
			while (s < end && is_space(p->text[s]))
				s++;
			while (i < off && i < vlen && (val[i] == ' ' || val[i] == '\n'))
				i++;
		} else {
			break; /* out of step: give the best place so far */
		}
	}
	if (i == off && off < vlen && !is_space(val[off]))
		while (s < end && is_space(p->text[s]))
			s++;
	return s;
}

/* A literal block keeps each line as written after the indentation, so line k
 * of the value is the tail of source line (header + 1 + k). */
static bool literal_walk(const struct ypos *p, const struct yent *e, const char *val, size_t vlen,
			 size_t off, size_t *at)
{
	size_t k = 0, ls = 0;
	for (size_t i = 0; i < off && i < vlen; i++)
		if (val[i] == '\n') {
			k++;
			ls = i + 1;
		}
	size_t le = ls;
	while (le < vlen && val[le] != '\n')
		le++;
	size_t line = (size_t)e->v.sline + 1 + k;
	if (line >= p->n_lines)
		return false;
	size_t b0 = p->lines[line], b1 = line_end(p, line);
	if (b1 - b0 < le - ls)
		return false;
	size_t indent = (b1 - b0) - (le - ls);
	*at = b0 + indent + (off - ls);
	return true;
}

struct loc ypos_value_offset(const struct ypos *p, const json_t *parent, const char *key,
			     size_t index, size_t off)
{
	const struct yent *e = ent_find(p, parent, key, key ? 0 : index);
	if (!e)
		return mkloc(p, 0, 0);
	struct loc start = mkloc(p, e->v.line, e->v.col);
	const json_t *v = key ? json_object_get(parent, key) : json_array_get(parent, index);
	if (!json_is_string(v) || !e->v.style)
		return start;
	const char *val = json_string_value(v);
	size_t vlen = json_string_length(v);
	if (off > vlen)
		off = vlen;
	size_t at;
	switch (e->v.style) {
	case YAML_PLAIN_SCALAR_STYLE:
	case YAML_SINGLE_QUOTED_SCALAR_STYLE:
	case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
		at = flow_walk(p, e, val, vlen, off);
		break;
	case YAML_LITERAL_SCALAR_STYLE:
		if (!literal_walk(p, e, val, vlen, off, &at))
			return start;
		break;
	default:
		return start;
	}
	return ypos_offset_loc(p, at);
}

/* ---- scalars ------------------------------------------------------------- */

#define TAG_PREFIX "tag:yaml.org,2002:"

static bool all_in(const char *s, size_t n, const char *set)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr(set, s[i]) || !s[i])
			return false;
	return true;
}

static bool is_null_text(const char *s, size_t n)
{
	return n == 0 || (n == 1 && s[0] == '~') || !strcmp(s, "null") || !strcmp(s, "Null") ||
	       !strcmp(s, "NULL");
}

static int bool_text(const char *s)
{
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
		return 1;
	if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
		return 0;
	return -1;
}

/* [-+]? ( . [0-9]+ | [0-9]+ ( . [0-9]* )? ) ( [eE] [-+]? [0-9]+ )? */
static bool is_float_text(const char *s, size_t n)
{
	size_t i = 0, d = 0;
	if (i < n && (s[i] == '-' || s[i] == '+'))
		i++;
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++, d++;
	if (i < n && s[i] == '.') {
		i++;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++, d++;
	}
	if (!d)
		return false;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '-' || s[i] == '+'))
			i++;
		size_t e = 0;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++, e++;
		if (!e)
			return false;
	}
	return i == n;
}

enum { RES_STR, RES_NULL, RES_BOOL, RES_INT, RES_FLOAT };

/* Resolves plain text by the YAML 1.2 core schema. Returns a new reference,
 * or NULL with err set (a number out of range). */
static json_t *resolve_plain(const char *s, size_t n, int *kind, struct err *err)
{
	int b;
	if (is_null_text(s, n)) {
		*kind = RES_NULL;
		return json_null();
	}
	if ((b = bool_text(s)) >= 0) {
		*kind = RES_BOOL;
		return json_boolean(b);
	}
	const char *digits = s;
	int base = 10;
	size_t dn = n;
	if (n > 2 && s[0] == '0' && s[1] == 'o' && all_in(s + 2, n - 2, "01234567")) {
		base = 8;
		digits = s + 2;
		dn = n - 2;
	} else if (n > 2 && s[0] == '0' && s[1] == 'x' && all_in(s + 2, n - 2, "0123456789abcdefABCDEF")) {
		base = 16;
		digits = s + 2;
		dn = n - 2;
	}
	if (base != 10 || (n > 0 && ((s[0] == '-' || s[0] == '+') ? all_in(s + 1, n - 1, "0123456789")
								   : all_in(s, n, "0123456789")))) {
		char *end;
		errno = 0;
		long long v = strtoll(digits, &end, base);
		if (errno == ERANGE || (size_t)(end - digits) != dn) {
			err_set(err, "integer '%s' is out of range", s);
			return NULL;
		}
		*kind = RES_INT;
		return json_integer((json_int_t)v);
	}
	if (is_float_text(s, n)) {
		double v = strtod(s, NULL);
		if (!isfinite(v)) {
			err_set(err, "number '%s' is out of range", s);
			return NULL;
		}
		*kind = RES_FLOAT;
		return json_real(v);
	}
	/* .inf and .nan stay strings: JSON has no way to hold them. */
	*kind = RES_STR;
	return json_stringn(s, n);
}

static json_t *make_scalar(const yaml_event_t *ev, struct err *err)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	const char *tag = (const char *)ev->data.scalar.tag;
	bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	int kind;
	json_t *v;

	if (tag && strcmp(tag, "!") != 0) {
		if (!strcmp(tag, TAG_PREFIX "str"))
			goto string;
		const char *want = NULL;
		int wk = 0;
		if (!strcmp(tag, TAG_PREFIX "null"))
			want = "!!null", wk = RES_NULL;
		else if (!strcmp(tag, TAG_PREFIX "bool"))
			want = "!!bool", wk = RES_BOOL;
		else if (!strcmp(tag, TAG_PREFIX "int"))
			want = "!!int", wk = RES_INT;
		else if (!strcmp(tag, TAG_PREFIX "float"))
			want = "!!float", wk = RES_FLOAT;
		else {
			err_set(err, "unsupported tag '%s'", tag);
			return NULL;
		}
		v = resolve_plain(s, n, &kind, err);
		if (!v)
			return NULL;
		if (kind == RES_INT && wk == RES_FLOAT) {
			double d = (double)json_integer_value(v);
			json_decref(v);
			return json_real(d);
		}
		if (kind != wk) {
			json_decref(v);
			err_set(err, "'%.*s' is not a valid %s", (int)n, s, want);
			return NULL;
		}
		return v;
	}
	if (plain && !tag)
		return resolve_plain(s, n, &kind, err);
string:
	v = json_stringn(s, n);
	if (!v)
		err_set(err, "scalar is not valid UTF-8");
	return v;
}

/* ---- tree building ------------------------------------------------------- */

struct frame {
	json_t *node;    /* own reference */
	char *anchor;
	struct ninfo info;
	/* mappings: the key waiting for its value (NULL when a key comes next) */
	char *key;
	struct ninfo kinfo;
	bool key_merge;  /* the pending key is a plain `<<` */
	json_t *merges;  /* sources for `<<`, applied at the end of the mapping */
	size_t nodes0;   /* builder's node count when this container was opened */
};

struct anchor {
	char *name;
	json_t *node;    /* own reference */
	struct ninfo info;
	char *text;      /* the scalar's text, for use as a key; NULL for containers */
	size_t nodes;    /* nodes in the anchored tree: what an alias of it adds */
};

struct builder {
	struct ypos *pos;
	unsigned flags;
	struct frame *st;
	size_t n, cap;
	struct anchor *anchors;
	size_t n_anchors, cap_anchors;
	/* open addressing over anchors by name: slot holds index + 1, 0 =
	 * empty; a later anchor of a name takes over its slot */
	uint32_t *aslots;
	size_t n_aslots;
	size_t nodes;       /* nodes in the tree so far, alias expansions included */
	size_t alias_nodes; /* of those, the nodes aliases added */
	json_t *root;
	struct loc errat;
	struct err *err;
};

static int fail_at(struct builder *b, const struct ninfo *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail_at(struct builder *b, const struct ninfo *at, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (b->err) {
		vsnprintf(b->err->msg, sizeof b->err->msg, fmt, ap);
		b->err->code = ERR_FAIL;
	}
	va_end(ap);
	b->errat = mkloc(b->pos, at->line, at->col);
	return ERR_FAIL;
}

static void keep(struct builder *b, json_t *v)
{
	if (!b->pos->keep)
		b->pos->keep = json_array();
	json_array_append_new(b->pos->keep, v);
}

/* Copies v and the positions of everything under it, so an alias expands to
 * a tree whose parts still point at the anchored text. */
static json_t *copy_with_pos(struct ypos *p, const json_t *v)
{
	if (json_is_object(v)) {
		json_t *o = json_object();
		const char *k;
		json_t *c;
		json_object_foreach((json_t *)v, k, c) {
			json_object_set_new(o, k, copy_with_pos(p, c));
			const struct yent *e = ent_find(p, v, k, 0);
			if (e) {
				struct yent t = *e; /* ent_put may move the table */
				ent_put(p, o, k, 0, t.kline, t.kcol, &t.v);
			}
		}
		return o;
	}
	if (json_is_array(v)) {
		json_t *a = json_array();
		for (size_t i = 0; i < json_array_size(v); i++) {
			json_array_append_new(a, copy_with_pos(p, json_array_get(v, i)));
			const struct yent *e = ent_find(p, v, NULL, i);
			if (e) {
				struct yent t = *e;
				ent_put(p, a, NULL, i, 0, 0, &t.v);
			}
		}
		return a;
	}
	return json_deep_copy(v);
}

/* Puts v (a new reference, consumed) where the open container expects it.
 * text is the scalar's text when v may serve as a mapping key. */
static int attach(struct builder *b, json_t *v, const struct ninfo *info, const char *text, bool plain)
{
	if (!b->n) {
		b->root = v;
		b->pos->root = *info;
		return 0;
	}
	struct frame *f = &b->st[b->n - 1];
	if (json_is_array(f->node)) {
		size_t i = json_array_size(f->node);
		json_array_append_new(f->node, v);
		ent_put(b->pos, f->node, NULL, i, 0, 0, info);
		return 0;
	}
	if (!f->key) {
		if (!text) {
			json_decref(v);
			return fail_at(b, info, "a mapping key must be a scalar");
		}
		f->key = xstrdup(text);
		f->kinfo = *info;
		f->key_merge = plain && !strcmp(text, "<<");
		json_decref(v);
		return 0;
	}
	char *key = f->key;
	f->key = NULL;
	if (f->key_merge) {
		if (!f->merges)
			f->merges = json_array();
		size_t i = json_array_size(f->merges);
		json_array_append_new(f->merges, v);
		ent_put(b->pos, f->merges, NULL, i, 0, 0, info);
		free(key);
		return 0;
	}
	if (json_object_get(f->node, key)) {
		const struct yent *first = ent_find(b->pos, f->node, key, 0);
		int fl = first ? first->kline : 0, fc = first ? first->kcol : 0;
		if (!(b->flags & YAML_KEEP_DUPLICATES)) {
			int rc = fail_at(b, &f->kinfo, "duplicate key '%s' (first defined at %d:%d)", key, fl, fc);
			json_decref(v);
			free(key);
			return rc;
		}
		struct ypos *p = b->pos;
		p->dups = xrealloc(p->dups, (p->n_dups + 1) * sizeof *p->dups);
		struct ydup *d = &p->dups[p->n_dups++];
		d->parent = f->node;
		d->key = key;
		d->first = mkloc(p, fl, fc);
		d->again = mkloc(p, f->kinfo.line, f->kinfo.col);
		keep(b, v);
		return 0;
	}
	json_object_set_new(f->node, key, v);
	ent_put(b->pos, f->node, key, 0, f->kinfo.line, f->kinfo.col, info);
	free(key);
	return 0;
}

static uint64_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

/* The slot of name: the one holding it, or the empty one where it goes. */
static uint32_t *anchor_slot(const struct builder *b, const char *name)
{
	size_t mask = b->n_aslots - 1;
	for (size_t i = name_hash(name) & mask;; i = (i + 1) & mask) {
		uint32_t s = b->aslots[i];
		if (!s || !strcmp(b->anchors[s - 1].name, name))
			return &b->aslots[i];
	}
}

static void add_anchor(struct builder *b, const char *name, json_t *node, const struct ninfo *info,
		       const char *text, size_t nodes)
{
	if (!name)
		return;
	if (b->n_anchors == b->cap_anchors) {
		b->cap_anchors = b->cap_anchors ? b->cap_anchors * 2 : 8;
		b->anchors = xrealloc(b->anchors, b->cap_anchors * sizeof *b->anchors);
	}
	/* keep the load factor under 1/2 (distinct names are at most n_anchors) */
	if ((b->n_anchors + 1) * 2 > b->n_aslots) {
		free(b->aslots);
		b->n_aslots = b->n_aslots ? b->n_aslots * 2 : 16;
		b->aslots = xcalloc(b->n_aslots, sizeof *b->aslots);
		for (size_t i = 0; i < b->n_anchors; i++)
			*anchor_slot(b, b->anchors[i].name) = (uint32_t)(i + 1);
	}
	struct anchor *a = &b->anchors[b->n_anchors++];
	a->name = xstrdup(name);
	a->node = json_incref(node);
	a->info = *info;
	a->text = xstrdup(text);
	a->nodes = nodes;
	/* a later anchor of the same name replaces the earlier one */
	*anchor_slot(b, name) = (uint32_t)b->n_anchors;
}

static const struct anchor *find_anchor(const struct builder *b, const char *name)
{
	if (!b->n_aslots)
		return NULL;
	uint32_t s = *anchor_slot(b, name);
	return s ? &b->anchors[s - 1] : NULL;
}

/* Counts n more nodes in the tree, refusing to pass YAML_MAX_NODES. */
static int count_nodes(struct builder *b, size_t n, const struct ninfo *at)
{
	if (n > YAML_MAX_NODES - b->nodes)
		return fail_at(b, at, "the document has more than %d nodes (the limit for a YAML file)",
			       YAML_MAX_NODES);
	b->nodes += n;
	return 0;
}

static void push(struct builder *b, json_t *node, const struct ninfo *info, const char *anchor)
{
	assert(b->n < YAML_MAX_DEPTH);
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 16;
		b->st = xrealloc(b->st, b->cap * sizeof *b->st);
	}
	struct frame *f = &b->st[b->n++];
	memset(f, 0, sizeof *f);
	f->node = json_incref(node);
	f->info = *info;
	f->anchor = xstrdup(anchor);
	f->nodes0 = b->nodes - 1; /* the container itself is counted */
}

static void frame_clear(struct frame *f)
{
	json_decref(f->node);
	json_decref(f->merges);
	free(f->anchor);
	free(f->key);
}

/* `<<: *base` or `<<: [*a, *b]`: keys not given in the mapping itself come
 * from the sources, earlier sources first. */
static int apply_merges(struct builder *b, struct frame *f)
{
	struct ypos *p = b->pos;
	json_t *srcs = json_array();
	for (size_t i = 0; i < json_array_size(f->merges); i++) {
		json_t *m = json_array_get(f->merges, i);
		const struct yent *e = ent_find(p, f->merges, NULL, i);
		struct ninfo at = e ? e->v : f->info;
		if (json_is_object(m)) {
			json_array_append(srcs, m);
		} else if (json_is_array(m)) {
			for (size_t j = 0; j < json_array_size(m); j++) {
				json_t *x = json_array_get(m, j);
				if (!json_is_object(x)) {
					const struct yent *xe = ent_find(p, m, NULL, j);
					json_decref(srcs);
					return fail_at(b, xe ? &xe->v : &at, "'<<' merges mappings only");
				}
				json_array_append(srcs, x);
			}
		} else {
			json_decref(srcs);
			return fail_at(b, &at, "'<<' merges mappings only");
		}
	}
	for (size_t i = 0; i < json_array_size(srcs); i++) {
		json_t *m = json_array_get(srcs, i);
		const char *k;
		json_t *v;
		json_object_foreach(m, k, v) {
			if (json_object_get(f->node, k))
				continue;
			json_object_set(f->node, k, v);
			const struct yent *e = ent_find(p, m, k, 0);
			if (e) {
				struct yent t = *e;
				ent_put(p, f->node, k, 0, t.kline, t.kcol, &t.v);
			}
		}
	}
	json_decref(srcs);
	keep(b, f->merges);
	f->merges = NULL;
	return 0;
}

static int on_event(struct builder *b, yaml_event_t *ev)
{
	struct ninfo info = info_at(b->pos, ev->start_mark);
	struct err serr = {0};

	switch (ev->type) {
	case YAML_SCALAR_EVENT: {
		info.style = (int)ev->data.scalar.style;
		info.src_end = mark_to_byte(b->pos, ev->end_mark.line, ev->end_mark.column);
		if (count_nodes(b, 1, &info) < 0)
			return ERR_FAIL;
		json_t *v = make_scalar(ev, &serr);
		if (!v)
			return fail_at(b, &info, "%s", serr.msg);
		const char *text = (const char *)ev->data.scalar.value;
		add_anchor(b, (const char *)ev->data.scalar.anchor, v, &info, text, 1);
		return attach(b, v, &info, text, ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE);
	}
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT: {
		bool map = ev->type == YAML_MAPPING_START_EVENT;
		const char *anchor = (const char *)(map ? ev->data.mapping_start.anchor
							: ev->data.sequence_start.anchor);
		const char *tag = (const char *)(map ? ev->data.mapping_start.tag : ev->data.sequence_start.tag);
		if (tag && strcmp(tag, map ? TAG_PREFIX "map" : TAG_PREFIX "seq") != 0 && strcmp(tag, "!"))
			return fail_at(b, &info, "unsupported tag '%s'", tag);
		/* what is built below (and the recursive walks over it, here and
		 * in every caller) stays shallow */
		if (b->n >= YAML_MAX_DEPTH)
			return fail_at(b, &info, "more than %d levels of nesting (the limit for a YAML file)",
				       YAML_MAX_DEPTH);
		if (count_nodes(b, 1, &info) < 0)
			return ERR_FAIL;
		json_t *c = map ? json_object() : json_array();
		/* attach before filling it: the children's positions are keyed by
		 * this container's address, which attach never changes */
		if (attach(b, json_incref(c), &info, NULL, false) < 0) {
			json_decref(c);
			return ERR_FAIL;
		}
		push(b, c, &info, anchor);
		json_decref(c);
		return 0;
	}
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT: {
		assert(b->n > 0);
		struct frame f = b->st[--b->n];
		int rc = 0;
		if (f.merges)
			rc = apply_merges(b, &f);
		if (!rc)
			add_anchor(b, f.anchor, f.node, &f.info, NULL, b->nodes - f.nodes0);
		frame_clear(&f);
		return rc;
	}
	case YAML_ALIAS_EVENT: {
		const char *name = (const char *)ev->data.alias.anchor;
		const struct anchor *a = find_anchor(b, name);
		if (!a)
			return fail_at(b, &info, "unknown alias '*%s' (an anchor must be complete before use)", name);
		/* counted before anything is copied: nested aliases multiply */
		if (a->nodes > YAML_MAX_ALIAS_NODES - b->alias_nodes)
			return fail_at(b, &info,
				       "alias '*%s' expands past %d nodes in all (the limit for aliases in a YAML file)",
				       name, YAML_MAX_ALIAS_NODES);
		if (count_nodes(b, a->nodes, &info) < 0)
			return ERR_FAIL;
		b->alias_nodes += a->nodes;
		json_t *v = copy_with_pos(b->pos, a->node);
		/* a scalar alias keeps the anchored text's place for offsets */
		struct ninfo vi = a->info;
		vi.line = info.line;
		vi.col = info.col;
		if (!a->text)
			vi = info;
		return attach(b, v, &vi, a->text, a->text && a->info.style == YAML_PLAIN_SCALAR_STYLE);
	}
	default:
		return 0;
	}
}

static void builder_free(struct builder *b)
{
	for (size_t i = 0; i < b->n; i++)
		frame_clear(&b->st[i]);
	free(b->st);
	for (size_t i = 0; i < b->n_anchors; i++) {
		free(b->anchors[i].name);
		free(b->anchors[i].text);
		json_decref(b->anchors[i].node);
	}
	free(b->anchors);
	free(b->aslots);
}

static void parser_error(struct builder *b, const yaml_parser_t *ps)
{
	struct ninfo at = {0};
	if (ps->error == YAML_MEMORY_ERROR) {
		at.line = 0;
		fail_at(b, &at, "out of memory");
		return;
	}
	if (ps->error == YAML_READER_ERROR) {
		struct loc l = ypos_offset_loc(b->pos, ps->problem_offset);
		at.line = l.line;
		at.col = l.col;
		if (ps->problem_value != -1)
			fail_at(b, &at, "%s (byte 0x%02X)", ps->problem, (unsigned)ps->problem_value);
		else
			fail_at(b, &at, "%s", ps->problem);
		return;
	}
	at.line = (int)ps->problem_mark.line + 1;
	at.col = (int)ps->problem_mark.column + 1;
	const char *problem = ps->problem ? ps->problem : "syntax error";
	/* An unclosed quote or bracket is found at the end of the file; the
	 * place worth showing is where it was opened. */
	const char *what = NULL;
	if (ps->context && !strcmp(problem, "found unexpected end of stream")) {
		if (!strncmp(ps->context, "while scanning ", 15))
			what = ps->context + 15;
		else if (!strncmp(ps->context, "while parsing ", 14))
			what = ps->context + 14;
	}
	if (what) {
		at.line = (int)ps->context_mark.line + 1;
		at.col = (int)ps->context_mark.column + 1;
		fail_at(b, &at, "%s is not closed before the end of the file", what);
		return;
	}
	if (ps->context)
		fail_at(b, &at, "%s (%s at %d:%d)", problem, ps->context, (int)ps->context_mark.line + 1,
			(int)ps->context_mark.column + 1);
	else
		fail_at(b, &at, "%s", problem);
}

int yaml_load_ex(const char *name, const char *text, size_t len, unsigned flags, json_t **root,
		 struct ypos **pos, struct loc *at, struct err *err)
{
	struct ypos *p = xcalloc(1, sizeof *p);
	p->file = xstrdup(name ? name : "<string>");
	p->text = xstrndup(text, len);
	p->len = len;
	lines_build(p);
	p->mc_byte = p->lines[0];
	p->root.line = 1;
	p->root.col = 1;

	struct builder b = {.pos = p, .flags = flags, .err = err};
	yaml_parser_t ps;
	yaml_event_t ev;
	int rc = 0, docs = 0;
	bool done = false;

	*root = NULL;
	*pos = NULL;
	if (!yaml_parser_initialize(&ps)) {
		ypos_free(p);
		return err_set(err, "out of memory");
	}
	yaml_parser_set_input_string(&ps, (const unsigned char *)p->text, p->len);
	while (!done && rc == 0) {
		if (!yaml_parser_parse(&ps, &ev)) {
			parser_error(&b, &ps);
			rc = ERR_FAIL;
			break;
		}
		if (ev.type == YAML_DOCUMENT_START_EVENT && ++docs > 1) {
			struct ninfo i = info_at(p, ev.start_mark);
			rc = fail_at(&b, &i, "expected a single YAML document, found a second one");
		} else if (ev.type == YAML_STREAM_END_EVENT) {
			done = true;
		} else {
			rc = on_event(&b, &ev);
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&ps);
	builder_free(&b);
	if (at)
		*at = b.errat;
	if (rc) {
		json_decref(b.root);
		if (at)
			at->file = name;
		ypos_free(p);
		return rc;
	}
	*root = b.root ? b.root : json_null();
	*pos = p;
	return 0;
}

int yaml_load_string(const char *name, const char *text, size_t len, json_t **root,
		     struct ypos **pos, struct err *err)
{
	struct loc at;
	int rc = yaml_load_ex(name, text, len, 0, root, pos, &at, err);
	if (rc && at.line > 0)
		err_prefix(err, "%s:%d:%d", name ? name : "<string>", at.line, at.col);
	else if (rc)
		err_prefix(err, "%s", name ? name : "<string>");
	return rc;
}

int yaml_load_file(const char *path, json_t **root, struct ypos **pos, struct err *err)
{
	char *text;
	size_t len;
	*root = NULL;
	*pos = NULL;
	int rc = file_read_regular(path, FILE_MAX_PROJECT, &text, &len, err);
	if (rc)
		return rc;
	rc = yaml_load_string(path, text, len, root, pos, err);
	free(text);
	return rc;
}

int yaml_load_file_ex(const char *path, unsigned flags, json_t **root, struct ypos **pos, struct loc *at,
		      struct err *err)
{
	char *text;
	size_t len;
	*root = NULL;
	*pos = NULL;
	int rc = file_read_regular(path, FILE_MAX_PROJECT, &text, &len, err);
	if (rc) {
		/* the place names the file: the message need not */
		size_t n = strlen(path);
		if (err && !strncmp(err->msg, path, n) && !strncmp(err->msg + n, ": ", 2))
			memmove(err->msg, err->msg + n + 2, strlen(err->msg + n + 2) + 1);
		if (err)
			err_prefix(err, "cannot read");
		if (at) {
			at->file = path;
			at->line = at->col = 0;
		}
		return rc;
	}
	rc = yaml_load_ex(path, text, len, flags, root, pos, at, err);
	free(text);
	return rc;
}
