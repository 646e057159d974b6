/* SPDX-License-Identifier: MIT */
/* The server's query handler: zones, cache, forwarders, iterator and ANAME, per worker. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include "filter/filter.h"
#include "query/query_int.h"

struct query_pending;
TAILQ_HEAD(query_pending_list, query_pending);

/* A worker's query state, beside its listeners (struct query_worker). */
struct query_worker {
	struct net_worker *net;
	const struct zone_set *zs;   /* current zones; replaced only by query_publish_zones */
	const struct zone_xfr_conf *xfr; /* allow-transfer and TSIG keys (query_publish_xfr) */
	const struct query_blocking *blk; /* issue 18; replaced only by query_publish_blocking */
	struct resolver_fwd *fwd;    /* the worker's forwarder (issue 4) */
	bool nsid_asked;             /* issue 14: the current query asked for NSID */
	/* Issue 13: deferred queries, oldest first, at most [recursion] max-outstanding. */
	struct query_pending_list outstanding;
	unsigned noutstanding;
	bool jostling;               /* answering a jostled query (its transport may ask more) */
};

/* ------------------------------------------------------------------------------------------ */
/* The resolver path (issue 4): cache, forwarders, conditional forwarder zones, ACL.           */

/* CNAMEs of a forwarder zone's file that lead the answer (RFC 1034 §4.3.2 step 3a). */
#define PREFIX_MAX 8

/* One query on the resolver path: what the reply needs, now or when the answer arrives. */
struct query_pending {
	struct cache_waiter waiter;
	TAILQ_ENTRY(query_pending) link; /* in w->outstanding while deferred */
	struct query_worker *w;
	struct cache_key key;         /* the name resolved: qname, or the override's target */
	uint16_t id;
	uint16_t flags;               /* of the reply: QR, opcode, RD, CD */
	uint8_t qname[DNS_NAME_MAX];  /* as the client wrote it */
	uint16_t qtype, qclass;
	bool edns, do_bit;
	bool ad_bit;                  /* the client set AD (RFC 6840 §5.7) */
	size_t limit;
	size_t nprefix;
	struct {
		uint8_t owner[DNS_NAME_MAX];
		uint32_t ttl;
		uint16_t rdlen;
		uint8_t rd[DNS_NAME_MAX];
	} prefix[PREFIX_MAX];
	/* The client, for a deferred reply: its transport's callback and handle. */
	struct sockaddr_storage peer;
	socklen_t peerlen;
	net_deliver_fn deliver;
	void *handle;
	struct timespec start;        /* arrival, for the latency in the query log */
	bool tcp;                     /* any stream transport: replies up to 65535 octets */
	enum stats_transport transport;
	enum stats_kind kind;         /* FORWARDED, or RECURSIVE for the iterator (issue 5) */
	bool aname;                   /* an ANAME query: key is the target, reply authoritative */
	bool nsid;                    /* issue 14 hook: the client asked for NSID */
	bool filtered;                /* issue 18: a safe-search rewrite, with EDE 17 */
	uint32_t aname_ttl;           /* the least TTL on the way to the target (ANAME, CNAMEs) */
};

static void
pending_start(struct query_pending *p, struct dns_build *b, uint8_t *out, size_t cap)
{
	const struct net_settings *set = p->w->net->set;
	dns_build_init(b, out, cap, p->limit < cap ? p->limit : cap, p->id, p->flags);
	if (p->edns) {
		uint16_t size = set->udp_max > DNS_MSG_MAX ? DNS_MSG_MAX : (uint16_t)set->udp_max;
		dns_build_edns(b, size < DNS_UDP_MIN ? DNS_UDP_MIN : size, p->do_bit);
	}
	(void)dns_build_question(b, p->qname, p->qtype, p->qclass);
}

#define SAFE_SEARCH_TEXT "safe search"

/*
 * Starts the reply of p on the resolver path: header, question, RA (RFC 1035 §4.1.1:
 * recursion is available to this client), the CNAMEs that lead the answer, and EDE 17 for
 * a safe-search rewrite (RFC 8914 §4.18, Filtered; AD off: the CNAME is ours, not the
 * zone's).
 */
static void
pending_head(struct query_pending *p, struct dns_build *b, uint8_t *out, size_t cap)
{
	pending_start(p, b, out, cap);
	dns_build_set_flags(b, DNS_FLAG_RA, DNS_FLAG_AA);
	for (size_t i = 0; i < p->nprefix; i++) {
		(void)dns_build_rr(b, DNS_SECTION_ANSWER, p->prefix[i].owner, DNS_TYPE_CNAME,
				   DNS_CLASS_IN, p->prefix[i].ttl, p->prefix[i].rd,
				   p->prefix[i].rdlen);
	}
	if (p->filtered) {
		dns_build_ede(b, DNS_EDE_FILTERED, SAFE_SEARCH_TEXT);
	}
}

/*
 * Copies the answer and authority of an answer the cache would not keep (TTL 0, too big);
 * strip leaves out RRSIG, NSEC and NSEC3 records of other types than qtype (RFC 4035 §3.2.1).
 */
static int
copy_msg(struct dns_build *b, const struct dns_msg *m, bool strip)
{
	uint8_t rd[DNS_MSG_MAX];
	dns_build_rcode(b, m->rcode);
	for (size_t i = 0; i < m->nrr; i++) {
		const struct dns_rr *rr = &m->rrs[i];
		if (rr->type == DNS_TYPE_OPT || rr->section == DNS_SECTION_ADDITIONAL) {
			continue;
		}
		if (strip && rr->type != m->qtype &&
		    (rr->type == DNS_TYPE_RRSIG || rr->type == DNS_TYPE_NSEC ||
		     rr->type == DNS_TYPE_NSEC3)) {
			continue;
		}
		size_t rdlen;
		if (dns_rdata_unpack(rr->type, m->pkt, m->len, rr->rdata_off, rr->rdlen, rd,
				     sizeof(rd), &rdlen) != TDNS_OK) {
			continue;
		}
		if (dns_build_rr(b, rr->section, rr->owner, rr->type, rr->rclass, rr->ttl, rd,
				 rdlen) != TDNS_OK) {
			dns_build_truncate(b);
			break;
		}
	}
	return m->rcode;
}

/*
 * Issue 16, the client's side of a validated answer (b holds it): bogus or indeterminate
 * is SERVFAIL with the verdict's EDE unless the client set CD (RFC 4035 §3.2.2: the data
 * unchecked, without AD); AD only on a secure answer, for a client that set DO or AD and not
 * CD (RFC 6840 §5.7, RFC 4035 §3.2.3).  Counts the verdict.
 */
static size_t
pending_verdict(struct query_pending *p, struct dns_build *b, uint8_t *out, size_t cap,
		uint8_t sec, int ede, const char *text, int *rcode)
{
	bool cd = (p->flags & DNS_FLAG_CD) != 0;
	resolver_val_count(sec);
	if ((sec == CACHE_SEC_BOGUS || sec == CACHE_SEC_INDETERMINATE) && !cd) {
		pending_start(p, b, out, cap);
		dns_build_set_flags(b, DNS_FLAG_RA, DNS_FLAG_AA | DNS_FLAG_AD);
		dns_build_rcode(b, DNS_RCODE_SERVFAIL);
		*rcode = DNS_RCODE_SERVFAIL;
		dns_build_ede(b, (uint16_t)(ede >= 0 ? ede : DNS_EDE_DNSSEC_BOGUS),
			      text != NULL && text[0] != '\0' ? text : NULL);
		return dns_build_finish(b);
	}
	/* A safe-search rewrite's CNAME is ours, not the zone's: never AD. */
	bool ad = sec == CACHE_SEC_SECURE && !cd && (p->do_bit || p->ad_bit) && !p->filtered;
	dns_build_set_flags(b, ad ? DNS_FLAG_AD : 0, ad ? 0 : DNS_FLAG_AD);
	return dns_build_finish(b);
}

/*
 * Builds the reply of p into out.  res NULL: from a fresh cache entry only, 0 on a miss.
 * Otherwise after the upstream answered (from the cache, or the answer itself when it was not
 * cached) or failed (a stale entry with EDE 3, RFC 8767 §4, else SERVFAIL with res->ede).
 */
static size_t
pending_reply(struct query_pending *p, uint8_t *out, size_t cap,
	      const struct resolver_result *res, int *rcode, bool *prefetch)
{
	struct resolver_conf *rc = resolver_fwd_conf(p->w->fwd);
	struct dns_build b;
	pending_head(p, &b, out, cap);
	struct cache_info info;
	unsigned flags = res != NULL && res->status != RESOLVER_OK ? CACHE_LOOKUP_ALLOW_STALE : 0;
	if (res != NULL) {
		/* The first lookup of this query counted it; this one reads what was resolved. */
		flags |= CACHE_LOOKUP_QUIET;
	}
	bool validate = rc != NULL && rc->validate && !p->aname;
	if (validate && !p->do_bit) {
		/* One entry with the DNSSEC records serves every client (issue 16). */
		flags |= CACHE_LOOKUP_NODNSSEC;
	}
	uint8_t sec = CACHE_SEC_UNCHECKED;
	int val_ede = -1;
	const char *val_text = NULL;
	struct cache *cache = rc != NULL ? rc->cache : NULL;
	enum cache_result cr = cache != NULL ? cache_lookup(cache, &p->key, cache_now(), &b, flags,
							    &info) : CACHE_MISS;
	if (cr == CACHE_HIT || cr == CACHE_STALE) {
		sec = info.sec;
		val_ede = info.ede;
		val_text = info.text;
		if (validate && sec == CACHE_SEC_UNCHECKED && res == NULL) {
			/* Cached before validation was turned on: resolve and validate it anew. */
			return 0;
		}
	}
	if (cr == CACHE_HIT) {
		*rcode = info.rcode;
		*prefetch = info.prefetch;
	} else if (cr == CACHE_STALE) {
		*rcode = info.rcode;
		/* RFC 8914 §5.4 and §5.20: stale data, or a stale NXDOMAIN. */
		dns_build_ede(&b, info.rcode == DNS_RCODE_NXDOMAIN ? DNS_EDE_STALE_NXDOMAIN
								   : DNS_EDE_STALE_ANSWER, NULL);
	} else if (res == NULL) {
		return 0;
	} else if (res->status == RESOLVER_OK && res->msg != NULL) {
		dns_build_set_flags(&b, 0, DNS_FLAG_AD);
		*rcode = copy_msg(&b, res->msg, validate && !p->do_bit);
		sec = res->sec;
		val_ede = res->val_ede;
		val_text = res->val_text;
	} else {
		*rcode = DNS_RCODE_SERVFAIL;
		dns_build_rcode(&b, DNS_RCODE_SERVFAIL);
		const char *text = res->ede_text;
		if (text == NULL) {
			text = p->kind == STATS_KIND_RECURSIVE ? "no authoritative server answered"
			       : res->ede == DNS_EDE_NETWORK_ERROR ? "forwarders unreachable"
								   : "no forwarder answered";
		}
		dns_build_ede(&b, res->ede, text);
	}
	if (validate && *rcode != DNS_RCODE_SERVFAIL) {
		return pending_verdict(p, &b, out, cap, sec, val_ede, val_text, rcode);
	}
	if (p->filtered) {
		dns_build_set_flags(&b, 0, DNS_FLAG_AD);
	}
	return dns_build_finish(&b);
}

static void
count_reply(struct query_worker *w, const struct query_pending *p, int rcode)
{
	stats_count_rcode(&w->net->stats, rcode);
	if (rcode >= 0) {
		stats_count_type(&w->net->stats, p->qtype);
	}
}

/* ------------------------------------------------------------------------------------------ */
/* ANAME (issue 5): a name's A/AAAA taken from its ANAME target, answered as its own records.  */

/* Addresses kept from a target's rrset; more are left out of the answer. */
#define ANAME_MAX_RR 32
/* ANAMEs that lead to ANAMEs inside our zones, and CNAMEs followed in one message. */
#define ANAME_HOPS_MAX 8
#define ANAME_CHAIN_MAX 16

/* The target's addresses as they will be answered: TTL = the least on the way (ANAME, CNAMEs). */
struct aname_set {
	uint32_t ttl;
	size_t n;
	uint8_t rdlen[ANAME_MAX_RR];
	uint8_t rd[ANAME_MAX_RR][16];
};

/*
 * Follows name's CNAME chain through the answer section of m (RFC 1034 §3.6.2) and adds the
 * rrset of qtype at its end to set (TTLs of the chain count too).  end gets the last name.
 */
static void
aname_extract(const struct dns_msg *m, const uint8_t *name, uint16_t qtype,
	      struct aname_set *set, uint8_t *end)
{
	uint8_t cur[DNS_NAME_MAX], next[DNS_NAME_MAX];
	memcpy(cur, name, dns_name_len(name));
	size_t want = qtype == DNS_TYPE_A ? 4 : 16;
	for (int hop = 0; hop < ANAME_CHAIN_MAX; hop++) {
		bool follow = false;
		uint32_t cname_ttl = 0;
		for (size_t i = 0; i < m->nrr; i++) {
			const struct dns_rr *rr = &m->rrs[i];
			if (rr->section != DNS_SECTION_ANSWER || rr->rclass != DNS_CLASS_IN ||
			    !dns_name_eq(rr->owner, cur)) {
				continue;
			}
			if (rr->type == qtype && rr->rdlen == want && set->n < ANAME_MAX_RR) {
				memcpy(set->rd[set->n], m->pkt + rr->rdata_off, want);
				set->rdlen[set->n++] = (uint8_t)want;
				if (rr->ttl < set->ttl) {
					set->ttl = rr->ttl;
				}
			} else if (rr->type == DNS_TYPE_CNAME && !follow) {
				size_t nlen;
				if (dns_rdata_unpack(DNS_TYPE_CNAME, m->pkt, m->len, rr->rdata_off,
						     rr->rdlen, next, sizeof(next), &nlen) == TDNS_OK &&
				    nlen <= DNS_NAME_MAX) {
					follow = true;
					cname_ttl = rr->ttl;
				}
			}
		}
		if (set->n > 0 || !follow) {
			break;
		}
		if (cname_ttl < set->ttl) {
			set->ttl = cname_ttl;
		}
		memcpy(cur, next, dns_name_len(next));
	}
	memcpy(end, cur, dns_name_len(cur));
}

/* Parses the message in scratch (len octets) and extracts name's qtype rrset from it. */
static bool
aname_extract_buf(const uint8_t *scratch, size_t len, const uint8_t *name, uint16_t qtype,
		  struct aname_set *set, uint8_t *end, bool *soa)
{
	struct dns_msg m;
	memset(&m, 0, sizeof(m));
	if (dns_msg_parse(scratch, len, &m) != TDNS_OK) {
		return false;
	}
	aname_extract(&m, name, qtype, set, end);
	*soa = false;
	for (size_t i = 0; i < m.nrr; i++) {
		if (m.rrs[i].section == DNS_SECTION_AUTHORITY && m.rrs[i].type == DNS_TYPE_SOA) {
			*soa = true;
		}
	}
	dns_msg_clear(&m);
	return true;
}

/*
 * The ANAME rrset that answers qtype at qname from our zones: qname exists in z (not below a
 * zone cut), has an ANAME and neither qtype nor a CNAME.  NULL otherwise.
 */
static const struct zone_rrset *
aname_at(const struct zone *z, const uint8_t *qname, uint16_t qtype)
{
	const struct zone_node *n = zone_find(z, qname);
	if (n == NULL || n->rrsets == NULL) {
		return NULL;
	}
	const struct zone_rrset *an = zone_node_rrset(n, DNS_TYPE_ANAME);
	if (an == NULL || zone_node_rrset(n, qtype) != NULL ||
	    zone_node_rrset(n, DNS_TYPE_CNAME) != NULL) {
		return NULL;
	}
	/* RFC 1034 §4.3.2 step 3b: data at or below a cut is not ours to answer. */
	const uint8_t *p = qname;
	for (int d = dns_name_labels(qname) - dns_name_labels(z->apex); d >= 0; d--) {
		const struct zone_node *x = zone_find(z, p);
		if (x != NULL && (x->flags & ZONE_NODE_DELEG)) {
			return NULL;
		}
		p = dns_name_parent(p);
	}
	return an;
}

/* The first target of an ANAME rrset into target; false if it is not a valid name. */
static bool
aname_target(const struct zone_rrset *an, uint8_t *target)
{
	size_t tl;
	const uint8_t *rd = zone_rrset_target(an, &tl);
	if (rd == NULL) {
		return false;
	}
	memcpy(target, rd, tl);
	return true;
}

/* A zone of ours answers name (not a conditional forwarder zone, nor a deeper one's domain). */
static const struct zone *
aname_local_zone(const struct query_worker *w, const struct resolver_conf *rc,
		 const uint8_t *name)
{
	const struct zone *z = zone_set_match(w->zs, name);
	if (z == NULL || z->forwarder) {
		return NULL;
	}
	const struct resolver_fwd_zone *fz = rc != NULL ? resolver_conf_zone(rc, name) : NULL;
	if (fz != NULL && dns_name_labels(fz->apex) >= dns_name_labels(z->apex)) {
		return NULL;
	}
	return z;
}

/*
 * Resolves name's qtype from our zones into set.  True when the answer is final (set->n 0:
 * the target has no such data, NXDOMAIN or NODATA, or ANAMEs loop); false when the chain left
 * our zones: name is then the first name outside them, for the resolver.
 */
static bool
aname_local(const struct query_worker *w, const struct resolver_conf *rc, uint8_t *name,
	    uint16_t qtype, struct aname_set *set, uint8_t *scratch)
{
	for (int hop = 0; hop < ANAME_HOPS_MAX; hop++) {
		const struct zone *z = aname_local_zone(w, rc, name);
		if (z == NULL) {
			return false;
		}
		struct dns_query q;
		memset(&q, 0, sizeof(q));
		q.qdcount = 1;
		q.qname_len = dns_name_len(name);
		memcpy(q.qname, name, q.qname_len);
		q.qtype = qtype;
		q.qclass = DNS_CLASS_IN;
		struct dns_build b;
		dns_build_init(&b, scratch, DNS_MSG_MAX, DNS_MSG_MAX, 0, DNS_FLAG_QR);
		(void)dns_build_question(&b, q.qname, qtype, DNS_CLASS_IN);
		struct zone_answer_info info;
		memset(&info, 0, sizeof(info));
		zone_answer(w->zs, &q, &b, &info);
		size_t len = dns_build_finish(&b);
		uint8_t end[DNS_NAME_MAX];
		bool soa = false;
		if (!aname_extract_buf(scratch, len, name, qtype, set, end, &soa)) {
			return true;
		}
		if (set->n > 0 || info.rcode != DNS_RCODE_NOERROR) {
			return true;
		}
		if (!soa) {
			/* A CNAME out of our zones, or a referral: the resolver goes on from end. */
			memcpy(name, end, dns_name_len(end));
			return false;
		}
		/* NODATA at end: an ANAME there leads on (Technitium allows ANAME to ANAME). */
		const struct zone *ez = aname_local_zone(w, rc, end);
		const struct zone_rrset *an = ez != NULL ? aname_at(ez, end, qtype) : NULL;
		if (an == NULL || !aname_target(an, name)) {
			return true;
		}
		if (an->ttl < set->ttl) {
			set->ttl = an->ttl;
		}
	}
	return true;
}

/* Looks name's qtype up in the cache into set; false on a miss. */
static bool
aname_cached(struct cache *cache, const struct cache_key *k, unsigned flags,
	     struct aname_set *set, uint8_t *scratch, bool *stale)
{
	struct dns_build b;
	dns_build_init(&b, scratch, DNS_MSG_MAX, DNS_MSG_MAX, 0, DNS_FLAG_QR);
	(void)dns_build_question(&b, k->name, k->qtype, k->qclass);
	/* The ANAME target is the server's own question, not the client's: counted nowhere. */
	struct cache_info info;
	enum cache_result cr = cache_lookup(cache, k, cache_now(), &b, flags | CACHE_LOOKUP_QUIET,
					    &info);
	if (cr == CACHE_MISS) {
		return false;
	}
	*stale = cr == CACHE_STALE;
	size_t len = dns_build_finish(&b);
	uint8_t end[DNS_NAME_MAX];
	bool soa;
	if (info.rcode == DNS_RCODE_NOERROR) {
		(void)aname_extract_buf(scratch, len, k->name, k->qtype, set, end, &soa);
	}
	return info.rcode != DNS_RCODE_SERVFAIL;
}

/*
 * The authoritative reply to p's ANAME query: the addresses of set as qname's own (AA, owner
 * as the client wrote it), or, with none, what the zone says (NODATA with the SOA, RFC 2308
 * §2.2), plus the EDE (code, text) when text is not NULL.  servfail: SERVFAIL with that EDE.
 */
static size_t
aname_build(struct query_worker *w, struct query_pending *p, uint8_t *out, size_t cap,
	    const struct aname_set *set, bool servfail, uint16_t ede, const char *text,
	    int *rcode)
{
	struct dns_build b;
	pending_start(p, &b, out, cap);
	if (servfail) {
		dns_build_rcode(&b, DNS_RCODE_SERVFAIL);
		*rcode = DNS_RCODE_SERVFAIL;
	} else if (set->n > 0) {
		dns_build_set_flags(&b, DNS_FLAG_AA, DNS_FLAG_AD);
		*rcode = DNS_RCODE_NOERROR;
		for (size_t i = 0; i < set->n; i++) {
			if (dns_build_rr(&b, DNS_SECTION_ANSWER, p->qname, p->qtype, DNS_CLASS_IN,
					 set->ttl, set->rd[i], set->rdlen[i]) != TDNS_OK) {
				/* RFC 2181 §9: an incomplete answer section means TC. */
				dns_build_truncate(&b);
				break;
			}
		}
	} else {
		struct dns_query q;
		memset(&q, 0, sizeof(q));
		q.id = p->id;
		q.flags = p->flags;
		q.qdcount = 1;
		q.qname_len = dns_name_len(p->qname);
		memcpy(q.qname, p->qname, q.qname_len);
		q.qtype = p->qtype;
		q.qclass = p->qclass;
		struct zone_answer_info info;
		memset(&info, 0, sizeof(info));
		zone_answer(w->zs, &q, &b, &info);
		*rcode = info.rcode;
	}
	if (text != NULL) {
		dns_build_ede(&b, ede, text);
	}
	return dns_build_finish(&b);
}

/* The deferred reply of an ANAME query once the resolver answered for p->key (or failed). */
static size_t
aname_reply(struct query_pending *p, uint8_t *out, size_t cap, const struct resolver_result *res,
	    int *rcode)
{
	struct resolver_conf *rc = resolver_fwd_conf(p->w->fwd);
	struct aname_set set = { .ttl = p->aname_ttl };
	uint8_t *scratch = malloc(DNS_MSG_MAX);
	if (scratch == NULL) {
		*rcode = -1;
		return 0;
	}
	bool ok = res->status == RESOLVER_OK;
	bool stale = false, found = false;
	if (rc != NULL && rc->cache != NULL) {
		found = aname_cached(rc->cache, &p->key, ok ? 0 : CACHE_LOOKUP_ALLOW_STALE, &set,
				     scratch, &stale);
	}
	if (!found && ok && res->msg != NULL && res->msg->rcode != DNS_RCODE_SERVFAIL) {
		/* Not cached (TTL 0, too big): the answer itself. */
		uint8_t end[DNS_NAME_MAX];
		if (res->msg->rcode == DNS_RCODE_NOERROR) {
			aname_extract(res->msg, p->key.name, p->key.qtype, &set, end);
		}
		found = true;
	}
	free(scratch);
	if (stale && set.ttl > CACHE_STALE_TTL_OUT) {
		set.ttl = CACHE_STALE_TTL_OUT;
	}
	if (found) {
		/* RFC 8914 §5.4: the target's addresses were stale. */
		return aname_build(p->w, p, out, cap, &set, false, DNS_EDE_STALE_ANSWER,
				   stale ? "ANAME target served stale" : NULL, rcode);
	}
	const char *text = res->ede_text != NULL ? res->ede_text : "ANAME target not resolved";
	return aname_build(p->w, p, out, cap, &set, true,
			   ok ? DNS_EDE_NO_REACHABLE_AUTHORITY : res->ede, text, rcode);
}

/*
 * The question of a packet without parsing the rest: its type, and in *qname its name (RFC 1035
 * §4.1.2: uncompressed labels); -1 if there is no such question.
 */
static int
packet_question(const uint8_t *pkt, size_t len, const uint8_t **qname)
{
	int end = dns_msg_question_end(pkt, len);
	if (end < 0 || tdns_get16(pkt + 4) != 1 || (size_t)end + 2 >= len ||
	    (size_t)end + 1 - DNS_HDR_LEN > DNS_NAME_MAX) {
		return -1;
	}
	*qname = pkt + DNS_HDR_LEN;
	return tdns_get16(pkt + end + 1);
}

static void pending_done(void *arg, void *result);

#define BUSY_TEXT "server busy: too many outstanding queries"
#define JOSTLED_TEXT "dropped for newer queries: too many outstanding"

static int64_t
ms_since(const struct timespec *t0)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

/*
 * Issue 13, Unbound's jostling: whether one more query may be deferred.  Below
 * max-outstanding, yes.  At it, the oldest outstanding query makes room if it has run longer
 * than jostle-timeout (it is answered SERVFAIL with EDE 0 now, and its resolution stops unless
 * another client waits for it); else the new query is turned away.
 */
static bool
pending_admit(struct query_worker *w)
{
	const struct resolver_conf *rc = resolver_fwd_conf(w->fwd);
	struct query_pending *old = TAILQ_FIRST(&w->outstanding);
	if (rc == NULL || old == NULL || w->noutstanding < rc->max_outstanding) {
		return true;
	}
	/* Not while answering a jostled query: its transport may read more (DoH) right away. */
	if (w->jostling || ms_since(&old->start) < (int64_t)rc->jostle_ms ||
	    !resolver_fwd_cancel(w->fwd, &old->key, &old->waiter)) {
		w->net->stats.busy_refused++;
		return false;
	}
	w->net->stats.jostled++;
	struct resolver_result res = {
		.status = RESOLVER_FAIL,
		.ede = DNS_EDE_OTHER,
		.upstream_rcode = -1,
		.ede_text = JOSTLED_TEXT,
	};
	w->jostling = true;
	pending_done(old, &res);
	w->jostling = false;
	/* A query its transport read meanwhile may have taken the slot. */
	if (w->noutstanding >= rc->max_outstanding) {
		w->net->stats.busy_refused++;
		return false;
	}
	return true;
}

/* A reply to p now: rc (REFUSED, SERVFAIL) with EDE (ede, text). */
static size_t
reply_error(struct query_pending *p, uint8_t *out, size_t cap, int rc, uint16_t ede,
	    const char *text, int *rcode)
{
	struct dns_build b;
	pending_start(p, &b, out, cap);
	dns_build_rcode(&b, rc);
	dns_build_ede(&b, ede, text);
	*rcode = rc;
	return dns_build_finish(&b);
}

/*
 * Hands a copy of p to the resolver (the iterator, else the forwarder with servers) for
 * p->key; the reply goes to cl when it answers: on its TCP or DoT connection (kept alive by a
 * pending count), through its deliver callback (DoH), or from its UDP socket to its address.
 * Returns 0 then (*rcode NET_RCODE_DEFERRED, or -1 out of memory), or the length of the
 * SERVFAIL written into out (cap octets) when the worker has too many queries outstanding.
 */
static size_t
pending_defer(struct query_worker *w, struct query_pending *p, const struct net_client *cl,
	      bool tcp, const struct resolver_servers *servers, bool iterate, uint8_t *out,
	      size_t cap, int *rcode)
{
	if (!pending_admit(w)) {
		/* RFC 8914 §4.1: EDE 0 with a text; no code of the registry says "overloaded". */
		return reply_error(p, out, cap, DNS_RCODE_SERVFAIL, DNS_EDE_OTHER, BUSY_TEXT, rcode);
	}
	struct query_pending *d = malloc(sizeof(*d));
	if (d == NULL) {
		*rcode = -1;
		return 0;
	}
	*d = *p;
	d->nsid = w->nsid_asked; /* issue 14 hook */
	d->start = w->net->qstart;
	d->tcp = tcp;
	d->transport = cl->transport;
	d->waiter.fn = pending_done;
	d->waiter.arg = d;
	d->waiter.next = NULL;
	if (cl->peer != NULL && cl->peerlen <= sizeof(d->peer)) {
		memcpy(&d->peer, cl->peer, cl->peerlen);
		d->peerlen = cl->peerlen;
	}
	/* The transport keeps what its reply needs (a connection reference, the address). */
	d->deliver = cl->deliver;
	d->handle = cl->keep(cl);
	if (d->handle == NULL) {
		free(d);
		*rcode = -1;
		return 0;
	}
	TAILQ_INSERT_TAIL(&w->outstanding, d, link);
	w->net->stats.outstanding = ++w->noutstanding;
	if (iterate) {
		resolver_iter_query(w->fwd, &d->key, &d->waiter);
	} else {
		resolver_fwd_query(w->fwd, &d->key, servers, &d->waiter);
	}
	*rcode = NET_RCODE_DEFERRED;
	return 0;
}

/*
 * A deferred query's header and question from the parsed query q: ID, QR with the opcode,
 * RD and CD copied (RFC 4035 §3.1.6; RA is the reply builder's), EDNS and DO, and the size
 * the reply may take over this transport.
 */
static void
pending_init(struct query_pending *p, struct query_worker *w, const struct dns_query *q,
	     bool edns, bool tcp)
{
	memset(p, 0, sizeof(*p));
	p->w = w;
	p->id = q->id;
	p->flags = DNS_FLAG_QR | (q->flags & (QUERY_OPCODE_MASK | DNS_FLAG_RD | DNS_FLAG_CD));
	memcpy(p->qname, q->qname, q->qname_len);
	p->qtype = q->qtype;
	p->qclass = q->qclass;
	p->edns = edns;
	p->do_bit = edns && q->edns.do_bit;
	p->ad_bit = (q->flags & DNS_FLAG_AD) != 0;
	p->limit = query_reply_limit(q, tcp, w->net->set->udp_max);
}

/*
 * An A or AAAA query for a name of our zones that has an ANAME (and no rrset of that type):
 * the target's addresses are answered as the name's own (Technitium's ANAME; issue 5).  A
 * target in our zones is answered from them at once; one outside them comes from the cache,
 * or is resolved through the forwarders (mode forward, or the target's conditional forwarder
 * zone) or the iterator (mode recursive) and the reply deferred.  With recursion off and the
 * target outside our zones: NODATA with EDE 0.  False when q is not such a query.
 */
static bool
aname_query(struct query_worker *w, const uint8_t *pkt, size_t len, uint8_t *out, size_t cap,
	    const struct net_client *cl, int *rcode, size_t *rlen)
{
	/* Cheap tests first: every A and AAAA query of the server comes through here. */
	if (!zone_set_has_aname(w->zs)) {
		return false;
	}
	const uint8_t *qname;
	int qt = packet_question(pkt, len, &qname);
	if (qt != DNS_TYPE_A && qt != DNS_TYPE_AAAA) {
		return false;
	}
	struct resolver_conf *rc = w->fwd != NULL ? resolver_fwd_conf(w->fwd) : NULL;
	const struct zone *z = aname_local_zone(w, rc, qname);
	const struct zone_rrset *an = z != NULL ? aname_at(z, qname, (uint16_t)qt) : NULL;
	uint8_t name[DNS_NAME_MAX];
	if (an == NULL || !aname_target(an, name)) {
		return false;
	}
	struct dns_query q;
	if (dns_query_parse(pkt, len, &q) != DNS_RCODE_NOERROR || q.qclass != DNS_CLASS_IN ||
	    q.edns_count > 1 || (q.edns.present && q.edns.version > 0)) {
		return false;
	}
	struct query_pending p;
	pending_init(&p, w, &q, q.edns.present, cl->stream);
	p.kind = STATS_KIND_AUTHORITATIVE;
	p.aname = true;
	p.aname_ttl = an->ttl;

	struct aname_set as = { .ttl = an->ttl };
	uint8_t *scratch = malloc(DNS_MSG_MAX);
	if (scratch == NULL) {
		*rcode = -1;
		*rlen = 0;
		return true;
	}
	bool local = aname_local(w, rc, name, q.qtype, &as, scratch);
	p.aname_ttl = as.ttl;
	const struct resolver_servers *servers = NULL;
	bool iterate = false, cached = false, stale = false;
	if (!local && rc != NULL) {
		servers = resolver_conf_servers(rc, name);
		iterate = servers == NULL && rc->mode == CFG_RECURSION_RECURSIVE &&
			  rc->iter != NULL && resolver_conf_zone(rc, name) == NULL;
		cache_key_init(&p.key, name, q.qtype, DNS_CLASS_IN, 0);
		if ((servers != NULL || iterate) && rc->cache != NULL) {
			cached = aname_cached(rc->cache, &p.key, 0, &as, scratch, &stale);
		}
	}
	free(scratch);
	if (local || cached) {
		*rlen = aname_build(w, &p, out, cap, &as, false, 0, NULL, rcode);
		return true;
	}
	if (servers == NULL && !iterate) {
		/* RFC 8914 §5.1: no resolver here for the target; say why the data is missing. */
		*rlen = aname_build(w, &p, out, cap, &as, false, DNS_EDE_OTHER,
				    "ANAME target outside local zones and recursion off", rcode);
		return true;
	}
	*rlen = pending_defer(w, &p, cl, cl->stream, servers, iterate, out, cap, rcode);
	return true;
}

/* The waiter's callback: the upstream answered or failed; reply to the client now. */
static void
pending_done(void *arg, void *result)
{
	struct query_pending *p = arg;
	const struct resolver_result *res = result;
	struct query_worker *w = p->w;
	TAILQ_REMOVE(&w->outstanding, p, link);
	w->net->stats.outstanding = --w->noutstanding;
	if (res->status == RESOLVER_SHUTDOWN) {
		p->deliver(p->handle, NULL, 0);
		free(p);
		return;
	}
	int rcode = -1;
	bool prefetch = false;
	uint8_t *out = w->net->tcp_out + 2;
	size_t rlen = p->aname ? aname_reply(p, out, DNS_MSG_MAX, res, &rcode)
			       : pending_reply(p, out, DNS_MSG_MAX, res, &rcode, &prefetch);
	/* Issue 14 hook: NSID on deferred replies too (RFC 5001). */
	rlen = rlen > 0 && p->nsid ? dns_ident_nsid_put(&w->net->set->ident, out, rlen, p->limit)
				   : rlen;
	count_reply(w, p, rlen > 0 ? rcode : -1);
	if (rlen > 0) {
		stats_note_reply(w->net->sw, out, rlen);
		stats_note_query(w->net->sw, p->peerlen > 0 ? (const struct sockaddr *)&p->peer : NULL,
				 p->qname, p->qtype, rcode, p->kind, p->transport,
				 &p->start);
	} else {
		stats_note_dropped(w->net->sw, &p->start);
	}
	/* Through the transport: framed on its connection, a DoH response, or a datagram. */
	p->deliver(p->handle, rlen > 0 ? out : NULL, rlen);
	free(p);
}


/*
 * In a forwarder zone whose file we serve, the records at qname override what is forwarded
 * (issue 4): true when qname has an rrset of qtype there (answer authoritatively).  CNAMEs
 * there are put in p's prefix and followed while they stay in the zone (up to PREFIX_MAX);
 * the first name the zone has no answer for becomes target, the name resolved.  A chain that
 * ends at data of the zone is answered authoritatively too (zone_answer follows it).
 */
static bool
zone_override(const struct zone *z, const struct dns_query *q, struct query_pending *p,
	      uint8_t *target)
{
	const uint8_t *name = q->qname;
	for (size_t i = 0; i <= PREFIX_MAX; i++) {
		const struct zone_node *n = dns_name_is_sub(name, z->apex) ? zone_find(z, name) : NULL;
		if (n == NULL || n->rrsets == NULL) {
			break;
		}
		if (n == z->apex_node && (q->qtype == DNS_TYPE_SOA || q->qtype == DNS_TYPE_NS ||
					  q->qtype == DNS_TYPE_ANY)) {
			/* The apex's SOA and NS are the real zone's: ask its forwarders. */
			break;
		}
		if (zone_node_rrset(n, q->qtype) != NULL || q->qtype == DNS_TYPE_ANY) {
			return true;
		}
		const struct zone_rrset *cname = zone_node_rrset(n, DNS_TYPE_CNAME);
		if (cname == NULL || i == PREFIX_MAX) {
			break;
		}
		const uint8_t *rd;
		uint16_t rdlen;
		zone_rdata_next(cname->data, &rd, &rdlen);
		if (rdlen > DNS_NAME_MAX) {
			break;
		}
		memcpy(p->prefix[i].owner, name, dns_name_len(name));
		p->prefix[i].ttl = cname->ttl;
		p->prefix[i].rdlen = rdlen;
		memcpy(p->prefix[i].rd, rd, rdlen);
		p->nprefix = i + 1;
		name = p->prefix[i].rd;
	}
	memcpy(target, name, dns_name_len(name));
	return false;
}

static size_t
query_pipeline(struct query_worker *w, const uint8_t *pkt, size_t len, uint8_t *out, size_t cap,
	       const struct net_client *cl, int *rcode);

/*
 * The end of the resolver path for p (made from q): target's qtype from the cache (the
 * reply in out, a prefetch started when the entry is near its end), else handed to the
 * resolver (servers, or the iterator) and the reply deferred (pending_defer's results).
 */
static size_t
pending_resolve(struct query_worker *w, struct query_pending *p, const struct dns_query *q,
		const uint8_t *target, const struct net_client *cl,
		const struct resolver_servers *servers, bool iterate, uint8_t *out, size_t cap,
		int *rcode)
{
	struct resolver_conf *rc = resolver_fwd_conf(w->fwd);
	unsigned kflags = (p->do_bit ? CACHE_KEY_DO : 0) |
			  ((q->flags & DNS_FLAG_CD) ? CACHE_KEY_CD : 0);
	if (rc != NULL && rc->validate) {
		/*
		 * Issue 16: upstreams are always asked with DO (and CD to forwarders), so one
		 * entry holds the DNSSEC records and the verdict for every client; the records
		 * are left out at lookup for clients without DO, and CD only changes the reply.
		 */
		kflags = CACHE_KEY_DO;
	}
	cache_key_init(&p->key, target, q->qtype, q->qclass, kflags);
	bool prefetch = false;
	size_t rlen = pending_reply(p, out, cap, NULL, rcode, &prefetch);
	if (rlen > 0) {
		if (prefetch && rc->prefetch) {
			/* Refresh it upstream now; this client already has its answer. */
			if (iterate) {
				resolver_iter_query(w->fwd, &p->key, NULL);
			} else {
				resolver_fwd_query(w->fwd, &p->key, servers, NULL);
			}
		}
		w->net->qkind = STATS_KIND_CACHED;
		return rlen;
	}
	return pending_defer(w, p, cl, cl->stream, servers, iterate, out, cap, rcode);
}

/*
 * Issue 18, safe search: a query for a name of the safe-search table from a client with safe
 * search on is answered with a CNAME to the vendor's endpoint (EDE 17) and the endpoint's
 * data of the query type, from the cache or resolved the way the target of a forwarder
 * zone's CNAME is (the CNAME leads the answer as a prefix).  A CNAME query, ANY, or an
 * endpoint this server does not resolve for the client (recursion off, the client outside
 * [recursion] allow) get the CNAME alone.  False when q is not such a query.
 */
static bool
safe_search_query(struct query_worker *w, const uint8_t *pkt, size_t len, uint8_t *out,
		  size_t cap, const struct net_client *cl, int *rcode, size_t *rlen)
{
	const uint8_t *qname;
	uint32_t ttl = 0;
	const uint8_t *target = packet_question(pkt, len, &qname) >= 0
				? query_blocking_safe(w->blk, qname, cl->peer, &ttl, NULL) : NULL;
	struct dns_query q;
	if (target == NULL || dns_query_parse(pkt, len, &q) != DNS_RCODE_NOERROR ||
	    q.qclass != DNS_CLASS_IN || q.edns_count > 1 ||
	    (q.edns.present && q.edns.version > 0) ||
	    (dns_type_is_meta(q.qtype) && q.qtype != DNS_TYPE_ANY)) {
		/* Not listed; errors and transfers are the pipeline's. */
		return false;
	}
	struct query_pending p;
	pending_init(&p, w, &q, q.edns.present, cl->stream);
	p.filtered = true;
	memcpy(p.prefix[0].owner, q.qname, q.qname_len);
	p.prefix[0].ttl = ttl;
	p.prefix[0].rdlen = (uint16_t)dns_name_len(target);
	memcpy(p.prefix[0].rd, target, p.prefix[0].rdlen);
	p.nprefix = 1;
	struct resolver_conf *rc = w->fwd != NULL ? resolver_fwd_conf(w->fwd) : NULL;
	const struct resolver_servers *servers = NULL;
	bool iterate = false;
	/* RFC 1034 §3.6.2: a CNAME query is answered with the CNAME, not its target's data. */
	if (rc != NULL && q.qtype != DNS_TYPE_CNAME && q.qtype != DNS_TYPE_ANY &&
	    cl->peer != NULL && filter_acl_match(&rc->allow, cl->peer)) {
		servers = resolver_conf_servers(rc, target);
		iterate = servers == NULL && rc->mode == CFG_RECURSION_RECURSIVE &&
			  rc->iter != NULL && resolver_conf_zone(rc, target) == NULL;
	}
	if (servers == NULL && !iterate) {
		struct dns_build b;
		pending_head(&p, &b, out, cap);
		dns_build_set_flags(&b, 0, DNS_FLAG_AD);
		*rcode = DNS_RCODE_NOERROR;
		*rlen = dns_build_finish(&b);
		return true;
	}
	p.kind = iterate ? STATS_KIND_RECURSIVE : STATS_KIND_FORWARDED;
	*rlen = pending_resolve(w, &p, &q, target, cl, servers, iterate, out, cap, rcode);
	return true;
}

/* The handler's query entry (struct net_handler): see there for the results. */
static size_t
worker_query(void *wctx, const uint8_t *pkt, size_t len, uint8_t *out, size_t cap,
	     const struct net_client *cl, int *rcode)
{
	struct query_worker *w = wctx;
	size_t udp_max = w->net->set->udp_max, n;
	/* Issue 17: signed queries and zone transfers (query-xfr.c). */
	if (query_xfr(w->zs, w->xfr, w->net, pkt, len, out, cap, cl, rcode, &n)) {
		return n;
	}
	/* Issue 14 hook: CH identity and NSID around the pipeline (src/dns/ident.c). */
	const struct dns_ident *id = &w->net->set->ident;
	if (dns_ident_answer(id, pkt, len, out, cap, cl->stream, udp_max, rcode, &n)) {
		return dns_ident_nsid(id, pkt, len, out, n, cap, cl->stream, udp_max);
	}
	w->nsid_asked = dns_ident_nsid_asked(id, pkt, len);
	n = query_pipeline(w, pkt, len, out, cap, cl, rcode);
	n = query_xfr_expire(w->xfr, pkt, len, out, n, cap, cl, udp_max);
	return n > 0 && w->nsid_asked ? dns_ident_nsid(id, pkt, len, out, n, cap, cl->stream,
						       udp_max) : n;
}

static size_t
query_pipeline(struct query_worker *w, const uint8_t *pkt, size_t len, uint8_t *out, size_t cap,
	       const struct net_client *cl, int *rcode)
{
	const struct net_settings *set = w->net->set;
	bool tcp = cl->stream;
	struct resolver_conf *rc = w->fwd != NULL ? resolver_fwd_conf(w->fwd) : NULL;
	w->net->qkind = STATS_KIND_AUTHORITATIVE;
	size_t blen;
	if (query_blocking_enabled(w->blk) &&
	    query_blocking_answer(w->blk, pkt, len, out, cap, cl, set->udp_max, w->net->sw, rcode,
				  &blen)) {
		/* Issue 18: before zones and resolver, so a listed name never leaves the server. */
		w->net->qkind = STATS_KIND_BLOCKED;
		return blen;
	}
	if (w->fwd != NULL) {
		/* Issue 5: the iterator answers root steps from a local root zone among these. */
		resolver_fwd_set_zones(w->fwd, &w->zs);
	}
	if (query_blocking_enabled(w->blk) &&
	    safe_search_query(w, pkt, len, out, cap, cl, rcode, &blen)) {
		return blen;
	}
	size_t alen;
	if (aname_query(w, pkt, len, out, cap, cl, rcode, &alen)) {
		return alen;
	}
	if (rc == NULL || (rc->mode == CFG_RECURSION_OFF && rc->nzones == 0)) {
		return query_answer(w->zs, pkt, len, out, cap, tcp, set->udp_max, rcode);
	}
	struct dns_query q;
	int prc = dns_query_parse(pkt, len, &q);
	bool edns = q.edns.present && q.edns_count == 1;
	if (prc != DNS_RCODE_NOERROR || (edns && q.edns.version > 0) ||
	    q.qclass != DNS_CLASS_IN || q.qtype == DNS_TYPE_AXFR || q.qtype == DNS_TYPE_IXFR ||
	    (dns_type_is_meta(q.qtype) && q.qtype != DNS_TYPE_ANY)) {
		return query_answer_parsed(w->zs, &q, prc, out, cap, tcp, set->udp_max, rcode);
	}
	const struct zone *z = zone_set_match(w->zs, q.qname);
	if (z != NULL && z->apex[0] == 0 && rc->mode != CFG_RECURSION_OFF &&
	    (q.flags & DNS_FLAG_RD) != 0 && cl->peer != NULL &&
	    filter_acl_match(&rc->allow, cl->peer)) {
		/*
		 * Issue 5 (RFC 8806): a local root zone matches every name but is there for the
		 * iterator; clients that get recursion have names outside our other zones
		 * resolved, others get the root zone's own answers and referrals.
		 */
		z = NULL;
	}
	const struct resolver_fwd_zone *fz = resolver_conf_zone(rc, q.qname);
	if (z != NULL && (fz == NULL || dns_name_labels(z->apex) > dns_name_labels(fz->apex))) {
		/* Our own data: authoritative, whatever the ACL says. */
		return query_answer_parsed(w->zs, &q, prc, out, cap, tcp, set->udp_max, rcode);
	}
	struct query_pending p;
	pending_init(&p, w, &q, edns, tcp);
	uint8_t target[DNS_NAME_MAX];
	memcpy(target, q.qname, q.qname_len);
	if (z != NULL && fz != NULL && dns_name_eq(z->apex, fz->zone_apex) &&
	    zone_override(z, &q, &p, target)) {
		size_t n = query_answer_parsed(w->zs, &q, prc, out, cap, tcp, set->udp_max, rcode);
		/*
		 * The zone's own records stand in for what would be forwarded; recursion is
		 * available to this client for the rest of the domain (RFC 1035 §4.1.1: RA).
		 */
		if (n >= DNS_HDR_LEN && cl->peer != NULL && filter_acl_match(&rc->allow, cl->peer)) {
			out[3] |= (uint8_t)DNS_FLAG_RA;
		}
		return n;
	}
	const struct resolver_servers *servers = resolver_conf_servers(rc, target);
	/*
	 * Issue 5: in mode recursive, names outside our zones and outside every conditional
	 * forwarder zone are resolved by the iterator.
	 */
	bool iterate = servers == NULL && rc->mode == CFG_RECURSION_RECURSIVE &&
		       rc->iter != NULL && resolver_conf_zone(rc, target) == NULL;
	p.kind = iterate ? STATS_KIND_RECURSIVE : STATS_KIND_FORWARDED;
	if (servers == NULL && !iterate) {
		/* Not ours and not resolved here: REFUSED as an authoritative-only server says. */
		return query_answer_parsed(w->zs, &q, prc, out, cap, tcp, set->udp_max, rcode);
	}
	if (cl->peer == NULL || !filter_acl_match(&rc->allow, cl->peer)) {
		/* RFC 8914 §5.18: recursion is not offered to this client. */
		return reply_error(&p, out, cap, DNS_RCODE_REFUSED, DNS_EDE_PROHIBITED,
				   "recursion not allowed", rcode);
	}
	return pending_resolve(w, &p, &q, target, cl, servers, iterate, out, cap, rcode);
}

/* ------------------------------------------------------------------------------------------ */
/* The handler given to the listeners, and publication on the workers                          */

static void *
worker_new(void *arg, struct net_worker *nw)
{
	(void)arg;
	struct query_worker *w = calloc(1, sizeof(*w));
	if (w == NULL) {
		return NULL;
	}
	w->net = nw;
	TAILQ_INIT(&w->outstanding);
	w->fwd = resolver_fwd_new(nw->base, nw->id);
	if (w->fwd == NULL) {
		free(w);
		return NULL;
	}
	return w;
}

static void
worker_free(void *wctx)
{
	struct query_worker *w = wctx;
	/* Queries still deferred are abandoned through their transports' callbacks. */
	resolver_fwd_free(w->fwd);
	free(w);
}

static const struct net_handler handler = {
	.worker_new = worker_new,
	.worker_free = worker_free,
	.query = worker_query,
};

int
query_server_new(const struct cfg *c, unsigned nworkers, struct net_server **out, char *err,
		 size_t errlen)
{
	return net_server_new(c, nworkers, &handler, out, err, errlen);
}

static void
set_zones(void *wctx, void *arg)
{
	struct query_worker *w = wctx;
	w->zs = arg;
}

void
query_publish_zones(struct net_server *s, const struct zone_set *zs)
{
	/* The set is only read by the workers; the cast carries it through void *. */
	net_server_run_all(s, set_zones, (void *)zs);
}

static void
set_xfr(void *wctx, void *arg)
{
	struct query_worker *w = wctx;
	w->xfr = arg;
}

void
query_publish_xfr(struct net_server *s, const struct zone_xfr_conf *xc)
{
	/* Read-only on the workers; running transfers keep copies of what they use. */
	net_server_run_all(s, set_xfr, (void *)xc);
}

static void
set_blocking(void *wctx, void *arg)
{
	struct query_worker *w = wctx;
	w->blk = arg;
}

void
query_publish_blocking(struct net_server *s, const struct query_blocking *qb)
{
	/* Only read by the workers; the cast carries it through void *. */
	net_server_run_all(s, set_blocking, (void *)qb);
}

static void
set_resolver(void *wctx, void *arg)
{
	struct query_worker *w = wctx;
	resolver_fwd_set_conf(w->fwd, arg);
}

void
query_publish_resolver(struct net_server *s, struct resolver_conf *rc)
{
	net_server_run_all(s, set_resolver, rc);
}
