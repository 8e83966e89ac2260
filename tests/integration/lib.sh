# Shared helpers for the integration tests: TAP output, a scratch project on
# the embedded default, waiting with a deadline. Sourced by each test script.
set -u

: "${SLUICE_BIN:?SLUICE_BIN must point at the sluice binary}"
: "${SLUICE_SRCDIR:?}"
: "${SLUICE_TESTDIR:=/tmp/sluice-tests}"

tap_n=0
tap_failed=0

# ok STATUS DESCRIPTION: one TAP check, passing when STATUS is 0. Returns
# STATUS, so `ok $? "..." || { echo "$out" | diag; }` explains a failure.
# (No script may run under `set -e`: a failed check must not end the file.)
ok() {
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $tap_n - $2"
		return 0
	fi
	echo "not ok $tap_n - $2"
	tap_failed=$((tap_failed + 1))
	return 1
}

# skip DESCRIPTION REASON: a check that cannot run here.
skip() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $1 # SKIP $2"
}

# check DESCRIPTION COMMAND...: passes when COMMAND succeeds; on a failure
# its output (stdout and stderr) is shown as diagnostics.
# (The output goes to a file, not through a pipe: a daemon COMMAND starts
# may keep its stdout open.)
check() {
	check_d=$1
	shift
	mkdir -p "$SLUICE_TESTDIR"
	"$@" >"$SLUICE_TESTDIR/check.$$.out" 2>&1
	check_rc=$?
	ok $check_rc "$check_d" || diag <"$SLUICE_TESTDIR/check.$$.out"
	rm -f "$SLUICE_TESTDIR/check.$$.out"
	return $check_rc
}

# is DESCRIPTION GOT WANT: passes when GOT equals WANT exactly; a failure
# shows both.
is() {
	[ "$2" = "$3" ]
	ok $? "$1" || { printf 'got:\n%s\nwant:\n%s\n' "$2" "$3" | diag; return 1; }
}

diag() { sed 's/^/# /'; }

# is_pid VALUE...: every VALUE is a process id (digits, not 0), so a kill of
# it is a kill of one process: never of "" or of 0 (the test's own group).
is_pid() {
	for p in "$@"; do
		case $p in '' | *[!0-9]* | 0*) return 1 ;; esac
	done
	[ $# -gt 0 ]
}

# done_testing: the exit status for the end of a script (0 when every check passed).
done_testing() { [ "$tap_failed" -eq 0 ]; }

# mkproj NAME: a fresh project directory with sluice.yml; prints its path.
mkproj() {
	d=$SLUICE_TESTDIR/$1
	if [ -d "$d" ]; then
		"$SLUICE_BIN" -q -C "$d" runner --stop >/dev/null 2>&1 || true
		"$SLUICE_BIN" -q -C "$d" down >/dev/null 2>&1 || true
		rm -rf "$d"
	fi
	mkdir -p "$d/pipelines"
	cat >"$d/sluice.yml" <<YML
name: $1
runner:
  workers: 2
  heartbeat_interval: 0.5
  heartbeat_timeout: 3
YML
	echo "$d"
}

sl() { "$SLUICE_BIN" -C "$PROJ" "$@"; }

# psql on the embedded state database
state_sql() {
	conninfo=$(sl --json up -q 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"]["address"])')
	psql "$conninfo" -XAtqc "$1"
}

# wait_for SECONDS COMMAND...: retries COMMAND until it succeeds or time runs out
wait_for() {
	limit=$1; shift
	end=$(($(date +%s) + limit))
	while [ "$(date +%s)" -lt "$end" ]; do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.2
	done
	return 1
}

cleanup() {
	"$SLUICE_BIN" -q -C "$PROJ" runner --stop >/dev/null 2>&1 || true
	"$SLUICE_BIN" -q -C "$PROJ" down >/dev/null 2>&1 || true
}

# json_get EXPR: evaluates a Python expression over the JSON on stdin (as j)
json_get() { python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }

# blackhole FILE: a TCP port on 127.0.0.1 that accepts connections and never
# answers (a network that hangs without breaking); its number goes to FILE,
# the listener's pid to $BH (kill it when done).
blackhole() {
	python3 -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
print(s.getsockname()[1], flush=True)
held = []
while True:
    c, _ = s.accept()
    held.append(c)
' >"$1" &
	BH=$!
	wait_for 10 test -s "$1"
}
