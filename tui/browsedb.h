/* The table browser's connection to the database it browses (a named
 * connection or the warehouse), never blocking: core/browse.h's statements
 * queued first in first out, each run in its READ ONLY transaction with the
 * statement timeout, its result handed to the view's callback. */
#ifndef SLUICE_TUI_BROWSEDB_H
#define SLUICE_TUI_BROWSEDB_H

#include <stdbool.h>

#include "base/err.h"

struct view;
struct bdb;
struct browse_stmt;
struct pg_result;
struct pg_conn;

/* r lives only for the call; on failure r is NULL and error says why. */
typedef void (*bdb_fn)(struct view *v, struct pg_result *r, const char *error, long arg);

/* Connects to connection name ("default": the warehouse) for v; NULL with
 * err set when there is no such postgres connection. */
struct bdb *bdb_open(struct view *v, const char *name, struct err *err);
void bdb_free(struct bdb *b);
/* Queues s (taken: freed by the db). */
void bdb_send(struct bdb *b, struct browse_stmt *s, bdb_fn fn, long arg);
/* Statements queued or in flight. */
int bdb_pending(const struct bdb *b);
/* For quoting identifiers (pg_ident); NULL while not connected. */
struct pg_conn *bdb_pg(const struct bdb *b);
const char *bdb_name(const struct bdb *b);
/* Its conninfo, for a child that reads the same database (an export); never shown. */
const char *bdb_conninfo(const struct bdb *b);
/* Milliseconds the last statement took, from its send to its result. */
double bdb_last_ms(const struct bdb *b);

#endif
