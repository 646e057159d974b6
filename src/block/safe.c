/* SPDX-License-Identifier: MIT */
/* block safe: the safe-search table (search engine names to their vendors' safe endpoints). */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block/block.h"

/* One name of the table: exact, or a wildcard "*.name" (its subdomains, not itself). */
struct safe_entry {
	uint8_t name[DNS_NAME_MAX];
	uint32_t line;
	uint16_t target;          /* index in targets */
};

struct block_safe {
	atomic_uint refs;
	struct safe_entry *exact, *wild; /* each sorted in canonical order (dns_name_cmp) */
	size_t nexact, nwild;
	uint8_t (*targets)[DNS_NAME_MAX];
	size_t ntargets;
};

/* A table being parsed: the entries in file order, then sorted. */
struct safe_parse {
	struct block_safe *s;
	size_t capexact, capwild, captargets;
};

static int
entry_cmp(const void *a, const void *b)
{
	return dns_name_cmp(((const struct safe_entry *)a)->name,
			    ((const struct safe_entry *)b)->name);
}

static const struct safe_entry *
find(const struct safe_entry *v, size_t n, const uint8_t *name)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = dns_name_cmp(name, v[mid].name);
		if (c == 0) {
			return &v[mid];
		}
		if (c < 0) {
			hi = mid;
		} else {
			lo = mid + 1;
		}
	}
	return NULL;
}

/* Grows *v (of *cap elements of size sz) to hold n + 1; false on out of memory. */
static bool
grow(void *v, size_t *cap, size_t n, size_t sz)
{
	void **p = v;
	if (n < *cap) {
		return true;
	}
	size_t ncap = *cap != 0 ? *cap * 2 : 64;
	void *nv = realloc(*p, ncap * sz);
	if (nv == NULL) {
		return false;
	}
	*p = nv;
	*cap = ncap;
	return true;
}

/* The index of target in the table's endpoints, added when new; -1 on out of memory. */
static int
target_index(struct safe_parse *sp, const uint8_t *target, size_t len)
{
	struct block_safe *s = sp->s;
	for (size_t i = 0; i < s->ntargets; i++) {
		if (dns_name_eq(s->targets[i], target)) {
			return (int)i;
		}
	}
	if (!grow(&s->targets, &sp->captargets, s->ntargets, sizeof(*s->targets))) {
		return -1;
	}
	memcpy(s->targets[s->ntargets], target, len);
	return (int)s->ntargets++;
}

/* The next blank-separated word of line[*pos..len); its length, 0 at the end. */
static size_t
next_word(const char *line, size_t len, size_t *pos, const char **word)
{
	while (*pos < len && (line[*pos] == ' ' || line[*pos] == '\t' || line[*pos] == '\r')) {
		(*pos)++;
	}
	*word = line + *pos;
	size_t start = *pos;
	while (*pos < len && line[*pos] != ' ' && line[*pos] != '\t' && line[*pos] != '\r') {
		(*pos)++;
	}
	return *pos - start;
}

#define LINE_EXPECT "expected \"NAME ENDPOINT\" or \"*.DOMAIN ENDPOINT\""

/* One line (no line ending, comment already cut): TDNS_OK, or TDNS_ECONFIG with why. */
static int
parse_line(struct safe_parse *sp, const char *line, size_t len, uint32_t lineno, char *why,
	   size_t whylen)
{
	size_t pos = 0;
	const char *w1, *w2, *w3;
	size_t l1 = next_word(line, len, &pos, &w1);
	if (l1 == 0) {
		return TDNS_OK;
	}
	size_t l2 = next_word(line, len, &pos, &w2);
	size_t l3 = next_word(line, len, &pos, &w3);
	if (l2 == 0 || l3 != 0) {
		snprintf(why, whylen, "%s; " LINE_EXPECT,
			 l2 == 0 ? "one word" : "more than two words");
		return TDNS_ECONFIG;
	}
	bool wild = l1 >= 2 && w1[0] == '*' && w1[1] == '.';
	struct safe_entry e = { .line = lineno };
	uint8_t target[DNS_NAME_MAX];
	char msg[128];
	int tl;
	const char *pat = wild ? w1 + 2 : w1;
	if (block_parse_name(pat, wild ? l1 - 2 : l1, e.name, msg, sizeof(msg)) < 0) {
		snprintf(why, whylen, "name '%.*s': %s; " LINE_EXPECT, (int)(l1 > 64 ? 64 : l1), w1,
			 msg);
		return TDNS_ECONFIG;
	}
	if ((tl = block_parse_name(w2, l2, target, msg, sizeof(msg))) < 0) {
		snprintf(why, whylen, "endpoint '%.*s': %s; " LINE_EXPECT, (int)(l2 > 64 ? 64 : l2),
			 w2, msg);
		return TDNS_ECONFIG;
	}
	struct block_safe *s = sp->s;
	if (s->nexact + s->nwild >= BLOCK_SAFE_MAX) {
		snprintf(why, whylen, "more than %d names", BLOCK_SAFE_MAX);
		return TDNS_ECONFIG;
	}
	int t = target_index(sp, target, (size_t)tl);
	bool ok = t >= 0 && (wild ? grow(&s->wild, &sp->capwild, s->nwild, sizeof(e))
				  : grow(&s->exact, &sp->capexact, s->nexact, sizeof(e)));
	if (!ok) {
		return TDNS_ENOMEM;
	}
	e.target = (uint16_t)t;
	if (wild) {
		s->wild[s->nwild++] = e;
	} else {
		s->exact[s->nexact++] = e;
	}
	return TDNS_OK;
}

/* After sorting: a name listed twice, or an endpoint the table itself would rewrite (a loop). */
static int
check_table(const char *name, const struct block_safe *s, char *err, size_t errlen)
{
	const struct { const struct safe_entry *v; size_t n; const char *pre; } sets[] = {
		{ s->exact, s->nexact, "" }, { s->wild, s->nwild, "*." },
	};
	for (size_t k = 0; k < 2; k++) {
		for (size_t i = 1; i < sets[k].n; i++) {
			const struct safe_entry *a = &sets[k].v[i - 1], *b = &sets[k].v[i];
			if (dns_name_cmp(a->name, b->name) == 0) {
				char text[DNS_NAME_TEXT_MAX];
				(void)dns_name_to_text(b->name, text, sizeof(text));
				unsigned first = a->line < b->line ? a->line : b->line;
				unsigned again = a->line > b->line ? a->line : b->line;
				snprintf(err, errlen, "%s:%u: %s%s listed again (first at line "
					 "%u); expected each name once", name, again,
					 sets[k].pre, text, first);
				return TDNS_ECONFIG;
			}
		}
	}
	for (size_t i = 0; i < s->ntargets; i++) {
		const uint8_t *t = s->targets[i];
		const struct safe_entry *e = find(s->exact, s->nexact, t);
		for (const uint8_t *p = dns_name_parent(t); e == NULL && p[0] != 0;
		     p = dns_name_parent(p)) {
			e = find(s->wild, s->nwild, p);
		}
		if (e == NULL) {
			continue;
		}
		char text[DNS_NAME_TEXT_MAX];
		(void)dns_name_to_text(t, text, sizeof(text));
		snprintf(err, errlen, "%s:%u: endpoint %s is itself matched by this line; expected "
			 "endpoints outside the names of the table", name, e->line, text);
		return TDNS_ECONFIG;
	}
	return TDNS_OK;
}

int
block_safe_parse(const char *name, const char *text, size_t len, struct block_safe **out,
		 char *err, size_t errlen)
{
	*out = NULL;
	struct safe_parse sp = { .s = calloc(1, sizeof(struct block_safe)) };
	if (sp.s == NULL) {
		snprintf(err, errlen, "out of memory");
		return TDNS_ENOMEM;
	}
	atomic_init(&sp.s->refs, 1);
	int rc = TDNS_OK;
	uint32_t lineno = 0;
	for (size_t pos = 0; pos < len && rc == TDNS_OK;) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl != NULL ? (size_t)(nl - text) : len;
		const char *line = text + pos;
		size_t llen = end - pos;
		const char *hash = memchr(line, '#', llen);
		if (hash != NULL) {
			llen = (size_t)(hash - line);
		}
		lineno++;
		char why[256];
		rc = parse_line(&sp, line, llen, lineno, why, sizeof(why));
		if (rc == TDNS_ECONFIG) {
			snprintf(err, errlen, "%s:%u: %s", name, lineno, why);
		}
		pos = end + 1;
	}
	if (rc == TDNS_OK) {
		/* qsort may not be given NULL, which an empty list is. */
		if (sp.s->nexact > 1) {
			qsort(sp.s->exact, sp.s->nexact, sizeof(*sp.s->exact), entry_cmp);
		}
		if (sp.s->nwild > 1) {
			qsort(sp.s->wild, sp.s->nwild, sizeof(*sp.s->wild), entry_cmp);
		}
		rc = check_table(name, sp.s, err, errlen);
	} else if (rc == TDNS_ENOMEM) {
		snprintf(err, errlen, "%s: out of memory", name);
	}
	if (rc != TDNS_OK) {
		block_safe_unref(sp.s);
		return rc;
	}
	*out = sp.s;
	return TDNS_OK;
}

int
block_safe_load(const char *path, struct block_safe **out, char *err, size_t errlen)
{
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		snprintf(err, errlen, "safe-search file %s: %s", path, strerror(errno));
		return TDNS_EIO;
	}
	/* A table is a few hundred lines; a bound keeps a wrong file from eating memory. */
	char *text = malloc(BLOCK_SAFE_FILE_MAX + 1);
	size_t len = text != NULL ? fread(text, 1, BLOCK_SAFE_FILE_MAX + 1, f) : 0;
	int rc = TDNS_OK;
	if (text == NULL) {
		snprintf(err, errlen, "out of memory");
		rc = TDNS_ENOMEM;
	} else if (ferror(f)) {
		snprintf(err, errlen, "safe-search file %s: %s", path, strerror(errno));
		rc = TDNS_EIO;
	} else if (len > BLOCK_SAFE_FILE_MAX) {
		snprintf(err, errlen, "safe-search file %s: larger than %d octets; expected a "
			 "table of names", path, BLOCK_SAFE_FILE_MAX);
		rc = TDNS_ECONFIG;
	}
	fclose(f);
	if (rc == TDNS_OK) {
		rc = block_safe_parse(path, text, len, out, err, errlen);
	}
	free(text);
	return rc;
}

struct block_safe *
block_safe_ref(struct block_safe *s)
{
	atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
	return s;
}

void
block_safe_unref(struct block_safe *s)
{
	if (s == NULL || atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1) {
		return;
	}
	free(s->exact);
	free(s->wild);
	free(s->targets);
	free(s);
}

size_t
block_safe_count(const struct block_safe *s)
{
	return s->nexact + s->nwild;
}

const uint8_t *
block_safe_lookup(const struct block_safe *s, const uint8_t *qname, unsigned *line)
{
	const struct safe_entry *e = find(s->exact, s->nexact, qname);
	/* A wildcard covers names below its domain: the most specific one wins. */
	for (const uint8_t *p = dns_name_parent(qname); e == NULL && s->nwild > 0 && p[0] != 0;
	     p = dns_name_parent(p)) {
		e = find(s->wild, s->nwild, p);
	}
	if (e == NULL) {
		return NULL;
	}
	if (line != NULL) {
		*line = e->line;
	}
	return s->targets[e->target];
}
