#!/usr/bin/env python3
"""audit_badtls.py - servers whose TLS handshake fails, for the audit tests.

Usage: audit_badtls.py SMTP_ADDR HTTPS_ADDR

On SMTP_ADDR port 25: a greeting, an EHLO reply offering STARTTLS, "220"
to STARTTLS, and then bytes that are not TLS.  On HTTPS_ADDR port 443:
bytes that are not TLS at once.  Each connection is closed after that;
one thread per connection.
"""
import socket
import sys
import threading

NOT_TLS = b"this is not a TLS record\r\n"


def smtp(conn):
    try:
        conn.settimeout(10)
        conn.sendall(b"220 badtls.test ESMTP\r\n")
        f = conn.makefile("rb")
        for line in f:
            cmd = line.strip().upper()
            if cmd.startswith(b"EHLO"):
                conn.sendall(b"250-badtls.test\r\n250 STARTTLS\r\n")
            elif cmd == b"STARTTLS":
                conn.sendall(b"220 go ahead\r\n")
                conn.sendall(NOT_TLS)
                break
            elif cmd == b"QUIT":
                conn.sendall(b"221 bye\r\n")
                break
            else:
                conn.sendall(b"500 what\r\n")
    except OSError:
        pass
    conn.close()


def https(conn):
    try:
        conn.sendall(NOT_TLS)
    except OSError:
        pass
    conn.close()


def serve(addr, port, handler):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(16)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=handler, args=(conn,), daemon=True).start()


def main():
    if len(sys.argv) != 3:
        sys.stderr.write(__doc__)
        sys.exit(2)
    t = threading.Thread(target=serve, args=(sys.argv[2], 443, https),
                         daemon=True)
    t.start()
    serve(sys.argv[1], 25, smtp)


if __name__ == "__main__":
    main()
