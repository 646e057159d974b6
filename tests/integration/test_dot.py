# SPDX-License-Identifier: MIT
"""DNS over TLS (RFC 7858) served by tdnsd, checked with real clients.

A test CA made with the openssl CLI signs two certificates for "dns.test" (A and B, told apart
by serial number and organisation).  kdig, openssl s_client, tdns-cli and Python's ssl module
talk to the [dot] listener: answers, pipelining, ALPN, protocol versions, session resumption,
PEM and PKCS#12 certificates with passwords, certificate rotation while a client keeps its
connection, bad input, the connection limit, and the recursion ACL, stats and query log."""
import json
import os
import shutil
import socket
import ssl
import struct
import subprocess
import time

import dns.edns
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import pytest

from conftest import SANITIZER_MARKS, STANDARD_ZONES, server_with_ports, tdns_cli_path
from helpers import WAIT_LONG
from helpers import read_exact as recv_exact
from upstreams import FakeUpstream, make_ca

NAME = "dns.test"
SERIAL_A = 0x1A1A01
SERIAL_B = 0x2B2B02


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_cert(d, tag, serial):
    """A key and a certificate for dns.test signed by the CA in d; returns (cert, key)."""
    key, csr, pem = tag + ".key", tag + ".csr", tag + ".pem"
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", key, "-out", csr, "-subj", "/CN=%s/O=cert-%s" % (NAME, tag), cwd=d)
    openssl("x509", "-req", "-in", csr, "-CA", "ca.pem", "-CAkey", "ca.key",
            "-set_serial", str(serial), "-out", pem, "-days", "2", "-extfile", "ext.cnf",
            cwd=d)
    return os.path.join(d, pem), os.path.join(d, key)


class Pki:
    """The test CA and the certificates A and B; a password file; PKCS#12 and encrypted keys."""

    def __init__(self, base):
        self.dir = os.path.join(str(base), "pki")
        os.makedirs(self.dir)
        self.ca = make_ca(self.dir, "tdns DoT test CA")
        with open(os.path.join(self.dir, "ext.cnf"), "w") as f:
            f.write("subjectAltName=DNS:%s\nbasicConstraints=CA:FALSE\n"
                    "extendedKeyUsage=serverAuth\n" % NAME)
        self.cert_a, self.key_a = make_cert(self.dir, "a", SERIAL_A)
        self.cert_b, self.key_b = make_cert(self.dir, "b", SERIAL_B)
        self.password = os.path.join(self.dir, "password")
        with open(self.password, "w") as f:
            f.write("correct horse\n")
        self.wrong_password = os.path.join(self.dir, "wrong-password")
        with open(self.wrong_password, "w") as f:
            f.write("battery staple\n")
        # As certbot users make one: openssl pkcs12 -export from the PEM files.
        self.pfx = os.path.join(self.dir, "a.pfx")
        openssl("pkcs12", "-export", "-in", self.cert_a, "-inkey", self.key_a,
                "-certfile", self.ca, "-passout", "file:" + self.password, "-out", self.pfx,
                cwd=self.dir)
        self.enc_key = os.path.join(self.dir, "a-encrypted.key")
        openssl("pkey", "-in", self.key_a, "-aes256", "-passout", "file:" + self.password,
                "-out", self.enc_key, cwd=self.dir)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    for tool in ("openssl", "kdig"):
        if shutil.which(tool) is None:
            pytest.fail("%s is needed (Debian packages openssl, knot-dnsutils)" % tool,
                        pytrace=False)
    return Pki(tmp_path_factory.mktemp("dot"))


@pytest.fixture
def dot(make_server, pki):
    """Factory: a tdnsd serving example.com/example.net with a [dot] listener (.dot_port)."""
    locks = []

    def factory(cert=None, key=None, password_file=None, zones=None, extra="", start=True,
                **kw):
        tls = "[tls]\ncertificate = %s\n" % (cert or pki.cert_a)
        if key is not None or cert is None:
            tls += "key = %s\n" % (key or pki.key_a)
        if password_file is not None:
            tls += "password-file = %s\n" % password_file
        srv, (lock,) = server_with_ports(
            make_server, 1, lambda p: "%s\n[dot]\nlisten = 127.0.0.1:%d\n\n%s" % (tls, p, extra),
            zones=STANDARD_ZONES if zones is None else zones, start=start, **kw)
        locks.append(lock)
        srv.dot_port = lock.port
        return srv

    yield factory
    for lock in locks:
        lock.release()


# ---- clients --------------------------------------------------------------------------------

def tls_context(ca, alpn=("dot",)):
    ctx = ssl.create_default_context(cafile=ca)
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    return ctx


def tls_connect(port, ca, alpn=("dot",), session=None, timeout=5.0, ctx=None):
    """A verified TLS connection to 127.0.0.1:port for dns.test."""
    ctx = ctx or tls_context(ca, alpn)
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    return ctx.wrap_socket(raw, server_hostname=NAME, session=session)


def frame(q):
    wire = q.to_wire()
    return struct.pack("!H", len(wire)) + wire


def read_reply(sock):
    (n,) = struct.unpack("!H", recv_exact(sock, 2))
    return dns.message.from_wire(recv_exact(sock, n))


def query(name, rdtype="A", rd=False):
    q = dns.message.make_query(name, rdtype, use_edns=0)
    if not rd:
        q.flags &= ~dns.flags.RD
    return q


def ask_on(sock, name, rdtype="A", rd=False):
    q = query(name, rdtype, rd)
    sock.sendall(frame(q))
    r = read_reply(sock)
    assert r.id == q.id
    return r


def addresses(r):
    return sorted(rd.address for rr in r.answer if rr.rdtype == dns.rdatatype.A for rd in rr)


def closed_by_peer(sock, timeout):
    """True when the server closes sock within timeout seconds (no data before that)."""
    sock.settimeout(timeout)
    try:
        return sock.recv(1024) == b""
    except (ConnectionResetError, ssl.SSLEOFError, ssl.SSLZeroReturnError):
        return True
    except (socket.timeout, TimeoutError):
        return False


def still_open(sock):
    """True when the peer has neither closed sock nor sent anything on it yet."""
    timeout = sock.gettimeout()
    sock.settimeout(0)   # a socket with a timeout would wait for data instead
    try:
        sock.recv(1, socket.MSG_PEEK)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        sock.settimeout(timeout)
    return False


def kdig(srv, pki, *args, timeout=20):
    r = subprocess.run(["kdig", "@127.0.0.1", "-p", str(srv.dot_port), "+tls",
                        "+tls-ca=" + pki.ca, "+tls-hostname=" + NAME, "+norec", "+time=3",
                        "+retry=0", *args], capture_output=True, text=True, timeout=timeout)
    return r


def s_client(port, *args, ca=None):
    """openssl s_client; stdin stays open until the handshake is reported and, for a new
    TLS 1.3 session saved with -sess_out, until its ticket arrived (or s_client ends)."""
    argv = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-servername", NAME]
    if ca:
        argv += ["-CAfile", ca]
    p = subprocess.Popen(argv + list(args), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    lines = []

    def done():
        out = "".join(lines)
        if "Verify return code" not in out:
            return False
        return "-sess_out" not in args or "New, TLSv1.3" not in out or \
            "New Session Ticket arrived" in out

    deadline = time.monotonic() + WAIT_LONG
    while time.monotonic() < deadline and not done():
        line = p.stdout.readline()
        if not line:
            break   # s_client ended by itself (a failed handshake)
        lines.append(line)
    out, _ = p.communicate("", timeout=20)
    return p.returncode, "".join(lines) + out


def cli(*args, timeout=30):
    r = subprocess.run([tdns_cli_path(), *args], capture_output=True, text=True,
                       timeout=timeout)
    assert not any(m in r.stderr for m in SANITIZER_MARKS), r.stderr
    return r


def cli_json(srv, *args):
    r = srv.cli("--json", *args)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["ok"] is True, doc
    return doc["data"]


def wait_for(pred, timeout, step=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


# ---- answers and pipelining -----------------------------------------------------------------

def test_kdig_over_tls_gets_the_authoritative_answer(dot, pki):
    srv = dot()
    r = kdig(srv, pki, "ns1.example.com", "A")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "status: NOERROR" in r.stdout
    assert "Flags: qr aa;" in r.stdout
    assert "192.0.2.53" in r.stdout
    assert ";; TLS session (TLS1.3)" in r.stdout
    # An NXDOMAIN comes back as such, with the SOA.
    r = kdig(srv, pki, "nothere.example.com", "A")
    assert "status: NXDOMAIN" in r.stdout and "SOA" in r.stdout


def test_three_pipelined_queries_on_one_connection_get_three_replies(dot, pki):
    srv = dot()
    s = tls_connect(srv.dot_port, pki.ca)
    assert s.selected_alpn_protocol() == "dot"
    qs = [query("ns1.example.com"), query("mail.example.com"), query("www.example.net")]
    # RFC 7766 §6.2.1.1: all three back to back before reading anything.
    s.sendall(b"".join(frame(q) for q in qs))
    replies = {r.id: r for r in (read_reply(s) for _ in qs)}
    assert set(replies) == {q.id for q in qs}
    assert addresses(replies[qs[0].id]) == ["192.0.2.53"]
    assert addresses(replies[qs[1].id]) == ["192.0.2.25"]
    assert addresses(replies[qs[2].id]) == ["198.51.100.80"]
    assert all(r.flags & dns.flags.AA for r in replies.values())
    # The connection stays open for more (RFC 7858 §3.4).
    assert addresses(ask_on(s, "web.example.com")) == ["192.0.2.80"]
    s.close()
    # kdig with +keepopen sends its queries over one connection too.
    r = kdig(srv, pki, "+keepopen", "ns1.example.com", "mail.example.com", "web.example.com")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("status: NOERROR") == 3
    for a in ("192.0.2.53", "192.0.2.25", "192.0.2.80"):
        assert a in r.stdout


# ---- TLS: ALPN, versions, resumption --------------------------------------------------------

def test_alpn_dot_and_tls_versions_with_openssl_s_client(dot, pki):
    srv = dot()
    rc, out = s_client(srv.dot_port, "-alpn", "dot", ca=pki.ca)
    assert "ALPN protocol: dot" in out, out
    assert "New, TLSv1.3" in out, out
    assert "Verify return code: 0 (ok)" in out, out
    # No ALPN, or only unrelated protocols: still served (clients from before "dot").
    rc, out = s_client(srv.dot_port, "-alpn", "h2,http/1.1", ca=pki.ca)
    assert "No ALPN negotiated" in out and "New, TLSv1.3" in out, out
    r = kdig(srv, pki, "ns1.example.com")
    assert "192.0.2.53" in r.stdout
    # TLS 1.2 is accepted ...
    rc, out = s_client(srv.dot_port, "-tls1_2", "-alpn", "dot", ca=pki.ca)
    assert "New, TLSv1.2" in out and "ALPN protocol: dot" in out, out
    # ... TLS 1.1 is not (RFC 8310 §9); SECLEVEL=0 makes the client really offer it.
    rc, out = s_client(srv.dot_port, "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0", ca=pki.ca)
    assert "alert protocol version" in out, out
    assert "New, TLSv1.1" not in out and "Cipher is (NONE)" in out, out
    # The server lives on.
    assert addresses(ask_on(tls_connect(srv.dot_port, pki.ca), "ns1.example.com")) == \
        ["192.0.2.53"]


def test_sessions_resume_with_tickets_and_the_session_cache(dot, pki, tmp_path):
    # Two workers share one context: a session resumes whichever worker gets the connection.
    srv = dot(workers=2)
    for what, args in (("TLSv1.3", []), ("TLSv1.2", ["-tls1_2"]),
                       ("TLSv1.2", ["-tls1_2", "-no_ticket"])):
        sess = str(tmp_path / ("sess-%s-%d.pem" % (what, len(args))))
        rc, out = s_client(srv.dot_port, "-sess_out", sess, *args, ca=pki.ca)
        assert "New, %s" % what in out, out
        for _ in range(3):
            rc, out = s_client(srv.dot_port, "-sess_in", sess, *args, ca=pki.ca)
            assert "Reused, %s" % what in out, (args, out)
    # Python's client resumes too, and the resumed connection answers.
    ctx = tls_context(pki.ca)
    s = tls_connect(srv.dot_port, pki.ca, ctx=ctx)
    assert addresses(ask_on(s, "ns1.example.com")) == ["192.0.2.53"]
    session = s.session
    s.close()
    s2 = tls_connect(srv.dot_port, pki.ca, session=session, ctx=ctx)
    assert s2.session_reused
    assert addresses(ask_on(s2, "mail.example.com")) == ["192.0.2.25"]
    s2.close()
    # tdns-cli's second connection resumes the first one's session.
    r = cli("query", "ns1.example.com", "@127.0.0.1:%d" % srv.dot_port, "+tls",
            "+tls-host=" + NAME, "+tls-ca=" + pki.ca, "+repeat=2")
    assert r.returncode == 0, r.stderr
    tls_lines = [line for line in r.stdout.splitlines() if line.startswith(";; TLS:")]
    assert tls_lines == [";; TLS: TLSv1.3, new session, ALPN dot",
                         ";; TLS: TLSv1.3, session resumed, ALPN dot"], r.stdout
    assert r.stdout.count("192.0.2.53") >= 2


# ---- certificates ---------------------------------------------------------------------------

def test_pkcs12_certificate_with_password_file(dot, pki):
    srv = dot(cert=pki.pfx, password_file=pki.password)
    r = kdig(srv, pki, "ns1.example.com")
    assert r.returncode == 0 and "192.0.2.53" in r.stdout, r.stdout + r.stderr
    s = tls_connect(srv.dot_port, pki.ca)
    assert int(s.getpeercert()["serialNumber"], 16) == SERIAL_A
    s.close()
    # The chain from the .pfx is sent along: openssl sees the CA after the leaf.
    rc, out = s_client(srv.dot_port, "-showcerts", ca=pki.ca)
    assert "1 s:CN = tdns DoT test CA" in out, out


def test_pkcs12_with_a_wrong_password_stops_the_start_with_the_file_named(dot, pki):
    srv = dot(cert=pki.pfx, password_file=pki.wrong_password, start=False)
    # The configuration check loads the certificate too.
    r = subprocess.run([srv.binary, "-t", "-c", srv.conf], capture_output=True, text=True,
                       timeout=20)
    assert r.returncode != 0
    assert pki.pfx in r.stderr and "password" in r.stderr, r.stderr
    srv.start(wait=False)
    assert srv.proc.wait(timeout=20) != 0
    log = srv.log()
    assert pki.pfx in log and "wrong PKCS#12 password" in log, log
    # Without any password file it fails the same way.
    srv2 = dot(cert=pki.pfx, start=False)
    r = subprocess.run([srv2.binary, "-t", "-c", srv2.conf], capture_output=True, text=True,
                       timeout=20)
    assert r.returncode != 0 and pki.pfx in r.stderr, r.stderr


def test_encrypted_pem_key_with_password_file(dot, pki):
    srv = dot(cert=pki.cert_a, key=pki.enc_key, password_file=pki.password)
    r = kdig(srv, pki, "mail.example.com")
    assert r.returncode == 0 and "192.0.2.25" in r.stdout, r.stdout + r.stderr
    # A wrong or missing password is a clear start-up error naming the key file.
    for pw, what in ((pki.wrong_password, "wrong password"), (None, "no [tls] password-file")):
        bad = dot(cert=pki.cert_a, key=pki.enc_key, password_file=pw, start=False)
        r = subprocess.run([bad.binary, "-t", "-c", bad.conf], capture_output=True, text=True,
                           timeout=20)
        assert r.returncode != 0
        assert pki.enc_key in r.stderr and what in r.stderr, r.stderr


def test_mismatched_key_and_missing_files_are_reported(dot, pki):
    for kw, want in (({"cert": pki.cert_a, "key": pki.key_b}, pki.key_b + ": the private key "
                      "does not match the certificate"),
                     ({"cert": pki.cert_a + ".missing", "key": pki.key_a},
                      pki.cert_a + ".missing: cannot open"),
                     ({"cert": pki.password, "key": pki.key_a},
                      pki.password + ": neither a PEM certificate nor a PKCS#12 file")):
        srv = dot(start=False, **kw)
        r = subprocess.run([srv.binary, "-t", "-c", srv.conf], capture_output=True, text=True,
                           timeout=20)
        assert r.returncode != 0 and want in r.stderr, r.stderr


def replace_file(path, data):
    """Writes path atomically (temp file + rename), as a deploy hook should."""
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def peer_serial(port, ca):
    s = tls_connect(port, ca)
    try:
        return int(s.getpeercert()["serialNumber"], 16)
    finally:
        s.close()


def test_certificate_rotation_keeps_open_connections_and_survives_a_broken_file(dot, pki):
    srv = dot(cert=None, start=False)
    cert = os.path.join(srv.dir, "fullchain.pem")
    key = os.path.join(srv.dir, "privkey.pem")
    replace_file(cert, read(pki.cert_a))
    replace_file(key, read(pki.key_a))
    srv.write_config(open(srv.conf).read().replace(pki.cert_a, cert).replace(pki.key_a, key))
    srv.start()
    old = tls_connect(srv.dot_port, pki.ca)
    assert int(old.getpeercert()["serialNumber"], 16) == SERIAL_A
    assert addresses(ask_on(old, "ns1.example.com")) == ["192.0.2.53"]
    # Certificate B: key first, then the certificate, as a renewal does.
    replace_file(key, read(pki.key_b))
    replace_file(cert, read(pki.cert_b))
    assert wait_for(lambda: peer_serial(srv.dot_port, pki.ca) == SERIAL_B, WAIT_LONG), srv.log()
    assert "TLS certificate reloaded from %s (subject " % cert in srv.log()
    assert "O=cert-b" in srv.log()
    # The connection opened before keeps its certificate and keeps being answered.
    assert addresses(ask_on(old, "mail.example.com")) == ["192.0.2.25"]
    assert int(old.getpeercert()["serialNumber"], 16) == SERIAL_A
    # A broken certificate is logged once and B stays in use.
    replace_file(cert, b"-----BEGIN CERTIFICATE-----\nnot base64 at all\n")
    assert wait_for(lambda: "TLS certificate not reloaded" in srv.log(), WAIT_LONG), srv.log()
    # Worker 0 checks the files each time it publishes its counters: three publications,
    # so at least two more checks of the same broken file, which must not log again.
    for _ in range(3):
        before = cli_json(srv, "stats")["totals"]["queries"]
        srv.query("ns1.example.com", "A")
        assert wait_for(lambda: cli_json(srv, "stats")["totals"]["queries"] > before,
                        WAIT_LONG)
    assert srv.log().count("TLS certificate not reloaded") == 1, srv.log()
    assert cert in srv.log()
    assert peer_serial(srv.dot_port, pki.ca) == SERIAL_B
    assert addresses(ask_on(old, "web.example.com")) == ["192.0.2.80"]
    s = tls_connect(srv.dot_port, pki.ca)
    assert addresses(ask_on(s, "ns1.example.com")) == ["192.0.2.53"]
    s.close()
    # Fixing the file is picked up again.
    replace_file(key, read(pki.key_a))
    replace_file(cert, read(pki.cert_a))
    assert wait_for(lambda: peer_serial(srv.dot_port, pki.ca) == SERIAL_A, WAIT_LONG), srv.log()
    old.close()


# ---- bad input and limits -------------------------------------------------------------------

def client_hello():
    """The first flight of a TLS client, as bytes."""
    ctx = ssl.create_default_context()
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname=NAME)
    with pytest.raises(ssl.SSLWantReadError):
        obj.do_handshake()
    return out.read()


def test_plain_dns_on_the_tls_port_is_closed_and_others_are_served(dot, pki):
    srv = dot()
    base = cli_json(srv, "stats")["totals"]
    raw = socket.create_connection(("127.0.0.1", srv.dot_port), timeout=5)
    raw.sendall(frame(query("ns1.example.com")))
    assert closed_by_peer(raw, 5)
    raw.close()
    assert "192.0.2.53" in kdig(srv, pki, "ns1.example.com").stdout
    # Counted as a failed handshake (stats are copied once a second).
    assert wait_for(lambda: cli_json(srv, "stats")["totals"]["tls_failed"] >
                    base["tls_failed"], WAIT_LONG)


def test_truncated_client_hello_is_closed_at_the_idle_timeout(dot, pki):
    srv = dot(idle_timeout=2)
    hello = client_hello()
    stalled = socket.create_connection(("127.0.0.1", srv.dot_port), timeout=5)
    stalled.sendall(hello[:len(hello) // 2])
    t0 = time.monotonic()
    # Meanwhile other clients are served: while the stalled handshake is still open (a
    # server that waited for it would serve them only once the idle timeout closed it).
    s = tls_connect(srv.dot_port, pki.ca)
    assert addresses(ask_on(s, "ns1.example.com")) == ["192.0.2.53"]
    assert still_open(stalled)
    s.close()
    # Closed at the idle timeout of 2 s: not before (less the timer's granularity), and
    # not very much later.
    assert closed_by_peer(stalled, 15)
    assert 1.5 <= time.monotonic() - t0 < 15
    stalled.close()
    assert "192.0.2.53" in kdig(srv, pki, "ns1.example.com").stdout


def test_idle_tls_connection_is_closed_after_the_idle_timeout(dot, pki):
    srv = dot(idle_timeout=2)
    s = tls_connect(srv.dot_port, pki.ca)
    assert addresses(ask_on(s, "ns1.example.com")) == ["192.0.2.53"]
    t0 = time.monotonic()
    # RFC 7766 §6.2.3: the server closes idle connections (with a TLS close_notify), at the
    # idle timeout of 2 s: not before (less the timer's granularity), and not very much later.
    assert closed_by_peer(s, 15)
    assert 1.5 <= time.monotonic() - t0 < 15


def test_connection_limit_evicts_the_idle_tls_connection(dot, pki):
    srv = dot(workers=1, server_extra="tcp-max-connections = 2")
    a = tls_connect(srv.dot_port, pki.ca)
    assert addresses(ask_on(a, "ns1.example.com")) == ["192.0.2.53"]
    time.sleep(0.1)
    b = tls_connect(srv.dot_port, pki.ca)
    assert addresses(ask_on(b, "mail.example.com")) == ["192.0.2.25"]
    # A third connection makes room by closing the least recently active idle one: a.
    c = tls_connect(srv.dot_port, pki.ca)
    assert addresses(ask_on(c, "web.example.com")) == ["192.0.2.80"]
    assert closed_by_peer(a, 3)
    assert addresses(ask_on(b, "ns1.example.com")) == ["192.0.2.53"]
    assert addresses(ask_on(c, "ns1.example.com")) == ["192.0.2.53"]
    totals = wait_for(lambda: (lambda t: t if t["tcp_evicted"] >= 1 else None)(
        cli_json(srv, "stats")["totals"]), 5)
    assert totals and totals["tcp_evicted"] == 1 and totals["tls_accepted"] == 3, totals
    for s in (a, b, c):
        s.close()


# ---- recursion ACL, stats, query log --------------------------------------------------------

def ede_codes(r):
    return [o.code for o in r.options if o.otype == dns.edns.OptionType.EDE]


FAKE_RECORDS = [
    "fake.test. 3600 IN SOA ns.fake.test. hostmaster.fake.test. 1 3600 600 86400 300",
    "fake.test. 3600 IN NS ns.fake.test.",
    "a.fake.test. 300 IN A 192.0.2.1",
]


@pytest.fixture
def fake():
    f = FakeUpstream(FAKE_RECORDS)
    yield f
    f.release()


def recursion(fake, allow):
    return ("[recursion]\nmode = forward\nallow = %s\n\n[forwarders]\nservers = %s\n"
            "timeout = 1000\n\n" % (allow, fake.url))


def test_recursion_acl_applies_to_dot(dot, pki, fake):
    srv = dot(extra=recursion(fake, "10.0.0.0/8"))
    s = tls_connect(srv.dot_port, pki.ca)
    r = ask_on(s, "a.fake.test.", rd=True)
    assert r.rcode() == dns.rcode.REFUSED and 18 in ede_codes(r), r
    assert not r.answer and fake.count() == 0
    # Authoritative data is not subject to the recursion ACL.
    r = ask_on(s, "ns1.example.com", rd=True)
    assert r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.AA
    s.close()


def test_forwarded_dot_query_is_answered_counted_and_logged(dot, pki, fake):
    srv = dot(extra=recursion(fake, "127.0.0.0/8"))
    base = cli_json(srv, "stats")
    s = tls_connect(srv.dot_port, pki.ca)
    # The forwarded answer comes later than the authoritative one asked after it
    # (RFC 7766 §6.2.1.1 out-of-order replies), on the same connection.
    q1, q2 = query("a.fake.test.", rd=True), query("ns1.example.com")
    s.sendall(frame(q1) + frame(q2))
    replies = {r.id: r for r in (read_reply(s), read_reply(s))}
    assert addresses(replies[q1.id]) == ["192.0.2.1"]
    assert addresses(replies[q2.id]) == ["192.0.2.53"]
    assert fake.count("a.fake.test.") == 1
    s.close()

    def counted():
        cur = cli_json(srv, "stats")
        return cur if cur["transports"]["dot"] - base["transports"].get("dot", 0) >= 2 else None

    cur = wait_for(counted, 5)
    assert cur, cli_json(srv, "stats")
    assert cur["transports"]["dot"] - base["transports"].get("dot", 0) == 2
    assert cur["transports"]["tcp"] == base["transports"]["tcp"]
    entries = cli_json(srv, "log", "show", "--queries", "--count", "10")["entries"]
    mine = [e for e in entries if e["name"] in ("a.fake.test.", "ns1.example.com.")]
    assert len(mine) == 2 and all(e["transport"] == "dot" for e in mine), entries
    assert all(e["client"] == "127.0.0.1" for e in mine), entries
