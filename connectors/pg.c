/* libpq helpers: the one file of sluice's core side that calls libpq (the
 * console's non-blocking connection is pgasync.c). */
#include "connectors/pg.h"

#include <ctype.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

/* SQL this module runs (database names go through PQescapeIdentifier). */
static const char SQL_DB_EXISTS[] = "SELECT 1 FROM pg_database WHERE datname = $1";
static const char SQL_CREATE_DB[] = "CREATE DATABASE ";
/* What every session starts with: our own messages are plain; notices from
 * user SQL go to the task log. */
static const char SQL_SESSION[] = "SET client_min_messages = warning";
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

/* ---- secrets: a password reaches libpq only as the password keyword, and
 * no message carries any piece of it ------------------------------------- */

/* A scrubbed run shorter than this could be any word; a secret shorter than
 * it is scrubbed where it appears whole. */
#define SCRUB_MIN 4

/* s[0..n) with every %XX decoded; a '%' not followed by two hex digits is
 * kept as it is (a password written unencoded may hold one). */
static char *pct_decode(const char *s, size_t n)
{
	struct strbuf b = {0};
	sb_adds(&b, "");
	for (size_t i = 0; i < n; i++) {
		int hi = i + 1 < n ? hex_value((unsigned char)s[i + 1]) : -1;
		int lo = hi >= 0 && i + 2 < n ? hex_value((unsigned char)s[i + 2]) : -1;
		if (s[i] == '%' && lo >= 0) {
			sb_addc(&b, (char)(hi * 16 + lo));
			i += 2;
		} else {
			sb_addc(&b, s[i]);
		}
	}
	return sb_steal(&b);
}

/* Does a host list (host[:port][,host[:port]...], possibly empty) start at s
 * and end the string or a '/' or '?'? */
static bool host_list_at(const char *s)
{
	for (; *s && *s != '/' && *s != '?'; s++)
		if (!isalnum((unsigned char)*s) && !strchr(".-_[]:,%", *s))
			return false;
	return true;
}

const char *pg_url_at(const char *url)
{
	const char *auth = strstr(url, "://");
	if (!auth)
		return NULL;
	auth += 3;
	const char *at = NULL;
	for (const char *p = auth; *p; p++)
		if (*p == '@' && host_list_at(p + 1))
			at = p;
	return at;
}

static bool is_pg_url(const char *s)
{
	return !strncmp(s, "postgresql://", 13) || !strncmp(s, "postgres://", 11);
}

static void add_form(struct pg_dsn *d, const char *s, size_t n)
{
	if (!n || d->n_forms == sizeof d->forms / sizeof d->forms[0])
		return;
	d->forms[d->n_forms++] = xstrndup(s, n);
}

/* The forms a password may be written or shown in, besides the raw text it
 * was given as: decoded, percent-encoded, conninfo-quoted. */
static void add_password(struct pg_dsn *d, char *password)
{
	free(d->password);
	d->password = password;
	add_form(d, password, strlen(password));
	struct strbuf b = {0};
	sb_add_pct(&b, password);
	add_form(d, b.s ? b.s : "", b.len);
	sb_reset(&b);
	pg_conninfo_add(&b, "p", password);
	add_form(d, b.s + 2, b.len - 2);
	sb_free(&b);
}

/* A URL: user info up to the last '@' before the host list (so '/', '@',
 * ':', '?' and '#' may be in the password unencoded), ?password= too. */
static void split_url(const char *url, struct pg_dsn *d)
{
	const char *auth = strstr(url, "://") + 3;
	const char *at = pg_url_at(url);
	struct strbuf b = {0};
	sb_add(&b, url, (size_t)(auth - url));
	const char *rest = auth;
	if (at) {
		const char *colon = memchr(auth, ':', (size_t)(at - auth));
		const char *uend = colon ? colon : at;
		char *user = pct_decode(auth, (size_t)(uend - auth));
		if (*user) {
			sb_add_pct(&b, user);
			sb_addc(&b, '@');
		}
		free(user);
		if (colon) {
			add_form(d, colon + 1, (size_t)(at - colon - 1));
			add_password(d, pct_decode(colon + 1, (size_t)(at - colon - 1)));
		}
		rest = at + 1;
	}
	const char *q = strchr(rest, '?');
	if (!q) {
		sb_adds(&b, rest);
		d->dsn = sb_steal(&b);
		return;
	}
	sb_add(&b, rest, (size_t)(q - rest));
	char sep = '?';
	for (const char *p = q + 1; *p;) {
		size_t n = strcspn(p, "&");
		if (n > 9 && !strncmp(p, "password=", 9)) {
			add_form(d, p + 9, n - 9);
			add_password(d, pct_decode(p + 9, n - 9));
		} else if (n) {
			sb_addc(&b, sep);
			sb_add(&b, p, n);
			sep = '&';
		}
		p += n;
		if (*p == '&')
			p++;
	}
	d->dsn = sb_steal(&b);
}

/* A conninfo, read by libpq's rules (key = value, the value bare up to a
 * space or in single quotes, backslash escapes); rebuilt without password. A
 * conninfo libpq would refuse is passed on as it is, and everything after a
 * password key counts as the secret. */
static void split_conninfo(const char *s, struct pg_dsn *d)
{
	struct strbuf b = {0}, v = {0};
	sb_adds(&b, "");
	const char *p = s;
	bool bad = false;
	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		const char *k = p;
		while (*p && *p != '=' && !isspace((unsigned char)*p))
			p++;
		size_t klen = (size_t)(p - k);
		while (isspace((unsigned char)*p))
			p++;
		if (*p != '=' || !klen) {
			bad = true;
			break;
		}
		p++;
		while (isspace((unsigned char)*p))
			p++;
		const char *raw = p;
		sb_reset(&v);
		sb_adds(&v, "");
		if (*p == '\'') {
			for (p++; *p && *p != '\''; p++) {
				if (*p == '\\' && p[1])
					p++;
				sb_addc(&v, *p);
			}
			if (!*p) {
				bad = true;
				p = raw;
				break;
			}
			p++;
		} else {
			for (; *p && !isspace((unsigned char)*p); p++) {
				if (*p == '\\' && p[1])
					p++;
				sb_addc(&v, *p);
			}
		}
		char *key = xstrndup(k, klen);
		if (!strcmp(key, "password")) {
			add_form(d, raw, (size_t)(p - raw));
			add_password(d, sb_steal(&v));
		} else {
			pg_conninfo_add(&b, key, v.s);
		}
		free(key);
	}
	sb_free(&v);
	if (!bad) {
		d->dsn = sb_steal(&b);
		return;
	}
	sb_free(&b);
	d->dsn = xstrdup(s);
	for (const char *w = strstr(s, "password"); w; w = strstr(w + 1, "password")) {
		const char *eq = w + 8;
		while (isspace((unsigned char)*eq))
			eq++;
		if (*eq == '=')
			add_form(d, eq + 1, strlen(eq + 1));
	}
}

void pg_dsn_split(const char *dsn, struct pg_dsn *out)
{
	memset(out, 0, sizeof *out);
	if (is_pg_url(dsn))
		split_url(dsn, out);
	else
		split_conninfo(dsn, out);
}

void pg_dsn_free(struct pg_dsn *d)
{
	if (!d)
		return;
	if (d->password)
		memset(d->password, 0, strlen(d->password));
	free(d->password);
	for (size_t i = 0; i < d->n_forms; i++) {
		memset(d->forms[i], 0, strlen(d->forms[i]));
		free(d->forms[i]);
	}
	free(d->dsn);
	memset(d, 0, sizeof *d);
}

char *pg_scrub(const char *msg, const char *const *secrets, size_t n)
{
	struct strbuf b = {0};
	sb_adds(&b, "");
	for (size_t i = 0; msg[i];) {
		/* the longest run from here that is inside some secret */
		size_t best = 0;
		for (size_t k = 0; k < n; k++) {
			const char *s = secrets[k];
			size_t slen = s ? strlen(s) : 0;
			size_t min = slen < SCRUB_MIN ? slen : SCRUB_MIN;
			for (size_t j = 0; j < slen; j++) {
				size_t l = 0;
				while (msg[i + l] && j + l < slen && msg[i + l] == s[j + l])
					l++;
				if (l >= min && l > best)
					best = l;
			}
		}
		if (best) {
			sb_adds(&b, "***");
			i += best;
		} else {
			sb_addc(&b, msg[i++]);
		}
	}
	return sb_steal(&b);
}

/* Sets err from a failed connection's message, scrubbed of d's secrets. */
static void connect_err(PGconn *c, const struct pg_dsn *d, const char *what, struct err *err)
{
	char buf[512];
	char *m = pg_scrub(pg_errmsg(c, buf, sizeof buf), (const char *const *)d->forms, d->n_forms);
	err_setc(err, ERR_UNREACHABLE, "%s: cannot connect: %s", what, m);
	free(m);
}

bool pg_ping(const char *dsn, int timeout_s)
{
	/* dbname is expanded as the whole conninfo or URI; a timeout after it wins */
	char t[16];
	snprintf(t, sizeof t, "%d", timeout_s);
	struct pg_dsn d;
	pg_dsn_split(dsn, &d);
	const char *const keys[] = {"dbname", timeout_s > 0 ? "connect_timeout" : NULL, NULL};
	const char *const vals[] = {d.dsn, t, NULL};
	bool up = PQpingParams(keys, vals, 1) == PQPING_OK;
	pg_dsn_free(&d);
	return up;
}

int pg_db_exists(PGconn *c, const char *name, struct err *err)
{
	PGresult *r = pg_exec(c, SQL_DB_EXISTS, 1, &name, err);
	if (!r)
		return err_code(err);
	bool exists = PQntuples(r) > 0;
	PQclear(r);
	return exists;
}

int pg_db_ensure(PGconn *c, const char *name, struct err *err)
{
	int exists = pg_db_exists(c, name, err);
	if (exists < 0)
		return exists;
	if (exists)
		return 0;
	char *id = pg_ident(c, name);
	char *sql = xasprintf("%s%s", SQL_CREATE_DB, id);
	free(id);
	PGresult *r = PQexec(c, sql);
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
	return pg_connect_db(conninfo, NULL, what, err);
}

/* timeout_s > 0: in place of the conninfo's connect_timeout */
static PGconn *connect_db(const char *conninfo, const char *dbname, int timeout_s, const char *what,
			  struct err *err)
{
	/* dbname is expanded as the whole conninfo or URI, the password after it;
	 * only the first dbname is expanded, so a second one is just the database */
	struct pg_dsn d;
	pg_dsn_split(conninfo, &d);
	const char *keys[5] = {"dbname"}, *vals[5] = {d.dsn};
	size_t n = 1;
	if (d.password) {
		keys[n] = "password";
		vals[n++] = d.password;
	}
	if (dbname) {
		keys[n] = "dbname";
		vals[n++] = dbname;
	}
	char t[16];
	if (timeout_s > 0) {
		snprintf(t, sizeof t, "%d", timeout_s);
		keys[n] = "connect_timeout";
		vals[n++] = t;
	}
	PGconn *c = PQconnectdbParams(keys, vals, 1);
	if (!c) {
		pg_dsn_free(&d);
		err_setc(err, ERR_UNREACHABLE, "%s: out of memory connecting", what);
		return NULL;
	}
	if (PQstatus(c) != CONNECTION_OK) {
		connect_err(c, &d, what, err);
		pg_dsn_free(&d);
		PQfinish(c);
		return NULL;
	}
	pg_dsn_free(&d);
	PGresult *r = PQexec(c, SQL_SESSION);
	PQclear(r);
	return c;
}

PGconn *pg_connect_db(const char *conninfo, const char *dbname, const char *what, struct err *err)
{
	return connect_db(conninfo, dbname, 0, what, err);
}

PGconn *pg_connect_quick(const char *conninfo, const char *dbname, int timeout_s, const char *what,
			 struct err *err)
{
	return connect_db(conninfo, dbname, timeout_s, what, err);
}

bool pg_lendable(PGconn *c)
{
	if (!c || PQstatus(c) != CONNECTION_OK || PQsslInUse(c) || PQgssEncInUse(c) || PQsocket(c) < 0)
		return false;
	struct pollfd p = {PQsocket(c), POLLIN, 0};
	return poll(&p, 1, 0) == 0;
}

int pg_session_reset(PGconn *c, struct err *err)
{
	/* DISCARD ALL refuses to run in a multi-statement string: two trips */
	if (pg_script(c, "DISCARD ALL", err) < 0 || pg_script(c, SQL_SESSION, err) < 0)
		return err_code(err);
	return 0;
}

static void drop_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

void pg_notices_off(PGconn *c)
{
	if (c)
		PQsetNoticeProcessor(c, drop_notice, NULL);
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

PGresult *pg_stream(PGconn *c, const char *sql, int (*each)(const PGresult *r, void *arg), void *arg,
		    PGresult **refused, struct err *err)
{
	if (refused)
		*refused = NULL;
	if (!PQsendQueryParams(c, sql, 0, NULL, NULL, NULL, NULL, 0)) {
		char buf[512];
		err_setc(err, pg_broken(c) ? ERR_UNREACHABLE : ERR_FAIL, "%s", pg_errmsg(c, buf, sizeof buf));
		return NULL;
	}
	PQsetSingleRowMode(c);
	PGresult *r, *last = NULL, *bad = NULL;
	bool stopped = false;
	while ((r = PQgetResult(c))) {
		ExecStatusType st = PQresultStatus(r);
		if (st == PGRES_SINGLE_TUPLE) {
			if (!stopped && each(r, arg) != 0) {
				/* the rest is not wanted: ask the server to stop sending it */
				stopped = true;
				PGcancel *k = PQgetCancel(c);
				char ebuf[256];
				if (k)
					PQcancel(k, ebuf, sizeof ebuf);
				PQfreeCancel(k);
			}
			PQclear(r);
		} else if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
			PQclear(last);
			last = r;
		} else if (!bad) {
			bad = r;
		} else {
			PQclear(r);
		}
	}
	if (bad && !stopped) {
		result_err(c, bad, err);
		PQclear(last);
		if (refused && PQresultErrorField(bad, PG_DIAG_MESSAGE_PRIMARY))
			*refused = bad;
		else
			PQclear(bad);
		return NULL;
	}
	PQclear(bad);
	if (!last)
		err_set(err, "%s", stopped ? "stopped" : "the server sent no result");
	return last;
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

bool pg_tls(PGconn *c)
{
	return c && PQsslInUse(c);
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
	int all = pg_notified_by(c, prefix ? &prefix : NULL, prefix ? 1 : 0, &n);
	return prefix ? n : all;
}

int pg_notified_by(PGconn *c, const char *const *prefixes, size_t n, int *counts)
{
	int all = 0;
	PGnotify *nt;
	for (size_t i = 0; i < n; i++)
		counts[i] = 0;
	while ((nt = PQnotifies(c))) {
		all++;
		for (size_t i = 0; i < n; i++)
			if (!strncmp(nt->extra, prefixes[i], strlen(prefixes[i])))
				counts[i]++;
		PQfreemem(nt);
	}
	return all;
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

int pg_cols(const PGresult *r)
{
	return r ? PQnfields(r) : 0;
}

const char *pg_col_name(const PGresult *r, int col)
{
	return PQfname(r, col);
}

const char *pg_val(const PGresult *r, int row, int col)
{
	return PQgetvalue(r, row, col);
}

bool pg_isnull(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col);
}

char *pg_strdup_val(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : xstrdup(PQgetvalue(r, row, col));
}

bool pg_col_numeric(const PGresult *r, int col)
{
	/* int8, int2, int4, oid, float4, float8, numeric (pg_type.dat) */
	switch (PQftype(r, col)) {
	case 20: case 21: case 23: case 26: case 700: case 701: case 1700:
		return true;
	default:
		return false;
	}
}

const char *pg_cmd_tag(const PGresult *r)
{
	/* PQcmdStatus wants a non-const result but only reads it */
	return r ? PQcmdStatus((PGresult *)r) : "";
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
