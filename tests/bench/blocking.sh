#!/bin/bash
# SPDX-License-Identifier: MIT
# Block list benchmark (issue 18): 1,000,000 generated names in hosts format, blocked by tdnsd
# ([blocking] lists) and by Unbound (local-zone always_nxdomain) in turn; measures the time from
# process start until the last listed name is answered NXDOMAIN, and the RSS over the same
# server with an empty list.  dnsmasq is compared when it is installed.
#   BLOCK_NAMES (default 1000000), BLOCK_SERVERS (default "tdnsd unbound", plus dnsmasq when
#   found), BLOCK_TIMEOUT (default 300 s per start), TDNSD (default build/tdnsd), BLOCK_PORT.
set -eu
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
NAMES=${BLOCK_NAMES:-1000000}
LIMIT=${BLOCK_TIMEOUT:-300}
DEFAULT_SERVERS="tdnsd unbound"
if command -v dnsmasq >/dev/null 2>&1; then
	DEFAULT_SERVERS="$DEFAULT_SERVERS dnsmasq"
fi
SERVERS=${BLOCK_SERVERS:-$DEFAULT_SERVERS}
lock_ports 3 "${BLOCK_PORT:-}"
need_tools "bind9-dnsutils" dig
need_tdnsd "$SERVERS"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tdns-blocking.XXXXXX")
declare -A PID=() # the server running now, ended by lib.sh's cleanup
trap cleanup EXIT
trap 'exit 130' INT TERM

declare -A PORTOF
PORTOF[tdnsd]=$PORT
PORTOF[unbound]=$((PORT + 1))
PORTOF[dnsmasq]=$((PORT + 2))

# ---- the names: tracker-like hosts of many registered domains, as public lists look
echo "blocking.sh: generating $NAMES names"
awk -v n="$NAMES" 'BEGIN {
	split("com net org info io de co.uk ru xyz top", tld, " ")
	print "# generated block list"
	for (i = 0; i < n; i++) {
		d = int(i / 4)
		printf "0.0.0.0 %s%d.ad-domain%d.%s\n", (i % 4 == 0 ? "ads" : i % 4 == 1 ? "track" : i % 4 == 2 ? "pixel" : "metrics"), i, d, tld[d % 10 + 1]
		last = sprintf("%s%d.ad-domain%d.%s", (i % 4 == 0 ? "ads" : i % 4 == 1 ? "track" : i % 4 == 2 ? "pixel" : "metrics"), i, d, tld[d % 10 + 1])
	}
	print last >"/dev/stderr"
}' >"$tmp/hosts.txt" 2>"$tmp/lastname"
LAST=$(cat "$tmp/lastname")
: >"$tmp/empty.txt"
echo "blocking.sh: $(du -m "$tmp/hosts.txt" | cut -f1) MB of hosts file, last name $LAST"

# Per server: a config with the big list (big) and one with an empty list (empty).
mkdir -p "$tmp/state"
for which in big empty; do
	list=$tmp/hosts.txt
	[ "$which" = empty ] && list=$tmp/empty.txt
	cat >"$tmp/tdnsd-$which.conf" <<CONF
[server]
listen = 127.0.0.1:${PORTOF[tdnsd]}
workers = 1
state-dir = $tmp/state
[control]
socket = $tmp/tdnsd.sock
[log]
level = info
[recursion]
mode = off
[blocking]
enabled = yes
lists = $list
CONF
	{
		printf 'server:\n  interface: 127.0.0.1\n  port: %s\n  num-threads: 1\n' "${PORTOF[unbound]}"
		printf '  do-daemonize: no\n  chroot: ""\n  username: ""\n  directory: "%s"\n' "$tmp"
		printf '  pidfile: "%s/unbound.pid"\n  use-syslog: no\n  verbosity: 0\n' "$tmp"
		printf '  local-zone: "use-application-dns.net." always_nxdomain\n'
		if [ "$which" = big ]; then
			awk '/^0\.0\.0\.0/ {printf "  local-zone: \"%s.\" always_nxdomain\n", $2}' "$tmp/hosts.txt"
		fi
		printf 'remote-control:\n  control-enable: no\n'
	} >"$tmp/unbound-$which.conf"
	{
		printf 'port=%s\nlisten-address=127.0.0.1\nbind-interfaces\nno-resolv\nno-hosts\n' \
			"${PORTOF[dnsmasq]}"
		printf 'address=/use-application-dns.net/\n'
		if [ "$which" = big ]; then
			awk '/^0\.0\.0\.0/ {printf "address=/%s/\n", $2}' "$tmp/hosts.txt"
		fi
	} >"$tmp/dnsmasq-$which.conf"
done

now_ms() {
	date +%s%3N
}

# Starts server $1 with config $2 (big or empty), polls name $3 until NXDOMAIN; sets LOAD_MS,
# CPU_MS (the server's CPU time until then: on a busy machine the fairer figure) and RSS_KB.
measure() {
	local s=$1 which=$2 name=$3 t0 status pid
	t0=$(now_ms)
	case $s in
	tdnsd) "$TDNSD" -f -c "$tmp/tdnsd-$which.conf" >"$tmp/$s.log" 2>&1 & ;;
	unbound) unbound -d -c "$tmp/unbound-$which.conf" >"$tmp/$s.log" 2>&1 & ;;
	dnsmasq) dnsmasq -k -C "$tmp/dnsmasq-$which.conf" >"$tmp/$s.log" 2>&1 & ;;
	esac
	pid=$!
	PID[$s]=$pid
	while :; do
		status=$(dig +time=1 +tries=1 -p "${PORTOF[$s]}" @127.0.0.1 "$name" A 2>/dev/null |
			sed -n 's/.*status: \([A-Z]*\).*/\1/p' || true)
		[ "$status" = NXDOMAIN ] && break
		gave_up "$s" "$pid" "$tmp/$s.log" "$t0" "$LIMIT" "block $name" && return 1
		sleep 0.02
	done
	LOAD_MS=$(($(now_ms) - t0))
	CPU_MS=$(($(cpu_ticks "$pid") * 1000 / $(getconf CLK_TCK)))
	sleep 0.5
	RSS_KB=$(mem_kb "$pid" VmRSS)
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	unset 'PID[$s]'
}

declare -A TIME CPU EXTRA
for s in $SERVERS; do
	measure "$s" empty use-application-dns.net
	base=$RSS_KB
	measure "$s" big "$LAST"
	TIME[$s]=$LOAD_MS
	CPU[$s]=$CPU_MS
	EXTRA[$s]=$((RSS_KB - base))
	if [ "$s" = tdnsd ]; then
		grep -o 'block lists: .*' "$tmp/tdnsd.log" || true
	fi
	printf '%-8s last name blocked after %7.2f s (%.2f s of CPU), extra RSS %8.1f MB (%.1f bytes/name)\n' \
		"$s" "$(echo "$LOAD_MS" | awk '{print $1 / 1000}')" "$(echo "$CPU_MS" | awk '{print $1 / 1000}')" \
		"$(echo "${EXTRA[$s]}" | awk '{print $1 / 1024}')" \
		"$(echo "${EXTRA[$s]} $NAMES" | awk '{print $1 * 1024 / $2}')"
done
echo
for other in unbound dnsmasq; do
	if [ -z "${TIME[tdnsd]:-}" ] || [ -z "${TIME[$other]:-}" ]; then
		continue
	fi
	printf 'tdnsd/%s: time %s, CPU %s, extra RSS %s\n' "$other" \
		"$(echo "${TIME[tdnsd]} ${TIME[$other]}" | awk '{printf "%.2f", $1 / $2}')" \
		"$(echo "${CPU[tdnsd]} ${CPU[$other]}" | awk '{printf "%.2f", $1 / ($2 > 0 ? $2 : 1)}')" \
		"$(echo "${EXTRA[tdnsd]} ${EXTRA[$other]}" | awk '{printf "%.2f", $1 / ($2 > 0 ? $2 : 1)}')"
done
