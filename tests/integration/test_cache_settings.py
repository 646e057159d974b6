# SPDX-License-Identifier: MIT
"""[cache] max-ttl, negative-max-ttl and prefetch in a running tdnsd (issue 21), forwarding to a
fake upstream that logs every query it gets with its time.

max-ttl and negative-max-ttl: the TTLs clients see, on the first answer and from the cache, are
capped, and a capped negative answer is asked upstream again once the cap has passed (not
before).  prefetch (tdnsd.conf(5)): an answer asked for at least three times is refreshed
upstream in the last tenth of its TTL, while clients keep getting it from the cache; with
prefetch = no the upstream is asked again only after the answer expired."""
import time

import dns.rcode
import dns.rdatatype

from test_forwarder import addresses, answer_ttl, ask, forwarded_ok, start
from upstreams import FakeUpstream

RECORDS = [
    "cap.test. 86400 IN SOA ns.cap.test. hostmaster.cap.test. 1 3600 600 86400 86400",
    "long.cap.test. 86400 IN A 192.0.2.10",
    "pop.cap.test. 3600 IN A 192.0.2.11",
]
MAX_TTL = 21       # the last tenth of 21 s is two whole seconds of the cache's clock
NEG_MAX_TTL = 5
DEADLINE = 60.0


def upstream_times(f, name):
    """Monotonic times at which f got a query for name."""
    with f.mutex:
        return [t for (t, _, qn, _, _) in f.queries if qn == name]


def test_max_ttl_and_negative_max_ttl_cap_what_clients_see(make_server):
    f = FakeUpstream(RECORDS)
    try:
        srv = start(make_server, [f.url],
                    cache="max-ttl = 60\nnegative-max-ttl = %d\n" % NEG_MAX_TTL)
        for _ in range(2):
            r = forwarded_ok(ask(srv, "long.cap.test."))
            assert addresses(r) == ["192.0.2.10"]
            assert 55 <= answer_ttl(r) <= 60, r
        assert f.count("long.cap.test.") == 1
        negatives = [("nx.cap.test.", "A", dns.rcode.NXDOMAIN), ("cap.test.", "TXT",
                                                                dns.rcode.NOERROR)]
        started = time.monotonic()
        for name, rdtype, rcode in negatives:
            for _ in range(2):
                r = forwarded_ok(ask(srv, name, rdtype), rcode)
                assert not r.answer, r
                soa = r.authority[0]
                assert soa.rdtype == dns.rdatatype.SOA, r
                assert soa.ttl <= NEG_MAX_TTL, r
            assert f.count(name, rdtype) == 1, name
        # The capped negative answers expire after NEG_MAX_TTL seconds of the cache's
        # whole-second clock: more than NEG_MAX_TTL - 1 seconds after they were stored.
        for name, rdtype, rcode in negatives:
            while f.count(name, rdtype) < 2:
                assert time.monotonic() - started < DEADLINE, "%s never asked again" % name
                forwarded_ok(ask(srv, name, rdtype), rcode)
                time.sleep(0.05)
            again = upstream_times(f, name.lower())[1]
            assert again - started > NEG_MAX_TTL - 1 - 0.1, (name, again - started)
        # The positive answer, capped at 60 s, is still cached.
        assert f.count("long.cap.test.") == 1
    finally:
        f.release()


def test_prefetch_refreshes_a_popular_answer_before_it_expires(make_server):
    """Two daemons side by side, prefetch yes and no, each with its own upstream."""
    runs = {}
    try:
        for prefetch in ("yes", "no"):
            f = FakeUpstream(RECORDS, tag="prefetch-" + prefetch)
            runs[prefetch] = {"fake": f, "ttls": []}
            runs[prefetch]["srv"] = start(make_server, [f.url], cache=(
                "max-ttl = %d\nserve-stale = 0\nprefetch = %s\n" % (MAX_TTL, prefetch)))
        for run in runs.values():
            r = forwarded_ok(ask(run["srv"], "pop.cap.test."))
            assert answer_ttl(r) == MAX_TTL, r
            run["first"] = upstream_times(run["fake"], "pop.cap.test.")[0]
        # Clients ask until past the first answer's expiry (MAX_TTL after it was stored).
        end = max(run["first"] for run in runs.values()) + MAX_TTL + 2
        while time.monotonic() < end:
            for run in runs.values():
                r = forwarded_ok(ask(run["srv"], "pop.cap.test."))
                assert addresses(r) == ["192.0.2.11"], r
                run["ttls"].append((time.monotonic(), answer_ttl(r)))
            time.sleep(0.05)
        yes, no = runs["yes"], runs["no"]
        times = upstream_times(yes["fake"], "pop.cap.test.")
        # One refresh, inside the last tenth of the TTL (stored at whole second s0 <= first,
        # expiring at s0 + 21): before the expiry, and no client query went upstream then.
        assert len(times) == 2, times
        lead = times[1] - yes["first"]
        assert MAX_TTL * 0.9 - 2 < lead < MAX_TTL, lead
        # Clients never saw the answer run out: TTLs stay >= 1 and go back up after the refresh.
        assert min(ttl for _, ttl in yes["ttls"]) >= 1, yes["ttls"]
        assert any(t > times[1] and ttl >= MAX_TTL - 2 for t, ttl in yes["ttls"]), yes["ttls"]
        # Without prefetch the upstream is asked only once the answer has expired.
        times = upstream_times(no["fake"], "pop.cap.test.")
        assert len(times) == 2, times
        assert times[1] - no["first"] > MAX_TTL - 1 - 0.1, times[1] - no["first"]
    finally:
        for run in runs.values():
            run["fake"].release()
