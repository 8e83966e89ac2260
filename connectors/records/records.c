/* Streaming record readers: CSV (RFC 4180), JSON Lines and JSON arrays, plain
 * or gzip, UTF-8 or latin1. One read buffer holds whole records: a parser
 * that runs out of bytes mid-record asks for more, the partial record moves
 * to the front, and the record is parsed again from its start. This file is
 * the common core: opening, rec_next, and the record handed out; the input
 * and each format have a file of their own. */
#include "connectors/records.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "connectors/records/internal.h"

/* The formats, indexed by enum rec_format. */
static const struct rec_format_ops *const formats[] = {
	[REC_CSV] = &rec_csv_ops,
	[REC_JSONL] = &rec_jsonl_ops,
	[REC_JSON_ARRAY] = &rec_json_array_ops,
};

/* ---- the record ----------------------------------------------------------- */

void rec_fb_grow(struct rec_reader *r, size_t need)
{
	size_t c = r->fcap ? r->fcap : 4096;
	while (c < need)
		c *= 2;
	r->fb = xrealloc(r->fb, c);
	r->fcap = c;
}

void rec_fields_grow(struct rec_reader *r, size_t n)
{
	size_t c = r->fn_cap ? r->fn_cap * 2 : 64;
	while (c < n)
		c *= 2;
	r->foff = xrealloc(r->foff, c * sizeof *r->foff);
	r->flen = xrealloc(r->flen, c * sizeof *r->flen);
	r->fptr = xrealloc(r->fptr, c * sizeof *r->fptr);
	r->fq = xrealloc(r->fq, c * sizeof *r->fq);
	r->fn_cap = c;
}

/* The raw text of an error record with every NUL or invalid UTF-8 byte as
 * U+FFFD, so it can be stored as text. */
static void raw_clean(struct rec_reader *r, struct record *rec)
{
	const unsigned char *p = (const unsigned char *)rec->raw, *e = p + rec->raw_len;
	size_t need = rec->raw_len * 3 + 1;
	if (need > r->rawb_cap) {
		r->rawb = xrealloc(r->rawb, need);
		r->rawb_cap = need;
	}
	char *o = r->rawb;
	while (p < e) {
		int n = *p ? utf8_len(p, e) : -1;
		if (n <= 0) {
			memcpy(o, REPLACEMENT, 3);
			o += 3;
			p++;
		} else {
			memcpy(o, p, (size_t)n);
			o += n;
			p += n;
		}
	}
	*o = '\0';
	rec->raw = r->rawb;
	rec->raw_len = (size_t)(o - r->rawb);
}

void rec_set_error(struct rec_reader *r, const char **error, int *ecol, int col, const char *fmt, ...)
{
	if (*error)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->errbuf, sizeof r->errbuf, fmt, ap);
	va_end(ap);
	*error = r->errbuf;
	*ecol = col;
}

void rec_set_columns(struct rec_reader *r, const char *const *names, const size_t *lens, size_t n)
{
	r->cols = xcalloc(n ? n : 1, sizeof *r->cols);
	for (size_t i = 0; i < n; i++)
		r->cols[i] = lens ? xstrndup(names[i], lens[i]) : xstrdup(names[i]);
	r->n_cols = n;
	r->cols_known = true;
}

size_t rec_record_limit(const struct rec_reader *r, size_t n)
{
	size_t per = 2 * r->o.max_field + 3; /* every quote doubled, quoted, a delimiter */
	size_t lim = n ? per * (n + 1) : per * 64;
	if (r->o.format != REC_CSV && lim < (64u << 20))
		lim = 64u << 20;
	return lim < READ_BUF ? READ_BUF : lim;
}

void rec_record_fill(struct rec_reader *r, struct record *rec, size_t nf, const unsigned char *raw, size_t raw_len,
		     int64_t line, const char *error, int ecol)
{
	for (size_t i = 0; i < nf; i++)
		r->fptr[i] = r->foff[i] == SIZE_MAX ? NULL : r->fb + r->foff[i];
	rec->n = nf;
	rec->fields = r->fptr;
	rec->lens = r->flen;
	rec->quoted = r->fq;
	rec->line = line;
	rec->offset = r->base + (int64_t)(raw - (const unsigned char *)r->buf);
	rec->raw = (const char *)raw;
	rec->raw_len = raw_len;
	rec->error = error;
	rec->error_col = error ? ecol : 0;
	if (error)
		raw_clean(r, rec);
}

/* ---- the reader ----------------------------------------------------------- */

void rec_opts_init(struct rec_opts *o)
{
	memset(o, 0, sizeof *o);
	o->format = REC_CSV;
	o->encoding = REC_UTF8;
	o->delimiter = ',';
	o->quote = '"';
	o->header = true;
	o->max_field = 1u << 20;
	o->gzip = -1;
}

/* The format a file name says (before a .gz); CSV when it says none. */
static enum rec_format format_of(const char *path)
{
	const char *s = strrchr(path, '/');
	s = s ? s + 1 : path;
	size_t n = strlen(s);
	if (ends_with(s, n, ".gz"))
		n -= 3;
	for (size_t f = 0; f < sizeof formats / sizeof formats[0]; f++)
		for (const char *const *e = formats[f]->exts; *e; e++)
			if (ends_with(s, n, *e))
				return (enum rec_format)f;
	return REC_CSV;
}

int rec_open(const char *path, const struct rec_opts *o, struct rec_reader **out, struct err *err)
{
	*out = NULL;
	struct rec_opts def;
	if (!o) {
		rec_opts_init(&def);
		o = &def;
	}
	if (o->delimiter == '\n' || o->delimiter == '\r' || !o->delimiter || o->delimiter == o->quote ||
	    o->quote == '\n' || o->quote == '\r')
		return err_set(err, "%s: the delimiter and the quote must differ and be neither a newline nor NUL",
			       path);
	if (!o->max_field)
		return err_set(err, "%s: max_field must be positive", path);
	struct rec_reader *r = xcalloc(1, sizeof *r);
	r->o = *o;
	r->o.columns = NULL;
	r->path = xstrdup(path);
	if (!o->format_set)
		r->o.format = strcmp(path, "-") ? format_of(path) : REC_CSV;
	if (r->o.format == REC_CSV && !o->header && !o->n_columns) {
		rec_close(r);
		return err_set(err, "%s: a CSV file without a header needs declared columns", path);
	}
	int rc = rec_input_open(r, path, err);
	if (rc < 0) {
		rec_close(r);
		return rc;
	}

	r->cap = READ_BUF;
	r->buf = xmalloc(r->cap + 1);
	r->line = 1;
	r->delim = (unsigned char)o->delimiter;
	r->quote = (unsigned char)o->quote;
	if (formats[r->o.format]->init)
		formats[r->o.format]->init(r);
	if (o->n_columns && (r->o.format != REC_CSV || !o->header)) {
		rec_set_columns(r, o->columns, NULL, o->n_columns);
		r->expected = o->n_columns;
	}
	r->max_record = rec_record_limit(r, r->expected);
	*out = r;
	return 0;
}

int rec_next(struct rec_reader *r, struct record *rec, struct err *err)
{
	const struct rec_format_ops *fmt = formats[r->o.format];
	memset(rec, 0, sizeof *rec);
	for (;;) {
		if (!r->started) {
			if (r->end - r->pos < 3 && !r->eof) {
				if (rec_fill(r, err) < 0)
					return -1;
				continue;
			}
			if (r->end - r->pos >= 3 && !memcmp(r->buf + r->pos, "\xEF\xBB\xBF", 3))
				r->pos += 3;
			r->started = true;
		}
		if (r->skipping && fmt->skip(r, err) < 0)
			return -1;
		int rc = fmt->parse(r, rec, err);
		if (rc == P_NEED) {
			if (rec_fill(r, err) < 0)
				return -1;
		} else if (rc != P_AGAIN) {
			if (rc == P_RECORD)
				return 1;
			memset(rec, 0, sizeof *rec);
			return rc;
		}
	}
}

const char *const *rec_columns(const struct rec_reader *r, size_t *n)
{
	*n = r->cols_known ? r->n_cols : 0;
	return (const char *const *)r->cols;
}

void rec_progress(const struct rec_reader *r, int64_t *done, int64_t *size)
{
	*done = r->in_done;
	*size = r->in_size;
}

size_t rec_buffer_size(const struct rec_reader *r)
{
	return r->cap + r->fcap + r->rawb_cap + r->lat_cap + ZBUF + r->fn_cap * (3 * sizeof(size_t) + sizeof(bool));
}

void rec_close(struct rec_reader *r)
{
	if (!r)
		return;
	rec_input_close(r);
	for (size_t i = 0; i < r->n_cols; i++)
		free(r->cols[i]);
	free(r->cols);
	free(r->buf);
	free(r->fb);
	free(r->foff);
	free(r->flen);
	free(r->fptr);
	free(r->fq);
	free(r->rawb);
	free(r->path);
	free(r);
}
