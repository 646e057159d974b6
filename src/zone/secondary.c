/* SPDX-License-Identifier: MIT */
/* Secondary zones: SOA refresh timers, incoming AXFR and IXFR with TSIG, NOTIFY in, expiry. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/core.h"
#include "net/outgoing.h"
#include "zone/zone_int.h"

/* Per SOA query try (UDP, two tries) and per message of a transfer (TCP). */
#define SEC_SOA_TIMEOUT_MS 2000
#define SEC_XFR_TIMEOUT_MS 15000
/* Retry while the zone has never been transferred (its SOA retry is unknown), seconds. */
#define SEC_FIRST_RETRY 10
/* A transfer larger than this is abandoned (bounds memory against a hostile primary). */
#define SEC_MAX_RECORDS 20000000u
/* Refresh timers are clamped to these (BIND's min/max-refresh-time defaults, seconds). */
#define SEC_MIN_REFRESH 1
#define SEC_MAX_REFRESH 2419200u

enum sec_phase { SEC_IDLE, SEC_SOA, SEC_XFR };

/* What an incoming IXFR turned out to be (RFC 1995 §4). */
enum sec_mode { MODE_FIRST, MODE_SECOND, MODE_AXFR, MODE_DEL, MODE_ADD, MODE_DONE };

struct sec_zone {
	struct zone_secondaries *s;
	char *name;                      /* text, for logs */
	uint8_t apex[DNS_NAME_MAX];
	char *file;                      /* where the transferred copy is kept */
	char primaries[512];             /* as configured (under s->mutex) */
	struct zone_sec_primary prim[ZONE_SEC_MAX_PRIMARIES]; /* under s->mutex */
	struct crypto_tsig_key keys[ZONE_SEC_MAX_PRIMARIES];  /* the key of each primary */
	size_t nprim;
	bool notified;                   /* a NOTIFY came: refresh (under s->mutex) */
	bool seen;                       /* still configured (zone_sec_configure) */
	/* The data and its timers (main thread). */
	struct zone *cur;                /* the transferred version, or NULL */
	time_t last_refresh;             /* wall clock of the last success, 0: never */
	time_t expires;                  /* wall clock, 0 without data */
	time_t next_refresh;
	uint32_t refresh, retry, expire; /* of cur's SOA */
	char last_error[320];
	struct event *timer;             /* next refresh */
	struct event *exp_timer;         /* expiry of cur */
	/* The refresh running (main thread). */
	enum sec_phase phase;
	bool again;                      /* a NOTIFY came during the refresh: check once more */
	bool force_axfr;
	size_t cur_prim;
	struct net_out_peer *peer;
	struct net_out_query *xq;
	struct crypto_tsig_ctx tsig;
	bool signed_q;
	uint16_t qtype;
	/* The transfer being received. */
	enum sec_mode mode;
	struct zone *building;
	uint32_t new_serial, diff_serial;
	size_t nrr, nmsg;
	bool last_signed;
	bool incremental;                /* the IXFR answer is a difference sequence */
	int64_t t0_us;
};

struct zone_secondaries {
	struct event_base *base;
	pthread_mutex_t mutex;           /* the zones array and the fields marked above */
	struct sec_zone **zones;
	size_t nzones;
	struct event *notify_ev;         /* NOTIFYs from the workers, handled on base */
	zone_sec_publish_cb publish;
	void *arg;
};

static void refresh_start(struct sec_zone *z);

/* RFC 1982 serial arithmetic: a is later than b. */
static bool
serial_gt(uint32_t a, uint32_t b)
{
	return a != b && (uint32_t)(a - b) < 0x80000000u;
}

static void
arm(struct event *t, time_t secs)
{
	const struct timeval tv = { .tv_sec = secs < 0 ? 0 : secs };
	evtimer_del(t);
	evtimer_add(t, &tv);
}

/* ---- the table ---------------------------------------------------------------------------- */

static void
exchange_end(struct sec_zone *z)
{
	if (z->xq != NULL) {
		net_out_cancel(z->xq);
		z->xq = NULL;
	}
	net_out_peer_free(z->peer);
	z->peer = NULL;
	crypto_tsig_clear(&z->tsig);
	zone_free(z->building);
	z->building = NULL;
}

static void
sec_zone_free(struct sec_zone *z)
{
	if (z == NULL) {
		return;
	}
	exchange_end(z);
	if (z->timer != NULL) {
		event_free(z->timer);
	}
	if (z->exp_timer != NULL) {
		event_free(z->exp_timer);
	}
	zone_free(z->cur);
	explicit_bzero(z->keys, sizeof(z->keys));
	free(z->name);
	free(z->file);
	free(z);
}

static void
notify_cb(evutil_socket_t fd, short what, void *arg)
{
	struct zone_secondaries *s = arg;
	(void)fd;
	(void)what;
	/* Collected under the lock, started after it: a refresh may publish. */
	struct sec_zone *todo[64];
	size_t n = 0;
	bool rest = false;
	pthread_mutex_lock(&s->mutex);
	for (size_t i = 0; i < s->nzones; i++) {
		if (s->zones[i]->notified) {
			if (n < sizeof(todo) / sizeof(todo[0])) {
				s->zones[i]->notified = false;
				todo[n++] = s->zones[i];
			} else {
				rest = true;
			}
		}
	}
	pthread_mutex_unlock(&s->mutex);
	for (size_t i = 0; i < n; i++) {
		if (todo[i]->phase != SEC_IDLE) {
			todo[i]->again = true;
		} else {
			refresh_start(todo[i]);
		}
	}
	if (rest) {
		event_active(s->notify_ev, 0, 0);
	}
}

struct zone_secondaries *
zone_sec_new(struct event_base *base, zone_sec_publish_cb publish, void *arg)
{
	struct zone_secondaries *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		return NULL;
	}
	s->base = base;
	s->publish = publish;
	s->arg = arg;
	pthread_mutex_init(&s->mutex, NULL);
	s->notify_ev = event_new(base, -1, 0, notify_cb, s);
	if (s->notify_ev == NULL) {
		pthread_mutex_destroy(&s->mutex);
		free(s);
		return NULL;
	}
	return s;
}

void
zone_sec_free(struct zone_secondaries *s)
{
	if (s == NULL) {
		return;
	}
	for (size_t i = 0; i < s->nzones; i++) {
		sec_zone_free(s->zones[i]);
	}
	free(s->zones);
	event_free(s->notify_ev);
	pthread_mutex_destroy(&s->mutex);
	free(s);
}

static struct sec_zone *
find(const struct zone_secondaries *s, const uint8_t *apex)
{
	for (size_t i = 0; i < s->nzones; i++) {
		if (dns_name_eq(s->zones[i]->apex, apex)) {
			return s->zones[i];
		}
	}
	return NULL;
}

/* ---- persistence -------------------------------------------------------------------------- */

/* FILE.refreshed: the wall-clock time of the last successful refresh, so expiry survives. */
static void
state_path(const struct sec_zone *z, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s.refreshed", z->file);
}

static int
state_write(struct sec_zone *z)
{
	char path[4096], tmp[4200], text[32];
	state_path(z, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int n = snprintf(text, sizeof(text), "%lld\n", (long long)z->last_refresh);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0) {
		return TDNS_EIO;
	}
	bool ok = tdns_write_all(fd, text, (size_t)n) && fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	if (!ok || rename(tmp, path) != 0) {
		unlink(tmp);
		return TDNS_EIO;
	}
	(void)tdns_fsync_parent(path);
	return TDNS_OK;
}

static time_t
state_read(const struct sec_zone *z)
{
	char path[4096];
	state_path(z, path, sizeof(path));
	FILE *f = fopen(path, "re");
	long long t = 0;
	if (f != NULL) {
		if (fscanf(f, "%lld", &t) != 1) {
			t = 0;
		}
		fclose(f);
	}
	return (time_t)t;
}

/* The SOA timers of z (RFC 1035 §3.3.13): refresh, retry, expire. */
static void
soa_timers(const struct zone *zn, uint32_t *refresh, uint32_t *retry, uint32_t *expire)
{
	const struct zone_rrset *soa = zone_node_rrset(zn->apex_node, DNS_TYPE_SOA);
	*refresh = 3600;
	*retry = 600;
	*expire = 604800;
	if (soa == NULL) {
		return;
	}
	const uint8_t *rd;
	uint16_t rdlen;
	zone_rdata_next(soa->data, &rd, &rdlen);
	if (rdlen >= 20) {
		*refresh = tdns_get32(rd + rdlen - 16);
		*retry = tdns_get32(rd + rdlen - 12);
		*expire = tdns_get32(rd + rdlen - 8);
	}
	*refresh = *refresh < SEC_MIN_REFRESH ? SEC_MIN_REFRESH
		   : *refresh > SEC_MAX_REFRESH ? SEC_MAX_REFRESH : *refresh;
	*retry = *retry < SEC_MIN_REFRESH ? SEC_MIN_REFRESH
		 : *retry > SEC_MAX_REFRESH ? SEC_MAX_REFRESH : *retry;
}

/* ---- serving ------------------------------------------------------------------------------ */

struct zone *
zone_sec_zone(struct zone_secondaries *s, const uint8_t *apex)
{
	struct sec_zone *z = s != NULL ? find(s, apex) : NULL;
	if (z == NULL) {
		return NULL;
	}
	if (z->cur != NULL) {
		return zone_ref(z->cur);
	}
	struct zone *p = zone_new(apex);
	if (p != NULL) {
		p->expired = true;
	}
	return p;
}

static void
publish(struct sec_zone *z)
{
	z->s->publish(z->s->arg, z->apex);
}

static void
expire_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sec_zone *z = arg;
	(void)fd;
	(void)what;
	if (z->cur == NULL) {
		return;
	}
	time_t now = time(NULL);
	if (now < z->expires) {
		arm(z->exp_timer, z->expires - now);
		return;
	}
	/* RFC 1035 §3.3.13: past expire without a refresh, the zone is no longer authoritative. */
	tdns_warn("zone %s: expired (no successful refresh for %u s); answered SERVFAIL until a "
		  "transfer succeeds", z->name, z->expire);
	zone_free(z->cur);
	z->cur = NULL;
	z->expires = 0;
	publish(z);
}

/* Takes zn (a checked zone) as the version served; its timers start from now. */
static void
take_version(struct sec_zone *z, struct zone *zn, time_t refreshed)
{
	zone_free(z->cur);
	z->cur = zn;
	soa_timers(zn, &z->refresh, &z->retry, &z->expire);
	z->last_refresh = refreshed;
	z->expires = refreshed + (time_t)z->expire;
	arm(z->exp_timer, z->expires - time(NULL));
}

/* ---- the refresh -------------------------------------------------------------------------- */

static void
schedule(struct sec_zone *z, time_t secs)
{
	z->next_refresh = time(NULL) + secs;
	arm(z->timer, secs);
}

static void
refresh_done(struct sec_zone *z)
{
	exchange_end(z);
	z->phase = SEC_IDLE;
	z->force_axfr = false;
	z->last_error[0] = '\0';
	if (z->again) {
		z->again = false;
		schedule(z, 0);
		return;
	}
	schedule(z, z->refresh);
}

static void try_primary(struct sec_zone *z);

/* This primary failed: the next one, or when none is left the retry timer. */
static void
primary_failed(struct sec_zone *z, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
primary_failed(struct sec_zone *z, const char *fmt, ...)
{
	char why[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	exchange_end(z);
	char prim[64];
	pthread_mutex_lock(&z->s->mutex);
	snprintf(prim, sizeof(prim), "%s", z->cur_prim < z->nprim ? z->prim[z->cur_prim].text : "-");
	size_t nprim = z->nprim;
	pthread_mutex_unlock(&z->s->mutex);
	snprintf(z->last_error, sizeof(z->last_error), "%s: %s", prim, why);
	tdns_warn("zone %s: %s from %s: %s", z->name, z->phase == SEC_XFR ? (z->qtype ==
		  DNS_TYPE_IXFR ? "IXFR" : "AXFR") : "SOA query", prim, why);
	z->cur_prim++;
	if (z->cur_prim < nprim) {
		z->phase = SEC_SOA;
		try_primary(z);
		return;
	}
	z->phase = SEC_IDLE;
	uint32_t retry = z->cur != NULL ? z->retry : SEC_FIRST_RETRY;
	if (z->again) {
		z->again = false;
		retry = 0;
	}
	schedule(z, retry);
}

/* A query for apex (SOA, or AXFR/IXFR with our SOA in authority), signed when keyed. */
static size_t
build_query(struct sec_zone *z, uint16_t qtype, const struct crypto_tsig_key *key, uint8_t *out,
	    size_t cap)
{
	struct dns_build b;
	dns_build_init(&b, out, cap, cap, 0, 0);
	(void)dns_build_question(&b, z->apex, qtype, DNS_CLASS_IN);
	if (qtype == DNS_TYPE_IXFR) {
		/* RFC 1995 §3: the version we have, as an SOA in the authority section. */
		const struct zone_rrset *soa = zone_node_rrset(z->cur->apex_node, DNS_TYPE_SOA);
		const uint8_t *rd;
		uint16_t rdlen;
		zone_rdata_next(soa->data, &rd, &rdlen);
		(void)dns_build_rr(&b, DNS_SECTION_AUTHORITY, z->apex, DNS_TYPE_SOA, DNS_CLASS_IN,
				   soa->ttl, rd, rdlen);
	}
	/* RFC 7314 §2: ask for the EXPIRE the primary (or a secondary serving us) keeps. */
	dns_build_edns(&b, 1232, false);
	size_t n = dns_build_finish(&b);
	n = dns_msg_opt_append(out, n, cap, DNS_OPT_CODE_EXPIRE, NULL, 0);
	crypto_tsig_clear(&z->tsig);
	crypto_tsig_init(&z->tsig, key);
	z->signed_q = key != NULL;
	if (key != NULL) {
		n = crypto_tsig_sign(&z->tsig, out, n, cap, (uint64_t)time(NULL), 0);
	}
	return n;
}

static const char *
tsig_error_text(uint16_t e)
{
	return e == DNS_TSIG_BADSIG ? "BADSIG" : e == DNS_TSIG_BADKEY ? "BADKEY"
	       : e == DNS_TSIG_BADTIME ? "BADTIME" : e == DNS_TSIG_BADTRUNC ? "BADTRUNC" : "error";
}

/*
 * Checks the TSIG of one reply message (RFC 8945 §5.3.1: every message of a stream, up to
 * 99 unsigned between signed ones, the first and last signed).  True when it may be used.
 */
static bool
reply_tsig_ok(struct sec_zone *z, const uint8_t *pkt, size_t len, bool stream)
{
	z->last_signed = false;
	if (!z->signed_q) {
		return true;
	}
	uint16_t err = 0;
	bool sig = false;
	int rc = crypto_tsig_verify_reply(&z->tsig, pkt, len, stream, (uint64_t)time(NULL), &err,
					  &sig);
	if (rc != TDNS_OK || err != 0) {
		primary_failed(z, "TSIG of the reply: %s", rc != TDNS_OK ? "malformed"
			       : tsig_error_text(err));
		return false;
	}
	z->last_signed = sig;
	return true;
}

static void xfr_start(struct sec_zone *z, uint16_t qtype);

/*
 * RFC 7314 §4: the EXPIRE option of an answer from the primary's side sets the expiry from
 * now, never later than the SOA expire allows and never earlier than it already is.
 */
static void
refreshed(struct sec_zone *z, const struct dns_msg *m)
{
	time_t now = time(NULL), prev = z->expires;
	const uint8_t *d;
	uint16_t len;
	z->last_refresh = now;
	z->expires = now + (time_t)z->expire;
	if (m != NULL && m->edns.present &&
	    dns_edns_option(m->edns.options, m->edns.options_len, DNS_OPT_CODE_EXPIRE, &d,
			    &len) && len == 4) {
		uint32_t v = tdns_get32(d);
		time_t at = now + (time_t)(v < z->expire ? v : z->expire);
		z->expires = at > prev ? at : prev;
	}
	arm(z->exp_timer, z->expires - now);
	(void)state_write(z);
}

static void
soa_cb(void *arg, const struct net_out_result *r)
{
	struct sec_zone *z = arg;
	z->xq = NULL;
	if (r->status != CLIENT_OK) {
		primary_failed(z, "%s", r->err);
		return;
	}
	if (!reply_tsig_ok(z, r->pkt, r->len, false)) {
		return;
	}
	struct dns_msg m;
	if (dns_msg_parse(r->pkt, r->len, &m) != TDNS_OK) {
		primary_failed(z, "malformed SOA answer");
		return;
	}
	const uint8_t *soa = NULL;
	size_t soalen = 0;
	uint8_t rd[DNS_MSG_MAX];
	for (size_t i = 0; i < m.nrr && soa == NULL; i++) {
		const struct dns_rr *rr = &m.rrs[i];
		if (rr->section == DNS_SECTION_ANSWER && rr->type == DNS_TYPE_SOA &&
		    dns_name_eq(rr->owner, z->apex) &&
		    dns_rdata_unpack(rr->type, m.pkt, m.len, rr->rdata_off, rr->rdlen, rd,
				     sizeof(rd), &soalen) == TDNS_OK) {
			soa = rd;
		}
	}
	int rcode = m.rcode;
	bool aa = (m.flags & DNS_FLAG_AA) != 0;
	struct dns_msg em = m;
	em.rrs = NULL;
	dns_msg_clear(&m);
	if (rcode != DNS_RCODE_NOERROR || soa == NULL || !aa) {
		char rc[16];
		primary_failed(z, "no authoritative SOA in the answer (rcode %s)",
			       dns_rcode_to_text(rcode, rc));
		return;
	}
	uint32_t serial = zone_soa_serial(soa, soalen);
	if (z->cur == NULL || serial_gt(serial, z->cur->serial)) {
		tdns_info("zone %s: serial %u at the primary, %s %u; transferring", z->name, serial,
			  z->cur != NULL ? "ours" : "none here", z->cur != NULL ? z->cur->serial : 0);
		exchange_end(z);
		xfr_start(z, z->cur != NULL ? DNS_TYPE_IXFR : DNS_TYPE_AXFR);
		return;
	}
	/* RFC 1996 §4.7 / RFC 1035: up to date, the refresh counts as a success. */
	refreshed(z, &em);
	tdns_debug("zone %s: serial %u is current; refresh in %u s", z->name, z->cur->serial,
		   z->refresh);
	refresh_done(z);
}

/* A peer for the current primary: UDP for the SOA query, TCP for transfers. */
static bool
peer_open(struct sec_zone *z, const struct crypto_tsig_key **key)
{
	pthread_mutex_lock(&z->s->mutex);
	const struct zone_sec_primary *p = &z->prim[z->cur_prim];
	struct client_server srv;
	memset(&srv, 0, sizeof(srv));
	srv.proto = CLIENT_UDP;
	const struct sockaddr *sa = (const struct sockaddr *)&p->addr;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;
		client_server_from_addr(&srv, CLIENT_UDP, AF_INET, (const uint8_t *)&in->sin_addr,
					ntohs(in->sin_port));
	} else {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		client_server_from_addr(&srv, CLIENT_UDP, AF_INET6,
					(const uint8_t *)&in6->sin6_addr, ntohs(in6->sin6_port));
	}
	*key = p->has_key && z->keys[z->cur_prim].name[0] != 0 ? &z->keys[z->cur_prim] : NULL;
	bool missing = p->has_key && *key == NULL;
	pthread_mutex_unlock(&z->s->mutex);
	if (missing) {
		primary_failed(z, "its key has no [tsig NAME] section");
		return false;
	}
	struct net_out_opts o = { .udp_tries = 2, .strict_streams = true };
	z->peer = net_out_peer_new(z->s->base, &srv, &o);
	if (z->peer == NULL) {
		primary_failed(z, "out of memory");
		return false;
	}
	return true;
}

/* Asks the current primary for the zone's SOA (RFC 1035 §4.3.5). */
static void
try_primary(struct sec_zone *z)
{
	if (z->cur == NULL || z->force_axfr) {
		xfr_start(z, DNS_TYPE_AXFR);
		return;
	}
	const struct crypto_tsig_key *key;
	if (!peer_open(z, &key)) {
		return;
	}
	uint8_t q[512];
	size_t n = build_query(z, DNS_TYPE_SOA, key, q, sizeof(q));
	z->phase = SEC_SOA;
	z->xq = net_out_send(z->peer, q, n, 0, SEC_SOA_TIMEOUT_MS, soa_cb, z);
	if (z->xq == NULL) {
		primary_failed(z, "%s", net_out_peer_error(z->peer, NULL));
	}
}

static void
refresh_start(struct sec_zone *z)
{
	if (z->phase != SEC_IDLE) {
		return;
	}
	pthread_mutex_lock(&z->s->mutex);
	size_t nprim = z->nprim;
	pthread_mutex_unlock(&z->s->mutex);
	if (nprim == 0) {
		snprintf(z->last_error, sizeof(z->last_error), "no primaries");
		return;
	}
	z->cur_prim = 0;
	z->again = false;
	z->phase = SEC_SOA;
	try_primary(z);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct sec_zone *z = arg;
	z->next_refresh = 0;
	refresh_start(z);
}

/* ---- the transfer ------------------------------------------------------------------------- */

/* The transfer is complete: check the new version, keep it on disk, serve it. */
static void
xfr_finish(struct sec_zone *z)
{
	struct zone *zn = z->building;
	z->building = NULL;
	const char *kind = z->qtype != DNS_TYPE_IXFR ? "AXFR" : z->incremental ? "IXFR"
			   : "IXFR (whole zone)";
	if (zn == NULL) {
		/* An IXFR answered by our own SOA alone: nothing changed (RFC 1995 §4). */
		refreshed(z, NULL);
		refresh_done(z);
		return;
	}
	char msg[512];
	int rc = zone_check_msg(zn, msg, sizeof(msg));
	if (rc != TDNS_OK) {
		zone_free(zn);
		primary_failed(z, "the transferred zone is not valid: %s", msg);
		return;
	}
	zn->loaded = time(NULL);
	int errnum = 0;
	rc = zone_write(zn, z->file, &errnum);
	if (rc != TDNS_OK) {
		/* Served anyway: the data is good, only the copy for a restart is missing. */
		tdns_err("zone %s: cannot write %s: %s", z->name, z->file,
			 errnum != 0 ? strerror(errnum) : tdns_status_msg(rc));
	}
	double ms = (double)(tdns_mono_us() - z->t0_us) / 1000.0;
	char prim[64];
	pthread_mutex_lock(&z->s->mutex);
	snprintf(prim, sizeof(prim), "%s", z->prim[z->cur_prim].text);
	pthread_mutex_unlock(&z->s->mutex);
	tdns_info("zone %s: %s from %s%s: serial %u, %zu records in %zu messages, %.1f ms",
		  z->name, kind, prim, z->signed_q ? " (TSIG)" : "", zn->serial, zn->nrecords,
		  z->nmsg, ms);
	take_version(z, zn, time(NULL));
	refreshed(z, NULL);
	publish(z);
	refresh_done(z);
}

/* Applies one RR of an IXFR difference sequence or of an AXFR (RFC 1995 §4, RFC 5936 §2.2). */
static int
xfr_rr(struct sec_zone *z, const uint8_t *owner, uint16_t type, uint32_t ttl, const uint8_t *rd,
       size_t rdlen)
{
	bool soa = type == DNS_TYPE_SOA;
	uint32_t serial = soa ? zone_soa_serial(rd, rdlen) : 0;
	switch (z->mode) {
	case MODE_FIRST:
		if (!soa || !dns_name_eq(owner, z->apex)) {
			return TDNS_EMALFORMED;
		}
		z->new_serial = serial;
		z->mode = MODE_SECOND;
		/* Kept aside: the first record of an AXFR-style answer. */
		z->building = zone_new(z->apex);
		if (z->building == NULL) {
			return TDNS_ENOMEM;
		}
		return zone_add_rr(z->building, owner, type, ttl, rd, rdlen);
	case MODE_SECOND:
		if (z->qtype == DNS_TYPE_IXFR && soa && z->cur != NULL &&
		    serial == z->cur->serial && serial != z->new_serial) {
			/* RFC 1995 §4: incremental; the old version's SOA starts the first diff. */
			zone_free(z->building);
			z->building = zone_clone(z->cur);
			if (z->building == NULL) {
				return TDNS_ENOMEM;
			}
			z->mode = MODE_DEL;
			z->incremental = true;
			return TDNS_OK;
		}
		if (soa) {
			/* A zone that is only its SOA: complete (AXFR), or up to date (IXFR). */
			z->mode = MODE_DONE;
			return TDNS_OK;
		}
		z->mode = MODE_AXFR;
		return zone_add_rr(z->building, owner, type, ttl, rd, rdlen);
	case MODE_AXFR:
		if (soa && dns_name_eq(owner, z->apex)) {
			z->mode = MODE_DONE;
			return serial == z->new_serial ? TDNS_OK : TDNS_EMALFORMED;
		}
		return zone_add_rr(z->building, owner, type, ttl, rd, rdlen);
	case MODE_DEL:
		if (soa) {
			/* The new version's SOA starts the additions of this diff. */
			z->diff_serial = serial;
			z->mode = MODE_ADD;
			(void)zone_remove_rr(z->building, z->apex, DNS_TYPE_SOA, NULL, 0);
			return zone_add_rr(z->building, owner, type, ttl, rd, rdlen);
		}
		(void)zone_remove_rr(z->building, owner, type, rd, rdlen);
		return TDNS_OK;
	case MODE_ADD:
		if (soa) {
			if (serial == z->new_serial && z->diff_serial == z->new_serial) {
				z->mode = MODE_DONE;
				return TDNS_OK;
			}
			z->mode = MODE_DEL;
			return TDNS_OK;
		}
		return zone_add_rr(z->building, owner, type, ttl, rd, rdlen);
	case MODE_DONE:
		return TDNS_EMALFORMED;
	}
	return TDNS_EMALFORMED;
}

static void
xfr_cb(void *arg, const struct net_out_result *r)
{
	struct sec_zone *z = arg;
	if (r->status != CLIENT_OK) {
		z->xq = NULL;
		primary_failed(z, "%s", r->err);
		return;
	}
	if (!r->more) {
		z->xq = NULL;
	}
	if (!reply_tsig_ok(z, r->pkt, r->len, z->nmsg > 0)) {
		return;
	}
	z->nmsg++;
	struct dns_msg m;
	if (dns_msg_parse(r->pkt, r->len, &m) != TDNS_OK) {
		primary_failed(z, "malformed message %zu", z->nmsg);
		return;
	}
	if (m.rcode != DNS_RCODE_NOERROR) {
		char buf[16];
		const char *rc = dns_rcode_to_text(m.rcode, buf);
		dns_msg_clear(&m);
		if (z->qtype == DNS_TYPE_IXFR && z->nmsg == 1 &&
		    (m.rcode == DNS_RCODE_NOTIMP || m.rcode == DNS_RCODE_FORMERR)) {
			/* RFC 1995 §4 and RFC 5936: a primary without IXFR; fall back to AXFR. */
			exchange_end(z);
			xfr_start(z, DNS_TYPE_AXFR);
			return;
		}
		primary_failed(z, "transfer refused: %s", rc);
		return;
	}
	static uint8_t rd[65536];
	int rc = TDNS_OK;
	for (size_t i = 0; i < m.nrr && rc == TDNS_OK; i++) {
		const struct dns_rr *rr = &m.rrs[i];
		if (rr->section != DNS_SECTION_ANSWER) {
			continue;
		}
		if (z->mode == MODE_DONE) {
			rc = TDNS_EMALFORMED;
			break;
		}
		size_t rdlen;
		rc = dns_rdata_unpack(rr->type, m.pkt, m.len, rr->rdata_off, rr->rdlen, rd,
				      sizeof(rd), &rdlen);
		if (rc == TDNS_OK && rr->rclass != DNS_CLASS_IN) {
			rc = TDNS_EMALFORMED;
		}
		if (rc == TDNS_OK) {
			rc = xfr_rr(z, rr->owner, rr->type, rr->ttl, rd, rdlen);
			if (rc == TDNS_EOUTOFZONE) {
				rc = TDNS_OK;    /* RFC 5936 §3.3: records out of the zone are dropped */
			}
		}
		if (++z->nrr > SEC_MAX_RECORDS) {
			rc = TDNS_ESPACE;
		}
	}
	dns_msg_clear(&m);
	if (rc != TDNS_OK) {
		primary_failed(z, "bad transfer at message %zu: %s", z->nmsg, tdns_status_msg(rc));
		return;
	}
	if (z->mode == MODE_SECOND && z->qtype == DNS_TYPE_IXFR && z->cur != NULL &&
	    !serial_gt(z->new_serial, z->cur->serial)) {
		/* RFC 1995 §2: one SOA no later than ours, the zone is current. */
		zone_free(z->building);
		z->building = NULL;
		z->mode = MODE_DONE;
	}
	if (z->mode != MODE_DONE && z->mode != MODE_SECOND) {
		return;   /* more messages come */
	}
	if (z->mode == MODE_SECOND) {
		if (z->qtype == DNS_TYPE_AXFR) {
			return;
		}
		/* An IXFR whose whole answer was one newer SOA: ask for the whole zone. */
		exchange_end(z);
		xfr_start(z, DNS_TYPE_AXFR);
		return;
	}
	if (z->signed_q && !z->last_signed) {
		primary_failed(z, "the last message of the transfer is not signed (RFC 8945 §5.3.1)");
		return;
	}
	if (z->xq != NULL) {
		net_out_cancel(z->xq);
		z->xq = NULL;
	}
	xfr_finish(z);
}

static void
xfr_start(struct sec_zone *z, uint16_t qtype)
{
	const struct crypto_tsig_key *key;
	if (!peer_open(z, &key)) {
		return;
	}
	uint8_t q[1024];
	z->qtype = qtype;
	z->mode = MODE_FIRST;
	z->nrr = z->nmsg = 0;
	z->incremental = false;
	z->t0_us = tdns_mono_us();
	size_t n = build_query(z, qtype, key, q, sizeof(q));
	z->phase = SEC_XFR;
	z->xq = net_out_send(z->peer, q, n, NET_OUT_MULTI, SEC_XFR_TIMEOUT_MS, xfr_cb, z);
	if (z->xq == NULL) {
		primary_failed(z, "%s", net_out_peer_error(z->peer, NULL));
	}
}

/* ---- configuration ------------------------------------------------------------------------ */

/* Loads the copy on disk when it has not expired (served at once after a restart). */
static void
load_copy(struct sec_zone *z)
{
	if (access(z->file, F_OK) != 0) {
		return;
	}
	struct zone *zn = NULL;
	char err[1024];
	if (zone_load(z->apex, z->file, &zn, err, sizeof(err)) != TDNS_OK) {
		tdns_warn("zone %s: the copy on disk does not load (%s); transferring", z->name,
			  err);
		return;
	}
	time_t refreshed = state_read(z);
	if (refreshed == 0) {
		struct stat st;
		refreshed = stat(z->file, &st) == 0 ? st.st_mtime : 0;
	}
	uint32_t refresh, retry, expire;
	soa_timers(zn, &refresh, &retry, &expire);
	time_t now = time(NULL);
	if (now - refreshed >= (time_t)expire) {
		tdns_warn("zone %s: the copy on disk expired %lld s ago; not served until a transfer",
			  z->name, (long long)(now - refreshed - (time_t)expire));
		zone_free(zn);
		return;
	}
	take_version(z, zn, refreshed);
	tdns_info("zone %s: serial %u from %s (refreshed %lld s ago, expires in %lld s)", z->name,
		  zn->serial, z->file, (long long)(now - refreshed), (long long)(z->expires - now));
}

/* Sets the primaries of z (under the lock: workers read them for NOTIFY). */
static void
set_primaries(struct sec_zone *z, const struct cfg *c, const char *text)
{
	struct zone_sec_primary prim[ZONE_SEC_MAX_PRIMARIES];
	size_t n = 0;
	char err[256];
	if (zone_sec_parse_primaries(text, prim, ZONE_SEC_MAX_PRIMARIES, &n, err,
				     sizeof(err)) != TDNS_OK) {
		tdns_err("zone %s: primaries: %s", z->name, err);
		n = 0;
	}
	pthread_mutex_lock(&z->s->mutex);
	snprintf(z->primaries, sizeof(z->primaries), "%s", text);
	memcpy(z->prim, prim, sizeof(prim));
	z->nprim = n;
	explicit_bzero(z->keys, sizeof(z->keys));
	for (size_t i = 0; i < n; i++) {
		const struct crypto_tsig_key *k = prim[i].has_key
			? crypto_tsig_key_find(c->tsigs, c->ntsigs, prim[i].key) : NULL;
		if (k != NULL) {
			z->keys[i] = *k;
		}
	}
	pthread_mutex_unlock(&z->s->mutex);
}

static void
configure_one(struct zone_secondaries *s, const struct cfg *c, const char *name,
	      const uint8_t *apex, const char *file, const char *primaries)
{
	struct sec_zone *z = find(s, apex);
	if (z != NULL) {
		z->seen = true;
		bool changed = strcmp(z->primaries, primaries) != 0;
		set_primaries(z, c, primaries);
		if (changed && z->phase == SEC_IDLE) {
			schedule(z, 0);
		}
		return;
	}
	z = calloc(1, sizeof(*z));
	if (z == NULL) {
		tdns_err("zone %s: out of memory", name);
		return;
	}
	z->s = s;
	z->seen = true;
	size_t len = strlen(name);
	z->name = tdns_xstrdup(name);
	if (len > 1 && z->name[len - 1] == '.') {
		z->name[len - 1] = '\0';
	}
	memcpy(z->apex, apex, dns_name_len(apex));
	z->file = tdns_xstrdup(file);
	z->timer = evtimer_new(s->base, timer_cb, z);
	z->exp_timer = evtimer_new(s->base, expire_cb, z);
	struct sec_zone **v = realloc(s->zones, (s->nzones + 1) * sizeof(*v));
	if (z->timer == NULL || z->exp_timer == NULL || v == NULL) {
		tdns_err("zone %s: out of memory", name);
		if (v != NULL) {
			s->zones = v;
		}
		sec_zone_free(z);
		return;
	}
	set_primaries(z, c, primaries);
	load_copy(z);
	pthread_mutex_lock(&s->mutex);
	s->zones = v;
	s->zones[s->nzones++] = z;
	pthread_mutex_unlock(&s->mutex);
	/* Checked at once, as BIND and Knot do at start: the copy may be old. */
	schedule(z, 0);
}

void
zone_sec_configure(struct zone_secondaries *s, const struct cfg *c,
		   const struct zone_catalog *cat)
{
	for (size_t i = 0; i < s->nzones; i++) {
		s->zones[i]->seen = false;
	}
	for (size_t i = 0; i < c->nzones; i++) {
		const struct cfg_zone *cz = &c->zones[i];
		if (strcmp(cz->type, "secondary") == 0) {
			configure_one(s, c, cz->name, cz->apex, cz->file, cz->primaries);
		}
	}
	for (size_t i = 0; i < zone_catalog_count(cat); i++) {
		const struct zone_catalog_entry *e = zone_catalog_get(cat, i);
		bool in_cfg = false;
		for (size_t k = 0; k < c->nzones && !in_cfg; k++) {
			in_cfg = dns_name_eq(c->zones[k].apex, e->apex);
		}
		if (e->runtime && !in_cfg && !e->disabled && e->type != NULL &&
		    strcmp(e->type, "secondary") == 0 && e->file != NULL) {
			configure_one(s, c, e->name, e->apex, e->file,
				      e->primaries != NULL ? e->primaries : "");
		}
	}
	/* Zones gone from both stop (their data leaves the set with the next publish). */
	pthread_mutex_lock(&s->mutex);
	size_t k = 0;
	struct sec_zone *gone[256];
	size_t ngone = 0;
	for (size_t i = 0; i < s->nzones; i++) {
		if (s->zones[i]->seen || ngone == sizeof(gone) / sizeof(gone[0])) {
			s->zones[k++] = s->zones[i];
		} else {
			gone[ngone++] = s->zones[i];
		}
	}
	s->nzones = k;
	pthread_mutex_unlock(&s->mutex);
	for (size_t i = 0; i < ngone; i++) {
		sec_zone_free(gone[i]);
	}
}

/* ---- NOTIFY, control ---------------------------------------------------------------------- */

static bool
same_addr(const struct sockaddr *a, const struct sockaddr_storage *b)
{
	if (a->sa_family != b->ss_family) {
		return false;
	}
	if (a->sa_family == AF_INET) {
		return memcmp(&((const struct sockaddr_in *)(const void *)a)->sin_addr,
			      &((const struct sockaddr_in *)(const void *)b)->sin_addr, 4) == 0;
	}
	if (a->sa_family == AF_INET6) {
		return memcmp(&((const struct sockaddr_in6 *)(const void *)a)->sin6_addr,
			      &((const struct sockaddr_in6 *)(const void *)b)->sin6_addr, 16) == 0;
	}
	return false;
}

int
zone_sec_notify(struct zone_secondaries *s, const uint8_t *apex, const struct sockaddr *peer,
		const uint8_t *key)
{
	if (s == NULL || peer == NULL) {
		return DNS_RCODE_REFUSED;
	}
	int rcode = DNS_RCODE_REFUSED;
	pthread_mutex_lock(&s->mutex);
	struct sec_zone *z = find(s, apex);
	for (size_t i = 0; z != NULL && i < z->nprim; i++) {
		const struct zone_sec_primary *p = &z->prim[i];
		if (!same_addr(peer, &p->addr)) {
			continue;
		}
		/* RFC 1996 §3.10 and RFC 8945: a primary with a key must sign its NOTIFY. */
		if (p->has_key && (key == NULL || !dns_name_eq(key, p->key))) {
			rcode = DNS_RCODE_NOTAUTH;
			continue;
		}
		rcode = DNS_RCODE_NOERROR;
		z->notified = true;
		break;
	}
	pthread_mutex_unlock(&s->mutex);
	if (rcode == DNS_RCODE_NOERROR) {
		event_active(s->notify_ev, 0, 0);
	}
	return rcode;
}

long
zone_sec_expire_left(struct zone_secondaries *s, const uint8_t *apex)
{
	if (s == NULL) {
		return -1;
	}
	pthread_mutex_lock(&s->mutex);
	struct sec_zone *z = find(s, apex);
	long left = -1;
	if (z != NULL) {
		time_t now = time(NULL);
		left = z->expires > now ? (long)(z->expires - now) : 0;
	}
	pthread_mutex_unlock(&s->mutex);
	return left;
}

int
zone_sec_refresh(struct zone_secondaries *s, const uint8_t *apex, bool axfr)
{
	struct sec_zone *z = s != NULL ? find(s, apex) : NULL;
	if (z == NULL) {
		return TDNS_ENOZONE;
	}
	if (z->phase != SEC_IDLE) {
		z->again = true;
		z->force_axfr = z->force_axfr || axfr;
		return TDNS_OK;
	}
	z->force_axfr = axfr;
	evtimer_del(z->timer);
	refresh_start(z);
	return TDNS_OK;
}

bool
zone_sec_status(struct zone_secondaries *s, const uint8_t *apex, struct zone_sec_status *st)
{
	struct sec_zone *z = s != NULL ? find(s, apex) : NULL;
	if (z == NULL) {
		return false;
	}
	memset(st, 0, sizeof(*st));
	st->loaded = z->cur != NULL;
	st->serial = z->cur != NULL ? z->cur->serial : 0;
	st->expired = z->cur == NULL && z->last_refresh != 0;
	st->running = z->phase != SEC_IDLE;
	st->last_refresh = z->last_refresh;
	st->next_refresh = z->phase != SEC_IDLE ? 0 : z->next_refresh;
	st->expires = z->expires;
	pthread_mutex_lock(&s->mutex);
	snprintf(st->primaries, sizeof(st->primaries), "%s", z->primaries);
	pthread_mutex_unlock(&s->mutex);
	snprintf(st->last_error, sizeof(st->last_error), "%s", z->last_error);
	return true;
}
