# SPDX-License-Identifier: MIT
"""Safe search (issue 18): the search engines' names answered with a CNAME to their vendors'
safe endpoint, the endpoint's addresses resolved through a fake upstream on loopback, and
EDE 17 (Filtered); on and off in [blocking] and per [blocking-group] by client address; bypass
clients untouched; a broken table stops start-up with file:line."""
import os
import re
import subprocess

import dns.edns
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from helpers import WAIT_LONG, cli_ok, wait_for
from upstreams import FakeUpstream

SAFE_GOOGLE_A = "216.239.38.120"
SAFE_GOOGLE_AAAA = "2001:4860:4802:32::78"
NORMAL_GOOGLE_A = "142.250.74.36"

RECORDS = [
    "google.com. 3600 IN SOA ns.google.com. dns.google.com. 1 900 900 1800 60",
    "forcesafesearch.google.com. 300 IN A %s" % SAFE_GOOGLE_A,
    "forcesafesearch.google.com. 300 IN AAAA %s" % SAFE_GOOGLE_AAAA,
    "www.google.com. 300 IN A %s" % NORMAL_GOOGLE_A,
    "google.de. 3600 IN SOA ns.google.com. dns.google.com. 1 900 900 1800 60",
    "www.google.de. 300 IN A 142.250.74.99",
    "bing.com. 3600 IN SOA ns.bing.com. dns.bing.com. 1 900 900 1800 60",
    "strict.bing.com. 300 IN A 204.79.197.220",
    "www.bing.com. 300 IN A 13.107.21.200",
    "duckduckgo.com. 3600 IN SOA ns.duckduckgo.com. dns.duckduckgo.com. 1 900 900 1800 60",
    "safe.duckduckgo.com. 300 IN A 52.142.124.215",
    "duckduckgo.com. 300 IN A 52.142.124.200",
    "youtube.com. 3600 IN SOA ns.youtube.com. dns.youtube.com. 1 900 900 1800 60",
    "restrict.youtube.com. 300 IN A 216.239.38.119",
    "www.youtube.com. 300 IN A 142.250.74.46",
    "m.youtube.com. 300 IN A 142.250.74.47",
]


@pytest.fixture
def upstream():
    f = FakeUpstream(RECORDS, tag="safe")
    yield f
    f.release()


def safe_conf(upstream, safe="yes", extra="", table=None):
    if table is None:
        table = os.path.join(os.environ.get("TDNS_SRCDIR", "."), "etc", "safe-search.conf")
    return ("[recursion]\nmode = forward\nallow = 127.0.0.0/8\n\n"
            "[forwarders]\nservers = %s\n\n"
            "[blocking]\nenabled = yes\nttl = 30\nsafe-search = %s\nsafe-search-file = %s\n"
            "bypass = 127.0.0.3/32\n%s" % (upstream.url, safe, table, extra))


def ede_codes(r):
    return [o.code for o in r.options if o.otype == dns.edns.EDE]


def query(srv, name, rdtype="A", source="127.0.0.1"):
    q = dns.message.make_query(name, rdtype, use_edns=0)
    return dns.query.udp(q, "127.0.0.1", port=srv.port, timeout=5, source=source)


def answers(r):
    """The answer section as (owner, type, rdata) texts in lower case (compression may take
    the case of an earlier name), in order."""
    return [(rrs.name.to_text().lower(), dns.rdatatype.to_text(rrs.rdtype), rd.to_text().lower())
            for rrs in r.answer for rd in rrs]


def assert_safe(r, name, endpoint, addrs, rdtype="A"):
    assert r.rcode() == dns.rcode.NOERROR, r
    got = answers(r)
    assert got[0] == (name, "CNAME", endpoint), got
    assert r.answer[0].ttl == 30
    assert sorted(got[1:]) == sorted((endpoint, rdtype, a) for a in addrs), got
    assert ede_codes(r) == [17], r
    assert not r.flags & dns.flags.AD


def assert_normal(r, name, addr):
    assert r.rcode() == dns.rcode.NOERROR, r
    assert answers(r) == [(name, "A", addr)], r
    assert ede_codes(r) == []


def dig(srv, name, rdtype="A", source="127.0.0.1"):
    argv = ["dig", "-b", source, "@127.0.0.1", "-p", str(srv.port), "+time=5", "+tries=1",
            name, rdtype]
    return subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout


def test_safe_search_answers_cname_endpoint_addresses_and_ede_17(make_server, upstream):
    srv = make_server(extra=safe_conf(upstream))
    r = query(srv, "www.google.com")
    assert_safe(r, "www.google.com.", "forcesafesearch.google.com.", [SAFE_GOOGLE_A])
    r = query(srv, "WWW.Google.COM", "AAAA")
    assert r.answer[0].name.to_text() == "WWW.Google.COM."
    assert_safe(r, "www.google.com.", "forcesafesearch.google.com.", [SAFE_GOOGLE_AAAA], "AAAA")
    # A country domain of Google, and the other vendors of the shipped table.
    assert_safe(query(srv, "www.google.de"), "www.google.de.", "forcesafesearch.google.com.",
                [SAFE_GOOGLE_A])
    assert_safe(query(srv, "www.bing.com"), "www.bing.com.", "strict.bing.com.",
                ["204.79.197.220"])
    assert_safe(query(srv, "duckduckgo.com"), "duckduckgo.com.", "safe.duckduckgo.com.",
                ["52.142.124.215"])
    for name in ("www.youtube.com", "m.youtube.com"):
        assert_safe(query(srv, name), name + ".", "restrict.youtube.com.", ["216.239.38.119"])
    # The listed names themselves were never asked upstream: only the endpoints.
    assert upstream.count("www.google.com") == 0
    assert upstream.count("www.bing.com") == 0
    assert upstream.count("forcesafesearch.google.com", "A") == 1
    # The second time from the cache, the same answer.
    assert_safe(query(srv, "www.google.com"), "www.google.com.", "forcesafesearch.google.com.",
                [SAFE_GOOGLE_A])
    assert upstream.count("forcesafesearch.google.com", "A") == 1
    out = dig(srv, "www.google.com")
    assert "EDE: 17 (Filtered)" in out, out
    assert "forcesafesearch.google.com." in out and SAFE_GOOGLE_A in out, out
    # Names the table does not list are resolved as ever.
    assert_normal(query(srv, "forcesafesearch.google.com"), "forcesafesearch.google.com.",
                  SAFE_GOOGLE_A)
    assert re.search(r"safe search: [0-9]{3} names from .*etc/safe-search.conf", srv.log())


def test_cname_and_other_types_get_the_cname(make_server, upstream):
    srv = make_server(extra=safe_conf(upstream))
    r = query(srv, "www.google.com", "CNAME")
    assert answers(r) == [("www.google.com.", "CNAME", "forcesafesearch.google.com.")]
    assert ede_codes(r) == [17]
    # A type the endpoint lacks: the CNAME, then the endpoint's NODATA.
    r = query(srv, "www.google.com", "MX")
    assert r.rcode() == dns.rcode.NOERROR
    assert answers(r) == [("www.google.com.", "CNAME", "forcesafesearch.google.com.")]
    assert ede_codes(r) == [17]


def test_safe_search_off_gives_the_normal_answer(make_server, upstream):
    srv = make_server(extra=safe_conf(upstream, safe="no"))
    assert_normal(query(srv, "www.google.com"), "www.google.com.", NORMAL_GOOGLE_A)
    assert "EDE" not in dig(srv, "www.google.com")
    assert "safe search:" not in srv.log()


def test_groups_turn_safe_search_on_and_off_by_client_address(make_server, upstream):
    groups = ("[blocking-group kids]\nclients = 127.0.0.2/32\nsafe-search = yes\n\n"
              "[blocking-group others]\nclients = 127.0.0.4/32\n\n")
    srv = make_server(extra=safe_conf(upstream, safe="no", extra=groups))
    assert_normal(query(srv, "www.google.com"), "www.google.com.", NORMAL_GOOGLE_A)
    assert_safe(query(srv, "www.google.com", source="127.0.0.2"), "www.google.com.",
                "forcesafesearch.google.com.", [SAFE_GOOGLE_A])
    out = dig(srv, "www.google.com", source="127.0.0.2")
    assert "EDE: 17 (Filtered)" in out and "forcesafesearch.google.com." in out, out
    # A group without the key follows [blocking].
    assert_normal(query(srv, "www.google.com", source="127.0.0.4"), "www.google.com.",
                  NORMAL_GOOGLE_A)


def test_a_group_may_turn_off_what_blocking_turns_on_and_bypass_is_untouched(make_server,
                                                                           upstream):
    groups = "[blocking-group grownups]\nclients = 127.0.0.4/32\nsafe-search = no\n\n"
    srv = make_server(extra=safe_conf(upstream, safe="yes", extra=groups))
    assert_safe(query(srv, "www.google.com"), "www.google.com.", "forcesafesearch.google.com.",
                [SAFE_GOOGLE_A])
    assert_normal(query(srv, "www.google.com", source="127.0.0.4"), "www.google.com.",
                  NORMAL_GOOGLE_A)
    # [blocking] bypass: never blocked, never filtered.
    assert_normal(query(srv, "www.google.com", source="127.0.0.3"), "www.google.com.",
                  NORMAL_GOOGLE_A)
    out = dig(srv, "www.google.com", source="127.0.0.3")
    assert "EDE" not in out and NORMAL_GOOGLE_A in out, out


def test_blocked_names_stay_blocked_and_a_pause_stops_safe_search(make_server, upstream,
                                                                  tmp_path):
    lists = tmp_path / "block.txt"
    lists.write_text("www.bing.com\n")
    srv = make_server(extra=safe_conf(upstream, extra="lists = %s\n" % lists))
    r = query(srv, "www.bing.com")
    assert r.rcode() == dns.rcode.NXDOMAIN and ede_codes(r) == [15]
    cli_ok(srv, "block", "pause", "5m")
    assert_normal(query(srv, "www.google.com"), "www.google.com.", NORMAL_GOOGLE_A)
    cli_ok(srv, "block", "resume")
    assert_safe(query(srv, "www.google.com"), "www.google.com.", "forcesafesearch.google.com.",
                [SAFE_GOOGLE_A])


def test_a_broken_table_stops_start_up_with_file_and_line(make_server, upstream, tmp_path):
    table = tmp_path / "safe.conf"
    table.write_text("# mine\nwww.example.test safe.example.test\nwww.other.test\n")
    srv = make_server(extra=safe_conf(upstream, table=str(table)), start=False)
    # tdnsd -t checks the table too.
    r = subprocess.run([srv.binary, "-t", "-c", srv.conf], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode != 0, r.stdout
    assert "%s:3: one word; expected \"NAME ENDPOINT\"" % table in r.stderr, r.stderr
    srv.start(wait=False)
    srv.proc.wait(timeout=WAIT_LONG)
    assert srv.proc.returncode != 0
    assert "%s:3: one word; expected \"NAME ENDPOINT\"" % table in srv.log()


def test_an_own_table_with_a_wildcard_and_reload_of_a_broken_one(make_server, upstream,
                                                                 tmp_path):
    upstream.add("safe.example.test. 300 IN A 192.0.2.99",
                 "example.test. 3600 IN SOA ns.example.test. h.example.test. 1 900 900 1800 60")
    table = tmp_path / "safe.conf"
    table.write_text("*.search.example.test safe.example.test\n")
    srv = make_server(extra=safe_conf(upstream, table=str(table)))
    assert_safe(query(srv, "www.search.example.test"), "www.search.example.test.",
                "safe.example.test.", ["192.0.2.99"])
    r = query(srv, "search.example.test")
    assert ede_codes(r) == [] and r.rcode() == dns.rcode.NXDOMAIN
    # A reload with a broken table keeps the running one, and says where the error is.
    table.write_text("*.search.example.test safe.example.test\n*.example.test x.test\n")
    srv.cli("config", "reload")
    wait_for(lambda: "%s:2: endpoint safe.example.test. is itself matched" % table in srv.log(),
             timeout=WAIT_LONG, what="the reload's error in the log")
    assert_safe(query(srv, "www.search.example.test"), "www.search.example.test.",
                "safe.example.test.", ["192.0.2.99"])
