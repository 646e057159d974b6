# SPDX-License-Identifier: MIT
"""Issue 14: conformance points found by outside checks, each checked against Knot or dnspython."""
import os
import shutil
import socket
import subprocess
import time

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.tsig
import dns.edns
import dns.zone
import pytest

from conftest import PortLock
from helpers import answer_summary

SOA = "@ 3600 IN SOA ns hostmaster 1 7200 3600 1209600 300\n@ NS ns\nns A 192.0.2.1\n"

# One record of each type tdnsd reads by name beyond the common ones (issue 14, point 3).
# RFC examples where the RFC has one.
NEW_TYPES = """cert CERT PGP 0 0 AQIDBA==
cert2 CERT 1 12345 8 AQIDBAUG
key KEY 256 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+ (
    KkxLbxILfDLUT0rAK9iUzy1L53eKGQ== )
sig SIG A 13 2 300 20240201000000 20240101000000 12345 example. AQIDBA==
apl APL 1:192.168.32.0/21 !1:192.168.38.0/28 2:2001:db8::/32 1:0.0.0.0/0
ipk0 IPSECKEY 10 0 2 . AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==
ipk1 IPSECKEY 10 1 2 192.0.2.38 AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==
ipk2 IPSECKEY 10 2 2 2001:db8:0:8002::2000:1 AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==
ipk3 IPSECKEY 10 3 2 mygateway.example.com. AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==
dhcid DHCID AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=
hip HIP ( 2 200100107B1A74DF365639CC39F1D578 %s
    rvs1.example.com. rvs2.example.com. )
eui48 EUI48 00-00-5e-00-53-2a
eui64 EUI64 00-00-5e-ef-10-00-00-2a
nid NID 10 0014:4fff:ff20:ee64
l32 L32 10 10.1.2.0
l64 L64 10 2001:0DB8:1140:1000
lp LP 10 l64-subnet1.example.com.
csync CSYNC 66 3 A NS AAAA
smimea SMIMEA 3 0 0 308203
dlv DLV 60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118
ninfo NINFO "hello" "world"
avc AVC "app-name:WOLFGANG|app-class:OAM"
x25 X25 "311061700956"
nsapptr NSAP-PTR foo.example.
amt0 AMTRELAY 10 0 0 .
amt1 AMTRELAY 10 1 1 203.0.113.15
amt2 AMTRELAY 10 0 2 2001:db8::15
amt3 AMTRELAY 128 1 3 amtrelays.example.com.
px PX 10 a.example. b.example.
gpos GPOS -32.6882 116.8652 10.0
isdn ISDN "150862028003217" "004"
nsap NSAP 0x47.0005.80.005a00.0000.0001.e133.ffffff000161.00
wks WKS 10.0.0.1 6 25 80 443
""" % ("AwEAAbdxyhNuSutc5EMzxTs9LBPCIkOFH8cIvM4p9+LrV4e19WzK00+CI6zBCQTdtWsuxKbWIy87UOoJTwkU"
       "s7lBu+Upr1gsNrut79ryra+bSRGQb1slImA8YVJyuIDsj7kwzG7jnERNqnWxZ48AWkskmdHaVDP4BcelrTI3"
       "rMXdXF5D")  # RFC 8005 §5: the public key is one base64 token
# Types dnspython 2.3 does not read by name: checked by golden wire in test_dns_rdata.c.
TDNS_ONLY = """ta TA 60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118
rkey RKEY 0 3 13 AQIDBA==
talink TALINK a.example. b.example.
uinfo UINFO "info"
uid UID 1000
gid GID 1000
eid EID 8C20
nimloc NIMLOC 8C20
mb MB mbox.example.
resinfo RESINFO qnamemin exterr=15,16,17 "infourl=https://resolver.example.com/guide"
wallet WALLET "BTC" "bc1q"
dsync DSYNC CDS NOTIFY 5359 cds-scanner.example.net.
a6 A6 64 ::1234:5678:9abc:def0 subnet.example.
doa DOA 0 1 2 "" aHR0cHM6Ly93d3cuaXNjLm9yZy8=
"""
# dnspython 2.3 reads these only in RFC 3597 form.
DNSPY_SKIP = {"KEY", "SIG"}
# What Knot 3.2 reads by name of NEW_TYPES.
KNOT_TYPES = {"CERT", "KEY", "APL", "IPSECKEY", "DHCID", "EUI48", "EUI64", "NID", "L32", "L64",
              "LP", "CSYNC", "SMIMEA"}


def start_knot(tmp_path, zones):
    """Starts knotd on a free loopback port serving zones {name: text}; returns (proc, lock)."""
    knotd = shutil.which("knotd") or "/usr/sbin/knotd"
    assert os.access(knotd, os.X_OK), "knotd (Debian package knot) is required"
    lock = PortLock()
    d = tmp_path / "knot"
    d.mkdir()
    conf = ["server:", "    rundir: \"%s\"" % d, "    listen: 127.0.0.1@%d" % lock.port,
            "    udp-workers: 1", "    tcp-workers: 1", "    background-workers: 1",
            "database:", "    storage: \"%s\"" % d, "log:", "  - target: stderr",
            "    any: warning", "zone:"]
    for name, text in zones.items():
        (d / (name + ".zone")).write_text(text)
        conf += ["  - domain: %s" % name, "    file: \"%s/%s.zone\"" % (d, name),
                 "    storage: \"%s\"" % d]
    (d / "knot.conf").write_text("\n".join(conf) + "\n")
    log = open(d / "knot.log", "wb")
    proc = subprocess.Popen([knotd, "-c", str(d / "knot.conf")], stdout=log, stderr=log,
                            stdin=subprocess.DEVNULL)
    log.close()
    first = next(iter(zones))
    deadline = time.monotonic() + 20
    while True:
        assert proc.poll() is None, (d / "knot.log").read_text()
        try:
            r = dns.query.udp(dns.message.make_query(first, "SOA"), "127.0.0.1",
                              port=lock.port, timeout=0.2)
            if r.answer:
                break
        except dns.exception.Timeout:
            pass
        assert time.monotonic() < deadline, (d / "knot.log").read_text()
        time.sleep(0.05)
    return proc, lock


def stop(proc, lock):
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    lock.release()


@pytest.fixture
def knot_factory(tmp_path):
    started = []

    def factory(zones):
        proc, lock = start_knot(tmp_path, zones)
        started.append((proc, lock))
        return lock.port

    yield factory
    for proc, lock in started:
        stop(proc, lock)


def ask(port, name, rdtype, tcp=False, use_edns=0):
    q = dns.message.make_query(name, rdtype, use_edns=use_edns, payload=1232)
    q.flags &= ~dns.flags.RD
    if tcp:
        return dns.query.tcp(q, "127.0.0.1", port=port, timeout=3)
    return dns.query.udp(q, "127.0.0.1", port=port, timeout=3)


def wire_set(r, name, rdtype):
    """The rdatas of name/rdtype in r's answer as sorted uncompressed wire octets."""
    rs = r.get_rrset(r.answer, dns.name.from_text(name), dns.rdataclass.IN,
                     dns.rdatatype.from_text(rdtype))
    assert rs is not None, "no %s %s in %s" % (name, rdtype, r)
    return sorted(rd.to_digestable() for rd in rs)


def entries(text):
    """The zone-file entries of text: lines, with indented continuation lines joined on."""
    out = []
    for line in text.splitlines():
        if line[:1].isspace():
            out[-1] += "\n" + line
        else:
            out.append(line)
    return out


def pick(text, keep):
    return "".join(e + "\n" for e in entries(text) if keep(e.split()[1]))


def records(text):
    for e in entries(text):
        owner, rdtype = e.split()[:2]
        yield owner + ".example.", rdtype


def test_every_new_type_loads_and_answers_the_wire_form_of_dnspython_and_knot(make_server,
                                                                             knot_factory):
    zone = "$ORIGIN example.\n$TTL 300\n" + SOA + NEW_TYPES + TDNS_ONLY
    srv = make_server(zones={"example": zone})
    dnspy = pick(NEW_TYPES, lambda t: t not in DNSPY_SKIP)
    ref = dns.zone.from_text("$ORIGIN example.\n$TTL 300\n" + SOA + dnspy, "example.",
                             relativize=False)
    knot_text = pick(NEW_TYPES, lambda t: t in KNOT_TYPES)
    kport = knot_factory({"example": "$ORIGIN example.\n$TTL 300\n" + SOA + knot_text})
    seen = set()
    for name, rdtype in records(NEW_TYPES):
        if (name, rdtype) in seen:
            continue
        seen.add((name, rdtype))
        mine = wire_set(ask(srv.port, name, rdtype), name, rdtype)
        if rdtype not in DNSPY_SKIP:
            rds = ref.find_rdataset(name, rdtype)
            assert mine == sorted(rd.to_digestable() for rd in rds), (name, rdtype)
        if rdtype in KNOT_TYPES:
            assert mine == wire_set(ask(kport, name, rdtype), name, rdtype), (name, rdtype)
    numbers = {"TA": 32768, "RKEY": 57, "TALINK": 58, "UINFO": 100, "UID": 101, "GID": 102,
               "EID": 31, "NIMLOC": 32, "MB": 7, "RESINFO": 261, "WALLET": 262, "DSYNC": 66,
               "A6": 38, "DOA": 259}
    for name, rdtype in records(TDNS_ONLY):
        r = ask(srv.port, name, numbers[rdtype])
        assert r.rcode() == dns.rcode.NOERROR and r.answer, (name, rdtype)
    # Presentation out: every record reads back through the control socket's export.
    out = srv.cli("zone", "export", "example")
    assert out.returncode == 0, out.stderr
    lines = [l for l in out.stdout.splitlines() if len(l.split()) > 4 and l[0] not in ";$"]
    back = dns.zone.from_text("\n".join(l for l in lines
                                        if l.split()[3] not in
                                        ("KEY", "SIG", "TA", "RKEY", "TALINK", "UINFO", "UID",
                                         "GID", "EID", "NIMLOC", "MB", "RESINFO", "WALLET",
                                         "DSYNC", "A6", "DOA")),
                              "example.", relativize=False)
    for name, rdtype in records(dnspy):
        assert back.find_rdataset(name, rdtype) == ref.find_rdataset(name, rdtype), (name, rdtype)


def test_unknown_types_still_load_in_rfc3597_form(make_server):
    zone = "$ORIGIN example.\n$TTL 300\n" + SOA + "u TYPE65000 \\# 3 010203\n"
    srv = make_server(zones={"example": zone})
    r = ask(srv.port, "u.example.", "TYPE65000")
    assert [rd.to_digestable() for rd in r.answer[0]] == [b"\x01\x02\x03"]


def test_bad_new_type_rdata_is_reported_by_file_and_line(make_server, tmp_path):
    path = tmp_path / "bad.zone"
    path.write_text("$ORIGIN example.\n" + SOA + "e EUI48 00-00-5e-00-53\n")
    srv = make_server(start=False)
    out = srv.cli("zone", "check", str(path), "example.")
    assert out.returncode != 0
    assert "bad.zone:5: " in out.stdout + out.stderr
    assert "EUI48 address must be 6 hex pairs" in out.stdout + out.stderr


# ---- points 1, 2, 7, 9: answers compared with Knot ----

POINTS = """$ORIGIN example.
$TTL 300
""" + SOA + """olddn DNAME web.example.
web A 192.0.2.2
web AAAA 2001:db8::2
svc HTTPS 1 . alpn=h2
svc A 192.0.2.9
svc2 HTTPS 1 web.example. alpn=h2
svc3 SVCB 0 web.example.
svc4 HTTPS 1 out.example.net. alpn=h2
svc5 HTTPS 1 . alpn="h2,h3\\\\\\\\" port=443
svc6 HTTPS 1 . alpn=f\\\\\\\\oo\\\\,bar,h2
svc7 SVCB 1 . key7=/dns-query{?dns} alpn=h2
"""


@pytest.fixture
def pair(make_server, knot_factory):
    srv = make_server(zones={"example": POINTS})
    return srv, knot_factory({"example": POINTS})


def test_dname_answers_qtype_cname_with_the_synthesised_cname_like_knot(pair):
    srv, kport = pair
    # RFC 6672 §3.2: the synthesised CNAME is the answer; no NXDOMAIN, no SOA.
    for name in ("a.b.olddn.example.", "web.olddn.example.", "x.olddn.example."):
        mine = ask(srv.port, name, "CNAME")
        assert answer_summary(mine) == answer_summary(ask(kport, name, "CNAME")), name
        assert mine.rcode() == dns.rcode.NOERROR and not mine.authority
        assert [rs.rdtype for rs in mine.answer] == [dns.rdatatype.DNAME, dns.rdatatype.CNAME]
    # Other types still follow the CNAME (the chain the old behaviour applied to every type).
    r = ask(srv.port, "web.olddn.example.", "A")
    assert answer_summary(r) == answer_summary(ask(kport, "web.olddn.example.", "A"))


def test_axfr_over_udp_is_notimp_like_knot_and_ixfr_is_refused(pair):
    srv, kport = pair
    q = dns.message.make_query("example.", "AXFR")
    mine = dns.query.udp(q, "127.0.0.1", port=srv.port, timeout=3)
    assert mine.rcode() == dns.rcode.NOTIMP
    assert dns.query.udp(q, "127.0.0.1", port=kport, timeout=3).rcode() == mine.rcode()
    # RFC 1995 §2 defines IXFR over UDP: refused like any transfer (NSD answers so too), not
    # NOTIMP; for a name that is no zone of ours NOTAUTH, as Knot and NSD answer.
    for name, rcode in (("example.", dns.rcode.REFUSED), ("ns.example.", dns.rcode.NOTAUTH),
                        ("example.org.", dns.rcode.NOTAUTH)):
        q = dns.message.make_query(name, "IXFR")
        q.authority.append(dns.rrset.from_text(name, 0, "IN", "SOA",
                                               "ns.example. hm.example. 0 2 3 4 5"))
        assert dns.query.udp(q, "127.0.0.1", port=srv.port, timeout=3).rcode() == rcode, name
    # Over TCP: no transfers are allowed yet.
    assert ask(srv.port, "example.", "AXFR", tcp=True).rcode() == dns.rcode.REFUSED
    assert ask(srv.port, "ns.example.", "AXFR", tcp=True).rcode() == dns.rcode.NOTAUTH


def tsig_query(name, keyname="k1."):
    q = dns.message.make_query(name, "A", use_edns=0)
    q.use_tsig(dns.tsig.Key(keyname, "c2VjcmV0c2VjcmV0", "hmac-sha256"))
    return q


def test_tsig_with_an_unknown_key_gets_notauth_badkey_unsigned_like_knot(pair):
    srv, kport = pair
    for port in (srv.port, kport):
        for tcp in (False, True):
            q = tsig_query("ns.example.")
            sock = dns.query.tcp if tcp else dns.query.udp
            with pytest.raises(dns.tsig.PeerBadKey):
                sock(q, "127.0.0.1", port=port, timeout=3)
    # The reply itself: NOTAUTH, the TSIG last with error BADKEY and no MAC (RFC 8945 §5.3.2).
    q = tsig_query("ns.example.")
    wire = q.to_wire()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    s.sendto(wire, ("127.0.0.1", srv.port))
    reply = s.recv(65535)
    s.close()
    assert reply[:2] == wire[:2] and reply[3] & 0x0f == dns.rcode.NOTAUTH
    tail = reply[-(16 + len(b"\x0bhmac-sha256\x00")):]
    assert tail[:13] == b"\x0bhmac-sha256\x00"
    assert tail[13 + 8:13 + 10] == b"\x00\x00"                      # MAC size 0
    assert tail[13 + 12:13 + 14] == (17).to_bytes(2, "big")          # BADKEY
    # RFC 8945 §5.1: a TSIG that is not the last record is FORMERR, as Knot says too.
    q = tsig_query("ns.example.")
    wire = bytearray(q.to_wire())
    wire[11] += 1
    wire += b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00"
    for port in (srv.port, kport):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(3)
        s.sendto(bytes(wire), ("127.0.0.1", port))
        reply = s.recv(65535)
        s.close()
        assert reply[3] & 0x0f == dns.rcode.FORMERR, port


def test_svcb_value_lists_with_escapes_match_knot_and_dnspython(pair):
    srv, kport = pair
    ref = dns.zone.from_text(POINTS, "example.", relativize=False)
    for name, rdtype in (("svc5.example.", "HTTPS"), ("svc6.example.", "HTTPS"),
                         ("svc7.example.", "SVCB")):
        mine = wire_set(ask(srv.port, name, rdtype), name, rdtype)
        assert mine == wire_set(ask(kport, name, rdtype), name, rdtype), name
        assert mine == sorted(rd.to_digestable() for rd in ref.find_rdataset(name, rdtype))
    # RFC 9460 Appendix A: the protocol ids are h2 and h3\ (one trailing backslash).
    r = ask(srv.port, "svc5.example.", "HTTPS")
    assert r.answer[0][0].params[1].ids == (b"h2", b"h3\\")


def test_svcb_strictness_matches_rfc_9460_and_9461(make_server, tmp_path):
    srv = make_server(start=False)
    cases = [("1 . ALPN=h2", "unknown HTTPS SvcParam key 'ALPN'"),
             ('1 . alpn="h2\\\\"', "HTTPS alpn ends in a lone backslash"),
             ('1 . dohpath=""', "HTTPS SvcParam 'dohpath' needs a value"),
             ("1 . dohpath=/q", 'HTTPS dohpath must contain the "dns" variable'),
             ("1 . key65535", "HTTPS SvcParam key65535 is reserved (RFC 9460 §14.3.2)"),
             ("1 . mandatory=port alpn=h2", "HTTPS mandatory lists port, which the record "
                                             "does not have")]
    for rdata, want in cases:
        path = tmp_path / "s.zone"
        path.write_text("$ORIGIN example.\n$TTL 300\n" + SOA + "s HTTPS " + rdata + "\n")
        out = srv.cli("zone", "check", str(path), "example.")
        assert out.returncode != 0, rdata
        assert "s.zone:6: " + want in out.stdout + out.stderr, (rdata, out.stdout + out.stderr)
        k = subprocess.run(["kzonecheck", "-o", "example.", str(path)], capture_output=True,
                           text=True, timeout=30)
        if "ALPN" in rdata or "mandatory" in rdata:
            assert k.returncode != 0, rdata  # Knot refuses these too


def test_svcb_targets_in_the_zone_get_their_addresses_in_additional(pair):
    srv, kport = pair
    # RFC 9460 §4.1: as Knot does for an in-zone TargetName...
    r = ask(srv.port, "svc2.example.", "HTTPS")
    ref = ask(kport, "svc2.example.", "HTTPS")
    assert sorted(rs.to_text() for rs in r.additional if rs.rdtype != dns.rdatatype.OPT) == \
        sorted(rs.to_text() for rs in ref.additional if rs.rdtype != dns.rdatatype.OPT)
    assert {rs.rdtype for rs in r.additional} >= {dns.rdatatype.A, dns.rdatatype.AAAA}
    # ...also in AliasMode (SVCB 0 web.example.)...
    r = ask(srv.port, "svc3.example.", "SVCB")
    assert any(rs.name.to_text() == "web.example." for rs in r.additional)
    # ...and the owner's own addresses when TargetName is "." (RFC 9460 §2.5.2).
    r = ask(srv.port, "svc.example.", "HTTPS")
    assert [rs.to_text() for rs in r.additional if rs.rdtype == dns.rdatatype.A] == \
        ["svc.example. 300 IN A 192.0.2.9"]
    # A target outside our zones adds nothing.
    r = ask(srv.port, "svc4.example.", "HTTPS")
    assert [rs for rs in r.additional if rs.rdtype != dns.rdatatype.OPT] == []


# ---- point 8: identity, version, NSID ----

def test_identity_version_and_nsid_answer_when_configured(make_server):
    srv = make_server(zones={"example": POINTS},
                      server_extra="identity = ns1.test\nversion = tdns test\n"
                                   "nsid = hex:6e7331\n")
    for name, want in (("id.server.", "ns1.test"), ("hostname.bind.", "ns1.test"),
                       ("version.server.", "tdns test"), ("VERSION.BIND.", "tdns test")):
        q = dns.message.make_query(name, "TXT", "CH")
        r = dns.query.udp(q, "127.0.0.1", port=srv.port, timeout=3)
        # No AA, as Knot and NSD: no zone holds these names.
        assert r.rcode() == dns.rcode.NOERROR and not r.flags & dns.flags.AA, name
        assert [rd.strings for rd in r.answer[0]] == [(want.encode(),)], name
        assert r.answer[0].rdclass == dns.rdataclass.CH
    q = dns.message.make_query("version.bind.", "A", "CH")
    assert dns.query.udp(q, "127.0.0.1", port=srv.port, timeout=3).rcode() == \
        dns.rcode.REFUSED
    q = dns.message.make_query("authors.bind.", "TXT", "CH")
    assert dns.query.udp(q, "127.0.0.1", port=srv.port, timeout=3).rcode() == \
        dns.rcode.REFUSED
    # RFC 5001: NSID only to those who ask, on any answer.
    q = dns.message.make_query("ns.example.", "A", use_edns=0,
                               options=[dns.edns.GenericOption(dns.edns.NSID, b"")])
    for tcp in (False, True):
        r = (dns.query.tcp if tcp else dns.query.udp)(q, "127.0.0.1", port=srv.port, timeout=3)
        assert [o.data for o in r.options if o.otype == dns.edns.NSID] == [b"ns1"]
        assert r.answer
    r = ask(srv.port, "ns.example.", "A")
    assert not [o for o in r.options if o.otype == dns.edns.NSID]
    out = subprocess.run(["kdig", "@127.0.0.1", "-p", str(srv.port), "+nsid", "ns.example."],
                         capture_output=True, text=True, timeout=10)
    assert 'NSID: 6E7331 "ns1"' in out.stdout


def test_identity_is_off_by_default(make_server):
    srv = make_server(zones={"example": POINTS})
    for name in ("id.server.", "version.bind."):
        q = dns.message.make_query(name, "TXT", "CH")
        assert dns.query.udp(q, "127.0.0.1", port=srv.port, timeout=3).rcode() == \
            dns.rcode.REFUSED
    q = dns.message.make_query("ns.example.", "A", use_edns=0,
                               options=[dns.edns.GenericOption(dns.edns.NSID, b"")])
    r = dns.query.udp(q, "127.0.0.1", port=srv.port, timeout=3)
    assert not [o for o in r.options if o.otype == dns.edns.NSID]


def test_bad_identity_keys_stop_start_up_with_file_and_line(make_server):
    srv = make_server(zones={"example": POINTS}, start=False,
                      server_extra="nsid = hex:6e7\n")
    out = subprocess.run([srv.binary, "-t", "-c", srv.conf], capture_output=True, text=True,
                         timeout=10)
    assert out.returncode != 0
    assert "tdnsd.conf:" in out.stderr and "invalid nsid 'hex:6e7'" in out.stderr


# ---- points 4 and 6: zone-file reading ----

def test_ttl_with_the_top_bit_set_loads_capped_with_a_warning(make_server):
    zone = "$ORIGIN example.\n$TTL 300\n" + SOA + "big 4294967295 A 192.0.2.7\n"
    srv = make_server(zones={"example": zone})
    r = ask(srv.port, "big.example.", "A")
    assert r.answer[0].ttl == 2147483647
    assert "example.zone:6: TTL '4294967295' is above 2147483647" in srv.log()


def test_include_file_names_have_their_escapes_decoded(make_server, tmp_path):
    srv = make_server(start=False)
    (tmp_path / "zone(part.db").write_text("inc A 192.0.2.8\n")
    main = tmp_path / "main.zone"
    main.write_text("$ORIGIN example.\n$TTL 300\n" + SOA + '$INCLUDE "zone\\040part.db"\n')
    out = srv.cli("zone", "check", str(main), "example.")
    assert out.returncode == 0, out.stdout + out.stderr
    # Knot's checker reads the same file the same way.
    k = subprocess.run(["kzonecheck", "-o", "example.", str(main)], capture_output=True,
                       text=True, timeout=30)
    assert k.returncode == 0, k.stdout + k.stderr


def test_nsid_on_answers_the_resolver_defers(make_server):
    from upstreams import FakeUpstream
    up = FakeUpstream(["fwd.test. 300 IN SOA ns.fwd.test. h.fwd.test. 1 2 3 4 5",
                       "www.fwd.test. 300 IN A 192.0.2.44"])
    try:
        srv = make_server(zones={"example": POINTS}, server_extra="nsid = tdns-1\n",
                          extra="[recursion]\nmode = forward\nallow = 127.0.0.0/8\n\n"
                                "[forwarders]\nservers = %s\n" % up.url)
        q = dns.message.make_query("www.fwd.test.", "A", use_edns=0,
                                   options=[dns.edns.GenericOption(dns.edns.NSID, b"")])
        for _ in range(2):  # first deferred to the upstream, then from the cache
            r = dns.query.udp(q, "127.0.0.1", port=srv.port, timeout=3)
            assert r.answer and r.answer[0][0].to_text() == "192.0.2.44"
            assert [o.data for o in r.options if o.otype == dns.edns.NSID] == [b"tdns-1"]
    finally:
        up.stop()
