/* SPDX-License-Identifier: MIT */
/* Ring buffers of recent queries (one writer, lock-free) and server log lines (mutex). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/core.h"
#include "dns/dns.h"
#include "stats/stats.h"
#include "stats/stats_int.h"

/* ------------------------------------------------------------------------------------------ */
/* Queries                                                                                      */

/*
 * Each slot is guarded by a sequence lock: the writer marks it busy (0), writes, then stamps
 * it with its sequence number + 1.  A reader copies the slot and keeps the copy only when the
 * stamp was the expected one before and after, so the worker never waits for anybody.  The
 * contents are copied as relaxed atomic words, which keeps the race with the writer defined.
 */
#define QWORDS ((sizeof(struct stats_qentry) + 7) / 8)

struct qslot {
	_Atomic uint64_t stamp;
	_Atomic uint64_t w[QWORDS];
};

struct stats_qring {
	size_t mask;
	_Atomic uint64_t head;    /* entries published so far */
	struct qslot *slots;
};

struct stats_qring *
stats_qring_new(size_t capacity)
{
	size_t cap = 2;
	while (cap < capacity) {
		cap *= 2;
	}
	struct stats_qring *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		return NULL;
	}
	r->slots = calloc(cap, sizeof(*r->slots));
	if (r->slots == NULL) {
		free(r);
		return NULL;
	}
	r->mask = cap - 1;
	return r;
}

void
stats_qring_free(struct stats_qring *r)
{
	if (r == NULL) {
		return;
	}
	free(r->slots);
	free(r);
}

size_t
stats_qring_capacity(const struct stats_qring *r)
{
	return r->mask + 1;
}

void
stats_qring_put(struct stats_qring *r, const struct stats_qentry *e)
{
	/* Only the words in use: names are short, the rest of qname is never looked at. */
	size_t used = offsetof(struct stats_qentry, qname) + e->qname_len + e->block_len;
	size_t nwords = (used + 7) / 8;
	uint64_t words[QWORDS];
	memcpy(words, e, nwords * 8 <= sizeof(*e) ? nwords * 8 : sizeof(*e));
	uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
	struct qslot *s = &r->slots[h & r->mask];
	atomic_store_explicit(&s->stamp, 0, memory_order_relaxed);
	/* Readers that see any of the new contents must also see the busy mark. */
	atomic_thread_fence(memory_order_release);
	for (size_t i = 0; i < nwords; i++) {
		atomic_store_explicit(&s->w[i], words[i], memory_order_relaxed);
	}
	atomic_store_explicit(&s->stamp, h + 1, memory_order_release);
	atomic_store_explicit(&r->head, h + 1, memory_order_release);
}

uint64_t
stats_qring_head(const struct stats_qring *r)
{
	return atomic_load_explicit(&((struct stats_qring *)r)->head, memory_order_acquire);
}

size_t
stats_qring_read(const struct stats_qring *r, uint64_t *cursor, struct stats_qentry *out,
		 size_t max, uint64_t *lost)
{
	struct stats_qring *rw = (struct stats_qring *)r;
	uint64_t head = atomic_load_explicit(&rw->head, memory_order_acquire);
	uint64_t cap = r->mask + 1;
	uint64_t skipped = 0;
	if (*cursor > head) {
		*cursor = head;
	}
	size_t n = 0;
	while (n < max && *cursor < head) {
		uint64_t seq = *cursor;
		if (head - seq > cap) {
			/* Overwritten already; jump to the oldest entry still there. */
			skipped += head - cap - seq;
			*cursor = head - cap;
			continue;
		}
		struct qslot *s = &rw->slots[seq & r->mask];
		uint64_t before = atomic_load_explicit(&s->stamp, memory_order_acquire);
		uint64_t words[QWORDS];
		/* The fixed part first; it says how much of qname is in use. */
		size_t fixed = (offsetof(struct stats_qentry, qname) + 7) / 8;
		for (size_t i = 0; i < fixed; i++) {
			words[i] = atomic_load_explicit(&s->w[i], memory_order_relaxed);
		}
		uint8_t qlen, blen;
		memcpy(&qlen, (const uint8_t *)words + offsetof(struct stats_qentry, qname_len), 1);
		memcpy(&blen, (const uint8_t *)words + offsetof(struct stats_qentry, block_len), 1);
		size_t used = offsetof(struct stats_qentry, qname) + qlen + blen;
		size_t nwords = (used + 7) / 8;
		for (size_t i = fixed; i < nwords && i < QWORDS; i++) {
			words[i] = atomic_load_explicit(&s->w[i], memory_order_relaxed);
		}
		atomic_thread_fence(memory_order_acquire);
		uint64_t after = atomic_load_explicit(&s->stamp, memory_order_relaxed);
		(*cursor)++;
		if (before != seq + 1 || after != before) {
			/* The writer lapped us while we copied. */
			skipped++;
			continue;
		}
		memcpy(&out[n], words, nwords * 8 < sizeof(out[n]) ? nwords * 8 : sizeof(out[n]));
		n++;
	}
	if (lost != NULL) {
		*lost += skipped;
	}
	return n;
}

/* ------------------------------------------------------------------------------------------ */
/* Server log                                                                                   */

struct stats_slog {
	pthread_mutex_t lock;
	size_t cap;
	uint64_t head;
	struct stats_sentry *lines;
};

struct stats_slog *
stats_slog_new(size_t capacity)
{
	struct stats_slog *s = calloc(1, sizeof(*s));
	if (s == NULL || capacity == 0) {
		free(s);
		return NULL;
	}
	s->lines = calloc(capacity, sizeof(*s->lines));
	if (s->lines == NULL) {
		free(s);
		return NULL;
	}
	s->cap = capacity;
	pthread_mutex_init(&s->lock, NULL);
	return s;
}

void
stats_slog_free(struct stats_slog *s)
{
	if (s == NULL) {
		return;
	}
	pthread_mutex_destroy(&s->lock);
	free(s->lines);
	free(s);
}

void
stats_slog_put(struct stats_slog *s, int level, const char *msg)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	pthread_mutex_lock(&s->lock);
	struct stats_sentry *e = &s->lines[s->head % s->cap];
	e->t = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	e->level = level;
	snprintf(e->msg, sizeof(e->msg), "%s", msg);
	s->head++;
	pthread_mutex_unlock(&s->lock);
}

uint64_t
stats_slog_head(struct stats_slog *s)
{
	pthread_mutex_lock(&s->lock);
	uint64_t h = s->head;
	pthread_mutex_unlock(&s->lock);
	return h;
}

size_t
stats_slog_read(struct stats_slog *s, uint64_t *cursor, struct stats_sentry *out, size_t max,
		uint64_t *lost)
{
	pthread_mutex_lock(&s->lock);
	if (*cursor > s->head) {
		*cursor = s->head;
	}
	if (s->head - *cursor > s->cap) {
		if (lost != NULL) {
			*lost += s->head - s->cap - *cursor;
		}
		*cursor = s->head - s->cap;
	}
	size_t n = 0;
	for (; n < max && *cursor < s->head; n++, (*cursor)++) {
		out[n] = s->lines[*cursor % s->cap];
	}
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* The daemon's ring, filled from tdns_log by the hook below. */
static struct stats_slog *_Atomic slog_global;

struct stats_slog *
stats_slog_global(void)
{
	return atomic_load(&slog_global);
}

static void
slog_hook(enum tdns_log_level level, const char *msg)
{
	struct stats_slog *s = atomic_load(&slog_global);
	if (s != NULL) {
		stats_slog_put(s, (int)level, msg);
	}
}

int
stats_slog_capture(void)
{
	if (atomic_load(&slog_global) != NULL) {
		return TDNS_OK;
	}
	struct stats_slog *s = stats_slog_new(STATS_SLOG_LINES);
	if (s == NULL) {
		return TDNS_ENOMEM;
	}
	struct stats_slog *expected = NULL;
	if (!atomic_compare_exchange_strong(&slog_global, &expected, s)) {
		stats_slog_free(s);
	}
	/* Kept until exit: workers may log until the very end. */
	tdns_log_set_hook(slog_hook);
	return TDNS_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* The EDE of a reply, for its query-log entry (issue 16)                                       */

/* Offset past the (possibly compressed) name at off, or 0 when it runs past len. */
static size_t
skip_name(const uint8_t *p, size_t len, size_t off)
{
	while (off < len) {
		uint8_t l = p[off];
		if (l == 0) {
			return off + 1;
		}
		if ((l & 0xc0) == 0xc0) {
			return off + 2 <= len ? off + 2 : 0;
		}
		if (l & 0xc0) {
			return 0;
		}
		off += 1u + l;
	}
	return 0;
}

/* The first EDE info-code in the OPT record of reply, or -1. */
static int
reply_ede(const uint8_t *p, size_t len)
{
	if (len < DNS_HDR_LEN || tdns_get16(p + 10) == 0) {
		return -1;
	}
	size_t off = DNS_HDR_LEN;
	for (unsigned q = tdns_get16(p + 4); q > 0; q--) {
		off = skip_name(p, len, off);
		if (off == 0 || (off += 4) > len) {
			return -1;
		}
	}
	unsigned rrs = (unsigned)tdns_get16(p + 6) + tdns_get16(p + 8) + tdns_get16(p + 10);
	for (unsigned i = 0; i < rrs; i++) {
		off = skip_name(p, len, off);
		if (off == 0 || off + 10 > len) {
			return -1;
		}
		uint16_t type = tdns_get16(p + off), rdlen = tdns_get16(p + off + 8);
		off += 10;
		if (off + rdlen > len) {
			return -1;
		}
		/* RFC 6891 §6.1.2: options are code, length, data. */
		for (size_t o = off; type == DNS_TYPE_OPT && o + 4 <= off + rdlen;) {
			uint16_t code = tdns_get16(p + o), olen = tdns_get16(p + o + 2);
			if (code == DNS_OPT_CODE_EDE && olen >= 2 && o + 6 <= off + rdlen) {
				return tdns_get16(p + o + 4);
			}
			o += 4u + olen;
		}
		off += rdlen;
	}
	return -1;
}

void
stats_note_reply(struct stats_worker *sw, const uint8_t *reply, size_t len)
{
	if (sw == NULL || len < DNS_HDR_LEN) {
		return;
	}
	/* The common answers carry no EDE worth logging: read nothing for them. */
	unsigned rcode = reply[3] & 0x0f;
	if (rcode == DNS_RCODE_NOERROR || rcode == DNS_RCODE_NXDOMAIN) {
		sw->next_ede = 0;
		return;
	}
	sw->next_ede = reply_ede(reply, len) + 1;
}
