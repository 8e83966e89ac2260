#!/bin/sh
# What the examples needed beside models: a load that creates the schema of
# the table it creates.
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

echo "1..$tap_n"
done_testing
