#!/bin/bash
# SPDX-License-Identifier: MIT
# Cache-hit benchmark: tdnsd (recursion mode forward), unbound and Knot Resolver all forward to
# the same backend unbound (local-data only) and are warmed with every query first, so the
# measured rounds are answered from their caches.  One worker each pinned to CPU 0, dnsperf
# (-c 8 -T 1) pinned to CPU 1, servers in alternating rounds; prints qps, latency, server CPU
# seconds, queries per server CPU-second, RSS, and the tdnsd ratios.
#   BENCH_SECONDS (default 10) per run, BENCH_ROUNDS (default 3), BENCH_NAMES (default 10000),
#   TDNSD (default build/tdnsd), BENCH_PORT (default: 4 free locked ports; tdnsd, +1 unbound,
#   +2 kresd, +3 the backend), BENCH_SERVERS (default "tdnsd unbound kresd"; kresd is left out with a
#   note when Knot Resolver is not installed).
set -eu
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
NAMES=${BENCH_NAMES:-10000}
lock_ports 4 "${BENCH_PORT:-}"
ZONE=cache.bench.example
SERVERS=${BENCH_SERVERS:-tdnsd unbound kresd}

need_tools "dnsperf unbound bind9-dnsutils util-linux" dnsperf unbound dig taskset
if [[ " $SERVERS " == *" kresd "* ]] && ! command -v kresd >/dev/null 2>&1; then
	echo "cache.sh: kresd not found (apt-get install knot-resolver): left out"
	SERVERS=$(echo "$SERVERS" | sed 's/\bkresd\b//')
fi
need_tdnsd "$SERVERS"
share_one_cpu

bench_setup tdns-cache-bench tdnsd unbound kresd backend

# ---- backend data and queries
# NAMES names with A, every second one AAAA, every fourth TXT; 1,000 names that do not exist.
# TTLs of an hour (and SOA MINIMUM an hour): nothing expires during the run.
echo "cache.sh: generating $ZONE ($NAMES names) and the query files"
mkdir -p "$tmp/backend" "$tmp/tdnsd" "$tmp/unbound" "$tmp/kresd"
awk -v n="$NAMES" -v zone="$ZONE" -v port="${PORTOF[backend]}" -v dir="$tmp/backend" 'BEGIN {
	printf "server:\n  interface: 127.0.0.1@%d\n  num-threads: 1\n  do-ip6: no\n", port
	printf "  do-daemonize: no\n  chroot: \"\"\n  username: \"\"\n  directory: \"%s\"\n", dir
	printf "  pidfile: \"%s/unbound.pid\"\n  logfile: \"%s/unbound.log\"\n", dir, dir
	printf "  use-syslog: no\n  verbosity: 0\n  access-control: 127.0.0.0/8 allow\n"
	printf "  module-config: \"iterator\"\n  local-zone: \".\" static\n"
	printf "  local-zone: \"%s.\" static\n", zone
	printf "  local-data: \"%s. 3600 IN SOA ns1.%s. hostmaster.%s. 1 7200 3600 1209600 3600\"\n",
		zone, zone, zone
	printf "  local-data: \"%s. 3600 IN NS ns1.%s.\"\n", zone, zone
	for (i = 0; i < n; i++) {
		printf "  local-data: \"h%d.%s. 3600 IN A 10.%d.%d.%d\"\n", i, zone,
			int(i / 65536) % 256, int(i / 256) % 256, i % 256
		if (i % 2 == 0)
			printf "  local-data: \"h%d.%s. 3600 IN AAAA 2001:db8::%x:%x\"\n", i, zone,
				int(i / 65536), i % 65536
		if (i % 4 == 0)
			printf "  local-data: '"'"'h%d.%s. 3600 IN TXT \"v=spf1 -all\" \"host %d\"'"'"'\n",
				i, zone, i
	}
	printf "remote-control:\n  control-enable: no\n"
}' >"$tmp/backend/unbound.conf"

# Every distinct question once (the warm-up), then 100,000 queries with a fixed seed:
# 50 % A, 20 % AAAA, 15 % TXT, 15 % NXDOMAIN.
awk -v n="$NAMES" -v zone="$ZONE" 'BEGIN {
	for (i = 0; i < n; i++) {
		printf "h%d.%s A\n", i, zone
		if (i % 2 == 0) printf "h%d.%s AAAA\n", i, zone
		if (i % 4 == 0) printf "h%d.%s TXT\n", i, zone
	}
	for (i = 0; i < 1000; i++) printf "nx%d.%s A\n", i, zone
}' >"$tmp/warm"
query_mix "$tmp/queries" '
		if (r < 50) printf "h%d.%s A\n", i, zone
		else if (r < 70) printf "h%d.%s AAAA\n", i - i % 2, zone
		else if (r < 85) printf "h%d.%s TXT\n", i - i % 4, zone
		else printf "nx%d.%s A\n", int(rand() * 1000), zone'
echo "cache.sh: $(grep -c . "$tmp/warm") distinct questions, $(grep -c . "$tmp/queries") queries"

# ---- resolver configs: one worker, a large cache, no prefetch, no DNSSEC validation
cat >"$tmp/tdnsd/tdnsd.conf" <<EOF
$(tdnsd_head "${PORTOF[tdnsd]}")
[recursion]
mode = forward
[forwarders]
servers = udp://127.0.0.1:${PORTOF[backend]}
[cache]
max-size = 256M
prefetch = no
# The fake names are unsigned while the real root's trust anchor is built in, so a validating
# tdnsd would answer them bogus: validation off, compared with the non-validating peer.
[dnssec]
validation = no
EOF
cat >"$tmp/unbound/unbound.conf" <<EOF
server:
  interface: 127.0.0.1@${PORTOF[unbound]}
  num-threads: 1
$(unbound_common)
  do-not-query-localhost: no
  msg-cache-size: 96m
  rrset-cache-size: 160m
  prefetch: no
forward-zone:
  name: "."
  forward-addr: 127.0.0.1@${PORTOF[backend]}
remote-control:
  control-enable: no
EOF
cat >"$tmp/kresd/kresd.conf" <<EOF
net.listen('127.0.0.1', ${PORTOF[kresd]}, { kind = 'dns' })
cache.open(256 * MB, 'lmdb://$tmp/kresd/cache')
trust_anchors.remove('.')
policy.add(policy.all(policy.FORWARD({'127.0.0.1@${PORTOF[backend]}'})))
log_level('warning')
EOF

start() {
	local s=$1 cpu=$SERVER_CPU
	case $s in
	backend)
		taskset -c "$CLIENT_CPU" unbound -d -c "$tmp/backend/unbound.conf" >"$tmp/$s.log" 2>&1 & ;;
	tdnsd) taskset -c "$cpu" "$TDNSD" -f -c "$tmp/tdnsd/tdnsd.conf" >"$tmp/$s.log" 2>&1 & ;;
	unbound) taskset -c "$cpu" unbound -d -c "$tmp/unbound/unbound.conf" >"$tmp/$s.log" 2>&1 & ;;
	kresd) taskset -c "$cpu" kresd -n -c "$tmp/kresd/kresd.conf" "$tmp/kresd" \
		>"$tmp/$s.log" 2>&1 </dev/null & ;;
	esac
	PID[$s]=$!
	wait_ready "$s" "h1.$ZONE" A
}

perf() { # server, query file, seconds, output, extra args...
	local s=$1 file=$2 secs=$3 out=$4
	shift 4
	taskset -c "$CLIENT_CPU" dnsperf -s 127.0.0.1 -p "${PORTOF[$s]}" -d "$file" -c 8 -T 1 \
		-l "$secs" -t 2 "$@" >"$out" 2>&1 || true
}

start backend
for s in $SERVERS; do
	start "$s"
done

# A process that died, or answers other than NOERROR for a name that exists, end the run:
# figures from a broken server mean nothing.
check() {
	local s=$1 p=${PORTOF[$1]} st
	for t in backend "$s"; do
		server_alive "$t" "(PID ${PID[$t]}) is gone; its log:" || exit 1
	done
	st=$(dig +time=2 +tries=1 -p "$p" @127.0.0.1 "h1.$ZONE" A | sed -n 's/.*status: \([A-Z]*\),.*/\1/p')
	if [ "$st" != NOERROR ]; then
		echo "cache.sh: $s answers h1.$ZONE with '${st:-nothing}'; its log:"
		server_log "$s"
		exit 1
	fi
}

# ---- warm-up: every question twice
for s in $SERVERS; do
	check "$s"
	perf "$s" "$tmp/warm" 120 "$tmp/warm.$s" -n 2 -q 100
	echo "cache.sh: warmed $s: $(awk '/Queries completed:/ {print $3}' "$tmp/warm.$s") queries," \
		"codes $(sed -n 's/^ *Response codes: *//p' "$tmp/warm.$s")"
	check "$s"
done

# ---- rounds: the servers alternate so that drifts of the machine hit all of them alike
totals_init "$SERVERS"
declare -A BCPU
for s in $SERVERS; do
	BCPU[$s]=0
done
for r in $(seq 1 "$ROUNDS"); do
	for s in $SERVERS; do
		check "$s"
		b0=$(cpu_ticks "${PID[backend]}")
		c0=$(cpu_ticks "${PID[$s]}")
		perf "$s" "$tmp/queries" "$SECS" "$tmp/perf.$s.$r"
		c1=$(cpu_ticks "${PID[$s]}")
		b1=$(cpu_ticks "${PID[backend]}")
		round_done "$r" "$s" $((c1 - c0)) 7
		BCPU[$s]=$((BCPU[$s] + b1 - b0))
	done
done

# ---- table
echo
echo "cache.sh: $ROUNDS rounds x $SECS s of cache hits, dnsperf -c 8 -T 1 on CPU $CLIENT_CPU," \
	"resolvers on CPU $SERVER_CPU"
printf '%-7s %10s %10s %10s %12s %12s %10s %14s\n' server qps lat_ms cpu_s q/cpu_s \
	rss_peak_MB rss_MB backend_cpu_s
for s in $SERVERS; do
	totals_average "$s"
	printf '%-7s %10s %10s %10.2f %12s %12.1f %10.1f %14.2f\n' "$s" "${AVGQ[$s]}" "${AVGL[$s]}" \
		"$(ticks_s "${CPU[$s]}")" "${QPC[$s]}" \
		"$(mem_mb "${PID[$s]}" VmHWM)" \
		"$(mem_mb "${PID[$s]}" VmRSS)" \
		"$(ticks_s "${BCPU[$s]}")"
done
echo
codes_lines "$SERVERS" 7 "response codes (last round)"
echo "(backend_cpu_s: CPU the backend used during that resolver's rounds; near 0 = cache hits)"
echo
for other in unbound kresd; do
	both_measured tdnsd "$other" || continue
	printf 'tdnsd/%s: qps %s, queries per CPU-second %s, latency %s\n' "$other" \
		"$(ratio "${AVGQ[tdnsd]}" "${AVGQ[$other]}")" "$(ratio "${QPC[tdnsd]}" "${QPC[$other]}")" \
		"$(ratio "${AVGL[tdnsd]}" "${AVGL[$other]}")"
done
