# SPDX-License-Identifier: MIT
"""tdnsd forwarding (issue 16, point 4) to a non-validating unbound that iterates the signed tree
of dnssec_hier.py, over every upstream transport: each secure and insecure case must give the
validating oracle's rcode and answer, and never AD (tdnsd does not validate yet).  DoH-JSON goes
through the HTTP/2 server of test_cli_query_encrypted.py, which relays to the same unbound."""
import pytest

import dnssec_hier as dh
from test_cli_query_encrypted import H2Server
from test_dnssec_hier import RESOLVABLE, verdict_text
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


@pytest.mark.parametrize("transport", ["udp", "tcp", "tls", "https", "https-json"])
def test_forwarded_signed_tree_matches_the_validator_without_ad(make_server, forwarder,
                                                                 dnssec_oracle, transport):
    _, pki, urls = forwarder
    srv = make_server(extra=fwd_config([urls[transport]], timeout=3000, ca_file=pki.ca),
                      ipv6=False)
    for case in RESOLVABLE:
        oracle = dnssec_oracle.ask(case.qname, case.rdtype)
        for do in (False, True):
            mine = dh.ask(srv.port, case.qname, case.rdtype, do=do)
            ctx = "%s DO=%s %s %s (%s)\n%s\n---- unbound:\n%s" % (
                transport, do, case.qname, case.rdtype, case.why, verdict_text(mine),
                verdict_text(oracle))
            assert mine.rcode == oracle.rcode, ctx
            assert mine.answer == oracle.answer, ctx
            assert not mine.ad, ctx
