/* SPDX-License-Identifier: MIT */
/* Zone database: a hash table of nodes with packed rrsets in a per-zone arena, and zone sets. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "zone/zone_int.h"

/* ------------------------------------------------------------------------------------------ */
/* Arena: nodes and rrsets of a zone live until the zone is freed, so they are bump-allocated  */
/* from chunks owned by the zone instead of one malloc each (16 bytes of malloc overhead and   */
/* 16-byte rounding per object would cost more than the data for a typical A record).          */

#define HUGE_PAGE ((size_t)2 << 20)
#define ARENA_ALIGN 8
#define ARENA_FIRST 2048

struct arena_chunk {
	struct arena_chunk *next;
	size_t size;
	size_t used;
	uint8_t mem[];
};

/* Full-size chunks fill one huge page exactly, header included. */
#define ARENA_MAX (HUGE_PAGE - sizeof(struct arena_chunk))

/* bytes (a multiple of HUGE_PAGE) of zeroed memory aligned to a huge page, or NULL. */
static void *
huge_map(size_t bytes)
{
	uint8_t *p = mmap(NULL, bytes + HUGE_PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		return NULL;
	}
	size_t head = (HUGE_PAGE - ((uintptr_t)p & (HUGE_PAGE - 1))) & (HUGE_PAGE - 1);
	if (head > 0) {
		munmap(p, head);
	}
	munmap(p + head + bytes, HUGE_PAGE - head);
	p += head;
#ifdef MADV_HUGEPAGE
	madvise(p, bytes, MADV_HUGEPAGE);
#endif
	return p;
}

static struct arena_chunk *
chunk_new(size_t want)
{
	struct arena_chunk *c;
	size_t total = sizeof(*c) + want;
	if (total >= HUGE_PAGE) {
		total = (total + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
		c = huge_map(total);
	} else {
		c = malloc(total);
	}
	if (c != NULL) {
		c->size = total - sizeof(*c);
	}
	return c;
}

static void
chunk_free(struct arena_chunk *c)
{
	size_t total = sizeof(*c) + c->size;
	if (total >= HUGE_PAGE) {
		munmap(c, total);
	} else {
		free(c);
	}
}

struct arena {
	struct arena_chunk *head;
	uint8_t *last;          /* start of the most recent allocation, for in-place growth */
	size_t next_size;
};

static size_t
align_up(size_t n)
{
	return (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
}

static void *
arena_alloc(struct arena *a, size_t n)
{
	n = align_up(n);
	struct arena_chunk *c = a->head;
	if (c == NULL || c->size - c->used < n) {
		/* Chunks double up to ARENA_MAX so small zones stay small and big ones need few. */
		size_t want = a->next_size;
		a->next_size = 2 * a->next_size < ARENA_MAX ? 2 * a->next_size : ARENA_MAX;
		if (want < n) {
			want = n;
		}
		c = chunk_new(want);
		if (c == NULL) {
			return NULL;
		}
		c->used = 0;
		c->next = a->head;
		a->head = c;
	}
	uint8_t *p = c->mem + c->used;
	c->used += n;
	a->last = p;
	return p;
}

/* Grows the most recent allocation p to n bytes in place; false if p is not last or no room. */
static bool
arena_grow(struct arena *a, void *p, size_t n)
{
	struct arena_chunk *c = a->head;
	if (c == NULL || p != a->last) {
		return false;
	}
	size_t start = (size_t)((uint8_t *)p - c->mem);
	n = align_up(n);
	if (c->size - start < n) {
		return false;
	}
	c->used = start + n;
	return true;
}

static void
arena_release(struct arena *a)
{
	struct arena_chunk *c = a->head;
	while (c != NULL) {
		struct arena_chunk *next = c->next;
		chunk_free(c);
		c = next;
	}
	a->head = NULL;
	a->last = NULL;
}

/*
 * Nodes and rrsets come from separate arenas.  The node arena then holds nothing but nodes,
 * each of a size computable from its name, so every node can be visited in memory order:
 * whole-zone passes (checks, rehashing, sorting) stream through memory instead of chasing
 * hash chains, which matters for zones of millions of names.
 */
struct zone_mem {
	struct arena nodes;
	struct arena sets;
};

static size_t
node_size(const uint8_t *name)
{
	return offsetof(struct zone_node, name) + dns_name_len(name);
}

struct zone_node *
zone_iter_next(const struct zone *z, struct zone_iter *it)
{
	const struct zone_mem *m = z->mem;
	const struct arena_chunk *c = it->chunk;
	if (!it->started) {
		it->started = true;
		c = m->nodes.head;
		it->off = 0;
	}
	while (c != NULL && it->off >= c->used) {
		c = c->next;
		it->off = 0;
	}
	it->chunk = c;
	if (c == NULL) {
		return NULL;
	}
	struct zone_node *n = (struct zone_node *)(c->mem + it->off);
	it->off += align_up(node_size(n->name));
	return n;
}

/* ------------------------------------------------------------------------------------------ */
/* Zones                                                                                       */

static uint64_t
random_seed(void)
{
	uint64_t seed = 0;
	if (getentropy(&seed, sizeof(seed)) != 0) {
		/* Only hash-flooding resistance depends on this; a weak seed still works. */
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		seed = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)ts.tv_sec;
	}
	return seed;
}

static struct zone_node *
find_h(const struct zone *z, const uint8_t *name, uint64_t h)
{
	for (struct zone_node *n = z->table[h & (z->table_size - 1)]; n != NULL; n = n->hnext) {
		if (n->hash == h && dns_name_eq(n->name, name)) {
			return n;
		}
	}
	return NULL;
}

/*
 * Hash lookups land on random slots and nodes, so for big zones most of their cost is TLB
 * and cache misses.  Tables of 2 MiB and more are mapped 2 MiB-aligned and offered to
 * transparent huge pages, which removes most TLB misses from loading and queries alike.
 */
static struct zone_node **
table_alloc(size_t size)
{
	size_t bytes = size * sizeof(struct zone_node *);
	if (bytes < HUGE_PAGE) {
		return calloc(size, sizeof(struct zone_node *));
	}
	return huge_map(bytes);
}

static void
table_free(struct zone_node **t, size_t size)
{
	size_t bytes = size * sizeof(struct zone_node *);
	if (bytes < HUGE_PAGE) {
		free(t);
	} else if (t != NULL) {
		munmap(t, bytes);
	}
}

static bool
table_grow(struct zone *z)
{
	size_t size = z->table_size * 2;
	struct zone_node **t = table_alloc(size);
	if (t == NULL) {
		return false;
	}
	struct zone_iter it = { .started = false };
	struct zone_node *n;
	while ((n = zone_iter_next(z, &it)) != NULL) {
		size_t k = n->hash & (size - 1);
		n->hnext = t[k];
		t[k] = n;
	}
	table_free(z->table, z->table_size);
	z->table = t;
	z->table_size = size;
	return true;
}

static struct zone_node *
node_insert(struct zone *z, const uint8_t *name, uint64_t h)
{
	/* Load factor at most 1: short chains for 8 bytes per node of table. */
	if (z->nnodes >= z->table_size && !table_grow(z)) {
		return NULL;
	}
	struct zone_mem *m = z->mem;
	struct zone_node *n = arena_alloc(&m->nodes, node_size(name));
	if (n == NULL) {
		return NULL;
	}
	memcpy(n->name, name, dns_name_len(name));
	n->rrsets = NULL;
	n->hash = h;
	n->flags = 0;
	size_t k = h & (z->table_size - 1);
	n->hnext = z->table[k];
	z->table[k] = n;
	z->nnodes++;
	return n;
}

/*
 * The node for name, created with every missing ancestor up to the apex (as empty
 * non-terminals) so that lookups can walk up one label at a time.  name is at or below the
 * apex, which always exists, so the recursion ends there.
 */
static struct zone_node *
node_ensure(struct zone *z, const uint8_t *name)
{
	uint64_t h = dns_name_hash(name, z->seed);
	struct zone_node *n = find_h(z, name, h);
	if (n != NULL) {
		return n;
	}
	struct zone_node *parent = node_ensure(z, dns_name_parent(name));
	if (parent == NULL) {
		return NULL;
	}
	n = node_insert(z, name, h);
	if (n != NULL && name[0] == 1 && name[1] == '*') {
		/* RFC 4592 §2.1.1: the parent of "*" is where wildcard synthesis may start. */
		parent->flags |= ZONE_NODE_WILDCARD;
	}
	return n;
}

struct zone *
zone_new(const uint8_t *apex)
{
	struct zone *z = calloc(1, sizeof(*z));
	if (z == NULL) {
		return NULL;
	}
	z->apex_len = dns_name_len(apex);
	memcpy(z->apex, apex, z->apex_len);
	char text[DNS_NAME_TEXT_MAX];
	if (dns_name_to_text(apex, text, sizeof(text)) < 0) {
		text[0] = '\0';
	}
	z->name = strdup(text);
	z->seed = random_seed();
	z->table_size = 16;
	z->table = table_alloc(z->table_size);
	struct zone_mem *m = calloc(1, sizeof(*m));
	if (m != NULL) {
		m->nodes.next_size = ARENA_FIRST;
		m->sets.next_size = ARENA_FIRST;
	}
	z->mem = m;
	if (z->name == NULL || z->table == NULL || m == NULL) {
		zone_free(z);
		return NULL;
	}
	z->apex_node = node_insert(z, apex, dns_name_hash(apex, z->seed));
	if (z->apex_node == NULL) {
		zone_free(z);
		return NULL;
	}
	return z;
}

void
zone_free(struct zone *z)
{
	if (z == NULL) {
		return;
	}
	struct zone_mem *m = z->mem;
	if (m != NULL) {
		arena_release(&m->nodes);
		arena_release(&m->sets);
		free(m);
	}
	table_free(z->table, z->table_size);
	free(z->name);
	free(z->file);
	free(z);
}

const struct zone_node *
zone_find(const struct zone *z, const uint8_t *name)
{
	return find_h(z, name, dns_name_hash(name, z->seed));
}

const struct zone_rrset *
zone_node_rrset(const struct zone_node *n, uint16_t type)
{
	for (const struct zone_rrset *r = n->rrsets; r != NULL; r = r->next) {
		if (r->type == type) {
			return r;
		}
	}
	return NULL;
}

static uint8_t
lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

/*
 * Is rd already in the rrset?  Rdatas equal in canonical form (RFC 4034 §6.2 lower-cases
 * embedded names) are duplicates.  A byte-exact match settles most cases; only when the bytes
 * differ but agree ignoring case is the type-aware comparison needed.
 */
static bool
rrset_has(const struct zone_rrset *r, const uint8_t *rd, size_t rdlen)
{
	const uint8_t *p = r->data;
	for (uint16_t i = 0; i < r->count; i++) {
		const uint8_t *x;
		uint16_t xlen;
		p = zone_rdata_next(p, &x, &xlen);
		if (xlen != rdlen) {
			continue;
		}
		if (memcmp(x, rd, rdlen) == 0) {
			return true;
		}
		size_t k = 0;
		while (k < rdlen && lower(x[k]) == lower(rd[k])) {
			k++;
		}
		if (k == rdlen && dns_rdata_cmp(r->type, x, xlen, rd, rdlen) == 0) {
			return true;
		}
	}
	return false;
}

static void
rdata_put(struct zone_rrset *r, const uint8_t *rd, size_t rdlen)
{
	tdns_put16(r->data + r->size, (uint16_t)rdlen);
	if (rdlen > 0) {
		memcpy(r->data + r->size + 2, rd, rdlen);
	}
	r->size += 2 + (uint32_t)rdlen;
	r->count++;
}

int
zone_add_rr(struct zone *z, const uint8_t *owner, uint16_t type, uint32_t ttl,
	    const uint8_t *rd, size_t rdlen)
{
	if (!dns_name_is_sub(owner, z->apex)) {
		return TDNS_EOUTOFZONE;
	}
	if (dns_type_is_meta(type) || rdlen > DNS_RDATA_MAX) {
		return TDNS_EINVAL;
	}
	struct zone_node *n = node_ensure(z, owner);
	if (n == NULL) {
		return TDNS_ENOMEM;
	}
	struct zone_mem *m = z->mem;
	struct zone_rrset **link = &n->rrsets;
	while (*link != NULL && (*link)->type != type) {
		link = &(*link)->next;
	}
	struct zone_rrset *r = *link;
	if (r == NULL) {
		r = arena_alloc(&m->sets, offsetof(struct zone_rrset, data) + 2 + rdlen);
		if (r == NULL) {
			return TDNS_ENOMEM;
		}
		r->next = NULL;
		r->type = type;
		r->count = 0;
		r->ttl = ttl;
		r->size = 0;
		r->cap = 2 + (uint32_t)rdlen;
		rdata_put(r, rd, rdlen);
		*link = r;
		if (type == DNS_TYPE_NS && n != z->apex_node) {
			n->flags |= ZONE_NODE_DELEG;
		}
		z->nrecords++;
		return TDNS_OK;
	}
	/* RFC 2181 §5.2: the TTLs of an rrset must agree; take the lowest rather than fail. */
	if (ttl < r->ttl) {
		r->ttl = ttl;
	}
	if (rrset_has(r, rd, rdlen)) {
		return TDNS_OK;
	}
	if (r->count == UINT16_MAX) {
		return TDNS_ERANGE;
	}
	size_t need = (size_t)r->size + 2 + rdlen;
	if (need > r->cap) {
		size_t hdr = offsetof(struct zone_rrset, data);
		if (arena_grow(&m->sets, r, hdr + need)) {
			/* Records of one rrset usually come together: the common case. */
			r->cap = (uint32_t)need;
		} else {
			/* Doubling bounds what the abandoned copies waste to the final size. */
			size_t cap = 2 * (size_t)r->size > need ? 2 * (size_t)r->size : need;
			struct zone_rrset *nr = arena_alloc(&m->sets, hdr + cap);
			if (nr == NULL) {
				return TDNS_ENOMEM;
			}
			memcpy(nr, r, hdr + r->size);
			nr->cap = (uint32_t)cap;
			*link = nr;
			r = nr;
		}
	}
	rdata_put(r, rd, rdlen);
	z->nrecords++;
	return TDNS_OK;
}

/*
 * Canonical order (RFC 4034 §6.1) compares labels from the right, each as lower-cased octets
 * with a shorter label first.  Sorting a million nodes with dns_name_cmp re-parses both names
 * on every comparison, so each name is turned once into a key that memcmp orders the same
 * way: labels right to left, each followed by 0x00, with octets 0x00 and 0x01 escaped as
 * 0x01 0x01 and 0x01 0x02 so that the terminator sorts below every label octet.
 */
struct sort_ent {
	const struct zone_node *n;
	const uint8_t *key;
	size_t len;
};

static size_t
canon_key(const uint8_t *name, uint8_t *out)
{
	const uint8_t *labels[128];
	int k = 0;
	for (const uint8_t *p = name; *p != 0 && k < 128; p += 1 + *p) {
		labels[k++] = p;
	}
	size_t len = 0;
	while (k > 0) {
		const uint8_t *l = labels[--k];
		for (uint8_t i = 1; i <= l[0]; i++) {
			uint8_t c = lower(l[i]);
			if (c <= 1) {
				out[len++] = 1;
				out[len++] = (uint8_t)(c + 1);
			} else {
				out[len++] = c;
			}
		}
		out[len++] = 0;
	}
	return len;
}

static int
ent_cmp(const void *a, const void *b)
{
	const struct sort_ent *x = a;
	const struct sort_ent *y = b;
	size_t m = x->len < y->len ? x->len : y->len;
	int d = memcmp(x->key, y->key, m);
	if (d != 0) {
		return d;
	}
	return x->len < y->len ? -1 : x->len > y->len;
}

const struct zone_node **
zone_sorted_nodes(const struct zone *z, size_t *count)
{
	*count = 0;
	size_t nn = z->nnodes ? z->nnodes : 1;
	const struct zone_node **v = malloc(nn * sizeof(*v));
	struct sort_ent *e = malloc(nn * sizeof(*e));
	struct arena keys = { .next_size = ARENA_MAX };
	if (v == NULL || e == NULL) {
		goto fail;
	}
	size_t k = 0;
	struct zone_iter it = { .started = false };
	const struct zone_node *n;
	while ((n = zone_iter_next(z, &it)) != NULL) {
		/* An escaped key is at most twice the name. */
		uint8_t buf[2 * DNS_NAME_MAX];
		e[k].n = n;
		e[k].len = canon_key(n->name, buf);
		uint8_t *key = arena_alloc(&keys, e[k].len);
		if (key == NULL) {
			goto fail;
		}
		memcpy(key, buf, e[k].len);
		e[k].key = key;
		k++;
	}
	qsort(e, k, sizeof(*e), ent_cmp);
	for (size_t i = 0; i < k; i++) {
		v[i] = e[i].n;
	}
	free(e);
	arena_release(&keys);
	*count = k;
	return v;
fail:
	free(v);
	free(e);
	arena_release(&keys);
	return NULL;
}

int
zone_walk(const struct zone *z, int (*cb)(void *ctx, const struct zone_node *n), void *ctx)
{
	size_t count;
	const struct zone_node **v = zone_sorted_nodes(z, &count);
	if (v == NULL) {
		return TDNS_ENOMEM;
	}
	int rc = 0;
	for (size_t i = 0; i < count && rc == 0; i++) {
		rc = cb(ctx, v[i]);
	}
	free(v);
	return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Zone sets: open addressing keyed by the apex hash; lookups try each suffix of the qname.    */

struct zone_slot {
	uint64_t hash;
	struct zone *z;
};

struct zone_set {
	struct zone_slot *slots;
	size_t size;       /* power of two */
	size_t count;
	int max_labels;    /* deepest apex, so longer qname suffixes need no lookup */
	uint64_t seed;
};

struct zone_set *
zone_set_new(void)
{
	struct zone_set *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		return NULL;
	}
	s->size = 8;
	s->slots = calloc(s->size, sizeof(*s->slots));
	if (s->slots == NULL) {
		free(s);
		return NULL;
	}
	s->seed = random_seed();
	return s;
}

void
zone_set_free(struct zone_set *s)
{
	if (s == NULL) {
		return;
	}
	for (size_t i = 0; i < s->size; i++) {
		zone_free(s->slots[i].z);
	}
	free(s->slots);
	free(s);
}

static struct zone_slot *
slot_find(const struct zone_set *s, const uint8_t *apex, uint64_t h)
{
	for (size_t i = h & (s->size - 1);; i = (i + 1) & (s->size - 1)) {
		struct zone_slot *sl = &s->slots[i];
		if (sl->z == NULL || (sl->hash == h && dns_name_eq(sl->z->apex, apex))) {
			return sl;
		}
	}
}

int
zone_set_add(struct zone_set *s, struct zone *z)
{
	uint64_t h = dns_name_hash(z->apex, s->seed);
	if (slot_find(s, z->apex, h)->z != NULL) {
		return TDNS_EZONEEXISTS;
	}
	if (2 * (s->count + 1) > s->size) {
		size_t size = s->size * 2;
		struct zone_slot *slots = calloc(size, sizeof(*slots));
		if (slots == NULL) {
			return TDNS_ENOMEM;
		}
		struct zone_slot *old = s->slots;
		size_t oldsize = s->size;
		s->slots = slots;
		s->size = size;
		for (size_t i = 0; i < oldsize; i++) {
			if (old[i].z != NULL) {
				*slot_find(s, old[i].z->apex, old[i].hash) = old[i];
			}
		}
		free(old);
	}
	struct zone_slot *sl = slot_find(s, z->apex, h);
	sl->hash = h;
	sl->z = z;
	s->count++;
	int labels = dns_name_labels(z->apex);
	if (labels > s->max_labels) {
		s->max_labels = labels;
	}
	return TDNS_OK;
}

const struct zone *
zone_set_match(const struct zone_set *s, const uint8_t *qname)
{
	if (s == NULL || s->count == 0) {
		return NULL;
	}
	int labels = dns_name_labels(qname);
	const uint8_t *name = qname;
	while (labels > s->max_labels) {
		name = dns_name_parent(name);
		labels--;
	}
	for (;;) {
		struct zone_slot *sl = slot_find(s, name, dns_name_hash(name, s->seed));
		if (sl->z != NULL) {
			return sl->z;
		}
		if (name[0] == 0) {
			return NULL;
		}
		name = dns_name_parent(name);
	}
}

size_t
zone_set_count(const struct zone_set *s)
{
	return s != NULL ? s->count : 0;
}
