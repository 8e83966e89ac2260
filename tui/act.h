/* The state-changing actions of the console (trigger, retry, clear, mark)
 * and the history of those taken, each as its `sluice --batch` command. */
#ifndef SLUICE_TUI_ACT_H
#define SLUICE_TUI_ACT_H

#include <jansson.h>
#include <stdbool.h>
#include <time.h>

#include "tui/actions.h"

struct tui;

/* One action taken in this console, as its `sluice --batch` command. */
struct hist_entry {
	time_t at;
	char *what;  /* "retry reconcile (run 12): 2 tasks" */
	char *cmd;   /* "sluice --batch retry 12 reconcile" */
	bool ok;
};

/* Runs a state-changing action on the selection of the top view. */
void act_run(struct tui *t, enum action a, const char *arg);
void hist_add(struct tui *t, bool ok, const char *what, const char *cmd);
/* The `sluice --batch` form of an action (malloc'ed). */
char *act_batch_command(enum action a, const char *pipeline, long run_id, const char *task, bool downstream,
			bool only_failed, const char *ds, const json_t *params);

#endif
