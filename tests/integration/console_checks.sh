#!/bin/sh
# The console's checks, the real binary in tmux: `:checks` lists the latest
# result of every check with a strip of its recent results, Enter opens the
# task instance on its failing rows, paged through 500 of them, `v` switches
# to the log and back, and an ASCII locale draws the statuses in ASCII.
. "$SLUICE_SRCDIR/tests/integration/lib.sh"
. "$SLUICE_SRCDIR/tests/integration/consolelib.sh"
console_plan 12

PROJ=$(mkproj console_checks_it)
sl -q up >/dev/null 2>&1
WH=$(sl --json up -q 2>/dev/null | json_get 'j["warehouse"]["address"]')
psql "$WH" -XAtqc "create schema shop;
create table shop.items as select g as id, case when g % 2 = 0 then null else g end as price
  from generate_series(1, 1000) g;
create table shop.tags as select g as id from generate_series(1, 10) g" >/dev/null
ok $? "the tables to check"
mkdir -p "$PROJ/models/shop"
echo "select 1 as id" >"$PROJ/models/shop/items.sql"
echo "select 1 as id" >"$PROJ/models/shop/tags.sql"
cat >"$PROJ/models/shop/_shop.yml" <<'YML'
models:
  - name: items
    config: {unique_key: id}
    columns:
      - name: price
        tests:
          - not_null: {limit: 500}
  - name: tags
    columns:
      - name: id
        tests: [unique]
YML
cat >"$PROJ/pipelines/quality.yml" <<'YML'
tasks:
  prices: { kind: check, check: items.price.not_null }
  tags: { kind: check, check: tags.id.unique }
YML
sl -q run quality --wait >/dev/null 2>&1
sl -q run quality --wait >/dev/null 2>&1
[ "$(sl --json checks | json_get 'len(j["results"])')" = 2 ]
ok $? "two runs of two checks"

console main
wait_screen main "PIPELINE .*SCHEDULE"
keys main : checks Enter
wait_screen main "CHECK +STATUS +FAILING / ROWS +RECENT"
ok $? ":checks opens the checks view"
wait_screen main "items\.price\.not_null +✗ fail +500 / 1000 +✗✗ "
ok $? "a failing check: its status, failing rows of rows checked, and its recent results (✗✗)"
shot main | grep -Eq "tags\.id\.unique +✓ pass +0 / 10 +✓✓ "
ok $? "a passing check with its strip (✓✓)" || diag <"$SHOT"

keys main / price Enter
wait_screen main "checks /price"
keys main Enter
wait_screen main "failing rows, try 1"
ok $? "Enter opens the task instance on its failing rows"
wait_screen main "items\.price\.not_null fail: 500 failing rows of 1000 \(error_if !=0, warn_if !=0\), 500 kept"
ok $? "the result line: status, counts, thresholds, rows kept"
shot main | grep -Eq '^ +1 key \{"id": 2\}  column price  \{"id": 2, "price": null\}'
ok $? "the first failing row with its key, column and values" || diag <"$SHOT"
keys main G
wait_screen main '^ *500 key \{"id": 1000\}'
ok $? "G pages to the last row kept (fetched a page at a time)"
keys main g
wait_screen main '^ +1 key \{"id": 2\}'
ok $? "g back to the first"
keys main v
wait_screen main "log, try 1 │ lines"
r1=$?
shot main | grep -q "check items.price.not_null: fail: 500 failing rows of 1000"
ok $(( r1 | $? )) "v shows the log, with the result line" || diag <"$SHOT"
keys main q q q
sleep 0.5

# ---- an ASCII locale ---------------------------------------------------------------
console ascii LANG=C LC_ALL=C
wait_screen ascii "PIPELINE"
keys ascii : checks Enter
wait_screen ascii "items\.price\.not_null +x fail +500 / 1000 +xx "
ok $? "in an ASCII locale the statuses are x and + (no UTF-8)"

done_testing
