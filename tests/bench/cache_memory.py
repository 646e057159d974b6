#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Cache memory benchmark: how far a forwarder's RSS grows past [cache] max-size.

A second tdnsd serves a wildcard zone (every name answers) as the upstream of a forwarding
tdnsd with [cache] max-size = BENCH_MAX_SIZE; dnsperf sends BENCH_NAMES distinct names in
BENCH_STEPS steps, and after each step the script reads the forwarder's RSS (/proc) and the
cache's counted bytes (tdns-cli cache list).  Reported: RSS growth over the RSS after a
warm-up that fills the fixed structures (less the cache's bytes then), cache bytes, entries,
and the ratios growth / max-size and growth / counted bytes.
Ratios, not times: the machine may be busy.  Environment: TDNSD, TDNS_CLI (default build/),
BENCH_NAMES (default 2000000), BENCH_STEPS (default 8), BENCH_MAX_SIZE (default 8M),
BENCH_WORKERS (default 2).  Exits 1 when a server dies or the load is not answered.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ZONE = "mem.bench.example"
ZONE_TEXT = """$ORIGIN %s.
$TTL 3600
@   IN SOA ns1 hostmaster 1 7200 3600 1209600 3600
@   IN NS  ns1
ns1 IN A   127.0.0.1
*   IN A   192.0.2.1
""" % ZONE


def free_port():
    """A port free for UDP and TCP on 127.0.0.1 (a race with other programs is possible)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind(("127.0.0.1", 0))
            port = u.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                try:
                    t.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port


def size_bytes(text):
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:].upper(), 1)
    return int(text[:-1] if mult > 1 else text) * mult


class Daemon:
    """One tdnsd in its own directory, stopped by PID."""

    def __init__(self, tdnsd, root, name, conf_tail, zone=None):
        self.dir = os.path.join(root, name)
        os.mkdir(self.dir)
        self.port = free_port()
        self.sock = os.path.join(self.dir, "ctl.sock")
        conf = ("[server]\nlisten = 127.0.0.1:%d\nstate-dir = %s\n%s"
                "[control]\nsocket = %s\n" % (self.port, self.dir, conf_tail, self.sock))
        if zone is not None:
            with open(os.path.join(self.dir, ZONE + ".zone"), "w") as f:
                f.write(zone)
            conf += "[zone %s]\nfile = %s.zone\n" % (ZONE, ZONE)
        self.conf = os.path.join(self.dir, "tdnsd.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        self.log = open(os.path.join(self.dir, "tdnsd.log"), "wb")
        self.proc = subprocess.Popen([tdnsd, "-f", "-c", self.conf], stdout=self.log,
                                     stderr=self.log, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not os.path.exists(self.sock):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                sys.exit("%s did not start:\n%s" % (name, self.log_text()))
            time.sleep(0.05)

    def log_text(self):
        with open(self.log.name, errors="replace") as f:
            return f.read()

    def rss(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


def cache_figures(cli, d):
    # A name with no entries: the totals without the list of every entry.
    out = subprocess.run([cli, "-s", d.sock, "--json", "cache", "list", "invalid."],
                         capture_output=True, text=True, timeout=60, check=True)
    data = json.loads(out.stdout)["data"]
    return data["bytes"], data["total"], data["max_bytes"]


def run_dnsperf(port, qfile):
    out = subprocess.run(["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", qfile,
                          "-n", "1", "-c", "8", "-T", "1", "-q", "200", "-t", "5"],
                         capture_output=True, text=True, timeout=3600)
    sent = completed = 0
    for line in out.stdout.splitlines():
        words = line.split()
        if line.strip().startswith("Queries sent:"):
            sent = int(words[2])
        elif line.strip().startswith("Queries completed:"):
            completed = int(words[2])
    return sent, completed


def main():
    tdnsd = os.environ.get("TDNSD", os.path.join(TOP, "build", "tdnsd"))
    cli = os.environ.get("TDNS_CLI", os.path.join(TOP, "build", "tdns-cli"))
    names = int(os.environ.get("BENCH_NAMES", "2000000"))
    steps = int(os.environ.get("BENCH_STEPS", "8"))
    max_size_text = os.environ.get("BENCH_MAX_SIZE", "8M")
    max_size = size_bytes(max_size_text)
    workers = int(os.environ.get("BENCH_WORKERS", "2"))
    if shutil.which("dnsperf") is None:
        sys.exit("cache_memory.py: dnsperf not found (apt-get install dnsperf)")
    root = tempfile.mkdtemp(prefix="tdns-cache-mem.")
    daemons = []
    try:
        auth = Daemon(tdnsd, root, "auth", "workers = 1\n[recursion]\nmode = off\n",
                      zone=ZONE_TEXT)
        daemons.append(auth)
        fwd = Daemon(tdnsd, root, "fwd", "workers = %d\n[recursion]\nmode = forward\n"
                     "allow = 127.0.0.0/8\n[forwarders]\nservers = udp://127.0.0.1:%d\n"
                     "[cache]\nmax-size = %s\nprefetch = no\n"
                     % (workers, auth.port, max_size_text))
        daemons.append(fwd)
        # The fixed structures that fill with traffic, not with the cache (each worker's
        # query-log ring, the top-names sketch), are filled first by a warm-up of 20,000
        # queries over 3,000 names; the base is the RSS then, less what the cache counts.
        wfile = os.path.join(root, "warm")
        with open(wfile, "w") as f:
            for i in range(20000):
                f.write("w%d.%s A\n" % (i % 3000, ZONE))
        run_dnsperf(fwd.port, wfile)
        warm_used = cache_figures(cli, fwd)[0]
        base = fwd.rss() - warm_used
        print("cache_memory: %d distinct names in %d steps, max-size %s (%d bytes), "
              "%d workers; RSS after the warm-up %.1f MB, of which the cache %.1f MB"
              % (names, steps, max_size_text, max_size, workers, (base + warm_used) / 1e6,
                 warm_used / 1e6))
        print("%10s %10s %12s %9s %12s %10s %12s"
              % ("names", "answered", "cache bytes", "entries", "RSS growth", "growth/max",
                 "growth/bytes"))
        per = (names + steps - 1) // steps
        done = 0
        worst = 0.0
        for step in range(steps):
            n = min(per, names - done)
            qfile = os.path.join(root, "queries")
            with open(qfile, "w") as f:
                for i in range(done, done + n):
                    f.write("n%d.%s A\n" % (i, ZONE))
            sent, completed = run_dnsperf(fwd.port, qfile)
            done += n
            if not fwd.alive() or not auth.alive():
                sys.exit("a server died:\n" + fwd.log_text() + auth.log_text())
            if completed < sent * 0.9:
                sys.exit("only %d of %d queries answered" % (completed, sent))
            used, entries, _ = cache_figures(cli, fwd)
            growth = fwd.rss() - base
            worst = max(worst, growth / max_size)
            print("%10d %10d %12d %9d %9.1f MB %10.2f %12.2f"
                  % (done, completed, used, entries, growth / 1e6, growth / max_size,
                     growth / used if used else 0.0))
            if used > max_size:
                sys.exit("the cache counts %d bytes, over max-size %d" % (used, max_size))
        print("cache_memory: largest RSS growth %.2f x max-size" % worst)
    finally:
        for d in daemons:
            d.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
