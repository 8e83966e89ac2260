#!/bin/sh
# The console's table browser on a 10,000,000-row table (bigint key, an int
# and a text column, analysed), beside psql | pspg on the same table in the
# same run: the time from the key to the screen that shows its rows (the
# console's own trace, SLUICE_CONSOLE_TRACE's rows_ms, and the pane polled)
# for the first screen, PgDn, G, a filter and a sort, and the console's peak
# RSS (VmHWM) over all of it; for pspg, the time until psql's rows are on its
# screen and the peak RSS of psql and of pspg. Budgets: first screen <= 100
# ms, RSS <= 64 MB. Measurements, not assertions.
#
#   bench/tables.sh SLUICE_BINARY [WORKDIR]     (SLUICE_BENCH_TABLE_ROWS=N for another size)
set -eu
bin=${1:?usage: bench/tables.sh SLUICE_BINARY [WORKDIR]}
case $bin in /*) ;; *) bin=$(pwd)/$bin ;; esac
work=${2:-${SLUICE_BENCH_DIR:-$(pwd)/bench-work}}/tables
rows=${SLUICE_BENCH_TABLE_ROWS:-10000000}
proj=$work/proj
sock=$work/tmux.sock

command -v tmux >/dev/null || { echo "tables bench: needs tmux" >&2; exit 2; }
if ! command -v pspg >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
	apt-get install -y pspg >/dev/null 2>&1 || true
fi
[ -d "$proj/.sluice" ] && "$bin" -q -C "$proj" down >/dev/null 2>&1 || true
rm -rf "$work"
mkdir -p "$proj/pipelines"
printf 'name: tablesbench\n' >"$proj/sluice.yml"
# shellcheck disable=SC2317 # called from the trap
cleanup() {
	tmux -S "$sock" kill-server >/dev/null 2>&1 || true
	"$bin" -q -C "$proj" down >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo
echo "== tables: the console's table browser on $rows rows, beside psql | pspg"
"$bin" -q -C "$proj" up >/dev/null
wh=$("$bin" -q -C "$proj" --json up | python3 -c 'import json,sys; print(json.load(sys.stdin)["warehouse"]["address"])')
t0=$(date +%s.%N)
psql "$wh" -XAtq -v ON_ERROR_STOP=1 <<SQL
create table public.big (id bigint primary key, grp int, val text);
insert into public.big select g, (g * 7919 % 1000)::int, case when g % 4 = 0 then null else 'value ' || (g % 5000) end
  from generate_series(1, $rows::bigint) g;
analyze public.big;
SQL
printf '%-34s %7.1f s\n' "table made (insert + index + analyze)" "$(echo "$(date +%s.%N) - $t0" | bc -l)"

cat >"$work/drive.py" <<'PY'
import json, re, statistics, subprocess, sys, time

sock, trace_path, binary, proj = sys.argv[1:5]
rows = int(sys.argv[5])

def tmux(*a, out=False):
    r = subprocess.run(["tmux", "-S", sock] + list(a), text=True,
                       stdout=subprocess.PIPE if out else subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return r.stdout if out else r.returncode

def screen(t):
    return tmux("capture-pane", "-p", "-t", t, out=True) or ""

def wait_for(t, pattern, t0, timeout=120.0):
    rx = re.compile(pattern, re.M)
    while time.monotonic() - t0 < timeout:
        if rx.search(screen(t)):
            return (time.monotonic() - t0) * 1000.0
        time.sleep(0.002)
    return None

def trace():
    try:
        with open(trace_path) as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []

def rows_ms_after(n, t0, timeout=120.0):
    while time.monotonic() - t0 < timeout:
        new = [l for l in trace()[n:] if l.startswith("rows_ms ")]
        if new:
            return float(new[-1].split()[1])
        time.sleep(0.002)
    return None

def step(t, keys, pattern, literal=False):
    """sends keys (the last one timed); ms from it to the trace's rows_ms and to the pattern on screen"""
    for k in keys[:-1]:
        tmux("send-keys", "-t", t, "-l", k) if literal else tmux("send-keys", "-t", t, k)
    time.sleep(0.3)
    n = len(trace())
    t0 = time.monotonic()
    tmux("send-keys", "-t", t, keys[-1])
    shown = wait_for(t, pattern, t0)
    traced = rows_ms_after(n, t0, 5.0)
    time.sleep(0.3)
    return traced, shown

def hwm(pid):
    with open("/proc/%s/status" % pid) as f:
        return int([l.split()[1] for l in f if l.startswith("VmHWM:")][0])

t = "c"
tmux("new-session", "-d", "-s", t, "-x", "160", "-y", "50",
     "exec env SLUICE_CONSOLE_TRACE='%s' LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=tmux-256color '%s' -C '%s'"
     % (trace_path, binary, proj))
if wait_for(t, r"PIPELINE", time.monotonic(), 30) is None:
    sys.exit("tables bench: the console did not start")
time.sleep(1.0)
pane = tmux("list-panes", "-t", t, "-F", "#{pane_pid}", out=True).strip()
# exec'ed: the pane's process is the console
pid = pane
res = {}
row1 = r"^\W*1 +[0-9]+ +value 1 *$"
res["first screen (:table, connect)"] = step(t, [":table public.big", "Enter"], row1, literal=True)
# a second first screen, on the open connection
res["first screen (g)"] = step(t, ["G", "g"], row1)
# a screen's rows, from the first one
page = len(re.findall(r"^\W*[0-9]+ +[0-9]+ +(value [0-9]+|NULL) *$", screen(t), re.M))
pg = []
for i in range(10):
    pg.append(step(t, ["NPage"], r"^\W*%d +[0-9]+ " % ((i + 1) * page + 1)))
res["PgDn (median of 10)"] = (statistics.median([x[0] for x in pg if x[0] is not None] or [0]),
                              statistics.median([x[1] for x in pg if x[1] is not None] or [0]))
res["G (the last screen)"] = step(t, ["G"], r"^\W*%d +" % rows)
res["filter id % 7 = 0"] = step(t, ["/", "id % 7 = 0", "Enter"], r"^\W*7 +[0-9]+ ", literal=True)
tmux("send-keys", "-t", t, "Escape")
time.sleep(1.0)
res["sort by grp (no index)"] = step(t, ["l", "s"], r"^\W*[0-9]+ +0 +")
peak = hwm(pid)
tmux("send-keys", "-t", t, "Q")
time.sleep(0.5)
for k, (traced, shown) in res.items():
    print("%-34s %8s ms (trace)  %8s ms (screen)" % (k, "%.1f" % traced if traced else "n/a",
                                                     "%.1f" % shown if shown else "n/a"))
print("%-34s %8.1f MB" % ("console peak RSS (VmHWM)", peak / 1024.0))
fs = res["first screen (g)"][0]
print("budget: first screen <= 100 ms: %s; RSS <= 64 MB: %s" % (
    "ok" if fs is not None and fs <= 100 else "OVER BUDGET", "ok" if peak <= 65536 else "OVER BUDGET"))
PY
python3 "$work/drive.py" "$sock" "$work/console.trace" "$bin" "$proj" "$rows"

# the anchor: psql's rows into pspg, until its first screen shows them
if command -v pspg >/dev/null 2>&1; then
	cat >"$work/pspg.py" <<'PY'
import re, subprocess, sys, time
sock, wh, work = sys.argv[1:4]
def tmux(*a, out=False):
    r = subprocess.run(["tmux", "-S", sock] + list(a), text=True,
                       stdout=subprocess.PIPE if out else subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return r.stdout if out else r.returncode
cmd = ("exec sh -c \"/usr/bin/time -f %%M -o '%s/psql.rss' psql '%s' -X -c 'select * from public.big order by id' | pspg\""
       % (work, wh))
t0 = time.monotonic()
tmux("new-session", "-d", "-s", "p", "-x", "160", "-y", "50", cmd)
rx = re.compile(r"^\W*1 +[│|] +[0-9]+ +[│|] +value 1", re.M)
shown = None
while time.monotonic() - t0 < 600:
    if rx.search(tmux("capture-pane", "-p", "-t", "p", out=True) or ""):
        shown = (time.monotonic() - t0) * 1000.0
        break
    time.sleep(0.01)
pane = tmux("list-panes", "-t", "p", "-F", "#{pane_pid}", out=True).strip()
pids = subprocess.run(["pgrep", "-x", "pspg"], text=True, stdout=subprocess.PIPE).stdout.split()
peak = 0
for p in pids:
    try:
        with open("/proc/%s/status" % p) as f:
            peak = max(peak, int([l.split()[1] for l in f if l.startswith("VmHWM:")][0]))
    except OSError:
        pass
tmux("send-keys", "-t", "p", "q")
time.sleep(1.0)
try:
    psql_kb = int(open(work + "/psql.rss").read().split()[-1])
except (OSError, ValueError, IndexError):
    psql_kb = 0
print("%-34s %8s ms (screen)" % ("psql | pspg: first screen", "%.0f" % shown if shown else "n/a"))
print("%-34s %8.1f MB psql (all of it), %.1f MB pspg (at its first screen)" % ("psql | pspg peak RSS", psql_kb / 1024.0, peak / 1024.0))
PY
	python3 "$work/pspg.py" "$sock" "$wh" "$work"
else
	echo "psql | pspg                        skipped: pspg is not installed (apt-get install pspg)"
fi
