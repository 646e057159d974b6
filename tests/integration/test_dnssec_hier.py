# SPDX-License-Identifier: MIT
"""The signed tree of dnssec_hier.py (issue 16): a validating unbound proves each leaf is what
its case says, and tdnsd, validating from the tree's anchor, gives every case the same rcode,
answer and AD.  Needs root (port 53), nsd, knot, unbound and dnssec-signzone."""
import dns.flags
import dns.rcode
import pytest

import dnssec_hier as dh

CASE_IDS = ["%s/%s" % (c.qname.rstrip("."), c.rdtype) for c in dh.CASES]
RESOLVABLE = [c for c in dh.CASES if c.state != "bogus"]


def verdict_text(v):
    return "rcode %s AD %s\n%s" % (dns.rcode.to_text(v.rcode), v.ad, v.msg.to_text())


def ede_codes(v):
    return [o.code for o in v.msg.options if o.otype == 15]


@pytest.mark.parametrize("case", dh.CASES, ids=CASE_IDS)
def test_unbound_validates_each_leaf_as_its_case_says(dnssec_oracle, case):
    v = dnssec_oracle.ask(case.qname, case.rdtype)
    ctx = "%s (%s)\n%s" % (case.qname, case.why, verdict_text(v))
    assert v.rcode == case.rcode, ctx
    # Secure answers carry AD (the query had DO); insecure and bogus ones never do.
    assert v.ad == (case.state == "secure"), ctx
    if case.state == "bogus":
        assert not v.answer, ctx
        assert case.ede in ede_codes(v), ctx
        return
    assert v.answer == case.answer, ctx
    if case.state == "secure":
        # DO: every answer RRset comes with its RRSIG; NXDOMAIN and NODATA with NSEC or NSEC3.
        sigs = {rr.name.to_text() for rr in v.msg.answer if rr.rdtype == 46}
        assert sigs >= {owner for owner, t in case.answer if t != "CNAME"}, ctx
        if not case.answer:
            kinds = {rr.rdtype for rr in v.msg.authority}
            assert kinds & {47, 50}, ctx


@pytest.mark.parametrize("qname", sorted(dh.BOGUS_DATA))
def test_unbound_returns_bogus_data_unvalidated_with_cd(dnssec_oracle, qname):
    # RFC 4035 §3.2.2: with CD the validator hands over what it got, without AD.
    v = dnssec_oracle.ask(qname, cd=True)
    assert v.rcode == dns.rcode.NOERROR, verdict_text(v)
    assert not v.ad, verdict_text(v)
    assert v.answer == dh.BOGUS_DATA[qname], verdict_text(v)


def test_trust_anchor_file_holds_the_root_ds(dnssec_hier):
    with open(dnssec_hier.anchor_file) as f:
        fields = f.read().split()
    # ". IN DS TAG 13 2 HEX": what [dnssec] trust-anchor-file will be given.
    assert fields[:3] == [".", "IN", "DS"] and fields[4:6] == ["13", "2"], fields


@pytest.mark.parametrize("case", dh.CASES, ids=CASE_IDS)
def test_tdnsd_validates_signed_tree_like_unbound(dnssec_resolver, dnssec_oracle, case):
    # Runs after the oracle's own checks above: a bogus answer it cached has EDE 6 only.
    oracle = dnssec_oracle.ask(case.qname, case.rdtype)
    for do in (False, True):
        mine = dh.ask(dnssec_resolver.port, case.qname, case.rdtype, do=do)
        ctx = "DO=%s %s (%s)\n%s\n---- unbound:\n%s" % (do, case.qname, case.why,
                                                          verdict_text(mine),
                                                          verdict_text(oracle))
        assert mine.rcode == oracle.rcode, ctx
        assert mine.answer == oracle.answer, ctx
        # RFC 6840 §5.7: AD only for a client that set DO (or AD), on a secure answer.
        assert mine.ad == (do and oracle.ad), ctx
        assert mine.msg.flags & dns.flags.RA, ctx
        if case.state == "bogus":
            assert case.ede in ede_codes(mine), ctx
