# Helpers for the tests that kill parts of sluice (faults.sh, the soak):
# the project's services reached without sluice (a sluice command would start
# a killed service again and hide what is tested), a supervisor for the
# runner, the kills, and what is left of the project after `sluice down`.
# Sourced after lib.sh, with PROJ and STOPF (the supervisor's stop file) set.

sq() { psql "$STATE" -XAtqc "$1" 2>/dev/null; }
wq() { psql "$WH" -XAtqc "$1" 2>/dev/null; }
rcli() { redis-cli -s "$RSOCK" "$@" 2>/dev/null | tr -d '\r'; }

services_learn() {
	j=$(sl --json up -q 2>/dev/null)
	STATE=$(echo "$j" | json_get 'j["state"]["address"]')
	WH=$(echo "$j" | json_get 'j["warehouse"]["address"]')
	RSOCK=$(echo "$j" | json_get 'j["broker"]["address"]' | sed 's/^unix://')
	PGDATA=$(sq "SHOW data_directory")
	RPIDFILE=$(rcli config get pidfile | sed -n 2p)
}
pg_pid() { head -n 1 "$PGDATA/postmaster.pid" 2>/dev/null; }
redis_pid() { rcli info server | sed -n 's/^process_id://p'; }

# The runner, started once (the name is older than the workers' restart).
supervise() {
	# One runner, nothing watching it: a killed runner's workers start
	# another before they go, so a run goes on with no command typed.
	rm -f "$STOPF"
	"$SLUICE_BIN" -q -C "$PROJ" runner >/dev/null 2>&1
	SUP=
}

# The supervisor goes first (it would start a runner again), then sluice
# down stops the runner and the services.
teardown() {
	touch "$STOPF"
	if is_pid "$SUP"; then
		kill "$SUP" 2>/dev/null
		wait "$SUP" 2>/dev/null
		sleep 0.3 # a runner it had just forked takes its pid file
	fi
	SUP=
	"$SLUICE_BIN" -q -C "$PROJ" down >/dev/null 2>&1
}
# Processes whose directory or command line is in the project or its
# services' directories, one line each.
leftovers() {
	for d in /proc/[0-9]*; do
		p=${d#/proc/}
		[ "$p" = "$$" ] && continue
		cwd=$(readlink "$d/cwd" 2>/dev/null) || continue
		cmd=$(tr '\0' ' ' <"$d/cmdline" 2>/dev/null)
		for dir in "$PROJ" "$PGDATA" "${RPIDFILE%/*}"; do
			[ -n "$dir" ] || continue
			case "$cwd $cmd" in
			*"$dir"*)
				echo "pid $p (cwd $cwd): $cmd"
				break
				;;
			esac
		done
	done
}

# alive PID: running, not a zombie waiting for its parent
alive() { st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) && [ "${st%% *}" != Z ]; }

# Pid files that still name a live process.
live_pidfiles() {
	for f in "$PROJ/.sluice/runner.pid" "$PGDATA/postmaster.pid" "$RPIDFILE"; do
		p=$(head -n 1 "$f" 2>/dev/null)
		is_pid "$p" && alive "$p" && echo "$f: pid $p is alive: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
	done
}
nothing_left() { [ -z "$(leftovers)" ] && [ -z "$(live_pidfiles)" ]; }

# ---- the parts to kill: kill_PART prints what it killed (kill_worker is
# the test's own: which worker it kills depends on the test) --------------

kill_runner() {
	p=$(head -n 1 "$PROJ/.sluice/runner.pid" 2>/dev/null)
	is_pid "$p" && kill -9 "$p" && echo "runner pid $p"
}
kill_postgres() {
	p=$(pg_pid)
	is_pid "$p" && kill -9 "$p" && echo "postmaster pid $p"
}
kill_redis() {
	p=$(redis_pid)
	is_pid "$p" && kill -9 "$p" && echo "redis-server pid $p"
}

# A killed service must be back by itself: answering, with a pid other than
# $killed_pid.
back_postgres() { [ "$(sq 'SELECT 1')" = 1 ] && [ "$(pg_pid)" != "$killed_pid" ]; }
back_redis() { [ "$(rcli ping)" = PONG ] && [ "$(redis_pid)" != "$killed_pid" ]; }

