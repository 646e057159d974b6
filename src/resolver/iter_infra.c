/* SPDX-License-Identifier: MIT */
/* The iterator's infrastructure cache: smoothed RTT, EDNS support and lameness per server. */
#include "config.h"

#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <sodium.h>

#include "resolver/iter_int.h"

/* The RTT guessed for a server never asked: below a slow server's, above a near one's. */
#define INFRA_UNKNOWN_MS 120.0
/* How long a server stays lame for a zone. */
#define LAME_SEC 120

static size_t
addr_len(const struct resolver_addr *a)
{
	return a->family == AF_INET ? 4 : 16;
}

void
iter_infra_init(struct iter_infra *in)
{
	memset(in, 0, sizeof(*in));
	dns_siphash_key_new(in->key);
}

/* SipHash of the address (and zone, when not NULL) under the table's key (issue 13). */
static uint64_t
keyed_hash(const struct iter_infra *in, const struct resolver_addr *a, const uint8_t *zone)
{
	uint8_t buf[16 + DNS_NAME_MAX];
	size_t n = addr_len(a);
	memcpy(buf, a->ip, n);
	if (zone != NULL) {
		uint64_t zh = dns_name_siphash(zone, in->key);
		memcpy(buf + n, &zh, sizeof(zh));
		n += sizeof(zh);
	}
	uint8_t out[crypto_shorthash_BYTES];
	crypto_shorthash(out, buf, n, in->key);
	uint64_t h;
	memcpy(&h, out, sizeof(h));
	return h;
}

struct iter_infra_entry *
iter_infra_get(struct iter_infra *in, const struct resolver_addr *a)
{
	size_t n = addr_len(a);
	struct iter_infra_entry *e = &in->slot[keyed_hash(in, a, NULL) % ITER_INFRA_SLOTS];
	if (!e->used || e->a.family != a->family || memcmp(e->a.ip, a->ip, n) != 0) {
		/* Direct-mapped: a new address takes the slot over, starting unknown. */
		memset(e, 0, sizeof(*e));
		e->used = true;
		e->a = *a;
		e->srtt_ms = INFRA_UNKNOWN_MS;
	}
	return e;
}

void
iter_infra_rtt(struct iter_infra *in, const struct resolver_addr *a, double ms)
{
	struct iter_infra_entry *e = iter_infra_get(in, a);
	/* RFC 6298 §2-style smoothing with gain 1/8, as BIND and Unbound do for servers. */
	e->srtt_ms = e->timeouts == 0 && e->srtt_ms != INFRA_UNKNOWN_MS
			     ? e->srtt_ms + (ms - e->srtt_ms) / 8.0
			     : ms;
	e->timeouts = 0;
}

void
iter_infra_timeout(struct iter_infra *in, const struct resolver_addr *a)
{
	unsigned timeout_ms = iter_infra_timeout_ms(in, a);
	struct iter_infra_entry *e = iter_infra_get(in, a);
	e->timeouts++;
	double v = e->srtt_ms * 2 > timeout_ms ? e->srtt_ms * 2 : timeout_ms;
	e->srtt_ms = v > ITER_INFRA_MAX_MS ? ITER_INFRA_MAX_MS : v;
	if (e->timeouts >= 2) {
		/*
		 * A silent server is left alone for a while (2 s per timeout, at most a minute),
		 * so that a delegation full of dead servers fails fast instead of costing a
		 * timeout per query (the NXNS and slow-drip class of attacks).
		 */
		unsigned sec = e->timeouts * 2 > 60 ? 60 : e->timeouts * 2;
		e->down_until_us = tdns_mono_us() + (int64_t)sec * 1000000;
	}
}

bool
iter_infra_down(struct iter_infra *in, const struct resolver_addr *a)
{
	return iter_infra_get(in, a)->down_until_us > tdns_mono_us();
}

unsigned
iter_infra_timeout_ms(struct iter_infra *in, const struct resolver_addr *a)
{
	struct iter_infra_entry *e = iter_infra_get(in, a);
	if (e->srtt_ms == INFRA_UNKNOWN_MS && e->timeouts == 0) {
		return 800;
	}
	double t = e->srtt_ms * 3 + 150;
	return t < 300 ? 300 : t > 1500 ? 1500 : (unsigned)t;
}

static uint64_t
lame_key(const struct iter_infra *in, const struct resolver_addr *a, const uint8_t *zone)
{
	return keyed_hash(in, a, zone) | 1;
}

void
iter_infra_lame_set(struct iter_infra *in, const struct resolver_addr *a, const uint8_t *zone)
{
	uint64_t k = lame_key(in, a, zone);
	in->lame[k % ITER_LAME_SLOTS].key = k;
	in->lame[k % ITER_LAME_SLOTS].until_us = tdns_mono_us() + (int64_t)LAME_SEC * 1000000;
}

bool
iter_infra_lame(struct iter_infra *in, const struct resolver_addr *a, const uint8_t *zone)
{
	uint64_t k = lame_key(in, a, zone);
	return in->lame[k % ITER_LAME_SLOTS].key == k &&
	       in->lame[k % ITER_LAME_SLOTS].until_us > tdns_mono_us();
}
