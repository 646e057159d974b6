#!/bin/sh
# SPDX-License-Identifier: MIT
# The whole test suite from a clean checkout: deps, build + make check, ASan+UBSan build + make
# check, fuzzing, make distcheck.  Exits non-zero when any phase fails.
#   tests/run-all.sh               run everything
#   tests/run-all.sh --print-deps  print the Debian packages the build and the tests need
# Environment: JOBS (make -j, default nproc), FUZZ_SECONDS (per fuzz target, default 30),
# SKIP_PHASES (space-separated phase names to skip when iterating locally: asan fuzz distcheck).
set -u

# Everything the build, the tests and the benchmarks use; .ci/run installs exactly this list.
DEPS="build-essential autoconf automake libtool pkg-config libevent-dev libssl-dev
libnghttp2-dev libncurses-dev libinih-dev libsodium-dev libjansson-dev libcmocka-dev clang
libclang-rt-14-dev python3 python3-dnspython python3-pytest knot-dnsutils bind9-dnsutils
bind9-utils knot-dnssecutils dnsperf nsd knot ldnsutils iproute2 procps ca-certificates openssl
curl tmux unbound python3-h2 nginx-light"

if [ "${1:-}" = "--print-deps" ]; then
	# shellcheck disable=SC2086
	echo $DEPS
	exit 0
fi

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
passed=0
failed=0
failed_names=""
# One entry per finished stage for the summary line: "name PASS|FAIL Ns[ (detail)]".
summary=""
started=$(date +%s)
phase_start=$started
detail=""

phase() {
	phase_start=$(date +%s)
	detail=""
	printf '\n======== %s ========\n' "$*"
}

# Records stage $1 with result $2 and the time since the last phase() in the summary.
record() {
	entry="$1 $2 $(($(date +%s) - phase_start))s"
	[ -n "$detail" ] && entry="$entry ($detail)"
	summary="${summary:+$summary, }$entry"
	detail=""
}

ok() {
	passed=$((passed + 1))
	record "$1" PASS
	printf '==== %s: PASS\n' "$1"
}

fail() {
	failed=$((failed + 1))
	failed_names="$failed_names $1"
	record "$1" FAIL
	printf '==== %s: FAIL\n' "$1"
}

# The one-line summary, then the line CI reads (keep its format: "run-all: N passed, N failed").
finish() {
	echo "run-all summary: ${summary:-nothing ran}; total $(($(date +%s) - started))s"
	echo "run-all: $passed passed, $failed failed"
}

skipped() {
	case " ${SKIP_PHASES:-} " in
	*" $1 "*)
		summary="${summary:+$summary, }$1 skipped"
		printf '==== %s: skipped (SKIP_PHASES)\n' "$1"
		return 0
		;;
	esac
	return 1
}

# Prints the test-suite.log (and with it every failed test's log) of the build dir $1.
show_logs() {
	if [ -f "$1/test-suite.log" ]; then
		echo "---- $1/test-suite.log (first 4000 lines) ----"
		head -n 4000 "$1/test-suite.log"
	fi
}

# Shows pytest's summary line from an integration run so the log says how many tests ran, and
# keeps it (without the time) for the summary line.
show_pytest_summary() {
	log="$1/tests/integration/run.sh.log"
	if [ -f "$log" ]; then
		line=$(grep -E '[0-9]+ (passed|failed)' "$log" | tail -n 1)
		echo "---- integration: $line"
		detail="integration: $(echo "$line" | sed -e 's/=//g' -e 's/ in [0-9.]*s.*//' \
			-e 's/^ *//')"
	fi
}

# ---- phase: dependencies
phase "dependencies"
missing=""
for p in $DEPS; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed'; then
		missing="$missing $p"
	fi
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" = 0 ]; then
		echo "installing:$missing"
		export DEBIAN_FRONTEND=noninteractive
		# shellcheck disable=SC2086
		if ! { apt-get update && apt-get install -y --no-install-recommends $missing; }; then
			echo "apt-get failed"
			exit 1
		fi
	else
		echo "missing Debian packages:$missing"
		echo "install them as root: apt-get install -y$missing"
		exit 1
	fi
else
	echo "all build and test packages are installed"
fi

# ---- phase: autoreconf
phase "autoreconf -fi"
if ! autoreconf -fi; then
	fail autoreconf
	finish
	exit 1
fi
ok autoreconf

# ---- phase: build + make check
phase "build/ (gcc, --enable-werror): configure, make, make check"
mkdir -p build
if (cd build && ../configure --enable-werror && make -j"$JOBS"); then
	if (cd build && make -j"$JOBS" check); then
		show_pytest_summary build
		ok check
	else
		show_pytest_summary build
		show_logs build
		fail check
	fi
else
	fail build
fi

# ---- phase: ASan + UBSan
if ! skipped asan; then
	phase "build-asan/ (clang, ASan+UBSan): configure, make, make check"
	mkdir -p build-asan
	san="-g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
	export ASAN_OPTIONS UBSAN_OPTIONS
	if (cd build-asan && ../configure CC=clang CFLAGS="$san" &&
		make -j"$JOBS"); then
		if (cd build-asan && TDNS_TEST_START_TIMEOUT=60 make -j"$JOBS" check); then
			show_pytest_summary build-asan
			ok asan
		else
			show_pytest_summary build-asan
			show_logs build-asan
			fail asan
		fi
	else
		fail asan-build
	fi
fi

# ---- phase: fuzzing
if ! skipped fuzz; then
	phase "fuzz (libFuzzer, ${FUZZ_SECONDS:-30} s per target)"
	if sh tests/fuzz/run.sh; then
		ok fuzz
	else
		fail fuzz
	fi
fi

# ---- phase: distcheck
if ! skipped distcheck; then
	phase "make distcheck"
	if [ -f build/Makefile ] && (cd build && make -j"$JOBS" distcheck \
		DISTCHECK_CONFIGURE_FLAGS=--enable-werror); then
		ok distcheck
	else
		# distcheck keeps its tree on failure; show the logs of its test run.
		for d in build/tdns-*/_build/sub; do
			[ -d "$d" ] && show_logs "$d"
		done
		fail distcheck
	fi
fi

phase "summary"
if [ "$failed" -ne 0 ]; then
	echo "failed phases:$failed_names"
fi
finish
[ "$failed" -eq 0 ]
