#!/bin/sh
# Supervision of the embedded services: the postmaster and redis-server
# killed -9 during a run are restarted by the runner, everyone reconnects by
# himself and the run completes with no command typed, each task's body
# running once; a task that ends while the database is down keeps its
# success; after `sluice down` nothing comes back and nothing is left.
#
# While a server is down the test reads the state database with psql only:
# a sluice command would start the services itself and hide what the runner
# does.
. "$SLUICE_SRCDIR/tests/integration/lib.sh"
echo "1..24"
PROJ=$(mkproj supervise_it)
trap cleanup EXIT

for t in psql redis-cli; do
	if ! command -v "$t" >/dev/null 2>&1; then
		for i in $(seq 1 24); do skip "supervision check $i" "$t is not installed"; done
		exit 0
	fi
done

COUNT=$PROJ/count
MARK=$PROJ/marker
# five tasks in a chain, each adding its name to a file once per run of its body
{
	echo "tasks:"
	prev=""
	for t in t1 t2 t3 t4 t5; do
		dep=${prev:+", depends_on: [$prev]"}
		echo "  $t: { kind: shell, command: 'echo $t >> \"$COUNT\"; sleep 1'$dep }"
		prev=$t
	done
} >"$PROJ/pipelines/chain.yml"
cat >"$PROJ/pipelines/edge.yml" <<YML
tasks:
  e: { kind: shell, command: 'while [ ! -f "$MARK" ]; do sleep 0.1; done; echo e >> "$COUNT"' }
YML

out=$(sl -q up 2>&1)
ok $? "sluice up starts the embedded services" || echo "$out" | diag
conn=$(sl --json up -q | json_get 'j["state"]["address"]')
sock=$(sl --json up -q | json_get 'j["broker"]["address"]' | sed 's/^unix://')
q() { psql "$conn" -XAtqc "$1" 2>/dev/null; }
datadir=$(q "show data_directory")
log=$PROJ/.sluice/runner.log

pg_pid() { head -n1 "$datadir/postmaster.pid" 2>/dev/null; }
redis_pid() { redis-cli -s "$sock" info server 2>/dev/null | tr -d '\r' | sed -n 's/^process_id://p'; }
# a killed server is a zombie until init reaps it, which may take a while
alive() {
	st=$(ps -o stat= -p "$1" 2>/dev/null)
	case $st in '' | Z*) return 1 ;; esac
}
gone() {
	end=$(($(date +%s) + $2))
	while alive "$1"; do
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.05
	done
}
run_is() { [ "$(q "select state from sluice.runs where id = $1")" = "$2" ]; }
started() { grep -qx "$1" "$COUNT" 2>/dev/null; }
log_lines() { wc -l <"$log" 2>/dev/null || echo 0; }
# the runner log from line $1 on
log_since() { tail -n +"$(($1 + 1))" "$log"; }
expected_chain=$(printf 't1\nt2\nt3\nt4\nt5')

sl -q runner >/dev/null 2>&1
ok $? "the runner starts"

# kill_mid_run LABEL PIDFN: kills the server mid-run and checks the recovery
kill_mid_run() {
	label=$1 pidfn=$2
	rm -f "$COUNT"
	run=$(sl -q run chain 2>/dev/null)
	wait_for 30 started t2
	old=$($pidfn)
	before=$(log_lines)
	is_pid "$old" && kill -9 "$old"
	ok $? "$label (pid $old) killed -9 while t2 runs"
	wait_for 120 run_is "$run" success
	ok $? "$label: the run completes by itself" || { q "select task, state, try_number from sluice.task_instances where run_id = $run"; log_since "$before"; } | diag
	is "$label: each task's body ran exactly once" "$(cat "$COUNT" 2>/dev/null)" "$expected_chain"
	is "$label: every task succeeded on try 1" \
		"$(q "select string_agg(state || ' ' || try_number, ',' order by task) from sluice.task_instances where run_id = $run")" \
		"success 1,success 1,success 1,success 1,success 1"
	new=$($pidfn)
	is_pid "$new" && [ "$new" != "$old" ] && grep -q "embedded $label died (pid $old); restarted in" "$log"
	ok $? "$label: the runner restarted it (pid $old -> $new)" || log_since "$before" | diag
	n=$(log_since "$before" | wc -l)
	[ "$n" -le 20 ]
	ok $? "$label: the runner log has a bounded number of lines about it ($n)" || log_since "$before" | diag
	echo "# $label: $(grep "embedded $label died (pid $old)" "$log")"
}

kill_mid_run PostgreSQL pg_pid
kill_mid_run Redis redis_pid

# A task that ends while the database is down: its worker keeps the end and
# commits it once the database is back; nothing takes the try over.
rm -f "$COUNT" "$MARK"
run=$(sl -q run edge 2>/dev/null)
e_running() { [ "$(q "select state from sluice.task_instances where run_id = $run")" = running ]; }
wait_for 30 e_running
old=$(pg_pid)
before=$(log_lines)
is_pid "$old" && kill -9 "$old" && gone "$old" 10
ok $? "the postmaster (pid $old) is dead while the task still runs"
touch "$MARK"
wait_for 120 run_is "$run" success
ok $? "the run completes by itself" || log_since "$before" | diag
is "the task that ended during the outage is a success on try 1" \
	"$(q "select state || ' ' || try_number from sluice.task_instances where run_id = $run")" "success 1"
is "its body ran once" "$(cat "$COUNT" 2>/dev/null)" "e"
is "no try of it was lost or taken over" \
	"$(q "select count(*) from sluice.task_tries r join sluice.task_instances t on t.id = r.ti_id where t.run_id = $run and r.state = 'lost'")" 0
log_since "$before" | grep -q "keeping its end until it is back"
ok $? "its worker kept the end while the database was away" || log_since "$before" | diag

# After `down` nothing is restarted and no process of the project is left.
rm -f "$COUNT"
run=$(sl -q run chain 2>/dev/null)
wait_for 30 started t1
pg=$(pg_pid)
rd=$(redis_pid)
before=$(log_lines)
out=$(sl -q down 2>&1)
ok $? "sluice down during a run stops the runner and the services" || echo "$out" | diag
# longer than a few of the supervisor's looks (1 s) and restart delays
sleep 4
! alive "$pg" && ! alive "$rd" && [ -z "$(pg_pid)" ] && ! q "select 1" >/dev/null
ok $? "the services stay down after sluice down" || log_since "$before" | diag
! log_since "$before" | grep -q "restarted in"
ok $? "the runner restarted nothing while stopping" || log_since "$before" | diag
left=""
for d in /proc/[0-9]*; do
	p=${d#/proc/}
	cwd=$(readlink "$d/cwd" 2>/dev/null) || continue
	cmd=$(tr '\0' ' ' <"$d/cmdline" 2>/dev/null)
	case "$cwd/ $cmd" in
	"$PROJ"/* | "$datadir"/* | *"-C $PROJ "*) left="$left $p($cmd)" ;;
	esac
done
[ -z "$left" ]
ok $? "no sluice, postgres or redis process of the project is left" || echo "$left" | diag

done_testing
