#!/bin/sh
# Last writers and the table browser's batch face: a load, a model and a
# sql task that declares what it writes each record themselves in
# sluice.writes of the target database, in the transaction of their effect
# (a failed one leaves the writer before it); `sluice tables` lists the
# schemas, then a schema's tables with estimated rows, size and that last
# writer; `sluice rows` pages a table by its key, filtered and sorted, as a
# table, JSON or CSV, and a bad expression is an error saying so.
. "$SLUICE_SRCDIR/tests/integration/lib.sh"

echo "1..21"

PROJ=$(mkproj tables_it)
trap cleanup EXIT
T=$SLUICE_TESTDIR/tables-out
rm -rf "$T"
mkdir -p "$T" "$PROJ/data" "$PROJ/models"
printf 'id,name\n1,ann\n2,bob\n3,cy\n' >"$PROJ/data/people.csv"
cat >"$PROJ/pipelines/wr.yml" <<'YML'
tasks:
  ld: { kind: load, source: data/people.csv, into: public.people, create: true }
  mdl: { kind: model, model: people_m, depends_on: [ld] }
  sq:
    kind: sql
    sql: "create table if not exists public.side (x int); insert into public.side values (1)"
    writes: [public.side]
    depends_on: [ld]
YML
cat >"$PROJ/models/_models.yml" <<'YML'
models:
  - name: people_m
    materialized: table
    schema: public
YML
echo "select distinct id, upper(name) as name from public.people order by id" >"$PROJ/models/people_m.sql"
cat >"$PROJ/pipelines/bad.yml" <<'YML'
tasks:
  boom: { kind: sql, sql: "insert into public.side values (2); select 1/0", writes: [public.side] }
YML

sl -q up >/dev/null 2>&1
WH=$(sl --json up -q 2>/dev/null | json_get 'j["warehouse"]["address"]')
sl --json run wr --wait >"$T/run1.json" 2>"$T/run1.err"
ok $? "a run of a load, a model and a sql task" || { diag <"$T/run1.err"; diag <"$T/run1.json"; }
RUN=$(json_get 'j["run_id"]' <"$T/run1.json")

psql "$WH" -XAtqc "select schema_name || '.' || table_name || ':' || pipeline || '.' || task || ':' || run_id || ':' || try || ':' || coalesce(rows::text, '-') from sluice.writes order by 1" >"$T/writes" 2>&1
is "sluice.writes: each table its writer, run, try and rows" "$(cat "$T/writes")" \
"public.people:wr.ld:$RUN:1:3
public.people_m:wr.mdl:$RUN:1:3
public.side:wr.sq:$RUN:1:-"

sl tables >"$T/schemas.out" 2>&1
grep -Eq "^public +[0-9]+$" "$T/schemas.out" && grep -Eq "^SCHEMA +TABLES$" "$T/schemas.out"
ok $? "sluice tables: the warehouse's schemas" || diag <"$T/schemas.out"
sl --json tables default public >"$T/tables.json" 2>"$T/tables.err"
ok $? "sluice tables default public --json" || diag <"$T/tables.err"
is "... each table with its kind and last writer" \
	"$(json_get '" ".join("%s:%s:%s" % (t["name"], t["kind"], (t["last_writer"] or {}).get("task")) for t in j["tables"])' <"$T/tables.json")" \
	"people:table:ld people_m:table:mdl side:table:sq"
is "... the writer's run, try and rows" \
	"$(json_get '[(t["last_writer"]["pipeline"], t["last_writer"]["run_id"], t["last_writer"]["try"], t["last_writer"]["rows"]) for t in j["tables"] if t["name"] == "people"][0]' <"$T/tables.json")" \
	"('wr', $RUN, 1, 3)"
sl tables default public >"$T/tables.out" 2>&1
grep -Eq "^people +table +[0-9?]+ +[0-9]+ (kB|bytes) +wr\.ld run $RUN try 1 at 20[0-9-]+T" "$T/tables.out"
ok $? "... and as a table" || diag <"$T/tables.out"

sl --json run bad --wait >"$T/bad.json" 2>&1
is "a failed sql task that declares what it writes" "$?" 1
is "... leaves the last writer as it was (the same transaction)" \
	"$(psql "$WH" -XAtqc "select task || ':' || run_id from sluice.writes where table_name = 'side'")" "sq:$RUN"
sl --json run wr --wait >"$T/run2.json" 2>&1
RUN2=$(json_get 'j["run_id"]' <"$T/run2.json")
is "a second run is the tables' last writer now" \
	"$(psql "$WH" -XAtqc "select string_agg(distinct run_id::text, ',') from sluice.writes")" "$RUN2"

sl -q load "$PROJ/data/people.csv" --into public.adhoc --create >"$T/adhoc.out" 2>&1
sl tables default public >"$T/tables2.out" 2>&1
grep -Eq "^adhoc +table .* sluice load at 20[0-9-]+T" "$T/tables2.out"
ok $? "an ad-hoc sluice load is the last writer too, without a task" || { diag <"$T/adhoc.out"; diag <"$T/tables2.out"; }

sl --json rows public.people >"$T/rows.json" 2>"$T/rows.err"
is "sluice rows --json: the rows by the key" \
	"$(json_get '" ".join(j["columns"]) + " | " + " ".join(r[0] + "=" + r[1] for r in j["rows"])' <"$T/rows.json")" \
	"id name | 1=ann 2=bob 3=cy 1=ann 2=bob 3=cy"
sl rows people --where "name <> 'bob'" --sort name:desc --limit 3 --csv >"$T/rows.csv" 2>&1
is "--where, --sort COL:desc, --limit, --csv (public without a schema)" "$(tr -d '\r' <"$T/rows.csv" | tr '\n' ' ')" \
	"id,name 3,cy 3,cy 1,ann "
sl rows public.people_m --csv >"$T/all.csv" 2>&1
is "--csv without --limit: every row, RFC 4180" "$(tr -d '\r' <"$T/all.csv" | tr '\n' ' ')" "id,name 1,ANN 2,BOB 3,CY "
grep -c "$(printf '\r')$" "$T/all.csv" | grep -qx 4
ok $? "... CRLF line ends"
sl rows public.people --where 'id %% 2' >"$T/badw.out" 2>"$T/badw.err"
is "a bad --where expression: exit 1" "$?" 1
grep -q "^sluice rows: .*operator does not exist" "$T/badw.err"
ok $? "... saying why" || diag <"$T/badw.err"
sl rows public.nosuch >/dev/null 2>"$T/nosuch.err"
is "an unknown table: exit 1" "$?$(grep -c "no table public.nosuch" "$T/nosuch.err")" 11
sl rows public.people --sort nosuch >/dev/null 2>"$T/nocol.err"
is "an unknown sort column: exit 1, named" "$?$(grep -c "has no column nosuch" "$T/nocol.err")" 11
sl tables default nosuch >/dev/null 2>"$T/noschema.err"
is "an unknown schema: exit 1" "$?$(grep -c "no schema nosuch" "$T/noschema.err")" 11
psql "$WH" -XAtqc "create sequence public.s1" >/dev/null
sl rows public.people --where "nextval('public.s1') > 0" >/dev/null 2>"$T/ro.err"
grep -q "read-only transaction" "$T/ro.err"
ok $? "rows run in a READ ONLY transaction: a filter cannot write" || diag <"$T/ro.err"

done_testing
