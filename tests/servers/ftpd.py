#!/usr/bin/env python3
"""The test suite's FTP server (Debian's python3-pyftpdlib), on loopback.

    ftpd.py --port-file F --root DIR --user U --password P [--no-mlsd]

Binds 127.0.0.1 on a free port and writes the port to F once it listens;
U/P may read DIR. --no-mlsd makes a server of before RFC 3659 (no MLSD,
no MLST), for the LIST fallback.
"""
import argparse
import logging

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--no-mlsd", action="store_true")
    a = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    auth = DummyAuthorizer()
    auth.add_user(a.user, a.password, a.root, perm="elr")

    class Handler(FTPHandler):
        pass

    Handler.authorizer = auth
    Handler.passive_ports = None
    if a.no_mlsd:
        Handler.proto_cmds = {k: v for k, v in FTPHandler.proto_cmds.items() if k not in ("MLSD", "MLST")}
    server = FTPServer(("127.0.0.1", 0), Handler)
    port = server.socket.getsockname()[1]
    with open(a.port_file + ".tmp", "w") as f:
        f.write("%d\n" % port)
    import os
    os.rename(a.port_file + ".tmp", a.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
