/* SPDX-License-Identifier: MIT */
/* zone: private declarations shared by zone.c, load.c and answer.c. */
#ifndef TDNS_ZONE_INT_H
#define TDNS_ZONE_INT_H

#include "zone/zone.h"

/*
 * True if the node is the apex of z.  The apex node is created by zone_new and never
 * replaced, so a pointer comparison suffices.
 */
static inline bool
zone_node_is_apex(const struct zone *z, const struct zone_node *n)
{
	return n == z->apex_node;
}

/* Cursor over every node of a zone in memory order; start with { .started = false }. */
struct zone_iter {
	const void *chunk;
	size_t off;
	bool started;
};

/* The next node, or NULL at the end.  The zone must not change during the iteration. */
struct zone_node *zone_iter_next(const struct zone *z, struct zone_iter *it);

/*
 * Collects every node of z into a malloc'd array sorted in canonical order (RFC 4034 §6.1);
 * the caller frees the array.  NULL (and *count 0) on out of memory or an empty zone.
 */
const struct zone_node **zone_sorted_nodes(const struct zone *z, size_t *count);

/* SOA MINIMUM field (last 4 octets of the rdata), or 0 when the rdata is too short. */
static inline uint32_t
zone_soa_minimum(const uint8_t *rd, size_t rdlen)
{
	return rdlen >= 20 ? tdns_get32(rd + rdlen - 4) : 0;
}

/* SOA SERIAL field (first of the five counters after the two names). */
static inline uint32_t
zone_soa_serial(const uint8_t *rd, size_t rdlen)
{
	return rdlen >= 20 ? tdns_get32(rd + rdlen - 20) : 0;
}

/* Drops a reference to a journal's diff; the last frees it.  Accepts NULL. */
void zone_diff_unref(struct zone_diff *d);

#endif
