/* SPDX-License-Identifier: MIT */
/* stats: samples the workers' counters once a second into per-second and per-minute rings. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "dns/dns.h"
#include "net/net.h"
#include "stats/stats.h"

#define SECONDS 300               /* per-second series: the last 5 minutes */
#define MINUTES 60                /* per-minute series: the last hour */
#define QPS_WINDOW 10             /* seconds averaged by stats_recorder_qps */

struct second {
	int64_t t;
	uint64_t queries;
};

struct minute {
	int64_t t;                /* start of the minute */
	uint64_t queries;
	uint64_t udp;
	uint64_t tcp;
	uint64_t rcode[NET_STATS_RCODES];
};

struct stats_recorder {
	struct net_server *srv;
	struct event *timer;
	struct net_stats last;    /* totals at the last sample */
	struct second sec[SECONDS]; /* ring: sec[(sec_head + i) % SECONDS], i < nsec */
	size_t sec_head, nsec;
	struct minute min[MINUTES]; /* ring of completed minutes, likewise */
	size_t min_head, nmin;
	struct minute cur;        /* the minute being filled */
};

static uint64_t
delta(uint64_t now, uint64_t before)
{
	/* Counters only grow; a smaller value would be a bug, not a negative rate. */
	return now > before ? now - before : 0;
}

/* Adds the difference now - before to m. */
static void
minute_add(struct minute *m, const struct net_stats *now, const struct net_stats *before)
{
	m->queries += delta(now->queries, before->queries);
	m->udp += delta(now->udp, before->udp);
	m->tcp += delta(now->tcp, before->tcp);
	for (size_t i = 0; i < NET_STATS_RCODES; i++) {
		m->rcode[i] += delta(now->rcode[i], before->rcode[i]);
	}
}

static void
push_second(struct stats_recorder *r, int64_t t, uint64_t queries)
{
	size_t slot = (r->sec_head + r->nsec) % SECONDS;
	if (r->nsec == SECONDS) {
		r->sec_head = (r->sec_head + 1) % SECONDS;
	} else {
		r->nsec++;
	}
	r->sec[slot].t = t;
	r->sec[slot].queries = queries;
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

/* One sample: the delta since the previous one goes to the rings. */
static void
sample(struct stats_recorder *r, int64_t t)
{
	struct net_stats now;
	memset(&now, 0, sizeof(now));
	net_server_stats(r->srv, &now);
	int64_t start = t - t % 60;
	if (start != r->cur.t) {
		if (r->cur.t != 0) {
			push_minute(r, &r->cur);
		}
		memset(&r->cur, 0, sizeof(r->cur));
		r->cur.t = start;
	}
	push_second(r, t, delta(now.queries, r->last.queries));
	minute_add(&r->cur, &now, &r->last);
	r->last = now;
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	sample(arg, (int64_t)time(NULL));
}

struct stats_recorder *
stats_recorder_new(struct event_base *base, struct net_server *srv)
{
	struct stats_recorder *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		return NULL;
	}
	r->srv = srv;
	/* Counting starts now: what the workers counted before is the first minute's base. */
	net_server_stats(srv, &r->last);
	int64_t t = (int64_t)time(NULL);
	r->cur.t = t - t % 60;
	r->timer = event_new(base, -1, EV_PERSIST, timer_cb, r);
	const struct timeval second = { .tv_sec = 1 };
	if (r->timer == NULL || event_add(r->timer, &second) != 0) {
		stats_recorder_free(r);
		return NULL;
	}
	return r;
}

void
stats_recorder_free(struct stats_recorder *r)
{
	if (r == NULL) {
		return;
	}
	if (r->timer != NULL) {
		event_free(r->timer);
	}
	free(r);
}

double
stats_recorder_qps(const struct stats_recorder *r)
{
	size_t n = r->nsec < QPS_WINDOW ? r->nsec : QPS_WINDOW;
	if (n == 0) {
		return 0.0;
	}
	uint64_t sum = 0;
	for (size_t i = r->nsec - n; i < r->nsec; i++) {
		sum += r->sec[(r->sec_head + i) % SECONDS].queries;
	}
	return (double)sum / (double)n;
}

/* {"NOERROR": n, ...} for the nonzero rcode counters. */
static json_t *
rcodes_json(const uint64_t *rcode)
{
	json_t *o = json_object();
	for (int i = 0; i < NET_STATS_RCODES; i++) {
		if (rcode[i] == 0) {
			continue;
		}
		char buf[16];
		const char *name = i == NET_STATS_RCODES - 1 ? "other" : dns_rcode_to_text(i, buf);
		json_object_set_new(o, name, json_integer((json_int_t)rcode[i]));
	}
	return o;
}

static json_t *
qtypes_json(const uint64_t *qtype)
{
	json_t *o = json_object();
	for (int i = 0; i < NET_STATS_QTYPES; i++) {
		if (qtype[i] == 0) {
			continue;
		}
		char buf[16];
		const char *name = i == NET_STATS_QTYPES - 1 ? "other"
							     : dns_type_to_text((uint16_t)i, buf);
		json_object_set_new(o, name, json_integer((json_int_t)qtype[i]));
	}
	return o;
}

static json_t *
minute_json(const struct minute *m)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:o}", "t", (json_int_t)m->t, "queries",
			 (json_int_t)m->queries, "udp", (json_int_t)m->udp, "tcp",
			 (json_int_t)m->tcp, "rcodes", rcodes_json(m->rcode));
}

json_t *
stats_recorder_json(const struct stats_recorder *r)
{
	struct net_stats now;
	memset(&now, 0, sizeof(now));
	net_server_stats(r->srv, &now);

	json_t *totals = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f}",
				   "queries", (json_int_t)now.queries,
				   "udp", (json_int_t)now.udp,
				   "tcp", (json_int_t)now.tcp,
				   "dropped", (json_int_t)now.dropped,
				   "truncated", (json_int_t)now.truncated,
				   "tcp_accepted", (json_int_t)now.tcp_accepted,
				   "tcp_refused", (json_int_t)now.tcp_refused,
				   "tcp_evicted", (json_int_t)now.tcp_evicted,
				   "qps", stats_recorder_qps(r));
	json_t *per_second = json_array();
	for (size_t i = 0; i < r->nsec; i++) {
		const struct second *s = &r->sec[(r->sec_head + i) % SECONDS];
		json_array_append_new(per_second, json_pack("{s:I, s:I}", "t", (json_int_t)s->t,
							    "queries",
							    (json_int_t)s->queries));
	}
	json_t *per_minute = json_array();
	for (size_t i = 0; i < r->nmin; i++) {
		json_array_append_new(per_minute,
				      minute_json(&r->min[(r->min_head + i) % MINUTES]));
	}
	/*
	 * The current minute, with what was counted since the last sample, so that the series
	 * adds up to the totals of the last hour at any moment.
	 */
	struct minute cur = r->cur;
	minute_add(&cur, &now, &r->last);
	json_array_append_new(per_minute, minute_json(&cur));

	return json_pack("{s:o, s:o, s:o, s:{s:I, s:I}, s:o, s:o}",
			 "totals", totals,
			 "rcodes", rcodes_json(now.rcode),
			 "qtypes", qtypes_json(now.qtype),
			 "transports", "udp", (json_int_t)now.udp, "tcp", (json_int_t)now.tcp,
			 "per_second", per_second,
			 "per_minute", per_minute);
}
