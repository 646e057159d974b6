# SPDX-License-Identifier: MIT
"""tdns-cli against tdnsd: status, server stop, help, completion, socket discovery, exit codes."""
import json
import os
import re
import subprocess
import sys
import textwrap

import pytest

from conftest import STANDARD_ZONES, tdns_cli_path
from helpers import WAIT_LONG, wait_for


def cli(*args, env=None):
    return subprocess.run([tdns_cli_path()] + list(args), capture_output=True, text=True,
                          timeout=30, env=env, stdin=subprocess.DEVNULL)


def srcdir():
    return os.environ.get("TDNS_SRCDIR") or \
        os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


@pytest.fixture
def srv(make_server):
    return make_server(zones=STANDARD_ZONES)


def test_status_prints_key_value_lines(srv):
    r = srv.cli("status")
    assert r.returncode == 0, r.stderr
    lines = dict(l.split(": ", 1) for l in r.stdout.splitlines())
    assert re.match(r"\d+\.\d+\.\d+", lines["version"])
    assert lines["pid"] == str(srv.pid)
    assert lines["workers"] == "1"
    assert lines["zones"] == "2"
    assert "127.0.0.1:%d" % srv.port in lines["listeners"]
    assert "[::1]:%d" % srv.port in lines["listeners"]
    # Whole seconds since the daemon started: not more than the process has lived.
    assert 0 <= int(lines["uptime_seconds"]) <= process_age(srv.pid) + 1, lines
    # The mean of the last per-second samples: only the readiness probes were sent.
    assert 0 <= float(lines["queries_per_second"]) <= int(lines["queries"]), lines
    assert lines["config"] == os.path.realpath(srv.conf)


def process_age(pid):
    """Seconds since process pid started (/proc/PID/stat field 22, in clock ticks)."""
    with open("/proc/%d/stat" % pid) as f:
        start = int(f.read().rsplit(")", 1)[1].split()[19]) / os.sysconf("SC_CLK_TCK")
    with open("/proc/uptime") as f:
        return float(f.read().split()[0]) - start


def test_uptime_counts_seconds_since_the_start(srv):
    def uptime():
        return json.loads(srv.cli("--json", "status").stdout)["data"]["uptime_seconds"]
    first = uptime()
    # The daemon cannot have started before its process did.
    assert 0 <= first <= process_age(srv.pid) + 1
    later = wait_for(lambda: (lambda u: u if u >= first + 2 else None)(uptime()),
                     timeout=WAIT_LONG, what="the uptime growing by 2 s", step=0.2)
    assert later <= process_age(srv.pid) + 1


def test_status_json_is_the_whole_reply_document(srv):
    r = srv.cli("--json", "status")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert set(doc) == {"ok", "data"}
    assert doc["ok"] is True
    d = doc["data"]
    for key in ("version", "uptime_seconds", "pid", "workers", "listeners", "zones",
                "queries_per_second", "config"):
        assert key in d, key
    assert d["pid"] == srv.pid
    assert d["zones"] == 2
    assert d["listeners"] == ["127.0.0.1:%d" % srv.port, "[::1]:%d" % srv.port]
    # Indented for people reading it, still one document.
    assert r.stdout.startswith("{\n  ")


def test_status_counts_queries(srv):
    for _ in range(5):
        srv.query("www.example.com", "A")
    # The workers publish their counters once a second; besides the test's 5 queries, only
    # the readiness probes (". SOA") are counted.
    def counted():
        d = json.loads(srv.cli("--json", "status").stdout)["data"]
        probes = json.loads(srv.cli("--json", "stats").stdout)["data"]["qtypes"].get("SOA", 0)
        return (d, probes) if d["queries"] >= 5 + probes and d["queries_per_second"] > 0 \
            else None
    d, probes = wait_for(counted, timeout=WAIT_LONG, what="5 queries in the status", step=0.2)
    assert d["queries"] == 5 + probes, (d, probes)


def test_stats_replies_with_counters(srv):
    srv.query("example.com", "SOA")
    r = srv.cli("--json", "stats")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["ok"] is True
    assert "totals" in doc["data"]
    r = srv.cli("stats")
    assert r.returncode == 0, r.stderr
    assert "totals:" in r.stdout


def test_server_stop_replies_then_the_daemon_exits_0(srv):
    r = srv.cli("server", "stop")
    assert r.returncode == 0, r.stderr
    assert srv.proc.wait(timeout=10) == 0
    assert not os.path.exists(srv.control)
    assert "stop requested over the control socket" in srv.log()


def test_server_stop_json_reply_arrives_before_exit(srv):
    r = srv.cli("--json", "ser", "sto")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"ok": True, "data": {"stopping": True}}
    assert srv.proc.wait(timeout=10) == 0


def test_unique_prefixes_name_commands_and_ambiguous_ones_are_usage_errors(srv):
    r = srv.cli("statu")
    assert r.returncode == 0 and "version: " in r.stdout
    r = srv.cli("sta")
    assert r.returncode == 2
    assert "ambiguous command 'sta': status, stats" in r.stderr
    r = srv.cli("zone", "c", "x")
    assert r.returncode == 2
    assert "create" in r.stderr and "check" in r.stderr


def test_unreachable_daemon_exits_3_with_the_socket_and_reason(tmp_path):
    path = str(tmp_path / "none.sock")
    r = cli("-s", path, "status")
    assert r.returncode == 3
    assert r.stderr == "tdns-cli: cannot connect to %s: No such file or directory\n" % path
    # A stopped daemon's socket is gone too.
    r = cli("-s", "/dev/null", "status")
    assert r.returncode == 3
    assert r.stderr.startswith("tdns-cli: cannot connect to /dev/null: ")


def test_a_daemon_hanging_up_mid_request_makes_the_cli_exit_3_not_die_of_sigpipe(tmp_path):
    """A fake daemon answers the hello, then closes while tdns-cli is still writing a request
    bigger than the socket buffer: the write fails with EPIPE, which must be exit 3 with a
    message, not death by SIGPIPE (returncode -13)."""
    import socket
    import struct
    import threading
    path = str(tmp_path / "fake.sock")
    lst = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lst.bind(path)
    lst.listen(1)

    def fake():
        c, _ = lst.accept()
        (n,) = struct.unpack(">I", c.recv(4, socket.MSG_WAITALL))
        c.recv(n, socket.MSG_WAITALL)
        body = json.dumps({"ok": True, "data": {"protocol": 1, "server": "fake"}}).encode()
        c.sendall(struct.pack(">I", len(body)) + body)
        # Hang up unread once the request starts: most of its 1.8 MB is still to be written.
        c.recv(4, socket.MSG_WAITALL)
        c.close()
    t = threading.Thread(target=fake, daemon=True)
    t.start()
    rdata = ["x" * 60000] * 30  # 1.8 MB of arguments: far more than a socket buffer holds
    r = cli("-s", path, "record", "add", "example.com", "big", "TXT", *rdata)
    t.join(10)
    lst.close()
    assert r.returncode == 3, (r.returncode, r.stderr)
    assert r.stderr == ("tdns-cli: %s: cannot send the request: the daemon closed the "
                        "connection\n" % path)


@pytest.mark.parametrize("args,msg", [
    (["frobnicate"], "unknown command 'frobnicate'"),
    (["zone"], "'zone' needs one of: list, create"),
    (["zone", "show"], "missing NAME"),
    (["status", "extra"], "unexpected argument 'extra'"),
    (["zone", "create", "a.test", "--colour", "red"], "unknown option --colour"),
    (["zone", "create", "a.test", "--type"], "option --type needs a value"),
    (["record", "add", "example.com", "www", "A"], "missing RDATA"),
    (["help", "nothing"], "unknown command 'nothing'"),
    (["completion", "zsh"], "usage: tdns-cli completion bash"),
    ([], "usage: tdns-cli"),
    (["--bogus"], "usage: tdns-cli"),
])
def test_usage_errors_exit_2_before_contacting_the_daemon(tmp_path, args, msg):
    r = cli("-s", str(tmp_path / "none.sock"), *args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert msg in r.stderr


CHILD = textwrap.dedent("""
    import os, subprocess, sys
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)
    r = subprocess.run(sys.argv[1:], capture_output=True, text=True)
    sys.stdout.write(r.stdout)
    sys.stderr.write(r.stderr)
    sys.exit(r.returncode)
""")


@pytest.mark.changes_uid
def test_refused_by_the_daemon_exits_1_with_the_reason_on_stderr(srv, other_uid_cli):
    # uid 65534 runs a copy of tdns-cli in a directory it can reach: the checkout may live
    # under a 0700 directory such as /root.
    cli_copy, reachable = other_uid_cli
    os.chmod(srv.control_dir, 0o755)
    os.chmod(srv.control, 0o666)
    base = [sys.executable, "-c", CHILD, cli_copy, "-s", srv.control]
    r = subprocess.run(base + ["status"], capture_output=True, text=True, timeout=30,
                       cwd=reachable)
    assert r.returncode == 1
    assert r.stderr.startswith("tdns-cli: permission denied")
    assert r.stdout == ""
    # --json: the refusal is the document on stdout, the reason still on stderr.
    r = subprocess.run(base + ["--json", "status"], capture_output=True, text=True, timeout=30,
                       cwd=reachable)
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    assert doc["ok"] is False and doc["error"]["id"] == "EACCES"


def test_refusal_of_a_command_exits_1(srv):
    r = srv.cli("zone", "show", "no-such-zone.test")
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert r.stderr.startswith("tdns-cli: ")
    r = srv.cli("--json", "zone", "show", "no-such-zone.test")
    assert r.returncode == 1
    assert json.loads(r.stdout)["error"]["id"] == "ENOZONE"


def test_socket_discovery_order(srv, tmp_path):
    # -c FILE: the config's [control] socket.
    r = cli("-c", srv.conf, "status")
    assert r.returncode == 0, r.stderr
    # $TDNS_SOCKET when neither -s nor -c is given.
    env = dict(os.environ, TDNS_SOCKET=srv.control)
    r = cli("status", env=env)
    assert r.returncode == 0, r.stderr
    # -s wins over $TDNS_SOCKET, and -c over $TDNS_SOCKET.
    env = dict(os.environ, TDNS_SOCKET=str(tmp_path / "elsewhere.sock"))
    assert cli("-s", srv.control, "status", env=env).returncode == 0
    assert cli("-c", srv.conf, "status", env=env).returncode == 0
    r = cli("status", env=env)
    assert r.returncode == 3 and "elsewhere.sock" in r.stderr
    # Without any of them, the default path.
    env = {k: v for k, v in os.environ.items() if k != "TDNS_SOCKET"}
    r = cli("-s", "/run/tdns-test-nowhere/control.sock", "status", env=env)
    assert r.returncode == 3
    bad = tmp_path / "bad.conf"
    bad.write_text("[control]\nsocket = relative/path\n")
    r = cli("-c", str(bad), "status")
    assert r.returncode == 2 and str(bad) in r.stderr


def test_version_and_help(tmp_path):
    r = cli("--version")
    assert r.returncode == 0 and re.match(r"tdns-cli \d+\.\d+\.\d+\n$", r.stdout)
    r = cli("-h")
    assert r.returncode == 0
    r2 = cli("help")
    assert r2.stdout == r.stdout


def test_help_lists_every_command_of_the_table_with_its_synopsis():
    r = cli("help")
    assert r.returncode == 0
    for synopsis in ("status", "zone list", "zone create NAME [--type TYPE] [--file FILE]",
                     "zone delete NAME", "zone export NAME [FILE]", "zone import NAME FILE",
                     "zone check NAME [ORIGIN]", "record list ZONE [NAME] [TYPE]",
                     "record add ZONE NAME TYPE RDATA...",
                     "record delete ZONE NAME [TYPE] [RDATA...]", "config set KEY VALUE...",
                     "config reload", "stats", "server stop", "query NAME", "help [COMMAND...]",
                     "completion bash"):
        assert "  " + synopsis in r.stdout, synopsis
    assert "exit status: 0 success, 1 refused by the daemon, 2 usage error, 3 daemon " \
        "unreachable" in r.stdout


def test_help_of_one_command_shows_each_argument():
    r = cli("help", "rec", "add")
    assert r.returncode == 0
    assert r.stdout.startswith("usage: tdns-cli record add ZONE NAME TYPE RDATA...\n")
    assert "the SOA serial is bumped" in r.stdout
    for arg in ("ZONE", "NAME", "TYPE", "RDATA"):
        assert re.search(r"^  %s +\S" % arg, r.stdout, re.M), arg
    r = cli("help", "zone", "create")
    assert "  --type" in r.stdout and "(optional)" in r.stdout
    r = cli("help", "zone")
    assert r.returncode == 0
    assert "zone list" in r.stdout and "record add" not in r.stdout


def test_completion_script_is_the_committed_contrib_file():
    r = cli("completion", "bash")
    assert r.returncode == 0
    with open(os.path.join(srcdir(), "contrib", "tdns-cli.bash-completion")) as f:
        assert r.stdout == f.read(), \
            "contrib/tdns-cli.bash-completion is stale: regenerate it with " \
            "'tdns-cli completion bash'"


def complete(script, *words):
    """The completions bash offers for the words (the last one is being typed)."""
    words = ("tdns-cli",) + words
    prog = "%s\nCOMP_WORDS=(%s)\nCOMP_CWORD=%d\n_tdns_cli\n" % (
        script, " ".join("'%s'" % w for w in words), len(words) - 1)
    prog += "printf '%s\\n' \"${COMPREPLY[@]}\"\n"
    r = subprocess.run(["bash", "--norc", "-c", prog], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    return [l for l in r.stdout.splitlines() if l]


def test_completion_offers_the_table_words(tmp_path):
    script = cli("completion", "bash").stdout
    assert complete(script, "") == ["help", "query", "completion", "status", "zone", "record",
                                    "config", "stats", "log", "server", "cache", "forwarder",
                                    "block", "allow", "dnssec"]
    assert complete(script, "block", "") == ["add", "remove", "list", "lists", "update",
                                             "check", "pause", "resume"]
    assert complete(script, "block", "check", "a.test", "--") == ["--client"]
    assert complete(script, "zone", "c") == ["create", "check"]
    assert complete(script, "-s", "/x", "rec", "") == []  # abbreviations are not completed
    assert complete(script, "-s", "/x", "record", "") == ["list", "add", "delete", "update"]
    assert complete(script, "zone", "create", "a.test", "--") == ["--type", "--file",
                                                                   "--forwarder", "--ns",
                                                                   "--primary", "--key"]
    assert complete(script, "help", "server", "") == ["stop"]
    assert complete(script, "--js") == ["--json"]
    f = tmp_path / "example.zone"
    f.write_text("")
    assert complete(script, "zone", "import", "example.com", str(tmp_path / "exa")) == [str(f)]


def table_commands():
    """Command names as `tdns-cli help` lists them (from the command table)."""
    names = []
    for line in cli("help").stdout.splitlines():
        m = re.match(r"^  ([a-z]+(?: [a-z]+)?)(?: |$)", line)
        if m and line.split(None, 1)[0] == m.group(1).split()[0]:
            names.append(m.group(1))
    return names


def test_the_man_page_documents_every_command_of_the_table():
    names = table_commands()
    assert "zone create" in names and "server stop" in names and "status" in names
    with open(os.path.join(srcdir(), "doc", "tdns-cli.1")) as f:
        lines = f.read().splitlines()
    # The heading line of each .TP entry, without font escapes and macro names.
    headings = set()
    for prev, line in zip(lines, lines[1:]):
        if prev == ".TP":
            text = re.sub(r"\\f[BIRP]|^\.B[IR]? |\"", "", line)
            headings.add(" ".join(text.split()[:2]))
            headings.add(text.split()[0] if text.split() else "")
    for name in names:
        assert name in headings, "doc/tdns-cli.1 does not document '%s'" % name


def test_zone_export_writes_the_file_locally_or_prints_it(srv, tmp_path):
    outdir = tmp_path / "out"
    outdir.mkdir()
    out = outdir / "export.zone"
    r = srv.cli("zone", "export", "example.net", str(out))
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    text = out.read_text()
    assert "SOA" in text and "198.51.100.80" in text
    assert [p.name for p in outdir.iterdir()] == ["export.zone"]  # no temporary left
    r = srv.cli("zone", "export", "example.net")
    assert r.returncode == 0 and r.stdout == text
    # The exported file checks offline like any zone file.
    r = cli("zone", "check", str(out), "example.net")
    assert r.returncode == 0, r.stderr
    # --json with a FILE writes the file too; without it prints the reply document.
    doc = json.loads(srv.cli("--json", "zone", "export", "example.net").stdout)
    assert doc["ok"] is True and doc["data"]["text"] == text
    r = srv.cli("zone", "export", "example.net", str(tmp_path / "no" / "dir.zone"))
    assert r.returncode == 1 and "cannot write" in r.stderr


def test_zone_import_sends_a_local_file_and_a_missing_file_is_refused(srv, tmp_path):
    r = srv.cli("zone", "import", "example.net", str(tmp_path / "missing.zone"))
    assert r.returncode == 1
    assert r.stderr.startswith("tdns-cli: cannot read %s: " % (tmp_path / "missing.zone"))
