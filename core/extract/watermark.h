/* The watermarks of extract tasks in the state database (migration 12 of
 * core/store.c): the committed one a try starts from, and the one it
 * proposes, which becomes the committed one in the transaction that makes
 * the try a success (a trigger on its task instance), and never otherwise. */
#ifndef SLUICE_EXTRACT_WATERMARK_H
#define SLUICE_EXTRACT_WATERMARK_H

#include <jansson.h>

#include "base/err.h"
#include "core/taskenv.h"

/* The committed watermark of env's task (project, pipeline, task): a new
 * reference, or NULL in *out when there is none (or no state database: an
 * ad-hoc run). */
int watermark_get(const struct task_env *env, json_t **out, struct err *err);
/* Proposes value for env's try. */
int watermark_propose(const struct task_env *env, const json_t *value, struct err *err);

#endif
