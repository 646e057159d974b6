/* SPDX-License-Identifier: MIT */
/* stats: per-worker query notes and the daemon's series, heavy hitters and log rings. */
#ifndef TDNS_STATS_H
#define TDNS_STATS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

struct event_base;
struct sockaddr;
struct stats_recorder;
struct stats_worker;

/* ------------------------------------------------------------------------------------------ */
/* The listeners' counters: one set per worker, written only by its thread, summed on demand.  */

#define STATS_RCODES 24 /* rcodes 0..22 counted one by one, the rest in the last slot */
/* qtypes 0..258 (up to CAA and AVC) counted one by one, the rest in the last slot */
#define STATS_QTYPES 260

/* Where an answer came from (the "kind" of a query-log entry, and the `stats` kinds). */
enum stats_kind {
	STATS_KIND_AUTHORITATIVE, /* from our zones, or refused/failed by us without upstream */
	STATS_KIND_CACHED,        /* from the resolver cache */
	STATS_KIND_FORWARDED,     /* from a forwarder upstream */
	STATS_KIND_RECURSIVE,     /* from our own recursion */
	STATS_KIND_BLOCKED,       /* by a block list */
	STATS_KINDS
};

struct stats_counters {
	uint64_t queries;         /* messages that got a reply or were dropped */
	uint64_t udp;             /* queries received over UDP */
	uint64_t tcp;             /* queries received over TCP */
	uint64_t dot;             /* queries received over DNS over TLS */
	uint64_t doh;             /* queries received over DNS over HTTP(S) */
	uint64_t dropped;         /* not answered (responses, runts, oversized datagrams) */
	uint64_t truncated;       /* UDP replies with TC set */
	uint64_t tcp_accepted;    /* TCP connections accepted */
	uint64_t tcp_refused;     /* closed at once because the worker was full */
	uint64_t tcp_evicted;     /* idle connections closed to make room for a new one */
	uint64_t tls_accepted;    /* DoT and DoH connections accepted (also in tcp_accepted) */
	uint64_t tls_failed;      /* TLS handshakes that failed */
	uint64_t http_errors;     /* DoH requests answered with an HTTP error status */
	uint64_t outstanding;     /* client queries being resolved now (a gauge; issue 13) */
	uint64_t jostled;         /* outstanding queries dropped for newer ones (SERVFAIL) */
	uint64_t busy_refused;    /* new queries turned away, the worker full (SERVFAIL) */
	uint64_t rcode[STATS_RCODES];
	uint64_t qtype[STATS_QTYPES]; /* answered queries by the type of their question */
	/*
	 * From the worker's query notes, copied by stats_worker_read at the same moment as the
	 * rest, so that queries == dropped + the sum of kind[] in every snapshot.
	 */
	uint64_t kind[STATS_KINDS];
	uint64_t nxdomain, servfail, refused;
};

/* Adds every counter of b to a. */
void stats_counters_add(struct stats_counters *a, const struct stats_counters *b);

/* Counts one reply with its full rcode (-1 = dropped). */
void stats_count_rcode(struct stats_counters *st, int rcode);

/*
 * Counts one answered query by the type of the question of pkt[0..len); a query without a
 * readable question is not counted.
 */
void stats_count_qtype(struct stats_counters *st, const uint8_t *pkt, size_t len);

/* Counts one answered query whose question has type qtype. */
void stats_count_type(struct stats_counters *st, uint16_t qtype);

/*
 * Where the recorder reads the server's numbers (filled in by the listeners' owner, so that
 * stats knows nothing of them): nworkers query-note sets and the summed counters.
 */
struct stats_source {
	unsigned nworkers;
	/* Worker i's query notes, valid while the recorder lives. */
	struct stats_worker *(*worker)(void *arg, unsigned i);
	/*
	 * The counters of every worker summed into *out (zeroed by the callee): each worker's
	 * copy of its counters, all taken by the worker at one moment, at most a second old.
	 */
	void (*totals)(void *arg, struct stats_counters *out);
	/* Optional: has every worker copy its counters now; returns once all have. */
	void (*refresh)(void *arg);
	void *arg;
};

/* ------------------------------------------------------------------------------------------ */
/* The worker side: one struct stats_worker per worker thread, written only by that thread.    */

enum stats_transport {
	STATS_TRANSPORT_UDP,
	STATS_TRANSPORT_TCP,
	STATS_TRANSPORT_DOT,
	STATS_TRANSPORT_DOH,
	STATS_TRANSPORTS
};

/* Latency histogram: four buckets per power of two of nanoseconds, up to about a minute. */
#define STATS_LAT_BUCKETS 144

/* How many recent queries each worker keeps for `log show` and `log follow`. */
#define STATS_QLOG_ENTRIES 4096
/* How many server log lines the daemon keeps. */
#define STATS_SLOG_LINES 1024

struct stats_qring;

/* Most octets of the block note of a query-log entry (stats_note_block; names are cut). */
#define STATS_QBLOCK_MAX 96

/*
 * The per-second series splits queries by answer: the kinds above, then SERVFAIL answers
 * whatever their source (not counted under a kind), then dropped queries.  The entries add up
 * to every query the worker received.
 */
#define STATS_SERIES_FAILED STATS_KINDS
#define STATS_SERIES_DROPPED (STATS_KINDS + 1)
#define STATS_SERIES (STATS_KINDS + 2)

/*
 * Seconds of the per-second series a worker keeps, by the second (CLOCK_MONOTONIC) in which
 * each query arrived.  A reply later than STATS_SEC_SLOTS - 4 seconds counts in the second it
 * was sent instead; readers merge a second while it is younger than that.
 */
#define STATS_SEC_SLOTS 64
#define STATS_SEC_LIVE (STATS_SEC_SLOTS - 4)

/* One second of a worker's series; sec is -1 while the worker reuses the slot. */
struct stats_sec_slot {
	_Atomic int64_t sec;
	_Atomic uint64_t n[STATS_SERIES];
};

/*
 * A worker's counters and query ring.  The worker writes with relaxed atomic stores and the
 * main thread reads at any time: the query path takes no lock and allocates nothing.
 */
struct stats_worker {
	_Atomic uint64_t kind[STATS_KINDS];
	_Atomic uint64_t nxdomain, servfail, refused;
	_Atomic uint64_t lat[STATS_LAT_BUCKETS];
	struct stats_qring *ring;
	struct stats_sec_slot sec[STATS_SEC_SLOTS]; /* by arrival second, sec % STATS_SEC_SLOTS */
	/* The EDE of the reply about to be noted, plus one (0: none); see stats_note_reply. */
	int32_t next_ede;
	/* The worker's own: unix time minus CLOCK_MONOTONIC, refreshed once a second. */
	int64_t clock_sec;
	double clock_offset;
	/* The block note for the next entry (stats_note_block), note_len octets; 0: none. */
	uint8_t note_len;
	uint8_t note[STATS_QBLOCK_MAX];
};

/* A worker's recorder state (cache-line aligned).  Free with stats_worker_free; NULL on OOM. */
struct stats_worker *stats_worker_new(void);

/* Frees; accepts NULL.  The worker must have stopped. */
void stats_worker_free(struct stats_worker *sw);

/*
 * Records one answered query on the worker's thread: kind and rcode counters, latency
 * histogram (from start, the query's arrival on CLOCK_MONOTONIC, to now), and an entry in
 * the query ring with client (AF_INET or AF_INET6; NULL allowed), qname (wire, uncompressed,
 * validated; NULL for none), qtype, rcode (full; dropped queries are not noted), kind and
 * transport.  One clock read per call.  sw NULL does nothing.
 */
void stats_note_query(struct stats_worker *sw, const struct sockaddr *client,
		      const uint8_t *qname, uint16_t qtype, int rcode, enum stats_kind kind,
		      enum stats_transport transport, const struct timespec *start);

/*
 * The worker's thread: says why the query being answered was blocked, for the query-log
 * entry of the next stats_note_query on this worker (only that one; blocked answers are
 * noted as they are sent, never deferred).  ede is the Extended DNS Error code of the answer
 * (RFC 8914; 0: none), the entry's "ede" unless stats_note_reply found one, list the list that decided (NULL: none, as for the Firefox canary) and
 * line its 1-based line (0: none), group the client's [blocking-group] (NULL: none).  The
 * names are copied, cut to fit STATS_QBLOCK_MAX octets together: the list keeps its end
 * (the file name).  sw NULL does nothing.
 */
void stats_note_block(struct stats_worker *sw, uint16_t ede, const char *list, unsigned line,
		      const char *group);

/* The same, taking qname and qtype from the question of the query pkt[0..len). */
void stats_note_packet(struct stats_worker *sw, const struct sockaddr *client,
		       const uint8_t *pkt, size_t len, int rcode, enum stats_kind kind,
		       enum stats_transport transport, const struct timespec *start);

/*
 * Issue 16: looks at the reply reply[0..len) about to be noted with stats_note_query or
 * stats_note_packet, so that its query-log entry carries the first Extended DNS Error of the
 * reply ("ede" in log entries; a bogus answer is SERVFAIL with EDE 6 to 12).  Only replies
 * whose rcode is neither NOERROR nor NXDOMAIN are read (no cost on the common answers); the
 * walk allocates nothing.  sw NULL does nothing.
 */
void stats_note_reply(struct stats_worker *sw, const uint8_t *reply, size_t len);

/*
 * Counts one query that got no answer (runt, response, oversized, or no reply could be built)
 * in the per-second series, in the second of start (CLOCK_MONOTONIC).  sw NULL does nothing.
 */
void stats_note_dropped(struct stats_worker *sw, const struct timespec *start);

/*
 * Any thread: copies the worker's series of monotonic second sec into out (zeros when the
 * worker saw no query then).  false when the slot was being reused or already holds a later
 * second (sec is older than STATS_SEC_LIVE): out is then not to be trusted.
 */
bool stats_worker_second(const struct stats_worker *sw, int64_t sec, uint64_t out[STATS_SERIES]);

/*
 * The worker's thread (or any thread once the worker stopped): copies its kind, nxdomain,
 * servfail and refused counts into c, so that a snapshot of c taken at the same moment is
 * consistent.  sw NULL zeroes them.
 */
void stats_worker_read(const struct stats_worker *sw, struct stats_counters *c);

/* Bucket of the latency histogram for ms. */
unsigned stats_lat_bucket(double ms);

/* Midpoint in ms of bucket b (what percentiles report). */
double stats_lat_value(unsigned b);

/* ------------------------------------------------------------------------------------------ */
/* Server log lines                                                                            */

/*
 * From now on every line logged with tdns_log is also kept in a ring of the last
 * STATS_SLOG_LINES lines for `log show --server` and `log follow --server`.  Idempotent;
 * stats_recorder_new calls it, tdnsd may call it earlier to keep its start-up lines.
 * TDNS_OK or TDNS_ENOMEM.
 */
int stats_slog_capture(void);

/* ------------------------------------------------------------------------------------------ */
/* The recorder, on the daemon's main thread                                                    */

/*
 * Starts sampling the counters of src (copied) once a second on base (the daemon's main
 * event base): the workers' per-second series merged second by second for the last 5 minutes
 * and per-minute series for the last hour (answers by kind, and by rcode and transport);
 * latency over the last minute.  Ten times a
 * second it reads the workers' query rings into the heavy-hitter sketches (whose counts are
 * halved every hour) and passes new entries to followers.  One recorder per process: it is
 * also what stats_recorder_get returns.  Caller frees with stats_recorder_free.  NULL on out
 * of memory.
 */
struct stats_recorder *stats_recorder_new(struct event_base *base, const struct stats_source *src);

/* Stops sampling and frees; accepts NULL. */
void stats_recorder_free(struct stats_recorder *r);

/* The daemon's recorder (the one created last and not yet freed), or NULL. */
struct stats_recorder *stats_recorder_get(void);

/* Queries per second averaged over the last 10 complete seconds (fewer right after start). */
double stats_recorder_qps(const struct stats_recorder *r);

/*
 * The `stats` reply: {"totals": {"queries", "udp", "tcp", "dropped", "truncated", ...},
 * "rcodes": {"NOERROR": n, ...}, "qtypes": {"A": n, ...}, "transports": {"udp": n, "tcp": n},
 * "kinds": {"authoritative": n, "cached": n, "forwarded": n, "recursive": n, "blocked": n,
 * "nxdomain": n, "servfail": n, "refused": n} (each answer counts once by where it came from,
 * and once more under nxdomain/servfail/refused when it has that rcode), "latency_ms":
 * {"p50", "p90", "p99", "samples"} over the last minute, "per_second": [{"t": unix time,
 * "queries": n, "authoritative": n, "cached", "forwarded", "recursive", "blocked", "failed",
 * "dropped"}, ...] for the complete seconds of the last 5 minutes, each query in the second it
 * arrived (queries is the sum of the others), "per_minute": [{the same, "udp", "tcp",
 * "rcodes": {...}}, ...] for the last hour, the current minute last}.  totals, rcodes, qtypes,
 * transports and kinds come from one snapshot (the source's refresh, then its totals), so
 * queries = dropped + the five kinds.  New reference owned by the caller.
 */
json_t *stats_recorder_json(struct stats_recorder *r);

/*
 * The `stats top` reply: {"clients": [{"key": "127.0.0.1", "count": n, "error": e}],
 * "names": [{"key": "www.example.com. A", ...}], "blocked": [{"key": "ads.example.", ...}],
 * "blocked_clients": [{"key": "192.0.2.7", ...}] (the clients of the blocked answers),
 * "window": "...", "total": n, "lost": n}: the count largest of each, largest first, from
 * every query since start with counts halved every hour.  count may exceed the true count by
 * at most error.  Reads the rings first, so queries answered before the call are included.
 * range > 0 (seconds, at most STATS_TOP_RANGE_MAX) counts only the queries answered in about
 * the last range seconds instead: slots of 15 s up to 5 minutes, of 5 minutes beyond, so the
 * window starts up to one slot earlier (the reply adds "range_seconds" and "covered_seconds");
 * counts and errors are then sums over the slots (a key a slot dropped counts less there).
 * New reference; NULL on out of memory.
 */
json_t *stats_recorder_top_json(struct stats_recorder *r, size_t count, int64_t range);

/* The longest range stats_recorder_top_json takes: an hour. */
#define STATS_TOP_RANGE_MAX 3600

/*
 * Which query entries `log show` and `log follow` pass: each member that is set narrows.
 * Server lines never pass an active filter.
 */
struct stats_log_filter {
	int family;               /* client prefix: AF_INET or AF_INET6; 0 = any client */
	uint8_t prefix;           /* bits of addr that must match */
	uint8_t addr[16];
	char name[1025];          /* "example.com.": that name and the names below it; "" any */
	char qtype[16];           /* "AAAA" as dns_type_to_text writes it; "" any */
	char rcode[16];           /* "NXDOMAIN" as dns_rcode_to_text writes it; "" any */
};

/*
 * Sets one member of f from text: key "client" (ADDR or ADDR/LEN), "name" (any case, with
 * or without the final dot), "type" (A, aaaa, TYPE65) or "rcode" (NXDOMAIN, RCODE11).
 * TDNS_OK, or TDNS_EINVAL with what was wrong and what was expected in err.
 */
int stats_log_filter_parse(struct stats_log_filter *f, const char *key, const char *value,
			   char *err, size_t errlen);

/* Whether f (NULL allowed) narrows anything. */
bool stats_log_filter_active(const struct stats_log_filter *f);

/* Whether the entry e (as passed to followers or listed by `log show`) passes f (NULL: all). */
bool stats_log_filter_match(const struct stats_log_filter *f, const json_t *e);

/*
 * Why the query-log entry e (as `log show` lists it) was blocked, for people: "by LIST:LINE,
 * group NAME" ("by the Firefox canary" without a list; the EDE is the entry's "ede"), or ""
 * when e has no block note.  short_list keeps only the list's last path component.  Written into buf (len > 0),
 * cut to fit.
 */
void stats_log_block_text(const json_t *e, bool short_list, char *buf, size_t len);

/*
 * The `log show` reply: {"entries": [...]} with the count most recent query entries
 * ({"type": "query", "t", "client", "name", "qtype", "rcode", "kind", "transport", "ms",
 * and "ede" when the reply had an Extended DNS Error, see stats_note_reply and
 * stats_note_block; for a blocked answer "block": {"list": name or null (the Firefox
 * canary), "line": n or null, "group": name or null}) that pass filter (NULL: all), and/or
 * server lines ({"type": "server", "t", "level", "message"}), oldest first.  New reference.
 */
json_t *stats_recorder_log_json(struct stats_recorder *r, size_t count, bool queries,
				bool server, const struct stats_log_filter *filter);

/*
 * A follower gets every new query entry and/or server line as a JSON object (borrowed for the
 * call) ten times a second, on the main thread.  fn returns false when it could not take the
 * entry (a slow client); the recorder then counts it, and passes {"type": "dropped", "count":
 * n} before the next entry fn takes.  Entries the workers overwrote before they were read
 * count as dropped too.  When the recorder is freed first, fn is called once with entry NULL
 * and the follower is freed with the recorder.
 */
typedef bool (*stats_follow_fn)(void *arg, json_t *entry);

struct stats_follower;

/*
 * Adds a follower that gets the entries passing filter (copied; NULL: all); NULL on out of
 * memory.  Remove it with stats_recorder_unfollow.
 */
struct stats_follower *stats_recorder_follow(struct stats_recorder *r, bool queries, bool server,
					     const struct stats_log_filter *filter,
					     stats_follow_fn fn, void *arg);

/* Removes and frees f; accepts NULL. */
void stats_recorder_unfollow(struct stats_recorder *r, struct stats_follower *f);


/* ------------------------------------------------------------------------------------------ */
/* DNSSEC validation counters (dnssec.c, issue 16): process-wide, any thread.                  */

/* What validation made of an answer (RFC 4035 §4.3). */
enum stats_dnssec {
	STATS_DNSSEC_SECURE,
	STATS_DNSSEC_INSECURE,
	STATS_DNSSEC_BOGUS,
	STATS_DNSSEC_INDETERMINATE,
	STATS_DNSSEC_STATES
};

/*
 * Counts n answers the validator classified as state (an out-of-range state is ignored).
 * One relaxed atomic add: the validator calls it on every answer it checks (cache hits
 * included), from any worker thread.
 */
void stats_dnssec_count(enum stats_dnssec state, uint64_t n);

/* Copies the counters since start into out, indexed by enum stats_dnssec. */
void stats_dnssec_read(uint64_t out[STATS_DNSSEC_STATES]);

/* "secure", "insecure", "bogus", "indeterminate" ("unknown" out of range). */
const char *stats_dnssec_name(enum stats_dnssec state);

/*
 * {"secure": n, "insecure": n, "bogus": n, "indeterminate": n}: the "dnssec" member of the
 * `stats` reply and of `dnssec status`.  New reference, NULL on out of memory.
 */
json_t *stats_dnssec_json(void);

#endif
