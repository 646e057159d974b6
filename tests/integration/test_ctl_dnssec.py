# SPDX-License-Identifier: MIT
"""tdns-cli dnssec status and dnssec nta add|remove|list against tdnsd (issue 16)."""
import json
import os
import time

import pytest

from helpers import WAIT_LONG, wait_for


@pytest.fixture
def srv(make_server):
    return make_server()


def data(srv, *args):
    r = srv.cli("--json", *args)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["data"]


def nta_names(srv):
    return [n["name"] for n in data(srv, "dnssec", "nta", "list")["ntas"]]


def test_status_lists_the_built_in_root_anchors_and_the_counters(srv):
    d = data(srv, "dnssec", "status")
    tags = {(a["owner"], a["type"], a["key_tag"], a["algorithm"]) for a in d["anchors"]}
    assert (".", "DS", 20326, 8) in tags
    assert (".", "DS", 38696, 8) in tags
    # No root DNSKEY set was validated yet: the anchors are as configured.
    assert {a["state"] for a in d["anchors"]} == {"configured"}
    assert d["ntas"] == []
    assert set(d["answers"]) == {"secure", "insecure", "bogus", "indeterminate"}
    r = srv.cli("dnssec", "status")
    assert r.returncode == 0, r.stderr
    assert "20326" in r.stdout and "38696" in r.stdout
    assert "negative trust anchors: none" in r.stdout
    assert "secure" in r.stdout and "bogus" in r.stdout
    # The stats reply carries the same counters, for the TUI.
    assert set(data(srv, "stats")["dnssec"]) == {"secure", "insecure", "bogus",
                                                 "indeterminate"}


def test_nta_add_list_remove(srv):
    r = srv.cli("dnssec", "nta", "add", "Example.COM")
    assert r.returncode == 0, r.stderr
    assert "example.com." in r.stdout.lower() and "added until" in r.stdout
    d = data(srv, "dnssec", "nta", "list")["ntas"]
    assert [n["name"].lower() for n in d] == ["example.com."]
    assert d[0]["source"] == "ctl"
    # BIND's default nta-lifetime: one hour.
    assert 3590 <= d[0]["seconds_left"] <= 3600
    assert d[0]["expires"] - d[0]["added"] == 3600
    r = srv.cli("dnssec", "nta", "list")
    assert r.returncode == 0 and "example.com." in r.stdout.lower(), r.stdout
    assert "example.com." in srv.cli("dnssec", "status").stdout.lower()
    # Kept in the state directory.
    with open(os.path.join(srv.dir, "nta.json")) as f:
        assert [n["name"].lower() for n in json.load(f)["ntas"]] == ["example.com."]
    r = srv.cli("dnssec", "nta", "remove", "example.com.")
    assert r.returncode == 0, r.stderr
    assert nta_names(srv) == []
    with open(os.path.join(srv.dir, "nta.json")) as f:
        assert json.load(f)["ntas"] == []


def test_nta_errors_have_clear_messages_and_exit_codes(srv):
    r = srv.cli("dnssec", "nta", "remove", "nothing.example")
    assert r.returncode != 0
    assert "no negative trust anchor for nothing.example." in r.stderr
    r = srv.cli("dnssec", "nta", "add", "a.example", "--lifetime", "8d")
    assert r.returncode != 0 and "invalid lifetime '8d'" in r.stderr
    r = srv.cli("dnssec", "nta", "add", "a.example", "--lifetime", "soon")
    assert r.returncode != 0 and "invalid lifetime" in r.stderr
    r = srv.cli("dnssec", "nta", "frobnicate")
    assert r.returncode != 0 and "unknown action 'frobnicate'" in r.stderr
    r = srv.cli("dnssec", "nta", "add")
    assert r.returncode != 0 and "needs a NAME" in r.stderr
    r = srv.cli("dnssec", "nta", "add", "bad..name")
    assert r.returncode != 0 and "invalid name" in r.stderr
    assert nta_names(srv) == []


def test_nta_expires_after_its_lifetime(srv):
    r = srv.cli("dnssec", "nta", "add", "short.example", "--lifetime", "2s")
    assert r.returncode == 0, r.stderr
    assert srv.cli("dnssec", "nta", "add", "long.example", "--lifetime", "1d").returncode == 0
    assert sorted(nta_names(srv)) == ["long.example.", "short.example."]
    wait_for(lambda: nta_names(srv) == ["long.example."], timeout=WAIT_LONG,
             what="short.example. to expire", step=0.2)
    # The list and status no longer show it, and remove says it is gone.
    assert "short.example" not in srv.cli("dnssec", "status").stdout
    assert srv.cli("dnssec", "nta", "remove", "short.example").returncode != 0


def test_ctl_nta_survives_a_restart_until_it_expires(srv):
    assert srv.cli("dnssec", "nta", "add", "kept.example", "--lifetime", "2h").returncode == 0
    assert srv.cli("dnssec", "nta", "add", "brief.example", "--lifetime", "3s").returncode == 0
    before = data(srv, "dnssec", "nta", "list")["ntas"]
    srv.stop()
    # Let brief.example. run out while the daemon is down.
    wait_for(lambda: time.time() > max(n["expires"] for n in before
                                       if n["name"] == "brief.example.") + 0.5,
             timeout=WAIT_LONG, what="brief.example.'s lifetime to end", step=0.2)
    srv.start()
    after = data(srv, "dnssec", "nta", "list")["ntas"]
    assert [n["name"] for n in after] == ["kept.example."]
    kept = [n for n in before if n["name"] == "kept.example."][0]
    assert after[0]["expires"] == kept["expires"]


def test_damaged_nta_file_is_logged_and_the_daemon_starts(srv):
    srv.stop()
    with open(os.path.join(srv.dir, "nta.json"), "w") as f:
        f.write("{not json")
    srv.start()
    assert nta_names(srv) == []
    assert "negative trust anchors:" in srv.log()


def test_query_log_carries_the_ede_of_a_failed_answer(make_server):
    """The EDE of a SERVFAIL reaches `log show` (and the TUI's logs screen): a dead
    forwarder gives SERVFAIL with EDE 22 or 23, as a bogus answer gives EDE 6 to 12."""
    import socket

    import dns.edns
    import dns.message
    import dns.rcode
    dead = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # bound, never read
    dead.bind(("127.0.0.1", 0))
    try:
        srv = make_server(extra="[recursion]\nmode = forward\n\n[forwarders]\nservers = "
                                "udp://127.0.0.1:%d\ntimeout = 300\n\n" % dead.getsockname()[1])
        q = dns.message.make_query("www.example.test.", "A", use_edns=0)
        r = srv.send(q, timeout=8)
        assert r.rcode() == dns.rcode.SERVFAIL, r
        codes = [o.code for o in r.options if o.otype == dns.edns.OptionType.EDE]
        assert codes, r

        def logged():
            entries = data(srv, "log", "show", "--queries", "--name",
                           "www.example.test")["entries"]
            return [e for e in entries if e.get("rcode") == "SERVFAIL"]
        entries = wait_for(logged, timeout=WAIT_LONG, what="the SERVFAIL in the query log",
                           step=0.2)
        assert entries[-1]["ede"] == codes[0], entries
        r = srv.cli("log", "show", "--queries", "--name", "www.example.test")
        assert "EDE %d" % codes[0] in r.stdout, r.stdout
        # Answers without an EDE have no "ede" member.
        ok = [e for e in data(srv, "log", "show", "--queries")["entries"]
              if e.get("rcode") != "SERVFAIL"]
        assert all("ede" not in e for e in ok), ok
    finally:
        dead.close()


def test_nta_add_that_cannot_be_kept_is_not_done(srv):
    # The temporary file cannot be created: a directory has its name.
    os.mkdir(os.path.join(srv.dir, "nta.json.tmp"))
    r = srv.cli("dnssec", "nta", "add", "unkept.example")
    assert r.returncode == 1, r
    assert "cannot write" in r.stderr and "nta.json" in r.stderr, r.stderr
    assert nta_names(srv) == []
    os.rmdir(os.path.join(srv.dir, "nta.json.tmp"))
    assert srv.cli("dnssec", "nta", "add", "unkept.example").returncode == 0
    assert nta_names(srv) == ["unkept.example."]
