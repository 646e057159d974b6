/* SPDX-License-Identifier: MIT */
/* Unit tests for src/stats/stats.c: the per-second series and the recorder's one snapshot. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <event2/event.h>

#include "core/core.h"
#include "dns/dns.h"
#include "stats/stats.h"
#include "stats/stats_int.h"

static const uint8_t QNAME[] = "\3www\7example\3com";

static struct timespec
mono_ago(int seconds)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec -= seconds;
	return ts;
}

static void
note(struct stats_worker *sw, int rcode, enum stats_kind kind, const struct timespec *start)
{
	stats_note_query(sw, NULL, QNAME, DNS_TYPE_A, rcode, kind, STATS_TRANSPORT_UDP, start);
}

static void
test_series_counts_each_query_in_the_second_it_arrived(void **state)
{
	(void)state;
	struct stats_worker *sw = stats_worker_new();
	assert_non_null(sw);
	/* Answered now, arrived three seconds ago (a slow upstream): counted back then. */
	struct timespec old = mono_ago(3), now = mono_ago(0);
	note(sw, DNS_RCODE_NOERROR, STATS_KIND_FORWARDED, &old);
	note(sw, DNS_RCODE_NOERROR, STATS_KIND_AUTHORITATIVE, &now);
	note(sw, DNS_RCODE_SERVFAIL, STATS_KIND_RECURSIVE, &now);
	note(sw, DNS_RCODE_NXDOMAIN, STATS_KIND_CACHED, &now);
	stats_note_dropped(sw, &now);
	uint64_t n[STATS_SERIES];
	assert_true(stats_worker_second(sw, old.tv_sec, n));
	assert_int_equal(n[STATS_KIND_FORWARDED], 1);
	uint64_t sum = 0;
	for (size_t i = 0; i < STATS_SERIES; i++) {
		sum += n[i];
	}
	assert_int_equal(sum, 1);
	assert_true(stats_worker_second(sw, now.tv_sec, n));
	assert_int_equal(n[STATS_KIND_AUTHORITATIVE], 1);
	assert_int_equal(n[STATS_KIND_CACHED], 1);          /* NXDOMAIN is an answer */
	assert_int_equal(n[STATS_KIND_RECURSIVE], 0);       /* SERVFAIL counts as failed */
	assert_int_equal(n[STATS_SERIES_FAILED], 1);
	assert_int_equal(n[STATS_SERIES_DROPPED], 1);
	/* A second in between saw nothing. */
	assert_true(stats_worker_second(sw, old.tv_sec + 1, n));
	assert_int_equal(n[STATS_KIND_FORWARDED] + n[STATS_KIND_AUTHORITATIVE], 0);
	stats_worker_free(sw);
}

static void
test_series_reply_later_than_the_ring_counts_when_sent(void **state)
{
	(void)state;
	struct stats_worker *sw = stats_worker_new();
	assert_non_null(sw);
	struct timespec ancient = mono_ago(STATS_SEC_SLOTS * 2), now = mono_ago(0);
	note(sw, DNS_RCODE_NOERROR, STATS_KIND_RECURSIVE, &ancient);
	uint64_t n[STATS_SERIES];
	/* (The clock may have moved on to the next second since now was read.) */
	assert_true(stats_worker_second(sw, now.tv_sec, n));
	if (n[STATS_KIND_RECURSIVE] == 0) {
		assert_true(stats_worker_second(sw, now.tv_sec + 1, n));
	}
	assert_int_equal(n[STATS_KIND_RECURSIVE], 1);
	/* The slot of a second reused by a later one is no longer that second's. */
	struct timespec later = now;
	later.tv_sec += STATS_SEC_SLOTS;
	stats_note_dropped(sw, &later); /* dropped queries count at their arrival */
	assert_false(stats_worker_second(sw, now.tv_sec, n));
	stats_worker_free(sw);
}

/* A fake server: two workers and a snapshot of counters fixed by the test. */
struct fake {
	struct stats_worker *sw[2];
	struct event_base *base;
	struct stats_counters snap;
	unsigned refreshed;
};

static struct stats_worker *
fake_worker(void *arg, unsigned i)
{
	return ((struct fake *)arg)->sw[i];
}

static void
fake_totals(void *arg, struct stats_counters *out)
{
	*out = ((struct fake *)arg)->snap;
}

static void
fake_refresh(void *arg)
{
	struct fake *f = arg;
	/* What a worker does when asked: copy its counters and its notes at one moment. */
	memset(&f->snap, 0, sizeof(f->snap));
	for (unsigned w = 0; w < 2; w++) {
		struct stats_counters c;
		memset(&c, 0, sizeof(c));
		stats_worker_read(f->sw[w], &c);
		for (size_t k = 0; k < STATS_KINDS; k++) {
			c.queries += c.kind[k];
		}
		stats_counters_add(&f->snap, &c);
	}
	f->refreshed++;
}

/*
 * A recorder reading f's two workers (through its refresh or not), with the workers and the
 * event base made at the first call (f zeroed before).
 */
static struct stats_recorder *
fake_start(struct fake *f, bool refresh)
{
	if (f->base == NULL) {
		f->sw[0] = stats_worker_new();
		f->sw[1] = stats_worker_new();
		f->base = event_base_new();
	}
	assert_non_null(f->base);
	struct stats_source src = { .nworkers = 2, .worker = fake_worker, .totals = fake_totals,
				    .refresh = refresh ? fake_refresh : NULL, .arg = f };
	struct stats_recorder *r = stats_recorder_new(f->base, &src);
	assert_non_null(r);
	return r;
}

static void
fake_stop(struct fake *f, struct stats_recorder *r)
{
	stats_recorder_free(r);
	event_base_free(f->base);
	stats_worker_free(f->sw[0]);
	stats_worker_free(f->sw[1]);
}

static long long
get(const json_t *o, const char *a, const char *b)
{
	return json_integer_value(json_object_get(json_object_get(o, a), b));
}

static void
test_recorder_takes_every_figure_from_one_snapshot(void **state)
{
	(void)state;
	struct fake f = { 0 };
	struct stats_recorder *r = fake_start(&f, false);
	struct timespec now = mono_ago(0);
	for (int i = 0; i < 7; i++) {
		note(f.sw[i % 2], DNS_RCODE_NOERROR, STATS_KIND_AUTHORITATIVE, &now);
	}
	/* Without a refresh the snapshot is the (empty) one the source holds, kinds included. */
	json_t *j = stats_recorder_json(r);
	assert_int_equal(get(j, "totals", "queries"), 0);
	assert_int_equal(get(j, "kinds", "authoritative"), 0);
	/* The series merges both workers' seconds: the current minute has all seven. */
	json_t *pm = json_object_get(j, "per_minute");
	long long sum = 0;
	for (size_t i = 0; i < json_array_size(pm); i++) {
		sum += json_integer_value(json_object_get(json_array_get(pm, i), "queries"));
	}
	assert_int_equal(sum, 7);
	json_decref(j);
	/* A recorder that refreshes takes the workers' notes into its snapshot. */
	stats_recorder_free(r);
	r = fake_start(&f, true);
	j = stats_recorder_json(r);
	assert_int_equal(f.refreshed, 1);
	assert_int_equal(get(j, "totals", "queries"), 7);
	assert_int_equal(get(j, "kinds", "authoritative"), 7);
	json_decref(j);
	fake_stop(&f, r);
}

/* Puts a query from 192.0.2.last, answered age seconds ago, in sw's ring. */
static void
put_query(struct stats_worker *sw, uint8_t last, int age)
{
	struct stats_qentry e;
	memset(&e, 0, sizeof(e));
	e.t = (double)time(NULL) - age;
	e.family = AF_INET;
	const uint8_t addr[4] = { 192, 0, 2, last };
	memcpy(e.addr, addr, 4);
	e.qname_len = sizeof(QNAME);
	memcpy(e.qname, QNAME, sizeof(QNAME));
	e.qtype = DNS_TYPE_A;
	stats_qring_put(sw->ring, &e);
}

/* The count of key in the list member of a `stats top` reply, 0 when absent. */
static long long
top_count(const json_t *top, const char *member, const char *key)
{
	size_t i;
	const json_t *e;
	json_array_foreach(json_object_get(top, member), i, e) {
		if (strcmp(json_string_value(json_object_get(e, "key")), key) == 0) {
			return json_integer_value(json_object_get(e, "count"));
		}
	}
	return 0;
}

static void
test_top_range_counts_only_the_recent_queries(void **state)
{
	(void)state;
	struct fake f = { 0 };
	struct stats_recorder *r = fake_start(&f, false);
	for (int i = 0; i < 3; i++) {
		put_query(f.sw[0], 1, 0);        /* now */
	}
	for (int i = 0; i < 5; i++) {
		put_query(f.sw[1], 2, 240);      /* four minutes ago */
	}
	for (int i = 0; i < 7; i++) {
		put_query(f.sw[1], 3, 1800);     /* half an hour ago */
	}
	static const struct {
		int64_t range;
		long long c1, c2, c3;
	} want[] = {
		{ 60, 3, 0, 0 }, { 300, 3, 5, 0 }, { 3600, 3, 5, 7 }, { 0, 3, 5, 7 },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		json_t *top = stats_recorder_top_json(r, 10, want[i].range);
		assert_non_null(top);
		assert_int_equal(top_count(top, "clients", "192.0.2.1"), want[i].c1);
		assert_int_equal(top_count(top, "clients", "192.0.2.2"), want[i].c2);
		assert_int_equal(top_count(top, "clients", "192.0.2.3"), want[i].c3);
		assert_int_equal(top_count(top, "names", "www.example.com. A"),
				 want[i].c1 + want[i].c2 + want[i].c3);
		json_decref(top);
	}
	fake_stop(&f, r);
}

static void
test_blocked_entries_carry_their_block_note_and_count_their_clients(void **state)
{
	(void)state;
	struct fake f = { 0 };
	struct stats_recorder *r = fake_start(&f, false);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(5353) };
	inet_pton(AF_INET, "192.0.2.9", &sin.sin_addr);
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	/* A long list name keeps its end; the note goes to the next entry only. */
	char list[300];
	memset(list, 'x', sizeof(list));
	snprintf(list + 200, sizeof(list) - 200, "/lists/hosts.txt");
	stats_note_block(f.sw[0], 15, list, 42, "kids");
	stats_note_query(f.sw[0], (struct sockaddr *)&sin, QNAME, DNS_TYPE_A, 3,
			 STATS_KIND_BLOCKED, STATS_TRANSPORT_UDP, &start);
	stats_note_query(f.sw[0], (struct sockaddr *)&sin, QNAME, DNS_TYPE_A, 0,
			 STATS_KIND_AUTHORITATIVE, STATS_TRANSPORT_UDP, &start);
	/* The canary: no list, no EDE. */
	stats_note_block(f.sw[0], 0, NULL, 0, NULL);
	stats_note_query(f.sw[0], NULL, QNAME, DNS_TYPE_A, 3, STATS_KIND_BLOCKED,
			 STATS_TRANSPORT_UDP, &start);
	json_t *log = stats_recorder_log_json(r, 10, true, false, NULL);
	const json_t *entries = json_object_get(log, "entries");
	assert_int_equal(json_array_size(entries), 3);
	const json_t *e = json_array_get(entries, 0);
	const json_t *b = json_object_get(e, "block");
	assert_int_equal(json_integer_value(json_object_get(e, "ede")), 15);
	assert_string_equal(json_string_value(json_object_get(b, "group")), "kids");
	assert_int_equal(json_integer_value(json_object_get(b, "line")), 42);
	const char *l = json_string_value(json_object_get(b, "list"));
	assert_non_null(l);
	assert_true(strlen(l) < STATS_QBLOCK_MAX);
	assert_string_equal(l + strlen(l) - 16, "/lists/hosts.txt");
	char text[200];
	stats_log_block_text(e, true, text, sizeof(text));
	assert_string_equal(text, "by hosts.txt:42, group kids");
	assert_null(json_object_get(json_array_get(entries, 1), "block"));
	e = json_array_get(entries, 2);
	assert_true(json_is_null(json_object_get(json_object_get(e, "block"), "list")));
	assert_null(json_object_get(e, "ede"));
	stats_log_block_text(e, true, text, sizeof(text));
	assert_string_equal(text, "by the Firefox canary");
	json_decref(log);
	json_t *top = stats_recorder_top_json(r, 10, 0);
	assert_int_equal(top_count(top, "blocked_clients", "192.0.2.9"), 1);
	assert_int_equal(top_count(top, "clients", "192.0.2.9"), 2);
	assert_int_equal(top_count(top, "blocked", "www.example.com."), 2);
	json_decref(top);
	fake_stop(&f, r);
}

static void
test_log_filter_matches_client_prefix_name_below_type_and_rcode(void **state)
{
	(void)state;
	json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", "query", "client", "10.1.2.3",
			      "name", "WWW.Example.com.", "qtype", "AAAA", "rcode", "NXDOMAIN");
	json_t *line = json_pack("{s:s, s:s}", "type", "server", "message", "hello");
	struct stats_log_filter f;
	memset(&f, 0, sizeof(f));
	assert_false(stats_log_filter_active(&f));
	assert_true(stats_log_filter_match(&f, line));
	f.family = AF_INET;
	f.prefix = 12;
	const uint8_t net[4] = { 10, 0, 0, 0 };
	memcpy(f.addr, net, 4);
	assert_true(stats_log_filter_match(&f, e));       /* 10.1/12 holds 10.1.2.3 */
	assert_false(stats_log_filter_match(&f, line));   /* server lines never pass */
	f.addr[1] = 16;
	assert_false(stats_log_filter_match(&f, e));      /* 10.16.0.0/12 does not */
	memset(&f, 0, sizeof(f));
	strcpy(f.name, "example.com.");
	assert_true(stats_log_filter_match(&f, e));
	strcpy(f.name, "ample.com.");                     /* a label boundary is needed */
	assert_false(stats_log_filter_match(&f, e));
	strcpy(f.name, "www.example.com.");
	strcpy(f.qtype, "AAAA");
	strcpy(f.rcode, "NXDOMAIN");
	assert_true(stats_log_filter_match(&f, e));
	strcpy(f.rcode, "NOERROR");
	assert_false(stats_log_filter_match(&f, e));
	json_decref(e);
	json_decref(line);
}

/* Issue 16: the validator's counters, by state, from any thread, and their JSON. */
static void
test_dnssec_counters_count_by_state(void **state)
{
	(void)state;
	uint64_t before[STATS_DNSSEC_STATES], after[STATS_DNSSEC_STATES];
	stats_dnssec_read(before);
	stats_dnssec_count(STATS_DNSSEC_SECURE, 3);
	stats_dnssec_count(STATS_DNSSEC_BOGUS, 1);
	stats_dnssec_count(STATS_DNSSEC_STATES, 7); /* out of range: ignored */
	stats_dnssec_read(after);
	assert_int_equal(after[STATS_DNSSEC_SECURE] - before[STATS_DNSSEC_SECURE], 3);
	assert_int_equal(after[STATS_DNSSEC_BOGUS] - before[STATS_DNSSEC_BOGUS], 1);
	assert_int_equal(after[STATS_DNSSEC_INSECURE], before[STATS_DNSSEC_INSECURE]);
	assert_string_equal(stats_dnssec_name(STATS_DNSSEC_INDETERMINATE), "indeterminate");
	json_t *j = stats_dnssec_json();
	assert_int_equal(json_integer_value(json_object_get(j, "secure")),
			 (json_int_t)after[STATS_DNSSEC_SECURE]);
	assert_non_null(json_object_get(j, "indeterminate"));
	json_decref(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_series_counts_each_query_in_the_second_it_arrived),
		cmocka_unit_test(test_series_reply_later_than_the_ring_counts_when_sent),
		cmocka_unit_test(test_recorder_takes_every_figure_from_one_snapshot),
		cmocka_unit_test(test_top_range_counts_only_the_recent_queries),
		cmocka_unit_test(test_blocked_entries_carry_their_block_note_and_count_their_clients),
		cmocka_unit_test(test_log_filter_matches_client_prefix_name_below_type_and_rcode),
		cmocka_unit_test(test_dnssec_counters_count_by_state),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
