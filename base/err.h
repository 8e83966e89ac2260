/* One-line error messages set where a failure happens, and lists of located
 * diagnostics (file:line:col) for project validation. */
#ifndef SLUICE_BASE_ERR_H
#define SLUICE_BASE_ERR_H

#include <stddef.h>
#include <stdio.h>

/* Specific negative codes a caller can act on; everything else is -1. */
enum {
	ERR_FAIL = -1,
	ERR_NOTFOUND = -2,
	ERR_EXISTS = -3,
	ERR_CONFLICT = -4,   /* fenced off: a newer try owns the row */
	ERR_UNREACHABLE = -5, /* a service (Postgres, Redis) cannot be reached */
	ERR_PROJECT = -6      /* the project has errors (see the diagnostics) */
};

struct err {
	int code;
	char msg[1024];
};

/* Sets the message and returns ERR_FAIL (so `return err_set(...)` reads well). */
int err_set(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Same with an explicit code; returns code. */
int err_setc(struct err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Puts context in front of the current message: "ctx: old message". */
int err_prefix(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void err_clear(struct err *e);
/* What to return after a callee failed and set e: its specific code, or
 * ERR_FAIL when it set none. The one convention for passing a failure up. */
static inline int err_code(const struct err *e)
{
	return e && e->code ? e->code : ERR_FAIL;
}

/* A place in a source file; line and col are 1-based, 0 when unknown. */
struct loc {
	const char *file; /* borrowed: lives as long as whatever produced it */
	int line, col;
};

struct diag {
	char *file;
	int line, col;
	char *msg;
};

struct diags {
	struct diag *v;
	size_t n, cap;
};

void diags_add(struct diags *d, struct loc at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Sorts by file, line, col (stable) so output is deterministic. */
void diags_sort(struct diags *d);
/* "file:line:col: error: msg" one per line. */
void diags_print(const struct diags *d, FILE *out);
void diags_free(struct diags *d);

#endif
