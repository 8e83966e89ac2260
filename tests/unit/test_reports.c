/* Reports without a server: reports/NAME.yml read with every problem at
 * file:line:col, CSV quoting (RFC 4180), HTML escaping, the chart's data
 * (categories by series, sums), and the bars of eighth blocks. */
#include <string.h>

#include "core/project.h"
#include "core/report.h"
#include "core/reportout.h"
#include "core/reportstore.h"
#include "tests/unit/scratch.h"
#include "tests/unit/unit.h"

static bool has_diag(const struct diags *d, const char *file, int line, int col, const char *msg)
{
	for (size_t i = 0; i < d->n; i++)
		if (!strcmp(d->v[i].file, file) && d->v[i].line == line && d->v[i].col == col && strstr(d->v[i].msg, msg))
			return true;
	for (size_t i = 0; i < d->n; i++)
		print_message("# %s:%d:%d: %s\n", d->v[i].file, d->v[i].line, d->v[i].col, d->v[i].msg);
	return false;
}

static void test_load_valid(void **state)
{
	(void)state;
	char *root = unit_scratch("reports");
	unit_put(root, "reports/by_q.yml",
		 "title: By quarter\ncolumns: [d, q1, q2]\nchart: {type: stacked bar, x: d, y: [q1, q2]}\nmax_rows: 10\n");
	unit_put(root, "reports/by_q.sql", "select 'a' as d, 1 as q1, 2 as q2\n");
	unit_put(root, "reports/inline.yml", "sql: select 1 as n\nchart: {type: line, x: n, y: n}\n");
	struct report_set *s;
	struct diags d = {0};
	assert_int_equal(reports_load(NULL, root, "p", &s, &d), 0);
	assert_int_equal(s->n, 2);
	const struct report_def *r = reports_find(s, "by_q");
	assert_non_null(r);
	assert_string_equal(r->title, "By quarter");
	assert_string_equal(r->sql_file, "p/reports/by_q.sql");
	assert_non_null(strstr(r->sql, "as q2"));
	assert_int_equal(r->chart.type, CHART_STACKED);
	assert_int_equal(r->chart.y.n, 2);
	assert_int_equal(r->max_rows, 10);
	assert_int_equal(r->keep, REPORT_DEFAULT_KEEP);
	r = reports_find(s, "inline");
	assert_string_equal(r->title, "inline");
	assert_int_equal(r->max_rows, REPORT_DEFAULT_ROWS);
	assert_string_equal(reports_nearest(s, "inlin"), "inline");
	reports_free(s);
	diags_free(&d);
	unit_rm_tree(root);
}

static void test_load_errors(void **state)
{
	(void)state;
	char *root = unit_scratch("reports");
	unit_put(root, "reports/a.yml",
		 "columns: [x, y]\nsql: select 1\nchart:\n  type: pie\n  x: x\n  y: [y, z]\nmax_rows: 0\n");
	unit_put(root, "reports/b.yml", "sql: select 1\nmodel: m\n");
	unit_put(root, "reports/c.yml", "title: [unclosed\n");
	unit_put(root, "reports/d.yml", "sql_file: nosuch.sql\ncolumns: [a, a]\n");
	unit_put(root, "reports/e.yml", "chart: {type: bar, y: [a, b], series: s}\nsql: ';'\n");
	unit_put(root, "reports/f.yml", "sql: select '{{ ds }}', '{{ nosuch }}', '{{ params.x }}'\n");
	unit_put(root, "reports/g.sql", "select 1\n  , '{{ dss }}'\n");
	unit_put(root, "reports/g.yml", "title: g\n");
	struct report_set *s;
	struct diags d = {0};
	assert_int_equal(reports_load(NULL, root, ".", &s, &d), -1);
	assert_true(has_diag(&d, "reports/a.yml", 4, 9, "chart type 'pie': expected one of: bar, stacked bar, line"));
	assert_true(has_diag(&d, "reports/a.yml", 6, 10, "chart y 'z' is not one of the columns"));
	assert_true(has_diag(&d, "reports/a.yml", 7, 11, "'max_rows' must be between 1"));
	assert_true(has_diag(&d, "reports/b.yml", 1, 1, "give one of 'sql', 'sql_file' and 'model'"));
	assert_true(has_diag(&d, "reports/c.yml", 2, 1, "did not find expected"));
	assert_true(has_diag(&d, "reports/d.yml", 1, 11, "sql_file: reports/nosuch.sql: No such file or directory"));
	assert_true(has_diag(&d, "reports/d.yml", 2, 14, "column 'a' is listed twice in 'columns'"));
	assert_true(has_diag(&d, "reports/e.yml", 1, 1, "chart: missing required key 'x'"));
	assert_true(has_diag(&d, "reports/e.yml", 1, 23, "with 'series' the values are one column, got 2"));
	assert_true(has_diag(&d, "reports/e.yml", 2, 6, "the query is empty"));
	assert_true(has_diag(&d, "reports/f.yml", 1, 29, "unknown template variable 'nosuch'"));
	assert_true(has_diag(&d, "reports/g.sql", 2, 9, "unknown template variable 'dss'; did you mean 'ds'?"));
	for (size_t i = 0; i < d.n; i++)
		assert_null(strstr(d.v[i].msg, "params.x"));
	reports_free(s);
	diags_free(&d);
	unit_rm_tree(root);
}

static void test_csv(void **state)
{
	(void)state;
	json_t *cols = json_pack("[ss]", "id", "text");
	json_t *rows = json_pack("[[ss][ss][ss][ss][ss][sn][ss]]", "1", "plain", "2", "a,b", "3", "say \"hi\"", "4",
				 "two\nlines", "5", " pad", "6", "7", "naïve ☃");
	struct strbuf b = {0};
	report_csv(&b, cols, rows);
	assert_string_equal(b.s, "id,text\r\n1,plain\r\n2,\"a,b\"\r\n3,\"say \"\"hi\"\"\"\r\n4,\"two\nlines\"\r\n"
				 "5,\" pad\"\r\n6,\r\n7,naïve ☃\r\n");
	sb_free(&b);
	json_decref(cols);
	json_decref(rows);
}

static void test_html_escape(void **state)
{
	(void)state;
	struct strbuf b = {0};
	html_escape(&b, "<a href=\"x\">&'</a>");
	assert_string_equal(b.s, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
	sb_free(&b);
}

static void test_chart_data(void **state)
{
	(void)state;
	json_t *cols = json_pack("[sss]", "dept", "q1", "q2");
	json_t *rows = json_pack("[[sss][sss][sss][sns]]", "b", "1", "2", "a", "3", "x", "b", "4", "5", "c", "1");
	json_t *chart = json_pack("{s:s, s:s, s:[ss]}", "type", "stacked bar", "x", "dept", "y", "q1", "q2");
	struct chart_data c;
	struct err e = {0};
	assert_int_equal(chart_data_build(cols, rows, chart, &c, &e), 0);
	assert_int_equal(c.n_cats, 3);
	assert_string_equal(c.cats[0], "b"); /* in the rows' order */
	assert_string_equal(c.cats[1], "a");
	assert_int_equal(c.n_series, 2);
	assert_true(c.v[0] == 5 && c.v[1] == 7);  /* b: 1+4, 2+5 */
	assert_true(c.v[2] == 3 && c.v[3] == 0);  /* a: "x" counts 0 */
	assert_true(c.v[4] == 0 && c.v[5] == 1);  /* c: NULL counts 0 */
	assert_true(chart_data_max(&c) == 12);
	chart_data_free(&c);
	json_decref(chart);
	/* series from a column: one bar per value of it */
	chart = json_pack("{s:s, s:s, s:[s], s:s}", "type", "bar", "x", "dept", "y", "q1", "series", "q2");
	assert_int_equal(chart_data_build(cols, rows, chart, &c, &e), 0);
	assert_int_equal(c.n_series, 4);
	assert_true(chart_data_max(&c) == 4);
	chart_data_free(&c);
	json_decref(chart);
	chart = json_pack("{s:s, s:s, s:[s]}", "type", "bar", "x", "nosuch", "y", "q1");
	assert_int_equal(chart_data_build(cols, rows, chart, &c, &e), -1);
	assert_string_equal(e.msg, "chart: the result has no column 'nosuch'");
	json_decref(chart);
	json_decref(cols);
	json_decref(rows);
}

static void test_bars(void **state)
{
	(void)state;
	struct strbuf b = {0};
	assert_int_equal(chart_bar(&b, 10, 10, 4, true), 4);
	assert_string_equal(b.s, "████");
	sb_reset(&b);
	/* 3/16 of 4 cells: 6 eighths */
	assert_int_equal(chart_bar(&b, 3, 16, 4, true), 1);
	assert_string_equal(b.s, "▊");
	sb_reset(&b);
	assert_int_equal(chart_bar(&b, 9, 16, 4, true), 3);
	assert_string_equal(b.s, "██▎");
	sb_reset(&b);
	assert_int_equal(chart_bar(&b, 9, 16, 4, false), 2);
	assert_string_equal(b.s, "##");
	sb_reset(&b);
	assert_int_equal(chart_bar(&b, 0, 16, 4, true), 0);
	assert_int_equal(chart_bar(&b, 5, 0, 4, true), 0);
	assert_int_equal(chart_bar(&b, 50, 16, 4, false), 4);
	sb_free(&b);
}

static void test_html(void **state)
{
	(void)state;
	struct report_result r = {.report = xstrdup("r"), .title = xstrdup("A <title>"),
				  .created_at = xstrdup("2026-01-01T00:00:00Z"), .run_id = 3, .n_rows = 2, .total_rows = 9,
				  .truncated = true};
	r.columns = json_pack("[ss]", "k", "v");
	r.rows = json_pack("[[ss][ss]]", "x&y", "1", "z", "2.5");
	r.chart = json_pack("{s:s, s:s, s:[s]}", "type", "bar", "x", "k", "y", "v");
	struct strbuf b = {0};
	report_html(&b, &r);
	assert_non_null(strstr(b.s, "<title>A &lt;title&gt;</title>"));
	assert_non_null(strstr(b.s, "<svg "));
	assert_non_null(strstr(b.s, "<td>x&amp;y</td><td class=\"n\">1</td>"));
	assert_non_null(strstr(b.s, "2 rows of 9"));
	assert_null(strstr(b.s, "href"));
	assert_null(strstr(b.s, "src="));
	assert_null(strstr(b.s, "<script"));
	sb_free(&b);
	report_result_clear(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_valid), cmocka_unit_test(test_load_errors), cmocka_unit_test(test_csv),
		cmocka_unit_test(test_html_escape), cmocka_unit_test(test_chart_data), cmocka_unit_test(test_bars),
		cmocka_unit_test(test_html),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
