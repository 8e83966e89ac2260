#!/bin/sh
# Failure notices (notify:): a task that fails for good, a try retried, a
# webhook that fails and comes back, one that asks to wait (Retry-After), one
# that refuses for good, a command channel, a pipeline's own channels, a
# check that warns and one that fails, `notify test` and `notify list`, the
# runner going on while a webhook takes its time, and the webhook's URL (its
# token) in no output, log or row of the state database. Against the test
# suite's HTTP server (tests/servers/httpd.py) on loopback.
. "$SLUICE_SRCDIR/tests/integration/lib.sh"

echo "1..29"

PROJ=$(mkproj notify)
HTTPD=
trap 'cleanup; is_pid "$HTTPD" && kill "$HTTPD"' EXIT
OUT=$PROJ/out
mkdir -p "$OUT"
HLOG=$PROJ/http.log
python3 "$SLUICE_SRCDIR/tests/servers/httpd.py" --port-file "$PROJ/http.port" --log "$HLOG" &
HTTPD=$!
wait_for 10 test -s "$PROJ/http.port"
ok $? "the test HTTP server listens"
PORT=$(cat "$PROJ/http.port")

TOKEN=T0kenSecretXyZ42
export SLUICE_TEST_TOKEN=$TOKEN
CONNS=$PROJ/connections.yml
cat >"$CONNS" <<YML
connections:
  alerts:  { type: http, url: "http://127.0.0.1:$PORT/hook/\${SLUICE_TEST_TOKEN}" }
  flaky:   { type: http, url: "http://127.0.0.1:$PORT/fail/2/\${SLUICE_TEST_TOKEN}" }
  waiting: { type: http, url: "http://127.0.0.1:$PORT/retry-after/2/\${SLUICE_TEST_TOKEN}" }
  gone:    { type: http, url: "http://127.0.0.1:$PORT/status/404/\${SLUICE_TEST_TOKEN}" }
  slow:    { type: http, url: "http://127.0.0.1:$PORT/slow/4/\${SLUICE_TEST_TOKEN}" }
  broken:  { type: http, url: "http://127.0.0.1:$PORT/status/500/\${SLUICE_TEST_TOKEN}" }
YML
chmod 600 "$CONNS"
cat >>"$PROJ/sluice.yml" <<YML
connections: $CONNS
notify:
  - webhook: alerts
    on: [failed, retry, check_fail, check_warn]
  - command: 'cat >"$PROJ/cmd.txt"; env | grep "^SLUICE_" | sort >"$PROJ/cmd.env"'
    on: [failed]
YML

out() {
	n=$1; shift
	sl "$@" >"$OUT/$n.out" 2>"$OUT/$n.err"
}
# posts PATH-PART: the requests the server saw whose path has PATH-PART
posts() { grep -c "\"path\": \"[^\"]*$1" "$HLOG"; }

# ---- what validate says of a wrong notify: ---------------------------------
BAD=$(mkproj notify_bad)
cat >>"$BAD/sluice.yml" <<YML
connections: $CONNS
notify:
  - webhook: alerts
    on: [faild]
  - { webhook: alerts, command: "true" }
  - { command: "true", onn: [failed] }
  - webhook: nosuch
YML
printf 'tasks:\n  a: { kind: shell, command: "true" }\n' >"$BAD/pipelines/p.yml"
"$SLUICE_BIN" -C "$BAD" validate >"$OUT/bad.out" 2>&1
rc=$?
# at: the line of sluice.yml holding TEXT
at() { grep -n -- "$1" "$BAD/sluice.yml" | cut -d: -f1; }
grep -q "sluice.yml:$(at faild):9: .*unknown event 'faild'.*did you mean 'failed'" "$OUT/bad.out" &&
	grep -q "sluice.yml:$(at 'webhook: alerts, command'):[0-9]*: .*a webhook or a command, not both" "$OUT/bad.out" &&
	grep -q "sluice.yml:$(at onn):[0-9]*: .*unknown key 'onn'.*did you mean 'on'" "$OUT/bad.out" &&
	grep -q "sluice.yml:$(at nosuch):14: .*unknown connection 'nosuch'" "$OUT/bad.out" && [ $rc -eq 3 ]
ok $? "validate: each wrong notify: at its file:line:col, exit 3" || diag <"$OUT/bad.out"

# ---- a task that fails: a retry, then for good ------------------------------
cat >"$PROJ/pipelines/alerting.yml" <<'YML'
tasks:
  boom: { kind: shell, command: "echo going down; exit 3", retries: 1, retry_delay: 0.2 }
  after: { kind: shell, command: "true", depends_on: [boom] }
YML
out validate validate
ok $? "validate: the project with notify: is valid" || diag <"$OUT/validate.err"
out run_alerting run alerting --wait
RUN=$(sl --json status alerting | json_get 'j["run_id"]')
wait_for 20 sh -c "[ \$(grep -c '/hook/' '$HLOG') -ge 2 ]"
ok $? "the webhook got two notices (the retry, then the failure)" || diag <"$HLOG"
python3 - "$HLOG" "$RUN" >"$OUT/bodies.txt" 2>&1 <<'PY'
import json, sys
log, run = sys.argv[1], int(sys.argv[2])
got = [json.loads(json.loads(l)["body"]) for l in open(log) if "/hook/" in l]
ev = [g["sluice"]["event"] for g in got]
assert ev == ["retry", "failed"], ev
f = got[1]
assert f["sluice"]["task"] == "boom" and f["sluice"]["run"] == run and f["sluice"]["try"] == 2, f
assert "task boom of alerting failed (run %d, try 2 of 2)" % run in f["text"], f["text"]
assert "look closer: sluice -C " in f["text"] and "logs %d boom" % run in f["text"], f["text"]
assert "it will be tried again" in got[0]["text"], got[0]["text"]
print("ok")
PY
ok $? "their bodies: Slack's text (what, where, the command to look closer) and the fields" || diag <"$OUT/bodies.txt"
grep -q '"Content-Type": "application/json"' "$HLOG"
ok $? "posted as application/json"
wait_for 10 test -s "$PROJ/cmd.txt"
grep -q "task boom of alerting failed" "$PROJ/cmd.txt" && grep -q "^SLUICE_TASK=boom$" "$PROJ/cmd.env" &&
	grep -q "^SLUICE_NOTICE_EVENT=failed$" "$PROJ/cmd.env" && grep -q "^SLUICE_RUN_ID=$RUN$" "$PROJ/cmd.env"
ok $? "the command got the text on stdin and the notice in SLUICE_*" || { cat "$PROJ/cmd.txt" "$PROJ/cmd.env" | diag; }
n_cmd=$(grep -c "going down\|task boom" "$PROJ/cmd.txt")
is "the command was told once (failed only, not the retry)" "$n_cmd" 1
wait_for 10 sh -c "$SLUICE_BIN -C '$PROJ' notify --json | grep -q '\"state\": \"sent\".*\"state\": \"sent\"'"
out list_json notify --json
states=$(json_get '" ".join(n["event"] + ":" + n["state"] for n in j["notices"])' <"$OUT/list_json.out")
is "notify --json: both notices sent" "$states" "failed:sent retry:sent"

# ---- a pipeline's own channels: a webhook that fails twice, then takes it ----
cat >"$PROJ/pipelines/flaky.yml" <<'YML'
notify: { webhook: flaky, on: [failed] }
tasks:
  down: { kind: shell, command: "exit 1" }
YML
out run_flaky run flaky --wait
wait_for 40 sh -c "[ \$(grep -c '/fail/2/' '$HLOG') -ge 3 ]"
ok $? "a webhook that answers 503 twice gets the notice a third time"
wait_for 10 sh -c "$SLUICE_BIN -C '$PROJ' notify --json | python3 -c 'import json,sys; n=json.load(sys.stdin)[\"notices\"][0]; sys.exit(not (n[\"pipeline\"] == \"flaky\" and n[\"state\"] == \"sent\"))'"
ok $? "and it is sent, after 3 attempts"
out list_flaky notify --json
att=$(json_get '[n["attempts"] for n in j["notices"] if n["pipeline"] == "flaky"][0]' <"$OUT/list_flaky.out")
is "attempts counted" "$att" 3
n_alerts=$(posts "/hook/")
is "the pipeline's channels replace the project's (alerts not told)" "$n_alerts" 2
grep -q "notices\[[0-9]*\]: notice [0-9]* (failed of down): webhook flaky: HTTP 503.*trying again later" "$PROJ/.sluice/runner.log"
ok $? "the runner's log says why an attempt failed, by the connection's name" || tail -20 "$PROJ/.sluice/runner.log" | diag

# ---- Retry-After ----------------------------------------------------------------
cat >"$PROJ/pipelines/patience.yml" <<'YML'
notify: { webhook: waiting, on: [failed] }
tasks:
  down: { kind: shell, command: "exit 1" }
YML
out run_patience run patience --wait
wait_for 30 sh -c "[ \$(grep -c '/retry-after/' '$HLOG') -ge 2 ]"
ok $? "a webhook that answers 429 gets the notice again"
gap=$(python3 -c '
import json, sys
t = [json.loads(l)["time"] for l in open(sys.argv[1]) if "/retry-after/" in l]
print("yes" if t[1] - t[0] >= 1.9 else "no: %.2f s" % (t[1] - t[0]))' "$HLOG")
is "after the Retry-After the server asked for (2 s)" "$gap" yes

# ---- a refusal for good -----------------------------------------------------------
cat >"$PROJ/pipelines/nobody.yml" <<'YML'
notify: { webhook: gone, on: [failed] }
tasks:
  down: { kind: shell, command: "exit 1" }
YML
out run_nobody run nobody --wait
wait_for 15 sh -c "$SLUICE_BIN -C '$PROJ' notify --json | grep -q '\"state\": \"failed\"'"
ok $? "a 404 is not tried again: the notice failed"
sleep 1
n404=$(posts "/status/404/")
is "one attempt only" "$n404" 1
out list_text notify
grep -q "last attempt (1): webhook gone: HTTP 404" "$OUT/list_text.out"
ok $? "notify list says why" || diag <"$OUT/list_text.out"

# ---- checks: one that warns, one that fails ------------------------------------
mkdir -p "$PROJ/models"
cat >"$PROJ/models/nums.sql" <<'SQL'
select g as n, case when g % 10 = 0 then null else g end as maybe from generate_series(1, 50) g
SQL
cat >"$PROJ/models/nums.yml" <<'YML'
models:
  - name: nums
    config: { materialized: table }
    columns:
      - name: maybe
        tests:
          - not_null: { severity: warn }
      - name: n
        tests:
          - accepted_values: { values: [1, 2, 3] }
YML
cat >"$PROJ/pipelines/quality.yml" <<'YML'
tasks:
  build: { kind: models, select: nums }
YML
out validate_q validate
ok $? "validate: the models with checks" || diag <"$OUT/validate_q.out"
out run_quality run quality --wait
wait_for 20 sh -c "[ \$(grep -c '/hook/' '$HLOG') -ge 4 ]"
ok $? "the project's webhook got the check notices" || diag <"$HLOG"
python3 - "$HLOG" >"$OUT/checks.txt" 2>&1 <<'PY'
import json, sys
got = [json.loads(json.loads(l)["body"]) for l in open(sys.argv[1]) if "/hook/" in l][2:]
ev = sorted((g["sluice"]["event"], g["sluice"]["task"]) for g in got)
assert [e for e, _ in ev] == ["check_fail", "check_warn"], ev
by = {e: g for g in got for e in [g["sluice"]["event"]]}
assert "5 failing of 50" in by["check_warn"]["text"], by["check_warn"]["text"]
assert "47 failing of 50" in by["check_fail"]["text"], by["check_fail"]["text"]
assert "look closer: sluice -C " in by["check_fail"]["text"] and " checks " in by["check_fail"]["text"]
print("ok")
PY
ok $? "a warning check and a failing one, one notice each, with their counts" || diag <"$OUT/checks.txt"

# ---- the runner does not wait for a slow webhook -----------------------------
cat >"$PROJ/pipelines/slowpoke.yml" <<'YML'
notify: { webhook: slow, on: [failed] }
tasks:
  down: { kind: shell, command: "exit 1" }
YML
cat >"$PROJ/pipelines/quick.yml" <<'YML'
tasks:
  a: { kind: shell, command: "true" }
  b: { kind: shell, command: "true", depends_on: [a] }
  c: { kind: shell, command: "true", depends_on: [b] }
YML
out run_slow run slowpoke --wait
wait_for 10 sh -c "grep -q '/slow/4/' '$HLOG'"
t0=$(python3 -c 'import json,sys; print([json.loads(l)["time"] for l in open(sys.argv[1]) if "/slow/" in l][0])' "$HLOG")
out run_quick run quick --wait
t1=$(date +%s.%N)
sent_then=$(sl notify --json | json_get '[n["state"] for n in j["notices"] if n["pipeline"] == "slowpoke"][0]')
python3 -c "import sys; sys.exit(0 if float(sys.argv[2]) - float(sys.argv[1]) < 4 else 1)" "$t0" "$t1" &&
	grep -q "success" "$OUT/run_quick.out"
ok $? "a run ends while a slow webhook still holds its notice" || { echo "t0=$t0 t1=$t1" | diag; cat "$OUT/run_quick.out" | diag; }
is "that notice is still pending then" "$sent_then" pending
wait_for 15 sh -c "$SLUICE_BIN -C '$PROJ' notify --json | python3 -c 'import json,sys; sys.exit(0 if [n for n in json.load(sys.stdin)[\"notices\"] if n[\"pipeline\"] == \"slowpoke\"][0][\"state\"] == \"sent\" else 1)'"
ok $? "and it is sent when the webhook answers"

# ---- notify test ---------------------------------------------------------------
out test notify test
rc=$?
grep -q "^webhook alerts: delivered in [0-9]* ms (HTTP 200)" "$OUT/test.out" &&
	grep -q "^command 'cat.*: delivered in [0-9]* ms (exit 0)" "$OUT/test.out" && [ $rc -eq 0 ]
ok $? "notify test: each channel delivered, exit 0" || cat "$OUT/test.out" "$OUT/test.err" | diag
cat >"$PROJ/pipelines/loud.yml" <<'YML'
notify: [{ webhook: broken }]
tasks:
  a: { kind: shell, command: "true" }
YML
out test_loud notify test loud --json
rc=$?
ok_json=$(json_get 'j["channels"][0]["ok"], j["channels"][0]["status"], j["channels"][0]["error"]' <"$OUT/test_loud.out")
[ $rc -eq 1 ]
is "notify test of a broken webhook: not delivered, HTTP 500, exit 1" "$ok_json $rc" "False 500 HTTP 500: {\"error\": \"as asked\"} 1"

# ---- the token: nowhere --------------------------------------------------------
out conns connections
out connsj connections --json
grep -q "alerts .*http://127.0.0.1:$PORT/\*\*\*" "$OUT/conns.out"
ok $? "connections shows a webhook as its host and ***" || diag <"$OUT/conns.out"
STATE=$(sl --json up -q 2>/dev/null | json_get 'j["state"]["address"]')
pg_dump -d "$STATE" >"$OUT/state.sql" 2>"$OUT/pg_dump.err"
cp "$PROJ/.sluice/runner.log" "$OUT/runner.log"
grep -l "$TOKEN" "$OUT"/* >"$OUT/leaks.txt"
[ ! -s "$OUT/leaks.txt" ] && grep -q "notices" "$OUT/state.sql"
ok $? "the webhook's token is in no output, no log and no row of the state database" || diag <"$OUT/leaks.txt"

done_testing
