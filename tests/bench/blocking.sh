#!/bin/bash
# SPDX-License-Identifier: MIT
# Block list benchmark (issue 18): 1,000,000 generated names in hosts format, blocked by tdnsd
# ([blocking] lists), dnsmasq (address=/name/) and Unbound (local-zone always_nxdomain) in
# turn.  For each: the time from process start until the last listed name is answered
# NXDOMAIN, the RSS over the same server with an empty list, and the queries per server
# CPU-second on a mix of 50 % blocked and 50 % cached names (BLOCK_CACHED names of a zone
# served by a tdnsd upstream on loopback, resolved once through the server before the mix;
# dnsperf -c 8 -T 1 pinned to CPU 1, the server to CPU 0, BENCH_ROUNDS rounds of
# BENCH_SECONDS).  Ratios tdnsd/other end the report, with the issue's goals against dnsmasq.
#   BLOCK_NAMES (default 1000000), BLOCK_CACHED (default 10000), BLOCK_SERVERS (default
#   "tdnsd dnsmasq unbound"), BLOCK_TIMEOUT (default 300 s per start), BENCH_SECONDS (10),
#   BENCH_ROUNDS (3), TDNSD (default build/tdnsd), BLOCK_PORT.
set -eu
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
NAMES=${BLOCK_NAMES:-1000000}
CACHED=${BLOCK_CACHED:-10000}
LIMIT=${BLOCK_TIMEOUT:-300}
SERVERS=${BLOCK_SERVERS:-tdnsd dnsmasq unbound}
CACHE_ZONE=bench-cache.net
lock_ports 4 "${BLOCK_PORT:-}"
need_tools "bind9-dnsutils dnsperf dnsmasq-base unbound util-linux" dig dnsperf taskset
for s in $SERVERS; do
	case $s in
	dnsmasq) need_tools dnsmasq-base dnsmasq ;;
	unbound) need_tools unbound unbound ;;
	tdnsd) ;;
	*) echo "$ME: unknown server $s (expected tdnsd, dnsmasq, unbound)"; exit 1 ;;
	esac
done
need_tdnsd "tdnsd"
share_one_cpu

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tdns-blocking.XXXXXX")
declare -A PID=() # the servers running now, ended by lib.sh's cleanup
trap cleanup EXIT
trap 'exit 130' INT TERM

declare -A PORTOF
PORTOF[tdnsd]=$PORT
PORTOF[unbound]=$((PORT + 1))
PORTOF[dnsmasq]=$((PORT + 2))
PORTOF[upstream]=$((PORT + 3))

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

# ---- the cached names: a zone of the upstream, and the mix of the measured rounds
awk -v n="$CACHED" -v zone="$CACHE_ZONE" 'BEGIN {
	printf "$ORIGIN %s.\n$TTL 86400\n", zone
	printf "@ SOA ns hostmaster 1 3600 600 86400 3600\n@ NS ns\nns A 192.0.2.53\n"
	for (i = 0; i < n; i++) {
		printf "c%d A 10.%d.%d.%d\n", i, int(i / 65536) % 256, int(i / 256) % 256, i % 256
	}
}' >"$tmp/$CACHE_ZONE.zone"
awk -v n="$CACHED" -v zone="$CACHE_ZONE" 'BEGIN {
	for (i = 0; i < n; i++) printf "c%d.%s A\n", i, zone
}' >"$tmp/warm"
# 100,000 queries, fixed seed: half names of the block list (random lines), half cached names.
awk -v n="$NAMES" -v c="$CACHED" -v zone="$CACHE_ZONE" '
	NR == FNR && /^0\.0\.0\.0/ { name[k++] = $2; next }
	END {
		srand(42)
		for (q = 0; q < 100000; q++) {
			if (rand() < 0.5) printf "%s A\n", name[int(rand() * k)]
			else printf "c%d.%s A\n", int(rand() * c), zone
		}
	}' "$tmp/hosts.txt" /dev/null >"$tmp/mix"

mkdir -p "$tmp/upstream"
cat >"$tmp/upstream/tdnsd.conf" <<CONF
$(tdnsd_head "${PORTOF[upstream]}" "$tmp/upstream")
[recursion]
mode = off
[zone $CACHE_ZONE]
file = $tmp/$CACHE_ZONE.zone
CONF

# Per server: a config with the big list (big) and one with an empty list (empty), both
# forwarding to the upstream.
mkdir -p "$tmp/state"
for which in big empty; do
	list=$tmp/hosts.txt
	[ "$which" = empty ] && list=$tmp/empty.txt
	cat >"$tmp/tdnsd-$which.conf" <<CONF
$(tdnsd_head "${PORTOF[tdnsd]}" "$tmp/state" info)
[recursion]
mode = forward
allow = 127.0.0.0/8
[forwarders]
servers = udp://127.0.0.1:${PORTOF[upstream]}
# The fake names are unsigned while the real root's trust anchor is built in, so a validating
# tdnsd would answer them bogus: validation off, compared with the non-validating peer.
[dnssec]
validation = no
[blocking]
enabled = yes
lists = $list
CONF
	{
		printf 'server:\n  interface: 127.0.0.1\n  port: %s\n  num-threads: 1\n' "${PORTOF[unbound]}"
		printf '  do-daemonize: no\n  chroot: ""\n  username: ""\n  directory: "%s"\n' "$tmp"
		printf '  pidfile: "%s/unbound.pid"\n  use-syslog: no\n  verbosity: 0\n' "$tmp"
		printf '  do-not-query-localhost: no\n  msg-cache-size: 64m\n  rrset-cache-size: 64m\n'
		printf '  local-zone: "use-application-dns.net." always_nxdomain\n'
		if [ "$which" = big ]; then
			awk '/^0\.0\.0\.0/ {printf "  local-zone: \"%s.\" always_nxdomain\n", $2}' "$tmp/hosts.txt"
		fi
		printf 'remote-control:\n  control-enable: no\n'
		printf 'forward-zone:\n  name: "."\n  forward-addr: 127.0.0.1@%s\n' "${PORTOF[upstream]}"
	} >"$tmp/unbound-$which.conf"
	{
		printf 'port=%s\nlisten-address=127.0.0.1\nbind-interfaces\nno-resolv\nno-hosts\n' \
			"${PORTOF[dnsmasq]}"
		printf 'pid-file=%s/dnsmasq.pid\ncache-size=%s\n' "$tmp" $((CACHED * 2))
		printf 'server=127.0.0.1#%s\n' "${PORTOF[upstream]}"
		printf 'address=/use-application-dns.net/\n'
		if [ "$which" = big ]; then
			awk '/^0\.0\.0\.0/ {printf "address=/%s/\n", $2}' "$tmp/hosts.txt"
		fi
	} >"$tmp/dnsmasq-$which.conf"
done

now_ms() {
	date +%s%3N
}

"$TDNSD" -f -c "$tmp/upstream/tdnsd.conf" >"$tmp/upstream.log" 2>&1 &
PID[upstream]=$!
wait_ready upstream "c0.$CACHE_ZONE" A

# Starts server $1 with config $2 (big or empty), polls name $3 until NXDOMAIN; sets LOAD_MS,
# CPU_MS (the server's CPU time until then: on a busy machine the fairer figure) and RSS_KB.
# The server stays up (PID[$1]) for the mix; stop ends it.
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
	CPU_MS=$(($(cpu_ticks "$pid") * 1000 / hz))
	sleep 0.5
	RSS_KB=$(mem_kb "$pid" VmRSS)
}

stop() {
	kill "${PID[$1]}"
	wait "${PID[$1]}" 2>/dev/null || true
	unset 'PID[$1]'
}

# The cached half of the mix: every name resolved once through server $1 (twice when the
# first pass lost some), so that the rounds find them in its cache.
warm() {
	local s=$1 pass
	for pass in 1 2; do
		dnsperf -s 127.0.0.1 -p "${PORTOF[$s]}" -d "$tmp/warm" -n 1 -c 1 -q 50 -t 5 \
			>"$tmp/warm.$s.$pass" 2>&1 || true
		perf_read "$tmp/warm.$s.$pass" "$s" || perf_failed "$tmp/warm.$s.$pass" "warming $s"
		[ "$lost" = 0 ] && [[ "${CODES[$s]}" == "NOERROR $CACHED "* ]] && return 0
	done
	echo "$ME: $s: warming the cache left ${CODES[$s]}, lost $lost"
}

# ROUNDS rounds of the mix against server $1 (running, pinned to SERVER_CPU).
mix() {
	local s=$1 r
	taskset -a -p -c "$SERVER_CPU" "${PID[$s]}" >/dev/null
	for r in $(seq 1 "$ROUNDS"); do
		perf_round "$r" "$s" "$tmp/mix" 8
	done
	totals_average "$s"
}

declare -A TIME CPUMS EXTRA
totals_init "$SERVERS"
for s in $SERVERS; do
	measure "$s" empty use-application-dns.net
	base=$RSS_KB
	stop "$s"
	measure "$s" big "$LAST"
	TIME[$s]=$LOAD_MS
	CPUMS[$s]=$CPU_MS
	EXTRA[$s]=$((RSS_KB - base))
	if [ "$s" = tdnsd ]; then
		grep -o 'block lists: .*' "$tmp/tdnsd.log" || true
	fi
	printf '%-8s last name blocked after %7.2f s (%.2f s of CPU), extra RSS %8.1f MB (%.1f bytes/name)\n' \
		"$s" "$(echo "$LOAD_MS" | awk '{print $1 / 1000}')" "$(echo "$CPU_MS" | awk '{print $1 / 1000}')" \
		"$(echo "${EXTRA[$s]}" | awk '{print $1 / 1024}')" \
		"$(echo "${EXTRA[$s]} $NAMES" | awk '{print $1 * 1024 / $2}')"
	warm "$s"
	mix "$s"
	codes_lines "$s" 8 "mix response codes"
	stop "$s"
done

# ---- table and ratios
echo
echo "blocking.sh: $NAMES names; mix of 50 % blocked and 50 % of $CACHED cached names," \
	"$ROUNDS rounds x $SECS s, dnsperf -c 8 -T 1 on CPU $CLIENT_CPU, servers on CPU $SERVER_CPU"
printf '%-8s %10s %10s %12s %10s %10s\n' server load_s load_cpu_s extra_RSS_MB qps kq/cpu_s
for s in $SERVERS; do
	printf '%-8s %10.2f %10.2f %12.1f %10s %10.1f\n' "$s" \
		"$(echo "${TIME[$s]}" | awk '{print $1 / 1000}')" \
		"$(echo "${CPUMS[$s]}" | awk '{print $1 / 1000}')" \
		"$(echo "${EXTRA[$s]}" | awk '{print $1 / 1024}')" "${AVGQ[$s]}" \
		"$(echo "${QPC[$s]}" | awk '{print $1 / 1000}')"
done
echo
for other in dnsmasq unbound; do
	if [ -z "${TIME[tdnsd]:-}" ] || [ -z "${TIME[$other]:-}" ]; then
		continue
	fi
	t=$(ratio "${TIME[tdnsd]}" "${TIME[$other]}")
	m=$(ratio "${EXTRA[tdnsd]}" "${EXTRA[$other]}")
	q=$(ratio "${QPC[tdnsd]}" "${QPC[$other]}")
	printf 'tdnsd/%s: time %s, CPU %s, extra RSS %s, kq/cpu-s %s\n' "$other" "$t" \
		"$(ratio "${CPUMS[tdnsd]}" "${CPUMS[$other]}")" "$m" "$q"
	if [ "$other" = dnsmasq ]; then
		# The goals of issue 18, point 10.
		printf 'goals against dnsmasq: time %s <= 0.50 %s, extra RSS %s <= 0.60 %s, kq/cpu-s %s >= 1.30 %s\n' \
			"$t" "$(echo "$t" | awk '{print ($1 <= 0.5) ? "met" : "MISSED"}')" \
			"$m" "$(echo "$m" | awk '{print ($1 <= 0.6) ? "met" : "MISSED"}')" \
			"$q" "$(echo "$q" | awk '{print ($1 >= 1.3) ? "met" : "MISSED"}')"
	fi
done
