#!/bin/sh
# kill -9 of each part of sluice in the middle of a task: a worker, the
# runner, the embedded postmaster, the embedded redis-server, each while a
# shell, a sql or a load task runs. The run must finish by itself (a killed
# runner's workers start another before they go: nothing else does), each
# task's body must have had the effect the design promises, counted by a side
# effect, and after `sluice down` no process of the project may be left.
#
# What is promised (see "What survives a crash" in README.md):
#   a worker or the runner killed: the task is taken over as a new try (at
#     least once); a shell task's killed try stops with its whole process tree,
#     a sql task's transaction and a load are rolled back, so their effect is
#     once;
#   Postgres killed: the runner restarts it; a task that finished meanwhile
#     keeps its result (one try); a sql or load task whose own connection died
#     fails that try and its retry succeeds, its effect once;
#   Redis killed: the runner restarts it; the tasks run once, one try each.
. "$SLUICE_SRCDIR/tests/integration/lib.sh"

PROJ=$(mkproj faults_it)
# a takeover within seconds: beats every second, presumed dead after 5
cat >"$PROJ/sluice.yml" <<'YML'
name: faults_it
runner:
  workers: 2
  heartbeat_interval: 1
  heartbeat_timeout: 5
YML
FX=$PROJ/effects
mkdir -p "$FX" "$PROJ/data"
STOPF=$FX/supervisor.stop
LOAD_ROWS=2000
BOUND=60
SUP=

# The three pipelines: a quick shell task, the body under test (about 3 s in
# its middle), and a shell task after it. Every shell task appends to OUT.
pipeline() { # KIND BODY-YAML
	cat >"$PROJ/pipelines/fx_$1.yml" <<YML
params: { out: /dev/null }
defaults: { retries: 2, retry_delay: 1 }
tasks:
  first: { kind: shell, command: 'echo first >>"\$OUT"', env: { OUT: "{{ params.out }}" } }
  body:
$2
    depends_on: [first]
  after: { kind: shell, command: 'echo after >>"\$OUT"', env: { OUT: "{{ params.out }}" }, depends_on: [body] }
YML
}
# the body's work happens in a grandchild (sh -c under the task's sh), so a
# process tree that outlives its try writes a second "done"
pipeline shell '    kind: shell
    env: { OUT: "{{ params.out }}" }
    command: >-
      echo "start $SLUICE_TRY" >>"$OUT";
      sh -c '"'"'sleep 3; echo "done $SLUICE_TRY" >>"$OUT"'"'"';
      echo "end $SLUICE_TRY" >>"$OUT"'
# the marker does not depend on the try: a second commit would count twice
pipeline sql "    kind: sql
    sql: \"INSERT INTO fx_marks (marker) VALUES ('{{ run_id }}'); SELECT pg_sleep(3)\""
# fx_load is slowed by a row trigger (about 3 s for the file), so the kill
# lands in the middle of its COPY
pipeline load '    kind: load
    source: data/fx.csv
    into: fx_load'
python3 -c "
import sys
print('id,name')
for i in range(1, $LOAD_ROWS + 1):
    print('%d,row %d' % (i, i))
" >"$PROJ/data/fx.csv"

. "$SLUICE_SRCDIR/tests/integration/faultlib.sh"
trap 'teardown' EXIT

# the worker running the body
kill_worker() {
	p=$(sq "SELECT w.pid FROM sluice.workers w JOIN sluice.task_instances t ON t.worker = w.name
	        WHERE t.run_id = $run_id AND t.task = 'body'")
	is_pid "$p" && kill -9 "$p" && echo "worker pid $p"
}

# ---- the task kinds: mid_KIND is true in the middle of the body; effect_KIND
# prints what its body did, "once" when exactly once ------------------------

mid_shell() { grep -q '^start' "$OUT"; }
mid_sql() {
	[ "$(wq "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND state = 'active'
	         AND query LIKE 'INSERT INTO fx_marks%'")" -ge 1 ]
}
mid_load() {
	[ "$(wq "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND state = 'active'
	         AND query LIKE '%COPY \"fx_load\"%'")" -ge 1 ]
}

# shell: the last try's start, done and end, and no other done or end: a
# killed try's process tree did not go on
effect_shell() {
	last=$(sed -n 's/^start //p' "$OUT" | tail -n 1)
	got=$(grep -E '^(done|end) ' "$OUT" | tr '\n' ' ')
	if [ -n "$last" ] && [ "$got" = "done $last end $last " ]; then
		echo once
	else
		echo "$(tr '\n' ' ' <"$OUT")"
	fi
}
effect_sql() {
	n=$(wq "SELECT count(*) FROM fx_marks WHERE marker = '$run_id'")
	[ "$n" = 1 ] && echo once || echo "$n marker rows"
}
effect_load() {
	got=$(wq "SELECT count(*) || ' rows, ' || count(DISTINCT id) || ' distinct' FROM fx_load")
	[ "$got" = "$LOAD_ROWS rows, $LOAD_ROWS distinct" ] && echo once || echo "$got (want $LOAD_ROWS)"
}

body_tries() {
	sq "SELECT string_agg(r.state, ',' ORDER BY r.try_number) FROM sluice.task_tries r
	    JOIN sluice.task_instances t ON t.id = r.ti_id WHERE t.run_id = $run_id AND t.task = 'body'"
}
takeover_logged() {
	[ "$(sq "SELECT count(*) FROM sluice.task_logs l JOIN sluice.task_instances t ON t.id = l.ti_id
	         WHERE t.run_id = $run_id AND t.task = 'body' AND l.line LIKE '%taken over%'")" -ge 1 ]
}

no_running_load() { [ "$(sq "SELECT count(*) FROM sluice.loads WHERE run_id = $run_id AND state = 'running'")" = 0 ]; }
settled() { run_ended && "back_$1"; }
run_state() { sq "SELECT state FROM sluice.runs WHERE id = $run_id"; }
run_ended() { case $(run_state) in success | failed) return 0 ;; esac; return 1; }

# ---- one case ------------------------------------------------------------

# fault PART KIND EXPECT: EXPECT is what the design promises the body
#   takeover  a new try took over (tries end lost,...,success); effect once
#   once      one try, success; effect once
#   retried   no try lost (its worker lived), the last one success; effect once
fault() {
	part=$1 kind=$2 expect=$3
	c="$part x $kind"
	OUT=$FX/$part-$kind.out
	: >"$OUT"
	sl -q up >/dev/null 2>&1
	services_learn
	wq "TRUNCATE fx_load" >/dev/null
	supervise
	wait_for 30 sl -q runner --status
	run_id=$(sl -q run "fx_$kind" --no-runner --param out="$OUT" 2>"$FX/run.err")
	if ! is_pid "$run_id"; then
		ok 1 "$c: the run was created" || diag <"$FX/run.err"
		teardown
		return
	fi
	wait_for 30 "mid_$kind"
	sleep 0.5 # well inside the body: a shell task's grandchild is running
	killed=$("kill_$part")
	ok $? "$c: killed the $killed in the middle of the body" || sq "SELECT task, state, worker FROM sluice.task_instances WHERE run_id = $run_id" | diag
	killed_pid=${killed##* }

	# one bound for the run to end and a killed service to be back
	case $part in
	postgres | redis) wait_for $BOUND settled "$part" ;;
	*) wait_for $BOUND run_ended ;;
	esac
	st=$(run_state)
	[ "$st" = success ]
	ok $? "$c: the run finished by itself, successfully (state '${st:-unknown}' after at most ${BOUND}s)" ||
		{ sq "SELECT task, state, try_number, error FROM sluice.task_instances WHERE run_id = $run_id"
		  grep -v 'cannot connect' "$PROJ/.sluice/runner.log" | tail -n 15; } | diag
	case $part in
	postgres | redis)
		"back_$part"
		ok $? "$c: $part is back by itself (was pid $killed_pid)"
		;;
	esac

	got=$("effect_$kind")
	is "$c: the body's effect happened once" "$got" once
	is "$c: first and after ran once each" "$(grep -cx first "$OUT") $(grep -cx after "$OUT")" "1 1"
	tries=$(body_tries)
	case $expect in
	takeover)
		case $tries in *lost*,success) takeover_logged ;; *) false ;; esac
		ok $? "$c: taken over as a new try, the history shows it (tries: $tries)"
		;;
	once) is "$c: one try (its result was kept)" "$tries" success ;;
	retried)
		case $tries in *lost*) false ;; *success) true ;; *) false ;; esac
		ok $? "$c: no try lost, the last one succeeded (tries: $tries)"
		;;
	esac
	if [ "$kind" = load ]; then
		# a load whose process is gone is marked by the runner's sweep
		wait_for $BOUND no_running_load
		n=$(sq "SELECT count(*) FROM sluice.loads WHERE run_id = $run_id AND state = 'running'")
		is "$c: no load of the run is left 'running'" "$n" 0
	fi

	teardown
	# what down stopped may take a moment to exit
	wait_for 10 nothing_left
	left=$(leftovers)
	[ -z "$left" ]
	ok $? "$c: no process of the project left after sluice down" || echo "$left" | diag
	pf=$(live_pidfiles)
	[ -z "$pf" ]
	ok $? "$c: no pid file names a live process" || echo "$pf" | diag
}

# ---- the matrix ------------------------------------------------------------

out=$(sl -q up 2>&1)
ok $? "sluice up starts the embedded services" || echo "$out" | diag
services_learn
wq "CREATE TABLE fx_marks (marker text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());
    CREATE TABLE fx_load (id int, name text);
    CREATE FUNCTION fx_slow() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN PERFORM pg_sleep(0.0015); RETURN NEW; END \$\$;
    CREATE TRIGGER fx_slow BEFORE INSERT ON fx_load FOR EACH ROW EXECUTE FUNCTION fx_slow();" >/dev/null
out=$(sl validate 2>&1)
ok $? "the fault pipelines are valid" || echo "$out" | diag
sl -q down >/dev/null 2>&1

while read -r part shell sql load; do
	case $part in '#'* | '') continue ;; esac
	for k in shell sql load; do
		eval "e=\$$k"
		if [ -n "${SLUICE_FAULTS_ONLY:-}" ] && [ "$SLUICE_FAULTS_ONLY" != "$part" ] && [ "$SLUICE_FAULTS_ONLY" != "$k" ] &&
			[ "$SLUICE_FAULTS_ONLY" != "$part-$k" ]; then
			continue
		fi
		fault "$part" "$k" "$e"
	done
done <<'MATRIX'
# part     shell     sql       load
worker     takeover  takeover  takeover
runner     takeover  takeover  takeover
postgres   once      retried   retried
redis      once      once      once
MATRIX

echo "1..$tap_n"
done_testing
