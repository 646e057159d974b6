/* SPDX-License-Identifier: MIT */
/* Unit tests for src/dns/name.c: decompression limits, text escapes, canonical order, hashing. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "dns/dns.h"
#include "unit.h"

/* Parses an absolute or origin-relative text name; fails the test on error. */
static int
name(const char *s, const uint8_t *origin, uint8_t *out)
{
	int n = dns_name_from_text(s, strlen(s), origin, out);
	assert_true(n > 0);
	return n;
}

static void
test_unpack_plain_name_and_position(void **state)
{
	(void)state;
	const uint8_t pkt[] = { 0xff, 3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e',
				0, 0xaa };
	uint8_t out[DNS_NAME_MAX];
	size_t pos = 1;
	assert_int_equal(dns_name_unpack(pkt, sizeof(pkt), &pos, out), 13);
	assert_int_equal(pos, 14);
	assert_memory_equal(out, pkt + 1, 13);
}

static void
test_unpack_follows_backward_pointer_and_stops_after_it(void **state)
{
	(void)state;
	/* 0: example. ; 9: www + pointer to 0 ; then trailing byte */
	const uint8_t pkt[] = { 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0,
				3, 'w', 'w', 'w', 0xc0, 0x00, 0x55 };
	uint8_t out[DNS_NAME_MAX];
	size_t pos = 9;
	int n = dns_name_unpack(pkt, sizeof(pkt), &pos, out);
	assert_int_equal(n, 13);
	assert_int_equal(pos, 15);
	const uint8_t want[] = { 3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0 };
	assert_memory_equal(out, want, sizeof(want));
}

static void
test_unpack_chained_pointers(void **state)
{
	(void)state;
	const uint8_t pkt[] = { 1, 'c', 0,           /* 0: c. */
				1, 'b', 0xc0, 0,     /* 3: b.c. */
				1, 'a', 0xc0, 3 };   /* 7: a.b.c. */
	uint8_t out[DNS_NAME_MAX];
	size_t pos = 7;
	assert_int_equal(dns_name_unpack(pkt, sizeof(pkt), &pos, out), 7);
	assert_int_equal(pos, 11);
	const uint8_t want[] = { 1, 'a', 1, 'b', 1, 'c', 0 };
	assert_memory_equal(out, want, sizeof(want));
}

/* dns_name_unpack of the name at pos in the len octets of pkt: its length or its error. */
static int
unpack_at(const uint8_t *pkt, size_t len, size_t pos)
{
	uint8_t out[DNS_NAME_MAX];
	return dns_name_unpack(pkt, len, &pos, out);
}

/* Writes a label of len octets c at pkt + n; returns the offset after it. */
static size_t
put_label(uint8_t *pkt, size_t n, uint8_t len, char c)
{
	pkt[n++] = len;
	memset(pkt + n, c, len);
	return n + len;
}

/*
 * Writes at pkt three labels of 63 'a' then one of last octets c and the root; returns the
 * length of that name.
 */
static size_t
long_name(uint8_t *pkt, uint8_t last, char c)
{
	size_t n = 0;
	for (int i = 0; i < 3; i++) {
		n = put_label(pkt, n, 63, 'a');
	}
	n = put_label(pkt, n, last, c);
	pkt[n++] = 0;
	return n;
}

static void
test_unpack_rejects_pointer_to_itself(void **state)
{
	(void)state;
	const uint8_t pkt[] = { 0, 0, 0xc0, 0x02 };
	assert_int_equal(unpack_at(pkt, sizeof(pkt), 2), TDNS_ELOOP);
}

static void
test_unpack_rejects_loop_through_earlier_labels(void **state)
{
	(void)state;
	/* 0: label "a" then a pointer back to 0: points backwards but loops forever. */
	const uint8_t pkt[] = { 1, 'a', 0xc0, 0x00 };
	assert_int_equal(unpack_at(pkt, sizeof(pkt), 0), TDNS_ELOOP);
	/* two pointers pointing at each other */
	const uint8_t pkt2[] = { 0xc0, 0x02, 0xc0, 0x00 };
	assert_int_equal(unpack_at(pkt2, sizeof(pkt2), 2), TDNS_ELOOP);
}

static void
test_unpack_rejects_forward_pointer(void **state)
{
	(void)state;
	const uint8_t pkt[] = { 0xc0, 0x02, 0 };
	assert_int_equal(unpack_at(pkt, sizeof(pkt), 0), TDNS_ELOOP);
}

static void
test_unpack_rejects_pointer_past_end(void **state)
{
	(void)state;
	const uint8_t pkt[] = { 0, 0xc0, 0x40 };
	assert_int_equal(unpack_at(pkt, sizeof(pkt), 1), TDNS_ELOOP);
	/* a pointer cut in half */
	const uint8_t pkt2[] = { 0, 0xc0 };
	assert_int_equal(unpack_at(pkt2, sizeof(pkt2), 1), TDNS_ETRUNC);
}

static void
test_unpack_rejects_truncated_label(void **state)
{
	(void)state;
	const uint8_t pkt[] = { 5, 'a', 'b' };
	assert_int_equal(unpack_at(pkt, sizeof(pkt), 0), TDNS_ETRUNC);
	const uint8_t pkt2[] = { 1, 'a' }; /* no root label */
	assert_int_equal(unpack_at(pkt2, sizeof(pkt2), 0), TDNS_ETRUNC);
}

static void
test_unpack_rejects_extended_label_types(void **state)
{
	(void)state;
	const uint8_t pkt[] = { 0x41, 0, 0 };
	const uint8_t pkt2[] = { 0x80, 0, 0 };
	assert_int_equal(unpack_at(pkt, sizeof(pkt), 0), TDNS_EMALFORMED);
	assert_int_equal(unpack_at(pkt2, sizeof(pkt2), 0), TDNS_EMALFORMED);
}

static void
test_unpack_accepts_255_octets_and_rejects_256(void **state)
{
	(void)state;
	uint8_t pkt[300];
	/* 3 labels of 63 + 1 label of 61 = 4*1 + 189 + 61 + root = 255 */
	size_t n = long_name(pkt, 61, 'b');
	assert_int_equal(n, 255);
	assert_int_equal(unpack_at(pkt, n, 0), 255);
	assert_int_equal(dns_name_check(pkt, n), 255);

	pkt[192] = 62; /* grow the last label by one: 256 octets */
	memset(pkt + 193, 'b', 62);
	pkt[255] = 0;
	assert_int_equal(unpack_at(pkt, 256, 0), TDNS_ENAMELONG);
	assert_int_equal(dns_name_check(pkt, 256), TDNS_ENAMELONG);
}

static void
test_unpack_length_limit_counts_decompressed_octets(void **state)
{
	(void)state;
	/* 200-octet name at 0, then a 60-octet label + pointer: 261 octets once expanded. */
	uint8_t pkt[300];
	size_t start = long_name(pkt, 7, 'c');
	size_t n = put_label(pkt, start, 60, 'd');
	pkt[n++] = 0xc0;
	pkt[n++] = 0;
	assert_int_equal(unpack_at(pkt, n, start), TDNS_ENAMELONG);
}

static void
test_check_rejects_pointer_in_rdata_name(void **state)
{
	(void)state;
	const uint8_t rd[] = { 1, 'a', 0xc0, 0x0c };
	assert_int_equal(dns_name_check(rd, sizeof(rd)), TDNS_EMALFORMED);
	const uint8_t ok[] = { 1, 'a', 0, 9, 9 };
	assert_int_equal(dns_name_check(ok, sizeof(ok)), 3);
}

static void
test_from_text_rejects_64_octet_label(void **state)
{
	(void)state;
	char s[80];
	memset(s, 'x', 64);
	strcpy(s + 64, ".");
	uint8_t out[DNS_NAME_MAX];
	assert_int_equal(dns_name_from_text(s, strlen(s), NULL, out), TDNS_ELABELLONG);
	s[63] = '.';
	s[64] = '\0';
	assert_int_equal(dns_name_from_text(s, strlen(s), NULL, out), 65);
}

static void
test_from_text_rejects_name_over_255(void **state)
{
	(void)state;
	/* 4 labels of 63: 4*64 + 1 = 257 octets */
	char s[300];
	size_t n = 0;
	for (int i = 0; i < 4; i++) {
		memset(s + n, 'a', 63);
		n += 63;
		s[n++] = '.';
	}
	s[n] = '\0';
	uint8_t out[DNS_NAME_MAX];
	assert_int_equal(dns_name_from_text(s, n, NULL, out), TDNS_ENAMELONG);
	/* relative name that only overflows once the origin is appended */
	uint8_t origin[DNS_NAME_MAX];
	name("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
	     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
	     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.", NULL, origin);
	char b63[64];
	memset(b63, 'b', 63);
	b63[63] = '\0';
	assert_int_equal(dns_name_from_text(b63, 63, origin, out), TDNS_ENAMELONG);
}

static void
test_from_text_escapes(void **state)
{
	(void)state;
	uint8_t out[DNS_NAME_MAX];
	const char *s = "a\\.b\\\\c\\\"\\065\\000.example.";
	int n = dns_name_from_text(s, strlen(s), NULL, out);
	const uint8_t want[] = { 8, 'a', '.', 'b', '\\', 'c', '"', 'A', 0,
				 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0 };
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(out, want, sizeof(want));
}

static void
test_from_text_rejects_bad_escapes_and_empty_labels(void **state)
{
	(void)state;
	uint8_t out[DNS_NAME_MAX];
	const char *bad[] = { "a\\256.", "a\\12", "a\\1x3.", "a\\", "a..b.", ".a.", "", ".." };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(dns_name_from_text(bad[i], strlen(bad[i]), NULL, out),
				 TDNS_EBADTEXT);
	}
}

static void
test_from_text_relative_and_at_use_origin(void **state)
{
	(void)state;
	uint8_t origin[DNS_NAME_MAX], out[DNS_NAME_MAX], want[DNS_NAME_MAX];
	name("example.com.", NULL, origin);
	int n = dns_name_from_text("www", 3, origin, out);
	int m = name("www.example.com.", NULL, want);
	assert_int_equal(n, m);
	assert_memory_equal(out, want, (size_t)m);

	n = dns_name_from_text("@", 1, origin, out);
	assert_int_equal(n, 13);
	assert_memory_equal(out, origin, 13);

	assert_int_equal(dns_name_from_text("www", 3, NULL, out), TDNS_ERELATIVE);
	assert_int_equal(dns_name_from_text("@", 1, NULL, out), TDNS_ERELATIVE);

	/* an escaped final dot does not make the name absolute */
	n = dns_name_from_text("a\\.", 3, origin, out);
	assert_int_equal(n, 3 + 13);
	assert_int_equal(out[0], 2);
	assert_int_equal(out[2], '.');

	assert_int_equal(dns_name_from_text(".", 1, origin, out), 1);
	assert_int_equal(out[0], 0);
}

static void
test_to_text_escapes_specials_and_nonprintables(void **state)
{
	(void)state;
	const uint8_t n1[] = { 12, 'a', '.', '"', '(', ')', ';', '\\', '@', '$', ' ', 0x07, 0xc8,
			       3, 'c', 'o', 'm', 0 };
	char out[DNS_NAME_TEXT_MAX];
	int n = dns_name_to_text(n1, out, sizeof(out));
	assert_string_equal(out, "a\\.\\\"\\(\\)\\;\\\\\\@\\$\\ \\007\\200.com.");
	assert_int_equal(n, (int)strlen(out));

	const uint8_t root[] = { 0 };
	assert_int_equal(dns_name_to_text(root, out, sizeof(out)), 1);
	assert_string_equal(out, ".");

	assert_int_equal(dns_name_to_text(n1, out, 10), TDNS_ESPACE);
}

static void
test_text_round_trip_of_every_octet(void **state)
{
	(void)state;
	/* Two names that together hold every octet value, in labels of 32. */
	for (int base = 0; base < 256; base += 128) {
		uint8_t wire[DNS_NAME_MAX];
		size_t n = 0;
		for (int lab = 0; lab < 4; lab++) {
			wire[n++] = 32;
			for (int k = 0; k < 32; k++) {
				wire[n++] = (uint8_t)(base + lab * 32 + k);
			}
		}
		wire[n++] = 0;
		char text[DNS_NAME_TEXT_MAX];
		int tl = dns_name_to_text(wire, text, sizeof(text));
		assert_true(tl > 0);
		uint8_t back[DNS_NAME_MAX];
		assert_int_equal(dns_name_from_text(text, (size_t)tl, NULL, back), (int)n);
		assert_memory_equal(back, wire, n);
	}
}

static void
test_canonical_order_rfc4034_example(void **state)
{
	(void)state;
	/* RFC 4034 §6.1, in order. */
	const char *names[] = { "example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.",
				"zABC.a.EXAMPLE.", "z.example.", "\\001.z.example.", "*.z.example.",
				"\\200.z.example." };
	size_t cnt = sizeof(names) / sizeof(names[0]);
	uint8_t w[9][DNS_NAME_MAX];
	for (size_t i = 0; i < cnt; i++) {
		name(names[i], NULL, w[i]);
	}
	for (size_t i = 0; i < cnt; i++) {
		for (size_t j = 0; j < cnt; j++) {
			int c = dns_name_cmp(w[i], w[j]);
			if (i < j) {
				assert_true(c < 0);
			} else if (i > j) {
				assert_true(c > 0);
			} else {
				assert_int_equal(c, 0);
			}
		}
	}
	uint8_t root[1] = { 0 };
	assert_true(dns_name_cmp(root, w[0]) < 0);
}

static void
test_eq_ignores_ascii_case_only(void **state)
{
	(void)state;
	const uint8_t *a = unit_name("WwW.ExAmPle."), *b = unit_name("www.example.");
	assert_true(dns_name_eq(a, b));
	assert_false(dns_name_eq(a, unit_name("www.example.com.")));
	assert_int_equal(dns_name_cmp(a, b), 0);
	/* 0xc0 vs 0xe0 differ by the "case bit" but are not letters */
	assert_false(dns_name_eq(unit_name("\\192."), unit_name("\\224.")));
	assert_true(dns_name_hash(a, 7) == dns_name_hash(b, 7));
}

static void
test_hash_depends_on_seed_and_label_boundaries(void **state)
{
	(void)state;
	const uint8_t *a = unit_name("a.bc."), *b = unit_name("ab.c.");
	assert_true(dns_name_hash(a, 1) != dns_name_hash(b, 1));
	assert_true(dns_name_hash(a, 1) != dns_name_hash(a, 2));
	const uint8_t *l1 = unit_name("a-rather-long-name-over-several-words.example.COM.");
	const uint8_t *l2 = unit_name("A-RATHER-LONG-NAME-OVER-SEVERAL-WORDS.EXAMPLE.com.");
	assert_true(dns_name_hash(l1, 99) == dns_name_hash(l2, 99));
}

static void
test_labels_parent_sub_lower_len(void **state)
{
	(void)state;
	uint8_t a[DNS_NAME_MAX], p[DNS_NAME_MAX], o[DNS_NAME_MAX];
	name("www.Example.COM.", NULL, a);
	name("example.com.", NULL, p);
	name("ample.com.", NULL, o);
	assert_int_equal(dns_name_labels(a), 3);
	const uint8_t root[] = { 0 };
	assert_int_equal(dns_name_labels(root), 0);
	assert_int_equal(dns_name_len(a), 17);
	assert_int_equal(dns_name_len(root), 1);
	assert_true(dns_name_is_sub(a, p));
	assert_true(dns_name_is_sub(p, p));
	assert_true(dns_name_is_sub(a, root));
	assert_false(dns_name_is_sub(p, a));
	assert_false(dns_name_is_sub(a, o));
	assert_true(dns_name_eq(dns_name_parent(a), p));
	assert_ptr_equal(dns_name_parent(root), root);
	dns_name_lower(a);
	char t[DNS_NAME_TEXT_MAX];
	dns_name_to_text(a, t, sizeof(t));
	assert_string_equal(t, "www.example.com.");
}

/* ---- keyed hash (issue 13: hash flooding) --------------------------------------------- */

static void
name_n(uint8_t *out, unsigned n)
{
	char text[64];
	int len = snprintf(text, sizeof(text), "q%u.flood.example.", n);
	assert_true(dns_name_from_text(text, (size_t)len, NULL, out) > 0);
}

static void
test_siphash_is_sipHash_2_4_of_the_lower_cased_wire_name(void **state)
{
	(void)state;
	uint8_t key[DNS_SIPHASH_KEY_LEN];
	for (size_t i = 0; i < sizeof(key); i++) {
		key[i] = (uint8_t)i;
	}
	uint8_t name[DNS_NAME_MAX], upper[DNS_NAME_MAX];
	assert_true(dns_name_from_text("www.example.com.", 16, NULL, name) > 0);
	assert_true(dns_name_from_text("WWW.Example.COM.", 16, NULL, upper) > 0);
	uint8_t out[crypto_shorthash_BYTES];
	crypto_shorthash(out, name, dns_name_len(name), key);
	uint64_t want;
	memcpy(&want, out, sizeof(want));
	assert_true(dns_name_siphash(name, key) == want);
	assert_true(dns_name_siphash(upper, key) == want);
}

static void
test_collisions_chosen_under_one_key_do_not_collide_under_another(void **state)
{
	(void)state;
	/*
	 * The attacker's side: with a key it knows, brute-force 64 names that share one of 1024
	 * buckets (about 65,000 tries).  Under the key the server drew, they spread out.
	 */
	uint8_t known[DNS_SIPHASH_KEY_LEN], secret[DNS_SIPHASH_KEY_LEN];
	dns_siphash_key_new(known);
	dns_siphash_key_new(secret);
	assert_memory_not_equal(known, secret, sizeof(known));
	uint8_t name[DNS_NAME_MAX];
	unsigned chosen[64], n = 0;
	for (unsigned i = 0; n < 64 && i < 10000000; i++) {
		name_n(name, i);
		if (dns_name_siphash(name, known) % 1024 == 7) {
			chosen[n++] = i;
		}
	}
	assert_int_equal(n, 64);
	unsigned per_bucket[1024] = { 0 }, worst = 0;
	for (unsigned k = 0; k < n; k++) {
		name_n(name, chosen[k]);
		unsigned b = (unsigned)(dns_name_siphash(name, secret) % 1024);
		worst = ++per_bucket[b] > worst ? per_bucket[b] : worst;
	}
	/* 64 names in 1024 buckets at random: a bucket with 5 happens about once in 10^5 runs. */
	assert_true(worst <= 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unpack_plain_name_and_position),
		cmocka_unit_test(test_unpack_follows_backward_pointer_and_stops_after_it),
		cmocka_unit_test(test_unpack_chained_pointers),
		cmocka_unit_test(test_unpack_rejects_pointer_to_itself),
		cmocka_unit_test(test_unpack_rejects_loop_through_earlier_labels),
		cmocka_unit_test(test_unpack_rejects_forward_pointer),
		cmocka_unit_test(test_unpack_rejects_pointer_past_end),
		cmocka_unit_test(test_unpack_rejects_truncated_label),
		cmocka_unit_test(test_unpack_rejects_extended_label_types),
		cmocka_unit_test(test_unpack_accepts_255_octets_and_rejects_256),
		cmocka_unit_test(test_unpack_length_limit_counts_decompressed_octets),
		cmocka_unit_test(test_check_rejects_pointer_in_rdata_name),
		cmocka_unit_test(test_from_text_rejects_64_octet_label),
		cmocka_unit_test(test_siphash_is_sipHash_2_4_of_the_lower_cased_wire_name),
		cmocka_unit_test(test_collisions_chosen_under_one_key_do_not_collide_under_another),
		cmocka_unit_test(test_from_text_rejects_name_over_255),
		cmocka_unit_test(test_from_text_escapes),
		cmocka_unit_test(test_from_text_rejects_bad_escapes_and_empty_labels),
		cmocka_unit_test(test_from_text_relative_and_at_use_origin),
		cmocka_unit_test(test_to_text_escapes_specials_and_nonprintables),
		cmocka_unit_test(test_text_round_trip_of_every_octet),
		cmocka_unit_test(test_canonical_order_rfc4034_example),
		cmocka_unit_test(test_eq_ignores_ascii_case_only),
		cmocka_unit_test(test_hash_depends_on_seed_and_label_boundaries),
		cmocka_unit_test(test_labels_parent_sub_lower_len),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
