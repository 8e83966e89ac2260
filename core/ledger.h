/* The commit ledger: a row in the target database, written in the same
 * transaction as a task's effect, that says which try of a task instance
 * committed it. The target and the state database are different databases,
 * so no transaction holds both: a try whose process dies after its COMMIT but
 * before its worker recorded the end is "lost" in the state database while
 * its effect is in the target. The try that runs next looks here first and
 * does not commit again.
 *
 * The table is sluice.applied in the target database, created on first use:
 *   project, run_id, task   the task instance (run_id of the state database)
 *   first_try               the first try of the attempt: the tries since the
 *                           task was triggered, cleared or marked
 *   try                     the try that committed
 *   committed_at            when (just before its COMMIT)
 *   row_count, what         what it wrote, for the log ("load 12 into t")
 * Its key is (project, run_id, task, first_try): one commit per attempt, so
 * even two tries running at once (the first one's worker cut off from the
 * state database) cannot both commit; the second waits for the first and
 * rolls back. A clear or a mark starts a new attempt, so a deliberate rerun
 * runs. Rows older than 30 days are deleted by later commits.
 *
 * How a kind with an effect on a database uses it (core/kinds/README):
 *   struct ledger lg;
 *   ledger_init(&lg, env);
 *   connect; ledger_begin_check(&lg, c, stdout, &e): 1 -> ledger_say(&lg,
 *     stdout, false), exit 0 without running;
 *   BEGIN; the effect; ledger_mark(&lg, c, what, rows, &e): 1 -> ROLLBACK,
 *     ledger_say(&lg, stdout, true), exit 0;
 *   COMMIT. */
#ifndef SLUICE_LEDGER_H
#define SLUICE_LEDGER_H

#include <stdbool.h>
#include <stdio.h>

#include "base/err.h"
#include "core/taskenv.h"

/* libpq's connection (connectors/pg.h) */
struct pg_conn;

#define LEDGER_TABLE "sluice.applied"

struct ledger {
	const char *project;  /* borrowed from the task_env */
	long run_id;
	const char *task;
	int try_number;
	int first_try;        /* tries first_try .. try_number - 1 ended without a recorded success */
	/* No ledger: an ad-hoc run (no run id), a read-only target (nothing to
	 * commit twice), or one where the table cannot be made or written. */
	bool off;
	/* Set when an earlier try of the attempt committed. */
	int prior_try;
	char prior_at[32];    /* its committed_at, ISO 8601 UTC */
	long long prior_rows; /* -1 when it did not say */
};

/* The ledger of the try env describes (off when it has no run). */
void ledger_init(struct ledger *lg, const struct task_env *env);
/* Before the task's transaction, on its connection c: makes the table if it
 * is missing (and says on log, once, why there is no ledger if it cannot),
 * then looks whether an earlier try of the attempt committed. Returns 1 when
 * one did (prior_* set: do not run again), 0 to run, <0 with err set. */
int ledger_begin_check(struct ledger *lg, struct pg_conn *c, FILE *log, struct err *err);
/* In the task's transaction, just before its COMMIT: records that this try
 * commits. Returns 0; 1 when an earlier try of the attempt committed
 * meanwhile (prior_* set: roll back, the effect is there once); <0 with err
 * set (roll back: the try fails). Nothing when the ledger is off. */
int ledger_mark(struct ledger *lg, struct pg_conn *c, const char *what, long long rows, struct err *err);
/* The task log's line for a try that did not run because prior_try had
 * committed (meanwhile: while this one ran, so this one rolled back). */
void ledger_say(const struct ledger *lg, FILE *out, bool meanwhile);

#endif
