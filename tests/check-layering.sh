#!/bin/sh
# SPDX-License-Identifier: MIT
# Checks the layering contract between the src/ folders (issue 12): the #include "folder/x.h"
# edges must go from a folder to itself or to a lower one, and the call graph read from the
# built objects (nm: defined and undefined symbols of each object in libtdns.a and libtdnsd.a,
# plus the objects of src/*.c) must have no cycle between folders nor between the files of one folder.
#   tests/check-layering.sh [BUILDDIR]     (default $TDNS_BUILDDIR, else ./build, else .)
# Sources: $TDNS_SRCDIR, else the directory above this script.  Prints every include edge
# between folders, then each offending edge or cycle.  Exit 0 when clean, 1 on a violation.
# make check enforces it; TDNS_CHECK_LAYERING=0 only reports (violations printed, exit 77: SKIP),
# for work in progress.
here=$(cd "$(dirname "$0")" && pwd)
TDNS_SRCDIR=${TDNS_SRCDIR:-$(cd "$here/.." && pwd)}
export TDNS_SRCDIR
exec /usr/bin/python3 - "$@" <<'PYTHON'
import os
import re
import subprocess
import sys
import tempfile

# The contract (../shared/DESIGN.md, BRIEF.md): a folder may include its own headers and those
# of folders with a lower rank, never one of the same rank or above.
# "top" is the files directly in src/ (tdnsd.c and the daemon's own parts next to it).
RANKS = {"core": 0, "dns": 1, "cfg": 1, "crypto": 2, "dnssec": 2, "filter": 2, "block": 2, "stats": 2, "net": 3,
         "zone": 4, "resolver": 5, "query": 6, "ctl": 7, "top": 8}
ORDER = ("core < dns, cfg < crypto, dnssec, filter, block, stats < net < zone < resolver < query < ctl < top "
         "(src/*.c: tdnsd.c)")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')

src_top = os.environ["TDNS_SRCDIR"]
src = os.path.join(src_top, "src")
if len(sys.argv) > 1:
    build = sys.argv[1]
elif os.environ.get("TDNS_BUILDDIR"):
    build = os.environ["TDNS_BUILDDIR"]
elif os.path.isfile(os.path.join(src_top, "build", "libtdns.a")):
    build = os.path.join(src_top, "build")
else:
    build = "."
problems = []


def folder_of(path):
    """'net' for src/net/udp.c, 'top' for the files directly in src/ (src/tdnsd.c)."""
    rel = os.path.relpath(path, src)
    return rel.split(os.sep)[0] if os.sep in rel else "top"


def allowed(below):
    return ", ".join(sorted(f for f, r in RANKS.items() if r < RANKS[below])) or "nothing"


# ---- (a) include edges ---------------------------------------------------------------------
edges = {}  # (from folder, to folder) -> [(file, line, text)]
for dirpath, _, files in os.walk(src):
    for name in sorted(files):
        if not name.endswith((".c", ".h")):
            continue
        path = os.path.join(dirpath, name)
        here_folder = folder_of(path)
        with open(path, errors="replace") as f:
            for lineno, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                target = os.path.normpath(os.path.join(dirpath, m.group(1)))
                if not os.path.exists(target):
                    target = os.path.normpath(os.path.join(src, m.group(1)))
                if not os.path.exists(target) or not target.startswith(src + os.sep):
                    continue  # config.h and system-like headers outside src/
                there = folder_of(target)
                if there != here_folder:
                    edges.setdefault((here_folder, there), []).append(
                        (os.path.relpath(path, src_top), lineno, m.group(1)))

print("include edges between src/ folders (%s):" % ORDER)
for (a, b), uses in sorted(edges.items()):
    print("  %-9s -> %-9s %3d include(s)" % (a, b, len(uses)))
for f in sorted({x for e in edges for x in e} - set(RANKS)):
    problems.append("INCLUDE folder src/%s is not in the layering contract" % f)
for (a, b), uses in sorted(edges.items()):
    if a in RANKS and b in RANKS and RANKS[b] >= RANKS[a]:
        where = "; ".join("%s:%d \"%s\"" % u for u in uses)
        problems.append("INCLUDE %s -> %s not allowed (%s may include: %s): %s"
                        % (a, b, a, allowed(a), where))


def sccs(nodes, succ):
    """Strongly connected components with more than one node (Tarjan, iterative)."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]
    for root in sorted(nodes):
        if root in index:
            continue
        work = [(root, iter(sorted(succ.get(root, ()))))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(succ.get(w, ())))))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


inc_succ = {}
for (a, b) in edges:
    inc_succ.setdefault(a, set()).add(b)
for comp in sccs({x for e in edges for x in e}, inc_succ):
    lines = ["INCLUDE cycle between folders: %s" % " <-> ".join(comp)]
    for (a, b), uses in sorted(edges.items()):
        if a in comp and b in comp:
            lines.append("    %s -> %s: %s" % (a, b, "; ".join("%s:%d" % u[:2] for u in uses)))
    problems.append("\n".join(lines))

# ---- (b) the call graph from the objects ---------------------------------------------------


def run(*argv):
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("check-layering: %s failed: %s" % (" ".join(argv), r.stderr.strip()))
    return r.stdout


def build_objects():
    """{path of the object's source file relative to src/: object file} for every member of
    libtdns.a and libtdnsd.a (members with the same name told apart by their bytes), and of
    the files directly in src/."""
    out = {}
    tmp = tempfile.mkdtemp(prefix="tdns-layering-")
    try:
        for lib in ("libtdns.a", "libtdnsd.a"):
            path = os.path.join(build, lib)
            if not os.path.isfile(path):
                sys.exit("check-layering: %s not found: build first (make) or name the build "
                         "directory" % path)
            seen = {}
            for member in run("ar", "t", path).split():
                seen[member] = seen.get(member, 0) + 1
                where = os.path.join(tmp, "%s-%d" % (lib, seen[member]))
                os.makedirs(where, exist_ok=True)
                subprocess.run(["ar", "xN", str(seen[member]), os.path.abspath(path), member],
                               cwd=where, check=True)
                dest = os.path.join(where, member)
                with open(dest, "rb") as f:
                    data = f.read()
                stem = re.sub(r"^lib\w+_a-", "", member)[:-2]
                matches = []
                for dirpath, _, files in os.walk(os.path.join(build, "src")):
                    if member in files:
                        with open(os.path.join(dirpath, member), "rb") as f:
                            if f.read() == data:
                                matches.append(dirpath)
                if len(matches) != 1:
                    sys.exit("check-layering: cannot tell which source %s (%s) comes from"
                             % (member, lib))
                rel = os.path.relpath(matches[0], os.path.join(build, "src"))
                out[os.path.normpath(os.path.join(rel, stem + ".c"))] = dest
        # The daemon's own objects directly in src/ (tdnsd.o, ...), not in the libraries.
        top = os.path.join(build, "src")
        for name in sorted(os.listdir(top)) if os.path.isdir(top) else []:
            if not name.endswith(".o"):
                continue
            source = name[:-2] + ".c"
            if not os.path.isfile(os.path.join(src, source)):
                source = re.sub(r"^\w+?-", "", source)  # automake's per-target prefix
            out[source] = os.path.join(top, name)
        symbols = {}
        for source, obj in out.items():
            defined = set(run("nm", "-g", "--defined-only", "-j", obj).split())
            undefined = set(run("nm", "-u", "-j", obj).split())
            symbols[source] = (defined, undefined)
        return symbols
    finally:
        subprocess.run(["rm", "-rf", tmp])


symbols = build_objects()
owner = {}
for source, (defined, _) in symbols.items():
    for s in defined:
        owner.setdefault(s, source)
calls = {}  # (caller file, callee file) -> sorted symbols
for source, (_, undefined) in symbols.items():
    for s in undefined:
        callee = owner.get(s)
        if callee is not None and callee != source:
            calls.setdefault((source, callee), set()).add(s)


def fname(source):
    return source.split(os.sep)[0] if os.sep in source else "top"


def show(a, b, syms):
    syms = sorted(syms)
    more = " ... (%d in all)" % len(syms) if len(syms) > 6 else ""
    return "      src/%s -> src/%s: %s%s" % (a, b, ", ".join(syms[:6]), more)


# Between folders.
fcalls = {}
for (a, b), syms in calls.items():
    fa, fb = fname(a), fname(b)
    if fa != fb:
        fcalls.setdefault((fa, fb), {})[(a, b)] = syms
f_succ = {}
for (a, b) in fcalls:
    f_succ.setdefault(a, set()).add(b)
for comp in sccs(set(f_succ) | {b for s in f_succ.values() for b in s}, f_succ):
    lines = ["CALL cycle between folders: %s" % " <-> ".join(comp)]
    down = []
    for (fa, fb), pairs in sorted(fcalls.items()):
        if fa not in comp or fb not in comp:
            continue
        if fa in RANKS and fb in RANKS and RANKS[fb] < RANKS[fa]:
            down.append("%s -> %s" % (fa, fb))
            continue
        # The edges that close the cycle: same rank or upward, against the layering.
        lines.append("    %s -> %s  (against the layering)" % (fa, fb))
        lines += [show(a, b, s) for (a, b), s in sorted(pairs.items())]
    if down:
        lines.append("    with the allowed calls: %s" % ", ".join(down))
    problems.append("\n".join(lines))

# Between the files of one folder.
by_folder = {}
for (a, b), syms in calls.items():
    if fname(a) == fname(b):
        by_folder.setdefault(fname(a), {})[(a, b)] = syms
for folder, pairs in sorted(by_folder.items()):
    succ = {}
    for (a, b) in pairs:
        succ.setdefault(a, set()).add(b)
    for comp in sccs(set(succ) | {b for s in succ.values() for b in s}, succ):
        lines = ["CALL cycle between files of src/%s: %s" % (folder, " <-> ".join(
            os.path.basename(c) for c in comp))]
        lines += [show(a, b, s) for (a, b), s in sorted(pairs.items())
                  if a in comp and b in comp]
        problems.append("\n".join(lines))

print("call graph: %d objects, %d file-to-file edges, %d between folders"
      % (len(symbols), len(calls), sum(len(p) for p in fcalls.values())))
if not problems:
    print("layering: OK")
    sys.exit(0)
print("\nlayering: %d violation(s):" % len(problems))
for p in problems:
    print(p)
if os.environ.get("TDNS_CHECK_LAYERING", "1") == "1":
    sys.exit(1)
print("\nlayering: report only (TDNS_CHECK_LAYERING=0): SKIP")
sys.exit(77)
PYTHON
