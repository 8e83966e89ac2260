#!/bin/sh
# The task state machine where it lives: the state store's SQL functions
# (advance, claim, finish_next, clear, mark) on the real PostgreSQL, the
# functions the runner and its workers call. Each check drives transitions
# through them and compares the rows they leave: which moves happen, which are
# refused, and fencing by try and worker.
. "$SLUICE_SRCDIR/tests/integration/lib.sh"
echo "1..39"
PROJ=$(mkproj states_it)
trap cleanup EXIT

# b and c hang below a, d beside b; r has a retry budget of two tries; l is
# for a worker lost again and again. No runner runs: the test is the worker.
cat >"$PROJ/pipelines/g.yml" <<'YML'
tasks:
  a: { kind: shell, command: "true" }
  b: { kind: shell, command: "true", depends_on: [a] }
  c: { kind: shell, command: "true", depends_on: [b] }
  d: { kind: shell, command: "true", depends_on: [a] }
  r: { kind: shell, command: "true", retries: 1, retry_delay: 60 }
  l: { kind: shell, command: "true" }
YML
cat >"$PROJ/pipelines/one.yml" <<'YML'
tasks:
  only: { kind: shell, command: "true" }
YML
# h hands the first task its end makes ready to the same worker
cat >"$PROJ/pipelines/hand.yml" <<'YML'
tasks:
  p: { kind: shell, command: "true" }
  q: { kind: shell, command: "true", depends_on: [p] }
  v: { kind: shell, command: "true", depends_on: [p] }
  w: { kind: shell, command: "true", depends_on: [q, v] }
YML
cat >"$PROJ/pipelines/deep.yml" <<'YML'
tasks:
  x: { kind: shell, command: "true" }
  y: { kind: shell, command: "true", depends_on: [x] }
  z: { kind: shell, command: "true", depends_on: [y] }
  s: { kind: shell, command: "true" }
YML

out=$(sl -q up 2>&1)
ok $? "sluice up starts the embedded services" || echo "$out" | diag
DB=$(sl --json up -q 2>/dev/null | json_get 'j["state"]["address"]')

q() { psql "$DB" -XAtqc "$1" 2>&1; }
# states RUN: every task of RUN as task=state, by name
states() { q "select string_agg(task || '=' || state, ' ' order by task) from sluice.task_instances where run_id = $1"; }
# run_state RUN: its state and whether it has ended
run_state() { q "select state || ' ' || (ended_at is not null) from sluice.runs where id = $1"; }
ti() { q "select id from sluice.task_instances where run_id = $R and task = '$1'"; }
# row TASK: the columns of a task instance a transition writes
row() { q "select concat_ws(' ', state, try_number, coalesce(worker, '-'), failures, lost) from sluice.task_instances where id = $(ti "$1")"; }
# claim TASK TRY WORKER: the claim's status (and the try it started)
claim() { q "select status || coalesce(' ' || try, '') from sluice.claim($(ti "$1"), $2, '$3', 'testhost', 30)"; }
# finish TASK TRY WORKER OK [HOST]: the new state and +each task it queued, or
# "fenced"; with HOST (a worker that takes the next task itself) the task
# started for it is *task, with the try, run, task, pipeline and date returned
finish() {
	host=NULL
	[ -n "${5:-}" ] && host="'$5'"
	q "select coalesce(min(f.state) || coalesce(' ' || string_agg(case when f.claimed then
	     concat_ws(' ', '*' || t.task, f.try, f.run_id = t.run_id, f.task, f.pipeline, f.ds, f.spec::jsonb->>'kind')
	     else '+' || t.task end, ' ' order by t.task), ''), 'fenced')
	   from sluice.finish_next('states_it', $(ti "$1"), $2, '$3', $4, 0, NULL, $host) f
	   left join sluice.task_instances t on t.id = f.ti"
}
# advance RUN: how many tasks it queued
advance() { q "select count(*) from sluice.advance('states_it', $1)"; }
# clear TASK DOWNSTREAM ONLY_FAILED DRY / mark TASK STATE: what they touched
clear() { q "select string_agg(task || ' was ' || state, ', ') from sluice.clear($R, '$1', $2, $3, $4)"; }
mark() { q "select string_agg(task || ' was ' || state, ', ') from sluice.mark($R, '$1', '$2')"; }
# claim_lost TASK TRY WORKER: a claim as after a worker was lost, with a
# heartbeat timeout shorter than the server has been up (within a timeout of
# a restart of the database no try is stale: its worker could not beat)
up_2s() { [ "$(q "select pg_postmaster_start_time() < now() - interval '2 s'")" = t ]; }
claim_lost() {
	wait_for 10 up_2s
	q "select status || coalesce(' ' || try, '') from sluice.claim($(ti "$1"), $2, '$3', 'testhost', 2)"
}
# a worker that stopped beating long ago
stale() { q "update sluice.task_instances set heartbeat = now() - interval '1 hour' where id = $(ti "$1")" >/dev/null; }

R=$(sl -q run g --no-runner 2>&1)
is "a new run queues its roots and keeps the rest scheduled" "$(run_state "$R"): $(states "$R")" \
	"running false: a=queued b=scheduled c=scheduled d=scheduled l=queued r=queued"

# ---- claim
is "claim refuses a scheduled task (it must be queued first)" "$(claim b 0 w1); $(row b)" "moved; scheduled 0 - 0 0"
is "claim refuses a queue entry for another try (fenced by try number)" "$(claim a 1 w1); $(row a)" "moved; queued 0 - 0 0"
is "claim of a queued try starts the next try on that worker" "$(claim a 0 w1); $(row a)" "claimed 1; running 1 w1 0 0"
is "a second claim of a running task whose worker beats is refused" "$(claim a 0 w2); $(row a)" "alive; running 1 w1 0 0"

# ---- finish
is "finish is fenced by try number and by worker" "$(finish a 2 w1 true) $(finish a 1 w2 true); $(row a)" \
	"fenced fenced; running 1 w1 0 0"
is "success queues exactly the tasks whose upstreams all succeeded" "$(finish a 1 w1 true); $(states "$R")" \
	"success +b +d; a=success b=queued c=scheduled d=queued l=queued r=queued"
is "a finished task takes no second finish and no claim" "$(finish a 1 w1 false) $(claim a 1 w1); $(row a)" \
	"fenced moved; success 1 w1 0 0"
is "advance again changes nothing" "$(advance "$R"); $(states "$R")" \
	"0; a=success b=queued c=scheduled d=queued l=queued r=queued"
claim b 0 w1 >/dev/null
is "a failure without retries left is failed, and only its downstream is upstream_failed" \
	"$(finish b 1 w1 false); $(states "$R"); $(run_state "$R")" \
	"failed; a=success b=failed c=upstream_failed d=queued l=queued r=queued; running false"
is "a failed task takes no claim and no finish" "$(claim b 1 w1) $(finish b 1 w1 true); $(row b)" \
	"moved fenced; failed 1 w1 1 0"
is "an upstream_failed task is neither claimed nor queued" "$(claim c 0 w1) $(advance "$R"); $(row c)" \
	"moved 0; upstream_failed 0 - 0 0"

# ---- retries
claim r 0 w1 >/dev/null
is "a failure with tries left is up_for_retry after retry_delay" \
	"$(finish r 1 w1 false); $(row r); $(q "select next_try_at between now() + interval '50 s' and now() + interval '70 s' from sluice.task_instances where id = $(ti r)")" \
	"up_for_retry; up_for_retry 1 w1 1 0; t"
is "up_for_retry is not claimed directly (it goes through the queue) nor finished" \
	"$(claim r 1 w1) $(claim r 0 w1) $(finish r 1 w1 true); $(row r)" "moved moved fenced; up_for_retry 1 w1 1 0"
is "clear --only-failed counts up_for_retry as failed (dry run)" "$(clear r false true true); $(row r)" \
	"r was up_for_retry; up_for_retry 1 w1 1 0"

# ---- a lost worker
claim d 0 w1 >/dev/null
stale d
is "within a heartbeat timeout of the server's start an old heartbeat is not stale (its worker could not beat)" \
	"$(q "select status from sluice.claim($(ti d), 0, 'w2', 'testhost', 3000)"); $(row d)" "alive; running 1 w1 0 0"
is "a running task whose worker stopped beating is taken over as a new try" \
	"$(claim_lost d 0 w2); $(row d); $(q "select string_agg(concat_ws(' ', try_number, state, worker), ', ') from sluice.task_tries where ti_id = $(ti d)")" \
	"takeover 2; running 2 w2 0 1; 1 lost w1"
is "the lost try's worker is fenced off; the new one finishes" "$(finish d 1 w1 true) $(finish d 2 w2 true); $(row d)" \
	"fenced success; success 2 w2 0 1"
claim l 0 w1 >/dev/null
stale l
claim_lost l 0 w2 >/dev/null
stale l
claim_lost l 0 w3 >/dev/null
stale l
is "a task that lost its worker three times is failed" \
	"$(claim_lost l 0 w4); $(row l); $(q "select error from sluice.task_instances where id = $(ti l)")" \
	"moved; failed 3 w3 0 3; lost its worker 3 times"

# ---- mark and the run's end
is "mark failed from up_for_retry" "$(mark r failed); $(row r); $(q "select concat_ws(' ', error, next_try_at) from sluice.task_instances where id = $(ti r)")" \
	"r was up_for_retry; failed 1 - 1 0; marked failed by an operator"
is "with every task final the run settles: failed, as not all succeeded" "$(advance "$R"); $(run_state "$R")" "0; failed true"

# ---- clear
is "clear --downstream --only-failed --dry-run lists and changes nothing" \
	"$(clear b true true true); $(states "$R"); $(run_state "$R")" \
	"b was failed, c was upstream_failed; a=success b=failed c=upstream_failed d=success l=failed r=failed; failed true"
is "clear sends them back to scheduled with a fresh budget and reopens the run" \
	"$(clear b true true false); $(row b); $(row c); $(run_state "$R")" \
	"b was failed, c was upstream_failed; scheduled 1 - 0 0; scheduled 0 - 0 0; running false"
is "after a clear, advance queues what is ready again" "$(advance "$R"); $(states "$R")" \
	"1; a=success b=queued c=scheduled d=success l=failed r=failed"
claim b 1 w1 >/dev/null
is "clear of a running task fences its try off" "$(clear b false false false); $(finish b 2 w1 true); $(row b)" \
	"b was running; fenced; scheduled 2 - 0 0"
advance "$R" >/dev/null
claim b 2 w1 >/dev/null
finish b 3 w1 false >/dev/null
is "mark success lets the downstream its failure held back run" \
	"$(mark b success); $(states "$R"); $(advance "$R"); $(q "select task from sluice.task_instances where run_id = $R and state = 'queued'")" \
	"b was failed; a=success b=success c=scheduled d=success l=failed r=failed; 1; c"
before=$(q "select t::text from sluice.task_instances t where id = $(ti b)")
is "mark to the state a task already has changes nothing" "$(mark b success); $(q "select t::text from sluice.task_instances t where id = $(ti b)")" \
	"b was success; $before"
out=$(sl mark "$R" b success 2>&1)
rc=$?
is "sluice mark to the state it already has exits 0 and says so" "$rc: $out" \
	"0: sluice mark: task 'b' of run $R is already success: nothing to mark"
mark b running | grep -q "'running' is not success or failed"
ok $? "mark refuses any state but success and failed" || mark b running | diag
claim c 0 w1 >/dev/null
is "mark of a running task fences its try off" "$(mark c failed); $(finish c 1 w1 true); $(row c)" \
	"c was running; fenced; failed 1 - 0 0"
is "clear --downstream sends any state back to scheduled" \
	"$(clear a true false false); $(states "$R")" \
	"a was success, b was success, c was failed, d was success; a=scheduled b=scheduled c=scheduled d=scheduled l=failed r=failed"

# ---- a run that succeeds
R=$(sl -q run one --no-runner 2>&1)
claim only 0 w1 >/dev/null
is "a run whose every task succeeded settles as success" "$(finish only 1 w1 true); $(run_state "$R")" "success; success true"
out=$(sl -q retry "$R" only 2>&1)
rc=$?
[ $rc -ne 0 ] && echo "$out" | grep -q "only failed tasks are retried"
ok $? "retry of a task that succeeded is refused" || echo "exit $rc: $out" | diag

# ---- a worker that takes the next task itself (what the runner's workers do)
R=$(sl -q run hand --no-runner 2>&1)
DS=$(q "select logical_date from sluice.runs where id = $R")
claim p 0 w1 >/dev/null
# hostrow TASK: the row with the host, and whether the try's clock started
hostrow() { q "select concat_ws(' ', state, try_number, coalesce(worker, '-'), coalesce(host, '-'), started_at is not null, heartbeat is not null) from sluice.task_instances where id = $(ti "$1")"; }
is "an end that made tasks ready starts the first for its worker and queues the rest" \
	"$(finish p 1 w1 true h2); $(hostrow q); $(row v); $(states "$R")" \
	"success *q 1 t q hand $DS shell +v; running 1 w1 h2 t t; queued 0 - 0 0; p=success q=running v=queued w=scheduled"
is "the task handed over is fenced like a claimed one, and takes no claim" \
	"$(finish q 1 w2 true h2) $(claim q 0 w2); $(row q)" "fenced alive; running 1 w1 0 0"
claim v 0 w2 >/dev/null
is "an end that made nothing ready starts nothing; the run goes on" \
	"$(finish v 1 w2 true h2); $(row v); $(states "$R"); $(run_state "$R")" \
	"success; success 1 w2 0 0; p=success q=running v=success w=scheduled; running false"
finish q 1 w1 true h1 >/dev/null
is "the last end starts its last task and, when that ends, the run settles" \
	"$(hostrow w); $(finish w 1 w1 true h1); $(run_state "$R")" "running 1 w1 h1 t t; success; success true"

# ---- a failure reaches everything below it, not only its children
R=$(sl -q run deep --no-runner 2>&1)
claim x 0 w1 >/dev/null
is "a failure marks its whole downstream upstream_failed, and nothing beside it" \
	"$(finish x 1 w1 false); $(states "$R")" "failed; s=queued x=failed y=upstream_failed z=upstream_failed"

done_testing
