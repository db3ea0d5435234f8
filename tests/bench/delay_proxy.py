#!/usr/bin/env python3
"""delay_proxy.py - forward UDP and TCP, adding a fixed round-trip delay.

Usage: delay_proxy.py DELAY_MS [--log FILE] {udp|tcp}:LISTEN=TARGET...

LISTEN and TARGET are ADDR:PORT.  The kernel here has no netem, so this
stands in for a network with a round-trip time of DELAY_MS between the
clients and the servers of the local world:

udp  Every datagram a client sends goes to TARGET at once, from a socket
     of its own per client; every answer goes back DELAY_MS later.  One
     DNS query over UDP therefore costs one round trip.

tcp  Bytes from the client go to TARGET at once; bytes from TARGET go
     back DELAY_MS after they arrived, in order, like a delay line.  The
     first bytes back wait DELAY_MS more: the client's connect() returned
     at once (the kernel completes the handshake with this proxy), so
     that wait stands for the TCP handshake's own round trip.  A TCP
     connection, a TLS 1.3 handshake and one HTTP exchange therefore cost
     three round trips, as they would on a real network.

With --log, one line per DNS query (CLOCK_MONOTONIC in milliseconds,
the query name and type), per TCP connection and per TCP read (its
direction and size), for a look at which exchanges wait on which.  Runs until killed; prints "ready" once listening.
"""
import asyncio
import struct
import sys
import time

LOG = None


def log(line):
    if LOG is not None:
        LOG.write("%.3f %s\n" % (time.monotonic() * 1000, line))
        LOG.flush()


def addr(text):
    host, _, port = text.rpartition(":")
    return host, int(port)


def qname(packet):
    """The first question of a DNS message, as 'NAME TYPE'."""
    try:
        labels, i = [], 12
        while packet[i] != 0:
            n = packet[i]
            labels.append(packet[i + 1:i + 1 + n].decode("ascii", "replace"))
            i += 1 + n
        qtype = struct.unpack("!H", packet[i + 1:i + 3])[0]
        names = {1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 15: "MX", 16: "TXT",
                 10: "NULL", 28: "AAAA", 43: "DS", 48: "DNSKEY",
                 52: "TLSA"}
        return "%s. %s" % (".".join(labels), names.get(qtype, qtype))
    except (IndexError, struct.error):
        return "?"


class Upstream(asyncio.DatagramProtocol):
    """The socket that speaks to TARGET for one client."""

    def __init__(self, front, client, delay):
        self.front, self.client, self.delay = front, client, delay
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, _addr):
        loop = asyncio.get_running_loop()
        loop.call_later(self.delay, self.front.sendto, data, self.client)


class Front(asyncio.DatagramProtocol):
    """The listening UDP socket."""

    def __init__(self, target, delay):
        self.target, self.delay = target, delay
        self.transport = None
        self.upstreams = {}

    def connection_made(self, transport):
        self.transport = transport

    def sendto(self, data, client):
        self.transport.sendto(data, client)

    def datagram_received(self, data, client):
        log("udp %s" % qname(data))
        up = self.upstreams.get(client)
        if up is not None:
            up.transport.sendto(data)
            return
        asyncio.ensure_future(self.open_upstream(data, client))

    async def open_upstream(self, data, client):
        loop = asyncio.get_running_loop()
        transport, proto = await loop.create_datagram_endpoint(
            lambda: Upstream(self, client, self.delay),
            remote_addr=self.target)
        self.upstreams[client] = proto
        transport.sendto(data)


async def pump_up(reader, writer):
    """Client to server: at once."""
    try:
        while True:
            data = await reader.read(65536)
            log("tcp up %d" % len(data))
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    try:
        writer.write_eof()
    except (ConnectionError, OSError, RuntimeError):
        pass


async def pump_down(reader, writer, delay):
    """Server to client: every chunk delay later, the first 2 x delay."""
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()
    last_due = 0.0
    first = True

    async def sender():
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if data is None:
                try:
                    writer.write_eof()
                except (ConnectionError, OSError, RuntimeError):
                    pass
                return
            try:
                writer.write(data)
                await writer.drain()
            except (ConnectionError, OSError):
                return

    task = asyncio.ensure_future(sender())
    try:
        while True:
            data = await reader.read(65536)
            log("tcp down %d" % len(data))
            due = loop.time() + delay * (2 if first else 1)
            first = False
            last_due = max(due, last_due)
            queue.put_nowait((last_due, data if data else None))
            if not data:
                break
    except (ConnectionError, OSError):
        queue.put_nowait((last_due, None))
    await task


def tcp_handler(target, delay):
    async def handle(creader, cwriter):
        peer = cwriter.get_extra_info("peername")
        log("tcp connect from %s:%s" % peer[:2])
        try:
            sreader, swriter = await asyncio.open_connection(*target)
        except OSError:
            cwriter.close()
            return
        await asyncio.gather(pump_up(creader, swriter),
                             pump_down(sreader, cwriter, delay))
        for w in (cwriter, swriter):
            try:
                w.close()
            except (ConnectionError, OSError):
                pass
    return handle


async def main(argv):
    global LOG
    if len(argv) < 2:
        sys.exit(__doc__)
    delay = float(argv[0]) / 1000.0
    rest = argv[1:]
    if rest[:1] == ["--log"]:
        LOG = open(rest[1], "a", encoding="ascii")
        rest = rest[2:]
    loop = asyncio.get_running_loop()
    for spec in rest:
        kind, _, pair = spec.partition(":")
        listen, _, target = pair.partition("=")
        if kind == "udp":
            await loop.create_datagram_endpoint(
                lambda t=addr(target): Front(t, delay),
                local_addr=addr(listen))
        elif kind == "tcp":
            await asyncio.start_server(tcp_handler(addr(target), delay),
                                       *addr(listen), reuse_address=True)
        else:
            sys.exit("delay_proxy: bad forwarding '%s'" % spec)
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    try:
        asyncio.run(main(sys.argv[1:]))
    except KeyboardInterrupt:
        pass
