/* The non-blocking libpq connection; see pgasync.h. libpq's own steps are
 * PQconnectStart/PQconnectPoll, PQsetnonblocking, PQsendQueryParams, PQflush,
 * PQconsumeInput with PQisBusy/PQgetResult, and PQnotifies. */
#include "connectors/pgasync.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "connectors/pg.h"

struct pga {
	struct loop *loop;
	struct pga_hooks hooks;
	PGconn *pg;
	int fd;              /* the socket being watched, -1 if none */
	enum pga_state state;
	char **channels;     /* to LISTEN on, NULL-terminated (owned) */
	bool sent_listen;    /* the LISTENs went out; ready when they are acknowledged */
	bool flushing;       /* output is still buffered: watch for writable */
	bool in_pump;
	bool sent_in_pump;   /* a callback sent a query: go round to flush it */
	/* bumped whenever the connection is dropped or replaced, so code that
	 * ran a callback can tell the connection changed under it */
	unsigned gen;
	int depth;           /* callbacks of ours on the stack */
	bool freed;          /* pga_free came from a callback: free on the way out */
	/* the query in flight */
	bool busy;
	pga_result_fn fn;
	void *arg;
	PGresult *result;    /* its first result; a statement gives one */
	struct pg_dsn dsn;   /* the conninfo apart: its password, scrubbed from messages */
};

struct pga_result {
	PGresult *r;         /* NULL on failure */
	const char *error;   /* NULL on success */
};

static void on_io(struct loop *l, int fd, int mask, void *data);
static void pump(struct pga *a);

static void channels_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

struct pga *pga_new(struct loop *l, const struct pga_hooks *hooks)
{
	struct pga *a = xcalloc(1, sizeof *a);
	a->loop = l;
	if (hooks)
		a->hooks = *hooks;
	a->fd = -1;
	return a;
}

static void watch(struct pga *a, int fd, int events)
{
	if (a->fd >= 0)
		loop_unwatch(a->loop, a->fd, LOOP_READ | LOOP_WRITE);
	a->fd = fd;
	if (fd >= 0)
		loop_watch(a->loop, fd, events, on_io, a);
}

/* libpq may change sockets while connecting (another host or address). */
static void set_watch(struct pga *a, int events)
{
	watch(a, a->pg ? PQsocket(a->pg) : -1, events);
}

static void drop_conn(struct pga *a)
{
	watch(a, -1, 0);
	if (a->pg)
		PQfinish(a->pg);
	a->pg = NULL;
	PQclear(a->result);
	a->result = NULL;
	a->busy = false;
	a->fn = NULL;
	a->arg = NULL;
	a->sent_listen = a->flushing = false;
	a->gen++;
}

static void really_free(struct pga *a)
{
	channels_free(a->channels);
	pg_dsn_free(&a->dsn);
	free(a);
}

void pga_free(struct pga *a)
{
	if (!a)
		return;
	drop_conn(a);
	a->state = PGA_DOWN;
	if (a->depth > 0) {
		a->freed = true;
		return;
	}
	really_free(a);
}

/* Around every call out to the owner, who may free us meanwhile. */
static void enter(struct pga *a)
{
	a->depth++;
}

/* false when a is gone (the caller must not touch it again) */
static bool leave(struct pga *a)
{
	if (--a->depth == 0 && a->freed) {
		really_free(a);
		return false;
	}
	return !a->freed;
}

static void tell_state(struct pga *a, enum pga_state st, const char *msg)
{
	a->state = st;
	if (a->hooks.on_state)
		a->hooks.on_state(a->hooks.data, st, msg);
}

static void go_down(struct pga *a, const char *why)
{
	char buf[512];
	char *m = pg_scrub(pg_oneline(why, buf, sizeof buf), (const char *const *)a->dsn.forms, a->dsn.n_forms);
	drop_conn(a);
	tell_state(a, PGA_DOWN, m);
	free(m);
}

/* libpq prints notices (and a server's FATAL on shutdown) to stderr, which
 * may be a terminal someone draws on: drop them; errors reach us anyway. */
static void ignore_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

void pga_connect(struct pga *a, const char *conninfo, const char *const *channels)
{
	enter(a);
	drop_conn(a);
	channels_free(a->channels);
	a->channels = NULL;
	size_t n = 0;
	while (channels && channels[n])
		n++;
	if (n) {
		a->channels = xcalloc(n + 1, sizeof *a->channels);
		for (size_t i = 0; i < n; i++)
			a->channels[i] = xstrdup(channels[i]);
	}
	pg_dsn_free(&a->dsn);
	pg_dsn_split(conninfo, &a->dsn);
	const char *const keys[] = {"dbname", a->dsn.password ? "password" : NULL, NULL};
	const char *const vals[] = {a->dsn.dsn, a->dsn.password, NULL};
	a->pg = PQconnectStartParams(keys, vals, 1);
	if (!a->pg || PQstatus(a->pg) == CONNECTION_BAD) {
		go_down(a, a->pg ? PQerrorMessage(a->pg) : "out of memory");
	} else {
		PQsetNoticeProcessor(a->pg, ignore_notice, NULL);
		tell_state(a, PGA_CONNECTING, "");
		/* libpq says to start by waiting for writable */
		if (a->pg)
			set_watch(a, LOOP_WRITE);
	}
	leave(a);
}

enum pga_state pga_state(const struct pga *a)
{
	return a->state;
}

bool pga_idle(const struct pga *a)
{
	return a->state == PGA_READY && !a->busy && a->pg;
}

PGconn *pga_pg(const struct pga *a)
{
	return a->pg;
}

/* "LISTEN a; LISTEN b", the names quoted as identifiers. */
static char *listen_sql(struct pga *a)
{
	struct strbuf b = {0};
	for (size_t i = 0; a->channels[i]; i++) {
		char *id = pg_ident(a->pg, a->channels[i]);
		sb_addf(&b, "%sLISTEN %s", i ? "; " : "", id);
		free(id);
	}
	return sb_steal(&b);
}

static void connect_step(struct pga *a)
{
	switch (PQconnectPoll(a->pg)) {
	case PGRES_POLLING_READING:
		set_watch(a, LOOP_READ);
		return;
	case PGRES_POLLING_WRITING:
		set_watch(a, LOOP_WRITE);
		return;
	case PGRES_POLLING_FAILED:
		go_down(a, PQerrorMessage(a->pg));
		return;
	case PGRES_POLLING_OK:
		break;
	default:
		return;
	}
	if (PQsetnonblocking(a->pg, 1) != 0) {
		go_down(a, PQerrorMessage(a->pg));
		return;
	}
	set_watch(a, LOOP_READ);
	if (!a->channels) {
		tell_state(a, PGA_READY, "");
		return;
	}
	/* the LISTENs go first; the state turns ready when they are acknowledged */
	char *sql = listen_sql(a);
	int ok = PQsendQuery(a->pg, sql);
	free(sql);
	if (!ok) {
		go_down(a, PQerrorMessage(a->pg));
		return;
	}
	a->sent_listen = true;
	pump(a);
}

/* Output still buffered means watching for writable too. <0: went down. */
static int flush_step(struct pga *a)
{
	int f = PQflush(a->pg);
	if (f < 0) {
		go_down(a, PQerrorMessage(a->pg));
		return -1;
	}
	if (f == 1 && !a->flushing) {
		a->flushing = true;
		set_watch(a, LOOP_READ | LOOP_WRITE);
	} else if (f == 0 && a->flushing) {
		a->flushing = false;
		set_watch(a, LOOP_READ);
	}
	return 0;
}

int pga_send(struct pga *a, const char *sql, int n, const char *const *params, pga_result_fn fn, void *arg)
{
	if (!pga_idle(a))
		return -1;
	if (!PQsendQueryParams(a->pg, sql, n, NULL, params, NULL, NULL, 0)) {
		enter(a);
		go_down(a, PQerrorMessage(a->pg));
		leave(a);
		return -1;
	}
	a->busy = true;
	a->fn = fn;
	a->arg = arg;
	/* results come from the loop, never from inside pga_send */
	if (a->in_pump) {
		a->sent_in_pump = true;
	} else {
		enter(a);
		flush_step(a);
		leave(a);
	}
	return 0;
}

static void finish_query(struct pga *a)
{
	PGresult *r = a->result;
	pga_result_fn fn = a->fn;
	void *arg = a->arg;
	a->result = NULL;
	a->busy = false;
	a->fn = NULL;
	a->arg = NULL;
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	char msg[512];
	struct pga_result v = {r, NULL};
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		v.r = NULL;
		v.error = pg_oneline(r ? PQresultErrorMessage(r) : PQerrorMessage(a->pg), msg, sizeof msg);
	}
	if (fn)
		fn(arg, &v);
	PQclear(r);
}

/* Moves everything along: flushes output, reads input, completes results,
 * delivers notifications. Stops when the connection is replaced or freed
 * by a callback. */
static void pump_once(struct pga *a)
{
	for (;;) {
		if (!a->pg || flush_step(a) < 0)
			return;
		if (!PQconsumeInput(a->pg)) {
			go_down(a, PQerrorMessage(a->pg));
			return;
		}
		unsigned gen = a->gen;
		bool progressed = false;
		while ((a->busy || (a->sent_listen && a->state != PGA_READY)) && !PQisBusy(a->pg)) {
			PGresult *r = PQgetResult(a->pg);
			if (r) {
				if (a->busy && !a->result) {
					a->result = r;
				} else if (!a->busy && PQresultStatus(r) != PGRES_COMMAND_OK) {
					char msg[512];
					snprintf(msg, sizeof msg, "LISTEN: %s", PQresultErrorMessage(r));
					PQclear(r);
					go_down(a, msg);
					return;
				} else {
					PQclear(r);
				}
				continue;
			}
			/* NULL: the statement is complete */
			progressed = true;
			if (a->busy)
				finish_query(a);
			else
				tell_state(a, PGA_READY, "");
			if (a->freed || a->gen != gen || !a->pg)
				return;
		}
		PGnotify *n;
		while ((n = PQnotifies(a->pg))) {
			if (a->hooks.on_notify)
				a->hooks.on_notify(a->hooks.data, n->relname, n->extra);
			PQfreemem(n);
			if (a->freed || a->gen != gen || !a->pg)
				return;
		}
		if (!progressed && !a->sent_in_pump)
			return;
		a->sent_in_pump = false;
	}
}

static void pump(struct pga *a)
{
	if (a->in_pump)
		return;
	a->in_pump = true;
	pump_once(a);
	a->in_pump = false;
}

static void on_io(struct loop *l, int fd, int mask, void *data)
{
	(void)l;
	(void)fd;
	(void)mask;
	struct pga *a = data;
	enter(a);
	if (a->pg && a->state == PGA_CONNECTING && !a->sent_listen)
		connect_step(a);
	else if (a->pg)
		pump(a);
	leave(a);
}

/* ---- the result view ----------------------------------------------------- */

const char *pga_result_error(const struct pga_result *r)
{
	return r->error;
}

struct pg_result *pga_result_pg(const struct pga_result *r)
{
	return r->r;
}
