/* What a selection of models runs as tasks, as dbt build orders them: one
 * task per selected model and one per check whose parents are selected,
 * and the edges between them. Pure: the `models` kind and `sluice build`
 * turn the plan into task definitions (core/kinds/models.c).
 *
 * The edges:
 *  - a model waits for its nearest selected upstream models: through models
 *    that are not selected, so `a b` with a -> x -> b (x not selected)
 *    still builds b after a (b reads a through x);
 *  - a check waits for all its parents (the model, a relationships `to`, a
 *    custom test's refs), so a check runs on what this run built;
 *  - an error-severity check holds back what reads its models: every
 *    selected model downstream of all the check's parents waits for it (the
 *    nearest ones; the rest follow through them), as dbt build does. A warn
 *    check holds nothing back: it runs beside the downstream models;
 *  - a check on a source table (source freshness, column tests of a source)
 *    comes with the selection when a selected model reads that table, runs
 *    first, and (error severity) holds back the models that read the table.
 * A check with neither models nor a source table (a tests/ file without
 * refs) comes only when every model is selected. */
#ifndef SLUICE_MODELS_PLAN_H
#define SLUICE_MODELS_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "core/models/model.h"

/* One task: a model or a check. */
struct mplan_task {
	int model;           /* index in set->v, or -1 */
	int check;           /* index in set->checks, or -1 */
	size_t *deps;        /* indexes of the tasks it waits for, each earlier in the plan */
	size_t n_deps;
	bool leaf;           /* no task of the plan waits for it */
};

struct mplan {
	struct mplan_task *v; /* in an order where each task comes after its deps */
	size_t n;
	size_t n_models, n_checks;
};

/* The plan for the models picked (picked[s->n], from models_select). The
 * graph must hold (s->order set): returns 0, or -1 when it has a cycle. */
int models_plan(const struct model_set *s, const bool *picked, struct mplan *out);
void mplan_free(struct mplan *p);

#endif
