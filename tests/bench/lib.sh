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
