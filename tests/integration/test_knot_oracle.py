# SPDX-License-Identifier: MIT
"""Knot DNS as an oracle: for the same zones, tdnsd's rcode, AA flag, answer and authority match."""
import os
import shutil

import dns.flags
import dns.message
import dns.query
import pytest

from conftest import RFC4592, STANDARD_ZONES
from helpers import Daemon, answer_summary, start_retrying

# Queries whose answers RFC 1034/2308/4592/6672 fix completely (the additional section, ANY and
# truncated replies leave servers a choice, so they are checked elsewhere against the RFCs).
# Chains that leave the zone (out.example.com, DNAME to example.net) are not here: Knot stops at
# the zone boundary, tdnsd follows into its other zones (test_auth.py checks that).
QUERIES = [
    ("example.com", "SOA"), ("example.com", "NS"), ("example.com", "MX"), ("example.com", "A"),
    ("example.com", "AAAA"), ("example.com", "TXT"), ("ExAmPlE.cOm", "A"),
    ("web.example.com", "A"), ("web.example.com", "AAAA"), ("www.example.com", "A"),
    ("www.example.com", "CNAME"), ("www.example.com", "AAAA"), ("chain1.example.com", "A"),
    ("ext.example.com", "A"), ("dangling.example.com", "A"),
    ("nope.example.com", "A"), ("deeper.web.example.com", "A"), ("_tcp.example.com", "A"),
    ("_sip._tcp.example.com", "SRV"), ("x.w.example.com", "A"), ("a.b.w.example.com", "TXT"),
    ("x.w.example.com", "MX"), ("y.w.example.com", "A"), ("z.y.w.example.com", "A"),
    ("x.y.w.example.com", "A"), ("foo.wc.example.com", "A"), ("*.w.example.com", "A"),
    ("host.sub.example.com", "A"), ("sub.example.com", "NS"), ("sub.example.com", "DS"),
    ("ns1.sub.example.com", "A"), ("web.example.com", "DS"),
    ("dn.example.com", "DNAME"), ("dn.example.com", "A"),
    ("%s.%s.long.example.com" % ("p" * 63, "q" * 63), "A"),
    ("www.example.net", "A"), ("nope.example.net", "A"), ("www.example.net", "MX"),
    ("example.org", "A"),
    ("host3.example", "MX"), ("host3.example", "A"), ("foo.bar.example", "TXT"),
    ("host1.example", "MX"), ("sub.*.example", "MX"), ("_telnet._tcp.host1.example", "SRV"),
    ("ghost.*.example", "MX"), ("*.example", "TXT"), ("host.subdel.example", "A"),
]


class Knot(Daemon):
    """knotd serving the standard zones and RFC 4592's example on a locked loopback port."""

    name = "knotd"

    def __init__(self, d):
        super().__init__(str(d))
        self.knotd = shutil.which("knotd") or "/usr/sbin/knotd"
        assert os.access(self.knotd, os.X_OK), "knotd (Debian package knot) is required"
        start_retrying(self.start)

    def start(self):
        self.port = self.lock_ports()[0]
        d = self.dir
        zones = dict(STANDARD_ZONES, example=RFC4592)
        conf = ["server:", "    rundir: \"%s\"" % d, "    listen: 127.0.0.1@%d" % self.port,
                "    udp-workers: 1", "    tcp-workers: 1", "    background-workers: 1",
                "database:", "    storage: \"%s\"" % d, "log:", "  - target: stderr",
                "    any: warning", "zone:"]
        for name, text in zones.items():
            with open(os.path.join(d, name + ".zone"), "w") as f:
                f.write(text)
            conf += ["  - domain: %s" % name, "    file: \"%s/%s.zone\"" % (d, name),
                     "    storage: \"%s\"" % d]
        with open(os.path.join(d, "knot.conf"), "w") as f:
            f.write("\n".join(conf) + "\n")
        self.launch([self.knotd, "-c", os.path.join(d, "knot.conf")])

        def up():
            r = dns.query.udp(dns.message.make_query("example.", "SOA"), "127.0.0.1",
                              port=self.port, timeout=0.2)
            return bool(r.answer)
        self.wait_until(up)


@pytest.fixture
def knot(tmp_path):
    d = tmp_path / "knot"
    d.mkdir()
    k = Knot(d)
    try:
        yield k.port
    finally:
        k.stop()


def test_answers_match_knot(make_server, knot):
    srv = make_server(zones=dict(STANDARD_ZONES, example=RFC4592))
    diffs = []
    for name, qtype in QUERIES:
        q = dns.message.make_query(name, qtype, use_edns=0, payload=1232)
        q.flags &= ~dns.flags.RD
        mine = answer_summary(dns.query.udp(q, "127.0.0.1", port=srv.port, timeout=3))
        ref = answer_summary(dns.query.udp(q, "127.0.0.1", port=knot, timeout=3))
        if mine != ref:
            diffs.append("%s %s\n  tdnsd: %s\n  knot:  %s" % (name, qtype, mine, ref))
    assert not diffs, "\n".join(diffs)
