#!/bin/sh
# The console's connections view, the real binary in tmux: `8` lists the
# connections of connections.yml and the warehouse's `default` with where
# they are defined and their secrets masked; t tests one (latency, version,
# TLS; a wrong password in one line) in a child, so a server that accepts
# and never answers leaves the console answering keys meanwhile and fails
# in bounded time; a adds in a form whose password shows as stars, e edits,
# d deletes after a confirm, each keeping the other entries, mode 0600 and
# a backup; --readonly refuses them. No screen and no file but
# connections.yml and its backup ever holds the password.
. "$SLUICE_SRCDIR/tests/integration/lib.sh"
. "$SLUICE_SRCDIR/tests/integration/consolelib.sh"
console_plan 24

PROJ=$(mkproj console_connections_it)
BH=
# the server's socket directory by a short path, so that addresses fit
# on the screen
SHORT=/tmp/sluice-cc.$$
trap 'console_finish; is_pid "$BH" && kill "$BH"; rm -f "$SHORT"' EXIT
OUT=$SLUICE_TESTDIR/console_connections-out
rm -rf "$OUT"
mkdir -p "$OUT"
# every screen the test looks at, to look for the password in at the end
SCREENS=$OUT/screens
screen() {
	$TM capture-pane -p -t "$1" >"$SCREENS.last"
	cat "$SCREENS.last" >>"$SCREENS"
	cat "$SCREENS.last"
}

PW='Pl4nted-c0nsole'
sl -q up >/dev/null 2>&1
WH=$(sl --json up -q 2>/dev/null | json_get 'j["warehouse"]["address"]')
SOCK=$(printf '%s\n' "$WH" | sed 's/.*host=\([^ ]*\).*/\1/')
ln -sfn "$SOCK" "$SHORT"
HBA=$(psql "$WH" -XAtqc "show hba_file")
{ echo "local all pwuser scram-sha-256"; cat "$HBA"; } >"$OUT/hba"
cat "$OUT/hba" >"$HBA"
psql "$WH" -XAtqc "create role pwuser login password '$PW'; select pg_reload_conf()" >/dev/null
ok $? "a role with a password, which the server asks for"

# a port that accepts and never answers
blackhole "$OUT/bh.port"

CONNS=$PROJ/connections.yml
cat >"$CONNS" <<YML
# kept: a comment of the file's own
connections:
  keep1:
    host: db9
    dbname: reports   # nightly copy
  wh:
    host: "$SHORT"
    dbname: warehouse
    user: pwuser
    password: "$PW"
  whbad:
    host: "$SHORT"
    dbname: warehouse
    user: pwuser
    password: "not-the-right-one"
  hole:
    host: 127.0.0.1
    port: $(cat "$OUT/bh.port")
    dbname: x
    user: y
YML
chmod 600 "$CONNS"
printf 'connections: connections.yml\n' >>"$PROJ/sluice.yml"

console main
wait_screen main "PIPELINE .*SCHEDULE"
keys main 8
wait_screen main "NAME +TYPE +ADDRESS +DEFINED +TEST"
ok $? "8 opens the connections view"
shot main | grep -Eq "default +postgres +host=.* +embedded" &&
	grep -q "^ default: host=$SOCK dbname=warehouse user=sluice" "$SHOT"
ok $? "the warehouse's default is listed, embedded" || diag <"$SHOT"
# the rows: default keep1 wh whbad hole
keys main j j
wait_screen main "^ wh: host=$SHORT dbname=warehouse user=pwuser password=\*\*\*  \(defined in " &&
	shot main | grep -Eq "keep1 +postgres +host=db9 dbname=reports +connections.yml:3" &&
	grep -Eq "wh +postgres +host=$SHORT .* connections.yml:6" "$SHOT"
ok $? "each entry: its type, its address with the password masked, file:line" || diag <"$SHOT"

keys main t
wait_screen main "wh +postgres .* ✓ ok [0-9.]+ ms, v[0-9]+[.0-9]*, no TLS"
ok $? "t tests a connection: latency, server version, no TLS"
wait_screen main "wh: ok, PostgreSQL [0-9]"
ok $? "... and says it in full on the status line"
keys main j t
wait_screen main 'whbad .* ✗ password authentication failed' &&
	wait_screen main '^whbad: cannot connect: connection to server on socket' 
ok $? "a wrong password: the test fails saying why"

keys main j t
wait_screen main "hole .* testing\.\.\."
ok $? "a test of a server that never answers is under way"
keys main k k
wait_screen main "▶ wh +postgres"
ok $? "... and meanwhile the console answers keys"
shot main | grep -Eq "hole .* testing\.\.\."
ok $? "... before the test has ended" || diag <"$SHOT"
# the console's test gives up after 5 s
end=$(($(date +%s) + 30))
while [ "$(date +%s)" -lt "$end" ] && ! screen main | grep -q "hole .* ✗ timeout expired"; do sleep 0.2; done
shot main | grep -q "hole .* ✗ timeout expired"
ok $? "it ends with the timeout as its reason" || diag <"$SHOT"

keys main a
wait_screen main "Add connection"
ok $? "a opens the form"
keys main added1 Tab "postgresql://pwuser@/warehouse?host=$SHORT" Tab Tab Tab Tab Tab Tab "$PW"
wait_screen main "password +\*{15} "
ok $? "the password typed shows as stars"
shot main | grep -qF "$PW"
is "... never as itself" "$?" 1
keys main Enter
wait_screen main "added1 +postgres +postgresql://pwuser@/warehouse\?host=.* connections.yml:21" &&
	shot main | grep -q "^ added1: postgresql://pwuser@/warehouse?host=$SHORT&password=\*\*\*  (defined in "
ok $? "saving the form adds the connection, at its line, password masked" || diag <"$SHOT"
grep -q "^    password: \"$PW\"$" "$CONNS" && grep -q "^# kept: a comment of the file's own$" "$CONNS" &&
	grep -q "^    dbname: reports   # nightly copy$" "$CONNS"
ok $? "connections.yml has it, and still the other entries and comments" || diag <"$CONNS"
is "connections.yml is mode 0600, its backup too" "$(stat -c %a "$CONNS") $(stat -c %a "$CONNS.bak")" "600 600"
keys main G t
wait_screen main "added1 .* ✓ ok [0-9.]+ ms"
ok $? "the new connection tests fine: the password typed is the one saved"

keys main e
wait_screen main "Edit connection"
keys main C-u "postgresql://pwuser@/postgres?host=$SHORT" Enter Enter Enter Enter Enter Enter Enter
wait_screen main "added1 +postgres +postgresql://pwuser@/postgres\?host="
ok $? "e edits it in the form"
grep -q "^    dsn: \"postgresql://pwuser@/postgres?host=$SHORT\"$" "$CONNS" && grep -c "^    password: \"$PW\"$" "$CONNS" | grep -qx 2
ok $? "... in connections.yml, the password kept" || diag <"$CONNS"

keys main d
wait_screen main "Delete connection 'added1'"
ok $? "d asks first"
keys main y
wait_screen main "added1 deleted from"
! screen main | grep -q "added1 +postgres" && ! grep -q added1 "$CONNS" && grep -q "^  keep1:$" "$CONNS"
ok $? "y deletes it from the view and connections.yml, the others stay" || diag <"$CONNS"

keys main Q
console ro -- --readonly
wait_screen ro "PIPELINE .*SCHEDULE"
keys ro 8
wait_screen ro "NAME +TYPE +ADDRESS"
keys ro j d
wait_screen ro "read-only console \(--readonly\): delete is disabled"
ok $? "--readonly: delete is refused"
keys ro Q

# every screen looked at, and every file under the project but
# connections.yml and its backup
leaks=$( (grep -lF -e "$PW" "$SCREENS"; grep -rlF -e "$PW" "$PROJ" "$OUT" "$SLUICE_TESTDIR/$CONSOLE_TAG"-*.err) 2>/dev/null |
	grep -v -e "^$CONNS\$" -e "^$CONNS.bak\$" | sort -u)
is "the password is on no screen and in no other file" "$leaks" ""

done_testing
