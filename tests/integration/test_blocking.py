# SPDX-License-Identifier: MIT
"""Blocking (issue 18): block and allow lists, each mode with EDE 15, subdomains, bypass by client
address, the Firefox canary, reload swapping the lists, custom names kept across a restart."""
import json
import os
import subprocess

import dns.edns
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from helpers import WAIT_LONG, wait_for

LIST = """# a hosts file, a domain list and Adblock rules mixed, one malformed line
0.0.0.0 ads.example.com
127.0.0.1 tracker.test pixel.test
||adblock.test^
@@||fine.adblock.test^
plain.test
this line is malformed
"""

ALLOW = "good.ads.example.com\n"


def blocking_conf(srv_dir, mode="nxdomain", extra=""):
    lists = os.path.join(srv_dir, "block.txt")
    allow = os.path.join(srv_dir, "allow.txt")
    return ("[blocking]\nenabled = yes\nlists = %s\nallow-lists = %s\nmode = %s\nttl = 30\n%s"
            % (lists, allow, mode, extra))


@pytest.fixture
def blocking_server(make_server, tmp_path):
    """A server that blocks with LIST and ALLOW; make(mode=..., extra=...) starts one."""
    def make(mode="nxdomain", extra=""):
        d = tmp_path / ("lists-%s" % len(os.listdir(tmp_path)))
        d.mkdir()
        (d / "block.txt").write_text(LIST)
        (d / "allow.txt").write_text(ALLOW)
        srv = make_server(extra=blocking_conf(str(d), mode, extra))
        srv.lists = str(d)
        return srv
    return make


def ede_codes(r):
    return [o.code for o in r.options if o.otype == dns.edns.EDE]


def dig(srv, name, rdtype="A", source=None):
    argv = ["dig", "@127.0.0.1", "-p", str(srv.port), "+time=3", "+tries=1", name, rdtype]
    if source:
        argv[1:1] = ["-b", source]
    return subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout


def test_nxdomain_mode_answers_with_ede_15_and_the_soa_of_a_synthetic_zone(blocking_server):
    srv = blocking_server("nxdomain")
    r = srv.query("ads.example.com", edns=0)
    assert r.rcode() == dns.rcode.NXDOMAIN
    assert ede_codes(r) == [15]
    soa = r.authority[0]
    assert soa.rdtype == dns.rdatatype.SOA and soa.name.to_text() == "ads.example.com."
    assert soa.ttl == 30 and soa[0].minimum == 30
    out = dig(srv, "ads.example.com")
    assert "status: NXDOMAIN" in out
    assert "EDE: 15 (Blocked)" in out, out
    # The log says what was loaded, and where the malformed line is.
    assert "block.txt:7: several words" in srv.log()
    assert "5 blocked and 2 allowed names" in srv.log()


@pytest.mark.parametrize("mode, rcode, a, aaaa", [
    ("nodata", dns.rcode.NOERROR, None, None),
    ("null", dns.rcode.NOERROR, "0.0.0.0", "::"),
    ("address:192.0.2.7,2001:db8::7", dns.rcode.NOERROR, "192.0.2.7", "2001:db8::7"),
    ("address:192.0.2.7", dns.rcode.NOERROR, "192.0.2.7", None),
    ("refused", dns.rcode.REFUSED, None, None),
])
def test_each_mode_answers_blocked_names_as_configured(blocking_server, mode, rcode, a, aaaa):
    srv = blocking_server(mode)
    for rdtype, want in (("A", a), ("AAAA", aaaa), ("MX", None)):
        r = srv.query("x.tracker.test", rdtype, edns=0)
        assert r.rcode() == rcode, (mode, rdtype)
        assert ede_codes(r) == [15], (mode, rdtype)
        if want is not None:
            assert [rd.to_text() for rrs in r.answer for rd in rrs] == [want]
            assert r.answer[0].ttl == 30
            assert not r.authority
        else:
            assert not r.answer
            # Negative answers carry the synthetic SOA, refusals nothing.
            assert len(r.authority) == (0 if mode == "refused" else 1), (mode, rdtype)
        out = dig(srv, "x.tracker.test", rdtype)
        assert "EDE: 15 (Blocked)" in out, out
        assert "status: %s" % dns.rcode.to_text(rcode) in out


def test_subdomains_are_blocked_and_allow_entries_win(blocking_server):
    srv = blocking_server()
    for name in ("ads.example.com", "deep.sub.ads.example.com", "ADS.Example.COM",
                 "pixel.test", "x.adblock.test", "plain.test"):
        assert srv.query(name).rcode() == dns.rcode.NXDOMAIN, name
    # The allow list and the @@ exception beat the blocks above them; parents stay open.
    for name in ("good.ads.example.com", "x.good.ads.example.com", "fine.adblock.test",
                 "example.com", "test", "xads.example.com"):
        assert srv.query(name).rcode() == dns.rcode.REFUSED, name


def test_bypass_clients_are_never_blocked(blocking_server):
    srv = blocking_server(extra="bypass = 127.0.0.2/32\n")
    assert "status: NXDOMAIN" in dig(srv, "ads.example.com", source="127.0.0.1")
    out = dig(srv, "ads.example.com", source="127.0.0.2")
    assert "status: REFUSED" in out and "EDE: 15" not in out, out
    q = dns.message.make_query("ads.example.com", "A")
    r = dns.query.udp(q, "127.0.0.1", port=srv.port, timeout=3, source="127.0.0.2")
    assert r.rcode() == dns.rcode.REFUSED
    r = srv.cli("block", "check", "ads.example.com", "--client", "127.0.0.2")
    assert r.returncode == 1 and "bypass" in r.stdout, r
    r = srv.cli("block", "check", "ads.example.com", "--client", "127.0.0.1")
    assert r.returncode == 0, r


def test_firefox_canary_answers_nxdomain_only_while_blocking_is_enabled(make_server, tmp_path):
    srv = make_server(extra="[blocking]\nenabled = yes\n")
    r = srv.query("use-application-dns.net")
    assert r.rcode() == dns.rcode.NXDOMAIN
    assert r.authority[0].rdtype == dns.rdatatype.SOA
    off = make_server(extra="[blocking]\nenabled = no\n")
    assert off.query("use-application-dns.net").rcode() == dns.rcode.REFUSED


def test_blocked_answers_are_counted_in_stats(blocking_server):
    srv = blocking_server()
    for _ in range(3):
        srv.query("ads.example.com")

    def blocked():
        d = json.loads(srv.cli("--json", "stats").stdout)["data"]
        return d["kinds"]["blocked"] >= 3
    wait_for(blocked, timeout=WAIT_LONG, what="3 blocked answers in the stats")


def test_query_log_marks_blocked_entries_with_list_line_group_and_ede(blocking_server):
    srv = blocking_server()
    assert srv.cli("block", "add", "custom.test").returncode == 0
    srv.query("x.tracker.test")
    srv.query("www.custom.test")
    srv.query("use-application-dns.net")
    srv.query("good.ads.example.com")

    def entries():
        d = json.loads(srv.cli("--json", "log", "show", "--queries").stdout)["data"]
        got = {e["name"]: e for e in d["entries"]}
        return got if "use-application-dns.net." in got and "good.ads.example.com." in got \
            else None
    got = wait_for(entries, timeout=WAIT_LONG, what="the four queries in the query log")
    e = got["x.tracker.test."]
    assert e["kind"] == "blocked" and e["ede"] == 15, e
    assert e["block"] == {"list": os.path.join(srv.lists, "block.txt"), "line": 3,
                          "group": None}, e
    e = got["www.custom.test."]
    assert e["block"] == {"list": "custom block", "line": 1, "group": None}, e
    e = got["use-application-dns.net."]
    assert e["kind"] == "blocked" and e["block"]["list"] is None and "ede" not in e, e
    # An allowed name is no block: no mark.
    e = got["good.ads.example.com."]
    assert e["kind"] != "blocked" and "block" not in e and e.get("ede") != 15, e
    out = srv.cli("log", "show", "--queries").stdout
    assert " EDE 15 by %s:3" % os.path.join(srv.lists, "block.txt") in out, out
    assert "by the Firefox canary" in out, out
    # The clients of blocked answers have a top list of their own.
    top = json.loads(srv.cli("--json", "stats", "top").stdout)["data"]
    assert {"127.0.0.1"} == {r["key"] for r in top["blocked_clients"]}, top
    assert top["blocked_clients"][0]["count"] == 3, top
    assert "top blocked clients" in srv.cli("stats", "top").stdout


def test_query_log_names_the_group_of_a_blocked_client(blocking_server):
    srv = blocking_server()
    srv.stop()
    kids = os.path.join(srv.lists, "kids.txt")
    with open(kids, "w") as f:
        f.write("# kids\n||games.test^\n")
    with open(srv.conf, "a") as f:
        f.write("\n[blocking-group kids]\nclients = 127.0.0.3/32\nlists = %s\n" % kids)
    srv.start()
    q = dns.message.make_query("x.games.test", "A")
    assert dns.query.udp(q, "127.0.0.1", port=srv.port, timeout=3,
                         source="127.0.0.3").rcode() == dns.rcode.NXDOMAIN

    def entry():
        d = json.loads(srv.cli("--json", "log", "show", "--name", "games.test").stdout)["data"]
        return d["entries"][-1] if d["entries"] else None
    e = wait_for(entry, timeout=WAIT_LONG, what="the blocked query in the query log")
    assert e["client"] == "127.0.0.3" and e["ede"] == 15, e
    assert e["block"] == {"list": kids, "line": 2, "group": "kids"}, e


def test_reload_swaps_the_lists(blocking_server):
    srv = blocking_server()
    assert srv.query("ads.example.com").rcode() == dns.rcode.NXDOMAIN
    with open(os.path.join(srv.lists, "block.txt"), "w") as f:
        f.write("||newly.test^\n")
    srv.reload()
    wait_for(lambda: srv.query("ads.example.com").rcode() == dns.rcode.REFUSED,
             timeout=WAIT_LONG, what="the old list gone after SIGHUP", log=srv.log)
    assert srv.query("a.newly.test").rcode() == dns.rcode.NXDOMAIN
    # The same through the control socket.
    with open(os.path.join(srv.lists, "block.txt"), "w") as f:
        f.write("0.0.0.0 again.test\n")
    r = srv.cli("config", "reload")
    assert r.returncode == 0, r.stderr
    assert srv.query("again.test").rcode() == dns.rcode.NXDOMAIN
    assert srv.query("a.newly.test").rcode() == dns.rcode.REFUSED


def test_custom_block_and_allow_names_survive_a_restart(blocking_server):
    srv = blocking_server()
    r = srv.cli("block", "add", "Custom.Test.")
    assert r.returncode == 0, r.stderr
    assert srv.query("www.custom.test").rcode() == dns.rcode.NXDOMAIN
    assert srv.cli("block", "add", "custom.test").returncode == 1
    assert srv.cli("block", "add", "bad name").returncode == 1
    assert srv.cli("allow", "add", "ads.example.com").returncode == 0
    assert srv.query("ads.example.com").rcode() == dns.rcode.REFUSED
    r = srv.cli("block", "check", "www.custom.test")
    assert r.returncode == 0 and "custom block line 1" in r.stdout, r.stdout
    doc = json.loads(srv.cli("--json", "block", "check", "www.custom.test").stdout)["data"]
    assert doc["blocked"] is True and doc["list"] == "custom block" and doc["line"] == 1
    assert doc["entry"] == "custom.test."
    r = srv.cli("block", "check", "ads.example.com")
    assert r.returncode == 1 and "allowed by custom allow line 1" in r.stdout, r.stdout
    r = srv.cli("block", "check", "tracker.test")
    assert r.returncode == 0 and "block.txt line 3" in r.stdout, r.stdout
    r = srv.cli("block", "list")
    assert r.returncode == 0 and "custom.test" in r.stdout and "block.txt" in r.stdout, r.stdout
    d = json.loads(srv.cli("--json", "allow", "list").stdout)["data"]
    assert d["custom"] == ["ads.example.com"]
    assert [l["list"] for l in d["lists"]] == [os.path.join(srv.lists, "allow.txt")]
    # Written before the reply: a restart keeps them.
    srv.stop()
    srv.start()
    assert srv.query("www.custom.test").rcode() == dns.rcode.NXDOMAIN
    assert srv.query("ads.example.com").rcode() == dns.rcode.REFUSED
    assert srv.cli("allow", "remove", "ads.example.com").returncode == 0
    assert srv.query("ads.example.com").rcode() == dns.rcode.NXDOMAIN
    assert srv.cli("allow", "remove", "ads.example.com").returncode == 1
    assert srv.cli("block", "remove", "custom.test").returncode == 0
    assert srv.query("www.custom.test").rcode() == dns.rcode.REFUSED


def assert_refused(make_server, cases):
    """Each [blocking] text of cases (text, message) stops tdnsd -t with file:line and message."""
    for extra, what in cases:
        srv = make_server(extra="[blocking]\n" + extra, start=False)
        r = subprocess.run([srv.binary, "-t", "-c", srv.conf], capture_output=True, text=True,
                           timeout=30)
        assert r.returncode != 0
        assert "tdnsd.conf:" in r.stderr and what in r.stderr, r.stderr


def test_bad_blocking_config_stops_start_up_with_file_and_line(make_server):
    assert_refused(make_server, (("mode = drop\n", "invalid blocking mode 'drop'"),
                                 ("lists = relative.txt\n", "invalid list 'relative.txt'"),
                                 ("bypass = 10.0.0.0/40\n", "invalid bypass list")))


def test_pause_blocks_nothing_until_resume_or_the_end_of_the_pause(blocking_server):
    srv = blocking_server()
    assert srv.query("ads.example.com").rcode() == dns.rcode.NXDOMAIN
    r = srv.cli("block", "pause", "15m")
    assert r.returncode == 0, r.stderr
    assert srv.query("ads.example.com").rcode() == dns.rcode.REFUSED
    d = json.loads(srv.cli("--json", "block", "list").stdout)["data"]
    assert 890 <= d["paused_seconds"] <= 900, d
    r = srv.cli("block", "check", "ads.example.com")
    assert r.returncode == 1 and "paused" in r.stdout, r.stdout
    assert srv.cli("block", "resume").returncode == 0
    assert srv.query("ads.example.com").rcode() == dns.rcode.NXDOMAIN
    assert srv.cli("block", "pause", "1s").returncode == 0
    assert srv.query("ads.example.com").rcode() == dns.rcode.REFUSED
    wait_for(lambda: srv.query("ads.example.com").rcode() == dns.rcode.NXDOMAIN,
             timeout=WAIT_LONG, what="blocking back after a pause of 1 s", log=srv.log)
    for bad in ("0", "15x", "8d", "-1m", "m"):
        r = srv.cli("block", "pause", bad)
        assert r.returncode == 1 and "invalid duration" in r.stderr, (bad, r.stderr)


def test_groups_give_the_most_specific_clients_their_own_lists_and_mode(blocking_server):
    srv = blocking_server()
    srv.stop()
    kids = os.path.join(srv.lists, "kids.txt")
    lan = os.path.join(srv.lists, "lan.txt")
    with open(kids, "w") as f:
        f.write("||games.test^\n")
    with open(lan, "w") as f:
        f.write("lanonly.test\n")
    with open(srv.conf, "a") as f:
        f.write("\n[blocking-group kids]\nclients = 127.0.0.3/32\nlists = %s\nmode = refused\n"
                "\n[blocking-group lan]\nclients = 127.0.0.0/24\nreplace-lists = yes\n"
                "lists = %s\n" % (kids, lan))
    srv.start()

    def rcode(name, source):
        q = dns.message.make_query(name, "A", use_edns=0)
        r = dns.query.udp(q, "127.0.0.1", port=srv.port, timeout=3, source=source)
        return r.rcode(), 15 in ede_codes(r)
    # 127.0.0.1 is in lan (/24): its list replaces the global ones.
    assert rcode("lanonly.test", "127.0.0.1") == (dns.rcode.NXDOMAIN, True)
    assert rcode("ads.example.com", "127.0.0.1") == (dns.rcode.REFUSED, False)
    # 127.0.0.3 is in kids (/32, more specific than lan): global lists plus its own, its mode.
    assert rcode("ads.example.com", "127.0.0.3") == (dns.rcode.REFUSED, True)
    assert rcode("x.games.test", "127.0.0.3") == (dns.rcode.REFUSED, True)
    assert rcode("lanonly.test", "127.0.0.3") == (dns.rcode.REFUSED, False)
    # 127.0.1.1 is in no group: the global lists and mode.
    assert rcode("ads.example.com", "127.0.1.1") == (dns.rcode.NXDOMAIN, True)
    assert rcode("games.test", "127.0.1.1") == (dns.rcode.REFUSED, False)
    out = dig(srv, "x.games.test", source="127.0.0.3")
    assert "EDE: 15 (Blocked)" in out and "status: REFUSED" in out, out
    r = srv.cli("block", "check", "x.games.test", "--client", "127.0.0.3")
    assert r.returncode == 0 and "kids.txt line 1" in r.stdout and "group kids" in r.stdout, r
    d = json.loads(srv.cli("--json", "block", "list").stdout)["data"]
    assert {(l.get("group"), os.path.basename(l["list"])) for l in d["lists"]} == {
        (None, "block.txt"), ("kids", "kids.txt"), ("lan", "lan.txt")}

