/* Kind models: a group that stands for a selection of the project's models
 * (dbt's selector syntax, core/models/model.h) and the checks that come
 * with them. It never runs itself: the loader expands it into one `model`
 * task per model and one `check` task per check, wired as
 * core/models/plan.h says, in its place in the pipeline (core/project.c).
 * The tasks are named after what they build: the model's name
 * (stg_orders), the check's (stg_orders.id.not_null). */
#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/kinds/kind.h"
#include "core/models/check.h"
#include "core/models/model.h"
#include "core/models/plan.h"
#include "core/projdef.h"

struct models_spec {
	char *select;        /* the selector's words, space-separated; NULL: every model */
	char *exclude;       /* NULL: none */
	char *target;        /* NULL: the project's default */
	bool full_refresh;
};

#define F(x) .field = offsetof(struct models_spec, x)
static const struct kind_key models_keys[] = {
	{.name = "select", .type = KEY_CUSTOM, F(select), .what = "a selector, or a list of them"},
	{.name = "exclude", .type = KEY_CUSTOM, F(exclude), .what = "a selector, or a list of them"},
	{.name = "target", .type = KEY_STRING, F(target)},
	{.name = "full_refresh", .type = KEY_BOOL, F(full_refresh)},
};
#undef F

/* A selector as one string: a string, or a list of strings (a union). */
static void read_selector(const struct kind_parse *p, const char *key, char **out)
{
	const struct yread *r = p->r;
	json_t *v = json_object_get(p->task, key);
	if (!v || json_is_null(v))
		return;
	struct strbuf b = {0};
	if (json_is_string(v)) {
		sb_adds(&b, json_string_value(v));
	} else if (json_is_array(v)) {
		for (size_t i = 0; i < json_array_size(v); i++) {
			json_t *x = json_array_get(v, i);
			if (!json_is_string(x)) {
				diags_add(r->d, ypos_item(r->pos, v, i), "'%s' items must be selectors, got %s", key,
					  yr_type_name(x));
				continue;
			}
			sb_addf(&b, "%s%s", b.len ? " " : "", json_string_value(x));
		}
	} else {
		yr_wrong_type(r, p->task, key, "a selector, or a list of them");
		return;
	}
	bool blank = true;
	for (const char *q = b.s ? b.s : ""; *q; q++)
		blank = blank && isspace((unsigned char)*q);
	if (blank)
		diags_add(r->d, yr_at_value(r, p->task, key),
			  "'%s' is empty: give a selector (a model, +model, tag:x, path:models/x ...)%s", key,
			  strcmp(key, "select") ? "" : ", or leave it out for every model");
	/* blank stays "": it picks nothing (rather than every model) */
	*out = sb_steal(&b);
}

static void models_parse(const struct kind_parse *p, void *spec)
{
	struct models_spec *s = spec;
	read_selector(p, "select", &s->select);
	read_selector(p, "exclude", &s->exclude);
}

static void models_check(const struct kind_check *c, void *spec)
{
	struct models_spec *s = spec;
	if (s->target && !project_target(c->p, s->target)) {
		struct strbuf b = {0};
		for (size_t i = 0; i < c->p->n_targets; i++)
			sb_addf(&b, "%s%s", i ? ", " : "", c->p->targets[i].name);
		diags_add(c->r->d, yr_at_value(c->r, c->task, "target"), "unknown target '%s' (the project has: %s)",
			  s->target, b.s ? b.s : "");
		sb_free(&b);
	}
}

/* A check's name as a task name: the characters task names may not hold
 * (a column written with a space, say) become '_'. */
static char *task_name(const char *name)
{
	char *t = xstrdup(name);
	for (char *q = t; *q; q++)
		if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') || *q == '_' ||
		      *q == '.' || *q == '-'))
			*q = '_';
	return t;
}

static json_t *model_task(const struct models_spec *s, const struct model *m)
{
	json_t *t = json_pack("{s:s,s:s}", "kind", "model", "model", m->name);
	if (s->target)
		json_object_set_new(t, "target", json_string(s->target));
	if (s->full_refresh)
		json_object_set_new(t, "full_refresh", json_true());
	if (m->description)
		json_object_set_new(t, "description", json_string(m->description));
	return t;
}

/* The one place a check becomes a task: as a pipeline file would write it. */
static json_t *check_task(const struct models_spec *s, const struct model_check *c)
{
	json_t *t = json_pack("{s:s,s:s}", "kind", "check", "check", c->name);
	if (s->target)
		json_object_set_new(t, "target", json_string(s->target));
	return t;
}

/* Where a selection's problem is written: at select, else at the task. */
static struct loc selector_at(const struct kind_expand *x)
{
	struct loc at = yr_at_value(x->r, x->task, "select");
	return at.line ? at : x->here;
}

static void models_expand(const struct kind_expand *x, const void *spec, struct kind_gens *out)
{
	const struct models_spec *s = spec;
	const struct model_set *set = x->p->models;
	struct diags *d = x->r->d;
	if (!set || !set->n) {
		diags_add(d, x->here, "task '%s': the project has no models (models/**/*.sql)", x->name);
		return;
	}
	if (x->p->model_diags.n) {
		diags_add(d, x->here, "task '%s': the models have %zu error%s (each is listed at its place)", x->name,
			  x->p->model_diags.n, x->p->model_diags.n == 1 ? "" : "s");
		return;
	}
	/* a blank selection or an unknown target: said by parse and check */
	if ((s->select && !s->select[strspn(s->select, " \t\r\n")]) || (s->target && !project_target(x->p, s->target)))
		return;
	bool *picked = xcalloc(set->n, sizeof *picked);
	const char *sel[] = {s->select}, *exc[] = {s->exclude};
	struct err e = {0};
	int n = models_select(set, sel, s->select ? 1 : 0, exc, s->exclude ? 1 : 0, picked, &e);
	struct mplan plan = {0};
	if (n < 0) {
		diags_add(d, selector_at(x), "task '%s': %s", x->name, e.msg);
	} else if (n == 0) {
		diags_add(d, selector_at(x), "task '%s': the selection picks no model", x->name);
	} else if (models_plan(set, picked, &plan) < 0) {
		diags_add(d, x->here, "task '%s': the models' refs make a cycle (see 'sluice validate')", x->name);
	} else {
		/* checks become tasks of kind check; without it they are left out */
		bool checks = kind_find("check") != NULL;
		long *gen = xcalloc(plan.n ? plan.n : 1, sizeof *gen);
		out->v = xcalloc(plan.n ? plan.n : 1, sizeof *out->v);
		for (size_t i = 0; i < plan.n; i++) {
			const struct mplan_task *t = &plan.v[i];
			gen[i] = -1;
			if (t->check >= 0 && !checks)
				continue;
			struct kind_gen *g = &out->v[out->n];
			gen[i] = (long)out->n++;
			if (t->model >= 0) {
				g->name = xstrdup(set->v[t->model].name);
				g->task = model_task(s, &set->v[t->model]);
			} else {
				g->name = task_name(set->checks[t->check].name);
				g->task = check_task(s, &set->checks[t->check]);
			}
			g->deps = xcalloc(t->n_deps ? t->n_deps : 1, sizeof *g->deps);
			for (size_t j = 0; j < t->n_deps; j++)
				if (gen[t->deps[j]] >= 0)
					g->deps[g->n_deps++] = (size_t)gen[t->deps[j]];
		}
		for (size_t i = 0; i < out->n; i++)
			out->v[i].leaf = true;
		for (size_t i = 0; i < out->n; i++)
			for (size_t j = 0; j < out->v[i].n_deps; j++)
				out->v[out->v[i].deps[j]].leaf = false;
		free(gen);
	}
	mplan_free(&plan);
	free(picked);
}

const struct kind_ops kind_models = {
	.name = "models",
	.summary = "a selection of models/ (select, exclude: dbt's syntax): one model task per model and one check "
		   "task per check, wired by their refs",
	.spec_size = sizeof(struct models_spec),
	.keys = models_keys,
	.n_keys = sizeof models_keys / sizeof models_keys[0],
	.parse = models_parse,
	.check = models_check,
	.expand = models_expand,
};
