/* SPDX-License-Identifier: MIT */
/* The iterator: resolution from the root hints through referrals, on a worker's event base. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/event.h>
#include <sodium.h>

#include "core/core.h"
#include "resolver/iter_int.h"
#include "resolver/val_int.h"

/* Scratch size for messages built from the cache. */
#define SCRATCH 65535

/* ---- pure helpers ------------------------------------------------------------------------- */

/* The ancestor of name with k labels (k <= labels of name). */
static const uint8_t *
ancestor(const uint8_t *name, int k)
{
	int skip = dns_name_labels(name) - k;
	while (skip-- > 0) {
		name = dns_name_parent(name);
	}
	return name;
}

bool
iter_min_next(const uint8_t *qname, const uint8_t *base, uint8_t *out)
{
	int ql = dns_name_labels(qname), bl = dns_name_labels(base);
	memcpy(out, qname, dns_name_len(qname));
	if (bl >= ql || !dns_name_is_sub(qname, base)) {
		return false;
	}
	const uint8_t *a = ancestor(qname, bl + 1);
	memmove(out, a, dns_name_len(a));
	return true;
}

static bool
in_zone(const uint8_t *owner, const uint8_t *zone)
{
	return dns_name_is_sub(owner, zone);
}

enum iter_kind
iter_classify(const struct dns_msg *m, const uint8_t *zone, const uint8_t *sname,
	      uint16_t stype, uint8_t *cut)
{
	bool aa = (m->flags & DNS_FLAG_AA) != 0;
	/* RA without AA: the server looked the answer up for us instead of serving the zone. */
	bool recursor = (m->flags & DNS_FLAG_RA) != 0 && !aa;
	bool soa = false, answer = false, self_ns = false, odd_ns = false;
	const uint8_t *ref = NULL;
	for (size_t i = 0; i < m->nrr; i++) {
		const struct dns_rr *rr = &m->rrs[i];
		if (!in_zone(rr->owner, zone)) {
			/* An NS set above or beside the zone asked: an upward or sideways referral. */
			odd_ns |= rr->section == DNS_SECTION_AUTHORITY && rr->type == DNS_TYPE_NS;
			continue;
		}
		if (rr->section == DNS_SECTION_ANSWER && rr->rclass == DNS_CLASS_IN) {
			if (dns_name_eq(rr->owner, sname) &&
			    (rr->type == stype || rr->type == DNS_TYPE_CNAME ||
			     stype == DNS_TYPE_ANY)) {
				answer = true;
			} else if (rr->type == DNS_TYPE_DNAME &&
				   dns_name_is_sub(sname, rr->owner) &&
				   !dns_name_eq(sname, rr->owner)) {
				answer = true;
			}
		} else if (rr->section == DNS_SECTION_AUTHORITY) {
			if (rr->type == DNS_TYPE_SOA && dns_name_is_sub(sname, rr->owner)) {
				soa = true;
			} else if (rr->type == DNS_TYPE_NS && dns_name_eq(rr->owner, zone)) {
				self_ns = true;
			} else if (rr->type == DNS_TYPE_NS && dns_name_is_sub(sname, rr->owner)) {
				/* RFC 1034 §4.3.2: a delegation to a zone below the one asked. */
				if (ref == NULL ||
				    dns_name_labels(rr->owner) > dns_name_labels(ref)) {
					ref = rr->owner;
				}
			} else if (rr->type == DNS_TYPE_NS) {
				odd_ns = true;
			}
		}
	}
	/*
	 * The response typing of Unbound's iterator, stricter in two places: NS sets that are
	 * no referral (upward, sideways, the zone's own without AA) make the server lame, and
	 * so does an answer looked up by a recursor.  AA is not needed for an answer: servers
	 * (and the root's priming answer, in some setups) leave it out.
	 */
	if (m->rcode != DNS_RCODE_NOERROR && m->rcode != DNS_RCODE_NXDOMAIN) {
		return ITER_LAME;
	}
	if (recursor) {
		return ITER_REC_LAME;
	}
	if (m->rcode == DNS_RCODE_NXDOMAIN) {
		/* With an answer: a chain whose last name does not exist (RFC 6604 §3). */
		return answer ? ITER_ANSWER : ITER_NXDOMAIN;
	}
	if (ref != NULL && !soa && !(answer && aa)) {
		/* Data without AA beside a delegation below the zone: the delegation counts. */
		memcpy(cut, ref, dns_name_len(ref));
		return ITER_REFERRAL;
	}
	if (answer) {
		return ITER_ANSWER;
	}
	if (!soa && (odd_ns || (self_ns && !aa))) {
		return ITER_LAME;
	}
	/* RFC 2308 §2.2: NOERROR without the data is NODATA, with an SOA or (often) without. */
	return ITER_NODATA;
}

bool
iter_glue_ok(const uint8_t *owner, const uint8_t *cut, const uint8_t (*nsnames)[DNS_NAME_MAX],
	     size_t nns)
{
	if (!in_zone(owner, cut)) {
		return false;
	}
	for (size_t i = 0; i < nns; i++) {
		if (dns_name_eq(owner, nsnames[i])) {
			return true;
		}
	}
	return false;
}

/* ---- state -------------------------------------------------------------------------------- */

/* Records collected for the answer: [section][owner][type][class][ttl][rdlen][rdata]. */
struct it_rrs {
	uint8_t *buf;
	size_t len, cap;
};

struct it_ns {
	uint8_t name[DNS_NAME_MAX];
	struct resolver_addr addr[ITER_MAX_ADDR];
	uint8_t naddr;
	uint8_t tried;      /* bit per address: asked for this zone already */
	uint8_t looked_up;  /* LOOKED_A, LOOKED_AAAA: address lookups that ran (or run) */
};

#define LOOKED_A 1
#define LOOKED_AAAA 2
#define LOOKED_ALL 3

struct it_req;
struct it_xfer;

/* Resolution of one (qname, qtype): the client's, or an NS address lookup for a parent. */
struct it_task {
	struct it_req *req;
	struct it_task *parent;
	struct it_task *child;      /* the NS address lookup this task waits for */
	size_t child_ns;            /* the entry of ns the child resolves */
	int level;
	struct cache_key okey;      /* what the task's answer is stored under */
	uint8_t qname[DNS_NAME_MAX]; /* the name now resolved (after CNAMEs) */
	uint16_t qtype;
	unsigned chain;
	uint8_t zone[DNS_NAME_MAX];
	struct it_ns ns[ITER_MAX_NS];
	size_t nns;
	unsigned glueless;
	uint8_t sname[DNS_NAME_MAX]; /* the name sent (minimised or qname) */
	uint16_t stype;
	bool nomin;                 /* minimisation given up (RFC 9156 §2.3 relaxed fallback) */
	unsigned minsteps;
	size_t cur_ns, cur_addr;
	bool tcp, noedns;           /* how the current server is asked */
	bool local;                 /* zone is the local root: answered in-process (RFC 8806) */
	bool nolocal;               /* the local root gave no usable answer: use the hints */
	struct it_xfer *x;
	struct it_rrs ans, auth;
	int rcode;
};

struct it_req {
	struct it_state *s;
	LIST_ENTRY(it_req) link;
	struct resolver_conf *conf;
	const struct resolver_iter_conf *ic;
	struct cache_key key, ikey;
	bool inflight;
	struct cache_waiter *first;
	struct it_task *top;
	unsigned queries, depth;
	struct event *deadline;
	struct event *later;
	bool ended;
	struct resolver_result res;
	struct dns_msg msg;         /* the answer handed to waiters (res.msg) */
	uint8_t *wire;
	struct val_req *val;        /* the validation of the answer, while it runs */
	struct cache_val verdict;   /* its result (res.val_text points here) */
};

LIST_HEAD(it_req_list, it_req);

struct it_state {
	struct event_base *base;
	struct it_req_list reqs;
	struct iter_infra infra;
	const struct zone_set *const *zsp; /* the worker's current zones (local root) */
	struct cache_waiter *orphans; /* waiters refused for lack of memory (iter_fail_unstarted) */
	struct event *orphan_ev;     /* answers them from the event loop; allocated up front */
	const struct val_io *vio;    /* the worker's resolver, through which the validator asks */
	uint8_t scratch[SCRATCH];
};

/* One exchange of a task with one server: over the network (io) or with the local root. */
struct it_xfer {
	struct it_task *t;
	struct resolver_addr addr;
	bool tcp;
	struct iter_io *io;         /* the network exchange, or NULL */
	struct event *timer;        /* the local root's answer, or NULL */
	int64_t t0_us;
	size_t qlen;
	uint8_t q[ITER_IO_QMAX];
};

static void
name_text(const uint8_t *name, char *buf, size_t cap)
{
	if (dns_name_to_text(name, buf, cap) < 0) {
		snprintf(buf, cap, "?");
	}
}

/* ---- records ------------------------------------------------------------------------------ */

static bool
rrs_add(struct it_rrs *r, int section, const uint8_t *owner, uint16_t type, uint16_t rclass,
	uint32_t ttl, const uint8_t *rd, size_t rdlen, bool lower)
{
	size_t olen = dns_name_len(owner);
	size_t need = 1 + olen + 10 + rdlen;
	if (r->len + need > r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 1024;
		while (cap < r->len + need) {
			cap *= 2;
		}
		if (cap > 4 * DNS_MSG_MAX) {
			return false;
		}
		uint8_t *nb = realloc(r->buf, cap);
		if (nb == NULL) {
			return false;
		}
		r->buf = nb;
		r->cap = cap;
	}
	uint8_t *p = r->buf + r->len;
	*p++ = (uint8_t)section;
	memcpy(p, owner, olen);
	if (lower) {
		dns_name_lower(p);
	}
	p += olen;
	tdns_put16(p, type);
	tdns_put16(p + 2, rclass);
	tdns_put32(p + 4, ttl);
	tdns_put16(p + 8, (uint16_t)rdlen);
	memcpy(p + 10, rd, rdlen);
	r->len += need;
	return true;
}

/* Copies a record of m (rdata decompressed). */
static bool
rrs_copy(struct it_rrs *r, int section, const struct dns_msg *m, const struct dns_rr *rr,
	 bool lower)
{
	uint8_t rd[DNS_MSG_MAX];
	size_t rdlen;
	if (dns_rdata_unpack(rr->type, m->pkt, m->len, rr->rdata_off, rr->rdlen, rd, sizeof(rd),
			     &rdlen) != TDNS_OK) {
		return false;
	}
	return rrs_add(r, section, rr->owner, rr->type, rr->rclass, rr->ttl, rd, rdlen, lower);
}

/* Calls fn for every record of r; stops when fn returns false. */
static void
rrs_each(const struct it_rrs *r, bool (*fn)(void *ctx, int section, const uint8_t *owner,
					    uint16_t type, uint16_t rclass, uint32_t ttl,
					    const uint8_t *rd, uint16_t rdlen),
	 void *ctx)
{
	size_t pos = 0;
	while (pos < r->len) {
		int section = r->buf[pos];
		const uint8_t *owner = r->buf + pos + 1;
		const uint8_t *p = owner + dns_name_len(owner);
		uint16_t rdlen = tdns_get16(p + 8);
		if (!fn(ctx, section, owner, tdns_get16(p), tdns_get16(p + 2), tdns_get32(p + 4),
			p + 10, rdlen)) {
			return;
		}
		pos = (size_t)(p + 10 + rdlen - r->buf);
	}
}

static bool
build_rr_cb(void *ctx, int section, const uint8_t *owner, uint16_t type, uint16_t rclass,
	    uint32_t ttl, const uint8_t *rd, uint16_t rdlen)
{
	return dns_build_rr(ctx, section, owner, type, rclass, ttl, rd, rdlen) == TDNS_OK;
}

/*
 * Whether r asks servers with DO (RFC 4035 §3.2.1): to validate (issue 16), or for a client
 * that wants the DNSSEC records passed on (its key has CACHE_KEY_DO).
 */
static bool
want_dnssec(const struct it_req *r)
{
	return r->conf->validate || (r->key.flags & CACHE_KEY_DO) != 0;
}

/* ---- requests ----------------------------------------------------------------------------- */

static void task_next(struct it_task *t);
static void task_start(struct it_task *t);
static void task_pick_name(struct it_task *t);
static void task_free(struct it_task *t);

static void
xfer_free(struct it_xfer *x)
{
	if (x == NULL) {
		return;
	}
	iter_io_free(x->io);
	if (x->timer != NULL) {
		event_free(x->timer);
	}
	free(x);
}

static void
task_free(struct it_task *t)
{
	if (t == NULL) {
		return;
	}
	task_free(t->child);
	xfer_free(t->x);
	free(t->ans.buf);
	free(t->auth.buf);
	free(t);
}

static void
req_free(struct it_req *r)
{
	val_cancel(r->val);
	task_free(r->top);
	if (r->deadline != NULL) {
		event_free(r->deadline);
	}
	if (r->later != NULL) {
		event_free(r->later);
	}
	dns_msg_clear(&r->msg);
	free(r->wire);
	resolver_conf_unref(r->conf);
	free(r);
}

/* Calls the waiters with r->res and frees r. */
static void
req_deliver(struct it_req *r)
{
	LIST_REMOVE(r, link);
	struct cache_waiter *list = r->inflight ? cache_inflight_end(r->conf->cache, &r->ikey)
						: NULL;
	if (r->first != NULL) {
		r->first->fn(r->first->arg, &r->res);
	}
	while (list != NULL) {
		struct cache_waiter *next = list->next;
		list->fn(list->arg, &r->res);
		list = next;
	}
	req_free(r);
}

static void
later_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	req_deliver(arg);
}

/* Ends r: stops all its work and delivers res from the event loop. */
static void
req_end(struct it_req *r, const struct resolver_result *res)
{
	if (r->ended) {
		return;
	}
	r->ended = true;
	val_cancel(r->val);
	r->val = NULL;
	r->res = *res;
	if (r->res.status == RESOLVER_OK) {
		r->res.msg = &r->msg;
	}
	task_free(r->top);
	r->top = NULL;
	event_del(r->deadline);
	event_active(r->later, 0, 0);
}

static void
req_fail(struct it_req *r, const char *why, const char *ede_text)
{
	char name[DNS_NAME_TEXT_MAX];
	name_text(r->key.name, name, sizeof(name));
	tdns_debug("iterator: %s type %u failed after %u queries: %s", name, r->key.qtype,
		   r->queries, why);
	struct resolver_result res = {
		.status = RESOLVER_FAIL,
		/* RFC 8914 §5.22: no authority could (or may, within the limits) answer. */
		.ede = DNS_EDE_NO_REACHABLE_AUTHORITY,
		.upstream_rcode = -1,
		.ede_text = ede_text,
	};
	req_end(r, &res);
}

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	req_fail(arg, "time limit", "resolution work limit");
}

/* ---- finishing a task --------------------------------------------------------------------- */

/* Builds the task's answer message into wire and parses it into m. */
static bool
task_build(struct it_task *t, struct dns_msg *m, uint8_t *wire)
{
	struct dns_build b;
	dns_build_init(&b, wire, DNS_MSG_MAX, DNS_MSG_MAX, 0,
		       DNS_FLAG_QR | DNS_FLAG_RD | DNS_FLAG_RA);
	if (dns_build_question(&b, t->okey.name, t->okey.qtype, t->okey.qclass) != TDNS_OK) {
		return false;
	}
	dns_build_rcode(&b, t->rcode);
	rrs_each(&t->ans, build_rr_cb, &b);
	rrs_each(&t->auth, build_rr_cb, &b);
	size_t len = dns_build_finish(&b);
	return dns_msg_parse(wire, len, m) == TDNS_OK;
}

/* Builds the task's answer message into wire/m and stores it in the cache (unchecked). */
static bool
task_store(struct it_task *t, struct dns_msg *m, uint8_t *wire)
{
	if (!task_build(t, m, wire)) {
		return false;
	}
	int rc = cache_store_msg(t->req->conf->cache, m, &t->okey, cache_now());
	if (rc != TDNS_OK && rc != TDNS_ENOENT) {
		tdns_debug("iterator: answer not cached: %s", tdns_status_msg(rc));
	}
	return true;
}

/* The validator's verdict on the client's answer: cache it with it and deliver (issue 16). */
static void
validated(void *arg, const struct cache_val *v)
{
	struct it_req *r = arg;
	r->verdict = *v;
	struct resolver_result res;
	val_store_result(r->conf->cache, &r->msg, &r->key, &r->verdict, "iterator", &res);
	req_end(r, &res);
}

static void child_done(struct it_task *parent, struct it_task *child, bool ok);

static void
task_done(struct it_task *t)
{
	struct it_req *r = t->req;
	if (t->parent != NULL) {
		/* An NS address lookup: cache its answer for later queries too. */
		struct dns_msg m;
		memset(&m, 0, sizeof(m));
		uint8_t *wire = malloc(DNS_MSG_MAX);
		if (wire != NULL && task_store(t, &m, wire)) {
			dns_msg_clear(&m);
		}
		free(wire);
		child_done(t->parent, t, true);
		return;
	}
	r->wire = malloc(DNS_MSG_MAX);
	if (r->conf->validate) {
		if (r->wire == NULL || !task_build(t, &r->msg, r->wire)) {
			req_fail(r, "cannot assemble the answer", NULL);
			return;
		}
		/* The tasks are done; the request lives on until the verdict (deadline armed). */
		task_free(r->top);
		r->top = NULL;
		val_start(r->s->vio, r->conf, &r->key, &r->msg, validated, r, &r->val);
		return;
	}
	if (r->wire == NULL || !task_store(t, &r->msg, r->wire)) {
		req_fail(r, "cannot assemble the answer", NULL);
		return;
	}
	struct resolver_result res = { .status = RESOLVER_OK, .upstream_rcode = t->rcode };
	req_end(r, &res);
}

static void
task_fail(struct it_task *t, const char *why, const char *ede_text)
{
	if (t->parent != NULL) {
		child_done(t->parent, t, false);
		return;
	}
	req_fail(t->req, why, ede_text);
}

/* ---- delegations and the cache ------------------------------------------------------------ */

/*
 * Looks (name, type) up in the cache into the scratch buffer and parses it into m; flags
 * CACHE_KEY_DELEG asks for a delegation the iterator stored.
 */
static bool
cache_get(struct it_task *t, const uint8_t *name, uint16_t type, unsigned flags,
	  struct dns_msg *m)
{
	struct it_state *s = t->req->s;
	struct cache_key k;
	cache_key_init(&k, name, type, DNS_CLASS_IN, flags);
	struct dns_build b;
	dns_build_init(&b, s->scratch, SCRATCH, SCRATCH, 0, DNS_FLAG_QR);
	if (dns_build_question(&b, k.name, type, DNS_CLASS_IN) != TDNS_OK) {
		return false;
	}
	/* The resolver's own lookup (NS addresses, cuts): no client question to count. */
	struct cache_info info;
	enum cache_result cr = cache_lookup(t->req->conf->cache, &k, cache_now(), &b,
					    CACHE_LOOKUP_QUIET, &info);
	if (cr != CACHE_HIT || info.negative || info.rcode != DNS_RCODE_NOERROR) {
		return false;
	}
	size_t len = dns_build_finish(&b);
	return dns_msg_parse(s->scratch, len, m) == TDNS_OK;
}

static void
ns_add_addr(struct it_ns *ns, uint16_t type, const uint8_t *rd, size_t rdlen)
{
	size_t n = type == DNS_TYPE_A ? 4 : 16;
	if (rdlen != n || ns->naddr >= ITER_MAX_ADDR) {
		return;
	}
	struct resolver_addr a = { .family = (uint8_t)(type == DNS_TYPE_A ? AF_INET : AF_INET6) };
	memcpy(a.ip, rd, n);
	for (size_t i = 0; i < ns->naddr; i++) {
		if (ns->addr[i].family == a.family && memcmp(ns->addr[i].ip, a.ip, n) == 0) {
			return;
		}
	}
	ns->addr[ns->naddr++] = a;
}

/* Adds the cached A and AAAA records of ns->name. */
static void
ns_from_cache(struct it_task *t, struct it_ns *ns)
{
	static const uint16_t types[] = { DNS_TYPE_A, DNS_TYPE_AAAA };
	for (size_t k = 0; k < 2; k++) {
		struct dns_msg m;
		if (!cache_get(t, ns->name, types[k], 0, &m)) {
			continue;
		}
		for (size_t i = 0; i < m.nrr; i++) {
			const struct dns_rr *rr = &m.rrs[i];
			if (rr->section == DNS_SECTION_ANSWER && rr->type == types[k]) {
				ns_add_addr(ns, rr->type, m.pkt + rr->rdata_off, rr->rdlen);
			}
		}
		dns_msg_clear(&m);
	}
}

/* Takes the NS set (and addresses) of a cached delegation or NS answer at name. */
static bool
cut_from_cache(struct it_task *t, const uint8_t *name)
{
	/*
	 * The delegation stored by a referral, else the child's own NS set when a client asked
	 * for it (its addresses are then looked up: an answer's additional section is no glue).
	 */
	struct dns_msg m;
	bool deleg = cache_get(t, name, DNS_TYPE_NS, CACHE_KEY_DELEG, &m);
	if (!deleg && !cache_get(t, name, DNS_TYPE_NS, 0, &m)) {
		return false;
	}
	t->nns = 0;
	for (size_t i = 0; i < m.nrr && t->nns < ITER_MAX_NS; i++) {
		const struct dns_rr *rr = &m.rrs[i];
		size_t pos = rr->rdata_off;
		struct it_ns *ns = &t->ns[t->nns];
		if (rr->section != DNS_SECTION_ANSWER || rr->type != DNS_TYPE_NS ||
		    !dns_name_eq(rr->owner, name) ||
		    dns_name_unpack(m.pkt, m.len, &pos, ns->name) < 0) {
			continue;
		}
		ns->naddr = 0;
		ns->tried = 0;
		ns->looked_up = 0;
		t->nns++;
	}
	/* Glue stored with the delegation (already checked against its bailiwick). */
	for (size_t i = 0; deleg && i < m.nrr; i++) {
		const struct dns_rr *rr = &m.rrs[i];
		if (rr->section != DNS_SECTION_ADDITIONAL ||
		    (rr->type != DNS_TYPE_A && rr->type != DNS_TYPE_AAAA)) {
			continue;
		}
		for (size_t k = 0; k < t->nns; k++) {
			if (dns_name_eq(rr->owner, t->ns[k].name)) {
				ns_add_addr(&t->ns[k], rr->type, m.pkt + rr->rdata_off, rr->rdlen);
			}
		}
	}
	dns_msg_clear(&m);
	if (t->nns == 0) {
		return false;
	}
	for (size_t k = 0; k < t->nns; k++) {
		if (t->ns[k].naddr == 0) {
			ns_from_cache(t, &t->ns[k]);
		}
	}
	memcpy(t->zone, name, dns_name_len(name));
	t->local = false;
	return true;
}

static void
cut_from_hints(struct it_task *t)
{
	const struct resolver_hints *h = &t->req->ic->hints;
	t->nns = 0;
	for (size_t i = 0; i < h->nns && t->nns < ITER_MAX_NS; i++) {
		struct it_ns *ns = &t->ns[t->nns++];
		memcpy(ns->name, h->ns[i].name, dns_name_len(h->ns[i].name));
		ns->naddr = 0;
		for (size_t k = 0; k < h->ns[i].naddr && k < ITER_MAX_ADDR; k++) {
			ns->addr[ns->naddr++] = h->ns[i].addr[k];
		}
		ns->tried = 0;
		ns->looked_up = ns->naddr > 0 ? LOOKED_ALL : 0;
	}
	t->zone[0] = 0;
	t->local = false;
}

/* ---- local root zone (RFC 8806) and stub zones ------------------------------------------- */

bool
iter_local_root_fresh(const struct zone *z, time_t now)
{
	const struct zone_rrset *soa = z->apex_node != NULL
					       ? zone_node_rrset(z->apex_node, DNS_TYPE_SOA)
					       : NULL;
	if (soa == NULL || soa->count == 0) {
		return false;
	}
	if (z->loaded == 0) {
		/* Created or changed at run time: its data is as new as the change. */
		return true;
	}
	const uint8_t *rd;
	uint16_t rdlen;
	zone_rdata_next(soa->data, &rd, &rdlen);
	/* RFC 1035 §3.3.13: MNAME, RNAME, SERIAL, REFRESH, RETRY, EXPIRE, MINIMUM. */
	size_t pos = dns_name_len(rd);
	pos += dns_name_len(rd + pos);
	if (pos + 20 > rdlen) {
		return false;
	}
	uint32_t expire = tdns_get32(rd + pos + 12);
	/*
	 * RFC 8806 §3: a copy older than its SOA expire must not be used (a clock that went
	 * back proves nothing).
	 */
	return now < z->loaded || now - z->loaded <= (time_t)expire;
}

/* The worker's local root zone when it may be used for t, else NULL. */
static const struct zone *
local_root(const struct it_task *t)
{
	static const uint8_t root[1] = { 0 };
	const struct it_state *s = t->req->s;
	if (t->nolocal || s->zsp == NULL || *s->zsp == NULL) {
		return NULL;
	}
	const struct zone *z = zone_set_find(*s->zsp, root);
	if (z == NULL || z->forwarder || !iter_local_root_fresh(z, time(NULL))) {
		return NULL;
	}
	return z;
}

/* The root's steps are answered from the local root zone: one pseudo-server (family 0). */
static void
cut_from_local_root(struct it_task *t)
{
	t->nns = 1;
	memset(&t->ns[0], 0, sizeof(t->ns[0]));
	t->ns[0].naddr = 1;
	t->ns[0].looked_up = LOOKED_ALL;
	t->zone[0] = 0;
	t->local = true;
}

/* Takes a stub zone's NS set (and glue) as the cut for apex. */
static void
cut_from_stub(struct it_task *t, const uint8_t *apex, const struct iter_stub_ns *sns, size_t n)
{
	t->nns = 0;
	for (size_t i = 0; i < n && t->nns < ITER_MAX_NS; i++) {
		struct it_ns *ns = &t->ns[t->nns++];
		memset(ns, 0, sizeof(*ns));
		memcpy(ns->name, sns[i].name, dns_name_len(sns[i].name));
		for (size_t k = 0; k < sns[i].naddr && k < ITER_MAX_ADDR; k++) {
			ns->addr[ns->naddr++] = sns[i].addr[k];
		}
		if (ns->naddr == 0) {
			/* An NS name outside the zone: its address is looked up as usual. */
			ns_from_cache(t, ns);
		}
	}
	memcpy(t->zone, apex, dns_name_len(apex));
	t->local = false;
}

/* Stores a referral's NS set and in-bailiwick glue as an NS answer of the cut. */
static void
cache_delegation(struct it_task *t, const struct dns_msg *m, const uint8_t *cut)
{
	uint8_t *wire = malloc(DNS_MSG_MAX);
	if (wire == NULL) {
		return;
	}
	struct dns_build b;
	dns_build_init(&b, wire, DNS_MSG_MAX, DNS_MSG_MAX, 0, DNS_FLAG_QR);
	(void)dns_build_question(&b, cut, DNS_TYPE_NS, DNS_CLASS_IN);
	uint8_t rd[DNS_MSG_MAX];
	size_t rdlen;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < m->nrr; i++) {
			const struct dns_rr *rr = &m->rrs[i];
			bool want = pass == 0 ? rr->section == DNS_SECTION_AUTHORITY &&
							rr->type == DNS_TYPE_NS &&
							dns_name_eq(rr->owner, cut)
					      : rr->section == DNS_SECTION_ADDITIONAL &&
							(rr->type == DNS_TYPE_A ||
							 rr->type == DNS_TYPE_AAAA) &&
							in_zone(rr->owner, cut);
			if (pass == 1 && want) {
				/* Only the glue task_referral accepted (RFC 5452 §6). */
				want = false;
				for (size_t k = 0; k < t->nns; k++) {
					want = want || dns_name_eq(rr->owner, t->ns[k].name);
				}
			}
			if (!want ||
			    dns_rdata_unpack(rr->type, m->pkt, m->len, rr->rdata_off, rr->rdlen, rd,
					     sizeof(rd), &rdlen) != TDNS_OK) {
				continue;
			}
			int section = pass == 0 ? DNS_SECTION_ANSWER : DNS_SECTION_ADDITIONAL;
			(void)dns_build_rr(&b, section, rr->owner, rr->type, DNS_CLASS_IN, rr->ttl,
					   rd, rdlen);
		}
	}
	size_t len = dns_build_finish(&b);
	struct dns_msg dm;
	if (dns_msg_parse(wire, len, &dm) == TDNS_OK) {
		/* Issue 13: under its own key, never where a client's (cut, NS) answer lives. */
		struct cache_key k;
		cache_key_init(&k, cut, DNS_TYPE_NS, DNS_CLASS_IN, CACHE_KEY_DELEG);
		(void)cache_store_msg(t->req->conf->cache, &dm, &k, cache_now());
		dns_msg_clear(&dm);
	}
	free(wire);
}

/* ---- exchanges ---------------------------------------------------------------------------- */

static void task_answer(struct it_task *t, struct it_xfer *x, const uint8_t *pkt, size_t len);
static void task_xfer_failed(struct it_task *t, struct it_xfer *x, bool timeout);

/* The end of a network exchange of x. */
static void
xfer_io_cb(void *arg, enum iter_io_end end, const uint8_t *pkt, size_t len)
{
	struct it_xfer *x = arg;
	if (end == ITER_IO_ANSWER) {
		task_answer(x->t, x, pkt, len);
	} else {
		task_xfer_failed(x->t, x, end == ITER_IO_TIMEOUT);
	}
}

/* 0x20 (draft-vixie-dnsext-dns0x20): random case of each letter. */
static void
randomise_case(uint8_t *name)
{
	uint8_t bits[DNS_NAME_MAX / 8 + 1];
	randombytes_buf(bits, sizeof(bits));
	size_t len = dns_name_len(name);
	for (size_t i = 0; i < len; i++) {
		uint8_t c = name[i];
		bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
		if (letter) {
			name[i] = (bits[i / 8] >> (i % 8)) & 1 ? (uint8_t)(c | 0x20)
							      : (uint8_t)(c & ~0x20);
		}
	}
}

/* Answers the exchange x from the local root zone (the worker's zone set). */
static void
local_cb(evutil_socket_t fd, short what, void *arg)
{
	struct it_xfer *x = arg;
	struct it_task *t = x->t;
	struct it_state *s = t->req->s;
	(void)fd;
	(void)what;
	const struct zone_set *zs = s->zsp != NULL ? *s->zsp : NULL;
	struct dns_query q;
	size_t len = 0;
	if (zs != NULL && dns_query_parse(x->q, x->qlen, &q) == DNS_RCODE_NOERROR) {
		struct dns_build b;
		dns_build_init(&b, s->scratch, SCRATCH, SCRATCH, q.id, DNS_FLAG_QR);
		if (dns_build_question(&b, q.qname, q.qtype, q.qclass) == TDNS_OK) {
			struct zone_answer_info info;
			memset(&info, 0, sizeof(info));
			zone_answer(zs, &q, &b, &info);
			len = dns_build_finish(&b);
		}
	}
	if (len == 0) {
		task_xfer_failed(t, x, false);
		return;
	}
	task_answer(t, x, s->scratch, len);
}

/* What task_send did; after SEND_GONE the task may be freed and must not be touched. */
enum send_rc {
	SEND_OK,    /* the exchange runs */
	SEND_SKIP,  /* this address cannot be used (marked tried); the task goes on */
	SEND_GONE,  /* the task ended (a limit, out of memory) */
};

/* Asks the task's current server (t->cur_ns, t->cur_addr) for (sname, stype). */
static enum send_rc
task_send(struct it_task *t)
{
	struct it_req *r = t->req;
	struct it_state *s = r->s;
	if (r->queries >= r->ic->max_queries) {
		task_fail(t, "query limit", "resolution work limit");
		return SEND_GONE;
	}
	struct it_xfer *x = calloc(1, sizeof(*x));
	if (x == NULL) {
		task_fail(t, "out of memory", NULL);
		return SEND_GONE;
	}
	x->t = t;
	x->addr = t->ns[t->cur_ns].addr[t->cur_addr];
	x->tcp = t->tcp;
	uint8_t name[DNS_NAME_MAX];
	memcpy(name, t->sname, dns_name_len(t->sname));
	if (r->ic->case_random) {
		randomise_case(name);
	}
	struct dns_build b;
	/* RD clear: an iterative query (RFC 1034 §4.3.1). */
	dns_build_init(&b, x->q, sizeof(x->q), sizeof(x->q),
		       (uint16_t)randombytes_uniform(65536), 0);
	(void)dns_build_question(&b, name, t->stype, DNS_CLASS_IN);
	if (!t->noedns) {
		/* Issue 16: a validating resolver needs the RRSIGs, NSEC and NSEC3 records. */
		dns_build_edns(&b, RESOLVER_EDNS_SIZE, want_dnssec(r));
	}
	x->qlen = dns_build_finish(&b);
	if (t->local) {
		/* The local root answers from the event loop, like a server would. */
		r->queries++;
		x->timer = evtimer_new(s->base, local_cb, x);
		if (x->timer == NULL) {
			xfer_free(x);
			t->ns[t->cur_ns].tried |= 1;
			return SEND_SKIP;
		}
		const struct timeval zero = { 0, 0 };
		evtimer_add(x->timer, &zero);
		t->x = x;
		return SEND_OK;
	}
	unsigned tmo = iter_infra_timeout_ms(&s->infra, &x->addr);
	if (x->tcp) {
		tmo = tmo * 2 > 3000 ? 3000 : tmo * 2;
	}
	x->io = iter_io_start(s->base, r->ic, &x->addr, x->tcp, x->q, x->qlen, tmo, xfer_io_cb, x);
	r->queries++;
	if (x->io == NULL) {
		/* Unreachable family or no socket: this address is out for the zone. */
		xfer_free(x);
		t->ns[t->cur_ns].tried |= (uint8_t)(1u << t->cur_addr);
		return SEND_SKIP;
	}
	x->t0_us = tdns_mono_us();
	t->x = x;
	return SEND_OK;
}

/* Sends again to the current server (TCP, no EDNS, full name); else goes to the next one. */
static void
task_resend(struct it_task *t)
{
	enum send_rc rc = task_send(t);
	if (rc == SEND_SKIP) {
		task_next(t);
	}
}

/* Sends (sname, stype) to the best server not yet tried; else resolves an NS address. */
static void
task_next(struct it_task *t)
{
	struct it_req *r = t->req;
	for (;;) {
		if (r->ended) {
			return;
		}
		if (t->local) {
			if ((t->ns[0].tried & 1) == 0) {
				t->cur_ns = 0;
				t->cur_addr = 0;
				t->tcp = false;
				t->noedns = false;
				if (task_send(t) != SEND_SKIP) {
					return;
				}
				continue;
			}
			/* RFC 8806 §3: the local copy only saves queries; ask the root servers. */
			t->nolocal = true;
			cut_from_hints(t);
			t->minsteps = 0;
			t->nomin = false;
			task_pick_name(t);
			continue;
		}
		double best = 0;
		bool found = false;
		for (size_t i = 0; i < t->nns; i++) {
			for (size_t k = 0; k < t->ns[i].naddr; k++) {
				if (t->ns[i].tried & (1u << k)) {
					continue;
				}
				if (iter_infra_down(&r->s->infra, &t->ns[i].addr[k])) {
					t->ns[i].tried |= (uint8_t)(1u << k);
					continue;
				}
				const struct iter_infra_entry *e =
					iter_infra_get(&r->s->infra, &t->ns[i].addr[k]);
				/* A small random term spreads load over unmeasured equals. */
				double score = e->srtt_ms + randombytes_uniform(8);
				if (iter_infra_lame(&r->s->infra, &t->ns[i].addr[k], t->zone)) {
					/* Asked last, not never: lameness can end. */
					score += 2 * ITER_INFRA_MAX_MS;
				}
				if (!found || score < best) {
					best = score;
					found = true;
					t->cur_ns = i;
					t->cur_addr = k;
				}
			}
		}
		if (!found && !t->nomin && !dns_name_eq(t->sname, t->qname)) {
			/*
			 * RFC 9156 §2.3, relaxed: every server failed (timeout, lame answer) the
			 * minimised query; ask them all the full question instead.
			 */
			t->nomin = true;
			memcpy(t->sname, t->qname, dns_name_len(t->qname));
			t->stype = t->qtype;
			for (size_t i = 0; i < t->nns; i++) {
				t->ns[i].tried = 0;
			}
			continue;
		}
		if (!found) {
			break;
		}
		t->tcp = false;
		const struct resolver_addr *a = &t->ns[t->cur_ns].addr[t->cur_addr];
		t->noedns = iter_infra_get(&r->s->infra, a)->noedns;
		if (task_send(t) != SEND_SKIP) {
			return;
		}
	}
	/* Every known address failed: look up the address of an NS name without one. */
	if (t->level < ITER_NEST_MAX && t->glueless < ITER_GLUELESS_MAX) {
		for (size_t i = 0; i < t->nns; i++) {
			struct it_ns *ns = &t->ns[i];
			if (ns->looked_up == LOOKED_ALL || ns->naddr > 0) {
				continue;
			}
			/* A first; AAAA when the name has no A (an IPv6-only server). */
			uint16_t type = (ns->looked_up & LOOKED_A) ? DNS_TYPE_AAAA : DNS_TYPE_A;
			ns->looked_up |= type == DNS_TYPE_A ? LOOKED_A : LOOKED_AAAA;
			/* Skip names an enclosing lookup is resolving already (a loop). */
			bool loop = false;
			for (struct it_task *p = t; p != NULL; p = p->parent) {
				loop = loop ||
				       (dns_name_eq(p->qname, ns->name) && p->qtype == type);
			}
			if (loop) {
				continue;
			}
			struct it_task *c = calloc(1, sizeof(*c));
			if (c == NULL) {
				break;
			}
			t->glueless++;
			c->req = r;
			c->parent = t;
			c->level = t->level + 1;
			cache_key_init(&c->okey, ns->name, type, DNS_CLASS_IN, 0);
			memcpy(c->qname, ns->name, dns_name_len(ns->name));
			c->qtype = type;
			c->rcode = DNS_RCODE_NOERROR;
			t->child = c;
			t->child_ns = i;
			task_start(c);
			return;
		}
	}
	task_fail(t, "no server answered usably", NULL);
}

static bool
addr_cb(void *ctx, int section, const uint8_t *owner, uint16_t type, uint16_t rclass,
	uint32_t ttl, const uint8_t *rd, uint16_t rdlen)
{
	(void)owner;
	(void)rclass;
	(void)ttl;
	if (section == DNS_SECTION_ANSWER && (type == DNS_TYPE_A || type == DNS_TYPE_AAAA)) {
		ns_add_addr(ctx, type, rd, rdlen);
	}
	return true;
}

static void
child_done(struct it_task *t, struct it_task *c, bool ok)
{
	if (ok && t->child_ns < t->nns) {
		rrs_each(&c->ans, addr_cb, &t->ns[t->child_ns]);
		if (c->rcode == DNS_RCODE_NXDOMAIN) {
			/* RFC 8020: no such name, so no AAAA either. */
			t->ns[t->child_ns].looked_up = LOOKED_ALL;
		}
	}
	t->child = NULL;
	task_free(c);
	if (!t->req->ended) {
		task_next(t);
	}
}

/* Sets sname/stype for the current zone: minimised (RFC 9156 §3) or the full question. */
static void
task_pick_name(struct it_task *t)
{
	t->stype = t->qtype;
	if (t->nomin || !t->req->ic->qname_min || t->minsteps >= ITER_MINIMISE_MAX ||
	    !iter_min_next(t->qname, t->zone, t->sname) || dns_name_eq(t->sname, t->qname)) {
		memcpy(t->sname, t->qname, dns_name_len(t->qname));
		return;
	}
	/* RFC 9156 §2.1: QTYPE A for the minimised names, which servers handle best. */
	t->stype = DNS_TYPE_A;
	t->minsteps++;
}

/* Starts (or restarts after a CNAME) at the closest cut known for t->qname. */
static void
task_start(struct it_task *t)
{
	const uint8_t *name = t->qname;
	if (t->qtype == DNS_TYPE_DS && name[0] != 0) {
		/* RFC 4035 §3.1.4.1: DS lives at the parent side of the cut. */
		name = dns_name_parent(name);
	}
	bool found = false;
	/* A stub zone at or above the name is where its resolution starts (issue 5). */
	uint8_t sapex[DNS_NAME_MAX];
	struct iter_stub_ns sns[ITER_MAX_NS];
	size_t nstub = iter_stub_lookup(t->req->conf->stubs, name, cache_now(), sapex, sns);
	for (;;) {
		if (nstub > 0 && dns_name_labels(name) <= dns_name_labels(sapex)) {
			/* Delegations below the stub's apex, cached, came first. */
			cut_from_stub(t, sapex, sns, nstub);
			found = true;
			break;
		}
		if (name[0] == 0 && local_root(t) != NULL) {
			cut_from_local_root(t);
			found = true;
			break;
		}
		if (cut_from_cache(t, name)) {
			found = true;
			break;
		}
		if (name[0] == 0) {
			break;
		}
		name = dns_name_parent(name);
	}
	if (!found) {
		cut_from_hints(t);
	}
	t->glueless = 0;
	t->nomin = false;
	t->minsteps = 0;
	task_pick_name(t);
	task_next(t);
}

/* ---- answers ------------------------------------------------------------------------------ */

static void
task_xfer_failed(struct it_task *t, struct it_xfer *x, bool timeout)
{
	struct it_req *r = t->req;
	if (timeout) {
		iter_infra_timeout(&r->s->infra, &x->addr);
	}
	t->x = NULL;
	xfer_free(x);
	t->ns[t->cur_ns].tried |= (uint8_t)(1u << t->cur_addr);
	task_next(t);
}

/*
 * Copies the RRSIGs in section of m at owner covering type (any type when type is 0): the
 * validator checks the answer with them (issue 16).
 */
static bool
copy_sigs(struct it_task *t, const struct dns_msg *m, int section, const uint8_t *owner,
	  uint16_t type)
{
	bool lower = t->req->ic->case_random;
	for (size_t i = 0; i < m->nrr; i++) {
		const struct dns_rr *rr = &m->rrs[i];
		if (rr->section != section || rr->type != DNS_TYPE_RRSIG || rr->rdlen < 2 ||
		    !dns_name_eq(rr->owner, owner) ||
		    (type != 0 && tdns_get16(m->pkt + rr->rdata_off) != type)) {
			continue;
		}
		if (!rrs_copy(section == DNS_SECTION_ANSWER ? &t->ans : &t->auth, section, m, rr,
			      lower)) {
			return false;
		}
	}
	return true;
}

/*
 * Copies the NSEC and NSEC3 records of m's authority section in the zone asked, with their
 * RRSIGs: the proofs of a negative answer or of a wildcard expansion (RFC 4035 §3.1.3).
 */
static void
copy_denial(struct it_task *t, const struct dns_msg *m)
{
	if (!want_dnssec(t->req)) {
		return;
	}
	bool lower = t->req->ic->case_random;
	for (size_t i = 0; i < m->nrr; i++) {
		const struct dns_rr *rr = &m->rrs[i];
		if (rr->section != DNS_SECTION_AUTHORITY || !in_zone(rr->owner, t->zone)) {
			continue;
		}
		bool denial = rr->type == DNS_TYPE_NSEC || rr->type == DNS_TYPE_NSEC3;
		if (rr->type == DNS_TYPE_RRSIG && rr->rdlen >= 2) {
			uint16_t covered = tdns_get16(m->pkt + rr->rdata_off);
			denial = covered == DNS_TYPE_NSEC || covered == DNS_TYPE_NSEC3;
		}
		if (denial) {
			(void)rrs_copy(&t->auth, DNS_SECTION_AUTHORITY, m, rr, lower);
		}
	}
}

/* Copies the answer records of m for cur's chain; follows CNAME/DNAME. */
struct chain {
	uint8_t cur[DNS_NAME_MAX];
	bool data;       /* the chain ended at data of qtype */
	bool yx;         /* a DNAME substitution overflowed (RFC 6672 §2.2: YXDOMAIN) */
};

static bool
follow_chain(struct it_task *t, const struct dns_msg *m, struct chain *c)
{
	bool lower = t->req->ic->case_random;
	memcpy(c->cur, t->qname, dns_name_len(t->qname));
	c->data = false;
	c->yx = false;
	for (unsigned hop = 0;; hop++) {
		bool any = false;
		for (size_t i = 0; i < m->nrr; i++) {
			const struct dns_rr *rr = &m->rrs[i];
			if (rr->section == DNS_SECTION_ANSWER && in_zone(rr->owner, t->zone) &&
			    dns_name_eq(rr->owner, c->cur) &&
			    (rr->type == t->qtype || (t->qtype == DNS_TYPE_ANY &&
						     rr->type != DNS_TYPE_RRSIG))) {
				if (!rrs_copy(&t->ans, DNS_SECTION_ANSWER, m, rr, lower)) {
					return false;
				}
				any = true;
			}
		}
		if (any) {
			c->data = true;
			return copy_sigs(t, m, DNS_SECTION_ANSWER, c->cur,
					 t->qtype == DNS_TYPE_ANY ? 0 : t->qtype);
		}
		if (t->chain >= ITER_CHAIN_MAX) {
			return true;
		}
		/* RFC 6672 §3.2: a DNAME above cur, in bailiwick, rewrites it. */
		const struct dns_rr *dname = NULL, *cname = NULL;
		for (size_t i = 0; i < m->nrr; i++) {
			const struct dns_rr *rr = &m->rrs[i];
			if (rr->section != DNS_SECTION_ANSWER || !in_zone(rr->owner, t->zone)) {
				continue;
			}
			if (rr->type == DNS_TYPE_CNAME && dns_name_eq(rr->owner, c->cur)) {
				cname = rr;
			} else if (rr->type == DNS_TYPE_DNAME &&
				   dns_name_is_sub(c->cur, rr->owner) &&
				   !dns_name_eq(c->cur, rr->owner)) {
				dname = rr;
			}
		}
		uint8_t next[DNS_NAME_MAX];
		if (dname != NULL) {
			uint8_t target[DNS_NAME_MAX];
			size_t pos = dname->rdata_off;
			if (dns_name_unpack(m->pkt, m->len, &pos, target) < 0 ||
			    !rrs_copy(&t->ans, DNS_SECTION_ANSWER, m, dname, lower) ||
			    !copy_sigs(t, m, DNS_SECTION_ANSWER, dname->owner, DNS_TYPE_DNAME)) {
				return false;
			}
			size_t plen = dns_name_len(c->cur) - dns_name_len(dname->owner);
			size_t tlen = dns_name_len(target);
			if (plen + tlen > DNS_NAME_MAX) {
				c->yx = true;
				return true;
			}
			memcpy(next, c->cur, plen);
			memcpy(next + plen, target, tlen);
			/* The synthesised CNAME (RFC 6672 §3.1), sent or not. */
			if (!rrs_add(&t->ans, DNS_SECTION_ANSWER, c->cur, DNS_TYPE_CNAME,
				     DNS_CLASS_IN, dname->ttl, next, plen + tlen, lower)) {
				return false;
			}
		} else if (cname != NULL) {
			size_t pos = cname->rdata_off;
			if (dns_name_unpack(m->pkt, m->len, &pos, next) < 0 ||
			    !rrs_copy(&t->ans, DNS_SECTION_ANSWER, m, cname, lower) ||
			    !copy_sigs(t, m, DNS_SECTION_ANSWER, c->cur, DNS_TYPE_CNAME)) {
				return false;
			}
			if (t->qtype == DNS_TYPE_CNAME) {
				c->data = true;
				return true;
			}
		} else {
			return true;
		}
		t->chain++;
		memcpy(c->cur, next, dns_name_len(next));
		(void)hop;
	}
}

/*
 * True when m's authority has the SOA of a negative answer for name (RFC 2308 §2.2); an NS
 * set there is a referral to a child zone instead (the chain goes on below a cut).
 */
static bool
has_soa(const struct it_task *t, const struct dns_msg *m, const uint8_t *name)
{
	for (size_t i = 0; i < m->nrr; i++) {
		const struct dns_rr *rr = &m->rrs[i];
		if (rr->section == DNS_SECTION_AUTHORITY && rr->type == DNS_TYPE_SOA &&
		    in_zone(rr->owner, t->zone) && dns_name_is_sub(name, rr->owner)) {
			return true;
		}
	}
	return false;
}

/* Copies the SOA of a negative answer for name (RFC 2308 §5) into the task's authority. */
static void
copy_soa(struct it_task *t, const struct dns_msg *m, const uint8_t *name)
{
	for (size_t i = 0; i < m->nrr; i++) {
		const struct dns_rr *rr = &m->rrs[i];
		if (rr->section == DNS_SECTION_AUTHORITY && rr->type == DNS_TYPE_SOA &&
		    in_zone(rr->owner, t->zone) && dns_name_is_sub(name, rr->owner)) {
			(void)rrs_copy(&t->auth, DNS_SECTION_AUTHORITY, m, rr,
				       t->req->ic->case_random);
			(void)copy_sigs(t, m, DNS_SECTION_AUTHORITY, rr->owner, DNS_TYPE_SOA);
			copy_denial(t, m);
			return;
		}
	}
}

/* Restarts t for a CNAME target out of the zone's reach. */
static void
task_restart(struct it_task *t, const uint8_t *name)
{
	memcpy(t->qname, name, dns_name_len(name));
	if (t->chain > ITER_CHAIN_MAX) {
		task_fail(t, "CNAME chain too long", "resolution work limit");
		return;
	}
	task_start(t);
}

static void
task_referral(struct it_task *t, const struct dns_msg *m, const uint8_t *cut)
{
	struct it_req *r = t->req;
	if (++r->depth > r->ic->max_depth) {
		task_fail(t, "referral limit", "resolution work limit");
		return;
	}
	t->nns = 0;
	for (size_t i = 0; i < m->nrr && t->nns < ITER_MAX_NS; i++) {
		const struct dns_rr *rr = &m->rrs[i];
		size_t pos = rr->rdata_off;
		struct it_ns *ns = &t->ns[t->nns];
		if (rr->section != DNS_SECTION_AUTHORITY || rr->type != DNS_TYPE_NS ||
		    !dns_name_eq(rr->owner, cut) ||
		    dns_name_unpack(m->pkt, m->len, &pos, ns->name) < 0) {
			continue;
		}
		bool dup = false;
		for (size_t k = 0; k < t->nns; k++) {
			dup = dup || dns_name_eq(t->ns[k].name, ns->name);
		}
		if (dup) {
			continue;
		}
		ns->naddr = 0;
		ns->tried = 0;
		ns->looked_up = 0;
		t->nns++;
	}
	uint8_t names[ITER_MAX_NS][DNS_NAME_MAX];
	for (size_t k = 0; k < t->nns; k++) {
		memcpy(names[k], t->ns[k].name, dns_name_len(t->ns[k].name));
	}
	for (size_t i = 0; i < m->nrr; i++) {
		const struct dns_rr *rr = &m->rrs[i];
		if (rr->section != DNS_SECTION_ADDITIONAL ||
		    (rr->type != DNS_TYPE_A && rr->type != DNS_TYPE_AAAA) ||
		    !iter_glue_ok(rr->owner, cut, (const uint8_t (*)[DNS_NAME_MAX])names, t->nns)) {
			continue;
		}
		for (size_t k = 0; k < t->nns; k++) {
			if (dns_name_eq(rr->owner, t->ns[k].name)) {
				ns_add_addr(&t->ns[k], rr->type, m->pkt + rr->rdata_off, rr->rdlen);
			}
		}
	}
	cache_delegation(t, m, cut);
	memcpy(t->zone, cut, dns_name_len(cut));
	t->local = false;
	/* Out-of-bailiwick NS names may be known already. */
	for (size_t k = 0; k < t->nns; k++) {
		if (t->ns[k].naddr == 0) {
			ns_from_cache(t, &t->ns[k]);
		}
	}
	t->glueless = 0;
	t->minsteps = 0;
	/* The fallback to full names was for the servers of the zone above. */
	t->nomin = false;
	task_pick_name(t);
	task_next(t);
}

static void
task_answer(struct it_task *t, struct it_xfer *x, const uint8_t *pkt, size_t len)
{
	struct it_req *r = t->req;
	if (x->addr.family != 0) {
		double ms = (double)(tdns_mono_us() - x->t0_us) / 1000.0;
		iter_infra_rtt(&r->s->infra, &x->addr, ms);
	}
	bool was_tcp = x->tcp;
	t->x = NULL;
	/* The packet lives in the exchange's buffers, which go now: keep a copy. */
	struct dns_msg m;
	uint8_t *copy = malloc(len);
	int prc = TDNS_ENOMEM;
	if (copy != NULL) {
		memcpy(copy, pkt, len);
		prc = dns_msg_parse(copy, len, &m);
	}
	xfer_free(x);
	if (prc != TDNS_OK) {
		free(copy);
		t->ns[t->cur_ns].tried |= (uint8_t)(1u << t->cur_addr);
		task_next(t);
		return;
	}
	bool minimised = !dns_name_eq(t->sname, t->qname);
	bool resend = false;
	if ((m.flags & DNS_FLAG_TC) != 0 && !was_tcp) {
		/* RFC 7766 §5: truncated over UDP, ask the same server over TCP. */
		t->tcp = true;
		resend = true;
	} else if ((m.rcode == DNS_RCODE_FORMERR || m.rcode == DNS_RCODE_NOTIMP ||
		    m.rcode == DNS_RCODE_BADVERS) && !t->noedns) {
		/* RFC 6891 §7: a server without EDNS is asked again without OPT (and noted). */
		iter_infra_get(&r->s->infra, &t->ns[t->cur_ns].addr[t->cur_addr])->noedns =
			true;
		t->noedns = true;
		resend = true;
	} else if (minimised && !t->nomin && m.rcode != DNS_RCODE_NOERROR) {
		/*
		 * RFC 9156 §2.3 and §4, relaxed: NXDOMAIN for an empty non-terminal, SERVFAIL,
		 * REFUSED or FORMERR to a minimised query make us ask the full name instead.
		 */
		t->nomin = true;
		memcpy(t->sname, t->qname, dns_name_len(t->qname));
		t->stype = t->qtype;
		resend = true;
	}
	if (resend) {
		dns_msg_clear(&m);
		free(copy);
		task_resend(t);
		return;
	}
	uint8_t cut[DNS_NAME_MAX];
	enum iter_kind kind = iter_classify(&m, t->zone, t->sname, t->stype, cut);
	if (minimised && (kind == ITER_ANSWER || kind == ITER_NODATA)) {
		/* RFC 9156 §3: no cut at sname; go one label further in the same zone. */
		uint8_t next[DNS_NAME_MAX];
		if (iter_min_next(t->qname, t->sname, next) && t->minsteps < ITER_MINIMISE_MAX &&
		    !dns_name_eq(next, t->qname)) {
			memcpy(t->sname, next, dns_name_len(next));
			t->minsteps++;
		} else {
			memcpy(t->sname, t->qname, dns_name_len(t->qname));
			t->stype = t->qtype;
		}
		dns_msg_clear(&m);
		free(copy);
		t->tcp = false;
		task_resend(t);
		return;
	}
	switch (kind) {
	case ITER_REFERRAL:
		task_referral(t, &m, cut);
		break;
	case ITER_ANSWER: {
		struct chain c;
		if (!follow_chain(t, &m, &c)) {
			task_fail(t, "cannot copy the answer", NULL);
		} else if (c.data) {
			/* A wildcard expansion comes with the proof that the name is not there. */
			copy_denial(t, &m);
			t->rcode = DNS_RCODE_NOERROR;
			task_done(t);
		} else if (c.yx) {
			t->rcode = DNS_RCODE_YXDOMAIN;
			task_done(t);
		} else if (dns_name_eq(c.cur, t->qname)) {
			/* CNAME loop or chain limit. */
			task_fail(t, "CNAME chain too long", "resolution work limit");
		} else if (in_zone(c.cur, t->zone) &&
			   (m.rcode == DNS_RCODE_NXDOMAIN || has_soa(t, &m, c.cur))) {
			/* The chain ends in this zone with a negative answer for its last name. */
			t->rcode = m.rcode;
			copy_soa(t, &m, c.cur);
			task_done(t);
		} else if (t->chain > ITER_CHAIN_MAX) {
			task_fail(t, "CNAME chain too long", "resolution work limit");
		} else {
			task_restart(t, c.cur);
		}
		break;
	}
	case ITER_NXDOMAIN:
	case ITER_NODATA:
		t->rcode = kind == ITER_NXDOMAIN ? DNS_RCODE_NXDOMAIN : DNS_RCODE_NOERROR;
		copy_soa(t, &m, t->qname);
		task_done(t);
		break;
	case ITER_LAME:
	case ITER_REC_LAME:
	default: {
		char zone[DNS_NAME_TEXT_MAX];
		name_text(t->zone, zone, sizeof(zone));
		tdns_debug("iterator: %s answer (rcode %d) from a server of %s",
			   kind == ITER_REC_LAME ? "recursion-lame" : "lame", m.rcode, zone);
		if (!t->local) {
			iter_infra_lame_set(&r->s->infra, &t->ns[t->cur_ns].addr[t->cur_addr], t->zone);
		}
		t->ns[t->cur_ns].tried |= (uint8_t)(1u << t->cur_addr);
		task_next(t);
		break;
	}
	}
	dns_msg_clear(&m);
	free(copy);
}

/* ---- the worker's iterator ---------------------------------------------------------------- */

/* Calls every waiter of list with the status, and no answer. */
static void
orphans_answer(struct cache_waiter *list, int status)
{
	struct resolver_result res = {
		.status = status,
		.ede = DNS_EDE_OTHER,
		.upstream_rcode = -1,
		.ede_text = status == RESOLVER_FAIL ? "out of memory" : NULL,
	};
	while (list != NULL) {
		struct cache_waiter *next = list->next;
		list->fn(list->arg, &res);
		list = next;
	}
}

static void
orphans_cb(evutil_socket_t fd, short what, void *arg)
{
	struct it_state *s = arg;
	(void)fd;
	(void)what;
	/* Detached first: a waiter may start new queries, which may fail again. */
	struct cache_waiter *list = s->orphans;
	s->orphans = NULL;
	orphans_answer(list, RESOLVER_FAIL);
}

void
iter_fail_unstarted(struct it_state *s, struct resolver_conf *conf, const struct cache_key *ikey,
		    struct cache_waiter *w)
{
	struct cache_waiter *list = conf != NULL ? cache_inflight_end(conf->cache, ikey) : NULL;
	if (w != NULL) {
		w->next = list;
		list = w;
	}
	if (list == NULL) {
		return;
	}
	struct cache_waiter *last = list;
	while (last->next != NULL) {
		last = last->next;
	}
	last->next = s->orphans;
	s->orphans = list;
	event_active(s->orphan_ev, 0, 0);
}

struct it_state *
iter_state_new(struct event_base *base)
{
	struct it_state *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		return NULL;
	}
	s->base = base;
	LIST_INIT(&s->reqs);
	iter_infra_init(&s->infra);
	s->orphan_ev = event_new(base, -1, 0, orphans_cb, s);
	if (s->orphan_ev == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

void
iter_state_set_fwd(struct it_state *s, const struct val_io *io)
{
	s->vio = io;
}

void
iter_state_set_zones(struct it_state *s, const struct zone_set *const *zs)
{
	s->zsp = zs;
}

void
iter_state_free(struct it_state *s)
{
	if (s == NULL) {
		return;
	}
	struct it_req *r;
	while ((r = LIST_FIRST(&s->reqs)) != NULL) {
		task_free(r->top);
		r->top = NULL;
		if (!r->ended) {
			r->ended = true;
			memset(&r->res, 0, sizeof(r->res));
			r->res.status = RESOLVER_SHUTDOWN;
			r->res.upstream_rcode = -1;
		} else if (r->res.status == RESOLVER_OK) {
			/* Already answered but not delivered: deliver that. */
			r->res.msg = &r->msg;
		}
		req_deliver(r);
	}
	struct cache_waiter *list = s->orphans;
	s->orphans = NULL;
	orphans_answer(list, RESOLVER_SHUTDOWN);
	event_free(s->orphan_ev);
	free(s);
}

bool
iter_cancel(struct it_state *s, const struct cache_key *ikey, struct cache_waiter *w)
{
	struct it_req *r;
	LIST_FOREACH(r, &s->reqs, link) {
		enum cache_take_back t = cache_inflight_take_back(
			r->inflight ? r->conf->cache : NULL, &r->ikey, &r->first, ikey, w);
		if (t == CACHE_TAKE_LAST) {
			/* Nobody else waits: the whole resolution stops (its tasks, exchanges, timers). */
			LIST_REMOVE(r, link);
			req_free(r);
		}
		if (t != CACHE_TAKE_NONE) {
			return true;
		}
	}
	/* A waiter refused for lack of memory waits in the orphan list for its SERVFAIL. */
	for (struct cache_waiter **pp = &s->orphans; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			w->next = NULL;
			return true;
		}
	}
	return false;
}

void
iter_query(struct it_state *s, struct resolver_conf *conf, unsigned wid,
	   const struct cache_key *k, struct cache_waiter *w)
{
	struct cache_key ikey = *k;
	/* Coalescing is per worker: answers must reach the worker that owns the client. */
	ikey.flags = (uint8_t)(ikey.flags | ((wid & 0x3fu) << 2));
	if (conf != NULL && !cache_inflight_begin(conf->cache, &ikey, w)) {
		return;
	}
	struct it_req *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		iter_fail_unstarted(s, conf, &ikey, w);
		return;
	}
	r->s = s;
	r->key = *k;
	r->ikey = ikey;
	r->inflight = conf != NULL;
	r->first = w;
	r->conf = resolver_conf_ref(conf);
	r->ic = conf != NULL ? conf->iter : NULL;
	LIST_INSERT_HEAD(&s->reqs, r, link);
	r->later = event_new(s->base, -1, 0, later_cb, r);
	r->deadline = evtimer_new(s->base, deadline_cb, r);
	r->top = calloc(1, sizeof(*r->top));
	if (r->later == NULL || r->deadline == NULL || r->top == NULL) {
		LIST_REMOVE(r, link);
		req_free(r);
		iter_fail_unstarted(s, conf, &ikey, w);
		return;
	}
	if (r->ic == NULL) {
		struct resolver_result res = { .status = RESOLVER_FAIL,
					       .ede = DNS_EDE_NO_REACHABLE_AUTHORITY,
					       .upstream_rcode = -1 };
		req_end(r, &res);
		return;
	}
	const struct timeval tv = { .tv_sec = r->ic->max_time_ms / 1000,
				    .tv_usec = (r->ic->max_time_ms % 1000) * 1000 };
	evtimer_add(r->deadline, &tv);
	struct it_task *t = r->top;
	t->req = r;
	t->okey = *k;
	memcpy(t->qname, k->name, dns_name_len(k->name));
	t->qtype = k->qtype;
	t->rcode = DNS_RCODE_NOERROR;
	task_start(t);
}
