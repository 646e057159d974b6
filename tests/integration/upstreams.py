# SPDX-License-Identifier: MIT
"""Upstream servers for the forwarder tests: unbound on loopback, and a scriptable fake upstream.

Unbound serves made-up zones from local-data (nothing leaves the machine): plain DNS on one
port, and, when given a Pki, DNS over TLS (tls-port) and DNS over HTTPS (https-port; the
Debian build links nghttp2) with a certificate for "dns.test" signed by a test CA made with
the openssl CLI.  The fake upstream is written with dnspython and lets a test decide, name by
name, how it misbehaves: late, silent, answering with another ID or question first, adding
records from outside the question's domain, or truncating; it counts the queries it gets."""
import os
import shutil
import socket
import subprocess
import threading
import time

import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest

from helpers import (Daemon, accept_loop, bind_locked, later, make_reply, parse_query, read_dns_tcp,
                     send_dns_tcp, send_udp, spawn, start_retrying, udp_loop,
                     unbound_server_lines)

UNBOUND = "/usr/sbin/unbound"
TLS_NAME = "dns.test"

# example.test as unbound serves it.  The SOA minimum (60) is below the SOA TTL (3600): a
# negative answer is cached for 60 s at most (RFC 2308 §5).
EXAMPLE_TEST = [
    "example.test. 3600 IN SOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 60",
    "example.test. 3600 IN NS ns.example.test.",
    "ns.example.test. 3600 IN A 192.0.2.53",
    "www.example.test. 300 IN A 192.0.2.80",
    "www.example.test. 300 IN AAAA 2001:db8::80",
    "two.example.test. 300 IN A 192.0.2.21",
    "two.example.test. 300 IN A 192.0.2.22",
    'txt.example.test. 300 IN TXT "hello world" "second string"',
    "alias.example.test. 300 IN CNAME www.example.test.",
    "mx.example.test. 300 IN MX 10 mail.example.test.",
    "mail.example.test. 300 IN A 192.0.2.25",
    "short.example.test. 2 IN A 192.0.2.2",
]


# ---- PKI ------------------------------------------------------------------------------------

def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_ca(d, cn):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=" + cn,
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    return os.path.join(d, "ca.pem")


class Pki:
    """A test CA, a server certificate for dns.test signed by it, and an unrelated CA."""

    def __init__(self, base, name=TLS_NAME):
        self.dir = os.path.join(base, "pki")
        other = os.path.join(base, "other-ca")
        os.makedirs(self.dir)
        os.makedirs(other)
        self.name = name
        self.ca = make_ca(self.dir, "tdns forwarder test CA")
        self.other_ca = make_ca(other, "an unrelated CA")
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=" + name,
                cwd=self.dir)
        with open(os.path.join(self.dir, "ext.cnf"), "w") as f:
            f.write("subjectAltName=DNS:%s\nbasicConstraints=CA:FALSE\n"
                    "extendedKeyUsage=serverAuth\n" % name)
        openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf",
                cwd=self.dir)
        self.key = os.path.join(self.dir, "server.key")
        self.cert = os.path.join(self.dir, "server.pem")


# ---- unbound --------------------------------------------------------------------------------

def unbound_has_doh():
    """True when this unbound was built with nghttp2 (https-port works)."""
    r = subprocess.run([UNBOUND, "-V"], capture_output=True, text=True)
    return "nghttp2" in r.stdout + r.stderr


def require(*tools):
    for tool in tools:
        if shutil.which(tool) is None and not os.access(tool, os.X_OK):
            pytest.fail("%s is needed (Debian packages unbound, openssl, python3-h2)" % tool,
                        pytrace=False)


def unbound_tls_lines(pki, tls_port, https_port):
    """The server: lines of an unbound that also speaks DNS over TLS on tls_port and, when
    https_port is not None, DNS over HTTPS there, with pki's certificate (none without pki)."""
    if pki is None:
        return []
    lines = ["  interface: 127.0.0.1@%d" % tls_port,
             "  tls-port: %d" % tls_port,
             '  tls-service-key: "%s"' % pki.key,
             '  tls-service-pem: "%s"' % pki.cert]
    if https_port is not None:
        lines += ["  interface: 127.0.0.1@%d" % https_port,
                  "  https-port: %d" % https_port,
                  # RFC 8484 needs HTTP/2 over TLS; no plain-text HTTP.
                  "  http-notls-downstream: no"]
    return lines


class Unbound(Daemon):
    """unbound -d on locked loopback ports, answering from local-data only.

    port is plain DNS (UDP and TCP, unless udp=False or tcp=False); with a Pki, tls_port
    speaks DNS over TLS and https_port (when unbound has nghttp2) DNS over HTTPS.  The root
    is a static local zone, so unbound never tries to reach the Internet."""

    name = "unbound"
    log_files = ("stderr.log", "unbound.log")

    def __init__(self, base, local_data=None, pki=None, udp=True, tcp=True, tag="unbound"):
        super().__init__(os.path.join(base, tag))
        self.pki = pki
        self.doh = pki is not None and unbound_has_doh()
        self.udp_enabled, self.tcp_enabled = udp, tcp
        self.data = EXAMPLE_TEST if local_data is None else local_data
        start_retrying(self.start)

    def config(self):
        lines = ["server:",
                 "  interface: 127.0.0.1@%d" % self.port]
        lines += unbound_tls_lines(self.pki, self.tls_port, self.https_port)
        lines += ["  do-udp: %s" % ("yes" if self.udp_enabled else "no"),
                  "  do-tcp: %s" % ("yes" if self.tcp_enabled else "no"),
                  *unbound_server_lines(self.dir, 1),
                  '  local-zone: "." static',
                  '  local-zone: "test." nodefault']
        zones = sorted({rr.split()[0] for rr in self.data if " SOA " in rr})
        for z in zones:
            lines.append('  local-zone: "%s" static' % z)
        for rr in self.data:
            lines.append("  local-data: '%s'" % rr)
        lines += ["remote-control:", "  control-enable: no", ""]
        return "\n".join(lines)

    def start(self):
        """Starts unbound on new locked ports (PortClash when another program took one)."""
        ports = self.lock_ports(1 + (1 if self.pki else 0) + (1 if self.doh else 0))
        self.port = ports[0]
        self.tls_port = ports[1] if self.pki else None
        self.https_port = ports[2] if self.doh else None
        self.conf = os.path.join(self.dir, "unbound.conf")
        with open(self.conf, "w") as f:
            f.write(self.config())
        self.launch([UNBOUND, "-d", "-c", self.conf])
        q = dns.message.make_query("www.example.test.", "A")

        def up():
            transport = dns.query.udp if self.udp_enabled else dns.query.tcp
            transport(q, "127.0.0.1", port=self.port, timeout=0.5)
            for p in (self.tls_port, self.https_port):
                if p:
                    socket.create_connection(("127.0.0.1", p), 1).close()
            return True
        self.wait_until(up)

    def query(self, name, rdtype="A", tcp=False, timeout=3.0):
        """The answer unbound itself gives (RD set), for comparisons."""
        q = dns.message.make_query(name, rdtype)
        fn = dns.query.tcp if tcp else dns.query.udp
        return fn(q, "127.0.0.1", port=self.port, timeout=timeout)



# ---- the scriptable fake upstream -------------------------------------------------------------

def _name(n):
    return dns.name.from_text(n) if isinstance(n, str) else n


class Behaviour:
    """How the fake upstream treats one name.

    delay      seconds before the answer is sent
    drop       never answer
    forged     kinds of forged replies sent at once, before the real answer: "id" (another ID),
               "question" (right ID, another question); each carries an A record 6.6.6.6 for
               the name asked; the real answer follows forged_lead seconds later
    answer_extra, authority_extra, additional_extra
               records (text) added to the answer's sections, e.g. out-of-bailiwick data
    tc         UDP answers are truncated: TC set and no records (RFC 2181 §9)
    rcode      answer with this rcode and no records"""

    def __init__(self, delay=0.0, drop=False, forged=(), forged_lead=0.2, answer_extra=(),
                 authority_extra=(), additional_extra=(), tc=False, rcode=None):
        self.delay = delay
        self.drop = drop
        self.forged = tuple(forged)
        self.forged_lead = forged_lead
        self.answer_extra = tuple(answer_extra)
        self.authority_extra = tuple(authority_extra)
        self.additional_extra = tuple(additional_extra)
        self.tc = tc
        self.rcode = rcode


class FakeUpstream:
    """A recursive-looking DNS server on 127.0.0.1 (UDP and TCP) answering from its records.

    Records are added as text with add(); a name that has no records and lies under a zone
    whose SOA was added is NXDOMAIN (NODATA when the name exists), with the SOA in the
    authority section; names outside every zone are REFUSED.  CNAMEs are followed inside the
    records.  behave(name, ...) scripts the misbehaviour for one name; drop_all makes the
    whole server silent (a dead host that swallows packets).  Every query is logged in
    `queries` as (monotonic time, "udp"|"tcp", qname text lower-cased, rdtype int, ID)."""

    def __init__(self, records=(), tag="fake"):
        self.tag = tag
        self.addr = "127.0.0.1"
        self.lock, (self.udp, self.tcp) = bind_locked((self.addr,))
        self.port = self.lock.port
        self.rrsets = {}     # (name, rdtype) -> dns.rrset.RRset
        self.names = set()
        self.soas = {}       # zone name -> SOA RRset
        self.behaviours = {}
        self.drop_all = False
        self.queries = []
        self.answered = []   # qnames (lower-cased text) of the replies sent, in order
        self.mutex = threading.Lock()
        self.stopping = threading.Event()
        self.udp.settimeout(0.2)
        self.tcp.settimeout(0.2)
        self.conns = []
        self.threads = [threading.Thread(target=self._udp_loop, daemon=True),
                        threading.Thread(target=self._tcp_loop, daemon=True)]
        for t in self.threads:
            t.start()
        self.add(*records)

    @property
    def url(self):
        return "udp://127.0.0.1:%d" % self.port

    @property
    def tcp_url(self):
        return "tcp://127.0.0.1:%d" % self.port

    # -- scripting --
    def add(self, *texts):
        """Adds records given as master-file lines with absolute owner names and a TTL."""
        for text in texts:
            owner, ttl, rdclass, rdtype, rdata = text.split(None, 4)
            name = dns.name.from_text(owner)
            rt = dns.rdatatype.from_text(rdtype)
            with self.mutex:
                rrset = self.rrsets.get((name, rt))
                if rrset is None:
                    rrset = dns.rrset.from_text(name, int(ttl), rdclass, rdtype, rdata)
                    self.rrsets[(name, rt)] = rrset
                else:
                    rrset.add(dns.rrset.from_text(name, int(ttl), rdclass, rdtype, rdata)[0])
                self.names.add(name)
                if rt == dns.rdatatype.SOA:
                    self.soas[name] = rrset

    def behave(self, name, **kw):
        self.behaviours[_name(name)] = Behaviour(**kw)

    def count(self, name=None, rdtype=None, transport=None):
        """Queries received, optionally only for a name / type / transport."""
        want = _name(name).to_text().lower() if name is not None else None
        rt = dns.rdatatype.from_text(rdtype) if isinstance(rdtype, str) else rdtype
        with self.mutex:
            return sum(1 for (_, tr, qn, qt, _) in self.queries
                       if (want is None or qn == want) and (rt is None or qt == rt)
                       and (transport is None or tr == transport))

    # -- answers --
    def _zone_of(self, name):
        best = None
        for z in self.soas:
            if name.is_subdomain(z) and (best is None or len(z) > len(best)):
                best = z
        return best

    def _synthesize(self, q):
        r = make_reply(q, dns.flags.RA)
        qname, rdtype = q.question[0].name, q.question[0].rdtype
        with self.mutex:
            zone = self._zone_of(qname)
            if zone is None:
                r.set_rcode(dns.rcode.REFUSED)
                return r
            name = qname
            for _ in range(8):
                rrset = self.rrsets.get((name, rdtype))
                if rrset is not None:
                    r.answer.append(rrset)
                    return r
                cname = self.rrsets.get((name, dns.rdatatype.CNAME))
                if cname is None:
                    if name not in self.names and name == qname:
                        r.set_rcode(dns.rcode.NXDOMAIN)
                    z = self._zone_of(name)
                    if z is not None:
                        r.authority.append(self.soas[z])
                    return r
                r.answer.append(cname)
                name = cname[0].target
            return r

    def _replies(self, data, transport):
        """[(delay, wire)] to send for one query."""
        q = parse_query(data)
        if q is None:
            return []
        qname = q.question[0].name
        with self.mutex:
            self.queries.append((time.monotonic(), transport, qname.to_text().lower(),
                                 q.question[0].rdtype, q.id))
        if self.drop_all:
            return []
        b = self.behaviours.get(qname.canonicalize())
        if b is None:
            b = self.behaviours.get(qname)
        if b is not None and b.drop:
            return []
        r = self._synthesize(q)
        out = []
        delay = 0.0
        if b is not None:
            delay = b.delay
            if b.rcode is not None:
                r = dns.message.make_response(q)
                r.flags |= dns.flags.RA
                r.set_rcode(b.rcode)
            for text in b.answer_extra:
                r.answer.append(dns.rrset.from_text(*_split(text)))
            for text in b.authority_extra:
                r.authority.append(dns.rrset.from_text(*_split(text)))
            for text in b.additional_extra:
                r.additional.append(dns.rrset.from_text(*_split(text)))
            if b.tc and transport == "udp":
                r = dns.message.make_response(q)
                r.flags |= dns.flags.RA | dns.flags.TC
            if b.forged:
                for kind in b.forged:
                    out.append((0.0, _forged(q, kind)))
                delay = max(delay, b.forged_lead)
        out.append((delay, r.to_wire(max_size=65535)))
        return out

    # -- loops --
    def _udp_loop(self):
        udp_loop(self.udp, self.stopping, self._datagram)

    def _datagram(self, data, peer):
        for delay, wire in self._replies(data, "udp"):
            later(delay, self._sendto, wire, peer)

    def _sendto(self, wire, peer):
        send_udp(self.udp, wire, peer, self.stopping)
        self._note_sent(wire)

    def _note_sent(self, wire):
        try:
            name = dns.message.from_wire(wire).question[0].name.to_text().lower()
        except (dns.exception.DNSException, IndexError):
            return
        with self.mutex:
            self.answered.append(name)

    def _tcp_loop(self):
        accept_loop(self.tcp, self.stopping, self._accepted)

    def _accepted(self, conn):
        with self.mutex:
            self.conns.append(conn)
        spawn(self._serve_tcp, conn)

    def _serve_tcp(self, conn):
        send_lock = threading.Lock()

        def send(wire):
            if self.stopping.is_set():
                return
            with send_lock:
                try:
                    send_dns_tcp(conn, wire)
                except OSError:
                    return
            self._note_sent(wire)
        try:
            conn.settimeout(None)
            while not self.stopping.is_set():
                data = read_dns_tcp(conn)
                if data is None:
                    return
                for delay, wire in self._replies(data, "tcp"):
                    later(delay, send, wire)
        except OSError:
            return

    def stop(self):
        """The server dies: sockets closed (UDP to the port now draws ICMP port unreachable,
        TCP connections are refused), port still locked until release()."""
        if self.stopping.is_set():
            return
        self.stopping.set()
        for s in [self.udp, self.tcp] + self.conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        for t in self.threads:
            t.join(5)

    def release(self):
        self.stop()
        self.lock.release()


def _split(text):
    owner, ttl, rdclass, rdtype, rdata = text.split(None, 4)
    return owner, int(ttl), rdclass, rdtype, rdata


def _forged(q, kind):
    """A reply an off-path attacker could send: poisoned data, another ID or another question."""
    qname = q.question[0].name
    if kind == "id":
        r = dns.message.make_response(q)
        r.id = q.id ^ 0x5a5a
    elif kind == "question":
        other = dns.message.make_query("forged.invalid.", q.question[0].rdtype)
        other.id = q.id
        r = dns.message.make_response(other)
    else:
        raise ValueError(kind)
    r.flags |= dns.flags.RA
    r.answer.append(dns.rrset.from_text(qname, 3600, "IN", "A", "6.6.6.6"))
    return r.to_wire()
