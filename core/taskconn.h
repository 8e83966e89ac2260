/* The connections a worker keeps to where its tasks run, one per conninfo
 * and database, lent to one task at a time. A task's process is a fork of
 * its worker: a kind that shares_conn (core/kinds/kind.h) uses the worker's
 * connection (its copy of it) instead of opening its own, saving a backend
 * start and cold catalog caches per task (connectors/pg.h, "a connection
 * kept by a process"). The task resets the session before it uses it and
 * never closes it. The worker keeps it after a try that exited 0 and left
 * it idle, and closes it after any other end: a killed try's transaction
 * is then rolled back as soon as the worker sees the try end, as it would
 * be when a connection of its own died with it. */
#ifndef SLUICE_TASKCONN_H
#define SLUICE_TASKCONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pg_conn;

struct taskconn {
	char *key;            /* conninfo, NUL, database (secret: never printed) */
	size_t key_len;
	struct pg_conn *c;    /* NULL: it could not be opened, not before retry_at */
	int64_t retry_at;     /* now_ms() */
	bool lent;
};

struct taskconns {
	struct taskconn *v;
	size_t n;
};

/* The kept connection to conninfo (in database; NULL: its own), opened if
 * there is none; NULL when it cannot be opened or shared (the task then
 * connects by itself, and says why if that fails too). The worker waits
 * for it at most a second, and tries again only a minute after a failure:
 * its heartbeats must go on. */
struct pg_conn *taskconn_lend(struct taskconns *k, const char *conninfo, const char *database);
/* After the try that had c: kept when the try exited 0 and c is idle,
 * else closed. */
void taskconn_return(struct taskconns *k, struct pg_conn *c, bool clean);
/* Closes every kept connection. */
void taskconns_close(struct taskconns *k);

#endif
