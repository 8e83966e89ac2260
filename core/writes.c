/* Last-writer records in the target database (sluice.writes): every
 * statement that makes, writes and reads the table. */
#include "core/writes.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/pg.h"

/* The key the state store's migrations and the commit ledger take to create
 * schema sluice (core/ledger.c): one creator at a time. */
#define WRITES_LOCK "-7313951577"

static const char SQL_SAVEPOINT[] = "SAVEPOINT sluice_writes";
static const char SQL_RELEASE[] = "RELEASE SAVEPOINT sluice_writes";
static const char SQL_UNDO[] = "ROLLBACK TO SAVEPOINT sluice_writes; RELEASE SAVEPOINT sluice_writes";

static const char SQL_EXISTS[] = "SELECT to_regclass('" WRITES_TABLE "') IS NOT NULL";

static const char SQL_PROBE[] =
	"SELECT to_regclass('" WRITES_TABLE "') IS NOT NULL, current_setting('transaction_read_only') = 'on'";

/* Inside the task's transaction: the lock is held to its COMMIT, but only
 * the first write of a database takes it. */
static const char *const SQL_CREATE[] = {
	"SELECT pg_advisory_xact_lock(" WRITES_LOCK ")",
	"SET LOCAL client_min_messages = warning",
	"CREATE SCHEMA IF NOT EXISTS sluice",
	"CREATE TABLE IF NOT EXISTS " WRITES_TABLE " ("
	" schema_name text NOT NULL, table_name text NOT NULL,"
	" project text, pipeline text, run_id bigint, task text, try int, rows bigint,"
	" written_at timestamptz NOT NULL DEFAULT clock_timestamp(),"
	" PRIMARY KEY (schema_name, table_name))",
	"COMMENT ON TABLE " WRITES_TABLE " IS 'sluice: the task that wrote each table last (sluice tables)'",
};

/* schema NULL: the schema of the table the search path finds, else the
 * first of the search path (a table made in this transaction is found). */
static const char SQL_NOTE[] =
	"INSERT INTO " WRITES_TABLE " AS w (schema_name, table_name, project, pipeline, run_id, task, try, rows)"
	" VALUES (coalesce($1, (SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
	"   WHERE c.oid = to_regclass(quote_ident($2))), current_schema()), $2, $3, $4, $5, $6, $7, $8)"
	" ON CONFLICT (schema_name, table_name) DO UPDATE SET project = EXCLUDED.project,"
	" pipeline = EXCLUDED.pipeline, run_id = EXCLUDED.run_id, task = EXCLUDED.task, try = EXCLUDED.try,"
	" rows = EXCLUDED.rows, written_at = clock_timestamp()";

#define ISO_UTC "to_char(written_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

static const char SQL_LAST[] = "SELECT pipeline, task, run_id, try, rows, " ISO_UTC " FROM " WRITES_TABLE
			       " WHERE schema_name = $1 AND table_name = $2";

/* insufficient_privilege, read_only_sql_transaction */
static const char SQLSTATE_DENIED[] = "42501";
static const char SQLSTATE_READ_ONLY[] = "25006";
/* unique_violation, duplicate_schema, duplicate_table: another session made
 * it meanwhile (a creation that waited for it still had its catalog cache
 * from before) */
static const char *const SQLSTATE_MEANWHILE[] = {"23505", "42P06", "42P07"};

const char *writes_last_sql(void)
{
	return SQL_LAST;
}

const char *writes_exists_sql(void)
{
	return SQL_EXISTS;
}

static void say_off(const char *why)
{
	static bool said;
	if (said)
		return;
	said = true;
	fprintf(stderr, "[sluice] no last-writer record in the target database (%s)\n", why);
	fflush(stderr);
}

/* Runs sql; 1 when the server refused it as not allowed here, 2 when what
 * it makes was made meanwhile, 0, <0. */
static int run_step(struct pg_conn *c, const char *sql, int n, const char *const *p, struct err *err)
{
	struct pg_result *refused = NULL;
	struct pg_result *r = pg_try(c, sql, n, p, &refused, err);
	if (r) {
		pg_clear(r);
		return 0;
	}
	const char *st = refused ? pg_error_field(refused, PG_FIELD_SQLSTATE) : NULL;
	int rc = st && (!strcmp(st, SQLSTATE_DENIED) || !strcmp(st, SQLSTATE_READ_ONLY)) ? 1 : -1;
	for (size_t i = 0; st && i < sizeof SQLSTATE_MEANWHILE / sizeof SQLSTATE_MEANWHILE[0]; i++)
		if (!strcmp(st, SQLSTATE_MEANWHILE[i]))
			rc = 2;
	pg_clear(refused);
	return rc;
}

int writes_prepare(struct pg_conn *c, struct err *err)
{
	/* a retry is a new transaction: it sees what was made meanwhile */
	for (int attempt = 0; attempt < 3; attempt++) {
		struct pg_result *r = pg_exec(c, SQL_PROBE, 0, NULL, err);
		if (!r)
			return err_prefix(err, "looking for " WRITES_TABLE);
		bool exists = !strcmp(pg_val(r, 0, 0), "t"), read_only = !strcmp(pg_val(r, 0, 1), "t");
		pg_clear(r);
		if (exists || read_only)
			return 0;
		/* an empty table of sluice's own: its creation need not wait for a
		 * synchronous standby (the task's own COMMIT does, as configured) */
		if (pg_script(c, "BEGIN; SET LOCAL synchronous_commit = local", err) < 0)
			return err_prefix(err, "creating " WRITES_TABLE);
		int rc = 0;
		for (size_t i = 0; !rc && i < sizeof SQL_CREATE / sizeof SQL_CREATE[0]; i++)
			rc = run_step(c, SQL_CREATE[i], 0, NULL, err);
		if (!rc && pg_cmd(c, "COMMIT", 0, NULL, err) == 0)
			return 0;
		pg_script(c, "ROLLBACK", NULL);
		if (rc == 1) {
			char why[1100];
			snprintf(why, sizeof why, "cannot create " WRITES_TABLE ": %s", err->msg);
			err_clear(err);
			say_off(why);
			return 0;
		}
		if (rc != 2)
			return err_prefix(err, "creating " WRITES_TABLE);
		err_clear(err);
	}
	return 0;
}

int writes_note(struct pg_conn *c, const struct task_env *env, const char *schema, const char *table, long long rows,
		struct err *err)
{
	if (pg_cmd(c, SQL_SAVEPOINT, 0, NULL, err) < 0)
		return err_prefix(err, "recording the writer in " WRITES_TABLE);
	struct pg_result *r = pg_exec(c, SQL_PROBE, 0, NULL, err);
	if (!r)
		goto fail;
	bool exists = !strcmp(pg_val(r, 0, 0), "t"), read_only = !strcmp(pg_val(r, 0, 1), "t");
	pg_clear(r);
	if (read_only) {
		pg_script(c, SQL_RELEASE, NULL);
		say_off("a read-only transaction");
		return 0;
	}
	int rc = 0;
	for (size_t i = 0; !exists && !rc && i < sizeof SQL_CREATE / sizeof SQL_CREATE[0]; i++)
		rc = run_step(c, SQL_CREATE[i], 0, NULL, err);
	if (!rc) {
		char run[32], try[16], n[32];
		bool task = env && env->run_id > 0;
		snprintf(run, sizeof run, "%ld", env ? env->run_id : 0L);
		snprintf(try, sizeof try, "%d", env ? env->try_number : 0);
		snprintf(n, sizeof n, "%lld", rows);
		const char *p[8] = {schema, table, env && env->project ? env->project : NULL, env ? env->pipeline : NULL,
				    task ? run : NULL, env ? env->task : NULL, task ? try : NULL, rows >= 0 ? n : NULL};
		rc = run_step(c, SQL_NOTE, 8, p, err);
	}
	if (rc > 0) {
		char why[1100];
		snprintf(why, sizeof why, "%s%s", rc == 2 ? "made by another task meanwhile, this write not recorded: " : "",
			 err->msg);
		err_clear(err);
		pg_script(c, SQL_UNDO, NULL);
		say_off(why);
		return 0;
	}
	if (rc < 0)
		goto fail;
	if (pg_cmd(c, SQL_RELEASE, 0, NULL, err) < 0)
		return err_prefix(err, "recording the writer in " WRITES_TABLE);
	return 0;
fail:
	pg_script(c, SQL_UNDO, NULL);
	return err_prefix(err, "recording the writer in " WRITES_TABLE);
}

void writes_parse_row(const struct pg_result *r, int row, int f, struct write_info *out)
{
	memset(out, 0, sizeof *out);
	snprintf(out->pipeline, sizeof out->pipeline, "%s", pg_val(r, row, f));
	snprintf(out->task, sizeof out->task, "%s", pg_val(r, row, f + 1));
	out->run_id = atol(pg_val(r, row, f + 2));
	out->try_number = atoi(pg_val(r, row, f + 3));
	out->rows = pg_isnull(r, row, f + 4) ? -1 : atoll(pg_val(r, row, f + 4));
	snprintf(out->written_at, sizeof out->written_at, "%s", pg_val(r, row, f + 5));
}

int writes_last(struct pg_conn *c, const char *schema, const char *table, struct write_info *out, struct err *err)
{
	memset(out, 0, sizeof *out);
	struct pg_result *r = pg_exec(c, SQL_EXISTS, 0, NULL, err);
	if (!r)
		return err_prefix(err, "looking for " WRITES_TABLE);
	bool exists = !strcmp(pg_val(r, 0, 0), "t");
	pg_clear(r);
	if (!exists)
		return 0;
	const char *p[2] = {schema, table};
	r = pg_exec(c, SQL_LAST, 2, p, err);
	if (!r)
		return err_prefix(err, "reading " WRITES_TABLE);
	int found = pg_rows(r) > 0;
	if (found)
		writes_parse_row(r, 0, 0, out);
	pg_clear(r);
	return found;
}
