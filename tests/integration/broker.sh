#!/bin/sh
# The runner when the broker goes away: Redis killed -9 while a task runs.
# The worker's heartbeat and idle steps then meet a dead connection; they
# must keep going (retrying), not crash, and the task must still finish.
. "$SLUICE_SRCDIR/tests/integration/lib.sh"
echo "1..4"
PROJ=$(mkproj broker_it)
trap cleanup EXIT

cat >"$PROJ/pipelines/slow.yml" <<'YML'
tasks:
  s: { kind: shell, command: 'sleep 4; echo done' }
YML

out=$(sl -q up 2>&1)
ok $? "sluice up starts the embedded services" || echo "$out" | diag
sock=$(sl --json up -q | json_get 'j["broker"]["address"]' | sed 's/^unix://')
rpid=$(redis-cli -s "$sock" info server | tr -d '\r' | sed -n 's/^process_id://p')

run_id=$(sl -q run slow 2>/dev/null)
s_running() { [ "$(state_sql "select state from sluice.task_instances where run_id = $run_id and task = 's'")" = running ]; }
wait_for 15 s_running && [ -n "$rpid" ] && kill -9 "$rpid"
ok $? "killed redis-server (pid $rpid) while the task runs"

# several heartbeats (0.5 s) and an idle step's claim (every 1.5 s) without Redis
sleep 4
log=$PROJ/.sluice/runner.log
! grep -E 'worker [0-9]+ exited' "$log" >/dev/null
ok $? "no worker died while the broker was down" || grep -v 'cannot connect' "$log" | diag

sl -q up >/dev/null 2>&1
wait_for 40 sh -c "\"$SLUICE_BIN\" -C \"$PROJ\" --json status $run_id | python3 -c 'import json,sys; sys.exit(json.load(sys.stdin)[\"state\"]!=\"success\")'"
ok $? "once Redis is back the run finishes" || { sl --json status "$run_id" 2>&1; cat "$log"; } | diag

done_testing
