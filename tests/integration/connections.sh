#!/bin/sh
# `sluice connections`, `sql` and `psql` against the embedded PostgreSQL:
# list, add, replace and remove keep the other entries and their comments,
# mode 0600 and a backup; a URL with a password in it is refused; a test
# says latency, version and TLS, a wrong password fails on one line without
# it, and a server that accepts and never answers fails in bounded time;
# sql's table, --json and --csv (RFC 4180 quoting), an error at its line and
# column, a statement timeout; psql gets the password in its environment,
# never in argv. No file sluice writes (outside connections.yml and its
# backup) and no output holds the password.
. "$SLUICE_SRCDIR/tests/integration/lib.sh"

echo "1..41"

PROJ=$(mkproj connections_it)
BH=
trap 'cleanup; is_pid "$BH" && kill "$BH"' EXIT
OUT=$SLUICE_TESTDIR/connections-out
rm -rf "$OUT"
mkdir -p "$OUT"

PW='Pl4nted-s3cret'
BADPW='Wr0ng-guess-9'
export SLUICE_T_PW="$PW"
printf '%s\n' "$BADPW" >"$OUT/badpw"

sl -q up >/dev/null 2>&1
WH=$(sl --json up -q 2>/dev/null | json_get 'j["warehouse"]["address"]')
SOCK=$(printf '%s\n' "$WH" | sed 's/.*host=\([^ ]*\).*/\1/')
# a role that must give its password: scram over the socket for it alone
HBA=$(psql "$WH" -XAtqc "show hba_file")
{ echo "local all pwuser scram-sha-256"; cat "$HBA"; } >"$OUT/hba"
cat "$OUT/hba" >"$HBA"
psql "$WH" -XAtqc "create role pwuser login password '$PW'; select pg_reload_conf()" >/dev/null
ok $? "a role with a password, which the server asks for"

CONNS=$PROJ/connections.yml
cat >"$CONNS" <<YML
# the team's connections (this comment stays)
connections:
  # the reporting replica
  keep1:
    host: db9
    dbname: reports   # nightly copy
  keep2: { dsn: "postgresql://a@db8/c" }
  cache: { type: redis, url: "redis://:$PW@127.0.0.1:1/0" }
YML
chmod 600 "$CONNS"
printf 'connections: connections.yml\n' >>"$PROJ/sluice.yml"

# out NAME ARGS...: sluice's stdout and stderr kept in $OUT/NAME.{out,err}
out() {
	n=$1; shift
	sl "$@" >"$OUT/$n.out" 2>"$OUT/$n.err"
}

out list connections --json
ok $? "connections --json"
is "the list: default (read-only) and the file's entries, where they are defined" \
	"$(json_get '" ".join("%s:%s:%s" % (c["name"], c["readonly"], c["defined"].split("/")[-1]) for c in j["connections"])' <"$OUT/list.out")" \
	"default:True:embedded warehouse keep1:False:connections.yml:4 keep2:False:connections.yml:7 cache:False:connections.yml:8"
is "a redis url is listed masked, and not as a url to edit" \
	"$(json_get '[(c["address"], c["url"]) for c in j["connections"] if c["name"] == "cache"]' <"$OUT/list.out")" \
	"[('redis://:***@127.0.0.1:1/0', None)]"
out testredis connections test cache
is "test of a redis connection: not supported, said so" "$?$(grep -c "testing a redis connection is not supported" "$OUT/testredis.err")" 11

out urlpw connections add bad --url "postgresql://pwuser:$PW@x/warehouse"
is "a URL with a password in it is refused as a usage error" "$?" 2
grep -q "the URL holds a password.*--password-file FILE or --password-env VAR" "$OUT/urlpw.err"
ok $? "... saying why and what to give instead" || diag <"$OUT/urlpw.err"
out argpw connections add bad --url "postgresql://pwuser@x/warehouse" --password "$PW"
is "--password on the command line is refused" "$?" 2

out add connections add wh --host "$SOCK" --dbname warehouse --user pwuser --password-env SLUICE_T_PW
ok $? "add: the password from an environment variable" || diag <"$OUT/add.err"
is "connections.yml stays mode 0600" "$(stat -c %a "$CONNS")" 600
is "the previous file is kept, mode 0600" "$(stat -c %a "$CONNS.bak")" 600
grep -q "^  keep2: { dsn: \"postgresql://a@db8/c\" }$" "$CONNS.bak" && ! grep -q "wh:" "$CONNS.bak"
ok $? "... as it was before the add"
out addbad connections add whbad --host "$SOCK" --dbname warehouse --user pwuser --password-file "$OUT/badpw"
ok $? "add: the password from a file"
out addbh connections add wh --url "postgresql://x@127.0.0.1/y"
is "add of a name that exists fails" "$?" 1
grep -q "connection 'wh' exists already" "$OUT/addbh.err"
ok $? "... saying so" || diag <"$OUT/addbh.err"

grep -q "^# the team's connections (this comment stays)$" "$CONNS" && grep -q "^  # the reporting replica$" "$CONNS" &&
	grep -q "^    dbname: reports   # nightly copy$" "$CONNS" && grep -q "^  keep2: { dsn: \"postgresql://a@db8/c\" }$" "$CONNS"
ok $? "the other entries and their comments are kept as they were" || diag <"$CONNS"
out list2 connections --json
is "the list has the new ones, at their lines" \
	"$(json_get '" ".join("%s:%s" % (c["name"], c["defined"].split(":")[-1]) for c in j["connections"][1:])' <"$OUT/list2.out")" \
	"keep1:4 keep2:7 cache:8 wh:9 whbad:15"
out listt connections
grep -Eq "^wh +postgres +.*connections.yml:9 +host=$SOCK dbname=warehouse user=pwuser password=\*\*\*$" "$OUT/listt.out"
ok $? "the table: name, type, where, the address with the password masked" || diag <"$OUT/listt.out"

out test connections test wh --json
ok $? "test: the connection works"
is "test --json: ok, server version, TLS, latency" \
	"$(json_get '"%s %s %s %s" % (j["ok"], j["server_version"].split(".")[0].isdigit(), j["tls"], j["latency_ms"] >= 0)' <"$OUT/test.out")" \
	"True True False True"
out testt connections test wh
grep -Eq "^wh: ok, PostgreSQL [0-9.]+.*, no TLS, connect [0-9.]+ ms, query [0-9.]+ ms, as pwuser on warehouse$" "$OUT/testt.out"
ok $? "test: the same in words" || diag <"$OUT/testt.out"
out testbad connections test whbad
is "test with a wrong password fails (the server answered: not unreachable)" "$?" 1
grep -q 'password authentication failed for user "pwuser"' "$OUT/testbad.err" && [ "$(wc -l <"$OUT/testbad.err")" -eq 1 ]
ok $? "... on one line saying why" || diag <"$OUT/testbad.err"

out replace connections add wh --replace --host "$SOCK" --dbname warehouse --user pwuser --sslmode disable
ok $? "add --replace changes an entry in its place" || diag <"$OUT/replace.err"
sl connections test wh >/dev/null 2>&1
ok $? "... and the password it had stays"
out remove connections remove keep2
ok $? "remove"
! grep -q keep2 "$CONNS" && grep -q "^  keep1:$" "$CONNS" && grep -q "^  wh:$" "$CONNS"
ok $? "... takes that entry alone out" || diag <"$CONNS"
out remove2 connections remove keep2
is "remove of a name that is not there fails" "$?" 1

# a port that accepts and never answers
blackhole "$OUT/bh.port"
sl connections add hole --host 127.0.0.1 --port "$(cat "$OUT/bh.port")" --dbname x --user y >/dev/null 2>&1
timeout 60 "$SLUICE_BIN" -C "$PROJ" connections test hole --timeout 2 >"$OUT/hole.out" 2>"$OUT/hole.err"
is "a server that never answers: the test ends, unreachable" "$?" 4
grep -q "timeout expired" "$OUT/hole.err"
ok $? "... with the timeout as the reason" || diag <"$OUT/hole.err"

out sqlt sql "select 1 as n, 'a|b' as t, null as z union all select 22, 'é', 'x' order by 1"
is "sql: an aligned table" "$(cat "$OUT/sqlt.out")" " n  |  t  | z
----+-----+---
  1 | a|b | 
 22 | é   | x
(2 rows)"
out sqlj sql --json "select 1 as n, null::text as z, 'q\"uote' as t"
is "sql --json: columns, rows as arrays of text or null, the command" "$(cat "$OUT/sqlj.out" | json_get 'json.dumps(j, sort_keys=True)')" \
	'{"columns": ["n", "z", "t"], "command": "SELECT 1", "rows": [["1", null, "q\"uote"]]}'
out sqlc sql --csv "select 'a,b' as \"x,y\", 'say \"hi\"' as q, E'two\nlines' as l, '' as e, null as n, 7 as i"
is "sql --csv: RFC 4180 (quotes doubled, CRLF, NULL empty, the empty string quoted)" \
	"$(od -An -c "$OUT/sqlc.out" | tr -s ' ' | tr -d '\n')" \
	"$(printf '"x,y",q,l,e,n,i\r\n"a,b","say ""hi""","two\nlines","",,7\r\n' | od -An -c | tr -s ' ' | tr -d '\n')"
out sqle sql "select 1 fromm nowhere"
is "sql: a statement the server refuses fails" "$?" 1
grep -q "^sluice sql: default: line 1, column 16: syntax error at or near \"nowhere\"" "$OUT/sqle.err"
ok $? "... naming its line and column" || diag <"$OUT/sqle.err"
out sqlto sql --timeout 1 "select pg_sleep(30)"
grep -q "canceling statement due to statement timeout" "$OUT/sqlto.err"
ok $? "sql: the statement timeout ends a long statement" || diag <"$OUT/sqlto.err"
out sqlpw sql --conn wh --csv "select current_user"
is "sql on a connection with a password" "$(tr -d '\r' <"$OUT/sqlpw.out")" "current_user
pwuser"

out psql psql -- -XAtc "select current_database()"
is "psql: on the embedded warehouse by default, psql's arguments after --" "$(cat "$OUT/psql.out")" warehouse
out psqlpw psql wh -- -XAtc "select current_user"
is "psql on a connection with a password" "$(cat "$OUT/psqlpw.out")" pwuser
# a psql that tells how it was called
mkdir -p "$OUT/bin"
cat >"$OUT/bin/psql" <<'SH'
#!/bin/sh
printf 'argv: %s\n' "$*"
printf 'PGPASSWORD: %s\n' "${PGPASSWORD:-unset}"
SH
chmod +x "$OUT/bin/psql"
PATH="$OUT/bin:$PATH" "$SLUICE_BIN" -C "$PROJ" psql wh -- -c "select 1" >"$OUT/fakepsql.out" 2>&1
! grep "^argv:" "$OUT/fakepsql.out" | grep -q "$PW" && grep -q "^PGPASSWORD: $PW$" "$OUT/fakepsql.out" &&
	grep -q "^argv: -d .*user=pwuser.* -c select 1$" "$OUT/fakepsql.out"
ok $? "psql gets the password in PGPASSWORD, never in its argv" || sed "s/$PW/<PW>/g" "$OUT/fakepsql.out" | diag
rm -f "$OUT/fakepsql.out"

# every file under the project and .sluice, and every output: only
# connections.yml (and its backup, the previous connections.yml) hold it
leaks=$(grep -rlF -e "$PW" "$PROJ" "$OUT" 2>/dev/null | grep -v -e "^$CONNS\$" -e "^$CONNS.bak\$")
is "the password is in no other file and no output" "$leaks" ""

done_testing
