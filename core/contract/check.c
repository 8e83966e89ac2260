/* Checking one record against a contract: the cleaning every column gets
 * (trim, null tokens), required, then its type's check (types.c),
 * then regex and accepted values; reasons name the column and the value.
 * Nothing is allocated per record. */
#include "core/contract/internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/util.h"

/* values longer than this are cut in reasons */
#define SHOW_MAX 40

struct contract_scratch *contract_scratch_new(void)
{
	return xcalloc(1, sizeof(struct contract_scratch));
}

void contract_scratch_free(struct contract_scratch *s)
{
	if (!s)
		return;
	free(s->buf);
	free(s);
}

/* The value for a reason: at most SHOW_MAX bytes, cut on a character boundary. */
static void show(char *buf, size_t size, const char *v, size_t n)
{
	if (n <= SHOW_MAX) {
		snprintf(buf, size, "%.*s", (int)n, v);
		return;
	}
	size_t k = SHOW_MAX;
	while (k > 0 && ((unsigned char)v[k] & 0xC0) == 0x80)
		k--;
	snprintf(buf, size, "%.*s...", (int)k, v);
}

/* "'col': 'value' <what fmt says>" */
int col_fail(char *reason, size_t size, const struct contract_col *c, const char *v, size_t n, const char *fmt, ...)
{
	char val[SHOW_MAX + 8];
	char what[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	if (!reason || !size)
		return -1;
	if (v) {
		show(val, sizeof val, v, n);
		snprintf(reason, size, "'%s': '%s' %s", c->name, val, what);
	} else
		snprintf(reason, size, "'%s': %s", c->name, what);
	return -1;
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\f' || ch == '\v';
}

/* Checks one value; *out is the cleaned value (NULL for NULL). */
static int check_value(const struct contract_col *c, struct contract_scratch *s, const char *v, size_t n,
		       const char **out, char *reason, size_t rsize)
{
	const struct col_priv *p = c->priv;
	const struct col_type_def *t = col_type_of(c);
	const char *orig = v;
	size_t orig_n = n;
	*out = NULL;
	if (v && (c->trim || !t->keeps_space)) {
		while (n && is_space(v[0]))
			v++, n--;
		while (n && is_space(v[n - 1]))
			n--;
	}
	if (v) {
		for (size_t i = 0; i < c->n_null_tokens; i++) {
			const char *tok = c->null_tokens[i];
			if (strlen(tok) == n && !memcmp(tok, v, n)) {
				v = NULL;
				break;
			}
		}
		/* without null tokens, an empty value is NULL for every type but text */
		if (v && !n && !c->n_null_tokens && !t->keeps_space)
			v = NULL;
	}
	if (!v) {
		if (c->required)
			return col_fail(reason, rsize, c, NULL, 0, "a value is required");
		return 0;
	}
	/* the value as given when cleaning left its end alone (in[] is NUL-terminated) */
	struct col_value x = {v, n, orig, orig_n, v + n == orig + orig_n ? v : NULL};
	if (t->check(c, s, &x, reason, rsize) < 0)
		return -1;
	const char *val = x.val ? x.val : sc_copy(s, v, n);
	int m = p->fre ? fast_re_match(p->fre, val, strlen(val)) : -1;
	if (p->has_re && (m < 0 ? regexec(&p->re, val, 0, NULL, 0) != 0 : !m))
		return col_fail(reason, rsize, c, val, strlen(val), "does not match %s", c->regex);
	if (c->n_accepted) {
		size_t i;
		for (i = 0; i < c->n_accepted && strcmp(c->accepted[i], val); i++)
			;
		if (i == c->n_accepted) {
			char list[128];
			size_t k = 0;
			for (i = 0; i < c->n_accepted && k < sizeof list - 8; i++)
				k += (size_t)snprintf(list + k, sizeof list - k, "%s%s", i ? ", " : "", c->accepted[i]);
			if (k >= sizeof list - 8)
				snprintf(list + sizeof list - 8, 8, ", ...");
			return col_fail(reason, rsize, c, val, strlen(val), "is not one of the accepted values (%s)", list);
		}
	}
	*out = val;
	return 0;
}

int contract_check(const struct contract *c, struct contract_scratch *s, const char *const *in,
		   const size_t *in_len, const char **out, int *bad_col, char *reason, size_t reason_size)
{
	/* reserve the worst case once, so no pointer handed out moves */
	size_t need = 64;
	for (size_t i = 0; i < c->n_cols; i++) {
		size_t n = in[i] ? (in_len ? in_len[i] : strlen(in[i])) : 0;
		need += 2 * n + (size_t)c->cols[i].precision + 96;
	}
	if (need > s->cap) {
		free(s->buf);
		s->cap = need * 2;
		s->buf = xmalloc(s->cap);
	}
	s->len = 0;
	if (bad_col)
		*bad_col = -1;
	if (reason && reason_size)
		reason[0] = '\0';
	for (size_t i = 0; i < c->n_cols; i++) {
		const char *v = in[i];
		size_t n = v ? (in_len ? in_len[i] : strlen(v)) : 0;
		if (check_value(&c->cols[i], s, v, n, &out[i], reason, reason_size) < 0) {
			if (bad_col)
				*bad_col = (int)i;
			return -1;
		}
	}
	return 0;
}

