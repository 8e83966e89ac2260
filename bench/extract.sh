#!/bin/sh
# make bench, extract: 100,000 records over 1,000 pages of the test suite's
# HTTP server (tests/servers/httpd.py), by a sluice extract task beside a
# Python `requests` loop doing the same pagination and writing the same
# JSON lines gzip'ed. Prints numbers, asserts nothing. Both wait on the
# same (Python) server, so the ratio says how much each adds to it.
set -eu
bin=${1:?usage: bench/extract.sh SLUICE_BINARY [WORKDIR]}
here=$(cd "$(dirname "$0")" && pwd)
work=${2:-$(pwd)/bench-work}/extractproj
[ -d "$work/.sluice" ] && { "$bin" -q -C "$work" runner --stop >/dev/null 2>&1 || true; "$bin" -q -C "$work" down >/dev/null 2>&1 || true; }
rm -rf "$work"
mkdir -p "$work/pipelines"
python3 "$here/../tests/servers/httpd.py" --port-file "$work/http.port" --log /dev/null &
httpd=$!
trap 'kill $httpd 2>/dev/null; "$bin" -q -C "$work" runner --stop >/dev/null 2>&1 || true; "$bin" -q -C "$work" down >/dev/null 2>&1 || true' EXIT
while [ ! -s "$work/http.port" ]; do sleep 0.1; done
port=$(cat "$work/http.port")
printf 'connections:\n  api: { type: http, url: "http://127.0.0.1:%s" }\n' "$port" >"$work/connections.yml"
chmod 600 "$work/connections.yml"
cat >"$work/sluice.yml" <<YML
name: extractbench
connections: connections.yml
runner: { workers: 1 }
YML
cat >"$work/pipelines/pull.yml" <<'YML'
tasks:
  items:
    kind: extract
    source: http
    connection: api
    path: /api/page/100000
    params: { per_page: "100" }
    records: data.items
    pagination: { style: page, size: 100 }
YML
echo
echo "== extract: 100,000 records over 1,000 pages from the local API"
"$bin" -q -C "$work" up >/dev/null
"$bin" -q -C "$work" runner --start >/dev/null 2>&1 || true
"$bin" -q -C "$work" run pull --date 2026-01-01 --wait >/dev/null
s=$("$bin" -C "$work" logs latest items | sed -n 's/^extract: .* in \([0-9.]*\) s$/\1/p')
py=$(python3 - "$port" "$work/py.jsonl.gz" <<'PY' 2>&1
import gzip, json, sys, time
try:
    import requests
except ImportError:
    print("skipped"); sys.exit(0)
port, out = sys.argv[1], sys.argv[2]
t0 = time.time()
n = 0
with requests.Session() as s, gzip.open(out, "wt", compresslevel=6) as f:
    page = 1
    while True:
        r = s.get("http://127.0.0.1:%s/api/page/100000" % port, params={"per_page": 100, "page": page})
        r.raise_for_status()
        items = r.json()["data"]["items"]
        for it in items:
            f.write(json.dumps(it, separators=(",", ":")) + "\n")
        n += len(items)
        if len(items) < 100:
            break
        page += 1
print("%.2f %d" % (time.time() - t0, n))
PY
)
printf '%-30s %7.2f s %10.0f records/s\n' "sluice extract" "$s" "$(echo "100000 / $s" | bc -l)"
if [ "$py" = skipped ]; then
	echo "python requests               skipped: no module requests (apt-get install python3-requests)"
else
	printf '%-30s %7.2f s %10.0f records/s  (%s records)  sluice %.2f x\n' "python requests loop" "${py% *}" \
		"$(echo "100000 / ${py% *}" | bc -l)" "${py#* }" "$(echo "${py% *} / $s" | bc -l)"
fi
