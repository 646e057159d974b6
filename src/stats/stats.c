/* SPDX-License-Identifier: MIT */
/* stats: per-worker notes, and the main thread's series, latency, heavy hitters and logs. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/event.h>

#include "dns/dns.h"
#include "stats/stats.h"
#include "stats/stats_int.h"

#define SECONDS 300               /* per-second series: the last 5 minutes */
#define MINUTES 60                /* per-minute series: the last hour */
#define QPS_WINDOW 10             /* seconds averaged by stats_recorder_qps */
#define LAT_WINDOW 60             /* seconds of latency in the percentiles */
#define DRAIN_MS 100              /* how often the query rings are read */
#define DRAIN_CHUNK 256           /* entries read at a time */
#define TOP_CLIENTS 1024          /* counters of the heavy-hitter sketches */
#define TOP_NAMES 2048
#define TOP_BLOCKED 1024
#define TOP_BLOCKED_CLIENTS 512
#define TOP_DECAY 3600            /* seconds between halvings of the sketches */
/*
 * Top lists over a recent range: sketches per slot of time, merged on request.  Ranges up to
 * 5 minutes use 15-second slots, longer ones up to an hour 5-minute slots (one more slot than
 * the range holds: the current one is partial).
 */
#define TOP_FINE_SPAN 15
#define TOP_FINE_SLOTS 21
#define TOP_COARSE_SPAN 300
#define TOP_COARSE_SLOTS 13
#define TOP_SLOT_SHIFT 3          /* a slot's sketches hold 1/8 of the all-time ones */
#define LOG_SHOW_MAX 10000        /* most entries `log show` returns */
#define DNS_HDR 12                /* octets of the DNS header, RFC 1035 §4.1.1 */

/* One second of the series, every worker's counts merged: queries by arrival second. */
struct second {
	int64_t s;                /* CLOCK_MONOTONIC second */
	uint64_t n[STATS_SERIES];
};

struct minute {
	int64_t t;                /* start of the minute */
	uint64_t n[STATS_SERIES]; /* the minute's final seconds (younger ones are added on output) */
	uint64_t udp;
	uint64_t tcp;
	uint64_t rcode[STATS_RCODES];
};

/* Latency histogram summed over the workers: a snapshot of the cumulative counts. */
struct lat_snap {
	uint64_t b[STATS_LAT_BUCKETS];
};

/* The heavy-hitter lists: clients, names with their type, blocked names and their clients. */
enum top_what { TOP_CLIENT, TOP_NAME, TOP_BLOCKED_NAME, TOP_BLOCKED_CLIENT, TOP_WHATS };

static const struct {
	size_t cap, keymax;
} top_shape[TOP_WHATS] = {
	[TOP_CLIENT] = { TOP_CLIENTS, 17 },             /* family, then 4 or 16 bytes */
	[TOP_NAME] = { TOP_NAMES, DNS_NAME_MAX + 2 },  /* wire name, then the qtype */
	[TOP_BLOCKED_NAME] = { TOP_BLOCKED, DNS_NAME_MAX },
	[TOP_BLOCKED_CLIENT] = { TOP_BLOCKED_CLIENTS, 17 },
};

struct top_set {
	int64_t start;            /* unix time the slot starts (ring slots only) */
	struct stats_top *t[TOP_WHATS];
};

/* Slots of span seconds: slot[(start / span) % n]. */
struct top_ring {
	int64_t span;
	size_t n;
	struct top_set *slot;
	int64_t last_t;           /* the last second top_ring_slot was asked for ... */
	struct top_set *last;     /* ... and its answer (only top_ring_slot changes slots) */
};

struct stats_follower {
	TAILQ_ENTRY(stats_follower) link;
	bool queries, server;
	stats_follow_fn fn;
	void *arg;
	struct stats_log_filter filter;
	uint64_t dropped;         /* not yet reported with a "dropped" entry */
};

TAILQ_HEAD(follower_list, stats_follower);

struct stats_recorder {
	struct stats_source src;
	struct event *timer;
	struct event *drain_timer;
	unsigned nworkers;
	struct stats_worker **sw; /* the workers' (borrowed from the source) */
	uint64_t *cursor;         /* per worker: next ring entry to read */
	uint64_t lost;            /* ring entries overwritten before they were read */
	struct stats_qentry *chunk; /* DRAIN_CHUNK entries */
	struct top_set top;       /* since start, halved every TOP_DECAY */
	struct top_ring fine, coarse;
	int64_t top_epoch;        /* last halving (start time at first) */
	struct lat_snap lat[LAT_WINDOW + 1]; /* ring of per-second snapshots */
	size_t lat_head, nlat;
	uint64_t slog_cursor;
	struct follower_list followers;
	struct stats_counters last;    /* totals at the last sample */
	struct second sec[SECONDS]; /* by monotonic second: sec[s % SECONDS] */
	int64_t off;              /* unix time minus CLOCK_MONOTONIC, whole seconds, from start */
	int64_t first;            /* the monotonic second the recorder started in */
	int64_t frozen;           /* seconds up to this one are final and in their minute */
	struct minute min[MINUTES]; /* ring of completed minutes, likewise */
	size_t min_head, nmin;
	struct minute cur;        /* the minute being filled */
};

/* The recorder stats_recorder_get returns. */
static struct stats_recorder *current;

/* ------------------------------------------------------------------------------------------ */
/* The worker side                                                                              */

void
stats_count_rcode(struct stats_counters *st, int rcode)
{
	st->queries++;
	if (rcode < 0) {
		st->dropped++;
		return;
	}
	st->rcode[rcode < STATS_RCODES - 1 ? rcode : STATS_RCODES - 1]++;
}

void
stats_count_type(struct stats_counters *st, uint16_t qtype)
{
	st->qtype[qtype < STATS_QTYPES - 1 ? qtype : STATS_QTYPES - 1]++;
}

void
stats_count_qtype(struct stats_counters *st, const uint8_t *pkt, size_t len)
{
	/* RFC 1035 §4.1.2: the question's name is uncompressed labels, then type and class. */
	if (len < DNS_HDR_LEN || tdns_get16(pkt + 4) == 0) {
		return;
	}
	size_t pos = DNS_HDR_LEN;
	while (pos < len && pkt[pos] != 0) {
		if (pkt[pos] > 63) {
			return;
		}
		pos += 1u + pkt[pos];
	}
	if (pos + 2 >= len) {
		return;
	}
	stats_count_type(st, tdns_get16(pkt + pos + 1));
}

void
stats_counters_add(struct stats_counters *a, const struct stats_counters *b)
{
	a->queries += b->queries;
	a->udp += b->udp;
	a->tcp += b->tcp;
	a->dropped += b->dropped;
	a->truncated += b->truncated;
	a->tcp_accepted += b->tcp_accepted;
	a->tcp_refused += b->tcp_refused;
	a->tcp_evicted += b->tcp_evicted;
	a->dot += b->dot;
	a->doh += b->doh;
	a->tls_accepted += b->tls_accepted;
	a->tls_failed += b->tls_failed;
	a->http_errors += b->http_errors;
	a->outstanding += b->outstanding;
	a->jostled += b->jostled;
	a->busy_refused += b->busy_refused;
	for (size_t i = 0; i < STATS_RCODES; i++) {
		a->rcode[i] += b->rcode[i];
	}
	for (size_t i = 0; i < STATS_QTYPES; i++) {
		a->qtype[i] += b->qtype[i];
	}
	for (size_t i = 0; i < STATS_KINDS; i++) {
		a->kind[i] += b->kind[i];
	}
	a->nxdomain += b->nxdomain;
	a->servfail += b->servfail;
	a->refused += b->refused;
}

struct stats_worker *
stats_worker_new(void)
{
	/* Own cache lines, so that workers counting side by side do not slow each other. */
	size_t size = (sizeof(struct stats_worker) + 63) / 64 * 64;
	struct stats_worker *sw = aligned_alloc(64, size);
	if (sw == NULL) {
		return NULL;
	}
	memset(sw, 0, size);
	sw->ring = stats_qring_new(STATS_QLOG_ENTRIES);
	if (sw->ring == NULL) {
		free(sw);
		return NULL;
	}
	return sw;
}

void
stats_worker_free(struct stats_worker *sw)
{
	if (sw == NULL) {
		return;
	}
	stats_qring_free(sw->ring);
	free(sw);
}

/* Single writer: a relaxed load and store, which is a plain add on common hardware. */
static inline void
bump(_Atomic uint64_t *c)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

/*
 * Counts one query in series entry idx of the second it arrived in (arrival), or of now when
 * it arrived too long ago for the ring.  Only the worker writes: resetting a slot is a seqlock
 * write (sec -1, then the zeroes, then the second) so that readers never take a stale count.
 */
static void
count_second(struct stats_worker *sw, int64_t arrival, int64_t now, unsigned idx)
{
	int64_t s = now - arrival < STATS_SEC_LIVE && arrival <= now ? arrival : now;
	struct stats_sec_slot *slot = &sw->sec[(uint64_t)s % STATS_SEC_SLOTS];
	if (atomic_load_explicit(&slot->sec, memory_order_relaxed) != s) {
		atomic_store_explicit(&slot->sec, -1, memory_order_relaxed);
		atomic_thread_fence(memory_order_release);
		for (size_t i = 0; i < STATS_SERIES; i++) {
			atomic_store_explicit(&slot->n[i], 0, memory_order_relaxed);
		}
		atomic_store_explicit(&slot->sec, s, memory_order_release);
	}
	bump(&slot->n[idx]);
}

bool
stats_worker_second(const struct stats_worker *sw, int64_t sec, uint64_t out[STATS_SERIES])
{
	const struct stats_sec_slot *slot = &sw->sec[(uint64_t)sec % STATS_SEC_SLOTS];
	int64_t before = atomic_load_explicit(&slot->sec, memory_order_acquire);
	for (size_t i = 0; i < STATS_SERIES; i++) {
		out[i] = atomic_load_explicit(&slot->n[i], memory_order_relaxed);
	}
	atomic_thread_fence(memory_order_acquire);
	int64_t after = atomic_load_explicit(&slot->sec, memory_order_relaxed);
	if (before != after || before < 0 || before > sec) {
		memset(out, 0, STATS_SERIES * sizeof(*out));
		return false;
	}
	if (before < sec) {
		/* The slot still holds an older second: nothing arrived in this one. */
		memset(out, 0, STATS_SERIES * sizeof(*out));
	}
	return true;
}

void
stats_note_dropped(struct stats_worker *sw, const struct timespec *start)
{
	if (sw == NULL) {
		return;
	}
	count_second(sw, (int64_t)start->tv_sec, (int64_t)start->tv_sec, STATS_SERIES_DROPPED);
}

void
stats_worker_read(const struct stats_worker *sw, struct stats_counters *c)
{
	for (size_t k = 0; k < STATS_KINDS; k++) {
		c->kind[k] = sw != NULL ? atomic_load_explicit(&sw->kind[k], memory_order_relaxed)
					: 0;
	}
	c->nxdomain = sw != NULL ? atomic_load_explicit(&sw->nxdomain, memory_order_relaxed) : 0;
	c->servfail = sw != NULL ? atomic_load_explicit(&sw->servfail, memory_order_relaxed) : 0;
	c->refused = sw != NULL ? atomic_load_explicit(&sw->refused, memory_order_relaxed) : 0;
}

unsigned
stats_lat_bucket(double ms)
{
	if (!(ms > 0.0)) {
		return 0;
	}
	double ns = ms * 1e6;
	if (ns >= 9.2e18) {
		return STATS_LAT_BUCKETS - 1;
	}
	uint64_t x = (uint64_t)ns;
	if (x < 4) {
		return (unsigned)x;
	}
	/* Four buckets per octave: the octave, then the two bits after the leading one. */
	unsigned o = 63u - (unsigned)__builtin_clzll(x);
	unsigned b = 4 * (o - 1) + (unsigned)((x >> (o - 2)) & 3);
	return b < STATS_LAT_BUCKETS ? b : STATS_LAT_BUCKETS - 1;
}

double
stats_lat_value(unsigned b)
{
	if (b < 4) {
		return ((double)b + 0.5) / 1e6;
	}
	unsigned o = b / 4 + 1, sub = b % 4;
	double lo = (double)(4 + sub) * (double)(1ull << (o - 2));
	double hi = (double)(5 + sub) * (double)(1ull << (o - 2));
	return (lo + hi) / 2 / 1e6;
}

void
stats_note_query(struct stats_worker *sw, const struct sockaddr *client, const uint8_t *qname,
		 uint16_t qtype, int rcode, enum stats_kind kind, enum stats_transport transport,
		 const struct timespec *start)
{
	if (sw == NULL) {
		return;
	}
	/* One clock read: latency from the monotonic clock, unix time from a cached offset. */
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double ms = (double)(now.tv_sec - start->tv_sec) * 1e3 +
		    (double)(now.tv_nsec - start->tv_nsec) / 1e6;
	if ((int64_t)now.tv_sec != sw->clock_sec) {
		struct timespec real;
		clock_gettime(CLOCK_REALTIME, &real);
		sw->clock_offset = (double)(real.tv_sec - now.tv_sec) +
				   (double)(real.tv_nsec - now.tv_nsec) / 1e9;
		sw->clock_sec = (int64_t)now.tv_sec;
	}
	bump(&sw->kind[kind < STATS_KINDS ? kind : STATS_KIND_AUTHORITATIVE]);
	if (rcode == DNS_RCODE_NXDOMAIN) {
		bump(&sw->nxdomain);
	} else if (rcode == DNS_RCODE_SERVFAIL) {
		bump(&sw->servfail);
	} else if (rcode == DNS_RCODE_REFUSED) {
		bump(&sw->refused);
	}
	bump(&sw->lat[stats_lat_bucket(ms)]);
	unsigned idx = rcode == DNS_RCODE_SERVFAIL ? STATS_SERIES_FAILED
		       : kind < STATS_KINDS ? (unsigned)kind : STATS_KIND_AUTHORITATIVE;
	count_second(sw, (int64_t)start->tv_sec, (int64_t)now.tv_sec, idx);

	struct stats_qentry entry, *e = &entry;
	e->t = (double)now.tv_sec + (double)now.tv_nsec / 1e9 + sw->clock_offset;
	e->ms = (float)ms;
	e->qtype = qtype;
	e->rcode = (int16_t)rcode;
	e->ede = sw->next_ede - 1;
	sw->next_ede = 0;
	e->kind = (uint8_t)kind;
	e->transport = (uint8_t)transport;
	e->family = 0;
	e->port = 0;
	if (client != NULL && client->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)client;
		e->family = AF_INET;
		memcpy(e->addr, &sin->sin_addr, 4);
		e->port = ntohs(sin->sin_port);
	} else if (client != NULL && client->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)client;
		e->family = AF_INET6;
		memcpy(e->addr, &sin6->sin6_addr, 16);
		e->port = ntohs(sin6->sin6_port);
	}
	size_t qlen = qname != NULL ? dns_name_len(qname) : 0;
	e->qname_len = (uint8_t)(qlen <= DNS_NAME_MAX ? qlen : 0);
	if (e->qname_len > 0) {
		memcpy(e->qname, qname, e->qname_len);
	}
	/* The note is this query's only: whatever the kind, the next entry starts clean. */
	e->block_len = kind == STATS_KIND_BLOCKED ? sw->note_len : 0;
	memcpy(e->qname + e->qname_len, sw->note, e->block_len);
	sw->note_len = 0;
	if (e->block_len >= STATS_QBLOCK_HEAD && e->ede < 0 && tdns_get16(sw->note) != 0) {
		/* stats_note_reply reads no NOERROR or NXDOMAIN reply: the block note says. */
		e->ede = tdns_get16(sw->note);
	}
	stats_qring_put(sw->ring, e);
}

void
stats_note_block(struct stats_worker *sw, uint16_t ede, const char *list, unsigned line,
		 const char *group)
{
	if (sw == NULL) {
		return;
	}
	uint8_t *n = sw->note;
	size_t room = STATS_QBLOCK_MAX - STATS_QBLOCK_HEAD;
	size_t glen = group != NULL ? strlen(group) : 0;
	glen = glen > room / 3 ? room / 3 : glen;
	size_t llen = list != NULL ? strlen(list) : 0;
	/* A long list name (a URL, a deep path) keeps its end: the file name tells most. */
	const char *ltext = list != NULL && llen > room - glen ? list + llen - (room - glen) : list;
	llen = llen > room - glen ? room - glen : llen;
	tdns_put16(n, ede);
	tdns_put32(n + 2, line);
	n[6] = (uint8_t)glen;
	memcpy(n + STATS_QBLOCK_HEAD, group != NULL ? group : "", glen);
	memcpy(n + STATS_QBLOCK_HEAD + glen, ltext != NULL ? ltext : "", llen);
	sw->note_len = (uint8_t)(STATS_QBLOCK_HEAD + glen + llen);
}

void
stats_note_packet(struct stats_worker *sw, const struct sockaddr *client, const uint8_t *pkt,
		  size_t len, int rcode, enum stats_kind kind, enum stats_transport transport,
		  const struct timespec *start)
{
	if (sw == NULL) {
		return;
	}
	/* The question's name starts right after the header and cannot be compressed there. */
	const uint8_t *qname = NULL;
	uint16_t qtype = 0;
	if (len >= DNS_HDR + 5 && tdns_get16(pkt + 4) > 0) {
		size_t pos = DNS_HDR;
		while (pos < len && pkt[pos] != 0 && pkt[pos] < 64 &&
		       pos - DNS_HDR + pkt[pos] + 1 < DNS_NAME_MAX) {
			pos += 1u + pkt[pos];
		}
		if (pos + 2 < len && pkt[pos] == 0) {
			qname = pkt + DNS_HDR;
			qtype = tdns_get16(pkt + pos + 1);
		}
	}
	stats_note_query(sw, client, qname, qtype, rcode, kind, transport, start);
}

/* ------------------------------------------------------------------------------------------ */
/* Sampling                                                                                     */

static uint64_t
delta(uint64_t now, uint64_t before)
{
	/* Counters only grow; a smaller value would be a bug, not a negative rate. */
	return now > before ? now - before : 0;
}

/* Adds the difference now - before to m. */
static void
minute_add(struct minute *m, const struct stats_counters *now, const struct stats_counters *before)
{
	m->udp += delta(now->udp, before->udp);
	m->tcp += delta(now->tcp, before->tcp);
	for (size_t i = 0; i < STATS_RCODES; i++) {
		m->rcode[i] += delta(now->rcode[i], before->rcode[i]);
	}
}

static int64_t
mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

/* Second s of the series, NULL when it was never merged (the recorder's thread stalled). */
static const struct second *
second_at(const struct stats_recorder *r, int64_t s)
{
	const struct second *x = &r->sec[(uint64_t)s % SECONDS];
	return x->s == s && s >= r->first ? x : NULL;
}

/* The minute (completed or current) that unix second t belongs to; NULL if not kept. */
static struct minute *
minute_of(struct stats_recorder *r, int64_t t)
{
	int64_t start = t - t % 60;
	if (r->cur.t == start) {
		return &r->cur;
	}
	for (size_t i = r->nmin; i-- > 0;) {
		struct minute *m = &r->min[(r->min_head + i) % MINUTES];
		if (m->t == start) {
			return m;
		}
	}
	return NULL;
}

/*
 * Merges the workers' seconds that may still change (the last STATS_SEC_LIVE, up to now) into
 * the series, then moves the seconds that can no longer change into their minute.  Each query
 * counts in the second it arrived, whichever tick reads it.
 */
static void
merge(struct stats_recorder *r, int64_t now)
{
	int64_t from = now - STATS_SEC_LIVE;
	from = from > r->first ? from : r->first;
	for (int64_t s = from; s <= now; s++) {
		struct second sum = { .s = s };
		bool ok = true;
		for (unsigned w = 0; ok && w < r->nworkers; w++) {
			uint64_t n[STATS_SERIES];
			if (r->sw[w] == NULL) {
				continue;
			}
			ok = stats_worker_second(r->sw[w], s, n);
			for (size_t i = 0; i < STATS_SERIES; i++) {
				sum.n[i] += n[i];
			}
		}
		if (ok) {
			r->sec[(uint64_t)s % SECONDS] = sum;
		}
	}
	if (from - 1 - r->frozen > SECONDS) {
		r->frozen = from - 1 - SECONDS;
	}
	for (int64_t s = r->frozen + 1; s < from; s++) {
		const struct second *x = second_at(r, s);
		struct minute *m = x != NULL ? minute_of(r, s + r->off) : NULL;
		for (size_t i = 0; m != NULL && i < STATS_SERIES; i++) {
			m->n[i] += x->n[i];
		}
		r->frozen = s;
	}
}

static void
push_minute(struct stats_recorder *r, const struct minute *m)
{
	size_t slot = (r->min_head + r->nmin) % MINUTES;
	if (r->nmin == MINUTES) {
		r->min_head = (r->min_head + 1) % MINUTES;
	} else {
		r->nmin++;
	}
	r->min[slot] = *m;
}

/* The workers' latency histograms summed, as they are now. */
static void
lat_now(const struct stats_recorder *r, struct lat_snap *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned w = 0; w < r->nworkers; w++) {
		if (r->sw[w] == NULL) {
			continue;
		}
		for (size_t b = 0; b < STATS_LAT_BUCKETS; b++) {
			out->b[b] += atomic_load_explicit(&r->sw[w]->lat[b], memory_order_relaxed);
		}
	}
}

static void
push_lat(struct stats_recorder *r)
{
	size_t slot = (r->lat_head + r->nlat) % (LAT_WINDOW + 1);
	if (r->nlat == LAT_WINDOW + 1) {
		r->lat_head = (r->lat_head + 1) % (LAT_WINDOW + 1);
	} else {
		r->nlat++;
	}
	lat_now(r, &r->lat[slot]);
}

/* Starts the minute that unix second t belongs to, if it is not the current one. */
static void
roll_minute(struct stats_recorder *r, int64_t t)
{
	int64_t start = t - t % 60;
	if (start != r->cur.t) {
		if (r->cur.t != 0) {
			push_minute(r, &r->cur);
		}
		memset(&r->cur, 0, sizeof(r->cur));
		r->cur.t = start;
	}
}

/* One sample at monotonic second now: counters into the minute, workers' seconds merged. */
static void
sample(struct stats_recorder *r, int64_t now_mono)
{
	int64_t t = now_mono + r->off;
	struct stats_counters now;
	memset(&now, 0, sizeof(now));
	r->src.totals(r->src.arg, &now);
	roll_minute(r, t);
	minute_add(&r->cur, &now, &r->last);
	merge(r, now_mono);
	r->last = now;
	push_lat(r);
	if (t - r->top_epoch >= TOP_DECAY) {
		/* Old heavy hitters fade: what counted an hour ago counts half. */
		for (size_t i = 0; i < TOP_WHATS; i++) {
			stats_top_halve(r->top.t[i]);
		}
		r->top_epoch = t;
	}
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	sample(arg, mono_now());
}

/* ------------------------------------------------------------------------------------------ */
/* Entries as JSON                                                                              */


/* The kinds of answer (enum stats_kind), then the rest of the per-second series. */
static const char *const series_names[STATS_SERIES] = {
	[STATS_KIND_AUTHORITATIVE] = "authoritative",
	[STATS_KIND_CACHED] = "cached",
	[STATS_KIND_FORWARDED] = "forwarded",
	[STATS_KIND_RECURSIVE] = "recursive",
	[STATS_KIND_BLOCKED] = "blocked",
	[STATS_SERIES_FAILED] = "failed",
	[STATS_SERIES_DROPPED] = "dropped",
};

static const char *const transport_names[STATS_TRANSPORTS] = {
	[STATS_TRANSPORT_UDP] = "udp",
	[STATS_TRANSPORT_TCP] = "tcp",
	[STATS_TRANSPORT_DOT] = "dot",
	[STATS_TRANSPORT_DOH] = "doh",
};

static const char *
addr_text(int family, const uint8_t *addr, char *buf, size_t len)
{
	if (family != AF_INET && family != AF_INET6) {
		return "-";
	}
	if (inet_ntop(family, addr, buf, (socklen_t)len) == NULL) {
		return "?";
	}
	return buf;
}

static const char *
qname_text(const uint8_t *qname, size_t len, char *buf, size_t cap)
{
	if (len == 0 || dns_name_check(qname, len) != (int)len ||
	    dns_name_to_text(qname, buf, cap) < 0) {
		return "";
	}
	return buf;
}

/* A name of a block note as a JSON string (bytes from a list may not be UTF-8), or null. */
static json_t *
note_string(const uint8_t *p, size_t len)
{
	if (len == 0) {
		return json_null();
	}
	char buf[STATS_QBLOCK_MAX + 1];
	for (size_t i = 0; i < len; i++) {
		buf[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
	}
	buf[len] = '\0';
	return json_string(buf);
}

/* Adds "block" to the JSON entry o from the block note of e (its EDE is e->ede already). */
static void
block_note_json(json_t *o, const struct stats_qentry *e)
{
	if (o == NULL || e->block_len < STATS_QBLOCK_HEAD) {
		return;
	}
	const uint8_t *n = e->qname + e->qname_len;
	uint32_t line = tdns_get32(n + 2);
	size_t glen = n[6] <= e->block_len - STATS_QBLOCK_HEAD ? n[6] : 0;
	size_t llen = e->block_len - STATS_QBLOCK_HEAD - glen;
	json_object_set_new(o, "block", json_pack("{s:o, s:o, s:o}",
						  "list", note_string(n + 7 + glen, llen),
						  "line", line > 0 ? json_integer(line) : json_null(),
						  "group", note_string(n + 7, glen)));
}

static json_t *
qentry_json(const struct stats_qentry *e)
{
	char addr[INET6_ADDRSTRLEN], name[DNS_NAME_TEXT_MAX], type[16], rcode[16];
	json_t *j = json_pack("{s:s, s:f, s:s, s:s, s:s, s:s, s:s, s:s, s:f}",
			      "type", "query",
			      "t", e->t,
			      "client", addr_text(e->family, e->addr, addr, sizeof(addr)),
			      "name", qname_text(e->qname, e->qname_len, name, sizeof(name)),
			      "qtype", dns_type_to_text(e->qtype, type),
			      "rcode", dns_rcode_to_text(e->rcode, rcode),
			      "kind", e->kind < STATS_KINDS ? series_names[e->kind] : "?",
			      "transport", e->transport < STATS_TRANSPORTS
						   ? transport_names[e->transport] : "?",
			      "ms", (double)e->ms);
	if (j != NULL && e->ede >= 0) {
		json_object_set_new(j, "ede", json_integer(e->ede)); /* issue 16 */
	}
	block_note_json(j, e);
	return j;
}

static json_t *
sentry_json(const struct stats_sentry *e)
{
	const char *level = tdns_log_level_name(e->level);
	/* Log lines may quote bytes from the network; jansson wants UTF-8. */
	json_t *msg = json_string(e->msg);
	if (msg == NULL) {
		char clean[STATS_SLOG_MSG];
		size_t i = 0;
		for (; e->msg[i] != '\0' && i + 1 < sizeof(clean); i++) {
			unsigned char ch = (unsigned char)e->msg[i];
			clean[i] = ch < 0x80 ? (char)ch : '?';
		}
		clean[i] = '\0';
		msg = json_string(clean);
	}
	return json_pack("{s:s, s:f, s:s, s:o}", "type", "server", "t", e->t, "level", level,
			 "message", msg);
}

static int
by_time(const void *a, const void *b)
{
	double x = json_real_value(json_object_get(*(json_t *const *)a, "t"));
	double y = json_real_value(json_object_get(*(json_t *const *)b, "t"));
	return x < y ? -1 : x > y ? 1 : 0;
}

/* Sorts the array of entries by time, oldest first (stable enough: equal times are rare). */
static void
sort_entries(json_t *arr)
{
	size_t n = json_array_size(arr);
	if (n < 2) {
		return;
	}
	json_t **v = malloc(n * sizeof(*v));
	if (v == NULL) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		v[i] = json_incref(json_array_get(arr, i));
	}
	qsort(v, n, sizeof(*v), by_time);
	json_array_clear(arr);
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(arr, v[i]);
	}
	free(v);
}

/* ------------------------------------------------------------------------------------------ */
/* Draining the rings                                                                           */

/* Allocates the sketches of set, each holding 1 >> shift of the all-time ones. */
static bool
top_set_init(struct top_set *set, unsigned shift)
{
	bool ok = true;
	for (size_t i = 0; i < TOP_WHATS; i++) {
		set->t[i] = stats_top_new(top_shape[i].cap >> shift, top_shape[i].keymax);
		ok = ok && set->t[i] != NULL;
	}
	return ok;
}

static void
top_set_fini(struct top_set *set)
{
	for (size_t i = 0; i < TOP_WHATS; i++) {
		stats_top_free(set->t[i]);
	}
}

static bool
top_ring_init(struct top_ring *ring, int64_t span, size_t n)
{
	ring->span = span;
	ring->n = n;
	ring->last_t = INT64_MIN;
	ring->slot = calloc(n, sizeof(*ring->slot));
	bool ok = ring->slot != NULL;
	for (size_t i = 0; ok && i < n; i++) {
		ok = top_set_init(&ring->slot[i], TOP_SLOT_SHIFT);
	}
	return ok;
}

static void
top_ring_fini(struct top_ring *ring)
{
	for (size_t i = 0; ring->slot != NULL && i < ring->n; i++) {
		top_set_fini(&ring->slot[i]);
	}
	free(ring->slot);
}

/* The slot of ring for unix time t, emptied if it held an older slot; NULL if t is too old. */
static struct top_set *
top_ring_slot(struct top_ring *ring, int64_t t)
{
	/* Entries come in runs of one second: the divisions once per run. */
	if (t == ring->last_t) {
		return ring->last;
	}
	int64_t start = t - t % ring->span;
	struct top_set *set = &ring->slot[(uint64_t)(start / ring->span) % ring->n];
	if (set->start > start) {
		set = NULL;
	} else if (set->start < start) {
		for (size_t i = 0; i < TOP_WHATS; i++) {
			stats_top_clear(set->t[i]);
		}
		set->start = start;
	}
	ring->last_t = t;
	ring->last = set;
	return set;
}

/* Counts one entry in the sketches since start and in its slot of each ring. */
static void
top_count(struct stats_recorder *r, const struct stats_qentry *e)
{
	struct top_set *sets[] = { &r->top, top_ring_slot(&r->fine, (int64_t)e->t),
				   top_ring_slot(&r->coarse, (int64_t)e->t) };
	uint8_t key[STATS_TOP_KEY_MAX];
	bool blocked = e->kind == STATS_KIND_BLOCKED;
	/* Each key is hashed once for the three sets (their sketches share keymax). */
	if (e->family == AF_INET || e->family == AF_INET6) {
		key[0] = e->family;
		size_t alen = e->family == AF_INET ? 4 : 16;
		memcpy(key + 1, e->addr, alen);
		uint64_t h = stats_top_hash(key, 1 + alen);
		for (size_t i = 0; i < 3; i++) {
			if (sets[i] == NULL) {
				continue;
			}
			stats_top_add_hashed(sets[i]->t[TOP_CLIENT], key, 1 + alen, h, 1);
			if (blocked) {
				stats_top_add_hashed(sets[i]->t[TOP_BLOCKED_CLIENT], key, 1 + alen, h,
						     1);
			}
		}
	}
	if (e->qname_len == 0) {
		return;
	}
	/* Names count case-insensitively (RFC 4343): www.Example.com is www.example.com. */
	memcpy(key, e->qname, e->qname_len);
	for (size_t i = 0; i < e->qname_len; i++) {
		if (key[i] >= 'A' && key[i] <= 'Z') {
			key[i] = (uint8_t)(key[i] - 'A' + 'a');
		}
	}
	tdns_put16(key + e->qname_len, e->qtype);
	uint64_t hn = stats_top_hash(key, e->qname_len + 2u);
	uint64_t hb = blocked ? stats_top_hash(key, e->qname_len) : 0;
	for (size_t i = 0; i < 3; i++) {
		if (sets[i] == NULL) {
			continue;
		}
		if (blocked) {
			stats_top_add_hashed(sets[i]->t[TOP_BLOCKED_NAME], key, e->qname_len, hb,
					     1);
		}
		stats_top_add_hashed(sets[i]->t[TOP_NAME], key, e->qname_len + 2u, hn, 1);
	}
}

/* Passes entry to f, after the "dropped" notice it is owed. */
static void
deliver(struct stats_follower *f, json_t *entry)
{
	if (f->dropped > 0) {
		json_t *d = json_pack("{s:s, s:I}", "type", "dropped", "count",
				      (json_int_t)f->dropped);
		bool ok = d != NULL && f->fn(f->arg, d);
		json_decref(d);
		if (!ok) {
			f->dropped++;
			return;
		}
		f->dropped = 0;
	}
	if (!f->fn(f->arg, entry)) {
		f->dropped++;
	}
}

/*
 * Reads what the workers wrote since the last drain into the sketches and, when somebody
 * follows, to the followers in time order.
 */
static void
drain(struct stats_recorder *r)
{
	bool fq = false, fs = false;
	struct stats_follower *f;
	TAILQ_FOREACH(f, &r->followers, link) {
		fq |= f->queries;
		fs |= f->server;
	}
	json_t *batch = fq || fs ? json_array() : NULL;
	uint64_t lost = 0;
	for (unsigned w = 0; w < r->nworkers; w++) {
		if (r->sw[w] == NULL) {
			continue;
		}
		size_t n;
		while ((n = stats_qring_read(r->sw[w]->ring, &r->cursor[w], r->chunk, DRAIN_CHUNK,
					     &lost)) > 0) {
			for (size_t i = 0; i < n; i++) {
				top_count(r, &r->chunk[i]);
				if (fq && batch != NULL) {
					json_array_append_new(batch, qentry_json(&r->chunk[i]));
				}
			}
		}
	}
	r->lost += lost;
	struct stats_slog *sl = stats_slog_global();
	if (sl != NULL && fs && batch != NULL) {
		struct stats_sentry line;
		while (stats_slog_read(sl, &r->slog_cursor, &line, 1, NULL) == 1) {
			json_array_append_new(batch, sentry_json(&line));
		}
	} else if (sl != NULL) {
		r->slog_cursor = stats_slog_head(sl);
	}
	if (batch == NULL) {
		return;
	}
	sort_entries(batch);
	TAILQ_FOREACH(f, &r->followers, link) {
		if (f->queries) {
			f->dropped += lost;
		}
		size_t i;
		json_t *e;
		json_array_foreach(batch, i, e) {
			const char *type = json_string_value(json_object_get(e, "type"));
			bool q = type != NULL && strcmp(type, "query") == 0;
			if (((q && f->queries) || (!q && f->server)) &&
			    stats_log_filter_match(&f->filter, e)) {
				deliver(f, e);
			}
		}
	}
	json_decref(batch);
}

static void
drain_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	drain(arg);
}

/* ------------------------------------------------------------------------------------------ */
/* The recorder                                                                                 */

struct stats_recorder *
stats_recorder_new(struct event_base *base, const struct stats_source *src)
{
	struct stats_recorder *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		return NULL;
	}
	TAILQ_INIT(&r->followers);
	r->src = *src;
	(void)stats_slog_capture();
	r->nworkers = src->nworkers;
	r->sw = calloc(r->nworkers ? r->nworkers : 1, sizeof(*r->sw));
	r->cursor = calloc(r->nworkers ? r->nworkers : 1, sizeof(*r->cursor));
	r->chunk = calloc(DRAIN_CHUNK, sizeof(*r->chunk));
	bool tops = top_set_init(&r->top, 0);
	tops = top_ring_init(&r->fine, TOP_FINE_SPAN, TOP_FINE_SLOTS) && tops;
	tops = top_ring_init(&r->coarse, TOP_COARSE_SPAN, TOP_COARSE_SLOTS) && tops;
	if (r->sw == NULL || r->cursor == NULL || r->chunk == NULL || !tops) {
		stats_recorder_free(r);
		return NULL;
	}
	for (unsigned w = 0; w < r->nworkers; w++) {
		r->sw[w] = src->worker(src->arg, w);
	}
	struct stats_slog *sl = stats_slog_global();
	r->slog_cursor = sl != NULL ? stats_slog_head(sl) : 0;
	/* Counting starts now: what the workers counted before is the first minute's base. */
	src->totals(src->arg, &r->last);
	struct timespec real, mono;
	clock_gettime(CLOCK_REALTIME, &real);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	r->first = (int64_t)mono.tv_sec;
	r->frozen = r->first - 1;
	r->off = (int64_t)real.tv_sec - r->first + (real.tv_nsec >= mono.tv_nsec ? 0 : -1);
	int64_t t = r->first + r->off;
	r->cur.t = t - t % 60;
	r->top_epoch = t;
	push_lat(r);
	r->timer = event_new(base, -1, EV_PERSIST, timer_cb, r);
	r->drain_timer = event_new(base, -1, EV_PERSIST, drain_cb, r);
	const struct timeval second = { .tv_sec = 1 };
	const struct timeval drain_tv = { .tv_usec = DRAIN_MS * 1000 };
	if (r->timer == NULL || event_add(r->timer, &second) != 0 || r->drain_timer == NULL ||
	    event_add(r->drain_timer, &drain_tv) != 0) {
		stats_recorder_free(r);
		return NULL;
	}
	current = r;
	return r;
}

void
stats_recorder_free(struct stats_recorder *r)
{
	if (r == NULL) {
		return;
	}
	if (current == r) {
		current = NULL;
	}
	struct stats_follower *f;
	while ((f = TAILQ_FIRST(&r->followers)) != NULL) {
		TAILQ_REMOVE(&r->followers, f, link);
		f->fn(f->arg, NULL);
		free(f);
	}
	if (r->timer != NULL) {
		event_free(r->timer);
	}
	if (r->drain_timer != NULL) {
		event_free(r->drain_timer);
	}
	top_set_fini(&r->top);
	top_ring_fini(&r->fine);
	top_ring_fini(&r->coarse);
	free(r->chunk);
	free(r->cursor);
	free(r->sw);
	free(r);
}

struct stats_recorder *
stats_recorder_get(void)
{
	return current;
}

double
stats_recorder_qps(const struct stats_recorder *r)
{
	/* The complete seconds only: the current one has just begun. */
	int64_t now = mono_now();
	int64_t from = now - QPS_WINDOW > r->first ? now - QPS_WINDOW : r->first;
	if (from >= now) {
		return 0.0;
	}
	uint64_t sum = 0;
	for (int64_t s = from; s < now; s++) {
		const struct second *x = second_at(r, s);
		for (size_t i = 0; x != NULL && i < STATS_SERIES; i++) {
			sum += x->n[i];
		}
	}
	return (double)sum / (double)(now - from);
}

/*
 * {"NOERROR": n, ...} for the nonzero counters v[0..n-1], indexed by rcode (or by qtype when
 * !rcodes); the last counts all the others, as "other".
 */
static json_t *
counters_json(const uint64_t *v, int n, bool rcodes)
{
	json_t *o = json_object();
	for (int i = 0; i < n; i++) {
		if (v[i] == 0) {
			continue;
		}
		char buf[16];
		const char *name = "other";
		if (i < n - 1) {
			name = rcodes ? dns_rcode_to_text(i, buf)
				      : dns_type_to_text((uint16_t)i, buf);
		}
		json_object_set_new(o, name, json_integer((json_int_t)v[i]));
	}
	return o;
}

/* {"t": t, "queries": sum, "authoritative": n, ..., "failed": n, "dropped": n} */
static json_t *
series_json(int64_t t, const uint64_t *n)
{
	uint64_t sum = 0;
	for (size_t i = 0; i < STATS_SERIES; i++) {
		sum += n[i];
	}
	json_t *o = json_pack("{s:I, s:I}", "t", (json_int_t)t, "queries", (json_int_t)sum);
	for (size_t i = 0; i < STATS_SERIES; i++) {
		json_object_set_new(o, series_names[i], json_integer((json_int_t)n[i]));
	}
	return o;
}

static json_t *
minute_json(const struct minute *m)
{
	json_t *o = series_json(m->t, m->n);
	json_object_set_new(o, "udp", json_integer((json_int_t)m->udp));
	json_object_set_new(o, "tcp", json_integer((json_int_t)m->tcp));
	json_object_set_new(o, "rcodes", counters_json(m->rcode, STATS_RCODES, true));
	return o;
}

/* The kinds of the snapshot c: the same moment as its queries and dropped. */
static json_t *
kinds_json(const struct stats_counters *c)
{
	json_t *o = json_object();
	for (size_t k = 0; k < STATS_KINDS; k++) {
		json_object_set_new(o, series_names[k], json_integer((json_int_t)c->kind[k]));
	}
	json_object_set_new(o, "nxdomain", json_integer((json_int_t)c->nxdomain));
	json_object_set_new(o, "servfail", json_integer((json_int_t)c->servfail));
	json_object_set_new(o, "refused", json_integer((json_int_t)c->refused));
	return o;
}

/* p50, p90, p99 of what the workers measured since the oldest snapshot (about a minute). */
static json_t *
latency_json(const struct stats_recorder *r)
{
	struct lat_snap now;
	lat_now(r, &now);
	const struct lat_snap *old = r->nlat > 0 ? &r->lat[r->lat_head] : NULL;
	uint64_t d[STATS_LAT_BUCKETS], total = 0;
	for (size_t b = 0; b < STATS_LAT_BUCKETS; b++) {
		d[b] = delta(now.b[b], old != NULL ? old->b[b] : 0);
		total += d[b];
	}
	static const double ps[] = { 0.50, 0.90, 0.99 };
	static const char *const names[] = { "p50", "p90", "p99" };
	json_t *o = json_object();
	for (size_t i = 0; i < 3; i++) {
		double v = 0.0;
		if (total > 0) {
			/* The smallest bucket below which at least p of the samples lie. */
			uint64_t want = (uint64_t)(ps[i] * (double)total + 0.999999);
			uint64_t seen = 0;
			for (unsigned b = 0; b < STATS_LAT_BUCKETS; b++) {
				seen += d[b];
				if (seen >= want) {
					v = stats_lat_value(b);
					break;
				}
			}
		}
		json_object_set_new(o, names[i], json_real(v));
	}
	json_object_set_new(o, "samples", json_integer((json_int_t)total));
	return o;
}

json_t *
stats_recorder_json(struct stats_recorder *r)
{
	/* One snapshot for every figure: each worker copies its counters at one moment. */
	if (r->src.refresh != NULL) {
		r->src.refresh(r->src.arg);
	}
	struct stats_counters now;
	memset(&now, 0, sizeof(now));
	r->src.totals(r->src.arg, &now);

	json_t *totals = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I,"
				   " s:I, s:I, s:I, s:I, s:f}",
				   "queries", (json_int_t)now.queries,
				   "udp", (json_int_t)now.udp,
				   "tcp", (json_int_t)now.tcp,
				   "dot", (json_int_t)now.dot,
				   "doh", (json_int_t)now.doh,
				   "tls_accepted", (json_int_t)now.tls_accepted,
				   "tls_failed", (json_int_t)now.tls_failed,
				   "http_errors", (json_int_t)now.http_errors,
				   "dropped", (json_int_t)now.dropped,
				   "truncated", (json_int_t)now.truncated,
				   "tcp_accepted", (json_int_t)now.tcp_accepted,
				   "tcp_refused", (json_int_t)now.tcp_refused,
				   "tcp_evicted", (json_int_t)now.tcp_evicted,
				   "outstanding", (json_int_t)now.outstanding,
				   "jostled", (json_int_t)now.jostled,
				   "busy_refused", (json_int_t)now.busy_refused,
				   "qps", stats_recorder_qps(r));
	int64_t mono = mono_now();
	/*
	 * A minute may have begun since the last sample (or, right after start, since the recorder
	 * was made): its seconds need their own entry, not to be lost for want of one.
	 */
	roll_minute(r, mono + r->off);
	merge(r, mono);
	/* Complete seconds only: the current one would show a fraction of the rate. */
	json_t *per_second = json_array();
	int64_t from = mono - SECONDS > r->first ? mono - SECONDS : r->first;
	for (int64_t s = from; s < mono; s++) {
		static const uint64_t zero[STATS_SERIES];
		const struct second *x = second_at(r, s);
		json_array_append_new(per_second, series_json(s + r->off, x != NULL ? x->n : zero));
	}
	/*
	 * The minutes with the seconds not yet final added, and the current minute with what was
	 * counted since the last sample, so that the series adds up to the last hour's totals.
	 */
	struct minute mins[MINUTES + 1];
	size_t nm = 0;
	for (size_t i = 0; i < r->nmin; i++) {
		mins[nm++] = r->min[(r->min_head + i) % MINUTES];
	}
	mins[nm] = r->cur;
	minute_add(&mins[nm++], &now, &r->last);
	for (int64_t s = r->frozen + 1; s <= mono; s++) {
		const struct second *x = second_at(r, s);
		int64_t start = (s + r->off) - (s + r->off) % 60;
		for (size_t i = nm; x != NULL && i-- > 0;) {
			if (mins[i].t != start) {
				continue;
			}
			for (size_t k = 0; k < STATS_SERIES; k++) {
				mins[i].n[k] += x->n[k];
			}
			break;
		}
	}
	json_t *per_minute = json_array();
	for (size_t i = 0; i < nm; i++) {
		json_array_append_new(per_minute, minute_json(&mins[i]));
	}

	json_t *doc = json_pack("{s:o, s:o, s:o, s:{s:I, s:I, s:I, s:I}, s:o, s:o, s:o, s:o}",
			 "totals", totals,
			 "rcodes", counters_json(now.rcode, STATS_RCODES, true),
			 "qtypes", counters_json(now.qtype, STATS_QTYPES, false),
			 "transports", "udp", (json_int_t)now.udp, "tcp", (json_int_t)now.tcp,
			 "dot", (json_int_t)now.dot, "doh", (json_int_t)now.doh,
			 "kinds", kinds_json(&now),
			 "latency_ms", latency_json(r),
			 "per_second", per_second,
			 "per_minute", per_minute);
	if (doc != NULL) {
		json_object_set_new(doc, "dnssec", stats_dnssec_json()); /* issue 16 */
	}
	return doc;
}

/* ------------------------------------------------------------------------------------------ */
/* Top lists and logs                                                                           */

static json_t *
top_list_json(const struct stats_top *t, size_t count, enum top_what what)
{
	json_t *arr = json_array();
	struct stats_top_item *items = count > 0 ? malloc(count * sizeof(*items)) : NULL;
	if (arr == NULL || items == NULL) {
		free(items);
		return arr;
	}
	size_t n = stats_top_list(t, items, count);
	for (size_t i = 0; i < n; i++) {
		const struct stats_top_item *it = &items[i];
		char text[DNS_NAME_TEXT_MAX + 24];
		char addr[INET6_ADDRSTRLEN];
		if (what == TOP_CLIENT || what == TOP_BLOCKED_CLIENT) {
			int family = it->key[0];
			snprintf(text, sizeof(text), "%s",
				 addr_text(family, it->key + 1, addr, sizeof(addr)));
		} else {
			size_t nlen = it->keylen;
			if (what == TOP_NAME && nlen >= 2) {
				nlen -= 2; /* the qtype after the name */
			}
			char name[DNS_NAME_TEXT_MAX];
			const char *ntext = qname_text(it->key, nlen, name, sizeof(name));
			if (what == TOP_NAME) {
				char type[16];
				snprintf(text, sizeof(text), "%s %s", ntext,
					 dns_type_to_text(tdns_get16(it->key + nlen), type));
			} else {
				snprintf(text, sizeof(text), "%s", ntext);
			}
		}
		json_array_append_new(arr, json_pack("{s:s, s:I, s:I}", "key", text, "count",
						     (json_int_t)it->count, "error",
						     (json_int_t)it->error));
	}
	free(items);
	return arr;
}

/*
 * Adds every slot of ring that overlaps the last range seconds before now into out (sketches
 * of the all-time shape); returns the seconds they cover.
 */
static int64_t
top_merge(const struct top_ring *ring, int64_t now, int64_t range, struct top_set *out)
{
	int64_t oldest = now;
	size_t max = top_shape[TOP_NAME].cap;
	struct stats_top_item *items = malloc(max * sizeof(*items));
	for (size_t s = 0; items != NULL && s < ring->n; s++) {
		const struct top_set *set = &ring->slot[s];
		if (set->start == 0 || set->start + ring->span <= now - range || set->start > now) {
			continue;
		}
		oldest = set->start < oldest ? set->start : oldest;
		for (size_t i = 0; i < TOP_WHATS; i++) {
			size_t n = stats_top_list(set->t[i], items, max);
			for (size_t k = 0; k < n; k++) {
				stats_top_add(out->t[i], items[k].key, items[k].keylen,
					      items[k].count);
			}
		}
	}
	free(items);
	return now - oldest;
}

json_t *
stats_recorder_top_json(struct stats_recorder *r, size_t count, int64_t range)
{
	drain(r);
	struct top_set merged = { 0 };
	const struct top_set *set = &r->top;
	char window[96] = "since start, counts halved every hour";
	int64_t covered = -1;
	if (range > 0) {
		if (!top_set_init(&merged, 0)) {
			top_set_fini(&merged);
			return NULL;
		}
		int64_t now = (int64_t)time(NULL);
		const struct top_ring *ring = range <= TOP_FINE_SPAN * (TOP_FINE_SLOTS - 1)
						      ? &r->fine : &r->coarse;
		covered = top_merge(ring, now, range, &merged);
		snprintf(window, sizeof(window), "last %lld s (slots of %lld s)", (long long)range,
			 (long long)ring->span);
		set = &merged;
	}
	json_t *o = json_pack("{s:o, s:o, s:o, s:o, s:s, s:I, s:I}",
			      "clients", top_list_json(set->t[TOP_CLIENT], count, TOP_CLIENT),
			      "names", top_list_json(set->t[TOP_NAME], count, TOP_NAME),
			      "blocked", top_list_json(set->t[TOP_BLOCKED_NAME], count,
						       TOP_BLOCKED_NAME),
			      "blocked_clients", top_list_json(set->t[TOP_BLOCKED_CLIENT], count,
							       TOP_BLOCKED_CLIENT),
			      "window", window,
			      "total", (json_int_t)stats_top_total(set->t[TOP_NAME]),
			      "lost", (json_int_t)r->lost);
	if (o != NULL && range > 0) {
		json_object_set_new(o, "range_seconds", json_integer((json_int_t)range));
		json_object_set_new(o, "covered_seconds", json_integer((json_int_t)covered));
	}
	top_set_fini(&merged);
	return o;
}

json_t *
stats_recorder_log_json(struct stats_recorder *r, size_t count, bool queries, bool server,
			const struct stats_log_filter *filter)
{
	bool narrow = stats_log_filter_active(filter);
	server = server && !narrow;
	if (count > LOG_SHOW_MAX) {
		count = LOG_SHOW_MAX;
	}
	json_t *entries = json_array();
	if (entries == NULL) {
		return NULL;
	}
	if (queries && count > 0) {
		/* A filter looks through each worker's whole ring for the count it passes. */
		size_t want = narrow ? STATS_QLOG_ENTRIES : count;
		struct stats_qentry *buf = malloc(want * sizeof(*buf));
		for (unsigned w = 0; buf != NULL && w < r->nworkers; w++) {
			if (r->sw[w] == NULL) {
				continue;
			}
			uint64_t head = stats_qring_head(r->sw[w]->ring);
			uint64_t from = head > want ? head - want : 0;
			size_t n = stats_qring_read(r->sw[w]->ring, &from, buf, want, NULL);
			for (size_t i = 0; i < n; i++) {
				json_t *e = qentry_json(&buf[i]);
				if (stats_log_filter_match(filter, e)) {
					json_array_append(entries, e);
				}
				json_decref(e);
			}
		}
		free(buf);
	}
	struct stats_slog *sl = stats_slog_global();
	if (server && sl != NULL && count > 0) {
		struct stats_sentry *buf = malloc(count * sizeof(*buf));
		uint64_t head = stats_slog_head(sl);
		uint64_t from = head > count ? head - count : 0;
		size_t n = buf != NULL ? stats_slog_read(sl, &from, buf, count, NULL) : 0;
		for (size_t i = 0; i < n; i++) {
			json_array_append_new(entries, sentry_json(&buf[i]));
		}
		free(buf);
	}
	sort_entries(entries);
	/* The most recent count of what the rings held, still oldest first. */
	size_t n = json_array_size(entries);
	if (n > count) {
		json_t *tail = json_array();
		for (size_t i = n - count; i < n; i++) {
			json_array_append(tail, json_array_get(entries, i));
		}
		json_decref(entries);
		entries = tail;
	}
	return json_pack("{s:o}", "entries", entries);
}

struct stats_follower *
stats_recorder_follow(struct stats_recorder *r, bool queries, bool server,
		      const struct stats_log_filter *filter, stats_follow_fn fn, void *arg)
{
	struct stats_follower *f = calloc(1, sizeof(*f));
	if (f == NULL) {
		return NULL;
	}
	/* Followers see what happens from now on; what is in the rings already is old news. */
	drain(r);
	f->queries = queries;
	f->server = server;
	f->fn = fn;
	f->arg = arg;
	if (filter != NULL) {
		f->filter = *filter;
	}
	TAILQ_INSERT_TAIL(&r->followers, f, link);
	return f;
}

void
stats_recorder_unfollow(struct stats_recorder *r, struct stats_follower *f)
{
	if (f == NULL) {
		return;
	}
	TAILQ_REMOVE(&r->followers, f, link);
	free(f);
}
