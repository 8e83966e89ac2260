/* libpq helpers. */
#include "connectors/pg.h"

#include <stdlib.h>
#include <string.h>

#include "base/util.h"

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

const char *pg_errmsg(PGconn *c, char *buf, size_t size)
{
	snprintf(buf, size, "%s", c ? PQerrorMessage(c) : "no connection");
	oneline(buf);
	return buf;
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

PGresult *pg_exec(PGconn *c, const char *sql, int nparams, const char *const *params, struct err *err)
{
	PGresult *r = PQexecParams(c, sql, nparams, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);
	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return r;
	result_err(c, r, err);
	PQclear(r);
	return NULL;
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

void pg_close(PGconn *c)
{
	if (c)
		PQfinish(c);
}

int pg_script_steps(PGconn *c, const char *sql, void (*each)(const struct pg_step *s, void *arg), void *arg,
		    struct err *err)
{
	if (!PQsendQuery(c, sql)) {
		char buf[512];
		return err_setc(err, pg_broken(c) ? ERR_UNREACHABLE : ERR_FAIL, "%s", pg_errmsg(c, buf, sizeof buf));
	}
	int rc = 0;
	PGresult *r;
	while ((r = PQgetResult(c))) {
		ExecStatusType st = PQresultStatus(r);
		struct pg_step s = {0};
		if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
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
