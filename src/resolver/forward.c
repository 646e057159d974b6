/* SPDX-License-Identifier: MIT */
/* The caching forwarder: configuration, request state, server choice, answer checks, cache fill. */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <openssl/ssl.h>
#include <sodium.h>

#include "cfg/cfg.h"
#include "core/core.h"
#include "resolver/fwd_int.h"
#include "resolver/iter_int.h"

/* The qname and up to 16 CNAME targets: the chain an answer may carry. */
#define CHAIN_NAMES 17

/* ---- configuration ------------------------------------------------------------------------ */

/* Splits a comma-separated list; calls fn for every trimmed item. */
static int
each_item(const char *list, int (*fn)(void *ctx, const char *item), void *ctx)
{
	char *copy = tdns_xstrdup(list);
	char *p = copy;
	int rc = TDNS_OK;
	while (rc == TDNS_OK) {
		char *comma = strchr(p, ',');
		if (comma != NULL) {
			*comma = '\0';
		}
		while (*p == ' ' || *p == '\t') {
			p++;
		}
		size_t len = strlen(p);
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t')) {
			p[--len] = '\0';
		}
		if (len > 0) {
			rc = fn(ctx, p);
		}
		if (comma == NULL) {
			break;
		}
		p = comma + 1;
	}
	free(copy);
	return rc;
}

struct add_ctx {
	struct resolver_conf *rc;
	char *err;
	size_t errlen;
};

static int
add_server(void *arg, const char *spec)
{
	struct add_ctx *a = arg;
	struct resolver_conf *rc = a->rc;
	rc->ups = tdns_xrealloc(rc->ups, (rc->nups + 1) * sizeof(*rc->ups));
	struct resolver_upstream *u = &rc->ups[rc->nups];
	memset(u, 0, sizeof(*u));
	char msg[256];
	if (client_server_parse(spec, &u->srv, msg, sizeof(msg)) != CLIENT_OK ||
	    client_server_resolve(&u->srv, msg, sizeof(msg)) != CLIENT_OK) {
		snprintf(a->err, a->errlen, "forwarder '%s': %s", spec, msg);
		return TDNS_ECONFIG;
	}
	u->spec = tdns_xstrdup(spec);
	rc->nups++;
	return TDNS_OK;
}

static int
tls_setup(struct resolver_conf *rc, const struct cfg *c, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL) {
		snprintf(err, errlen, "cannot create a TLS context");
		return TDNS_ENOMEM;
	}
	/* RFC 7858 §3.1 with RFC 8996: TLS 1.2 at least. */
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL);
	int ok = c->forward_ca_file != NULL && c->forward_ca_file[0] != '\0'
			 ? SSL_CTX_load_verify_locations(ctx, c->forward_ca_file, NULL)
			 : SSL_CTX_set_default_verify_paths(ctx);
	if (ok != 1) {
		snprintf(err, errlen, "cannot load the CA file '%s' of [forwarders] ca-file",
			 c->forward_ca_file);
		SSL_CTX_free(ctx);
		return TDNS_ECONFIG;
	}
	rc->tls_ctx = ctx;
	return TDNS_OK;
}

int
resolver_fwd_spec_check(const char *spec, char *err, size_t errlen)
{
	if (strcmp(spec, "this-server") == 0) {
		return TDNS_OK;
	}
	struct client_server srv;
	if (client_server_parse(spec, &srv, err, errlen) != CLIENT_OK) {
		return TDNS_EINVAL;
	}
	return TDNS_OK;
}

/* The servers of one forwarding entry, collected before they are added to the conf. */
struct spec_list {
	char **v;
	size_t n;
};

static int
spec_push(void *arg, const char *spec)
{
	struct spec_list *l = arg;
	l->v = tdns_xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = tdns_xstrdup(spec);
	return TDNS_OK;
}

static void
spec_clear(struct spec_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i]);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/*
 * Adds a forwarding entry for names at and below name, in the zone at zone_apex, whose
 * servers are specs: "this-server" alone shares the global list; otherwise each URL is added
 * (this-server among URLs adds the global servers again, so the range stays contiguous).
 * With strict, a server that fails to parse or resolve fails the whole configuration;
 * otherwise (FWD records, which a zone file may hold) it is logged and left out.
 */
static int
add_entry(struct add_ctx *a, const uint8_t *name, const uint8_t *zone_apex,
	  const struct spec_list *specs, bool strict)
{
	struct resolver_conf *rc = a->rc;
	rc->zones = tdns_xrealloc(rc->zones, (rc->nzones + 1) * sizeof(*rc->zones));
	struct resolver_fwd_zone *fz = &rc->zones[rc->nzones++];
	memset(fz, 0, sizeof(*fz));
	memcpy(fz->apex, name, dns_name_len(name));
	dns_name_lower(fz->apex);
	memcpy(fz->zone_apex, zone_apex, dns_name_len(zone_apex));
	dns_name_lower(fz->zone_apex);
	if (specs->n == 1 && strcmp(specs->v[0], "this-server") == 0) {
		fz->servers = rc->global;
		return TDNS_OK;
	}
	size_t first = rc->nups;
	for (size_t i = 0; i < specs->n; i++) {
		bool self = strcmp(specs->v[i], "this-server") == 0;
		size_t n = self ? rc->global.n : 1;
		for (size_t k = 0; k < n; k++) {
			const char *spec = self ? rc->ups[rc->global.first + k].spec : specs->v[i];
			int st = add_server(a, spec);
			if (st != TDNS_OK && strict) {
				return st;
			}
			if (st != TDNS_OK) {
				char text[DNS_NAME_TEXT_MAX];
				(void)dns_name_to_text(fz->apex, text, sizeof(text));
				tdns_err("FWD record of %s: %s; server left out", text, a->err);
			}
		}
	}
	/* add_server grows rc->ups only, so fz still points into rc->zones. */
	fz->servers.first = first;
	fz->servers.n = rc->nups - first;
	return TDNS_OK;
}

/* Appends the FWD strings of node n to specs. */
static void
fwd_specs(const struct zone_node *n, struct spec_list *specs)
{
	const struct zone_rrset *r = zone_node_rrset(n, DNS_TYPE_FWD);
	const uint8_t *p = r != NULL ? r->data : NULL;
	for (uint16_t i = 0; r != NULL && i < r->count; i++) {
		const uint8_t *rd;
		uint16_t rdlen;
		p = zone_rdata_next(p, &rd, &rdlen);
		if (rdlen < 1 || (size_t)rd[0] + 1 != rdlen) {
			continue;
		}
		char spec[256];
		memcpy(spec, rd + 1, rd[0]);
		spec[rd[0]] = '\0';
		(void)spec_push(specs, spec);
	}
}

/* The [zone] section of a conditional forwarder zone at apex, or NULL. */
static const struct cfg_zone *
cfg_forwarder(const struct cfg *c, const uint8_t *apex)
{
	for (size_t i = 0; i < c->nzones; i++) {
		const struct cfg_zone *z = &c->zones[i];
		if (z->type != NULL && strcmp(z->type, "forwarder") == 0 &&
		    dns_name_eq(z->apex, apex)) {
			return z;
		}
	}
	return NULL;
}

struct walk_ctx {
	struct add_ctx *a;
	const struct cfg *c;
	const struct zone *z;
	int st;
};

/* One node of a forwarder zone: an entry where it has FWD records (and at the apex always). */
static int
walk_fwd(void *arg, const struct zone_node *n)
{
	struct walk_ctx *w = arg;
	bool apex = n == w->z->apex_node;
	struct spec_list specs = { NULL, 0 };
	const struct cfg_zone *cz = apex ? cfg_forwarder(w->c, w->z->apex) : NULL;
	if (cz != NULL && cz->forwarders != NULL) {
		(void)each_item(cz->forwarders, spec_push, &specs);
	}
	size_t from_key = specs.n;
	fwd_specs(n, &specs);
	if (apex || specs.n > from_key) {
		/* The [zone] forwarders key was checked at load time; FWD records were not. */
		w->st = add_entry(w->a, n->name, w->z->apex, &specs, false);
	}
	spec_clear(&specs);
	return w->st != TDNS_OK;
}

/*
 * The entries of the conditional forwarder zones: one per node with FWD records of every
 * forwarder zone in zs, plus the [zone] forwarders key at the apex; a configured forwarder
 * zone that is not served (no file) has its key alone.
 */
static int
add_forward_zones(struct add_ctx *a, const struct cfg *c, const struct zone_set *zs)
{
	for (size_t i = 0; zs != NULL && i < zone_set_count(zs); i++) {
		const struct zone *z = zone_set_get(zs, i);
		if (!z->forwarder) {
			continue;
		}
		struct walk_ctx w = { .a = a, .c = c, .z = z, .st = TDNS_OK };
		(void)zone_walk(z, walk_fwd, &w);
		if (w.st != TDNS_OK) {
			return w.st;
		}
	}
	for (size_t i = 0; i < c->nzones; i++) {
		const struct cfg_zone *cz = &c->zones[i];
		const struct zone *z = zs != NULL ? zone_set_find(zs, cz->apex) : NULL;
		if (cz->type == NULL || strcmp(cz->type, "forwarder") != 0 ||
		    (z != NULL && z->forwarder)) {
			continue;
		}
		struct spec_list specs = { NULL, 0 };
		(void)each_item(cz->forwarders != NULL ? cz->forwarders : "", spec_push, &specs);
		int st = add_entry(a, cz->apex, cz->apex, &specs, true);
		spec_clear(&specs);
		if (st != TDNS_OK) {
			return st;
		}
	}
	return TDNS_OK;
}

/* Appends "node spec\n" for every FWD record of z to *buf. */
static int
sig_node(void *arg, const struct zone_node *n)
{
	char **buf = arg;
	struct spec_list specs = { NULL, 0 };
	fwd_specs(n, &specs);
	char name[DNS_NAME_TEXT_MAX];
	if (specs.n > 0 && dns_name_to_text(n->name, name, sizeof(name)) < 0) {
		name[0] = '\0';
	}
	for (size_t i = 0; i < specs.n; i++) {
		size_t old = strlen(*buf), add = strlen(name) + strlen(specs.v[i]) + 3;
		*buf = tdns_xrealloc(*buf, old + add);
		snprintf(*buf + old, add, "%s %s\n", name, specs.v[i]);
	}
	spec_clear(&specs);
	return 0;
}

char *
resolver_fwd_signature(const struct zone_set *zs)
{
	char *buf = tdns_xstrdup("");
	for (size_t i = 0; zs != NULL && i < zone_set_count(zs); i++) {
		const struct zone *z = zone_set_get(zs, i);
		if (z->forwarder) {
			size_t old = strlen(buf), add = strlen(z->name) + 3;
			buf = tdns_xrealloc(buf, old + add);
			snprintf(buf + old, add, "[%s]", z->name);
			(void)zone_walk(z, sig_node, &buf);
		}
	}
	return buf;
}

bool
resolver_conf_fwd_changed(const struct resolver_conf *rc, const struct zone_set *zs)
{
	char *sig = resolver_fwd_signature(zs);
	bool changed = rc == NULL || rc->fwd_sig == NULL || strcmp(sig, rc->fwd_sig) != 0;
	free(sig);
	return changed;
}

/* Parses the first address of each family in an outgoing-address list. */
static void
outgoing(const char *list, struct resolver_iter_conf *ic)
{
	char *copy = tdns_xstrdup(list != NULL ? list : "");
	for (char *save = NULL, *tok = strtok_r(copy, ", \t", &save); tok != NULL;
	     tok = strtok_r(NULL, ", \t", &save)) {
		uint8_t ip[16];
		if (ic->out4.family == 0 && inet_pton(AF_INET, tok, ip) == 1) {
			ic->out4.family = AF_INET;
			memcpy(ic->out4.ip, ip, 4);
		} else if (ic->out6.family == 0 && inet_pton(AF_INET6, tok, ip) == 1) {
			ic->out6.family = AF_INET6;
			memcpy(ic->out6.ip, ip, 16);
		}
	}
	free(copy);
}

/* The iterator's settings (issue 5): root hints and [recursion] limits. */
static int
iter_setup(struct resolver_conf *rc, const struct cfg *c, char *err, size_t errlen)
{
	struct resolver_iter_conf *ic = tdns_xcalloc(1, sizeof(*ic));
	char msg[768];
	int st = resolver_hints_load(c->root_hints, &ic->hints, msg, sizeof(msg));
	if (st != TDNS_OK) {
		snprintf(err, errlen, "[recursion] root-hints: %s", msg);
		free(ic);
		return TDNS_ECONFIG;
	}
	ic->qname_min = c->qname_min != 0;
	ic->case_random = c->case_random != 0;
	ic->max_depth = c->max_depth ? c->max_depth : 30;
	ic->max_queries = c->max_queries ? c->max_queries : 100;
	ic->max_time_ms = c->max_time_ms ? c->max_time_ms : 10000;
	outgoing(c->outgoing_address, ic);
	rc->iter = ic;
	return TDNS_OK;
}

int
resolver_conf_new(const struct cfg *c, const struct zone_set *zs, struct cache *cache,
		  struct resolver_conf **out, char *err, size_t errlen)
{
	*out = NULL;
	if (sodium_init() < 0) {
		snprintf(err, errlen, "cannot initialise libsodium");
		return TDNS_ENOMEM;
	}
	struct resolver_conf *rc = tdns_xcalloc(1, sizeof(*rc));
	rc->refs = 1;
	rc->mode = c->recursion_mode;
	rc->forward_mode = c->forward_mode;
	rc->timeout_ms = c->forward_timeout ? c->forward_timeout : 2000;
	rc->prefetch = c->cache_prefetch != 0;
	rc->cache = cache;
	rc->fwd_sig = resolver_fwd_signature(zs);
	char msg[256];
	int st = TDNS_OK;
	if (filter_acl_parse(c->recursion_allow != NULL ? c->recursion_allow : "", &rc->allow,
			     msg, sizeof(msg)) != TDNS_OK) {
		snprintf(err, errlen, "[recursion] allow: %s", msg);
		st = TDNS_ECONFIG;
		goto fail;
	}
	struct add_ctx a = { .rc = rc, .err = err, .errlen = errlen };
	if (c->forwarders != NULL && (st = each_item(c->forwarders, add_server, &a)) != TDNS_OK) {
		goto fail;
	}
	rc->global.first = 0;
	rc->global.n = rc->nups;
	if ((st = add_forward_zones(&a, c, zs)) != TDNS_OK) {
		goto fail;
	}
	bool tls = false;
	for (size_t i = 0; i < rc->nups; i++) {
		/* DoT, and DoH over TLS (RFC 8484 §5.2). */
		tls = tls || rc->ups[i].srv.proto == CLIENT_TLS ||
		      rc->ups[i].srv.proto == CLIENT_HTTPS ||
		      rc->ups[i].srv.proto == CLIENT_HTTPS_JSON;
	}
	if (tls && (st = tls_setup(rc, c, err, errlen)) != TDNS_OK) {
		goto fail;
	}
	if (rc->mode == CFG_RECURSION_RECURSIVE &&
	    (st = iter_setup(rc, c, err, errlen)) != TDNS_OK) {
		goto fail;
	}
	*out = rc;
	return TDNS_OK;
fail:
	resolver_conf_unref(rc);
	return st;
}

struct resolver_conf *
resolver_conf_ref(struct resolver_conf *rc)
{
	if (rc != NULL) {
		__atomic_fetch_add(&rc->refs, 1, __ATOMIC_RELAXED);
	}
	return rc;
}

void
resolver_conf_unref(struct resolver_conf *rc)
{
	if (rc == NULL || __atomic_sub_fetch(&rc->refs, 1, __ATOMIC_ACQ_REL) != 0) {
		return;
	}
	for (size_t i = 0; i < rc->nups; i++) {
		free(rc->ups[i].spec);
	}
	free(rc->ups);
	free(rc->zones);
	free(rc->fwd_sig);
	free(rc->iter);
	filter_acl_clear(&rc->allow);
	if (rc->tls_ctx != NULL) {
		SSL_CTX_free(rc->tls_ctx);
	}
	free(rc);
}

const struct resolver_fwd_zone *
resolver_conf_zone(const struct resolver_conf *rc, const uint8_t *qname)
{
	const struct resolver_fwd_zone *best = NULL;
	int best_labels = -1;
	for (size_t i = 0; rc != NULL && i < rc->nzones; i++) {
		const struct resolver_fwd_zone *z = &rc->zones[i];
		int labels = dns_name_labels(z->apex);
		if (labels > best_labels && dns_name_is_sub(qname, z->apex)) {
			best = z;
			best_labels = labels;
		}
	}
	return best;
}

const struct resolver_servers *
resolver_conf_servers(const struct resolver_conf *rc, const uint8_t *qname)
{
	if (rc == NULL) {
		return NULL;
	}
	const struct resolver_fwd_zone *z = resolver_conf_zone(rc, qname);
	if (z != NULL) {
		return z->servers.n > 0 ? &z->servers : NULL;
	}
	if (rc->mode == CFG_RECURSION_FORWARD && rc->global.n > 0) {
		return &rc->global;
	}
	return NULL;
}

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
	size_t qlen;
	uint8_t query[512];
};

LIST_HEAD(fwd_req_list, fwd_req);
TAILQ_HEAD(up_list, up);

struct resolver_fwd {
	struct event_base *base;
	unsigned wid;
	struct resolver_conf *conf;
	struct up **ups;             /* parallel to conf->ups */
	struct fwd_req_list reqs;
	struct it_state *iter;       /* the iterator's requests and RTT table (issue 5) */
};

struct event_base *
fwd_base(const struct resolver_fwd *f)
{
	return f->base;
}

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
	f->iter = iter_state_new(base);
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
		f->ups[i] = up_new(f, rc, &rc->ups[i]);
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
	if (active_xfers(r) == 0) {
		req_fail(r);
	}
}

static size_t
want_active(const struct fwd_req *r)
{
	return r->conf->forward_mode == CFG_FORWARD_CONCURRENT ? RESOLVER_CONCURRENT : 1;
}

void
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
	uint16_t flags = DNS_FLAG_RD | ((r->key.flags & CACHE_KEY_CD) ? DNS_FLAG_CD : 0);
	dns_build_init(&b, r->query, sizeof(r->query), sizeof(r->query), 0, flags);
	if (dns_build_question(&b, r->key.name, r->key.qtype, r->key.qclass) != TDNS_OK) {
		return false;
	}
	dns_build_edns(&b, RESOLVER_EDNS_SIZE, (r->key.flags & CACHE_KEY_DO) != 0);
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
		if (conf != NULL) {
			(void)cache_inflight_end(conf->cache, &ikey);
		}
		/* Out of memory: the waiter is not called; its client simply gets no answer. */
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
		/* Cannot even fail asynchronously: drop quietly, as for out of memory. */
		LIST_REMOVE(r, link);
		if (r->inflight) {
			(void)cache_inflight_end(conf->cache, &ikey);
		}
		req_free(r);
		return;
	}
	if (conf == NULL || servers == NULL || !build_query(r)) {
		event_active(r->later, 0, 0);
		return;
	}
	pick_servers(r, servers);
	req_advance(r, want_active(r));
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
