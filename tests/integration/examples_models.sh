#!/bin/sh
# The modelling scenarios end to end on the embedded default, each in a
# temporary copy with small generated data: examples/forex (seed 002: the
# lake linked into dev and pro, bronze/silver/gold/marts, missing_quantity)
# and examples/retail (seed 000: JSON documents, the items SCD2 snapshot
# with its md5 id, the fact incremental by invoice date). The numbers are
# checked against Python reading the generated files, not against the
# models' SQL; a second batch must be merged incrementally (rows counted)
# and give what a full refresh gives (EXCEPT both ways).
. "$SLUICE_SRCDIR/tests/integration/lib.sh"

echo "1..35"
# the pipelines expand their models with `kind: models`
if ! "$SLUICE_BIN" validate --kinds 2>/dev/null | grep -qx 'models'; then
	i=0
	while [ $i -lt 35 ]; do skip "examples with models" "this sluice has no kind models"; i=$((i + 1)); done
	exit 0
fi

export USER=tester   # dev's schemas are <user>_<layer>
T=$SLUICE_TESTDIR/examples_models
rm -rf "$T"
mkdir -p "$T"

# fresh EXAMPLE: a copy of examples/EXAMPLE without its data or services
fresh() {
	d=$SLUICE_TESTDIR/example_models_$1
	"$SLUICE_BIN" -q -C "$d" runner --stop >/dev/null 2>&1
	"$SLUICE_BIN" -q -C "$d" down >/dev/null 2>&1
	rm -rf "$d"
	cp -r "$SLUICE_SRCDIR/examples/$1" "$d"
	rm -rf "$d/.sluice" "$d/data"
	PROJ=$d
}

# q DB SQL: one query on database DB of the project's embedded cluster
q() {
	PGOPTIONS="-c client_min_messages=warning" psql "$(sl --json up -q 2>/dev/null | json_get 'j["warehouse"]["address"]' | sed "s/dbname=warehouse/dbname=$1/")" \
		-XAtq -v ON_ERROR_STOP=1 -c "$2"
}

# run_ok DESCRIPTION ARGS...: sluice ARGS succeeds; on a failure the run's
# tasks that did not succeed are shown
run_ok() {
	d=$1; shift
	sl -q "$@" --wait >"$T/run.out" 2>&1
	ok $? "$d" || { sl status latest 2>&1 | grep -v '✓ success' | diag; tail -n 20 "$T/run.out" | diag; }
}

# the "a inserted, b updated" of a model task's log
merged() { sl logs latest "$1" | sed -n 's/.*; \([0-9]*\) inserted, \([0-9]*\) updated.*/\1 \2/p'; }

# same DB A B: the relations A and B hold the same rows (EXCEPT both ways)
same() {
	q "$1" "select (select count(*) from (select * from $2 except select * from $3) x) + (select count(*) from (select * from $3 except select * from $2) y), (select count(*) from $2)"
}

# checks_pass: every check result of the latest run passed; prints "passed of total"
checks_pass() {
	sl --json checks latest | json_get '"%d of %d" % (sum(r["status"] == "pass" for r in j["results"]), len(j["results"]))'
}

# ---- forex ---------------------------------------------------------------

cat >"$T/forex.py" <<'PY'
# What the forex models must hold, from the generated batch files alone:
# the lake merges on transaction_id (a later row wins, in a file and across
# files); words are read here with a small parser of this test's own.
import csv, sys
from decimal import Decimal

SMALL = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()

def number(text):
    text = text.strip()
    try:
        return Decimal(text)
    except Exception:
        pass
    total = cur = 0
    for w in text.lower().replace("-", " ").split():
        if w == "and":
            continue
        if w in SMALL:
            cur += SMALL.index(w)
        elif w in TENS:
            cur += 10 * TENS.index(w)
        elif w == "hundred":
            cur *= 100
        elif w == "thousand":
            total, cur = total + cur * 1000, 0
        else:
            raise ValueError(text)
    return Decimal(total + cur)

what, files = sys.argv[1], sys.argv[2:]
final, lines, batch_of = {}, 0, {}
per_file = []
for b, f in enumerate(files, 1):
    rows = list(csv.DictReader(open(f)))
    lines += len(rows)
    per_file.append(rows)
    for r in rows:
        final[r["transaction_id"]] = (b, r)
last = per_file[-1]
earlier = set()
for rows in per_file[:-1]:
    earlier.update(r["transaction_id"] for r in rows)
with_qty = [r for b, r in final.values() if r["quantity"]]
if what == "counts":
    customers = {r["customer_email"].strip().lower() for b, r in final.values()}
    products = {r["product_name"] for b, r in final.values()}
    amount = sum(int(r["quantity"]) * number(r["price"]) for r in with_qty)
    print(len(final), len(final) - len(with_qty), len(with_qty), amount, len(customers), len(products))
elif what == "superseded":
    print(len(last) - len({r["transaction_id"] for r in last}))
elif what == "merged":
    ids = {r["transaction_id"] for r in last}
    print(len(ids - earlier), len(ids & earlier))
elif what == "cities":
    city = {}
    for b, rows in enumerate(per_file):
        for r in rows:
            city[r["customer_email"].strip().lower()] = r["customer_city"].strip()
    for e in sorted(city):
        print("%s|%s" % (e, city[e]))
PY
fx() { python3 "$T/forex.py" "$@"; }

fresh forex
F1=$PROJ/data/lake/batch_1.csv
F2=$PROJ/data/lake/batch_2.csv
run_ok "forex: batch 1 through the lake, bronze, silver, gold and marts on dev" run medallion --param rows=2000

# fx counts: silver rows, without a quantity, in the fact, amount, customers, products
forex_counts() {
	db=$1 s=$2
	echo "$(q "$db" "select count(*) from ${s}silver.slv_customer_transactions") $(q "$db" "select count(*) from ${s}silver.missing_quantity") $(q "$db" "select count(*) || ' ' || sum(amount) from ${s}gold.fct_transactions") $(q "$db" "select count(*) from ${s}gold.dim_customers") $(q "$db" "select count(*) from ${s}gold.dim_products")"
}
want=$(fx counts "$F1")
is "forex: batch 1: silver, missing_quantity, the fact's rows and amount, customers, products" \
	"$(forex_counts dev tester_)" "$want"
is "forex: the lake and bronze hold every transaction once" \
	"$(q warehouse "select count(*) from forex.customer_transactions") $(q dev "select count(*) from tester_bronze.brz_customer_transactions")" \
	"$(echo "$want" | cut -d' ' -f1) $(echo "$want" | cut -d' ' -f1)"
got=$(sl --json rejects latest load | json_get 'sum(r["reason"].startswith("superseded by line") for r in j["rejects"])')
is "forex: rows sent twice in the file are superseded in the lake's merge" "$got" "$(fx superseded "$F1")"
is "forex: no number words left unread (price and tax not null)" \
	"$(q dev "select count(*) from tester_silver.slv_customer_transactions where price is null or tax is null")" 0
is "forex: every check passed" "$(checks_pass)" "51 of 51"

run_ok "forex: batch 2 (new rows, corrections, customers who moved) on dev" run medallion --param rows=2000 --param batch=2
is "forex: silver merged only the batch: its new rows inserted, its corrections updated" \
	"$(merged slv_customer_transactions)" "$(fx merged "$F1" "$F2")"
is "forex: after batch 2: silver, missing_quantity, the fact's rows and amount, customers, products" \
	"$(forex_counts dev tester_)" "$(fx counts "$F1" "$F2")"
q dev "select customer_email || '|' || city from tester_gold.dim_customers" | LC_ALL=C sort >"$T/cities.got"
fx cities "$F1" "$F2" | LC_ALL=C sort >"$T/cities.want"
cmp -s "$T/cities.got" "$T/cities.want"
ok $? "forex: dim_customers has each customer's latest city" || diff "$T/cities.want" "$T/cities.got" | head | diag
is "forex: every check passed after batch 2" "$(checks_pass)" "51 of 51"

# the incremental tables against a full refresh of the same lake
rels="tester_silver.slv_customer_transactions tester_silver.missing_quantity tester_gold.dim_customers tester_gold.dim_products tester_gold.fct_transactions"
q dev "drop schema if exists inc cascade; create schema inc" >/dev/null
for r in $rels; do q dev "create table inc.${r#*.} as select * from $r" >/dev/null; done
sl -q build tag:silver tag:gold --full-refresh >"$T/build.out" 2>&1
ok $? "forex: sluice build --full-refresh of silver and gold" || tail -n 20 "$T/build.out" | diag
sl logs latest fct_transactions | grep -q '(full)'
ok $? "forex: the full refresh rebuilt the fact from its whole SELECT" || sl logs latest fct_transactions | diag
for r in $rels; do
	got=$(same dev "inc.${r#*.}" "$r")
	[ "${got%%|*}" = 0 ] && [ "${got#*|}" -gt 0 ]
	ok $? "forex: $r incremental = full refresh (EXCEPT both ways: $got)"
done

run_ok "forex: the same run on target pro (schemas <layer> in database pro)" run medallion --param rows=2000 --param batch=2 --target pro
is "forex: pro holds what dev holds" "$(forex_counts pro "")" "$(fx counts "$F1" "$F2")"
is "forex: pro's models are in bronze, silver, gold and marts" \
	"$(q pro "select string_agg(distinct table_schema, ' ' order by table_schema) from information_schema.tables where table_schema in ('bronze', 'silver', 'gold', 'marts')")" \
	"bronze gold marts silver"
is "forex: every check passed on pro" "$(checks_pass)" "51 of 51"
cleanup

# ---- retail --------------------------------------------------------------

cat >"$T/retail.py" <<'PY'
# What the retail models must hold, from the generated JSON documents alone.
import hashlib, json, sys
from datetime import datetime
from decimal import Decimal

what, files = sys.argv[1], sys.argv[2:]
batches = []
for f in files:
    docs = [json.loads(l) for l in open(f)]
    batches.append([d for d in docs if d["UnitPrice"] >= 0])  # the contract rejects the rest
good = [d for b in batches for d in b]

def when(d):
    return datetime.strptime(d["InvoiceDate"], "%m/%d/%Y %H:%M")

def price(d):
    return "%.2f" % Decimal(str(d["UnitPrice"]))

def versions(lines):
    """The item versions a snapshot after these lines records: each item's
    latest (description, price)."""
    latest = {}
    for d in sorted(lines, key=lambda d: (when(d), d["InvoiceNo"])):
        latest[d["StockCode"]] = (d["Description"], price(d))
    return {(s, v[0], v[1]) for s, v in latest.items()}

if what == "counts":
    seen = set()
    for i in range(len(batches)):
        seen |= versions([d for b in batches[:i + 1] for d in b])
    amount = sum(d["Quantity"] * Decimal(price(d)) for d in good)
    customers = {d["CustomerID"] for d in good if d["CustomerID"] is not None}
    current = len({d["StockCode"] for d in good})
    print(len(good), amount, len(seen), current, len(customers))
elif what == "rejects":
    print(sum(1 for f in files[-1:] for l in open(f) if json.loads(l)["UnitPrice"] < 0))
elif what == "ids":
    for s, desc, p in sorted(versions(good)):
        print(hashlib.md5(("%s|%s|%s" % (s, desc, p)).encode()).hexdigest())
elif what == "merged":
    # the fact's batch: the lines from the latest invoice date it had on
    before = [d for b in batches[:-1] for d in b]
    top = max(when(d) for d in before)
    print(len(batches[-1]), sum(1 for d in before if when(d) >= top))
PY
rx() { python3 "$T/retail.py" "$@"; }

fresh retail
R1=$PROJ/data/transactions/batch_1.jsonl
R2=$PROJ/data/transactions/batch_2.jsonl
run_ok "retail: December's documents through the load, the snapshot, customers and the fact" run monthly --param invoices=300

retail_counts() {
	echo "$(q warehouse "select count(*) || ' ' || sum(amount) from dwh.fct_transactions") $(q warehouse "select count(*) from dwh.dim_items") $(q warehouse "select count(*) from dwh.dim_items where valid_to = '2099-12-31'") $(q warehouse "select count(*) from dwh.dim_customers")"
}
is "retail: batch 1: the fact's rows and amount, item versions, current items, customers" "$(retail_counts)" "$(rx counts "$R1")"
got=$(sl --json rejects latest load | json_get 'sum("less than the minimum 0" in r["reason"] for r in j["rejects"])')
is "retail: adjustments (a negative price) rejected by the contract" "$got" "$(rx rejects "$R1")"
is "retail: every check passed" "$(checks_pass)" "26 of 26"

run_ok "retail: January's documents (new items, new prices)" run monthly --param invoices=300 --param batch=2
is "retail: after batch 2: the fact's rows and amount, item versions (SCD2), current items, customers" \
	"$(retail_counts)" "$(rx counts "$R1" "$R2")"
is "retail: the fact merged the new month and the last invoice date it had" \
	"$(merged fct_transactions)" "$(rx merged "$R1" "$R2")"
q warehouse "select id from dwh.dim_items where valid_to = '2099-12-31'" | LC_ALL=C sort >"$T/ids.got"
rx ids "$R1" "$R2" | LC_ALL=C sort >"$T/ids.want"
cmp -s "$T/ids.got" "$T/ids.want"
ok $? "retail: the current items' ids are md5(stock_code|description|unit_price)" || diff "$T/ids.want" "$T/ids.got" | head | diag
is "retail: a changed item's old version ends where its new one starts" \
	"$(q warehouse "select count(*) from dwh.dim_items o join dwh.dim_items n on n.stock_code = o.stock_code and n.valid_from = o.valid_to")" \
	"$(q warehouse "select count(*) from dwh.dim_items where valid_to <> '2099-12-31'")"
is "retail: every check passed after batch 2" "$(checks_pass)" "26 of 26"

rels="dwh.fct_transactions dwh.dim_customers"
q warehouse "drop schema if exists inc cascade; create schema inc" >/dev/null
for r in $rels; do q warehouse "create table inc.${r#*.} as select * from $r" >/dev/null; done
sl -q build fct_transactions dim_customers --full-refresh >"$T/build.out" 2>&1
ok $? "retail: sluice build --full-refresh of the fact and customers" || tail -n 20 "$T/build.out" | diag
for r in $rels; do
	got=$(same warehouse "inc.${r#*.}" "$r")
	[ "${got%%|*}" = 0 ] && [ "${got#*|}" -gt 0 ]
	ok $? "retail: $r incremental = full refresh (EXCEPT both ways: $got)"
done
cleanup
done_testing
