#!/usr/bin/env python3
# NAME
#	client.py - socketmap client for the stsdane-policyd tests and bench
# SYNOPSIS
#	client.py ask PORT KEY...            one connection, one answer a line
#	client.py CHECK PORT [ARG...]        one protocol check, exit 0 or 1
#	client.py concurrent PORT N DOMAIN...
#	client.py idle PORT N SECONDS        hold N idle connections
# DESCRIPTION
#	Speaks socketmap_table(5) to 127.0.0.1:PORT: requests "postfix KEY"
#	as netstrings.  The checks, each printing one line "why" on failure:
#	  malformed   a non-netstring closes that connection, not another
#	  oversize    a length over request_max closes the connection
#	  halfway     a client gone half-way through a request, and one gone
#	              before its answer came, leave the daemon serving
#	  slow        a client that sends one byte and stalls is closed after
#	              request_timeout, while another is answered at once
#	  pipeline    20 requests in one write: 20 answers, in order
#	  mapname     another map name: PERM, the connection stays
#	concurrent opens N connections at once, sends one request on each
#	(the domains in turn) and waits for every answer: it prints
#	"concurrent n=N answered=N ok=N seconds=S max_seconds=S".
#	idle opens N connections, prints "idle open=N", sleeps, and closes.
import os
import select
import socket
import sys
import time


def ns(data):
    return b"%d:%s," % (len(data), data)


def req(key, name=b"postfix"):
    return ns(name + b" " + key.encode())


LEFT = {}     # bytes received past the last answer, by socket


def read_answer(s, timeout=10.0):
    """One netstring answer, or None when the connection closed."""
    buf = LEFT.pop(s, b"")
    s.settimeout(timeout)
    while True:
        colon = buf.find(b":")
        if colon > 0:
            n = int(buf[:colon])
            if len(buf) >= colon + 1 + n + 1:
                assert buf[colon + 1 + n:colon + 2 + n] == b","
                LEFT[s] = buf[colon + 2 + n:]
                return buf[colon + 1:colon + 1 + n].decode()
        chunk = s.recv(65536)
        if not chunk:
            return None
        buf += chunk


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def closed_by_peer(s, timeout):
    s.settimeout(timeout)
    try:
        return s.recv(100) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def fail(why):
    print(why)
    sys.exit(1)


def still_answers(s, key="enforce.test"):
    s.sendall(req(key))
    a = read_answer(s)
    if a is None:
        fail("the other connection was closed too")
    return a


def check_malformed(port):
    good = connect(port)
    first = still_answers(good)
    for junk in (b"abc,", b"05:hello,", b"5:hello;", b"GET / HTTP/1.0\r\n\r\n",
                 b"7:nospace,"):
        bad = connect(port)
        bad.sendall(junk)
        if not closed_by_peer(bad, 5):
            fail("'%s' did not close its connection" % junk.decode())
        bad.close()
    if still_answers(good) != first:
        fail("the good connection's answer changed")


def check_oversize(port):
    good = connect(port)
    still_answers(good)
    for junk in (b"99999:", b"1025:" + b"a" * 1025 + b",",
                 req("a" * 1100 + ".test")):
        bad = connect(port)
        try:
            bad.sendall(junk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        if not closed_by_peer(bad, 5):
            fail("an oversize request (%d bytes) did not close its "
                 "connection" % len(junk))
        bad.close()
    still_answers(good)


def check_halfway(port, cold):
    s = connect(port)
    s.sendall(req("enforce.test")[:9])
    s.close()
    s = connect(port)
    s.sendall(req(cold))         # a lookup that takes a while
    s.close()                    # gone before the answer
    time.sleep(0.2)
    s = connect(port)
    s.sendall(req("enforce.test")[:5])
    s.shutdown(socket.SHUT_WR)
    s.close()
    good = connect(port)
    still_answers(good)
    still_answers(good, cold)


def check_slow(port, timeout):
    slow = connect(port)
    slow.sendall(b"2")
    good = connect(port)
    t0 = time.monotonic()
    still_answers(good)
    if time.monotonic() - t0 > 1:
        fail("a stalled client held up another for %.1f s"
             % (time.monotonic() - t0))
    if not closed_by_peer(slow, timeout + 3):
        fail("a stalled client was not closed after %s s" % timeout)


def check_pipeline(port):
    keys = ["enforce.test", "[mx.enforce.test]:25", "dane-ee.test",
            ".test", "testing.test"] * 4
    s = connect(port)
    s.sendall(b"".join(req(k) for k in keys))
    got = [read_answer(s) for _ in keys]
    for k, a in zip(keys, got):
        one = connect(port)
        one.sendall(req(k))
        want = read_answer(one)
        one.close()
        if a != want:
            fail("pipelined '%s': '%s', alone: '%s'" % (k, a, want))


def check_mapname(port):
    s = connect(port)
    s.sendall(req("enforce.test", b"other"))
    a = read_answer(s)
    if a is None or not a.startswith("PERM "):
        fail("another map name: '%s'" % a)
    still_answers(s)


def concurrent(port, n, domains):
    socks = []
    for i in range(n):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        socks.append(s)
    # every connection up before the first request
    pending = set(socks)
    deadline = time.monotonic() + 30
    while pending and time.monotonic() < deadline:
        _, w, _ = select.select([], list(pending)[:1000], [], 1)
        for s in w:
            pending.discard(s)
    t0 = time.monotonic()
    sent = {}
    for i, s in enumerate(socks):
        s.send(req(domains[i % len(domains)]))
        sent[s] = time.monotonic()
    bufs = {s: b"" for s in socks}
    done = {}
    ok = 0
    poller = select.epoll()
    for s in socks:
        poller.register(s.fileno(), select.EPOLLIN)
    byfd = {s.fileno(): s for s in socks}
    while len(done) < n and time.monotonic() < t0 + 60:
        for fd, _ in poller.poll(1):
            s = byfd[fd]
            try:
                chunk = s.recv(65536)
            except ConnectionError:
                chunk = b""
            if not chunk:
                poller.unregister(fd)
                done[s] = None
                continue
            bufs[s] += chunk
            if bufs[s].endswith(b","):
                done[s] = time.monotonic() - sent[s]
                poller.unregister(fd)
                if b":OK " in bufs[s] or b":NOTFOUND" in bufs[s]:
                    ok += 1
    elapsed = time.monotonic() - t0
    answered = sum(1 for v in done.values() if v is not None)
    longest = max([v for v in done.values() if v is not None] or [0])
    print("concurrent n=%d answered=%d ok=%d seconds=%.3f max_seconds=%.3f"
          % (n, answered, ok, elapsed, longest))
    for s in socks:
        s.close()
    return 0 if answered == n else 1


def idle(port, n, seconds):
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.connect(("127.0.0.1", port))
        socks.append(s)
    print("idle open=%d" % len(socks), flush=True)
    time.sleep(seconds)
    for s in socks:
        s.close()


def main():
    if len(sys.argv) < 3:
        print(__doc__ or "usage: client.py CHECK PORT", file=sys.stderr)
        return 2
    cmd, port, args = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    if cmd == "ask":
        s = connect(port)
        for k in args:
            s.sendall(req(k))
            print("%s: %s" % (k, read_answer(s)))
        return 0
    if cmd == "concurrent":
        return concurrent(port, int(args[0]), args[1:])
    if cmd == "idle":
        idle(port, int(args[0]), float(args[1]))
        return 0
    checks = {"malformed": check_malformed, "oversize": check_oversize,
              "halfway": check_halfway, "slow": check_slow,
              "pipeline": check_pipeline, "mapname": check_mapname}
    if cmd not in checks:
        print("client.py: unknown command '%s'" % cmd, file=sys.stderr)
        return 2
    fn = checks[cmd]
    if cmd == "slow":
        fn(port, float(args[0]))
    elif cmd == "halfway":
        fn(port, args[0])
    else:
        fn(port)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, AssertionError, ValueError) as e:
        print("client error: %s" % e)
        sys.exit(1)
