# SPDX-License-Identifier: MIT
"""[server] tcp-max-connections over plain TCP (issue 21): at the limit, a new connection closes
the least recently active idle one (tdnsd(8)), else the one whose unfinished message began
first (issue 13), and the daemon
never holds more than the limit: counted in /proc/PID/fd and /proc/net/tcp, and in the
tcp_evicted / tcp_refused counters of `tdns-cli stats`."""
import os
import socket
import struct
import time

import dns.message
import dns.rcode

from conftest import STANDARD_ZONES
from helpers import cli_ok, closed_by_peer, read_dns_tcp, send_dns_tcp

LIMIT = 3
DEADLINE = 15.0


def daemon_tcp_sockets(pid, port):
    """[receive queue length] of each established TCP connection whose socket tdnsd (pid)
    holds, local port `port`."""
    inodes = set()
    fd_dir = "/proc/%d/fd" % pid
    for fd in os.listdir(fd_dir):
        try:
            link = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    out = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            next(f)
            for line in f:
                fields = line.split()
                local, state, queues, inode = fields[1], fields[3], fields[4], fields[9]
                # State 01 is ESTABLISHED (include/net/tcp_states.h).
                if state == "01" and int(local.rsplit(":", 1)[1], 16) == port and \
                        inode in inodes:
                    out.append(int(queues.split(":")[1], 16))
    return out


def connect(srv):
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=DEADLINE)
    s.settimeout(DEADLINE)
    return s


def ask_on(sock, name):
    """One query on an open connection; the answer's addresses."""
    send_dns_tcp(sock, dns.message.make_query(name, "A").to_wire())
    r = dns.message.from_wire(read_dns_tcp(sock))
    assert r.rcode() == dns.rcode.NOERROR, r
    return sorted(rd.address for rrset in r.answer for rd in rrset)


def wait_count(srv, want, seen):
    """Waits until tdnsd holds exactly want connections; every sample goes into seen."""
    deadline = time.monotonic() + DEADLINE
    while True:
        n = len(daemon_tcp_sockets(srv.pid, srv.port))
        seen.append(n)
        if n == want:
            return
        assert time.monotonic() < deadline, "tdnsd holds %d connections, expected %d" % (n, want)
        time.sleep(0.02)


def wait_counter(srv, key, want):
    """Waits until stats totals[key] reaches want (workers publish about once a second);
    returns the totals then."""
    deadline = time.monotonic() + DEADLINE
    while True:
        totals = cli_ok(srv, "stats")["totals"]
        if totals[key] >= want or time.monotonic() > deadline:
            return totals
        time.sleep(0.1)


def open_idle(srv, count, seen):
    socks = []
    for i in range(count):
        s = connect(srv)
        assert ask_on(s, "web.example.com") == ["192.0.2.80"]
        socks.append(s)
        wait_count(srv, i + 1, seen)
    return socks


def newcomer_evicts(srv, victim, keep, seen):
    """A new connection at the limit is answered after tdnsd closed victim, the least recently
    active idle one; the connections in keep still answer.  Returns the new connection."""
    new = connect(srv)
    assert ask_on(new, "ns1.example.com") == ["192.0.2.53"]
    assert closed_by_peer(victim)
    wait_count(srv, LIMIT, seen)
    for s in keep + [new]:
        assert ask_on(s, "web.example.com") == ["192.0.2.80"]
    assert max(seen) <= LIMIT, seen
    return new


def test_limit_plus_one_closes_the_least_recently_active_idle_connection(make_server):
    srv = make_server(zones=STANDARD_ZONES, workers=1,
                      server_extra="tcp-max-connections = %d" % LIMIT)
    seen = []
    socks = open_idle(srv, LIMIT, seen)
    # The first one becomes the most recently active: the second is now the oldest idle one.
    assert ask_on(socks[0], "ns1.example.com") == ["192.0.2.53"]
    extra = newcomer_evicts(srv, socks[1], [socks[0], socks[2]], seen)
    totals = wait_counter(srv, "tcp_evicted", 1)
    assert (totals["tcp_evicted"], totals["tcp_refused"]) == (1, 0), totals
    for s in socks + [extra]:
        s.close()


def test_limit_plus_one_closes_the_slowest_unfinished_connection_when_none_is_idle(make_server):
    """Issue 13 (slowloris): with no idle connection, the one whose unfinished message began
    first makes room; the others complete their queries.  (Refusal, when every connection
    waits for replies instead, is in test_limits.py.)"""
    srv = make_server(zones=STANDARD_ZONES, workers=1,
                      server_extra="tcp-max-connections = %d" % LIMIT)
    seen = []
    socks = open_idle(srv, LIMIT, seen)
    # Half a query on each, one after the other: buffered input that is not a whole message
    # keeps them from being idle, and the first one's message began first.
    wire = dns.message.make_query("web.example.com", "A").to_wire()
    framed = struct.pack("!H", len(wire)) + wire
    for s in socks:
        s.sendall(framed[:7])
        # Wait until tdnsd has read it (its receive queues are empty).
        deadline = time.monotonic() + DEADLINE
        while any(daemon_tcp_sockets(srv.pid, srv.port)):
            assert time.monotonic() < deadline, "tdnsd did not read the half query"
            time.sleep(0.02)
    extra = newcomer_evicts(srv, socks[0], [], seen)
    # The other unfinished connections were kept and complete their queries.
    for s in socks[1:]:
        s.sendall(framed[7:])
        r = dns.message.from_wire(read_dns_tcp(s))
        assert sorted(rd.address for rrset in r.answer for rd in rrset) == ["192.0.2.80"], r
    assert max(seen) <= LIMIT, seen
    totals = wait_counter(srv, "tcp_evicted", 1)
    assert (totals["tcp_evicted"], totals["tcp_refused"]) == (1, 0), totals
    for s in socks + [extra]:
        s.close()
