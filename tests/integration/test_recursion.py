# SPDX-License-Identifier: MIT
"""Iterative resolution from the root (issue 5) against a fake DNS tree served by NSD.

hierarchy.py builds the tree on 127.R.x.y:53 and logs, through NSD's dnstap, every query each
authoritative server receives; the tests resolve through tdnsd ([recursion] mode = recursive
with root hints pointing at that tree) and compare with unbound, an independent iterative
resolver given the same hints.  Needs root (port 53), nsd and unbound.

TDNS_RECURSION_UNDER_TEST=unbound runs the resolver-agnostic tests against unbound instead of
tdnsd: that is how the fixtures themselves were proven; tdnsd-only tests skip in that mode."""
import json
import os
import time

import dns.edns
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

import hierarchy
from helpers import WAIT_LONG, rrsets, wait_for

UNDER_TEST = os.environ.get("TDNS_RECURSION_UNDER_TEST", "tdnsd")
QUERY_TIMEOUT = 15.0


@pytest.fixture(scope="session")
def hier():
    h = hierarchy.Hierarchy()
    yield h
    h.stop()


class Resolver:
    """The resolver under test: query() sends RD queries with EDNS and times them."""

    def __init__(self, port, name):
        self.port, self.name = port, name
        self.elapsed = None

    def query(self, name, rdtype="A", timeout=QUERY_TIMEOUT, tcp=False):
        q = dns.message.make_query(name, rdtype, use_edns=0, payload=1232)
        t = time.monotonic()
        fn = dns.query.tcp if tcp else dns.query.udp
        r = fn(q, "127.0.0.1", port=self.port, timeout=timeout)
        self.elapsed = time.monotonic() - t
        return r


@pytest.fixture
def make_resolver(make_server, hier, request):
    """make_resolver(**recursion keys) -> a started resolver with a cold cache."""
    started = []

    def factory(zones=None, **opts):
        if UNDER_TEST == "unbound":
            if zones or set(opts) - {"qname_minimisation"}:
                pytest.skip("tdnsd-only configuration %s" % sorted(opts))
            u = hierarchy.Unbound(hier,
                                  qname_minimisation=opts.get("qname_minimisation", "yes") == "yes")
            started.append(u)
            r = Resolver(u.port, "unbound")
            r.log = u.log
            return r
        lines = ["[recursion]", "mode = recursive", "root-hints = %s" % hier.hints]
        lines += ["%s = %s" % (k.replace("_", "-"), v) for k, v in opts.items()]
        s = make_server(zones=zones, extra="\n".join(lines) + "\n", ipv6=False)
        r = Resolver(s.port, "tdnsd")
        r.server = s
        r.log = s.log
        return r

    yield factory
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for u in started:
        if failed:
            print("---- unbound log ----\n" + u.log())
        u.stop()
    if failed:
        print(hier.logs())


@pytest.fixture
def resolver(make_resolver):
    return make_resolver()


@pytest.fixture
def unbound(hier):
    """unbound with the same hints, as an oracle for the answers."""
    u = hierarchy.Unbound(hier)
    r = Resolver(u.port, "unbound")
    yield r
    u.stop()


def need_tdnsd():
    if UNDER_TEST != "tdnsd":
        pytest.skip("tdnsd-only test")


# ---- helpers ------------------------------------------------------------------------------

def answer_text(r):
    return "rcode %s\n%s" % (dns.rcode.to_text(r.rcode()), r.to_text())


def check_recursive_flags(r):
    # RFC 1035 §4.1.1: a recursive answer has RA; it is not authoritative data (AA clear).
    assert r.flags & dns.flags.QR
    assert r.flags & dns.flags.RA, answer_text(r)
    assert r.flags & dns.flags.RD, answer_text(r)
    assert not r.flags & dns.flags.AA, answer_text(r)


def resolve_same(res, oracle, name, rdtype="A"):
    """Resolves through both; asserts the same rcode and answer section; returns res' reply."""
    mine = res.query(name, rdtype)
    theirs = oracle.query(name, rdtype)
    assert mine.rcode() == theirs.rcode(), "%s %s: %s answers %s, unbound %s\n%s" % (
        name, rdtype, res.name, dns.rcode.to_text(mine.rcode()),
        dns.rcode.to_text(theirs.rcode()), answer_text(mine))
    assert rrsets(mine.answer) == rrsets(theirs.answer), "%s %s\n%s\n---- unbound:\n%s" % (
        name, rdtype, answer_text(mine), answer_text(theirs))
    return mine


def ede_codes(r):
    return [o.code for o in r.options if o.otype == dns.edns.EDE]


# ---- answers ------------------------------------------------------------------------------

def test_plain_name_resolved_from_the_root(resolver, unbound):
    r = resolve_same(resolver, unbound, "www.example.test.")
    check_recursive_flags(r)
    assert rrsets(r.answer) == {("www.example.test.", "A"): {"192.0.2.80"}}
    r = resolve_same(resolver, unbound, "example.test.", "MX")
    check_recursive_flags(r)
    assert rrsets(r.answer) == {("example.test.", "MX"): {"10 mail.example.test."}}


def test_cname_chain_across_zones_is_followed(resolver, unbound):
    r = resolve_same(resolver, unbound, "www.alias.test.")
    check_recursive_flags(r)
    assert rrsets(r.answer) == {("www.alias.test.", "CNAME"): {"www.example.test."},
                                ("www.example.test.", "A"): {"192.0.2.80"}}
    # Three zones on three servers, one of them delegated without glue.
    r = resolve_same(resolver, unbound, "chain.alias.test.")
    assert rrsets(r.answer) == {("chain.alias.test.", "CNAME"): {"c2.glueless.test."},
                                ("c2.glueless.test.", "CNAME"): {"mail.example.test."},
                                ("mail.example.test.", "A"): {"192.0.2.25"}}


def test_dname_is_followed(resolver, unbound):
    r = resolve_same(resolver, unbound, "www.old.alias.test.")
    check_recursive_flags(r)
    ans = rrsets(r.answer)
    # RFC 6672 §2.2: the DNAME, the CNAME synthesised from it, then the target's data.
    assert ans[("old.alias.test.", "DNAME")] == {"example.test."}
    assert ans[("www.old.alias.test.", "CNAME")] == {"www.example.test."}
    assert ans[("www.example.test.", "A")] == {"192.0.2.80"}


def test_nxdomain(resolver, unbound):
    r = resolve_same(resolver, unbound, "nothere.example.test.")
    assert r.rcode() == dns.rcode.NXDOMAIN
    check_recursive_flags(r)
    # RFC 2308 §3: the SOA of the zone rides in the authority section.
    assert ("example.test.", "SOA") in rrsets(r.authority), answer_text(r)
    r = resolve_same(resolver, unbound, "nothere.test.")
    assert r.rcode() == dns.rcode.NXDOMAIN


def test_nodata_and_empty_non_terminal(resolver, unbound):
    r = resolve_same(resolver, unbound, "www.example.test.", "AAAA")
    assert r.rcode() == dns.rcode.NOERROR and not r.answer
    check_recursive_flags(r)
    assert ("example.test.", "SOA") in rrsets(r.authority), answer_text(r)
    # c.d.example.test only has a name below it: NODATA, never NXDOMAIN (RFC 8020), which a
    # minimising resolver meets on its way down to a.b.c.d.
    r = resolve_same(resolver, unbound, "c.d.example.test.")
    assert r.rcode() == dns.rcode.NOERROR and not r.answer, answer_text(r)
    r = resolve_same(resolver, unbound, "a.b.c.d.example.test.")
    assert rrsets(r.answer) == {("a.b.c.d.example.test.", "A"): {"192.0.2.4"}}


def test_glueless_delegation_resolves_the_server_name(hier, resolver, unbound):
    m = hier.mark()
    r = resolve_same(resolver, unbound, "www.glueless.test.")
    assert rrsets(r.answer) == {("www.glueless.test.", "A"): {"192.0.2.90"}}
    # The referral to glueless.test names ns.hosts.example.test without an address: both
    # resolvers had to ask example.test's server for it.
    asked = [q.qname for q in hier.queries(m, "example")]
    assert asked.count("ns.hosts.example.test.") >= 2, asked


def test_lame_delegation(resolver, unbound):
    # ns2.example.test (A.2.2) does not serve example.test and answers REFUSED: whichever
    # server the resolver picks first, every name resolves.
    for name, addr in (("www", "192.0.2.80"), ("mail", "192.0.2.25"), ("ftp", "192.0.2.21"),
                       ("a.b.c.d", "192.0.2.4")):
        r = resolver.query(name + ".example.test.")
        assert r.rcode() == dns.rcode.NOERROR, answer_text(r)
        assert rrsets(r.answer) == {(name + ".example.test.", "A"): {addr}}
    # A zone whose only server is lame cannot be resolved.
    r = resolve_same(resolver, unbound, "www.alllame.test.")
    assert r.rcode() == dns.rcode.SERVFAIL
    assert resolver.elapsed < 10, "SERVFAIL for a lame zone took %.1f s" % resolver.elapsed


def test_unresponsive_server_is_avoided(hier, resolver):
    # The hints list a silent root (b.root.test) and half.test has a silent server
    # (a.half.test): the first answer comes after at most a retry to the other server ...
    r = resolver.query("www.half.test.")
    assert r.rcode() == dns.rcode.NOERROR, answer_text(r)
    assert rrsets(r.answer) == {("www.half.test.", "A"): {"192.0.2.70"}}
    assert resolver.elapsed < 5, "first answer took %.1f s" % resolver.elapsed
    # ... and afterwards the silent server is not waited for again (its RTT is known bad):
    # the 8 names below are not even sent to it.
    m = hier.mark()
    for i in range(8):
        r = resolver.query("w%d.half.test." % i)
        assert rrsets(r.answer) == {("w%d.half.test." % i, "A"): {"192.0.2.%d" % (71 + i)}}
    asked = hier.queries(m, server="slow")
    assert not asked, "the silent server is still tried: %s" % asked


def test_faster_server_is_preferred(hier, resolver):
    need_tdnsd()
    # rtt.test has two servers: ns1 answers 250 ms late, ns2 (NSD) at once.  Selection by
    # smoothed RTT sends the bulk of the queries to ns2 once both have been measured.
    m = hier.mark()
    for i in range(hierarchy.RTT_NAMES):
        r = resolver.query("n%d.rtt.test." % i)
        assert rrsets(r.answer) == {("n%d.rtt.test." % i, "A"): {"192.0.2.%d" % (100 + i)}}, \
            answer_text(r)
    got = hier.queries(m)
    far = [q for q in got if q.server == "far"]
    near = [q for q in got if q.server == "misc" and q.qname.endswith("rtt.test.")]
    assert len(far) <= 5 and len(near) >= hierarchy.RTT_NAMES - 5, got


def test_source_ports_and_ids_are_random(hier, resolver):
    m = hier.mark()
    for i in range(hierarchy.RTT_NAMES):
        r = resolver.query("n%d.rtt.test." % i)
        assert r.rcode() == dns.rcode.NOERROR, answer_text(r)
    got = [q for q in hier.queries(m) if q.proto == "udp"]
    assert len(got) >= hierarchy.RTT_NAMES, got
    ports = {q.port for q in got}
    ids = {q.id for q in got}
    # RFC 5452 §9.2: a fresh random source port and ID per query; 20+ draws from 2^16
    # (or the ephemeral range) almost never collide more than once or twice.
    assert len(ports) >= len(got) - 2, sorted(q.port for q in got)
    assert len(ids) >= len(got) - 2, sorted(q.id for q in got)
    assert min(ports) != max(ports) and min(ports) >= 1024, sorted(ports)


def test_cached_delegation_is_not_asked_again(hier, resolver):
    r = resolver.query("www.example.test.")
    assert r.rcode() == dns.rcode.NOERROR, answer_text(r)
    m = hier.mark()
    for name in ("mail.example.test.", "ftp.example.test."):
        r = resolver.query(name)
        assert r.rcode() == dns.rcode.NOERROR and r.answer, answer_text(r)
    got = hier.queries(m)
    # The NS of test. and example.test. are cached with their TTLs: only example.test's
    # servers are asked for the siblings.
    assert not [q for q in got if q.server in ("root", "root2", "tld")], got
    assert {q.qname for q in got if q.server in ("example", "lame")} >= \
        {"mail.example.test.", "ftp.example.test."}, got


def test_large_answer_is_fetched_over_tcp(hier, resolver, unbound):
    m = hier.mark()
    r = resolver.query("big.example.test.", "TXT", tcp=True)
    assert r.rcode() == dns.rcode.NOERROR, answer_text(r)
    assert len(rrsets(r.answer)[("big.example.test.", "TXT")]) == 40, answer_text(r)
    # 8 KB of TXT does not fit a UDP answer: NSD set TC and the resolver asked again over TCP
    # (RFC 7766 §5).
    assert [q for q in hier.queries(m, "example")
            if q.qname == "big.example.test." and q.proto == "tcp"], hier.queries(m)
    theirs = unbound.query("big.example.test.", "TXT", tcp=True)
    assert rrsets(r.answer) == rrsets(theirs.answer)


def test_server_without_edns_is_asked_again_without_it(hier, resolver, unbound):
    m = hier.mark()
    r = resolve_same(resolver, unbound, "www.noedns.test.")
    assert rrsets(r.answer) == {("www.noedns.test.", "A"): {"192.0.2.7"}}
    # RFC 6891 §7: FORMERR to a query with OPT means the server predates EDNS.
    assert len(hier.queries(m, "noedns")) >= 2, hier.queries(m)


def test_out_of_bailiwick_records_are_not_trusted(hier, resolver, unbound):
    m = hier.mark()
    r = resolve_same(resolver, unbound, "www.poison.test.")
    assert rrsets(r.answer) == {("www.poison.test.", "A"): {"192.0.2.8"}}, answer_text(r)
    # poison.test's server slipped in an NS set for example.test and an address for
    # www.example.test: neither may be cached (RFC 2181 §5.4.1, RFC 5452 §6).
    r = resolver.query("www.example.test.")
    assert rrsets(r.answer) == {("www.example.test.", "A"): {"192.0.2.80"}}, answer_text(r)
    r = resolver.query("mail.example.test.")
    assert rrsets(r.answer) == {("mail.example.test.", "A"): {"192.0.2.25"}}, answer_text(r)
    assert not hier.queries(m, "evil"), hier.queries(m)


def test_answer_to_another_question_is_rejected(hier, make_resolver):
    res = make_resolver(max_time_ms="4000") if UNDER_TEST == "tdnsd" else make_resolver()
    # mismatch.test's server answers every query with www.example.test A 6.6.6.6.
    r = res.query("www.mismatch.test.")
    assert r.rcode() == dns.rcode.SERVFAIL, answer_text(r)
    assert "6.6.6.6" not in r.to_text()
    r = res.query("www.example.test.")
    assert rrsets(r.answer) == {("www.example.test.", "A"): {"192.0.2.80"}}, answer_text(r)


def test_cname_loop_across_zones_fails(hier, resolver, unbound):
    m = hier.mark()
    r = resolve_same(resolver, unbound, "loop.alias.test.")
    assert r.rcode() == dns.rcode.SERVFAIL, answer_text(r)
    assert resolver.elapsed < 5.0
    # The loop is cut: a handful of queries, well below max-queries' default 100.
    assert len(hier.queries(m)) <= 60, hier.queries(m)


def test_recursion_refused_outside_allow(make_resolver):
    need_tdnsd()
    res = make_resolver(allow="192.0.2.0/24")
    r = res.query("www.example.test.")
    assert r.rcode() == dns.rcode.REFUSED, answer_text(r)
    assert not r.answer
    # RFC 8914 §4.19: 18 Prohibited.
    assert 18 in ede_codes(r), answer_text(r)


def sixty_networks(last):
    """An allow list of 60 networks over indented continuation lines (issue 15), the last
    being last: a mix of one and two items per line, with and without trailing commas."""
    nets = ["198.18.%d.0/24" % i for i in range(59)] + [last]
    lines = []
    for i in range(0, 60, 2):
        pair = nets[i:i + 2]
        lines.append(", ".join(pair) + ("," if i % 4 == 0 and i < 58 else ""))
    return "\n    ".join([""] + lines)


def test_recursion_allow_list_of_sixty_networks_on_continuation_lines(make_resolver):
    need_tdnsd()
    res = make_resolver(allow=sixty_networks("127.0.0.0/8"))
    with open(res.server.conf) as f:
        assert max(len(line) for line in f.read().splitlines()) < 80
    r = res.query("www.example.test.")
    assert r.rcode() == dns.rcode.NOERROR and r.answer, answer_text(r)
    # The client's network is the last item: without it the same list refuses.
    res = make_resolver(allow=sixty_networks("192.0.2.0/24"))
    r = res.query("www.example.test.")
    assert r.rcode() == dns.rcode.REFUSED, answer_text(r)


def test_answers_and_negative_answers_are_cached(hier, resolver):
    first = {}
    for name, rdtype in (("www.alias.test.", "A"), ("nothere.example.test.", "A"),
                         ("www.example.test.", "AAAA")):
        first[(name, rdtype)] = resolver.query(name, rdtype)
    m = hier.mark()

    def counted_down(r):
        soa = [rr for rr in r.authority if rr.rdtype == dns.rdatatype.SOA]
        return all(rr.ttl < 3600 for rr in r.answer) and (r.answer or soa[0].ttl < 300)

    for (name, rdtype), r0 in first.items():
        # Asked from the cache until its TTLs have counted down a second.
        r = wait_for(lambda: (lambda x: x if counted_down(x) else None)(
            resolver.query(name, rdtype)), timeout=WAIT_LONG, what="TTLs counting down",
            step=0.2)
        assert r.rcode() == r0.rcode() and rrsets(r.answer) == rrsets(r0.answer), answer_text(r)
        check_recursive_flags(r)
        # TTLs count down in the cache (RFC 1035 §7.4); the negative answers keep their SOA,
        # whose TTL is capped by its MINIMUM, 300 (RFC 2308 §5).
        for rr in r.answer:
            assert rr.ttl < 3600, answer_text(r)
        if not r.answer:
            soa = [rr for rr in r.authority if rr.rdtype == dns.rdatatype.SOA]
            assert soa and soa[0].ttl < 300, answer_text(r)
    assert not hier.queries(m), hier.queries(m)


# ---- QNAME minimisation (RFC 9156) ----------------------------------------------------------

def test_minimised_queries_seen_at_the_servers(hier, resolver):
    m = hier.mark()
    r = resolver.query("a.b.c.d.example.test.")
    assert rrsets(r.answer) == {("a.b.c.d.example.test.", "A"): {"192.0.2.4"}}, answer_text(r)
    got = hier.queries(m)
    root = {q.qname for q in got if q.server in ("root", "root2")}
    tld = {q.qname for q in got if q.server == "tld"}
    domain = {q.qname for q in got if q.server in ("example", "lame")}
    # The root learns only the TLD, the TLD's server only the next label (RFC 9156 §2).
    assert root and root <= {".", "test."}, got
    assert tld and tld <= {"test.", "example.test."}, got
    assert "a.b.c.d.example.test." in domain, got


def test_relaxed_fallback_for_broken_empty_non_terminals(hier, resolver, unbound):
    m = hier.mark()
    r = resolve_same(resolver, unbound, "a.b.brokenent.test.")
    assert rrsets(r.answer) == {("a.b.brokenent.test.", "A"): {"192.0.2.10"}}, answer_text(r)
    # brokenent.test's server says NXDOMAIN for b.brokenent.test although a.b exists; the
    # minimised query was sent, then the full name (RFC 9156 §3, the relaxed mode).
    names = [q.qname for q in hier.queries(m, "brokenent")]
    assert "b.brokenent.test." in names and "a.b.brokenent.test." in names, names
    last_full = max(i for i, n in enumerate(names) if n == "a.b.brokenent.test.")
    assert names.index("b.brokenent.test.") < last_full, names


def test_minimisation_off_sends_the_full_name(hier, make_resolver):
    need_tdnsd()
    res = make_resolver(qname_minimisation="no")
    m = hier.mark()
    r = res.query("a.b.c.d.example.test.")
    assert rrsets(r.answer) == {("a.b.c.d.example.test.", "A"): {"192.0.2.4"}}, answer_text(r)
    got = hier.queries(m)
    assert "a.b.c.d.example.test." in {q.qname for q in got if q.server in ("root", "root2")}, \
        got


def test_case_randomisation_reaches_the_servers(hier, make_resolver):
    need_tdnsd()
    res = make_resolver(case_randomisation="yes")
    m = hier.mark()
    name = "a.b.c.d.example.test."
    r = res.query(name)
    assert rrsets(r.answer) == {(name, "A"): {"192.0.2.4"}}, answer_text(r)
    # The client sees its own spelling back (RFC 1035 §7.3 matching is case-insensitive).
    assert r.question[0].name.to_text() == name
    got = hier.queries(m)
    sent = "".join(q.raw for q in got if q.qname != ".")
    letters = [c for c in sent if c.isalpha()]
    # dns-0x20: every letter is upper or lower case at random; 20+ letters all lower case
    # happen with probability 2^-20.
    assert len(letters) >= 20, got
    assert any(c.isupper() for c in letters) and any(c.islower() for c in letters), \
        [q.raw for q in got]


def test_case_randomisation_rejects_answers_that_do_not_echo_the_case(hier, make_resolver):
    need_tdnsd()
    # lower.test's only server answers correctly but spells the question in lower case: with
    # 0x20 on, an answer that does not echo the case exactly is not taken (it could be a
    # forgery), and nothing else answers for the zone.
    res = make_resolver(case_randomisation="yes")
    r = res.query("www.lower.test.")
    assert r.rcode() == dns.rcode.SERVFAIL, answer_text(r)
    assert "192.0.2.11" not in r.to_text()
    res = make_resolver(case_randomisation="no")
    r = res.query("www.lower.test.")
    assert rrsets(r.answer) == {("www.lower.test.", "A"): {"192.0.2.11"}}, answer_text(r)


# ---- work limits (NXNS) ---------------------------------------------------------------------

def test_nxns_referral_is_bounded(hier, make_resolver):
    need_tdnsd()
    res = make_resolver(max_queries="20", max_time_ms="3000")
    r = res.query("www.example.test.")
    assert r.rcode() == dns.rcode.NOERROR, answer_text(r)
    m = hier.mark()
    # nxns.test's referral names 40 servers under victim.test, none of which exists.
    r = res.query("x.nxns.test.")
    assert r.rcode() == dns.rcode.SERVFAIL, answer_text(r)
    # Cut by max-queries long before max-time-ms (3 s); the bound is loose.
    assert res.elapsed < 10.0, "took %.1f s" % res.elapsed
    got = hier.queries(m)
    assert len(got) <= 20, "%d queries for one client query (max-queries 20): %s" % (
        len(got), got)
    assert len([q for q in got if q.server == "victim"]) < hierarchy.NXNS_NAMES, got


def test_slow_nxns_referral_fails_within_the_time_limit(hier, make_resolver):
    need_tdnsd()
    res = make_resolver(max_queries="30", max_time_ms="2000")
    m = hier.mark()
    # slowns.test's 40 servers are under slow.test, whose only server never answers.
    r = res.query("x.slowns.test.")
    assert r.rcode() == dns.rcode.SERVFAIL, answer_text(r)
    # Not before max-time-ms (less the timer's granularity), and not much later.
    assert 1.9 <= res.elapsed < 10.0, "SERVFAIL after %.1f s (max-time-ms 2000)" % res.elapsed
    codes = ede_codes(r)
    # RFC 8914: 22 No Reachable Authority (or 0 Other) says why.
    assert codes and set(codes) <= {0, 22}, answer_text(r)
    got = hier.queries(m)
    assert len(got) <= 30, "%d queries: %s" % (len(got), got)
    # The resolver stays usable for other names.
    r = res.query("www.example.test.")
    assert r.rcode() == dns.rcode.NOERROR, answer_text(r)


def test_referral_depth_limit(make_resolver):
    need_tdnsd()
    # With a cold cache www.example.test takes two referrals (root to test., test. to
    # example.test.), nothere.test one.
    res = make_resolver(max_depth="1")
    r = res.query("www.example.test.")
    assert r.rcode() == dns.rcode.SERVFAIL, answer_text(r)
    assert 22 in ede_codes(r), answer_text(r)
    res = make_resolver(max_depth="1")
    r = res.query("nothere.test.")
    assert r.rcode() == dns.rcode.NXDOMAIN, answer_text(r)
    res = make_resolver(max_depth="2")
    r = res.query("www.example.test.")
    assert rrsets(r.answer) == {("www.example.test.", "A"): {"192.0.2.80"}}, answer_text(r)


def test_hosted_zone_is_answered_locally(hier, make_resolver):
    need_tdnsd()
    # tdnsd hosts its own example.test: its data wins, with AA, and nothing is sent out.
    local = ("$ORIGIN example.test.\n$TTL 300\n"
             "@ IN SOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 300\n"
             "@ IN NS ns\nns IN A 198.51.100.53\nwww IN A 198.51.100.80\n")
    res = make_resolver(zones={"example.test": local})
    m = hier.mark()
    r = res.query("www.example.test.")
    assert rrsets(r.answer) == {("www.example.test.", "A"): {"198.51.100.80"}}, answer_text(r)
    assert r.flags & dns.flags.AA, answer_text(r)
    r = res.query("nothere.example.test.")
    assert r.rcode() == dns.rcode.NXDOMAIN and r.flags & dns.flags.AA, answer_text(r)
    assert not hier.queries(m), hier.queries(m)
    # Names outside it are still resolved from the root.
    r = res.query("www.alias.test.")
    assert rrsets(r.answer)[("www.alias.test.", "CNAME")] == {"www.example.test."}, \
        answer_text(r)
    check_recursive_flags(r)


# ---- statistics and transport -----------------------------------------------------------------

def test_tcp_client_gets_a_recursive_answer(resolver):
    r = resolver.query("www.alias.test.", tcp=True)
    check_recursive_flags(r)
    assert rrsets(r.answer)[("www.example.test.", "A")] == {"192.0.2.80"}


def test_stats_count_recursive_answers(resolver):
    need_tdnsd()
    names = ["www.example.test.", "mail.example.test.", "www.alias.test.", "nope.example.test."]
    for n in names:
        resolver.query(n)
    deadline = time.monotonic() + 10
    while True:
        p = resolver.server.cli("--json", "stats")
        assert p.returncode == 0, p.stdout + p.stderr
        kinds = json.loads(p.stdout)["data"]["kinds"]
        if kinds.get("recursive", 0) >= len(names) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert kinds.get("recursive", 0) >= len(names), kinds
    assert kinds.get("authoritative", 0) == 0, kinds
