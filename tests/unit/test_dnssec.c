/* SPDX-License-Identifier: MIT */
/* Unit tests for src/dnssec against zones signed by ldns and BIND (tests/unit/data/dnssec). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "dnssec/dnssec.h"
#include "unit.h"

#define DATA SRCDIR "/tests/unit/data/dnssec/"

/* The signers' window (gen.sh): inception 2025-01-01, expiration 2035-01-01 00:00 UTC. */
#define INCEPTION 1735689600u
#define EXPIRATION 2051222400u
#define NOW 1893456000u /* 2030-01-01 */

/* ------------------------------------------------------------------------------------------ */
/* Zone data read from the signed files.                                                       */

struct trr {
	uint8_t owner[DNS_NAME_MAX];
	uint16_t type;
	uint16_t rclass;
	uint8_t *rd;
	size_t rdlen;
};

struct tzone {
	struct trr *rrs;
	size_t n;
	struct dnssec_key *keys[8];
	size_t nkeys;
};

static int
load_cb(void *ctx, const struct dns_zf_rr *rr)
{
	struct tzone *z = ctx;
	z->rrs = realloc(z->rrs, (z->n + 1) * sizeof(*z->rrs));
	assert_non_null(z->rrs);
	struct trr *t = &z->rrs[z->n++];
	memcpy(t->owner, rr->owner, dns_name_len(rr->owner));
	t->type = rr->type;
	t->rclass = rr->rclass;
	t->rd = malloc(rr->rdlen ? rr->rdlen : 1);
	assert_non_null(t->rd);
	memcpy(t->rd, rr->rdata, rr->rdlen);
	t->rdlen = rr->rdlen;
	return TDNS_OK;
}

/* Reads file (under DATA) and parses every DNSKEY of it into z->keys. */
static void
load(struct tzone *z, const char *file, const char *origin)
{
	char path[512];
	snprintf(path, sizeof(path), DATA "%s", file);
	memset(z, 0, sizeof(*z));
	struct dns_zf_error err;
	int rc = dns_zonefile_read(path, unit_name(origin), 3600, load_cb, z, &err);
	if (rc != TDNS_OK) {
		fail_msg("%s:%u: %s", err.file, err.line, err.msg);
	}
	for (size_t i = 0; i < z->n; i++) {
		if (z->rrs[i].type == DNS_TYPE_DNSKEY) {
			assert_true(z->nkeys < 8);
			assert_int_equal(dnssec_key_new(z->rrs[i].owner, z->rrs[i].rd,
							z->rrs[i].rdlen, &z->keys[z->nkeys]),
					 DNSSEC_OK);
			z->nkeys++;
		}
	}
}

static void
unload(struct tzone *z)
{
	for (size_t i = 0; i < z->n; i++) {
		free(z->rrs[i].rd);
	}
	for (size_t i = 0; i < z->nkeys; i++) {
		dnssec_key_free(z->keys[i]);
	}
	free(z->rrs);
}

/* The RRset (owner, type) of z into rd (at most max); returns the count. */
static size_t
rrset(const struct tzone *z, const uint8_t *owner, uint16_t type, struct dnssec_rdata *rd,
      size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < z->n; i++) {
		if (z->rrs[i].type == type && dns_name_eq(z->rrs[i].owner, owner) && n < max) {
			rd[n++] = (struct dnssec_rdata){ z->rrs[i].rd, z->rrs[i].rdlen };
		}
	}
	return n;
}

/* The first RRSIG at owner covering type, parsed into s; fails the test if there is none. */
static void
rrsig(const struct tzone *z, const uint8_t *owner, uint16_t type, struct dnssec_rrsig *s)
{
	for (size_t i = 0; i < z->n; i++) {
		if (z->rrs[i].type == DNS_TYPE_RRSIG && dns_name_eq(z->rrs[i].owner, owner) &&
		    dnssec_rrsig_parse(z->rrs[i].rd, z->rrs[i].rdlen, s) == TDNS_OK &&
		    s->type_covered == type) {
			return;
		}
	}
	fail_msg("no RRSIG for type %u", type);
}

/* The key of z that could have made s, or NULL. */
static const struct dnssec_key *
signing_key(const struct tzone *z, const struct dnssec_rrsig *s)
{
	for (size_t i = 0; i < z->nkeys; i++) {
		if (dnssec_rrsig_key_matches(s, z->keys[i])) {
			return z->keys[i];
		}
	}
	return NULL;
}

/* One signed RRset of a loaded zone: its rdatas, its first RRSIG and the key that made it. */
struct signed_set {
	uint8_t owner[DNS_NAME_MAX];
	struct dnssec_rdata rd[16];
	struct dnssec_rrsig s;
	const struct dnssec_key *k;
	struct dnssec_rrset set;  /* owner, type, class IN, rd */
};

/* Fills x with the RRset owner/type of z (borrowing z's rdata); fails the test if unsigned. */
static void
signed_set(struct signed_set *x, const struct tzone *z, const char *owner, uint16_t type)
{
	memcpy(x->owner, unit_name(owner), DNS_NAME_MAX);
	size_t cnt = rrset(z, x->owner, type, x->rd, 16);
	assert_true(cnt > 0);
	rrsig(z, x->owner, type, &x->s);
	x->k = signing_key(z, &x->s);
	assert_non_null(x->k);
	x->set = (struct dnssec_rrset){ x->owner, type, DNS_CLASS_IN, x->rd, cnt };
}

/* Verifies x at now with skew, without budget. */
static enum dnssec_result
verify_at(const struct signed_set *x, uint32_t now, uint32_t skew,
	  struct dnssec_verify_info *info)
{
	return dnssec_rrsig_verify(&x->set, &x->s, x->k, now, skew, NULL, info);
}

/* Verifies x at now without skew or budget. */
static enum dnssec_result
verify_set(const struct signed_set *x, uint32_t now, struct dnssec_verify_info *info)
{
	return verify_at(x, now, 0, info);
}

/* Verifies the RRset at owner/type of z with its first RRSIG, presented under name. */
static enum dnssec_result
verify_as(const struct tzone *z, const char *owner, uint16_t type, const char *name,
	  uint32_t now, struct dnssec_verify_info *info)
{
	struct signed_set x;
	signed_set(&x, z, owner, type);
	memcpy(x.owner, unit_name(name), DNS_NAME_MAX);
	return verify_set(&x, now, info);
}

static const char *const zones[][2] = {
	{ "alg5.signed", "alg5.test." },     { "alg7.signed", "alg7.test." },
	{ "alg8.signed", "alg8.test." },     { "alg10.signed", "alg10.test." },
	{ "alg13.signed", "alg13.test." },   { "alg14.signed", "alg14.test." },
	{ "alg15.signed", "alg15.test." },   { "alg16.signed", "alg16.test." },
	{ "optout.signed", "optout.test." },
};
#define NZONES (sizeof(zones) / sizeof(zones[0]))

/* ------------------------------------------------------------------------------------------ */
/* RRSIG                                                                                       */

static void
test_every_rrsig_of_every_algorithm_verifies(void **state)
{
	(void)state;
	for (size_t zi = 0; zi < NZONES; zi++) {
		struct tzone z;
		load(&z, zones[zi][0], zones[zi][1]);
		size_t verified = 0;
		for (size_t i = 0; i < z.n; i++) {
			struct dnssec_rrsig s;
			if (z.rrs[i].type != DNS_TYPE_RRSIG) {
				continue;
			}
			struct trr *t = &z.rrs[i];
			assert_int_equal(dnssec_rrsig_parse(t->rd, t->rdlen, &s), TDNS_OK);
			assert_true(dnssec_alg_supported(s.alg));
			struct dnssec_rdata rd[16];
			size_t cnt = rrset(&z, t->owner, s.type_covered, rd, 16);
			const struct dnssec_key *k = signing_key(&z, &s);
			assert_non_null(k);
			struct dnssec_rrset set = { t->owner, s.type_covered, DNS_CLASS_IN, rd,
						    cnt };
			struct dnssec_verify_info info;
			enum dnssec_result r;
			r = dnssec_rrsig_verify(&set, &s, k, NOW, 0, NULL, &info);
			if (r != DNSSEC_OK) {
				char txt[DNS_NAME_TEXT_MAX];
				dns_name_to_text(t->owner, txt, sizeof(txt));
				fail_msg("%s: %s type %u: %s", zones[zi][0], txt, s.type_covered,
					 dnssec_result_str(r));
			}
			assert_false(info.wildcard);
			verified++;
		}
		assert_true(verified >= 12);
		unload(&z);
	}
}

static void
test_names_in_rdata_are_lowercased_and_order_does_not_matter(void **state)
{
	(void)state;
	struct tzone z;
	load(&z, "alg8.signed", "alg8.test.");
	/* The MX targets and the CNAME target were signed in mixed case (MAIL.Example.NET.). */
	assert_int_equal(verify_as(&z, "mx.alg8.test.", DNS_TYPE_MX, "MX.Alg8.TEST.", NOW, NULL),
			 DNSSEC_OK);
	assert_int_equal(verify_as(&z, "up.alg8.test.", DNS_TYPE_CNAME, "UP.alg8.test.", NOW, NULL),
			 DNSSEC_OK);
	/* Reversed and duplicated rdatas make the same canonical RRset (RFC 4034 §6.3). */
	struct signed_set x;
	signed_set(&x, &z, "www.alg8.test.", DNS_TYPE_A);
	assert_int_equal(x.set.count, 2);
	x.rd[2] = x.rd[0];
	x.rd[0] = x.rd[1];
	x.rd[1] = x.rd[2];
	x.set.count = 3;
	assert_int_equal(verify_set(&x, NOW, NULL), DNSSEC_OK);
	unload(&z);
}

static void
test_flipped_byte_in_data_or_signature_is_bogus(void **state)
{
	(void)state;
	for (size_t zi = 0; zi < NZONES; zi++) {
		struct tzone z;
		load(&z, zones[zi][0], zones[zi][1]);
		char owner[64];
		snprintf(owner, sizeof(owner), "www.%s", zones[zi][1]);
		struct signed_set x;
		signed_set(&x, &z, owner, DNS_TYPE_A);
		struct dnssec_rrset set = x.set;
		struct dnssec_rdata *rd = x.rd;
		struct dnssec_rrsig s = x.s;
		const struct dnssec_key *k = x.k;
		assert_int_equal(dnssec_rrsig_verify(&set, &s, k, NOW, 0, NULL, NULL), DNSSEC_OK);

		uint8_t a[4];
		memcpy(a, rd[0].rd, 4);
		a[3] ^= 1;
		rd[0].rd = a;
		assert_int_equal(dnssec_rrsig_verify(&set, &s, k, NOW, 0, NULL, NULL),
				 DNSSEC_BOGUS);
		a[3] ^= 1;

		uint8_t sig[1024];
		assert_true(s.rdlen <= sizeof(sig));
		memcpy(sig, s.rd, s.rdlen);
		sig[s.rdlen - 5] ^= 0x10;
		struct dnssec_rrsig bad;
		assert_int_equal(dnssec_rrsig_parse(sig, s.rdlen, &bad), TDNS_OK);
		assert_int_equal(dnssec_rrsig_verify(&set, &bad, k, NOW, 0, NULL, NULL),
				 DNSSEC_BOGUS);
		/* The signed fields count too: the original TTL. */
		memcpy(sig, s.rd, s.rdlen);
		sig[7] ^= 1;
		assert_int_equal(dnssec_rrsig_parse(sig, s.rdlen, &bad), TDNS_OK);
		assert_int_equal(dnssec_rrsig_verify(&set, &bad, k, NOW, 0, NULL, NULL),
				 DNSSEC_BOGUS);
		/* Another class is another RRset. */
		set.rclass = DNS_CLASS_CH;
		assert_int_equal(dnssec_rrsig_verify(&set, &s, k, NOW, 0, NULL, NULL),
				 DNSSEC_BOGUS);
		unload(&z);
	}
}

static void
test_wildcard_expansion_is_verified_and_reported(void **state)
{
	(void)state;
	for (size_t zi = 0; zi < NZONES; zi++) {
		struct tzone z;
		load(&z, zones[zi][0], zones[zi][1]);
		char wild[64], name[64], ce[64];
		snprintf(wild, sizeof(wild), "*.wild.%s", zones[zi][1]);
		snprintf(name, sizeof(name), "a.B.wild.%s", zones[zi][1]);
		snprintf(ce, sizeof(ce), "wild.%s", zones[zi][1]);
		struct dnssec_verify_info info;
		assert_int_equal(verify_as(&z, wild, DNS_TYPE_TXT, name, NOW, &info), DNSSEC_OK);
		assert_true(info.wildcard);
		assert_true(dns_name_eq(info.source, unit_name(wild)));
		assert_true(dns_name_eq(info.closest, unit_name(ce)));
		/* Queried literally, "*" is not an expansion. */
		assert_int_equal(verify_as(&z, wild, DNS_TYPE_TXT, wild, NOW, &info), DNSSEC_OK);
		assert_false(info.wildcard);
		/* An owner with fewer labels than the signature claims. */
		assert_int_equal(verify_as(&z, wild, DNS_TYPE_TXT, zones[zi][1], NOW, &info),
				 DNSSEC_MALFORMED);
		/* The wrong wildcard: the expansion is rebuilt from the labels field. */
		snprintf(name, sizeof(name), "a.other.%s", zones[zi][1]);
		assert_int_equal(verify_as(&z, wild, DNS_TYPE_TXT, name, NOW, &info),
				 DNSSEC_BOGUS);
		unload(&z);
	}
}

static void
test_signature_window_with_skew(void **state)
{
	(void)state;
	struct tzone z;
	load(&z, "alg13.signed", "alg13.test.");
	struct signed_set x;
	signed_set(&x, &z, "www.alg13.test.", DNS_TYPE_A);
	assert_int_equal(x.s.inception, INCEPTION);
	assert_int_equal(x.s.expiration, EXPIRATION);
	struct dnssec_verify_info info;
	assert_int_equal(verify_at(&x, INCEPTION - 1, 0, NULL), DNSSEC_NOT_YET_VALID);
	assert_int_equal(verify_at(&x, INCEPTION - 60, 60, NULL), DNSSEC_OK);
	assert_int_equal(verify_at(&x, INCEPTION - 61, 60, NULL), DNSSEC_NOT_YET_VALID);
	assert_int_equal(verify_at(&x, INCEPTION, 0, NULL), DNSSEC_OK);
	assert_int_equal(verify_at(&x, EXPIRATION, 0, &info), DNSSEC_OK);
	assert_int_equal(info.ttl_max, 0);
	assert_int_equal(verify_at(&x, EXPIRATION + 1, 0, NULL), DNSSEC_EXPIRED);
	assert_int_equal(verify_at(&x, EXPIRATION + 60, 60, NULL), DNSSEC_OK);
	assert_int_equal(verify_at(&x, EXPIRATION + 61, 60, NULL), DNSSEC_EXPIRED);
	/* The TTL cap: the original TTL, or what is left of the window when that is less. */
	assert_int_equal(verify_at(&x, NOW, 0, &info), DNSSEC_OK);
	assert_int_equal(info.ttl_max, 3600);
	assert_int_equal(verify_at(&x, EXPIRATION - 100, 0, &info), DNSSEC_OK);
	assert_int_equal(info.ttl_max, 100);
	/* Serial arithmetic (RFC 1982): a window across the 2106 wrap of 32-bit time. */
	struct dnssec_rrsig w = x.s;
	w.inception = 0xfffff000u;
	w.expiration = 0x00001000u;
	assert_int_equal(dnssec_rrsig_time(&w, 0x00000010u, 0), DNSSEC_OK);
	assert_int_equal(dnssec_rrsig_time(&w, 0x00002000u, 0), DNSSEC_EXPIRED);
	assert_int_equal(dnssec_rrsig_time(&w, 0xffff0000u, 0), DNSSEC_NOT_YET_VALID);
	w.inception = 0x00001000u;
	w.expiration = 0x00000010u;
	assert_int_equal(dnssec_rrsig_time(&w, 0x00000010u, 0), DNSSEC_MALFORMED);
	unload(&z);
}

static void
test_wrong_key_is_a_mismatch(void **state)
{
	(void)state;
	struct tzone z;
	load(&z, "alg15.signed", "alg15.test.");
	struct signed_set x;
	signed_set(&x, &z, "www.alg15.test.", DNS_TYPE_A);
	const struct dnssec_rrset set = x.set;
	struct dnssec_rrsig s = x.s;
	const struct dnssec_key *k = x.k;
	const struct dnssec_key *other = z.keys[0] == k ? z.keys[1] : z.keys[0];
	assert_int_equal(dnssec_rrsig_verify(&set, &s, other, NOW, 0, NULL, NULL),
			 DNSSEC_KEY_MISMATCH);
	/* The right key under another owner name. */
	struct dnssec_key *moved;
	uint8_t dnskey[256];
	struct dnssec_rdata krd[4];
	const uint8_t *apex = unit_name("alg15.test.");
	size_t nk = rrset(&z, apex, DNS_TYPE_DNSKEY, krd, 4);
	assert_int_equal(nk, 2);
	for (size_t i = 0; i < nk; i++) {
		if (dnssec_key_tag(krd[i].rd, krd[i].len) == s.key_tag) {
			memcpy(dnskey, krd[i].rd, krd[i].len);
			assert_int_equal(dnssec_key_new(unit_name("alg15.example."), dnskey,
							krd[i].len, &moved),
					 DNSSEC_OK);
			assert_int_equal(dnssec_rrsig_verify(&set, &s, moved, NOW, 0, NULL, NULL),
					 DNSSEC_KEY_MISMATCH);
			dnssec_key_free(moved);
			/* Without the Zone Key flag a key signs nothing (its tag changes too). */
			dnskey[0] = 0;
			assert_int_equal(dnssec_key_new(apex, dnskey, krd[i].len, &moved),
					 DNSSEC_OK);
			assert_false(dnssec_rrsig_key_matches(&s, moved));
			dnssec_key_free(moved);
		}
	}
	/* An RRSIG of another type does not sign this set. */
	s.type_covered = DNS_TYPE_AAAA;
	assert_int_equal(dnssec_rrsig_verify(&set, &s, k, NOW, 0, NULL, NULL), DNSSEC_MALFORMED);
	unload(&z);
}

static void
test_verification_budget_counts_failures_too(void **state)
{
	(void)state;
	struct tzone z;
	load(&z, "alg13.signed", "alg13.test.");
	struct signed_set x;
	signed_set(&x, &z, "www.alg13.test.", DNS_TYPE_A);
	struct dnssec_budget b;
	dnssec_budget_init(&b, 3, 0);
	assert_int_equal(dnssec_rrsig_verify(&x.set, &x.s, x.k, NOW, 0, &b, NULL), DNSSEC_OK);
	x.set.rclass = DNS_CLASS_CH;
	assert_int_equal(dnssec_rrsig_verify(&x.set, &x.s, x.k, NOW, 0, &b, NULL), DNSSEC_BOGUS);
	x.set.rclass = DNS_CLASS_IN;
	/* Key mismatches and expired signatures cost no crypto and are not charged. */
	assert_int_equal(dnssec_rrsig_verify(&x.set, &x.s, x.k, EXPIRATION + 1, 0, &b, NULL),
			 DNSSEC_EXPIRED);
	assert_int_equal(b.verify_used, 2);
	assert_int_equal(dnssec_rrsig_verify(&x.set, &x.s, x.k, NOW, 0, &b, NULL), DNSSEC_OK);
	assert_int_equal(dnssec_rrsig_verify(&x.set, &x.s, x.k, NOW, 0, &b, NULL), DNSSEC_BUDGET);
	assert_int_equal(b.verify_used, 3);
	unload(&z);
}

static void
test_rrset_verify_tries_every_rrsig_and_key(void **state)
{
	(void)state;
	struct tzone z;
	load(&z, "alg14.signed", "alg14.test.");
	struct signed_set x;
	signed_set(&x, &z, "www.alg14.test.", DNS_TYPE_A);
	/* Every RRSIG at the owner: those of A, AAAA and NSEC. */
	struct dnssec_rdata sigs[8];
	size_t nsig = rrset(&z, x.owner, DNS_TYPE_RRSIG, sigs, 8);
	assert_true(nsig >= 3);
	struct dnssec_key *keys[2] = { z.keys[0], z.keys[1] };
	struct dnssec_verify_info info;
	struct dnssec_budget b;
	size_t used = DNSSEC_NONE;
	dnssec_budget_init(&b, 1, 0);
	assert_int_equal(dnssec_rrset_verify(&x.set, sigs, nsig, keys, 2, NOW, 0, &b, &info, &used),
			 DNSSEC_OK);
	assert_int_equal(sigs[used].rd[1], DNS_TYPE_A);
	assert_int_equal(b.verify_used, 1);
	/* The budget is spent: nothing more is verified. */
	assert_int_equal(dnssec_rrset_verify(&x.set, sigs, nsig, keys, 2, NOW, 0, &b, &info, NULL),
			 DNSSEC_BUDGET);
	/* Only the other key: DNSKEY missing rather than bogus. */
	struct dnssec_key *other[1] = { z.keys[0] == x.k ? z.keys[1] : z.keys[0] };
	assert_int_equal(dnssec_rrset_verify(&x.set, sigs, nsig, other, 1, NOW, 0, NULL, &info,
					     NULL),
			 DNSSEC_KEY_MISMATCH);
	assert_int_equal(dnssec_rrset_verify(&x.set, sigs, nsig, keys, 2, EXPIRATION + 1, 0, NULL,
					     &info, NULL),
			 DNSSEC_EXPIRED);
	assert_int_equal(dnssec_rrset_verify(&x.set, sigs, nsig, keys, 2, INCEPTION - 1, 0, NULL,
					     &info, NULL),
			 DNSSEC_NOT_YET_VALID);
	x.set.rclass = DNS_CLASS_CH;
	assert_int_equal(dnssec_rrset_verify(&x.set, sigs, nsig, keys, 2, NOW, 0, NULL, &info,
					     NULL),
			 DNSSEC_BOGUS);
	x.set.rclass = DNS_CLASS_IN;
	/* No RRSIG for the type at all. */
	x.set.type = DNS_TYPE_MX;
	assert_int_equal(dnssec_rrset_verify(&x.set, sigs, nsig, keys, 2, NOW, 0, NULL, &info,
					     NULL),
			 DNSSEC_BOGUS);
	x.set.type = DNS_TYPE_A;
	/* An algorithm nobody supports: insecure, not bogus. */
	uint8_t copy[8][256];
	for (size_t i = 0; i < nsig; i++) {
		memcpy(copy[i], sigs[i].rd, sigs[i].len);
		copy[i][2] = 253;
		sigs[i].rd = copy[i];
	}
	assert_int_equal(dnssec_rrset_verify(&x.set, sigs, nsig, keys, 2, NOW, 0, NULL, &info,
					     NULL),
			 DNSSEC_UNSUPPORTED_ALG);
	unload(&z);
}

static void
test_unsupported_and_malformed_keys(void **state)
{
	(void)state;
	const uint8_t *o = unit_name("example.");
	struct dnssec_key *k = NULL;
	uint8_t rd[200];
	memset(rd, 0x01, sizeof(rd));
	rd[0] = 1;
	rd[1] = 0;
	rd[2] = 3;
	for (unsigned alg = 0; alg < 256; alg++) {
		rd[3] = (uint8_t)alg;
		bool sup = alg == 5 || alg == 7 || alg == 8 || alg == 10 || alg == 13 ||
			   alg == 14 || alg == 15 || alg == 16;
		assert_int_equal(dnssec_alg_supported((uint8_t)alg), sup);
		if (!sup) {
			assert_int_equal(dnssec_key_new(o, rd, sizeof(rd), &k),
					 DNSSEC_UNSUPPORTED_ALG);
		}
	}
	/* Wrong sizes for the curve, a point off the curve, an RSA exponent past the end. */
	rd[3] = DNSSEC_ALG_ED25519;
	assert_int_equal(dnssec_key_new(o, rd, 4 + 31, &k), DNSSEC_MALFORMED);
	rd[3] = DNSSEC_ALG_ED448;
	assert_int_equal(dnssec_key_new(o, rd, 4 + 32, &k), DNSSEC_MALFORMED);
	rd[3] = DNSSEC_ALG_ECDSAP256SHA256;
	assert_int_equal(dnssec_key_new(o, rd, 4 + 64, &k), DNSSEC_MALFORMED);
	assert_int_equal(dnssec_key_new(o, rd, 4 + 63, &k), DNSSEC_MALFORMED);
	rd[3] = DNSSEC_ALG_ECDSAP384SHA384;
	assert_int_equal(dnssec_key_new(o, rd, 4 + 96, &k), DNSSEC_MALFORMED);
	rd[3] = DNSSEC_ALG_RSASHA256;
	rd[4] = 200;
	assert_int_equal(dnssec_key_new(o, rd, sizeof(rd), &k), DNSSEC_MALFORMED);
	rd[4] = 0;
	rd[5] = 0xff;
	assert_int_equal(dnssec_key_new(o, rd, sizeof(rd), &k), DNSSEC_MALFORMED);
	assert_int_equal(dnssec_key_new(o, rd, 4, &k), DNSSEC_MALFORMED);
	assert_null(k);
	dnssec_key_free(NULL);

	/* RRSIG rdata that is too short or has no signature. */
	struct dnssec_rrsig s;
	assert_int_equal(dnssec_rrsig_parse(rd, 18, &s), TDNS_EMALFORMED);
	memset(rd, 0, 19);
	assert_int_equal(dnssec_rrsig_parse(rd, 19, &s), TDNS_EMALFORMED);
	assert_int_equal(dnssec_rrsig_parse(rd, 20, &s), TDNS_OK);
	assert_int_equal(s.sig_len, 1);
}

static void
test_result_strings_and_ede(void **state)
{
	(void)state;
	assert_string_equal(dnssec_result_str(DNSSEC_OK), "ok");
	assert_string_equal(dnssec_result_str(DNSSEC_EXPIRED), "expired");
	assert_string_equal(dnssec_result_str((enum dnssec_result)99), "unknown");
	for (int r = DNSSEC_OK; r <= DNSSEC_ERROR; r++) {
		assert_string_not_equal(dnssec_result_str((enum dnssec_result)r), "unknown");
	}
	assert_int_equal(dnssec_result_ede(DNSSEC_OK), -1);
	assert_int_equal(dnssec_result_ede(DNSSEC_BOGUS), DNS_EDE_DNSSEC_BOGUS);
	assert_int_equal(dnssec_result_ede(DNSSEC_KEY_MISMATCH), DNS_EDE_DNSSEC_BOGUS);
	assert_int_equal(dnssec_result_ede(DNSSEC_EXPIRED), DNS_EDE_SIGNATURE_EXPIRED);
	assert_int_equal(dnssec_result_ede(DNSSEC_NOT_YET_VALID), DNS_EDE_SIGNATURE_NOT_YET_VALID);
	assert_int_equal(dnssec_result_ede(DNSSEC_UNSUPPORTED_ALG), DNS_EDE_UNSUPPORTED_DNSKEY_ALG);
	assert_int_equal(dnssec_result_ede(DNSSEC_UNSUPPORTED_DIGEST),
			 DNS_EDE_UNSUPPORTED_DS_DIGEST);
	assert_int_equal(dnssec_result_ede(DNSSEC_BUDGET), DNS_EDE_DNSSEC_INDETERMINATE);
}

/* ------------------------------------------------------------------------------------------ */
/* Key tags and DS                                                                             */

static void
test_key_tags_and_ds_digests_match_the_tools(void **state)
{
	(void)state;
	for (size_t zi = 0; zi < NZONES; zi++) {
		struct tzone z, ds;
		load(&z, zones[zi][0], zones[zi][1]);
		char file[64];
		snprintf(file, sizeof(file), "%.*s.ds", (int)(strlen(zones[zi][0]) - 7),
			 zones[zi][0]);
		load(&ds, file, zones[zi][1]);
		assert_true(ds.n >= 1);
		uint8_t apex[DNS_NAME_MAX];
		memcpy(apex, unit_name(zones[zi][1]), DNS_NAME_MAX);
		struct dnssec_rdata keys[4];
		size_t nk = rrset(&z, apex, DNS_TYPE_DNSKEY, keys, 4);
		for (size_t i = 0; i < ds.n; i++) {
			struct dnssec_ds d;
			const struct trr *t = &ds.rrs[i];
			assert_int_equal(dnssec_ds_parse(t->rd, t->rdlen, &d), TDNS_OK);
			size_t matched = 0;
			for (size_t j = 0; j < nk; j++) {
				enum dnssec_result r = dnssec_ds_match(apex, ds.rrs[i].rd,
								       ds.rrs[i].rdlen, keys[j].rd,
								       keys[j].len);
				if (dnssec_key_tag(keys[j].rd, keys[j].len) != d.key_tag) {
					assert_int_equal(r, DNSSEC_KEY_MISMATCH);
					continue;
				}
				assert_int_equal(r, DNSSEC_OK);
				uint8_t dig[DNSSEC_DIGEST_MAX];
				size_t dlen;
				assert_int_equal(dnssec_ds_digest(apex, keys[j].rd, keys[j].len,
								  d.digest_type, dig, &dlen),
						 DNSSEC_OK);
				assert_int_equal(dlen, d.digest_len);
				assert_memory_equal(dig, d.digest, dlen);
				/* A flipped digest octet. */
				uint8_t bad[64];
				memcpy(bad, ds.rrs[i].rd, ds.rrs[i].rdlen);
				bad[ds.rrs[i].rdlen - 1] ^= 0x40;
				assert_int_equal(dnssec_ds_match(apex, bad, ds.rrs[i].rdlen,
								 keys[j].rd, keys[j].len),
						 DNSSEC_BOGUS);
				/* GOST (3) and unknown digests are not used. */
				bad[3] = 3;
				assert_int_equal(dnssec_ds_match(apex, bad, ds.rrs[i].rdlen,
								 keys[j].rd, keys[j].len),
						 DNSSEC_UNSUPPORTED_DIGEST);
				matched++;
			}
			assert_int_equal(matched, 1);
		}
		unload(&ds);
		unload(&z);
	}
}

static void
test_key_tag_of_rfc4034_example(void **state)
{
	(void)state;
	/* RFC 4034 §5.4: the DNSKEY of dskey.example.com., key tag 60485, and its DS. */
	static const char text[] =
		"dskey.example.com. 86400 IN DNSKEY 256 3 5 ( AQOeiiR0GOMYkDshWoSKz9Xz\n"
		" fwJr1AYtsmx3TGkJaNXVbfi/ 2pHm822aJ5iI9BMzNXxeYCmZ DRD99WYwYqUSdjMmmAphXdvx\n"
		" egXd/M5+X7OrzKBaMbCVdFLU Uh6DhweJBjEVv5f2wwjM9Xzc nOf+EPbtG9DMBmADjFDc2w/r\n"
		" ljwvFw== )\n"
		"dskey.example.com. 86400 IN DS 60485 5 1 ( 2BB183AF5F22588179A53B0A\n"
		" 98631FAD1A292118 )\n";
	struct tzone z;
	memset(&z, 0, sizeof(z));
	struct dns_zf_error err;
	assert_int_equal(dns_zonefile_read_mem(text, sizeof(text) - 1, "rfc4034", unit_name("."),
					       3600, load_cb, &z, &err),
			 TDNS_OK);
	assert_int_equal(z.n, 2);
	assert_int_equal(dnssec_key_tag(z.rrs[0].rd, z.rrs[0].rdlen), 60485);
	assert_int_equal(dnssec_ds_match(z.rrs[0].owner, z.rrs[1].rd, z.rrs[1].rdlen, z.rrs[0].rd,
					 z.rrs[0].rdlen),
			 DNSSEC_OK);
	struct dnssec_key *k;
	assert_int_equal(dnssec_key_new(z.rrs[0].owner, z.rrs[0].rd, z.rrs[0].rdlen, &k),
			 DNSSEC_OK);
	assert_int_equal(dnssec_key_tag_of(k), 60485);
	assert_int_equal(dnssec_key_alg(k), DNSSEC_ALG_RSASHA1);
	assert_int_equal(dnssec_key_flags(k), DNSSEC_DNSKEY_ZONE);
	assert_true(dns_name_eq(dnssec_key_owner(k), unit_name("DSKEY.example.com.")));
	dnssec_key_free(k);
	unload(&z);
	/* A hand-made key: the tag is the folded 16-bit sum (Appendix B). */
	const uint8_t rd[] = { 0x01, 0x00, 0x03, 0x08, 0xff, 0xff, 0x00, 0x01 };
	uint32_t sum = 0x0100 + 0x0308 + 0xffff + 0x0001;
	sum += sum >> 16;
	assert_int_equal(dnssec_key_tag(rd, sizeof(rd)), sum & 0xffff);
	/* Algorithm 1 takes the next-to-last two octets of the modulus (Appendix B.1). */
	const uint8_t md5[] = { 0x01, 0x00, 0x03, 0x01, 0x03, 0x01, 0x00, 0x01, 0xab, 0xcd, 0xef };
	assert_int_equal(dnssec_key_tag(md5, sizeof(md5)), 0xabcd);
	assert_true(dnssec_digest_supported(1) && dnssec_digest_supported(2) &&
		    dnssec_digest_supported(4));
	assert_false(dnssec_digest_supported(3) || dnssec_digest_supported(0) ||
		     dnssec_digest_supported(5));
	assert_int_equal(dnssec_digest_len(4), 48);
}

/* ------------------------------------------------------------------------------------------ */
/* NSEC                                                                                        */

/* The NSEC of z at owner, parsed. */
static void
nsec_at(const struct tzone *z, const char *owner, struct dnssec_nsec *n)
{
	struct dnssec_rdata rd[1];
	assert_int_equal(rrset(z, unit_name(owner), DNS_TYPE_NSEC, rd, 1), 1);
	assert_int_equal(dnssec_nsec_parse(rd[0].rd, rd[0].len, n), TDNS_OK);
}

static void
test_nsec_covers_matches_and_nodata(void **state)
{
	(void)state;
	struct tzone z;
	load(&z, "alg13.signed", "alg13.test.");
	struct dnssec_nsec n;
	uint8_t owner[DNS_NAME_MAX];

	nsec_at(&z, "mx.alg13.test.", &n); /* mx -> ns1 */
	memcpy(owner, unit_name("mx.alg13.test."), DNS_NAME_MAX);
	assert_true(dnssec_nsec_covers(owner, n.next, unit_name("mz.alg13.test.")));
	assert_true(dnssec_nsec_covers(owner, n.next, unit_name("x.mx.alg13.test.")));
	assert_true(dnssec_nsec_covers(owner, n.next, unit_name("NOPE.alg13.test.")));
	assert_false(dnssec_nsec_covers(owner, n.next, unit_name("mx.alg13.test.")));
	assert_false(dnssec_nsec_covers(owner, n.next, unit_name("ns1.alg13.test.")));
	assert_false(dnssec_nsec_covers(owner, n.next, unit_name("a.alg13.test.")));
	assert_true(dnssec_bitmap_has(n.bitmap, n.bitmap_len, DNS_TYPE_MX));
	assert_true(dnssec_bitmap_has(n.bitmap, n.bitmap_len, DNS_TYPE_NSEC));
	assert_false(dnssec_bitmap_has(n.bitmap, n.bitmap_len, DNS_TYPE_A));
	assert_false(dnssec_bitmap_has(n.bitmap, n.bitmap_len, DNS_TYPE_CAA));
	assert_true(dnssec_nsec_nodata(owner, &n, unit_name("MX.alg13.test."), DNS_TYPE_A));
	assert_false(dnssec_nsec_nodata(owner, &n, owner, DNS_TYPE_MX));
	assert_false(dnssec_nsec_nodata(owner, &n, unit_name("x.mx.alg13.test."), DNS_TYPE_A));

	uint8_t ce[DNS_NAME_MAX];
	dnssec_nsec_closest_encloser(owner, n.next, unit_name("x.y.mx.alg13.test."), ce);
	assert_true(dns_name_eq(ce, unit_name("mx.alg13.test.")));
	dnssec_nsec_closest_encloser(owner, n.next, unit_name("nope.alg13.test."), ce);
	assert_true(dns_name_eq(ce, unit_name("alg13.test.")));
	uint8_t w[DNS_NAME_MAX];
	assert_int_equal(dnssec_wildcard_name(ce, w), dns_name_len(ce) + 2);
	assert_true(dns_name_eq(w, unit_name("*.alg13.test.")));

	/* The apex NSEC covers "*.alg13.test." (no wildcard), and is no proof for DS. */
	nsec_at(&z, "alg13.test.", &n);
	memcpy(owner, unit_name("alg13.test."), DNS_NAME_MAX);
	assert_true(dnssec_nsec_covers(owner, n.next, w));
	assert_true(dnssec_nsec_nodata(owner, &n, owner, DNS_TYPE_A));
	assert_false(dnssec_nsec_nodata(owner, &n, owner, DNS_TYPE_DS));
	/* It also shows that the empty non-terminals above a.b.c.deep exist, with no data. */
	assert_true(dnssec_nsec_nodata(owner, &n, unit_name("deep.alg13.test."), DNS_TYPE_A));
	assert_true(dnssec_nsec_nodata(owner, &n, unit_name("b.c.deep.alg13.test."), DNS_TYPE_A));
	assert_false(dnssec_nsec_nodata(owner, &n, unit_name("x.deep.alg13.test."), DNS_TYPE_A));
	assert_false(dnssec_nsec_nodata(owner, &n, unit_name("a.alg13.test."), DNS_TYPE_A));

	/* sub -> Up: the next name in mixed case still orders canonically. */
	nsec_at(&z, "sub.alg13.test.", &n);
	memcpy(owner, unit_name("sub.alg13.test."), DNS_NAME_MAX);
	assert_true(dnssec_nsec_covers(owner, n.next, unit_name("T.alg13.test.")));
	assert_false(dnssec_nsec_covers(owner, n.next, unit_name("v.alg13.test.")));

	/* An unsigned delegation: DS is denied, the child's data is not. */
	nsec_at(&z, "insec.alg13.test.", &n);
	memcpy(owner, unit_name("insec.alg13.test."), DNS_NAME_MAX);
	assert_true(dnssec_nsec_nodata(owner, &n, owner, DNS_TYPE_DS));
	assert_false(dnssec_nsec_nodata(owner, &n, owner, DNS_TYPE_A));

	/* A CNAME is no NODATA proof. */
	nsec_at(&z, "up.alg13.test.", &n);
	memcpy(owner, unit_name("up.alg13.test."), DNS_NAME_MAX);
	assert_false(dnssec_nsec_nodata(owner, &n, owner, DNS_TYPE_A));

	/* The last NSEC wraps to the apex and covers only names in the zone. */
	nsec_at(&z, "www.alg13.test.", &n);
	memcpy(owner, unit_name("www.alg13.test."), DNS_NAME_MAX);
	assert_true(dnssec_nsec_covers(owner, n.next, unit_name("zzz.alg13.test.")));
	assert_true(dnssec_nsec_covers(owner, n.next, unit_name("a.www.alg13.test.")));
	assert_false(dnssec_nsec_covers(owner, n.next, unit_name("zzz.test.")));
	unload(&z);

	/* Malformed bitmaps: window length 0, over 32, windows out of order, cut short. */
	const uint8_t bad[][6] = { { 0, 0 }, { 0, 33 }, { 1, 1, 0x40, 0, 1, 0x40 }, { 0, 4, 1 } };
	const size_t badlen[] = { 2, 2, 6, 3 };
	for (size_t i = 0; i < 4; i++) {
		uint8_t rd[16] = { 0 };
		memcpy(rd + 1, bad[i], badlen[i]);
		assert_int_equal(dnssec_nsec_parse(rd, 1 + badlen[i], &n), TDNS_EMALFORMED);
		assert_false(dnssec_bitmap_has(bad[i], badlen[i], DNS_TYPE_A));
	}
	const uint8_t caa[] = { 1, 1, 0x80 }; /* window 1, type 256 */
	assert_true(dnssec_bitmap_has(caa, sizeof(caa), 256));
	assert_false(dnssec_bitmap_has(caa, sizeof(caa), 257));
}

/* ------------------------------------------------------------------------------------------ */
/* NSEC3                                                                                       */

static void
test_nsec3_hashes_match_ldns(void **state)
{
	(void)state;
	FILE *f = fopen(DATA "nsec3hash.txt", "r");
	assert_non_null(f);
	char name[256], salttext[600], hashtext[64];
	unsigned iter;
	size_t lines = 0;
	while (fscanf(f, "%255s %u %599s %63s", name, &iter, salttext, hashtext) == 4) {
		uint8_t salt[256], want[DNS_NAME_MAX], got[DNSSEC_NSEC3_HASH_LEN];
		size_t slen = strcmp(salttext, "-") == 0 ? 0 : unit_unhex(salttext, salt);
		/* The expected hash as an NSEC3 owner label, decoded by the code under test. */
		uint8_t owner[DNS_NAME_MAX];
		memcpy(owner, unit_name(hashtext), DNS_NAME_MAX);
		assert_int_equal(dnssec_nsec3_owner_hash(owner, want), DNSSEC_NSEC3_HASH_LEN);
		struct dnssec_budget b;
		dnssec_budget_init(&b, 0, 1000);
		assert_int_equal(dnssec_nsec3_hash(unit_name(name), 1, (uint16_t)iter, salt, slen,
						   &b, got),
				 DNSSEC_OK);
		assert_memory_equal(got, want, DNSSEC_NSEC3_HASH_LEN);
		assert_int_equal(b.hash_used, iter + 1);
		lines++;
	}
	fclose(f);
	assert_int_equal(lines, 10);
	/* Not base32hex, or not 32 digits. */
	uint8_t out[DNSSEC_NSEC3_HASH_LEN];
	assert_int_equal(dnssec_nsec3_owner_hash(unit_name("www.example."), out), 0);
	assert_int_equal(dnssec_nsec3_owner_hash(unit_name("0p9mhaveqvm6t7vbl5lop2u3t2rp3toz."),
						 out),
			 0);
}

static void
test_nsec3_iteration_cap_and_hash_budget(void **state)
{
	(void)state;
	uint8_t out[DNSSEC_NSEC3_HASH_LEN];
	const uint8_t *n = unit_name("example.");
	struct dnssec_budget b;
	dnssec_budget_init(&b, 0, 300);
	assert_int_equal(dnssec_nsec3_hash(n, 1, 151, NULL, 0, &b, out), DNSSEC_UNSUPPORTED_NSEC3);
	assert_int_equal(dnssec_nsec3_hash(n, 2, 0, NULL, 0, &b, out), DNSSEC_UNSUPPORTED_NSEC3);
	assert_int_equal(b.hash_used, 0);
	assert_int_equal(dnssec_nsec3_hash(n, 1, 150, NULL, 0, &b, out), DNSSEC_OK);
	assert_int_equal(b.hash_used, 151);
	assert_int_equal(dnssec_nsec3_hash(n, 1, 150, NULL, 0, &b, out), DNSSEC_BUDGET);
	assert_int_equal(b.hash_used, 151);
	assert_int_equal(dnssec_nsec3_hash(n, 1, 148, NULL, 0, &b, out), DNSSEC_OK);
	assert_int_equal(b.hash_used, 300);
	assert_int_equal(dnssec_nsec3_hash(n, 1, 0, NULL, 0, &b, out), DNSSEC_BUDGET);
	assert_int_equal(dnssec_nsec3_hash(n, 1, 0, NULL, 0, NULL, out), DNSSEC_OK);
}

/* The NSEC3 records of z into set (at most max); returns the count. */
static size_t
nsec3_set(const struct tzone *z, struct dnssec_nsec3_rr *set, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < z->n && n < max; i++) {
		if (z->rrs[i].type == DNS_TYPE_NSEC3) {
			set[n++] = (struct dnssec_nsec3_rr){ z->rrs[i].owner, z->rrs[i].rd,
							     z->rrs[i].rdlen };
		}
	}
	return n;
}

static void
test_nsec3_closest_encloser_and_opt_out(void **state)
{
	(void)state;
	struct tzone z;
	load(&z, "optout.signed", "optout.test.");
	struct dnssec_nsec3_rr set[32];
	size_t n = nsec3_set(&z, set, 32);
	assert_int_equal(n, 12);
	uint8_t zone[DNS_NAME_MAX];
	memcpy(zone, unit_name("optout.test."), DNS_NAME_MAX);
	struct dnssec_nsec3_proof p;
	struct dnssec_budget b;

	/* NXDOMAIN below the apex: the apex encloses, the next closer is covered (opt-out). */
	dnssec_budget_init(&b, 0, DNSSEC_BUDGET_HASH_DEFAULT);
	assert_int_equal(dnssec_nsec3_closest_encloser(unit_name("a.nope.optout.test."), zone, set,
						       n, &b, &p),
			 DNSSEC_OK);
	assert_true(dns_name_eq(p.closest, zone));
	assert_true(dns_name_eq(p.next_closer, unit_name("nope.optout.test.")));
	assert_false(p.qname_matched);
	assert_true(p.opt_out);
	assert_int_not_equal(p.nc_cover, DNSSEC_NONE);
	assert_int_equal(b.hash_used, 3 * 4); /* three names, 3 iterations each */

	/* A name that exists matches itself (NODATA), with a bitmap to check. */
	assert_int_equal(dnssec_nsec3_closest_encloser(unit_name("WWW.optout.test."), zone, set, n,
						       NULL, &p),
			 DNSSEC_OK);
	assert_true(p.qname_matched);
	assert_null(p.next_closer);
	struct dnssec_nsec3 x;
	assert_int_equal(dnssec_nsec3_parse(set[p.ce_match].rd, set[p.ce_match].rdlen, &x),
			 TDNS_OK);
	assert_true(dnssec_bitmap_has(x.bitmap, x.bitmap_len, DNS_TYPE_AAAA));
	assert_false(dnssec_bitmap_has(x.bitmap, x.bitmap_len, DNS_TYPE_MX));

	/* Below an empty non-terminal: deep.optout.test. exists only as an encloser. */
	assert_int_equal(dnssec_nsec3_closest_encloser(unit_name("x.deep.optout.test."), zone, set,
						       n, NULL, &p),
			 DNSSEC_OK);
	assert_true(dns_name_eq(p.closest, unit_name("deep.optout.test.")));

	/* The unsigned delegation has no NSEC3 of its own: opt-out covers it (RFC 5155 §8.6). */
	assert_int_equal(dnssec_nsec3_closest_encloser(unit_name("insec.optout.test."), zone, set,
						       n, NULL, &p),
			 DNSSEC_OK);
	assert_true(dns_name_eq(p.closest, zone));
	assert_true(p.opt_out);

	/* Below a signed delegation the parent's NSEC3 proves nothing. */
	assert_int_equal(dnssec_nsec3_closest_encloser(unit_name("x.sub.optout.test."), zone, set,
						       n, NULL, &p),
			 DNSSEC_BOGUS);

	/* Without the record covering the next closer there is no proof. */
	size_t m, c;
	assert_int_equal(dnssec_nsec3_find(unit_name("nope.optout.test."), zone, set, n, NULL, &m,
					   &c),
			 DNSSEC_OK);
	assert_int_equal(m, DNSSEC_NONE);
	assert_int_not_equal(c, DNSSEC_NONE);
	struct dnssec_nsec3_rr less[32];
	size_t nl = 0;
	for (size_t i = 0; i < n; i++) {
		if (i != c) {
			less[nl++] = set[i];
		}
	}
	assert_int_equal(dnssec_nsec3_closest_encloser(unit_name("nope.optout.test."), zone, less,
						       nl, NULL, &p),
			 DNSSEC_BOGUS);

	/* The hash budget stops the walk up a long name (CVE-2023-50868). */
	dnssec_budget_init(&b, 0, 4 * 4 - 1);
	assert_int_equal(dnssec_nsec3_closest_encloser(unit_name("a.b.nope.optout.test."), zone,
						       set, n, &b, &p),
			 DNSSEC_BUDGET);
	assert_true(b.hash_used <= b.hash_max);
	dnssec_budget_init(&b, 0, 4 * 4);
	assert_int_equal(dnssec_nsec3_closest_encloser(unit_name("a.b.nope.optout.test."), zone,
						       set, n, &b, &p),
			 DNSSEC_OK);

	/* Another zone's names, and records from another zone, prove nothing. */
	assert_int_equal(dnssec_nsec3_closest_encloser(unit_name("a.example."), zone, set, n, NULL,
						       &p),
			 DNSSEC_MALFORMED);
	assert_int_equal(dnssec_nsec3_find(unit_name("a.other.test."), unit_name("other.test."),
					   set, n, NULL, &m, &c),
			 DNSSEC_UNSUPPORTED_NSEC3);

	/* RFC 9276: above 150 iterations the records are unusable and the zone insecure. */
	uint8_t rd[32][512];
	for (size_t i = 0; i < n; i++) {
		memcpy(rd[i], set[i].rd, set[i].rdlen);
		rd[i][2] = 0;
		rd[i][3] = 151;
		less[i] = (struct dnssec_nsec3_rr){ set[i].owner, rd[i], set[i].rdlen };
		assert_int_equal(dnssec_nsec3_parse(rd[i], set[i].rdlen, &x), TDNS_OK);
		assert_false(dnssec_nsec3_usable(&x));
	}
	assert_int_equal(dnssec_nsec3_closest_encloser(unit_name("nope.optout.test."), zone, less,
						       n, NULL, &p),
			 DNSSEC_UNSUPPORTED_NSEC3);
	/* Unknown flags make a record unusable too (RFC 5155 §8.2). */
	rd[0][3] = 3;
	rd[0][1] = 0x02;
	assert_int_equal(dnssec_nsec3_parse(rd[0], set[0].rdlen, &x), TDNS_OK);
	assert_false(dnssec_nsec3_usable(&x));
	unload(&z);
}

static void
test_nsec3_without_opt_out(void **state)
{
	(void)state;
	struct tzone z;
	load(&z, "alg7.signed", "alg7.test.");
	struct dnssec_nsec3_rr set[32];
	size_t n = nsec3_set(&z, set, 32);
	assert_true(n >= 10);
	struct dnssec_nsec3_proof p;
	assert_int_equal(dnssec_nsec3_closest_encloser(unit_name("nope.alg7.test."),
						       unit_name("alg7.test."), set, n, NULL, &p),
			 DNSSEC_OK);
	assert_false(p.opt_out);
	assert_true(dns_name_eq(p.closest, unit_name("alg7.test.")));
	/* The wildcard *.wild exists: its hash matches. */
	size_t m, c;
	uint8_t w[DNS_NAME_MAX];
	dnssec_wildcard_name(unit_name("wild.alg7.test."), w);
	assert_int_equal(dnssec_nsec3_find(w, unit_name("alg7.test."), set, n, NULL, &m, &c),
			 DNSSEC_OK);
	assert_int_not_equal(m, DNSSEC_NONE);
	/* The last NSEC3 of the chain wraps: each hash is matched or covered by exactly one. */
	dnssec_wildcard_name(unit_name("alg7.test."), w);
	assert_int_equal(dnssec_nsec3_find(w, unit_name("alg7.test."), set, n, NULL, &m, &c),
			 DNSSEC_OK);
	assert_int_equal(m, DNSSEC_NONE);
	assert_int_not_equal(c, DNSSEC_NONE);
	unload(&z);

	/* Malformed NSEC3 rdata. */
	struct dnssec_nsec3 x;
	const uint8_t shortrd[] = { 1, 0, 0, 0, 4, 0xaa };
	assert_int_equal(dnssec_nsec3_parse(shortrd, sizeof(shortrd), &x), TDNS_EMALFORMED);
	const uint8_t nohash[] = { 1, 0, 0, 0, 0, 0 };
	assert_int_equal(dnssec_nsec3_parse(nohash, sizeof(nohash), &x), TDNS_EMALFORMED);
}

/* ------------------------------------------------------------------------------------------ */
/* Trust anchors                                                                               */

static void
test_root_anchors_match_the_published_root_keys(void **state)
{
	(void)state;
	struct dnssec_anchors *a = dnssec_anchors_new();
	assert_non_null(a);
	assert_int_equal(dnssec_anchors_add_root(a), TDNS_OK);
	assert_int_equal(dnssec_anchors_count(a), 2);
	struct dnssec_anchor_set set;
	assert_true(dnssec_anchors_closest(a, unit_name("www.Example.COM."), &set));
	assert_true(dns_name_eq(set.owner, unit_name(".")));
	assert_int_equal(set.nds, 2);
	assert_int_equal(set.nkeys, 0);
	static const uint16_t tags[2] = { 20326, 38696 };
	for (size_t i = 0; i < 2; i++) {
		struct dnssec_ds d;
		assert_int_equal(dnssec_ds_parse(set.ds[i].rd, set.ds[i].len, &d), TDNS_OK);
		assert_int_equal(d.key_tag, tags[i]);
		assert_int_equal(d.alg, DNSSEC_ALG_RSASHA256);
		assert_int_equal(d.digest_type, DNSSEC_DIGEST_SHA256);
		assert_int_equal(d.digest_len, 32);
	}

	/* The KSKs as Debian's dns-root-data has them (an Unbound anchor file of DNSKEYs): each
	   has the tag of one built-in DS and that DS's digest. */
	struct dnssec_anchors *keys = dnssec_anchors_new();
	struct dns_zf_error err;
	assert_int_equal(dnssec_anchors_load(keys, DATA "root.key", &err), TDNS_OK);
	struct dnssec_anchor_set ks;
	assert_true(dnssec_anchors_closest(keys, unit_name("org."), &ks));
	assert_int_equal(ks.nds, 0);
	assert_int_equal(ks.nkeys, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(dnssec_key_tag(ks.keys[i].rd, ks.keys[i].len), tags[i]);
		for (size_t j = 0; j < 2; j++) {
			assert_int_equal(dnssec_ds_match(ks.owner, set.ds[j].rd, set.ds[j].len,
							 ks.keys[i].rd, ks.keys[i].len),
					 i == j ? DNSSEC_OK : DNSSEC_KEY_MISMATCH);
		}
	}
	/* Adding them again changes nothing. */
	assert_int_equal(dnssec_anchors_add_root(a), TDNS_OK);
	assert_int_equal(dnssec_anchors_count(a), 2);
	dnssec_anchors_free(keys);
	dnssec_anchors_free(a);
	dnssec_anchors_free(NULL);
}

/* An anchor file in Unbound's format: comments, $TTL, $ORIGIN, parentheses over lines. */
static const char anchor_file[] =
	"; trust anchors for the tests\n"
	"$TTL 3600\n"
	"$ORIGIN test.\n"
	"alg13 IN DS 7919 13 2 F603EFC5A4F8127693426DF61D895947EA5709FD0D26E00F6B856B88F7E1F297\n"
	"alg13.test. 3600 IN DNSKEY 257 3 13 ( ; the KSK\n"
	"\tcq4lZXkVh9Ky95H6WDcASFd5WMpmz6MP1CAt9YIkhhymoLK2Dbgf4YlcFQcKL3C7\n"
	"\tTcsfcZIVoj+sWSqJWditbg== ) ; {id = 7919}\n"
	"sub.ALG13 DS 12345 8 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF\n"
	"\n"
	"alg13.test. IN DS 7919 13 2 (F603EFC5A4F8127693426DF61D895947\n"
	"\tEA5709FD0D26E00F6B856B88F7E1F297)\n";

static void
test_anchor_file_and_closest_anchor(void **state)
{
	(void)state;
	struct dnssec_anchors *a = dnssec_anchors_new();
	struct dns_zf_error err;
	assert_int_equal(dnssec_anchors_load_mem(a, anchor_file, strlen(anchor_file), "t.anchors",
						 &err),
			 TDNS_OK);
	assert_int_equal(dnssec_anchors_count(a), 3); /* the repeated DS is one */
	struct dnssec_anchor_set set;
	assert_true(dnssec_anchors_closest(a, unit_name("www.ALG13.test."), &set));
	assert_true(dns_name_eq(set.owner, unit_name("alg13.test.")));
	assert_int_equal(set.nds, 1);
	assert_int_equal(set.nkeys, 1);
	assert_int_equal(dnssec_key_tag(set.keys[0].rd, set.keys[0].len), 7919);
	assert_true(dnssec_anchors_closest(a, unit_name("alg13.test."), &set));
	assert_int_equal(set.nkeys, 1);
	assert_true(dnssec_anchors_closest(a, unit_name("a.b.sub.alg13.test."), &set));
	assert_true(dns_name_eq(set.owner, unit_name("sub.alg13.test.")));
	assert_int_equal(set.nds, 1);
	assert_int_equal(set.nkeys, 0);
	assert_false(dnssec_anchors_closest(a, unit_name("test."), &set));
	assert_false(dnssec_anchors_closest(a, unit_name("."), &set));
	assert_false(dnssec_anchors_closest(a, unit_name("salg13.test."), &set));
	/* The root anchors enclose everything else. */
	assert_int_equal(dnssec_anchors_add_root(a), TDNS_OK);
	assert_true(dnssec_anchors_closest(a, unit_name("x.test."), &set));
	assert_int_equal(set.owner[0], 0);
	assert_true(dnssec_anchors_closest(a, unit_name("x.sub.alg13.test."), &set));
	assert_true(dns_name_eq(set.owner, unit_name("sub.alg13.test.")));
	dnssec_anchors_free(a);
}

/* A SHA-256 digest's worth of hex. */
#define D32 "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"

static void
test_anchor_file_errors_name_the_line(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		int rc;
		unsigned line;
		const char *why;
	} bad[] = {
		{ "; ok\nx.test. DS 1 8 2 " D32 "\nx.test. 3600 IN A 192.0.2.1\n", TDNS_EINVAL, 3,
		  "A record in a trust anchor file" },
		{ "$ORIGIN test.\n\nns NS ns.test.\n", TDNS_EINVAL, 3, "NS record" },
		{ "x.test. DS 1 8 2 " D32 "\n\nx.test. DNSKEY 257 3\n", TDNS_EZONEFILE, 3, "" },
		{ "x.test. DS 1 8 2\n", TDNS_EZONEFILE, 1, "" },
		{ "x.test. DS 1 8 2 ZZ\n", TDNS_EZONEFILE, 1, "" },
		{ "x.test. DNSKEY 257 3 8 (\n AwEAAa==\n", TDNS_EZONEFILE, 1, "" },
		{ "x.test. DNSKEY 257 3 8 AwEAAa== )\n", TDNS_EZONEFILE, 1, "" },
		{ "\n\n\n\nx.test. IN TYPE43 \\# 3 000102\n", TDNS_EZONEFILE, 5,
		  "not valid DS rdata" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct dnssec_anchors *a = dnssec_anchors_new();
		struct dns_zf_error err;
		int rc = dnssec_anchors_load_mem(a, bad[i].text, strlen(bad[i].text), "bad.anchors",
						 &err);
		if (rc != bad[i].rc || err.line != bad[i].line) {
			fail_msg("%zu: rc %d line %u (%s)", i, rc, err.line, err.msg);
		}
		char where[32];
		snprintf(where, sizeof(where), "bad.anchors:%u: ", bad[i].line);
		unit_says(bad[i].text, err.msg, where);
		unit_says(bad[i].text, err.msg, bad[i].why);
		dnssec_anchors_free(a);
	}
	struct dnssec_anchors *a = dnssec_anchors_new();
	struct dns_zf_error err;
	assert_int_equal(dnssec_anchors_load(a, DATA "no-such.anchors", &err), TDNS_EIO);
	unit_says("missing file", err.msg, "no-such.anchors");
	assert_int_equal(dnssec_anchors_load(a, DATA "no-such.anchors", NULL), TDNS_EIO);
	/* Direct additions check the type and the rdata too. */
	const uint8_t rd[] = { 1, 2, 3 };
	assert_int_equal(dnssec_anchors_add(a, unit_name("x."), DNS_TYPE_A, rd, 3), TDNS_EINVAL);
	assert_int_equal(dnssec_anchors_add(a, unit_name("x."), DNS_TYPE_DS, rd, 3),
			 TDNS_EBADRDATA);
	assert_int_equal(dnssec_anchors_add(a, unit_name("x."), DNS_TYPE_DNSKEY, rd, 3),
			 TDNS_EBADRDATA);
	assert_int_equal(dnssec_anchors_count(a), 0);
	dnssec_anchors_free(a);
}

/* ------------------------------------------------------------------------------------------ */
/* DNSKEY RRset against DS records and anchors                                                 */

/* A zone's DNSKEY RRset, the RRSIGs at its apex and the DS records gen.sh made for it. */
struct tkeys {
	struct tzone z, ds;
	uint8_t apex[DNS_NAME_MAX];
	struct dnssec_rdata keys[4], sigs[16], dsrd[4];
	size_t nsig, nds;
	struct dnssec_rrset set;
};

static void
keys_load(struct tkeys *k, const char *zone, const char *origin)
{
	char file[64];
	snprintf(file, sizeof(file), "%s.signed", zone);
	load(&k->z, file, origin);
	snprintf(file, sizeof(file), "%s.ds", zone);
	load(&k->ds, file, origin);
	memcpy(k->apex, unit_name(origin), DNS_NAME_MAX);
	size_t n = rrset(&k->z, k->apex, DNS_TYPE_DNSKEY, k->keys, 4);
	k->set = (struct dnssec_rrset){ k->apex, DNS_TYPE_DNSKEY, DNS_CLASS_IN, k->keys, n };
	k->nsig = rrset(&k->z, k->apex, DNS_TYPE_RRSIG, k->sigs, 16);
	k->nds = rrset(&k->ds, k->apex, DNS_TYPE_DS, k->dsrd, 4);
}

static void
keys_unload(struct tkeys *k)
{
	unload(&k->ds);
	unload(&k->z);
}

/* Runs dnssec_keyset_verify with the DS records ds and checks the verdict. */
static void
keys_expect(const struct tkeys *k, const struct dnssec_rdata *ds, size_t nds,
	    const struct dnssec_rdata *anchors, size_t nanchors, enum dnssec_security sec,
	    enum dnssec_result r, int ede)
{
	struct dnssec_keyset_verdict v;
	struct dnssec_budget b;
	dnssec_budget_init(&b, DNSSEC_BUDGET_VERIFY_DEFAULT, DNSSEC_BUDGET_HASH_DEFAULT);
	enum dnssec_security got = dnssec_keyset_verify(&k->set, k->sigs, k->nsig, ds, nds, anchors,
							nanchors, NOW, 300, &b, &v);
	if (got != sec || v.result != r || v.ede != ede) {
		fail_msg("security %d result %s ede %d, expected %d %s %d", got,
			 dnssec_result_str(v.result), v.ede, sec, dnssec_result_str(r), ede);
	}
	assert_int_equal(v.security, got);
	if (sec == DNSSEC_SECURE) {
		struct dnssec_dnskey dk;
		assert_true(v.key < k->set.count);
		assert_int_equal(dnssec_dnskey_parse(k->keys[v.key].rd, k->keys[v.key].len, &dk),
				 TDNS_OK);
		assert_true(dk.flags & DNSSEC_DNSKEY_SEP);
		assert_int_equal(v.info.ttl_max, 3600);
		assert_int_equal(b.verify_used, 1);
	} else {
		assert_int_equal(v.key, DNSSEC_NONE);
	}
}

/* A copy of rd into buf with octet at changed to val. */
static struct dnssec_rdata
patched(const struct dnssec_rdata *rd, uint8_t *buf, size_t at, uint8_t val)
{
	memcpy(buf, rd->rd, rd->len);
	buf[at] = val;
	return (struct dnssec_rdata){ buf, rd->len };
}

static void
test_keyset_secure_from_ds_and_digest_rules(void **state)
{
	(void)state;
	struct tkeys k;
	keys_load(&k, "alg13", "alg13.test.");
	assert_int_equal(k.nds, 3); /* SHA-1, SHA-256, SHA-384 */
	const struct dnssec_rdata sha1 = k.dsrd[0], sha256 = k.dsrd[1];
	assert_int_equal(sha1.rd[3], DNSSEC_DIGEST_SHA1);
	assert_int_equal(sha256.rd[3], DNSSEC_DIGEST_SHA256);
	for (size_t i = 0; i < 3; i++) {
		keys_expect(&k, &k.dsrd[i], 1, NULL, 0, DNSSEC_SECURE, DNSSEC_OK, -1);
	}
	keys_expect(&k, k.dsrd, 3, NULL, 0, DNSSEC_SECURE, DNSSEC_OK, -1);

	/* A flipped digest octet: bogus, EDE 6. */
	uint8_t b1[64], b2[64], b3[64];
	size_t last = sha256.len - 1;
	struct dnssec_rdata bad256 = patched(&sha256, b1, last, sha256.rd[last] ^ 1);
	keys_expect(&k, &bad256, 1, NULL, 0, DNSSEC_BOGUS_KEYS, DNSSEC_BOGUS, 6);
	/*
	 * RFC 4509 §3: a SHA-1 DS is ignored when the set holds a SHA-256 DS (with a supported
	 * algorithm), whichever key that one names, as Unbound does (val_favorite_ds_algo): the
	 * bad SHA-256 DS decides...
	 */
	struct dnssec_rdata pair[2] = { sha1, bad256 };
	keys_expect(&k, pair, 2, NULL, 0, DNSSEC_BOGUS_KEYS, DNSSEC_BOGUS, 6);
	/* ...and so does a SHA-256 DS for another key. */
	pair[1] = patched(&sha256, b2, 1, (uint8_t)(sha256.rd[1] + 1));
	keys_expect(&k, pair, 2, NULL, 0, DNSSEC_BOGUS_KEYS, DNSSEC_KEY_MISMATCH, 9);
	/* A SHA-256 DS of an unsupported algorithm does not count: the SHA-1 DS stands. */
	pair[1] = patched(&sha256, b2, 2, 253);
	keys_expect(&k, pair, 2, NULL, 0, DNSSEC_SECURE, DNSSEC_OK, -1);
	pair[1] = patched(&sha256, b2, 1, (uint8_t)(sha256.rd[1] + 1));

	/* A DS for a key that is not there: DNSKEY Missing. */
	keys_expect(&k, &pair[1], 1, NULL, 0, DNSSEC_BOGUS_KEYS, DNSSEC_KEY_MISMATCH, 9);
	struct tkeys other;
	keys_load(&other, "optout", "optout.test.");
	keys_expect(&k, other.dsrd, other.nds, NULL, 0, DNSSEC_BOGUS_KEYS, DNSSEC_KEY_MISMATCH, 9);
	keys_unload(&other);

	/* Only unsupported algorithms or digests: insecure (RFC 6840 §5.2). */
	struct dnssec_rdata unalg = patched(&sha256, b2, 2, 253);
	keys_expect(&k, &unalg, 1, NULL, 0, DNSSEC_INSECURE, DNSSEC_UNSUPPORTED_ALG, 1);
	struct dnssec_rdata undig = patched(&sha256, b3, 3, 3); /* GOST */
	keys_expect(&k, &undig, 1, NULL, 0, DNSSEC_INSECURE, DNSSEC_UNSUPPORTED_DIGEST, 2);
	struct dnssec_rdata both[3] = { unalg, undig, sha256 };
	keys_expect(&k, both, 2, NULL, 0, DNSSEC_INSECURE, DNSSEC_UNSUPPORTED_DIGEST, 2);
	/* One usable DS among them is enough, and then a mismatch is bogus, not insecure. */
	keys_expect(&k, both, 3, NULL, 0, DNSSEC_SECURE, DNSSEC_OK, -1);
	both[2] = bad256;
	keys_expect(&k, both, 3, NULL, 0, DNSSEC_BOGUS_KEYS, DNSSEC_BOGUS, 6);
	/* Nothing at all proves nothing. */
	keys_expect(&k, NULL, 0, NULL, 0, DNSSEC_BOGUS_KEYS, DNSSEC_MALFORMED, 6);
	keys_unload(&k);
}

static void
test_keyset_self_signature_required(void **state)
{
	(void)state;
	struct tkeys k;
	keys_load(&k, "alg13", "alg13.test.");
	const struct dnssec_rdata *ds = &k.dsrd[1];
	/* Without the RRSIG over the DNSKEY RRset (the others at the apex stay): EDE 10. */
	struct dnssec_rdata kept[16];
	size_t n = 0, at = DNSSEC_NONE;
	for (size_t i = 0; i < k.nsig; i++) {
		struct dnssec_rrsig s;
		assert_int_equal(dnssec_rrsig_parse(k.sigs[i].rd, k.sigs[i].len, &s), TDNS_OK);
		if (s.type_covered != DNS_TYPE_DNSKEY) {
			kept[n++] = k.sigs[i];
		} else {
			at = i;
		}
	}
	assert_int_not_equal(at, DNSSEC_NONE);
	const struct dnssec_rdata dnskey_sig = k.sigs[at];
	memcpy(k.sigs, kept, n * sizeof(kept[0]));
	size_t nsig = k.nsig;
	k.nsig = n;
	keys_expect(&k, ds, 1, NULL, 0, DNSSEC_BOGUS_KEYS, DNSSEC_BOGUS, 10);
	k.nsig = 0;
	keys_expect(&k, ds, 1, NULL, 0, DNSSEC_BOGUS_KEYS, DNSSEC_BOGUS, 10);

	/* Signed by the ZSK only (its RRSIG over the SOA passed off as one over the DNSKEYs,
	   so the key tag is the ZSK's): no RRSIG of the trusted key, EDE 10. */
	uint8_t zbuf[512];
	struct dnssec_rdata zsig = patched(&kept[0], zbuf, 0, 0);
	zbuf[1] = DNS_TYPE_DNSKEY;
	k.sigs[0] = zsig;
	k.nsig = 1;
	keys_expect(&k, ds, 1, NULL, 0, DNSSEC_BOGUS_KEYS, DNSSEC_KEY_MISMATCH, 10);

	/* The KSK's signature with a flipped octet: bogus, EDE 6. */
	uint8_t sbuf[512];
	size_t in_sig = dnskey_sig.len - 5;
	k.sigs[0] = patched(&dnskey_sig, sbuf, in_sig, dnskey_sig.rd[in_sig] ^ 4);
	keys_expect(&k, ds, 1, NULL, 0, DNSSEC_BOGUS_KEYS, DNSSEC_BOGUS, 6);

	/* Expired (2040), and the budget. */
	k.sigs[0] = dnskey_sig;
	struct dnssec_keyset_verdict v;
	assert_int_equal(dnssec_keyset_verify(&k.set, k.sigs, 1, ds, 1, NULL, 0, 2208988800u, 300,
					      NULL, &v),
			 DNSSEC_BOGUS_KEYS);
	assert_int_equal(v.result, DNSSEC_EXPIRED);
	assert_int_equal(v.ede, 7);
	struct dnssec_budget b;
	dnssec_budget_init(&b, 0, 0);
	assert_int_equal(dnssec_keyset_verify(&k.set, k.sigs, 1, ds, 1, NULL, 0, NOW, 300, &b, &v),
			 DNSSEC_INDETERMINATE);
	assert_int_equal(v.result, DNSSEC_BUDGET);
	assert_int_equal(v.ede, 5);
	k.nsig = nsig;
	keys_unload(&k);
}

static void
test_keyset_from_anchors_and_revoked_keys(void **state)
{
	(void)state;
	struct tkeys k;
	keys_load(&k, "alg13", "alg13.test.");
	struct dnssec_anchors *a = dnssec_anchors_new();
	assert_int_equal(dnssec_anchors_load_mem(a, anchor_file, strlen(anchor_file), "t", NULL),
			 TDNS_OK);
	struct dnssec_anchor_set set;
	assert_true(dnssec_anchors_closest(a, k.apex, &set));
	keys_expect(&k, set.ds, set.nds, set.keys, set.nkeys, DNSSEC_SECURE, DNSSEC_OK, -1);
	/* A DNSKEY anchor alone, and a DNSKEY anchor that is not in the zone. */
	keys_expect(&k, NULL, 0, set.keys, 1, DNSSEC_SECURE, DNSSEC_OK, -1);
	uint8_t kb[256];
	struct dnssec_rdata other = patched(&set.keys[0], kb, 10, set.keys[0].rd[10] ^ 1);
	keys_expect(&k, NULL, 0, &other, 1, DNSSEC_BOGUS_KEYS, DNSSEC_KEY_MISMATCH, 9);
	/* An anchor key of an unsupported algorithm: insecure. */
	kb[3] = 253;
	keys_expect(&k, NULL, 0, &other, 1, DNSSEC_INSECURE, DNSSEC_UNSUPPORTED_ALG, 1);
	dnssec_anchors_free(a);
	keys_unload(&k);

	/* BIND's revoked KSK signs the DNSKEY RRset and has a matching DS, yet is not used. */
	keys_load(&k, "revoked", "revoked.test.");
	assert_int_equal(k.nds, 1);
	size_t rev = DNSSEC_NONE;
	for (size_t i = 0; i < k.set.count; i++) {
		struct dnssec_dnskey dk;
		assert_int_equal(dnssec_dnskey_parse(k.keys[i].rd, k.keys[i].len, &dk), TDNS_OK);
		if (dk.flags & DNSSEC_DNSKEY_REVOKE) {
			rev = i;
		}
	}
	assert_int_not_equal(rev, DNSSEC_NONE);
	assert_int_equal(dnssec_ds_match(k.apex, k.dsrd[0].rd, k.dsrd[0].len, k.keys[rev].rd,
					 k.keys[rev].len),
			 DNSSEC_OK);
	assert_int_equal(dnssec_rrset_verify(&k.set, k.sigs, k.nsig, k.z.keys, k.z.nkeys, NOW, 300,
					     NULL, NULL, NULL),
			 DNSSEC_OK);
	keys_expect(&k, k.dsrd, 1, NULL, 0, DNSSEC_BOGUS_KEYS, DNSSEC_KEY_MISMATCH, 9);
	keys_expect(&k, NULL, 0, &k.keys[rev], 1, DNSSEC_BOGUS_KEYS, DNSSEC_KEY_MISMATCH, 9);
	keys_unload(&k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_rrsig_of_every_algorithm_verifies),
		cmocka_unit_test(test_names_in_rdata_are_lowercased_and_order_does_not_matter),
		cmocka_unit_test(test_flipped_byte_in_data_or_signature_is_bogus),
		cmocka_unit_test(test_wildcard_expansion_is_verified_and_reported),
		cmocka_unit_test(test_signature_window_with_skew),
		cmocka_unit_test(test_wrong_key_is_a_mismatch),
		cmocka_unit_test(test_verification_budget_counts_failures_too),
		cmocka_unit_test(test_rrset_verify_tries_every_rrsig_and_key),
		cmocka_unit_test(test_unsupported_and_malformed_keys),
		cmocka_unit_test(test_result_strings_and_ede),
		cmocka_unit_test(test_key_tags_and_ds_digests_match_the_tools),
		cmocka_unit_test(test_key_tag_of_rfc4034_example),
		cmocka_unit_test(test_nsec_covers_matches_and_nodata),
		cmocka_unit_test(test_nsec3_hashes_match_ldns),
		cmocka_unit_test(test_nsec3_iteration_cap_and_hash_budget),
		cmocka_unit_test(test_nsec3_closest_encloser_and_opt_out),
		cmocka_unit_test(test_nsec3_without_opt_out),
		cmocka_unit_test(test_root_anchors_match_the_published_root_keys),
		cmocka_unit_test(test_anchor_file_and_closest_anchor),
		cmocka_unit_test(test_anchor_file_errors_name_the_line),
		cmocka_unit_test(test_keyset_secure_from_ds_and_digest_rules),
		cmocka_unit_test(test_keyset_self_signature_required),
		cmocka_unit_test(test_keyset_from_anchors_and_revoked_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
