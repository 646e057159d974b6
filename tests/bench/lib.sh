# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Shared by the benchmark scripts (sourced): process trees, CPU time and memory from /proc,
# the clean-up of the servers a script started, by PID, port locks, server configs, start-up
# and health checks, and the reading and totalling of dnsperf reports.  Bash.

# $1 and its descendants, one PID a line.
tree() {
	local p kids
	echo "$1"
	kids=$(cat /proc/"$1"/task/*/children 2>/dev/null || true)
	for p in $kids; do
		tree "$p"
	done
}

# utime+stime of the tree of $1 (all threads), in clock ticks.
cpu_ticks() {
	local t=0 p f
	for p in $(tree "$1"); do
		f=$(sed 's/.*) //' /proc/"$p"/stat 2>/dev/null) || continue
		# After "pid (comm) ", utime and stime are fields 12 and 13.
		t=$((t + $(echo "$f" | awk '{print $12 + $13}')))
	done
	echo "$t"
}

# The sum of a /proc memory field in kB over the tree of $1: a status key (VmHWM, VmRSS) or
# Pss (from smaps_rollup, which shares pages between processes fairly).
mem_kb() {
	local key=$2 file=status t=0 p v
	[ "$key" = Pss ] && file=smaps_rollup
	for p in $(tree "$1"); do
		v=$(awk -v k="$key:" '$1 == k {print $2; exit}' /proc/"$p"/$file 2>/dev/null || true)
		t=$((t + ${v:-0}))
	done
	echo "$t"
}

# mem_kb in MB.
mem_mb() {
	mem_kb "$1" "$2" | awk '{print $1 / 1024}'
}

# Ends the servers in the associative array PID (only those this script started) and removes
# the directory $tmp.  Scripts install it with: trap cleanup EXIT.
cleanup() {
	local s
	for s in "${!PID[@]}"; do
		kill "${PID[$s]}" 2>/dev/null || true
	done
	for s in "${!PID[@]}"; do
		wait "${PID[$s]}" 2>/dev/null || true
	done
	rm -rf "${tmp:?}"
}

# Ends server $1 (PID[$1]) and forgets it, so that cleanup does not end it again.
server_stop() {
	kill "${PID[$1]}" 2>/dev/null || true
	wait "${PID[$1]}" 2>/dev/null || true
	unset 'PID[$1]'
}

# Milliseconds since the epoch.
now_ms() {
	date +%s%3N
}

# Makes the scratch directory $tmp ($1.XXXXXX under TMPDIR), declares PID and PORTOF, gives
# the servers named after $1 consecutive ports from PORT (see lock_ports) in PORTOF, and
# installs cleanup on exit.
bench_setup() {
	local prefix=$1 i=0 s
	shift
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/$prefix.XXXXXX")
	declare -gA PID PORTOF
	for s in "$@"; do
		PORTOF[$s]=$((PORT + i))
		i=$((i + 1))
	done
	trap cleanup EXIT
	trap 'exit 130' INT TERM
}

# The lock directory the integration tests' PortLock uses (tests/integration/helpers.py): one
# per machine, so benchmarks and test runs never hand the same port to two servers.
LOCKDIR=/tmp/tdns-test-ports

# Takes the flock on $LOCKDIR/$1 for the rest of the script (the descriptor stays open); fails
# when another process holds it.
lock_name() {
	local fd
	mkdir -p "$LOCKDIR"
	chmod 1777 "$LOCKDIR" 2>/dev/null || true
	exec {fd}>>"$LOCKDIR/$1" || return 1
	if ! flock -n "$fd"; then
		exec {fd}>&-
		return 1
	fi
	LOCK_FDS+=("$fd")
}

# Releases the locks taken since the array LOCK_FDS had $1 entries.
unlock_from() {
	local i fd
	for ((i = ${#LOCK_FDS[@]} - 1; i >= $1; i--)); do
		fd=${LOCK_FDS[i]}
		exec {fd}>&-
		unset 'LOCK_FDS[i]'
	done
}

# True when no UDP or TCP socket (any address, any state) uses local port $1.
port_unused() {
	[ -z "$(ss -Hanu "sport = :$1" 2>/dev/null)$(ss -Hant "sport = :$1" 2>/dev/null)" ]
}

# Sets PORT to the first of $1 consecutive loopback ports that are unused at this moment and
# locked for this script (5300..6999, below the ephemeral range that client ports come from);
# with a second argument (the user's BENCH_PORT), PORT is that, unchecked.
lock_ports() {
	local n=$1 base i start ok
	if [ -n "${2:-}" ]; then
		# shellcheck disable=SC2034 # PORT is for the sourcing script
		PORT=$2
		return 0
	fi
	for _ in $(seq 300); do
		base=$((5300 + RANDOM % (1700 - n)))
		start=${#LOCK_FDS[@]}
		ok=1
		for ((i = 0; i < n; i++)); do
			if ! lock_name $((base + i)) || ! port_unused $((base + i)); then
				ok=0
				break
			fi
		done
		if [ "$ok" = 1 ]; then
			# shellcheck disable=SC2034 # PORT is for the sourcing script
			PORT=$base
			return 0
		fi
		unlock_from "$start"
	done
	echo "no $n free consecutive ports in 5300-6999" >&2
	return 1
}
LOCK_FDS=()

# Writes $tmp/{tdnsd,nsd,knot}/*.conf: each server authoritative for $ZONE from
# $tmp/$ZONE.zone with one worker on 127.0.0.1 port ${PORTOF[server]}; tdnsd logs at
# level $1; the lines $2 are added to Knot's zone entry.
auth_configs() {
	mkdir -p "$tmp/tdnsd" "$tmp/nsd" "$tmp/knot"
	cat >"$tmp/tdnsd/tdnsd.conf" <<EOF
[server]
listen = 127.0.0.1:${PORTOF[tdnsd]}
workers = 1
state-dir = $tmp
[recursion]
# Authoritative only, as the servers it is compared with.
mode = off
[log]
level = $1
[zone $ZONE]
type = primary
file = $ZONE.zone
EOF
	cat >"$tmp/nsd/nsd.conf" <<EOF
server:
    ip-address: 127.0.0.1@${PORTOF[nsd]}
    server-count: 1
    username: ""
    chroot: ""
    pidfile: "$tmp/nsd/nsd.pid"
    database: ""
    zonelistfile: "$tmp/nsd/zone.list"
    xfrdfile: "$tmp/nsd/xfrd.state"
    xfrdir: "$tmp/nsd"
    zonesdir: "$tmp"
    logfile: "$tmp/nsd/nsd.log"
    verbosity: 0
    rrl-ratelimit: 0
remote-control:
    control-enable: no
zone:
    name: $ZONE
    zonefile: "$tmp/$ZONE.zone"
EOF
	cat >"$tmp/knot/knot.conf" <<EOF
server:
    rundir: "$tmp/knot"
    listen: 127.0.0.1@${PORTOF[knot]}
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: "$tmp/knot"
log:
  - target: stderr
    any: warning
zone:
  - domain: $ZONE
    file: "$tmp/$ZONE.zone"
    storage: "$tmp/knot"
${2:-}
EOF
}

# The server: lines every benchmark's unbound shares (foreground, no privilege drop, one
# verbosity-0 log in $tmp/unbound, loopback clients, iterator only); for unbound.conf heredocs.
unbound_common() {
	cat <<EOF
  do-ip6: no
  do-daemonize: no
  chroot: ""
  username: ""
  directory: "$tmp/unbound"
  pidfile: "$tmp/unbound/unbound.pid"
  logfile: "$tmp/unbound/unbound.log"
  use-syslog: no
  verbosity: 0
  access-control: 127.0.0.0/8 allow
  module-config: "iterator"
EOF
}

# The start of a benchmark's tdnsd.conf: one worker listening on 127.0.0.1 port $1, state
# and control socket in $2 (default $tmp/tdnsd), log level $3 (default warning); for tdnsd.conf
# heredocs.
tdnsd_head() {
	local dir=${2:-$tmp/tdnsd}
	cat <<EOF
[server]
listen = 127.0.0.1:$1
workers = 1
state-dir = $dir
[control]
socket = $dir/ctl.sock
[log]
level = ${3:-warning}
EOF
}

# ---- what every benchmark script shares: its name, the tree, the tools it needs

# The script's name for its messages ("auth.sh"), the top of the source tree and the tdnsd to
# measure (TDNSD, default: build/tdnsd); the servers of Debian live in /usr/sbin.
ME=$(basename "$0")
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TDNSD=${TDNSD:-$top/build/tdnsd}
PATH=$PATH:/usr/sbin
# The dnsperf benchmarks' rounds and seconds a run (zoneload.sh sets its own ROUNDS).
# shellcheck disable=SC2034 # for the sourcing script
SECS=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-3}
# Clock ticks a second, the unit of cpu_ticks.
hz=$(getconf CLK_TCK)
# Pinning: the servers measured on CPU 0, the load generator on CPU 1 (see share_one_cpu).
# shellcheck disable=SC2034 # for the sourcing script
SERVER_CPU=0
CLIENT_CPU=1

# Ends the script unless every command named after $1 is found; $1 lists the Debian packages
# that provide them, for the message.
need_tools() {
	local pkgs=$1 tool
	shift
	for tool in "$@"; do
		if ! command -v "$tool" >/dev/null 2>&1; then
			echo "$ME: $tool not found (apt-get install $pkgs)"
			exit 1
		fi
	done
}

# While waiting for server $1 (PID $2, log file $3) started at $4 (ms since the epoch) to $6
# ("answer", "block NAME"): true, after saying why, when it has exited or $5 seconds have
# passed; false while it is worth waiting on.
gave_up() {
	local s=$1 pid=$2 log=$3 t0=$4 limit=$5 what=$6
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "$ME: $s exited before it could $what:"
		tail -n 20 "$log"
		return 0
	fi
	if [ $(($(date +%s%3N) - t0)) -gt $((limit * 1000)) ]; then
		echo "$ME: $s did not $what within $limit s:"
		tail -n 20 "$log"
		return 0
	fi
	return 1
}

# Ends the script when the servers to measure ($1, a list) include tdnsd and $TDNSD is not built.
need_tdnsd() {
	if [[ " $1 " == *" tdnsd "* ]] && [ ! -x "$TDNSD" ]; then
		echo "$ME: $TDNSD not built (set TDNSD)"
		exit 1
	fi
}

# On a machine with one CPU, servers and load generator share it, with a note saying so.
# shellcheck disable=SC2034 # for the sourcing script
share_one_cpu() {
	if [ "$(nproc)" -lt 2 ]; then
		SERVER_CPU=0
		CLIENT_CPU=0
		echo "$ME: one CPU only: server and client share it, figures are indicative"
	fi
}

# ---- servers: start-up and health

# The last 20 lines of server $1's logs ($tmp/$1.log and, for unbound, $tmp/$1/unbound.log).
server_log() {
	cat "$tmp/$1.log" "$tmp/$1/unbound.log" 2>/dev/null | tail -20
}

# Whether server $1's process (PID[$1]) still runs; when it does not, says so ($2: how) with its
# log.
server_alive() {
	if kill -0 "${PID[$1]}" 2>/dev/null; then
		return 0
	fi
	echo "$ME: $1 $2"
	server_log "$1"
	return 1
}

# Waits up to 60 s for server $1 (127.0.0.1 port PORTOF[$1]) to answer the dig question in the
# remaining arguments (name and type) with anything; fails with its log when it exits first or
# never answers.
wait_ready() {
	local s=$1
	shift
	for _ in $(seq 1 300); do
		server_alive "$s" "exited during start-up" || return 1
		if [ -n "$(dig +short +time=1 +tries=1 -p "${PORTOF[$s]}" @127.0.0.1 "$@")" ]; then
			return 0
		fi
		sleep 0.2
	done
	echo "$ME: $s did not answer $* within 60 s"
	server_log "$s"
	return 1
}

# ---- dnsperf rounds: reading a report, totals over the rounds, ratios

# Writes 100,000 queries for names of $ZONE to the file $1, the same every run (a fixed seed):
# the awk statements $2 print each one from r (0 to 100: the kind of query), i (0 to NAMES - 1:
# the name) and zone.
query_mix() {
	awk -v n="$NAMES" -v zone="$ZONE" 'BEGIN {
	srand(42)
	for (q = 0; q < 100000; q++) {
		r = rand() * 100; i = int(rand() * n)
'"$2"'
	}
}' >"$1"
}

# Reads dnsperf's report $1 into done_q (queries completed), qps, lat (the queries' average
# latency in seconds; a second "Average Latency", of connection set-up, is not it) and lost,
# and its response codes into CODES[$2]; false when the report has no figures.
# shellcheck disable=SC2034 # the figures are for the sourcing script
perf_read() {
	done_q=$(awk '/Queries completed:/ {print $3}' "$1")
	qps=$(awk '/Queries per second:/ {print $4}' "$1")
	lat=$(awk '/Average Latency/ {print $4; exit}' "$1")
	lost=$(awk '/Queries lost:/ {print $3}' "$1")
	CODES[$2]=$(sed -n 's/^ *Response codes: *//p' "$1")
	[ -n "$done_q" ] && [ -n "$qps" ]
}

# Ends the script after a failed dnsperf run: $2 says which, then the report $1.
perf_failed() {
	echo "$ME: $2 failed:"
	cat "$1"
	exit 1
}

# Reads dnsperf's report of round $1 against server $2 ($tmp/perf.$2.$1), prints the round's
# line (the server in a column $4 wide) and adds it and the $3 CPU ticks it cost to the totals
# of $2; ends the script when the report has no figures.
round_done() {
	perf_read "$tmp/perf.$2.$1" "$2" || perf_failed "$tmp/perf.$2.$1" "dnsperf against $2"
	printf "round %d %-${4}s %9.0f qps  completed %8d  lost %6s  cpu %6.2f s  lat %.3f ms\n" \
		"$1" "$2" "$qps" "$done_q" "$lost" "$(ticks_s "$3")" \
		"$(echo "$lat" | awk '{print $1 * 1000}')"
	totals_add "$2" "$3"
}

# Round $1 of dnsperf -c 8 -T 1 for SECS seconds on CLIENT_CPU with the queries of file $3
# against server $2 (PID[$2], 127.0.0.1 port PORTOF[$2]); round_done reads it, with the
# server's CPU ticks, into the totals (the server in a column $4 wide).
perf_round() {
	local c0 c1
	c0=$(cpu_ticks "${PID[$2]}")
	taskset -c "$CLIENT_CPU" dnsperf -s 127.0.0.1 -p "${PORTOF[$2]}" -d "$3" \
		-c 8 -T 1 -l "$SECS" -t 2 >"$tmp/perf.$2.$1" 2>&1 || true
	c1=$(cpu_ticks "${PID[$2]}")
	round_done "$1" "$2" $((c1 - c0)) "$4"
}

# Sets the totals Q (queries), CPU (ticks), LAT and QPS (sums over the rounds) of every key in
# the list $1 to 0; CODES holds each key's last response codes.
# shellcheck disable=SC2034 # CODES is for the sourcing script
totals_init() {
	declare -gA Q CPU LAT QPS CODES
	local k
	for k in $1; do
		Q[$k]=0
		CPU[$k]=0
		LAT[$k]=0
		QPS[$k]=0
	done
}

# Adds the round just read by perf_read and the $2 CPU ticks it cost to the totals of $1.
totals_add() {
	Q[$1]=$((Q[$1] + done_q))
	CPU[$1]=$((CPU[$1] + $2))
	LAT[$1]=$(echo "${LAT[$1]} $lat" | awk '{print $1 + $2}')
	QPS[$1]=$(echo "${QPS[$1]} $qps" | awk '{print $1 + $2}')
}

# From the totals of $1 over ROUNDS rounds: QPC[$1] (queries per CPU-second), AVGQ[$1] (qps)
# and AVGL[$1] (latency in ms).
# shellcheck disable=SC2034 # the averages are for the sourcing script
totals_average() {
	declare -gA QPC AVGQ AVGL
	QPC[$1]=$(echo "${Q[$1]} ${CPU[$1]} $hz" |
		awk '{ if ($2 > 0) printf "%.0f", $1 / ($2 / $3); else print 0 }')
	AVGQ[$1]=$(echo "${QPS[$1]} $ROUNDS" | awk '{printf "%.0f", $1 / $2}')
	AVGL[$1]=$(echo "${LAT[$1]} $ROUNDS" | awk '{printf "%.3f", $1 / $2 * 1000}')
}

# Prints the last response codes of every key in the list $1, the key in a column $2 wide,
# after the words $3.
codes_lines() {
	local k
	for k in $1; do
		printf "%-${2}s %s: %s\n" "$k" "$3" "${CODES[$k]}"
	done
}

# True when both $1 and $2 have totals (QPC), so that tdnsd can be compared with the other.
both_measured() {
	[ -n "${QPC[$1]:-}" ] && [ -n "${QPC[$2]:-}" ]
}

# $1 / $2 with two decimals, "n/a" when $2 is 0.
ratio() {
	echo "$1 $2" | awk '{ if ($2 > 0) printf "%.2f", $1 / $2; else print "n/a" }'
}

# CPU seconds from $1 ticks.
ticks_s() {
	echo "$1 $hz" | awk '{print $1 / $2}'
}
