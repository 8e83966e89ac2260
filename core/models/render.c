/* The model template language: a lexer and recursive-descent parser into a
 * small tree (text, {{ expr }}, {% if %} with its branches), names resolved
 * at parse time so every unknown one is an error at its place, then a walk
 * of the tree per rendering. Nodes and strings live in one arena per
 * template. */
#include "core/models/render.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Nested {% if %} blocks and nested parentheses or lists: far above any real
 * template, and small enough that a hostile one cannot exhaust the stack. */
#define MAX_DEPTH 64

/* ---- arena ----------------------------------------------------------------- */

struct chunk {
	struct chunk *next;
	size_t used, cap;
	_Alignas(max_align_t) char mem[];
};

struct arena {
	struct chunk *head;
	size_t next_cap; /* chunks double from 512 bytes: most templates are small */
};

static void *arena_alloc(struct arena *a, size_t n)
{
	n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	if (!a->head || a->head->cap - a->head->used < n) {
		a->next_cap = a->next_cap ? (a->next_cap < 65536 ? a->next_cap * 2 : a->next_cap) : 512;
		size_t cap = n > a->next_cap ? n : a->next_cap;
		struct chunk *c = xmalloc(sizeof *c + cap);
		c->next = a->head;
		c->used = 0;
		c->cap = cap;
		a->head = c;
	}
	void *p = a->head->mem + a->head->used;
	a->head->used += n;
	memset(p, 0, n);
	return p;
}

static char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static void arena_free(struct arena *a)
{
	while (a->head) {
		struct chunk *c = a->head;
		a->head = c->next;
		free(c);
	}
}

/* ---- the tree -------------------------------------------------------------- */

enum ex_kind { EX_STR, EX_NUM, EX_BOOL, EX_NONE, EX_NAME, EX_CALL, EX_NOT, EX_AND, EX_OR, EX_EQ, EX_NE, EX_LIST, EX_DICT };

enum ex_name {
	NM_THIS, NM_THIS_SCHEMA, NM_THIS_NAME, NM_TARGET_NAME, NM_TARGET_SCHEMA, NM_MODEL_NAME, NM_MODEL_FOLDER,
	NM_MODEL_DIR, NM_MODEL_SCHEMA,
};

enum ex_fn { FN_REF, FN_SOURCE, FN_VAR, FN_ENV_VAR, FN_IS_INCREMENTAL, FN_CONFIG };

struct expr {
	enum ex_kind kind;
	size_t off;
	const char *s; /* EX_STR: the value, unescaped (arena) */
	size_t n;
	double num;    /* EX_NUM */
	bool is_int, b;
	int id;        /* EX_NAME: enum ex_name; EX_CALL: enum ex_fn */
	struct expr *l, *r;      /* EX_NOT (l), EX_AND/OR/EQ/NE */
	struct expr **items;     /* EX_CALL args, EX_LIST items, EX_DICT values */
	const char **keys;       /* EX_CALL keywords (NULL: positional), EX_DICT keys */
	size_t *key_offs;
	size_t n_items;
};

enum node_kind { ND_TEXT, ND_EXPR, ND_IF };

struct node {
	enum node_kind kind;
	size_t off, len;      /* ND_TEXT */
	struct expr *x;       /* ND_EXPR; ND_IF: the condition */
	struct node *then, *els;
	struct node *next;
};

struct vec {
	void *v;
	size_t n, cap;
};

static void *vec_push(struct vec *a, size_t size)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 4;
		a->v = xrealloc(a->v, a->cap * size);
	}
	void *p = (char *)a->v + a->n++ * size;
	memset(p, 0, size);
	return p;
}

struct mtmpl {
	const char *text;
	size_t len;
	enum mt_mode mode;
	struct arena a;
	struct node *body;
	struct vec refs, sources, vars, kwargs; /* struct mt_ref, ..., struct mt_kwarg */
	json_t *config;
	size_t config_off;
};

/* ---- parser state ---------------------------------------------------------- */

enum tk {
	TK_END,    /* the tag's end: }} or %} (or #}), with or without '-' */
	TK_EOF,    /* the text ended inside the tag */
	TK_IDENT, TK_STR, TK_NUM, TK_LP, TK_RP, TK_COMMA, TK_DOT, TK_LB, TK_RB, TK_LC, TK_RC, TK_COLON,
	TK_ASSIGN, TK_EQ, TK_NE, TK_OTHER,
	TK_BADSTR, /* a string with no closing quote */
};

struct tok {
	enum tk t;
	size_t off, len;
	bool trim; /* TK_END: written with '-' */
};

struct parser {
	struct mtmpl *t;
	const char *s;
	size_t pos;
	char close;     /* '}' in {{ }}, '%' in {% %} */
	bool trim_next; /* the last tag ended with '-': trim the next text's start */
	mt_error_fn on_error;
	void *arg;
	int if_depth;
	int depth;      /* expression nesting */
	size_t n_errors;
};

static void perr(struct parser *p, size_t off, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void perr(struct parser *p, size_t off, const char *fmt, ...)
{
	p->n_errors++;
	if (!p->on_error)
		return;
	struct mt_error e = {.off = off};
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e.msg, sizeof e.msg, fmt, ap);
	va_end(ap);
	p->on_error(p->arg, &e);
}

void mtmpl_loc(const char *text, size_t off, int *line, int *col)
{
	int l = 1, c = 1;
	for (size_t i = 0; i < off && text[i]; i++) {
		if (text[i] == '\n') {
			l++;
			c = 1;
		} else if (((unsigned char)text[i] & 0xC0) != 0x80) {
			c++;
		}
	}
	*line = l;
	*col = c;
}

static bool ident_start(char c)
{
	return isalpha((unsigned char)c) || c == '_';
}

static bool ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* The next token inside a tag. */
static struct tok lex(struct parser *p)
{
	const char *s = p->s;
	while (s[p->pos] == ' ' || s[p->pos] == '\t' || s[p->pos] == '\n' || s[p->pos] == '\r')
		p->pos++;
	struct tok k = {.off = p->pos};
	size_t i = p->pos;
	char c = s[i];
	if (!c) {
		k.t = TK_EOF;
		return k;
	}
	if (c == '-' && s[i + 1] == p->close && s[i + 2] == '}') {
		k.t = TK_END, k.trim = true, k.len = 3;
	} else if (c == p->close && s[i + 1] == '}') {
		k.t = TK_END, k.len = 2;
	} else if (ident_start(c)) {
		while (ident_char(s[i]))
			i++;
		k.t = TK_IDENT, k.len = i - p->pos;
	} else if (isdigit((unsigned char)c) || (c == '-' && isdigit((unsigned char)s[i + 1]))) {
		i++;
		while (isdigit((unsigned char)s[i]) || s[i] == '.' || s[i] == 'e' || s[i] == 'E' ||
		       ((s[i] == '-' || s[i] == '+') && (s[i - 1] == 'e' || s[i - 1] == 'E')))
			i++;
		k.t = TK_NUM, k.len = i - p->pos;
	} else if (c == '\'' || c == '"') {
		i++;
		while (s[i] && s[i] != c) {
			if (s[i] == '\\' && s[i + 1])
				i++;
			i++;
		}
		if (!s[i]) {
			k.t = TK_BADSTR;
			p->pos = i;
			return k;
		}
		k.t = TK_STR, k.len = i + 1 - p->pos;
	} else if (c == '=' && s[i + 1] == '=') {
		k.t = TK_EQ, k.len = 2;
	} else if (c == '!' && s[i + 1] == '=') {
		k.t = TK_NE, k.len = 2;
	} else {
		k.len = 1;
		switch (c) {
		case '(': k.t = TK_LP; break;
		case ')': k.t = TK_RP; break;
		case ',': k.t = TK_COMMA; break;
		case '.': k.t = TK_DOT; break;
		case '[': k.t = TK_LB; break;
		case ']': k.t = TK_RB; break;
		case '{': k.t = TK_LC; break;
		case '}': k.t = TK_RC; break;
		case ':': k.t = TK_COLON; break;
		case '=': k.t = TK_ASSIGN; break;
		default: k.t = TK_OTHER; break;
		}
	}
	p->pos += k.len;
	return k;
}

static struct tok peek(struct parser *p)
{
	size_t save = p->pos;
	struct tok k = lex(p);
	p->pos = save;
	return k;
}

static bool tok_is(const struct parser *p, const struct tok *k, const char *word)
{
	return k->t == TK_IDENT && k->len == strlen(word) && !memcmp(p->s + k->off, word, k->len);
}

/* A token as text for a message, cut short. */
static const char *tok_text(const struct parser *p, const struct tok *k, char *buf, size_t cap)
{
	if (k->t == TK_EOF)
		return "the end of the file";
	if (k->t == TK_END)
		return "the end of the tag";
	if (k->t == TK_BADSTR)
		return "a string with no closing quote";
	snprintf(buf, cap, "'%.*s'", (int)(k->len > 40 ? 40 : k->len), p->s + k->off);
	return buf;
}

/* Moves past the end of the current tag after an error; false when the text
 * ends first. Quotes are skipped so a '}}' inside a string does not count. */
static bool skip_tag(struct parser *p)
{
	const char *s = p->s;
	for (size_t i = p->pos; s[i]; i++) {
		if (s[i] == '\'' || s[i] == '"') {
			char q = s[i++];
			while (s[i] && s[i] != q && s[i] != '\n')
				i += s[i] == '\\' && s[i + 1] ? 2 : 1;
			if (!s[i])
				break;
			continue;
		}
		if (s[i] == p->close && s[i + 1] == '}') {
			p->trim_next = i > 0 && s[i - 1] == '-';
			p->pos = i + 2;
			return true;
		}
	}
	p->pos = strlen(s);
	return false;
}

static struct expr *new_expr(struct parser *p, enum ex_kind kind, size_t off)
{
	struct expr *x = arena_alloc(&p->t->a, sizeof *x);
	x->kind = kind;
	x->off = off;
	return x;
}

/* The value of a string token, escapes resolved. */
static void unquote(struct parser *p, const struct tok *k, struct expr *x)
{
	const char *s = p->s + k->off + 1;
	size_t n = k->len - 2;
	char *v = arena_alloc(&p->t->a, n + 1);
	size_t j = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\\' || i + 1 == n) {
			v[j++] = s[i];
			continue;
		}
		char c = s[++i];
		switch (c) {
		case 'n': v[j++] = '\n'; break;
		case 't': v[j++] = '\t'; break;
		case '\\': case '\'': case '"': v[j++] = c; break;
		default: v[j++] = '\\'; v[j++] = c; break;
		}
	}
	v[j] = '\0';
	x->s = v;
	x->n = j;
}

/* ---- names and functions ----------------------------------------------------- */

struct name_def {
	const char *path;
	int id;
	unsigned modes; /* 1 << enum mt_mode */
};

#define M_MODEL (1u << MT_MODEL)
#define M_TEST (1u << MT_TEST)
#define M_RULE (1u << MT_RULE)

static const struct name_def name_defs[] = {
	{"this", NM_THIS, M_MODEL},
	{"this.schema", NM_THIS_SCHEMA, M_MODEL},
	{"this.name", NM_THIS_NAME, M_MODEL},
	{"this.identifier", NM_THIS_NAME, M_MODEL},
	{"target.name", NM_TARGET_NAME, M_MODEL | M_TEST | M_RULE},
	{"target.schema", NM_TARGET_SCHEMA, M_MODEL | M_TEST},
	{"model.name", NM_MODEL_NAME, M_RULE},
	{"model.folder", NM_MODEL_FOLDER, M_RULE},
	{"model.dir", NM_MODEL_DIR, M_RULE},
	{"model.schema", NM_MODEL_SCHEMA, M_RULE},
};

struct fn_def {
	const char *name;
	int id;
	unsigned modes;
	const char *usage;
};

static const struct fn_def fns[] = {
	{"ref", FN_REF, M_MODEL | M_TEST, "ref('model')"},
	{"source", FN_SOURCE, M_MODEL | M_TEST, "source('source', 'table')"},
	{"var", FN_VAR, M_MODEL | M_TEST | M_RULE, "var('name') or var('name', default)"},
	{"env_var", FN_ENV_VAR, M_MODEL | M_TEST | M_RULE, "env_var('NAME') or env_var('NAME', 'default')"},
	{"is_incremental", FN_IS_INCREMENTAL, M_MODEL, "is_incremental()"},
	{"config", FN_CONFIG, M_MODEL | M_TEST, "config(key=value, ...)"},
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static const char *mode_what(enum mt_mode m)
{
	return m == MT_MODEL ? "a model" : m == MT_TEST ? "a test" : "a schema rule";
}

/* The first parts of the names, for "unknown name" suggestions. */
static const struct {
	const char *name;
	unsigned modes;
} roots[] = {
	{"this", M_MODEL}, {"target", M_MODEL | M_TEST | M_RULE}, {"model", M_RULE},
};

/* The nearest of the names available in mode to word, or NULL: whole
 * dotted paths when fields, first parts otherwise. */
static const char *nearest_name(const char *word, enum mt_mode mode, bool fields)
{
	const char *cand[N_OF(name_defs) + N_OF(roots)];
	size_t n = 0;
	if (fields) {
		for (size_t i = 0; i < N_OF(name_defs); i++)
			if (name_defs[i].modes & (1u << mode))
				cand[n++] = name_defs[i].path;
	} else {
		for (size_t i = 0; i < N_OF(roots); i++)
			if (roots[i].modes & (1u << mode))
				cand[n++] = roots[i].name;
	}
	return nearest_word(word, cand, n);
}

/* Resolves a dotted name at parse time. */
static void resolve_name(struct parser *p, struct expr *x, const char *path)
{
	enum mt_mode mode = p->t->mode;
	for (size_t i = 0; i < N_OF(name_defs); i++) {
		if (strcmp(name_defs[i].path, path))
			continue;
		if (!(name_defs[i].modes & (1u << mode))) {
			perr(p, x->off, "'%s' is not available in %s", path, mode_what(mode));
			return;
		}
		x->id = name_defs[i].id;
		return;
	}
	const char *dot = strchr(path, '.');
	size_t first_len = dot ? (size_t)(dot - path) : strlen(path);
	bool known_first = false;
	for (size_t i = 0; i < N_OF(name_defs); i++)
		if ((name_defs[i].modes & (1u << mode)) && !strncmp(name_defs[i].path, path, first_len) &&
		    (name_defs[i].path[first_len] == '.' || !name_defs[i].path[first_len]))
			known_first = true;
	if (known_first && !dot) {
		struct strbuf b = {0};
		for (size_t i = 0; i < N_OF(name_defs); i++)
			if ((name_defs[i].modes & (1u << mode)) && !strncmp(name_defs[i].path, path, first_len) &&
			    name_defs[i].path[first_len] == '.')
				sb_addf(&b, "%s%s", b.len ? " or " : "", name_defs[i].path);
		perr(p, x->off, "'%s' is an object: use %s", path, b.s);
		sb_free(&b);
		return;
	}
	if (known_first) {
		const char *near = nearest_name(path, mode, true);
		if (near)
			perr(p, x->off, "unknown field '%s' (did you mean %s?)", path, near);
		else
			perr(p, x->off, "unknown field '%s'", path);
		return;
	}
	char *first = xstrndup(path, first_len);
	/* a function's name written without its parentheses */
	for (size_t i = 0; i < N_OF(fns); i++)
		if (!strcmp(fns[i].name, first) && (fns[i].modes & (1u << mode))) {
			perr(p, x->off, "'%s' is a function: write %s", first, fns[i].usage);
			free(first);
			return;
		}
	const char *near = nearest_name(first, mode, false);
	if (near) {
		perr(p, x->off, "unknown name '%s' (did you mean %s?)", first, near);
	} else {
		perr(p, x->off, "unknown name '%s'", first);
	}
	free(first);
}

static const struct fn_def *find_fn(struct parser *p, const char *name, size_t off)
{
	enum mt_mode mode = p->t->mode;
	for (size_t i = 0; i < N_OF(fns); i++) {
		if (strcmp(fns[i].name, name))
			continue;
		if (!(fns[i].modes & (1u << mode))) {
			perr(p, off, "%s() is not available in %s", name, mode_what(mode));
			return NULL;
		}
		return &fns[i];
	}
	const char *cand[N_OF(fns)];
	size_t n = 0;
	for (size_t i = 0; i < N_OF(fns); i++)
		if (fns[i].modes & (1u << mode))
			cand[n++] = fns[i].name;
	const char *near = nearest_word(name, cand, n);
	/* env for env_var: a prefix is as good a hint as a typo */
	for (size_t i = 0; !near && i < n; i++)
		if (strlen(name) >= 3 && !strncmp(cand[i], name, strlen(name)))
			near = cand[i];
	if (near)
		perr(p, off, "unknown function '%s' (did you mean %s?)", name, near);
	else
		perr(p, off, "unknown function '%s' (%s may use %s)", name, mode_what(mode),
		     mode == MT_RULE ? "var() and env_var()" : "ref(), source(), var(), env_var(), config()"
								 " and is_incremental()");
	return NULL;
}

/* ---- expressions ------------------------------------------------------------- */

static struct expr *parse_or(struct parser *p);

static bool expect(struct parser *p, enum tk t, const char *what)
{
	struct tok k = lex(p);
	if (k.t == t)
		return true;
	char buf[64];
	perr(p, k.off, "expected %s, found %s", what, tok_text(p, &k, buf, sizeof buf));
	return false;
}

static bool is_literal(const struct expr *x)
{
	switch (x->kind) {
	case EX_STR: case EX_NUM: case EX_BOOL: case EX_NONE: return true;
	case EX_LIST: case EX_DICT:
		for (size_t i = 0; i < x->n_items; i++)
			if (!is_literal(x->items[i]))
				return false;
		return true;
	default: return false;
	}
}

/* [a, b] or {k: v} after the opening bracket. */
static struct expr *parse_seq(struct parser *p, size_t off, bool dict)
{
	struct expr *x = new_expr(p, dict ? EX_DICT : EX_LIST, off);
	struct vec items = {0}, keys = {0}, offs = {0};
	enum tk close = dict ? TK_RC : TK_RB;
	bool ok = true;
	if (peek(p).t == close) {
		lex(p);
	} else {
		for (;;) {
			if (dict) {
				struct tok k = lex(p);
				if (k.t != TK_STR) {
					char buf[64];
					perr(p, k.off, "expected a quoted key, found %s", tok_text(p, &k, buf, sizeof buf));
					ok = false;
					break;
				}
				struct expr tmp = {0};
				unquote(p, &k, &tmp);
				*(const char **)vec_push(&keys, sizeof(char *)) = tmp.s;
				*(size_t *)vec_push(&offs, sizeof(size_t)) = k.off;
				if (!expect(p, TK_COLON, "':'")) {
					ok = false;
					break;
				}
			}
			struct expr *v = parse_or(p);
			if (!v) {
				ok = false;
				break;
			}
			*(struct expr **)vec_push(&items, sizeof v) = v;
			struct tok k = lex(p);
			if (k.t == close)
				break;
			if (k.t != TK_COMMA) {
				char buf[64];
				perr(p, k.off, "expected ',' or '%c', found %s", dict ? '}' : ']', tok_text(p, &k, buf, sizeof buf));
				ok = false;
				break;
			}
			if (peek(p).t == close) { /* a trailing comma */
				lex(p);
				break;
			}
		}
	}
	x->n_items = items.n;
	x->items = arena_alloc(&p->t->a, (items.n + 1) * sizeof *x->items);
	if (items.n)
		memcpy(x->items, items.v, items.n * sizeof *x->items);
	if (dict) {
		x->keys = arena_alloc(&p->t->a, (keys.n + 1) * sizeof *x->keys);
		x->key_offs = arena_alloc(&p->t->a, (offs.n + 1) * sizeof *x->key_offs);
		if (keys.n) {
			memcpy(x->keys, keys.v, keys.n * sizeof *x->keys);
			memcpy(x->key_offs, offs.v, offs.n * sizeof *x->key_offs);
		}
	}
	free(items.v);
	free(keys.v);
	free(offs.v);
	return ok ? x : NULL;
}

/* name(args) after the '('. */
static struct expr *parse_call(struct parser *p, const char *name, size_t off)
{
	struct expr *x = new_expr(p, EX_CALL, off);
	x->id = -1;
	const struct fn_def *fn = find_fn(p, name, off);
	struct vec items = {0}, keys = {0}, offs = {0};
	bool ok = true;
	if (peek(p).t == TK_RP) {
		lex(p);
	} else {
		for (;;) {
			struct tok k = peek(p);
			const char *key = NULL;
			size_t key_off = k.off;
			if (k.t == TK_IDENT) {
				size_t save = p->pos;
				lex(p);
				if (peek(p).t == TK_ASSIGN) {
					lex(p);
					key = arena_strndup(&p->t->a, p->s + k.off, k.len);
				} else {
					p->pos = save;
				}
			}
			struct expr *v = parse_or(p);
			if (!v) {
				ok = false;
				break;
			}
			*(struct expr **)vec_push(&items, sizeof v) = v;
			*(const char **)vec_push(&keys, sizeof(char *)) = key;
			*(size_t *)vec_push(&offs, sizeof(size_t)) = key_off;
			k = lex(p);
			if (k.t == TK_RP)
				break;
			if (k.t != TK_COMMA) {
				char buf[64];
				perr(p, k.off, "expected ',' or ')', found %s", tok_text(p, &k, buf, sizeof buf));
				ok = false;
				break;
			}
		}
	}
	x->n_items = items.n;
	x->items = arena_alloc(&p->t->a, (items.n + 1) * sizeof *x->items);
	x->keys = arena_alloc(&p->t->a, (items.n + 1) * sizeof *x->keys);
	x->key_offs = arena_alloc(&p->t->a, (items.n + 1) * sizeof *x->key_offs);
	if (items.n) {
		memcpy(x->items, items.v, items.n * sizeof *x->items);
		memcpy(x->keys, keys.v, keys.n * sizeof *x->keys);
		memcpy(x->key_offs, offs.v, offs.n * sizeof *x->key_offs);
	}
	free(items.v);
	free(keys.v);
	free(offs.v);
	if (!ok || !fn)
		return ok ? x : NULL;
	x->id = fn->id;
	return x;
}

static struct expr *parse_primary(struct parser *p)
{
	if (++p->depth > MAX_DEPTH) {
		perr(p, p->pos, "expression nested deeper than %d levels", MAX_DEPTH);
		return NULL;
	}
	struct tok k = lex(p);
	struct expr *x = NULL;
	char buf[64];
	switch (k.t) {
	case TK_STR:
		x = new_expr(p, EX_STR, k.off);
		unquote(p, &k, x);
		break;
	case TK_NUM: {
		x = new_expr(p, EX_NUM, k.off);
		char *num = xstrndup(p->s + k.off, k.len), *end;
		x->num = strtod(num, &end);
		x->is_int = !strpbrk(num, ".eE");
		if (*end)
			perr(p, k.off, "'%s' is not a number", num);
		free(num);
		break;
	}
	case TK_LP:
		x = parse_or(p);
		if (x && !expect(p, TK_RP, "')'"))
			x = NULL;
		break;
	case TK_LB:
		x = parse_seq(p, k.off, false);
		break;
	case TK_LC:
		x = parse_seq(p, k.off, true);
		break;
	case TK_IDENT: {
		if (tok_is(p, &k, "true") || tok_is(p, &k, "True") || tok_is(p, &k, "false") || tok_is(p, &k, "False")) {
			x = new_expr(p, EX_BOOL, k.off);
			x->b = p->s[k.off] == 't' || p->s[k.off] == 'T';
			break;
		}
		if (tok_is(p, &k, "none") || tok_is(p, &k, "None")) {
			x = new_expr(p, EX_NONE, k.off);
			break;
		}
		char *name = xstrndup(p->s + k.off, k.len);
		if (peek(p).t == TK_LP) {
			lex(p);
			x = parse_call(p, name, k.off);
			free(name);
			break;
		}
		struct strbuf path = {0};
		sb_adds(&path, name);
		free(name);
		bool ok = true;
		while (peek(p).t == TK_DOT) {
			lex(p);
			struct tok f = lex(p);
			if (f.t != TK_IDENT) {
				perr(p, f.off, "expected a field name after '.', found %s", tok_text(p, &f, buf, sizeof buf));
				ok = false;
				break;
			}
			sb_addc(&path, '.');
			sb_add(&path, p->s + f.off, f.len);
		}
		if (ok) {
			x = new_expr(p, EX_NAME, k.off);
			x->id = -1;
			if (peek(p).t == TK_LP) {
				/* this.name() or target.schema(): not a function */
				perr(p, k.off, "unknown function '%s'", path.s);
				x = NULL;
			} else {
				resolve_name(p, x, path.s);
			}
		}
		sb_free(&path);
		break;
	}
	case TK_BADSTR:
		perr(p, k.off, "unterminated string (no closing quote)");
		break;
	case TK_EOF:
	case TK_END:
		perr(p, k.off, "expected a value, found %s", tok_text(p, &k, buf, sizeof buf));
		break;
	default:
		if (p->s[k.off] == '|')
			perr(p, k.off, "filters ('|') are not supported");
		else
			perr(p, k.off, "unexpected %s", tok_text(p, &k, buf, sizeof buf));
		break;
	}
	p->depth--;
	return x;
}

static struct expr *parse_cmp(struct parser *p)
{
	struct expr *l = parse_primary(p);
	if (!l)
		return NULL;
	struct tok k = peek(p);
	if (k.t != TK_EQ && k.t != TK_NE)
		return l;
	lex(p);
	struct expr *r = parse_primary(p);
	if (!r)
		return NULL;
	struct expr *x = new_expr(p, k.t == TK_EQ ? EX_EQ : EX_NE, l->off);
	x->l = l;
	x->r = r;
	return x;
}

static struct expr *parse_not(struct parser *p)
{
	struct tok k = peek(p);
	if (!tok_is(p, &k, "not"))
		return parse_cmp(p);
	lex(p);
	if (++p->depth > MAX_DEPTH) {
		perr(p, k.off, "expression nested deeper than %d levels", MAX_DEPTH);
		return NULL;
	}
	struct expr *l = parse_not(p);
	p->depth--;
	if (!l)
		return NULL;
	struct expr *x = new_expr(p, EX_NOT, k.off);
	x->l = l;
	return x;
}

static struct expr *parse_binary(struct parser *p, const char *word, enum ex_kind kind,
				 struct expr *(*sub)(struct parser *))
{
	struct expr *l = sub(p);
	while (l) {
		struct tok k = peek(p);
		if (!tok_is(p, &k, word))
			break;
		lex(p);
		struct expr *r = sub(p);
		if (!r)
			return NULL;
		struct expr *x = new_expr(p, kind, l->off);
		x->l = l;
		x->r = r;
		l = x;
	}
	return l;
}

static struct expr *parse_and(struct parser *p)
{
	return parse_binary(p, "and", EX_AND, parse_not);
}

static struct expr *parse_or(struct parser *p)
{
	return parse_binary(p, "or", EX_OR, parse_and);
}

/* ---- what calls may take ------------------------------------------------------- */

static size_t n_positional(const struct expr *x)
{
	size_t n = 0;
	for (size_t i = 0; i < x->n_items; i++)
		n += !x->keys[i];
	return n;
}

static json_t *literal_json(const struct expr *x)
{
	switch (x->kind) {
	case EX_STR: return json_stringn(x->s, x->n);
	case EX_NUM: return x->is_int ? json_integer((json_int_t)x->num) : json_real(x->num);
	case EX_BOOL: return json_boolean(x->b);
	case EX_LIST: {
		json_t *a = json_array();
		for (size_t i = 0; i < x->n_items; i++)
			json_array_append_new(a, literal_json(x->items[i]));
		return a;
	}
	case EX_DICT: {
		json_t *o = json_object();
		for (size_t i = 0; i < x->n_items; i++)
			json_object_set_new(o, x->keys[i], literal_json(x->items[i]));
		return o;
	}
	default: return json_null();
	}
}

static void add_ref(struct vec *v, const char *name, const char *table, size_t off)
{
	struct mt_ref *r = vec_push(v, sizeof *r);
	r->name = name;
	r->table = table;
	r->off = off;
}

static void check_config(struct parser *p, struct expr *x)
{
	struct mtmpl *t = p->t;
	if (p->if_depth > 0) {
		perr(p, x->off, "config() must not be inside {%% if %%}: it is read before the model is rendered");
		return;
	}
	if (t->config) {
		int l, c;
		mtmpl_loc(p->s, t->config_off, &l, &c);
		perr(p, x->off, "a second config() (the first is at %d:%d)", l, c);
		return;
	}
	t->config = json_object();
	t->config_off = x->off;
	for (size_t i = 0; i < x->n_items; i++) {
		const struct expr *v = x->items[i];
		if (!x->keys[i]) {
			perr(p, v->off, "config() takes keyword arguments only, as config(materialized='table')");
			continue;
		}
		if (!is_literal(v)) {
			perr(p, v->off, "config(%s=...) must be a string, number, boolean, list or mapping", x->keys[i]);
			continue;
		}
		if (json_object_get(t->config, x->keys[i])) {
			perr(p, x->key_offs[i], "config() sets '%s' twice", x->keys[i]);
			continue;
		}
		json_object_set_new(t->config, x->keys[i], literal_json(v));
		struct mt_kwarg *kw = vec_push(&t->kwargs, sizeof *kw);
		kw->key = x->keys[i];
		kw->key_off = x->key_offs[i];
		kw->value_off = v->off;
	}
}

/* Arguments of a call, checked once its tree is known. top: the whole
 * expression of a {{ }} (config() is allowed only there). */
static void check_call(struct parser *p, struct expr *x, bool top, bool in_cond)
{
	const struct fn_def *fn = NULL;
	for (size_t i = 0; i < N_OF(fns); i++)
		if (fns[i].id == x->id)
			fn = &fns[i];
	size_t pos = n_positional(x);
	for (size_t i = 0; i < x->n_items && x->id != FN_CONFIG; i++)
		if (x->keys[i]) {
			perr(p, x->key_offs[i], "%s() takes no keyword '%s': write %s", fn->name, x->keys[i], fn->usage);
			return;
		}
	switch (x->id) {
	case FN_REF:
		if (pos == 2)
			perr(p, x->off, "ref() takes one model name (packages are not supported): write %s", fn->usage);
		else if (pos != 1 || x->items[0]->kind != EX_STR)
			perr(p, x->off, "ref() takes one quoted model name: write %s", fn->usage);
		else
			add_ref(&p->t->refs, x->items[0]->s, NULL, x->off);
		break;
	case FN_SOURCE:
		if (pos != 2 || x->items[0]->kind != EX_STR || x->items[1]->kind != EX_STR)
			perr(p, x->off, "source() takes a quoted source and table name: write %s", fn->usage);
		else
			add_ref(&p->t->sources, x->items[0]->s, x->items[1]->s, x->off);
		break;
	case FN_VAR:
	case FN_ENV_VAR:
		if (pos < 1 || pos > 2 || x->items[0]->kind != EX_STR) {
			perr(p, x->off, "%s() takes a quoted name and an optional default: write %s", fn->name, fn->usage);
		} else if (pos == 2 && !is_literal(x->items[1])) {
			perr(p, x->items[1]->off, "the default of %s() must be a string, number or boolean", fn->name);
		} else if (x->id == FN_VAR && pos == 1) {
			struct vec *v = &p->t->vars;
			bool seen = false;
			for (size_t i = 0; i < v->n && !seen; i++)
				seen = !strcmp(((struct mt_ref *)v->v)[i].name, x->items[0]->s);
			if (!seen)
				add_ref(v, x->items[0]->s, NULL, x->off);
		}
		break;
	case FN_IS_INCREMENTAL:
		if (pos)
			perr(p, x->off, "is_incremental() takes no arguments");
		else if (!in_cond)
			perr(p, x->off, "is_incremental() is a condition: use it as {%% if is_incremental() %%}");
		break;
	case FN_CONFIG:
		if (!top)
			perr(p, x->off, "config() must be a tag of its own: {{ config(...) }}");
		else
			check_config(p, x);
		break;
	}
}

/* Walks an expression tree checking every call in it. */
static void check_expr(struct parser *p, struct expr *x, bool top, bool in_cond)
{
	if (!x)
		return;
	switch (x->kind) {
	case EX_CALL:
		for (size_t i = 0; i < x->n_items; i++)
			check_expr(p, x->items[i], false, in_cond);
		if (x->id >= 0)
			check_call(p, x, top, in_cond);
		break;
	case EX_LIST:
	case EX_DICT:
		for (size_t i = 0; i < x->n_items; i++)
			check_expr(p, x->items[i], false, in_cond);
		break;
	case EX_NOT:
	case EX_AND:
	case EX_OR:
	case EX_EQ:
	case EX_NE:
		check_expr(p, x->l, false, in_cond);
		check_expr(p, x->r, false, in_cond);
		break;
	default:
		break;
	}
}

/* ---- tags and blocks ------------------------------------------------------------- */

/* A whole expression up to the tag's end; NULL after reporting an error (the
 * parser is then past the tag, or at the end of the text). */
static struct expr *tag_expr(struct parser *p, bool in_cond)
{
	size_t before = p->n_errors;
	struct expr *x = parse_or(p);
	if (x) {
		struct tok k = lex(p);
		if (k.t == TK_END) {
			p->trim_next = k.trim;
			check_expr(p, x, !in_cond, in_cond);
			return p->n_errors > before ? NULL : x;
		}
		char buf[64];
		if (k.t == TK_OTHER && p->s[k.off] == '|')
			perr(p, k.off, "filters ('|') are not supported");
		else
			perr(p, k.off, "expected the end of the tag, found %s", tok_text(p, &k, buf, sizeof buf));
		p->pos = k.off;
	}
	skip_tag(p);
	return NULL;
}

static struct node *new_node(struct parser *p, enum node_kind kind)
{
	struct node *n = arena_alloc(&p->t->a, sizeof *n);
	n->kind = kind;
	return n;
}

enum block_end { END_EOF, END_ELIF, END_ELSE, END_ENDIF };

/* Where a tag starts: the next "{{", "{%" or "{#" at or after from. */
static const char *next_tag(const char *s, size_t from)
{
	for (const char *q = strchr(s + from, '{'); q; q = strchr(q + 1, '{'))
		if (q[1] == '{' || q[1] == '%' || q[1] == '#')
			return q;
	return NULL;
}

/* The text of an unclosed tag, reported at its start. */
static void unclosed(struct parser *p, size_t open)
{
	const char *what = p->s[open + 1] == '{' ? "'{{' (no '}}' after it)"
			   : p->s[open + 1] == '%' ? "'{%' (no '%}' after it)" : "'{#' (no '#}' after it)";
	perr(p, open, "unclosed %s", what);
}

static enum block_end parse_block(struct parser *p, struct node **head, size_t *end_off);

/* After "{% if": the condition, the branches, up to its endif. */
static struct node *parse_if(struct parser *p, size_t open)
{
	struct node *n = new_node(p, ND_IF);
	n->off = open;
	n->x = tag_expr(p, true);
	if (p->if_depth >= MAX_DEPTH) {
		perr(p, open, "{%% if %%} nested deeper than %d levels", MAX_DEPTH);
		p->pos = strlen(p->s);
		return n;
	}
	p->if_depth++;
	size_t end_off;
	enum block_end e = parse_block(p, &n->then, &end_off);
	struct node *cur = n;
	bool had_else = false;
	while (e == END_ELIF || e == END_ELSE) {
		if (had_else) {
			perr(p, end_off, "{%% %s %%} after {%% else %%}", e == END_ELIF ? "elif" : "else");
		}
		if (e == END_ELIF) {
			struct node *m = new_node(p, ND_IF);
			m->off = end_off;
			m->x = tag_expr(p, true);
			cur->els = m;
			cur = m;
			e = parse_block(p, &m->then, &end_off);
		} else {
			had_else = true;
			e = parse_block(p, &cur->els, &end_off);
		}
	}
	p->if_depth--;
	if (e == END_EOF) {
		int l, c;
		mtmpl_loc(p->s, open, &l, &c);
		perr(p, strlen(p->s), "unclosed {%% if %%} opened at %d:%d (no {%% endif %%})", l, c);
	}
	return n;
}

/* One {% %} tag after its "{%" (and '-'); returns the block end it is, or
 * -1 for a tag that made a node (*out) or was skipped. */
static int parse_stmt(struct parser *p, size_t open, struct node **out)
{
	*out = NULL;
	struct tok k = lex(p);
	char buf[64];
	if (k.t != TK_IDENT) {
		if (k.t == TK_EOF) {
			unclosed(p, open);
			p->pos = strlen(p->s);
			return END_EOF;
		}
		perr(p, k.off, "expected if, elif, else or endif after '{%%', found %s", tok_text(p, &k, buf, sizeof buf));
		skip_tag(p);
		return -1;
	}
	if (tok_is(p, &k, "if")) {
		*out = parse_if(p, open);
		return -1;
	}
	int e = tok_is(p, &k, "elif") ? END_ELIF : tok_is(p, &k, "else") ? END_ELSE : tok_is(p, &k, "endif") ? END_ENDIF : -1;
	if (e < 0) {
		char *w = xstrndup(p->s + k.off, k.len);
		const char *const known[] = {"if", "elif", "else", "endif"};
		const char *near = nearest_word(w, known, 4);
		if (near)
			perr(p, k.off, "unknown tag '{%% %s %%}' (did you mean %s?)", w, near);
		else
			perr(p, k.off, "unsupported tag '{%% %s %%}': templates have if, elif, else and endif", w);
		free(w);
		skip_tag(p);
		return -1;
	}
	if (!p->if_depth) {
		perr(p, open, "{%% %.*s %%} without {%% if %%}", (int)k.len, p->s + k.off);
		if (e == END_ELIF)
			skip_tag(p);
		else if (!expect(p, TK_END, "the end of the tag"))
			skip_tag(p);
		return -1;
	}
	if (e != END_ELIF) {
		struct tok end = lex(p);
		if (end.t != TK_END) {
			perr(p, end.off, "expected the end of the tag after '%.*s', found %s", (int)k.len, p->s + k.off,
			     tok_text(p, &end, buf, sizeof buf));
			p->pos = end.off;
			skip_tag(p);
		} else {
			p->trim_next = end.trim;
		}
	}
	return e;
}

static void add_text(struct parser *p, struct node ***tail, size_t from, size_t to, bool trim_end)
{
	if (p->trim_next) {
		while (from < to && isspace((unsigned char)p->s[from]))
			from++;
		p->trim_next = false;
	}
	if (trim_end)
		while (to > from && isspace((unsigned char)p->s[to - 1]))
			to--;
	if (to == from)
		return;
	struct node *n = new_node(p, ND_TEXT);
	n->off = from;
	n->len = to - from;
	**tail = n;
	*tail = &n->next;
}

/* Nodes up to the end of the text or to an elif/else/endif that ends the
 * enclosing if (whose "{%" offset goes to *end_off). */
static enum block_end parse_block(struct parser *p, struct node **head, size_t *end_off)
{
	struct node **tail = head;
	for (;;) {
		const char *q = next_tag(p->s, p->pos);
		if (!q) {
			add_text(p, &tail, p->pos, strlen(p->s), false);
			p->pos = strlen(p->s);
			return END_EOF;
		}
		size_t open = (size_t)(q - p->s);
		bool trim = q[2] == '-';
		add_text(p, &tail, p->pos, open, trim);
		p->pos = open + 2 + trim;
		if (q[1] == '#') {
			const char *end = strstr(q + 2, "#}");
			if (!end) {
				unclosed(p, open);
				p->pos = strlen(p->s);
				return END_EOF;
			}
			p->trim_next = end > q + 2 && end[-1] == '-';
			p->pos = (size_t)(end - p->s) + 2;
			continue;
		}
		p->close = q[1] == '{' ? '}' : '%';
		if (!strstr(q + 2, q[1] == '{' ? "}}" : "%}")) {
			unclosed(p, open);
			p->pos = strlen(p->s);
			return END_EOF;
		}
		if (q[1] == '{') {
			struct tok k = peek(p);
			if (k.t == TK_END) {
				perr(p, open, "empty tag '{{ }}'");
				p->pos = k.off + k.len;
				continue;
			}
			struct expr *x = tag_expr(p, false);
			if (x && !(x->kind == EX_CALL && x->id == FN_CONFIG)) {
				struct node *n = new_node(p, ND_EXPR);
				n->off = open;
				n->x = x;
				*tail = n;
				tail = &n->next;
			}
			continue;
		}
		struct node *n;
		int e = parse_stmt(p, open, &n);
		if (n) {
			*tail = n;
			tail = &n->next;
		}
		if (e >= 0) {
			*end_off = open;
			return (enum block_end)e;
		}
	}
}

int mtmpl_parse(const char *text, size_t len, enum mt_mode mode, mt_error_fn on_error, void *arg,
		struct mtmpl **out)
{
	struct mtmpl *t = xcalloc(1, sizeof *t);
	t->text = text;
	t->len = len;
	t->mode = mode;
	struct parser p = {.t = t, .s = text, .on_error = on_error, .arg = arg};
	/* at the top a stray elif, else or endif is reported where it is, so
	 * only the end of the text ends this block */
	size_t end_off;
	parse_block(&p, &t->body, &end_off);
	*out = t;
	return p.n_errors ? -1 : 0;
}

void mtmpl_free(struct mtmpl *t)
{
	if (!t)
		return;
	arena_free(&t->a);
	free(t->refs.v);
	free(t->sources.v);
	free(t->vars.v);
	free(t->kwargs.v);
	json_decref(t->config);
	free(t);
}

size_t mtmpl_n_refs(const struct mtmpl *t)
{
	return t->refs.n;
}

const struct mt_ref *mtmpl_ref(const struct mtmpl *t, size_t i)
{
	return &((const struct mt_ref *)t->refs.v)[i];
}

size_t mtmpl_n_sources(const struct mtmpl *t)
{
	return t->sources.n;
}

const struct mt_ref *mtmpl_source(const struct mtmpl *t, size_t i)
{
	return &((const struct mt_ref *)t->sources.v)[i];
}

size_t mtmpl_n_vars(const struct mtmpl *t)
{
	return t->vars.n;
}

const struct mt_ref *mtmpl_var(const struct mtmpl *t, size_t i)
{
	return &((const struct mt_ref *)t->vars.v)[i];
}

const json_t *mtmpl_config(const struct mtmpl *t)
{
	return t->config;
}

size_t mtmpl_config_off(const struct mtmpl *t)
{
	return t->config_off;
}

size_t mtmpl_n_kwargs(const struct mtmpl *t)
{
	return t->kwargs.n;
}

const struct mt_kwarg *mtmpl_kwarg(const struct mtmpl *t, size_t i)
{
	return &((const struct mt_kwarg *)t->kwargs.v)[i];
}

/* ---- rendering ----------------------------------------------------------------- */

enum val_kind { V_NONE, V_STR, V_NUM, V_BOOL };

struct val {
	enum val_kind kind;
	struct strbuf s; /* V_STR */
	double num;
	bool is_int, b;
};

struct rctx {
	const struct mtmpl *t;
	const struct mt_env *env;
	struct mt_error *e;
};

static int rfail(struct rctx *r, size_t off, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int rfail(struct rctx *r, size_t off, const char *fmt, ...)
{
	r->e->off = off;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->e->msg, sizeof r->e->msg, fmt, ap);
	va_end(ap);
	return -1;
}

static void val_str(struct val *v, const char *s)
{
	v->kind = V_STR;
	sb_adds(&v->s, "");
	sb_adds(&v->s, s ? s : "");
}

static void val_json(struct val *v, const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_STRING:
		v->kind = V_STR;
		sb_adds(&v->s, "");
		sb_add(&v->s, json_string_value(j), json_string_length(j));
		break;
	case JSON_INTEGER:
		v->kind = V_NUM, v->is_int = true, v->num = (double)json_integer_value(j);
		break;
	case JSON_REAL:
		v->kind = V_NUM, v->num = json_real_value(j);
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		v->kind = V_BOOL, v->b = json_is_true(j);
		break;
	default:
		v->kind = V_NONE;
		break;
	}
}

static int eval(struct rctx *r, const struct expr *x, struct val *v);

static int eval_name(struct rctx *r, const struct expr *x, struct val *v)
{
	const struct mt_env *env = r->env;
	const char *s = NULL;
	switch ((enum ex_name)x->id) {
	case NM_THIS: {
		char msg[256] = "";
		v->kind = V_STR;
		sb_adds(&v->s, "");
		if (!env->relation || env->relation(env->arg, MT_REL_THIS, NULL, NULL, &v->s, msg, sizeof msg) < 0)
			return rfail(r, x->off, "%s", *msg ? msg : "'this' cannot be named here");
		return 0;
	}
	case NM_THIS_SCHEMA:
	case NM_TARGET_SCHEMA: s = env->target_schema; break;
	case NM_THIS_NAME:
	case NM_MODEL_NAME: s = env->model_name; break;
	case NM_TARGET_NAME: s = env->target_name; break;
	case NM_MODEL_FOLDER: s = env->model_folder; break;
	case NM_MODEL_DIR: s = env->model_dir; break;
	case NM_MODEL_SCHEMA: s = env->model_schema; break;
	}
	val_str(v, s);
	return 0;
}

static int eval_call(struct rctx *r, const struct expr *x, struct val *v)
{
	const struct mt_env *env = r->env;
	char msg[sizeof ((struct mt_error *)0)->msg] = "";
	switch ((enum ex_fn)x->id) {
	case FN_REF:
	case FN_SOURCE: {
		v->kind = V_STR;
		sb_adds(&v->s, "");
		bool ref = x->id == FN_REF;
		if (!env->relation || env->relation(env->arg, ref ? MT_REL_REF : MT_REL_SOURCE, x->items[0]->s,
						    ref ? NULL : x->items[1]->s, &v->s, msg, sizeof msg) < 0)
			return rfail(r, x->off, "%s", *msg ? msg : "relations cannot be named here");
		return 0;
	}
	case FN_VAR: {
		const char *name = x->items[0]->s;
		const json_t *j = json_is_object(env->vars) ? json_object_get(env->vars, name) : NULL;
		if (!j && x->n_items > 1)
			return eval(r, x->items[1], v);
		if (!j)
			return rfail(r, x->off, "var '%s' is not defined (set it under vars: in sluice.yml, or give a default:"
					       " var('%s', ...))", name, name);
		if (json_is_object(j) || json_is_array(j))
			return rfail(r, x->off, "var '%s' is a %s; only strings, numbers and booleans can be used", name,
				     json_is_object(j) ? "mapping" : "list");
		val_json(v, j);
		return 0;
	}
	case FN_ENV_VAR: {
		const char *name = x->items[0]->s;
		const char *s = env->getenv ? env->getenv(name) : getenv(name);
		if (s) {
			val_str(v, s);
			return 0;
		}
		if (x->n_items > 1)
			return eval(r, x->items[1], v);
		return rfail(r, x->off, "environment variable '%s' is not set (and env_var() gives no default)", name);
	}
	case FN_IS_INCREMENTAL:
		v->kind = V_BOOL;
		v->b = env->is_incremental;
		return 0;
	case FN_CONFIG:
		v->kind = V_NONE;
		return 0;
	}
	return rfail(r, x->off, "unknown function");
}

static bool truthy(const struct val *v)
{
	switch (v->kind) {
	case V_STR: return v->s.len > 0;
	case V_NUM: return v->num != 0;
	case V_BOOL: return v->b;
	default: return false;
	}
}

static bool equal(const struct val *a, const struct val *b)
{
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case V_STR: return a->s.len == b->s.len && !memcmp(a->s.s, b->s.s, a->s.len);
	case V_NUM: return a->num == b->num;
	case V_BOOL: return a->b == b->b;
	default: return true;
	}
}

static int eval(struct rctx *r, const struct expr *x, struct val *v)
{
	struct val a = {0}, b = {0};
	int rc = 0;
	switch (x->kind) {
	case EX_STR:
		v->kind = V_STR;
		sb_adds(&v->s, "");
		sb_add(&v->s, x->s, x->n);
		return 0;
	case EX_NUM:
		v->kind = V_NUM, v->num = x->num, v->is_int = x->is_int;
		return 0;
	case EX_BOOL:
		v->kind = V_BOOL, v->b = x->b;
		return 0;
	case EX_NONE:
	case EX_LIST:
	case EX_DICT:
		v->kind = V_NONE;
		return 0;
	case EX_NAME:
		return eval_name(r, x, v);
	case EX_CALL:
		return eval_call(r, x, v);
	case EX_NOT:
		rc = eval(r, x->l, &a);
		v->kind = V_BOOL, v->b = !truthy(&a);
		break;
	case EX_AND:
	case EX_OR:
		rc = eval(r, x->l, &a);
		if (rc == 0 && truthy(&a) == (x->kind == EX_AND))
			rc = eval(r, x->r, &b);
		else
			b.b = truthy(&a), b.kind = V_BOOL;
		v->kind = V_BOOL, v->b = truthy(&b);
		break;
	case EX_EQ:
	case EX_NE:
		rc = eval(r, x->l, &a);
		if (rc == 0)
			rc = eval(r, x->r, &b);
		v->kind = V_BOOL, v->b = equal(&a, &b) == (x->kind == EX_EQ);
		break;
	}
	sb_free(&a.s);
	sb_free(&b.s);
	return rc;
}

/* Shortest text that reads back to the same double. */
static void add_num(struct strbuf *out, const struct val *v)
{
	if (v->is_int) {
		sb_addf(out, "%.0f", v->num);
		return;
	}
	char buf[64];
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof buf, "%.*g", prec, v->num);
		if (strtod(buf, NULL) == v->num)
			break;
	}
	sb_adds(out, buf);
}

static int render_nodes(struct rctx *r, const struct node *n, struct strbuf *out)
{
	for (; n; n = n->next) {
		if (n->kind == ND_TEXT) {
			sb_add(out, r->t->text + n->off, n->len);
			continue;
		}
		if (!n->x)
			return rfail(r, n->off, "the template has errors");
		struct val v = {0};
		if (eval(r, n->x, &v) < 0) {
			sb_free(&v.s);
			return -1;
		}
		int rc = 0;
		if (n->kind == ND_EXPR) {
			switch (v.kind) {
			case V_STR: sb_add(out, v.s.s, v.s.len); break;
			case V_NUM: add_num(out, &v); break;
			case V_BOOL: sb_adds(out, v.b ? "true" : "false"); break;
			case V_NONE: break;
			}
		} else {
			rc = render_nodes(r, truthy(&v) ? n->then : n->els, out);
		}
		sb_free(&v.s);
		if (rc < 0)
			return -1;
	}
	return 0;
}

int mtmpl_render(const struct mtmpl *t, const struct mt_env *env, struct strbuf *out, struct mt_error *e)
{
	struct rctx r = {t, env, e};
	sb_adds(out, "");
	return render_nodes(&r, t->body, out);
}

void mt_quote_ident(struct strbuf *out, const char *name)
{
	sb_addc(out, '"');
	for (const char *s = name; *s; s++) {
		if (*s == '"')
			sb_addc(out, '"');
		sb_addc(out, *s);
	}
	sb_addc(out, '"');
}
