# SPDX-License-Identifier: MIT
"""tests/check-layering.sh on a tiny tree built here: clean layering passes, and an upward
include, a call cycle between folders and a call cycle between the files of one folder fail,
each printed (issue 12, point 3)."""
import os
import subprocess

import pytest

SRCDIR = os.environ.get("TDNS_SRCDIR") or os.path.join(os.path.dirname(__file__), "..", "..")
SCRIPT = os.path.join(SRCDIR, "tests", "check-layering.sh")

CLEAN = {
    "core/core.h": "int core_f(void);\n",
    "core/status.c": '#include "core/core.h"\nint core_f(void) { return 1; }\n',
    "stats/stats.h": "int stats_f(void);\n",
    # stats/server.c and net/server.c: members of the same name, told apart by their bytes.
    "stats/server.c": '#include "core/core.h"\n#include "stats.h"\n'
                      "int stats_f(void) { return core_f(); }\n",
    "net/net.h": "int net_f(void);\nint net_g(void);\n",
    "net/server.c": '#include "stats/stats.h"\n#include "net.h"\n'
                    "int net_f(void) { return stats_f() + net_g(); }\n",
    "net/udp.c": '#include "net.h"\nint net_g(void) { return 2; }\n',
}
# stats includes and calls net (upward), and net/udp.c calls back into net/server.c.
BAD = dict(CLEAN, **{
    "stats/server.c": '#include "core/core.h"\n#include "net/net.h"\n#include "stats.h"\n'
                      "int stats_f(void) { return core_f() + net_g(); }\n",
    "net/udp.c": '#include "net.h"\nint net_g(void) { return net_f() ? 2 : 3; }\n',
})
LIBS = {"libtdns.a": ["core/status", "stats/server"], "libtdnsd.a": ["net/server", "net/udp"]}


def check(tmp_path, files, enforce=True):
    top = tmp_path / "tree"
    for rel, text in files.items():
        (top / "src" / rel).parent.mkdir(parents=True, exist_ok=True)
        (top / "src" / rel).write_text(text)
    build = top / "build"
    for lib, objs in LIBS.items():
        paths = []
        for o in objs:
            out = build / "src" / (o + ".o")
            out.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(["cc", "-c", "-I", str(top / "src"), "-o", str(out),
                            str(top / "src" / (o + ".c"))], check=True)
            paths.append(str(out))
        subprocess.run(["ar", "rc", str(build / lib)] + paths, check=True)
    env = dict(os.environ, TDNS_SRCDIR=str(top))
    env.pop("TDNS_CHECK_LAYERING", None)
    if not enforce:
        env["TDNS_CHECK_LAYERING"] = "0"
    return subprocess.run(["sh", SCRIPT, str(build)], env=env, capture_output=True, text=True,
                          timeout=60)


@pytest.fixture(autouse=True)
def tools():
    for tool in ("cc", "ar", "nm"):
        if subprocess.run(["sh", "-c", "command -v " + tool], capture_output=True).returncode:
            pytest.fail("%s is needed (Debian package build-essential)" % tool, pytrace=False)


def test_a_clean_tree_passes(tmp_path):
    r = check(tmp_path, CLEAN)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "net       -> stats" in r.stdout
    assert "layering: OK" in r.stdout


def test_upward_include_and_call_cycles_fail_and_are_named(tmp_path):
    r = check(tmp_path, BAD)
    assert r.returncode == 1, r.stdout + r.stderr
    out = r.stdout
    assert 'INCLUDE stats -> net not allowed (stats may include: cfg, core, dns): ' \
           'src/stats/server.c:2 "net/net.h"' in out, out
    assert "INCLUDE cycle between folders: net <-> stats" in out, out
    assert "CALL cycle between folders: net <-> stats" in out, out
    assert "src/stats/server.c -> src/net/udp.c: net_g" in out, out
    assert "CALL cycle between files of src/net: server.c <-> udp.c" in out, out
    assert "src/net/udp.c -> src/net/server.c: net_f" in out, out


def test_report_mode_prints_the_violations_and_skips(tmp_path):
    r = check(tmp_path, BAD, enforce=False)
    assert r.returncode == 77, r.stdout + r.stderr
    assert "layering: 4 violation(s):" in r.stdout
