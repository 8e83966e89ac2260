#!/bin/sh
# The console end to end: the real binary in tmux on a copy of the demo
# project. Drill down to the task that failed for good, read its log, retry
# it and watch it turn green, clear it with its downstream after confirming,
# --readonly, resizing, NO_COLOR, an ASCII locale, a run started elsewhere
# showing up live, and the terminal given back on SIGTERM and on a crash.
. "$SLUICE_SRCDIR/tests/integration/lib.sh"
. "$SLUICE_SRCDIR/tests/integration/consolelib.sh"
console_plan 49

PROJ=$SLUICE_TESTDIR/console_it
if [ -d "$PROJ" ]; then
	"$SLUICE_BIN" -q -C "$PROJ" runner --stop >/dev/null 2>&1 || true
	"$SLUICE_BIN" -q -C "$PROJ" down >/dev/null 2>&1 || true
	rm -rf "$PROJ"
fi
mkdir -p "$SLUICE_TESTDIR"
rm -f "$SLUICE_TESTDIR"/console-*.err
cp -r "$SLUICE_SRCDIR/examples/demo" "$PROJ"
rm -rf "$PROJ/.sluice"

warehouse_sql() {
	conninfo=$(sl --json up -q 2>/dev/null | json_get 'j["warehouse"]["address"]')
	psql "$conninfo" -XAtqc "$1"
}

# two more pipelines: a log too big to hold, and one that logs slowly
cat >"$PROJ/pipelines/biglog.yml" <<'YML'
tasks:
  big:
    kind: shell
    command: 'i=0; while [ $i -lt 100000 ]; do echo "line $i of the big log"; i=$((i+1)); done'
YML
cat >"$PROJ/pipelines/ticker.yml" <<'YML'
tasks:
  tick: { kind: shell, command: 'for i in 1 2 3 4 5 6 7 8 9 10; do echo "tick $i"; sleep 0.2; done' }
YML

sl -q run daily_sales --wait >/dev/null 2>&1
[ $? -eq 1 ]
ok $? "the demo's first run fails (reconcile fails for good)"

# ---- drill down to the failed task and read its log --------------------------
console main
wait_screen main "PIPELINE .*SCHEDULE"
ok $? "the console opens on the pipelines view"
wait_screen main "daily_sales .*failed"
ok $? "the pipelines view shows daily_sales and the state of its last run"
keys main / daily Enter
wait_screen main "pipelines /daily"
keys main Enter
wait_screen main "run 1 .*failed"
ok $? "/ and Enter open the runs grid of daily_sales"
keys main / reconcile Enter
wait_screen main "daily_sales runs /reconcile"
ok $? "/ filters the tasks of the grid"
keys main Enter
wait_screen main 'relation "ledger_entries" does not exist'
ok $? "Enter on the failed cell opens the task instance with its error and log"
shot main | grep -q "a retry runs: sql on default: SELECT count(\*) FROM ledger_entries"
ok $? "the task view shows the command a retry will run" || diag <"$SHOT"
shot main | grep -Eq "^ +1 +ERROR: relation"
ok $? "the log opens at its tail, with the failing line" || diag <"$SHOT"

keys main / ledger Enter
wait_screen main "/ledger: line 1"
ok $? "/ searches the log"
keys main n
wait_screen main "/ledger: no further match"
ok $? "n finds no further match in a two-line log, and says so"

# ---- retry: fix what was missing, retry, watch the state change --------------
warehouse_sql "CREATE TABLE IF NOT EXISTS ledger_entries (day date, amount numeric)" >/dev/null 2>&1
keys main r
wait_screen main "Retry reconcile \(run 1\)\?"
ok $? "r asks before retrying"
wait_screen main "publish +\(upstream_failed\)"
ok $? "the retry dialog lists what it touches (the task and the downstream it held back)"
keys main y
wait_screen main "reconcile +[^ ]+ success"
ok $? "after y the task's state turns to success on screen"
wait_screen main "sluice --batch retry 1 reconcile"
ok $? "the status line shows the batch form of the retry"
wait_screen main "try 2"
ok $? "the view moved to the new try"

# ---- clear with downstream, after confirming -----------------------------------
wait_screen main "\(run success\)"
keys main c
wait_screen main "Clear reconcile \(run 1\)\?"
ok $? "c opens the clear dialog"
keys main d
wait_screen main "2 tasks go back to scheduled"
ok $? "d (with downstream) lists the task and its downstream"
shot main | grep -Eq "publish +\(success\)"
ok $? "the clear dialog names the downstream task and its state" || diag <"$SHOT"
keys main y
wait_screen main "clear reconcile \(run 1\): 2 tasks .*--downstream"
ok $? "the clear ran, and says so with its batch form"
keys main : history Enter
wait_screen main "sluice --batch clear 1 reconcile --downstream"
ok $? ":history lists the actions taken, as batch commands"

# ---- a run started elsewhere appears live ---------------------------------------
keys main Escape Escape
wait_screen main "daily_sales runs"
run_id=$(sl -q run daily_sales --date 2026-02-01 2>/dev/null)
wait_screen main "run $run_id "
ok $? "a run triggered by sluice run in another shell appears in the grid live"

# ---- help, completion, trigger ----------------------------------------------------
keys main "?"
wait_screen main "KEYS +COMMAND +BATCH"
r1=$?
# the table is longer than a screen: find the retry row with the help's /
keys main / retry Enter
wait_screen main "^ *r +:retry +retry +" >/dev/null
shot main | grep -Eq "^ *r +:retry +retry +"
ok $(( r1 | $? )) "? shows help generated from the action table, with the batch names" || diag <"$SHOT"
keys main Escape # the help's filter first
keys main Escape : ru Tab
wait_screen main "^:runs *$"
ok $? ": completes command names with Tab"
keys main daily_sales Enter
wait_screen main "daily_sales runs"
keys main t
wait_screen main "Trigger daily_sales"
r1=$?
shot main | grep -Eq "min_amount +10"
ok $(( r1 | $? )) "t opens the trigger form with the logical date and the declared params" || diag <"$SHOT"
keys main Enter BSpace BSpace 25 Enter
wait_screen main "triggered daily_sales for [0-9-]+: run [0-9]+ .*--param min_amount=25"
ok $? "the form triggers a run and shows its batch form with the changed param"
trig=$(screen main | sed -n 's/.*triggered daily_sales for [0-9-]*: run \([0-9]*\).*/\1/p' | head -n1)
wait_screen main "run $trig "
ok $? "the triggered run appears in the grid"
keys main Escape

# ---- resize ----------------------------------------------------------------------
$TM resize-window -t main -x 80 -y 24
wait_screen main "^ \?:help"
s=$(screen main)
[ "$(echo "$s" | wc -l)" -eq 24 ] && echo "$s" | head -n1 | grep -q "^ sluice │ demo" &&
	echo "$s" | sed -n 2p | grep -q "daily_sales runs" && echo "$s" | sed -n 24p | grep -q "?:help"
ok $? "at 80x24 the header, the view and the hint bar are all there"
$TM resize-window -t main -x 120 -y 40
whole() {
	s=$(screen main)
	[ "$(echo "$s" | wc -l)" -eq 40 ] && echo "$s" | head -n1 | grep -q "^ sluice │ demo .* [0-9][0-9]:[0-9][0-9] *$" &&
		echo "$s" | sed -n 40p | grep -q "?:help" && echo "$s" | grep -q "TASK"
}
wait_for 10 whole
ok $? "back at 120x40 the screen is whole again"

# ---- the DAG view ---------------------------------------------------------------
keys main 3
wait_screen main "daily_sales graph #$trig"
ok $? "3 opens the DAG of the selected run"
shot main | grep -q "extract ├"
ok $? "the DAG is drawn with box-drawing characters" || diag <"$SHOT"
wait_screen main "run $trig [^ ]+ (success|failed)"
keys main F
wait_screen main "Mark extract \(run $trig\) failed\?"
ok $? "F asks before marking the selected task failed"
keys main y
wait_screen main "extract +failed +0 upstream"
ok $? "the marked state shows in the graph"

# ---- quitting and signals give the terminal back ---------------------------------
keys main : q Enter
wait_screen main "CONSOLE-EXITED 0"
ok $? ":q quits with status 0 (and no leak reports)"
! shot main | grep -q "graph"
ok $? "the screen is restored after quitting" || diag <"$SHOT"

console term
wait_screen term "PIPELINE"
kill -TERM "$(console_pid term)"
wait_screen term "CONSOLE-EXITED 0"
ok $? "SIGTERM ends the console cleanly"
console int
wait_screen int "PIPELINE"
kill -INT "$(console_pid int)"
wait_screen int "CONSOLE-EXITED 0"
ok $? "SIGINT ends the console cleanly"

console crash ASAN_OPTIONS=handle_segv=0
wait_screen crash "PIPELINE"
kill -SEGV "$(console_pid crash)"
wait_screen crash "CONSOLE-EXITED 139" && ! shot crash | grep -q "PIPELINE"
ok $? "on a crash the terminal is restored before the process dies" || diag <"$SHOT"

# ---- a huge log pages by seq; a growing log is followed ---------------------------
big=$(sl -q --json run biglog --wait 2>/dev/null | json_get 'j["run_id"]')
console log
wait_screen log "PIPELINE"
keys log : "log $big big" Enter
wait_screen log "lines [0-9]+-100000 of 100000"
ok $? "a 100000-line log opens at its tail"
keys log g
wait_screen log "^ +1 +line 0 of the big log"
ok $? "g goes to its first line (fetched by seq, not by loading it all)"
keys log / "line 54321 " Enter
wait_screen log "^ +54322 +line 54321 of"
ok $? "a search finds a line far outside what is loaded"
keys log G
wait_screen log "^ *100000 +line 99999 of"
ok $? "G goes back to the end"
tick=$(sl -q run ticker 2>/dev/null)
keys log : "log $tick tick" Enter
wait_screen log "tick #$tick"
keys log f
wait_screen log "^ *10 +tick 10"
ok $? "f follows a running task's log to its last line"
keys log Q

# ---- read-only, no colour, ASCII --------------------------------------------------
console ro -- --readonly
wait_screen ro "read-only"
# other pipelines ran since: pick daily_sales by name, as the first console did
keys ro / daily Enter
wait_screen ro "pipelines /daily"
keys ro Enter
wait_screen ro "daily_sales runs"
r0=$?
keys ro r
wait_screen ro "read-only console \(--readonly\): retry is disabled"
r1=$?
! shot ro | tail -n1 | grep -q "r:retry"
ok $(( r0 | r1 | $? )) "--readonly refuses retry and hides it from the hint bar" || diag <"$SHOT"

# colour_escapes: how many SGR sequences on stdin set a colour
colour_escapes() {
	python3 -c '
import re, sys
n = 0
for m in re.findall(r"\x1b\[([0-9;:]*)m", sys.stdin.read()):
    ps = [int(p) for p in re.split("[;:]", m) if p.isdigit()]
    n += any((30 <= p <= 48 or 90 <= p <= 107) and p != 39 for p in ps)
print(n)'
}
console nc NO_COLOR=1
wait_screen nc "daily_sales"
console col
wait_screen col "daily_sales"
[ "$($TM capture-pane -e -p -t nc | colour_escapes)" -eq 0 ] && [ "$($TM capture-pane -e -p -t col | colour_escapes)" -gt 0 ]
ok $? "NO_COLOR=1 gives no colour escapes (and without it there are some)"

console ascii LANG=C LC_ALL=C
wait_screen ascii "daily_sales"
shot ascii | python3 -c 'import sys; sys.exit(0 if all(b < 128 for b in sys.stdin.buffer.read()) else 1)'
ok $? "in a locale that is not UTF-8 the screen is ASCII" || diag <"$SHOT"

console light -- --theme light
wait_screen light "daily_sales"
$TM capture-pane -e -p -t light | head -n1 | grep -q "48;5;31"
ok $? "--theme light is used"

echo "theme: 16color" >>"$PROJ/sluice.yml"
console yml
wait_screen yml "daily_sales"
$TM capture-pane -e -p -t yml | head -n1 | grep -q "44m"
ok $? "theme: in sluice.yml picks the theme"

for s in ro nc col ascii light yml; do keys "$s" Q; done

# ---- services down: the console starts them and connects ----------------------------
sl -q down >/dev/null 2>&1
console cold
wait_screen cold "state embedded"
r1=$?
wait_screen cold "daily_sales .*(failed|success|running)"
ok $(( r1 | $? )) "with the services down the console starts them, connects and shows the runs"
keys cold Q
wait_screen cold "CONSOLE-EXITED 0"

# whatever went wrong in any of them (a sanitizer report) went to stderr
errs=$(cat "$SLUICE_TESTDIR"/console-*.err 2>/dev/null)
[ -z "$errs" ]
r1=$?
[ $r1 -eq 0 ] || echo "$errs" | head -n 40 | diag
ok $r1 "no console wrote to stderr"
