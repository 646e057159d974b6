#!/bin/sh
# SPDX-License-Identifier: MIT
# The whole test suite from a clean checkout: deps, build + make check, ASan+UBSan build + make
# check, fuzzing, make distcheck.  Exits non-zero when any phase fails.
#   tests/run-all.sh               run everything
#   tests/run-all.sh --print-deps  print the Debian packages the build and the tests need
#   tests/run-all.sh --print-missing   print those of them that are not installed
#   tests/run-all.sh --stop-peer-services PKG...   stop and disable the services that installing
#                                  PKG started (only nsd, unbound and knot; see stop_peer_services)
# Environment: JOBS (make -j, default nproc), FUZZ_SECONDS (per fuzz target, default 30),
# SKIP_PHASES (space-separated phase names to skip when iterating locally: asan fuzz distcheck),
# BUSY_LOOPS (CPU busy loops that run beside the gcc make check, default 2: the suite must pass
# while both cores of a small machine are busy with other work; 0 turns them off).
set -u

# Everything the build, the tests and the benchmarks use; .ci/run installs exactly this list.
DEPS="build-essential autoconf automake libtool pkg-config libevent-dev libssl-dev
libnghttp2-dev libncurses-dev libinih-dev libsodium-dev libjansson-dev libcmocka-dev clang
libclang-rt-14-dev python3 python3-dnspython python3-pytest knot-dnsutils bind9-dnsutils
bind9-utils knot-dnssecutils dnsperf nsd knot ldnsutils iproute2 procps ca-certificates openssl
curl tmux unbound python3-h2 nginx-light dnsmasq-base"

# The test peers whose Debian packages start a service on installation, on port 53 of every
# address (NSD) or of 127.0.0.1 and ::1 (unbound, knot): where the recursion tests run their
# own servers (127.R.x.y:53) and the tests their own unbound, NSD and knotd.
PEER_SERVICES="nsd unbound knot"

# The packages of DEPS that are not installed.
missing_deps() {
	for p in $DEPS; do
		if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed'; then
			printf '%s ' "$p"
		fi
	done
}

# Stops and disables the systemd services of those packages among $* that are test peers.
# Callers pass only the packages they have just installed: a server that was installed before
# is the administrator's and is left alone.  Without systemd, apt starts no service.
stop_peer_services() {
	if [ ! -d /run/systemd/system ] || ! command -v systemctl >/dev/null 2>&1; then
		return 0
	fi
	for p in "$@"; do
		case " $PEER_SERVICES " in
		*" $p "*) ;;
		*) continue ;;
		esac
		if systemctl cat "$p.service" >/dev/null 2>&1; then
			echo "stopping and disabling $p.service: installing $p started it on port 53," \
				"which the tests need"
			systemctl stop "$p.service" || echo "systemctl stop $p.service failed"
			systemctl disable "$p.service" || echo "systemctl disable $p.service failed"
		fi
	done
}

case "${1:-}" in
--print-deps)
	# shellcheck disable=SC2086
	echo $DEPS
	exit 0
	;;
--print-missing)
	missing_deps
	echo
	exit 0
	;;
--stop-peer-services)
	shift
	stop_peer_services "$@"
	exit 0
	;;
esac

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

# The busy loops of the gcc check stage, by PID; ended when the stage ends and on any exit.
busy_pids=""

busy_start() {
	i=0
	while [ "$i" -lt "${BUSY_LOOPS:-2}" ]; do
		sh -c 'while :; do :; done' &
		busy_pids="$busy_pids $!"
		i=$((i + 1))
	done
	if [ -n "$busy_pids" ]; then
		echo "busy loops beside the tests (BUSY_LOOPS=${BUSY_LOOPS:-2}): PIDs$busy_pids"
	fi
}

busy_stop() {
	for p in $busy_pids; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	busy_pids=""
}

trap busy_stop EXIT
trap 'busy_stop; exit 130' INT
trap 'busy_stop; exit 143' TERM

# ---- phase: dependencies
phase "dependencies"
missing=$(missing_deps)
if [ -n "$missing" ]; then
	if [ "$(id -u)" = 0 ]; then
		echo "installing:$missing"
		export DEBIAN_FRONTEND=noninteractive
		# shellcheck disable=SC2086
		if ! { apt-get update && apt-get install -y --no-install-recommends $missing; }; then
			echo "apt-get failed"
			exit 1
		fi
		# shellcheck disable=SC2086
		stop_peer_services $missing
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
phase "build/ (gcc, --enable-werror): configure, make, make check (${BUSY_LOOPS:-2} busy loops)"
mkdir -p build
if (cd build && ../configure --enable-werror && make -j"$JOBS"); then
	busy_start
	(cd build && make -j"$JOBS" check)
	rc=$?
	busy_stop
	if [ "$rc" -eq 0 ]; then
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
