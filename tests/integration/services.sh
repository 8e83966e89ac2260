#!/bin/sh
# The embedded default: `sluice up` / `sluice down` start and stop a real
# PostgreSQL and redis-server under the project's .sluice/ (TAP output).
. "$SLUICE_SRCDIR/tests/integration/lib.sh"

if ! command -v psql >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
	echo "1..0 # SKIP psql or redis-cli not installed"
	exit 0
fi
echo "1..45"

mkdir -p "$SLUICE_TESTDIR"
T=$(cd "$SLUICE_TESTDIR" && pwd)/services.$$
mkdir -p "$T"
projects=""

sluice() { "$SLUICE_BIN" "$@"; }

# svc_proj DIR: a bare project at DIR (removed again at the end)
svc_proj() {
	mkdir -p "$1"
	echo "name: svc_test" >"$1/sluice.yml"
	projects="$projects $1"
}

# Where sluice keeps things: mirrors the records it writes in .sluice/.
datadir() { if [ -f "$1/.sluice/location" ]; then cat "$1/.sluice/location"; else echo "$1/.sluice"; fi; }
sockdir() { if [ -f "$1/.sluice/sockdir" ]; then cat "$1/.sluice/sockdir"; else echo "$(datadir "$1")/run"; fi; }
pg_pid() { head -n 1 "$(datadir "$1")/pg/postmaster.pid" 2>/dev/null; }
redis_pid() { cat "$(datadir "$1")/redis/redis.pid" 2>/dev/null; }
sql() { psql -X -q -A -t -h "$(sockdir "$1")" -U sluice -d "$2" -c "$3"; }
rcli() { p=$1; shift; redis-cli -s "$(sockdir "$p")/redis.sock" "$@"; }
# A live process (a zombie that nobody reaped yet is not).
alive() { s=$(ps -o stat= -p "$1" 2>/dev/null) && [ -n "$s" ] && [ "${s#Z}" = "$s" ]; }
gone() { ! alive "$1"; }
owner() { ps -o user= -p "$1" | tr -d ' '; }

svc_cleanup() {
	for p in $projects; do
		[ -f "$p/sluice.yml" ] && sluice -C "$p" down -q >/dev/null 2>&1
		[ -f "$p/.sluice/sockdir" ] && rm -rf "$(cat "$p/.sluice/sockdir")"
		[ -f "$p/.sluice/location" ] && rm -rf "$(cat "$p/.sluice/location")"
	done
	rm -rf "$T"
}
trap svc_cleanup EXIT
trap 'exit 1' INT TERM

P=$T/proj
svc_proj "$P"

# ---- start -----------------------------------------------------------------
check "up starts PostgreSQL and Redis" sluice -C "$P" up
check "the state database answers" sh -c "[ \"\$(psql -X -A -t -h '$(sockdir "$P")' -U sluice -d sluice -c 'select 1')\" = 1 ]"
check "the warehouse database exists" sql "$P" warehouse "select 1"
check "redis answers PING" sh -c "[ \"\$(redis-cli -s '$(sockdir "$P")/redis.sock' ping)\" = PONG ]"
check "PostgreSQL listens on no TCP address" sh -c "[ -z \"\$(psql -X -A -t -h '$(sockdir "$P")' -U sluice -d sluice -c 'show listen_addresses')\" ]"
check "redis listens on no TCP port" sh -c "redis-cli -s '$(sockdir "$P")/redis.sock' config get port | tail -n 1 | grep -qx 0"
if command -v ss >/dev/null 2>&1; then
	check "no TCP listener belongs to our servers" \
		sh -c "! ss -ltnpH | grep -E 'pid=($(pg_pid "$P")|$(redis_pid "$P")),'"
else
	skip "no TCP listener belongs to our servers" "ss not installed"
fi
check "redis keeps an append-only file" sh -c "redis-cli -s '$(sockdir "$P")/redis.sock' config get appendonly | tail -n 1 | grep -qx yes"
if [ "$(id -u)" = 0 ]; then
	check "PostgreSQL does not run as root" sh -c "[ -n \"\$(ps -o user= -p $(pg_pid "$P"))\" ] && [ \"\$(ps -o user= -p $(pg_pid "$P") | tr -d ' ')\" != root ]"
	check "redis-server does not run as root" sh -c "[ -n \"\$(ps -o user= -p $(redis_pid "$P"))\" ] && [ \"\$(ps -o user= -p $(redis_pid "$P") | tr -d ' ')\" != root ]"
else
	skip "PostgreSQL does not run as root" "not running as root"
	skip "redis-server does not run as root" "not running as root"
fi

# ---- idempotence -----------------------------------------------------------
pid1=$(pg_pid "$P")
rpid1=$(redis_pid "$P")
sluice -C "$P" up >"$T/up2.out" 2>&1
rc=$?
is "a second up exits 0" "$rc" 0 || diag <"$T/up2.out"
check "a second up says already running" grep -q "already running" "$T/up2.out"
is "a second up keeps the same servers (pids of postgres, redis)" "$(pg_pid "$P") $(redis_pid "$P")" "$pid1 $rpid1"
sluice -C "$P" up --json >"$T/up.json" 2>"$T/up.err"
check "up --json reports both running" sh -c "[ \$(tr -d ' \n' <'$T/up.json' | grep -o '\"running\":true' | wc -l) = 2 ]"
check "up --json prints only JSON on stdout (one object, nothing else)" \
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert isinstance(j, dict), j' "$T/up.json"

# ---- durability across down/up --------------------------------------------
sql "$P" warehouse "create table kept (v int); insert into kept values (42)" >/dev/null 2>&1
rcli "$P" set kept 42 >/dev/null 2>&1
check "down exits 0" sluice -C "$P" down
check "down stops PostgreSQL" gone "$pid1"
check "down stops redis-server" gone "$rpid1"
check "PostgreSQL no longer answers" sh -c "! psql -X -h '$(sockdir "$P")' -U sluice -d sluice -c 'select 1' 2>/dev/null"
sluice -C "$P" down >"$T/down2.out" 2>&1
rc=$?
[ $rc = 0 ] && grep -q 'was not running' "$T/down2.out"
ok $? "a second down is a no-op (exit $rc, says it was not running)" || diag <"$T/down2.out"
check "up again after down" sluice -C "$P" up -q
check "table rows survive down and up" sh -c "[ \"\$(psql -X -A -t -h '$(sockdir "$P")' -U sluice -d warehouse -c 'select v from kept')\" = 42 ]"
check "redis keys survive down and up" sh -c "[ \"\$(redis-cli -s '$(sockdir "$P")/redis.sock' get kept)\" = 42 ]"

# kill9_both WHAT: kill -9 of the project's PostgreSQL and redis-server, a
# counted check that both had a pid and are gone (else what follows would
# test nothing)
kill9_both() {
	pid=$(pg_pid "$P")
	rpid=$(redis_pid "$P")
	is_pid "$pid" "$rpid" && kill -9 "$pid" "$rpid"
	killed=$?
	i=0
	while [ $killed = 0 ] && { alive "$pid" || alive "$rpid"; } && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	[ $killed = 0 ] && gone "$pid" && gone "$rpid"
	ok $? "kill -9 of both servers $1 (postgres '$pid', redis '$rpid')" ||
		ls -l "$(datadir "$P")/pg/postmaster.pid" "$(datadir "$P")/redis/redis.pid" 2>&1 | diag
}

# ---- crash recovery ----------------------------------------------------------
kill9_both "(a crash)"
check "up recovers after kill -9 of both servers" sluice -C "$P" up -q
check "PostgreSQL answers after the crash" sql "$P" sluice "select 1"
check "redis answers after the crash" sh -c "[ \"\$(redis-cli -s '$(sockdir "$P")/redis.sock' ping)\" = PONG ]"

# A dead server's pid now taken by an unrelated process.
kill9_both "(their pids to be reused)"
sleep 600 &
stranger=$!
pgdata=$(datadir "$P")/pg
{ echo "$stranger"; tail -n +2 "$pgdata/postmaster.pid"; } >"$T/pm.pid" && cat "$T/pm.pid" >"$pgdata/postmaster.pid"
echo "$stranger" >"$(datadir "$P")/redis/redis.pid"
check "up recovers when the stale pids belong to another process" sluice -C "$P" up -q
check "PostgreSQL answers after the pid reuse" sql "$P" sluice "select 1"
check "the unrelated process was left alone" alive "$stranger"
kill "$stranger" 2>/dev/null
check "down after recovery" sluice -C "$P" down -q

# ---- a deep project path ----------------------------------------------------
D=$T/deep/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb/cccccccccccccccccccccccccccccccccccccccc
svc_proj "$D"
check "up works for a project path longer than 120 characters" sluice -C "$D" up -q
check "its sockets are in a short directory" sh -c "[ \$(printf %s '$(sockdir "$D")/.s.PGSQL.5432' | wc -c) -lt 108 ]"
check "PostgreSQL of the deep project answers" sql "$D" sluice "select 1"
check "redis of the deep project answers" sh -c "[ \"\$(redis-cli -s '$(sockdir "$D")/redis.sock' ping)\" = PONG ]"
check "down stops the deep project" sluice -C "$D" down -q

# ---- a project the service user cannot reach ----------------------------------
if [ "$(id -u)" = 0 ]; then
	H=$T/private
	mkdir -p "$H"
	chmod 0700 "$H"
	svc_proj "$H/proj"
	check "up works for a project in a 0700 directory" sluice -C "$H/proj" up -q
	check "its data is kept where the service user can reach it" test -f "$H/proj/.sluice/location"
	check "PostgreSQL of the private project answers" sql "$H/proj" sluice "select 1"
	check "the user's directory keeps its mode" sh -c "[ \"\$(stat -c %a '$H')\" = 700 ]"
	check "down stops the private project" sluice -C "$H/proj" down -q
else
	for d in "up works for a project in a 0700 directory" "its data is kept where the service user can reach it" \
		"PostgreSQL of the private project answers" "the user's directory keeps its mode" "down stops the private project"; do
		skip "$d" "not running as root"
	done
fi

# ---- usage ---------------------------------------------------------------------
check "up --help exits 0" sluice up --help
sluice -C "$T/nowhere" up -q >"$T/usage.out" 2>&1
rc=$?
is "up outside a project exits 3" "$rc" 3 || diag <"$T/usage.out"
sluice -C "$P" up --bogus >"$T/usage.out" 2>&1
rc=$?
is "an unknown option exits 2" "$rc" 2 || diag <"$T/usage.out"

done_testing
