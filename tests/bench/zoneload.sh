#!/bin/bash
# SPDX-License-Identifier: MIT
# Zone load benchmark: a 1,000,000-record zone served by tdnsd, Knot and NSD in turn; measures
# the time from process start to the first SOA answer and the memory after load.
#   ZONELOAD_RECORDS (default 1000000), ZONELOAD_ROUNDS (default 1), ZONELOAD_TIMEOUT (default 300 s
#   per start), ZONELOAD_SERVERS (default "tdnsd knot nsd"), TDNSD (default build/tdnsd),
#   ZONELOAD_PORT (default: 3 free locked ports; tdnsd, +1 NSD, +2 Knot).
set -eu
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
RECORDS=${ZONELOAD_RECORDS:-1000000}
ROUNDS=${ZONELOAD_ROUNDS:-1}
LIMIT=${ZONELOAD_TIMEOUT:-300}
SERVERS=${ZONELOAD_SERVERS:-tdnsd knot nsd}
lock_ports 3 "${ZONELOAD_PORT:-}"
ZONE=load.example
SERIAL=2024010101

need_tools "nsd knot knot-dnsutils bind9-dnsutils" nsd knotd kdig dig
need_tdnsd "$SERVERS"

# PID holds the server running now, ended by lib.sh's cleanup.
bench_setup tdns-zoneload tdnsd nsd knot

# ---- zone: RECORDS records, mostly A with AAAA, MX, TXT and CNAME mixed in
echo "zoneload.sh: generating $ZONE with $RECORDS records"
awk -v n="$RECORDS" -v zone="$ZONE" -v serial="$SERIAL" 'BEGIN {
	printf "$ORIGIN %s.\n$TTL 3600\n", zone
	printf "@ IN SOA ns1 hostmaster %d 7200 3600 1209600 300\n@ NS ns1\nns1 A 192.0.2.53\n", serial
	c = 3; i = 0
	while (c < n) {
		printf "h%d A 10.%d.%d.%d\n", i, int(i / 65536) % 256, int(i / 256) % 256, i % 256; c++
		if (c < n && i % 3 == 0) { printf "h%d AAAA 2001:db8::%x:%x\n", i, int(i / 65536), i % 65536; c++ }
		if (c < n && i % 10 == 0) { printf "h%d MX 10 h%d\n", i, i + 1; c++ }
		if (c < n && i % 10 == 5) { printf "h%d TXT \"record %d\"\n", i, i; c++ }
		if (c < n && i % 20 == 7) { printf "c%d CNAME h%d\n", i, i; c++ }
		i++
	}
	printf "h%d.%s\n", i - 1, zone >"/dev/stderr"
}' >"$tmp/$ZONE.zone" 2>"$tmp/lastname"
LAST=$(cat "$tmp/lastname")
echo "zoneload.sh: $(grep -c -v '^\$' "$tmp/$ZONE.zone") records, $(du -m "$tmp/$ZONE.zone" | cut -f1) MB"

auth_configs info "    journal-content: none
    zonefile-sync: -1"

# Starts server $1, polls SOA until it carries the serial; sets LOAD_MS, RSS_KB, PSS_KB.
measure() {
	local s=$1 t0 t1 answer
	rm -rf "${tmp:?}/knot/"*.mdb "${tmp:?}/knot/timers" "${tmp:?}/knot/journal" 2>/dev/null || true
	t0=$(now_ms)
	case $s in
	tdnsd) "$TDNSD" -f -c "$tmp/tdnsd/tdnsd.conf" >"$tmp/$s.log" 2>&1 & ;;
	nsd) nsd -d -c "$tmp/nsd/nsd.conf" >"$tmp/$s.log" 2>&1 & ;;
	knot) knotd -c "$tmp/knot/knot.conf" >"$tmp/$s.log" 2>&1 & ;;
	esac
	PID[$s]=$!
	while :; do
		answer=$(dig +short +time=1 +tries=1 -p "${PORTOF[$s]}" @127.0.0.1 "$ZONE" SOA 2>/dev/null || true)
		case $answer in
		*" $SERIAL "*) break ;;
		esac
		gave_up "$s" "${PID[$s]}" "$tmp/$s.log" "$t0" "$LIMIT" answer && return 1
		sleep 0.02
	done
	t1=$(now_ms)
	LOAD_MS=$((t1 - t0))
	# The whole zone must be there, not just its apex: the last name of the file answers too.
	answer=$(kdig +short +time=2 +retry=1 -p "${PORTOF[$s]}" @127.0.0.1 "$LAST" A 2>/dev/null || true)
	if [ -z "$answer" ]; then
		echo "zoneload.sh: $s answers the SOA but not $LAST A"
		return 1
	fi
	sleep 0.5
	RSS_KB=$(mem_kb "${PID[$s]}" VmRSS)
	PSS_KB=$(mem_kb "${PID[$s]}" Pss)
	server_stop "$s"
}

declare -A BEST RSS PSS
for r in $(seq 1 "$ROUNDS"); do
	for s in $SERVERS; do
		measure "$s"
		printf 'round %d %-6s first answer after %7.2f s, RSS %8.1f MB, PSS %8.1f MB\n' "$r" "$s" \
			"$(echo "$LOAD_MS" | awk '{print $1 / 1000}')" \
			"$(echo "$RSS_KB" | awk '{print $1 / 1024}')" "$(echo "$PSS_KB" | awk '{print $1 / 1024}')"
		if [ -z "${BEST[$s]:-}" ] || [ "$LOAD_MS" -lt "${BEST[$s]}" ]; then
			BEST[$s]=$LOAD_MS
		fi
		RSS[$s]=$RSS_KB
		PSS[$s]=$PSS_KB
	done
done

echo
echo "zoneload.sh: $RECORDS records, best of $ROUNDS start(s); memory summed over each server's processes"
printf '%-6s %14s %10s %10s\n' server first_answer_s rss_MB pss_MB
for s in $SERVERS; do
	printf '%-6s %14.2f %10.1f %10.1f\n' "$s" "$(echo "${BEST[$s]}" | awk '{print $1 / 1000}')" \
		"$(echo "${RSS[$s]}" | awk '{print $1 / 1024}')" "$(echo "${PSS[$s]}" | awk '{print $1 / 1024}')"
done
echo
for other in knot nsd; do
	if [ -z "${BEST[tdnsd]:-}" ] || [ -z "${BEST[$other]:-}" ]; then
		continue
	fi
	printf 'tdnsd/%s: load time %s, RSS %s\n' "$other" \
		"$(echo "${BEST[tdnsd]} ${BEST[$other]}" | awk '{printf "%.2f", $1 / $2}')" \
		"$(echo "${RSS[tdnsd]} ${RSS[$other]}" | awk '{printf "%.2f", $1 / $2}')"
done
