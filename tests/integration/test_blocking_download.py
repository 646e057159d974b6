# SPDX-License-Identifier: MIT
"""Block lists downloaded over http:// and https:// (issue 18): fetched by the daemon from a
server on loopback, refreshed every update-interval with If-None-Match (304 keeps the list), a
failed download keeping the last good copy and reporting its error in `tdns-cli block lists`, a
restart with the server down still blocking from the copy in state-dir/blocking/, and https
checked against the CA given by [blocking] ca-file only."""
import http.server
import json
import os
import ssl
import threading

import dns.rcode
import pytest

from helpers import WAIT_LONG, wait_for
from test_blocking import assert_refused
from upstreams import make_ca, openssl

LIST = """# hosts, domain list and Adblock lines mixed, one malformed
0.0.0.0 ads.example.com
||adblock.test^
plain.test
this line is malformed
"""


class ListServer:
    """An HTTP(S) server on loopback serving lists with ETag and Last-Modified; it answers
    If-None-Match with 304 when the ETag matches, and records every request's headers."""

    def __init__(self, context=None):
        self.files = {}           # path -> [body bytes, etag]
        self.redirects = {}       # path -> Location
        self.requests = []        # (path, {header: value}, status)
        self.lock = threading.Lock()
        self.context = context
        self.port = None
        self.httpd = None

    def put(self, path, text, etag):
        with self.lock:
            self.files[path] = [text.encode(), etag]

    def seen(self, path):
        with self.lock:
            return [r for r in self.requests if r[0] == path]

    def start(self):
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, status, body=b"", headers=()):
                with owner.lock:
                    owner.requests.append((self.path, dict(self.headers), status))
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                with owner.lock:
                    loc = owner.redirects.get(self.path)
                    entry = owner.files.get(self.path)
                if loc is not None:
                    return self.reply(301, headers=[("Location", loc)])
                if entry is None:
                    return self.reply(404, b"not found\n")
                body, etag = entry
                lm = "Tue, 01 Dec 2026 10:00:00 GMT"
                if self.headers.get("If-None-Match") == etag:
                    return self.reply(304, headers=[("ETag", etag)])
                self.reply(200, body, [("ETag", etag), ("Last-Modified", lm),
                                       ("Content-Type", "text/plain")])

        addr = ("127.0.0.1", self.port or 0)
        self.httpd = http.server.ThreadingHTTPServer(addr, Handler)
        if self.context is not None:
            self.httpd.socket = self.context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    def url(self, path, scheme="http"):
        return "%s://127.0.0.1:%d%s" % (scheme, self.port, path)


@pytest.fixture
def list_server():
    servers = []

    def make(context=None):
        s = ListServer(context).start()
        servers.append(s)
        return s
    yield make
    for s in servers:
        s.stop()


@pytest.fixture(scope="module")
def ip_pki(tmp_path_factory):
    """A test CA and a server certificate for the address 127.0.0.1 signed by it."""
    d = str(tmp_path_factory.mktemp("blkpki"))
    ca = make_ca(d, "tdns block list test CA")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1", cwd=d)
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                "extendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf", cwd=d)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(d, "server.pem"), os.path.join(d, "server.key"))
    return ca, ctx


def conf(url, interval="1d", extra=""):
    return ("[blocking]\nenabled = yes\nlists = %s\nupdate-interval = %s\n%s"
            % (url, interval, extra))


def lists(srv):
    r = srv.cli("--json", "block", "lists")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["data"]["lists"]


def blocked(srv, name="ads.example.com"):
    return srv.query(name).rcode() == dns.rcode.NXDOMAIN


def test_url_list_is_downloaded_and_blocks_with_malformed_lines_counted(make_server,
                                                                        list_server):
    web = list_server()
    web.put("/hosts.txt", LIST, '"v1"')
    # Redirects are followed: the configured URL moved.
    web.redirects["/old/hosts.txt"] = "/hosts.txt"
    url = web.url("/old/hosts.txt")
    srv = make_server(extra=conf(url))
    wait_for(lambda: blocked(srv), timeout=WAIT_LONG, what="the downloaded list in force",
             log=srv.log)
    for name in ("x.ads.example.com", "adblock.test", "plain.test"):
        assert blocked(srv, name), name
    assert srv.query("example.com").rcode() == dns.rcode.REFUSED
    assert "%s:5: several words" % url in srv.log()
    row, = lists(srv)
    assert row["source"] == url and row["group"] is None and row["kind"] == "block"
    assert row["names"] == 3 and row["skipped"] == 1 and row["error"] is None, row
    assert row["updated"].endswith("Z") and row["next_update"].endswith("Z"), row
    r = srv.cli("block", "lists")
    assert r.returncode == 0 and url in r.stdout and "NEXT_UPDATE" in r.stdout, r.stdout
    # The copy and its metadata are in the state directory.
    files = sorted(os.listdir(os.path.join(srv.dir, "blocking")))
    assert len(files) == 2 and files[0].endswith(".list") and files[1].endswith(".meta")
    with open(os.path.join(srv.dir, "blocking", files[1])) as f:
        meta = f.read()
    assert "url %s\n" % url in meta and 'etag "v1"\n' in meta, meta


def test_refresh_sends_if_none_match_and_a_304_keeps_the_list(make_server, list_server):
    web = list_server()
    web.put("/l.txt", LIST, '"abc"')
    srv = make_server(extra=conf(web.url("/l.txt"), interval="1s"))
    wait_for(lambda: blocked(srv), timeout=WAIT_LONG, what="the list in force", log=srv.log)
    wait_for(lambda: [r for r in web.seen("/l.txt")
                      if r[1].get("If-None-Match") == '"abc"' and r[2] == 304],
             timeout=WAIT_LONG, what="a conditional GET answered 304", log=srv.log)
    wait_for(lambda: "not modified (HTTP 304)" in srv.log(), timeout=WAIT_LONG,
             what="the 304 taken", log=srv.log)
    assert blocked(srv)
    row, = lists(srv)
    assert row["error"] is None and row["names"] == 3, row
    # A new ETag and body: the next refresh swaps the new list in.
    web.put("/l.txt", "newly.test\n", '"def"')
    wait_for(lambda: blocked(srv, "newly.test"), timeout=WAIT_LONG,
             what="the changed list in force", log=srv.log)
    assert not blocked(srv)


def test_failed_download_and_offline_restart_keep_the_last_good_list(make_server,
                                                                     list_server):
    web = list_server()
    web.put("/l.txt", LIST, '"1"')
    url = web.url("/l.txt")
    srv = make_server(extra=conf(url, interval="1s"))
    wait_for(lambda: blocked(srv), timeout=WAIT_LONG, what="the list in force", log=srv.log)
    web.stop()
    row = wait_for(lambda: [r for r in lists(srv) if r["error"]], timeout=WAIT_LONG,
                   what="the failed download reported", log=srv.log)[0]
    assert url in row["error"] and row["names"] == 3 and row["updated"] is not None, row
    assert blocked(srv)
    # Restart with the server still down: the copy in state-dir blocks before any download.
    srv.stop()
    srv.start()
    assert blocked(srv) and blocked(srv, "plain.test")
    wait_for(lambda: [r for r in lists(srv) if r["error"]], timeout=WAIT_LONG,
             what="the failed download reported after the restart", log=srv.log)
    assert blocked(srv)


def test_https_list_is_checked_against_the_configured_ca(make_server, list_server, ip_pki):
    ca, ctx = ip_pki
    web = list_server(ctx)
    web.put("/l.txt", LIST, '"s"')
    url = web.url("/l.txt", "https")
    srv = make_server(extra=conf(url, extra="ca-file = %s\n" % ca))
    wait_for(lambda: blocked(srv), timeout=WAIT_LONG, what="the https list in force",
             log=srv.log)
    assert lists(srv)[0]["error"] is None
    # Without ca-file the system store does not know the test CA: nothing is downloaded.
    other = make_server(extra=conf(url))
    # Until the first attempt ends the row says "not downloaded yet".
    row = wait_for(lambda: [r for r in lists(other) if "certificate" in (r["error"] or "")],
                   timeout=WAIT_LONG, what="the certificate refused", log=other.log)[0]
    assert row["updated"] is None and row["names"] == 0, row
    assert not blocked(other)


def test_block_update_downloads_now_and_group_lists_take_urls(make_server, list_server):
    web = list_server()
    web.put("/g.txt", "groupname.test\n", '"g1"')
    web.put("/allow.txt", "plain.test\n", '"a1"')
    web.put("/l.txt", LIST, '"1"')
    extra = conf(web.url("/l.txt"), extra="allow-lists = %s\n" % web.url("/allow.txt"))
    extra += "\n[blocking-group kids]\nclients = 127.0.0.0/8\nlists = %s\n" % web.url("/g.txt")
    srv = make_server(extra=extra)
    wait_for(lambda: blocked(srv, "groupname.test"), timeout=WAIT_LONG,
             what="the group's list in force", log=srv.log)
    assert blocked(srv) and not blocked(srv, "plain.test")
    rows = {(r["source"], r["group"], r["kind"]) for r in lists(srv)}
    assert rows == {(web.url("/l.txt"), None, "block"), (web.url("/allow.txt"), None, "allow"),
                    (web.url("/g.txt"), "kids", "block")}, rows
    web.put("/l.txt", "later.test\n", '"2"')
    r = srv.cli("block", "update")
    assert r.returncode == 0, r.stderr
    wait_for(lambda: blocked(srv, "later.test"), timeout=WAIT_LONG,
             what="the list downloaded by block update", log=srv.log)


def test_bad_urls_and_intervals_stop_start_up_with_file_and_line(make_server):
    assert_refused(make_server, (("lists = ftp://example.net/l.txt\n", "invalid list 'ftp://"),
                                 ("lists = https:///l.txt\n", "invalid list 'https:///l.txt'"),
                                 ("update-interval = 0\n", "invalid update-interval '0'"),
                                 ("update-interval = 1w2\n", "invalid update-interval")))


def test_reload_downloads_new_urls_and_forgets_removed_ones(make_server, list_server):
    web = list_server()
    web.put("/a.txt", "first.test\n", '"a"')
    web.put("/b.txt", "second.test\n", '"b"')
    srv = make_server(extra=conf(web.url("/a.txt")))
    wait_for(lambda: blocked(srv, "first.test"), timeout=WAIT_LONG, what="list a in force",
             log=srv.log)
    with open(srv.conf) as f:
        text = f.read()
    srv.write_config(text.replace(web.url("/a.txt"), web.url("/b.txt")))
    r = srv.cli("config", "reload")
    assert r.returncode == 0, r.stderr
    wait_for(lambda: blocked(srv, "second.test"), timeout=WAIT_LONG, what="list b in force",
             log=srv.log)
    assert not blocked(srv, "first.test")
    assert [row["source"] for row in lists(srv)] == [web.url("/b.txt")]
