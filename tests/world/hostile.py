#!/usr/bin/env python3
"""hostile.py - HTTPS and SMTP servers that misbehave on purpose.

Usage: hostile.py https MODE CERT KEY PORTFILE
       hostile.py smtp MODE STEP_SECONDS PORTFILE

Listens on 127.0.0.1, on a port the kernel picks, and writes that port
to PORTFILE once it listens.  One thread per connection; it runs until
killed.  Every mode is an attack a policy host or an MX host could make
on a sending MTA:

https modes (after a complete TLS handshake, the request read):
  silent    never answer
  drip      send the status line and headers one byte per second
  longline  a header line of 1 MB
  flood     an endless stream of short header lines
  chunked   200, text/plain, then an endless chunked body

smtp modes:
  longline  a greeting line of 1 MB
  multiline an endless multi-line greeting ("220-...")
  slow      every reply arrives just inside STEP_SECONDS
  alerts    a normal session up to STARTTLS, then TLS warning alerts
            without end instead of a ServerHello
"""
import os
import socket
import ssl
import sys
import threading
import time


def send_forever(conn, data):
    try:
        while True:
            conn.sendall(data)
    except OSError:
        pass


def https(conn, ctx, mode):
    try:
        tls = ctx.wrap_socket(conn, server_side=True)
    except (OSError, ssl.SSLError):
        conn.close()
        return
    try:
        tls.settimeout(120)
        tls.recv(65536)
        if mode == "silent":
            time.sleep(120)
        elif mode == "drip":
            for b in b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n":
                tls.sendall(bytes([b]))
                time.sleep(1)
        elif mode == "longline":
            tls.sendall(b"HTTP/1.1 200 OK\r\nX-Long: ")
            tls.sendall(b"a" * (1024 * 1024) + b"\r\n\r\n")
        elif mode == "flood":
            tls.sendall(b"HTTP/1.1 200 OK\r\n")
            send_forever(tls, b"X-Flood: aaaaaaaaaaaaaaaa\r\n" * 64)
        elif mode == "chunked":
            tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                        b"Transfer-Encoding: chunked\r\n\r\n")
            send_forever(tls, b"1000\r\n" + b"m" * 4096 + b"\r\n")
        time.sleep(5)
        tls.close()
    except (OSError, ssl.SSLError):
        pass


def read_line(conn):
    buf = b""
    while not buf.endswith(b"\n"):
        b = conn.recv(1)
        if not b:
            raise OSError("closed")
        buf += b
    return buf


def smtp(conn, mode, step):
    try:
        conn.settimeout(120)
        if mode == "longline":
            conn.sendall(b"220 " + b"a" * (1024 * 1024) + b"\r\n")
        elif mode == "multiline":
            send_forever(conn, b"220-mx.hostile.test flooding\r\n" * 64)
        elif mode == "slow":
            # Each reply comes just before the step deadline: only a
            # budget for the whole session stops this.
            time.sleep(step)
            conn.sendall(b"220 mx.hostile.test\r\n")
            while True:
                line = read_line(conn).upper()
                time.sleep(step)
                if line.startswith(b"EHLO"):
                    conn.sendall(b"250-mx.hostile.test\r\n"
                                 b"250 STARTTLS\r\n")
                elif line.startswith(b"STARTTLS"):
                    conn.sendall(b"220 go ahead\r\n")
                    time.sleep(120)
                else:
                    conn.sendall(b"250 ok\r\n")
        elif mode == "alerts":
            conn.sendall(b"220 mx.hostile.test\r\n")
            read_line(conn)
            conn.sendall(b"250-mx.hostile.test\r\n250 STARTTLS\r\n")
            read_line(conn)
            conn.sendall(b"220 go ahead\r\n")
            conn.recv(65536)            # the ClientHello
            # warning(1) no_renegotiation(100), TLS 1.2 record layer
            send_forever(conn, b"\x15\x03\x03\x00\x02\x01\x64" * 512)
        time.sleep(5)
    except OSError:
        pass
    conn.close()


def main():
    kind, mode = sys.argv[1], sys.argv[2]
    if kind == "https":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[3], sys.argv[4])
        portfile = sys.argv[5]
        handler, extra = https, (ctx, mode)
    else:
        portfile = sys.argv[4]
        handler, extra = smtp, (mode, float(sys.argv[3]))
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % srv.getsockname()[1])
    os.rename(portfile + ".tmp", portfile)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=handler, args=(conn,) + extra,
                         daemon=True).start()


if __name__ == "__main__":
    main()
