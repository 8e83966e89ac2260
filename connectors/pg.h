/* PostgreSQL through libpq: connect with a clear error, run parameterized
 * statements, and quote identifiers. Knows nothing of pipelines. */
#ifndef SLUICE_PG_H
#define SLUICE_PG_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "base/err.h"

/* Connects (blocking). On failure err says why, without the password, and the
 * code is ERR_UNREACHABLE when the server could not be reached. */
PGconn *pg_connect(const char *conninfo, const char *what, struct err *err);
/* Runs sql with text parameters (NULL entries are SQL NULL). Returns the result
 * (caller PQclear()s) or NULL with err set to the server's message. */
PGresult *pg_exec(PGconn *c, const char *sql, int nparams, const char *const *params, struct err *err);
/* Same for statements whose rows we don't need: 0 or -1. */
int pg_cmd(PGconn *c, const char *sql, int nparams, const char *const *params, struct err *err);
/* Runs a script of several statements (simple query protocol). */
int pg_script(PGconn *c, const char *sql, struct err *err);
/* "schema.table" or "col" quoted as an identifier; malloc'ed. */
char *pg_ident(PGconn *c, const char *name);
/* A libpq error message on one line (trailing newline removed). */
const char *pg_errmsg(PGconn *c, char *buf, size_t size);
/* true if the connection is broken (so the caller should reconnect). */
bool pg_broken(PGconn *c);

/* Closes c (NULL is fine). */
void pg_close(PGconn *c);

/* One statement's outcome in a script run by pg_script_steps. Valid only
 * during the callback. */
struct pg_step {
	const char *tag;        /* command tag ("INSERT 0 3"), NULL when it failed */
	int rows;               /* rows it returned, -1 if it returns none */
	const char *error;      /* the server's primary message when it failed */
	const char *position;   /* character of the statement it points at, or NULL */
	const char *sqlstate;   /* or NULL */
};
/* Runs a script of several statements (simple query protocol) and calls
 * each with every statement's outcome, as it comes. Returns 0 when all
 * succeeded, else an error with err set: ERR_FAIL with the first failed
 * statement's message (each saw them all), or why it could not be sent. */
int pg_script_steps(PGconn *c, const char *sql, void (*each)(const struct pg_step *s, void *arg), void *arg,
		    struct err *err);

#endif
