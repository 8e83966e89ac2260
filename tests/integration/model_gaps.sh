#!/bin/sh
# What the examples needed beside models: a load that creates the schema of
# the table it creates, `sluice status` with long task names, sql and load
# tasks on another connection or database, sources that say where they are,
# and model tasks on the connection their worker keeps.
. "$SLUICE_SRCDIR/tests/integration/lib.sh"
PROJ=$(mkproj model_gaps_it)
trap cleanup EXIT
export PGTZ=UTC
mkdir -p "$PROJ/data"

sl -q up >/dev/null 2>&1
ok $? "sluice up starts the embedded services"
WH=$(sl --json up -q 2>/dev/null | json_get 'j["warehouse"]["address"]')
wh() { psql "$WH" -XAtqc "$1"; }
printf 'id,name\n1,a\n2,b\n3,c\n' >"$PROJ/data/p.csv"

# ---- load --create: the schema of a schema-qualified table -----------------
out=$(sl -q load "$PROJ/data/p.csv" --into new_schema.people --create 2>&1)
ok $? "load --create into a schema that does not exist" || echo "$out" | diag
is "the schema and the table were made, the rows in" "$(wh "select count(*) from new_schema.people")" 3
out=$(sl -q load "$PROJ/data/p.csv" --into 'odd "schema.people' --create --mode replace 2>&1)
ok $? "a staged load (replace) creates a quoted schema name too" || echo "$out" | diag
is "its rows are in \"odd \"\"schema\".people" "$(wh 'select count(*) from "odd ""schema".people')" 3
cat >"$PROJ/pipelines/ld.yml" <<'YML'
tasks:
  ld: { kind: load, source: data/p.csv, into: task_schema.people, create: true, mode: merge, key: [id] }
YML
sl -q run ld --wait >/dev/null 2>&1
ok $? "a load task with create: true into a new schema succeeds"
is "its rows are in task_schema.people" "$(wh "select count(*) from task_schema.people")" 3

# ---- status: the task column is as wide as the longest name ----------------
LONG=a_task_name_that_is_much_longer_than_the_old_twenty_eight_columns_of_status
MID=a_name_of_thirty_five_characters_xx
cat >"$PROJ/pipelines/names.yml" <<YML
tasks:
  s: { kind: shell, command: "true" }
  $MID: { kind: shell, command: "true" }
  $LONG: { kind: shell, command: "true" }
YML
RUN=$(sl --json run names --wait 2>/dev/null | json_get 'j["run_id"]')
out=$(sl status "$RUN" 2>&1)
# the column where each task line's state starts, in characters
cols=$(echo "$out" | python3 -c '
import sys
for l in sys.stdin.read().splitlines()[2:]:
    print(l.index(" success") if " success" in l else -1)' | sort -u)
is "every task line's state starts in one column" "$cols" "52"
echo "$out" | grep -q "^  a_task_name_that_is_much_longer_than_the_old_tw… "
ok $? "a name past 48 characters is cut with an ellipsis" || echo "$out" | diag
echo "$out" | grep -q "^  $MID  "
ok $? "a name within the bound is whole" || echo "$out" | diag

# ---- sql and load tasks: connection: and database: ---------------------------
wh "create database side_b" >/dev/null
cat >"$PROJ/connections.yml" <<YML
connections:
  other: { dsn: "$WH dbname=side_b" }
YML
chmod 600 "$PROJ/connections.yml"
printf 'connections: connections.yml\n' >>"$PROJ/sluice.yml"
cat >"$PROJ/pipelines/place.yml" <<'YML'
tasks:
  mk: { kind: sql, database: side_a, sql: "create table made_here (x int); insert into made_here values (1)" }
  ld: { kind: load, database: side_a, source: data/p.csv, into: side.people, create: true, depends_on: [mk] }
  via: { kind: sql, connection: other, sql: "create table via_other (x int)" }
  vld: { kind: load, connection: other, database: side_a, source: data/p.csv, into: via_people, create: true,
         depends_on: [ld] }
YML
out=$(sl validate 2>&1)
ok $? "validate: connection: and database: on sql and load tasks" || echo "$out" | diag
out=$(sl run place --wait 2>&1)
ok $? "the tasks run where they say" || echo "$out" | diag
side_a() { psql "$WH dbname=side_a" -XAtqc "$1"; }
is "a sql task's database: is made on the default server and the script runs there" \
	"$(side_a "select count(*) from made_here")" 1
is "a load task's database: takes the rows (and its create: the schema)" "$(side_a "select count(*) from side.people")" 3
is "connection: names a connection of connections.yml" \
	"$(psql "$WH dbname=side_b" -XAtqc "select count(*) from pg_tables where tablename = 'via_other'")" 1
is "connection: and database: together: that server's other database" "$(side_a "select count(*) from via_people")" 3
is "none of it went to the warehouse" \
	"$(wh "select count(*) from pg_tables where tablename in ('made_here', 'via_other', 'via_people') or schemaname = 'side'")" 0
cat >"$PROJ/pipelines/nodb.yml" <<'YML'
tasks:
  q: { kind: sql, connection: other, database: no_such_db, sql: "select 1" }
YML
sl run nodb --wait >/dev/null 2>&1
[ $? -ne 0 ]; ok $? "a missing database on a connection of connections.yml fails the task"
is "its log says so (sluice does not create databases on servers it does not run)" \
	"$(sl logs latest q 2>&1 | grep -o "database 'no_such_db' does not exist.*")" \
	"database 'no_such_db' does not exist on connection 'other' (create it there)"
rm "$PROJ/pipelines/nodb.yml"

cat >"$PROJ/pipelines/bad_place.yml" <<'YML'
tasks:
  a: { kind: sql, connection: nowhere, sql: "select 1" }
  b: { kind: load, conn: elsewhere, source: data/p.csv, into: t }
  c: { kind: sql, conn: other, connection: other, sql: "select 1" }
  d: { kind: load, database: "", source: data/p.csv, into: t }
YML
errs=$(cd "$PROJ" && "$SLUICE_BIN" validate 2>&1)
P=pipelines/bad_place.yml
C=$PROJ/connections.yml
exp="$P:2:31: error: unknown connection 'nowhere' ($C defines: other)
$P:3:26: error: unknown connection 'elsewhere' ($C defines: other)
$P:4:32: error: 'connection' and 'conn' say the same; give one of them
$P:5:30: error: 'database' must be a database name of 1 to 63 bytes, got ''"
is "validate: an unknown connection, both spellings, an empty database, at file:line:col" \
	"$(echo "$errs" | grep "^$P" | sort -t: -k2,2n)" "$exp"
rm "$PROJ/pipelines/bad_place.yml"

# ---- sources: where they are ---------------------------------------------------
cat >>"$PROJ/sluice.yml" <<'YML'
target: dev
targets:
  dev: { connection: default, database: side_a }
  pro: { connection: default, database: side_c }
YML
mkdir -p "$PROJ/models"
cat >"$PROJ/models/sources.yml" <<'YML'
sources:
  - name: here
    schema: side
    database: side_a
    tables: [{name: people}]
YML
echo "select count(*) as n from {{ source('here', 'people') }}" >"$PROJ/models/people_n.sql"
out=$(sl validate 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q "models/people_n.sql:1:30: error: source('here', 'people') is on connection 'default', database side_a but target 'pro' builds on connection 'default', database side_c: a query cannot read another database, so the source's connection must be the target's database"
ok $? "validate: a source in another database than a target's is an error at its source() call" || echo "$out" | diag
cat >"$PROJ/pipelines/pn.yml" <<'YML'
tasks:
  pn: { kind: model, model: people_n }
YML
out=$(sl run pn --wait 2>&1)
ok $? "a source in the target's own database builds" || echo "$out" | diag
is "it read the source there" "$(side_a "select n from public.people_n")" 3
out=$(sl run pn --target pro --wait 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q "a query cannot read another database"
ok $? "on the other target the run is refused, saying why" || echo "$out" | diag
cat >"$PROJ/models/sources.yml" <<'YML'
sources:
  - name: here
    schema: side
    connection: nowhere_s
    tables: [{name: people}]
YML
out=$(cd "$PROJ" && "$SLUICE_BIN" validate 2>&1)
echo "$out" | grep -qx "models/sources.yml:4:17: error: unknown connection 'nowhere_s' ($C defines: other)"
ok $? "validate: a source's unknown connection at file:line:col" || echo "$out" | diag
rm "$PROJ/models/sources.yml" "$PROJ/models/people_n.sql" "$PROJ/pipelines/pn.yml"

# ---- model tasks on their worker's connection ---------------------------------
# Each model records the backend that built it: with the worker's
# connection lent to its tasks, six builds on two workers use at most two.
mkdir -p "$PROJ/models/pool"
for i in 1 2 3 4 5 6; do
	echo "select pg_backend_pid() as pid" >"$PROJ/models/pool/pool_$i.sql"
done
cat >"$PROJ/models/pool/_pool.yml" <<'YML'
models:
  - {name: pool_1, materialized: table}
  - {name: pool_2, materialized: table}
  - {name: pool_3, materialized: table}
  - {name: pool_4, materialized: table}
  - {name: pool_5, materialized: table}
  - {name: pool_6, materialized: table}
  - name: pool_slow
    materialized: table
YML
echo "select pg_sleep(60) as slept" >"$PROJ/models/pool/pool_slow.sql"
{ echo "tasks:"
  echo "  pool_1: { kind: model, model: pool_1 }"
  for i in 2 3 4 5 6; do echo "  pool_$i: { kind: model, model: pool_$i, depends_on: [pool_$((i - 1))] }"; done
} >"$PROJ/pipelines/pool.yml"
out=$(sl run pool --wait 2>&1)
ok $? "six model tasks, one after another" || echo "$out" | diag
n=$(side_a "select count(distinct pid) from (select pid from pool.pool_1 union all select pid from pool.pool_2
	union all select pid from pool.pool_3 union all select pid from pool.pool_4 union all select pid from pool.pool_5
	union all select pid from pool.pool_6) x")
[ "$n" -ge 1 ] && [ "$n" -le 2 ]
ok $? "they were built on their workers' connections, not one each ($n backends for 6 builds)"
cat >"$PROJ/pipelines/slow.yml" <<'YML'
tasks:
  pool_slow: { kind: model, model: pool_slow, timeout: 2 }
YML
sl run slow --wait >/dev/null 2>&1
[ $? -ne 0 ]; ok $? "a model task past its timeout fails"
gone() { [ "$(side_a "select count(*) from pg_stat_activity where query like '%pg_sleep(60)%' and pid <> pg_backend_pid()")" = 0 ]; }
wait_for 10 gone
ok $? "its build's backend is gone with it: the connection it had was closed, its transaction rolled back"
is "nothing of it was built" "$(side_a "select count(*) from pg_tables where tablename like 'pool_slow%'")" 0
out=$(sl run pool --wait 2>&1)
ok $? "the next model tasks build, on a connection the worker opens anew" || echo "$out" | diag

echo "1..$tap_n"
done_testing
