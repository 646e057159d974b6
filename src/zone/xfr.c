/* SPDX-License-Identifier: MIT */
/* Outgoing zone transfers (RFC 5936): who may transfer a zone, and the zone as a message stream. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zone/zone_int.h"

/* ------------------------------------------------------------------------------------------ */
/* allow-transfer                                                                               */

/* One zone's allow-transfer: addresses, and keys whose signed requests may transfer it. */
struct xfr_zone {
	uint8_t apex[DNS_NAME_MAX];
	struct filter_acl acl;
	uint8_t (*keys)[DNS_NAME_MAX]; /* canonical key names */
	size_t nkeys;
};

struct zone_xfr_conf {
	struct xfr_zone *zones;
	size_t nzones;
	struct crypto_tsig_key *keys; /* copies of the [tsig NAME] keys */
	size_t nkeys;
	struct zone_secondaries *secs; /* the daemon's secondary zones (borrowed), for NOTIFY */
};

void
zone_xfr_conf_set_secondaries(struct zone_xfr_conf *xc, struct zone_secondaries *secs)
{
	xc->secs = secs;
}

struct zone_secondaries *
zone_xfr_conf_secondaries(const struct zone_xfr_conf *xc)
{
	return xc != NULL ? xc->secs : NULL;
}

int
zone_xfr_parse_allow(const char *text, struct filter_acl *acl, uint8_t (**keys)[DNS_NAME_MAX],
		     size_t *nkeys, char *err, size_t errlen)
{
	static const uint8_t root[1] = { 0 };
	char *copy = tdns_xstrdup(text), *cursor = copy, *addrs = tdns_xstrdup("");
	size_t alen = 0;
	bool more = true;
	int rc = TDNS_OK;
	*keys = NULL;
	*nkeys = 0;
	while (more && rc == TDNS_OK) {
		char *item = cfg_list_next(&cursor, &more);
		if (item[0] == '\0') {
			continue;
		}
		if (strncmp(item, "key", 3) == 0 && (item[3] == ' ' || item[3] == '\t')) {
			const char *name = item + 4;
			name += strspn(name, " \t");
			uint8_t wire[DNS_NAME_MAX];
			if (name[0] == '\0' || dns_name_from_text(name, strlen(name), root, wire) < 0) {
				snprintf(err, errlen, "invalid key name in '%s'; expected key NAME",
					 item);
				rc = TDNS_EINVAL;
				break;
			}
			dns_name_lower(wire);
			*keys = tdns_xrealloc(*keys, (*nkeys + 1) * sizeof(**keys));
			memcpy((*keys)[(*nkeys)++], wire, sizeof(wire));
			continue;
		}
		size_t n = strlen(item);
		addrs = tdns_xrealloc(addrs, alen + n + 2);
		snprintf(addrs + alen, n + 2, "%s%s", alen > 0 ? "," : "", item);
		alen += n + (alen > 0);
	}
	if (rc == TDNS_OK && acl != NULL) {
		rc = filter_acl_parse(addrs, acl, err, errlen);
	} else if (rc == TDNS_OK) {
		struct filter_acl tmp = { 0 };
		rc = filter_acl_parse(addrs, &tmp, err, errlen);
		filter_acl_clear(&tmp);
	}
	free(copy);
	free(addrs);
	if (rc != TDNS_OK || acl == NULL) {
		free(*keys);
		*keys = NULL;
		*nkeys = 0;
	}
	return rc;
}

int
zone_xfr_conf_new(const struct cfg *c, struct zone_xfr_conf **out, char *err, size_t errlen)
{
	struct zone_xfr_conf *xc = tdns_xcalloc(1, sizeof(*xc));
	xc->keys = tdns_xcalloc(c->ntsigs + 1, sizeof(*xc->keys));
	for (size_t i = 0; i < c->ntsigs; i++) {
		xc->keys[xc->nkeys++] = c->tsigs[i].key;
	}
	xc->zones = tdns_xcalloc(c->nzones + 1, sizeof(*xc->zones));
	for (size_t i = 0; i < c->nzones; i++) {
		const struct cfg_zone *cz = &c->zones[i];
		if (cz->allow_transfer == NULL || cz->allow_transfer[0] == '\0') {
			continue;
		}
		struct xfr_zone *xz = &xc->zones[xc->nzones];
		memcpy(xz->apex, cz->apex, sizeof(xz->apex));
		char why[256];
		if (zone_xfr_parse_allow(cz->allow_transfer, &xz->acl, &xz->keys, &xz->nkeys, why,
					 sizeof(why)) != TDNS_OK) {
			snprintf(err, errlen, "zone %s: allow-transfer: %s", cz->name, why);
			zone_xfr_conf_free(xc);
			return TDNS_ECONFIG;
		}
		xc->nzones++;
	}
	*out = xc;
	return TDNS_OK;
}

void
zone_xfr_conf_free(struct zone_xfr_conf *xc)
{
	if (xc == NULL) {
		return;
	}
	for (size_t i = 0; i < xc->nzones; i++) {
		filter_acl_clear(&xc->zones[i].acl);
		free(xc->zones[i].keys);
	}
	free(xc->zones);
	/* The copies of the secrets go with the configuration that held them. */
	explicit_bzero(xc->keys, xc->nkeys * sizeof(*xc->keys));
	free(xc->keys);
	free(xc);
}

const struct crypto_tsig_key *
zone_xfr_conf_key(const struct zone_xfr_conf *xc, const uint8_t *name)
{
	for (size_t i = 0; xc != NULL && i < xc->nkeys; i++) {
		if (dns_name_eq(xc->keys[i].name, name)) {
			return &xc->keys[i];
		}
	}
	return NULL;
}

const struct crypto_tsig_key *
zone_xfr_notify_key(const struct zone_xfr_conf *xc, const uint8_t *apex)
{
	for (size_t i = 0; xc != NULL && i < xc->nzones; i++) {
		const struct xfr_zone *xz = &xc->zones[i];
		if (dns_name_eq(xz->apex, apex) && xz->nkeys > 0) {
			return zone_xfr_conf_key(xc, xz->keys[0]);
		}
	}
	return NULL;
}

bool
zone_xfr_allowed(const struct zone_xfr_conf *xc, const uint8_t *apex, const struct sockaddr *peer,
		 const struct crypto_tsig_key *key)
{
	for (size_t i = 0; xc != NULL && i < xc->nzones; i++) {
		const struct xfr_zone *xz = &xc->zones[i];
		if (!dns_name_eq(xz->apex, apex)) {
			continue;
		}
		if (peer != NULL && filter_acl_match(&xz->acl, peer)) {
			return true;
		}
		for (size_t k = 0; key != NULL && k < xz->nkeys; k++) {
			if (dns_name_eq(xz->keys[k], key->name)) {
				return true;
			}
		}
		return false;
	}
	return false; /* RFC 5936 §4: no transfer unless configured */
}

/* ------------------------------------------------------------------------------------------ */
/* The zone as a stream of messages (RFC 5936 §2.2): SOA first and last, everything between.   */

enum stage { STAGE_FIRST_SOA, STAGE_BODY, STAGE_LAST_SOA, STAGE_DONE };

struct zone_xfr {
	struct zone *z;               /* a reference: the version being sent */
	uint16_t id;
	uint16_t flags;               /* QR, AA and the request's RD */
	uint16_t qtype, qclass;
	uint8_t qname[DNS_NAME_MAX];  /* as asked */
	uint16_t edns;                /* our UDP size for the OPT of every message, 0: no OPT */
	bool edns_do;
	enum stage stage;
	/* The next record: node in the table slot, its rrset, its rdata at rd (nth of the set). */
	size_t slot;
	const struct zone_node *node;
	const struct zone_rrset *rr;
	const uint8_t *rd;
	uint16_t nth;
	bool apex_done;               /* the apex node went first; skip it in the table */
	/* An incremental transfer (RFC 1995 §4): the journal's diffs from di, at off in it. */
	struct zone_journal *j;       /* a reference, NULL for AXFR */
	size_t di, off;
	bool soa_only;                /* the client is current: the SOA alone (RFC 1995 §4) */
	unsigned nmsg;
	size_t nrecords;
};

/* Moves to the first rrset at or after rr (in node, then in later nodes) that is sent. */
static void
seek(struct zone_xfr *x)
{
	const struct zone *z = x->z;
	for (;;) {
		while (x->rr != NULL && x->node == z->apex_node && x->rr->type == DNS_TYPE_SOA) {
			x->rr = x->rr->next; /* the SOA frames the stream */
		}
		if (x->rr != NULL && x->rr->count > 0) {
			x->rd = x->rr->data;
			x->nth = 0;
			return;
		}
		if (x->rr != NULL) {
			x->rr = x->rr->next;
			continue;
		}
		/* Next node: the apex first, then the table, apex left out. */
		if (!x->apex_done) {
			x->apex_done = true;
			x->node = NULL;
		} else if (x->node != NULL) {
			x->node = x->node->hnext;
		}
		while (x->node == NULL && x->slot < z->table_size) {
			x->node = z->table[x->slot++];
		}
		while (x->node == z->apex_node) {
			x->node = x->node->hnext;
			while (x->node == NULL && x->slot < z->table_size) {
				x->node = z->table[x->slot++];
			}
		}
		if (x->node == NULL) {
			x->stage = STAGE_LAST_SOA;
			return;
		}
		x->rr = x->node->rrsets;
	}
}

struct zone_xfr *
zone_xfr_new(const struct zone *z, const struct dns_query *q, uint16_t edns)
{
	const struct zone_rrset *soa = zone_node_rrset(z->apex_node, DNS_TYPE_SOA);
	if (soa == NULL || soa->count == 0) {
		return NULL;
	}
	struct zone_xfr *x = calloc(1, sizeof(*x));
	if (x == NULL) {
		return NULL;
	}
	/* Zones are immutable once published; the reference only keeps this version alive. */
	x->z = zone_ref((struct zone *)z);
	x->id = q->id;
	x->flags = DNS_FLAG_QR | DNS_FLAG_AA | (q->flags & DNS_FLAG_RD);
	x->qtype = q->qtype;
	x->qclass = q->qclass;
	memcpy(x->qname, q->qname, q->qname_len);
	if (q->edns.present && q->edns_count == 1) {
		x->edns = edns < DNS_UDP_MIN ? DNS_UDP_MIN : edns;
		x->edns_do = q->edns.do_bit;
	}
	x->node = z->apex_node;
	x->rr = z->apex_node->rrsets;
	return x;
}

struct zone_xfr *
zone_xfr_new_ixfr(const struct zone *z, const struct dns_query *q, uint16_t edns,
		  uint32_t serial, bool *fallback)
{
	*fallback = false;
	bool current = serial == z->serial || (uint32_t)(z->serial - serial) >= 0x80000000u;
	const struct zone_journal *j = z->journal;
	size_t di = 0;
	while (!current && j != NULL && di < j->n && j->diffs[di]->from != serial) {
		di++;
	}
	if (!current && (j == NULL || di == j->n)) {
		*fallback = true; /* RFC 1995 §4: the journal does not reach back so far */
		return NULL;
	}
	struct zone_xfr *x = zone_xfr_new(z, q, edns);
	if (x == NULL) {
		return NULL;
	}
	x->soa_only = current;
	if (!current) {
		x->j = zone_journal_ref(z->journal);
		x->di = di;
	}
	return x;
}

bool
zone_xfr_incremental(const struct zone_xfr *x)
{
	return x->j != NULL || x->soa_only;
}

/* Writes the journal's next record; false when the message is full. */
static bool
put_journal_rr(struct zone_xfr *x, struct dns_build *b)
{
	const struct zone_diff *d = x->j->diffs[x->di];
	const uint8_t *p = d->data + x->off;
	size_t nl = dns_name_len(p);
	uint16_t type = tdns_get16(p + nl), rdlen = tdns_get16(p + nl + 6);
	uint32_t ttl = tdns_get32(p + nl + 2);
	if (dns_build_rr(b, DNS_SECTION_ANSWER, p, type, DNS_CLASS_IN, ttl, p + nl + 8, rdlen) !=
	    TDNS_OK) {
		return false;
	}
	x->nrecords++;
	x->off += nl + 8 + rdlen;
	if (x->off >= d->len) {
		x->off = 0;
		if (++x->di == x->j->n) {
			x->stage = STAGE_LAST_SOA;
		}
	}
	return true;
}

static bool
put_soa(struct zone_xfr *x, struct dns_build *b)
{
	const struct zone_rrset *soa = zone_node_rrset(x->z->apex_node, DNS_TYPE_SOA);
	const uint8_t *rd;
	uint16_t rdlen;
	zone_rdata_next(soa->data, &rd, &rdlen);
	if (dns_build_rr(b, DNS_SECTION_ANSWER, x->z->apex_node->name, DNS_TYPE_SOA, DNS_CLASS_IN,
			 soa->ttl, rd, rdlen) != TDNS_OK) {
		return false;
	}
	x->nrecords++;
	return true;
}

size_t
zone_xfr_next(struct zone_xfr *x, uint8_t *out, size_t limit, bool *more)
{
	struct dns_build b;
	*more = false;
	if (x->stage == STAGE_DONE) {
		return 0;
	}
	dns_build_init(&b, out, limit, limit, x->id, x->flags);
	if (x->edns > 0) {
		/* RFC 5936 §3 and RFC 6891 §7: each message answers an EDNS request with an OPT. */
		dns_build_edns(&b, x->edns, x->edns_do);
	}
	/* RFC 5936 §2.2.1: the question in the first message; later ones may leave it out. */
	if (x->nmsg == 0 && dns_build_question(&b, x->qname, x->qtype, x->qclass) != TDNS_OK) {
		return 0;
	}
	if (x->stage == STAGE_FIRST_SOA) {
		if (!put_soa(x, &b)) {
			return 0;
		}
		x->stage = x->soa_only ? STAGE_DONE : STAGE_BODY;
		if (x->j == NULL && !x->soa_only) {
			seek(x);
		}
	}
	while (x->stage == STAGE_BODY && x->j != NULL) {
		if (!put_journal_rr(x, &b)) {
			if (b.count[DNS_SECTION_ANSWER] == 0) {
				return 0;
			}
			break;
		}
	}
	while (x->stage == STAGE_BODY && x->j == NULL) {
		const uint8_t *rd;
		uint16_t rdlen;
		const uint8_t *next = zone_rdata_next(x->rd, &rd, &rdlen);
		if (dns_build_rr(&b, DNS_SECTION_ANSWER, x->node->name, x->rr->type, DNS_CLASS_IN,
				 x->rr->ttl, rd, rdlen) != TDNS_OK) {
			if (b.count[DNS_SECTION_ANSWER] == 0) {
				return 0; /* cannot happen: a record always fits 64 KiB */
			}
			break; /* the message is full: the record starts the next one */
		}
		x->nrecords++;
		x->rd = next;
		if (++x->nth == x->rr->count) {
			x->rr = x->rr->next;
			seek(x);
		}
	}
	if (x->stage == STAGE_LAST_SOA && put_soa(x, &b)) {
		x->stage = STAGE_DONE;
	}
	x->nmsg++;
	*more = x->stage != STAGE_DONE;
	return dns_build_finish(&b);
}

size_t
zone_xfr_records(const struct zone_xfr *x)
{
	return x->nrecords;
}

unsigned
zone_xfr_messages(const struct zone_xfr *x)
{
	return x->nmsg;
}

const struct zone *
zone_xfr_zone(const struct zone_xfr *x)
{
	return x->z;
}

void
zone_xfr_free(struct zone_xfr *x)
{
	if (x == NULL) {
		return;
	}
	zone_journal_unref(x->j);
	zone_free(x->z);
	free(x);
}
