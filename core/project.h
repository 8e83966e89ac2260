/* The project a user writes: sluice.yml and pipelines/NAME.yml, loaded into
 * the structs of core/projdef.h. Every problem found is reported with
 * file:line:col, all of them. */
#ifndef SLUICE_PROJECT_H
#define SLUICE_PROJECT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "core/projdef.h"

/* Finds the project root: dir itself or its nearest ancestor with sluice.yml.
 * Returns a malloc'ed absolute path or NULL. */
char *project_find_root(const char *dir);

/* Loads root/sluice.yml and root/pipelines/ *.yml (sorted by name). Every error
 * is added to d (with file:line:col) and loading goes on to find the others.
 * Returns 0 if d gained no error, -1 otherwise; *out is set whenever the
 * project file itself could be read (even with errors, for best effort). */
int project_load(const char *root, struct project **out, struct diags *d);
void project_free(struct project *p);

/* The keys every task may have, whatever its kind. */
const char *const *project_task_keys(size_t *n);

/* The name of the pipeline `sluice build` runs are runs of. */
#define PROJECT_BUILD_PIPELINE "build"

/* A pipeline called name of one task, as a pipeline file with that task
 * would give (task: its mapping, e.g. {"kind": "models", "select": "+m"}):
 * what `sluice build` runs. Problems go to d (without a place in a file).
 * Returns 0, or -1 when d gained any; *out is set either way (free it with
 * pipeline_free). */
int project_adhoc_pipeline(const struct project *p, const char *name, const json_t *task, struct pipeline **out,
			   struct diags *d);
void pipeline_free(struct pipeline *pl);

/* The template context for a run: {ds, ds_nodash, run_id, pipeline, task,
 * params: defaults overlaid with given, vars}. given may be NULL. Returns a new
 * reference. */
json_t *project_template_ctx(const struct project *p, const struct pipeline *pl,
			     const char *ds, const json_t *given_params, const char *task, long run_id);

#endif
