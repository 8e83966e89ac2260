#!/bin/sh
# A password never shows, whole or in part, in any output, log, JSON or the
# state database, whatever form it is written in (connections.yml field, URL
# unencoded and encoded, ?password=, conninfo string, ${ENV}, password_file)
# and however the connection fails (a wrong host, a wrong port): every sluice
# output, .sluice/runner.log and a pg_dump of the state database are grepped
# for it and for each of its 4-character pieces. Then the same password in the
# broker's URL (unencoded, encoded, with a user; a wrong port, a wrong host, a
# URL the parser refuses, a server whose error reply echoes AUTH's arguments,
# a wrong password, and a server that takes it, unencoded and encoded).
. "$SLUICE_SRCDIR/tests/integration/lib.sh"

echo "1..21"

PROJ=$(mkproj secrets)
RECHO= RAUTH=
trap 'cleanup; is_pid "$RECHO" && kill "$RECHO"; is_pid "$RAUTH" && kill "$RAUTH"' EXIT
OUT=$PROJ/out
mkdir -p "$OUT" "$PROJ/data"

# every character a URL or a conninfo treats specially, and spaces
PW='Zq/7 @k:?#%wX y9'
ENC=$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$PW")
export SLUICE_SECRET_PW="$PW"
printf '%s\n' "$PW" >"$PROJ/pw"
chmod 600 "$PROJ/pw"

# a port nobody listens on, and a host name that does not resolve
PORT=1
NOHOST=nohost.invalid
CONNS=$PROJ/connections.yml
cat >"$CONNS" <<YML
connections:
  field:   { host: 127.0.0.1, port: $PORT, dbname: wh, user: etl, password: "$PW" }
  fhost:   { host: $NOHOST, dbname: wh, user: etl, password: "$PW" }
  url:     { dsn: "postgresql://etl:$PW@127.0.0.1:$PORT/wh" }
  urlhost: { dsn: "postgresql://etl:$PW@$NOHOST/wh?connect_timeout=3" }
  urlenc:  { dsn: "postgresql://etl:$ENC@127.0.0.1:$PORT/wh" }
  query:   { dsn: "postgresql://etl@127.0.0.1:$PORT/wh?password=$ENC" }
  urlpw:   { dsn: "postgresql://etl@127.0.0.1:$PORT/wh", password: "$PW" }
  info:    { dsn: "host=127.0.0.1 port=$PORT dbname=wh user=etl password='$PW'" }
  infohost: { dsn: "host=$NOHOST dbname=wh user=etl password='$PW' connect_timeout=3" }
  env:     { host: 127.0.0.1, port: $PORT, dbname: wh, user: etl, password: "\${SLUICE_SECRET_PW}" }
  file:    { host: 127.0.0.1, port: $PORT, dbname: wh, user: etl, password_file: pw }
YML
chmod 600 "$CONNS"
printf 'connections: %s\n' "$CONNS" >>"$PROJ/sluice.yml"
CONN_NAMES="field fhost url urlhost urlenc query urlpw info infohost env file"

printf 'id,name\n1,a\n' >"$PROJ/data/t.csv"
{
	echo "tasks:"
	for c in $CONN_NAMES; do
		printf '  q_%s: { kind: sql, conn: %s, sql: "select 1", retries: 0 }\n' "$c" "$c"
		printf '  l_%s: { kind: load, conn: %s, source: data/t.csv, into: t_%s, create: true, retries: 0 }\n' "$c" "$c" "$c"
	done
} >"$PROJ/pipelines/sec.yml"

# out NAME ARGS...: sluice's stdout and stderr kept in $OUT/NAME
out() {
	n=$1; shift
	sl "$@" >"$OUT/$n.out" 2>"$OUT/$n.err"
}

out validate validate
ok $? "validate: the project with every form of password is valid" || cat "$OUT/validate.err" | diag
out validatej validate --json
out run run sec --wait
grep -q "cannot connect" "$OUT/run.out" "$OUT/run.err"
ok $? "run: the connections fail as they must" || cat "$OUT/run.out" "$OUT/run.err" | diag
out status status sec
out statusj --json status sec
out statusall status
n_failed=$(json_get 'sum(1 for t in j["tasks"] if t["state"] == "failed")' <"$OUT/statusj.out")
is "status --json: every task failed" "$n_failed" 22
for c in $CONN_NAMES; do
	for t in q l; do
		out "logs_${t}_$c" logs latest "${t}_$c"
		out "logsj_${t}_$c" logs latest "${t}_$c" --json
	done
	out "load_$c" load data/t.csv --into "t_$c" --create --conn "$c"
	out "loadj_$c" load data/t.csv --into "t_$c" --create --conn "$c" --json
done
grep -q "cannot connect" "$OUT/logs_q_url.out" "$OUT/logs_q_url.err"
ok $? "logs: a task's log says why it failed" || cat "$OUT/logs_q_url.out" "$OUT/logs_q_url.err" | diag
grep -q "cannot connect" "$OUT/load_urlenc.err"
ok $? "load: says why it failed" || cat "$OUT/load_urlenc.err" | diag

# the state database, whole
STATE=$(sl --json up -q 2>/dev/null | json_get 'j["state"]["address"]')
pg_dump -d "$STATE" >"$OUT/state.sql" 2>"$OUT/pg_dump.err"
ok $? "pg_dump of the state database" || cat "$OUT/pg_dump.err" | diag
grep -q "cannot connect" "$OUT/state.sql"
ok $? "the state database holds the (scrubbed) errors" || tail -20 "$OUT/state.sql" | diag

cp "$PROJ/.sluice/runner.log" "$OUT/runner.log" 2>/dev/null
[ -s "$OUT/runner.log" ]
ok $? "the runner wrote its log"

# leaks FILE...: the lines of FILEs holding the password or a 4-character
# piece of it (its raw, encoded forms)
leaks() {
	python3 - "$PW" "$ENC" "$@" <<'PY'
import sys
pw, enc, files = sys.argv[1], sys.argv[2], sys.argv[3:]
pieces = set()
for s in (pw, enc):
    for i in range(len(s) - 3):
        pieces.add(s[i:i + 4])
bad = 0
for f in files:
    with open(f, encoding="utf-8", errors="replace") as fh:
        for n, line in enumerate(fh, 1):
            hit = [p for p in pieces if p in line]
            if hit:
                bad += 1
                print("%s:%d: %r in: %s" % (f, n, hit[0], line.rstrip()[:300]))
sys.exit(1 if bad else 0)
PY
}

leaks "$OUT"/*.out "$OUT"/*.err >"$OUT/leaks.txt"
ok $? "no piece of the password in any stdout or stderr" || diag <"$OUT/leaks.txt"
leaks "$OUT"/logsj_*.out "$OUT/statusj.out" "$OUT"/loadj_*.out >"$OUT/leaks.txt"
ok $? "none in logs --json, status --json, load --json" || diag <"$OUT/leaks.txt"
leaks "$OUT/runner.log" >"$OUT/leaks.txt"
ok $? "none in .sluice/runner.log" || diag <"$OUT/leaks.txt"
leaks "$OUT/state.sql" >"$OUT/leaks.txt"
ok $? "none in a pg_dump of the state database" || diag <"$OUT/leaks.txt"

# ---- the broker ------------------------------------------------------------

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# A Redis whose AUTH is renamed away: it answers "unknown command 'AUTH', with
# args beginning with: '<the password>'".
RPORT=$(free_port)
redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no --rename-command AUTH '' \
	>"$PROJ/redis-echo.log" 2>&1 &
RECHO=$!
# and one that wants the password
APORT=$(free_port)
redis-server --port "$APORT" --bind 127.0.0.1 --save '' --appendonly no --requirepass "$PW" \
	>"$PROJ/redis-auth.log" 2>&1 &
RAUTH=$!
wait_for 10 sh -c "redis-cli -p $RPORT ping | grep -q PONG && redis-cli -p $APORT ping | grep -q NOAUTH"

sl -q runner --stop >/dev/null 2>&1
cp "$PROJ/sluice.yml" "$PROJ/sluice.yml.base"
mv "$PROJ/.sluice/runner.log" "$OUT/runner.log.pg" 2>/dev/null
BROKERS="bport=redis://:$PW@127.0.0.1:$PORT/0
bhost=redis://:$PW@$NOHOST:6379/0
benc=redis://:$ENC@127.0.0.1:$PORT/0
buser=redis://etl:$PW@127.0.0.1:$PORT/0
bbad=redis://:$PW@127.0.0.1:notaport/0
becho=redis://:$PW@127.0.0.1:$RPORT/0
bwrong=redis://:${PW%?}8@127.0.0.1:$APORT/0
bauth=redis://:$PW@127.0.0.1:$APORT/0
bauthenc=redis://:$ENC@127.0.0.1:$APORT/1"
echo "$BROKERS" | while IFS='=' read -r b url; do
	{ cat "$PROJ/sluice.yml.base"; printf 'broker: "%s"\n' "$url"; } >"$PROJ/sluice.yml"
	out "${b}_up" up
	out "${b}_upj" --json up
	out "${b}_status" status
	out "${b}_statusj" --json status
	out "${b}_run" run sec --no-runner
	out "${b}_runj" --json run sec --no-runner
	out "${b}_logs" logs latest q_field
	out "${b}_logsj" logs latest q_field --json
	out "${b}_validate" validate
	# the runner starts without the broker and keeps trying: its log
	out "${b}_runner" runner
	wait_for 10 grep -q "broker" "$PROJ/.sluice/runner.log"
	sleep 1
	out "${b}_stop" runner --stop
	cat "$PROJ/.sluice/runner.log" >>"$OUT/runner_broker.log" 2>/dev/null
	rm -f "$PROJ/.sluice/runner.log"
done
cp "$PROJ/sluice.yml.base" "$PROJ/sluice.yml"

grep -q "cannot connect" "$OUT/bport_run.err"
ok $? "broker: run says the broker cannot be reached" || cat "$OUT/bport_run.out" "$OUT/bport_run.err" | diag
grep -q "the port must be a number" "$OUT/bbad_run.err"
ok $? "broker: a URL that is refused is named, and why" || cat "$OUT/bbad_run.err" | diag
grep -q "unknown command" "$OUT/becho_run.err"
ok $? "broker: the server's error reply to AUTH is reported" || cat "$OUT/becho_run.err" | diag
grep -q "WRONGPASS" "$OUT/bwrong_run.err"
ok $? "broker: a wrong password is reported as such" || cat "$OUT/bwrong_run.err" | diag
is_pid "$(cat "$OUT/bauth_run.out")" && is_pid "$(cat "$OUT/bauthenc_run.out")"
ok $? "broker: the password logs in, written unencoded or encoded (runs created)" ||
	cat "$OUT/bauth_run.err" "$OUT/bauthenc_run.err" | diag
[ "$(grep -c "broker" "$OUT/runner_broker.log")" -ge 6 ]
ok $? "broker: the runner logged why it has no broker, each time" || tail -20 "$OUT/runner_broker.log" | diag
leaks "$OUT"/b*_*.out "$OUT"/b*_*.err >"$OUT/leaks.txt"
ok $? "broker: no piece of the password in any stdout or stderr" || diag <"$OUT/leaks.txt"
leaks "$OUT"/b*_upj.out "$OUT"/b*_statusj.out "$OUT"/b*_runj.out "$OUT"/b*_logsj.out >"$OUT/leaks.txt"
ok $? "broker: none in up, status, run, logs --json" || diag <"$OUT/leaks.txt"
leaks "$OUT/runner_broker.log" >"$OUT/leaks.txt"
ok $? "broker: none in .sluice/runner.log" || diag <"$OUT/leaks.txt"

done_testing
