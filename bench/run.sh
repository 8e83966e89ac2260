#!/bin/sh
# make bench: sluice against anchors measured in the same run. Not a test:
# prints numbers and ratios, asserts nothing.
set -eu
bin=${1:?usage: bench/run.sh SLUICE_BINARY}
here=$(cd "$(dirname "$0")" && pwd)
work=${SLUICE_BENCH_DIR:-$(pwd)/bench-work}
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
