# SPDX-License-Identifier: MIT
"""IXFR from the journal (issue 17, RFC 1995): each change of a primary zone (tdns-cli record
edits, reloads of a changed file) is kept in state-dir/NAME.jnl and sent incrementally; the SOA
alone to a current client; the whole zone when the journal does not reach back; the journal
survives a restart."""
import os

import dns.message
import dns.rdatatype
import dns.rrset

from helpers import WAIT_LONG, cli_ok, wait_for
from test_xfr import ZONE, xfr_messages, xfr_server, zone_records

OLD = 2026120701


def ixfr(srv, serial):
    """The records of an IXFR for a client at serial, in order, as (name, type, text)."""
    q = dns.message.make_query("xfr.test.", "IXFR", use_edns=False)
    q.authority.append(dns.rrset.from_text("xfr.test.", 0, "IN", "SOA",
                                           ". . %d 0 0 0 0" % serial))
    out = []
    for wire in xfr_messages(srv, q):
        r = dns.message.from_wire(wire, one_rr_per_rrset=True, xfr=True)
        for rrs in r.answer:
            for rd in rrs:
                out.append((rrs.name.to_text().lower(), dns.rdatatype.to_text(rrs.rdtype),
                            rd.to_text()))
    return out


def soa_serial(rec):
    return int(rec[2].split()[2]) if rec[1] == "SOA" else None


def test_ixfr_after_record_edits_is_incremental(make_server):
    srv = xfr_server(make_server, "127.0.0.1")
    s1 = cli_ok(srv, "record", "add", "xfr.test", "new", "A", "192.0.2.7")["serial"]
    s2 = cli_ok(srv, "record", "delete", "xfr.test", "mail", "A", "192.0.2.25")["serial"]
    recs = ixfr(srv, OLD)
    serials = [soa_serial(r) for r in recs if r[1] == "SOA"]
    # RFC 1995 §4: new SOA, (old SOA, deleted, next SOA, added) per change, new SOA.
    assert serials == [s2, OLD, s1, s1, s2, s2], recs
    i = recs.index(next(r for r in recs if soa_serial(r) == s1))
    assert recs[i + 1] == ("new.xfr.test.", "A", "192.0.2.7"), recs
    assert ("mail.xfr.test.", "A", "192.0.2.25") in recs
    assert len(recs) == 8, recs
    assert "IXFR to 127.0.0.1 done" in srv.log()
    # From the middle of the history: the last change alone.
    recs = ixfr(srv, s1)
    assert [soa_serial(r) for r in recs if r[1] == "SOA"] == [s2, s1, s2, s2]
    # A current client gets the SOA alone.
    recs = ixfr(srv, s2)
    assert len(recs) == 1 and soa_serial(recs[0]) == s2
    # A serial the journal does not reach: the whole zone (AXFR style).
    recs = ixfr(srv, OLD - 5)
    assert len(recs) == len(zone_records(ZONE, "xfr.test.")) + 1
    assert "IXFR (full) to 127.0.0.1 done" in srv.log()
    # The journal is on disk in state-dir and survives a restart.
    assert os.path.getsize(os.path.join(srv.dir, "xfr.test.jnl")) > 0
    srv.stop()
    srv.start()
    recs = ixfr(srv, OLD)
    assert [soa_serial(r) for r in recs if r[1] == "SOA"] == [s2, OLD, s1, s1, s2, s2]


def test_reload_of_a_changed_file_is_journaled_as_its_difference(make_server):
    srv = xfr_server(make_server, "127.0.0.1")
    changed = ZONE.replace("2026120701", "2026120702").replace("192.0.2.25", "192.0.2.26")
    srv.write_zone("xfr.test", changed)
    srv.reload()
    wait_for(lambda: "reload done" in srv.log(), timeout=WAIT_LONG, what="the reload",
             log=srv.log)
    recs = ixfr(srv, OLD)
    assert recs == [
        ("xfr.test.", "SOA", recs[0][2]),
        ("xfr.test.", "SOA", recs[1][2]),
        ("mail.xfr.test.", "A", "192.0.2.25"),
        ("xfr.test.", "SOA", recs[3][2]),
        ("mail.xfr.test.", "A", "192.0.2.26"),
        ("xfr.test.", "SOA", recs[0][2]),
    ]
    assert [soa_serial(r) for r in recs if r[1] == "SOA"] == [2026120702, OLD, 2026120702,
                                                             2026120702]


def test_journal_is_compacted_past_journal_size(make_server):
    srv = xfr_server(make_server, "127.0.0.1", extra="")
    with open(srv.conf) as f:
        text = f.read()
    srv.write_config(text.replace("allow-transfer = ", "journal-size = 1K\nallow-transfer = "))
    srv.reload()
    wait_for(lambda: "reload done" in srv.log(), timeout=WAIT_LONG, what="the reload",
             log=srv.log)
    serials = [OLD]
    for i in range(8):
        serials.append(cli_ok(srv, "record", "add", "xfr.test", "t%d" % i, "TXT",
                              '"%s"' % ("z" * 200))["serial"])
    path = os.path.join(srv.dir, "xfr.test.jnl")
    # Each change takes some 330 bytes: 1K holds the last three, the file no more.
    assert os.path.getsize(path) < 1024 + 8 + 3 * 12
    recs = ixfr(srv, serials[-3])
    assert [soa_serial(r) for r in recs if r[1] == "SOA"] == \
        [serials[-1], serials[-3], serials[-2], serials[-2], serials[-1], serials[-1]]
    # The first changes are gone: from there the whole zone.
    recs = ixfr(srv, OLD)
    assert len(recs) == len(zone_records(ZONE, "xfr.test.")) + 8 + 1
