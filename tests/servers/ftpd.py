#!/usr/bin/env python3
"""The test suite's FTP server (Debian's python3-pyftpdlib), on loopback.

    ftpd.py --port-file F --root DIR --user U --password P [--no-mlsd]
            [--tls CERT KEY]

Binds 127.0.0.1 on a free port and writes the port to F once it listens;
U/P may read DIR. --no-mlsd makes a server of before RFC 3659 (no MLSD,
no MLST), for the LIST fallback. --tls requires explicit TLS (AUTH TLS)
for login and data, with the certificate CERT (python3-openssl).
"""
import argparse
import logging
import os

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
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    a = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    auth = DummyAuthorizer()
    auth.add_user(a.user, a.password, a.root, perm="elr")

    base = FTPHandler
    if a.tls:
        from pyftpdlib.handlers import TLS_FTPHandler
        base = TLS_FTPHandler

    class Handler(base):
        pass

    if a.tls:
        from pyftpdlib.handlers import TLS_DTPHandler

        class DTP(TLS_DTPHandler):
            # pyftpdlib 1.5.7 (Debian 12) drops a data connection whose TLS
            # handshake is under way, as not readable yet; 1.5.8 fixed it
            def readable(self):
                return getattr(self, "_ssl_accepting", False) or super().readable()

        Handler.dtp_handler = DTP
        Handler.certfile, Handler.keyfile = a.tls
        Handler.tls_control_required = True
        Handler.tls_data_required = True

    Handler.authorizer = auth
    Handler.passive_ports = None
    if a.no_mlsd:
        Handler.proto_cmds = {k: v for k, v in base.proto_cmds.items() if k not in ("MLSD", "MLST")}
    server = FTPServer(("127.0.0.1", 0), Handler)
    port = server.socket.getsockname()[1]
    with open(a.port_file + ".tmp", "w") as f:
        f.write("%d\n" % port)
    os.rename(a.port_file + ".tmp", a.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
