#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs the load-and-abuse tests (issue 13): make check calls it with TDNSD and TDNS_CLI set.
# They reuse the integration suite's fixtures (tests/integration/conftest.py, helpers.py).
# ABUSE_SECONDS (default 8) is how long each flood lasts.
set -u
here=$(cd "$(dirname "$0")" && pwd)
srcdir=${TDNS_SRCDIR:-$(cd "$here/../.." && pwd)}
tests="$srcdir/tests/abuse"
[ -d "$tests" ] || tests=$here

if [ -z "${TDNSD:-}" ] && [ -x "$srcdir/build/tdnsd" ]; then
	TDNSD="$srcdir/build/tdnsd"
	TDNS_CLI="$srcdir/build/tdns-cli"
fi
: "${TDNSD:?TDNSD must name the tdnsd binary}"
export TDNSD TDNS_CLI TDNS_SRCDIR

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tdns-abuse.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
# Under ASan, freed memory waits in a quarantine (256 MB by default) that would count as
# growth; a small one keeps the bounds meaningful.  Harmless without sanitizers.
ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}:quarantine_size_mb=16"
export ASAN_OPTIONS
PYTHONDONTWRITEBYTECODE=1
PYTHONPATH="$srcdir/tests/integration${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE PYTHONPATH
cd "$tmp" || exit 99
/usr/bin/python3 -m pytest -q -p no:cacheprovider --basetemp="$tmp/pt" \
	--rootdir="$tests" "$tests" "$@"
