# SPDX-License-Identifier: MIT
"""tdns-cli stats: counters by rcode, qtype and transport, and the per-second/minute series."""
import json
import math
import os
import shutil
import socket
import subprocess
import tempfile
import time

import dns.message
import dns.rcode
import pytest

from conftest import EXAMPLE_COM, tdns_cli_path
from helpers import WAIT_LONG, UdpLoad, drain_udp, wait_for

# What the test sends: (name, type, transport, rcode), each `count` times.
QUERIES = [
    ("www.example.com", "A", "udp", "NOERROR", 5),
    ("nx.example.com", "AAAA", "udp", "NXDOMAIN", 3),
    ("example.org", "TXT", "udp", "REFUSED", 2),
    ("example.com", "MX", "tcp", "NOERROR", 4),
    ("nope.example.com", "A", "tcp", "NXDOMAIN", 1),
    ("example.com", "CAA", "tcp", "NOERROR", 2),
]
TOTAL = sum(q[4] for q in QUERIES)


@pytest.fixture
def ctl_server(make_server):
    d = tempfile.mkdtemp(prefix="tdns-ctl-")
    sock = os.path.join(d, "ctl.sock")
    s = make_server(zones={"example.com": EXAMPLE_COM}, workers=2,
                    extra="[control]\nsocket = %s\n" % sock)
    s.sock = sock
    wait_for(lambda: os.path.exists(sock), what="the control socket")
    yield s
    shutil.rmtree(d, ignore_errors=True)


def stats(s, json_out=True):
    argv = [tdns_cli_path(), "-s", s.sock] + (["--json"] if json_out else []) + ["stats"]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, "tdns-cli stats: exit %d\n%s%s" % (r.returncode, r.stdout,
                                                                  r.stderr)
    if not json_out:
        return r.stdout
    doc = json.loads(r.stdout)
    assert doc["ok"] is True
    return doc["data"]


def published(s, cond, what):
    """The first stats reply for which cond(reply) holds; workers publish their counters once
    a second, so this waits for the publication itself, up to WAIT_LONG."""
    return wait_for(lambda: (lambda cur: cur if cond(cur) else None)(stats(s)),
                    timeout=WAIT_LONG, what=what, step=0.1)


def probes(cur):
    """The readiness probes counted so far (". SOA", REFUSED over UDP; the test sends no SOA
    query).  Each worker publishes its counters as one snapshot, so one reply counts a probe
    everywhere or nowhere."""
    return cur["qtypes"].get("SOA", 0)


def test_stats_count_queries_by_rcode_qtype_and_transport(ctl_server):
    s = ctl_server
    for name, rdtype, transport, rcode, count in QUERIES:
        for _ in range(count):
            r = s.query(name, rdtype, tcp=transport == "tcp")
            assert r.rcode() == dns.rcode.from_text(rcode)
    cur = published(s, lambda c: c["totals"]["queries"] - probes(c) >= TOTAL,
                    "the test's %d queries in the stats" % TOTAL)
    p = probes(cur)
    assert p >= 1, cur["qtypes"]
    assert cur["totals"]["queries"] == TOTAL + p
    assert cur["transports"]["udp"] == 10 + p and cur["totals"]["udp"] == 10 + p
    assert cur["transports"]["tcp"] == 7 and cur["totals"]["tcp"] == 7
    assert cur["totals"]["tcp_accepted"] == 7
    assert cur["totals"]["dropped"] == 0
    assert cur["rcodes"] == {"NOERROR": 11, "NXDOMAIN": 4, "REFUSED": 2 + p}, cur["rcodes"]
    assert cur["qtypes"] == {"A": 6, "AAAA": 3, "TXT": 2, "MX": 4, "CAA": 2, "SOA": p}, \
        cur["qtypes"]

    # The per-minute series adds up to the counters: the test's queries are all in it.
    pm = cur["per_minute"]
    assert pm and all(set(m) >= {"t", "queries", "udp", "tcp", "rcodes"} for m in pm)
    assert [m["t"] % 60 for m in pm] == [0] * len(pm)
    assert sum(m["rcodes"].get("NXDOMAIN", 0) for m in pm) == 4
    assert sum(m["tcp"] for m in pm) == 7
    assert sum(m["queries"] for m in pm) == TOTAL + p

    # The per-second series has one sample a second and, once sampled, the queries.
    cur = published(s, lambda c: sum(x["queries"] for x in c["per_second"]) >= TOTAL + p,
                    "the queries in the per-second series")
    ps = cur["per_second"]
    assert 1 <= len(ps) <= 300
    assert sum(x["queries"] for x in ps) == TOTAL + p == cur["totals"]["queries"]
    ts = [x["t"] for x in ps]
    assert ts == sorted(ts) and ts[-1] <= time.time() + 1
    # qps: the mean of the last 10 samples (all of them, fewer after start).
    last = ps[-10:]
    assert cur["totals"]["qps"] == pytest.approx(sum(x["queries"] for x in last) / len(last))

    text = stats(s, json_out=False)
    assert "NXDOMAIN" in text and "REFUSED" in text and "CAA" in text


def test_stats_qps_follows_the_query_rate(ctl_server):
    s = ctl_server
    n = 300
    for _ in range(n):
        s.query("www.example.com", "A")
    # Once the per-second samples hold the queries, qps is their mean over the last 10 s
    # (fewer right after start): more than 0, at most all of them in one second.
    cur = published(s, lambda c: sum(x["queries"] for x in c["per_second"]) >= n,
                    "the queries in the per-second series")
    assert 0 < cur["totals"]["qps"] <= cur["totals"]["queries"]
    last = cur["per_second"][-10:]
    assert cur["totals"]["qps"] == pytest.approx(sum(x["queries"] for x in last) / len(last))


def send_paced(s, rate, seconds):
    """Sends A queries over UDP at rate per second for whole monotonic seconds, without waiting
    for the answers; returns {monotonic second: queries sent in it} for the seconds filled."""
    q = dns.message.make_query("www.example.com", "A").to_wire()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setblocking(False)
    sent = {}
    try:
        # Start on a second boundary so that every second sent in is a full one.
        start = math.floor(time.monotonic()) + 1
        while time.monotonic() < start:
            time.sleep(0.005)
        i = 0
        while True:
            due = start + i / rate
            if due >= start + seconds:
                break
            now = time.monotonic()
            if now < due:
                time.sleep(due - now)
            sock.sendto(q, (s.addr, s.port))
            sec = math.floor(time.monotonic())
            sent[sec] = sent.get(sec, 0) + 1
            i += 1
            drain_udp(sock)
    finally:
        sock.close()
    return sent


def test_stats_per_second_counts_each_query_in_the_second_it_arrived(ctl_server):
    s = ctl_server
    published(s, lambda c: probes(c) >= 1, "the readiness probe in the stats")
    rate, seconds = 500, 5
    sent = send_paced(s, rate, seconds)
    last = max(sent)
    # The daemon labels monotonic second m with unix time m + floor(realtime - monotonic).
    off = math.floor(time.time() - time.monotonic())
    deadline = time.monotonic() + 30
    while True:
        ps = stats(s)["per_second"]
        got = {p["t"]: p["queries"] for p in ps}
        if max(got, default=0) >= last + off + 1 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    # The offset's fraction may round the other way in the daemon: take the best alignment.
    errors = []
    for shift in (0, -1, 1):
        bad = ["second %d: sent %d, series %d" % (m, n, got.get(m + off + shift, 0))
               for m, n in sorted(sent.items())
               if abs(got.get(m + off + shift, 0) - n) > max(25, n // 10)]
        errors.append(bad)
    best = min(errors, key=len)
    assert not best, "per_second does not follow the paced load:\n%s\nseries %s" % (
        "\n".join(best), [p["queries"] for p in ps[-seconds - 3:]])
    # The kinds split every second: here all answers come from the zone.
    for p in ps:
        assert p["queries"] == sum(p[k] for k in KINDS + ("failed", "dropped"))
    assert sum(p["authoritative"] for p in ps) >= sum(sent.values())


KINDS = ("authoritative", "cached", "forwarded", "recursive", "blocked")


def test_stats_totals_and_kinds_come_from_one_snapshot_under_load(ctl_server):
    s = ctl_server
    published(s, lambda c: probes(c) >= 1, "the readiness probe in the stats")
    q = dns.message.make_query("www.example.com", "A").to_wire()
    nx = dns.message.make_query("nx.example.com", "A").to_wire()
    load = UdpLoad(s.addr, s.port, [nx, q, q, q, q], threads=2)
    try:
        moved = 0
        prev = None
        for _ in range(8):
            d = stats(s)
            tot, kinds = d["totals"], d["kinds"]
            # Every query is either dropped or answered by exactly one kind.
            assert tot["queries"] == tot["dropped"] + sum(kinds[k] for k in KINDS), (tot, kinds)
            assert sum(d["qtypes"].values()) == tot["queries"] - tot["dropped"]
            if prev is not None and tot["queries"] > prev:
                moved += 1
            prev = tot["queries"]
        assert moved > 0, "the load did not reach the daemon"
    finally:
        load.stop()
