/* Read queries over schema sluice. */
#include "core/query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "connectors/pg.h"

#define ISO "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'"

static const char RUNS_SQL[] =
	"SELECT r.id, r.pipeline, r.logical_date::text, r.state, r.trigger,"
	" to_char(r.created_at AT TIME ZONE 'UTC', " ISO "), r.params::text,"
	" extract(epoch FROM coalesce(r.ended_at, now()) - r.created_at)::float8,"
	" count(t.*), count(t.*) FILTER (WHERE t.state = 'success'),"
	" count(t.*) FILTER (WHERE t.state IN ('failed','upstream_failed')),"
	" count(t.*) FILTER (WHERE t.state IN ('running','queued','up_for_retry'))"
	" FROM sluice.runs r LEFT JOIN sluice.task_instances t ON t.run_id = r.id"
	" WHERE r.project = $1 AND ($2::text IS NULL OR r.pipeline = $2)"
	" GROUP BY r.id ORDER BY r.id DESC LIMIT $3";

static const char RUN_SQL[] =
	"SELECT r.id, r.pipeline, r.logical_date::text, r.state, r.trigger,"
	" to_char(r.created_at AT TIME ZONE 'UTC', " ISO "), r.params::text,"
	" extract(epoch FROM coalesce(r.ended_at, now()) - r.created_at)::float8,"
	" count(t.*), count(t.*) FILTER (WHERE t.state = 'success'),"
	" count(t.*) FILTER (WHERE t.state IN ('failed','upstream_failed')),"
	" count(t.*) FILTER (WHERE t.state IN ('running','queued','up_for_retry'))"
	" FROM sluice.runs r LEFT JOIN sluice.task_instances t ON t.run_id = r.id"
	" WHERE r.id = $1 GROUP BY r.id";

static const char TASKS_SQL[] =
	"SELECT t.id, t.task, t.state, t.try_number,"
	" extract(epoch FROM coalesce(t.ended_at, now()) - t.started_at)::float8,"
	" to_char(t.started_at AT TIME ZONE 'UTC', " ISO "),"
	" to_char(t.ended_at AT TIME ZONE 'UTC', " ISO "),"
	" t.exit_status, t.error, t.worker"
	" FROM sluice.task_instances t WHERE t.run_id = $1 ORDER BY t.id";

static const char LOG_SQL[] =
	"SELECT seq, to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), stream, line"
	" FROM sluice.task_logs WHERE ti_id = $1 AND try_number = $2 AND seq >= $3 ORDER BY seq LIMIT $4";

void run_rows_free(struct run_row *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].pipeline);
		free(v[i].logical_date);
		free(v[i].state);
		free(v[i].trigger);
		free(v[i].created_at);
		free(v[i].params);
	}
	free(v);
}

void ti_rows_free(struct ti_row *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].task);
		free(v[i].state);
		free(v[i].started_at);
		free(v[i].ended_at);
		free(v[i].error);
		free(v[i].worker);
	}
	free(v);
}

void log_rows_free(struct log_row *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].ts);
		free(v[i].line);
	}
	free(v);
}

void query_runs(struct query *q, const char *project, const char *pipeline, int limit)
{
	memset(q, 0, sizeof *q);
	q->sql = RUNS_SQL;
	q->n = 3;
	q->params[0] = project;
	q->params[1] = pipeline;
	query_num(q, 2, limit > 0 ? limit : 20);
}

int query_runs_parse(struct pg_result *r, struct run_row **rows, size_t *n)
{
	int nt = pg_rows(r);
	struct run_row *v = xcalloc((size_t)nt, sizeof *v);
	for (int i = 0; i < nt; i++) {
		v[i].id = atol(pg_val(r, i, 0));
		v[i].pipeline = xstrdup(pg_val(r, i, 1));
		v[i].logical_date = xstrdup(pg_val(r, i, 2));
		v[i].state = xstrdup(pg_val(r, i, 3));
		v[i].trigger = xstrdup(pg_val(r, i, 4));
		v[i].created_at = xstrdup(pg_val(r, i, 5));
		v[i].params = xstrdup(pg_val(r, i, 6));
		v[i].duration_s = atof(pg_val(r, i, 7));
		v[i].n_total = atoi(pg_val(r, i, 8));
		v[i].n_success = atoi(pg_val(r, i, 9));
		v[i].n_failed = atoi(pg_val(r, i, 10));
		v[i].n_active = atoi(pg_val(r, i, 11));
	}
	*rows = v;
	*n = (size_t)nt;
	return 0;
}

void query_run(struct query *q, long run_id)
{
	memset(q, 0, sizeof *q);
	q->sql = RUN_SQL;
	q->n = 1;
	query_num(q, 0, run_id);
}

void query_tasks(struct query *q, long run_id)
{
	memset(q, 0, sizeof *q);
	q->sql = TASKS_SQL;
	q->n = 1;
	query_num(q, 0, run_id);
}

int query_tasks_parse(struct pg_result *r, struct ti_row **rows, size_t *n)
{
	int nt = pg_rows(r);
	struct ti_row *v = xcalloc((size_t)nt, sizeof *v);
	for (int i = 0; i < nt; i++) {
		v[i].id = atol(pg_val(r, i, 0));
		v[i].task = xstrdup(pg_val(r, i, 1));
		v[i].state = xstrdup(pg_val(r, i, 2));
		v[i].try_number = atoi(pg_val(r, i, 3));
		v[i].duration_s = pg_isnull(r, i, 4) ? -1 : atof(pg_val(r, i, 4));
		v[i].started_at = pg_strdup_val(r, i, 5);
		v[i].ended_at = pg_strdup_val(r, i, 6);
		v[i].has_exit = !pg_isnull(r, i, 7);
		v[i].exit_status = v[i].has_exit ? atoi(pg_val(r, i, 7)) : 0;
		v[i].error = pg_strdup_val(r, i, 8);
		v[i].worker = pg_strdup_val(r, i, 9);
	}
	*rows = v;
	*n = (size_t)nt;
	return 0;
}

void query_log(struct query *q, long ti, int try_number, int from_seq, int limit)
{
	memset(q, 0, sizeof *q);
	q->sql = LOG_SQL;
	q->n = 4;
	query_num(q, 0, ti);
	query_num(q, 1, try_number);
	query_num(q, 2, from_seq);
	query_num(q, 3, limit > 0 ? limit : 1000);
}

int query_log_parse(struct pg_result *r, struct log_row **rows, size_t *n)
{
	int nt = pg_rows(r);
	struct log_row *v = xcalloc((size_t)nt, sizeof *v);
	for (int i = 0; i < nt; i++) {
		v[i].seq = atoi(pg_val(r, i, 0));
		v[i].ts = xstrdup(pg_val(r, i, 1));
		v[i].stream = *pg_val(r, i, 2) == 'e' ? 'e' : 'o';
		v[i].line = xstrdup(pg_val(r, i, 3));
	}
	*rows = v;
	*n = (size_t)nt;
	return 0;
}

static struct pg_result *run_q(struct store *s, const struct query *q, struct err *err)
{
	return pg_exec(s->pg, q->sql, q->n, q->params, err);
}

int store_runs(struct store *s, const char *pipeline, int limit, struct run_row **rows, size_t *n, struct err *err)
{
	struct query q;
	query_runs(&q, s->project, pipeline, limit);
	struct pg_result *r = run_q(s, &q, err);
	if (!r)
		return err_code(err);
	query_runs_parse(r, rows, n);
	pg_clear(r);
	return 0;
}

int store_run(struct store *s, long run_id, struct run_row *run, struct err *err)
{
	struct query q;
	query_run(&q, run_id);
	struct pg_result *r = run_q(s, &q, err);
	if (!r)
		return err_code(err);
	struct run_row *rows;
	size_t n;
	query_runs_parse(r, &rows, &n);
	pg_clear(r);
	if (n == 0) {
		free(rows);
		return err_setc(err, ERR_NOTFOUND, "no run %ld", run_id);
	}
	*run = rows[0];
	free(rows);
	return 0;
}

int store_tasks(struct store *s, long run_id, struct ti_row **rows, size_t *n, struct err *err)
{
	struct query q;
	query_tasks(&q, run_id);
	struct pg_result *r = run_q(s, &q, err);
	if (!r)
		return err_code(err);
	query_tasks_parse(r, rows, n);
	pg_clear(r);
	return 0;
}

int store_log(struct store *s, long ti, int try_number, int from_seq, int limit, struct log_row **rows, size_t *n,
	      struct err *err)
{
	struct query q;
	query_log(&q, ti, try_number, from_seq, limit);
	struct pg_result *r = run_q(s, &q, err);
	if (!r)
		return err_code(err);
	query_log_parse(r, rows, n);
	pg_clear(r);
	return 0;
}

int store_run_state(struct store *s, long run_id, char *buf, size_t size, struct err *err)
{
	char rid[32];
	snprintf(rid, sizeof rid, "%ld", run_id);
	const char *p[1] = {rid};
	struct pg_result *r = pg_exec(s->pg, "SELECT state FROM sluice.runs WHERE id = $1", 1, p, err);
	if (!r)
		return err_code(err);
	snprintf(buf, size, "%s", pg_rows(r) ? pg_val(r, 0, 0) : "");
	pg_clear(r);
	return 0;
}

int store_ti_find(struct store *s, long run_id, const char *task, long *ti, int *try_number, char *state,
		  size_t state_size, struct err *err)
{
	char rid[32];
	snprintf(rid, sizeof rid, "%ld", run_id);
	const char *p[2] = {rid, task};
	struct pg_result *r =
		pg_exec(s->pg,
			"SELECT id, try_number, state FROM sluice.task_instances WHERE run_id = $1 AND task = $2", 2, p, err);
	if (!r)
		return err_code(err);
	int rc = 0;
	if (!pg_rows(r)) {
		rc = err_setc(err, ERR_NOTFOUND, "run %ld has no task '%s'", run_id, task);
	} else {
		*ti = atol(pg_val(r, 0, 0));
		*try_number = atoi(pg_val(r, 0, 1));
		if (state)
			snprintf(state, state_size, "%s", pg_val(r, 0, 2));
	}
	pg_clear(r);
	return rc;
}

int store_resolve_run(struct store *s, const char *spec, const char *pipeline, long *run_id, struct err *err)
{
	if (strcmp(spec, "latest") && strcmp(spec, "last")) {
		char *end;
		long id = strtol(spec, &end, 10);
		if (*end || id <= 0)
			return err_setc(err, ERR_FAIL, "'%s' is not a run id (a number, or 'latest')", spec);
		char ids[32];
		snprintf(ids, sizeof ids, "%ld", id);
		const char *p[2] = {ids, s->project};
		struct pg_result *r =
			pg_exec(s->pg, "SELECT 1 FROM sluice.runs WHERE id = $1 AND project = $2", 2, p, err);
		if (!r)
			return err_code(err);
		int n = pg_rows(r);
		pg_clear(r);
		if (!n)
			return err_setc(err, ERR_NOTFOUND, "no run %ld in project %s", id, s->project);
		*run_id = id;
		return 0;
	}
	const char *p[2] = {s->project, pipeline};
	struct pg_result *r =
		pg_exec(s->pg,
			"SELECT id FROM sluice.runs WHERE project = $1 AND ($2::text IS NULL OR pipeline = $2)"
			" ORDER BY id DESC LIMIT 1",
			2, p, err);
	if (!r)
		return err_code(err);
	int rc = pg_rows(r) ? 0 : err_setc(err, ERR_NOTFOUND, "no runs yet");
	if (rc == 0)
		*run_id = atol(pg_val(r, 0, 0));
	pg_clear(r);
	return rc;
}

/* ---- what the console shows ---------------------------------------------------- */

static const char PIPELINE_RUNS_SQL[] =
	"SELECT pipeline, id, state, logical_date::text, to_char(created_at AT TIME ZONE 'UTC', " ISO "), n_failed"
	" FROM (SELECT pipeline, id, state, logical_date, created_at,"
	"  row_number() OVER (PARTITION BY pipeline ORDER BY id DESC) AS rn,"
	"  count(*) FILTER (WHERE state = 'failed') OVER (PARTITION BY pipeline) AS n_failed"
	"  FROM sluice.runs WHERE project = $1) x"
	" WHERE rn <= $2 ORDER BY pipeline, id DESC";

static const char GRID_SQL[] =
	"SELECT t.run_id, t.id, t.task, t.state, t.try_number FROM sluice.task_instances t"
	" WHERE t.run_id IN (SELECT id FROM sluice.runs WHERE project = $1 AND pipeline = $2"
	"  ORDER BY id DESC LIMIT $3)"
	" ORDER BY t.run_id, t.id";

#define TI_DETAIL_COLS                                                                                   \
	"SELECT t.id, t.run_id, t.task, t.state, r.pipeline, r.logical_date::text, r.state, t.try_number,"  \
	" t.max_tries, to_char(t.started_at AT TIME ZONE 'UTC', " ISO "),"                                 \
	" to_char(t.ended_at AT TIME ZONE 'UTC', " ISO "),"                                                \
	" extract(epoch FROM coalesce(t.ended_at, now()) - t.started_at)::float8,"                        \
	" t.exit_status, t.error, t.worker, t.host,"                                                        \
	" to_char(t.next_try_at AT TIME ZONE 'UTC', " ISO "), t.spec::text"                                \
	" FROM sluice.task_instances t JOIN sluice.runs r ON r.id = t.run_id"

static const char TI_DETAIL_SQL[] = TI_DETAIL_COLS " WHERE t.id = $1";
static const char TI_DETAIL_BY_NAME_SQL[] = TI_DETAIL_COLS " WHERE t.run_id = $1 AND t.task = $2";
/* The newest run first, through the runs' index, and the task of it that
 * failed last: no scan of every task instance of the project's history. */
static const char TI_DETAIL_LATEST_FAILED_SQL[] =
	TI_DETAIL_COLS " WHERE r.project = $1 AND t.state = 'failed' ORDER BY r.id DESC, t.ended_at DESC NULLS LAST LIMIT 1";

static const char TRIES_SQL[] =
	"SELECT try_number, state, worker, to_char(started_at AT TIME ZONE 'UTC', " ISO "),"
	" to_char(ended_at AT TIME ZONE 'UTC', " ISO "), exit_status, error"
	" FROM sluice.task_tries WHERE ti_id = $1 ORDER BY try_number";

static const char LOG_BEFORE_SQL[] =
	"SELECT * FROM (SELECT seq, to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), stream, line"
	" FROM sluice.task_logs WHERE ti_id = $1 AND try_number = $2 AND ($3::int < 0 OR seq < $3)"
	" ORDER BY seq DESC LIMIT $4) x ORDER BY seq";

/* Two statements so each walks the primary key in its own direction. */
static const char LOG_FIND_NEXT_SQL[] =
	"SELECT seq FROM sluice.task_logs WHERE ti_id = $1 AND try_number = $2 AND seq > $3"
	" AND CASE WHEN $5::bool THEN line ~* $4 ELSE line ~ $4 END ORDER BY seq LIMIT 1";
static const char LOG_FIND_PREV_SQL[] =
	"SELECT seq FROM sluice.task_logs WHERE ti_id = $1 AND try_number = $2 AND seq < $3"
	" AND CASE WHEN $5::bool THEN line ~* $4 ELSE line ~ $4 END ORDER BY seq DESC LIMIT 1";

static const char LOG_SPAN_SQL[] =
	"SELECT coalesce(max(seq), -1) + 1, coalesce(max(seq), -1) FROM sluice.task_logs"
	" WHERE ti_id = $1 AND try_number = $2";

static const char LIVE_WORKERS_SQL[] =
	"SELECT count(*) FROM sluice.workers WHERE heartbeat > now() - make_interval(secs => $1::float8)";

void pipeline_run_rows_free(struct pipeline_run_row *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].pipeline);
		free(v[i].state);
		free(v[i].logical_date);
		free(v[i].created_at);
	}
	free(v);
}

void query_pipeline_runs(struct query *q, const char *project, int per_pipeline)
{
	memset(q, 0, sizeof *q);
	q->sql = PIPELINE_RUNS_SQL;
	q->n = 2;
	q->params[0] = project;
	query_num(q, 1, per_pipeline > 0 ? per_pipeline : 10);
}

int query_pipeline_runs_parse(struct pg_result *r, struct pipeline_run_row **rows, size_t *n)
{
	int nt = pg_rows(r);
	struct pipeline_run_row *v = xcalloc((size_t)nt, sizeof *v);
	for (int i = 0; i < nt; i++) {
		v[i].pipeline = xstrdup(pg_val(r, i, 0));
		v[i].id = atol(pg_val(r, i, 1));
		v[i].state = xstrdup(pg_val(r, i, 2));
		v[i].logical_date = xstrdup(pg_val(r, i, 3));
		v[i].created_at = xstrdup(pg_val(r, i, 4));
		v[i].n_failed = atoi(pg_val(r, i, 5));
	}
	*rows = v;
	*n = (size_t)nt;
	return 0;
}

void grid_rows_free(struct grid_row *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].task);
		free(v[i].state);
	}
	free(v);
}

void query_grid(struct query *q, const char *project, const char *pipeline, int n_runs)
{
	memset(q, 0, sizeof *q);
	q->sql = GRID_SQL;
	q->n = 3;
	q->params[0] = project;
	q->params[1] = pipeline;
	query_num(q, 2, n_runs > 0 ? n_runs : 20);
}

int query_grid_parse(struct pg_result *r, struct grid_row **rows, size_t *n)
{
	int nt = pg_rows(r);
	struct grid_row *v = xcalloc((size_t)nt, sizeof *v);
	for (int i = 0; i < nt; i++) {
		v[i].run_id = atol(pg_val(r, i, 0));
		v[i].ti = atol(pg_val(r, i, 1));
		v[i].task = xstrdup(pg_val(r, i, 2));
		v[i].state = xstrdup(pg_val(r, i, 3));
		v[i].try_number = atoi(pg_val(r, i, 4));
	}
	*rows = v;
	*n = (size_t)nt;
	return 0;
}

void ti_detail_free(struct ti_detail *d)
{
	if (!d)
		return;
	free(d->task);
	free(d->state);
	free(d->pipeline);
	free(d->logical_date);
	free(d->run_state);
	free(d->started_at);
	free(d->ended_at);
	free(d->error);
	free(d->worker);
	free(d->host);
	free(d->next_try_at);
	free(d->spec);
	memset(d, 0, sizeof *d);
}

void query_ti_detail(struct query *q, long ti, long run_id, const char *task)
{
	memset(q, 0, sizeof *q);
	if (ti > 0) {
		q->sql = TI_DETAIL_SQL;
		q->n = 1;
		query_num(q, 0, ti);
	} else {
		q->sql = TI_DETAIL_BY_NAME_SQL;
		q->n = 2;
		query_num(q, 0, run_id);
		q->params[1] = task;
	}
}

void query_ti_latest_failed(struct query *q, const char *project)
{
	memset(q, 0, sizeof *q);
	q->sql = TI_DETAIL_LATEST_FAILED_SQL;
	q->n = 1;
	q->params[0] = project;
}

int query_ti_detail_parse(struct pg_result *r, struct ti_detail *d)
{
	memset(d, 0, sizeof *d);
	if (pg_rows(r) < 1)
		return ERR_NOTFOUND;
	d->id = atol(pg_val(r, 0, 0));
	d->run_id = atol(pg_val(r, 0, 1));
	d->task = xstrdup(pg_val(r, 0, 2));
	d->state = xstrdup(pg_val(r, 0, 3));
	d->pipeline = xstrdup(pg_val(r, 0, 4));
	d->logical_date = xstrdup(pg_val(r, 0, 5));
	d->run_state = xstrdup(pg_val(r, 0, 6));
	d->try_number = atoi(pg_val(r, 0, 7));
	d->max_tries = atoi(pg_val(r, 0, 8));
	d->started_at = pg_strdup_val(r, 0, 9);
	d->ended_at = pg_strdup_val(r, 0, 10);
	d->duration_s = pg_isnull(r, 0, 11) ? -1 : atof(pg_val(r, 0, 11));
	d->has_exit = !pg_isnull(r, 0, 12);
	d->exit_status = d->has_exit ? atoi(pg_val(r, 0, 12)) : 0;
	d->error = pg_strdup_val(r, 0, 13);
	d->worker = pg_strdup_val(r, 0, 14);
	d->host = pg_strdup_val(r, 0, 15);
	d->next_try_at = pg_strdup_val(r, 0, 16);
	d->spec = pg_strdup_val(r, 0, 17);
	return 0;
}

void try_rows_free(struct try_row *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].state);
		free(v[i].worker);
		free(v[i].started_at);
		free(v[i].ended_at);
		free(v[i].error);
	}
	free(v);
}

void query_tries(struct query *q, long ti)
{
	memset(q, 0, sizeof *q);
	q->sql = TRIES_SQL;
	q->n = 1;
	query_num(q, 0, ti);
}

int query_tries_parse(struct pg_result *r, struct try_row **rows, size_t *n)
{
	int nt = pg_rows(r);
	struct try_row *v = xcalloc((size_t)nt, sizeof *v);
	for (int i = 0; i < nt; i++) {
		v[i].try_number = atoi(pg_val(r, i, 0));
		v[i].state = xstrdup(pg_val(r, i, 1));
		v[i].worker = pg_strdup_val(r, i, 2);
		v[i].started_at = pg_strdup_val(r, i, 3);
		v[i].ended_at = pg_strdup_val(r, i, 4);
		v[i].has_exit = !pg_isnull(r, i, 5);
		v[i].exit_status = v[i].has_exit ? atoi(pg_val(r, i, 5)) : 0;
		v[i].error = pg_strdup_val(r, i, 6);
	}
	*rows = v;
	*n = (size_t)nt;
	return 0;
}

void query_log_before(struct query *q, long ti, int try_number, int before_seq, int limit)
{
	memset(q, 0, sizeof *q);
	q->sql = LOG_BEFORE_SQL;
	q->n = 4;
	query_num(q, 0, ti);
	query_num(q, 1, try_number);
	query_num(q, 2, before_seq);
	query_num(q, 3, limit > 0 ? limit : 500);
}

void query_log_find(struct query *q, long ti, int try_number, int from_seq, bool forward, const char *pattern,
		    bool icase)
{
	memset(q, 0, sizeof *q);
	q->sql = forward ? LOG_FIND_NEXT_SQL : LOG_FIND_PREV_SQL;
	q->n = 5;
	query_num(q, 0, ti);
	query_num(q, 1, try_number);
	query_num(q, 2, from_seq);
	q->params[3] = pattern;
	q->params[4] = icase ? "t" : "f";
}

int query_log_find_parse(struct pg_result *r)
{
	return pg_rows(r) ? atoi(pg_val(r, 0, 0)) : -1;
}

void query_log_span(struct query *q, long ti, int try_number)
{
	memset(q, 0, sizeof *q);
	q->sql = LOG_SPAN_SQL;
	q->n = 2;
	query_num(q, 0, ti);
	query_num(q, 1, try_number);
}

void query_log_span_parse(struct pg_result *r, int *count, int *last_seq)
{
	*count = pg_rows(r) ? atoi(pg_val(r, 0, 0)) : 0;
	*last_seq = pg_rows(r) ? atoi(pg_val(r, 0, 1)) : -1;
}

void query_live_workers(struct query *q, double within)
{
	memset(q, 0, sizeof *q);
	q->sql = LIVE_WORKERS_SQL;
	q->n = 1;
	snprintf(q->buf[0], sizeof q->buf[0], "%.3f", within);
	q->params[0] = q->buf[0];
}

int query_live_workers_parse(struct pg_result *r)
{
	return pg_rows(r) ? atoi(pg_val(r, 0, 0)) : 0;
}

int store_try_state(struct store *s, long ti, int try_number, char *buf, size_t size, struct err *err)
{
	char a[32], b[16];
	snprintf(a, sizeof a, "%ld", ti);
	snprintf(b, sizeof b, "%d", try_number);
	const char *p[2] = {a, b};
	/* the current try's state is on the instance; ended ones are in task_tries */
	struct pg_result *r =
		pg_exec(s->pg,
			"SELECT coalesce((SELECT t.state FROM sluice.task_instances t WHERE t.id = $1 AND t.try_number = $2),"
			" (SELECT r.state FROM sluice.task_tries r WHERE r.ti_id = $1 AND r.try_number = $2), '')",
			2, p, err);
	if (!r)
		return err_code(err);
	snprintf(buf, size, "%s", pg_val(r, 0, 0));
	pg_clear(r);
	return 0;
}

void query_num(struct query *q, int i, long v)
{
	snprintf(q->buf[i], sizeof q->buf[i], "%ld", v);
	q->params[i] = q->buf[i];
}
