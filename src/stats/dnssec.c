/* SPDX-License-Identifier: MIT */
/* Validation counters: answers by DNSSEC security state, counted by any worker thread. */
#include "stats/stats.h"

/* One cache line of its own, so the counters do not share a line with other globals. */
static struct {
	_Alignas(64) _Atomic uint64_t n[STATS_DNSSEC_STATES];
} counts;

static const char *const names[STATS_DNSSEC_STATES] = {
	[STATS_DNSSEC_SECURE] = "secure",
	[STATS_DNSSEC_INSECURE] = "insecure",
	[STATS_DNSSEC_BOGUS] = "bogus",
	[STATS_DNSSEC_INDETERMINATE] = "indeterminate",
};

void
stats_dnssec_count(enum stats_dnssec state, uint64_t n)
{
	if ((unsigned)state < STATS_DNSSEC_STATES) {
		atomic_fetch_add_explicit(&counts.n[state], n, memory_order_relaxed);
	}
}

void
stats_dnssec_read(uint64_t out[STATS_DNSSEC_STATES])
{
	for (unsigned i = 0; i < STATS_DNSSEC_STATES; i++) {
		out[i] = atomic_load_explicit(&counts.n[i], memory_order_relaxed);
	}
}

const char *
stats_dnssec_name(enum stats_dnssec state)
{
	return (unsigned)state < STATS_DNSSEC_STATES ? names[state] : "unknown";
}

json_t *
stats_dnssec_json(void)
{
	uint64_t v[STATS_DNSSEC_STATES];
	stats_dnssec_read(v);
	json_t *o = json_object();
	for (unsigned i = 0; o != NULL && i < STATS_DNSSEC_STATES; i++) {
		json_object_set_new(o, names[i], json_integer((json_int_t)v[i]));
	}
	return o;
}
