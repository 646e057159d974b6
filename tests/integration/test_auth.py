# SPDX-License-Identifier: MIT
"""Authoritative answers of tdnsd, checked with dnspython and with dig and kdig as well."""
import re
import shutil
import socket
import subprocess

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import pytest

from conftest import DS_DIGEST, LONG_TARGET, RFC4592

A, AAAA, NS, MX, TXT, SOA, CNAME, DNAME, SRV, DS, ANY = (
    dns.rdatatype.A, dns.rdatatype.AAAA, dns.rdatatype.NS, dns.rdatatype.MX, dns.rdatatype.TXT,
    dns.rdatatype.SOA, dns.rdatatype.CNAME, dns.rdatatype.DNAME, dns.rdatatype.SRV,
    dns.rdatatype.DS, dns.rdatatype.ANY)
NOERROR, NXDOMAIN, REFUSED, FORMERR, NOTIMP = (
    dns.rcode.NOERROR, dns.rcode.NXDOMAIN, dns.rcode.REFUSED, dns.rcode.FORMERR, dns.rcode.NOTIMP)


def n(text):
    return dns.name.from_text(text)


def aa(r):
    return bool(r.flags & dns.flags.AA)


def rrset(section, name, rdtype):
    """The rrset of that owner and type in a section, or None."""
    for rs in section:
        if rs.name == n(name) and rs.rdtype == rdtype:
            return rs
    return None


def texts(rs):
    return sorted(rd.to_text() for rd in rs)


def assert_negative(r, rcode, zone, soa_ttl):
    """NODATA/NXDOMAIN: AA, no answer, the SOA alone in authority, TTL per RFC 2308 §3."""
    assert r.rcode() == rcode, dns.rcode.to_text(r.rcode())
    assert aa(r)
    assert r.answer == []
    soa = rrset(r.authority, zone, SOA)
    assert soa is not None, r.authority
    assert soa.ttl == soa_ttl
    assert [rs.rdtype for rs in r.authority] == [SOA]


# ---------------------------------------------------------------- positive answers

def test_a_record_is_authoritative_with_ttl_and_no_authority_noise(server):
    r = server.query("web.example.com", A)
    assert r.rcode() == NOERROR
    assert aa(r)
    assert r.flags & dns.flags.QR
    rs = rrset(r.answer, "web.example.com", A)
    assert texts(rs) == ["192.0.2.80"]
    assert rs.ttl == 3600
    assert len(r.answer) == 1


def test_response_echoes_id_question_and_rd_flag(server):
    q = dns.message.make_query("example.com", "SOA")
    q.id = 0x4242
    r = server.send(q)
    assert r.id == 0x4242
    assert r.question[0].name == n("example.com")
    assert r.question[0].rdtype == SOA
    assert r.flags & dns.flags.RD
    assert r.opcode() == dns.opcode.QUERY
    r2 = server.query("example.com", SOA, rd=False)
    assert not r2.flags & dns.flags.RD


def test_apex_soa_keeps_its_own_ttl_in_a_positive_answer(server):
    r = server.query("example.com", SOA)
    assert aa(r) and r.rcode() == NOERROR
    soa = rrset(r.answer, "example.com", SOA)
    assert soa.ttl == 3600
    assert soa[0].serial == 2024010101


def test_query_case_is_preserved_in_question_and_answer_owner(server):
    r = server.query("ExAmPle.CoM", A)
    assert r.rcode() == NOERROR and aa(r)
    assert r.question[0].name.to_text() == "ExAmPle.CoM."
    assert [rs.name.to_text() for rs in r.answer] == ["ExAmPle.CoM."]
    assert texts(r.answer[0]) == ["192.0.2.1"]


def test_wildcard_answer_owner_keeps_query_case(server):
    r = server.query("FoO.W.eXaMpLe.com", A)
    assert r.rcode() == NOERROR and aa(r)
    assert r.question[0].name.to_text() == "FoO.W.eXaMpLe.com."
    assert r.answer[0].name.to_text() == "FoO.W.eXaMpLe.com."


def test_edns_query_gets_opt_and_plain_query_gets_none(server):
    r = server.query("example.com", SOA, edns=0, payload=1232)
    assert r.edns == 0
    r = server.query("example.com", SOA, edns=-1)
    assert r.edns == -1


# ---------------------------------------------------------------- negative answers

def test_nxdomain_has_soa_with_minimum_ttl(server):
    r = server.query("nope.example.com", A)
    # SOA TTL 3600, MINIMUM 300: min is 300 (RFC 2308 §3).
    assert_negative(r, NXDOMAIN, "example.com", 300)


def test_nodata_has_soa_with_minimum_ttl(server):
    r = server.query("web.example.com", AAAA)
    assert_negative(r, NOERROR, "example.com", 300)


def test_negative_soa_ttl_is_soa_ttl_when_lower_than_minimum(server):
    # example.net: SOA TTL 120, MINIMUM 600 -> 120.
    assert_negative(server.query("nope.example.net", A), NXDOMAIN, "example.net", 120)
    assert_negative(server.query("www.example.net", MX), NOERROR, "example.net", 120)


def test_name_below_existing_name_is_nxdomain(server):
    assert_negative(server.query("deeper.web.example.com", A), NXDOMAIN, "example.com", 300)


def test_empty_non_terminal_is_nodata_not_nxdomain(server):
    # _tcp.example.com exists only as a parent of _sip._tcp (RFC 8020 / RFC 4592 §2.2.2).
    assert_negative(server.query("_tcp.example.com", A), NOERROR, "example.com", 300)


def test_name_outside_every_zone_is_refused(server):
    for name in ("example.org", "com", "."):
        r = server.query(name, A)
        assert r.rcode() == REFUSED, name
        assert not aa(r)
        assert r.answer == []
        # RFC 8914 §5.20, as Knot and NSD say it.
        r = server.query(name, A, edns=0)
        assert [o.code for o in r.options if o.otype == dns.edns.EDE] == \
            [dns.edns.EDECode.NOT_AUTHORITATIVE], name


# ---------------------------------------------------------------- CNAME and DNAME

def test_cname_is_followed_inside_the_zone(server):
    r = server.query("www.example.com", A)
    assert r.rcode() == NOERROR and aa(r)
    cn = rrset(r.answer, "www.example.com", CNAME)
    assert cn.ttl == 600 and texts(cn) == ["web.example.com."]
    assert texts(rrset(r.answer, "web.example.com", A)) == ["192.0.2.80"]
    assert r.answer[0].rdtype == CNAME  # the chain comes in order


def test_cname_query_for_cname_type_returns_only_the_cname(server):
    r = server.query("www.example.com", CNAME)
    assert r.rcode() == NOERROR and aa(r)
    assert len(r.answer) == 1 and r.answer[0].rdtype == CNAME


def test_cname_chain_is_followed_to_the_end_in_order(server):
    r = server.query("chain1.example.com", A)
    assert r.rcode() == NOERROR and aa(r)
    assert [(rs.name.to_text(), rs.rdtype) for rs in r.answer] == [
        ("chain1.example.com.", CNAME), ("chain2.example.com.", CNAME),
        ("chain3.example.com.", A)]


def test_cname_chain_crosses_into_another_served_zone(server):
    r = server.query("out.example.com", A)
    assert r.rcode() == NOERROR and aa(r)
    assert texts(rrset(r.answer, "out.example.com", CNAME)) == ["www.example.net."]
    assert texts(rrset(r.answer, "www.example.net", A)) == ["198.51.100.80"]


def test_cname_to_name_outside_our_zones_stops_with_the_cname(server):
    r = server.query("ext.example.com", A)
    assert r.rcode() == NOERROR and aa(r)
    assert len(r.answer) == 1
    assert texts(r.answer[0]) == ["target.elsewhere.test."]


def test_cname_to_missing_name_gives_nxdomain_with_the_cname(server):
    # RFC 6604 §3: the rcode is that of the last name in the chain.
    r = server.query("dangling.example.com", A)
    assert r.rcode() == NXDOMAIN and aa(r)
    assert texts(rrset(r.answer, "dangling.example.com", CNAME)) == ["nothere.example.com."]
    assert rrset(r.authority, "example.com", SOA).ttl == 300


def test_cname_loop_is_answered_and_bounded(server):
    r = server.query("loop1.example.com", A)
    assert r.rcode() == NOERROR
    assert rrset(r.answer, "loop1.example.com", CNAME) is not None
    assert rrset(r.answer, "loop2.example.com", CNAME) is not None
    assert len(r.answer) <= 20


def test_dname_synthesises_a_cname_and_follows_it(server):
    r = server.query("www.dn.example.com", A)
    assert r.rcode() == NOERROR and aa(r)
    dn = rrset(r.answer, "dn.example.com", DNAME)
    assert texts(dn) == ["example.net."]
    cn = rrset(r.answer, "www.dn.example.com", CNAME)
    # RFC 6672 §3.1: the synthesised CNAME gets the DNAME's TTL.
    assert texts(cn) == ["www.example.net."] and cn.ttl == 900
    assert texts(rrset(r.answer, "www.example.net", A)) == ["198.51.100.80"]
    assert [rs.rdtype for rs in r.answer] == [DNAME, CNAME, A]


def test_dname_owner_itself_is_not_redirected(server):
    r = server.query("dn.example.com", DNAME)
    assert r.rcode() == NOERROR and aa(r)
    assert texts(r.answer[0]) == ["example.net."]
    assert_negative(server.query("dn.example.com", A), NOERROR, "example.com", 300)


def test_dname_to_missing_target_gives_nxdomain(server):
    r = server.query("nothing.dn.example.com", A)
    assert r.rcode() == NXDOMAIN
    assert rrset(r.answer, "dn.example.com", DNAME) is not None
    assert texts(rrset(r.answer, "nothing.dn.example.com", CNAME)) == ["nothing.example.net."]


def test_dname_substitution_overflow_is_yxdomain(server):
    # RFC 6672 §2.2: the substituted name would exceed 255 octets.
    qname = "%s.%s.long.example.com" % ("p" * 63, "q" * 63)
    r = server.query(qname, A)
    assert r.rcode() == dns.rcode.YXDOMAIN
    assert texts(rrset(r.answer, "long.example.com", DNAME)) == [LONG_TARGET]


# ---------------------------------------------------------------- wildcards

def test_wildcard_synthesises_owner_name(server):
    r = server.query("anything.w.example.com", A)
    assert r.rcode() == NOERROR and aa(r)
    rs = rrset(r.answer, "anything.w.example.com", A)
    assert texts(rs) == ["192.0.2.99"] and rs.ttl == 3600


def test_wildcard_matches_several_labels_below_the_closest_encloser(server):
    r = server.query("a.b.c.w.example.com", TXT)
    assert r.rcode() == NOERROR and aa(r)
    assert texts(rrset(r.answer, "a.b.c.w.example.com", TXT)) == ['"wild"']


def test_wildcard_with_other_type_is_nodata(server):
    assert_negative(server.query("anything.w.example.com", MX), NOERROR, "example.com", 300)


def test_empty_non_terminal_blocks_the_wildcard(server):
    # y.w exists as an empty non-terminal (x.y.w): NODATA, not the wildcard (RFC 4592 §2.2.2).
    assert_negative(server.query("y.w.example.com", A), NOERROR, "example.com", 300)
    # Below it the closest encloser is y.w, which has no wildcard child: NXDOMAIN.
    assert_negative(server.query("z.y.w.example.com", A), NXDOMAIN, "example.com", 300)


def test_existing_name_under_wildcard_parent_is_answered_itself(server):
    r = server.query("x.y.w.example.com", A)
    assert texts(r.answer[0]) == ["192.0.2.98"]


def test_wildcard_cname_is_synthesised_and_followed(server):
    r = server.query("foo.wc.example.com", A)
    assert r.rcode() == NOERROR and aa(r)
    assert texts(rrset(r.answer, "foo.wc.example.com", CNAME)) == ["web.example.com."]
    assert texts(rrset(r.answer, "web.example.com", A)) == ["192.0.2.80"]


@pytest.fixture
def rfc4592(make_server):
    return make_server(zones={"example": RFC4592})


@pytest.mark.parametrize("qname,qtype,answer", [
    ("host3.example.", MX, ["10 host1.example."]),
    ("foo.bar.example.", TXT, ['"this is a wildcard"']),
])
def test_rfc4592_wildcard_synthesis(rfc4592, qname, qtype, answer):
    # RFC 4592 §2.2.1: these are synthesised from *.example.
    r = rfc4592.query(qname, qtype)
    assert r.rcode() == NOERROR and aa(r)
    rs = rrset(r.answer, qname, qtype)
    assert rs is not None and texts(rs) == answer


@pytest.mark.parametrize("qname,qtype,rcode", [
    ("host3.example.", A, NOERROR),             # wildcard matches, no A: no error, no data
    ("host1.example.", MX, NOERROR),            # host1 exists
    ("sub.*.example.", MX, NOERROR),            # exists; not a wildcard
    ("_telnet._tcp.host1.example.", SRV, NXDOMAIN),  # closest encloser _tcp.host1 has no *
    ("ghost.*.example.", MX, NXDOMAIN),         # closest encloser *.example, no *.*.example
])
def test_rfc4592_names_that_are_not_synthesised(rfc4592, qname, qtype, rcode):
    assert_negative(rfc4592.query(qname, qtype), rcode, "example", 300)


def test_rfc4592_wildcard_owner_queried_literally(rfc4592):
    r = rfc4592.query("*.example.", TXT)
    assert r.rcode() == NOERROR and aa(r)
    assert texts(rrset(r.answer, "*.example.", TXT)) == ['"this is a wildcard"']


def test_rfc4592_delegation_below_is_a_referral(rfc4592):
    r = rfc4592.query("host.subdel.example.", A)
    assert r.rcode() == NOERROR and not aa(r)
    assert r.answer == []
    ns = rrset(r.authority, "subdel.example.", NS)
    assert texts(ns) == ["ns.example.com.", "ns.example.net."]


# ---------------------------------------------------------------- delegations

def test_referral_has_ns_in_authority_glue_in_additional_and_no_aa(server):
    r = server.query("host.sub.example.com", A)
    assert r.rcode() == NOERROR
    assert not aa(r)
    assert r.answer == []
    assert texts(rrset(r.authority, "sub.example.com", NS)) == ["ns.other.test.",
                                                                "ns1.sub.example.com."]
    assert rrset(r.authority, "example.com", SOA) is None
    assert texts(rrset(r.additional, "ns1.sub.example.com", A)) == ["192.0.2.54"]
    assert texts(rrset(r.additional, "ns1.sub.example.com", AAAA)) == ["2001:db8::54"]


def test_query_for_the_cut_itself_is_a_referral(server):
    for qtype in (NS, A):
        r = server.query("sub.example.com", qtype)
        assert r.rcode() == NOERROR and not aa(r), qtype
        assert r.answer == []
        assert rrset(r.authority, "sub.example.com", NS) is not None


def test_glue_name_is_not_answered_authoritatively(server):
    r = server.query("ns1.sub.example.com", A)
    assert not aa(r)
    assert r.answer == []
    assert rrset(r.authority, "sub.example.com", NS) is not None


def test_ds_at_a_cut_is_answered_by_the_parent(server):
    # RFC 4035 §3.1.4.1: DS lives in the parent side of the cut.
    r = server.query("sub.example.com", DS)
    assert r.rcode() == NOERROR and aa(r)
    ds = rrset(r.answer, "sub.example.com", DS)
    assert texts(ds) == ["12345 13 2 " + DS_DIGEST.lower()]


def test_ds_for_a_name_without_cut_is_nodata(server):
    assert_negative(server.query("web.example.com", DS), NOERROR, "example.com", 300)


# ---------------------------------------------------------------- additional section processing

def test_mx_answer_has_target_addresses_in_additional(server):
    r = server.query("example.com", MX)
    assert r.rcode() == NOERROR and aa(r)
    assert texts(rrset(r.answer, "example.com", MX)) == ["10 mail.example.com.",
                                                         "20 mail2.example.net."]
    assert texts(rrset(r.additional, "mail.example.com", A)) == ["192.0.2.25"]
    assert texts(rrset(r.additional, "mail.example.com", AAAA)) == ["2001:db8::25"]


def test_ns_answer_has_in_zone_addresses_in_additional(server):
    r = server.query("example.com", NS)
    assert r.rcode() == NOERROR and aa(r)
    assert texts(rrset(r.answer, "example.com", NS)) == ["ns1.example.com.", "ns2.example.net."]
    assert texts(rrset(r.additional, "ns1.example.com", A)) == ["192.0.2.53"]
    assert texts(rrset(r.additional, "ns1.example.com", AAAA)) == ["2001:db8::53"]


def test_srv_answer_has_target_address_in_additional(server):
    r = server.query("_sip._tcp.example.com", SRV)
    assert r.rcode() == NOERROR and aa(r)
    assert texts(r.answer[0]) == ["10 5 5060 sipserver.example.com."]
    assert texts(rrset(r.additional, "sipserver.example.com", A)) == ["192.0.2.60"]


def test_additional_records_are_not_duplicated_in_answer(server):
    r = server.query("mail.example.com", A)
    assert len(r.answer) == 1
    assert rrset(r.additional, "mail.example.com", A) is None


# ---------------------------------------------------------------- ANY, opcodes, EDNS versions

def test_any_returns_one_rrset_not_everything(server):
    # RFC 8482 §4: answer with a subset (one RRset) or a synthesised HINFO.
    r = server.query("example.com", ANY)
    assert r.rcode() == NOERROR and aa(r)
    assert len(r.answer) == 1
    rs = r.answer[0]
    assert rs.name == n("example.com")
    if rs.rdtype != dns.rdatatype.HINFO:
        full = server.query("example.com", rs.rdtype)
        assert texts(full.answer[0]) == texts(rs)


def test_any_for_missing_name_is_nxdomain(server):
    assert_negative(server.query("nope.example.com", ANY), NXDOMAIN, "example.com", 300)


@pytest.mark.parametrize("opcode", [2, 3, 15])   # STATUS and two unassigned opcodes
def test_unknown_opcode_is_notimp(server, opcode):
    # dnspython knows only assigned opcodes, so the header is patched and read as raw bytes.
    q = dns.message.make_query("example.com", "SOA", use_edns=False)
    wire = bytearray(q.to_wire())
    wire[2] = (wire[2] & 0x87) | (opcode << 3)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(3)
        s.sendto(bytes(wire), (server.addr, server.port))
        data = s.recv(65535)
    assert data[:2] == wire[:2]                  # ID
    assert data[2] & 0x80                        # QR
    assert (data[2] >> 3) & 0xF == opcode        # opcode echoed (RFC 1035 §4.1.1)
    assert data[3] & 0xF == NOTIMP
    assert data[6:8] == b"\x00\x00"              # no answer


def test_edns_version_1_is_badvers(server):
    # RFC 6891 §6.1.3: answer BADVERS with an OPT of the highest version we support (0).
    r = server.query("example.com", SOA, edns=1)
    assert r.rcode() == dns.rcode.BADVERS
    assert r.edns == 0
    assert r.answer == []


def test_query_for_class_other_than_in_is_not_answered_from_in_zones(server):
    q = dns.message.make_query("example.com", "SOA", rdclass=dns.rdataclass.CH)
    r = server.send(q)
    assert r.rcode() in (REFUSED, NOTIMP)
    assert r.answer == []


# ---------------------------------------------------------------- truncation and TCP

def raw_udp(server, q):
    """Sends a query message and returns (raw reply bytes, parsed reply)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(3)
        s.sendto(q.to_wire(), (server.addr, server.port))
        data = s.recv(65535)
    return data, dns.message.from_wire(data)


def test_large_answer_without_edns_is_truncated_to_512(server):
    q = dns.message.make_query("big.example.com", "TXT", use_edns=False)
    data, r = raw_udp(server, q)
    assert r.flags & dns.flags.TC
    assert len(data) <= 512
    assert r.id == q.id
    assert r.question[0].name == n("big.example.com")


def test_large_answer_exceeding_edns_size_is_truncated(server):
    q = dns.message.make_query("big.example.com", "TXT", use_edns=0, payload=1232)
    data, r = raw_udp(server, q)
    assert r.flags & dns.flags.TC
    assert len(data) <= 1232
    assert r.edns == 0


def test_udp_reply_never_exceeds_the_advertised_size(server):
    for size in (512, 600, 1232, 1400, 4096):
        q = dns.message.make_query("big.example.com", "TXT", use_edns=0, payload=size)
        data, r = raw_udp(server, q)
        assert len(data) <= size
        if not r.flags & dns.flags.TC:
            assert len(rrset(r.answer, "big.example.com", TXT)) == 20


def test_mid_answer_fits_with_edns_but_not_without(server):
    r = server.query("mid.example.com", TXT, edns=0, payload=1232)
    assert not r.flags & dns.flags.TC
    assert len(rrset(r.answer, "mid.example.com", TXT)) == 4
    q = dns.message.make_query("mid.example.com", "TXT", use_edns=False)
    data, r = raw_udp(server, q)
    assert r.flags & dns.flags.TC and len(data) <= 512


def test_truncated_answer_is_complete_over_tcp(server):
    r, used_tcp = dns.query.udp_with_fallback(
        dns.message.make_query("big.example.com", "TXT", use_edns=False),
        server.addr, port=server.port, timeout=3)
    assert used_tcp
    assert not r.flags & dns.flags.TC and aa(r)
    rs = rrset(r.answer, "big.example.com", TXT)
    assert len(rs) == 20
    assert all(len(b"".join(rd.strings)) == 200 for rd in rs)


def test_very_large_txt_rrset_over_tcp(server):
    r = server.query("huge.example.com", TXT, tcp=True, timeout=5)
    assert r.rcode() == NOERROR and aa(r) and not r.flags & dns.flags.TC
    rs = rrset(r.answer, "huge.example.com", TXT)
    assert len(rs) == 200
    assert sorted(b"".join(rd.strings)[:3] for rd in rs) == [b"%03d" % i for i in range(200)]


def test_tcp_answers_match_udp_answers(server):
    for name, qtype in (("www.example.com", A), ("nope.example.com", A),
                        ("host.sub.example.com", A), ("example.com", MX)):
        u = server.query(name, qtype)
        t = server.query(name, qtype, tcp=True)
        assert u.rcode() == t.rcode() and u.flags == t.flags
        assert u.answer == t.answer and u.authority == t.authority
        assert u.additional == t.additional


# ---------------------------------------------------------------- independent clients

def run_client(argv):
    exe = shutil.which(argv[0])
    assert exe, "%s is required (knot-dnsutils / bind9-dnsutils)" % argv[0]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stdout + p.stderr
    return p.stdout


def dig(server, *args):
    return run_client(["dig", "@127.0.0.1", "-p", str(server.port), "+norec", "+time=2",
                       "+tries=1", *args])


def kdig(server, *args):
    return run_client(["kdig", "@127.0.0.1", "-p", str(server.port), "+norec", "+time=2",
                       "+retry=0", *args])


def header(out):
    status = re.search(r"status: (\w+)", out).group(1)
    # dig says "flags: qr aa;", kdig "Flags: qr aa;".
    flags = re.search(r"flags: ([a-z ]*);", out, re.I).group(1).split()
    return status, flags


def test_dig_sees_an_authoritative_answer(server):
    out = dig(server, "www.example.com", "A")
    status, flags = header(out)
    assert status == "NOERROR" and "aa" in flags and "qr" in flags
    assert re.search(r"^www\.example\.com\.\s+600\s+IN\s+CNAME\s+web\.example\.com\.$", out, re.M)
    assert re.search(r"^web\.example\.com\.\s+3600\s+IN\s+A\s+192\.0\.2\.80$", out, re.M)


def test_dig_sees_nxdomain_with_soa(server):
    out = dig(server, "nope.example.com", "A")
    status, flags = header(out)
    assert status == "NXDOMAIN" and "aa" in flags
    assert re.search(r"^example\.com\.\s+300\s+IN\s+SOA\s+ns1\.example\.com\.", out, re.M)


def test_dig_sees_a_referral_without_aa(server):
    out = dig(server, "host.sub.example.com", "A")
    status, flags = header(out)
    assert status == "NOERROR" and "aa" not in flags
    assert "ANSWER: 0" in out and "AUTHORITY: 2" in out
    assert re.search(r"^ns1\.sub\.example\.com\.\s+3600\s+IN\s+A\s+192\.0\.2\.54$", out, re.M)


def test_dig_sees_tc_and_retries_over_tcp(server):
    out = dig(server, "+ignore", "+noedns", "big.example.com", "TXT")
    status, flags = header(out)
    assert "tc" in flags
    out = dig(server, "+noedns", "big.example.com", "TXT")
    status, flags = header(out)
    assert "tc" not in flags and "ANSWER: 20," in out


def test_dig_refused_outside_zones(server):
    status, _ = header(dig(server, "example.org", "A"))
    assert status == "REFUSED"


def test_dig_preserves_case(server):
    out = dig(server, "WwW.ExAmple.COM", "A")
    assert re.search(r"^WwW\.ExAmple\.COM\.\s+600\s+IN\s+CNAME", out, re.M)


def test_kdig_udp_and_tcp_agree(server):
    for extra in ([], ["+tcp"]):
        out = kdig(server, *extra, "example.com", "MX")
        status, flags = header(out)
        assert status == "NOERROR" and "aa" in flags
        assert re.search(r"^example\.com\.\s+3600\s+IN\s+MX\s+10 mail\.example\.com\.$", out, re.M)
        assert re.search(r"^mail\.example\.com\.\s+3600\s+IN\s+AAAA\s+2001:db8::25$", out, re.M)


def test_kdig_badvers_for_edns_version_1(server):
    out = kdig(server, "+edns=1", "example.com", "SOA")
    status, _ = header(out)
    assert status == "BADVERS"


def test_kdig_big_txt_over_tcp(server):
    out = kdig(server, "+tcp", "big.example.com", "TXT")
    assert len(re.findall(r"^big\.example\.com\.\s+3600\s+IN\s+TXT", out, re.M)) == 20
