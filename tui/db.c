/* The console's queue of queries over one connectors/pgasync connection;
 * see db.h. */
#include "tui/db.h"

#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "connectors/pgasync.h"
#include "core/query.h"
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
	struct pga *pga;
	enum db_state state;
	bool in_cb;          /* in a result or ready callback: the next query goes out right after it */
	long kick;           /* a zero-delay timer that sends after db_send */
	struct pending *inflight;
	int64_t sent_at;     /* now_ms() when the query in flight went out */
	struct pending *head, *tail;
	int n_pending;
};

static void pending_free(struct pending *p)
{
	for (int i = 0; i < p->n; i++)
		free(p->params[i]);
	free(p);
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
	d->n_pending = 0;
	while (list) {
		struct pending *p = list;
		list = p->next;
		if (p->fn && p->owner && why)
			p->fn(p->owner, NULL, why, p->arg);
		pending_free(p);
	}
}

static void on_result(void *arg, const struct pga_result *r);

static void send_next(struct db *d)
{
	while (d->state == DB_READY && !d->inflight && d->head) {
		struct pending *p = d->head;
		d->head = p->next;
		if (!d->head)
			d->tail = NULL;
		d->n_pending--;
		p->next = NULL;
		d->inflight = p;
		d->sent_at = now_ms();
		if (pga_send(d->pga, p->sql, p->n, (const char *const *)p->params, on_result, d) == 0)
			return;
		/* a connection that went down failed p with the rest; one that is
		 * not idle did not take p: fail p alone (its owner may ask again)
		 * rather than leave it in flight, blocking every later query */
		if (!d->inflight)
			return;
		d->inflight = NULL;
		if (p->fn && p->owner) {
			bool was = d->in_cb;
			d->in_cb = true;
			p->fn(p->owner, NULL, "the console's connection is busy", p->arg);
			d->in_cb = was;
		}
		pending_free(p);
	}
}

static void on_result(void *arg, const struct pga_result *r)
{
	struct db *d = arg;
	struct pending *p = d->inflight;
	d->inflight = NULL;
	if (p->fn && p->owner) {
		d->in_cb = true;
		p->fn(p->owner, pga_result_pg(r), pga_result_error(r), p->arg);
		d->in_cb = false;
	}
	pending_free(p);
	send_next(d);
}

static void on_pga_state(void *data, enum pga_state st, const char *msg)
{
	struct db *d = data;
	switch (st) {
	case PGA_DOWN:
		d->state = DB_DOWN;
		fail_all(d, msg);
		break;
	case PGA_CONNECTING:
		d->state = DB_CONNECTING;
		break;
	case PGA_READY:
		d->state = DB_READY;
		break;
	}
	d->in_cb = true;
	if (d->hooks.on_state)
		d->hooks.on_state(d->hooks.data, d->state, msg);
	d->in_cb = false;
	send_next(d);
}

static void on_pga_notify(void *data, const char *channel, const char *payload)
{
	struct db *d = data;
	(void)channel;
	if (d->hooks.on_notify)
		d->hooks.on_notify(d->hooks.data, payload);
}

struct db *db_new(struct loop *l, const struct db_hooks *hooks)
{
	struct db *d = xcalloc(1, sizeof *d);
	d->loop = l;
	d->hooks = *hooks;
	struct pga_hooks ph = {on_pga_state, on_pga_notify, d};
	d->pga = pga_new(l, &ph);
	return d;
}

void db_free(struct db *d)
{
	if (!d)
		return;
	if (d->kick)
		loop_timer_del(d->loop, d->kick);
	fail_all(d, NULL);
	pga_free(d->pga);
	free(d);
}

void db_connect(struct db *d, const char *conninfo)
{
	static const char *const channels[] = {STORE_CHANNEL, NULL};
	fail_all(d, "reconnecting");
	pga_connect(d->pga, conninfo, channels);
}

enum db_state db_state(const struct db *d)
{
	return d->state;
}

static void kick_fire(struct loop *l, long id, void *data)
{
	struct db *d = data;
	(void)l;
	(void)id;
	d->kick = 0;
	send_next(d);
}

int db_send(struct db *d, const struct query *q, void *owner, db_result_fn fn, long arg)
{
	if (d->state != DB_READY)
		return -1;
	struct pending *p = xcalloc(1, sizeof *p);
	p->sql = q->sql;
	p->n = q->n;
	for (int i = 0; i < q->n; i++)
		p->params[i] = q->params[i] ? xstrdup(q->params[i]) : NULL;
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
	if (!d->inflight && !d->in_cb && !d->kick)
		d->kick = loop_timer_add(d->loop, 0, kick_fire, d);
	return 0;
}

int64_t db_busy_since(const struct db *d)
{
	return d && d->inflight ? d->sent_at : 0;
}

void db_forget(struct db *d, void *owner)
{
	for (struct pending *p = d->head; p; p = p->next)
		if (p->owner == owner)
			p->owner = NULL;
	if (d->inflight && d->inflight->owner == owner)
		d->inflight->owner = NULL;
}
