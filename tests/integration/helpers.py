# SPDX-License-Identifier: MIT
"""Shared by the integration tests: free ports, external server processes, helper sockets.

Ports: PortLock hands out a loopback port that is free (UDP and TCP, 127.0.0.1 and ::1) and
holds it with an flock, so parallel runs of the suite never pick the same one.  A port that a
program outside the suite takes between that check and the server's bind makes the server fail
at start-up with EADDRINUSE: Python servers bind with bind_locked(), which takes another port
then, and external servers raise PortClash, on which start_retrying() starts them again on new
ports.

Processes: Daemon runs one external server (unbound, nginx, knotd, NSD) by PID with its
output in a log file, waits until it answers and stops it (SIGTERM, then SIGKILL).

Other uids: copy_for_other_uid() copies binaries into a fresh 0755 directory that any uid can
reach, wherever the checkout lives (root's home is 0700)."""
import fcntl
import json
import os
import random
import shutil
import signal
import socket
import stat
import struct
import subprocess
import tempfile
import threading
import time

import dns.exception
import dns.flags
import dns.message
import dns.rdatatype
import pytest

# Port range the tests lock; below the kernel's ephemeral range (32768..60999 by default), so
# the client ports of other programs do not land on it.
PORT_LO, PORT_HI = 5300, 6999
# What servers write when a port is taken: strerror(EADDRINUSE) and NSD/unbound/knot wordings.
ADDR_IN_USE_MARKS = ("Address already in use", "address already in use", "Address in use",
                     "EADDRINUSE")
START_ATTEMPTS = 5


def _lockdir():
    """One lock directory for every run on this machine, whatever TMPDIR each run has."""
    for base in ("/tmp", tempfile.gettempdir()):
        d = os.path.join(base, "tdns-test-ports")
        try:
            os.makedirs(d, exist_ok=True)
            if os.stat(d).st_uid == os.geteuid():
                # Shared with the runs of other users, like /tmp itself.
                os.chmod(d, 0o1777)
            if os.access(d, os.W_OK | os.X_OK):
                return d
        except OSError:
            continue
    raise RuntimeError("no writable directory for the port locks")


def lock_file(name):
    """An flock'd file descriptor for NAME in the shared lock directory, or None if held."""
    fd = os.open(os.path.join(_lockdir(), name), os.O_CREAT | os.O_RDWR, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def _bindable(family, host, port):
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        s = socket.socket(family, kind)
        try:
            if kind == socket.SOCK_STREAM:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host, port))
        except OSError:
            return False
        finally:
            s.close()
    return True


class PortLock:
    """A free port (UDP and TCP, 127.0.0.1 and ::1) held by an flock until release()."""

    def __init__(self):
        rng = random.Random(os.getpid() ^ time.monotonic_ns())
        for _ in range(500):
            port = rng.randint(PORT_LO, PORT_HI)
            fd = lock_file(str(port))
            if fd is None:
                continue
            if _bindable(socket.AF_INET, "127.0.0.1", port) and \
                    _bindable(socket.AF_INET6, "::1", port):
                self.port, self.fd = port, fd
                return
            os.close(fd)
        raise RuntimeError("no free port in %d-%d" % (PORT_LO, PORT_HI))

    def release(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    # "with PortLock() as lock:" releases it at the end of the block.
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()


class PortClash(Exception):
    """A server could not bind a port at start-up because something else holds it."""


def port_clash(text):
    return any(m in text for m in ADDR_IN_USE_MARKS)


def start_retrying(start, attempts=START_ATTEMPTS):
    """Calls start() until it does not raise PortClash (it takes new ports each time)."""
    for i in range(attempts):
        try:
            return start()
        except PortClash as e:
            if i == attempts - 1:
                pytest.fail("ports taken %d times in a row at start-up:\n%s" % (attempts, e),
                            pytrace=False)
            time.sleep(0.05)
    return None


def bind_locked(hosts=("127.0.0.1",), udp=True, tcp=True, backlog=32):
    """Binds a UDP and/or a listening TCP socket on each of hosts, all on one locked port; a
    port that another program took after PortLock checked it is skipped for another.  Returns
    (lock, sockets) in the order host by host, UDP before TCP."""
    for _ in range(START_ATTEMPTS * 4):
        lock = PortLock()
        socks = []
        try:
            for host in hosts:
                family = socket.AF_INET6 if ":" in host else socket.AF_INET
                if udp:
                    socks.append(socket.socket(family, socket.SOCK_DGRAM))
                    socks[-1].bind((host, lock.port))
                if tcp:
                    socks.append(socket.socket(family, socket.SOCK_STREAM))
                    socks[-1].setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    socks[-1].bind((host, lock.port))
                    socks[-1].listen(backlog)
            return lock, socks
        except OSError:
            for sk in socks:
                sk.close()
            lock.release()
    raise RuntimeError("no port stayed free long enough to bind")


def recv_exact(sock, n):
    """Exactly n bytes from sock, or None when the peer closes first."""
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def read_exact(sock, n):
    """Exactly n bytes from sock; EOFError when the peer closes first."""
    buf = recv_exact(sock, n)
    if buf is None:
        raise EOFError("connection closed before %d octets" % n)
    return buf


def ctl_frame(doc):
    """The control-protocol frame of the JSON document doc: a 32-bit big-endian length, then it."""
    body = json.dumps(doc).encode()
    return struct.pack(">I", len(body)) + body


def ctl_recv(sock):
    """One control-protocol reply document from sock, or None when the daemon closed the
    connection before its header; a connection closed in the middle of a frame fails the test."""
    hdr = recv_exact(sock, 4)
    if hdr is None:
        return None
    (n,) = struct.unpack(">I", hdr)
    body = recv_exact(sock, n)
    assert body is not None, "connection closed in the middle of a frame"
    return json.loads(body)


def wait_tcp(port, proc=None, what="server", log=lambda: "", timeout=15.0, host="127.0.0.1"):
    """Waits until host:port accepts TCP; fails the test with log() when proc exits or on timeout.
    Raises PortClash when proc exited because its port was taken."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection((host, port), 0.5).close()
            return
        except OSError:
            if proc is not None and proc.poll() is not None:
                text = log()
                if port_clash(text):
                    raise PortClash(text)
                pytest.fail("%s exited with %s before it listened on %d:\n%s"
                            % (what, proc.returncode, port, text), pytrace=False)
            if time.monotonic() > deadline:
                pytest.fail("%s did not listen on %d:\n%s" % (what, port, log()), pytrace=False)
            time.sleep(0.05)


def stop_process(proc, sig=signal.SIGTERM, timeout=10):
    """Sends sig to proc (by PID) and waits; SIGKILL after timeout.  Returns the exit status."""
    if proc is None:
        return None
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


class Daemon:
    """One external server process started here, its output in DIR/stderr.log.

    Subclasses set `name` and `log_files` (names in self.dir shown by log()), take their ports
    with lock_ports(), write their configuration and call launch(argv); kill() ends the process
    by PID and keeps the ports locked, stop() releases them too."""

    name = "daemon"
    log_files = ("stderr.log",)

    def __init__(self, directory):
        self.dir = directory
        os.makedirs(self.dir, exist_ok=True)
        self.proc = None
        self.out = None
        self.locks = []

    def lock_ports(self, count=1):
        """Releases the ports held so far and locks count new ones; returns their numbers."""
        self.release_ports()
        self.locks = [PortLock() for _ in range(count)]
        return [lk.port for lk in self.locks]

    def release_ports(self):
        for lk in self.locks:
            lk.release()
        self.locks = []

    def launch(self, argv):
        self.out = open(os.path.join(self.dir, "stderr.log"), "ab")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.out,
                                     stderr=subprocess.STDOUT)
        return self.proc

    @property
    def pid(self):
        return self.proc.pid

    def log(self):
        return read_logs(self.dir, self.log_files)

    def check_alive(self):
        """Raises PortClash or fails the test when the process exited during start-up."""
        if self.proc.poll() is None:
            return
        text = self.log()
        if port_clash(text):
            self.kill()
            raise PortClash(text)
        self.stop()
        pytest.fail("%s exited with %s during start-up:\n%s"
                    % (self.name, self.proc.returncode, text), pytrace=False)

    def wait_until(self, probe, timeout=20.0):
        """Polls probe() (True when the server is up) until it holds; fails with the log."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                if probe():
                    return
            except Exception:  # OSError, EOFError, dnspython's timeouts: not up yet
                pass
            self.check_alive()
            if time.monotonic() > deadline:
                text = self.log()
                self.stop()
                pytest.fail("%s did not start within %.0f s:\n%s" % (self.name, timeout, text),
                            pytrace=False)
            time.sleep(0.05)

    def kill(self, sig=signal.SIGTERM):
        """Ends the process (sig, then SIGKILL after 10 s)."""
        rc = stop_process(self.proc, sig)
        if self.out is not None:
            self.out.close()
            self.out = None
        return rc

    def stop(self):
        rc = self.kill()
        self.release_ports()
        return rc


def unbound_server_lines(directory, verbosity):
    """The server: lines every test's unbound shares: IPv4 only, in the foreground without
    chroot or privilege drop, files and log in directory, one thread, loopback clients, no
    validator."""
    return ["  do-ip6: no",
            "  do-daemonize: no",
            '  chroot: ""',
            '  username: ""',
            '  directory: "%s"' % directory,
            '  pidfile: "%s/unbound.pid"' % directory,
            '  logfile: "%s/unbound.log"' % directory,
            "  use-syslog: no",
            "  verbosity: %d" % verbosity,
            "  num-threads: 1",
            "  access-control: 127.0.0.0/8 allow",
            '  module-config: "iterator"']


# ---- other uids ---------------------------------------------------------------------------------

def _reachable_by_all(path):
    """True when every directory from / down to path has the x bit for others."""
    path = os.path.abspath(path)
    while True:
        try:
            if not os.stat(path).st_mode & stat.S_IXOTH:
                return False
        except OSError:
            return False
        parent = os.path.dirname(path)
        if parent == path:
            return True
        path = parent


def world_dir(prefix="tdns-uid-"):
    """A fresh directory of mode 0755 in a place every uid can reach."""
    for base in (tempfile.gettempdir(), "/tmp", "/var/tmp", "/dev/shm"):
        if _reachable_by_all(base) and os.access(base, os.W_OK):
            d = tempfile.mkdtemp(prefix=prefix, dir=base)
            os.chmod(d, 0o755)
            return d
    raise RuntimeError("no directory that every uid can reach (tried TMPDIR, /tmp, /var/tmp)")


def copy_for_other_uid(*binaries):
    """Copies binaries (mode 0755) into a fresh world_dir(); returns (dir, [copied paths]).
    The caller removes dir (shutil.rmtree)."""
    d = world_dir()
    out = []
    for b in binaries:
        dst = os.path.join(d, os.path.basename(b))
        shutil.copy2(b, dst)
        os.chmod(dst, 0o755)
        out.append(dst)
    return d, out


# ---- helper servers: receive loops ------------------------------------------------------------

def later(delay, fn, *args):
    """fn(*args) now (delay <= 0) or on a daemon timer thread delay seconds from now."""
    if delay <= 0:
        fn(*args)
        return
    t = threading.Timer(delay, fn, args)
    t.daemon = True
    t.start()


def spawn(target, *args):
    """target(*args) on a new daemon thread, started; returns the thread."""
    t = threading.Thread(target=target, args=args, daemon=True)
    t.start()
    return t


def udp_loop(sock, stopping, on_datagram):
    """on_datagram(data, peer) for each datagram sock receives until stopping is set or sock is
    closed (sock needs a short timeout so that stopping is seen)."""
    while not stopping.is_set():
        try:
            data, peer = sock.recvfrom(65535)
        except socket.timeout:
            continue
        except OSError:
            return
        on_datagram(data, peer)


def accept_loop(sock, stopping, on_conn):
    """on_conn(conn) for each connection sock accepts until stopping is set or sock is closed
    (sock needs a short timeout so that stopping is seen)."""
    while not stopping.is_set():
        try:
            conn, _ = sock.accept()
        except socket.timeout:
            continue
        except OSError:
            return
        on_conn(conn)


def unix_listener(path, backlog):
    """A Unix stream socket listening on path, with the short timeout accept_loop needs."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)
    sock.listen(backlog)
    sock.settimeout(0.2)
    return sock


def send_udp(sock, wire, peer, stopping):
    """Sends a datagram unless the server is stopping; a closed socket is no error then."""
    if stopping.is_set():
        return
    try:
        sock.sendto(wire, peer)
    except OSError:
        pass


def rrsets(section):
    """{(name, type): set of rdata text} of a message section, TTLs left out, lower-cased."""
    out = {}
    for rr in section:
        key = (rr.name.to_text().lower(), dns.rdatatype.to_text(rr.rdtype))
        out.setdefault(key, set()).update(rd.to_text().lower() for rd in rr)
    return out


def answer_summary(r):
    """What two servers' answers to one query must agree on, for oracle comparisons: rcode, AA
    and the answer and authority sections (sorted, with TTLs, rdata as text)."""
    def section(s):
        return sorted((rs.name.to_text(), rs.rdtype, rs.ttl,
                       tuple(sorted(rd.to_text() for rd in rs))) for rs in s)
    return {"rcode": r.rcode(), "aa": bool(r.flags & dns.flags.AA),
            "answer": section(r.answer), "authority": section(r.authority)}


def parse_query(wire):
    """The DNS message in wire, or None when it does not parse or has no question (a helper
    server ignores those)."""
    try:
        q = dns.message.from_wire(wire)
    except dns.exception.DNSException:
        return None
    return q if q.question else None


def make_reply(q, flags):
    """A response to the query message q with flags added (AA for an authoritative server, RA
    for a recursive one) and, when q has EDNS, an OPT record echoing DO with a 1232-byte
    payload."""
    r = dns.message.make_response(q)
    r.flags |= flags
    if q.edns >= 0:
        r.use_edns(0, q.ednsflags & dns.flags.DO, 1232)
    return r


def read_dns_tcp(conn):
    """One length-prefixed DNS message from a TCP stream, or None at its end."""
    hdr = recv_exact(conn, 2)
    if hdr is None:
        return None
    return recv_exact(conn, struct.unpack("!H", hdr)[0])


def send_dns_tcp(conn, wire):
    conn.sendall(struct.pack("!H", len(wire)) + wire)


def closed_by_peer(sock):
    """True when the server closes sock (EOF or reset) before the deadline, with no data."""
    try:
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True
    except (socket.timeout, TimeoutError):
        return False


def port53_sockets(addr, backlog, udp_reuse=False):
    """(udp, tcp): the sockets of a helper server on port 53 of addr, the TCP one listening
    with backlog, both with the short timeout that udp_loop and accept_loop need.  udp_reuse
    sets SO_REUSEADDR on the UDP socket too (the TCP one always has it)."""
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if udp_reuse:
        udp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    udp.bind((addr, 53))
    udp.settimeout(0.2)
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind((addr, 53))
    tcp.listen(backlog)
    tcp.settimeout(0.2)
    return udp, tcp


def serve_dns_tcp(conn, on_query):
    """Serves one accepted TCP connection of a helper server, then closes it: reads
    length-prefixed DNS messages until the peer closes, an OSError, or on_query(wire) returns
    None; sends each reply that on_query returns (b"": no reply, keep reading)."""
    conn.settimeout(5)
    try:
        while True:
            wire = read_dns_tcp(conn)
            if wire is None:
                return
            out = on_query(wire)
            if out is None:
                return
            if out:
                send_dns_tcp(conn, out)
    except OSError:
        return
    finally:
        conn.close()


def read_logs(directory, names):
    """The text of the files names in directory, one after the other; missing ones are skipped."""
    text = ""
    for name in names:
        try:
            with open(os.path.join(directory, name), errors="replace") as f:
                text += f.read()
        except OSError:
            pass
    return text


# ---- tdns-cli --json against a test's server, zone files --------------------------------------

def cli_json(srv, *args):
    """tdns-cli --json ARGS against srv: (exit code, reply document or None, stderr)."""
    r = srv.cli("--json", *args)
    doc = json.loads(r.stdout) if r.stdout.strip() else None
    return r.returncode, doc, r.stderr


def cli_ok(srv, *args):
    """The data of a successful tdns-cli --json ARGS (exit 0, ok true)."""
    rc, doc, err = cli_json(srv, *args)
    assert rc == 0, (args, doc, err)
    assert doc["ok"] is True, doc
    return doc["data"]


def cli_refused(srv, err_id, *args):
    """The message of a tdns-cli --json ARGS the daemon refused with error id err_id (exit 1)."""
    rc, doc, err = cli_json(srv, *args)
    assert rc == 1, (args, doc, err)
    assert doc["ok"] is False
    assert doc["error"]["id"] == err_id, doc
    assert doc["error"]["message"]
    return doc["error"]["message"]


def file_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def zone_tools_accept(origin, path):
    """BIND's named-checkzone and Knot's kzonecheck both accept the zone file path."""
    r = subprocess.run(["named-checkzone", "-q", "-i", "local", origin, path],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run(["kzonecheck", "-o", origin, path], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


# ---- waiting for events ------------------------------------------------------------------------

# Deadlines for events the tests wait for: at least five times what they take on an idle machine,
# so that a machine whose cores are busy with other work does not fail the suite.
WAIT_SHORT = 5.0    # an answer, a log line, a control reply: milliseconds when idle
WAIT_LONG = 15.0    # a reload, a counter published once a second, a redraw


def wait_for(probe, timeout=WAIT_SHORT, what="the condition", log=lambda: "", step=0.02):
    """Polls probe() until it returns a true value and returns that value; fails the test with
    what and log() when timeout seconds pass first.  Exceptions from probe propagate."""
    deadline = time.monotonic() + timeout
    while True:
        got = probe()
        if got:
            return got
        if time.monotonic() > deadline:
            pytest.fail("%s did not happen within %.1f s\n%s" % (what, timeout, log()),
                        pytrace=False)
        time.sleep(step)


def vm_rss_kib(pid):
    """The resident set size of process pid in KiB (VmRSS in /proc/PID/status)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS for pid %d" % pid)


def drain_udp(sock):
    """Reads and drops every datagram waiting on the non-blocking sock."""
    try:
        while True:
            sock.recv(4096)
    except BlockingIOError:
        pass


class UdpLoad:
    """Queries (wire forms, in turn) sent to addr:port from each of threads at rate per second
    (a load that keeps the daemon's counters moving without taking every core of a shared
    machine), without waiting for the answers, until stop()."""

    def __init__(self, addr, port, wires, threads=1, rate=2000):
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(addr, port, wires, rate))
                        for _ in range(threads)]
        for t in self.threads:
            t.start()

    def _run(self, addr, port, wires, rate):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setblocking(False)
        start = time.monotonic()
        i = 0
        while not self.stopping.is_set():
            sock.sendto(wires[i % len(wires)], (addr, port))
            i += 1
            drain_udp(sock)
            ahead = start + i / rate - time.monotonic()
            if ahead > 0.002:
                time.sleep(ahead)
        sock.close()

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join()
