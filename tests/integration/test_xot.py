# SPDX-License-Identifier: MIT
"""Zone transfers over TLS (XoT, RFC 9103, issue 17): AXFR and IXFR on the DoT listener with
kdig +tls, allowed by address or TSIG key as over TCP, refused otherwise."""
from test_dot import NAME, dot, pki  # noqa: F401 - the fixtures this file uses
import subprocess

from test_xfr import SECRET, ZONE, parse_dig, tsig_section, zone_records


def xot_server(dot, allow, extra=""):  # noqa: F811 - the fixture
    srv = dot(zones={}, start=False, extra=extra + "[zone xfr.test]\nfile = xfr.test.zone\n"
              "allow-transfer = %s\n" % allow)
    srv.write_zone("xfr.test", ZONE)
    srv.start()
    return srv


def kdig_xfr(srv, pki, rdtype, *args):  # noqa: F811 - the fixture
    return subprocess.run(["kdig", "@127.0.0.1", "-p", str(srv.dot_port), "+tls",
                           "+tls-ca=" + pki.ca, "+tls-hostname=" + NAME, "+time=5",
                           "+retry=0", "+noall", "+answer", *args, "xfr.test.", rdtype],
                          capture_output=True, text=True, timeout=30)


def test_axfr_and_ixfr_over_tls_with_kdig(dot, pki):  # noqa: F811 - the fixtures
    srv = xot_server(dot, "127.0.0.1")
    want = zone_records(ZONE, "xfr.test.")
    for rdtype in ("AXFR", "IXFR=2026120600"):
        r = kdig_xfr(srv, pki, rdtype)
        assert r.returncode == 0, r.stdout + r.stderr
        recs = parse_dig(r.stdout, "xfr.test.")
        assert recs[0][3] == "SOA" and recs[-1][3] == "SOA", rdtype
        assert set(recs) == want and len(recs) == len(want) + 1, rdtype
    assert "AXFR to 127.0.0.1 done" in srv.log()


def test_xot_is_refused_without_the_key_and_allowed_with_it(dot, pki):  # noqa: F811
    srv = xot_server(dot, "key transfer-key", extra=tsig_section())
    r = kdig_xfr(srv, pki, "AXFR")
    assert "REFUSED" in r.stdout + r.stderr, r.stdout + r.stderr
    assert "refused (not in allow-transfer)" in srv.log()
    r = kdig_xfr(srv, pki, "AXFR", "-y", "hmac-sha256:transfer-key:" + SECRET)
    assert r.returncode == 0, r.stdout + r.stderr
    recs = parse_dig(r.stdout, "xfr.test.")
    assert set(recs) == zone_records(ZONE, "xfr.test.")
    assert "with key transfer-key." in srv.log()
