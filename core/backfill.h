/* Backfills: the runs of a pipeline over a range of logical dates, planned
 * up front (each date created, re-run or skipped, and why), kept in the
 * state store (sluice.backfills, sluice.backfill_dates) and driven by the
 * runner under a max-parallel limit of their own: when one of a backfill's
 * runs ends, its next date starts. */
#ifndef SLUICE_BACKFILL_H
#define SLUICE_BACKFILL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "core/query.h"

struct sctx;
struct pipeline;
struct store;
struct pg_result;
struct strbuf;

/* At most this many logical dates in one backfill. */
#define BACKFILL_MAX_DATES 20000

enum bf_reprocess {
	BF_MISSING, /* only dates without a run */
	BF_FAILED,  /* and the failed runs: their failed tasks cleared */
	BF_ALL      /* and every run there is: all its tasks cleared */
};

enum bf_action { BF_CREATE, BF_RERUN, BF_SKIP };

struct bf_opts {
	const char *pipeline;
	const char *from, *to;   /* YYYY-MM-DD, inclusive */
	enum bf_reprocess reprocess;
	int max_parallel;        /* >= 1 */
	bool backwards;          /* newest date first */
	const json_t *params;    /* object of strings; NULL: none */
};

/* What a date of the range will get. */
struct bf_date {
	char ds[11];
	enum bf_action action;
	long run_id;             /* the run re-run, or the one that makes it skip (0: none) */
	const char *why;         /* short, static: "a live run", "succeeded" ... (NULL for a create) */
	char *reason;            /* the whole of it, with the run */
};

struct bf_plan {
	struct bf_date *v;       /* in the order they will start */
	size_t n;
	size_t n_create, n_rerun, n_skip;
};
void bf_plan_free(struct bf_plan *p);

const char *bf_reprocess_name(enum bf_reprocess r);
/* -1 when s is none of missing, failed, all. */
int bf_reprocess_parse(const char *s);
const char *bf_action_name(enum bf_action a);

/* The logical dates of pl in [from, to] in start order: the days its
 * schedule fires on (every day for a manual pipeline; a schedule that fires
 * several times a day gives that day once, the logical date being a day).
 * *out is malloc'ed, n entries of 11 bytes. */
int backfill_dates(const struct pipeline *pl, const char *from, const char *to, bool backwards, char (**out)[11],
		   size_t *n, struct err *err);

/* What a date gets, from what the store has for it: live_run (a queued or
 * running run, 0: none), last_run and its state (0/NULL: no run), in_backfill
 * (another active backfill still to start it, 0: none). Fills action, run_id,
 * why and reason. */
void backfill_decide(struct bf_date *d, enum bf_reprocess rp, long live_run, long last_run, const char *last_state,
		     long in_backfill);

/* "31 runs will be created, 2 re-run, 2 skipped: a live run" (malloc'ed):
 * the dry run's line, in the batch face and the console's form alike. */
char *backfill_plan_summary(const struct bf_plan *p);

/* The plan of a backfill as it would be created now (the dry run). */
int backfill_plan(struct sctx *c, const struct bf_opts *o, struct bf_plan *out, struct err *err);
/* Stores the backfill with its plan, for the runner to drive; who: the
 * user and host that asked. */
int backfill_create(struct sctx *c, const struct bf_opts *o, const struct bf_plan *p, const char *who, long *id,
		    struct err *err);
/* verb: pause, resume or cancel. ERR_NOTFOUND: no such backfill in the
 * project; ERR_CONFLICT: its state does not allow it (err says which).
 * Cancel drops the dates not started; runs already started finish. */
int backfill_set_state(struct sctx *c, long id, const char *verb, struct err *err);

/* The runner's part: every running backfill of the project gets its free
 * slots filled with its next dates; one whose dates are all done ends.
 * *started: runs created or re-run; *running: backfills still running
 * after it; log (may be NULL) gets a line for each thing done, for the
 * runner's log. Errors of one date are kept on it (state error) and do not
 * stop the others. */
int backfill_drive(struct sctx *c, int *started, int *running, struct strbuf *log, struct err *err);

/* ---- reading them back ------------------------------------------------------ */

struct bf_row {
	long id;
	char *pipeline, *from, *to, *reprocess, *state, *params, *created_by, *created_at, *ended_at;
	int max_parallel;
	bool backwards;
	int n_dates, n_done, n_running, n_failed, n_left, n_skipped, n_cancelled;
	/* one letter per date in date order: . left, r running, s success,
	 * f failed (or could not start), k skipped, c cancelled */
	char *strip;
};
void bf_rows_free(struct bf_row *v, size_t n);
/* The latest backfills of a project (id 0), or one. */
void query_backfills(struct query *q, const char *project, long id, int limit);
int query_backfills_parse(struct pg_result *r, struct bf_row **rows, size_t *n);
int store_backfills(struct store *s, long id, int limit, struct bf_row **rows, size_t *n, struct err *err);

/* One date of a backfill, as it stands: state is left, running, success,
 * failed (its run failed, or it could not start), skipped or cancelled. */
struct bf_date_row {
	char ds[11];
	char *action, *state, *reason;
	long run_id;                /* 0: none */
};
void bf_date_rows_free(struct bf_date_row *v, size_t n);
/* The dates of backfill id in date order; ERR_NOTFOUND when the project has
 * no such backfill. */
int store_backfill_dates(struct store *s, long id, struct bf_date_row **rows, size_t *n, struct err *err);

#endif
