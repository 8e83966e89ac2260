/* PostgreSQL through libpq: connect with a clear error, run parameterized
 * statements, read their results, COPY FROM STDIN, and quote identifiers.
 * The one door to libpq: its includers never see libpq-fe.h. Knows nothing
 * of pipelines. */
#ifndef SLUICE_PG_H
#define SLUICE_PG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

struct strbuf;
/* libpq's own struct tags (libpq-fe.h: typedef struct pg_conn PGconn,
 * typedef struct pg_result PGresult), declared so that a connection or a
 * result can be passed around without including libpq. */
/* PostgreSQL keeps the first 63 bytes of a name (NAMEDATALEN - 1): a
 * longer identifier would be cut by the server. */
#define PG_NAME_MAX 63

struct pg_conn;
struct pg_result;

/* Connects (blocking). On failure err says why, without the password, and the
 * code is ERR_UNREACHABLE when the server could not be reached. */
struct pg_conn *pg_connect(const char *conninfo, const char *what, struct err *err);
/* The same on database dbname of that server instead of the conninfo's own
 * (NULL: its own). */
struct pg_conn *pg_connect_db(const char *conninfo, const char *dbname, const char *what, struct err *err);
/* pg_connect_db giving up after timeout_s seconds (whatever the conninfo
 * says): for a process that must not stop long to connect. */
struct pg_conn *pg_connect_quick(const char *conninfo, const char *dbname, int timeout_s, const char *what,
				 struct err *err);
/* Closes a connection from pg_connect; NULL is fine. */
void pg_close(struct pg_conn *c);
/* Drops the server's notices on c instead of printing them on stderr: for
 * sluice's own connections, where a notice such as "terminating connection
 * due to unexpected postmaster exit" is said once by whoever lost it. */
void pg_notices_off(struct pg_conn *c);
/* Runs sql with text parameters (NULL entries are SQL NULL). Returns the result
 * (caller pg_clear()s) or NULL with err set to the server's message. */
struct pg_result *pg_exec(struct pg_conn *c, const char *sql, int nparams, const char *const *params, struct err *err);
/* As pg_exec; when the server refuses the statement, *refused (if not NULL)
 * gets its result for a look at its error fields (caller pg_clear()s), and
 * NULL is returned with err set. */
struct pg_result *pg_try(struct pg_conn *c, const char *sql, int nparams, const char *const *params,
			 struct pg_result **refused, struct err *err);
/* Runs sql (one statement, no parameters) and hands each row to each as it
 * comes, one result per row (libpq's single-row mode: memory stays flat
 * whatever the rows); the result lives only for the call, and has the
 * columns. each returning nonzero stops the reading (the statement is
 * cancelled). Returns the last result, with the columns and the command tag
 * and no rows (caller pg_clear()s), or NULL with err set, and *refused (if
 * not NULL) the server's error result for a look at its fields. */
struct pg_result *pg_stream(struct pg_conn *c, const char *sql, int (*each)(const struct pg_result *r, void *arg),
			    void *arg, struct pg_result **refused, struct err *err);
/* Same for statements whose rows we don't need: 0 or -1. */
int pg_cmd(struct pg_conn *c, const char *sql, int nparams, const char *const *params, struct err *err);
/* Runs a script of several statements (simple query protocol). */
int pg_script(struct pg_conn *c, const char *sql, struct err *err);
/* "schema.table" or "col" quoted as an identifier; malloc'ed. */
char *pg_ident(struct pg_conn *c, const char *name);
/* A libpq error message on one line (trailing newline removed). */
const char *pg_errmsg(struct pg_conn *c, char *buf, size_t size);
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
/* A dsn (conninfo or postgresql:// URL) taken apart so that its password
 * reaches libpq only as the password keyword: the dsn without it, the
 * password (NULL when there is none), and every form it is written or may be
 * shown in (raw, decoded, encoded, quoted), to scrub from messages. A URL's
 * user info ends at its last '@' before the host, so a password may hold an
 * unencoded '/', '@', ':', '?' or '#'. */
struct pg_dsn {
	char *dsn;
	char *password;
	char *forms[8];
	size_t n_forms;
};
void pg_dsn_split(const char *dsn, struct pg_dsn *out);
/* Wipes and frees the parts; NULL is fine. */
void pg_dsn_free(struct pg_dsn *d);
/* The '@' that ends the user info of a scheme:// URL (the last one followed
 * by a host list that ends the string or a '/' or '?'), or NULL. */
const char *pg_url_at(const char *url);
/* msg with every run of 4 or more characters that occurs in one of the n
 * secrets (a shorter secret: where it occurs whole) replaced by "***", so no
 * piece of a password a parser cut out of it survives; malloc'ed. */
char *pg_scrub(const char *msg, const char *const *secrets, size_t n);

/* Does a server answer at dsn (a conninfo or URI)? timeout_s > 0 overrides
 * any connect_timeout in it. Nothing is logged in: an authentication failure
 * counts as an answer. */
bool pg_ping(const char *dsn, int timeout_s);
/* Creates database name unless it exists (made meanwhile by someone else
 * counts as existing). */
int pg_db_ensure(struct pg_conn *c, const char *name, struct err *err);
/* Does database name exist on c's server? 1, 0, or <0 with err set. */
int pg_db_exists(struct pg_conn *c, const char *name, struct err *err);
/* true if the connection is broken (so the caller should reconnect). */
bool pg_broken(struct pg_conn *c);

/* ---- a connection kept by a process and used by its forked children ----
 * One child at a time uses the parent's connection (the fork's copy of it)
 * and leaves it idle; the parent never uses it itself, so its copy stays in
 * step with the server. Only over a plain socket: TLS or GSS encryption keep
 * state that a child's use would put out of step. */

/* For the parent, between two children: true when c is plain, connected and
 * has nothing to read (the server neither closed it nor said anything). */
bool pg_lendable(struct pg_conn *c);
/* For a child, before it uses the parent's connection: the session as
 * pg_connect leaves it (DISCARD ALL: no temporary tables, settings, prepared
 * statements, session locks or LISTEN of an earlier child). A child never
 * closes it (pg_close would end the parent's session). */
int pg_session_reset(struct pg_conn *c, struct err *err);

/* The connection is encrypted (TLS). */
bool pg_tls(struct pg_conn *c);
/* The connection's socket, to poll for notifications; -1 when none. */
int pg_socket(struct pg_conn *c);
/* Reads what came in on the socket without waiting (for pg_notified). */
void pg_consume(struct pg_conn *c);
/* Takes the notifications already read off the socket; returns how many had
 * a payload starting with prefix (NULL: all of them). */
int pg_notified(struct pg_conn *c, const char *prefix);
/* The same for several prefixes at once: counts[i] gets how many started
 * with prefixes[i]; returns how many were taken in all. */
int pg_notified_by(struct pg_conn *c, const char *const *prefixes, size_t n, int *counts);

/* ---- a result: valid until pg_clear ------------------------------------- */

/* Frees a result; NULL is fine. */
void pg_clear(struct pg_result *r);
/* Rows (0 for NULL). */
int pg_rows(const struct pg_result *r);
/* The text of a value ("" for SQL NULL), borrowed like the result. */
const char *pg_val(const struct pg_result *r, int row, int col);
bool pg_isnull(const struct pg_result *r, int row, int col);
/* A copy of the value (malloc'ed); NULL for SQL NULL. */
char *pg_strdup_val(const struct pg_result *r, int row, int col);
/* Columns of a result (0 for NULL), a column's name (borrowed like the
 * result), and whether it holds numbers (right-aligned in a table). */
int pg_cols(const struct pg_result *r);
const char *pg_col_name(const struct pg_result *r, int col);
bool pg_col_numeric(const struct pg_result *r, int col);
/* The command tag ("SELECT 3", "INSERT 0 1"), borrowed like the result. */
const char *pg_cmd_tag(const struct pg_result *r);
/* Rows the statement affected (INSERT, UPDATE, DELETE, COPY...); 0 if none. */
int64_t pg_cmd_rows(const struct pg_result *r);

/* The fields of a server error a caller may act on. */
enum pg_field {
	PG_FIELD_SQLSTATE,
	PG_FIELD_PRIMARY,       /* the primary message */
	PG_FIELD_DETAIL,
	PG_FIELD_CONTEXT,       /* e.g. "COPY t, line 5, column a: ..." */
	PG_FIELD_POSITION,      /* character of the statement it points at */
	PG_FIELD_COLUMN         /* the column, when the server names one */
};
/* A field of a failed result's error, borrowed like the result; NULL when
 * the server sent none. */
const char *pg_error_field(const struct pg_result *r, enum pg_field f);

/* ---- COPY ... FROM STDIN ----------------------------------------------- */

/* Sends sql (simple query protocol: statements ending in one COPY ... FROM
 * STDIN) and reads results up to the copy state. Returns 0 when the server
 * waits for data. Otherwise <0 with err set, and *refused (if not NULL) the
 * result of the first statement that failed (caller pg_clear()s), NULL when
 * none did (it could not be sent, or started no copy). */
int pg_copy_begin(struct pg_conn *c, const char *sql, struct pg_result **refused, struct err *err);
/* Sends len bytes of COPY text: 0, or <0 with err set. */
int pg_copy_put(struct pg_conn *c, const char *data, size_t len, struct err *err);
/* Ends the data and reads the outcome; *rows (if not NULL) gets the rows the
 * statements that succeeded copied. Returns 0 when all succeeded, else <0
 * with err set and *refused as for pg_copy_begin. */
int pg_copy_end(struct pg_conn *c, int64_t *rows, struct pg_result **refused, struct err *err);


/* One statement's outcome in a script run by pg_script_steps. Valid only
 * during the callback. */
struct pg_step {
	const char *tag;        /* command tag ("INSERT 0 3"), NULL when it failed */
	int rows;               /* rows it returned, -1 if it returns none */
	const char *error;      /* the server's primary message when it failed */
	const char *position;   /* character of the statement it points at, or NULL */
	const char *sqlstate;   /* or NULL */
	bool copy;              /* a COPY FROM STDIN / TO STDOUT, refused (ended at once) */
};
/* Runs a script of several statements (simple query protocol) and calls
 * each with every statement's outcome, as it comes. Returns 0 when all
 * succeeded, else an error with err set: ERR_FAIL with the first failed
 * statement's message (each saw them all), or why it could not be sent. */
int pg_script_steps(struct pg_conn *c, const char *sql, void (*each)(const struct pg_step *s, void *arg), void *arg,
		    struct err *err);

#endif
