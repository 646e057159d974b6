/* SPDX-License-Identifier: MIT */
/* The IXFR journal (RFC 1995): each change of a zone as the records it deleted and added. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zone/zone_int.h"

#define JNL_MAGIC "TDNSJNL1"
#define JNL_HDR 12 /* from, to, length of one entry on disk */

static struct zone_diff *
diff_new(uint32_t from, uint32_t to, const uint8_t *data, size_t len)
{
	struct zone_diff *d = malloc(sizeof(*d) + len);
	if (d == NULL) {
		return NULL;
	}
	d->refs = 1;
	d->from = from;
	d->to = to;
	d->len = len;
	memcpy(d->data, data, len);
	return d;
}

/* A new journal: the newest diffs of old (shared) that fit in limit with d, then d. */
static struct zone_journal *
journal_with(const struct zone_journal *old, struct zone_diff *d, size_t limit)
{
	struct zone_journal *j = tdns_xcalloc(1, sizeof(*j));
	j->refs = 1;
	size_t n = old != NULL ? old->n : 0, first = n, bytes = d->len;
	while (first > 0 && bytes + old->diffs[first - 1]->len <= limit) {
		bytes += old->diffs[--first]->len;
	}
	j->diffs = tdns_xcalloc(n - first + 1, sizeof(*j->diffs));
	for (size_t i = first; i < n; i++) {
		__atomic_add_fetch(&old->diffs[i]->refs, 1, __ATOMIC_ACQ_REL);
		j->diffs[j->n++] = old->diffs[i];
	}
	j->diffs[j->n++] = d;
	j->bytes = bytes;
	return j;
}

/* ------------------------------------------------------------------------------------------ */
/* Computing a difference                                                                       */

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void
put_rr(struct buf *b, const uint8_t *owner, uint16_t type, uint32_t ttl, const uint8_t *rd,
       uint16_t rdlen)
{
	size_t nl = dns_name_len(owner);
	size_t need = nl + 8 + rdlen;
	if (b->len + need > b->cap) {
		b->cap = (b->len + need) * 2;
		b->p = tdns_xrealloc(b->p, b->cap);
	}
	uint8_t *w = b->p + b->len;
	memcpy(w, owner, nl);
	tdns_put16(w + nl, type);
	tdns_put32(w + nl + 2, ttl);
	tdns_put16(w + nl + 6, rdlen);
	memcpy(w + nl + 8, rd, rdlen);
	b->len += need;
}

/* True when rrset r holds rdata rd with the TTL ttl. */
static bool
has_rdata(const struct zone_rrset *r, uint32_t ttl, const uint8_t *rd, uint16_t rdlen)
{
	if (r == NULL || r->ttl != ttl) {
		return false;
	}
	const uint8_t *p = r->data;
	for (uint16_t i = 0; i < r->count; i++) {
		const uint8_t *x;
		uint16_t xlen;
		p = zone_rdata_next(p, &x, &xlen);
		if (xlen == rdlen && memcmp(x, rd, rdlen) == 0) {
			return true;
		}
	}
	return false;
}

/* Appends every record of a (SOA left out) that b lacks; returns how many. */
static size_t
missing(const struct zone *a, const struct zone *b, struct buf *out)
{
	size_t n = 0;
	struct zone_iter it = { .started = false };
	const struct zone_node *node;
	while ((node = zone_iter_next(a, &it)) != NULL) {
		const struct zone_node *other = zone_find(b, node->name);
		for (const struct zone_rrset *r = node->rrsets; r != NULL; r = r->next) {
			if (r->type == DNS_TYPE_SOA && node == a->apex_node) {
				continue;
			}
			const struct zone_rrset *o = other != NULL ? zone_node_rrset(other, r->type) :
						     NULL;
			const uint8_t *p = r->data;
			for (uint16_t i = 0; i < r->count; i++) {
				const uint8_t *rd;
				uint16_t rdlen;
				p = zone_rdata_next(p, &rd, &rdlen);
				if (!has_rdata(o, r->ttl, rd, rdlen)) {
					put_rr(out, node->name, r->type, r->ttl, rd, rdlen);
					n++;
				}
			}
		}
	}
	return n;
}

static void
put_soa(const struct zone *z, struct buf *b)
{
	const struct zone_rrset *soa = zone_node_rrset(z->apex_node, DNS_TYPE_SOA);
	const uint8_t *rd;
	uint16_t rdlen;
	zone_rdata_next(soa->data, &rd, &rdlen);
	put_rr(b, z->apex_node->name, DNS_TYPE_SOA, soa->ttl, rd, rdlen);
}

/*
 * The difference from old to new in IXFR order (RFC 1995 §4): old SOA, deleted records, new
 * SOA, added records (*changes counts both).  NULL when out of memory.
 */
static struct zone_diff *
diff_zones(const struct zone *old, const struct zone *new, size_t *changes)
{
	struct buf b = { 0 };
	put_soa(old, &b);
	size_t n = missing(old, new, &b);
	put_soa(new, &b);
	n += missing(new, old, &b);
	*changes = n;
	struct zone_diff *d = diff_new(old->serial, new->serial, b.p, b.len);
	free(b.p);
	return d;
}

/* ------------------------------------------------------------------------------------------ */
/* The file: state-dir/NAME.jnl, a magic line then entries (from, to, length, records).         */

static char *
journal_path(const char *state_dir, const struct zone *z)
{
	char name[DNS_NAME_TEXT_MAX];
	if (dns_name_to_text(z->apex, name, sizeof(name)) < 0) {
		return NULL;
	}
	for (char *c = name; *c != '\0'; c++) {
		*c = (char)tolower((unsigned char)*c);
	}
	size_t n = strlen(name);
	if (n > 1 && name[n - 1] == '.') {
		name[n - 1] = '\0';
	}
	for (char *c = name; *c != '\0'; c++) {
		if (*c == '/') {
			*c = '_';
		}
	}
	size_t len = strlen(state_dir) + strlen(name) + 8;
	char *path = tdns_xmalloc(len);
	snprintf(path, len, "%s/%s.jnl", state_dir, strcmp(name, ".") == 0 ? "root" : name);
	return path;
}

static bool
write_entry(int fd, const struct zone_diff *d)
{
	uint8_t hdr[JNL_HDR];
	tdns_put32(hdr, d->from);
	tdns_put32(hdr + 4, d->to);
	tdns_put32(hdr + 8, (uint32_t)d->len);
	return tdns_write_all(fd, hdr, sizeof(hdr)) && tdns_write_all(fd, d->data, d->len);
}

/* Writes the whole journal j (NULL: empty) to path durably (tdns_file_replace). */
static int
rewrite(const char *path, const struct zone_journal *j)
{
	size_t len = 8;
	for (size_t i = 0; j != NULL && i < j->n; i++) {
		len += JNL_HDR + j->diffs[i]->len;
	}
	uint8_t *buf = tdns_xmalloc(len), *w = buf + 8;
	memcpy(buf, JNL_MAGIC, 8);
	for (size_t i = 0; j != NULL && i < j->n; i++) {
		const struct zone_diff *d = j->diffs[i];
		tdns_put32(w, d->from);
		tdns_put32(w + 4, d->to);
		tdns_put32(w + 8, (uint32_t)d->len);
		memcpy(w + JNL_HDR, d->data, d->len);
		w += JNL_HDR + d->len;
	}
	int rc = tdns_file_replace(path, buf, len, 0640);
	free(buf);
	return rc;
}

/* Appends d to path (created with the magic when missing) and fsyncs it. */
static int
append(const char *path, const struct zone_diff *d)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		if (rewrite(path, NULL) != TDNS_OK) {
			return TDNS_EIO;
		}
		fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	}
	if (fd < 0) {
		return TDNS_EIO;
	}
	bool ok = write_entry(fd, d) && fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	return ok ? TDNS_OK : TDNS_EIO;
}

/* The journal of path whose last change ends at serial; NULL when none reaches it. */
static struct zone_journal *
load(const char *path, uint32_t serial, size_t limit)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		return NULL;
	}
	char magic[8];
	struct zone_journal *j = NULL;
	if (fread(magic, 1, 8, f) != 8 || memcmp(magic, JNL_MAGIC, 8) != 0) {
		fclose(f);
		tdns_warn("%s: not a journal of tdnsd; IXFR falls back to AXFR", path);
		return NULL;
	}
	uint8_t hdr[JNL_HDR];
	while (fread(hdr, 1, sizeof(hdr), f) == sizeof(hdr)) {
		size_t len = tdns_get32(hdr + 8);
		if (len > 64u * 1024 * 1024) {
			break;
		}
		uint8_t *data = malloc(len);
		if (data == NULL || fread(data, 1, len, f) != len) {
			free(data);
			break; /* a torn last entry: the change was never acknowledged */
		}
		struct zone_diff *d = diff_new(tdns_get32(hdr), tdns_get32(hdr + 4), data, len);
		free(data);
		if (d == NULL) {
			break;
		}
		if (j != NULL && j->diffs[j->n - 1]->to != d->from) {
			zone_journal_unref(j); /* a gap: only what follows it is a chain */
			j = NULL;
		}
		struct zone_journal *nj = journal_with(j, d, limit);
		zone_journal_unref(j);
		j = nj;
	}
	fclose(f);
	if (j != NULL && j->diffs[j->n - 1]->to != serial) {
		/* The zone file was changed behind our back: the journal no longer leads to it. */
		zone_journal_unref(j);
		j = NULL;
	}
	return j;
}

/* ------------------------------------------------------------------------------------------ */

/* The journal-size of the zone at apex in c, or the default. */
static size_t
limit_of(const struct cfg *c, const uint8_t *apex)
{
	for (size_t i = 0; i < c->nzones; i++) {
		if (dns_name_eq(c->zones[i].apex, apex)) {
			return (size_t)c->zones[i].journal_size;
		}
	}
	return ZONE_JOURNAL_LIMIT;
}

void
zone_journal_update(const struct cfg *c, const struct zone_set *old, const struct zone_set *set)
{
	const char *state_dir = c->state_dir;
	for (size_t i = 0; state_dir != NULL && set != NULL && i < zone_set_count(set); i++) {
		struct zone *z = (struct zone *)zone_set_get(set, i);
		size_t limit = limit_of(c, z->apex);
		const struct zone *o = old != NULL ? zone_set_find(old, z->apex) : NULL;
		if (o != NULL && zone_node_rrset(o->apex_node, DNS_TYPE_SOA) == NULL) {
			/* A secondary zone's placeholder (never transferred or expired): no history. */
			o = NULL;
		}
		if (z->forwarder || o == z || z->journal != NULL ||
		    zone_node_rrset(z->apex_node, DNS_TYPE_SOA) == NULL) {
			continue;
		}
		char *path = journal_path(state_dir, z);
		if (path == NULL) {
			continue;
		}
		char label[DNS_NAME_TEXT_MAX];
		snprintf(label, sizeof(label), "%s", z->name);
		if (o == NULL) {
			/* Start, or a zone added: the journal on disk, if it leads to this serial. */
			z->journal = load(path, z->serial, limit);
			free(path);
			continue;
		}
		size_t changes = 0;
		struct zone_diff *d = diff_zones(o, z, &changes);
		if (d == NULL) {
			free(path);
			continue;
		}
		if (changes == 0 && o->serial == z->serial) {
			/* The same data again (a reload of an unchanged file): the same history. */
			zone_diff_unref(d);
			z->journal = zone_journal_ref(o->journal);
			free(path);
			continue;
		}
		/* RFC 1982: newer when the difference is below 2^31. */
		if (z->serial == o->serial || (uint32_t)(z->serial - o->serial) >= 0x80000000u) {
			/* RFC 1995 needs a newer serial; this history ends here (AXFR from now). */
			tdns_warn("zone %s: changed without a newer serial (%u to %u); IXFR falls "
				  "back to AXFR until the next change", label, o->serial, z->serial);
			zone_diff_unref(d);
			(void)rewrite(path, NULL);
			free(path);
			continue;
		}
		struct zone_journal *j = journal_with(o->journal, d, limit);
		/* A file that does not end at the old serial, or entries dropped: write it anew. */
		bool compact = o->journal == NULL || j->n < o->journal->n + 1;
		int rc = compact ? rewrite(path, j) : append(path, d);
		if (rc != TDNS_OK) {
			tdns_err("zone %s: journal %s: %s; IXFR falls back to AXFR", label, path,
				 strerror(errno));
			zone_journal_unref(j);
			j = NULL;
		}
		z->journal = j;
		free(path);
	}
}
