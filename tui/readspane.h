/* The tables a task instance reads (its kind's reads op on its built spec,
 * core/kinds/kind.h), each with the task that last wrote it and when, from
 * sluice.writes of the database it lives in (core/writes.h). The writers
 * are asked by a child (tui/jobs.h) that connects to each database, so the
 * screen never waits on a warehouse; while it waits the header says how
 * long that server has not answered. For the task view's X-ray. */
#ifndef SLUICE_TUI_READSPANE_H
#define SLUICE_TUI_READSPANE_H

#include <stdbool.h>
#include <stddef.h>

#include "tui/view.h"

/* One table read and its last writer. */
struct read_row {
	char *conn, *database;       /* database NULL: the connection's own */
	char *schema, *table;
	int found;                   /* 1 a write recorded, 0 none, <0 could not ask; 2 still asking */
	char *error;                 /* found < 0: why (one line) */
	char *pipeline, *task, *written_at;
	long run_id;
	int try_number;
	long long rows;              /* -1: unknown */
};

struct readspane {
	unsigned long id;            /* the child's answer finds the pane by it */
	struct view *v;
	long run_id;                 /* the reader's run: its writers are marked */
	struct read_row *rows;
	size_t n;
	bool loaded;                 /* the list is known (the writers may still be asked) */
	bool asking;                 /* a child is asking for the writers */
	int sel, top;
	/* called once the writers are in (the `u` key waits for them) */
	void (*on_ready)(struct view *v);
};

/* Lists what spec_json (a built spec) reads and asks for the writers. */
void readspane_load(struct view *v, struct readspane *p, const char *spec_json);
void readspane_draw(struct view *v, struct readspane *p, struct rect r);
/* j, k, g, G move the cursor: H_* or H_IGNORED. */
int readspane_key(struct view *v, struct readspane *p, int action);
/* The table under the cursor, or NULL. */
const struct read_row *readspane_selected(const struct readspane *p);
/* The first table whose last writer is a task of run run_id (0: of any
 * run), or NULL. */
const struct read_row *readspane_writer(const struct readspane *p, long run_id);
void readspane_free(struct readspane *p);

#endif
