#!/bin/bash
# SPDX-License-Identifier: MIT
# Authoritative benchmark: tdnsd, NSD and Knot serve the same >10,000-name zone in turn, each
# with one worker pinned to CPU 0, loaded by dnsperf (-c 8 -T 1) pinned to CPU 1; prints qps,
# latency, server CPU seconds, queries per server CPU-second and memory, and the tdnsd ratios.
#   BENCH_SECONDS (default 10) per run, BENCH_ROUNDS (default 3), BENCH_NAMES (default 12000),
#   TDNSD (default build/tdnsd), BENCH_PORT (default: 3 free locked ports; tdnsd, +1 NSD, +2 Knot),
#   BENCH_SERVERS (default "tdnsd nsd knot").
set -eu
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
NAMES=${BENCH_NAMES:-12000}
lock_ports 3 "${BENCH_PORT:-}"
ZONE=bench.example
SERVERS=${BENCH_SERVERS:-tdnsd nsd knot}

need_tools "dnsperf nsd knot bind9-dnsutils util-linux" dnsperf nsd knotd dig taskset
need_tdnsd "$SERVERS"
share_one_cpu

bench_setup tdns-bench tdnsd nsd knot

# ---- zone and queries
echo "auth.sh: generating $ZONE with $NAMES names and the query file"
awk -v n="$NAMES" -v zone="$ZONE" 'BEGIN {
	printf "$ORIGIN %s.\n$TTL 3600\n", zone
	printf "@ IN SOA ns1 hostmaster 2024010101 7200 3600 1209600 300\n"
	printf "@ NS ns1\n@ NS ns2\nns1 A 192.0.2.53\nns2 A 192.0.2.54\n"
	printf "@ MX 10 mail0\n@ A 192.0.2.1\n*.wild A 192.0.2.99\n*.wild TXT \"wildcard\"\n"
	for (i = 0; i < n; i++) {
		printf "h%d A 10.%d.%d.%d\n", i, int(i / 65536) % 256, int(i / 256) % 256, i % 256
		if (i % 2 == 0) printf "h%d AAAA 2001:db8::%x:%x\n", i, int(i / 65536), i % 65536
		if (i % 5 == 0) printf "h%d MX 10 mail%d\n", i, i % 100
		if (i % 4 == 0) printf "h%d TXT \"v=spf1 ip4:10.0.0.0/8 -all\" \"host %d\"\n", i, i
		if (i % 10 == 0) printf "alias%d CNAME h%d\n", i, (i * 7) % n
	}
	for (i = 0; i < 100; i++) printf "mail%d A 192.0.2.%d\n", i, 100 + i % 100
}' >"$tmp/$ZONE.zone"

# 100,000 queries, fixed seed: 40 % A, 15 % AAAA, 10 % MX, 10 % TXT, 10 % NXDOMAIN,
# 8 % wildcard, 7 % CNAME.
query_mix "$tmp/queries" '
		if (r < 40) printf "h%d.%s A\n", i, zone
		else if (r < 55) printf "h%d.%s AAAA\n", i - i % 2, zone
		else if (r < 65) printf "h%d.%s MX\n", i - i % 5, zone
		else if (r < 75) printf "h%d.%s TXT\n", i - i % 4, zone
		else if (r < 85) printf "nx%d.%s A\n", i, zone
		else if (r < 93) printf "w%d.wild.%s A\n", i, zone
		else printf "alias%d.%s A\n", i - i % 10, zone'
echo "auth.sh: zone $(wc -l <"$tmp/$ZONE.zone") lines, $(grep -c . "$tmp/queries") queries"

# ---- server configs
auth_configs warning

start() {
	local s=$1
	case $s in
	tdnsd) taskset -c "$SERVER_CPU" "$TDNSD" -f -c "$tmp/tdnsd/tdnsd.conf" >"$tmp/$s.log" 2>&1 & ;;
	nsd) taskset -c "$SERVER_CPU" nsd -d -c "$tmp/nsd/nsd.conf" >"$tmp/$s.log" 2>&1 & ;;
	knot) taskset -c "$SERVER_CPU" knotd -c "$tmp/knot/knot.conf" >"$tmp/$s.log" 2>&1 & ;;
	esac
	PID[$s]=$!
	wait_ready "$s" "$ZONE" SOA
}

for s in $SERVERS; do
	start "$s"
done

# ---- rounds: the servers alternate so that drifts of the machine hit all of them alike
totals_init "$SERVERS"
for r in $(seq 1 "$ROUNDS"); do
	for s in $SERVERS; do
		perf_round "$r" "$s" "$tmp/queries" 6
	done
done

# ---- table
echo
echo "auth.sh: $ROUNDS rounds x $SECS s, dnsperf -c 8 -T 1 on CPU $CLIENT_CPU, servers on CPU $SERVER_CPU"
printf '%-6s %10s %10s %10s %12s %10s %10s\n' server qps lat_ms cpu_s q/cpu_s rss_peak_MB pss_MB
for s in $SERVERS; do
	totals_average "$s"
	printf '%-6s %10.0f %10.3f %10.2f %12s %10.1f %10.1f\n' "$s" "${AVGQ[$s]}" "${AVGL[$s]}" \
		"$(ticks_s "${CPU[$s]}")" "${QPC[$s]}" \
		"$(mem_mb "${PID[$s]}" VmHWM)" \
		"$(mem_mb "${PID[$s]}" Pss)"
done
echo
codes_lines "$SERVERS" 6 "response codes"
echo
for other in nsd knot; do
	both_measured tdnsd "$other" || continue
	printf 'tdnsd/%s queries per CPU-second: %s\n' "$other" "$(ratio "${QPC[tdnsd]}" "${QPC[$other]}")"
done
