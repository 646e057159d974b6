/* SPDX-License-Identifier: MIT */
/* The resolver configuration shared by reference: forwarders, forwarder zones, iterator limits. */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>
#include <sodium.h>

#include "cfg/cfg.h"
#include "core/core.h"
#include "resolver/fwd_int.h"

/* ---- configuration ------------------------------------------------------------------------ */

/* Splits a comma-separated list; calls fn for every trimmed item. */
static int
each_item(const char *list, int (*fn)(void *ctx, const char *item), void *ctx)
{
	char *copy = tdns_xstrdup(list);
	int rc = TDNS_OK;
	bool more = true;
	for (char *rest = copy; rc == TDNS_OK && more;) {
		char *p = cfg_list_next(&rest, &more);
		if (*p != '\0') {
			rc = fn(ctx, p);
		}
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
	const char *ca = c->forward_ca_file != NULL && c->forward_ca_file[0] != '\0'
				 ? c->forward_ca_file : NULL;
	char why[256];
	/* RFC 7858 §3.1 with RFC 8996: TLS 1.2 at least; sessions kept per server. */
	SSL_CTX *ctx = net_out_tls_ctx_new(ca, false, why, sizeof(why));
	if (ctx == NULL) {
		snprintf(err, errlen, "cannot load the CA file '%s' of [forwarders] ca-file",
			 ca != NULL ? ca : "");
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

/* [dnssec] (issue 16): trust anchors and negative trust anchors when validating. */
static int
val_setup(struct resolver_conf *rc, const struct cfg *c, char *err, size_t errlen)
{
	rc->validate = c->dnssec_validation != 0 && rc->mode != CFG_RECURSION_OFF;
	if (!rc->validate) {
		return TDNS_OK;
	}
	rc->anchors = dnssec_anchors_new();
	if (rc->anchors == NULL) {
		return TDNS_ENOMEM;
	}
	const char *file = c->dnssec_anchor_file;
	if (file != NULL && file[0] != '\0') {
		struct dns_zf_error zerr;
		memset(&zerr, 0, sizeof(zerr));
		if (dnssec_anchors_load(rc->anchors, file, &zerr) != TDNS_OK) {
			snprintf(err, errlen, "[dnssec] trust-anchor-file: %s", zerr.msg);
			return TDNS_ECONFIG;
		}
	} else if (dnssec_anchors_add_root(rc->anchors) != TDNS_OK) {
		return TDNS_ENOMEM;
	}
	char msg[256];
	if (resolver_nta_parse(c->dnssec_nta != NULL ? c->dnssec_nta : "", &rc->nta, &rc->nnta,
			       msg, sizeof(msg)) != TDNS_OK) {
		snprintf(err, errlen, "[dnssec] negative-trust-anchors: %s", msg);
		return TDNS_ECONFIG;
	}
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
	rc->max_outstanding = c->max_outstanding ? c->max_outstanding : 1024;
	rc->jostle_ms = c->jostle_timeout;
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
	if ((st = val_setup(rc, c, err, errlen)) != TDNS_OK) {
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
	dnssec_anchors_free(rc->anchors);
	free(rc->nta);
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
