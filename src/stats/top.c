/* SPDX-License-Identifier: MIT */
/*
 * The space-saving heavy-hitter sketch: counters grouped in buckets of equal count (the
 * stream-summary of Metwally et al.), indexed by a hash table.
 */
#include <stdlib.h>
#include <string.h>

#include "stats/stats_int.h"

#define EMPTY UINT32_MAX
#define NONE UINT32_MAX

struct counter {
	uint64_t count;
	uint64_t error;
	uint64_t hash;
	uint32_t bucket;          /* the bucket of its count */
	uint32_t prev, next;      /* in the bucket, oldest first */
	uint16_t keylen;
};

/*
 * The counters of one count, in the list of buckets by increasing count: adding 1 moves a
 * counter to the next bucket in constant time, where a heap would sift it past every counter
 * of its old count (most of a full sketch).
 */
struct bucket {
	uint64_t count;
	uint32_t first, last;     /* counters, oldest first */
	uint32_t prev, next;      /* buckets; next is also the free list's link */
};

/*
 * A table slot: a counter index (EMPTY: none) and the low half of its key's hash, so that a
 * probe passes other keys without reading their counters.
 */
struct tab_slot {
	uint32_t i;
	uint32_t h32;
};

struct stats_top {
	size_t cap;               /* counters */
	size_t keymax;
	size_t used;
	uint64_t total;
	struct counter *c;        /* cap counters */
	uint8_t *keys;            /* cap * keymax bytes: counter i's key at i * keymax */
	struct bucket *b;         /* cap + 1: a move may need one before it frees one */
	uint32_t bmin;            /* the bucket of the smallest count, NONE when empty */
	uint32_t bfree;           /* unused buckets */
	struct tab_slot *tab;     /* open addressing, linear probing */
	size_t tabmask;
};

uint64_t
stats_top_hash(const void *kp, size_t len)
{
	const uint8_t *key = kp;
	/* Eight bytes at a time (names are up to 257 bytes), then a final mix for the low bits. */
	uint64_t h = 0xcbf29ce484222325ull ^ len;
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t k;
		memcpy(&k, key + i, 8);
		h = (h ^ k) * 0x9e3779b97f4a7c15ull;
		h ^= h >> 29;
	}
	uint64_t k = 0;
	memcpy(&k, key + i, len - i);
	h = (h ^ k) * 0x9e3779b97f4a7c15ull;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

struct stats_top *
stats_top_new(size_t capacity, size_t keymax)
{
	if (capacity == 0 || capacity >= EMPTY / 4 || keymax == 0 ||
	    keymax > STATS_TOP_KEY_MAX) {
		return NULL;
	}
	struct stats_top *t = calloc(1, sizeof(*t));
	if (t == NULL) {
		return NULL;
	}
	size_t tabsize = 4;
	while (tabsize < 2 * capacity) {
		tabsize *= 2;
	}
	t->cap = capacity;
	t->keymax = keymax;
	t->tabmask = tabsize - 1;
	t->c = calloc(capacity, sizeof(*t->c));
	t->keys = malloc(capacity * keymax);
	t->b = malloc((capacity + 1) * sizeof(*t->b));
	t->tab = malloc(tabsize * sizeof(*t->tab));
	if (t->c == NULL || t->keys == NULL || t->b == NULL || t->tab == NULL) {
		stats_top_free(t);
		return NULL;
	}
	stats_top_clear(t);
	return t;
}

void
stats_top_free(struct stats_top *t)
{
	if (t == NULL) {
		return;
	}
	free(t->c);
	free(t->keys);
	free(t->b);
	free(t->tab);
	free(t);
}

static uint8_t *
key_of(const struct stats_top *t, uint32_t i)
{
	return t->keys + (size_t)i * t->keymax;
}

/* Links a bucket of count after bucket after (NONE: first) and returns it. */
static uint32_t
bucket_new(struct stats_top *t, uint64_t count, uint32_t after)
{
	uint32_t x = t->bfree;
	struct bucket *b = &t->b[x];
	t->bfree = b->next;
	b->count = count;
	b->first = b->last = NONE;
	b->prev = after;
	b->next = after == NONE ? t->bmin : t->b[after].next;
	if (b->next != NONE) {
		t->b[b->next].prev = x;
	}
	if (after == NONE) {
		t->bmin = x;
	} else {
		t->b[after].next = x;
	}
	return x;
}

/* Unlinks the empty bucket x and frees it. */
static void
bucket_free(struct stats_top *t, uint32_t x)
{
	struct bucket *b = &t->b[x];
	if (b->prev == NONE) {
		t->bmin = b->next;
	} else {
		t->b[b->prev].next = b->next;
	}
	if (b->next != NONE) {
		t->b[b->next].prev = b->prev;
	}
	b->next = t->bfree;
	t->bfree = x;
}

/* Appends counter i to bucket x. */
static void
bucket_push(struct stats_top *t, uint32_t x, uint32_t i)
{
	struct bucket *b = &t->b[x];
	t->c[i].bucket = x;
	t->c[i].prev = b->last;
	t->c[i].next = NONE;
	if (b->last == NONE) {
		b->first = i;
	} else {
		t->c[b->last].next = i;
	}
	b->last = i;
}

/* Takes counter i out of its bucket's list (the bucket stays, maybe empty). */
static void
bucket_remove(struct stats_top *t, uint32_t i)
{
	struct counter *c = &t->c[i];
	struct bucket *b = &t->b[c->bucket];
	if (c->prev == NONE) {
		b->first = c->next;
	} else {
		t->c[c->prev].next = c->next;
	}
	if (c->next == NONE) {
		b->last = c->prev;
	} else {
		t->c[c->next].prev = c->prev;
	}
}

/*
 * Puts counter i (in no bucket) into the bucket of its count, looking from bucket at (whose
 * count is at most that; NONE: from the smallest).
 */
static void
place(struct stats_top *t, uint32_t i, uint32_t at)
{
	uint64_t count = t->c[i].count;
	uint32_t x = at == NONE ? t->bmin : t->b[at].next;
	while (x != NONE && t->b[x].count <= count) {
		at = x;
		x = t->b[x].next;
	}
	if (at == NONE || t->b[at].count != count) {
		at = bucket_new(t, count, at);
	}
	bucket_push(t, at, i);
}

/* Adds n to counter i's count and moves it to the bucket of its new count. */
static void
grow(struct stats_top *t, uint32_t i, uint64_t n)
{
	if (n == 0) {
		return;
	}
	uint32_t from = t->c[i].bucket;
	bucket_remove(t, i);
	t->c[i].count += n;
	place(t, i, from);
	if (t->b[from].first == NONE) {
		bucket_free(t, from);
	}
}

/* The table slot holding key, or the empty slot where it would go. */
static size_t
tab_find(const struct stats_top *t, const uint8_t *key, size_t len, uint64_t h, bool *found)
{
	size_t s = h & t->tabmask;
	for (;;) {
		uint32_t i = t->tab[s].i;
		if (i == EMPTY) {
			*found = false;
			return s;
		}
		if (t->tab[s].h32 == (uint32_t)h && t->c[i].hash == h && t->c[i].keylen == len &&
		    memcmp(key_of(t, i), key, len) == 0) {
			*found = true;
			return s;
		}
		s = (s + 1) & t->tabmask;
	}
}

/*
 * The table slot of counter i, found by its index rather than its key (no key comparison);
 * the empty slot that ends its cluster if it is not in the table.
 */
static size_t
tab_find_counter(const struct stats_top *t, uint32_t i, bool *found)
{
	size_t s = t->c[i].hash & t->tabmask;
	for (;;) {
		uint32_t at = t->tab[s].i;
		if (at == EMPTY || at == i) {
			*found = at == i;
			return s;
		}
		s = (s + 1) & t->tabmask;
	}
}

/* Removes the entry at slot s, shifting later entries of the cluster back (no tombstones). */
static void
tab_delete(struct stats_top *t, size_t s)
{
	size_t hole = s;
	size_t j = s;
	for (;;) {
		j = (j + 1) & t->tabmask;
		if (t->tab[j].i == EMPTY) {
			break;
		}
		/* tabmask < 2^32: the home slot is in the hash's low half. */
		size_t home = t->tab[j].h32 & t->tabmask;
		/* Move the entry into the hole unless its home lies cyclically in (hole, j]. */
		bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
		if (!stays) {
			t->tab[hole] = t->tab[j];
			hole = j;
		}
	}
	t->tab[hole].i = EMPTY;
}

void
stats_top_add(struct stats_top *t, const void *key, size_t keylen, uint64_t n)
{
	if (keylen > t->keymax) {
		keylen = t->keymax;
	}
	stats_top_add_hashed(t, key, keylen, stats_top_hash(key, keylen), n);
}

void
stats_top_add_hashed(struct stats_top *t, const void *key, size_t keylen, uint64_t h, uint64_t n)
{
	t->total += n;
	bool found;
	size_t s = tab_find(t, key, keylen, h, &found);
	if (found) {
		grow(t, t->tab[s].i, n);
		return;
	}
	uint32_t i;
	uint64_t base = 0;
	if (t->used < t->cap) {
		i = (uint32_t)t->used++;
	} else {
		/*
		 * Space-saving: the new key takes over a smallest counter (the one longest at that
		 * count), inheriting its count as the possible overestimate.
		 */
		i = t->b[t->bmin].first;
		bool old_found;
		size_t old = tab_find_counter(t, i, &old_found);
		if (old_found) {
			tab_delete(t, old);
		}
		base = t->c[i].count;
		/* The deletion may have moved the empty slot the new key was headed for. */
		s = tab_find(t, key, keylen, h, &found);
	}
	memcpy(key_of(t, i), key, keylen);
	t->c[i].keylen = (uint16_t)keylen;
	t->c[i].hash = h;
	t->c[i].error = base;
	t->tab[s] = (struct tab_slot){ .i = i, .h32 = (uint32_t)h };
	if (base == 0) {
		t->c[i].count = n;
		place(t, i, NONE);
	} else {
		grow(t, i, n);
	}
}

static int
item_cmp(const void *a, const void *b)
{
	const struct stats_top_item *x = a, *y = b;
	if (x->count != y->count) {
		return x->count < y->count ? 1 : -1;
	}
	size_t n = x->keylen < y->keylen ? x->keylen : y->keylen;
	int c = memcmp(x->key, y->key, n);
	if (c != 0) {
		return c;
	}
	return x->keylen < y->keylen ? -1 : x->keylen > y->keylen ? 1 : 0;
}

size_t
stats_top_list(const struct stats_top *t, struct stats_top_item *out, size_t max)
{
	if (max == 0 || t->used == 0) {
		return 0;
	}
	struct stats_top_item *all = malloc(t->used * sizeof(*all));
	if (all == NULL) {
		return 0;
	}
	for (size_t i = 0; i < t->used; i++) {
		memcpy(all[i].key, key_of(t, (uint32_t)i), t->c[i].keylen);
		all[i].keylen = t->c[i].keylen;
		all[i].count = t->c[i].count;
		all[i].error = t->c[i].error;
	}
	qsort(all, t->used, sizeof(*all), item_cmp);
	size_t n = t->used < max ? t->used : max;
	memcpy(out, all, n * sizeof(*out));
	free(all);
	return n;
}

/* Every bucket free, none listed. */
static void
buckets_reset(struct stats_top *t)
{
	t->bmin = NONE;
	t->bfree = 0;
	for (size_t x = 0; x <= t->cap; x++) {
		t->b[x].next = x < t->cap ? (uint32_t)(x + 1) : NONE;
	}
}

void
stats_top_clear(struct stats_top *t)
{
	memset(t->tab, 0xff, (t->tabmask + 1) * sizeof(*t->tab));
	t->used = 0;
	t->total = 0;
	buckets_reset(t);
}

void
stats_top_halve(struct stats_top *t)
{
	/* Rebuilt from scratch: it runs once an hour, and dropping counters reorders everything. */
	size_t kept = 0;
	memset(t->tab, 0xff, (t->tabmask + 1) * sizeof(*t->tab));
	buckets_reset(t);
	for (size_t i = 0; i < t->used; i++) {
		uint64_t count = t->c[i].count / 2;
		if (count == 0) {
			continue;
		}
		if (kept != i) {
			t->c[kept] = t->c[i];
			memcpy(key_of(t, (uint32_t)kept), key_of(t, (uint32_t)i), t->c[i].keylen);
		}
		t->c[kept].count = count;
		t->c[kept].error /= 2;
		bool found;
		size_t s = tab_find(t, key_of(t, (uint32_t)kept), t->c[kept].keylen,
				    t->c[kept].hash, &found);
		t->tab[s] = (struct tab_slot){ .i = (uint32_t)kept,
					       .h32 = (uint32_t)t->c[kept].hash };
		/* A walk from the smallest bucket: once an hour, at most cap steps each. */
		place(t, (uint32_t)kept, NONE);
		kept++;
	}
	t->used = kept;
	t->total /= 2;
}

size_t
stats_top_size(const struct stats_top *t)
{
	return t->used;
}

size_t
stats_top_memory(const struct stats_top *t)
{
	return sizeof(*t) + t->cap * (sizeof(*t->c) + t->keymax) + (t->cap + 1) * sizeof(*t->b) +
	       (t->tabmask + 1) * sizeof(*t->tab);
}

uint64_t
stats_top_total(const struct stats_top *t)
{
	return t->total;
}
