#!/bin/sh
# Extract tasks from HTTP into the lake, against the test suite's HTTP server
# (tests/servers/httpd.py) on loopback: each pagination style fetches exactly
# its records; bearer, basic and API-key auth; retries on 503 and 429 with
# Retry-After (timestamps in the log); a connection reset mid-page resumes
# at that page without a record twice; broken and truncated JSON name the
# page and the byte offset; limit: stops early; a raw file as it is;
# incremental runs ask only for what is new (since=); kill -9 of the worker
# mid-extract leaves no partial file visible and the watermark as it was;
# the bearer token in no log, output or row of the state database.
. "$SLUICE_SRCDIR/tests/integration/lib.sh"

echo "1..32"

PROJ=$(mkproj extract)
HTTPD=
trap 'cleanup; is_pid "$HTTPD" && kill "$HTTPD"' EXIT
OUT=$PROJ/out
mkdir -p "$OUT"
HLOG=$PROJ/http.log
TOKEN=Br3arerT0kenXyZ77
export SLUICE_HTTPD_TOKEN=$TOKEN
python3 "$SLUICE_SRCDIR/tests/servers/httpd.py" --port-file "$PROJ/http.port" --log "$HLOG" &
HTTPD=$!
wait_for 10 test -s "$PROJ/http.port"
ok $? "the test HTTP server listens"
PORT=$(cat "$PROJ/http.port")

export SLUICE_TEST_TOKEN=$TOKEN
CONNS=$PROJ/connections.yml
cat >"$CONNS" <<YML
connections:
  api:    { type: http, url: "http://127.0.0.1:$PORT", token: "\${SLUICE_TEST_TOKEN}" }
  basic:  { type: http, url: "http://127.0.0.1:$PORT/", user: me, password: "\${SLUICE_TEST_TOKEN}" }
  keyed:  { type: http, url: "http://127.0.0.1:$PORT", api_key: "\${SLUICE_TEST_TOKEN}", api_key_header: X-API-Key }
  nobody: { type: http, url: "http://127.0.0.1:$PORT" }
YML
chmod 600 "$CONNS"
cat >>"$PROJ/sluice.yml" <<YML
connections: $CONNS
lake: data/lake
YML
LAKE=$PROJ/data/lake
DS=2026-03-01

out() {
	n=$1; shift
	sl "$@" >"$OUT/$n.out" 2>"$OUT/$n.err"
}
# lake TASK [CONN]: "records unique first last files" of the task's manifest,
# reading every file it lists ("none" without a manifest)
lake() {
	python3 - "$LAKE/${2:-api}/$1/$DS" <<'PY'
import gzip, json, os, sys
d = sys.argv[1]
m = os.path.join(d, "_manifest.json")
if not os.path.exists(m):
    print("none"); sys.exit(0)
man = json.load(open(m))
ids = []
for f in man["files"]:
    for line in gzip.open(os.path.join(d, f["name"]), "rt"):
        ids.append(json.loads(line)["id"])
    assert f["records"] == sum(1 for _ in gzip.open(os.path.join(d, f["name"]))), f
assert man["records"] == len(ids)
print(len(ids), len(set(ids)), min(ids) if ids else 0, max(ids) if ids else 0, len(man["files"]))
PY
}
# gets PART: the requests the server saw whose path has PART
gets() { grep -c "\"GET\", \"path\": \"[^\"]*$1" "$HLOG"; }
# task_log TASK: the latest run's log of TASK
task_log() { sl logs latest "$1" 2>&1; }

# ---- what validate says of a wrong extract task ------------------------------
BAD=$(mkproj extract_bad)
cat >>"$BAD/sluice.yml" <<YML
connections: $CONNS
YML
cat >"$BAD/pipelines/p.yml" <<'YML'
tasks:
  a:
    kind: extract
    source: http
    connection: api
    pagination: { style: pages, size: 10 }
  b:
    kind: extract
    source: http
    connection: api
    incremental: { cursor: updated_at, lag: soon }
  c:
    kind: extract
    source: http
    connection: api
    format: raw
    records: data
YML
"$SLUICE_BIN" -C "$BAD" validate >"$OUT/bad.out" 2>&1
rc=$?
grep -q "p.yml:6:[0-9]*: .*pagination style 'pages'.*did you mean 'page'" "$OUT/bad.out" &&
	grep -q "p.yml:11:[0-9]*: .*'incremental' needs 'param'" "$OUT/bad.out" &&
	grep -q "p.yml:11:[0-9]*: .*'lag' must be a duration" "$OUT/bad.out" &&
	grep -q "p.yml:17:[0-9]*: .*'records' does not apply to format raw" "$OUT/bad.out" && [ $rc -eq 3 ]
ok $? "validate: each wrong extract key at its file:line:col, exit 3" || diag <"$OUT/bad.out"

# ---- each pagination style, and each auth ------------------------------------
cat >"$PROJ/pipelines/styles.yml" <<'YML'
tasks:
  by_page:
    kind: extract
    source: http
    connection: api
    path: /api/page/95
    params: { per_page: "10" }
    records: data.items
    pagination: { style: page, size: 10 }
    part_records: 40
  by_offset:
    kind: extract
    source: http
    connection: api
    path: /api/offset/95
    records: results
    pagination: { style: offset, size: 20 }
  by_cursor:
    kind: extract
    source: http
    connection: api
    path: "api/cursor/95"
    records: items
    pagination: { style: cursor, path: meta.next_cursor, size: 15, size_param: limit }
  by_next:
    kind: extract
    source: http
    connection: api
    path: /api/next/95
    records: items
    pagination: { style: next_url, path: links.next }
  by_link:
    kind: extract
    source: http
    connection: api
    path: /api/link/95
    pagination: link
  basic_auth:
    kind: extract
    source: http
    connection: basic
    name: by_basic
    path: /api/offset/30
    records: results
    pagination: { style: offset, size: 10 }
  key_auth:
    kind: extract
    source: http
    connection: keyed
    path: /api/offset/30
    records: results
    pagination: { style: offset, size: 10 }
YML
out styles run styles --date $DS --wait
ok $? "a run of every pagination style succeeds" || diag <"$OUT/styles.out"
is "page number: ids 1..95 once each, in part files of 40" "$(lake by_page)" "95 95 1 95 3"
is "offset/limit: ids 1..95 once each" "$(lake by_offset)" "95 95 1 95 1"
is "cursor in the body: ids 1..95 once each" "$(lake by_cursor)" "95 95 1 95 1"
is "next URL in the body: ids 1..95 once each" "$(lake by_next)" "95 95 1 95 1"
is "Link header rel=next: ids 1..95 once each" "$(lake by_link)" "95 95 1 95 1"
is "basic auth and an API-key header" "$(lake by_basic basic) $(lake key_auth keyed)" "30 30 1 30 1 30 30 1 30 1"
# page style: 10 pages, the 10th short, no 11th asked for
is "page number stops at the short page" "$(gets '/api/page/95')" 10
is "cursor: stops when the body gives no next cursor" "$(gets '/api/cursor/95')" 7

cat >"$PROJ/pipelines/unauth.yml" <<'YML'
tasks:
  nope: { kind: extract, source: http, connection: nobody, path: /api/page/5, records: data.items }
YML
out unauth run unauth --date $DS --wait
rc=$?
task_log nope >"$OUT/nope.log"
[ $rc -eq 1 ] && grep -q "extract failed: page 1 of /api/page/5: HTTP 401" "$OUT/nope.log"
ok $? "no credentials: HTTP 401, the task fails naming the page" || diag <"$OUT/nope.log"

# ---- retries: 503, 429 with Retry-After, a reset mid-page ---------------------
cat >"$PROJ/pipelines/retries.yml" <<'YML'
tasks:
  flaky:
    kind: extract
    source: http
    connection: api
    path: /api/page/25
    params: { per_page: "10", fail503: "2" }
    records: data.items
    pagination: { style: page, size: 10 }
  patient:
    kind: extract
    source: http
    connection: api
    path: /api/page/25
    params: { per_page: "10", ra429: "2" }
    records: data.items
    pagination: { style: page, size: 10 }
    rate: 20
  paced:
    kind: extract
    source: http
    connection: api
    path: /api/page/25
    params: { per_page: "5", paced: "1" }
    records: data.items
    pagination: { style: page, size: 5 }
    rate: 5
  cut:
    kind: extract
    source: http
    connection: api
    path: /api/page/45
    params: { per_page: "10", reset: "3" }
    records: data.items
    pagination: { style: page, size: 10 }
YML
out retries run retries --date $DS --wait
ok $? "the run with 503s, 429s and a reset succeeds" || diag <"$OUT/retries.out"
task_log flaky >"$OUT/flaky.log"
# two retries of the first page (it is asked 3 times), each a timestamped line
[ "$(grep -cE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z retry [12] of 5: page 1 of /api/page/25: HTTP 503' "$OUT/flaky.log")" -eq 2 ] &&
	[ "$(lake flaky)" = "25 25 1 25 1" ]
ok $? "503: retried with a timestamped line each, every record once" || diag <"$OUT/flaky.log"
task_log patient >"$OUT/patient.log"
grep -qE 'Z retry 1 of 5: page 1 of /api/page/25: HTTP 429; again in 2.0 s \(Retry-After\)' "$OUT/patient.log"
ok $? "429: the log says it waits as Retry-After asks" || diag <"$OUT/patient.log"
# the server saw the second request for each page at least 2 s after the first
python3 - "$HLOG" <<'PY'
import json, sys
t = {}
for line in open(sys.argv[1]):
    e = json.loads(line)
    if "ra429=2" in e["path"]:
        t.setdefault(e["path"], []).append(e["time"])
gaps = [v[1] - v[0] for v in t.values()]
sys.exit(not (len(gaps) == 3 and all(len(v) == 2 for v in t.values()) and min(gaps) >= 1.9))
PY
ok $? "429: each page asked again no sooner than Retry-After (server's timestamps)"
is "429: every record once" "$(lake patient)" "25 25 1 25 1"
# rate: 5 requests/s: the server saw them at least 0.2 s apart
python3 - "$HLOG" <<'PY'
import json, sys
t = [json.loads(l)["time"] for l in open(sys.argv[1]) if "paced=1" in l]
gaps = [b - a for a, b in zip(t, t[1:])]
sys.exit(not (len(t) == 6 and min(gaps) >= 0.19))
PY
ok $? "rate: 5 requests a second at most (the server's timestamps)"
task_log cut >"$OUT/cut.log"
grep -q "retry 1 of 5: page 3 of /api/page/45: http: .*" "$OUT/cut.log" && [ "$(lake cut)" = "45 45 1 45 1" ] &&
	[ "$(grep '"GET", "path": "/api/page/45?' "$HLOG" | grep 'reset=3' | grep -c 'page=3')" -eq 2 ]
ok $? "a reset mid-page: that page fetched again, no record twice" || diag <"$OUT/cut.log"

# ---- broken JSON, truncated JSON, limit:, a raw file --------------------------
cat >"$PROJ/pipelines/broken.yml" <<'YML'
tasks:
  bad:
    kind: extract
    source: http
    connection: api
    path: /api/page/45
    params: { per_page: "10", broken: "2" }
    records: data.items
    pagination: { style: page, size: 10 }
YML
cat >"$PROJ/pipelines/cutshort.yml" <<'YML'
tasks:
  short:
    kind: extract
    source: http
    connection: api
    path: /api/page/45
    params: { per_page: "10", truncate: "3" }
    records: data.items
    pagination: { style: page, size: 10 }
YML
out broken run broken --date $DS --wait
rc=$?
task_log bad >"$OUT/bad.log"
[ $rc -eq 1 ] && grep -q "extract failed: page 2 of /api/page/45: invalid JSON at byte 10 " "$OUT/bad.log" &&
	! grep -q "127.0.0.1" "$OUT/bad.log" && [ "$(lake bad)" = none ]
ok $? "broken JSON: an error naming the page and the byte offset, no manifest" || diag <"$OUT/bad.log"
out cutshort run cutshort --date $DS --wait
rc=$?
task_log short >"$OUT/short.log"
[ $rc -eq 1 ] && grep -qE "extract failed: page 3 of /api/page/45: invalid JSON at byte [0-9]+ .*premature end" "$OUT/short.log"
ok $? "truncated JSON: an error naming the page and where it ends" || diag <"$OUT/short.log"

cat >"$PROJ/pipelines/sluggish.yml" <<'YML'
tasks:
  slow:
    kind: extract
    source: http
    connection: api
    path: /api/page/5
    params: { slow: "3" }
    records: data.items
    request_timeout: 1
    request_retries: 1
YML
out sluggish run sluggish --date $DS --wait
rc=$?
task_log slow >"$OUT/slow.log"
[ $rc -eq 1 ] && grep -qE "Z retry 1 of 1: page 1 of /api/page/5: http: no answer within 1 s; again in 0.5 s" "$OUT/slow.log" &&
	grep -q "extract failed: page 1 of /api/page/5: http: no answer within 1 s (after 1 retry)" "$OUT/slow.log"
ok $? "a slow server: each request given request_timeout, retried, then the task fails saying so" || diag <"$OUT/slow.log"

cat >"$PROJ/pipelines/small.yml" <<'YML'
params: { sample: 0 }
tasks:
  sample:
    kind: extract
    source: http
    connection: api
    path: /api/page/500
    params: { per_page: "10" }
    records: data.items
    pagination: { style: page, size: 10 }
    limit: "{{ params.sample }}"
  report_pdf:
    kind: extract
    source: http
    connection: api
    path: /files/report.pdf
    params: { size: "70000" }
    format: raw
YML
out small run small --date $DS --param sample=25 --wait
ok $? "a run with limit: (a param, as a test mode) and a raw file succeeds" || diag <"$OUT/small.out"
[ "$(lake sample)" = "25 25 1 25 1" ] && [ "$(gets '/api/page/500')" -eq 3 ]
ok $? "limit: 25 records, and no page after the third"
python3 - "$LAKE/api/report_pdf/$DS" "$PORT" <<'PY'
import json, sys, urllib.request, zlib, os
d, port = sys.argv[1], sys.argv[2]
req = urllib.request.Request("http://127.0.0.1:%s/files/report.pdf?size=70000" % port,
                             headers={"Authorization": "Bearer " + os.environ["SLUICE_HTTPD_TOKEN"]})
want = urllib.request.urlopen(req).read()
got = open(d + "/report.pdf", "rb").read()
m = json.load(open(d + "/_manifest.json"))
f = m["files"][0]
sys.exit(not (got == want and len(got) == 70000 and f["name"] == "report.pdf" and f["bytes"] == 70000
              and f["crc32"] == "%08x" % zlib.crc32(got)))
PY
ok $? "format raw: the file as it is, under its own name, its size and CRC in the manifest"

# ---- incremental: the second run asks only for what is new -----------------
cat >"$PROJ/pipelines/inc.yml" <<'YML'
tasks:
  changes:
    kind: extract
    source: http
    connection: api
    path: /api/grow
    params: { per_page: "20" }
    records: data.items
    pagination: { style: page, size: 20 }
    incremental: { cursor: updated_at, param: since, lag: 0s }
YML
curl -sf "http://127.0.0.1:$PORT/control/items/50" >/dev/null
DS=2026-03-01
out inc1 run inc --date $DS --wait
first=$(lake changes)
curl -sf "http://127.0.0.1:$PORT/control/items/70" >/dev/null
DS=2026-03-02
out inc2 run inc --date $DS --wait
second=$(lake changes)
is "incremental: the first run all 50, the second only the 20 new" "$first / $second" "50 50 1 50 1 / 20 20 51 70 1"
# 2026-01-01T00:50:00Z is item 50's updated_at
[ "$(grep -c 'since=2026-01-01T00%3A50%3A00Z' "$HLOG")" -ge 1 ] && [ "$(gets '/api/grow?per_page=20&page=1')" -eq 1 ]
ok $? "incremental: the server saw since= the watermark on the second run only"
WM=$(state_sql "SELECT value->>'cursor' FROM sluice.watermarks WHERE task = 'changes'")
is "the watermark in the state database is the newest record's cursor" "$WM" "2026-01-01T01:10:00Z"

# ---- kill -9 of the worker mid-extract ------------------------------------------
cat >"$PROJ/pipelines/slowinc.yml" <<'YML'
tasks:
  crawl:
    kind: extract
    source: http
    connection: api
    path: /api/grow
    params: { per_page: "5", slow: "0.4" }
    records: data.items
    pagination: { style: page, size: 5 }
    part_records: 10
    incremental: { cursor: updated_at, param: since }
YML
curl -sf "http://127.0.0.1:$PORT/control/items/60" >/dev/null
DS=2026-03-03
out crawl1 run slowinc --date $DS --wait
before=$(state_sql "SELECT value::text FROM sluice.watermarks WHERE task = 'crawl'")
curl -sf "http://127.0.0.1:$PORT/control/items/120" >/dev/null
DS=2026-03-04
run_id=$(sl run slowinc --date $DS)
# a few pages in: some part files complete, one being written
wait_for 30 sh -c "[ \$(grep -c 'slow=0.4.*since=' '$HLOG') -ge 5 ]"
p=$(state_sql "SELECT w.pid FROM sluice.workers w JOIN sluice.task_instances t ON t.worker = w.name
	WHERE t.run_id = $run_id AND t.task = 'crawl'")
is_pid "$p" && kill -9 "$p"
ok $? "the worker running the extract is killed (pid $p)"
sleep 0.5
D=$LAKE/api/crawl/$DS
# what a reader lists: no manifest yet, every visible file a whole gzip file
visible=$(ls "$D" 2>/dev/null)
bad=
for f in $visible; do gzip -t "$D/$f" 2>/dev/null || bad="$bad $f"; done
after=$(state_sql "SELECT value::text FROM sluice.watermarks WHERE task = 'crawl'")
[ -n "$visible" ] && [ ! -e "$D/_manifest.json" ] && [ -z "$bad" ] && [ "$after" = "$before" ] && [ -n "$before" ]
ok $? "after kill -9: no partial file visible, no manifest, the watermark unchanged" ||
	{ echo "visible: $visible; bad: $bad; before: $before; after: $after" | diag; }
wait_for 90 sh -c "$SLUICE_BIN -C '$PROJ' --json status slowinc | grep -q '\"state\": \"success\"'"
is "the next try: the 60 new records once each, from the committed watermark" "$(lake crawl)" "60 60 61 120 6"

# ---- the token -------------------------------------------------------------------
sl logs latest crawl >"$OUT/crawl.log" 2>&1
for t in by_page basic_auth key_auth flaky patient cut bad nope; do sl logs latest "$t" 2>&1; done >"$OUT/all.log"
sl --json status styles >"$OUT/status.json" 2>&1
sl --json connections >"$OUT/connections.json" 2>&1
sl connections >"$OUT/connections.out" 2>&1
sl --json validate --kinds >"$OUT/kinds.json" 2>&1
STATE=$(sl --json up -q 2>/dev/null | json_get 'j["state"]["address"]')
pg_dump -d "$STATE" -n sluice --data-only >"$OUT/state.sql" 2>"$OUT/pg_dump.err"
leaks=$(grep -l "$TOKEN" "$OUT"/* "$PROJ/.sluice/runner.log" "$PROJ/.sluice/"*.log 2>/dev/null | grep -v connections)
[ -s "$OUT/state.sql" ] && [ -z "$leaks" ] && ! grep -rqa "$TOKEN" "$LAKE"
ok $? "the bearer token is in no log, output, lake file or row of the state database" || echo "$leaks" | diag

done_testing
