# SPDX-License-Identifier: MIT
"""[server] tcp-max-connections over plain TCP (issue 21): at the limit, a new connection closes
the least recently active idle one (tdnsd(8)), or is refused when none is idle, and the daemon
never holds more than the limit: counted in /proc/PID/fd and /proc/net/tcp, and in the
tcp_evicted / tcp_refused counters of `tdns-cli stats`."""
import os
import socket
import struct
import time

import dns.message
import dns.rcode

from conftest import STANDARD_ZONES
from helpers import cli_ok, read_dns_tcp, send_dns_tcp

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


def closed_by_peer(sock):
    """True when the server closes sock (EOF or reset) before the deadline, with no data."""
    try:
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True
    except (socket.timeout, TimeoutError):
        return False


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


def test_limit_plus_one_is_refused_when_no_connection_is_idle(make_server):
    srv = make_server(zones=STANDARD_ZONES, workers=1,
                      server_extra="tcp-max-connections = %d" % LIMIT)
    seen = []
    socks = open_idle(srv, LIMIT, seen)
    # Half a query on each: buffered input that is not a whole message keeps them busy.
    wire = dns.message.make_query("web.example.com", "A").to_wire()
    framed = struct.pack("!H", len(wire)) + wire
    for s in socks:
        s.sendall(framed[:7])
    # Wait until tdnsd has read them (its receive queues are empty), so that the connection
    # below finds them busy.
    deadline = time.monotonic() + DEADLINE
    while any(daemon_tcp_sockets(srv.pid, srv.port)):
        assert time.monotonic() < deadline, "tdnsd did not read the half queries"
        time.sleep(0.02)
    extra = connect(srv)
    assert closed_by_peer(extra)
    wait_count(srv, LIMIT, seen)
    # The busy connections were kept and complete their queries.
    for s in socks:
        s.sendall(framed[7:])
        r = dns.message.from_wire(read_dns_tcp(s))
        assert sorted(rd.address for rrset in r.answer for rd in rrset) == ["192.0.2.80"], r
    assert max(seen) <= LIMIT, seen
    totals = wait_counter(srv, "tcp_refused", 1)
    assert (totals["tcp_refused"], totals["tcp_evicted"]) == (1, 0), totals
    # Idle again, so a new connection gets in by closing the least recently active: the first.
    again = newcomer_evicts(srv, socks[0], socks[1:], seen)
    for s in socks + [extra, again]:
        s.close()

