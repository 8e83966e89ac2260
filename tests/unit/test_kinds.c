/* Unit tests: the registry of task kinds and their ops tables (every kind
 * complete, key tables well formed), did-you-mean from the key tables, the
 * spec a run executes, and the console's one-line description. */
#include "tests/unit/unit.h"
#include "tests/unit/scratch.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/fs.h"
#include "base/util.h"
#include "core/connections.h"
#include "core/kinds/kind.h"
#include "core/project.h"

static size_t field_size(enum kind_key_type t)
{
	switch (t) {
	case KEY_NAMES:
	case KEY_ENV: return sizeof(struct strv);
	case KEY_BOOL: return sizeof(bool);
	case KEY_TRIBOOL:
	case KEY_INT: return sizeof(int);
	default: return sizeof(char *);
	}
}

static void test_registry(void **state)
{
	(void)state;
	size_t n_common;
	const char *const *common = project_task_keys(&n_common);
	assert_true(kind_count >= 3);
	for (size_t i = 0; i < kind_count; i++) {
		const struct kind_ops *k = kind_registry[i];
		assert_non_null(k->name);
		assert_true(yr_name_valid(k->name));
		assert_non_null(k->summary);
		/* a kind runs, or stands for a group that becomes tasks that run */
		assert_true((k->build && k->run && !k->expand) || (k->expand && !k->build && !k->run));
		assert_true(k->spec_size > 0);
		assert_true(k->n_keys == 0 || k->keys);
		assert_ptr_equal(kind_find(k->name), k);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(kind_registry[j]->name, k->name);
		for (size_t j = 0; j < k->n_keys; j++) {
			const struct kind_key *key = &k->keys[j];
			/* a kind's key never shadows one every task has */
			for (size_t c = 0; c < n_common; c++)
				assert_string_not_equal(key->name, common[c]);
			for (size_t m = 0; m < j; m++)
				assert_string_not_equal(k->keys[m].name, key->name);
			assert_ptr_equal(kind_key(k, key->name), key);
			assert_true(key->field + field_size(key->type) <= k->spec_size);
			if (key->type == KEY_ENUM)
				assert_true(key->values && key->values[0]);
			if (key->type == KEY_CUSTOM)
				assert_non_null(key->what);
			assert_non_null(kind_key_type_name(key));
		}
	}
	assert_null(kind_find("nope"));
	assert_null(kind_find(NULL));
	assert_null(kind_key_owner("nope"));
	assert_ptr_equal(kind_key_owner("conn"), kind_registry[0]);
}

/* ---- through the project loader ----------------------------------------------- */

/* Loads a project whose only pipeline is text; the diagnostics, sorted, one
 * "line:col: message" a line. */
static struct project *load(const char *text, char **dir, char **diags)
{
	*dir = unit_scratch("kinds");
	unit_put(*dir, "sluice.yml", "name: demo\n");
	unit_put(*dir, "pipelines/p.yml", text);
	struct project *p = NULL;
	struct diags d = {0};
	project_load(*dir, &p, &d);
	diags_sort(&d);
	struct strbuf b = {0};
	sb_adds(&b, "");
	for (size_t i = 0; i < d.n; i++)
		sb_addf(&b, "%d:%d: %s\n", d.v[i].line, d.v[i].col, d.v[i].msg);
	*diags = sb_steal(&b);
	diags_free(&d);
	return p;
}

static void unload(struct project *p, char *dir, char *diags)
{
	project_free(p);
	unit_rm_tree(dir);
	free(diags);
}

static void test_keys_from_tables(void **state)
{
	(void)state;
	char *dir, *diags;
	struct project *p = load("tasks:\n"
				 "  a:\n"
				 "    kind: load\n"
				 "    source: x.csv\n"
				 "    into: t\n"
				 "    contrat: people\n"
				 "    sqll: x\n"
				 "    encoding: latin2\n"
				 "    parallel: 0\n"
				 "  b: {kind: sql, sql: 'select 1', cwd: x}\n"
				 "  c: {kind: shell}\n",
				 &dir, &diags);
	assert_string_equal(diags, "6:5: unknown key 'contrat' in task 'a'; did you mean 'contract'?\n"
				   "7:5: unknown key 'sqll' in task 'a'; did you mean 'sql'?\n"
				   "8:15: 'encoding' must be utf8 or latin1, got 'latin2'\n"
				   "9:15: 'parallel' must be between 1 and 2147483647, got 0\n"
				   "10:35: 'cwd' does not apply to a sql task (it is for shell tasks)\n"
				   "11:6: task 'c': missing required key 'command'\n");
	unload(p, dir, diags);
}

static json_t *build(const struct project *p, const char *task)
{
	const struct pipeline *pl = project_pipeline(p, "p");
	const struct task_def *t = pipeline_task(pl, task);
	assert_non_null(t);
	json_t *ctx = project_template_ctx(p, pl, "2026-03-04", NULL, task, 7);
	struct kind_build b = {task, ctx, p, NULL};
	json_t *spec = json_pack("{s:s}", "kind", t->kind->name);
	struct err e = {0};
	assert_int_equal(t->kind->build(t->spec, &b, spec, &e), 0);
	json_decref(ctx);
	return spec;
}

static void test_build_and_describe(void **state)
{
	(void)state;
	char *dir, *diags;
	struct project *p = load("defaults: {conn: wh}\n"
				 "tasks:\n"
				 "  l: {kind: load, source: 'in/{{ ds_nodash }}.csv', into: s.t, delimiter: '\\t', header: false}\n"
				 "  q: {kind: sql, sql: \"select '{{ ds }}';\\nselect 2\"}\n"
				 "  s: {kind: shell, command: 'echo {{ run_id }}', env: {A: '{{ task }}'}, cwd: sub}\n",
				 &dir, &diags);
	assert_string_equal(diags, "");

	json_t *l = build(p, "l");
	json_t *want = json_pack("{s:s, s:s, s:s, s:s, s:s, s:[], s:[], s:s, s:b}", "kind", "load", "conn", "wh",
				 "source", "in/20260304.csv", "into", "s.t", "mode", "append", "key", "columns",
				 "delimiter", "\t", "header", 0);
	assert_true(json_equal(l, want));
	assert_string_equal(kind_spec_conn(l), "wh");
	json_decref(want);

	json_t *q = build(p, "q");
	assert_string_equal(json_string_value(json_object_get(q, "sql")), "select '2026-03-04';\nselect 2");
	char *qs = json_dumps(q, JSON_COMPACT);
	char *line = kind_spec_line(qs);
	assert_string_equal(line, "sql on wh: select '2026-03-04'; ; select 2");
	free(line);
	free(qs);

	json_t *s = build(p, "s");
	assert_null(kind_spec_conn(s));
	assert_string_equal(json_string_value(json_object_get(json_object_get(s, "env"), "A")), "s");
	char *ss = json_dumps(s, JSON_COMPACT);
	line = kind_spec_line(ss);
	assert_string_equal(line, "$ echo 7   (in sub)");
	free(line);
	free(ss);

	/* a kind without its own description shows the spec itself */
	char *ls = json_dumps(l, JSON_COMPACT);
	line = kind_spec_line(ls);
	assert_null(kind_find("load")->describe);
	assert_string_equal(line, ls);
	free(line);
	free(ls);
	line = kind_spec_line(NULL);
	assert_string_equal(line, "");
	free(line);
	line = kind_spec_line("{\"kind\":\"nope\",\"x\":1}");
	assert_string_equal(line, "{\"kind\":\"nope\",\"x\":1}");
	free(line);

	json_decref(l);
	json_decref(q);
	json_decref(s);
	unload(p, dir, diags);
}

/* backup and restore: their keys checked, their spec built with templates
 * rendered and the defaults filled in, their one-line description */
static void test_backup_restore(void **state)
{
	(void)state;
	char *dir, *diags;
	struct project *p = load("tasks:\n"
				 "  a: {kind: backup, table: t, codec: lz4}\n"
				 "  b: {kind: backup, table: t, codec: snappy, level: 3}\n"
				 "  c: {kind: restore, file: f.avro, into: t, mode: merge}\n"
				 "  d: {kind: restore, into: t}\n",
				 &dir, &diags);
	assert_string_equal(diags, "2:38: 'codec' must be null, deflate or snappy, got 'lz4'\n"
				   "3:46: 'level' applies to codec deflate only\n"
				   "4:51: 'mode' must be append, replace or create, got 'merge'\n"
				   "5:6: task 'd': missing required key 'file'\n");
	unload(p, dir, diags);
	p = load("defaults: {conn: wh}\n"
		 "tasks:\n"
		 "  b: {kind: backup, table: 's.t_{{ ds_nodash }}'}\n"
		 "  r: {kind: restore, file: 'b/{{ ds }}.avro', into: s.copy, mode: create}\n",
		 &dir, &diags);
	assert_string_equal(diags, "");
	json_t *b = build(p, "b");
	json_t *want = json_pack("{s:s, s:s, s:s, s:s, s:s}", "kind", "backup", "conn", "wh", "table", "s.t_20260304",
				 "out", "backups/s.t_20260304.avro", "codec", "deflate");
	assert_true(json_equal(b, want));
	json_decref(want);
	char *bs = json_dumps(b, JSON_COMPACT);
	char *line = kind_spec_line(bs);
	assert_string_equal(line, "backup s.t_20260304 on wh to backups/s.t_20260304.avro (deflate)");
	free(line);
	free(bs);
	json_t *r = build(p, "r");
	want = json_pack("{s:s, s:s, s:s, s:s, s:s}", "kind", "restore", "conn", "wh", "file", "b/2026-03-04.avro",
			 "into", "s.copy", "mode", "create");
	assert_true(json_equal(r, want));
	assert_string_equal(kind_spec_conn(r), "wh");
	json_decref(want);
	json_decref(b);
	json_decref(r);
	unload(p, dir, diags);
}

/* extract: its checks across keys at their place, and the spec a run gets
 * (the lake where the project says, counts rendered, lag in seconds). */
static void test_extract(void **state)
{
	(void)state;
	char *dir, *diags;
	struct project *p = load("tasks:\n"
				 "  a: {kind: extract, source: http, connection: api, pagination: {style: cursr, sise: 2}}\n"
				 "  b: {kind: extract, source: http, connection: api, limit: lots, rate: 0}\n"
				 "  c: {kind: extract, source: http, connection: api, format: raw, records: data}\n"
				 "  d: {kind: extract, source: http, connection: api, incremental: {cursor: u, lag: soon}}\n",
				 &dir, &diags);
	assert_string_equal(diags, "2:73: pagination style 'cursr' is not one of page, offset, cursor, next_url, link;"
				   " did you mean 'cursor'?\n"
				   "2:80: unknown key 'sise' in 'pagination'; did you mean 'size'?\n"
				   "3:60: 'limit' must be a count (0: no limit) or a template giving one\n"
				   "3:72: 'rate' must be a number of requests per second above 0\n"
				   "4:66: 'records' does not apply to format raw (a file fetched as it is)\n"
				   "5:53: 'incremental' needs 'param' (a name)\n"
				   "5:83: 'lag' must be a duration like 5m, 30s or 1h\n");
	unload(p, dir, diags);

	p = load("tasks:\n"
		 "  pull:\n"
		 "    kind: extract\n"
		 "    source: http\n"
		 "    connection: api\n"
		 "    path: /v1/{{ ds_nodash }}\n"
		 "    params: {day: '{{ ds }}'}\n"
		 "    records: data.items\n"
		 "    pagination: page\n"
		 "    limit: '{{ run_id }}0'\n"
		 "    incremental: {cursor: updated_at, param: since, lag: 5m}\n",
		 &dir, &diags);
	assert_string_equal(diags, "");
	json_t *x = build(p, "pull");
	char *lake = path_join(p->root, "lake");
	json_t *want = json_pack("{s:s, s:s, s:s, s:s, s:{s:s}, s:s, s:{s:s}, s:{s:s, s:s, s:f}, s:i, s:s, s:s, s:s}",
				 "kind", "extract", "source", "http", "conn", "api", "path", "/v1/20260304", "params",
				 "day", "2026-03-04", "records", "data.items", "pagination", "style", "page", "incremental",
				 "cursor", "updated_at", "param", "since", "lag", 300.0, "limit", 70, "format", "jsonl",
				 "name", "pull", "lake", lake);
	assert_true(json_equal(x, want));
	assert_string_equal(kind_spec_conn(x), "api");
	assert_int_equal(kind_spec_conn_type(x), CONN_HTTP);
	free(lake);
	json_decref(want);
	json_decref(x);
	unload(p, dir, diags);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registry),
		cmocka_unit_test(test_keys_from_tables),
		cmocka_unit_test(test_build_and_describe),
		cmocka_unit_test(test_backup_restore),
		cmocka_unit_test(test_extract),
	};
	return cmocka_run_group_tests_name("kinds", tests, NULL, NULL);
}
