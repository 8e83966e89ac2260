/* Report results in the state database; see reportstore.h. The table is
 * the reports migration of core/store.c. */
#include "core/reportstore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "connectors/pg.h"

#define ISO "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'"

/* One statement: the result, fenced by the try, and the report's results
 * beyond the newest $14 dropped. The DELETE sees the table as it was before
 * the INSERT, so it keeps $14 - 1 of the older ones. */
static const char SAVE_SQL[] =
	"WITH res AS (INSERT INTO sluice.report_results (project, report, title, run_id, task, ti_id, try_number,"
	"   columns, rows, n_rows, total_rows, truncated, chart, duration_s, sql)"
	"  SELECT $1, $2, $3, ti.run_id, ti.task, ti.id, $6::int, $7::jsonb, $8::jsonb, $9::int, $10::bigint,"
	"   $10::bigint > $9::int, $11::jsonb, $12::float8, $13"
	"  FROM sluice.task_instances ti WHERE ti.run_id = $4::bigint AND ti.task = $5 AND ti.try_number = $6::int"
	"  RETURNING id),"
	" old AS (DELETE FROM sluice.report_results o WHERE o.project = $1 AND o.report = $2"
	"  AND EXISTS (SELECT 1 FROM res) AND o.id NOT IN (SELECT k.id FROM sluice.report_results k"
	"   WHERE k.project = $1 AND k.report = $2 ORDER BY k.id DESC LIMIT $14::int - 1))"
	" SELECT id FROM res";

#define SUMMARY_COLS                                                                                      \
	"l.id, l.run_id, l.report, l.title, l.task, l.try_number,"                                        \
	" to_char(l.created_at AT TIME ZONE 'UTC', " ISO "), l.n_rows, l.total_rows, l.truncated, l.duration_s"

static const char LATEST_SQL[] =
	"SELECT " SUMMARY_COLS ", NULL, NULL, NULL, NULL, c.n FROM (SELECT DISTINCT ON (r.report) r.*"
	"  FROM sluice.report_results r WHERE r.project = $1 ORDER BY r.report, r.id DESC) AS l"
	" JOIN LATERAL (SELECT count(*) AS n FROM sluice.report_results k WHERE k.project = $1"
	"  AND k.report = l.report) AS c ON true"
	" ORDER BY l.report";

static const char RUNS_SQL[] =
	"SELECT " SUMMARY_COLS ", NULL, NULL, NULL, NULL, 0 FROM sluice.report_results l"
	" WHERE l.project = $1 AND l.report = $2 ORDER BY l.id DESC LIMIT $3";

static const char RESULT_SQL[] =
	"SELECT " SUMMARY_COLS ", l.columns::text, l.rows::text, l.chart::text, l.sql, 0 FROM sluice.report_results l"
	" WHERE l.project = $1 AND l.report = $2 AND ($3::bigint IS NULL OR l.run_id = $3)"
	" ORDER BY l.id DESC LIMIT 1";

int reportstore_save(struct pg_conn *state, const struct report_save *r, long *id, struct err *err)
{
	char run[32], try[16], nrows[16], total[32], dur[32], keep[16];
	snprintf(run, sizeof run, "%ld", r->run_id);
	snprintf(try, sizeof try, "%d", r->try_number);
	snprintf(nrows, sizeof nrows, "%d", r->n_rows);
	snprintf(total, sizeof total, "%lld", r->total_rows);
	snprintf(dur, sizeof dur, "%.6f", r->duration_s);
	snprintf(keep, sizeof keep, "%d", r->keep > 0 ? r->keep : 1);
	const char *p[14] = {r->project, r->report, r->title, run, r->task, try, r->columns_json, r->rows_json,
			     nrows, total, r->chart_json, dur, r->sql, keep};
	struct pg_result *res = pg_exec(state, SAVE_SQL, 14, p, err);
	if (!res)
		return err_prefix(err, "state database: recording the report result");
	int rc = 0;
	if (pg_rows(res) == 0)
		rc = err_setc(err, ERR_CONFLICT,
			      "state database: task %s of run %ld is no longer at try %d: result not recorded", r->task,
			      r->run_id, r->try_number);
	else if (id)
		*id = atol(pg_val(res, 0, 0));
	pg_clear(res);
	return rc;
}

/* ---- reading ------------------------------------------------------------------ */

static json_t *json_or_null(struct pg_result *r, int row, int col)
{
	return pg_isnull(r, row, col) ? NULL : json_loads(pg_val(r, row, col), JSON_DECODE_ANY, NULL);
}

void report_result_clear(struct report_result *r)
{
	free(r->report);
	free(r->title);
	free(r->task);
	free(r->created_at);
	free(r->sql);
	json_decref(r->columns);
	json_decref(r->rows);
	json_decref(r->chart);
	memset(r, 0, sizeof *r);
}

void report_results_free(struct report_result *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		report_result_clear(&v[i]);
	free(v);
}

void query_report_latest(struct query *q, const char *project)
{
	memset(q, 0, sizeof *q);
	q->sql = LATEST_SQL;
	q->n = 1;
	q->params[0] = project;
}

void query_report_runs(struct query *q, const char *project, const char *report, int limit)
{
	memset(q, 0, sizeof *q);
	q->sql = RUNS_SQL;
	q->n = 3;
	q->params[0] = project;
	q->params[1] = report;
	query_num(q, 2, limit > 0 ? limit : 50);
}

void query_report_result(struct query *q, const char *project, const char *report, long run_id)
{
	memset(q, 0, sizeof *q);
	q->sql = RESULT_SQL;
	q->n = 3;
	q->params[0] = project;
	q->params[1] = report;
	if (run_id > 0)
		query_num(q, 2, run_id);
}

int query_report_parse(struct pg_result *r, struct report_result **rows, size_t *n)
{
	int nt = pg_rows(r);
	struct report_result *v = xcalloc((size_t)nt + 1, sizeof *v);
	for (int i = 0; i < nt; i++) {
		v[i].id = atol(pg_val(r, i, 0));
		v[i].run_id = pg_isnull(r, i, 1) ? 0 : atol(pg_val(r, i, 1));
		v[i].report = xstrdup(pg_val(r, i, 2));
		v[i].title = pg_strdup_val(r, i, 3);
		v[i].task = pg_strdup_val(r, i, 4);
		v[i].try_number = atoi(pg_val(r, i, 5));
		v[i].created_at = xstrdup(pg_val(r, i, 6));
		v[i].n_rows = atoi(pg_val(r, i, 7));
		v[i].total_rows = atoll(pg_val(r, i, 8));
		v[i].truncated = pg_val(r, i, 9)[0] == 't';
		v[i].duration_s = atof(pg_val(r, i, 10));
		v[i].columns = json_or_null(r, i, 11);
		v[i].rows = json_or_null(r, i, 12);
		v[i].chart = json_or_null(r, i, 13);
		v[i].sql = pg_strdup_val(r, i, 14);
		v[i].n_results = atoi(pg_val(r, i, 15));
	}
	*rows = v;
	*n = (size_t)nt;
	return 0;
}

static int run_query(struct pg_conn *state, const struct query *q, struct report_result **v, size_t *n,
		     struct err *err)
{
	struct pg_result *r = pg_exec(state, q->sql, q->n, q->params, err);
	if (!r)
		return err_code(err);
	query_report_parse(r, v, n);
	pg_clear(r);
	return 0;
}

int store_report_latest(struct pg_conn *state, const char *project, struct report_result **v, size_t *n,
			struct err *err)
{
	struct query q;
	query_report_latest(&q, project);
	return run_query(state, &q, v, n, err);
}

int store_report_runs(struct pg_conn *state, const char *project, const char *report, int limit,
		      struct report_result **v, size_t *n, struct err *err)
{
	struct query q;
	query_report_runs(&q, project, report, limit);
	return run_query(state, &q, v, n, err);
}

int store_report_result(struct pg_conn *state, const char *project, const char *report, long run_id,
			struct report_result *out, struct err *err)
{
	struct query q;
	query_report_result(&q, project, report, run_id);
	struct report_result *v = NULL;
	size_t n = 0;
	int rc = run_query(state, &q, &v, &n, err);
	if (rc == 0 && n == 0)
		rc = err_setc(err, ERR_NOTFOUND, "no result of report '%s'%s", report,
			      run_id ? " in that run" : " yet (a pipeline task of kind report records one each run)");
	if (rc == 0) {
		*out = v[0];
		memset(&v[0], 0, sizeof v[0]);
	}
	report_results_free(v, n);
	return rc;
}
