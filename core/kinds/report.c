/* Kind report: a report of reports/ (core/report.h) run on its connection
 * in a read-only transaction; the columns it shows and its first max_rows
 * rows kept with the run in the state database (core/reportstore.h), so
 * `sluice report`, the console and the exports read what a run saw.
 *
 * The query is resolved when the project loads (a model's relation under
 * the default target) and stored in the task's spec at trigger time, so a
 * run does not depend on later edits of the report file. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "connectors/pg.h"
#include "core/kinds/kind.h"
#include "core/models/model.h"
#include "core/projdef.h"
#include "core/report.h"
#include "core/reportstore.h"

#define DEFAULT_STATEMENT_TIMEOUT 600 /* seconds */
#define ROWS_IN_LOG 5

struct report_spec {
	char *report;
	int statement_timeout;
	char *built; /* what check resolved: JSON text (owned) */
};

#define F(x) .field = offsetof(struct report_spec, x)
static const struct kind_key report_task_keys[] = {
	{.name = "report", .type = KEY_STRING, F(report), .required = true},
	{.name = "statement_timeout", .type = KEY_INT, F(statement_timeout), .min = 1},
};
#undef F

static json_t *report_names_json(const struct report_names *n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n->n; i++)
		json_array_append_new(a, json_string(n->v[i]));
	return a;
}

/* The report as a run executes it; -1 with err when its model has no place. */
static json_t *resolve_report(const struct project *p, const struct report_def *rd, struct err *err)
{
	const struct target *t = project_target(p, NULL);
	char *sql = xstrdup(rd->sql);
	if (rd->model) {
		int i = p->models ? models_find(p->models, rd->model) : -1;
		struct model_place pl;
		if (i < 0 || !t) {
			free(sql);
			err_set(err, "no model '%s'", rd->model);
			return NULL;
		}
		if (model_place(p->models, p, t, i, &pl, err) < 0) {
			free(sql);
			return NULL;
		}
		sql = xasprintf("SELECT * FROM %s", pl.relation);
		model_place_free(&pl);
	}
	json_t *o = json_object();
	json_object_set_new(o, "report", json_string(rd->name));
	json_object_set_new(o, "title", json_string(rd->title));
	json_object_set_new(o, "conn", json_string(rd->conn ? rd->conn : t && t->connection ? t->connection : "default"));
	json_object_set_new(o, "sql", json_string(sql));
	json_object_set_new(o, "columns", report_names_json(&rd->columns));
	if (rd->chart.type != CHART_NONE) {
		json_t *c = json_object();
		json_object_set_new(c, "type", json_string(chart_type_name(rd->chart.type)));
		json_object_set_new(c, "x", json_string(rd->chart.x));
		json_object_set_new(c, "y", report_names_json(&rd->chart.y));
		if (rd->chart.series)
			json_object_set_new(c, "series", json_string(rd->chart.series));
		json_object_set_new(o, "chart", c);
	}
	json_object_set_new(o, "max_rows", json_integer(rd->max_rows));
	json_object_set_new(o, "keep", json_integer(rd->keep));
	free(sql);
	return o;
}

static void report_check(const struct kind_check *c, void *spec)
{
	struct report_spec *s = spec;
	if (!s->report)
		return;
	const struct yread *r = c->r;
	const struct report_def *rd = reports_find(c->p->reports, s->report);
	if (!rd) {
		const char *near = reports_nearest(c->p->reports, s->report);
		if (near)
			diags_add(r->d, yr_at_value(r, c->task, "report"), "no report '%s'; did you mean '%s'?", s->report,
				  near);
		else
			diags_add(r->d, yr_at_value(r, c->task, "report"), "no report '%s' (reports are reports/NAME.yml)",
				  s->report);
		return;
	}
	struct err e = {0};
	json_t *o = resolve_report(c->p, rd, &e);
	if (!o) {
		diags_add(r->d, yr_at_value(r, c->task, "report"), "report '%s': %s", s->report, e.msg);
		return;
	}
	free(s->built);
	s->built = json_dumps(o, JSON_COMPACT);
	json_decref(o);
}

static int report_build(const void *spec, const struct kind_build *b, json_t *out, struct err *err)
{
	const struct report_spec *s = spec;
	json_t *o = s->built ? json_loads(s->built, 0, NULL) : NULL;
	if (!o)
		return err_setc(err, ERR_PROJECT, "report '%s' was not resolved (see 'sluice validate')",
				s->report ? s->report : "?");
	char *sql;
	if (kind_render(b, json_string_value(json_object_get(o, "sql")), "sql", &sql, err) < 0) {
		json_decref(o);
		return err_code(err);
	}
	json_object_set_new(o, "sql", json_string(sql));
	free(sql);
	json_object_update(out, o);
	json_decref(o);
	json_object_set_new(out, "statement_timeout",
			    json_integer(s->statement_timeout > 0 ? s->statement_timeout : DEFAULT_STATEMENT_TIMEOUT));
	return 0;
}

static void report_done(void *spec)
{
	free(((struct report_spec *)spec)->built);
}

static void report_describe(const json_t *spec, struct strbuf *out)
{
	sb_addf(out, "report %s on %s: %s", json_str(spec, "report") ? json_str(spec, "report") : "?", kind_spec_conn_key(spec),
		json_str(spec, "sql") ? json_str(spec, "sql") : "");
}

/* ---- the run -------------------------------------------------------------------- */

/* What a run got: the shown columns and the kept rows as JSON. */
struct outcome {
	json_t *columns, *rows;
	long long total;
};

/* The query without the semicolons and blanks it may end in: it goes into
 * a subquery. */
static char *sql_trimmed(const char *sql)
{
	size_t n = strlen(sql);
	while (n && strchr(" \t\r\n;", sql[n - 1]))
		n--;
	return xstrndup(sql, n);
}

/* The index of each shown column in the result (all when none is given). */
static int pick_columns(const struct pg_result *r, const json_t *want, int **idx, size_t *n, struct err *err)
{
	size_t nw = json_array_size(want);
	int nc = pg_cols(r);
	*n = nw ? nw : (size_t)nc;
	*idx = xcalloc(*n + 1, sizeof **idx);
	for (size_t k = 0; k < *n; k++) {
		if (!nw) {
			(*idx)[k] = (int)k;
			continue;
		}
		const char *w = json_string_value(json_array_get(want, k));
		int at = -1;
		for (int c = 0; c < nc && at < 0; c++)
			if (!strcmp(pg_col_name(r, c), w))
				at = c;
		if (at < 0) {
			struct strbuf has = {0};
			for (int c = 0; c < nc; c++)
				sb_addf(&has, "%s%s", c ? ", " : "", pg_col_name(r, c));
			err_set(err, "the query has no column '%s' (it returns: %s)", w, has.len ? has.s : "no columns");
			sb_free(&has);
			free(*idx);
			*idx = NULL;
			return -1;
		}
		(*idx)[k] = at;
	}
	return 0;
}

/* The first max_rows rows, and how many the query returns: a LIMIT one past
 * them (so parallel plans stay open to it, which a cursor's are not), and a
 * count of the whole only when the query returns more. */
static int fetch(struct pg_conn *c, const json_t *spec, struct outcome *o, struct err *err)
{
	char timeout[32];
	snprintf(timeout, sizeof timeout, "%lld", (long long)json_integer_value(json_object_get(spec, "statement_timeout")) * 1000);
	long long max = json_integer_value(json_object_get(spec, "max_rows"));
	if (max <= 0)
		max = REPORT_DEFAULT_ROWS;
	const char *tp[1] = {timeout};
	if (pg_cmd(c, "BEGIN READ ONLY", 0, NULL, err) < 0 ||
	    pg_cmd(c, "SELECT set_config('statement_timeout', $1, true)", 1, tp, err) < 0)
		return -1;
	/* the newlines end a -- comment the query may end in */
	char *q = sql_trimmed(json_str(spec, "sql"));
	char *rows_sql = xasprintf("SELECT * FROM (\n%s\n) AS sluice_report LIMIT %lld", q, max + 1);
	struct pg_result *r = pg_exec(c, rows_sql, 0, NULL, err);
	free(rows_sql);
	if (!r) {
		free(q);
		return -1;
	}
	int *idx;
	size_t nc;
	if (pick_columns(r, json_object_get(spec, "columns"), &idx, &nc, err) < 0) {
		pg_clear(r);
		free(q);
		return -1;
	}
	int n = pg_rows(r) > max ? (int)max : pg_rows(r);
	o->columns = json_array();
	for (size_t k = 0; k < nc; k++)
		json_array_append_new(o->columns, json_string(pg_col_name(r, idx[k])));
	o->rows = json_array();
	for (int i = 0; i < n; i++) {
		json_t *row = json_array();
		for (size_t k = 0; k < nc; k++)
			json_array_append_new(row, pg_isnull(r, i, idx[k]) ? json_null() : json_string(pg_val(r, i, idx[k])));
		json_array_append_new(o->rows, row);
	}
	o->total = n;
	bool more = pg_rows(r) > max;
	free(idx);
	pg_clear(r);
	int rc = 0;
	if (more) {
		char *count_sql = xasprintf("SELECT count(*) FROM (\n%s\n) AS sluice_report", q);
		struct pg_result *m = pg_exec(c, count_sql, 0, NULL, err);
		free(count_sql);
		if (m)
			o->total = atoll(pg_val(m, 0, 0));
		else
			rc = -1;
		pg_clear(m);
	}
	free(q);
	return rc;
}

static void print_rows(const struct outcome *o)
{
	for (size_t i = 0; i < json_array_size(o->rows) && i < ROWS_IN_LOG; i++) {
		const json_t *row = json_array_get(o->rows, i);
		printf("  ");
		for (size_t k = 0; k < json_array_size(row); k++) {
			const char *v = json_string_value(json_array_get(row, k));
			printf("%s%s", k ? " | " : "", v ? v : "NULL");
		}
		printf("\n");
	}
}

static int record_result(const json_t *spec, const struct outcome *o, double secs, const struct task_env *env,
		  struct err *err)
{
	if (!env->state_conninfo)
		return 0;
	struct pg_conn *state = pg_connect(env->state_conninfo, "state database", err);
	if (!state)
		return -1;
	pg_notices_off(state);
	char *cols = json_dumps(o->columns, JSON_COMPACT);
	char *rows = json_dumps(o->rows, JSON_COMPACT);
	json_t *chart = json_object_get(spec, "chart");
	char *chart_text = chart ? json_dumps(chart, JSON_COMPACT) : NULL;
	struct report_save s = {
		.project = env->project, .report = json_str(spec, "report"), .title = json_str(spec, "title"),
		.run_id = env->run_id, .task = env->task, .try_number = env->try_number,
		.columns_json = cols, .rows_json = rows, .n_rows = (int)json_array_size(o->rows), .total_rows = o->total,
		.chart_json = chart_text, .duration_s = secs, .sql = json_str(spec, "sql"),
		.keep = (int)json_integer_value(json_object_get(spec, "keep")),
	};
	int rc = reportstore_save(state, &s, NULL, err);
	free(cols);
	free(rows);
	free(chart_text);
	pg_close(state);
	return rc;
}

/* Exit 0: recorded; 1: the query failed or the result could not be
 * recorded; 2: the connection cannot be reached. */
static int report_run(const json_t *spec, const struct task_env *env)
{
	const char *name = json_str(spec, "report");
	if (!name || !json_str(spec, "sql")) {
		fprintf(stderr, "report: the task spec is incomplete\n");
		return 2;
	}
	printf("report %s on %s\n", name, kind_spec_conn_key(spec));
	fflush(stdout);
	struct err e = {0};
	char what[300];
	snprintf(what, sizeof what, "connection '%s'", kind_spec_conn_key(spec));
	double t0 = now_wall();
	struct pg_conn *c = pg_connect(env->conninfo ? env->conninfo : "", what, &e);
	if (!c) {
		fprintf(stderr, "%s\n", e.msg);
		return 2;
	}
	pg_notices_off(c);
	struct outcome o = {0};
	int rc = fetch(c, spec, &o, &e);
	pg_cmd(c, "ROLLBACK", 0, NULL, NULL);
	pg_close(c);
	double secs = now_wall() - t0;
	if (rc < 0) {
		taskexec_settle(1);
		fprintf(stderr, "report %s: %s\n", name, e.msg);
		json_decref(o.columns);
		json_decref(o.rows);
		return 1;
	}
	size_t kept = json_array_size(o.rows);
	printf("report %s: %lld row%s in %.2f s", name, o.total, o.total == 1 ? "" : "s", secs);
	if ((long long)kept < o.total)
		printf(" (the first %zu kept)", kept);
	printf("\n");
	print_rows(&o);
	fflush(stdout);
	int exit_status = 0;
	if (record_result(spec, &o, secs, env, &e) < 0) {
		taskexec_settle(1);
		fprintf(stderr, "report %s: %s\n", name, e.msg);
		exit_status = 1;
	}
	json_decref(o.columns);
	json_decref(o.rows);
	return exit_status;
}

const struct kind_ops kind_report = {
	.name = "report",
	.summary = "a report of reports/ run, its rows kept for sluice report and the console",
	.spec_size = sizeof(struct report_spec),
	.keys = report_task_keys,
	.n_keys = sizeof report_task_keys / sizeof report_task_keys[0],
	.check = report_check,
	.build = report_build,
	.describe = report_describe,
	.conn = kind_spec_conn_key,
	.run = report_run,
	.done = report_done,
};
