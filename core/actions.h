/* The actions an operator takes, shared by the console and the batch face:
 * trigger a run, retry a task, clear tasks, mark a task. */
#ifndef SLUICE_ACTIONS_H
#define SLUICE_ACTIONS_H

#include <jansson.h>
#include <stdbool.h>

#include "core/ctx.h"

/* Creates a run of pipeline for logical date ds (YYYY-MM-DD, NULL = today)
 * with params (object of strings, may be NULL; each must be declared by the
 * pipeline) and queues its first tasks. trigger: manual, schedule, backfill. */
int action_trigger(struct sctx *c, const char *pipeline, const char *ds, const json_t *params,
		   const char *trigger, long *run_id, struct err *err);

/* The tasks an action touches, with the state each was in. */
struct touched {
	char **tasks;
	char **states;
	size_t n;
};
void touched_free(struct touched *t);

/* Clears task (and, with downstream, everything downstream of it; with
 * only_failed, only those failed, upstream_failed or up_for_retry) so it runs
 * again with a fresh retry budget. A running task is stopped first (its worker
 * is fenced off). dry_run lists what would be touched and changes nothing. */
int action_clear(struct sctx *c, long run_id, const char *task, bool downstream, bool only_failed,
		 bool dry_run, struct touched *out, struct err *err);
/* Retry: clear a failed task and the downstream tasks it held back. */
int action_retry(struct sctx *c, long run_id, const char *task, struct touched *out, struct err *err);
/* Sets a task's state to success or failed; downstream carries on from it. */
int action_mark(struct sctx *c, long run_id, const char *task, const char *state, struct touched *out,
		struct err *err);
/* Resolves "latest" or a number into a run id (latest: of pipeline if given). */
int action_resolve_run(struct sctx *c, const char *spec, const char *pipeline, long *run_id, struct err *err);

#endif
