/* Watermarks in the state database (core/extract/watermark.h): the SQL of
 * this module, in one place. */
#include "core/extract/watermark.h"

#include <stdio.h>
#include <stdlib.h>

#include "connectors/pg.h"

static const char sql_get[] =
	"SELECT value::text FROM sluice.watermarks WHERE project = $1 AND pipeline = $2 AND task = $3";
static const char sql_propose[] =
	"INSERT INTO sluice.watermarks_pending (ti_id, try_number, value)"
	" SELECT t.id, $3::int, $4::jsonb FROM sluice.task_instances t"
	"  WHERE t.run_id = $1::bigint AND t.task = $2 AND t.try_number = $3::int"
	" ON CONFLICT (ti_id, try_number) DO UPDATE SET value = EXCLUDED.value, created_at = now()";

int watermark_get(const struct task_env *env, json_t **out, struct err *err)
{
	*out = NULL;
	if (!env->state_conninfo || env->run_id <= 0 || !env->pipeline || !env->task)
		return 0;
	struct pg_conn *c = pg_connect(env->state_conninfo, "state database", err);
	if (!c)
		return err_code(err);
	const char *p[3] = {env->project ? env->project : "", env->pipeline, env->task};
	struct pg_result *r = pg_exec(c, sql_get, 3, p, err);
	int rc = r ? 0 : err_code(err);
	if (r && pg_rows(r) == 1) {
		json_error_t je;
		*out = json_loads(pg_val(r, 0, 0), JSON_DECODE_ANY, &je);
	}
	pg_clear(r);
	pg_close(c);
	return rc;
}

int watermark_propose(const struct task_env *env, const json_t *value, struct err *err)
{
	if (!env->state_conninfo || env->run_id <= 0 || !env->task)
		return 0;
	struct pg_conn *c = pg_connect(env->state_conninfo, "state database", err);
	if (!c)
		return err_code(err);
	char run[32], tr[16];
	snprintf(run, sizeof run, "%ld", env->run_id);
	snprintf(tr, sizeof tr, "%d", env->try_number);
	char *v = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
	const char *p[4] = {run, env->task, tr, v};
	int rc = pg_cmd(c, sql_propose, 4, p, err);
	free(v);
	pg_close(c);
	return rc;
}
