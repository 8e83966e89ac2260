/* Unit tests: template ({{ }} substitution, comments, error offsets). */
#include "tests/unit/unit.h"

#include <stdlib.h>
#include <string.h>

#include "core/template.h"

static json_t *ctx_new(void)
{
	json_error_t jerr;
	json_t *ctx = json_loads("{\"ds\": \"2024-03-01\","
				 " \"params\": {\"region\": \"eu-west\", \"limit\": 100, \"ratio\": 0.1,"
				 "   \"big\": 1e20, \"whole\": 2.0, \"neg\": -42, \"on\": true, \"off\": false,"
				 "   \"none\": null, \"list\": [1, 2]},"
				 " \"vars\": {\"a\": {\"b\": \"deep\"}}}",
				 0, &jerr);
	assert_non_null(ctx);
	return ctx;
}

/* Renders and checks the result; the template must succeed. */
static void render_ok(const json_t *ctx, const char *text, const char *want)
{
	char *out = NULL;
	struct tmpl_error e = { 0 };
	int rc = tmpl_render(text, ctx, &out, &e);
	if (rc != 0)
		fail_msg("render of '%s' failed at %zu: %s", text, e.offset, e.msg);
	assert_string_equal(out, want);
	free(out);
}

/* Renders and checks the error message and offset; the template must fail. */
static void render_err(const json_t *ctx, const char *text, size_t off, const char *msg)
{
	char *out = NULL;
	struct tmpl_error e = { 0 };
	assert_int_equal(tmpl_render(text, ctx, &out, &e), -1);
	assert_null(out);
	assert_string_equal(e.msg, msg);
	assert_int_equal(e.offset, off);
}

static void test_plain_text(void **state)
{
	(void)state;
	json_t *ctx = ctx_new();
	render_ok(ctx, "", "");
	render_ok(ctx, "select 1", "select 1");
	/* single braces and lone closers are plain text */
	render_ok(ctx, "{a} }} %} #} {", "{a} }} %} #} {");
	json_decref(ctx);
}

static void test_substitution(void **state)
{
	(void)state;
	json_t *ctx = ctx_new();
	render_ok(ctx, "{{ds}}", "2024-03-01");
	render_ok(ctx, "where d = '{{ ds }}' and r = '{{  params.region\t}}'",
		  "where d = '2024-03-01' and r = 'eu-west'");
	render_ok(ctx, "{{ds}}{{ds}}", "2024-03-012024-03-01");
	render_ok(ctx, "{{\n vars.a.b \n}}!", "deep!");
	json_decref(ctx);
}

static void test_scalars(void **state)
{
	(void)state;
	json_t *ctx = ctx_new();
	render_ok(ctx, "{{ params.limit }}", "100");
	render_ok(ctx, "{{ params.neg }}", "-42");
	render_ok(ctx, "{{ params.ratio }}", "0.1");
	render_ok(ctx, "{{ params.whole }}", "2.0");
	render_ok(ctx, "{{ params.big }}", "1e20");
	render_ok(ctx, "[{{ params.on }}|{{ params.off }}]", "[true|false]");
	render_ok(ctx, "[{{ params.none }}]", "[]");
	json_decref(ctx);
}

static void test_comments(void **state)
{
	(void)state;
	json_t *ctx = ctx_new();
	render_ok(ctx, "a{# note #}b", "ab");
	/* what is inside a comment is not parsed */
	render_ok(ctx, "a{# {{ nope }} {% if %} #}b{{ ds }}", "ab2024-03-01");
	render_err(ctx, "x {# never closed", 2, "unclosed '{#'");
	json_decref(ctx);
}

static void test_unknown_variable(void **state)
{
	(void)state;
	json_t *ctx = ctx_new();
	render_err(ctx, "select {{ params.regio }}", 10,
		   "unknown template variable 'params.regio'; did you mean 'params.region'?");
	render_err(ctx, "{{dss}}", 2, "unknown template variable 'dss'; did you mean 'ds'?");
	render_err(ctx, "ok {{ nothing_like_it }}", 6, "unknown template variable 'nothing_like_it'");
	/* the report stops at the first missing level */
	render_err(ctx, "{{ vars.x.y }}", 3, "unknown template variable 'vars.x'; did you mean 'vars.a'?");
	render_err(ctx, "{{ vars.a.zzzzzz }}", 3, "unknown template variable 'vars.a.zzzzzz'");
	render_err(ctx, "{{ ds.year }}", 3, "'ds' is a string; it has no field 'year'");
	json_decref(ctx);
}

static void test_object_value(void **state)
{
	(void)state;
	json_t *ctx = ctx_new();
	render_err(ctx, "a {{ params }}", 5, "'params' is an object; use a field of it");
	render_err(ctx, "{{ vars.a }}", 3, "'vars.a' is an object; use a field of it");
	render_err(ctx, "{{ params.list }}", 3,
		   "'params.list' is an array; only strings, numbers and booleans can be inserted");
	json_decref(ctx);
}

static void test_unclosed(void **state)
{
	(void)state;
	json_t *ctx = ctx_new();
	render_err(ctx, "abc {{ ds", 4, "unclosed '{{'");
	render_err(ctx, "{{ ds }} and {{ ds }", 13, "unclosed '{{'");
	json_decref(ctx);
}

static void test_unsupported(void **state)
{
	(void)state;
	json_t *ctx = ctx_new();
	render_err(ctx, "select * from {{ ref('orders') }}", 17, "unsupported template expression 'ref('orders')'");
	render_err(ctx, "{{ ds | upper }}", 3, "unsupported template expression 'ds | upper'");
	render_err(ctx, "{{params.limit+1}}", 2, "unsupported template expression 'params.limit+1'");
	render_err(ctx, "{{ 'lit' }}", 3, "unsupported template expression ''lit''");
	render_err(ctx, "{{ params. }}", 3, "unsupported template expression 'params.'");
	render_err(ctx, "x {{ }}", 2, "empty template expression '{{ }}'");
	render_err(ctx, "a\n{% if x %}b{% endif %}", 2, "unsupported template tag");
	/* errors are reported at the first bad spot, after good substitutions */
	render_err(ctx, "{{ ds }}{{ 1 }}", 11, "unsupported template expression '1'");
	json_decref(ctx);
}

static void test_empty_ctx(void **state)
{
	(void)state;
	json_t *empty = json_object();
	render_ok(empty, "no tags", "no tags");
	render_err(empty, "{{ ds }}", 3, "unknown template variable 'ds'");
	json_decref(empty);
	render_ok(NULL, "a{# c #}b", "ab");
	render_err(NULL, "{{ ds }}", 3, "unknown template variable 'ds'");
}

static void test_long_expression_quoted_short(void **state)
{
	(void)state;
	json_t *ctx = ctx_new();
	char text[600];
	memset(text, 'x', sizeof text);
	memcpy(text, "{{ f(", 5);
	memcpy(text + sizeof text - 4, " }}", 4);
	char *out = NULL;
	struct tmpl_error e = { 0 };
	assert_int_equal(tmpl_render(text, ctx, &out, &e), -1);
	assert_int_equal(e.offset, 3);
	assert_true(strlen(e.msg) < sizeof e.msg - 1);
	assert_non_null(strstr(e.msg, "...'"));
	json_decref(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_text),
		cmocka_unit_test(test_substitution),
		cmocka_unit_test(test_scalars),
		cmocka_unit_test(test_comments),
		cmocka_unit_test(test_unknown_variable),
		cmocka_unit_test(test_object_value),
		cmocka_unit_test(test_unclosed),
		cmocka_unit_test(test_unsupported),
		cmocka_unit_test(test_empty_ctx),
		cmocka_unit_test(test_long_expression_quoted_short),
	};
	return cmocka_run_group_tests_name("template", tests, NULL, NULL);
}
