/* SPDX-License-Identifier: MIT */
/* block table: the fingerprint hash set of block and allow names, its builder and lookup. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "block/block.h"

/* One slot; fp 0 is an empty slot.  16 octets, so a probe touches one cache line. */
struct slot {
	uint64_t fp;
	uint32_t line;
	uint16_t list;
	uint16_t pad;
};

struct block_table {
	atomic_uint refs;
	uint8_t key[DNS_SIPHASH_KEY_LEN];
	struct slot *slots;
	size_t cap;
	size_t nblock, nallow;
	struct block_list_info *lists;
	size_t nlists;
};

struct block_build {
	uint8_t key[DNS_SIPHASH_KEY_LEN];
	struct slot *v;           /* every name in list order, duplicates included */
	size_t n, cap;
	struct block_list_info *lists;
	size_t nlists, listcap;
	/* The line being parsed, for the callback. */
	uint32_t line;
	bool allow_all;
	bool oom;
};

/* The fingerprint of a name of hash h: lowest bit 1 for a block entry, 0 for an allow entry. */
static uint64_t
fingerprint(uint64_t h, bool allow)
{
	if (allow) {
		h &= ~(uint64_t)1;
		return h != 0 ? h : 2;
	}
	return h | 1;
}

/* Lemire's multiply-shift: h onto [0, cap) without a division. */
static size_t
home(uint64_t fp, size_t cap)
{
	return (size_t)(((unsigned __int128)fp * cap) >> 64);
}

struct block_build *
block_build_new(void)
{
	struct block_build *b = calloc(1, sizeof(*b));
	if (b != NULL) {
		dns_siphash_key_new(b->key);
	}
	return b;
}

static void
free_lists(struct block_list_info *lists, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(lists[i].name);
		free(lists[i].error);
	}
	free(lists);
}

void
block_build_free(struct block_build *b)
{
	if (b == NULL) {
		return;
	}
	free(b->v);
	free_lists(b->lists, b->nlists);
	free(b);
}

static void
add_name(void *arg, const uint8_t *name, size_t len, bool allow)
{
	(void)len;
	struct block_build *b = arg;
	if (b->n == b->cap) {
		size_t ncap = b->cap != 0 ? b->cap * 2 : 4096;
		struct slot *nv = realloc(b->v, ncap * sizeof(*nv));
		if (nv == NULL) {
			b->oom = true;
			return;
		}
		b->v = nv;
		b->cap = ncap;
	}
	struct block_list_info *li = &b->lists[b->nlists - 1];
	b->v[b->n++] = (struct slot){
		.fp = fingerprint(dns_name_siphash(name, b->key), allow || b->allow_all),
		.line = b->line,
		.list = (uint16_t)(b->nlists - 1),
	};
	li->names++;
}

static struct block_list_info *
new_list(struct block_build *b, const char *name, bool allow)
{
	if (b->nlists >= BLOCK_MAX_LISTS) {
		return NULL;
	}
	if (b->nlists == b->listcap) {
		size_t ncap = b->listcap != 0 ? b->listcap * 2 : 8;
		struct block_list_info *nl = realloc(b->lists, ncap * sizeof(*nl));
		if (nl == NULL) {
			return NULL;
		}
		b->lists = nl;
		b->listcap = ncap;
	}
	char *copy = strdup(name);
	if (copy == NULL) {
		return NULL;
	}
	struct block_list_info *li = &b->lists[b->nlists++];
	*li = (struct block_list_info){ .name = copy, .allow = allow, .status = TDNS_OK,
					.loaded = (int64_t)time(NULL) };
	return li;
}

/* Parses text into the last list, b->allow_all set by the caller. */
static void
parse_text(struct block_build *b, struct block_list_info *li, const char *text, size_t len)
{
	size_t pos = 0;
	b->line = 0;
	while (pos < len && !b->oom) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl != NULL ? (size_t)(nl - text) : len;
		b->line++;
		char why[160];
		if (block_parse_line(text + pos, end - pos, add_name, b, why, sizeof(why)) < 0) {
			if (li->malformed++ < BLOCK_LOG_MALFORMED) {
				tdns_warn("%s:%u: %s; line skipped", li->name, b->line, why);
			}
		}
		pos = end + 1;
	}
	if (li->malformed > BLOCK_LOG_MALFORMED) {
		tdns_warn("%s: %zu malformed lines skipped in all", li->name, li->malformed);
	}
}

int
block_build_add_text(struct block_build *b, const char *name, const char *text, size_t len,
		     bool allow)
{
	struct block_list_info *li = new_list(b, name, allow);
	if (li == NULL) {
		return b->nlists >= BLOCK_MAX_LISTS ? TDNS_ERANGE : TDNS_ENOMEM;
	}
	b->allow_all = allow;
	parse_text(b, li, text, len);
	return b->oom ? TDNS_ENOMEM : TDNS_OK;
}

int
block_build_add_file(struct block_build *b, const char *path, bool allow)
{
	return block_build_add_named_file(b, path, path, allow);
}

int
block_build_add_named_file(struct block_build *b, const char *name, const char *path,
			   bool allow)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	size_t len = 0;
	int err = 0;
	if (f != NULL) {
		/* One read of the whole file: lists are text of a few tens of megabytes at most. */
		if (fseek(f, 0, SEEK_END) == 0) {
			long sz = ftell(f);
			rewind(f);
			text = sz >= 0 ? malloc((size_t)sz + 1) : NULL;
			if (text != NULL) {
				len = fread(text, 1, (size_t)sz, f);
				err = ferror(f) ? errno : 0;
			} else {
				err = sz >= 0 ? ENOMEM : errno;
			}
		} else {
			err = errno;
		}
		fclose(f);
	} else {
		err = errno;
	}
	if (err != 0) {
		free(text);
		if (err == ENOMEM) {
			return TDNS_ENOMEM;
		}
		struct block_list_info *li = new_list(b, name, allow);
		if (li == NULL) {
			return b->nlists >= BLOCK_MAX_LISTS ? TDNS_ERANGE : TDNS_ENOMEM;
		}
		li->status = TDNS_EIO;
		li->loaded = 0;
		li->error = strdup(strerror(err));
		if (strcmp(name, path) == 0) {
			tdns_err("block list %s: %s; not used", path, strerror(err));
		} else {
			tdns_err("block list %s: no copy in %s (%s); not used until it downloads",
				 name, path, strerror(err));
		}
		return TDNS_OK;
	}
	int rc = block_build_add_text(b, name, text, len, allow);
	free(text);
	return rc;
}

int
block_build_finish(struct block_build *b, struct block_table **out)
{
	*out = NULL;
	if (b->oom) {
		block_build_free(b);
		return TDNS_ENOMEM;
	}
	struct block_table *t = calloc(1, sizeof(*t));
	/* Load factor at most 3/4: about 1.4 probes for a hit, 2.5 for a miss (Knuth). */
	size_t cap = b->n + b->n / 3 + 1;
	struct slot *slots = t != NULL ? calloc(cap, sizeof(*slots)) : NULL;
	if (slots == NULL) {
		free(t);
		block_build_free(b);
		return TDNS_ENOMEM;
	}
	atomic_init(&t->refs, 1);
	memcpy(t->key, b->key, sizeof(t->key));
	t->slots = slots;
	t->cap = cap;
	for (size_t i = 0; i < b->n; i++) {
		const struct slot *s = &b->v[i];
		size_t h = home(s->fp, cap);
		while (slots[h].fp != 0 && slots[h].fp != s->fp) {
			h = h + 1 < cap ? h + 1 : 0;
		}
		if (slots[h].fp == 0) {
			/* The first list and line that named it is the one reported. */
			slots[h] = *s;
			if (s->fp & 1) {
				t->nblock++;
			} else {
				t->nallow++;
			}
		}
	}
	t->lists = b->lists;
	t->nlists = b->nlists;
	b->lists = NULL;
	b->nlists = 0;
	block_build_free(b);
	*out = t;
	return TDNS_OK;
}

struct block_table *
block_table_ref(struct block_table *t)
{
	atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
	return t;
}

void
block_table_unref(struct block_table *t)
{
	if (t == NULL || atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) != 1) {
		return;
	}
	free(t->slots);
	free_lists(t->lists, t->nlists);
	free(t);
}

size_t
block_table_count(const struct block_table *t, bool allow)
{
	return allow ? t->nallow : t->nblock;
}

const struct block_list_info *
block_table_lists(const struct block_table *t, size_t *n)
{
	*n = t->nlists;
	return t->lists;
}

static const struct slot *
find(const struct block_table *t, uint64_t fp)
{
	if (t->cap == 0) {
		return NULL;
	}
	size_t h = home(fp, t->cap);
	while (t->slots[h].fp != 0) {
		if (t->slots[h].fp == fp) {
			return &t->slots[h];
		}
		h = h + 1 < t->cap ? h + 1 : 0;
	}
	return NULL;
}

enum block_verdict
block_lookup(const struct block_table *const *tables, size_t ntables, const uint8_t *qname,
	     struct block_hit *hit)
{
	const struct slot *blocked = NULL;
	const struct block_table *bt = NULL;
	size_t boff = 0;
	/* From the name itself up to its TLD (the root is no entry). */
	for (const uint8_t *s = qname; s[0] != 0; s = dns_name_parent(s)) {
		for (size_t i = 0; i < ntables; i++) {
			const struct block_table *t = tables[i];
			if (t == NULL || t->cap == 0) {
				continue;
			}
			uint64_t h = dns_name_siphash(s, t->key);
			const struct slot *a = t->nallow > 0 ? find(t, fingerprint(h, true)) : NULL;
			if (a != NULL) {
				if (hit != NULL) {
					*hit = (struct block_hit){ t->lists[a->list].name, a->line,
								   (size_t)(s - qname) };
				}
				return BLOCK_ALLOWED;
			}
			const struct slot *b = blocked == NULL && t->nblock > 0
					       ? find(t, fingerprint(h, false)) : NULL;
			if (b != NULL) {
				blocked = b;
				bt = t;
				boff = (size_t)(s - qname);
			}
		}
	}
	if (blocked == NULL) {
		return BLOCK_NONE;
	}
	if (hit != NULL) {
		*hit = (struct block_hit){ bt->lists[blocked->list].name, blocked->line, boff };
	}
	return BLOCK_BLOCKED;
}
