# SPDX-License-Identifier: MIT
"""Outgoing zone transfers (issue 17, RFC 5936) and TSIG (RFC 8945): AXFR with dig, kdig and
dnspython compared record for record with the zone file, allow-transfer by address and by key,
the TSIG errors (BADKEY, BADSIG, BADTIME), a 100,000-record zone streamed whole without holding
the worker, the connection limit, and Knot as a secondary of tdnsd with and without TSIG."""
import base64
import os
import shutil
import socket
import struct
import subprocess
import time

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.tsig
import dns.tsigkeyring
import dns.zone
import pytest

from helpers import (Daemon, WAIT_LONG, WAIT_SHORT, cli_ok, recv_exact, start_retrying,
                     wait_for)

SECRET = "c2VjcmV0LWtleS1mb3ItdGRucy10c2lnLXRlc3Rz"
OTHER_SECRET = base64.b64encode(b"not-the-secret-of-transfer-key").decode()

ZONE = """$ORIGIN xfr.test.
$TTL 3600
@        IN SOA ns1.xfr.test. hostmaster.xfr.test. 2026120701 7200 3600 1209600 300
@           NS     ns1
@           NS     ns2.example.net.
@           MX     10 mail
@           TXT    "v=spf1 -all" "second"
@           A      192.0.2.1
@           AAAA   2001:db8::1
ns1         A      192.0.2.53
mail   600  A      192.0.2.25
www         CNAME  @
*.wild      TXT    "wildcard"
a.b.c.deep  A      192.0.2.4
sub         NS     ns.sub
ns.sub      A      192.0.2.99
_sip._tcp   SRV    0 5 5060 mail
dn          DNAME  example.net.
big         TXT    "%s" "%s"
""" % ("x" * 255, "y" * 255)


def tsig_section(name="transfer-key", alg="hmac-sha256", secret=SECRET):
    return "[tsig %s]\nalgorithm = %s\nsecret = %s\n\n" % (name, alg, secret)


def xfr_server(make_server, allow, zone_text=ZONE, origin="xfr.test", extra="", **kw):
    """tdnsd serving origin with allow-transfer = allow (and extra sections before it)."""
    srv = make_server(start=False, extra=extra + "[zone %s]\nfile = %s.zone\n"
                      "allow-transfer = %s\n" % (origin, origin, allow), **kw)
    srv.write_zone(origin, zone_text)
    srv.start()
    return srv


def zone_records(text, origin):
    """The zone file's records as (name, ttl, class, type, rdata) in text form."""
    z = dns.zone.from_text(text, origin, relativize=False, check_origin=False)
    out = set()
    for name, node in z.nodes.items():
        for rds in node.rdatasets:
            for rd in rds:
                out.add((name.to_text().lower(), rds.ttl, "IN",
                         dns.rdatatype.to_text(rds.rdtype), rd.to_text()))
    return out


def parse_dig(text, origin):
    """Records of dig/kdig +noall +answer output, the SOA copies counted apart."""
    recs = []
    for line in text.splitlines():
        if not line.strip() or line.startswith(";"):
            continue
        name, ttl, cls, rtype, rdata = line.split(None, 4)
        rd = dns.rdata.from_text(cls, rtype, rdata, origin=dns.name.root, relativize=False)
        recs.append((name.lower(), int(ttl), cls, rtype, rd.to_text()))
    return recs


def axfr_message(origin, key=None, keyname="transfer-key", alg="hmac-sha256"):
    q = dns.message.make_query(origin, "AXFR")
    if key is not None:
        q.use_tsig(dns.tsigkeyring.from_text({keyname: (alg, key)}), keyname=keyname)
    return q


def tcp_exchange(srv, q, timeout=WAIT_SHORT * 2):
    """One message over TCP; the first reply (dnspython checks its TSIG when q was signed)."""
    return dns.query.tcp(q, srv.addr, port=srv.port, timeout=timeout)


def test_axfr_with_dig_and_kdig_matches_the_zone_file(make_server):
    srv = xfr_server(make_server, "127.0.0.1")
    want = zone_records(ZONE, "xfr.test.")
    for tool in (["dig", "+noall", "+answer"], ["kdig", "+noall", "+answer"]):
        out = subprocess.run(tool + ["-p", str(srv.port), "@127.0.0.1", "xfr.test.", "AXFR"],
                             capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stdout + out.stderr
        recs = parse_dig(out.stdout, "xfr.test.")
        # RFC 5936 §2.2: the SOA first and last, every other record once.
        assert recs[0][3] == "SOA" and recs[-1][3] == "SOA", tool
        assert recs[0] == recs[-1]
        assert len(recs) == len(want) + 1, tool[0]
        assert set(recs) == want, tool[0]
    assert "AXFR to 127.0.0.1 done: %d records" % (len(want) + 1) in srv.log()


def test_axfr_refused_unless_allowed_by_address_and_logged(make_server):
    srv = xfr_server(make_server, "127.0.0.2, 10.0.0.0/8")
    r = tcp_exchange(srv, axfr_message("xfr.test."))
    assert r.rcode() == dns.rcode.REFUSED
    assert not r.answer
    wait_for(lambda: "zone xfr.test: AXFR from 127.0.0.1 refused" in srv.log(),
             what="the refusal logged", log=srv.log)
    # The same request from an allowed address gets the zone.
    out = subprocess.run(["dig", "+noall", "+answer", "-b", "127.0.0.2", "-p", str(srv.port),
                          "@127.0.0.1", "xfr.test.", "AXFR"], capture_output=True, text=True,
                         timeout=30)
    assert len(parse_dig(out.stdout, "xfr.test.")) == len(zone_records(ZONE, "xfr.test.")) + 1
    # No allow-transfer at all: nobody (RFC 5936 §4 leaves the default to us; BIND's too).
    r = tcp_exchange(srv, axfr_message("example.com."))
    assert r.rcode() == dns.rcode.NOTAUTH


def test_zone_without_allow_transfer_refuses_everybody(make_server):
    srv = make_server(zones={"xfr.test": ZONE})
    r = tcp_exchange(srv, axfr_message("xfr.test."))
    assert r.rcode() == dns.rcode.REFUSED
    r = tcp_exchange(srv, dns.message.make_query("xfr.test.", "IXFR"))
    assert r.rcode() == dns.rcode.REFUSED


def test_axfr_with_tsig_key_allowed_and_errors_answered_notauth(make_server):
    srv = xfr_server(make_server, "key transfer-key", extra=tsig_section())
    want = zone_records(ZONE, "xfr.test.")
    # dig -y: every message signed and checked by dig.
    out = subprocess.run(["dig", "+noall", "+answer", "-y", "hmac-sha256:transfer-key:" + SECRET,
                          "-p", str(srv.port), "@127.0.0.1", "xfr.test.", "AXFR"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and "failed" not in out.stdout, out.stdout
    assert set(parse_dig(out.stdout, "xfr.test.")) == want
    # dnspython checks the MAC of each message chained to the previous one.
    ring = dns.tsigkeyring.from_text({"transfer-key": ("hmac-sha256", SECRET)})
    z = dns.zone.from_xfr(dns.query.xfr(srv.addr, "xfr.test.", port=srv.port, keyring=ring,
                                        keyname="transfer-key", timeout=10))
    assert len(list(z.iterate_rdatas())) == len(want)
    # Without the key: REFUSED.
    assert tcp_exchange(srv, axfr_message("xfr.test.")).rcode() == dns.rcode.REFUSED
    # An unknown key: NOTAUTH, BADKEY, unsigned (RFC 8945 §5.2.1, §5.3.2).
    with pytest.raises(dns.tsig.PeerBadKey):
        tcp_exchange(srv, axfr_message("xfr.test.", SECRET, keyname="other-key"))
    # The right key name with another secret: NOTAUTH, BADSIG (§5.2.2).
    with pytest.raises(dns.tsig.PeerBadSignature):
        tcp_exchange(srv, axfr_message("xfr.test.", OTHER_SECRET))
    out = subprocess.run(["dig", "-y", "hmac-sha256:transfer-key:" + OTHER_SECRET, "-p",
                          str(srv.port), "@127.0.0.1", "xfr.test.", "AXFR"],
                         capture_output=True, text=True, timeout=30)
    assert "BADSIG" in out.stdout and "Transfer failed" in out.stdout, out.stdout
    # The raw reply: NOTAUTH and the TSIG error, with no MAC.
    q = axfr_message("xfr.test.", OTHER_SECRET)
    r = raw_tcp(srv, q.to_wire())
    assert r[3] & 0xf == dns.rcode.NOTAUTH
    wait_for(lambda: "with key transfer-key.: BADSIG" in srv.log(), what="BADSIG logged",
             log=srv.log)
    # Signed with the right key but another algorithm: BADKEY.
    with pytest.raises(dns.tsig.PeerBadKey):
        tcp_exchange(srv, axfr_message("xfr.test.", SECRET, alg="hmac-sha512"))


def raw_tcp(srv, wire):
    with socket.create_connection((srv.addr, srv.port), timeout=10) as s:
        s.sendall(struct.pack("!H", len(wire)) + wire)
        n = struct.unpack("!H", recv_exact(s, 2))[0]
        return recv_exact(s, n)


def test_tsig_badtime_is_signed_and_carries_the_server_time(make_server, monkeypatch):
    srv = xfr_server(make_server, "key transfer-key", extra=tsig_section())
    ring = dns.tsigkeyring.from_text({"transfer-key": ("hmac-sha256", SECRET)})
    q = dns.message.make_query("xfr.test.", "SOA")
    q.use_tsig(ring, keyname="transfer-key")
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() - 3600)
    wire = q.to_wire()
    monkeypatch.setattr(time, "time", real)
    r = raw_tcp(srv, wire)
    assert r[3] & 0xf == dns.rcode.NOTAUTH
    # The reply is signed (RFC 8945 §5.2.3): dnspython verifies it, then reports BADTIME.
    with pytest.raises(dns.tsig.PeerBadTime):
        dns.message.from_wire(r, keyring=ring, request_mac=q.mac)
    # A good signed query is answered and the answer signed.
    q = dns.message.make_query("www.xfr.test.", "A")
    q.use_tsig(ring, keyname="transfer-key")
    r = dns.query.udp(q, srv.addr, port=srv.port, timeout=5)
    assert r.had_tsig and r.rcode() == dns.rcode.NOERROR and r.answer


def test_secret_never_shown_by_config_show_logs_or_json(make_server):
    srv = xfr_server(make_server, "key transfer-key", extra=tsig_section())
    out = srv.cli("config", "show")
    assert out.returncode == 0, out.stderr
    assert SECRET not in out.stdout and "(secret)" in out.stdout
    out = srv.cli("--json", "config", "show")
    assert out.returncode == 0 and SECRET not in out.stdout and "(secret)" in out.stdout
    out = srv.cli("--json", "config", "get", "tsig.transfer-key.secret")
    assert SECRET not in out.stdout and "(secret)" in out.stdout
    # Used and refused: the log names the key, never its secret.
    subprocess.run(["dig", "-y", "hmac-sha256:transfer-key:" + SECRET, "-p", str(srv.port),
                    "@127.0.0.1", "xfr.test.", "AXFR"], capture_output=True, timeout=30)
    with pytest.raises(dns.tsig.PeerBadSignature):
        tcp_exchange(srv, axfr_message("xfr.test.", OTHER_SECRET))
    wait_for(lambda: "BADSIG" in srv.log(), what="BADSIG logged", log=srv.log)
    assert SECRET not in srv.log() and OTHER_SECRET not in srv.log()


def test_secret_file_must_be_mode_0600(make_server, tmp_path):
    key = tmp_path / "tk.secret"
    key.write_text(SECRET + "\n")
    os.chmod(key, 0o644)
    srv = make_server(start=False, extra="[tsig tk]\nsecret-file = %s\n" % key)
    out = subprocess.run([srv.binary, "-t", "-c", srv.conf], capture_output=True, text=True,
                         timeout=30)
    assert out.returncode != 0
    assert "tdnsd.conf:" in out.stderr and "has mode 0644; expected a regular file of mode " \
        "0600" in out.stderr, out.stderr
    os.chmod(key, 0o600)
    out = subprocess.run([srv.binary, "-t", "-c", srv.conf], capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 0, out.stderr


BIG = 100000


def big_zone(n=BIG):
    lines = ["$ORIGIN big.test.", "$TTL 300",
             "@ IN SOA ns.big.test. admin.big.test. 1 3600 600 86400 300", "@ NS ns", "ns A 192.0.2.1"]
    lines += ["h%d A 10.%d.%d.%d" % (i, i >> 16 & 255, i >> 8 & 255, i & 255) for i in range(n - 3)]
    return "\n".join(lines) + "\n"


def test_100000_record_zone_streams_whole_without_holding_the_worker(make_server):
    srv = xfr_server(make_server, "127.0.0.1", zone_text=big_zone(), origin="big.test")
    # A client that asks for the zone and reads nothing: the worker goes on answering.
    stalled = socket.create_connection((srv.addr, srv.port), timeout=10)
    wire = axfr_message("big.test.").to_wire()
    stalled.sendall(struct.pack("!H", len(wire)) + wire)
    recv_exact(stalled, 2)
    r = srv.query("ns.big.test.", "A", timeout=WAIT_SHORT)
    assert r.answer
    r = srv.query("ns.big.test.", "A", tcp=True, timeout=WAIT_SHORT)
    assert r.answer
    stalled.close()
    # The whole zone, counted: every record once, the SOA twice, in many messages.
    count = 0
    msgs = 0
    for m in dns.query.xfr(srv.addr, "big.test.", port=srv.port, timeout=60, lifetime=120):
        msgs += 1
        count += sum(len(rrs) for rrs in m.answer)
    assert count == BIG + 1
    assert msgs > 20  # messages up to 64 KiB
    out = subprocess.run(["dig", "+noall", "+answer", "-p", str(srv.port), "@127.0.0.1",
                          "big.test.", "AXFR"], capture_output=True, text=True, timeout=120)
    lines = [ln for ln in out.stdout.splitlines() if ln and not ln.startswith(";")]
    assert len(lines) == BIG + 1
    assert len(set(lines)) == BIG


def test_a_transfer_counts_as_one_connection_for_the_limit(make_server):
    srv = xfr_server(make_server, "127.0.0.1", zone_text=big_zone(20000), origin="big.test",
                     server_extra="tcp-max-connections = 1\n")
    stalled = socket.create_connection((srv.addr, srv.port), timeout=10)
    wire = axfr_message("big.test.").to_wire()
    stalled.sendall(struct.pack("!H", len(wire)) + wire)
    recv_exact(stalled, 2)
    # The transfer is not idle: it is not evicted, and the next connection finds no room.
    with pytest.raises((dns.exception.Timeout, EOFError, ConnectionError, OSError)):
        srv.query("ns.big.test.", "A", tcp=True, timeout=2)
    stalled.close()
    wait_for(lambda: "AXFR to 127.0.0.1 ended early" in srv.log(), what="the end logged",
             log=srv.log)
    r = wait_for(lambda: query_ok(srv), what="a TCP query after the transfer", log=srv.log)
    assert r


def query_ok(srv):
    try:
        return bool(srv.query("ns.big.test.", "A", tcp=True, timeout=2).answer)
    except (dns.exception.Timeout, EOFError, ConnectionError, OSError):
        return False


def test_ixfr_is_answered_with_the_whole_zone(make_server):
    srv = xfr_server(make_server, "127.0.0.1")
    want = zone_records(ZONE, "xfr.test.")
    out = subprocess.run(["dig", "+noall", "+answer", "-p", str(srv.port), "@127.0.0.1",
                          "xfr.test.", "IXFR=2026120600"], capture_output=True, text=True,
                         timeout=30)
    recs = parse_dig(out.stdout, "xfr.test.")
    # RFC 1995 §4: without a journal, an AXFR-style reply.
    assert set(recs) == want and len(recs) == len(want) + 1
    # Over UDP the SOA alone says "come over TCP" (RFC 1995 §2).
    q = dns.message.make_query("xfr.test.", "IXFR")
    r = dns.query.udp(q, srv.addr, port=srv.port, timeout=5)
    assert r.rcode() == dns.rcode.NOERROR and len(r.answer) == 1
    assert r.answer[0].rdtype == dns.rdatatype.SOA


def xfr_messages(srv, q):
    """Every message of a transfer over one TCP connection, raw, until the closing SOA (or
    the single SOA of an IXFR reply to a current client)."""
    wire = q.to_wire()
    out = []
    with socket.create_connection((srv.addr, srv.port), timeout=30) as s:
        s.sendall(struct.pack("!H", len(wire)) + wire)
        soas = 0
        while soas < 2:
            n = struct.unpack("!H", recv_exact(s, 2))[0]
            m = recv_exact(s, n)
            out.append(m)
            r = dns.message.from_wire(m, keyring=False, one_rr_per_rrset=True,
                                      question_only=False, ignore_trailing=True)
            soas += sum(1 for rr in r.answer if rr.rdtype == dns.rdatatype.SOA)
            # RFC 1995 §4: the SOA alone tells an IXFR client it is current.
            if r.rcode() != dns.rcode.NOERROR or (len(out) == 1 and len(r.answer) == 1):
                break
    return out


def opt_of(wire):
    """(UDP size, DO) of the message's OPT record, or None without one."""
    r = dns.message.from_wire(wire, keyring=False, one_rr_per_rrset=True)
    if r.edns < 0:
        return None
    return r.payload, bool(r.ednsflags & dns.flags.DO)


def test_transfer_replies_carry_an_opt_when_the_request_had_one(make_server):
    srv = xfr_server(make_server, "127.0.0.1", zone_text=big_zone(20000), origin="big.test")
    for rdtype in ("AXFR", "IXFR"):
        q = dns.message.make_query("big.test.", rdtype, use_edns=0, payload=1232,
                                   want_dnssec=True)
        if rdtype == "IXFR":
            q.authority.append(dns.rrset.from_text("big.test.", 0, "IN", "SOA",
                                                   ". . 0 0 0 0 0"))
        msgs = xfr_messages(srv, q)
        # RFC 5936 §3 / RFC 6891 §7: every message of the stream, not only the first.
        assert len(msgs) > 1, rdtype
        for m in msgs:
            opt = opt_of(m)
            assert opt is not None, rdtype
            assert opt[1], "DO echoed"
        # Without an OPT in the request, none in the replies.
        q = dns.message.make_query("big.test.", rdtype, use_edns=False)
        if rdtype == "IXFR":
            q.authority.append(dns.rrset.from_text("big.test.", 0, "IN", "SOA",
                                                   ". . 0 0 0 0 0"))
        assert all(opt_of(m) is None for m in xfr_messages(srv, q)), rdtype
    # A signed transfer: the OPT, then the TSIG, which kdig and dnspython check.
    srv2 = xfr_server(make_server, "key transfer-key", extra=tsig_section())
    out = subprocess.run(["kdig", "+edns", "-y", "hmac-sha256:transfer-key:" + SECRET,
                          "-p", str(srv2.port), "@127.0.0.1", "xfr.test.", "AXFR"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and "1 messages, 18 records" in out.stdout, out.stdout
    assert "warning" not in (out.stdout + out.stderr).lower(), out.stdout + out.stderr
    q = axfr_message("xfr.test.", SECRET)
    q.use_edns(0, payload=1232)
    r = tcp_exchange(srv2, q)
    assert r.edns == 0 and r.had_tsig


# ---- Knot as a secondary of tdnsd ----


class KnotSecondary(Daemon):
    """knotd, secondary for origin from tdnsd on primary_port, optionally with a TSIG key."""

    name = "knotd"

    def __init__(self, d, origin, primary_port, key=None):
        super().__init__(str(d))
        self.binary = shutil.which("knotd") or "/usr/sbin/knotd"
        assert os.access(self.binary, os.X_OK), "knotd (Debian package knot) is required"
        self.origin, self.primary_port, self.key = origin, primary_port, key
        start_retrying(self.start)

    def start(self):
        self.port = self.lock_ports()[0]
        d = self.dir
        conf = ["server:", "    rundir: \"%s\"" % d, "    listen: 127.0.0.1@%d" % self.port,
                "    udp-workers: 1", "    tcp-workers: 1", "    background-workers: 1",
                "database:", "    storage: \"%s\"" % d, "log:", "  - target: stderr",
                "    any: info"]
        if self.key:
            conf += ["key:", "  - id: transfer-key", "    algorithm: hmac-sha256",
                     "    secret: %s" % self.key]
        conf += ["remote:", "  - id: primary", "    address: 127.0.0.1@%d" % self.primary_port]
        if self.key:
            conf += ["    key: transfer-key"]
        # NOTIFY from tdnsd (RFC 1996) comes from a random port: the ACL names the address.
        conf += ["acl:", "  - id: notify-in", "    address: 127.0.0.1", "    action: notify"]
        if self.key:
            conf += ["    key: transfer-key"]
        conf += ["zone:", "  - domain: %s" % self.origin, "    master: primary",
                 "    acl: notify-in",
                 "    storage: \"%s\"" % d, "    file: \"%s/%s.zone\"" % (d, self.origin)]
        path = os.path.join(d, "knot.conf")
        with open(path, "w") as f:
            f.write("\n".join(conf) + "\n")
        self.launch([self.binary, "-c", path])
        self.wait_until(self.serves, timeout=30)

    def serves(self):
        q = dns.message.make_query(self.origin, "SOA")
        r = dns.query.udp(q, "127.0.0.1", port=self.port, timeout=0.3)
        return r.rcode() == dns.rcode.NOERROR and bool(r.answer)


def answers(port, name, rdtype):
    q = dns.message.make_query(name, rdtype)
    r = dns.query.udp(q, "127.0.0.1", port=port, timeout=5)
    return (r.rcode(), sorted(rrs.to_text() for rrs in r.answer),
            sorted(rrs.to_text() for rrs in r.authority))


def knot_and_primary(make_server, tmp_path, with_key):
    """tdnsd serving xfr.test to 127.0.0.1 (or to the key), and Knot as its secondary."""
    if with_key:
        srv = xfr_server(make_server, "key transfer-key", extra=tsig_section())
    else:
        srv = xfr_server(make_server, "127.0.0.1")
    d = tmp_path / "knot"
    d.mkdir()
    return srv, KnotSecondary(d, "xfr.test.", srv.port, SECRET if with_key else None)


@pytest.mark.parametrize("with_key", [False, True], ids=["address", "tsig"])
def test_knot_secondary_pulls_the_zone_and_serves_the_same_answers(make_server, tmp_path,
                                                                  with_key):
    srv, knot = knot_and_primary(make_server, tmp_path, with_key)
    try:
        wait_for(lambda: "AXFR to 127.0.0.1" in srv.log() and " done: " in srv.log(),
                 what="the transfer to Knot", log=lambda: srv.log() + knot.log())
        if with_key:
            assert "with key transfer-key." in srv.log()
        for name, rdtype in (("xfr.test.", "SOA"), ("xfr.test.", "NS"), ("xfr.test.", "MX"),
                             ("xfr.test.", "TXT"), ("www.xfr.test.", "A"),
                             ("x.wild.xfr.test.", "TXT"), ("a.b.c.deep.xfr.test.", "A"),
                             ("_sip._tcp.xfr.test.", "SRV"), ("big.xfr.test.", "TXT"),
                             ("mail.xfr.test.", "A"), ("nx.xfr.test.", "A"),
                             ("host.sub.xfr.test.", "A"), ("x.dn.xfr.test.", "A")):
            assert answers(knot.port, name, rdtype) == answers(srv.port, name, rdtype), name
    finally:
        knot.stop()


@pytest.mark.parametrize("with_key", [False, True], ids=["address", "tsig"])
def test_knot_secondary_refreshes_on_notify_after_a_record_add(make_server, tmp_path, with_key):
    srv, knot = knot_and_primary(make_server, tmp_path, with_key)
    try:
        wait_for(lambda: " done: " in srv.log(), what="the first transfer to Knot",
                 log=lambda: srv.log() + knot.log())
        # Knot's port is known only now: tdnsd learns it by a reload (no new serial: no
        # NOTIFY), then a record add makes a new serial that Knot must hear of at once (its
        # SOA refresh is two hours away).
        with open(srv.conf) as f:
            text = f.read()
        srv.write_config(text.replace("allow-transfer = ", "notify = 127.0.0.1:%d\n"
                                      "allow-transfer = " % knot.port))
        srv.reload()
        wait_for(lambda: "reload done" in srv.log(), timeout=WAIT_LONG, what="the reload",
                 log=srv.log)
        serial = cli_ok(srv, "record", "add", "xfr.test", "notified", "A", "192.0.2.77")["serial"]
        wait_for(lambda: answers(knot.port, "notified.xfr.test.", "A")[1] != [],
                 timeout=60, what="Knot serving the new record",
                 log=lambda: srv.log() + knot.log())
        assert answers(knot.port, "xfr.test.", "SOA") == answers(srv.port, "xfr.test.", "SOA")
        assert "NOTIFY of serial %d to 127.0.0.1:%d acknowledged" % (serial, knot.port) \
            in srv.log()
        if with_key:
            assert "(signed)" in srv.log()
        # Knot asked for the change alone (RFC 1995), which the journal gave.
        wait_for(lambda: "IXFR to 127.0.0.1 done" in srv.log(), what="the IXFR to Knot",
                 log=lambda: srv.log() + knot.log())
    finally:
        knot.stop()
