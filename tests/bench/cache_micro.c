/* SPDX-License-Identifier: MIT */
/* Micro-benchmark of the resolver cache: hit path (lookup + reply build) and stores, N threads. */
/*
 * Not run in CI.  Build from a configured build directory:
 *   gcc -std=gnu11 -O2 -I../src -I. ../src/resolver/cache.c ../tests/bench/cache_micro.c \
 *       libtdns.a -lpthread -o cache_micro
 *   ./cache_micro [THREADS [SECONDS [NAMES [SHARDS]]]]
 * Prints lookups per second (each one a whole reply built into a buffer) and stores per second.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "resolver/resolver.h"

/* Names are made once so that the loop measures the cache, not snprintf. */
static uint8_t (*names_wire)[32];

struct job {
	struct cache *c;
	unsigned id;
	unsigned names;
	double seconds;
	bool store;
	unsigned long ops;
	unsigned long hits;
};

static double
mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* "hNNNNNNN.bench.example." in wire form; returns its length. */
static size_t
host(unsigned i, uint8_t *out)
{
	char label[16];
	int n = snprintf(label, sizeof(label), "h%07u", i);
	out[0] = (uint8_t)n;
	memcpy(out + 1, label, (size_t)n);
	static const uint8_t tail[] = { 5, 'b', 'e', 'n', 'c', 'h', 7, 'e', 'x', 'a', 'm', 'p', 'l',
					'e', 0 };
	memcpy(out + 1 + n, tail, sizeof(tail));
	return 1 + (size_t)n + sizeof(tail);
}

/* Builds, parses and stores an upstream-like answer: two A records for the name. */
static int
store_one(struct cache *c, unsigned i, int64_t now)
{
	uint8_t qn[DNS_NAME_MAX], pkt[512];
	host(i, qn);
	struct dns_build b;
	dns_build_init(&b, pkt, sizeof(pkt), sizeof(pkt), 7,
		       DNS_FLAG_QR | DNS_FLAG_RD | DNS_FLAG_RA);
	dns_build_question(&b, qn, DNS_TYPE_A, DNS_CLASS_IN);
	uint8_t a1[4] = { 192, 0, 2, (uint8_t)i }, a2[4] = { 198, 51, 100, (uint8_t)(i >> 8) };
	dns_build_rr(&b, DNS_SECTION_ANSWER, qn, DNS_TYPE_A, DNS_CLASS_IN, 3600, a1, 4);
	dns_build_rr(&b, DNS_SECTION_ANSWER, qn, DNS_TYPE_A, DNS_CLASS_IN, 3600, a2, 4);
	size_t len = dns_build_finish(&b);
	struct dns_msg m;
	int rc = dns_msg_parse(pkt, len, &m);
	if (rc != TDNS_OK) {
		return rc;
	}
	struct cache_key k;
	cache_key_init(&k, qn, DNS_TYPE_A, DNS_CLASS_IN, 0);
	rc = cache_store_msg(c, &m, &k, now);
	dns_msg_clear(&m);
	return rc;
}

static void *
run(void *arg)
{
	struct job *j = arg;
	uint32_t x = 0x9e3779b9u * (j->id + 1);
	uint8_t qn[DNS_NAME_MAX], pkt[1232];
	double end = mono() + j->seconds;
	int64_t now = cache_now();
	for (;;) {
		for (int burst = 0; burst < 1024; burst++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			unsigned i = x % j->names;
			if (j->store) {
				if (store_one(j->c, i, now) == TDNS_OK) {
					j->hits++;
				}
				j->ops++;
				continue;
			}
			memcpy(qn, names_wire[i], sizeof(names_wire[i]));
			struct cache_key k;
			cache_key_init(&k, qn, DNS_TYPE_A, DNS_CLASS_IN, 0);
			struct dns_build b;
			dns_build_init(&b, pkt, sizeof(pkt), sizeof(pkt), (uint16_t)x,
				       DNS_FLAG_QR | DNS_FLAG_RD | DNS_FLAG_RA);
			dns_build_question(&b, qn, DNS_TYPE_A, DNS_CLASS_IN);
			dns_build_edns(&b, 1232, false);
			if (cache_lookup(j->c, &k, now, &b, 0, NULL) == CACHE_HIT) {
				j->hits++;
			}
			dns_build_finish(&b);
			j->ops++;
		}
		if (mono() >= end) {
			break;
		}
	}
	return NULL;
}

static void
phase(struct cache *c, unsigned threads, double seconds, unsigned names, bool store)
{
	pthread_t *t = calloc(threads, sizeof(*t));
	struct job *j = calloc(threads, sizeof(*j));
	if (t == NULL || j == NULL) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	double start = mono();
	for (unsigned i = 0; i < threads; i++) {
		j[i] = (struct job){ .c = c, .id = i, .names = names, .seconds = seconds,
				     .store = store };
		pthread_create(&t[i], NULL, run, &j[i]);
	}
	unsigned long ops = 0, hits = 0;
	for (unsigned i = 0; i < threads; i++) {
		pthread_join(t[i], NULL);
		ops += j[i].ops;
		hits += j[i].hits;
	}
	double el = mono() - start;
	printf("%-7s threads=%u  %.0f ops/s  (%.0f per thread)  ok=%.1f%%  %.0f ns/op/thread\n",
	       store ? "store" : "lookup", threads, ops / el, ops / el / threads,
	       ops ? 100.0 * hits / ops : 0.0, el * 1e9 * threads / (ops ? ops : 1));
	free(t);
	free(j);
}

int
main(int argc, char **argv)
{
	unsigned threads = argc > 1 ? (unsigned)atoi(argv[1]) : 2;
	double seconds = argc > 2 ? atof(argv[2]) : 2.0;
	unsigned names = argc > 3 ? (unsigned)atoi(argv[3]) : 100000;
	unsigned shards = argc > 4 ? (unsigned)atoi(argv[4]) : CACHE_DEFAULT_SHARDS;
	if (threads == 0 || names == 0) {
		fprintf(stderr, "usage: cache_micro [THREADS [SECONDS [NAMES [SHARDS]]]]\n");
		return 2;
	}
	struct cache *c = cache_new((size_t)256 << 20, shards, 0, 86400, 3600, 0);
	if (c == NULL) {
		fprintf(stderr, "cache_new failed\n");
		return 1;
	}
	names_wire = calloc(names, sizeof(*names_wire));
	if (names_wire == NULL) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	int64_t now = cache_now();
	for (unsigned i = 0; i < names; i++) {
		host(i, names_wire[i]);
		if (store_one(c, i, now) != TDNS_OK) {
			fprintf(stderr, "prefill store failed\n");
			return 1;
		}
	}
	struct cache_stats st;
	cache_stats(c, &st);
	printf("prefilled %llu entries, %llu bytes (%.0f bytes/entry), %u shards\n",
	       (unsigned long long)st.entries, (unsigned long long)st.bytes,
	       (double)st.bytes / (double)(st.entries ? st.entries : 1), shards);
	phase(c, threads, seconds, names, false);
	phase(c, threads, seconds, names, true);
	phase(c, 1, seconds, names, false);
	cache_free(c);
	free(names_wire);
	return 0;
}
