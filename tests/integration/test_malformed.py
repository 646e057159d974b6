# SPDX-License-Identifier: MIT
"""Malformed queries over UDP and TCP: FORMERR or silence (RFC 1035), and the server lives on."""
import random
import select
import socket
import struct
import time

import dns.message
import dns.rcode
import dns.rdatatype
import pytest

from helpers import WAIT_SHORT, read_dns_tcp

FORMERR = 1
QUESTION = b"\x07example\x03com\x00" + struct.pack("!HH", 6, 1)   # example.com SOA IN


def header(qid=0x1234, flags=0x0000, qd=1, an=0, ns=0, ar=0):
    return struct.pack("!HHHHHH", qid, flags, qd, an, ns, ar)


def opt(version=0, payload=1232, rdata=b""):
    return b"\x00" + struct.pack("!HHBBHH", 41, payload, 0, version, 0, len(rdata)) + rdata


def udp_exchange(server, data, wait=1.0):
    """Sends one datagram; returns the reply bytes or None when nothing came within wait."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(wait)
        s.sendto(data, (server.addr, server.port))
        try:
            return s.recv(65535)
        except socket.timeout:
            return None


def parse_header(reply):
    qid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", reply[:12])
    return {"id": qid, "qr": flags >> 15, "opcode": (flags >> 11) & 0xF, "rcode": flags & 0xF,
            "qd": qd, "an": an, "ns": ns, "ar": ar}


def assert_alive(server):
    r = server.query("example.com", "SOA", timeout=3)
    assert r.rcode() == dns.rcode.NOERROR
    assert r.answer and r.answer[0].rdtype == dns.rdatatype.SOA
    r = server.query("example.com", "SOA", tcp=True, timeout=3)
    assert r.rcode() == dns.rcode.NOERROR


def assert_formerr(server, data, qid=0x1234):
    reply = udp_exchange(server, data, wait=3.0)
    assert reply is not None, "no FORMERR reply"
    assert len(reply) >= 12
    h = parse_header(reply)
    assert h["qr"] == 1
    assert h["id"] == qid
    assert h["rcode"] == FORMERR, h
    assert h["an"] == 0
    assert_alive(server)


# The valid query sent after a packet that must get no answer; its ID differs from header()'s.
PROBE_ID = 0x5678


def assert_dropped(server, data):
    """data gets no reply: a valid query sent after it on the same socket is answered, and its
    reply is the first datagram that comes back (one worker reads the socket in order)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(WAIT_SHORT)
        s.connect((server.addr, server.port))
        s.send(data)
        s.send(header(qid=PROBE_ID) + QUESTION)
        first = s.recv(65535)
    h = parse_header(first)
    assert h["id"] == PROBE_ID and h["qr"] == 1 and h["rcode"] == 0, \
        "the first reply is not the one to the valid query: %r" % first[:12]
    assert_alive(server)


# ---------------------------------------------------------------- UDP: dropped

@pytest.mark.parametrize("data", [b"", b"\x12", b"\x12\x34\x00\x00\x00", header()[:11]])
def test_packet_shorter_than_a_header_is_dropped(server, data):
    assert_dropped(server, data)


def test_response_bit_set_is_dropped(server):
    # RFC 1035 §4.1.1: QR=1 is a response; answering it would allow reflection loops.
    assert_dropped(server, header(flags=0x8000) + QUESTION)


def test_formerr_shaped_response_is_dropped(server):
    assert_dropped(server, header(flags=0x8001, qd=0))


# ---------------------------------------------------------------- UDP: FORMERR

def test_valid_raw_query_is_answered(server):
    reply = udp_exchange(server, header() + QUESTION, wait=3.0)
    h = parse_header(reply)
    assert h["qr"] == 1 and h["rcode"] == 0 and h["an"] == 1 and h["id"] == 0x1234


def test_header_only_with_qdcount_1_is_formerr(server):
    assert_formerr(server, header(qd=1))


def test_no_question_is_formerr(server):
    assert_formerr(server, header(qd=0))


def test_two_questions_is_formerr(server):
    # RFC 9619: QDCOUNT must be 1.
    assert_formerr(server, header(qd=2) + QUESTION + QUESTION)


def test_question_without_type_and_class_is_formerr(server):
    assert_formerr(server, header() + b"\x07example\x03com\x00\x00")


def test_compression_loop_is_formerr(server):
    # The question name is a pointer to itself (offset 12).
    assert_formerr(server, header() + b"\xc0\x0c" + struct.pack("!HH", 1, 1))


def test_two_pointer_loop_is_formerr(server):
    # 12: label "a" then a pointer to 16; 16: a pointer back to 12.
    assert_formerr(server, header() + b"\x01a\xc0\x10" + b"\xc0\x0c" + struct.pack("!HH", 1, 1))


def test_pointer_past_end_is_formerr(server):
    assert_formerr(server, header() + b"\x03www\xc0\xff" + struct.pack("!HH", 1, 1))


def test_forward_pointer_is_formerr(server):
    # RFC 1035 §4.1.4: a pointer refers to a prior occurrence; this one points ahead.
    assert_formerr(server, header() + b"\xc0\x12" + struct.pack("!HH", 1, 1) + b"\x03foo\x00")


def test_reserved_label_type_is_formerr(server):
    assert_formerr(server, header() + b"\x43abc\x00" + struct.pack("!HH", 1, 1))


def test_name_longer_than_255_octets_is_formerr(server):
    name = b"".join(b"\x3f" + b"a" * 63 for _ in range(5)) + b"\x00"   # 321 octets
    assert_formerr(server, header() + name + struct.pack("!HH", 1, 1))


def test_label_running_past_end_is_formerr(server):
    assert_formerr(server, header() + b"\x20short")


def test_huge_counts_are_formerr(server):
    assert_formerr(server, header(an=0xFFFF, ns=0xFFFF, ar=0xFFFF) + QUESTION)


def test_additional_count_without_records_is_formerr(server):
    assert_formerr(server, header(ar=1) + QUESTION)


def test_two_opt_records_are_formerr(server):
    # RFC 6891 §6.1.1: more than one OPT is FORMERR.
    assert_formerr(server, header(ar=2) + QUESTION + opt() + opt())


def test_opt_with_non_root_owner_is_formerr(server):
    bad = b"\x01x\x00" + opt()[1:]
    assert_formerr(server, header(ar=1) + QUESTION + bad)


def test_opt_with_truncated_option_is_formerr(server):
    # One option header claims 10 bytes but only 2 follow.
    assert_formerr(server, header(ar=1) + QUESTION + opt(rdata=b"\x00\x0a\x00\x0a\x00\x00"))


def test_trailing_garbage_is_formerr(server):
    assert_formerr(server, header() + QUESTION + b"\xde\xad\xbe\xef")


def test_record_rdlength_past_end_is_formerr(server):
    rr = b"\x00" + struct.pack("!HHIH", 1, 1, 0, 50) + b"\x01\x02"
    assert_formerr(server, header(ar=1) + QUESTION + rr)


# ---------------------------------------------------------------- TCP

def tcp_connect(server, timeout=3.0):
    s = socket.create_connection((server.addr, server.port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def closed_or_silent(s):
    """True when the server closes the connection, or answers a valid query sent next on it
    and that answer is the first message it sends (so it sent none to what came before)."""
    s.settimeout(WAIT_SHORT)
    q = header(qid=PROBE_ID) + QUESTION
    try:
        s.sendall(struct.pack("!H", len(q)) + q)
        first = read_dns_tcp(s)
    except (ConnectionResetError, BrokenPipeError):
        return True
    if first is None:
        return True
    return parse_header(first)["id"] == PROBE_ID


def test_tcp_slow_partial_writes_get_a_full_answer(server):
    q = dns.message.make_query("www.example.com", "A").to_wire()
    with tcp_connect(server, timeout=5) as s:
        for b in struct.pack("!H", len(q)) + q:
            s.sendall(bytes([b]))
            time.sleep(0.02)
        r = dns.message.from_wire(read_dns_tcp(s))
    assert r.rcode() == dns.rcode.NOERROR and len(r.answer) == 2


def test_tcp_length_larger_than_data_then_close_is_harmless(server):
    with tcp_connect(server) as s:
        s.sendall(struct.pack("!H", 100) + (header() + QUESTION)[:20])
    assert_alive(server)


def test_tcp_zero_length_message_gets_no_answer(server):
    with tcp_connect(server) as s:
        s.sendall(b"\x00\x00")
        assert closed_or_silent(s)
    assert_alive(server)


def test_tcp_short_message_gets_no_answer(server):
    with tcp_connect(server) as s:
        s.sendall(b"\x00\x05hello")
        assert closed_or_silent(s)
    assert_alive(server)


def test_tcp_formerr_for_header_only_query(server):
    with tcp_connect(server) as s:
        s.sendall(b"\x00\x0c" + header(qid=0x7777))
        reply = read_dns_tcp(s)
    assert reply is not None
    h = parse_header(reply)
    assert h["qr"] == 1 and h["id"] == 0x7777 and h["rcode"] == FORMERR
    assert_alive(server)


def test_tcp_half_length_prefix_then_close(server):
    with tcp_connect(server) as s:
        s.sendall(b"\x00")
    assert_alive(server)


def test_tcp_valid_query_after_formerr_on_same_connection(server):
    q = dns.message.make_query("example.com", "SOA")
    good = q.to_wire()
    with tcp_connect(server) as s:
        bad = header(qid=0x5555, qd=2) + QUESTION + QUESTION
        s.sendall(struct.pack("!H", len(bad)) + bad)
        first = read_dns_tcp(s)
        assert first is not None and parse_header(first)["rcode"] == FORMERR
        # The server may keep the connection (then it answers the next query) or close it
        # after the error (RFC 7766 leaves this open); it must not answer wrongly.
        try:
            s.sendall(struct.pack("!H", len(good)) + good)
            reply = read_dns_tcp(s)
        except (BrokenPipeError, ConnectionResetError):
            reply = None
        if reply is not None:
            r = dns.message.from_wire(reply)
            assert r.id == q.id and r.rcode() == dns.rcode.NOERROR
    assert_alive(server)


# ---------------------------------------------------------------- random garbage

def mutate(rng, base):
    data = bytearray(base)
    for _ in range(rng.randint(1, 6)):
        op = rng.randrange(4)
        if op == 0 and data:
            data[rng.randrange(len(data))] = rng.randrange(256)
        elif op == 1:
            data.insert(rng.randrange(len(data) + 1), rng.randrange(256))
        elif op == 2 and data:
            del data[rng.randrange(len(data)):]
        else:
            data += bytes(rng.randrange(256) for _ in range(rng.randrange(16)))
    return bytes(data)


def corpus():
    out = []
    for name, t, edns in (("example.com", "SOA", -1), ("www.example.com", "A", 0),
                          ("x.w.example.com", "TXT", 0), ("host.sub.example.com", "A", 0),
                          ("a.dn.example.com", "A", 0), ("big.example.com", "TXT", -1)):
        out.append(dns.message.make_query(name, t, use_edns=edns).to_wire())
    return out


def test_udp_burst_of_random_and_mutated_packets(server):
    rng = random.Random(20240101)
    base = corpus()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        for i in range(2000):
            if i % 3 == 0:
                pkt = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 600)))
            else:
                pkt = mutate(rng, rng.choice(base))
            s.sendto(pkt, (server.addr, server.port))
            # Drain replies so our own receive buffer never stalls the burst.
            while select.select([s], [], [], 0)[0]:
                reply = s.recv(65535)
                assert len(reply) >= 12 and reply[2] & 0x80   # every reply is a response
            if i % 200 == 199:
                time.sleep(0.01)
        assert server.proc.poll() is None
    assert_alive(server)


def test_tcp_stream_of_mutated_messages(server):
    rng = random.Random(4242)
    base = corpus()
    for conn in range(20):
        try:
            with tcp_connect(server) as s:
                for _ in range(10):
                    pkt = mutate(rng, rng.choice(base))
                    s.sendall(struct.pack("!H", len(pkt)) + pkt)
                s.settimeout(0.2)
                try:
                    while s.recv(65535):
                        pass
                except (socket.timeout, ConnectionResetError):
                    pass
        except (BrokenPipeError, ConnectionResetError):
            pass
    assert server.proc.poll() is None
    assert_alive(server)
