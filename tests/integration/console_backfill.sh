#!/bin/sh
# The console's backfills, the real binary in tmux: B on a pipeline opens the
# form, whose dry-run count follows the fields as they are typed (over a
# succeeded and a live run planted here) with its `sluice --batch` twin; a
# bad date says what is wrong; Enter launches it; `6` shows its progress and
# strip; p pauses and resumes, X cancels after asking; the history has the
# batch commands; --readonly refuses the form.
. "$SLUICE_SRCDIR/tests/integration/lib.sh"
. "$SLUICE_SRCDIR/tests/integration/consolelib.sh"
console_plan 16

PROJ=$(mkproj console_backfill_it)
cat >"$PROJ/pipelines/daily.yml" <<'YML'
schedule: "@daily"
params: { tag: none, nap: "0" }
tasks:
  a: { kind: shell, command: "echo {{ ds }} {{ params.tag }} >> seen.txt; while [ -e hold-{{ ds }} ]; do sleep 0.1; done; sleep {{ params.nap }}" }
YML
# the held run must end before the services stop
trap 'rm -f "$PROJ/hold-2026-01-05"; console_finish' EXIT
sq() { state_sql "$1"; }

# planted: 01-03 succeeded, 01-05 live (held)
sl -q run daily --date 2026-01-03 --wait >/dev/null 2>&1
touch "$PROJ/hold-2026-01-05"
sl -q run daily --date 2026-01-05 >/dev/null 2>&1
held() { grep -q 2026-01-05 "$PROJ/seen.txt" 2>/dev/null; }
wait_for 20 held
ok $? "a succeeded and a live run planted"

console main
wait_screen main "PIPELINE .*SCHEDULE"
keys main B
wait_screen main "Backfill daily"
ok $? "B on a pipeline opens the backfill form"
keys main C-u 2026-01-01 Tab C-u 2026-01-10
wait_screen main "8 runs will be created, 2 skipped \(1 already succeeded, 1 a live run\)"
ok $? "the dry-run count follows the range typed, with why dates are skipped"
shot main | grep -Eq "= sluice --batch backfill daily --from 2026-01-01 --to 2026-01-10"
ok $? "the form shows its sluice --batch twin" || diag <"$SHOT"
keys main Tab Tab C-u 2 Tab C-u yes Tab C-u tv
wait_screen main "parallel 2 --backwards --param tag=tv"
ok $? "max parallel, backwards and a param reach the batch twin"
keys main BTab BTab BTab BTab C-u 2026-13-01
wait_screen main "to '2026-13-01': expected a date as YYYY-MM-DD"
ok $? "a bad date says which field and why"
keys main C-u 2026-01-10
wait_screen main "8 runs will be created"
keys main Tab Tab Tab Tab Tab Enter
wait_screen main "backfill 1 of daily 2026-01-01\.\.2026-01-10: 8 runs will be created"
ok $? "Enter on the last field launches it, said on the status line with its command"
is "the backfill is stored as the form said" \
	"$(sq "SELECT max_parallel || ' ' || backwards || ' ' || (params->>'tag') || ' ' || reprocess FROM sluice.backfills WHERE id = 1")" \
	"2 true tv missing"

keys main 6
wait_screen main "ID +PIPELINE +RANGE +STATE +DONE +RUN +FAIL +LEFT +SKIP +DATES"
ok $? "6 opens the backfills view"
wait_screen main "1 +daily +2026-01-01\.\.2026-01-10 success +8 +0 +0 +0 +2  ✓✓↷✓↷✓✓✓✓✓"
ok $? "its progress and a strip of its dates (↷: the two skipped)"

# a slow one to pause, resume and cancel
sl -q backfill daily --from 2026-02-01 --to 2026-02-20 --max-parallel 1 --param nap=1 >/dev/null
wait_screen main "2 +daily +2026-02-01\.\.2026-02-20 running"
ok $? "a backfill created elsewhere shows up"
keys main g p
wait_screen main "2 +daily +2026-02-01\.\.2026-02-20 paused"
ok $? "p pauses the one under the cursor"
keys main p
wait_screen main "2 +daily +2026-02-01\.\.2026-02-20 running"
ok $? "p again resumes it"
keys main X
wait_screen main "Cancel backfill 2 of daily\?"
keys main y
wait_screen main "2 +daily +2026-02-01\.\.2026-02-20 cancelled"
ok $? "X asks, then cancels it"
keys main H
wait_screen main "sluice --batch backfill --cancel 2"
r1=$?
shot main | grep -q "sluice --batch backfill --pause 2"
ok $(( r1 | $? )) "the history has each action as its batch command" || diag <"$SHOT"
keys main q q q
sleep 0.5

console ro -- --readonly
wait_screen ro "PIPELINE"
# the first frame's own status (the runner, the services) may come after a
# quick key: ask until the refusal shows
for _i in 1 2 3 4 5; do
	keys ro B
	screen ro | grep -q "backfill is disabled" && break
	sleep 0.5
done
wait_screen ro "read-only console \(--readonly\): backfill is disabled"
ok $? "--readonly refuses the backfill form"

done_testing
