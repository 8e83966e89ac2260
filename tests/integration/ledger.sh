#!/bin/sh
# The commit ledger (sluice.applied in the target database): a sql, load or model
# task whose try committed but whose end was never recorded is not committed
# again by the next try.
#
# The window between a COMMIT and the worker recording the end is held open
# with PostgreSQL itself: with synchronous_standby_names naming a standby that
# never comes, a COMMIT on the warehouse is written and durable but waits
# (wait_event SyncRep) before it becomes visible and before its reply is sent.
# The state database's commits are made local meanwhile (the system default;
# only the warehouse asks for the standby), so sluice's own bookkeeping goes
# on. Then:
#   takeover: the worker is killed while its task's COMMIT waits, and the
#     waiting backend is ended (its commit completes, its client is gone), so
#     the commit lands and its end is never recorded;
#   retry: the waiting backend is ended while its worker lives: the task sees
#     its COMMIT fail (the reply is lost), its try is recorded failed, and the
#     retry finds the commit;
#   clear: a clear after a success runs the task again, ledger or not.
. "$SLUICE_SRCDIR/tests/integration/lib.sh"

PROJ=$(mkproj ledger_it)
cat >"$PROJ/sluice.yml" <<'YML'
name: ledger_it
runner:
  workers: 2
  heartbeat_interval: 1
  heartbeat_timeout: 4
YML
mkdir -p "$PROJ/data"
LOAD_ROWS=1500
BOUND=60
STOPF=$PROJ/supervisor.stop
SUP=

# a marker that does not depend on the try: a second commit counts twice
cat >"$PROJ/pipelines/lg_sql.yml" <<'YML'
defaults: { retries: 1, retry_delay: 1 }
tasks:
  body: { kind: sql, sql: "INSERT INTO lg_marks (marker) VALUES ('{{ run_id }}')" }
YML
cat >"$PROJ/pipelines/lg_load.yml" <<'YML'
defaults: { retries: 1, retry_delay: 1 }
tasks:
  body: { kind: load, source: data/lg.csv, into: lg_load, mode: append }
YML
# staged: parallel COPY into a staging table, then one transaction moves
# the rows (not idempotent either: an append)
cat >"$PROJ/pipelines/lg_pload.yml" <<'YML'
defaults: { retries: 1, retry_delay: 1 }
tasks:
  body: { kind: load, source: data/lg.csv, into: lg_load, mode: append, parallel: 2 }
YML
# an append model: each build adds its SELECT's row once more
mkdir -p "$PROJ/models"
cat >"$PROJ/models/_models.yml" <<'YML'
models:
  - name: lg_app
    materialized: incremental
    incremental_strategy: append
YML
echo "select 1 as n" >"$PROJ/models/lg_app.sql"
cat >"$PROJ/pipelines/lg_model.yml" <<'YML'
defaults: { retries: 1, retry_delay: 1 }
tasks:
  body: { kind: model, model: lg_app }
YML
python3 -c "
print('id,name')
for i in range(1, $LOAD_ROWS + 1):
    print('%d,row %d' % (i, i))
" >"$PROJ/data/lg.csv"

. "$SLUICE_SRCDIR/tests/integration/faultlib.sh"
trap 'gate_off; teardown' EXIT

# ---- the gate: warehouse commits wait for a standby that never comes ------

gate_on() {
	psql "$STATE" -XAtq -c "ALTER SYSTEM SET synchronous_standby_names = 'sluice_test_no_standby'" \
		-c "ALTER SYSTEM SET synchronous_commit = 'local'" \
		-c "ALTER DATABASE $WHDB SET synchronous_commit = 'on'" -c "SELECT pg_reload_conf()" >/dev/null
}
gate_off() {
	[ -n "${STATE:-}" ] || return 0
	psql "$STATE" -XAtq -c "ALTER SYSTEM RESET synchronous_standby_names" -c "ALTER SYSTEM RESET synchronous_commit" \
		-c "ALTER DATABASE $WHDB RESET synchronous_commit" -c "SELECT pg_reload_conf()" >/dev/null 2>&1
}
# the warehouse backends whose COMMIT waits at the gate
waiting() { sq "SELECT pid FROM pg_stat_activity WHERE datname = '$WHDB' AND wait_event = 'SyncRep'"; }
some_waiting() { [ -n "$(waiting)" ]; }
# A waiting backend ended by hand: its commit completes, and its client (if
# it is still there) gets no reply. The server would notice a dead client
# only once it next reads from it.
end_waiting() {
	for p in $(waiting); do
		sq "SELECT pg_terminate_backend($p)" >/dev/null
	done
}

kill_worker() {
	p=$(sq "SELECT w.pid FROM sluice.workers w JOIN sluice.task_instances t ON t.worker = w.name
	        WHERE t.run_id = $run_id AND t.task = 'body'")
	is_pid "$p" && kill -9 "$p" && echo "worker pid $p"
}

run_state() { sq "SELECT state FROM sluice.runs WHERE id = $run_id"; }
run_ended() { case $(run_state) in success | failed) return 0 ;; esac; return 1; }
tries() {
	sq "SELECT string_agg(r.state, ',' ORDER BY r.try_number) FROM sluice.task_tries r
	    JOIN sluice.task_instances t ON t.id = r.ti_id WHERE t.run_id = $run_id AND t.task = 'body'"
}
# the body's log lines of try N that match a LIKE pattern
log_has() {
	sq "SELECT count(*) FROM sluice.task_logs l JOIN sluice.task_instances t ON t.id = l.ti_id
	    WHERE t.run_id = $run_id AND t.task = 'body' AND l.try_number = $1 AND l.line LIKE '$2'"
}
marks() { wq "SELECT count(*) FROM lg_marks WHERE marker = '$run_id'"; }
start_run() { # PIPELINE
	run_id=$(sl -q run "$1" --no-runner 2>"$PROJ/run.err")
	is_pid "$run_id"
}
finish() { # CASE
	wait_for $BOUND run_ended
	is "$1: the run finished by itself, successfully" "$(run_state)" success ||
		{ sq "SELECT task, state, try_number, error FROM sluice.task_instances WHERE run_id = $run_id"
		  sq "SELECT l.try_number, l.line FROM sluice.task_logs l JOIN sluice.task_instances t ON t.id = l.ti_id
		      WHERE t.run_id = $run_id ORDER BY l.try_number, l.seq"
		  tail -n 15 "$PROJ/.sluice/runner.log"; } | diag
}

# ---- setup ---------------------------------------------------------------

out=$(sl -q up 2>&1)
ok $? "sluice up starts the embedded services" || echo "$out" | diag
services_learn
WHDB=$(wq "SELECT current_database()")
wq "CREATE TABLE lg_marks (marker text NOT NULL); CREATE TABLE lg_load (id int, name text)" >/dev/null
supervise
wait_for 30 sl -q runner --status

# a first run makes the ledger (its creation commits too, so before the gate)
start_run lg_sql
ok $? "a sql run is created" || diag <"$PROJ/run.err"
finish "first run"
is "first run: the marker once" "$(marks)" 1
is "the ledger is sluice.applied in the target database, with the run's row" \
	"$(wq "SELECT task || ' try ' || try || ' of ' || first_try FROM sluice.applied
	       WHERE project = 'ledger_it' AND run_id = $run_id")" "body try 1 of 1"

# ---- takeover: the worker dies between the COMMIT and recording the end ----

takeover() { # PIPELINE CASE
	gate_on
	if ! start_run "$1"; then
		ok 1 "$2: the run was created" || diag <"$PROJ/run.err"
		gate_off
		return 1
	fi
	wait_for 30 some_waiting
	ok $? "$2: the task's COMMIT waits at the gate" || sq "SELECT task, state FROM sluice.task_instances WHERE run_id = $run_id" | diag
	killed=$(kill_worker)
	ok $? "$2: killed the $killed, whose task had sent its COMMIT"
	end_waiting
	gate_off
	finish "$2"
	is "$2: the killed try is lost, the next one succeeds" "$(tries)" "lost,success"
	is "$2: try 2's log says try 1 committed and why it did not run" \
		"$(log_has 2 '[sluice] try 1 committed at 20%before its end was recorded: not run again')" 1
}

takeover lg_sql "sql, worker killed after COMMIT"
is "sql, worker killed after COMMIT: the marker once" "$(marks)" 1

wq "TRUNCATE lg_load" >/dev/null
takeover lg_load "load, worker killed after COMMIT"
is "load, worker killed after COMMIT: the rows once" \
	"$(wq "SELECT count(*) || ' rows, ' || count(DISTINCT id) || ' distinct' FROM lg_load")" \
	"$LOAD_ROWS rows, $LOAD_ROWS distinct"
is "load, worker killed after COMMIT: try 2 loaded nothing (no row of its own in sluice.loads)" \
	"$(sq "SELECT string_agg(try_number::text, ',') FROM sluice.loads WHERE run_id = $run_id")" 1
is "load, worker killed after COMMIT: the killed try's load says it committed its rows" \
	"$(sq "SELECT state || ' ' || rows_loaded || ' ' || (ended_at IS NOT NULL) FROM sluice.loads WHERE run_id = $run_id")" \
	"success $LOAD_ROWS true"
is "load, worker killed after COMMIT: the task's rows are those of the commit" \
	"$(sq "SELECT rows_out FROM sluice.task_instances WHERE run_id = $run_id AND task = 'body'")" "$LOAD_ROWS"

# the model's first build creates its table; the next one appends
start_run lg_model
finish "model, first build"
takeover lg_model "model append, worker killed after COMMIT"
is "model append, worker killed after COMMIT: appended once" "$(wq "SELECT count(*) FROM public.lg_app")" 2
is "model append, worker killed after COMMIT: the task's rows are those of the commit" \
	"$(sq "SELECT rows_out FROM sluice.task_instances WHERE run_id = $run_id AND task = 'body'")" 1

# staged: the staging table's creation commits on the same connection
# first; that wait is let go (a cancel: the COMMIT then returns, with a
# warning) until the streams have staged every row, then the next wait is
# the move's COMMIT
staged_all() {
	t=$(wq "SELECT relname FROM pg_class WHERE relname LIKE 'sluice_stage_%' LIMIT 1")
	[ -n "$t" ] && [ "$(wq "SELECT count(*) FROM \"$t\"")" = "$LOAD_ROWS" ]
}
let_stage_go() {
	for p in $(waiting); do sq "SELECT pg_cancel_backend($p)" >/dev/null; done
	staged_all
}
some_waiting_staged() { wait_for 30 let_stage_go && wait_for 30 some_waiting; }

wq "TRUNCATE lg_load" >/dev/null
gate_on
start_run lg_pload
ok $? "staged load: the run is created" || diag <"$PROJ/run.err"
some_waiting_staged
ok $? "staged load: every row staged, the move's COMMIT waits at the gate"
killed=$(kill_worker)
ok $? "staged load: killed the $killed, whose task had sent its COMMIT"
end_waiting
gate_off
finish "staged load"
is "staged load: the killed try is lost, the next one succeeds" "$(tries)" "lost,success"
is "staged load: the rows once" \
	"$(wq "SELECT count(*) || ' rows, ' || count(DISTINCT id) || ' distinct' FROM lg_load")" \
	"$LOAD_ROWS rows, $LOAD_ROWS distinct"
is "staged load: try 2's log says try 1 committed" \
	"$(log_has 2 '[sluice] try 1 committed at 20%before its end was recorded: not run again')" 1

# ---- two tries at once: the first commits while the second runs ----------
# The killed try's COMMIT is left waiting (durable, not yet visible) while
# the takeover runs the task again: its ledger row waits for the first's,
# which is then let go. One of them may commit; the second rolls back.

second_waits() {
	[ -n "$(sq "SELECT pid FROM pg_stat_activity WHERE datname = '$WHDB' AND wait_event_type = 'Lock'
	           AND query LIKE 'WITH expired AS%'")" ]
}
gate_on
start_run lg_sql
ok $? "two at once: the run is created" || diag <"$PROJ/run.err"
wait_for 30 some_waiting
first=$(waiting)
[ -n "$first" ]
ok $? "two at once: try 1's COMMIT waits at the gate"
killed=$(kill_worker)
ok $? "two at once: killed the $killed; try 1's COMMIT still waits"
wait_for $BOUND second_waits
ok $? "two at once: the takeover ran the task and its ledger row waits for try 1's" ||
	sq "SELECT pid, wait_event_type, wait_event, left(query, 60) FROM pg_stat_activity WHERE datname = '$WHDB'" | diag
for p in $first; do sq "SELECT pg_terminate_backend($p)" >/dev/null; done
gate_off
finish "two at once"
is "two at once: the marker once" "$(marks)" 1
is "two at once: try 2's log says it rolled back for try 1" \
	"$(log_has 2 '[sluice] try 1 committed at 20%while this try ran: this try rolled back%')" 1

# ---- retry: the COMMIT went through, its reply did not -------------------

gate_on
start_run lg_sql
ok $? "reply lost: the run is created" || diag <"$PROJ/run.err"
wait_for 30 some_waiting
ok $? "reply lost: the task's COMMIT waits at the gate"
end_waiting
gate_off
finish "reply lost"
is "reply lost: try 1 is recorded failed, the retry succeeds" "$(tries)" "failed,success"
is "reply lost: the marker once" "$(marks)" 1
is "reply lost: try 2's log says try 1 committed" \
	"$(log_has 2 '[sluice] try 1 committed at 20%before its end was recorded: not run again')" 1

# ---- clear: a deliberate rerun runs ---------------------------------------

out=$(sl -q clear "$run_id" body 2>&1)
ok $? "clear after the success" || echo "$out" | diag
finish "clear"
is "clear: the task ran again (a second marker)" "$(marks)" 2
is "clear: try 3 ran, its log says nothing of an earlier commit" \
	"$(log_has 3 '%committed at%')" 0

# ---- pruning: a row past its 30 days goes with a later commit -------------

wq "INSERT INTO sluice.applied (project, run_id, task, first_try, try, committed_at)
    VALUES ('ledger_it', 999999, 'old', 1, 1, now() - interval '31 days')" >/dev/null
start_run lg_sql
finish "pruning"
is "pruning: a ledger row older than 30 days is deleted by the next commit" \
	"$(wq "SELECT count(*) FROM sluice.applied WHERE run_id = 999999")" 0

# ---- a role that may not use the ledger runs without one, and says so ----

sock=$(echo "$WH" | sed -n 's/.*host=\([^ ]*\).*/\1/p')
wq "CREATE ROLE lg_limited LOGIN; GRANT INSERT ON lg_marks TO lg_limited" >/dev/null
cat >"$PROJ/connections.yml" <<YML
connections:
  limited: { host: "$sock", dbname: $WHDB, user: lg_limited }
YML
chmod 600 "$PROJ/connections.yml"
printf 'connections: connections.yml\n' >>"$PROJ/sluice.yml"
cat >"$PROJ/pipelines/lg_limited.yml" <<'YML'
tasks:
  body: { kind: sql, conn: limited, sql: "INSERT INTO lg_marks (marker) VALUES ('{{ run_id }}')" }
YML
start_run lg_limited
ok $? "limited role: the run is created" || diag <"$PROJ/run.err"
finish "limited role"
is "limited role: the task ran, once" "$(marks)" 1
is "limited role: its log says there is no ledger, and what that means" \
	"$(log_has 1 '[sluice] no commit ledger in the target database (%permission denied%): a try killed right after its COMMIT would commit again')" 1

echo "1..$tap_n"
done_testing
