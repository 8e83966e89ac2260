/* Unit tests: the spec a check task stores (core/models/checksql.h): the
 * SQL of each check kind with identifiers quoted and values as parameters,
 * under a target; reconcile read from YAML; the statements of a
 * reconciliation with their parameters numbered; what a model's and a
 * check's runs read (the spec's "reads", the kinds' reads op). */
#include "tests/unit/unit.h"
#include "tests/unit/scratch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "core/models/check.h"
#include "core/models/checksql.h"
#include "core/models/model.h"
#include "core/kinds/kind.h"
#include "core/project.h"

struct proj {
	char *dir;
	struct project *p;
	struct model_set *s;
	size_t n_errors;
	char *first_error;
};

static void proj_load(struct proj *x)
{
	struct diags d = {0};
	assert_int_equal(project_load(x->dir, &x->p, &d), 0);
	models_load(x->p, x->dir, &x->s, &d);
	x->n_errors = d.n;
	x->first_error = d.n ? xstrdup(d.v[0].msg) : NULL;
	diags_free(&d);
}

static void proj_free(struct proj *x)
{
	models_free(x->s);
	project_free(x->p);
	free(x->first_error);
	unit_rm_tree(x->dir);
}

static int find(const struct model_set *s, const char *name)
{
	for (size_t i = 0; i < s->n_checks; i++)
		if (!strcmp(s->checks[i].name, name))
			return (int)i;
	fail_msg("no check %s", name);
	return -1;
}

static json_t *spec_of(struct proj *x, const char *check, const char *target)
{
	json_t *o = json_object();
	struct err e = {0};
	assert_int_equal(check_spec_build(x->s, x->p, project_target(x->p, target), find(x->s, check), o, &e), 0);
	return o;
}

static const char *jstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void test_specs(void **state)
{
	(void)state;
	struct proj x = {.dir = unit_scratch("checksql")};
	unit_put(x.dir, "sluice.yml",
		 "name: t\ntarget: dev\ntargets:\n  dev: {connection: wh, database: dev, schema: \"dev_{{ model.folder }}\"}\n"
		 "  pro: {connection: wh, schema: \"{{ model.folder }}\"}\n");
	unit_put(x.dir, "models/sales/orders.sql", "select 1 as id");
	unit_put(x.dir, "models/sales/people.sql", "select 1 as id");
	unit_put(x.dir, "models/sales/orders.yml",
		 "models:\n"
		 "  - name: orders\n"
		 "    config: {unique_key: [id, line]}\n"
		 "    columns:\n"
		 "      - name: 'st\"atus'\n"
		 "        tests:\n"
		 "          - accepted_values: {values: [a, 'b\"c', 'd,e'], where: \"id > 0\"}\n"
		 "      - name: person\n"
		 "        tests:\n"
		 "          - relationships: {to: \"ref('people')\", field: id}\n"
		 "    tests:\n"
		 "      - row_count: {min: 2, max: 9}\n"
		 "      - reconcile: {connection: old, table: legacy.orders, key: [id, line]}\n"
		 "  - name: people\n"
		 "    tests:\n"
		 "      - freshness: {column: ts, error_after: 2h, severity: warn}\n");
	unit_put(x.dir, "tests/neg.sql", "select * from {{ ref('orders') }} where id < 0;\n\n");
	proj_load(&x);
	assert_int_equal(x.n_errors, 0);

	json_t *o = spec_of(&x, "orders.st\"atus.accepted_values", NULL);
	assert_string_equal(jstr(o, "type"), "accepted_values");
	assert_string_equal(jstr(o, "relation"), "\"dev_sales\".\"orders\"");
	assert_string_equal(jstr(o, "conn"), "wh");
	assert_string_equal(jstr(o, "database"), "dev");
	assert_string_equal(jstr(o, "judge"), "rows");
	assert_string_equal(jstr(o, "sql"),
			    "SELECT (SELECT to_jsonb(x) FROM (SELECT t.\"id\", t.\"line\") AS x) AS k, to_jsonb(t) AS r"
			    " FROM \"dev_sales\".\"orders\" AS t WHERE (id > 0) AND (NOT (t.\"st\"\"atus\" = ANY ($1)))");
	assert_string_equal(json_string_value(json_array_get(json_object_get(o, "params"), 0)), "{\"a\",\"b\\\"c\",\"d,e\"}");
	assert_string_equal(jstr(o, "total_sql"), "SELECT count(*) FROM \"dev_sales\".\"orders\" AS t WHERE (id > 0)");
	json_decref(o);

	/* another target: another schema, its own database (none) */
	o = spec_of(&x, "orders.person.relationships", "pro");
	assert_true(strstr(jstr(o, "sql"), "NOT EXISTS (SELECT 1 FROM \"sales\".\"people\" AS p WHERE p.\"id\" = t.\"person\")"));
	assert_true(json_is_null(json_object_get(o, "database")));
	assert_string_equal(jstr(o, "target"), "pro");
	json_decref(o);

	o = spec_of(&x, "orders.row_count", NULL);
	assert_true(strstr(jstr(o, "sql"), "WHERE x.row_count < $1::bigint OR x.row_count > $2::bigint"));
	assert_string_equal(json_string_value(json_array_get(json_object_get(o, "params"), 1)), "9");
	assert_null(json_object_get(o, "total_sql"));
	json_decref(o);

	o = spec_of(&x, "people.freshness", NULL);
	assert_string_equal(jstr(o, "judge"), "freshness");
	assert_string_equal(jstr(o, "severity"), "warn");
	assert_true(json_real_value(json_object_get(o, "error_after")) == 7200);
	json_decref(o);

	o = spec_of(&x, "neg", NULL);
	assert_string_equal(jstr(o, "sql"), "SELECT NULL::jsonb AS k, to_jsonb(u) AS r FROM (select * from "
					    "\"dev_sales\".\"orders\" where id < 0\n) AS u");
	json_decref(o);

	o = spec_of(&x, "orders.reconcile", NULL);
	json_t *rc = json_object_get(o, "reconcile");
	assert_string_equal(jstr(o, "judge"), "reconcile");
	assert_string_equal(jstr(rc, "connection"), "old");
	assert_string_equal(jstr(rc, "relation"), "\"legacy\".\"orders\"");
	assert_int_equal(json_array_size(json_object_get(rc, "key")), 2);
	assert_int_equal(json_integer_value(json_object_get(rc, "ranges")), RECONCILE_DEFAULT_RANGES);
	assert_int_equal(json_integer_value(json_object_get(rc, "leaf")), RECONCILE_DEFAULT_LEAF);
	json_decref(o);
	proj_free(&x);
}

static void test_reconcile_errors(void **state)
{
	(void)state;
	struct proj x = {.dir = unit_scratch("checksql")};
	unit_put(x.dir, "sluice.yml", "name: t\n");
	unit_put(x.dir, "models/a.sql", "select 1 as id");
	unit_put(x.dir, "models/a.yml",
		 "models:\n  - name: a\n    tests:\n      - reconcile: {connection: c, table: 'x.y.z', key: id, ranges: 1}\n");
	proj_load(&x);
	assert_int_equal(x.n_errors, 2);
	assert_non_null(strstr(x.first_error, "'table' must be a table or schema.table"));
	proj_free(&x);
}

static void test_reconcile_sql(void **state)
{
	(void)state;
	const char *key[] = {"a", "b"};
	const char *cols[] = {"v"};
	struct rc_side q = {"\"s\".\"t\"", key, 2, cols, 1, NULL};
	struct strbuf b = {0};
	checksql_rc_parts(&b, &q, true, true, 2);
	assert_string_equal(b.s,
			    "SELECT x.part, count(*), md5(string_agg(x.h, '' ORDER BY x.h COLLATE \"C\")) FROM (SELECT"
			    " CASE WHEN (t.\"a\", t.\"b\") < ($5, $6) THEN 0 WHEN (t.\"a\", t.\"b\") < ($7, $8) THEN 1"
			    " ELSE 2 END AS part, md5(ROW(t.\"a\", t.\"b\", t.\"v\")::text) AS h FROM \"s\".\"t\" AS t"
			    " WHERE t.\"a\" IS NOT NULL AND t.\"b\" IS NOT NULL AND (t.\"a\", t.\"b\") >= ($1, $2)"
			    " AND (t.\"a\", t.\"b\") < ($3, $4)) AS x GROUP BY x.part ORDER BY x.part");
	sb_reset(&b);
	q.n_key = 1;
	q.where = "v > 0";
	checksql_rc_bounds(&b, &q, false, true);
	assert_string_equal(b.s, "SELECT x.\"a\"::text FROM (SELECT t.\"a\", row_number() OVER (ORDER BY t.\"a\") AS sluice_rn"
				 " FROM \"s\".\"t\" AS t WHERE t.\"a\" IS NOT NULL AND t.\"a\" < $1 AND (v > 0)) AS x"
				 " WHERE x.sluice_rn > 1 AND (x.sluice_rn - 1) % $2::bigint = 0 ORDER BY x.sluice_rn");
	sb_reset(&b);
	checksql_relation(&b, "we\"ird.t");
	assert_string_equal(b.s, "\"we\"\"ird\".\"t\"");
	sb_free(&b);
}

/* What kind_spec_reads hands to its callback, one "conn/db:schema.table" a line. */
static void read_line(void *arg, const struct kind_read *r)
{
	sb_addf(arg, "%s/%s:%s.%s\n", r->conn, r->database ? r->database : "-", r->schema, r->table);
}

static void test_reads(void **state)
{
	(void)state;
	struct proj x = {.dir = unit_scratch("checksql_reads")};
	unit_put(x.dir, "sluice.yml",
		 "name: t\ntarget: dev\ntargets:\n  dev: {connection: wh, database: dev, schema: \"dev_{{ model.folder }}\"}\n");
	unit_put(x.dir, "models/sources.yml",
		 "sources:\n  - name: lake\n    schema: raw\n    tables: [{name: tx, identifier: transactions}]\n"
		 "  - name: old\n    connection: legacy\n    tables: [{name: people}]\n");
	unit_put(x.dir, "models/sales/a.sql", "select * from {{ source('lake', 'tx') }}");
	unit_put(x.dir, "models/sales/b.sql",
		 "select * from {{ ref('a') }} join {{ ref('a') }} using (id) join {{ source('old', 'people') }} using (id)"
		 " join {{ source('lake', 'tx') }} using (id)");
	unit_put(x.dir, "models/sales/b.yml", "models:\n  - name: b\n    columns:\n      - name: id\n        tests: [not_null]\n");
	proj_load(&x);
	assert_int_equal(x.n_errors, 0);

	/* a model: each model it refs and each source table, once, as placed */
	json_t *m = json_pack("{s:s}", "kind", "model");
	models_reads_of(x.s, x.p, project_target(x.p, NULL), models_find(x.s, "b"), m);
	struct strbuf b = {0};
	assert_int_equal(kind_spec_reads(m, read_line, &b), 3);
	assert_string_equal(b.s, "wh/dev:dev_sales.a\nlegacy/-:old.people\nwh/dev:raw.transactions\n");
	sb_free(&b);
	json_decref(m);

	/* a check: the model it checks */
	json_t *c = spec_of(&x, "b.id.not_null", NULL);
	json_object_set_new(c, "kind", json_string("check"));
	assert_int_equal(kind_spec_reads(c, read_line, &b), 1);
	assert_string_equal(b.s, "wh/dev:dev_sales.b\n");
	sb_free(&b);
	json_decref(c);

	/* a load reads a file, a sql task is not parsed: nothing known */
	json_t *l = json_pack("{s:s, s:[{s:s,s:s}]}", "kind", "load", "reads", "schema", "s", "table", "t");
	assert_int_equal(kind_spec_reads(l, read_line, &b), 0);
	json_decref(l);
	json_t *q = json_pack("{s:s}", "kind", "sql");
	assert_int_equal(kind_spec_reads(q, read_line, &b), 0);
	assert_int_equal(kind_spec_reads(NULL, read_line, &b), 0);
	json_decref(q);
	assert_null(b.s);
	proj_free(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_specs),
		cmocka_unit_test(test_reconcile_errors),
		cmocka_unit_test(test_reconcile_sql),
		cmocka_unit_test(test_reads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
