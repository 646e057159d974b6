/* SPDX-License-Identifier: MIT */
/* validate: the asynchronous DNSSEC validator of upstream answers (chain of trust, proofs). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/core.h"
#include "resolver/val_int.h"

#define VAL_MAX_SETS 64     /* RRsets of one answer that are checked; more: bogus */
#define VAL_MAX_KEYS 16     /* DNSKEYs kept per zone (KeyTrap: the budget bounds the work) */
#define VAL_MAX_ZONES 12    /* zones whose keys one request holds */
#define VAL_MAX_TARGETS 24  /* names whose key search is remembered */
#define VAL_MAX_NSEC3 32    /* NSEC3 records used in one proof */
#define VAL_SKEW 300        /* seconds of clock skew allowed on signature windows */
#define VAL_CHUNK 16384     /* rdata arena chunk */

static void
name_text(const uint8_t *name, char *buf, size_t cap)
{
	if (dns_name_to_text(name, buf, cap) < 0) {
		snprintf(buf, cap, "?");
	}
}

static int
sec_rank(enum cache_sec s)
{
	return val_sec_rank(s);
}

/* ---- request state ------------------------------------------------------------------------ */

/* Uncompressed rdata, kept in chunks so that pointers stay valid. */
struct chunk {
	struct chunk *next;
	size_t used;
	uint8_t data[VAL_CHUNK];
};

/* One RRset of the answer with its RRSIGs. */
struct vset {
	const uint8_t *owner;
	uint16_t type, rclass;
	int section;
	struct dnssec_rdata rd[DNSSEC_RRSET_MAX];
	size_t nrd;
	struct dnssec_rdata sig[16];
	size_t nsig;
	uint8_t signer[DNS_NAME_MAX]; /* of the first RRSIG covering it; root when none */
	bool has_signer;
	bool synth;                   /* a CNAME synthesised from a DNAME (RFC 6672 §3.1) */
	bool done;
	struct cache_val v;
	struct dnssec_verify_info info;
};

/* The keys of one zone, or why there are none. */
struct ke {
	uint8_t zone[DNS_NAME_MAX];
	struct cache_val v;           /* SECURE: keys hold the zone's DNSKEYs */
	struct dnssec_key *keys[VAL_MAX_KEYS];
	size_t nkeys;
};

/* A name whose key search ended: the key entry that applies to it. */
struct target {
	uint8_t name[DNS_NAME_MAX];
	size_t ke;
};

enum walk_phase { W_IDLE, W_ANCHOR, W_DOWN, W_DS, W_KEY };

struct val_fetch {
	struct cache_waiter w;
	struct cache_key k;
	bool pending;
};

struct val_req {
	const struct val_io *io;
	struct resolver_conf *rc;
	struct cache_key k;
	val_done_fn done;
	void *arg;
	struct val_req **handle;
	uint8_t *pkt;
	struct dns_msg m;
	struct chunk *chunks;
	struct vset *sets;
	size_t nsets, cur;
	struct ke kes[VAL_MAX_ZONES];
	size_t nke;
	struct target targets[VAL_MAX_TARGETS];
	size_t ntargets;
	struct dnssec_budget budget;
	uint32_t now;
	bool running;                 /* inside run(): a fetch answer only records */
	bool cancelled;               /* val_cancel while a fetch answer was under way */
	/* the key search in progress */
	enum walk_phase phase;
	uint8_t w_target[DNS_NAME_MAX];
	uint8_t w_pos[DNS_NAME_MAX];
	uint8_t w_next[DNS_NAME_MAX];
	size_t w_ke;
	/* the fetch in progress and what it gave */
	struct val_fetch fetch;
	uint8_t *sub_pkt;
	struct dns_msg sub;
	struct cache_val sub_v;
	bool sub_ok;
};

static void run(struct val_req *v);

/* Copies len octets of rdata into the arena; NULL when out of memory. */
static uint8_t *
arena_alloc(struct val_req *v, size_t len)
{
	if (len > VAL_CHUNK) {
		return NULL;
	}
	if (v->chunks == NULL || v->chunks->used + len > VAL_CHUNK) {
		struct chunk *c = malloc(sizeof(*c));
		if (c == NULL) {
			return NULL;
		}
		c->next = v->chunks;
		c->used = 0;
		v->chunks = c;
	}
	uint8_t *p = v->chunks->data + v->chunks->used;
	v->chunks->used += len;
	return p;
}

/* The uncompressed rdata of rr of m, in the arena. */
static bool
unpack(struct val_req *v, const struct dns_msg *m, const struct dns_rr *rr,
       struct dnssec_rdata *out)
{
	uint8_t tmp[DNS_MSG_MAX];
	size_t len;
	if (dns_rdata_unpack(rr->type, m->pkt, m->len, rr->rdata_off, rr->rdlen, tmp, sizeof(tmp),
			     &len) != TDNS_OK) {
		return false;
	}
	uint8_t *p = arena_alloc(v, len ? len : 1);
	if (p == NULL) {
		return false;
	}
	memcpy(p, tmp, len);
	out->rd = p;
	out->len = len;
	return true;
}

static void
ke_clear(struct ke *e)
{
	for (size_t i = 0; i < e->nkeys; i++) {
		dnssec_key_free(e->keys[i]);
	}
	e->nkeys = 0;
}

static void
sub_clear(struct val_req *v)
{
	dns_msg_clear(&v->sub);
	memset(&v->sub, 0, sizeof(v->sub));
	free(v->sub_pkt);
	v->sub_pkt = NULL;
	v->sub_ok = false;
}

static void
req_free(struct val_req *v)
{
	for (size_t i = 0; i < v->nke; i++) {
		ke_clear(&v->kes[i]);
	}
	while (v->chunks != NULL) {
		struct chunk *c = v->chunks;
		v->chunks = c->next;
		free(c);
	}
	sub_clear(v);
	dns_msg_clear(&v->m);
	free(v->sets);
	free(v->pkt);
	resolver_conf_unref(v->rc);
	free(v);
}

void
val_cancel(struct val_req *v)
{
	if (v == NULL) {
		return;
	}
	if (v->fetch.pending) {
		v->fetch.pending = false;
		if (!v->io->cancel(v->io->f, &v->fetch.k, &v->fetch.w)) {
			/* Being answered right now: the callback frees the request. */
			v->fetch.pending = true;
			v->cancelled = true;
			v->handle = NULL;
			v->done = NULL;
			return;
		}
	}
	req_free(v);
}

static void
finish(struct val_req *v, const struct cache_val *verdict)
{
	val_stats_add_verifies(v->budget.verify_used);
	if (v->handle != NULL) {
		*v->handle = NULL;
	}
	val_done_fn done = v->done;
	void *arg = v->arg;
	req_free(v);
	if (done != NULL) {
		done(arg, verdict);
	}
}

/* ---- fetching DS and DNSKEY through the resolver ---------------------------------------------- */

/* Parses pkt (taken over) into v->sub with state sv. */
static void
sub_take(struct val_req *v, uint8_t *pkt, size_t len, const struct cache_val *sv)
{
	sub_clear(v);
	v->sub_pkt = pkt;
	v->sub_v = *sv;
	v->sub_ok = dns_msg_parse(pkt, len, &v->sub) == TDNS_OK;
	if (!v->sub_ok) {
		val_verdict(&v->sub_v, CACHE_SEC_INDETERMINATE, DNS_EDE_DNSSEC_INDETERMINATE,
			    "unparsable answer");
	}
}

static void
fetch_cb(void *arg, void *result)
{
	struct val_req *v = arg;
	const struct resolver_result *res = result;
	v->fetch.pending = false;
	if (v->cancelled) {
		req_free(v);
		return;
	}
	struct cache_val sv;
	if (res->status == RESOLVER_SHUTDOWN) {
		/* The worker stops: the request that owns v frees it with val_cancel. */
		return;
	}
	if (res->status != RESOLVER_OK || res->msg == NULL) {
		char name[DNS_NAME_TEXT_MAX];
		name_text(v->fetch.k.name, name, sizeof(name));
		val_verdict(&sv, CACHE_SEC_INDETERMINATE, DNS_EDE_DNSSEC_INDETERMINATE,
			    "%s %s unresolved", name,
			    v->fetch.k.qtype == DNS_TYPE_DS ? "DS" : "DNSKEY");
		sub_clear(v);
		v->sub_v = sv;
		v->sub_ok = false;
	} else {
		uint8_t *copy = malloc(res->msg->len);
		if (copy == NULL) {
			val_verdict(&sv, CACHE_SEC_INDETERMINATE, DNS_EDE_OTHER, "out of memory");
			sub_clear(v);
			v->sub_v = sv;
		} else {
			memcpy(copy, res->msg->pkt, res->msg->len);
			val_verdict(&sv, res->sec, res->val_ede, "%s",
				    res->val_text != NULL ? res->val_text : "");
			sub_take(v, copy, res->msg->len, &sv);
		}
	}
	run(v);
}

/*
 * Gets (name, type) validated: from the cache when a checked entry is there (true: v->sub is
 * set), else asks the resolver (false: run() resumes in fetch_cb).
 */
static bool
fetch(struct val_req *v, const uint8_t *name, uint16_t type)
{
	struct cache_key k;
	cache_key_init(&k, name, type, DNS_CLASS_IN, CACHE_KEY_DO);
	sub_clear(v);
	if (cache_key_eq(&k, &v->k)) {
		/* Our own question: asking it would wait for ourselves. */
		val_verdict(&v->sub_v, CACHE_SEC_INDETERMINATE, DNS_EDE_DNSSEC_INDETERMINATE,
			    "validation loop");
		return true;
	}
	uint8_t *buf = malloc(DNS_MSG_MAX);
	if (buf != NULL) {
		struct dns_build b;
		dns_build_init(&b, buf, DNS_MSG_MAX, DNS_MSG_MAX, 0, DNS_FLAG_QR);
		struct cache_info info;
		if (dns_build_question(&b, k.name, type, DNS_CLASS_IN) == TDNS_OK &&
		    cache_lookup(v->rc->cache, &k, cache_now(), &b, CACHE_LOOKUP_QUIET, &info) ==
			    CACHE_HIT &&
		    info.sec != CACHE_SEC_UNCHECKED && !info.truncated) {
			size_t len = dns_build_finish(&b);
			struct cache_val sv;
			val_verdict(&sv, info.sec, info.ede, "%s", info.text);
			sub_take(v, buf, len, &sv);
			return true;
		}
		free(buf);
	}
	v->fetch.k = k;
	v->fetch.w.fn = fetch_cb;
	v->fetch.w.arg = v;
	v->fetch.w.next = NULL;
	v->fetch.pending = true;
	const struct resolver_servers *servers = resolver_conf_servers(v->rc, name);
	if (servers != NULL) {
		v->io->query(v->io->f, &k, servers, &v->fetch.w);
	} else if (v->rc->mode == CFG_RECURSION_RECURSIVE && v->rc->iter != NULL) {
		v->io->iter_query(v->io->f, &k, &v->fetch.w);
	} else {
		/* No way to ask: the resolver answers RESOLVER_FAIL from the event loop. */
		v->io->query(v->io->f, &k, NULL, &v->fetch.w);
	}
	return false;
}

/* ---- key entries ------------------------------------------------------------------------------ */

static size_t
ke_new(struct val_req *v, const uint8_t *zone, const struct cache_val *cv)
{
	if (v->nke == VAL_MAX_ZONES) {
		/* Reuse the last slot: a request this deep is bounded, not failed. */
		ke_clear(&v->kes[--v->nke]);
	}
	struct ke *e = &v->kes[v->nke];
	memset(e, 0, sizeof(*e));
	memcpy(e->zone, zone, dns_name_len(zone));
	dns_name_lower(e->zone);
	e->v = *cv;
	return v->nke++;
}

static size_t
ke_find(const struct val_req *v, const uint8_t *zone)
{
	for (size_t i = 0; i < v->nke; i++) {
		if (dns_name_eq(v->kes[i].zone, zone)) {
			return i;
		}
	}
	return DNSSEC_NONE;
}

/* Parses the DNSKEYs at zone of m's answer into e (they were validated with m). */
static void
ke_keys_from(struct val_req *v, struct ke *e, const struct dns_msg *m)
{
	for (size_t i = 0; i < m->nrr && e->nkeys < VAL_MAX_KEYS; i++) {
		const struct dns_rr *rr = &m->rrs[i];
		struct dnssec_rdata rd;
		if (rr->section != DNS_SECTION_ANSWER || rr->type != DNS_TYPE_DNSKEY ||
		    !dns_name_eq(rr->owner, e->zone) || !unpack(v, m, rr, &rd)) {
			continue;
		}
		struct dnssec_key *key;
		if (dnssec_key_new(e->zone, rd.rd, rd.len, &key) == DNSSEC_OK) {
			e->keys[e->nkeys++] = key;
		}
	}
}

/* The RRset of type at owner of m's section, with its RRSIGs, into s (rdata in the arena). */
static bool
set_from(struct val_req *v, const struct dns_msg *m, int section, const uint8_t *owner,
	 uint16_t type, struct vset *s)
{
	memset(s, 0, sizeof(*s));
	s->owner = owner;
	s->type = type;
	s->rclass = DNS_CLASS_IN;
	s->section = section;
	for (size_t i = 0; i < m->nrr; i++) {
		const struct dns_rr *rr = &m->rrs[i];
		if (rr->section != section || !dns_name_eq(rr->owner, owner)) {
			continue;
		}
		if (rr->type == type && s->nrd < DNSSEC_RRSET_MAX) {
			if (!unpack(v, m, rr, &s->rd[s->nrd])) {
				return false;
			}
			s->nrd++;
		} else if (rr->type == DNS_TYPE_RRSIG && rr->rdlen >= 2 &&
			   tdns_get16(m->pkt + rr->rdata_off) == type &&
			   s->nsig < sizeof(s->sig) / sizeof(s->sig[0])) {
			if (!unpack(v, m, rr, &s->sig[s->nsig])) {
				return false;
			}
			struct dnssec_rrsig sg;
			if (!s->has_signer &&
			    dnssec_rrsig_parse(s->sig[s->nsig].rd, s->sig[s->nsig].len, &sg) ==
				    TDNS_OK) {
				memcpy(s->signer, sg.signer, sg.signer_len);
				dns_name_lower(s->signer);
				s->has_signer = true;
			}
			s->nsig++;
		}
	}
	return true;
}

/*
 * Verifies the DNSKEY RRset at zone of m (this request's own answer) against ds (DS rdatas)
 * or anchor and makes zone's key entry from it.
 */
static size_t
ke_from_self(struct val_req *v, const uint8_t *zone, const struct dnssec_rdata *ds, size_t nds,
	     const struct dnssec_rdata *akeys, size_t nakeys)
{
	char zt[DNS_NAME_TEXT_MAX];
	name_text(zone, zt, sizeof(zt));
	struct cache_val cv;
	struct vset *s = malloc(sizeof(*s));
	if (s == NULL || !set_from(v, &v->m, DNS_SECTION_ANSWER, zone, DNS_TYPE_DNSKEY, s)) {
		free(s);
		val_verdict(&cv, CACHE_SEC_INDETERMINATE, DNS_EDE_OTHER, "out of memory");
		return ke_new(v, zone, &cv);
	}
	struct dnssec_rrset set = { .owner = zone, .type = DNS_TYPE_DNSKEY,
				    .rclass = DNS_CLASS_IN, .rdata = s->rd, .count = s->nrd };
	struct dnssec_keyset_verdict kv;
	enum dnssec_security sec = dnssec_keyset_verify(&set, s->sig, s->nsig, ds, nds, akeys,
							nakeys, v->now, VAL_SKEW, &v->budget,
							&kv);
	free(s);
	if (sec == DNSSEC_SECURE) {
		val_verdict(&cv, CACHE_SEC_SECURE, -1, NULL);
	} else if (sec == DNSSEC_INSECURE) {
		val_verdict(&cv, CACHE_SEC_INSECURE, -1, "%s: %s", zt,
			    dnssec_result_str(kv.result));
	} else if (sec == DNSSEC_INDETERMINATE) {
		val_verdict(&cv, CACHE_SEC_INDETERMINATE, DNS_EDE_DNSSEC_INDETERMINATE,
			    "%s: DNSKEY %s", zt, dnssec_result_str(kv.result));
	} else {
		val_verdict(&cv, CACHE_SEC_BOGUS, kv.ede >= 0 ? kv.ede : DNS_EDE_DNSSEC_BOGUS,
			    "%s: DNSKEY %s", zt, dnssec_result_str(kv.result));
	}
	size_t i = ke_new(v, zone, &cv);
	if (sec == DNSSEC_SECURE) {
		ke_keys_from(v, &v->kes[i], &v->m);
	}
	return i;
}

/* ---- NSEC / NSEC3 proofs ------------------------------------------------------------------------ */

/* The secure NSEC3 records of m's authority (from sets when given, else all) and their zone. */
static size_t
nsec3_collect(const struct dns_msg *m, const struct vset *sets, size_t nsets,
	      struct dnssec_nsec3_rr *out, uint8_t *zone)
{
	size_t n = 0;
	zone[0] = 0;
	if (sets != NULL) {
		for (size_t i = 0; i < nsets && n < VAL_MAX_NSEC3; i++) {
			const struct vset *s = &sets[i];
			if (s->type != DNS_TYPE_NSEC3 || s->v.sec != CACHE_SEC_SECURE ||
			    s->nrd == 0) {
				continue;
			}
			out[n].owner = s->owner;
			out[n].rd = s->rd[0].rd;
			out[n].rdlen = s->rd[0].len;
			n++;
			if (s->has_signer) {
				memcpy(zone, s->signer, dns_name_len(s->signer));
			}
		}
		return n;
	}
	(void)m;
	return n;
}

/* Finds the NSEC3 zone from a set when signerless: the owner's parent. */
static const uint8_t *
nsec3_zone(const struct dnssec_nsec3_rr *set, size_t n, const uint8_t *zone)
{
	if (zone[0] != 0 || n == 0) {
		return zone;
	}
	return dns_name_parent(set[0].owner);
}

/* Does any secure NSEC of sets cover name (true) or match it (*match set)? */
static bool
nsec_cover(const struct vset *sets, size_t nsets, const uint8_t *name, const struct vset **match)
{
	*match = NULL;
	bool cover = false;
	for (size_t i = 0; i < nsets; i++) {
		const struct vset *s = &sets[i];
		struct dnssec_nsec n;
		if (s->type != DNS_TYPE_NSEC || s->v.sec != CACHE_SEC_SECURE || s->nrd == 0 ||
		    dnssec_nsec_parse(s->rd[0].rd, s->rd[0].len, &n) != TDNS_OK) {
			continue;
		}
		if (dns_name_eq(s->owner, name)) {
			*match = s;
		} else if (dnssec_nsec_covers(s->owner, n.next, name)) {
			cover = true;
		}
	}
	return cover;
}

static bool
any_type(const struct vset *sets, size_t nsets, uint16_t type)
{
	for (size_t i = 0; i < nsets; i++) {
		if (sets[i].type == type && sets[i].section == DNS_SECTION_AUTHORITY) {
			return true;
		}
	}
	return false;
}

/*
 * The proof that name does not exist (nx) or has no qtype (RFC 4035 §5.4, RFC 5155 §8).
 * Returns SECURE, INSECURE (NSEC3 beyond the iteration cap, or opt-out for DS) or BOGUS.
 */
static enum cache_sec
prove_negative(struct val_req *v, const uint8_t *name, uint16_t qtype, bool nx)
{
	const struct vset *match;
	if (any_type(v->sets, v->nsets, DNS_TYPE_NSEC)) {
		bool covered = nsec_cover(v->sets, v->nsets, name, &match);
		struct dnssec_nsec n;
		if (!nx && match != NULL &&
		    dnssec_nsec_parse(match->rd[0].rd, match->rd[0].len, &n) == TDNS_OK &&
		    dnssec_nsec_nodata(match->owner, &n, name, qtype)) {
			return CACHE_SEC_SECURE;
		}
		for (size_t i = 0; !nx && i < v->nsets; i++) {
			/* An empty non-terminal: an NSEC covering it whose next name is below it. */
			const struct vset *s = &v->sets[i];
			if (s->type == DNS_TYPE_NSEC && s->v.sec == CACHE_SEC_SECURE &&
			    dnssec_nsec_parse(s->rd[0].rd, s->rd[0].len, &n) == TDNS_OK &&
			    dnssec_nsec_nodata(s->owner, &n, name, qtype)) {
				return CACHE_SEC_SECURE;
			}
		}
		if (!covered) {
			return CACHE_SEC_BOGUS;
		}
		/* RFC 4035 §5.4: and no wildcard could have answered (or, NODATA, none has qtype). */
		for (size_t i = 0; i < v->nsets; i++) {
			const struct vset *s = &v->sets[i];
			if (s->type != DNS_TYPE_NSEC || s->v.sec != CACHE_SEC_SECURE ||
			    dnssec_nsec_parse(s->rd[0].rd, s->rd[0].len, &n) != TDNS_OK ||
			    !dnssec_nsec_covers(s->owner, n.next, name)) {
				continue;
			}
			uint8_t ce[DNS_NAME_MAX], wc[DNS_NAME_MAX];
			dnssec_nsec_closest_encloser(s->owner, n.next, name, ce);
			if (dnssec_wildcard_name(ce, wc) == 0) {
				continue;
			}
			const struct vset *wm;
			bool wcover = nsec_cover(v->sets, v->nsets, wc, &wm);
			if (nx && wcover) {
				return CACHE_SEC_SECURE;
			}
			struct dnssec_nsec wn;
			if (!nx && wm != NULL &&
			    dnssec_nsec_parse(wm->rd[0].rd, wm->rd[0].len, &wn) == TDNS_OK &&
			    dnssec_nsec_nodata(wm->owner, &wn, wc, qtype)) {
				return CACHE_SEC_SECURE;
			}
		}
		return CACHE_SEC_BOGUS;
	}
	struct dnssec_nsec3_rr set[VAL_MAX_NSEC3];
	uint8_t zbuf[DNS_NAME_MAX];
	size_t n = nsec3_collect(&v->m, v->sets, v->nsets, set, zbuf);
	if (n == 0) {
		return CACHE_SEC_BOGUS;
	}
	const uint8_t *zone = nsec3_zone(set, n, zbuf);
	struct dnssec_nsec3_proof p;
	enum dnssec_result r = dnssec_nsec3_closest_encloser(name, zone, set, n, &v->budget, &p);
	if (r == DNSSEC_UNSUPPORTED_NSEC3) {
		return CACHE_SEC_INSECURE;
	}
	if (r == DNSSEC_BUDGET || r == DNSSEC_ERROR) {
		return CACHE_SEC_INDETERMINATE;
	}
	if (r != DNSSEC_OK) {
		return CACHE_SEC_BOGUS;
	}
	struct dnssec_nsec3 n3;
	if (p.qname_matched) {
		if (nx || dnssec_nsec3_parse(set[p.ce_match].rd, set[p.ce_match].rdlen, &n3) !=
				  TDNS_OK) {
			return CACHE_SEC_BOGUS;
		}
		bool has = dnssec_bitmap_has(n3.bitmap, n3.bitmap_len, qtype) ||
			   dnssec_bitmap_has(n3.bitmap, n3.bitmap_len, DNS_TYPE_CNAME);
		return has ? CACHE_SEC_BOGUS : CACHE_SEC_SECURE;
	}
	if (!nx && qtype == DNS_TYPE_DS && p.opt_out) {
		/* RFC 5155 §8.6: an opt-out span may hide an unsigned delegation. */
		return CACHE_SEC_INSECURE;
	}
	uint8_t wc[DNS_NAME_MAX];
	size_t match3, cover3;
	if (dnssec_wildcard_name(p.closest, wc) == 0) {
		return CACHE_SEC_BOGUS;
	}
	r = dnssec_nsec3_find(wc, zone, set, n, &v->budget, &match3, &cover3);
	if (r != DNSSEC_OK) {
		return r == DNSSEC_UNSUPPORTED_NSEC3 ? CACHE_SEC_INSECURE : CACHE_SEC_INDETERMINATE;
	}
	if (nx) {
		return cover3 != DNSSEC_NONE ? CACHE_SEC_SECURE : CACHE_SEC_BOGUS;
	}
	/* RFC 5155 §8.7: wildcard NODATA. */
	if (match3 != DNSSEC_NONE &&
	    dnssec_nsec3_parse(set[match3].rd, set[match3].rdlen, &n3) == TDNS_OK &&
	    !dnssec_bitmap_has(n3.bitmap, n3.bitmap_len, qtype) &&
	    !dnssec_bitmap_has(n3.bitmap, n3.bitmap_len, DNS_TYPE_CNAME)) {
		return CACHE_SEC_SECURE;
	}
	return CACHE_SEC_BOGUS;
}

/* A wildcard expansion of owner from closest: the next closer name must not exist. */
static enum cache_sec
prove_wildcard(struct val_req *v, const struct vset *s)
{
	if (any_type(v->sets, v->nsets, DNS_TYPE_NSEC)) {
		const struct vset *match;
		return nsec_cover(v->sets, v->nsets, s->owner, &match) ? CACHE_SEC_SECURE
								       : CACHE_SEC_BOGUS;
	}
	struct dnssec_nsec3_rr set[VAL_MAX_NSEC3];
	uint8_t zbuf[DNS_NAME_MAX];
	size_t n = nsec3_collect(&v->m, v->sets, v->nsets, set, zbuf);
	uint8_t next[DNS_NAME_MAX];
	if (n == 0 || !val_next_label(s->owner, s->info.closest, next)) {
		return CACHE_SEC_BOGUS;
	}
	size_t match, cover;
	enum dnssec_result r = dnssec_nsec3_find(next, s->signer, set, n, &v->budget, &match,
						 &cover);
	if (r == DNSSEC_UNSUPPORTED_NSEC3) {
		return CACHE_SEC_INSECURE;
	}
	if (r != DNSSEC_OK) {
		return CACHE_SEC_INDETERMINATE;
	}
	return cover != DNSSEC_NONE ? CACHE_SEC_SECURE : CACHE_SEC_BOGUS;
}

/*
 * For a validated NODATA answer m to "DS name": does it show a delegation there (NS in the
 * bitmap of the NSEC/NSEC3 at name, or an NSEC3 opt-out span over it)?  Then the zone below
 * is insecure; otherwise name is inside the same zone.
 */
static bool
nodata_is_cut(struct val_req *v, const struct dns_msg *m, const uint8_t *name)
{
	uint8_t zone[DNS_NAME_MAX] = { 0 };
	struct dnssec_nsec3_rr set[VAL_MAX_NSEC3];
	struct dnssec_rdata rds[VAL_MAX_NSEC3];
	size_t n = 0;
	for (size_t i = 0; i < m->nrr; i++) {
		const struct dns_rr *rr = &m->rrs[i];
		if (rr->section != DNS_SECTION_AUTHORITY) {
			continue;
		}
		struct dnssec_rdata rd;
		if (rr->type == DNS_TYPE_NSEC && dns_name_eq(rr->owner, name) &&
		    unpack(v, m, rr, &rd)) {
			struct dnssec_nsec ns;
			return dnssec_nsec_parse(rd.rd, rd.len, &ns) == TDNS_OK &&
			       dnssec_bitmap_has(ns.bitmap, ns.bitmap_len, DNS_TYPE_NS);
		}
		if (rr->type == DNS_TYPE_NSEC3 && n < VAL_MAX_NSEC3 && unpack(v, m, rr, &rds[n])) {
			set[n].owner = rr->owner;
			set[n].rd = rds[n].rd;
			set[n].rdlen = rds[n].len;
			n++;
		}
		if (rr->type == DNS_TYPE_SOA) {
			memcpy(zone, rr->owner, dns_name_len(rr->owner));
		}
	}
	if (n == 0) {
		return false;
	}
	const uint8_t *z = zone[0] != 0 ? zone : dns_name_parent(set[0].owner);
	struct dnssec_nsec3_proof p;
	if (dnssec_nsec3_closest_encloser(name, z, set, n, &v->budget, &p) != DNSSEC_OK) {
		return true;
	}
	struct dnssec_nsec3 n3;
	if (p.qname_matched) {
		return dnssec_nsec3_parse(set[p.ce_match].rd, set[p.ce_match].rdlen, &n3) ==
			       TDNS_OK &&
		       dnssec_bitmap_has(n3.bitmap, n3.bitmap_len, DNS_TYPE_NS);
	}
	return p.opt_out;
}

static bool
has_answer_type(const struct dns_msg *m, const uint8_t *name, uint16_t type)
{
	for (size_t i = 0; i < m->nrr; i++) {
		if (m->rrs[i].section == DNS_SECTION_ANSWER && m->rrs[i].type == type &&
		    dns_name_eq(m->rrs[i].owner, name)) {
			return true;
		}
	}
	return false;
}

/* ---- the key search (FIND KEY) -------------------------------------------------------------------- */

/* What the walk for a target gives: a key entry index, or DNSSEC_NONE while a fetch runs. */
static size_t
walk(struct val_req *v)
{
	char zt[DNS_NAME_TEXT_MAX];
	struct cache_val cv;
	for (;;) {
		switch (v->phase) {
		case W_IDLE: {
			const uint8_t *t = v->w_target;
			if (resolver_nta_covers(v->rc, t)) {
				val_verdict(&cv, CACHE_SEC_INSECURE, -1, "negative trust anchor");
				return ke_new(v, t, &cv);
			}
			struct dnssec_anchor_set as;
			if (!dnssec_anchors_closest(v->rc->anchors, t, &as)) {
				/* RFC 4035 §4.3: no anchor above: insecure. */
				val_verdict(&cv, CACHE_SEC_INSECURE, -1, "no trust anchor");
				return ke_new(v, t, &cv);
			}
			memcpy(v->w_pos, as.owner, dns_name_len(as.owner));
			size_t i = ke_find(v, as.owner);
			if (i != DNSSEC_NONE) {
				v->w_ke = i;
				v->phase = W_DOWN;
				continue;
			}
			if (v->k.qtype == DNS_TYPE_DNSKEY && dns_name_eq(v->k.name, as.owner)) {
				v->w_ke = ke_from_self(v, as.owner, as.ds, as.nds, as.keys, as.nkeys);
				v->phase = W_DOWN;
				continue;
			}
			v->phase = W_ANCHOR;
			if (!fetch(v, as.owner, DNS_TYPE_DNSKEY)) {
				return DNSSEC_NONE;
			}
			continue;
		}
		case W_ANCHOR:
		case W_KEY: {
			/* The DNSKEY answer of w_pos (anchor) or w_next, validated by its request. */
			const uint8_t *zone = v->phase == W_ANCHOR ? v->w_pos : v->w_next;
			cv = v->sub_v;
			bool keys = cv.sec == CACHE_SEC_SECURE && v->sub_ok;
			if (cv.sec == CACHE_SEC_SECURE && !v->sub_ok) {
				val_verdict(&cv, CACHE_SEC_INDETERMINATE, DNS_EDE_DNSKEY_MISSING,
					    "no DNSKEY");
			}
			size_t i = ke_new(v, zone, &cv);
			if (keys) {
				ke_keys_from(v, &v->kes[i], &v->sub);
				if (v->kes[i].nkeys == 0) {
					name_text(zone, zt, sizeof(zt));
					val_verdict(&v->kes[i].v, CACHE_SEC_BOGUS,
						    DNS_EDE_DNSKEY_MISSING, "%s: no DNSKEY", zt);
				}
			}
			memcpy(v->w_pos, zone, dns_name_len(zone));
			v->w_ke = i;
			v->phase = W_DOWN;
			sub_clear(v);
			continue;
		}
		case W_DOWN: {
			const struct ke *e = &v->kes[v->w_ke];
			if (e->v.sec != CACHE_SEC_SECURE || dns_name_eq(v->w_pos, v->w_target) ||
			    !val_next_label(v->w_target, v->w_pos, v->w_next)) {
				return v->w_ke;
			}
			size_t i = ke_find(v, v->w_next);
			if (i != DNSSEC_NONE) {
				v->w_ke = i;
				memcpy(v->w_pos, v->w_next, dns_name_len(v->w_next));
				continue;
			}
			v->phase = W_DS;
			if (!fetch(v, v->w_next, DNS_TYPE_DS)) {
				return DNSSEC_NONE;
			}
			continue;
		}
		case W_DS: {
			const uint8_t *next = v->w_next;
			cv = v->sub_v;
			name_text(next, zt, sizeof(zt));
			if (cv.sec != CACHE_SEC_SECURE || !v->sub_ok) {
				if (cv.sec == CACHE_SEC_SECURE) {
					cv.sec = CACHE_SEC_INDETERMINATE;
				}
				v->phase = W_IDLE;
				sub_clear(v);
				return ke_new(v, next, &cv);
			}
			bool positive = has_answer_type(&v->sub, next, DNS_TYPE_DS) &&
					v->sub.rcode == DNS_RCODE_NOERROR;
			if (!positive) {
				if (v->sub.rcode == DNS_RCODE_NXDOMAIN) {
					/* Nothing below exists: the keys above apply. */
					memcpy(v->w_pos, v->w_target, dns_name_len(v->w_target));
				} else if (nodata_is_cut(v, &v->sub, next)) {
					/* RFC 4035 §5.2: a proven unsigned delegation. */
					val_verdict(&cv, CACHE_SEC_INSECURE, -1, "%s: no DS", zt);
					sub_clear(v);
					v->phase = W_IDLE;
					return ke_new(v, next, &cv);
				} else {
					memcpy(v->w_pos, next, dns_name_len(next));
				}
				sub_clear(v);
				v->phase = W_DOWN;
				continue;
			}
			if (v->k.qtype == DNS_TYPE_DNSKEY && dns_name_eq(v->k.name, next)) {
				struct vset *ds = malloc(sizeof(*ds));
				if (ds == NULL ||
				    !set_from(v, &v->sub, DNS_SECTION_ANSWER, next, DNS_TYPE_DS, ds)) {
					free(ds);
					val_verdict(&cv, CACHE_SEC_INDETERMINATE, DNS_EDE_OTHER,
						    "out of memory");
					v->phase = W_IDLE;
					return ke_new(v, next, &cv);
				}
				size_t i = ke_from_self(v, next, ds->rd, ds->nrd, NULL, 0);
				free(ds);
				sub_clear(v);
				v->w_ke = i;
				memcpy(v->w_pos, next, dns_name_len(next));
				v->phase = W_DOWN;
				continue;
			}
			v->phase = W_KEY;
			if (!fetch(v, next, DNS_TYPE_DNSKEY)) {
				return DNSSEC_NONE;
			}
			continue;
		}
		}
	}
}

/* ---- checking the answer ---------------------------------------------------------------------- */

/* Groups m's answer and authority records into v->sets; false when there are too many. */
static bool
collect_sets(struct val_req *v)
{
	v->sets = calloc(VAL_MAX_SETS, sizeof(*v->sets));
	if (v->sets == NULL) {
		return false;
	}
	const struct dns_msg *m = &v->m;
	for (size_t i = 0; i < m->nrr; i++) {
		const struct dns_rr *rr = &m->rrs[i];
		if ((rr->section != DNS_SECTION_ANSWER && rr->section != DNS_SECTION_AUTHORITY) ||
		    rr->type == DNS_TYPE_RRSIG || dns_type_is_meta(rr->type)) {
			continue;
		}
		/* The authority's NS sets (a referral's, or apex NS) prove nothing here. */
		if (rr->section == DNS_SECTION_AUTHORITY && rr->type != DNS_TYPE_SOA &&
		    rr->type != DNS_TYPE_NSEC && rr->type != DNS_TYPE_NSEC3) {
			continue;
		}
		bool seen = false;
		for (size_t k = 0; k < v->nsets && !seen; k++) {
			seen = v->sets[k].type == rr->type && v->sets[k].section == rr->section &&
			       dns_name_eq(v->sets[k].owner, rr->owner);
		}
		if (seen) {
			continue;
		}
		if (v->nsets == VAL_MAX_SETS) {
			return false;
		}
		if (!set_from(v, m, rr->section, rr->owner, rr->type, &v->sets[v->nsets])) {
			return false;
		}
		v->nsets++;
	}
	/* RFC 6672 §3.1: an unsigned CNAME below a DNAME that yields it takes the DNAME's state. */
	for (size_t i = 0; i < v->nsets; i++) {
		struct vset *c = &v->sets[i];
		if (c->type != DNS_TYPE_CNAME || c->section != DNS_SECTION_ANSWER || c->nsig > 0 ||
		    c->nrd != 1) {
			continue;
		}
		for (size_t k = 0; k < v->nsets; k++) {
			const struct vset *d = &v->sets[k];
			if (d->type != DNS_TYPE_DNAME || d->nrd != 1 ||
			    !dns_name_is_sub(c->owner, d->owner) ||
			    dns_name_eq(c->owner, d->owner)) {
				continue;
			}
			size_t plen = dns_name_len(c->owner) - dns_name_len(d->owner);
			size_t tlen = d->rd[0].len;
			if (plen + tlen == c->rd[0].len &&
			    memcmp(c->rd[0].rd + plen, d->rd[0].rd, tlen) == 0) {
				c->synth = true;
			}
		}
	}
	return true;
}

/* Where the key search for set s starts: its signer, else its owner (for DS, the parent). */
static void
set_target(const struct val_req *v, const struct vset *s, uint8_t *out)
{
	const uint8_t *t = s->has_signer ? s->signer : s->owner;
	if (s->type == DNS_TYPE_DS && !s->has_signer && t[0] != 0) {
		t = dns_name_parent(t);
	}
	/* For our own DS question the keys come from above it (no self-wait). */
	if (v->k.qtype == DNS_TYPE_DS && dns_name_is_sub(t, v->k.name) && v->k.name[0] != 0) {
		t = dns_name_parent(v->k.name);
	}
	memcpy(out, t, dns_name_len(t));
	dns_name_lower(out);
}

/* Verifies s with the key entry e. */
static void
verify_set(struct val_req *v, struct vset *s, const struct ke *e)
{
	char zt[DNS_NAME_TEXT_MAX], ot[DNS_NAME_TEXT_MAX];
	name_text(e->zone, zt, sizeof(zt));
	name_text(s->owner, ot, sizeof(ot));
	s->done = true;
	if (e->v.sec != CACHE_SEC_SECURE) {
		s->v = e->v;
		return;
	}
	if (s->nsig == 0) {
		val_verdict(&s->v, CACHE_SEC_BOGUS, DNS_EDE_RRSIGS_MISSING, "%s: no RRSIG for %s",
			    zt, ot);
		return;
	}
	if ((s->type == DNS_TYPE_DS && dns_name_eq(s->signer, s->owner)) ||
	    (s->type == DNS_TYPE_DNSKEY && !dns_name_eq(s->signer, s->owner))) {
		/* RFC 4035 §5.3.1: DS is signed by the parent, DNSKEY by its own zone. */
		val_verdict(&s->v, CACHE_SEC_BOGUS, DNS_EDE_DNSSEC_BOGUS,
			    "%s: %s signed by the wrong zone", zt, ot);
		return;
	}
	struct dnssec_rrset set = { .owner = s->owner, .type = s->type, .rclass = s->rclass,
				    .rdata = s->rd, .count = s->nrd };
	enum dnssec_result r = dnssec_rrset_verify(&set, s->sig, s->nsig, e->keys, e->nkeys,
						   v->now, VAL_SKEW, &v->budget, &s->info, NULL);
	if (r == DNSSEC_OK) {
		val_verdict(&s->v, CACHE_SEC_SECURE, -1, NULL);
		return;
	}
	int ede = dnssec_result_ede(r);
	if (r == DNSSEC_KEY_MISMATCH) {
		ede = DNS_EDE_DNSKEY_MISSING;
	}
	enum cache_sec sec = r == DNSSEC_BUDGET || r == DNSSEC_ERROR ? CACHE_SEC_INDETERMINATE
								     : CACHE_SEC_BOGUS;
	val_verdict(&s->v, sec, ede < 0 ? DNS_EDE_DNSSEC_BOGUS : ede, "%s: %s of %s", zt,
		    dnssec_result_str(r), ot);
}

/* The last name of the answer's CNAME/DNAME chain from the qname. */
static void
chain_end(const struct val_req *v, uint8_t *final)
{
	memcpy(final, v->m.qname, dns_name_len(v->m.qname));
	for (int hop = 0; hop < 16; hop++) {
		bool moved = false;
		for (size_t i = 0; i < v->nsets && !moved; i++) {
			const struct vset *s = &v->sets[i];
			if (s->section == DNS_SECTION_ANSWER && s->type == DNS_TYPE_CNAME &&
			    dns_name_eq(s->owner, final) && s->nrd == 1 &&
			    v->m.qtype != DNS_TYPE_CNAME) {
				memcpy(final, s->rd[0].rd, dns_name_len(s->rd[0].rd));
				moved = true;
			}
		}
		if (!moved) {
			return;
		}
	}
}

/* Combines the RRsets' states and the proofs into the verdict. */
static void
conclude(struct val_req *v)
{
	struct cache_val out = { .sec = CACHE_SEC_SECURE, .ede = -1 };
	const struct cache_val *worst = NULL;
	uint8_t final[DNS_NAME_MAX];
	chain_end(v, final);
	uint16_t qtype = v->m.qtype;
	bool data = qtype == DNS_TYPE_ANY || has_answer_type(&v->m, final, qtype);
	bool negative = v->m.rcode == DNS_RCODE_NXDOMAIN || !data;
	for (size_t i = 0; i < v->nsets; i++) {
		struct vset *s = &v->sets[i];
		if (s->synth) {
			for (size_t k = 0; k < v->nsets; k++) {
				if (v->sets[k].type == DNS_TYPE_DNAME &&
				    dns_name_is_sub(s->owner, v->sets[k].owner)) {
					s->v = v->sets[k].v;
				}
			}
		}
		if (s->section == DNS_SECTION_AUTHORITY && !negative) {
			continue;
		}
		if (worst == NULL || sec_rank(s->v.sec) > sec_rank(worst->sec)) {
			worst = &s->v;
		}
	}
	if (worst != NULL && sec_rank(worst->sec) > sec_rank(CACHE_SEC_SECURE)) {
		out = *worst;
	}
	if (out.sec == CACHE_SEC_SECURE) {
		char zt[DNS_NAME_TEXT_MAX];
		enum cache_sec p = CACHE_SEC_SECURE;
		if (negative && v->m.rcode != DNS_RCODE_NOERROR &&
		    v->m.rcode != DNS_RCODE_NXDOMAIN) {
			p = CACHE_SEC_SECURE;
		} else if (negative) {
			p = prove_negative(v, final, qtype, v->m.rcode == DNS_RCODE_NXDOMAIN);
		}
		for (size_t i = 0; i < v->nsets && p == CACHE_SEC_SECURE; i++) {
			const struct vset *s = &v->sets[i];
			if (s->section == DNS_SECTION_ANSWER && s->v.sec == CACHE_SEC_SECURE &&
			    s->info.wildcard) {
				p = prove_wildcard(v, s);
			}
		}
		if (negative && v->nsets == 0) {
			/* A negative answer from a secure zone with nothing at all. */
			p = CACHE_SEC_BOGUS;
		}
		name_text(final, zt, sizeof(zt));
		if (p == CACHE_SEC_BOGUS) {
			val_verdict(&out, CACHE_SEC_BOGUS, DNS_EDE_NSEC_MISSING,
				    "no NSEC/NSEC3 proof for %s", zt);
		} else if (p == CACHE_SEC_INSECURE) {
			val_verdict(&out, CACHE_SEC_INSECURE, -1, "NSEC3 proof unusable for %s", zt);
		} else if (p == CACHE_SEC_INDETERMINATE) {
			val_verdict(&out, CACHE_SEC_INDETERMINATE, DNS_EDE_DNSSEC_INDETERMINATE,
				    "validation work limit for %s", zt);
		}
	}
	if (out.sec == CACHE_SEC_SECURE && v->nsets == 0 && !negative) {
		out.sec = CACHE_SEC_INSECURE;
	}
	finish(v, &out);
}

/* Needs the zone keys of an unsigned negative answer: its SOA owner, else the name. */
static void
run(struct val_req *v)
{
	if (v->running) {
		return;
	}
	v->running = true;
	while (v->cur < v->nsets) {
		struct vset *s = &v->sets[v->cur];
		if (s->synth) {
			s->done = true;
			v->cur++;
			continue;
		}
		uint8_t target[DNS_NAME_MAX];
		set_target(v, s, target);
		size_t ke = DNSSEC_NONE;
		for (size_t i = 0; i < v->ntargets; i++) {
			if (dns_name_eq(v->targets[i].name, target)) {
				ke = v->targets[i].ke;
			}
		}
		if (ke == DNSSEC_NONE) {
			if (v->phase == W_IDLE) {
				memcpy(v->w_target, target, dns_name_len(target));
			}
			ke = walk(v);
			if (ke == DNSSEC_NONE) {
				v->running = false;
				return;
			}
			v->phase = W_IDLE;
			if (v->ntargets < VAL_MAX_TARGETS) {
				struct target *t = &v->targets[v->ntargets++];
				memcpy(t->name, target, dns_name_len(target));
				t->ke = ke;
			}
		}
		verify_set(v, s, &v->kes[ke]);
		v->cur++;
	}
	v->running = false;
	conclude(v);
}

void
val_store_result(struct cache *c, const struct dns_msg *m, const struct cache_key *k,
		 const struct cache_val *v, const char *who, struct resolver_result *res)
{
	int rc = cache_store_val(c, m, k, cache_now(), v);
	if (rc != TDNS_OK && rc != TDNS_ENOENT) {
		tdns_debug("%s: answer not cached: %s", who, tdns_status_msg(rc));
	}
	memset(res, 0, sizeof(*res));
	res->status = RESOLVER_OK;
	res->msg = m;
	res->upstream_rcode = m->rcode;
	res->sec = v->sec;
	res->val_ede = v->ede;
	res->val_text = v->text;
}

void
val_start(const struct val_io *io, struct resolver_conf *rc, const struct cache_key *k,
	  const struct dns_msg *m, val_done_fn done, void *arg, struct val_req **handle)
{
	struct cache_val oom;
	val_verdict(&oom, CACHE_SEC_INDETERMINATE, DNS_EDE_OTHER, "out of memory");
	struct val_req *v = calloc(1, sizeof(*v));
	if (v == NULL) {
		*handle = NULL;
		done(arg, &oom);
		return;
	}
	*handle = v;
	v->io = io;
	v->rc = resolver_conf_ref(rc);
	v->k = *k;
	v->done = done;
	v->arg = arg;
	v->handle = handle;
	v->now = (uint32_t)time(NULL);
	dnssec_budget_init(&v->budget, DNSSEC_BUDGET_VERIFY_DEFAULT, DNSSEC_BUDGET_HASH_DEFAULT);
	v->pkt = malloc(m->len);
	if (v->pkt == NULL) {
		finish(v, &oom);
		return;
	}
	memcpy(v->pkt, m->pkt, m->len);
	/* The records as the caller kept them (the forwarder drops some), over our copy. */
	v->m = *m;
	v->m.pkt = v->pkt;
	v->m.rrs = malloc((m->nrr ? m->nrr : 1) * sizeof(*m->rrs));
	if (v->m.rrs == NULL) {
		v->m.nrr = 0;
		finish(v, &oom);
		return;
	}
	if (m->nrr > 0) {
		memcpy(v->m.rrs, m->rrs, m->nrr * sizeof(*m->rrs));
	}
	if (!collect_sets(v)) {
		struct cache_val bad;
		val_verdict(&bad, CACHE_SEC_BOGUS, DNS_EDE_DNSSEC_BOGUS, "too many RRsets");
		finish(v, &bad);
		return;
	}
	if (v->nsets == 0) {
		/* Nothing to check (an empty negative answer): judge the qname's zone. */
		struct vset *s = &v->sets[0];
		memset(s, 0, sizeof(*s));
		s->owner = v->m.qname;
		s->type = DNS_TYPE_SOA;
		s->section = DNS_SECTION_AUTHORITY;
		v->nsets = 1;
	}
	run(v);
}
