/* The console's connection to the state store, never blocking: the
 * connection itself (asynchronous connect, LISTEN on the sluice channel) is
 * connectors/pgasync.h; this is the first-in first-out queue of queries
 * (built by core/query.h) whose results go to callbacks, and forgetting the
 * callbacks of a view that closes. One query is in flight at a time. */
#ifndef SLUICE_TUI_DB_H
#define SLUICE_TUI_DB_H

#include <stdbool.h>
#include <stdint.h>

#include "base/loop.h"

struct db;
struct query;
/* libpq's result (connectors/pg.h), which the parsers of core/query.h read. */
struct pg_result;

enum db_state {
	DB_DOWN,       /* not connected (msg says why, or "" before the first try) */
	DB_CONNECTING,
	DB_READY       /* connected and listening */
};

struct db_hooks {
	/* The connection changed state. */
	void (*on_state)(void *data, enum db_state st, const char *msg);
	/* A notification on the channel; payload is borrowed for the call. */
	void (*on_notify)(void *data, const char *payload);
	void *data;
};

/* The result of one query: r lives only for the call (the db clears it). On
 * failure r is NULL and error says why, on one line. */
typedef void (*db_result_fn)(void *owner, struct pg_result *r, const char *error, long arg);

struct db *db_new(struct loop *l, const struct db_hooks *hooks);
void db_free(struct db *d);
/* Starts connecting (closing any earlier connection). */
void db_connect(struct db *d, const char *conninfo);
enum db_state db_state(const struct db *d);

/* Queues q (its parameters are copied); fn(owner, ...) runs when the result
 * is in, from the loop, never inside db_send. Returns -1 when not connected
 * (fn is not called). */
int db_send(struct db *d, const struct query *q, void *owner, db_result_fn fn, long arg);
/* When the query in flight went out (now_ms), 0 when none is: a server
 * that stopped answering without closing shows here first. */
int64_t db_busy_since(const struct db *d);
/* Drops the callbacks of every queued or in-flight query of owner (a view
 * that closes); their results are discarded. */
void db_forget(struct db *d, void *owner);

#endif
