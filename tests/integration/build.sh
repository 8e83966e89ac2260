#!/bin/sh
# Models as runs on the embedded default: `sluice build` of six models over
# four layers and their checks (in the order of their refs, +mart selecting
# upstream), an error check holding back its downstream while a warn does
# not, `kind: models` in a pipeline expanded into a task per model and per
# check (status shows each, the pipeline's own tasks before and after),
# retry and clear of one model with the downstream the graph gives, and
# --target pro on build and on run putting every model in pro's database.
. "$SLUICE_SRCDIR/tests/integration/lib.sh"
echo "1..51"
PROJ=$(mkproj build_it)
trap cleanup EXIT
export PGTZ=UTC
T=$SLUICE_TESTDIR/build_it.out
mkdir -p "$T"

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
dev() { psql "$WH dbname=dev" -XAtqc "$1"; }
pro() { psql "$WH dbname=pro" -XAtqc "$1"; }
LAKE="create schema lake;
create table lake.customers (id int, name text);
insert into lake.customers values (1, 'ann'), (2, 'bob'), (3, 'cy');
create table lake.orders (id int, customer_id int, amount numeric);
insert into lake.orders values (1, 1, 10), (2, 1, 5), (3, 2, 7), (4, 3, null)"
psql "$WH" -XAtqc "create database dev" >/dev/null && psql "$WH" -XAtqc "create database pro" >/dev/null &&
	dev "$LAKE" >/dev/null && pro "$LAKE" >/dev/null
ok $? "the lake's tables in the databases of both targets"

mkdir -p "$PROJ/models/bronze" "$PROJ/models/silver" "$PROJ/models/gold" "$PROJ/models/mart" "$PROJ/models/other"
cat >"$PROJ/models/sources.yml" <<'YML'
sources:
  - name: lake
    tables: [{name: customers}, {name: orders}]
YML
echo "select id, customer_id, amount from {{ source('lake', 'orders') }}" >"$PROJ/models/bronze/orders_b.sql"
echo "select id, name from {{ source('lake', 'customers') }}" >"$PROJ/models/bronze/customers_b.sql"
cat >"$PROJ/models/silver/_silver.yml" <<'YML'
config:
  materialized: table
models:
  - name: customers_s
    columns:
      - name: id
        tests: [not_null, unique]
  - name: orders_s
    columns:
      - name: amount
        tests: [{not_null: {severity: warn}}]
YML
echo "select * from {{ ref('orders_b') }}" >"$PROJ/models/silver/orders_s.sql"
echo "select * from {{ ref('customers_b') }}" >"$PROJ/models/silver/customers_s.sql"
cat >"$PROJ/models/gold/fct_orders.sql" <<'SQL'
{{ config(materialized='table') }}
select o.id, o.amount, c.name
from {{ ref('orders_s') }} o join {{ ref('customers_s') }} c on c.id = o.customer_id
SQL
cat >"$PROJ/models/gold/_gold.yml" <<'YML'
models:
  - name: fct_orders
    columns:
      - name: id
        tests: [unique]
YML
echo "select name, sum(amount) as total from {{ ref('fct_orders') }} group by name" >"$PROJ/models/mart/mart_sales.sql"
echo "select 1 as x" >"$PROJ/models/other/lonely.sql"

sl validate >"$T/validate.out" 2>&1
ok $? "the project validates" || diag <"$T/validate.out"

# build ARGS...: sluice build, its JSON in $T/build.json, its id in $RUN
build() {
	sl --json build "$@" >"$T/build.json" 2>"$T/build.err"
	brc=$?
	RUN=$(json_get 'j["run_id"]' <"$T/build.json" 2>/dev/null)
	return $brc
}
# tasks: "task=state" of the last build, sorted
tasks() { json_get '" ".join(t["task"] + "=" + t["state"] for t in sorted(j["tasks"], key=lambda t: t["task"]))' <"$T/build.json"; }
# after A B: task B of the last build started after A ended
after() {
	json_get "(lambda t: t['$2']['started_at'] >= t['$1']['ended_at'])({x['task']: x for x in j['tasks']})" <"$T/build.json"
}
status_json() { sl --json status "$1" >"$T/build.json" 2>"$T/status.err"; }

# ---- every model and check -----------------------------------------------------------
build
ok $? "sluice build builds every model and runs every check" || { diag <"$T/build.err"; diag <"$T/build.json"; }
is "one task per model and per check, in run 'build'" \
	"$(json_get 'j["pipeline"]' <"$T/build.json") $(tasks)" \
	"build customers_b=success customers_s=success customers_s.id.not_null=success customers_s.id.unique=success fct_orders=success fct_orders.id.unique=success lonely=success mart_sales=success orders_b=success orders_s=success orders_s.amount.not_null=success"
is "each model is in its layer's schema of dev" \
	"$(dev "select string_agg(n.nspname || '.' || c.relname || ':' || c.relkind::text, ' ' order by n.nspname, c.relname)
	        from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname like 'dev\_%'")" \
	"dev_bronze.customers_b:v dev_bronze.orders_b:v dev_gold.fct_orders:r dev_mart.mart_sales:v dev_other.lonely:v dev_silver.customers_s:r dev_silver.orders_s:r"
is "the mart reads through every layer" "$(dev "select string_agg(name || '=' || coalesce(total::text, '-'), ' ' order by name) from dev_mart.mart_sales")" \
	"ann=15 bob=7 cy=-"
is "models after the models they read" "$(after orders_b orders_s) $(after orders_s fct_orders) $(after customers_s fct_orders) $(after fct_orders mart_sales)" \
	"True True True True"
is "checks after their model; the model's downstream after its error checks" \
	"$(after customers_s customers_s.id.unique) $(after customers_s.id.unique fct_orders) $(after customers_s.id.not_null fct_orders)" \
	"True True True"
is "the run keeps what was asked" "$(json_get 'j["params"]' <"$T/build.json")" "{}"
sl checks "$RUN" orders_s.amount.not_null >"$T/checks.out" 2>&1
grep -q warn "$T/checks.out"
ok $? "the warn check found the NULL amount and says warn" || diag <"$T/checks.out"

# ---- a selection ----------------------------------------------------------------------
build +mart_sales
ok $? "sluice build +mart_sales" || diag <"$T/build.err"
is "+mart_sales: the mart, all it reads and their checks, not lonely" "$(tasks)" \
	"customers_b=success customers_s=success customers_s.id.not_null=success customers_s.id.unique=success fct_orders=success fct_orders.id.unique=success mart_sales=success orders_b=success orders_s=success orders_s.amount.not_null=success"
is "the run keeps its selection" "$(json_get 'j["params"]["select"]' <"$T/build.json")" "+mart_sales"
build fct_orders --exclude customers_b
is "one model: its task and its check" "$(tasks)" "fct_orders=success fct_orders.id.unique=success"
build "path:models/bronze,fct_orders"
is "a selection that picks nothing is a usage error" "$brc" 2
build mart_sale
is "an unknown model: exit 2" "$brc" 2
grep -q "sluice build: selector 'mart_sale': no model 'mart_sale'; did you mean 'mart_sales'?" "$T/build.err"
ok $? "an unknown model names the nearest" || diag <"$T/build.err"
build lonely --target nope
is "an unknown target: exit 2" "$brc" 2
grep -q "unknown target 'nope' (the project has: dev, pro)" "$T/build.err"
ok $? "an unknown target names the project's" || diag <"$T/build.err"

# ---- an error check holds back its downstream; a warn does not -------------------------
dev "insert into lake.customers values (3, 'cy again')" >/dev/null
build +mart_sales
is "a failing error check fails the build" "$brc" 1
is "its downstream is held back; the warn's is not" "$(tasks)" \
	"customers_b=success customers_s=success customers_s.id.not_null=success customers_s.id.unique=failed fct_orders=upstream_failed fct_orders.id.unique=upstream_failed mart_sales=upstream_failed orders_b=success orders_s=success orders_s.amount.not_null=success"
dev "delete from lake.customers where name = 'cy again'" >/dev/null
# the check reads the table customers_s, built before the fix: rebuild it too
sl clear "$RUN" customers_s --downstream >"$T/clear.out" 2>&1
ok $? "clear customers_s --downstream" || diag <"$T/clear.out"
is "clear takes the model, its checks and what reads it" \
	"$(sed -n 's/^  \([^ ]*\) .*/\1/p' "$T/clear.out" | sort | tr '\n' ' ')" \
	"customers_s customers_s.id.not_null customers_s.id.unique fct_orders fct_orders.id.unique mart_sales "
wait_for 60 sh -c "'$SLUICE_BIN' -C '$PROJ' status $RUN | head -1 | grep -q success"
ok $? "the run finishes successfully after the fix"
status_json "$RUN"
is "the cleared model ran again; what it held back ran once, the rest once" \
	"$(json_get '" ".join(sorted(t["task"] + ":" + str(t["try"]) for t in j["tasks"] if t["task"] in ("orders_s", "customers_s", "mart_sales")))' <"$T/build.json")" \
	"customers_s:2 mart_sales:1 orders_s:1"

# ---- kind: models in a pipeline --------------------------------------------------------
cat >"$PROJ/pipelines/nightly.yml" <<'YML'
tasks:
  prep: {kind: shell, command: "echo prep"}
  dbt:
    kind: models
    select: "+mart_sales"
    exclude: "orders_b"
    depends_on: [prep]
  report: {kind: shell, command: "echo done", depends_on: [dbt]}
YML
sl validate >"$T/validate.out" 2>&1
has_v=$(cat "$T/validate.out")
is "validate counts the expanded tasks" "$has_v" "ok: project build_it, 1 pipeline, 11 tasks, 7 models, 4 checks"
sl --json run nightly --wait >"$T/build.json" 2>"$T/run.err"
ok $? "the pipeline runs" || { diag <"$T/run.err"; diag <"$T/build.json"; }
RUN=$(json_get 'j["run_id"]' <"$T/build.json")
is "status shows the pipeline's tasks and one per model and check" "$(tasks)" \
	"customers_b=success customers_s=success customers_s.id.not_null=success customers_s.id.unique=success fct_orders=success fct_orders.id.unique=success mart_sales=success orders_s=success orders_s.amount.not_null=success prep=success report=success"
sl status "$RUN" >"$T/status.out" 2>&1
grep -q "fct_orders.id.unique" "$T/status.out" && grep -q "customers_b" "$T/status.out"
ok $? "sluice status RUN lists the model and check tasks" || diag <"$T/status.out"
edges=$(state_sql "select string_agg(upstream || '>' || downstream, ' ' order by upstream, downstream)
                   from sluice.task_edges where run_id = $RUN and (upstream = 'prep' or downstream = 'report')")
is "the group's depends_on to its roots, its downstream from its leaves" "$edges" \
	"mart_sales>report orders_s.amount.not_null>report prep>customers_b prep>orders_s"
is "the tasks keep the group's place: a model after prep, report after the mart" \
	"$(after prep customers_b) $(after mart_sales report)" "True True"

# a model that fails, retried with its downstream
dev "alter table lake.customers rename to customers_gone" >/dev/null
sl --json run nightly --wait >"$T/build.json" 2>"$T/run.err"
is "a model that cannot build fails the run" "$?" 1
RUN=$(json_get 'j["run_id"]' <"$T/build.json")
is "it fails, what reads it waits upstream_failed, the rest runs" "$(tasks)" \
	"customers_b=failed customers_s=upstream_failed customers_s.id.not_null=upstream_failed customers_s.id.unique=upstream_failed fct_orders=upstream_failed fct_orders.id.unique=upstream_failed mart_sales=upstream_failed orders_s=success orders_s.amount.not_null=success prep=success report=upstream_failed"
dev "alter table lake.customers_gone rename to customers" >/dev/null
sl retry "$RUN" customers_b >"$T/retry.out" 2>&1
ok $? "sluice retry RUN customers_b" || diag <"$T/retry.out"
is "retry takes the model and the downstream it held back" \
	"$(sed -n 's/^  \([^ ]*\) .*/\1/p' "$T/retry.out" | sort | tr '\n' ' ')" \
	"customers_b customers_s customers_s.id.not_null customers_s.id.unique fct_orders fct_orders.id.unique mart_sales report "
wait_for 60 sh -c "'$SLUICE_BIN' -C '$PROJ' status $RUN | head -1 | grep -q success"
ok $? "the retried run finishes successfully"
status_json "$RUN"
is "the model built on its second try, beside it and after it once" \
	"$(json_get '" ".join(sorted(t["task"] + ":" + str(t["try"]) + ":" + t["state"] for t in j["tasks"] if t["task"] in ("customers_b", "orders_s", "report")))' <"$T/build.json")" \
	"customers_b:2:success orders_s:1:success report:1:success"

# clear one model with its downstream: it is built again from what it reads
dev "insert into dev_silver.orders_s values (99, 2, 100)" >/dev/null
sl clear "$RUN" fct_orders --downstream >"$T/clear.out" 2>&1
ok $? "clear fct_orders --downstream" || diag <"$T/clear.out"
is "clear takes the model, its check, the mart and report" \
	"$(sed -n 's/^  \([^ ]*\) .*/\1/p' "$T/clear.out" | sort | tr '\n' ' ')" \
	"fct_orders fct_orders.id.unique mart_sales report "
wait_for 60 sh -c "'$SLUICE_BIN' -C '$PROJ' status $RUN | head -1 | grep -q success"
ok $? "the cleared run finishes successfully"
is "the model was rebuilt (it reads the row put in orders_s)" "$(dev "select total from dev_mart.mart_sales where name = 'bob'")" "107"

# ---- targets ---------------------------------------------------------------------------
build +mart_sales --target pro
ok $? "sluice build +mart_sales --target pro" || { diag <"$T/build.err"; diag <"$T/build.json"; }
is "every model is in pro's database, in its layer's schema" \
	"$(pro "select string_agg(n.nspname || '.' || c.relname, ' ' order by n.nspname, c.relname) from pg_class c
	        join pg_namespace n on n.oid = c.relnamespace where n.nspname in ('bronze', 'silver', 'gold', 'mart')")" \
	"bronze.customers_b bronze.orders_b gold.fct_orders mart.mart_sales silver.customers_s silver.orders_s"
is "pro's mart is pro's data" "$(pro "select string_agg(name || '=' || coalesce(total::text, '-'), ' ' order by name) from mart.mart_sales")" \
	"ann=15 bob=7 cy=-"
is "the checks ran on pro" \
	"$(state_sql "select string_agg(distinct spec::jsonb->>'database' || ':' || (spec::jsonb->>'relation'), ' ') from sluice.task_instances
	              where run_id = $RUN and task = 'customers_s.id.unique'")" 'pro:"silver"."customers_s"'
is "the run keeps its target" "$(json_get 'j["params"]["target"]' <"$T/build.json")" "pro"
pro "drop schema mart cascade" >/dev/null 2>&1
sl --json run nightly --target pro --wait >"$T/build.json" 2>"$T/run.err"
ok $? "sluice run nightly --target pro" || { diag <"$T/run.err"; diag <"$T/build.json"; }
RUN=$(json_get 'j["run_id"]' <"$T/build.json")
is "run --target: the pipeline's mart built again in pro" "$(pro "select count(*) from mart.mart_sales")" "3"
is "run --target: its models and checks on pro" \
	"$(state_sql "select string_agg(task || ':' || (spec::jsonb->>'database'), ' ' order by task) from sluice.task_instances
	              where run_id = $RUN and task in ('customers_s.id.unique', 'fct_orders', 'mart_sales')")" \
	"customers_s.id.unique:pro fct_orders:pro mart_sales:pro"
sl run nightly --target nope >"$T/run.out" 2>&1
is "run --target with an unknown target: exit 2" "$?" 2
done_testing
