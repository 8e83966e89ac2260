/* Small helpers every module uses: allocation that never returns NULL, a growable
 * string buffer, time, paths and files. */
#ifndef SLUICE_BASE_UTIL_H
#define SLUICE_BASE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>


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
/* s percent-encoded as in a URL (RFC 3986: unreserved bytes as they are). */
void sb_add_pct(struct strbuf *b, const char *s);
/* s as one word of a POSIX shell command line: as it is when it holds only
 * safe characters, else in single quotes (a ' inside as '\''). */
void sb_add_shell(struct strbuf *b, const char *s);
void sb_reset(struct strbuf *b);
char *sb_steal(struct strbuf *b); /* hands over the string ("" if empty) */
void sb_free(struct strbuf *b);

/* Milliseconds on the monotonic clock, and wall-clock seconds. */
int64_t now_ms(void);
double now_wall(void);

char *path_join(const char *a, const char *b);
bool path_exists(const char *path);

/* The value of a hex digit, or -1. */
int hex_value(int ch);

/* Levenshtein distance, for "did you mean" suggestions. */
size_t edit_distance(const char *a, const char *b);
/* The candidate closest to word (distance <= max(2, len/3)), or NULL. */
const char *nearest_word(const char *word, const char *const *candidates, size_t n);

#endif
