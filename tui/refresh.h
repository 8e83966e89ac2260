/* A view's queries: sent for the view (results after it closed are
 * dropped), and a refresh that keeps it fresh without flooding the
 * database. */
#ifndef SLUICE_TUI_REFRESH_H
#define SLUICE_TUI_REFRESH_H

#include <stdbool.h>
#include <stdint.h>

#include "tui/db.h"

struct tui;
struct view;
struct query;

/* Sends a query for v (results after v closed are dropped). */
int tui_query(struct view *v, const struct query *q, db_result_fn fn, long arg);
bool tui_connected(struct tui *t);

/* A view's refresh: at most one round in flight; asked again meanwhile, it
 * runs once more when the round ends, no sooner than min_ms after the last.
 * A view that refreshes keeps its struct refresh first in its private
 * state, so the timer needs only the view. */
struct refresh {
	int out;        /* queries of the round still out */
	bool again;
	int64_t last;
	long timer;
	int min_ms;
	void (*send)(struct view *v); /* sends the round's queries (via refresh_send) */
};
void refresh_request(struct view *v, struct refresh *r);
/* Sends one query of the round. */
void refresh_send(struct view *v, struct refresh *r, const struct query *q, db_result_fn fn, long arg);
/* Call from each result callback of the round. */
void refresh_done(struct view *v, struct refresh *r);
void refresh_cancel(struct view *v, struct refresh *r);

#endif
