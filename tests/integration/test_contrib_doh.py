# SPDX-License-Identifier: MIT
"""contrib/ for DoH and DoT: nginx-doh.conf run by a real nginx in front of tdnsd's plain-HTTP
listener (kdig +https and curl through it, the client address carried by X-Real-IP, upstream
keep-alive), the trusted-proxies rule on that listener, and certbot-deploy-hook, whose PEM
and PKCS#12 output tdnsd serves over DoT and swaps in by itself when the hook runs again."""
import base64
import json
import os
import shutil
import socket
import ssl
import stat
import struct
import subprocess
import time

import dns.message
import dns.rcode
import pytest

from conftest import server_with_ports
from helpers import WAIT_LONG, Daemon, start_retrying, wait_tcp
from upstreams import Pki, openssl

SRCDIR = os.environ.get("TDNS_SRCDIR") or os.path.join(os.path.dirname(__file__), "..", "..")
NGINX_CONF = os.path.join(SRCDIR, "contrib", "nginx-doh.conf")
HOOK = os.path.join(SRCDIR, "contrib", "certbot-deploy-hook")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
TLS_NAME = "dns.test"

ZONE = """$ORIGIN example.com.
$TTL 3600
@     IN SOA ns1 hostmaster 2024010101 7200 3600 1209600 300
@        NS  ns1
ns1      A   192.0.2.53
www      A   192.0.2.80
loop     A   127.0.0.1
"""


def require(*tools):
    for tool in tools:
        if shutil.which(tool) is None and not os.access(tool, os.X_OK):
            pytest.fail("%s is needed (Debian packages nginx-light, knot-dnsutils, curl, "
                        "openssl)" % tool, pytrace=False)


def cli_json(s, *args):
    r = s.cli("--json", *args)
    assert r.returncode == 0, "tdns-cli %s: %s%s" % (" ".join(args), r.stdout, r.stderr)
    return json.loads(r.stdout)["data"]


def query_log(s):
    return cli_json(s, "log", "show", "--queries", "--count", "1000")["entries"]


# ---- certificates: a test CA and certbot-like lineages signed by it ---------------------------

def issue(pki, lineage):
    """Writes LINEAGE/fullchain.pem (server certificate + CA) and privkey.pem, as certbot does,
    with a new key and serial each time; returns the server certificate in DER."""
    os.makedirs(lineage, exist_ok=True)
    d = pki.dir
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", os.path.join(lineage, "privkey.pem"), "-out", "lineage.csr",
            "-subj", "/CN=" + TLS_NAME, cwd=d)
    leaf = os.path.join(d, "lineage-cert.pem")
    openssl("x509", "-req", "-in", "lineage.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-set_serial", str(int.from_bytes(os.urandom(8), "big")), "-out", leaf,
            "-days", "2", "-extfile", "ext.cnf", cwd=d)
    with open(leaf) as f:
        pem = f.read()
    with open(pki.ca) as f:
        ca = f.read()
    with open(os.path.join(lineage, "fullchain.pem"), "w") as f:
        f.write(pem + ca)
    return ssl.PEM_cert_to_DER_cert(pem)


@pytest.fixture
def pki(tmp_path):
    require("openssl")
    return Pki(str(tmp_path))


# ---- nginx with contrib/nginx-doh.conf ---------------------------------------------------------

def render_site(https_port, upstream_port, cert, key):
    """contrib/nginx-doh.conf with loopback ports and the test certificate; every value
    replaced must be in the file exactly once, as its comments promise."""
    with open(NGINX_CONF) as f:
        text = f.read()
    subs = [("listen 443 ssl http2;", "listen 127.0.0.1:%d ssl http2;" % https_port),
            ("listen [::]:443 ssl http2;", "listen [::1]:%d ssl http2;" % https_port),
            ("server 127.0.0.1:8053;", "server 127.0.0.1:%d;" % upstream_port),
            ("server_name dns.example.com;", "server_name %s;" % TLS_NAME),
            ("/etc/letsencrypt/live/dns.example.com/fullchain.pem", cert),
            ("/etc/letsencrypt/live/dns.example.com/privkey.pem", key)]
    for old, new in subs:
        assert text.count(old) == 1, "contrib/nginx-doh.conf should hold %r once" % old
        text = text.replace(old, new)
    return text


class Nginx(Daemon):
    """nginx -p DIR in the foreground with contrib/nginx-doh.conf as its only site."""

    name = "nginx"
    log_files = ("stderr.log", "error.log")

    def __init__(self, base, upstream_port, cert, key):
        super().__init__(os.path.join(base, "nginx"))
        self.upstream_port, self.cert, self.key = upstream_port, cert, key
        start_retrying(self.start)

    def start(self):
        """Starts nginx on a new locked port (PortClash when another program took it)."""
        self.port = self.lock_ports()[0]
        site = os.path.join(self.dir, "tdns-doh.conf")
        with open(site, "w") as f:
            f.write(render_site(self.port, self.upstream_port, self.cert, self.key))
        temps = "".join("\t%s_temp_path %s/%s;\n" % (t, self.dir, t)
                        for t in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        # As root, nginx's workers would become nobody, who cannot enter pytest's 0700
        # directories; they stay root here (a test on loopback only).
        user = "user root root;\n" if os.geteuid() == 0 else ""
        self.conf = os.path.join(self.dir, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write("%sworker_processes 1;\nevents {\n\tworker_connections 256;\n}\n"
                    "http {\n\taccess_log %s/access.log;\n%s\tinclude %s;\n}\n"
                    % (user, self.dir, temps, site))
        self.error_log = os.path.join(self.dir, "error.log")
        self.launch([NGINX, "-p", self.dir + "/", "-c", self.conf, "-g",
                     "daemon off; pid %s/nginx.pid; error_log %s info;"
                     % (self.dir, self.error_log)])
        # Only the master runs from here, by PID; it stops its workers on SIGTERM (kill()).
        wait_tcp(self.port, self.proc, "nginx", self.log)


@pytest.fixture
def front(make_server, pki, tmp_path):
    """tdnsd with [doh] http-listen (and no TLS at all) behind nginx on a loopback port."""
    require(NGINX, "kdig", "curl")
    s, (http,) = server_with_ports(make_server, 1, "[doh]\nhttp-listen = 127.0.0.1:%d\n".__mod__,
                                   zones={"example.com": ZONE})
    lineage = os.path.join(str(tmp_path), "live", TLS_NAME)
    issue(pki, lineage)
    ng = Nginx(str(tmp_path), http.port, os.path.join(lineage, "fullchain.pem"),
               os.path.join(lineage, "privkey.pem"))
    s.http_port = http.port
    yield s, ng, pki
    ng.stop()
    http.release()


def wire_query(name, rdtype="A"):
    q = dns.message.make_query(name, rdtype)
    q.id = 0  # RFC 8484 section 4.1: ID 0 makes GET requests cacheable.
    return q


def kdig_https(ng, pki, name, source):
    r = subprocess.run(["kdig", "@127.0.0.1", "-p", str(ng.port), "-b", source,
                        "+https=/dns-query", "+tls-ca=" + pki.ca, "+tls-hostname=" + TLS_NAME,
                        "+timeout=5", "+retry=0", name, "A"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr + ng.log()
    return r.stdout


def curl(args, timeout=30):
    r = subprocess.run(["curl", "-sS", "--max-time", "10"] + args, capture_output=True,
                       timeout=timeout)
    assert r.returncode == 0, "curl %s: %s" % (" ".join(args), r.stderr.decode(errors="replace"))
    return r.stdout


def curl_post(ng, pki, name, source, version="--http2", headers=()):
    """POSTs an application/dns-message through nginx; returns the parsed answer."""
    args = [version, "--cacert", pki.ca, "--resolve", "%s:%d:127.0.0.1" % (TLS_NAME, ng.port),
            "--interface", source, "-H", "content-type: application/dns-message",
            "--data-binary", "@-", "https://%s:%d/dns-query" % (TLS_NAME, ng.port)]
    for h in headers:
        args[:0] = ["-H", h]
    r = subprocess.run(["curl", "-sS", "--fail", "--max-time", "10"] + args,
                       input=wire_query(name).to_wire(), capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr.decode(errors="replace") + ng.log()
    return dns.message.from_wire(r.stdout)


def entries_for(s, name, n, timeout=WAIT_LONG):
    """The query-log entries for NAME, once there are at least N of them."""
    deadline = time.monotonic() + timeout
    while True:
        got = [e for e in query_log(s) if e["name"] == name]
        if len(got) >= n or time.monotonic() > deadline:
            return got
        time.sleep(0.1)


def test_kdig_https_through_nginx_gets_the_answer_and_the_client_address(front):
    s, ng, pki = front
    out = kdig_https(ng, pki, "www.example.com", "127.0.0.9")
    assert "192.0.2.80" in out and "NOERROR" in out, out
    # nginx saw the client as 127.0.0.9 and said so in X-Real-IP; tdnsd itself was
    # reached from 127.0.0.1 (nginx), a trusted proxy by default.
    e = entries_for(s, "www.example.com.", 1)
    assert len(e) == 1, query_log(s)
    assert e[0]["client"] == "127.0.0.9"
    assert e[0]["transport"] == "doh" and e[0]["rcode"] == "NOERROR"


@pytest.mark.parametrize("version", ["--http2", "--http1.1"])
def test_curl_post_through_nginx_over_http2_and_http1(front, version):
    s, ng, pki = front
    r = curl_post(ng, pki, "www.example.com", "127.0.0.10", version)
    assert r.rcode() == dns.rcode.NOERROR
    assert [rr.address for rr in r.answer[0]] == ["192.0.2.80"]
    r = curl_post(ng, pki, "nothere.example.com", "127.0.0.10", version)
    assert r.rcode() == dns.rcode.NXDOMAIN
    e = entries_for(s, "www.example.com.", 1) + entries_for(s, "nothere.example.com.", 1)
    assert [x["client"] for x in e] == ["127.0.0.10", "127.0.0.10"]


def test_curl_get_and_json_through_nginx(front):
    s, ng, pki = front
    base = "https://%s:%d/dns-query" % (TLS_NAME, ng.port)
    common = ["--cacert", pki.ca, "--resolve", "%s:%d:127.0.0.1" % (TLS_NAME, ng.port),
              "--fail"]
    b64 = base64.urlsafe_b64encode(wire_query("www.example.com").to_wire()).rstrip(b"=")
    out = curl(common + ["-H", "accept: application/dns-message",
                         base + "?dns=" + b64.decode()])
    r = dns.message.from_wire(out)
    assert [rr.address for rr in r.answer[0]] == ["192.0.2.80"]
    # The query string passes through nginx unchanged, for JSON answers too.
    out = curl(common + ["-H", "accept: application/dns-json",
                         base + "?name=www.example.com&type=A"])
    doc = json.loads(out)
    assert doc["Status"] == 0 and doc["Answer"][0]["data"] == "192.0.2.80"
    # Another path never reaches tdnsd.
    r = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert",
                        pki.ca, "--resolve", "%s:%d:127.0.0.1" % (TLS_NAME, ng.port),
                        "https://%s:%d/other" % (TLS_NAME, ng.port)],
                       capture_output=True, text=True, timeout=30)
    assert r.stdout == "404"


def test_curl_doh_url_resolves_through_nginx(front):
    s, ng, pki = front
    # curl resolves loop.example.com (which only our zone has) over DoH through nginx, then
    # fetches from that address: tdnsd's http-listen itself, which answers 400 to a bare GET.
    out = curl(["-4", "--doh-url", "https://%s:%d/dns-query" % (TLS_NAME, ng.port),
                "--resolve", "%s:%d:127.0.0.1" % (TLS_NAME, ng.port), "--cacert", pki.ca,
                "-o", "/dev/null", "-w", "%{remote_ip} %{http_code}",
                "http://loop.example.com:%d/dns-query" % s.http_port])
    assert out.decode() == "127.0.0.1 400"
    e = entries_for(s, "loop.example.com.", 1)
    assert e and all(x["transport"] == "doh" and x["qtype"] == "A" for x in e), e


def test_a_forged_forwarded_for_does_not_pass_through_nginx(front):
    s, ng, pki = front
    # The client's own X-Forwarded-For is kept, but nginx appends the real address (and sets
    # X-Real-IP): tdnsd logs the client nginx saw, not the forged one.
    curl_post(ng, pki, "www.example.com", "127.0.0.12",
              headers=["X-Forwarded-For: 198.51.100.66", "X-Real-IP: 198.51.100.67"])
    e = entries_for(s, "www.example.com.", 1)
    assert [x["client"] for x in e] == ["127.0.0.12"]


def test_nginx_keeps_its_upstream_connection_alive(front):
    s, ng, pki = front
    n = 8
    for i in range(n):
        # A new client connection (and TLS handshake) to nginx each time.
        curl_post(ng, pki, "www.example.com", "127.0.0.%d" % (20 + i), "--http1.1")
    deadline = time.monotonic() + WAIT_LONG
    while True:
        totals = cli_json(s, "stats")["totals"]
        if totals["doh"] >= n or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert totals["doh"] == n
    # One nginx worker: all eight went over one kept-alive HTTP/1.1 connection.
    assert totals["tcp_accepted"] == 1, totals


# ---- the trusted-proxies rule of the plain-HTTP listener ----------------------------------------

def direct_get(port, name, headers):
    b64 = base64.urlsafe_b64encode(wire_query(name).to_wire()).rstrip(b"=").decode()
    args = ["--fail"]
    for h in headers:
        args += ["-H", h]
    out = curl(args + ["http://127.0.0.1:%d/dns-query?dns=%s" % (port, b64)])
    return dns.message.from_wire(out)


@pytest.mark.parametrize("proxies,expect", [
    (None, "198.51.100.7"),                  # the default, 127.0.0.0/8 and ::1: trusted
    ("10.0.0.0/8", "127.0.0.1"),             # 127.0.0.1 is no trusted proxy: header ignored
])
def test_http_listen_takes_the_client_from_trusted_proxies_only(make_server, proxies, expect):
    require("curl")
    extra = "[doh]\nhttp-listen = 127.0.0.1:%d\n"
    if proxies is not None:
        extra += "trusted-proxies = %s\n" % proxies
    s, (http,) = server_with_ports(make_server, 1, extra.__mod__, zones={"example.com": ZONE})
    try:
        r = direct_get(http.port, "www.example.com", ["X-Forwarded-For: 198.51.100.7"])
        assert r.rcode() == dns.rcode.NOERROR
        # The last X-Forwarded-For entry is the one the proxy added.
        r = direct_get(http.port, "ns1.example.com",
                       ["X-Forwarded-For: 203.0.113.5, 198.51.100.7"])
        assert r.rcode() == dns.rcode.NOERROR
        e = entries_for(s, "www.example.com.", 1) + entries_for(s, "ns1.example.com.", 1)
        assert [x["client"] for x in e] == [expect, expect], e
    finally:
        http.release()


# ---- contrib/certbot-deploy-hook -----------------------------------------------------------------

def run_hook(lineage, tdns_dir, **env):
    e = dict(os.environ, TDNS_DIR=tdns_dir)
    e.pop("TDNS_PKCS12", None)
    e.pop("TDNS_CERT_NAME", None)
    if lineage is not None:
        e["RENEWED_LINEAGE"] = lineage
    else:
        e.pop("RENEWED_LINEAGE", None)
    e.update(env)
    # /bin/sh: on Debian dash, the strictest of the usual POSIX shells.
    return subprocess.run(["/bin/sh", HOOK], env=e, capture_output=True, text=True,
                          timeout=60)


def group_exists(name):
    r = subprocess.run(["getent", "group", name], capture_output=True)
    return r.returncode == 0


def expected_mode():
    return 0o640 if group_exists("tdns") else 0o600


def read(path):
    with open(path, "rb") as f:
        return f.read()


def test_certbot_hook_installs_the_pem_files(pki, tmp_path):
    lineage = os.path.join(str(tmp_path), "live", TLS_NAME)
    issue(pki, lineage)
    tdns_dir = os.path.join(str(tmp_path), "etc-tdns")  # does not exist yet
    r = run_hook(lineage, tdns_dir)
    assert r.returncode == 0, r.stderr
    for name in ("fullchain.pem", "privkey.pem"):
        path = os.path.join(tdns_dir, name)
        assert read(path) == read(os.path.join(lineage, name))
        assert stat.S_IMODE(os.stat(path).st_mode) == expected_mode()
    # Nothing else: the temporary files were renamed into place.
    assert sorted(os.listdir(tdns_dir)) == ["fullchain.pem", "privkey.pem"]

    # A renewal replaces both files by new inodes (a rename, never a rewrite in place).
    inode = os.stat(os.path.join(tdns_dir, "fullchain.pem")).st_ino
    issue(pki, lineage)
    assert run_hook(lineage, tdns_dir).returncode == 0
    assert read(os.path.join(tdns_dir, "privkey.pem")) == \
        read(os.path.join(lineage, "privkey.pem"))
    assert os.stat(os.path.join(tdns_dir, "fullchain.pem")).st_ino != inode
    assert sorted(os.listdir(tdns_dir)) == ["fullchain.pem", "privkey.pem"]


def test_certbot_hook_skips_other_lineages_and_fails_without_one(pki, tmp_path):
    lineage = os.path.join(str(tmp_path), "live", TLS_NAME)
    issue(pki, lineage)
    tdns_dir = os.path.join(str(tmp_path), "etc-tdns")
    os.makedirs(tdns_dir)
    r = run_hook(lineage, tdns_dir, TDNS_CERT_NAME="other.example")
    assert r.returncode == 0 and os.listdir(tdns_dir) == []
    r = run_hook(None, tdns_dir)
    assert r.returncode == 1 and "RENEWED_LINEAGE" in r.stderr
    r = run_hook(os.path.join(str(tmp_path), "live", "missing"), tdns_dir)
    assert r.returncode == 1 and "cannot read" in r.stderr
    # PKCS#12 without a password file: an error, and no file left behind.
    r = run_hook(lineage, tdns_dir, TDNS_PKCS12="1")
    assert r.returncode == 1 and "server.pfx.pass" in r.stderr
    assert os.listdir(tdns_dir) == []


def dot_session(port, ca):
    ctx = ssl.create_default_context(cafile=ca)
    sock = socket.create_connection(("127.0.0.1", port), 5)
    tls = ctx.wrap_socket(sock, server_hostname=TLS_NAME)
    return tls


def dot_query(tls, name):
    wire = dns.message.make_query(name, "A").to_wire()
    tls.sendall(struct.pack("!H", len(wire)) + wire)
    buf = b""
    while len(buf) < 2 or len(buf) < 2 + struct.unpack("!H", buf[:2])[0]:
        chunk = tls.recv(4096)
        assert chunk, "DoT connection closed"
        buf += chunk
    return dns.message.from_wire(buf[2:2 + struct.unpack("!H", buf[:2])[0]])


def peer_der(port, ca):
    tls = dot_session(port, ca)
    try:
        return tls.getpeercert(binary_form=True)
    finally:
        tls.close()


@pytest.mark.parametrize("pkcs12", [False, True], ids=["pem", "pkcs12"])
def test_certbot_hook_output_serves_dot_and_rotates_without_restart(make_server, pki, tmp_path,
                                                                     pkcs12):
    require("kdig", "openssl")
    lineage = os.path.join(str(tmp_path), "live", TLS_NAME)
    first = issue(pki, lineage)
    tdns_dir = os.path.join(str(tmp_path), "etc-tdns")
    os.makedirs(tdns_dir)
    env = {}
    if pkcs12:
        env["TDNS_PKCS12"] = "1"
        pass_file = os.path.join(tdns_dir, "server.pfx.pass")
        with open(pass_file, "w") as f:
            f.write("s3cret pass phrase\n")
        os.chmod(pass_file, 0o600)
    r = run_hook(lineage, tdns_dir, **env)
    assert r.returncode == 0, r.stderr
    if pkcs12:
        pfx = os.path.join(tdns_dir, "server.pfx")
        assert stat.S_IMODE(os.stat(pfx).st_mode) == expected_mode()
        r = subprocess.run(["openssl", "pkcs12", "-info", "-noout", "-in", pfx,
                            "-passin", "file:" + pass_file], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        r = subprocess.run(["openssl", "pkcs12", "-info", "-noout", "-in", pfx,
                            "-passin", "pass:wrong"], capture_output=True, text=True)
        assert r.returncode != 0
        # The whole of fullchain.pem went in: the server certificate and the chain.
        r = subprocess.run(["openssl", "pkcs12", "-in", pfx, "-nokeys", "-passin",
                            "file:" + pass_file], capture_output=True, text=True)
        assert r.returncode == 0 and r.stdout.count("BEGIN CERTIFICATE") == 2, r.stderr
        tls_conf = "certificate = %s\npassword-file = %s\n" % (pfx, pass_file)
    else:
        tls_conf = "certificate = %s\nkey = %s\n" % (os.path.join(tdns_dir, "fullchain.pem"),
                                                     os.path.join(tdns_dir, "privkey.pem"))

    s, (dot,) = server_with_ports(
        make_server, 1, lambda p: "[tls]\n%s[dot]\nlisten = 127.0.0.1:%d\n" % (tls_conf, p),
        zones={"example.com": ZONE})
    try:
        r = subprocess.run(["kdig", "@127.0.0.1", "-p", str(dot.port), "+tls",
                            "+tls-ca=" + pki.ca, "+tls-hostname=" + TLS_NAME, "+timeout=5",
                            "+retry=0", "www.example.com", "A"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0 and "192.0.2.80" in r.stdout, r.stdout + r.stderr + s.log()
        assert peer_der(dot.port, pki.ca) == first

        # A client that stays connected across the renewal.
        held = dot_session(dot.port, pki.ca)
        assert dot_query(held, "www.example.com").rcode() == dns.rcode.NOERROR

        second = issue(pki, lineage)
        assert second != first
        r = run_hook(lineage, tdns_dir, **env)
        assert r.returncode == 0, r.stderr
        deadline = time.monotonic() + WAIT_LONG
        while peer_der(dot.port, pki.ca) != second:
            assert time.monotonic() < deadline, "new certificate not served:\n" + s.log()
            time.sleep(0.2)
        assert "TLS certificate reloaded" in s.log()
        # The held connection kept working through the swap, with its old certificate.
        assert held.getpeercert(binary_form=True) == first
        assert dot_query(held, "ns1.example.com").rcode() == dns.rcode.NOERROR
        held.close()
        r = subprocess.run(["kdig", "@127.0.0.1", "-p", str(dot.port), "+tls",
                            "+tls-ca=" + pki.ca, "+tls-hostname=" + TLS_NAME, "+timeout=5",
                            "+retry=0", "www.example.com", "A"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0 and "192.0.2.80" in r.stdout, r.stdout + r.stderr
    finally:
        dot.release()
