#!/bin/sh
# Backups and restores end to end on the embedded default: every supported
# column type with NULLs, empty strings, unicode and the extremes (numerics
# of 30+ digits, negative scales, NaN, infinities, the first and last dates
# and timestamps) round-tripped through each codec with the same checksum;
# the files read by Apache's Python reader (python3-avro) with their logical
# types; append, --replace, --create; a schema that does not fit, naming
# the column; truncated and corrupted files failing with the block and byte
# offset, the table untouched; the kinds in examples/hr's backup pipeline.
. "$SLUICE_SRCDIR/tests/integration/lib.sh"
echo "1..66"
export PGTZ=UTC
PROJ=$(mkproj backup_it)
trap cleanup EXIT
T=$PROJ/out
mkdir -p "$T"
PY=/usr/bin/python3 # Debian's, where python3-avro is

sl -q up >/dev/null 2>&1
ok $? "sluice up starts the embedded services"
WH=$(sl --json up -q 2>/dev/null | json_get 'j["warehouse"]["address"]')
wh() { psql "$WH" -XAtqc "$1"; }
# a table's content, in key order, as one checksum (and its row count)
sum_of() { wh "select count(*) || ':' || coalesce(md5(string_agg(t::text, ',' order by id)), '') from $1 t"; }

# ---- every type, every edge ---------------------------------------------------------
wh "create table every (
  id int primary key, i2 smallint, i4 int, i8 bigint, f4 real, f8 double precision,
  n numeric, n12 numeric(12,2), n40 numeric(40,10), nneg numeric(5,-2), nsmall numeric(3,5),
  t text, vc varchar(10), ch char(3), b boolean, d date, ts timestamp, tz timestamptz, u uuid,
  by bytea, j json, jb jsonb, req text not null)" >/dev/null
wh "insert into every values
 (1, 7, 42, 1234567890123, 1.5, 2.25, 3.14159, 12.34, 1.5, 12300, 0.00123, 'plain', 'ten chars!', 'abc', true,
  '2024-02-29', '2024-01-01 12:00:00.123456', '2024-01-01 12:00:00.654321+00', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  '\\x00ff10', '{\"a\": [1, 2]}', '{\"b\": {\"c\": null}}', 'x'),
 (2, 32767, 2147483647, 9223372036854775807, 3.4028235e38, 1.7976931348623157e308,
  123456789012345678901234567890.123456789012345678901234567890, 9999999999.99,
  123456789012345678901234567890.1234567891, 9999900, 0.00999,
  'héllo wörld ✓ 日本語 😀', 'ünïcödé', 'é', false,
  '5874897-12-31', '294246-12-31 23:59:59.999999', '294246-12-31 23:59:59.999999+00', 'ffffffff-ffff-ffff-ffff-ffffffffffff',
  '\\xffffffff', '[]', '[1, \"two\", 3.5]', 'tab	and
newline and \\ backslash'),
 (3, -32768, -2147483648, -9223372036854775808, -1.17549435e-38, 5e-324,
  -0.000000000000000000000000000000000001, -9999999999.99, -123456789012345678901234567890.1234567891, -9999900, -0.00001,
  'a \"quote\" and a , comma', '', '', null,
  '4713-01-01 BC', '4713-01-01 00:00:00 BC', '4713-01-01 00:00:00+00 BC', '00000000-0000-0000-0000-000000000000',
  '\\x', 'null', '\"\"', ''),
 (4, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
  null, null, null, '-'),
 (5, 0, 0, 0, 'NaN', 'NaN', 'NaN', 'NaN', 0, 0, 0, '', '', '', true, 'infinity', 'infinity', 'infinity', null,
  '', '{}', '{}', 'nan row'),
 (6, 1, 1, 1, 'Infinity', '-Infinity', 'Infinity', 0.01, 'NaN', -100, 0.00001, 'NULL', 'null', 'N', false,
  '-infinity', '-infinity', '-infinity', null, null, null, null, 'inf row'),
 (7, 2, 2, 2, '-Infinity', 'Infinity', '-Infinity', -0.01, 0, null, null, '\\N', null, null, null,
  '1970-01-01', '1970-01-01 00:00:00', '1969-12-31 23:59:59.999999+00', null, null, null, null, 'epoch')" >/dev/null
ok $? "a table with every supported type and its edge values"
want=$(sum_of every)
for codec in null deflate snappy; do
	sl -q backup every --codec $codec --out "$T/every.$codec.avro" >"$T/b.out" 2>&1
	ok $? "backup --codec $codec" || diag <"$T/b.out"
	sl -q restore "$T/every.$codec.avro" --into "every_$codec" --create >"$T/r.out" 2>&1
	ok $? "restore --create of the $codec file" || diag <"$T/r.out"
	is "$codec: the restored rows are the same (checksum)" "$(sum_of "every_$codec")" "$want"
done
is "--create made the same column types" \
	"$(wh "select string_agg(format_type(atttypid, atttypmod) || case when attnotnull then '!' else '' end, ',' order by attnum) from pg_attribute where attrelid = 'every_deflate'::regclass and attnum > 0")" \
	"$(wh "select string_agg(format_type(atttypid, atttypmod) || case when attnotnull then '!' else '' end, ',' order by attnum) from pg_attribute where attrelid = 'every'::regclass and attnum > 0")"

# append, replace
sl -q restore "$T/every.snappy.avro" --into every_null >"$T/r.out" 2>&1
ok $? "restore appends into an existing table" || diag <"$T/r.out"
is "the table has its rows twice" "$(wh 'select count(*), count(distinct id) from every_null')" "14|7"
sl -q restore "$T/every.deflate.avro" --into every_null --replace >"$T/r.out" 2>&1
ok $? "restore --replace" || diag <"$T/r.out"
is "--replace: the table holds the file's rows alone" "$(sum_of every_null)" "$want"
sl --json restore "$T/every.null.avro" --into every_null --replace >"$T/r.json" 2>&1
is "--json: file, table, mode, state, rows" \
	"$(json_get '"%s %s %s %s %s" % (j["file"].split("/")[-1], j["table"], j["mode"], j["state"], j["rows"])' <"$T/r.json")" \
	"every.null.avro every_null replace success 7"
sl --json backup every --codec snappy --out "$T/j.avro" >"$T/b.json" 2>&1
is "backup --json: table, codec, state, rows, columns" \
	"$(json_get '"%s %s %s %s %s %s" % (j["table"], j["codec"], j["state"], j["rows"], j["columns"], j["bytes"] > 0)' <"$T/b.json")" \
	"every snappy success 7 23 True"

# what cannot be written: a timestamp past the last timestamp-micros holds
wh "create table late (id int, ts timestamptz); insert into late values (1, '294270-01-01 00:00:00+00')"
sl -q backup late --out "$T/late.avro" >"$T/b.out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "row 1, column 'ts': a timestamp after 294247-01-10" "$T/b.out" && [ ! -e "$T/late.avro" ] &&
	[ -z "$(ls -A "$T" | grep '^\.late')" ]
ok $? "a timestamp after 294247 fails the backup (exit $rc) naming the row and column, no file left" || diag <"$T/b.out"
wh "create table odd (id int, span interval)"
sl -q backup odd --out "$T/odd.avro" >"$T/b.out" 2>&1
[ $? -eq 1 ] && grep -q "column 'span' is of type interval, which backups do not support" "$T/b.out"
ok $? "a column of an unsupported type is named with its type" || diag <"$T/b.out"
sl -q backup nosuch --out "$T/nosuch.avro" >"$T/b.out" 2>&1
[ $? -eq 1 ] && grep -q "no table 'nosuch'" "$T/b.out"
ok $? "a missing table: exit 1, named" || diag <"$T/b.out"
sl -q backup every --codec lz4 >"$T/b.out" 2>&1
is "an unknown codec is a usage error" "$?" 2
sl backup --help | grep -q "usage: sluice backup TABLE"
ok $? "backup --help"
sl restore --help | grep -q "usage: sluice restore FILE --into TABLE"
ok $? "restore --help"
sl -q restore "$T/every.null.avro" >"$T/r.out" 2>&1
is "restore without --into is a usage error" "$?" 2
sl -q restore "$T/every.null.avro" --into x --replace --create >"$T/r.out" 2>&1
is "--replace with --create is a usage error" "$?" 2

# names that are not Avro names: quoted schema and table, and columns that
# become the same Avro name
wh 'create schema "Odd Schema"; create table "Odd Schema"."Mixed Case" ("a-b" int, "a_b" text, "9 é" numeric(4,1))' >/dev/null
wh "insert into \"Odd Schema\".\"Mixed Case\" values (1, 'x', 12.5), (null, null, null)" >/dev/null
sl -q backup "Odd Schema.Mixed Case" --out "$T/odd.avro" >"$T/b.out" 2>&1 &&
	sl -q restore "$T/odd.avro" --into "Odd Schema.Copy" --create >>"$T/b.out" 2>&1
ok $? "a quoted schema and table, and column names that are not Avro names, back up and restore" || diag <"$T/b.out"
is "the same rows and column names" \
	"$(wh "select string_agg(attname, ',' order by attnum) from pg_attribute where attrelid = '\"Odd Schema\".\"Copy\"'::regclass and attnum > 0") $(wh 'select md5(string_agg(t::text, $$,$$ order by t::text)) from "Odd Schema"."Copy" t')" \
	"a-b,a_b,9 é $(wh 'select md5(string_agg(t::text, $$,$$ order by t::text)) from "Odd Schema"."Mixed Case" t')"
$PY -W ignore -c "
from avro.datafile import DataFileReader
from avro.io import DatumReader
print(sorted(DataFileReader(open('$T/odd.avro', 'rb'), DatumReader()).__next__().keys()))" >"$T/py.out" 2>&1
is "python3-avro reads it: Avro names, each its own" "$(cat "$T/py.out")" "['_9___', 'a_b', 'a_b_2']"

# ---- the schema must fit -------------------------------------------------------------
wh "create table fit_type (like every); alter table fit_type alter column n12 type numeric(12,3)"
before=$(sum_of fit_type)
sl -q restore "$T/every.deflate.avro" --into fit_type >"$T/r.out" 2>&1
[ $? -eq 1 ] && grep -q "column 8 'n12': the file has decimal(12,2) (numeric(12,2)), the table decimal(12,3)" "$T/r.out"
ok $? "a column of another type is named, with both types" || diag <"$T/r.out"
wh "create table fit_name (like every); alter table fit_name rename column vc to vc2"
sl -q restore "$T/every.deflate.avro" --into fit_name >"$T/r.out" 2>&1
[ $? -eq 1 ] && grep -q "column 13: the file has 'vc', the table 'vc2'" "$T/r.out"
ok $? "a column of another name is named" || diag <"$T/r.out"
wh "create table fit_tz (like every); alter table fit_tz alter column tz type timestamp"
sl -q restore "$T/every.deflate.avro" --into fit_tz >"$T/r.out" 2>&1
[ $? -eq 1 ] && grep -q "column 18 'tz': the file has long (timestamp-micros)" "$T/r.out"
ok $? "timestamptz into timestamp is refused (UTC instant against local time)" || diag <"$T/r.out"
wh "create table fit_more (like every); alter table fit_more add column extra int"
sl -q restore "$T/every.deflate.avro" --into fit_more >"$T/r.out" 2>&1
[ $? -eq 1 ] && grep -q "column 24 'extra' is not in the file" "$T/r.out"
ok $? "a table with a column more says which" || diag <"$T/r.out"
wh "create table fit_null (like every); alter table fit_null alter column t set not null; insert into fit_null select * from every where t is not null"
before=$(sum_of fit_null)
sl -q restore "$T/every.deflate.avro" --into fit_null >"$T/r.out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q 'null value in column "t"' "$T/r.out" && grep -q "line 4" "$T/r.out" && [ "$(sum_of fit_null)" = "$before" ]
ok $? "a row the table refuses (a NULL into NOT NULL): the server's error with the record, the table untouched" || diag <"$T/r.out"
sl -q restore "$T/every.deflate.avro" --into fit_absent >"$T/r.out" 2>&1
[ $? -eq 1 ] && grep -q "no table 'fit_absent'" "$T/r.out"
ok $? "a missing table without --create is an error" || diag <"$T/r.out"
sl -q restore "$T/every.deflate.avro" --into every --create >"$T/r.out" 2>&1
rc=$?
is "--create of a table that exists fails (exit $rc) and leaves it" "$rc $(sum_of every)" "1 $want"

# ---- other readers: Apache's Python reader --------------------------------------------
wh "create table plain (id int not null, amount numeric(12,2), born date, at timestamptz, u uuid, name text)
    ; insert into plain values (1, -12.05, '1999-12-31', '2024-03-01 10:20:30.5+00', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'ü'),
      (2, null, null, null, null, null), (3, 'NaN', '0001-01-01', '9999-12-31 23:59:59.999999+00', null, '')"
for codec in null deflate snappy; do
	sl -q backup plain --codec $codec --out "$T/plain.$codec.avro" >/dev/null 2>&1
	$PY -W ignore - "$T/plain.$codec.avro" >"$T/py.out" 2>&1 <<'PY'
import sys, datetime, decimal
from avro.datafile import DataFileReader
from avro.io import DatumReader
r = DataFileReader(open(sys.argv[1], "rb"), DatumReader())
fields = {f.name: f for f in r.datum_reader.writers_schema.fields}
rows = list(r)
a, b, c = rows
def logical(name):
    t = fields[name].type
    t = [s for s in t.schemas if s.type != "null"][0] if t.type == "union" else t
    return getattr(t, "logical_type", None)
assert len(rows) == 3, rows
assert a["id"] == 1 and a["amount"] == decimal.Decimal("-12.05"), a
assert a["born"] == datetime.date(1999, 12, 31), a
assert a["at"] == datetime.datetime(2024, 3, 1, 10, 20, 30, 500000, tzinfo=datetime.timezone.utc), a
assert a["at"].utcoffset() == datetime.timedelta(0), a
assert str(a["u"]) == "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11" and logical("u") == "uuid", (a, logical("u"))
assert a["name"] == "ü" and c["name"] == "", (a, c)
assert all(b[k] is None for k in ("amount", "born", "at", "u", "name")), b
assert c["amount"] == "NaN" and c["born"] == datetime.date(1, 1, 1), c
assert logical("amount") == "decimal" and logical("born") == "date" and logical("at") == "timestamp-micros"
print("ok")
PY
	ok $? "python3-avro reads the $codec file: Decimal, datetime.date, UTC datetime, the uuid logical type, NULLs" ||
		diag <"$T/py.out"
done

# files another writer made: Apache's Python writer (its deflate leaves zlib's
# adler32 after the stream; unions with null second; no sqlType)
$PY -W ignore - "$T" >"$T/pyw.out" 2>&1 <<'PY'
import sys, datetime, decimal, uuid
import avro.schema
from avro.datafile import DataFileWriter
from avro.io import DatumWriter
s = avro.schema.parse("""{"type": "record", "name": "py", "fields": [
 {"name": "id", "type": "long"}, {"name": "name", "type": ["null", "string"]},
 {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 3}},
 {"name": "day", "type": [{"type": "int", "logicalType": "date"}, "null"]},
 {"name": "at", "type": {"type": "long", "logicalType": "timestamp-micros"}},
 {"name": "u", "type": {"type": "string", "logicalType": "uuid"}},
 {"name": "ok", "type": "boolean"}, {"name": "x", "type": "double"}]}""")
total, days = decimal.Decimal(0), 0
for codec in ("null", "deflate", "snappy"):
    w = DataFileWriter(open(sys.argv[1] + "/py.%s.avro" % codec, "wb"), DatumWriter(), s, codec=codec)
    total, days = decimal.Decimal(0), 0
    for i in range(3000):
        amount = decimal.Decimal(i - 1500) + decimal.Decimal("0.125")
        day = datetime.date(2020, 1, 1) + datetime.timedelta(days=i) if i % 5 else None
        total += amount
        days += day is not None
        w.append({"id": i, "name": None if i % 3 == 0 else "n%d" % i, "amount": amount, "day": day,
                  "at": datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc) + datetime.timedelta(seconds=i),
                  "u": str(uuid.UUID(int=i)), "ok": i % 2 == 0, "x": i / 7})
    w.close()
print("3000|%s|%d|2024-01-01 00:49:59+00" % (total, days))
PY
for codec in null deflate snappy; do
	sl -q restore "$T/py.$codec.avro" --into "py_$codec" --create >"$T/r.out" 2>&1
	ok $? "restore --create of python3-avro's $codec file" || diag <"$T/r.out"
done
is "its values: the count, the decimals' sum, the dates, the last timestamp" \
	"$(wh "select count(*) || '|' || sum(amount) || '|' || count(day) || '|' || max(at) from py_deflate")" "$(cat "$T/pyw.out")"
is "the same rows from each codec's file" "$(wh "select count(distinct h) from (select md5(string_agg(t::text, ',' order by id)) h from py_null t
  union all select md5(string_agg(t::text, ',' order by id)) from py_deflate t union all select md5(string_agg(t::text, ',' order by id)) from py_snappy t) s")" 1

# ---- corrupt and truncated files -----------------------------------------------------
wh "create table big (id int primary key, v text, n numeric(10,2)); insert into big
    select g, md5(g::text), g / 100.0 from generate_series(1, 60000) g"
sl -q backup big --codec snappy --out "$T/big.snappy.avro" >/dev/null 2>&1
sl -q backup big --codec deflate --out "$T/big.deflate.avro" >/dev/null 2>&1
sl -q backup big --codec null --out "$T/big.null.avro" >/dev/null 2>&1
wh "create table big_r (like big)"
sl -q restore "$T/big.snappy.avro" --into big_r >/dev/null 2>&1
bsum=$(sum_of big_r)
is "the big table's round trip" "$bsum" "$(sum_of big)"
# the blocks' offsets, from the file itself (Python's reading of the format)
$PY - "$T/big.null.avro" >"$T/blocks.txt" <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
def varint(i):
    s = sh = 0
    while True:
        c = d[i]; i += 1; s |= (c & 0x7f) << sh; sh += 7
        if c < 0x80: return (s >> 1) ^ -(s & 1), i
i = 4
while True:
    n, i = varint(i)
    if n == 0: break
    for _ in range(2 * abs(n)):
        ln, i = varint(i); i += ln
sync = d[i:i + 16]; i += 16
while i < len(d):
    start = i
    cnt, i = varint(i); size, i = varint(i); i += size
    assert d[i:i + 16] == sync; i += 16
    print(start, i)
PY
nblocks=$(wc -l <"$T/blocks.txt")
[ "$nblocks" -ge 3 ]
ok $? "the file has several blocks ($nblocks)"
second=$(sed -n 2p "$T/blocks.txt" | cut -d' ' -f1)
size=$(wc -c <"$T/big.null.avro")
# corrupt CUT|FLIP OFFSET FILE: a copy of FILE cut at OFFSET, or with the byte at OFFSET flipped
corrupt() {
	cp "$3" "$T/bad.avro"
	if [ "$1" = cut ]; then truncate -s "$2" "$T/bad.avro"; else
		$PY -c "import sys; f=open(sys.argv[1],'r+b'); f.seek(int(sys.argv[2])); b=f.read(1); f.seek(int(sys.argv[2])); f.write(bytes([b[0]^0x5a]))" "$T/bad.avro" "$2"
	fi
}
# refused DESCRIPTION PATTERN: the restore of bad.avro (append and --replace) fails
# with PATTERN and leaves big_r as it was
refused() {
	sl -q restore "$T/bad.avro" --into big_r >"$T/r.out" 2>&1
	rc1=$?
	sl -q restore "$T/bad.avro" --into big_r --replace >>"$T/r.out" 2>&1
	rc2=$?
	[ $rc1 -eq 1 ] && [ $rc2 -eq 1 ] && [ "$(grep -c "$2" "$T/r.out")" -eq 2 ] && [ "$(sum_of big_r)" = "$bsum" ]
	ok $? "$1" || { diag <"$T/r.out"; echo "rc $rc1 $rc2" | diag; }
}
corrupt cut 3 "$T/big.null.avro"
refused "cut inside the magic: not an Avro file, table untouched" "bad magic at byte 0"
corrupt cut 200 "$T/big.null.avro"
refused "cut inside the header: named, table untouched" "header at byte\|ends inside the header"
corrupt cut $((second + 1)) "$T/big.null.avro"
refused "cut inside block 2's count or size: block 2 and its offset" "block 2 (at byte $second)"
corrupt cut $((second + 5000)) "$T/big.null.avro"
refused "cut inside block 2's data: block 2, its offset and the data's" "block 2 (at byte $second): the file ends inside the block's"
corrupt cut $((size - 3)) "$T/big.null.avro"
refused "cut inside the last sync marker: the last block named" "block $nblocks (at byte [0-9]*): .*sync marker"
corrupt cut "$second" "$T/big.null.avro"
refused "cut at a block boundary: the header's count tells it" "the file ends after block 1 (at byte $second) with .* records, and its header says 60000: it was cut short"
corrupt flip $((second - 3)) "$T/big.null.avro"
refused "a byte of block 1's sync marker flipped" "block 1 (at byte .*): bad sync marker"
corrupt flip $((second + 1)) "$T/big.null.avro"
refused "block 2's size flipped: block 2 named" "block 2 (at byte $second)"
# in a compressed block: the snappy file's CRC, the deflate file's inflate
sz=$(wc -c <"$T/big.snappy.avro")
corrupt flip $((sz / 2)) "$T/big.snappy.avro"
refused "a byte flipped in a snappy block: a CRC or snappy error with block and offset" "block [0-9]* (at byte [0-9]*): .*\(CRC\|snappy\|sync\|varint\|length\|count\)"
dz=$(wc -c <"$T/big.deflate.avro")
corrupt flip $((dz / 2)) "$T/big.deflate.avro"
refused "a byte flipped in a deflate block: the inflate's error with block and offset, or the header's CRC32" \
	"block [0-9]* (at byte [0-9]*)\|does not match the CRC32 in its header"
corrupt flip $((second + 3000)) "$T/big.null.avro"
refused "a byte flipped in a null block's data: the header's CRC32 tells it" \
	"the data of its $nblocks blocks (up to byte $size) does not match the CRC32 in its header"
corrupt cut $((dz / 2)) "$T/big.deflate.avro"
refused "the deflate file cut in the middle: block and offset" "block [0-9]* (at byte [0-9]*): "
printf 'not avro at all\n' >"$T/bad.avro"
refused "a file that is not Avro" "not an Avro object container file"

# ---- the kinds: examples/hr's backup pipeline -----------------------------------------
HR=$SLUICE_TESTDIR/backup_hr
"$SLUICE_BIN" -q -C "$HR" runner --stop >/dev/null 2>&1
"$SLUICE_BIN" -q -C "$HR" down >/dev/null 2>&1
rm -rf "$HR"
cp -r "$SLUICE_SRCDIR/examples/hr" "$HR"
rm -rf "$HR/.sluice" "$HR/data" "$HR/backups"
PROJ0=$PROJ
cleanup
PROJ=$HR
sl -q run migration --wait >"$T/mig.out" 2>&1
ok $? "examples/hr: the migration run" || diag <"$T/mig.out"
sl -q run backup --wait >"$T/bk.out" 2>&1
ok $? "examples/hr: the backup pipeline succeeds" || { diag <"$T/bk.out"; sl logs backup restore_employees 2>&1 | diag; }
HWH=$(sl --json up -q 2>/dev/null | json_get 'j["warehouse"]["address"]')
hwh() { psql "$HWH" -XAtqc "$1"; }
ls "$HR/backups/departments.avro" "$HR/backups/jobs.avro" "$HR/backups/employees.avro" >/dev/null 2>&1
ok $? "a file per table in backups/"
is "employees_restored has the employees' rows (checksum)" \
	"$(hwh "select md5(string_agg(t::text, ',' order by employee_id)) from employees_restored t")" \
	"$(hwh "select md5(string_agg(t::text, ',' order by employee_id)) from employees t")"
sl -q run backup --wait >"$T/bk.out" 2>&1
ok $? "a second run of the pipeline succeeds too (the new table made again)" || diag <"$T/bk.out"
sl -q logs latest backup_employees >"$T/log.out" 2>&1
grep -q "backup of employees: [0-9]* rows, [0-9]* columns, [0-9]* blocks" "$T/log.out"
ok $? "the backup task's log says what it wrote" || diag <"$T/log.out"
$PY -W ignore -c "
import sys
from avro.datafile import DataFileReader
from avro.io import DatumReader
n = sum(1 for _ in DataFileReader(open('$HR/backups/employees.avro', 'rb'), DatumReader()))
print(n)" >"$T/n.out" 2>&1
is "python3-avro reads the task's snappy file, every row" "$(cat "$T/n.out")" "$(hwh 'select count(*) from employees')"
cleanup
PROJ=$PROJ0
done_testing
