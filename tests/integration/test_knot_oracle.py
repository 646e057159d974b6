# SPDX-License-Identifier: MIT
"""Knot DNS and NSD as references: for the same zones, every field of tdnsd's replies matches them.

The queries are generated from the zones served (every owner name and empty non-terminal, with
every type it holds, types it lacks, ANY, names below and beside it, a case variation), plus the
EDNS, transport and class cases (small UDP buffers forcing TC, no EDNS, EDNS version 1, the DO
bit, RD, classes CH, HS and ANY, names outside every zone, transfers, meta types, other opcodes,
EDNS options nobody implements).  Each reply is reduced to its rcode, header flags,
answer, authority and additional sections (RRset sets: owner as sent, type, class, TTL, rdata),
its OPT record (version, DO, UDP size) and its EDE codes.  For each of those fields tdnsd must
equal Knot or NSD: where the two references agree that is their common answer, where they
differ (each a legitimate reading of the RFCs) tdnsd must take one of them.  NORMALISE below
lists the few places where the comparison deliberately looks at less than the whole reply."""
import collections
import os
import shutil
import socket
import struct

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.query
import dns.rdataclass
import dns.rdatatype
import dns.rcode
import dns.zone
import pytest

from conftest import RFC4592, STANDARD_ZONES
from helpers import Daemon, recv_exact, start_retrying

KEY = ("pvPS3/oIUjYMiA4khArd8HbHkYONqJweZVwEd+H2h5Cd8dHF6nPaDgpCdwwPUS9OQmBr/0v0PDdpZzojmd6W/w==")
SHA256 = "F9C7AF7EBCBF098B9F5F37361D1B168BB2E5B98D930CEEF0F055377A8C94DB61"
SHA1 = "E8B9F665F844BF5DA8294A1282FD740A4B17D2A6"
# Four 60-octet labels under rich.test.: the owner name is 255 octets, the most a name can have.
LONG_OWNER = ".".join(c * 60 for c in "lmno")

# Every common record type, in the forms the references and tdnsd all read: multi-string and
# 255-octet TXT strings, RFC 3597 unknown types, SVCB in both modes, empty non-terminals, wildcards
# (with an explicit name and an empty non-terminal beside them), CNAME and DNAME chains inside the
# zone, into another served zone and out of every served zone, delegations with in-bailiwick glue,
# sibling glue and none, a DS at a cut and a 255-octet owner.
RICH = """$ORIGIN rich.test.
$TTL 3600
@             IN SOA ns1.rich.test. hostmaster.rich.test. 2026120701 7200 3600 1209600 300
@                NS      ns1
@                NS      ns2.example.net.
@                A       192.0.2.10
@                AAAA    2001:db8::10
@                MX      10 mail
@                MX      20 mail.example.com.
@                MX      30 mx.elsewhere.test.
@                TXT     "v=spf1 -all"
@                TXT     "first string" "second string" "third"
@                TXT     "%(t255)s" "%(t200)s"
@                CAA     0 issue "ca.example.net"
@                CAA     128 tbs "unknown-critical"
@                DNSKEY  257 3 13 %(key)s
@                CDNSKEY 257 3 13 %(key)s
@                CDS     2371 13 2 %(sha256)s
@                HTTPS   1 . alpn=h2,h3
@                SSHFP   4 2 %(sha256)s
@                SSHFP   1 1 %(sha1)s
@                LOC     52 22 23.000 N 4 53 32.000 E -2.00m 1m 10000m 10m
@                HINFO   "PC-Intel-700mhz" "Linux"
@                RP      hostmaster.rich.test. info.rich.test.
@                NAPTR   100 10 "S" "SIP+D2U" "" _sip._udp.rich.test.
@                TYPE65400 \\# 4 0a000001
@                TYPE10  \\# 3 010203
ns1              A       192.0.2.53
ns1              AAAA    2001:db8::53
mail             A       192.0.2.25
mail             AAAA    2001:db8::25
mail             TXT     "mail host"
info             TXT     "contact us"
www        600   A       192.0.2.80
www        600   AAAA    2001:db8::80
www              HTTPS   1 . alpn=h2 ipv4hint=192.0.2.80
_443._tcp.www    TLSA    3 1 1 %(sha256)s
svc              SVCB    1 svc-target port=8443
alias-svc        SVCB    0 www
svc-target       A       192.0.2.81
_sip._udp        SRV     0 5 5060 sip
_sip._udp        SRV     10 5 5060 sip.example.net.
sip              A       192.0.2.60
sip              AAAA    2001:db8::60
10.rev           PTR     www.rich.test.
ptr              PTR     www.example.com.
deep.ent.a.b     A       192.0.2.11
*.wild           A       192.0.2.99
*.wild           TXT     "wild"
*.wild           MX      10 mail
explicit.wild    A       192.0.2.98
x.sub.wild       TXT     "below an empty non-terminal beside the wildcard"
*.wcn            CNAME   www
cname      300   CNAME   www
cname2           CNAME   cname
cname-out        CNAME   www.example.net.
cname-ext        CNAME   host.elsewhere.test.
cname-nx         CNAME   missing
cname-wild       CNAME   foo.wild
cname-dn         CNAME   a.dname-in
cname-loop       CNAME   cname-loop
cname-long       CNAME   %(long)s
dname-in   900   DNAME   inner
dname-out        DNAME   example.com.
dname-ext        DNAME   elsewhere.test.
a.inner          A       192.0.2.12
deleg            NS      ns.deleg
deleg            NS      ns.example.net.
deleg            DS      12345 13 2 %(sha256)s
ns.deleg         A       192.0.2.54
ns.deleg         AAAA    2001:db8::54
noglue           NS      ns1.example.net.
noglue           NS      ns.elsewhere.test.
sibling          NS      ns1
sibling          NS      ns.deleg
%(long)s A 192.0.2.200
""" % {"t255": "a" * 255, "t200": "b" * 200, "key": KEY, "sha256": SHA256, "sha1": SHA1,
       "long": LONG_OWNER}

ZONES = dict(STANDARD_ZONES, example=RFC4592, **{"rich.test": RICH})
ORIGINS = [dns.name.from_text(z) for z in ZONES]

# Types asked at every name whether it holds them or not (NODATA, referrals, CNAME at the name).
PROBES = ["A", "AAAA", "MX", "TXT", "NS", "SOA", "CNAME", "DS", "SRV", "PTR", "TYPE65400"]

# What the comparison leaves out, and why.
NORMALISE = """
- A UDP reply with TC: RFC 2181 §9 lets a server send whatever part fits, so the sections are not
  compared; the header, the OPT record and the EDE codes are, and the query is asked again over TCP
  where the whole reply is compared.
- The rcode of a NOTIFY: tdnsd has no secondary zones and does not implement the opcode, so it
  answers NOTIMP (RFC 1035 §4.1.1); Knot and NSD implement it and turn away a NOTIFY from a
  server that is not a primary of theirs (NOTAUTH, REFUSED, or NXDOMAIN for no zone).  Each of
  those rcodes means the NOTIFY is not acted on, and is compared as such.
- The text of CH TXT replies (version.bind, id.server): each server names itself there.
- Addresses in the additional section for a target in another zone tdnsd serves (an MX, SRV or
  NS target there): tdnsd takes them from any zone it is authoritative for (RFC 1034 §4.3.2 step
  6 says "authoritative data", as BIND reads it), Knot and NSD only from the zone of the
  question.  The additional section is compared without the RRsets outside the question's zone.
- Addresses of the owner of an SVCB or HTTPS record in ServiceMode with TargetName ".": RFC 9460
  §2.5.2 makes the owner the target and §4.1 asks for its addresses in the additional section,
  which tdnsd adds and neither Knot 3.2 nor NSD 4.6 does.  They are left out of the comparison.
- Names in the authority and additional sections are compared without regard to case (RFC
  4343): a server may spell them as in the question (a compression pointer into it, as tdnsd and
  NSD do) or as in the zone (Knot).  The answer section, which RFC 1034 §4.3.2 fills from the
  question's name, is compared with its case.
""".strip()

# Where Knot 3.2 and NSD 4.6 differ, the test prints which one tdnsd matched.  At the time of
# writing, and why that reading:
# - authority and additional sections of positive answers: Knot's minimal ones (no apex NS and
#   its addresses): RFC 1034 §4.3.2 lets a server leave them out; NSD adds them by default.
# - ANY: NSD's (the SOA alone at an apex, RFC 8482 §4.1); Knot gives another single RRset.
# - CNAME and DNAME chains into another zone served: NSD's (followed to the end, with the last
#   name's rcode and SOA, RFC 6604 §3); Knot stops at the zone boundary.
# - BADVERS: Knot's (the DO bit echoed in the OPT record, RFC 3225 §3); NSD clears it.
# - EDE: Knot's (none for YXDOMAIN, REFUSED class CH and HS, refused transfers); NSD adds 0,
#   21 and 18 there.
# - a transfer of a zone served, not allowed: NSD's REFUSED (as BIND); Knot says NOTAUTH.
# - other opcodes and class HS: Knot's (question and OPT echoed); NSD sends neither.
# - class ANY: Knot's AA (the data is authoritative); NSD clears it.
# - TYPE0: NSD's NODATA; Knot NOTIMP.  UPDATE: NSD's NOTIMP (none implemented); Knot NOTAUTH.
# - CH ANY for the identity names: NSD's TXT answer; Knot refuses.


class Reference(Daemon):
    """A reference server serving ZONES on a locked loopback port: subclasses give the package
    that installs it, its configuration (config_lines) and its command line (argv)."""

    package = None

    def __init__(self, d):
        super().__init__(str(d))
        self.binary = shutil.which(self.name) or "/usr/sbin/" + self.name
        assert os.access(self.binary, os.X_OK), \
            "%s (Debian package %s) is required" % (self.name, self.package)
        start_retrying(self.start)

    def start(self):
        self.port = self.lock_ports()[0]
        for name, text in ZONES.items():
            with open(os.path.join(self.dir, name + ".zone"), "w") as f:
                f.write(text)
        conf = os.path.join(self.dir, self.package + ".conf")
        with open(conf, "w") as f:
            f.write("\n".join(self.config_lines()) + "\n")
        self.launch(self.argv(conf))
        self.wait_until(lambda: serves_all(self.port))


class Knot(Reference):
    """knotd with one worker of each kind."""

    name, package = "knotd", "knot"

    def config_lines(self):
        d = self.dir
        conf = ["server:", "    rundir: \"%s\"" % d, "    listen: 127.0.0.1@%d" % self.port,
                "    udp-workers: 1", "    tcp-workers: 1", "    background-workers: 1",
                "database:", "    storage: \"%s\"" % d, "log:", "  - target: stderr",
                "    any: warning", "zone:"]
        for name in ZONES:
            conf += ["  - domain: %s" % name, "    file: \"%s/%s.zone\"" % (d, name),
                     "    storage: \"%s\"" % d]
        return conf

    def argv(self, conf):
        return [self.binary, "-c", conf]


class Nsd(Reference):
    """nsd in the foreground, without privilege drop, with its default answer options."""

    name, package = "nsd", "nsd"
    log_files = ("stderr.log", "nsd.log")

    def config_lines(self):
        d = self.dir
        # Debian's NSD limits response rates by default, which would drop most of these queries.
        conf = ["server:", "  ip-address: 127.0.0.1@%d" % self.port, "  do-ip6: no",
                '  username: ""', '  chroot: ""', '  zonesdir: "%s"' % d, '  database: ""',
                '  pidfile: "%s/nsd.pid"' % d, '  logfile: "%s/nsd.log"' % d,
                '  xfrdfile: "%s/xfrd.state"' % d, '  xfrdir: "%s"' % d,
                '  zonelistfile: "%s/zone.list"' % d, "  server-count: 1",
                "  rrl-ratelimit: 0", "  refuse-any: no", "remote-control:",
                "  control-enable: no"]
        for name in ZONES:
            conf += ["zone:", '  name: "%s"' % name, '  zonefile: "%s.zone"' % name]
        return conf

    def argv(self, conf):
        return [self.binary, "-d", "-c", conf]


def serves_all(port):
    """True once the server on port answers the SOA query of every zone with data."""
    for origin in ORIGINS:
        q = dns.message.make_query(origin, "SOA")
        if not dns.query.udp(q, "127.0.0.1", port=port, timeout=0.2).answer:
            return False
    return True


@pytest.fixture
def references(tmp_path):
    """{"knot": port, "nsd": port}: both references serving ZONES."""
    servers = {}
    try:
        for name, cls in (("knot", Knot), ("nsd", Nsd)):
            d = tmp_path / name
            d.mkdir()
            servers[name] = cls(d)
        yield {name: s.port for name, s in servers.items()}
    finally:
        for s in servers.values():
            s.stop()


# ---- the queries ----

# The hand-picked queries of this test's first version (mostly also generated below).
CHOSEN = [
    ("ExAmPlE.cOm", "A"), ("deeper.web.example.com", "A"), ("_tcp.example.com", "A"),
    ("x.w.example.com", "A"), ("a.b.w.example.com", "TXT"), ("x.w.example.com", "MX"),
    ("y.w.example.com", "A"), ("z.y.w.example.com", "A"), ("foo.wc.example.com", "A"),
    ("host.sub.example.com", "A"), ("www.dn.example.com", "A"),
    ("%s.%s.long.example.com" % ("p" * 63, "q" * 63), "A"), ("host3.example", "MX"),
    ("host3.example", "A"), ("foo.bar.example", "TXT"), ("sub.*.example", "MX"),
    ("_telnet._tcp.host1.example", "SRV"), ("ghost.*.example", "MX"),
    ("host.subdel.example", "A"), ("a.b.c.wild.rich.test", "MX"), ("y.sub.wild.rich.test", "A"),
    ("foo.wcn.rich.test", "AAAA"), ("a.dname-in.rich.test", "A"), ("x.a.dname-in.rich.test", "A"),
    ("www.dname-out.rich.test", "A"), ("www.dname-ext.rich.test", "A"),
]

Query = collections.namedtuple("Query", "name rdtype rdclass edns payload do rd tcp opcode option")


def query(name, rdtype, rdclass="IN", edns=0, payload=1232, do=False, rd=False, tcp=False,
          opcode="QUERY", option=None):
    return Query(str(name), rdtype, rdclass, edns, payload, do, rd, tcp, opcode, option)


def zone_names():
    """{origin: names}: every owner name of each zone and every empty non-terminal above one."""
    out = {}
    for text, origin in zip(ZONES.values(), ORIGINS):
        z = dns.zone.from_text(text, origin, relativize=False)
        names = {}
        for name, node in z.nodes.items():
            names[name] = {dns.rdatatype.to_text(rs.rdtype) for rs in node.rdatasets}
            parent = name
            while parent != origin:
                parent = parent.parent()
                names.setdefault(parent, set())
        out[origin] = names
    return out


def mixed_case(name):
    text = name.to_text()
    return "".join(c.upper() if i % 2 else c.lower() for i, c in enumerate(text))


def fits(text):
    try:
        dns.name.from_text(text)
        return True
    except (dns.name.NameTooLong, dns.name.LabelTooLong):
        return False


def generated_queries():
    """Every name of every zone with every type it holds and PROBES, ANY, a child and a sibling
    name that do not exist, and one mixed-case spelling; the same types at names a wildcard
    synthesises; then the EDNS, transport and class cases below."""
    qs = []
    for origin, names in zone_names().items():
        for name, types in sorted(names.items()):
            for t in sorted(types | set(PROBES)):
                qs.append(query(name, t))
            qs.append(query(name, "ANY"))
            qs.append(query(mixed_case(name), sorted(types)[0] if types else "A"))
            child = "nx." + name.to_text()
            if fits(child):
                qs.append(query(child, "A"))
            if name.labels[0] == b"*":
                # Every type (held or not) at a name the wildcard synthesises, and below it.
                synth = "synth." + name.parent().to_text()
                for t in sorted(types | set(PROBES) | {"ANY"}):
                    qs += [query(synth, t), query("a.b." + synth, t)]
            if name != origin:
                label = name.labels[0].decode()
                sibling = "nx-%s.%s" % (label, name.parent().to_text())
                if len(label) < 60 and fits(sibling):
                    qs.append(query(sibling, "A"))
    qs += [query(name, t) for name, t in CHOSEN]
    apexes = [o.to_text() for o in ORIGINS]
    for apex in apexes:
        qs += [query(apex, "SOA", edns=None), query(apex, "NS", edns=None),
               query(apex, "SOA", edns=1), query(apex, "SOA", do=True),
               query(apex, "NS", rd=True), query(apex, "A", rdclass="CH"),
               query("nx." + apex, "A", do=True), query("nx." + apex, "A", edns=None),
               query(apex, "ANY", edns=None), query(apex, "ANY", payload=512)]
    big = [("rich.test", "TXT"), ("rich.test", "ANY"), ("rich.test", "DNSKEY"),
           ("big.example.com", "TXT"), ("mid.example.com", "TXT"),
           ("huge.example.com", "TXT"), ("www.rich.test", "ANY"), ("deleg.rich.test", "A"),
           ("host.deleg.rich.test", "A"), ("rich.test", "MX"), ("_sip._udp.rich.test", "SRV")]
    for name, t in big:
        for payload in (512, 1232, 4096):
            qs.append(query(name, t, payload=payload))
            qs.append(query(name, t, payload=payload, do=True))
        qs += [query(name, t, edns=None), query(name, t, tcp=True),
               query(name, t, edns=None, tcp=True)]
    for name, t in [("www.rich.test", "A"), ("nx.rich.test", "A"), ("deleg.rich.test", "NS")]:
        qs += [query(name, t, edns=1), query(name, t, edns=1, do=True), query(name, t, rd=True),
               query(name, t, rd=True, do=True), query(name, t, payload=0),
               query(name, t, payload=511), query(name, t, payload=65535)]
    for name in ["example.org", "www.example.org", ".", "test", "com", "elsewhere.test",
                 "example.invalid", "net"]:
        qs += [query(name, "A"), query(name, "SOA", rd=True), query(name, "NS", edns=None)]
    for name in ["version.bind", "id.server", "hostname.bind", "version.server"]:
        qs += [query(name, "TXT", rdclass="CH"), query(name, "A", rdclass="CH"),
               query(name, "ANY", rdclass="CH"), query(name.upper(), "TXT", rdclass="CH")]
    # Meta and DNSSEC types on unsigned zones, transfers over UDP and TCP, other opcodes, EDNS
    # options the servers do not implement (an unassigned code, and NSID with none set).
    for t in ["AXFR", "IXFR", "MAILA", "MAILB", "RRSIG", "NSEC", "NSEC3PARAM", "OPT", "TYPE0",
              "TYPE65535"]:
        qs += [query("rich.test", t), query("www.rich.test", t)]
    for name in ["rich.test", "www.rich.test", "example.org"]:
        qs += [query(name, "AXFR", tcp=True), query(name, "IXFR", tcp=True)]
    for opcode in ["IQUERY", "STATUS", "NOTIFY", "UPDATE"]:
        qs += [query("rich.test", "SOA", opcode=opcode), query("nx.rich.test", "A", opcode=opcode),
               query("example.org", "SOA", opcode=opcode)]
    for option in [65001, 3]:
        qs += [query("www.rich.test", "A", option=option), query("example.org", "A", option=option),
               query("nx.rich.test", "A", option=option, edns=None)]
    qs += [query("rich.test", "SOA", rdclass="CH"), query("www.rich.test", "A", rdclass="HS"),
           query("www.rich.test", "A", rdclass="ANY")]
    return list(dict.fromkeys(qs))


# ---- the comparison ----

def zone_of(name):
    best = None
    for origin in ORIGINS:
        if name.is_subdomain(origin) and (best is None or origin.is_subdomain(best)):
            best = origin
    return best


def rrset_keys(section):
    return sorted((rs.name.to_text(), dns.rdatatype.to_text(rs.rdtype),
                   dns.rdataclass.to_text(rs.rdclass), rs.ttl,
                   tuple(sorted(rd.to_text() for rd in rs))) for rs in section)


NOTIFY_NOT_ACTED_ON = ("NOTIMP", "NOTAUTH", "REFUSED", "NXDOMAIN")


def summary(q, r):
    """The fields compared, with NORMALISE applied."""
    s = {"rcode": dns.rcode.to_text(r.rcode()),
         "opcode": dns.opcode.to_text(r.opcode()),
         "flags": dns.flags.to_text(r.flags),
         "question": [(rs.name.to_text(), dns.rdatatype.to_text(rs.rdtype)) for rs in r.question],
         "opt": None, "ede": []}
    if r.opcode() == dns.opcode.NOTIFY and s["rcode"] in NOTIFY_NOT_ACTED_ON:
        s["rcode"] = "/".join(NOTIFY_NOT_ACTED_ON)
    if r.edns >= 0:
        s["opt"] = (r.edns, bool(r.ednsflags & dns.flags.DO), r.payload)
        s["ede"] = sorted(o.code for o in r.options if o.otype == dns.edns.EDE)
    if r.flags & dns.flags.TC:
        return s
    qzone = zone_of(dns.name.from_text(q.name))
    s["answer"] = rrset_keys(r.answer)
    if q.rdclass == "CH" and q.rdtype in ("TXT", "ANY"):
        s["answer"] = [k[:4] for k in s["answer"]]
    s["authority"] = lower(rrset_keys(r.authority))
    svcb_self = {rs.name for rs in r.answer
                 if rs.rdtype in (dns.rdatatype.SVCB, dns.rdatatype.HTTPS)
                 and any(rd.priority != 0 and rd.target == dns.name.root for rd in rs)}
    s["additional"] = lower(rrset_keys(
        rs for rs in r.additional
        if zone_of(rs.name) in (None, qzone)
        and not (rs.name in svcb_self and rs.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA))))
    return s


def lower(keys):
    return sorted((name.lower(), t, c, ttl, tuple(sorted(rd.lower() for rd in rds)))
                  for name, t, c, ttl, rds in keys)


def ask(q, port):
    m = dns.message.make_query(q.name, q.rdtype, q.rdclass, use_edns=False)
    m.set_opcode(dns.opcode.from_text(q.opcode))
    if q.edns is not None:
        # Set afterwards: dnspython 2.3's make_query turns use_edns=1 into version 0.
        options = [dns.edns.GenericOption(q.option, b"")] if q.option is not None else []
        m.use_edns(q.edns, ednsflags=dns.flags.DO if q.do else 0, payload=q.payload,
                   options=options)
    if not q.rd:
        m.flags &= ~dns.flags.RD
    # Not dns.query.udp()/tcp(): they reject replies without the question (other opcodes).
    wire = m.to_wire()
    if q.tcp:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(struct.pack("!H", len(wire)) + wire)
            return parse(recv_exact(sock, struct.unpack("!H", recv_exact(sock, 2))[0]))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(5)
        sock.connect(("127.0.0.1", port))
        sock.send(wire)
        while True:
            reply = sock.recv(65535)
            if reply[:2] == wire[:2]:
                return parse(reply)


def parse(wire):
    """wire as a dnspython Message, whatever its opcode: dnspython reads an UPDATE reply's
    sections as zone, prerequisites and updates, so it is parsed as QUERY and then given its
    opcode back."""
    opcode = dns.opcode.from_flags(struct.unpack("!H", wire[2:4])[0])
    wire = wire[:2] + bytes([wire[2] & 0x87]) + wire[3:]
    m = dns.message.from_wire(wire)
    m.set_opcode(opcode)
    return m


def compare(q, mine, refs):
    """Returns (problems, choices): the fields where tdnsd matches no reference, and for those
    where the references differ, which one tdnsd matched."""
    problems, choices = [], []
    for field in sorted(set(mine) | set().union(*refs.values())):
        if field not in mine or any(field not in r for r in refs.values()):
            # The sections of a truncated reply (NORMALISE): TC itself is among the flags.
            continue
        values = {name: r[field] for name, r in refs.items()}
        matched = [name for name, v in values.items() if v == mine[field]]
        if not matched:
            problems.append("  %s: tdnsd %s\n%s" % (field, mine[field], "\n".join(
                "  %*s %s %s" % (len(field), "", name, v) for name, v in values.items())))
        elif len(set(map(repr, values.values()))) > 1:
            choices.append((field, matched[0]))
    return problems, choices


def shape(r):
    """The kinds of reply r is, to show that the queries reach every kind."""
    rcode, flags = r.rcode(), r.flags
    if flags & dns.flags.TC:
        return ["truncated"]
    kinds = [] if r.edns >= 0 else ["without OPT"]
    if rcode != dns.rcode.NOERROR:
        kinds.append(dns.rcode.to_text(rcode))
    elif not flags & dns.flags.AA and any(rs.rdtype == dns.rdatatype.NS for rs in r.authority):
        kinds.append("referral")
    elif not r.answer:
        kinds.append("NODATA")
    kinds += [dns.rdatatype.to_text(rs.rdtype) for rs in r.answer
              if rs.rdtype in (dns.rdatatype.CNAME, dns.rdatatype.DNAME)]
    return kinds + (["additional"] if r.additional else [])


SHAPES = {"truncated", "without OPT", "NXDOMAIN", "REFUSED", "BADVERS", "YXDOMAIN", "referral",
          "NODATA", "CNAME", "DNAME", "additional"}


def test_replies_match_knot_and_nsd(make_server, references):
    # Without them tdnsd refuses CH TXT queries for its identity and version (tdnsd.conf(5)).
    srv = make_server(zones=ZONES, server_extra="identity = tdnsd.test\nversion = tdnsd")
    ports = dict(tdnsd=srv.port, **references)
    qs = generated_queries()
    assert len(qs) > 1000
    diffs, followed, compared, examples, seen = [], collections.Counter(), 0, [], set()
    for q in qs:
        todo = [q]
        while todo:
            q = todo.pop()
            replies = {name: ask(q, port) for name, port in ports.items()}
            compared += 1
            seen.update(shape(replies["tdnsd"]))
            mine = summary(q, replies.pop("tdnsd"))
            refs = {name: summary(q, r) for name, r in replies.items()}
            problems, choices = compare(q, mine, refs)
            if problems:
                diffs.append("%s\n%s" % (q, "\n".join(problems)))
            for c in choices:
                key = "%s=%s" % c
                followed[key] += 1
                if followed[key] <= 2:
                    examples.append("  %s: %s %s%s" % (key, q.name, q.rdtype,
                                                       " (TCP)" if q.tcp else ""))
            if not q.tcp and any("TC" in s["flags"].split() for s in [mine, *refs.values()]):
                todo.append(q._replace(tcp=True))
    print("compared %d replies; fields where Knot and NSD differ, and whom tdnsd matched: %s\n%s"
          % (compared, dict(followed), "\n".join(examples)))
    assert not diffs, "%d of %d replies differ:\n%s" % (len(diffs), compared, "\n".join(diffs))
    assert SHAPES <= seen, "no reply of kinds %s" % (SHAPES - seen)
