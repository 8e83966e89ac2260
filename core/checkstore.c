/* Check results and failing rows in the state database; see checkstore.h.
 * The tables are migration 9 of core/store.c. */
#include "core/checkstore.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "connectors/pg.h"

#define ISO "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'"

/* One statement, so the result and its rows commit together; the try's
 * task instance must still be at that try (the fence). $18 is a JSON array
 * of {k, c, r}. */
static const char SAVE_SQL[] =
	"WITH res AS (INSERT INTO sluice.check_results (project, check_name, kind, model, run_id, task, ti_id,"
	"   try_number, status, severity, failing, total, threshold, duration_s, sql, params, detail, error, n_failures)"
	"  SELECT $1, $2, $3, $4, ti.run_id, ti.task, ti.id, $7::int, $8, $9, $10::bigint, $11::bigint, $12, $13::float8,"
	"   $14, $15::jsonb, $16::jsonb, $17, jsonb_array_length($18::jsonb)"
	"  FROM sluice.task_instances ti WHERE ti.run_id = $5::bigint AND ti.task = $6 AND ti.try_number = $7::int"
	"  RETURNING id),"
	" f AS (INSERT INTO sluice.check_failures (result_id, row_no, key, col, row)"
	"  SELECT res.id, e.n, NULLIF(e.v->'k', 'null'::jsonb), e.v->>'c', NULLIF(e.v->'r', 'null'::jsonb)"
	"  FROM res, jsonb_array_elements($18::jsonb) WITH ORDINALITY AS e(v, n))"
	" SELECT id FROM res";

#define ROW_COLS                                                                                             \
	"l.id, l.run_id, l.check_name, l.kind, l.model, l.task, l.status, l.severity, l.threshold,"         \
	" to_char(l.created_at AT TIME ZONE 'UTC', " ISO "), l.try_number, l.failing, l.total, l.duration_s," \
	" l.sql, l.params::text, l.detail::text, l.error, l.n_failures"

/* The strip is an index scan of (project, check_name, id DESC) per check. */
static const char LATEST_SQL[] =
	"SELECT " ROW_COLS ", s.strip FROM (SELECT DISTINCT ON (c.check_name) c.* FROM sluice.check_results c"
	"  WHERE c.project = $1 AND ($2::bigint IS NULL OR c.run_id = $2) AND ($3::text IS NULL OR c.check_name = $3)"
	"  ORDER BY c.check_name, c.id DESC) AS l"
	" LEFT JOIN LATERAL (SELECT string_agg(left(h.status, 1), '' ORDER BY h.id) AS strip"
	"  FROM (SELECT h.id, h.status FROM sluice.check_results h WHERE h.project = $1 AND h.check_name = l.check_name"
	"   AND $4::int > 0 ORDER BY h.id DESC LIMIT $4::int) AS h) AS s ON true"
	" ORDER BY l.check_name";

static const char OF_TRY_SQL[] =
	"SELECT " ROW_COLS ", NULL FROM sluice.check_results l"
	" WHERE l.run_id = $1 AND l.task = $2 AND l.try_number = $3 ORDER BY l.id DESC LIMIT 1";

static const char FAILURES_SQL[] =
	"SELECT row_no, key::text, col, row::text FROM sluice.check_failures"
	" WHERE result_id = $1 AND row_no >= $2 ORDER BY row_no LIMIT $3";

static json_t *json_text(const char *s)
{
	if (!s)
		return json_null();
	json_t *j = json_loads(s, JSON_DECODE_ANY, NULL);
	return j ? j : json_string(s);
}

int checkstore_save(struct pg_conn *state, const struct check_result *r, const struct check_failure *f, size_t n,
		    long *result_id, struct err *err)
{
	char run[32], try[16], failing[32], total[32], dur[32];
	snprintf(run, sizeof run, "%ld", r->run_id);
	snprintf(try, sizeof try, "%d", r->try_number);
	snprintf(failing, sizeof failing, "%lld", r->failing);
	snprintf(total, sizeof total, "%lld", r->total);
	snprintf(dur, sizeof dur, "%.6f", r->duration_s);
	json_t *rows = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "k", json_text(f[i].key_json));
		json_object_set_new(o, "c", f[i].column ? json_string(f[i].column) : json_null());
		json_object_set_new(o, "r", json_text(f[i].row_json));
		json_array_append_new(rows, o);
	}
	char *rows_json = json_dumps(rows, JSON_COMPACT);
	json_decref(rows);
	const char *p[18] = {
		r->project, r->check, r->type, r->model, run, r->task, try, r->status, r->severity,
		r->failing >= 0 ? failing : NULL, r->total >= 0 ? total : NULL, r->threshold, dur, r->sql,
		r->params_json, r->detail_json, r->error, rows_json,
	};
	struct pg_result *res = pg_exec(state, SAVE_SQL, 18, p, err);
	free(rows_json);
	if (!res)
		return err_prefix(err, "state database: recording the check result");
	int rc = 0;
	if (pg_rows(res) == 0)
		rc = err_setc(err, ERR_CONFLICT, "state database: task %s of run %ld is no longer at try %d: result not recorded",
			      r->task, r->run_id, r->try_number);
	else if (result_id)
		*result_id = atol(pg_val(res, 0, 0));
	pg_clear(res);
	return rc;
}

/* ---- reading ------------------------------------------------------------------ */

static long long ll_or(struct pg_result *r, int row, int col)
{
	return pg_isnull(r, row, col) ? -1 : atoll(pg_val(r, row, col));
}

void check_row_clear(struct check_row *r)
{
	free(r->check);
	free(r->type);
	free(r->model);
	free(r->task);
	free(r->status);
	free(r->severity);
	free(r->threshold);
	free(r->created_at);
	free(r->sql);
	free(r->params);
	free(r->detail);
	free(r->error);
	free(r->strip);
	memset(r, 0, sizeof *r);
}

void check_rows_free(struct check_row *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		check_row_clear(&v[i]);
	free(v);
}

void failure_rows_free(struct failure_row *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].key);
		free(v[i].column);
		free(v[i].row);
	}
	free(v);
}

void query_check_latest(struct query *q, const char *project, long run_id, const char *check, int strip_n)
{
	memset(q, 0, sizeof *q);
	q->sql = LATEST_SQL;
	q->n = 4;
	q->params[0] = project;
	if (run_id > 0)
		query_num(q, 1, run_id);
	q->params[2] = check;
	query_num(q, 3, strip_n > 0 ? strip_n : 0);
}

void query_check_of_try(struct query *q, long run_id, const char *task, int try_number)
{
	memset(q, 0, sizeof *q);
	q->sql = OF_TRY_SQL;
	q->n = 3;
	query_num(q, 0, run_id);
	q->params[1] = task;
	query_num(q, 2, try_number);
}

void query_check_failures(struct query *q, long result_id, int from, int limit)
{
	memset(q, 0, sizeof *q);
	q->sql = FAILURES_SQL;
	q->n = 3;
	query_num(q, 0, result_id);
	query_num(q, 1, from > 0 ? from : 1);
	query_num(q, 2, limit > 0 ? limit : 100);
}

int query_check_rows_parse(struct pg_result *r, struct check_row **rows, size_t *n)
{
	int nt = pg_rows(r);
	struct check_row *v = xcalloc((size_t)nt + 1, sizeof *v);
	for (int i = 0; i < nt; i++) {
		v[i].id = atol(pg_val(r, i, 0));
		v[i].run_id = pg_isnull(r, i, 1) ? 0 : atol(pg_val(r, i, 1));
		v[i].check = xstrdup(pg_val(r, i, 2));
		v[i].type = xstrdup(pg_val(r, i, 3));
		v[i].model = pg_strdup_val(r, i, 4);
		v[i].task = pg_strdup_val(r, i, 5);
		v[i].status = xstrdup(pg_val(r, i, 6));
		v[i].severity = xstrdup(pg_val(r, i, 7));
		v[i].threshold = pg_strdup_val(r, i, 8);
		v[i].created_at = xstrdup(pg_val(r, i, 9));
		v[i].try_number = atoi(pg_val(r, i, 10));
		v[i].failing = ll_or(r, i, 11);
		v[i].total = ll_or(r, i, 12);
		v[i].duration_s = atof(pg_val(r, i, 13));
		v[i].sql = pg_strdup_val(r, i, 14);
		v[i].params = pg_strdup_val(r, i, 15);
		v[i].detail = pg_strdup_val(r, i, 16);
		v[i].error = pg_strdup_val(r, i, 17);
		v[i].n_failures = atoi(pg_val(r, i, 18));
		v[i].strip = pg_strdup_val(r, i, 19);
	}
	*rows = v;
	*n = (size_t)nt;
	return 0;
}

int query_failure_rows_parse(struct pg_result *r, struct failure_row **rows, size_t *n)
{
	int nt = pg_rows(r);
	struct failure_row *v = xcalloc((size_t)nt + 1, sizeof *v);
	for (int i = 0; i < nt; i++) {
		v[i].row_no = atoi(pg_val(r, i, 0));
		v[i].key = pg_strdup_val(r, i, 1);
		v[i].column = pg_strdup_val(r, i, 2);
		v[i].row = pg_strdup_val(r, i, 3);
	}
	*rows = v;
	*n = (size_t)nt;
	return 0;
}

int store_check_latest(struct pg_conn *state, const char *project, long run_id, const char *check,
		       struct check_row **rows, size_t *n, struct err *err)
{
	struct query q;
	query_check_latest(&q, project, run_id, check, 20);
	struct pg_result *r = pg_exec(state, q.sql, q.n, q.params, err);
	if (!r)
		return err_code(err);
	query_check_rows_parse(r, rows, n);
	pg_clear(r);
	return 0;
}

int store_check_failures(struct pg_conn *state, long result_id, int from, int limit, struct failure_row **rows,
			 size_t *n, struct err *err)
{
	struct query q;
	query_check_failures(&q, result_id, from, limit);
	struct pg_result *r = pg_exec(state, q.sql, q.n, q.params, err);
	if (!r)
		return err_code(err);
	query_failure_rows_parse(r, rows, n);
	pg_clear(r);
	return 0;
}
