/* Operator actions. Each validates, changes state in one transaction, then
 * advances the run and queues what became runnable. */
#include "core/actions.h"

#include <stdlib.h>
#include <string.h>

#include "base/date.h"
#include "base/util.h"
#include "connectors/pg.h"
#include "core/kinds/kind.h"
#include "core/query.h"
#include "core/states.h"

void touched_free(struct touched *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->tasks[i]);
		free(t->states[i]);
	}
	free(t->tasks);
	free(t->states);
	memset(t, 0, sizeof *t);
}

static void touched_from(PGresult *r, struct touched *out)
{
	if (!out)
		return;
	int n = PQntuples(r);
	out->tasks = xcalloc((size_t)n, sizeof *out->tasks);
	out->states = xcalloc((size_t)n, sizeof *out->states);
	for (int i = 0; i < n; i++) {
		out->tasks[i] = xstrdup(PQgetvalue(r, i, 0));
		out->states[i] = xstrdup(PQgetvalue(r, i, 1));
	}
	out->n = (size_t)n;
}

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
			 const json_t *params, long run_id, struct err *err)
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
	struct kind_build b = {t->name, ctx};
	int rc = t->kind->build(t->spec, &b, spec, err);
	json_decref(ctx);
	if (rc < 0) {
		json_decref(spec);
		return NULL;
	}
	return spec;
}

int action_trigger(struct sctx *c, const char *pipeline, const char *ds, const json_t *params,
		   const char *trigger, long *run_id, struct err *err)
{
	const struct pipeline *pl = project_pipeline(c->proj, pipeline);
	if (!pl) {
		const char **names = xcalloc(c->proj->n_pipelines, sizeof *names);
		for (size_t i = 0; i < c->proj->n_pipelines; i++)
			names[i] = c->proj->pipelines[i].name;
		const char *near = nearest_word(pipeline, names, c->proj->n_pipelines);
		err_setc(err, ERR_NOTFOUND, "no pipeline '%s'%s%s%s", pipeline, near ? "; did you mean '" : "",
			 near ? near : "", near ? "'?" : "");
		free(names);
		return ERR_NOTFOUND;
	}
	char today[11];
	if (!ds) {
		date_today(today);
		ds = today;
	}
	if (!date_valid(ds))
		return err_setc(err, ERR_FAIL, "--date '%s': expected a date as YYYY-MM-DD", ds);
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)params, k, v) {
		if (!json_object_get(pl->params, k))
			return err_setc(err, ERR_FAIL, "pipeline '%s' has no param '%s' (declare it under params:)",
					pipeline, k);
	}

	struct new_task *tasks = xcalloc(pl->n_tasks, sizeof *tasks);
	char **specs = xcalloc(pl->n_tasks, sizeof *specs);
	size_t n_edges = 0;
	for (size_t i = 0; i < pl->n_tasks; i++)
		n_edges += pl->tasks[i].n_depends;
	struct new_edge *edges = xcalloc(n_edges ? n_edges : 1, sizeof *edges);
	size_t e = 0;
	*run_id = 0;
	int rc = store_run_new_id(&c->store, run_id, err);
	if (rc < 0)
		goto out;
	for (size_t i = 0; i < pl->n_tasks; i++) {
		const struct task_def *t = &pl->tasks[i];
		json_t *spec = task_spec(c, pl, t, ds, params, *run_id, err);
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

int action_resolve_run(struct sctx *c, const char *spec, const char *pipeline, long *run_id, struct err *err)
{
	return store_resolve_run(&c->store, spec, pipeline, run_id, err);
}

/* The set a clear touches: the task, its downstream closure if asked,
 * optionally only the failed ones. Locked FOR UPDATE when changing. */
static const char CLEAR_SET[] =
	"WITH RECURSIVE down(task) AS ("
	"  SELECT $2::text"
	"  UNION SELECT e.downstream FROM sluice.task_edges e JOIN down d ON e.upstream = d.task"
	"   WHERE e.run_id = $1 AND $3::bool)"
	" SELECT t.task, t.state FROM sluice.task_instances t JOIN down d ON d.task = t.task"
	" WHERE t.run_id = $1 AND (NOT $4::bool OR t.state IN ('failed','upstream_failed','up_for_retry'))"
	" ORDER BY t.id";

static const char CLEAR_APPLY[] =
	"WITH RECURSIVE down(task) AS ("
	"  SELECT $2::text"
	"  UNION SELECT e.downstream FROM sluice.task_edges e JOIN down d ON e.upstream = d.task"
	"   WHERE e.run_id = $1 AND $3::bool),"
	" old AS (SELECT t.id, t.task, t.state FROM sluice.task_instances t JOIN down d ON d.task = t.task"
	"   WHERE t.run_id = $1 AND (NOT $4::bool OR t.state IN ('failed','upstream_failed','up_for_retry'))"
	"   FOR UPDATE OF t)"
	" UPDATE sluice.task_instances t SET state = 'scheduled', failures = 0, lost = 0, worker = NULL,"
	"  pid = NULL, heartbeat = NULL, queued_at = NULL, ended_at = NULL, next_try_at = NULL,"
	"  exit_status = NULL, error = NULL"
	" FROM old WHERE t.id = old.id RETURNING old.task, old.state";

static int clear_set(struct sctx *c, long run_id, const char *task, bool downstream, bool only_failed,
		     bool dry_run, struct touched *out, struct err *err)
{
	char rid[32];
	snprintf(rid, sizeof rid, "%ld", run_id);
	long ti;
	int try_number;
	if (store_ti_find(&c->store, run_id, task, &ti, &try_number, NULL, 0, err) < 0)
		return err->code;
	const char *p[4] = {rid, task, downstream ? "t" : "f", only_failed ? "t" : "f"};
	if (dry_run) {
		PGresult *r = pg_exec(c->store.pg, CLEAR_SET, 4, p, err);
		if (!r)
			return err->code;
		touched_from(r, out);
		PQclear(r);
		return 0;
	}
	if (pg_script(c->store.pg, "BEGIN", err) < 0)
		return err->code;
	PGresult *r = pg_exec(c->store.pg, CLEAR_APPLY, 4, p, err);
	if (!r)
		goto fail;
	touched_from(r, out);
	PQclear(r);
	const char *p2[1] = {rid};
	if (pg_cmd(c->store.pg, "UPDATE sluice.runs SET state = 'running', ended_at = NULL WHERE id = $1", 1, p2, err) < 0)
		goto fail;
	if (pg_script(c->store.pg, "COMMIT", err) < 0)
		return err->code;
	return advance(c, run_id, err);
fail:
	pg_script(c->store.pg, "ROLLBACK", NULL);
	return err_code(err);
}

int action_clear(struct sctx *c, long run_id, const char *task, bool downstream, bool only_failed,
		 bool dry_run, struct touched *out, struct err *err)
{
	return clear_set(c, run_id, task, downstream, only_failed, dry_run, out, err);
}

int action_retry(struct sctx *c, long run_id, const char *task, struct touched *out, struct err *err)
{
	char rid[32];
	snprintf(rid, sizeof rid, "%ld", run_id);
	const char *p[2] = {rid, task};
	PGresult *r = pg_exec(c->store.pg, "SELECT state FROM sluice.task_instances WHERE run_id = $1 AND task = $2",
			      2, p, err);
	if (!r)
		return err->code;
	if (!PQntuples(r)) {
		PQclear(r);
		return err_setc(err, ERR_NOTFOUND, "run %ld has no task '%s'", run_id, task);
	}
	int st = state_parse(PQgetvalue(r, 0, 0));
	PQclear(r);
	if (st != ST_FAILED && st != ST_UPSTREAM_FAILED && st != ST_UP_FOR_RETRY)
		return err_setc(err, ERR_CONFLICT, "task '%s' is %s: only failed tasks are retried (use clear to rerun it)",
				task, state_name((enum task_state)st));
	/* the task itself plus whatever downstream it held back */
	return clear_set(c, run_id, task, true, true, false, out, err);
}

int action_mark(struct sctx *c, long run_id, const char *task, const char *state, struct touched *out,
		struct err *err)
{
	int to = state_parse(state);
	if (to != ST_SUCCESS && to != ST_FAILED)
		return err_setc(err, ERR_FAIL, "mark: '%s' is not success or failed", state);
	char rid[32];
	snprintf(rid, sizeof rid, "%ld", run_id);
	long ti;
	int try_number;
	char now[32];
	if (store_ti_find(&c->store, run_id, task, &ti, &try_number, now, sizeof now, err) < 0)
		return err->code;
	if (!strcmp(now, state))
		return err_setc(err, ERR_EXISTS, "task '%s' of run %ld is already %s: nothing to mark", task, run_id, state);
	if (pg_script(c->store.pg, "BEGIN", err) < 0)
		return err->code;
	const char *p[3] = {rid, task, state};
	PGresult *r = pg_exec(c->store.pg,
			      "WITH old AS (SELECT id, task, state FROM sluice.task_instances"
			      "  WHERE run_id = $1 AND task = $2 FOR UPDATE)"
			      " UPDATE sluice.task_instances t SET state = $3, worker = NULL, heartbeat = NULL,"
			      "  next_try_at = NULL, ended_at = CASE WHEN old.state IN ('running','queued','scheduled','up_for_retry')"
			      "  THEN now() ELSE t.ended_at END, error = CASE WHEN $3 = 'failed'"
			      "  THEN 'marked failed by an operator' END"
			      " FROM old WHERE t.id = old.id RETURNING old.task, old.state",
			      3, p, err);
	if (!r)
		goto fail;
	touched_from(r, out);
	PQclear(r);
	/* downstream of a task marked success may run again if it had been held back */
	if (to == ST_SUCCESS &&
	    pg_cmd(c->store.pg,
		   "WITH RECURSIVE down(task) AS (SELECT $2::text UNION SELECT e.downstream FROM sluice.task_edges e"
		   "  JOIN down d ON e.upstream = d.task WHERE e.run_id = $1)"
		   " UPDATE sluice.task_instances t SET state = 'scheduled', ended_at = NULL FROM down"
		   " WHERE t.run_id = $1 AND t.task = down.task AND t.state = 'upstream_failed'",
		   2, p, err) < 0)
		goto fail;
	if (pg_cmd(c->store.pg, "UPDATE sluice.runs SET state = 'running', ended_at = NULL WHERE id = $1", 1, p, err) < 0)
		goto fail;
	if (pg_script(c->store.pg, "COMMIT", err) < 0)
		return err->code;
	return advance(c, run_id, err);
fail:
	pg_script(c->store.pg, "ROLLBACK", NULL);
	return err_code(err);
}
