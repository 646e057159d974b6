# SPDX-License-Identifier: MIT
"""Replayed resolver scenarios (issue 20): tdnsd and unbound against the same scripted servers.

Every scenarios/*.scn file (format in replay.py) is played twice on loopback: once to tdnsd in
recursive mode, once to unbound (an independent iterative resolver, Debian's package), both
with root hints naming the scenario's scripted root servers and a cold cache.  tdnsd must give
the expected answer in every scenario; unbound's result is recorded beside it, and a scenario
unbound resolves that tdnsd does not fails with both results in the message.  The table of
both columns is written to $TDNS_REPLAY_REPORT when that is set.
Needs root (port 53 on 127.R.x.y) and unbound.
"""
import glob
import os

import dns.exception
import dns.flags
import dns.message
import dns.query
import pytest

import hierarchy
import replay

HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIOS = sorted(glob.glob(os.path.join(HERE, "scenarios", "*.scn")))
QUERY_TIMEOUT = 20.0
RESULTS = {}


@pytest.fixture(scope="module")
def block():
    lock = hierarchy.BlockLock()
    hierarchy.check_port53("127.%d.0.1" % lock.r)
    yield lock.r
    lock.release()
    report = os.environ.get("TDNS_REPLAY_REPORT")
    if report:
        with open(report, "w") as f:
            f.write("scenario\ttdnsd\tunbound\n")
            for sid in sorted(RESULTS):
                f.write("%s\t%s\t%s\n" % (sid, RESULTS[sid].get("tdnsd", "-"),
                                          RESULTS[sid].get("unbound", "-")))


def ask(port, scenario):
    for qname, qtype in scenario.prequeries:
        try:
            dns.query.udp(dns.message.make_query(qname, qtype, use_edns=0, payload=1232),
                          "127.0.0.1", port=port, timeout=QUERY_TIMEOUT)
        except dns.exception.Timeout:
            pass
    q = dns.message.make_query(scenario.qname, scenario.qtype, use_edns=0, payload=1232)
    try:
        r = dns.query.udp(q, "127.0.0.1", port=port, timeout=QUERY_TIMEOUT)
        if r.flags & dns.flags.TC:
            # RFC 7766 §5: a truncated answer is asked again over TCP, as any stub does.
            r = dns.query.tcp(q, "127.0.0.1", port=port, timeout=QUERY_TIMEOUT)
        return r
    except dns.exception.Timeout:
        return None


def run_tdnsd(make_server, scenario, playback):
    extra = ("[recursion]\nmode = recursive\nroot-hints = %s\nallow = 127.0.0.0/8\n"
             % playback.hints)
    srv = make_server(extra=extra)
    return ask(srv.port, scenario), srv


def run_unbound(scenario, playback):
    ub = hierarchy.Unbound(playback)
    try:
        return ask(ub.port, scenario), ub.log()
    finally:
        ub.stop()


def test_there_are_at_least_thirty_scenarios():
    assert len(SCENARIOS) >= 30, SCENARIOS


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: os.path.basename(p)[:-4])
def test_scenario(path, block, make_server, tmp_path):
    scenario = replay.Scenario(path)
    results = RESULTS.setdefault(scenario.id, {})

    playback = replay.Playback(scenario, block, str(tmp_path))
    try:
        ub_resp, ub_log = run_unbound(scenario, playback)
    finally:
        playback.stop()
    ub_problems = replay.check(scenario, ub_resp, playback.expand)
    results["unbound"] = "pass" if not ub_problems else "FAIL"

    # A fresh set of servers: nothing the first resolver did (logs, TCP state) carries over.
    playback = replay.Playback(scenario, block, str(tmp_path))
    try:
        resp, srv = run_tdnsd(make_server, scenario, playback)
        asked = playback.asked()
    finally:
        playback.stop()
    problems = replay.check(scenario, resp, playback.expand)
    results["tdnsd"] = "pass" if not problems else "FAIL"
    if problems:
        pytest.fail("%s (%s)\ntdnsd: %s\nunbound: %s\nanswer:\n%s\nservers asked: %s\n"
                    "tdnsd log:\n%s"
                    % (scenario.name, scenario.id, "; ".join(problems),
                       "; ".join(ub_problems) or "pass", resp, asked, srv.log()[-4000:]),
                    pytrace=False)
