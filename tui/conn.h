/* The console's link to the state store: services started and the schema
 * migrated in a child, an asynchronous connect, reconnecting with a backoff,
 * and the notifications of each wake-up handed to the top view coalesced. */
#ifndef SLUICE_TUI_CONN_H
#define SLUICE_TUI_CONN_H

struct tui;

/* Creates t->db (not connected yet). */
void conn_init(struct tui *t);
/* Starts the services if needed, then connects; never waits. */
void conn_start(struct tui *t);
/* Hands the notifications of this wake-up to the top view. */
void conn_deliver(struct tui *t);
void conn_close(struct tui *t);

#endif
