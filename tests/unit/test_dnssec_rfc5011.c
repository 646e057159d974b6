/* SPDX-License-Identifier: MIT */
/* Unit tests for src/dnssec/rfc5011.c: a fake clock walks root keys through RFC 5011 states. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "dnssec/dnssec.h"
#include "unit.h"

#define T0 1800000000
#define DAY 86400
#define TTL 172800

/* An Ed25519 SEP key made for the test, with its DNSKEY rdata (flags 257). */
struct tkey {
	EVP_PKEY *pkey;
	uint8_t rd[4 + 32];
	size_t len;
};

static void
key_make(struct tkey *k)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	assert_non_null(c);
	k->pkey = NULL;
	assert_int_equal(EVP_PKEY_keygen_init(c), 1);
	assert_int_equal(EVP_PKEY_keygen(c, &k->pkey), 1);
	EVP_PKEY_CTX_free(c);
	size_t plen = 32;
	k->rd[0] = 0x01;
	k->rd[1] = 0x01; /* Zone Key + SEP */
	k->rd[2] = 3;
	k->rd[3] = DNSSEC_ALG_ED25519;
	assert_int_equal(EVP_PKEY_get_raw_public_key(k->pkey, k->rd + 4, &plen), 1);
	k->len = 4 + plen;
}

static void
key_revoke(struct tkey *k)
{
	k->rd[1] |= DNSSEC_DNSKEY_REVOKE;
}

static int
rd_cmp(const void *a, const void *b)
{
	const struct dnssec_rdata *x = a, *y = b;
	size_t m = x->len < y->len ? x->len : y->len;
	int d = memcmp(x->rd, y->rd, m);
	return d != 0 ? d : (int)x->len - (int)y->len;
}

/* The root DNSKEY RRset of keys[0..n), with an RRSIG by signer (NULL: none). */
struct tset {
	struct dnssec_rdata rd[8];
	struct dnssec_rrset set;
	uint8_t sig[512];
	struct dnssec_rdata sigrd;
	size_t nsig;
};

static void
set_make(struct tset *s, struct tkey *const *keys, size_t n, const struct tkey *signer)
{
	static const uint8_t root[] = { 0 };
	for (size_t i = 0; i < n; i++) {
		s->rd[i] = (struct dnssec_rdata){ keys[i]->rd, keys[i]->len };
	}
	s->set = (struct dnssec_rrset){ root, DNS_TYPE_DNSKEY, 1, s->rd, n };
	s->nsig = 0;
	if (signer == NULL) {
		return;
	}
	/* RFC 4034 §3.1.8.1: RRSIG rdata without signature, then the canonical RRset. */
	uint8_t *p = s->sig;
	tdns_put16(p, DNS_TYPE_DNSKEY);
	p[2] = DNSSEC_ALG_ED25519;
	p[3] = 0;
	tdns_put32(p + 4, TTL);
	tdns_put32(p + 8, T0 + 400 * DAY);
	tdns_put32(p + 12, T0 - DAY);
	tdns_put16(p + 16, dnssec_key_tag(signer->rd, signer->len));
	p[18] = 0; /* signer "." */
	size_t head = 19;
	struct dnssec_rdata sorted[8];
	memcpy(sorted, s->rd, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), rd_cmp);
	uint8_t data[1024];
	memcpy(data, s->sig, head);
	size_t off = head;
	for (size_t i = 0; i < n; i++) {
		data[off++] = 0;
		tdns_put16(data + off, DNS_TYPE_DNSKEY);
		tdns_put16(data + off + 2, 1);
		tdns_put32(data + off + 4, TTL);
		tdns_put16(data + off + 8, (uint16_t)sorted[i].len);
		memcpy(data + off + 10, sorted[i].rd, sorted[i].len);
		off += 10 + sorted[i].len;
	}
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t siglen = sizeof(s->sig) - head;
	assert_int_equal(EVP_DigestSignInit(ctx, NULL, NULL, NULL, signer->pkey), 1);
	assert_int_equal(EVP_DigestSign(ctx, s->sig + head, &siglen, data, off), 1);
	EVP_MD_CTX_free(ctx);
	s->sigrd = (struct dnssec_rdata){ s->sig, head + siglen };
	s->nsig = 1;
}

/* The state of key k in t (DNSSEC_5011_START when not tracked). */
static enum dnssec_rfc5011_state
state_of(struct dnssec_rfc5011 *t, const struct tkey *k)
{
	uint8_t id[sizeof(k->rd)];
	memcpy(id, k->rd, k->len);
	id[1] &= (uint8_t)~DNSSEC_DNSKEY_REVOKE;
	uint16_t tag = dnssec_key_tag(id, k->len);
	size_t n;
	struct dnssec_rfc5011_key *v = dnssec_rfc5011_list(t, &n);
	enum dnssec_rfc5011_state st = DNSSEC_5011_START;
	for (size_t i = 0; i < n; i++) {
		if (v[i].tag == tag) {
			st = v[i].state;
		}
	}
	free(v);
	return st;
}

/* Feeds t the set at now; returns whether the state changed. */
static bool
feed(struct dnssec_rfc5011 *t, const struct dnssec_anchors *cfg, struct tset *s, int64_t now)
{
	bool changed;
	assert_int_equal(dnssec_rfc5011_update(t, cfg, &s->set, &s->sigrd, s->nsig, TTL, now,
					       &changed), TDNS_OK);
	return changed;
}

/* A configured DNSKEY anchor for k at the root. */
static struct dnssec_anchors *
anchors_for(const struct tkey *k)
{
	struct dnssec_anchors *a = dnssec_anchors_new();
	assert_int_equal(dnssec_anchors_add(a, unit_name("."), DNS_TYPE_DNSKEY, k->rd, k->len),
			 TDNS_OK);
	return a;
}

/* True when the anchors built from t hold k's DNSKEY at the root. */
static bool
anchored(struct dnssec_rfc5011 *t, const struct dnssec_anchors *cfg, const struct tkey *k)
{
	struct dnssec_anchors *a;
	struct dnssec_anchor_set as;
	assert_int_equal(dnssec_rfc5011_anchors(t, cfg, &a), TDNS_OK);
	bool found = false;
	if (dnssec_anchors_closest(a, unit_name("."), &as)) {
		for (size_t i = 0; i < as.nkeys; i++) {
			found |= as.keys[i].len == k->len && memcmp(as.keys[i].rd, k->rd, k->len) == 0;
		}
	}
	dnssec_anchors_free(a);
	return found;
}

static void
test_rfc5011_new_key_waits_the_add_holddown_then_becomes_valid(void **state)
{
	(void)state;
	struct tkey a, b;
	key_make(&a);
	key_make(&b);
	struct dnssec_anchors *cfg = anchors_for(&a);
	struct dnssec_rfc5011 *t;
	char err[256];
	assert_int_equal(dnssec_rfc5011_new(NULL, &t, err, sizeof(err)), TDNS_OK);
	/* Before any update: the configured anchor is what the validator gets. */
	assert_true(anchored(t, cfg, &a));

	struct tset s;
	struct tkey *only_a[] = { &a }, *both[] = { &a, &b };
	set_make(&s, only_a, 1, &a);
	assert_true(feed(t, cfg, &s, T0));
	assert_int_equal(state_of(t, &a), DNSSEC_5011_VALID); /* first use: configured key */

	/* The zone publishes b: AddPend for 30 days, not yet an anchor. */
	set_make(&s, both, 2, &a);
	assert_true(feed(t, cfg, &s, T0 + DAY));
	assert_int_equal(state_of(t, &b), DNSSEC_5011_ADDPEND);
	assert_false(anchored(t, cfg, &b));
	assert_false(feed(t, cfg, &s, T0 + 30 * DAY));
	assert_int_equal(state_of(t, &b), DNSSEC_5011_ADDPEND);
	assert_true(feed(t, cfg, &s, T0 + 31 * DAY));
	assert_int_equal(state_of(t, &b), DNSSEC_5011_VALID);
	assert_true(anchored(t, cfg, &b));
	assert_true(anchored(t, cfg, &a));

	/* b leaves the zone: Missing but still trusted; back: Valid. */
	set_make(&s, only_a, 1, &a);
	assert_true(feed(t, cfg, &s, T0 + 32 * DAY));
	assert_int_equal(state_of(t, &b), DNSSEC_5011_MISSING);
	assert_true(anchored(t, cfg, &b));
	set_make(&s, both, 2, &a);
	assert_true(feed(t, cfg, &s, T0 + 33 * DAY));
	assert_int_equal(state_of(t, &b), DNSSEC_5011_VALID);
	dnssec_rfc5011_free(t);
	dnssec_anchors_free(cfg);
	EVP_PKEY_free(a.pkey);
	EVP_PKEY_free(b.pkey);
}

static void
test_rfc5011_addpend_key_that_leaves_starts_over(void **state)
{
	(void)state;
	struct tkey a, b;
	key_make(&a);
	key_make(&b);
	struct dnssec_anchors *cfg = anchors_for(&a);
	struct dnssec_rfc5011 *t;
	char err[256];
	assert_int_equal(dnssec_rfc5011_new(NULL, &t, err, sizeof(err)), TDNS_OK);
	struct tset s;
	struct tkey *only_a[] = { &a }, *both[] = { &a, &b };
	set_make(&s, both, 2, &a);
	feed(t, cfg, &s, T0);
	assert_int_equal(state_of(t, &b), DNSSEC_5011_ADDPEND);
	set_make(&s, only_a, 1, &a);
	assert_true(feed(t, cfg, &s, T0 + 10 * DAY));
	assert_int_equal(state_of(t, &b), DNSSEC_5011_START);
	/* Seen again: the hold-down counts from now, not from the first sighting. */
	set_make(&s, both, 2, &a);
	feed(t, cfg, &s, T0 + 20 * DAY);
	feed(t, cfg, &s, T0 + 31 * DAY);
	assert_int_equal(state_of(t, &b), DNSSEC_5011_ADDPEND);
	feed(t, cfg, &s, T0 + 50 * DAY);
	assert_int_equal(state_of(t, &b), DNSSEC_5011_VALID);
	dnssec_rfc5011_free(t);
	dnssec_anchors_free(cfg);
	EVP_PKEY_free(a.pkey);
	EVP_PKEY_free(b.pkey);
}

static void
test_rfc5011_revocation_needs_a_self_signature_and_is_kept_in_the_file(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_5011_XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[128], err[256];
	snprintf(path, sizeof(path), "%s/trust-anchors.state", dir);
	struct tkey a, b;
	key_make(&a);
	key_make(&b);
	struct dnssec_anchors *cfg = anchors_for(&a);
	struct dnssec_rfc5011 *t;
	assert_int_equal(dnssec_rfc5011_new(path, &t, err, sizeof(err)), TDNS_OK);
	dnssec_rfc5011_set_holddown(t, 10 * DAY, 5 * DAY);
	struct tset s;
	struct tkey *both[] = { &a, &b };
	set_make(&s, both, 2, &a);
	feed(t, cfg, &s, T0);
	feed(t, cfg, &s, T0 + 11 * DAY);
	assert_int_equal(state_of(t, &a), DNSSEC_5011_VALID);
	assert_int_equal(state_of(t, &b), DNSSEC_5011_VALID);

	/* a published revoked, but the set is signed by b only: not a valid revocation. */
	key_revoke(&a);
	set_make(&s, both, 2, &b);
	feed(t, cfg, &s, T0 + 12 * DAY);
	assert_int_equal(state_of(t, &a), DNSSEC_5011_MISSING);
	/* Now signed by the revoked a itself: Revoked, never an anchor again. */
	set_make(&s, both, 2, &a);
	assert_true(feed(t, cfg, &s, T0 + 13 * DAY));
	assert_int_equal(state_of(t, &a), DNSSEC_5011_REVOKED);
	struct tkey a_plain = a;
	a_plain.rd[1] &= (uint8_t)~DNSSEC_DNSKEY_REVOKE;
	assert_false(anchored(t, cfg, &a_plain));
	assert_true(anchored(t, cfg, &b));
	dnssec_rfc5011_free(t);

	/* After a restart the file still says so, and the remove hold-down ends in Removed. */
	assert_int_equal(dnssec_rfc5011_new(path, &t, err, sizeof(err)), TDNS_OK);
	dnssec_rfc5011_set_holddown(t, 10 * DAY, 5 * DAY);
	assert_int_equal(state_of(t, &a), DNSSEC_5011_REVOKED);
	assert_int_equal(state_of(t, &b), DNSSEC_5011_VALID);
	assert_false(anchored(t, cfg, &a_plain));
	struct tkey *only_b[] = { &b };
	set_make(&s, only_b, 1, &b);
	feed(t, cfg, &s, T0 + 15 * DAY);
	assert_int_equal(state_of(t, &a), DNSSEC_5011_REVOKED);
	feed(t, cfg, &s, T0 + 19 * DAY);
	assert_int_equal(state_of(t, &a), DNSSEC_5011_REMOVED);
	/* The unrevoked key coming back is not trusted again. */
	struct tkey *ab[] = { &a_plain, &b };
	set_make(&s, ab, 2, &b);
	feed(t, cfg, &s, T0 + 60 * DAY);
	assert_int_equal(state_of(t, &a), DNSSEC_5011_REMOVED);
	assert_false(anchored(t, cfg, &a_plain));
	dnssec_rfc5011_free(t);

	/* A damaged state file is an error naming it. */
	FILE *f = fopen(path, "w");
	fputs("{\"version\": 1, \"keys\": [{\"owner\": \".\"}]}", f);
	fclose(f);
	assert_int_equal(dnssec_rfc5011_new(path, &t, err, sizeof(err)), TDNS_EMALFORMED);
	unit_says("bad key", err, "key 1");
	unlink(path);
	rmdir(dir);
	dnssec_anchors_free(cfg);
	EVP_PKEY_free(a.pkey);
	EVP_PKEY_free(b.pkey);
}

static void
test_rfc5011_ignores_other_owners_and_non_sep_keys(void **state)
{
	(void)state;
	struct tkey a, z;
	key_make(&a);
	key_make(&z);
	z.rd[1] = 0x00; /* ZSK: Zone Key without SEP */
	struct dnssec_anchors *cfg = anchors_for(&a);
	struct dnssec_rfc5011 *t;
	char err[256];
	assert_int_equal(dnssec_rfc5011_new(NULL, &t, err, sizeof(err)), TDNS_OK);
	struct tset s;
	struct tkey *az[] = { &a, &z };
	set_make(&s, az, 2, &a);
	feed(t, cfg, &s, T0);
	size_t n;
	struct dnssec_rfc5011_key *v = dnssec_rfc5011_list(t, &n);
	assert_int_equal(n, 1);
	assert_string_equal(dnssec_rfc5011_state_str(v[0].state), "Valid");
	assert_int_equal(v[0].alg, DNSSEC_ALG_ED25519);
	free(v);
	/* A set for a name that is not a trust point changes nothing. */
	s.set.owner = unit_name("example.");
	assert_false(feed(t, cfg, &s, T0 + DAY));
	dnssec_rfc5011_free(t);
	dnssec_anchors_free(cfg);
	EVP_PKEY_free(a.pkey);
	EVP_PKEY_free(z.pkey);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc5011_new_key_waits_the_add_holddown_then_becomes_valid),
		cmocka_unit_test(test_rfc5011_addpend_key_that_leaves_starts_over),
		cmocka_unit_test(test_rfc5011_revocation_needs_a_self_signature_and_is_kept_in_the_file),
		cmocka_unit_test(test_rfc5011_ignores_other_owners_and_non_sep_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
