#!/usr/bin/env python3
"""tlsrpt_https.py - the world's HTTPS endpoint for TLS-RPT reports.

Usage: tlsrpt_https.py ADDR PORT CERT KEY DIR

Answers every POST with 200 and keeps its body in DIR/N.body and the
request line and headers in DIR/N.hdr (N counts from 1); anything else
gets 405.  A body over 8 MiB is refused with 413.
"""
import http.server
import os
import ssl
import sys
import threading

LOCK = threading.Lock()
MAX_BODY = 8 << 20


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        if n > MAX_BODY:
            self.send_response(413)
            self.end_headers()
            return
        body = self.rfile.read(n)
        d = self.server.keep
        with LOCK:
            i = len([f for f in os.listdir(d) if f.endswith(".body")]) + 1
            with open(os.path.join(d, "%d.hdr" % i), "w") as f:
                f.write(self.requestline + "\n" + str(self.headers))
            with open(os.path.join(d, "%d.body" % i), "wb") as f:
                f.write(body)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        self.send_response(405)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, fmt, *args):
        sys.stdout.write("%s\n" % (fmt % args))
        sys.stdout.flush()


def main():
    addr, port, cert, key, keep = sys.argv[1:6]
    srv = http.server.ThreadingHTTPServer((addr, int(port)), Handler)
    srv.keep = keep
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print("listening on %s:%s" % (addr, port), flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
