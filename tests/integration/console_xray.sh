#!/bin/sh
# The X-ray of a failed task and the rejects view, the real binary in tmux
# on a project whose load keeps two rows out, whose model reads the loaded
# table and whose check of the model fails. From launch: `!` opens the
# failed check; e shows the end of its log and its error, b its failing
# rows, i the table it reads with the task that last wrote it (from
# sluice.writes of the warehouse), u that task's view; from the model the
# same keys lead to the load and its rejected rows; R opens the rejects
# view, of the load and of the run. Triage counted in keys: the failing
# log in 2, a confirmed retry with its downstream in 3. And a warehouse
# that hangs without breaking (the embedded server stopped with SIGSTOP):
# the header says what is not answering and for how long, keys still
# work, and all comes back with SIGCONT.
. "$SLUICE_SRCDIR/tests/integration/lib.sh"
. "$SLUICE_SRCDIR/tests/integration/consolelib.sh"
console_plan 28

PROJ=$(mkproj console_xray_it)
mkdir -p "$PROJ/contracts" "$PROJ/data" "$PROJ/models/marts"
cat >"$PROJ/contracts/customers.yml" <<'YML'
name: customers
key: [id]
columns:
  id:   { type: int, required: true, min: 1 }
  name: { type: text, required: true }
  city: { type: text }
YML
printf 'id,name,city\n1,Ada,Paris\n2,,Lyon\n3,Bob,\nx,Cy,Nice\n4,Dee,\n5,Eve,Rome\n' >"$PROJ/data/customers.csv"
cat >"$PROJ/models/sources.yml" <<'YML'
sources:
  - name: raw
    schema: raw
    tables:
      - name: customers
YML
echo "select id, name, city from {{ source('raw', 'customers') }}" >"$PROJ/models/marts/customer_cities.sql"
cat >"$PROJ/models/marts/_marts.yml" <<'YML'
models:
  - name: customer_cities
    config: {materialized: table, unique_key: id}
    columns:
      - name: city
        tests: [not_null]
YML
cat >"$PROJ/pipelines/daily.yml" <<'YML'
tasks:
  customers:
    kind: load
    source: data/customers.csv
    into: raw.customers
    contract: customers
    create: true
    max_rejects: 50%
  customer_cities: { kind: model, model: customer_cities, depends_on: [customers] }
  city_present: { kind: check, check: customer_cities.city.not_null, depends_on: [customer_cities] }
YML

sl -q up >/dev/null 2>&1
sl -q run daily --wait >/dev/null 2>&1
run=$(state_sql "SELECT max(id) FROM sluice.runs")
[ "$(state_sql "SELECT string_agg(task || '=' || state, ' ' ORDER BY task) FROM sluice.task_instances")" = \
	"city_present=failed customer_cities=success customers=success" ]
ok $? "a run in which the load kept rows out, the model was built and its check failed"

# press NAME KEY...: keys, counted in $pressed
pressed=0
press() { _p=$1; shift; pressed=$((pressed + $#)); keys "$_p" "$@"; }

console main
wait_screen main 'daily' >/dev/null
pressed=0
press main '!'
wait_screen main 'city_present +✗ failed'
ok $? "! opens the failed check" || diag <"$SHOT"
shot main | tail -n1 | grep -q 'e:tail  b:bad-rows  i:reads  u:upstream'
ok $? "... with the x-ray keys first in its hint bar" || diag <"$SHOT"

press main e
wait_screen main '── log, try 1'
r1=$?
wait_screen main '^ +5  check customer_cities\.city\.not_null failed: 2 failing rows'
ok $(( r1 | $? )) "e: the end of the failing try's log" || diag <"$SHOT"
shot main | grep -q '^try 1, exit 1: exit status 1: check customer_cities.city.not_null failed'
ok $? "... and its error and exit status on the status line" || diag <"$SHOT"
is "launch to the failing log: 2 keys" "$pressed" 2

keys main b
wait_screen main 'failing rows, try 1'
r1=$?
wait_screen main '^ 1 key \{"id": 3\}  column city  \{"id": 3, "city": null, "name": "Bob"\}'
ok $(( r1 | $? )) "b: its failing rows" || diag <"$SHOT"

keys main i
wait_screen main '── reads'
r1=$?
wait_screen main "marts\.customer_cities +on default +written [0-9T:Z-]+ by daily/customer_cities \(this run, try 1, 4 rows\)"
ok $(( r1 | $? )) "i: the table it reads, when and by which task it was last written" || diag <"$SHOT"

keys main u
wait_screen main "city_present #$run try 1 › customer_cities #$run try 1"
r1=$?
wait_screen main 'customer_cities +✓ success'
ok $(( r1 | $? )) "u: the upstream task that wrote it, its view" || diag <"$SHOT"
shot main | grep -q "^customer_cities last wrote marts.customer_cities, at "
ok $? "... saying why it goes there" || diag <"$SHOT"

keys main i
wait_screen main "raw\.customers +on default +written [0-9T:Z-]+ by daily/customers \(this run, try 1, 4 rows\)"
ok $? "the model reads the loaded table, which the load wrote" || diag <"$SHOT"
keys main Enter
wait_screen main "customer_cities #$run try 1 › customers #$run try 1"
ok $? "Enter on it opens its writer" || diag <"$SHOT"
keys main b
wait_screen main '^ 1 line 3  column name  .name.: a value is required  \| 2,,Lyon'
ok $? "b on the load: its rejected rows, with the raw text" || diag <"$SHOT"

keys main u
wait_screen main 'customers has no upstream: no table it reads was written by sluice, and it depends on no task'
ok $? "u on the load, which reads a file and waits for no task: it has no upstream" || diag <"$SHOT"

keys main R
wait_screen main "rejects of customers, run $run"
r1=$?
wait_screen main '^ 2 line 5  column id  .id.: .x. is not an integer  \| x,Cy,Nice'
ok $(( r1 | $? )) "R from the load: the rejects view of that load" || diag <"$SHOT"
shot main | grep -q "sluice --batch rejects $run customers"
ok $? "... with its batch twin" || diag <"$SHOT"

keys main : rejects Space "$run" Enter
wait_screen main "rejects of run $run"
r1=$?
wait_screen main '2 rejects kept by 1 load: customers'
r2=$?
wait_screen main '^ 1 customers  line 3  column name  .name.: a value is required  \| 2,,Lyon'
ok $(( r1 | r2 | $? )) ":rejects RUN: every reject of the run, each with its task" || diag <"$SHOT"

keys main 1
wait_screen main 'PIPELINE' >/dev/null
keys main Enter
wait_screen main 'daily runs' >/dev/null
keys main R
wait_screen main "rejects of run $run"
ok $? "R from the runs grid: the run's rejects" || diag <"$SHOT"

out=$(sl --batch rejects "$run" --json | json_get 'len(j["rejects"])')
is "the batch twin lists the same rejects" "$out" 2

# ---- triage to a retry, counted --------------------------------------------------------
console tri
wait_screen tri 'daily' >/dev/null
pressed=0
press tri '!'
wait_screen tri 'city_present +✗ failed' >/dev/null
press tri r
wait_screen tri 'y: yes' >/dev/null
press tri y
retried() { [ "$(state_sql "SELECT try_number FROM sluice.task_instances WHERE task = 'city_present'")" -ge 2 ]; }
wait_for 20 retried
ok $? "! r y retries the failed check with its downstream (try 2)" ||
	{ shot tri | diag; state_sql "SELECT task, state, try_number FROM sluice.task_instances" | diag; }
is "launch to the confirmed retry: 3 keys" "$pressed" 3
again() { [ "$(state_sql "SELECT state FROM sluice.task_instances WHERE task = 'city_present'")" = failed ]; }
wait_for 20 again
$TM kill-session -t tri

# ---- a warehouse that stops answering -----------------------------------------------
keys main : table Space raw.customers Enter
wait_screen main '▶ 1 +Ada +Paris'
ok $? "the table browser shows the loaded table" || diag <"$SHOT"
pm=$(head -n1 "$PROJ/.sluice/pg/postmaster.pid")
pgs="$pm $(pgrep -P "$pm" | tr '\n' ' ')"
# shellcheck disable=SC2086
kill -STOP $pgs
keys main G
wait_screen main '^ sluice │ console_xray_it │ (state db not answering for [0-9]+ s │ )?warehouse not answering for [0-9]+ s'
ok $? "a stopped server: the header says the warehouse the table browser waits on is not answering" || diag <"$SHOT"
keys main '!'
wait_screen main '^ sluice │ console_xray_it │ state db not answering for [0-9]+ s │ warehouse not answering'
ok $? "... and the state database, whose query is out too" || diag <"$SHOT"
keys main '?'
wait_screen main 'KEYS +COMMAND'
ok $? "keys still work meanwhile (? opens the help)" || diag <"$SHOT"
# shellcheck disable=SC2086
kill -CONT $pgs
keys main q
wait_screen main 'city_present +✗ failed'
r1=$?
sleep 1.5
! screen main | head -n1 | grep -q 'not answering'
ok $(( r1 | $? )) "SIGCONT: the answers come, the header says nothing more" || diag <"$SHOT"
kill -STOP $pgs
keys main i
wait_screen main '^ sluice │ console_xray_it │ (state db not answering for [0-9]+ s │ )?warehouse not answering for [0-9]+ s'
r1=$?
kill -CONT $pgs
ok $r1 "the x-ray's question to the warehouse, stopped, shows there too" || diag <"$SHOT"
wait_screen main "marts\.customer_cities +on default +written"
ok $? "... and its answer comes when the server does" || diag <"$SHOT"
$TM kill-session -t main

sl -q down >/dev/null 2>&1
done_testing
