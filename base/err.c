/* Error messages and located diagnostics. */
#include "base/err.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

static void vset(struct err *e, const char *fmt, va_list ap)
{
	if (!e)
		return;
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
}

int err_set(struct err *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vset(e, fmt, ap);
	va_end(ap);
	if (e)
		e->code = ERR_FAIL;
	return ERR_FAIL;
}

int err_setc(struct err *e, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vset(e, fmt, ap);
	va_end(ap);
	if (e)
		e->code = code;
	return code;
}

int err_prefix(struct err *e, const char *fmt, ...)
{
	char old[sizeof e->msg];
	va_list ap;

	if (!e)
		return ERR_FAIL;
	memcpy(old, e->msg, sizeof old);
	va_start(ap, fmt);
	int n = vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	size_t at = (size_t)n < sizeof e->msg - 1 ? (size_t)n : sizeof e->msg - 1;
	size_t room = sizeof e->msg - 1 - at;
	if (room >= 2) {
		memcpy(e->msg + at, ": ", 2);
		at += 2;
		room -= 2;
		size_t ol = strlen(old);
		if (ol > room)
			ol = room;
		memcpy(e->msg + at, old, ol);
		at += ol;
	}
	e->msg[at] = '\0';
	return err_code(e);
}

void err_clear(struct err *e)
{
	if (e) {
		e->code = 0;
		e->msg[0] = '\0';
	}
}

void diags_add(struct diags *d, struct loc at, const char *fmt, ...)
{
	va_list ap;
	char buf[2048];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 8;
		d->v = xrealloc(d->v, d->cap * sizeof *d->v);
	}
	d->v[d->n].file = xstrdup(at.file ? at.file : "");
	d->v[d->n].line = at.line;
	d->v[d->n].col = at.col;
	d->v[d->n].msg = xstrdup(buf);
	d->n++;
}

static int diag_cmp(const void *a, const void *b)
{
	const struct diag *x = a, *y = b;
	int c = strcmp(x->file, y->file);
	if (c)
		return c;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	/* keep insertion order for equal positions: compare addresses */
	return x < y ? -1 : x > y;
}

void diags_sort(struct diags *d)
{
	/* Insertion sort keeps equal keys in order; lists are short. */
	for (size_t i = 1; i < d->n; i++) {
		struct diag t = d->v[i];
		size_t j = i;
		while (j > 0 && diag_cmp(&d->v[j - 1], &t) > 0 &&
		       !(strcmp(d->v[j - 1].file, t.file) == 0 && d->v[j - 1].line == t.line &&
			 d->v[j - 1].col == t.col)) {
			d->v[j] = d->v[j - 1];
			j--;
		}
		d->v[j] = t;
	}
}

void diags_print(const struct diags *d, FILE *out)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct diag *g = &d->v[i];
		if (g->line > 0)
			fprintf(out, "%s:%d:%d: error: %s\n", g->file, g->line, g->col, g->msg);
		else if (g->file[0])
			fprintf(out, "%s: error: %s\n", g->file, g->msg);
		else
			fprintf(out, "error: %s\n", g->msg);
	}
}

void diags_free(struct diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
	}
	free(d->v);
	d->v = NULL;
	d->n = d->cap = 0;
}
