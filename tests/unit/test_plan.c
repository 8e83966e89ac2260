/* Unit tests: what a selection of models runs as (core/models/plan.h) and
 * a `kind: models` task expanded by the project loader into model tasks in
 * its place: names, edges through unselected models, checks after their
 * parents, error checks holding back what reads their models, a warn or
 * a source check, the group's depends_on and its downstream, and the errors
 * of a selection at file:line:col. */
#include "tests/unit/unit.h"
#include "tests/unit/scratch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "core/kinds/kind.h"
#include "core/models/check.h"
#include "core/models/model.h"
#include "core/models/plan.h"
#include "core/project.h"

/* raw -> stg_a, stg_b -> mart -> report; other alone. Checks: stg_a.id
 * not_null (error), stg_b.id unique (warn), mart.a_id relationships to
 * stg_b (error: parents mart and stg_b), a source column test, a tests/
 * file without refs. */
static const char *const FILES[][2] = {
	{"sluice.yml", "name: t\n"},
	{"models/sources.yml", "sources:\n  - name: lake\n    tables:\n      - name: tx\n        columns:\n"
			       "          - name: id\n            tests: [not_null]\n"},
	{"models/bronze/raw.sql", "select * from {{ source('lake', 'tx') }}"},
	{"models/silver/stg_a.sql", "select * from {{ ref('raw') }}"},
	{"models/silver/stg_b.sql", "select * from {{ ref('raw') }}"},
	{"models/silver/_s.yml", "models:\n"
				 "  - name: stg_a\n    columns:\n      - name: id\n        tests: [not_null]\n"
				 "  - name: stg_b\n    columns:\n      - name: id\n        tests: [{unique: {severity: warn}}]\n"},
	{"models/gold/mart.sql", "select * from {{ ref('stg_a') }} join {{ ref('stg_b') }} using (id)"},
	{"models/gold/report.sql", "select * from {{ ref('mart') }}"},
	{"models/gold/other.sql", "select 1"},
	{"models/gold/_g.yml", "models:\n  - name: mart\n    columns:\n      - name: a_id\n        tests:\n"
			       "          - relationships: {to: \"ref('stg_b')\", field: id}\n"},
	{"tests/always.sql", "select 1 where false"},
};

struct fx {
	char *dir;
	struct project *p;
	struct diags d;
};

static struct fx fx_load(const char *const (*files)[2], size_t n, const char *pipeline)
{
	struct fx x = {.dir = unit_scratch("plan")};
	for (size_t i = 0; i < n; i++)
		unit_put(x.dir, files[i][0], files[i][1]);
	if (pipeline)
		unit_put(x.dir, "pipelines/p.yml", pipeline);
	project_load(x.dir, &x.p, &x.d);
	return x;
}

static void fx_free(struct fx *x)
{
	project_free(x->p);
	diags_free(&x->d);
	unit_rm_tree(x->dir);
}

static const char *name_of(const struct model_set *s, const struct mplan_task *t)
{
	return t->model >= 0 ? s->v[t->model].name : s->checks[t->check].name;
}

/* "task<dep,dep" one per line; leaves marked with a '.' at the end. */
static char *plan_text(const struct model_set *s, const char *select, const char *exclude)
{
	bool *picked = xcalloc(s->n, sizeof *picked);
	struct err e = {0};
	const char *sel[] = {select}, *exc[] = {exclude};
	assert_true(models_select(s, sel, select ? 1 : 0, exc, exclude ? 1 : 0, picked, &e) > 0);
	struct mplan p;
	assert_int_equal(models_plan(s, picked, &p), 0);
	struct strbuf b = {0};
	sb_adds(&b, "");
	for (size_t i = 0; i < p.n; i++) {
		sb_adds(&b, name_of(s, &p.v[i]));
		for (size_t j = 0; j < p.v[i].n_deps; j++)
			sb_addf(&b, "%c%s", j ? ',' : '<', name_of(s, &p.v[p.v[i].deps[j]]));
		sb_addf(&b, "%s\n", p.v[i].leaf ? "." : "");
	}
	mplan_free(&p);
	free(picked);
	return sb_steal(&b);
}

static void expect_plan(const struct model_set *s, const char *select, const char *exclude, const char *want)
{
	char *got = plan_text(s, select, exclude);
	assert_string_equal(got, want);
	free(got);
}

static void test_plan_all(void **state)
{
	(void)state;
	struct fx x = fx_load(FILES, sizeof FILES / sizeof FILES[0], NULL);
	assert_int_equal(x.p->model_diags.n, 0);
	const struct model_set *s = x.p->models;
	/* the source's check first and before raw; stg_a's error check holds
	 * mart back, stg_b's warn does not; mart's relationships to stg_b
	 * runs after both and holds report back */
	expect_plan(s, NULL, NULL,
		    "source.lake.tx.id.not_null\n"
		    "always.\n"
		    "raw<source.lake.tx.id.not_null\n"
		    "other.\n"
		    "stg_a<raw\n"
		    "stg_a.id.not_null<stg_a\n"
		    "stg_b<raw\n"
		    "stg_b.id.unique<stg_b.\n"
		    "mart<stg_a,stg_b,stg_a.id.not_null\n"
		    "mart.a_id.relationships<mart,stg_b\n"
		    "report<mart,mart.a_id.relationships.\n");
	fx_free(&x);
}

static void test_plan_selected(void **state)
{
	(void)state;
	struct fx x = fx_load(FILES, sizeof FILES / sizeof FILES[0], NULL);
	const struct model_set *s = x.p->models;
	/* through models not selected: report after raw; no check of theirs */
	expect_plan(s, "raw report", NULL,
		    "source.lake.tx.id.not_null\n"
		    "raw<source.lake.tx.id.not_null\n"
		    "report<raw.\n");
	/* a check comes when all its parents are selected */
	expect_plan(s, "mart", NULL, "mart.\n");
	expect_plan(s, "stg_b mart", NULL,
		    "stg_b\n"
		    "stg_b.id.unique<stg_b.\n"
		    "mart<stg_b\n"
		    "mart.a_id.relationships<mart,stg_b.\n");
	expect_plan(s, "+mart", "raw",
		    "stg_a\n"
		    "stg_a.id.not_null<stg_a\n"
		    "stg_b\n"
		    "stg_b.id.unique<stg_b.\n"
		    "mart<stg_a,stg_b,stg_a.id.not_null\n"
		    "mart.a_id.relationships<mart,stg_b.\n");
	fx_free(&x);
}

/* A check with two parents holds back the nearest models downstream of
 * both, not one downstream of only one of them. */
static void test_plan_two_parents(void **state)
{
	(void)state;
	static const char *const files[][2] = {
		{"sluice.yml", "name: t\n"},
		{"models/a.sql", "select 1 as id"},
		{"models/b.sql", "select 1 as id"},
		{"models/x.sql", "select * from {{ ref('a') }}"},
		{"models/y.sql", "select * from {{ ref('b') }}"},
		{"models/m.sql", "select * from {{ ref('x') }}, {{ ref('y') }}"},
		{"models/n.sql", "select * from {{ ref('m') }}"},
		{"models/_m.yml", "models:\n  - name: a\n    columns:\n      - name: id\n        tests:\n"
				  "          - relationships: {to: \"ref('b')\", field: id}\n"},
	};
	struct fx x = fx_load(files, sizeof files / sizeof files[0], NULL);
	assert_int_equal(x.p->model_diags.n, 0);
	expect_plan(x.p->models, NULL, NULL,
		    "a\n"
		    "b\n"
		    "a.id.relationships<a,b\n"
		    "x<a\n"
		    "y<b\n"
		    "m<x,y,a.id.relationships\n"
		    "n<m.\n");
	fx_free(&x);
}

/* ---- the loader's expansion ------------------------------------------------------ */

/* "task<dep,dep" for each task of pipeline p, in order. */
static char *tasks_text(const struct project *p, const char *name)
{
	const struct pipeline *pl = project_pipeline(p, name);
	assert_non_null(pl);
	struct strbuf b = {0};
	sb_adds(&b, "");
	for (size_t i = 0; i < pl->n_tasks; i++) {
		const struct task_def *t = &pl->tasks[i];
		sb_addf(&b, "%s:%s", t->name, t->kind ? t->kind->name : "?");
		for (size_t j = 0; j < t->n_depends; j++)
			sb_addf(&b, "%c%s", j ? ',' : '<', t->depends_on[j]);
		sb_addc(&b, '\n');
	}
	return sb_steal(&b);
}

static char *diags_text(struct fx *x)
{
	diags_sort(&x->d);
	struct strbuf b = {0};
	sb_adds(&b, "");
	size_t rl = strlen(x->dir);
	for (size_t i = 0; i < x->d.n; i++) {
		const char *f = x->d.v[i].file;
		if (!strncmp(f, x->dir, rl) && f[rl] == '/')
			f += rl + 1;
		sb_addf(&b, "%s:%d:%d: %s\n", f, x->d.v[i].line, x->d.v[i].col, x->d.v[i].msg);
	}
	return sb_steal(&b);
}

static void test_expand_pipeline(void **state)
{
	(void)state;
	struct fx x = fx_load(FILES, sizeof FILES / sizeof FILES[0],
			      "tasks:\n"
			      "  first: {kind: shell, command: 'true'}\n"
			      "  dbt:\n"
			      "    kind: models\n"
			      "    select: [+mart, other]\n"
			      "    exclude: raw\n"
			      "    target: default\n"
			      "    retries: 2\n"
			      "    depends_on: [first]\n"
			      "  last: {kind: shell, command: 'true', depends_on: [dbt, first]}\n");
	char *errs = diags_text(&x);
	assert_string_equal(errs, "");
	free(errs);
	/* checks become tasks once there is a check kind; until then only the
	 * models' tasks come, wired the same */
	bool checks = kind_find("check") != NULL;
	char *got = tasks_text(x.p, "p");
	if (checks)
		assert_string_equal(got, "first:shell\n"
					 "other:model<first\n"
					 "stg_a:model<first\n"
					 "stg_a.id.not_null:check<stg_a\n"
					 "stg_b:model<first\n"
					 "stg_b.id.unique:check<stg_b\n"
					 "mart:model<stg_a,stg_b,stg_a.id.not_null\n"
					 "mart.a_id.relationships:check<mart,stg_b\n"
					 "last:shell<other,stg_b.id.unique,mart.a_id.relationships,first\n");
	else
		assert_string_equal(got, "first:shell\n"
					 "other:model<first\n"
					 "stg_a:model<first\n"
					 "stg_b:model<first\n"
					 "mart:model<stg_a,stg_b\n"
					 "last:shell<other,mart,first\n");
	free(got);
	const struct pipeline *pl = project_pipeline(x.p, "p");
	assert_int_equal(pipeline_task(pl, "mart")->retries, 2);
	assert_null(pipeline_task(pl, "dbt"));
	/* and the implicit `build`, every model */
	const struct pipeline *b = project_pipeline(x.p, PROJECT_BUILD_PIPELINE);
	assert_non_null(b);
	assert_true(b->implicit);
	assert_int_equal(b->n_tasks, checks ? 11 : 6);
	fx_free(&x);
}

static void test_expand_errors(void **state)
{
	(void)state;
	struct fx x = fx_load(FILES, sizeof FILES / sizeof FILES[0],
			      "tasks:\n"
			      "  a:\n"
			      "    kind: models\n"
			      "    select: marts\n"
			      "  b: {kind: models, select: 'tag:nothing'}\n"
			      "  c: {kind: models, select: '  '}\n"
			      "  d: {kind: models, select: other}\n"
			      "  other: {kind: shell, command: 'true'}\n"
			      "  e: {kind: models, select: 'report', exclude: 'report'}\n"
			      "  f: {kind: models, select: 'report', target: prod}\n");
	char *errs = diags_text(&x);
	assert_string_equal(errs,
			    "pipelines/p.yml:4:13: task 'a': selector 'marts': no model 'marts'; did you mean 'mart'?\n"
			    "pipelines/p.yml:5:29: task 'b': selector 'tag:nothing': no model has tag 'nothing'\n"
			    "pipelines/p.yml:6:29: 'select' is empty: give a selector (a model, +model, tag:x, "
			    "path:models/x ...), or leave it out for every model\n"
			    "pipelines/p.yml:7:3: task 'd' expands into a task 'other', the name of another task of "
			    "pipeline 'p'\n"
			    "pipelines/p.yml:9:29: task 'e': the selection picks no model\n"
			    "pipelines/p.yml:10:47: unknown target 'prod' (the project has: default)\n");
	free(errs);
	fx_free(&x);
}

/* A model that does not load stops the pipelines that expand models, with
 * its own error at its place; the others still load. */
static void test_expand_broken_models(void **state)
{
	(void)state;
	static const char *const files[][2] = {
		{"sluice.yml", "name: t\n"},
		{"models/a.sql", "select * from {{ ref('nope') }}"},
	};
	struct fx x = fx_load(files, 2, NULL);
	assert_int_equal(x.d.n, 0);
	assert_int_equal(x.p->model_diags.n, 1);
	assert_null(project_pipeline(x.p, PROJECT_BUILD_PIPELINE));
	fx_free(&x);
	x = fx_load(files, 2, "tasks:\n  m: {kind: models}\n");
	char *errs = diags_text(&x);
	assert_string_equal(errs, "models/a.sql:1:18: ref('nope'): no model 'nope'\n"
				  "pipelines/p.yml:2:6: task 'm': the models have 1 error (each is listed at its place)\n");
	free(errs);
	fx_free(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_all),
		cmocka_unit_test(test_plan_selected),
		cmocka_unit_test(test_plan_two_parents),
		cmocka_unit_test(test_expand_pipeline),
		cmocka_unit_test(test_expand_errors),
		cmocka_unit_test(test_expand_broken_models),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
