# SPDX-License-Identifier: MIT
"""Replayable resolver scenarios: scripted authoritative servers that answer from a scenario file.

A scenario (tests/integration/scenarios/*.scn) describes a small DNS tree as the servers of its
zones would answer, rule by rule, and a question with the answer a resolver must give.  The
servers listen on port 53 of 127.R.x.y (R: a /16 of 127/8 held with an flock, as hierarchy.py
does), because an iterative resolver always asks port 53; the resolver under test is started
with root hints naming the scenario's hint servers.  This is Unbound's testbound idea (replay
scripted upstream answers, check the resolver's answer) in a form of our own.

Scenario syntax, one directive a line, '#' starts a comment; 'include FILE' reads the lines of
another file (relative to the scenario) in its place, for the servers many scenarios share:

    name: what the scenario shows
    query: NAME TYPE                  the question sent to the resolver (RD, EDNS 1232)
    prequery: NAME TYPE               a question sent first (answer not checked), to fill the
                                      resolver's cache; any number, in order
    expect: rcode RCODE               the rcode of the resolver's answer (default NOERROR)
    expect: answer NAME TTL TYPE RDATA   an RR that must be in the answer section (TTL ignored)
    expect: no-answer                 the answer section must be empty
    expect: no-record NAME TTL TYPE RDATA   an RR that must not be in the answer section
    hint: NAME X.Y                    a root server (NAME at 127.R.X.Y) for the root hints

    server X.Y                        a scripted server on 127.R.X.Y:53 (UDP and TCP)
    rule NAME TYPE [below] [udp|tcp]  a rule of that server: matches the question NAME (or a
                                      name below it with 'below'), TYPE or '*', over either
                                      transport unless one is named; the first match answers
    flags FLAG ...                    header flags of the rule's answer (default: aa); 'none'
    default-flags FLAG ...            the flags of the rules that follow it without 'flags'
    rcode RCODE                       its rcode (default NOERROR)
    answer|authority|additional NAME TTL TYPE RDATA    a record of the answer
    drop                              the rule sends nothing (a silent server)

In RDATA, '@X.Y' stands for the address 127.R.X.Y.  A question that no rule matches gets
REFUSED, as from a server that does not serve the zone.  Each server logs the questions it got.
"""
import os
import threading

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from helpers import (accept_loop, parse_query, port53_sockets, send_udp, serve_dns_tcp, spawn,
                     udp_loop)

SECTIONS = ("answer", "authority", "additional")


class ScenarioError(Exception):
    pass


class Rule:
    def __init__(self, name, rdtype, below, transport):
        self.name = dns.name.from_text(name)
        self.rdtype = None if rdtype == "*" else dns.rdatatype.from_text(rdtype)
        self.below = below
        self.transport = transport
        self.flags = dns.flags.AA
        self.rcode = dns.rcode.NOERROR
        self.records = {s: [] for s in SECTIONS}
        self.drop = False

    def matches(self, qname, qtype, transport):
        if self.transport is not None and self.transport != transport:
            return False
        if self.rdtype is not None and self.rdtype != qtype:
            return False
        return qname == self.name or (self.below and qname.is_subdomain(self.name))


class Scenario:
    """A parsed scenario file; addresses are written X.Y and completed by addr()."""

    def __init__(self, path):
        self.path = path
        self.id = os.path.splitext(os.path.basename(path))[0]
        self.name = self.id
        self.qname = self.qtype = None
        self.rcode = dns.rcode.NOERROR
        self.answers = []
        self.absent = []
        self.prequeries = []
        self.no_answer = False
        self.hints = []
        self.servers = {}
        self._parse()

    def _fail(self, where, msg):
        raise ScenarioError("%s:%d: %s" % (where[0], where[1], msg))

    def _lines(self, path, depth=0):
        """(file, line number, text) of path with its 'include FILE' lines expanded."""
        with open(path) as f:
            for lineno, raw in enumerate(f.read().splitlines(), 1):
                word, _, rest = raw.split("#", 1)[0].strip().partition(" ")
                if word == "include":
                    if depth > 4:
                        self._fail((path, lineno), "includes nested too deeply")
                    inc = os.path.join(os.path.dirname(path), rest.strip())
                    yield from self._lines(inc, depth + 1)
                else:
                    yield path, lineno, raw

    def _parse(self):
        server = rule = None
        default_flags = dns.flags.AA
        for path, lineno, raw in self._lines(self.path):
            lineno = (path, lineno)
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            word, _, rest = line.partition(" ")
            rest = rest.strip()
            try:
                if word == "name:":
                    self.name = rest
                elif word == "prequery:":
                    qname, qtype = rest.split()
                    self.prequeries.append((qname, qtype))
                elif word == "query:":
                    qname, qtype = rest.split()
                    self.qname, self.qtype = qname, qtype
                elif word == "expect:":
                    kind, _, arg = rest.partition(" ")
                    if kind == "rcode":
                        self.rcode = dns.rcode.from_text(arg)
                    elif kind == "answer":
                        self.answers.append(arg)
                    elif kind == "no-record":
                        self.absent.append(arg)
                    elif kind == "no-answer":
                        self.no_answer = True
                    else:
                        self._fail(lineno, "unknown expectation %r" % kind)
                elif word == "default-flags":
                    default_flags = 0
                    for fl in rest.split():
                        if fl != "none":
                            default_flags |= dns.flags.from_text(fl)
                elif word == "hint:":
                    name, xy = rest.split()
                    self.hints.append((name, xy))
                elif word == "server":
                    server = self.servers.setdefault(rest, [])
                    rule = None
                elif word == "rule":
                    if server is None:
                        self._fail(lineno, "rule outside a server")
                    parts = rest.split()
                    opts = parts[2:]
                    bad = set(opts) - {"below", "udp", "tcp"}
                    if len(parts) < 2 or bad:
                        self._fail(lineno, "expected: rule NAME TYPE [below] [udp|tcp]")
                    transport = "udp" if "udp" in opts else "tcp" if "tcp" in opts else None
                    rule = Rule(parts[0], parts[1], "below" in opts, transport)
                    rule.flags = default_flags
                    server.append(rule)
                elif rule is None:
                    self._fail(lineno, "%r outside a rule" % word)
                elif word == "flags":
                    rule.flags = 0
                    for fl in rest.split():
                        if fl != "none":
                            rule.flags |= dns.flags.from_text(fl)
                elif word == "rcode":
                    rule.rcode = dns.rcode.from_text(rest)
                elif word in SECTIONS:
                    rule.records[word].append(rest)
                elif word == "drop":
                    rule.drop = True
                else:
                    self._fail(lineno, "unknown directive %r" % word)
            except (ValueError, dns.exception.DNSException) as e:
                self._fail(lineno, str(e))
        if self.qname is None or not self.hints or not self.servers:
            raise ScenarioError("%s: needs query:, hint: and at least one server" % self.path)


def _rrset(text, addr):
    parts = text.split(None, 3)
    if len(parts) < 3:
        raise ScenarioError("bad record %r" % text)
    owner, ttl, rdtype = parts[0], int(parts[1]), parts[2]
    rdata = addr(parts[3]) if len(parts) > 3 else ""
    return dns.rrset.from_text(owner, ttl, dns.rdataclass.IN, rdtype, rdata)


class ScriptedServer:
    """Answers on addr:53 over UDP and TCP from a list of rules; records what it was asked."""

    def __init__(self, addr, rules, expand):
        self.addr, self.rules, self.expand = addr, rules, expand
        self.asked = []
        # (source address, transport) of every query, for [recursion] outgoing-address.
        self.sources = []
        self.stopping = threading.Event()
        self.udp, self.tcp = port53_sockets(addr, 16, udp_reuse=True)
        self.threads = [threading.Thread(target=self._udp_loop, daemon=True),
                        threading.Thread(target=self._tcp_loop, daemon=True)]
        for t in self.threads:
            t.start()

    def answer(self, wire, transport):
        q = parse_query(wire)
        if q is None:
            return None
        qname, qtype = q.question[0].name, q.question[0].rdtype
        self.asked.append((qname.to_text().lower(), dns.rdatatype.to_text(qtype), transport))
        r = dns.message.make_response(q)
        r.flags = dns.flags.QR | (q.flags & dns.flags.RD)
        for rule in self.rules:
            if rule.matches(qname, qtype, transport):
                if rule.drop:
                    return None
                r.flags |= rule.flags
                r.set_rcode(rule.rcode)
                for sec in SECTIONS:
                    for text in rule.records[sec]:
                        getattr(r, sec).append(_rrset(text, self.expand))
                break
        else:
            r.set_rcode(dns.rcode.REFUSED)
        return r.to_wire(max_size=65535)

    def _udp_loop(self):
        udp_loop(self.udp, self.stopping, self._datagram)

    def _datagram(self, wire, peer):
        self.sources.append((peer[0], "udp"))
        out = self.answer(wire, "udp")
        if out is not None:
            send_udp(self.udp, out, peer, self.stopping)

    def _tcp_loop(self):
        accept_loop(self.tcp, self.stopping, lambda conn: spawn(self._serve_tcp, conn))

    def _serve_tcp(self, conn):
        try:
            self.sources.append((conn.getpeername()[0], "tcp"))
        except OSError:
            conn.close()
            return
        serve_dns_tcp(conn, lambda wire: self.answer(wire, "tcp"))

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join(2)
        self.udp.close()
        self.tcp.close()


class Playback:
    """The servers of one scenario, started on block 127.R; hints is the root hints file."""

    def __init__(self, scenario, r, workdir):
        self.scenario, self.r = scenario, r
        self.servers = []
        try:
            for xy, rules in scenario.servers.items():
                self.servers.append(ScriptedServer(self.addr(xy), rules, self.expand))
        except OSError:
            self.stop()
            raise
        self.hints = os.path.join(workdir, "%s.hints" % scenario.id)
        with open(self.hints, "w") as f:
            for name in sorted({n for n, _ in scenario.hints}):
                f.write(". 3600000 NS %s\n" % name)
            for name, xy in scenario.hints:
                f.write("%s 3600000 A %s\n" % (name, self.addr(xy)))

    def addr(self, xy):
        return "127.%d.%s" % (self.r, xy)

    def expand(self, text):
        out = []
        for word in text.split():
            out.append(self.addr(word[1:]) if word.startswith("@") else word)
        return " ".join(out)

    def asked(self):
        return {s.addr: list(s.asked) for s in self.servers}

    def stop(self):
        for s in self.servers:
            s.stop()
        self.servers = []


def check(scenario, response, expand):
    """The list of ways response misses the scenario's expectations (empty: it passes)."""
    problems = []
    if response is None:
        return ["no answer"]
    if response.rcode() != scenario.rcode:
        problems.append("rcode %s, expected %s" % (dns.rcode.to_text(response.rcode()),
                                                   dns.rcode.to_text(scenario.rcode)))
    got = set()
    for rrset in response.answer:
        for rd in rrset:
            got.add("%s %s %s" % (rrset.name.to_text().lower(),
                                  dns.rdatatype.to_text(rrset.rdtype), rd.to_text().lower()))
    def key(text):
        parts = text.split(None, 3)
        rr = _rrset(text, expand)
        return "%s %s %s" % (rr.name.to_text().lower(), parts[2].upper(),
                             rr[0].to_text().lower())
    for text in scenario.answers:
        if key(text) not in got:
            problems.append("answer lacks %s" % key(text))
    for text in scenario.absent:
        if key(text) in got:
            problems.append("answer has %s" % key(text))
    if scenario.no_answer and response.answer:
        problems.append("answer section not empty")
    return problems
