#!/bin/bash
# SPDX-License-Identifier: MIT
# Encrypted-transport benchmark: tdnsd and unbound answer the same small zone over DNS over TLS
# (RFC 7858) and DNS over HTTPS (RFC 8484, HTTP/2), each with one worker pinned to CPU 0,
# loaded by dnsperf -m dot / -m doh with many concurrent connections (-c 64 -T 1) pinned to
# CPU 1; prints qps, latency, server CPU seconds, queries per server CPU-second, peak RSS,
# and the tdnsd/unbound ratios per transport.
#   BENCH_SECONDS (default 10) per run, BENCH_ROUNDS (default 3), BENCH_NAMES (default 2000),
#   BENCH_CLIENTS (default 64 connections), BENCH_OUTSTANDING (default 256 queries in flight),
#   BENCH_DOH_METHOD (GET or POST, default GET), BENCH_TRANSPORTS (default "dot doh"),
#   BENCH_SERVERS (default "tdnsd unbound"), TDNSD (default build/tdnsd),
#   BENCH_PORT (default: 6 free locked ports below the ephemeral range that TIME-WAIT client
#   ports occupy: tdnsd plain, +1 DoT, +2 DoH; unbound +3, +4, +5).
set -eu
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
NAMES=${BENCH_NAMES:-2000}
CLIENTS=${BENCH_CLIENTS:-64}
OUTSTANDING=${BENCH_OUTSTANDING:-256}
METHOD=${BENCH_DOH_METHOD:-GET}
TRANSPORTS=${BENCH_TRANSPORTS:-dot doh}
lock_ports 6 "${BENCH_PORT:-}"
ZONE=enc.bench.example
SERVERS=${BENCH_SERVERS:-tdnsd unbound}

need_tools "dnsperf unbound bind9-dnsutils knot-dnsutils openssl util-linux" \
	dnsperf unbound dig kdig openssl taskset
need_tdnsd "$SERVERS"
if [[ " $SERVERS " == *" unbound "* ]] && [[ " $TRANSPORTS " == *" doh "* ]] &&
	! unbound -V 2>&1 | grep -q nghttp2; then
	echo "encrypted.sh: this unbound has no nghttp2 (no DoH): unbound is measured over DoT only"
	NO_UNBOUND_DOH=1
fi
share_one_cpu

bench_setup tdns-enc-bench tdnsd tdnsd.dot tdnsd.doh unbound unbound.dot unbound.doh

# ---- certificate: self-signed P-256 (dnsperf does not verify certificates)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/key.pem" \
	-out "$tmp/cert.pem" -days 2 -subj /CN=bench.test -addext subjectAltName=DNS:bench.test \
	>/dev/null 2>&1

# ---- zone (a file for tdnsd, the same data as local-data for unbound) and queries
# NAMES names with A, every second one AAAA; 10 % of the queries are for names that do not
# exist.  Answers are small: what is measured is the transport, not the zone lookup.
echo "encrypted.sh: generating $ZONE ($NAMES names) and the query file"
mkdir -p "$tmp/tdnsd" "$tmp/unbound"
awk -v n="$NAMES" -v zone="$ZONE" -v zf="$tmp/$ZONE.zone" -v uf="$tmp/unbound/data.conf" '
function rr(owner, rest) {
	printf "%s.%s. 3600 IN %s\n", owner, zone, rest >zf
	printf "  local-data: \"%s.%s. 3600 IN %s\"\n", owner, zone, rest >uf
}
BEGIN {
	printf "%s. 3600 IN SOA ns1.%s. hostmaster.%s. 1 7200 3600 1209600 300\n", zone, zone, zone >zf
	printf "  local-zone: \"%s.\" static\n", zone >uf
	printf "  local-data: \"%s. 3600 IN SOA ns1.%s. hostmaster.%s. 1 7200 3600 1209600 300\"\n",
		zone, zone, zone >uf
	printf "%s. 3600 IN NS ns1.%s.\n", zone, zone >zf
	printf "  local-data: \"%s. 3600 IN NS ns1.%s.\"\n", zone, zone >uf
	rr("ns1", "A 192.0.2.53")
	for (i = 0; i < n; i++) {
		rr("h" i, sprintf("A 10.%d.%d.%d", int(i / 65536) % 256, int(i / 256) % 256, i % 256))
		if (i % 2 == 0) rr("h" i, sprintf("AAAA 2001:db8::%x:%x", int(i / 65536), i % 65536))
	}
}'
query_mix "$tmp/queries" '
		if (r < 60) printf "h%d.%s A\n", i, zone
		else if (r < 90) printf "h%d.%s AAAA\n", i - i % 2, zone
		else printf "nx%d.%s A\n", i, zone'

# ---- server configs: one worker each, enough TCP connections for every client
cat >"$tmp/tdnsd/tdnsd.conf" <<EOF
[server]
listen = 127.0.0.1:${PORTOF[tdnsd]}
workers = 1
state-dir = $tmp
tcp-max-connections = 1024
[recursion]
# Authoritative only, as the servers it is compared with.
mode = off
[log]
level = warning
[tls]
certificate = $tmp/cert.pem
key = $tmp/key.pem
[dot]
listen = 127.0.0.1:${PORTOF[tdnsd.dot]}
[doh]
listen = 127.0.0.1:${PORTOF[tdnsd.doh]}
[zone $ZONE]
type = primary
file = $ZONE.zone
EOF
{
	cat <<EOF
server:
  interface: 127.0.0.1@${PORTOF[unbound]}
  interface: 127.0.0.1@${PORTOF[unbound.dot]}
  tls-port: ${PORTOF[unbound.dot]}
  tls-service-key: "$tmp/key.pem"
  tls-service-pem: "$tmp/cert.pem"
EOF
	if [ -z "${NO_UNBOUND_DOH:-}" ]; then
		cat <<EOF
  interface: 127.0.0.1@${PORTOF[unbound.doh]}
  https-port: ${PORTOF[unbound.doh]}
  http-endpoint: "/dns-query"
  http-notls-downstream: no
  http-max-streams: 1000
EOF
	fi
	cat <<EOF
  num-threads: 1
  incoming-num-tcp: 1024
  outgoing-num-tcp: 0
$(unbound_common)
  local-zone: "." static
EOF
	cat "$tmp/unbound/data.conf"
	printf 'remote-control:\n  control-enable: no\n'
} >"$tmp/unbound/unbound.conf"

start() {
	local s=$1
	case $s in
	tdnsd) taskset -c "$SERVER_CPU" "$TDNSD" -f -c "$tmp/tdnsd/tdnsd.conf" >"$tmp/$s.log" 2>&1 & ;;
	unbound) taskset -c "$SERVER_CPU" unbound -d -c "$tmp/unbound/unbound.conf" \
		>"$tmp/$s.log" 2>&1 & ;;
	esac
	PID[$s]=$!
	wait_ready "$s" "h1.$ZONE" A
}

# Whether server $1 answers over transport $2 (kdig, no certificate check): a server that is
# gone or answers wrongly stops the run, as figures from it would mean nothing.
check() {
	local s=$1 t=$2 opt out
	server_alive "$s" "(PID ${PID[$s]}) is gone; its log:" || exit 1
	case $t in
	dot) opt=+tls ;;
	doh) opt=+https=/dns-query ;;
	esac
	out=$(kdig +timeout=3 +retry=0 "$opt" -p "${PORTOF[$s.$t]}" @127.0.0.1 "h1.$ZONE" A 2>&1 ||
		true)
	if ! echo "$out" | grep -q 'status: NOERROR'; then
		echo "encrypted.sh: $s over $t does not answer h1.$ZONE:"
		echo "$out" | tail -5
		server_log "$s"
		exit 1
	fi
}

perf() { # server, transport, output
	local s=$1 t=$2 out=$3 port=${PORTOF[$1.$2]}
	local args=(-m "$t")
	if [ "$t" = doh ]; then
		args+=(-O "doh-uri=https://127.0.0.1:$port/dns-query" -O "doh-method=$METHOD")
	fi
	taskset -c "$CLIENT_CPU" dnsperf -s 127.0.0.1 -p "$port" "${args[@]}" -d "$tmp/queries" \
		-c "$CLIENTS" -T 1 -q "$OUTSTANDING" -l "$SECS" -t 5 >"$out" 2>&1 || true
}

for s in $SERVERS; do
	start "$s"
done

# Server/transport pairs to measure.
PAIRS=
for t in $TRANSPORTS; do
	for s in $SERVERS; do
		if [ "$s" = unbound ] && [ "$t" = doh ] && [ -n "${NO_UNBOUND_DOH:-}" ]; then
			continue
		fi
		PAIRS="$PAIRS $s.$t"
		check "$s" "$t"
	done
done

# ---- rounds: the servers alternate so that drifts of the machine hit all of them alike
totals_init "$PAIRS"
for r in $(seq 1 "$ROUNDS"); do
	for p in $PAIRS; do
		s=${p%.*}
		t=${p#*.}
		check "$s" "$t"
		c0=$(cpu_ticks "${PID[$s]}")
		perf "$s" "$t" "$tmp/perf.$p.$r"
		c1=$(cpu_ticks "${PID[$s]}")
		if ! perf_read "$tmp/perf.$p.$r" "$p" || [ "$done_q" = 0 ]; then
			perf_failed "$tmp/perf.$p.$r" "dnsperf -m $t against $s"
		fi
		reconn=$(awk '/Reconnections:/ {print $2}' "$tmp/perf.$p.$r")
		printf 'round %d %-7s %-3s %9.0f qps  completed %8d  lost %6s  reconn %4s  cpu %6.2f s' \
			"$r" "$s" "$t" "$qps" "$done_q" "$lost" "${reconn:-0}" "$(ticks_s $((c1 - c0)))"
		printf '  lat %.3f ms\n' "$(echo "$lat" | awk '{print $1 * 1000}')"
		totals_add "$p" $((c1 - c0))
	done
done

# ---- table
echo
echo "encrypted.sh: $ROUNDS rounds x $SECS s, dnsperf -c $CLIENTS -q $OUTSTANDING -T 1 on CPU" \
	"$CLIENT_CPU (DoH: HTTP/2, $METHOD), servers with one worker on CPU $SERVER_CPU"
printf '%-7s %-4s %10s %10s %10s %12s %12s\n' server mode qps lat_ms cpu_s q/cpu_s rss_peak_MB
for p in $PAIRS; do
	s=${p%.*}
	t=${p#*.}
	totals_average "$p"
	printf '%-7s %-4s %10s %10s %10.2f %12s %12.1f\n' "$s" "$t" "${AVGQ[$p]}" "${AVGL[$p]}" \
		"$(ticks_s "${CPU[$p]}")" "${QPC[$p]}" \
		"$(mem_mb "${PID[$s]}" VmHWM)"
done
echo "(rss_peak_MB: the server's peak over the whole run, all transports)"
echo
codes_lines "$PAIRS" 11 "response codes (last round)"
echo
for t in $TRANSPORTS; do
	both_measured "tdnsd.$t" "unbound.$t" || continue
	printf 'tdnsd/unbound %s: qps %s, queries per CPU-second %s, latency %s\n' "$t" \
		"$(ratio "${AVGQ[tdnsd.$t]}" "${AVGQ[unbound.$t]}")" \
		"$(ratio "${QPC[tdnsd.$t]}" "${QPC[unbound.$t]}")" \
		"$(ratio "${AVGL[tdnsd.$t]}" "${AVGL[unbound.$t]}")"
done
