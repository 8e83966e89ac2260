#!/bin/sh
# What the examples needed beside models: a load that creates the schema of
# the table it creates, and `sluice status` with long task names.
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

echo "1..$tap_n"
done_testing
