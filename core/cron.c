/* Cron schedules: a parser that points at the bad token, and a next-time
 * search that skips whole months, days and hours at a time (UTC). */
#include "core/cron.h"

#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/date.h"
#include "base/util.h"

struct field_spec {
	const char *name;      /* for messages */
	int min, max;          /* accepted numbers */
	int top;               /* last value of '*' and of "a/n" (dow: 6, 7 is an alias) */
	const char *const *names; /* 3-letter names for min.., or NULL */
	const char *names_hint; /* "JAN-DEC" */
};

static const char *const month_names[] = { "JAN", "FEB", "MAR", "APR", "MAY", "JUN",
					    "JUL", "AUG", "SEP", "OCT", "NOV", "DEC" };
static const char *const dow_names[] = { "SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT" };

enum { F_MINUTE, F_HOUR, F_DOM, F_MONTH, F_DOW, N_FIELDS };

static const struct field_spec fields[N_FIELDS] = {
	[F_MINUTE] = { .name = "minute", .min = 0, .max = 59, .top = 59 },
	[F_HOUR] = { .name = "hour", .min = 0, .max = 23, .top = 23 },
	[F_DOM] = { .name = "day-of-month", .min = 1, .max = 31, .top = 31 },
	[F_MONTH] = { .name = "month", .min = 1, .max = 12, .top = 12,
		      .names = month_names, .names_hint = "JAN-DEC" },
	[F_DOW] = { .name = "day-of-week", .min = 0, .max = 7, .top = 6,
		    .names = dow_names, .names_hint = "SUN-SAT" },
};

static const struct {
	const char *name;
	const char *expr;
} macros[] = {
	{ "@yearly", "0 0 1 1 *" },  { "@annually", "0 0 1 1 *" }, { "@monthly", "0 0 1 * *" },
	{ "@weekly", "0 0 * * 0" },  { "@daily", "0 0 * * *" },    { "@midnight", "0 0 * * *" },
	{ "@hourly", "0 * * * *" },
};

/* Where errors go: err plus the column of the offending token. */
struct perr {
	struct err *err;
	int *errcol;
};

static int fail_at(const struct perr *pe, size_t col, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail_at(const struct perr *pe, size_t col, const char *fmt, ...)
{
	if (pe->err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(pe->err->msg, sizeof pe->err->msg, fmt, ap);
		va_end(ap);
		pe->err->code = ERR_FAIL;
	}
	if (pe->errcol)
		*pe->errcol = (int)col;
	return ERR_FAIL;
}

/* Reads a number or a name at s[*i] (up to end) into *v. */
static int parse_value(const struct field_spec *f, const char *s, size_t *i, size_t end, int *v,
		       const struct perr *pe)
{
	size_t start = *i;
	while (*i < end && isalnum((unsigned char)s[*i]))
		(*i)++;
	size_t len = *i - start;
	char expected[64];
	if (f->names)
		snprintf(expected, sizeof expected, "a number %d-%d or a name %s", f->min, f->max,
			 f->names_hint);
	else
		snprintf(expected, sizeof expected, "a number %d-%d", f->min, f->max);
	if (!len) {
		if (start == end || s[start] == ',')
			return fail_at(pe, start, "%s field: expected %s, got nothing", f->name, expected);
		return fail_at(pe, start, "%s field: expected %s, got '%c'", f->name, expected, s[start]);
	}
	size_t digits = 0;
	while (digits < len && isdigit((unsigned char)s[start + digits]))
		digits++;
	if (digits == len) {
		/* more than 9 digits cannot be in range; avoids overflow */
		long n = len > 9 ? 1000000000L : 0;
		for (size_t k = 0; k < len && len <= 9; k++)
			n = n * 10 + (s[start + k] - '0');
		if (n < f->min || n > f->max)
			return fail_at(pe, start, "%s field: %.*s is out of range %d-%d", f->name, (int)len,
				       s + start, f->min, f->max);
		*v = (int)n;
		return 0;
	}
	if (f->names && len == 3) {
		for (int k = 0; k <= f->top - f->min; k++) {
			if (!strncasecmp(s + start, f->names[k], 3)) {
				*v = f->min + k;
				return 0;
			}
		}
	}
	return fail_at(pe, start, "%s field: expected %s, got '%.*s'", f->name, expected, (int)len,
		       s + start);
}

/* One field s[start, end): items separated by ',', each '*', 'a', 'a-b',
 * with an optional '/n'. Sets bit v of *bits for every allowed value. */
static int parse_field(const struct field_spec *f, const char *s, size_t start, size_t end,
		       uint64_t *bits, const struct perr *pe)
{
	size_t i = start;
	*bits = 0;
	for (;;) {
		size_t item = i;
		int lo, hi, step = 1;
		bool open_end = false;
		if (i < end && s[i] == '*') {
			lo = f->min;
			hi = f->top;
			i++;
		} else {
			if (parse_value(f, s, &i, end, &lo, pe) < 0)
				return ERR_FAIL;
			hi = lo;
			open_end = true;
			if (i < end && s[i] == '-') {
				i++;
				if (parse_value(f, s, &i, end, &hi, pe) < 0)
					return ERR_FAIL;
				open_end = false;
				if (lo > hi)
					return fail_at(pe, item, "%s field: range %.*s is backwards (start must not exceed end)",
						       f->name, (int)(i - item), s + item);
			}
		}
		if (i < end && s[i] == '/') {
			i++;
			size_t st = i;
			while (i < end && isalnum((unsigned char)s[i]))
				i++;
			int span = f->top - f->min + 1;
			bool digits = i > st;
			long n = 0;
			for (size_t k = st; k < i && digits; k++) {
				digits = isdigit((unsigned char)s[k]);
				if (n <= span)
					n = n * 10 + (s[k] - '0');
			}
			if (!digits)
				return fail_at(pe, st, "%s field: expected a step number after '/', got '%.*s'",
					       f->name, (int)(i - st), s + st);
			if (n < 1 || n > span)
				return fail_at(pe, st, "%s field: step %.*s is out of range 1-%d", f->name,
					       (int)(i - st), s + st, span);
			step = (int)n;
			/* "a/n" runs from a to the end of the field */
			if (open_end)
				hi = f->top;
		}
		if (i < end && s[i] != ',')
			return fail_at(pe, i, "%s field: unexpected '%c'; expected ',', '-' or '/'", f->name, s[i]);
		for (int v = lo; v <= hi; v += step)
			*bits |= 1ULL << (f == &fields[F_DOW] && v == 7 ? 0 : v);
		if (i >= end)
			return 0;
		i++; /* ',' */
	}
}

static int parse_macro(const char *expr, size_t at, struct cron *out, const struct perr *pe)
{
	size_t len = 0;
	while (expr[at + len] && !isspace((unsigned char)expr[at + len]))
		len++;
	size_t rest = at + len;
	while (isspace((unsigned char)expr[rest]))
		rest++;
	for (size_t k = 0; k < sizeof macros / sizeof macros[0]; k++) {
		if (strlen(macros[k].name) == len && !strncasecmp(expr + at, macros[k].name, len)) {
			if (expr[rest])
				return fail_at(pe, rest, "unexpected text after %s; a macro stands alone",
					       macros[k].name);
			return cron_parse(macros[k].expr, out, NULL, NULL);
		}
	}
	const char *names[sizeof macros / sizeof macros[0]];
	for (size_t k = 0; k < sizeof macros / sizeof macros[0]; k++)
		names[k] = macros[k].name;
	char *word = xstrndup(expr + at, len);
	for (char *c = word; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	const char *near = nearest_word(word, names, sizeof names / sizeof names[0]);
	free(word);
	if (near)
		return fail_at(pe, at, "unknown macro '%.*s'; did you mean '%s'?", (int)len, expr + at, near);
	return fail_at(pe, at,
		       "unknown macro '%.*s'; expected @yearly, @annually, @monthly, @weekly, @daily, "
		       "@midnight or @hourly",
		       (int)len, expr + at);
}

int cron_parse(const char *expr, struct cron *out, int *errcol, struct err *err)
{
	struct perr pe = { err, errcol };
	size_t i = 0;
	while (isspace((unsigned char)expr[i]))
		i++;
	if (expr[i] == '@')
		return parse_macro(expr, i, out, &pe);

	size_t start[N_FIELDS + 1], end[N_FIELDS + 1];
	int n = 0;
	while (expr[i]) {
		if (n == N_FIELDS + 1)
			break;
		start[n] = i;
		while (expr[i] && !isspace((unsigned char)expr[i]))
			i++;
		end[n++] = i;
		while (isspace((unsigned char)expr[i]))
			i++;
	}
	if (n != N_FIELDS) {
		int total = n;
		/* count the rest only for the message */
		while (expr[i]) {
			total++;
			while (expr[i] && !isspace((unsigned char)expr[i]))
				i++;
			while (isspace((unsigned char)expr[i]))
				i++;
		}
		/* too many: point at the first extra field; too few: at the end,
		 * where the next field was expected */
		size_t col = n > N_FIELDS ? start[N_FIELDS] : (n ? end[n - 1] : i);
		return fail_at(&pe, col, "expected 5 fields, got %d", total);
	}

	uint64_t bits[N_FIELDS];
	for (int f = 0; f < N_FIELDS; f++)
		if (parse_field(&fields[f], expr, start[f], end[f], &bits[f], &pe) < 0)
			return ERR_FAIL;
	out->minute = bits[F_MINUTE];
	out->hour = (uint32_t)bits[F_HOUR];
	out->dom = (uint32_t)bits[F_DOM];
	out->month = (uint16_t)bits[F_MONTH];
	out->dow = (uint8_t)bits[F_DOW];
	/* Vixie cron: a field counts as '*' for the dom/dow rule when it starts
	 * with '*', so a stepped star in one field still ANDs with the other */
	out->dom_star = expr[start[F_DOM]] == '*';
	out->dow_star = expr[start[F_DOW]] == '*';
	return 0;
}

static bool day_matches(const struct cron *c, int64_t y, int m, int d)
{
	int64_t days = date_days_from_civil(y, m, d);
	int wd = (int)(((days + 4) % 7 + 7) % 7); /* 1970-01-01 was a Thursday */
	bool dom_ok = c->dom & (1U << d);
	bool dow_ok = c->dow & (1U << wd);
	if (c->dom_star || c->dow_star)
		return dom_ok && dow_ok;
	return dom_ok || dow_ok;
}

/* Lowest set bit >= from in bits, or -1. */
static int next_bit(uint64_t bits, int from, int max)
{
	for (int v = from; v <= max; v++)
		if (bits & (1ULL << v))
			return v;
	return -1;
}

time_t cron_next(const struct cron *c, time_t after)
{
	int64_t t = (int64_t)after;
	/* next whole minute strictly after `after` (floor for negative times) */
	int64_t minute0 = (t >= 0 ? t / 60 : (t - 59) / 60) + 1;
	int64_t days = minute0 >= 0 ? minute0 / 1440 : (minute0 - 1439) / 1440;
	int mod = (int)(minute0 - days * 1440);
	int64_t y;
	int mo, d, h = mod / 60, mi = mod % 60;
	date_civil_from_days(days, &y, &mo, &d);
	int64_t limit = t + (int64_t)(5 * 365 + 2) * 86400;

	if (!c->minute || !c->hour || !c->dom || !c->month || !c->dow)
		return (time_t)-1;
	for (;;) {
		if (date_days_from_civil(y, mo, 1) * 86400 > limit)
			return (time_t)-1;
		if (!(c->month & (1U << mo)) || d > date_days_in_month(y, mo)) {
			if (++mo > 12) {
				mo = 1;
				y++;
			}
			d = 1;
			h = mi = 0;
			continue;
		}
		if (!day_matches(c, y, mo, d)) {
			d++;
			h = mi = 0;
			continue;
		}
		int nh = next_bit(c->hour, h, 23);
		if (nh < 0) {
			d++;
			h = mi = 0;
			continue;
		}
		if (nh != h) {
			h = nh;
			mi = 0;
		}
		int nm = next_bit(c->minute, mi, 59);
		if (nm < 0) {
			h++;
			mi = 0;
			if (h > 23) {
				d++;
				h = 0;
			}
			continue;
		}
		int64_t r = date_days_from_civil(y, mo, d) * 86400 + h * 3600 + nm * 60;
		if (r > limit)
			return (time_t)-1;
		return (time_t)r;
	}
}
