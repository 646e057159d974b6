/* SPDX-License-Identifier: MIT */
/* resolver: the answer cache (and, in later work, forwarders, iterator and validator). */
#ifndef TDNS_RESOLVER_H
#define TDNS_RESOLVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dns.h"
#include "dnssec/dnssec.h"
#include "filter/filter.h"
#include "net/client.h"
#include "zone/zone.h"

/*
 * This header is the resolver folder's umbrella.  For now it offers the cache (cache.c); the
 * forwarder, the conditional forwarder zones and the iterator are added here later and use the
 * cache only through the functions below.
 */

/* ------------------------------------------------------------------------------------------ */
/* Cache (cache.c)                                                                             */
/*                                                                                             */
/* A thread-safe cache of whole responses keyed by (lower-cased qname, qtype, qclass, DO, CD).  */
/* It is split into shards chosen by the hash of the qname (so every type of a name lives in   */
/* one shard); each shard has its own mutex, hash table, byte budget, CLOCK ring and expiry    */
/* heap.  There is no global lock.  Entries are immutable once stored and reference counted,   */
/* so a hit holds the shard lock only to find the entry and take a reference; the reply is     */
/* written from the entry after the lock is released.                                          */
/*                                                                                             */
/* Time is passed explicitly as monotonic seconds (cache_now()), so tests use a fake clock.    */
/*                                                                                             */
/* Eviction: when a store would take a shard over its budget, entries already dead (expired    */
/* and past the serve-stale window) go first, oldest first, from a min-heap ordered by expiry; */
/* then CLOCK (second chance): the hand skips and clears entries hit since it last passed,     */
/* and evicts the first one that was not.  Dead entries are also reaped a few at a time on     */
/* every store and when a lookup finds one.                                                    */

struct cache;

/* Key flag bits: the query bits that change what upstream answers (RFC 4035 §3.2.1, §3.2.2). */
#define CACHE_KEY_DO 0x01 /* DNSSEC OK: RRSIGs and NSECs included */
#define CACHE_KEY_CD 0x02 /* checking disabled: possibly unvalidated data */
/*
 * A delegation (the parent's NS set and glue, RFC 2181 §5.4.1: below authoritative data),
 * kept for the iterator only: no client question has this bit, so a client asking the cut's
 * NS never gets the parent side, and a delegation never replaces the child's own NS set.
 */
#define CACHE_KEY_DELEG 0x04

/* Defaults the configuration may use. */
#define CACHE_DEFAULT_SHARDS 16
#define CACHE_MAX_SHARDS 1024
#define CACHE_STALE_TTL_OUT 30     /* TTL written on stale answers, RFC 8767 §4 */
#define CACHE_SERVFAIL_TTL_MAX 30  /* our cap on caching SERVFAIL (RFC 2308 §7.1 allows 300) */
#define CACHE_BOGUS_TTL_MAX 60     /* lifetime cap of an answer validated bogus (issue 16) */
#define CACHE_DEFAULT_PREFETCH_HITS 3

/*
 * A lookup key.  Fill it with cache_key_init; the name is the lower-cased wire form so that
 * keys compare with memcmp.  A key is a plain value (about 260 bytes): keep it on the stack.
 */
struct cache_key {
	uint8_t name[DNS_NAME_MAX];
	uint8_t name_len;
	uint8_t flags;       /* CACHE_KEY_* */
	uint16_t qtype;
	uint16_t qclass;
};

/*
 * Fills k from a question: copies and lower-cases qname (a valid uncompressed wire name) and
 * keeps only the known CACHE_KEY_* bits of flags.
 */
void cache_key_init(struct cache_key *k, const uint8_t *qname, uint16_t qtype, uint16_t qclass,
		    unsigned flags);

/* Whether a and b are the same key (name, type, class and flags). */
bool cache_key_eq(const struct cache_key *a, const struct cache_key *b);

/* CLOCK_MONOTONIC in whole seconds: the "now" to pass to the functions below in production. */
int64_t cache_now(void);

/*
 * Creates a cache of at most max_bytes: what every entry takes from the allocator (its
 * usable size and chunk header, not just the bytes asked for), the bucket and expiry-heap
 * arrays and the cache's own structures are counted; the budget is split evenly across
 * shards.  nshards is rounded up to a power of two (0 means
 * CACHE_DEFAULT_SHARDS; at most CACHE_MAX_SHARDS).  TTLs, in seconds:
 *   min_ttl, max_ttl  clamp of positive answers (each record's TTL and the entry's lifetime),
 *   neg_max_ttl       cap of negative answers (RFC 2308 §5; 0 disables negative caching),
 *   stale_ttl         how long after expiry an entry may still be served stale (RFC 8767 §4;
 *                     0 disables serve-stale).
 * Returns NULL on out of memory or when min_ttl > max_ttl.  Caller frees with cache_free.
 */
struct cache *cache_new(size_t max_bytes, unsigned nshards, uint32_t min_ttl, uint32_t max_ttl,
			uint32_t neg_max_ttl, uint32_t stale_ttl);

/*
 * Frees the cache, its entries and its in-flight records (waiters belong to their callers and
 * are not called).  No lookup may be running.  Accepts NULL.
 */
void cache_free(struct cache *c);

/*
 * How long SERVFAIL answers are cached (RFC 2308 §7.1), capped at CACHE_SERVFAIL_TTL_MAX;
 * 0 (the default) caches none.  Cached SERVFAILs are never served stale.  Call before the
 * cache is shared between threads.
 */
void cache_set_servfail_ttl(struct cache *c, uint32_t ttl);

/*
 * Hits since the store after which an entry close to expiry is reported for prefetch
 * (default CACHE_DEFAULT_PREFETCH_HITS; 0 disables prefetch reports).  Call before sharing.
 */
void cache_set_prefetch_hits(struct cache *c, uint32_t hits);

/*
 * Security state of a cached answer (issue 16): what the validator found (RFC 4035 §4.3), or
 * UNCHECKED when it did not look (validation off, an answer stored by cache_store_msg).
 */
enum cache_sec {
	CACHE_SEC_UNCHECKED = 0,
	CACHE_SEC_SECURE,
	CACHE_SEC_INSECURE,
	CACHE_SEC_BOGUS,
	CACHE_SEC_INDETERMINATE,
};

#define CACHE_VAL_TEXT 96 /* room for a verdict's text with its NUL */

/* A validator's verdict, stored with the entry so that a hit costs no crypto. */
struct cache_val {
	uint8_t sec;                /* enum cache_sec */
	int ede;                    /* RFC 8914 code for BOGUS/INDETERMINATE, else -1 */
	char text[CACHE_VAL_TEXT];  /* EXTRA-TEXT naming the zone, or "" */
};

/* Short name of a state: "unchecked", "secure", "insecure", "bogus", "indeterminate". */
const char *cache_sec_str(unsigned sec);

/*
 * Stores a parsed upstream response m under k (replacing any entry for k), at time now.
 * The answer, authority and additional records are copied with their rdata decompressed;
 * OPT and TSIG are left out.  The entry's lifetime is:
 *   positive (NOERROR with an answer for qname or the end of its CNAME chain): the minimum
 *     TTL in the answer section, each TTL clamped to [min_ttl, max_ttl];
 *   negative (NXDOMAIN, or NOERROR without such an answer = NODATA), RFC 2308 §5:
 *     min(SOA TTL, SOA MINIMUM) of the SOA in the authority section, whose owner must be
 *     the qname or an ancestor of it, capped at neg_max_ttl (and by CNAME TTLs before it);
 *   SERVFAIL: the servfail TTL (see cache_set_servfail_ttl).
 * Returns TDNS_OK when stored; TDNS_ENOENT when the response is not to be cached (TTL 0,
 * negative without SOA, truncated, an rcode other than NOERROR/NXDOMAIN/SERVFAIL, SERVFAIL
 * caching off); TDNS_ESPACE when the entry is larger than a shard's whole budget;
 * TDNS_EBADRDATA or a name error when a record's rdata is malformed; TDNS_ENOMEM.  The
 * caller checks ID, question and bailiwick before storing: the cache trusts m.
 */
int cache_store_msg(struct cache *c, const struct dns_msg *m, const struct cache_key *k,
		    int64_t now);

/*
 * cache_store_msg with the validator's verdict v (copied; NULL: CACHE_SEC_UNCHECKED).  A
 * lookup then returns it in cache_info and sets AD on the records it writes only for a
 * secure entry (an unchecked one keeps the upstream's AD).  A bogus entry lives at most
 * CACHE_BOGUS_TTL_MAX seconds.
 */
int cache_store_val(struct cache *c, const struct dns_msg *m, const struct cache_key *k,
		    int64_t now, const struct cache_val *v);

/* Lookup results. */
enum cache_result {
	CACHE_MISS = 0,
	CACHE_HIT = 1,   /* fresh: records written with their decayed TTLs */
	CACHE_STALE = 2, /* served stale: records written with TTL 30; caller adds EDE 3 (or 19) */
};

/* Lookup flags. */
#define CACHE_LOOKUP_ALLOW_STALE 0x01 /* RFC 8767: return entries within the stale window */
/*
 * Not a client's question: the re-read of an answer just resolved, or a lookup the resolver
 * makes for itself.  Counted in no statistic (hits, misses, the entry's hits), so that each
 * client query counts once as a hit or a miss.
 */
#define CACHE_LOOKUP_QUIET 0x02
/*
 * For a client without DO (RFC 4035 §3.2.1): RRSIG, NSEC and NSEC3 records are left out
 * unless they are the type asked, so one entry holding the DNSSEC records serves both.
 */
#define CACHE_LOOKUP_NODNSSEC 0x04

/* What a lookup tells besides the records. */
struct cache_info {
	int rcode;          /* the cached rcode (NOERROR, NXDOMAIN, SERVFAIL) */
	bool negative;      /* NXDOMAIN or NODATA */
	bool prefetch;      /* popular and close to expiry: refresh it upstream now (told once) */
	bool truncated;     /* answer/authority did not fit b's limit: b was truncated (TC set) */
	uint32_t ttl_left;  /* seconds before expiry (0 when stale) */
	uint8_t sec;        /* enum cache_sec of the entry */
	int ede;            /* its verdict's RFC 8914 code, -1 none */
	char text[CACHE_VAL_TEXT]; /* its verdict's text, "" none */
};

/*
 * Looks k up at time now.  On CACHE_HIT or CACHE_STALE the cached records are appended to b,
 * which must already hold the header, the question and (if wanted) the EDNS request, and
 * have no records yet: the rcode is set, AA cleared and AD copied from the stored response;
 * RA and the rest of the header stay the caller's.  Owner names that equal the question are
 * compressed against it, so they keep the question's case.  TTLs decay from the time of the
 * store (RFC 1035 §3.2.1) and never exceed the entry's remaining lifetime; stale answers get
 * CACHE_STALE_TTL_OUT (RFC 8767 §4).  If an answer or authority record does not fit, b is
 * truncated (dns_build_truncate) and info->truncated set; additional records that do not fit
 * are left out.  A stale entry is a miss unless flags has CACHE_LOOKUP_ALLOW_STALE, and a
 * cached SERVFAIL is never stale.  info may be NULL.  b may be NULL to only ask (the entry
 * still counts as hit).  b is untouched on CACHE_MISS.
 */
enum cache_result cache_lookup(struct cache *c, const struct cache_key *k, int64_t now,
			       struct dns_build *b, unsigned flags, struct cache_info *info);

/* Removes every entry whose qname is name (any type, class and flags); returns how many. */
size_t cache_delete(struct cache *c, const uint8_t *name);

/* Removes every entry; returns how many. */
size_t cache_flush(struct cache *c);

/* Removes the entries dead at now (past the stale window); returns how many.  For a timer. */
size_t cache_expire(struct cache *c, int64_t now);

/* One entry as cache_walk shows it (for `tdns-cli cache list`); all borrowed for the call. */
struct cache_walk_item {
	const uint8_t *name;  /* lower-cased wire form */
	uint16_t qtype;
	uint16_t qclass;
	unsigned flags;       /* CACHE_KEY_* */
	int rcode;
	bool negative;
	int64_t ttl_left;     /* seconds to expiry; negative when stale */
	uint32_t ttl;         /* the entry's lifetime when stored */
	uint32_t hits;        /* since stored */
	size_t size;          /* bytes accounted: the allocation with the allocator's overhead */
	size_t nrr;           /* records in answer + authority + additional */
};

/* Return 0 to go on; anything else stops the walk and is returned by cache_walk. */
typedef int (*cache_walk_cb)(void *ctx, const struct cache_walk_item *item);

/*
 * Calls cb for every entry at name or below it (every entry when name is NULL), skipping
 * dead ones, shard by shard.  cb runs with the shard's lock held: it must be quick and must
 * not call into the cache.  Returns 0 or what cb returned to stop.
 */
int cache_walk(struct cache *c, const uint8_t *name, int64_t now, cache_walk_cb cb, void *ctx);

/* Counters summed over shards (each shard read under its lock, so nearly a snapshot). */
struct cache_stats {
	uint64_t entries;
	uint64_t bytes;       /* counted against max_bytes: entries, index and structures */
	uint64_t index_bytes; /* of which the bucket and heap arrays and the structures */
	uint64_t max_bytes;
	uint64_t hits;        /* fresh hits */
	uint64_t stale_hits;  /* answers served stale */
	uint64_t misses;
	uint64_t inserts;
	uint64_t evictions;   /* removed to make room while still alive */
	uint64_t expired;     /* removed because dead */
	uint64_t inflight;    /* outstanding upstream queries in the in-flight table */
};

/* Fills st. */
void cache_stats(struct cache *c, struct cache_stats *st);

/* ------------------------------------------------------------------------------------------ */
/* In-flight table: coalescing of identical outstanding upstream queries (DESIGN.md, Cache).   */
/*                                                                                             */
/* The first query for a key to miss the cache calls cache_inflight_begin and gets true: it    */
/* asks upstream.  Later identical queries get false and have their waiter queued.  When the   */
/* upstream answer (or failure) arrives, the first query calls cache_inflight_end, which       */
/* removes the record and hands back the queued waiters; the caller runs them (typically after */
/* cache_store_msg, so each waiter answers from the cache).  Waiters are the caller's memory,   */
/* e.g. embedded in its per-query state; the table only links them.                            */

struct cache_waiter {
	struct cache_waiter *next;  /* owned by the table while queued */
	void (*fn)(void *arg, void *result); /* the caller's callback and its argument */
	void *arg;
};

/*
 * Starts an upstream query for k or joins the one running.  Returns true when the caller is
 * the first (w is not queued) and false when one is running (w, unless NULL, is queued and
 * must stay valid until cache_inflight_end returns it or cache_inflight_cancel removes it).
 * On out of memory it returns true without a record, so the caller simply queries upstream
 * itself (cache_inflight_end then returns NULL, or the waiters of an identical query begun
 * meanwhile, which the caller answers with its result): no waiter is ever dropped.
 */
bool cache_inflight_begin(struct cache *c, const struct cache_key *k, struct cache_waiter *w);

/*
 * Ends the upstream query for k: removes its record and returns its waiters in arrival order
 * (NULL if none, or no record).  The caller owns the list and calls w->fn(w->arg, result).
 */
struct cache_waiter *cache_inflight_end(struct cache *c, const struct cache_key *k);

/* Removes w from k's waiter list (a client that gave up); true if it was queued. */
bool cache_inflight_cancel(struct cache *c, const struct cache_key *k, struct cache_waiter *w);

/*
 * Removes and returns the first waiter queued on k's record (NULL if none or no record): the
 * one that takes over when the query's own waiter gives up (resolver_fwd_cancel).
 */
struct cache_waiter *cache_inflight_pop(struct cache *c, const struct cache_key *k);

/* What cache_inflight_take_back did. */
enum cache_take_back {
	CACHE_TAKE_NONE = 0,  /* w is not this request's */
	CACHE_TAKE_OK = 1,    /* w taken back; the request goes on for its other waiters */
	CACHE_TAKE_LAST = 2,  /* w was its last waiter: record ended, the caller stops the request */
};

/*
 * For a request under in-flight key rkey (c NULL: the request has no record) whose own waiter
 * is *first: takes waiter w of key k back.  A w queued on the record is unlinked; w == *first
 * is replaced by the first queued waiter, and with none the record is ended.
 */
enum cache_take_back cache_inflight_take_back(struct cache *c, const struct cache_key *rkey,
					      struct cache_waiter **first,
					      const struct cache_key *k, struct cache_waiter *w);

/* ------------------------------------------------------------------------------------------ */
/* Forwarder (forward.c, upstream.c; added by the forwarder helper, issue 4).                  */
/*                                                                                             */
/* A resolver_conf is the immutable, reference-counted forwarding setup built from the         */
/* configuration on the main thread: the recursion ACL, the upstream servers (global and per   */
/* conditional forwarder zone), the TLS context and the shared cache.  Each worker publishes   */
/* it to its resolver_fwd, which owns the worker's upstream state: RTT and health per server, */
/* UDP sockets, reused TCP and TLS connections with pipelined queries, outstanding requests.   */
/* Everything of a resolver_fwd runs on its worker's event base; nothing blocks.               */

struct cfg;
struct event_base;

/* At most this many servers are considered for one query. */
#define RESOLVER_MAX_SERVERS 8
/* Servers asked at once in concurrent mode. */
#define RESOLVER_CONCURRENT 3
/* EDNS payload size we offer upstream (DNS Flag Day 2020). */
#define RESOLVER_EDNS_SIZE 1232

/*
 * One upstream server of a configuration.  The counters are written by every worker with
 * relaxed atomics (__atomic builtins) and read by `forwarder list`.
 */
struct resolver_upstream {
	char *spec;               /* as written in the configuration */
	struct client_server srv; /* parsed and resolved */
	uint64_t queries;         /* exchanges started */
	uint64_t answers;         /* usable answers */
	uint64_t timeouts;
	uint64_t errors;          /* network, TLS or protocol failures, SERVFAIL/REFUSED */
	uint32_t srtt_ms;         /* smoothed RTT of the worker that last got an answer */
	uint32_t fails;           /* consecutive failures (0 = healthy) */
};

/* A server list: indexes [first, first + n) of resolver_conf.ups. */
struct resolver_servers {
	size_t first;
	size_t n;
};

/*
 * A domain forwarded by a conditional forwarder zone ([zone NAME] type = forwarder, or
 * `zone create --type forwarder`): the zone's apex, or a name in it with FWD records.
 */
struct resolver_fwd_zone {
	uint8_t apex[DNS_NAME_MAX];      /* names at and below this go to servers */
	uint8_t zone_apex[DNS_NAME_MAX]; /* the forwarder zone it belongs to */
	struct resolver_servers servers; /* this-server: the global list */
};

/* ------------------------------------------------------------------------------------------ */
/* Root hints (hints.c; issue 5).  Pure: no I/O besides reading the hints file.                */

/* At most this many root servers and addresses per server are kept from the hints. */
#define RESOLVER_HINTS_MAX_NS 16
#define RESOLVER_HINTS_MAX_ADDR 4

/* An IPv4 or IPv6 address of a name server (port 53 is implied, RFC 1035 §4.2). */
struct resolver_addr {
	uint8_t family;           /* AF_INET or AF_INET6 */
	uint8_t ip[16];           /* 4 or 16 octets in network order */
};

/* One name server and its known addresses. */
struct resolver_hints_ns {
	uint8_t name[DNS_NAME_MAX];
	struct resolver_addr addr[RESOLVER_HINTS_MAX_ADDR];
	size_t naddr;
};

/* The root name servers: the NS records of "." and their A and AAAA records. */
struct resolver_hints {
	struct resolver_hints_ns ns[RESOLVER_HINTS_MAX_NS];
	size_t nns;
};

/*
 * Loads root hints from path, a zone-file fragment (IANA's named.root form: NS records of
 * "." and A/AAAA records of those servers), or from the built-in copy of IANA's named.root
 * when path is NULL or "".  Other types, NS records of other owners and an NS set without
 * any address fail.  TDNS_OK; TDNS_EIO or TDNS_ECONFIG with "file:line: what was wrong,
 * what was expected" in err.  Extra servers beyond RESOLVER_HINTS_MAX_NS (and addresses
 * beyond RESOLVER_HINTS_MAX_ADDR) are ignored; addresses of names that are not root servers
 * are ignored.
 */
int resolver_hints_load(const char *path, struct resolver_hints *h, char *err, size_t errlen);

/* The built-in hints as zone-file text (IANA's named.root), for tests and `config show`. */
extern const char resolver_hints_builtin[];

/* Settings of the iterator (issue 5), copied from [recursion]. */
struct resolver_iter_conf {
	struct resolver_hints hints;
	bool qname_min;           /* RFC 9156 */
	bool case_random;         /* 0x20 */
	unsigned max_depth;       /* referrals per client query */
	unsigned max_queries;     /* upstream queries per client query */
	unsigned max_time_ms;
	struct resolver_addr out4, out6; /* outgoing addresses (family 0: any) */
};

struct resolver_stubs;

struct resolver_conf {
	unsigned refs;            /* atomic; resolver_conf_ref / resolver_conf_unref */
	unsigned mode;            /* CFG_RECURSION_* */
	struct filter_acl allow;
	unsigned forward_mode;    /* CFG_FORWARD_* */
	unsigned timeout_ms;
	bool prefetch;
	struct resolver_upstream *ups; /* every server, global ones first */
	size_t nups;
	struct resolver_servers global;
	struct resolver_fwd_zone *zones;
	size_t nzones;
	struct cache *cache;      /* borrowed from the daemon, which outlives every conf */
	void *tls_ctx;            /* SSL_CTX for tls:// servers, NULL when none */
	char *fwd_sig;            /* the FWD records it was built from (resolver_fwd_signature) */
	struct resolver_iter_conf *iter; /* mode recursive: the iterator's settings, else NULL */
	unsigned max_outstanding; /* client queries a worker resolves at once (issue 13) */
	unsigned jostle_ms;       /* age after which the oldest may be dropped for a new one */
	struct resolver_stubs *stubs; /* the daemon's stub zones (borrowed, outlives every conf;
					 set by the daemon before publishing), or NULL */
	/* [dnssec] (issue 16) */
	bool validate;            /* validation = yes and a mode that resolves */
	struct dnssec_anchors *anchors; /* trust anchors (owned), NULL when not validating */
	uint8_t (*nta)[DNS_NAME_MAX]; /* negative-trust-anchors (owned, lower-cased) */
	size_t nnta;
	struct dnssec_ntas *ntas; /* the run-time NTAs of `tdns-cli dnssec nta` (borrowed from
				     the daemon, which outlives every conf; set like stubs) */
};

/*
 * Builds a forwarding setup from c and the FWD records of the forwarder zones of zs (may be
 * NULL); server names are resolved here, which may block on the system resolver: call it on
 * the main thread.  cache is borrowed.  TDNS_OK, or TDNS_ECONFIG with a message in err (a
 * configured server that does not resolve, an unreadable CA file), or TDNS_ENOMEM.  A bad
 * FWD record is logged and left out.  The caller owns the one reference of *out.
 */
int resolver_conf_new(const struct cfg *c, const struct zone_set *zs, struct cache *cache,
		      struct resolver_conf **out, char *err, size_t errlen);

/*
 * Checks one forwarder as FWD records and the forwarders keys take it: a server URL
 * (client_server_parse) or "this-server".  TDNS_OK, or TDNS_EINVAL with the reason in err.
 */
int resolver_fwd_spec_check(const char *spec, char *err, size_t errlen);

/* Text listing every FWD record of the forwarder zones of zs; caller frees. */
char *resolver_fwd_signature(const struct zone_set *zs);

/* True when the FWD records of zs differ from those rc was built from. */
bool resolver_conf_fwd_changed(const struct resolver_conf *rc, const struct zone_set *zs);

/* Takes a reference (thread-safe). */
struct resolver_conf *resolver_conf_ref(struct resolver_conf *rc);

/* Drops a reference (thread-safe); the last one frees.  Accepts NULL. */
void resolver_conf_unref(struct resolver_conf *rc);

/*
 * The forwarder zone whose apex is the longest at or above qname, or NULL.
 */
const struct resolver_fwd_zone *resolver_conf_zone(const struct resolver_conf *rc,
						   const uint8_t *qname);

/*
 * The servers that resolve qname: its forwarder zone's, else the global ones when mode is
 * forward; NULL when qname is not to be resolved.
 */
const struct resolver_servers *resolver_conf_servers(const struct resolver_conf *rc,
						     const uint8_t *qname);

/* The result handed to a waiter's fn (its second argument points to one). */
enum resolver_status {
	RESOLVER_OK = 0,          /* msg is the checked answer, already stored in the cache */
	RESOLVER_FAIL = -1,       /* every server failed; ede says how */
	RESOLVER_SHUTDOWN = -2,   /* the worker is stopping: drop the client, send nothing */
};

struct resolver_result {
	int status;                  /* enum resolver_status */
	uint8_t sec;                 /* RESOLVER_OK: enum cache_sec of msg (UNCHECKED when the
					configuration does not validate) */
	int val_ede;                 /* RESOLVER_OK and bogus: the RFC 8914 code, else -1 */
	const char *val_text;        /* RESOLVER_OK and bogus: EXTRA-TEXT naming the zone */
	const struct dns_msg *msg;   /* RESOLVER_OK: the sanitised answer, valid during fn */
	uint16_t ede;                /* RESOLVER_FAIL: DNS_EDE_NO_REACHABLE_AUTHORITY,
					DNS_EDE_NETWORK_ERROR, or DNS_EDE_OTHER with the text
					"out of memory" */
	int upstream_rcode;          /* RESOLVER_FAIL: the last rcode an upstream gave, or -1 */
	const char *ede_text;        /* RESOLVER_FAIL: EDE text (static), or NULL for the default */
};

struct resolver_fwd;

/* A worker's forwarder on base; worker_id (< 64) keeps its in-flight keys apart.  NULL on OOM. */
struct resolver_fwd *resolver_fwd_new(struct event_base *base, unsigned worker_id);

/*
 * Ends every outstanding request (their waiters get RESOLVER_SHUTDOWN), closes connections
 * and frees f.  Call on the worker's thread or after it stopped.  Accepts NULL.
 */
void resolver_fwd_free(struct resolver_fwd *f);

/*
 * Switches f to rc (takes a reference; NULL to stop forwarding).  Requests already running
 * finish with their own configuration.  Worker thread only.
 */
void resolver_fwd_set_conf(struct resolver_fwd *f, struct resolver_conf *rc);

/* The configuration f uses (borrowed), or NULL. */
struct resolver_conf *resolver_fwd_conf(const struct resolver_fwd *f);

/*
 * Resolves k through servers (of f's configuration) and calls w->fn(w->arg, struct
 * resolver_result *) on the worker's thread, never from inside this call, exactly once, also
 * when memory runs out (RESOLVER_FAIL, EDE 0 "out of memory").  Identical
 * outstanding queries of the worker are coalesced (cache_inflight_*).  w may be NULL (a
 * prefetch: the answer only refreshes the cache).  w stays the caller's memory and must stay
 * valid until fn is called.
 */
void resolver_fwd_query(struct resolver_fwd *f, const struct cache_key *k,
			const struct resolver_servers *servers, struct cache_waiter *w);

/*
 * Takes waiter w, given earlier with k to resolver_fwd_query or resolver_iter_query, back
 * (a client jostled out by a newer one, issue 13): true when w was found and will never be
 * called.  A queued waiter is unlinked; the waiter a request runs for hands the request to the
 * next one queued, and a request left without waiters is stopped (its exchanges cancelled, its
 * sockets closed), so that the work of a query given up ends with it.  False when w is not
 * known (already being answered): it will still be called.  Worker thread only.
 */
bool resolver_fwd_cancel(struct resolver_fwd *f, const struct cache_key *k,
			 struct cache_waiter *w);

/* ------------------------------------------------------------------------------------------ */
/* Iterator (iterate.c; issue 5): resolution from the root on the worker's event base.        */

/*
 * Resolves k iteratively (RFC 1034 §5.3.3) with f's configuration, which must be in mode
 * recursive: from the closest delegation in the cache, else the root hints; referrals with
 * in-bailiwick glue, NS address lookups, CNAME and DNAME chains, QNAME minimisation
 * (RFC 9156), TCP on truncation, EDNS fallback, smoothed RTT per server address (kept per
 * worker), all within the [recursion] limits.  The assembled answer is stored in the cache
 * under k and handed to w->fn(w->arg, struct resolver_result *) as RESOLVER_OK; a failure is
 * RESOLVER_FAIL with EDE 22 (ede_text says which limit, if one was hit).  fn is called on the
 * worker's thread, never from inside this call; identical outstanding queries of the worker
 * are coalesced.  w may be NULL (prefetch); it stays the caller's and must stay valid until fn
 * is called.
 */
void resolver_iter_query(struct resolver_fwd *f, const struct cache_key *k,
			 struct cache_waiter *w);

/*
 * Tells f where its worker keeps its current zone set (a field the worker replaces only on its
 * own thread); the iterator reads it when it needs a local root zone ("." of type primary,
 * RFC 8806), which it then prefers over the root servers until the zone's SOA expire has
 * passed since it was loaded.  NULL: no local zones.  Worker thread only.
 */
void resolver_fwd_set_zones(struct resolver_fwd *f, const struct zone_set *const *zs);

/* ------------------------------------------------------------------------------------------ */
/* Stub zones (stub.c; issue 5).                                                               */
/*                                                                                             */
/* A [zone NAME] of type stub holds no data: the daemon asks the zone's primaries (port 53)    */
/* for its SOA, its NS set and the A/AAAA of the NS names inside the zone, keeps them, and     */
/* refreshes them on the SOA timers on the main thread's event base (refresh; retry after a    */
/* failure; after expire without success the stub is unused).  The iterator starts names at   */
/* or below NAME at that NS set (resolver_stubs_lookup, any thread) instead of the root.       */

/* Creates the (empty) stub table.  NULL on OOM. */
struct resolver_stubs *resolver_stubs_new(void);

/* Cancels every exchange and timer and frees s.  Main thread.  Accepts NULL. */
void resolver_stubs_free(struct resolver_stubs *s);

/*
 * Takes the stub zones of c: zones still there keep their NS set (fetched again at once when
 * their primaries changed), new ones are fetched now, others are dropped.  The exchanges and
 * timers run on base (the main thread's; the same at every call).  Main thread.
 */
void resolver_stubs_configure(struct resolver_stubs *s, const struct cfg *c,
			      struct event_base *base);

/* ------------------------------------------------------------------------------------------ */
/* Configuration (schema.c): [recursion], [forwarders] and [cache]                               */

/* [recursion] mode (struct cfg recursion_mode). */
#define CFG_RECURSION_OFF 0       /* names outside our zones get REFUSED */
#define CFG_RECURSION_FORWARD 1   /* answered from the cache and the [forwarders] */
#define CFG_RECURSION_RECURSIVE 2 /* resolved iteratively from the root */

/* [forwarders] mode (struct cfg forward_mode). */
#define CFG_FORWARD_CONCURRENT 0  /* ask several at once, first good answer wins */
#define CFG_FORWARD_SEQUENTIAL 1  /* one after another by RTT, failing over on timeout */

struct cfg_table;

/*
 * The section tables of the resolver, registered in cfg_schema (src/daemon-cfg.c); they fill
 * the recursion_*, forward*, cache_* fields and the iterator's limits of struct cfg, and
 * check that settings which only make sense together agree.
 */
extern const struct cfg_table resolver_schema_recursion;
extern const struct cfg_table resolver_schema_forwarders;
extern const struct cfg_table resolver_schema_cache;
extern const struct cfg_table resolver_schema_dnssec;

/* ------------------------------------------------------------------------------------------ */
/* DNSSEC validation (validate.c; issue 16)                                                     */

/*
 * Parses a comma-separated list of domain names (negative-trust-anchors) into *out (caller
 * frees), lower-cased, *n of them.  TDNS_OK, or TDNS_ECONFIG with the bad name in err.
 */
int resolver_nta_parse(const char *list, uint8_t (**out)[DNS_NAME_MAX], size_t *n, char *err,
		       size_t errlen);

/*
 * True when a negative trust anchor covers name (name at or below it, RFC 7646 §2): one of
 * rc's configured negative-trust-anchors, or one of the run-time store rc->ntas in force
 * now.  The validator then treats data there as insecure.  The one place NTAs are consulted.
 * Thread-safe.
 */
bool resolver_nta_covers(const struct resolver_conf *rc, const uint8_t *name);

/* Counters of validation verdicts since start-up (relaxed atomics; any thread reads). */
struct resolver_val_stats {
	uint64_t secure;
	uint64_t insecure;
	uint64_t bogus;
	uint64_t indeterminate;
	uint64_t verifies;        /* signature verifications spent (budget) */
};

/* Fills st with the process-wide validation counters. */
void resolver_val_stats(struct resolver_val_stats *st);

/*
 * Counts one answer of state sec (enum cache_sec) given to a client, in the counters above
 * and in stats_dnssec_count (`tdns-cli stats`, `dnssec status`, the TUI); others are ignored.
 */
void resolver_val_count(unsigned sec);

#endif
