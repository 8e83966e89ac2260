#!/bin/sh
# Reports end to end on the embedded default: examples/hr's two reports of
# the seed checked against hr_reports.py over the generated files (not the
# same SQL), each run's result kept and picked with --run, rows bounded by
# max_rows and results by keep, a report of a model, CSV quoting read back
# by Python's csv module, the HTML file self-contained with its SVG and its
# values escaped, the --json shape, and the errors: an unknown report, a
# report without results, bad report files at file:line:col.
. "$SLUICE_SRCDIR/tests/integration/lib.sh"
echo "1..41"
export PGTZ=UTC
PROJ=$SLUICE_TESTDIR/reports_hr
"$SLUICE_BIN" -q -C "$PROJ" runner --stop >/dev/null 2>&1
"$SLUICE_BIN" -q -C "$PROJ" down >/dev/null 2>&1
rm -rf "$PROJ"
mkdir -p "$SLUICE_TESTDIR"
cp -r "$SLUICE_SRCDIR/examples/hr" "$PROJ"
rm -rf "$PROJ/.sluice" "$PROJ/data"
trap cleanup EXIT
T=$SLUICE_TESTDIR/reports_it.out
rm -rf "$T"
mkdir -p "$T"
EXPECT="$SLUICE_SRCDIR/tests/integration/hr_reports.py"

# ---- the seed's reports over examples/hr ------------------------------------------
sl -q run migration --wait >"$T/migration.out" 2>&1
ok $? "examples/hr: the migration run succeeds" || diag <"$T/migration.out"
sl -q run reports --wait >"$T/reports.out" 2>&1
ok $? "examples/hr: the reports run succeeds" || diag <"$T/reports.out"
RUN1=$(sl --json status reports | json_get 'j["run_id"]' 2>/dev/null)
python3 "$EXPECT" "$PROJ/data" >"$T/expected.json"
n2021=$(json_get 'j["hires_2021"]' <"$T/expected.json")
[ "${n2021:-0}" -gt 100 ]
ok $? "the generated data has hires in 2021 ($n2021)"
sl --json report hires_by_quarter >"$T/pivot.json"
python3 -c "
import json, sys
got, want = json.load(open('$T/pivot.json')), json.load(open('$T/expected.json'))
sys.exit(0 if got['rows'] == want['pivot'] else 1)"
ok $? "hires_by_quarter: Department, Job, Q1-Q4 as computed from the files, ordered by department and job" ||
	python3 -c "import json; print(json.load(open('$T/pivot.json'))['rows'][:5])" | diag
sl --json report above_mean_hires >"$T/above.json"
python3 -c "
import json, sys
got, want = json.load(open('$T/above.json')), json.load(open('$T/expected.json'))
sys.exit(0 if got['rows'] == want['above'] and len(want['above']) > 0 else 1)"
ok $? "above_mean_hires: the departments above the mean of 2021 hires, most first, as computed from the files" ||
	{ cat "$T/above.json"; json_get 'j["above"]' <"$T/expected.json"; } | diag
is "the columns shown" "$(json_get '" ".join(j["columns"])' <"$T/pivot.json") / $(json_get '" ".join(j["columns"])' <"$T/above.json")" \
	"Department Job Q1 Q2 Q3 Q4 / id department hired"
is "sluice reports: both, one result each" \
	"$(sl --json reports | json_get '" ".join("%s:%d:%s" % (r["name"], r["results"], r["latest"]["run_id"]) for r in j["reports"])')" \
	"above_mean_hires:1:$RUN1 hires_by_quarter:1:$RUN1"

# a hire more, and a second run: the first run's result stays as it was
WH=$(sl --json up -q 2>/dev/null | json_get 'j["warehouse"]["address"]')
psql "$WH" -XAtqc "insert into employees values (900001, 'Extra Hire', '2021-02-03T04:05:06Z', 1, 1)" >/dev/null
ok $? "an extra 2021 hire in the warehouse"
sl -q run reports --wait >/dev/null 2>&1
RUN2=$(sl --json status reports | json_get 'j["run_id"]' 2>/dev/null)
python3 "$EXPECT" "$PROJ/data" '[[900001, "2021-02-03T04:05:06Z", 1, 1]]' >"$T/expected2.json"
sl --json report hires_by_quarter >"$T/pivot2.json"
python3 -c "
import json, sys
got, want = json.load(open('$T/pivot2.json')), json.load(open('$T/expected2.json'))
sys.exit(0 if got['rows'] == want['pivot'] and got['run_id'] == $RUN2 else 1)"
ok $? "the latest result is the second run's, with the extra hire"
sl --json report hires_by_quarter --run "$RUN1" >"$T/pivot1.json"
python3 -c "
import json, sys
got, want = json.load(open('$T/pivot1.json')), json.load(open('$T/expected.json'))
sys.exit(0 if got['rows'] == want['pivot'] and got['run_id'] == $RUN1 else 1)"
ok $? "--run picks the first run's result, without the extra hire"
is "--run latest is the second" "$(sl --json report above_mean_hires --run latest | json_get 'j["run_id"]')" "$RUN2"
is "sluice reports: two results kept of each" "$(sl --json reports | json_get '" ".join(str(r["results"]) for r in j["reports"])')" "2 2"

# ---- bounded rows and results, a report of a model -------------------------------------
mkdir -p "$PROJ/models/hr"
cat >"$PROJ/models/hr/hires_2021.sql" <<'SQL'
select employee_id, employee_name, hiring_date from {{ source('hr', 'employees') }}
where hiring_date >= timestamptz '2021-01-01 00:00:00+00' and hiring_date < timestamptz '2022-01-01 00:00:00+00'
SQL
cat >"$PROJ/models/hr/_hr.yml" <<'YML'
sources:
  - name: hr
    schema: public   # where the migration's unqualified tables are
    tables: [{name: employees}]
models:
  - name: hires_2021
    config: {materialized: view}
YML
cat >"$PROJ/reports/many.yml" <<'YML'
title: Many rows, a few kept
max_rows: 5
keep: 2
sql: select g as n, 'row ' || g as label from generate_series(1, 100) g order by g
YML
cat >"$PROJ/reports/of_model.yml" <<'YML'
model: hires_2021
columns: [employee_id, employee_name]
max_rows: 3
YML
# the cell values CSV and HTML must carry: commas, quotes, newlines, markup, unicode
cat >"$PROJ/reports/tricky.yml" <<'YML'
columns: [id, text]
chart: {type: bar, x: text, y: id}
sql: |
  select * from (values
    (1, 'plain'), (2, 'a,b'), (3, 'say "hi"'), (4, E'two\nlines'), (5, E'cr\r\nlf'),
    (6, 'naïve ☃ 日本'), (7, '<b>&"x''</b>'), (8, ' padded '), (9, NULL), (10, '')
  ) v(id, text) order by id
YML
cat >"$PROJ/reports/wrong_column.yml" <<'YML'
columns: [id, nosuch]
sql: select 1 as id, 2 as other
YML
cat >"$PROJ/pipelines/extras.yml" <<'YML'
tasks:
  many: {kind: report, report: many}
  tricky: {kind: report, report: tricky}
  of_model: {kind: report, report: of_model}
YML
cat >"$PROJ/pipelines/broken.yml" <<'YML'
tasks:
  wrong: {kind: report, report: wrong_column}
YML
sl -q build >"$T/build.out" 2>&1
ok $? "the model is built" || diag <"$T/build.out"
sl -q run extras --wait >"$T/extras.out" 2>&1
ok $? "a run of the extra reports succeeds" || diag <"$T/extras.out"
EX1=$(sl --json status extras | json_get 'j["run_id"]' 2>/dev/null)
is "max_rows: 5 rows kept of 100, truncated" \
	"$(sl --json report many | json_get '"%d %d %s %s" % (j["n_rows"], j["total_rows"], j["truncated"], j["rows"][-1])')" \
	"5 100 True ['5', 'row 5']"
is "a report of a model: its relation, the columns named, 3 rows kept of the 2021 hires" \
	"$(sl --json report of_model | json_get '"%s %d %d" % (",".join(j["columns"]), j["n_rows"], j["total_rows"])')" \
	"employee_id,employee_name 3 $(($(json_get 'j["hires_2021"]' <"$T/expected2.json")))"
sl -q run extras --wait >/dev/null 2>&1
sl -q run extras --wait >/dev/null 2>&1
is "keep: 2 of three runs kept" "$(sl --json reports | json_get '[r["results"] for r in j["reports"] if r["name"] == "many"][0]')" 2
is "the state database holds two results of it" "$(state_sql "select count(*) from sluice.report_results where report = 'many'")" 2
out=$(sl report many --run "$EX1" 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "no result of report 'many' in run $EX1"
ok $? "the dropped run's result: exit 1, no result in that run" || echo "$out" | diag

# ---- CSV ---------------------------------------------------------------------------------
sl -q report tricky --csv "$T/tricky.csv"
ok $? "--csv writes the file"
sl --json report tricky >"$T/tricky.json"
python3 -c "
import csv, json, sys
rows = list(csv.reader(open('$T/tricky.csv', newline='', encoding='utf-8')))
j = json.load(open('$T/tricky.json'))
want = [j['columns']] + [[v if v is not None else '' for v in r] for r in j['rows']]
sys.exit(0 if rows == want and len(rows) == 11 else 1)"
ok $? "CSV read back by Python's csv module: commas, quotes, newlines, CRLF, unicode, spaces, NULL as empty" ||
	od -c "$T/tricky.csv" | head -20 | diag
python3 -c "
import sys
b = open('$T/tricky.csv', 'rb').read()
ok = b.startswith(b'id,text\r\n1,plain\r\n2,\"a,b\"\r\n3,\"say \"\"hi\"\"\"\r\n4,\"two\nlines\"\r\n5,\"cr\r\nlf\"\r\n')
ok = ok and '6,naïve ☃ 日本\r\n'.encode() in b and b'8,\" padded \"\r\n9,\r\n10,\r\n' in b and b.endswith(b'\r\n')
sys.exit(0 if ok else 1)"
ok $? "RFC 4180 bytes: CRLF record ends, only the fields that need it quoted, quotes doubled" ||
	od -c "$T/tricky.csv" | head -20 | diag
is "--csv - writes the same to stdout" "$(sl -q report tricky --csv - | md5sum)" "$(md5sum <"$T/tricky.csv")"

# ---- HTML --------------------------------------------------------------------------------
sl -q report above_mean_hires --html "$T/above.html" && sl -q report tricky --html "$T/tricky.html"
ok $? "--html writes the files"
! grep -Eiq 'src=|href=|@import|<script|<link|url\(' "$T/above.html" "$T/tricky.html"
ok $? "no external reference: no src=, href=, @import, script, link or url()" ||
	grep -Ein 'src=|href=|@import|<script|<link|url\(' "$T/above.html" | diag
python3 -c "
import re, sys, xml.etree.ElementTree as ET
h = open('$T/above.html', encoding='utf-8').read()
m = re.search(r'<svg.*?</svg>', h, re.S)
svg = ET.fromstring(m.group(0))
bars = [e for e in svg.iter('rect') if e.find('title') is not None]
sys.exit(0 if len(bars) == 6 and h.count('<tr>') == 7 and 'Research and Development' in h else 1)"
ok $? "the HTML holds an inline SVG (well-formed) with a bar per department, and the table" || head -c 3000 "$T/above.html" | diag
grep -q '<td>&lt;b&gt;&amp;&quot;x&#39;&lt;/b&gt;</td>' "$T/tricky.html" && ! grep -q '<b>&' "$T/tricky.html" &&
	grep -q '<meta charset="utf-8">' "$T/tricky.html" && grep -q 'naïve ☃ 日本' "$T/tricky.html" &&
	grep -q '@media print' "$T/tricky.html"
ok $? "values are HTML-escaped, UTF-8 declared, a print style" || grep -n "td" "$T/tricky.html" | head | diag

# ---- --json and the errors -----------------------------------------------------------------
is "--json shape" "$(json_get '",".join(j.keys())' <"$T/pivot.json")" \
	"report,title,run_id,task,try,created_at,duration_s,columns,rows,n_rows,total_rows,truncated,chart,sql"
is "--json chart" "$(json_get 'sorted(j["chart"].items())' <"$T/pivot.json")" \
	"[('type', 'stacked bar'), ('x', 'Department'), ('y', ['Q1', 'Q2', 'Q3', 'Q4'])]"
out=$(sl report hires_by_quartr 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "unknown report 'hires_by_quartr'; did you mean 'hires_by_quarter'?"
ok $? "an unknown report: exit 1, did you mean" || echo "$out" | diag
out=$(sl report wrong_column 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "no result of report 'wrong_column' yet"
ok $? "a report never run: exit 1, no result yet" || echo "$out" | diag
sl -q report >/dev/null 2>&1
is "no report named: usage, exit 2" $? 2
sl -q run broken --wait >/dev/null 2>&1
[ $? -ne 0 ]
ok $? "a report whose columns the query lacks fails its task"
sl logs latest wrong 2>&1 | grep -q "report wrong_column: the query has no column 'nosuch' (it returns: id, other)"
ok $? "its log names the column and what the query returns"

# ---- sluice validate ------------------------------------------------------------------------
cd "$PROJ" || exit 1
printf 'title: Bad\nsql: select 1\nchart: {type: bar, x: a\n' >reports/bad_yaml.yml
out=$("$SLUICE_BIN" validate 2>&1)
[ $? -eq 3 ] && echo "$out" | grep -Eq '^reports/bad_yaml\.yml:[0-9]+:[0-9]+: error: '
ok $? "a report file that is not YAML: validate exits 3 with reports/bad_yaml.yml:line:col" || echo "$out" | diag
rm reports/bad_yaml.yml
cat >reports/bad_chart.yml <<'YML'
columns: [a, b]
sql: select 1 as a, 2 as b
chart:
  type: pie
  x: a
  y: [b, c]
tilte: typo
YML
out=$("$SLUICE_BIN" validate 2>&1)
echo "$out" | grep -q "^reports/bad_chart.yml:4:9: error: chart type 'pie': expected one of: bar, stacked bar, line"
ok $? "a chart type that is none: at its file:line:col" || echo "$out" | diag
echo "$out" | grep -q "^reports/bad_chart.yml:6:10: error: chart y 'c' is not one of the columns; did you mean"
ok $? "a chart column the report does not show: at its line:col" || echo "$out" | diag
echo "$out" | grep -q "^reports/bad_chart.yml:7:1: error: unknown key 'tilte' in a report; did you mean 'title'?"
ok $? "an unknown key, with the nearest" || echo "$out" | diag
rm reports/bad_chart.yml
printf 'title: nothing to run\n' >reports/no_query.yml
printf 'tasks:\n  r:\n    kind: report\n    report: hires_by_quater\n' >pipelines/badref.yml
out=$("$SLUICE_BIN" validate 2>&1)
echo "$out" | grep -q "^reports/no_query.yml:1:1: error: report 'no_query': missing its query: 'sql', 'sql_file', 'model' or reports/no_query.sql"
ok $? "a report without a query" || echo "$out" | diag
echo "$out" | grep -q "^pipelines/badref.yml:4:13: error: no report 'hires_by_quater'; did you mean 'hires_by_quarter'?"
ok $? "a task naming an unknown report: at the pipeline's line:col" || echo "$out" | diag
rm reports/no_query.yml pipelines/badref.yml
out=$("$SLUICE_BIN" validate 2>&1)
[ $? -eq 0 ] && echo "$out" | grep -q "^ok: project hr, 5 pipelines, 16 tasks, 1 model, 0 checks, 6 reports$" &&
	[ "$("$SLUICE_BIN" --json validate | json_get 'j["reports"]')" = 6 ]
ok $? "validate passes again, the reports counted" || echo "$out" | diag
cd - >/dev/null || exit 1
done_testing
