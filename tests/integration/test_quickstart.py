# SPDX-License-Identifier: MIT
"""contrib/quickstart.sh itself (issue 21), run as the README says (no arguments): it checks the
Debian packages, brings the build directory of this test run up to date (TDNS_BUILD_DIR, so a
read-only source tree as under make distcheck is not written) and execs tdnsd on its embedded
defaults, which a client then queries on 127.0.0.1:53.  Port 53 and the default paths are kept
private as in test_default_config.py: its own network namespace and overlays on the default
directories.  Needs root."""
import os
import re
import time

from conftest import tdnsd_path
from helpers import WAIT_LONG, wait_for
from test_default_config import flags_of, isolated, status_of  # noqa: F401

SRCDIR = os.environ.get("TDNS_SRCDIR") or os.path.abspath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def test_quickstart_builds_and_runs_a_daemon_that_answers(isolated):  # noqa: F811
    iso = isolated()
    iso.control_path = iso.control
    build = os.path.dirname(os.path.abspath(tdnsd_path()))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE") and k != "MFLAGS"}
    env["TDNS_BUILD_DIR"] = build
    proc = iso.run(wait=False, command=["bash", os.path.join(SRCDIR, "contrib", "quickstart.sh")],
                   env=env)
    # The script ends by exec'ing tdnsd: the process started here becomes the daemon.
    binary = os.path.realpath(tdnsd_path())
    deadline = time.monotonic() + 300
    while True:
        try:
            exe = os.path.realpath("/proc/%d/exe" % proc.pid)
        except OSError:
            exe = None
        if exe == binary:
            break
        assert proc.poll() is None, "quickstart.sh exited with %s:\n%s" % (proc.returncode,
                                                                          iso.text())
        assert time.monotonic() < deadline, "quickstart.sh did not start tdnsd:\n" + iso.text()
        time.sleep(0.1)
    iso.wait_listening(53)
    text = iso.text()
    assert "quickstart: starting %s/tdnsd -f" % build in text, text
    # What the script tells the user to try (no route to the root servers here: SERVFAIL from
    # the resolver, with RA).
    out = iso.dig("127.0.0.1", 53, "example.com", "SOA")
    assert status_of(out) == "SERVFAIL" and "ra" in flags_of(out), out
    out = iso.dig("::1", 53, "+tcp", "example.com", "SOA")
    assert status_of(out) == "SERVFAIL", out
    # The workers answer before the main thread logs that start-up is over (slow under ASan).
    wait_for(lambda: re.search(r"tdnsd \S+ started: .* listening on 127\.0\.0\.1:53, "
                               r"\[::1\]:53", iso.text()),
             timeout=WAIT_LONG, what="the start-up line in the log", log=iso.text)
    assert iso.stop() == 0, iso.text()
