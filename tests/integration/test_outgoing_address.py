# SPDX-License-Identifier: MIT
"""[recursion] outgoing-address (issue 21): every query the iterator sends, over UDP and over TCP
after a truncated answer, leaves from the configured address.  The scripted servers of the
replayed scenarios (replay.py: root, test. and example.test. on port 53 of 127.R.x.y) record
the source address of each query they get.  Needs root (port 53)."""
import os

import dns.flags
import dns.message
import dns.query
import dns.rcode
import pytest

import hierarchy
import replay

SCENARIO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scenarios",
                        "tc_then_tcp.scn")
TIMEOUT = 20.0


@pytest.fixture
def playback(tmp_path):
    lock = hierarchy.BlockLock()
    hierarchy.check_port53("127.%d.0.1" % lock.r)
    pb = replay.Playback(replay.Scenario(SCENARIO), lock.r, str(tmp_path))
    yield pb
    pb.stop()
    lock.release()


def test_iterator_queries_leave_from_the_outgoing_address(make_server, playback):
    source = playback.addr("0.77")
    srv = make_server(extra="[recursion]\nmode = recursive\nroot-hints = %s\n"
                      "allow = 127.0.0.0/8\noutgoing-address = %s, ::1\n"
                      % (playback.hints, source))
    q = dns.message.make_query("www.example.test.", "A", use_edns=0, payload=1232)
    r = dns.query.udp(q, "127.0.0.1", port=srv.port, timeout=TIMEOUT)
    assert r.rcode() == dns.rcode.NOERROR, r
    assert [rd.address for rrset in r.answer for rd in rrset] == ["192.0.2.1"], r
    # A truncated answer upstream makes the iterator ask again over TCP.
    q = dns.message.make_query("big.example.test.", "TXT", use_edns=0, payload=1232)
    r = dns.query.tcp(q, "127.0.0.1", port=srv.port, timeout=TIMEOUT)
    assert r.rcode() == dns.rcode.NOERROR and not r.flags & dns.flags.TC, r
    assert sum(len(rrset) for rrset in r.answer) == 20, r
    sources = {s.addr: list(s.sources) for s in playback.servers}
    # Every server of the chain was asked, each time from the outgoing address.
    for addr in (playback.addr("0.1"), playback.addr("1.1"), playback.addr("2.1")):
        assert sources[addr], sources
    assert {a for got in sources.values() for a, _ in got} == {source}, sources
    assert (source, "tcp") in sources[playback.addr("2.1")], sources
