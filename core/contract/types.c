/* The column types of a contract: one row each (how it is spelled, its SQL
 * type, how a value is checked and written in PostgreSQL's input form). */
#include "core/contract/internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "base/util.h"

/* ---- numbers -------------------------------------------------------------- */

int contract_int_parse(const char *s, size_t n, int64_t *out)
{
	size_t i = 0;
	bool neg = false;
	if (i < n && (s[i] == '+' || s[i] == '-'))
		neg = s[i++] == '-';
	if (i == n)
		return -1;
	size_t st = i;
	uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < n; i++) {
		unsigned dgt = (unsigned)(s[i] - '0');
		if (dgt > 9)
			return -1;
		/* up to 18 digits cannot overflow: no division for them */
		if (i - st >= 18 && v > (lim - dgt) / 10)
			return -2;
		v = v * 10 + dgt;
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

/* Checks a decimal number's syntax: [+-] digits [. digits] [e [+-] digits]
 * (digits on at least one side of the point). */
static bool decimal_syntax(const char *s, size_t n)
{
	size_t i = 0, d1 = 0, d2 = 0;
	if (i < n && (s[i] == '+' || s[i] == '-'))
		i++;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		d1++;
	if (i < n && s[i] == '.')
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			d2++;
	if (!d1 && !d2)
		return false;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		size_t d3 = 0;
		for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			d3++;
		if (!d3)
			return false;
	}
	return i == n;
}

/* A decimal (syntax already checked) rounded to scale digits after the
 * point, half away from zero as PostgreSQL rounds. Returns the number of
 * integer digits, or -1 when the exponent is absurd; writes the value to out
 * (room for max_intd + scale + 4 bytes) only when that is at most max_intd.
 * tmp has room for n + 2 digits. */
static int decimal_round(const char *s, size_t n, int scale, int max_intd, char *out, char *tmp)
{
	size_t i = 0, nd = 0;
	bool neg = false;
	long point = 0, ex = 0;
	if (s[i] == '+' || s[i] == '-')
		neg = s[i++] == '-';
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		if (nd || s[i] != '0')
			tmp[nd++] = s[i], point++;
	if (i < n && s[i] == '.')
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
			if (nd || s[i] != '0')
				tmp[nd++] = s[i];
			else
				point--;
		}
	if (i < n) {
		i++;
		bool eneg = false;
		if (s[i] == '+' || s[i] == '-')
			eneg = s[i++] == '-';
		for (; i < n; i++) {
			ex = ex * 10 + (s[i] - '0');
			if (ex > 100000)
				return -1;
		}
		if (eneg)
			ex = -ex;
	}
	point += ex; /* the value is 0.tmp[0..nd) * 10^point */
	long keep = point + scale;
	if (keep < 0)
		nd = 0;
	else if ((size_t)keep < nd) {
		bool up = tmp[keep] >= '5';
		nd = (size_t)keep;
		if (up) {
			long k = (long)nd - 1;
			while (k >= 0 && tmp[k] == '9')
				tmp[k--] = '0';
			if (k >= 0)
				tmp[k]++;
			else {
				memmove(tmp + 1, tmp, nd);
				tmp[0] = '1';
				nd++;
				point++;
			}
		}
	}
	while (nd && tmp[nd - 1] == '0' && (long)nd > point)
		nd--;
	if (point > 100000)
		return -1;
	bool zero = true;
	for (size_t k = 0; k < nd; k++)
		if (tmp[k] != '0')
			zero = false;
	long intd = zero ? 0 : point > 0 ? point : 0;
	if (intd > max_intd)
		return (int)intd;
	char *o = out;
	if (neg && !zero)
		*o++ = '-';
	if (!intd)
		*o++ = '0';
	for (long k = 0; k < intd; k++)
		*o++ = (size_t)k < nd ? tmp[k] : '0';
	if (scale > 0) {
		*o++ = '.';
		for (long k = 0; k < scale; k++) {
			long pos = point + k; /* index into tmp of this fraction digit */
			*o++ = pos >= 0 && (size_t)pos < nd ? tmp[pos] : '0';
		}
	}
	*o = '\0';
	return (int)intd;
}

const char *col_type_text(const struct contract_col *c, const char *base, char *buf, size_t size)
{
	if (!c->precision)
		return base;
	snprintf(buf, size, "%s(%d,%d)", base, c->precision, c->scale);
	return buf;
}

/* ---- the checks, one per type --------------------------------------------- */

/* min and max of a number column, against the value as given. */
static int number_bounds(const struct contract_col *c, double num, const struct col_value *x, char *reason,
			 size_t rsize)
{
	if (c->has_min && num < c->min)
		return col_fail(reason, rsize, c, x->orig, x->orig_n, "is less than the minimum %.15g", c->min);
	if (c->has_max && num > c->max)
		return col_fail(reason, rsize, c, x->orig, x->orig_n, "is greater than the maximum %.15g", c->max);
	return 0;
}

static int check_text(const struct contract_col *c, struct contract_scratch *s, struct col_value *x, char *reason,
		      size_t rsize)
{
	(void)s;
	if (!c->max_length)
		return 0;
	size_t chars = 0;
	for (size_t i = 0; i < x->n; i++)
		chars += ((unsigned char)x->v[i] & 0xC0) != 0x80;
	if (chars > (size_t)c->max_length)
		return col_fail(reason, rsize, c, x->v, x->n, "is longer than %d characters", c->max_length);
	return 0;
}

/* An integer within [lo, hi]; number words when the column allows them. */
static int check_integer(const struct contract_col *c, struct contract_scratch *s, struct col_value *x, char *reason,
			 size_t rsize, int64_t lo, int64_t hi)
{
	int64_t v;
	int rc = contract_int_parse(x->v, x->n, &v);
	long long w;
	if (rc == -1 && c->number_words && words_parse(x->v, x->n, &w) == 0) {
		v = w;
		char *o = sc_take(s, 24);
		snprintf(o, 24, "%lld", w);
		x->val = o;
		rc = 0;
	}
	if (rc == -1)
		return col_fail(reason, rsize, c, x->v, x->n, "is not an integer");
	if (rc == -2 || v < lo || v > hi)
		return col_fail(reason, rsize, c, x->v, x->n, "is out of range for %s", col_type_of(c)->word);
	return number_bounds(c, (double)v, x, reason, rsize);
}

static int check_int(const struct contract_col *c, struct contract_scratch *s, struct col_value *x, char *reason,
		     size_t rsize)
{
	return check_integer(c, s, x, reason, rsize, INT32_MIN, INT32_MAX);
}

static int check_bigint(const struct contract_col *c, struct contract_scratch *s, struct col_value *x, char *reason,
			size_t rsize)
{
	return check_integer(c, s, x, reason, rsize, INT64_MIN, INT64_MAX);
}

/* numeric(p,s) is rounded to s places and refused with more than p-s
 * integer digits. */
static int check_numeric(const struct contract_col *c, struct contract_scratch *s, struct col_value *x, char *reason,
			 size_t rsize)
{
	const char *v = x->v;
	size_t n = x->n;
	long long w;
	bool ok = decimal_syntax(v, n);
	char wb[24];
	if (!ok && c->number_words && words_parse(v, n, &w) == 0) {
		int k = snprintf(wb, sizeof wb, "%lld", w);
		v = wb, n = (size_t)k, x->val = NULL;
		ok = true;
	}
	if (!ok)
		return col_fail(reason, rsize, c, x->orig, x->orig_n, "is not a number");
	if (c->precision) {
		char *o = sc_take(s, (size_t)c->precision + 8);
		char *tmp = sc_take(s, n + 2);
		int intd = decimal_round(v, n, c->scale, c->precision - c->scale, o, tmp);
		if (intd < 0 || intd > c->precision - c->scale) {
			char tb[32];
			return col_fail(reason, rsize, c, x->orig, x->orig_n, "is out of range for %s",
					col_type_text(c, col_type_of(c)->word, tb, sizeof tb));
		}
		x->val = o;
	} else if (!x->val)
		x->val = sc_copy(s, v, n);
	if (!c->has_min && !c->has_max)
		return 0;
	return number_bounds(c, strtod(x->val, NULL), x, reason, rsize);
}

static int check_bool(const struct contract_col *c, struct contract_scratch *s, struct col_value *x, char *reason,
		      size_t rsize)
{
	(void)s;
	static const char *const yes[] = {"true", "t", "yes", "y", "1", "on"};
	static const char *const no[] = {"false", "f", "no", "n", "0", "off"};
	x->val = NULL;
	for (size_t i = 0; i < N_OF(yes) && !x->val; i++) {
		if (strlen(yes[i]) == x->n && !strncasecmp(yes[i], x->v, x->n))
			x->val = "t";
		else if (strlen(no[i]) == x->n && !strncasecmp(no[i], x->v, x->n))
			x->val = "f";
	}
	if (!x->val)
		return col_fail(reason, rsize, c, x->v, x->n, "is not a boolean (true/false, yes/no, t/f, 1/0)");
	return 0;
}

/* date, timestamp, timestamptz: ISO 8601 or the column's formats, written
 * ISO (timestamptz in UTC); min and max compare dates. */
static int check_when(const struct contract_col *c, struct contract_scratch *s, struct col_value *x, char *reason,
		      size_t rsize)
{
	const struct col_priv *p = c->priv;
	struct when w;
	int rc = -1;
	if (c->n_date_formats) {
		const char *z = x->val ? x->val : sc_copy(s, x->v, x->n);
		for (size_t i = 0; i < c->n_date_formats && rc < 0; i++)
			rc = when_fmt_parse(p, i, z, &w);
	} else
		rc = when_iso_parse(x->v, x->n, c->type == COL_DATE, &w);
	if (rc < 0) {
		const char *what = c->type == COL_DATE ? "date" : "timestamp";
		const char *ex = p->expect ? p->expect
			: c->type == COL_DATE ? "YYYY-MM-DD" : "ISO 8601, e.g. 2021-03-01 12:00:00";
		return col_fail(reason, rsize, c, x->v, x->n, "is not a valid %s (expected %s)", what, ex);
	}
	double num = 0;
	if (c->has_min || c->has_max)
		num = when_key(&w, c->type);
	if (c->type == COL_TIMESTAMPTZ)
		when_to_utc(&w);
	x->val = when_text(&w, c->type, sc_take(s, 48));
	if (c->has_min && num < c->min)
		return col_fail(reason, rsize, c, x->v, x->n, "is before the minimum %s", p->min_text);
	if (c->has_max && num > c->max)
		return col_fail(reason, rsize, c, x->v, x->n, "is after the maximum %s", p->max_text);
	return 0;
}

/* 32 hex digits, with or without the dashes and braces, written lower-case
 * with dashes. */
static int check_uuid(const struct contract_col *c, struct contract_scratch *s, struct col_value *x, char *reason,
		      size_t rsize)
{
	static const char hex[] = "0123456789abcdef";
	const char *v = x->v;
	size_t n = x->n, i = 0, e = n, nh = 0;
	if (n >= 2 && v[0] == '{' && v[n - 1] == '}')
		i = 1, e = n - 1;
	size_t len = e - i;
	char *o = sc_take(s, 37);
	bool ok = len == 32 || len == 36;
	for (size_t k = i; ok && k < e; k++) {
		size_t at = k - i;
		if (len == 36 && (at == 8 || at == 13 || at == 18 || at == 23)) {
			ok = v[k] == '-';
			continue;
		}
		int h = hex_value((unsigned char)v[k]);
		if (h < 0) {
			ok = false;
			break;
		}
		o[nh + (nh >= 8) + (nh >= 12) + (nh >= 16) + (nh >= 20)] = hex[h];
		nh++;
	}
	if (!ok)
		return col_fail(reason, rsize, c, v, n, "is not a valid UUID");
	o[8] = o[13] = o[18] = o[23] = '-';
	o[36] = '\0';
	x->val = o;
	return 0;
}

/* ---- the table ------------------------------------------------------------ */

#define SPELLINGS(...) ((const struct col_spelling[]){__VA_ARGS__, {NULL, 0, false}})

const struct col_type_def col_types[COL_N_TYPES] = {
	[COL_INT] = {"int", SPELLINGS({"int", 0, false}, {"integer", 0, false}, {"int4", 0, true}), "int",
		     "integer", .number = true, .check = check_int},
	[COL_BIGINT] = {"bigint", SPELLINGS({"bigint", 0, false}, {"int8", 0, true}), "bigint", "bigint",
			.number = true, .check = check_bigint},
	[COL_NUMERIC] = {"numeric(p,s)", SPELLINGS({"numeric", 2, false}, {"decimal", 2, false}), "numeric", "numeric",
			 .number = true, .check = check_numeric},
	[COL_TEXT] = {"text", SPELLINGS({"text", 0, false}, {"varchar", 1, false}), "text", "text", .keeps_space = true,
		      .check = check_text},
	[COL_BOOL] = {"bool", SPELLINGS({"bool", 0, false}, {"boolean", 0, false}), "bool", "boolean",
		      .check = check_bool},
	[COL_DATE] = {"date", SPELLINGS({"date", 0, false}), "date", "date", .date = true, .check = check_when},
	[COL_TIMESTAMP] = {"timestamp", SPELLINGS({"timestamp", 0, false}), "timestamp", "timestamp", .date = true,
			   .check = check_when},
	[COL_TIMESTAMPTZ] = {"timestamptz", SPELLINGS({"timestamptz", 0, false}), "timestamptz", "timestamptz",
			     .date = true, .check = check_when},
	[COL_UUID] = {"uuid", SPELLINGS({"uuid", 0, false}), "uuid", "uuid", .check = check_uuid},
};

int col_type_parse(const char *s, struct contract_col *c)
{
	char name[32];
	size_t n = 0;
	while (*s == ' ')
		s++;
	while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')) {
		if (n + 1 >= sizeof name)
			return -1;
		name[n++] = (char)(*s >= 'A' && *s <= 'Z' ? *s + 32 : *s);
		s++;
	}
	name[n] = '\0';
	while (*s == ' ')
		s++;
	int a = 0, b = 0, nargs = 0;
	if (*s == '(') {
		char *end;
		long x = strtol(s + 1, &end, 10);
		if (end == s + 1 || x < 1 || x > 1000)
			return -2;
		a = (int)x, nargs = 1, s = end;
		while (*s == ' ')
			s++;
		if (*s == ',') {
			x = strtol(s + 1, &end, 10);
			if (end == s + 1 || x < 0 || x > a)
				return -2;
			b = (int)x, nargs = 2, s = end;
			while (*s == ' ')
				s++;
		}
		if (*s != ')')
			return -2;
		s++;
		while (*s == ' ')
			s++;
	}
	if (*s)
		return -1;
	for (int t = 0; t < COL_N_TYPES; t++)
		for (const struct col_spelling *sp = col_types[t].spellings; sp->word; sp++) {
			if (strcmp(name, sp->word))
				continue;
			if (nargs > sp->args)
				return -2;
			c->type = (enum col_type)t;
			/* two arguments are a precision and a scale, one a length */
			if (sp->args == 2)
				c->precision = a, c->scale = b;
			else if (nargs)
				c->max_length = a;
			return 0;
		}
	return -1;
}

size_t col_type_words(const char **out, size_t max)
{
	size_t n = 0;
	for (int t = 0; t < COL_N_TYPES; t++)
		for (const struct col_spelling *sp = col_types[t].spellings; sp->word; sp++)
			if (!sp->hidden && n < max)
				out[n++] = sp->word;
	return n;
}

void col_type_expected(char *buf, size_t size)
{
	size_t k = 0;
	buf[0] = '\0';
	for (int t = 0; t < COL_N_TYPES && k < size; t++) {
		int w = snprintf(buf + k, size - k, "%s%s", t ? ", " : "", col_types[t].shown);
		k += w > 0 ? (size_t)w : 0;
	}
}
