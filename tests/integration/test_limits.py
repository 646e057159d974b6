# SPDX-License-Identifier: MIT
"""Issue 13: bounded work per connection and worker, and slow clients that cannot hold slots.

The forwarder's upstream is a UDP socket that never answers, so every query that misses the
cache stays outstanding for the forwarder timeout (60 s here, longer than any test)."""
import socket
import struct
import threading
import time

import dns.edns
import dns.message
import dns.name
import dns.rcode
import pytest

from helpers import cli_ok, closed_by_peer, send_dns_tcp

ZONE = ("$ORIGIN good.test.\n$TTL 300\n@ SOA ns h 1 60 60 600 60\n@ NS ns\nns A 127.0.0.1\n"
        "www A 192.0.2.1\n")


class Silent:
    """A UDP 'server' on loopback that never answers, but for the root's SOA (the start-up
    probe of the test servers, which is forwarded too)."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while True:
            try:
                data, peer = self.sock.recvfrom(4096)
                q = dns.message.from_wire(data)
            except OSError:
                return
            except Exception:  # noqa: BLE001 - anything unparsable is ignored
                continue
            if q.question and q.question[0].name == dns.name.root:
                self.sock.sendto(dns.message.make_response(q).to_wire(), peer)

    def close(self):
        self.sock.close()


@pytest.fixture
def silent():
    upstream = Silent()
    yield upstream
    upstream.close()


def forwarding(make_server, silent, recursion="", server_extra="", **kw):
    extra = ("[recursion]\nmode = forward\nallow = 127.0.0.0/8, ::1\n%s\n"
             "[forwarders]\nservers = udp://127.0.0.1:%d\ntimeout = 60000\n\n"
             % (recursion, silent.port))
    return make_server(zones={"good.test": ZONE}, server_extra=server_extra + extra, **kw)


def totals(srv):
    return cli_ok(srv, "stats")["totals"]


def wait_for(probe, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = probe()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def send_udp(srv, name):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(query_wire(name), ("127.0.0.1", srv.port))
    s.close()


def query_wire(name, qid=None):
    q = dns.message.make_query(name, "A")
    if qid is not None:
        q.id = qid
    return q.to_wire()


def test_tcp_connection_stops_reading_at_its_pending_cap(make_server, silent):
    srv = forwarding(make_server, silent)
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    s.sendall(b"".join(struct.pack("!H", len(w)) + w for w in
                       (query_wire("n%d.slow.example." % i, i) for i in range(300))))
    wait_for(lambda: totals(srv)["outstanding"] >= 100, 20, "100 outstanding")
    # Other clients are served meanwhile; once their query shows in the published counters,
    # so would any more of the 300 the worker had read.
    tcp = totals(srv)["tcp"]
    r = srv.query("www.good.test.", tcp=True)
    assert r.rcode() == dns.rcode.NOERROR
    wait_for(lambda: totals(srv)["tcp"] > tcp, 20, "the other query counted")
    # RFC 7766 lets the client pipeline; nothing makes us read all 300 at once.
    assert totals(srv)["outstanding"] == 100
    s.close()


def test_closed_connections_with_replies_pending_still_count_against_the_limit(make_server,
                                                                               silent):
    srv = forwarding(make_server, silent, server_extra="tcp-max-connections = 4\n")
    for i in range(4):
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        send_dns_tcp(s, query_wire("c%d.slow.example." % i))
        wait_for(lambda: totals(srv)["outstanding"] >= i + 1, 20, "query outstanding")
        s.close()
    # Four closed connections still owe replies: a fifth is turned away at once.
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    send_dns_tcp(s, query_wire("www.good.test."))
    assert closed_by_peer(s)
    s.close()
    wait_for(lambda: totals(srv)["tcp_refused"] >= 1, 20, "the refusal counted")


def test_limit_plus_one_is_refused_when_every_connection_waits_for_replies(make_server,
                                                                          silent):
    """Connections with queries outstanding are neither idle nor slow: a newcomer at the
    limit is refused, and they keep their slots."""
    srv = forwarding(make_server, silent, server_extra="tcp-max-connections = 4\n")
    socks = []
    for i in range(4):
        socks.append(socket.create_connection(("127.0.0.1", srv.port), timeout=10))
        send_dns_tcp(socks[-1], query_wire("w%d.slow.example." % i))
        wait_for(lambda: totals(srv)["outstanding"] >= i + 1, 20, "query outstanding")
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    send_dns_tcp(s, query_wire("www.good.test."))
    assert closed_by_peer(s)
    s.close()
    wait_for(lambda: totals(srv)["tcp_refused"] >= 1, 20, "the refusal counted")
    assert totals(srv)["tcp_evicted"] == 0
    for c in socks:
        c.close()


def ede_of(r):
    return [(o.code, o.text) for o in r.options if isinstance(o, dns.edns.EDEOption)]


def test_full_worker_refuses_new_queries_before_the_jostle_timeout(make_server, silent):
    srv = forwarding(make_server, silent,
                     recursion="max-outstanding = 5\njostle-timeout = 120000\n")
    for i in range(5):
        send_udp(srv, "o%d.slow.example." % i)
    wait_for(lambda: totals(srv)["outstanding"] == 5, 20, "5 outstanding")
    r = srv.query("new.slow.example.", rd=True, edns=0, timeout=10)
    assert r.rcode() == dns.rcode.SERVFAIL
    assert ede_of(r) == [(0, "server busy: too many outstanding queries")]
    # The counters are published once a second.
    wait_for(lambda: totals(srv)["busy_refused"] == 1, 20, "the refusal counted")
    assert totals(srv)["outstanding"] == 5


def test_full_worker_drops_its_oldest_query_after_the_jostle_timeout(make_server, silent):
    srv = forwarding(make_server, silent, recursion="max-outstanding = 5\njostle-timeout = 0\n")
    old = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    old.settimeout(10)
    q = dns.message.make_query("oldest.slow.example.", "A", use_edns=0)
    old.sendto(q.to_wire(), ("127.0.0.1", srv.port))
    wait_for(lambda: totals(srv)["outstanding"] == 1, 20, "oldest outstanding")
    for i in range(4):
        send_udp(srv, "o%d.slow.example." % i)
    wait_for(lambda: totals(srv)["outstanding"] == 5, 20, "5 outstanding")
    send_udp(srv, "new.slow.example.")
    # The new query takes the place of the oldest, which is answered at once.
    data, _ = old.recvfrom(4096)
    a = dns.message.from_wire(data)
    assert a.id == q.id and a.rcode() == dns.rcode.SERVFAIL
    assert ede_of(a) == [(0, "dropped for newer queries: too many outstanding")]
    wait_for(lambda: totals(srv)["jostled"] == 1, 20, "the jostle counted")
    assert totals(srv)["outstanding"] == 5
    old.close()


def test_slow_clients_cannot_hold_every_connection_slot(make_server):
    """Four clients dribble one octet a second into a 4-connection server with a 2 s idle
    timeout: a fifth client is answered, and each dribbler is closed by its message deadline
    although it never stops sending."""
    srv = make_server(zones={"good.test": ZONE}, idle_timeout=2,
                      server_extra="tcp-max-connections = 4\n")
    wire = struct.pack("!H", 29) + query_wire("www.good.test.")
    stop = threading.Event()
    closed = {}
    started = {}

    def dribble(i):
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
        started[i] = time.monotonic()
        try:
            for b in wire * 100:
                if stop.is_set():
                    return
                s.send(bytes([b]))
                stop.wait(1.0)
        except OSError:
            closed[i] = time.monotonic()
        finally:
            s.close()

    threads = [threading.Thread(target=dribble, args=(i,)) for i in range(4)]
    try:
        for t in threads:
            t.start()
        wait_for(lambda: len(started) == 4, 20, "4 dribblers connected")
        time.sleep(0.2)
        # The legitimate client: a whole query at once, answered (an old dribbler makes room).
        r = srv.query("www.good.test.", tcp=True, timeout=10)
        assert r is not None and r.rcode() == dns.rcode.NOERROR
        # Every dribbler is closed within a few deadlines, though it never stopped sending.
        wait_for(lambda: len(closed) == 4, 30, "all dribblers closed")
        for i in range(4):
            assert closed[i] - started[i] < 15, (i, closed[i] - started[i])
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
