# SPDX-License-Identifier: MIT
"""Secondary zones (issue 17): tdnsd transfers zones from Knot and from another tdnsd (AXFR,
IXFR from Knot's journal, TSIG, a wrong key refused), NOTIFY from a primary triggers the
refresh and NOTIFY from elsewhere is refused, the copy is served again after a restart until
it expires (SERVFAIL after), kill -9 in the middle of a transfer leaves the old copy, and a
100,000-record zone comes in whole."""
import os
import shutil
import signal
import subprocess
import time

import dns.flags
import dns.message
import dns.opcode
import dns.query
import dns.rcode
import dns.rdatatype
import dns.tsig
import dns.tsigkeyring
import pytest

from helpers import Daemon, WAIT_LONG, cli_json, cli_ok, start_retrying, wait_for
from test_xfr import KnotSecondary

SECRET = "c2VjcmV0LWtleS1mb3ItdGRucy10c2lnLXRlc3Rz"
WRONG = "bm90LXRoZS1zZWNyZXQtb2YtdHJhbnNmZXIta2V5"

# Transfers of big zones on a loaded machine: a generous deadline, never a fixed sleep.
WAIT_XFR = 60.0


def zone_text(serial, extra="", origin="sec.test", refresh=3600, retry=600, expire=1209600):
    return ("$ORIGIN %s.\n$TTL 300\n"
            "@ IN SOA ns1 hostmaster %d %d %d %d 300\n"
            "@ NS ns1\nns1 A 192.0.2.53\nwww A 192.0.2.80\n"
            "mail MX 10 www\ntxt TXT \"serial %d\"\n%s"
            % (origin, serial, refresh, retry, expire, serial, extra))


def tsig_section(name="transfer-key", secret=SECRET):
    return "[tsig %s]\nalgorithm = hmac-sha256\nsecret = %s\n\n" % (name, secret)


def primary(make_server, text, allow="127.0.0.0/8", extra="", origin="sec.test"):
    """A tdnsd primary for origin, transfers allowed by allow."""
    srv = make_server(start=False, extra=extra + "[zone %s]\nfile = %s.zone\n"
                      "allow-transfer = %s\n" % (origin, origin, allow))
    srv.write_zone(origin, text)
    srv.start()
    return srv


def secondary(make_server, primaries, extra="", origin="sec.test", start=True):
    """A tdnsd secondary for origin from primaries (the value of the key)."""
    srv = make_server(start=False, extra=extra + "[zone %s]\ntype = secondary\n"
                      "primaries = %s\n" % (origin, primaries))
    if start:
        srv.start()
    return srv


def pair(make_server, text, **kw):
    """A tdnsd primary serving text and a tdnsd secondary of it that has its serial."""
    prim = primary(make_server, text, **kw)
    sec = secondary(make_server, "127.0.0.1:%d" % prim.port)
    wait_serial(sec, soa_of(text))
    return prim, sec


def soa_of(text):
    return int(text.split("hostmaster ")[1].split()[0])


def soa_serial(srv, origin="sec.test."):
    try:
        r = srv.query(origin, "SOA", timeout=1)
    except dns.exception.Timeout:
        return None
    if r.rcode() != dns.rcode.NOERROR or not r.answer:
        return None
    return r.answer[0][0].serial


def wait_serial(srv, serial, origin="sec.test.", timeout=WAIT_LONG):
    wait_for(lambda: soa_serial(srv, origin) == serial, timeout=timeout,
             what="serial %d served by the secondary" % serial, log=srv.log)


def rcode_of(srv, name, rdtype="A"):
    return srv.query(name, rdtype, timeout=2).rcode()


# ---- tdnsd as a secondary of tdnsd ----


def test_secondary_transfers_from_tdnsd_and_serves_the_same_answers(make_server):
    prim, sec = pair(make_server, zone_text(1))
    for name, rdtype in (("sec.test.", "NS"), ("www.sec.test.", "A"), ("mail.sec.test.", "MX"),
                         ("txt.sec.test.", "TXT"), ("nx.sec.test.", "A")):
        a, b = prim.query(name, rdtype), sec.query(name, rdtype)
        assert a.rcode() == b.rcode(), name
        assert sorted(map(str, a.answer)) == sorted(map(str, b.answer)), name
        assert sorted(map(str, a.authority)) == sorted(map(str, b.authority)), name
        assert b.flags & dns.flags.AA
    assert "AXFR from 127.0.0.1:%d" % prim.port in sec.log()
    # The copy is kept in state-dir, with the time of the refresh beside it.
    path = os.path.join(sec.dir, "sec.test.zone")
    assert "txt" in open(path).read() and os.path.exists(path + ".refreshed")


def test_secondary_without_data_answers_servfail(make_server):
    # Nobody listens on the primary's port: never transferred, nothing to serve.
    sec = secondary(make_server, "127.0.0.1:9")
    assert rcode_of(sec, "www.sec.test.") == dns.rcode.SERVFAIL
    wait_for(lambda: "SOA query" in sec.log() or "AXFR from" in sec.log(), what="the failure",
             log=sec.log)


def test_secondary_with_tsig_and_refused_with_a_wrong_key(make_server):
    prim = primary(make_server, zone_text(7), allow="key transfer-key", extra=tsig_section())
    good = secondary(make_server, "127.0.0.1:%d key transfer-key" % prim.port,
                     extra=tsig_section())
    wait_serial(good, 7)
    assert "(TSIG)" in good.log()
    bad = secondary(make_server, "127.0.0.1:%d key transfer-key" % prim.port,
                    extra=tsig_section(secret=WRONG))
    wait_for(lambda: "BADSIG" in bad.log(), what="the BADSIG", log=bad.log)
    assert rcode_of(bad, "www.sec.test.") == dns.rcode.SERVFAIL
    # Without a key the primary refuses.
    nokey = secondary(make_server, "127.0.0.1:%d" % prim.port)
    wait_for(lambda: "REFUSED" in nokey.log(), what="the refusal", log=nokey.log)
    assert rcode_of(nokey, "www.sec.test.") == dns.rcode.SERVFAIL


def notify(port, origin, source="127.0.0.1", keyring=None, keyname=None):
    q = dns.message.make_query(origin, "SOA")
    q.set_opcode(dns.opcode.NOTIFY)
    q.flags |= dns.flags.AA
    if keyring:
        q.use_tsig(keyring, keyname=keyname)
    return dns.query.udp(q, "127.0.0.1", port=port, timeout=3, source=source)


def test_notify_from_the_primary_triggers_the_refresh(make_server):
    prim, sec = pair(make_server, zone_text(1))
    prim.write_zone("sec.test", zone_text(2, "new A 192.0.2.2\n"))
    prim.reload()
    wait_serial(prim, 2)
    r = notify(sec.port, "sec.test.")
    assert r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.AA
    assert r.opcode() == dns.opcode.NOTIFY
    # The refresh timer is an hour: only the NOTIFY can bring serial 2 this soon.
    wait_serial(sec, 2)
    assert sec.query("new.sec.test.", "A").answer[0][0].address == "192.0.2.2"
    assert "NOTIFY from 127.0.0.1" in sec.log()


def test_notify_from_elsewhere_or_for_another_zone_is_refused(make_server):
    prim, sec = pair(make_server, zone_text(1))
    # 127.0.0.2 is not a primary of the zone.
    assert notify(sec.port, "sec.test.", source="127.0.0.2").rcode() == dns.rcode.REFUSED
    # A zone tdnsd is not a secondary for (the primary's own zone).
    assert notify(prim.port, "sec.test.").rcode() == dns.rcode.REFUSED
    assert "refused" in sec.log()


def test_notify_needs_the_primary_key(make_server):
    prim = primary(make_server, zone_text(1), allow="key transfer-key", extra=tsig_section())
    sec = secondary(make_server, "127.0.0.1:%d key transfer-key" % prim.port,
                    extra=tsig_section())
    wait_serial(sec, 1)
    assert notify(sec.port, "sec.test.").rcode() == dns.rcode.NOTAUTH
    ring = dns.tsigkeyring.from_text({"transfer-key.": ("hmac-sha256", SECRET)})
    r = notify(sec.port, "sec.test.", keyring=ring, keyname="transfer-key.")
    assert r.rcode() == dns.rcode.NOERROR


def test_expired_secondary_answers_servfail(make_server):
    # Refresh and retry every second, expire after 4 s: with the primary gone it expires.
    prim, sec = pair(make_server, zone_text(3, refresh=1, retry=1, expire=4))
    prim.stop()
    wait_for(lambda: rcode_of(sec, "www.sec.test.") == dns.rcode.SERVFAIL, timeout=WAIT_LONG * 2,
             what="SERVFAIL after expiry", log=sec.log)
    assert "expired" in sec.log()


def test_restart_serves_the_copy_on_disk_until_it_expires(make_server):
    prim, sec = pair(make_server, zone_text(5))
    prim.stop()
    sec.stop()
    sec.start()
    # Served at once, before any refresh could succeed (the primary is gone).
    assert soa_serial(sec) == 5
    assert "from %s" % os.path.join(sec.dir, "sec.test.zone") in sec.log()
    sec.stop()
    # A copy older than its expire is not served.
    path = os.path.join(sec.dir, "sec.test.zone.refreshed")
    with open(path, "w") as f:
        f.write("%d\n" % (time.time() - 2000000))
    sec.start()
    assert rcode_of(sec, "www.sec.test.") == dns.rcode.SERVFAIL
    assert "expired" in sec.log()


def big_zone(serial, n, origin="sec.test"):
    return zone_text(serial, "".join("h%d A 10.%d.%d.%d\n" % (i, i >> 16 & 255, i >> 8 & 255,
                                                                 i & 255) for i in range(n)),
                     origin=origin)


def test_a_100000_record_zone_comes_in_whole(make_server):
    prim = primary(make_server, big_zone(1, 100000))
    sec = secondary(make_server, "127.0.0.1:%d" % prim.port)
    wait_serial(sec, 1, timeout=WAIT_XFR)
    assert sec.query("h99999.sec.test.", "A").answer[0][0].address == "10.1.134.159"
    assert "100006 records" in sec.log()


def test_kill_during_a_transfer_leaves_the_old_copy(make_server):
    prim, sec = pair(make_server, zone_text(1))
    prim.write_zone("sec.test", big_zone(2, 300000))
    prim.reload()
    wait_serial(prim, 2, timeout=WAIT_XFR)
    notify(sec.port, "sec.test.")
    wait_for(lambda: "transferring" in sec.log(), what="the transfer's start", log=sec.log)
    sec.signal(signal.SIGKILL)
    sec.proc.wait()
    assert "serial 2, " not in sec.log(), "the transfer finished before the kill"
    prim.stop()
    sec.start()
    assert soa_serial(sec) == 1
    assert rcode_of(sec, "h1.sec.test.") == dns.rcode.NXDOMAIN


# ---- tdnsd as a secondary of Knot ----


class KnotPrimary(KnotSecondary):
    """knotd, primary for origin with a journal (IXFR) and NOTIFY to tdnsd on notify_port."""

    name = "knotd"

    def __init__(self, d, origin, text, notify_port, key=None):
        Daemon.__init__(self, str(d))
        self.binary = shutil.which("knotd") or "/usr/sbin/knotd"
        assert os.access(self.binary, os.X_OK), "knotd (Debian package knot) is required"
        self.origin, self.notify_port, self.key = origin, notify_port, key
        self.zone_file = os.path.join(str(d), "%s.zone" % origin.rstrip("."))
        with open(self.zone_file, "w") as f:
            f.write(text)
        start_retrying(self.start)

    def start(self):
        self.port = self.lock_ports()[0]
        d = self.dir
        conf = ["server:", "    rundir: \"%s\"" % d, "    listen: 127.0.0.1@%d" % self.port,
                "    udp-workers: 1", "    tcp-workers: 1", "    background-workers: 1",
                "database:", "    storage: \"%s\"" % d, "log:", "  - target: stderr",
                "    any: info", "control:", "    listen: \"%s/knot.sock\"" % d]
        if self.key:
            conf += ["key:", "  - id: transfer-key", "    algorithm: hmac-sha256",
                     "    secret: %s" % self.key]
        conf += ["remote:", "  - id: secondary", "    address: 127.0.0.1@%d" % self.notify_port]
        if self.key:
            conf += ["    key: transfer-key"]
        conf += ["acl:", "  - id: xfr", "    address: 127.0.0.0/8", "    action: transfer"]
        if self.key:
            conf += ["    key: transfer-key"]
        conf += ["zone:", "  - domain: %s" % self.origin, "    storage: \"%s\"" % d,
                 "    file: \"%s\"" % self.zone_file, "    notify: secondary", "    acl: xfr",
                 "    zonefile-load: difference", "    journal-content: changes",
                 "    zonefile-sync: -1"]
        path = os.path.join(d, "knot.conf")
        self.conf = path
        with open(path, "w") as f:
            f.write("\n".join(conf) + "\n")
        self.launch([self.binary, "-c", path])
        self.wait_until(self.serves, timeout=30)

    def change(self, text):
        """Writes the zone file and has Knot load the difference into its journal."""
        with open(self.zone_file, "w") as f:
            f.write(text)
        subprocess.run(["knotc", "-c", self.conf, "zone-reload", self.origin], check=True,
                       capture_output=True, timeout=30)


@pytest.fixture
def knot_pair(make_server, tmp_path):
    """(knot, make_secondary): Knot primary for sec.test. NOTIFYing a tdnsd secondary."""
    made = []

    def make(key=None, text=zone_text(1)):
        sec = secondary(make_server, "@PRIMARY@", start=False,
                        extra=tsig_section() if key else "")
        d = tmp_path / "knot"
        d.mkdir()
        knot = KnotPrimary(d, "sec.test.", text, sec.port, key=key)
        made.append(knot)
        with open(sec.conf) as f:
            conf = f.read()
        prim = "127.0.0.1:%d%s" % (knot.port, " key transfer-key" if key else "")
        sec.write_config(conf.replace("@PRIMARY@", prim))
        sec.start()
        return knot, sec

    yield make
    for k in made:
        k.stop()


def test_knot_primary_axfr_then_ixfr_on_notify(knot_pair):
    knot, sec = knot_pair()
    wait_serial(sec, 1)
    assert "AXFR from 127.0.0.1:%d" % knot.port in sec.log()
    knot.change(zone_text(2, "added A 192.0.2.7\n").replace("www A 192.0.2.80\n", ""))
    # Knot's NOTIFY brings the change; the refresh timer (an hour) would not.
    wait_serial(sec, 2, timeout=WAIT_XFR)
    wait_for(lambda: "IXFR from 127.0.0.1:%d" % knot.port in sec.log(), what="the IXFR",
             log=lambda: sec.log() + knot.log())
    assert sec.query("added.sec.test.", "A").answer[0][0].address == "192.0.2.7"
    assert rcode_of(sec, "www.sec.test.") == dns.rcode.NXDOMAIN
    assert "NOTIFY from 127.0.0.1" in sec.log()


def test_knot_primary_with_tsig(knot_pair):
    knot, sec = knot_pair(key=SECRET)
    wait_serial(sec, 1)
    assert "(TSIG)" in sec.log()
    knot.change(zone_text(2, "added A 192.0.2.7\n"))
    wait_serial(sec, 2, timeout=WAIT_XFR)
    assert sec.query("added.sec.test.", "A").answer[0][0].address == "192.0.2.7"


# ---- run time: tdns-cli zone create --type secondary, refresh, retransfer, list, show ----


def test_zone_create_secondary_at_run_time_and_refresh_retransfer(make_server):
    prim = primary(make_server, zone_text(1), allow="key transfer-key", extra=tsig_section())
    sec = make_server(extra=tsig_section())
    doc = cli_ok(sec, "zone", "create", "sec.test", "--type", "secondary",
                 "--primary", "127.0.0.1:%d" % prim.port, "--key", "transfer-key")
    assert doc["type"] == "secondary"
    assert doc["primaries"] == "127.0.0.1:%d key transfer-key" % prim.port
    wait_serial(sec, 1)
    doc = cli_ok(sec, "zone", "show", "sec.test")
    assert doc["serial"] == 1 and doc["state"] == "enabled" and doc["last_error"] == ""
    assert doc["last_refresh"] and doc["expires"] and doc["next_refresh"]
    rows = cli_ok(sec, "zone", "list")
    row = [r for r in rows if r["name"] == "sec.test."][0]
    assert row["type"] == "secondary" and row["serial"] == 1 and row["source"] == "runtime"
    # The text forms carry the same fields.
    out = sec.cli("zone", "show", "sec.test").stdout
    assert "primaries" in out and "last_refresh" in out and "expires" in out
    # refresh: an SOA check that finds the serial unchanged; retransfer: a whole AXFR.
    n_axfr = sec.log().count("AXFR from")
    prim.write_zone("sec.test", zone_text(2))
    prim.reload()
    wait_serial(prim, 2)
    cli_ok(sec, "zone", "refresh", "sec.test")
    wait_serial(sec, 2)
    cli_ok(sec, "zone", "retransfer", "sec.test")
    wait_for(lambda: sec.log().count("AXFR from") >= n_axfr + 1, what="the AXFR",
             log=sec.log)
    # Changes are made at the primary.
    rc, doc, err = cli_json(sec, "record", "add", "sec.test", "x", "A", "192.0.2.9")
    assert rc != 0 and "secondary" in err
    # It survives a restart (catalog) and is served from its copy at once.
    sec.stop()
    prim.stop()
    sec.start()
    assert soa_serial(sec) == 2
    cli_ok(sec, "zone", "delete", "sec.test")
    assert rcode_of(sec, "www.sec.test.") == dns.rcode.REFUSED
    assert not os.path.exists(os.path.join(sec.dir, "sec.test.zone.refreshed"))


def test_zone_create_secondary_needs_a_primary_and_a_known_key(make_server):
    sec = make_server()
    rc, doc, err = cli_json(sec, "zone", "create", "sec.test", "--type", "secondary")
    assert rc != 0 and "--primary" in err
    rc, doc, err = cli_json(sec, "zone", "create", "sec.test", "--type", "secondary",
                            "--primary", "127.0.0.1", "--key", "nokey")
    assert rc != 0 and "tsig" in err
    rc, doc, err = cli_json(sec, "zone", "create", "sec.test", "--type", "secondary",
                            "--primary", "not-an-address")
    assert rc != 0 and "not-an-address" in err
    rc, doc, err = cli_json(sec, "zone", "refresh", "nosuch.test")
    assert rc != 0


def test_edns_expire_is_answered_for_secondary_zones(make_server):
    import dns.edns
    prim, sec = pair(make_server, zone_text(1, expire=100000))
    q = dns.message.make_query("sec.test.", "SOA", use_edns=0,
                               options=[dns.edns.GenericOption(9, b"")])
    r = dns.query.udp(q, "127.0.0.1", port=sec.port, timeout=3)
    opts = [o for o in r.options if o.otype == 9]
    assert len(opts) == 1
    left = int.from_bytes(opts[0].to_wire(), "big")
    # RFC 7314 §3.2: the seconds before the zone expires, at most the SOA expire.
    assert 100000 - 60 < left <= 100000
    # Not asked, not given; other types neither.
    r = dns.query.udp(dns.message.make_query("sec.test.", "SOA", use_edns=0), "127.0.0.1",
                      port=sec.port, timeout=3)
    assert not [o for o in r.options if o.otype == 9]
    q = dns.message.make_query("www.sec.test.", "A", use_edns=0,
                               options=[dns.edns.GenericOption(9, b"")])
    r = dns.query.udp(q, "127.0.0.1", port=sec.port, timeout=3)
    assert not [o for o in r.options if o.otype == 9]
