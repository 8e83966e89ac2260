#!/bin/sh
# Models built end to end through `sluice run` (kind: model tasks run by the
# worker) on the embedded default: views, tables swapped in under a reader
# that never sees a missing or empty table, incremental models over five
# batches equal to their full refresh, keys checked before a merge writes,
# snapshots over a scripted history in every strategy and hard-delete mode,
# two snapshot runs at once, contracts, and targets in their databases.
. "$SLUICE_SRCDIR/tests/integration/lib.sh"
echo "1..PLAN"
PROJ=$(mkproj materialize_it)
trap 'kill_reader; cleanup' EXIT
READER_PID=
kill_reader() { if is_pid "$READER_PID"; then kill "$READER_PID" 2>/dev/null; wait "$READER_PID" 2>/dev/null; fi; READER_PID=; }
export PGTZ=UTC
T=$SLUICE_TESTDIR/materialize.$$
mkdir -p "$T" "$PROJ/models/silver" "$PROJ/models/gold"

cat >>"$PROJ/sluice.yml" <<'YML'
target: dev
targets:
  dev:
    connection: default
    database: dev
    schema: "dev_{{ model.folder }}"
  pro:
    connection: default
    database: pro
    schema: "{{ model.folder }}"
YML

sl -q up >/dev/null 2>&1
ok $? "sluice up starts the embedded services"
WH=$(sl --json up -q 2>/dev/null | json_get 'j["warehouse"]["address"]')
psql "$WH" -XAtqc "create database dev" >/dev/null
dev() { psql "$WH dbname=dev" -XAtqc "$1"; }
pro() { psql "$WH dbname=pro" -XAtqc "$1"; }

# run_task PIPELINE: a run of it, waited for; its id in $RUN, its exit status returned
run_p() {
	out=$(sl --json run "$1" --wait 2>"$T/run.err")
	rc=$?
	RUN=$(echo "$out" | json_get 'j["run_id"]' 2>/dev/null)
	return $rc
}
# log_of TASK: the task log of the last run
log_of() { sl logs "$RUN" "$1" 2>&1; }
# pipeline NAME TASK MODEL [KEY: VALUE]...: a pipeline of one model task
pipeline() {
	name=$1; task=$2; model=$3; shift 3
	{ echo "tasks:"; echo "  $task:"; echo "    kind: model"; echo "    model: $model"
	  for kv in "$@"; do echo "    $kv"; done; } >"$PROJ/pipelines/$name.yml"
}

# ---- view and table ---------------------------------------------------------------
dev "create table public.people (id int, name text, city text);
     insert into public.people select g, 'p' || g, 'c' || (g % 7) from generate_series(1, 50000) g"
cat >"$PROJ/models/silver/_silver.yml" <<'YML'
models:
  - name: people_v
    materialized: view
  - name: people_t
    materialized: table
YML
echo "select id, name, city from public.people" >"$PROJ/models/silver/people_v.sql"
echo "select id, name, city from {{ ref('people_v') }}" >"$PROJ/models/silver/people_t.sql"
cat >"$PROJ/pipelines/basic.yml" <<'YML'
tasks:
  people_v: { kind: model, model: people_v }
  people_t: { kind: model, model: people_t, depends_on: [people_v] }
YML
sl validate >"$T/validate.out" 2>&1
ok $? "a pipeline of model tasks validates" || diag <"$T/validate.out"
run_p basic
ok $? "the model tasks run (view, then a table reading it)" || { diag <"$T/run.err"; log_of people_v | diag; log_of people_t | diag; }
is "the view is in dev's dev_silver" "$(dev "select relkind from pg_class where oid = 'dev_silver.people_v'::regclass")" "v"
is "the table holds its SELECT's rows" "$(dev "select relkind::text || ':' || (select count(*) from dev_silver.people_t) from pg_class where oid = 'dev_silver.people_t'::regclass")" "r:50000"
log_of people_t | grep -q 'model people_t: table "dev_silver"."people_t" on target dev: created; 50000 rows from its SELECT; 50000 inserted, 0 updated, 0 deleted; in [0-9.]* s'
ok $? "the task log says what was done, the rows and the time" || log_of people_t | diag

# a view that reads the table, and one that reads that view
dev "create view public.t_reader as select id, name from dev_silver.people_t where id % 2 = 0;
     create view public.t_reader2 as select count(*) as n from public.t_reader;
     grant select on public.t_reader to public; comment on view public.t_reader is 'kept'"
OID=$(dev "select 'public.t_reader'::regclass::oid")

# The swap seen from a reader: psql sessions counting the table and reading
# it through the views, pass after pass, while the table is rebuilt again
# and again until the reader has done three whole passes meanwhile.
i=0; : >"$T/reads.sql"
while [ $i -lt 50 ]; do
	echo "select count(*) from dev_silver.people_t; select n from public.t_reader2;" >>"$T/reads.sql"
	i=$((i + 1))
done
: >"$T/reads.out"; : >"$T/reads.err"; : >"$T/passes"
touch "$T/reading"
( while [ -f "$T/reading" ]; do
	psql "$WH dbname=dev" -XAtq -f "$T/reads.sql" >>"$T/reads.out" 2>>"$T/reads.err"; echo >>"$T/passes"
  done ) &
READER_PID=$!
wait_for 30 test -s "$T/passes"
pipeline rebuild people_t people_t
passes() { wc -l <"$T/passes"; }
p0=$(passes); fails=0; k=0
while [ $k -lt 5 ] || { [ $(($(passes) - p0)) -lt 3 ] && [ $k -lt 40 ]; }; do
	run_p rebuild || fails=$((fails + 1))
	k=$((k + 1))
done
during=$(($(passes) - p0))
rm -f "$T/reading"
wait "$READER_PID"; READER_PID=
[ "$during" -ge 3 ]
ok $? "the reader read through $k rebuilds ($during passes of 100 reads)"
is "every rebuild of the table under the reader succeeded" "$fails" 0
log_of people_t | grep -q 'built beside and swapped in, 1 dependent view re-pointed'
ok $? "a rebuild is built beside and swapped in, its dependent view re-pointed" || log_of people_t | diag
is "the reader saw no error" "$(head -c 2000 "$T/reads.err")" ""
is "the reader saw only the whole table (50000 rows, 25000 through the views)" "$(sort -u "$T/reads.out" | tr '\n' ' ')" "25000 50000 "
is "the dependent view kept its oid, grant and comment" "$(dev "select oid || ':' || coalesce(obj_description(oid, 'pg_class'), '') || ':' || has_table_privilege('public', oid, 'select') from pg_class where oid = 'public.t_reader'::regclass")" "$OID:kept:true"
is "no side table is left behind" "$(dev "select count(*) from pg_class where relname like 'people_t__sluice%'")" 0

# the view's columns change so that CREATE OR REPLACE refuses them: rebuilt
dev "create view public.v_reader as select id from dev_silver.people_v"
echo "select id, upper(name) as name from public.people" >"$PROJ/models/silver/people_v.sql"
pipeline view_only people_v people_v
run_p view_only
ok $? "a view whose columns changed is rebuilt" || diag <"$T/run.err"
log_of people_v | grep -q 'rebuilt (its columns changed), 1 dependent view re-pointed'
ok $? "the log says it was rebuilt" || log_of people_v | diag
is "the view has the new columns and its reader works" "$(dev "select string_agg(attname, ',' order by attnum) from pg_attribute where attrelid = 'dev_silver.people_v'::regclass and attnum > 0")|$(dev "select count(*) from public.v_reader")" "id,name|50000"
echo "select id, upper(name) as name, city from public.people" >"$PROJ/models/silver/people_v.sql"
run_p view_only
log_of people_v | grep -q 'people_v" on target dev: replaced;'
ok $? "a column added at the end: CREATE OR REPLACE VIEW" || log_of people_v | diag
