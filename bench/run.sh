#!/bin/sh
# make bench: sluice against anchors measured in the same run. Not a test:
# prints numbers and ratios, asserts nothing.
set -eu
bin=${1:?usage: bench/run.sh SLUICE_BINARY}
here=$(cd "$(dirname "$0")" && pwd)
work=${SLUICE_BENCH_DIR:-$(pwd)/bench-work}
for p in "$work/proj" "$work/loadproj"; do
	[ -d "$p/.sluice" ] && { "$bin" -q -C "$p" runner --stop >/dev/null 2>&1; "$bin" -q -C "$p" down >/dev/null 2>&1; }
done
rm -rf "$work"
mkdir -p "$work/proj/pipelines"
cat >"$work/proj/sluice.yml" <<YML
name: bench
runner:
  workers: 2
YML
python3 "$here/gen_dag.py" "$work/proj" "$work/Makefile"
now() { date +%s.%N; }

echo "== runner: 1000-task no-op DAG (10 layers x 100, 3 upstreams each), 2 workers"
t0=$(now); make -s -j2 -f "$work/Makefile" >/dev/null; t1=$(now)
make_s=$(echo "$t1 - $t0" | bc -l)

"$bin" -q -C "$work/proj" up >/dev/null
"$bin" -q -C "$work/proj" runner --workers 2 --no-schedule >/dev/null
# warm-up run of a tiny pipeline so connections and caches are hot
t0=$(now)
"$bin" -q -C "$work/proj" run bench --wait >/dev/null
t1=$(now)
sl_s=$(echo "$t1 - $t0" | bc -l)
state=$("$bin" -C "$work/proj" --json status bench | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["state"], sum(t["state"]=="success" for t in j["tasks"]))')
"$bin" -q -C "$work/proj" runner --stop >/dev/null 2>&1 || true
"$bin" -q -C "$work/proj" down >/dev/null 2>&1 || true

printf '%-34s %8.3f s\n' "make -j2 (recipe true)" "$make_s"
printf '%-34s %8.3f s   (%s)\n' "sluice run --wait, 2 workers" "$sl_s" "$state"
printf '%-34s %8.3f ms  (budget 3 ms)\n' "sluice per-task overhead" "$(echo "$sl_s * 1000 / 1000" | bc -l)"
printf '%-34s %8.1f x\n' "sluice / make" "$(echo "$sl_s / $make_s" | bc -l)"

# ---- loads -------------------------------------------------------------------
# The same 1,000,000-row CSV (~100 MB) into the same table, emptied before
# each load: psql \copy (the anchor, no checks), sluice with its contract
# (every row checked), sluice on a 1%-dirty copy (every reject kept), and
# pgloader when installed. Best of 3 wall-clock times; peak RSS of the client.
echo
echo "== loads: 1,000,000-row transactions CSV (~100 MB), contract bench/transactions.yml"
rows=1000000
python3 "$here/gen_transactions.py" $rows 0 "$work/tx_clean.csv"
python3 "$here/gen_transactions.py" $rows 1 "$work/tx_dirty.csv"
mkdir -p "$work/loadproj/pipelines"
printf 'name: loadbench\n' >"$work/loadproj/sluice.yml"
"$bin" -q -C "$work/loadproj" up >/dev/null
wh=$("$bin" -q -C "$work/loadproj" --json up | python3 -c 'import json,sys; print(json.load(sys.stdin)["warehouse"]["address"])')
sock=$(echo "$wh" | sed -n 's/.*host=\([^ ]*\).*/\1/p')
user=$(echo "$wh" | sed -n "s/.*user=\([^ ]*\).*/\1/p")
psql "$wh" -XqAt -c "set client_min_messages = warning; drop table if exists tx; create table tx (transaction_id bigint, reference text,
  customer_id int, product text, quantity int, price numeric(12,2), tax numeric(12,2), currency text,
  transaction_date timestamptz)"

# run NAME COMMAND...: one run of COMMAND into the emptied table; keeps the
# fastest wall-clock time and its peak RSS in $work/NAME.best ("seconds kb")
run() {
	name=$1; shift
	psql "$wh" -XqAt -c "truncate tx; checkpoint"
	if ! /usr/bin/time -f "%e %M" -o "$work/time.out" "$@" >"$work/$name.log" 2>&1; then
		echo "$name failed (see $work/$name.log):" >&2
		tail -n 3 "$work/$name.log" >&2
		return 0
	fi
	new=$(tail -n 1 "$work/time.out")
	if [ ! -s "$work/$name.best" ] || [ "$(echo "${new% *} < $(cut -d' ' -f1 "$work/$name.best")" | bc -l)" -eq 1 ]; then
		echo "$new" >"$work/$name.best"
	fi
}
best() { cat "$work/$1.best" 2>/dev/null || echo "0 0"; }
contract="$here/transactions.yml"
# interleaved, so a busy moment of the machine does not favour one side
for i in 1 2 3 4 5; do
	run psql psql "$wh" -Xq -c "\\copy tx from '$work/tx_clean.csv' csv header"
	run sluice_clean "$bin" -q -C "$work/loadproj" load "$work/tx_clean.csv" --into tx --contract "$contract"
	clean_rows=$(psql "$wh" -XAt -c "select count(*) from tx")
	run sluice_dirty "$bin" -q -C "$work/loadproj" load "$work/tx_dirty.csv" --into tx --contract "$contract"
	dirty_rows=$(psql "$wh" -XAt -c "select count(*) from tx")
done
psql_r=$(best psql); clean_r=$(best sluice_clean); dirty_r=$(best sluice_dirty)
state=$("$bin" -q -C "$work/loadproj" --json up | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"]["address"])')
kept=$(psql "$state" -XAt -c "select count(*) from sluice.rejects where load_id = (select max(id) from sluice.loads)")
pgl_r=""
if command -v pgloader >/dev/null 2>&1; then
	cat >"$work/tx.load" <<PGL
LOAD CSV FROM '$work/tx_clean.csv'
  INTO postgresql://$user@unix:$sock:5432/warehouse?tx
  WITH skip header = 1, fields terminated by ',', fields optionally enclosed by '"'
  SET client_encoding to 'utf8';
PGL
	run pgloader pgloader -q "$work/tx.load"
	pgl_r=$(best pgloader)
fi
"$bin" -q -C "$work/loadproj" down >/dev/null 2>&1 || true

line() { # line NAME "SECONDS RSS" NOTE
	s=${2% *}; m=${2#* }
	if [ "$s" = 0 ]; then printf '%-30s %s\n' "$1" "failed"; return; fi
	printf '%-30s %7.2f s %10.0f rows/s %6.2f x psql  %7.1f MB RSS  %s\n' "$1" "$s" "$(echo "$rows / $s" | bc -l)" \
		"$(echo "${psql_r% *} / $s" | bc -l)" "$(echo "$m / 1024" | bc -l)" "$3"
}
line "psql \\copy (no checks)" "$psql_r" ""
line "sluice load, contract" "$clean_r" "($clean_rows rows)"
line "sluice load, 1% dirty" "$dirty_r" "($dirty_rows rows, $kept rejects kept)"
if [ -n "$pgl_r" ]; then
	line "pgloader" "$pgl_r" ""
else
	echo "pgloader                       skipped: not installed (apt-get install pgloader)"
fi
printf '%-30s %7.2f   (budget: clean >= 0.9 x psql, dirty within 15%% of clean, RSS < 64 MB)\n' \
	"dirty / clean time" "$(echo "${dirty_r% *} / ${clean_r% *}" | bc -l)"
sh "$here/console.sh" "$bin" "$work"
