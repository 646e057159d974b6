# SPDX-License-Identifier: MIT
"""[server] user (issue 21): started as root, tdnsd binds its ports, drops to the user (every
thread: /proc/PID/task/*/status), then keeps serving UDP and TCP and reloads, by SIGHUP and by
`tdns-cli config reload`, a zone file changed after the drop.

What the user needs after the drop: read access to the configuration file and every zone file
(reloads read them again as that user), search access to the directories above them, and write
access to the control socket's directory (the socket is created after the drop; tdnsd creates a
missing directory for the user) and to the state directory for run-time changes (created for the
user when missing).  Needs root, as the daemon starts as root to switch to 65534."""
import os
import pwd
import shutil
import signal
import time

import dns.rcode
import pytest

from conftest import Server
from helpers import cli_ok, world_dir

USER = "nobody"
DEADLINE = 15.0
ZONE = """$ORIGIN drop.test.
$TTL 300
@    IN SOA ns.drop.test. hostmaster.drop.test. %d 3600 600 86400 60
@       NS    ns
ns      A     192.0.2.53
%s
"""


def ids(status_text, field):
    for line in status_text.splitlines():
        if line.startswith(field + ":"):
            return [int(x) for x in line.split()[1:]]
    raise AssertionError("no %s line in:\n%s" % (field, status_text))


@pytest.fixture
def dropped():
    """A tdnsd with user = nobody in a 0755 directory that nobody can reach, stopped by PID."""
    if os.geteuid() != 0:
        pytest.fail("this test starts tdnsd as root so that it can drop to %s" % USER,
                    pytrace=False)
    base = world_dir("tdns-user-")
    srv = None
    try:
        state = os.path.join(base, "state")
        os.mkdir(state, 0o755)
        control = os.path.join(base, "ctl", "control.sock")
        config = ("[server]\nlisten = 127.0.0.1:@PORT@, [::1]:@PORT@\nworkers = 2\n"
                  "state-dir = %s\nuser = %s\n\n[control]\nsocket = %s\n\n"
                  "[recursion]\nmode = off\n\n[zone drop.test]\ntype = primary\n"
                  "file = drop.test.zone\n" % (state, USER, control))
        srv = Server(state, raw_config=config)
        srv.write_zone("drop.test", ZONE % (1, "www A 192.0.2.1"))
        srv.control, srv.has_control = control, True
        srv.start()
        yield srv
    finally:
        if srv is not None:
            rc = srv.stop()
            srv.release()
            assert rc == 0, srv.log()
        shutil.rmtree(base, ignore_errors=True)


def addresses(srv, name, tcp=False):
    r = srv.query(name, "A", tcp=tcp)
    assert r.rcode() == dns.rcode.NOERROR, r
    return sorted(rd.address for rrset in r.answer for rd in rrset)


def wait_answer(srv, name, want):
    deadline = time.monotonic() + DEADLINE
    while True:
        got = addresses(srv, name)
        if got == want:
            return
        assert time.monotonic() < deadline, "%s is %s, not %s:\n%s" % (name, got, want,
                                                                         srv.log())
        time.sleep(0.05)


def test_daemon_runs_as_the_user_on_every_thread(dropped):
    pw = pwd.getpwnam(USER)
    tasks = os.listdir("/proc/%d/task" % dropped.pid)
    # Worker threads, the stats thread and the main one: each has switched.
    assert len(tasks) >= 3, tasks
    for tid in tasks:
        with open("/proc/%d/task/%s/status" % (dropped.pid, tid)) as f:
            status = f.read()
        assert ids(status, "Uid") == [pw.pw_uid] * 4, status
        assert ids(status, "Gid") == [pw.pw_gid] * 4, status
        assert ids(status, "Groups") == [pw.pw_gid], status
        # No capability is left: the switch from root to another uid clears them.
        for cap in ("CapPrm", "CapEff"):
            line = [ln for ln in status.splitlines() if ln.startswith(cap + ":")][0]
            assert int(line.split()[1], 16) == 0, line
    assert "running as user %s (uid %d, gid %d)" % (USER, pw.pw_uid, pw.pw_gid) in dropped.log()


def test_daemon_still_serves_udp_and_tcp_after_the_drop(dropped):
    assert addresses(dropped, "www.drop.test") == ["192.0.2.1"]
    assert addresses(dropped, "www.drop.test", tcp=True) == ["192.0.2.1"]
    assert addresses(dropped, "ns.drop.test", tcp=True) == ["192.0.2.53"]
    # The control socket was made by the user, in the directory tdnsd made for it.
    st = os.stat(dropped.control)
    assert st.st_uid == pwd.getpwnam(USER).pw_uid
    assert cli_ok(dropped, "status")


def test_sighup_and_config_reload_read_a_zone_changed_after_the_drop(dropped):
    assert addresses(dropped, "www.drop.test") == ["192.0.2.1"]
    dropped.write_zone("drop.test", ZONE % (2, "www A 192.0.2.2"))
    dropped.signal(signal.SIGHUP)
    wait_answer(dropped, "www.drop.test", ["192.0.2.2"])
    assert addresses(dropped, "www.drop.test", tcp=True) == ["192.0.2.2"]
    dropped.write_zone("drop.test", ZONE % (3, "www A 192.0.2.3\nnew A 192.0.2.4"))
    cli_ok(dropped, "config", "reload")
    wait_answer(dropped, "www.drop.test", ["192.0.2.3"])
    assert addresses(dropped, "new.drop.test", tcp=True) == ["192.0.2.4"]
    # Still the user after the reloads.
    with open("/proc/%d/status" % dropped.pid) as f:
        assert ids(f.read(), "Uid")[0] == pwd.getpwnam(USER).pw_uid
    assert dropped.proc.poll() is None
