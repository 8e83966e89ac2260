/* Backfills: the plan (which dates, and what each gets), storing it, the
 * operator's pause, resume and cancel, the runner's drive, and the read side.
 * Every statement of the module is here; the tables and sluice.backfill_rerun
 * are migration 10 of core/store.c. */
#include "core/backfill.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/date.h"
#include "base/util.h"
#include "connectors/pg.h"
#include "core/actions.h"
#include "core/ctx.h"
#include "core/project.h"

/* What the store has for each date of a plan: a live run, the latest run
 * and its state, another active backfill that has yet to start it. */
static const char PLAN_SQL[] =
	"SELECT d.ds::text, live.id, last.id, last.state, other.id"
	" FROM unnest($3::date[]) WITH ORDINALITY AS d(ds, ord)"
	" LEFT JOIN LATERAL (SELECT r.id FROM sluice.runs r WHERE r.project = $1 AND r.pipeline = $2"
	"   AND r.logical_date = d.ds AND r.state IN ('queued','running') ORDER BY r.id DESC LIMIT 1) live ON true"
	" LEFT JOIN LATERAL (SELECT r.id, r.state FROM sluice.runs r WHERE r.project = $1 AND r.pipeline = $2"
	"   AND r.logical_date = d.ds ORDER BY r.id DESC LIMIT 1) last ON true"
	" LEFT JOIN LATERAL (SELECT b.id FROM sluice.backfill_dates x JOIN sluice.backfills b ON b.id = x.backfill_id"
	"   WHERE b.project = $1 AND b.pipeline = $2 AND b.state IN ('running','paused')"
	"   AND x.logical_date = d.ds AND x.state = 'pending' ORDER BY b.id LIMIT 1) other ON true"
	" ORDER BY d.ord";

/* The backfill and its dates in one statement (seq: the start order). */
static const char CREATE_SQL[] =
	"WITH b AS (INSERT INTO sluice.backfills (project, pipeline, from_date, to_date, reprocess, max_parallel,"
	"   backwards, params, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9) RETURNING id),"
	" x AS (INSERT INTO sluice.backfill_dates (backfill_id, logical_date, seq, action, reason, prior_run, state)"
	"   SELECT b.id, u.d, u.o, u.a, u.w, nullif(u.p, 0),"
	"     CASE WHEN u.a = 'skip' THEN 'skipped' ELSE 'pending' END"
	"   FROM b, unnest($10::date[], $11::text[], $12::text[], $13::bigint[]) WITH ORDINALITY AS u(d, a, w, p, o))"
	" SELECT id FROM b";

static const char STATE_SQL[] = "SELECT state FROM sluice.backfills WHERE project = $1 AND id = $2 FOR UPDATE";
static const char PAUSE_SQL[] = "UPDATE sluice.backfills SET state = 'paused' WHERE id = $1";
static const char RESUME_SQL[] = "UPDATE sluice.backfills SET state = 'running' WHERE id = $1";
static const char CANCEL_SQL[] =
	"WITH x AS (UPDATE sluice.backfill_dates SET state = 'cancelled' WHERE backfill_id = $1 AND state = 'pending')"
	" UPDATE sluice.backfills SET state = 'cancelled', ended_at = now() WHERE id = $1";

/* The runner's statements. */
static const char RUNNING_SQL[] =
	"SELECT id, pipeline, max_parallel, params::text, reprocess FROM sluice.backfills"
	" WHERE project = $1 AND state = 'running' ORDER BY id";
/* Dates started whose run is still going, or was never created (its
 * runner died after taking the date). */
static const char INFLIGHT_SQL[] =
	"SELECT x.logical_date::text, x.run_id, r.id IS NULL, x.action FROM sluice.backfill_dates x"
	" LEFT JOIN sluice.runs r ON r.id = x.run_id"
	" WHERE x.backfill_id = $1 AND x.state = 'started' AND (r.id IS NULL OR r.state IN ('queued','running'))";
static const char NEXT_SQL[] =
	"SELECT logical_date::text, action FROM sluice.backfill_dates"
	" WHERE backfill_id = $1 AND state = 'pending' ORDER BY seq LIMIT $2";
static const char LIVE_SQL[] =
	"SELECT id FROM sluice.runs WHERE project = $1 AND pipeline = $2 AND logical_date = $3"
	" AND state IN ('queued','running') ORDER BY id DESC LIMIT 1";
static const char SKIP_SQL[] =
	"UPDATE sluice.backfill_dates SET state = 'skipped', reason = $3"
	" WHERE backfill_id = $1 AND logical_date = $2 AND state = 'pending'";
/* Only while the backfill runs: a pause or cancel that committed since the
 * drive looked starts nothing more. */
static const char TAKE_SQL[] =
	"UPDATE sluice.backfill_dates x SET state = 'started', run_id = $3, started_at = now()"
	" WHERE x.backfill_id = $1 AND x.logical_date = $2 AND x.state = 'pending'"
	" AND EXISTS (SELECT 1 FROM sluice.backfills b WHERE b.id = $1 AND b.state = 'running')";
static const char ERROR_SQL[] =
	"UPDATE sluice.backfill_dates SET state = 'error', reason = $3 WHERE backfill_id = $1 AND logical_date = $2";
static const char RERUN_SQL[] = "SELECT sluice.backfill_rerun($1, $2, $3)";
/* Ends a backfill with nothing left to start and nothing running. */
static const char SETTLE_SQL[] =
	"UPDATE sluice.backfills b SET ended_at = now(), state = CASE WHEN EXISTS ("
	"   SELECT 1 FROM sluice.backfill_dates x LEFT JOIN sluice.runs r ON r.id = x.run_id"
	"   WHERE x.backfill_id = b.id AND (x.state = 'error' OR (x.state = 'started' AND r.state = 'failed')))"
	"   THEN 'failed' ELSE 'success' END"
	" WHERE b.id = $1 AND b.state = 'running'"
	" AND NOT EXISTS (SELECT 1 FROM sluice.backfill_dates x WHERE x.backfill_id = b.id AND x.state = 'pending')"
	" AND NOT EXISTS (SELECT 1 FROM sluice.backfill_dates x LEFT JOIN sluice.runs r ON r.id = x.run_id"
	"   WHERE x.backfill_id = b.id AND x.state = 'started' AND (r.id IS NULL OR r.state IN ('queued','running')))"
	" RETURNING b.state";

/* The read side: each backfill with its counts and a strip of its dates. */
static const char LIST_SQL[] =
	"SELECT b.id, b.pipeline, b.from_date::text, b.to_date::text, b.reprocess, b.max_parallel, b.backwards,"
	" b.params::text, b.state, coalesce(b.created_by, ''),"
	" to_char(b.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
	" to_char(b.ended_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
	" s.n, s.done, s.running, s.failed, s.left_, s.skipped, s.cancelled, s.strip"
	" FROM sluice.backfills b, LATERAL ("
	"  SELECT count(*) AS n, count(*) FILTER (WHERE k = 's') AS done, count(*) FILTER (WHERE k = 'r') AS running,"
	"   count(*) FILTER (WHERE k = 'f') AS failed, count(*) FILTER (WHERE k = '.') AS left_,"
	"   count(*) FILTER (WHERE k = 'k') AS skipped, count(*) FILTER (WHERE k = 'c') AS cancelled,"
	"   string_agg(k, '' ORDER BY ds) AS strip"
	"  FROM (SELECT x.logical_date AS ds, CASE x.state WHEN 'pending' THEN '.' WHEN 'skipped' THEN 'k'"
	"     WHEN 'cancelled' THEN 'c' WHEN 'error' THEN 'f'"
	"     ELSE CASE r.state WHEN 'success' THEN 's' WHEN 'failed' THEN 'f' ELSE 'r' END END AS k"
	"    FROM sluice.backfill_dates x LEFT JOIN sluice.runs r ON r.id = x.run_id"
	"    WHERE x.backfill_id = b.id) d) s"
	" WHERE b.project = $1 AND ($2::bigint IS NULL OR b.id = $2)"
	" ORDER BY b.id DESC LIMIT $3";

static const char DATES_SQL[] =
	"SELECT x.logical_date::text, x.action, CASE x.state WHEN 'pending' THEN 'left' WHEN 'error' THEN 'failed'"
	"   WHEN 'started' THEN CASE r.state WHEN 'success' THEN 'success' WHEN 'failed' THEN 'failed' ELSE 'running' END"
	"   ELSE x.state END, coalesce(x.reason, ''), coalesce(x.run_id, 0)"
	" FROM sluice.backfill_dates x JOIN sluice.backfills b ON b.id = x.backfill_id"
	" LEFT JOIN sluice.runs r ON r.id = x.run_id"
	" WHERE b.project = $1 AND b.id = $2 ORDER BY x.logical_date";

/* ---- names ---------------------------------------------------------------------- */

static const char *const reprocess_names[] = {"missing", "failed", "all"};
static const char *const action_names[] = {"create", "rerun", "skip"};

const char *bf_reprocess_name(enum bf_reprocess r)
{
	return reprocess_names[r];
}

int bf_reprocess_parse(const char *s)
{
	for (int i = 0; i < 3; i++)
		if (s && !strcmp(s, reprocess_names[i]))
			return i;
	return -1;
}

const char *bf_action_name(enum bf_action a)
{
	return action_names[a];
}

void bf_plan_free(struct bf_plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i].reason);
	free(p->v);
	memset(p, 0, sizeof *p);
}

/* ---- the dates ------------------------------------------------------------------ */

static int64_t days_of(const char *ds)
{
	int y = 0, m = 0, d = 0;
	sscanf(ds, "%d-%d-%d", &y, &m, &d);
	return date_days_from_civil(y, m, d);
}

static void ds_of(int64_t days, char out[11])
{
	int64_t y;
	int m, d;
	date_civil_from_days(days, &y, &m, &d);
	snprintf(out, 11, "%04d-%02d-%02d", (int)y, m, d);
}

int backfill_dates(const struct pipeline *pl, const char *from, const char *to, bool backwards, char (**out)[11],
		   size_t *n, struct err *err)
{
	*out = NULL;
	*n = 0;
	if (!date_valid(from))
		return err_set(err, "--from '%s': expected a date as YYYY-MM-DD", from);
	if (!date_valid(to))
		return err_set(err, "--to '%s': expected a date as YYYY-MM-DD", to);
	int64_t a = days_of(from), b = days_of(to);
	if (a > b)
		return err_set(err, "--from %s is after --to %s", from, to);
	if (b - a + 1 > BACKFILL_MAX_DATES)
		return err_set(err, "%s..%s is %lld days; a backfill takes at most %d dates", from, to,
			       (long long)(b - a + 1), BACKFILL_MAX_DATES);
	size_t cap = (size_t)(b - a + 1), k = 0;
	char(*v)[11] = xcalloc(cap, sizeof *v);
	for (int64_t day = a; day <= b;) {
		if (!pl->schedule) {
			ds_of(day++, v[k++]);
			continue;
		}
		/* the first time the schedule fires at or after this day's start */
		time_t t = cron_next(&pl->cron, (time_t)(day * 86400 - 1));
		if (t == (time_t)-1)
			break;
		int64_t fday = (int64_t)t / 86400;
		if (fday > b)
			break;
		ds_of(fday, v[k++]);
		day = fday + 1;
	}
	if (!k) {
		free(v);
		return err_set(err, "the schedule of %s (%s) fires on no day from %s to %s", pl->name, pl->schedule, from,
			       to);
	}
	if (backwards) {
		for (size_t i = 0; i < k / 2; i++) {
			char tmp[11];
			memcpy(tmp, v[i], 11);
			memcpy(v[i], v[k - 1 - i], 11);
			memcpy(v[k - 1 - i], tmp, 11);
		}
	}
	*out = v;
	*n = k;
	return 0;
}

/* ---- the plan ------------------------------------------------------------------- */

void backfill_decide(struct bf_date *d, enum bf_reprocess rp, long live_run, long last_run, const char *last_state,
		     long in_backfill)
{
	free(d->reason);
	d->reason = NULL;
	d->run_id = 0;
	d->why = NULL;
	if (in_backfill) {
		d->action = BF_SKIP;
		d->why = "in another backfill";
		d->reason = xasprintf("backfill %ld has yet to start it", in_backfill);
		return;
	}
	if (live_run) {
		d->action = BF_SKIP;
		d->run_id = live_run;
		d->why = "a live run";
		d->reason = xasprintf("run %ld is live", live_run);
		return;
	}
	if (!last_run) {
		d->action = BF_CREATE;
		d->reason = xstrdup("no run yet");
		return;
	}
	d->run_id = last_run;
	bool failed = last_state && !strcmp(last_state, "failed");
	if (rp == BF_ALL) {
		d->action = BF_RERUN;
		d->reason = xasprintf("run %ld %s: every task cleared", last_run, failed ? "failed" : "succeeded");
	} else if (failed && rp == BF_FAILED) {
		d->action = BF_RERUN;
		d->reason = xasprintf("run %ld failed: its failed tasks cleared", last_run);
	} else if (failed) {
		d->action = BF_SKIP;
		d->why = "already failed";
		d->reason = xasprintf("run %ld failed (--reprocess failed re-runs it)", last_run);
	} else {
		d->action = BF_SKIP;
		d->why = "already succeeded";
		d->reason = xasprintf("run %ld succeeded (--reprocess all re-runs it)", last_run);
	}
}

char *backfill_plan_summary(const struct bf_plan *p)
{
	struct strbuf b = {0};
	sb_addf(&b, "%zu run%s will be created", p->n_create, p->n_create == 1 ? "" : "s");
	if (p->n_rerun)
		sb_addf(&b, ", %zu re-run", p->n_rerun);
	if (p->n_skip) {
		sb_addf(&b, ", %zu skipped", p->n_skip);
		/* the reasons, most frequent first, each once */
		const char *whys[8];
		size_t counts[8], nw = 0;
		for (size_t i = 0; i < p->n; i++) {
			if (p->v[i].action != BF_SKIP || !p->v[i].why)
				continue;
			size_t k = 0;
			while (k < nw && strcmp(whys[k], p->v[i].why))
				k++;
			if (k == nw && nw < 8) {
				whys[nw] = p->v[i].why;
				counts[nw++] = 0;
			}
			if (k < nw)
				counts[k]++;
		}
		for (size_t i = 0; i < nw; i++)
			for (size_t j = i + 1; j < nw; j++)
				if (counts[j] > counts[i]) {
					size_t tc = counts[i];
					const char *tw = whys[i];
					counts[i] = counts[j];
					whys[i] = whys[j];
					counts[j] = tc;
					whys[j] = tw;
				}
		if (nw == 1)
			sb_addf(&b, ": %s", whys[0]);
		for (size_t i = 0; nw > 1 && i < nw; i++)
			sb_addf(&b, "%s%zu %s", i ? ", " : " (", counts[i], whys[i]);
		if (nw > 1)
			sb_addc(&b, ')');
	}
	return sb_steal(&b);
}

/* The dates as a PostgreSQL array literal. */
static char *dates_array(char (*v)[11], size_t n)
{
	struct strbuf b = {0};
	sb_addc(&b, '{');
	for (size_t i = 0; i < n; i++) {
		if (i)
			sb_addc(&b, ',');
		sb_adds(&b, v[i]);
	}
	sb_addc(&b, '}');
	return sb_steal(&b);
}

static int check_params(const struct pipeline *pl, const json_t *params, struct err *err)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)params, k, v) {
		if (!json_object_get(pl->params, k))
			return err_set(err, "pipeline '%s' has no param '%s' (declare it under params:)", pl->name, k);
	}
	return 0;
}

static const struct pipeline *find_pipeline(struct sctx *c, const char *name, struct err *err)
{
	const struct pipeline *pl = project_pipeline(c->proj, name);
	if (pl && !pl->implicit)
		return pl;
	const char **names = xcalloc(c->proj->n_pipelines + 1, sizeof *names);
	size_t k = 0;
	for (size_t i = 0; i < c->proj->n_pipelines; i++)
		if (!c->proj->pipelines[i].implicit)
			names[k++] = c->proj->pipelines[i].name;
	const char *near = nearest_word(name, names, k);
	err_setc(err, ERR_NOTFOUND, "no pipeline '%s'%s%s%s", name, near ? "; did you mean '" : "", near ? near : "",
		 near ? "'?" : "");
	free(names);
	return NULL;
}

int backfill_plan(struct sctx *c, const struct bf_opts *o, struct bf_plan *out, struct err *err)
{
	memset(out, 0, sizeof *out);
	const struct pipeline *pl = find_pipeline(c, o->pipeline, err);
	if (!pl)
		return err_code(err);
	if (o->max_parallel < 1)
		return err_set(err, "--max-parallel must be at least 1");
	if (check_params(pl, o->params, err) < 0)
		return err_code(err);
	char(*dates)[11];
	size_t n;
	if (backfill_dates(pl, o->from, o->to, o->backwards, &dates, &n, err) < 0)
		return err_code(err);
	char *arr = dates_array(dates, n);
	const char *p[3] = {c->store.project, pl->name, arr};
	struct pg_result *r = pg_exec(c->store.pg, PLAN_SQL, 3, p, err);
	free(arr);
	free(dates);
	if (!r)
		return err_prefix(err, "backfill plan of %s", pl->name);
	out->n = (size_t)pg_rows(r);
	out->v = xcalloc(out->n + 1, sizeof *out->v);
	for (size_t i = 0; i < out->n; i++) {
		int row = (int)i;
		struct bf_date *d = &out->v[i];
		snprintf(d->ds, sizeof d->ds, "%s", pg_val(r, row, 0));
		long live = pg_isnull(r, row, 1) ? 0 : atol(pg_val(r, row, 1));
		long last = pg_isnull(r, row, 2) ? 0 : atol(pg_val(r, row, 2));
		long other = pg_isnull(r, row, 4) ? 0 : atol(pg_val(r, row, 4));
		backfill_decide(d, o->reprocess, live, last, pg_isnull(r, row, 3) ? NULL : pg_val(r, row, 3), other);
		if (d->action == BF_CREATE)
			out->n_create++;
		else if (d->action == BF_RERUN)
			out->n_rerun++;
		else
			out->n_skip++;
	}
	pg_clear(r);
	return 0;
}

/* ---- storing it, and the operator's changes ------------------------------------- */

int backfill_create(struct sctx *c, const struct bf_opts *o, const struct bf_plan *p, const char *who, long *id,
		    struct err *err)
{
	struct strbuf ds = {0}, acts = {0}, whys = {0}, prior = {0};
	sb_addc(&ds, '{');
	sb_addc(&acts, '{');
	sb_addc(&whys, '{');
	sb_addc(&prior, '{');
	for (size_t i = 0; i < p->n; i++) {
		const char *sep = i ? "," : "";
		sb_addf(&ds, "%s%s", sep, p->v[i].ds);
		sb_addf(&acts, "%s%s", sep, bf_action_name(p->v[i].action));
		sb_addf(&prior, "%s%ld", sep, p->v[i].action == BF_RERUN ? p->v[i].run_id : 0);
		/* reasons are our own text, but quoted as any array element must be */
		sb_addf(&whys, "%s\"", sep);
		for (const char *s = p->v[i].reason ? p->v[i].reason : ""; *s; s++) {
			if (*s == '"' || *s == '\\')
				sb_addc(&whys, '\\');
			sb_addc(&whys, *s);
		}
		sb_addc(&whys, '"');
	}
	sb_addc(&ds, '}');
	sb_addc(&acts, '}');
	sb_addc(&whys, '}');
	sb_addc(&prior, '}');
	char mp[16];
	snprintf(mp, sizeof mp, "%d", o->max_parallel);
	char *pj = o->params ? json_dumps(o->params, JSON_COMPACT) : xstrdup("{}");
	const char *pl = project_pipeline(c->proj, o->pipeline) ? project_pipeline(c->proj, o->pipeline)->name
								  : o->pipeline;
	const char *v[13] = {c->store.project, pl, o->from, o->to, bf_reprocess_name(o->reprocess), mp,
			     o->backwards ? "t" : "f", pj, who, ds.s, acts.s, whys.s, prior.s};
	struct pg_result *r = pg_exec(c->store.pg, CREATE_SQL, 13, v, err);
	free(pj);
	sb_free(&ds);
	sb_free(&acts);
	sb_free(&whys);
	sb_free(&prior);
	if (!r)
		return err_prefix(err, "storing the backfill of %s", pl);
	*id = atol(pg_val(r, 0, 0));
	pg_clear(r);
	return 0;
}

int backfill_set_state(struct sctx *c, long id, const char *verb, struct err *err)
{
	char ids[32];
	snprintf(ids, sizeof ids, "%ld", id);
	const char *p[2] = {c->store.project, ids};
	if (pg_script(c->store.pg, "BEGIN", err) < 0)
		return err_code(err);
	struct pg_result *r = pg_exec(c->store.pg, STATE_SQL, 2, p, err);
	if (!r)
		goto fail;
	if (!pg_rows(r)) {
		pg_clear(r);
		err_setc(err, ERR_NOTFOUND, "no backfill %ld in project %s (see 'sluice backfill --list')", id,
			 c->store.project);
		goto fail;
	}
	char state[32];
	snprintf(state, sizeof state, "%s", pg_val(r, 0, 0));
	pg_clear(r);
	const char *sql = NULL;
	if (!strcmp(verb, "pause") && !strcmp(state, "running"))
		sql = PAUSE_SQL;
	else if (!strcmp(verb, "resume") && !strcmp(state, "paused"))
		sql = RESUME_SQL;
	else if (!strcmp(verb, "cancel") && (!strcmp(state, "running") || !strcmp(state, "paused")))
		sql = CANCEL_SQL;
	if (!sql) {
		err_setc(err, ERR_CONFLICT, "backfill %ld is %s: it cannot %s", id, state,
			 !strcmp(verb, "cancel") ? "be cancelled" : !strcmp(verb, "pause") ? "be paused" : "be resumed");
		goto fail;
	}
	if (pg_cmd(c->store.pg, sql, 1, p + 1, err) < 0 || pg_script(c->store.pg, "COMMIT", err) < 0)
		goto fail;
	return 0;
fail:
	pg_script(c->store.pg, "ROLLBACK", NULL);
	return err_code(err);
}

/* ---- the runner's drive ------------------------------------------------------------ */

struct running_bf {
	long id;
	char *pipeline, *params, *reprocess;
	int max_parallel;
	struct strbuf *log;  /* what the drive did, a line each */
};

static void say(const struct running_bf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const struct running_bf *b, const char *fmt, ...)
{
	if (!b->log)
		return;
	char line[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	sb_addf(b->log, "backfill %ld of %s: %s\n", b->id, b->pipeline, line);
}

static void date_error(struct sctx *c, const char *bf, const char *ds, const char *msg)
{
	const char *p[3] = {bf, ds, msg};
	pg_cmd(c->store.pg, ERROR_SQL, 3, p, NULL);
}

/* Creates the run of a date taken with run_id reserved. */
static int create_taken(struct sctx *c, const struct running_bf *b, const char *bf, const char *ds, long run_id,
			struct err *err)
{
	json_t *params = json_loads(b->params, 0, NULL);
	int rc = action_trigger_reserved(c, b->pipeline, ds, params, "backfill", run_id, err);
	json_decref(params);
	if (rc == 0)
		say(b, "run %ld for %s", run_id, ds);
	else if (rc != ERR_UNREACHABLE && !pg_broken(c->store.pg)) {
		/* a date that cannot start (the pipeline is gone, a template no
		 * longer renders) is kept failed with why, not tried forever */
		date_error(c, bf, ds, err->msg);
		say(b, "%s cannot start: %s", ds, err->msg);
	}
	return rc;
}

/* What became of a pending date the drive took up. */
enum { DATE_DONE, DATE_STARTED, DATE_LEFT };

/* Starts one pending date: DATE_STARTED (a run created or reopened),
 * DATE_DONE (skipped, or kept failed with why), DATE_LEFT (still pending:
 * the backfill stopped running meanwhile), or a negative code. */
static int start_date(struct sctx *c, const struct running_bf *b, const char *bf, const char *ds, const char *action,
		      struct err *err)
{
	const char *lp[3] = {c->store.project, b->pipeline, ds};
	struct pg_result *r = pg_exec(c->store.pg, LIVE_SQL, 3, lp, err);
	if (!r)
		return err_code(err);
	long live = pg_rows(r) ? atol(pg_val(r, 0, 0)) : 0;
	pg_clear(r);
	if (live) {
		char why[96];
		snprintf(why, sizeof why, "run %ld was live when its turn came", live);
		const char *p[3] = {bf, ds, why};
		if (pg_cmd(c->store.pg, SKIP_SQL, 3, p, err) < 0)
			return err_code(err);
		say(b, "%s skipped: %s", ds, why);
		return DATE_DONE;
	}
	if (!strcmp(action, "rerun")) {
		const char *p[3] = {bf, ds, !strcmp(b->reprocess, "all") ? "t" : "f"};
		r = pg_exec(c->store.pg, RERUN_SQL, 3, p, err);
		if (!r)
			return err_code(err);
		long run = pg_isnull(r, 0, 0) ? 0 : atol(pg_val(r, 0, 0));
		pg_clear(r);
		if (!run)
			return DATE_LEFT;
		/* reopened and committed: should the advance fail, the sweep's
		 * pass over active runs queues its tasks */
		struct err ae = {0};
		action_advance(c, run, &ae);
		say(b, "run %ld for %s re-run (%s tasks cleared)", run, ds, !strcmp(b->reprocess, "all") ? "all its" : "its failed");
		return DATE_STARTED;
	}
	long run_id;
	if (store_run_new_id(&c->store, &run_id, err) < 0)
		return err_code(err);
	char rid[32];
	snprintf(rid, sizeof rid, "%ld", run_id);
	const char *tp[3] = {bf, ds, rid};
	r = pg_exec(c->store.pg, TAKE_SQL, 3, tp, err);
	if (!r)
		return err_code(err);
	bool taken = pg_cmd_rows(r) == 1;
	pg_clear(r);
	if (!taken)
		return DATE_LEFT;
	int rc = create_taken(c, b, bf, ds, run_id, err);
	if (rc < 0)
		return rc == ERR_UNREACHABLE || pg_broken(c->store.pg) ? rc : DATE_DONE;
	return DATE_STARTED;
}

static int drive_one(struct sctx *c, const struct running_bf *b, int *started, bool *ended, struct err *err)
{
	char bf[32];
	snprintf(bf, sizeof bf, "%ld", b->id);
	const char *p1[1] = {bf};
	struct pg_result *r = pg_exec(c->store.pg, INFLIGHT_SQL, 1, p1, err);
	if (!r)
		return err_code(err);
	int inflight = pg_rows(r);
	for (int i = 0; i < pg_rows(r); i++) {
		if (strcmp(pg_val(r, i, 2), "t"))
			continue;
		if (strcmp(pg_val(r, i, 3), "create")) {
			/* the run a re-run reopened was deleted since */
			date_error(c, bf, pg_val(r, i, 0), "its run is gone");
			inflight--;
			continue;
		}
		/* taken by a runner that died before creating its run */
		struct err e = {0};
		if (create_taken(c, b, bf, pg_val(r, i, 0), atol(pg_val(r, i, 1)), &e) == 0)
			(*started)++;
		else
			inflight--;
	}
	pg_clear(r);
	int rc = 0;
	while (inflight < b->max_parallel) {
		char lim[16];
		snprintf(lim, sizeof lim, "%d", b->max_parallel - inflight);
		const char *p2[2] = {bf, lim};
		r = pg_exec(c->store.pg, NEXT_SQL, 2, p2, err);
		if (!r)
			return err_code(err);
		int n = pg_rows(r), got = 0, done = 0;
		for (int i = 0; i < n && rc == 0; i++) {
			int k = start_date(c, b, bf, pg_val(r, i, 0), pg_val(r, i, 1), err);
			if (k == DATE_STARTED)
				got++;
			else if (k == DATE_DONE)
				done++;
			else if (k < 0)
				rc = k;
		}
		pg_clear(r);
		*started += got;
		inflight += got;
		/* dates skipped free their slots at once: look again, unless
		 * nothing is left or one stayed pending (try it next time) */
		if (rc < 0 || n == 0 || got + done < n || !done)
			break;
	}
	if (rc < 0)
		return rc;
	r = pg_exec(c->store.pg, SETTLE_SQL, 1, p1, err);
	if (!r)
		return err_code(err);
	*ended = pg_rows(r) == 1;
	if (*ended)
		say(b, "ended, %s", pg_val(r, 0, 0));
	pg_clear(r);
	return 0;
}

int backfill_drive(struct sctx *c, int *started, int *running, struct strbuf *log, struct err *err)
{
	*started = 0;
	*running = 0;
	const char *p[1] = {c->store.project};
	struct pg_result *r = pg_exec(c->store.pg, RUNNING_SQL, 1, p, err);
	if (!r)
		return err_code(err);
	size_t n = (size_t)pg_rows(r);
	struct running_bf *v = xcalloc(n + 1, sizeof *v);
	for (size_t i = 0; i < n; i++) {
		v[i].id = atol(pg_val(r, (int)i, 0));
		v[i].pipeline = xstrdup(pg_val(r, (int)i, 1));
		v[i].max_parallel = atoi(pg_val(r, (int)i, 2));
		v[i].params = xstrdup(pg_val(r, (int)i, 3));
		v[i].reprocess = xstrdup(pg_val(r, (int)i, 4));
		v[i].log = log;
	}
	pg_clear(r);
	/* one backfill's trouble does not hold up the others; the first is said */
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		bool ended = false;
		struct err e = {0};
		int k = drive_one(c, &v[i], started, &ended, &e);
		if (!ended)
			(*running)++;
		if (k < 0 && rc == 0)
			rc = err_setc(err, k, "backfill %ld: %s", v[i].id, e.msg);
		if (k < 0 && (k == ERR_UNREACHABLE || pg_broken(c->store.pg)))
			break;
	}
	for (size_t i = 0; i < n; i++) {
		free(v[i].pipeline);
		free(v[i].params);
		free(v[i].reprocess);
	}
	free(v);
	return rc;
}

/* ---- reading them back -------------------------------------------------------------- */

void bf_rows_free(struct bf_row *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].pipeline);
		free(v[i].from);
		free(v[i].to);
		free(v[i].reprocess);
		free(v[i].state);
		free(v[i].params);
		free(v[i].created_by);
		free(v[i].created_at);
		free(v[i].ended_at);
		free(v[i].strip);
	}
	free(v);
}

void query_backfills(struct query *q, const char *project, long id, int limit)
{
	memset(q, 0, sizeof *q);
	q->sql = LIST_SQL;
	q->n = 3;
	q->params[0] = project;
	if (id > 0)
		query_num(q, 1, id);
	query_num(q, 2, limit > 0 ? limit : 50);
}

int query_backfills_parse(struct pg_result *r, struct bf_row **rows, size_t *n)
{
	int nr = pg_rows(r);
	struct bf_row *v = xcalloc((size_t)nr + 1, sizeof *v);
	for (int i = 0; i < nr; i++) {
		v[i].id = atol(pg_val(r, i, 0));
		v[i].pipeline = xstrdup(pg_val(r, i, 1));
		v[i].from = xstrdup(pg_val(r, i, 2));
		v[i].to = xstrdup(pg_val(r, i, 3));
		v[i].reprocess = xstrdup(pg_val(r, i, 4));
		v[i].max_parallel = atoi(pg_val(r, i, 5));
		v[i].backwards = !strcmp(pg_val(r, i, 6), "t");
		v[i].params = xstrdup(pg_val(r, i, 7));
		v[i].state = xstrdup(pg_val(r, i, 8));
		v[i].created_by = xstrdup(pg_val(r, i, 9));
		v[i].created_at = xstrdup(pg_val(r, i, 10));
		v[i].ended_at = pg_isnull(r, i, 11) ? NULL : xstrdup(pg_val(r, i, 11));
		v[i].n_dates = atoi(pg_val(r, i, 12));
		v[i].n_done = atoi(pg_val(r, i, 13));
		v[i].n_running = atoi(pg_val(r, i, 14));
		v[i].n_failed = atoi(pg_val(r, i, 15));
		v[i].n_left = atoi(pg_val(r, i, 16));
		v[i].n_skipped = atoi(pg_val(r, i, 17));
		v[i].n_cancelled = atoi(pg_val(r, i, 18));
		v[i].strip = xstrdup(pg_isnull(r, i, 19) ? "" : pg_val(r, i, 19));
	}
	*rows = v;
	*n = (size_t)nr;
	return 0;
}

int store_backfills(struct store *s, long id, int limit, struct bf_row **rows, size_t *n, struct err *err)
{
	struct query q;
	query_backfills(&q, s->project, id, limit);
	*rows = NULL;
	*n = 0;
	struct pg_result *r = pg_exec(s->pg, q.sql, q.n, q.params, err);
	if (!r)
		return err_code(err);
	query_backfills_parse(r, rows, n);
	pg_clear(r);
	return 0;
}

void bf_date_rows_free(struct bf_date_row *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].action);
		free(v[i].state);
		free(v[i].reason);
	}
	free(v);
}

int store_backfill_dates(struct store *s, long id, struct bf_date_row **rows, size_t *n, struct err *err)
{
	*rows = NULL;
	*n = 0;
	char ids[32];
	snprintf(ids, sizeof ids, "%ld", id);
	const char *p[2] = {s->project, ids};
	struct pg_result *r = pg_exec(s->pg, DATES_SQL, 2, p, err);
	if (!r)
		return err_code(err);
	int nr = pg_rows(r);
	struct bf_date_row *v = xcalloc((size_t)nr + 1, sizeof *v);
	for (int i = 0; i < nr; i++) {
		snprintf(v[i].ds, sizeof v[i].ds, "%.10s", pg_val(r, i, 0));
		v[i].action = xstrdup(pg_val(r, i, 1));
		v[i].state = xstrdup(pg_val(r, i, 2));
		v[i].reason = xstrdup(pg_val(r, i, 3));
		v[i].run_id = atol(pg_val(r, i, 4));
	}
	pg_clear(r);
	*rows = v;
	*n = (size_t)nr;
	if (!nr)
		return err_setc(err, ERR_NOTFOUND, "no backfill %ld in project %s (see 'sluice backfill --list')", id,
				s->project);
	return 0;
}
