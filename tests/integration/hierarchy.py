# SPDX-License-Identifier: MIT
"""A fake DNS tree on loopback for the recursion tests: root, TLD and domain zones served by NSD.

Every authoritative server listens on port 53 of its own 127.R.x.y address (Linux routes all of
127/8 to lo), because an iterative resolver always asks port 53.  R is drawn at random from
100..250 per test session and held with an flock (like helpers.PortLock holds ports), so two
runs at once (the plain and the ASan build) never share a block.  Binding port 53 needs root
(or CAP_NET_BIND_SERVICE); without it the hierarchy FAILS the tests with a message saying so.

Query log: each NSD (an independent, real authoritative implementation) sends a dnstap record
(AUTH_QUERY, RFC-less but documented at dnstap.info) of every query it receives to a Unix socket
served by DnstapCollector below, which speaks the Frame Streams handshake (READY / ACCEPT /
START) and decodes the protobuf by hand; so the counts and the minimised names the tests check
are what NSD itself logged.  dnstap is asynchronous (NSD flushes about once a second), so
mark() sends a marker query straight to every NSD, and queries(mark) sends another and waits
until it shows up in the log: one NSD server process keeps its records in order, so what lies
between the two markers is exactly what that server received in between.
The servers that must never answer ("silent": a host that swallows packets) are Python sockets
that record what they receive and send nothing; TCP connections to them are accepted by the
kernel backlog and never read.  The misbehaving servers NSD cannot imitate (ScriptedServer)
are Python too and log the same way, synchronously.

The tree (A = 127.R.0.0/16):
  .                 A.0.1 (NSD), and b.root.test at A.0.2 silent
  test.             A.1.1
  example.test.     A.2.1, and ns2 at A.2.2 which is lame (NSD serving another zone: REFUSED)
  alias.test., glueless.test., half.test.   A.4.1 (one NSD for the three)
      glueless.test is delegated to ns.hosts.example.test without glue;
      half.test has a silent server (A.6.1) and a good one (A.4.1)
  victim.test.      A.5.1, target of nxns.test: 40 glueless NS names that are NXDOMAIN there
  slow.test.        A.6.1 silent, target of slowns.test: 40 NS names that never resolve
  alllame.test.     delegated only to the lame A.2.2
  rtt.test.         A.4.1 (NSD, ns2) and A.7.5 (ns1: a ScriptedServer answering 250 ms late)
  noedns.test., poison.test., mismatch.test., brokenent.test., lower.test.   A.7.1 .. A.7.6:
      Python ScriptedServers, each with one quirk (no EDNS, out-of-zone data, wrong question,
      NXDOMAIN for empty non-terminals, question not echoed in its case); poison.test's out-of-zone NS for example.test
      points at A.9.9, a silent server that must never be asked
"""
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from helpers import (Daemon, accept_loop, later, lock_file, parse_query, port53_sockets, read_logs,
                     recv_exact as _recv_exact, send_udp, serve_dns_tcp, spawn, start_retrying,
                     stop_process, udp_loop, unbound_server_lines, unix_listener)

NSD = shutil.which("nsd") or "/usr/sbin/nsd"
UNBOUND = shutil.which("unbound") or "/usr/sbin/unbound"
MARKER = "tdns-sync-marker"
DELAY = 0.25
RTT_NAMES = 20
NXNS_NAMES = 40

# ---- dnstap collector -------------------------------------------------------------------------

FSTRM_ACCEPT, FSTRM_START, FSTRM_STOP, FSTRM_READY, FSTRM_FINISH = 1, 2, 3, 4, 5
CONTENT_TYPE = b"protobuf:dnstap.Dnstap"
DNSTAP_AUTH_QUERY = 1
PROTO_NAMES = {1: "udp", 2: "tcp", 3: "dot", 4: "doh"}


def _pb_fields(buf):
    """Yields (field number, wire type, value) of one protobuf message; value is int or bytes."""
    i, n = 0, len(buf)
    while i < n:
        key, i = _varint(buf, i)
        field, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _varint(buf, i)
        elif wt == 1:
            v, i = struct.unpack_from("<Q", buf, i)[0], i + 8
        elif wt == 2:
            ln, i = _varint(buf, i)
            v, i = bytes(buf[i:i + ln]), i + ln
        elif wt == 5:
            v, i = struct.unpack_from("<I", buf, i)[0], i + 4
        else:
            raise ValueError("protobuf wire type %d" % wt)
        yield field, wt, v


def _varint(buf, i):
    shift = v = 0
    while True:
        b = buf[i]
        i += 1
        v |= (b & 0x7F) << shift
        if not b & 0x80:
            return v, i
        shift += 7


class Query:
    """One query an authoritative server received."""
    __slots__ = ("seq", "server", "qname", "qtype", "proto", "raw", "port", "id", "edns")

    def __init__(self, seq, server, raw, qtype, proto, port, qid, edns):
        # qname: lower-cased text; raw: as sent (0x20 case randomisation shows there);
        # port: the sender's source port; id: the DNS message ID; edns: OPT present.
        self.seq, self.server, self.qtype, self.proto = seq, server, qtype, proto
        self.raw, self.qname = raw, raw.lower()
        self.port, self.id, self.edns = port, qid, edns

    def __repr__(self):
        return "%s %s %s/%s" % (self.server, self.qname, dns.rdatatype.to_text(self.qtype),
                                self.proto)


class QueryLog:
    """The queries every server of the hierarchy received, in arrival order."""

    def __init__(self):
        self.mutex = threading.Condition()
        self.entries = []

    def add(self, server, wire, proto, port=None):
        q = parse_query(wire)
        if q is None:
            return
        with self.mutex:
            self.entries.append(Query(len(self.entries), server, q.question[0].name.to_text(),
                                      q.question[0].rdtype, proto, port, q.id, q.edns >= 0))
            self.mutex.notify_all()

    def mark(self):
        with self.mutex:
            return len(self.entries)

    def since(self, mark, server=None):
        """Queries after mark (markers left out), optionally only those one server received."""
        with self.mutex:
            return [e for e in self.entries[mark:]
                    if (server is None or e.server == server) and MARKER not in e.qname]

    def wait_for(self, server, qname, timeout):
        deadline = time.monotonic() + timeout
        with self.mutex:
            while True:
                if any(e.server == server and e.qname == qname for e in self.entries):
                    return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.mutex.wait(left)


class DnstapCollector:
    """A Frame Streams (bidirectional) receiver of dnstap records on a Unix socket."""

    def __init__(self, path, log):
        self.path = path
        self.log = log
        self.sock = unix_listener(path, 32)
        self.stopping = threading.Event()
        self.conns = []
        self.threads = [threading.Thread(target=self._accept_loop, daemon=True)]
        self.threads[0].start()

    def _accept_loop(self):
        accept_loop(self.sock, self.stopping, self._accepted)

    def _accepted(self, conn):
        self.conns.append(conn)
        self.threads.append(spawn(self._serve, conn))

    def _control(self, conn, ctype, with_content_type):
        body = struct.pack("!I", ctype)
        if with_content_type:
            body += struct.pack("!II", 1, len(CONTENT_TYPE)) + CONTENT_TYPE
        conn.sendall(struct.pack("!II", 0, len(body)) + body)

    def _serve(self, conn):
        conn.settimeout(None)
        try:
            while True:
                hdr = _recv_exact(conn, 4)
                if hdr is None:
                    return
                ln = struct.unpack("!I", hdr)[0]
                if ln == 0:
                    # Control frame: READY is answered with ACCEPT, STOP with FINISH.
                    clen = struct.unpack("!I", _recv_exact(conn, 4))[0]
                    ctrl = _recv_exact(conn, clen)
                    ctype = struct.unpack_from("!I", ctrl)[0]
                    if ctype == FSTRM_READY:
                        self._control(conn, FSTRM_ACCEPT, True)
                    elif ctype == FSTRM_STOP:
                        self._control(conn, FSTRM_FINISH, False)
                        return
                    continue
                frame = _recv_exact(conn, ln)
                if frame is None:
                    return
                self._record(frame)
        except (OSError, TypeError, struct.error):
            return

    def _record(self, frame):
        identity, msg = None, None
        for f, _, v in _pb_fields(frame):
            if f == 1:
                identity = v.decode()
            elif f == 14:
                msg = v
        if msg is None:
            return
        mtype, wire, proto, port = None, None, None, None
        for f, _, v in _pb_fields(msg):
            if f == 1:
                mtype = v
            elif f == 3:
                proto = PROTO_NAMES.get(v, str(v))
            elif f == 6:
                port = v
            elif f == 10:
                wire = v
        if mtype == DNSTAP_AUTH_QUERY and wire is not None:
            self.log.add(identity, wire, proto, port)

    def stop(self):
        self.stopping.set()
        for s in [self.sock] + self.conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


# ---- silent servers -------------------------------------------------------------------------

class SilentServer:
    """Port 53 of addr: UDP queries are logged and never answered; TCP connects, then nothing."""

    def __init__(self, addr, label, log):
        self.addr, self.label, self.log = addr, label, log
        self.udp, self.tcp = port53_sockets(addr, 64)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        udp_loop(self.udp, self.stopping,
                 lambda data, peer: self.log.add(self.label, data, "udp", peer[1]))

    def stop(self):
        self.stopping.set()
        self.thread.join(5)
        self.udp.close()
        self.tcp.close()


class ScriptedServer(SilentServer):
    """A misbehaving authoritative server for one zone, written here because NSD never errs.

    records: master-file lines with absolute names; the zone answers NXDOMAIN/NODATA with its
    SOA like any server, except where the quirk says otherwise:
      "noedns"    FORMERR to every query that carries an OPT record (a pre-EDNS server)
      "poison"    adds records outside its zone to every answer (authority: an NS set for
                  example.test, additional: addresses for www.example.test and that NS,
                  which is evil_addr, a silent server that logs what reaches it)
      "mismatch"  answers with another question (www.example.test A 6.6.6.6)
      "brokenent" NXDOMAIN for every name without records, even the empty non-terminals
                  above existing names (the servers RFC 9156's relaxed fallback is for)
      "delay"     a correct server that answers UDP after DELAY seconds (a far-away one)
      "lowercase" a correct server, except that its answers spell the question in lower
                  case instead of echoing it (defeats 0x20 case randomisation)
    Queries are logged like the others' (UDP and TCP)."""

    def __init__(self, addr, label, log, zone, records, quirk, evil_addr=None):
        self.evil_addr = evil_addr
        self.zone = dns.name.from_text(zone)
        self.quirk = quirk
        self.rrsets = {}
        for text in records:
            rr = dns.rrset.from_text(*_rr_fields(text))
            key = (rr.name, rr.rdtype)
            if key in self.rrsets:
                self.rrsets[key].union_update(rr)
            else:
                self.rrsets[key] = rr
        self.names = {k[0] for k in self.rrsets}
        super().__init__(addr, label, log)
        self.tcp_thread = threading.Thread(target=self._tcp_loop, daemon=True)
        self.tcp_thread.start()

    def answer(self, wire):
        q = parse_query(wire)
        if q is None:
            return None
        r = dns.message.make_response(q)
        r.flags |= dns.flags.AA
        qname, qtype = q.question[0].name, q.question[0].rdtype
        if self.quirk == "noedns" and q.edns >= 0:
            r = dns.message.make_response(q)
            r.use_edns(False)
            r.set_rcode(dns.rcode.FORMERR)
            return r
        if self.quirk == "mismatch":
            other = dns.message.make_query("www.example.test.", "A")
            other.id = q.id
            r = dns.message.make_response(other)
            r.flags |= dns.flags.AA
            r.answer.append(dns.rrset.from_text("www.example.test.", 3600, "IN", "A", "6.6.6.6"))
            return r
        if self.quirk == "lowercase":
            r.question[0].name = qname = dns.name.from_text(qname.to_text().lower())
        soa = self.rrsets[(self.zone, dns.rdatatype.SOA)]
        if (qname, qtype) in self.rrsets:
            r.answer.append(self.rrsets[(qname, qtype)])
        elif self.quirk != "brokenent" and any(n.is_subdomain(qname) for n in self.names):
            r.authority.append(soa)
        else:
            r.set_rcode(dns.rcode.NXDOMAIN)
            r.authority.append(soa)
        if self.quirk == "poison":
            r.authority.append(dns.rrset.from_text("example.test.", 3600, "IN", "NS",
                                                   "ns.evil.poison.test."))
            r.additional.append(dns.rrset.from_text("ns.evil.poison.test.", 3600, "IN", "A",
                                                    self.evil_addr))
            r.additional.append(dns.rrset.from_text("www.example.test.", 3600, "IN", "A",
                                                    "6.6.6.6"))
        return r

    def _loop(self):
        udp_loop(self.udp, self.stopping, self._datagram)

    def _datagram(self, data, peer):
        self.log.add(self.label, data, "udp", peer[1])
        r = self.answer(data)
        if r is not None:
            later(DELAY if self.quirk == "delay" else 0, self._sendto, r.to_wire(), peer)

    def _sendto(self, wire, peer):
        send_udp(self.udp, wire, peer, self.stopping)

    def _tcp_loop(self):
        accept_loop(self.tcp, self.stopping, lambda conn: spawn(self._serve_tcp, conn))

    def _serve_tcp(self, conn):
        def on_query(data):
            self.log.add(self.label, data, "tcp", conn.getpeername()[1])
            r = self.answer(data)
            return b"" if r is None else r.to_wire()
        serve_dns_tcp(conn, on_query)

    def stop(self):
        super().stop()
        self.tcp_thread.join(5)


def _rr_fields(text):
    owner, ttl, rdclass, rdtype, rdata = text.split(None, 4)
    return owner, int(ttl), rdclass, rdtype, rdata


# ---- the address block ------------------------------------------------------------------------

class BlockLock:
    """A /16 of 127/8 (127.R.0.0, R in 100..250) held with an flock for this test session."""

    def __init__(self):
        rng = random.Random(os.getpid() ^ time.monotonic_ns())
        blocks = list(range(100, 251))
        rng.shuffle(blocks)
        for r in blocks:
            fd = lock_file("block-127.%d" % r)
            if fd is None:
                continue
            self.r, self.fd = r, fd
            return
        raise RuntimeError("no free 127.R.0.0/16 block (R 100..250): all locked")

    def release(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def check_port53(addr):
    """Fails the test (not skip: the issue wants these run) when port 53 cannot be bound."""
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((addr, 53))
        except PermissionError as e:
            pytest.fail("the recursion tests run authoritative servers on port 53 of 127.x.y.z "
                        "and need root or CAP_NET_BIND_SERVICE: binding %s:53: %s" % (addr, e),
                        pytrace=False)
        except OSError as e:
            # Installing nsd, unbound or knot on a systemd machine starts it on port 53 (NSD
            # on every address); .ci/run and tests/run-all.sh stop the ones they installed.
            pytest.fail("cannot bind %s:53 for the test hierarchy: %s; is another DNS server "
                        "listening on port 53 of every address (ss -lnup 'sport = 53')? A "
                        "service that apt started (nsd, unbound, knot) can be stopped with "
                        "systemctl disable --now NAME" % (addr, e), pytrace=False)
        finally:
            s.close()


# ---- NSD --------------------------------------------------------------------------------------

class Nsd:
    """One NSD process answering on addr:53 for the given zones {name: text}."""

    def __init__(self, base, label, addr, zones, dnstap_path=None):
        self.label, self.addr, self.zones = label, addr, zones
        self.dir = os.path.join(base, label)
        os.makedirs(self.dir)
        conf = ["server:",
                "  ip-address: %s@53" % addr,
                "  do-ip6: no",
                '  username: ""',
                '  chroot: ""',
                '  zonesdir: "%s"' % self.dir,
                '  database: ""',
                '  pidfile: "%s/nsd.pid"' % self.dir,
                '  logfile: "%s/nsd.log"' % self.dir,
                '  xfrdfile: "%s/xfrd.state"' % self.dir,
                '  xfrdir: "%s"' % self.dir,
                '  zonelistfile: "%s/zone.list"' % self.dir,
                "  verbosity: %d" % int(os.environ.get("HIER_UNBOUND_VERBOSITY", "1")),
                "  server-count: 1",
                "  rrl-ratelimit: 0",
                "  refuse-any: no",
                "remote-control:",
                "  control-enable: no"]
        if dnstap_path is not None:
            conf += ["dnstap:",
                     "  dnstap-enable: yes",
                     '  dnstap-socket-path: "%s"' % dnstap_path,
                     "  dnstap-send-identity: yes",
                     '  dnstap-identity: "%s"' % label,
                     "  dnstap-log-auth-query-messages: yes"]
        for name, text in zones.items():
            fname = (name.rstrip(".") or "root") + ".zone"
            with open(os.path.join(self.dir, fname), "w") as f:
                f.write(text)
            conf += ["zone:", '  name: "%s"' % name, '  zonefile: "%s"' % fname]
        self.conf = os.path.join(self.dir, "nsd.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(conf) + "\n")
        self.out = open(os.path.join(self.dir, "stderr.log"), "wb")
        self.proc = subprocess.Popen([NSD, "-d", "-c", self.conf], stdin=subprocess.DEVNULL,
                                     stdout=self.out, stderr=subprocess.STDOUT)

    def log(self):
        return read_logs(self.dir, ("stderr.log", "nsd.log"))

    def wait_ready(self, deadline):
        zone = next(iter(self.zones))
        q = dns.message.make_query(zone, "SOA")
        q.flags = 0
        while True:
            if self.proc.poll() is not None:
                pytest.fail("nsd %s (%s:53) exited with %d:\n%s"
                            % (self.label, self.addr, self.proc.returncode, self.log()),
                            pytrace=False)
            try:
                r = dns.query.udp(q, self.addr, port=53, timeout=0.2)
                if r.answer:
                    return
            except (dns.exception.Timeout, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail("nsd %s (%s:53) did not serve %s:\n%s"
                            % (self.label, self.addr, zone, self.log()), pytrace=False)
            time.sleep(0.05)

    def reload(self, zones):
        """Rewrites the zone files and makes NSD read them (SIGHUP: files whose mtime changed)."""
        future = time.time() + 10
        for name, text in zones.items():
            self.zones[name] = text
            path = os.path.join(self.dir, (name.rstrip(".") or "root") + ".zone")
            with open(path, "w") as f:
                f.write(text)
            # A distinct mtime even within the same second as the first write.
            os.utime(path, (future, future))
        self.proc.send_signal(signal.SIGHUP)

    def stop(self):
        stop_child(self.proc, self.out)


def stop_child(proc, out):
    """Ends an authoritative server by PID (SIGTERM, SIGKILL after 10 s), closes its log."""
    stop_process(proc)
    out.close()


# ---- zones ------------------------------------------------------------------------------------

def _soa(zone, ns):
    return "%s 3600 IN SOA %s hostmaster.%s 1 3600 600 86400 300\n" % (zone, ns,
                                                                   zone.lstrip(".") or "test.")


def build_zones(a):
    """{server label: (address, {zone: text})}; a(x, y) gives the address 127.R.x.y."""
    root = (_soa(".", "a.root.test.") +
            ". 86400 IN NS a.root.test.\n"
            ". 86400 IN NS b.root.test.\n"
            "test. 86400 IN NS ns1.nic.test.\n"
            "ns1.nic.test. 86400 IN A %s\n"
            "a.root.test. 86400 IN A %s\n"
            "b.root.test. 86400 IN A %s\n" % (a(1, 1), a(0, 1), a(0, 2)))
    tld = [_soa("test.", "ns1.nic.test."),
           "test. 86400 IN NS ns1.nic.test.",
           "ns1.nic.test. 86400 IN A %s" % a(1, 1),
           "a.root.test. 86400 IN A %s" % a(0, 1),
           "b.root.test. 86400 IN A %s" % a(0, 2)]
    # Delegations: (zone, ((server, glue address or None), ...)).
    delegations = [("example.test.", (("ns1.example.test.", a(2, 1)),
                                      ("ns2.example.test.", a(2, 2)))),
                   # No glue: ns.hosts.example.test is in another zone, the resolver must look
                   # it up.
                   ("glueless.test.", (("ns.hosts.example.test.", None),)),
                   ("alias.test.", (("ns1.alias.test.", a(4, 1)),)),
                   ("half.test.", (("a.half.test.", a(6, 1)), ("b.half.test.", a(4, 1)))),
                   ("victim.test.", (("ns1.victim.test.", a(5, 1)),)),
                   ("slow.test.", (("ns1.slow.test.", a(6, 1)),)),
                   ("alllame.test.", (("ns1.alllame.test.", a(2, 2)),))]
    delegations += [(zone, (("ns1." + zone, a(x, y)),))
                    for x, y, zone, _, _ in scripted_servers(a).values()]
    # rtt.test's far server (ns1, above) comes first in the zone file, the near one last.
    delegations.append(("rtt.test.", (("ns2.rtt.test.", a(4, 1)),)))
    for zone, servers in delegations:
        tld += ["%s 3600 IN NS %s" % (zone, ns) for ns, _ in servers]
        tld += ["%s 3600 IN A %s" % (ns, addr) for ns, addr in servers if addr]
    # NXNS (Afek et al. 2020): one referral naming many servers that all have to be looked up.
    for i in range(NXNS_NAMES):
        tld.append("nxns.test. 3600 IN NS n%d.victim.test." % i)
        tld.append("slowns.test. 3600 IN NS s%d.slow.test." % i)
    example = (_soa("example.test.", "ns1.example.test.") +
               "example.test. 3600 IN NS ns1.example.test.\n"
               "example.test. 3600 IN NS ns2.example.test.\n"
               "example.test. 3600 IN MX 10 mail.example.test.\n"
               "ns1.example.test. 3600 IN A %s\n"
               "ns2.example.test. 3600 IN A %s\n"
               "www.example.test. 3600 IN A 192.0.2.80\n"
               "mail.example.test. 3600 IN A 192.0.2.25\n"
               "ftp.example.test. 3600 IN A 192.0.2.21\n"
               "a.b.c.d.example.test. 3600 IN A 192.0.2.4\n"
               "ns.hosts.example.test. 3600 IN A %s\n" % (a(2, 1), a(2, 2), a(4, 1)) +
               # 40 x 200 bytes: more than any UDP answer holds, so the resolver needs TCP.
               "".join('big.example.test. 3600 IN TXT "%02d%s"\n' % (i, "t" * 198)
                       for i in range(40)))
    alias = (_soa("alias.test.", "ns1.alias.test.") +
             "alias.test. 3600 IN NS ns1.alias.test.\n"
             "ns1.alias.test. 3600 IN A %s\n"
             "www.alias.test. 3600 IN CNAME www.example.test.\n"
             "chain.alias.test. 3600 IN CNAME c2.glueless.test.\n"
             "old.alias.test. 3600 IN DNAME example.test.\n"
             "loop.alias.test. 3600 IN CNAME loop.glueless.test.\n" % a(4, 1))
    glueless = (_soa("glueless.test.", "ns.hosts.example.test.") +
                "glueless.test. 3600 IN NS ns.hosts.example.test.\n"
                "www.glueless.test. 3600 IN A 192.0.2.90\n"
                "c2.glueless.test. 3600 IN CNAME mail.example.test.\n"
                "loop.glueless.test. 3600 IN CNAME loop.alias.test.\n")
    half = (_soa("half.test.", "a.half.test.") +
            "half.test. 3600 IN NS a.half.test.\n"
            "half.test. 3600 IN NS b.half.test.\n"
            "a.half.test. 3600 IN A %s\n"
            "b.half.test. 3600 IN A %s\n"
            "www.half.test. 3600 IN A 192.0.2.70\n" % (a(6, 1), a(4, 1)) +
            "".join("w%d.half.test. 3600 IN A 192.0.2.%d\n" % (i, 71 + i) for i in range(8)))
    rtt = "\n".join([_soa("rtt.test.", "ns1.rtt.test.").strip(),
                     "rtt.test. 3600 IN NS ns1.rtt.test.",
                     "ns1.rtt.test. 3600 IN A %s" % a(7, 5)] + rtt_records(a)) + "\n"
    victim = (_soa("victim.test.", "ns1.victim.test.") +
              "victim.test. 3600 IN NS ns1.victim.test.\n"
              "ns1.victim.test. 3600 IN A %s\n" % a(5, 1))
    lame = (_soa("lame.invalid.", "ns.lame.invalid.") +
            "lame.invalid. 3600 IN NS ns.lame.invalid.\n"
            "ns.lame.invalid. 3600 IN A %s\n" % a(2, 2))
    return {
        "root": (a(0, 1), {".": root}),
        "tld": (a(1, 1), {"test.": "\n".join(tld) + "\n"}),
        "example": (a(2, 1), {"example.test.": example}),
        "lame": (a(2, 2), {"lame.invalid.": lame}),
        "misc": (a(4, 1), {"alias.test.": alias, "glueless.test.": glueless,
                           "half.test.": half, "rtt.test.": rtt}),
        "victim": (a(5, 1), {"victim.test.": victim}),
    }


def rtt_records(a):
    """rtt.test: served by "far" (ns1, slow to answer) and by the misc NSD (ns2)."""
    return ["rtt.test. 3600 IN NS ns2.rtt.test.",
            "ns2.rtt.test. 3600 IN A %s" % a(4, 1)] + \
        ["n%d.rtt.test. 3600 IN A 192.0.2.%d" % (i, 100 + i) for i in range(RTT_NAMES)]


SILENT = {"root2": (0, 2), "slow": (6, 1), "evil": (9, 9)}


def scripted_servers(a):
    """{label: (x, y, zone, records, quirk)} of the ScriptedServers, at 127.R.x.y."""
    def zone(name, x, y, *records):
        return ["%s 3600 IN SOA ns1.%s hostmaster.%s 1 3600 600 86400 300" % (name, name, name),
                "%s 3600 IN NS ns1.%s" % (name, name),
                "ns1.%s 3600 IN A %s" % (name, a(x, y))] + list(records)
    return {
        "noedns": (7, 1, "noedns.test.", zone("noedns.test.", 7, 1,
                                              "www.noedns.test. 3600 IN A 192.0.2.7"), "noedns"),
        "poison": (7, 2, "poison.test.", zone("poison.test.", 7, 2,
                                              "www.poison.test. 3600 IN A 192.0.2.8"), "poison"),
        "mismatch": (7, 3, "mismatch.test.", zone("mismatch.test.", 7, 3,
                                                  "www.mismatch.test. 3600 IN A 192.0.2.9"),
                     "mismatch"),
        "far": (7, 5, "rtt.test.", zone("rtt.test.", 7, 5, *rtt_records(a)), "delay"),
        "lower": (7, 6, "lower.test.", zone("lower.test.", 7, 6,
                                            "www.lower.test. 3600 IN A 192.0.2.11"), "lowercase"),
        "brokenent": (7, 4, "brokenent.test.",
                      zone("brokenent.test.", 7, 4, "a.b.brokenent.test. 3600 IN A 192.0.2.10"),
                      "brokenent"),
    }


class LoopbackTree:
    """Base of the trees of servers on 127.R.x.y:53 (this one and dnssec_hier's): holds the
    address block and a temporary directory.  Subclasses set up their state in _setup(), start
    their servers in _start() (stop() runs when it fails) and end them in stop(), which calls
    release() last."""

    prefix = "tdns-tree-"

    def __init__(self):
        self.lock = BlockLock()
        self.r = self.lock.r
        self.dir = tempfile.mkdtemp(prefix=self.prefix)
        self._setup()
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def a(self, x, y):
        return "127.%d.%d.%d" % (self.r, x, y)

    def release(self):
        """Removes the directory and releases the address block."""
        shutil.rmtree(self.dir, ignore_errors=True)
        self.lock.release()


class Hierarchy(LoopbackTree):
    """Starts the tree (see the module docstring); stop() kills every child by PID."""

    prefix = "tdns-hier-"

    def _setup(self):
        self.log = QueryLog()
        self.nsds = {}
        self.pyservers = {}
        self.collector = None

    def _start(self):
        check_port53(self.a(0, 1))
        self.collector = DnstapCollector(os.path.join(self.dir, "dnstap.sock"), self.log)
        for label, (x, y) in SILENT.items():
            self.pyservers[label] = SilentServer(self.a(x, y), label, self.log)
        for label, (x, y, zone, records, quirk) in scripted_servers(self.a).items():
            self.pyservers[label] = ScriptedServer(self.a(x, y), label, self.log, zone, records,
                                                   quirk, evil_addr=self.a(9, 9))
        for label, (addr, zones) in build_zones(self.a).items():
            self.nsds[label] = Nsd(self.dir, label, addr, zones, self.collector.path)
        deadline = time.monotonic() + 30
        for n in self.nsds.values():
            n.wait_ready(deadline)
        self.hints = os.path.join(self.dir, "root.hints")
        with open(self.hints, "w") as f:
            f.write(".                3600000 IN NS a.root.test.\n"
                    ".                3600000 IN NS b.root.test.\n"
                    "a.root.test.     3600000 IN A %s\n"
                    "b.root.test.     3600000 IN A %s\n" % (self.a(0, 1), self.a(0, 2)))
        # NSD connects to the collector in the background; queries before that go unlogged.
        self.sync(timeout=20)

    def addr(self, label):
        if label in self.nsds:
            return self.nsds[label].addr
        return self.pyservers[label].addr

    def sync(self, timeout=10):
        """Returns once every NSD has logged all the queries it received before this call."""
        deadline = time.monotonic() + timeout
        markers = {}
        for label, n in self.nsds.items():
            apex = next(iter(n.zones))
            markers[label] = ("%s-%d.%s" % (MARKER, random.randrange(1 << 30),
                                            apex if apex != "." else "")).lower()
        pending = dict(markers)
        while pending:
            # UDP may drop a marker: send again until it is logged.
            for label, marker in pending.items():
                q = dns.message.make_query(marker, "TXT")
                try:
                    dns.query.udp(q, self.nsds[label].addr, port=53, timeout=0.5)
                except (dns.exception.Timeout, OSError):
                    pass
            for label in list(pending):
                if self.log.wait_for(label, pending[label], 0.02 if len(pending) > 1 else 1.0):
                    del pending[label]
            if pending and time.monotonic() > deadline:
                label = next(iter(pending))
                pytest.fail("nsd %s: no dnstap record of the queries it answers:\n%s"
                            % (label, self.nsds[label].log()), pytrace=False)
            if pending:
                time.sleep(0.05)

    def _marker(self, label):
        apex = next(iter(self.nsds[label].zones))
        return ("%s-%d.%s" % (MARKER, random.randrange(1 << 30),
                              apex if apex != "." else "")).lower()

    def mark(self):
        """A point in every server's log: the queries(mark) made afterwards are counted.

        Each NSD gets a marker query now; its dnstap records are in order, so what follows the
        marker in its log came after this call even if earlier records are still in flight."""
        m = {"seq": self.log.mark(), "markers": {}}
        for label, n in self.nsds.items():
            marker = self._marker(label)
            try:
                dns.query.udp(dns.message.make_query(marker, "TXT"), n.addr, port=53,
                              timeout=2)
            except dns.exception.Timeout:
                pytest.fail("nsd %s does not answer" % label, pytrace=False)
            m["markers"][label] = marker
        return m

    def queries(self, mark, server=None):
        """What the servers received since mark (after sync), optionally one server's only."""
        self.sync()
        out = []
        with self.log.mutex:
            entries = list(self.log.entries)
        for label in self.nsds:
            if server is not None and label != server:
                continue
            idx = [e.seq for e in entries if e.server == label and
                   e.qname == mark["markers"][label]]
            assert idx, "marker of nsd %s not in its dnstap log" % label
            out += [e for e in entries[idx[0] + 1:]
                    if e.server == label and MARKER not in e.qname]
        for label in self.pyservers:
            if server is None or label == server:
                out += [e for e in entries[mark["seq"]:] if e.server == label]
        return sorted(out, key=lambda e: e.seq)

    def add_nsd(self, label, addr, zones):
        """Starts one more NSD (logged like the others) at addr:53; remove_nsd stops it."""
        n = Nsd(self.dir, label, addr, zones, self.collector.path)
        self.nsds[label] = n
        try:
            n.wait_ready(time.monotonic() + 30)
            self.sync(timeout=20)
        except BaseException:
            self.remove_nsd(label)
            raise
        return n

    def remove_nsd(self, label):
        n = self.nsds.pop(label, None)
        if n is not None:
            n.stop()

    def logs(self):
        return "\n".join("---- nsd %s ----\n%s" % (k, n.log()) for k, n in self.nsds.items())

    def stop(self):
        for n in self.nsds.values():
            n.stop()
        for s in self.pyservers.values():
            s.stop()
        if self.collector is not None:
            self.collector.stop()
        self.release()


class Unbound(Daemon):
    """unbound as an independent iterative resolver with the same root hints (cold cache), on a
    locked loopback port (self.port)."""

    name = "unbound"
    log_files = ("stderr.log", "unbound.log")

    def __init__(self, hier, qname_minimisation=True):
        super().__init__(tempfile.mkdtemp(prefix="tdns-unbound-"))
        self.hier = hier
        self.qname_minimisation = qname_minimisation
        start_retrying(self.start)

    # Ports to lock beside self.port, in self.more_ports (subclasses' extra listeners).
    more = 0

    def start(self):
        """Starts unbound on a new locked port (PortClash when another program took it)."""
        ports = self.lock_ports(1 + self.more)
        port = self.port = ports[0]
        self.more_ports = ports[1:]
        lines = ["server:",
                 "  interface: 127.0.0.1@%d" % port,
                 "  port: %d" % port,
                 *unbound_server_lines(self.dir,
                                       int(os.environ.get("HIER_UNBOUND_VERBOSITY", "1"))),
                 '  root-hints: "%s"' % self.hier.hints,
                 "  do-not-query-localhost: no",
                 "  qname-minimisation: %s" % ("yes" if self.qname_minimisation else "no"),
                 "  qname-minimisation-strict: no",
                 "  harden-referral-path: no",
                 "  minimal-responses: no",
                 "  prefetch: no",
                 "  infra-host-ttl: 60",
                 # Unbound drops the reply to a query that took over 1.9 s (a silent server
                 # on the way): the tests want the answer however long it took.
                 "  discard-timeout: 0",
                 '  local-zone: "test." nodefault',
                 *self.extra_lines(),
                 "remote-control:",
                 "  control-enable: no", ""]
        self.conf = os.path.join(self.dir, "unbound.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(lines))
        self.launch([UNBOUND, "-d", "-c", self.conf])

        def bound():
            # A port we can no longer bind shows unbound has opened its listener.
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                for p in self.more_ports:
                    socket.create_connection(("127.0.0.1", p), 1).close()
                return True
            finally:
                s.close()
            return False
        self.wait_until(bound)

    def extra_lines(self):
        """More server: lines (subclasses add the validator)."""
        return []

    def stop(self):
        Daemon.stop(self)
        shutil.rmtree(self.dir, ignore_errors=True)
