/* Kind check: one quality check of the models (core/models/check.h, by the
 * unique name the project gives it) run on its target in a read-only
 * transaction; its failing rows counted, the first `limit` of them kept with
 * the result in the state database (core/checkstore.h), its status judged
 * by the check's thresholds. Only an error-severity check over its
 * threshold fails the task: a warn passes and is recorded as warn.
 *
 * Everything the run needs is resolved when the project loads (the check
 * op renders the SQL under the target) and stored in the task's spec at
 * trigger time, so a run does not depend on later edits of the project. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/fs.h"
#include "base/json.h"
#include "connectors/pg.h"
#include "core/checkstore.h"
#include "core/connections.h"
#include "core/kinds/kind.h"
#include "core/models/check.h"
#include "core/models/checksql.h"
#include "core/projdef.h"
#include "core/models/reconcile.h"

#define DEFAULT_STATEMENT_TIMEOUT 600 /* seconds */
#define ROWS_IN_LOG 10                /* failing rows shown in the task log */

struct check_spec {
	char *check;            /* the check's name */
	char *target;           /* NULL: the project's default */
	int statement_timeout;  /* seconds; 0: the default */
	/* what the check op resolved: JSON text (owned). Text, not the object:
	 * every process holds it for every check of the project (4,000 checks:
	 * 30 MB against 41 MB), and a worker forks with all of it */
	char *built;
};

#define F(x) .field = offsetof(struct check_spec, x)
static const struct kind_key check_keys[] = {
	{.name = "check", .type = KEY_STRING, F(check), .required = true},
	{.name = "target", .type = KEY_STRING, F(target)},
	{.name = "statement_timeout", .type = KEY_INT, F(statement_timeout), .min = 1},
};
#undef F

/* ---- the models, once per project load --------------------------------------- */

static int64_t models_stamp(const struct project *p)
{
	int64_t newest = 0, n = 0;
	const char *dirs[] = {"models", "tests"};
	for (size_t i = 0; i < 2; i++) {
		char *d = path_join(p->root, dirs[i]);
		fs_tree_stamp(d, &newest, &n);
		free(d);
	}
	struct stat st;
	if (stat(p->file, &st) == 0)
		newest ^= (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	return newest ^ (n << 48);
}

/* Every check task of a project load reads the same models: they are
 * loaded once and kept while the project and its files stay the same. */
static struct {
	const struct project *p;
	int64_t stamp;
	struct model_set *s;
	size_t n_errors;
} cache;

static const struct model_set *project_models(const struct project *p, size_t *n_errors)
{
	/* the project reads its models with itself (a `kind: models` group
	 * expands into thousands of check tasks: no stamp of the tree each) */
	if (p->models) {
		*n_errors = p->model_diags.n;
		return p->models;
	}
	int64_t stamp = models_stamp(p);
	if (cache.s && cache.p == p && cache.stamp == stamp) {
		*n_errors = cache.n_errors;
		return cache.s;
	}
	models_free(cache.s);
	struct diags d = {0};
	models_load(p, p->root, &cache.s, &d);
	cache.p = p;
	cache.stamp = stamp;
	cache.n_errors = d.n;
	diags_free(&d);
	*n_errors = cache.n_errors;
	return cache.s;
}

static int find_check(const struct model_set *s, const char *name)
{
	return s ? models_find_check(s, name) : -1;
}

static void check_check(const struct kind_check *c, void *spec)
{
	struct check_spec *s = spec;
	if (!s->check)
		return;
	const struct yread *r = c->r;
	size_t n_errors;
	const struct model_set *set = project_models(c->p, &n_errors);
	int i = find_check(set, s->check);
	if (i < 0) {
		const char **names = xcalloc(set->n_checks + 1, sizeof *names);
		for (size_t k = 0; k < set->n_checks; k++)
			names[k] = set->checks[k].name;
		const char *near = nearest_word(s->check, names, set->n_checks);
		if (near)
			diags_add(r->d, yr_at_value(r, c->task, "check"), "no check '%s'; did you mean '%s'?", s->check, near);
		else if (n_errors)
			diags_add(r->d, yr_at_value(r, c->task, "check"),
				  "no check '%s' (the models have %zu error%s: see 'sluice validate')", s->check, n_errors,
				  n_errors == 1 ? "" : "s");
		else
			diags_add(r->d, yr_at_value(r, c->task, "check"),
				  "no check '%s' (checks are declared under tests: in models/ YAML, or are tests/ files)",
				  s->check);
		free(names);
		return;
	}
	const struct target *t = project_target(c->p, s->target);
	if (!t) {
		diags_add(r->d, yr_at_value(r, c->task, "target"), "no target '%s' in sluice.yml", s->target);
		return;
	}
	json_t *o = json_object();
	struct err e = {0};
	if (check_spec_build(set, c->p, t, i, o, &e) < 0) {
		diags_add(r->d, yr_at_value(r, c->task, "check"), "check '%s': %s", s->check, e.msg);
		json_decref(o);
		return;
	}
	if (c->p->connections_file)
		json_object_set_new(o, "connections_file", json_string(c->p->connections_file));
	free(s->built);
	s->built = json_dumps(o, JSON_COMPACT);
	json_decref(o);
}

/* A run asked for another target (`--target`) than the one the check was
 * resolved on at load: resolved again on that one. */
static json_t *built_on(const struct check_spec *s, const struct kind_build *b, struct err *err)
{
	const struct target *t = b->proj ? project_target(b->proj, b->target) : NULL;
	if (!t) {
		err_setc(err, ERR_PROJECT, "task '%s': unknown target '%s'", b->task, b->target);
		return NULL;
	}
	size_t n_errors;
	const struct model_set *set = project_models(b->proj, &n_errors);
	int i = find_check(set, s->check);
	if (i < 0) {
		err_setc(err, ERR_PROJECT, "task '%s': no check '%s' (see 'sluice validate')", b->task, s->check);
		return NULL;
	}
	json_t *o = json_object();
	if (check_spec_build(set, b->proj, t, i, o, err) < 0) {
		json_decref(o);
		err_prefix(err, "task '%s'", b->task);
		return NULL;
	}
	if (b->proj->connections_file)
		json_object_set_new(o, "connections_file", json_string(b->proj->connections_file));
	return o;
}

static int check_build(const void *spec, const struct kind_build *b, json_t *out, struct err *err)
{
	const struct check_spec *s = spec;
	const char *resolved = s->target ? s->target : b->proj ? b->proj->target : NULL;
	if (b->target && s->check && (!resolved || strcmp(b->target, resolved))) {
		json_t *o = built_on(s, b, err);
		if (!o)
			return err_code(err);
		json_object_update(out, o);
		json_decref(o);
		json_object_set_new(out, "statement_timeout",
				    json_integer(s->statement_timeout > 0 ? s->statement_timeout : DEFAULT_STATEMENT_TIMEOUT));
		return 0;
	}
	json_t *o = s->built ? json_loads(s->built, 0, NULL) : NULL;
	if (!o)
		return err_setc(err, ERR_PROJECT, "check '%s' was not resolved (see 'sluice validate')",
				s->check ? s->check : "?");
	json_object_update(out, o);
	json_decref(o);
	json_object_set_new(out, "statement_timeout",
			    json_integer(s->statement_timeout > 0 ? s->statement_timeout : DEFAULT_STATEMENT_TIMEOUT));
	return 0;
}

static void check_done(void *spec)
{
	free(((struct check_spec *)spec)->built);
}

static void check_describe(const json_t *spec, struct strbuf *out)
{
	const char *rel = json_str(spec, "relation");
	sb_addf(out, "check %s (%s on %s)", json_str(spec, "check") ? json_str(spec, "check") : "?",
		json_str(spec, "type") ? json_str(spec, "type") : "?", rel ? rel : kind_spec_conn_key(spec));
}

/* ---- the run -------------------------------------------------------------------- */

/* conninfo on another database of the same server: a URI gets a dbname
 * parameter, a key=value conninfo a dbname keyword (libpq takes the last). */
static char *with_database(const char *conninfo, const char *db)
{
	struct strbuf b = {0};
	sb_adds(&b, conninfo);
	if (!db)
		return sb_steal(&b);
	if (strstr(conninfo, "://")) {
		sb_adds(&b, strchr(conninfo, '?') ? "&dbname=" : "?dbname=");
		sb_add_pct(&b, db);
	} else {
		if (b.len)
			sb_addc(&b, ' ');
		pg_conninfo_add(&b, "dbname", db);
	}
	return sb_steal(&b);
}

/* What a run found, whatever the check. */
struct outcome {
	enum check_status status;
	long long failing, total;      /* -1: unknown */
	struct check_failure *rows;    /* kept failing rows (strings owned) */
	size_t n_rows;
	json_t *detail;                /* or NULL */
	char *sql;                     /* what ran (owned) */
	struct err err;                /* status CHECK_ERROR: why */
};

static void outcome_free(struct outcome *o)
{
	for (size_t i = 0; i < o->n_rows; i++) {
		free((char *)o->rows[i].key_json);
		free((char *)o->rows[i].column);
		free((char *)o->rows[i].row_json);
	}
	free(o->rows);
	json_decref(o->detail);
	free(o->sql);
}

static void add_row(struct outcome *o, const char *key, const char *column, const char *row)
{
	if ((o->n_rows & (o->n_rows - 1)) == 0)
		o->rows = xrealloc(o->rows, (o->n_rows ? o->n_rows * 2 : 4) * sizeof *o->rows);
	o->rows[o->n_rows++] = (struct check_failure){xstrdup(key), xstrdup(column), xstrdup(row)};
}

/* The thresholds of the spec, as check_judge reads them. */
static int judge_of(const json_t *spec, struct model_check *c)
{
	memset(c, 0, sizeof *c);
	c->severity = json_str(spec, "severity") && !strcmp(json_str(spec, "severity"), "warn") ? SEV_WARN : SEV_ERROR;
	size_t bad;
	const char *e = json_str(spec, "error_if"), *w = json_str(spec, "warn_if");
	if (check_threshold_parse(e ? e : "!=0", &c->error_if, &bad) < 0 ||
	    check_threshold_parse(w ? w : "!=0", &c->warn_if, &bad) < 0)
		return -1;
	return 0;
}

static const char *const *params_of(const json_t *spec, int *n)
{
	json_t *a = json_object_get(spec, "params");
	size_t k = json_array_size(a);
	const char **p = xcalloc(k + 1, sizeof *p);
	for (size_t i = 0; i < k; i++)
		p[i] = json_string_value(json_array_get(a, i));
	*n = (int)k;
	return p;
}

static long long count_of(struct pg_conn *c, const char *sql, int np, const char *const *p, struct err *err)
{
	struct pg_result *r = pg_exec(c, sql, np, p, err);
	if (!r)
		return -1;
	long long n = atoll(pg_val(r, 0, 0));
	pg_clear(r);
	return n;
}

/* Failing rows: their count, the rows checked, the first limit of them. */
static int run_rows(struct pg_conn *c, const json_t *spec, struct outcome *o)
{
	const char *sql = json_str(spec, "sql");
	const char *total_sql = json_str(spec, "total_sql");
	const char *column = json_str(spec, "column");
	int limit = (int)json_integer_value(json_object_get(spec, "limit"));
	int np;
	const char *const *p = params_of(spec, &np);
	o->sql = xstrdup(sql);
	char *count_sql = checksql_count(sql);
	o->failing = count_of(c, count_sql, np, p, &o->err);
	free(count_sql);
	int rc = o->failing < 0 ? -1 : 0;
	if (rc == 0 && total_sql && (o->total = count_of(c, total_sql, 0, NULL, &o->err)) < 0)
		rc = -1;
	if (rc == 0 && o->failing > 0 && limit > 0) {
		char *rows_sql = checksql_rows(sql, limit);
		struct pg_result *r = pg_exec(c, rows_sql, np, p, &o->err);
		free(rows_sql);
		if (!r)
			rc = -1;
		for (int i = 0; r && i < pg_rows(r); i++)
			add_row(o, pg_isnull(r, i, 0) ? NULL : pg_val(r, i, 0), column, pg_val(r, i, 1));
		pg_clear(r);
	}
	free((void *)p);
	if (rc < 0)
		return -1;
	struct model_check mc;
	judge_of(spec, &mc);
	o->status = check_judge(&mc, o->failing, o->total > 0 ? o->total : 0);
	return 0;
}

/* The age of the newest value against warn_after and error_after; an
 * empty relation has no age and is as stale as can be. */
static int run_freshness(struct pg_conn *c, const json_t *spec, struct outcome *o)
{
	const char *sql = json_str(spec, "sql");
	o->sql = xstrdup(sql);
	int np;
	const char *const *p = params_of(spec, &np);
	struct pg_result *r = pg_exec(c, sql, np, p, &o->err);
	free((void *)p);
	if (!r)
		return -1;
	json_t *row = pg_rows(r) ? json_loads(pg_val(r, 0, 1), 0, NULL) : NULL;
	pg_clear(r);
	json_t *age = json_object_get(row, "age_seconds");
	double warn = json_number_value(json_object_get(spec, "warn_after"));
	double error = json_number_value(json_object_get(spec, "error_after"));
	bool empty = !json_is_number(age);
	double a = empty ? INFINITY : json_number_value(age);
	bool warn_sev = json_str(spec, "severity") && !strcmp(json_str(spec, "severity"), "warn");
	o->status = CHECK_PASS;
	if (error > 0 && a > error)
		o->status = warn_sev ? CHECK_WARN : CHECK_FAIL;
	else if (warn > 0 && a > warn)
		o->status = CHECK_WARN;
	o->failing = o->status == CHECK_PASS ? 0 : 1;
	o->total = json_integer_value(json_object_get(row, "row_count"));
	if (o->failing) {
		char *text = json_dumps(row ? row : json_object(), JSON_COMPACT);
		add_row(o, NULL, json_str(spec, "column"), text);
		free(text);
	}
	o->detail = row ? row : json_object();
	return 0;
}

/* The connection the other side is on: the same as here (another database
 * perhaps), or one from connections.yml. conninfo is malloc'ed. */
static int there_conninfo(const json_t *spec, const json_t *rc, const struct task_env *env, char **out, struct err *err)
{
	const char *name = json_str(rc, "connection");
	const char *db = json_str(rc, "database");
	const char *here = kind_spec_conn_key(spec);
	const char *path = json_str(spec, "connections_file");
	struct connections conns = {0};
	const struct connection *k = NULL;
	if (path && connections_load(path, &conns, err) < 0)
		return -1;
	k = connections_get(&conns, name);
	int ret = 0;
	if (k && k->type == CONN_POSTGRES)
		*out = with_database(k->dsn, db);
	else if (k)
		ret = err_set(err, "connection '%s' is not a postgres connection", name);
	else if (!strcmp(name, here))
		*out = with_database(env->conninfo ? env->conninfo : "", db);
	else
		ret = err_setc(err, ERR_NOTFOUND, "unknown connection '%s' (define it in %s)", name,
			       path ? path : "connections.yml");
	connections_free(&conns);
	return ret;
}

/* The columns compared: as given, or every column both sides have (in
 * the order here has them), the key left out. */
static int rc_columns(struct pg_conn *here, struct pg_conn *there, const json_t *rc, const char *here_rel,
		      struct names *out, struct err *err)
{
	json_t *given = json_object_get(rc, "columns");
	json_t *key = json_object_get(rc, "key");
	if (json_array_size(given)) {
		out->v = xcalloc(json_array_size(given), sizeof *out->v);
		for (size_t i = 0; i < json_array_size(given); i++)
			out->v[out->n++] = xstrdup(json_string_value(json_array_get(given, i)));
		return 0;
	}
	const char *rel[2] = {here_rel, json_str(rc, "relation")};
	struct pg_result *r[2] = {NULL, NULL};
	for (int s = 0; s < 2; s++) {
		r[s] = pg_exec(s ? there : here, CHECKSQL_COLUMNS, 1, &rel[s], err);
		if (!r[s]) {
			pg_clear(r[0]);
			return err_prefix(err, "reconcile, %s: the columns of %s", s ? "there" : "here", rel[s]);
		}
	}
	out->v = xcalloc((size_t)pg_rows(r[0]) + 1, sizeof *out->v);
	for (int i = 0; i < pg_rows(r[0]); i++) {
		const char *c = pg_val(r[0], i, 0);
		bool is_key = false, there_too = false;
		for (size_t k = 0; k < json_array_size(key); k++)
			is_key |= !strcmp(c, json_string_value(json_array_get(key, k)));
		for (int j = 0; j < pg_rows(r[1]); j++)
			there_too |= !strcmp(c, pg_val(r[1], j, 0));
		if (!is_key && there_too)
			out->v[out->n++] = xstrdup(c);
	}
	pg_clear(r[0]);
	pg_clear(r[1]);
	return 0;
}

static struct pg_conn *open_side(const char *conninfo, const char *what, int timeout_ms, struct err *err)
{
	struct pg_conn *c = pg_connect(conninfo, what, err);
	if (!c)
		return NULL;
	char t[32];
	snprintf(t, sizeof t, "%d", timeout_ms);
	const char *p[1] = {t};
	if (pg_script(c, CHECKSQL_SESSION, err) < 0 || pg_cmd(c, CHECKSQL_BEGIN, 0, NULL, err) < 0 ||
	    pg_cmd(c, CHECKSQL_TIMEOUT, 1, p, err) < 0) {
		err_prefix(err, "%s", what);
		pg_close(c);
		return NULL;
	}
	return c;
}

static int run_reconcile(struct pg_conn *here, const json_t *spec, const struct task_env *env, int timeout_ms,
			 struct outcome *o)
{
	const json_t *rc = json_object_get(spec, "reconcile");
	char *info = NULL;
	if (there_conninfo(spec, rc, env, &info, &o->err) < 0)
		return -1;
	char what[300];
	snprintf(what, sizeof what, "reconcile: connection '%s'", json_str(rc, "connection"));
	struct pg_conn *there = open_side(info, what, timeout_ms, &o->err);
	free(info);
	if (!there)
		return -1;
	struct names cols = {0};
	json_t *key = json_object_get(rc, "key");
	const char **kv = xcalloc(json_array_size(key) + 1, sizeof *kv);
	for (size_t i = 0; i < json_array_size(key); i++)
		kv[i] = json_string_value(json_array_get(key, i));
	int ret = -1;
	if (rc_columns(here, there, rc, json_str(spec, "relation"), &cols, &o->err) == 0) {
		struct rc_opts opts = {
			.here = here, .there = there,
			.h = {json_str(spec, "relation"), kv, json_array_size(key), (const char *const *)cols.v, cols.n,
			      json_str(spec, "where")},
			.t = {json_str(rc, "relation"), kv, json_array_size(key), (const char *const *)cols.v, cols.n,
			      json_str(spec, "where")},
			.ranges = (int)json_integer_value(json_object_get(rc, "ranges")),
			.leaf = (int)json_integer_value(json_object_get(rc, "leaf")),
			.keep = (int)json_integer_value(json_object_get(spec, "limit")),
			.log = stdout,
		};
		if (opts.ranges < 2)
			opts.ranges = RECONCILE_DEFAULT_RANGES;
		if (opts.leaf < 1)
			opts.leaf = RECONCILE_DEFAULT_LEAF;
		/* what ran, as the statement of the whole table's parts */
		struct strbuf sql = {0};
		checksql_rc_parts(&sql, &opts.h, false, false, 0);
		o->sql = sb_steal(&sql);
		struct rc_result res;
		if (reconcile_run(&opts, &res, &o->err) == 0) {
			o->failing = res.missing_here + res.missing_there + res.changed;
			o->total = res.here_rows;
			for (size_t i = 0; i < res.n_diffs; i++)
				add_row(o, res.diffs[i].key, res.diffs[i].column, res.diffs[i].row);
			o->detail = json_object();
			json_object_set_new(o->detail, "here_rows", json_integer(res.here_rows));
			json_object_set_new(o->detail, "there_rows", json_integer(res.there_rows));
			json_object_set_new(o->detail, "missing_there", json_integer(res.missing_there));
			json_object_set_new(o->detail, "missing_here", json_integer(res.missing_here));
			json_object_set_new(o->detail, "changed", json_integer(res.changed));
			json_object_set_new(o->detail, "ranges_differing", json_integer(res.n_ranges));
			json_object_set(o->detail, "ranges", res.ranges);
			json_object_set_new(o->detail, "queries", json_integer(res.queries));
			json_t *cj = json_array();
			for (size_t i = 0; i < cols.n; i++)
				json_array_append_new(cj, json_string(cols.v[i]));
			json_object_set_new(o->detail, "columns", cj);
			struct model_check mc;
			judge_of(spec, &mc);
			o->status = check_judge(&mc, o->failing, o->total);
			ret = 0;
		}
		rc_result_free(&res);
	}
	for (size_t i = 0; i < cols.n; i++)
		free(cols.v[i]);
	free(cols.v);
	free(kv);
	pg_cmd(there, "ROLLBACK", 0, NULL, NULL);
	pg_close(there);
	return ret;
}

static void threshold_text(const json_t *spec, char *buf, size_t cap)
{
	if (!strcmp(json_str(spec, "judge") ? json_str(spec, "judge") : "", "freshness")) {
		snprintf(buf, cap, "warn_after %gs, error_after %gs", json_number_value(json_object_get(spec, "warn_after")),
			 json_number_value(json_object_get(spec, "error_after")));
		return;
	}
	const char *sev = json_str(spec, "severity");
	if (sev && !strcmp(sev, "warn"))
		snprintf(buf, cap, "warn_if %s", json_str(spec, "warn_if") ? json_str(spec, "warn_if") : "!=0");
	else
		snprintf(buf, cap, "error_if %s, warn_if %s", json_str(spec, "error_if") ? json_str(spec, "error_if") : "!=0",
			 json_str(spec, "warn_if") ? json_str(spec, "warn_if") : "!=0");
}

/* The result line and the first failing rows, in the task log. */
static void print_outcome(const json_t *spec, const struct outcome *o, const char *thr, double secs,
			  const struct task_env *env)
{
	const char *name = json_str(spec, "check");
	if (o->status == CHECK_ERROR) {
		printf("check %s: error after %.2f s\n", name, secs);
		return;
	}
	char total[48] = "";
	if (o->total >= 0)
		snprintf(total, sizeof total, " of %lld", o->total);
	printf("check %s: %s: %lld failing row%s%s (%s) in %.2f s\n", name, check_status_name(o->status), o->failing,
	       o->failing == 1 ? "" : "s", total, thr, secs);
	for (size_t i = 0; i < o->n_rows && i < ROWS_IN_LOG; i++) {
		const struct check_failure *f = &o->rows[i];
		printf("  %zu. key %s%s%s: %s\n", i + 1, f->key_json ? f->key_json : "-", f->column ? "  column " : "",
		       f->column ? f->column : "", f->row_json ? f->row_json : "");
	}
	if ((long long)o->n_rows < o->failing || o->n_rows > ROWS_IN_LOG)
		printf("  (%zu kept of %lld: sluice checks %ld %s)\n", o->n_rows, o->failing, env->run_id, name);
}

static int record_result(const json_t *spec, const struct outcome *o, const char *thr, double secs,
		  const struct task_env *env, struct err *err)
{
	if (!env->state_conninfo)
		return 0;
	struct pg_conn *state = pg_connect(env->state_conninfo, "state database", err);
	if (!state)
		return -1;
	pg_notices_off(state);
	char *params = json_object_get(spec, "params") ? json_dumps(json_object_get(spec, "params"), JSON_COMPACT) : NULL;
	char *detail = o->detail ? json_dumps(o->detail, JSON_COMPACT) : NULL;
	struct check_result r = {
		.project = env->project, .check = json_str(spec, "check"), .type = json_str(spec, "type"), .model = json_str(spec, "model"),
		.run_id = env->run_id, .task = env->task, .try_number = env->try_number,
		.status = check_status_name(o->status), .severity = json_str(spec, "severity") ? json_str(spec, "severity") : "error",
		.failing = o->failing, .total = o->total, .threshold = thr, .duration_s = secs, .sql = o->sql,
		.params_json = params, .detail_json = detail, .error = o->status == CHECK_ERROR ? o->err.msg : NULL,
	};
	int rc = checkstore_save(state, &r, o->rows, o->n_rows, NULL, err);
	free(params);
	free(detail);
	pg_close(state);
	return rc;
}

/* Exit 0: pass, warn, or anything of a warn check; 1: an error check over
 * its threshold, or one that could not run or be recorded; 2: the target
 * cannot be reached. */
static int check_run(const json_t *spec, const struct task_env *env)
{
	const char *judge = json_str(spec, "judge");
	if (!json_str(spec, "check") || !judge || (strcmp(judge, "reconcile") && !json_str(spec, "sql"))) {
		fprintf(stderr, "check: the task spec is incomplete\n");
		return 2;
	}
	bool warn_sev = json_str(spec, "severity") && !strcmp(json_str(spec, "severity"), "warn");
	int timeout_ms = (int)json_integer_value(json_object_get(spec, "statement_timeout")) * 1000;
	if (timeout_ms <= 0)
		timeout_ms = DEFAULT_STATEMENT_TIMEOUT * 1000;
	char thr[160];
	threshold_text(spec, thr, sizeof thr);
	printf("check %s: %s on %s\n", json_str(spec, "check"), json_str(spec, "type"),
	       json_str(spec, "relation") ? json_str(spec, "relation") : kind_spec_conn_key(spec));
	fflush(stdout);

	struct outcome o = {.failing = -1, .total = -1};
	double t0 = now_wall();
	char *info = with_database(env->conninfo ? env->conninfo : "", json_str(spec, "database"));
	char what[300];
	snprintf(what, sizeof what, "connection '%s'", kind_spec_conn_key(spec));
	struct pg_conn *c = open_side(info, what, timeout_ms, &o.err);
	free(info);
	/* a target out of reach is a result too: error, kept like the others */
	bool unreachable = !c && o.err.code == ERR_UNREACHABLE;
	int rc = -1;
	if (c) {
		rc = !strcmp(judge, "freshness")   ? run_freshness(c, spec, &o)
		     : !strcmp(judge, "reconcile") ? run_reconcile(c, spec, env, timeout_ms, &o)
						   : run_rows(c, spec, &o);
		pg_cmd(c, "ROLLBACK", 0, NULL, NULL);
		pg_close(c);
	}
	if (rc < 0)
		o.status = CHECK_ERROR;
	double secs = now_wall() - t0;
	print_outcome(spec, &o, thr, secs, env);
	fflush(stdout);
	struct err re = {0};
	int exit_status = 0;
	if (record_result(spec, &o, thr, secs, env, &re) < 0) {
		taskexec_settle(1);
		fprintf(stderr, "check %s: %s\n", json_str(spec, "check"), re.msg);
		exit_status = 1;
	}
	if (o.status == CHECK_ERROR) {
		taskexec_settle(1);
		fprintf(stderr, "check %s could not run: %s\n", json_str(spec, "check"), o.err.msg);
		exit_status = warn_sev ? exit_status : 1;
	} else if (o.status == CHECK_FAIL) {
		taskexec_settle(1);
		fprintf(stderr, "check %s failed: %lld failing row%s (%s)\n", json_str(spec, "check"), o.failing,
			o.failing == 1 ? "" : "s", thr);
		exit_status = 1;
	}
	outcome_free(&o);
	return unreachable ? 2 : exit_status;
}

const struct kind_ops kind_check = {
	.name = "check",
	.summary = "a quality check of the models, its failing rows kept",
	.spec_size = sizeof(struct check_spec),
	.keys = check_keys,
	.n_keys = sizeof check_keys / sizeof check_keys[0],
	.check = check_check,
	.build = check_build,
	.describe = check_describe,
	.conn = kind_spec_conn_key,
	.run = check_run,
	.done = check_done,
	.reads = kind_reads_key,
};
