#!/bin/sh
# Hostile project files: nested aliases, deep nesting, a pipeline file that is
# /dev/zero, a FIFO or too big. Each is an error naming the place and the
# limit, reached within a memory and time bound measured from outside; and
# the services can still be started, inspected and stopped with them in place.
. "$SLUICE_SRCDIR/tests/integration/lib.sh"

echo "1..29"

PROJ=$(mkproj hostile)
P=$PROJ/pipelines
trap cleanup EXIT
trap 'exit 1' INT TERM
cat >"$P/good.yml" <<'YML'
tasks:
  a:
    kind: shell
    command: "true"
YML

# The bounds: 10 s of wall time, 200 MB of address space and 100 MB of
# resident memory. An ASan build reserves terabytes of address space for its
# shadow memory, so there only the resident size is bounded.
ASAN=0
ldd "$SLUICE_BIN" 2>/dev/null | grep -q libasan && ASAN=1
LIMIT_S=10
LIMIT_AS_MB=200
LIMIT_RSS_MB=100
BOUNDED_PY='
import resource, subprocess, sys, time
limit_s, limit_as, out, err = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
def limits():
    if limit_as:
        resource.setrlimit(resource.RLIMIT_AS, (limit_as << 20, limit_as << 20))
t = time.monotonic()
with open(out, "w") as o, open(err, "w") as e:
    try:
        rc = subprocess.run(sys.argv[5:], stdout=o, stderr=e, stdin=subprocess.DEVNULL,
                            preexec_fn=limits, timeout=limit_s).returncode
    except subprocess.TimeoutExpired:
        rc = "timeout"
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
print(rc, rss, "%.2f" % (time.monotonic() - t))
'

# bounded NAME CMD...: runs CMD within the bounds; its output goes to
# $T/NAME.out and $T/NAME.err; sets rc (a number, or "timeout"; a signal is
# negative), rss (MB) and secs.
T=$SLUICE_TESTDIR/hostile.out
rm -rf "$T"
mkdir -p "$T"
bounded() {
	name=$1
	shift
	as=$LIMIT_AS_MB
	[ "$ASAN" -eq 1 ] && as=0
	set -- $(python3 -c "$BOUNDED_PY" "$LIMIT_S" "$as" "$T/$name.out" "$T/$name.err" "$@")
	rc=$1 rss=$2 secs=$3
	echo "# $name: exit $rc, ${rss} MB resident, ${secs} s"
}

# within DESCRIPTION WANT_RC: the last bounded command ended by itself with
# WANT_RC and stayed under the resident bound
within() {
	[ "$rc" = "$2" ] && [ "$rss" -lt "$LIMIT_RSS_MB" ]
	ok $? "$1 (exit $rc, ${rss} MB, ${secs} s)" || {
		echo "wanted exit $2 under ${LIMIT_RSS_MB} MB"
		cat "$T/$name.err"
	} | head -n 20 | diag
}

# has NAME LINE: NAME's stderr has LINE exactly
has() {
	grep -qxF -- "$2" "$T/$1.err"
	ok $? "$1: says '$2'" || { echo "stderr:"; head -n 20 "$T/$1.err"; } | diag
}

cd "$PROJ" || exit 1

# ---- nested aliases ("billion laughs"): 9^8 nodes from a 360-byte file
python3 - >"$P/laughs.yml" <<'PY'
print("a0: &a0 [x,x,x,x,x,x,x,x,x]")
for i in range(1, 8):
    print("a%d: &a%d [%s]" % (i, i, ",".join(["*a%d" % (i - 1)] * 9)))
print("tasks: {}")
PY
bounded laughs "$SLUICE_BIN" validate
within "nested aliases: validate fails within the bounds" 3
has laughs "pipelines/laughs.yml:6:10: error: alias '*a4' expands past 100000 nodes in all (the limit for aliases in a YAML file)"
mv "$P/laughs.yml" "$T/laughs.yml"

# ---- 100,000 levels of [[[...]]]
python3 -c 'print("tasks: " + "[" * 100000 + "]" * 100000)' >"$P/deep.yml"
bounded deep "$SLUICE_BIN" validate
within "100,000 levels of nesting: validate fails within the bounds" 3
has deep "pipelines/deep.yml:1:71: error: more than 64 levels of nesting (the limit for a YAML file)"
rm -f "$P/deep.yml"

# ---- under the limit but large: 3,000 lists 60 deep on one 370 KB line
# (positions on one line were found from its start: quadratic)
python3 -c 'print("tasks: {}\nwide: [" + ",".join(["[" * 60 + "1" + "]" * 60] * 3000) + "]")' >"$P/wide.yml"
bounded wide "$SLUICE_BIN" validate
within "a long line of deep lists: validate ends within the bounds" 3
has wide "pipelines/wide.yml:2:1: error: unknown key 'wide' in pipeline 'wide'"
rm -f "$P/wide.yml"

# ---- a pipeline file that is /dev/zero
ln -s /dev/zero "$P/zero.yml"
bounded zero "$SLUICE_BIN" validate
within "a link to /dev/zero: validate fails within the bounds" 3
has zero "pipelines/zero.yml: error: cannot read: a character device, not a regular file (only regular files are read)"

# ---- a FIFO nobody writes to
mkfifo "$P/fifo.yml"
bounded fifo "$SLUICE_BIN" validate
within "a FIFO: validate fails within the bounds" 3
has fifo "pipelines/fifo.yml: error: cannot read: a FIFO, not a regular file (only regular files are read)"

# ---- a file over the size limit (sparse: nothing is written)
python3 -c 'import os; f = open("pipelines/big.yml", "w"); f.truncate(17 << 20)'
bounded big "$SLUICE_BIN" validate
within "a 17 MiB file: validate fails within the bounds" 3
has big "pipelines/big.yml: error: cannot read: 17825792 bytes, over the limit of 16 MiB"

# ---- all of them at once: still bounded, every one reported
mv "$T/laughs.yml" "$P/laughs.yml"
bounded all "$SLUICE_BIN" validate
within "every hostile file at once: validate fails within the bounds" 3
has all "4 errors in project $PROJ"

# ---- the services still start, show and stop with the broken files in place
check "up starts the services despite the broken pipeline files" "$SLUICE_BIN" up
bounded status "$SLUICE_BIN" status
within "status shows the state within the bounds" 0
has status "sluice: warning: the project has 4 errors (see 'sluice validate'); showing the state anyway"
bounded rstatus "$SLUICE_BIN" runner --status
within "runner --status answers within the bounds" 1
bounded rstop "$SLUICE_BIN" runner --stop
within "runner --stop answers within the bounds" 0
bounded down "$SLUICE_BIN" --json down
within "down stops the services within the bounds" 0
python3 -c 'import json,sys; j=json.load(sys.stdin); assert j["state"]["stopped"] and j["broker"]["stopped"], j
assert not j["state"]["running"] and not j["broker"]["running"], j' <"$T/down.out"
ok $? "down: PostgreSQL and Redis were stopped" || diag <"$T/down.out"

# ---- a broken sluice.yml: down still works; up refuses (it says where the
# servers are)
check "up again" "$SLUICE_BIN" up
mv sluice.yml "$T/sluice.yml"
mkfifo sluice.yml
bounded upfifo "$SLUICE_BIN" up
within "up with sluice.yml a FIFO: refused within the bounds" 3
has upfifo "$PROJ/sluice.yml: error: cannot read: a FIFO, not a regular file (only regular files are read)"
bounded downfifo "$SLUICE_BIN" --json down
within "down with sluice.yml a FIFO: stops the services within the bounds" 0
python3 -c 'import json,sys; j=json.load(sys.stdin); assert j["state"]["stopped"] and j["broker"]["stopped"], j' <"$T/downfifo.out"
ok $? "down with sluice.yml a FIFO: PostgreSQL and Redis were stopped" || diag <"$T/downfifo.out"
rm -f sluice.yml
mv "$T/sluice.yml" sluice.yml

# ---- connections.yml a FIFO: the commands that need only the services go on
mkdir -p "$T/xdg/sluice"
mkfifo -m 600 "$T/xdg/sluice/connections.yml"
XDG_CONFIG_HOME=$T/xdg
export XDG_CONFIG_HOME
bounded connfifo "$SLUICE_BIN" runner --status
within "connections.yml a FIFO: runner --status answers within the bounds" 1
has connfifo "sluice: warning: the project has 5 errors (see 'sluice validate'); showing the state anyway"
unset XDG_CONFIG_HOME

rm -f "$P/zero.yml" "$P/fifo.yml" "$P/big.yml" "$P/laughs.yml"
check "with the files gone, validate passes" "$SLUICE_BIN" validate
done_testing
