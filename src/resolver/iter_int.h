/* SPDX-License-Identifier: MIT */
/* Private to src/resolver: the iterator's per-worker state and its pure, unit-tested helpers. */
#ifndef TDNS_RESOLVER_ITER_INT_H
#define TDNS_RESOLVER_ITER_INT_H

#include <sys/socket.h>
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

/*
 * The way out of a request (iterator or forwarder) that could not be set up for lack of
 * memory: ends the in-flight record of ikey when the caller registered one (conf not NULL) and
 * answers w (may be NULL) and every waiter queued on it with RESOLVER_FAIL, EDE 0 "out of
 * memory", from s's event loop, so that no client waits forever and no connection stays
 * pinned.  Needs no memory: s's event is allocated up front.
 */
void iter_fail_unstarted(struct it_state *s, struct resolver_conf *conf,
			 const struct cache_key *ikey, struct cache_waiter *w);

/* resolver_iter_query on s with conf (referenced for the request); wid as for the forwarder. */
void iter_query(struct it_state *s, struct resolver_conf *conf, unsigned wid,
		const struct cache_key *k, struct cache_waiter *w);

/*
 * resolver_fwd_cancel for the iterator's requests and its orphan list (waiters refused for lack
 * of memory, not yet answered): ikey is the in-flight key (with the worker's bits); true when
 * w was taken back.
 */
bool iter_cancel(struct it_state *s, const struct cache_key *ikey, struct cache_waiter *w);

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
	ITER_NXDOMAIN,  /* the name does not exist */
	ITER_NODATA,    /* the name exists without data of stype (RFC 2308 §2.2) */
	ITER_LAME,      /* nothing usable: upward or sideways referral, bad rcode */
	ITER_REC_LAME,  /* answered as a recursor (RA, no AA): not a server of the zone */
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

/* The worker's resolver, through which the validator of s's answers asks DS and DNSKEY. */
struct val_io;
void iter_state_set_fwd(struct it_state *s, const struct val_io *io);

/* iter_query's access to the worker's zones (see resolver_fwd_set_zones). */
void iter_state_set_zones(struct it_state *s, const struct zone_set *const *zs);

/*
 * True when the zone z is usable as a local root at wall-clock time now: its SOA expire has
 * not passed since z->loaded (a zone without a load time counts as fresh).  Pure.
 */
bool iter_local_root_fresh(const struct zone *z, time_t now);

/* ---- iter_infra.c: what the iterator knows of servers, per worker ---------------------- */

#define ITER_INFRA_SLOTS 1024 /* direct-mapped slots: smoothed RTT and EDNS per address */
#define ITER_LAME_SLOTS 512   /* slots of (server, zone) pairs found lame */
#define ITER_INFRA_MAX_MS 5000.0 /* the largest smoothed RTT kept */

/* One server address as the iterator knows it. */
struct iter_infra_entry {
	struct resolver_addr a;
	bool used;
	bool noedns;        /* answered FORMERR/NOTIMP/BADVERS to EDNS (RFC 6891 §7) */
	unsigned timeouts;  /* consecutive */
	double srtt_ms;
	int64_t down_until_us; /* silent: not asked before then (after repeated timeouts) */
};

/* A worker's infrastructure table (iter_infra_init).  Not thread-safe. */
struct iter_infra {
	uint8_t key[DNS_SIPHASH_KEY_LEN]; /* secret: remote servers cannot choose collisions */
	struct iter_infra_entry slot[ITER_INFRA_SLOTS];
	struct {
		uint64_t key;   /* hash of (address, zone); 0 = free */
		int64_t until_us;
	} lame[ITER_LAME_SLOTS];
};

/* Makes in an empty table with a fresh secret hash key. */
void iter_infra_init(struct iter_infra *in);

/*
 * The entry of a in in; a new address takes its slot over with an unknown RTT.  The pointer
 * is valid until the next call for another address.
 */
struct iter_infra_entry *iter_infra_get(struct iter_infra *in, const struct resolver_addr *a);

/* Notes an answer from a after ms milliseconds (smoothed RTT, gain 1/8). */
void iter_infra_rtt(struct iter_infra *in, const struct resolver_addr *a, double ms);

/* Notes a timeout of a: its RTT backs off; after two in a row it is left alone for a while. */
void iter_infra_timeout(struct iter_infra *in, const struct resolver_addr *a);

/* True while a is left alone after repeated timeouts. */
bool iter_infra_down(struct iter_infra *in, const struct resolver_addr *a);

/* How long to wait for a (300 to 1500 ms from its RTT; 800 ms when never asked). */
unsigned iter_infra_timeout_ms(struct iter_infra *in, const struct resolver_addr *a);

/*
 * Remembers for a while that a answered lamely for zone (REFUSED, not authoritative, an
 * upward referral), so that later queries for the zone ask its other servers first
 * (RFC 4697 §2.1.1).
 */
void iter_infra_lame_set(struct iter_infra *in, const struct resolver_addr *a,
			 const uint8_t *zone);

/* True when a was found lame for zone recently. */
bool iter_infra_lame(struct iter_infra *in, const struct resolver_addr *a, const uint8_t *zone);

/* ---- iter_io.c: one exchange with one server ------------------------------------------- */

#define ITER_IO_QMAX (DNS_NAME_MAX + 64) /* the largest query the iterator sends */

struct iter_io;
struct sockaddr_storage;

/* How an exchange ended. */
enum iter_io_end {
	ITER_IO_ANSWER,   /* a matching answer (RFC 5452 §9.1) arrived: pkt, len */
	ITER_IO_TIMEOUT,  /* nothing in time */
	ITER_IO_ERROR,    /* refused, reset, unreachable, or a bad answer over TCP */
};

/*
 * Called once per exchange on the event loop; pkt is valid only during the call.  The
 * callback owns the exchange and must free it (iter_io_free) before returning or later.
 */
typedef void (*iter_io_cb)(void *arg, enum iter_io_end end, const uint8_t *pkt, size_t len);

/*
 * Sends the query q (qlen bytes, at most ITER_IO_QMAX) to a on port 53 over UDP from a random
 * port (RFC 5452 §9.2), or TCP when tcp, from ic's outgoing address when one is set, and
 * waits timeout_ms for the answer.  With ic->case_random the answer must repeat the question
 * case for case.  Returns NULL when the exchange cannot start (no socket, no route for the
 * family, out of memory); cb is never called then.  Caller frees with iter_io_free.
 */
struct iter_io *iter_io_start(struct event_base *base, const struct resolver_iter_conf *ic,
			      const struct resolver_addr *a, bool tcp, const uint8_t *q,
			      size_t qlen, unsigned timeout_ms, iter_io_cb cb, void *arg);

/* Stops x without a callback and frees it.  Accepts NULL. */
void iter_io_free(struct iter_io *x);

/* Fills ss with a on port 53 and returns its length. */
socklen_t iter_io_sockaddr(const struct resolver_addr *a, struct sockaddr_storage *ss);

#endif
