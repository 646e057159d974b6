/* SPDX-License-Identifier: MIT */
/* Unit tests for src/stats/qlog.c: the query ring and the server-log ring. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "core/core.h"
#include "stats/stats.h"
#include "stats/stats_int.h"

static void
put(struct stats_qring *r, uint16_t qtype)
{
	struct stats_qentry e;
	memset(&e, 0, sizeof(e));
	e.qtype = qtype;
	e.t = qtype;
	stats_qring_put(r, &e);
}

static void
test_qring_reads_in_order_and_resumes_at_the_cursor(void **state)
{
	(void)state;
	struct stats_qring *r = stats_qring_new(8);
	assert_non_null(r);
	assert_int_equal(stats_qring_capacity(r), 8);
	for (uint16_t i = 1; i <= 5; i++) {
		put(r, i);
	}
	assert_int_equal(stats_qring_head(r), 5);
	struct stats_qentry out[8];
	uint64_t cursor = 0, lost = 0;
	assert_int_equal(stats_qring_read(r, &cursor, out, 3, &lost), 3);
	assert_int_equal(out[0].qtype, 1);
	assert_int_equal(out[2].qtype, 3);
	assert_int_equal(cursor, 3);
	assert_int_equal(stats_qring_read(r, &cursor, out, 8, &lost), 2);
	assert_int_equal(out[0].qtype, 4);
	assert_int_equal(out[1].qtype, 5);
	assert_int_equal(stats_qring_read(r, &cursor, out, 8, &lost), 0);
	assert_int_equal(lost, 0);
	stats_qring_free(r);
}

static void
test_qring_wraps_around_and_counts_what_was_overwritten(void **state)
{
	(void)state;
	struct stats_qring *r = stats_qring_new(5); /* rounded up to 8 */
	assert_int_equal(stats_qring_capacity(r), 8);
	for (uint16_t i = 1; i <= 20; i++) {
		put(r, i);
	}
	struct stats_qentry out[16];
	uint64_t cursor = 0, lost = 0;
	size_t n = stats_qring_read(r, &cursor, out, 16, &lost);
	/* Entries 1..12 were overwritten; 13..20 are still there, oldest first. */
	assert_int_equal(n, 8);
	assert_int_equal(lost, 12);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(out[i].qtype, 13 + i);
	}
	assert_int_equal(cursor, 20);
	/* A reader keeping up loses nothing across the wrap. */
	for (uint16_t i = 21; i <= 27; i++) {
		put(r, i);
	}
	n = stats_qring_read(r, &cursor, out, 16, &lost);
	assert_int_equal(n, 7);
	assert_int_equal(out[0].qtype, 21);
	assert_int_equal(lost, 12);
	stats_qring_free(r);
}

/* A writer thread racing a reader: whatever the reader keeps is whole and in order. */
struct race {
	struct stats_qring *r;
	unsigned count;
};

static void *
writer(void *arg)
{
	struct race *rc = arg;
	for (unsigned i = 1; i <= rc->count; i++) {
		struct stats_qentry e;
		memset(&e, 0, sizeof(e));
		e.t = (double)i;
		e.qtype = (uint16_t)i;
		memset(e.qname, (int)(i & 0xff), sizeof(e.qname));
		e.qname_len = (uint8_t)(i & 0xff);
		stats_qring_put(rc->r, &e);
	}
	return NULL;
}

static void
test_qring_reader_never_sees_a_torn_entry(void **state)
{
	(void)state;
	struct race rc = { .r = stats_qring_new(64), .count = 200000 };
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, writer, &rc), 0);
	uint64_t cursor = 0, lost = 0, got = 0;
	double last = 0;
	struct stats_qentry out[32];
	while (cursor < rc.count) {
		size_t n = stats_qring_read(rc.r, &cursor, out, 32, &lost);
		for (size_t i = 0; i < n; i++) {
			unsigned v = (unsigned)out[i].t;
			assert_true(out[i].t > last);
			last = out[i].t;
			assert_int_equal(out[i].qtype, (uint16_t)v);
			assert_int_equal(out[i].qname_len, v & 0xff);
			/* Every byte in use is this entry's (the rest of qname is not copied). */
			for (size_t k = 0; k < out[i].qname_len; k++) {
				assert_int_equal(out[i].qname[k], v & 0xff);
			}
		}
		got += n;
	}
	pthread_join(th, NULL);
	assert_int_equal(got + lost, rc.count);
	stats_qring_free(rc.r);
}

static void
test_slog_wraps_around_and_counts_drops(void **state)
{
	(void)state;
	struct stats_slog *s = stats_slog_new(4);
	assert_non_null(s);
	char msg[32];
	for (int i = 1; i <= 6; i++) {
		snprintf(msg, sizeof(msg), "line %d", i);
		stats_slog_put(s, TDNS_LOG_INFO, msg);
	}
	assert_int_equal(stats_slog_head(s), 6);
	struct stats_sentry out[8];
	uint64_t cursor = 0, lost = 0;
	size_t n = stats_slog_read(s, &cursor, out, 8, &lost);
	assert_int_equal(n, 4);
	assert_int_equal(lost, 2);
	assert_string_equal(out[0].msg, "line 3");
	assert_string_equal(out[3].msg, "line 6");
	assert_int_equal(out[3].level, TDNS_LOG_INFO);
	assert_true(out[3].t >= out[0].t);
	assert_true(out[0].t > 1e9);
	stats_slog_free(s);
}

static void
test_slog_cuts_long_lines(void **state)
{
	(void)state;
	struct stats_slog *s = stats_slog_new(2);
	char big[2000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	stats_slog_put(s, TDNS_LOG_WARNING, big);
	struct stats_sentry out;
	uint64_t cursor = 0;
	assert_int_equal(stats_slog_read(s, &cursor, &out, 1, NULL), 1);
	assert_int_equal(strlen(out.msg), STATS_SLOG_MSG - 1);
	stats_slog_free(s);
}

static void
test_capture_keeps_every_logged_line(void **state)
{
	(void)state;
	tdns_log_init(true, TDNS_LOG_INFO);
	assert_int_equal(stats_slog_capture(), TDNS_OK);
	struct stats_slog *s = stats_slog_global();
	assert_non_null(s);
	uint64_t cursor = stats_slog_head(s);
	tdns_info("captured %d", 42);
	tdns_debug("below the level, not kept");
	struct stats_sentry out[4];
	size_t n = stats_slog_read(s, &cursor, out, 4, NULL);
	assert_int_equal(n, 1);
	assert_string_equal(out[0].msg, "captured 42");
	assert_int_equal(out[0].level, TDNS_LOG_INFO);
}

static void
test_note_packet_records_question_client_and_latency(void **state)
{
	(void)state;
	struct stats_worker *sw = stats_worker_new();
	assert_non_null(sw);
	/* A query for www.example.com. AAAA. */
	static const uint8_t pkt[] = {
		0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		3, 'w', 'w', 'w', 7, 'E', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
		0x00, 0x1c, 0x00, 0x01,
	};
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(5353) };
	sin.sin_addr.s_addr = htonl(0x7f000002);
	/* The query arrived half a millisecond ago. */
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	if (start.tv_nsec >= 500000) {
		start.tv_nsec -= 500000;
	} else {
		start.tv_sec--;
		start.tv_nsec += 1000000000 - 500000;
	}
	stats_note_packet(sw, (struct sockaddr *)&sin, pkt, sizeof(pkt), 3,
			  STATS_KIND_AUTHORITATIVE, STATS_TRANSPORT_UDP, &start);
	/* A runt: counted, logged without a question. */
	stats_note_packet(sw, NULL, pkt, 12, 1, STATS_KIND_CACHED, STATS_TRANSPORT_TCP, &start);
	assert_int_equal(atomic_load(&sw->kind[STATS_KIND_AUTHORITATIVE]), 1);
	assert_int_equal(atomic_load(&sw->kind[STATS_KIND_CACHED]), 1);
	assert_int_equal(atomic_load(&sw->nxdomain), 1);
	struct stats_qentry out[2];
	uint64_t cursor = 0;
	assert_int_equal(stats_qring_read(sw->ring, &cursor, out, 2, NULL), 2);
	assert_int_equal(out[0].family, AF_INET);
	assert_int_equal(out[0].port, 5353);
	assert_memory_equal(out[0].addr, "\x7f\x00\x00\x02", 4);
	assert_int_equal(out[0].qname_len, 17);
	assert_memory_equal(out[0].qname, pkt + 12, 17);
	assert_int_equal(out[0].qtype, 28);
	assert_int_equal(out[0].rcode, 3);
	assert_true(out[0].ms >= 0.5f && out[0].ms < 50.0f);
	assert_true(atomic_load(&sw->lat[stats_lat_bucket(out[0].ms)]) >= 1);
	/* Unix time, from the monotonic clock and the cached offset. */
	double now = (double)time(NULL);
	assert_true(out[0].t > now - 2 && out[0].t < now + 2);
	assert_true(out[1].t >= out[0].t);
	assert_int_equal(out[1].qname_len, 0);
	assert_int_equal(out[1].family, 0);
	assert_int_equal(out[1].transport, STATS_TRANSPORT_TCP);
	stats_worker_free(sw);
}

static void
test_latency_buckets_are_monotonic_and_close(void **state)
{
	(void)state;
	unsigned prev = 0;
	for (double ms = 0.0001; ms < 30000; ms *= 1.07) {
		unsigned b = stats_lat_bucket(ms);
		assert_true(b >= prev);
		assert_true(b < STATS_LAT_BUCKETS);
		prev = b;
		double v = stats_lat_value(b);
		/* Four buckets per octave: the midpoint is within 12.5 % of any value inside. */
		assert_true(v > ms * 0.87 && v < ms * 1.13);
	}
	assert_int_equal(stats_lat_bucket(0), 0);
	assert_int_equal(stats_lat_bucket(-1), 0);
	assert_int_equal(stats_lat_bucket(1e12), STATS_LAT_BUCKETS - 1);
}

/* Issue 16: a SERVFAIL reply's EDE reaches the entry; NOERROR replies are not read. */
static void
test_reply_ede_is_noted_with_the_entry(void **state)
{
	(void)state;
	struct stats_worker *sw = stats_worker_new();
	assert_non_null(sw);
	/* SERVFAIL for example.com. A, an OPT with a cookie option then EDE 6 "x". */
	static const uint8_t servfail[] = {
		0x12, 0x34, 0x81, 0x02, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
		7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0x00, 0x01, 0x00, 0x01,
		0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x13,
		0x00, 0x0a, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8,
		0x00, 0x0f, 0x00, 0x03, 0x00, 0x06, 'x',
	};
	uint8_t noerror[sizeof(servfail)];
	memcpy(noerror, servfail, sizeof(noerror));
	noerror[3] = 0x00;
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	stats_note_reply(sw, servfail, sizeof(servfail));
	stats_note_packet(sw, NULL, servfail, sizeof(servfail), 2, STATS_KIND_RECURSIVE,
			  STATS_TRANSPORT_UDP, &start);
	/* Consumed by that entry: the next one has none unless its reply says so. */
	stats_note_packet(sw, NULL, servfail, sizeof(servfail), 2, STATS_KIND_RECURSIVE,
			  STATS_TRANSPORT_UDP, &start);
	stats_note_reply(sw, noerror, sizeof(noerror));
	stats_note_packet(sw, NULL, noerror, sizeof(noerror), 0, STATS_KIND_RECURSIVE,
			  STATS_TRANSPORT_UDP, &start);
	/* A reply cut inside its OPT: no EDE, no read past the end. */
	stats_note_reply(sw, servfail, sizeof(servfail) - 4);
	stats_note_packet(sw, NULL, servfail, 12, 2, STATS_KIND_RECURSIVE, STATS_TRANSPORT_UDP,
			  &start);
	struct stats_qentry out[4];
	uint64_t cursor = 0;
	assert_int_equal(stats_qring_read(sw->ring, &cursor, out, 4, NULL), 4);
	assert_int_equal(out[0].ede, 6);
	assert_int_equal(out[1].ede, -1);
	assert_int_equal(out[2].ede, -1);
	assert_int_equal(out[3].ede, -1);
	stats_worker_free(sw);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qring_reads_in_order_and_resumes_at_the_cursor),
		cmocka_unit_test(test_qring_wraps_around_and_counts_what_was_overwritten),
		cmocka_unit_test(test_qring_reader_never_sees_a_torn_entry),
		cmocka_unit_test(test_slog_wraps_around_and_counts_drops),
		cmocka_unit_test(test_slog_cuts_long_lines),
		cmocka_unit_test(test_capture_keeps_every_logged_line),
		cmocka_unit_test(test_note_packet_records_question_client_and_latency),
		cmocka_unit_test(test_latency_buckets_are_monotonic_and_close),
		cmocka_unit_test(test_reply_ede_is_noted_with_the_entry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
