# SPDX-License-Identifier: MIT
"""pytest fixtures: each test gets its own tdnsd on a free loopback port and a temp state dir."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

# PortLock and port_clash are imported from here by the test files too.
from helpers import (START_ATTEMPTS, PortClash, PortLock, copy_for_other_uid,  # noqa: F401
                     port_clash, start_retrying)

START_TIMEOUT = float(os.environ.get("TDNS_TEST_START_TIMEOUT", "20"))
STOP_TIMEOUT = 10.0
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "ERROR: ThreadSanitizer", "SUMMARY: UndefinedBehaviorSanitizer")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "changes_uid: the test runs a binary or a client as another uid (65534); "
        "test_portability.py runs these again with the binaries under a 0700 directory")


def tdnsd_path():
    path = os.environ.get("TDNSD") or shutil.which("tdnsd")
    if not path or not os.access(path, os.X_OK):
        pytest.fail("TDNSD must name the tdnsd binary (make check sets it)", pytrace=False)
    return path


def tdns_cli_path():
    path = os.environ.get("TDNS_CLI") or shutil.which("tdns-cli")
    if not path or not os.access(path, os.X_OK):
        pytest.fail("TDNS_CLI must name the tdns-cli binary (make check sets it)", pytrace=False)
    return path


@pytest.fixture
def other_uid_cli():
    """tdns-cli copied into a fresh 0755 directory that uid 65534 can reach, wherever the
    checkout lives (root's home is 0700); yields (copy, directory)."""
    if os.geteuid() != 0:
        pytest.fail("this test changes uid and must run as root", pytrace=False)
    d, (cli,) = copy_for_other_uid(tdns_cli_path())
    yield cli, d
    shutil.rmtree(d, ignore_errors=True)


def zone_section(name, fname=None, ztype="primary"):
    return "[zone %s]\ntype = %s\nfile = %s\n" % (name, ztype, fname or name.rstrip(".") + ".zone")


class Server:
    """One tdnsd process with its config, state dir and log file."""

    def __init__(self, tmpdir, zones=None, server_extra="", extra="", port=None, ipv6=True,
                 workers=1, idle_timeout=10, log_level="info", raw_config=None):
        self.dir = str(tmpdir)
        self.binary = tdnsd_path()
        self.lock = None
        if port is None:
            self.lock = PortLock()
            port = self.lock.port
        self.port = port
        self.addr = "127.0.0.1"
        self.ipv6 = ipv6
        self.proc = None
        self.log_path = os.path.join(self.dir, "tdnsd.log")
        self.conf = os.path.join(self.dir, "tdnsd.conf")
        self.zones = dict(zones or {})
        for name, text in self.zones.items():
            self.write_zone(name, text)
        # The control socket lives in a short private directory: sun_path holds 107 bytes,
        # less than pytest's temporary paths may take.
        self.control_dir = tempfile.mkdtemp(prefix="tdns-ctl-")
        self.control = os.path.join(self.control_dir, "control.sock")
        if raw_config is not None:
            text = raw_config.replace("@DIR@", self.dir).replace("@CONTROL@", self.control)
        else:
            listen = "127.0.0.1:@PORT@" + (", [::1]:@PORT@" if ipv6 else "")
            text = ("[server]\nlisten = %s\nworkers = %d\nstate-dir = %s\n"
                    "tcp-idle-timeout = %d\n%s\n[log]\nlevel = %s\n\n"
                    % (listen, workers, self.dir, idle_timeout, server_extra, log_level))
            if "[control]" not in server_extra + extra:
                text += "[control]\nsocket = %s\n\n" % self.control
            if "[recursion]" not in server_extra + extra:
                # The default, recursive, would send names outside the test's zones to the
                # real root servers: tests say when they want recursion.
                text += "[recursion]\nmode = off\n\n"
            if "[dnssec]" not in server_extra + extra:
                # The tests' upstreams serve unsigned private trees under a root that is not
                # the real one, which the built-in root anchor makes bogus (as in Unbound):
                # the tests that validate give their own [dnssec] section and anchor.
                text += "[dnssec]\nvalidation = no\n\n"
            for name in self.zones:
                text += zone_section(name) + "\n"
            text += extra
        self.write_config(text.replace("@PORT@", str(port)))
        self.has_control = self.control in text

    def port_taken(self):
        """When tdnsd exited at start-up because another program took its own locked port (it
        says so in its log): locks another port, moves the listen addresses of the config file
        to it and returns True.  Otherwise False."""
        if self.lock is None or self.proc is None or self.proc.poll() is None:
            return False
        log = self.log()
        old = [a % self.port for a in ("127.0.0.1:%d", "[::1]:%d")]
        if not port_clash(log) or not any(a in log for a in old):
            return False
        with open(self.conf) as f:
            text = f.read()
        if old[0] not in text:
            return False
        self.logf.close()
        self.lock.release()
        self.lock = PortLock()
        sys.stderr.write("tdnsd: port %d taken at start-up, now on %d\n"
                         % (self.port, self.lock.port))
        self.port = self.lock.port
        for a in old:
            text = text.replace(a, a.rsplit(":", 1)[0] + ":%d" % self.port)
        self.write_config(text)
        return True

    # -- files --
    def zone_path(self, name):
        return os.path.join(self.dir, name.rstrip(".") + ".zone")

    def write_zone(self, name, text):
        # Write to a temp file and rename so a reload never reads a half-written zone.
        path = self.zone_path(name)
        with open(path + ".tmp", "w") as f:
            f.write(text)
        os.replace(path + ".tmp", path)

    def write_config(self, text):
        with open(self.conf, "w") as f:
            f.write(text)

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    # -- process --
    def start(self, wait=True, retry_port=True):
        """Starts tdnsd; with wait, until it answers.  With retry_port, a port another program
        took in the meantime makes it start again on a new one (only before a first start,
        while nobody can have used self.port yet)."""
        first = self.proc is None
        for _ in range(START_ATTEMPTS):
            self._spawn()
            if not wait:
                return self
            try:
                self.wait_ready()
                return self
            except PortClash:
                # Another port of the config (one the test locked) was taken: the test's
                # server_with_ports() takes new ones; anything else fails with the log.
                if not (retry_port and first and self.port_taken()):
                    raise
        pytest.fail("tdnsd found its ports taken %d times:\n%s" % (START_ATTEMPTS, self.log()),
                    pytrace=False)

    def _spawn(self):
        self.logf = open(self.log_path, "ab")
        env = dict(os.environ)
        # Sanitizer builds: report every finding, and make leaks fail the exit code.
        env.setdefault("ASAN_OPTIONS", "abort_on_error=0:detect_leaks=1")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        self.proc = subprocess.Popen([self.binary, "-f", "-c", self.conf], stdin=subprocess.DEVNULL,
                                     stdout=self.logf, stderr=self.logf, cwd=self.dir, env=env)

    def wait_ready(self, timeout=START_TIMEOUT):
        deadline = time.monotonic() + timeout
        q = dns.message.make_query(".", "SOA")
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                if port_clash(self.log()):
                    raise PortClash(self.log())
                pytest.fail("tdnsd exited with %d during start-up:\n%s"
                            % (self.proc.returncode, self.log()), pytrace=False)
            try:
                # Any answer (REFUSED for the root here) proves the listener is up.
                dns.query.udp(q, self.addr, port=self.port, timeout=0.2)
            except (dns.exception.Timeout, OSError):
                time.sleep(0.05)
                continue
            # The control socket opens right after the workers start.
            if not self.has_control or os.path.exists(self.control):
                return
            time.sleep(0.02)
        pytest.fail("tdnsd did not answer within %.0f s:\n%s" % (timeout, self.log()),
                    pytrace=False)

    @property
    def pid(self):
        return self.proc.pid

    def signal(self, sig):
        os.kill(self.proc.pid, sig)

    def reload(self):
        self.signal(signal.SIGHUP)

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM, then SIGKILL after timeout; returns the exit status (negative: killed)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()
        return self.proc.returncode

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def release(self):
        if self.lock:
            self.lock.release()
            self.lock = None
        shutil.rmtree(self.control_dir, ignore_errors=True)

    # -- control socket --
    def cli(self, *args, timeout=30, env=None):
        """Runs tdns-cli -s <this server's socket> ARGS...; returns the CompletedProcess."""
        return subprocess.run([tdns_cli_path(), "-s", self.control] + [str(a) for a in args],
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=timeout, env=env)

    # -- queries --
    def query(self, name, rdtype="A", tcp=False, timeout=3.0, edns=None, payload=1232,
              want_dnssec=False, rd=False, addr=None):
        """Sends one query and returns the parsed response (dnspython Message)."""
        use_edns = edns if edns is not None else (0 if want_dnssec else -1)
        q = dns.message.make_query(name, rdtype, use_edns=False)
        if use_edns >= 0:
            # Set afterwards: dnspython 2.3's make_query turns use_edns=1 into version 0.
            q.use_edns(use_edns, ednsflags=dns.flags.DO if want_dnssec else 0, payload=payload)
        if not rd:
            q.flags &= ~dns.flags.RD
        return self.send(q, tcp=tcp, timeout=timeout, addr=addr)

    def send(self, q, tcp=False, timeout=3.0, addr=None):
        addr = addr or self.addr
        if tcp:
            return dns.query.tcp(q, addr, port=self.port, timeout=timeout)
        return dns.query.udp(q, addr, port=self.port, timeout=timeout)


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the item so fixtures know at teardown whether the test failed.
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


@pytest.fixture
def make_server(request, tmp_path):
    """Factory: make_server(zones={name: text}, ...) -> started Server; stopped at teardown."""
    servers = []

    def factory(zones=None, start=True, subdir=None, **kw):
        d = tmp_path / (subdir or "srv%d" % len(servers))
        d.mkdir()
        s = Server(d, zones=zones, **kw)
        servers.append(s)
        if start:
            s.start()
        return s

    yield factory
    problems = []
    def phase_failed(when):
        rep = getattr(request.node, "rep_" + when, None)
        return rep is not None and rep.failed
    failed = phase_failed("setup") or phase_failed("call")
    for s in servers:
        was_running = s.proc is not None and s.proc.poll() is None
        rc = s.stop()
        s.release()
        log = s.log()
        if phase_failed("setup"):
            # The start-up failure was already reported with the log; do not report it twice.
            continue
        if any(m in log for m in SANITIZER_MARKS):
            problems.append("sanitizer report from tdnsd:\n" + log)
        elif was_running and rc != 0:
            problems.append("tdnsd exited with %s on SIGTERM:\n%s" % (rc, log))
        elif failed:
            sys.stderr.write("---- tdnsd log (%s) ----\n%s\n" % (s.conf, log))
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def server_with_ports(make_server, count, extra, **kw):
    """make_server(extra=extra(port1, ...), **kw) with COUNT more locked ports for the config
    (DoT, DoH, HTTP listeners); when another program took one at start-up, all are taken
    again.  Returns (server, [PortLock]); the caller releases the locks."""
    def attempt():
        locks = [PortLock() for _ in range(count)]
        try:
            return make_server(extra=extra(*[lk.port for lk in locks]), **kw), locks
        except PortClash:
            for lk in locks:
                lk.release()
            raise
    return start_retrying(attempt)


# ---- zones shared by the test files ----

DS_DIGEST = "2BB183AF5F22588179A53B0A98631FAD1A292118C4D4B8D3E4F6C3D8E5A7B9C1"
BIG_TXT = "".join('big TXT "%03d%s"\n' % (i, "x" * 197) for i in range(20))
MID_TXT = "".join('mid TXT "%03d%s"\n' % (i, "m" * 197) for i in range(4))
HUGE_TXT = "".join('huge TXT "%03d%s"\n' % (i, "h" * 197) for i in range(200))
LONG_TARGET = "%s.%s.%s.example.net." % ("a" * 63, "b" * 63, "c" * 60)

def small_zone(origin, www, ttl=3600, ns="ns1", soa="1 7200 3600 1209600 300"):
    """The text of a six-line zone: origin (absolute) with default TTL ttl, its SOA (serial and
    timers soa), one name server ns at 192.0.2.53 and www at the address www."""
    return ("$ORIGIN %s\n$TTL %d\n@ IN SOA %s.%s hostmaster.%s %s\n@ NS %s\n%s A 192.0.2.53\n"
            "www A %s\n" % (origin, ttl, ns, origin, origin, soa, ns, ns, www))


# SOA TTL 3600, minimum 300: negative answers carry the SOA with TTL 300 (RFC 2308 §3).
EXAMPLE_COM = """$ORIGIN example.com.
$TTL 3600
@           3600 IN SOA ns1.example.com. hostmaster.example.com. 2024010101 7200 3600 1209600 300
@                NS    ns1
@                NS    ns2.example.net.
@                MX    10 mail
@                MX    20 mail2.example.net.
@                A     192.0.2.1
@                AAAA  2001:db8::1
@                TXT   "v=spf1 -all"
ns1              A     192.0.2.53
ns1              AAAA  2001:db8::53
mail             A     192.0.2.25
mail             AAAA  2001:db8::25
www        600   CNAME web
web              A     192.0.2.80
chain1           CNAME chain2
chain2           CNAME chain3
chain3           A     192.0.2.3
out              CNAME www.example.net.
ext              CNAME target.elsewhere.test.
dangling         CNAME nothere
loop1            CNAME loop2
loop2            CNAME loop1
_sip._tcp        SRV   10 5 5060 sipserver
sipserver        A     192.0.2.60
*.w              A     192.0.2.99
*.w              TXT   "wild"
x.y.w            A     192.0.2.98
*.wc             CNAME web
sub              NS    ns1.sub
sub              NS    ns.other.test.
sub              DS    12345 13 2 %s
ns1.sub          A     192.0.2.54
ns1.sub          AAAA  2001:db8::54
dn         900   DNAME example.net.
long             DNAME %s
%s%s%s""" % (DS_DIGEST, LONG_TARGET, BIG_TXT, MID_TXT, HUGE_TXT)

# SOA TTL 120, minimum 600: negative answers carry the SOA with TTL 120.
EXAMPLE_NET = """$ORIGIN example.net.
$TTL 300
@      120 IN SOA ns2.example.net. hostmaster.example.net. 7 7200 3600 1209600 600
@          NS    ns2
ns2        A     198.51.100.2
www        A     198.51.100.80
mail2      A     198.51.100.25
"""

# RFC 4592 §2.2.1, with concrete SOA and SRV data.
RFC4592 = """$ORIGIN example.
example.                 3600 IN  SOA   ns.example.com. hostmaster.example. 1 7200 3600 1209600 300
example.                 3600     NS    ns.example.com.
example.                 3600     NS    ns.example.net.
*.example.               3600     TXT   "this is a wildcard"
*.example.               3600     MX    10 host1.example.
sub.*.example.           3600     TXT   "this is not a wildcard"
host1.example.           3600     A     192.0.2.1
_ssh._tcp.host1.example. 3600     SRV   0 0 22 host1.example.
_ssh._tcp.host2.example. 3600     SRV   0 0 22 host1.example.
subdel.example.          3600     NS    ns.example.com.
subdel.example.          3600     NS    ns.example.net.
"""

STANDARD_ZONES = {"example.com": EXAMPLE_COM, "example.net": EXAMPLE_NET}


@pytest.fixture
def server(make_server):
    """A started tdnsd serving example.com and example.net."""
    return make_server(zones=STANDARD_ZONES)


# ---- the signed DNS tree (dnssec_hier.py) ----

@pytest.fixture(scope="session")
def dnssec_hier():
    """The signed tree of dnssec_hier.py, signed and started once per session; stopped (every
    server by PID) at its end, whatever happened."""
    import dnssec_hier as dh
    h = dh.DnssecHierarchy()
    yield h
    h.stop()


@pytest.fixture(scope="session")
def dnssec_oracle(dnssec_hier):
    """A validating unbound on the signed tree (dnssec_hier.ValidatingUnbound): .ask(qname,
    rdtype, do=True, cd=False) gives a Verdict (rcode, answer, ad, msg)."""
    import dnssec_hier as dh
    u = dh.ValidatingUnbound(dnssec_hier)
    yield u
    u.stop()


@pytest.fixture
def dnssec_resolver(make_server, dnssec_hier):
    """A started tdnsd resolving iteratively from the signed tree's root (cold cache) and
    validating from its trust anchor (issue 16)."""
    extra = ("[recursion]\nmode = recursive\nroot-hints = %s\n"
             "[dnssec]\nvalidation = yes\ntrust-anchor-file = %s\n"
             % (dnssec_hier.hints, dnssec_hier.anchor_file))
    return make_server(extra=extra, ipv6=False)
