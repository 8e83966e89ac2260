#!/bin/sh
# Models built end to end through `sluice run` (kind: model tasks run by the
# worker) on the embedded default: views, tables swapped in under a reader
# that never sees a missing or empty table, incremental models over five
# batches equal to their full refresh, keys checked before a merge writes,
# snapshots over a scripted history in every strategy and hard-delete mode,
# two snapshot runs at once, contracts, and targets in their databases.
. "$SLUICE_SRCDIR/tests/integration/lib.sh"
echo "1..62"
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

# ---- incremental ---------------------------------------------------------------------
# a checksum of a relation's rows, whatever their order
sum_of() { dev "select count(*) || ':' || coalesce(md5(string_agg(t::text, E'\n' order by t::text)), '') from $1 t"; }
# rows of a in b, both ways, and the counts: "0 0 n n" when they are equal
diff_of() { dev "select (select count(*) from (table $1 except all table $2) x) || ' ' || (select count(*) from (table $2 except all table $1) x) || ' ' || (select count(*) from $1) || ' ' || (select count(*) from $2)"; }
dev "create table public.ev (id int, v text, ts timestamptz); create table public.lg (id int, v text)"
cat >"$PROJ/models/silver/_inc.yml" <<'YML'
config:
  materialized: incremental
models:
  - name: inc_merge
    unique_key: id
  - name: inc_di
    unique_key: id
    incremental_strategy: delete+insert
  - name: inc_app
    incremental_strategy: append
YML
for m in inc_merge inc_di; do
	cat >"$PROJ/models/silver/$m.sql" <<'SQL'
select id, v, ts from public.ev
{% if is_incremental() %}
where ts > (select max(ts) from {{ this }})
{% endif %}
SQL
done
cat >"$PROJ/models/silver/inc_app.sql" <<'SQL'
select id, v from public.lg
{%- if is_incremental() %} where id > (select coalesce(max(id), 0) from {{ this }}) {%- endif %}
SQL
cat >"$PROJ/pipelines/inc.yml" <<'YML'
tasks:
  inc_merge: { kind: model, model: inc_merge }
  inc_di: { kind: model, model: inc_di }
  inc_app: { kind: model, model: inc_app }
YML
fails=0
for k in 1 2 3 4 5; do
	dev "insert into public.ev select 100 * $k + g, 'v' || g, timestamptz '2024-01-0$k' + g * interval '1 minute' from generate_series(1, 10) g;
	     update public.ev set v = v || '+$k', ts = timestamptz '2024-01-0$k 12:00' where $k > 1 and id in (select id from public.ev where id < 100 * $k order by id limit 3 offset $k);
	     insert into public.lg select 10 * ($k - 1) + g, 'l' || g from generate_series(1, 10) g"
	run_p inc || { fails=$((fails + 1)); diag <"$T/run.err"; }
	[ $k -eq 2 ] && { log_of inc_merge >"$T/merge2.log"; log_of inc_di >"$T/di2.log"; log_of inc_app >"$T/app2.log"; }
done
is "five incremental runs succeed" "$fails" 0
grep -q 'incremental merge "dev_silver"."inc_merge" on target dev: merged (is_incremental); 13 rows from its SELECT; 10 inserted, 3 updated, 0 deleted' "$T/merge2.log"
ok $? "a merge says how many rows it inserted and updated" || diag <"$T/merge2.log"
grep -q 'deleted and inserted (is_incremental); 13 rows from its SELECT; 13 inserted, 0 updated, 3 deleted' "$T/di2.log"
ok $? "a delete+insert says how many rows it deleted and inserted" || diag <"$T/di2.log"
grep -q 'appended (is_incremental); 10 rows from its SELECT; 10 inserted' "$T/app2.log"
ok $? "an append says how many rows it inserted" || diag <"$T/app2.log"
dev "create table public.c_merge as table dev_silver.inc_merge; create table public.c_di as table dev_silver.inc_di;
     create table public.c_app as table dev_silver.inc_app"
cat >"$PROJ/pipelines/inc_full.yml" <<'YML'
tasks:
  inc_merge: { kind: model, model: inc_merge, full_refresh: true }
  inc_di: { kind: model, model: inc_di, full_refresh: true }
  inc_app: { kind: model, model: inc_app, full_refresh: true }
YML
run_p inc_full
ok $? "a full refresh of the three runs" || diag <"$T/run.err"
log_of inc_merge | grep -q 'rebuilt in full (full); 50 rows'
ok $? "the full refresh rebuilt the table from the whole SELECT" || log_of inc_merge | diag
is "merge: five incremental runs equal the full refresh (EXCEPT ALL both ways)" "$(diff_of public.c_merge dev_silver.inc_merge)" "0 0 50 50"
is "delete+insert: five incremental runs equal the full refresh" "$(diff_of public.c_di dev_silver.inc_di)" "0 0 50 50"
is "append: five incremental runs equal the full refresh" "$(diff_of public.c_app dev_silver.inc_app)" "0 0 50 50"

# NULL and repeated keys: named, and nothing is written
dev "create table public.bad (id int, v text); insert into public.bad select g, 'b' || g from generate_series(1, 5) g"
cat >"$PROJ/models/silver/_bad.yml" <<'YML'
models:
  - name: inc_bad
    materialized: incremental
    unique_key: id
  - name: inc_bad_di
    materialized: incremental
    incremental_strategy: delete+insert
    unique_key: [id]
YML
echo "select id, v from public.bad" >"$PROJ/models/silver/inc_bad.sql"
echo "select id, v from public.bad" >"$PROJ/models/silver/inc_bad_di.sql"
cat >"$PROJ/pipelines/bad.yml" <<'YML'
tasks:
  inc_bad: { kind: model, model: inc_bad }
  inc_bad_di: { kind: model, model: inc_bad_di }
YML
run_p bad
ok $? "the first build of the merge model" || diag <"$T/run.err"
before=$(sum_of dev_silver.inc_bad)
dev "insert into public.bad values (null, 'n1'), (5, 'x'), (null, 'n2'), (5, 'y'), (6, 'z')"
run_p bad
[ $? -ne 0 ]; ok $? "a merge whose batch has NULL and repeated keys fails"
is "the error names the keys and how often each comes" "$(log_of inc_bad | grep -o 'unique_key.*')" \
	"unique_key (id): 2 keys of the new rows are NULL or repeated (5 rows), nothing was written: id=5: 3 rows; id=NULL: 2 rows"
is "the merge's table is as it was" "$(sum_of dev_silver.inc_bad)" "$before"
is "delete+insert refuses the NULL keys only" "$(log_of inc_bad_di | grep -o 'unique_key.*')" \
	"unique_key (id): 1 key of the new rows is NULL (2 rows), nothing was written: id=NULL: 2 rows"

# delete+insert on a key that repeats (a day's rows under its date): the
# target's rows of the batch's days are replaced by all the batch's rows
dev "create table public.daily (day date, item text, qty int);
     insert into public.daily values ('2026-01-01', 'a', 1), ('2026-01-01', 'b', 2), ('2026-01-02', 'a', 3)"
cat >"$PROJ/models/silver/_daily.yml" <<'YML'
models:
  - name: inc_daily
    materialized: incremental
    incremental_strategy: delete+insert
    unique_key: day
YML
cat >"$PROJ/models/silver/inc_daily.sql" <<'SQL'
select day, item, qty from public.daily
{% if is_incremental() %}where day >= '2026-01-02'{% endif %}
SQL
pipeline daily inc_daily inc_daily
run_p daily
ok $? "the first build of a delete+insert model keyed on a date" || diag <"$T/run.err"
dev "update public.daily set qty = qty * 10 where day = '2026-01-02';
     insert into public.daily values ('2026-01-02', 'b', 40), ('2026-01-03', 'a', 5), ('2026-01-03', 'c', 6)"
run_p daily
ok $? "delete+insert takes a batch whose keys repeat" || log_of inc_daily | diag
is "the batch's days are replaced by all its rows, the other days kept" \
	"$(dev "select string_agg(day || ':' || item || '=' || qty, ' ' order by day, item) from dev_silver.inc_daily")" \
	"2026-01-01:a=1 2026-01-01:b=2 2026-01-02:a=30 2026-01-02:b=40 2026-01-03:a=5 2026-01-03:c=6"

# ---- snapshots -----------------------------------------------------------------------------
# A scripted history, one step before each of five runs: insert 1, 2, 3;
# update 1; nothing; delete 2; insert 2 again. updated_at is the step's
# time, and every time is written as the run it falls in (rK: after run
# K-1 ended, before run K did), so each strategy and each hard-delete mode
# has one exact answer.
dev "create table public.items (id int, price int, updated_at timestamptz); create table public.marks (k int, at timestamptz)"
mkdir -p "$PROJ/models/snapshots"
cat >"$PROJ/models/snapshots/_snap.yml" <<'YML'
config:
  materialized: snapshot
  unique_key: id
models:
  - { name: ts_ignore, strategy: timestamp, updated_at: updated_at }
  - { name: ts_invalidate, strategy: timestamp, updated_at: updated_at, hard_deletes: invalidate }
  - { name: ts_new_record, strategy: timestamp, updated_at: updated_at, hard_deletes: new_record }
  - { name: ck_ignore, strategy: check, check_cols: [price] }
  - { name: ck_invalidate, strategy: check, check_cols: all, hard_deletes: invalidate }
  - { name: ck_new_record, strategy: check, check_cols: all, hard_deletes: new_record }
  - name: ts_far
    strategy: timestamp
    updated_at: updated_at
    hard_deletes: invalidate
    valid_to_current: "'9999-12-31'::timestamptz"
YML
SNAPS="ts_ignore ts_invalidate ts_new_record ck_ignore ck_invalidate ck_new_record ts_far"
{ echo "tasks:"; for m in $SNAPS; do
	echo "select id, price, updated_at from public.items" >"$PROJ/models/snapshots/$m.sql"
	echo "  $m: { kind: model, model: $m }"
  done; } >"$PROJ/pipelines/snap.yml"
fails=0
for k in 1 2 3 4 5; do
	case $k in
	1) dev "insert into public.items values (1, 10, now()), (2, 20, now()), (3, 30, now())" ;;
	2) dev "update public.items set price = 11, updated_at = now() where id = 1" ;;
	4) dev "delete from public.items where id = 2" ;;
	5) dev "insert into public.items values (2, 21, now())" ;;
	esac
	run_p snap || { fails=$((fails + 1)); for m in $SNAPS; do log_of $m | tail -n 2; done | diag; }
	[ $k -eq 3 ] && log_of ck_ignore >"$T/snap3.log"
	dev "insert into public.marks values ($k, now())"
done
is "five snapshot runs of seven snapshots succeed" "$fails" 0
grep -q 'snapshot taken; 3 rows from its SELECT; 0 inserted, 0 updated, 0 deleted' "$T/snap3.log"
ok $? "a run over unchanged rows writes nothing" || diag <"$T/snap3.log"
dev "create function public.lbl(v timestamptz) returns text language sql as \$\$
	select case when v is null then '-' when v >= '9999-01-01' then 'far'
	else 'r' || (select 1 + count(*) from public.marks m where m.at < v) end \$\$"
rows_of() { # rows_of SNAPSHOT [is_deleted]: id:price:from:to[:deleted] in order
	dev "select string_agg(id || ':' || price || ':' || lbl(valid_from) || ':' || lbl(valid_to) ${2:+|| ':' || is_deleted}, ' ' order by id, valid_from) from dev_snapshots.$1" 2>&1
}
IGNORE="1:10:r1:r2 1:11:r2:- 2:20:r1:r5 2:21:r5:- 3:30:r1:-"
INVALIDATE="1:10:r1:r2 1:11:r2:- 2:20:r1:r4 2:21:r5:- 3:30:r1:-"
NEW_RECORD="1:10:r1:r2:false 1:11:r2:-:false 2:20:r1:r4:false 2:20:r4:r5:true 2:21:r5:-:false 3:30:r1:-:false"
is "timestamp, hard deletes ignore: exactly the SCD2 rows" "$(rows_of ts_ignore)" "$IGNORE"
is "timestamp, invalidate" "$(rows_of ts_invalidate)" "$INVALIDATE"
is "timestamp, new_record" "$(rows_of ts_new_record 1)" "$NEW_RECORD"
is "check (check_cols: [price]), ignore" "$(rows_of ck_ignore)" "$IGNORE"
is "check (all), invalidate" "$(rows_of ck_invalidate)" "$INVALIDATE"
is "check (all), new_record" "$(rows_of ck_new_record 1)" "$NEW_RECORD"
is "valid_to_current: current rows end far away" "$(rows_of ts_far)" "1:10:r1:r2 1:11:r2:far 2:20:r1:r4 2:21:r5:far 3:30:r1:far"
bad_ids=0
for m in $SNAPS; do
	n=$(dev "set datestyle to iso, ymd; select count(*) filter (where scd_id is distinct from md5(id::text || '|' || valid_from::text)) + count(*) - count(distinct scd_id) from dev_snapshots.$m")
	[ "$n" = 0 ] || bad_ids=$((bad_ids + 1))
done
is "scd_id is md5(id|valid_from) and unique in every snapshot" "$bad_ids" 0

# Two runs of one snapshot at once (a sleep in its SELECT makes them
# overlap): the first creates it, then rounds of changes, each taken by two
# runs together; every key keeps one current row, every change one version.
dev "create table public.conc as select g as id, 'v' as v from generate_series(1, 100) g"
echo "select c.id, c.v from public.conc c cross join (select pg_sleep(1)) z" >"$PROJ/models/snapshots/snap_conc.sql"
printf '  - { name: snap_conc, strategy: check, check_cols: all, hard_deletes: invalidate }\n' >>"$PROJ/models/snapshots/_snap.yml"
pipeline conc snap_conc snap_conc
both() {
	( sl -q run conc --wait >"$T/c1.out" 2>&1; echo $? >"$T/c1.rc" ) &
	p1=$!
	( sl -q run conc --wait >"$T/c2.out" 2>&1; echo $? >"$T/c2.rc" ) &
	p2=$!
	wait $p1 $p2
	[ "$(cat "$T/c1.rc")$(cat "$T/c2.rc")" = 00 ]
}
both
ok $? "two runs at once of a snapshot that does not exist yet both succeed" || cat "$T/c1.out" "$T/c2.out" | diag
cfails=0
for r in 1 2 3; do
	dev "update public.conc set v = v || '$r' where id % 2 = 0"
	both || cfails=$((cfails + 1))
done
is "three rounds of two runs at once succeed" "$cfails" 0
is "no key has two current rows, every change has one version (100 + 3 x 50 rows)" \
	"$(dev "select (select count(*) from (select id from dev_snapshots.snap_conc where valid_to is null group by id having count(*) > 1) x) || ' ' || count(*) || ' ' || count(distinct (id, valid_from)) from dev_snapshots.snap_conc")" "0 250 250"

# ---- contracts -------------------------------------------------------------------------
dev "create table public.cs (id int, name text, amount numeric); insert into public.cs values (1, 'a', 1.5), (2, 'b', 2.25)"
cat >"$PROJ/models/silver/_contract.yml" <<'YML'
models:
  - name: con_t
    materialized: table
    columns:
      - { name: id, type: int }
      - { name: name, type: varchar }
      - { name: amount, type: "numeric(10, 2)" }
  - name: con_v
    materialized: view
    columns:
      - { name: id, type: integer }
      - { name: name, type: text }
      - { name: amount }
YML
echo "select id, name::varchar(20) as name, amount::numeric(10,2) as amount from public.cs" >"$PROJ/models/silver/con_t.sql"
echo "select id, name, amount from public.cs" >"$PROJ/models/silver/con_v.sql"
cat >"$PROJ/pipelines/con.yml" <<'YML'
tasks:
  con_t: { kind: model, model: con_t }
  con_v: { kind: model, model: con_v }
YML
run_p con
ok $? "models that meet their contracts build (int4 as int, varchar(20) as varchar, numeric(10,2))" || { log_of con_t | diag; log_of con_v | diag; }
before_t=$(sum_of dev_silver.con_t); before_v=$(sum_of dev_silver.con_v)
echo "select id::bigint as id, name, amount, 1 as extra from public.cs" >"$PROJ/models/silver/con_t.sql"
echo "select id, name from public.cs" >"$PROJ/models/silver/con_v.sql"
run_p con
[ $? -ne 0 ]; ok $? "a build whose SELECT breaks the contract fails"
is "the table's error names each column that differs" "$(log_of con_t | grep -o 'breaks its contract.*')" \
	"breaks its contract (models/silver/con_t.sql): column 'id': expected int, got bigint; column 'name': expected varchar, got text; column 'amount': expected numeric(10, 2), got numeric; column 'extra' (integer) is extra: not in the model's columns; nothing was changed"
is "the view's error names the missing column" "$(log_of con_v | grep -o 'breaks its contract.*')" \
	"breaks its contract (models/silver/con_v.sql): column 'amount' is missing (expected it); nothing was changed"
is "the old table and view are in place, as they were" "$(sum_of dev_silver.con_t) $(sum_of dev_silver.con_v)" "$before_t $before_v"
echo "select id, name::varchar(20) as name, amount::numeric(10,2) as amount from public.cs" >"$PROJ/models/silver/con_t.sql"
echo "select id, name, amount from public.cs" >"$PROJ/models/silver/con_v.sql"

# an error in the SELECT says where in the compiled SQL
printf 'select id,\n  name,\nfrom public.cs\n' >"$PROJ/models/gold/broken.sql"
pipeline broken broken broken
run_p broken
[ $? -ne 0 ]; ok $? "a model whose SELECT has an error fails"
log_of broken | grep -q "model broken: the model's SELECT: line 3, column 1 of the compiled SQL (sluice compile broken --select): syntax error at or near \"from\""
ok $? "the error says where in the compiled SQL" || { diag <"$T/run.err"; log_of broken | diag; }
rm -f "$PROJ/models/gold/broken.sql" "$PROJ/pipelines/broken.yml"

# ---- targets ------------------------------------------------------------------------------
echo "select 1 as x" >"$PROJ/models/gold/g.sql"
cat >"$PROJ/pipelines/targets.yml" <<'YML'
tasks:
  g_dev: { kind: model, model: g }
  g_pro: { kind: model, model: g, target: pro }
YML
run_p targets
ok $? "one model built on both targets" || { log_of g_dev | diag; log_of g_pro | diag; }
log_of g_pro | grep -q '^created database pro$'
ok $? "the first build on pro created its database on the embedded server" || log_of g_pro | diag
is "dev: dev_gold.g in database dev, no gold schema there" "$(dev "select to_regclass('dev_gold.g') is not null, to_regnamespace('gold') is null")" "t|t"
is "pro: gold.g in database pro, no dev_gold there" "$(pro "select to_regclass('gold.g') is not null, to_regnamespace('dev_gold') is null")" "t|t"

# ---- compile ---------------------------------------------------------------------------------
sl compile people_t >"$T/compile.out" 2>&1
grep -qx 'ALTER TABLE "dev_silver"."people_t" RENAME TO "people_t__sluice_old";' "$T/compile.out" &&
	grep -qx 'CREATE TABLE "dev_silver"."people_t__sluice_new" AS' "$T/compile.out" && grep -qx 'COMMIT;' "$T/compile.out"
ok $? "compile prints the build's statements" || diag <"$T/compile.out"
is "compile --select prints the SELECT alone" "$(sl compile people_t --select)" 'select id, name, city from "dev_silver"."people_v"'
sl compile inc_merge --target pro >"$T/compile.out" 2>&1
grep -q '^MERGE INTO "silver"."inc_merge" AS t USING pg_temp.sluice_batch AS b ON t."id" = b."id"$' "$T/compile.out"
ok $? "compile of an incremental model shows its merge under the target" || diag <"$T/compile.out"

# ---- validate ----------------------------------------------------------------------------------
cat >"$PROJ/pipelines/zz_bad.yml" <<'YML'
tasks:
  a: { kind: model, model: nosuch, target: prod }
  b: { kind: model, full_refresh: yes please }
YML
got=$(cd "$PROJ" && "$SLUICE_BIN" validate 2>&1 | grep '^pipelines/zz_bad' | sort -t: -k2,2n -k3,3n)
is "validate: an unknown model, an unknown target, a missing model key, a wrong type" "$got" \
"pipelines/zz_bad.yml:2:28: error: no model 'nosuch' (no models/**/nosuch.sql)
pipelines/zz_bad.yml:2:44: error: unknown target 'prod' (the project has: dev, pro)
pipelines/zz_bad.yml:3:6: error: task 'b': missing required key 'model'
pipelines/zz_bad.yml:3:35: error: 'full_refresh' must be true or false, got string"
rm -f "$PROJ/pipelines/zz_bad.yml"

rm -rf "$T"
done_testing
