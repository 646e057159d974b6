/* SPDX-License-Identifier: MIT */
/* NOTIFY out (RFC 1996): telling a primary zone's secondaries that its serial changed. */
#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net/outgoing.h"
#include "zone/zone_int.h"

/* BIND's schedule: 5 tries, the wait doubling from 2 s (2, 4, 8, 16, 32 s). */
#define NOTIFY_TRIES 5
#define NOTIFY_FIRST_MS 2000
/* Bound on NOTIFYs in flight: a new one beyond it is dropped with a warning. */
#define NOTIFY_MAX_JOBS 4096

/* One zone's settings, copied from the configuration. */
struct notify_zone {
	uint8_t apex[DNS_NAME_MAX];
	struct client_server *targets; /* the notify addresses */
	size_t ntargets;
	bool ns;                       /* allow-transfer is set: its NS addresses are told too */
	bool sign;
	struct crypto_tsig_key key;    /* the first key of allow-transfer (sign) */
};

/* One NOTIFY to one server, tried until a NOERROR answer or NOTIFY_TRIES. */
struct notify_job {
	struct notify_job *next;
	struct zone_notifier *n;
	uint8_t apex[DNS_NAME_MAX];
	char zone[DNS_NAME_TEXT_MAX];
	char target[CLIENT_ADDR_MAX + 8];
	uint32_t serial;
	struct client_server srv;
	struct net_out_peer *peer;
	struct net_out_query *q;
	struct event *timer;
	unsigned tries;
	bool sign;
	struct crypto_tsig_key key;
	struct crypto_tsig_ctx ctx;
	uint8_t msg[DNS_MSG_MAX];
	size_t len;
};

struct zone_notifier {
	struct event_base *base;
	struct notify_zone *zones;
	size_t nzones;
	struct notify_job *jobs;
	size_t njobs;
};

struct zone_notifier *
zone_notifier_new(struct event_base *base)
{
	struct zone_notifier *n = tdns_xcalloc(1, sizeof(*n));
	n->base = base;
	return n;
}

static void
job_free(struct notify_job *j)
{
	if (j->q != NULL) {
		net_out_cancel(j->q);
	}
	if (j->timer != NULL) {
		event_free(j->timer);
	}
	net_out_peer_free(j->peer);
	crypto_tsig_clear(&j->ctx);
	explicit_bzero(&j->key, sizeof(j->key));
	free(j);
}

/* Unlinks j from its notifier and frees it. */
static void
job_end(struct notify_job *j)
{
	struct zone_notifier *n = j->n;
	for (struct notify_job **p = &n->jobs; *p != NULL; p = &(*p)->next) {
		if (*p == j) {
			*p = j->next;
			n->njobs--;
			break;
		}
	}
	job_free(j);
}

static void
zones_clear(struct zone_notifier *n)
{
	for (size_t i = 0; i < n->nzones; i++) {
		free(n->zones[i].targets);
		explicit_bzero(&n->zones[i].key, sizeof(n->zones[i].key));
	}
	free(n->zones);
	n->zones = NULL;
	n->nzones = 0;
}

void
zone_notifier_free(struct zone_notifier *n)
{
	if (n == NULL) {
		return;
	}
	while (n->jobs != NULL) {
		struct notify_job *j = n->jobs;
		n->jobs = j->next;
		job_free(j);
	}
	zones_clear(n);
	free(n);
}

int
zone_notifier_configure(struct zone_notifier *n, const struct cfg *c,
			const struct zone_xfr_conf *xc, char *err, size_t errlen)
{
	struct notify_zone *zones = tdns_xcalloc(c->nzones + 1, sizeof(*zones));
	size_t nz = 0;
	for (size_t i = 0; i < c->nzones; i++) {
		const struct cfg_zone *cz = &c->zones[i];
		if (strcmp(cz->type, "primary") != 0) {
			continue; /* only a primary zone's changes start here */
		}
		struct notify_zone *z = &zones[nz];
		memcpy(z->apex, cz->apex, sizeof(z->apex));
		char why[256];
		if (cz->notify != NULL && zone_notify_parse(cz->notify, &z->targets, &z->ntargets,
							    why, sizeof(why)) != TDNS_OK) {
			snprintf(err, errlen, "zone %s: notify: %s", cz->name, why);
			for (size_t k = 0; k < nz; k++) {
				free(zones[k].targets);
			}
			free(zones);
			return TDNS_ECONFIG;
		}
		z->ns = cz->allow_transfer != NULL && cz->allow_transfer[0] != '\0';
		const struct crypto_tsig_key *key = zone_xfr_notify_key(xc, cz->apex);
		if (key != NULL) {
			z->sign = true;
			z->key = *key;
		}
		if (z->ntargets > 0 || z->ns) {
			nz++;
		}
	}
	zones_clear(n);
	n->zones = zones;
	n->nzones = nz;
	return TDNS_OK;
}

static const struct notify_zone *
zone_conf(const struct zone_notifier *n, const uint8_t *apex)
{
	for (size_t i = 0; i < n->nzones; i++) {
		if (dns_name_eq(n->zones[i].apex, apex)) {
			return &n->zones[i];
		}
	}
	return NULL;
}

static void job_send(struct notify_job *j);

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	job_send(arg);
}

/* After a failed try: the next one after delay_ms, or the end of the job. */
static void
job_retry(struct notify_job *j, unsigned delay_ms, const char *why)
{
	if (j->tries >= NOTIFY_TRIES) {
		tdns_warn("zone %s: NOTIFY of serial %u to %s failed after %u tries: %s", j->zone,
			  j->serial, j->target, j->tries, why);
		job_end(j);
		return;
	}
	tdns_info("zone %s: NOTIFY of serial %u to %s: %s; trying again", j->zone, j->serial,
		  j->target, why);
	struct timeval tv = { .tv_sec = delay_ms / 1000, .tv_usec = (delay_ms % 1000) * 1000 };
	evtimer_add(j->timer, &tv);
}

static unsigned
try_ms(const struct notify_job *j)
{
	return NOTIFY_FIRST_MS << (j->tries > 0 ? j->tries - 1 : 0);
}

static void
answer_cb(void *arg, const struct net_out_result *r)
{
	struct notify_job *j = arg;
	j->q = NULL;
	char why[256];
	if (r->status != CLIENT_OK) {
		snprintf(why, sizeof(why), "%s", r->err[0] != '\0' ? r->err : "no answer");
		/* A timeout has waited its time already; an error waits before the next try. */
		job_retry(j, r->status == CLIENT_ETIMEOUT ? 0 : try_ms(j), why);
		return;
	}
	int rcode = r->len >= DNS_HDR_LEN ? (r->pkt[3] & 0xf) : DNS_RCODE_SERVFAIL;
	if (j->sign) {
		uint16_t terr = 0;
		bool sig = false;
		int vrc = crypto_tsig_verify_reply(&j->ctx, r->pkt, r->len, false,
						   (uint64_t)time(NULL), &terr, &sig);
		if (vrc != TDNS_OK || terr != 0 || !sig) {
			/* RFC 8945 §5.3.2: an answer we cannot trust is no answer. */
			char rc[16];
			snprintf(why, sizeof(why), "answer not signed with the key (rcode %s, TSIG "
				 "error %u)", dns_rcode_to_text(rcode, rc), terr);
			job_retry(j, try_ms(j), why);
			return;
		}
	}
	if (rcode != DNS_RCODE_NOERROR || DNS_OPCODE(tdns_get16(r->pkt + 2)) !=
	    DNS_OPCODE_NOTIFY) {
		char rc[16];
		snprintf(why, sizeof(why), "answered %s", dns_rcode_to_text(rcode, rc));
		job_retry(j, try_ms(j), why);
		return;
	}
	tdns_info("zone %s: NOTIFY of serial %u to %s acknowledged", j->zone, j->serial,
		  j->target);
	job_end(j);
}

/* One try: the message signed afresh (a new time, a new MAC), sent over UDP. */
static void
job_send(struct notify_job *j)
{
	uint8_t buf[DNS_MSG_MAX];
	memcpy(buf, j->msg, j->len);
	size_t len = j->len;
	if (j->sign) {
		crypto_tsig_clear(&j->ctx);
		crypto_tsig_init(&j->ctx, &j->key);
		len = crypto_tsig_sign(&j->ctx, buf, len, sizeof(buf), (uint64_t)time(NULL), 0);
		if (len == 0) {
			tdns_err("zone %s: NOTIFY to %s: signing failed", j->zone, j->target);
			job_end(j);
			return;
		}
	}
	j->tries++;
	j->q = net_out_send(j->peer, buf, len, 0, try_ms(j), answer_cb, j);
	if (j->q == NULL) {
		job_retry(j, try_ms(j), net_out_peer_error(j->peer, NULL));
	}
}

/* The NOTIFY message (RFC 1996 §3.7): opcode NOTIFY, AA, the SOA question and the SOA. */
static size_t
notify_message(const struct zone *z, uint8_t *out, size_t cap)
{
	const struct zone_rrset *soa = zone_node_rrset(z->apex_node, DNS_TYPE_SOA);
	if (soa == NULL || soa->count == 0) {
		return 0;
	}
	struct dns_build b;
	dns_build_init(&b, out, cap, cap, 0, (uint16_t)(DNS_OPCODE_NOTIFY << 11) | DNS_FLAG_AA);
	const uint8_t *rd;
	uint16_t rdlen;
	zone_rdata_next(soa->data, &rd, &rdlen);
	if (dns_build_question(&b, z->apex_node->name, DNS_TYPE_SOA, DNS_CLASS_IN) != TDNS_OK ||
	    dns_build_rr(&b, DNS_SECTION_ANSWER, z->apex_node->name, DNS_TYPE_SOA, DNS_CLASS_IN,
			 soa->ttl, rd, rdlen) != TDNS_OK) {
		return 0;
	}
	return dns_build_finish(&b);
}

/* The zone's name as the loader's logs write it: "example.com", without the final dot. */
static const char *
zone_notify_label(const struct zone *z, char *buf, size_t len)
{
	if (dns_name_to_text(z->apex, buf, len) < 0) {
		snprintf(buf, len, "?");
	}
	size_t n = strlen(buf);
	if (n > 1 && buf[n - 1] == '.') {
		buf[n - 1] = '\0';
	}
	return buf;
}

/* Starts (or restarts, for a newer serial) the NOTIFY of z to srv. */
static void
job_start(struct zone_notifier *n, const struct zone *z, const struct notify_zone *nz,
	  const struct client_server *srv, const uint8_t *msg, size_t len)
{
	for (struct notify_job *j = n->jobs; j != NULL; j = j->next) {
		if (dns_name_eq(j->apex, z->apex) && j->srv.sslen == srv->sslen &&
		    memcmp(&j->srv.ss, &srv->ss, srv->sslen) == 0) {
			job_end(j); /* the new serial supersedes the one being told */
			break;
		}
	}
	if (n->njobs >= NOTIFY_MAX_JOBS) {
		char zone[DNS_NAME_TEXT_MAX];
		tdns_warn("zone %s: NOTIFY to %s dropped: %u NOTIFYs already in flight",
			  zone_notify_label(z, zone, sizeof(zone)), srv->addr, NOTIFY_MAX_JOBS);
		return;
	}
	struct notify_job *j = tdns_xcalloc(1, sizeof(*j));
	j->n = n;
	memcpy(j->apex, z->apex, sizeof(j->apex));
	zone_notify_label(z, j->zone, sizeof(j->zone));
	j->serial = z->serial;
	j->srv = *srv;
	if (srv->ss.ss_family == AF_INET6) {
		snprintf(j->target, sizeof(j->target), "[%s]:%u", srv->addr, srv->port);
	} else {
		snprintf(j->target, sizeof(j->target), "%s:%u", srv->addr, srv->port);
	}
	memcpy(j->msg, msg, len);
	j->len = len;
	if (nz->sign) {
		j->sign = true;
		j->key = nz->key;
	}
	crypto_tsig_init(&j->ctx, NULL);
	struct net_out_opts o = { .udp_tries = 1 };
	j->peer = net_out_peer_new(n->base, &j->srv, &o);
	j->timer = evtimer_new(n->base, timer_cb, j);
	if (j->peer == NULL || j->timer == NULL) {
		tdns_err("zone %s: NOTIFY to %s: out of memory", j->zone, j->target);
		job_free(j);
		return;
	}
	j->next = n->jobs;
	n->jobs = j;
	n->njobs++;
	job_send(j);
}

/*
 * The addresses of the NS names of z that z itself holds (in-zone glue), on port 53; the
 * SOA MNAME is left out (RFC 1996 §3.6: the primary does not notify itself).
 */
static size_t
ns_targets(const struct zone *z, struct client_server **out)
{
	const struct zone_rrset *ns = zone_node_rrset(z->apex_node, DNS_TYPE_NS);
	const struct zone_rrset *soa = zone_node_rrset(z->apex_node, DNS_TYPE_SOA);
	const uint8_t *mname = NULL;
	if (soa != NULL && soa->count > 0) {
		const uint8_t *rd;
		uint16_t rdlen;
		zone_rdata_next(soa->data, &rd, &rdlen);
		mname = rd;
	}
	size_t n = 0;
	*out = NULL;
	const uint8_t *p = ns != NULL ? ns->data : NULL;
	for (uint16_t i = 0; ns != NULL && i < ns->count; i++) {
		const uint8_t *rd;
		uint16_t rdlen;
		p = zone_rdata_next(p, &rd, &rdlen);
		if (mname != NULL && dns_name_eq(rd, mname)) {
			continue;
		}
		const struct zone_node *host = zone_find(z, rd);
		static const uint16_t types[] = { DNS_TYPE_A, DNS_TYPE_AAAA };
		for (size_t t = 0; host != NULL && t < 2; t++) {
			const struct zone_rrset *a = zone_node_rrset(host, types[t]);
			const uint8_t *q = a != NULL ? a->data : NULL;
			for (uint16_t k = 0; a != NULL && k < a->count; k++) {
				const uint8_t *ip;
				uint16_t iplen;
				q = zone_rdata_next(q, &ip, &iplen);
				if (iplen != (t == 0 ? 4 : 16)) {
					continue;
				}
				*out = tdns_xrealloc(*out, (n + 1) * sizeof(**out));
				client_server_from_addr(&(*out)[n++], CLIENT_UDP,
							t == 0 ? AF_INET : AF_INET6, ip, 53);
			}
		}
	}
	return n;
}

size_t
zone_notify_send(struct zone_notifier *n, const struct zone *z)
{
	const struct notify_zone *nz = n != NULL ? zone_conf(n, z->apex) : NULL;
	if (nz == NULL || z->forwarder) {
		return 0;
	}
	uint8_t msg[DNS_MSG_MAX];
	size_t len = notify_message(z, msg, sizeof(msg) - crypto_tsig_size(&nz->key, 0));
	if (len == 0) {
		return 0;
	}
	struct client_server *ns = NULL;
	size_t nns = nz->ns ? ns_targets(z, &ns) : 0;
	size_t sent = 0;
	for (size_t i = 0; i < nz->ntargets + nns; i++) {
		const struct client_server *srv = i < nz->ntargets ? &nz->targets[i] :
						  &ns[i - nz->ntargets];
		bool dup = false;
		for (size_t k = 0; k < i && !dup; k++) {
			const struct client_server *o = k < nz->ntargets ? &nz->targets[k] :
							&ns[k - nz->ntargets];
			dup = o->sslen == srv->sslen && memcmp(&o->ss, &srv->ss, srv->sslen) == 0;
		}
		if (!dup) {
			job_start(n, z, nz, srv, msg, len);
			sent++;
		}
	}
	free(ns);
	if (sent > 0) {
		char zone[DNS_NAME_TEXT_MAX];
		tdns_info("zone %s: NOTIFY of serial %u to %zu server%s%s",
			  zone_notify_label(z, zone, sizeof(zone)), z->serial,
			  sent, sent == 1 ? "" : "s", nz->sign ? " (signed)" : "");
	}
	return sent;
}

void
zone_notify_changes(struct zone_notifier *n, const struct zone_set *old,
		    const struct zone_set *set)
{
	for (size_t i = 0; n != NULL && set != NULL && i < zone_set_count(set); i++) {
		const struct zone *z = zone_set_get(set, i);
		const struct zone *o = old != NULL ? zone_set_find(old, z->apex) : NULL;
		/* RFC 1996 §3.7 is about a new serial: a zone shared unchanged says nothing. */
		if (o == NULL || o->serial != z->serial) {
			(void)zone_notify_send(n, z);
		}
	}
}
