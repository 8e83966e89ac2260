/* The commit ledger in the target database (sluice.applied): every
 * statement it runs, the table's creation, the lookup and the mark. */
#include "core/ledger.h"

#include <stdlib.h>
#include <string.h>

#include "connectors/pg.h"

/* The same key as the state store's migrations (core/store.c), which also
 * create schema sluice: when the state and the target are one database the
 * two creations are serialized as well. */
#define LEDGER_LOCK "-7313951577"

/* Is the table there, may this role use it, and could this connection
 * write at all (a standby, default_transaction_read_only)? */
static const char SQL_PROBE[] =
	"SELECT t IS NOT NULL, t IS NULL OR (has_table_privilege(t, 'SELECT') AND has_table_privilege(t, 'INSERT')"
	"   AND has_table_privilege(t, 'UPDATE') AND has_table_privilege(t, 'DELETE')),"
	" current_setting('transaction_read_only') = 'on'"
	" FROM (SELECT to_regclass('" LEDGER_TABLE "') AS t) x";

/* Made once per database, in a transaction of its own (never the task's: a
 * lock held there would serialize every task on the target). Concurrent
 * creators wait on the lock, then find it made. */
static const char SQL_CREATE_BEGIN[] =
	"BEGIN; SET LOCAL client_min_messages = warning; SELECT pg_advisory_xact_lock(" LEDGER_LOCK ")";
static const char *const SQL_CREATE[] = {
	"CREATE SCHEMA IF NOT EXISTS sluice",
	"CREATE TABLE IF NOT EXISTS " LEDGER_TABLE " ("
	" project text NOT NULL, run_id bigint NOT NULL, task text NOT NULL,"
	" first_try int NOT NULL, try int NOT NULL,"
	" committed_at timestamptz NOT NULL DEFAULT clock_timestamp(),"
	" row_count bigint, what text,"
	" PRIMARY KEY (project, run_id, task, first_try))",
	"CREATE INDEX IF NOT EXISTS applied_committed_at ON " LEDGER_TABLE " (committed_at)",
	"COMMENT ON TABLE " LEDGER_TABLE " IS 'sluice: which try of a task instance committed its effect"
	" (see FAULTS in sluice(1)); rows older than 30 days are deleted'",
};

#define ISO_UTC "to_char(committed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* The commit of an earlier try of the attempt, if there is one. */
static const char SQL_LOOKUP[] =
	"SELECT try, " ISO_UTC ", row_count FROM " LEDGER_TABLE
	" WHERE project = $1 AND run_id = $2 AND task = $3 AND first_try = $4 AND try <> $5";

/* This try commits: one row per attempt, so a concurrent earlier try that
 * committed first makes this one insert nothing (after waiting for it), and
 * one that has not yet waits for this one. The same statement deletes a few
 * rows past their use (SKIP LOCKED: two commits never wait on each other
 * for that); a try is retried or taken over within its run's retry delays,
 * far less than 30 days. */
static const char SQL_MARK[] =
	"WITH expired AS (DELETE FROM " LEDGER_TABLE " WHERE ctid = ANY (ARRAY("
	"   SELECT ctid FROM " LEDGER_TABLE " WHERE committed_at < now() - interval '30 days'"
	"   ORDER BY committed_at LIMIT 2 FOR UPDATE SKIP LOCKED)))"
	" INSERT INTO " LEDGER_TABLE " (project, run_id, task, first_try, try, row_count, what)"
	" VALUES ($1, $2, $3, $4, $5, $6, $7)"
	" ON CONFLICT (project, run_id, task, first_try) DO NOTHING RETURNING 1";

/* insufficient_privilege, read_only_sql_transaction: no ledger here (the
 * try says so in its log and runs without one) */
static const char SQLSTATE_DENIED[] = "42501";
static const char SQLSTATE_READ_ONLY[] = "25006";

void ledger_init(struct ledger *lg, const struct task_env *env)
{
	memset(lg, 0, sizeof *lg);
	lg->project = env->project ? env->project : "";
	lg->run_id = env->run_id;
	lg->task = env->task ? env->task : "";
	lg->try_number = env->try_number;
	/* an unknown first try: none of the earlier tries is looked at */
	lg->first_try = env->first_try > 0 && env->first_try <= env->try_number ? env->first_try : env->try_number;
	lg->off = env->run_id <= 0 || !env->task;
	lg->prior_rows = -1;
}

static void say_off(struct ledger *lg, FILE *log, const char *why)
{
	lg->off = true;
	if (log) {
		fprintf(log, "[sluice] no commit ledger in the target database (%s): a try killed right after its COMMIT "
			     "would commit again\n", why);
		fflush(log);
	}
}

/* Makes the table; 1 when this role may not (the ledger is off), 0, <0. */
static int create_table(struct ledger *lg, struct pg_conn *c, FILE *log, struct err *err)
{
	if (pg_script(c, SQL_CREATE_BEGIN, err) < 0)
		return err_prefix(err, "creating " LEDGER_TABLE);
	for (size_t i = 0; i < sizeof SQL_CREATE / sizeof SQL_CREATE[0]; i++) {
		struct pg_result *refused = NULL;
		struct pg_result *r = pg_try(c, SQL_CREATE[i], 0, NULL, &refused, err);
		if (r) {
			pg_clear(r);
			continue;
		}
		const char *st = refused ? pg_error_field(refused, PG_FIELD_SQLSTATE) : NULL;
		bool denied = st && (!strcmp(st, SQLSTATE_DENIED) || !strcmp(st, SQLSTATE_READ_ONLY));
		pg_clear(refused);
		pg_script(c, "ROLLBACK", NULL);
		if (!denied)
			return err_prefix(err, "creating " LEDGER_TABLE);
		char why[1100];
		snprintf(why, sizeof why, "cannot create " LEDGER_TABLE ": %s", err->msg);
		err_clear(err);
		say_off(lg, log, why);
		return 1;
	}
	if (pg_script(c, "COMMIT", err) < 0)
		return err_prefix(err, "creating " LEDGER_TABLE);
	return 0;
}

/* The earlier try's commit from a SQL_LOOKUP result; 1 if there was one. */
static int take_prior(struct ledger *lg, const struct pg_result *r)
{
	if (pg_rows(r) == 0)
		return 0;
	lg->prior_try = atoi(pg_val(r, 0, 0));
	snprintf(lg->prior_at, sizeof lg->prior_at, "%s", pg_val(r, 0, 1));
	lg->prior_rows = pg_isnull(r, 0, 2) ? -1 : atoll(pg_val(r, 0, 2));
	return 1;
}

int ledger_begin_check(struct ledger *lg, struct pg_conn *c, FILE *log, struct err *err)
{
	lg->prior_try = 0;
	if (lg->off)
		return 0;
	struct pg_result *refused = NULL;
	struct pg_result *r = pg_try(c, SQL_PROBE, 0, NULL, &refused, err);
	if (!r) {
		/* no USAGE on schema sluice: to_regclass says so instead of NULL */
		const char *st = refused ? pg_error_field(refused, PG_FIELD_SQLSTATE) : NULL;
		bool denied = st && !strcmp(st, SQLSTATE_DENIED);
		pg_clear(refused);
		if (!denied)
			return err_prefix(err, "looking for " LEDGER_TABLE);
		char why[1100];
		snprintf(why, sizeof why, "%s", err->msg);
		err_clear(err);
		say_off(lg, log, why);
		return 0;
	}
	bool exists = !strcmp(pg_val(r, 0, 0), "t"), usable = !strcmp(pg_val(r, 0, 1), "t");
	bool read_only = !strcmp(pg_val(r, 0, 2), "t");
	pg_clear(r);
	if (read_only) {
		lg->off = true; /* nothing can be committed here, so nothing twice */
		return 0;
	}
	if (!usable) {
		say_off(lg, log, "this role may not read and write " LEDGER_TABLE);
		return 0;
	}
	if (!exists) {
		int rc = create_table(lg, c, log, err);
		if (rc != 0)
			return rc < 0 ? rc : 0;
	}
	if (lg->first_try >= lg->try_number)
		return 0; /* no earlier try of this attempt */
	char run[32], first[16], try[16];
	snprintf(run, sizeof run, "%ld", lg->run_id);
	snprintf(first, sizeof first, "%d", lg->first_try);
	snprintf(try, sizeof try, "%d", lg->try_number);
	const char *p[5] = {lg->project, run, lg->task, first, try};
	r = pg_exec(c, SQL_LOOKUP, 5, p, err);
	if (!r)
		return err_prefix(err, "looking in " LEDGER_TABLE);
	int found = take_prior(lg, r);
	pg_clear(r);
	return found;
}

int ledger_mark(struct ledger *lg, struct pg_conn *c, const char *what, long long rows, struct err *err)
{
	if (lg->off)
		return 0;
	char run[32], first[16], try[16], n[32];
	snprintf(run, sizeof run, "%ld", lg->run_id);
	snprintf(first, sizeof first, "%d", lg->first_try);
	snprintf(try, sizeof try, "%d", lg->try_number);
	snprintf(n, sizeof n, "%lld", rows);
	const char *p[7] = {lg->project, run, lg->task, first, try, rows >= 0 ? n : NULL, what};
	struct pg_result *r = pg_exec(c, SQL_MARK, 7, p, err);
	if (!r)
		return err_prefix(err, "recording the commit in " LEDGER_TABLE);
	int inserted = pg_rows(r);
	pg_clear(r);
	if (inserted)
		return 0;
	/* an earlier try committed while this one ran: its row is visible now */
	r = pg_exec(c, SQL_LOOKUP, 5, p, err);
	if (!r)
		return err_prefix(err, "looking in " LEDGER_TABLE);
	int found = take_prior(lg, r);
	pg_clear(r);
	return found ? 1 : err_set(err, LEDGER_TABLE " refused this try's row but holds no other");
}

void ledger_say(const struct ledger *lg, FILE *out, bool meanwhile)
{
	if (meanwhile)
		fprintf(out, "[sluice] try %d committed at %s while this try ran: this try rolled back, its effect is "
			     "there once\n", lg->prior_try, lg->prior_at);
	else
		fprintf(out, "[sluice] try %d committed at %s before its end was recorded: not run again\n", lg->prior_try,
			lg->prior_at);
	fflush(out);
}
