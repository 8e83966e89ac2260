/* The state store: migrations and every statement sluice runs on its own
 * schema. The multi-step transitions (advance, claim, finish_next) are PL/pgSQL
 * functions so each is one round trip and one transaction. */
#include "core/store.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "connectors/pg.h"

/* Key of the advisory lock that serializes migrations (any constant unlikely
 * to collide with a run id used by sluice.advance, which are positive and
 * small). */
#define MIGRATE_LOCK "-7313951577"

/* ---- migrations --------------------------------------------------------- */

static const char *const migrations[] = {
	/* 1: runs, task instances, tries, logs, workers */
	"CREATE TABLE sluice.runs ("
	"  id bigserial PRIMARY KEY,"
	"  project text NOT NULL,"
	"  pipeline text NOT NULL,"
	"  logical_date date NOT NULL,"
	"  params jsonb NOT NULL DEFAULT '{}',"
	"  trigger text NOT NULL CHECK (trigger IN ('manual','schedule','backfill')),"
	"  state text NOT NULL DEFAULT 'running' CHECK (state IN ('queued','running','success','failed')),"
	"  created_at timestamptz NOT NULL DEFAULT now(),"
	"  ended_at timestamptz);"
	"CREATE INDEX runs_project_pipeline ON sluice.runs (project, pipeline, id DESC);"
	"CREATE INDEX runs_active ON sluice.runs (project) WHERE state = 'running';"
	"CREATE TABLE sluice.task_instances ("
	"  id bigserial PRIMARY KEY,"
	"  run_id bigint NOT NULL REFERENCES sluice.runs(id) ON DELETE CASCADE,"
	"  task text NOT NULL,"
	"  state text NOT NULL DEFAULT 'scheduled' CHECK (state IN ('scheduled','queued','running','success',"
	"    'failed','up_for_retry','upstream_failed','skipped','removed')),"
	"  try_number int NOT NULL DEFAULT 0,"
	"  max_tries int NOT NULL DEFAULT 1,"
	"  failures int NOT NULL DEFAULT 0,"
	"  lost int NOT NULL DEFAULT 0,"
	"  retry_delay float8 NOT NULL DEFAULT 10,"
	"  retry_backoff float8 NOT NULL DEFAULT 2,"
	"  retry_max_delay float8 NOT NULL DEFAULT 3600,"
	"  worker text, host text, pid int,"
	"  heartbeat timestamptz,"
	"  queued_at timestamptz, started_at timestamptz, ended_at timestamptz,"
	"  next_try_at timestamptz,"
	"  exit_status int, error text,"
	"  rows_in bigint, rows_out bigint,"
	"  spec jsonb NOT NULL,"
	"  UNIQUE (run_id, task));"
	"CREATE INDEX ti_active ON sluice.task_instances (state) WHERE state IN ('queued','running','up_for_retry');"
	"CREATE TABLE sluice.task_edges ("
	"  run_id bigint NOT NULL REFERENCES sluice.runs(id) ON DELETE CASCADE,"
	"  upstream text NOT NULL, downstream text NOT NULL,"
	"  PRIMARY KEY (run_id, downstream, upstream));"
	"CREATE INDEX task_edges_up ON sluice.task_edges (run_id, upstream);"
	"CREATE TABLE sluice.task_tries ("
	"  ti_id bigint NOT NULL REFERENCES sluice.task_instances(id) ON DELETE CASCADE,"
	"  try_number int NOT NULL,"
	"  state text NOT NULL,"
	"  worker text, host text,"
	"  started_at timestamptz, ended_at timestamptz,"
	"  exit_status int, error text,"
	"  PRIMARY KEY (ti_id, try_number));"
	"CREATE TABLE sluice.task_logs ("
	"  ti_id bigint NOT NULL REFERENCES sluice.task_instances(id) ON DELETE CASCADE,"
	"  try_number int NOT NULL,"
	"  seq int NOT NULL,"
	"  ts timestamptz NOT NULL DEFAULT now(),"
	"  stream char(1) NOT NULL DEFAULT 'o',"
	"  line text NOT NULL,"
	"  PRIMARY KEY (ti_id, try_number, seq));"
	"CREATE TABLE sluice.schedules ("
	"  project text NOT NULL, pipeline text NOT NULL, last_fire timestamptz NOT NULL,"
	"  PRIMARY KEY (project, pipeline));"
	"CREATE TABLE sluice.workers ("
	"  name text PRIMARY KEY, host text, pid int, state text,"
	"  started_at timestamptz NOT NULL DEFAULT now(), heartbeat timestamptz NOT NULL DEFAULT now());"
	/* Every committed state change tells listeners which run moved
	 * (Postgres folds identical payloads of one transaction into one). */
	"CREATE FUNCTION sluice.notify_ti() RETURNS trigger LANGUAGE plpgsql AS $$"
	" BEGIN"
	"  PERFORM pg_notify('" STORE_CHANNEL "', 'run ' || NEW.run_id);"
	"  RETURN NULL;"
	" END $$;"
	"CREATE TRIGGER ti_notify_ins AFTER INSERT ON sluice.task_instances"
	"  FOR EACH ROW EXECUTE FUNCTION sluice.notify_ti();"
	"CREATE TRIGGER ti_notify_upd AFTER UPDATE ON sluice.task_instances"
	"  FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state OR OLD.try_number <> NEW.try_number)"
	"  EXECUTE FUNCTION sluice.notify_ti();"
	"CREATE FUNCTION sluice.notify_run() RETURNS trigger LANGUAGE plpgsql AS $$"
	" BEGIN"
	"  PERFORM pg_notify('" STORE_CHANNEL "', 'runstate ' || NEW.id || ' ' || NEW.state);"
	"  RETURN NULL;"
	" END $$;"
	"CREATE TRIGGER run_notify AFTER INSERT OR UPDATE OF state ON sluice.runs"
	"  FOR EACH ROW EXECUTE FUNCTION sluice.notify_run();"
	"CREATE FUNCTION sluice.notify_log() RETURNS trigger LANGUAGE plpgsql AS $$"
	" BEGIN"
	"  PERFORM pg_notify('" STORE_CHANNEL "', 'log ' || t) FROM (SELECT DISTINCT ti_id AS t FROM n) x;"
	"  RETURN NULL;"
	" END $$;"
	"CREATE TRIGGER log_notify AFTER INSERT ON sluice.task_logs"
	"  REFERENCING NEW TABLE AS n FOR EACH STATEMENT EXECUTE FUNCTION sluice.notify_log();"

	/* advance: upstream_failed, then queue what is ready, then settle
	 * finished runs. With p_task (a task that just ended) only what hangs below
	 * it is looked at, so the cost per task does not grow with the run.
	 * Serialized per run so two callers never deadlock. */
	"CREATE INDEX ti_run_active ON sluice.task_instances (run_id)"
	"  WHERE state IN ('scheduled','queued','running','up_for_retry');"
	"CREATE FUNCTION sluice.advance(p_project text, p_run bigint, p_task text DEFAULT NULL)"
	" RETURNS TABLE (ti bigint, try int) LANGUAGE plpgsql"
	/* Every statement here is keyed by run and task and has an index; right
	 * after a big run is created the statistics do not know its rows yet, and
	 * a sequential-scan nested loop would make each call O(run size). */
	" SET enable_seqscan = off AS $$"
	" DECLARE runs bigint[]; n int; d record;"
	" BEGIN"
	"  IF p_run IS NOT NULL AND p_run <> 0 THEN runs := ARRAY[p_run];"
	"  ELSE SELECT array_agg(id ORDER BY id) INTO runs FROM sluice.runs"
	"       WHERE project = p_project AND state = 'running'; END IF;"
	"  IF runs IS NULL THEN RETURN; END IF;"
	"  PERFORM pg_advisory_xact_lock(r) FROM unnest(runs) AS r ORDER BY r;"
	"  IF p_task IS NOT NULL THEN"
	/* Point lookups only, one candidate at a time: a set-based statement
	 * here gets a generic plan that walks every scheduled task of the run. */
	"   IF EXISTS (SELECT 1 FROM sluice.task_instances u WHERE u.run_id = p_run AND u.task = p_task"
	"       AND u.state IN ('failed','upstream_failed')) THEN"
	"    FOR d IN WITH RECURSIVE down(task) AS ("
	"       SELECT e.downstream FROM sluice.task_edges e WHERE e.run_id = p_run AND e.upstream = p_task"
	"       UNION SELECT e.downstream FROM sluice.task_edges e JOIN down w ON e.upstream = w.task"
	"       WHERE e.run_id = p_run)"
	"      SELECT task FROM down LOOP"
	"     UPDATE sluice.task_instances t SET state = 'upstream_failed', ended_at = now()"
	"      WHERE t.run_id = p_run AND t.task = d.task AND t.state = 'scheduled';"
	"    END LOOP;"
	"   ELSE"
	"    FOR d IN SELECT e.downstream AS task FROM sluice.task_edges e"
	"      WHERE e.run_id = p_run AND e.upstream = p_task ORDER BY 1 LOOP"
	"     UPDATE sluice.task_instances t SET state = 'queued', queued_at = now()"
	"      WHERE t.run_id = p_run AND t.task = d.task AND t.state = 'scheduled' AND NOT EXISTS ("
	"       SELECT 1 FROM sluice.task_edges e JOIN sluice.task_instances u"
	"         ON u.run_id = e.run_id AND u.task = e.upstream"
	"       WHERE e.run_id = p_run AND e.downstream = d.task AND u.state NOT IN ('success','skipped'))"
	"      RETURNING t.id, t.try_number INTO ti, try;"
	"     IF FOUND THEN RETURN NEXT; END IF;"
	"    END LOOP;"
	"   END IF;"
	"  ELSE"
	"   LOOP"
	"    UPDATE sluice.task_instances t SET state = 'upstream_failed', ended_at = now()"
	"     WHERE t.run_id = ANY(runs) AND t.state = 'scheduled' AND EXISTS ("
	"      SELECT 1 FROM sluice.task_edges e JOIN sluice.task_instances u"
	"        ON u.run_id = e.run_id AND u.task = e.upstream"
	"      WHERE e.run_id = t.run_id AND e.downstream = t.task"
	"        AND u.state IN ('failed','upstream_failed'));"
	"    GET DIAGNOSTICS n = ROW_COUNT;"
	"    EXIT WHEN n = 0;"
	"   END LOOP;"
	"   RETURN QUERY UPDATE sluice.task_instances t SET state = 'queued', queued_at = now()"
	"    WHERE t.run_id = ANY(runs) AND t.state = 'scheduled' AND NOT EXISTS ("
	"      SELECT 1 FROM sluice.task_edges e JOIN sluice.task_instances u"
	"        ON u.run_id = e.run_id AND u.task = e.upstream"
	"      WHERE e.run_id = t.run_id AND e.downstream = t.task"
	"        AND u.state NOT IN ('success','skipped'))"
	"    RETURNING t.id, t.try_number;"
	"  END IF;"
	"  UPDATE sluice.runs r SET ended_at = now(), state = CASE WHEN EXISTS ("
	"     SELECT 1 FROM sluice.task_instances t WHERE t.run_id = r.id"
	"       AND t.state NOT IN ('success','skipped','removed')) THEN 'failed' ELSE 'success' END"
	"   WHERE r.id = ANY(runs) AND r.state = 'running' AND NOT EXISTS ("
	"     SELECT 1 FROM sluice.task_instances t WHERE t.run_id = r.id"
	"       AND t.state IN ('scheduled','queued','running','up_for_retry'));"
	" END $$;"

	/* claim: a queued try, or a running one whose worker stopped beating. */
	"CREATE FUNCTION sluice.claim(p_ti bigint, p_try int, p_worker text, p_host text, p_timeout float8)"
	" RETURNS TABLE (status text, run_id bigint, try int, task text, pipeline text, ds text, spec text,"
	"   old_host text, old_pid int) LANGUAGE plpgsql SET enable_seqscan = off AS $$"
	" DECLARE t sluice.task_instances%ROWTYPE; stale bool;"
	" BEGIN"
	"  SELECT * INTO t FROM sluice.task_instances WHERE id = p_ti FOR UPDATE;"
	"  IF NOT FOUND THEN status := 'gone'; RETURN NEXT; RETURN; END IF;"
	"  stale := t.state = 'running' AND t.heartbeat < now() - make_interval(secs => p_timeout);"
	"  IF t.state = 'running' AND NOT stale THEN status := 'alive'; RETURN NEXT; RETURN; END IF;"
	"  IF NOT stale AND NOT (t.state = 'queued' AND t.try_number = p_try) THEN"
	"   status := 'moved'; RETURN NEXT; RETURN; END IF;"
	"  IF stale THEN"
	"   INSERT INTO sluice.task_tries VALUES (t.id, t.try_number, 'lost', t.worker, t.host, t.started_at,"
	"     now(), NULL, 'worker ' || t.worker || ' stopped heartbeating')"
	"    ON CONFLICT (ti_id, try_number) DO NOTHING;"
	"   IF t.lost + 1 >= 3 THEN"
	"    UPDATE sluice.task_instances SET state = 'failed', lost = lost + 1, ended_at = now(),"
	"      error = 'lost its worker 3 times' WHERE id = p_ti;"
	"    status := 'moved'; RETURN NEXT; RETURN;"
	"   END IF;"
	"  END IF;"
	"  UPDATE sluice.task_instances SET state = 'running', try_number = t.try_number + 1,"
	"    lost = lost + stale::int, worker = p_worker, host = p_host, pid = NULL, heartbeat = now(),"
	"    started_at = now(), ended_at = NULL, exit_status = NULL, error = NULL, next_try_at = NULL"
	"   WHERE id = p_ti;"
	"  status := CASE WHEN stale THEN 'takeover' ELSE 'claimed' END;"
	"  SELECT r.id, r.pipeline, r.logical_date::text INTO run_id, pipeline, ds FROM sluice.runs r"
	"   WHERE r.id = t.run_id;"
	"  try := t.try_number + 1; task := t.task; spec := t.spec::text;"
	"  old_host := CASE WHEN stale THEN t.host END; old_pid := CASE WHEN stale THEN t.pid END;"
	"  RETURN NEXT;"
	" END $$;"

	/* finish: fenced by (ti, try, worker); the retry budget decides the state. */
	"CREATE FUNCTION sluice.finish(p_ti bigint, p_try int, p_worker text, p_ok bool, p_exit int, p_error text)"
	" RETURNS text LANGUAGE plpgsql SET enable_seqscan = off AS $$"
	" DECLARE t sluice.task_instances%ROWTYPE; st text;"
	" BEGIN"
	"  SELECT * INTO t FROM sluice.task_instances WHERE id = p_ti FOR UPDATE;"
	"  IF NOT FOUND OR t.state <> 'running' OR t.try_number <> p_try OR t.worker IS DISTINCT FROM p_worker THEN"
	"   RETURN NULL; END IF;"
	"  st := CASE WHEN p_ok THEN 'success' WHEN t.failures + 1 < t.max_tries THEN 'up_for_retry'"
	"        ELSE 'failed' END;"
	"  UPDATE sluice.task_instances SET state = st, failures = failures + (NOT p_ok)::int,"
	"    ended_at = now(), exit_status = p_exit, error = p_error,"
	"    next_try_at = CASE WHEN st = 'up_for_retry' THEN now() + make_interval(secs =>"
	"      least(retry_max_delay, retry_delay * power(retry_backoff, t.failures))) END"
	"   WHERE id = p_ti;"
	"  INSERT INTO sluice.task_tries VALUES (t.id, p_try, CASE WHEN p_ok THEN 'success' ELSE 'failed' END,"
	"    t.worker, t.host, t.started_at, now(), p_exit, p_error)"
	"   ON CONFLICT (ti_id, try_number) DO UPDATE SET state = EXCLUDED.state, ended_at = EXCLUDED.ended_at,"
	"    exit_status = EXCLUDED.exit_status, error = EXCLUDED.error;"
	"  RETURN st;"
	" END $$;"
	/* finish and advance in one round trip and one commit: every row carries
	 * the new state; ti/try are what became queued (NULL if nothing did). */
	"CREATE FUNCTION sluice.finish_advance(p_project text, p_ti bigint, p_try int, p_worker text,"
	"   p_ok bool, p_exit int, p_error text)"
	" RETURNS TABLE (state text, ti bigint, try int) LANGUAGE plpgsql AS $$"
	" DECLARE st text; r bigint; tk text;"
	" BEGIN"
	"  st := sluice.finish(p_ti, p_try, p_worker, p_ok, p_exit, p_error);"
	"  IF st IS NULL THEN RETURN; END IF;"
	"  SELECT t.run_id, t.task INTO r, tk FROM sluice.task_instances t WHERE t.id = p_ti;"
	"  RETURN QUERY SELECT st, a.ti, a.try FROM sluice.advance(p_project, r, tk) a;"
	"  IF NOT FOUND THEN state := st; RETURN NEXT; END IF;"
	" END $$;",

	/* 2: loads and the rows they rejected (run_id NULL for an ad-hoc load) */
	"CREATE TABLE sluice.loads ("
	"  id bigserial PRIMARY KEY,"
	"  project text NOT NULL,"
	"  run_id bigint REFERENCES sluice.runs(id) ON DELETE CASCADE,"
	"  task text, try_number int,"
	"  source text NOT NULL, target text NOT NULL, mode text NOT NULL,"
	"  state text NOT NULL DEFAULT 'running' CHECK (state IN ('running','success','failed')),"
	"  rows_in bigint, rows_loaded bigint, rows_rejected bigint, error text,"
	"  started_at timestamptz NOT NULL DEFAULT now(), ended_at timestamptz);"
	"CREATE INDEX loads_run ON sluice.loads (run_id, task, id DESC) WHERE run_id IS NOT NULL;"
	"CREATE TABLE sluice.rejects ("
	"  id bigserial PRIMARY KEY,"
	"  load_id bigint NOT NULL REFERENCES sluice.loads(id) ON DELETE CASCADE,"
	"  run_id bigint, task text,"
	"  source text NOT NULL, line bigint, col text, reason text NOT NULL, raw text,"
	"  created_at timestamptz NOT NULL DEFAULT now());"
	"CREATE INDEX rejects_load ON sluice.rejects (load_id, line);",

	/* 3: the operator's transitions. downstream is the one definition of
	 * "a task and everything below it in its run"; clear and mark each lock,
	 * change and reopen the run in one statement, so a worker still running a
	 * try is fenced off (its worker is cleared: finish and heartbeat miss). */
	"CREATE FUNCTION sluice.downstream(p_run bigint, p_task text) RETURNS SETOF text"
	" LANGUAGE sql STABLE AS $$"
	"  WITH RECURSIVE down(task) AS ("
	"   SELECT p_task"
	"   UNION SELECT e.downstream FROM sluice.task_edges e JOIN down d ON e.upstream = d.task"
	"    WHERE e.run_id = p_run)"
	"  SELECT task FROM down $$;"
	/* clear: back to scheduled with a fresh retry budget; returns each
	 * task touched with the state it was in (p_dry: only lists them). */
	"CREATE FUNCTION sluice.clear(p_run bigint, p_task text, p_downstream bool, p_only_failed bool, p_dry bool)"
	" RETURNS TABLE (task text, state text) LANGUAGE plpgsql AS $$"
	" #variable_conflict use_column"
	" BEGIN"
	"  IF p_dry THEN"
	"   RETURN QUERY SELECT t.task, t.state FROM sluice.task_instances t"
	"    WHERE t.run_id = p_run AND (t.task = p_task OR (p_downstream AND t.task IN ("
	"      SELECT sluice.downstream(p_run, p_task))))"
	"      AND (NOT p_only_failed OR t.state IN ('failed','upstream_failed','up_for_retry'))"
	"    ORDER BY t.id;"
	"   RETURN;"
	"  END IF;"
	"  RETURN QUERY WITH old AS ("
	"    SELECT t.id, t.task, t.state FROM sluice.task_instances t"
	"    WHERE t.run_id = p_run AND (t.task = p_task OR (p_downstream AND t.task IN ("
	"      SELECT sluice.downstream(p_run, p_task))))"
	"      AND (NOT p_only_failed OR t.state IN ('failed','upstream_failed','up_for_retry'))"
	"    FOR UPDATE OF t),"
	"   done AS (UPDATE sluice.task_instances t SET state = 'scheduled', failures = 0, lost = 0,"
	"     worker = NULL, pid = NULL, heartbeat = NULL, queued_at = NULL, ended_at = NULL,"
	"     next_try_at = NULL, exit_status = NULL, error = NULL"
	"    FROM old WHERE t.id = old.id RETURNING old.id, old.task, old.state)"
	"   SELECT d.task, d.state FROM done d ORDER BY d.id;"
	"  UPDATE sluice.runs SET state = 'running', ended_at = NULL WHERE id = p_run;"
	" END $$;"
	/* mark: success or failed by hand. Returns the task with the state it
	 * was in; when that already was p_state nothing changed. A task marked
	 * success lets the downstream its failure held back run again. */
	"CREATE FUNCTION sluice.mark(p_run bigint, p_task text, p_state text)"
	" RETURNS TABLE (task text, state text) LANGUAGE plpgsql AS $$"
	" #variable_conflict use_column"
	" DECLARE cur sluice.task_instances%ROWTYPE;"
	" BEGIN"
	"  IF p_state IS NULL OR p_state NOT IN ('success','failed') THEN"
	"   RAISE EXCEPTION 'mark: ''%'' is not success or failed', p_state; END IF;"
	"  SELECT * INTO cur FROM sluice.task_instances t WHERE t.run_id = p_run AND t.task = p_task FOR UPDATE;"
	"  IF NOT FOUND THEN RETURN; END IF;"
	"  task := cur.task; state := cur.state;"
	"  IF cur.state = p_state THEN RETURN NEXT; RETURN; END IF;"
	"  UPDATE sluice.task_instances t SET state = p_state, worker = NULL, heartbeat = NULL, next_try_at = NULL,"
	"    ended_at = CASE WHEN cur.state IN ('running','queued','scheduled','up_for_retry') THEN now()"
	"      ELSE t.ended_at END,"
	"    error = CASE WHEN p_state = 'failed' THEN 'marked failed by an operator' END"
	"   WHERE t.id = cur.id;"
	"  IF p_state = 'success' THEN"
	"   UPDATE sluice.task_instances t SET state = 'scheduled', ended_at = NULL"
	"    WHERE t.run_id = p_run AND t.state = 'upstream_failed'"
	"      AND t.task IN (SELECT sluice.downstream(p_run, p_task));"
	"  END IF;"
	"  UPDATE sluice.runs SET state = 'running', ended_at = NULL WHERE id = p_run;"
	"  RETURN NEXT;"
" END $$;",

	/* 4: finish_next, the end of a try in as few statements as it takes: the
	 * fenced update, the try's row, the downstream tasks it made ready queued
	 * in one statement, and (p_host given) the first of them claimed for the
	 * same worker, so a chain of tasks needs no queue round trip and one
	 * commit per task. Failures and retries keep the general advance
	 * (upstream_failed below them). */
	"CREATE OR REPLACE FUNCTION sluice.finish_next(p_project text, p_ti bigint, p_try int, p_worker text,"
	"   p_ok bool, p_exit int, p_error text, p_host text)"
	" RETURNS TABLE (state text, ti bigint, try int, claimed bool, run_id bigint, task text, pipeline text,"
	"   ds text, spec text) LANGUAGE plpgsql SET enable_seqscan = off AS $$"
	" DECLARE st text; r bigint; tk text; w_host text; w_start timestamptz; downs bigint[]; ids bigint[]; tries int[];"
	"   k int := 1;"
	" BEGIN"
	"  UPDATE sluice.task_instances t SET"
	"    state = CASE WHEN p_ok THEN 'success' WHEN t.failures + 1 < t.max_tries THEN 'up_for_retry'"
	"      ELSE 'failed' END,"
	"    failures = t.failures + (NOT p_ok)::int, ended_at = now(), exit_status = p_exit, error = p_error,"
	"    next_try_at = CASE WHEN NOT p_ok AND t.failures + 1 < t.max_tries THEN now() + make_interval(secs =>"
	"      least(t.retry_max_delay, t.retry_delay * power(t.retry_backoff, t.failures))) END"
	"   WHERE t.id = p_ti AND t.state = 'running' AND t.try_number = p_try AND t.worker = p_worker"
	"   RETURNING t.state, t.run_id, t.task, t.host, t.started_at INTO st, r, tk, w_host, w_start;"
	"  IF NOT FOUND THEN RETURN; END IF;"
	"  INSERT INTO sluice.task_tries VALUES (p_ti, p_try, CASE WHEN p_ok THEN 'success' ELSE 'failed' END,"
	"    p_worker, w_host, w_start, now(), p_exit, p_error)"
	"   ON CONFLICT (ti_id, try_number) DO UPDATE SET state = EXCLUDED.state, ended_at = EXCLUDED.ended_at,"
	"    exit_status = EXCLUDED.exit_status, error = EXCLUDED.error;"
	"  IF st <> 'success' THEN"
	"   RETURN QUERY SELECT st, a.ti, a.try, false, NULL::bigint, NULL::text, NULL::text, NULL::text, NULL::text"
	"    FROM sluice.advance(p_project, r, tk) a;"
	"   IF NOT FOUND THEN state := st; claimed := false; RETURN NEXT; END IF;"
	"   RETURN;"
	"  END IF;"
	/* No lock on the whole run (it would make every end wait for the
	 * commit of the one before): the tasks below are locked instead, in id
	 * order, and checked by the next statement, whose snapshot is newer than
	 * the lock. Of two ends that share a downstream task the second to take
	 * its lock sees the first committed, so one of them queues it. The rows
	 * are found by their keys only: a plain condition on state would let a
	 * generic plan walk the run-wide partial index of active tasks, which a
	 * big new run fills (hence the CASE, which no index predicate matches). */
	"  downs := ARRAY(SELECT d.id FROM sluice.task_edges e JOIN sluice.task_instances d"
	"    ON d.run_id = e.run_id AND d.task = e.downstream WHERE e.run_id = r AND e.upstream = tk);"
	"  PERFORM 1 FROM sluice.task_instances d WHERE d.id = ANY (downs) ORDER BY d.id FOR UPDATE;"
	"  WITH q AS (UPDATE sluice.task_instances d SET state = 'queued', queued_at = now()"
	"    WHERE d.id = ANY (downs) AND CASE d.state WHEN 'scheduled' THEN true END AND NOT EXISTS ("
	"      SELECT 1 FROM sluice.task_edges e JOIN sluice.task_instances u"
	"        ON u.run_id = e.run_id AND u.task = e.upstream"
	"      WHERE e.run_id = d.run_id AND e.downstream = d.task AND u.state NOT IN ('success','skipped'))"
	"    RETURNING d.id, d.try_number)"
	"  SELECT array_agg(q.id ORDER BY q.id), array_agg(q.try_number ORDER BY q.id) INTO ids, tries FROM q;"
	/* Nothing became ready: this may have been the run's last task. While
	 * tasks wait to start it was not; otherwise the run's row is locked and
	 * the next statement, with a newer snapshot, settles it (of two last
	 * ends, the second sees the first). */
	"  IF ids IS NULL AND NOT EXISTS (SELECT 1 FROM sluice.task_instances t WHERE t.run_id = r"
	"      AND t.state IN ('scheduled','queued','up_for_retry')) THEN"
	"   PERFORM 1 FROM sluice.runs x WHERE x.id = r FOR UPDATE;"
	"   UPDATE sluice.runs x SET ended_at = now(), state = CASE WHEN EXISTS ("
	"      SELECT 1 FROM sluice.task_instances t WHERE t.run_id = x.id"
	"        AND t.state NOT IN ('success','skipped','removed')) THEN 'failed' ELSE 'success' END"
	"    WHERE x.id = r AND x.state = 'running' AND NOT EXISTS ("
	"      SELECT 1 FROM sluice.task_instances t WHERE t.run_id = x.id"
	"        AND t.state IN ('scheduled','queued','running','up_for_retry'));"
	"  END IF;"
	"  IF ids IS NULL THEN state := st; claimed := false; RETURN NEXT; RETURN; END IF;"
	"  IF p_host IS NOT NULL THEN"
	/* the claim, as sluice.claim does it for a queued try */
	"   UPDATE sluice.task_instances t SET state = 'running', try_number = t.try_number + 1, worker = p_worker,"
	"     host = p_host, pid = NULL, heartbeat = now(), started_at = now(), ended_at = NULL, exit_status = NULL,"
	"     error = NULL, next_try_at = NULL"
	"    FROM sluice.runs x WHERE t.id = ids[1] AND t.state = 'queued' AND x.id = t.run_id"
	"    RETURNING t.id, t.try_number, t.run_id, t.task, x.pipeline, x.logical_date::text, t.spec::text"
	"    INTO ti, try, run_id, task, pipeline, ds, spec;"
	"   IF FOUND THEN state := st; claimed := true; RETURN NEXT; k := 2; END IF;"
	"  END IF;"
	"  run_id := NULL; task := NULL; pipeline := NULL; ds := NULL; spec := NULL; claimed := false;"
	"  FOR i IN k .. array_length(ids, 1) LOOP"
	"   state := st; ti := ids[i]; try := tries[i]; RETURN NEXT;"
	"  END LOOP;"
	" END $$;",

	/* 5: advance marks what hangs below a failed task through
	 * sluice.downstream (3), so "a task and everything below it" has one
	 * definition; otherwise it is migration 1's advance. */
	"CREATE OR REPLACE FUNCTION sluice.advance(p_project text, p_run bigint, p_task text DEFAULT NULL)"
	" RETURNS TABLE (ti bigint, try int) LANGUAGE plpgsql"
	/* Every statement here is keyed by run and task and has an index; right
	 * after a big run is created the statistics do not know its rows yet, and
	 * a sequential-scan nested loop would make each call O(run size). */
	" SET enable_seqscan = off AS $$"
	" DECLARE runs bigint[]; n int; d record;"
	" BEGIN"
	"  IF p_run IS NOT NULL AND p_run <> 0 THEN runs := ARRAY[p_run];"
	"  ELSE SELECT array_agg(id ORDER BY id) INTO runs FROM sluice.runs"
	"       WHERE project = p_project AND state = 'running'; END IF;"
	"  IF runs IS NULL THEN RETURN; END IF;"
	"  PERFORM pg_advisory_xact_lock(r) FROM unnest(runs) AS r ORDER BY r;"
	"  IF p_task IS NOT NULL THEN"
	/* Point lookups only, one candidate at a time: a set-based statement
	 * here gets a generic plan that walks every scheduled task of the run. */
	"   IF EXISTS (SELECT 1 FROM sluice.task_instances u WHERE u.run_id = p_run AND u.task = p_task"
	"       AND u.state IN ('failed','upstream_failed')) THEN"
	"    FOR d IN SELECT w.task FROM sluice.downstream(p_run, p_task) AS w(task) WHERE w.task <> p_task LOOP"
	"     UPDATE sluice.task_instances t SET state = 'upstream_failed', ended_at = now()"
	"      WHERE t.run_id = p_run AND t.task = d.task AND t.state = 'scheduled';"
	"    END LOOP;"
	"   ELSE"
	"    FOR d IN SELECT e.downstream AS task FROM sluice.task_edges e"
	"      WHERE e.run_id = p_run AND e.upstream = p_task ORDER BY 1 LOOP"
	"     UPDATE sluice.task_instances t SET state = 'queued', queued_at = now()"
	"      WHERE t.run_id = p_run AND t.task = d.task AND t.state = 'scheduled' AND NOT EXISTS ("
	"       SELECT 1 FROM sluice.task_edges e JOIN sluice.task_instances u"
	"         ON u.run_id = e.run_id AND u.task = e.upstream"
	"       WHERE e.run_id = p_run AND e.downstream = d.task AND u.state NOT IN ('success','skipped'))"
	"      RETURNING t.id, t.try_number INTO ti, try;"
	"     IF FOUND THEN RETURN NEXT; END IF;"
	"    END LOOP;"
	"   END IF;"
	"  ELSE"
	"   LOOP"
	"    UPDATE sluice.task_instances t SET state = 'upstream_failed', ended_at = now()"
	"     WHERE t.run_id = ANY(runs) AND t.state = 'scheduled' AND EXISTS ("
	"      SELECT 1 FROM sluice.task_edges e JOIN sluice.task_instances u"
	"        ON u.run_id = e.run_id AND u.task = e.upstream"
	"      WHERE e.run_id = t.run_id AND e.downstream = t.task"
	"        AND u.state IN ('failed','upstream_failed'));"
	"    GET DIAGNOSTICS n = ROW_COUNT;"
	"    EXIT WHEN n = 0;"
	"   END LOOP;"
	"   RETURN QUERY UPDATE sluice.task_instances t SET state = 'queued', queued_at = now()"
	"    WHERE t.run_id = ANY(runs) AND t.state = 'scheduled' AND NOT EXISTS ("
	"      SELECT 1 FROM sluice.task_edges e JOIN sluice.task_instances u"
	"        ON u.run_id = e.run_id AND u.task = e.upstream"
	"      WHERE e.run_id = t.run_id AND e.downstream = t.task"
	"        AND u.state NOT IN ('success','skipped'))"
	"    RETURNING t.id, t.try_number;"
	"  END IF;"
	"  UPDATE sluice.runs r SET ended_at = now(), state = CASE WHEN EXISTS ("
	"     SELECT 1 FROM sluice.task_instances t WHERE t.run_id = r.id"
	"       AND t.state NOT IN ('success','skipped','removed')) THEN 'failed' ELSE 'success' END"
	"   WHERE r.id = ANY(runs) AND r.state = 'running' AND NOT EXISTS ("
	"     SELECT 1 FROM sluice.task_instances t WHERE t.run_id = r.id"
	"       AND t.state IN ('scheduled','queued','running','up_for_retry'));"
	" END $$;",

	/* 6: each rule of the state machine defined once, as a function of its
	 * own, and the transitions built from them: end_try (the fenced end of a
	 * try and its row in task_tries), start_try (a try starts on a worker:
	 * the claim and the hand-off), queue_ready (what a task's success made
	 * ready) and settle_run (a run whose tasks are all final). finish and
	 * finish_advance, which nothing calls any more, go. */
	"CREATE FUNCTION sluice.end_try(p_ti bigint, p_try int, p_worker text, p_ok bool, p_exit int, p_error text)"
	" RETURNS TABLE (state text, run_id bigint, task text) LANGUAGE plpgsql AS $$"
	" DECLARE w_host text; w_start timestamptz;"
	" BEGIN"
	/* fenced by (ti, try, worker); the retry budget decides the state */
	"  UPDATE sluice.task_instances t SET"
	"    state = CASE WHEN p_ok THEN 'success' WHEN t.failures + 1 < t.max_tries THEN 'up_for_retry'"
	"      ELSE 'failed' END,"
	"    failures = t.failures + (NOT p_ok)::int, ended_at = now(), exit_status = p_exit, error = p_error,"
	"    next_try_at = CASE WHEN NOT p_ok AND t.failures + 1 < t.max_tries THEN now() + make_interval(secs =>"
	"      least(t.retry_max_delay, t.retry_delay * power(t.retry_backoff, t.failures))) END"
	"   WHERE t.id = p_ti AND CASE t.state WHEN 'running' THEN true END AND t.try_number = p_try"
	"     AND t.worker = p_worker"
	"   RETURNING t.state, t.run_id, t.task, t.host, t.started_at INTO state, run_id, task, w_host, w_start;"
	"  IF NOT FOUND THEN RETURN; END IF;"
	"  INSERT INTO sluice.task_tries VALUES (p_ti, p_try, CASE WHEN p_ok THEN 'success' ELSE 'failed' END,"
	"    p_worker, w_host, w_start, now(), p_exit, p_error)"
	"   ON CONFLICT (ti_id, try_number) DO UPDATE SET state = EXCLUDED.state, ended_at = EXCLUDED.ended_at,"
	"    exit_status = EXCLUDED.exit_status, error = EXCLUDED.error;"
	"  RETURN NEXT;"
	" END $$;"
	/* The next try of a queued task, or of a running one taken over (the
	 * caller holds its row and has decided); counts a takeover as lost.
	 * Here and in end_try the row is found by its id alone: a plain
	 * condition on state makes the plan walk the partial index of every
	 * active task (and the dead entries a big run leaves there). */
	"CREATE FUNCTION sluice.start_try(p_ti bigint, p_worker text, p_host text)"
	" RETURNS TABLE (try int, run_id bigint, task text, pipeline text, ds text, spec text) LANGUAGE plpgsql AS $$"
	" BEGIN"
	"  RETURN QUERY UPDATE sluice.task_instances t SET state = 'running', try_number = t.try_number + 1,"
	"    lost = t.lost + (t.state = 'running')::int, worker = p_worker, host = p_host, pid = NULL,"
	"    heartbeat = now(), started_at = now(), ended_at = NULL, exit_status = NULL, error = NULL,"
	"    next_try_at = NULL"
	"   FROM sluice.runs x WHERE t.id = p_ti AND CASE t.state WHEN 'queued' THEN true WHEN 'running' THEN true END"
	"     AND x.id = t.run_id"
	"   RETURNING t.try_number, t.run_id, t.task, x.pipeline, x.logical_date::text, t.spec::text;"
	" END $$;"
	/* The tasks right below p_task that its success made ready, queued and
	 * returned in id order. No lock on the whole run (it would make every end
	 * wait for the commit of the one before): the tasks below are locked
	 * instead, in id order, and checked by the next statement, whose snapshot
	 * is newer than the lock. Of two ends that share a downstream task the
	 * second to take its lock sees the first committed, so one of them queues
	 * it. The rows are found by their keys only: a plain condition on state
	 * would let a generic plan walk the run-wide partial index of active
	 * tasks, which a big new run fills (hence the CASE, which no index
	 * predicate matches), and each task is looked up by a subquery of its
	 * own, so no join order can start from every task of the run. Then the
	 * plans can be generic whatever the statistics said when they were made:
	 * a custom plan for an array of ids costs more to make than to run. */
	"CREATE FUNCTION sluice.queue_ready(p_run bigint, p_task text)"
	" RETURNS TABLE (ti bigint, try int) LANGUAGE plpgsql"
	" SET enable_seqscan = off SET plan_cache_mode = force_generic_plan AS $$"
	" DECLARE downs bigint[];"
	" BEGIN"
	"  downs := ARRAY(SELECT (SELECT d.id FROM sluice.task_instances d WHERE d.run_id = p_run"
	"    AND d.task = e.downstream) FROM sluice.task_edges e WHERE e.run_id = p_run AND e.upstream = p_task);"
	"  IF cardinality(downs) = 0 THEN RETURN; END IF;"
	"  PERFORM 1 FROM sluice.task_instances d WHERE d.id = ANY (downs) ORDER BY d.id FOR UPDATE;"
	"  RETURN QUERY WITH q AS (UPDATE sluice.task_instances d SET state = 'queued', queued_at = now()"
	"    WHERE d.id = ANY (downs) AND CASE d.state WHEN 'scheduled' THEN true END AND NOT EXISTS ("
	"      SELECT 1 FROM sluice.task_edges e WHERE e.run_id = d.run_id AND e.downstream = d.task"
	"        AND (SELECT u.state FROM sluice.task_instances u WHERE u.run_id = e.run_id AND u.task = e.upstream)"
	"          NOT IN ('success','skipped'))"
	"    RETURNING d.id, d.try_number)"
	"   SELECT q.id, q.try_number FROM q ORDER BY q.id;"
	" END $$;"
	/* A run whose every task is final ends: success when all succeeded (or
	 * were skipped or removed). Its row is locked first, so the check runs on
	 * a snapshot newer than the lock: of two last ends, the second sees the
	 * first. */
	"CREATE FUNCTION sluice.settle_run(p_run bigint) RETURNS void LANGUAGE plpgsql"
	" SET enable_seqscan = off AS $$"
	" BEGIN"
	"  PERFORM 1 FROM sluice.runs x WHERE x.id = p_run AND x.state = 'running' FOR UPDATE;"
	"  IF NOT FOUND THEN RETURN; END IF;"
	"  UPDATE sluice.runs x SET ended_at = now(), state = CASE WHEN EXISTS ("
	"     SELECT 1 FROM sluice.task_instances t WHERE t.run_id = x.id"
	"       AND t.state NOT IN ('success','skipped','removed')) THEN 'failed' ELSE 'success' END"
	"   WHERE x.id = p_run AND x.state = 'running' AND NOT EXISTS ("
	"     SELECT 1 FROM sluice.task_instances t WHERE t.run_id = x.id"
	"       AND t.state IN ('scheduled','queued','running','up_for_retry'));"
	" END $$;"

	/* claim: a queued try, or a running one whose worker stopped beating. */
	"CREATE OR REPLACE FUNCTION sluice.claim(p_ti bigint, p_try int, p_worker text, p_host text, p_timeout float8)"
	" RETURNS TABLE (status text, run_id bigint, try int, task text, pipeline text, ds text, spec text,"
	"   old_host text, old_pid int) LANGUAGE plpgsql SET enable_seqscan = off AS $$"
	" DECLARE t sluice.task_instances%ROWTYPE; stale bool;"
	" BEGIN"
	"  SELECT * INTO t FROM sluice.task_instances x WHERE x.id = p_ti FOR UPDATE;"
	"  IF NOT FOUND THEN status := 'gone'; RETURN NEXT; RETURN; END IF;"
	"  stale := t.state = 'running' AND t.heartbeat < now() - make_interval(secs => p_timeout);"
	"  IF t.state = 'running' AND NOT stale THEN status := 'alive'; RETURN NEXT; RETURN; END IF;"
	"  IF NOT stale AND NOT (t.state = 'queued' AND t.try_number = p_try) THEN"
	"   status := 'moved'; RETURN NEXT; RETURN; END IF;"
	"  IF stale THEN"
	"   INSERT INTO sluice.task_tries VALUES (t.id, t.try_number, 'lost', t.worker, t.host, t.started_at,"
	"     now(), NULL, 'worker ' || t.worker || ' stopped heartbeating')"
	"    ON CONFLICT (ti_id, try_number) DO NOTHING;"
	"   IF t.lost + 1 >= 3 THEN"
	"    UPDATE sluice.task_instances x SET state = 'failed', lost = x.lost + 1, ended_at = now(),"
	"      error = 'lost its worker 3 times' WHERE x.id = p_ti;"
	"    status := 'moved'; RETURN NEXT; RETURN;"
	"   END IF;"
	"  END IF;"
	"  SELECT s.try, s.run_id, s.task, s.pipeline, s.ds, s.spec INTO try, run_id, task, pipeline, ds, spec"
	"   FROM sluice.start_try(p_ti, p_worker, p_host) s;"
	"  status := CASE WHEN stale THEN 'takeover' ELSE 'claimed' END;"
	"  old_host := CASE WHEN stale THEN t.host END; old_pid := CASE WHEN stale THEN t.pid END;"
	"  RETURN NEXT;"
	" END $$;"

	/* advance: upstream_failed, then queue what is ready, then settle
	 * finished runs. With p_task (a task that just ended) only what hangs below
	 * it is looked at, so the cost per task does not grow with the run.
	 * Serialized per run so two callers never deadlock. */
	"CREATE OR REPLACE FUNCTION sluice.advance(p_project text, p_run bigint, p_task text DEFAULT NULL)"
	" RETURNS TABLE (ti bigint, try int) LANGUAGE plpgsql"
	/* Every statement here is keyed by run and task and has an index; right
	 * after a big run is created the statistics do not know its rows yet, and
	 * a sequential-scan nested loop would make each call O(run size). */
	" SET enable_seqscan = off AS $$"
	" DECLARE runs bigint[]; n int; d record;"
	" BEGIN"
	"  IF p_run IS NOT NULL AND p_run <> 0 THEN runs := ARRAY[p_run];"
	"  ELSE SELECT array_agg(id ORDER BY id) INTO runs FROM sluice.runs"
	"       WHERE project = p_project AND state = 'running'; END IF;"
	"  IF runs IS NULL THEN RETURN; END IF;"
	"  PERFORM pg_advisory_xact_lock(r) FROM unnest(runs) AS r ORDER BY r;"
	"  IF p_task IS NOT NULL THEN"
	"   IF EXISTS (SELECT 1 FROM sluice.task_instances u WHERE u.run_id = p_run AND u.task = p_task"
	"       AND u.state IN ('failed','upstream_failed')) THEN"
	/* point lookups only, one candidate at a time: a set-based statement
	 * here gets a generic plan that walks every scheduled task of the run */
	"    FOR d IN SELECT w.task FROM sluice.downstream(p_run, p_task) AS w(task) WHERE w.task <> p_task LOOP"
	"     UPDATE sluice.task_instances t SET state = 'upstream_failed', ended_at = now()"
	"      WHERE t.run_id = p_run AND t.task = d.task AND t.state = 'scheduled';"
	"    END LOOP;"
	"   ELSE"
	"    RETURN QUERY SELECT q.ti, q.try FROM sluice.queue_ready(p_run, p_task) q;"
	"   END IF;"
	"  ELSE"
	"   LOOP"
	"    UPDATE sluice.task_instances t SET state = 'upstream_failed', ended_at = now()"
	"     WHERE t.run_id = ANY(runs) AND t.state = 'scheduled' AND EXISTS ("
	"      SELECT 1 FROM sluice.task_edges e JOIN sluice.task_instances u"
	"        ON u.run_id = e.run_id AND u.task = e.upstream"
	"      WHERE e.run_id = t.run_id AND e.downstream = t.task"
	"        AND u.state IN ('failed','upstream_failed'));"
	"    GET DIAGNOSTICS n = ROW_COUNT;"
	"    EXIT WHEN n = 0;"
	"   END LOOP;"
	"   RETURN QUERY UPDATE sluice.task_instances t SET state = 'queued', queued_at = now()"
	"    WHERE t.run_id = ANY(runs) AND t.state = 'scheduled' AND NOT EXISTS ("
	"      SELECT 1 FROM sluice.task_edges e JOIN sluice.task_instances u"
	"        ON u.run_id = e.run_id AND u.task = e.upstream"
	"      WHERE e.run_id = t.run_id AND e.downstream = t.task"
	"        AND u.state NOT IN ('success','skipped'))"
	"    RETURNING t.id, t.try_number;"
	"  END IF;"
	"  PERFORM sluice.settle_run(r) FROM unnest(runs) AS r ORDER BY r;"
	" END $$;"

	/* finish_next, the end of a try in as few statements as it takes: the
	 * end, the downstream tasks it made ready, and (p_host given) the first
	 * of them started for the same worker, so a chain of tasks needs no queue
	 * round trip and one commit per task. Failures and retries go through
	 * advance (upstream_failed below them). */
	"CREATE OR REPLACE FUNCTION sluice.finish_next(p_project text, p_ti bigint, p_try int, p_worker text,"
	"   p_ok bool, p_exit int, p_error text, p_host text)"
	" RETURNS TABLE (state text, ti bigint, try int, claimed bool, run_id bigint, task text, pipeline text,"
	"   ds text, spec text) LANGUAGE plpgsql SET enable_seqscan = off AS $$"
	" DECLARE e record; s record; ids bigint[]; tries int[]; k int := 1;"
	" BEGIN"
	"  SELECT * INTO e FROM sluice.end_try(p_ti, p_try, p_worker, p_ok, p_exit, p_error);"
	"  IF NOT FOUND THEN RETURN; END IF;"
	"  state := e.state; claimed := false;"
	"  IF e.state <> 'success' THEN"
	"   RETURN QUERY SELECT e.state, a.ti, a.try, false, NULL::bigint, NULL::text, NULL::text, NULL::text, NULL::text"
	"    FROM sluice.advance(p_project, e.run_id, e.task) a;"
	"   IF NOT FOUND THEN RETURN NEXT; END IF;"
	"   RETURN;"
	"  END IF;"
	"  SELECT array_agg(q.ti ORDER BY q.ti), array_agg(q.try ORDER BY q.ti) INTO ids, tries"
	"   FROM sluice.queue_ready(e.run_id, e.task) q;"
	/* Nothing became ready: this may have been the run's last task. While
	 * tasks wait to start it was not (a keyed look, no lock). */
	"  IF ids IS NULL THEN"
	"   IF NOT EXISTS (SELECT 1 FROM sluice.task_instances t WHERE t.run_id = e.run_id"
	"       AND t.state IN ('scheduled','queued','up_for_retry')) THEN"
	"    PERFORM sluice.settle_run(e.run_id);"
	"   END IF;"
	"   RETURN NEXT; RETURN;"
	"  END IF;"
	"  IF p_host IS NOT NULL THEN"
	"   SELECT * INTO s FROM sluice.start_try(ids[1], p_worker, p_host);"
	"   IF FOUND THEN"
	"    ti := ids[1]; try := s.try; claimed := true; run_id := s.run_id; task := s.task;"
	"    pipeline := s.pipeline; ds := s.ds; spec := s.spec;"
	"    RETURN NEXT; k := 2;"
	"   END IF;"
	"  END IF;"
	"  run_id := NULL; task := NULL; pipeline := NULL; ds := NULL; spec := NULL; claimed := false;"
	"  FOR i IN k .. array_length(ids, 1) LOOP"
	"   ti := ids[i]; try := tries[i]; RETURN NEXT;"
	"  END LOOP;"
	" END $$;"
	"DROP FUNCTION sluice.finish_advance(text, bigint, int, text, bool, int, text);"
	"DROP FUNCTION sluice.finish(bigint, int, text, bool, int, text);",

	/* 7: staleness and restarts of the database. A try's worker cannot
	 * heartbeat while the database is down, so right after it is back every
	 * running try would look stale, and a takeover would run again a task
	 * that is still running or that just finished (its worker keeps the end
	 * until it can commit it). So a try is stale only when its heartbeat is
	 * older than the timeout AND the server has been up longer than the
	 * timeout: after a restart each worker gets a whole timeout to reconnect
	 * and beat or record its end. Everything that decides staleness goes
	 * through beat_stale (claim here, the scheduler's sweep in store_stale). */
	"CREATE OR REPLACE FUNCTION sluice.beat_stale(p_beat timestamptz, p_timeout float8) RETURNS bool"
	" LANGUAGE sql STABLE AS $$"
	" SELECT p_beat < now() - make_interval(secs => p_timeout)"
	"   AND pg_postmaster_start_time() < now() - make_interval(secs => p_timeout) $$;"
	"CREATE OR REPLACE FUNCTION sluice.claim(p_ti bigint, p_try int, p_worker text, p_host text, p_timeout float8)"
	" RETURNS TABLE (status text, run_id bigint, try int, task text, pipeline text, ds text, spec text,"
	"   old_host text, old_pid int) LANGUAGE plpgsql SET enable_seqscan = off AS $$"
	" DECLARE t sluice.task_instances%ROWTYPE; stale bool;"
	" BEGIN"
	"  SELECT * INTO t FROM sluice.task_instances x WHERE x.id = p_ti FOR UPDATE;"
	"  IF NOT FOUND THEN status := 'gone'; RETURN NEXT; RETURN; END IF;"
	"  stale := t.state = 'running' AND sluice.beat_stale(t.heartbeat, p_timeout);"
	"  IF t.state = 'running' AND NOT stale THEN status := 'alive'; RETURN NEXT; RETURN; END IF;"
	"  IF NOT stale AND NOT (t.state = 'queued' AND t.try_number = p_try) THEN"
	"   status := 'moved'; RETURN NEXT; RETURN; END IF;"
	"  IF stale THEN"
	"   INSERT INTO sluice.task_tries VALUES (t.id, t.try_number, 'lost', t.worker, t.host, t.started_at,"
	"     now(), NULL, 'worker ' || t.worker || ' stopped heartbeating')"
	"    ON CONFLICT (ti_id, try_number) DO NOTHING;"
	"   IF t.lost + 1 >= 3 THEN"
	"    UPDATE sluice.task_instances x SET state = 'failed', lost = x.lost + 1, ended_at = now(),"
	"      error = 'lost its worker 3 times' WHERE x.id = p_ti;"
	"    status := 'moved'; RETURN NEXT; RETURN;"
	"   END IF;"
	"  END IF;"
	"  SELECT s.try, s.run_id, s.task, s.pipeline, s.ds, s.spec INTO try, run_id, task, pipeline, ds, spec"
	"   FROM sluice.start_try(p_ti, p_worker, p_host) s;"
	"  status := CASE WHEN stale THEN 'takeover' ELSE 'claimed' END;"
	"  old_host := CASE WHEN stale THEN t.host END; old_pid := CASE WHEN stale THEN t.pid END;"
	"  RETURN NEXT;"
	" END $$;",
	/* 8: the process that runs a load (pid, host, and its start: boot id and
	 * start time, so a reused pid is not taken for it), so whoever looks on
	 * that host can tell a load whose process is gone and mark it lost. */
	"ALTER TABLE sluice.loads ADD COLUMN pid int, ADD COLUMN host text, ADD COLUMN pid_start text;"
	"ALTER TABLE sluice.loads DROP CONSTRAINT loads_state_check,"
	"  ADD CONSTRAINT loads_state_check CHECK (state IN ('running','success','failed','lost'));"
	"CREATE INDEX loads_running ON sluice.loads (host) WHERE state = 'running';",

	/* 9: check results, every run of every check kept, and the failing
	 * rows each kept (core/checkstore.c writes and reads them) */
	"CREATE TABLE sluice.check_results ("
	"  id bigserial PRIMARY KEY,"
	"  project text NOT NULL,"
	"  check_name text NOT NULL,"
	"  kind text NOT NULL,"
	"  model text,"
	"  run_id bigint REFERENCES sluice.runs(id) ON DELETE CASCADE,"
	"  task text, ti_id bigint, try_number int,"
	"  status text NOT NULL CHECK (status IN ('pass','warn','fail','error')),"
	"  severity text NOT NULL CHECK (severity IN ('error','warn')),"
	"  failing bigint, total bigint, threshold text, duration_s float8,"
	"  sql text, params jsonb, detail jsonb, error text,"
	"  n_failures int NOT NULL DEFAULT 0,"
	"  created_at timestamptz NOT NULL DEFAULT now());"
	"CREATE INDEX check_results_check ON sluice.check_results (project, check_name, id DESC);"
	"CREATE INDEX check_results_run ON sluice.check_results (run_id, task, try_number);"
	"CREATE TABLE sluice.check_failures ("
	"  result_id bigint NOT NULL REFERENCES sluice.check_results(id) ON DELETE CASCADE,"
	"  row_no int NOT NULL,"
	"  key jsonb, col text, row jsonb,"
	"  PRIMARY KEY (result_id, row_no));",

	/* reports: each run's result of a report task, its first rows kept
	 * (core/reportstore.c writes and reads them) */
	"CREATE TABLE sluice.report_results ("
	"  id bigserial PRIMARY KEY,"
	"  project text NOT NULL,"
	"  report text NOT NULL,"
	"  title text,"
	"  run_id bigint REFERENCES sluice.runs(id) ON DELETE CASCADE,"
	"  task text, ti_id bigint, try_number int,"
	"  columns jsonb NOT NULL,"
	"  rows jsonb NOT NULL,"
	"  n_rows int NOT NULL,"
	"  total_rows bigint NOT NULL,"
	"  truncated boolean NOT NULL,"
	"  chart jsonb,"
	"  duration_s float8,"
	"  sql text,"
	"  created_at timestamptz NOT NULL DEFAULT now());"
	"CREATE INDEX report_results_report ON sluice.report_results (project, report, id DESC);"
	"CREATE INDEX report_results_run ON sluice.report_results (run_id, report);",
	/* 10: backfills (core/backfill.c): a range of logical dates of a
	 * pipeline run under a limit of its own, each date's decision kept (a
	 * new run, a re-run of an earlier one, or skipped and why) and the run
	 * it started. A date is taken (state started, with the id of the run
	 * about to be created) before its run exists, so a runner that dies in
	 * between creates that same run when it comes back, never a second one.
	 * A run knows its backfill (runs.backfill_id): set on insert from the
	 * date that reserved its id, and by a re-run. */
	"CREATE TABLE sluice.backfills ("
	"  id bigserial PRIMARY KEY,"
	"  project text NOT NULL,"
	"  pipeline text NOT NULL,"
	"  from_date date NOT NULL, to_date date NOT NULL,"
	"  reprocess text NOT NULL CHECK (reprocess IN ('missing','failed','all')),"
	"  max_parallel int NOT NULL CHECK (max_parallel >= 1),"
	"  backwards bool NOT NULL DEFAULT false,"
	"  params jsonb NOT NULL DEFAULT '{}',"
	"  state text NOT NULL DEFAULT 'running'"
	"    CHECK (state IN ('running','paused','cancelled','success','failed')),"
	"  created_by text,"
	"  created_at timestamptz NOT NULL DEFAULT now(),"
	"  ended_at timestamptz);"
	"CREATE INDEX backfills_project ON sluice.backfills (project, id DESC);"
	"CREATE TABLE sluice.backfill_dates ("
	"  backfill_id bigint NOT NULL REFERENCES sluice.backfills(id) ON DELETE CASCADE,"
	"  logical_date date NOT NULL,"
	"  seq int NOT NULL,"
	"  action text NOT NULL CHECK (action IN ('create','rerun','skip')),"
	"  reason text,"
	"  prior_run bigint,"
	"  run_id bigint,"
	"  state text NOT NULL DEFAULT 'pending'"
	"    CHECK (state IN ('pending','started','skipped','cancelled','error')),"
	"  started_at timestamptz,"
	"  PRIMARY KEY (backfill_id, logical_date));"
	"CREATE INDEX backfill_dates_next ON sluice.backfill_dates (backfill_id, seq) WHERE state = 'pending';"
	"CREATE INDEX backfill_dates_run ON sluice.backfill_dates (run_id) WHERE run_id IS NOT NULL;"
	"CREATE INDEX runs_pipeline_date ON sluice.runs (project, pipeline, logical_date, id DESC);"
	"ALTER TABLE sluice.runs ADD COLUMN backfill_id bigint REFERENCES sluice.backfills(id) ON DELETE SET NULL;"
	"CREATE FUNCTION sluice.run_backfill_id() RETURNS trigger LANGUAGE plpgsql AS $$"
	" BEGIN"
	"  NEW.backfill_id := (SELECT x.backfill_id FROM sluice.backfill_dates x WHERE x.run_id = NEW.id LIMIT 1);"
	"  RETURN NEW;"
	" END $$;"
	"CREATE TRIGGER run_backfill BEFORE INSERT ON sluice.runs"
	"  FOR EACH ROW WHEN (NEW.trigger = 'backfill') EXECUTE FUNCTION sluice.run_backfill_id();"
	/* A backfill created, paused, resumed or cancelled: runs are about to
	 * change, which ones is not known yet, and 'run 0' says just that to
	 * whoever listens (the runner drives backfills on it, the console
	 * looks again). */
	"CREATE FUNCTION sluice.notify_backfill() RETURNS trigger LANGUAGE plpgsql AS $$"
	" BEGIN"
	"  PERFORM pg_notify('" STORE_CHANNEL "', 'run 0');"
	"  RETURN NULL;"
	" END $$;"
	"CREATE TRIGGER backfill_notify AFTER INSERT OR UPDATE OF state ON sluice.backfills"
	"  FOR EACH ROW EXECUTE FUNCTION sluice.notify_backfill();"
	/* A date's re-run in one transaction: the date taken, the tasks cleared
	 * as `clear` does (all of them, or those that failed), the run reopened.
	 * NULL when the date was not pending any more. */
	"CREATE FUNCTION sluice.backfill_rerun(p_bf bigint, p_date date, p_all bool) RETURNS bigint"
	" LANGUAGE plpgsql AS $$"
	" DECLARE r bigint;"
	" BEGIN"
	"  UPDATE sluice.backfill_dates x SET state = 'started', run_id = x.prior_run, started_at = now()"
	"   WHERE x.backfill_id = p_bf AND x.logical_date = p_date AND x.state = 'pending'"
	"     AND EXISTS (SELECT 1 FROM sluice.backfills b WHERE b.id = p_bf AND b.state = 'running')"
	"   RETURNING x.run_id INTO r;"
	"  IF NOT FOUND OR r IS NULL THEN RETURN NULL; END IF;"
	"  PERFORM 1 FROM sluice.runs x WHERE x.id = r FOR UPDATE;"
	"  UPDATE sluice.task_instances t SET state = 'scheduled', failures = 0, lost = 0,"
	"    worker = NULL, pid = NULL, heartbeat = NULL, queued_at = NULL, ended_at = NULL,"
	"    next_try_at = NULL, exit_status = NULL, error = NULL"
	"   WHERE t.run_id = r AND (p_all OR t.state IN ('failed','upstream_failed','up_for_retry'));"
	"  UPDATE sluice.runs SET state = 'running', ended_at = NULL, backfill_id = p_bf WHERE id = r;"
	"  RETURN r;"
	" END $$;",

	/* 11: notices (core/notify.c): the outbox of failure notices, written
	 * by triggers in the transaction that ends the try or stores the check,
	 * so none is lost and none is made twice; the runner's sender delivers
	 * them. A check task that fails for good gives one notice, of its
	 * check ('check_fail'), not a second one of its task. */
	"CREATE TABLE sluice.notices ("
	"  id bigserial PRIMARY KEY,"
	"  project text NOT NULL,"
	"  event text NOT NULL CHECK (event IN ('failed','retry','check_fail','check_warn','test')),"
	"  run_id bigint REFERENCES sluice.runs(id) ON DELETE CASCADE,"
	"  pipeline text NOT NULL,"
	"  task text, ti_id bigint, try_number int, max_tries int,"
	"  detail text,"
	"  created_at timestamptz NOT NULL DEFAULT now(),"
	"  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','sent','failed','none')),"
	"  attempts int NOT NULL DEFAULT 0,"
	"  delivered int NOT NULL DEFAULT 0,"
	"  next_at timestamptz NOT NULL DEFAULT now(),"
	"  sent_at timestamptz,"
	"  last_error text);"
	"CREATE INDEX notices_pending ON sluice.notices (project, next_at) WHERE state = 'pending';"
	"CREATE INDEX notices_project ON sluice.notices (project, id DESC);"
	"CREATE FUNCTION sluice.notice_ti() RETURNS trigger LANGUAGE plpgsql AS $$"
	" DECLARE ev text; d text; c record;"
	" BEGIN"
	"  ev := CASE NEW.state WHEN 'failed' THEN 'failed' ELSE 'retry' END;"
	"  d := NEW.error;"
	"  IF NEW.state = 'failed' THEN"
	"   SELECT x.check_name, x.failing, x.total, x.threshold, x.error, x.status INTO c"
	"     FROM sluice.check_results x WHERE x.ti_id = NEW.id AND x.try_number = NEW.try_number"
	"      AND x.status IN ('fail','error') ORDER BY x.id DESC LIMIT 1;"
	"   IF FOUND THEN"
	"    ev := 'check_fail';"
	"    d := 'check ' || c.check_name || ': ' || CASE WHEN c.status = 'error' THEN coalesce(c.error, 'error')"
	"      ELSE coalesce(c.failing::text, '?') || ' failing of ' || coalesce(c.total::text, '?')"
	"        || coalesce(' (' || c.threshold || ')', '') END;"
	"   END IF;"
	"  END IF;"
	"  INSERT INTO sluice.notices (project, event, run_id, pipeline, task, ti_id, try_number, max_tries, detail)"
	"   SELECT r.project, ev, NEW.run_id, r.pipeline, NEW.task, NEW.id, NEW.try_number, NEW.max_tries, d"
	"     FROM sluice.runs r WHERE r.id = NEW.run_id;"
	"  PERFORM pg_notify('" STORE_CHANNEL "', 'notice');"
	"  RETURN NULL;"
	" END $$;"
	"CREATE TRIGGER ti_notice AFTER UPDATE ON sluice.task_instances"
	"  FOR EACH ROW WHEN (OLD.state = 'running' AND NEW.state IN ('failed','up_for_retry'))"
	"  EXECUTE FUNCTION sluice.notice_ti();"
	"CREATE FUNCTION sluice.notice_check() RETURNS trigger LANGUAGE plpgsql AS $$"
	" BEGIN"
	"  INSERT INTO sluice.notices (project, event, run_id, pipeline, task, ti_id, try_number, detail)"
	"   SELECT NEW.project, 'check_warn', NEW.run_id, r.pipeline, NEW.task, NEW.ti_id, NEW.try_number,"
	"     'check ' || NEW.check_name || ': ' || coalesce(NEW.failing::text, '?') || ' failing of '"
	"       || coalesce(NEW.total::text, '?') || coalesce(' (' || NEW.threshold || ')', '')"
	"     FROM sluice.runs r WHERE r.id = NEW.run_id;"
	"  PERFORM pg_notify('" STORE_CHANNEL "', 'notice');"
	"  RETURN NULL;"
	" END $$;"
	"CREATE TRIGGER check_notice AFTER INSERT ON sluice.check_results"
	"  FOR EACH ROW WHEN (NEW.status = 'warn' AND NEW.run_id IS NOT NULL)"
	"  EXECUTE FUNCTION sluice.notice_check();",

	/* 12: watermarks of extract tasks (core/extract/watermark.c), per
	 * project, pipeline and task. A try proposes its watermark in
	 * watermarks_pending, keyed by its task instance and try; the trigger
	 * below moves it into watermarks in the transaction of end_try that
	 * makes that very try a success, so a watermark advances exactly when its
	 * task succeeds. A failed or lost try's proposal is dropped at its end. */
	"CREATE TABLE sluice.watermarks ("
	"  project text NOT NULL, pipeline text NOT NULL, task text NOT NULL,"
	"  value jsonb NOT NULL,"
	"  run_id bigint, try_number int,"
	"  updated_at timestamptz NOT NULL DEFAULT now(),"
	"  PRIMARY KEY (project, pipeline, task));"
	"CREATE TABLE sluice.watermarks_pending ("
	"  ti_id bigint NOT NULL REFERENCES sluice.task_instances(id) ON DELETE CASCADE,"
	"  try_number int NOT NULL,"
	"  value jsonb NOT NULL,"
	"  created_at timestamptz NOT NULL DEFAULT now(),"
	"  PRIMARY KEY (ti_id, try_number));"
	"CREATE FUNCTION sluice.watermark_end() RETURNS trigger LANGUAGE plpgsql AS $$"
	" BEGIN"
	"  IF NEW.state = 'success' THEN"
	"   INSERT INTO sluice.watermarks (project, pipeline, task, value, run_id, try_number)"
	"    SELECT r.project, r.pipeline, NEW.task, w.value, NEW.run_id, NEW.try_number"
	"      FROM sluice.watermarks_pending w JOIN sluice.runs r ON r.id = NEW.run_id"
	"     WHERE w.ti_id = NEW.id AND w.try_number = NEW.try_number"
	"   ON CONFLICT (project, pipeline, task) DO UPDATE SET value = EXCLUDED.value,"
	"     run_id = EXCLUDED.run_id, try_number = EXCLUDED.try_number, updated_at = now();"
	"  END IF;"
	"  DELETE FROM sluice.watermarks_pending w WHERE w.ti_id = NEW.id AND w.try_number <= NEW.try_number;"
	"  RETURN NULL;"
	" END $$;"
	"CREATE TRIGGER ti_watermark AFTER UPDATE ON sluice.task_instances"
	"  FOR EACH ROW WHEN (OLD.state = 'running' AND NEW.state IS DISTINCT FROM 'running')"
	"  EXECUTE FUNCTION sluice.watermark_end();",

	/* 13: a notice's run is a plain number, not a foreign key. The key
	 * took a share lock on the run's row inside end_try, while another
	 * worker that held the run's advisory lock waited for that row: a
	 * deadlock, and a try whose end could not be recorded ran again. */
	"ALTER TABLE sluice.notices DROP CONSTRAINT IF EXISTS notices_run_id_fkey;",
};

#define N_MIGRATIONS (int)(sizeof migrations / sizeof migrations[0])

int store_migrate(struct pg_conn *c, struct err *err)
{
	if (pg_script(c, "BEGIN; SELECT pg_advisory_xact_lock(" MIGRATE_LOCK ");"
			      "CREATE SCHEMA IF NOT EXISTS sluice;"
			      "CREATE TABLE IF NOT EXISTS sluice.schema_version ("
			      " version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());"
			      "COMMIT", err) < 0)
		return err_prefix(err, "state database: preparing migrations");
	for (int v = 1; v <= N_MIGRATIONS; v++) {
		char vs[16];
		snprintf(vs, sizeof vs, "%d", v);
		const char *params[1] = {vs};
		if (pg_script(c, "BEGIN; SELECT pg_advisory_xact_lock(" MIGRATE_LOCK ")", err) < 0)
			return err_prefix(err, "state database: migration %d", v);
		struct pg_result *r =
			pg_exec(c, "SELECT 1 FROM sluice.schema_version WHERE version = $1", 1, params, err);
		if (!r) {
			pg_script(c, "ROLLBACK", NULL);
			return err_prefix(err, "state database: migration %d", v);
		}
		bool done = pg_rows(r) > 0;
		pg_clear(r);
		if (!done && (pg_script(c, migrations[v - 1], err) < 0 ||
			      pg_cmd(c, "INSERT INTO sluice.schema_version (version) VALUES ($1)", 1, params, err) < 0)) {
			pg_script(c, "ROLLBACK", NULL);
			return err_prefix(err, "state database: migration %d", v);
		}
		if (pg_script(c, "COMMIT", err) < 0)
			return err_prefix(err, "state database: migration %d", v);
	}
	return 0;
}

int store_open(struct store *s, const char *conninfo, const char *project, struct err *err)
{
	memset(s, 0, sizeof *s);
	s->pg = pg_connect(conninfo, "state database", err);
	if (!s->pg)
		return err_code(err);
	pg_notices_off(s->pg);
	if (store_migrate(s->pg, err) < 0) {
		int code = err_code(err);
		store_close(s);
		return code;
	}
	s->project = xstrdup(project);
	return 0;
}

void store_close(struct store *s)
{
	if (s->pg)
		pg_close(s->pg);
	free(s->project);
	memset(s, 0, sizeof *s);
}

void ti_refs_free(struct ti_refs *r)
{
	free(r->v);
	memset(r, 0, sizeof *r);
}

static void refs_add(struct ti_refs *r, long ti, int try_number)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 16;
		r->v = xrealloc(r->v, r->cap * sizeof *r->v);
	}
	r->v[r->n].ti = ti;
	r->v[r->n].try_number = try_number;
	r->n++;
}

/* Appends (id, try) rows of r to out. */
static void refs_from(struct pg_result *r, struct ti_refs *out)
{
	for (int i = 0; i < pg_rows(r); i++)
		refs_add(out, atol(pg_val(r, i, 0)), atoi(pg_val(r, i, 1)));
}

static int refs_query(struct store *s, struct ti_refs *out, const char *sql, int n,
		      const char *const *params, struct err *err)
{
	struct pg_result *r = pg_exec(s->pg, sql, n, params, err);
	if (!r)
		return err_code(err);
	refs_from(r, out);
	pg_clear(r);
	return 0;
}

/* ---- runs ---------------------------------------------------------------- */

/* A PostgreSQL array literal of text values. */
static void sb_pgarray(struct strbuf *b, const char *const *v, size_t n, size_t stride)
{
	sb_addc(b, '{');
	for (size_t i = 0; i < n; i++) {
		const char *s = *(const char *const *)((const char *)v + i * stride);
		if (i)
			sb_addc(b, ',');
		sb_addc(b, '"');
		for (; *s; s++) {
			if (*s == '"' || *s == '\\')
				sb_addc(b, '\\');
			sb_addc(b, *s);
		}
		sb_addc(b, '"');
	}
	sb_addc(b, '}');
}

int store_run_create(struct store *s, const char *pipeline, const char *ds, const char *params_json,
		     const char *trigger, const struct new_task *tasks, size_t n_tasks,
		     const struct new_edge *edges, size_t n_edges, long *run_id, struct err *err)
{
	char given[32];
	snprintf(given, sizeof given, "%ld", *run_id);
	const char *p1[6] = {s->project, pipeline, ds, params_json ? params_json : "{}", trigger,
			     *run_id > 0 ? given : NULL};
	if (pg_script(s->pg, "BEGIN", err) < 0)
		return err_code(err);
	struct pg_result *r =
		pg_exec(s->pg,
			"INSERT INTO sluice.runs (id, project, pipeline, logical_date, params, trigger)"
			" VALUES (coalesce($6::bigint, nextval(pg_get_serial_sequence('sluice.runs', 'id'))),"
			" $1, $2, $3, $4, $5) RETURNING id",
			6, p1, err);
	if (!r)
		goto fail;
	*run_id = atol(pg_val(r, 0, 0));
	char rid[32];
	snprintf(rid, sizeof rid, "%ld", *run_id);
	pg_clear(r);

	/* All tasks in one statement: arrays of names, specs and retry settings. */
	struct strbuf names = {0}, specs = {0}, tries = {0}, delays = {0}, backoffs = {0}, maxd = {0};
	sb_pgarray(&names, &tasks[0].name, n_tasks, sizeof tasks[0]);
	sb_pgarray(&specs, &tasks[0].spec, n_tasks, sizeof tasks[0]);
	sb_addc(&tries, '{');
	sb_addc(&delays, '{');
	sb_addc(&backoffs, '{');
	sb_addc(&maxd, '{');
	for (size_t i = 0; i < n_tasks; i++) {
		const char *sep = i ? "," : "";
		sb_addf(&tries, "%s%d", sep, tasks[i].max_tries);
		sb_addf(&delays, "%s%.17g", sep, tasks[i].retry_delay);
		sb_addf(&backoffs, "%s%.17g", sep, tasks[i].retry_backoff);
		sb_addf(&maxd, "%s%.17g", sep, tasks[i].retry_max_delay);
	}
	sb_addc(&tries, '}');
	sb_addc(&delays, '}');
	sb_addc(&backoffs, '}');
	sb_addc(&maxd, '}');
	const char *p2[7] = {rid, names.s, specs.s, tries.s, delays.s, backoffs.s, maxd.s};
	int rc = pg_cmd(s->pg,
			"INSERT INTO sluice.task_instances (run_id, task, spec, max_tries, retry_delay,"
			" retry_backoff, retry_max_delay)"
			" SELECT $1, t, s::jsonb, m, d, b, x FROM unnest($2::text[], $3::text[], $4::int[],"
			" $5::float8[], $6::float8[], $7::float8[]) AS u(t, s, m, d, b, x)",
			7, p2, err);
	sb_free(&names);
	sb_free(&specs);
	sb_free(&tries);
	sb_free(&delays);
	sb_free(&backoffs);
	sb_free(&maxd);
	if (rc < 0)
		goto fail;
	if (n_edges) {
		struct strbuf ups = {0}, downs = {0};
		sb_pgarray(&ups, &edges[0].upstream, n_edges, sizeof edges[0]);
		sb_pgarray(&downs, &edges[0].downstream, n_edges, sizeof edges[0]);
		const char *p3[3] = {rid, ups.s, downs.s};
		rc = pg_cmd(s->pg,
			    "INSERT INTO sluice.task_edges (run_id, upstream, downstream)"
			    " SELECT $1, u, d FROM unnest($2::text[], $3::text[]) AS x(u, d) ON CONFLICT DO NOTHING",
			    3, p3, err);
		sb_free(&ups);
		sb_free(&downs);
		if (rc < 0)
			goto fail;
	}
	if (pg_script(s->pg, "COMMIT", err) < 0)
		return err_code(err);
	return 0;
fail:
	pg_script(s->pg, "ROLLBACK", NULL);
	return err_code(err);
}

int store_run_new_id(struct store *s, long *run_id, struct err *err)
{
	struct pg_result *r =
		pg_exec(s->pg, "SELECT nextval(pg_get_serial_sequence('sluice.runs', 'id'))", 0, NULL, err);
	if (!r)
		return err_code(err);
	*run_id = atol(pg_val(r, 0, 0));
	pg_clear(r);
	return 0;
}

int store_advance(struct store *s, long run_id, struct ti_refs *out, struct err *err)
{
	char rid[32];
	snprintf(rid, sizeof rid, "%ld", run_id);
	const char *p[2] = {s->project, rid};
	return refs_query(s, out, "SELECT ti, try FROM sluice.advance($1, $2)", 2, p, err);
}

int store_active_runs(struct store *s, long **ids, size_t *n, struct err *err)
{
	const char *p[1] = {s->project};
	struct pg_result *r =
		pg_exec(s->pg, "SELECT id FROM sluice.runs WHERE project = $1 AND state = 'running' ORDER BY id",
			1, p, err);
	*ids = NULL;
	*n = 0;
	if (!r)
		return err_code(err);
	*n = (size_t)pg_rows(r);
	*ids = xcalloc(*n ? *n : 1, sizeof **ids);
	for (size_t i = 0; i < *n; i++)
		(*ids)[i] = atol(pg_val(r, (int)i, 0));
	pg_clear(r);
	return 0;
}

int store_due_retries(struct store *s, struct ti_refs *out, struct err *err)
{
	const char *p[1] = {s->project};
	return refs_query(s, out,
			  "UPDATE sluice.task_instances t SET state = 'queued', queued_at = now(), next_try_at = NULL"
			  " FROM sluice.runs r WHERE r.id = t.run_id AND r.project = $1 AND r.state = 'running'"
			  " AND t.state = 'up_for_retry' AND t.next_try_at <= now()"
			  " RETURNING t.id, t.try_number",
			  1, p, err);
}

int store_stale(struct store *s, double older_than, double hb_timeout, struct ti_refs *out, struct err *err)
{
	char a[32], b[32];
	snprintf(a, sizeof a, "%.3f", older_than);
	snprintf(b, sizeof b, "%.3f", hb_timeout);
	const char *p[2] = {s->project, a};
	int rc = refs_query(s, out,
			    "UPDATE sluice.task_instances t SET queued_at = now()"
			    " FROM sluice.runs r WHERE r.id = t.run_id AND r.project = $1 AND r.state = 'running'"
			    " AND t.state = 'queued' AND t.queued_at < now() - make_interval(secs => $2::float8)"
			    " RETURNING t.id, t.try_number",
			    2, p, err);
	if (rc < 0)
		return rc;
	/* A takeover is claimed by whoever gets the entry; the try number in the
	 * entry does not matter for a stale running task. Stale as sluice.claim
	 * decides it: with the grace after a restart of the database. */
	const char *p2[2] = {s->project, b};
	return refs_query(s, out,
			  "SELECT t.id, t.try_number FROM sluice.task_instances t JOIN sluice.runs r ON r.id = t.run_id"
			  " WHERE r.project = $1 AND r.state = 'running' AND t.state = 'running'"
			  " AND sluice.beat_stale(t.heartbeat, $2::float8)",
			  2, p2, err);
}

int store_all_queued(struct store *s, struct ti_refs *out, struct err *err)
{
	const char *p[1] = {s->project};
	return refs_query(s, out,
			  "SELECT t.id, t.try_number FROM sluice.task_instances t JOIN sluice.runs r ON r.id = t.run_id"
			  " WHERE r.project = $1 AND r.state = 'running' AND t.state = 'queued' ORDER BY t.id",
			  1, p, err);
}

double store_next_retry_in(struct store *s)
{
	const char *p[1] = {s->project};
	struct pg_result *r =
		pg_exec(s->pg,
			"SELECT extract(epoch FROM min(t.next_try_at) - now()) FROM sluice.task_instances t"
			" JOIN sluice.runs r ON r.id = t.run_id WHERE r.project = $1 AND r.state = 'running'"
			" AND t.state = 'up_for_retry'",
			1, p, NULL);
	double d = -1;
	if (r && !pg_isnull(r, 0, 0)) {
		d = atof(pg_val(r, 0, 0));
		if (d < 0)
			d = 0;
	}
	pg_clear(r);
	return d;
}

/* ---- worker side ---------------------------------------------------------- */

void claimed_free(struct claimed *c)
{
	free(c->task);
	free(c->pipeline);
	free(c->ds);
	free(c->spec);
	free(c->old_host);
	memset(c, 0, sizeof *c);
}

/* The first try of the attempt a claimed try belongs to. Since the task was
 * triggered or cleared (which zeroes both counts; a marked task runs again
 * only once cleared) every try before this one ended failed (counted in
 * failures) or lost with its worker (counted in lost, the takeover that
 * started this try included): a success ends the attempt. Fenced by the try,
 * like a heartbeat. */
static const char FIRST_TRY_SQL[] =
	"SELECT t.try_number - t.failures - t.lost FROM sluice.task_instances t"
	" WHERE t.id = $1 AND t.try_number = $2 AND t.worker = $3";

/* Fills c->first_try; a first try needs no look. ERR_CONFLICT when the try
 * was fenced off meanwhile. */
static int claimed_first_try(struct store *s, struct claimed *c, const char *worker, struct err *err)
{
	c->first_try = c->try_number;
	if (c->try_number <= 1)
		return 0;
	char ti[32], tr[16];
	snprintf(ti, sizeof ti, "%ld", c->ti);
	snprintf(tr, sizeof tr, "%d", c->try_number);
	const char *p[3] = {ti, tr, worker};
	struct pg_result *r = pg_exec(s->pg, FIRST_TRY_SQL, 3, p, err);
	if (!r)
		return err_prefix(err, "the first try of task instance %ld", c->ti);
	int rc = 0;
	if (pg_rows(r) == 0)
		rc = err_setc(err, ERR_CONFLICT, "task instance %ld try %d was taken over", c->ti, c->try_number);
	else
		c->first_try = atoi(pg_val(r, 0, 0));
	pg_clear(r);
	if (c->first_try < 1 || c->first_try > c->try_number)
		c->first_try = c->try_number;
	return rc;
}

int store_ti_claim(struct store *s, const struct ti_ref *ref, const char *worker, const char *host,
		   double hb_timeout, struct claimed *out, struct err *err)
{
	char ti[32], tr[16], to[32];
	snprintf(ti, sizeof ti, "%ld", ref->ti);
	snprintf(tr, sizeof tr, "%d", ref->try_number);
	snprintf(to, sizeof to, "%.3f", hb_timeout);
	const char *p[5] = {ti, tr, worker, host, to};
	struct pg_result *r = pg_exec(s->pg, "SELECT * FROM sluice.claim($1, $2, $3, $4, $5)", 5, p, err);
	if (!r)
		return err_code(err);
	const char *status = pg_val(r, 0, 0);
	int rc = 0;
	if (!strcmp(status, "alive")) {
		rc = ERR_EXISTS;
	} else if (strcmp(status, "claimed") && strcmp(status, "takeover")) {
		rc = ERR_CONFLICT;
	} else {
		memset(out, 0, sizeof *out);
		out->ti = ref->ti;
		out->takeover = !strcmp(status, "takeover");
		out->run_id = atol(pg_val(r, 0, 1));
		out->try_number = atoi(pg_val(r, 0, 2));
		out->task = xstrdup(pg_val(r, 0, 3));
		out->pipeline = xstrdup(pg_val(r, 0, 4));
		out->ds = xstrdup(pg_val(r, 0, 5));
		out->spec = xstrdup(pg_val(r, 0, 6));
		if (!pg_isnull(r, 0, 7))
			out->old_host = xstrdup(pg_val(r, 0, 7));
		out->old_pid = pg_isnull(r, 0, 8) ? 0 : atoi(pg_val(r, 0, 8));
	}
	pg_clear(r);
	/* A try that cannot know its attempt does not start: it is left
	 * running without a heartbeat, and taken over once that is stale. */
	if (rc == 0 && claimed_first_try(s, out, worker, err) < 0) {
		rc = err_code(err);
		claimed_free(out);
	}
	return rc;
}

int store_ti_heartbeat(struct store *s, long ti, int try_number, const char *worker, int pid, struct err *err)
{
	char a[32], b[16], c[16];
	snprintf(a, sizeof a, "%ld", ti);
	snprintf(b, sizeof b, "%d", try_number);
	snprintf(c, sizeof c, "%d", pid);
	const char *p[4] = {a, b, worker, c};
	struct pg_result *r = pg_exec(s->pg,
				      "UPDATE sluice.task_instances SET heartbeat = now(), pid = $4 WHERE id = $1"
				      " AND try_number = $2 AND worker = $3 AND CASE state WHEN 'running' THEN true END",
				      4, p, err);
	if (!r)
		return err_code(err);
	int n = (int)pg_cmd_rows(r);
	pg_clear(r);
	return n == 1 ? 0 : err_setc(err, ERR_CONFLICT, "task instance %ld try %d was taken over", ti, try_number);
}

int store_ti_finish(struct store *s, long ti, int try_number, const char *worker, bool ok, int exit_status,
		    const char *error, const char **new_state, struct ti_refs *queued, struct err *err)
{
	return store_ti_finish_next(s, ti, try_number, worker, NULL, ok, exit_status, error, new_state, queued, NULL,
				    err);
}

int store_ti_finish_next(struct store *s, long ti, int try_number, const char *worker, const char *host, bool ok,
			 int exit_status, const char *error, const char **new_state, struct ti_refs *queued,
			 struct claimed *next, struct err *err)
{
	char a[32], b[16], e[16];
	snprintf(a, sizeof a, "%ld", ti);
	snprintf(b, sizeof b, "%d", try_number);
	snprintf(e, sizeof e, "%d", exit_status);
	if (next)
		memset(next, 0, sizeof *next);
	const char *p[8] = {s->project, a, b, worker, ok ? "t" : "f", e, error, next ? host : NULL};
	struct pg_result *r =
		pg_exec(s->pg, "SELECT * FROM sluice.finish_next($1, $2, $3, $4, $5, $6, $7, $8)", 8, p, err);
	if (!r)
		return err_code(err);
	int rc = 0;
	if (pg_rows(r) == 0) {
		rc = err_setc(err, ERR_CONFLICT, "task instance %ld try %d was taken over", ti, try_number);
	} else {
		const char *st = pg_val(r, 0, 0);
		if (new_state)
			*new_state = !strcmp(st, "success") ? "success" : !strcmp(st, "failed") ? "failed" : "up_for_retry";
		for (int i = 0; i < pg_rows(r); i++) {
			if (pg_isnull(r, i, 1))
				continue;
			long t = atol(pg_val(r, i, 1));
			int tr = atoi(pg_val(r, i, 2));
			if (next && !strcmp(pg_val(r, i, 3), "t")) {
				next->ti = t;
				next->try_number = tr;
				next->run_id = atol(pg_val(r, i, 4));
				next->task = xstrdup(pg_val(r, i, 5));
				next->pipeline = xstrdup(pg_val(r, i, 6));
				next->ds = xstrdup(pg_val(r, i, 7));
				next->spec = xstrdup(pg_val(r, i, 8));
				/* the end is committed: a hand-off that cannot know its
				 * attempt is dropped (taken over once stale) */
				struct err fe = {0};
				if (claimed_first_try(s, next, worker, &fe) < 0)
					claimed_free(next);
			} else if (queued) {
				refs_add(queued, t, tr);
			}
		}
	}
	pg_clear(r);
	return rc;
}

/* ---- operator actions ------------------------------------------------------ */

void touched_free(struct touched *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->tasks[i]);
		free(t->states[i]);
	}
	free(t->tasks);
	free(t->states);
	free(t->note);
	memset(t, 0, sizeof *t);
}

/* (task, state) rows into out (may be NULL). */
static void touched_from(struct pg_result *r, struct touched *out)
{
	if (!out)
		return;
	int n = pg_rows(r);
	out->tasks = xcalloc(n ? (size_t)n : 1, sizeof *out->tasks);
	out->states = xcalloc(n ? (size_t)n : 1, sizeof *out->states);
	for (int i = 0; i < n; i++) {
		out->tasks[i] = xstrdup(pg_val(r, i, 0));
		out->states[i] = xstrdup(pg_val(r, i, 1));
	}
	out->n = (size_t)n;
}

int store_clear(struct store *s, long run_id, const char *task, bool downstream, bool only_failed, bool dry_run,
		struct touched *out, struct err *err)
{
	char rid[32];
	snprintf(rid, sizeof rid, "%ld", run_id);
	const char *p[5] = {rid, task, downstream ? "t" : "f", only_failed ? "t" : "f", dry_run ? "t" : "f"};
	struct pg_result *r = pg_exec(s->pg, "SELECT task, state FROM sluice.clear($1, $2, $3, $4, $5)", 5, p, err);
	if (!r)
		return err_code(err);
	touched_from(r, out);
	pg_clear(r);
	return 0;
}

int store_mark(struct store *s, long run_id, const char *task, const char *state, struct touched *out,
	       struct err *err)
{
	char rid[32];
	snprintf(rid, sizeof rid, "%ld", run_id);
	const char *p[3] = {rid, task, state};
	struct pg_result *r = pg_exec(s->pg, "SELECT task, state FROM sluice.mark($1, $2, $3)", 3, p, err);
	if (!r)
		return err_code(err);
	int rc = 0;
	if (pg_rows(r) == 0)
		rc = err_setc(err, ERR_NOTFOUND, "run %ld has no task '%s'", run_id, task);
	else if (!strcmp(pg_val(r, 0, 1), state))
		rc = err_setc(err, ERR_EXISTS, "task '%s' of run %ld is already %s: nothing to mark", task, run_id,
			      state);
	else
		touched_from(r, out);
	pg_clear(r);
	return rc;
}

int store_ti_rows(struct store *s, long run_id, const char *task, int try_number, long long rows_in,
		  long long rows_out, struct err *err)
{
	char a[32], b[16], c[32], d[32];
	snprintf(a, sizeof a, "%ld", run_id);
	snprintf(b, sizeof b, "%d", try_number);
	snprintf(c, sizeof c, "%lld", rows_in);
	snprintf(d, sizeof d, "%lld", rows_out);
	const char *p[5] = {a, task, b, rows_in >= 0 ? c : NULL, rows_out >= 0 ? d : NULL};
	return pg_cmd(s->pg,
		      "UPDATE sluice.task_instances SET rows_in = $4, rows_out = $5"
		      " WHERE run_id = $1 AND task = $2 AND try_number = $3",
		      5, p, err);
}

int store_log_append(struct store *s, long ti, int try_number, int *seq, size_t n, const char *const *lines,
		     const char *streams, struct err *err)
{
	if (n == 0)
		return 0;
	struct strbuf arr = {0}, st = {0};
	sb_pgarray(&arr, lines, n, sizeof lines[0]);
	sb_addc(&st, '{');
	for (size_t i = 0; i < n; i++) {
		if (i)
			sb_addc(&st, ',');
		sb_addc(&st, streams[i]);
	}
	sb_addc(&st, '}');
	char a[32], b[16], c[16];
	snprintf(a, sizeof a, "%ld", ti);
	snprintf(b, sizeof b, "%d", try_number);
	snprintf(c, sizeof c, "%d", *seq);
	const char *p[5] = {a, b, c, arr.s, st.s};
	int rc = pg_cmd(s->pg,
			"INSERT INTO sluice.task_logs (ti_id, try_number, seq, stream, line)"
			" SELECT $1, $2, $3::int + o::int - 1, s, l FROM unnest($4::text[], $5::text[])"
			" WITH ORDINALITY AS x(l, s, o)",
			5, p, err);
	sb_free(&arr);
	sb_free(&st);
	if (rc == 0)
		*seq += (int)n;
	return rc;
}

int store_worker_beat(struct store *s, const char *name, const char *host, int pid, const char *state,
		      struct err *err)
{
	char ps[16];
	snprintf(ps, sizeof ps, "%d", pid);
	const char *p[4] = {name, host, ps, state};
	return pg_cmd(s->pg,
		      "INSERT INTO sluice.workers (name, host, pid, state) VALUES ($1, $2, $3, $4)"
		      " ON CONFLICT (name) DO UPDATE SET heartbeat = now(), state = EXCLUDED.state",
		      4, p, err);
}

int store_worker_gone(struct store *s, const char *name, struct err *err)
{
	const char *p[1] = {name};
	return pg_cmd(s->pg, "DELETE FROM sluice.workers WHERE name = $1", 1, p, err);
}

int store_schedule_get(struct store *s, const char *pipeline, time_t *last_fire, struct err *err)
{
	const char *p[2] = {s->project, pipeline};
	struct pg_result *r = pg_exec(s->pg,
				      "SELECT extract(epoch FROM last_fire)::bigint FROM sluice.schedules"
				      " WHERE project = $1 AND pipeline = $2",
				      2, p, err);
	if (!r)
		return err_code(err);
	int rc = pg_rows(r) ? 0 : ERR_NOTFOUND;
	if (rc == 0)
		*last_fire = (time_t)atoll(pg_val(r, 0, 0));
	pg_clear(r);
	return rc;
}

int store_schedule_set(struct store *s, const char *pipeline, time_t last_fire, struct err *err)
{
	char t[32];
	snprintf(t, sizeof t, "%lld", (long long)last_fire);
	const char *p[3] = {s->project, pipeline, t};
	return pg_cmd(s->pg,
		      "INSERT INTO sluice.schedules VALUES ($1, $2, to_timestamp($3::bigint))"
		      " ON CONFLICT (project, pipeline) DO UPDATE SET last_fire = EXCLUDED.last_fire",
		      3, p, err);
}

int store_wait(struct store *s, int timeout_ms)
{
	/* A notification that came in with the reply to our last query is
	 * already read off the socket: polling would sleep through it. */
	int n = pg_notified(s->pg, NULL);
	if (n)
		return n;
	struct pollfd pf = {pg_socket(s->pg), POLLIN, 0};
	if (poll(&pf, 1, timeout_ms) < 0)
		return 0;
	pg_consume(s->pg);
	return pg_notified(s->pg, NULL);
}

int store_listen(struct store *s, struct err *err)
{
	return pg_script(s->pg, "LISTEN " STORE_CHANNEL, err);
}

int store_socket(struct store *s)
{
	return pg_socket(s->pg);
}

int store_notified(struct store *s, const char *prefix, bool read_socket)
{
	if (read_socket)
		pg_consume(s->pg);
	return pg_notified(s->pg, prefix);
}

int store_notified_by(struct store *s, bool read_socket, const char *const *prefixes, size_t n, int *counts)
{
	if (read_socket)
		pg_consume(s->pg);
	return pg_notified_by(s->pg, prefixes, n, counts);
}
