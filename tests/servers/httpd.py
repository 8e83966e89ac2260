#!/usr/bin/env python3
"""The test suite's HTTP server (Python standard library only), on loopback.

    httpd.py --port-file F --log L [--root DIR]

Binds 127.0.0.1 on a free port and writes the port to F once it listens.
Every request is appended to L as one JSON line {"time", "method", "path",
"headers", "body"}, so a test can see what arrived and when.

Webhook paths (POST), for notices:
  /hook/...           200 {"ok": true}
  /fail/N/...         503 for the first N requests to this path, then 200
  /slow/S/...         answers 200 after S seconds
  /retry-after/S/...  429 with Retry-After: S the first time, then 200
  /status/C/...       always status C

Paginated JSON (GET), deterministic: N items {"id": 1..N, "name",
"updated_at": 2026-01-01T00:00:00Z plus id minutes}, in id order:
  /api/page/N?page=P&per_page=S     {"data": {"items": [...]}, "page": P}
  /api/offset/N?offset=O&limit=L    {"results": [...], "total": N}
  /api/cursor/N?cursor=C&limit=L    {"items": [...], "meta": {"next_cursor": C2 | null}}
  /api/next/N?start=O               {"items": [25 ...], "links": {"next": "/api/next/N?start=.." | null}}
  /api/link/N?p=K                   [25 ...], header Link: <...>; rel="next" while more
  /api/grow?page=P&per_page=S&since=T  like page, over the items of /control/items/N
                                    (default 100) with updated_at > T
  /control/items/N                  sets how many items /api/grow has
  /files/NAME?size=B                B deterministic bytes (a "%PDF-1.4" head)
Faults, as query parameters of any /api/ request (counted per exact URL):
  fail503=K       503 for the first K requests
  ra429=S         429 with Retry-After: S the first time
  slow=S          answers after S seconds
  reset=P         on page P (1-based) the first time: half the body, then
                  the connection is reset
  broken=P        page P's body is not JSON (a bad byte at a known offset)
  truncate=P      page P's body is cut short (a whole response)
With the environment's SLUICE_HTTPD_TOKEN set, /api/ and /files/ want it
as a bearer token, basic auth's password or an X-API-Key header (401).
"""
import argparse
import base64
import datetime
import json
import socket
import struct
from urllib.parse import parse_qs, urlsplit
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

seen = {}
lock = threading.Lock()
grow = {"items": 100}
BASE = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
LINK_SIZE = 25


def item(i):
    t = BASE + datetime.timedelta(minutes=i)
    return {"id": i, "name": "item-%d" % i, "updated_at": t.strftime("%Y-%m-%dT%H:%M:%SZ")}


def items(lo, hi, n):
    """Items lo+1 .. min(hi, n)."""
    return [item(i) for i in range(lo + 1, min(hi, n) + 1)]


def count(path):
    with lock:
        seen[path] = seen.get(path, 0) + 1
        return seen[path]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body are two writes: without TCP_NODELAY a kept-alive
    # client's delayed ACK holds every answer ~40 ms
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        pass

    def record(self, body):
        entry = {
            "time": time.time(),
            "method": self.command,
            "path": self.path,
            "headers": dict(self.headers.items()),
            "body": body.decode("utf-8", "replace"),
        }
        with lock, open(self.server.log, "a") as f:
            f.write(json.dumps(entry) + "\n")

    def reply(self, code, body=b'{"ok": true}', headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def authorized(self):
        token = os.environ.get("SLUICE_HTTPD_TOKEN")
        if not token:
            return True
        a = self.headers.get("Authorization") or ""
        if a == "Bearer " + token or self.headers.get("X-API-Key") == token:
            return True
        if a.startswith("Basic "):
            try:
                user, _, pw = base64.b64decode(a[6:]).decode().partition(":")
                return pw == token
            except Exception:
                return False
        return False

    def page_body(self, kind, n, q):
        """The body of one page of /api/KIND/N and its page number (1-based)."""
        g = lambda k, d: int(q.get(k, [d])[0])
        headers = []
        if kind == "page":
            p, s = g("page", 1), g("per_page", 10)
            body = {"data": {"items": items((p - 1) * s, p * s, n)}, "page": p}
        elif kind == "offset":
            o, lim = g("offset", 0), g("limit", 10)
            p = o // max(lim, 1) + 1
            body = {"results": items(o, o + lim, n), "total": n}
        elif kind == "cursor":
            c = q.get("cursor", [""])[0]
            o = int(c[1:]) if c.startswith("c") else 0
            lim = g("limit", 10)
            p = o // max(lim, 1) + 1
            nxt = "c%d" % (o + lim) if o + lim < n else None
            body = {"items": items(o, o + lim, n), "meta": {"next_cursor": nxt}}
        elif kind == "next":
            o = g("start", 0)
            p = o // LINK_SIZE + 1
            rest = "&".join("%s=%s" % (k, v[0]) for k, v in q.items() if k != "start")
            nxt = "/api/next/%d?start=%d%s" % (n, o + LINK_SIZE, "&" + rest if rest else "") if o + LINK_SIZE < n else None
            body = {"items": items(o, o + LINK_SIZE, n), "links": {"next": nxt}}
        elif kind == "link":
            p = g("p", 1)
            body = items((p - 1) * LINK_SIZE, p * LINK_SIZE, n)
            if p * LINK_SIZE < n:
                port = self.server.server_address[1]
                rest = "".join("&%s=%s" % (k, v[0]) for k, v in q.items() if k != "p")
                headers.append(("Link", '<http://127.0.0.1:%d/api/link/%d?p=%d%s>; rel="next", '
                                '<http://127.0.0.1:%d/api/link/%d?p=1>; rel="first"' % (port, n, p + 1, rest, port, n)))
        elif kind == "grow":
            p, s = g("page", 1), g("per_page", 10)
            since = q.get("since", [""])[0]
            pool = [item(i) for i in range(1, grow["items"] + 1) if item(i)["updated_at"] > since]
            body = {"data": {"items": pool[(p - 1) * s:p * s]}, "page": p}
        else:
            return None, 0, headers
        return body, p, headers

    def reset(self, data):
        """Half of the body, then a reset (RST) of the connection."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[:len(data) // 2])
        self.wfile.flush()
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def do_GET(self):
        self.record(b"")
        u = urlsplit(self.path)
        q = parse_qs(u.query)
        parts = u.path.strip("/").split("/")
        if parts[0] == "control" and len(parts) == 3 and parts[1] == "items":
            grow["items"] = int(parts[2])
            return self.reply(200)
        if parts[0] in ("api", "files") and not self.authorized():
            return self.reply(401, b'{"error": "unauthorized"}')
        if parts[0] == "files" and len(parts) == 2:
            size = int(q.get("size", ["1000"])[0])
            head = b"%PDF-1.4\n"
            data = (head + bytes((i * 7 + 3) % 256 for i in range(max(size - len(head), 0))))[:size]
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        if parts[0] != "api" or len(parts) < 2:
            return self.reply(404, b'{"error": "no such path"}')
        n = int(parts[2]) if len(parts) > 2 else 0
        nth = count(self.path)
        if "slow" in q:
            time.sleep(float(q["slow"][0]))
        if "fail503" in q and nth <= int(q["fail503"][0]):
            return self.reply(503, b'{"error": "unavailable"}')
        if "ra429" in q and nth == 1:
            return self.reply(429, b'{"error": "slow down"}', [("Retry-After", q["ra429"][0])])
        body, page, headers = self.page_body(parts[1], n, q)
        if body is None:
            return self.reply(404, b'{"error": "no such path"}')
        data = json.dumps(body).encode()
        if "reset" in q and page == int(q["reset"][0]) and nth == 1:
            return self.reset(data)
        if "broken" in q and page == int(q["broken"][0]):
            # a bad byte after the first 10: {"data": {"items": [ ... at byte 10
            data = data[:10] + b"#" + data[11:]
        if "truncate" in q and page == int(q["truncate"][0]):
            data = data[:len(data) // 2]
        self.reply(200, data, headers)

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n)
        self.record(body)
        parts = self.path.strip("/").split("/")
        kind = parts[0]
        arg = parts[1] if len(parts) > 1 else ""
        if kind == "hook":
            self.reply(200)
        elif kind == "fail":
            if count(self.path) <= int(arg):
                self.reply(503, b'{"error": "unavailable"}')
            else:
                self.reply(200)
        elif kind == "slow":
            time.sleep(float(arg))
            self.reply(200)
        elif kind == "retry-after":
            if count(self.path) == 1:
                self.reply(429, b'{"error": "slow down"}', [("Retry-After", arg)])
            else:
                self.reply(200)
        elif kind == "status":
            self.reply(int(arg), b'{"error": "as asked"}')
        else:
            self.reply(404, b'{"error": "no such path"}')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    a = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.log = a.log
    open(a.log, "a").close()
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, a.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
