/* SPDX-License-Identifier: MIT */
/* Private to src/resolver: the iterator's per-worker state and its pure, unit-tested helpers. */
#ifndef TDNS_RESOLVER_ITER_INT_H
#define TDNS_RESOLVER_ITER_INT_H

#include <time.h>

#include "resolver/resolver.h"

/* Bounds of the work of one client query besides the [recursion] limits. */
#define ITER_MAX_NS 13        /* NS names kept per zone cut */
#define ITER_MAX_ADDR 4       /* addresses kept per NS name */
#define ITER_GLUELESS_MAX 4   /* NS names without glue resolved per referral (NXNS) */
#define ITER_CHAIN_MAX 16     /* CNAME and DNAME links followed */
#define ITER_NEST_MAX 3       /* NS address lookups inside NS address lookups */
#define ITER_MINIMISE_MAX 10  /* RFC 9156 §2.3 MAX_MINIMISE_COUNT */
#define ITER_PORT 53          /* RFC 1035 §4.2: servers found by iteration listen on 53 */

struct it_state;
struct event_base;

/* A worker's iterator on base: its requests and its infrastructure (RTT) table.  NULL on OOM. */
struct it_state *iter_state_new(struct event_base *base);

/* Ends every request (waiters get RESOLVER_SHUTDOWN) and frees s.  Accepts NULL. */
void iter_state_free(struct it_state *s);

/* resolver_iter_query on s with conf (referenced for the request); wid as for the forwarder. */
void iter_query(struct it_state *s, struct resolver_conf *conf, unsigned wid,
		const struct cache_key *k, struct cache_waiter *w);

/*
 * The next name to send under RFC 9156 §3: the ancestor of qname with one label more than
 * base (the zone cut, or the last minimised name sent), written into out.  Returns false (out
 * = qname) when base is qname already or not an ancestor of it.
 */
bool iter_min_next(const uint8_t *qname, const uint8_t *base, uint8_t *out);

/* What an answer from a server of zone means for the question (sname, stype). */
enum iter_kind {
	ITER_ANSWER,    /* data (or a CNAME/DNAME to follow) for sname in the answer section */
	ITER_REFERRAL,  /* NS records of a cut below zone, at or above sname (RFC 1034 §4.3.2) */
	ITER_NXDOMAIN,  /* the name does not exist (authoritative, or with an SOA) */
	ITER_NODATA,    /* the name exists without data of stype (RFC 2308 §2.2) */
	ITER_LAME,      /* nothing usable: not authoritative, upward referral, bad rcode */
};

/*
 * Classifies m, the answer of a server for zone to (sname, stype).  Only records in the
 * bailiwick of zone count (RFC 5452 §6): an NS set of a name outside zone, or not below it,
 * is no referral.  For ITER_REFERRAL the cut is written into cut (DNS_NAME_MAX bytes).
 */
enum iter_kind iter_classify(const struct dns_msg *m, const uint8_t *zone,
			     const uint8_t *sname, uint16_t stype, uint8_t *cut);

/*
 * True when glue (an A or AAAA record with owner) may be used for a referral to cut: its
 * owner is one of the cut's NS names and lies in the delegated zone (RFC 1034 §4.2.1 glue,
 * kept within the bailiwick of the delegation, RFC 5452 §6).
 */
bool iter_glue_ok(const uint8_t *owner, const uint8_t *cut, const uint8_t (*nsnames)[DNS_NAME_MAX],
		  size_t nns);

/* One name server of a stub zone as the iterator takes it. */
struct iter_stub_ns {
	uint8_t name[DNS_NAME_MAX];
	struct resolver_addr addr[ITER_MAX_ADDR];
	uint8_t naddr;
};

/*
 * The stub zone of s with the longest apex at or above qname whose NS set is known and not
 * expired at now (cache_now() seconds): copies its apex and NS set (at most ITER_MAX_NS) and
 * returns the number of names; 0 when there is none.  Thread-safe.
 */
size_t iter_stub_lookup(struct resolver_stubs *s, const uint8_t *qname, int64_t now,
			uint8_t *apex, struct iter_stub_ns *ns);

/* iter_query's access to the worker's zones (see resolver_fwd_set_zones). */
void iter_state_set_zones(struct it_state *s, const struct zone_set *const *zs);

/*
 * True when the zone z is usable as a local root at wall-clock time now: its SOA expire has
 * not passed since z->loaded (a zone without a load time counts as fresh).  Pure.
 */
bool iter_local_root_fresh(const struct zone *z, time_t now);

#endif
