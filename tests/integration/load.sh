#!/bin/sh
# Loads end to end on the embedded default: append, replace and merge; rejects
# (line numbers and reasons exactly); rows PostgreSQL refuses isolated without
# losing their neighbours; max_rejects loading nothing; quoted identifiers;
# parallel streams loading exactly the good rows; a load killed with -9
# leaving its target as it was; the load task kind in a pipeline.
. "$SLUICE_SRCDIR/tests/integration/lib.sh"
echo "1..41"
PROJ=$(mkproj load_it)
trap cleanup EXIT
GEN="$SLUICE_SRCDIR/bench/gen_transactions.py"
D=$PROJ/data
mkdir -p "$D" "$PROJ/contracts"
export PGTZ=UTC

sl -q up >/dev/null 2>&1
ok $? "sluice up starts the embedded services"
WH=$(sl --json up -q 2>/dev/null | json_get 'j["warehouse"]["address"]')
wh() { psql "$WH" -XAtqc "$1"; }
# a checksum of a table's content, whatever its physical order
sum_of() { wh "select count(*) || ':' || coalesce(md5(string_agg(t::text, E'\n' order by t::text)), '') from $1 t"; }
rejects_of() { # rejects_of LOAD_ID: "line|column|reason" per reject
	sl --json rejects --load "$1" | json_get '"\n".join("%s|%s|%s" % (r["line"], r["column"], r["reason"]) for r in j["rejects"])'
}
load_id() { json_get 'j["load_id"]'; }

cat >"$PROJ/contracts/people.yml" <<'YML'
name: people
key: [id]
columns:
  id:    { type: int, required: true, min: 1 }
  name:  { type: text, required: true }
  born:  { type: date, required: true, formats: ["%Y-%m-%d"] }
  score: { type: "numeric(6,2)", number_words: true }
YML
cat >"$D/people.csv" <<'CSV'
id,name,born,score
1,Ann,1990-01-02,10.5
2,Bob,1990-02-30,3
3,,1991-03-04,4
4,Cy,1992-04-05,Two Hundred
five,Di,1993-05-06,1
6,"Ed ""the"" E",1994-06-07,
7,Flo,1995-07-08,"1,5"
CSV
wh "create table people (id int primary key, name text not null, born date, score numeric(6,2))"
out=$(sl --json load "$D/people.csv" --into people --contract people)
ok $? "load with a contract exits 0 when some rows are rejected"
LID=$(echo "$out" | load_id)
[ "$(echo "$out" | json_get '"%d %d %d" % (j["rows_in"], j["rows_loaded"], j["rejected"])')" = "7 3 4" ]
ok $? "7 rows read, 3 loaded, 4 rejected"
[ "$(wh "select string_agg(id || '=' || name || '=' || coalesce(score::text, 'null'), ' ' order by id) from people")" = '1=Ann=10.50 4=Cy=200.00 6=Ed "the" E=null' ]
ok $? "the good rows are in the table, number words and quotes cleaned"
exp="3|born|'born': '1990-02-30' is not a valid date (expected %Y-%m-%d)
4|name|'name': a value is required
6|id|'id': 'five' is not an integer
8|score|'score': '1,5' is not a number"
got=$(rejects_of "$LID")
[ "$got" = "$exp" ]
ok $? "rejects: line numbers, columns and reasons exactly" || { echo "$got" | diag; }

# the contract's key is unique within the input: a repeat is rejected (append)
printf 'id,name,born,score\n10,Gus,1990-01-01,1\n11,Hal,1990-01-01,2\n10,Ivy,1990-01-01,3\n' >"$D/dups.csv"
wh "create table people_dups (id int, name text, born date, score numeric(6,2))"
out=$(sl --json load "$D/dups.csv" --into people_dups --contract people)
got="$(echo "$out" | json_get '"%d %d" % (j["rows_loaded"], j["rejected"])') $(rejects_of "$(echo "$out" | load_id)")"
[ "$got" = "2 1 4|id|duplicate key: the same id as line 2" ]
ok $? "a key repeated in the input is rejected with the line it first appeared on ($got)"
sl --json rejects --load "$LID" | json_get '[r["raw"] for r in j["rejects"]][3]' | grep -qx '7,Flo,1995-07-08,"1,5"'
ok $? "a reject keeps the raw row as written"

# Quoted identifiers: names that need quoting load like any other.
wh 'create schema "odd schema"; create table "odd schema"."t""x" ("select" text, "a""b" int, "Mixed Case" text)'
printf 'select,a"b,Mixed Case\nfrom,1,x\nwhere,2,"y\ty"\n' >"$D/odd.csv"
sl -q load "$D/odd.csv" --into 'odd schema.t"x' >/dev/null
ok $? "a load into a table and columns that need quoting succeeds"
[ "$(wh "select string_agg(\"select\" || \"a\"\"b\", ',' order by 2) from \"odd schema\".\"t\"\"x\"")" = "from1,where2" ]
ok $? "the quoted columns got their values"

# Rows PostgreSQL refuses: a foreign key (checked at the end of a COPY, so
# without a line: found by halving) and a unique violation (with a line).
wh "create table dept (id int primary key); insert into dept select generate_series(1, 10);
    create table emp (id int primary key, dept int references dept)"
python3 - "$D/emp.csv" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("id,dept\n")
    for i in range(1, 1001):
        d = 99 if i in (17, 500, 873) else i % 10 + 1
        f.write("%d,%d\n" % (i if i != 640 else 639, d))
PY
out=$(sl --json load "$D/emp.csv" --into emp)
ok $? "a load with rows the server refuses succeeds"
LID=$(echo "$out" | load_id)
[ "$(wh 'select count(*) from emp')" = 996 ]
ok $? "996 of 1000 rows loaded: every row around the refused ones kept"
got=$(rejects_of "$LID" | cut -d'|' -f1,3 | sed 's/ (.*//')
exp='18|insert or update on table "emp" violates foreign key constraint "emp_dept_fkey"
501|insert or update on table "emp" violates foreign key constraint "emp_dept_fkey"
641|duplicate key value violates unique constraint "emp_pkey"
874|insert or update on table "emp" violates foreign key constraint "emp_dept_fkey"'
[ "$got" = "$exp" ]
ok $? "the refused rows are rejects at their lines with the server's message" || { echo "$got" | diag; }
wh "truncate emp"
sl -q load "$D/emp.csv" --into emp --parallel 3 >/dev/null
[ $? -eq 0 ] && [ "$(wh 'select count(*) from emp')" = 996 ]
ok $? "the same over 3 parallel streams through a staging table: 996 rows"

# replace: the file becomes the content; what depends on the table survives
wh "create view people_names as select name from people"
printf 'id,name,born,score\n10,Gus,2000-01-01,1\n11,Hal,2001-01-01,2\n' >"$D/people2.csv"
sl -q load "$D/people2.csv" --into people --contract people --mode replace >/dev/null
ok $? "replace exits 0"
[ "$(wh "select string_agg(name, ',' order by name) from people_names")" = "Gus,Hal" ]
ok $? "replace: only the new rows, seen through a view on the table"

# merge: upsert on the key, the last of repeated keys wins, load_timestamp set
printf 'id,name,born,score\n11,Hal2,2001-01-01,5\n12,Ivy,2002-01-01,6\n12,Ivy2,2002-01-01,7\n13,Jo,2003-01-01,8\n' >"$D/people3.csv"
out=$(sl --json load "$D/people3.csv" --into people --contract people --mode merge)
ok $? "merge exits 0"
LID=$(echo "$out" | load_id)
[ "$(wh "select string_agg(id || name, ',' order by id) from people")" = "10Gus,11Hal2,12Ivy2,13Jo" ]
ok $? "merge: updated, inserted, and the last of a repeated key won"
[ "$(rejects_of "$LID")" = "3|None|superseded by line 4" ]
ok $? "merge: the earlier row of a repeated key is a reject 'superseded by line 4'"
[ "$(wh 'select count(*) from people where load_timestamp is not null and id >= 11')" = 3 ]
ok $? "merge: load_timestamp is set on every row it wrote"

# max_rejects: past it, nothing is loaded
before=$(sum_of people)
sl -q load "$D/people.csv" --into people --contract people --mode append --max-rejects 3 >/dev/null 2>&1
rc=$?
[ $rc -eq 1 ] && [ "$(sum_of people)" = "$before" ]
ok $? "--max-rejects 3 with 4 rejects: exit 1 (got $rc) and the table unchanged"
sl -q load "$D/people.csv" --into people --contract people --mode merge --max-rejects 50% >/dev/null 2>&1
rc=$?
[ $rc -eq 1 ] && [ "$(sum_of people)" = "$before" ]
ok $? "--max-rejects 50% with 4 of 7 rejected: exit 1 and the table unchanged"

# Parallel streams load exactly the good rows of a dirty file.
python3 "$GEN" 300000 1 "$D/tx.csv" --good "$D/tx.good"
wh "create table tx (transaction_id bigint, reference text, customer_id int, product text, quantity int,
    price numeric(12,2), tax numeric(12,2), currency text, transaction_date timestamptz)"
out=$(sl --json load "$D/tx.csv" --into tx --contract "$SLUICE_SRCDIR/bench/transactions.yml" --mode replace --parallel 3)
ok $? "a 300000-row load over 3 streams exits 0"
[ "$(echo "$out" | json_get '"%d %d %d" % (j["rows_loaded"], j["rejected"], j["streams"])')" = "297000 3000 3" ]
ok $? "297000 rows loaded, 3000 rejected, 3 streams"
[ "$(psql "$WH" -XAtqc 'copy tx to stdout' | LC_ALL=C sort | md5sum)" = "$(LC_ALL=C sort "$D/tx.good" | md5sum)" ]
ok $? "md5 of the table's sorted rows equals md5 of the file's good rows"

# A connection dropped mid-load is "unreachable" (exit 4), not a plain failure:
# the server ends sessions idle for 300 ms, so the load's main connection,
# idle while the streams copy, is gone when the rows are to be moved.
before=$(sum_of tx)
wh "alter database warehouse set idle_session_timeout = '300ms'"
out=$(sl load "$D/tx.csv" --into tx --contract "$SLUICE_SRCDIR/bench/transactions.yml" --mode replace --parallel 2 2>&1)
rc=$?
wh "alter database warehouse reset idle_session_timeout"
[ $rc -eq 4 ] && [ "$(sum_of tx)" = "$before" ]
ok $? "a load whose connection drops exits 4 (got $rc) and leaves the table as it was" || echo "$out" | diag

# kill -9 in the middle of a load: the target stays exactly as it was.
python3 "$GEN" 1500000 0 "$D/big.csv"
before=$(sum_of people)
active() { [ "$(psql "$WH" -XAtqc "select count(*) from pg_stat_activity where datname = current_database() and state = 'active' and query like '$1'")" -gt 0 ]; }
killed() { # killed MODE PHASE: starts a load into tx, kills it with -9 once PHASE shows
	"$SLUICE_BIN" -q -C "$PROJ" load "$D/big.csv" --into tx --contract "$SLUICE_SRCDIR/bench/transactions.yml" \
		--mode "$1" >/dev/null 2>&1 &
	pid=$!
	wait_for 30 active "$2"
	kill -9 $pid
	{ wait $pid; } 2>/dev/null
	st=$?
	wait_for 20 sh -c "[ \$(psql \"$WH\" -XAtqc \"select count(*) from pg_stat_activity where query like 'COPY %' or query like 'INSERT INTO %'\") -eq 0 ]"
	return $st
}
before=$(sum_of tx)
killed append '%COPY %'
rc=$?
[ $rc -eq 137 ] && [ "$(sum_of tx)" = "$before" ]
ok $? "append killed with -9 while copying (status $rc): the table is exactly as before"
killed replace '%COPY %'
rc=$?
[ $rc -eq 137 ] && [ "$(sum_of tx)" = "$before" ]
ok $? "replace killed with -9 while copying (status $rc): the table is exactly as before"
killed replace 'INSERT INTO % FROM %sluice_stage_%'
rc=$?
[ $rc -eq 137 ] && [ "$(sum_of tx)" = "$before" ]
ok $? "replace killed with -9 while moving the rows in (status $rc): the table is exactly as before"
[ "$(wh "select count(*) from pg_class where relname like 'sluice_stage_%'")" -ge 1 ]
ok $? "the killed load left its staging table behind"
sl -q load "$D/people2.csv" --into people --contract people --mode replace >/dev/null
[ "$(wh "select count(*) from pg_class where relname like 'sluice_stage_%'")" = 0 ]
ok $? "the next staged load dropped it"

# The load task kind: a headerless file, a contract, rows in/out on the task.
printf '1,Ann,1990-01-02,1\n2,Bob,not a date,2\n3,Cy,1992-01-01,3\n' >"$D/p.csv"
cat >"$PROJ/pipelines/people.yml" <<'YML'
tasks:
  people:
    kind: load
    source: "data/{{ params.file }}"
    into: people_copy
    contract: people
    header: false
    mode: replace
    create: true
params: { file: p.csv }
YML
sl validate >/dev/null
ok $? "a pipeline with a load task validates"
sl -q run people --wait >/dev/null 2>&1
ok $? "the load task succeeds"
[ "$(state_sql "select rows_in || '/' || rows_out from sluice.task_instances t join sluice.runs r on r.id = t.run_id where r.pipeline = 'people' and t.task = 'people'")" = "3/2" ]
ok $? "the task instance records rows in 3, rows out 2"
[ "$(sl --json rejects latest people | json_get '"%s %s %s" % (len(j["rejects"]), j["rejects"][0]["line"], j["rejects"][0]["column"])')" = "1 2 born" ]
ok $? "sluice rejects latest people shows the rejected line 2, column born"

cat >"$PROJ/pipelines/bad_load.yml" <<'YML'
tasks:
  a:
    kind: load
    source: "data/{{ dss }}.csv"
    into: "a.b.c"
    contract: nosuch
    mode: upsert
    max_rejects: lots
    command: echo
YML
# from the project's root validate names files relative to it, wherever the
# test runs from
errs=$(cd "$PROJ" && "$SLUICE_BIN" validate 2>&1)
P=pipelines/bad_load.yml
exp="$P:4:22: error: unknown template variable 'dss'; did you mean 'ds'?
$P:5:11: error: 'into' must be a table or schema.table, got 'a.b.c'
$P:6:15: error: no contract 'nosuch' ($PROJ/contracts/nosuch.yml not found)
$P:7:11: error: 'mode' must be append, replace or merge, got 'upsert'
$P:8:18: error: 'max_rejects' must be a count or a percentage like \"0.5%\"
$P:9:5: error: 'command' does not apply to a load task (it is for shell tasks)"
got=$(echo "$errs" | grep "^$P" | sort -t: -k2,2n)
[ "$got" = "$exp" ]
ok $? "validate: a load task's errors at file:line:col" || { echo "$got" | diag; }
rm "$PROJ/$P"

sl -q load "$D/p.csv" --into people --contract nosuch >/dev/null 2>&1
[ $? -eq 3 ]
ok $? "an unknown contract exits 3"
sl -q load "$D/p.csv" --into nosuch_table >/dev/null 2>&1
[ $? -eq 1 ]
ok $? "a missing table without --create exits 1"
# The scenarios: hr (headerless files, contracts, 1% bad rows) and forex
# (number words cleaned, missing quantities quarantined, merged in parallel).
cleanup
for ex in hr forex; do
	X=$SLUICE_TESTDIR/example_$ex
	"$SLUICE_BIN" -q -C "$X" runner --stop >/dev/null 2>&1
	"$SLUICE_BIN" -q -C "$X" down >/dev/null 2>&1
	rm -rf "$X"
	cp -r "$SLUICE_SRCDIR/examples/$ex" "$X"
	rm -rf "$X/.sluice" "$X/data"
done
PROJ=$SLUICE_TESTDIR/example_hr
"$SLUICE_BIN" -q -C "$PROJ" run migration --wait >/dev/null 2>&1
ok $? "examples/hr: the migration run succeeds"
got=$(sl --json rejects latest employees | json_get '"%d %d %d" % (len(j["rejects"]), sum("foreign key" in r["reason"] for r in j["rejects"]), sum(r["line"] is None for r in j["rejects"]))')
[ "$got" = "20 4 0" ]
ok $? "examples/hr: 20 employees rejected (4 by the server's foreign key), each with its line ($got)"
cleanup
PROJ=$SLUICE_TESTDIR/example_forex
"$SLUICE_BIN" -q -C "$PROJ" run customer_transactions --wait >/dev/null 2>&1
ok $? "examples/forex: the run succeeds"
got=$(sl --json rejects latest load | json_get '"%d %d" % (sum(r["reason"] == "\x27quantity\x27: a value is required" for r in j["rejects"]), sum(r["reason"].startswith("superseded by line") for r in j["rejects"]))')
[ "$got" = "206 40" ]
ok $? "examples/forex: 206 rows without a quantity quarantined, 40 superseded ($got)"
exit $((tap_failed > 0))
