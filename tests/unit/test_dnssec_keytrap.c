/* SPDX-License-Identifier: MIT */
/* KeyTrap (CVE-2023-50387) and NSEC3 (CVE-2023-50868) hostile data: the budget bounds the work. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <openssl/rand.h>

#include "dnssec/dnssec.h"
#include "dnssec/dnssec_int.h"
#include "unit.h"

#define NOW 1800000000u
#define NKEYS 128   /* DNSKEYs sharing one key tag */
#define NSIGS 64    /* RRSIGs naming that tag */
#define NDS 64      /* DS records naming that tag */
#define TAG 4242

/* The work done so far, to subtract. */
struct work {
	uint64_t verify, digest, sha1;
};

static struct work
work_now(void)
{
	return (struct work){ atomic_load(&dnssec_work.verify), atomic_load(&dnssec_work.digest),
			      atomic_load(&dnssec_work.sha1) };
}

/*
 * A hostile zone's DNSKEY RRset: NKEYS Ed25519 keys (random points, flags 257) whose last two
 * octets are chosen so that every key has tag TAG, as an attacker grinds them.
 */
struct hostile {
	uint8_t keyrd[NKEYS][36];
	struct dnssec_rdata keys[NKEYS];
	struct dnssec_key *parsed[NKEYS];
	size_t nparsed;
	uint8_t sigrd[NSIGS][19 + 64];
	struct dnssec_rdata sigs[NSIGS];
	uint8_t dsrd[NDS][4 + 32];
	struct dnssec_rdata ds[NDS];
	struct dnssec_rrset set;
};

static void
hostile_make(struct hostile *h, const uint8_t *owner)
{
	for (size_t i = 0; i < NKEYS; i++) {
		uint8_t *rd = h->keyrd[i];
		rd[0] = 0x01;
		rd[1] = 0x01;
		rd[2] = 3;
		rd[3] = DNSSEC_ALG_ED25519;
		for (;;) {
			assert_int_equal(RAND_bytes(rd + 4, 32), 1);
			unsigned v;
			for (v = 0; v < 65536; v++) {
				rd[34] = (uint8_t)(v >> 8);
				rd[35] = (uint8_t)v;
				if (dnssec_key_tag(rd, 36) == TAG) {
					break;
				}
			}
			struct dnssec_key *k = NULL;
			if (v < 65536 && dnssec_key_new(owner, rd, 36, &k) == DNSSEC_OK) {
				h->parsed[h->nparsed++] = k;
				break;
			}
		}
		h->keys[i] = (struct dnssec_rdata){ rd, 36 };
	}
	h->set = (struct dnssec_rrset){ owner, DNS_TYPE_DNSKEY, 1, h->keys, NKEYS };
	/* RRSIGs over the DNSKEY set by "key TAG", valid now, with garbage signatures. */
	for (size_t i = 0; i < NSIGS; i++) {
		uint8_t *p = h->sigrd[i];
		tdns_put16(p, DNS_TYPE_DNSKEY);
		p[2] = DNSSEC_ALG_ED25519;
		p[3] = (uint8_t)dns_name_labels(owner);
		tdns_put32(p + 4, 3600);
		tdns_put32(p + 8, NOW + 86400);
		tdns_put32(p + 12, NOW - 86400);
		tdns_put16(p + 16, TAG);
		assert_int_equal(dns_name_len(owner), 1); /* the root: signer "." */
		p[18] = 0;
		assert_int_equal(RAND_bytes(p + 19, 64), 1);
		h->sigs[i] = (struct dnssec_rdata){ p, sizeof(h->sigrd[i]) };
	}
	/* DS records naming tag TAG, algorithm 15, SHA-256, with digests of no key. */
	for (size_t i = 0; i < NDS; i++) {
		uint8_t *p = h->dsrd[i];
		tdns_put16(p, TAG);
		p[2] = DNSSEC_ALG_ED25519;
		p[3] = DNSSEC_DIGEST_SHA256;
		assert_int_equal(RAND_bytes(p + 4, 32), 1);
		h->ds[i] = (struct dnssec_rdata){ p, sizeof(h->dsrd[i]) };
	}
}

static void
hostile_free(struct hostile *h)
{
	for (size_t i = 0; i < h->nparsed; i++) {
		dnssec_key_free(h->parsed[i]);
	}
}

static void
test_colliding_keys_and_rrsigs_stop_at_the_verify_budget(void **state)
{
	(void)state;
	static struct hostile h;
	hostile_make(&h, unit_name("."));
	assert_int_equal(h.nparsed, NKEYS);
	/* Unbounded, this would be NKEYS x NSIGS = 8192 signature checks. */
	struct dnssec_budget b;
	dnssec_budget_init(&b, DNSSEC_BUDGET_VERIFY_DEFAULT, DNSSEC_BUDGET_HASH_DEFAULT);
	struct work w0 = work_now();
	enum dnssec_result r = dnssec_rrset_verify(&h.set, h.sigs, NSIGS, h.parsed, NKEYS, NOW, 0,
						   &b, NULL, NULL);
	struct work w1 = work_now();
	assert_int_equal(r, DNSSEC_BUDGET);
	assert_int_equal(b.verify_used, DNSSEC_BUDGET_VERIFY_DEFAULT);
	assert_int_equal(w1.verify - w0.verify, DNSSEC_BUDGET_VERIFY_DEFAULT);
	/* A spent budget does no more work on the next call. */
	r = dnssec_rrset_verify(&h.set, h.sigs, NSIGS, h.parsed, NKEYS, NOW, 0, &b, NULL, NULL);
	assert_int_equal(r, DNSSEC_BUDGET);
	assert_int_equal(work_now().verify, w1.verify);
	hostile_free(&h);
}

static void
test_colliding_keys_and_ds_records_stop_at_the_hash_budget(void **state)
{
	(void)state;
	static struct hostile h;
	hostile_make(&h, unit_name("."));
	/* Unbounded, matching every key to every DS costs NKEYS x NDS = 8192 digests. */
	struct dnssec_budget b;
	dnssec_budget_init(&b, DNSSEC_BUDGET_VERIFY_DEFAULT, 1000);
	struct dnssec_keyset_verdict v;
	struct work w0 = work_now();
	enum dnssec_security sec = dnssec_keyset_verify(&h.set, h.sigs, NSIGS, h.ds, NDS, NULL, 0,
							NOW, 0, &b, &v);
	struct work w1 = work_now();
	assert_int_equal(sec, DNSSEC_INDETERMINATE);
	assert_int_equal(v.result, DNSSEC_BUDGET);
	assert_int_equal(v.ede, DNS_EDE_DNSSEC_INDETERMINATE);
	assert_int_equal(b.hash_used, 1000);
	assert_int_equal(w1.digest - w0.digest, 1000);
	assert_int_equal(w1.verify - w0.verify, 0);

	/* Every DS matches one key at most: trusted keys then meet the verify budget. */
	uint8_t good[NKEYS][4 + 32];
	struct dnssec_rdata ds[NKEYS];
	for (size_t i = 0; i < NKEYS; i++) {
		size_t len;
		tdns_put16(good[i], TAG);
		good[i][2] = DNSSEC_ALG_ED25519;
		good[i][3] = DNSSEC_DIGEST_SHA256;
		assert_int_equal(dnssec_ds_digest(h.set.owner, h.keys[i].rd, h.keys[i].len,
						  DNSSEC_DIGEST_SHA256, good[i] + 4, &len),
				 DNSSEC_OK);
		ds[i] = (struct dnssec_rdata){ good[i], sizeof(good[i]) };
	}
	dnssec_budget_init(&b, DNSSEC_BUDGET_VERIFY_DEFAULT, DNSSEC_BUDGET_HASH_DEFAULT);
	w0 = work_now();
	sec = dnssec_keyset_verify(&h.set, h.sigs, NSIGS, ds, NKEYS, NULL, 0, NOW, 0, &b, &v);
	w1 = work_now();
	assert_int_equal(sec, DNSSEC_INDETERMINATE);
	assert_int_equal(v.result, DNSSEC_BUDGET);
	assert_true(w1.verify - w0.verify <= DNSSEC_BUDGET_VERIFY_DEFAULT);
	assert_true(w1.digest - w0.digest <= DNSSEC_BUDGET_HASH_DEFAULT);
	assert_int_equal(w1.digest - w0.digest, b.hash_used);
	hostile_free(&h);
}

/* An NSEC3 RR: owner "<base32hex of hash>.zone", rdata with iterations and a salt. */
struct n3 {
	uint8_t owner[DNS_NAME_MAX];
	uint8_t rd[64];
	size_t len;
};

static void
n3_make(struct n3 *n, const uint8_t *zone, uint16_t iterations, uint8_t fill)
{
	static const char b32[] = "0123456789abcdefghijklmnopqrstuv";
	n->owner[0] = 32;
	for (int i = 0; i < 32; i++) {
		n->owner[1 + i] = (uint8_t)b32[(fill + i) % 32];
	}
	memcpy(n->owner + 33, zone, dns_name_len(zone));
	uint8_t *p = n->rd;
	p[0] = 1;
	p[1] = 0;
	tdns_put16(p + 2, iterations);
	p[4] = 4;
	memcpy(p + 5, "salt", 4);
	p[9] = DNSSEC_NSEC3_HASH_LEN;
	memset(p + 10, fill, DNSSEC_NSEC3_HASH_LEN); /* next hash */
	p[30] = 0;  /* bitmap: window 0, A */
	p[31] = 1;
	p[32] = 0x40;
	n->len = 33;
}

static void
test_nsec3_closest_encloser_of_a_long_name_stops_at_the_hash_budget(void **state)
{
	(void)state;
	const uint8_t *zone = unit_name("example.");
	/* A qname of 60 labels: the walk up hashes every one (CVE-2023-50868). */
	char text[256] = "";
	for (int i = 0; i < 60; i++) {
		strcat(text, "a.");
	}
	strcat(text, "example.");
	uint8_t qname[DNS_NAME_MAX];
	memcpy(qname, unit_name(text), dns_name_len(unit_name(text)));
	static struct n3 set[64];
	struct dnssec_nsec3_rr rrs[64];
	for (int i = 0; i < 64; i++) {
		n3_make(&set[i], zone, DNSSEC_NSEC3_ITER_MAX, (uint8_t)i);
		rrs[i] = (struct dnssec_nsec3_rr){ set[i].owner, set[i].rd, set[i].len };
	}
	struct dnssec_budget b;
	dnssec_budget_init(&b, DNSSEC_BUDGET_VERIFY_DEFAULT, DNSSEC_BUDGET_HASH_DEFAULT);
	struct dnssec_nsec3_proof p;
	struct work w0 = work_now();
	enum dnssec_result r = dnssec_nsec3_closest_encloser(qname, zone, rrs, 64, &b, &p);
	struct work w1 = work_now();
	/* 61 names x 151 rounds = 9211 unbounded; the budget allows 9 whole names. */
	assert_int_equal(r, DNSSEC_BUDGET);
	assert_int_equal(b.hash_used, 9 * (DNSSEC_NSEC3_ITER_MAX + 1));
	assert_int_equal(w1.sha1 - w0.sha1, b.hash_used);
	assert_true(w1.sha1 - w0.sha1 <= DNSSEC_BUDGET_HASH_DEFAULT);

	/* Above 150 iterations nothing is hashed at all: insecure (RFC 9276 §3.2). */
	for (int i = 0; i < 64; i++) {
		n3_make(&set[i], zone, 2500, (uint8_t)i);
	}
	dnssec_budget_init(&b, DNSSEC_BUDGET_VERIFY_DEFAULT, DNSSEC_BUDGET_HASH_DEFAULT);
	w0 = work_now();
	r = dnssec_nsec3_closest_encloser(qname, zone, rrs, 64, &b, &p);
	assert_int_equal(r, DNSSEC_UNSUPPORTED_NSEC3);
	assert_int_equal(work_now().sha1, w0.sha1);
	assert_int_equal(b.hash_used, 0);
	size_t m, c;
	assert_int_equal(dnssec_nsec3_find(qname, zone, rrs, 64, &b, &m, &c),
			 DNSSEC_UNSUPPORTED_NSEC3);
	assert_int_equal(dnssec_nsec3_hash(qname, 1, 2500, (const uint8_t *)"salt", 4, &b,
					   (uint8_t[DNSSEC_NSEC3_HASH_LEN]){ 0 }),
			 DNSSEC_UNSUPPORTED_NSEC3);
	assert_int_equal(work_now().sha1, w0.sha1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_colliding_keys_and_rrsigs_stop_at_the_verify_budget),
		cmocka_unit_test(test_colliding_keys_and_ds_records_stop_at_the_hash_budget),
		cmocka_unit_test(test_nsec3_closest_encloser_of_a_long_name_stops_at_the_hash_budget),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
