#!/bin/sh
# Models without a server: `sluice validate` over models/ and tests/ (every
# error at file:line:col, cycles printed, nearest names), `sluice compile`
# (refs resolved to the target's quoted relations), `sluice models` with
# dbt selectors and --json, targets with seed 002's schema rule.
. "$SLUICE_SRCDIR/tests/integration/lib.sh"

T=$SLUICE_TESTDIR/models
rm -rf "$T"
mkdir -p "$T"
export USER=tester

echo "1..33"

# run NAME DIR ARGS...: sluice in DIR (paths print short); stdout in
# $T/NAME.out, stderr in $T/NAME.err, exit status in $rc
run() {
	name=$1 dir=$2; shift 2
	(cd "$dir" && "$SLUICE_BIN" "$@") >"$T/$name.out" 2>"$T/$name.err"
	rc=$?
}

has() {
	grep -qxF -- "$2" "$1" && return 0
	{ printf 'no line:\n%s\nin %s:\n' "$2" "$1"; cat "$1"; } | diag
	return 1
}

# ---- a valid project: seed 002's layers and targets
P=$T/good
mkdir -p "$P/models/bronze" "$P/models/silver" "$P/models/gold" "$P/tests"
cat >"$P/sluice.yml" <<'YML'
name: forex
target: dev
targets:
  dev:
    connection: default
    database: dev
    schema: "{{ env_var('USER') }}_{{ model.folder }}"
  pro:
    connection: default
    database: pro
    schema: "{{ model.folder }}"
vars:
  since: '2024-01-01'
YML
cat >"$P/models/sources.yml" <<'YML'
version: 2
sources:
  - name: lake
    schema: public
    loaded_at_field: load_timestamp
    freshness: {warn_after: 12h, error_after: 24h}
    tables:
      - name: customer_transactions
YML
cat >"$P/models/bronze/_bronze.yml" <<'YML'
config:
  materialized: view
  tags: [bronze]
YML
cat >"$P/models/bronze/brz_transactions.sql" <<'SQL'
select * from {{ source('lake', 'customer_transactions') }}
SQL
cat >"$P/models/silver/_silver.yml" <<'YML'
config:
  materialized: incremental
  incremental_strategy: merge
  tags: [silver]
models:
  - name: slv_transactions
    config:
      unique_key: transaction_id
    columns:
      - name: transaction_id
        type: text
        tests: [not_null, unique]
      - name: customer_id
        tests:
          - relationships: {to: "ref('dim_customers')", field: customer_id}
YML
cat >"$P/models/silver/slv_transactions.sql" <<'SQL'
select t.*, now() as load_timestamp
from {{ ref('brz_transactions') }} t
where t.tx_date >= '{{ var("since") }}'
{%- if is_incremental() %}
  and t.load_timestamp > (select max(load_timestamp) from {{ this }})
{%- endif %}
SQL
cat >"$P/models/gold/dim_customers.sql" <<'SQL'
{{ config(materialized='table') }}
select distinct customer_id from {{ ref('brz_transactions') }}
SQL
cat >"$P/models/gold/fct_sales.sql" <<'SQL'
select * from {{ ref('slv_transactions') }} join {{ ref('dim_customers') }} using (customer_id)
SQL
cat >"$P/tests/no_future_dates.sql" <<'SQL'
{{ config(severity='warn') }}
select * from {{ ref('slv_transactions') }} where tx_date > now()
SQL

run good "$P" validate
[ "$rc" -eq 0 ]; ok $? "validate: exit 0" || cat "$T/good.err" | diag
has "$T/good.out" "ok: project forex, 0 pipelines, 0 tasks, 4 models, 5 checks"; ok $? "validate: models and checks counted"

run goodj "$P" validate --json
python3 -c 'import json,sys; j=json.load(sys.stdin); assert j["ok"] and j["models"] == 4 and j["checks"] == 5, j' <"$T/goodj.out"
ok $? "validate --json: models and checks"

run list "$P" models
[ "$rc" -eq 0 ]; ok $? "models: exit 0" || cat "$T/list.err" | diag
is "models: a header" "$(head -n1 "$T/list.out" | tr -s ' ')" "NAME MATERIALIZED SCHEMA UPSTREAM DOWNSTREAM"
is "models: a row" "$(grep '^fct_sales ' "$T/list.out" | tr -s ' ')" "fct_sales view tester_gold slv_transactions,dim_customers -"
# each model after what it reads
order=$(awk 'NR > 1 {print $1}' "$T/list.out" | paste -sd' ' -)
is "models: in the order they build" "$order" "brz_transactions dim_customers slv_transactions fct_sales"

run listj "$P" models --json
python3 - "$T/listj.out" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["target"] == "dev", j
m = {x["name"]: x for x in j["models"]}
assert list(m) == ["brz_transactions", "dim_customers", "slv_transactions", "fct_sales"], list(m)
s = m["slv_transactions"]
assert s["materialized"] == "incremental" and s["incremental_strategy"] == "merge", s
assert s["unique_key"] == ["transaction_id"], s
assert s["schema"] == "tester_silver" and s["relation"] == '"tester_silver"."slv_transactions"', s
assert s["path"] == "models/silver/slv_transactions.sql", s
assert s["tags"] == ["silver"], s
assert s["upstream"] == ["brz_transactions"] and s["downstream"] == ["fct_sales"], s
assert s["checks"] == ["slv_transactions.transaction_id.not_null", "slv_transactions.transaction_id.unique",
                       "slv_transactions.customer_id.relationships", "no_future_dates"], s["checks"]
b = m["brz_transactions"]
assert b["sources"] == ["lake.customer_transactions"] and b["schema"] == "tester_bronze", b
assert sorted(b["downstream"]) == ["dim_customers", "slv_transactions"], b
assert m["dim_customers"]["materialized"] == "table" and m["dim_customers"]["schema"] == "tester_gold"
assert m["fct_sales"]["materialized"] == "view", m["fct_sales"]
PY
ok $? "models --json: materialization, schema, upstream, downstream, checks"

run pro "$P" models --json --target pro
python3 -c 'import json,sys; j=json.load(sys.stdin); assert j["target"] == "pro" and [m["schema"] for m in j["models"]] == ["bronze", "gold", "silver", "gold"], j' <"$T/pro.out"
ok $? "models --target pro: schemas are the folders"

run sel "$P" models --json '+fct_sales' --exclude tag:bronze
python3 -c 'import json,sys; j=json.load(sys.stdin); assert [m["name"] for m in j["models"]] == ["dim_customers", "slv_transactions", "fct_sales"], j' <"$T/sel.out"
ok $? "models +name --exclude tag:x"

run sel2 "$P" models --json 'path:models/silver,tag:silver' 'brz_transactions+1'
python3 -c 'import json,sys; j=json.load(sys.stdin); assert [m["name"] for m in j["models"]] == ["brz_transactions", "dim_customers", "slv_transactions"], j' <"$T/sel2.out"
ok $? "models: an intersection and a union"

run selbad "$P" models fct_sale
[ "$rc" -eq 2 ]; ok $? "models with an unknown name: exit 2"
has "$T/selbad.err" "sluice models: selector 'fct_sale': no model 'fct_sale'; did you mean 'fct_sales'?"
ok $? "models: the nearest model named"

run comp "$P" compile slv_transactions --select
[ "$rc" -eq 0 ]; ok $? "compile: exit 0" || cat "$T/comp.err" | diag
is "compile: refs, this and vars resolved; is_incremental() true" "$(cat "$T/comp.out")" \
'select t.*, now() as load_timestamp
from "tester_bronze"."brz_transactions" t
where t.tx_date >= '"'2024-01-01'"'
  and t.load_timestamp > (select max(load_timestamp) from "tester_silver"."slv_transactions")'

run compf "$P" compile slv_transactions --full-refresh --target pro --select
is "compile --full-refresh --target pro" "$(cat "$T/compf.out")" \
'select t.*, now() as load_timestamp
from "bronze"."brz_transactions" t
where t.tx_date >= '"'2024-01-01'"

run compb "$P" compile brz_transactions --target=pro --select
is "compile: a source as its schema and table" "$(cat "$T/compb.out")" 'select * from "public"."customer_transactions"'

run compj "$P" compile dim_customers --json
python3 -c 'import json,sys; j=json.load(sys.stdin); assert j["relation"] == "\"tester_gold\".\"dim_customers\"" and j["materialized"] == "table" and j["incremental"] is False and "\"tester_bronze\".\"brz_transactions\"" in j["sql"], j' <"$T/compj.out"
ok $? "compile --json"

run compu "$P" compile dim_customer
[ "$rc" -eq 2 ] && has "$T/compu.err" "sluice compile: no model 'dim_customer'; did you mean 'dim_customers'?"
ok $? "compile: an unknown model is exit 2 with the nearest name"

run compt "$P" compile fct_sales --target prod
[ "$rc" -eq 2 ] && has "$T/compt.err" "sluice compile: unknown target 'prod' (the project has: dev, pro)"
ok $? "compile: an unknown target is exit 2 naming the targets"

(cd "$P" && env -u USER "$SLUICE_BIN" compile fct_sales) >"$T/nouser.out" 2>"$T/nouser.err"
rc=$?
[ "$rc" -eq 3 ] && has "$T/nouser.err" "sluice.yml:7:13: target 'dev': schema rule: environment variable 'USER' is not set (and env_var() gives no default)"
ok $? "compile: the rule's env_var not set, said at the rule's place"

run help1 "$P" compile --help
[ "$rc" -eq 0 ] && grep -q '^usage: sluice \[-C DIR\] compile MODEL' "$T/help1.out"; ok $? "compile --help"
run help2 "$P" models --help
[ "$rc" -eq 0 ] && grep -q '^usage: sluice \[-C DIR\] models' "$T/help2.out"; ok $? "models --help"

# ---- a broken project: every error at once, each at file:line:col
B=$T/broken
mkdir -p "$B/models/a" "$B/tests"
printf 'name: broken\n' >"$B/sluice.yml"
cat >"$B/models/a/one.sql" <<'SQL'
select 1
from {{ refs('two') }}
{% if is_incremental() %}
where x > 1
SQL
cat >"$B/models/a/two.sql" <<'SQL'
select * from {{ ref('three') }}
SQL
cat >"$B/models/a/three.sql" <<'SQL'
select * from {{ ref('two') }}, {{ ref('on') }}
{{ config(materialized='tabel') }}
SQL
cat >"$B/models/a/m.yml" <<'YML'
models:
  - name: one
    columns:
      - name: id
        tests: [not_nul]
YML
cat >"$B/tests/t.sql" <<'SQL'
select * from {{ ref('tow') }}
SQL
run bad "$B" validate
[ "$rc" -eq 3 ]; ok $? "broken: exit 3"
E=$T/bad.err
has "$E" "models/a/one.sql:2:9: error: unknown function 'refs' (did you mean ref?)"; ok $? "unknown function with a suggestion"
has "$E" "models/a/one.sql:5:1: error: unclosed {% if %} opened at 3:1 (no {% endif %})"; ok $? "unclosed if"
has "$E" "models/a/three.sql:1:18: error: cycle: three -> two -> three"; ok $? "a cycle printed"
has "$E" "models/a/three.sql:1:36: error: ref('on'): no model 'on'; did you mean 'one'?"; ok $? "unknown ref names the nearest model"
has "$E" "models/a/three.sql:2:24: error: 'materialized' must be one of view, table, incremental, snapshot, got 'tabel'; did you mean 'table'?"
ok $? "config() value at its place"
has "$E" "models/a/m.yml:5:17: error: unknown test 'not_nul'; did you mean 'not_null'?"; ok $? "a check in YAML"
has "$E" "tests/t.sql:1:18: error: ref to unknown model 'tow'; did you mean 'two'?"; ok $? "a custom test's ref"
has "$E" "7 errors in project $(cd "$B" && pwd -P)"; ok $? "all of them at once"

run badc "$B" compile two
[ "$rc" -eq 3 ] && grep -q 'error: cycle: three -> two -> three' "$T/badc.err"; ok $? "compile on a broken project: exit 3 with the errors"

done_testing
