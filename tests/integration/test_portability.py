# SPDX-License-Identifier: MIT
"""The suite does not depend on where the checkout lives: the tests that change uid run again
from a copy of the binaries and the test files under a 0700 directory in root's home, where an
administrator following the README as root puts the checkout (issue 19)."""
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile

import pytest

from conftest import tdns_cli_path, tdnsd_path

HERE = os.path.dirname(os.path.abspath(__file__))


def private_dir():
    """A fresh 0700 directory in root's home (or, lacking one, in TMPDIR: still 0700)."""
    home = pwd.getpwuid(0).pw_dir
    base = home if os.path.isdir(home) and os.access(home, os.W_OK) else None
    d = tempfile.mkdtemp(prefix="tdns-0700-", dir=base)
    os.chmod(d, 0o700)
    return d


def test_uid_changing_tests_pass_from_a_checkout_under_a_0700_directory(tmp_path):
    if os.geteuid() != 0:
        pytest.fail("this test changes uid and must run as root", pytrace=False)
    top = private_dir()
    try:
        assert os.stat(top).st_mode & 0o777 == 0o700
        build = os.path.join(top, "build")
        os.makedirs(build)
        env = dict(os.environ)
        for var, path in (("TDNSD", tdnsd_path()), ("TDNS_CLI", tdns_cli_path()),
                          ("TDNS_TUI", os.environ.get("TDNS_TUI", ""))):
            if path:
                dst = os.path.join(build, os.path.basename(path))
                shutil.copy2(path, dst)
                env[var] = dst
        tests = os.path.join(top, "tests", "integration")
        shutil.copytree(HERE, tests, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        env["TDNS_SRCDIR"] = top
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            "-m", "changes_uid", "--basetemp", str(tmp_path / "pt"),
                            "--rootdir", tests, tests],
                           cwd=str(tmp_path), env=env, capture_output=True, text=True,
                           timeout=600)
        out = r.stdout + r.stderr
        assert r.returncode == 0, out
        m = re.search(r"(\d+) passed", out)
        assert m and int(m.group(1)) >= 4, out
        assert not re.search(r"\d+ (failed|errors?)\b", out), out
    finally:
        shutil.rmtree(top, ignore_errors=True)
