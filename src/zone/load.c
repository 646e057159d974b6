/* SPDX-License-Identifier: MIT */
/* Zone loading from files, consistency checks, and canonical zone-file writing. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "zone/zone_int.h"

/* Default TTL until $TTL or the SOA says otherwise (RFC 2308 §4 leaves it to the reader). */
#define LOAD_DEFAULT_TTL 3600

/* ------------------------------------------------------------------------------------------ */
/* Checks                                                                                      */

static int
node_cmp(const void *a, const void *b)
{
	const struct zone_node *x = *(const struct zone_node *const *)a;
	const struct zone_node *y = *(const struct zone_node *const *)b;
	return dns_name_cmp(x->name, y->name);
}

struct check {
	struct zone *z;
	zone_problem_cb cb;
	void *ctx;
	int first;      /* status of the first problem */
	bool dry;       /* only note that a problem exists (in hit) */
	bool hit;
};

static void
problem(struct check *c, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
problem(struct check *c, int status, const char *fmt, ...)
{
	c->hit = true;
	if (c->dry) {
		return;
	}
	if (c->first == TDNS_OK) {
		c->first = status;
	}
	if (c->cb == NULL) {
		return;
	}
	char msg[DNS_NAME_TEXT_MAX * 2 + 128];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->cb(c->ctx, status, msg);
}

static const char *
name_text(const uint8_t *name, char *buf)
{
	if (dns_name_to_text(name, buf, DNS_NAME_TEXT_MAX) < 0) {
		strcpy(buf, "?");
	}
	return buf;
}

/* Is name at or below a zone cut of z (a node with ZONE_NODE_DELEG up to, not incl., apex)? */
static bool
below_cut(const struct zone *z, const uint8_t *name)
{
	int depth = dns_name_labels(name) - dns_name_labels(z->apex);
	for (; depth > 0; depth--, name = dns_name_parent(name)) {
		const struct zone_node *n = zone_find(z, name);
		if (n != NULL && (n->flags & ZONE_NODE_DELEG)) {
			return true;
		}
	}
	return false;
}

/* RFC 1034 §4.2.1: an in-zone name server inside a delegation is reachable only with glue. */
static void
check_glue(struct check *c, const struct zone_node *n, const struct zone_rrset *ns)
{
	const uint8_t *p = ns->data;
	for (uint16_t i = 0; i < ns->count; i++) {
		const uint8_t *rd;
		uint16_t rdlen;
		p = zone_rdata_next(p, &rd, &rdlen);
		if (dns_name_check(rd, rdlen) < 0 || !dns_name_is_sub(rd, c->z->apex) ||
		    !below_cut(c->z, rd)) {
			continue;
		}
		const struct zone_node *t = zone_find(c->z, rd);
		if (t != NULL && (zone_node_rrset(t, DNS_TYPE_A) != NULL ||
				  zone_node_rrset(t, DNS_TYPE_AAAA) != NULL)) {
			continue;
		}
		char a[DNS_NAME_TEXT_MAX], b[DNS_NAME_TEXT_MAX];
		problem(c, TDNS_ENOGLUE, "NS %s of %s has no glue address record (A or AAAA)",
			name_text(rd, a), name_text(n->name, b));
	}
}

static bool
cname_compatible(uint16_t type)
{
	/* RFC 1034 §3.6.2, RFC 4035 §2.5: only DNSSEC records may share a CNAME's owner. */
	return type == DNS_TYPE_CNAME || type == DNS_TYPE_RRSIG || type == DNS_TYPE_NSEC;
}

static void
check_node(struct check *c, struct zone_node *n)
{
	char a[DNS_NAME_TEXT_MAX];
	const struct zone_rrset *cname = zone_node_rrset(n, DNS_TYPE_CNAME);
	if (cname != NULL) {
		for (const struct zone_rrset *r = n->rrsets; r != NULL; r = r->next) {
			if (!cname_compatible(r->type)) {
				char t[16];
				problem(c, TDNS_ECNAME, "%s has a CNAME and other data (%s)",
					name_text(n->name, a), dns_type_to_text(r->type, t));
				break;
			}
		}
		if (cname->count > 1) {
			problem(c, TDNS_ECNAME, "%s has more than one CNAME record",
				name_text(n->name, a));
		}
	}
	const struct zone_rrset *dname = zone_node_rrset(n, DNS_TYPE_DNAME);
	if (dname != NULL && dname->count > 1) {
		/* RFC 6672 §2.4: like CNAME, a DNAME rrset is a singleton. */
		problem(c, TDNS_EINVAL, "%s has more than one DNAME record", name_text(n->name, a));
	}
	if (!zone_node_is_apex(c->z, n) && zone_node_rrset(n, DNS_TYPE_SOA) != NULL) {
		problem(c, TDNS_EMULTISOA, "SOA record at %s, not at the zone apex",
			name_text(n->name, a));
	}
	const struct zone_rrset *ns = zone_node_rrset(n, DNS_TYPE_NS);
	if (ns != NULL) {
		check_glue(c, n, ns);
	}
}

int
zone_check(struct zone *z, zone_problem_cb cb, void *ctx)
{
	struct check c = { .z = z, .cb = cb, .ctx = ctx, .first = TDNS_OK };

	/* Flags first: the glue check needs every cut marked. */
	struct zone_iter it = { .started = false };
	struct zone_node *n;
	while ((n = zone_iter_next(z, &it)) != NULL) {
		n->flags = 0;
	}
	it = (struct zone_iter){ .started = false };
	while ((n = zone_iter_next(z, &it)) != NULL) {
		if (!zone_node_is_apex(z, n) && zone_node_rrset(n, DNS_TYPE_NS) != NULL) {
			n->flags |= ZONE_NODE_DELEG;
		}
		if (n->name[0] == 1 && n->name[1] == '*' && !zone_node_is_apex(z, n)) {
			/* Every ancestor exists, so the parent node is there to mark. */
			const uint8_t *parent = dns_name_parent(n->name);
			struct zone_node *p = (struct zone_node *)zone_find(z, parent);
			if (p != NULL) {
				p->flags |= ZONE_NODE_WILDCARD;
			}
		}
	}

	const struct zone_rrset *soa = zone_node_rrset(z->apex_node, DNS_TYPE_SOA);
	if (soa == NULL) {
		problem(&c, TDNS_ENOSOA, "no SOA record at the zone apex");
	} else if (soa->count > 1) {
		/* RFC 1035 §5.2: exactly one SOA, at the top of the zone. */
		problem(&c, TDNS_EMULTISOA, "more than one SOA record at the zone apex");
	} else {
		const uint8_t *rd;
		uint16_t rdlen;
		zone_rdata_next(soa->data, &rd, &rdlen);
		z->serial = zone_soa_serial(rd, rdlen);
	}
	if (zone_node_rrset(z->apex_node, DNS_TYPE_NS) == NULL) {
		problem(&c, TDNS_ENOAPEXNS, "no NS records at the zone apex");
	}
	/*
	 * Find the nodes with problems in table order, then report them in canonical order so
	 * the messages are stable; sorting every node would cost more than the whole check.
	 */
	const struct zone_node **bad = NULL;
	size_t nbad = 0, cap = 0;
	c.dry = true;
	it = (struct zone_iter){ .started = false };
	while ((n = zone_iter_next(z, &it)) != NULL) {
		c.hit = false;
		check_node(&c, n);
		if (!c.hit) {
			continue;
		}
		if (nbad == cap) {
			cap = cap ? 2 * cap : 16;
			const struct zone_node **more = realloc(bad, cap * sizeof(*bad));
			if (more == NULL) {
				free(bad);
				return TDNS_ENOMEM;
			}
			bad = more;
		}
		bad[nbad++] = n;
	}
	c.dry = false;
	if (nbad > 1) {
		qsort(bad, nbad, sizeof(*bad), node_cmp);
	}
	for (size_t i = 0; i < nbad; i++) {
		check_node(&c, (struct zone_node *)bad[i]);
	}
	free(bad);
	return c.first;
}

/* ------------------------------------------------------------------------------------------ */
/* Loading                                                                                     */

struct load {
	struct zone *z;
	char msg[DNS_NAME_TEXT_MAX * 2 + 128];
};

static int
load_rr(void *ctx, const struct dns_zf_rr *rr)
{
	struct load *l = ctx;
	char a[DNS_NAME_TEXT_MAX], t[16];
	if (rr->rclass != DNS_CLASS_IN) {
		snprintf(l->msg, sizeof(l->msg), "record '%s' has class %s; only IN is served",
			 name_text(rr->owner, a), dns_class_to_text(rr->rclass, t));
		return TDNS_EINVAL;
	}
	int rc = zone_add_rr(l->z, rr->owner, rr->type, rr->ttl, rr->rdata, rr->rdlen);
	switch (rc) {
	case TDNS_OK:
		break;
	case TDNS_EOUTOFZONE:
		snprintf(l->msg, sizeof(l->msg), "record '%s' is outside zone %s",
			 name_text(rr->owner, a), l->z->name);
		break;
	case TDNS_EINVAL:
		snprintf(l->msg, sizeof(l->msg), "type %s cannot appear in zone data",
			 dns_type_to_text(rr->type, t));
		break;
	case TDNS_ERANGE:
		snprintf(l->msg, sizeof(l->msg), "too many %s records at '%s'",
			 dns_type_to_text(rr->type, t), name_text(rr->owner, a));
		break;
	default:
		snprintf(l->msg, sizeof(l->msg), "%s", tdns_status_msg(rc));
		break;
	}
	return rc;
}

struct first_problem {
	char *msg;
	size_t cap;
	bool set;
};

static void
keep_first(void *ctx, int status, const char *msg)
{
	struct first_problem *f = ctx;
	(void)status;
	if (!f->set) {
		snprintf(f->msg, f->cap, "%s", msg);
		f->set = true;
	}
}

int
zone_check_msg(struct zone *z, char *msg, size_t cap)
{
	struct first_problem f = { .msg = msg, .cap = cap, .set = false };
	int rc = zone_check(z, keep_first, &f);
	if (rc != TDNS_OK && !f.set) {
		snprintf(msg, cap, "%s", tdns_status_msg(rc));
	}
	return rc;
}

/* Reads from path, or from text when text is not NULL (path then names it in messages). */
static int
load_any(const uint8_t *apex, const char *path, const char *text, size_t textlen,
	 struct zone **out, char *err, size_t errlen)
{
	*out = NULL;
	if (errlen > 0) {
		err[0] = '\0';
	}
	struct load l = { .z = zone_new(apex) };
	if (l.z == NULL || (text == NULL && (l.z->file = strdup(path)) == NULL)) {
		zone_free(l.z);
		snprintf(err, errlen, "%s: %s", path, tdns_status_msg(TDNS_ENOMEM));
		return TDNS_ENOMEM;
	}
	struct dns_zf_error ze;
	memset(&ze, 0, sizeof(ze));
	int rc = text != NULL ? dns_zonefile_read_mem(text, textlen, path, apex, LOAD_DEFAULT_TTL,
						      load_rr, &l, &ze)
			      : dns_zonefile_read(path, apex, LOAD_DEFAULT_TTL, load_rr, &l, &ze);
	if (rc != TDNS_OK) {
		/* The reader's message is complete ("file:line: ..."); ours needs its place. */
		if (l.msg[0] != '\0') {
			snprintf(err, errlen, "%s:%u: %s", ze.file[0] ? ze.file : path, ze.line,
				 l.msg);
		} else {
			snprintf(err, errlen, "%s", ze.msg);
		}
		zone_free(l.z);
		return rc;
	}
	char problem[DNS_NAME_TEXT_MAX * 2 + 128];
	rc = zone_check_msg(l.z, problem, sizeof(problem));
	if (rc != TDNS_OK) {
		snprintf(err, errlen, "zone %s: %s", l.z->name, problem);
		zone_free(l.z);
		return rc;
	}
	/* For a local root zone's expiry (issue 5, RFC 8806): when its data was read. */
	l.z->loaded = time(NULL);
	*out = l.z;
	return TDNS_OK;
}

int
zone_load(const uint8_t *apex, const char *path, struct zone **out, char *err, size_t errlen)
{
	return load_any(apex, path, NULL, 0, out, err, errlen);
}

int
zone_load_forwarder(const uint8_t *apex, const char *path, struct zone **out, char *err,
		    size_t errlen)
{
	int rc = zone_load(apex, path, out, err, errlen);
	if (rc == TDNS_EIO) {
		return rc;
	}
	if (rc != TDNS_OK) {
		FILE *fp = fopen(path, "r");
		if (fp == NULL) {
			return rc;
		}
		static const char head[] = "@ 0 IN SOA invalid. invalid. 0 0 0 0 0\n"
					   "@ 0 IN NS invalid.\n";
		size_t cap = sizeof(head) + 4096, len = sizeof(head) - 1;
		char *text = tdns_xmalloc(cap);
		memcpy(text, head, len);
		size_t n;
		while ((n = fread(text + len, 1, cap - len, fp)) > 0) {
			len += n;
			if (len == cap) {
				cap *= 2;
				text = tdns_xrealloc(text, cap);
			}
		}
		fclose(fp);
		char err2[256];
		if (load_any(apex, path, text, len, out, err2, sizeof(err2)) == TDNS_OK) {
			rc = TDNS_OK;
		}
		free(text);
	}
	if (rc == TDNS_OK) {
		(*out)->forwarder = true;
	}
	return rc;
}

int
zone_load_mem(const uint8_t *apex, const char *text, size_t textlen, const char *name,
	      struct zone **out, char *err, size_t errlen)
{
	return load_any(apex, name, text, textlen, out, err, errlen);
}

/* ------------------------------------------------------------------------------------------ */
/* Writing                                                                                     */

/* Presentation form of one rdata can reach 4x its size (\DDD escapes in TXT). */
#define LINE_MAX_TEXT (4 * DNS_RDATA_MAX + 2 * DNS_NAME_TEXT_MAX + 64)

static int
type_cmp(const void *a, const void *b)
{
	const struct zone_rrset *x = *(const struct zone_rrset *const *)a;
	const struct zone_rrset *y = *(const struct zone_rrset *const *)b;
	return (int)x->type - (int)y->type;
}

static bool
write_rrset(FILE *f, const uint8_t *owner, const struct zone_rrset *r, char *line)
{
	const uint8_t *p = r->data;
	for (uint16_t i = 0; i < r->count; i++) {
		const uint8_t *rd;
		uint16_t rdlen;
		p = zone_rdata_next(p, &rd, &rdlen);
		int n = dns_rr_to_text(owner, r->type, DNS_CLASS_IN, r->ttl, rd, rdlen, line,
				       LINE_MAX_TEXT);
		if (n < 0) {
			return false;
		}
		line[n] = '\n';
		if (fwrite(line, 1, (size_t)n + 1, f) != (size_t)n + 1) {
			return false;
		}
	}
	return true;
}

/* Writes one node: the SOA first at the apex (RFC 1035 §5.2), then rrsets by type number. */
static bool
write_node(FILE *f, const struct zone *z, const struct zone_node *n, char *line)
{
	const struct zone_rrset *v[64];
	const struct zone_rrset **sets = v;
	size_t k = 0, cap = 64;
	bool ok = true;
	for (const struct zone_rrset *r = n->rrsets; r != NULL; r = r->next) {
		if (k == cap) {
			/* More than 64 types at one name is rare; spill to the heap. */
			const struct zone_rrset **bigger = malloc(2 * cap * sizeof(*bigger));
			if (bigger == NULL) {
				ok = false;
				goto out;
			}
			memcpy(bigger, sets, k * sizeof(*sets));
			if (sets != v) {
				free(sets);
			}
			sets = bigger;
			cap *= 2;
		}
		sets[k++] = r;
	}
	qsort(sets, k, sizeof(*sets), type_cmp);
	if (zone_node_is_apex(z, n)) {
		const struct zone_rrset *soa = zone_node_rrset(n, DNS_TYPE_SOA);
		if (soa != NULL && !write_rrset(f, n->name, soa, line)) {
			ok = false;
			goto out;
		}
	}
	for (size_t i = 0; i < k && ok; i++) {
		if (zone_node_is_apex(z, n) && sets[i]->type == DNS_TYPE_SOA) {
			continue;
		}
		ok = write_rrset(f, n->name, sets[i], line);
	}
out:
	if (sets != v) {
		free(sets);
	}
	return ok;
}

/* Writes the whole zone text to f: TDNS_OK, TDNS_ENOMEM, or TDNS_EIO on a write error. */
static int
write_text(FILE *f, const struct zone *z)
{
	char *line = malloc(LINE_MAX_TEXT);
	size_t count;
	const struct zone_node **v = zone_sorted_nodes(z, &count);
	if (line == NULL || v == NULL) {
		free(line);
		free(v);
		return TDNS_ENOMEM;
	}
	bool ok = fprintf(f, "$ORIGIN %s\n", z->name) > 0;
	/* The apex sorts first in canonical order, so the SOA opens the file. */
	for (size_t i = 0; i < count && ok; i++) {
		ok = write_node(f, z, v[i], line);
	}
	free(v);
	free(line);
	return ok ? TDNS_OK : TDNS_EIO;
}

char *
zone_to_text(const struct zone *z, size_t *len)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	if (f == NULL) {
		return NULL;
	}
	int rc = write_text(f, z);
	if (fclose(f) != 0 || rc != TDNS_OK) {
		free(buf);
		return NULL;
	}
	if (len != NULL) {
		*len = size;
	}
	return buf;
}

int
zone_write(const struct zone *z, const char *path, int *errnum)
{
	*errnum = 0;
	size_t plen = strlen(path);
	char *tmp = malloc(plen + 5);
	FILE *f = NULL;
	int rc = TDNS_EIO;
	if (tmp == NULL) {
		rc = TDNS_ENOMEM;
		goto out;
	}
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".tmp", 5);
	f = fopen(tmp, "w");
	if (f == NULL) {
		*errnum = errno;
		goto out;
	}
	setvbuf(f, NULL, _IOFBF, 1 << 16);
	rc = write_text(f, z);
	if (rc != TDNS_OK || fflush(f) != 0 || fsync(fileno(f)) != 0) {
		*errnum = errno;
		rc = rc != TDNS_OK ? rc : TDNS_EIO;
		goto out;
	}
	rc = TDNS_EIO;
	int crc = fclose(f);
	f = NULL;
	if (crc != 0 || rename(tmp, path) != 0) {
		*errnum = errno;
		goto out;
	}
	/* Replaced: from here on the change is made, whatever the directory fsync says. */
	rc = TDNS_OK;
	if (tdns_fsync_parent(path) != TDNS_OK) {
		*errnum = errno != 0 ? errno : EIO;
	}
out:
	if (f != NULL) {
		fclose(f);
	}
	if (rc != TDNS_OK && tmp != NULL) {
		unlink(tmp);
	}
	free(tmp);
	return rc;
}
