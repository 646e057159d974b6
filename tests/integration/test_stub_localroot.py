# SPDX-License-Identifier: MIT
"""Stub zones and a local root zone (issue 5, points 4 and 5) against the NSD tree of hierarchy.py.

Stub zones: stubbed.test is NOT delegated from the test. TLD of the tree (which answers NXDOMAIN
for it), so only the stub zone's NS set, fetched from its primaries, makes it resolvable.  Its
servers are extra NSDs of the tree at 127.R.1x.y, logged through dnstap like the others.

Local root: tdnsd serves a copy of the tree's root zone as [zone .]; while it is fresh the root
servers of the tree must receive no query at all, once its SOA expire has passed since it was
loaded they are asked again, and clients without recursion get the zone's own referrals.
Needs root (port 53), nsd."""
import re
import subprocess
import time

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

import hierarchy
from helpers import WAIT_LONG, rrsets, wait_for

QUERY_TIMEOUT = 15.0
STUB = "stubbed.test."


@pytest.fixture(scope="module")
def hier():
    h = hierarchy.Hierarchy()
    yield h
    h.stop()


def rquery(server, name, rdtype="A", rd=True):
    q = dns.message.make_query(name, rdtype, use_edns=0, payload=1232)
    if not rd:
        q.flags &= ~dns.flags.RD
    return dns.query.udp(q, "127.0.0.1", port=server.port, timeout=QUERY_TIMEOUT)


def recursive_config(hier, extra=""):
    return "[recursion]\nmode = recursive\nroot-hints = %s\n%s" % (hier.hints, extra)


def stub_zone_text(hier, x, ns_label, serial, timers, ns_y=1):
    """stubbed.test served at 127.R.x.*: NS ns_label at 127.R.x.ns_y, and a few names."""
    refresh, retry, expire = timers
    return ("%s 3600 IN SOA ns1.%s hostmaster.%s %d %d %d %d 300\n"
            "%s 3600 IN NS %s.%s\n"
            "%s.%s 3600 IN A %s\n"
            "www.%s 3600 IN A 192.0.2.111\n" % (STUB, STUB, STUB, serial, refresh, retry, expire,
                                                STUB, ns_label, STUB, ns_label, STUB,
                                                hier.a(x, ns_y), STUB) +
            "".join("n%d.%s 3600 IN A 192.0.2.%d\n" % (i, STUB, 120 + i) for i in range(10)))


def stub_section(primaries):
    return "[zone %s]\ntype = stub\nprimaries = %s\n" % (STUB, primaries)


def wait_log(server, pattern, count=1, timeout=20.0):
    """Waits until the tdnsd log has count lines matching pattern; returns them."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [l for l in server.log().splitlines() if re.search(pattern, l)]
        if len(lines) >= count:
            return lines
        if time.monotonic() > deadline:
            pytest.fail("no %d log lines like %r in:\n%s" % (count, pattern, server.log()),
                        pytrace=False)
        time.sleep(0.1)


def names_asked(queries, server=None):
    return [(q.qname, dns.rdatatype.to_text(q.qtype)) for q in queries
            if server is None or q.server == server]


@pytest.fixture
def extra_nsds(hier):
    """add(label, x, y, zones) starts an NSD for one test; all are stopped afterwards."""
    labels = []

    def add(label, x, y, zones):
        labels.append(label)
        return hier.add_nsd(label, hier.a(x, y), zones)

    yield add
    for label in labels:
        hier.remove_nsd(label)


# ---- stub zones ------------------------------------------------------------------------------

def test_stub_zone_not_delegated_by_its_parent_is_resolved_through_its_primaries(
        hier, make_server, extra_nsds):
    extra_nsds("stub1", 10, 1,
               {STUB: stub_zone_text(hier, 10, "ns1", 1, (3600, 600, 86400))})
    mark = hier.mark()
    s = make_server(extra=recursive_config(hier, stub_section(hier.a(10, 1))), ipv6=False)
    wait_log(s, r"stub zone stubbed\.test\.: 1 name server \(1 address\) from %s; "
                r"refresh in 3600 s" % re.escape(hier.a(10, 1)))
    # The primary was asked for the zone's SOA and NS set, and for the glue of ns1.
    asked = names_asked(hier.queries(mark), "stub1")
    for want in [(STUB, "SOA"), (STUB, "NS"), ("ns1." + STUB, "A")]:
        assert want in asked, asked
    mark = hier.mark()
    r = rquery(s, "www." + STUB)
    assert r.rcode() == dns.rcode.NOERROR, r.to_text()
    assert rrsets(r.answer) == {("www." + STUB, "A"): {"192.0.2.111"}}, r.to_text()
    assert r.flags & dns.flags.RA and not r.flags & dns.flags.AA, r.to_text()
    got = hier.queries(mark)
    # Straight to the stub's server: neither the root nor the TLD heard of the name.
    assert ("www." + STUB, "A") in names_asked(got, "stub1"), got
    assert not [q for q in got if q.server in ("root", "root2", "tld")], got
    # Names elsewhere still resolve from the root; the stub is not authoritative data.
    r = rquery(s, "www.example.test.")
    assert rrsets(r.answer) == {("www.example.test.", "A"): {"192.0.2.80"}}, r.to_text()
    # A stub zone is listed with its type, and is no zone file of ours.
    out = s.cli("zone", "list")
    assert out.returncode == 0, out.stderr
    line = [l for l in out.stdout.splitlines() if "stubbed.test" in l]
    assert line and "stub" in line[0], out.stdout


def test_without_the_stub_zone_the_name_does_not_exist(hier, make_server):
    # The control experiment: the tree itself does not delegate stubbed.test.
    s = make_server(extra=recursive_config(hier), ipv6=False)
    r = rquery(s, "www." + STUB)
    assert r.rcode() == dns.rcode.NXDOMAIN, r.to_text()


def assert_answered_by(hier, s, name, address, asked, not_asked):
    """s answers name A with address, having asked the NSD asked and not the NSD not_asked."""
    mark = hier.mark()
    r = rquery(s, name)
    assert rrsets(r.answer) == {(name, "A"): {address}}, r.to_text()
    got = hier.queries(mark)
    assert (name, "A") in names_asked(got, asked), got
    assert (name, "A") not in names_asked(got, not_asked), got


def test_stub_zone_is_refreshed_on_the_soa_refresh_timer(hier, make_server, extra_nsds):
    # Two servers of the zone: the primary (ns1), and ns2 which the NS set names later.
    prim = extra_nsds("stub2p", 11, 1,
                      {STUB: stub_zone_text(hier, 11, "ns1", 1, (2, 1, 600))})
    extra_nsds("stub2s", 11, 2, {STUB: stub_zone_text(hier, 11, "ns2", 2, (2, 1, 600), ns_y=2)})
    s = make_server(extra=recursive_config(hier, stub_section(hier.a(11, 1))), ipv6=False)
    wait_log(s, r"stub zone stubbed\.test\.: 1 name server ")
    assert_answered_by(hier, s, "n1." + STUB, "192.0.2.121", "stub2p", "stub2s")
    # The primary's NS set now names ns2 only (serial 2).
    prim.reload({STUB: stub_zone_text(hier, 11, "ns2", 2, (2, 1, 600), ns_y=2)})
    deadline = time.monotonic() + 10
    while True:
        q = dns.message.make_query(STUB, "SOA")
        soa = dns.query.udp(q, hier.a(11, 1), port=53, timeout=2)
        if soa.answer and soa.answer[0][0].serial == 2:
            break
        assert time.monotonic() < deadline, "nsd did not reload:\n" + prim.log()
        time.sleep(0.1)
    # Two refreshes later (every 2 s) tdnsd certainly holds the new set.
    before = len(wait_log(s, r"stub zone stubbed\.test\.: 1 name server "))
    wait_log(s, r"stub zone stubbed\.test\.: 1 name server ", count=before + 2, timeout=15)
    assert_answered_by(hier, s, "n2." + STUB, "192.0.2.122", "stub2s", "stub2p")


def test_expired_stub_zone_falls_back_to_iteration_from_the_root(hier, make_server,
                                                                 extra_nsds):
    extra_nsds("stub3", 12, 1, {STUB: stub_zone_text(hier, 12, "ns1", 1, (1, 1, 3))})
    s = make_server(extra=recursive_config(hier, stub_section(hier.a(12, 1))), ipv6=False)
    wait_log(s, r"stub zone stubbed\.test\.: 1 name server ")
    r = rquery(s, "www." + STUB)
    assert rrsets(r.answer) == {("www." + STUB, "A"): {"192.0.2.111"}}, r.to_text()
    # The primary goes away: refreshes fail, and 3 s (expire) after the last success the stub
    # is no longer used.
    hier.remove_nsd("stub3")
    wait_log(s, r"stub zone stubbed\.test\.: no primary answered; expired", timeout=20)
    mark = hier.mark()
    r = rquery(s, "n3." + STUB)
    assert r.rcode() == dns.rcode.NXDOMAIN, r.to_text()
    got = hier.queries(mark)
    assert [q for q in got if q.server == "tld"], got


def test_stub_zone_added_by_a_reload_is_fetched_and_used(hier, make_server, extra_nsds):
    extra_nsds("stub4", 13, 1, {STUB: stub_zone_text(hier, 13, "ns1", 1, (3600, 600, 86400))})
    s = make_server(extra=recursive_config(hier), ipv6=False)
    assert rquery(s, "www." + STUB).rcode() == dns.rcode.NXDOMAIN
    with open(s.conf, "a") as f:
        f.write("\n" + stub_section(hier.a(13, 1)))
    s.reload()
    wait_log(s, r"stub zone stubbed\.test\.: 1 name server ")
    # The NXDOMAIN cached from the tree is for www: ask another name of the zone.
    r = rquery(s, "n4." + STUB)
    assert rrsets(r.answer) == {("n4." + STUB, "A"): {"192.0.2.124"}}, r.to_text()


def test_config_check_accepts_a_stub_zone_without_a_file(make_server):
    s = make_server(start=False, extra=stub_section("192.0.2.53, 2001:db8::53"))
    out = subprocess.run([s.binary, "-t", "-c", s.conf], capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "configuration OK" in out.stdout


# ---- local root zone ---------------------------------------------------------------------------

def root_zone_text(hier, expire):
    """The tree's root zone (hierarchy.build_zones) with the SOA expire given."""
    text = hierarchy.build_zones(hier.a)["root"][1]["."]
    lines = text.splitlines()
    soa = lines[0].split()
    assert soa[3] == "SOA"
    soa[9] = str(expire)
    return "\n".join([" ".join(soa)] + lines[1:]) + "\n"


def root_servers_asked(got):
    return [q for q in got if q.server in ("root", "root2")]


def test_local_root_zone_replaces_the_root_servers(hier, make_server):
    s = make_server(zones={".": root_zone_text(hier, 86400)},
                    extra=recursive_config(hier), ipv6=False)
    mark = hier.mark()
    r = rquery(s, "www.example.test.")
    assert rrsets(r.answer) == {("www.example.test.", "A"): {"192.0.2.80"}}, r.to_text()
    assert r.flags & dns.flags.RA and not r.flags & dns.flags.AA, r.to_text()
    r = rquery(s, "www.alias.test.")
    assert ("www.example.test.", "A") in rrsets(r.answer), r.to_text()
    # A name the root zone denies: NXDOMAIN from the local copy.
    r = rquery(s, "nothere.")
    assert r.rcode() == dns.rcode.NXDOMAIN, r.to_text()
    assert not r.flags & dns.flags.AA, r.to_text()
    got = hier.queries(mark)
    assert not root_servers_asked(got), got
    # The TLD and below were asked as usual.
    assert [q for q in got if q.server == "tld"], got


def test_local_root_zone_answers_clients_without_recursion_authoritatively(hier, make_server):
    s = make_server(zones={".": root_zone_text(hier, 86400)},
                    extra=recursive_config(hier), ipv6=False)
    mark = hier.mark()
    r = rquery(s, "www.example.test.", rd=False)
    # The root zone's own referral to test. (RFC 1034 §4.3.2): no data, no AA, NS + glue.
    assert r.rcode() == dns.rcode.NOERROR and not r.answer, r.to_text()
    assert not r.flags & dns.flags.AA, r.to_text()
    assert rrsets(r.authority) == {("test.", "NS"): {"ns1.nic.test."}}, r.to_text()
    assert ("ns1.nic.test.", "A") in rrsets(r.additional), r.to_text()
    r = rquery(s, ".", "SOA", rd=False)
    assert r.flags & dns.flags.AA and r.answer, r.to_text()
    # RD set, but outside [recursion] allow: the same referral, not REFUSED.
    s2 = make_server(zones={".": root_zone_text(hier, 86400)},
                     extra=recursive_config(hier, "allow = 192.0.2.0/24\n"), ipv6=False)
    r = rquery(s2, "www.example.test.")
    assert r.rcode() == dns.rcode.NOERROR and not r.answer, r.to_text()
    assert rrsets(r.authority) == {("test.", "NS"): {"ns1.nic.test."}}, r.to_text()
    assert not r.flags & dns.flags.RA, r.to_text()
    got = hier.queries(mark)
    assert not got, got


def test_expired_local_root_zone_falls_back_to_the_root_hints(hier, make_server):
    s = make_server(zones={".": root_zone_text(hier, 1)},
                    extra=recursive_config(hier), ipv6=False)
    # Loaded more than its SOA expire (1 s) ago: no longer preferred.  Names in TLDs that do
    # not exist are answered from the local root zone while it is fresh, and asked at the
    # root servers once it has expired: one new TLD each time, so no cache answers them.
    tlds = iter(range(1000))

    def root_asked():
        m = hier.mark()
        tld = "expired%d." % next(tlds)
        rquery(s, "www." + tld)
        return [q for q in hier.queries(m) if q.server == "root" and q.qname.endswith(tld)]

    wait_for(root_asked, timeout=WAIT_LONG, what="the root servers asked", step=0.2)
    mark = hier.mark()
    r = rquery(s, "www.example.test.")
    assert rrsets(r.answer) == {("www.example.test.", "A"): {"192.0.2.80"}}, r.to_text()
    got = hier.queries(mark)
    assert [q for q in got if q.server == "root"], got
