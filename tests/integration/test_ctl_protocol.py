# SPDX-License-Identifier: MIT
"""The control protocol spoken on a raw Unix socket: framing, hello, errors, peer credentials."""
import json
import os
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import STANDARD_ZONES
from helpers import ctl_frame as frame, ctl_recv as recv, vm_rss_kib, wait_for, world_dir

HELLO = {"command": "hello", "args": {"protocol": 1, "client": "pytest"}}


def connect(server):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(server.control)
    return s


def ask(s, doc):
    s.sendall(frame(doc))
    return recv(s)


def hello(server):
    s = connect(server)
    r = ask(s, HELLO)
    assert r["ok"] is True, r
    return s


def error_id(reply):
    assert reply is not None, "no reply"
    assert reply["ok"] is False, reply
    return reply["error"]["id"]


def assert_closed(s):
    assert s.recv(1) == b""


@pytest.fixture
def srv(make_server):
    return make_server(zones=STANDARD_ZONES)


def test_hello_is_answered_with_the_protocol_and_server_version(srv):
    s = connect(srv)
    r = ask(s, HELLO)
    assert r["ok"] is True
    assert r["data"]["protocol"] == 1
    assert r["data"]["server"].startswith("tdnsd ")
    s.close()


def test_hello_with_another_protocol_version_gets_eproto_and_is_closed(srv):
    s = connect(srv)
    r = ask(s, {"command": "hello", "args": {"protocol": 2, "client": "future"}})
    assert error_id(r) == "EPROTO"
    assert "2" in r["error"]["message"]
    assert_closed(s)


def test_a_command_before_the_hello_gets_ehello_and_is_closed(srv):
    s = connect(srv)
    assert error_id(ask(s, {"command": "status"})) == "EHELLO"
    assert_closed(s)


def assert_body_gets_eframe_and_close(s, body):
    """Sends body, framed, on s; the daemon answers EFRAME and closes the connection."""
    s.sendall(struct.pack(">I", len(body)) + body)
    assert error_id(recv(s)) == "EFRAME"
    assert_closed(s)


def test_malformed_json_gets_eframe_and_close_while_another_client_keeps_working(srv):
    good = hello(srv)
    assert_body_gets_eframe_and_close(connect(srv), b'{"command": "status", ')
    r = ask(good, {"command": "status"})
    assert r["ok"] is True
    good.close()


def test_a_json_document_that_is_not_an_object_gets_eframe(srv):
    assert_body_gets_eframe_and_close(connect(srv), b'["hello"]')


def test_duplicate_members_are_malformed(srv):
    assert_body_gets_eframe_and_close(connect(srv), b'{"command": "hello", "command": "status"}')


def test_oversized_length_gets_eframe_and_close_while_another_client_keeps_working(srv):
    good = hello(srv)
    bad = connect(srv)
    bad.sendall(struct.pack(">I", 0xFFFFFFFF) + b"{")
    r = recv(bad)
    assert error_id(r) == "EFRAME"
    assert "exceeds" in r["error"]["message"]
    assert_closed(bad)
    # Just over the 16 MiB limit is refused too, before any payload arrives.
    bad = connect(srv)
    bad.sendall(struct.pack(">I", 16 * 1024 * 1024 + 1))
    assert error_id(recv(bad)) == "EFRAME"
    assert_closed(bad)
    assert ask(good, {"command": "status"})["ok"] is True
    good.close()
    assert srv.proc.poll() is None


def test_unknown_command_gets_eunknowncmd_and_the_connection_stays_open(srv):
    s = hello(srv)
    r = ask(s, {"command": "zone frobnicate", "args": {}})
    assert error_id(r) == "EUNKNOWNCMD"
    assert "zone frobnicate" in r["error"]["message"]
    assert ask(s, {"command": "status"})["ok"] is True
    s.close()


@pytest.mark.parametrize("doc,named", [
    ({"command": "status", "args": {"verbose": True}}, "verbose"),
    ({"command": "zone show", "args": {}}, "name"),
    ({"command": "zone show", "args": {"name": 42}}, "name"),
    ({"command": "zone create", "args": {"name": "a.test", "type": ["primary"]}}, "type"),
    ({"command": "record add", "args": {"zone": "example.com", "name": "x", "type": "A",
                                        "rdata": "192.0.2.1"}}, "rdata"),
    ({"command": "record add", "args": {"zone": "example.com", "name": "x", "type": "A",
                                        "rdata": []}}, "rdata"),
])
def test_bad_arguments_get_eargs_naming_the_argument(srv, doc, named):
    s = hello(srv)
    r = ask(s, doc)
    assert error_id(r) == "EARGS"
    assert named in r["error"]["message"]
    # Still open and usable.
    assert ask(s, {"command": "status"})["ok"] is True
    s.close()


def test_requests_pipelined_in_one_write_are_answered_in_order(srv):
    s = connect(srv)
    s.sendall(frame(HELLO) + frame({"command": "status"}) +
              frame({"command": "nope"}) + frame({"command": "status"}))
    assert recv(s)["data"]["protocol"] == 1
    assert recv(s)["ok"] is True
    assert error_id(recv(s)) == "EUNKNOWNCMD"
    assert recv(s)["ok"] is True
    s.close()


def test_a_client_leaving_mid_request_or_mid_reply_does_not_affect_the_daemon(srv):
    s = connect(srv)
    s.sendall(frame(HELLO) + struct.pack(">I", 100) + b'{"comm')
    s.close()
    s = connect(srv)
    s.sendall(frame(HELLO) + frame({"command": "status"}) * 200)
    s.close()
    s = hello(srv)
    assert ask(s, {"command": "status"})["ok"] is True
    s.close()
    assert srv.proc.poll() is None


def test_the_socket_has_mode_0660(srv):
    st = os.lstat(srv.control)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o660


CHILD = textwrap.dedent("""
    import json, os, socket, struct, sys
    gid = int(sys.argv[2])
    os.setgroups([int(g) for g in sys.argv[4].split(",") if g])
    os.setgid(gid)
    os.setuid(int(sys.argv[3]))
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    try:
        s.connect(sys.argv[1])
    except OSError as e:
        print(json.dumps({"connect_error": e.errno}))
        sys.exit(0)
    body = json.dumps({"command": "hello", "args": {"protocol": 1, "client": "x"}}).encode()
    s.sendall(struct.pack(">I", len(body)) + body)
    hdr = s.recv(4, socket.MSG_WAITALL)
    (n,) = struct.unpack(">I", hdr)
    reply = json.loads(s.recv(n, socket.MSG_WAITALL))
    s.settimeout(2)
    try:
        closed = s.recv(1) == b""
    except TimeoutError:
        closed = False
    print(json.dumps({"reply": reply, "closed": closed}))
""")


def as_other_user(path, gid=65534, uid=65534, groups=()):
    """Runs the hello as uid (and gid, and supplementary groups) in a child process; returns
    what it saw."""
    if os.geteuid() != 0:
        pytest.fail("this test changes uid and must run as root", pytrace=False)
    # The child's working directory is one uid 65534 can enter (the suite's is 0700).
    reachable = world_dir()
    try:
        out = subprocess.run([sys.executable, "-c", CHILD, path, str(gid), str(uid),
                              ",".join(str(g) for g in groups)], capture_output=True,
                             text=True, timeout=30, cwd=reachable)
    finally:
        shutil.rmtree(reachable, ignore_errors=True)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.mark.changes_uid
def test_a_client_of_another_uid_is_refused_by_its_peer_credentials(srv):
    # Open the file modes wide so that only the daemon's credentials check stands in the way.
    os.chmod(srv.control_dir, 0o755)
    os.chmod(srv.control, 0o666)
    got = as_other_user(srv.control)
    assert got["reply"]["ok"] is False
    assert got["reply"]["error"]["id"] == "EACCES"
    assert got["closed"] is True
    assert "refused peer uid 65534" in srv.log()
    # root still gets in.
    s = hello(srv)
    s.close()


@pytest.mark.changes_uid
def test_with_mode_0660_another_user_cannot_even_connect(srv):
    os.chmod(srv.control_dir, 0o755)
    got = as_other_user(srv.control)
    assert got == {"connect_error": 13}  # EACCES


@pytest.mark.changes_uid
def test_members_of_the_control_group_are_accepted(make_server):
    srv = make_server(zones=STANDARD_ZONES, start=False)
    text = open(srv.conf).read().replace(
        "[control]\n", "[control]\ngroup = nogroup\n")
    srv.write_config(text)
    srv.start()
    os.chmod(srv.control_dir, 0o755)
    st = os.lstat(srv.control)
    assert st.st_gid == 65534 and stat.S_IMODE(st.st_mode) == 0o660
    got = as_other_user(srv.control, gid=65534)
    assert got["reply"]["ok"] is True, got
    assert got["closed"] is False


def nogroup_server(make_server):
    srv = make_server(zones=STANDARD_ZONES, start=False)
    srv.write_config(open(srv.conf).read().replace("[control]\n", "[control]\ngroup = nogroup\n"))
    srv.start()
    os.chmod(srv.control_dir, 0o755)
    return srv


@pytest.mark.changes_uid
def test_the_control_group_is_checked_in_the_peers_credentials_not_the_group_database(
        make_server):
    srv = nogroup_server(make_server)
    # uid 4242 has no passwd entry, so no group database knows it; its process holds nogroup
    # as a supplementary group (SO_PEERGROUPS), which is what counts.
    got = as_other_user(srv.control, gid=4242, uid=4242, groups=[65534])
    assert got.get("reply", {}).get("ok") is True, got
    # nobody is in nogroup by the database (its primary group), but this process dropped it;
    # the socket's mode is opened wide so that only the credentials check decides.
    os.chmod(srv.control, 0o666)
    got = as_other_user(srv.control, gid=4242, uid=65534)
    assert got["reply"]["ok"] is False, got
    assert got["reply"]["error"]["id"] == "EACCES"
    assert "refused peer uid 65534 gid 4242" in srv.log()


@pytest.mark.changes_uid
def test_a_reload_gives_the_socket_to_a_new_control_group_and_takes_it_back(make_server):
    srv = make_server(zones=STANDARD_ZONES)
    os.chmod(srv.control_dir, 0o755)
    plain = open(srv.conf).read()
    assert as_other_user(srv.control, gid=65534) == {"connect_error": 13}
    srv.write_config(plain.replace("[control]\n", "[control]\ngroup = nogroup\n"))
    assert srv.cli("config", "reload").returncode == 0
    st = os.lstat(srv.control)
    assert st.st_gid == 65534 and stat.S_IMODE(st.st_mode) == 0o660
    got = as_other_user(srv.control, gid=65534)
    assert got["reply"]["ok"] is True, got
    # Without the key the group goes back to the daemon's, and members are refused again,
    # by the file's mode and by the credentials check alike.
    srv.write_config(plain)
    assert srv.cli("config", "reload").returncode == 0
    assert os.lstat(srv.control).st_gid == os.getegid()
    assert as_other_user(srv.control, gid=65534) == {"connect_error": 13}
    os.chmod(srv.control, 0o666)
    got = as_other_user(srv.control, gid=65534)
    assert got["reply"]["ok"] is False and got["reply"]["error"]["id"] == "EACCES", got


def short_timeout_server(make_server):
    srv = make_server(zones=STANDARD_ZONES, start=False)
    srv.write_config(open(srv.conf).read().replace("[control]\n", "[control]\ntimeout = 2\n"))
    srv.start()
    return srv


def closed_within(s, seconds, trickle=b""):
    """Whether the daemon closes s within seconds, sending one byte of trickle every 0.5 s
    meanwhile (so that the connection is never idle for long)."""
    import select
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if trickle:
            s.sendall(trickle[:1])
            trickle = trickle[1:]
        if select.select([s], [], [], 0.5)[0]:
            try:
                if s.recv(65536) == b"":
                    return True
            except ConnectionResetError:
                return True
    return False


def test_an_idle_control_connection_is_closed_after_the_timeout(make_server):
    srv = short_timeout_server(make_server)
    s = hello(srv)
    assert ask(s, {"command": "status"})["ok"] is True
    start = time.monotonic()
    assert closed_within(s, 20), "an idle control client was kept past [control] timeout = 2"
    assert time.monotonic() - start >= 1.5
    s.close()
    # Others still get in.
    s = hello(srv)
    s.close()


def test_a_control_request_trickling_in_is_closed_after_the_frame_deadline(make_server):
    # One byte every half second never leaves the connection idle for 2 s: only the
    # deadline from the request's first byte ends it.
    srv = short_timeout_server(make_server)
    s = hello(srv)
    req = frame({"command": "status", "args": {"pad": "x" * 40}})
    assert closed_within(s, 20, trickle=req), "a request trickling in held the connection"
    s.close()
    assert "did not arrive whole within 2 s" in srv.log()


def test_a_stale_socket_left_by_a_killed_daemon_is_replaced(srv):
    srv.signal(signal.SIGKILL)
    srv.proc.wait()
    assert os.path.exists(srv.control)
    srv.logf.close()
    srv.start()
    s = hello(srv)
    assert ask(s, {"command": "status"})["data"]["pid"] == srv.pid
    s.close()


def test_a_second_daemon_does_not_steal_a_live_socket(make_server):
    first = make_server(zones=STANDARD_ZONES)
    second = make_server(zones=STANDARD_ZONES, start=False)
    second.write_config(open(second.conf).read().replace(second.control, first.control))
    second.has_control = False
    second.start()
    deadline = time.monotonic() + 10
    while "in use by another running daemon" not in second.log():
        assert time.monotonic() < deadline, second.log()
        time.sleep(0.05)
    assert second.proc.poll() is None  # still serves DNS without the control socket
    s = hello(first)
    assert ask(s, {"command": "status"})["data"]["pid"] == first.pid
    s.close()


def test_a_client_that_does_not_read_its_replies_is_paused_not_buffered_without_bound(
        make_server, monkeypatch):
    import threading
    # In a sanitizer build, freed memory kept in ASan's quarantine would count as resident.
    monkeypatch.setenv("ASAN_OPTIONS", os.environ.get(
        "ASAN_OPTIONS", "abort_on_error=0:detect_leaks=1") + ":quarantine_size_mb=0")
    srv = make_server(zones=STANDARD_ZONES)
    s = hello(srv)
    for _ in range(20):  # the daemon's allocations for status replies, before the baseline
        assert ask(s, {"command": "status"})["ok"] is True
    reply_size = len(frame(ask(s, {"command": "status"})))
    rss_before = vm_rss_kib(srv.pid)
    # 60000 requests (1.5 MB) whose replies take far more than the daemon may queue for one
    # client (1 MiB) and than the kernel holds: unbounded, about 20 MB.  The kernel holds a
    # few hundred kB of the requests, so a daemon that stops reading blocks the sender early.
    n, batch = 60000, 100
    unbounded_kib = n * reply_size // 1024
    assert unbounded_kib > 16 * 1024, reply_size
    sent = [0]

    def sender():
        for _ in range(n // batch):
            s.sendall(frame({"command": "status"}) * batch)
            sent[0] += batch

    t = threading.Thread(target=sender, daemon=True)
    t.start()
    # Meanwhile another client is served.
    other = hello(srv)
    assert ask(other, {"command": "status"})["ok"] is True
    other.close()

    # The daemon stops reading: the sender makes no progress for a while (or, broken, it
    # sends everything).  Progress within 2 s counts as reading.
    last, quiet_since = -1, time.monotonic()

    def stalled_or_done():
        nonlocal last, quiet_since
        now = sent[0]
        if not t.is_alive():
            return True
        if now != last:
            last, quiet_since = now, time.monotonic()
        return time.monotonic() - quiet_since >= 2.0

    wait_for(stalled_or_done, timeout=60, what="the sender stalling or finishing",
             step=0.05)
    rss_paused = vm_rss_kib(srv.pid)
    # The output queue (1 MiB) and what was read before the pause, with room for the
    # allocator: about 1 MiB of growth (6 MiB under ASan), far from the replies to every
    # request (which a daemon that kept reading would hold).
    queued_kib = rss_paused - rss_before
    assert queued_kib < unbounded_kib // 2, "daemon RSS grew by %d KiB (%d requests sent)" \
        % (queued_kib, sent[0])
    assert t.is_alive() and sent[0] < n, \
        "the daemon read all %d requests while their replies were not read" % n
    got = 0
    while got < n:
        r = recv(s)
        assert r is not None and r["ok"] is True
        got += 1
    t.join()
    s.close()
