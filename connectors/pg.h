/* PostgreSQL through libpq: connect with a clear error, run parameterized
 * statements, and quote identifiers. Knows nothing of pipelines. */
#ifndef SLUICE_PG_H
#define SLUICE_PG_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

struct strbuf;

/* Connects (blocking). On failure err says why, without the password, and the
 * code is ERR_UNREACHABLE when the server could not be reached. */
PGconn *pg_connect(const char *conninfo, const char *what, struct err *err);
/* Closes a connection from pg_connect; NULL is fine. */
void pg_close(PGconn *c);
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
/* Any libpq message (they end in newlines, may have several lines and tab-
 * indented hints) copied into buf on one line; returns buf. */
const char *pg_oneline(const char *msg, char *buf, size_t size);

/* Appends key=value to a libpq conninfo, the value in single quotes with ' and
 * \ backslash-escaped when it is empty or has a space, a quote or a backslash
 * (libpq's rule), bare otherwise. The one place sluice writes a conninfo. */
void pg_conninfo_add(struct strbuf *b, const char *key, const char *val);
/* A conninfo from NULL-terminated keys and their values (a NULL value is
 * skipped); malloc'ed. */
char *pg_conninfo(const char *const *keys, const char *const *vals);
/* Does a server answer at dsn (a conninfo or URI)? timeout_s > 0 overrides
 * any connect_timeout in it. Nothing is logged in: an authentication failure
 * counts as an answer. */
bool pg_ping(const char *dsn, int timeout_s);
/* Creates database name unless it exists (made meanwhile by someone else
 * counts as existing). */
int pg_db_ensure(PGconn *c, const char *name, struct err *err);
/* true if the connection is broken (so the caller should reconnect). */
bool pg_broken(PGconn *c);


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
