/* Unit tests: the project loader (every error class with its exact place and
 * wording), the template context, and connections. */
#include "tests/unit/unit.h"
#include "tests/unit/scratch.h"

#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/util.h"
#include "core/connections.h"
#include "core/kinds/kind.h"
#include "core/project.h"

/* ---- scratch projects ----------------------------------------------------- */

static char *scratch(void)
{
	return unit_scratch("prj");
}

/* A project with the given sluice.yml and pipelines/p.yml (NULL: none). */
static char *project(const char *sluice_yml, const char *pipeline)
{
	char *dir = scratch();
	unit_put(dir, "sluice.yml", sluice_yml);
	if (pipeline)
		unit_put(dir, "pipelines/p.yml", pipeline);
	return dir;
}

/* The diagnostics as "relative/file:line:col: message", sorted. */
static char *diags_text(const struct diags *d, const char *root)
{
	struct strbuf b = {0};
	sb_adds(&b, "");
	size_t rl = strlen(root);
	for (size_t i = 0; i < d->n; i++) {
		const char *f = d->v[i].file;
		if (!strncmp(f, root, rl) && f[rl] == '/')
			f += rl + 1;
		sb_addf(&b, "%s:%d:%d: %s\n", f, d->v[i].line, d->v[i].col, d->v[i].msg);
	}
	return sb_steal(&b);
}

/* Loads dir and checks the exact list of errors (one per line). */
static struct project *load_expect(const char *dir, const char *want)
{
	struct project *p = NULL;
	struct diags d = {0};
	int rc = project_load(dir, &p, &d);
	diags_sort(&d);
	char *got = diags_text(&d, dir);
	assert_string_equal(got, want);
	assert_int_equal(rc, *want ? -1 : 0);
	free(got);
	diags_free(&d);
	return p;
}

static const char *const MIN_PROJECT = "name: demo\n";

/* The kinds in registry order, as "unknown task kind" lists them
 * ("sql, shell, load"), so adding a kind does not change these tests. */
static char *kinds_listed(void)
{
	struct strbuf b = {0};
	for (size_t i = 0; i < kind_count; i++)
		sb_addf(&b, "%s%s", i ? ", " : "", kind_registry[i]->name);
	return sb_steal(&b);
}

/* A field of a task's kind spec, as read from the YAML. */
static const void *field(const struct task_def *t, const char *key)
{
	const struct kind_key *kk = kind_key(t->kind, key);
	assert_non_null(kk);
	return (const char *)t->spec + kk->field;
}

static const char *str_field(const struct task_def *t, const char *key)
{
	return *(char *const *)field(t, key);
}

/* ---- a valid project ------------------------------------------------------ */

static void test_load_valid(void **state)
{
	(void)state;
	char *dir = project("name: demo\n"
			    "description: the demo\n"
			    "state: \"host=/x dbname=sluice\"\n"
			    "target: wh\n"
			    "connections: conns.yml\n"
			    "vars: { region: eu }\n"
			    "runner: { workers: 3, heartbeat_interval: 1, heartbeat_timeout: 1m }\n",
			    "description: daily load\n"
			    "schedule: \"0 3 * * *\"\n"
			    "catchup: true\n"
			    "start_date: 2026-01-01\n"
			    "params: { region: eu, limit: 10 }\n"
			    "defaults: { retries: 1, retry_delay: 5, retry_backoff: 3, timeout: 10m, pool: io }\n"
			    "tasks:\n"
			    "  extract:\n"
			    "    kind: shell\n"
			    "    command: \"echo {{ ds }} {{ params.region }} {{ vars.region }}\"\n"
			    "    env: { A: \"{{ ds_nodash }}\", N: 5 }\n"
			    "    cwd: scripts\n"
			    "    timeout: 30s\n"
			    "  load:\n"
			    "    kind: sql\n"
			    "    sql: |\n"
			    "      insert into t values ('{{ ds }}')\n"
			    "    depends_on: [extract]\n"
			    "    retries: 2\n"
			    "    retry_delay: 1h30m\n"
			    "  check:\n"
			    "    kind: sql\n"
			    "    conn: other\n"
			    "    sql: select 1\n"
			    "    depends_on: load\n");
	unit_put(dir, "pipelines/second.yaml", "name: weekly\nschedule: '@weekly'\ntasks:\n  a: {kind: shell, command: 'true'}\n");
	unit_put(dir, "pipelines/.hidden.yml", "not: [valid\n");
	unit_put(dir, "pipelines/notes.txt", "ignored\n");
	struct project *p = load_expect(dir, "");
	assert_non_null(p);
	assert_string_equal(p->name, "demo");
	assert_string_equal(p->description, "the demo");
	assert_string_equal(p->state, "host=/x dbname=sluice");
	assert_null(p->broker);
	assert_string_equal(p->target, "wh");
	char *conns = path_join(p->root, "conns.yml");
	assert_string_equal(p->connections_file, conns);
	free(conns);
	assert_string_equal(json_string_value(json_object_get(p->vars, "region")), "eu");
	assert_int_equal(p->workers, 3);
	assert_true(p->heartbeat_interval == 1 && p->heartbeat_timeout == 60);
	assert_int_equal(p->n_pipelines, 2);

	const struct pipeline *pl = project_pipeline(p, "p");
	assert_non_null(pl);
	assert_string_equal(pl->description, "daily load");
	assert_string_equal(pl->schedule, "0 3 * * *");
	assert_true(pl->catchup);
	assert_string_equal(pl->start_date, "2026-01-01");
	assert_int_equal(json_integer_value(json_object_get(pl->params, "limit")), 10);
	assert_int_equal(pl->n_tasks, 3);

	const struct task_def *t = pipeline_task(pl, "extract");
	assert_ptr_equal(t->kind, kind_find("shell"));
	assert_string_equal(str_field(t, "command"), "echo {{ ds }} {{ params.region }} {{ vars.region }}");
	const struct strv *env = field(t, "env");
	assert_int_equal(env->n, 2);
	assert_string_equal(env->v[0], "A={{ ds_nodash }}");
	assert_string_equal(env->v[1], "N=5");
	assert_string_equal(str_field(t, "cwd"), "scripts");
	assert_true(t->timeout == 30);
	assert_int_equal(t->retries, 1);       /* from defaults */
	assert_true(t->retry_backoff == 3);
	assert_string_equal(t->pool, "io");
	assert_int_equal(t->n_depends, 0);
	assert_int_equal(t->loc.line, 8);
	assert_int_equal(t->loc.col, 3);
	assert_string_equal(t->loc.file, pl->file);
	char *pf = path_join(p->root, "pipelines/p.yml");
	assert_string_equal(pl->file, pf);
	free(pf);

	t = pipeline_task(pl, "load");
	assert_ptr_equal(t->kind, kind_find("sql"));
	assert_string_equal(str_field(t, "sql"), "insert into t values ('{{ ds }}')\n");
	assert_string_equal(str_field(t, "conn"), "wh"); /* the project's target */
	assert_int_equal(t->retries, 2);
	assert_true(t->retry_delay == 5400);
	assert_true(t->timeout == 600);
	assert_true(t->retry_max_delay == 3600);
	assert_int_equal(t->n_depends, 1);
	assert_string_equal(t->depends_on[0], "extract");

	t = pipeline_task(pl, "check");
	assert_string_equal(str_field(t, "conn"), "other");
	assert_int_equal(t->n_depends, 1);
	assert_string_equal(t->depends_on[0], "load");
	assert_null(pipeline_task(pl, "nope"));

	const struct pipeline *w = project_pipeline(p, "weekly");
	assert_non_null(w);
	assert_string_equal(w->schedule, "@weekly");
	assert_false(w->catchup);
	assert_int_equal(w->tasks[0].retries, 0);
	assert_true(w->tasks[0].retry_delay == 10);
	assert_true(w->tasks[0].retry_backoff == 2);
	assert_true(w->tasks[0].timeout == 0);
	assert_null(w->tasks[0].pool);
	assert_null(project_pipeline(p, "second"));
	project_free(p);
	unit_rm_tree(dir);
}

static void test_defaults_and_find_root(void **state)
{
	(void)state;
	char *dir = project(MIN_PROJECT, NULL);
	struct project *p = load_expect(dir, "");
	assert_null(p->state);
	assert_null(p->broker);
	assert_string_equal(p->target, "default");
	assert_true(p->heartbeat_interval == 2 && p->heartbeat_timeout == 15);
	assert_int_equal(p->workers, 0);
	assert_int_equal(p->n_pipelines, 0);
	assert_non_null(strstr(p->connections_file, "sluice/connections.yml"));
	project_free(p);

	char *sub = path_join(dir, "a/b");
	assert_int_equal(mkdir_p(sub, 0755, NULL), 0);
	char *root = project_find_root(sub);
	char *real = realpath(dir, NULL);
	assert_string_equal(root, real);
	free(root);
	free(real);
	free(sub);
	unit_rm_tree(dir);

	char *empty = scratch();
	struct diags d = {0};
	p = (struct project *)1;
	assert_int_equal(project_load(empty, &p, &d), -1);
	assert_null(p);
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(d.v[0].msg, "no sluice.yml in "));
	diags_free(&d);
	unit_rm_tree(empty);
}

/* ---- one test per error class ---------------------------------------------- */

static void test_unknown_key(void **state)
{
	(void)state;
	char *dir = project("name: demo\nrunnr: {}\nrunner: {wrokers: 2}\n",
			    "tasks:\n"
			    "  extract: {kind: shell, command: 'true'}\n"
			    "  load:\n"
			    "    kind: sql\n"
			    "    sql: select 1\n"
			    "    depend_on: [extract]\n"
			    "    colour: red\n"
			    "    command: echo\n"
			    "defaults: {retires: 1}\n"
			    "shedule: '@daily'\n");
	project_free(load_expect(dir,
		"pipelines/p.yml:6:5: unknown key 'depend_on' in task 'load'; did you mean 'depends_on'?\n"
		"pipelines/p.yml:7:5: unknown key 'colour' in task 'load'\n"
		"pipelines/p.yml:8:5: 'command' does not apply to a sql task (it is for shell tasks)\n"
		"pipelines/p.yml:9:12: unknown key 'retires' in 'defaults'; did you mean 'retries'?\n"
		"pipelines/p.yml:10:1: unknown key 'shedule' in pipeline 'p'; did you mean 'schedule'?\n"
		"sluice.yml:2:1: unknown key 'runnr' in sluice.yml; did you mean 'runner'?\n"
		"sluice.yml:3:10: unknown key 'wrokers' in 'runner'; did you mean 'workers'?\n"));
	unit_rm_tree(dir);
}

static void test_wrong_type(void **state)
{
	(void)state;
	char *dir = project("name: demo\nvars: [a]\nrunner: {workers: -1}\n",
			    "catchup: yes\n"
			    "params: 3\n"
			    "tasks:\n"
			    "  a:\n"
			    "    kind: shell\n"
			    "    command: [echo]\n"
			    "    retries: two\n"
			    "    retry_backoff: 0.5\n"
			    "    depends_on: {b: 1}\n"
			    "    env: {X: [1], 9A: x}\n"
			    "  b: shell\n");
	project_free(load_expect(dir,
		"pipelines/p.yml:1:10: 'catchup' must be true or false, got string 'yes'\n"
		"pipelines/p.yml:2:9: 'params' must be a mapping, got integer\n"
		"pipelines/p.yml:6:14: 'command' must be a string, got list\n"
		"pipelines/p.yml:7:14: 'retries' must be an integer, got string\n"
		"pipelines/p.yml:8:20: 'retry_backoff' must be at least 1, got 0.5\n"
		"pipelines/p.yml:9:17: 'depends_on' must be a list of task names, got mapping\n"
		"pipelines/p.yml:10:14: environment variable 'X' must be a string, got list\n"
		"pipelines/p.yml:10:19: invalid environment variable name '9A'\n"
		"pipelines/p.yml:11:6: task 'b' must be a mapping, got string\n"
		"sluice.yml:2:7: 'vars' must be a mapping, got list\n"
		"sluice.yml:3:19: 'workers' must be between 0 and 2147483647, got -1\n"));
	unit_rm_tree(dir);
}

static void test_missing_required_key(void **state)
{
	(void)state;
	char *dir = project("vars: {}\n",
			    "tasks:\n"
			    "  x:\n"
			    "    command: hi\n"
			    "  y:\n"
			    "    kind: sql\n"
			    "  z: {}\n");
	unit_put(dir, "pipelines/q.yml", "description: nothing\n");
	project_free(load_expect(dir,
		"pipelines/p.yml:3:5: task 'x': missing required key 'kind'\n"
		"pipelines/p.yml:5:5: task 'y': missing required key 'sql'\n"
		"pipelines/p.yml:6:3: task 'z': missing required key 'kind'\n"
		"pipelines/q.yml:1:1: pipeline 'q': missing required key 'tasks'\n"
		"sluice.yml:1:1: missing required key 'name'\n"));
	unit_rm_tree(dir);
}

/* An empty list of names names nothing (a merge without a key is then the
 * usual missing-key error); an empty string stays an error. */
static void test_empty_names(void **state)
{
	(void)state;
	char *dir = project(MIN_PROJECT,
			    "tasks:\n"
			    "  a: { kind: load, source: a.csv, into: t, columns: [] }\n"
			    "  b: { kind: load, source: b.csv, into: t, mode: merge, key: [] }\n"
			    "  c: { kind: load, source: c.csv, into: t, columns: \"\" }\n");
	struct project *p = load_expect(dir,
		"pipelines/p.yml:3:50: mode merge needs a 'key' (or a contract with a key)\n"
		"pipelines/p.yml:4:53: 'columns' names no column\n");
	assert_non_null(p);
	const struct pipeline *pl = project_pipeline(p, "p");
	assert_non_null(pl);
	for (size_t i = 0; i < pl->n_tasks; i++) {
		assert_int_equal(((const struct strv *)field(&pl->tasks[i], "columns"))->n, 0);
		assert_int_equal(((const struct strv *)field(&pl->tasks[i], "key"))->n, 0);
	}
	project_free(p);
	unit_rm_tree(dir);
}

static void test_duplicate_task(void **state)
{
	(void)state;
	char *dir = project(MIN_PROJECT,
			    "tasks:\n"
			    "  a: {kind: shell, command: 'true'}\n"
			    "  b: {kind: shell, command: 'true'}\n"
			    "  a:\n"
			    "    kind: sql\n"
			    "    sql: x\n"
			    "    retries: 1\n"
			    "    retries: 2\n");
	struct project *p = load_expect(dir,
		"pipelines/p.yml:4:3: duplicate task 'a' (first defined at 2:3)\n"
		"pipelines/p.yml:8:5: duplicate key 'retries' (first defined at 7:5)\n");
	/* the first definition is the one kept */
	assert_int_equal(p->pipelines[0].n_tasks, 2);
	assert_ptr_equal(p->pipelines[0].tasks[0].kind, kind_find("shell"));
	project_free(p);
	unit_rm_tree(dir);
}

static void test_unknown_dependency(void **state)
{
	(void)state;
	char *dir = project(MIN_PROJECT,
			    "tasks:\n"
			    "  extract: {kind: shell, command: 'true'}\n"
			    "  load:\n"
			    "    kind: shell\n"
			    "    command: 'true'\n"
			    "    depends_on:\n"
			    "      - extract\n"
			    "      - extrakt\n"
			    "      - nothing_like_it\n"
			    "  self: {kind: shell, command: 'true', depends_on: self}\n");
	project_free(load_expect(dir,
		"pipelines/p.yml:8:9: task 'load' depends on unknown task 'extrakt'; did you mean 'extract'?\n"
		"pipelines/p.yml:9:9: task 'load' depends on unknown task 'nothing_like_it'\n"
		"pipelines/p.yml:10:52: task 'self' depends on itself\n"));
	unit_rm_tree(dir);
}

static void test_cycle(void **state)
{
	(void)state;
	char *dir = project(MIN_PROJECT,
			    "tasks:\n"
			    "  start: {kind: shell, command: 'true'}\n"
			    "  a:\n"
			    "    kind: shell\n"
			    "    command: 'true'\n"
			    "    depends_on: [c, start]\n"
			    "  b: {kind: shell, command: 'true', depends_on: [a]}\n"
			    "  c: {kind: shell, command: 'true', depends_on: [b]}\n");
	project_free(load_expect(dir, "pipelines/p.yml:3:3: cycle: a -> b -> c -> a\n"));
	unit_rm_tree(dir);
}

static void test_unknown_kind(void **state)
{
	(void)state;
	char *dir = project(MIN_PROJECT,
			    "tasks:\n"
			    "  a:\n"
			    "    kind: sqll\n"
			    "    sql: x\n"
			    "  b: {kind: python}\n"
			    "  c: {kind: 3}\n");
	char *kinds = kinds_listed();
	char *want = xasprintf("pipelines/p.yml:3:11: unknown task kind 'sqll'; expected one of: %s; did you mean 'sql'?\n"
			       "pipelines/p.yml:5:13: unknown task kind 'python'; expected one of: %s\n"
			       "pipelines/p.yml:6:13: 'kind' must be a string, got integer\n",
			       kinds, kinds);
	project_free(load_expect(dir, want));
	free(want);
	free(kinds);
	unit_rm_tree(dir);
}

static void test_bad_cron(void **state)
{
	(void)state;
	char *dir = project(MIN_PROJECT, "schedule: \"0 3 * * mon-fry\"\ntasks:\n  a: {kind: shell, command: 'true'}\n");
	unit_put(dir, "pipelines/q.yml", "schedule: 0 25 * * *\ntasks:\n  a: {kind: shell, command: 'true'}\n");
	unit_put(dir, "pipelines/r.yml", "schedule: '@dayly'\ntasks:\n  a: {kind: shell, command: 'true'}\n");
	struct project *p = NULL;
	struct diags d = {0};
	assert_int_equal(project_load(dir, &p, &d), -1);
	diags_sort(&d);
	assert_int_equal(d.n, 3);
	/* the column of the bad field inside the string */
	char *got = diags_text(&d, dir);
	assert_string_equal(got,
		"pipelines/p.yml:1:24: invalid schedule '0 3 * * mon-fry': day-of-week field: expected a number 0-7 or a name SUN-SAT, got 'fry'\n"
		"pipelines/q.yml:1:13: invalid schedule '0 25 * * *': hour field: 25 is out of range 0-23\n"
		"pipelines/r.yml:1:12: invalid schedule '@dayly': unknown macro '@dayly'; did you mean '@daily'?\n");
	free(got);
	assert_null(p->pipelines[0].schedule);
	diags_free(&d);
	project_free(p);
	unit_rm_tree(dir);
}

static void test_unknown_template_variable(void **state)
{
	(void)state;
	char *dir = project("name: demo\nvars: {region: eu}\n",
			    "params: {limit: 10}\n"
			    "tasks:\n"
			    "  a:\n"
			    "    kind: shell\n"
			    "    command: echo {{ ds }} {{ params.limt }}\n"
			    "    env:\n"
			    "      X: '{{ vars.regoin }}'\n"
			    "  b:\n"
			    "    kind: sql\n"
			    "    sql: |\n"
			    "      select {{ params.limit }}\n"
			    "        from t where d = '{{ dss }}'\n");
	project_free(load_expect(dir,
		"pipelines/p.yml:5:31: unknown template variable 'params.limt'; did you mean 'params.limit'?\n"
		"pipelines/p.yml:7:14: unknown template variable 'vars.regoin'; did you mean 'vars.region'?\n"
		"pipelines/p.yml:12:30: unknown template variable 'dss'; did you mean 'ds'?\n"));
	unit_rm_tree(dir);
}

/* A key is typed by the task's own kind, not by the first kind that has a key
 * of that name (kinds may share names with different types): a shell task's
 * `sql:` or `source:` does not apply and is not checked as a template. A task
 * whose kind is unknown still gets its templates checked. */
static void test_keys_of_the_tasks_kind(void **state)
{
	(void)state;
	char *dir = project(MIN_PROJECT,
			    "tasks:\n"
			    "  a:\n"
			    "    kind: shell\n"
			    "    command: 'true'\n"
			    "    sql: select '{{ dss }}'\n"
			    "    source: f_{{ dss }}.csv\n"
			    "    conn: warehouse\n"
			    "  b:\n"
			    "    kind: sqll\n"
			    "    sql: select '{{ dss }}'\n");
	char *kinds = kinds_listed();
	char *want = xasprintf("pipelines/p.yml:5:5: 'sql' does not apply to a shell task (it is for sql tasks)\n"
			       "pipelines/p.yml:6:5: 'source' does not apply to a shell task (it is for load and extract tasks)\n"
			       "pipelines/p.yml:7:5: 'conn' does not apply to a shell task (it is for sql, load, backup and restore tasks)\n"
			       "pipelines/p.yml:9:11: unknown task kind 'sqll'; expected one of: %s; did you mean 'sql'?\n"
			       "pipelines/p.yml:10:21: unknown template variable 'dss'; did you mean 'ds'?\n",
			       kinds);
	project_free(load_expect(dir, want));
	free(want);
	free(kinds);
	unit_rm_tree(dir);
}

static void test_bad_dates_and_durations(void **state)
{
	(void)state;
	char *dir = project("name: demo\nrunner: {heartbeat_interval: 20s, heartbeat_timeout: 10s}\n",
			    "start_date: 2026-02-30\n"
			    "defaults: {timeout: 5x}\n"
			    "tasks:\n"
			    "  a: {kind: shell, command: 'true', retry_delay: '10 min', timeout: -3}\n"
			    "  b: {kind: shell, command: 'true', retry_max_delay: [1]}\n");
	unit_put(dir, "pipelines/c.yml", "catchup: true\ntasks:\n  a: {kind: shell, command: 'true'}\n");
	project_free(load_expect(dir,
		"pipelines/c.yml:1:10: 'catchup: true' needs a 'start_date' to catch up from\n"
		"pipelines/p.yml:1:13: 'start_date' must be a date like 2026-01-01, got '2026-02-30'\n"
		"pipelines/p.yml:2:22: 'timeout' must be a duration like 30, \"30s\", \"5m\" or \"2h\", got '5x'\n"
		"pipelines/p.yml:4:53: 'retry_delay' must be a duration like 30, \"30s\", \"5m\" or \"2h\", got '10 min'\n"
		"pipelines/p.yml:4:69: 'timeout' must not be negative, got -3\n"
		"pipelines/p.yml:5:54: 'retry_max_delay' must be a duration like 30, \"30s\", \"5m\" or \"2h\", got list\n"
		"sluice.yml:2:54: 'heartbeat_timeout' (10s) must be longer than 'heartbeat_interval' (20s)\n"));
	unit_rm_tree(dir);
}

static void test_names(void **state)
{
	(void)state;
	char *dir = project("name: my demo\n",
			    "name: daily\n"
			    "tasks:\n"
			    "  'bad name': {kind: shell, command: 'true'}\n");
	unit_put(dir, "pipelines/daily.yml", "tasks:\n  a: {kind: shell, command: 'true'}\n");
	struct project *p = NULL;
	struct diags d = {0};
	assert_int_equal(project_load(dir, &p, &d), -1);
	diags_sort(&d);
	char *got = diags_text(&d, dir);
	char *want = xasprintf("pipelines/p.yml:1:1: duplicate pipeline 'daily' (also defined in %s/pipelines/daily.yml)\n"
			       "pipelines/p.yml:3:3: invalid task name 'bad name' (use letters, digits, '_', '.' and '-')\n"
			       "sluice.yml:1:7: invalid project name 'my demo' (use letters, digits, '_', '.' and '-')\n",
			       p->root);
	assert_string_equal(got, want);
	free(got);
	free(want);
	diags_free(&d);
	project_free(p);
	unit_rm_tree(dir);
}

static void test_syntax_errors_all_files(void **state)
{
	(void)state;
	/* a broken file does not hide the errors of the others */
	char *dir = project("name: demo\nvars: {a: 1\n",
			    "tasks:\n  a: {kind: shel, command: 'true'}\n");
	unit_put(dir, "pipelines/q.yml", "tasks:\n  a:\n    kind: shell\n   command: x\n");
	char *kinds = kinds_listed();
	char *want = xasprintf("pipelines/p.yml:2:13: unknown task kind 'shel'; expected one of: %s; did you mean 'shell'?\n"
			       "pipelines/q.yml:4:4: did not find expected key (while parsing a block mapping at 2:3)\n"
			       "sluice.yml:3:1: did not find expected ',' or '}' (while parsing a flow mapping at 2:7)\n",
			       kinds);
	struct project *p = load_expect(dir, want);
	free(want);
	free(kinds);
	/* best effort: the project is there, named after its directory */
	assert_non_null(p);
	assert_non_null(p->name);
	assert_int_equal(p->n_pipelines, 2);
	project_free(p);
	unit_rm_tree(dir);
}

/* ---- template context ------------------------------------------------------- */

static void test_template_ctx(void **state)
{
	(void)state;
	char *dir = project("name: demo\nvars: {region: eu}\n",
			    "params: {region: us, limit: 10}\ntasks:\n  a: {kind: shell, command: 'true'}\n");
	struct project *p = load_expect(dir, "");
	const struct pipeline *pl = &p->pipelines[0];
	json_t *given = json_pack("{s:i, s:s}", "limit", 5, "extra", "x");
	json_t *ctx = project_template_ctx(p, pl, "2026-03-04", given, "a", 42);
	json_t *want = json_pack("{s:s, s:s, s:i, s:s, s:s, s:{s:s, s:i, s:s}, s:{s:s}}", "ds", "2026-03-04",
				 "ds_nodash", "20260304", "run_id", 42, "pipeline", "p", "task", "a", "params",
				 "region", "us", "limit", 5, "extra", "x", "vars", "region", "eu");
	assert_true(json_equal(ctx, want));
	/* the pipeline's own params are untouched */
	assert_int_equal(json_integer_value(json_object_get(pl->params, "limit")), 10);
	json_decref(ctx);
	json_decref(want);
	json_decref(given);

	ctx = project_template_ctx(p, pl, "2026-03-04", NULL, NULL, 0);
	assert_true(json_is_null(json_object_get(ctx, "task")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(ctx, "params"), "limit")), 10);
	json_decref(ctx);
	project_free(p);
	unit_rm_tree(dir);
}

/* ---- connections ------------------------------------------------------------ */

static char *conn_file(const char *dir, const char *text, int mode)
{
	char *path = path_join(dir, "connections.yml");
	unit_put(dir, "connections.yml", text);
	chmod(path, (mode_t)mode);
	return path;
}

static void test_connections(void **state)
{
	(void)state;
	char *dir = scratch();
	setenv("SLUICE_TEST_PGPASS", "s3cr3t", 1);
	unit_put(dir, "wh.pass", "p w'd\n");
	char *wh_pass = path_join(dir, "wh.pass");
	chmod(wh_pass, 0600);
	char *path = conn_file(dir,
			       "connections:\n"
			       "  default:\n"
			       "    type: postgres\n"
			       "    dsn: \"postgresql://etl:${SLUICE_TEST_PGPASS}@db.internal:5432/wh?sslmode=require\"\n"
			       "  wh:\n"
			       "    host: localhost\n"
			       "    port: 5433\n"
			       "    dbname: wh\n"
			       "    user: etl\n"
			       "    password_file: wh.pass\n"
			       "  info:\n"
			       "    dsn: \"host=h dbname=d password=${SLUICE_TEST_PGPASS}\"\n"
			       "  cache:\n"
			       "    type: redis\n"
			       "    password: ${SLUICE_TEST_PGPASS}\n"
			       "    db: 2\n"
			       "  lake:\n"
			       "    type: s3\n"
			       "    url: \"http://minio:9000\"\n"
			       "    bucket: lake\n"
			       "    access_key_id: k\n"
			       "    secret_access_key: ${SLUICE_TEST_PGPASS}\n"
			       "  literal:\n"
			       "    dsn: \"host=h password=$${NOT_EXPANDED}\"\n",
			       0600);
	struct connections c;
	struct err e = {0};
	assert_int_equal(connections_load(path, &c, &e), 0);
	assert_int_equal(c.n, 6);

	const struct connection *x = connections_get(&c, "default");
	assert_int_equal(x->type, CONN_POSTGRES);
	/* a postgres dsn gets sluice's timeouts (connections_dsn_guarded) */
	assert_string_equal(x->dsn, "postgresql://etl:s3cr3t@db.internal:5432/wh?sslmode=require"
				    "&connect_timeout=10&keepalives=1&keepalives_idle=30&keepalives_interval=10&keepalives_count=3");
	assert_string_equal(x->display, "postgresql://etl:***@db.internal:5432/wh?sslmode=require");

	x = connections_get(&c, "wh");
	assert_int_equal(x->type, CONN_POSTGRES);
	assert_string_equal(x->dsn, "host=localhost port=5433 dbname=wh user=etl password='p w\\'d'"
				    " connect_timeout=10 keepalives=1 keepalives_idle=30 keepalives_interval=10 keepalives_count=3");
	assert_string_equal(x->display, "host=localhost port=5433 dbname=wh user=etl password=***");

	x = connections_get(&c, "info");
	assert_string_equal(x->display, "host=h dbname=d password=***");

	x = connections_get(&c, "cache");
	assert_int_equal(x->type, CONN_REDIS);
	assert_string_equal(x->dsn, "redis://:s3cr3t@127.0.0.1:6379/2");
	assert_string_equal(x->display, "redis://:***@127.0.0.1:6379/2");

	x = connections_get(&c, "lake");
	assert_int_equal(x->type, CONN_S3);
	assert_string_equal(x->display, "s3://lake (http://minio:9000)");
	assert_non_null(strstr(x->dsn, "\"secret_access_key\":\"s3cr3t\""));

	x = connections_get(&c, "literal");
	assert_string_equal(x->dsn, "host=h password=${NOT_EXPANDED} connect_timeout=10 keepalives=1 keepalives_idle=30 keepalives_interval=10 keepalives_count=3");
	assert_null(connections_get(&c, "nope"));
	for (size_t i = 0; i < c.n; i++)
		assert_null(strstr(c.v[i].display, "s3cr3t"));
	connections_free(&c);
	connections_free(&c); /* twice is fine */
	free(path);
	free(wh_pass);
	unit_rm_tree(dir);
}

static void test_connections_errors(void **state)
{
	(void)state;
	char *dir = scratch();
	struct connections c;
	struct err e = {0};
	char *missing = path_join(dir, "none.yml");
	assert_int_equal(connections_load(missing, &c, &e), 0);
	assert_int_equal(c.n, 0);
	free(missing);

	char *path = conn_file(dir, "connections: {a: {dsn: x}}\n", 0644);
	assert_int_equal(connections_load(path, &c, &e), ERR_FAIL);
	char *want = xasprintf("%s: mode 0644 lets other users read its secrets; run: chmod 600 %s", path, path);
	assert_string_equal(e.msg, want);
	free(want);
	free(path);

	unsetenv("SLUICE_TEST_UNSET");
	struct {
		const char *text, *msg;
	} cases[] = {
		{"connections:\n  a:\n    dsn: \"postgresql://u:${SLUICE_TEST_UNSET}@h/db\"\n",
		 "3:26: environment variable 'SLUICE_TEST_UNSET' is not set"},
		{"connections:\n  a: {type: postgress, dsn: x}\n",
		 "2:13: unknown connection type 'postgress'; expected one of: postgres, redis, s3, ftp, http"},
		{"connections:\n  a: {dsn: x, hots: y}\n", "2:15: unknown key 'hots' in connection 'a'; did you mean 'host'?"},
		{"connections:\n  a: {dsn: x, host: y}\n", "2:15: 'host' cannot be combined with 'dsn'; put it in the dsn"},
		{"connections:\n  a: {type: s3}\n", "2:13: an s3 connection needs 'bucket'"},
		{"connections:\n  a: {password_file: nope}\n", "2:22: "},
		{"connections:\n  a: {}\n", "2:6: connection 'a' needs 'dsn' or host/dbname/user"},
		{"conections: {}\n", "1:1: unknown key 'conections'; expected 'connections'"},
		{"connections:\n  a: {dsn: x}\n  a: {dsn: y}\n", "3:3: duplicate key 'a' (first defined at 2:3)"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		path = conn_file(dir, cases[i].text, 0600);
		assert_int_equal(connections_load(path, &c, &e), ERR_FAIL);
		assert_int_equal(c.n, 0);
		assert_null(c.v);
		char *w = xasprintf("%s:%s", path, cases[i].msg);
		if (strncmp(e.msg, w, strlen(w)) != 0)
			fail_msg("case %zu: got '%s', want '%s'", i, e.msg, w);
		free(w);
		free(path);
	}
	/* a password file must be private too */
	unit_put(dir, "pw", "x\n");
	char *pw = path_join(dir, "pw");
	chmod(pw, 0640);
	path = conn_file(dir, "connections:\n  a: {host: h, password_file: pw}\n", 0600);
	assert_int_equal(connections_load(path, &c, &e), ERR_FAIL);
	assert_non_null(strstr(e.msg, "mode 0640 lets other users read its secrets; run: chmod 600"));
	free(pw);
	free(path);
	unit_rm_tree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_valid),
		cmocka_unit_test(test_defaults_and_find_root),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_wrong_type),
		cmocka_unit_test(test_missing_required_key),
		cmocka_unit_test(test_empty_names),
		cmocka_unit_test(test_duplicate_task),
		cmocka_unit_test(test_unknown_dependency),
		cmocka_unit_test(test_cycle),
		cmocka_unit_test(test_unknown_kind),
		cmocka_unit_test(test_bad_cron),
		cmocka_unit_test(test_unknown_template_variable),
		cmocka_unit_test(test_keys_of_the_tasks_kind),
		cmocka_unit_test(test_bad_dates_and_durations),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_syntax_errors_all_files),
		cmocka_unit_test(test_template_ctx),
		cmocka_unit_test(test_connections),
		cmocka_unit_test(test_connections_errors),
	};
	return cmocka_run_group_tests_name("project", tests, NULL, NULL);
}
