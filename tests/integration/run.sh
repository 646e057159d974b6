#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs the pytest integration suite; make check calls it with TDNSD, TDNS_CLI and TDNS_SRCDIR set.
# Works from a VPATH build and under make distcheck: nothing is written next to the sources.
set -u
here=$(cd "$(dirname "$0")" && pwd)
srcdir=${TDNS_SRCDIR:-$(cd "$here/../.." && pwd)}
tests="$srcdir/tests/integration"
[ -d "$tests" ] || tests=$here

# Outside make check, fall back to a build/ directory next to the sources.
if [ -z "${TDNSD:-}" ] && [ -x "$srcdir/build/tdnsd" ]; then
	TDNSD="$srcdir/build/tdnsd"
	TDNS_CLI="$srcdir/build/tdns-cli"
	TDNS_TUI="$srcdir/build/tdns-tui"
fi
: "${TDNSD:?TDNSD must name the tdnsd binary}"
export TDNSD TDNS_CLI TDNS_TUI TDNS_SRCDIR

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tdns-it.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
# No bytecode or pytest cache next to the (possibly read-only) sources.
PYTHONDONTWRITEBYTECODE=1
export PYTHONDONTWRITEBYTECODE
cd "$tmp" || exit 99
/usr/bin/python3 -m pytest -q -p no:cacheprovider --basetemp="$tmp/pt" \
	--rootdir="$tests" "$tests" "$@"
