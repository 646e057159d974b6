#!/bin/bash
# SPDX-License-Identifier: MIT
# Cold-cache iterative resolution: tdnsd ([recursion] mode = recursive) and unbound resolve the
# same list of distinct names from the root of a fake tree served by NSD on 127.N.x.y:53, with
# the same root hints; each round starts both resolvers afresh (one worker / thread each,
# pinned to CPU 0) and sends every name once with dnsperf (pinned to CPU 1, with the NSDs).
# Reported: total time, names per second, queries the authoritative servers received per name
# (NSD's own counters, nsd-control stats), resolver CPU seconds, and the tdnsd/unbound ratios.
# Needs root: the authoritative servers listen on port 53, as iterative resolvers only ask
# port 53.
#   BENCH_NAMES (default 10000) names, spread over BENCH_ZONES (default 100) zones under test.;
#   BENCH_ROUNDS (default 3); BENCH_CLIENTS (default 10, dnsperf -c); BENCH_NET (default 77:
#   the servers use 127.77.0.0/16); BENCH_PORT (default: 2 free locked ports; tdnsd, +1 unbound);
#   TDNSD (default build/tdnsd).
set -eu
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
NAMES=${BENCH_NAMES:-10000}
ZONES=${BENCH_ZONES:-100}
CLIENTS=${BENCH_CLIENTS:-10}
# The address block is locked like the integration tests' (tests/integration/hierarchy.py).
NET=127.${BENCH_NET:-77}
if ! lock_name "block-$NET"; then
	echo "recursion.sh: $NET.0.0/16 is in use by another run (set BENCH_NET)"
	exit 1
fi
lock_ports 2 "${BENCH_PORT:-}"

need_tools "dnsperf unbound nsd bind9-dnsutils util-linux" \
	dnsperf unbound nsd nsd-control dig taskset
need_tdnsd "tdnsd unbound"
if [ "$(id -u)" -ne 0 ]; then
	echo "recursion.sh: the authoritative servers listen on port 53 of $NET.x.y: run as root"
	exit 1
fi
if [ "$(nproc)" -lt 2 ]; then
	CLIENT_CPU=0
	echo "recursion.sh: one CPU only: resolver, servers and client share it"
fi

bench_setup tdns-rec-bench

# ---- the tree: root on .0.1, test. on .1.1, the ZONES zones z<k>.test on .2.1; every name
# below a zone is asked once (70 % plain A, 10 % three labels deep, 10 % CNAME into the next
# zone, 10 % NXDOMAIN)
echo "recursion.sh: $NAMES names in $ZONES zones, servers on $NET.0.0/16"
soa() { echo "$1 3600 IN SOA $2 hostmaster.test. 1 3600 600 86400 3600"; }
mkdir -p "$tmp/root" "$tmp/tld" "$tmp/leaf" "$tmp/tdnsd" "$tmp/unbound"
{
	soa . a.root.test.
	echo ". 86400 IN NS a.root.test."
	echo "test. 86400 IN NS ns1.nic.test."
	echo "ns1.nic.test. 86400 IN A $NET.1.1"
	echo "a.root.test. 86400 IN A $NET.0.1"
} >"$tmp/root/zone"
{
	soa test. ns1.nic.test.
	echo "test. 86400 IN NS ns1.nic.test."
	echo "ns1.nic.test. 86400 IN A $NET.1.1"
	echo "a.root.test. 86400 IN A $NET.0.1"
	for k in $(seq 0 $((ZONES - 1))); do
		echo "z$k.test. 86400 IN NS ns1.z$k.test."
		echo "ns1.z$k.test. 86400 IN A $NET.2.1"
	done
} >"$tmp/tld/zone"
awk -v n="$NAMES" -v z="$ZONES" -v net="$NET" -v dir="$tmp/leaf" 'BEGIN {
	for (k = 0; k < z; k++) {
		f = dir "/z" k ".zone"
		printf "z%d.test. 3600 IN SOA ns1.z%d.test. hostmaster.test. 1 3600 600 86400 3600\n", k, k > f
		printf "z%d.test. 86400 IN NS ns1.z%d.test.\n", k, k > f
		printf "ns1.z%d.test. 86400 IN A %s.2.1\n", k, net > f
	}
	# Name i lives in zone i mod z; by i mod 10: 0-6 a plain A record, 7 an A record three
	# labels below the zone (two empty non-terminals for QNAME minimisation to walk), 8 a
	# CNAME to a name in the next zone, 9 nothing (NXDOMAIN).
	for (i = 0; i < n; i++) {
		k = i % z
		f = dir "/z" k ".zone"
		a = sprintf("10.%d.%d.%d", int(i / 65536) % 256, int(i / 256) % 256, i % 256)
		c = i % 10
		if (c <= 6)
			printf "h%d.z%d.test. 3600 IN A %s\n", i, k, a > f
		else if (c == 7)
			printf "a.b.h%d.z%d.test. 3600 IN A %s\n", i, k, a > f
		else if (c == 8) {
			printf "h%d.z%d.test. 3600 IN CNAME t%d.z%d.test.\n", i, k, i, (k + 1) % z > f
			printf "t%d.z%d.test. 3600 IN A %s\n", i, (k + 1) % z, a > (dir "/z" (k + 1) % z ".zone")
		}
	}
}'
awk -v n="$NAMES" -v z="$ZONES" 'BEGIN {
	for (i = 0; i < n; i++)
		printf "%sh%d.z%d.test A\n", i % 10 == 7 ? "a.b." : "", i, i % z
}' >"$tmp/names"
NX=$(awk -v n="$NAMES" 'BEGIN { c = 0; for (i = 0; i < n; i++) if (i % 10 == 9) c++; print c }')
printf '. 3600000 IN NS a.root.test.\na.root.test. 3600000 IN A %s.0.1\n' "$NET" >"$tmp/hints"

nsd_conf() { # dir, address, zone:file...
	local d=$1 addr=$2 z
	shift 2
	cat <<EOF
server:
  ip-address: $addr@53
  do-ip6: no
  username: ""
  chroot: ""
  zonesdir: "$d"
  database: ""
  pidfile: "$d/nsd.pid"
  logfile: "$d/nsd.log"
  xfrdfile: "$d/xfrd.state"
  xfrdir: "$d"
  zonelistfile: "$d/zone.list"
  server-count: 1
  rrl-ratelimit: 0
  verbosity: 1
remote-control:
  control-enable: yes
  control-interface: $d/nsd.ctl
EOF
	for z in "$@"; do
		printf 'zone:\n  name: "%s"\n  zonefile: "%s"\n' "${z%%:*}" "${z#*:}"
	done
}
nsd_conf "$tmp/root" "$NET.0.1" ".:zone" >"$tmp/root/nsd.conf"
nsd_conf "$tmp/tld" "$NET.1.1" "test.:zone" >"$tmp/tld/nsd.conf"
leaf_zones=$(for k in $(seq 0 $((ZONES - 1))); do echo "z$k.test.:z$k.zone"; done)
# shellcheck disable=SC2086
nsd_conf "$tmp/leaf" "$NET.2.1" $leaf_zones >"$tmp/leaf/nsd.conf"

cat >"$tmp/tdnsd/tdnsd.conf" <<EOF
$(tdnsd_head "$PORT")
[recursion]
mode = recursive
root-hints = $tmp/hints
qname-minimisation = yes
[cache]
prefetch = no
# The fake names are unsigned while the real root's trust anchor is built in, so a validating
# tdnsd would answer them bogus: validation off, compared with the non-validating peer.
[dnssec]
validation = no
EOF
cat >"$tmp/unbound/unbound.conf" <<EOF
server:
  interface: 127.0.0.1@$((PORT + 1))
  num-threads: 1
$(unbound_common)
  root-hints: "$tmp/hints"
  do-not-query-localhost: no
  qname-minimisation: yes
  prefetch: no
  local-zone: "test." nodefault
remote-control:
  control-enable: no
EOF

# ---- helpers
wait_answer() { # name, address, port, qname, dig flag (+norec: authoritative, +rec: resolver)
	for _ in $(seq 1 150); do
		if ! kill -0 "${PID[$1]}" 2>/dev/null; then
			echo "recursion.sh: $1 exited during start-up"
			cat "$tmp/$1.log" "$tmp/$1/nsd.log" 2>/dev/null | tail -20
			exit 1
		fi
		if [ -n "$(dig +short "$5" +time=1 +tries=1 -p "$3" @"$2" "$4" SOA 2>/dev/null)" ]; then
			return 0
		fi
		sleep 0.2
	done
	echo "recursion.sh: $1 did not answer $4 within 30 s"
	cat "$tmp/$1.log" "$tmp/$1/nsd.log" 2>/dev/null | tail -20
	exit 1
}

upstream_queries() { # total queries the three NSDs received so far
	local t=0 s v
	for s in root tld leaf; do
		v=$(nsd-control -c "$tmp/$s/nsd.conf" stats_noreset | sed -n 's/^num.queries=//p')
		t=$((t + ${v:-0}))
	done
	echo "$t"
}

for s in root tld leaf; do
	taskset -c "$CLIENT_CPU" nsd -d -c "$tmp/$s/nsd.conf" >"$tmp/$s.log" 2>&1 &
	PID[nsd-$s]=$!
done
wait_answer nsd-root "$NET.0.1" 53 . +norec
wait_answer nsd-tld "$NET.1.1" 53 test. +norec
wait_answer nsd-leaf "$NET.2.1" 53 "z$((ZONES - 1)).test." +norec

declare -A TIME QPS UPQ CPU CODES
for s in tdnsd unbound; do
	TIME[$s]=0
	QPS[$s]=0
	UPQ[$s]=0
	CPU[$s]=0
done
for r in $(seq 1 "$ROUNDS"); do
	for s in tdnsd unbound; do
		case $s in
		tdnsd)
			rm -rf "$tmp/tdnsd/ctl.sock"
			taskset -c "$SERVER_CPU" "$TDNSD" -f -c "$tmp/tdnsd/tdnsd.conf" >"$tmp/$s.log" 2>&1 &
			port=$PORT ;;
		unbound)
			taskset -c "$SERVER_CPU" unbound -d -c "$tmp/unbound/unbound.conf" >"$tmp/$s.log" 2>&1 &
			port=$((PORT + 1)) ;;
		esac
		PID[$s]=$!
		# Ready once it resolves the root's SOA (which primes it, as a first client would).
		wait_answer "$s" 127.0.0.1 "$port" . +rec
		u0=$(upstream_queries)
		c0=$(cpu_ticks "${PID[$s]}")
		taskset -c "$CLIENT_CPU" dnsperf -s 127.0.0.1 -p "$port" -d "$tmp/names" -n 1 \
			-c "$CLIENTS" -q 100 -t 10 >"$tmp/perf.$s.$r" 2>&1 || true
		c1=$(cpu_ticks "${PID[$s]}")
		u1=$(upstream_queries)
		kill "${PID[$s]}"
		wait "${PID[$s]}" 2>/dev/null || true
		unset "PID[$s]"
		done_q=$(awk '/Queries completed:/ {print $3}' "$tmp/perf.$s.$r")
		secs=$(awk '/Run time \(s\):/ {print $4}' "$tmp/perf.$s.$r")
		qps=$(awk '/Queries per second:/ {print $4}' "$tmp/perf.$s.$r")
		CODES[$s]=$(sed -n 's/^ *Response codes: *//p' "$tmp/perf.$s.$r")
		noerror=$(echo "${CODES[$s]}" | sed -n 's/.*NOERROR \([0-9]*\).*/\1/p')
		nxdomain=$(echo "${CODES[$s]}" | sed -n 's/.*NXDOMAIN \([0-9]*\).*/\1/p')
		if [ "${done_q:-0}" -ne "$NAMES" ] || [ "${noerror:-0}" -ne $((NAMES - NX)) ] ||
			[ "${nxdomain:-0}" -ne "$NX" ]; then
			echo "recursion.sh: $s did not resolve every name (completed ${done_q:-0} of $NAMES," \
				"codes: ${CODES[$s]:-none}):"
			tail -20 "$tmp/perf.$s.$r"
			tail -20 "$tmp/$s.log"
			exit 1
		fi
		up=$((u1 - u0))
		printf 'round %d %-7s %6.3f s %8.0f names/s %6d upstream queries (%.2f/name) cpu %.2f s\n' \
			"$r" "$s" "$secs" "$qps" "$up" "$(echo "$up $NAMES" | awk '{print $1 / $2}')" \
			"$(ticks_s $((c1 - c0)))"
		TIME[$s]=$(echo "${TIME[$s]} $secs" | awk '{print $1 + $2}')
		QPS[$s]=$(echo "${QPS[$s]} $qps" | awk '{print $1 + $2}')
		UPQ[$s]=$((UPQ[$s] + up))
		CPU[$s]=$((CPU[$s] + c1 - c0))
	done
done

# ---- table: means over the rounds
echo
echo "recursion.sh: cold cache, $NAMES distinct names in $ZONES zones, dnsperf -c $CLIENTS -n 1," \
	"mean of $ROUNDS rounds; resolver on CPU $SERVER_CPU, NSD and dnsperf on CPU $CLIENT_CPU"
printf '%-8s %10s %12s %16s %10s\n' resolver time_s names/s upstream/name cpu_s
declare -A MT MQ MU MC
for s in tdnsd unbound; do
	MT[$s]=$(echo "${TIME[$s]} $ROUNDS" | awk '{printf "%.3f", $1 / $2}')
	MQ[$s]=$(echo "${QPS[$s]} $ROUNDS" | awk '{printf "%.0f", $1 / $2}')
	MU[$s]=$(echo "${UPQ[$s]} $ROUNDS $NAMES" | awk '{printf "%.3f", $1 / $2 / $3}')
	MC[$s]=$(echo "${CPU[$s]} $ROUNDS $hz" | awk '{printf "%.2f", $1 / $2 / $3}')
	printf '%-8s %10s %12s %16s %10s\n' "$s" "${MT[$s]}" "${MQ[$s]}" "${MU[$s]}" "${MC[$s]}"
done
echo
printf 'tdnsd/unbound: time %s, names/s %s, upstream queries per name %s, cpu %s\n' \
	"$(ratio "${MT[tdnsd]}" "${MT[unbound]}")" "$(ratio "${MQ[tdnsd]}" "${MQ[unbound]}")" \
	"$(ratio "${MU[tdnsd]}" "${MU[unbound]}")" "$(ratio "${MC[tdnsd]}" "${MC[unbound]}")"
