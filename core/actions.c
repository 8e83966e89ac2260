/* Operator actions. Each validates, changes state in one transaction of the
 * store (its state transitions live there, in SQL), then advances the run and
 * queues what became runnable. */
#include "core/actions.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/date.h"
#include "base/util.h"
#include "core/kinds/kind.h"
#include "core/query.h"
#include "core/states.h"

/* Advance the run and queue what is ready. The queue is best effort: if Redis
 * is down the scheduler requeues stale queued tasks later. */
static int advance(struct sctx *c, long run_id, struct err *err)
{
	struct ti_refs refs = {0};
	int rc = store_advance(&c->store, run_id, &refs, err);
	if (rc == 0 && c->have_queue) {
		struct err qe = {0};
		bool lost;
		if (queue_ensure(&c->queue, &lost, &qe) == 0)
			queue_push(&c->queue, &refs, &qe);
	}
	ti_refs_free(&refs);
	return rc;
}

/* The task as it will run: templates rendered, defaults resolved. */
static json_t *task_spec(struct sctx *c, const struct pipeline *pl, const struct task_def *t, const char *ds,
			 const json_t *params, const char *target, long run_id, struct err *err)
{
	if (!t->kind || !t->kind->build) {
		err_setc(err, ERR_PROJECT, "task '%s': kind %s cannot run yet", t->name, t->kind ? t->kind->name : "?");
		return NULL;
	}
	json_t *ctx = project_template_ctx(c->proj, pl, ds, params, t->name, run_id);
	json_t *spec = json_object();
	json_object_set_new(spec, "kind", json_string(t->kind->name));
	if (t->timeout > 0)
		json_object_set_new(spec, "timeout", json_real(t->timeout));
	struct kind_build b = {t->name, ctx, c->proj, target};
	int rc = t->kind->build(t->spec, &b, spec, err);
	json_decref(ctx);
	if (rc < 0) {
		json_decref(spec);
		return NULL;
	}
	return spec;
}

/* A run of pl with every task's spec built, stored in one transaction. */
static int create_run(struct sctx *c, const struct pipeline *pl, const char *ds, const json_t *params,
		      const char *trigger, const char *target, long given_id, long *run_id, struct err *err)
{
	if (target && !project_target(c->proj, target)) {
		struct strbuf b = {0};
		for (size_t i = 0; i < c->proj->n_targets; i++)
			sb_addf(&b, "%s%s", i ? ", " : "", c->proj->targets[i].name);
		err_setc(err, ERR_FAIL, "--target '%s': no such target (the project has: %s)", target, b.s ? b.s : "");
		sb_free(&b);
		return ERR_FAIL;
	}
	struct new_task *tasks = xcalloc(pl->n_tasks ? pl->n_tasks : 1, sizeof *tasks);
	char **specs = xcalloc(pl->n_tasks ? pl->n_tasks : 1, sizeof *specs);
	size_t n_edges = 0;
	for (size_t i = 0; i < pl->n_tasks; i++)
		n_edges += pl->tasks[i].n_depends;
	struct new_edge *edges = xcalloc(n_edges ? n_edges : 1, sizeof *edges);
	size_t e = 0;
	/* a backfill reserves the id before the run exists (core/backfill.c) */
	*run_id = given_id;
	int rc = given_id > 0 ? 0 : store_run_new_id(&c->store, run_id, err);
	if (rc < 0)
		goto out;
	for (size_t i = 0; i < pl->n_tasks; i++) {
		const struct task_def *t = &pl->tasks[i];
		json_t *spec = task_spec(c, pl, t, ds, params, target, *run_id, err);
		if (!spec) {
			rc = err_code(err);
			goto out;
		}
		specs[i] = json_dumps(spec, JSON_COMPACT);
		json_decref(spec);
		tasks[i] = (struct new_task){t->name, specs[i], t->retries + 1, t->retry_delay, t->retry_backoff,
					     t->retry_max_delay};
		for (size_t d = 0; d < t->n_depends; d++)
			edges[e++] = (struct new_edge){t->depends_on[d], t->name};
	}
	json_t *all = json_deep_copy(pl->params);
	json_object_update(all, (json_t *)params);
	char *pj = json_dumps(all, JSON_COMPACT);
	json_decref(all);
	rc = store_run_create(&c->store, pl->name, ds, pj, trigger, tasks, pl->n_tasks, edges, n_edges, run_id, err);
	free(pj);
	if (rc == 0)
		rc = advance(c, *run_id, err);
out:
	for (size_t i = 0; i < pl->n_tasks; i++)
		free(specs[i]);
	free(specs);
	free(tasks);
	free(edges);
	return rc;
}

static const char *today_or(const char *ds, char today[11])
{
	if (ds)
		return ds;
	date_today(today);
	return today;
}

static int trigger_named(struct sctx *c, const char *pipeline, const char *ds, const json_t *params,
			 const char *trigger, const char *target, long given_id, long *run_id, struct err *err)
{
	const struct pipeline *pl = project_pipeline(c->proj, pipeline);
	if (!pl) {
		const char **names = xcalloc(c->proj->n_pipelines ? c->proj->n_pipelines : 1, sizeof *names);
		for (size_t i = 0; i < c->proj->n_pipelines; i++)
			names[i] = c->proj->pipelines[i].name;
		const char *near = nearest_word(pipeline, names, c->proj->n_pipelines);
		err_setc(err, ERR_NOTFOUND, "no pipeline '%s'%s%s%s", pipeline, near ? "; did you mean '" : "",
			 near ? near : "", near ? "'?" : "");
		free(names);
		return ERR_NOTFOUND;
	}
	char today[11];
	ds = today_or(ds, today);
	if (!date_valid(ds))
		return err_setc(err, ERR_FAIL, "--date '%s': expected a date as YYYY-MM-DD", ds);
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)params, k, v) {
		if (!json_object_get(pl->params, k))
			return err_setc(err, ERR_FAIL, "pipeline '%s' has no param '%s' (declare it under params:)",
					pipeline, k);
	}
	return create_run(c, pl, ds, params, trigger, target, given_id, run_id, err);
}

int action_trigger_on(struct sctx *c, const char *pipeline, const char *ds, const json_t *params,
		      const char *trigger, const char *target, long *run_id, struct err *err)
{
	return trigger_named(c, pipeline, ds, params, trigger, target, 0, run_id, err);
}

int action_trigger_reserved(struct sctx *c, const char *pipeline, const char *ds, const json_t *params,
			    const char *trigger, long reserved_id, struct err *err)
{
	long run_id;
	return trigger_named(c, pipeline, ds, params, trigger, NULL, reserved_id, &run_id, err);
}

int action_advance(struct sctx *c, long run_id, struct err *err)
{
	return advance(c, run_id, err);
}

int action_trigger(struct sctx *c, const char *pipeline, const char *ds, const json_t *params,
		   const char *trigger, long *run_id, struct err *err)
{
	return action_trigger_on(c, pipeline, ds, params, trigger, NULL, run_id, err);
}

int action_trigger_pipeline(struct sctx *c, const struct pipeline *pl, const char *ds, const json_t *params,
			    const char *target, long *run_id, struct err *err)
{
	char today[11];
	ds = today_or(ds, today);
	if (!date_valid(ds))
		return err_setc(err, ERR_FAIL, "--date '%s': expected a date as YYYY-MM-DD", ds);
	return create_run(c, pl, ds, params, "manual", target, 0, run_id, err);
}

int action_resolve_run(struct sctx *c, const char *spec, const char *pipeline, long *run_id, struct err *err)
{
	return store_resolve_run(&c->store, spec, pipeline, run_id, err);
}

static int clear_set(struct sctx *c, long run_id, const char *task, bool downstream, bool only_failed,
		     bool dry_run, struct touched *out, struct err *err)
{
	long ti;
	int try_number;
	if (store_ti_find(&c->store, run_id, task, &ti, &try_number, NULL, 0, err) < 0)
		return err_code(err);
	if (store_clear(&c->store, run_id, task, downstream, only_failed, dry_run, out, err) < 0)
		return err_code(err);
	if (dry_run)
		return 0;
	if (advance(c, run_id, err) < 0)
		return err_code(err);
	/* the cleared tasks are scheduled again: someone has to run them */
	if (out)
		out->needs_runner = true;
	return 0;
}

int action_clear(struct sctx *c, long run_id, const char *task, bool downstream, bool only_failed,
		 bool dry_run, struct touched *out, struct err *err)
{
	return clear_set(c, run_id, task, downstream, only_failed, dry_run, out, err);
}

int action_retry(struct sctx *c, long run_id, const char *task, bool dry_run, struct touched *out,
		 struct err *err)
{
	long ti;
	int try_number;
	char now[32];
	if (store_ti_find(&c->store, run_id, task, &ti, &try_number, now, sizeof now, err) < 0)
		return err_code(err);
	int st = state_parse(now);
	if (st < 0 || !state_failed((enum task_state)st))
		return err_setc(err, ERR_CONFLICT, "task '%s' is %s: only failed tasks are retried (use clear to rerun it)",
				task, now);
	/* the task itself plus whatever downstream it held back */
	return clear_set(c, run_id, task, true, true, dry_run, out, err);
}

int action_mark(struct sctx *c, long run_id, const char *task, const char *state, struct touched *out,
		struct err *err)
{
	int to = state_parse(state);
	if (to != ST_SUCCESS && to != ST_FAILED)
		return err_setc(err, ERR_FAIL, "mark: '%s' is not success or failed", state);
	int rc = store_mark(&c->store, run_id, task, state, out, err);
	if (rc == ERR_EXISTS) {
		/* what the operator asked for is already so: nothing to do, no failure */
		if (out)
			out->note = xstrdup(err->msg);
		err_clear(err);
		return 0;
	}
	if (rc < 0)
		return err_code(err);
	if (advance(c, run_id, err) < 0)
		return err_code(err);
	/* the downstream tasks carry on from the new state */
	if (out)
		out->needs_runner = true;
	return 0;
}

/* Copies what a child wrote to f onto our stderr, and closes f (NULL: none). */
static void pass_on(FILE *f)
{
	if (!f)
		return;
	char buf[4096];
	size_t n;
	rewind(f);
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		fwrite(buf, 1, n, stderr);
	fclose(f);
}

int action_ensure_runner(struct sctx *c, int *pid, bool *started, struct err *err)
{
	*started = false;
	*pid = runner_pid(c);
	if (*pid != 0)
		return 0;
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return err_setc(err, ERR_FAIL, "cannot find my own binary to start a runner");
	self[n] = '\0';
	fflush(NULL);
	/* what the starting runner says is kept until we know it matters: a
	 * start that lost the race to a concurrent one is no failure */
	FILE *said = tmpfile();
	pid_t child = fork();
	if (child < 0) {
		if (said)
			fclose(said);
		return err_setc(err, ERR_FAIL, "could not start a runner: fork: %s", strerror(errno));
	}
	if (child == 0) {
		if (said)
			dup2(fileno(said), 2);
		execl(self, "sluice", "-q", "-C", c->proj->root, "runner", (char *)NULL);
		_exit(127);
	}
	int status = 0;
	waitpid(child, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		/* a concurrent start won the race: its runner serves us as well */
		if ((*pid = runner_pid(c)) != 0) {
			if (said)
				fclose(said);
			return 0;
		}
		pass_on(said);
		return err_setc(err, ERR_FAIL, "could not start a runner (see %s/.sluice/runner.log)", c->proj->root);
	}
	pass_on(said);
	*pid = runner_pid(c);
	*started = true;
	return 0;
}
