#!/bin/sh
# Triage in the console, counted in keys, the real binary in tmux on a copy
# of the demo project after a run in which one task failed for good: `!`
# opens the task that failed last on its log (1 key); from the pipelines
# view Enter opens the runs grid on the first failed task and Enter its log
# (2 keys); r and y retry it with its downstream (4 keys from launch). With
# no failed task, `!` says so.
. "$SLUICE_SRCDIR/tests/integration/lib.sh"
. "$SLUICE_SRCDIR/tests/integration/consolelib.sh"
console_plan 9

PROJ=$SLUICE_TESTDIR/console_triage_it
if [ -d "$PROJ" ]; then
	"$SLUICE_BIN" -q -C "$PROJ" down >/dev/null 2>&1 || true
	rm -rf "$PROJ"
fi
mkdir -p "$SLUICE_TESTDIR"
cp -r "$SLUICE_SRCDIR/examples/demo" "$PROJ"
rm -rf "$PROJ/.sluice"

# press NAME KEY...: keys, counted in $pressed
pressed=0
press() { _p=$1; shift; pressed=$((pressed + $#)); keys "$_p" "$@"; }

sl -q up >/dev/null 2>&1
console none
wait_screen none 'pipelines' >/dev/null
press none '!'
wait_screen none 'no task has failed'
ok $? "! with no failed task says so"
$TM kill-session -t none

sl -q run daily_sales --wait >/dev/null 2>&1
[ "$(state_sql "SELECT state FROM sluice.task_instances WHERE task = 'reconcile'")" = failed ]
ok $? "a run in which reconcile failed"

console main
wait_screen main 'daily_sales' >/dev/null
pressed=0
press main '!'
wait_screen main 'relation "ledger_entries" does not exist'
ok $? "! opens the failed task's log" || diag <"$SHOT"
shot main | grep -q 'reconcile.*failed'
ok $? "... of reconcile, the task that failed"
is "launch to the failing log: 1 key" "$pressed" 1

press main q
wait_screen main '^ *pipelines *$|pipelines.*daily_sales' >/dev/null
pressed=0
press main Enter
wait_screen main 'daily_sales runs' >/dev/null
shot main | grep -q '▶ reconcile'
ok $? "the runs grid opens on the first failed task" || diag <"$SHOT"
press main Enter
wait_screen main 'relation "ledger_entries" does not exist'
ok $? "Enter Enter from the pipelines view: its log, in $pressed keys" || diag <"$SHOT"

press main r
wait_screen main 'y: yes' >/dev/null
press main y
retried() { [ "$(state_sql "SELECT try_number FROM sluice.task_instances WHERE task = 'reconcile'")" -ge 2 ]; }
wait_for 20 retried
ok $? "r y retries it (try 2)" || { shot main | diag; state_sql "SELECT task, state, try_number FROM sluice.task_instances" | diag; }
is "launch to the retry with its downstream, confirmed: 4 keys" "$pressed" 4

sl -q down >/dev/null 2>&1
done_testing
