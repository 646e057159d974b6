# SPDX-License-Identifier: MIT
"""tdnsd started without -c (issue 21): the embedded defaults when the default configuration file
(tdnsd -h names it: SYSCONFDIR/tdns/tdnsd.conf) is missing, and that file when it exists.

The defaults listen on port 53 and write to fixed places (the state directory LOCALSTATEDIR/lib/
tdns, the control socket /run/tdns/control.sock), so each daemon runs in namespaces of its own
(unshare -m -n): a network namespace with only its loopback, where port 53 is free and the root
servers are unreachable, and a mount namespace where the directories holding those places are
overlays whose changes land in the test's temporary directory.  Nothing outside it is written,
and the real /etc is never touched.  LOCALSTATEDIR is read from the Makefile of the build
directory that holds $TDNSD.  Queries are sent with dig inside the namespace (nsenter -n).
Needs root (namespaces)."""
import json
import os
import re
import shutil
import signal
import subprocess
import time

import pytest

from conftest import EXAMPLE_COM, tdns_cli_path, tdnsd_path
from helpers import stop_process

DEADLINE = 20.0


def makefile_dirs(build):
    """sysconfdir and localstatedir as the Makefile in build expands them."""
    try:
        with open(os.path.join(build, "Makefile")) as f:
            text = f.read()
    except OSError as e:
        pytest.fail("the default-path tests read the installation directories from the "
                    "Makefile next to $TDNSD: %s" % e, pytrace=False)
    defs = dict(re.findall(r"(?m)^([a-z_]+) = (.*)$", text))

    def expand(value):
        for _ in range(10):
            value = re.sub(r"\$[({]([a-z_]+)[)}]", lambda m: defs.get(m.group(1), ""), value)
        return value.strip()
    return expand(defs["sysconfdir"]), expand(defs["localstatedir"])


def default_paths():
    """(config file, state dir, control socket) that tdnsd uses without -c."""
    out = subprocess.run([tdnsd_path(), "-h"], capture_output=True, text=True).stdout
    m = re.search(r"\(default (\S+)", out)
    assert m, out
    cli = subprocess.run([tdns_cli_path(), "--help"], capture_output=True, text=True).stdout
    s = re.search(r"else (/\S+\.sock)\)", cli)
    assert s, cli
    sysconfdir, localstatedir = makefile_dirs(os.path.dirname(os.path.abspath(tdnsd_path())))
    assert m.group(1) == sysconfdir + "/tdns/tdnsd.conf", (m.group(1), sysconfdir)
    return m.group(1), localstatedir + "/lib/tdns", s.group(1)


def existing_ancestor(path):
    while not os.path.isdir(path):
        path = os.path.dirname(path)
    return path


class Isolated:
    """tdnsd in new mount and network namespaces; the nearest existing directories above the
    default paths are overlays whose upper layers are under base/upper."""

    def __init__(self, base):
        self.base = base
        self.conf, self.state, self.control = default_paths()
        tops = sorted({existing_ancestor(os.path.dirname(p))
                       for p in (self.conf, self.state, self.control)})
        # One overlay for a directory and everything below it.
        self.tops = [t for t in tops if not any(t != o and t.startswith(o.rstrip("/") + "/")
                                                for o in tops)]
        if "/" in self.tops:
            pytest.fail("cannot isolate a default path whose only existing parent is /: %s"
                        % self.tops, pytrace=False)
        self.proc = None
        self.log_path = os.path.join(base, "tdnsd.log")

    def upper(self, top):
        return os.path.join(self.base, "upper", top.strip("/").replace("/", "_"))

    def in_upper(self, path):
        """Where path, written inside the namespace, lands in the test's directory."""
        for top in self.tops:
            if path.startswith(top.rstrip("/") + "/"):
                return os.path.join(self.upper(top), path[len(top.rstrip("/")) + 1:])
        raise AssertionError("%s is under no overlay %s" % (path, self.tops))

    def script(self):
        lines = ["set -e", "ip link set lo up"]
        for top in self.tops:
            up = self.upper(top)
            work = up + ".work"
            os.makedirs(up, exist_ok=True)
            os.makedirs(work, exist_ok=True)
            lines.append("mount -t overlay overlay -o lowerdir=%s,upperdir=%s,workdir=%s %s"
                         % (top, up, work, top))
        lines.append('exec "$@"')
        return "\n".join(lines)

    def run(self, *args, wait=True, command=None, env=None):
        """tdnsd ARGS (never -c), or the command argv, in the namespaces: a Popen whose PID
        becomes tdnsd's own, as unshare, sh (and the command) exec it; with wait, its exit
        status and output."""
        self.log = open(self.log_path, "ab")
        argv = ["unshare", "-m", "-n", "--propagation", "private", "sh", "-c", self.script(),
                "sh"] + (command or [tdnsd_path()]) + list(args)
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT, env=env)
        if wait:
            rc = self.proc.wait(DEADLINE)
            self.log.close()
            return rc, self.text()
        return self.proc

    def text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def wait_listening(self, port):
        """Waits until tdnsd has UDP sockets on 127.0.0.1:port and [::1]:port, and a control
        socket."""
        deadline = time.monotonic() + DEADLINE
        want4, want6 = "0100007F:%04X" % port, "00000000000000000000000001000000:%04X" % port
        while True:
            if self.proc.poll() is not None:
                pytest.fail("tdnsd exited with %s:\n%s" % (self.proc.returncode, self.text()),
                            pytrace=False)
            try:
                with open("/proc/%d/net/udp" % self.proc.pid) as f:
                    udp4 = f.read()
                with open("/proc/%d/net/udp6" % self.proc.pid) as f:
                    udp6 = f.read()
                up = want4 in udp4 and want6 in udp6 and os.path.exists(
                    "/proc/%d/root%s" % (self.proc.pid, self.control_path))
            except OSError:
                up = False
            if up:
                return
            assert time.monotonic() < deadline, "tdnsd did not start:\n" + self.text()
            time.sleep(0.05)

    def dig(self, server, port, *args):
        """dig in tdnsd's network namespace; its output."""
        r = subprocess.run(["nsenter", "-t", str(self.proc.pid), "-n", "dig", "@" + server,
                            "-p", str(port), "+time=10", "+tries=1"] + list(args),
                           capture_output=True, text=True, timeout=60)
        return r.stdout + r.stderr

    def cli(self, *args):
        """tdns-cli with its default socket, in tdnsd's mount namespace."""
        return subprocess.run(["nsenter", "-t", str(self.proc.pid), "-m", tdns_cli_path()] +
                              list(args), capture_output=True, text=True, timeout=60)

    def stop(self):
        if self.proc is not None:
            rc = stop_process(self.proc, signal.SIGTERM)
            self.log.close()
            self.proc = None
            return rc
        return None


@pytest.fixture
def isolated(tmp_path):
    if os.geteuid() != 0:
        pytest.fail("these tests make mount and network namespaces and need root",
                    pytrace=False)
    for tool in ("unshare", "nsenter", "ip", "dig"):
        if shutil.which(tool) is None:
            pytest.fail("%s is missing (util-linux, iproute2, bind9-dnsutils)" % tool,
                        pytrace=False)
    made = []

    def factory():
        d = tmp_path / ("ns%d" % len(made))
        d.mkdir()
        iso = Isolated(str(d))
        made.append(iso)
        return iso
    yield factory
    for iso in made:
        rc = iso.stop()
        assert rc in (None, 0), iso.text()


def status_of(dig_output):
    m = re.search(r"status: (\w+)", dig_output)
    assert m, dig_output
    return m.group(1)


def flags_of(dig_output):
    m = re.search(r";; flags: ([a-z ]+);", dig_output)
    assert m, dig_output
    return m.group(1).split()


def test_without_a_file_the_embedded_defaults_serve_loopback_as_a_resolver(isolated):
    iso = isolated()
    real_state = os.path.exists(iso.state)
    iso.control_path = iso.control
    iso.run("-f", wait=False)
    iso.wait_listening(53)
    # UDP and TCP on 127.0.0.1:53 and [::1]:53; names outside any zone are resolved for
    # loopback clients (the root servers are unreachable here: SERVFAIL, with RA).
    for server in ("127.0.0.1", "::1"):
        for transport in ("+notcp", "+tcp"):
            out = iso.dig(server, 53, transport, "example.com", "A")
            assert status_of(out) == "SERVFAIL", out
            assert "ra" in flags_of(out), out
    # Not authoritative for anything, and the version is not told.
    out = iso.dig("127.0.0.1", 53, "+norec", "version.bind", "CH", "TXT")
    assert status_of(out) == "REFUSED", out
    r = iso.cli("--json", "config", "show")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)["data"]
    assert data["file"] is None, data
    sec = data["sections"]
    assert sec["server"]["listen"] == "127.0.0.1:53, [::1]:53", sec["server"]
    assert sec["server"]["state-dir"] == iso.state
    assert sec["recursion"]["mode"] == "recursive"
    assert sec["control"]["socket"] == iso.control
    # Its state directory was made inside the overlay, not on the real file system.
    assert os.path.isdir(iso.in_upper(iso.state))
    assert os.path.exists(iso.state) == real_state
    # A reload finds no file either and keeps to the defaults.
    os.kill(iso.proc.pid, signal.SIGHUP)
    deadline = time.monotonic() + DEADLINE
    while "reload: reading built-in defaults" not in iso.text():
        assert time.monotonic() < deadline, iso.text()
        time.sleep(0.05)
    out = iso.dig("127.0.0.1", 53, "+tcp", "example.com", "A")
    assert status_of(out) == "SERVFAIL", out


CONFIG = """[server]
listen = 127.0.0.1:5300, [::1]:5300
workers = 1
state-dir = %s
[control]
socket = %s
[recursion]
mode = off
[zone example.com]
type = primary
file = example.com.zone
"""


def test_without_c_the_default_file_is_read_checked_and_reloaded(isolated):
    iso = isolated()
    state = os.path.join(iso.base, "state")
    os.mkdir(state)
    iso.control_path = os.path.join(iso.base, "control.sock")
    with open(os.path.join(state, "example.com.zone"), "w") as f:
        f.write(EXAMPLE_COM)
    conf = iso.in_upper(iso.conf)
    os.makedirs(os.path.dirname(conf), exist_ok=True)
    with open(conf, "w") as f:
        f.write(CONFIG % (state, iso.control_path) + "bogus = 1\n")
    # -t reads that file: its error names it with the line.
    rc, out = iso.run("-t")
    assert rc == 1, out
    assert "%s:12: unknown key 'bogus'" % iso.conf in out, out
    with open(conf, "w") as f:
        f.write(CONFIG % (state, iso.control_path))
    rc, out = iso.run("-t")
    assert rc == 0 and "configuration OK" in out, out
    iso.run("-f", wait=False)
    iso.wait_listening(5300)
    out = iso.dig("127.0.0.1", 5300, "+norec", "web.example.com", "A")
    assert status_of(out) == "NOERROR" and "aa" in flags_of(out), out
    assert "192.0.2.80" in out, out
    # SIGHUP reads the same file again: a zone added to it is served.
    with open(os.path.join(state, "extra.test.zone"), "w") as f:
        f.write("$ORIGIN extra.test.\n@ 300 IN SOA ns hm 1 3600 600 86400 60\n@ NS ns\n"
                "ns A 192.0.2.9\n")
    with open(conf, "a") as f:
        f.write("[zone extra.test]\ntype = primary\nfile = extra.test.zone\n")
    os.kill(iso.proc.pid, signal.SIGHUP)
    deadline = time.monotonic() + DEADLINE
    while True:
        out = iso.dig("127.0.0.1", 5300, "+norec", "ns.extra.test", "A")
        if status_of(out) == "NOERROR" and "192.0.2.9" in out:
            break
        assert time.monotonic() < deadline, out + iso.text()
        time.sleep(0.1)
    r = subprocess.run([tdns_cli_path(), "-s", iso.control_path, "--json", "config", "show"],
                       capture_output=True, text=True, timeout=60)
    assert json.loads(r.stdout)["data"]["file"] == iso.conf, r.stdout
