/* COPY in PostgreSQL's binary format: the contract has already parsed and
 * cleaned every value into its text input form, so the server need not
 * parse it again. Each value is written as the type's receive function
 * reads it, giving the row the server would have made of the text: int2/4/8
 * big-endian, numeric as base-10000 digits with weight, sign and display
 * scale (numeric_in's own digit grouping), date as days and timestamps as
 * microseconds since 2000-01-01, uuid as 16 bytes, bool one byte, jsonb with
 * its version byte; text types as their bytes (typmods, encodings and JSON
 * syntax are still checked by the server). A load whose column pairs
 * (contract type, target type) are not all in the table below is sent as
 * text instead, said once in its log. */
#include "core/load/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/date.h"
#include "base/util.h"

/* Days from 1970-01-01 to PostgreSQL's epoch, 2000-01-01. */
#define PG_EPOCH_DAYS 10957
#define USECS_PER_DAY 86400000000LL

static const char header[19] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";

const char *load_bin_header(size_t *len)
{
	*len = sizeof header;
	return header;
}

/* ---- which columns can go binary ----------------------------------------- */

/* A target type's name without its typmod: "numeric(12,2)" -> "numeric",
 * "timestamp(3) with time zone" -> "timestamp with time zone". */
static void type_base(const char *t, char *out, size_t size)
{
	size_t k = 0;
	int depth = 0;
	for (; *t && k + 1 < size; t++) {
		if (*t == '(')
			depth++;
		else if (*t == ')')
			depth--;
		else if (!depth)
			out[k++] = *t;
	}
	out[k] = '\0';
}

static const struct {
	const char *name;
	int enc;           /* for the contract types it takes, -1 = none */
	unsigned takes;    /* bit (1 << col_type) per contract type taken */
} targets[] = {
#define T(t) (1u << (t))
	{"text", BIN_TEXT, ~0u},
	{"character varying", BIN_TEXT, ~0u},
	{"varchar", BIN_TEXT, ~0u},
	{"character", BIN_TEXT, ~0u},
	{"json", BIN_TEXT, T(COL_TEXT)},
	{"jsonb", BIN_JSONB, T(COL_TEXT)},
	{"smallint", BIN_INT2, T(COL_INT) | T(COL_BIGINT)},
	{"integer", BIN_INT4, T(COL_INT) | T(COL_BIGINT)},
	{"bigint", BIN_INT8, T(COL_INT) | T(COL_BIGINT)},
	{"numeric", BIN_NUMERIC, T(COL_INT) | T(COL_BIGINT) | T(COL_NUMERIC)},
	{"boolean", BIN_BOOL, T(COL_BOOL)},
	{"date", BIN_DATE, T(COL_DATE)},
	{"timestamp", BIN_TIMESTAMP, T(COL_TIMESTAMP)},
	{"timestamp without time zone", BIN_TIMESTAMP, T(COL_TIMESTAMP)},
	{"timestamptz", BIN_TIMESTAMP, T(COL_TIMESTAMPTZ)},
	{"timestamp with time zone", BIN_TIMESTAMP, T(COL_TIMESTAMPTZ)},
	{"uuid", BIN_UUID, T(COL_UUID)},
#undef T
};

int load_bin_plan(struct load *L, char *why, size_t why_size)
{
	why[0] = '\0';
	if (!L->ct) {
		snprintf(why, why_size, "no contract: the server parses the values");
		return -1;
	}
	if (getenv("SLUICE_LOAD_TEXT") && *getenv("SLUICE_LOAD_TEXT")) {
		snprintf(why, why_size, "SLUICE_LOAD_TEXT is set");
		return -1;
	}
	L->enc = xcalloc(L->n_cols + 1, sizeof *L->enc);
	for (size_t i = 0; i < L->n_cols; i++) {
		char base[96];
		type_base(L->types[i], base, sizeof base);
		enum col_type ct = L->ct->cols[i].type;
		int enc = -1;
		for (size_t k = 0; k < sizeof targets / sizeof targets[0] && enc < 0; k++)
			if (!strcmp(base, targets[k].name) && (targets[k].takes & (1u << ct)))
				enc = targets[k].enc;
		if (enc < 0) {
			snprintf(why, why_size, "column '%s': contract type %s into %s has no binary form here", L->cols[i],
				 contract_type_name(ct), L->types[i]);
			free(L->enc);
			L->enc = NULL;
			return -1;
		}
		L->enc[i] = (unsigned char)enc;
	}
	return 0;
}

/* ---- writing values ---------------------------------------------------------- */

static inline char *be16(char *w, unsigned v)
{
	w[0] = (char)(v >> 8);
	w[1] = (char)v;
	return w + 2;
}

static inline char *be32(char *w, uint32_t v)
{
	w[0] = (char)(v >> 24);
	w[1] = (char)(v >> 16);
	w[2] = (char)(v >> 8);
	w[3] = (char)v;
	return w + 4;
}

static inline char *be64(char *w, uint64_t v)
{
	be32(w, (uint32_t)(v >> 32));
	return be32(w + 4, (uint32_t)v);
}

char *load_bin_int8(char *w, int64_t v)
{
	w = be32(w, 8);
	return be64(w, (uint64_t)v);
}

static int out_of_range(char *reason, size_t rsize, const char *s, size_t n, const char *type)
{
	/* as the server says it of the same text */
	snprintf(reason, rsize, "value \"%.*s\" is out of range for type %s", (int)(n > 64 ? 64 : n), s, type);
	return -1;
}

/* numeric: [+-] digits [. digits] [e [+-] digits], grouped into base-10000
 * digits exactly as numeric_in's set_var_from_str and strip_var do. */
static int put_numeric(char **wp, const char *s, size_t n, char *reason, size_t rsize)
{
	size_t i = 0;
	bool neg = false;
	if (i < n && (s[i] == '+' || s[i] == '-'))
		neg = s[i++] == '-';
	const char *ip = s + i, *fp = s + i;
	long ni = 0, nf = 0;
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++, ni++;
	if (i < n && s[i] == '.') {
		fp = s + ++i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++, nf++;
	}
	long ex = 0;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		bool eneg = false;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			eneg = s[i++] == '-';
		for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			if ((ex = ex * 10 + (s[i] - '0')) > 100000000)
				goto overflow;
		if (eneg)
			ex = -ex;
	}
	if (i != n || (!ni && !nf)) {
		snprintf(reason, rsize, "invalid input syntax for type numeric: \"%.*s\"", (int)(n > 64 ? 64 : n), s);
		return -1;
	}
	long ddigits = ni + nf;
	long dweight = ni - 1 + ex;
	long dscale = nf - ex;
	if (dscale < 0)
		dscale = 0;
	long weight = dweight >= 0 ? (dweight + 1 + 3) / 4 - 1 : -((-dweight - 1) / 4 + 1);
	long offset = (weight + 1) * 4 - (dweight + 1);
	long ndigits = (ddigits + offset + 3) / 4;
	/* the base-10000 digits straight after the header; the leading and
	 * trailing zero ones are dropped after */
	char *w = *wp, *dg = w + 12, *o = dg;
	/* the decimal digits behind offset zeros and before 3 more, so each
	 * group is 4 of them in a row */
	unsigned char small[256], *pd = (size_t)ddigits + 8 <= sizeof small ? small : xmalloc((size_t)ddigits + 8);
	memset(pd, 0, (size_t)offset);
	for (long k = 0; k < ni; k++)
		pd[offset + k] = (unsigned char)(ip[k] - '0');
	for (long k = 0; k < nf; k++)
		pd[offset + ni + k] = (unsigned char)(fp[k] - '0');
	memset(pd + offset + ddigits, 0, 4);
	for (long g = 0; g < ndigits; g++) {
		const unsigned char *q = pd + 4 * g;
		o = be16(o, (unsigned)(q[0] * 1000 + q[1] * 100 + q[2] * 10 + q[3]));
	}
	if (pd != small)
		free(pd);
	char *lo = dg, *hi = o;
	while (lo < hi && !lo[0] && !lo[1])
		lo += 2, weight--;
	while (hi > lo && !hi[-1] && !hi[-2])
		hi -= 2;
	if (lo == hi) {
		weight = 0;
		neg = false;
	}
	if (weight > 32767 || weight < -32768 || dscale > 0x3FFF)
		goto overflow;
	size_t nd = (size_t)(hi - lo) / 2;
	if (lo != dg)
		memmove(dg, lo, (size_t)(hi - lo));
	w = be32(w, (uint32_t)(8 + 2 * nd));
	w = be16(w, (unsigned)nd);
	w = be16(w, (unsigned)(uint16_t)(int16_t)weight);
	w = be16(w, neg ? 0x4000 : 0);
	w = be16(w, (unsigned)dscale);
	*wp = w + 2 * nd;
	return 0;
overflow:
	snprintf(reason, rsize, "value overflows numeric format");
	return -1;
}

static int digits_at(const char *s, size_t n, size_t at, int count)
{
	int v = 0;
	for (int k = 0; k < count; k++) {
		if (at + (size_t)k >= n || s[at + k] < '0' || s[at + k] > '9')
			return -1;
		v = v * 10 + (s[at + k] - '0');
	}
	return v;
}

/* The contract's date and timestamp form: YYYY-MM-DD[ HH:MM:SS[.ffffff][+00]]
 * (a timestamptz already in UTC). Microseconds since 2000-01-01, or days
 * for a date. */
static int put_when(char **wp, enum bin_enc e, const char *s, size_t n, char *reason, size_t rsize)
{
	int y = digits_at(s, n, 0, 4), mo = digits_at(s, n, 5, 2), d = digits_at(s, n, 8, 2);
	int h = 0, mi = 0, sec = 0, us = 0;
	size_t i = 10;
	bool ok = y >= 0 && mo >= 1 && mo <= 12 && d >= 1 && n >= 10 && s[4] == '-' && s[7] == '-';
	if (ok && e == BIN_TIMESTAMP) {
		h = digits_at(s, n, 11, 2), mi = digits_at(s, n, 14, 2), sec = digits_at(s, n, 17, 2);
		ok = n >= 19 && s[10] == ' ' && s[13] == ':' && s[16] == ':' && h >= 0 && mi >= 0 && sec >= 0;
		i = 19;
		if (ok && i < n && s[i] == '.') {
			ok = (us = digits_at(s, n, i + 1, 6)) >= 0;
			i += 7;
		}
		if (ok && i + 3 == n && !memcmp(s + i, "+00", 3))
			i = n;
	}
	if (!ok || i != n) {
		snprintf(reason, rsize, "invalid input syntax for type %s: \"%.*s\"", e == BIN_DATE ? "date" : "timestamp",
			 (int)(n > 64 ? 64 : n), s);
		return -1;
	}
	if (y < 1 || d > date_days_in_month(y, mo)) {
		/* year 0 (a time moved to UTC out of year 1, or out of 9999): what
		 * the server says of it */
		snprintf(reason, rsize, "date/time field value out of range: \"%.*s\"", (int)(n > 64 ? 64 : n), s);
		return -1;
	}
	int64_t days = date_days_from_civil(y, mo, d) - PG_EPOCH_DAYS;
	char *w = *wp;
	if (e == BIN_DATE) {
		w = be32(w, 4);
		w = be32(w, (uint32_t)(int32_t)days);
	} else {
		int64_t t = days * USECS_PER_DAY + ((int64_t)h * 3600 + mi * 60 + sec) * 1000000LL + us;
		w = be32(w, 8);
		w = be64(w, (uint64_t)t);
	}
	*wp = w;
	return 0;
}

static int put_uuid(char **wp, const char *s, size_t n, char *reason, size_t rsize)
{
	char *w = *wp;
	char *o = w + 4;
	int k = 0;
	for (size_t i = 0; i < n && k < 32; i++) {
		if (s[i] == '-')
			continue;
		int v = hex_value((unsigned char)s[i]);
		if (v < 0)
			break;
		if (k & 1)
			o[k / 2] = (char)(o[k / 2] | v);
		else
			o[k / 2] = (char)(v << 4);
		k++;
	}
	if (k != 32 || n != 36) {
		snprintf(reason, rsize, "invalid input syntax for type uuid: \"%.*s\"", (int)(n > 64 ? 64 : n), s);
		return -1;
	}
	be32(w, 16);
	*wp = w + 20;
	return 0;
}

/* Text as the COPY text path sends it: NUL bytes dropped (text cannot hold
 * them). */
static char *put_text(char *w, const char *s, size_t n, bool jsonb)
{
	char *len = w;
	w += 4;
	if (jsonb)
		*w++ = 1; /* jsonb's version */
	const char *end = s + n, *z;
	while ((z = memchr(s, '\0', (size_t)(end - s)))) {
		memcpy(w, s, (size_t)(z - s));
		w += z - s;
		s = z + 1;
	}
	memcpy(w, s, (size_t)(end - s));
	w += end - s;
	be32(len, (uint32_t)(w - len - 4));
	return w;
}

int load_bin_put(char **wp, enum bin_enc e, const char *v, size_t n, char *reason, size_t rsize)
{
	char *w = *wp;
	if (!v) {
		*wp = be32(w, 0xFFFFFFFFu);
		return 0;
	}
	int64_t x;
	switch (e) {
	case BIN_TEXT:
	case BIN_JSONB:
		*wp = put_text(w, v, n, e == BIN_JSONB);
		return 0;
	case BIN_BOOL:
		w = be32(w, 1);
		*w++ = (char)(v[0] == 't');
		*wp = w;
		return 0;
	case BIN_INT2:
	case BIN_INT4:
	case BIN_INT8:
		if (contract_int_parse(v, n, &x) < 0)
			return out_of_range(reason, rsize, v, n, e == BIN_INT8 ? "bigint" : e == BIN_INT4 ? "integer" : "smallint");
		if (e == BIN_INT2) {
			if (x < INT16_MIN || x > INT16_MAX)
				return out_of_range(reason, rsize, v, n, "smallint");
			w = be32(w, 2);
			*wp = be16(w, (unsigned)(uint16_t)x);
		} else if (e == BIN_INT4) {
			if (x < INT32_MIN || x > INT32_MAX)
				return out_of_range(reason, rsize, v, n, "integer");
			w = be32(w, 4);
			*wp = be32(w, (uint32_t)x);
		} else {
			*wp = load_bin_int8(w, x);
		}
		return 0;
	case BIN_NUMERIC:
		return put_numeric(wp, v, n, reason, rsize);
	case BIN_DATE:
	case BIN_TIMESTAMP:
		return put_when(wp, e, v, n, reason, rsize);
	case BIN_UUID:
		return put_uuid(wp, v, n, reason, rsize);
	}
	snprintf(reason, rsize, "no binary form");
	return -1;
}
