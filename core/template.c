/* Template rendering: copies text, drops {# #} comments and replaces each
 * {{ expr }} by the value of expr in a JSON context. Expressions are parsed
 * into a small tree first and evaluated second, so new kinds (function calls
 * such as ref('x')) are a new parse case plus a new eval case. */
#include "core/template.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/util.h"

/* Longest piece of template text quoted back in a message. */
#define QUOTE_MAX 60

enum expr_kind {
	EXPR_PATH, /* dotted name: ds, params.region */
};

struct expr {
	enum expr_kind kind;
	size_t off; /* byte offset of the expression in the template */
	/* EXPR_PATH: the path text, borrowed from the template */
	const char *path;
	size_t path_len;
};

/* A cursor over the template text; offsets are relative to text. */
struct parser {
	const char *text;
	size_t pos;
	struct tmpl_error *e;
};

static int fail_at(struct tmpl_error *e, size_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail_at(struct tmpl_error *e, size_t off, const char *fmt, ...)
{
	if (!e)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	e->offset = off;
	return -1;
}

/* s[0..n) for a message, cut to QUOTE_MAX bytes with "..." */
static void quote_into(char *buf, size_t cap, const char *s, size_t n)
{
	if (n > QUOTE_MAX)
		snprintf(buf, cap, "%.*s...", QUOTE_MAX, s);
	else
		snprintf(buf, cap, "%.*s", (int)n, s);
}

static bool is_ident_start(char c)
{
	return isalpha((unsigned char)c) || c == '_';
}

static bool is_ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

static void skip_space(struct parser *p)
{
	while (isspace((unsigned char)p->text[p->pos]))
		p->pos++;
}

/* ident ('.' ident)* */
static bool parse_path(struct parser *p, struct expr *x)
{
	size_t start = p->pos;
	for (;;) {
		if (!is_ident_start(p->text[p->pos]))
			return false;
		while (is_ident_char(p->text[p->pos]))
			p->pos++;
		if (p->text[p->pos] != '.')
			break;
		p->pos++;
	}
	x->kind = EXPR_PATH;
	x->off = start;
	x->path = p->text + start;
	x->path_len = p->pos - start;
	return true;
}

/* Parses the inside of {{ }} starting after the "{{"; `close` is the offset
 * of the first "}}" after it. On success p->pos is just past the "}}". */
static int parse_expr(struct parser *p, size_t close, struct expr *x)
{
	size_t open = p->pos - 2;
	skip_space(p);
	size_t start = p->pos;
	if (start == close)
		return fail_at(p->e, open, "empty template expression '{{ }}'");
	bool ok = parse_path(p, x);
	/* a call (name followed by '(') lands here too until calls exist */
	if (ok) {
		skip_space(p);
		ok = p->pos == close;
	}
	if (!ok) {
		size_t end = close;
		while (end > start && isspace((unsigned char)p->text[end - 1]))
			end--;
		char q[QUOTE_MAX + 4];
		quote_into(q, sizeof q, p->text + start, end - start);
		return fail_at(p->e, start, "unsupported template expression '%s'", q);
	}
	p->pos = close + 2;
	return 0;
}

/* Shortest form that reads back to the same double, in jansson's style
 * (1.0, 1e20): JSON's own 17 digits would print 0.1 as 0.10000000000000001. */
static void add_real(struct strbuf *out, double d)
{
	char buf[64];
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof buf, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	char clean[64];
	size_t n = 0;
	for (const char *s = buf; *s; s++) {
		clean[n++] = *s;
		if (*s == 'e') {
			s++;
			if (*s == '-')
				clean[n++] = *s++;
			else if (*s == '+')
				s++;
			while (*s == '0' && s[1])
				s++;
			s--;
		}
	}
	clean[n] = '\0';
	sb_adds(out, clean);
	if (!strpbrk(clean, ".e"))
		sb_adds(out, ".0");
}

/* Reports an unknown name seg at the level `obj`, suggesting a sibling key. */
static int fail_unknown(const struct expr *x, size_t seg_end, const char *seg, size_t seg_len,
			const json_t *obj, struct tmpl_error *e)
{
	size_t prefix_len = seg_end - seg_len;
	char *word = xstrndup(seg, seg_len);
	const char *suggest = NULL;
	if (obj && json_object_size(obj)) {
		size_t n = json_object_size(obj), i = 0;
		const char **keys = xmalloc(n * sizeof *keys);
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)obj, k, v)
			keys[i++] = k;
		suggest = nearest_word(word, keys, n);
		free(keys);
	}
	char q[QUOTE_MAX + 4];
	quote_into(q, sizeof q, x->path, seg_end);
	if (suggest) {
		char s[QUOTE_MAX + 4];
		char *full = xasprintf("%.*s%s", (int)prefix_len, x->path, suggest);
		quote_into(s, sizeof s, full, strlen(full));
		free(full);
		fail_at(e, x->off, "unknown template variable '%s'; did you mean '%s'?", q, s);
	} else {
		fail_at(e, x->off, "unknown template variable '%s'", q);
	}
	free(word);
	return -1;
}

static int eval_path(const struct expr *x, const json_t *ctx, struct strbuf *out, struct tmpl_error *e)
{
	const json_t *cur = ctx;
	size_t i = 0;
	char q[QUOTE_MAX + 4];
	while (i < x->path_len) {
		size_t j = i;
		while (j < x->path_len && x->path[j] != '.')
			j++;
		if (cur && !json_is_object(cur) && i == 0) {
			cur = NULL; /* a context that is not an object has no names */
		} else if (cur && !json_is_object(cur)) {
			quote_into(q, sizeof q, x->path, i - 1);
			return fail_at(e, x->off, "'%s' is %s; it has no field '%.*s'", q, json_kind_phrase(cur),
				       (int)(j - i), x->path + i);
		}
		char *key = xstrndup(x->path + i, j - i);
		const json_t *next = cur ? json_object_get(cur, key) : NULL;
		free(key);
		if (!next)
			return fail_unknown(x, j, x->path + i, j - i, cur, e);
		cur = next;
		i = j + 1;
	}
	quote_into(q, sizeof q, x->path, x->path_len);
	switch (json_typeof(cur)) {
	case JSON_STRING:
		sb_add(out, json_string_value(cur), json_string_length(cur));
		break;
	case JSON_INTEGER:
		sb_addf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(cur));
		break;
	case JSON_REAL:
		add_real(out, json_real_value(cur));
		break;
	case JSON_TRUE:
		sb_adds(out, "true");
		break;
	case JSON_FALSE:
		sb_adds(out, "false");
		break;
	case JSON_NULL:
		break;
	case JSON_OBJECT:
		return fail_at(e, x->off, "'%s' is an object; use a field of it", q);
	case JSON_ARRAY:
		return fail_at(e, x->off, "'%s' is an array; only strings, numbers and booleans can be inserted", q);
	}
	return 0;
}

static int eval_expr(const struct expr *x, const json_t *ctx, struct strbuf *out, struct tmpl_error *e)
{
	switch (x->kind) {
	case EXPR_PATH:
		return eval_path(x, ctx, out, e);
	}
	return fail_at(e, x->off, "unsupported template expression");
}

int tmpl_render(const char *text, const json_t *ctx, char **out, struct tmpl_error *e)
{
	struct strbuf b = { 0 };
	struct parser p = { .text = text, .pos = 0, .e = e };
	for (;;) {
		const char *open = strchr(text + p.pos, '{');
		while (open && open[1] != '{' && open[1] != '%' && open[1] != '#')
			open = strchr(open + 1, '{');
		if (!open) {
			sb_adds(&b, text + p.pos);
			break;
		}
		size_t at = (size_t)(open - text);
		sb_add(&b, text + p.pos, at - p.pos);
		if (open[1] == '%') {
			fail_at(e, at, "unsupported template tag");
			goto fail;
		}
		if (open[1] == '#') {
			const char *end = strstr(open + 2, "#}");
			if (!end) {
				fail_at(e, at, "unclosed '{#'");
				goto fail;
			}
			p.pos = (size_t)(end - text) + 2;
			continue;
		}
		const char *close = strstr(open + 2, "}}");
		if (!close) {
			fail_at(e, at, "unclosed '{{'");
			goto fail;
		}
		struct expr x = { 0 };
		p.pos = at + 2;
		if (parse_expr(&p, (size_t)(close - text), &x) < 0)
			goto fail;
		if (eval_expr(&x, ctx, &b, e) < 0)
			goto fail;
	}
	*out = sb_steal(&b);
	return 0;
fail:
	sb_free(&b);
	return -1;
}
