# SPDX-License-Identifier: MIT
"""tdns-cli query +dnssec, +cd and +adflag against a validating unbound on the signed tree of
dnssec_hier.py, compared with dig and kdig, and against tdnsd resolving that tree."""
import json
import re
import shutil
import subprocess

import dns.rdata
import dns.rdataclass
import dns.rdatatype
import pytest

import dnssec_hier as dh
from test_cli_query import answer_lines, run


@pytest.fixture(scope="module")
def unbound(dnssec_hier):
    """A validating unbound of this module's own: its cache (bogus answers included) starts
    empty whatever other files asked the session's oracle."""
    u = dh.ValidatingUnbound(dnssec_hier)
    yield u
    u.stop()


def cli(port, *args):
    r = run("query", *args, "@127.0.0.1:%d" % port)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def client(tool, port, *args):
    """dig or kdig asking 127.0.0.1:port; its output."""
    assert shutil.which(tool), "%s is required (bind9-dnsutils / knot-dnsutils)" % tool
    tries = "+tries=1" if tool == "dig" else "+retry=0"
    p = subprocess.run([tool, "@127.0.0.1", "-p", str(port), "+time=5", tries, *args],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stdout + p.stderr
    return p.stdout


def header(out):
    """(status, set of flags) of dig-style output (dig says "flags:", kdig "Flags:")."""
    status = re.search(r"status: (\w+)", out).group(1)
    return status, set(re.search(r"flags: ([a-z ]*);", out, re.I).group(1).split())


def section(out, name="ANSWER"):
    """{(owner, type): {rdata}} of one section of dig-style output, rdata in dnspython's
    canonical text (dig splits long base64 fields where tdns-cli does not), TTLs left out."""
    if ";; %s SECTION:" % name not in out.splitlines():
        return {}
    rrs = {}
    for owner, _ttl, rdclass, rdtype, rdata in answer_lines(out, name):
        rd = dns.rdata.from_text(dns.rdataclass.from_text(rdclass),
                                 dns.rdatatype.from_text(rdtype), rdata)
        rrs.setdefault((owner.lower(), rdtype), set()).add(rd.to_text())
    return rrs


def same_as_dig(mine, dig):
    assert header(mine) == header(dig), "tdns-cli:\n%s\ndig:\n%s" % (mine, dig)
    for name in ("ANSWER", "AUTHORITY"):
        assert section(mine, name) == section(dig, name), "%s\ntdns-cli:\n%s\ndig:\n%s" % (
            name, mine, dig)


SIGNED = [("www.alg13.sec.", "A"), ("www.alg5.sec.", "A"), ("www.alg16.sec.", "A"),
          ("alg16.sec.", "DNSKEY"), ("alg13.sec.", "DS"), ("nothere.nsec3.sec.", "A"),
          ("www.alg13.sec.", "AAAA"), ("a.w.wild.sec.", "A"), ("www.old.dname.sec.", "A")]


@pytest.mark.parametrize("qname,rdtype", SIGNED, ids=["%s/%s" % q for q in SIGNED])
def test_dnssec_prints_rrsigs_and_ad_as_dig_does(unbound, qname, rdtype):
    mine = cli(unbound.port, qname, rdtype, "+dnssec")
    assert "; EDNS: version: 0, flags: do; udp: 1232" in mine
    status, flags = header(mine)
    assert "ad" in flags, mine
    signed = section(mine, "ANSWER" if "ANSWER: 0," not in mine else "AUTHORITY")
    assert any(t == "RRSIG" for _, t in signed), mine
    # dig sets AD in its queries by default: with DO, the validator sets AD either way.
    same_as_dig(mine, client("dig", unbound.port, qname, rdtype, "+dnssec"))


def test_short_dnssec_prints_the_rrsig_rdata_too(unbound):
    mine = cli(unbound.port, "www.alg13.sec", "+dnssec", "+short").splitlines()
    dig = client("dig", unbound.port, "www.alg13.sec", "+dnssec", "+short").splitlines()
    assert mine[0] == dig[0] == dh.www("alg13.sec.")
    assert mine[1].startswith("A 13 3 3600 ") and mine[1].replace(" ", "") == \
        dig[1].replace(" ", "")


def test_insecure_answers_have_no_ad(unbound):
    for qname in ("www.insecure.sec.", "www.nods.sec.", "www.ins."):
        mine = cli(unbound.port, qname, "+dnssec")
        assert "ad" not in header(mine)[1], mine
        same_as_dig(mine, client("dig", unbound.port, qname, "+dnssec"))


def test_json_carries_ad_do_and_the_rrsigs(unbound):
    doc = json.loads(cli(unbound.port, "www.alg8.sec", "+dnssec", "+json"))
    assert doc["AD"] is True and doc["CD"] is False and doc["EDNS"]["DO"] is True
    sigs = [rr for rr in doc["answerRRs"] if rr["TYPEname"] == "RRSIG"]
    assert len(sigs) == 1 and sigs[0]["rdataRRSIG"] == sigs[0]["rdata"], doc
    assert sigs[0]["rdata"].startswith("A 8 3 3600 "), doc
    doc = json.loads(cli(unbound.port, "www.alg8.sec", "+json"))
    assert doc["AD"] is False and doc["EDNS"]["DO"] is False
    assert [rr["TYPEname"] for rr in doc["answerRRs"]] == ["A"], doc


def test_without_dnssec_no_rrsigs_and_no_ad_unless_adflag(unbound):
    plain = cli(unbound.port, "www.alg14.sec")
    assert "; EDNS: version: 0, flags:; udp: 1232" in plain
    assert section(plain) == dh.a_rrset("www.alg14.sec.", dh.www("alg14.sec."))
    assert "ad" not in header(plain)[1], plain
    same_as_dig(plain, client("dig", unbound.port, "www.alg14.sec", "+noadflag"))
    # RFC 6840 §5.7: AD in the query asks for AD in the answer, without the RRSIGs.
    ad = cli(unbound.port, "www.alg14.sec", "+adflag")
    assert "ad" in header(ad)[1] and section(ad) == section(plain), ad
    same_as_dig(ad, client("dig", unbound.port, "www.alg14.sec", "+adflag"))
    # The "+no" forms undo, the last one wins.
    undone = cli(unbound.port, "www.alg14.sec", "+dnssec", "+adflag", "+nodnssec",
                 "+noadflag")
    assert header(undone) == header(plain) and section(undone) == section(plain), undone


@pytest.mark.parametrize("qname", sorted(dh.BOGUS_DATA))
def test_cd_returns_the_bogus_data_that_is_servfail_without_it(unbound, qname):
    bogus = cli(unbound.port, qname, "+dnssec")
    assert header(bogus)[0] == "SERVFAIL" and not section(bogus), bogus
    assert re.search(r"^; EDE: \d+ \(", bogus, re.M), bogus
    unchecked = cli(unbound.port, qname, "+cd")
    status, flags = header(unchecked)
    assert status == "NOERROR" and "cd" in flags and "ad" not in flags, unchecked
    assert section(unchecked) == dh.BOGUS_DATA[qname], unchecked
    kdig = client("kdig", unbound.port, qname, "+cdflag")
    assert header(kdig) == (status, flags) and section(kdig) == section(unchecked), kdig
    doc = json.loads(cli(unbound.port, qname, "+cd", "+json"))
    assert doc["CD"] is True and doc["AD"] is False and doc["RCODE"] == 0
    assert header(cli(unbound.port, qname, "+cd", "+nocd"))[0] == "SERVFAIL"


@pytest.mark.parametrize("qname,rdtype", SIGNED[:6], ids=["%s/%s" % q for q in SIGNED[:6]])
def test_tdnsd_resolver_sets_ad_on_dnssec_queries_like_the_validator(dnssec_resolver, unbound,
                                                                    qname, rdtype):
    oracle = cli(unbound.port, qname, rdtype, "+dnssec")
    # Every name here is secure: the validating oracle says AD.
    assert "ad" in header(oracle)[1], oracle
    for opts in (["+dnssec"], ["+dnssec", "+cd"], ["+adflag"]):
        mine = cli(dnssec_resolver.port, qname, rdtype, *opts)
        status, flags = header(mine)
        # tdnsd validates (issue 16): AD for DO or AD (RFC 6840 §5.7), none with CD.
        assert status == header(oracle)[0], mine
        assert ("ad" in flags) == ("+cd" not in opts), mine
        assert ("cd" in flags) == ("+cd" in opts), mine
        data = {k: v for k, v in section(mine).items() if k[1] != "RRSIG"}
        assert data == {k: v for k, v in section(oracle).items() if k[1] != "RRSIG"}, mine
        doc = json.loads(cli(dnssec_resolver.port, qname, rdtype, *opts, "+json"))
        assert doc["AD"] is ("+cd" not in opts), doc
        assert doc["EDNS"]["DO"] == ("+dnssec" in opts), doc
