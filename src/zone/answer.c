/* SPDX-License-Identifier: MIT */
/* Authoritative answers: the RFC 1034 §4.3.2 lookup with CNAME, DNAME, wildcards and referrals. */
#include <string.h>

#include "zone/zone_int.h"

/* Longest chain of CNAMEs (real or synthesised from DNAMEs) followed for one query. */
#define CHAIN_MAX 16
/* Targets whose addresses the additional section may carry. */
#define ADD_MAX 32

enum step {
	STEP_DONE,
	STEP_FOLLOW, /* a CNAME was added; go on with its target */
};

enum auth_kind {
	AUTH_NONE,
	AUTH_SOA,    /* negative answer: the zone's SOA */
	AUTH_NS,     /* referral: the cut's NS rrset */
};

struct add_item {
	const struct zone *z;
	const uint8_t *name;   /* borrowed from zone data */
	bool glue;             /* addresses of z may be taken from below cuts */
};

struct ans {
	const struct zone_set *s;
	const struct dns_query *q;
	struct dns_build *b;
	int rcode;
	bool truncated;
	bool referral;          /* the last step ended in a referral */

	enum auth_kind auth;
	const struct zone *auth_zone;
	const uint8_t *auth_owner;
	const struct zone_rrset *auth_rrset;

	struct add_item add[ADD_MAX];
	size_t nadd;
};

/* Adds the rdatas of r to section; false (the message truncated) if they do not fit. */
static bool
put_rrset(struct ans *a, int section, const uint8_t *owner, const struct zone_rrset *r)
{
	if (a->truncated) {
		return false;
	}
	const uint8_t *p = r->data;
	for (uint16_t i = 0; i < r->count; i++) {
		const uint8_t *rd;
		uint16_t rdlen;
		p = zone_rdata_next(p, &rd, &rdlen);
		if (dns_build_rr(a->b, section, owner, r->type, DNS_CLASS_IN, r->ttl, rd, rdlen) !=
		    TDNS_OK) {
			/* RFC 2181 §9: an incomplete answer or authority section means TC. */
			dns_build_truncate(a->b);
			a->truncated = true;
			return false;
		}
	}
	return true;
}

static void
want_additional(struct ans *a, const struct zone *z, const struct zone_rrset *r, bool glue,
		const uint8_t *owner)
{
	const uint8_t *p = r->data;
	for (uint16_t i = 0; i < r->count && a->nadd < ADD_MAX; i++) {
		const uint8_t *rd;
		uint16_t rdlen;
		p = zone_rdata_next(p, &rd, &rdlen);
		const uint8_t *t = dns_rdata_target(r->type, rd, rdlen);
		if (t != NULL && t[0] == 0 && owner != NULL && tdns_get16(rd) != 0) {
			/* RFC 9460 §2.5.2: TargetName "." in ServiceMode is the owner itself. */
			t = owner;
		}
		if (t == NULL || t[0] == 0) {
			continue;
		}
		a->add[a->nadd++] = (struct add_item){ .z = z, .name = t, .glue = glue };
	}
}

/* The answer's rrset: additional processing for the types RFC 1035 §3.3 names, SRV, SVCB. */
static void
answer_rrset(struct ans *a, const struct zone *z, const uint8_t *owner,
	     const struct zone_rrset *r)
{
	if (!put_rrset(a, DNS_SECTION_ANSWER, owner, r)) {
		return;
	}
	if (r->type == DNS_TYPE_NS) {
		want_additional(a, z, r, true, NULL);
	} else if (r->type == DNS_TYPE_MX || r->type == DNS_TYPE_SRV) {
		want_additional(a, z, r, false, NULL);
	} else if (r->type == DNS_TYPE_SVCB || r->type == DNS_TYPE_HTTPS) {
		/* RFC 9460 §4.1: the addresses of in-zone targets, as for MX and SRV. */
		want_additional(a, z, r, false, owner);
	}
}

static enum step
nodata(struct ans *a, const struct zone *z)
{
	/* RFC 2308 §2.2: NOERROR with the SOA in the authority section. */
	a->auth = AUTH_SOA;
	a->auth_zone = z;
	return STEP_DONE;
}

static enum step
referral(struct ans *a, const struct zone *z, const struct zone_node *cut, const uint8_t *owner)
{
	/* RFC 1034 §4.3.2 step 3b: NS of the cut in authority, glue in additional, no AA. */
	a->referral = true;
	a->auth = AUTH_NS;
	a->auth_zone = z;
	a->auth_owner = owner;
	a->auth_rrset = zone_node_rrset(cut, DNS_TYPE_NS);
	if (a->auth_rrset != NULL) {
		want_additional(a, z, a->auth_rrset, true, NULL);
	}
	return STEP_DONE;
}

/* RFC 8482 §4.1: answer ANY with one rrset.  The SOA at an apex, else the lowest type. */
static const struct zone_rrset *
pick_any(const struct zone_node *n)
{
	const struct zone_rrset *best = NULL;
	for (const struct zone_rrset *r = n->rrsets; r != NULL; r = r->next) {
		if (r->type == DNS_TYPE_SOA) {
			return r;
		}
		bool dnssec = r->type == DNS_TYPE_RRSIG || r->type == DNS_TYPE_NSEC ||
			      r->type == DNS_TYPE_NSEC3;
		bool best_dnssec = best != NULL && (best->type == DNS_TYPE_RRSIG ||
						    best->type == DNS_TYPE_NSEC ||
						    best->type == DNS_TYPE_NSEC3);
		if (best == NULL || (best_dnssec && !dnssec) ||
		    (best_dnssec == dnssec && r->type < best->type)) {
			best = r;
		}
	}
	return best;
}

/*
 * The name exists (or a wildcard stands for it, with owner the name asked): RFC 1034 §4.3.2
 * step 3a.  A CNAME is answered and followed unless it was asked for.
 */
static enum step
at_node(struct ans *a, const struct zone *z, const struct zone_node *n, const uint8_t *owner,
	const uint8_t **next)
{
	uint16_t qtype = a->q->qtype;
	if (n->rrsets == NULL) {
		/* An empty non-terminal exists and has no data (RFC 4592 §2.2.2). */
		return nodata(a, z);
	}
	if (qtype == DNS_TYPE_ANY) {
		answer_rrset(a, z, owner, pick_any(n));
		return STEP_DONE;
	}
	const struct zone_rrset *r = zone_node_rrset(n, qtype);
	if (r != NULL) {
		answer_rrset(a, z, owner, r);
		return STEP_DONE;
	}
	const struct zone_rrset *cname = zone_node_rrset(n, DNS_TYPE_CNAME);
	if (cname != NULL) {
		if (!put_rrset(a, DNS_SECTION_ANSWER, owner, cname)) {
			return STEP_DONE;
		}
		size_t tlen;
		*next = zone_rrset_target(cname, &tlen);
		return *next != NULL ? STEP_FOLLOW : STEP_DONE;
	}
	return nodata(a, z);
}

/*
 * RFC 6672 §3.2: below a DNAME, answer the DNAME, synthesise a CNAME from the name asked to
 * the substituted name with the DNAME's TTL, and go on with that name.  prefix is how many
 * octets of sname lie below the DNAME owner.
 */
static enum step
dname(struct ans *a, const struct zone_node *n, const uint8_t *sname, size_t prefix,
      uint8_t *synth, const uint8_t **next)
{
	const struct zone_rrset *r = zone_node_rrset(n, DNS_TYPE_DNAME);
	if (!put_rrset(a, DNS_SECTION_ANSWER, sname + prefix, r)) {
		return STEP_DONE;
	}
	size_t tlen;
	const uint8_t *rd = zone_rrset_target(r, &tlen);
	if (rd == NULL) {
		return STEP_DONE;
	}
	if (prefix + tlen > DNS_NAME_MAX) {
		/* RFC 6672 §2.2: the substituted name would be too long. */
		a->rcode = DNS_RCODE_YXDOMAIN;
		return STEP_DONE;
	}
	memcpy(synth, sname, prefix);
	memcpy(synth + prefix, rd, tlen);
	size_t slen = prefix + tlen;
	int rc = dns_build_rr(a->b, DNS_SECTION_ANSWER, sname, DNS_TYPE_CNAME, DNS_CLASS_IN,
			      r->ttl, synth, slen);
	if (rc != TDNS_OK) {
		dns_build_truncate(a->b);
		a->truncated = true;
		return STEP_DONE;
	}
	if (a->q->qtype == DNS_TYPE_CNAME) {
		/* RFC 6672 §3.2: the synthesised CNAME is itself the answer to a CNAME query. */
		return STEP_DONE;
	}
	*next = synth;
	return STEP_FOLLOW;
}

/*
 * One step of RFC 1034 §4.3.2 for sname in z: walk down from the apex one label at a time,
 * stopping at a zone cut (step 3b), a DNAME (RFC 6672), the name itself (3a) or the first
 * missing label (3c: wildcard or NXDOMAIN).  Every ancestor of a node exists as a node, so
 * the first missing label marks the closest encloser.
 */
static enum step
lookup(struct ans *a, const struct zone *z, const uint8_t *sname, uint8_t *synth,
       const uint8_t **next)
{
	uint16_t qtype = a->q->qtype;
	uint8_t off[128];
	int nl = 0;
	for (size_t p = 0; sname[p] != 0 && nl < 127; p += 1 + sname[p]) {
		off[nl++] = (uint8_t)p;
	}
	off[nl] = (uint8_t)(dns_name_len(sname) - 1);
	int depth = nl - dns_name_labels(z->apex);

	const struct zone_node *n = z->apex_node;
	if (depth > 0 && zone_node_rrset(n, DNS_TYPE_DNAME) != NULL) {
		return dname(a, n, sname, off[depth], synth, next);
	}
	for (int k = depth - 1; k >= 0; k--) {
		const struct zone_node *child = zone_find(z, sname + off[k]);
		if (child == NULL) {
			/* RFC 4592 §3.3.1: n is the closest encloser; "*.<n>" may stand in. */
			if (n->flags & ZONE_NODE_WILDCARD) {
				uint8_t wild[DNS_NAME_MAX];
				size_t celen = dns_name_len(sname + off[k + 1]);
				wild[0] = 1;
				wild[1] = '*';
				memcpy(wild + 2, sname + off[k + 1], celen);
				const struct zone_node *w = zone_find(z, wild);
				if (w != NULL) {
					if (w->flags & ZONE_NODE_DELEG) {
						return referral(a, z, w, w->name);
					}
					return at_node(a, z, w, sname, next);
				}
			}
			a->rcode = DNS_RCODE_NXDOMAIN;
			a->auth = AUTH_SOA;
			a->auth_zone = z;
			return STEP_DONE;
		}
		n = child;
		if ((n->flags & ZONE_NODE_DELEG) && !(k == 0 && qtype == DNS_TYPE_DS)) {
			/* DS for the cut itself is the parent side's (RFC 4035 §3.1.4.1). */
			return referral(a, z, n, sname + off[k]);
		}
		if (k > 0 && zone_node_rrset(n, DNS_TYPE_DNAME) != NULL) {
			return dname(a, n, sname, off[k], synth, next);
		}
	}
	return at_node(a, z, n, sname, next);
}

/* The zone that answers name: the longest match, but DS at an apex goes to a parent we hold. */
static const struct zone *
zone_for(const struct ans *a, const uint8_t *name)
{
	const struct zone *z = zone_set_match(a->s, name);
	if (z != NULL && a->q->qtype == DNS_TYPE_DS && name[0] != 0 &&
	    dns_name_eq(name, z->apex)) {
		/* RFC 4035 §3.1.4.1: the DS rrset lives in the parent zone. */
		const struct zone *p = zone_set_match(a->s, dns_name_parent(name));
		const struct zone_node *cut = p != NULL ? zone_find(p, name) : NULL;
		if (cut != NULL && (cut->flags & ZONE_NODE_DELEG)) {
			z = p;
		}
	}
	return z;
}

/* Authoritative address records for name: in some zone of the set and not at or below a cut. */
static const struct zone_node *
auth_node(const struct zone_set *s, const uint8_t *name)
{
	const struct zone *z = zone_set_match(s, name);
	if (z == NULL) {
		return NULL;
	}
	const struct zone_node *n = zone_find(z, name);
	if (n == NULL) {
		return NULL;
	}
	const uint8_t *p = name;
	for (int depth = dns_name_labels(name) - dns_name_labels(z->apex); depth > 0; depth--) {
		const struct zone_node *x = zone_find(z, p);
		if (x == NULL || (x->flags & ZONE_NODE_DELEG)) {
			return NULL;
		}
		p = dns_name_parent(p);
	}
	return n;
}

static void
put_additional(struct ans *a)
{
	for (size_t i = 0; i < a->nadd; i++) {
		const struct add_item *it = &a->add[i];
		bool seen = false;
		for (size_t k = 0; k < i && !seen; k++) {
			seen = dns_name_eq(a->add[k].name, it->name);
		}
		if (seen) {
			continue;
		}
		const struct zone_node *n = NULL;
		if (it->glue && dns_name_is_sub(it->name, it->z->apex)) {
			/* RFC 1034 §4.3.2: glue, even from below other cuts of the zone. */
			n = zone_find(it->z, it->name);
		} else {
			n = auth_node(a->s, it->name);
		}
		if (n == NULL) {
			continue;
		}
		static const uint16_t types[] = { DNS_TYPE_A, DNS_TYPE_AAAA };
		for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
			const struct zone_rrset *r = zone_node_rrset(n, types[t]);
			if (r == NULL) {
				continue;
			}
			/* Additional data is optional: what does not fit is left out. */
			const uint8_t *p = r->data;
			for (uint16_t j = 0; j < r->count; j++) {
				const uint8_t *rd;
				uint16_t rdlen;
				p = zone_rdata_next(p, &rd, &rdlen);
				if (dns_build_rr(a->b, DNS_SECTION_ADDITIONAL, it->name, r->type,
						 DNS_CLASS_IN, r->ttl, rd, rdlen) != TDNS_OK) {
					return;
				}
			}
		}
	}
}

static void
put_authority(struct ans *a)
{
	if (a->auth == AUTH_NS && a->auth_rrset != NULL) {
		put_rrset(a, DNS_SECTION_AUTHORITY, a->auth_owner, a->auth_rrset);
	} else if (a->auth == AUTH_SOA) {
		const struct zone_node *apex = a->auth_zone->apex_node;
		const struct zone_rrset *soa = zone_node_rrset(apex, DNS_TYPE_SOA);
		if (soa == NULL) {
			return;
		}
		const uint8_t *rd;
		uint16_t rdlen;
		zone_rdata_next(soa->data, &rd, &rdlen);
		/* RFC 2308 §3: the negative TTL is the lesser of the SOA TTL and MINIMUM. */
		uint32_t ttl = soa->ttl;
		uint32_t min = zone_soa_minimum(rd, rdlen);
		if (min < ttl) {
			ttl = min;
		}
		if (dns_build_rr(a->b, DNS_SECTION_AUTHORITY, apex->name, DNS_TYPE_SOA,
				 DNS_CLASS_IN, ttl, rd, rdlen) != TDNS_OK) {
			dns_build_truncate(a->b);
			a->truncated = true;
		}
	}
}

static void
finish(struct ans *a, bool aa, struct zone_answer_info *info)
{
	if (aa) {
		dns_build_set_flags(a->b, DNS_FLAG_AA, 0);
	} else {
		dns_build_set_flags(a->b, 0, DNS_FLAG_AA);
	}
	dns_build_rcode(a->b, a->rcode);
	info->rcode = a->rcode;
	info->authoritative = aa;
	info->truncated = a->truncated;
}

void
zone_answer(const struct zone_set *s, const struct dns_query *q, struct dns_build *b,
	    struct zone_answer_info *info)
{
	struct ans a = { .s = s, .q = q, .b = b, .rcode = DNS_RCODE_NOERROR };

	if (q->qclass != DNS_CLASS_IN && q->qclass != DNS_CLASS_ANY) {
		/* Only class IN data is served. */
		a.rcode = DNS_RCODE_REFUSED;
		finish(&a, false, info);
		return;
	}
	if (dns_type_is_xfr(q->qtype)) {
		/*
		 * Transfers are streamed by the query layer (query-xfr.c, xfr.c) before this;
		 * answered from here, no transfer is allowed.  For a zone we serve REFUSED, as
		 * BIND and NSD answer when they are not allowed; for any other name NOTAUTH, not
		 * authoritative for a zone of that name (RFC 2136 §2.2), as Knot and NSD answer.
		 * AXFR over UDP got NOTIMP before this (RFC 5936 §4.2); IXFR over UDP is defined
		 * (RFC 1995 §2).
		 */
		const struct zone *z = zone_set_match(s, q->qname);
		bool apex = z != NULL && dns_name_eq(q->qname, z->apex);
		a.rcode = apex ? DNS_RCODE_REFUSED : DNS_RCODE_NOTAUTH;
		finish(&a, false, info);
		return;
	}
	const struct zone *z = zone_for(&a, q->qname);
	if (z == NULL) {
		/* Not authoritative for the name, no recursion here: EDE 20 (RFC 8914 §5.20). */
		a.rcode = DNS_RCODE_REFUSED;
		dns_build_ede(b, DNS_EDE_NOT_AUTHORITATIVE, NULL);
		finish(&a, false, info);
		return;
	}
	if (z->expired) {
		/* A secondary zone without data (RFC 1035 §3.3.13 expire), as BIND and Knot. */
		a.rcode = DNS_RCODE_SERVFAIL;
		finish(&a, false, info);
		return;
	}

	/* Names met on the chain, to stop CNAME loops (RFC 1034 §3.6.2). */
	uint8_t seen[CHAIN_MAX + 1][DNS_NAME_MAX];
	size_t nseen = 0;
	uint8_t synth[2][DNS_NAME_MAX];
	int which = 0;
	const uint8_t *sname = q->qname;
	bool aa = false;

	for (int chain = 0;; chain++) {
		memcpy(seen[nseen++], sname, dns_name_len(sname));
		const uint8_t *next = NULL;
		a.referral = false;
		enum step st = lookup(&a, z, sname, synth[which], &next);
		if (chain == 0) {
			/* AA describes the answer to the name asked (RFC 1034 §4.3.1). */
			aa = !a.referral;
		}
		if (st == STEP_DONE || a.truncated || chain == CHAIN_MAX - 1) {
			break;
		}
		bool loop = false;
		for (size_t i = 0; i < nseen && !loop; i++) {
			loop = dns_name_eq(seen[i], next);
		}
		if (loop) {
			break;
		}
		z = zone_for(&a, next);
		if (z == NULL) {
			/* The target is not ours: the CNAME is the answer, the client goes on. */
			break;
		}
		sname = next;
		which ^= 1;
	}
	if (!a.truncated) {
		put_authority(&a);
	}
	if (!a.truncated) {
		put_additional(&a);
	}
	finish(&a, aa, info);
}
