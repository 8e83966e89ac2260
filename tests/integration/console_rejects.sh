#!/bin/sh
# A load task's rejects in the console, the real binary in tmux on a copy of
# examples/hr: the task view of the employees load shows, in place of its
# log, what the load read, loaded and kept out and every reject with its
# line, column, reason and raw row, paged from the state database; `G` goes
# to the last one, `v` to the log and back, and the shell task beside it has
# no such rows.
. "$SLUICE_SRCDIR/tests/integration/lib.sh"
. "$SLUICE_SRCDIR/tests/integration/consolelib.sh"
console_plan 7

PROJ=$SLUICE_TESTDIR/console_rejects_it
if [ -d "$PROJ" ]; then
	"$SLUICE_BIN" -q -C "$PROJ" down >/dev/null 2>&1 || true
	rm -rf "$PROJ"
fi
mkdir -p "$SLUICE_TESTDIR"
cp -r "$SLUICE_SRCDIR/examples/hr" "$PROJ"
rm -rf "$PROJ/.sluice" "$PROJ/data"

sl -q up >/dev/null 2>&1
sl -q run migration --wait >/dev/null 2>&1
n=$(state_sql "SELECT count(*) FROM sluice.rejects j JOIN sluice.loads l ON l.id = j.load_id WHERE l.task = 'employees'")
last=$(state_sql "SELECT j.line FROM sluice.rejects j JOIN sluice.loads l ON l.id = j.load_id
	WHERE l.task = 'employees' ORDER BY j.line DESC LIMIT 1")
[ "${n:-0}" -gt 10 ]
ok $? "the migration kept $n rejects of the employees file (more than a 16-line screen shows)"

run=$(state_sql "SELECT max(id) FROM sluice.runs")
console main
wait_screen main migration >/dev/null
$TM resize-window -t main -x 120 -y 16
keys main : log Space "$run" Space employees Enter
wait_screen main 'rejects, try 1'
ok $? "the employees load opens on its rejects" || diag <"$SHOT"
shot main | grep -Eq "load [0-9]+ success data/employees.csv -> employees \(merge\): [0-9]+ read, [0-9]+ loaded, $n rejected"
ok $? "... under what the load read, loaded and kept out" || diag <"$SHOT"
shot main | grep -Eq "^ +1 line 37  column employee_name  'employee_name': a value is required  \| 37,,"
ok $? "... each with its line, column, reason and raw row" || diag <"$SHOT"
keys main G
wait_screen main "^ *$n line $last "
ok $? "G pages to the last reject, line $last" || diag <"$SHOT"
keys main v
wait_screen main '── log, try 1'
ok $? "v shows the load's log instead" || diag <"$SHOT"

keys main : log Space "$run" Space generate Enter
wait_screen main 'generate .*success' >/dev/null
keys main v
wait_screen main 'no rows for this try'
ok $? "a shell task has no rows to show: v says so" || diag <"$SHOT"

sl -q down >/dev/null 2>&1
done_testing
