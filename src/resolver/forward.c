/* SPDX-License-Identifier: MIT */
/* The caching forwarder: request state, server choice, answer checks, cache fill. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <sodium.h>

#include "cfg/cfg.h"
#include "core/core.h"
#include "resolver/fwd_int.h"
#include "resolver/val_int.h"
#include "resolver/iter_int.h"

/* The qname and up to 16 CNAME targets: the chain an answer may carry. */
#define CHAIN_NAMES 17

/* ---- the per-worker forwarder ------------------------------------------------------------- */

struct fwd_req {
	struct resolver_fwd *f;
	LIST_ENTRY(fwd_req) link;
	struct resolver_conf *conf;
	struct cache_key key;        /* what the answer is stored under */
	struct cache_key ikey;       /* the in-flight key: key with the worker's bits */
	bool inflight;               /* ikey registered with cache_inflight_begin */
	struct cache_waiter *first;  /* the waiter of the query that started it, or NULL */
	struct up *ups[RESOLVER_MAX_SERVERS]; /* by preference, referenced */
	size_t nups;
	size_t next;                 /* next server to try */
	struct up_xfer *xfers[RESOLVER_MAX_SERVERS * 2];
	size_t nxfers;
	bool timeouts;               /* some server timed out */
	bool neterr;                 /* some server failed at the network or TLS level */
	int upstream_rcode;          /* last unusable rcode, -1 none */
	struct event *later;         /* finishes a request that failed before any exchange */
	bool validating;             /* an answer is being validated (issue 16) */
	struct val_req *val;         /* its validation, while it runs */
	uint8_t *ans_pkt;            /* the answer under validation (ans points into it) */
	struct dns_msg ans;
	struct cache_val verdict;
	size_t qlen;
	uint8_t query[512];
};

LIST_HEAD(fwd_req_list, fwd_req);
TAILQ_HEAD(up_list, up);

struct resolver_fwd {
	struct event_base *base;
	struct val_io vio;           /* f and its query functions, for the validator */
	unsigned wid;
	struct resolver_conf *conf;
	struct up **ups;             /* parallel to conf->ups */
	struct fwd_req_list reqs;
	struct it_state *iter;       /* the iterator's requests and RTT table (issue 5) */
};

struct resolver_fwd *
resolver_fwd_new(struct event_base *base, unsigned worker_id)
{
	struct resolver_fwd *f = calloc(1, sizeof(*f));
	if (f == NULL) {
		return NULL;
	}
	f->base = base;
	f->wid = worker_id;
	LIST_INIT(&f->reqs);
	f->vio = (struct val_io){ .f = f, .query = resolver_fwd_query,
				  .iter_query = resolver_iter_query, .cancel = resolver_fwd_cancel };
	f->iter = iter_state_new(base);
	if (f->iter != NULL) {
		iter_state_set_fwd(f->iter, &f->vio);
	}
	if (f->iter == NULL) {
		free(f);
		return NULL;
	}
	return f;
}

struct resolver_conf *
resolver_fwd_conf(const struct resolver_fwd *f)
{
	return f->conf;
}

static void
drop_ups(struct resolver_fwd *f)
{
	if (f->conf == NULL) {
		return;
	}
	for (size_t i = 0; i < f->conf->nups; i++) {
		if (f->ups[i] != NULL) {
			/* Requests still using it keep it (and its connection) until they end. */
			up_unref(f->ups[i]);
		}
	}
	free(f->ups);
	f->ups = NULL;
	resolver_conf_unref(f->conf);
	f->conf = NULL;
}

static void fwd_xfer_done(struct fwd_req *r, struct up_xfer *x, int status, const uint8_t *pkt,
			  size_t len);

void
resolver_fwd_set_conf(struct resolver_fwd *f, struct resolver_conf *rc)
{
	if (rc == f->conf) {
		return;
	}
	drop_ups(f);
	if (rc == NULL) {
		return;
	}
	f->ups = calloc(rc->nups ? rc->nups : 1, sizeof(*f->ups));
	if (f->ups == NULL) {
		return;
	}
	f->conf = resolver_conf_ref(rc);
	for (size_t i = 0; i < rc->nups; i++) {
		f->ups[i] = up_new(f->base, rc, &rc->ups[i], fwd_xfer_done);
	}
}

static void req_finish(struct fwd_req *r, struct resolver_result *res);

void
resolver_fwd_free(struct resolver_fwd *f)
{
	if (f == NULL) {
		return;
	}
	struct fwd_req *r;
	while ((r = LIST_FIRST(&f->reqs)) != NULL) {
		struct resolver_result res = { .status = RESOLVER_SHUTDOWN, .upstream_rcode = -1 };
		req_finish(r, &res);
	}
	iter_state_free(f->iter);
	drop_ups(f);
	free(f);
}

/* ---- answers ------------------------------------------------------------------------------ */

static bool
name_in(const uint8_t (*names)[DNS_NAME_MAX], size_t n, const uint8_t *name)
{
	for (size_t i = 0; i < n; i++) {
		if (dns_name_eq(names[i], name)) {
			return true;
		}
	}
	return false;
}

/*
 * Keeps what a forwarder may trust for the question: answer records owned by the qname or
 * a name of its CNAME chain (and DNAMEs above them, RFC 6672), authority records at or below
 * the zone of an SOA that is an ancestor of the chain's last name (RFC 2308 §5), and no
 * additional data, which we would never use for anything but this answer.  Everything else
 * is dropped before the answer reaches the cache (RFC 5452 §6 on accepting only what fits).
 */
static void
sanitise(struct dns_msg *m)
{
	uint8_t names[CHAIN_NAMES][DNS_NAME_MAX];
	size_t nnames = 0;
	memcpy(names[nnames++], m->qname, dns_name_len(m->qname));
	/* Follow the chain whatever the order of the records; 16 links at most. */
	for (bool grew = true; grew && nnames < CHAIN_NAMES;) {
		grew = false;
		for (size_t i = 0; i < m->nrr && nnames < CHAIN_NAMES; i++) {
			const struct dns_rr *rr = &m->rrs[i];
			if (rr->section != DNS_SECTION_ANSWER || rr->type != DNS_TYPE_CNAME ||
			    !name_in((const uint8_t (*)[DNS_NAME_MAX])names, nnames, rr->owner)) {
				continue;
			}
			size_t pos = rr->rdata_off;
			uint8_t target[DNS_NAME_MAX];
			if (dns_name_unpack(m->pkt, m->len, &pos, target) < 0 ||
			    name_in((const uint8_t (*)[DNS_NAME_MAX])names, nnames, target)) {
				continue;
			}
			memcpy(names[nnames++], target, dns_name_len(target));
			grew = true;
		}
	}
	const uint8_t *last = names[nnames - 1];
	const uint8_t *zone = NULL;
	for (size_t i = 0; i < m->nrr; i++) {
		const struct dns_rr *rr = &m->rrs[i];
		if (rr->section == DNS_SECTION_AUTHORITY && rr->type == DNS_TYPE_SOA &&
		    dns_name_is_sub(last, rr->owner)) {
			zone = rr->owner;
			break;
		}
	}
	uint8_t signer[DNS_NAME_MAX];
	for (size_t i = 0; i < m->nrr && zone == NULL; i++) {
		/*
		 * A positive answer has no SOA, but a wildcard expansion brings the NSEC/NSEC3
		 * proof that the name itself is not there (RFC 4035 §3.1.3.3): keep the authority
		 * records of the zone that signed the data, which the validator checks.
		 */
		const struct dns_rr *rr = &m->rrs[i];
		size_t pos = rr->rdata_off + 18;
		if (rr->section == DNS_SECTION_ANSWER && rr->type == DNS_TYPE_RRSIG &&
		    rr->rdlen > 18 && dns_name_eq(rr->owner, last) &&
		    dns_name_unpack(m->pkt, rr->rdata_off + rr->rdlen, &pos, signer) > 0 &&
		    dns_name_is_sub(last, signer)) {
			zone = signer;
		}
	}
	size_t keep = 0;
	for (size_t i = 0; i < m->nrr; i++) {
		const struct dns_rr *rr = &m->rrs[i];
		bool ok = false;
		if (rr->type == DNS_TYPE_OPT) {
			ok = true;
		} else if (rr->section == DNS_SECTION_ANSWER) {
			ok = name_in((const uint8_t (*)[DNS_NAME_MAX])names, nnames, rr->owner);
			for (size_t k = 0; !ok && rr->type == DNS_TYPE_DNAME && k < nnames; k++) {
				ok = dns_name_is_sub(names[k], rr->owner);
			}
			if (!ok && rr->type == DNS_TYPE_RRSIG) {
				for (size_t k = 0; !ok && k < nnames; k++) {
					ok = dns_name_is_sub(names[k], rr->owner);
				}
			}
		} else if (rr->section == DNS_SECTION_AUTHORITY) {
			ok = zone != NULL && dns_name_is_sub(rr->owner, zone);
		}
		if (ok) {
			if (keep != i) {
				m->rrs[keep] = m->rrs[i];
			}
			keep++;
		} else {
			m->count[rr->section]--;
		}
	}
	m->nrr = keep;
}

/* ---- requests ----------------------------------------------------------------------------- */

static void
req_free(struct fwd_req *r)
{
	val_cancel(r->val);
	dns_msg_clear(&r->ans);
	free(r->ans_pkt);
	for (size_t i = 0; i < r->nxfers; i++) {
		if (r->xfers[i] != NULL) {
			up_xfer_cancel(r->xfers[i]);
		}
	}
	for (size_t i = 0; i < r->nups; i++) {
		up_unref(r->ups[i]);
	}
	if (r->later != NULL) {
		event_free(r->later);
	}
	resolver_conf_unref(r->conf);
	free(r);
}

static void
req_finish(struct fwd_req *r, struct resolver_result *res)
{
	LIST_REMOVE(r, link);
	/* Stop the other exchanges first: the first good answer wins. */
	for (size_t i = 0; i < r->nxfers; i++) {
		if (r->xfers[i] != NULL) {
			up_xfer_cancel(r->xfers[i]);
			r->xfers[i] = NULL;
		}
	}
	struct cache_waiter *list = r->inflight ? cache_inflight_end(r->conf->cache, &r->ikey)
						: NULL;
	struct cache_waiter *first = r->first;
	if (first != NULL) {
		first->fn(first->arg, res);
	}
	while (list != NULL) {
		struct cache_waiter *next = list->next;
		list->fn(list->arg, res);
		list = next;
	}
	req_free(r);
}

static void
req_fail(struct fwd_req *r)
{
	char name[DNS_NAME_TEXT_MAX];
	if (dns_name_to_text(r->key.name, name, sizeof(name)) < 0) {
		snprintf(name, sizeof(name), "?");
	}
	tdns_debug("forwarder: %s type %u failed (%zu servers, rcode %d%s%s)", name,
		   r->key.qtype, r->nups, r->upstream_rcode,
		   r->timeouts ? ", timeouts" : "", r->neterr ? ", network errors" : "");
	struct resolver_result res = {
		.status = RESOLVER_FAIL,
		/* RFC 8914 §5.23 for sockets and TLS; §5.22 when servers did not answer usably. */
		.ede = r->neterr && !r->timeouts ? DNS_EDE_NETWORK_ERROR
						 : DNS_EDE_NO_REACHABLE_AUTHORITY,
		.upstream_rcode = r->upstream_rcode,
	};
	req_finish(r, &res);
}

static size_t
active_xfers(const struct fwd_req *r)
{
	size_t n = 0;
	for (size_t i = 0; i < r->nxfers; i++) {
		n += r->xfers[i] != NULL;
	}
	return n;
}

/* Starts an exchange with server r->ups[idx]; false when it could not start. */
static bool
req_send(struct fwd_req *r, struct up *u, bool stream)
{
	if (r->nxfers >= sizeof(r->xfers) / sizeof(r->xfers[0])) {
		return false;
	}
	struct up_xfer *x = up_send(u, r, r->query, r->qlen, stream, r->conf->timeout_ms);
	if (x == NULL) {
		r->neterr = true;
		return false;
	}
	r->xfers[r->nxfers++] = x;
	return true;
}

/* Sends to the next servers until want exchanges are running or none is left. */
static void
req_advance(struct fwd_req *r, size_t want)
{
	while (active_xfers(r) < want && r->next < r->nups) {
		(void)req_send(r, r->ups[r->next++], false);
	}
	if (active_xfers(r) == 0) {
		/* Every server failed or none could be asked: answer from the event loop. */
		event_active(r->later, 0, 0);
	}
}

static void
later_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fwd_req *r = arg;
	(void)fd;
	(void)what;
	if (active_xfers(r) == 0 && !r->validating) {
		req_fail(r);
	}
}

static size_t
want_active(const struct fwd_req *r)
{
	return r->conf->forward_mode == CFG_FORWARD_CONCURRENT ? RESOLVER_CONCURRENT : 1;
}

/* The validator's verdict on the answer: cache it with it and deliver (issue 16). */
static void
fwd_validated(void *arg, const struct cache_val *v)
{
	struct fwd_req *r = arg;
	r->verdict = *v;
	struct resolver_result res;
	val_store_result(r->conf->cache, &r->ans, &r->key, &r->verdict, "forwarder", &res);
	req_finish(r, &res);
}

/* Keeps the sanitised answer m (of pkt) in r and validates it. */
static void
fwd_validate(struct fwd_req *r, struct dns_msg *m)
{
	for (size_t i = 0; i < r->nxfers; i++) {
		if (r->xfers[i] != NULL) {
			up_xfer_cancel(r->xfers[i]);
			r->xfers[i] = NULL;
		}
	}
	r->validating = true;
	r->ans_pkt = malloc(m->len);
	if (r->ans_pkt == NULL) {
		dns_msg_clear(m);
		struct resolver_result res = { .status = RESOLVER_FAIL, .ede = DNS_EDE_OTHER,
					       .upstream_rcode = -1, .ede_text = "out of memory" };
		req_finish(r, &res);
		return;
	}
	memcpy(r->ans_pkt, m->pkt, m->len);
	r->ans = *m;             /* takes over m's records */
	r->ans.pkt = r->ans_pkt;
	val_start(&r->f->vio, r->conf, &r->key, &r->ans, fwd_validated, r, &r->val);
}

/* The end of one exchange with one server (up_done_fn). */
static void
fwd_xfer_done(struct fwd_req *r, struct up_xfer *x, int status, const uint8_t *pkt, size_t len)
{
	for (size_t i = 0; i < r->nxfers; i++) {
		if (r->xfers[i] == x) {
			r->xfers[i] = NULL;
		}
	}
	if (status == UP_OK) {
		struct dns_msg m;
		if (dns_msg_parse(pkt, len, &m) != TDNS_OK) {
			status = UP_EPROTO;
		} else if ((m.flags & DNS_FLAG_TC) != 0 && !x->stream) {
			/* RFC 7766 §5: a truncated UDP answer is asked again over TCP. */
			dns_msg_clear(&m);
			if (req_send(r, x->up, true)) {
				return;
			}
			status = UP_ENET;
		} else if (m.rcode == DNS_RCODE_NOERROR || m.rcode == DNS_RCODE_NXDOMAIN) {
			__atomic_fetch_add(&x->up->info->answers, 1, __ATOMIC_RELAXED);
			sanitise(&m);
			if (r->conf->validate) {
				fwd_validate(r, &m);
				return;
			}
			int rc = cache_store_msg(r->conf->cache, &m, &r->key, cache_now());
			if (rc != TDNS_OK && rc != TDNS_ENOENT) {
				tdns_debug("forwarder %s: answer not cached: %s", x->up->info->spec,
					   tdns_status_msg(rc));
			}
			struct resolver_result res = { .status = RESOLVER_OK, .msg = &m,
						       .upstream_rcode = m.rcode };
			req_finish(r, &res);
			dns_msg_clear(&m);
			return;
		} else {
			/* SERVFAIL, REFUSED, ...: this server cannot help; try another. */
			r->upstream_rcode = m.rcode;
			__atomic_fetch_add(&x->up->info->errors, 1, __ATOMIC_RELAXED);
			dns_msg_clear(&m);
			status = UP_EPROTO;
		}
	}
	if (status == UP_ETIMEOUT) {
		r->timeouts = true;
	} else if (status == UP_ENET || status == UP_ETLS) {
		r->neterr = true;
	}
	req_advance(r, want_active(r));
}

/* Servers by preference: healthy before failing, then by smoothed RTT. */
static void
pick_servers(struct fwd_req *r, const struct resolver_servers *s)
{
	struct resolver_fwd *f = r->f;
	for (size_t i = 0; i < s->n && r->nups < RESOLVER_MAX_SERVERS; i++) {
		struct up *u = f->ups[s->first + i];
		if (u == NULL) {
			continue;
		}
		size_t j = r->nups++;
		while (j > 0) {
			const struct up *p = r->ups[j - 1];
			bool before = (u->fails >= 3) != (p->fails >= 3) ? u->fails < 3
									   : u->srtt_ms < p->srtt_ms;
			if (!before) {
				break;
			}
			r->ups[j] = r->ups[j - 1];
			j--;
		}
		r->ups[j] = u;
		up_ref(u);
	}
}

static bool
build_query(struct fwd_req *r)
{
	struct dns_build b;
	/*
	 * Issue 16: a validating resolver asks with CD (as Knot Resolver does), so that bogus
	 * data reaches it and gets its own verdict and EDE rather than the upstream's SERVFAIL.
	 */
	bool cd = (r->key.flags & CACHE_KEY_CD) != 0 || (r->conf != NULL && r->conf->validate);
	uint16_t flags = DNS_FLAG_RD | (cd ? DNS_FLAG_CD : 0);
	dns_build_init(&b, r->query, sizeof(r->query), sizeof(r->query), 0, flags);
	if (dns_build_question(&b, r->key.name, r->key.qtype, r->key.qclass) != TDNS_OK) {
		return false;
	}
	bool dnssec_ok = (r->key.flags & CACHE_KEY_DO) != 0 || (r->conf != NULL && r->conf->validate);
	dns_build_edns(&b, RESOLVER_EDNS_SIZE, dnssec_ok);
	r->qlen = dns_build_finish(&b);
	return r->qlen > 0;
}

void
resolver_fwd_query(struct resolver_fwd *f, const struct cache_key *k,
		   const struct resolver_servers *servers, struct cache_waiter *w)
{
	struct resolver_conf *conf = f->conf;
	struct cache_key ikey = *k;
	/* Coalescing is per worker: answers must reach the worker that owns the client. */
	ikey.flags = (uint8_t)(ikey.flags | ((f->wid & 0x3fu) << 2));
	if (conf != NULL && !cache_inflight_begin(conf->cache, &ikey, w)) {
		return;
	}
	struct fwd_req *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		iter_fail_unstarted(f->iter, conf, &ikey, w);
		return;
	}
	r->f = f;
	r->key = *k;
	r->ikey = ikey;
	r->inflight = conf != NULL;
	r->first = w;
	r->upstream_rcode = -1;
	r->conf = resolver_conf_ref(conf);
	LIST_INSERT_HEAD(&f->reqs, r, link);
	r->later = event_new(f->base, -1, 0, later_cb, r);
	if (r->later == NULL) {
		LIST_REMOVE(r, link);
		req_free(r);
		iter_fail_unstarted(f->iter, conf, &ikey, w);
		return;
	}
	if (conf == NULL || servers == NULL || !build_query(r)) {
		event_active(r->later, 0, 0);
		return;
	}
	pick_servers(r, servers);
	req_advance(r, want_active(r));
}

bool
resolver_fwd_cancel(struct resolver_fwd *f, const struct cache_key *k, struct cache_waiter *w)
{
	struct cache_key ikey = *k;
	ikey.flags = (uint8_t)(ikey.flags | ((f->wid & 0x3fu) << 2));
	struct fwd_req *r;
	LIST_FOREACH(r, &f->reqs, link) {
		enum cache_take_back t = cache_inflight_take_back(
			r->inflight ? r->conf->cache : NULL, &r->ikey, &r->first, &ikey, w);
		if (t == CACHE_TAKE_LAST) {
			/* Nobody else waits: stop the exchanges now (the sockets close with them). */
			LIST_REMOVE(r, link);
			req_free(r);
		}
		if (t != CACHE_TAKE_NONE) {
			return true;
		}
	}
	return iter_cancel(f->iter, &ikey, w);
}

void
resolver_iter_query(struct resolver_fwd *f, const struct cache_key *k, struct cache_waiter *w)
{
	iter_query(f->iter, f->conf, f->wid, k, w);
}

void
resolver_fwd_set_zones(struct resolver_fwd *f, const struct zone_set *const *zs)
{
	iter_state_set_zones(f->iter, zs);
}
