# SPDX-License-Identifier: MIT
"""tdns-cli query over TLS, HTTPS and HTTPS-JSON against unbound and a small HTTP/2 server.

A test CA and a certificate for "dns.test" are made with the openssl CLI.  unbound serves
DNS over UDP/TCP, DoT (tls-port) and DoH (https-port, HTTP/2) from local-data; kdig checks the
set-up independently.  unbound does not speak the JSON API, so DoH-JSON is served by a small
HTTP/2 server written with python3-h2 (our client speaks HTTP/2 for both DoH formats) that
forwards to unbound with dnspython and answers in the Google/Cloudflare JSON format; it also
serves application/dns-message and records what it saw (SNI, methods, paths, connections)."""
import base64
import json
import shutil
import ssl
import subprocess
import threading
import urllib.parse

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import h2.config
import h2.connection
import h2.events
import pytest

from conftest import SANITIZER_MARKS, PortLock, tdns_cli_path
from helpers import accept_loop, bind_locked, spawn
from upstreams import UNBOUND, Pki, Unbound

NAME = "dns.test"


def run(*args, timeout=30):
    r = subprocess.run([tdns_cli_path(), *args], capture_output=True, text=True,
                       timeout=timeout)
    assert not any(m in r.stderr for m in SANITIZER_MARKS), r.stderr
    return r


# What unbound serves (upstreams.Unbound, with DoT and DoH from the Pki).
DNS_TEST = [
    "dns.test. 300 IN SOA ns.dns.test. host.dns.test. 1 3600 600 86400 60",
    "www.dns.test. 300 IN A 192.0.2.7",
    "www.dns.test. 300 IN AAAA 2001:db8::7",
    'txt.dns.test. 300 IN TXT "hello world" "second"',
]


def to_json(resp, unquoted_txt=False):
    """The JSON API layout of Google and Cloudflare for a dnspython response."""
    def rrs(section):
        out = []
        for rrset in section:
            for rd in rrset:
                data = rd.to_text()
                if unquoted_txt and rrset.rdtype == dns.rdatatype.TXT:
                    data = "".join(s.decode() for s in rd.strings)
                out.append({"name": rrset.name.to_text(), "type": int(rrset.rdtype),
                            "TTL": rrset.ttl, "data": data})
        return out
    q = resp.question[0]
    doc = {"Status": resp.rcode(), "TC": bool(resp.flags & dns.flags.TC),
           "RD": bool(resp.flags & dns.flags.RD), "RA": bool(resp.flags & dns.flags.RA),
           "AD": bool(resp.flags & dns.flags.AD), "CD": bool(resp.flags & dns.flags.CD),
           "Question": [{"name": q.name.to_text(), "type": int(q.rdtype)}]}
    if resp.answer:
        doc["Answer"] = rrs(resp.answer)
    if resp.authority:
        doc["Authority"] = rrs(resp.authority)
    return json.dumps(doc).encode()


class H2Server:
    """DoH over HTTP/2 (ALPN h2) forwarding to unbound.

    /dns-query   application/dns-message, GET ?dns= or POST
    /resolve     application/dns-json (GET ?name=&type=[&do=1][&cd=1])
    /plain-txt   the same, with TXT data unquoted as Google writes it
    /wrong-type  a DNS answer labelled text/html
    /broken      HTTP 500"""

    def __init__(self, pki, upstream_port):
        self.lock, (self.sock,) = bind_locked(udp=False, backlog=16)
        self.port = self.lock.port
        self.upstream = upstream_port
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(pki.cert, pki.key)
        self.ctx.set_alpn_protocols(["h2"])
        self.sni = []
        self.ctx.sni_callback = lambda sock, name, ctx: self.sni.append(name)
        self.connections = 0
        self.requests = []   # (connection number, headers dict, body)
        self.sock.settimeout(0.2)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.accept_loop, daemon=True)
        self.thread.start()

    def accept_loop(self):
        accept_loop(self.sock, self.stopping, self.accepted)

    def accepted(self, conn):
        self.connections += 1
        spawn(self.serve, conn, self.connections)

    def serve(self, raw, number):
        try:
            raw.settimeout(10)
            tls = self.ctx.wrap_socket(raw, server_side=True)
            conn = h2.connection.H2Connection(
                config=h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
            conn.initiate_connection()
            tls.sendall(conn.data_to_send())
            streams = {}
            while True:
                data = tls.recv(65535)
                if not data:
                    break
                for ev in conn.receive_data(data):
                    if isinstance(ev, h2.events.RequestReceived):
                        streams[ev.stream_id] = [dict(ev.headers), b""]
                    elif isinstance(ev, h2.events.DataReceived):
                        streams[ev.stream_id][1] += ev.data
                        conn.acknowledge_received_data(ev.flow_controlled_length,
                                                       ev.stream_id)
                    elif isinstance(ev, h2.events.StreamEnded):
                        headers, body = streams.pop(ev.stream_id)
                        self.requests.append((number, headers, body))
                        self.respond(conn, ev.stream_id, headers, body)
                    elif isinstance(ev, h2.events.ConnectionTerminated):
                        tls.sendall(conn.data_to_send())
                        return
                tls.sendall(conn.data_to_send())
        except (OSError, ssl.SSLError):
            pass
        finally:
            raw.close()

    def forward(self, wire):
        return dns.query.udp(dns.message.from_wire(wire), "127.0.0.1", port=self.upstream,
                             timeout=3)

    def respond(self, conn, sid, headers, body):
        url = urllib.parse.urlsplit(headers[":path"])
        args = urllib.parse.parse_qs(url.query)
        status, ctype, out = "404", "text/plain", b"not found"
        if url.path in ("/dns-query", "/wrong-type"):
            if headers[":method"] == "GET":
                b64 = args["dns"][0]
                body = base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4))
            out = self.forward(body).to_wire()
            status = "200"
            ctype = "application/dns-message" if url.path == "/dns-query" else "text/html"
        elif url.path in ("/resolve", "/plain-txt"):
            q = dns.message.make_query(args["name"][0], int(args["type"][0]),
                                       want_dnssec="do" in args)
            out = to_json(self.forward(q.to_wire()), unquoted_txt=url.path == "/plain-txt")
            status, ctype = "200", "application/dns-json"
        elif url.path == "/broken":
            status, out = "500", b"oops"
        conn.send_headers(sid, [(":status", status), ("content-type", ctype),
                                ("content-length", str(len(out)))])
        conn.send_data(sid, out, end_stream=True)

    def stop(self):
        self.stopping.set()
        self.sock.close()
        self.thread.join(5)
        self.lock.release()


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    for tool in (UNBOUND, "kdig", "openssl"):
        if shutil.which(tool) is None:
            pytest.fail("%s is needed (Debian packages unbound, knot-dnsutils, openssl)" % tool,
                        pytrace=False)
    base = str(tmp_path_factory.mktemp("encrypted"))
    pki = Pki(base, name=NAME)
    ub = Unbound(base, local_data=DNS_TEST, pki=pki)
    doh = H2Server(pki, ub.port)
    yield pki, ub, doh
    doh.stop()
    ub.stop()


def tls_args(pki, port):
    return ["@127.0.0.1:%d" % port, "+tls-host=" + NAME, "+tls-ca=" + pki.ca]


def answers(out):
    rows, on = [], False
    for line in out.splitlines():
        if line.startswith(";; ANSWER SECTION"):
            on = True
        elif on and (not line or line.startswith(";")):
            on = False
        elif on:
            rows.append(line.split(None, 4))
    return rows


def test_kdig_agrees_with_the_test_setup(env):
    """An independent client reaches unbound over DoT and DoH with the test CA."""
    pki, ub, _ = env
    for extra, port in (("+tls", ub.tls_port), ("+https", ub.https_port)):
        r = subprocess.run(["kdig", "@127.0.0.1", "-p", str(port), extra,
                            "+tls-ca=" + pki.ca, "+tls-hostname=" + NAME, "www.dns.test",
                            "A", "+short"], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0 and r.stdout == "192.0.2.7\n", (extra, r.stdout, r.stderr)


def test_tls_query_checks_certificate_and_prints_tls(env):
    pki, ub, _ = env
    r = run("query", "www.dns.test", *tls_args(pki, ub.tls_port), "+tls")
    assert r.returncode == 0, r.stderr
    assert answers(r.stdout) == [["www.dns.test.", "300", "IN", "A", "192.0.2.7"]]
    assert ";; SERVER: 127.0.0.1#%d(127.0.0.1) (TLS)" % ub.tls_port in r.stdout
    assert ";; TLS: TLSv1.3, new session" in r.stdout


def test_forwarder_syntax_names_the_certificate_and_the_address(env):
    pki, ub, _ = env
    r = run("query", "www.dns.test", "AAAA", "@tls://%s:%d#127.0.0.1" % (NAME, ub.tls_port),
            "+tls-ca=" + pki.ca)
    assert r.returncode == 0, r.stderr
    assert answers(r.stdout) == [["www.dns.test.", "300", "IN", "AAAA", "2001:db8::7"]]
    assert ";; SERVER: 127.0.0.1#%d(dns.test) (TLS)" % ub.tls_port in r.stdout
    r = run("query", "www.dns.test", "@https://%s:%d/dns-query#127.0.0.1" % (NAME, ub.https_port),
            "+tls-ca=" + pki.ca, "+short")
    assert r.returncode == 0 and r.stdout == "192.0.2.7\n", r.stderr


def test_https_post_and_get_against_unbound(env):
    pki, ub, _ = env
    for how in ("+https", "+https-get"):
        r = run("query", "txt.dns.test", "TXT", *tls_args(pki, ub.https_port), how)
        assert r.returncode == 0, (how, r.stderr)
        assert answers(r.stdout) == [["txt.dns.test.", "300", "IN", "TXT",
                                      '"hello world" "second"']], how
        # RFC 8484 §4.1: DoH queries carry ID 0, and the answer echoes it.
        assert ", id: 0\n" in r.stdout
        assert "(HTTPS)" in r.stdout and "ALPN h2" in r.stdout


def short_doh_query(env, flag):
    """tdns-cli query www.dns.test +short over the test's DoH server with flag (+https,
    +https-get); checks the answer and returns the (headers, body) of the request it sent."""
    pki, _, doh = env
    before = len(doh.requests)
    r = run("query", "www.dns.test", *tls_args(pki, doh.port), flag, "+short")
    assert r.returncode == 0 and r.stdout == "192.0.2.7\n", r.stderr
    _, headers, body = doh.requests[before]
    return headers, body


def test_https_get_uses_unpadded_base64url_and_sni(env):
    _, _, doh = env
    headers, _ = short_doh_query(env, "+https-get")
    assert headers[":method"] == "GET"
    assert headers["accept"] == "application/dns-message"
    assert headers[":authority"] == "%s:%d" % (NAME, doh.port)
    b64 = urllib.parse.parse_qs(urllib.parse.urlsplit(headers[":path"]).query)["dns"][0]
    assert "=" not in b64 and "+" not in b64 and "/" not in b64
    q = dns.message.from_wire(base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4)))
    assert q.id == 0 and str(q.question[0].name) == "www.dns.test."
    assert NAME in doh.sni


def test_https_post_sends_dns_message_body(env):
    headers, body = short_doh_query(env, "+https")
    assert headers[":method"] == "POST" and headers[":path"] == "/dns-query"
    assert headers["content-type"] == "application/dns-message"
    assert dns.message.from_wire(body).id == 0


def test_https_json_is_converted_and_printed_like_dig(env):
    pki, _, doh = env
    before = len(doh.requests)
    r = run("query", "txt.dns.test", "TXT", *tls_args(pki, doh.port), "+https-json=/resolve",
            "+dnssec")
    assert r.returncode == 0, r.stderr
    assert answers(r.stdout) == [["txt.dns.test.", "300", "IN", "TXT",
                                  '"hello world" "second"']]
    assert "(HTTPS-JSON)" in r.stdout
    # The JSON format has no AA bit: what the server said, nothing more.
    assert ";; flags: qr rd ra;" in r.stdout
    _, headers, _ = doh.requests[before]
    assert headers["accept"] == "application/dns-json"
    args = urllib.parse.parse_qs(urllib.parse.urlsplit(headers[":path"]).query)
    assert args == {"name": ["txt.dns.test."], "type": ["16"], "do": ["1"]}
    r = run("query", "nothere.dns.test", *tls_args(pki, doh.port), "+https-json=/resolve")
    assert r.returncode == 0, r.stderr
    assert "status: NXDOMAIN" in r.stdout
    # unbound gives the SOA of a negative answer the SOA minimum as TTL (RFC 2308 §3).
    assert "dns.test.\t\t60\tIN\tSOA\tns.dns.test. host.dns.test. 1 3600 600 86400 60" \
        in r.stdout
    # Google writes TXT data without quotes: one string.
    r = run("query", "txt.dns.test", "TXT", *tls_args(pki, doh.port), "+https-json=/plain-txt",
            "+short")
    assert r.returncode == 0 and r.stdout == '"hello worldsecond"\n', r.stderr


def test_http_errors_and_wrong_content_type_exit_1(env):
    pki, ub, doh = env
    r = run("query", "www.dns.test", *tls_args(pki, doh.port), "+https=/broken")
    assert r.returncode == 1 and "HTTP status 500" in r.stderr, r.stderr
    r = run("query", "www.dns.test", *tls_args(pki, doh.port), "+https=/wrong-type")
    assert r.returncode == 1 and "content-type 'text/html'" in r.stderr, r.stderr
    r = run("query", "www.dns.test", *tls_args(pki, ub.https_port), "+https=/elsewhere")
    assert r.returncode == 1 and "HTTP status 404" in r.stderr, r.stderr


def test_unknown_ca_is_a_certificate_error_exit_3(env):
    pki, ub, _ = env
    for how, port in (("+tls", ub.tls_port), ("+https", ub.https_port)):
        r = run("query", "www.dns.test", "@127.0.0.1:%d" % port, how, "+tls-host=" + NAME,
                "+tls-ca=" + pki.other_ca)
        assert r.returncode == 3, (how, r.stdout, r.stderr)
        assert "TLS certificate of 127.0.0.1#%d not accepted for 'dns.test'" % port in r.stderr
        assert "unable to get local issuer certificate" in r.stderr
        # The system store does not know the test CA either.
        r = run("query", "www.dns.test", "@127.0.0.1:%d" % port, how, "+tls-host=" + NAME)
        assert r.returncode == 3 and "not accepted" in r.stderr, (how, r.stderr)


def test_wrong_name_is_rejected_and_insecure_skips_checks(env):
    pki, ub, _ = env
    r = run("query", "www.dns.test", "@127.0.0.1:%d" % ub.tls_port, "+tls",
            "+tls-host=other.test", "+tls-ca=" + pki.ca)
    assert r.returncode == 3 and "hostname mismatch" in r.stderr, r.stderr
    # Without +tls-host the address itself must be in the certificate.
    r = run("query", "www.dns.test", "@127.0.0.1:%d" % ub.tls_port, "+tls", "+tls-ca=" + pki.ca)
    assert r.returncode == 3 and "IP address mismatch" in r.stderr, r.stderr
    r = run("query", "www.dns.test", "@127.0.0.1:%d" % ub.tls_port, "+tls", "+insecure",
            "+short")
    assert r.returncode == 0 and r.stdout == "192.0.2.7\n", r.stderr


def test_second_tls_connection_resumes_the_session(env):
    pki, ub, _ = env
    r = run("query", "www.dns.test", *tls_args(pki, ub.tls_port), "+tls", "+repeat=2")
    assert r.returncode == 0, r.stderr
    tls_lines = [line for line in r.stdout.splitlines() if line.startswith(";; TLS:")]
    assert tls_lines == [";; TLS: TLSv1.3, new session", ";; TLS: TLSv1.3, session resumed"]
    out = run("query", "www.dns.test", *tls_args(pki, ub.tls_port), "+tls", "+repeat=2",
              "+json").stdout
    docs, pos = [], 0
    while out[pos:].strip():
        doc, pos = json.JSONDecoder().raw_decode(out, pos)
        docs.append(doc)
        pos = len(out) - len(out[pos:].lstrip())
    assert [d.get("tlsResumed") for d in docs] == [False, True]
    # Over HTTPS too (the Python server, which issues TLS 1.3 tickets).
    pki_, _, doh = env
    r = run("query", "www.dns.test", *tls_args(pki_, doh.port), "+https", "+repeat=2")
    assert r.returncode == 0, r.stderr
    assert ";; TLS: TLSv1.3, session resumed, ALPN h2" in r.stdout


def test_keepopen_sends_many_queries_on_one_connection(env):
    pki, ub, doh = env
    for how in ("+https", "+https-json=/resolve"):
        before, conns = len(doh.requests), doh.connections
        r = run("query", "www.dns.test", *tls_args(pki, doh.port), how, "+repeat=3",
                "+keepopen", "+short")
        assert r.returncode == 0, (how, r.stderr)
        assert r.stdout == "192.0.2.7\n" * 3
        assert doh.connections == conns + 1, how
        seen = doh.requests[before:]
        assert len(seen) == 3 and len({c for c, _, _ in seen}) == 1, how
    # Without +keepopen every query has its own connection.
    conns = doh.connections
    r = run("query", "www.dns.test", *tls_args(pki, doh.port), "+https", "+repeat=2", "+short")
    assert r.returncode == 0 and doh.connections == conns + 2, r.stderr
    # DoT pipelining (RFC 7766 §6.2.1.1) against unbound.
    r = run("query", "www.dns.test", *tls_args(pki, ub.tls_port), "+tls", "+repeat=3",
            "+keepopen")
    assert r.returncode == 0, r.stderr
    assert len(answers(r.stdout)) == 3
    assert r.stdout.count(";; TLS: TLSv1.3, new session") == 3


def test_udp_and_tcp_against_unbound_agree(env):
    _, ub, _ = env
    for extra in ([], ["+tcp"], ["@tcp://127.0.0.1:%d" % ub.port]):
        server = [] if extra and extra[0].startswith("@") else ["@127.0.0.1:%d" % ub.port]
        r = run("query", "www.dns.test", *server, *extra, "+short")
        assert r.returncode == 0 and r.stdout == "192.0.2.7\n", (extra, r.stderr)


def test_https_to_a_closed_port_is_unreachable(env):
    pki, _, _ = env
    lock = PortLock()
    try:
        r = run("query", "www.dns.test", *tls_args(pki, lock.port), "+https", "+time=2")
        assert r.returncode == 3 and "refused" in r.stderr.lower(), r.stderr
    finally:
        lock.release()
