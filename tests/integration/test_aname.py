# SPDX-License-Identifier: MIT
"""ANAME (issue 5, Technitium's private type 65280): a name's A/AAAA taken from a target.

An A or AAAA query for a name with an ANAME rrset (and no rrset of the type asked) is answered
authoritatively (AA, owner = the name as asked) with the target's addresses, TTL = the least
of the ANAME's and the target's.  The target may be in tdnsd's own zones (answered at once),
or outside them: resolved through the cache and the forwarders (the fake upstream of
upstreams.py counts what it is asked) or the iterator (the NSD tree of hierarchy.py).  The
addresses are checked against what the upstream itself answers for the target."""
import os
import subprocess

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

import hierarchy
from helpers import WAIT_LONG, wait_for
from test_dot import dot, frame, pki, read_reply, tls_connect  # noqa: F401 (fixtures)
from test_forwarder import ask, ede_codes, start
from upstreams import FakeUpstream

ANAME = 65280

TARGET_TEST = """$ORIGIN target.test.
$TTL 300
@      3600 IN SOA ns.target.test. hostmaster.target.test. 1 7200 3600 1209600 60
@           NS    ns
ns          A     192.0.2.53
www    300  A     192.0.2.80
www    300  A     192.0.2.81
www    200  AAAA  2001:db8::80
alias  900  CNAME www
hop1   900  CNAME alias
"""

# The start of both aname.test zones (local targets, and forwarded ones further down).
# SOA TTL 3600, minimum 300: NODATA at the apex carries the SOA with TTL 300.
ANAME_APEX = """$ORIGIN aname.test.
$TTL 3600
@      3600 IN SOA ns.aname.test. hostmaster.aname.test. 1 7200 3600 1209600 300
@           NS    ns
@           MX    10 mail
ns          A     192.0.2.53
mail        A     192.0.2.25
"""

ANAME_TEST = ANAME_APEX + """@      600  ANAME www.target.test.
@           TXT   "v=spf1 -all"
short  120  ANAME www.target.test.
chain       ANAME hop1.target.test.
nx          ANAME nothere.target.test.
self        ANAME self.aname.test.
own         ANAME www.target.test.
own         A     192.0.2.200
outside     ANAME www.example.org.
"""

LOCAL_ZONES = {"aname.test": ANAME_TEST, "target.test": TARGET_TEST}


def query(srv, name, rdtype="A", tcp=False):
    q = dns.message.make_query(name, rdtype, use_edns=0)
    return srv.send(q, tcp=tcp, timeout=5.0)


def addrs(r, rdtype="A"):
    rt = dns.rdatatype.from_text(rdtype)
    return sorted(rd.to_text() for rrset in r.answer if rrset.rdtype == rt for rd in rrset)


def only_rrset(r):
    assert len(r.answer) == 1, r.to_text()
    return r.answer[0]


def assert_nodata_at(r, apex, soa_ttl):
    assert r.rcode() == dns.rcode.NOERROR, r.to_text()
    assert r.flags & dns.flags.AA, r.to_text()
    assert not r.answer, r.to_text()
    soa = [rr for rr in r.authority if rr.rdtype == dns.rdatatype.SOA]
    assert soa and soa[0].name == dns.name.from_text(apex), r.to_text()
    assert soa[0].ttl <= soa_ttl, r.to_text()


# ---- target in our own zones -----------------------------------------------------------------

@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_local_target_answered_as_the_apex_own_records(make_server, tcp):
    srv = make_server(zones=LOCAL_ZONES)
    direct = query(srv, "www.target.test.", "A", tcp=tcp)
    r = query(srv, "AnAmE.TeSt.", "A", tcp=tcp)
    assert r.rcode() == dns.rcode.NOERROR, r.to_text()
    assert r.flags & dns.flags.AA
    assert not r.flags & dns.flags.RA
    rrset = only_rrset(r)
    # The owner is the name as asked, case included; the type the one asked.
    assert rrset.name.to_text() == "AnAmE.TeSt."
    assert rrset.rdtype == dns.rdatatype.A
    assert addrs(r) == addrs(direct) == ["192.0.2.80", "192.0.2.81"]
    # min(ANAME 600, target 300)
    assert rrset.ttl == 300
    assert not r.authority


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_local_target_aaaa(make_server, tcp):
    srv = make_server(zones=LOCAL_ZONES)
    r = query(srv, "aname.test.", "AAAA", tcp=tcp)
    assert r.flags & dns.flags.AA
    rrset = only_rrset(r)
    assert rrset.rdtype == dns.rdatatype.AAAA
    assert addrs(r, "AAAA") == addrs(query(srv, "www.target.test.", "AAAA"), "AAAA") \
        == ["2001:db8::80"]
    assert rrset.ttl == 200


def test_ttl_is_the_smaller_of_aname_and_target(make_server):
    srv = make_server(zones=LOCAL_ZONES)
    r = query(srv, "short.aname.test.")
    assert only_rrset(r).ttl == 120
    assert addrs(r) == ["192.0.2.80", "192.0.2.81"]


def test_local_target_cname_chain_followed(make_server):
    srv = make_server(zones=LOCAL_ZONES)
    r = query(srv, "chain.aname.test.")
    assert r.flags & dns.flags.AA
    rrset = only_rrset(r)
    assert rrset.name == dns.name.from_text("chain.aname.test.")
    assert rrset.rdtype == dns.rdatatype.A
    assert addrs(r) == ["192.0.2.80", "192.0.2.81"]
    assert rrset.ttl == 300


def test_nxdomain_target_is_nodata_at_the_name(make_server):
    srv = make_server(zones=LOCAL_ZONES)
    assert query(srv, "nothere.target.test.").rcode() == dns.rcode.NXDOMAIN
    for tcp in (False, True):
        assert_nodata_at(query(srv, "nx.aname.test.", tcp=tcp), "aname.test.", 300)


def test_aname_loop_is_nodata(make_server):
    srv = make_server(zones=LOCAL_ZONES)
    assert_nodata_at(query(srv, "self.aname.test."), "aname.test.", 300)


def test_real_records_win_over_the_aname(make_server):
    srv = make_server(zones=LOCAL_ZONES)
    r = query(srv, "own.aname.test.")
    assert addrs(r) == ["192.0.2.200"]
    assert only_rrset(r).ttl == 3600


def test_apex_soa_ns_mx_txt_still_answered(make_server):
    srv = make_server(zones=LOCAL_ZONES)
    for rdtype, want in (("SOA", "ns.aname.test. hostmaster.aname.test. 1 7200 3600 1209600 300"),
                         ("NS", "ns.aname.test."), ("MX", "10 mail.aname.test."),
                         ("TXT", '"v=spf1 -all"')):
        r = query(srv, "aname.test.", rdtype)
        assert r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.AA, r.to_text()
        rrset = only_rrset(r)
        assert rrset.rdtype == dns.rdatatype.from_text(rdtype)
        assert [rd.to_text() for rd in rrset] == [want]
    # Other types at the apex are NODATA as before.
    assert_nodata_at(query(srv, "aname.test.", "SRV"), "aname.test.", 300)


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_aname_type_query_returns_the_record(make_server, tcp):
    srv = make_server(zones=LOCAL_ZONES)
    r = query(srv, "aname.test.", ANAME, tcp=tcp)
    assert r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.AA
    rrset = only_rrset(r)
    assert rrset.rdtype == ANAME and rrset.ttl == 600
    # Private type: the rdata is the target's uncompressed wire name (RFC 3597 §4).
    assert [rd.data for rd in rrset] == [dns.name.from_text("www.target.test.").to_wire()]


def test_any_is_minimal(make_server):
    srv = make_server(zones=LOCAL_ZONES)
    # RFC 8482 §4.1: one rrset; at the apex tdnsd picks the SOA.
    r = query(srv, "aname.test.", "ANY")
    assert r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.AA
    assert only_rrset(r).rdtype == dns.rdatatype.SOA
    # Below the apex the ANAME is the name's only rrset: ANY returns it, not addresses.
    r = query(srv, "short.aname.test.", "ANY")
    rrset = only_rrset(r)
    assert rrset.rdtype == ANAME and rrset.ttl == 120
    assert [rd.data for rd in rrset] == [dns.name.from_text("www.target.test.").to_wire()]


def test_recursion_off_outside_target_is_nodata_with_ede(make_server):
    srv = make_server(zones=LOCAL_ZONES)
    r = query(srv, "outside.aname.test.")
    assert_nodata_at(r, "aname.test.", 300)
    # RFC 8914 §5.1: EDE 0 (Other), with a text saying why.
    assert ede_codes(r) == [0], r.to_text()
    texts = [o.text for o in r.options if o.otype == dns.edns.OptionType.EDE]
    assert "recursion off" in texts[0]


def test_zone_check_accepts_aname_beside_soa_ns_mx(tmp_path):
    # Unlike a CNAME (RFC 1034 §3.6.2), an ANAME shares its owner with any other data.
    path = tmp_path / "aname.test.zone"
    path.write_text(ANAME_TEST)
    cli = os.environ.get("TDNS_CLI", "tdns-cli")
    r = subprocess.run([cli, "zone", "check", str(path), "aname.test"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "OK" in r.stdout
    bad = tmp_path / "bad.zone"
    bad.write_text(ANAME_TEST.replace("ANAME www.target.test.", "CNAME www.target.test.", 1))
    r = subprocess.run([cli, "zone", "check", str(bad), "aname.test"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode != 0


# ---- forward mode: the target through the cache and the forwarders ---------------------------

FAKE = [
    "fake.test. 3600 IN SOA ns.fake.test. hostmaster.fake.test. 1 3600 600 86400 300",
    "fake.test. 3600 IN NS ns.fake.test.",
    "www.fake.test. 300 IN A 192.0.2.1",
    "www.fake.test. 300 IN A 192.0.2.2",
    "www.fake.test. 250 IN AAAA 2001:db8::1",
    "alias.fake.test. 400 IN CNAME www2.fake.test.",
    "www2.fake.test. 100 IN A 192.0.2.3",
    "dead.fake.test. 300 IN A 192.0.2.4",
]

FWD_ANAME = ANAME_APEX + """@      600  ANAME www.fake.test.
cn          ANAME alias.fake.test.
nx     60   ANAME nothere.fake.test.
dead        ANAME dead.fake.test.
local       ANAME www.target.test.
"""


@pytest.fixture
def fake():
    f = FakeUpstream(FAKE, tag="aname-fake")
    yield f
    f.release()


def start_fwd(make_server, fake):
    return start(make_server, [fake.url], timeout=500,
                 zones={"aname.test": FWD_ANAME, "target.test": TARGET_TEST})


def upstream(fake, name, rdtype):
    """What the fake upstream itself answers (the independent check)."""
    q = dns.message.make_query(name, rdtype)
    return dns.query.udp(q, fake.addr, port=fake.port, timeout=3)


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_forward_target_resolved_then_cached(make_server, fake, tcp):
    srv = start_fwd(make_server, fake)
    r = query(srv, "aname.test.", tcp=tcp)
    assert r.rcode() == dns.rcode.NOERROR, r.to_text()
    assert r.flags & dns.flags.AA and not r.flags & dns.flags.RA
    rrset = only_rrset(r)
    assert rrset.name == dns.name.from_text("aname.test.") and rrset.rdtype == dns.rdatatype.A
    assert 295 <= rrset.ttl <= 300
    assert fake.count("www.fake.test.", "A") == 1
    want = addrs(upstream(fake, "www.fake.test.", "A"))
    assert addrs(r) == want == ["192.0.2.1", "192.0.2.2"]
    # Within the TTL: from the cache, no new upstream query, the TTL counting down.
    wait_for(lambda: only_rrset(query(srv, "aname.test.", tcp=tcp)).ttl < rrset.ttl,
             timeout=WAIT_LONG, what="the TTL counting down", step=0.2)
    for again in (query(srv, "aname.test.", tcp=tcp), query(srv, "ANAME.test.", tcp=not tcp)):
        assert addrs(again) == want and again.flags & dns.flags.AA
        assert only_rrset(again).ttl < rrset.ttl
    assert only_rrset(again).name.to_text() == "ANAME.test."
    # The resolver path shares that cache entry.
    r = ask(srv, "www.fake.test.")
    assert addrs(r) == want
    assert fake.count("www.fake.test.", "A") == 2  # the one upstream() above, no other


def test_forward_target_from_a_client_query_in_the_cache(make_server, fake):
    srv = start_fwd(make_server, fake)
    r = ask(srv, "www.fake.test.")
    assert addrs(r) == ["192.0.2.1", "192.0.2.2"]
    r = query(srv, "aname.test.")
    assert addrs(r) == ["192.0.2.1", "192.0.2.2"] and r.flags & dns.flags.AA
    assert fake.count("www.fake.test.", "A") == 1


def test_forward_aname_answers_clients_outside_the_recursion_acl(make_server, fake):
    # The ANAME is the zone's data: the server resolves it for itself, whoever asks.
    srv = start(make_server, [fake.url], timeout=500, allow="192.0.2.0/24",
                zones={"aname.test": FWD_ANAME})
    r = ask(srv, "www.fake.test.")
    assert r.rcode() == dns.rcode.REFUSED and 18 in ede_codes(r), r.to_text()
    r = query(srv, "aname.test.")
    assert addrs(r) == ["192.0.2.1", "192.0.2.2"] and r.flags & dns.flags.AA
    assert fake.count("www.fake.test.", "A") == 1


def test_forward_target_over_dot(dot, pki, fake):
    # The deferred reply goes back on the TLS connection, after an authoritative one asked
    # later on the same connection may have gone out (RFC 7766 §6.2.1.1).
    extra = ("[recursion]\nmode = forward\n\n[forwarders]\nservers = %s\ntimeout = 500\n\n"
             % fake.url)
    srv = dot(zones={"aname.test": FWD_ANAME, "target.test": TARGET_TEST}, extra=extra)
    s = tls_connect(srv.dot_port, pki.ca)
    for _ in range(2):
        q1 = dns.message.make_query("aname.test.", "A", use_edns=0)
        q2 = dns.message.make_query("local.aname.test.", "A", use_edns=0)
        s.sendall(frame(q1) + frame(q2))
        replies = {r.id: r for r in (read_reply(s), read_reply(s))}
        r = replies[q1.id]
        assert r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.AA, r.to_text()
        assert addrs(r) == ["192.0.2.1", "192.0.2.2"]
        assert addrs(replies[q2.id]) == ["192.0.2.80", "192.0.2.81"]
    s.close()
    assert fake.count("www.fake.test.", "A") == 1


def test_forward_target_aaaa(make_server, fake):
    srv = start_fwd(make_server, fake)
    r = query(srv, "aname.test.", "AAAA")
    rrset = only_rrset(r)
    assert rrset.rdtype == dns.rdatatype.AAAA and r.flags & dns.flags.AA
    assert addrs(r, "AAAA") == addrs(upstream(fake, "www.fake.test.", "AAAA"), "AAAA") \
        == ["2001:db8::1"]
    assert 245 <= rrset.ttl <= 250
    query(srv, "aname.test.", "AAAA")
    assert fake.count("www.fake.test.", "AAAA") == 2  # ours once, upstream() once


def test_forward_target_cname_chain(make_server, fake):
    srv = start_fwd(make_server, fake)
    r = query(srv, "cn.aname.test.")
    rrset = only_rrset(r)
    assert rrset.name == dns.name.from_text("cn.aname.test.") and rrset.rdtype == dns.rdatatype.A
    assert addrs(r) == addrs(upstream(fake, "alias.fake.test.", "A")) == ["192.0.2.3"]
    # The chain's least TTL: www2's 100.
    assert 95 <= rrset.ttl <= 100
    query(srv, "cn.aname.test.")
    assert fake.count("alias.fake.test.", "A") == 2


def test_forward_nxdomain_target_is_nodata(make_server, fake):
    srv = start_fwd(make_server, fake)
    assert upstream(fake, "nothere.fake.test.", "A").rcode() == dns.rcode.NXDOMAIN
    for tcp in (False, True):
        assert_nodata_at(query(srv, "nx.aname.test.", tcp=tcp), "aname.test.", 300)
    # The negative answer is cached too.
    assert fake.count("nothere.fake.test.", "A") == 2


def test_forward_local_target_needs_no_upstream(make_server, fake):
    srv = start_fwd(make_server, fake)
    r = query(srv, "local.aname.test.")
    assert addrs(r) == ["192.0.2.80", "192.0.2.81"] and r.flags & dns.flags.AA
    assert fake.count() == 0


def test_forward_apex_records_untouched(make_server, fake):
    srv = start_fwd(make_server, fake)
    for rdtype in ("SOA", "NS", "MX"):
        r = query(srv, "aname.test.", rdtype)
        assert r.flags & dns.flags.AA and only_rrset(r).rdtype == dns.rdatatype.from_text(rdtype)
    r = query(srv, "aname.test.", ANAME)
    assert [rd.data for rd in only_rrset(r)] == [dns.name.from_text("www.fake.test.").to_wire()]
    assert fake.count() == 0


def test_forward_silent_upstream_is_servfail(make_server, fake):
    srv = start_fwd(make_server, fake)
    fake.behave("dead.fake.test.", drop=True)
    r = query(srv, "dead.aname.test.")
    assert r.rcode() == dns.rcode.SERVFAIL, r.to_text()
    assert ede_codes(r) and ede_codes(r)[0] in (22, 23), r.to_text()
    # The server goes on answering.
    assert addrs(query(srv, "aname.test.")) == ["192.0.2.1", "192.0.2.2"]


# ---- recursive mode: the target through the iterator and the NSD tree ------------------------

REC_ANAME = """$ORIGIN aname.test.
$TTL 3600
@      3600 IN SOA ns.aname.test. hostmaster.aname.test. 1 7200 3600 1209600 300
@           NS    ns
@     86400 ANAME www.example.test.
ns          A     192.0.2.53
chain       ANAME chain.alias.test.
nx          ANAME nothere.example.test.
"""


@pytest.fixture(scope="module")
def hier():
    h = hierarchy.Hierarchy()
    yield h
    h.stop()


def start_rec(make_server, hier):
    extra = "[recursion]\nmode = recursive\nroot-hints = %s\n" % hier.hints
    return make_server(zones={"aname.test": REC_ANAME}, extra=extra, ipv6=False)


def nsd_answer(hier, name, rdtype, label):
    q = dns.message.make_query(name, rdtype, want_dnssec=False)
    q.flags &= ~dns.flags.RD
    return dns.query.udp(q, hier.addr(label), port=53, timeout=3)


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_recursive_target_resolved_then_cached(make_server, hier, tcp):
    srv = start_rec(make_server, hier)
    r = query(srv, "aname.test.", tcp=tcp)
    assert r.rcode() == dns.rcode.NOERROR, r.to_text()
    assert r.flags & dns.flags.AA
    rrset = only_rrset(r)
    # min(ANAME 86400, target 3600)
    assert rrset.name == dns.name.from_text("aname.test.") and 3590 <= rrset.ttl <= 3600
    want = addrs(nsd_answer(hier, "www.example.test.", "A", "example"))
    assert addrs(r) == want == ["192.0.2.80"]
    m = hier.mark()
    again = wait_for(lambda: (lambda x: x if only_rrset(x).ttl < rrset.ttl else None)(
        query(srv, "aname.test.", tcp=not tcp)), timeout=WAIT_LONG,
        what="the TTL counting down", step=0.2)
    assert addrs(again) == want and only_rrset(again).ttl < rrset.ttl
    assert not hier.queries(m), hier.queries(m)


def test_recursive_cname_chain_across_zones(make_server, hier):
    srv = start_rec(make_server, hier)
    r = query(srv, "chain.aname.test.")
    rrset = only_rrset(r)
    assert rrset.name == dns.name.from_text("chain.aname.test.")
    assert rrset.rdtype == dns.rdatatype.A and r.flags & dns.flags.AA
    # chain.alias.test -> c2.glueless.test -> mail.example.test
    assert addrs(r) == addrs(nsd_answer(hier, "mail.example.test.", "A", "example")) \
        == ["192.0.2.25"]


def test_recursive_nxdomain_and_nodata_targets(make_server, hier):
    srv = start_rec(make_server, hier)
    assert_nodata_at(query(srv, "nx.aname.test."), "aname.test.", 300)
    # www.example.test has no AAAA: NODATA at the apex too.
    assert_nodata_at(query(srv, "aname.test.", "AAAA"), "aname.test.", 300)
