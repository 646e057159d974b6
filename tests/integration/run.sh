#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs the pytest integration suite; make check calls it with TDNSD, TDNS_CLI and TDNS_SRCDIR set.
# Works from a VPATH build and under make distcheck: nothing is written next to the sources.
# TDNS_SUITE names another folder of tests/ to run with the same fixtures (tests/abuse/run.sh).
set -u
here=$(cd "$(dirname "$0")" && pwd)
srcdir=${TDNS_SRCDIR:-$(cd "$here/../.." && pwd)}
suite=${TDNS_SUITE:-integration}
tests="$srcdir/tests/$suite"
[ -d "$tests" ] || tests=$(cd "$here/../$suite" && pwd)

# Outside make check, fall back to a build/ directory next to the sources.
if [ -z "${TDNSD:-}" ] && [ -x "$srcdir/build/tdnsd" ]; then
	TDNSD="$srcdir/build/tdnsd"
	TDNS_CLI="$srcdir/build/tdns-cli"
	TDNS_TUI="$srcdir/build/tdns-tui"
fi
: "${TDNSD:?TDNSD must name the tdnsd binary}"
export TDNSD TDNS_CLI TDNS_TUI TDNS_SRCDIR

# A short name: tests write paths below it into config lines they keep under 80 columns.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tdns-${TDNS_SUITE:-it}.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
# No bytecode or pytest cache next to the (possibly read-only) sources; the fixtures and
# helpers of tests/integration importable from every suite.
PYTHONDONTWRITEBYTECODE=1
PYTHONPATH="$srcdir/tests/integration${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE PYTHONPATH
cd "$tmp" || exit 99
/usr/bin/python3 -m pytest -q -p no:cacheprovider --basetemp="$tmp/pt" \
	--rootdir="$tests" "$tests" "$@"
