/* Streaming record readers: CSV (RFC 4180), JSON Lines and JSON arrays, plain
 * or gzip, UTF-8 or latin1. One read buffer holds whole records: a parser
 * that runs out of bytes mid-record asks for more, the partial record moves
 * to the front, and the record is parsed again from its start. */
#include "connectors/records.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "base/util.h"

#define READ_BUF (1u << 20)   /* decoded text buffer, and what one read asks for */
#define ZBUF (256u << 10)     /* compressed (or sniffed) input */
#define REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD, for bytes that are not UTF-8 */

/* What a parser step says when it is not a record. */
enum { P_EOF = 0, P_RECORD = 1, P_NEED = 2, P_AGAIN = 3 };

/* Where the JSON array scanner is between elements. */
enum { JA_START, JA_ITEM, JA_AFTER, JA_SEQ, JA_DONE };

struct rec_reader {
	struct rec_opts o;
	char *path;
	int fd;
	bool own_fd;

	/* input: plain reads, or inflate over zbuf */
	bool gz;
	z_stream zs;
	bool zs_live;
	bool z_member_end;        /* a gzip member ended; another may follow */
	bool in_eof;              /* read() returned 0 */
	unsigned char *zbuf;
	size_t zlen, zoff;        /* sniffed bytes not yet handed on (plain input) */
	int64_t in_done, in_size;
	unsigned char *lat;       /* latin1 bytes before they become UTF-8 */
	size_t lat_cap;

	/* decoded text: buf[pos, end) not yet parsed; base = input offset of buf[0] */
	char *buf;
	size_t cap, pos, end;
	int64_t base;
	bool eof;
	bool started;             /* BOM looked for */
	int64_t line;             /* line of buf[pos] */
	size_t max_record;

	/* the current record */
	char *fb;                 /* field text, each NUL-terminated */
	size_t fcap;
	size_t *foff, *flen;
	const char **fptr;
	bool *fq;
	size_t fn_cap;
	char *rawb;               /* raw text of an error record, made valid UTF-8 */
	size_t rawb_cap;
	char errbuf[256];

	/* columns: header, declared, or the first JSON object's keys */
	char **cols;
	size_t n_cols;
	bool cols_known;
	size_t expected;          /* CSV fields per record, 0 = not known yet */

	/* CSV */
	unsigned char cls_u[256]; /* bytes an unquoted field stops at */
	unsigned char cls_q[256]; /* bytes a quoted field stops at */
	unsigned char delim, quote;
	bool skipping;            /* dropping the rest of an oversized record */
	bool skip_inq, skip_qpend, skip_fstart;
	bool after_cr;            /* the last record ended with \r: a \n may follow */

	int ja;                   /* JSON array scanner state */
};

/* ---- small helpers -------------------------------------------------------- */

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

static bool ends_with(const char *s, size_t n, const char *suf)
{
	size_t k = strlen(suf);
	return n >= k && !strncasecmp(s + n - k, suf, k);
}

/* Length of the UTF-8 sequence at p: 1..4 if valid, -1 if not, 0 if it may
 * be valid but runs past e. */
static int utf8_len(const unsigned char *p, const unsigned char *e)
{
	unsigned c = p[0];
	int n;
	unsigned lo = 0x80, hi = 0xBF;
	if (c < 0x80)
		return 1;
	if (c < 0xC2)
		return -1;
	if (c < 0xE0)
		n = 2;
	else if (c < 0xF0) {
		n = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c < 0xF5) {
		n = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else
		return -1;
	for (int i = 1; i < n; i++) {
		if (p + i >= e)
			return 0;
		unsigned b = p[i];
		if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF))
			return -1;
	}
	return n;
}

static void fb_reserve(struct rec_reader *r, size_t need)
{
	if (need <= r->fcap)
		return;
	size_t c = r->fcap ? r->fcap : 4096;
	while (c < need)
		c *= 2;
	r->fb = xrealloc(r->fb, c);
	r->fcap = c;
}

static void fields_reserve(struct rec_reader *r, size_t n)
{
	if (n <= r->fn_cap)
		return;
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

/* ---- input ---------------------------------------------------------------- */

static ssize_t read_fd(struct rec_reader *r, void *dst, size_t n, struct err *err)
{
	for (;;) {
		ssize_t k = read(r->fd, dst, n);
		if (k >= 0) {
			r->in_done += k;
			if (k == 0)
				r->in_eof = true;
			return k;
		}
		if (errno != EINTR)
			return err_set(err, "%s: read: %s", r->path, strerror(errno));
	}
}

/* Up to n bytes of the (decompressed) input; 0 at its end. */
static ssize_t read_input(struct rec_reader *r, unsigned char *dst, size_t n, struct err *err)
{
	if (!r->gz) {
		if (r->zoff < r->zlen) {
			size_t k = r->zlen - r->zoff;
			if (k > n)
				k = n;
			memcpy(dst, r->zbuf + r->zoff, k);
			r->zoff += k;
			return (ssize_t)k;
		}
		if (r->in_eof)
			return 0;
		return read_fd(r, dst, n, err);
	}
	for (;;) {
		if (r->zs.avail_in == 0 && !r->in_eof) {
			ssize_t k = read_fd(r, r->zbuf, ZBUF, err);
			if (k < 0)
				return -1;
			r->zs.next_in = r->zbuf;
			r->zs.avail_in = (uInt)k;
		}
		if (r->z_member_end) {
			if (r->zs.avail_in == 0 && r->in_eof)
				return 0;
			/* another member follows only if it starts like one; other
			 * trailing bytes are ignored, as gzip -d does with a warning */
			if (r->zs.avail_in >= 1 && r->zs.next_in[0] != 0x1f)
				return 0;
			inflateReset(&r->zs);
			r->z_member_end = false;
		}
		r->zs.next_out = dst;
		r->zs.avail_out = (uInt)(n > UINT32_MAX ? UINT32_MAX : n);
		uInt before = r->zs.avail_out;
		int rc = inflate(&r->zs, Z_NO_FLUSH);
		size_t got = before - r->zs.avail_out;
		if (rc == Z_STREAM_END)
			r->z_member_end = true;
		else if (rc == Z_BUF_ERROR) {
			if (r->in_eof && r->zs.avail_in == 0 && !got)
				return err_set(err, "%s: unexpected end of compressed data", r->path);
		} else if (rc != Z_OK)
			return err_set(err, "%s: bad gzip data: %s", r->path, r->zs.msg ? r->zs.msg : "inflate failed");
		if (got)
			return (ssize_t)got;
	}
}

/* Moves the unparsed bytes to the front (growing the buffer when one record
 * fills it) and reads more. Sets eof at the end of the input. */
static int fill(struct rec_reader *r, struct err *err)
{
	if (r->pos > 0) {
		memmove(r->buf, r->buf + r->pos, r->end - r->pos);
		r->base += (int64_t)r->pos;
		r->end -= r->pos;
		r->pos = 0;
	}
	/* a latin1 byte may become two: leave room for one at least */
	if (r->cap - r->end < 4) {
		r->cap *= 2;
		r->buf = xrealloc(r->buf, r->cap + 1);
	}
	size_t room = r->cap - r->end;
	ssize_t k;
	if (r->o.encoding == REC_LATIN1) {
		size_t want = room / 2 ? room / 2 : 1;
		if (want > r->lat_cap) {
			r->lat = xrealloc(r->lat, want);
			r->lat_cap = want;
		}
		k = read_input(r, r->lat, want, err);
		if (k > 0) {
			unsigned char *o = (unsigned char *)r->buf + r->end;
			for (ssize_t i = 0; i < k; i++) {
				unsigned char c = r->lat[i];
				if (c < 0x80)
					*o++ = c;
				else {
					*o++ = (unsigned char)(0xC0 | (c >> 6));
					*o++ = (unsigned char)(0x80 | (c & 0x3F));
				}
			}
			k = (ssize_t)(o - ((unsigned char *)r->buf + r->end));
		}
	} else
		k = read_input(r, (unsigned char *)r->buf + r->end, room, err);
	if (k < 0)
		return -1;
	if (k == 0)
		r->eof = true;
	r->end += (size_t)k;
	return 0;
}

/* ---- CSV ------------------------------------------------------------------ */

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

/* The first problem of a record is the one reported. */
static void set_error(struct rec_reader *r, const char **error, int *ecol, int col, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void set_error(struct rec_reader *r, const char **error, int *ecol, int col, const char *fmt, ...)
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
			if (fill(r, err) < 0)
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

static void set_columns(struct rec_reader *r, const char *const *names, const size_t *lens, size_t n)
{
	r->cols = xcalloc(n ? n : 1, sizeof *r->cols);
	for (size_t i = 0; i < n; i++)
		r->cols[i] = lens ? xstrndup(names[i], lens[i]) : xstrdup(names[i]);
	r->n_cols = n;
	r->cols_known = true;
}

/* The longest raw record accepted with n fields (0 = not known yet). */
static size_t record_limit(const struct rec_reader *r, size_t n)
{
	size_t per = 2 * r->o.max_field + 3; /* every quote doubled, quoted, a delimiter */
	size_t lim = n ? per * (n + 1) : per * 64;
	if (r->o.format != REC_CSV && lim < (64u << 20))
		lim = 64u << 20;
	return lim < READ_BUF ? READ_BUF : lim;
}

static void record_fill(struct rec_reader *r, struct record *rec, size_t nf, const unsigned char *raw,
			size_t raw_len, int64_t line, const char *error, int ecol)
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
		set_error(r, error, ecol, (int)nf + 1, "%s at byte %zu of field %zu", *p ? "invalid UTF-8" : "NUL byte",
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
				const unsigned char *s = p;
				while (p < e && !cls_q[*p])
					p++;
				size_t k = (size_t)(p - s);
				fb_reserve(r, fl + k + 8);
				memcpy(r->fb + fl, s, k);
				fl += k;
				if (fl - fstart > max_field || (size_t)(p - start) > r->max_record) {
					r->skip_inq = true;
					r->skip_qpend = false;
					goto too_long;
				}
				if (p == e) {
					if (!eof)
						return P_NEED;
					set_error(r, &error, &ecol, (int)nf + 1, "unterminated quoted field %zu", nf + 1);
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
				set_error(r, &error, &ecol, (int)nf + 1, "text after the closing quote of field %zu", nf + 1);
		}
		for (;;) { /* unquoted text, or whatever follows a closing quote */
			const unsigned char *s = p;
			while (p < e && !cls_u[*p])
				p++;
			size_t k = (size_t)(p - s);
			fb_reserve(r, fl + k + 8);
			memcpy(r->fb + fl, s, k);
			fl += k;
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
		set_columns(r, r->fptr, r->flen, nf);
		r->expected = nf;
		r->max_record = record_limit(r, nf);
		return P_AGAIN;
	}
	if (r->expected && nf != r->expected)
		set_error(r, &error, &ecol, 0, "expected %zu fields, got %zu", r->expected, nf);
	record_fill(r, rec, nf, start, (size_t)(raw_end - start), line, error, ecol);
	return P_RECORD;

too_long:
	r->foff[nf] = fstart;
	r->flen[nf] = fl - fstart;
	r->fb[fl++] = '\0';
	if (fl - fstart - 1 > max_field)
		set_error(r, &error, &ecol, (int)nf + 1, "field %zu is longer than %zu bytes", nf + 1, max_field);
	else
		set_error(r, &error, &ecol, 0, "record is longer than %zu bytes", r->max_record);
	nf++;
	line = r->line;
	r->line += nl;
	r->pos = (size_t)(p - b);
	r->skipping = true;
	if (!r->cols_known)
		return err_set(err, "%s:%lld: header: %s", r->path, (long long)line, error);
	record_fill(r, rec, nf, start, (size_t)(p - start), line, error, ecol);
	return P_RECORD;
}

/* ---- JSON ----------------------------------------------------------------- */

static bool is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static const char *json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER:
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "a value";
}

/* The shortest text that reads back as the same double. */
static int real_text(double x, char *out, size_t size)
{
	int n = 0;
	for (int prec = 15; prec <= 17; prec++) {
		n = snprintf(out, size, "%.*g", prec, x);
		if (strtod(out, NULL) == x)
			break;
	}
	return n;
}

/* Field i of a JSON record: the value as text. */
static void json_field(struct rec_reader *r, size_t i, const json_t *v, size_t *fl)
{
	char tmp[64];
	const char *s = NULL;
	size_t n = 0;
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_NULL:
		r->foff[i] = SIZE_MAX;
		r->flen[i] = 0;
		return;
	case JSON_STRING:
		s = json_string_value(v);
		n = json_string_length(v);
		break;
	case JSON_INTEGER:
		n = (size_t)snprintf(tmp, sizeof tmp, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		s = tmp;
		break;
	case JSON_REAL:
		n = (size_t)real_text(json_real_value(v), tmp, sizeof tmp);
		s = tmp;
		break;
	case JSON_TRUE:
		s = "true", n = 4;
		break;
	case JSON_FALSE:
		s = "false", n = 5;
		break;
	case JSON_OBJECT:
	case JSON_ARRAY:
		n = json_dumpb(v, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
		fb_reserve(r, *fl + n + 1);
		json_dumpb(v, r->fb + *fl, n, JSON_COMPACT | JSON_ENCODE_ANY);
		break;
	}
	fb_reserve(r, *fl + n + 1);
	if (s)
		memcpy(r->fb + *fl, s, n);
	r->foff[i] = *fl;
	r->flen[i] = n;
	*fl += n;
	r->fb[(*fl)++] = '\0';
}

/* A record from one parsed JSON value (NULL after a syntax error, whose
 * message is in errbuf already). Takes the reference to v. */
static void json_record(struct rec_reader *r, struct record *rec, json_t *v, const unsigned char *raw,
			size_t raw_len, int64_t line)
{
	const char *error = v ? NULL : r->errbuf;
	int ecol = 0;
	size_t nf = 0, fl = 0;
	if (v && !json_is_object(v))
		set_error(r, &error, &ecol, 0, "expected a JSON object, got %s", json_kind(v));
	else if (v) {
		if (!r->cols_known) {
			size_t n = json_object_size(v), i = 0;
			const char **names = xcalloc(n ? n : 1, sizeof *names);
			const char *k;
			json_t *x;
			json_object_foreach(v, k, x)
				names[i++] = k;
			set_columns(r, names, NULL, n);
			free(names);
		}
		nf = r->n_cols;
		fields_reserve(r, nf);
		for (size_t i = 0; i < nf; i++) {
			const json_t *x = json_object_get(v, r->cols[i]);
			json_field(r, i, x, &fl);
			r->fq[i] = json_is_string(x);
			if (r->flen[i] > r->o.max_field)
				set_error(r, &error, &ecol, (int)i + 1, "field %zu is longer than %zu bytes", i + 1,
					  r->o.max_field);
		}
	}
	json_decref(v);
	record_fill(r, rec, nf, raw, raw_len, line, error, ecol);
}

static json_t *json_parse(struct rec_reader *r, const unsigned char *s, size_t n)
{
	json_error_t je;
	json_t *v = json_loadb((const char *)s, n, JSON_DECODE_ANY, &je);
	if (!v)
		snprintf(r->errbuf, sizeof r->errbuf, "invalid JSON at column %d: %s", je.column, je.text);
	return v;
}

static int jsonl_skip(struct rec_reader *r, struct err *err)
{
	for (;;) {
		const char *nlp = memchr(r->buf + r->pos, '\n', r->end - r->pos);
		if (nlp) {
			r->pos = (size_t)(nlp - r->buf) + 1;
			r->line++;
			r->skipping = false;
			return 0;
		}
		if (r->eof) {
			r->pos = r->end;
			r->skipping = false;
			return 0;
		}
		r->base += (int64_t)r->end;
		r->pos = r->end = 0;
		if (fill(r, err) < 0)
			return -1;
	}
}

static int jsonl_parse(struct rec_reader *r, struct record *rec, struct err *err)
{
	const unsigned char *b = (const unsigned char *)r->buf;
	const unsigned char *p = b + r->pos, *e = b + r->end;
	if (p == e)
		return r->eof ? P_EOF : P_NEED;
	const unsigned char *nlp = memchr(p, '\n', (size_t)(e - p));
	const unsigned char *le = nlp ? nlp : e;
	if (!nlp && !r->eof) {
		if ((size_t)(e - p) <= r->max_record)
			return P_NEED;
		snprintf(r->errbuf, sizeof r->errbuf, "line is longer than %zu bytes", r->max_record);
		int64_t line = r->line;
		r->pos = r->end;
		r->skipping = true;
		fields_reserve(r, 1);
		record_fill(r, rec, 0, p, (size_t)(e - p), line, r->errbuf, 0);
		return P_RECORD;
	}
	size_t len = (size_t)(le - p);
	if (len && p[len - 1] == '\r')
		len--;
	int64_t line = r->line;
	r->pos = nlp ? (size_t)(nlp + 1 - b) : r->end;
	r->line += nlp != NULL;
	size_t i = 0;
	while (i < len && is_ws(p[i]))
		i++;
	if (i == len)
		return P_AGAIN;
	json_record(r, rec, json_parse(r, p, len), p, len, line);
	return P_RECORD;
}

/* The end of the JSON value starting at p (strings and nesting followed,
 * not checked: json_loadb does that), or NULL if it runs past e. Counts the
 * newlines inside it. */
static const unsigned char *json_extent(const unsigned char *p, const unsigned char *e, int64_t *nl)
{
	size_t depth = 0;
	bool instr = false, esc = false;
	*nl = 0;
	for (const unsigned char *q = p; q < e; q++) {
		unsigned char c = *q;
		if (instr) {
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"') {
				instr = false;
				if (!depth)
					return q + 1;
			} else if (c == '\n')
				(*nl)++;
			continue;
		}
		if (!depth && q > p && (c == ',' || c == ']' || c == '}' || is_ws(c)))
			return q;
		if (c == '\n')
			(*nl)++;
		if (c == '"')
			instr = true;
		else if (c == '{' || c == '[')
			depth++;
		else if ((c == '}' || c == ']') && depth && !--depth)
			return q + 1;
	}
	return NULL;
}

/* The text from p to the end of its line, as the raw text of a record that
 * says what is wrong with the array around it. */
static int ja_error(struct rec_reader *r, struct record *rec, const unsigned char *p, const char *msg)
{
	const unsigned char *e = (const unsigned char *)r->buf + r->end;
	const unsigned char *nlp = memchr(p, '\n', (size_t)(e - p));
	snprintf(r->errbuf, sizeof r->errbuf, "%s", msg);
	fields_reserve(r, 1);
	record_fill(r, rec, 0, p, (size_t)((nlp ? nlp : e) - p), r->line, r->errbuf, 0);
	r->ja = JA_DONE + 1; /* nothing more is read */
	return P_RECORD;
}

static int ja_parse(struct rec_reader *r, struct record *rec, struct err *err)
{
	if (r->ja > JA_DONE)
		return P_EOF;
	for (;;) {
		const unsigned char *b = (const unsigned char *)r->buf;
		const unsigned char *p = b + r->pos, *e = b + r->end;
		while (p < e && is_ws(*p))
			r->line += *p++ == '\n';
		r->pos = (size_t)(p - b);
		if (p == e) {
			if (!r->eof)
				return P_NEED;
			if (r->ja == JA_ITEM || r->ja == JA_AFTER)
				return ja_error(r, rec, p, "unterminated JSON array");
			return P_EOF;
		}
		switch (r->ja) {
		case JA_START:
			if (*p == '[') {
				r->pos++;
				r->ja = JA_ITEM;
			} else if (*p == '{')
				r->ja = JA_SEQ; /* objects one after another, as in JSON Lines */
			else
				return err_set(err, "%s:%lld: expected a JSON array of objects", r->path,
					       (long long)r->line);
			continue;
		case JA_AFTER:
			if (*p == ',')
				r->ja = JA_ITEM;
			else if (*p == ']')
				r->ja = JA_DONE;
			else
				return ja_error(r, rec, p, "expected ',' or ']' after an array element");
			r->pos++;
			continue;
		case JA_DONE:
			return ja_error(r, rec, p, "text after the end of the JSON array");
		}
		if (r->ja == JA_ITEM && *p == ']') {
			r->pos++;
			r->ja = JA_DONE;
			continue;
		}
		int64_t nl;
		const unsigned char *q = json_extent(p, e, &nl);
		if (!q && !r->eof) {
			if ((size_t)(e - p) > r->max_record)
				return err_set(err, "%s:%lld: JSON value longer than %zu bytes", r->path,
					       (long long)r->line, r->max_record);
			return P_NEED;
		}
		bool cut = !q; /* the input ends inside this value */
		if (cut)
			q = e;
		int64_t line = r->line;
		r->line += nl;
		r->pos = (size_t)(q - b);
		if (cut)
			r->ja = JA_DONE + 1;
		else if (r->ja == JA_ITEM)
			r->ja = JA_AFTER;
		json_record(r, rec, json_parse(r, p, (size_t)(q - p)), p, (size_t)(q - p), line);
		return P_RECORD;
	}
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

static enum rec_format format_of(const char *path)
{
	const char *s = base_name(path);
	size_t n = strlen(s);
	if (ends_with(s, n, ".gz"))
		n -= 3;
	if (ends_with(s, n, ".jsonl") || ends_with(s, n, ".ndjson"))
		return REC_JSONL;
	if (ends_with(s, n, ".json"))
		return REC_JSON_ARRAY;
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
	if (!strcmp(path, "-"))
		r->fd = 0;
	else {
		r->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (r->fd < 0) {
			rec_close(r);
			return err_setc(err, errno == ENOENT ? ERR_NOTFOUND : ERR_FAIL, "%s: %s", path, strerror(errno));
		}
		r->own_fd = true;
	}
	struct stat st;
	r->in_size = fstat(r->fd, &st) == 0 && S_ISREG(st.st_mode) ? (int64_t)st.st_size : -1;

	/* sniff the first bytes for gzip's magic, keeping them for the reader */
	r->zbuf = xmalloc(ZBUF);
	while (r->zlen < 2 && !r->in_eof) {
		ssize_t k = read_fd(r, r->zbuf + r->zlen, ZBUF - r->zlen, err);
		if (k < 0) {
			rec_close(r);
			return -1;
		}
		r->zlen += (size_t)k;
	}
	bool magic = r->zlen >= 2 && r->zbuf[0] == 0x1f && r->zbuf[1] == 0x8b;
	size_t pn = strlen(path);
	r->gz = o->gzip == 1 || (o->gzip < 0 && (magic || ends_with(path, pn, ".gz")));
	if (r->gz) {
		if (inflateInit2(&r->zs, 16 + MAX_WBITS) != Z_OK) {
			rec_close(r);
			return err_set(err, "%s: cannot start gzip decompression", path);
		}
		r->zs_live = true;
		r->zs.next_in = r->zbuf;
		r->zs.avail_in = (uInt)r->zlen;
	}

	r->cap = READ_BUF;
	r->buf = xmalloc(r->cap + 1);
	r->line = 1;
	r->delim = (unsigned char)o->delimiter;
	r->quote = (unsigned char)o->quote;
	csv_tables(r);
	if (o->n_columns && (r->o.format != REC_CSV || !o->header)) {
		set_columns(r, o->columns, NULL, o->n_columns);
		r->expected = o->n_columns;
	}
	r->max_record = record_limit(r, r->expected);
	*out = r;
	return 0;
}

int rec_next(struct rec_reader *r, struct record *rec, struct err *err)
{
	memset(rec, 0, sizeof *rec);
	for (;;) {
		if (!r->started) {
			if (r->end - r->pos < 3 && !r->eof) {
				if (fill(r, err) < 0)
					return -1;
				continue;
			}
			if (r->end - r->pos >= 3 && !memcmp(r->buf + r->pos, "\xEF\xBB\xBF", 3))
				r->pos += 3;
			r->started = true;
		}
		if (r->skipping &&
		    (r->o.format == REC_CSV ? csv_skip(r, err) : jsonl_skip(r, err)) < 0)
			return -1;
		int rc;
		switch (r->o.format) {
		case REC_JSONL: rc = jsonl_parse(r, rec, err); break;
		case REC_JSON_ARRAY: rc = ja_parse(r, rec, err); break;
		default: rc = csv_parse(r, rec, err); break;
		}
		if (rc == P_NEED) {
			if (fill(r, err) < 0)
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
	if (r->own_fd)
		close(r->fd);
	if (r->zs_live)
		inflateEnd(&r->zs);
	for (size_t i = 0; i < r->n_cols; i++)
		free(r->cols[i]);
	free(r->cols);
	free(r->zbuf);
	free(r->lat);
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
