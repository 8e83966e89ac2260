/* PostgreSQL without blocking, for a poll() loop: an asynchronous connect,
 * LISTEN on channels, notifications, and one parameterized query at a time
 * whose result is handed to a callback. The caller's loop (base/loop.h)
 * watches the socket; nothing here ever waits. */
#ifndef SLUICE_PGASYNC_H
#define SLUICE_PGASYNC_H

#include <stdbool.h>

#include "base/loop.h"

struct pga;
/* A query's result, borrowed: valid only during the callback that gets it. */
struct pga_result;
/* libpq's PGresult (typedef struct pg_result PGresult), named without
 * including libpq for the parsers that still read one (core/query.h). */
struct pg_result;

enum pga_state {
	PGA_DOWN,       /* not connected (after a failure, or before the first connect) */
	PGA_CONNECTING, /* connecting, or waiting for the LISTENs to be acknowledged */
	PGA_READY       /* connected and listening: queries may be sent */
};

struct pga_hooks {
	/* The connection changed state. msg says why it went down (one line),
	 * "" otherwise. A query in flight when it goes down gets no callback:
	 * this is the only word of it. */
	void (*on_state)(void *data, enum pga_state st, const char *msg);
	/* A notification; channel and payload are borrowed for the call. */
	void (*on_notify)(void *data, const char *channel, const char *payload);
	void *data;
};

/* The result of the query sent with arg. Runs from the loop; it may send
 * the next query, reconnect or free the connection. */
typedef void (*pga_result_fn)(void *arg, const struct pga_result *r);

/* The connection's socket is watched on l. */
struct pga *pga_new(struct loop *l, const struct pga_hooks *hooks);
void pga_free(struct pga *a);
/* Starts connecting, closing any earlier connection (its query in flight is
 * dropped without a callback). channels: NULL-terminated names to LISTEN on
 * before the state turns ready; NULL for none. */
void pga_connect(struct pga *a, const char *conninfo, const char *const *channels);
enum pga_state pga_state(const struct pga *a);
/* Ready and no query in flight: pga_send would take one. */
bool pga_idle(const struct pga *a);
/* The connection, for quoting identifiers with pg_ident (connectors/pg.h),
 * never to send on; NULL when there is none. */
struct pg_conn *pga_pg(const struct pga *a);
/* Sends sql with n text parameters (NULL entries are SQL NULL; copied by
 * libpq before this returns). fn(arg, result) runs when it completes.
 * Returns -1 when not idle (fn is not called). */
int pga_send(struct pga *a, const char *sql, int n, const char *const *params, pga_result_fn fn, void *arg);

/* ---- the result view ----------------------------------------------------- */

/* NULL when the query succeeded, else why it failed, on one line. */
const char *pga_result_error(const struct pga_result *r);
/* The libpq result itself (NULL on failure), borrowed like the view. */
struct pg_result *pga_result_pg(const struct pga_result *r);

#endif
