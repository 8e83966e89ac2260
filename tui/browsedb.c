/* The table browser's own connection (tui/browsedb.h): a pgasync
 * connection to the database browsed and a queue of statements, each sent
 * as BEGIN READ ONLY, the statement timeout, the statement, COMMIT. */
#include "tui/browsedb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "connectors/pgasync.h"
#include "core/browse.h"
#include "core/connections.h"
#include "core/project.h"
#include "tui/app.h"
#include "tui/header.h"
#include "tui/view.h"

struct item {
	struct browse_stmt s;
	bdb_fn fn;
	long arg;
};

enum step { S_IDLE, S_BEGIN, S_TIMEOUT, S_STMT, S_END };

struct bdb {
	struct view *v;
	struct pga *a;
	char *name;
	char *conninfo;         /* never shown */
	struct item *q;         /* q[0] is the one in flight */
	int n, cap;
	enum step step;
	bool down;              /* reconnect on the next send */
	int64_t sent_ms;
	double last_ms;
};

static void pump(struct bdb *b);

static void item_free(struct item *it)
{
	browse_stmt_free(&it->s);
}

/* Every queued statement fails with msg. */
static void fail_all(struct bdb *b, const char *msg)
{
	while (b->n) {
		struct item it = b->q[0];
		memmove(b->q, b->q + 1, (size_t)(b->n - 1) * sizeof *b->q);
		b->n--;
		it.fn(b->v, NULL, msg, it.arg);
		item_free(&it);
	}
	b->step = S_IDLE;
}

static void on_result(void *arg, const struct pga_result *r)
{
	struct bdb *b = arg;
	const char *error = pga_result_error(r);
	struct item *it = &b->q[0];
	switch (b->step) {
	case S_BEGIN:
	case S_TIMEOUT:
		if (error) {
			char msg[600];
			snprintf(msg, sizeof msg, "%s", error);
			struct item done = *it;
			memmove(b->q, b->q + 1, (size_t)(b->n - 1) * sizeof *b->q);
			b->n--;
			b->step = S_END;
			pga_send(b->a, BROWSE_ROLLBACK, 0, NULL, on_result, b);
			done.fn(b->v, NULL, msg, done.arg);
			item_free(&done);
			return;
		}
		if (b->step == S_BEGIN) {
			char ms[32];
			snprintf(ms, sizeof ms, "%d", BROWSE_TIMEOUT_S * 1000);
			const char *p[1] = {ms};
			b->step = S_TIMEOUT;
			pga_send(b->a, BROWSE_TIMEOUT, 1, p, on_result, b);
		} else {
			b->step = S_STMT;
			pga_send(b->a, it->s.sql, it->s.n, (const char *const *)it->s.params, on_result, b);
		}
		return;
	case S_STMT: {
		b->last_ms = (double)(now_ms() - b->sent_ms);
		struct item done = *it;
		memmove(b->q, b->q + 1, (size_t)(b->n - 1) * sizeof *b->q);
		b->n--;
		b->step = S_END;
		pga_send(b->a, error ? BROWSE_ROLLBACK : BROWSE_COMMIT, 0, NULL, on_result, b);
		done.fn(b->v, error ? NULL : pga_result_pg(r), error, done.arg);
		item_free(&done);
		return;
	}
	case S_END:
		b->step = S_IDLE;
		header_unwait(b->v->t, b);
		pump(b);
		return;
	case S_IDLE:
		return;
	}
}

/* A statement out: the header says when its server has not answered for a
 * while (a partition, a stopped server), until the COMMIT comes back. */
static void wait_on(struct bdb *b)
{
	char server[64];
	if (!strcmp(b->name, "default"))
		snprintf(server, sizeof server, "warehouse");
	else
		snprintf(server, sizeof server, "connection %s", b->name);
	header_wait(b->v->t, b, server);
}

static void pump(struct bdb *b)
{
	if (b->step != S_IDLE || !b->n)
		return;
	if (b->down) {
		b->down = false;
		pga_connect(b->a, b->conninfo, NULL);
		return;
	}
	if (!pga_idle(b->a))
		return; /* connecting: on_state goes on */
	b->step = S_BEGIN;
	b->sent_ms = now_ms();
	if (pga_send(b->a, BROWSE_BEGIN, 0, NULL, on_result, b) < 0)
		b->step = S_IDLE;
	else
		wait_on(b);
}

static void on_state(void *data, enum pga_state st, const char *msg)
{
	struct bdb *b = data;
	if (st == PGA_READY) {
		b->step = S_IDLE;
		pump(b);
	} else if (st == PGA_DOWN) {
		char m[600];
		snprintf(m, sizeof m, "%s: %s", b->name, msg && *msg ? msg : "connection lost");
		b->down = true;
		header_unwait(b->v->t, b);
		fail_all(b, m);
	}
}

struct bdb *bdb_open(struct view *v, const char *name, struct err *err)
{
	struct tui *t = v->t;
	struct connections conns = {0};
	const char *file = tui_project(t)->connections_file;
	if (file && connections_load(file, &conns, err) < 0)
		return NULL;
	const struct connection *k = connections_get(&conns, name);
	char *dsn = NULL;
	if (k && k->type != CONN_POSTGRES)
		err_set(err, "%s: a %s connection has no tables", name, connections_type_name(k->type));
	else if (k)
		dsn = xstrdup(k->dsn);
	else if (!strcmp(name, "default") && t->ctx.svc.warehouse_conninfo)
		dsn = xstrdup(t->ctx.svc.warehouse_conninfo);
	else
		err_setc(err, ERR_NOTFOUND, "unknown connection '%s'", name);
	connections_free(&conns);
	if (!dsn)
		return NULL;
	struct bdb *b = xcalloc(1, sizeof *b);
	b->v = v;
	b->name = xstrdup(name);
	b->conninfo = dsn;
	struct pga_hooks hooks = {on_state, NULL, b};
	b->a = pga_new(t->loop, &hooks);
	pga_connect(b->a, b->conninfo, NULL);
	return b;
}

void bdb_free(struct bdb *b)
{
	if (!b)
		return;
	header_unwait(b->v->t, b);
	pga_free(b->a);
	for (int i = 0; i < b->n; i++)
		item_free(&b->q[i]);
	free(b->q);
	free(b->name);
	if (b->conninfo)
		memset(b->conninfo, 0, strlen(b->conninfo));
	free(b->conninfo);
	free(b);
}

void bdb_send(struct bdb *b, struct browse_stmt *s, bdb_fn fn, long arg)
{
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 4;
		b->q = xrealloc(b->q, (size_t)b->cap * sizeof *b->q);
	}
	b->q[b->n].s = *s;
	b->q[b->n].fn = fn;
	b->q[b->n].arg = arg;
	b->n++;
	memset(s, 0, sizeof *s);
	pump(b);
}

int bdb_pending(const struct bdb *b)
{
	return b->n;
}

struct pg_conn *bdb_pg(const struct bdb *b)
{
	return pga_state(b->a) == PGA_READY ? pga_pg(b->a) : NULL;
}

const char *bdb_name(const struct bdb *b)
{
	return b->name;
}

double bdb_last_ms(const struct bdb *b)
{
	return b->last_ms;
}

const char *bdb_conninfo(const struct bdb *b)
{
	return b->conninfo;
}
