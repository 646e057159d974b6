/* SPDX-License-Identifier: MIT */
/* Stub zones: the NS set and glue of a zone, fetched from its primaries on the SOA timers. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "cfg/cfg.h"
#include "core/core.h"
#include "net/outgoing.h"
#include "resolver/iter_int.h"

#define STUB_MAX_PRIMARIES 8
/* Per exchange with a primary. */
#define STUB_TIMEOUT_MS 1500
/* Retry interval while no SOA was ever seen (its retry field is unknown). */
#define STUB_FIRST_RETRY 10

/* One question of a fetch: the SOA, the NS set, then A and AAAA of each in-zone NS name. */
struct stub_step {
	uint8_t name[DNS_NAME_MAX];
	uint16_t type;
};

struct stub_zone {
	struct resolver_stubs *s;
	char *name;                             /* text, for logs */
	uint8_t apex[DNS_NAME_MAX];
	char *primaries;                        /* as configured, to notice changes */
	struct resolver_addr prim[STUB_MAX_PRIMARIES];
	size_t nprim;
	/* Published data, under s->mutex. */
	struct iter_stub_ns ns[ITER_MAX_NS];
	size_t nns;
	bool valid;                             /* ever fetched */
	int64_t last_ok;                        /* cache_now() of the last successful fetch */
	uint32_t refresh, retry, expire;        /* SOA timers (RFC 1035 §3.3.13) */
	/* The fetch running on the main thread. */
	struct event *timer;                    /* next fetch */
	struct net_out_query *xq;               /* the exchange with a primary, or NULL */
	size_t cur_prim;
	struct stub_step steps[2 + 2 * ITER_MAX_NS];
	size_t nsteps, cur_step;
	struct iter_stub_ns fns[ITER_MAX_NS];   /* what the fetch learnt */
	size_t fnns;
	uint32_t frefresh, fretry, fexpire;
	bool fetching;
};

struct resolver_stubs {
	struct event_base *base;
	pthread_mutex_t mutex;                  /* guards the zones array and published data */
	struct stub_zone **zones;
	size_t nzones;
};

static void fetch_start(struct stub_zone *z);
static void step_send(struct stub_zone *z);

static void
exchange_end(struct stub_zone *z)
{
	if (z->xq != NULL) {
		net_out_cancel(z->xq);
		z->xq = NULL;
	}
}

/* ---- timers ------------------------------------------------------------------------------- */

static void
refresh_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	fetch_start(arg);
}

/* Arms t to fire in ms milliseconds. */
static void
arm(struct event *t, uint64_t ms)
{
	const struct timeval tv = { .tv_sec = (time_t)(ms / 1000),
				    .tv_usec = (suseconds_t)(ms % 1000) * 1000 };
	evtimer_del(t);
	evtimer_add(t, &tv);
}

/* ---- a fetch ------------------------------------------------------------------------------ */

/* Every primary failed: keep the old data (until it expires) and retry later. */
static void
fetch_failed(struct stub_zone *z, const char *why)
{
	exchange_end(z);
	z->fetching = false;
	uint32_t retry = z->valid ? z->retry : STUB_FIRST_RETRY;
	int64_t now = cache_now();
	if (z->valid && now - z->last_ok > (int64_t)z->expire) {
		tdns_warn("stub zone %s: %s; expired %lld s ago, names in it are resolved from the "
			  "root; retry in %u s", z->name, why,
			  (long long)(now - z->last_ok - z->expire), retry);
	} else {
		tdns_warn("stub zone %s: %s; retry in %u s", z->name, why, retry);
	}
	arm(z->timer, (uint64_t)retry * 1000);
}

/* The fetch got every answer: publish the NS set and wait for the SOA refresh. */
static void
fetch_done(struct stub_zone *z)
{
	exchange_end(z);
	z->fetching = false;
	size_t naddr = 0;
	for (size_t i = 0; i < z->fnns; i++) {
		naddr += z->fns[i].naddr;
	}
	pthread_mutex_lock(&z->s->mutex);
	memcpy(z->ns, z->fns, sizeof(z->ns));
	z->nns = z->fnns;
	z->refresh = z->frefresh;
	z->retry = z->fretry;
	z->expire = z->fexpire;
	z->last_ok = cache_now();
	z->valid = true;
	pthread_mutex_unlock(&z->s->mutex);
	char prim[INET6_ADDRSTRLEN];
	const struct resolver_addr *p = &z->prim[z->cur_prim];
	inet_ntop(p->family, p->ip, prim, sizeof(prim));
	tdns_info("stub zone %s: %zu name server%s (%zu address%s) from %s; refresh in %u s",
		  z->name, z->fnns, z->fnns == 1 ? "" : "s", naddr, naddr == 1 ? "" : "es", prim,
		  z->refresh);
	arm(z->timer, (uint64_t)z->refresh * 1000);
}

/* The current primary failed: try the next one from the first step. */
static void
next_primary(struct stub_zone *z)
{
	exchange_end(z);
	z->cur_prim++;
	if (z->cur_prim >= z->nprim) {
		fetch_failed(z, "no primary answered");
		return;
	}
	z->cur_step = 0;
	z->nsteps = 2;
	z->fnns = 0;
	step_send(z);
}

static bool
soa_timers(const struct dns_msg *m, const struct dns_rr *rr, struct stub_zone *z)
{
	uint8_t rd[DNS_MSG_MAX];
	size_t rdlen;
	if (dns_rdata_unpack(rr->type, m->pkt, m->len, rr->rdata_off, rr->rdlen, rd, sizeof(rd),
			     &rdlen) != TDNS_OK) {
		return false;
	}
	/* RFC 1035 §3.3.13: MNAME, RNAME, SERIAL, REFRESH, RETRY, EXPIRE, MINIMUM. */
	size_t pos = dns_name_len(rd);
	pos += dns_name_len(rd + pos);
	if (pos + 20 > rdlen) {
		return false;
	}
	z->frefresh = tdns_get32(rd + pos + 4);
	z->fretry = tdns_get32(rd + pos + 8);
	z->fexpire = tdns_get32(rd + pos + 12);
	/* Never spin: at least one second between fetches. */
	z->frefresh = z->frefresh < 1 ? 1 : z->frefresh;
	z->fretry = z->fretry < 1 ? 1 : z->fretry;
	return true;
}

/* Takes the answer to the current step; false when it is no usable answer. */
static bool
step_take(struct stub_zone *z, const struct dns_msg *m)
{
	const struct stub_step *st = &z->steps[z->cur_step];
	if (m->rcode != DNS_RCODE_NOERROR || (m->flags & DNS_FLAG_TC) != 0) {
		return false;
	}
	if (st->type == DNS_TYPE_SOA || st->type == DNS_TYPE_NS) {
		/* The zone's own data must come from an authority for it. */
		if ((m->flags & DNS_FLAG_AA) == 0) {
			return false;
		}
	}
	bool found = false;
	for (size_t i = 0; i < m->nrr; i++) {
		const struct dns_rr *rr = &m->rrs[i];
		if (rr->section != DNS_SECTION_ANSWER || rr->rclass != DNS_CLASS_IN ||
		    rr->type != st->type || !dns_name_eq(rr->owner, st->name)) {
			continue;
		}
		if (st->type == DNS_TYPE_SOA) {
			found = soa_timers(m, rr, z);
			break;
		}
		if (st->type == DNS_TYPE_NS) {
			if (z->fnns >= ITER_MAX_NS) {
				continue;
			}
			struct iter_stub_ns *ns = &z->fns[z->fnns];
			size_t pos = rr->rdata_off;
			if (dns_name_unpack(m->pkt, m->len, &pos, ns->name) < 0) {
				continue;
			}
			ns->naddr = 0;
			z->fnns++;
			found = true;
			/* RFC 1034 §4.2.1: addresses of names inside the zone are glue we keep. */
			if (dns_name_is_sub(ns->name, z->apex) &&
			    z->nsteps + 2 <= sizeof(z->steps) / sizeof(z->steps[0])) {
				static const uint16_t types[] = { DNS_TYPE_A, DNS_TYPE_AAAA };
				for (size_t k = 0; k < 2; k++) {
					struct stub_step *n = &z->steps[z->nsteps++];
					memcpy(n->name, ns->name, dns_name_len(ns->name));
					n->type = types[k];
				}
			}
			continue;
		}
		size_t alen = st->type == DNS_TYPE_A ? 4 : 16;
		if (rr->rdlen != alen) {
			continue;
		}
		for (size_t k = 0; k < z->fnns; k++) {
			struct iter_stub_ns *ns = &z->fns[k];
			if (dns_name_eq(ns->name, st->name) && ns->naddr < ITER_MAX_ADDR) {
				struct resolver_addr *a = &ns->addr[ns->naddr++];
				memset(a, 0, sizeof(*a));
				a->family = (uint8_t)(alen == 4 ? AF_INET : AF_INET6);
				memcpy(a->ip, m->pkt + rr->rdata_off, alen);
			}
		}
	}
	/* NODATA for an address type is fine (a name server with IPv4 only). */
	return found || st->type == DNS_TYPE_A || st->type == DNS_TYPE_AAAA;
}

/* The answer of the current primary, checked by the transport (RFC 5452 §9.1), or a failure. */
static void
answer_cb(void *arg, const struct net_out_result *r)
{
	struct stub_zone *z = arg;
	z->xq = NULL;
	struct dns_msg m;
	if (r->status != CLIENT_OK || dns_msg_parse(r->pkt, r->len, &m) != TDNS_OK) {
		next_primary(z);
		return;
	}
	bool ok = step_take(z, &m);
	dns_msg_clear(&m);
	if (!ok) {
		next_primary(z);
		return;
	}
	exchange_end(z);
	z->cur_step++;
	if (z->cur_step >= z->nsteps) {
		if (z->fnns == 0) {
			fetch_failed(z, "no NS records");
			return;
		}
		fetch_done(z);
		return;
	}
	step_send(z);
}

/* Sends the current step's question to the current primary. */
static void
step_send(struct stub_zone *z)
{
	const struct stub_step *st = &z->steps[z->cur_step];
	const struct resolver_addr *a = &z->prim[z->cur_prim];
	uint8_t q[DNS_NAME_MAX + 64];
	struct dns_build b;
	/* The transport gives the query a random ID and port (RFC 5452 §9.2). */
	dns_build_init(&b, q, sizeof(q), sizeof(q), 0, 0);
	(void)dns_build_question(&b, st->name, st->type, DNS_CLASS_IN);
	dns_build_edns(&b, RESOLVER_EDNS_SIZE, false);
	size_t qlen = dns_build_finish(&b);
	struct client_server srv;
	client_server_from_addr(&srv, CLIENT_UDP, a->family, a->ip, ITER_PORT);
	const struct net_out_opts o = { .udp_tries = 1 };
	/* One peer per exchange: the query holds it until its answer or timeout. */
	struct net_out_peer *peer = net_out_peer_new(z->s->base, &srv, &o);
	z->xq = peer != NULL ? net_out_send(peer, q, qlen, 0, STUB_TIMEOUT_MS, answer_cb, z) : NULL;
	net_out_peer_free(peer);
	if (z->xq == NULL) {
		next_primary(z);
	}
}

static void
fetch_start(struct stub_zone *z)
{
	exchange_end(z);
	z->fetching = true;
	memcpy(z->steps[0].name, z->apex, dns_name_len(z->apex));
	z->steps[0].type = DNS_TYPE_SOA;
	memcpy(z->steps[1].name, z->apex, dns_name_len(z->apex));
	z->steps[1].type = DNS_TYPE_NS;
	z->nsteps = 2;
	z->cur_step = 0;
	z->cur_prim = 0;
	z->fnns = 0;
	if (z->nprim == 0) {
		fetch_failed(z, "no usable primary");
		return;
	}
	step_send(z);
}

/* ---- the table ---------------------------------------------------------------------------- */

static void
zone_free_stub(struct stub_zone *z)
{
	exchange_end(z);
	if (z->timer != NULL) {
		event_free(z->timer);
	}
	free(z->name);
	free(z->primaries);
	free(z);
}

static void
parse_primaries(struct stub_zone *z, const char *list)
{
	char *copy = tdns_xstrdup(list);
	z->nprim = 0;
	for (char *save = NULL, *tok = strtok_r(copy, ", \t", &save);
	     tok != NULL && z->nprim < STUB_MAX_PRIMARIES; tok = strtok_r(NULL, ", \t", &save)) {
		struct resolver_addr *a = &z->prim[z->nprim];
		memset(a, 0, sizeof(*a));
		if (inet_pton(AF_INET, tok, a->ip) == 1) {
			a->family = AF_INET;
			z->nprim++;
		} else if (inet_pton(AF_INET6, tok, a->ip) == 1) {
			a->family = AF_INET6;
			z->nprim++;
		}
	}
	free(copy);
}

struct resolver_stubs *
resolver_stubs_new(void)
{
	struct resolver_stubs *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		return NULL;
	}
	pthread_mutex_init(&s->mutex, NULL);
	return s;
}

void
resolver_stubs_free(struct resolver_stubs *s)
{
	if (s == NULL) {
		return;
	}
	for (size_t i = 0; i < s->nzones; i++) {
		zone_free_stub(s->zones[i]);
	}
	free(s->zones);
	pthread_mutex_destroy(&s->mutex);
	free(s);
}

void
resolver_stubs_configure(struct resolver_stubs *s, const struct cfg *c, struct event_base *base)
{
	s->base = base;
	size_t n = 0;
	for (size_t i = 0; i < c->nzones; i++) {
		n += strcmp(c->zones[i].type, "stub") == 0;
	}
	struct stub_zone **nz = tdns_xcalloc(n ? n : 1, sizeof(*nz));
	struct stub_zone **start = tdns_xcalloc(n ? n : 1, sizeof(*start));
	size_t nstart = 0;
	size_t k = 0;
	pthread_mutex_lock(&s->mutex);
	for (size_t i = 0; i < c->nzones; i++) {
		const struct cfg_zone *cz = &c->zones[i];
		if (strcmp(cz->type, "stub") != 0) {
			continue;
		}
		struct stub_zone *z = NULL;
		for (size_t j = 0; j < s->nzones; j++) {
			if (s->zones[j] != NULL && dns_name_eq(s->zones[j]->apex, cz->apex)) {
				z = s->zones[j];
				s->zones[j] = NULL;
				break;
			}
		}
		bool fetch = false;
		if (z == NULL) {
			z = tdns_xcalloc(1, sizeof(*z));
			z->s = s;
			z->name = tdns_xstrdup(cz->name);
			memcpy(z->apex, cz->apex, dns_name_len(cz->apex));
			z->timer = evtimer_new(s->base, refresh_cb, z);
			fetch = true;
		}
		if (z->primaries == NULL || strcmp(z->primaries, cz->primaries) != 0) {
			free(z->primaries);
			z->primaries = tdns_xstrdup(cz->primaries);
			parse_primaries(z, cz->primaries);
			fetch = true;
		}
		nz[k++] = z;
		if (fetch) {
			start[nstart++] = z;
		}
	}
	struct stub_zone **old = s->zones;
	size_t nold = s->nzones;
	s->zones = nz;
	s->nzones = k;
	pthread_mutex_unlock(&s->mutex);
	for (size_t j = 0; j < nold; j++) {
		if (old[j] != NULL) {
			zone_free_stub(old[j]);
		}
	}
	free(old);
	for (size_t j = 0; j < nstart; j++) {
		if (start[j]->timer != NULL) {
			fetch_start(start[j]);
		}
	}
	free(start);
}

size_t
iter_stub_lookup(struct resolver_stubs *s, const uint8_t *qname, int64_t now, uint8_t *apex,
		 struct iter_stub_ns *ns)
{
	if (s == NULL) {
		return 0;
	}
	size_t n = 0;
	int best = -1;
	pthread_mutex_lock(&s->mutex);
	for (size_t i = 0; i < s->nzones; i++) {
		const struct stub_zone *z = s->zones[i];
		if (!z->valid || z->nns == 0 || now - z->last_ok > (int64_t)z->expire ||
		    !dns_name_is_sub(qname, z->apex) || dns_name_labels(z->apex) <= best) {
			continue;
		}
		best = dns_name_labels(z->apex);
		memcpy(apex, z->apex, dns_name_len(z->apex));
		memcpy(ns, z->ns, sizeof(z->ns));
		n = z->nns;
	}
	pthread_mutex_unlock(&s->mutex);
	return n;
}
