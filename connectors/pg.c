/* libpq helpers: the one file of sluice's core side that calls libpq (the
 * console's non-blocking connection is pgasync.c). */
#include "connectors/pg.h"

#include <ctype.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

/* SQL this module runs (database names go through PQescapeIdentifier). */
static const char SQL_DB_EXISTS[] = "SELECT 1 FROM pg_database WHERE datname = $1";
static const char SQL_CREATE_DB[] = "CREATE DATABASE ";
/* duplicate_database: made meanwhile by another client */
static const char SQLSTATE_DUPLICATE_DB[] = "42P04";

static void oneline(char *s)
{
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
	/* libpq indents its hint lines with a tab */
	char *w = s;
	for (char *p = s; *p; p++) {
		if (*p == '\n' || *p == '\t') {
			if (w > s && w[-1] != ' ')
				*w++ = ' ';
		} else {
			*w++ = *p;
		}
	}
	*w = '\0';
}

const char *pg_oneline(const char *msg, char *buf, size_t size)
{
	snprintf(buf, size, "%s", msg ? msg : "");
	oneline(buf);
	return buf;
}

const char *pg_errmsg(PGconn *c, char *buf, size_t size)
{
	return pg_oneline(c ? PQerrorMessage(c) : "no connection", buf, size);
}

void pg_conninfo_add(struct strbuf *b, const char *key, const char *val)
{
	if (b->len)
		sb_addc(b, ' ');
	sb_addf(b, "%s=", key);
	bool quote = !*val;
	for (const char *s = val; *s && !quote; s++)
		quote = isspace((unsigned char)*s) || *s == '\'' || *s == '\\';
	if (!quote) {
		sb_adds(b, val);
		return;
	}
	sb_addc(b, '\'');
	for (const char *s = val; *s; s++) {
		if (*s == '\'' || *s == '\\')
			sb_addc(b, '\\');
		sb_addc(b, *s);
	}
	sb_addc(b, '\'');
}

char *pg_conninfo(const char *const *keys, const char *const *vals)
{
	struct strbuf b = {0};
	for (size_t i = 0; keys[i]; i++) {
		if (vals[i])
			pg_conninfo_add(&b, keys[i], vals[i]);
	}
	return sb_steal(&b);
}

bool pg_ping(const char *dsn, int timeout_s)
{
	/* dbname is expanded as the whole conninfo or URI; a timeout after it wins */
	char t[16];
	snprintf(t, sizeof t, "%d", timeout_s);
	const char *const keys[] = {"dbname", timeout_s > 0 ? "connect_timeout" : NULL, NULL};
	const char *const vals[] = {dsn, t, NULL};
	return PQpingParams(keys, vals, 1) == PQPING_OK;
}

int pg_db_ensure(PGconn *c, const char *name, struct err *err)
{
	PGresult *r = pg_exec(c, SQL_DB_EXISTS, 1, &name, err);
	if (!r)
		return err_code(err);
	bool exists = PQntuples(r) > 0;
	PQclear(r);
	if (exists)
		return 0;
	char *id = pg_ident(c, name);
	char *sql = xasprintf("%s%s", SQL_CREATE_DB, id);
	free(id);
	r = PQexec(c, sql);
	free(sql);
	int rc = 0;
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && !(state && !strcmp(state, SQLSTATE_DUPLICATE_DB))) {
		char buf[512];
		rc = err_setc(err, pg_broken(c) ? ERR_UNREACHABLE : ERR_FAIL, "creating database %s: %s", name,
			      pg_oneline(r ? PQresultErrorMessage(r) : PQerrorMessage(c), buf, sizeof buf));
	}
	PQclear(r);
	return rc;
}

PGconn *pg_connect(const char *conninfo, const char *what, struct err *err)
{
	PGconn *c = PQconnectdb(conninfo);
	if (!c) {
		err_setc(err, ERR_UNREACHABLE, "%s: out of memory connecting", what);
		return NULL;
	}
	if (PQstatus(c) != CONNECTION_OK) {
		char buf[512];
		err_setc(err, ERR_UNREACHABLE, "%s: cannot connect: %s", what, pg_errmsg(c, buf, sizeof buf));
		PQfinish(c);
		return NULL;
	}
	/* Our own messages are plain; notices from user SQL go to the task log. */
	PGresult *r = PQexec(c, "SET client_min_messages = warning");
	PQclear(r);
	return c;
}

void pg_close(PGconn *c)
{
	if (c)
		PQfinish(c);
}

static void result_err(PGconn *c, PGresult *r, struct err *err)
{
	const char *m = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	char buf[512];
	if (m) {
		const char *detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
		const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		err_setc(err, pg_broken(c) ? ERR_UNREACHABLE : ERR_FAIL, "%s%s%s%s%s%s", m,
			 detail ? " (" : "", detail ? detail : "", detail ? ")" : "",
			 state ? " SQLSTATE " : "", state ? state : "");
	} else {
		err_setc(err, pg_broken(c) ? ERR_UNREACHABLE : ERR_FAIL, "%s", pg_errmsg(c, buf, sizeof buf));
	}
}

PGresult *pg_try(PGconn *c, const char *sql, int nparams, const char *const *params, PGresult **refused,
		 struct err *err)
{
	if (refused)
		*refused = NULL;
	PGresult *r = PQexecParams(c, sql, nparams, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);
	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return r;
	result_err(c, r, err);
	if (refused && r && PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY))
		*refused = r;
	else
		PQclear(r);
	return NULL;
}

PGresult *pg_exec(PGconn *c, const char *sql, int nparams, const char *const *params, struct err *err)
{
	return pg_try(c, sql, nparams, params, NULL, err);
}

int pg_cmd(PGconn *c, const char *sql, int nparams, const char *const *params, struct err *err)
{
	PGresult *r = pg_exec(c, sql, nparams, params, err);
	if (!r)
		return err_code(err);
	PQclear(r);
	return 0;
}

int pg_script(PGconn *c, const char *sql, struct err *err)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(r);
	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
		PQclear(r);
		return 0;
	}
	result_err(c, r, err);
	PQclear(r);
	return err_code(err);
}

char *pg_ident(PGconn *c, const char *name)
{
	char *q = PQescapeIdentifier(c, name, strlen(name));
	char *s = xstrdup(q ? q : "\"\"");
	PQfreemem(q);
	return s;
}

bool pg_broken(PGconn *c)
{
	return !c || PQstatus(c) != CONNECTION_OK;
}

int pg_script_steps(PGconn *c, const char *sql, void (*each)(const struct pg_step *s, void *arg), void *arg,
		    struct err *err)
{
	if (!PQsendQuery(c, sql)) {
		char buf[512];
		return err_setc(err, pg_broken(c) ? ERR_UNREACHABLE : ERR_FAIL, "%s", pg_errmsg(c, buf, sizeof buf));
	}
	int rc = 0;
	bool copy_ended = false;
	PGresult *r;
	while ((r = PQgetResult(c))) {
		ExecStatusType st = PQresultStatus(r);
		struct pg_step s = {0};
		if (copy_ended) {
			/* the outcome of the COPY ended below: already reported */
			copy_ended = false;
			PQclear(r);
			continue;
		}
		if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) {
			/* a script has no data to send or place to put it: end the
			 * COPY (else every PQgetResult returns it again, for ever) */
			s.copy = true;
			s.error = "COPY FROM STDIN or TO STDOUT cannot run in a script";
			s.sqlstate = "0A000"; /* feature_not_supported */
			if (st == PGRES_COPY_OUT) {
				char *buf;
				while (PQgetCopyData(c, &buf, 0) > 0)
					PQfreemem(buf);
			} else {
				PQputCopyEnd(c, s.error);
			}
			copy_ended = true;
			if (!rc)
				rc = err_setc(err, ERR_FAIL, "%s", s.error);
		} else if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
			s.tag = PQcmdStatus(r);
			s.rows = st == PGRES_TUPLES_OK ? PQntuples(r) : -1;
		} else {
			const char *m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
			s.error = m ? m : PQresultErrorMessage(r);
			s.position = PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION);
			s.sqlstate = PQresultErrorField(r, PG_DIAG_SQLSTATE);
			if (!rc)
				rc = err_setc(err, ERR_FAIL, "%s", s.error);
		}
		each(&s, arg);
		PQclear(r);
	}
	return rc;
}

int pg_socket(PGconn *c)
{
	return c ? PQsocket(c) : -1;
}

void pg_consume(PGconn *c)
{
	PQconsumeInput(c);
}

int pg_notified(PGconn *c, const char *prefix)
{
	int n = 0;
	PGnotify *nt;
	while ((nt = PQnotifies(c))) {
		if (!prefix || !strncmp(nt->extra, prefix, strlen(prefix)))
			n++;
		PQfreemem(nt);
	}
	return n;
}

/* ---- results ------------------------------------------------------------ */

void pg_clear(PGresult *r)
{
	PQclear(r);
}

int pg_rows(const PGresult *r)
{
	return PQntuples(r);
}

const char *pg_val(const PGresult *r, int row, int col)
{
	return PQgetvalue(r, row, col);
}

bool pg_isnull(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col);
}

int64_t pg_cmd_rows(const PGresult *r)
{
	/* PQcmdTuples wants a non-const result but only reads it */
	return r ? atoll(PQcmdTuples((PGresult *)r)) : 0;
}

const char *pg_error_field(const PGresult *r, enum pg_field f)
{
	static const int code[] = {
		[PG_FIELD_SQLSTATE] = PG_DIAG_SQLSTATE,
		[PG_FIELD_PRIMARY] = PG_DIAG_MESSAGE_PRIMARY,
		[PG_FIELD_DETAIL] = PG_DIAG_MESSAGE_DETAIL,
		[PG_FIELD_CONTEXT] = PG_DIAG_CONTEXT,
		[PG_FIELD_POSITION] = PG_DIAG_STATEMENT_POSITION,
		[PG_FIELD_COLUMN] = PG_DIAG_COLUMN_NAME,
	};
	return PQresultErrorField(r, code[f]);
}

/* ---- COPY FROM STDIN ---------------------------------------------------- */

/* Sets err from c's own message (a failure that is not a statement's). */
static int conn_err(PGconn *c, int code, struct err *err)
{
	char buf[512];
	return err_setc(err, code, "%s", pg_errmsg(c, buf, sizeof buf));
}

/* Reads the results left on c: every success's row count goes to *rows, the
 * first failure to *refused (or err). 0: all succeeded. A COPY_IN result
 * stops the reading (*copying is set). */
static int read_results(PGconn *c, int64_t *rows, PGresult **refused, bool *copying, struct err *err)
{
	PGresult *r, *bad = NULL;
	int rc = 0;
	while ((r = PQgetResult(c))) {
		ExecStatusType st = PQresultStatus(r);
		if (st == PGRES_COPY_IN && copying) {
			*copying = true;
			PQclear(r);
			break;
		}
		if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
			if (rows)
				*rows += pg_cmd_rows(r);
			PQclear(r);
		} else if (!bad && rc == 0) {
			result_err(c, r, err);
			rc = err_code(err);
			bad = r;
		} else {
			PQclear(r);
		}
	}
	if (refused)
		*refused = bad;
	else
		PQclear(bad);
	return rc;
}

int pg_copy_begin(PGconn *c, const char *sql, PGresult **refused, struct err *err)
{
	if (refused)
		*refused = NULL;
	if (!PQsendQuery(c, sql))
		return conn_err(c, ERR_UNREACHABLE, err);
	bool copying = false;
	PGresult *bad = NULL;
	int rc = read_results(c, NULL, &bad, &copying, err);
	if (copying) {
		/* a statement before the COPY cannot have failed: it would not run */
		PQclear(bad);
		return 0;
	}
	if (rc == 0)
		rc = err_set(err, "the server did not start the copy");
	if (refused)
		*refused = bad;
	else
		PQclear(bad);
	return rc;
}

int pg_copy_put(PGconn *c, const char *data, size_t len, struct err *err)
{
	if (PQputCopyData(c, data, (int)len) != 1)
		return conn_err(c, pg_broken(c) ? ERR_UNREACHABLE : ERR_FAIL, err);
	return 0;
}

int pg_copy_end(PGconn *c, int64_t *rows, PGresult **refused, struct err *err)
{
	if (rows)
		*rows = 0;
	/* after a failed put the connection is gone: only the results are left */
	int rc = 0;
	if (!pg_broken(c) && PQputCopyEnd(c, NULL) != 1)
		rc = conn_err(c, pg_broken(c) ? ERR_UNREACHABLE : ERR_FAIL, err);
	struct err e2 = {0};
	int r2 = read_results(c, rows, refused, NULL, rc ? &e2 : err);
	return rc ? rc : r2;
}
