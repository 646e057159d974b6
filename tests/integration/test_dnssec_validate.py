# SPDX-License-Identifier: MIT
"""tdnsd as a validating resolver (issue 16) on the signed tree of dnssec_hier.py: every case of
dnssec_hier.CASES through recursion and through a forwarder (a second tdnsd with validation =
no that recurses on the tree), over UDP and TCP; AD for DO or AD=1 and never with CD; CD=1
returning bogus data; EDE with a text naming the zone; validation = no; negative trust
anchors.  Needs root (port 53), nsd, knot, unbound and dnssec-signzone."""
import json
import subprocess

import dns.flags
import dns.message
import dns.query
import dns.rcode
import pytest

import dnssec_hier as dh
from helpers import rrsets, wait_for
from test_dnssec_hier import CASE_IDS

BOGUS = [c for c in dh.CASES if c.state == "bogus"]


def recursion(hier):
    return "[recursion]\nmode = recursive\nroot-hints = %s\n" % hier.hints


def validating(hier, more=""):
    return "[dnssec]\nvalidation = yes\ntrust-anchor-file = %s\n%s" % (hier.anchor_file, more)


def query(port, qname, rdtype="A", do=False, ad=False, cd=False, tcp=False):
    """Asks 127.0.0.1:port with EDNS; the flags as given; returns the response."""
    q = dns.message.make_query(qname, rdtype, use_edns=0, payload=1232, want_dnssec=do)
    if ad:
        q.flags |= dns.flags.AD
    if cd:
        q.flags |= dns.flags.CD
    if tcp:
        return dns.query.tcp(q, "127.0.0.1", port=port, timeout=15)
    r = dns.query.udp(q, "127.0.0.1", port=port, timeout=15)
    if r.flags & dns.flags.TC:
        r = dns.query.tcp(q, "127.0.0.1", port=port, timeout=15)
    return r


def data(r):
    return {k: v for k, v in rrsets(r.answer).items() if k[1] != "RRSIG"}


def ede_texts(r):
    return [o.text for o in r.options if o.otype == 15]


@pytest.fixture(scope="module")
def resolvers(dnssec_hier, tmp_path_factory):
    """{"recursive": validating tdnsd iterating the tree, "forward": validating tdnsd forwarding
    to a tdnsd with validation = no that iterates it}; module-wide, cold at first."""
    from conftest import SANITIZER_MARKS, Server
    started = []
    try:
        base = tmp_path_factory.mktemp("dnssec-validate")
        for sub in ("rec", "plain", "fwd"):
            (base / sub).mkdir()
        rec = Server(base / "rec", extra=recursion(dnssec_hier) + validating(dnssec_hier),
                     ipv6=False)
        rec.start()
        started.append(rec)
        plain = Server(base / "plain",
                       extra=recursion(dnssec_hier) + "[dnssec]\nvalidation = no\n",
                       ipv6=False)
        plain.start()
        started.append(plain)
        fwd = Server(base / "fwd", extra=(
            "[recursion]\nmode = forward\n[forwarders]\nservers = udp://127.0.0.1:%d\n"
            "timeout = 3000\n" % plain.port) + validating(dnssec_hier), ipv6=False)
        fwd.start()
        started.append(fwd)
        yield {"recursive": rec, "forward": fwd, "plain": plain}
    finally:
        reports = []
        for s in started:
            s.stop()
            s.release()
            log = s.log()
            if any(m in log for m in SANITIZER_MARKS):
                reports.append(log)
        # As make_server does for its servers: a sanitizer report fails the module.
        assert not reports, "sanitizer report from tdnsd:\n" + "\n".join(reports)


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
@pytest.mark.parametrize("path", ["recursive", "forward"])
@pytest.mark.parametrize("case", dh.CASES, ids=CASE_IDS)
def test_each_case_gets_its_rcode_answer_ad_and_ede(resolvers, case, path, tcp):
    port = resolvers[path].port
    for do, ad in ((True, False), (False, True), (False, False)):
        r = query(port, case.qname, case.rdtype, do=do, ad=ad, tcp=tcp)
        ctx = "%s %s DO=%s AD=%s %s %s (%s)\n%s" % (path, "tcp" if tcp else "udp", do, ad,
                                                   case.qname, case.rdtype, case.why,
                                                   r.to_text())
        assert r.rcode() == case.rcode, ctx
        # RFC 6840 §5.7: AD on a secure answer for a client that set DO or AD.
        assert bool(r.flags & dns.flags.AD) == (case.state == "secure" and (do or ad)), ctx
        if case.state == "bogus":
            assert not r.answer, ctx
            assert case.ede in [o.code for o in r.options if o.otype == 15], ctx
            continue
        assert data(r) == case.answer, ctx
        # RFC 4035 §3.2.1: RRSIGs only for DO; a secure answer has them.
        sigs = any(rr.rdtype == 46 for rr in r.answer)
        if not do:
            assert not sigs, ctx
        elif case.state == "secure" and case.answer:
            assert sigs, ctx


@pytest.mark.parametrize("path", ["recursive", "forward"])
@pytest.mark.parametrize("case", BOGUS, ids=[c.qname.rstrip(".") for c in BOGUS])
def test_cd_returns_the_bogus_data_without_ad(resolvers, case, path):
    port = resolvers[path].port
    r = query(port, case.qname, do=True, cd=True)
    ctx = "%s %s\n%s" % (path, case.qname, r.to_text())
    # RFC 4035 §3.2.2: checking disabled, the data as the zone served it, never AD.
    assert not r.flags & dns.flags.AD, ctx
    if case.qname in dh.BOGUS_DATA:
        assert r.rcode() == dns.rcode.NOERROR, ctx
        assert data(r) == dh.BOGUS_DATA[case.qname], ctx
    else:
        assert r.rcode() == dns.rcode.NXDOMAIN, ctx
    # The same name without CD is still refused: CD changes the reply, not the cache.
    assert query(port, case.qname, do=True).rcode() == dns.rcode.SERVFAIL, ctx


@pytest.mark.parametrize("path", ["recursive", "forward"])
def test_bogus_ede_text_names_the_zone(resolvers, path):
    port = resolvers[path].port
    for qname, zone in (("www.expired.sec.", "expired.sec."),
                        ("www.wrongkey.sec.", "wrongkey.sec."),
                        ("www.tampered.sec.", "tampered.sec.")):
        r = query(port, qname, do=True)
        assert r.rcode() == dns.rcode.SERVFAIL, r.to_text()
        assert any(zone in (t or "") for t in ede_texts(r)), r.to_text()


def test_validation_off_gives_no_ad_and_no_servfail(resolvers):
    port = resolvers["plain"].port
    for case in dh.CASES:
        r = query(port, case.qname, case.rdtype, do=True)
        ctx = "%s %s\n%s" % (case.qname, case.rdtype, r.to_text())
        assert not r.flags & dns.flags.AD, ctx
        assert r.rcode() != dns.rcode.SERVFAIL, ctx
        if case.state != "bogus":
            assert data(r) == case.answer, ctx


def test_negative_trust_anchor_makes_a_bogus_zone_insecure(make_server, dnssec_hier):
    srv = make_server(extra=recursion(dnssec_hier) + validating(
        dnssec_hier, "negative-trust-anchors = expired.sec, tampered.sec.\n"), ipv6=False)
    for qname in ("www.expired.sec.", "www.tampered.sec."):
        r = query(srv.port, qname, do=True)
        assert r.rcode() == dns.rcode.NOERROR, r.to_text()
        assert not r.flags & dns.flags.AD, r.to_text()
        assert data(r) == dh.BOGUS_DATA[qname], r.to_text()
    # Outside the NTAs, validation goes on.
    assert query(srv.port, "www.future.sec.", do=True).rcode() == dns.rcode.SERVFAIL
    r = query(srv.port, "www.alg13.sec.", do=True)
    assert r.flags & dns.flags.AD, r.to_text()


def test_a_wrong_anchor_makes_everything_bogus(make_server, dnssec_hier, tmp_path):
    # The built-in root anchors do not fit the tree's private root: nothing validates.
    srv = make_server(extra=recursion(dnssec_hier) + "[dnssec]\nvalidation = yes\n",
                      ipv6=False)
    r = query(srv.port, "www.alg13.sec.", do=True)
    assert r.rcode() == dns.rcode.SERVFAIL, r.to_text()
    assert [o.code for o in r.options if o.otype == 15], r.to_text()


def test_a_bad_trust_anchor_file_stops_start_up(make_server, dnssec_hier, tmp_path):
    bad = tmp_path / "anchor.txt"
    bad.write_text(". IN A 192.0.2.1\n")
    srv = make_server(extra=recursion(dnssec_hier) + "[dnssec]\ntrust-anchor-file = %s\n" % bad,
                      ipv6=False, start=False)
    p = subprocess.run([srv.binary, "-t", "-c", srv.conf], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode != 0, p.stdout + p.stderr
    assert "trust-anchor-file" in p.stdout + p.stderr, p.stdout + p.stderr


def test_answers_cached_before_validation_was_turned_on_are_validated_anew(make_server,
                                                                          dnssec_hier):
    srv = make_server(extra=recursion(dnssec_hier) + "[dnssec]\nvalidation = no\n",
                      ipv6=False)
    r = query(srv.port, "www.expired.sec.", do=True)
    assert r.rcode() == dns.rcode.NOERROR and data(r), r.to_text()
    with open(srv.conf) as f:
        conf = f.read()
    srv.write_config(conf.replace("[dnssec]\nvalidation = no\n", validating(dnssec_hier)))
    srv.reload()
    # The reload is done when a secure name gets AD.
    wait_for(lambda: query(srv.port, "www.alg13.sec.", do=True).flags & dns.flags.AD,
             timeout=30, what="AD after the reload", log=srv.log, step=0.2)
    r = query(srv.port, "www.expired.sec.", do=True)
    assert r.rcode() == dns.rcode.SERVFAIL, r.to_text()
    assert 7 in [o.code for o in r.options if o.otype == 15], r.to_text()


def test_nta_added_at_run_time_makes_a_bogus_zone_insecure(make_server, dnssec_hier):
    srv = make_server(extra=recursion(dnssec_hier) + validating(dnssec_hier), ipv6=False)
    # future.sec: not queried before, so no bogus verdict is cached for it.
    r = srv.cli("dnssec", "nta", "add", "future.sec")
    assert r.returncode == 0, r.stdout + r.stderr
    r = query(srv.port, "www.future.sec.", do=True)
    assert r.rcode() == dns.rcode.NOERROR and not r.flags & dns.flags.AD, r.to_text()
    assert data(r) == dh.BOGUS_DATA["www.future.sec."], r.to_text()
    # The verdicts given to clients are what `dnssec status` counts.
    counts = json.loads(srv.cli("--json", "dnssec", "status").stdout)["data"]["answers"]
    assert counts["insecure"] >= 1, counts
