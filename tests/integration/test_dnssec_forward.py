# SPDX-License-Identifier: MIT
"""tdnsd forwarding (issue 16, point 4) to a non-validating unbound that iterates the signed tree
of dnssec_hier.py, over every upstream transport: validating from the tree's anchor, each case
must give the validating oracle's rcode, answer and AD (with DO).  DoH-JSON carries no RRSIGs
and tdnsd does not rebuild them yet, so over it tdnsd runs with validation = no and gives the
secure and insecure cases' data without AD.  DoH-JSON goes through the HTTP/2 server of
test_cli_query_encrypted.py, which relays to the same unbound."""
import pytest

import dnssec_hier as dh
from test_cli_query_encrypted import H2Server
from test_dnssec_hier import RESOLVABLE, ede_codes, verdict_text
from test_forwarder import fwd_config
from upstreams import TLS_NAME, Pki


@pytest.fixture(scope="module")
def forwarder(dnssec_hier, tmp_path_factory):
    """(ForwardingUnbound with DoT and DoH, Pki, {transport: URL}), DoH-JSON included."""
    pki = Pki(str(tmp_path_factory.mktemp("dnssec-fwd")))
    ub = dh.ForwardingUnbound(dnssec_hier, pki)
    h2 = None
    try:
        h2 = H2Server(pki, ub.port)
        urls = ub.urls()
        urls["https-json"] = "https+json://%s:%d/resolve#127.0.0.1" % (TLS_NAME, h2.port)
        yield ub, pki, urls
    finally:
        if h2 is not None:
            h2.stop()
        ub.stop()


@pytest.mark.parametrize("transport", ["udp", "tcp", "tls", "https"])
def test_forwarded_signed_tree_is_validated_like_the_validator(make_server, forwarder,
                                                               dnssec_oracle, dnssec_hier,
                                                               transport):
    _, pki, urls = forwarder
    extra = fwd_config([urls[transport]], timeout=3000, ca_file=pki.ca)
    extra += "[dnssec]\nvalidation = yes\ntrust-anchor-file = %s\n" % dnssec_hier.anchor_file
    srv = make_server(extra=extra, ipv6=False)
    for case in dh.CASES:
        if case.state == "bogus":
            # The session's oracle is not asked: it would cache the bogus answer, and a
            # cached one gives EDE 6, not the reason test_dnssec_hier.py checks.
            for do in (False, True):
                mine = dh.ask(srv.port, case.qname, case.rdtype, do=do)
                ctx = "%s DO=%s %s (%s)\n%s" % (transport, do, case.qname, case.why,
                                                verdict_text(mine))
                assert mine.rcode == case.rcode and not mine.answer and not mine.ad, ctx
                assert case.ede in ede_codes(mine), ctx
            continue
        oracle = dnssec_oracle.ask(case.qname, case.rdtype)
        for do in (False, True):
            mine = dh.ask(srv.port, case.qname, case.rdtype, do=do)
            ctx = "%s DO=%s %s %s (%s)\n%s\n---- unbound:\n%s" % (
                transport, do, case.qname, case.rdtype, case.why, verdict_text(mine),
                verdict_text(oracle))
            assert mine.rcode == oracle.rcode, ctx
            assert mine.answer == oracle.answer, ctx
            assert mine.ad == (do and oracle.ad), ctx


def test_forwarded_over_doh_json_without_validation_matches_the_data(make_server, forwarder,
                                                                     dnssec_oracle):
    _, pki, urls = forwarder
    extra = fwd_config([urls["https-json"]], timeout=3000, ca_file=pki.ca)
    extra += "[dnssec]\nvalidation = no\n"
    srv = make_server(extra=extra, ipv6=False)
    for case in RESOLVABLE:
        oracle = dnssec_oracle.ask(case.qname, case.rdtype)
        for do in (False, True):
            mine = dh.ask(srv.port, case.qname, case.rdtype, do=do)
            ctx = "https-json DO=%s %s %s (%s)\n%s\n---- unbound:\n%s" % (
                do, case.qname, case.rdtype, case.why, verdict_text(mine),
                verdict_text(oracle))
            assert mine.rcode == oracle.rcode, ctx
            assert mine.answer == oracle.answer, ctx
            # Not validated: AD would be a lie (RFC 4035 §3.2.3).
            assert not mine.ad, ctx
