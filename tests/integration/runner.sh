#!/bin/sh
# The runner end to end on the embedded default: runs complete, retries,
# failures propagate, clear resets the right set, and the queue survives a
# killed worker, a killed runner and a flushed Redis.
. "$SLUICE_SRCDIR/tests/integration/lib.sh"
echo "1..20"
PROJ=$(mkproj runner_it)
trap cleanup EXIT

cat >"$PROJ/pipelines/fan.yml" <<'YML'
params: { greeting: hello }
defaults: { retry_delay: 0.2 }
tasks:
  a: { kind: shell, command: "echo {{ params.greeting }} {{ ds }}" }
  b1: { kind: shell, command: "echo b1", depends_on: [a] }
  b2: { kind: sql, sql: "select 1", depends_on: [a] }
  b3: { kind: shell, command: "echo b3 >&2", depends_on: [a] }
  flaky:
    kind: shell
    depends_on: [a]
    retries: 2
    command: 'if [ "$SLUICE_TRY" -lt 2 ]; then echo "not yet" >&2; exit 3; fi; echo fine'
  c: { kind: shell, command: "echo c", depends_on: [b1, b2, b3, flaky] }
YML
cat >"$PROJ/pipelines/bad.yml" <<'YML'
tasks:
  x: { kind: shell, command: "echo about to fail; exit 7" }
  y: { kind: shell, command: "echo y", depends_on: [x] }
  z: { kind: shell, command: "echo z", depends_on: [y] }
  w: { kind: shell, command: "echo w" }
YML
cat >"$PROJ/pipelines/copy.yml" <<'YML'
tasks:
  cin: { kind: sql, timeout: 30, sql: "CREATE TEMP TABLE t (i int); COPY t FROM STDIN; SELECT 1" }
  cout: { kind: sql, timeout: 30, sql: "COPY (SELECT 1) TO STDOUT; SELECT 1" }
YML
cat >"$PROJ/pipelines/slow.yml" <<'YML'
tasks:
  s1: { kind: shell, command: 'echo "start $SLUICE_TRY" >> "$OUT"; sleep 4; echo "done $SLUICE_TRY" >> "$OUT"', env: { OUT: "{{ params.out }}" } }
  s2: { kind: shell, command: "echo after", depends_on: [s1] }
params: { out: /dev/null }
YML

out=$(sl -q up 2>&1)
ok $? "sluice up starts the embedded services" || echo "$out" | diag

out=$(sl -q run fan --date 2026-03-01 --param greeting=hi --wait --json 2>&1)
rc=$?
ok $rc "run fan --wait exits 0" || echo "$out" | diag
echo "$out" | json_get 'all(t["state"]=="success" for t in j["tasks"]) and j["state"]=="success"' | grep -qx True
ok $? "every task of the fan-out/fan-in run succeeded" || echo "$out" | diag
echo "$out" | json_get '[t["try"] for t in j["tasks"] if t["task"]=="flaky"][0]' | grep -qx 2
ok $? "the flaky task succeeded on its second try" || echo "$out" | diag
got=$(sl logs latest a 2>&1)
echo "$got" | grep -qx "hi 2026-03-01"
ok $? "logs show the rendered template output" || echo "$got" | diag
got=$(sl logs latest flaky --try 1 2>&1)
echo "$got" | grep -q "not yet"
ok $? "logs --try 1 shows the failed first try" || echo "$got" | diag

sl -q run bad --wait --json >"$SLUICE_TESTDIR/bad.json" 2>"$SLUICE_TESTDIR/bad.err"
rc=$?
[ $rc -eq 1 ]
ok $? "run bad --wait exits 1 when the run failed (got $rc)" || diag <"$SLUICE_TESTDIR/bad.err"
got=$(json_get '" ".join(t["task"]+"="+t["state"] for t in j["tasks"])' <"$SLUICE_TESTDIR/bad.json" 2>&1)
is "a failure propagates upstream_failed downstream only" "$got" "x=failed y=upstream_failed z=upstream_failed w=success"

got=$(sl --json clear latest x --downstream --dry-run 2>&1 | json_get '",".join(sorted(t["task"] for t in j["tasks"]))' 2>&1)
is "clear --downstream --dry-run lists exactly x, y, z" "$got" "x,y,z"
got=$(sl --json clear latest y --only-failed --downstream --dry-run 2>&1 | json_get '",".join(sorted(t["task"] for t in j["tasks"]))' 2>&1)
is "clear --only-failed --downstream from y lists y, z" "$got" "y,z"
out=$(sl --json clear latest x --downstream 2>&1)
got=$(echo "$out" | json_get '",".join(t["task"] + " was " + t["was"] for t in j["tasks"])' 2>&1)
is "clear --downstream clears x, y, z, each with the state it was in" "$got" "x was failed,y was upstream_failed,z was upstream_failed"
st=$(sl --json status bad | json_get '" ".join(t["task"]+"="+t["state"] for t in j["tasks"])')
echo "$st" | grep -qE "^x=(scheduled|queued|running|failed) y=(scheduled|upstream_failed) z=(scheduled|upstream_failed) w=success$"
ok $? "clear --downstream reset x, y, z and left w alone ($st)"

# A COPY that wants data from the client (or to send it) fails at once with a
# hint, instead of waiting on a stream no sql task has until the timeout.
t0=$(date +%s)
out=$(sl -q run copy --wait --json 2>&1)
rc=$?
took=$(($(date +%s) - t0))
got=$(echo "$out" | json_get '" ".join(t["task"] + "=" + t["state"] for t in j["tasks"])' 2>&1)
[ $rc -eq 1 ] && [ $took -lt 15 ] && [ "$got" = "cin=failed cout=failed" ] &&
	[ "$(echo "$out" | grep -c 'COPY FROM STDIN/TO STDOUT is not supported in a sql task; use a load task')" -eq 2 ]
ok $? "sql tasks with COPY FROM STDIN / TO STDOUT fail promptly with a hint (exit $rc, ${took}s, $got)" || echo "$out" | diag

# kill -9 the worker in the middle of a task: the task is taken over and
# succeeds exactly once.
OUT=$SLUICE_TESTDIR/slow.out
rm -f "$OUT"
run_id=$(sl -q run slow --param out="$OUT" 2>/dev/null)
wait_for 15 grep -q "start 1" "$OUT"
wpid=$(state_sql "select w.pid from sluice.workers w join sluice.task_instances t on t.worker = w.name where t.run_id = $run_id and t.task = 's1'")
[ -n "$wpid" ] && kill -9 "$wpid"
ok $? "killed the worker running s1 (pid $wpid)" || state_sql "select task, state, worker from sluice.task_instances where run_id = $run_id" | diag
wait_for 40 sh -c "\"$SLUICE_BIN\" -C \"$PROJ\" --json status $run_id | grep -q '\"state\": \"success\"' && [ \$(\"$SLUICE_BIN\" -C \"$PROJ\" --json status $run_id | grep -c '\"state\": \"success\"') -eq 3 ]"
ok $? "the run finished after the worker was killed" || sl --json status "$run_id" 2>&1 | diag
tries=$(state_sql "select string_agg(r.state, ',' order by r.try_number) from sluice.task_tries r join sluice.task_instances t on t.id = r.ti_id where t.run_id = $run_id and t.task = 's1'")
[ "$tries" = "lost,success" ] && [ "$(grep -c '^done' "$OUT")" -eq 1 ]
ok $? "s1 has one lost try and one success, and ran to completion once (tries: $tries; $(tr '\n' ' ' <"$OUT"))"

# kill -9 the runner mid-run, start it again: the run finishes.
rm -f "$OUT"
run_id=$(sl -q run slow --param out="$OUT" 2>/dev/null)
wait_for 15 grep -q "start" "$OUT"
rpid=$(sl --json runner --status | json_get 'j["pid"]')
is_pid "$rpid" && kill -9 "$rpid"
ok $? "killed the runner mid-run with kill -9 (pid '$rpid')" || sl --json runner --status 2>&1 | diag
sleep 0.5
sl -q runner >/dev/null 2>&1
wait_for 40 sh -c "\"$SLUICE_BIN\" -C \"$PROJ\" --json status $run_id | python3 -c 'import json,sys; sys.exit(json.load(sys.stdin)[\"state\"]!=\"success\")'"
ok $? "after kill -9 of the runner and a restart the run finishes" || sl --json status "$run_id" 2>&1 | diag

# Redis loses everything mid-run: the scheduler rebuilds the queue.
sl -q runner --stop >/dev/null 2>&1
run_id=$(sl -q run fan --no-runner 2>/dev/null)
sock=$(sl --json up -q | json_get 'j["broker"]["address"]' | sed 's/^unix://')
flushed=$([ -n "$sock" ] && redis-cli -s "$sock" flushall 2>&1)
is "Redis lost every key mid-run (flushall on '$sock')" "$flushed" OK
sl -q runner >/dev/null 2>&1
wait_for 40 sh -c "\"$SLUICE_BIN\" -C \"$PROJ\" --json status $run_id | python3 -c 'import json,sys; sys.exit(json.load(sys.stdin)[\"state\"]!=\"success\")'"
ok $? "a run whose queue entries Redis lost still finishes" || sl --json status "$run_id" 2>&1 | diag

done_testing
