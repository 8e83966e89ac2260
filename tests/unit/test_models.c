/* Unit tests: the model template language (rendering, config(), every error
 * at line:col), the ref graph (cycles, nearest names, order), dbt selectors,
 * targets' schema rules and checks read into their structs. */
#include "tests/unit/unit.h"
#include "tests/unit/scratch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "core/models/check.h"
#include "core/models/model.h"
#include "core/project.h"

/* ---- templates ------------------------------------------------------------------ */

struct errs {
	const char *text;
	struct strbuf b;
};

static void collect(void *arg, const struct mt_error *e)
{
	struct errs *x = arg;
	int l, c;
	mtmpl_loc(x->text, e->off, &l, &c);
	sb_addf(&x->b, "%d:%d: %s\n", l, c, e->msg);
}

/* Every parse error of text, one "line:col: msg" per line ("" if none). */
static char *parse_errors(const char *text, enum mt_mode mode)
{
	struct errs x = {text, {0}};
	sb_adds(&x.b, "");
	struct mtmpl *t;
	int rc = mtmpl_parse(text, strlen(text), mode, collect, &x, &t);
	mtmpl_free(t);
	assert_int_equal(rc, x.b.len ? -1 : 0);
	return sb_steal(&x.b);
}

static void expect_errors(const char *text, enum mt_mode mode, const char *want)
{
	char *got = parse_errors(text, mode);
	assert_string_equal(got, want);
	free(got);
}

static int test_relation(void *arg, enum mt_rel what, const char *a, const char *b, struct strbuf *out, char *msg,
			 size_t cap)
{
	(void)arg;
	if (what == MT_REL_THIS)
		sb_adds(out, "\"s\".\"me\"");
	else if (what == MT_REL_SOURCE)
		sb_addf(out, "\"%s\".\"%s\"", a, b);
	else if (!strcmp(a, "missing"))
		return snprintf(msg, cap, "no model '%s'", a), -1;
	else
		sb_addf(out, "\"s\".\"%s\"", a);
	return 0;
}

static const char *fake_env(const char *name)
{
	return !strcmp(name, "WHO") ? "alice" : NULL;
}

static char *render(const char *text, bool incremental, const char *target)
{
	struct mtmpl *t;
	char *errs = parse_errors(text, MT_MODEL);
	assert_string_equal(errs, "");
	free(errs);
	assert_int_equal(mtmpl_parse(text, strlen(text), MT_MODEL, NULL, NULL, &t), 0);
	json_t *vars = json_pack("{s:s, s:i, s:b}", "region", "eu", "n", 3, "on", 1);
	struct mt_env env = {
		.is_incremental = incremental, .target_name = target, .target_schema = "s", .vars = vars,
		.model_name = "me", .relation = test_relation, .getenv = fake_env,
	};
	struct strbuf b = {0};
	struct mt_error e = {0};
	int rc = mtmpl_render(t, &env, &b, &e);
	if (rc)
		fail_msg("render failed at %zu: %s", e.off, e.msg);
	mtmpl_free(t);
	json_decref(vars);
	return sb_steal(&b);
}

static void expect_render(const char *text, bool incremental, const char *want)
{
	char *got = render(text, incremental, "dev");
	assert_string_equal(got, want);
	free(got);
}

static void test_render_names(void **state)
{
	(void)state;
	expect_render("select 1", false, "select 1");
	expect_render("select * from {{ ref('orders') }} join {{source('lake', \"tx\")}}", false,
		      "select * from \"s\".\"orders\" join \"lake\".\"tx\"");
	expect_render("{{ this }} {{ this.schema }}.{{ this.name }} {{ target.name }}/{{ target.schema }}", false,
		      "\"s\".\"me\" s.me dev/s");
	expect_render("{{ var('region') }} {{ var('n') }} {{ var('on') }} {{ var('x', 'dflt') }} {{ var('y', 2.5) }}", false,
		      "eu 3 true dflt 2.5");
	expect_render("{{ env_var('WHO') }}_{{ env_var('NOPE', 'x') }}", false, "alice_x");
	expect_render("a{# a comment {{ ref('x') }} #}b", false, "ab");
	expect_render("{ not a tag } {\"json\": 1}", false, "{ not a tag } {\"json\": 1}");
}

static void test_render_if(void **state)
{
	(void)state;
	const char *t = "select 1\n{% if is_incremental() %}where t > (select max(t) from {{ this }}){% else %}-- full{% endif %}";
	expect_render(t, true, "select 1\nwhere t > (select max(t) from \"s\".\"me\")");
	expect_render(t, false, "select 1\n-- full");
	expect_render("{% if not is_incremental() %}full{% endif %}", false, "full");
	expect_render("{% if target.name == 'pro' %}P{% elif target.name == 'dev' %}D{% else %}?{% endif %}", false, "D");
	expect_render("{% if target.name != 'dev' or var('n') == 3 and not false %}y{% endif %}", false, "y");
	expect_render("{% if (var('region') == 'eu') and is_incremental() %}y{% else %}n{% endif %}", true, "y");
	expect_render("{% if is_incremental() %}{% if var('on') %}both{% endif %}{% endif %}", true, "both");
	/* whitespace control as in Jinja */
	expect_render("a\n  {%- if true -%}\n  b\n  {%- endif %}\nc", false, "ab\nc");
	expect_render("x  {{- 'y' -}}  z", false, "xyz");
}

static void test_render_errors(void **state)
{
	(void)state;
	expect_errors("select 1\nfrom {{ refs('a') }}", MT_MODEL, "2:9: unknown function 'refs' (did you mean ref?)\n");
	expect_errors("select 1\n\n{% if is_incremental() %}\nwhere x", MT_MODEL,
		      "4:8: unclosed {% if %} opened at 3:1 (no {% endif %})\n");
	expect_errors("{{ targt.name }} {{ target.nme }} {{ target }}", MT_MODEL,
		      "1:4: unknown name 'targt' (did you mean target?)\n"
		      "1:21: unknown field 'target.nme' (did you mean target.name?)\n"
		      "1:38: 'target' is an object: use target.name or target.schema\n");
	expect_errors("{% endif %} {% else %}", MT_MODEL,
		      "1:1: {% endif %} without {% if %}\n1:13: {% else %} without {% if %}\n");
	expect_errors("{% for x in y %}{% endfor %}", MT_MODEL,
		      "1:4: unsupported tag '{% for %}': templates have if, elif, else and endif\n"
		      "1:20: unsupported tag '{% endfor %}': templates have if, elif, else and endif\n");
	expect_errors("{% iff x %}", MT_MODEL, "1:4: unknown tag '{% iff %}' (did you mean if?)\n");
	expect_errors("a {{ ref('x')", MT_MODEL, "1:3: unclosed '{{' (no '}}' after it)\n");
	expect_errors("a {# x", MT_MODEL, "1:3: unclosed '{#' (no '#}' after it)\n");
	expect_errors("{{ }}", MT_MODEL, "1:1: empty tag '{{ }}'\n");
	expect_errors("{{ this | upper }}", MT_MODEL, "1:9: filters ('|') are not supported\n");
	expect_errors("{{ ref('a', 'b') }} {{ ref(x) }} {{ source('a') }}", MT_MODEL,
		      "1:4: ref() takes one model name (packages are not supported): write ref('model')\n"
		      "1:28: unknown name 'x'\n"
		      "1:24: ref() takes one quoted model name: write ref('model')\n"
		      "1:37: source() takes a quoted source and table name: write source('source', 'table')\n");
	expect_errors("{{ is_incremental() }}", MT_MODEL,
		      "1:4: is_incremental() is a condition: use it as {% if is_incremental() %}\n");
	expect_errors("{% if x %}{{ config(a=1) }}{% endif %}", MT_MODEL,
		      "1:7: unknown name 'x'\n"
		      "1:14: config() must not be inside {% if %}: it is read before the model is rendered\n");
	expect_errors("{{ config(a=1) }}\n{{ config(b=2) }}", MT_MODEL, "2:4: a second config() (the first is at 1:4)\n");
	expect_errors("{{ config('table') }}", MT_MODEL,
		      "1:11: config() takes keyword arguments only, as config(materialized='table')\n");
	expect_errors("{{ this }} {{ ref('a') }}", MT_TEST, "1:4: 'this' is not available in a test\n");
	expect_errors("{{ ref('a') }} {{ model.folder }}", MT_RULE,
		      "1:4: ref() is not available in a schema rule\n");
	expect_errors("{{ env('USER') }}", MT_RULE, "1:4: unknown function 'env' (did you mean env_var?)\n");
	expect_errors("{{ 'unterminated }}\nx", MT_MODEL, "1:4: unterminated string (no closing quote)\n");
	/* a hostile nesting stops at its limit instead of the stack */
	struct strbuf deep = {0};
	for (int i = 0; i < 200; i++)
		sb_adds(&deep, "{% if true %}");
	char *got = parse_errors(deep.s, MT_MODEL);
	assert_non_null(strstr(got, "{% if %} nested deeper than 64 levels"));
	free(got);
	sb_free(&deep);
}

static void test_config_call(void **state)
{
	(void)state;
	const char *text = "{{ config(materialized='incremental', unique_key=['a', \"b\"], full=false, n=3, r=0.5,\n"
			   "  d={'k': [1, True, none]}) }}\nselect 1";
	struct mtmpl *t;
	assert_int_equal(mtmpl_parse(text, strlen(text), MT_MODEL, NULL, NULL, &t), 0);
	char *j = json_dumps(mtmpl_config(t), JSON_COMPACT | JSON_PRESERVE_ORDER);
	assert_string_equal(j, "{\"materialized\":\"incremental\",\"unique_key\":[\"a\",\"b\"],\"full\":false,\"n\":3,"
			       "\"r\":0.5,\"d\":{\"k\":[1,true,null]}}");
	free(j);
	assert_int_equal(mtmpl_n_kwargs(t), 6);
	const struct mt_kwarg *kw = mtmpl_kwarg(t, 5);
	int l, c;
	mtmpl_loc(text, kw->key_off, &l, &c);
	assert_int_equal(l, 2);
	assert_int_equal(c, 3);
	mtmpl_free(t);
}

static void test_quote_ident(void **state)
{
	(void)state;
	struct strbuf b = {0};
	mt_quote_ident(&b, "we\"ird");
	assert_string_equal(b.s, "\"we\"\"ird\"");
	sb_free(&b);
}

/* ---- projects ------------------------------------------------------------------------ */

struct proj {
	char *dir;
	struct project *p;
	struct model_set *s;
	char *errors;
};

static void proj_load(struct proj *x)
{
	struct diags d = {0};
	assert_int_equal(project_load(x->dir, &x->p, &d), 0);
	models_load(x->p, x->dir, &x->s, &d);
	diags_sort(&d);
	struct strbuf b = {0};
	sb_adds(&b, "");
	size_t rl = strlen(x->dir);
	for (size_t i = 0; i < d.n; i++) {
		const char *f = d.v[i].file;
		if (!strncmp(f, x->dir, rl) && f[rl] == '/')
			f += rl + 1;
		sb_addf(&b, "%s:%d:%d: %s\n", f, d.v[i].line, d.v[i].col, d.v[i].msg);
	}
	x->errors = sb_steal(&b);
	diags_free(&d);
}

static void proj_free(struct proj *x)
{
	models_free(x->s);
	project_free(x->p);
	free(x->errors);
	unit_rm_tree(x->dir);
}

static const char *const SLUICE_YML = "name: t\n"
				      "target: dev\n"
				      "targets:\n"
				      "  dev:\n"
				      "    connection: default\n"
				      "    database: dev\n"
				      "    schema: \"{{ env_var('SLUICE_TEST_USER') }}_{{ model.folder }}\"\n"
				      "  pro:\n"
				      "    connection: default\n"
				      "    database: pro\n"
				      "    schema: \"{{ model.folder }}\"\n";

static void test_graph_cycles(void **state)
{
	(void)state;
	struct proj x = {.dir = unit_scratch("models")};
	unit_put(x.dir, "sluice.yml", "name: t\n");
	unit_put(x.dir, "models/a.sql", "select * from {{ ref('b') }}");
	unit_put(x.dir, "models/b.sql", "select * from {{ ref('a') }}");
	unit_put(x.dir, "models/c.sql", "select * from {{ ref('d') }}");
	unit_put(x.dir, "models/d.sql", "select 1 from {{ ref('e') }}");
	unit_put(x.dir, "models/e.sql", "-- e\nselect * from\n  {{ ref('c') }}, {{ ref('customers') }}");
	unit_put(x.dir, "models/customer.sql", "select 1");
	unit_put(x.dir, "models/self.sql", "select * from {{ ref('self') }}");
	proj_load(&x);
	assert_string_equal(x.errors, "models/a.sql:1:18: cycle: a -> b -> a\n"
				      "models/c.sql:1:18: cycle: c -> e -> d -> c\n"
				      "models/e.sql:3:22: ref('customers'): no model 'customers'; did you mean 'customer'?\n"
				      "models/self.sql:1:18: model 'self' refs itself (use {{ this }} for its own table)\n");
	assert_null(x.s->order);
	proj_free(&x);
}

static int index_of(const struct model_set *s, const char *name)
{
	int i = models_find(s, name);
	assert_true(i >= 0);
	return i;
}

/* a layered project: raw -> stg_a, stg_b -> mart -> report; other alone */
static struct proj layered(void)
{
	struct proj x = {.dir = unit_scratch("models")};
	unit_put(x.dir, "sluice.yml", SLUICE_YML);
	unit_put(x.dir, "models/sources.yml", "sources:\n  - name: lake\n    tables: [{name: tx}]\n");
	unit_put(x.dir, "models/bronze/_cfg.yml", "config:\n  tags: [bronze]\n");
	unit_put(x.dir, "models/bronze/raw.sql", "select * from {{ source('lake', 'tx') }}");
	unit_put(x.dir, "models/silver/_cfg.yml", "config:\n  materialized: table\n  tags: [silver]\n");
	unit_put(x.dir, "models/silver/stg_a.sql", "select * from {{ ref('raw') }}");
	unit_put(x.dir, "models/silver/stg_b.sql", "{{ config(tags=['nightly'], materialized='view') }}\nselect * from {{ ref('raw') }}");
	unit_put(x.dir, "models/gold/mart.sql", "select * from {{ ref('stg_a') }} join {{ ref('stg_b') }} using (id)");
	unit_put(x.dir, "models/gold/report.sql", "select * from {{ ref('mart') }}");
	unit_put(x.dir, "models/gold/other.sql", "select 1");
	setenv("SLUICE_TEST_USER", "alice", 1);
	proj_load(&x);
	assert_string_equal(x.errors, "");
	return x;
}

static void test_graph_order(void **state)
{
	(void)state;
	struct proj x = layered();
	const struct model_set *s = x.s;
	assert_int_equal(s->n, 6);
	assert_non_null(s->order);
	int pos[6];
	for (size_t k = 0; k < s->n; k++)
		pos[s->order[k]] = (int)k;
	for (size_t i = 0; i < s->n; i++)
		for (size_t j = 0; j < s->v[i].n_up; j++)
			assert_true(pos[s->v[i].up[j]] < pos[i]);
	const struct model *mart = &s->v[index_of(s, "mart")];
	assert_int_equal(mart->n_up, 2);
	assert_int_equal(mart->n_down, 1);
	assert_string_equal(s->v[mart->down[0]].name, "report");
	/* configs: folder, then config(); tags add up */
	const struct model *b = &s->v[index_of(s, "stg_b")];
	assert_int_equal(b->cfg.materialized, MAT_VIEW);
	assert_int_equal(b->cfg.tags.n, 2);
	assert_string_equal(b->cfg.tags.v[0], "silver");
	assert_string_equal(b->cfg.tags.v[1], "nightly");
	assert_int_equal(s->v[index_of(s, "stg_a")].cfg.materialized, MAT_TABLE);
	assert_string_equal(s->v[index_of(s, "raw")].srcs[0].source, "lake");
	assert_int_equal(s->v[index_of(s, "raw")].srcs[0].index, 0);
	proj_free(&x);
}

/* The names a selection picks, sorted, space-separated; or "error: msg". */
static char *select_names(const struct model_set *s, const char *sel, const char *ex)
{
	bool *picked = xcalloc(s->n + 1, sizeof *picked);
	struct err e = {0};
	const char *sv[] = {sel}, *xv[] = {ex};
	int n = models_select(s, sv, sel ? 1 : 0, xv, ex ? 1 : 0, picked, &e);
	struct strbuf b = {0};
	sb_adds(&b, "");
	if (n < 0) {
		sb_addf(&b, "error: %s", e.msg);
	} else {
		struct names v = {0};
		for (size_t i = 0; i < s->n; i++)
			if (picked[i]) {
				v.v = xrealloc(v.v, (v.n + 1) * sizeof *v.v);
				v.v[v.n++] = s->v[i].name;
			}
		for (size_t i = 0; i < v.n; i++)
			for (size_t j = i + 1; j < v.n; j++)
				if (strcmp(v.v[i], v.v[j]) > 0) {
					char *t = v.v[i];
					v.v[i] = v.v[j];
					v.v[j] = t;
				}
		for (size_t i = 0; i < v.n; i++)
			sb_addf(&b, "%s%s", i ? " " : "", v.v[i]);
		assert_int_equal((size_t)n, v.n);
		free(v.v);
	}
	free(picked);
	return sb_steal(&b);
}

static void expect_select(const struct model_set *s, const char *sel, const char *ex, const char *want)
{
	char *got = select_names(s, sel, ex);
	assert_string_equal(got, want);
	free(got);
}

static void test_select(void **state)
{
	(void)state;
	struct proj x = layered();
	const struct model_set *s = x.s;
	expect_select(s, NULL, NULL, "mart other raw report stg_a stg_b");
	expect_select(s, "mart", NULL, "mart");
	expect_select(s, "+mart", NULL, "mart raw stg_a stg_b");
	expect_select(s, "mart+", NULL, "mart report");
	expect_select(s, "+mart+", NULL, "mart raw report stg_a stg_b");
	expect_select(s, "1+mart", NULL, "mart stg_a stg_b");
	expect_select(s, "raw+1", NULL, "raw stg_a stg_b");
	expect_select(s, "@stg_a", NULL, "mart raw report stg_a stg_b");
	expect_select(s, "tag:silver", NULL, "stg_a stg_b");
	expect_select(s, "tag:silver,tag:nightly", NULL, "stg_b");
	expect_select(s, "tag:bronze other", NULL, "other raw");
	expect_select(s, "path:models/gold", NULL, "mart other report");
	expect_select(s, "path:silver/stg_a.sql", NULL, "stg_a");
	expect_select(s, "stg_*", NULL, "stg_a stg_b");
	expect_select(s, "config.materialized:table", NULL, "stg_a");
	expect_select(s, "source:lake+", NULL, "mart raw report stg_a stg_b");
	expect_select(s, "+report", "tag:silver", "mart raw report");
	expect_select(s, "+report,path:gold", NULL, "mart report");
	expect_select(s, "marts", NULL, "error: selector 'marts': no model 'marts'; did you mean 'mart'?");
	expect_select(s, "tag:silvr", NULL, "error: selector 'tag:silvr': no model has tag 'silvr'; did you mean 'silver'?");
	expect_select(s, "tga:x", NULL, "error: selector 'tga:x': unknown selector method 'tga:'; did you mean 'tag:'?");
	expect_select(s, "source:lak", NULL, "error: selector 'source:lak': no source 'lak'");
	expect_select(s, "@mart+", NULL, "error: selector '@mart+': '@mart+': '@' does not go with '+'");
	proj_free(&x);
}

static void test_targets(void **state)
{
	(void)state;
	struct proj x = layered();
	const struct model_set *s = x.s;
	struct model_place pl;
	struct err e = {0};
	int i = index_of(s, "stg_a");
	assert_int_equal(model_place(s, x.p, NULL, i, &pl, &e), 0);
	assert_string_equal(pl.schema, "alice_silver");
	assert_string_equal(pl.relation, "\"alice_silver\".\"stg_a\"");
	model_place_free(&pl);
	const struct target *pro = project_target(x.p, "pro");
	assert_non_null(pro);
	assert_string_equal(pro->database, "pro");
	assert_int_equal(model_place(s, x.p, pro, i, &pl, &e), 0);
	assert_string_equal(pl.schema, "silver");
	model_place_free(&pl);
	struct strbuf b = {0};
	assert_int_equal(model_render(s, x.p, pro, index_of(s, "mart"), false, &b, &e), 0);
	assert_string_equal(b.s, "select * from \"silver\".\"stg_a\" join \"silver\".\"stg_b\" using (id)");
	sb_free(&b);
	assert_int_equal(model_render(s, x.p, pro, index_of(s, "raw"), false, &b, &e), 0);
	assert_string_equal(b.s, "select * from \"lake\".\"tx\"");
	sb_free(&b);
	unsetenv("SLUICE_TEST_USER");
	assert_int_equal(model_place(s, x.p, NULL, i, &pl, &e), -1);
	char want[600];
	snprintf(want, sizeof want, "%s/sluice.yml:7:13: target 'dev': schema rule: environment variable"
		 " 'SLUICE_TEST_USER' is not set (and env_var() gives no default)", x.dir);
	assert_string_equal(e.msg, want);
	/* validate says it once for the rule, not once per model */
	struct diags d = {0};
	assert_int_equal(models_check_targets(s, x.p, &d), -1);
	assert_int_equal(d.n, 1);
	diags_free(&d);
	proj_free(&x);
}

static void test_checks(void **state)
{
	(void)state;
	struct proj x = {.dir = unit_scratch("models")};
	unit_put(x.dir, "sluice.yml", "name: t\n");
	unit_put(x.dir, "models/customers.sql", "select 1 as id");
	unit_put(x.dir, "models/orders.sql", "select 1 as id, 1 as customer_id from {{ ref('customers') }}");
	unit_put(x.dir, "models/orders.yml",
		 "version: 2\n"
		 "models:\n"
		 "  - name: orders\n"
		 "    config: {materialized: incremental, unique_key: [id]}\n"
		 "    columns:\n"
		 "      - name: id\n"
		 "        type: bigint\n"
		 "        tests: [not_null, {unique: {severity: warn}}]\n"
		 "      - name: customer_id\n"
		 "        data_tests:\n"
		 "          - relationships: {to: \"ref('customers')\", field: id, error_if: \">5%\", warn_if: \">0\"}\n"
		 "          - accepted_values: {values: [1, 2, 'x'], limit: 10}\n"
		 "    tests:\n"
		 "      - row_count: {min: 1, max: 1000}\n"
		 "      - expression: \"id > 0\"\n"
		 "      - unique_combination: {columns: [id, customer_id], name: orders_key}\n"
		 "      - freshness: {column: ts, warn_after: 1h, error_after: {count: 2, period: day}}\n");
	unit_put(x.dir, "tests/orders_positive.sql",
		 "{{ config(severity='warn', warn_if='>10') }}\nselect * from {{ ref('orders') }} where id < 0");
	proj_load(&x);
	assert_string_equal(x.errors, "");
	const struct model_set *s = x.s;
	assert_int_equal(s->n_checks, 9);
	const char *names[] = {
		"orders.id.not_null", "orders.id.unique", "orders.customer_id.relationships",
		"orders.customer_id.accepted_values", "orders.row_count", "orders.expression", "orders_key",
		"orders.freshness", "orders_positive",
	};
	for (size_t i = 0; i < 9; i++)
		assert_string_equal(s->checks[i].name, names[i]);
	const struct model_check *c = &s->checks[1];
	assert_int_equal(c->kind, CHECK_UNIQUE);
	assert_int_equal(c->severity, SEV_WARN);
	assert_string_equal(c->column, "id");
	c = &s->checks[2];
	assert_int_equal(c->kind, CHECK_RELATIONSHIPS);
	assert_int_equal(c->to_model, index_of(s, "customers"));
	assert_string_equal(c->field, "id");
	assert_int_equal(c->n_parents, 2);
	/* ">5%" fails at 6 of 100, warns below that (">0"), passes at 0 */
	assert_int_equal(check_judge(c, 6, 100), CHECK_FAIL);
	assert_int_equal(check_judge(c, 5, 100), CHECK_WARN);
	assert_int_equal(check_judge(c, 0, 100), CHECK_PASS);
	c = &s->checks[3];
	assert_int_equal(c->values.n, 3);
	assert_string_equal(c->values.v[2], "x");
	assert_int_equal(c->limit, 10);
	c = &s->checks[4];
	assert_true(c->have_min && c->have_max);
	assert_int_equal(c->max, 1000);
	assert_string_equal(s->checks[5].expression, "id > 0");
	assert_int_equal(s->checks[6].columns.n, 2);
	assert_true(s->checks[7].warn_after == 3600 && s->checks[7].error_after == 2 * 86400);
	c = &s->checks[8];
	assert_int_equal(c->kind, CHECK_CUSTOM);
	assert_int_equal(c->model, index_of(s, "orders"));
	assert_int_equal(c->severity, SEV_WARN);
	/* a warn-severity check never fails */
	assert_int_equal(check_judge(c, 11, 0), CHECK_WARN);
	assert_int_equal(check_judge(c, 10, 0), CHECK_PASS);
	const struct model *o = &s->v[index_of(s, "orders")];
	assert_int_equal(o->cfg.materialized, MAT_INCREMENTAL);
	assert_int_equal(o->n_columns, 2);
	assert_string_equal(o->columns[0].type, "bigint");
	proj_free(&x);
}

static void test_thresholds(void **state)
{
	(void)state;
	struct check_threshold t;
	size_t bad = 0;
	char buf[32];
	const char *ok[] = {">10", ">= 5", "!=0", "<1%", "=0", "==3", "<=2.5%"};
	const char *back[] = {">10", ">=5", "!=0", "<1%", "=0", "=3", "<=2.5%"};
	for (size_t i = 0; i < 7; i++) {
		assert_int_equal(check_threshold_parse(ok[i], &t, &bad), 0);
		check_threshold_text(&t, buf, sizeof buf);
		assert_string_equal(buf, back[i]);
	}
	assert_int_equal(check_threshold_parse("10", &t, &bad), -1);
	assert_int_equal(bad, 0);
	assert_int_equal(check_threshold_parse(">1x", &t, &bad), -1);
	assert_int_equal(bad, 2);
	assert_int_equal(check_threshold_parse(">101%", &t, &bad), -1);
}

static void test_config_errors(void **state)
{
	(void)state;
	struct proj x = {.dir = unit_scratch("models")};
	unit_put(x.dir, "sluice.yml", "name: t\n");
	unit_put(x.dir, "models/a.sql", "{{ config(materialized='incremental', unique_ky='id') }}\nselect 1");
	unit_put(x.dir, "models/s.sql", "{{ config(materialized='snapshot', unique_key='id', strategy='timestamp') }}\nselect 1");
	unit_put(x.dir, "models/b.yml", "models:\n  - name: a\n    config:\n      materialized: tabel\n  - name: zzzz\n");
	proj_load(&x);
	assert_string_equal(x.errors,
			    "models/a.sql:1:24: model 'a' is incremental with strategy merge: it needs a unique_key\n"
			    "models/a.sql:1:39: unknown key 'unique_ky' in config(); did you mean 'unique_key'?\n"
			    "models/b.yml:4:21: 'materialized' must be one of view, table, incremental, snapshot, got 'tabel';"
			    " did you mean 'table'?\n"
			    "models/b.yml:5:11: no model 'zzzz' (no models/**/zzzz.sql)\n"
			    "models/s.sql:1:62: snapshot 's' has strategy timestamp: it needs updated_at\n");
	proj_free(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_names),
		cmocka_unit_test(test_render_if),
		cmocka_unit_test(test_render_errors),
		cmocka_unit_test(test_config_call),
		cmocka_unit_test(test_quote_ident),
		cmocka_unit_test(test_graph_cycles),
		cmocka_unit_test(test_graph_order),
		cmocka_unit_test(test_select),
		cmocka_unit_test(test_targets),
		cmocka_unit_test(test_checks),
		cmocka_unit_test(test_thresholds),
		cmocka_unit_test(test_config_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
