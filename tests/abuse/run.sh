#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs the load-and-abuse tests (issue 13): make check calls it with TDNSD and TDNS_CLI set.
# They reuse the integration suite's runner and fixtures (tests/integration/run.sh, conftest.py,
# helpers.py).  ABUSE_SECONDS (default 8) is how long each flood lasts.
set -u
# Under ASan, freed memory waits in a quarantine (256 MB by default) that would count as
# growth; a small one keeps the bounds meaningful.  Harmless without sanitizers.
ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}:quarantine_size_mb=16"
TDNS_SUITE=abuse
export ASAN_OPTIONS TDNS_SUITE
exec sh "$(dirname "$0")/../integration/run.sh" "$@"
