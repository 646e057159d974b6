#!/bin/bash
# SPDX-License-Identifier: MIT
# Quick start on a fresh Debian: installs the build dependencies when missing (as root), builds
# tdns in build/ and runs ./build/tdnsd in the foreground on its embedded default configuration.
# Extra arguments go to tdnsd (for example: -c etc/tdnsd.conf).
# Environment: TDNS_BUILD_DIR, the build directory (default: build/ in the checkout; an existing
# one, such as the directory of a test run, is only brought up to date).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
build=${TDNS_BUILD_DIR:-$top/build}

DEPS="build-essential autoconf automake libtool pkg-config libevent-dev libssl-dev libnghttp2-dev
libncurses-dev libinih-dev libsodium-dev libjansson-dev bind9-dnsutils"

missing=""
for p in $DEPS; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed'; then
		missing="$missing $p"
	fi
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "quickstart: missing Debian packages:$missing"
		echo "quickstart: run as root, or: sudo apt-get install -y$missing"
		exit 1
	fi
	echo "quickstart: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	# shellcheck disable=SC2086
	apt-get install -y --no-install-recommends $missing
fi

if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ]; then
	autoreconf -fi
fi
mkdir -p "$build"
cd "$build"
if [ ! -f Makefile ]; then
	"$top/configure"
fi
make -j"$(nproc 2>/dev/null || echo 2)"

echo "quickstart: starting $build/tdnsd -f $* (Ctrl-C to stop); try: dig @127.0.0.1 example.com SOA"
exec ./tdnsd -f "$@"
