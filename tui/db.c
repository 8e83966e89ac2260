/* The asynchronous state-store connection; see db.h. */
#include "tui/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "core/store.h"

struct pending {
	const char *sql;                 /* static text from core/query.c */
	int n;
	char *params[QUERY_MAX_PARAMS];  /* owned copies (NULL = SQL NULL) */
	void *owner;                     /* NULL once forgotten */
	db_result_fn fn;
	long arg;
	struct pending *next;
};

struct db {
	struct loop *loop;
	struct db_hooks hooks;
	PGconn *pg;
	int fd;              /* the socket being watched, -1 if none */
	enum db_state state;
	bool listening;      /* LISTEN was acknowledged */
	bool sent_listen;
	bool flushing;       /* output is still buffered: watch for writable */
	bool in_pump;        /* callbacks run inside pump(): db_send only queues */
	long kick;           /* a zero-delay timer that pumps after db_send */
	struct pending *inflight;
	PGresult *result;    /* the in-flight query's first result */
	struct pending *head, *tail;
	int n_pending;
};

static void pending_free(struct pending *p)
{
	for (int i = 0; i < p->n; i++)
		free(p->params[i]);
	free(p);
}

static void set_watch(struct db *d, int mask);
static void on_io(struct loop *l, int fd, int mask, void *data);
static void pump(struct db *d);
static void kick_fire(struct loop *l, long id, void *data);

struct db *db_new(struct loop *l, const struct db_hooks *hooks)
{
	struct db *d = xcalloc(1, sizeof *d);
	d->loop = l;
	d->hooks = *hooks;
	d->fd = -1;
	return d;
}

/* Drops every query; their callbacks get the error so owners can re-ask. */
static void fail_all(struct db *d, const char *why)
{
	struct pending *list = d->head;
	d->head = d->tail = NULL;
	if (d->inflight) {
		d->inflight->next = list;
		list = d->inflight;
		d->inflight = NULL;
	}
	PQclear(d->result);
	d->result = NULL;
	d->n_pending = 0;
	while (list) {
		struct pending *p = list;
		list = p->next;
		if (p->fn && p->owner && why)
			p->fn(p->owner, NULL, why, p->arg);
		pending_free(p);
	}
}

static void drop_conn(struct db *d)
{
	if (d->fd >= 0)
		loop_unwatch(d->loop, d->fd, LOOP_READ | LOOP_WRITE);
	d->fd = -1;
	if (d->pg)
		PQfinish(d->pg);
	d->pg = NULL;
	d->listening = d->sent_listen = d->flushing = false;
}

void db_free(struct db *d)
{
	if (!d)
		return;
	if (d->kick)
		loop_timer_del(d->loop, d->kick);
	fail_all(d, NULL);
	drop_conn(d);
	free(d);
}

static void go_down(struct db *d, const char *msg)
{
	char buf[512];
	snprintf(buf, sizeof buf, "%s", msg);
	/* one line: libpq messages end in newlines and may have several */
	for (char *p = buf; *p; p++)
		if (*p == '\n')
			*p = (p[1] ? ' ' : '\0');
	drop_conn(d);
	d->state = DB_DOWN;
	fail_all(d, buf);
	if (d->hooks.on_state)
		d->hooks.on_state(d->hooks.data, DB_DOWN, buf);
}

static void set_watch(struct db *d, int mask)
{
	int fd = d->pg ? PQsocket(d->pg) : -1;
	if (d->fd >= 0 && d->fd != fd) {
		loop_unwatch(d->loop, d->fd, LOOP_READ | LOOP_WRITE);
		d->fd = -1;
	}
	if (fd < 0)
		return;
	d->fd = fd;
	loop_unwatch(d->loop, fd, LOOP_READ | LOOP_WRITE);
	loop_watch(d->loop, fd, mask, on_io, d);
}

/* libpq prints notices (and a server's FATAL on shutdown) to stderr, which
 * is the terminal the console draws on: drop them; errors reach us anyway. */
static void ignore_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

void db_connect(struct db *d, const char *conninfo)
{
	fail_all(d, "reconnecting");
	drop_conn(d);
	d->pg = PQconnectStart(conninfo);
	if (!d->pg || PQstatus(d->pg) == CONNECTION_BAD) {
		go_down(d, d->pg ? PQerrorMessage(d->pg) : "out of memory");
		return;
	}
	PQsetNoticeProcessor(d->pg, ignore_notice, NULL);
	d->state = DB_CONNECTING;
	if (d->hooks.on_state)
		d->hooks.on_state(d->hooks.data, DB_CONNECTING, "");
	/* libpq says to start by waiting for writable */
	set_watch(d, LOOP_WRITE);
}

enum db_state db_state(const struct db *d)
{
	return d->state;
}

int db_pending(const struct db *d)
{
	return d->n_pending + (d->inflight ? 1 : 0);
}

static void connect_step(struct db *d)
{
	switch (PQconnectPoll(d->pg)) {
	case PGRES_POLLING_READING:
		set_watch(d, LOOP_READ);
		return;
	case PGRES_POLLING_WRITING:
		set_watch(d, LOOP_WRITE);
		return;
	case PGRES_POLLING_FAILED:
		go_down(d, PQerrorMessage(d->pg));
		return;
	case PGRES_POLLING_OK:
		break;
	default:
		return;
	}
	if (PQsetnonblocking(d->pg, 1) != 0) {
		go_down(d, PQerrorMessage(d->pg));
		return;
	}
	set_watch(d, LOOP_READ);
	/* LISTEN goes first; the state turns ready when it is acknowledged */
	if (!PQsendQuery(d->pg, "LISTEN " STORE_CHANNEL)) {
		go_down(d, PQerrorMessage(d->pg));
		return;
	}
	d->sent_listen = true;
	pump(d);
}

static void finish_inflight(struct db *d)
{
	struct pending *p = d->inflight;
	PGresult *r = d->result;
	d->inflight = NULL;
	d->result = NULL;
	if (p->fn && p->owner) {
		ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
		if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
			p->fn(p->owner, r, NULL, p->arg);
		} else {
			char msg[512];
			snprintf(msg, sizeof msg, "%s", r ? PQresultErrorMessage(r) : PQerrorMessage(d->pg));
			msg[strcspn(msg, "\n")] = '\0';
			p->fn(p->owner, NULL, msg, p->arg);
		}
	}
	PQclear(r);
	pending_free(p);
}

static void send_next(struct db *d)
{
	if (d->state != DB_READY || d->inflight || !d->head)
		return;
	struct pending *p = d->head;
	d->head = p->next;
	if (!d->head)
		d->tail = NULL;
	d->n_pending--;
	p->next = NULL;
	d->inflight = p;
	if (!PQsendQueryParams(d->pg, p->sql, p->n, NULL, (const char *const *)p->params, NULL, NULL, 0)) {
		go_down(d, PQerrorMessage(d->pg));
		return;
	}
}

/* Moves everything along: flushes output, reads input, completes results,
 * delivers notifications, sends the next query. */
static void pump_once(struct db *d);

static void pump(struct db *d)
{
	if (d->in_pump)
		return;
	d->in_pump = true;
	pump_once(d);
	d->in_pump = false;
}

static void pump_once(struct db *d)
{
	for (;;) {
		if (!d->pg)
			return;
		int f = PQflush(d->pg);
		if (f < 0) {
			go_down(d, PQerrorMessage(d->pg));
			return;
		}
		if (f == 1 && !d->flushing) {
			d->flushing = true;
			set_watch(d, LOOP_READ | LOOP_WRITE);
		} else if (f == 0 && d->flushing) {
			d->flushing = false;
			set_watch(d, LOOP_READ);
		}
		if (!PQconsumeInput(d->pg)) {
			go_down(d, PQerrorMessage(d->pg));
			return;
		}
		bool progressed = false;
		while ((d->inflight || (d->sent_listen && !d->listening)) && !PQisBusy(d->pg)) {
			PGresult *r = PQgetResult(d->pg);
			if (r) {
				/* keep the first result; a statement gives one */
				if (d->inflight && !d->result)
					d->result = r;
				else if (!d->inflight && !d->listening && PQresultStatus(r) != PGRES_COMMAND_OK) {
					char msg[512];
					snprintf(msg, sizeof msg, "LISTEN: %s", PQresultErrorMessage(r));
					PQclear(r);
					go_down(d, msg);
					return;
				} else {
					PQclear(r);
				}
				continue;
			}
			/* NULL: the statement is complete */
			progressed = true;
			if (d->inflight) {
				finish_inflight(d);
			} else {
				d->listening = true;
				d->state = DB_READY;
				if (d->hooks.on_state)
					d->hooks.on_state(d->hooks.data, DB_READY, "");
			}
			if (!d->pg)
				return;
		}
		PGnotify *n;
		while (d->pg && (n = PQnotifies(d->pg))) {
			if (d->hooks.on_notify)
				d->hooks.on_notify(d->hooks.data, n->extra);
			PQfreemem(n);
		}
		if (!d->pg)
			return;
		if (d->state == DB_READY && !d->inflight && d->head) {
			send_next(d);
			progressed = true;
		}
		if (!progressed)
			return;
	}
}

static void on_io(struct loop *l, int fd, int mask, void *data)
{
	struct db *d = data;
	if (d->state == DB_CONNECTING && !d->sent_listen) {
		connect_step(d);
		return;
	}
	pump(d);
}

int db_send(struct db *d, const struct query *q, void *owner, db_result_fn fn, long arg)
{
	if (d->state != DB_READY)
		return -1;
	struct pending *p = xcalloc(1, sizeof *p);
	p->sql = q->sql;
	p->n = q->n;
	for (int i = 0; i < q->n; i++)
		p->params[i] = xstrdup(q->params[i]);
	p->owner = owner;
	p->fn = fn;
	p->arg = arg;
	if (d->tail)
		d->tail->next = p;
	else
		d->head = p;
	d->tail = p;
	d->n_pending++;
	/* results are never delivered inside db_send: the caller may still be
	 * setting up what its callback looks at */
	if (!d->inflight && !d->in_pump && !d->kick)
		d->kick = loop_timer_add(d->loop, 0, kick_fire, d);
	return 0;
}

static void kick_fire(struct loop *l, long id, void *data)
{
	struct db *d = data;
	d->kick = 0;
	if (d->state == DB_READY && !d->inflight)
		send_next(d);
	pump(d);
}

void db_forget(struct db *d, void *owner)
{
	for (struct pending *p = d->head; p; p = p->next)
		if (p->owner == owner)
			p->owner = NULL;
	if (d->inflight && d->inflight->owner == owner)
		d->inflight->owner = NULL;
}
