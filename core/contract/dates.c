/* Dates and times in a contract: ISO 8601 or the column's strptime formats
 * into a struct when, and back out in PostgreSQL's input form. */
#include "core/contract/internal.h"

#include <string.h>
#include <time.h>

#include "base/date.h"

static bool is_space_ascii(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

static bool when_valid(const struct when *w)
{
	return w->y >= 1 && w->y <= 9999 && w->mo >= 1 && w->mo <= 12 && w->d >= 1 &&
	       w->d <= date_days_in_month(w->y, w->mo) && w->h >= 0 && w->h <= 23 && w->mi >= 0 && w->mi <= 59 &&
	       w->s >= 0 && w->s <= 59;
}

/* n digits of v, zero-padded. */
static char *put_digits(char *o, int v, int n)
{
	for (int i = n - 1; i >= 0; i--, v /= 10)
		o[i] = (char)('0' + v % 10);
	return o + n;
}

/* PostgreSQL's input form: 2021-03-01, 2021-03-01 12:00:00[.ffffff][+00]
 * (a timestamptz already moved to UTC). snprintf costs more than the rest
 * of a record's check. */
char *when_text(const struct when *w, enum col_type t, char *out)
{
	char *o = put_digits(out, w->y, 4);
	*o++ = '-';
	o = put_digits(o, w->mo, 2);
	*o++ = '-';
	o = put_digits(o, w->d, 2);
	if (t != COL_DATE) {
		*o++ = ' ';
		o = put_digits(o, w->h, 2);
		*o++ = ':';
		o = put_digits(o, w->mi, 2);
		*o++ = ':';
		o = put_digits(o, w->s, 2);
		if (w->usec) {
			*o++ = '.';
			o = put_digits(o, w->usec, 6);
		}
		if (t == COL_TIMESTAMPTZ)
			*o++ = '+', *o++ = '0', *o++ = '0';
	}
	*o = '\0';
	return out;
}

/* Moves a time with an offset to UTC. */
void when_to_utc(struct when *w)
{
	if (!w->off)
		return;
	int64_t t = date_days_from_civil(w->y, w->mo, w->d) * 86400 + w->h * 3600 + w->mi * 60 + w->s - w->off;
	int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
	int64_t sec = t - days * 86400;
	int64_t y;
	date_civil_from_days(days, &y, &w->mo, &w->d);
	w->y = (int)y;
	w->h = (int)(sec / 3600);
	w->mi = (int)(sec / 60 % 60);
	w->s = (int)(sec % 60);
	w->off = 0;
}

double when_key(const struct when *w, enum col_type t)
{
	double day = (double)w->y * 10000 + w->mo * 100 + w->d;
	if (t == COL_DATE)
		return day;
	struct when u = *w;
	if (t == COL_TIMESTAMPTZ)
		when_to_utc(&u);
	day = (double)u.y * 10000 + u.mo * 100 + u.d;
	return day * 1000000 + u.h * 10000 + u.mi * 100 + u.s;
}

static int digits(const char *s, size_t n, size_t *i, int count)
{
	int v = 0;
	for (int k = 0; k < count; k++, (*i)++) {
		if (*i >= n || s[*i] < '0' || s[*i] > '9')
			return -1;
		v = v * 10 + (s[*i] - '0');
	}
	return v;
}

/* Fraction digits after a '.': keeps microseconds, drops the rest. */
static int frac_digits(const char *s, size_t n, size_t *i)
{
	int us = 0, k = 0;
	size_t st = *i;
	for (; *i < n && s[*i] >= '0' && s[*i] <= '9'; (*i)++, k++)
		if (k < 6)
			us = us * 10 + (s[*i] - '0');
	if (*i == st)
		return -1;
	for (; k < 6; k++)
		us *= 10;
	return us;
}

/* ISO 8601: YYYY-MM-DD, then (unless date_only) [T ]HH:MM[:SS[.frac]] and
 * Z or +HH[:MM] / -HH[:MM]. */
int when_iso_parse(const char *s, size_t n, bool date_only, struct when *w)
{
	memset(w, 0, sizeof *w);
	size_t i = 0;
	if ((w->y = digits(s, n, &i, 4)) < 0 || i >= n || s[i++] != '-' || (w->mo = digits(s, n, &i, 2)) < 0 ||
	    i >= n || s[i++] != '-' || (w->d = digits(s, n, &i, 2)) < 0)
		return -1;
	if (i < n && !date_only) {
		if (s[i] != 'T' && s[i] != 't' && s[i] != ' ')
			return -1;
		i++;
		if ((w->h = digits(s, n, &i, 2)) < 0 || i >= n || s[i++] != ':' || (w->mi = digits(s, n, &i, 2)) < 0)
			return -1;
		if (i < n && s[i] == ':') {
			i++;
			if ((w->s = digits(s, n, &i, 2)) < 0)
				return -1;
			if (i < n && (s[i] == '.' || s[i] == ',')) {
				i++;
				if ((w->usec = frac_digits(s, n, &i)) < 0)
					return -1;
			}
		}
		if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
			w->has_tz = true;
			i++;
		} else if (i < n && (s[i] == '+' || s[i] == '-')) {
			int sign = s[i++] == '-' ? -1 : 1, oh, om = 0;
			if ((oh = digits(s, n, &i, 2)) < 0)
				return -1;
			if (i < n && s[i] == ':')
				i++;
			if (i < n && (om = digits(s, n, &i, 2)) < 0)
				return -1;
			if (oh > 15 || om > 59)
				return -1;
			w->off = sign * (oh * 3600L + om * 60L);
			w->has_tz = true;
		}
	}
	if (i != n || !when_valid(w))
		return -1;
	return 0;
}

/* strptime, without its cost for the formats most contracts write: only
 * %Y %m %d %H %M %S %% and characters other than white space, on an ASCII
 * value, read as glibc reads them (leading white space skipped, at most as
 * many digits as the field takes and no more than keep it in range). Any
 * other format or value is strptime's. */
static const char *when_strptime(const char *s, const char *fmt, struct tm *tm)
{
	for (const char *f = fmt; *f; f++) {
		if (is_space_ascii(*f) || (unsigned char)*f >= 0x80)
			return strptime(s, fmt, tm);
		if (*f == '%') {
			switch (*++f) {
			case 'Y': case 'm': case 'd': case 'H': case 'M': case 'S': case '%':
				break;
			default:
				return strptime(s, fmt, tm);
			}
		}
	}
	for (const char *q = s; *q; q++)
		if ((unsigned char)*q >= 0x80)
			return strptime(s, fmt, tm);
	const char *rp = s;
	for (const char *f = fmt; *f; f++) {
		if (*f != '%' || f[1] == '%') {
			f += *f == '%';
			if (*rp++ != *f)
				return NULL;
			continue;
		}
		int from = 0, to, n = 2, *dst;
		switch (*++f) {
		case 'Y': to = 9999, n = 4, dst = &tm->tm_year; break;
		case 'm': from = 1, to = 12, dst = &tm->tm_mon; break;
		case 'd': from = 1, to = 31, dst = &tm->tm_mday; break;
		case 'H': to = 23, dst = &tm->tm_hour; break;
		case 'M': to = 59, dst = &tm->tm_min; break;
		default: to = 61, dst = &tm->tm_sec; break;
		}
		while (is_space_ascii(*rp))
			rp++;
		if (*rp < '0' || *rp > '9')
			return NULL;
		int val = 0;
		do {
			val = val * 10 + (*rp++ - '0');
		} while (--n > 0 && val * 10 <= to && *rp >= '0' && *rp <= '9');
		if (val < from || val > to)
			return NULL;
		*dst = dst == &tm->tm_year ? val - 1900 : dst == &tm->tm_mon ? val - 1 : val;
	}
	return rp;
}

/* One strptime format (split at %f for fractions of a second). */
int when_fmt_parse(const struct col_priv *p, size_t k, const char *s, struct when *w)
{
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	tm.tm_mday = 1;
	tm.tm_year = 70;
	memset(w, 0, sizeof *w);
	const char *e = when_strptime(s, p->fmt_a[k], &tm);
	if (!e)
		return -1;
	if (p->fmt_b[k]) {
		size_t i = 0, n = strlen(e);
		if ((w->usec = frac_digits(e, n, &i)) < 0)
			return -1;
		e = when_strptime(e + i, p->fmt_b[k], &tm);
		if (!e)
			return -1;
	}
	while (*e == ' ' || *e == '\t')
		e++;
	if (*e)
		return -1;
	w->y = tm.tm_year + 1900;
	w->mo = tm.tm_mon + 1;
	w->d = tm.tm_mday;
	w->h = tm.tm_hour;
	w->mi = tm.tm_min;
	w->s = tm.tm_sec;
	if (p->fmt_tz[k]) {
		w->off = tm.tm_gmtoff;
		w->has_tz = true;
	}
	return when_valid(w) ? 0 : -1;
}

