# SPDX-License-Identifier: MIT
"""tdns-tui driven inside tmux (send-keys, capture-pane) against a running tdnsd."""
import contextlib
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import tempfile
import threading
import time

import dns.message
import dns.query
import dns.rcode
import pytest

from conftest import EXAMPLE_NET, SANITIZER_MARKS, STANDARD_ZONES, small_zone, tdns_cli_path
from helpers import WAIT_LONG, UdpLoad, accept_loop, read_exact, spawn, unix_listener, wait_for
from upstreams import FakeUpstream

BLOCKS = "\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588"
TABS = "1 Dashboard  2 Logs  3 Zones  4 Cache  5 Settings  6 Blocking"

# Small enough that every record fits on one 80x24 screen.
SMALL_COM = small_zone("example.com.", "192.0.2.80")


def tui_path():
    path = os.environ.get("TDNS_TUI") or shutil.which("tdns-tui")
    if not path and os.environ.get("TDNSD"):
        # run.sh outside make check: the programs sit side by side in the build directory.
        path = os.path.join(os.path.dirname(os.environ["TDNSD"]), "tdns-tui")
    if not path or not os.access(path, os.X_OK):
        pytest.fail("TDNS_TUI must name the tdns-tui binary (make check sets it)", pytrace=False)
    return path


class Tmux:
    """A private tmux server (its own -L socket) with one 80x24 pane running a shell."""

    counter = 0

    def __init__(self, width=80, height=24):
        Tmux.counter += 1
        self.name = "tdns-tui-test-%d-%d" % (os.getpid(), Tmux.counter)
        self.dir = tempfile.mkdtemp(prefix="tdns-tui-")
        self.pidfile = os.path.join(self.dir, "tui.pid")
        env = dict(os.environ)
        env.pop("TMUX", None)
        self.env = env
        self.run("-f", "/dev/null", "new-session", "-d", "-x", str(width), "-y", str(height),
                 "env", "PS1=$ ", "LANG=C.UTF-8", "LC_ALL=C.UTF-8", "TERM=screen-256color",
                 "sh")

    def run(self, *args, check=True):
        return subprocess.run(["tmux", "-L", self.name] + list(args), env=self.env,
                              capture_output=True, text=True, timeout=10, check=check)

    def start_tui(self, *args, env=""):
        """Runs tdns-tui in the shell; the shell prints TUI-EXIT=<status> when it ends."""
        cmd = "%s sh -c 'echo $$ > %s; exec %s %s'; echo TUI-EXIT=$?" % (
            env, self.pidfile, tui_path(), " ".join(args))
        self.run("send-keys", "-l", cmd)
        self.run("send-keys", "Enter")
        self.wait_for(lambda s: TABS in s, what="the tab line")

    def tui_pid(self):
        with open(self.pidfile) as f:
            return int(f.read().strip())

    def screen(self):
        return self.run("capture-pane", "-p").stdout

    def lines(self):
        return self.screen().split("\n")

    def keys(self, *keys):
        self.run("send-keys", *keys)

    def type(self, text):
        self.run("send-keys", "-l", text)

    def prompt(self, key, text, clear=False):
        """Opens the prompt of key, empties it first when clear, types text and sends it."""
        self.keys(key)
        if clear:
            self.keys("C-u")
        self.type(text)
        self.keys("Enter")

    def press(self, key, needle):
        """Sends key and waits for needle on the screen, which it returns."""
        self.keys(key)
        return self.wait_text(needle)

    def display(self, fmt):
        return self.run("display-message", "-p", fmt).stdout.strip()

    def wait_for(self, cond, timeout=10.0, what="the expected screen"):
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.screen()
            if cond(text):
                return text
            time.sleep(0.2)
        pytest.fail("timed out waiting for %s; the screen was:\n%s" % (what, text),
                    pytrace=False)

    def wait_text(self, needle, timeout=10.0):
        return self.wait_for(lambda s: needle in s, timeout, repr(needle))

    def tui_running(self):
        try:
            os.kill(self.tui_pid(), 0)
            return True
        except (OSError, ValueError):
            return False

    def quit(self):
        """Quits a still running tdns-tui with q (Escape first leaves any text field), so that
        it exits through its own path while the terminal is alive; returns the pane's text
        with its history, or None when it was not running."""
        if not self.tui_running():
            return None
        for _ in range(5):
            self.run("send-keys", "Escape", check=False)
            # Not a wait for an event: Escape and q read together would be Alt-q; a TUI too
            # busy to read them apart gets both again.
            time.sleep(0.2)
            self.run("send-keys", "q", check=False)
            deadline = time.monotonic() + 4
            while self.tui_running() and time.monotonic() < deadline:
                time.sleep(0.1)
            if not self.tui_running():
                break
        if self.tui_running():
            os.kill(self.tui_pid(), signal.SIGKILL)
            return "tdns-tui did not quit on q"
        history = lambda: self.run("capture-pane", "-p", "-S", "-1000", check=False).stdout
        deadline = time.monotonic() + 10
        while "TUI-EXIT=" not in history() and time.monotonic() < deadline:
            time.sleep(0.1)   # the shell prints TUI-EXIT=...
        return history()

    def kill(self):
        self.run("kill-server", check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def tmux():
    sessions = []

    def factory(**kw):
        t = Tmux(**kw)
        sessions.append(t)
        return t

    yield factory
    problems = []
    for t in sessions:
        try:
            text = t.quit()
        finally:
            t.kill()
        # A sanitizer build reports leaks and errors on the terminal when it exits.
        if text is not None and ("TUI-EXIT=0" not in text or
                                 any(m in text for m in SANITIZER_MARKS)):
            problems.append(text)
    if problems:
        pytest.fail("tdns-tui did not exit cleanly:\n" + "\n".join(problems), pytrace=False)


def cli_json(server, *args):
    r = subprocess.run([tdns_cli_path(), "-s", server.control, "--json"] + list(args),
                       capture_output=True, text=True, timeout=30)
    return json.loads(r.stdout) if r.stdout.strip() else {"ok": False}


def settled_stats(server, want):
    """The daemon's stats once they count want queries besides the readiness probes (". SOA";
    the tests send no SOA query).  Workers publish their counters once a second, each as one
    snapshot, so this waits for the publication itself."""
    def probe():
        cur = cli_json(server, "stats")["data"]
        return cur if cur["totals"]["queries"] - cur["qtypes"].get("SOA", 0) >= want else None
    cur = wait_for(probe, timeout=WAIT_LONG, what="%d queries in the stats" % want, step=0.1)
    assert cur["totals"]["queries"] - cur["qtypes"].get("SOA", 0) == want, cur["totals"]
    return cur


def send_queries(server, name, rdtype, count):
    for _ in range(count):
        server.query(name, rdtype, timeout=2.0)


def row_value(screen, label):
    """The value at the end of the dashboard row "label ..... value" (first match)."""
    m = re.search(r"(?m)\b%s\s+(\S+)" % re.escape(label), screen)
    return m.group(1) if m else None


def test_dashboard_shows_the_servers_numbers(make_server, tmux):
    s = make_server(zones=STANDARD_ZONES)
    t = tmux()
    t.start_tui("-s", s.control)
    t.wait_text("tdnsd ")
    send_queries(s, "www.example.com", "A", 30)
    send_queries(s, "nx.example.com", "A", 6)
    stats = settled_stats(s, 36)
    total = stats["totals"]["queries"]
    screen = t.wait_text("Queries %d " % total, timeout=WAIT_LONG)
    # The transport mix and the charts come from the same reply.
    assert row_value(screen, "udp") == str(stats["transports"]["udp"]), screen
    assert any(b in screen for b in BLOCKS), "no bar in the qps charts:\n" + screen
    for title in ("Answers by kind", "Latency, last min", "Transports", "Top clients",
                  "Top names", "Top blocked", "Queries/s, recent", "Queries/s, last hour"):
        assert title in screen, title
    # Kinds, latency and the top lists: the daemon's numbers, or "-" when it has none.
    kinds = stats.get("kinds")
    if kinds is not None:
        assert row_value(screen, "authoritative") == str(kinds["authoritative"]), screen
        assert row_value(screen, "NXDOMAIN") == str(kinds["nxdomain"]), screen
    else:
        assert row_value(screen, "authoritative") == "-", screen
    lat = stats.get("latency_ms")
    p50 = row_value(screen, "p50")
    if lat is not None:
        # Whole microseconds below a millisecond (issue 15: never "0.00 ms"), else ms.
        m = re.search(r"(?m)\bp50\s+(\d+(?:\.\d\d)?) (µs|ms)\b", screen)
        assert m is not None, screen
        assert (m.group(2) == "µs") == ("." not in m.group(1)), screen
    else:
        assert p50 == "-", screen
    top = cli_json(s, "stats", "top")
    if top.get("ok"):
        screen = t.wait_text("www.example.com", timeout=WAIT_LONG)
        assert "127.0.0.1" in screen
    # Issue 16: answers by validation state, from the same reply.
    dnssec = stats.get("dnssec")
    m = re.search(r"DNSSEC\s+secure (\S+)\s+insecure (\S+)\s+bogus (\S+)\s+"
                  r"indeterminate (\S+)", screen)
    assert m is not None, screen
    if dnssec is not None:
        assert m.groups() == tuple(str(dnssec[k]) for k in ("secure", "insecure", "bogus",
                                                            "indeterminate")), screen
    else:
        assert m.groups() == ("-",) * 4, screen
    # The help line at the bottom, like htop's.
    last = t.lines()[23]
    assert "h Help" in last and "q Quit" in last, last


def test_ascii_monochrome_mode_draws_only_ascii(make_server, tmux):
    s = make_server(zones=STANDARD_ZONES)
    t = tmux()
    t.start_tui("-s", s.control, "--ascii", env="NO_COLOR=1")
    t.wait_text("tdnsd ")
    send_queries(s, "www.example.com", "A", 20)
    screen = t.wait_for(lambda x: "#" in x and "Queries 2" in x, what="an ASCII chart")
    assert all(ord(c) < 128 for c in screen), screen


def test_logs_screen_follows_filters_searches_and_pauses(make_server, tmux):
    s = make_server(zones=STANDARD_ZONES)
    t = tmux()
    t.start_tui("-s", s.control)
    t.press("2", "Query log")
    send_queries(s, "logged.example.com", "TXT", 2)
    send_queries(s, "www.example.com", "A", 2)
    screen = t.wait_text("logged.example.com.")
    assert "www.example.com." in screen
    assert "NXDOMAIN" in screen
    # Filter: only the lines holding the text.
    t.prompt("/", "logged")
    screen = t.wait_text('filter "logged"')
    assert "logged.example.com." in screen and "www.example.com." not in screen, screen
    # Pause: new entries wait until resumed.
    t.keys("Escape")
    t.wait_for(lambda x: "filter" not in x, what="the filter cleared")
    t.press("p", "PAUSED")
    send_queries(s, "afterpause.example.com", "A", 1)
    # The TUI has the new entry (it counts it as held), and does not show it.
    screen = t.wait_text("PAUSED, 1 new")
    assert "afterpause" not in screen, screen
    t.press("p", "afterpause.example.com.")
    # Search: n jumps to the newest match and pauses there.
    t.prompt("s", "logged")
    t.wait_text('search "logged"')
    screen = t.press("n", "PAUSED")
    assert "logged.example.com." in screen
    # The server log is the other view.
    t.keys("Escape", "Tab")
    t.wait_text("Server log")


def test_logs_screen_marks_a_failed_answer_with_its_ede(make_server, tmux):
    """Issue 16: a SERVFAIL with an Extended DNS Error (a bogus answer's 6 to 12; here a dead
    forwarder's 22 or 23) shows its code and name on the query log line."""
    import socket
    dead = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # bound, never read
    dead.bind(("127.0.0.1", 0))
    try:
        s = make_server(extra="[recursion]\nmode = forward\n\n[forwarders]\nservers = "
                              "udp://127.0.0.1:%d\ntimeout = 300\n\n" % dead.getsockname()[1])
        t = tmux()
        t.start_tui("-s", s.control)
        t.press("2", "Query log")
        r = s.send(dns.message.make_query("fails.example.test.", "A", use_edns=0), timeout=8)
        assert r.rcode() == dns.rcode.SERVFAIL, r
        screen = t.wait_for(lambda x: re.search(r"fails\.example\.test\..*SERVFAIL.*"
                                                r"EDE 2[23] \(", x),
                            what="the SERVFAIL line with its EDE")
        # The EDE's name follows, as far as 80 columns show it.
        assert re.search(r"EDE 22 \(No Reach|EDE 23 \(Network", screen), screen
    finally:
        dead.close()


def test_zones_form_adds_edits_and_deletes_records_the_server_answers(make_server, tmux):
    s = make_server(zones={"example.com": SMALL_COM, "example.net": EXAMPLE_NET})
    t = tmux()
    t.start_tui("-s", s.control)
    screen = t.press("3", "example.net.")
    names = [ln.split()[0] for ln in t.lines()[3:] if ln.strip().startswith("example.")]
    assert "example.com." in names, screen
    for _ in range(names.index("example.com.")):
        t.keys("Down")
    t.press("Enter", "Zone example.com.:")
    t.wait_text("192.0.2.80")
    # A bad address is caught in the form itself, with the zone file's reason.
    t.press("a", "Add record in example.com.")
    t.type("other.example.org.")
    t.keys("Tab", "Tab")
    t.type("300")
    t.keys("Tab")
    t.type("192.0.2")
    screen = t.press("Enter", "Error:")
    assert "bad A rdata: bad IPv4 address '192.0.2'" in screen, screen
    # What only the daemon knows comes back from it and is shown in the form too.
    t.type(".123")
    screen = t.press("Enter", "outside zone")
    assert "Error: name other.example.org. is outside zone example.com." in screen, screen
    assert s.query("tuiadd.example.com", "A").rcode() == dns.rcode.NXDOMAIN
    # Fixed: saved, and the server answers it.
    t.keys("Up", "Up", "Up", "C-u")
    t.type("tuiadd")
    t.press("Enter", "added tuiadd.example.com. A 192.0.2.123")
    t.wait_for(lambda x: re.search(r"(?m)^tuiadd\.example\.com\. +300 A +192\.0\.2\.123", x),
               what="the new record in the list")
    r = s.query("tuiadd.example.com", "A")
    assert [rr.to_text() for rr in r.answer[0]] == ["192.0.2.123"]
    assert r.answer[0].ttl == 300
    # Edit the only record of its rrset: replaced in one step (record update).
    select_row(t, "tuiadd.example.com.")
    t.press("e", "Edit record in example.com.")
    t.keys("C-u")
    t.type("192.0.2.124")
    t.press("Enter", "changed tuiadd.example.com. A 192.0.2.124 (serial")
    assert answers(s, "tuiadd.example.com") == ["192.0.2.124"]
    # With a second record in the rrset (added by tdns-cli), an edit changes only its record.
    assert s.cli("record", "add", "example.com", "tuiadd", "A", "192.0.2.200").returncode == 0
    t.press("r", "192.0.2.200")
    select_row(t, "192.0.2.124")
    t.press("e", "Edit record in example.com.")
    t.keys("C-u")
    t.type("192.0.2.126")
    t.keys("Enter")
    # The new record is added first, the old one deleted only then.
    t.wait_text("changed tuiadd.example.com. A 192.0.2.124 to 192.0.2.126")
    t.wait_for(lambda x: "192.0.2.126" in x and "192.0.2.124" not in x,
               what="the refreshed record list")
    assert answers(s, "tuiadd.example.com") == ["192.0.2.126", "192.0.2.200"]
    # Delete one record after the question.
    select_row(t, "192.0.2.126")
    t.press("d", "Delete tuiadd.example.com. A 192.0.2.126? (y/n)")
    t.press("y", "deleted tuiadd.example.com. A 192.0.2.126")
    assert answers(s, "tuiadd.example.com") == ["192.0.2.200"]
    # The same state as tdns-cli sees it.
    listed = cli_json(s, "record", "list", "example.com", "tuiadd")
    assert [r["rdata"] for r in listed["data"]] == ["192.0.2.200"]


def answers(server, name):
    r = server.query(name, "A")
    return sorted(rr.to_text() for rr in r.answer[0]) if r.answer else []


def select_row(t, needle):
    """Moves the record list's selection to the first row holding needle."""
    rows = t.lines()
    first = next(i for i, ln in enumerate(rows) if ln.startswith("NAME")) + 1
    idx = next(i for i, ln in enumerate(rows) if i >= first and needle in ln)
    t.keys("Home")
    for _ in range(idx - first):
        t.keys("Down")


def test_cache_screen_browses_looks_up_and_flushes(make_server, tmux):
    up = FakeUpstream(["remote.test. 300 IN SOA ns.remote.test. h.remote.test. 1 2 3 4 300",
                       "www.remote.test. 300 IN A 192.0.2.7",
                       "mail.remote.test. 300 IN A 192.0.2.8",
                       "other.test. 300 IN SOA ns.other.test. h.other.test. 1 2 3 4 300",
                       "www.other.test. 300 IN A 192.0.2.9"])
    try:
        s = make_server(zones=STANDARD_ZONES,
                        extra="[recursion]\nmode = forward\n\n[forwarders]\nservers = %s\n"
                              % up.url)
        for name in ("www.remote.test", "mail.remote.test", "www.other.test"):
            # Fill the cache (a busy machine may time the first upstream query out).
            for _ in range(3):
                r = s.query(name, "A", rd=True)
                if r.rcode() == dns.rcode.NOERROR:
                    break
            assert r.rcode() == dns.rcode.NOERROR, (name, r)
        t = tmux()
        t.start_tui("-s", s.control)
        t.keys("4")
        # The dashboard's top names show these names too: wait for the Cache screen itself.
        screen = t.wait_text("Cache: 3 entries")
        assert "www.other.test." in screen, screen
        assert "mail.remote.test." in screen and "www.remote.test." in screen
        # Look up: the entries at and below a name.
        t.prompt("/", "remote.test")
        screen = t.wait_text("Cache at and below remote.test: 2 entries")
        assert "www.other.test." not in screen
        # Flush only after the question; "n" keeps everything.
        t.press("Escape", "Cache: 3 entries")
        t.press("f", "Flush the whole cache? (y/n)")
        t.press("n", "cancelled")
        assert cli_json(s, "cache", "list")["data"]["total"] == 3
        t.press("f", "Flush the whole cache? (y/n)")
        t.press("y", "Cache: 0 entries")
        assert cli_json(s, "cache", "list")["data"]["entries"] == []
    finally:
        up.stop()


def dig_status(server, name):
    out = subprocess.run(["dig", "@127.0.0.1", "-p", str(server.port), "+time=3", "+tries=1",
                          name, "A"], capture_output=True, text=True, timeout=30).stdout
    m = re.search(r"status: (\w+)", out)
    return (m.group(1) if m else None), "EDE: 15 (Blocked)" in out


def test_blocking_screen_allows_a_top_blocked_name_and_pauses(make_server, tmux, tmp_path):
    lists = tmp_path / "block.txt"
    lists.write_text("# ads\n0.0.0.0 ads.blocked.test\n||tracker.test^\n")
    s = make_server(extra="[blocking]\nenabled = yes\nlists = %s\n" % lists)
    for _ in range(5):
        s.query("ads.blocked.test")
    for _ in range(2):
        s.query("x.tracker.test")
    assert dig_status(s, "ads.blocked.test") == ("NXDOMAIN", True)
    t = start_sized(tmux, s, (100, 30))
    screen = t.press("6", "Blocking: on")
    # The list with its count, the top blocked names (the most blocked one selected first),
    # and the clients of the blocked answers.
    screen = t.wait_text("ads.blocked.test.", timeout=WAIT_LONG)
    assert re.search(r"(?m)^block +- +2 .*block\.txt", screen), screen
    assert re.search(r"(?m)^ +6  ads\.blocked\.test\.", screen), screen
    assert re.search(r"127\.0\.0\.1", screen.split("Top blocked clients")[1]), screen
    assert "a Allow" in t.lines()[29], t.lines()[29]
    # a: allow the selected name; the daemon answers it again, and tdns-cli sees it.
    t.press("a", "allow list: added ads.blocked.test.")
    assert dig_status(s, "ads.blocked.test") == ("REFUSED", False)
    assert cli_json(s, "allow", "list")["data"]["custom"] == ["ads.blocked.test"]
    t.wait_text("custom: 0 blocked, 1 allowed")
    # b: block a name typed in the prompt.
    t.keys("b", "C-u")
    t.type("more.test")
    t.press("Enter", "block list: added more.test")
    assert dig_status(s, "www.more.test") == ("NXDOMAIN", True)
    # p: pause with a duration, p again resumes.
    t.press("p", "Pause blocking for")
    t.keys("C-u")
    t.type("10m")
    t.press("Enter", "blocking paused for 600 s")
    t.wait_text("PAUSED, 9 min")
    assert dig_status(s, "x.tracker.test") == ("REFUSED", False)
    t.press("p", "blocking resumed")
    t.wait_text("Blocking: on")
    assert dig_status(s, "x.tracker.test") == ("NXDOMAIN", True)
    # The query log marks the blocked queries with their list, line and EDE: at the end of
    # the line, brought into view by scrolling sideways.
    screen = t.press("2", "x.tracker.test.")
    assert "block.txt:3" not in screen, screen
    t.keys("Right", "Right", "Right")
    screen = t.wait_text("EDE 15 (Blocked) blocked by block.txt:3")
    assert "127.0.0.1" not in screen, screen
    t.keys("Left", "Left")
    t.press("Left", "127.0.0.1")


class FakeDaemon:
    """A control socket that says hello and knows only `stats` (and that only partly): an
    older or smaller daemon, for the TUI's "-" and "not available" paths."""

    def __init__(self, path, silent=False):
        self.path = path
        self.silent = silent
        self.sock = unix_listener(path, 8)
        self.stopping = threading.Event()
        self.commands = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        accept_loop(self.sock, self.stopping, lambda c: spawn(self._serve, c))

    _read = staticmethod(read_exact)

    def _serve(self, c):
        c.settimeout(None)
        try:
            while not self.stopping.is_set():
                n = struct.unpack(">I", self._read(c, 4))[0]
                req = json.loads(self._read(c, n))
                cmd = req.get("command")
                self.commands.append(cmd)
                if self.silent:
                    continue   # a hung daemon: reads requests, never answers
                if cmd == "hello":
                    rep = {"ok": True, "data": {"protocol": 1, "server": "fakedaemon 9.9"}}
                elif cmd == "stats":
                    rep = {"ok": True, "data": {"totals": {"queries": 4242}}}
                else:
                    rep = {"ok": False, "error": {"id": "EUNKNOWNCMD",
                                                  "message": "unknown command: %s" % cmd}}
                b = json.dumps(rep).encode()
                c.sendall(struct.pack(">I", len(b)) + b)
        except (EOFError, OSError, ValueError):
            pass
        finally:
            c.close()

    def stop(self):
        self.stopping.set()
        self.sock.close()


@contextlib.contextmanager
def tui_on_fake_daemon(tmux, sock, silent=False):
    """A TUI (the Tmux, yielded with the FakeDaemon) connected to a FakeDaemon on socket sock."""
    t = tmux()
    fake = FakeDaemon(os.path.join(t.dir, sock), silent=silent)
    try:
        t.start_tui("-s", fake.path)
        yield t, fake
    finally:
        fake.stop()


def test_missing_commands_and_fields_show_as_dash_or_not_available(tmux):
    with tui_on_fake_daemon(tmux, "fake.sock") as (t, fake):
        screen = t.wait_text("Queries 4242")
        assert "fakedaemon 9.9" in screen
        assert row_value(screen, "authoritative") == "-", screen
        assert row_value(screen, "NXDOMAIN") == "-", screen
        assert row_value(screen, "p99") == "-", screen
        t.press("2", "log not available in this daemon")
        t.press("4", "cache not available in this daemon")
        t.press("5", "config show: unknown command: config show")
        t.press("6", "blocking not available in this daemon")
        t.press("q", "TUI-EXIT=0")
        assert "log follow" in fake.commands and "stats top" in fake.commands


def test_settings_screen_shows_the_running_configuration(make_server, tmux):
    s = make_server(zones=STANDARD_ZONES)
    t = tmux()
    t.start_tui("-s", s.control)
    screen = t.press("5", "[server]")
    assert "Running configuration" in screen and "read-only" in screen
    assert re.search(r"listen\s+= 127\.0\.0\.1:%d" % s.port, screen), screen
    # Scrolls to the end: the zones come last.
    t.press("End", "[zone example.net]")


def test_display_survives_a_daemon_restart(make_server, tmux):
    s = make_server(zones=STANDARD_ZONES)
    t = tmux()
    t.start_tui("-s", s.control)
    t.wait_text("tdnsd ")
    old_pid = s.pid
    os.kill(old_pid, signal.SIGTERM)
    s.proc.wait(10)
    s.logf.close()
    t.wait_text("disconnected")
    # A new daemon on the same socket: the TUI finds it again by itself.
    s.start()
    assert s.pid != old_pid
    t.wait_for(lambda x: "disconnected" not in x and "tdnsd " in x, timeout=10,
               what="the reconnection")
    send_queries(s, "www.example.com", "A", 7)
    stats = settled_stats(s, 7)
    t.wait_text("Queries %d " % stats["totals"]["queries"], timeout=WAIT_LONG)


def test_socket_is_found_from_the_config_file_then_the_environment(make_server, tmux):
    s = make_server(zones=STANDARD_ZONES)
    t = tmux()
    t.start_tui("-c", s.conf)
    t.wait_text("tdnsd ")
    t.keys("5")
    t.wait_text("socket" + " " * 19 + "= " + s.control)
    t.press("q", "TUI-EXIT=0")
    t.run("send-keys", "clear", "Enter")
    t.start_tui(env="TDNS_SOCKET=%s" % s.control)
    t.wait_text("tdnsd ")
    # A configuration file that cannot be read is reported before the screen is taken.
    r = subprocess.run([tui_path(), "-c", os.path.join(t.dir, "missing.conf")],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 2 and "missing.conf" in r.stderr, r


def test_q_quits_and_restores_the_terminal(make_server, tmux):
    s = make_server(zones=STANDARD_ZONES)
    t = tmux()
    t.start_tui("-s", s.control)
    assert t.display("#{alternate_on}") == "1"
    screen = t.press("q", "TUI-EXIT=0")
    assert TABS not in screen
    assert t.display("#{alternate_on}") == "0"
    # The shell is back and works.
    t.type("echo back-in-$((6*7))")
    t.press("Enter", "back-in-42")


def test_sigterm_and_a_missing_daemon_restore_the_terminal(tmux):
    t = tmux()
    sock = os.path.join(t.dir, "nothing.sock")
    t.start_tui("-s", sock)
    t.wait_text("disconnected")
    os.kill(t.tui_pid(), signal.SIGTERM)
    t.wait_text("TUI-EXIT=143")
    assert t.display("#{alternate_on}") == "0"


def test_a_hung_daemon_never_blocks_the_keyboard(tmux):
    with tui_on_fake_daemon(tmux, "hung.sock", silent=True) as (t, fake):
        # One hello on each of its two connections (requests, log follow).
        wait_for(lambda: fake.commands.count("hello") == 2, what="the TUI's hellos")
        # The hellos are never answered: still "disconnected", and every key works while they
        # wait (a TUI that blocked on one would read keys only after giving up on the daemon,
        # REPLY_TIMEOUT_MS = 15 s, and then say hello again on a new connection).
        for key, text in (("3", "Zones (0)"), ("5", "Running configuration"),
                          ("2", "Query log"), ("h", "Help: Logs")):
            t.keys(key)
            t.wait_text(text, timeout=10)
        assert "disconnected" in t.screen()
        assert fake.commands.count("hello") == 2, fake.commands
        t.keys("Escape", "q")
        t.wait_text("TUI-EXIT=0")


def test_ctrl_c_quits_and_restores_the_terminal(make_server, tmux):
    s = make_server(zones=STANDARD_ZONES)
    t = tmux()
    t.start_tui("-s", s.control)
    t.wait_text("tdnsd ")
    t.press("C-c", "TUI-EXIT=130")
    assert t.display("#{alternate_on}") == "0"


@pytest.mark.parametrize("size", [(40, 12), (80, 24), (160, 48)])
def test_record_form_shows_every_field_its_error_and_whole_hints_at_any_size(make_server, tmux,
                                                                            size):
    """Issue 15: at 40x12 the form hid its Rdata field and its error; hints were cut."""
    s = make_server(zones={"example.com": SMALL_COM})
    t = tmux()
    t.start_tui("-s", s.control)  # waits for the whole tab line: at 80 columns
    if size != (80, 24):
        t.run("resize-window", "-x", str(size[0]), "-y", str(size[1]))
        t.wait_for(lambda x: len(x.rstrip("\n").split("\n")) <= size[1] and
                   max(len(ln) for ln in x.split("\n")) <= size[0] and "1 Dash" in x,
                   what="the %dx%d screen" % size)
    t.press("3", "example.com.")
    t.press("Enter", "www.example.com.")
    screen = t.press("a", "Add record")
    # The Name hint, whole (wrapped on a narrow screen): every word of it is on the screen.
    hint = "relative name, @ for the apex, or absolute with a final dot"
    assert all(word in screen for word in hint.split()), screen
    if size[0] >= 80:
        assert hint in screen, screen
    t.type("www2")
    t.keys("Tab", "Tab", "Tab")  # the type is A already; the TTL stays empty
    t.type("192.0.2")
    screen = t.press("Enter", "Error:")
    for label in ("Name", "Type", "TTL", "Rdata"):
        assert re.search(r"(?m)^.*\b%s\b" % label, screen), (label, screen)
    assert "bad IPv4" in screen or size[0] < 80, screen
    # Fixed, it saves at this size too.
    t.type(".9")
    t.keys("Enter")
    t.wait_for(lambda x: "Add record" not in x, what="the form closing")
    assert [rr.to_text() for rr in s.query("www2.example.com", "A").answer[0]] == ["192.0.2.9"]


def test_resize_redraws_at_the_new_size(make_server, tmux):
    s = make_server(zones=STANDARD_ZONES)
    t = tmux()
    t.start_tui("-s", s.control)
    t.wait_text("tdnsd ")
    t.run("resize-window", "-x", "120", "-y", "40")
    t.wait_for(lambda x: len(x.split("\n")[0].rstrip()) > 80, what="a 120-column top line")
    lines = t.lines()
    assert lines[0].rstrip().endswith("tdnsd 0.1.0") or "tdnsd" in lines[0]
    assert "h Help" in lines[39], lines[39]


def start_sized(tmux, s, size):
    """tdns-tui on s, started at 80x24 (where start_tui sees the whole tab line), then sized."""
    t = tmux()
    t.start_tui("-s", s.control)
    if size != (80, 24):
        t.run("resize-window", "-x", str(size[0]), "-y", str(size[1]))
        t.wait_for(lambda x: len(x.rstrip("\n").split("\n")) <= size[1] and
                   max(len(ln) for ln in x.split("\n")) <= size[0] and "1 Dash" in x,
                   what="the %dx%d screen" % size)
    return t


def dash_number(screen, label):
    """The integer at the end of the dashboard row "label ..... N", or None."""
    v = row_value(screen, label)
    return int(v) if v is not None and v.isdigit() else None


def test_dashboard_frame_takes_every_figure_from_one_snapshot_under_load(make_server, tmux):
    s = make_server(zones=STANDARD_ZONES, workers=2)
    t = tmux()
    t.start_tui("-s", s.control)
    t.wait_text("tdnsd ")
    q = dns.message.make_query("www.example.com", "A").to_wire()
    nx = dns.message.make_query("nx.example.com", "A").to_wire()
    load = UdpLoad(s.addr, s.port, [nx, q, q, q])
    try:
        frames = 0
        seen = set()
        deadline = time.monotonic() + 60
        while frames < 5 and time.monotonic() < deadline:
            screen = t.screen()
            m = re.search(r"Queries (\d+) .*dropped (\d+)", screen)
            kinds = [dash_number(screen, k) for k in
                     ("authoritative", "cached", "forwarded", "recursive", "blocked")]
            if m is None or None in kinds or int(m.group(1)) in seen or int(m.group(1)) < 50:
                time.sleep(0.3)
                continue
            seen.add(int(m.group(1)))
            frames += 1
            # One frame, one snapshot: every query is dropped or answered by one kind.
            assert int(m.group(1)) == int(m.group(2)) + sum(kinds), screen
        assert frames == 5, "the dashboard did not move under load:\n" + t.screen()
    finally:
        load.stop()


@pytest.mark.parametrize("size", [(80, 24), (40, 12)])
def test_dashboard_charts_by_kind_and_top_lists_by_range(make_server, tmux, size):
    s = make_server(zones=STANDARD_ZONES)
    t = start_sized(tmux, s, size)
    t.wait_text("Queries/s")
    send_queries(s, "www.example.com", "A", 10)
    screen = t.press("k", "Authoritative/s")
    assert "charts: authoritative" in screen, screen
    for kind in ("Cached/s", "Forwarded/s", "Recursive/s", "Blocked/s", "Failed/s"):
        t.keys("k")
        t.wait_text(kind)
    t.press("k", "charts: every query")
    t.wait_text("Queries/s")
    t.press("t", "top lists: last 1m")
    if size[1] >= 24:
        screen = t.wait_text("Top clients, last 1m")
        t.wait_for(lambda x: "127.0.0.1" in x, what="the client in the last minute's list")
    for rng in ("5m", "1h"):
        t.keys("t")
        t.wait_text("top lists: last " + rng)
    t.press("t", "top lists: since start")
    # Every row of the screen fits its width.
    assert all(len(line) <= size[0] for line in t.lines()), t.screen()


@pytest.mark.parametrize("size", [(80, 24), (40, 12)])
def test_logs_screen_filters_by_client_name_type_and_rcode_while_following(make_server, tmux,
                                                                            size):
    s = make_server(zones=STANDARD_ZONES)
    t = start_sized(tmux, s, size)
    t.press("2", "Query log")
    send_queries(s, "nx1.example.com", "A", 1)
    send_queries(s, "www.example.com", "TXT", 1)
    t.wait_text("www.example.com")
    t.prompt("/", "rcode:nxdomain")
    screen = t.wait_for(lambda x: "www.example.com" not in x and "nx1.example.com" in x,
                        what="only the NXDOMAIN lines")
    # (Names are cut at 40 columns: look for them without the final dot.)
    # While it follows: new lines that pass come, the others do not.
    send_queries(s, "www.example.com", "A", 1)
    send_queries(s, "nx2.example.com", "A", 1)
    screen = t.wait_text("nx2.example.com")
    assert "www.example.com" not in screen, screen
    # Fields combine: a type and a name (and those below it).
    t.prompt("/", "type:TXT name:example.COM", clear=True)
    screen = t.wait_for(lambda x: "www.example.com" in x and "nx1.example.com" not in x,
                        what="only the TXT line")
    t.prompt("/", "client:127.0.0.9", clear=True)
    t.wait_text("no line matches the filter")
    t.prompt("/", "type:BOGUS", clear=True)
    t.wait_text("not an RR type")
    t.press("Escape", "nx1.example.com")
    assert all(len(line) <= size[0] for line in t.lines()), t.screen()
