# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Shared by the benchmark scripts (sourced): process trees, CPU time and memory from /proc,
# and the clean-up of the servers a script started, by PID.  Bash.

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

# The start of a resolver benchmark's tdnsd.conf: one worker listening on 127.0.0.1 port $1,
# state and control socket in $tmp/tdnsd, warnings only; for tdnsd.conf heredocs.
tdnsd_head() {
	cat <<EOF
[server]
listen = 127.0.0.1:$1
workers = 1
state-dir = $tmp/tdnsd
[control]
socket = $tmp/tdnsd/ctl.sock
[log]
level = warning
EOF
}
