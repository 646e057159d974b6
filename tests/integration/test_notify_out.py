# SPDX-License-Identifier: MIT
"""NOTIFY out (issue 17, RFC 1996): a primary zone's notify addresses hear of its serial at
start, after record edits and on `zone notify`, signed with the allow-transfer key when there
is one, retried with back-off until answered; the NS addresses the zone holds are told too."""
import socket
import subprocess
import threading

import dns.flags
import dns.message
import dns.opcode
import dns.rcode
import dns.rdatatype
import dns.tsigkeyring

from helpers import WAIT_LONG, cli_ok, cli_refused, wait_for
from test_xfr import SECRET, ZONE, tsig_section


class NotifyListener:
    """A UDP secondary on loopback that records each NOTIFY (serial, signed) it gets and
    answers it, except the first `silent` ones; with keyring, it checks and (with sign)
    signs."""

    def __init__(self, silent=0, keyring=None, sign=True):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.silent, self.keyring, self.sign = silent, keyring, sign
        self.got = []       # (serial, had_tsig), in order
        self.bad = []       # messages that were not a proper NOTIFY
        self.stopping = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stopping:
            try:
                wire, peer = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            try:
                m = dns.message.from_wire(wire, keyring=self.keyring)
            except Exception as e:  # noqa: BLE001 - kept for the assertion
                self.bad.append(repr(e))
                continue
            if m.opcode() != dns.opcode.NOTIFY or m.question[0].rdtype != dns.rdatatype.SOA:
                self.bad.append(m.to_text())
                continue
            serial = m.answer[0][0].serial if m.answer else None
            self.got.append((serial, m.had_tsig))
            if len(self.got) <= self.silent:
                continue
            if self.sign:
                r = dns.message.make_response(m)
            else:
                r = dns.message.Message(id=m.id)
                r.flags = dns.flags.QR | dns.flags.AA
                r.set_opcode(dns.opcode.NOTIFY)
                r.question = list(m.question)
            self.sock.sendto(r.to_wire(), peer)

    def serials(self):
        return [s for s, _ in self.got]

    def close(self):
        self.stopping = True
        self.thread.join()
        self.sock.close()


def notify_server(make_server, notify, allow="", extra=""):
    srv = make_server(start=False, extra=extra + "[zone xfr.test]\nfile = xfr.test.zone\n"
                      "notify = %s\n%s" % (notify, "allow-transfer = %s\n" % allow
                                           if allow else ""))
    srv.write_zone("xfr.test", ZONE)
    srv.start()
    return srv


def test_notify_at_start_after_record_add_and_on_zone_notify(make_server):
    lst = NotifyListener()
    try:
        srv = notify_server(make_server, "127.0.0.1:%d" % lst.port)
        wait_for(lambda: lst.serials() == [2026120701], timeout=WAIT_LONG,
                 what="the NOTIFY at start", log=srv.log)
        wait_for(lambda: "NOTIFY of serial 2026120701 to 127.0.0.1:%d acknowledged" % lst.port
                 in srv.log(), what="the acknowledgement", log=srv.log)
        data = cli_ok(srv, "record", "add", "xfr.test", "new", "A", "192.0.2.7")
        serial = data["serial"]
        assert serial > 2026120701
        wait_for(lambda: lst.serials()[-1:] == [serial], timeout=WAIT_LONG,
                 what="the NOTIFY after record add", log=srv.log)
        data = cli_ok(srv, "zone", "notify", "xfr.test")
        assert data == {"name": "xfr.test.", "serial": serial, "servers": 1}
        wait_for(lambda: lst.serials()[-2:] == [serial, serial], timeout=WAIT_LONG,
                 what="the NOTIFY of zone notify", log=srv.log)
        assert not lst.bad and not any(sig for _, sig in lst.got)
    finally:
        lst.close()


def test_notify_is_retried_with_back_off_until_answered(make_server):
    lst = NotifyListener(silent=2)
    try:
        srv = notify_server(make_server, "127.0.0.1:%d" % lst.port)
        # Answered on the third try: after 2 s and 4 s of waiting, 6 s when idle.
        wait_for(lambda: "acknowledged" in srv.log(), timeout=60,
                 what="the third NOTIFY", log=srv.log)
        assert lst.serials() == [2026120701] * 3
        assert srv.log().count("trying again") == 2
    finally:
        lst.close()


def test_notify_is_signed_with_the_allow_transfer_key(make_server):
    ring = dns.tsigkeyring.from_text({"transfer-key": ("hmac-sha256", SECRET)})
    lst = NotifyListener(keyring=ring)
    try:
        srv = notify_server(make_server, "127.0.0.1:%d" % lst.port, allow="key transfer-key",
                            extra=tsig_section())
        wait_for(lambda: "acknowledged" in srv.log(), timeout=WAIT_LONG,
                 what="the signed NOTIFY answered", log=srv.log)
        assert lst.got == [(2026120701, True)] and not lst.bad
        assert "(signed)" in srv.log() and SECRET not in srv.log()
    finally:
        lst.close()


def test_an_unsigned_answer_to_a_signed_notify_is_not_taken(make_server):
    ring = dns.tsigkeyring.from_text({"transfer-key": ("hmac-sha256", SECRET)})
    lst = NotifyListener(keyring=ring, sign=False)  # answers without a TSIG
    try:
        srv = notify_server(make_server, "127.0.0.1:%d" % lst.port, allow="key transfer-key",
                            extra=tsig_section())
        wait_for(lambda: "answer not signed with the key" in srv.log(), timeout=WAIT_LONG,
                 what="the unsigned answer refused",
                 log=lambda: srv.log() + repr(lst.bad) + repr(lst.got))
        assert "acknowledged" not in srv.log()
    finally:
        lst.close()


def test_ns_addresses_in_the_zone_are_notified_when_transfers_are_allowed(make_server):
    zone = ZONE.replace("@           NS     ns2.example.net.",
                        "@           NS     ns2.example.net.\n@ NS ns3\nns3 A 127.0.0.77")
    srv = make_server(start=False, extra="[zone xfr.test]\nfile = xfr.test.zone\n"
                      "allow-transfer = 127.0.0.1\n")
    srv.write_zone("xfr.test", zone)
    srv.start()
    # ns1 is the SOA MNAME (RFC 1996 §3.6: not told); ns2 is out of the zone.
    wait_for(lambda: "NOTIFY of serial 2026120701 to 1 server" in srv.log(),
             what="the NOTIFY to ns3", log=srv.log)
    wait_for(lambda: "to 127.0.0.77:53" in srv.log(), what="the NOTIFY to ns3's address",
             log=srv.log)
    assert "192.0.2.53" not in srv.log()


def test_zone_notify_without_targets_is_an_error(make_server):
    srv = make_server(start=False, extra="[zone xfr.test]\nfile = xfr.test.zone\n")
    srv.write_zone("xfr.test", ZONE)
    srv.start()
    msg = cli_refused(srv, "EINVAL", "zone", "notify", "xfr.test")
    assert "nobody to notify" in msg
    assert "NOTIFY" not in srv.log()


def test_bad_notify_address_stops_start_up(make_server):
    srv = make_server(start=False, extra="[zone xfr.test]\nfile = xfr.test.zone\n"
                      "notify = 127.0.0.1, ns.example.net\n")
    srv.write_zone("xfr.test", ZONE)
    r = subprocess.run([srv.binary, "-t", "-c", srv.conf], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode != 0
    assert "notify" in r.stderr and "ns.example.net" in r.stderr, r.stderr
