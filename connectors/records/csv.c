/* The CSV reader (RFC 4180 and what real files do): quoted fields with
 * doubled quotes and newlines, a header or declared columns, \r\n or \n,
 * oversized fields and records dropped without being kept. The hot loops
 * scan byte classes from two tables; nothing is called per byte. */
#include "connectors/records/internal.h"

#include <string.h>

#include "base/util.h"

static void csv_tables(struct rec_reader *r)
{
	memset(r->cls_u, 0, sizeof r->cls_u);
	memset(r->cls_q, 0, sizeof r->cls_q);
	for (int c = 0x80; c < 256; c++)
		r->cls_u[c] = r->cls_q[c] = 1;
	r->cls_u[0] = r->cls_q[0] = 1;
	r->cls_u['\n'] = r->cls_u['\r'] = r->cls_u[r->delim] = 1;
	r->cls_q['\n'] = 1;
	if (r->quote)
		r->cls_u[r->quote] = r->cls_q[r->quote] = 1;
}

/* Drops the rest of a record that was too long without keeping it: a
 * byte-at-a-time walk that remembers quoting across reads. */
static int csv_skip(struct rec_reader *r, struct err *err)
{
	for (;;) {
		if (r->pos == r->end) {
			if (r->eof) {
				r->skipping = false;
				return 0;
			}
			r->base += (int64_t)r->end;
			r->pos = r->end = 0;
			if (rec_fill(r, err) < 0)
				return -1;
			continue;
		}
		unsigned char c = (unsigned char)r->buf[r->pos++];
		if (r->skip_inq) {
			if (!r->skip_qpend) {
				if (c == r->quote)
					r->skip_qpend = true;
				else if (c == '\n')
					r->line++;
				continue;
			}
			r->skip_qpend = false;
			if (c == r->quote)
				continue;
			r->skip_inq = false; /* that quote closed the field; c follows it */
		}
		if (c == '\n' || c == '\r') {
			r->line++;
			r->after_cr = c == '\r';
			r->skipping = false;
			return 0;
		}
		if (c == r->delim)
			r->skip_fstart = true;
		else {
			if (r->quote && c == r->quote && r->skip_fstart)
				r->skip_inq = true;
			r->skip_fstart = false;
		}
	}
}

/* Appends the UTF-8 sequence at *pp to the field, or U+FFFD and an error
 * for a NUL or a byte that is not UTF-8. Returns P_NEED when the sequence
 * runs past the buffer. */
static int csv_multibyte(struct rec_reader *r, const unsigned char **pp, const unsigned char *e, size_t *fl,
			 size_t fstart, size_t nf, const char **error, int *ecol)
{
	const unsigned char *p = *pp;
	int n = *p ? utf8_len(p, e) : -1;
	if (n == 0 && !r->eof)
		return P_NEED;
	if (n <= 0) {
		rec_set_error(r, error, ecol, (int)nf + 1, "%s at byte %zu of field %zu", *p ? "invalid UTF-8" : "NUL byte",
			  *fl - fstart + 1, nf + 1);
		memcpy(r->fb + *fl, REPLACEMENT, 3);
		*fl += 3;
		*pp = p + 1;
	} else {
		memcpy(r->fb + *fl, p, (size_t)n);
		*fl += (size_t)n;
		*pp = p + n;
	}
	return 0;
}

/* Copies the bytes from p up to the first one cls stops at (or e) into the
 * field buffer at *fl; returns where it stopped. The hot loop of the reader:
 * inlined, so both field kinds scan the same way at the same speed. */
static inline const unsigned char *take_run(struct rec_reader *r, const unsigned char *p, const unsigned char *e,
					    const unsigned char *cls, size_t *fl)
{
	const unsigned char *s = p;
	while (p < e && !cls[*p])
		p++;
	size_t k = (size_t)(p - s);
	fb_reserve(r, *fl + k + 8);
	memcpy(r->fb + *fl, s, k);
	*fl += k;
	return p;
}

/* One CSV record from buf[pos]: P_RECORD, P_AGAIN (a header or blank line
 * was consumed), P_NEED, P_EOF or -1. */
static int csv_parse(struct rec_reader *r, struct record *rec, struct err *err)
{
	const unsigned char *b = (const unsigned char *)r->buf;
	const unsigned char *start = b + r->pos, *p = start, *e = b + r->end;
	const unsigned char d = r->delim, q = r->quote;
	const bool eof = r->eof;
	const size_t max_field = r->o.max_field;
	const unsigned char *cls_u = r->cls_u, *cls_q = r->cls_q;
	size_t nf = 0, fl = 0, fstart = 0;
	int64_t nl = 0;
	const char *error = NULL;
	int ecol = 0;
	bool ended_nl = false;

	if (r->after_cr) {
		if (p == e && !eof)
			return P_NEED;
		if (p < e && *p == '\n')
			r->pos++, start = ++p;
		r->after_cr = false;
	}
	if (p == e)
		return eof ? P_EOF : P_NEED;

	for (;;) { /* one field */
		fields_reserve(r, nf + 1);
		fstart = fl;
		r->fq[nf] = false;
		if (p < e && q && *p == q) {
			r->fq[nf] = true;
			p++;
			for (;;) {
				p = take_run(r, p, e, cls_q, &fl);
				if (fl - fstart > max_field || (size_t)(p - start) > r->max_record) {
					r->skip_inq = true;
					r->skip_qpend = false;
					goto too_long;
				}
				if (p == e) {
					if (!eof)
						return P_NEED;
					rec_set_error(r, &error, &ecol, (int)nf + 1, "unterminated quoted field %zu", nf + 1);
					goto field_end;
				}
				if (*p == q) {
					if (p + 1 == e && !eof)
						return P_NEED;
					if (p + 1 < e && p[1] == q) {
						r->fb[fl++] = (char)q;
						p += 2;
						continue;
					}
					p++;
					break;
				}
				if (*p == '\n') {
					nl++;
					r->fb[fl++] = '\n';
					p++;
					continue;
				}
				if (csv_multibyte(r, &p, e, &fl, fstart, nf, &error, &ecol) == P_NEED)
					return P_NEED;
			}
			if (p < e && *p != d && *p != '\n' && *p != '\r')
				rec_set_error(r, &error, &ecol, (int)nf + 1, "text after the closing quote of field %zu", nf + 1);
		}
		for (;;) { /* unquoted text, or whatever follows a closing quote */
			p = take_run(r, p, e, cls_u, &fl);
			if (fl - fstart > max_field || (size_t)(p - start) > r->max_record) {
				r->skip_inq = false;
				r->skip_fstart = false;
				goto too_long;
			}
			if (p == e) {
				if (!eof)
					return P_NEED;
				goto field_end;
			}
			if (*p == d || *p == '\n')
				goto field_end;
			if (*p == '\r') {
				if (p + 1 == e && !eof)
					return P_NEED;
				goto field_end;
			}
			if (*p == q) { /* a quote inside an unquoted field is text */
				r->fb[fl++] = (char)q;
				p++;
				continue;
			}
			if (csv_multibyte(r, &p, e, &fl, fstart, nf, &error, &ecol) == P_NEED)
				return P_NEED;
		}
	field_end:
		r->foff[nf] = fstart;
		r->flen[nf] = fl - fstart;
		r->fb[fl++] = '\0';
		nf++;
		if (p < e && *p == d) {
			p++;
			continue;
		}
		break;
	}

	const unsigned char *raw_end = p;
	if (p < e && *p == '\n') {
		p++;
		ended_nl = true;
	} else if (p < e && *p == '\r') {
		p++;
		ended_nl = true;
		if (p < e && *p == '\n')
			p++;
	}
	int64_t line = r->line;
	r->line += nl + ended_nl;
	r->pos = (size_t)(p - b);

	/* a blank line is no record, unless a record can be one empty field */
	if (nf == 1 && !r->flen[0] && !r->fq[0] && !error && r->expected != 1)
		return P_AGAIN;
	if (!r->cols_known) { /* the header */
		if (error)
			return err_set(err, "%s:%lld: header: %s", r->path, (long long)line, error);
		for (size_t i = 0; i < nf; i++)
			r->fptr[i] = r->fb + r->foff[i];
		rec_set_columns(r, r->fptr, r->flen, nf);
		r->expected = nf;
		r->max_record = rec_record_limit(r, nf);
		return P_AGAIN;
	}
	if (r->expected && nf != r->expected)
		rec_set_error(r, &error, &ecol, 0, "expected %zu fields, got %zu", r->expected, nf);
	rec_record_fill(r, rec, nf, start, (size_t)(raw_end - start), line, error, ecol);
	return P_RECORD;

too_long:
	r->foff[nf] = fstart;
	r->flen[nf] = fl - fstart;
	r->fb[fl++] = '\0';
	if (fl - fstart - 1 > max_field)
		rec_set_error(r, &error, &ecol, (int)nf + 1, "field %zu is longer than %zu bytes", nf + 1, max_field);
	else
		rec_set_error(r, &error, &ecol, 0, "record is longer than %zu bytes", r->max_record);
	nf++;
	line = r->line;
	r->line += nl;
	r->pos = (size_t)(p - b);
	r->skipping = true;
	if (!r->cols_known)
		return err_set(err, "%s:%lld: header: %s", r->path, (long long)line, error);
	rec_record_fill(r, rec, nf, start, (size_t)(p - start), line, error, ecol);
	return P_RECORD;
}

const struct rec_format_ops rec_csv_ops = {
	.exts = (const char *const[]){".csv", NULL},
	.init = csv_tables,
	.parse = csv_parse,
	.skip = csv_skip,
};
