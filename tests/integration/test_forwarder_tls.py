# SPDX-License-Identifier: MIT
"""The forwarder over encrypted transports: DNS over TLS (RFC 7858) and DNS over HTTPS (RFC 8484)
to unbound (tls-port, and https-port: Debian's unbound is built with nghttp2), and DoH-JSON to
the small HTTP/2 server of test_cli_query_encrypted.py (unbound has no JSON API), which relays
to the same unbound.  The certificates come from a test CA made with the openssl CLI; tdnsd
trusts it through [forwarders] ca-file.  A certificate from another CA, or for another name,
must not be accepted."""
import pytest

import dns.rcode

from conftest import PortLock
from test_cli_query_encrypted import H2Server
from test_forwarder import (UNBOUND_CASES, addresses, ask, compare_with_unbound, ede_codes,
                            forwarded_ok, rrsets, start)
from upstreams import TLS_NAME, UNBOUND, Pki, Unbound, require


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    require(UNBOUND, "openssl")
    base = str(tmp_path_factory.mktemp("fwdtls"))
    pki = Pki(base)
    ub = Unbound(base, pki=pki)
    yield pki, ub
    ub.stop()


def start_tls(make_server, urls, ca):
    return start(make_server, urls, timeout=2000, ca_file=ca)


def test_dot_upstream_answers_match_unbound(make_server, env):
    pki, ub = env
    srv = start_tls(make_server, ["tls://%s:%d#127.0.0.1" % (TLS_NAME, ub.tls_port)], pki.ca)
    compare_with_unbound(srv, ub)
    compare_with_unbound(srv, ub, tcp_client=True)


def test_dot_certificate_of_another_ca_is_not_accepted(make_server, env):
    pki, ub = env
    srv = start_tls(make_server, ["tls://%s:%d#127.0.0.1" % (TLS_NAME, ub.tls_port)],
                    pki.other_ca)
    r = forwarded_ok(ask(srv, "www.example.test.", timeout=8), dns.rcode.SERVFAIL)
    assert not r.answer
    assert set(ede_codes(r)) & {22, 23}, r


def test_dot_certificate_for_another_name_is_not_accepted(make_server, env):
    pki, ub = env
    srv = start_tls(make_server, ["tls://wrong.test:%d#127.0.0.1" % ub.tls_port], pki.ca)
    r = forwarded_ok(ask(srv, "www.example.test.", timeout=8), dns.rcode.SERVFAIL)
    assert not r.answer
    assert set(ede_codes(r)) & {22, 23}, r


def test_doh_upstream_answers_match_unbound(make_server, env):
    # The DoH server is unbound itself (https-port, HTTP/2 via nghttp2).
    pki, ub = env
    if not ub.doh:
        pytest.fail("this unbound has no DoH (built without nghttp2)", pytrace=False)
    srv = start_tls(make_server,
                    ["https://%s:%d/dns-query#127.0.0.1" % (TLS_NAME, ub.https_port)], pki.ca)
    compare_with_unbound(srv, ub)


def test_doh_certificate_of_another_ca_is_not_accepted(make_server, env):
    pki, ub = env
    srv = start_tls(make_server,
                    ["https://%s:%d/dns-query#127.0.0.1" % (TLS_NAME, ub.https_port)],
                    pki.other_ca)
    r = forwarded_ok(ask(srv, "www.example.test.", timeout=8), dns.rcode.SERVFAIL)
    assert set(ede_codes(r)) & {22, 23}, r


def test_doh_json_upstream_answers_match_unbound(make_server, env):
    # unbound has no JSON API: the python3-h2 server relays /resolve to unbound over UDP.
    pki, ub = env
    h2 = H2Server(pki, ub.port)
    try:
        srv = start_tls(make_server,
                        ["https+json://%s:%d/resolve#127.0.0.1" % (TLS_NAME, h2.port)], pki.ca)
        compare_with_unbound(srv, ub)
        assert h2.requests, "the DoH-JSON server saw no request"
        assert all(headers[":path"].startswith("/resolve?") for _, headers, _ in h2.requests)
        assert h2.sni and all(n == TLS_NAME for n in h2.sni)
    finally:
        h2.stop()


def test_dot_and_a_dead_plain_upstream_together(make_server, env):
    # Mixed transports in one list: the DoT one answers while the UDP one is a closed port.
    pki, ub = env
    with PortLock() as dead:
        srv = start_tls(make_server, ["udp://127.0.0.1:%d" % dead.port,
                                      "tls://%s:%d#127.0.0.1" % (TLS_NAME, ub.tls_port)], pki.ca)
        for name, rdtype in UNBOUND_CASES:
            want = ub.query(name, rdtype)
            got = forwarded_ok(ask(srv, name, rdtype), want.rcode())
            assert rrsets(got.answer) == rrsets(want.answer), (name, rdtype, got)


def test_conditional_forwarder_zone_over_dot(make_server, env):
    # A forwarder zone's servers may use any transport; the default forwarder is a closed port,
    # so only the zone's DoT server can answer.
    pki, ub = env
    with PortLock() as dead:
        zone = ("[zone example.test]\ntype = forwarder\nfile = example.test.zone\n"
                "forwarders = tls://%s:%d#127.0.0.1\n" % (TLS_NAME, ub.tls_port))
        srv = start(make_server, ["udp://127.0.0.1:%d" % dead.port], timeout=2000,
                    ca_file=pki.ca, extra=zone,
                    files={"example.test": "$ORIGIN example.test.\n$TTL 300\n"
                                           "override A 192.0.2.123\n"})
        r = forwarded_ok(ask(srv, "www.example.test."))
        assert addresses(r) == ["192.0.2.80"]
        r = forwarded_ok(ask(srv, "nothere.example.test."), dns.rcode.NXDOMAIN)
        # The zone's own record overrides (unbound has no such name).
        r = forwarded_ok(ask(srv, "override.example.test."), aa=None)
        assert addresses(r) == ["192.0.2.123"]


def test_doh_upstream_with_the_dns_uri_template_uses_get(make_server, env):
    # RFC 8484 §4.1: a URL ending in the template {?dns} asks for GET with ?dns=BASE64URL.
    pki, ub = env
    h2 = H2Server(pki, ub.port)
    try:
        srv = start_tls(make_server,
                        ["https://%s:%d/dns-query{?dns}#127.0.0.1" % (TLS_NAME, h2.port)],
                        pki.ca)
        compare_with_unbound(srv, ub)
        assert h2.requests, "the DoH server saw no request"
        assert all(headers[":method"] == "GET" and headers[":path"].startswith("/dns-query?dns=")
                   for _, headers, _ in h2.requests), h2.requests
    finally:
        h2.stop()
    # Without the template the same server gets POST.
    h2 = H2Server(pki, ub.port)
    try:
        srv = start_tls(make_server,
                        ["https://%s:%d/dns-query#127.0.0.1" % (TLS_NAME, h2.port)], pki.ca)
        forwarded_ok(ask(srv, "www.example.test."))
        assert h2.requests
        assert all(headers[":method"] == "POST" and headers[":path"] == "/dns-query"
                   for _, headers, _ in h2.requests), h2.requests
    finally:
        h2.stop()
