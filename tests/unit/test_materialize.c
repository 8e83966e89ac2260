/* Unit tests: contract types as format_type() writes them, the contract's
 * comparison and its message, a spec read back into a job, and the plans
 * `sluice compile` prints for each materialization. */
#include "tests/unit/unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "core/models/materialize.h"

static void norm_is(const char *in, const char *want)
{
	struct strbuf b = {0};
	mat_type_norm(in, &b);
	if (strcmp(b.s ? b.s : "", want))
		fail_msg("mat_type_norm(\"%s\") = \"%s\", want \"%s\"", in, b.s ? b.s : "", want);
	sb_free(&b);
}

static void test_type_norm(void **state)
{
	(void)state;
	norm_is("int", "integer");
	norm_is("INT4", "integer");
	norm_is("integer", "integer");
	norm_is("bigint", "bigint");
	norm_is("varchar", "character varying");
	norm_is("varchar(20)", "character varying(20)");
	norm_is("Character  Varying ( 20 )", "character varying(20)");
	norm_is("numeric(10, 2)", "numeric(10,2)");
	norm_is("decimal(10,2)", "numeric(10,2)");
	norm_is("timestamptz", "timestamp with time zone");
	norm_is("timestamp", "timestamp without time zone");
	norm_is("timestamp(3)", "timestamp(3) without time zone");
	norm_is("timestamp(3) with time zone", "timestamp(3) with time zone");
	norm_is("timestamp(3) without time zone", "timestamp(3) without time zone");
	norm_is("time(0) with time zone", "time(0) with time zone");
	norm_is("float8", "double precision");
	norm_is("bool", "boolean");
	norm_is("int[]", "integer[]");
	norm_is("char(3)", "character(3)");
	norm_is("text", "text");
	norm_is("jsonb", "jsonb");
}

static void test_type_meets(void **state)
{
	(void)state;
	assert_true(mat_type_meets("int", "integer"));
	assert_false(mat_type_meets("int", "bigint"));
	/* no modifier in the contract: any length or precision */
	assert_true(mat_type_meets("varchar", "character varying(20)"));
	assert_true(mat_type_meets("numeric", "numeric(10,2)"));
	assert_true(mat_type_meets("timestamp", "timestamp(3) without time zone"));
	/* a modifier: that one */
	assert_true(mat_type_meets("numeric(10, 2)", "numeric(10,2)"));
	assert_false(mat_type_meets("numeric(10,2)", "numeric"));
	assert_false(mat_type_meets("varchar(10)", "character varying(20)"));
	assert_false(mat_type_meets("timestamptz", "timestamp without time zone"));
	assert_false(mat_type_meets("varchar", "text"));
}

static void test_contract_diff(void **state)
{
	(void)state;
	const struct mat_col want[] = {{"id", "int"}, {"name", "text"}, {"amount", "numeric(10,2)"}, {"note", NULL}};
	const struct mat_col same[] = {{"note", "text"}, {"id", "integer"}, {"amount", "numeric(10,2)"}, {"name", "text"}};
	const struct mat_col got[] = {{"id", "bigint"}, {"amount", "numeric"}, {"note", "integer"}, {"extra", "text"}};
	struct strbuf m = {0};
	assert_int_equal(mat_contract_diff(want, 4, same, 4, &m), 0);
	assert_int_equal(m.len, 0);
	assert_int_equal(mat_contract_diff(want, 4, got, 4, &m), -1);
	assert_string_equal(m.s, "column 'id': expected int, got bigint; column 'name' is missing (expected text); "
				 "column 'amount': expected numeric(10,2), got numeric; "
				 "column 'extra' (text) is extra: not in the model's columns");
	sb_free(&m);
}

static json_t *spec_of(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	assert_non_null(j);
	return j;
}

static void test_job_from_spec(void **state)
{
	(void)state;
	json_t *s = spec_of("{\"kind\": \"model\", \"model\": \"m\", \"path\": \"models/m.sql\", \"target\": \"dev\","
			    " \"schema\": \"s\", \"materialized\": \"snapshot\", \"sql\": \"select 1\","
			    " \"unique_key\": [\"a\", \"b\"], \"columns\": [{\"name\": \"a\", \"type\": \"int\"}],"
			    " \"snapshot\": {\"strategy\": \"check\", \"check_cols\": \"all\", \"hard_deletes\": \"new_record\","
			    " \"valid_to_current\": null}}");
	struct mat_job j;
	void *arrays;
	struct err e = {0};
	assert_int_equal(mat_job_from_spec(s, &j, &arrays, &e), 0);
	assert_string_equal(j.model, "m");
	assert_int_equal(j.mat, MAT_SNAPSHOT);
	assert_int_equal(j.n_key, 2);
	assert_string_equal(j.key[1], "b");
	assert_true(j.check_all);
	assert_int_equal(j.hard_deletes, HD_NEW_RECORD);
	assert_null(j.valid_to_current);
	assert_int_equal(j.n_contract, 1);
	assert_string_equal(j.contract[0].type, "int");
	mat_job_arrays_free(arrays);
	json_decref(s);

	s = spec_of("{\"model\": \"m\", \"schema\": \"s\", \"materialized\": \"incremental\", \"sql\": \"select 1\","
		    " \"sql_incremental\": \"select 2\", \"incremental_strategy\": \"merge\"}");
	assert_int_equal(mat_job_from_spec(s, &j, &arrays, &e), -1);
	assert_string_equal(e.msg, "model: incremental strategy merge needs a unique_key");
	mat_job_arrays_free(arrays);
	json_decref(s);
}

static char *plan(const struct mat_job *j, bool exists)
{
	struct strbuf b = {0};
	mat_plan(j, exists, &b);
	return sb_steal(&b);
}

static void test_plans(void **state)
{
	(void)state;
	struct mat_job j = {.model = "v", .target = "dev", .schema = "s", .name = "v", .mat = MAT_VIEW,
			    .sql = "select 1 as x;\n"};
	char *p = plan(&j, false);
	assert_string_equal(p, "-- model v: view into \"s\".\"v\", target dev, as on a run where it does not exist yet\n"
			       "BEGIN;\n"
			       "SELECT pg_advisory_xact_lock(hashtextextended('sluice.model:\"s\".\"v\"', 0));\n"
			       "CREATE SCHEMA IF NOT EXISTS \"s\";\n"
			       "CREATE VIEW \"s\".\"v\" AS\nselect 1 as x\n;\n"
			       "COMMIT;\n");
	free(p);
	j.mat = MAT_TABLE;
	p = plan(&j, true);
	assert_non_null(strstr(p, "CREATE TABLE \"s\".\"v__sluice_new\" AS\nselect 1 as x\n;\n"
				  "LOCK TABLE \"s\".\"v\" IN ACCESS EXCLUSIVE MODE;\n"
				  "ALTER TABLE \"s\".\"v\" RENAME TO \"v__sluice_old\";\n"
				  "ALTER TABLE \"s\".\"v__sluice_new\" RENAME TO \"v\";\n"));
	assert_non_null(strstr(p, "DROP TABLE \"s\".\"v__sluice_old\";\nCOMMIT;\n"));
	free(p);
	const char *key[] = {"id"};
	const struct mat_col cols[] = {{"id", "int"}, {"v", "text"}};
	j.mat = MAT_INCREMENTAL;
	j.strategy = INC_DELETE_INSERT;
	j.key = key;
	j.n_key = 1;
	j.contract = cols;
	j.n_contract = 2;
	j.sql_incremental = "select 2 as id, 'b' as v";
	p = plan(&j, true);
	assert_non_null(strstr(p, "DELETE FROM \"s\".\"v\" AS t USING pg_temp.sluice_batch AS b WHERE t.\"id\" = b.\"id\";\n"
				  "INSERT INTO \"s\".\"v\" (\"id\", \"v\") SELECT \"id\", \"v\" FROM pg_temp.sluice_batch;\n"));
	assert_non_null(strstr(p, "select 2 as id, 'b' as v"));
	free(p);
	/* a long name keeps its side names within 63 bytes */
	char name[64];
	memset(name, 'n', 63);
	name[63] = '\0';
	j.mat = MAT_TABLE;
	j.name = j.model = name;
	p = plan(&j, true);
	const char *side = strstr(p, "RENAME TO \"");
	assert_non_null(side);
	side += strlen("RENAME TO \"");
	assert_int_equal(strcspn(side, "\""), 63);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_type_norm),
		cmocka_unit_test(test_type_meets),
		cmocka_unit_test(test_contract_diff),
		cmocka_unit_test(test_job_from_spec),
		cmocka_unit_test(test_plans),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
