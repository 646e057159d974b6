/* SPDX-License-Identifier: MIT */
/* Resolver cache: sharded, byte-bounded response cache with CLOCK eviction, RFC 2308, RFC 8767. */
#include <malloc.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "resolver/resolver.h"

#define INITIAL_BUCKETS 64
#define INFLIGHT_BUCKETS 16
#define REAP_PER_STORE 4  /* dead entries removed on each store, to keep the heap top clean */
#define CNAME_HOPS_MAX 16 /* a longer chain in one response is not followed */
#define RR_FIXED 10       /* type, class, ttl, rdlen */
/* Decompression can grow rdata by at most 253 octets per name and no type has more than 3. */
#define RDATA_GROWTH (3 * DNS_NAME_MAX)

/*
 * One cached response.  Everything below data is immutable once the entry is in the table,
 * so readers use it without the lock while they hold a reference; hits, ref and told change
 * only under the shard lock.  data holds the key name, then each record as
 * owner (wire) | type | class | ttl | rdlen | rdata, answer first, then authority, additional.
 */
struct entry {
	struct entry *hnext;           /* hash chain, or the list of removed entries */
	struct entry *cprev, *cnext;   /* CLOCK ring */
	size_t heap_idx;
	atomic_uint refs;              /* the table's reference plus one per reader */
	uint32_t hits;
	bool ref;                      /* CLOCK: hit since the hand last passed */
	bool told;                     /* prefetch already reported */

	uint64_t hash;
	int64_t stored;
	int64_t expire;
	uint32_t ttl;
	uint32_t size;
	uint32_t data_len;
	uint16_t qtype, qclass;
	uint16_t rcode;
	uint16_t nrr[3];
	uint8_t kflags;
	uint8_t name_len;
	bool negative;
	bool ad;
	uint8_t sec;                   /* enum cache_sec */
	int8_t ede;                    /* RFC 8914 code of a bogus verdict, -1 none */
	uint8_t text_len;              /* the verdict's text, stored after the records */
	uint8_t data[];
};

struct inflight {
	struct inflight *next;
	uint64_t hash;
	struct cache_key key;
	struct cache_waiter *head;
	struct cache_waiter **tail;
};

/* Aligned to a cache line so that two shards' locks never share one. */
struct shard {
	alignas(64) pthread_mutex_t lock;
	struct entry **buckets;
	size_t nbuckets;
	size_t count;
	size_t bytes;             /* what the entries and the index take from the allocator */
	size_t index_bytes;       /* of which the bucket and heap arrays */
	size_t budget;
	struct entry *hand;
	struct entry **heap;
	size_t heap_len, heap_cap;
	struct inflight *inflight[INFLIGHT_BUCKETS];
	size_t ninflight;
	uint64_t hits, stale_hits, misses, inserts, evictions, expired;
};

struct cache {
	struct shard *shards;
	unsigned nshards;
	unsigned shard_bits;
	uint8_t hash_key[DNS_SIPHASH_KEY_LEN]; /* secret: names that collide cannot be chosen */
	size_t max_bytes;
	size_t fixed_bytes;       /* the cache and shard structures, counted against max_bytes */
	uint32_t min_ttl, max_ttl, neg_max_ttl, stale_ttl;
	uint32_t servfail_ttl;
	uint32_t prefetch_hits;
};

/*
 * What an allocation really takes from the allocator (issue 15): its usable size, which
 * includes the rounding up to the allocator's granule, and the chunk header glibc keeps in
 * front of it.  Counting requested sizes instead let the cache's RSS reach 4x max-size.
 */
static size_t
alloc_bytes(const void *p)
{
	return p != NULL ? malloc_usable_size((void *)p) + sizeof(size_t) : 0;
}

/* Recounts the bucket and heap arrays of s after one of them was reallocated. */
static void
shard_index_recount(struct shard *s)
{
	size_t now = alloc_bytes(s->buckets) + alloc_bytes(s->heap);
	s->bytes = s->bytes - s->index_bytes + now;
	s->index_bytes = now;
}

/* ---- keys and hashing --------------------------------------------------------------------- */

void
cache_key_init(struct cache_key *k, const uint8_t *qname, uint16_t qtype, uint16_t qclass,
	       unsigned flags)
{
	size_t n = dns_name_len(qname);
	memcpy(k->name, qname, n);
	dns_name_lower(k->name);
	k->name_len = (uint8_t)n;
	k->flags = (uint8_t)(flags & (CACHE_KEY_DO | CACHE_KEY_CD | CACHE_KEY_DELEG));
	k->qtype = qtype;
	k->qclass = qclass;
}

bool
cache_key_eq(const struct cache_key *a, const struct cache_key *b)
{
	return a->name_len == b->name_len && a->flags == b->flags && a->qtype == b->qtype &&
	       a->qclass == b->qclass && memcmp(a->name, b->name, a->name_len) == 0;
}

int64_t
cache_now(void)
{
	struct timespec ts;
#ifdef CLOCK_MONOTONIC_COARSE
	/* Whole seconds are all we need, and the coarse clock is the cheapest read. */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
#else
	clock_gettime(CLOCK_MONOTONIC, &ts);
#endif
	return (int64_t)ts.tv_sec;
}

static uint64_t
mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static uint64_t
name_hash(const struct cache *c, const uint8_t *lname)
{
	return dns_name_siphash(lname, c->hash_key);
}

/* The shard comes from the name alone so that deleting a name touches one shard. */
static struct shard *
shard_of(const struct cache *c, uint64_t nh)
{
	return &c->shards[c->shard_bits == 0 ? 0 : nh >> (64 - c->shard_bits)];
}

static uint64_t
key_hash(uint64_t nh, const struct cache_key *k)
{
	uint64_t t = ((uint64_t)k->qtype << 32) | ((uint64_t)k->qclass << 16) | k->flags;
	return mix64(nh ^ mix64(t + 0x9e3779b97f4a7c15ull));
}

static bool
entry_is(const struct entry *e, uint64_t h, const struct cache_key *k)
{
	return e->hash == h && e->qtype == k->qtype && e->qclass == k->qclass &&
	       e->kflags == k->flags && e->name_len == k->name_len &&
	       memcmp(e->data, k->name, k->name_len) == 0;
}

/* ---- expiry heap (min-heap on expire) ---------------------------------------------------- */

static void
heap_set(struct shard *s, size_t i, struct entry *e)
{
	s->heap[i] = e;
	e->heap_idx = i;
}

static void
heap_up(struct shard *s, size_t i)
{
	struct entry *e = s->heap[i];
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (s->heap[p]->expire <= e->expire) {
			break;
		}
		heap_set(s, i, s->heap[p]);
		i = p;
	}
	heap_set(s, i, e);
}

static void
heap_down(struct shard *s, size_t i)
{
	struct entry *e = s->heap[i];
	for (;;) {
		size_t l = 2 * i + 1;
		if (l >= s->heap_len) {
			break;
		}
		size_t m = l;
		if (l + 1 < s->heap_len && s->heap[l + 1]->expire < s->heap[l]->expire) {
			m = l + 1;
		}
		if (s->heap[m]->expire >= e->expire) {
			break;
		}
		heap_set(s, i, s->heap[m]);
		i = m;
	}
	heap_set(s, i, e);
}

static void
heap_remove(struct shard *s, struct entry *e)
{
	size_t i = e->heap_idx;
	struct entry *last = s->heap[--s->heap_len];
	if (i == s->heap_len) {
		return;
	}
	heap_set(s, i, last);
	heap_up(s, i);
	heap_down(s, last->heap_idx);
}

/* ---- table operations (shard lock held) -------------------------------------------------- */

static struct entry *
shard_find(const struct shard *s, uint64_t h, const struct cache_key *k)
{
	for (struct entry *e = s->buckets[h & (s->nbuckets - 1)]; e != NULL; e = e->hnext) {
		if (entry_is(e, h, k)) {
			return e;
		}
	}
	return NULL;
}

/*
 * Unlinks e from the table, the ring and the heap and puts it on *grave, whose references are
 * dropped after the lock is released (so free() never runs under a shard lock).
 */
static void
shard_remove(struct shard *s, struct entry *e, struct entry **grave)
{
	struct entry **pp = &s->buckets[e->hash & (s->nbuckets - 1)];
	while (*pp != e) {
		pp = &(*pp)->hnext;
	}
	*pp = e->hnext;
	if (e->cnext == e) {
		s->hand = NULL;
	} else {
		if (s->hand == e) {
			s->hand = e->cnext;
		}
		e->cprev->cnext = e->cnext;
		e->cnext->cprev = e->cprev;
	}
	heap_remove(s, e);
	s->count--;
	s->bytes -= e->size;
	e->hnext = *grave;
	*grave = e;
}

static void
entry_release(struct entry *e)
{
	if (atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) == 1) {
		free(e);
	}
}

static void
release_all(struct entry *grave)
{
	while (grave != NULL) {
		struct entry *next = grave->hnext;
		entry_release(grave);
		grave = next;
	}
}

static bool
is_dead(const struct cache *c, const struct entry *e, int64_t now)
{
	return now >= e->expire + (int64_t)c->stale_ttl;
}

/* Removes up to max dead entries from the top of the heap (all when max is SIZE_MAX). */
static size_t
shard_reap(const struct cache *c, struct shard *s, int64_t now, size_t max, struct entry **grave)
{
	size_t n = 0;
	while (n < max && s->heap_len > 0 && is_dead(c, s->heap[0], now)) {
		shard_remove(s, s->heap[0], grave);
		s->expired++;
		n++;
	}
	return n;
}

/*
 * Makes room for need more bytes: dead entries first (the heap top is the oldest), then
 * CLOCK.  Each step either removes an entry or clears one ref bit, so this ends within two
 * turns of the ring.
 */
static void
shard_make_room(const struct cache *c, struct shard *s, size_t need, int64_t now,
		struct entry **grave)
{
	while (s->count > 0 && s->bytes + need > s->budget) {
		if (is_dead(c, s->heap[0], now)) {
			shard_remove(s, s->heap[0], grave);
			s->expired++;
			continue;
		}
		struct entry *h = s->hand;
		if (h->ref) {
			h->ref = false;
			s->hand = h->cnext;
			continue;
		}
		shard_remove(s, h, grave);
		s->evictions++;
	}
}

/* Doubles the bucket array; on out of memory the chains just get longer. */
static void
shard_grow(struct shard *s)
{
	size_t n = s->nbuckets * 2;
	struct entry **nb = calloc(n, sizeof(*nb));
	if (nb == NULL) {
		return;
	}
	for (size_t i = 0; i < s->nbuckets; i++) {
		struct entry *e = s->buckets[i];
		while (e != NULL) {
			struct entry *next = e->hnext;
			size_t j = e->hash & (n - 1);
			e->hnext = nb[j];
			nb[j] = e;
			e = next;
		}
	}
	free(s->buckets);
	s->buckets = nb;
	s->nbuckets = n;
	shard_index_recount(s);
}

/* Links e in; the caller made room and reserved a heap slot. */
static void
shard_insert(struct shard *s, struct entry *e)
{
	size_t b = e->hash & (s->nbuckets - 1);
	e->hnext = s->buckets[b];
	s->buckets[b] = e;
	/* Just behind the hand: a new entry gets a whole turn before CLOCK looks at it. */
	if (s->hand == NULL) {
		e->cprev = e->cnext = e;
		s->hand = e;
	} else {
		e->cnext = s->hand;
		e->cprev = s->hand->cprev;
		e->cprev->cnext = e;
		s->hand->cprev = e;
	}
	s->heap[s->heap_len] = e;
	e->heap_idx = s->heap_len++;
	heap_up(s, e->heap_idx);
	s->count++;
	s->bytes += e->size;
	s->inserts++;
	if (s->count > s->nbuckets) {
		shard_grow(s);
	}
}

/* ---- life cycle -------------------------------------------------------------------------- */

struct cache *
cache_new(size_t max_bytes, unsigned nshards, uint32_t min_ttl, uint32_t max_ttl,
	  uint32_t neg_max_ttl, uint32_t stale_ttl)
{
	if (min_ttl > max_ttl) {
		return NULL;
	}
	if (nshards == 0) {
		nshards = CACHE_DEFAULT_SHARDS;
	}
	if (nshards > CACHE_MAX_SHARDS) {
		nshards = CACHE_MAX_SHARDS;
	}
	unsigned bits = 0;
	while ((1u << bits) < nshards) {
		bits++;
	}
	nshards = 1u << bits;

	struct cache *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		return NULL;
	}
	c->nshards = nshards;
	c->shard_bits = bits;
	c->max_bytes = max_bytes;
	c->min_ttl = min_ttl;
	c->max_ttl = max_ttl;
	c->neg_max_ttl = neg_max_ttl;
	c->stale_ttl = stale_ttl;
	c->prefetch_hits = CACHE_DEFAULT_PREFETCH_HITS;
	c->fixed_bytes = alloc_bytes(c);
	/* Issue 13: a keyed PRF keeps an outsider from choosing names that share one chain. */
	dns_siphash_key_new(c->hash_key);
	size_t sz = sizeof(struct shard) * nshards;
	c->shards = aligned_alloc(alignof(struct shard), sz);
	if (c->shards == NULL) {
		free(c);
		return NULL;
	}
	memset(c->shards, 0, sz);
	c->fixed_bytes += alloc_bytes(c->shards);
	size_t share = max_bytes > c->fixed_bytes ? (max_bytes - c->fixed_bytes) / nshards : 0;
	for (unsigned i = 0; i < nshards; i++) {
		struct shard *s = &c->shards[i];
		s->budget = share;
		s->nbuckets = INITIAL_BUCKETS;
		s->buckets = calloc(INITIAL_BUCKETS, sizeof(*s->buckets));
		if (s->buckets == NULL || pthread_mutex_init(&s->lock, NULL) != 0) {
			free(s->buckets);
			s->buckets = NULL;
			c->nshards = i;
			cache_free(c);
			return NULL;
		}
		shard_index_recount(s);
	}
	return c;
}

void
cache_free(struct cache *c)
{
	if (c == NULL) {
		return;
	}
	for (unsigned i = 0; i < c->nshards; i++) {
		struct shard *s = &c->shards[i];
		for (size_t b = 0; b < s->nbuckets; b++) {
			struct entry *e = s->buckets[b];
			while (e != NULL) {
				struct entry *next = e->hnext;
				free(e);
				e = next;
			}
		}
		for (size_t b = 0; b < INFLIGHT_BUCKETS; b++) {
			struct inflight *f = s->inflight[b];
			while (f != NULL) {
				struct inflight *next = f->next;
				free(f);
				f = next;
			}
		}
		free(s->buckets);
		free(s->heap);
		pthread_mutex_destroy(&s->lock);
	}
	free(c->shards);
	free(c);
}

void
cache_set_servfail_ttl(struct cache *c, uint32_t ttl)
{
	c->servfail_ttl = ttl > CACHE_SERVFAIL_TTL_MAX ? CACHE_SERVFAIL_TTL_MAX : ttl;
}

void
cache_set_prefetch_hits(struct cache *c, uint32_t hits)
{
	c->prefetch_hits = hits;
}

/* ---- store ------------------------------------------------------------------------------- */

/* RFC 2181 §8: a TTL with the top bit set is to be read as zero. */
static uint32_t
wire_ttl(uint32_t ttl)
{
	return (ttl & 0x80000000u) ? 0 : ttl;
}

static uint32_t
clamp_ttl(const struct cache *c, uint32_t ttl)
{
	ttl = wire_ttl(ttl);
	if (ttl < c->min_ttl) {
		return c->min_ttl;
	}
	return ttl > c->max_ttl ? c->max_ttl : ttl;
}

/*
 * Follows the CNAME chain from the qname through the answer section (RFC 1034 §3.6.2).
 * Returns true when the answer holds the qtype (or any type for ANY) at the qname or at the
 * end of the chain; *final gets the last name reached, which a negative answer is about
 * (RFC 2308 §2.1, §2.2).
 */
static bool
answer_found(const struct dns_msg *m, const struct cache_key *k, uint8_t *final)
{
	memcpy(final, k->name, k->name_len);
	for (int hop = 0; hop < CNAME_HOPS_MAX; hop++) {
		bool next = false;
		for (size_t i = 0; i < m->nrr; i++) {
			const struct dns_rr *rr = &m->rrs[i];
			if (rr->section != DNS_SECTION_ANSWER || !dns_name_eq(rr->owner, final)) {
				continue;
			}
			if (rr->type == k->qtype || k->qtype == DNS_TYPE_ANY) {
				return true;
			}
			if (rr->type == DNS_TYPE_CNAME && !next) {
				size_t pos = rr->rdata_off;
				size_t end = rr->rdata_off + rr->rdlen;
				uint8_t target[DNS_NAME_MAX];
				if (dns_name_unpack(m->pkt, end, &pos, target) > 0) {
					memcpy(final, target, dns_name_len(target));
					next = true;
				}
			}
		}
		if (!next) {
			return false;
		}
	}
	return false;
}

/*
 * RFC 2308 §5: the negative TTL is min(SOA TTL, SOA MINIMUM) of the SOA in the authority
 * section; §3 requires that SOA, and it must be the zone of the name the answer is about.
 * Returns false when there is none.
 */
static bool
negative_ttl(const struct dns_msg *m, const uint8_t *final, uint32_t *ttl)
{
	for (size_t i = 0; i < m->nrr; i++) {
		const struct dns_rr *rr = &m->rrs[i];
		if (rr->section != DNS_SECTION_AUTHORITY || rr->type != DNS_TYPE_SOA) {
			continue;
		}
		/* MINIMUM ends the rdata, so it is the last 4 octets even when compressed. */
		if (rr->rdlen < 22 || !dns_name_is_sub(final, rr->owner)) {
			continue;
		}
		uint32_t minimum = tdns_get32(m->pkt + rr->rdata_off + rr->rdlen - 4);
		uint32_t soa_ttl = wire_ttl(rr->ttl);
		*ttl = soa_ttl < minimum ? soa_ttl : minimum;
		return true;
	}
	return false;
}

/* Appends one record to the entry being built, growing it when needed. */
static int
entry_append(struct entry **ep, size_t *cap, const struct dns_msg *m, const struct dns_rr *rr,
	     uint32_t ttl)
{
	struct entry *e = *ep;
	size_t olen = dns_name_len(rr->owner);
	size_t need = olen + RR_FIXED + rr->rdlen + RDATA_GROWTH;
	if (e->data_len + need > *cap) {
		size_t ncap = *cap * 2 > e->data_len + need ? *cap * 2 : e->data_len + need;
		struct entry *ne = realloc(e, sizeof(*e) + ncap);
		if (ne == NULL) {
			return TDNS_ENOMEM;
		}
		*ep = e = ne;
		*cap = ncap;
	}
	uint8_t *p = e->data + e->data_len;
	memcpy(p, rr->owner, olen);
	p += olen;
	size_t rdlen = 0;
	int rc = dns_rdata_unpack(rr->type, m->pkt, m->len, rr->rdata_off, rr->rdlen, p + RR_FIXED,
				  rr->rdlen + RDATA_GROWTH, &rdlen);
	if (rc != TDNS_OK) {
		return rc;
	}
	tdns_put16(p, rr->type);
	tdns_put16(p + 2, rr->rclass);
	tdns_put32(p + 4, ttl);
	tdns_put16(p + 8, (uint16_t)rdlen);
	e->data_len += (uint32_t)(olen + RR_FIXED + rdlen);
	return TDNS_OK;
}

int
cache_store_msg(struct cache *c, const struct dns_msg *m, const struct cache_key *k,
		int64_t now)
{
	return cache_store_val(c, m, k, now, NULL);
}

int
cache_store_val(struct cache *c, const struct dns_msg *m, const struct cache_key *k,
		int64_t now, const struct cache_val *v)
{
	/* A truncated answer is incomplete (RFC 2181 §9); other rcodes say nothing about data. */
	if (m->flags & DNS_FLAG_TC) {
		return TDNS_ENOENT;
	}
	int rcode = m->rcode;
	if (rcode != DNS_RCODE_NOERROR && rcode != DNS_RCODE_NXDOMAIN &&
	    rcode != DNS_RCODE_SERVFAIL) {
		return TDNS_ENOENT;
	}

	bool servfail = rcode == DNS_RCODE_SERVFAIL;
	bool negative = false;
	uint32_t ttl = UINT32_MAX;
	if (servfail) {
		/* RFC 2308 §7.1: a server failure may be cached, but for 5 minutes at most. */
		ttl = c->servfail_ttl;
	} else {
		uint8_t final[DNS_NAME_MAX];
		bool found = answer_found(m, k, final);
		negative = rcode == DNS_RCODE_NXDOMAIN || !found;
		/* The CNAMEs leading to the answer (or to the negative) bound the lifetime. */
		for (size_t i = 0; i < m->nrr; i++) {
			if (m->rrs[i].section == DNS_SECTION_ANSWER) {
				uint32_t t = negative ? wire_ttl(m->rrs[i].ttl)
						      : clamp_ttl(c, m->rrs[i].ttl);
				ttl = t < ttl ? t : ttl;
			}
		}
		if (negative) {
			uint32_t nttl;
			if (!negative_ttl(m, final, &nttl)) {
				/* RFC 2308 §5: without an SOA a negative answer is not cached. */
				return TDNS_ENOENT;
			}
			if (nttl > c->neg_max_ttl) {
				nttl = c->neg_max_ttl;
			}
			ttl = nttl < ttl ? nttl : ttl;
		}
	}
	if (v != NULL && v->sec == CACHE_SEC_BOGUS && ttl > CACHE_BOGUS_TTL_MAX) {
		/* Unbound's val-bogus-ttl: a broken zone may be repaired soon. */
		ttl = CACHE_BOGUS_TTL_MAX;
	}
	/* RFC 1035 §3.2.1: a zero TTL means use once, do not cache. */
	if (ttl == 0 || ttl == UINT32_MAX) {
		return TDNS_ENOENT;
	}

	size_t cap = 512;
	struct entry *e = malloc(sizeof(*e) + cap);
	if (e == NULL) {
		return TDNS_ENOMEM;
	}
	memset(e, 0, sizeof(*e));
	memcpy(e->data, k->name, k->name_len);
	e->data_len = k->name_len;
	e->name_len = k->name_len;
	e->qtype = k->qtype;
	e->qclass = k->qclass;
	e->kflags = k->flags;
	e->rcode = (uint16_t)rcode;
	e->negative = negative;
	e->ad = (m->flags & DNS_FLAG_AD) != 0;
	e->sec = v != NULL ? v->sec : CACHE_SEC_UNCHECKED;
	e->ede = (int8_t)(v != NULL ? v->ede : -1);
	e->stored = now;
	e->ttl = ttl;
	e->expire = now + ttl;
	int rc;
	for (size_t i = 0; i < m->nrr && !servfail; i++) {
		const struct dns_rr *rr = &m->rrs[i];
		/* OPT and TSIG belong to one transaction, not to the data (RFC 6891 §6.1.1). */
		if (rr->section < DNS_SECTION_ANSWER || dns_type_is_meta(rr->type)) {
			continue;
		}
		uint32_t rttl = negative ? wire_ttl(rr->ttl) : clamp_ttl(c, rr->ttl);
		rc = entry_append(&e, &cap, m, rr, rttl);
		if (rc != TDNS_OK) {
			free(e);
			return rc;
		}
		e->nrr[rr->section - 1]++;
	}
	if (v != NULL && v->text[0] != '\0') {
		size_t tl = strnlen(v->text, CACHE_VAL_TEXT - 1);
		if (e->data_len + tl > cap) {
			struct entry *ne = realloc(e, sizeof(*e) + e->data_len + tl);
			if (ne == NULL) {
				free(e);
				return TDNS_ENOMEM;
			}
			e = ne;
		}
		memcpy(e->data + e->data_len, v->text, tl);
		e->data_len += (uint32_t)tl;
		e->text_len = (uint8_t)tl;
	}
	/*
	 * A copy of exactly the size built, not realloc in place: shrinking leaves behind a
	 * remainder too small for the next entry's build buffer, and those remainders held
	 * more memory than the entries (issue 15).
	 */
	struct entry *exact = malloc(sizeof(*e) + e->data_len);
	if (exact == NULL) {
		free(e);
		return TDNS_ENOMEM;
	}
	memcpy(exact, e, sizeof(*e) + e->data_len);
	free(e);
	e = exact;
	e->size = (uint32_t)alloc_bytes(e);
	atomic_init(&e->refs, 1);

	uint64_t nh = name_hash(c, k->name);
	e->hash = key_hash(nh, k);
	struct shard *s = shard_of(c, nh);
	if (e->size > s->budget) {
		free(e);
		return TDNS_ESPACE;
	}
	struct entry *grave = NULL;
	rc = TDNS_OK;
	pthread_mutex_lock(&s->lock);
	if (s->heap_len == s->heap_cap) {
		size_t ncap = s->heap_cap ? s->heap_cap * 2 : 64;
		struct entry **nh2 = realloc(s->heap, ncap * sizeof(*nh2));
		if (nh2 == NULL) {
			rc = TDNS_ENOMEM;
			goto unlock;
		}
		s->heap = nh2;
		s->heap_cap = ncap;
		shard_index_recount(s);
	}
	struct entry *old = shard_find(s, e->hash, k);
	if (old != NULL) {
		shard_remove(s, old, &grave);
	}
	shard_reap(c, s, now, REAP_PER_STORE, &grave);
	/* The bucket array doubles when the count passes it: room for that too. */
	size_t need = e->size;
	if (s->count + 1 > s->nbuckets) {
		need += s->nbuckets * sizeof(*s->buckets);
	}
	if (s->index_bytes + need > s->budget) {
		rc = TDNS_ESPACE;     /* even an empty shard could not hold it */
		goto unlock;
	}
	shard_make_room(c, s, need, now, &grave);
	shard_insert(s, e);
unlock:
	pthread_mutex_unlock(&s->lock);
	release_all(grave);
	if (rc != TDNS_OK) {
		free(e);
	}
	return rc;
}

const char *
cache_sec_str(unsigned sec)
{
	static const char *const names[] = {
		[CACHE_SEC_UNCHECKED] = "unchecked", [CACHE_SEC_SECURE] = "secure",
		[CACHE_SEC_INSECURE] = "insecure", [CACHE_SEC_BOGUS] = "bogus",
		[CACHE_SEC_INDETERMINATE] = "indeterminate",
	};
	return sec < sizeof(names) / sizeof(names[0]) ? names[sec] : "?";
}

/* ---- lookup ------------------------------------------------------------------------------ */

/* Writes e's records into b (no lock needed: the data is immutable and we hold a reference). */
/* RFC 4035 §3.2.1: the DNSSEC records a client without DO gets only when it asks for them. */
static bool
dnssec_type(uint16_t type, uint16_t qtype)
{
	return type != qtype && (type == DNS_TYPE_RRSIG || type == DNS_TYPE_NSEC ||
				 type == DNS_TYPE_NSEC3);
}

static void
entry_write(const struct entry *e, int64_t now, bool stale, struct dns_build *b,
	    unsigned flags, struct cache_info *info)
{
	dns_build_rcode(b, e->rcode);
	/*
	 * Cached data is never authoritative; AD is what the validator said, or, for an entry it
	 * did not check, what the upstream said.
	 */
	bool ad = e->sec == CACHE_SEC_UNCHECKED ? e->ad : e->sec == CACHE_SEC_SECURE;
	dns_build_set_flags(b, ad ? DNS_FLAG_AD : 0, DNS_FLAG_AA | (ad ? 0 : DNS_FLAG_AD));
	bool strip = (flags & CACHE_LOOKUP_NODNSSEC) != 0;
	int64_t elapsed = now > e->stored ? now - e->stored : 0;
	const uint8_t *p = e->data + e->name_len;
	for (int sec = DNS_SECTION_ANSWER; sec <= DNS_SECTION_ADDITIONAL; sec++) {
		for (unsigned i = 0; i < e->nrr[sec - 1]; i++) {
			const uint8_t *owner = p;
			p += dns_name_len(owner);
			uint16_t type = tdns_get16(p);
			uint16_t rclass = tdns_get16(p + 2);
			uint32_t ttl = tdns_get32(p + 4);
			uint16_t rdlen = tdns_get16(p + 8);
			const uint8_t *rd = p + RR_FIXED;
			p = rd + rdlen;
			if (strip && dnssec_type(type, e->qtype)) {
				continue;
			}
			if (stale) {
				/* RFC 8767 §4: stale records go out with a TTL of 30 seconds. */
				ttl = CACHE_STALE_TTL_OUT;
			} else {
				/* RFC 1035 §3.2.1, RFC 2308 §5: TTLs count down in the cache. */
				int64_t t = ttl < e->ttl ? ttl : e->ttl;
				ttl = t > elapsed ? (uint32_t)(t - elapsed) : 0;
			}
			if (dns_build_rr(b, sec, owner, type, rclass, ttl, rd, rdlen) == TDNS_OK) {
				continue;
			}
			if (sec != DNS_SECTION_ADDITIONAL) {
				/* RFC 2181 §9: a missing answer or authority record means TC. */
				dns_build_truncate(b);
				info->truncated = true;
			}
			return;
		}
	}
}

enum cache_result
cache_lookup(struct cache *c, const struct cache_key *k, int64_t now, struct dns_build *b,
	     unsigned flags, struct cache_info *info)
{
	struct cache_info dummy;
	if (info == NULL) {
		info = &dummy;
	}
	memset(info, 0, sizeof(*info));
	uint64_t nh = name_hash(c, k->name);
	uint64_t h = key_hash(nh, k);
	struct shard *s = shard_of(c, nh);
	struct entry *grave = NULL;

	pthread_mutex_lock(&s->lock);
	struct entry *e = shard_find(s, h, k);
	/* A quiet lookup counts in no statistic: a client query is one hit or one miss. */
	uint64_t unused = 0;
	uint64_t *misses = (flags & CACHE_LOOKUP_QUIET) != 0 ? &unused : &s->misses;
	if (e == NULL) {
		(*misses)++;
		pthread_mutex_unlock(&s->lock);
		return CACHE_MISS;
	}
	if (is_dead(c, e, now)) {
		shard_remove(s, e, &grave);
		s->expired++;
		(*misses)++;
		pthread_mutex_unlock(&s->lock);
		release_all(grave);
		return CACHE_MISS;
	}
	bool stale = now >= e->expire;
	if (stale && (!(flags & CACHE_LOOKUP_ALLOW_STALE) || e->rcode == DNS_RCODE_SERVFAIL)) {
		/* Kept: it may still be served if the upstream fails (RFC 8767 §5). */
		(*misses)++;
		pthread_mutex_unlock(&s->lock);
		return CACHE_MISS;
	}
	e->ref = true;
	if ((flags & CACHE_LOOKUP_QUIET) != 0) {
		/* Neither a hit nor popularity (prefetch counts the entry's hits). */
	} else if (stale) {
		s->stale_hits++;
	} else {
		s->hits++;
		if (e->hits < UINT32_MAX) {
			e->hits++;
		}
		/* Popular and in its last tenth: refresh before it expires (told once). */
		if (c->prefetch_hits > 0 && !e->told && e->hits >= c->prefetch_hits &&
		    (uint64_t)(e->expire - now) * 10 < e->ttl) {
			e->told = true;
			info->prefetch = true;
		}
	}
	atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
	pthread_mutex_unlock(&s->lock);

	info->rcode = e->rcode;
	info->negative = e->negative;
	info->ttl_left = stale ? 0 : (uint32_t)(e->expire - now);
	info->sec = e->sec;
	info->ede = e->ede;
	memcpy(info->text, e->data + e->data_len - e->text_len, e->text_len);
	info->text[e->text_len] = '\0';
	if (b != NULL) {
		entry_write(e, now, stale, b, flags, info);
	}
	entry_release(e);
	return stale ? CACHE_STALE : CACHE_HIT;
}

/* ---- administration ---------------------------------------------------------------------- */

size_t
cache_delete(struct cache *c, const uint8_t *name)
{
	uint8_t lname[DNS_NAME_MAX];
	size_t len = dns_name_len(name);
	memcpy(lname, name, len);
	dns_name_lower(lname);
	struct shard *s = shard_of(c, name_hash(c, lname));
	struct entry *grave = NULL;
	size_t n = 0;
	pthread_mutex_lock(&s->lock);
	for (size_t b = 0; b < s->nbuckets; b++) {
		struct entry *e = s->buckets[b];
		while (e != NULL) {
			struct entry *next = e->hnext;
			if (e->name_len == len && memcmp(e->data, lname, len) == 0) {
				shard_remove(s, e, &grave);
				n++;
			}
			e = next;
		}
	}
	pthread_mutex_unlock(&s->lock);
	release_all(grave);
	return n;
}

size_t
cache_flush(struct cache *c)
{
	size_t n = 0;
	for (unsigned i = 0; i < c->nshards; i++) {
		struct shard *s = &c->shards[i];
		struct entry *grave = NULL;
		pthread_mutex_lock(&s->lock);
		while (s->hand != NULL) {
			shard_remove(s, s->hand, &grave);
			n++;
		}
		pthread_mutex_unlock(&s->lock);
		release_all(grave);
	}
	return n;
}

size_t
cache_expire(struct cache *c, int64_t now)
{
	size_t n = 0;
	for (unsigned i = 0; i < c->nshards; i++) {
		struct shard *s = &c->shards[i];
		struct entry *grave = NULL;
		pthread_mutex_lock(&s->lock);
		n += shard_reap(c, s, now, SIZE_MAX, &grave);
		pthread_mutex_unlock(&s->lock);
		release_all(grave);
	}
	return n;
}

int
cache_walk(struct cache *c, const uint8_t *name, int64_t now, cache_walk_cb cb, void *ctx)
{
	for (unsigned i = 0; i < c->nshards; i++) {
		struct shard *s = &c->shards[i];
		pthread_mutex_lock(&s->lock);
		for (size_t b = 0; b < s->nbuckets; b++) {
			for (struct entry *e = s->buckets[b]; e != NULL; e = e->hnext) {
				if (is_dead(c, e, now) ||
				    (name != NULL && !dns_name_is_sub(e->data, name))) {
					continue;
				}
				struct cache_walk_item it = {
					.name = e->data,
					.qtype = e->qtype,
					.qclass = e->qclass,
					.flags = e->kflags,
					.rcode = e->rcode,
					.negative = e->negative,
					.ttl_left = e->expire - now,
					.ttl = e->ttl,
					.hits = e->hits,
					.size = e->size,
					.nrr = (size_t)e->nrr[0] + e->nrr[1] + e->nrr[2],
				};
				int rc = cb(ctx, &it);
				if (rc != 0) {
					pthread_mutex_unlock(&s->lock);
					return rc;
				}
			}
		}
		pthread_mutex_unlock(&s->lock);
	}
	return 0;
}

void
cache_stats(struct cache *c, struct cache_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->max_bytes = c->max_bytes;
	st->bytes = c->fixed_bytes;
	st->index_bytes = c->fixed_bytes;
	for (unsigned i = 0; i < c->nshards; i++) {
		struct shard *s = &c->shards[i];
		pthread_mutex_lock(&s->lock);
		st->entries += s->count;
		st->bytes += s->bytes;
		st->index_bytes += s->index_bytes;
		st->hits += s->hits;
		st->stale_hits += s->stale_hits;
		st->misses += s->misses;
		st->inserts += s->inserts;
		st->evictions += s->evictions;
		st->expired += s->expired;
		st->inflight += s->ninflight;
		pthread_mutex_unlock(&s->lock);
	}
}

/* ---- in-flight table --------------------------------------------------------------------- */

static struct inflight **
inflight_slot(struct shard *s, uint64_t h, const struct cache_key *k)
{
	struct inflight **pp = &s->inflight[h & (INFLIGHT_BUCKETS - 1)];
	while (*pp != NULL) {
		const struct inflight *f = *pp;
		if (f->hash == h && cache_key_eq(&f->key, k)) {
			break;
		}
		pp = &(*pp)->next;
	}
	return pp;
}

/* Locks the shard that holds k and returns it, with k's hash (the in-flight table's) in *h. */
static struct shard *
inflight_lock(struct cache *c, const struct cache_key *k, uint64_t *h)
{
	uint64_t nh = name_hash(c, k->name);
	*h = key_hash(nh, k);
	struct shard *s = shard_of(c, nh);
	pthread_mutex_lock(&s->lock);
	return s;
}

bool
cache_inflight_begin(struct cache *c, const struct cache_key *k, struct cache_waiter *w)
{
	/* Allocated before the lock, freed again if a query is already running. */
	struct inflight *f = malloc(sizeof(*f));
	bool first = true;
	uint64_t h;
	struct shard *s = inflight_lock(c, k, &h);
	struct inflight **pp = inflight_slot(s, h, k);
	if (*pp != NULL) {
		first = false;
		if (w != NULL) {
			w->next = NULL;
			*(*pp)->tail = w;
			(*pp)->tail = &w->next;
		}
	} else if (f != NULL) {
		f->next = NULL;
		f->hash = h;
		f->key = *k;
		f->head = NULL;
		f->tail = &f->head;
		*pp = f;
		f = NULL;
		s->ninflight++;
	}
	pthread_mutex_unlock(&s->lock);
	free(f);
	return first;
}

/* k's shard, locked (*sp: the caller unlocks it), and the slot of k's in-flight record. */
static struct inflight **
inflight_locked(struct cache *c, const struct cache_key *k, struct shard **sp)
{
	uint64_t h;
	*sp = inflight_lock(c, k, &h);
	return inflight_slot(*sp, h, k);
}

struct cache_waiter *
cache_inflight_end(struct cache *c, const struct cache_key *k)
{
	struct cache_waiter *list = NULL;
	struct shard *s;
	struct inflight **pp = inflight_locked(c, k, &s);
	struct inflight *f = *pp;
	if (f != NULL) {
		*pp = f->next;
		list = f->head;
		s->ninflight--;
	}
	pthread_mutex_unlock(&s->lock);
	free(f);
	return list;
}

struct cache_waiter *
cache_inflight_pop(struct cache *c, const struct cache_key *k)
{
	struct cache_waiter *w = NULL;
	struct shard *s;
	struct inflight *f = *inflight_locked(c, k, &s);
	if (f != NULL && f->head != NULL) {
		w = f->head;
		f->head = w->next;
		if (f->head == NULL) {
			f->tail = &f->head;
		}
		w->next = NULL;
	}
	pthread_mutex_unlock(&s->lock);
	return w;
}

enum cache_take_back
cache_inflight_take_back(struct cache *c, const struct cache_key *rkey,
			 struct cache_waiter **first, const struct cache_key *k,
			 struct cache_waiter *w)
{
	if (c != NULL && cache_key_eq(rkey, k) && cache_inflight_cancel(c, k, w)) {
		return CACHE_TAKE_OK; /* queued behind another client's query: simply unlinked */
	}
	if (*first != w) {
		return CACHE_TAKE_NONE;
	}
	*first = c != NULL ? cache_inflight_pop(c, rkey) : NULL;
	if (*first != NULL) {
		return CACHE_TAKE_OK;
	}
	if (c != NULL) {
		(void)cache_inflight_end(c, rkey);
	}
	return CACHE_TAKE_LAST;
}

bool
cache_inflight_cancel(struct cache *c, const struct cache_key *k, struct cache_waiter *w)
{
	bool found = false;
	struct shard *s;
	struct inflight *f = *inflight_locked(c, k, &s);
	if (f != NULL) {
		for (struct cache_waiter **wp = &f->head; *wp != NULL; wp = &(*wp)->next) {
			if (*wp == w) {
				*wp = w->next;
				if (f->tail == &w->next) {
					f->tail = wp;
				}
				found = true;
				break;
			}
		}
	}
	pthread_mutex_unlock(&s->lock);
	return found;
}
