/* Kind model: one model of models/ built on a target (core/models/
 * materialize.h). The spec stored at trigger time holds the model's SQL
 * rendered both ways (is_incremental() true and false) and all its config,
 * so a run, a retry or a clear builds what was triggered, whatever the
 * project's files say since; the run only decides which SQL applies. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/pg.h"
#include "core/kinds/kind.h"
#include "core/ledger.h"
#include "core/writes.h"
#include "core/models/materialize.h"
#include "core/models/model.h"
#include "core/projdef.h"
#include "core/store.h"

struct model_spec {
	char *model;
	char *target;        /* NULL: the project's default */
	bool full_refresh;
};

static const struct kind_key model_keys[] = {
	{.name = "model", .type = KEY_STRING, .field = offsetof(struct model_spec, model), .required = true},
	{.name = "target", .type = KEY_STRING, .field = offsetof(struct model_spec, target)},
	{.name = "full_refresh", .type = KEY_BOOL, .field = offsetof(struct model_spec, full_refresh)},
};

static void model_task_check(const struct kind_check *c, void *spec)
{
	struct model_spec *s = spec;
	if (s->target && !project_target(c->p, s->target)) {
		struct strbuf b = {0};
		for (size_t i = 0; i < c->p->n_targets; i++)
			sb_addf(&b, "%s%s", i ? ", " : "", c->p->targets[i].name);
		diags_add(c->r->d, yr_at_value(c->r, c->task, "target"), "unknown target '%s' (the project has: %s)",
			  s->target, b.s ? b.s : "");
		sb_free(&b);
	}
	if (!s->model)
		return;
	/* the models were read with the project; their own errors are said
	 * where they are (validate), not once per task */
	const struct model_set *set = c->p->models;
	if (!set) {
		diags_add(c->r->d, yr_at_value(c->r, c->task, "model"), "no model '%s' (the project has no models/)", s->model);
	} else if (models_find(set, s->model) < 0) {
		const char *near = models_nearest(set, s->model);
		diags_add(c->r->d, yr_at_value(c->r, c->task, "model"), "no model '%s' (no models/**/%s.sql)%s%s%s", s->model,
			  s->model, near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
	}
}

/* The models of the project a trigger runs in, loaded once per run: every
 * model task of one trigger shares them, and the next trigger reads the
 * files again. */
static struct {
	const struct project *p;
	long run_id;
	struct model_set *s;
	int rc;
} cache;

static const struct model_set *models_of(const struct kind_build *b, struct err *err)
{
	/* the project read them with itself: a trigger's project is fresh, a
	 * long-lived one is read again when models/ changes (core/ctx.c) */
	if (b->proj->models && !b->proj->model_diags.n)
		return b->proj->models;
	long run_id = (long)json_integer_value(json_object_get(b->ctx, "run_id"));
	if (cache.s && (cache.p != b->proj || cache.run_id != run_id || run_id == 0)) {
		models_free(cache.s);
		cache.s = NULL;
	}
	if (!cache.s) {
		struct diags d = {0};
		cache.rc = models_load(b->proj, b->proj->root, &cache.s, &d);
		cache.p = b->proj;
		cache.run_id = run_id;
		if (d.n)
			err_setc(err, ERR_PROJECT, "task '%s': the models have %zu error%s, the first: %s:%d:%d: %s (see 'sluice validate')",
				 b->task, d.n, d.n == 1 ? "" : "s", d.v[0].file ? d.v[0].file : "models", d.v[0].line,
				 d.v[0].col, d.v[0].msg);
		diags_free(&d);
		if (cache.rc < 0)
			cache.rc = ERR_PROJECT;
	}
	if (cache.rc < 0) {
		if (!err->msg[0])
			err_setc(err, ERR_PROJECT, "task '%s': the models have errors (see 'sluice validate')", b->task);
		return NULL;
	}
	return cache.s;
}

static int model_build(const void *spec, const struct kind_build *b, json_t *out, struct err *err)
{
	const struct model_spec *s = spec;
	if (!b->proj)
		return err_setc(err, ERR_PROJECT, "task '%s': a model task needs its project", b->task);
	const struct model_set *set = models_of(b, err);
	if (!set)
		return err_code(err);
	int i = models_find(set, s->model);
	if (i < 0) {
		const char *near = models_nearest(set, s->model);
		return err_setc(err, ERR_PROJECT, "task '%s': no model '%s'%s%s%s", b->task, s->model,
				near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
	}
	const char *want = b->target ? b->target : s->target;
	const struct target *t = project_target(b->proj, want);
	if (!t)
		return err_setc(err, ERR_PROJECT, "task '%s': unknown target '%s'", b->task, want ? want : "");
	if (mat_spec_build(set, b->proj, t, i, s->full_refresh, out, err) < 0)
		return err_prefix(err, "task '%s'", b->task);
	return 0;
}

static void model_describe(const json_t *spec, struct strbuf *out)
{
	const char *m = json_string_value(json_object_get(spec, "model"));
	const char *mat = json_string_value(json_object_get(spec, "materialized"));
	const char *strat = json_string_value(json_object_get(spec, "incremental_strategy"));
	sb_addf(out, "model %s: %s%s%s%s into %s.%s on target %s", m ? m : "?", mat ? mat : "?", strat ? " " : "",
		strat ? strat : "", json_is_true(json_object_get(spec, "full_refresh")) ? " (full refresh)" : "",
		json_string_value(json_object_get(spec, "schema")) ? json_string_value(json_object_get(spec, "schema")) : "?",
		m ? m : "?", json_string_value(json_object_get(spec, "target")) ? json_string_value(json_object_get(spec, "target")) : "?");
}

static void print_stats(const struct mat_job *j, const struct mat_stats *st)
{
	printf("model %s: %s", j->model, model_mat_name(j->mat));
	if (j->mat == MAT_INCREMENTAL && st->incremental)
		printf(" %s", inc_strategy_name(j->strategy));
	if (j->mat == MAT_SNAPSHOT)
		printf(" (%s, hard deletes %s)", snap_strategy_name(j->snap), hard_deletes_name(j->hard_deletes));
	printf(" \"%s\".\"%s\" on target %s: %s", j->schema, j->name, j->target ? j->target : "default", st->action);
	if (j->mat == MAT_INCREMENTAL)
		printf(st->incremental ? " (is_incremental)" : " (full)");
	if (st->dependents)
		printf(", %d dependent view%s re-pointed", st->dependents, st->dependents == 1 ? "" : "s");
	if (st->batch >= 0)
		printf("; %lld row%s from its SELECT", (long long)st->batch, st->batch == 1 ? "" : "s");
	if (j->mat != MAT_VIEW)
		printf("; %lld inserted, %lld updated, %lld deleted", (long long)st->inserted, (long long)st->updated,
		       (long long)st->deleted);
	printf("; in %.3f s\n", st->seconds);
	fflush(stdout);
}

/* The batch and the rows written, on the task instance as a load records
 * its own (-1: unknown). */
static void record_rows(const struct task_env *env, long long batch, long long written)
{
	if (!env->state_conninfo)
		return;
	struct store s = {0};
	struct err e = {0};
	s.pg = pg_connect(env->state_conninfo, "state database", &e);
	if (s.pg)
		store_ti_rows(&s, env->run_id, env->task, env->try_number, batch, written, &e);
	pg_close(s.pg);
}

/* An earlier try of the attempt committed the build (before this try
 * started, or while it ran and this one rolled back): the model is built
 * once, and its rows are that try's. */
static int already_built(const struct ledger *lg, const struct task_env *env, bool meanwhile)
{
	ledger_say(lg, stdout, meanwhile);
	record_rows(env, -1, lg->prior_rows);
	return 0;
}

/* Exit 2 when the database cannot be reached, 1 when the build failed (then
 * nothing was changed), 3 for a spec that cannot be read. A build that is
 * not idempotent (an append, a snapshot) is in the commit ledger
 * (core/ledger.h): a retry whose earlier try committed has nothing to do.
 * The others build again, to the same result, without its round trips. */
static int model_run(const json_t *spec, const struct task_env *env)
{
	struct mat_job j;
	void *arrays = NULL;
	struct err e = {0};
	if (mat_job_from_spec(spec, &j, &arrays, &e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		mat_job_arrays_free(arrays);
		return 3;
	}
	struct pg_conn *c = kind_connect(spec, env, &e);
	if (!c) {
		fprintf(stderr, "%s\n", e.msg);
		mat_job_arrays_free(arrays);
		return 2;
	}
	struct ledger lg;
	ledger_init(&lg, env);
	if (mat_job_idempotent(&j))
		lg.off = true;
	int seen = ledger_begin_check(&lg, c, stdout, &e);
	if (seen != 0) {
		kind_disconnect(c, env);
		mat_job_arrays_free(arrays);
		if (seen > 0)
			return already_built(&lg, env, false);
		fprintf(stderr, "model %s: %s\n", j.model, e.msg);
		return 1;
	}
	struct mat_stats st;
	j.writer = env;
	int rc = writes_prepare(c, &e);
	if (rc == 0)
		rc = mat_build(c, &j, &lg, &st, &e);
	kind_disconnect(c, env);
	if (rc == MAT_COMMITTED_MEANWHILE) {
		mat_job_arrays_free(arrays);
		return already_built(&lg, env, true);
	}
	if (rc < 0) {
		fflush(stdout);
		taskexec_settle(1);
		fprintf(stderr, "model %s: %s\n", j.model, e.msg);
		/* stdout: the error above stays the last stderr line, the summary */
		fflush(stderr);
		taskexec_settle(2);
		printf("rolled back: nothing was changed\n");
		mat_job_arrays_free(arrays);
		return rc == ERR_UNREACHABLE ? 2 : 1;
	}
	print_stats(&j, &st);
	if (st.batch >= 0)
		record_rows(env, st.batch, st.inserted + st.updated + st.deleted);
	mat_job_arrays_free(arrays);
	return 0;
}

const struct kind_ops kind_model = {
	.name = "model",
	.summary = "a model of models/ built on a target: view, table, incremental or snapshot",
	.spec_size = sizeof(struct model_spec),
	.keys = model_keys,
	.n_keys = sizeof model_keys / sizeof model_keys[0],
	.check = model_task_check,
	.build = model_build,
	.describe = model_describe,
	.conn = kind_spec_conn_key,
	.run = model_run,
	.shares_conn = true,
	.reads = kind_reads_key,
};
