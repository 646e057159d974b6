/* SPDX-License-Identifier: MIT */
/* Unit tests for src/stats/top.c: the space-saving heavy-hitter sketch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stats/stats_int.h"

/* A deterministic generator (xorshift64*), so that failures reproduce. */
static uint64_t rng_state = 88172645463325252ull;

static uint64_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

static void
add_str(struct stats_top *t, const char *key)
{
	stats_top_add(t, key, strlen(key), 1);
}

/* Adds key n times, one at a time, as n queries for it would. */
static void
add_times(struct stats_top *t, const char *key, int n)
{
	for (int i = 0; i < n; i++) {
		add_str(t, key);
	}
}

/* A table of cap counters over nkeys key slots; fails the test if it cannot be made. */
static struct stats_top *
top_new(size_t cap, size_t nkeys)
{
	struct stats_top *t = stats_top_new(cap, nkeys);
	assert_non_null(t);
	return t;
}

static bool
item_is(const struct stats_top_item *it, const char *key)
{
	return it->keylen == strlen(key) && memcmp(it->key, key, it->keylen) == 0;
}

/* Checks that items[i], as stats_top_list gave it, is key with count. */
static void
expect_item(const struct stats_top_item *items, size_t i, const char *key, uint64_t count)
{
	assert_true(item_is(&items[i], key));
	assert_int_equal(items[i].count, count);
}

static void
test_counts_are_exact_while_keys_fit(void **state)
{
	(void)state;
	struct stats_top *t = top_new(16, 32);
	add_times(t, "a", 100);
	for (int i = 0; i < 30; i++) {
		add_str(t, "b");
		add_str(t, "c");
	}
	add_str(t, "c");
	struct stats_top_item items[16];
	size_t n = stats_top_list(t, items, 16);
	assert_int_equal(n, 3);
	expect_item(items, 0, "a", 100);
	expect_item(items, 1, "c", 31);
	expect_item(items, 2, "b", 30);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(items[i].error, 0);
	}
	assert_int_equal(stats_top_total(t), 161);
	stats_top_free(t);
}

/*
 * Ten heavy keys with known weights hidden in a stream where half the queries are distinct
 * one-off names (a random-subdomain flood): the sketch, with far fewer counters than distinct
 * keys, still lists exactly the heavy keys in the right order, and every count brackets the
 * true one.
 */
static void
test_skewed_stream_gives_the_exact_top_ten(void **state)
{
	(void)state;
	enum { HEAVY = 10, CAP = 128 };
	uint64_t truth[HEAVY] = { 0 };
	/* Weights 20, 19, ..., 11 out of 155 heavy "tickets". */
	struct stats_top *t = top_new(CAP, 64);
	uint64_t noise = 0;
	for (int i = 0; i < 200000; i++) {
		char key[64];
		if (rng() % 2 == 0) {
			snprintf(key, sizeof(key), "noise-%d.example.", i);
			noise++;
		} else {
			unsigned ticket = (unsigned)(rng() % 155), h = 0;
			while (ticket >= 20 - h) {
				ticket -= 20 - h;
				h++;
			}
			truth[h]++;
			snprintf(key, sizeof(key), "heavy-%u.example.", h);
		}
		add_str(t, key);
	}
	assert_true(noise > 90000);
	struct stats_top_item items[HEAVY];
	size_t n = stats_top_list(t, items, HEAVY);
	assert_int_equal(n, HEAVY);
	for (unsigned h = 0; h < HEAVY; h++) {
		char key[64];
		snprintf(key, sizeof(key), "heavy-%u.example.", h);
		bool found = false;
		for (size_t i = 0; i < n; i++) {
			if (!item_is(&items[i], key)) {
				continue;
			}
			found = true;
			assert_true(items[i].count >= truth[h]);
			assert_true(items[i].count - items[i].error <= truth[h]);
			/* Guaranteed error bound of space-saving: N / capacity. */
			assert_true(items[i].count - truth[h] <= 200000 / CAP);
		}
		assert_true(found);
	}
	/* Largest first, and the order matches the true order where the gap exceeds the error. */
	for (size_t i = 1; i < n; i++) {
		assert_true(items[i - 1].count >= items[i].count);
	}
	stats_top_free(t);
}

static void
test_memory_stays_bounded_under_a_flood_of_new_keys(void **state)
{
	(void)state;
	struct stats_top *t = top_new(64, 260);
	size_t mem = stats_top_memory(t);
	assert_true(mem < 64 * 400 + 4096);
	for (int i = 0; i < 100000; i++) {
		char key[32];
		snprintf(key, sizeof(key), "k%d", i);
		add_str(t, key);
		if (i % 1000 == 0) {
			add_str(t, "steady");
		}
	}
	assert_int_equal(stats_top_size(t), 64);
	assert_int_equal(stats_top_memory(t), mem);
	/* The lookup table survived 100000 evictions: a key still counts in place. */
	struct stats_top_item items[64];
	size_t n = stats_top_list(t, items, 64);
	assert_int_equal(n, 64);
	for (size_t i = 0; i < n; i++) {
		for (size_t j = i + 1; j < n; j++) {
			assert_false(items[i].keylen == items[j].keylen &&
				     memcmp(items[i].key, items[j].key, items[i].keylen) == 0);
		}
	}
	stats_top_free(t);
}

static void
test_halving_decays_counts_and_drops_ones(void **state)
{
	(void)state;
	struct stats_top *t = top_new(8, 16);
	add_times(t, "ten", 10);
	add_times(t, "three", 3);
	add_str(t, "one");
	stats_top_halve(t);
	assert_int_equal(stats_top_size(t), 2);
	struct stats_top_item items[8];
	size_t n = stats_top_list(t, items, 8);
	assert_int_equal(n, 2);
	expect_item(items, 0, "ten", 5);
	expect_item(items, 1, "three", 1);
	/* Still a working sketch afterwards: the table and heap were rebuilt. */
	add_str(t, "three");
	add_str(t, "new");
	n = stats_top_list(t, items, 8);
	assert_int_equal(n, 3);
	expect_item(items, 1, "three", 2);
	stats_top_free(t);
}

static void
test_keys_longer_than_keymax_are_cut(void **state)
{
	(void)state;
	struct stats_top *t = top_new(4, 4);
	add_str(t, "abcdef");
	add_str(t, "abcdxyz");
	struct stats_top_item items[4];
	assert_int_equal(stats_top_list(t, items, 4), 1);
	expect_item(items, 0, "abcd", 2);
	assert_null(stats_top_new(0, 4));
	assert_null(stats_top_new(4, STATS_TOP_KEY_MAX + 1));
	stats_top_free(t);
	stats_top_free(NULL);
}

/*
 * Random weighted adds over more keys than counters, with a halving midway: every count
 * brackets the true one and the counts add up to the total (space-saving keeps the sum), and
 * the list comes largest first.
 */
static void
test_weighted_adds_keep_counts_bracketed_and_summed(void **state)
{
	(void)state;
	enum { KEYS = 200, CAP = 32 };
	uint64_t truth[KEYS] = { 0 };
	struct stats_top *t = top_new(CAP, 16);
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 20000; i++) {
			unsigned k = (unsigned)(rng() % 100 < 50 ? rng() % 8 : rng() % KEYS);
			uint64_t n = 1 + rng() % (i % 7 == 0 ? 40 : 2);
			char key[16];
			snprintf(key, sizeof(key), "k%u", k);
			stats_top_add(t, key, strlen(key), n);
			truth[k] += n;
		}
		struct stats_top_item items[CAP];
		size_t n = stats_top_list(t, items, CAP);
		assert_int_equal(n, CAP);
		uint64_t sum = 0;
		for (size_t i = 0; i < n; i++) {
			char text[16] = { 0 };
			memcpy(text, items[i].key, items[i].keylen);
			unsigned k = (unsigned)atoi(text + 1);
			assert_true(items[i].count >= truth[k]);
			/* Halving rounds count and error down apart: one more after it. */
			assert_true(items[i].count - items[i].error <= truth[k] + (uint64_t)round);
			assert_true(i == 0 || items[i - 1].count >= items[i].count);
			sum += items[i].count;
		}
		if (round == 0) {
			assert_int_equal(sum, stats_top_total(t));
			stats_top_halve(t);
			for (unsigned k = 0; k < KEYS; k++) {
				truth[k] /= 2;
			}
		}
	}
	stats_top_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts_are_exact_while_keys_fit),
		cmocka_unit_test(test_skewed_stream_gives_the_exact_top_ten),
		cmocka_unit_test(test_memory_stays_bounded_under_a_flood_of_new_keys),
		cmocka_unit_test(test_halving_decays_counts_and_drops_ones),
		cmocka_unit_test(test_keys_longer_than_keymax_are_cut),
		cmocka_unit_test(test_weighted_adds_keep_counts_bracketed_and_summed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
