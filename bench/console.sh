#!/bin/sh
# The console against real services: time to first frame, CPU while idle,
# redraw of a 200-task x 50-run grid, keystroke latency in the 1000-task DAG.
# Drives `sluice` in a private tmux server and reads SLUICE_CONSOLE_TRACE.
# Measurements, not assertions: prints OVER BUDGET beside a number and still
# exits 0. Takes about 2.5 minutes (60 s of it the idle measurement).
#
#   bench/console.sh SLUICE_BINARY [WORKDIR]
set -eu
bin=${1:?usage: bench/console.sh SLUICE_BINARY [WORKDIR]}
case $bin in /*) ;; *) bin=$(pwd)/$bin ;; esac
here=$(cd "$(dirname "$0")" && pwd)
work=${2:-${SLUICE_BENCH_DIR:-$(pwd)/bench-work}}/console
proj=$work/proj
sock=$work/tmux.sock
cols=200 rows=50
starts=5 idle_s=60 grid_runs=50

command -v tmux >/dev/null || { echo "console bench: needs tmux" >&2; exit 2; }
rm -rf "$work"
mkdir -p "$proj/pipelines"

# shellcheck disable=SC2317 # called from the trap
cleanup() {
	tmux -S "$sock" kill-server >/dev/null 2>&1 || true
	rm -f "$sock"
	"$bin" -q -C "$proj" down >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The demo project, plus a 200-task pipeline (10 layers of 20, 2 upstreams
# each) for the grid and the 1000-task bench DAG for the graph view.
cp "$here/../examples/demo/sluice.yml" "$proj/sluice.yml"
cp "$here/../examples/demo/pipelines/daily_sales.yml" "$proj/pipelines/"
python3 "$here/gen_dag.py" "$proj" "$work/Makefile"
python3 - "$proj/pipelines/grid200.yml" <<'PY'
import sys
L, W = 10, 20
with open(sys.argv[1], "w") as f:
    f.write("description: 200 no-op tasks, 10 layers of 20, 2 upstreams each\ntasks:\n")
    for l in range(L):
        for i in range(W):
            dep = f", depends_on: [t{l-1:02d}_{i:02d}, t{l-1:02d}_{(i+1) % W:02d}]" if l else ""
            f.write(f"  t{l:02d}_{i:02d}: {{ kind: shell, command: \"true\"{dep} }}\n")
PY

# The driver: starts the console in tmux, polls the screen, sends keys one at
# a time and waits for each key's frame in the trace.
cat >"$work/drive.py" <<'PY'
import json, os, re, statistics, subprocess, sys, time

sock, cmd = sys.argv[1], sys.argv[2]
args = sys.argv[3:]

def tmux(*a, out=False):
    r = subprocess.run(["tmux", "-S", sock] + list(a), text=True,
                       stdout=subprocess.PIPE if out else subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    return r.stdout if out else r.returncode

def screen(target):
    return tmux("capture-pane", "-p", "-t", target, out=True) or ""

def wait_for(target, pattern, t0, timeout=30.0):
    """ms from t0 until the pane shows pattern (polled, ~2-5 ms steps)."""
    rx = re.compile(pattern, re.M)
    while time.monotonic() - t0 < timeout:
        if rx.search(screen(target)):
            return (time.monotonic() - t0) * 1000.0
        time.sleep(0.001)
    return None

def trace(path):
    try:
        with open(path) as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []

def console(target, trace_path, binary, proj, cols, rows):
    c = ("exec env SLUICE_CONSOLE_TRACE='%s' LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=tmux-256color '%s' -C '%s'"
         % (trace_path, binary, proj))
    t0 = time.monotonic()
    tmux("new-session", "-d", "-s", target, "-x", cols, "-y", rows, c)
    return t0

def quit(target):
    tmux("send-keys", "-t", target, "Q")
    t0 = time.monotonic()
    while tmux("has-session", "-t", target) == 0 and time.monotonic() - t0 < 5:
        time.sleep(0.01)
    tmux("kill-session", "-t", target)

HEADER = r"^ ?sluice\W+demo\b"
DATA = r"daily_sales .*failed"

if cmd == "starts":
    # start N times: first_frame_ms from the trace, wall ms until header / data
    n, tdir, binary, proj, cols, rows = args
    res = {"trace": [], "header": [], "data": []}
    for i in range(int(n)):
        tp = os.path.join(tdir, "start%d.trace" % i)
        target = "start%d" % i
        t0 = console(target, tp, binary, proj, cols, rows)
        res["header"].append(wait_for(target, HEADER, t0))
        res["data"].append(wait_for(target, DATA, t0))
        quit(target)
        ff = [float(l.split()[1]) for l in trace(tp) if l.startswith("first_frame_ms ")]
        res["trace"].append(ff[0] if ff else None)
    def med(k):
        xs = [x for x in res[k] if x is not None]
        return "%.0f" % statistics.median(xs) if xs else "n/a"
    tr = [x for x in res["trace"] if x is not None]
    print(med("trace"), "%.0f-%.0f" % (min(tr), max(tr)) if tr else "n/a", med("header"), med("data"))

elif cmd == "open":
    # start the console for the long session; print its pid once it has drawn
    target, tp, binary, proj, cols, rows = args
    t0 = console(target, tp, binary, proj, cols, rows)
    if wait_for(target, DATA, t0) is None:
        sys.exit("console bench: the console did not draw the pipelines")
    time.sleep(1.0)
    print(tmux("list-panes", "-t", target, "-F", "#{pane_pid}", out=True).strip())

elif cmd == "go":
    # type a : command and Enter; ms until the pattern is on screen
    target, command, pattern = args
    tmux("send-keys", "-t", target, "-l", command)
    time.sleep(0.2)
    t0 = time.monotonic()
    tmux("send-keys", "-t", target, "Enter")
    ms = wait_for(target, pattern, t0)
    time.sleep(0.5)
    print(json.dumps(ms))

elif cmd == "keys":
    # each key alone: send it, wait for its key_ms line in the trace
    target, tp = args[:2]
    out = []
    for k in args[2:]:
        n = len(trace(tp))
        tmux("send-keys", "-t", target, k)
        t0 = time.monotonic()
        got = None
        while got is None and time.monotonic() - t0 < 3.0:
            new = [l for l in trace(tp)[n:] if l.startswith("key_ms ")]
            if new:
                got = float(new[0].split()[1])
            else:
                time.sleep(0.001)
        out.append(got)
        time.sleep(0.02)
    print(json.dumps(out))

elif cmd == "quit":
    quit(args[0])

elif cmd == "stat":
    # pid: utime+stime ticks, voluntary context switches
    pid = args[0]
    with open("/proc/%s/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    with open("/proc/%s/status" % pid) as f:
        vcs = [l.split()[1] for l in f if l.startswith("voluntary_ctxt_switches")][0]
    with open("/proc/%s/comm" % pid) as f:
        comm = f.read().strip()
    print(int(fields[11]) + int(fields[12]), vcs, comm)

elif cmd == "summary":
    # JSON list -> "median / p95 / max ms (n=N)"
    xs = sorted(x for x in json.loads(args[0]) if x is not None)
    if not xs:
        print("n/a"); sys.exit()
    p95 = xs[max(0, -(-95 * len(xs) // 100) - 1)]
    miss = len(json.loads(args[0])) - len(xs)
    print("%.1f / %.1f / %.1f ms  (n=%d%s)" % (statistics.median(xs), p95, xs[-1], len(xs),
          ", %d without a frame" % miss if miss else ""))

PY
drive() { python3 "$work/drive.py" "$sock" "$@"; }
now() { date +%s.%N; }
rep() { i=0; while [ $i -lt "$2" ]; do printf '%s ' "$1"; i=$((i + 1)); done; }
over() { # over VALUE LIMIT -> "ok" or "OVER BUDGET"
	if [ "$1" = n/a ]; then echo "no number"
	elif [ "$(echo "$1 > $2" | bc -l)" = 1 ]; then echo "OVER BUDGET"
	else echo ok; fi
}

echo
echo "== console: demo project + 200-task pipeline x $grid_runs runs + 1000-task DAG, services up"
"$bin" -q -C "$proj" up >/dev/null
"$bin" -q -C "$proj" runner --workers 2 --no-schedule >/dev/null
"$bin" -q -C "$proj" run daily_sales --wait >/dev/null 2>&1 || true   # fails by design
t0=$(now)
k=0
while [ $k -lt $grid_runs ]; do
	d=$(printf '2025-%02d-%02d' $((k / 28 + 1)) $((k % 28 + 1)))
	"$bin" -q -C "$proj" run grid200 --date "$d" --wait >/dev/null 2>&1 || true
	k=$((k + 1))
done
t1=$(now)
"$bin" -q -C "$proj" run bench --wait >/dev/null 2>&1 || true
grid_ok=$("$bin" -C "$proj" --json status --limit 200 | python3 -c '
import json, sys
j = json.load(sys.stdin)
print(sum(r["pipeline"] == "grid200" and r["state"] == "success" for r in j["runs"]))')
printf '   (%s grid runs in %.0f s, %s succeeded)\n' "$grid_runs" "$(echo "$t1 - $t0" | bc -l)" "$grid_ok"

# a server of our own; a holder session keeps it up between starts
tmux -S "$sock" -f /dev/null new-session -d -s hold -x $cols -y $rows 'sleep 86400'
mkdir -p "$work/trace"

echo "== console: $starts starts to the first frame"
drive starts $starts "$work/trace" "$bin" "$proj" $cols $rows >"$work/starts"
read -r ff ff_range hd dt <"$work/starts"

echo "== console: ${idle_s} s idle"
tr=$work/trace/session.trace
pid=$(drive open main "$tr" "$bin" "$proj" $cols $rows)
drive stat "$pid" >"$work/stat0"
read -r a_ticks a_vcs comm <"$work/stat0"
[ "$comm" = sluice ] || echo "   (pane process is $comm, not sluice)"
sleep $idle_s
drive stat "$pid" >"$work/stat1"
read -r b_ticks b_vcs comm <"$work/stat1"
hz=$(getconf CLK_TCK)
idle_ticks=$((b_ticks - a_ticks))
idle_cpu=$(printf '%.2f' "$(echo "$idle_ticks / $hz" | bc -l)")
idle_wake=$((b_vcs - a_vcs))

echo "== console: runs grid and DAG view"
grid_open=$(drive go main ":runs grid200" '^.{1,3}t00_00 +\S +\S +\S')
# shellcheck disable=SC2046 # a list of keys
ctl_l=$(drive keys main "$tr" $(rep C-l 30))
# shellcheck disable=SC2046
jmove=$(drive keys main "$tr" $(rep j 30))
dag_open=$(drive go main ":dag bench" 'bench graph[\s\S]*t[0-9]{2}_[0-9]{3}')
# shellcheck disable=SC2046
dag=$(drive keys main "$tr" $(rep j 10; rep l 10; rep j 10; rep h 10; rep k 10))
drive quit main
tmux -S "$sock" kill-server >/dev/null 2>&1 || true
"$bin" -q -C "$proj" down >/dev/null 2>&1 || true

fmt_ms() { if [ "$1" = null ]; then echo "n/a"; else printf '%.0f ms' "$1"; fi; }
echo
echo "== console ($cols x $rows tmux pane, services up, $(nproc 2>/dev/null || echo '?') cores)"
printf '%-46s %-36s %s\n' "measure" "value" "budget"
printf '%-46s %-36s %s\n' "first frame (trace), median of $starts" "$ff ms  ($ff_range)" "< 150 ms  $(over "$ff" 150)"
printf '%-46s %-36s %s\n' "  tmux start -> header on screen (polled)" "$hd ms" "< 150 ms  $(over "$hd" 150)"
printf '%-46s %-36s %s\n' "  tmux start -> last runs on screen (polled)" "$dt ms" "-"
printf '%-46s %-36s %s\n' "CPU over ${idle_s} s idle (utime+stime)" "$idle_cpu s  ($idle_ticks ticks, $idle_wake wakeups)" "~0 (<= 0.05 s)  $(over "$idle_cpu" 0.05)"
printf '%-46s %-36s %s\n' "grid 200 tasks x $grid_runs runs: open (polled)" "$(fmt_ms "$grid_open")" "-"
printf '%-46s %-36s %s\n' "  Ctrl-L full redraw, median/p95/max" "$(drive summary "$ctl_l")" "-"
printf '%-46s %-36s %s\n' "  j move, median/p95/max" "$(drive summary "$jmove")" "-"
printf '%-46s %-36s %s\n' "DAG 1000 tasks: open (polled)" "$(fmt_ms "$dag_open")" "-"
printf '%-46s %-36s %s\n' "  hjkl move, median/p95/max" "$(drive summary "$dag")" "-"
echo "(trace: key read -> frame written to the terminal; polled: from tmux start or"
echo " Enter until capture-pane shows it, polled every ~3 ms, tmux's own time included)"
exit 0
