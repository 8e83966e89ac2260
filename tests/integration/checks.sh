#!/bin/sh
# Checks end to end on the embedded default: every check kind over tables
# made here with known failing rows, thresholds (counts and percentages,
# error_if and warn_if), severity warn against error (the task's state and
# the downstream it holds back), failing rows kept and bounded by limit, the
# results of two runs both kept, a check that cannot run, reconciliation
# with another database finding planted differences and naming their key
# ranges, and `sluice checks` (--json read with python3, exit codes).
. "$SLUICE_SRCDIR/tests/integration/lib.sh"
echo "1..49"
PROJ=$(mkproj checks_it)
trap cleanup EXIT
export PGTZ=UTC
T=$SLUICE_TESTDIR/checks_it.out
mkdir -p "$T"

sl -q up >/dev/null 2>&1
ok $? "sluice up starts the embedded services"
WH=$(sl --json up -q 2>/dev/null | json_get 'j["warehouse"]["address"]')
wh() { psql "$WH" -XAtqc "$1"; }
LEGACY="$WH dbname=legacy"
lg() { psql "$LEGACY" -XAtqc "$1"; }

# ---- the relations the checks look at, in the models' schemas -----------------
wh "create schema shop; create schema lake;
create table shop.customers (id int, name text, updated_at timestamptz);
insert into shop.customers values (1, 'ann', now() - interval '2 hours'), (2, null, now() - interval '2 hours'),
  (3, 'cy', now() - interval '3 hours');
create table shop.orders (id int, status text, customer_id int, amount numeric, day date, updated_at timestamptz);
insert into shop.orders values
 (1, 'new', 1, 10, '2026-01-01', now()), (2, 'paid', 2, 20, '2026-01-01', now()),
 (3, 'shipped', 3, -5, '2026-01-02', now()), (4, 'lost', 1, 30, '2026-01-02', now()),
 (5, 'paid', 9, 40, '2026-01-03', now()), (6, 'weird', 8, 50, '2026-01-03', now()),
 (7, 'new', 1, -1, '2026-01-01', now()), (7, 'new', 2, 5, '2026-01-04', now()),
 (null, 'new', 3, 5, '2026-01-05', now()), (10, null, null, null, '2026-01-06', now());
create table lake.events (id int, loaded_at timestamptz);
insert into lake.events select g, now() - interval '3 hours' from generate_series(1, 5) g;
create table shop.big as select g as id, 'name ' || g as name, (g * 1.5)::numeric(10,2) as amount
  from generate_series(1, 1000) g;
create table shop.same as select g as id, md5(g::text) as v from generate_series(1, 300) g;
create table shop.many as select g as id, null::int as v from generate_series(1, 650) g" >/dev/null &&
wh "create database legacy" >/dev/null &&
lg "create table big_copy as select g as id, 'name ' || g as name, (g * 1.5)::numeric(10,2) as amount
  from generate_series(1, 1000) g;
update big_copy set amount = 0 where id = 537;
delete from big_copy where id = 812;
insert into big_copy values (5000, 'extra', 1);
create table same_copy as select g as id, md5(g::text) as v from generate_series(1, 300) g" >/dev/null
ok $? "the tables to check, here and in another database"

mkdir -p "$PROJ/models/shop" "$PROJ/tests"
for m in orders customers big same many ghost; do echo "select 1 as id" >"$PROJ/models/shop/$m.sql"; done
cat >"$PROJ/models/sources.yml" <<'YML'
sources:
  - name: lake
    loaded_at_field: loaded_at
    freshness: {error_after: 1h}
    tables:
      - name: events
        tests:
          - row_count: {min: 1}
YML
cat >"$PROJ/models/shop/_shop.yml" <<'YML'
models:
  - name: orders
    config: {unique_key: id}
    columns:
      - name: id
        tests: [not_null, unique]
      - name: status
        tests:
          - accepted_values: {values: [new, paid, shipped], warn_if: ">0", error_if: ">5"}
      - name: customer_id
        tests:
          - relationships: {to: "ref('customers')", field: id, error_if: ">10%"}
          - relationships: {to: "ref('customers')", field: id, error_if: ">30%", name: orders.customer_id.rel30}
      - name: amount
        tests:
          - not_null: {where: "status is not null"}
    tests:
      - row_count: {min: 5, max: 100}
      - row_count: {min: 20, name: orders.enough_rows}
      - expression: {expression: "amount >= 0", limit: 2}
      - unique_combination: {columns: [customer_id, day]}
      - freshness: {column: updated_at, warn_after: 1h, error_after: 1d}
  - name: customers
    columns:
      - name: name
        tests:
          - not_null: {severity: warn}
    tests:
      - freshness: {column: updated_at, warn_after: 1h, error_after: 1d}
  - name: big
    tests:
      - reconcile: {connection: default, database: legacy, table: public.big_copy, key: id, leaf: 8}
      - reconcile: {connection: legacy, table: big_copy, key: [id], columns: [name], name: big.names}
  - name: same
    tests:
      - reconcile: {connection: legacy, table: same_copy, key: id, ranges: 4, leaf: 10}
  - name: many
    columns:
      - name: v
        tests:
          - not_null: {limit: 500}
  - name: ghost
    columns:
      - name: id
        tests: [not_null]
YML
cat >"$PROJ/tests/big_amounts.sql" <<'SQL'
-- orders over 35: two of them
select id, amount from {{ ref('orders') }} where amount > 35;
SQL
cat >"$PROJ/connections.yml" <<YML
connections:
  legacy: { dsn: "$LEGACY" }
YML
chmod 600 "$PROJ/connections.yml"
printf 'connections: %s\n' "$PROJ/connections.yml" >>"$PROJ/sluice.yml"

c() { printf '  %s: { kind: check, check: %s }\n' "$1" "$2"; }
{
	echo "tasks:"
	c nn orders.id.not_null
	c uq orders.id.unique
	c av orders.status.accepted_values
	c rel orders.customer_id.relationships
	c rel30 orders.customer_id.rel30
	c amt orders.amount.not_null
	c rc orders.row_count
	c enough orders.enough_rows
	c ex orders.expression
	c uc orders.unique_combination
	c fr orders.freshness
	c cfr customers.freshness
	c cname customers.name.not_null
	c src source.lake.events.freshness
	c srcrc source.lake.events.row_count
	c cu big_amounts
	c many many.v.not_null
	c ghost ghost.id.not_null
	echo "  after_fail: { kind: shell, command: 'echo ran', depends_on: [rel] }"
	echo "  after_warn: { kind: shell, command: 'echo ran', depends_on: [av, cname] }"
} >"$PROJ/pipelines/quality.yml"
{
	echo "tasks:"
	c rec big.reconcile
	c names big.names
	c same same.reconcile
} >"$PROJ/pipelines/recon.yml"

check "validate: a project with check tasks" sl validate

# ---- one run of every check ------------------------------------------------------
sl -q run quality --wait >/dev/null 2>&1
rc=$?
[ $rc -eq 1 ]
ok $? "the run fails: error checks over their thresholds (exit $rc)"
sl --json checks latest --failures 5 >"$T/run1.json"
[ $? -eq 1 ]
ok $? "sluice checks latest --json: exit 1, some failed" || diag <"$T/run1.json"
RUN1=$(json_get 'j["results"][0]["run_id"]' <"$T/run1.json")
# res CHECK: "status failing total kept" of the check in run1.json
res() { python3 - "$T/${2:-run1}.json" "$1" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
for r in j["results"]:
    if r["check"] == sys.argv[2]:
        t = r["total"] if r["total"] is not None else "-"
        print(r["status"], r["failing"], t, r["failures_kept"])
        break
else:
    print("none")
PY
}
is "not_null: 1 failing row of 10" "$(res orders.id.not_null)" "fail 1 10 1"
is "unique: both rows of the repeated id fail" "$(res orders.id.unique)" "fail 2 10 2"
is "accepted_values: 2 rows, over warn_if >0, under error_if >5: warn" "$(res orders.status.accepted_values)" "warn 2 10 2"
is "relationships: 2 of the 9 rows with a customer (22%) is over error_if >10%" "$(res orders.customer_id.relationships)" "fail 2 9 2"
is "relationships: 22% is under error_if >30%, over warn_if !=0: warn" "$(res orders.customer_id.rel30)" "warn 2 9 2"
is "not_null with where: the row without a status is not checked" "$(res orders.amount.not_null)" "pass 0 9 0"
is "row_count between 5 and 100: pass" "$(res orders.row_count)" "pass 0 - 0"
is "row_count min 20 over 10 rows: fail" "$(res orders.enough_rows)" "fail 1 - 1"
is "expression: 3 rows are not amount >= 0 (NULL counts), 2 kept by limit" "$(res orders.expression)" "fail 3 10 2"
is "unique_combination: the two rows of (1, 2026-01-01)" "$(res orders.unique_combination)" "fail 2 10 2"
is "freshness: updated now, within warn_after 1h" "$(res orders.freshness)" "pass 0 10 0"
is "freshness: 2 hours old, over warn_after 1h, under error_after 1d: warn" "$(res customers.freshness)" "warn 1 3 1"
is "severity warn: a failing not_null is a warn" "$(res customers.name.not_null)" "warn 1 3 1"
is "source freshness: 3 hours old, over error_after 1h" "$(res source.lake.events.freshness)" "fail 1 5 1"
is "a source table's own test (row_count)" "$(res source.lake.events.row_count)" "pass 0 - 0"
is "a tests/ file: the rows its SELECT returns fail" "$(res big_amounts)" "fail 2 - 2"
is "limit 500: 650 failing rows, 500 kept" "$(res many.v.not_null)" "fail 650 650 500"
got=$(python3 - "$T/run1.json" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    if r["check"] == "ghost.id.not_null":
        print(r["status"], "does not exist" in (r["error"] or ""), r["failing"])
PY
)
is "a check on a relation that is not there: status error, the server's message kept" "$got" "error True None"

# the failing rows: key, column, the row
got=$(python3 - "$T/run1.json" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    if r["check"] == "orders.status.accepted_values":
        print(";".join("%s|%s|%s" % (f["key"]["id"], f["column"], f["values"]["status"]) for f in r["failures"]))
PY
)
is "accepted_values keeps each failing row with its key and column" "$got" "4|status|lost;6|status|weird"
got=$(python3 - "$T/run1.json" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    if r["check"] == "orders.id.not_null":
        f = r["failures"][0]
        print(f["key"], f["column"], f["values"]["day"], "IS NULL" in r["sql"], r["threshold"])
PY
)
is "not_null: the row with its (null) key, the SQL it ran, the threshold" "$got" "{'id': None} id 2026-01-05 True error_if !=0, warn_if !=0"

# task states: error over threshold fails and holds its downstream back; warn does not
states=$(sl --json status "$RUN1" | python3 -c '
import json, sys
j = json.load(sys.stdin)
t = {x["task"]: x["state"] for x in j["tasks"]}
print(" ".join(t[k] for k in ["nn", "av", "rel", "rel30", "cname", "ghost", "after_fail", "after_warn"]))')
is "task states: fail fails, warn succeeds, error fails; downstream held back only by the failed one" "$states" \
	"failed success failed success success failed upstream_failed success"
sl logs "$RUN1" nn >"$T/nn.log" 2>&1
grep -q '^check orders.id.not_null: fail: 1 failing row of 10 (error_if !=0, warn_if !=0)' "$T/nn.log" &&
	grep -q '^  1\. key {"id": null}  column id: ' "$T/nn.log"
ok $? "the task log shows the result line and the first failing rows" || diag <"$T/nn.log"
sl logs "$RUN1" many >"$T/many.log" 2>&1
[ "$(grep -c '^  [0-9]*\. key' "$T/many.log")" -eq 10 ] && grep -q "500 kept of 650: sluice checks $RUN1 many.v.not_null" "$T/many.log"
ok $? "the log shows the first 10 of many failing rows and where the rest are" || diag <"$T/many.log"

# ---- a second run: both kept, never overwritten -------------------------------------
wh "update shop.orders set id = 11 where id is null" >/dev/null
sl -q run quality --wait >/dev/null 2>&1
RUN2=$(sl --json checks latest | json_get 'j["results"][0]["run_id"]')
[ "$RUN2" != "$RUN1" ]
ok $? "a second run ($RUN2 after $RUN1)"
sl --json checks "$RUN1" --failures 5 >"$T/r1.json"
sl --json checks "$RUN2" --failures 5 >"$T/r2.json"
is "run 1's not_null result is still there" "$(res orders.id.not_null r1)" "fail 1 10 1"
is "run 2's not_null passes now" "$(res orders.id.not_null r2)" "pass 0 10 0"
n=$(state_sql "select count(*) from sluice.check_results where check_name = 'orders.id.not_null'")
f=$(state_sql "select count(*) from sluice.check_failures f join sluice.check_results r on r.id = f.result_id where r.check_name = 'orders.id.not_null'")
is "two results of the check kept, the first one's failing row too" "$n $f" "2 1"
got=$(sl --json checks orders.id.not_null | json_get '" ".join(j["results"][0]["recent"])')
is "the recent results of a check, oldest first" "$got" "fail pass"

# ---- sluice checks: text and exit codes -------------------------------------------------
sl checks "$RUN2" >"$T/text.out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -Eq '^orders\.status\.accepted_values +warn +2 +10 ' "$T/text.out"
ok $? "sluice checks RUN: a table of results, exit 1 when one failed (exit $rc)" || diag <"$T/text.out"
sl checks "$RUN2" orders.freshness >/dev/null 2>&1
ok $? "sluice checks RUN CHECK: exit 0 when it passed"
sl checks no.such.check >/dev/null 2>"$T/nosuch.err"
rc=$?
[ $rc -eq 1 ] && grep -q "no results for check 'no.such.check'" "$T/nosuch.err"
ok $? "sluice checks with an unknown check: exit 1 and says so" || diag <"$T/nosuch.err"
sl checks 99999 >/dev/null 2>&1
[ $? -eq 1 ]
ok $? "sluice checks with an unknown run: exit 1"
sl checks --failures x >/dev/null 2>&1
[ $? -eq 2 ]
ok $? "a bad --failures is a usage error (exit 2)"
[ "$(sl --json checks "$RUN2" orders.id.unique --failures 1 | json_get 'len(j["results"][0]["failures"])')" = 1 ]
ok $? "--failures N bounds the rows shown"

# ---- reconciliation ---------------------------------------------------------------------
sl -q run recon --wait >/dev/null 2>&1
[ $? -eq 1 ]
ok $? "the reconciliation run fails: differences were planted"
sl --json checks latest --failures 10 >"$T/rec.json"
is "reconcile: 3 differing rows of 1000" "$(res big.reconcile rec)" "fail 3 1000 3"
got=$(python3 - "$T/rec.json" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    if r["check"] == "big.reconcile":
        d = r["detail"]
        print(d["here_rows"], d["there_rows"], d["missing_there"], d["missing_here"], d["changed"])
        for x in r["failures"]:
            print(x["key"]["id"], x["column"], "here" in x["values"], "there" in x["values"])
PY
)
is "reconcile: counts, and each differing key with what differs" "$got" "1000 1000 1 1 1
537 amount True True
812 None True False
5000 None False True"
got=$(python3 - "$T/rec.json" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    if r["check"] == "big.reconcile":
        for x in r["detail"]["ranges"]:
            lo = int(x["from"][0]) if x["from"] else None
            hi = int(x["to"][0]) if x["to"] else None
            if lo is not None and hi is not None and lo <= 537 < hi:
                print("found", hi - lo <= 8, x["here"], x["there"], x["differing"])
PY
)
is "reconcile names the small key range holding the changed row" "$got" "found True 4 4 1"
sl logs latest rec >"$T/rec.log" 2>&1
grep -Eq '^reconcile: range id >= [0-9]+ and id < [0-9]+ differs: 4 rows here, 3 there, 1 differing$' "$T/rec.log"
ok $? "the task log names the range of the deleted row" || diag <"$T/rec.log"
is "reconcile on a connection of connections.yml, columns given: the changed amount is not compared" \
	"$(res big.names rec)" "fail 2 1000 2"
is "reconcile of equal tables: pass" "$(res same.reconcile rec)" "pass 0 300 0"
q=$(python3 -c 'import json,sys
for r in json.load(open(sys.argv[1]))["results"]:
    if r["check"] == "same.reconcile": print(r["detail"]["queries"])' "$T/rec.json")
[ "$q" -le 6 ]
ok $? "equal tables cost a count, a cut and one hash per side ($q statements)"

# ---- validation -----------------------------------------------------------------------------
cat >"$PROJ/pipelines/bad.yml" <<'YML'
tasks:
  typo: { kind: check, check: orders.id.not_nul }
  tgt: { kind: check, check: orders.id.unique, target: nosuch }
YML
sl validate >"$T/bad.out" 2>&1
rc=$?
[ $rc -eq 3 ] && grep -q "pipelines/bad.yml:2:.*no check 'orders.id.not_nul'; did you mean 'orders.id.not_null'?" "$T/bad.out" &&
	grep -q "pipelines/bad.yml:3:.*no target 'nosuch'" "$T/bad.out"
ok $? "validate: an unknown check (with the nearest) and an unknown target at file:line:col" || diag <"$T/bad.out"
rm -f "$PROJ/pipelines/bad.yml"
cat >>"$PROJ/models/shop/_shop.yml" <<'YML'
  - name: same2
    tests:
      - reconcile: {table: x}
YML
echo "select 1" >"$PROJ/models/shop/same2.sql"
sl validate >"$T/bad2.out" 2>&1
grep -q "reconcile needs 'connection'" "$T/bad2.out" && grep -q "reconcile needs 'key'" "$T/bad2.out"
ok $? "validate: a reconcile without connection or key says what it needs" || diag <"$T/bad2.out"

done_testing
