/* Lookups on the project as loaded; see projdef.h. */
#include "core/projdef.h"

#include <string.h>

const struct target *project_target(const struct project *p, const char *name)
{
	if (!name)
		name = p->target;
	for (size_t i = 0; name && i < p->n_targets; i++)
		if (!strcmp(p->targets[i].name, name))
			return &p->targets[i];
	return NULL;
}

const struct pipeline *project_pipeline(const struct project *p, const char *name)
{
	for (size_t i = 0; p && i < p->n_pipelines; i++)
		if (!strcmp(p->pipelines[i].name, name))
			return &p->pipelines[i];
	return NULL;
}

const struct task_def *pipeline_task(const struct pipeline *pl, const char *name)
{
	for (size_t i = 0; pl && i < pl->n_tasks; i++)
		if (!strcmp(pl->tasks[i].name, name))
			return &pl->tasks[i];
	return NULL;
}

json_t *project_template_ctx(const struct project *p, const struct pipeline *pl, const char *ds,
			     const json_t *given_params, const char *task, long run_id)
{
	json_t *ctx = json_object();
	char nodash[16] = "";
	size_t j = 0;
	for (const char *s = ds ? ds : ""; *s && j + 1 < sizeof nodash; s++)
		if (*s != '-')
			nodash[j++] = *s;
	nodash[j] = '\0';
	json_object_set_new(ctx, "ds", json_string(ds ? ds : ""));
	json_object_set_new(ctx, "ds_nodash", json_string(nodash));
	json_object_set_new(ctx, "run_id", json_integer(run_id));
	json_object_set_new(ctx, "pipeline", pl ? json_string(pl->name) : json_null());
	json_object_set_new(ctx, "task", task ? json_string(task) : json_null());
	json_t *params = pl && pl->params ? json_deep_copy(pl->params) : json_object();
	if (json_is_object(given_params))
		json_object_update(params, (json_t *)given_params);
	json_object_set_new(ctx, "params", params);
	json_object_set_new(ctx, "vars", p && p->vars ? json_deep_copy(p->vars) : json_object());
	return ctx;
}
