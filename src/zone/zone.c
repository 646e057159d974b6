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

/*
 * A node pruned by zone_remove_rr: out of the hash table but still in the node arena (the
 * arena never frees single objects), so the iterator skips it.  Only zone.c sees this bit.
 */
#define ZONE_NODE_DEAD 0x80

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
	for (;;) {
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
		if (!(n->flags & ZONE_NODE_DEAD)) {
			return n;
		}
	}
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
	z->refs = 1;
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

/* The IXFR journal's references (journal.c builds journals; zone_free drops them). */

void
zone_diff_unref(struct zone_diff *d)
{
	if (d != NULL && __atomic_sub_fetch(&d->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		free(d);
	}
}

struct zone_journal *
zone_journal_ref(struct zone_journal *j)
{
	if (j != NULL) {
		__atomic_add_fetch(&j->refs, 1, __ATOMIC_ACQ_REL);
	}
	return j;
}

void
zone_journal_unref(struct zone_journal *j)
{
	if (j == NULL || __atomic_sub_fetch(&j->refs, 1, __ATOMIC_ACQ_REL) > 0) {
		return;
	}
	for (size_t i = 0; i < j->n; i++) {
		zone_diff_unref(j->diffs[i]);
	}
	free(j->diffs);
	free(j);
}

void
zone_free(struct zone *z)
{
	if (z == NULL) {
		return;
	}
	/* A worker streaming a transfer may drop the last reference (zone_xfr_free). */
	if (__atomic_sub_fetch(&z->refs, 1, __ATOMIC_ACQ_REL) > 0) {
		return;
	}
	struct zone_mem *m = z->mem;
	if (m != NULL) {
		arena_release(&m->nodes);
		arena_release(&m->sets);
		free(m);
	}
	table_free(z->table, z->table_size);
	zone_journal_unref(z->journal);
	free(z->name);
	free(z->file);
	free(z);
}

struct zone *
zone_ref(struct zone *z)
{
	if (z != NULL) {
		__atomic_add_fetch(&z->refs, 1, __ATOMIC_RELAXED);
	}
	return z;
}

/* Bytes in use in an arena, to size a copy's first chunk so that it needs only one or few. */
static size_t
arena_used(const struct arena *a)
{
	size_t n = 0;
	for (const struct arena_chunk *c = a->head; c != NULL; c = c->next) {
		n += c->used;
	}
	return n;
}

static size_t
first_chunk(size_t used)
{
	return used < ARENA_FIRST ? ARENA_FIRST : used > ARENA_MAX ? ARENA_MAX : used;
}

/*
 * The copy keeps the hash seed, so every node's hash and the table size carry over and no
 * name is hashed again; nodes and rrsets are copied in memory order, which streams through
 * both arenas.  A 100k-record zone copies in a few milliseconds.
 */
struct zone *
zone_clone(const struct zone *src)
{
	struct zone *z = calloc(1, sizeof(*z));
	if (z == NULL) {
		return NULL;
	}
	z->refs = 1;
	z->apex_len = src->apex_len;
	memcpy(z->apex, src->apex, src->apex_len);
	z->seed = src->seed;
	z->serial = src->serial;
	z->forwarder = src->forwarder;
	z->has_aname = src->has_aname;
	z->loaded = src->loaded;
	z->name = strdup(src->name);
	z->file = src->file != NULL ? strdup(src->file) : NULL;
	z->table_size = src->table_size;
	z->table = table_alloc(z->table_size);
	struct zone_mem *m = calloc(1, sizeof(*m));
	z->mem = m;
	if (z->name == NULL || (src->file != NULL && z->file == NULL) || z->table == NULL ||
	    m == NULL) {
		goto fail;
	}
	const struct zone_mem *sm = src->mem;
	m->nodes.next_size = first_chunk(arena_used(&sm->nodes));
	m->sets.next_size = first_chunk(arena_used(&sm->sets));
	struct zone_iter it = { .started = false };
	const struct zone_node *sn;
	while ((sn = zone_iter_next(src, &it)) != NULL) {
		struct zone_node *n = arena_alloc(&m->nodes, node_size(sn->name));
		if (n == NULL) {
			goto fail;
		}
		memcpy(n->name, sn->name, dns_name_len(sn->name));
		n->hash = sn->hash;
		n->flags = sn->flags;
		n->rrsets = NULL;
		struct zone_rrset **link = &n->rrsets;
		for (const struct zone_rrset *sr = sn->rrsets; sr != NULL; sr = sr->next) {
			size_t bytes = offsetof(struct zone_rrset, data) + sr->size;
			struct zone_rrset *r = arena_alloc(&m->sets, bytes);
			if (r == NULL) {
				goto fail;
			}
			memcpy(r, sr, bytes);
			r->cap = r->size;
			r->next = NULL;
			*link = r;
			link = &r->next;
			z->nrecords += r->count;
		}
		size_t k = n->hash & (z->table_size - 1);
		n->hnext = z->table[k];
		z->table[k] = n;
		z->nnodes++;
		if (sn == src->apex_node) {
			z->apex_node = n;
		}
	}
	if (z->apex_node == NULL) {
		goto fail;
	}
	return z;
fail:
	zone_free(z);
	return NULL;
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
static const uint8_t *
rrset_find(const struct zone_rrset *r, const uint8_t *rd, size_t rdlen)
{
	const uint8_t *p = r->data;
	for (uint16_t i = 0; i < r->count; i++) {
		const uint8_t *at = p;
		const uint8_t *x;
		uint16_t xlen;
		p = zone_rdata_next(p, &x, &xlen);
		if (xlen != rdlen) {
			continue;
		}
		if (memcmp(x, rd, rdlen) == 0) {
			return at;
		}
		size_t k = 0;
		while (k < rdlen && lower(x[k]) == lower(rd[k])) {
			k++;
		}
		if (k == rdlen && dns_rdata_cmp(r->type, x, xlen, rd, rdlen) == 0) {
			return at;
		}
	}
	return NULL;
}

static bool
rrset_has(const struct zone_rrset *r, const uint8_t *rd, size_t rdlen)
{
	return rrset_find(r, rd, rdlen) != NULL;
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
	if (type == DNS_TYPE_ANAME) {
		z->has_aname = true;
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

/* Does any live node have n as its parent?  One pass over the nodes: removals are rare. */
static bool
has_child(const struct zone *z, const struct zone_node *n)
{
	size_t len = dns_name_len(n->name);
	struct zone_iter it = { .started = false };
	const struct zone_node *m;
	while ((m = zone_iter_next(z, &it)) != NULL) {
		const uint8_t *p = m->name;
		if (p[0] != 0 && dns_name_len(p) == len + 1 + p[0] &&
		    dns_name_eq(dns_name_parent(p), n->name)) {
			return true;
		}
	}
	return false;
}

static void
node_unlink(struct zone *z, struct zone_node *n)
{
	struct zone_node **link = &z->table[n->hash & (z->table_size - 1)];
	while (*link != NULL && *link != n) {
		link = &(*link)->hnext;
	}
	if (*link == n) {
		*link = n->hnext;
	}
	n->hnext = NULL;
	n->flags = ZONE_NODE_DEAD;
	z->nnodes--;
}

/*
 * A name whose last record is gone must stop existing, or it would answer NODATA instead of
 * NXDOMAIN (RFC 1034 §4.3.2); so would its ancestors that only existed for it.  Empty nodes
 * that still have children stay: they are empty non-terminals (RFC 4592 §2.2.2).
 */
static void
prune(struct zone *z, struct zone_node *n)
{
	while (n != NULL && n != z->apex_node && n->rrsets == NULL && !has_child(z, n)) {
		const uint8_t *parent = dns_name_parent(n->name);
		struct zone_node *p = find_h(z, parent, dns_name_hash(parent, z->seed));
		if (p != NULL && n->name[0] == 1 && n->name[1] == '*') {
			p->flags &= (uint8_t)~ZONE_NODE_WILDCARD;
		}
		node_unlink(z, n);
		n = p;
	}
}

int
zone_remove_rr(struct zone *z, const uint8_t *owner, uint16_t type, const uint8_t *rd,
	       size_t rdlen)
{
	struct zone_node *n = find_h(z, owner, dns_name_hash(owner, z->seed));
	if (n == NULL) {
		return TDNS_ENOENT;
	}
	size_t removed = 0;
	struct zone_rrset **link = &n->rrsets;
	while (*link != NULL) {
		struct zone_rrset *r = *link;
		if (type != 0 && r->type != type) {
			link = &r->next;
			continue;
		}
		if (type == 0 || rd == NULL) {
			removed += r->count;
			*link = r->next;
			continue;
		}
		const uint8_t *at = rrset_find(r, rd, rdlen);
		if (at != NULL) {
			/* Close the gap; the arena keeps the bytes, the rrset just shrinks. */
			size_t off = (size_t)(at - r->data);
			size_t len = 2 + (size_t)tdns_get16(at);
			memmove(r->data + off, r->data + off + len, r->size - off - len);
			r->size -= (uint32_t)len;
			r->count--;
			removed = 1;
			if (r->count == 0) {
				*link = r->next;
			}
		}
		break;
	}
	if (removed == 0) {
		return TDNS_ENOENT;
	}
	z->nrecords -= removed;
	if (n != z->apex_node && zone_node_rrset(n, DNS_TYPE_NS) == NULL) {
		n->flags &= (uint8_t)~ZONE_NODE_DELEG;
	}
	prune(z, n);
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
	struct zone **list; /* the zones in the order added, for zone_set_get */
	size_t list_cap;
	size_t count;
	int max_labels;    /* deepest apex, so longer qname suffixes need no lookup */
	uint64_t seed;
	bool has_aname;    /* some zone has ANAME records */
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
	/* One reference per zone: zones shared with another set live on there. */
	for (size_t i = 0; i < s->count; i++) {
		zone_free(s->list[i]);
	}
	free(s->list);
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
	s->has_aname = s->has_aname || z->has_aname;
	if (s->count == s->list_cap) {
		size_t cap = s->list_cap ? 2 * s->list_cap : 8;
		struct zone **list = realloc(s->list, cap * sizeof(*list));
		if (list == NULL) {
			return TDNS_ENOMEM;
		}
		s->list = list;
		s->list_cap = cap;
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
	s->list[s->count++] = z;
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

bool
zone_set_has_aname(const struct zone_set *s)
{
	return s != NULL && s->has_aname;
}

size_t
zone_set_count(const struct zone_set *s)
{
	return s != NULL ? s->count : 0;
}

const struct zone *
zone_set_get(const struct zone_set *s, size_t i)
{
	return s != NULL && i < s->count ? s->list[i] : NULL;
}

const struct zone *
zone_set_find(const struct zone_set *s, const uint8_t *apex)
{
	if (s == NULL || s->count == 0) {
		return NULL;
	}
	return slot_find(s, apex, dns_name_hash(apex, s->seed))->z;
}
