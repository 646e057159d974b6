/* SPDX-License-Identifier: MIT */
/* Private to src/stats: the heavy-hitter sketch (top.c) and the log ring buffers (qlog.c). */
#ifndef TDNS_STATS_INT_H
#define TDNS_STATS_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stats/stats.h"

/* ------------------------------------------------------------------------------------------ */
/* Heavy hitters (top.c): the space-saving sketch of Metwally, Agrawal and El Abbadi (2005).    */

#define STATS_TOP_KEY_MAX 260 /* a wire name (255) with its qtype, or an address */

/* One counted key as listed by stats_top_list. */
struct stats_top_item {
	uint8_t key[STATS_TOP_KEY_MAX];
	size_t keylen;
	uint64_t count;           /* estimate: never below the true count */
	uint64_t error;           /* count - error never exceeds the true count */
};

struct stats_top;

/*
 * A sketch of capacity counters for keys of at most keymax bytes (<= STATS_TOP_KEY_MAX).
 * Memory is fixed at creation (stats_top_memory).  Every key seen more than N / capacity
 * times in a stream of N is in the sketch; while no more than capacity distinct keys were
 * seen, every count is exact.  Caller frees with stats_top_free; NULL on out of memory.
 */
struct stats_top *stats_top_new(size_t capacity, size_t keymax);

/* Frees; accepts NULL. */
void stats_top_free(struct stats_top *t);

/*
 * Counts n occurrences of key[0..keylen) (longer keys are cut at keymax).  O(log capacity),
 * no allocation; when the sketch is full the smallest counter is given to the new key.
 */
void stats_top_add(struct stats_top *t, const void *key, size_t keylen, uint64_t n);

/* The hash stats_top_add uses for key[0..keylen), computed once for several sketches. */
uint64_t stats_top_hash(const void *key, size_t keylen);

/*
 * stats_top_add with the key's hash h = stats_top_hash(key, keylen) given, keylen already
 * at most the sketch's keymax.
 */
void stats_top_add_hashed(struct stats_top *t, const void *key, size_t keylen, uint64_t h,
			  uint64_t n);

/*
 * Copies the at most max largest counters into out, largest first (ties by key), and
 * returns how many.
 */
size_t stats_top_list(const struct stats_top *t, struct stats_top_item *out, size_t max);

/* Forgets every key and the total (memory stays allocated). */
void stats_top_clear(struct stats_top *t);

/* Halves every counter (decay); counters that reach zero are dropped. */
void stats_top_halve(struct stats_top *t);

/* Number of keys held. */
size_t stats_top_size(const struct stats_top *t);

/* Bytes allocated for t, fixed from stats_top_new on. */
size_t stats_top_memory(const struct stats_top *t);

/* Sum of every n given to stats_top_add since creation, halved with the counters. */
uint64_t stats_top_total(const struct stats_top *t);

/* ------------------------------------------------------------------------------------------ */
/* The query-log ring (qlog.c): one per worker, one writer, readers that never stop it.         */

#define STATS_QBLOCK_HEAD 7       /* a block note's EDE code, line and group length */

/* One answered query, as the worker saw it. */
struct stats_qentry {
	double t;                 /* unix time of the reply */
	float ms;                 /* from the query's arrival to the reply */
	uint16_t qtype;
	int16_t rcode;            /* full rcode (BADVERS included) */
	int32_t ede;              /* the reply's first EDE info-code (RFC 8914), -1 for none */
	uint8_t kind;             /* enum stats_kind */
	uint8_t transport;        /* enum stats_transport */
	uint8_t family;           /* AF_INET, AF_INET6, or 0 when unknown */
	uint8_t qname_len;        /* wire length of qname, 0 when the query had no question */
	uint8_t block_len;        /* octets of the block note after the qname; 0: none */
	uint16_t port;            /* client port, host order */
	uint8_t addr[16];         /* client address (4 bytes used for AF_INET) */
	/*
	 * The qname in wire form, case as received, then block_len octets of block note
	 * (stats_note_block): the EDE code (2 octets, big-endian), the list's line (4), the
	 * length of the group's name (1), the group's name, then the list's name to the end.
	 * Bytes past qname_len + block_len are not copied through the ring.
	 */
	uint8_t qname[255 + STATS_QBLOCK_MAX];
};

struct stats_qring;

/* A ring of capacity entries (rounded up to a power of two).  NULL on out of memory. */
struct stats_qring *stats_qring_new(size_t capacity);

/* Frees; accepts NULL. */
void stats_qring_free(struct stats_qring *r);

/* Capacity in entries. */
size_t stats_qring_capacity(const struct stats_qring *r);

/*
 * Writer only (one thread): appends a copy of e.  The oldest entry is overwritten when the
 * ring is full: the writer never waits for readers.
 */
void stats_qring_put(struct stats_qring *r, const struct stats_qentry *e);

/* The sequence number the next entry will get (entries so far); any thread. */
uint64_t stats_qring_head(const struct stats_qring *r);

/*
 * Any thread: copies entries from sequence *cursor on into out (at most max), oldest first,
 * and moves *cursor past them.  Entries overwritten before they could be read are skipped
 * and added to *lost (may be NULL).  Returns the number copied.
 */
size_t stats_qring_read(const struct stats_qring *r, uint64_t *cursor, struct stats_qentry *out,
			size_t max, uint64_t *lost);

/* ------------------------------------------------------------------------------------------ */
/* The server-log ring (qlog.c): any number of writers (every thread logs), under a mutex.     */

#define STATS_SLOG_MSG 512        /* longer lines are cut */

struct stats_sentry {
	double t;
	int level;                /* enum tdns_log_level */
	char msg[STATS_SLOG_MSG];
};

struct stats_slog;

/* A ring of capacity lines.  NULL on out of memory. */
struct stats_slog *stats_slog_new(size_t capacity);

/* Frees; accepts NULL. */
void stats_slog_free(struct stats_slog *s);

/* Appends one line stamped with the current time, overwriting the oldest when full. */
void stats_slog_put(struct stats_slog *s, int level, const char *msg);

/* The sequence number of the next line. */
uint64_t stats_slog_head(struct stats_slog *s);

/* Like stats_qring_read, for lines. */
size_t stats_slog_read(struct stats_slog *s, uint64_t *cursor, struct stats_sentry *out,
		       size_t max, uint64_t *lost);

/*
 * The daemon's one server-log ring: created by stats_slog_capture (which hooks tdns_log)
 * and kept until exit; NULL before.
 */
struct stats_slog *stats_slog_global(void);

#endif
