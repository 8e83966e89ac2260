/* What the pieces of a contract share and its callers never see: the table
 * of column types, a column's compiled parts, the value parsers and the
 * scratch a check writes cleaned values into. contract.c loads, check.c
 * checks, types.c holds the table, dates.c and
 * words.c parse dates and number words, keys.c keys. */
#ifndef SLUICE_CONTRACT_INT_H
#define SLUICE_CONTRACT_INT_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/contract.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* A simple regex matched without regexec (fastre.c). */
struct fast_re;
/* NULL when pat is not simple enough. */
struct fast_re *fast_re_compile(const char *pat);
void fast_re_free(struct fast_re *f);
/* 1 match, 0 none, -1 ask regexec (a byte past ASCII, or too many steps). */
int fast_re_match(const struct fast_re *f, const char *v, size_t n);

/* What a column keeps beside its public fields. */
struct col_priv {
	regex_t re;
	bool has_re;
	struct fast_re *fre;      /* the regex when it is simple, else NULL */
	char *min_text, *max_text; /* dates as written, for reasons */
	char **fmt_a, **fmt_b;     /* each format split at %f (fmt_b NULL without one) */
	bool *fmt_tz;              /* the format has %z */
	char *expect;              /* "%m/%d/%Y or %Y-%m-%d", for reasons */
};

/* Where a record's cleaned values are written: reserved once per record
 * for the worst case, so no pointer handed out moves. */
struct contract_scratch {
	char *buf;
	size_t cap, len;
};

/* n bytes of scratch; contract_check reserved enough for the whole record. */
static inline char *sc_take(struct contract_scratch *s, size_t n)
{
	char *p = s->buf + s->len;
	s->len += n;
	return p;
}

static inline const char *sc_copy(struct contract_scratch *s, const char *v, size_t n)
{
	char *p = sc_take(s, n + 1);
	memcpy(p, v, n);
	p[n] = '\0';
	return p;
}

/* One value on its way through a type's check. */
struct col_value {
	const char *v;           /* trimmed, not NUL-terminated */
	size_t n;
	const char *orig;        /* as given, for reasons */
	size_t orig_n;
	/* the cleaned value, NUL-terminated: set by the type, or left NULL
	 * for v[0..n) as it is */
	const char *val;
};

/* One spelling a contract may write a type with, e.g. varchar(n). */
struct col_spelling {
	const char *word;
	int args;                /* arguments it takes: varchar 1, numeric 2 */
	bool hidden;             /* accepted, never suggested ("did you mean") */
};

/* One column type: a row of col_types[] (types.c), indexed by enum
 * col_type. Adding a type is its enum value, its check function and its row. */
struct col_type_def {
	const char *shown;       /* in "expected one of": "numeric(p,s)" */
	const struct col_spelling *spellings; /* ended by a NULL word */
	const char *word;        /* in reasons: "out of range for int" */
	const char *sql;         /* for CREATE TABLE; numeric(p,s) adds its arguments */
	bool number;             /* min/max are numbers; number_words applies */
	bool date;               /* min/max are dates; formats applies */
	/* text keeps its spaces (unless trim: true) and its empty value
	 * (unless it lists null tokens); every other type is trimmed and
	 * empty is NULL */
	bool keeps_space;
	/* Checks and cleans x (not NULL, trimmed when the type is): sets
	 * x->val or leaves it NULL; on a violation returns col_fail(...). */
	int (*check)(const struct contract_col *c, struct contract_scratch *s, struct col_value *x, char *reason,
		     size_t rsize);
};

extern const struct col_type_def col_types[];

static inline const struct col_type_def *col_type_of(const struct contract_col *c)
{
	return &col_types[c->type];
}

/* "numeric(12,2)" when the column has a precision, else base. */
const char *col_type_text(const struct contract_col *c, const char *base, char *buf, size_t size);
/* "int", "integer", "numeric(12,2)", "varchar(20)"... into c->type and its
 * arguments: 0, -1 unknown, -2 bad arguments. */
int col_type_parse(const char *s, struct contract_col *c);
/* Every spelling a contract may suggest, and the "expected one of" list. */
size_t col_type_words(const char **out, size_t max);
void col_type_expected(char *buf, size_t size);

/* "'col': 'value' <what fmt says>" into reason; returns -1. v NULL: no value. */
int col_fail(char *reason, size_t size, const struct contract_col *c, const char *v, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* ---- dates (dates.c) --------------------------------------------- */

struct when {
	int y, mo, d, h, mi, s;
	int usec;
	long off;     /* seconds east of UTC */
	bool has_tz;
};

/* ISO 8601: YYYY-MM-DD, then (unless date_only) [T ]HH:MM[:SS[.frac]] and
 * Z or +HH[:MM] / -HH[:MM]. 0 or -1. */
int when_iso_parse(const char *s, size_t n, bool date_only, struct when *w);
/* The column's strptime format k (NUL-terminated s). 0 or -1. */
int when_fmt_parse(const struct col_priv *p, size_t k, const char *s, struct when *w);
/* YYYYMMDD for a date, YYYYMMDDhhmmss (in UTC for timestamptz) otherwise:
 * what min and max compare. */
double when_key(const struct when *w, enum col_type t);
void when_to_utc(struct when *w);
/* PostgreSQL's input form into out (48 bytes); returns out. */
char *when_text(const struct when *w, enum col_type t, char *out);

/* ---- number words (words.c) -------------------------------------- */

int words_parse(const char *s, size_t len, long long *out);

#endif
