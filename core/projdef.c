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
