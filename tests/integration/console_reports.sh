#!/bin/sh
# The console's reports, the real binary in tmux: `:reports` and `7` list the
# reports with their latest result, Enter opens one on its table and its bar
# chart (bars of block characters, eighth blocks at their ends, the value
# after each), h steps to an older run and l back, x exports the result
# shown as CSV and X as HTML, and an ASCII locale draws the bars with '#'.
. "$SLUICE_SRCDIR/tests/integration/lib.sh"
. "$SLUICE_SRCDIR/tests/integration/consolelib.sh"
console_plan 12

PROJ=$(mkproj console_reports_it)
sl -q up >/dev/null 2>&1
WH=$(sl --json up -q 2>/dev/null | json_get 'j["warehouse"]["address"]')
# sales per region: 40, 25 and 9.5 (a bar that ends in an eighth block)
psql "$WH" -XAtqc "create table sales (region text, amount numeric);
insert into sales values ('north', 30), ('north', 10), ('south', 25), ('east', 9.5)" >/dev/null
ok $? "the table to report on"
mkdir -p "$PROJ/reports"
cat >"$PROJ/reports/sales.yml" <<'YML'
title: Sales by region
chart: {type: bar, x: region, y: amount}
sql: select region, sum(amount) as amount from sales group by region order by amount desc
YML
cat >"$PROJ/pipelines/daily.yml" <<'YML'
tasks:
  sales: {kind: report, report: sales}
YML
sl -q run daily --wait >/dev/null 2>&1
psql "$WH" -XAtqc "insert into sales values ('west', 12)" >/dev/null
sl -q run daily --wait >/dev/null 2>&1
is "two runs of the report" "$(sl --json reports | json_get 'j["reports"][0]["results"]')" 2

console main
wait_screen main "PIPELINE .*SCHEDULE"
keys main : reports Enter
wait_screen main "REPORT +TITLE +ROWS +RUN +WHEN +CHART"
ok $? ":reports lists the reports"
wait_screen main "sales +Sales by region +4 +2 .* bar"
ok $? "the report with its latest result: rows, run, chart"
keys main Enter
wait_screen main "Sales by region +run 2 \(1 of 2\)"
ok $? "Enter opens the report on its latest run"
shot main | grep -Eq "^ region +amount" && grep -Eq "^ north +40$" "$SHOT" && grep -Eq "^ east +9\.5$" "$SHOT"
ok $? "the table, numbers aligned right" || diag <"$SHOT"
# north is the longest bar: every cell full; east's 9.5 of 40 ends in an eighth block
grep -Eq "^ north +█{20,} 40$" "$SHOT" && grep -Eq "^ east +█+[▏▎▍▌▋▊▉] 9\.5$" "$SHOT"
ok $? "the bar chart in block characters, an eighth block at a bar's end" || diag <"$SHOT"
keys main h
wait_screen main "Sales by region +run 1 \(2 of 2\)"
r1=$?
shot main | grep -q "west"
r2=$?
[ $r1 -eq 0 ] && [ $r2 -ne 0 ]
ok $? "h steps to the older run (without the row added since)" || diag <"$SHOT"
keys main l
wait_screen main "Sales by region +run 2 \(1 of 2\)"
ok $? "l back to the newer one"
keys main x
wait_screen main "export-csv: .*/sales-run2\.csv"
keys main Enter
wait_screen main "wrote .*sales-run2\.csv"
r1=$?
python3 -c "
import csv, sys
rows = list(csv.reader(open('$PROJ/sales-run2.csv', newline='')))
sys.exit(0 if rows[0] == ['region', 'amount'] and ['east', '9.5'] in rows and len(rows) == 5 else 1)"
ok $(( r1 | $? )) "x exports the result shown as CSV, to the file the prompt offers"
keys main X
wait_screen main "export-html: "
keys main C-u "$SLUICE_TESTDIR/console-sales.html" Enter
wait_screen main "wrote .*console-sales\.html"
r1=$?
grep -q "<svg" "$SLUICE_TESTDIR/console-sales.html" && ! grep -Eiq 'src=|href=|@import' "$SLUICE_TESTDIR/console-sales.html"
ok $(( r1 | $? )) "X exports it as HTML, to a file typed at the prompt"
keys main q q q
sleep 0.5

# ---- an ASCII locale ---------------------------------------------------------------
console ascii LANG=C LC_ALL=C
wait_screen ascii "PIPELINE"
keys ascii 7
wait_screen ascii "REPORT +TITLE"
keys ascii Enter
wait_screen ascii "^ north +#{20,} 40$"
r1=$?
shot ascii | grep -Eq "^ east +#+ 9\.5$" && ! grep -q "█" "$SHOT"
ok $(( r1 | $? )) "in an ASCII locale (key 7) the bars are drawn with #" || diag <"$SHOT"

done_testing
