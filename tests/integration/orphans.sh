#!/bin/sh
# No process outlives its task's worker: a kill -9 of a worker or of the
# runner takes the task's whole process tree with it (the programs under
# `sh -c`, in the background, one shell deeper); a task that ends still has
# what it left behind killed; exit statuses, error summaries and timeouts are
# what they were; a load killed with -9, ad hoc or with its worker, leaves its
# table as it was and its row in sluice.loads marked lost.
. "$SLUICE_SRCDIR/tests/integration/lib.sh"
echo "1..31"
PROJ=$(mkproj orphans_it)
trap cleanup EXIT
# A takeover kills what the lost try left in its group; with a heartbeat
# timeout longer than the bounds below, nothing here is gone thanks to one.
sed -i 's/heartbeat_timeout: .*/heartbeat_timeout: 15/' "$PROJ/sluice.yml"
T=$PROJ/out
mkdir -p "$T" "$PROJ/contracts" "$PROJ/data"
cp "$SLUICE_SRCDIR/bench/transactions.yml" "$PROJ/contracts/tx.yml"

# alive PID: a `sleep 300` or a shell of this test still runs as PID (a zombie
# that init has not reaped yet has ended; a pid reused by another program is
# not ours)
alive() {
	is_pid "$1" && [ -r "/proc/$1/stat" ] || return 1
	sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | grep -q '^[ZX]' && return 1
	tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qE '^(sleep 300|/bin/sh -c|sh -c)'
}
# gone_within SECONDS PID...: every PID has ended, polling up to SECONDS
gone_within() {
	gw_end=$(($(date +%s) + $1))
	shift
	while :; do
		gw_left=""
		for p in "$@"; do alive "$p" && gw_left="$gw_left $p"; done
		[ -z "$gw_left" ] && return 0
		[ "$(date +%s)" -ge "$gw_end" ] && { echo "still running:$gw_left" | diag; return 1; }
		sleep 0.2
	done
}
pids_of() { for f in "$@"; do cat "$T/$f" 2>/dev/null; done | tr '\n' ' '; }
run_state() { sl --json status "$1" 2>/dev/null | json_get 'j["state"]' 2>/dev/null; }
run_done() { [ "$(run_state "$1")" = success ]; }
worker_of() { # worker_of RUN TASK: the pid of the worker running it
	state_sql "select w.pid from sluice.workers w join sluice.task_instances t on t.worker = w.name
		where t.run_id = $1 and t.task = '$2'"
}
# task_end RUN: "task state exit_status error" per task of RUN
task_end() {
	sl --json status "$1" | json_get '"\n".join("%s %s %s %s" % (t["task"], t["state"], t["exit_status"], t["error"]) for t in j["tasks"])'
}

# The first try starts a tree three levels deep and sleeps; a takeover's try
# ends at once, so a run can finish after its worker died.
cat >"$PROJ/pipelines/tree.yml" <<'YML'
params: { out: /dev/null }
tasks:
  t:
    kind: shell
    env: { D: "{{ params.out }}" }
    command: |
      if [ "$SLUICE_TRY" -gt 1 ]; then exit 0; fi
      echo $$ > "$D/sh"
      sleep 300 & echo $! > "$D/bg"
      sh -c 'echo $$ > "$D/sub"; sleep 300 & echo $! > "$D/deep"; wait' &
      sleep 300
YML

sl -q up >/dev/null 2>&1
ok $? "sluice up starts the embedded services"
sl -q runner >/dev/null 2>&1
ok $? "the runner starts"

# (a) kill -9 the worker in the middle of the task
rm -f "$T"/*
run_id=$(sl -q run tree --param out="$T" 2>/dev/null)
wait_for 20 test -s "$T/deep"
wpid=$(worker_of "$run_id" t)
pids=$(pids_of sh bg sub deep)
is_pid "$wpid" && [ "$(echo $pids | wc -w)" -eq 4 ] && kill -9 "$wpid"
ok $? "killed the worker (pid '$wpid') while its task ran a tree of 4 processes ($pids)"
# shellcheck disable=SC2086
gone_within 10 $pids
ok $? "the task's whole tree went with its worker"
wait_for 60 run_done "$run_id"
ok $? "the run finished on another worker (state $(run_state "$run_id"))"

# (b) kill -9 the runner: its workers go, and their tasks' trees with them
rm -f "$T"/*
run_id=$(sl -q run tree --param out="$T" 2>/dev/null)
wait_for 20 test -s "$T/deep"
pids=$(pids_of sh bg sub deep)
rpid=$(sl --json runner --status | json_get 'j["pid"]')
is_pid "$rpid" && [ "$(echo $pids | wc -w)" -eq 4 ] && kill -9 "$rpid"
ok $? "killed the runner (pid '$rpid') while a task ran a tree of 4 processes ($pids)"
# shellcheck disable=SC2086
gone_within 10 $pids
ok $? "the task's whole tree went with the runner"
sleep 0.5
sl -q runner >/dev/null 2>&1
wait_for 60 run_done "$run_id"
ok $? "after a restart of the runner the run finished (state $(run_state "$run_id"))"

# (c) a task that ends leaves a background child, with or without its pipes
cat >"$PROJ/pipelines/leave.yml" <<'YML'
params: { out: /dev/null }
tasks:
  quiet: { kind: shell, env: { D: "{{ params.out }}" }, command: 'sleep 300 >/dev/null 2>&1 & echo $! > "$D/quiet"; echo done' }
  holds: { kind: shell, env: { D: "{{ params.out }}" }, command: 'sleep 300 & echo $! > "$D/holds"; echo done' }
YML
rm -f "$T"/*
out=$(sl -q run leave --param out="$T" --wait --json 2>&1)
ok $? "a run whose tasks leave background children succeeds" || echo "$out" | diag
pids=$(pids_of quiet holds)
[ "$(echo $pids | wc -w)" -eq 2 ] && gone_within 10 $pids
ok $? "what each task left running was killed at its end ($pids)"

# (d) how a task ended reads as it did with the task right under its worker
printf '\177ELF but not really' >"$PROJ/junk"
chmod +x "$PROJ/junk"
cat >"$PROJ/pipelines/ends.yml" <<'YML'
tasks:
  x3: { kind: shell, command: 'echo boom >&2; exit 3' }
  usr1: { kind: shell, command: 'echo dying >&2; kill -USR1 $$' }
  kill9: { kind: shell, command: 'echo dying >&2; kill -KILL $$' }
  term0: { kind: shell, command: 'echo bye >&2; kill -TERM 0; sleep 5' }
  usr1_0: { kind: shell, command: 'echo bye >&2; kill -USR1 0; sleep 5' }
  nodir: { kind: shell, cwd: no-such-dir, command: 'true' }
  junk: { kind: shell, command: './junk' }
  fine: { kind: shell, command: 'echo fine' }
  sqlfail: { kind: sql, sql: 'select 1/0' }
  sqlok: { kind: sql, sql: 'select 1' }
YML
sl -q run ends --wait >/dev/null 2>&1
[ $? -eq 1 ]
ok $? "the run of tasks that fail in every way fails"
got=$(task_end latest 2>&1)
want="x3 failed 3 exit status 3: boom
usr1 failed -10 killed by signal 10 (User defined signal 1): dying
kill9 failed -9 killed by signal 9 (Killed): dying
term0 failed -15 killed by signal 15 (Terminated): bye
usr1_0 failed -10 killed by signal 10 (User defined signal 1): bye
nodir failed 126 exit status 126: cannot enter $PROJ/no-such-dir: No such file or directory
junk failed 126 exit status 126: ./junk: Exec format error
fine success 0 None
sqlfail failed 1 exit status 1: ERROR: division by zero (SQLSTATE 22012)
sqlok success 0 None"
is "exit statuses and error summaries: an exit code, a signal (to the task or its group), an exec error" "$got" "$want"
got=$(sl logs latest nodir 2>&1)
echo "$got" | grep -qx "cannot enter $PROJ/no-such-dir: No such file or directory"
ok $? "a task that cannot start says why in its log" || echo "$got" | diag

# (e) a timeout: SIGTERM to the group, then SIGKILL for what ignores it
cat >"$PROJ/pipelines/slow.yml" <<'YML'
params: { out: /dev/null }
tasks:
  polite: { kind: shell, timeout: 1, env: { D: "{{ params.out }}" }, command: 'sleep 300 & echo $! > "$D/polite"; sleep 300' }
  stubborn:
    kind: shell
    timeout: 1
    env: { D: "{{ params.out }}" }
    command: |
      trap 'echo got TERM >> "$D/term"' TERM
      echo $$ > "$D/stubborn"
      while :; do sleep 0.2; done
YML
rm -f "$T"/*
sl -q run slow --param out="$T" --wait >/dev/null 2>&1
got=$(task_end latest 2>&1)
is "both timed out: the polite one ended by SIGTERM, the stubborn one by SIGKILL" "$got" "polite failed -15 timed out after 1s
stubborn failed -9 timed out after 1s"
[ "$(cat "$T/term" 2>/dev/null)" = "got TERM" ]
ok $? "the stubborn task got the SIGTERM first"
got=$(sl logs latest stubborn 2>&1)
echo "$got" | grep -qx "\[sluice\] timed out after 1s: stopping the task's process group"
ok $? "the log says the task timed out" || echo "$got" | diag
pids=$(pids_of polite stubborn)
[ "$(echo $pids | wc -w)" -eq 2 ] && gone_within 10 $pids
ok $? "nothing of either task is left ($pids)"

# (f) an ad-hoc load killed with -9 mid-load; no runner, so only the command
# that lists loads can mark it
sl -q runner --stop >/dev/null 2>&1
python3 "$SLUICE_SRCDIR/bench/gen_transactions.py" 1000000 0 "$PROJ/data/big.csv"
WH=$(sl --json up -q 2>/dev/null | json_get 'j["warehouse"]["address"]')
wh() { psql "$WH" -XAtqc "$1"; }
# (not this query itself, whose text has the pattern in it)
copying() { [ "$(wh "select count(*) from pg_stat_activity where datname = current_database() and state = 'active' and query like '%COPY %' and pid <> pg_backend_pid()")" -gt 0 ]; }
no_copy() { [ "$(wh "select count(*) from pg_stat_activity where query like '%COPY %' and pid <> pg_backend_pid()")" -eq 0 ]; }
sl -q load "$PROJ/data/big.csv" --into tx --contract tx --create --max-rejects 0 >/dev/null 2>&1
ok $? "a first load creates tx"
before=$(wh "select count(*) from tx")
"$SLUICE_BIN" -q -C "$PROJ" load "$PROJ/data/big.csv" --into tx --contract tx >/dev/null 2>&1 &
lpid=$!
wait_for 30 copying
kill -9 "$lpid"
{ wait "$lpid"; } 2>/dev/null
rc=$?
wait_for 20 no_copy
[ $rc -eq 137 ] && [ "$(wh "select count(*) from tx")" = "$before" ]
ok $? "the load killed with -9 while copying (status $rc) left tx as it was ($before rows)"
state=$(state_sql "select state from sluice.loads where pid = $lpid")
is "until someone looks, its row still says running" "$state" running
out=$(sl --json loads --limit 5 2>&1)
ok $? "sluice loads --json exits 0" || echo "$out" | diag
got=$(echo "$out" | json_get '[l["state"] for l in j["loads"] if l["pid"] == '"$lpid"'][0]' 2>&1)
is "sluice loads marked the killed load lost" "$got" lost
got=$(echo "$out" | json_get '[l["error"] for l in j["loads"] if l["pid"] == '"$lpid"'][0]' 2>&1)
host=$(hostname)
is "the reason names its process" "$got" "its process (pid $lpid on $host) ended without recording the end of the load"
got=$(echo "$out" | json_get '[l["ended_at"] is not None for l in j["loads"] if l["pid"] == '"$lpid"'][0]' 2>&1)
is "the lost load has an end time" "$got" True
got=$(echo "$out" | json_get '[l["state"] for l in j["loads"]][1:2]' 2>&1)
is "the first load is still a success" "$got" "['success']"
got=$(sl loads 2>&1)
echo "$got" | grep -q "ended without recording the end of the load"
ok $? "the text listing shows the reason too" || echo "$got" | diag

# (g) a load task whose worker is killed: the runner's sweep marks its load
# lost, the takeover loads the file once
cat >"$PROJ/pipelines/bigload.yml" <<'YML'
tasks:
  tx2: { kind: load, source: data/big.csv, into: tx2, contract: tx, create: true }
YML
sl -q runner >/dev/null 2>&1
ok $? "the runner starts again"
run_id=$(sl -q run bigload 2>/dev/null)
wait_for 30 copying
wpid=$(worker_of "$run_id" tx2)
is_pid "$wpid" && kill -9 "$wpid"
ok $? "killed the worker (pid '$wpid') of a load task while it copied"
wait_for 60 run_done "$run_id"
ok $? "the run finished after a takeover (state $(run_state "$run_id"))"
lost_by_sweep() { [ "$(state_sql "select state from sluice.loads where run_id = $run_id and try_number = 1")" = lost ]; }
wait_for 30 lost_by_sweep
ok $? "the runner marked the first try's load lost ($(state_sql "select string_agg(try_number || '=' || state, ' ' order by id) from sluice.loads where run_id = $run_id"))"
is "tx2 holds the file once" "$(wh "select count(*) from tx2")" 1000000

done_testing
