/* Small helpers every module uses: allocation that never returns NULL, a growable
 * string buffer, time, paths and files. */
#ifndef SLUICE_UTIL_H
#define SLUICE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/err.h"

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);          /* NULL in, NULL out */
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

struct strbuf {
	char *s;      /* always NUL-terminated once anything was added */
	size_t len, cap;
};
void sb_add(struct strbuf *b, const char *s, size_t n);
void sb_adds(struct strbuf *b, const char *s);
void sb_addc(struct strbuf *b, char c);
void sb_addf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_reset(struct strbuf *b);
char *sb_steal(struct strbuf *b); /* hands over the string ("" if empty) */
void sb_free(struct strbuf *b);

/* Milliseconds on the monotonic clock, and wall-clock seconds. */
int64_t now_ms(void);
double now_wall(void);

/* Reads a whole file; the result is NUL-terminated. */
int file_read(const char *path, char **out, size_t *len, struct err *err);
int file_write_atomic(const char *path, const char *data, size_t len, int mode, struct err *err);
int mkdir_p(const char *path, int mode, struct err *err);
char *path_join(const char *a, const char *b);
bool path_exists(const char *path);

/* Levenshtein distance, for "did you mean" suggestions. */
size_t edit_distance(const char *a, const char *b);
/* The candidate closest to word (distance <= max(2, len/3)), or NULL. */
const char *nearest_word(const char *word, const char *const *candidates, size_t n);

/* Days since 1970-01-01 of a proleptic Gregorian date, and back (H.
 * Hinnant's algorithms; any year, no time zone, no overflow in practice). */
int64_t util_days_from_civil(int64_t y, int m, int d);
void util_civil_from_days(int64_t days, int64_t *y, int *m, int *d);

/* YYYY-MM-DD validation (a real calendar date). */
bool date_valid(const char *s);
/* Today's date in UTC as YYYY-MM-DD into buf[11]. */
void date_today(char buf[11]);

#endif
