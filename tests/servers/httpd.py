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
"""
import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

seen = {}
lock = threading.Lock()


def count(path):
    with lock:
        seen[path] = seen.get(path, 0) + 1
        return seen[path]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

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
