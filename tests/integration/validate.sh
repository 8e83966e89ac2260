#!/bin/sh
# `sluice validate` on the fixture projects: every error with file:line:col,
# exit 3 when there is any, exit 0 and a summary when there is none, --json.
. "$SLUICE_SRCDIR/tests/integration/lib.sh"

FIX=$SLUICE_SRCDIR/tests/fixtures
T=$SLUICE_TESTDIR/validate
rm -rf "$T"
mkdir -p "$T"

echo "1..22"

# run NAME ARGS...: sluice from the fixtures directory (so paths print short);
# stdout in $T/NAME.out, stderr in $T/NAME.err, exit status in $rc
run() {
	name=$1; shift
	(cd "$FIX" && "$SLUICE_BIN" "$@") >"$T/$name.out" 2>"$T/$name.err"
	rc=$?
}

# has FILE LINE: FILE contains LINE exactly; if not, says which line it
# wanted and shows FILE (diagnostics for the ok that follows)
has() {
	grep -qxF -- "$2" "$1" && return 0
	{ printf 'no line:\n%s\nin %s:\n' "$2" "$1"; cat "$1"; } | diag
	return 1
}

# the task kinds this binary knows, listed as its messages list them
KINDS=$("$SLUICE_BIN" validate --kinds | paste -sd, - | sed 's/,/, /g')

# ---- a valid project
run good -C good validate
[ "$rc" -eq 0 ]; ok $? "good: exit 0"
has "$T/good.out" "ok: project good, 2 pipelines, 4 tasks"; ok $? "good: summary on stdout"
[ ! -s "$T/good.err" ]; ok $? "good: nothing on stderr"

run goodj -C good validate --json
python3 -c 'import json,sys; j=json.load(sys.stdin); assert j["ok"] is True and j["errors"] == [] and j["tasks"] == 4' <"$T/goodj.out"
ok $? "good --json: ok true, no errors"

# ---- every error class in one pipeline, and the project file
run b1 -C broken1 validate
[ "$rc" -eq 3 ]; ok $? "broken1: exit 3"
E=$T/b1.err
P=broken1/pipelines/daily.yml
has "$E" "$P:1:14: error: invalid schedule '0 25 * * *': hour field: 25 is out of range 0-23"; ok $? "bad cron points inside the string"
has "$E" "$P:2:13: error: 'start_date' must be a date like 2026-01-01, got '2026-02-30'"; ok $? "invalid start_date"
has "$E" "$P:7:32: error: unknown template variable 'params.regoin'; did you mean 'params.region'?"; ok $? "unknown template variable in command"
has "$E" "$P:9:11: error: unknown task kind 'sqll'; expected one of: $KINDS; did you mean 'sql'?"; ok $? "unknown task kind"
has "$E" "$P:12:19: error: unknown template variable 'dss'; did you mean 'ds'?"; ok $? "unknown template variable in a literal block"
has "$E" "$P:13:5: error: unknown key 'depend_on' in task 'load'; did you mean 'depends_on'?"; ok $? "unknown key with suggestion"
has "$E" "$P:14:14: error: 'retries' must be an integer, got string"; ok $? "wrong type"
has "$E" "$P:15:3: error: duplicate task 'load' (first defined at 8:3)"; ok $? "duplicate task"
has "$E" "$P:19:5: error: task 'publish': missing required key 'kind'"; ok $? "missing required key"
has "$E" "$P:20:18: error: task 'publish' depends on unknown task 'extrct'; did you mean 'extract'?"; ok $? "unknown task in depends_on"
has "$E" "$P:21:3: error: cycle: a -> b -> c -> a"; ok $? "cycle"
has "$E" "broken1/sluice.yml:4:3: error: unknown key 'heartbeat_intervall' in 'runner'; did you mean 'heartbeat_interval'?"
ok $? "errors in sluice.yml too"
has "$E" "13 errors in project $(cd "$FIX/broken1" && pwd -P)"; ok $? "count and project on the last line"
[ "$(grep -c ': error: ' "$E")" -eq 13 ] && [ ! -s "$T/b1.out" ]; ok $? "13 error lines on stderr, none on stdout" ||
	cat "$E" "$T/b1.out" | diag

# ---- --json (global or after the command) parses and carries every error
run b1j --json -C broken1 validate
python3 - "$T/b1j.out" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["ok"] is False, j
assert len(j["errors"]) == 13, len(j["errors"])
for e in j["errors"]:
    assert set(e) == {"file", "line", "col", "message"}, e
    assert e["line"] > 0 and e["col"] > 0, e
assert {"file": "broken1/pipelines/daily.yml", "line": 21, "col": 3,
        "message": "cycle: a -> b -> c -> a"} in j["errors"]
PY
[ $? -eq 0 ] && [ "$rc" -eq 3 ]; ok $? "--json: every error with file, line, col, message; exit 3"

# ---- a syntax error in one file does not hide the others
run b2 -C broken2 validate
[ "$rc" -eq 3 ] &&
	has "$T/b2.err" "broken2/pipelines/a_syntax.yml:4:21: error: a quoted scalar is not closed before the end of the file" &&
	has "$T/b2.err" "broken2/pipelines/b_ok_but_missing.yml:3:5: error: task 'two': missing required key 'command'" &&
	has "$T/b2.err" "broken2/sluice.yml:1:1: error: missing required key 'name'"
ok $? "broken2: syntax error and the other files' errors, exit 3"

# ---- found from a subdirectory; usage; no project
cp -R "$FIX/good" "$T/proj"
(cd "$T/proj/pipelines" && "$SLUICE_BIN" validate >"$T/sub.out" 2>&1) &&
	has "$T/sub.out" "ok: project good, 2 pipelines, 4 tasks" &&
	"$SLUICE_BIN" validate --help | grep -q 'usage: sluice' &&
	{ "$SLUICE_BIN" -C "$T/proj" validate --bogus 2>/dev/null; [ $? -eq 2 ]; } &&
	mkdir -p "$T/empty" &&
	{ "$SLUICE_BIN" -C "$T/empty" validate 2>"$T/empty.err"; [ $? -eq 3 ]; } &&
	grep -q "no sluice.yml" "$T/empty.err"
ok $? "root found from a subdirectory; --help; bad option exits 2; no project exits 3"

done_testing
