# SPDX-License-Identifier: MIT
"""The caching forwarder of tdnsd against real upstreams on loopback.

unbound (local-data only) checks that forwarded answers match what the upstream says, over
UDP and over TCP; the scriptable fake upstream of upstreams.py checks what only a test double
can show: which upstream was asked and how often (first answer wins, failover, the cache, TTL
decay, negative caching, coalescing), forged replies, out-of-bailiwick records, silence.  Also
serve-stale (RFC 8767), the recursion ACL with EDE 18 (RFC 8914), SERVFAIL with EDE 22/23, the
tdns-cli cache and forwarder commands, and a conditional forwarder zone whose own records
override what is forwarded."""
import json
import os
import threading
import time

import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from conftest import PortLock, small_zone
from helpers import WAIT_LONG, WAIT_SHORT, cli_json, cli_ok  # noqa: F401 (test_forwarder_zones
from helpers import wait_for as wait_until                     # imports cli_* from here)
from upstreams import UNBOUND, FakeUpstream, Unbound, require

# An authoritative zone served next to the forwarder: start-up is detected with it (a
# forwarded query would depend on the upstreams), and the ACL must not touch it.
LOCAL_TEST = small_zone("local.test.", "192.0.2.99", ttl=300, ns="ns", soa="1 3600 600 86400 60")

# Zones of the fake upstreams.  neg-a: SOA TTL 2 < MINIMUM; neg-b: MINIMUM 2 < SOA TTL, so a
# negative answer lives 2 s in both (RFC 2308 §5).
FAKE_RECORDS = [
    "fake.test. 3600 IN SOA ns.fake.test. hostmaster.fake.test. 1 3600 600 86400 300",
    "fake.test. 3600 IN NS ns.fake.test.",
    "a.fake.test. 300 IN A 192.0.2.1",
    "b.fake.test. 300 IN A 192.0.2.2",
    "c.fake.test. 300 IN A 192.0.2.3",
    "d.fake.test. 300 IN A 192.0.2.4",
    "short.fake.test. 2 IN A 192.0.2.5",
    "slow.fake.test. 300 IN A 192.0.2.6",
    "spoof-id.fake.test. 300 IN A 192.0.2.10",
    "spoof-q.fake.test. 300 IN A 192.0.2.11",
    "ob.fake.test. 300 IN A 192.0.2.30",
    "coal.fake.test. 300 IN A 192.0.2.40",
    "silent.fake.test. 300 IN A 192.0.2.50",
    "trunc.fake.test. 300 IN A 192.0.2.60",
    "other.test. 3600 IN SOA ns.other.test. hostmaster.other.test. 1 3600 600 86400 300",
    "x.other.test. 300 IN A 198.51.100.1",
    "neg-a.test. 2 IN SOA ns.neg-a.test. hostmaster.neg-a.test. 1 3600 600 86400 3600",
    "neg-b.test. 3600 IN SOA ns.neg-b.test. hostmaster.neg-b.test. 1 3600 600 86400 2",
    "victim.test. 3600 IN SOA ns.victim.test. hostmaster.victim.test. 1 3600 600 86400 300",
    "www.victim.test. 300 IN A 192.0.2.200",
]

START_TIMEOUT = 20.0


# ---- helpers ------------------------------------------------------------------------------------

def fwd_config(servers, mode="concurrent", timeout=1000, allow=None, recursion="forward",
               cache="", ca_file=None):
    text = "[recursion]\nmode = %s\n" % recursion
    if allow is not None:
        text += "allow = %s\n" % allow
    text += "\n[forwarders]\nservers = %s\nmode = %s\ntimeout = %d\n" % (
        ", ".join(servers), mode, timeout)
    if ca_file is not None:
        # The PEM bundle tls:// and https:// upstreams are checked against.
        text += "ca-file = %s\n" % ca_file
    text += "\n"
    # min-ttl 0: the TTLs the tests see are the upstream's, unclamped.
    text += "[cache]\nmin-ttl = 0\n%s\n" % cache
    return text


def wait_up(srv, timeout=START_TIMEOUT):
    """Waits until tdnsd answers for its authoritative zone and its control socket exists."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if srv.proc.poll() is not None:
            if srv.port_taken():
                # Another program took the locked port: start again on a new one.
                srv.start(wait=False)
                continue
            pytest.fail("tdnsd exited with %d during start-up:\n%s"
                        % (srv.proc.returncode, srv.log()), pytrace=False)
        try:
            r = srv.query("local.test.", "SOA", timeout=0.3)
            if r.rcode() == dns.rcode.NOERROR and os.path.exists(srv.control):
                return srv
        except (dns.exception.Timeout, OSError):
            pass
        time.sleep(0.05)
    pytest.fail("tdnsd did not answer within %.0f s:\n%s" % (timeout, srv.log()), pytrace=False)


def start(make_server, servers, zones=None, extra="", files=None, **kw):
    """A tdnsd forwarding to servers (URL list) with local.test authoritative next to it."""
    z = {"local.test": LOCAL_TEST}
    z.update(zones or {})
    srv = make_server(zones=z, extra=fwd_config(servers, **kw) + extra, start=False)
    for name, text in (files or {}).items():
        srv.write_zone(name, text)
    srv.start(wait=False)
    return wait_up(srv)


def ask(srv, name, rdtype="A", tcp=False, timeout=5.0, edns=True):
    """A recursive query (RD set, EDNS unless edns=False)."""
    q = dns.message.make_query(name, rdtype, use_edns=0 if edns else False)
    assert q.flags & dns.flags.RD
    return srv.send(q, tcp=tcp, timeout=timeout)


def ede_codes(r):
    return [o.code for o in r.options if o.otype == dns.edns.OptionType.EDE]


def rrsets(section):
    """A section without TTLs, in a comparable form."""
    return sorted((rr.name.to_text().lower(), int(rr.rdtype), sorted(rd.to_text() for rd in rr))
                  for rr in section)


def addresses(r):
    return sorted(rd.address for rr in r.answer if rr.rdtype in (dns.rdatatype.A,
                                                                 dns.rdatatype.AAAA)
                  for rd in rr)


def answer_ttl(r):
    assert r.answer, r
    return min(rr.ttl for rr in r.answer)


def forwarded_ok(r, rcode=dns.rcode.NOERROR, aa=False):
    """A good forwarded answer: rcode as expected, RA and RD set (RFC 1035 §4.1.1), and AA
    clear (a forwarder is not authoritative); aa=None leaves AA unchecked."""
    assert r.rcode() == rcode, r
    assert r.flags & dns.flags.RA, r
    assert r.flags & dns.flags.RD, r
    if aa is not None:
        assert bool(r.flags & dns.flags.AA) == aa, r
    return r


def wait_for(cond, timeout=WAIT_SHORT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


def strings(doc):
    """Every string (and number, as text) in a JSON document, names without the final dot."""
    out = []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += strings(v)
    elif isinstance(doc, list):
        for v in doc:
            out += strings(v)
    elif isinstance(doc, str):
        out.append(doc.lower().rstrip("."))
    elif doc is not None:
        out.append(str(doc))
    return out


# ---- fixtures -----------------------------------------------------------------------------------

@pytest.fixture
def fakes():
    """Factory of fake upstreams serving FAKE_RECORDS; all released at teardown."""
    made = []

    def factory(tag="fake"):
        f = FakeUpstream(FAKE_RECORDS, tag=tag)
        made.append(f)
        return f
    yield factory
    for f in made:
        f.release()


@pytest.fixture
def unbounds(tmp_path):
    """Factory of unbound instances serving example.test; all stopped at teardown."""
    require(UNBOUND)
    made = []

    def factory(**kw):
        u = Unbound(str(tmp_path), tag="unbound%d" % len(made), **kw)
        made.append(u)
        return u
    yield factory
    for u in made:
        u.stop()


UNBOUND_CASES = [
    ("www.example.test.", "A"),
    ("www.example.test.", "AAAA"),
    ("two.example.test.", "A"),
    ("txt.example.test.", "TXT"),
    ("alias.example.test.", "CNAME"),
    ("alias.example.test.", "A"),
    ("mx.example.test.", "MX"),
    ("example.test.", "SOA"),
    ("example.test.", "NS"),
    ("www.example.test.", "TXT"),       # NODATA
    ("nothere.example.test.", "A"),     # NXDOMAIN
    ("WwW.ExAmPlE.TeSt.", "A"),
]


def compare_with_unbound(srv, ub, tcp_client=False, upstream_tcp=False):
    for name, rdtype in UNBOUND_CASES:
        want = ub.query(name, rdtype, tcp=upstream_tcp)
        got = forwarded_ok(ask(srv, name, rdtype, tcp=tcp_client), want.rcode())
        assert got.question[0].name.to_text() == name
        assert rrsets(got.answer) == rrsets(want.answer), (name, rdtype, got, want)
        assert rrsets(got.authority) == rrsets(want.authority), (name, rdtype, got, want)
        key = lambda rr: (rr.name.to_text().lower(), int(rr.rdtype))  # noqa: E731
        for mine, theirs in zip(sorted(got.answer, key=key), sorted(want.answer, key=key)):
            assert mine.ttl <= theirs.ttl
        # Asked again: now from the cache, same records.
        again = forwarded_ok(ask(srv, name, rdtype, tcp=tcp_client), want.rcode())
        assert rrsets(again.answer) == rrsets(want.answer)


# ---- transports ---------------------------------------------------------------------------------

def test_forwards_over_udp_and_answers_match_unbound(make_server, unbounds):
    # This unbound does not speak TCP: every answer came over UDP.
    ub = unbounds(tcp=False)
    srv = start(make_server, ["udp://127.0.0.1:%d" % ub.port])
    compare_with_unbound(srv, ub)
    compare_with_unbound(srv, ub, tcp_client=True)


def test_forwards_over_tcp_and_answers_match_unbound(make_server, unbounds):
    # This unbound does not speak UDP: every answer came over TCP.
    ub = unbounds(udp=False)
    srv = start(make_server, ["tcp://127.0.0.1:%d" % ub.port])
    compare_with_unbound(srv, ub, upstream_tcp=True)
    compare_with_unbound(srv, ub, tcp_client=True, upstream_tcp=True)


def test_transports_are_what_the_urls_say(make_server, fakes):
    fu, ft = fakes("udp"), fakes("tcp")
    srv = start(make_server, [fu.url], mode="sequential")
    assert addresses(forwarded_ok(ask(srv, "a.fake.test."))) == ["192.0.2.1"]
    assert fu.count("a.fake.test.", transport="udp") == 1
    assert fu.count(transport="tcp") == 0
    srv2 = start(make_server, [ft.tcp_url], mode="sequential")
    assert addresses(forwarded_ok(ask(srv2, "a.fake.test."))) == ["192.0.2.1"]
    assert ft.count("a.fake.test.", transport="tcp") == 1
    assert ft.count(transport="udp") == 0


def test_truncated_udp_answer_is_asked_again_over_tcp(make_server, fakes):
    # RFC 1035 §4.2.1 / RFC 7766 §5: TC over UDP means ask again over TCP.
    f = fakes()
    f.behave("trunc.fake.test.", tc=True)
    srv = start(make_server, [f.url])
    r = forwarded_ok(ask(srv, "trunc.fake.test."))
    assert addresses(r) == ["192.0.2.60"]
    assert not r.flags & dns.flags.TC
    assert f.count("trunc.fake.test.", transport="udp") >= 1
    assert f.count("trunc.fake.test.", transport="tcp") == 1


# ---- forwarder selection ------------------------------------------------------------------------

def test_concurrent_mode_first_answer_wins_with_one_slow_upstream(make_server, fakes):
    slow, fast = fakes("slow"), fakes("fast")
    # The slow upstream is listed first and has other data: a sequential or waiting
    # implementation would be late, a wrong one would return 198.51.100.66.
    slow.behave("slow.fake.test.", delay=10.0)
    slow.add("slow.fake.test. 300 IN A 198.51.100.66")
    srv = start(make_server, [slow.url, fast.url], mode="concurrent", timeout=5000)
    t0 = time.monotonic()
    r = forwarded_ok(ask(srv, "slow.fake.test.", timeout=10))
    elapsed = time.monotonic() - t0
    assert "192.0.2.6" in addresses(r)
    assert "198.51.100.66" not in addresses(r)
    # Asking the slow one first would wait for its timeout (5 s) and waiting for every answer
    # for its delay (10 s); the fast upstream answers at once.
    assert elapsed < 5.0, "answer took %.2f s; the fast upstream answers at once" % elapsed
    assert fast.count("slow.fake.test.") == 1
    # Concurrent: both were asked at once.
    assert wait_for(lambda: slow.count("slow.fake.test.") >= 1)


def test_sequential_mode_asks_the_first_and_fails_over_when_it_dies(make_server, fakes):
    first, second = fakes("first"), fakes("second")
    second.add("b.fake.test. 300 IN A 198.51.100.2", "c.fake.test. 300 IN A 198.51.100.3")
    srv = start(make_server, [first.url, second.url], mode="sequential", timeout=500)
    r = forwarded_ok(ask(srv, "a.fake.test."))
    assert addresses(r) == ["192.0.2.1"]
    assert first.count("a.fake.test.") == 1
    assert second.count("a.fake.test.") == 0

    # The first goes silent (packets swallowed): the second answers after the timeout.
    first.drop_all = True
    t0 = time.monotonic()
    r = forwarded_ok(ask(srv, "b.fake.test.", timeout=10))
    assert sorted(addresses(r)) == ["192.0.2.2", "198.51.100.2"]
    # After the timeout of 500 ms for the first, not before; the upper bound is loose.
    assert 0.5 <= time.monotonic() - t0 < 5.0
    assert first.count("b.fake.test.") == 1
    assert second.count("b.fake.test.") == 1

    # The first dies outright (port closed).
    first.stop()
    r = forwarded_ok(ask(srv, "c.fake.test.", timeout=10))
    assert sorted(addresses(r)) == ["192.0.2.3", "198.51.100.3"]
    assert second.count("c.fake.test.") == 1


def test_serve_stale_when_every_upstream_is_dead(make_server, unbounds):
    # RFC 8767: an expired answer is served, with TTL 30 (§4) and EDE 3 (RFC 8914 §4.4).
    u1, u2 = unbounds(), unbounds()
    srv = start(make_server, ["udp://127.0.0.1:%d" % u1.port, "udp://127.0.0.1:%d" % u2.port],
                timeout=500, cache="serve-stale = 86400\n")
    r = forwarded_ok(ask(srv, "short.example.test."))
    assert addresses(r) == ["192.0.2.2"]
    assert answer_ttl(r) <= 2
    assert not ede_codes(r)
    u1.kill()
    u2.kill()
    # Until the TTL of 2 s runs out the cached answer is fresh; then it is stale (EDE 3).
    r = wait_until(lambda: (lambda x: x if 3 in ede_codes(x) else None)(
        forwarded_ok(ask(srv, "short.example.test.", timeout=8))),
        timeout=WAIT_LONG, what="the stale answer", step=0.2)
    assert addresses(r) == ["192.0.2.2"]
    assert all(rr.ttl == 30 for rr in r.answer), r
    # Never cached: nothing stale to serve.
    r = forwarded_ok(ask(srv, "www.example.test.", timeout=8), dns.rcode.SERVFAIL)
    assert set(ede_codes(r)) & {22, 23}, r


def test_no_stale_answer_when_serve_stale_is_off(make_server, fakes):
    f = fakes()
    srv = start(make_server, [f.url], timeout=500, cache="serve-stale = 0\n")
    assert addresses(forwarded_ok(ask(srv, "short.fake.test."))) == ["192.0.2.5"]
    f.stop()
    # Answered from the cache until the TTL of 2 s runs out, then SERVFAIL.
    r = wait_until(lambda: (lambda x: x if x.rcode() == dns.rcode.SERVFAIL else None)(
        ask(srv, "short.fake.test.", timeout=8)),
        timeout=WAIT_LONG, what="the end of the cached answer", step=0.2)
    forwarded_ok(r, dns.rcode.SERVFAIL)
    assert not r.answer
    assert 3 not in ede_codes(r)
    assert set(ede_codes(r)) & {22, 23}, r


def test_servfail_with_ede_when_nothing_answers_and_nothing_is_cached(make_server, fakes):
    f = fakes()
    f.behave("silent.fake.test.", drop=True)
    srv = start(make_server, [f.url], timeout=500)
    # Twice: the second may come from a short failure cache (RFC 9520 §3.2), still SERVFAIL.
    for _ in range(2):
        r = forwarded_ok(ask(srv, "silent.fake.test.", timeout=8), dns.rcode.SERVFAIL)
        assert set(ede_codes(r)) & {22, 23}, r
        assert addresses(r) == []
    assert f.count("silent.fake.test.") >= 1

    # An upstream whose port is closed: ICMP port unreachable, a network error.
    closed = PortLock()
    try:
        srv2 = start(make_server, ["udp://127.0.0.1:%d" % closed.port], timeout=500)
        r = forwarded_ok(ask(srv2, "a.fake.test.", timeout=8), dns.rcode.SERVFAIL)
        assert set(ede_codes(r)) & {22, 23}, r
    finally:
        closed.release()


# ---- the cache ----------------------------------------------------------------------------------

def test_ttl_decays_in_the_cache_and_upstream_is_asked_once(make_server, fakes):
    f = fakes()
    srv = start(make_server, [f.url])
    t0 = time.monotonic()
    r1 = forwarded_ok(ask(srv, "a.fake.test."))
    t1 = answer_ttl(r1)
    assert 298 <= t1 <= 300
    # Asked again until the TTL has gone down by 2 s; it goes down with the time that passed.
    r2 = wait_until(lambda: (lambda x: x if answer_ttl(x) <= t1 - 2 else None)(
        forwarded_ok(ask(srv, "a.fake.test."))), timeout=WAIT_LONG, what="the TTL decaying",
        step=0.2)
    elapsed = time.monotonic() - t0
    t2 = answer_ttl(r2)
    assert addresses(r2) == addresses(r1) == ["192.0.2.1"]
    assert 2 <= t1 - t2 <= elapsed + 1, (t1, t2, elapsed)
    assert f.count("a.fake.test.") == 1
    # Another case of the name is the same cache entry (RFC 4343), answered in the asker's case.
    r3 = forwarded_ok(ask(srv, "A.FaKe.TeSt."))
    assert r3.answer[0].name.to_text() == "A.FaKe.TeSt."
    assert f.count("a.fake.test.") == 1


def test_answer_expires_and_is_asked_again(make_server, fakes):
    f = fakes()
    srv = start(make_server, [f.url], cache="serve-stale = 0\n")
    assert addresses(forwarded_ok(ask(srv, "short.fake.test."))) == ["192.0.2.5"]
    assert addresses(forwarded_ok(ask(srv, "short.fake.test."))) == ["192.0.2.5"]
    assert f.count("short.fake.test.") == 1
    # Answered from the cache until the TTL of 2 s runs out, then asked upstream again.
    wait_until(lambda: addresses(forwarded_ok(ask(srv, "short.fake.test."))) == ["192.0.2.5"]
               and f.count("short.fake.test.") == 2, timeout=WAIT_LONG,
               what="the second upstream query", step=0.2)
    assert_asked_again_after_ttl(f, "short.fake.test.", "A")


def test_negative_answers_are_cached_for_min_of_soa_ttl_and_minimum(make_server, fakes):
    # RFC 2308 §5: a negative answer lives min(SOA TTL, SOA MINIMUM) seconds.
    f = fakes()
    srv = start(make_server, [f.url], cache="serve-stale = 0\n")
    cases = [("nx.neg-a.test.", "A", dns.rcode.NXDOMAIN),    # SOA TTL 2, MINIMUM 3600
             ("nx.neg-b.test.", "A", dns.rcode.NXDOMAIN),    # SOA TTL 3600, MINIMUM 2
             ("neg-b.test.", "TXT", dns.rcode.NOERROR)]      # NODATA
    for name, rdtype, rcode in cases:
        r = forwarded_ok(ask(srv, name, rdtype), rcode)
        assert not r.answer
        assert r.authority and r.authority[0].rdtype == dns.rdatatype.SOA, r
        r = forwarded_ok(ask(srv, name, rdtype), rcode)
        assert r.authority and r.authority[0].rdtype == dns.rdatatype.SOA, r
        assert r.authority[0].ttl <= 2, r
        assert f.count(name, rdtype) == 1, name
    for name, rdtype, rcode in cases:
        wait_until(lambda: forwarded_ok(ask(srv, name, rdtype), rcode)
                   and f.count(name, rdtype) == 2, timeout=WAIT_LONG,
                   what="the second upstream query for " + name, step=0.2)
        assert_asked_again_after_ttl(f, name, rdtype)


def assert_asked_again_after_ttl(f, name, rdtype, ttl=2):
    """The fake upstream f was asked for name twice, the second time once the cached answer's
    TTL had run out: not before ttl - 1 s (the cache counts whole seconds)."""
    rt = dns.rdatatype.from_text(rdtype)
    times = [t for (t, _, qn, qt, _) in f.queries if qn == name.lower() and qt == rt]
    assert len(times) == 2, times
    assert times[1] - times[0] >= ttl - 1, times


def test_identical_concurrent_queries_are_coalesced(make_server, fakes):
    f = fakes()
    # The upstream answers after 3 s, longer than 20 threads take to send their queries
    # even on a busy machine.
    f.behave("coal.fake.test.", delay=3.0)
    srv = start(make_server, [f.url], timeout=8000)
    n = 20
    results = [None] * n
    barrier = threading.Barrier(n)

    def one(i):
        barrier.wait()
        try:
            results[i] = ask(srv, "coal.fake.test.", timeout=15)
        except Exception as e:  # noqa: BLE001 - reported by the assertion below
            results[i] = e
    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    for r in results:
        assert isinstance(r, dns.message.Message), r
        assert addresses(forwarded_ok(r)) == ["192.0.2.40"]
    assert f.count("coal.fake.test.") == 1


# ---- response checks ----------------------------------------------------------------------------

@pytest.mark.parametrize("kind,name,addr", [("id", "spoof-id.fake.test.", "192.0.2.10"),
                                            ("question", "spoof-q.fake.test.", "192.0.2.11")])
def test_spoofed_replies_are_ignored_and_the_real_answer_used(make_server, fakes, kind, name,
                                                              addr):
    # RFC 5452 §9.1: a reply counts only with our ID and our question.
    f = fakes()
    f.behave(name, forged=(kind,), forged_lead=0.3)
    srv = start(make_server, [f.url], timeout=2000)
    r = forwarded_ok(ask(srv, name))
    assert addresses(r) == [addr]
    r = forwarded_ok(ask(srv, name))
    assert addresses(r) == [addr]
    assert f.count(name) == 1


def test_out_of_bailiwick_records_are_neither_served_nor_cached(make_server, fakes):
    f = fakes()
    f.behave("ob.fake.test.",
             answer_extra=["www.victim.test. 3600 IN A 6.6.6.6"],
             authority_extra=["victim.test. 3600 IN NS ns.evil.invalid."],
             additional_extra=["www.victim.test. 3600 IN A 6.6.6.6"])
    srv = start(make_server, [f.url])
    r = forwarded_ok(ask(srv, "ob.fake.test."))
    # The answer section holds only the question's name (and its CNAME chain).
    assert addresses(r) == ["192.0.2.30"]
    assert all(rr.name.to_text().lower() == "ob.fake.test." for rr in r.answer), r
    # www.victim.test was not taken from that reply: it is asked upstream and answered right.
    r = forwarded_ok(ask(srv, "www.victim.test."))
    assert addresses(r) == ["192.0.2.200"]
    assert f.count("www.victim.test.") == 1


# ---- recursion ACL ------------------------------------------------------------------------------

def test_acl_refuses_recursion_with_ede_18_but_answers_authoritatively(make_server, fakes):
    f = fakes()
    srv = start(make_server, [f.url], allow="10.0.0.0/8, 192.0.2.0/24")
    r = ask(srv, "a.fake.test.")
    assert r.rcode() == dns.rcode.REFUSED, r
    assert 18 in ede_codes(r), r
    assert not r.answer
    r = ask(srv, "a.fake.test.", tcp=True)
    assert r.rcode() == dns.rcode.REFUSED and 18 in ede_codes(r), r
    assert f.count() == 0
    # Authoritative data is not subject to the recursion ACL.
    r = ask(srv, "www.local.test.")
    assert r.rcode() == dns.rcode.NOERROR
    assert r.flags & dns.flags.AA
    assert addresses(r) == ["192.0.2.99"]


def test_default_acl_allows_loopback(make_server, fakes):
    f = fakes()
    srv = start(make_server, [f.url])   # no allow key: loopback and private ranges
    assert addresses(forwarded_ok(ask(srv, "a.fake.test."))) == ["192.0.2.1"]
    if srv.ipv6:
        r = ask_addr(srv, "b.fake.test.", "::1")
        assert addresses(forwarded_ok(r)) == ["192.0.2.2"]


def ask_addr(srv, name, addr):
    q = dns.message.make_query(name, "A", use_edns=0)
    return srv.send(q, addr=addr)


def test_recursion_off_refuses_and_asks_nobody(make_server, fakes):
    f = fakes()
    srv = start(make_server, [f.url], recursion="off")
    r = ask(srv, "a.fake.test.")
    assert r.rcode() == dns.rcode.REFUSED, r
    assert not r.answer
    assert f.count() == 0
    assert addresses(ask(srv, "www.local.test.")) == ["192.0.2.99"]


# ---- tdns-cli cache and forwarder commands ------------------------------------------------------

def test_cli_cache_list_delete_flush(make_server, fakes):
    f = fakes()
    srv = start(make_server, [f.url])
    for name in ("a.fake.test.", "b.fake.test.", "x.other.test."):
        forwarded_ok(ask(srv, name))
    forwarded_ok(ask(srv, "nx.fake.test."), dns.rcode.NXDOMAIN)

    listed = strings(cli_ok(srv, "cache", "list"))
    for name in ("a.fake.test", "b.fake.test", "x.other.test", "nx.fake.test"):
        assert name in listed, listed
    # Text output for people.
    r = srv.cli("cache", "list")
    assert r.returncode == 0, r.stderr
    assert "a.fake.test" in r.stdout and "x.other.test" in r.stdout

    # Only the names at or below other.test.
    listed = strings(cli_ok(srv, "cache", "list", "other.test"))
    assert "x.other.test" in listed
    assert "a.fake.test" not in listed and "b.fake.test" not in listed

    # delete: the name is gone from the cache and asked upstream again; the others stay.
    cli_ok(srv, "cache", "delete", "a.fake.test")
    listed = strings(cli_ok(srv, "cache", "list"))
    assert "a.fake.test" not in listed and "b.fake.test" in listed
    forwarded_ok(ask(srv, "a.fake.test."))
    forwarded_ok(ask(srv, "b.fake.test."))
    assert f.count("a.fake.test.") == 2
    assert f.count("b.fake.test.") == 1

    # flush: everything is gone.
    cli_ok(srv, "cache", "flush")
    listed = strings(cli_ok(srv, "cache", "list"))
    for name in ("a.fake.test", "b.fake.test", "x.other.test", "nx.fake.test"):
        assert name not in listed, listed
    forwarded_ok(ask(srv, "b.fake.test."))
    forwarded_ok(ask(srv, "x.other.test."))
    assert f.count("b.fake.test.") == 2
    assert f.count("x.other.test.") == 2

    # Usage errors exit 2; a text command that succeeds exits 0.
    assert srv.cli("cache", "delete").returncode == 2
    r = srv.cli("cache", "flush")
    assert r.returncode == 0, r.stderr


def test_cache_hits_and_misses_count_each_client_query_once(make_server, fakes):
    """Issue 15: a forwarded miss is one miss (not also a hit), a SERVFAIL one miss."""
    f = fakes()
    f.behave("silent.fake.test.", drop=True)
    srv = start(make_server, [f.url], timeout=300)
    # Names the fake upstream does not have: 20 distinct NXDOMAIN answers, each cached.
    names = ["n%d.fake.test." % i for i in range(20)]
    for name in names:
        forwarded_ok(ask(srv, name), dns.rcode.NXDOMAIN)
    doc = cli_ok(srv, "cache", "list")
    assert (doc["hits"], doc["misses"]) == (0, 20), doc
    for name in names[:5]:
        forwarded_ok(ask(srv, name), dns.rcode.NXDOMAIN)
    doc = cli_ok(srv, "cache", "list")
    assert (doc["hits"], doc["misses"]) == (5, 20), doc
    # The per-entry hits that `cache list` shows add up to the same count.
    assert sum(e["hits"] for e in doc["entries"]) == 5, doc
    forwarded_ok(ask(srv, "silent.fake.test.", timeout=8), dns.rcode.SERVFAIL)
    doc = cli_ok(srv, "cache", "list")
    assert (doc["hits"], doc["misses"]) == (5, 21), doc


def test_cli_cache_and_forwarder_lists_are_text_tables_without_json(make_server, fakes):
    """Issue 15: `cache list` and `forwarder list` render aligned tables, not JSON."""
    f = fakes()
    srv = start(make_server, [f.url])
    forwarded_ok(ask(srv, "a.fake.test."))
    forwarded_ok(ask(srv, "a.fake.test."))
    r = srv.cli("cache", "list")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert not r.stdout.lstrip().startswith("{"), r.stdout
    assert lines[0] == "1 entries, %d of %d bytes; hits 1, misses 1" % (
        cli_ok(srv, "cache", "list")["bytes"], cli_ok(srv, "cache", "list")["max_bytes"]), lines
    header = lines[2].split()
    assert header[:5] == ["NAME", "TYPE", "TTL_LEFT", "TTL", "HITS"], lines
    row = lines[3].split()
    assert row[0] == "a.fake.test." and row[1] == "A" and row[4] == "1", lines
    # Columns line up: each header starts where its values start.
    assert lines[3].index("A ") == lines[2].index("TYPE"), lines

    r = srv.cli("forwarder", "list")
    assert r.returncode == 0, r.stderr
    assert not r.stdout.lstrip().startswith("{"), r.stdout
    lines = r.stdout.splitlines()
    assert lines[0] == "mode: concurrent", lines
    assert lines[2].split()[:4] == ["SERVER", "TRANSPORT", "ZONE", "HEALTH"], lines
    assert lines[3].split()[:4] == [f.url, "UDP", ".", "up"], lines
    # --json keeps the documents scripts read.
    assert cli_ok(srv, "forwarder", "list")["forwarders"][0]["server"] == f.url


def test_cli_forwarder_list_add_remove(make_server, fakes):
    f1, f2 = fakes("one"), fakes("two")
    f2.add("d.fake.test. 300 IN A 198.51.100.4")
    srv = start(make_server, [f1.url], mode="sequential")
    text = json.dumps(cli_ok(srv, "forwarder", "list"))
    assert "127.0.0.1:%d" % f1.port in text
    assert "127.0.0.1:%d" % f2.port not in text
    r = srv.cli("forwarder", "list")
    assert r.returncode == 0 and "127.0.0.1:%d" % f1.port in r.stdout, r

    cli_ok(srv, "forwarder", "add", f2.url)
    text = json.dumps(cli_ok(srv, "forwarder", "list"))
    assert "127.0.0.1:%d" % f1.port in text and "127.0.0.1:%d" % f2.port in text

    # Adding one already there is refused.
    rc, doc, err = cli_json(srv, "forwarder", "add", f2.url)
    assert rc == 1 and doc["ok"] is False, (rc, doc, err)

    cli_ok(srv, "forwarder", "remove", f1.url)
    text = json.dumps(cli_ok(srv, "forwarder", "list"))
    assert "127.0.0.1:%d" % f1.port not in text and "127.0.0.1:%d" % f2.port in text
    # The change is in the configuration file, so it outlives a restart.
    with open(srv.conf) as f:
        conf = f.read()
    assert f2.url in conf and f1.url not in conf, conf
    r = forwarded_ok(ask(srv, "d.fake.test."))
    assert sorted(addresses(r)) == ["192.0.2.4", "198.51.100.4"]
    assert f2.count("d.fake.test.") == 1
    assert f1.count("d.fake.test.") == 0

    # Errors: a URL that does not parse, removing one that is not there (exit 1); usage (2).
    rc, doc, err = cli_json(srv, "forwarder", "add", "gopher://127.0.0.1")
    assert rc == 1 and doc["ok"] is False and doc["error"]["message"], (rc, doc, err)
    rc, doc, err = cli_json(srv, "forwarder", "remove", f1.url)
    assert rc == 1 and doc["ok"] is False and doc["error"]["message"], (rc, doc, err)
    assert srv.cli("forwarder", "add").returncode == 2
    text = json.dumps(cli_ok(srv, "forwarder", "list"))
    assert "gopher" not in text and "127.0.0.1:%d" % f2.port in text


# ---- conditional forwarder zones ----------------------------------------------------------------

GOOGLE_TEST_FILE = """$ORIGIN google.test.
$TTL 300
www     CNAME   forcesafesearch.google.test.
"""

GOOGLE_UPSTREAM = [
    "google.test. 3600 IN SOA ns1.google.test. dns-admin.google.test. 1 900 900 1800 60",
    "www.google.test. 300 IN A 142.250.1.1",
    "mail.google.test. 300 IN A 142.250.1.25",
    "forcesafesearch.google.test. 300 IN A 216.239.38.120",
    "forcesafesearch.google.test. 300 IN AAAA 2001:4860:4802:32::78",
]


def assert_google_cname_answer(srv):
    """srv answers www.google.test. A with the zone's own CNAME, then the forwarded address of
    its target (GOOGLE_UPSTREAM); returns the reply."""
    r = forwarded_ok(ask(srv, "www.google.test."), aa=None)
    assert rrsets(r.answer) == [
        ("forcesafesearch.google.test.", dns.rdatatype.A, ["216.239.38.120"]),
        ("www.google.test.", dns.rdatatype.CNAME, ["forcesafesearch.google.test."]),
    ], r
    return r


def test_conditional_forwarder_zone_with_an_overriding_cname(make_server, fakes):
    default, google = fakes("default"), fakes("google")
    google.add(*GOOGLE_UPSTREAM)
    zone = ("[zone google.test]\ntype = forwarder\nfile = google.test.zone\n"
            "forwarders = %s\n" % google.url)
    srv = start(make_server, [default.url], extra=zone,
                files={"google.test": GOOGLE_TEST_FILE})

    # The zone's own CNAME, then the forwarded address of its target.
    r = assert_google_cname_answer(srv)
    assert r.answer[0].name.to_text() == "www.google.test."   # the CNAME comes first
    r = forwarded_ok(ask(srv, "www.google.test.", "AAAA"), aa=None)
    assert addresses(r) == ["2001:4860:4802:32::78"]
    assert google.count("forcesafesearch.google.test.", "A") == 1
    assert google.count("www.google.test.") == 0

    # Other names of the zone are forwarded to the zone's forwarders, not the default ones.
    r = forwarded_ok(ask(srv, "mail.google.test."))
    assert addresses(r) == ["142.250.1.25"]
    assert google.count("mail.google.test.") == 1
    assert not [qn for (_, _, qn, _, _) in default.queries if qn.endswith("google.test.")]

    # Everything else goes to the default forwarders.
    r = forwarded_ok(ask(srv, "a.fake.test."))
    assert addresses(r) == ["192.0.2.1"]
    assert default.count("a.fake.test.") == 1
    assert google.count("a.fake.test.") == 0

    # The override answer again, now (in part) from the cache: the same records.
    r = forwarded_ok(ask(srv, "www.google.test."), aa=None)
    assert addresses(r) == ["216.239.38.120"]
    assert google.count("forcesafesearch.google.test.", "A") == 1
