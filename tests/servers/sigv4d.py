#!/usr/bin/env python3
"""A small S3 look-alike that checks AWS Signature Version 4 (Python standard
library only), on loopback: s3rver accepts any SigV4 signature, this one
recomputes each request's from the bytes that arrived.

    sigv4d.py --port-file F --access-key A --secret-key S [--region R]

It keeps objects in memory (PUT, GET, HEAD, DELETE; GET on the bucket is a
ListObjectsV2 of one page), addressed path-style (/lake/KEY) or with the
bucket in the host (lake.localhost:PORT/KEY). A request whose signature, signed headers or
x-amz-content-sha256 do not match is refused 403 SignatureDoesNotMatch; a
path or query that is not encoded as SigV4 wants is 400 InvalidURI. Each
checked request is counted in a line "signed METHOD PATH" on stdout.
"""
import argparse
import hashlib
import hmac
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, unquote

objects = {}


def enc(s, safe):
    return quote(s, safe=safe)


def hm(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def error(self, status, code, msg):
        x = "<?xml version=\"1.0\"?><Error><Code>%s</Code><Message>%s</Message></Error>" % (code, msg)
        self.reply(status, x.encode(), [("Content-Type", "application/xml")])

    def check(self, body):
        a = self.server.args
        raw_path, _, raw_query = self.path.partition("?")
        # the path as sent must be the SigV4 encoding of what it means
        if enc(unquote(raw_path), "/~") != raw_path:
            return "InvalidURI", "path not encoded as SigV4 wants: " + raw_path
        params = []
        for p in raw_query.split("&") if raw_query else []:
            k, _, v = p.partition("=")
            if enc(unquote(k), "~") != k or enc(unquote(v), "~") != v:
                return "InvalidURI", "query not encoded as SigV4 wants: " + p
            params.append((k, v))
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("AWS4-HMAC-SHA256 "):
            return "AccessDenied", "no SigV4 Authorization"
        fields = dict(f.strip().split("=", 1) for f in auth[len("AWS4-HMAC-SHA256 "):].split(","))
        cred = fields["Credential"].split("/")
        if cred[0] != a.access_key:
            return "InvalidAccessKeyId", "unknown key"
        signed = fields["SignedHeaders"].split(";")
        for need in ("host", "x-amz-content-sha256", "x-amz-date"):
            if need not in signed:
                return "SignatureDoesNotMatch", need + " is not signed"
        payload = self.headers.get("x-amz-content-sha256", "")
        if payload != "UNSIGNED-PAYLOAD" and payload != hashlib.sha256(body).hexdigest():
            return "XAmzContentSHA256Mismatch", "the body's sha256 is not x-amz-content-sha256"
        canon_headers = "".join("%s:%s\n" % (h, " ".join(self.headers.get(h, "").split())) for h in signed)
        canon = "\n".join([self.command, raw_path, "&".join("%s=%s" % kv for kv in sorted(params)),
                           canon_headers, ";".join(signed), payload])
        date = self.headers.get("x-amz-date", "")
        scope = "%s/%s/s3/aws4_request" % (date[:8], a.region)
        sts = "\n".join(["AWS4-HMAC-SHA256", date, scope, hashlib.sha256(canon.encode()).hexdigest()])
        k = hm(("AWS4" + a.secret_key).encode(), date[:8])
        k = hm(hm(hm(k, a.region), "s3"), "aws4_request")
        want = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(want, fields["Signature"]):
            return "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided."
        print("signed %s %s" % (self.command, raw_path), flush=True)
        return None

    def handle_one(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        bad = self.check(body)
        if bad:
            return self.error(403 if bad[0] != "InvalidURI" else 400, *bad)
        raw_path, _, raw_query = self.path.partition("?")
        host = self.headers.get("Host", "")
        if host.startswith("lake."):  # virtual-host style: the bucket in the host
            key = unquote(raw_path).lstrip("/")
        else:
            parts = unquote(raw_path).lstrip("/").split("/", 1)
            key = parts[1] if len(parts) > 1 else ""
        if self.command == "PUT" and key:
            objects[key] = body
            return self.reply(200, headers=[("ETag", '"%s"' % hashlib.md5(body).hexdigest())])
        if self.command in ("GET", "HEAD") and key:
            if key not in objects:
                return self.error(404, "NoSuchKey", "The specified key does not exist.")
            b = objects[key]
            return self.reply(200, b, [("ETag", '"%s"' % hashlib.md5(b).hexdigest())])
        if self.command == "DELETE" and key:
            objects.pop(key, None)
            return self.reply(204)
        if self.command == "GET":
            q = dict((unquote(k), unquote(v)) for k, _, v in (p.partition("=") for p in raw_query.split("&") if p))
            prefix = q.get("prefix", "")
            items = "".join("<Contents><Key>%s</Key><Size>%d</Size><ETag>&quot;%s&quot;</ETag></Contents>"
                            % (k.replace("&", "&amp;").replace("<", "&lt;"), len(v), hashlib.md5(v).hexdigest())
                            for k, v in sorted(objects.items()) if k.startswith(prefix))
            x = "<ListBucketResult><IsTruncated>false</IsTruncated>%s</ListBucketResult>" % items
            return self.reply(200, x.encode(), [("Content-Type", "application/xml")])
        return self.error(400, "InvalidRequest", "not here")

    do_GET = do_PUT = do_HEAD = do_DELETE = handle_one


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--access-key", required=True)
    ap.add_argument("--secret-key", required=True)
    ap.add_argument("--region", default="us-east-1")
    a = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.args = a
    with open(a.port_file + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(a.port_file + ".tmp", a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
