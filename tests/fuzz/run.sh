#!/bin/sh
# SPDX-License-Identifier: MIT
# Builds every libFuzzer target tests/fuzz/fuzz_*.c with ASan+UBSan into a temporary directory
# and runs each for FUZZ_SECONDS (default 30); fails on any crash, leak, sanitizer report or
# build error.  A crashing input is kept and printed (base64) for reproduction.
#   FUZZ_SECONDS=N   time per target      FUZZ_TARGETS="fuzz_msg ..."  run only these
#   FUZZ_KEEP=DIR    copy crash artifacts to DIR
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
secs=${FUZZ_SECONDS:-30}
CC=${FUZZ_CC:-clang}

if ! command -v "$CC" >/dev/null 2>&1; then
	echo "fuzz: $CC not found (Debian packages clang libclang-rt-14-dev)"
	exit 1
fi

targets=""
for f in "$top"/tests/fuzz/fuzz_*.c; do
	[ -f "$f" ] || continue
	name=$(basename "$f" .c)
	if [ -n "${FUZZ_TARGETS:-}" ]; then
		case " $FUZZ_TARGETS " in
		*" $name "*) ;;
		*) continue ;;
		esac
	fi
	targets="$targets $name"
done
if [ -z "$targets" ]; then
	echo "fuzz: no targets tests/fuzz/fuzz_*.c found"
	exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/tdns-fuzz.XXXXXX") || exit 1
keep=0
# shellcheck disable=SC2317  # called through trap
cleanup() {
	if [ "$keep" = 0 ]; then
		rm -rf "$work"
	else
		echo "fuzz: work directory kept: $work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The library sources the targets link: libtdns (the same files as libtdns.a) and the stats
# that the validator's helpers count into (their timers link libevent; none run here).
libsrc=""
for f in "$top"/src/core/*.c "$top"/src/dns/*.c "$top"/src/zone/*.c "$top"/src/cfg/*.c \
	"$top"/src/ctl/frame.c "$top"/src/ctl/commands.c "$top"/src/filter/*.c "$top"/src/dnssec/*.c \
	"$top"/src/net/client.c "$top"/src/net/doh.c "$top"/src/net/http1.c \
	"$top"/src/resolver/cache.c "$top"/src/resolver/hints.c "$top"/src/resolver/val_util.c "$top"/src/stats/*.c \
	"$top"/src/net/schema.c "$top"/src/resolver/schema.c "$top"/src/ctl/schema.c \
	"$top"/src/block/*.c "$top"/src/crypto/*.c "$top"/src/query/schema.c "$top"/src/daemon-cfg.c; do
	# Secondary zones and NOTIFY out run on libevent (src/net/outgoing.c): not in the targets.
	case "$(basename "$f")" in secondary.c | notify.c) continue ;; esac
	libsrc="$libsrc $f"
done
libs="$(pkg-config --libs inih jansson libsodium openssl libnghttp2 libevent 2>/dev/null) -lpthread"
cflags="-g -O1 -std=gnu11 -D_GNU_SOURCE -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined
-fno-sanitize-recover=undefined -I$top/src"

# Some sources include the configure-made config.h: give them the few facts they use.
version=$(sed -n 's/^AC_INIT(\[tdns\], \[\([^]]*\)\].*/\1/p' "$top/configure.ac")
printf '#define PACKAGE_VERSION "%s"\n#define PACKAGE_NAME "tdns"\n#define PACKAGE_STRING "tdns %s"\n' \
	"$version" "$version" >"$work/config.h"
cflags="$cflags -I$work"

echo "fuzz: building$targets"
for t in $targets; do
	# shellcheck disable=SC2086
	if ! $CC $cflags -DSYSCONFDIR='"/etc"' -DLOCALSTATEDIR='"/var"' -o "$work/$t" \
		"$top/tests/fuzz/$t.c" $libsrc $libs; then
		echo "fuzz: $t: build failed"
		keep=1
		exit 1
	fi
done

status=0
for t in $targets; do
	corpus="$work/$t.corpus"
	mkdir -p "$corpus"
	# Seeds, when the target ships some: tests/fuzz/NAME.corpus/ or tests/fuzz/corpus/NAME/.
	for seeds in "$top/tests/fuzz/$t.corpus" "$top/tests/fuzz/corpus/$t"; do
		if [ -d "$seeds" ]; then
			cp -r "$seeds"/. "$corpus"/
		fi
	done
	set -- -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$work/$t-"
	# The dictionary is NAME.dict, for fuzz_NAME.c or for the whole target name.
	for d in "$top/tests/fuzz/$t.dict" "$top/tests/fuzz/${t#fuzz_}.dict"; do
		if [ -f "$d" ]; then
			set -- "$@" -dict="$d"
			break
		fi
	done
	echo "---- fuzz: $t for $secs s"
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
		ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
		"$work/$t" "$@" "$corpus" >"$work/$t.log" 2>&1
	rc=$?
	grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::peak_rss_mb)' "$work/$t.log"
	if [ "$rc" -ne 0 ] || grep -q -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' \
		"$work/$t.log"; then
		echo "fuzz: $t FAILED (exit $rc)"
		tail -n 60 "$work/$t.log"
		for a in "$work/$t"-*; do
			[ -f "$a" ] || continue
			echo "crash input $a (base64):"
			base64 "$a"
			if [ -n "${FUZZ_KEEP:-}" ]; then
				mkdir -p "$FUZZ_KEEP" && cp "$a" "$FUZZ_KEEP"/
			fi
		done
		keep=1
		status=1
	else
		echo "fuzz: $t ok"
	fi
done
exit "$status"
