#!/bin/sh
# Task and process lifecycle: timeouts, retry backoff, mark and retry, the
# runner surviving SIGHUP and draining on SIGTERM, a standalone worker, exit
# codes, and secrets kept out of output and the state database.
. "$SLUICE_SRCDIR/tests/integration/lib.sh"
echo "1..17"
PROJ=$(mkproj lifecycle_it)
trap cleanup EXIT
FLAG=$SLUICE_TESTDIR/lifecycle.flag
rm -f "$FLAG"

cat >"$PROJ/pipelines/timing.yml" <<'YML'
tasks:
  hang: { kind: shell, command: "sleep 30", timeout: 1s }
  backoff:
    kind: shell
    command: "exit 1"
    retries: 2
    retry_delay: 1s
    retry_backoff: 2
YML
cat >"$PROJ/pipelines/chain.yml" <<YML
tasks:
  x: { kind: shell, command: 'test -f "$FLAG"' }
  y: { kind: shell, command: "echo y", depends_on: [x] }
  z: { kind: shell, command: "echo z", depends_on: [y] }
YML
cat >"$PROJ/pipelines/drain.yml" <<'YML'
tasks:
  long: { kind: shell, command: 'echo started; sleep 2; echo finished' }
YML

sl -q runner >/dev/null 2>&1
sl -q run timing --wait --json >"$SLUICE_TESTDIR/timing.json" 2>/dev/null
json_get '[t for t in j["tasks"] if t["task"]=="hang"][0]["error"]' <"$SLUICE_TESTDIR/timing.json" | grep -q "timed out after 1s"
ok $? "a task past its timeout is stopped and fails with 'timed out after 1s'" || diag <"$SLUICE_TESTDIR/timing.json"
json_get '[t for t in j["tasks"] if t["task"]=="hang"][0]["duration_s"] < 8' <"$SLUICE_TESTDIR/timing.json" | grep -qx True
ok $? "the timed-out task did not run its full 30 s" || diag <"$SLUICE_TESTDIR/timing.json"
run_id=$(json_get 'j["run_id"]' <"$SLUICE_TESTDIR/timing.json")
gaps=$(state_sql "select string_agg(round(extract(epoch from r.started_at - lag)::numeric, 1)::text, ' ') from (select r.started_at, lag(r.started_at) over (order by r.try_number) from sluice.task_tries r join sluice.task_instances t on t.id = r.ti_id where t.run_id = $run_id and t.task = 'backoff') r(started_at, lag) where lag is not null")
echo "$gaps" | awk '{ exit !($1 >= 0.9 && $2 >= 1.9 && $2 > $1) }'
ok $? "retries wait retry_delay, then twice as long (gaps: $gaps s)"
json_get '[t for t in j["tasks"] if t["task"]=="backoff"][0]["try"]' <"$SLUICE_TESTDIR/timing.json" | grep -qx 3
ok $? "retries: 2 means three tries in all" || diag <"$SLUICE_TESTDIR/timing.json"

sl -q run chain --wait >/dev/null 2>&1
is "chain fails at x (exit 1)" "$?" 1
sl -q mark latest x success >/dev/null 2>&1 && wait_for 20 sh -c "\"$SLUICE_BIN\" -C \"$PROJ\" --json status chain | python3 -c 'import json,sys; sys.exit(json.load(sys.stdin)[\"state\"]!=\"success\")'"
ok $? "mark x success lets y and z run and the run succeed" || sl --json status chain 2>&1 | diag

sl -q run chain --wait >/dev/null 2>&1
touch "$FLAG"
sl -q retry latest x >/dev/null 2>&1 && wait_for 20 sh -c "\"$SLUICE_BIN\" -C \"$PROJ\" --json status chain | python3 -c 'import json,sys; j=json.load(sys.stdin); sys.exit(not (j[\"state\"]==\"success\" and [t[\"try\"] for t in j[\"tasks\"]]==[2,1,1]))'"
ok $? "retry reruns the failed task as try 2 and its held-back downstream" || sl --json status chain 2>&1 | diag
sl -q retry latest y >"$SLUICE_TESTDIR/retry_y.out" 2>&1
rc=$?
[ "$rc" -ne 0 ]
ok $? "retry of a task that succeeded is refused (exit $rc)" || diag <"$SLUICE_TESTDIR/retry_y.out"

rpid=$(sl --json runner --status | json_get 'j["pid"]')
is_pid "$rpid" && kill -HUP "$rpid" && sleep 0.5 && kill -0 "$rpid"
ok $? "the runner keeps running after SIGHUP (the terminal closing; pid '$rpid')" || sl --json runner --status 2>&1 | diag

run_id=$(sl -q run drain 2>/dev/null)
wait_for 10 sh -c "\"$SLUICE_BIN\" -C \"$PROJ\" --json status $run_id | grep -q running"
sl logs "$run_id" long --follow >"$SLUICE_TESTDIR/follow.out" 2>&1 &
fpid=$!
sl -q runner --stop
wait "$fpid"
[ "$(cat "$SLUICE_TESTDIR/follow.out")" = "$(printf 'started\nfinished')" ]
ok $? "logs --follow prints lines as they come and returns when the try ends" || diag <"$SLUICE_TESTDIR/follow.out"
st=$(sl --json status "$run_id" | json_get 'j["tasks"][0]["state"]')
[ "$st" = success ] && ! sl -q runner --status >/dev/null 2>&1
ok $? "runner --stop drains: the running task finished ($st) and the runner exited"

# a standalone worker (no scheduler) runs a whole run
run_id=$(sl -q run chain --no-runner 2>/dev/null)
"$SLUICE_BIN" -q -C "$PROJ" worker --count 1 >/dev/null 2>&1 &
wpid=$!
wait_for 20 sh -c "\"$SLUICE_BIN\" -C \"$PROJ\" --json status $run_id | python3 -c 'import json,sys; sys.exit(json.load(sys.stdin)[\"state\"]!=\"success\")'"
ok $? "a standalone 'sluice worker' runs a run to success" || sl --json status "$run_id" 2>&1 | diag
kill -TERM "$wpid"; wait "$wpid" 2>/dev/null

# exit codes
sl -q run no_such_pipeline --no-runner >/dev/null 2>&1
is "an unknown pipeline is a usage error (exit 2)" "$?" 2
sl -q run chain --date 2026-02-30 >/dev/null 2>&1
is "an impossible --date is a usage error (exit 2)" "$?" 2
BAD=$SLUICE_TESTDIR/lifecycle_unreachable
mkdir -p "$BAD/pipelines"
printf 'name: unreachable\nstate: "host=%s/nowhere dbname=x connect_timeout=2"\nbroker: "unix:%s/nowhere/redis.sock"\n' "$BAD" "$BAD" >"$BAD/sluice.yml"
printf 'tasks:\n  a: { kind: shell, command: "true" }\n' >"$BAD/pipelines/p.yml"
"$SLUICE_BIN" -q -C "$BAD" status >/dev/null 2>&1
is "an unreachable state database is exit 4" "$?" 4

# secrets: a connection with a password never shows up in output or state
CONNS=$SLUICE_TESTDIR/lifecycle-connections.yml
printf 'connections:\n  leaky:\n    type: postgres\n    dsn: "host=/nonexistent-dir dbname=nope user=nobody password=s3cr3t-pw connect_timeout=1"\n' >"$CONNS"
chmod 600 "$CONNS"
printf 'connections: %s\n' "$CONNS" >>"$PROJ/sluice.yml"
cat >"$PROJ/pipelines/secret.yml" <<'YML'
tasks:
  q: { kind: sql, conn: leaky, sql: "select 1", retries: 0 }
YML
out=$(sl run secret --wait 2>&1; sl logs latest q 2>&1; sl --json status secret 2>&1; state_sql "select * from sluice.task_instances t join sluice.task_logs l on l.ti_id = t.id")
echo "$out" | grep -q "cannot connect" && ! echo "$out" | grep -q s3cr3t-pw
ok $? "a failing connection is reported without its password, in output, logs and the state database" ||
	{ echo "$out" | diag; }
chmod 644 "$CONNS"
sl -q status >/dev/null 2>&1
is "a connections file readable by others is refused (exit 3)" "$?" 3
done_testing
