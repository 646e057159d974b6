# SPDX-License-Identifier: MIT
"""Live statistics and logs over the control socket: stats top, log show, log follow, kinds."""
import json
import re
import queue
import signal
import socket
import subprocess
import threading
import time

import dns.message
import dns.query
import dns.rcode
import pytest

from conftest import EXAMPLE_COM, tdns_cli_path
from helpers import ctl_frame as frame, ctl_recv as read_frame

# Known clients on loopback (all of 127/8 is local on Linux), each sending a known number of
# queries for www.example.com A.
CLIENTS = {"127.0.0.2": 8, "127.0.0.3": 5, "127.0.0.4": 3, "127.0.0.5": 1}


@pytest.fixture
def live(make_server):
    return make_server(zones={"example.com": EXAMPLE_COM}, workers=2)


def cli_json(s, *args):
    r = s.cli("--json", *args)
    assert r.returncode == 0, "tdns-cli %s: exit %d\n%s%s" % (" ".join(args), r.returncode,
                                                             r.stdout, r.stderr)
    doc = json.loads(r.stdout)
    assert doc["ok"] is True
    return doc["data"]


def ask(s, name, rdtype="A", source="127.0.0.1", tcp=False, timeout=3):
    q = dns.message.make_query(name, rdtype, use_edns=False)
    if tcp:
        return dns.query.tcp(q, s.addr, port=s.port, timeout=timeout, source=source)
    return dns.query.udp(q, s.addr, port=s.port, timeout=timeout, source=source)


def send_known_clients(s):
    for addr, n in CLIENTS.items():
        for _ in range(n):
            r = ask(s, "www.example.com", "A", source=addr)
            assert r.rcode() == dns.rcode.NOERROR


def test_stats_top_lists_the_heaviest_clients_and_names(live):
    s = live
    send_known_clients(s)
    for _ in range(4):
        ask(s, "mail.example.com", "MX", source="127.0.0.3")
    top = cli_json(s, "stats", "top", "--count", "20")
    assert set(top) >= {"clients", "names", "blocked"}
    clients = {c["key"]: c["count"] for c in top["clients"]}
    # Few distinct keys: the sketch counts exactly.
    assert clients["127.0.0.2"] == 8
    assert clients["127.0.0.3"] == 5 + 4
    assert clients["127.0.0.4"] == 3
    assert clients["127.0.0.5"] == 1
    counts = [c["count"] for c in top["clients"]]
    assert counts == sorted(counts, reverse=True)
    names = {n["key"]: n["count"] for n in top["names"]}
    assert names["www.example.com. A"] == sum(CLIENTS.values())
    assert names["mail.example.com. MX"] == 4
    assert top["names"][0]["key"] == "www.example.com. A"
    assert top["blocked"] == []

    # --count limits every list; the text form names the lists and keys.
    top2 = cli_json(s, "stats", "top", "--count", "2")
    assert len(top2["clients"]) == 2 and len(top2["names"]) == 2
    # 127.0.0.3 also asked for mail.example.com MX: 9 queries against 8.
    assert [c["key"] for c in top2["clients"]] == ["127.0.0.3", "127.0.0.2"]
    r = s.cli("stats", "top")
    assert r.returncode == 0, r.stderr
    assert "top clients" in r.stdout and "127.0.0.3" in r.stdout
    assert "www.example.com. A" in r.stdout
    r = s.cli("stats", "top", "--count", "0")
    assert r.returncode == 1 and "count" in r.stderr


def test_log_show_queries_has_every_field(live):
    s = live
    before = time.time()
    r = ask(s, "nx.example.com", "AAAA", source="127.0.0.3", tcp=True)
    assert r.rcode() == dns.rcode.NXDOMAIN
    r = ask(s, "example.org", "TXT", source="127.0.0.4")
    assert r.rcode() == dns.rcode.REFUSED
    data = cli_json(s, "log", "show", "--queries", "--count", "2")
    entries = data["entries"]
    assert len(entries) == 2
    nx, refused = entries
    assert nx == {"type": "query", "t": nx["t"], "client": "127.0.0.3",
                  "name": "nx.example.com.", "qtype": "AAAA", "rcode": "NXDOMAIN",
                  "kind": "authoritative", "transport": "tcp", "ms": nx["ms"]}
    assert before - 1 <= nx["t"] <= refused["t"] <= time.time() + 1
    assert 0 <= nx["ms"] < 1000
    assert refused["client"] == "127.0.0.4" and refused["name"] == "example.org."
    assert refused["rcode"] == "REFUSED" and refused["transport"] == "udp"

    # Oldest first over many entries, and the text form shows the same.
    send_known_clients(s)
    entries = cli_json(s, "log", "show", "--queries", "--count", "100")["entries"]
    ts = [e["t"] for e in entries]
    assert ts == sorted(ts)
    assert sum(1 for e in entries if e["client"] == "127.0.0.2") == 8
    assert all(e["type"] == "query" for e in entries)
    r = s.cli("log", "show", "--queries", "--count", "3")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 3
    assert all("www.example.com." in line and "NOERROR" in line for line in lines)


def test_log_show_server_has_lines_from_a_config_reload(live):
    s = live
    r = s.cli("config", "reload")
    assert r.returncode == 0, r.stderr
    entries = cli_json(s, "log", "show", "--server")["entries"]
    assert entries and all(e["type"] == "server" for e in entries)
    assert all(set(e) == {"type", "t", "level", "message"} for e in entries)
    msgs = [e["message"] for e in entries]
    assert any(m.startswith("reload") for m in msgs), msgs
    assert any("config reload" in m for m in msgs), msgs
    assert {e["level"] for e in entries} <= {"err", "warning", "notice", "info", "debug"}
    # Without a flag both logs are merged by time.
    ask(s, "www.example.com", "A", source="127.0.0.5")
    both = cli_json(s, "log", "show", "--count", "1000")["entries"]
    assert {e["type"] for e in both} == {"query", "server"}
    assert [e["t"] for e in both] == sorted(e["t"] for e in both)
    r = s.cli("log", "show", "--server")
    assert r.returncode == 0 and "reload" in r.stdout


class Follower:
    """tdns-cli [--json] log follow ARGS in the background, its lines in a queue."""

    def __init__(self, s, *args, json_out=True):
        argv = [tdns_cli_path(), "-s", s.control] + (["--json"] if json_out else []) + \
            ["log", "follow"] + list(args)
        # Ctrl-C must reach it even when the suite itself runs in the background, where a
        # non-interactive shell starts every command with SIGINT ignored (POSIX 2.11).
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True,
                                     preexec_fn=lambda: signal.signal(signal.SIGINT,
                                                                      signal.SIG_DFL))
        self.lines = queue.Queue()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, pred, poke=None, timeout=10.0):
        """Lines until pred(line) holds; poke() is called every 0.3 s meanwhile."""
        seen = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if poke is not None:
                poke()
            try:
                line = self.lines.get(timeout=0.3)
            except queue.Empty:
                continue
            seen.append(line)
            if pred(line):
                return line, seen
        pytest.fail("log follow did not print the expected line within %.0f s; got:\n%s\n%s"
                    % (timeout, "\n".join(seen), self.proc.stderr.read()
                       if self.proc.poll() is not None else ""))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def test_log_follow_streams_new_queries(live):
    s = live
    f = Follower(s, "--queries")
    try:
        # Poke until the stream is up (the follow starts after the connection is made).
        _, _ = f.wait_for(lambda l: "ready.example.com." in l,
                          poke=lambda: ask(s, "ready.example.com", "A"))
        r = ask(s, "mail.example.com", "AAAA", source="127.0.0.5", tcp=True)
        assert r.rcode() == dns.rcode.NOERROR
        line, _ = f.wait_for(lambda l: "mail.example.com." in l)
        e = json.loads(line)
        assert e["type"] == "query" and e["client"] == "127.0.0.5"
        assert e["qtype"] == "AAAA" and e["transport"] == "tcp" and e["kind"] == "authoritative"
        assert abs(e["t"] - time.time()) < 10
        # Only queries were asked for: a reload's lines do not come.
        assert s.cli("config", "reload").returncode == 0
        ask(s, "after.example.com", "A")
        _, seen = f.wait_for(lambda l: "after.example.com." in l)
        assert all(json.loads(x)["type"] == "query" for x in seen)
    finally:
        f.stop()
    # Ended by Ctrl-C (SIGINT).
    assert f.proc.returncode in (0, -signal.SIGINT, 130)
    # The daemon forgot the client and still answers.
    assert ask(s, "www.example.com").rcode() == dns.rcode.NOERROR


def test_log_follow_server_lines_in_text(live):
    s = live
    f = Follower(s, "--server", json_out=False)
    try:
        line, _ = f.wait_for(lambda l: "server" in l and "config reload" in l,
                             poke=lambda: s.cli("config", "reload"))
        assert "info" in line
    finally:
        f.stop()


def test_log_follow_ends_when_the_daemon_stops(live):
    s = live
    f = Follower(s)
    f.wait_for(lambda l: "ready.example.com." in l,
               poke=lambda: ask(s, "ready.example.com", "A"))
    assert s.stop() == 0
    f.proc.wait(10)
    assert f.proc.returncode == 0


def test_log_follow_slow_client_gets_a_dropped_notice_and_never_blocks(live):
    s = live
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    # A tiny receive buffer: the daemon's side fills up quickly when we do not read.
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    c.connect(s.control)
    c.settimeout(10)
    c.sendall(frame({"command": "hello", "args": {"protocol": 1, "client": "test"}}))
    assert read_frame(c)["ok"] is True
    c.sendall(frame({"command": "log follow", "args": {"queries": True}}))
    assert read_frame(c)["ok"] is True
    # Flood without reading the stream; the daemon must keep answering meanwhile.
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.2", 0))
    u.settimeout(3)
    wire = dns.message.make_query("www.example.com", "A").to_wire()
    for i in range(25):
        for _ in range(400):
            u.sendto(wire, (s.addr, s.port))
        time.sleep(0.05)
        # Drain our replies so the flood is not throttled by our own buffer.
        u.setblocking(False)
        try:
            while True:
                u.recv(4096)
        except BlockingIOError:
            pass
        u.settimeout(3)
    # Answered behind what is left of the flood in the socket's buffer (10 s: five times what
    # a busy machine takes to work through it).
    assert ask(s, "www.example.com", source="127.0.0.3", timeout=10).rcode() == \
        dns.rcode.NOERROR
    dropped = None
    n = 0
    deadline = time.monotonic() + 20
    while dropped is None and time.monotonic() < deadline:
        doc = read_frame(c)
        assert doc is not None, "the daemon closed the stream"
        n += 1
        if doc["type"] == "dropped":
            dropped = doc
        else:
            assert doc["type"] == "query"
        if n % 200 == 0:
            # New entries are needed for the notice to be sent once we caught up.
            ask(s, "www.example.com", source="127.0.0.3")
    assert dropped is not None and dropped["count"] > 0, "no dropped notice after %d frames" % n
    c.close()
    u.close()


def test_stats_has_kinds_and_latency_percentiles(live):
    s = live
    send_known_clients(s)
    for _ in range(3):
        assert ask(s, "nx.example.com").rcode() == dns.rcode.NXDOMAIN
    for _ in range(2):
        assert ask(s, "example.org", "TXT").rcode() == dns.rcode.REFUSED
    data = cli_json(s, "stats")
    kinds = data["kinds"]
    assert set(kinds) == {"authoritative", "cached", "forwarded", "recursive", "blocked",
                          "nxdomain", "servfail", "refused"}
    n = sum(CLIENTS.values()) + 5
    assert kinds["authoritative"] >= n
    assert kinds["nxdomain"] >= 3 and kinds["refused"] >= 2
    assert kinds["cached"] == kinds["forwarded"] == kinds["recursive"] == kinds["blocked"] == 0
    lat = data["latency_ms"]
    assert lat["samples"] >= n
    assert 0 < lat["p50"] <= lat["p90"] <= lat["p99"] < 1000
    # The existing parts stay.
    assert {"totals", "rcodes", "qtypes", "transports", "per_second", "per_minute"} <= set(data)
    r = s.cli("stats")
    assert r.returncode == 0 and "kinds" in r.stdout and "p99" in r.stdout
    # Issue 15: whole microseconds below a millisecond, never "0.00 ms"; the text agrees
    # with the number in the JSON document.
    m = re.search(r"p50 (\d+(?:\.\d\d)?) (µs|ms)", r.stdout)
    assert m is not None, r.stdout
    if m.group(2) == "µs":
        assert "." not in m.group(1) and lat["p50"] < 1.0, (m.group(0), lat)
    else:
        assert lat["p50"] >= 0.9995, (m.group(0), lat)


def test_forwarded_and_cached_answers_are_logged_with_their_kind(make_server):
    from test_forwarder import FAKE_RECORDS, start
    from upstreams import FakeUpstream
    f = FakeUpstream(FAKE_RECORDS, tag="live")
    try:
        s = start(make_server, [f.url])
        for _ in range(2):
            q = dns.message.make_query("a.fake.test", "A")  # RD set: a recursive query
            r = dns.query.udp(q, s.addr, port=s.port, timeout=5, source="127.0.0.4")
            assert r.rcode() == dns.rcode.NOERROR and r.answer
        entries = cli_json(s, "log", "show", "--queries", "--count", "2")["entries"]
        # The first went upstream (and was answered later, off the query path), the second
        # came from the cache.
        assert [e["kind"] for e in entries] == ["forwarded", "cached"]
        assert all(e["client"] == "127.0.0.4" and e["name"] == "a.fake.test." for e in entries)
        assert entries[0]["ms"] >= entries[1]["ms"]
        kinds = cli_json(s, "stats")["kinds"]
        assert kinds["forwarded"] == 1 and kinds["cached"] == 1
        top = cli_json(s, "stats", "top")
        assert {"key": "a.fake.test. A", "count": 2, "error": 0} in top["names"]
    finally:
        f.release()


def test_stats_top_range_counts_the_recent_queries(live):
    s = live
    send_known_clients(s)
    for rng in ("1m", "5m", "1h", "all"):
        top = cli_json(s, "stats", "top", "--range", rng, "--count", "20")
        clients = {c["key"]: c["count"] for c in top["clients"]}
        assert clients["127.0.0.2"] == 8 and clients["127.0.0.5"] == 1, (rng, top)
        names = {n["key"]: n["count"] for n in top["names"]}
        assert names["www.example.com. A"] == sum(CLIENTS.values())
        assert top["blocked"] == []
        if rng != "all":
            want = {"1m": 60, "5m": 300, "1h": 3600}[rng]
            assert top["range_seconds"] == want
            assert 0 <= top["covered_seconds"] <= want + 300
        else:
            assert "range_seconds" not in top
    r = s.cli("stats", "top", "--range", "5m")
    assert r.returncode == 0 and "last 300 s" in r.stdout and "127.0.0.2" in r.stdout
    for bad in ("2h", "5", "soon", "0s"):
        r = s.cli("stats", "top", "--range", bad)
        assert r.returncode == 1 and "--range" in r.stderr, (bad, r.stderr)


def test_log_show_filters_by_client_name_type_and_rcode(live):
    s = live
    send_known_clients(s)
    assert ask(s, "nx.example.com", "AAAA", source="127.0.0.3").rcode() == dns.rcode.NXDOMAIN
    assert ask(s, "mail.example.com", "MX", source="127.0.0.4").rcode() == dns.rcode.NOERROR
    assert ask(s, "example.org", "TXT", source="127.0.0.4").rcode() == dns.rcode.REFUSED

    def show(*args):
        return cli_json(s, "log", "show", "--count", "1000", *args)["entries"]

    e = show("--client", "127.0.0.3")
    assert len(e) == 5 + 1 and {x["client"] for x in e} == {"127.0.0.3"}
    e = show("--client", "127.0.0.0/30")       # .0 .. .3 (.1: the readiness probe)
    assert {"127.0.0.2", "127.0.0.3"} <= {x["client"] for x in e} <= {"127.0.0.1", "127.0.0.2",
                                                                       "127.0.0.3"}
    e = show("--name", "EXAMPLE.com")          # the name and those below it, any case
    assert {x["name"] for x in e} == {"www.example.com.", "nx.example.com.",
                                      "mail.example.com."}
    e = show("--type", "mx")
    assert [x["name"] for x in e] == ["mail.example.com."]
    e = show("--rcode", "nxdomain")
    assert [(x["name"], x["qtype"]) for x in e] == [("nx.example.com.", "AAAA")]
    e = show("--client", "127.0.0.4", "--rcode", "REFUSED")
    assert [x["name"] for x in e] == ["example.org."]
    # A filter applies to queries: server lines are left out.
    assert all(x["type"] == "query" for x in show("--client", "127.0.0.4"))
    r = s.cli("log", "show", "--type", "MX")
    assert r.returncode == 0 and r.stdout.count("\n") == 1 and "mail.example.com." in r.stdout
    for opt, bad in (("--client", "300.1.1.1"), ("--name", "a..b"), ("--type", "NOPE"),
                     ("--rcode", "SOMETIMES")):
        r = s.cli("log", "show", opt, bad)
        assert r.returncode == 1 and opt in r.stderr, (opt, r.stderr)


def test_log_follow_filters_while_it_follows(live):
    s = live
    f = Follower(s, "--rcode", "NXDOMAIN", "--client", "127.0.0.3")
    try:
        f.wait_for(lambda l: "ready.example.com." in l,
                   poke=lambda: ask(s, "ready.example.com", "A", source="127.0.0.3"))
        ask(s, "www.example.com", "A", source="127.0.0.3")          # NOERROR: filtered out
        ask(s, "nx1.example.com", "A", source="127.0.0.2")          # other client
        ask(s, "nx2.example.com", "A", source="127.0.0.3")          # passes
        line, seen = f.wait_for(lambda l: "nx2.example.com." in l)
        for x in seen:
            e = json.loads(x)
            assert e["rcode"] == "NXDOMAIN" and e["client"] == "127.0.0.3", x
    finally:
        f.stop()
    r = s.cli("log", "follow", "--type", "BOGUS")
    assert r.returncode == 1 and "--type" in r.stderr
