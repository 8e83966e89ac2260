#!/bin/sh
# make bench, section backup: the load benchmark's 1,000,000-row table (tx,
# bench/gen_transactions.py) backed up by sluice with each codec beside
# pg_dump -Fc and pg_dump -Fc -Z0 of the same table, and restored (a new
# table made from the file, then loaded) beside pg_restore of the -Fc dump.
# Best of 3 interleaved wall-clock times, sizes, ratios; asserts nothing.
# usage: bench/backup.sh SLUICE_BINARY WORK_DIR
set -eu
bin=${1:?usage: bench/backup.sh SLUICE_BINARY WORK_DIR}
work=${2:?usage: bench/backup.sh SLUICE_BINARY WORK_DIR}
here=$(cd "$(dirname "$0")" && pwd)
bp=$work/backupproj
[ -d "$bp/.sluice" ] && { "$bin" -q -C "$bp" down >/dev/null 2>&1 || true; }
rm -rf "$bp"
mkdir -p "$bp/pipelines"
printf 'name: backupbench\n' >"$bp/sluice.yml"
echo
echo "== backup: the loads' 1,000,000-row table tx (9 columns: bigint, text, int, numeric(12,2), timestamptz ...)"
rows=1000000
[ -s "$work/tx_clean.csv" ] || python3 "$here/gen_transactions.py" $rows 0 "$work/tx_clean.csv"
"$bin" -q -C "$bp" up >/dev/null
wh=$("$bin" -q -C "$bp" --json up | python3 -c 'import json,sys; print(json.load(sys.stdin)["warehouse"]["address"])')
psql "$wh" -XqAt -c "set client_min_messages = warning; drop table if exists tx; create table tx (transaction_id bigint, reference text,
  customer_id int, product text, quantity int, price numeric(12,2), tax numeric(12,2), currency text,
  transaction_date timestamptz)" -c "\\copy tx from '$work/tx_clean.csv' csv header" -c "vacuum analyze tx"
sum_sql="select md5(string_agg(t::text, ',' order by transaction_id)) from %s t"
want=$(psql "$wh" -XAt -c "$(printf "$sum_sql" tx)")

# timed NAME COMMAND...: one run; keeps the fastest wall-clock time in $work/NAME.best
timed() {
	name=$1; shift
	if ! /usr/bin/time -f "%e" -o "$work/bk_time.out" "$@" >"$work/bk_$name.log" 2>&1; then
		echo "$name failed (see $work/bk_$name.log):" >&2
		tail -n 3 "$work/bk_$name.log" >&2
		return 0
	fi
	new=$(tail -n 1 "$work/bk_time.out")
	if [ ! -s "$work/bk_$name.best" ] || [ "$(echo "$new < $(cat "$work/bk_$name.best")" | bc -l)" -eq 1 ]; then
		echo "$new" >"$work/bk_$name.best"
	fi
}
fresh() { psql "$wh" -XqAt -c "set client_min_messages = warning; drop table if exists $1" -c checkpoint; }
rm -f "$work"/bk_*.best
runs=${SLUICE_BENCH_RUNS:-3}
for i in $(seq "$runs"); do
	timed dump pg_dump -Fc -t tx -d "$wh" -f "$work/tx.dump"
	timed dump0 pg_dump -Fc -Z0 -t tx -d "$wh" -f "$work/tx0.dump"
	for c in null deflate snappy; do
		timed "b_$c" "$bin" -q -C "$bp" backup tx --codec $c --out "$work/tx.$c.avro"
	done
	# restores: each into a new table it makes, as pg_restore does
	psql "$wh" -XqAt -c "alter table tx rename to tx_orig"
	fresh tx
	timed restore pg_restore -d "$wh" "$work/tx.dump"
	psql "$wh" -XqAt -c "set client_min_messages = warning; drop table tx; alter table tx_orig rename to tx"
	for c in deflate snappy; do
		fresh tx_r
		timed "r_$c" "$bin" -q -C "$bp" restore "$work/tx.$c.avro" --into tx_r --create
	done
done
got=$(psql "$wh" -XAt -c "$(printf "$sum_sql" tx_r)")
"$bin" -q -C "$bp" down >/dev/null 2>&1 || true

best() { cat "$work/bk_$1.best" 2>/dev/null || echo 0; }
size() { wc -c <"$1" 2>/dev/null || echo 0; }
dump_s=$(best dump); dump_b=$(size "$work/tx.dump"); rest_s=$(best restore)
# line NAME SECONDS BYTES: time, size, speed and size against pg_dump -Fc
line() {
	if [ "$2" = 0 ]; then printf '%-34s failed\n' "$1"; return; fi
	printf '%-34s %6.2f s %7.1f MB   %5.2f x pg_dump -Fc speed  %5.2f x its size\n' "$1" "$2" \
		"$(echo "$3 / 1000000" | bc -l)" "$(echo "$dump_s / $2" | bc -l)" "$(echo "$3 / $dump_b" | bc -l)"
}
line "pg_dump -Fc -t tx (anchor)" "$dump_s" "$dump_b"
line "pg_dump -Fc -Z0 -t tx" "$(best dump0)" "$(size "$work/tx0.dump")"
for c in null deflate snappy; do
	line "sluice backup --codec $c" "$(best "b_$c")" "$(size "$work/tx.$c.avro")"
done
echo "goals: deflate >= 1.5 x pg_dump -Fc speed at <= 1.15 x its size; snappy >= 5 x its speed"
printf '%-34s %6.2f s   (of the -Fc dump, into a new table)\n' "pg_restore (anchor)" "$rest_s"
for c in deflate snappy; do
	r=$(best "r_$c")
	if [ "$r" = 0 ]; then printf '%-34s failed\n' "sluice restore --create ($c)"; continue; fi
	printf '%-34s %6.2f s   %5.2f x pg_restore speed\n' "sluice restore --create ($c)" "$r" "$(echo "$rest_s / $r" | bc -l)"
done
echo "goal: restore >= 1.0 x pg_restore speed"
[ "$got" = "$want" ] && echo "restored table's checksum: the same as the table's" ||
	echo "restored table's checksum DIFFERS: $got, want $want"
