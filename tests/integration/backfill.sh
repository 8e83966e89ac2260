#!/bin/sh
# Backfills end to end on the embedded default: the dry run's exact counts
# for missing, failed and all over a succeeded, a failed and a live run;
# usage errors; max-parallel never exceeded (running counts sampled from the
# state database); params reaching the tasks; a failed run re-run by clearing
# its failed tasks; backwards order; pause and resume; cancel; a runner
# killed -9 mid-backfill finishing it with no date run twice; a date taken
# by a runner that died before creating its run created once, with that id.
. "$SLUICE_SRCDIR/tests/integration/lib.sh"
echo "1..52"
PROJ=$(mkproj backfill_it)
trap cleanup EXIT
cat >"$PROJ/sluice.yml" <<'YML'
name: backfill_it
runner:
  workers: 4
  heartbeat_interval: 0.5
  heartbeat_timeout: 3
YML
# a: records the date and the param; b: fails where a fail-DATE file is,
# waits while a hold-DATE file is (a live run), else takes a little while
cat >"$PROJ/pipelines/daily.yml" <<'YML'
schedule: "0 3 * * *"
params: { tag: none, nap: "0.2" }
tasks:
  a: { kind: shell, command: "echo {{ ds }} {{ params.tag }} >> seen.txt" }
  b:
    kind: shell
    depends_on: [a]
    command: "if [ -e fail-{{ ds }} ]; then exit 1; fi; while [ -e hold-{{ ds }} ]; do sleep 0.1; done; sleep {{ params.nap }}"
YML
cat >"$PROJ/pipelines/weekly.yml" <<'YML'
schedule: "0 0 * * 1"
tasks:
  a: { kind: shell, command: "true" }
YML

sq() { state_sql "$1"; }
bf_state() { sq "SELECT state FROM sluice.backfills WHERE id = $1"; }
bf_over() { case $(bf_state "$1") in success | failed | cancelled) return 0 ;; esac; return 1; }
# the backfill's id from the --json of its creation
bf_id() { json_get 'j["backfill_id"]'; }

started() { sq "SELECT count(*) FROM sluice.runs WHERE backfill_id = $id"; }
has_runs() { [ "$(started)" -ge 1 ]; }

# ---- help and usage errors ---------------------------------------------------
out=$(sl backfill --help)
ok $? "backfill --help exits 0" && echo "$out" | grep -q -- "--reprocess missing|failed|all"
ok $? "--help describes --reprocess" || echo "$out" | diag
sl -q up >/dev/null 2>&1
err=$(sl backfill daily --from 2026-01-10 --to 2026-01-01 2>&1)
rc=$?
[ $rc = 2 ] && echo "$err" | grep -q "from 2026-01-10 is after --to 2026-01-01"
ok $? "--from after --to: exit 2, saying so" || echo "$rc $err" | diag
err=$(sl backfill daily --from 2026-02-30 --to 2026-03-01 2>&1)
[ $? = 2 ] && echo "$err" | grep -q "from expects a real date"
ok $? "an impossible date: exit 2" || echo "$err" | diag
err=$(sl backfill daly --from 2026-01-01 --to 2026-01-02 2>&1)
[ $? = 2 ] && echo "$err" | grep -q "no pipeline 'daly'; did you mean 'daily'"
ok $? "an unknown pipeline: exit 2 with the nearest name" || echo "$err" | diag
err=$(sl backfill daily --from 2026-01-01 --to 2026-01-02 --param colour=red 2>&1)
[ $? = 2 ] && echo "$err" | grep -q "pipeline 'daily' has no param 'colour'"
ok $? "an undeclared param: exit 2 naming it" || echo "$err" | diag
err=$(sl backfill daily --from 2026-01-01 --to 2026-01-02 --reprocess some 2>&1)
[ $? = 2 ] && echo "$err" | grep -q "reprocess takes missing, failed or all"
ok $? "a bad --reprocess: exit 2" || echo "$err" | diag
err=$(sl backfill --pause 999 2>&1)
[ $? = 2 ] && echo "$err" | grep -q "no backfill 999"
ok $? "--pause of no such backfill: exit 2" || echo "$err" | diag

# ---- the schedule decides the dates ----------------------------------------------
n=$(sl --json backfill weekly --from 2026-01-01 --to 2026-01-31 --dry-run | json_get '" ".join(d["logical_date"] for d in j["dates"])')
is "a weekly schedule: its Mondays in the range" "$n" "2026-01-05 2026-01-12 2026-01-19 2026-01-26"

# ---- the dry run over planted runs ------------------------------------------------
# 01-02 succeeded, 01-03 failed (b), 01-04 live (held), the others none
sl -q run daily --date 2026-01-02 --wait >/dev/null 2>&1
touch "$PROJ/fail-2026-01-03"
sl -q run daily --date 2026-01-03 --wait >/dev/null 2>&1
rm -f "$PROJ/fail-2026-01-03"
touch "$PROJ/hold-2026-01-04"
live=$(sl -q run daily --date 2026-01-04)
live_started() { grep -q 2026-01-04 "$PROJ/seen.txt" 2>/dev/null; }
wait_for 20 live_started
is "planted: a succeeded, a failed and a live run" \
	"$(sq "SELECT string_agg(logical_date || ' ' || state, ',' ORDER BY logical_date) FROM sluice.runs")" \
	"2026-01-02 success,2026-01-03 failed,2026-01-04 running"
runs_before=$(sq "SELECT count(*) FROM sluice.runs")

plan() { sl --json backfill daily --from 2026-01-01 --to 2026-01-10 --dry-run "$@"; }
counts='"%d %d %d" % (j["create"], j["rerun"], j["skip"])'
acts='" ".join(d["logical_date"][8:] + d["action"][0] for d in j["dates"])'
is "dry run, missing: 7 created, 0 re-run, 3 skipped" "$(plan | json_get "$counts")" "7 0 3"
is "missing: each date's action" "$(plan | json_get "$acts")" "01c 02s 03s 04s 05c 06c 07c 08c 09c 10c"
is "dry run, failed: 7 created, 1 re-run, 2 skipped" "$(plan --reprocess failed | json_get "$counts")" "7 1 2"
is "failed: the failed date re-run" "$(plan --reprocess failed | json_get "$acts")" "01c 02s 03r 04s 05c 06c 07c 08c 09c 10c"
is "dry run, all: 7 created, 2 re-run, 1 skipped (the live run)" "$(plan --reprocess all | json_get "$counts")" "7 2 1"
is "all: the live date skipped, with its run" \
	"$(plan --reprocess all | json_get '[d["reason"] for d in j["dates"] if d["action"] == "skip"][0]')" "run $live is live"
txt=$(sl backfill daily --from 2026-01-01 --to 2026-01-10 --dry-run)
echo "$txt" | grep -q "^7 runs will be created, 3 skipped (1 already succeeded, 1 already failed, 1 a live run)$" &&
	echo "$txt" | grep -q "^  2026-01-03  skip    run [0-9]* failed (--reprocess failed re-runs it)$"
ok $? "the text dry run: the summary and each date with why" || echo "$txt" | diag
is "a dry run creates nothing" "$(sq "SELECT (SELECT count(*) FROM sluice.runs) || ' ' || (SELECT count(*) FROM sluice.backfills)")" \
	"$runs_before 0"

# ---- a real one: failed reprocessed, max parallel 2, params ---------------------------
id=$(sl -q --json backfill daily --from 2026-01-01 --to 2026-01-10 --reprocess failed --max-parallel 2 \
	--param tag=bf --param nap=1 | bf_id)
is_pid "$id"
ok $? "the backfill is created (id $id)"
maxrun=0
samples=0
while ! bf_over "$id" && [ $samples -lt 600 ]; do
	r=$(sq "SELECT count(*) FROM sluice.runs WHERE backfill_id = $id AND state IN ('queued','running')")
	[ "$r" -gt "$maxrun" ] && maxrun=$r
	samples=$((samples + 1))
	sleep 0.1
done
[ "$maxrun" -le 2 ]
ok $? "max parallel 2 never exceeded (at most $maxrun running in $samples samples)"
[ "$maxrun" = 2 ]
ok $? "and it used both slots"
is "the backfill succeeded" "$(bf_state "$id")" success
is "each date once: 8 backfill runs (7 created, 1 re-run), the live date left alone" \
	"$(sq "SELECT count(*), count(DISTINCT logical_date), bool_and(trigger = 'backfill' OR logical_date = '2026-01-03') FROM sluice.runs WHERE backfill_id = $id")" \
	"8|8|t"
is "the live run is not the backfill's" "$(sq "SELECT coalesce(backfill_id::text, 'none') FROM sluice.runs WHERE id = $live")" none
is "params reach the tasks of created runs" "$(grep -c ' bf$' "$PROJ/seen.txt")" 7
is "the failed run was re-run in place: its failed task cleared, its success kept" \
	"$(sq "SELECT r.state || ' ' || string_agg(t.task || t.try_number, ',' ORDER BY t.task) FROM sluice.runs r JOIN sluice.task_instances t ON t.run_id = r.id WHERE r.logical_date = '2026-01-03' GROUP BY r.state")" \
	"success a1,b2"
is "sluice status shows backfill runs as such" \
	"$(sl --json status --limit 50 | json_get 'sum(1 for r in j["runs"] if r["trigger"] == "backfill")')" 7
l=$(sl --json backfill --list | json_get 'next("%s %d %d %d %d %d %s" % (b["state"], b["done"], b["running"], b["failed"], b["left"], b["skipped"], b["strip"]) for b in j["backfills"] if b["backfill_id"] == '"$id"')')
is "--list: its progress and strip" "$l" "success 8 0 0 0 2 skskssssss"
out=$(sl backfill --show "$id")
echo "$out" | grep -Eq "^  2026-01-03  rerun   success    run [0-9]+ +run [0-9]+ failed: its failed tasks cleared$" &&
	echo "$out" | grep -Eq "^  2026-01-04  skip    skipped +run $live is live$" &&
	echo "$out" | grep -Eq "^  2026-01-01  create  success    run [0-9]+ +no run yet$"
ok $? "--show: each date's decision, state, run and why" || echo "$out" | diag
is "--show --json" "$(sl --json backfill --show "$id" | json_get '"%s %d %s" % (j["backfill"]["state"], len(j["dates"]), j["dates"][3]["state"])')" \
	"success 10 skipped"
grep -q "backfill $id of daily: run [0-9]* for 2026-01-01" "$PROJ/.sluice/runner.log" &&
	grep -q "backfill $id of daily: run [0-9]* for 2026-01-03 re-run (its failed tasks cleared)" "$PROJ/.sluice/runner.log" &&
	grep -q "backfill $id of daily: ended, success" "$PROJ/.sluice/runner.log"
ok $? "the runner's log says what it started and when the backfill ended" || grep backfill "$PROJ/.sluice/runner.log" | diag
rm -f "$PROJ/hold-2026-01-04"
live_done() { [ "$(sl status "$live" --json | json_get 'j["state"]')" = success ]; }
wait_for 20 live_done
ok $? "the live run finishes on its own"

# ---- backwards ---------------------------------------------------------------------
id=$(sl -q --json backfill daily --from 2026-02-01 --to 2026-02-05 --backwards --max-parallel 1 --param nap=0 | bf_id)
wait_for 60 bf_over "$id"
is "backwards: the newest date first, one at a time" \
	"$(sq "SELECT string_agg(to_char(logical_date, 'DD'), ' ' ORDER BY id) FROM sluice.runs WHERE backfill_id = $id")" \
	"05 04 03 02 01"

# ---- pause and resume ---------------------------------------------------------------
id=$(sl -q --json backfill daily --from 2026-03-01 --to 2026-03-06 --max-parallel 1 --param nap=1 | bf_id)
wait_for 20 has_runs
out=$(sl backfill --pause "$id")
ok $? "--pause" || echo "$out" | diag
is "paused" "$(bf_state "$id")" paused
idle() { [ "$(sq "SELECT count(*) FROM sluice.runs WHERE backfill_id = $id AND state = 'running'")" = 0 ]; }
wait_for 30 idle
n1=$(started)
sleep 2.5 # the sweep comes every second: two of them had their chance
n2=$(started)
is "a paused backfill starts no new date" "$n2" "$n1"
[ "$n1" -lt 6 ]
ok $? "dates were left when it paused ($n1 of 6 started)"
err=$(sl backfill --pause "$id" 2>&1)
[ $? = 1 ] && echo "$err" | grep -q "backfill $id is paused: it cannot be paused"
ok $? "pausing it again: exit 1, saying its state" || echo "$err" | diag
sl -q backfill --resume "$id" >/dev/null
wait_for 60 bf_over "$id"
is "resumed, it finishes every date once" \
	"$(bf_state "$id") $(sq "SELECT count(*) || ' ' || count(DISTINCT logical_date) FROM sluice.runs WHERE backfill_id = $id")" \
	"success 6 6"

# ---- cancel ---------------------------------------------------------------------------
id=$(sl -q --json backfill daily --from 2026-04-01 --to 2026-04-10 --max-parallel 1 --param nap=1 | bf_id)
wait_for 20 has_runs
out=$(sl --json backfill --cancel "$id" | json_get 'j["state"]')
is "--cancel --json" "$out" cancelled
wait_for 30 idle
n1=$(started)
sleep 2.5
is "a cancelled backfill starts nothing more" "$(started)" "$n1"
is "its dates not started are cancelled, none left" \
	"$(sl --json backfill --list | json_get 'next("%d %d" % (b["cancelled"], b["left"]) for b in j["backfills"] if b["backfill_id"] == '"$id"')')" \
	"$((10 - n1)) 0"
err=$(sl backfill --cancel "$id" 2>&1)
[ $? = 1 ] && echo "$err" | grep -q "is cancelled: it cannot be cancelled"
ok $? "cancelling it again: exit 1" || echo "$err" | diag

# ---- the runner killed mid-backfill ------------------------------------------------------
id=$(sl -q --json backfill daily --from 2026-05-01 --to 2026-05-24 --max-parallel 3 --param nap=0.5 | bf_id)
some_done() { [ "$(sq "SELECT count(*) FROM sluice.runs WHERE backfill_id = $id AND state = 'success'")" -ge 4 ]; }
wait_for 60 some_done
ok $? "some of its runs done"
p=$(head -n 1 "$PROJ/.sluice/runner.pid" 2>/dev/null)
is_pid "$p" && kill -9 "$p"
ok $? "runner (pid $p) killed -9 mid-backfill"
left=$(sq "SELECT count(*) FROM sluice.backfill_dates WHERE backfill_id = $id AND state = 'pending'")
[ "$left" -gt 0 ]
ok $? "dates were left ($left)"
# the workers start another runner when theirs dies; one is there either way
wait_for 30 sl -q runner --status || sl -q runner >/dev/null 2>&1
wait_for 120 bf_over "$id"
is "another runner finishes it" "$(bf_state "$id")" success
is "no date run twice: 24 runs for 24 dates" \
	"$(sq "SELECT count(*) || ' ' || count(DISTINCT logical_date) FROM sluice.runs WHERE pipeline = 'daily' AND logical_date BETWEEN '2026-05-01' AND '2026-05-24'")" \
	"24 24"

# ---- a date taken, its run never created (a runner that died in between) ------------------
sl -q runner --stop >/dev/null 2>&1
id=$(sl -q --json backfill daily --from 2026-06-01 --to 2026-06-03 --max-parallel 1 --param nap=0 --no-runner | bf_id)
reserved=$(sq "SELECT nextval(pg_get_serial_sequence('sluice.runs', 'id'))")
sq "UPDATE sluice.backfill_dates SET state = 'started', run_id = $reserved WHERE backfill_id = $id AND logical_date = '2026-06-02'" >/dev/null
sl -q runner >/dev/null 2>&1
wait_for 60 bf_over "$id"
is "the taken date's run is created with the id it reserved, once" \
	"$(bf_state "$id") $(sq "SELECT string_agg(to_char(logical_date, 'DD') || '=' || (id = $reserved)::text, ' ' ORDER BY logical_date) FROM sluice.runs WHERE backfill_id = $id")" \
	"success 01=false 02=true 03=false"

# ---- a backfill with nothing to do ends at once -------------------------------------------
id=$(sl -q --json backfill daily --from 2026-06-01 --to 2026-06-03 | bf_id)
wait_for 30 bf_over "$id"
is "every date done already: it ends, all skipped" \
	"$(sl --json backfill --list | json_get 'next("%s %d" % (b["state"], b["skipped"]) for b in j["backfills"] if b["backfill_id"] == '"$id"')')" \
	"success 3"

# ---- dates that cannot start: kept failed with why, the backfill ends failed ---------
sl -q runner --stop >/dev/null 2>&1
printf 'tasks:\n  a: { kind: shell, command: "true" }\n' >"$PROJ/pipelines/gone.yml"
id=$(sl -q --json backfill gone --from 2026-07-01 --to 2026-07-02 --no-runner | bf_id)
rm -f "$PROJ/pipelines/gone.yml"
sl -q runner >/dev/null 2>&1
wait_for 60 bf_over "$id"
is "a backfill whose pipeline went away ends failed, its dates failed" \
	"$(sl --json backfill --list | json_get 'next("%s %d %d" % (b["state"], b["failed"], b["done"]) for b in j["backfills"] if b["backfill_id"] == '"$id"')')" \
	"failed 2 0"
is "each date says why" "$(sq "SELECT DISTINCT state || ': ' || reason FROM sluice.backfill_dates WHERE backfill_id = $id")" \
	"error: no pipeline 'gone'"

done_testing
