/* SPDX-License-Identifier: MIT */
/* The space-saving heavy-hitter sketch: a min-heap of counters indexed by a hash table. */
#include <stdlib.h>
#include <string.h>

#include "stats/stats_int.h"

#define EMPTY UINT32_MAX

struct counter {
	uint64_t count;
	uint64_t error;
	uint64_t hash;
	uint32_t heap;            /* position in t->heap */
	uint16_t keylen;
};

/*
 * A heap slot: the counter's index and a copy of its count, so that sifting compares counts
 * without a load from the counter array per child.
 */
struct heap_slot {
	uint64_t count;
	uint32_t i;
};

struct stats_top {
	size_t cap;               /* counters */
	size_t keymax;
	size_t used;
	uint64_t total;
	struct counter *c;        /* cap counters */
	uint8_t *keys;            /* cap * keymax bytes: counter i's key at i * keymax */
	struct heap_slot *heap;   /* min-heap of counters by count */
	uint32_t *tab;            /* open addressing, linear probing: counter index or EMPTY */
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
	t->heap = calloc(capacity, sizeof(*t->heap));
	t->tab = malloc(tabsize * sizeof(*t->tab));
	if (t->c == NULL || t->keys == NULL || t->heap == NULL || t->tab == NULL) {
		stats_top_free(t);
		return NULL;
	}
	memset(t->tab, 0xff, tabsize * sizeof(*t->tab));
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
	free(t->heap);
	free(t->tab);
	free(t);
}

static uint8_t *
key_of(const struct stats_top *t, uint32_t i)
{
	return t->keys + (size_t)i * t->keymax;
}

static void
heap_set(struct stats_top *t, size_t pos, struct heap_slot h)
{
	t->heap[pos] = h;
	t->c[h.i].heap = (uint32_t)pos;
}

static void
sift_up(struct stats_top *t, size_t pos)
{
	struct heap_slot h = t->heap[pos];
	while (pos > 0) {
		size_t parent = (pos - 1) / 2;
		if (t->heap[parent].count <= h.count) {
			break;
		}
		heap_set(t, pos, t->heap[parent]);
		pos = parent;
	}
	heap_set(t, pos, h);
}

/* A counter that grew moves towards the leaves. */
static void
sift_down(struct stats_top *t, size_t pos)
{
	struct heap_slot h = t->heap[pos];
	for (;;) {
		size_t l = 2 * pos + 1, r = l + 1, m = pos;
		uint64_t mc = h.count;
		if (l < t->used && t->heap[l].count < mc) {
			m = l;
			mc = t->heap[l].count;
		}
		if (r < t->used && t->heap[r].count < mc) {
			m = r;
		}
		if (m == pos) {
			break;
		}
		heap_set(t, pos, t->heap[m]);
		pos = m;
	}
	heap_set(t, pos, h);
}

/* The table slot holding key, or the empty slot where it would go. */
static size_t
tab_find(const struct stats_top *t, const uint8_t *key, size_t len, uint64_t h, bool *found)
{
	size_t s = h & t->tabmask;
	for (;;) {
		uint32_t i = t->tab[s];
		if (i == EMPTY) {
			*found = false;
			return s;
		}
		if (t->c[i].hash == h && t->c[i].keylen == len &&
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
		uint32_t at = t->tab[s];
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
		uint32_t i = t->tab[j];
		if (i == EMPTY) {
			break;
		}
		size_t home = t->c[i].hash & t->tabmask;
		/* Move i into the hole unless its home lies cyclically in (hole, j]. */
		bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
		if (!stays) {
			t->tab[hole] = i;
			hole = j;
		}
	}
	t->tab[hole] = EMPTY;
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
		uint32_t i = t->tab[s];
		t->c[i].count += n;
		t->heap[t->c[i].heap].count = t->c[i].count;
		sift_down(t, t->c[i].heap);
		return;
	}
	uint32_t i;
	uint64_t base = 0;
	if (t->used < t->cap) {
		i = (uint32_t)t->used++;
		t->c[i].heap = (uint32_t)(t->used - 1);
		t->heap[t->used - 1].i = i;
	} else {
		/*
		 * Space-saving: the new key takes over the smallest counter, inheriting its count
		 * as the possible overestimate.
		 */
		i = t->heap[0].i;
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
	t->c[i].count = base + n;
	t->heap[t->c[i].heap].count = base + n;
	t->c[i].error = base;
	t->tab[s] = i;
	if (base == 0) {
		sift_up(t, t->c[i].heap);
	} else {
		sift_down(t, t->c[i].heap);
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

void
stats_top_clear(struct stats_top *t)
{
	memset(t->tab, 0xff, (t->tabmask + 1) * sizeof(*t->tab));
	t->used = 0;
	t->total = 0;
}

void
stats_top_halve(struct stats_top *t)
{
	/* Rebuilt from scratch: it runs once an hour, and dropping counters reorders everything. */
	size_t kept = 0;
	memset(t->tab, 0xff, (t->tabmask + 1) * sizeof(*t->tab));
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
		t->tab[s] = (uint32_t)kept;
		kept++;
	}
	t->used = kept;
	for (size_t i = 0; i < kept; i++) {
		heap_set(t, i, (struct heap_slot){ .count = t->c[i].count, .i = (uint32_t)i });
	}
	for (size_t i = kept / 2; i-- > 0;) {
		sift_down(t, i);
	}
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
	return sizeof(*t) + t->cap * (sizeof(*t->c) + t->keymax + sizeof(*t->heap)) +
	       (t->tabmask + 1) * sizeof(*t->tab);
}

uint64_t
stats_top_total(const struct stats_top *t)
{
	return t->total;
}
