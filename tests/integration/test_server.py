# SPDX-License-Identifier: MIT
"""tdnsd as a process: TCP (RFC 7766), IPv6, SIGHUP reload, SIGTERM, config errors and -t."""
import signal
import socket
import struct
import subprocess
import threading
import time

import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from conftest import (EXAMPLE_COM, EXAMPLE_NET, STANDARD_ZONES, PortLock, tdnsd_path,
                      zone_section)
from helpers import WAIT_LONG
from helpers import read_exact as recv_exact

NOERROR, NXDOMAIN, REFUSED = dns.rcode.NOERROR, dns.rcode.NXDOMAIN, dns.rcode.REFUSED


def a_of(r):
    return sorted(rd.to_text() for rs in r.answer if rs.rdtype == dns.rdatatype.A for rd in rs)


def wait_for(pred, timeout=WAIT_LONG, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


def tcp_connect(server, addr="127.0.0.1", timeout=5.0):
    s = socket.create_connection((addr, server.port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def tcp_read(s):
    (ln,) = struct.unpack("!H", recv_exact(s, 2))
    return dns.message.from_wire(recv_exact(s, ln))


def frame(q):
    w = q.to_wire()
    return struct.pack("!H", len(w)) + w


# ---------------------------------------------------------------- TCP, RFC 7766

def test_tcp_pipelined_queries_are_all_answered_with_matching_ids(server):
    names = ["web.example.com", "www.example.com", "nope.example.com", "example.com",
             "mail.example.com", "x.w.example.com", "host.sub.example.com", "big.example.com",
             "chain1.example.com", "ns1.example.com"]
    types = ["A", "A", "A", "MX", "AAAA", "A", "A", "TXT", "A", "A"]
    queries = {}
    for i, (name, t) in enumerate(zip(names, types)):
        q = dns.message.make_query(name, t)
        q.id = 1000 + i
        queries[q.id] = q
    with tcp_connect(server) as s:
        # RFC 7766 §6.2.1.1: all queries in one write, before reading any answer.
        s.sendall(b"".join(frame(q) for q in queries.values()))
        got = {}
        for _ in queries:
            r = tcp_read(s)
            assert r.id in queries and r.id not in got
            got[r.id] = r
    assert set(got) == set(queries)
    for qid, r in got.items():
        q = queries[qid]
        assert r.question == q.question
        # Each answer equals the one the same query gets alone over UDP.
        alone = server.send(q, tcp=True)
        assert r.rcode() == alone.rcode() and r.answer == alone.answer
    assert a_of(got[1000]) == ["192.0.2.80"]
    assert got[1002].rcode() == NXDOMAIN


def test_tcp_connection_serves_many_queries_in_sequence(server):
    with tcp_connect(server) as s:
        for i in range(50):
            q = dns.message.make_query("web.example.com", "A")
            s.sendall(frame(q))
            r = tcp_read(s)
            assert r.id == q.id and a_of(r) == ["192.0.2.80"]


def test_tcp_idle_connection_is_closed_after_the_timeout(make_server):
    srv = make_server(zones=STANDARD_ZONES, idle_timeout=2)
    with tcp_connect(srv, timeout=10) as s:
        t0 = time.monotonic()
        try:
            data = s.recv(1)
        except ConnectionResetError:
            data = b""
        elapsed = time.monotonic() - t0
    assert data == b""
    # The timer runs from the accept, a moment before t0; the upper bound is loose.
    assert 1.0 <= elapsed < 10.0, elapsed


def test_tcp_idle_timer_restarts_after_each_query(make_server):
    srv = make_server(zones=STANDARD_ZONES, idle_timeout=4)
    with tcp_connect(srv, timeout=20) as s:
        start = time.monotonic()
        for _ in range(3):
            # Queries 1.5 s apart: well inside the idle timeout of 4 s even when a busy
            # machine wakes this thread late.
            time.sleep(1.5)
            q = dns.message.make_query("web.example.com", "A")
            s.sendall(frame(q))
            assert tcp_read(s).id == q.id
        # Longer than the idle timeout after the accept, the connection is still open because
        # it was active; then it is closed an idle timeout after the last query.
        assert time.monotonic() - start > 4.0
        t0 = time.monotonic()
        try:
            data = s.recv(1)
        except ConnectionResetError:
            data = b""
        assert data == b""
        assert 3.0 <= time.monotonic() - t0 < 15.0


def test_many_concurrent_tcp_connections(server):
    socks = [tcp_connect(server) for _ in range(50)]
    try:
        qs = []
        for s in socks:
            q = dns.message.make_query("example.com", "SOA")
            s.sendall(frame(q))
            qs.append(q)
        for s, q in zip(socks, qs):
            assert tcp_read(s).id == q.id
    finally:
        for s in socks:
            s.close()


# ---------------------------------------------------------------- IPv6

def test_ipv6_loopback_udp_and_tcp(server):
    for tcp in (False, True):
        r = server.query("web.example.com", "A", tcp=tcp, addr="::1")
        assert r.rcode() == NOERROR and a_of(r) == ["192.0.2.80"]


# ---------------------------------------------------------------- workers

def test_two_workers_answer_udp_and_tcp(make_server):
    srv = make_server(zones=STANDARD_ZONES, workers=2)
    for i in range(40):
        r = srv.query("web.example.com", "A", tcp=bool(i % 2))
        assert a_of(r) == ["192.0.2.80"]


# ---------------------------------------------------------------- SIGHUP

def test_sighup_reloads_a_changed_zone(server):
    assert server.query("new.example.com", "A").rcode() == NXDOMAIN
    server.write_zone("example.com", EXAMPLE_COM.replace("2024010101", "2024010102") +
                      "new A 192.0.2.200\n")
    server.reload()
    assert wait_for(lambda: a_of(server.query("new.example.com", "A")) == ["192.0.2.200"]), \
        server.log()
    assert server.query("example.com", "SOA").answer[0][0].serial == 2024010102


def test_sighup_with_a_broken_zone_keeps_the_old_version_serving(server):
    server.write_zone("example.com", EXAMPLE_COM + "broken IN A 192.0.2.300\n")
    # Change example.net too, so we can tell when the reload has happened.
    server.write_zone("example.net", EXAMPLE_NET + "marker A 198.51.100.99\n")
    server.reload()
    assert wait_for(lambda: a_of(server.query("marker.example.net", "A")) == ["198.51.100.99"]), \
        server.log()
    r = server.query("web.example.com", "A")
    assert r.rcode() == NOERROR and a_of(r) == ["192.0.2.80"]
    assert server.query("broken.example.com", "A").rcode() == NXDOMAIN
    assert "example.com.zone:" in server.log()


def test_sighup_reloads_the_config_adding_and_removing_zones(server):
    with open(server.conf) as f:
        conf = f.read()
    server.write_zone("example.org", "$ORIGIN example.org.\n@ 300 SOA ns h 1 2 3 4 5\n"
                                     "@ 300 NS ns\nns 300 A 203.0.113.1\n")
    assert zone_section("example.net") in conf
    conf = conf.replace(zone_section("example.net"), zone_section("example.org"))
    server.write_config(conf)
    server.reload()
    assert wait_for(lambda: a_of(server.query("ns.example.org", "A")) == ["203.0.113.1"]), \
        server.log()
    assert server.query("www.example.net", "A").rcode() == REFUSED
    assert a_of(server.query("web.example.com", "A")) == ["192.0.2.80"]


def test_sighup_with_a_broken_config_keeps_serving(server):
    with open(server.conf) as f:
        good = f.read()
    server.write_config(good + "\n[server]\nno-such-key = 1\n")
    server.reload()
    assert wait_for(lambda: "keeping the running configuration" in server.log(), WAIT_LONG), \
        server.log()
    assert server.proc.poll() is None, server.log()
    assert a_of(server.query("web.example.com", "A")) == ["192.0.2.80"]


def big_zone(n, serial=1):
    lines = ["$ORIGIN example.com.", "$TTL 300",
             "@ SOA ns1 hostmaster %d 7200 3600 1209600 300" % serial, "@ NS ns1",
             "ns1 A 192.0.2.53", "web A 192.0.2.80"]
    lines += ["h%d A 10.%d.%d.%d" % (i, i >> 16 & 255, i >> 8 & 255, i & 255) for i in range(n)]
    return "\n".join(lines) + "\n"


def test_queries_keep_being_answered_during_repeated_reloads(make_server):
    srv = make_server(zones={"example.com": big_zone(20000), "example.net": EXAMPLE_NET})
    stop = threading.Event()
    stats = {"ok": 0, "timeouts": 0, "wrong": 0}

    def load(tcp):
        while not stop.is_set():
            try:
                r = srv.query("web.example.com", "A", tcp=tcp, timeout=2.0)
                if a_of(r) == ["192.0.2.80"]:
                    stats["ok"] += 1
                else:
                    stats["wrong"] += 1
            except (dns.exception.Timeout, OSError):
                stats["timeouts"] += 1

    threads = [threading.Thread(target=load, args=(tcp,)) for tcp in (False, False, True)]
    for t in threads:
        t.start()
    try:
        for i in range(6):
            time.sleep(0.4)
            srv.write_zone("example.com", big_zone(20000, serial=i + 2))
            srv.reload()
        time.sleep(1.0)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert srv.proc.poll() is None, srv.log()
    assert stats["timeouts"] == 0 and stats["wrong"] == 0, stats
    assert stats["ok"] > 50, stats
    assert wait_for(lambda: srv.query("example.com", "SOA").answer[0][0].serial == 7)


# ---------------------------------------------------------------- SIGTERM

def test_sigterm_exits_zero(server):
    server.signal(signal.SIGTERM)
    assert server.proc.wait(10) == 0, server.log()


def test_sigterm_with_open_tcp_connection_exits_zero(server):
    with tcp_connect(server) as s:
        s.sendall(b"\x00")    # half a length prefix: a connection in the middle of a read
        time.sleep(0.2)
        server.signal(signal.SIGTERM)
        assert server.proc.wait(10) == 0, server.log()


# ---------------------------------------------------------------- zones that fail to load

def test_one_bad_zone_does_not_stop_the_others(make_server):
    bad = "$ORIGIN example.net.\n@ 300 SOA ns h 1 2 3 4 5\n@ 300 NS ns\nbad 300 A 1.2.3.4.5\n"
    srv = make_server(zones={"example.com": EXAMPLE_COM, "example.net": bad})
    assert a_of(srv.query("web.example.com", "A")) == ["192.0.2.80"]
    assert srv.query("bad.example.net", "A").rcode() != NOERROR
    assert "example.net.zone:4:" in srv.log(), srv.log()


def test_missing_zone_file_does_not_stop_the_others(make_server):
    srv = make_server(zones={"example.com": EXAMPLE_COM},
                      extra="[zone example.net]\ntype = primary\nfile = missing.zone\n")
    assert a_of(srv.query("web.example.com", "A")) == ["192.0.2.80"]
    assert srv.query("www.example.net", "A").rcode() != NOERROR
    assert "missing.zone" in srv.log()


# ---------------------------------------------------------------- config errors and -t

def run_tdnsd(args, timeout=15):
    return subprocess.run([tdnsd_path(), *args], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.fixture
def port():
    lock = PortLock()
    yield lock.port
    lock.release()


def good_config(tmp_path, port):
    (tmp_path / "example.com.zone").write_text(EXAMPLE_COM)
    return ("[server]\nlisten = 127.0.0.1:%d\nworkers = 1\nstate-dir = %s\n\n"
            "[log]\nlevel = info\n\n"
            "[zone example.com]\ntype = primary\nfile = example.com.zone\n" % (port, tmp_path))


@pytest.mark.parametrize("mutation,lines", [
    (lambda c: c.replace("workers = 1", "workers = lots"), (3,)),
    (lambda c: c.replace("[log]\n", "[log]\nno-such-key = 1\n"), (7,)),
    # An unknown section may be reported at its header or at its first key.
    (lambda c: c.replace("[log]\n", "[no-such-section]\n"), (6, 7)),
    (lambda c: c.replace("listen = 127.0.0.1:", "listen = 999.0.0.1:"), (2,)),
    (lambda c: c.replace("level = info", "level = chatty"), (7,)),
    # A duplicate zone: at its section header or at its first key.
    (lambda c: c + "\n[zone example.com]\ntype = primary\nfile = again.zone\n", (13, 14)),
    (lambda c: c.replace("type = primary", "type = tertiary"), (10,)),
])
def test_bad_config_exits_1_with_file_and_line(tmp_path, port, mutation, lines):
    conf = tmp_path / "bad.conf"
    conf.write_text(mutation(good_config(tmp_path, port)))
    for args in (["-f", "-c", str(conf)], ["-t", "-c", str(conf)]):
        p = run_tdnsd(args)
        assert p.returncode == 1, (args, p.stderr)
        assert any("%s:%d:" % (conf, line) in p.stderr for line in lines), p.stderr


def test_missing_config_file_exits_1(tmp_path):
    p = run_tdnsd(["-f", "-c", str(tmp_path / "nope.conf")])
    assert p.returncode == 1
    assert "nope.conf" in p.stderr


def test_check_mode_accepts_a_good_config_and_exits(tmp_path, port):
    conf = tmp_path / "good.conf"
    conf.write_text(good_config(tmp_path, port))
    p = run_tdnsd(["-t", "-c", str(conf)])
    assert p.returncode == 0, p.stderr
    # -t must not start a server.
    with pytest.raises(dns.exception.Timeout):
        dns.query.udp(dns.message.make_query("example.com", "SOA"), "127.0.0.1", port=port,
                      timeout=0.5)


def test_check_mode_reports_a_bad_zone_with_file_and_line(tmp_path, port):
    conf = tmp_path / "good.conf"
    conf.write_text(good_config(tmp_path, port))
    zone = tmp_path / "example.com.zone"
    text = EXAMPLE_COM + "bad IN A 192.0.2.300\n"
    zone.write_text(text)
    p = run_tdnsd(["-t", "-c", str(conf)])
    assert p.returncode == 1, p.stderr
    assert "%s:%d:" % (zone, text.count("\n")) in p.stderr, p.stderr


def test_check_mode_names_the_config_section_of_a_missing_zone_file(tmp_path, port):
    """Issue 15: the missing file, and the config file:line of the [zone] that names it."""
    conf = tmp_path / "good.conf"
    text = good_config(tmp_path, port)
    conf.write_text(text)
    line = text.splitlines().index("[zone example.com]") + 1
    (tmp_path / "example.com.zone").unlink()
    p = run_tdnsd(["-t", "-c", str(conf)])
    assert p.returncode == 1, p.stderr
    assert "%s:%d: [zone example.com]" % (conf, line) in p.stderr, p.stderr
    assert "example.com.zone" in p.stderr, p.stderr


def test_unknown_option_exits_nonzero():
    p = run_tdnsd(["--no-such-option"])
    assert p.returncode != 0
    assert p.stderr


def test_port_in_use_fails_start_with_a_message(tmp_path, port):
    conf = tmp_path / "good.conf"
    conf.write_text(good_config(tmp_path, port))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", port))
        p = run_tdnsd(["-f", "-c", str(conf)])
    assert p.returncode != 0
    assert "127.0.0.1:%d" % port in p.stderr, p.stderr
