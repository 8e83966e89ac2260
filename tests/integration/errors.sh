#!/bin/sh
# Every error says what and where: connections.yml errors (mode, a password
# file's mode, YAML syntax, an unset ${ENV}) at file:line:col with the rule,
# from every command (exit 3) and from validate; every cycle of a pipeline;
# a duplicate CSV header with a contract; rejects of no such load; an empty
# --into; concurrent runs racing to start the runner.
. "$SLUICE_SRCDIR/tests/integration/lib.sh"

echo "1..28"

PROJ=$(mkproj errors)
trap cleanup EXIT
OUT=$PROJ/out
mkdir -p "$OUT" "$PROJ/data" "$PROJ/contracts"
CONNS=$PROJ/connections.yml
printf 'connections: %s\n' "$CONNS" >>"$PROJ/sluice.yml"
printf 'tasks:\n  a: { kind: shell, command: "true" }\n' >"$PROJ/pipelines/p.yml"

# conns TEXT MODE: connections.yml with TEXT, of MODE
conns() {
	rm -f "$CONNS"
	printf '%s' "$1" >"$CONNS"
	chmod "$2" "$CONNS"
}
# every_command WANT: status, run, logs and rejects each print WANT (after "sluice: ")
# on stderr and exit 3; validate prints it as an error and exits 3
every_command() {
	bad=""
	for cmd in "status" "run p" "logs latest a" "rejects latest"; do
		# shellcheck disable=SC2086
		sl $cmd >"$OUT/cmd.out" 2>"$OUT/cmd.err"
		rc=$?
		if [ "$rc" -ne 3 ] || ! grep -qxF "sluice: $1" "$OUT/cmd.err"; then
			bad="$bad
$cmd: exit $rc: $(cat "$OUT/cmd.err")"
		fi
	done
	[ -z "$bad" ] || { printf 'want: sluice: %s%s\n' "$1" "$bad" | diag; return 1; }
}
# validate_says WANT: validate exits 3 with WANT as an error line
validate_says() {
	sl validate >"$OUT/v.out" 2>"$OUT/v.err"
	rc=$?
	[ "$rc" -eq 3 ] && grep -qxF "$1" "$OUT/v.err" && return 0
	{ echo "exit $rc, want line: $1"; cat "$OUT/v.out" "$OUT/v.err"; } | diag
	return 1
}

sl -q up >/dev/null 2>&1
ok $? "sluice up"

conns 'connections:
  wh: { host: 127.0.0.1 }
' 644
W="$CONNS: mode 0644 lets other users read its secrets; run: chmod 600 $CONNS"
every_command "$W"
ok $? "connections.yml of mode 0644: every command says so, exit 3"
validate_says "$CONNS: error: mode 0644 lets other users read its secrets; run: chmod 600 $CONNS"
ok $? "validate reports it too"

printf 'pw\n' >"$PROJ/pw"
chmod 644 "$PROJ/pw"
conns 'connections:
  wh: { host: 127.0.0.1, password_file: pw }
' 600
W="$CONNS:2:41: password_file $PROJ/pw: mode 0644 lets other users read its secrets; run: chmod 600 $PROJ/pw"
every_command "$W"
ok $? "a password_file of mode 0644: file:line:col, every command, exit 3"
validate_says "$CONNS:2:41: error: password_file $PROJ/pw: mode 0644 lets other users read its secrets; run: chmod 600 $PROJ/pw"
ok $? "validate reports it at file:line:col"

conns 'connections:
  wh:
    host: [127.0.0.1
' 600
W="$CONNS:4:1: did not find expected ',' or ']' (while parsing a flow sequence at 3:11)"
every_command "$W"
ok $? "a YAML syntax error: file:line:col, every command, exit 3"
validate_says "$CONNS:4:1: error: did not find expected ',' or ']' (while parsing a flow sequence at 3:11)"
ok $? "validate reports it at file:line:col"

unset SLUICE_ERRORS_UNSET
conns 'connections:
  wh: { host: 127.0.0.1, password: "x${SLUICE_ERRORS_UNSET}" }
' 600
W="$CONNS:2:38: environment variable 'SLUICE_ERRORS_UNSET' is not set; set it, or write \$\${ for a literal \${"
every_command "$W"
ok $? "an unset \${ENV}: file:line:col, every command, exit 3"
validate_says "$CONNS:2:38: error: environment variable 'SLUICE_ERRORS_UNSET' is not set; set it, or write \$\${ for a literal \${"
ok $? "validate reports it at file:line:col"
sl validate --json >"$OUT/vj.out" 2>&1
is "validate --json: the error with its line and column" \
	"$(json_get '"%s %s:%s" % (j["ok"], j["errors"][0]["line"], j["errors"][0]["col"])' <"$OUT/vj.out")" "False 2:38"

conns 'connections:
  wh: { host: 127.0.0.1 }
' 600
sl validate >"$OUT/v.out" 2>&1
ok $? "a good connections.yml: validate ok" || diag <"$OUT/v.out"

# ---- every cycle
cat >"$PROJ/pipelines/cy.yml" <<'YML'
tasks:
  a: { kind: shell, command: "true", depends_on: [b] }
  b: { kind: shell, command: "true", depends_on: [a] }
  c: { kind: shell, command: "true", depends_on: [d, a] }
  d: { kind: shell, command: "true", depends_on: [c] }
  x: { kind: shell, command: "true", depends_on: [z] }
  y: { kind: shell, command: "true", depends_on: [x] }
  z: { kind: shell, command: "true", depends_on: [y, x] }
YML
sl validate >"$OUT/v.out" 2>"$OUT/v.err"
is "validate: exit 3 for the cycles" "$?" 3
P=pipelines/cy.yml
grep -q "^.*$P:2:3: error: cycle: a -> b -> a$" "$OUT/v.err"
ok $? "the first cycle at file:line:col" || diag <"$OUT/v.err"
grep -q "^.*$P:4:3: error: cycle: c -> d -> c$" "$OUT/v.err"
ok $? "a second, apart from the first" || diag <"$OUT/v.err"
grep -q "^.*$P:6:3: error: cycle: x -> z -> x$" "$OUT/v.err" &&
	grep -q "^.*$P:6:3: error: cycle: x -> y -> z -> x$" "$OUT/v.err"
ok $? "two through the same task: both" || diag <"$OUT/v.err"
is "four cycles, four errors" "$(grep -c 'error: cycle:' "$OUT/v.err")" 4
rm "$PROJ/pipelines/cy.yml"

# ---- loads
cat >"$PROJ/contracts/ids.yml" <<'YML'
name: ids
columns:
  id:   { type: int }
  name: { type: text }
YML
printf 'id,name,id\n1,a,2\n' >"$PROJ/data/dup.csv"
(cd "$PROJ" && "$SLUICE_BIN" load data/dup.csv --into dup --create --contract ids) >"$OUT/dup.out" 2>"$OUT/dup.err"
is "a duplicate header with a contract: exit 1" "$?" 1
is "it names file:line:col of the second" "$(cat "$OUT/dup.err")" \
	"sluice load: data/dup.csv:1:9: column 'id' is in the header twice (first as field 1)"
(cd "$PROJ" && "$SLUICE_BIN" load data/dup.csv --into dup --create) >"$OUT/dup2.out" 2>"$OUT/dup2.err"
is "without a contract too: exit 1" "$?" 1
grep -qF "data/dup.csv:1:9: column 'id' is in the header twice" "$OUT/dup2.err"
ok $? "and the same message" || diag <"$OUT/dup2.err"

printf 'id,name\n1,a\n' >"$PROJ/data/ok.csv"
sl load "$PROJ/data/ok.csv" --into '' >"$OUT/into.out" 2>"$OUT/into.err"
is "--into '': usage error" "$?" 2
is "--into '': says what is missing" "$(cat "$OUT/into.err")" "sluice load: --into: a table name is required"
sl load "$PROJ/data/ok.csv" --into 'a.b.c' >"$OUT/into.out" 2>"$OUT/into.err"
is "--into a.b.c: says what it must be" "$(cat "$OUT/into.err")" \
	"sluice load: --into: must be a table or schema.table, got 'a.b.c'"

sl rejects --load 999999 >"$OUT/rj.out" 2>"$OUT/rj.err"
is "rejects --load of no load: exit 1" "$?" 1
is "rejects --load of no load: says so" "$(cat "$OUT/rj.err")" "sluice rejects: no load 999999"
id=$(sl --json load "$PROJ/data/ok.csv" --into okt --create | json_get 'j["load_id"]')
is "rejects --load of a load without rejects: no rejects, exit 0" "$(sl rejects --load "$id"; echo "exit $?")" "no rejects
exit 0"

# ---- concurrent runs: one starts the runner, the others use it
sl -q runner --stop >/dev/null 2>&1
for i in 1 2 3 4 5; do
	{ sl run p >"$OUT/race$i.out" 2>"$OUT/race$i.err"; echo $? >"$OUT/race$i.rc"; } &
done
wait
is "concurrent runs: every one exits 0" "$(cat "$OUT"/race*.rc | sort -u)" 0
bad=$(cat "$OUT"/race*.err | grep -i "could not\|already running" || true)
[ -z "$bad" ] && [ "$(cat "$OUT"/race*.err | grep -c 'started a runner')" -le 1 ]
ok $? "concurrent runs: none says it could not start a runner, one start at most" || echo "$bad" | diag

done_testing
