# SPDX-License-Identifier: MIT
"""DNS over HTTPS (RFC 8484) and plain DNS over HTTP behind a proxy, with real clients.

tdnsd serves example.com with a [doh] listener (TLS, h2 and http/1.1) and an http-listen
port; the certificate for "dns.test" comes from a test CA made with the openssl CLI.  Clients:
kdig +https, curl (--http2, --http1.1, --doh-url), tdns-cli query +https / +https-json,
python3-h2 for many streams and for HTTP/2 protocol errors, raw sockets for HTTP/1.1
pipelining, garbage and slow clients.  The proxy tests forward to a scripted upstream and
check that a trusted proxy's X-Forwarded-For / X-Real-IP is the client the recursion ACL and
the query log see."""
import base64
import json
import socket
import ssl
import struct
import subprocess
import time

import dns.message
import dns.rcode
import dns.rdatatype
import h2.config
import h2.connection
import h2.errors
import h2.events
import pytest

from conftest import EXAMPLE_COM, SANITIZER_MARKS, server_with_ports, tdns_cli_path
from helpers import WAIT_LONG, wait_for, wait_tcp
from upstreams import TLS_NAME, FakeUpstream, Pki, require

# www is a CNAME with TTL 600 to web (3600): the answer's smallest TTL is 600.
ZONES = {"example.com": EXAMPLE_COM + "target 300 A 127.0.0.1\n"}
CTYPE = "application/dns-message"


class Doh:
    """A started tdnsd with DoH on https_port and plain HTTP on http_port."""

    def __init__(self, make_server, tmp_path, extra="", zones=None, **kw):
        require("curl", "kdig", "openssl")
        self.pki = Pki(str(tmp_path))
        self.ca = self.pki.ca
        self.srv, self.locks = server_with_ports(
            make_server, 2, lambda https, http: (
                "[tls]\ncertificate = %s\nkey = %s\n\n[doh]\nlisten = 127.0.0.1:%d\n"
                "http-listen = 127.0.0.1:%d\n\n%s"
                % (self.pki.cert, self.pki.key, https, http, extra)),
            zones=zones or ZONES, **kw)
        self.https_port, self.http_port = (lk.port for lk in self.locks)
        wait_tcp(self.https_port, timeout=10)
        wait_tcp(self.http_port, timeout=10)

    def release(self):
        for lk in self.locks:
            lk.release()

    @property
    def url(self):
        return "https://%s:%d/dns-query" % (TLS_NAME, self.https_port)

    def curl(self, *args, url=None, http=False):
        """Runs curl; returns (status, headers dict lower-cased, body bytes)."""
        target = url or ("http://127.0.0.1:%d/dns-query" % self.http_port if http else self.url)
        cmd = ["curl", "-s", "-D", "-", "--cacert", self.ca, "--resolve",
               "%s:%d:127.0.0.1" % (TLS_NAME, self.https_port), *args, target]
        r = subprocess.run(cmd, capture_output=True, timeout=30)
        assert r.returncode == 0, (cmd, r.stderr)
        return parse_http(r.stdout)


def parse_http(raw):
    """The final response of curl -D - output: status, headers, body."""
    status, headers, body = 0, {}, raw
    while body.startswith(b"HTTP/"):
        head, _, body = body.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        if status >= 200:
            break
    return status, headers, body


def wire(name, rdtype="A", qid=0):
    q = dns.message.make_query(name, rdtype)
    q.id = qid
    return q.to_wire()


def b64(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


@pytest.fixture
def doh(make_server, tmp_path):
    d = Doh(make_server, tmp_path)
    yield d
    d.release()


def assert_www_answer(status, headers, body, qid=0):
    assert status == 200
    assert headers["content-type"] == CTYPE
    assert headers["cache-control"] == "max-age=600"
    assert int(headers["content-length"]) == len(body)
    m = dns.message.from_wire(body)
    assert m.id == qid  # RFC 8484 §4.1: the reply keeps the query's ID
    assert m.rcode() == dns.rcode.NOERROR
    addrs = [rd.address for rrset in m.answer for rd in rrset if rrset.rdtype == 1]
    assert addrs == ["192.0.2.80"]


# ---- real clients -------------------------------------------------------------------------------

def test_kdig_https_post_and_get(doh):
    for how in ("+https", "+https-get"):
        r = subprocess.run(["kdig", "@127.0.0.1", "-p", str(doh.https_port), how,
                            "+tls-ca=" + doh.ca, "+tls-hostname=" + TLS_NAME, "+short",
                            "www.example.com", "A"], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        assert r.stdout.split() == ["web.example.com.", "192.0.2.80"], (how, r.stdout)


@pytest.mark.parametrize("version", ["--http2", "--http1.1"])
def test_curl_post_and_get_get_the_wire_answer_with_max_age(doh, version, tmp_path):
    q = tmp_path / "q.bin"
    q.write_bytes(wire("www.example.com", qid=0x4242))
    st, hd, body = doh.curl(version, "-H", "content-type: " + CTYPE, "--data-binary",
                            "@" + str(q))
    assert_www_answer(st, hd, body, qid=0x4242)
    st, hd, body = doh.curl(version, url=doh.url + "?dns=" + b64(wire("www.example.com")))
    assert_www_answer(st, hd, body)


def test_plain_http_listener_answers_http11(doh):
    st, hd, body = doh.curl("--http1.1", url="http://127.0.0.1:%d/dns-query?dns=%s"
                            % (doh.http_port, b64(wire("www.example.com"))))
    assert_www_answer(st, hd, body)


def test_plain_http_listener_speaks_h2_with_prior_knowledge(doh):
    st, hd, body = doh.curl("--http2-prior-knowledge", url="http://127.0.0.1:%d/dns-query?dns=%s"
                            % (doh.http_port, b64(wire("www.example.com"))))
    assert_www_answer(st, hd, body)


def test_json_api_by_name_and_type(doh):
    st, hd, body = doh.curl(url=doh.url + "?name=www.example.com&type=A")
    assert st == 200
    assert hd["content-type"] == "application/dns-json"
    assert hd["cache-control"] == "max-age=600"
    j = json.loads(body)
    assert j["Status"] == 0 and j["TC"] is False and j["RD"] is True and j["CD"] is False
    assert j["Question"] == [{"name": "www.example.com.", "type": 1}]
    assert j["Answer"] == [
        {"name": "www.example.com.", "type": 5, "TTL": 600, "data": "web.example.com."},
        {"name": "web.example.com.", "type": 1, "TTL": 3600, "data": "192.0.2.80"}]
    assert "Additional" not in j


def test_json_nxdomain_has_the_soa_and_its_negative_ttl(doh):
    st, hd, body = doh.curl("--http1.1", url=doh.url + "?name=nothere.example.com&type=AAAA")
    assert st == 200
    # SOA TTL 3600, minimum 300 (RFC 2308 §5).
    assert hd["cache-control"] == "max-age=300"
    j = json.loads(body)
    assert j["Status"] == 3 and "Answer" not in j
    assert j["Authority"][0]["type"] == 6 and j["Authority"][0]["TTL"] == 300


def test_accept_dns_json_with_dns_param_gets_json(doh):
    st, hd, body = doh.curl("-H", "accept: application/dns-json",
                            url=doh.url + "?dns=" + b64(wire("example.com", "MX")))
    assert st == 200 and hd["content-type"] == "application/dns-json"
    j = json.loads(body)
    assert sorted(a["data"] for a in j["Answer"]) == ["10 mail.example.com.",
                                                       "20 mail2.example.net."]


def test_curl_doh_url_resolves_through_tdnsd(doh):
    # curl asks tdnsd (DoH, h2) for target.example.com, then fetches from the address it got:
    # tdnsd's own plain-HTTP listener.
    target = "http://target.example.com:%d/dns-query?name=web.example.com" % doh.http_port
    r = subprocess.run(["curl", "-sv", "--cacert", doh.ca, "--resolve",
                        "%s:%d:127.0.0.1" % (TLS_NAME, doh.https_port), "--doh-url", doh.url,
                        target], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert "Connected to target.example.com (127.0.0.1) port %d" % doh.http_port in r.stderr
    assert json.loads(r.stdout)["Answer"][0]["data"] == "192.0.2.80"


def cli(*args):
    r = subprocess.run([tdns_cli_path(), *args], capture_output=True, text=True, timeout=30)
    assert not any(m in r.stderr for m in SANITIZER_MARKS), r.stderr
    return r


def test_tdns_cli_query_https_and_https_json(doh):
    common = ["@127.0.0.1:%d" % doh.https_port, "+tls-host=" + TLS_NAME, "+tls-ca=" + doh.ca]
    for how in ("+https", "+https-get", "+https-json"):
        r = cli("query", "www.example.com", *common, how, "+short")
        assert r.returncode == 0, (how, r.stderr)
        assert r.stdout.split() == ["web.example.com.", "192.0.2.80"], (how, r.stdout)
    r = cli("query", "nothere.example.com", *common, "+https-json")
    assert r.returncode == 0 and "NXDOMAIN" in r.stdout, r.stdout + r.stderr


# ---- bad requests -------------------------------------------------------------------------------

@pytest.mark.parametrize("version", ["--http2", "--http1.1"])
def test_bad_requests_get_their_status(doh, version, tmp_path):
    q = tmp_path / "q.bin"
    q.write_bytes(wire("www.example.com"))
    big = tmp_path / "big.bin"
    big.write_bytes(wire("www.example.com") + b"\0" * 70000)
    ok = b64(wire("www.example.com"))
    st, _, _ = doh.curl(version, url="https://%s:%d/other?dns=%s" % (TLS_NAME, doh.https_port,
                                                                      ok))
    assert st == 404
    st, hd, _ = doh.curl(version, "-X", "PUT", "-H", "content-type: " + CTYPE, "--data-binary",
                         "@" + str(q))
    assert st == 405 and hd["allow"] == "GET, POST"
    st, _, _ = doh.curl(version, "-H", "content-type: " + CTYPE, "--data-binary",
                        "@" + str(big))
    assert st == 413
    st, _, _ = doh.curl(version, "-H", "content-type: text/plain", "--data-binary",
                        "@" + str(q))
    assert st == 415
    st, _, _ = doh.curl(version, url=doh.url + "?dns=not*base64")
    assert st == 400
    st, _, _ = doh.curl(version, url=doh.url + "?name=x&type=NOSUCH")
    assert st == 400
    # The connection limit and the other clients are untouched: a good query still works.
    assert_www_answer(*doh.curl(version, url=doh.url + "?dns=" + ok))


def recv_all(s, timeout=5.0):
    """Everything until the server closes (or timeout); returns (data, closed)."""
    s.settimeout(timeout)
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return data, True
            data += chunk
    except socket.timeout:
        return data, False
    except ConnectionResetError:
        return data, True


def test_garbage_gets_400_and_the_connection_closes(doh):
    s = socket.create_connection(("127.0.0.1", doh.http_port))
    s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 this is no HTTP\r\n\r\n")
    data, closed = recv_all(s)
    s.close()
    assert data.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"Connection: close\r\n" in data
    assert closed


def test_http11_pipelined_requests_are_answered_in_order(doh):
    s = socket.create_connection(("127.0.0.1", doh.http_port))
    reqs = b""
    for name in ("www.example.com", "mail.example.com", "nothere.example.com"):
        reqs += b"GET /dns-query?dns=%s HTTP/1.1\r\nHost: x\r\n\r\n" % b64(wire(name)).encode()
    reqs += b"GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    s.sendall(reqs)
    data, closed = recv_all(s)
    s.close()
    assert closed
    rcodes, statuses = [], []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        statuses.append(int(head.split()[1]))
        n = int([ln for ln in head.split(b"\r\n") if ln.lower().startswith(b"content-length")][0]
                .split(b":")[1])
        if statuses[-1] == 200:
            rcodes.append(dns.message.from_wire(rest[:n]).question[0].name.to_text())
        data = rest[n:]
    assert statuses == [200, 200, 200, 404]
    assert rcodes == ["www.example.com.", "mail.example.com.", "nothere.example.com."]


def test_expect_100_continue_gets_continue_then_the_answer(doh):
    body = wire("www.example.com")
    s = socket.create_connection(("127.0.0.1", doh.http_port))
    s.sendall(b"POST /dns-query HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\n"
              b"Content-Length: %d\r\nExpect: 100-continue\r\n\r\n" % (CTYPE.encode(), len(body)))
    s.settimeout(5)
    assert s.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
    s.sendall(body)
    data = s.recv(4096)
    s.close()
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")


def test_slow_clients_do_not_block_others(doh):
    # Half an HTTP request on the plain port, a TCP connection that never starts TLS, and a
    # TLS connection with half an HTTP/2 preface.
    half = socket.create_connection(("127.0.0.1", doh.http_port))
    half.sendall(b"GET /dns-query?dns=AAAB")
    mute = socket.create_connection(("127.0.0.1", doh.https_port))
    ctx = ssl.create_default_context(cafile=doh.ca)
    ctx.set_alpn_protocols(["h2"])
    slow_tls = ctx.wrap_socket(socket.create_connection(("127.0.0.1", doh.https_port)),
                               server_hostname=TLS_NAME)
    slow_tls.sendall(b"PRI * HTTP/2.0\r\n")
    try:
        for version in ("--http2", "--http1.1"):
            assert_www_answer(*doh.curl(version, "--max-time", "5",
                                        url=doh.url + "?dns=" + b64(wire("www.example.com"))))
        assert_www_answer(*doh.curl("--max-time", "5", http=True,
                                    url="http://127.0.0.1:%d/dns-query?dns=%s"
                                    % (doh.http_port, b64(wire("www.example.com")))))
    finally:
        for s in (half, mute, slow_tls):
            s.close()


# ---- HTTP/2 -------------------------------------------------------------------------------------

def h2_connect(doh):
    ctx = ssl.create_default_context(cafile=doh.ca)
    ctx.set_alpn_protocols(["h2"])
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", doh.https_port)),
                        server_hostname=TLS_NAME)
    assert s.selected_alpn_protocol() == "h2"
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    s.sendall(conn.data_to_send())
    return s, conn


def test_many_concurrent_streams_on_one_connection(doh):
    s, conn = h2_connect(doh)
    names = ["www.example.com", "mail.example.com", "example.com", "nothere.example.com"] * 15
    streams = {}
    for i, name in enumerate(names):
        sid = conn.get_next_available_stream_id()
        path = "/dns-query?dns=" + b64(wire(name, qid=i))
        conn.send_headers(sid, [(":method", "GET"), (":scheme", "https"),
                                (":authority", TLS_NAME), (":path", path),
                                ("accept", CTYPE)], end_stream=True)
        streams[sid] = {"name": name, "id": i, "body": b"", "status": None, "done": False}
    s.sendall(conn.data_to_send())
    s.settimeout(10)
    while not all(v["done"] for v in streams.values()):
        data = s.recv(65536)
        assert data, "the server closed the connection"
        for ev in conn.receive_data(data):
            if isinstance(ev, h2.events.ResponseReceived):
                streams[ev.stream_id]["status"] = dict(ev.headers)[b":status"]
            elif isinstance(ev, h2.events.DataReceived):
                streams[ev.stream_id]["body"] += ev.data
                conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            elif isinstance(ev, h2.events.StreamEnded):
                streams[ev.stream_id]["done"] = True
        s.sendall(conn.data_to_send())
    s.close()
    for v in streams.values():
        assert v["status"] == b"200"
        m = dns.message.from_wire(v["body"])
        assert m.id == v["id"] and m.question[0].name.to_text() == v["name"] + "."


def test_oversized_h2_body_is_refused_and_the_connection_lives_on(doh):
    s, conn = h2_connect(doh)
    sid = conn.get_next_available_stream_id()
    conn.send_headers(sid, [(":method", "POST"), (":scheme", "https"), (":authority", TLS_NAME),
                            (":path", "/dns-query"), ("content-type", CTYPE)])
    s.sendall(conn.data_to_send())
    status = None
    sent = 0
    s.settimeout(5)
    # No Content-Length: the DATA frames themselves pass the limit.
    while sent <= 70000 and status is None:
        n = min(16384, conn.local_flow_control_window(sid), conn.max_outbound_frame_size)
        if n > 0:
            conn.send_data(sid, b"\0" * n)
            sent += n
            s.sendall(conn.data_to_send())
            continue
        data = s.recv(65536)
        assert data
        for ev in conn.receive_data(data):
            if isinstance(ev, h2.events.ResponseReceived):
                status = dict(ev.headers)[b":status"]
        s.sendall(conn.data_to_send())
    while status is None:
        data = s.recv(65536)
        assert data
        for ev in conn.receive_data(data):
            if isinstance(ev, h2.events.ResponseReceived):
                status = dict(ev.headers)[b":status"]
    assert status == b"413"
    # The same connection still answers.
    assert h2_get_status(s, conn) == b"200"
    s.close()


def h2_get_status(s, conn):
    """The status of a GET for www.example.com on an open h2 connection."""
    sid = conn.get_next_available_stream_id()
    conn.send_headers(sid, [(":method", "GET"), (":scheme", "https"), (":authority", TLS_NAME),
                            (":path", "/dns-query?dns=" + b64(wire("www.example.com")))],
                      end_stream=True)
    s.sendall(conn.data_to_send())
    status = None
    while status is None:
        data = s.recv(65536)
        assert data
        for ev in conn.receive_data(data):
            if isinstance(ev, h2.events.ResponseReceived) and ev.stream_id == sid:
                status = dict(ev.headers)[b":status"]
        s.sendall(conn.data_to_send())
    return status


def frames(data):
    """(type, flags, stream, payload) of every complete HTTP/2 frame in data."""
    out = []
    while len(data) >= 9:
        n = int.from_bytes(data[:3], "big")
        if len(data) < 9 + n:
            break
        out.append((data[3], data[4], int.from_bytes(data[5:9], "big") & 0x7fffffff,
                    data[9:9 + n]))
        data = data[9 + n:]
    return out


@pytest.mark.parametrize("bad", [
    # SETTINGS on a stream (RFC 9113 §6.5: PROTOCOL_ERROR).
    bytes.fromhex("000000040000000001"),
    # DATA on stream 0 (RFC 9113 §6.1).
    bytes.fromhex("000004000100000000") + b"abcd",
    # A frame of an absurd size before any SETTINGS ack (FRAME_SIZE_ERROR).
    bytes.fromhex("ffffff00000000000100"),
])
def test_h2_protocol_errors_get_goaway_and_close(doh, bad):
    s = socket.create_connection(("127.0.0.1", doh.http_port))
    s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes.fromhex("000000040000000000") + bad)
    data, closed = recv_all(s)
    s.close()
    kinds = [f[0] for f in frames(data)]
    assert 0x7 in kinds, kinds  # GOAWAY
    goaway = [f for f in frames(data) if f[0] == 0x7][0]
    assert struct.unpack("!I", goaway[3][4:8])[0] != 0  # an error code, not NO_ERROR
    assert closed
    # Others are served as before.
    assert_www_answer(*doh.curl(url=doh.url + "?dns=" + b64(wire("www.example.com"))))


H2_BUFFER_MAX = 65536  # octets of unfinished request bodies tdnsd holds per connection


def test_unfinished_h2_bodies_are_bounded_per_connection(doh):
    """100 streams each send as much of a POST body as the windows allow and never end it.
    tdnsd holds at most H2_BUFFER_MAX octets of them and refuses (REFUSED_STREAM) the streams
    whose data would pass that; with automatic window updates every stream could send 64 KB,
    about 6 MB per connection."""
    s, conn = h2_connect(doh)
    target = 60000  # per stream: under the 64 KB body limit, so no stream gets 413
    sent = {}
    for _ in range(100):
        sid = conn.get_next_available_stream_id()
        conn.send_headers(sid, [(":method", "POST"), (":scheme", "https"),
                                (":authority", TLS_NAME), (":path", "/dns-query"),
                                ("content-type", CTYPE)])
        sent[sid] = 0
    s.sendall(conn.data_to_send())
    s.settimeout(10)
    refused = set()
    deadline = time.monotonic() + 120
    while not all(sid in refused or n >= target for sid, n in sent.items()):
        assert time.monotonic() < deadline, (len(refused), sum(sent.values()))
        progressed = False
        for sid in sent:
            if sid in refused or sent[sid] >= target:
                continue
            n = min(target - sent[sid], conn.local_flow_control_window(sid),
                    conn.max_outbound_frame_size)
            if n > 0:
                conn.send_data(sid, b"\0" * n)
                sent[sid] += n
                progressed = True
        s.sendall(conn.data_to_send())
        if progressed:
            continue
        data = s.recv(65536)  # window updates and resets; a timeout fails the test
        assert data, "the server closed the connection"
        for ev in conn.receive_data(data):
            if isinstance(ev, h2.events.StreamReset):
                assert ev.error_code == h2.errors.ErrorCodes.REFUSED_STREAM
                refused.add(ev.stream_id)
        s.sendall(conn.data_to_send())
    held = sum(n for sid, n in sent.items() if sid not in refused)
    assert held <= H2_BUFFER_MAX, (held, len(refused))
    assert len(refused) >= 90
    # The connection itself still answers.
    assert h2_get_status(s, conn) == b"200"
    s.close()


def test_rapid_reset_flood_gets_goaway_while_others_are_served(doh):
    """CVE-2023-44487: streams opened and reset at once.  250 of them (more than the 100 a
    second tdnsd allows, fewer than the 1,000 nghttp2's own limiter, where it has one, lets
    through) end the connection with GOAWAY ENHANCE_YOUR_CALM; others are served."""
    s, conn = h2_connect(doh)
    path = "/dns-query?dns=" + b64(wire("www.example.com"))
    for _ in range(250):
        sid = conn.get_next_available_stream_id()
        conn.send_headers(sid, [(":method", "GET"), (":scheme", "https"),
                                (":authority", TLS_NAME), (":path", path)], end_stream=True)
        conn.reset_stream(sid, error_code=h2.errors.ErrorCodes.CANCEL)
    flood = conn.data_to_send()
    assert len(flood) < 16000  # one TLS record: read at once, so the close is a clean one
    s.sendall(flood)
    # The GOAWAY comes at once; the 10 s idle timeout would close without one.
    data, closed = recv_all(s, timeout=8.0)
    s.close()
    goaway = [f for f in frames(data) if f[0] == 0x7]  # data starts at the server's SETTINGS
    assert goaway, "no GOAWAY after 250 streams reset at once"
    assert struct.unpack("!I", goaway[0][3][4:8])[0] == 0xb  # ENHANCE_YOUR_CALM
    assert closed
    assert_www_answer(*doh.curl(url=doh.url + "?dns=" + b64(wire("www.example.com"))))


# ---- behind a proxy: client address, recursion ACL, query log -----------------------------------

@pytest.fixture
def proxied(make_server, tmp_path):
    up = FakeUpstream([
        "fwd.test. 3600 IN SOA ns.fwd.test. h.fwd.test. 1 3600 600 86400 60",
        "www.fwd.test. 300 IN A 192.0.2.123",
        "other.fwd.test. 300 IN A 192.0.2.124",
    ])
    extra = ("[recursion]\nmode = forward\nallow = 192.0.2.0/24, 2001:db8::/32\n\n"
             "[forwarders]\nservers = %s\ntimeout = 1000\n\n[cache]\nmin-ttl = 0\n\n" % up.url)
    d = Doh(make_server, tmp_path, extra=extra)
    d.up = up
    yield d
    d.release()
    up.stop()
    up.release()


def http_get(port, name, headers=b""):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /dns-query?dns=%s HTTP/1.1\r\nHost: x\r\n%sConnection: close\r\n\r\n"
              % (b64(wire(name)).encode(), headers))
    data, _ = recv_all(s)
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 "), data
    return dns.message.from_wire(body)


def queries_log(d):
    r = d.srv.cli("--json", "log", "show", "--queries", "--count", "100")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["data"]["entries"]


def test_forwarded_for_from_trusted_proxy_is_the_client(proxied):
    d = proxied
    # Without the header the client is 127.0.0.1, outside [recursion] allow.
    m = http_get(d.http_port, "www.fwd.test")
    assert m.rcode() == dns.rcode.REFUSED
    # The last X-Forwarded-For address is the one the proxy added.
    m = http_get(d.http_port, "www.fwd.test", b"X-Forwarded-For: 10.9.9.9, 192.0.2.7\r\n")
    assert m.rcode() == dns.rcode.NOERROR
    assert m.answer[0][0].address == "192.0.2.123"
    # X-Real-IP wins over X-Forwarded-For.
    m = http_get(d.http_port, "other.fwd.test",
                 b"X-Real-IP: 2001:db8::9\r\nX-Forwarded-For: 10.1.1.1\r\n")
    assert m.rcode() == dns.rcode.NOERROR
    m = http_get(d.http_port, "other.fwd.test", b"X-Forwarded-For: 10.1.1.1\r\n")
    assert m.rcode() == dns.rcode.REFUSED
    # A value that is no address leaves the proxy's.
    m = http_get(d.http_port, "other.fwd.test", b"X-Real-IP: not-an-address\r\n")
    assert m.rcode() == dns.rcode.REFUSED
    log = [(e["client"], e["name"], e["rcode"], e["transport"]) for e in queries_log(d)]
    assert ("127.0.0.1", "www.fwd.test.", "REFUSED", "doh") in log
    assert ("192.0.2.7", "www.fwd.test.", "NOERROR", "doh") in log
    assert ("2001:db8::9", "other.fwd.test.", "NOERROR", "doh") in log
    assert ("10.1.1.1", "other.fwd.test.", "REFUSED", "doh") in log


def test_forwarded_for_is_ignored_on_the_tls_listener(proxied):
    d = proxied
    st, _, body = d.curl("-H", "X-Forwarded-For: 192.0.2.7",
                         url=d.url + "?dns=" + b64(wire("www.fwd.test")))
    assert st == 200
    assert dns.message.from_wire(body).rcode() == dns.rcode.REFUSED


def test_forwarded_query_over_h2_is_answered_later(proxied):
    d = proxied
    # kdig's client address 127.0.0.1 is refused; the forwarded path runs for a trusted
    # proxy's client over h2 with prior knowledge, the reply coming after the upstream's.
    st, hd, body = d.curl("--http2-prior-knowledge", "-H", "X-Real-IP: 192.0.2.9",
                          url="http://127.0.0.1:%d/dns-query?name=www.fwd.test" % d.http_port)
    assert st == 200 and hd["content-type"] == "application/dns-json"
    j = json.loads(body)
    assert j["Status"] == 0 and j["RA"] is True
    assert j["Answer"][0]["data"] == "192.0.2.123"
    assert hd["cache-control"] == "max-age=%d" % j["Answer"][0]["TTL"]


def test_clients_leaving_before_a_forwarded_reply_do_not_disturb_others(proxied):
    d = proxied
    for i in range(4):
        d.up.behave("slow%d.fwd.test" % i, delay=0.5)
    allowed = b"X-Real-IP: 192.0.2.7\r\n"
    # HTTP/1.1: one request, then two pipelined, the client gone before the upstream answers.
    for names in (["slow0.fwd.test"], ["slow1.fwd.test", "www.example.com"]):
        s = socket.create_connection(("127.0.0.1", d.http_port))
        s.sendall(b"".join(b"GET /dns-query?dns=%s HTTP/1.1\r\nHost: x\r\n%s\r\n"
                           % (b64(wire(n)).encode(), allowed) for n in names))
        time.sleep(0.1)
        s.close()
    # HTTP/2: one stream reset by the client, one left open when the connection goes.
    s = socket.create_connection(("127.0.0.1", d.http_port))
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    for i in (2, 3):
        sid = conn.get_next_available_stream_id()
        conn.send_headers(sid, [(":method", "GET"), (":scheme", "http"), (":authority", "x"),
                                (":path", "/dns-query?dns=" + b64(wire("slow%d.fwd.test" % i))),
                                ("x-real-ip", "192.0.2.7")], end_stream=True)
        if i == 2:
            s.sendall(conn.data_to_send())
            time.sleep(0.1)
            conn.reset_stream(sid)
    s.sendall(conn.data_to_send())
    time.sleep(0.1)
    s.close()
    # The upstream's answers arrive for clients that are gone.
    wait_for(lambda: all("slow%d.fwd.test." % i in d.up.answered for i in range(4)),
             timeout=WAIT_LONG, what="the upstream's four answers")
    assert d.up.count("slow3.fwd.test") == 1
    m = http_get(d.http_port, "www.fwd.test", allowed)
    assert m.rcode() == dns.rcode.NOERROR and m.answer[0][0].address == "192.0.2.123"


def test_a_connection_waiting_for_a_forwarded_reply_outlives_the_idle_timeout(make_server,
                                                                            tmp_path):
    # RFC 7766 §6.2.3 (as for TCP): a connection with a request being resolved is not idle.
    # The upstream answers after 3 s, three idle timeouts; the reply still comes.
    up = FakeUpstream(["fwd.test. 3600 IN SOA ns.fwd.test. h.fwd.test. 1 3600 600 86400 60",
                       "slow.fwd.test. 300 IN A 192.0.2.125"])
    up.behave("slow.fwd.test", delay=3.0)
    extra = ("[recursion]\nmode = forward\nallow = 192.0.2.0/24\n\n"
             "[forwarders]\nservers = %s\ntimeout = 20000\n\n" % up.url)
    d = Doh(make_server, tmp_path, extra=extra, idle_timeout=1)
    try:
        s = socket.create_connection(("127.0.0.1", d.http_port))
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        conn.initiate_connection()
        sid = conn.get_next_available_stream_id()
        conn.send_headers(sid, [(":method", "GET"), (":scheme", "http"), (":authority", "x"),
                                (":path", "/dns-query?dns=" + b64(wire("slow.fwd.test"))),
                                ("x-real-ip", "192.0.2.7")], end_stream=True)
        s.sendall(conn.data_to_send())
        status, body, ended = None, b"", False
        s.settimeout(WAIT_LONG)
        while not ended:
            data = s.recv(65536)
            assert data, "the connection was closed before the forwarded reply"
            for ev in conn.receive_data(data):
                if isinstance(ev, h2.events.ResponseReceived):
                    status = dict(ev.headers)[b":status"]
                elif isinstance(ev, h2.events.DataReceived):
                    body += ev.data
                    conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                elif isinstance(ev, h2.events.StreamEnded):
                    ended = True
            s.sendall(conn.data_to_send())
        s.close()
        assert status == b"200"
        m = dns.message.from_wire(body)
        assert m.rcode() == dns.rcode.NOERROR and m.answer[0][0].address == "192.0.2.125"
    finally:
        d.release()
        up.stop()
        up.release()


# ---- counters -----------------------------------------------------------------------------------

def stats_totals(d, want_doh, timeout=WAIT_LONG):
    """The totals once the workers have published at least want_doh DoH queries."""
    deadline = time.monotonic() + timeout
    while True:
        r = d.srv.cli("--json", "stats")
        assert r.returncode == 0, r.stderr
        totals = json.loads(r.stdout)["data"]["totals"]
        if totals["doh"] >= want_doh or time.monotonic() > deadline:
            return totals
        time.sleep(0.3)


def test_stats_count_doh_queries_tls_connections_and_http_errors(doh):
    ok = b64(wire("www.example.com"))
    for version in ("--http2", "--http1.1"):
        assert_www_answer(*doh.curl(version, url=doh.url + "?dns=" + ok))
    assert_www_answer(*doh.curl(http=True, url="http://127.0.0.1:%d/dns-query?dns=%s"
                                % (doh.http_port, ok)))
    assert doh.curl(url=doh.url + "?dns=***")[0] == 400
    assert doh.curl("--http1.1", url=doh.url.replace("dns-query", "x"))[0] == 404
    # A TLS handshake that fails: plain HTTP sent to the TLS port.
    s = socket.create_connection(("127.0.0.1", doh.https_port))
    s.sendall(b"GET /dns-query HTTP/1.1\r\nHost: x\r\n\r\n")
    recv_all(s)
    s.close()
    t = wait_for(lambda: (lambda x: x if x["tls_failed"] >= 2 and x["http_errors"] >= 2
                          else None)(stats_totals(doh, 3)),
                 timeout=WAIT_LONG, what="the failed handshake and HTTP errors in the stats")
    assert t["doh"] == 3
    assert t["http_errors"] == 2
    # Four curl connections, the plain-HTTP one and the start-up probe (a connect and close,
    # wait_tcp); the last two failed their handshakes.
    assert t["tls_accepted"] == 6 and t["tls_failed"] == 2, t


def test_h2_client_half_closing_with_an_unfinished_stream_is_hung_up_on(doh):
    # A stream still waiting for its request body can never finish once the client has shut
    # its sending side: the connection must close, not hold a connection slot for ever.
    s = socket.create_connection(("127.0.0.1", doh.http_port))
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    conn.send_headers(1, [(":method", "POST"), (":scheme", "http"),
                          (":authority", "127.0.0.1"), (":path", "/dns-query"),
                          ("content-type", CTYPE)], end_stream=False)
    s.sendall(conn.data_to_send())
    s.shutdown(socket.SHUT_WR)
    _, closed = recv_all(s, timeout=5.0)
    s.close()
    assert closed, "tdnsd kept a half-closed HTTP/2 connection with an unfinished stream"
    # The server still serves others.
    st, hd, body = doh.curl("--http2-prior-knowledge", url="http://127.0.0.1:%d/dns-query?dns=%s"
                            % (doh.http_port, b64(wire("www.example.com"))))
    assert_www_answer(st, hd, body)
