#!/bin/sh
# The soak: a pipeline of shell, sql and load tasks that fan out and in, run
# again and again (one run after another) while kill -9s of random parts (a
# worker, the runner, the postmaster, redis-server) land at random moments.
# Every run must succeed by itself; no task's effect may be lost (a shell
# task's "done" line, a sql task's marker row, a load's rows); a sql task's
# or a load's may never happen twice (the commit ledger in the target), and a
# shell task's only when the try that had it first was lost with its worker
# (a worker or the runner was killed while it ran: the one place the design
# runs a task again). A killed runner is started again by its own workers.
#
# SLUICE_SOAK_TASKS   tasks in the pipeline (30)
# SLUICE_SOAK_RUNS    runs (20)
# SLUICE_SOAK_KILLS   kills in all (2 a run); one a run ends before waits for the next
# SLUICE_SOAK_SPACING seconds at least between two kills (3)
# SLUICE_SOAK_PARTS   what may be killed ("worker runner postgres redis")
# SLUICE_SOAK_BOUND   seconds a run may take (120)
# SLUICE_SOAK_SEED    the seed of the pipeline's shape and of the kills (random, printed)
#
# `make soak` runs it as it is; tests/integration/soak.sh runs a small one.
. "$SLUICE_SRCDIR/tests/integration/lib.sh"

N_TASKS=${SLUICE_SOAK_TASKS:-30}
N_RUNS=${SLUICE_SOAK_RUNS:-20}
N_KILLS=${SLUICE_SOAK_KILLS:-$((N_RUNS * 2))}
SPACING=${SLUICE_SOAK_SPACING:-3}
PARTS=${SLUICE_SOAK_PARTS:-worker runner postgres redis}
BOUND=${SLUICE_SOAK_BOUND:-120}
SEED=${SLUICE_SOAK_SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}
echo "# soak: seed $SEED (SLUICE_SOAK_SEED=$SEED repeats it): $N_RUNS runs of $N_TASKS tasks, $N_KILLS kills of: $PARTS"
T_START=$(date +%s)

PROJ=$(mkproj soak_it)
cat >"$PROJ/sluice.yml" <<'YML'
name: soak_it
runner:
  workers: 2
  heartbeat_interval: 1
  heartbeat_timeout: 5
YML
SOAK=$PROJ/soak
STOPF=$SOAK/supervisor.stop
SUP=
mkdir -p "$SOAK" "$PROJ/data"
. "$SLUICE_SRCDIR/tests/integration/faultlib.sh"
trap 'teardown' EXIT

# ---- the pipeline, its data and the kills, from the seed -------------------

python3 - "$SEED" "$N_TASKS" "$N_RUNS" "$N_KILLS" "$SPACING" "$PARTS" "$PROJ" <<'PY'
import json, random, sys
seed, n, runs, kills, spacing, parts, proj = sys.argv[1:]
n, runs, kills, spacing, parts = int(n), int(runs), int(kills), float(spacing), parts.split()
rnd = random.Random(int(seed))
names = ["t%02d" % (i + 1) for i in range(n)]
kinds = ["shell", "sql", "load"] + [rnd.choice(["shell", "sql", "load"]) for _ in range(n - 3)]
rnd.shuffle(kinds)
sizes = [200, 500, 1000]
width = max(2, round(n ** 0.5))
layers = [list(range(i, min(i + width, n))) for i in range(0, n, width)]
deps = {i: set() for i in range(n)}
for L in range(1, len(layers)):
    prev = layers[L - 1]
    for t in layers[L]:  # fan-in: one to three of the layer above
        deps[t] |= set(rnd.sample(prev, rnd.randint(1, min(3, len(prev)))))
    for p in prev:  # fan-out: each task feeds at least one below
        if not any(p in deps[t] for t in layers[L]):
            deps[rnd.choice(layers[L])].add(p)
tasks, busy = {}, 0.0
lines = ["params: { log: /dev/null }", "defaults: { retries: 3, retry_delay: 1 }", "tasks:"]
for i, name in enumerate(names):
    k, d = kinds[i], rnd.choice([0.3, 0.5, 0.8])
    dep = ", depends_on: [%s]" % ", ".join(names[j] for j in sorted(deps[i])) if deps[i] else ""
    if k == "shell":
        body = ("kind: shell, env: { LOG: \"{{ params.log }}\" }, command: 'echo \"$SLUICE_RUN_ID $SLUICE_TASK $SLUICE_TRY start\" >>\"$LOG\"; "
                "sleep %s; echo \"$SLUICE_RUN_ID $SLUICE_TASK $SLUICE_TRY done\" >>\"$LOG\"'" % d)
        tasks[name] = {"kind": k}
    elif k == "sql":
        body = "kind: sql, sql: \"INSERT INTO soak_marks (run_id, task) VALUES ({{ run_id }}, '%s'); SELECT pg_sleep(%s)\"" % (name, d)
        tasks[name] = {"kind": k}
    else:
        rows = rnd.choice(sizes)
        body = "kind: load, source: data/soak_%d.csv, into: soak_%s" % (rows, name)
        tasks[name] = {"kind": k, "rows": rows}
        d = 0.3
    busy += d + 0.1
    lines.append("  %s: { %s%s }" % (name, body, dep))
open(proj + "/pipelines/soak.yml", "w").write("\n".join(lines) + "\n")
json.dump(tasks, open(proj + "/soak/tasks.json", "w"))
for rows in sizes:
    with open("%s/data/soak_%d.csv" % (proj, rows), "w") as f:
        f.write("id,name\n")
        for r in range(1, rows + 1):
            f.write("%d,row %d\n" % (r, r))
# kills: spread over the runs (as evenly as they go), each at a moment within
# the run's likely length (two workers), then at least `spacing` apart
span = max(1.0, busy / 2)
order = list(range(runs))
rnd.shuffle(order)
plan = sorted((order[k % runs], rnd.uniform(0.5, span), rnd.choice(parts), rnd.randrange(1000)) for k in range(kills))
with open(proj + "/soak/plan.tsv", "w") as f:
    last = {}
    for run, at, part, pick in plan:
        at = max(at, last.get(run, -spacing) + spacing)
        last[run] = at
        f.write("%d\t%.2f\t%s\t%d\n" % (run, at, part, pick))
PY
ok $? "the pipeline ($N_TASKS tasks), its data and the kill plan are made" || exit 1
out=$(sl validate 2>&1)
ok $? "the soak pipeline is valid" || echo "$out" | diag

# ---- killing ---------------------------------------------------------------

# The runner's workers: its children with its command line (forks of it).
workers_of() {
	rcmd=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null)
	for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		[ "$(tr '\0' ' ' <"/proc/$c/cmdline" 2>/dev/null)" = "$rcmd" ] && alive "$c" && echo "$c"
	done
}

# A worker running a task if there is one, else any; PICK chooses among them.
kill_worker() {
	rp=$(head -n 1 "$PROJ/.sluice/runner.pid" 2>/dev/null)
	is_pid "$rp" && alive "$rp" || return 1
	all=$(workers_of "$rp")
	busy=$(sq "SELECT pid FROM sluice.workers WHERE state = 'busy' ORDER BY pid")
	cand=
	for w in $all; do
		case " $(echo $busy) " in *" $w "*) cand="$cand $w" ;; esac
	done
	[ -n "$cand" ] || cand=$all
	set -- $cand
	[ $# -gt 0 ] || return 1
	shift $((PICK % $#))
	kill -9 "$1" && echo "worker pid $1"
}

# kill_part PART: kills it (waiting up to 10 s for it to be there: a restart
# may be under way) and logs it; prints what it killed.
kill_part() {
	end=$(($(date +%s) + 10))
	while :; do
		case $1 in
		worker) got=$(kill_worker) ;;
		runner) p=$(head -n 1 "$PROJ/.sluice/runner.pid" 2>/dev/null)
			got=$(is_pid "$p" && alive "$p" && kill -9 "$p" && echo "runner pid $p") ;;
		postgres) p=$(pg_pid)
			got=$(is_pid "$p" && alive "$p" && kill -9 "$p" && echo "postmaster pid $p") ;;
		redis) p=$(head -n 1 "$RPIDFILE" 2>/dev/null)
			got=$(is_pid "$p" && alive "$p" && kill -9 "$p" && echo "redis-server pid $p") ;;
		esac
		if [ -n "$got" ]; then
			printf '%s\t%s\t%s\t%s\n' "$run_id" "$1" "${got##* }" "$(date +%s.%N)" >>"$SOAK/kills.tsv"
			echo "$got"
			return 0
		fi
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.2
	done
}

# Everything is up again: both servers and a runner.
ready() {
	[ "$(sq 'SELECT 1')" = 1 ] && [ "$(rcli ping)" = PONG ] || return 1
	p=$(head -n 1 "$PROJ/.sluice/runner.pid" 2>/dev/null)
	is_pid "$p" && alive "$p"
}

# before T0 AT: less than AT seconds since T0 (seconds since the epoch)
before() { awk -v t0="$1" -v at="$2" -v now="$(date +%s.%N)" 'BEGIN { exit !(now - t0 < at) }'; }

run_state() { sq "SELECT state FROM sluice.runs WHERE id = $run_id"; }
run_ended() { case $(run_state) in success | failed) return 0 ;; esac; return 1; }

# ---- checking a run ----------------------------------------------------------

# Prints one JSON line: the run's problems and its counts.
verify() {
	sq "SELECT t.task, r.try_number, r.state, coalesce(r.worker, ''), extract(epoch FROM r.started_at),
	           coalesce(extract(epoch FROM r.ended_at)::text, '')
	    FROM sluice.task_tries r JOIN sluice.task_instances t ON t.id = r.ti_id WHERE t.run_id = $run_id" >"$SOAK/tries.txt"
	sq "SELECT task, state FROM sluice.task_instances WHERE run_id = $run_id" >"$SOAK/states.txt"
	wq "SELECT task, count(*) FROM soak_marks WHERE run_id = $run_id GROUP BY task" >"$SOAK/marks.txt"
	wq "$LOAD_COUNTS" >"$SOAK/rows.txt"
	sq "SELECT count(*) FROM sluice.task_logs l JOIN sluice.task_instances t ON t.id = l.ti_id
	    WHERE t.run_id = $run_id AND l.line LIKE '[sluice] try % committed at %'" >"$SOAK/ledger.txt"
	python3 - "$run_id" "$SOAK" <<'PY'
import json, sys, time
run, d = sys.argv[1], sys.argv[2]
tasks = json.load(open(d + "/tasks.json"))
def rows(name):
    try:
        return [l.rstrip("\n").split("|") for l in open(d + "/" + name) if l.strip()]
    except FileNotFoundError:
        return []
kills = [l.rstrip("\n").split("\t") for l in open(d + "/kills.tsv") if l.strip()]
kills = [(k[1], k[2], float(k[3])) for k in kills if k[0] == run]
tries = {}
for task, n, state, worker, start, end in rows("tries.txt"):
    tries.setdefault(task, []).append((int(n), state, worker, float(start), float(end) if end else None))
states = dict(rows("states.txt"))
marks = {t: int(c) for t, c in rows("marks.txt")}
loaded = {t: (int(c), int(u)) for t, c, u in rows("rows.txt")}
done, starts = {}, {}
for l in open(d + "/shell.log"):
    f = l.split()
    if len(f) == 4 and f[0] == run:
        (done if f[3] == "done" else starts)[f[1]] = (done if f[3] == "done" else starts).get(f[1], 0) + 1
problems, lost, excused_n, again = [], 0, 0, {"shell": 0, "sql": 0, "load": 0}
for task, spec in sorted(tasks.items()):
    k = spec["kind"]
    ts = sorted(tries.get(task, []))
    if states.get(task) != "success":
        problems.append("%s (%s) is %s" % (task, k, states.get(task)))
    # a lost try is excused when its own worker, or the runner, was killed while it ran
    excused = 0
    for i, (n, state, worker, start, end) in enumerate(ts):
        if state != "lost":
            continue
        lost += 1
        until = ts[i + 1][3] if i + 1 < len(ts) else (end or time.time())
        wpid = worker.rsplit(":", 1)[-1]
        if any((p == "worker" and pid == wpid) or (p == "runner" and start - 1 <= at <= until) for p, pid, at in kills):
            excused += 1
        else:
            problems.append("%s (%s): try %d was lost, but neither its worker nor the runner was killed" % (task, k, n))
    excused_n += excused
    if k == "shell":
        n_eff = done.get(task, 0)
        if not excused and starts.get(task, 0) != 1:
            problems.append("%s (shell): started %d times without a lost try" % (task, starts.get(task, 0)))
    elif k == "sql":
        n_eff = marks.get(task, 0)
    else:
        c, u = loaded.get(task, (0, 0))
        want = spec["rows"]
        n_eff = c // want if c % want == 0 and u == (want if c else 0) else -1
        if n_eff < 0:
            problems.append("%s (load): %d rows, %d distinct, for a file of %d" % (task, c, u, want))
    if n_eff == 0:
        problems.append("%s (%s): its effect was lost" % (task, k))
    elif k != "shell" and n_eff > 1:
        # the commit ledger: a try that committed is not committed again
        problems.append("%s (%s): its effect happened %d times (%d excused lost tries)" % (task, k, n_eff, excused))
    elif n_eff > 1 + excused:
        problems.append("%s (%s): its effect happened %d times with %d excused lost tries" % (task, k, n_eff, excused))
    elif n_eff > 1:
        again[k] += 1
ledger = int((open(d + "/ledger.txt").read().strip() or "0"))
print(json.dumps({"problems": problems, "lost": lost, "excused": excused_n, "again": again,
                  "kills": len(kills), "ledger": ledger}))
PY
}

# ---- the runs --------------------------------------------------------------

out=$(sl -q up 2>&1)
ok $? "sluice up starts the embedded services" || echo "$out" | diag
services_learn
LOAD_TASKS=$(python3 -c "import json; print(' '.join(t for t, s in sorted(json.load(open('$SOAK/tasks.json')).items()) if s['kind'] == 'load'))")
wq "CREATE TABLE soak_marks (run_id bigint NOT NULL, task text NOT NULL)" >/dev/null
LOAD_COUNTS=
for t in $LOAD_TASKS; do
	wq "CREATE TABLE soak_$t (id int, name text)" >/dev/null
	LOAD_COUNTS="$LOAD_COUNTS${LOAD_COUNTS:+ UNION ALL }SELECT '$t', count(*), count(DISTINCT id) FROM soak_$t"
done
: >"$SOAK/kills.tsv"
: >"$SOAK/shell.log"
: >"$SOAK/summary.jsonl"
supervise
wait_for 30 ready
ok $? "the services and a runner are up" || tail -n 20 "$PROJ/.sluice/runner.log" | diag

: >"$SOAK/carry.tsv" # kills planned for a run that ended first, done in the next
r=0
while [ $r -lt "$N_RUNS" ]; do
	r=$((r + 1))
	wait_for "$BOUND" ready
	for t in $LOAD_TASKS; do wq "TRUNCATE soak_$t" >/dev/null; done
	run_id=$(sl -q run soak --no-runner --param log="$SOAK/shell.log" 2>"$SOAK/run.err")
	if ! is_pid "$run_id"; then
		ok 1 "run $r: created" || diag <"$SOAK/run.err"
		continue
	fi
	t0=$(date +%s.%N)
	# this run's kills: those carried over first, a spacing apart, then its own
	c=$(wc -l <"$SOAK/carry.tsv")
	{
		awk -F '\t' -v sp="$SPACING" '{ printf "%.2f\t%s\t%s\n", 0.5 + (NR - 1) * sp, $1, $2 }' "$SOAK/carry.tsv"
		awk -F '\t' -v r=$((r - 1)) -v c="$c" -v sp="$SPACING" '$1 == r { printf "%.2f\t%s\t%s\n", $2 + c * sp, $3, $4 }' "$SOAK/plan.tsv"
	} >"$SOAK/now.tsv"
	: >"$SOAK/carry.tsv"
	what=
	while read -r at part PICK; do
		while ! run_ended && before "$t0" "$at"; do sleep 0.2; done
		if run_ended; then
			printf '%s\t%s\n' "$part" "$PICK" >>"$SOAK/carry.tsv"
			continue
		fi
		got=$(kill_part "$part") && what="$what, $got"
	done <"$SOAK/now.tsv"
	wait_for "$BOUND" run_ended
	st=$(run_state)
	[ "$st" = success ]
	ok $? "run $r (id $run_id${what:+, killed ${what#, }}): finished by itself, successfully (state '${st:-unknown}')" ||
		{ sq "SELECT task, state, try_number, error FROM sluice.task_instances WHERE run_id = $run_id AND state <> 'success'"
		  grep -v 'cannot connect' "$PROJ/.sluice/runner.log" | tail -n 10; } | diag
	if ! run_ended; then
		# repair what is stuck so the next runs still say something
		sl -q up >/dev/null 2>&1
		wait_for "$BOUND" run_ended
	fi
	v=$(verify)
	echo "$v" >>"$SOAK/summary.jsonl"
	echo "$v" | json_get 'len(j["problems"]) == 0' | grep -qx True
	ok $? "run $r: no effect lost, no sql or load effect twice, a shell one only after a lost try" || echo "$v" | json_get '"\n".join(j["problems"])' | diag
done
[ -s "$SOAK/carry.tsv" ] && echo "# $(wc -l <"$SOAK/carry.tsv") kill(s) not done: the last run ended first"

teardown
wait_for 10 nothing_left
left=$(leftovers)
[ -z "$left" ]
ok $? "no process of the project left after sluice down" || echo "$left" | diag
pf=$(live_pidfiles)
[ -z "$pf" ]
ok $? "no pid file names a live process" || echo "$pf" | diag

python3 - "$SOAK" "$SEED" "$N_RUNS" "$N_TASKS" "$(($(date +%s) - T_START))" <<'PY'
import collections, json, sys
d, seed, runs, n, secs = sys.argv[1:]
kinds = collections.Counter(l.split("\t")[1] for l in open(d + "/kills.tsv") if l.strip())
res = [json.loads(l) for l in open(d + "/summary.jsonl") if l.strip()]
bad = sum(1 for r in res if r["problems"])
again = collections.Counter()
for r in res:
    again.update(r["again"])
print("# soak summary: seed %s, %s runs of %s tasks in %s s" % (seed, runs, n, secs))
print("#   kills: %d (%s)" % (sum(kinds.values()), ", ".join("%s %d" % kv for kv in sorted(kinds.items())) or "none"))
print("#   runs with a problem: %d of %d" % (bad, len(res)))
print("#   lost tries: %d (%d with their worker or the runner killed)" % (sum(r["lost"] for r in res), sum(r["excused"] for r in res)))
print("#   effects that happened again after a lost try: shell %d, sql %d, load %d" % (again["shell"], again["sql"], again["load"]))
print("#   tries not run again because an earlier try had committed (the ledger): %d" % sum(r.get("ledger", 0) for r in res))
PY
echo "1..$tap_n"
done_testing
