/* SPDX-License-Identifier: MIT */
/* Region allocator: bump allocation in chunks, freed all at once. */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

struct region_chunk {
	struct region_chunk *next;
	size_t size;
	size_t used;
	_Alignas(16) uint8_t mem[];
};

struct tdns_region {
	struct region_chunk *head; /* current chunk; older chunks follow */
	size_t chunk_size;
};

struct tdns_region *
tdns_region_new(size_t chunk_size)
{
	struct tdns_region *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		return NULL;
	}
	r->chunk_size = chunk_size ? chunk_size : 65536;
	return r;
}

void *
tdns_region_alloc(struct tdns_region *r, size_t size)
{
	size = (size + 15) & ~(size_t)15;
	struct region_chunk *c = r->head;
	if (c == NULL || c->size - c->used < size) {
		/* Oversized requests get a chunk of their own so the big chunk is not wasted. */
		size_t want = size > r->chunk_size ? size : r->chunk_size;
		c = malloc(sizeof(*c) + want);
		if (c == NULL) {
			return NULL;
		}
		c->size = want;
		c->used = 0;
		c->next = r->head;
		r->head = c;
	}
	void *p = c->mem + c->used;
	c->used += size;
	return p;
}

void *
tdns_region_dup(struct tdns_region *r, const void *mem, size_t size)
{
	void *p = tdns_region_alloc(r, size);
	if (p != NULL && size > 0) {
		memcpy(p, mem, size);
	}
	return p;
}

void
tdns_region_reset(struct tdns_region *r)
{
	struct region_chunk *keep = NULL;
	struct region_chunk *c = r->head;
	while (c != NULL) {
		struct region_chunk *next = c->next;
		/* Keep one standard-sized chunk so the steady state allocates nothing. */
		if (keep == NULL && c->size == r->chunk_size) {
			keep = c;
		} else {
			free(c);
		}
		c = next;
	}
	if (keep != NULL) {
		keep->used = 0;
		keep->next = NULL;
	}
	r->head = keep;
}

void
tdns_region_free(struct tdns_region *r)
{
	if (r == NULL) {
		return;
	}
	struct region_chunk *c = r->head;
	while (c != NULL) {
		struct region_chunk *next = c->next;
		free(c);
		c = next;
	}
	free(r);
}
