#!/usr/bin/env python3
"""slow_https.py - an HTTPS server that accepts TLS and never answers.

Usage: slow_https.py ADDR PORT CERT KEY HOLD_SECONDS

It completes the TLS handshake, reads the request, then holds the
connection open for HOLD_SECONDS without sending a byte, so a client's
deadline (not the server) ends the exchange.  One thread per connection.
"""
import socket
import ssl
import sys
import threading
import time


def hold(conn, ctx, seconds):
    try:
        tls = ctx.wrap_socket(conn, server_side=True)
        tls.settimeout(seconds)
        try:
            tls.recv(4096)
        except OSError:
            pass
        time.sleep(seconds)
        tls.close()
    except (OSError, ssl.SSLError):
        conn.close()


def main():
    addr, port, cert, key, seconds = sys.argv[1:6]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, int(port)))
    srv.listen(64)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=hold, args=(conn, ctx, float(seconds)),
                         daemon=True).start()


if __name__ == "__main__":
    main()
