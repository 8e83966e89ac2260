#!/bin/sh
# COPY in binary format: every contract type, with NULLs and extremes
# (numerics of many digits, negative, zero, exponents; dates and times far
# past and future, time zones; unicode and empty text), loaded binary and
# loaded by the text path (SLUICE_LOAD_TEXT=1), compared row by row and
# reject by reject, in every mode (append direct and parallel, replace,
# merge); target types that take a contract type with a range (smallint,
# integer from bigint) or that the server still checks (varchar(n), json,
# jsonb); the binary path taken and said in the task log; a target type
# without a binary form sending text, said once.
. "$SLUICE_SRCDIR/tests/integration/lib.sh"
echo "1..30"
PROJ=$(mkproj load_binary)
trap cleanup EXIT
D=$PROJ/data
mkdir -p "$D" "$PROJ/contracts"
export PGTZ=UTC

sl -q up >/dev/null 2>&1
ok $? "sluice up starts the embedded services"
WH=$(sl --json up -q 2>/dev/null | json_get 'j["warehouse"]["address"]')
wh() { psql "$WH" -XAtqc "$1"; }
sum_of() { wh "select count(*) || ':' || coalesce(md5(string_agg(t::text, E'\n' order by t::text)), '') from $1 t"; }
rejects_of() { # rejects_of LOAD_ID: "line|column|reason" per reject, by line
	sl --json rejects --load "$1" |
		json_get '"\n".join(sorted("%s|%s|%s" % (r["line"], r["column"], r["reason"]) for r in j["rejects"]))'
}
# loads FILE INTO [ARGS...]: binary into INTO, text into INTO_text; prints
# "binary-load-id text-load-id" and checks the formats the loads said
loads() {
	lf=$1 li=$2
	shift 2
	b=$(sl --json load "$lf" --into "$li" "$@")
	t=$(SLUICE_LOAD_TEXT=1 sl --json load "$lf" --into "${li}_text" "$@")
	fb=$(echo "$b" | json_get 'j["copy_format"] + ":" + j["state"]')
	ft=$(echo "$t" | json_get 'j["copy_format"] + ":" + j["state"]')
	echo "$fb $ft" >"$PROJ/formats"
	echo "$(echo "$b" | json_get 'j["load_id"]') $(echo "$t" | json_get 'j["load_id"]')"
}

cat >"$PROJ/contracts/every.yml" <<'YML'
name: every
key: [id]
columns:
  id:     { type: int, required: true }
  i:      { type: int }
  b:      { type: bigint }
  n:      { type: numeric }
  n2:     { type: "numeric(20,5)" }
  t:      { type: text }
  vc:     { type: "varchar(8)" }
  ok:     { type: bool }
  d:      { type: date }
  ts:     { type: timestamp }
  tz:     { type: timestamptz }
  u:      { type: uuid }
YML
# Every value the contract takes (and some it refuses), one row each: NULLs
# (an empty field), the ends of the ranges, numerics with many digits and
# exponents, dates at the ends of 1..9999, times with zones that move them
# across days, unicode and empty text (quoted: not NULL).
python3 - "$D/every.csv" <<'PY'
import sys
rows = [
    ["1", "", "", "", "", "", "", "", "", "", "", ""],
    ["2", "2147483647", "9223372036854775807", "0", "0", "", '""', "true", "2000-01-01", "2000-01-01 00:00:00",
     "2000-01-01T00:00:00Z", "00000000-0000-0000-0000-000000000000"],
    ["3", "-2147483648", "-9223372036854775808", "-0", "-0.000001", "naïve café 日本語 🎉", "ünï", "f",
     "0001-01-01", "0001-01-01 00:00:00", "0001-01-01T12:00:00+05:30", "{A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11}"],
    ["4", "+7", "007", "123456789012345678901234567890.123456789012345678901234567890", "123456789012345.123456",
     '"tab\there, newline\nthere, back\\\\slash, ""quote"""', "123456", "yes", "9999-12-31",
     "9999-12-31 23:59:59.999999", "9999-12-31T23:59:59.999999Z", "a0eebc999c0b4ef8bb6d6bb9bd380a11"],
    ["5", "0", "-1", "-98765.4321e-10", "99999999999999.999994", " lead and trail ", "x", "0", "1999-12-31",
     "1999-12-31 23:59:59.5", "1999-12-31T23:30:00-08:00", "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"],
    ["6", "1", "1", "1e5", "1.5E-3", "'", "", "on", "2000-02-29", "2000-02-29 12:00", "2000-03-01T00:30:00+01:00",
     "12345678-1234-1234-1234-123456789abc"],
    ["7", "-1", "4294967296", ".5", "+7", "x", "y", "off", "1900-03-01", "1900-02-28T23:59:59",
     "2038-01-19T03:14:08+00:00", "ffffffff-ffff-ffff-ffff-ffffffffffff"],
    ["8", "", "", "1.50", "00012.50", "0", "0", "n", "1582-10-10", "1582-10-10 10:10:10", "1582-10-10T10:10:10Z", ""],
    ["9", "", "", "-123.456e3", "1e-5", "0.5e-5", "", "", "", "", "2024-06-30T23:59:59.000001-12:00", ""],
    ["10", "", "", "100000000e-8", "-99999999999999.99999", "", "", "", "", "", "", ""],
    # refused by the contract: the same reasons either way
    ["11", "", "", "NaN", "", "", "", "", "", "", "", ""],
    ["12", "", "", "", "1e15", "", "", "", "", "", "", ""],
    ["13", "2147483648", "", "", "", "", "", "", "", "", "", ""],
    ["14", "", "", "", "", "", "", "maybe", "", "", "", ""],
    ["15", "", "", "", "", "", "", "", "2001-02-29", "", "", ""],
    ["16", "", "", "", "", "", "", "", "", "", "", "not-a-uuid"],
    # moved to UTC out of year 1 (or past 9999): the server refuses it
    ["17", "", "", "", "", "", "", "", "", "", "0001-01-01T00:30:00+01:00", ""],
    ["18", "", "", "", "", "", "", "", "", "", "9999-12-31T23:30:00-01:00", ""],
    # refused by the server (varchar(8) is the target's own check too)
    ["19", "", "", "", "", "", "1234567", "", "", "", "", ""],
    ["2", "", "", "", "", "", "", "", "", "", "", ""],
    ["20", "", "", "1e-20000", "", "", "", "", "", "", "", ""],
    ["21", "", "", "1e200000", "", "", "", "", "", "", "", ""],
]
with open(sys.argv[1], "w") as f:
    f.write("id,i,b,n,n2,t,vc,ok,d,ts,tz,u\n")
    for r in rows:
        f.write(",".join(r) + "\n")
PY
# vc is varchar(6) in the table: the server refuses 7 characters
cols="id int, i int, b bigint, n numeric, n2 numeric(20,5), t text, vc varchar(6), ok boolean, d date, ts timestamp, tz timestamptz, u uuid"
wh "create table every ($cols); create table every_text ($cols); create table every_task ($cols)"
ids=$(loads "$D/every.csv" every --contract every)
is "a load of every type goes binary, the same load with SLUICE_LOAD_TEXT=1 as text" "$(cat "$PROJ/formats")" \
	"binary:success text:success"
is "the good rows are loaded" "$(wh "select string_agg(id::text, ' ' order by id) from every")" "1 2 3 4 5 6 7 8 9 10"
is "every type: the binary load's rows are the text load's" "$(sum_of every)" "$(sum_of every_text)"
rb=$(rejects_of "${ids% *}")
rt=$(rejects_of "${ids#* }")
is "every type: the same rejects, lines, columns and reasons" "$rb" "$rt"
# (line numbers count the newline inside row 4's text)
echo "$rb" | grep -q '^19|tz|date/time field value out of range: "0000-12-31 23:30:00+00"' &&
	echo "$rb" | grep -q '^20|tz|date/time field value out of range' &&
	echo "$rb" | grep -q '^21|vc|value too long for type character varying(6)' &&
	echo "$rb" | grep -q '^23|n|value overflows numeric format' && echo "$rb" | grep -q '^24|n|value overflows'
ok $? "rows the server refuses in binary are rejected with its reason, line and column" || echo "$rb" | diag
is "values as PostgreSQL prints them" "$(wh "select n || '|' || n2 || '|' || tz || '|' || u from every where id = 4")" \
	"123456789012345678901234567890.123456789012345678901234567890|123456789012345.12346|9999-12-31 23:59:59.999999+00|a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"
is "exponents and signs as numeric_in reads them" \
	"$(wh "select string_agg(n::text, ' ' order by id) from every where id in (3, 5, 6, 7, 9, 10)")" \
	"$(wh "select string_agg(x::numeric::text, ' ' order by o) from unnest(array['-0', '-98765.4321e-10', '1e5',
		'.5', '-123.456e3', '100000000e-8']) with ordinality a(x, o)")"
is "NULLs stay NULL, an empty quoted text is empty" \
	"$(wh "select coalesce(i::text, 'N') || coalesce(t, 'N') || coalesce(vc, 'N') from every where id in (1, 2) order by id")" \
	"NNN
2147483647N"

# JSON Lines through the same contract: JSON numbers, booleans and nulls
printf '%s\n' '{"id": 1, "i": 5, "b": -7, "n": 1.5e3, "n2": 0.000005, "t": "\u00fc\u00e9", "vc": "", "ok": true, "d": "2024-02-29", "ts": "2024-02-29 01:02:03.5", "tz": "2024-02-29T01:02:03+02:00", "u": "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"}' \
	'{"id": 2, "i": null, "b": 9223372036854775807, "n": -0.0, "n2": 12, "t": null, "vc": "abc", "ok": false, "d": null, "ts": null, "tz": null, "u": null}' >"$D/every.jsonl"
wh "create table every_json ($cols); create table every_json_text ($cols)"
ids=$(loads "$D/every.jsonl" every_json --contract every)
is "JSON Lines: binary, and text when told" "$(cat "$PROJ/formats")" "binary:success text:success"
is "JSON Lines: binary rows are the text rows" "$(sum_of every_json) $(rejects_of "${ids% *}")" \
	"$(sum_of every_json_text) $(rejects_of "${ids#* }")"

# Target types other than the contract's: ranges checked as the server would
# (smallint, integer from bigint), json and jsonb from text, numeric and
# text from integers.
cat >"$PROJ/contracts/wide.yml" <<'YML'
name: wide
columns:
  id: { type: int, required: true }
  s:  { type: int }
  i:  { type: bigint }
  n:  { type: bigint }
  tx: { type: int }
  j:  { type: text }
  jb: { type: text }
YML
printf '%s\n' 'id,s,i,n,tx,j,jb' '1,32767,2147483647,9223372036854775807,-5,"{""a"": 1}","{""b"": [1, 2], ""a"": null}"' \
	'2,-32768,-2147483648,-1,007,[],"""ünï"""' '3,32768,,,,,' '4,,2147483648,,,,' '5,,,,,"{bad",' '6,,,,,,"{""x"": }"' \
	'7,,,,,"  {""sp"": 1}  ","  {""sp"": 1}  "' >"$D/wide.csv"
cols="id int, s smallint, i integer, n numeric(30,2), tx text, j json, jb jsonb"
wh "create table wide ($cols); create table wide_text ($cols)"
ids=$(loads "$D/wide.csv" wide --contract wide)
is "smallint, integer, numeric, text, json, jsonb targets: binary rows are the text rows" "$(sum_of wide)" "$(sum_of wide_text)"
is "... and the same rejects" "$(rejects_of "${ids% *}")" "$(rejects_of "${ids#* }")"
is "a smallint out of range is rejected with the server's words" "$(rejects_of "${ids% *}" | head -n 2)" \
	"4|s|value \"32768\" is out of range for type smallint
5|i|value \"2147483648\" is out of range for type integer"
is "jsonb as PostgreSQL keeps it" "$(wh "select jb from wide where id = 1")" '{"a": null, "b": [1, 2]}'

# Staged loads: parallel append, replace, merge (a key repeated in the file
# is superseded), binary rows the same as text ones.
python3 "$SLUICE_SRCDIR/bench/gen_transactions.py" 20000 1 "$D/tx.csv"
cat >"$PROJ/contracts/tx.yml" <<'YML'
name: tx
key: [transaction_id]
columns:
  transaction_id:   { type: bigint, required: true, min: 1 }
  reference:        { type: text, required: true, regex: "^REF-[0-9a-f]{24}$" }
  customer_id:      { type: int, required: true, min: 1 }
  product:          { type: text, required: true, max_length: 100 }
  quantity:         { type: int, required: true, min: 1 }
  price:            { type: "numeric(12,2)", required: true }
  tax:              { type: "numeric(12,2)", required: true }
  currency:         { type: text, required: true, accepted: [EUR, USD, GBP, JPY, CHF] }
  transaction_date: { type: timestamptz, required: true, formats: ["%Y-%m-%dT%H:%M:%SZ"] }
YML
for m in par replace merge; do
	case $m in
	par) set -- --parallel 2 ;;
	*) set -- --mode "$m" ;;
	esac
	ids=$(loads "$D/tx.csv" "tx_$m" --contract tx --create "$@")
	is "$m: binary, and text when told" "$(cat "$PROJ/formats")" "binary:success text:success"
	c="transaction_id, reference, customer_id, product, quantity, price, tax, currency, transaction_date"
	is "$m: binary rows are the text rows" "$(sum_of "(select $c from tx_$m)")" "$(sum_of "(select $c from tx_${m}_text)")"
	is "$m: the same rejects" "$(rejects_of "${ids% *}" | md5sum)" "$(rejects_of "${ids#* }" | md5sum)"
done
is "the 1%-dirty file: 19,800 rows loaded" "$(wh "select count(*) from tx_par")" "19800"
# merge again over the loaded rows: every row updated in place
printf '%s\n' 'transaction_id,reference,customer_id,product,quantity,price,tax,currency,transaction_date' \
	'1,REF-000000000000000000000001,1,x,1,1.005,0,EUR,2025-01-01T00:00:00Z' >"$D/one.csv"
sl -q load "$D/one.csv" --into tx_merge --contract tx --mode merge >/dev/null
is "a binary merge updates the row it matches" "$(wh "select count(*) || ' ' || max(price) filter (where transaction_id = 1) from tx_merge")" "19800 1.01"

# The binary path in a task's log; a target type with no binary form here
# (double precision) sends text for that load, said once, and loads right.
wh "create table fl (id int, x double precision)"
cat >"$PROJ/contracts/fl.yml" <<'YML'
name: fl
columns:
  id: { type: int, required: true }
  x:  { type: numeric }
YML
printf 'id,x\n1,1.5\n2,-0.1e3\n' >"$D/fl.csv"
mkdir -p "$PROJ/pipelines"
cat >"$PROJ/pipelines/bin.yml" <<'YML'
tasks:
  every: { kind: load, source: data/every.csv, into: every_task, contract: every }
  fl:    { kind: load, source: data/fl.csv, into: fl, contract: fl }
YML
sl -q run bin --wait >/dev/null 2>&1
sl logs latest every >"$PROJ/every.log" 2>&1
grep -qx 'load: COPY in binary format' "$PROJ/every.log"
ok $? "a load task's log says its COPY went binary" || diag <"$PROJ/every.log"
is "... and it loaded what the ad-hoc loads did" "$(sum_of every_task)" "$(sum_of every)"
sl logs latest fl >"$PROJ/fl.log" 2>&1
[ "$(grep -c 'COPY in' "$PROJ/fl.log")" = 1 ] &&
	grep -q "COPY in text format (column 'x': contract type numeric into double precision" "$PROJ/fl.log"
ok $? "a double precision target sends text, said once in the log" || diag <"$PROJ/fl.log"
is "... and loads the values" "$(wh "select string_agg(x::text, ' ' order by id) from fl")" "1.5 -100"

done_testing
