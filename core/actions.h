/* The actions an operator takes, shared by the console and the batch face:
 * trigger a run, retry a task, clear tasks, mark a task, and start a runner
 * when none is up. */
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
/* The same, with the model and check tasks of the run built on target
 * (`--target`; NULL: each task's own target). */
int action_trigger_on(struct sctx *c, const char *pipeline, const char *ds, const json_t *params,
		      const char *trigger, const char *target, long *run_id, struct err *err);
/* The same with the run's id reserved beforehand (store_run_new_id): a
 * backfill takes a date with it first, so the run is created once. */
int action_trigger_reserved(struct sctx *c, const char *pipeline, const char *ds, const json_t *params,
			    const char *trigger, long reserved_id, struct err *err);
/* Advances a run an action reopened and queues what became ready. */
int action_advance(struct sctx *c, long run_id, struct err *err);
/* A manual run of pl, a pipeline made for it (`sluice build`'s, from
 * project_adhoc_pipeline) rather than one of the project's: stored under
 * pl->name; params (may be NULL) are kept with the run as given. */
int action_trigger_pipeline(struct sctx *c, const struct pipeline *pl, const char *ds, const json_t *params,
			    const char *target, long *run_id, struct err *err);

/* The tasks an action touches: struct touched (core/store.h). On success
 * out->needs_runner says whether the action set something going, so a runner
 * must be up (not for a dry run, nor a mark to the state a task already has):
 * both faces then call action_ensure_runner. */

/* Clears task (and, with downstream, everything downstream of it; with
 * only_failed, only those failed, upstream_failed or up_for_retry) so it runs
 * again with a fresh retry budget. A running task is stopped first (its worker
 * is fenced off). dry_run lists what would be touched and changes nothing. */
int action_clear(struct sctx *c, long run_id, const char *task, bool downstream, bool only_failed,
		 bool dry_run, struct touched *out, struct err *err);
/* Retry: clear a failed task and the downstream tasks it held back. dry_run
 * lists what it would touch (after the same check that the task failed) and
 * changes nothing. */
int action_retry(struct sctx *c, long run_id, const char *task, bool dry_run, struct touched *out,
		 struct err *err);
/* Sets a task's state to success or failed; downstream carries on from it.
 * A task that already is in that state is no failure: 0, nothing touched,
 * and out->note says so. */
int action_mark(struct sctx *c, long run_id, const char *task, const char *state, struct touched *out,
		struct err *err);
/* Starts a runner daemon for the project if none is up (every action that
 * set something going needs one). *pid: the runner's pid; *started: whether
 * this call started it. */
int action_ensure_runner(struct sctx *c, int *pid, bool *started, struct err *err);
/* Resolves "latest" or a number into a run id (latest: of pipeline if given). */
int action_resolve_run(struct sctx *c, const char *spec, const char *pipeline, long *run_id, struct err *err);

#endif
