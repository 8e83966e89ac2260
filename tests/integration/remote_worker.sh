#!/bin/sh
# A worker on another host: PostgreSQL and Redis listen on loopback TCP (as
# servers on another machine would), the scheduler runs alone (runner
# --workers 0) in one checkout of the project, and a `sluice worker` in a
# second checkout, whose sluice.yml names no server, is given only their TCP
# addresses (--state, --broker). Every task of the run (shell, sql, load)
# runs there, and the run ends success; SLUICE_STATE/SLUICE_BROKER do the
# same for any command.
. "$SLUICE_SRCDIR/tests/integration/lib.sh"

echo "1..10"

T=$SLUICE_TESTDIR/remote
PGD=$T/pg
RPID= PGPID= WPID=
stop_all() {
	[ -n "${A:-}" ] && "$SLUICE_BIN" -q -C "$A" runner --stop >/dev/null 2>&1
	is_pid "$WPID" && kill "$WPID" 2>/dev/null && wait "$WPID" 2>/dev/null
	is_pid "$RPID" && kill "$RPID"
	is_pid "$PGPID" && kill "$PGPID"
	return 0
}
trap stop_all EXIT
rm -rf "$T"
mkdir -p "$T"

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
# as root the server runs as the service user (PostgreSQL refuses root)
if [ "$(id -u)" = 0 ]; then
	U=${SLUICE_SERVICE_USER:-postgres}
	as_u() { runuser -u "$U" -- "$@"; }
else
	U=$(id -un)
	as_u() { "$@"; }
fi
mkdir -p "$PGD"
[ "$(id -u)" = 0 ] && chown "$U" "$PGD"
as_u "$PGBIN/initdb" -D "$PGD" -U sluice --auth=trust >"$T/initdb.log" 2>&1
ok $? "initdb of a server on TCP" || diag <"$T/initdb.log"
PGPORT=$(free_port)
as_u "$PGBIN/postgres" -D "$PGD" -c listen_addresses=127.0.0.1 -c port="$PGPORT" \
	-c unix_socket_directories= >"$T/pg.log" 2>&1 &
PGPID=$!
RPORT=$(free_port)
redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no >"$T/redis.log" 2>&1 &
RPID=$!
wait_for 20 "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PGPORT" && wait_for 10 redis-cli -p "$RPORT" ping
ok $? "PostgreSQL and Redis listen on 127.0.0.1" || tail -5 "$T/pg.log" "$T/redis.log" | diag
psql -h 127.0.0.1 -p "$PGPORT" -U sluice -d postgres -XAtq -c "create database state" -c "create database wh" >/dev/null
STATE="host=127.0.0.1 port=$PGPORT user=sluice dbname=state"
BROKER="redis://127.0.0.1:$RPORT/0"

# one project, two checkouts: A (the scheduler's host) and B (the worker's)
mk() {
	mkdir -p "$1/pipelines" "$1/data"
	cat >"$1/connections.yml" <<YML
connections:
  wh: { dsn: "host=127.0.0.1 port=$PGPORT user=sluice dbname=wh" }
YML
	chmod 600 "$1/connections.yml"
	printf 'id,name\n1,ann\n2,bob\n3,cy\n' >"$1/data/people.csv"
	cat >"$1/pipelines/spread.yml" <<'YML'
tasks:
  where: { kind: shell, command: "pwd >ran_here" }
  make: { kind: sql, conn: wh, sql: "create table if not exists marks (host text)", depends_on: [where] }
  people: { kind: load, conn: wh, source: data/people.csv, into: people, create: true, depends_on: [make] }
  count: { kind: sql, conn: wh, sql: "insert into marks select count(*)::text from people", depends_on: [people] }
YML
}
A=$T/a
B=$T/b
mk "$A"
mk "$B"
cat >"$A/sluice.yml" <<YML
name: remote
state: "$STATE"
broker: "$BROKER"
connections: connections.yml
runner: { heartbeat_interval: 0.5, heartbeat_timeout: 3 }
YML
# B's sluice.yml names no server: its worker is told where they are
cat >"$B/sluice.yml" <<YML
name: remote
connections: connections.yml
runner: { heartbeat_interval: 0.5, heartbeat_timeout: 3 }
YML

"$SLUICE_BIN" -C "$A" runner --workers 0 >"$T/runner.out" 2>&1
ok $? "runner --workers 0: the scheduler alone" || diag <"$T/runner.out"
"$SLUICE_BIN" -C "$B" worker --state "$STATE" --broker "$BROKER" >"$T/worker.log" 2>&1 &
WPID=$!
"$SLUICE_BIN" -C "$A" run spread --wait >"$T/run.out" 2>&1
ok $? "the run ends success" || { diag <"$T/run.out"; tail -20 "$T/worker.log" | diag; }
[ -f "$B/ran_here" ] && [ ! -f "$A/ran_here" ] && [ "$(cat "$B/ran_here")" = "$B" ]
ok $? "the shell task ran in the worker's checkout, not the scheduler's"
got=$(psql -h 127.0.0.1 -p "$PGPORT" -U sluice -d wh -XAtqc "select string_agg(name, ',' order by id) from people; table marks")
is "the load and the sql tasks wrote the warehouse through TCP" "$got" "ann,bob,cy
3"
workers=$(psql -h 127.0.0.1 -p "$PGPORT" -U sluice -d state -XAtqc "select count(distinct worker) from sluice.task_instances")
is "one worker ran all four tasks" "$workers" 1
grep -q "started: project remote, 0 worker(s)" "$A/.sluice/runner.log"
ok $? "the runner's log says it has no local worker" || tail -5 "$A/.sluice/runner.log" | diag
SLUICE_STATE="$STATE" SLUICE_BROKER="$BROKER" "$SLUICE_BIN" -C "$B" --json status spread >"$T/status.json" 2>"$T/status.err"
st=$(json_get 'j["state"]' <"$T/status.json")
is "SLUICE_STATE and SLUICE_BROKER: status from B sees the run" "$st" success
[ ! -d "$B/.sluice/pg" ] && [ ! -d "$B/.sluice/redis" ]
ok $? "B started no embedded server"

done_testing
