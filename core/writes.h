/* Last-writer records: which task wrote a table last, kept in the target
 * database itself (sluice.writes), so whoever browses a table there sees
 * who wrote it, with no access to the state database. A row is written in
 * the same transaction as the effect it describes (just before its
 * COMMIT): it is there exactly when the rows are.
 *
 * The table sluice.writes, created on first use:
 *   schema_name, table_name   the table written (the key)
 *   project, pipeline, task   who wrote it (pipeline, task NULL: an ad-hoc
 *                             `sluice load`)
 *   run_id, try               its run and try (NULL when ad hoc)
 *   rows                      rows it wrote (NULL: unknown)
 *   written_at                when (just before its COMMIT)
 * One row per table: the last writer replaces the one before. */
#ifndef SLUICE_WRITES_H
#define SLUICE_WRITES_H

#include "base/err.h"
#include "core/taskenv.h"

/* libpq's connection (connectors/pg.h) */
struct pg_conn;

#define WRITES_TABLE "sluice.writes"

/* In the task's open transaction on c, just before its COMMIT: records env's
 * task (NULL: an ad-hoc write) as the last writer of schema.table (schema
 * NULL: where the search path finds the table) with rows written (-1:
 * unknown). Makes the table if it is missing (inside the transaction, under
 * a savepoint; writes_prepare before the transaction is better: a creation
 * that races another task's is given up here). 0 also when it cannot be made or written here (a read-only
 * target, a role without the right): then nothing is recorded and stderr
 * says so once per process. <0 with err set otherwise (the transaction is
 * still usable: the savepoint was rolled back). */
int writes_note(struct pg_conn *c, const struct task_env *env, const char *schema, const char *table, long long rows,
		struct err *err);

/* Before the task's transaction, on its connection c (in no transaction):
 * makes sluice.writes if it is missing, in a short transaction of its own,
 * so that writes_note finds it and no task holds the creation's lock
 * through its own work. 0 also when it cannot be made here (writes_note
 * then records nothing); <0 with err set when c failed. */
int writes_prepare(struct pg_conn *c, struct err *err);

/* The last writer of a table. */
struct write_info {
	char pipeline[64];
	char task[128];
	long run_id;
	int try_number;
	long long rows;        /* -1: unknown */
	char written_at[32];   /* ISO 8601 UTC */
};

/* 1 found (out filled), 0 none (or no sluice.writes in the database), <0
 * with err set. */
int writes_last(struct pg_conn *c, const char *schema, const char *table, struct write_info *out, struct err *err);

/* For an asynchronous caller: the statement writes_last runs ($1 schema,
 * $2 table; its columns: pipeline, task, run_id, try, rows, written_at), to
 * send only where writes_exists_sql() said true, and its row read into out. */
const char *writes_last_sql(void);
/* One row, one boolean: does this database have sluice.writes? */
const char *writes_exists_sql(void);
struct pg_result;
void writes_parse_row(const struct pg_result *r, int row, int first_col, struct write_info *out);

#endif
