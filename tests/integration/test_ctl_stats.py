# SPDX-License-Identifier: MIT
"""tdns-cli stats: counters by rcode, qtype and transport, and the per-second/minute series."""
import json
import os
import shutil
import subprocess
import tempfile
import time

import dns.rcode
import pytest

from conftest import EXAMPLE_COM, tdns_cli_path

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
    deadline = time.monotonic() + 10
    while not os.path.exists(sock) and time.monotonic() < deadline:
        time.sleep(0.05)
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


def settled(s, want=None, timeout=10.0):
    """Stats once the workers' counters stop moving (and reach want queries, if given)."""
    deadline = time.monotonic() + timeout
    prev = stats(s)
    while time.monotonic() < deadline:
        # Workers publish their counters once a second.
        time.sleep(1.2)
        cur = stats(s)
        q = cur["totals"]["queries"]
        if q == prev["totals"]["queries"] and (want is None or q >= want):
            return cur
        prev = cur
    pytest.fail("stats did not settle: %s" % json.dumps(prev["totals"]))


def test_stats_count_queries_by_rcode_qtype_and_transport(ctl_server):
    s = ctl_server
    base = settled(s)
    # Only the readiness probe (". SOA", REFUSED, UDP) may have been counted so far.
    assert set(base["qtypes"]) <= {"SOA"}
    for name, rdtype, transport, rcode, count in QUERIES:
        for _ in range(count):
            r = s.query(name, rdtype, tcp=transport == "tcp")
            assert r.rcode() == dns.rcode.from_text(rcode)
    cur = settled(s, base["totals"]["queries"] + TOTAL)

    def d(section, key):
        return cur[section].get(key, 0) - base[section].get(key, 0)

    assert d("totals", "queries") == TOTAL
    assert d("transports", "udp") == 10 and d("totals", "udp") == 10
    assert d("transports", "tcp") == 7 and d("totals", "tcp") == 7
    assert d("totals", "tcp_accepted") == 7
    assert d("rcodes", "NOERROR") == 11
    assert d("rcodes", "NXDOMAIN") == 4
    assert d("rcodes", "REFUSED") == 2
    assert d("qtypes", "A") == 6
    assert d("qtypes", "AAAA") == 3
    assert d("qtypes", "TXT") == 2
    assert d("qtypes", "MX") == 4
    assert d("qtypes", "CAA") == 2
    assert sum(cur["qtypes"].values()) == cur["totals"]["queries"] - cur["totals"]["dropped"]

    # The per-minute series adds up to the counters: the test's queries are all in it.
    pm = cur["per_minute"]
    assert pm and all(set(m) >= {"t", "queries", "udp", "tcp", "rcodes"} for m in pm)
    assert [m["t"] % 60 for m in pm] == [0] * len(pm)
    assert sum(m["rcodes"].get("NXDOMAIN", 0) for m in pm) == 4
    assert sum(m["tcp"] for m in pm) == 7
    assert sum(m["queries"] for m in pm) >= TOTAL

    # The per-second series has one sample a second and, a moment later, the queries.
    time.sleep(1.5)
    cur = stats(s)
    ps = cur["per_second"]
    assert 1 <= len(ps) <= 300
    assert sum(p["queries"] for p in ps) >= TOTAL
    ts = [p["t"] for p in ps]
    assert ts == sorted(ts) and ts[-1] <= time.time() + 1
    assert cur["totals"]["qps"] >= 0

    text = stats(s, json_out=False)
    assert "NXDOMAIN" in text and "REFUSED" in text and "CAA" in text


def test_stats_qps_follows_the_query_rate(ctl_server):
    s = ctl_server
    settled(s)
    end = time.monotonic() + 3
    n = 0
    while time.monotonic() < end:
        s.query("www.example.com", "A")
        n += 1
    time.sleep(1.5)
    cur = stats(s)
    # Averaged over the last 10 s (fewer right after start): at least a fraction of the rate.
    assert cur["totals"]["qps"] > 0
    assert cur["totals"]["qps"] <= n
