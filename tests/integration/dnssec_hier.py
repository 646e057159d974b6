# SPDX-License-Identifier: MIT
"""A signed DNS tree on loopback for the DNSSEC tests (issue 16): root, two TLDs and leaf zones
signed at fixture time with dnssec-signzone, served by NSD and Knot, with a validating Unbound
as the oracle.

Like hierarchy.py, every authoritative server listens on port 53 of its own 127.R.x.y address
(an iterative resolver always asks port 53; R is a /16 held with an flock for the session), so
binding needs root or CAP_NET_BIND_SERVICE, and tdnsd reaches the tree through root hints
([recursion] root-hints = DnssecHierarchy.hints).  The trust anchor of the private root is
DnssecHierarchy.anchor (a DS line, also written to the file DnssecHierarchy.anchor_file).

Keys are small (RSA 1024 bits, the smallest dnssec-keygen takes) and each zone has one key with
the SEP flag that signs everything (a CSK), so signing and starting the tree takes about two
seconds; it is done once per test session, in one temporary directory removed by stop().

The tree (A = 127.R.0.0/16):
  .       A.0.1 NSD   signed (13), NSEC; a.root.sec is its server
  sec.    A.1.1 Knot  signed (13), NSEC; delegates every leaf below (with DS unless said)
  ins.    A.2.1 NSD   unsigned TLD, no DS in the root: www.ins is insecure
  leaves  LEAVES below: secure ones on Knot (A.3.1), bogus and unsigned ones on NSD (A.2.1).
Every leaf has ns1.LEAF (glue) and www.LEAF A 192.0.2.N; CASES lists each query with what a
validator must answer.  The leaves (all below sec., signed with algorithm 13 unless said):
  alg5.sec .. alg16.sec  secure, one per algorithm of issue 16 (alg7 with NSEC3)
  nsec3.sec              secure, NSEC3 without opt-out; wildcard *.w
  optout.sec             secure, NSEC3 opt-out; unsigned.optout.sec below it: insecure (no DS)
  wild.sec               secure, wildcard *.w (A and TXT)
  dname.sec              secure; old -> alg13.sec (secure), ins -> www.ins (insecure)
  nods.sec               signed, but sec. has no DS for it: insecure
  ds1.sec, ds4.sec       secure, their DS with a SHA-1 and a SHA-384 digest
  unknownalg.sec         insecure: its only DS is of algorithm 253 (RFC 6840 §5.2)
  unknowndigest.sec      insecure: its only DS has digest type 200
  iter.sec               NSEC3 with 200 iterations (ldns-signzone): data secure, NXDOMAIN
                         insecure (RFC 9276 §3.2)
  insecure.sec           unsigned, no DS: insecure
  expired.sec            bogus: every signature expired 7 days ago
  future.sec             bogus: every signature valid only from 7 days on
  tampered.sec           bogus: www's A changed after signing
  wrongkey.sec           bogus: the DS in sec. is that of a key the zone does not use
  nosig.sec              bogus: www's RRSIG A removed
  nonsec.sec             NSEC records removed: positive answers secure, NXDOMAIN bogus"""
import collections
import datetime
import os
import shutil
import subprocess
import time

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import pytest

import hierarchy
import upstreams
from helpers import read_logs, rrsets

KNOTD = shutil.which("knotd") or "/usr/sbin/knotd"
KEYGEN = shutil.which("dnssec-keygen") or "/usr/bin/dnssec-keygen"
SIGNZONE = shutil.which("dnssec-signzone") or "/usr/bin/dnssec-signzone"
LDNS_SIGNZONE = shutil.which("ldns-signzone") or "/usr/bin/ldns-signzone"
DSFROMKEY = shutil.which("dnssec-dsfromkey") or "/usr/bin/dnssec-dsfromkey"

# DNSSEC algorithm numbers (RFC 8624 §3.1) and dnssec-keygen's names for them.
ALGORITHMS = {5: "RSASHA1", 7: "NSEC3RSASHA1", 8: "RSASHA256", 10: "RSASHA512",
              13: "ECDSAP256SHA256", 14: "ECDSAP384SHA384", 15: "ED25519", 16: "ED448"}
# What tampered.sec serves for www after signing.
TAMPERED = "192.0.2.250"

# One leaf zone below sec. (or ins.): how it is signed and served.
#   alg      DNSSEC algorithm of its key, None: unsigned
#   nsec3    None: NSEC; "plain": NSEC3 (no salt, 0 iterations, RFC 9276); "optout": with opt-out;
#            "heavy": 200 iterations (signed with ldns-signzone: dnssec-signzone stops at 150)
#   window   (inception, expiration) in days from now
#   ds       in the parent: "good": the SHA-256 DS of the signing key; "sha1", "sha384": its
#            SHA-1 or SHA-384 DS instead; "none": no DS; "other": the DS of a key that signs
#            nothing (DS mismatch); "alg253": a DS of algorithm 253, "digest200": a DS of digest
#            type 200 (only those: no validator supports them)
#   damage   None, "tamper" (www's A changed after signing), "nosig" (www's RRSIG A removed),
#            "nonsec" (every NSEC and its RRSIG removed)
#   server   "knot" (A.3.1) or "nsd" (A.2.1)
#   extra    more records (relative to the leaf's origin)
Leaf = collections.namedtuple("Leaf", "name alg nsec3 window ds damage server extra")


def _leaf(name, alg=13, nsec3=None, window=(-1, 30), ds="good", damage=None, server="knot",
          extra=()):
    return Leaf(name, alg, nsec3, window, ds, damage, server, tuple(extra))


LEAVES = [_leaf("alg%d.sec." % a, alg=a, nsec3="plain" if a == 7 else None)
          for a in sorted(ALGORITHMS)] + [
    _leaf("nsec3.sec.", nsec3="plain", extra=["*.w 3600 IN A 192.0.2.200"]),
    _leaf("optout.sec.", nsec3="optout",
          extra=["unsigned 3600 IN NS ns1.unsigned", "ns1.unsigned 3600 IN A @NSD@"]),
    _leaf("wild.sec.", extra=["*.w 3600 IN A 192.0.2.201", "*.w 3600 IN TXT \"wild\""]),
    _leaf("dname.sec.", extra=["old 3600 IN DNAME alg13.sec.",
                               "ins 3600 IN DNAME www.ins."]),
    _leaf("nods.sec.", ds="none"),
    _leaf("ds1.sec.", ds="sha1"),
    _leaf("ds4.sec.", ds="sha384"),
    _leaf("unknownalg.sec.", ds="alg253"),
    _leaf("unknowndigest.sec.", ds="digest200"),
    _leaf("iter.sec.", nsec3="heavy"),
    _leaf("insecure.sec.", alg=None, ds="none", server="nsd"),
    _leaf("unsigned.optout.sec.", alg=None, ds="none", server="nsd"),
    _leaf("expired.sec.", window=(-14, -7), server="nsd"),
    _leaf("future.sec.", window=(7, 14), server="nsd"),
    _leaf("tampered.sec.", damage="tamper", server="nsd"),
    _leaf("wrongkey.sec.", ds="other", server="nsd"),
    _leaf("nosig.sec.", damage="nosig", server="nsd"),
    _leaf("nonsec.sec.", damage="nonsec", server="nsd"),
]

# What a validator answers.  state: "secure" (AD with DO), "insecure" (no AD), "bogus"
# (SERVFAIL; the data with CD).  answer: {(owner, type): {rdata}} without RRSIGs, None for
# bogus.  ede: the RFC 8914 code of a bogus answer (Unbound's, which issue 16 asks for too).
# why: one line for the test report.
Case = collections.namedtuple("Case", "qname rdtype state rcode answer ede why")


def www(leaf):
    """The A rdata of www.LEAF: 192.0.2.N, N from the leaf's place in LEAVES."""
    return "192.0.2.%d" % (10 + [lf.name for lf in LEAVES].index(leaf))


def _case(qname, rdtype, state, rcode="NOERROR", answer=None, ede=None, why=""):
    return Case(qname, rdtype, state, dns.rcode.from_text(rcode), answer, ede, why)


def a_rrset(owner, addr):
    """{(owner, "A"): {addr}}, as rrsets() gives it."""
    return {(owner, "A"): {addr}}


def _www(leaf, state, why, **kw):
    """The case of www.LEAF A: its address unless bogus."""
    answer = None if state == "bogus" else a_rrset("www." + leaf, www(leaf))
    return _case("www." + leaf, "A", state, "SERVFAIL" if state == "bogus" else "NOERROR",
                 answer, why=why, **kw)


CASES = [_www("alg%d.sec." % a, "secure", "signed with algorithm %d (%s)" % (a, ALGORITHMS[a]))
         for a in sorted(ALGORITHMS)] + [
    _case("nothere.alg13.sec.", "A", "secure", "NXDOMAIN", {}, why="NSEC proof of NXDOMAIN"),
    _case("www.alg13.sec.", "AAAA", "secure", answer={}, why="NSEC proof of NODATA"),
    _case("nothere.alg7.sec.", "A", "secure", "NXDOMAIN", {},
          why="NSEC3 proof of NXDOMAIN (algorithm 7)"),
    _www("nsec3.sec.", "secure", "NSEC3 zone without opt-out"),
    _case("nothere.nsec3.sec.", "A", "secure", "NXDOMAIN", {},
          why="NSEC3 closest-encloser proof of NXDOMAIN"),
    _case("www.nsec3.sec.", "TXT", "secure", answer={}, why="NSEC3 proof of NODATA"),
    _case("x.w.nsec3.sec.", "A", "secure", answer=a_rrset("x.w.nsec3.sec.", "192.0.2.200"),
          why="wildcard expansion with an NSEC3 proof that x.w does not exist"),
    _www("optout.sec.", "secure", "NSEC3 opt-out zone, signed data"),
    _www("unsigned.optout.sec.", "insecure",
         "unsigned delegation covered by an NSEC3 opt-out span"),
    _case("a.w.wild.sec.", "A", "secure", answer=a_rrset("a.w.wild.sec.", "192.0.2.201"),
          why="wildcard expansion with an NSEC proof that a.w does not exist"),
    _case("a.w.wild.sec.", "AAAA", "secure", answer={}, why="wildcard NODATA"),
    _case("www.old.dname.sec.", "A", "secure",
          answer={("old.dname.sec.", "DNAME"): {"alg13.sec."},
                  ("www.old.dname.sec.", "CNAME"): {"www.alg13.sec."},
                  ("www.alg13.sec.", "A"): {www("alg13.sec.")}},
          why="DNAME into another secure zone, CNAME synthesised"),
    _case("x.ins.dname.sec.", "A", "insecure",
          answer={("ins.dname.sec.", "DNAME"): {"www.ins."},
                  ("x.ins.dname.sec.", "CNAME"): {"x.www.ins."},
                  ("x.www.ins.", "A"): {"192.0.2.9"}},
          why="DNAME from a secure zone into an unsigned TLD"),
    _case("www.ins.", "A", "insecure", answer=a_rrset("www.ins.", "192.0.2.8"),
          why="unsigned TLD: the root proves there is no DS"),
    _www("insecure.sec.", "insecure", "unsigned leaf: sec. proves there is no DS"),
    _www("nods.sec.", "insecure",
         "signed leaf whose DS is missing from its signed parent: insecure"),
    _www("ds1.sec.", "secure", "its only DS has a SHA-1 digest"),
    _www("ds4.sec.", "secure", "its only DS has a SHA-384 digest"),
    _www("unknownalg.sec.", "insecure",
         "its only DS is of algorithm 253, which no validator has: insecure (RFC 6840 §5.2)"),
    _www("unknowndigest.sec.", "insecure",
         "its only DS has digest type 200, which no validator has: insecure (RFC 6840 §5.2)"),
    _www("iter.sec.", "secure", "NSEC3 with 200 iterations: positive answers still verify"),
    _case("nothere.iter.sec.", "A", "insecure", "NXDOMAIN", {},
          why="NSEC3 with 200 iterations, above 150: the proof is insecure (RFC 9276 §3.2)"),
    _www("expired.sec.", "bogus", "every signature expired 7 days ago", ede=7),
    _www("future.sec.", "bogus", "every signature valid only from 7 days on", ede=8),
    _www("tampered.sec.", "bogus", "www's A changed after signing: its RRSIG does not verify",
         ede=6),
    _www("wrongkey.sec.", "bogus", "the DS in sec. is that of a key the zone does not use",
         ede=9),
    _www("nosig.sec.", "bogus", "www's RRSIG A removed from the signed zone", ede=10),
    _case("nothere.nonsec.sec.", "A", "bogus", "SERVFAIL", ede=12,
          why="NXDOMAIN in a signed zone stripped of its NSEC records"),
    _www("nonsec.sec.", "secure", "positive answers of the zone stripped of NSEC still verify"),
]

# The bogus leaves' data as served, which a validator returns (without AD) when asked with CD.
BOGUS_DATA = {c.qname: a_rrset(c.qname, TAMPERED if c.qname == "www.tampered.sec."
                               else www(c.qname.split(".", 1)[1]))
              for c in CASES if c.state == "bogus" and c.qname.startswith("www.")}


def _run(argv, cwd):
    r = subprocess.run(argv, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=120)
    if r.returncode != 0:
        pytest.fail("%s failed (%d):\n%s%s" % (" ".join(argv), r.returncode, r.stdout,
                                                r.stderr), pytrace=False)
    return r.stdout


def _stamp(days):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days)
    return t.strftime("%Y%m%d%H%M%S")


class Signer:
    """Keys and signed zone files in one directory (dnssec-keygen, dnssec-signzone)."""

    def __init__(self, directory):
        self.dir = directory

    def keygen(self, zone, alg, subdir):
        """A new key with the SEP flag for zone in DIR/subdir; returns (keydir, base name)."""
        kdir = os.path.join(self.dir, subdir)
        os.makedirs(kdir, exist_ok=True)
        argv = [KEYGEN, "-q", "-K", kdir, "-a", ALGORITHMS[alg], "-f", "KSK", "-n", "ZONE"]
        if ALGORITHMS[alg].startswith(("RSA", "NSEC3RSA")):
            argv += ["-b", "1024"]
        return kdir, _run(argv + [zone], self.dir).strip()

    def dnskey(self, kdir, base):
        with open(os.path.join(kdir, base + ".key")) as f:
            return "".join(ln for ln in f if not ln.startswith(";"))

    def ds(self, kdir, base, kind="good"):
        """The DS record of a key as a master-file line: SHA-256 (RFC 4509) unless kind says
        otherwise (see Leaf)."""
        digest = {"sha1": ["-1"], "sha384": ["-a", "SHA-384"]}.get(kind, ["-2"])
        owner, rdclass, rdtype, tag, alg, dtype, hexa = _run(
            [DSFROMKEY] + digest + [os.path.join(kdir, base + ".key")], self.dir).split()
        if kind == "alg253":
            alg = "253"
        elif kind == "digest200":
            dtype = "200"
        return " ".join((owner, rdclass, rdtype, tag, alg, dtype, hexa))

    def sign(self, zone, text, kdir, base, nsec3=None, window=(-1, 30)):
        """Signs text (zone file of zone) with the key; returns the signed zone's text, one RR
        a line (-O full) so that tests can damage single records."""
        name = zone.rstrip(".") or "root"
        src = os.path.join(self.dir, name + ".zone")
        with open(src, "w") as f:
            f.write(text + self.dnskey(kdir, base))
        out = src + ".signed"
        if nsec3 == "heavy":
            _run([LDNS_SIGNZONE, "-n", "-t", "200", "-f", out, "-i", _stamp(window[0]),
                  "-e", _stamp(window[1]), src, os.path.join(kdir, base)], self.dir)
            with open(out) as f:
                return f.read()
        argv = [SIGNZONE, "-q", "-P", "-z", "-O", "full", "-o", zone, "-K", kdir, "-f", out,
                "-s", _stamp(window[0]), "-e", _stamp(window[1])]
        if nsec3 is not None:
            argv += ["-3", "-", "-H", "0"] + (["-A"] if nsec3 == "optout" else [])
        _run(argv + [src, os.path.join(kdir, base)], self.dir)
        with open(out) as f:
            return f.read()


def _damage(text, leaf):
    """The signed zone text with one of the flaws LEAVES describes."""
    out = []
    owner = "www." + leaf.name
    for ln in text.splitlines():
        f = ln.split()
        if leaf.damage == "tamper" and f[:1] == [owner] and f[3:4] == ["A"]:
            ln = ln.replace(www(leaf.name), TAMPERED)
        elif leaf.damage == "nosig" and f[:1] == [owner] and f[3:5] == ["RRSIG", "A"]:
            continue
        elif leaf.damage == "nonsec" and (f[3:4] == ["NSEC"] or f[3:5] == ["RRSIG", "NSEC"]):
            continue
        out.append(ln)
    return "\n".join(out) + "\n"


def _soa(zone, ns):
    return ("%s 3600 IN SOA %s hostmaster.%s 1 3600 600 86400 300\n%s 3600 IN NS %s\n"
            % (zone, ns, zone.lstrip(".") or "sec.", zone, ns))


class Knot:
    """One knotd answering on addr:53 for pre-signed zones {name: text} (it signs nothing)."""

    def __init__(self, base, label, addr, zones):
        self.label, self.addr, self.zones = label, addr, zones
        self.dir = os.path.join(base, label)
        os.makedirs(self.dir)
        conf = ["server:",
                '  rundir: "%s"' % self.dir,
                "  listen: %s@53" % addr,
                "  udp-workers: 1",
                "  tcp-workers: 1",
                "  background-workers: 1",
                "database:",
                '  storage: "%s"' % self.dir,
                "log:",
                '  - target: "%s/knot.log"' % self.dir,
                "    any: info",
                "template:",
                "  - id: default",
                '    storage: "%s"' % self.dir,
                "    zonefile-sync: -1",
                "    journal-content: none",
                "zone:"]
        for name, text in zones.items():
            fname = name.rstrip(".") + ".zone"
            with open(os.path.join(self.dir, fname), "w") as f:
                f.write(text)
            conf += ["  - domain: %s" % name, '    file: "%s"' % fname]
        self.conf = os.path.join(self.dir, "knot.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(conf) + "\n")
        self.out = open(os.path.join(self.dir, "stderr.log"), "wb")
        self.proc = subprocess.Popen([KNOTD, "-c", self.conf], stdin=subprocess.DEVNULL,
                                     stdout=self.out, stderr=subprocess.STDOUT)

    def log(self):
        return read_logs(self.dir, ("stderr.log", "knot.log"))

    def wait_ready(self, deadline):
        # Knot loads zones in the background: wait until every one answers.
        pending = list(self.zones)
        while pending:
            if self.proc.poll() is not None:
                pytest.fail("knotd %s (%s:53) exited with %d:\n%s"
                            % (self.label, self.addr, self.proc.returncode, self.log()),
                            pytrace=False)
            q = dns.message.make_query(pending[0], "SOA")
            q.flags = 0
            try:
                r = dns.query.udp(q, self.addr, port=53, timeout=0.2)
                if r.answer:
                    pending.pop(0)
                    continue
            except (dns.exception.Timeout, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail("knotd %s (%s:53) did not serve %s:\n%s"
                            % (self.label, self.addr, pending[0], self.log()), pytrace=False)
            time.sleep(0.05)

    def stop(self):
        hierarchy.stop_child(self.proc, self.out)


class DnssecHierarchy(hierarchy.LoopbackTree):
    """Signs and starts the tree (see the module docstring); stop() ends every child by PID."""

    prefix = "tdns-dnssec-"

    def _setup(self):
        self.servers = []

    def _leaf_text(self, leaf, addr):
        z = leaf.name
        lines = [_soa(z, "ns1." + z), "ns1.%s 3600 IN A %s\n" % (z, addr),
                 "www.%s 3600 IN A %s\n" % (z, www(z))]
        for e in leaf.extra:
            owner, rest = e.split(None, 1)
            lines.append("%s.%s %s\n" % (owner, z, rest.replace("@NSD@", self.a(2, 1))))
        return "".join(lines)

    def _start(self):
        hierarchy.check_port53(self.a(0, 1))
        signer = Signer(os.path.join(self.dir, "sign"))
        addrs = {"knot": self.a(3, 1), "nsd": self.a(2, 1)}
        served = {"knot": {}, "nsd": {}}
        tld = [_soa("sec.", "ns1.nic.sec."),
               "ns1.nic.sec. 3600 IN A %s\n" % self.a(1, 1),
               "a.root.sec. 3600 IN A %s\n" % self.a(0, 1)]
        for leaf in LEAVES:
            addr = addrs[leaf.server]
            text = self._leaf_text(leaf, addr)
            if leaf.alg is not None:
                kdir, key = signer.keygen(leaf.name, leaf.alg, leaf.name)
                text = _damage(signer.sign(leaf.name, text, kdir, key, leaf.nsec3, leaf.window),
                               leaf)
                if leaf.ds == "other":
                    tld.append(signer.ds(*signer.keygen(leaf.name, leaf.alg, "other-" + leaf.name))
                               + "\n")
                elif leaf.ds != "none":
                    tld.append(signer.ds(kdir, key, leaf.ds) + "\n")
            served[leaf.server][leaf.name] = text
            if leaf.name.count(".") == 2:
                tld += ["%s 3600 IN NS ns1.%s\n" % (leaf.name, leaf.name),
                        "ns1.%s 3600 IN A %s\n" % (leaf.name, addr)]
        kdir, key = signer.keygen("sec.", 13, "sec.")
        sec = signer.sign("sec.", "".join(tld), kdir, key)
        served["nsd"]["ins."] = (_soa("ins.", "ns1.nic.ins.") +
                                 "ns1.nic.ins. 3600 IN A %s\n" % self.a(2, 1) +
                                 "www.ins. 3600 IN A 192.0.2.8\n"
                                 "*.www.ins. 3600 IN A 192.0.2.9\n")
        root = (_soa(".", "a.root.sec.") +
                "a.root.sec. 3600 IN A %s\n" % self.a(0, 1) +
                "sec. 86400 IN NS ns1.nic.sec.\nns1.nic.sec. 86400 IN A %s\n" % self.a(1, 1) +
                signer.ds(kdir, key) + "\n" +
                "ins. 86400 IN NS ns1.nic.ins.\nns1.nic.ins. 86400 IN A %s\n" % self.a(2, 1))
        kdir, key = signer.keygen(".", 13, "root")
        root = signer.sign(".", root, kdir, key)
        self.anchor = signer.ds(kdir, key)
        self.anchor_file = os.path.join(self.dir, "root.ds")
        with open(self.anchor_file, "w") as f:
            f.write(self.anchor + "\n")
        self.hints = os.path.join(self.dir, "root.hints")
        with open(self.hints, "w") as f:
            f.write(".            3600000 IN NS a.root.sec.\n"
                    "a.root.sec.  3600000 IN A %s\n" % self.a(0, 1))
        # One at a time, so that stop() finds every server started before a failure.
        for kind, label, addr, zones in ((hierarchy.Nsd, "root", self.a(0, 1), {".": root}),
                                         (Knot, "tld", self.a(1, 1), {"sec.": sec}),
                                         (hierarchy.Nsd, "nsd", addrs["nsd"], served["nsd"]),
                                         (Knot, "knot", addrs["knot"], served["knot"])):
            self.servers.append(kind(self.dir, label, addr, zones))
        deadline = time.monotonic() + 30
        for s in self.servers:
            s.wait_ready(deadline)

    def logs(self):
        return "\n".join("---- %s %s ----\n%s" % (type(s).__name__, s.label, s.log())
                         for s in self.servers)

    def stop(self):
        for s in self.servers:
            s.stop()
        self.release()


# What one resolver said: rcode, answer {(owner, type): {rdata}} without RRSIGs, AD, message.
Verdict = collections.namedtuple("Verdict", "rcode answer ad msg")


def ask(port, qname, rdtype="A", do=True, cd=False, addr="127.0.0.1", timeout=15.0):
    """Asks a resolver on addr:port (RD, EDNS, DO unless do=False, CD with cd); returns a
    Verdict."""
    q = dns.message.make_query(qname, rdtype, use_edns=0, payload=1232,
                               want_dnssec=do)
    if cd:
        q.flags |= dns.flags.CD
    r = dns.query.udp(q, addr, port=port, timeout=timeout)
    if r.flags & dns.flags.TC:
        r = dns.query.tcp(q, addr, port=port, timeout=timeout)
    ans = {k: v for k, v in rrsets(r.answer).items() if k[1] != "RRSIG"}
    return Verdict(r.rcode(), ans, bool(r.flags & dns.flags.AD), r)


class ValidatingUnbound(hierarchy.Unbound):
    """unbound validating from the hierarchy's root anchor, with its root hints (cold cache):
    the oracle of the DNSSEC tests.  ask() queries it."""

    def __init__(self, hier):
        self.validator = ["  module-config: \"validator iterator\"",
                          '  trust-anchor: "%s"' % hier.anchor,
                          "  val-log-level: 2",
                          # Every query reaches the servers: no NSEC synthesis from the cache.
                          "  aggressive-nsec: no",
                          # RFC 8914 codes on SERVFAIL: the tests check why a leaf is bogus.
                          "  ede: yes"]
        super().__init__(hier)

    def extra_lines(self):
        return self.validator

    def ask(self, qname, rdtype="A", **kw):
        return ask(self.port, qname, rdtype, **kw)


class ForwardingUnbound(hierarchy.Unbound):
    """unbound iterating the signed tree WITHOUT validation, the upstream of a forwarding
    resolver under test: it passes the RRSIGs, NSEC and NSEC3 records on when asked with DO, and
    bogus data as it is.  With a Pki (upstreams.Pki) it also speaks DNS over TLS on tls_port
    and DNS over HTTPS on https_port (certificate for upstreams.TLS_NAME)."""

    def __init__(self, hier, pki=None):
        self.pki = pki
        self.more = 0 if pki is None else 2
        super().__init__(hier)

    @property
    def tls_port(self):
        return self.more_ports[0] if self.pki else None

    @property
    def https_port(self):
        return self.more_ports[1] if self.pki else None

    def extra_lines(self):
        return upstreams.unbound_tls_lines(self.pki, self.tls_port, self.https_port)

    def urls(self):
        """{transport: forwarder URL of tdnsd.conf(5)} for every transport it serves."""
        out = {"udp": "udp://127.0.0.1:%d" % self.port, "tcp": "tcp://127.0.0.1:%d" % self.port}
        if self.pki is not None:
            out["tls"] = "tls://%s:%d#127.0.0.1" % (upstreams.TLS_NAME, self.tls_port)
            out["https"] = "https://%s:%d/dns-query#127.0.0.1" % (upstreams.TLS_NAME,
                                                                 self.https_port)
        return out
