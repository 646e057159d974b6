# SPDX-License-Identifier: MIT
"""tdns-cli query: the dig-like client against a small dnspython server that records what it saw."""
import json
import os
import selectors
import socket
import struct
import subprocess
import threading
import time

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.zone
import pytest

from conftest import SANITIZER_MARKS, PortLock
from helpers import bind_locked, make_reply, recv_exact

CLI = os.environ.get("TDNS_CLI", "tdns-cli")

TXT_CHUNK = "t" * 200
ZONE = """$ORIGIN example.com.
$TTL 3600
@       IN SOA ns1 hostmaster 2024010101 7200 3600 1209600 300
@       IN NS  ns1
@       IN A   192.0.2.1
@       IN AAAA 2001:db8::1
@       IN MX  10 mail
@       IN MX  20 mail2.example.net.
ns1     IN A   192.0.2.53
mail    IN A   192.0.2.25
www 600 IN CNAME web
web     IN A   192.0.2.80
split   IN TXT "one piece" "another piece"
weird   IN TXT "say \\"hi\\" back\\\\slash\\009tab \\195\\169t\\195\\169"
""" + "".join('big IN TXT "%02d%s"\n' % (i, TXT_CHUNK) for i in range(10))

ORIGIN = dns.name.from_text("example.com.")


class AuthServer:
    """Answers from a dns.zone over UDP and TCP on 127.0.0.1 and ::1; records every query.

    Names with special behaviour: silent.* never answers, spoof.* first sends a datagram with
    another ID and one with another question, garbage.* answers with a malformed message, ede.*
    is REFUSED with an Extended DNS Error.  UDP answers larger than the query's EDNS payload (512
    without EDNS) are truncated with TC set."""

    def __init__(self, zone_text=ZONE):
        self.lock, self.socks = bind_locked(("127.0.0.1", "::1"), backlog=8)
        self.port = self.lock.port
        self.zone = dns.zone.from_text(zone_text, ORIGIN, relativize=False)
        self.seen = []   # (transport, dns.message.Message, source port)
        self.sent = []   # (transport, wire)
        self.sel = selectors.DefaultSelector()
        for sk in self.socks:
            self.sel.register(sk, selectors.EVENT_READ,
                              "udp" if sk.type == socket.SOCK_DGRAM else "tcp")
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def close(self):
        self.stopping.set()
        self.thread.join(5)
        for s in self.socks:
            s.close()
        self.sel.close()
        self.lock.release()

    # -- answers --
    def lookup(self, q):
        r = make_reply(q, dns.flags.AA)
        qname, rdtype = q.question[0].name, q.question[0].rdtype
        if qname.labels[0] == b"ede":
            r.set_rcode(dns.rcode.REFUSED)
            r.use_edns(0, q.ednsflags & dns.flags.DO, 1232,
                       options=[dns.edns.EDEOption(dns.edns.EDECode.PROHIBITED, "not for you")])
            return r
        if not qname.is_subdomain(ORIGIN):
            r.set_rcode(dns.rcode.REFUSED)
            return r
        soa = self.zone.find_rdataset(ORIGIN, dns.rdatatype.SOA)
        name = qname
        for _ in range(8):
            node = self.zone.get_node(name)
            if node is None:
                if name == qname:
                    r.set_rcode(dns.rcode.NXDOMAIN)
                r.authority.append(dns.rrset.from_rdata_list(ORIGIN, soa.ttl, list(soa)))
                return r
            rds = node.get_rdataset(dns.rdataclass.IN, rdtype)
            if rds is not None:
                r.answer.append(dns.rrset.from_rdata_list(name, rds.ttl, list(rds)))
                return r
            cname = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.CNAME)
            if cname is None:
                r.authority.append(dns.rrset.from_rdata_list(ORIGIN, soa.ttl, list(soa)))
                return r
            r.answer.append(dns.rrset.from_rdata_list(name, cname.ttl, list(cname)))
            name = cname[0].target
        return r

    def reply(self, q, transport):
        # make_response limits to_wire to the query's payload; the limit is applied below.
        wire = self.lookup(q).to_wire(max_size=65535)
        if transport == "udp":
            limit = max(q.payload, 512) if q.edns >= 0 else 512
            if len(wire) > limit:
                # RFC 2181 §9: drop the records, keep the question, set TC.
                t = dns.message.make_response(q)
                t.flags |= dns.flags.AA | dns.flags.TC
                if q.edns >= 0:
                    t.use_edns(0, q.ednsflags & dns.flags.DO, 1232)
                wire = t.to_wire()
        self.sent.append((transport, wire))
        return wire

    def handle(self, data, transport, sport):
        """Returns the wire messages to send back for one query."""
        q = dns.message.from_wire(data)
        self.seen.append((transport, q, sport))
        first = q.question[0].name.labels[0]
        if first == b"silent":
            return []
        if first == b"garbage":
            # Right ID and question, but ANCOUNT says 1 and no record follows.
            r = dns.message.make_response(q)
            wire = bytearray(r.to_wire())
            wire[6:8] = struct.pack("!H", 1)
            self.sent.append((transport, bytes(wire)))
            return [bytes(wire)]
        if first == b"badrdata":
            # An A record whose rdata is three octets long (RFC 1035 §3.4.1 wants four).
            r = dns.message.make_response(q)
            r.use_edns(False)
            wire = bytearray(r.to_wire())
            wire[6:8] = struct.pack("!H", 1)
            wire += struct.pack("!HHHIH", 0xc00c, 1, 1, 60, 3) + b"\xc0\x00\x02"
            self.sent.append((transport, bytes(wire)))
            return [bytes(wire)]
        out = []
        if first == b"spoof" and transport == "udp":
            other = dns.message.make_response(q)
            other.id = (q.id + 1) & 0xffff
            out.append(other.to_wire())
            wrong_q = dns.message.make_query("other.example.com.", "A")
            wrong_q.id = q.id
            out.append(dns.message.make_response(wrong_q).to_wire())
            q2 = dns.message.make_query("www.example.com.", q.question[0].rdtype)
            q2.id = q.id
            r = dns.message.make_response(q)
            r.flags |= dns.flags.AA
            r.answer.append(dns.rrset.from_text(q.question[0].name, 60, "IN", "A",
                                                "192.0.2.77"))
            wire = r.to_wire()
            self.sent.append((transport, wire))
            out.append(wire)
            return out
        return [self.reply(q, transport)]

    def serve_tcp(self, conn):
        conn.settimeout(2)
        try:
            while True:
                hdr = recv_exact(conn, 2)
                if hdr is None:
                    return
                data = recv_exact(conn, struct.unpack("!H", hdr)[0])
                if data is None:
                    return
                split = dns.message.from_wire(data).question[0].name.labels[0] == b"split"
                for wire in self.handle(data, "tcp", conn.getpeername()[1]):
                    frame = struct.pack("!H", len(wire)) + wire
                    if not split:
                        conn.sendall(frame)
                        continue
                    # Length and message in pieces: the client must keep reading.
                    for piece in (frame[:1], frame[1:2], frame[2:9], frame[9:]):
                        conn.sendall(piece)
                        time.sleep(0.05)
        except OSError:
            return
        finally:
            conn.close()

    def run(self):
        while not self.stopping.is_set():
            for key, _ in self.sel.select(0.1):
                sock = key.fileobj
                if key.data == "udp":
                    data, peer = sock.recvfrom(65535)
                    for wire in self.handle(data, "udp", peer[1]):
                        sock.sendto(wire, peer)
                else:
                    conn, _ = sock.accept()
                    self.serve_tcp(conn)

    # -- what the tests look at --
    def last_query(self):
        return self.seen[-1][1]

    def last_sent(self):
        return dns.message.from_wire(self.sent[-1][1])


@pytest.fixture
def auth():
    s = AuthServer()
    yield s
    s.close()


def run(*args, timeout=30):
    r = subprocess.run([CLI, *args], capture_output=True, text=True, timeout=timeout)
    assert not any(m in r.stderr for m in SANITIZER_MARKS), r.stderr
    return r


def query(auth, *args, server="127.0.0.1"):
    return run("query", *args, "@%s:%d" % (server, auth.port) if ":" not in server
               else "@[%s]:%d" % (server, auth.port))


def answer_lines(out, section="ANSWER"):
    """The whitespace-split records of one section of dig-style output."""
    lines = out.splitlines()
    start = lines.index(";; %s SECTION:" % section) + 1
    rows = []
    for line in lines[start:]:
        if not line.strip():
            break
        rows.append(line.split(None, 4))
    return rows


def test_query_prints_the_answer_in_dig_layout(auth):
    r = query(auth, "example.com", "A")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert out.startswith("; <<>> tdns-cli ")
    assert "example.com A @127.0.0.1:%d" % auth.port in out.splitlines()[0]
    assert ";; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: %d" % auth.last_query().id in out
    assert ";; flags: qr aa rd; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 1" in out
    assert ";; WARNING: recursion requested but not available" in out
    assert ";; OPT PSEUDOSECTION:\n; EDNS: version: 0, flags:; udp: 1232\n" in out
    assert ";; QUESTION SECTION:\n;example.com.\t\t\tIN\tA\n" in out
    assert "example.com.\t\t3600\tIN\tA\t192.0.2.1\n" in out
    assert answer_lines(out) == [["example.com.", "3600", "IN", "A", "192.0.2.1"]]
    assert ";; SERVER: 127.0.0.1#%d(127.0.0.1) (UDP)" % auth.port in out
    assert ";; MSG SIZE  rcvd: %d" % len(auth.sent[-1][1]) in out
    assert ";; Query time: " in out and ";; WHEN: " in out


def test_query_sends_rd_and_edns_1232_with_a_random_id_and_port(auth):
    for _ in range(4):
        assert query(auth, "example.com").returncode == 0
    qs = [q for _, q, _ in auth.seen]
    assert all(q.flags & dns.flags.RD for q in qs)
    assert all(not q.flags & dns.flags.CD for q in qs)
    assert all(q.edns == 0 and q.payload == 1232 for q in qs)
    assert all(not q.ednsflags & dns.flags.DO for q in qs)
    assert len({q.id for q in qs}) > 1
    assert len({port for _, _, port in auth.seen}) > 1
    assert all(q.question[0].rdtype == dns.rdatatype.A for q in qs)


def test_query_takes_type_and_class_in_any_order_and_makes_names_absolute(auth):
    r = query(auth, "MX", "IN", "example.com")
    assert r.returncode == 0, r.stderr
    q = auth.last_query()
    assert q.question[0].name == ORIGIN
    assert q.question[0].rdtype == dns.rdatatype.MX
    assert q.question[0].rdclass == dns.rdataclass.IN
    assert sorted(row[4] for row in answer_lines(r.stdout)) == \
        ["10 mail.example.com.", "20 mail2.example.net."]


def test_short_prints_only_the_rdata_of_the_answer_section(auth):
    r = query(auth, "www.example.com", "+short")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "web.example.com.\n192.0.2.80\n"
    r = query(auth, "example.com", "MX", "+short")
    sent = auth.last_sent()
    assert sorted(r.stdout.splitlines()) == sorted(rd.to_text() for rd in sent.answer[0])


def check_json_against_dnspython(doc, wire):
    m = dns.message.from_wire(wire)
    assert doc["ID"] == m.id
    for flag in ("QR", "AA", "TC", "RD", "RA", "AD", "CD"):
        assert doc[flag] is bool(m.flags & getattr(dns.flags, flag)), flag
    assert doc["Opcode"] == m.opcode()
    assert doc["RCODE"] == m.rcode() & 0xf
    assert doc["RCODEname"] == dns.rcode.to_text(m.rcode())
    counts = struct.unpack("!4H", wire[4:12])
    assert [doc[k] for k in ("QDCOUNT", "ANCOUNT", "NSCOUNT", "ARCOUNT")] == list(counts)
    assert doc["QNAME"] == m.question[0].name.to_text()
    assert doc["QTYPE"] == m.question[0].rdtype
    assert doc["QCLASS"] == m.question[0].rdclass
    assert doc["messageOctetsHEX"] == wire.hex().upper()
    for key, section in (("answerRRs", m.answer), ("authorityRRs", m.authority)):
        want = [(rrset.name.to_text(), rrset.rdtype, rrset.rdclass, rrset.ttl, rd.to_text())
                for rrset in section for rd in rrset]
        got = [(rr["NAME"], rr["TYPE"], rr["CLASS"], rr["TTL"], rr["rdata"])
               for rr in doc[key]]
        assert got == want
        for rr in doc[key]:
            assert len(bytes.fromhex(rr["RDATAHEX"])) == rr["RDLENGTH"]
            assert rr["TYPEname"] == dns.rdatatype.to_text(rr["TYPE"])
    additional = doc["additionalRRs"]
    assert [rr["TYPE"] for rr in additional] == [dns.rdatatype.OPT]
    assert doc["EDNS"]["udpPayloadSize"] == m.payload


def test_json_is_rfc8427_and_matches_dnspythons_view_of_the_answer(auth):
    r = query(auth, "example.com", "MX", "+json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    check_json_against_dnspython(doc, auth.sent[-1][1])
    assert all("rdataMX" in rr for rr in doc["answerRRs"])
    r = query(auth, "example.com", "AAAA", "+json")
    doc = json.loads(r.stdout)
    check_json_against_dnspython(doc, auth.sent[-1][1])
    assert doc["answerRRs"][0]["rdataAAAA"] == "2001:db8::1"
    assert doc["answerRRs"][0]["RDATAHEX"] == "20010DB8000000000000000000000001"
    assert doc["transport"] == "UDP" and doc["port"] == auth.port


def test_global_json_option_gives_the_same_layout(auth):
    r = run("--json", "query", "www.example.com", "@127.0.0.1:%d" % auth.port)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    check_json_against_dnspython(doc, auth.sent[-1][1])
    assert doc["answerRRs"][0]["rdataCNAME"] == "web.example.com."


def test_json_escapes_quotes_backslashes_and_control_characters(auth):
    r = query(auth, "weird.example.com", "TXT", "+json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    check_json_against_dnspython(doc, auth.sent[-1][1])
    txt = doc["answerRRs"][0]["rdataTXT"]
    assert '\\"hi\\"' in txt and "back\\\\slash" in txt


def test_tcp_option_uses_tcp(auth):
    r = query(auth, "example.com", "+tcp")
    assert r.returncode == 0, r.stderr
    assert [t for t, _, _ in auth.seen] == ["tcp"]
    assert ";; SERVER: 127.0.0.1#%d(127.0.0.1) (TCP)" % auth.port in r.stdout
    assert answer_lines(r.stdout) == [["example.com.", "3600", "IN", "A", "192.0.2.1"]]


def test_truncated_udp_answer_is_retried_over_tcp(auth):
    r = query(auth, "big.example.com", "TXT")
    assert r.returncode == 0, r.stderr
    assert [t for t, _, _ in auth.seen] == ["udp", "tcp"]
    assert ";; Truncated, retrying in TCP mode." in r.stdout
    assert len(answer_lines(r.stdout)) == 10
    assert "(TCP)" in r.stdout
    assert "flags: qr aa rd;" in r.stdout
    r = query(auth, "big.example.com", "TXT", "+json")
    doc = json.loads(r.stdout)
    assert doc["TC"] is False and doc["ANCOUNT"] == 10 and doc["transport"] == "TCP"


def test_nxdomain_is_reported_and_still_exits_0(auth):
    r = query(auth, "nothere.example.com")
    assert r.returncode == 0, r.stderr
    assert "status: NXDOMAIN" in r.stdout
    rows = answer_lines(r.stdout, "AUTHORITY")
    assert rows[0][:4] == ["example.com.", "3600", "IN", "SOA"]
    r = query(auth, "nothere.example.com", "+short")
    assert r.returncode == 0 and r.stdout == ""


def test_dnssec_sets_do_and_cd_sets_cd(auth):
    r = query(auth, "example.com", "+dnssec", "+cd")
    assert r.returncode == 0, r.stderr
    q = auth.last_query()
    assert q.ednsflags & dns.flags.DO
    assert q.flags & dns.flags.CD
    assert "; EDNS: version: 0, flags: do; udp: 1232" in r.stdout


def test_norecurse_clears_rd(auth):
    r = query(auth, "example.com", "+norecurse")
    assert r.returncode == 0, r.stderr
    assert not auth.last_query().flags & dns.flags.RD
    assert ";; flags: qr aa; QUERY: 1" in r.stdout
    assert "WARNING: recursion requested" not in r.stdout


def test_extended_dns_error_is_printed(auth):
    r = query(auth, "ede.example.com")
    assert r.returncode == 0, r.stderr
    assert "status: REFUSED" in r.stdout
    assert "; EDE: 18 (Prohibited): (not for you)\n" in r.stdout
    doc = json.loads(query(auth, "ede.example.com", "+json").stdout)
    assert doc["EDNS"]["EDE"] == [{"code": 18, "name": "Prohibited", "text": "not for you"}]


def test_datagrams_with_another_id_or_question_are_ignored(auth):
    r = query(auth, "spoof.example.com", "+short")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "192.0.2.77\n"
    assert "question section" in r.stderr


def test_malformed_answer_exits_1(auth):
    r = query(auth, "garbage.example.com")
    assert r.returncode == 1
    assert "malformed" in r.stderr


def test_tcp_answer_arriving_in_pieces_is_reassembled(auth):
    r = query(auth, "split.example.com", "TXT", "+tcp", "+short")
    assert r.returncode == 0, r.stderr
    assert r.stdout == '"one piece" "another piece"\n'


def test_malformed_rdata_is_shown_in_generic_form_and_exits_1(auth):
    r = query(auth, "badrdata.example.com")
    assert r.returncode == 1
    assert answer_lines(r.stdout) == [["badrdata.example.com.", "60", "IN", "A", "\\# 3 C00002"]]
    assert "malformed rdata" in r.stderr


def test_closed_port_exits_3_quickly():
    lock = PortLock()
    try:
        for extra in ([], ["+tcp"]):
            t0 = time.monotonic()
            r = run("query", "example.com", "@127.0.0.1:%d" % lock.port, *extra)
            assert r.returncode == 3, (extra, r.stdout, r.stderr)
            assert "refused" in r.stderr.lower()
            assert time.monotonic() - t0 < 5
    finally:
        lock.release()


def test_silent_server_times_out_after_time_times_tries(auth):
    t0 = time.monotonic()
    r = query(auth, "silent.example.com", "+time=1", "+tries=2")
    elapsed = time.monotonic() - t0
    assert r.returncode == 3
    assert "timed out" in r.stderr
    # Two tries of 1 s each: not less, and the upper bound is loose.
    assert 1.8 < elapsed < 15
    assert [t for t, _, _ in auth.seen] == ["udp", "udp"]


@pytest.mark.parametrize("args", [
    ["a..example.com"],
    ["%s.example.com" % ("x" * 64)],
    [".".join(["abcdefghi"] * 30)],
    ["example.com", "+bogus"],
    ["example.com", "-p", "53"],
    ["example.com", "+time=0"],
    ["example.com", "other.example.com"],
    ["example.com", "AXFR"],
])
def test_bad_arguments_are_usage_errors(auth, args):
    r = query(auth, *args)
    assert r.returncode == 2, (args, r.stdout, r.stderr)
    assert r.stderr
    assert auth.seen == []


@pytest.mark.parametrize("spec", ["@127.0.0.1:99999", "@127.0.0.1:", "@[::1", "@"])
def test_bad_server_is_a_usage_error(spec):
    r = run("query", "example.com", spec)
    assert r.returncode == 2, (spec, r.stdout, r.stderr)


def test_ipv6_server_bare_and_bracketed(auth):
    r = query(auth, "example.com", server="::1")
    assert r.returncode == 0, r.stderr
    assert ";; SERVER: ::1#%d(::1) (UDP)" % auth.port in r.stdout
    r = query(auth, "example.com", "+tcp", server="::1")
    assert r.returncode == 0, r.stderr
    assert "(TCP)" in r.stdout
    assert [t for t, _, _ in auth.seen] == ["udp", "tcp"]
    r = run("query", "example.com", "@::1#%d" % auth.port, "+short")
    assert r.returncode == 0 and r.stdout == "192.0.2.1\n", r.stderr


def test_bare_ipv6_server_uses_port_53():
    # Nothing listens on [::1]:53 here, so the refusal names the address and port used.
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    try:
        s.bind(("::1", 53))
    except OSError:
        pytest.skip("port 53 on ::1 is in use or not bindable; cannot check the refusal")
    s.close()
    r = run("query", "example.com", "@::1")
    assert r.returncode == 3
    assert "::1#53" in r.stderr


def test_query_against_tdnsd(server):
    """The client and the daemon agree: a CNAME chain, and TC then TCP for a large RRset."""
    r = run("query", "www.example.com", "@127.0.0.1:%d" % server.port, "+norecurse")
    assert r.returncode == 0, r.stderr
    assert ";; flags: qr aa; QUERY: 1, ANSWER: 2" in r.stdout
    assert answer_lines(r.stdout) == [
        ["www.example.com.", "600", "IN", "CNAME", "web.example.com."],
        ["web.example.com.", "3600", "IN", "A", "192.0.2.80"]]
    r = run("query", "big.example.com", "TXT", "@[::1]:%d" % server.port, "+json")
    assert r.returncode == 0, r.stderr
    assert "Truncated, retrying in TCP mode" in r.stderr
    doc = json.loads(r.stdout)
    assert doc["transport"] == "TCP" and doc["ANCOUNT"] == 20
    want = server.query("big.example.com", "TXT", tcp=True)
    assert sorted(rr["rdata"] for rr in doc["answerRRs"]) == \
        sorted(rd.to_text() for rd in want.answer[0])
