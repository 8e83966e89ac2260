/* The console's backfill actions: the form that plans a backfill (with its
 * live dry-run count and its `sluice --batch` twin) and launches it, and
 * pausing, resuming and cancelling one. Each runs the core call in a child
 * (tui/jobs.h), as the other actions do. */
#ifndef SLUICE_TUI_BACKFILLFORM_H
#define SLUICE_TUI_BACKFILLFORM_H

#include <stdbool.h>

#include "tui/actions.h"

struct tui;

/* An action of the table for backfills: ACT_BACKFILL opens the form for
 * the selected pipeline (or arg); ACT_BF_PAUSE and ACT_BF_CANCEL act on the
 * backfill whose id is arg. */
void backfill_act(struct tui *t, enum action a, const char *arg);
/* Pauses (or, when state is paused, resumes) backfill id; cancel: asks,
 * then cancels it. pipeline and range are for the messages. */
void backfill_change(struct tui *t, long id, const char *state, bool cancel, const char *pipeline,
		     const char *range);

#endif
