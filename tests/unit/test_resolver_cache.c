/* SPDX-License-Identifier: MIT */
/* Unit tests for src/resolver/cache.c: TTLs, negative caching, serve-stale, eviction, threads. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "resolver/resolver.h"

#define T0 1000 /* fake monotonic clock start */

/* ---- helpers: responses built with dns_build, parsed back with dns_msg_parse ------------- */

static int
name(const char *s, uint8_t *out)
{
	int n = dns_name_from_text(s, strlen(s), NULL, out);
	assert_true(n > 0);
	return n;
}

/* One record of a test response: rdata in presentation form, split on spaces. */
struct rrspec {
	int section;
	const char *owner;
	uint16_t type;
	uint32_t ttl;
	const char *rdata;
};

static size_t
rdata(uint16_t type, const char *text, uint8_t *out, size_t cap)
{
	struct dns_tok toks[16];
	size_t n = 0;
	const char *p = text;
	while (*p != '\0') {
		while (*p == ' ') {
			p++;
		}
		if (*p == '\0') {
			break;
		}
		const char *start = p;
		while (*p != '\0' && *p != ' ') {
			p++;
		}
		assert_true(n < 16);
		toks[n].s = start;
		toks[n].len = (size_t)(p - start);
		toks[n].quoted = false;
		n++;
	}
	size_t len = 0;
	char err[128];
	int rc = dns_rdata_from_text(type, toks, n, NULL, out, cap, &len, err, sizeof(err));
	if (rc != TDNS_OK) {
		fail_msg("rdata %s: %s", text, err);
	}
	return len;
}

/* A response as an upstream would send it (names compressed by the builder). */
struct resp {
	uint8_t pkt[8192];
	size_t len;
	struct dns_msg m;
};

static void
resp_make(struct resp *r, const char *qname, uint16_t qtype, int rcode, uint16_t flags,
	  const struct rrspec *rrs, size_t n)
{
	uint8_t q[DNS_NAME_MAX];
	name(qname, q);
	struct dns_build b;
	dns_build_init(&b, r->pkt, sizeof(r->pkt), sizeof(r->pkt), 0x4242,
		       (uint16_t)(DNS_FLAG_QR | DNS_FLAG_RD | DNS_FLAG_RA | flags));
	assert_int_equal(dns_build_question(&b, q, qtype, DNS_CLASS_IN), TDNS_OK);
	dns_build_edns(&b, 1232, false);
	dns_build_rcode(&b, rcode);
	for (size_t i = 0; i < n; i++) {
		uint8_t owner[DNS_NAME_MAX];
		uint8_t rd[1024];
		name(rrs[i].owner, owner);
		size_t rdlen = rdata(rrs[i].type, rrs[i].rdata, rd, sizeof(rd));
		assert_int_equal(dns_build_rr(&b, rrs[i].section, owner, rrs[i].type, DNS_CLASS_IN,
					      rrs[i].ttl, rd, rdlen),
				 TDNS_OK);
	}
	r->len = dns_build_finish(&b);
	assert_int_equal(dns_msg_parse(r->pkt, r->len, &r->m), TDNS_OK);
}

static void
key(struct cache_key *k, const char *qname, uint16_t qtype, unsigned flags)
{
	uint8_t q[DNS_NAME_MAX];
	name(qname, q);
	cache_key_init(k, q, qtype, DNS_CLASS_IN, flags);
}

/* Stores a response with header flags hflags under the key of qname/qtype with kflags. */
static int
store_ex(struct cache *c, const char *qname, uint16_t qtype, int rcode, uint16_t hflags,
	 unsigned kflags, const struct rrspec *rrs, size_t n, int64_t now)
{
	struct resp r;
	resp_make(&r, qname, qtype, rcode, hflags, rrs, n);
	struct cache_key k;
	key(&k, qname, qtype, kflags);
	int rc = cache_store_msg(c, &r.m, &k, now);
	dns_msg_clear(&r.m);
	return rc;
}

static int
store(struct cache *c, const char *qname, uint16_t qtype, int rcode, const struct rrspec *rrs,
      size_t n, int64_t now)
{
	return store_ex(c, qname, qtype, rcode, 0, 0, rrs, n, now);
}

/* A client's reply built from the cache and parsed back. */
struct reply {
	uint8_t pkt[8192];
	size_t len;
	struct dns_msg m;
	struct cache_info info;
	enum cache_result res;
};

static void
lookup_ex(struct cache *c, struct reply *r, const char *qname, uint16_t qtype, unsigned kflags,
	  int64_t now, unsigned lflags, size_t limit)
{
	uint8_t q[DNS_NAME_MAX];
	name(qname, q);
	struct dns_build b;
	dns_build_init(&b, r->pkt, sizeof(r->pkt), limit, 0x0101,
		       DNS_FLAG_QR | DNS_FLAG_RD | DNS_FLAG_RA | DNS_FLAG_AA);
	assert_int_equal(dns_build_question(&b, q, qtype, DNS_CLASS_IN), TDNS_OK);
	dns_build_edns(&b, 1232, (kflags & CACHE_KEY_DO) != 0);
	struct cache_key k;
	cache_key_init(&k, q, qtype, DNS_CLASS_IN, kflags);
	r->res = cache_lookup(c, &k, now, &b, lflags, &r->info);
	r->len = dns_build_finish(&b);
	assert_int_equal(dns_msg_parse(r->pkt, r->len, &r->m), TDNS_OK);
}

static void
lookup(struct cache *c, struct reply *r, const char *qname, uint16_t qtype, int64_t now,
       unsigned lflags)
{
	lookup_ex(c, r, qname, qtype, 0, now, lflags, 8192);
}

/* Records of one section in the parsed reply. */
static size_t
count(const struct reply *r, int section)
{
	return r->m.count[section];
}

static const struct dns_rr *
rr_at(const struct reply *r, int section, size_t i)
{
	size_t base = 0;
	for (int s = DNS_SECTION_ANSWER; s < section; s++) {
		base += r->m.count[s];
	}
	assert_true(i < r->m.count[section]);
	return &r->m.rrs[base + i];
}

static void
reply_clear(struct reply *r)
{
	dns_msg_clear(&r->m);
}

/* Stores as store() does and fails unless the cache took the response. */
static void
stored(struct cache *c, const char *qname, uint16_t qtype, int rcode, const struct rrspec *rrs,
       size_t n, int64_t now)
{
	assert_int_equal(store(c, qname, qtype, rcode, rrs, n, now), TDNS_OK);
}

/*
 * Looks qname/qtype up into r at now with lflags and fails unless the result is res and the
 * reply a negative one with rcode; the caller checks more and clears r.
 */
static void
lookup_negative(struct cache *c, struct reply *r, const char *qname, uint16_t qtype, int64_t now,
		unsigned lflags, enum cache_result res, int rcode)
{
	lookup(c, r, qname, qtype, now, lflags);
	assert_int_equal(r->res, res);
	assert_int_equal(r->m.rcode, rcode);
	assert_true(r->info.negative);
}

/*
 * Looks qname/qtype up at now with lflags and fails unless the result is res and, when section
 * is not 0, the first record of that section has the TTL ttl.
 */
static void
expect_lookup(struct cache *c, const char *qname, uint16_t qtype, int64_t now, unsigned lflags,
	      enum cache_result res, int section, uint32_t ttl)
{
	struct reply r;
	lookup(c, &r, qname, qtype, now, lflags);
	assert_int_equal(r.res, res);
	if (section != 0) {
		assert_int_equal(rr_at(&r, section, 0)->ttl, ttl);
	}
	reply_clear(&r);
}

/* Fails unless looking qname/qtype up at now with lflags is a miss. */
static void
expect_miss(struct cache *c, const char *qname, uint16_t qtype, int64_t now, unsigned lflags)
{
	expect_lookup(c, qname, qtype, now, lflags, CACHE_MISS, 0, 0);
}

static struct cache_stats
stats(struct cache *c)
{
	struct cache_stats st;
	cache_stats(c, &st);
	return st;
}

static const struct rrspec www_a[] = {
	{ DNS_SECTION_ANSWER, "www.example.com.", DNS_TYPE_A, 300, "192.0.2.1" },
};

static const struct rrspec nx_soa[] = {
	{ DNS_SECTION_AUTHORITY, "example.com.", DNS_TYPE_SOA, 3600,
	  "ns1.example.com. host.example.com. 1 7200 900 1209600 300" },
};

/* The cache most tests use: 1 MiB in 4 shards, TTLs 0 s to 1 day, negative to 1 h, no stale. */
static int
cache_setup(void **state)
{
	*state = cache_new(1 << 20, 4, 0, 86400, 3600, 0);
	return *state != NULL ? 0 : -1;
}

static int
cache_teardown(void **state)
{
	cache_free(*state);
	return 0;
}

#define CACHE_TEST(f) cmocka_unit_test_setup_teardown(f, cache_setup, cache_teardown)

/* ---- positive answers and TTLs ------------------------------------------------------------ */

static void
test_positive_answer_is_returned_with_aa_cleared(void **state)
{
	struct cache *c = *state;
	assert_int_equal(store_ex(c, "www.example.com.", DNS_TYPE_A, DNS_RCODE_NOERROR, DNS_FLAG_AA,
				  0, www_a, 1, T0),
			 TDNS_OK);

	struct reply r;
	lookup(c, &r, "www.example.com.", DNS_TYPE_A, T0, 0);
	assert_int_equal(r.res, CACHE_HIT);
	assert_int_equal(r.m.rcode, DNS_RCODE_NOERROR);
	assert_int_equal(r.m.id, 0x0101);
	assert_false(r.m.flags & DNS_FLAG_AA);
	assert_true(r.m.flags & DNS_FLAG_RA);
	assert_int_equal(count(&r, DNS_SECTION_ANSWER), 1);
	const struct dns_rr *a = rr_at(&r, DNS_SECTION_ANSWER, 0);
	assert_int_equal(a->type, DNS_TYPE_A);
	assert_int_equal(a->ttl, 300);
	assert_int_equal(a->rdlen, 4);
	const uint8_t want[] = { 192, 0, 2, 1 };
	assert_memory_equal(r.pkt + a->rdata_off, want, 4);
	assert_false(r.info.negative);
	assert_int_equal(r.info.ttl_left, 300);
	reply_clear(&r);

	struct cache_stats st = stats(c);
	assert_int_equal(st.entries, 1);
	assert_int_equal(st.hits, 1);
	assert_true(st.bytes > 0);
}

static void
test_miss_leaves_builder_untouched_and_counts(void **state)
{
	struct cache *c = *state;
	struct reply r;
	lookup(c, &r, "nothere.example.", DNS_TYPE_A, T0, CACHE_LOOKUP_ALLOW_STALE);
	assert_int_equal(r.res, CACHE_MISS);
	assert_int_equal(count(&r, DNS_SECTION_ANSWER), 0);
	assert_true(r.m.flags & DNS_FLAG_AA); /* the caller's header as it was */
	reply_clear(&r);
	assert_int_equal(stats(c).misses, 1);
}

/* Issue 15: a client query is one hit or one miss; the resolver's own re-reads count nowhere. */
static void
test_quiet_lookups_count_in_no_statistic(void **state)
{
	struct cache *c = *state;
	struct reply r;
	expect_miss(c, "www.example.com.", DNS_TYPE_A, T0, CACHE_LOOKUP_QUIET);
	lookup(c, &r, "www.example.com.", DNS_TYPE_A, T0, CACHE_LOOKUP_ALLOW_STALE |
	       CACHE_LOOKUP_QUIET);
	reply_clear(&r);
	assert_int_equal(store_ex(c, "www.example.com.", DNS_TYPE_A, DNS_RCODE_NOERROR, DNS_FLAG_AA,
				  0, www_a, 1, T0),
			 TDNS_OK);
	for (int i = 0; i < 3; i++) {
		lookup(c, &r, "www.example.com.", DNS_TYPE_A, T0, CACHE_LOOKUP_QUIET);
		assert_int_equal(r.res, CACHE_HIT);
		reply_clear(&r);
	}
	struct cache_stats st = stats(c);
	assert_int_equal(st.hits, 0);
	assert_int_equal(st.misses, 0);
	assert_int_equal(st.inserts, 1);
	/* The entry's own hit count (what `cache list` shows, and prefetch uses) stays 0 too. */
	lookup(c, &r, "www.example.com.", DNS_TYPE_A, T0, 0);
	reply_clear(&r);
	st = stats(c);
	assert_int_equal(st.hits, 1);
	assert_int_equal(st.misses, 0);
}

static void
test_ttl_decays_and_entry_expires(void **state)
{
	struct cache *c = *state;
	stored(c, "www.example.com.", DNS_TYPE_A, 0, www_a, 1, T0);
	struct reply r;
	lookup(c, &r, "www.example.com.", DNS_TYPE_A, T0 + 100, 0);
	assert_int_equal(r.res, CACHE_HIT);
	assert_int_equal(rr_at(&r, DNS_SECTION_ANSWER, 0)->ttl, 200);
	assert_int_equal(r.info.ttl_left, 200);
	reply_clear(&r);
	expect_lookup(c, "www.example.com.", DNS_TYPE_A, T0 + 299, 0, CACHE_HIT, DNS_SECTION_ANSWER,
		      1);
	/* no stale window configured */
	expect_miss(c, "www.example.com.", DNS_TYPE_A, T0 + 300, CACHE_LOOKUP_ALLOW_STALE);
	struct cache_stats st = stats(c);
	assert_int_equal(st.entries, 0);
	assert_int_equal(st.expired, 1);
}

static void
test_ttl_clamped_to_min_and_max(void **state)
{
	(void)state;
	struct cache *c = cache_new(1 << 20, 4, 60, 3600, 3600, 0);
	const struct rrspec shortttl[] = {
		{ DNS_SECTION_ANSWER, "short.example.", DNS_TYPE_A, 5, "192.0.2.5" },
	};
	const struct rrspec longttl[] = {
		{ DNS_SECTION_ANSWER, "long.example.", DNS_TYPE_A, 86400, "192.0.2.6" },
	};
	stored(c, "short.example.", DNS_TYPE_A, 0, shortttl, 1, T0);
	stored(c, "long.example.", DNS_TYPE_A, 0, longttl, 1, T0);
	struct reply r;
	/* lives min_ttl, not 5 s */
	expect_lookup(c, "short.example.", DNS_TYPE_A, T0 + 10, 0, CACHE_HIT, DNS_SECTION_ANSWER,
		      50);
	expect_miss(c, "short.example.", DNS_TYPE_A, T0 + 60, 0);
	lookup(c, &r, "long.example.", DNS_TYPE_A, T0, 0);
	assert_int_equal(rr_at(&r, DNS_SECTION_ANSWER, 0)->ttl, 3600);
	reply_clear(&r);
	expect_miss(c, "long.example.", DNS_TYPE_A, T0 + 3600, 0);
	assert_null(cache_new(1 << 20, 4, 100, 10, 10, 0)); /* min above max */
	cache_free(c);
}

static void
test_entry_lives_as_long_as_shortest_answer_ttl(void **state)
{
	struct cache *c = *state;
	const struct rrspec chain[] = {
		{ DNS_SECTION_ANSWER, "www.example.com.", DNS_TYPE_CNAME, 3600,
		  "web.example.net." },
		{ DNS_SECTION_ANSWER, "web.example.net.", DNS_TYPE_A, 60, "192.0.2.7" },
		{ DNS_SECTION_AUTHORITY, "example.net.", DNS_TYPE_NS, 7200, "ns.example.net." },
		{ DNS_SECTION_ADDITIONAL, "ns.example.net.", DNS_TYPE_A, 10, "192.0.2.53" },
	};
	stored(c, "www.example.com.", DNS_TYPE_A, 0, chain, 4, T0);
	struct reply r;
	lookup(c, &r, "www.example.com.", DNS_TYPE_A, T0 + 30, 0);
	assert_int_equal(r.res, CACHE_HIT);
	assert_int_equal(count(&r, DNS_SECTION_ANSWER), 2);
	assert_int_equal(count(&r, DNS_SECTION_AUTHORITY), 1);
	assert_int_equal(count(&r, DNS_SECTION_ADDITIONAL), 2); /* glue + our OPT */
	/* No record outlives the entry; a shorter one decays to zero on its own. */
	assert_int_equal(rr_at(&r, DNS_SECTION_ANSWER, 0)->ttl, 30);
	assert_int_equal(rr_at(&r, DNS_SECTION_ANSWER, 1)->ttl, 30);
	assert_int_equal(rr_at(&r, DNS_SECTION_AUTHORITY, 0)->ttl, 30);
	assert_int_equal(rr_at(&r, DNS_SECTION_ADDITIONAL, 0)->ttl, 0);
	/* The CNAME target came compressed and was stored expanded. */
	const struct dns_rr *cn = rr_at(&r, DNS_SECTION_ANSWER, 0);
	uint8_t target[DNS_NAME_MAX], want[DNS_NAME_MAX];
	size_t pos = cn->rdata_off;
	assert_true(dns_name_unpack(r.pkt, r.len, &pos, target) > 0);
	name("web.example.net.", want);
	assert_true(dns_name_eq(target, want));
	reply_clear(&r);
	expect_miss(c, "www.example.com.", DNS_TYPE_A, T0 + 60, 0);
}

static void
test_qname_case_ignored_and_reply_keeps_question_case(void **state)
{
	struct cache *c = *state;
	const struct rrspec mixed[] = {
		{ DNS_SECTION_ANSWER, "WWW.Example.COM.", DNS_TYPE_A, 300, "192.0.2.1" },
	};
	stored(c, "WWW.Example.COM.", DNS_TYPE_A, 0, mixed, 1, T0);
	struct reply r;
	lookup(c, &r, "www.eXample.com.", DNS_TYPE_A, T0, 0);
	assert_int_equal(r.res, CACHE_HIT);
	uint8_t want[DNS_NAME_MAX];
	int n = name("www.eXample.com.", want);
	assert_memory_equal(rr_at(&r, DNS_SECTION_ANSWER, 0)->owner, want, (size_t)n);
	reply_clear(&r);
}

static void
test_do_bit_is_part_of_the_key(void **state)
{
	struct cache *c = *state;
	struct cache_key k;
	key(&k, "www.example.com.", DNS_TYPE_A, CACHE_KEY_DO | 0x80);
	assert_int_equal(k.flags, CACHE_KEY_DO); /* unknown bits dropped */
	assert_int_equal(store_ex(c, "www.example.com.", DNS_TYPE_A, 0, DNS_FLAG_AD,
				  CACHE_KEY_DO | 0x80, www_a, 1, T0),
			 TDNS_OK);
	expect_miss(c, "www.example.com.", DNS_TYPE_A, T0, 0);
	struct reply r;
	lookup_ex(c, &r, "www.example.com.", DNS_TYPE_A, CACHE_KEY_DO | CACHE_KEY_CD, T0, 0, 8192);
	assert_int_equal(r.res, CACHE_MISS);
	reply_clear(&r);
	lookup_ex(c, &r, "www.example.com.", DNS_TYPE_A, CACHE_KEY_DO, T0, 0, 8192);
	assert_int_equal(r.res, CACHE_HIT);
	assert_true(r.m.flags & DNS_FLAG_AD); /* AD kept from the stored response */
	assert_true(r.m.edns.do_bit);
	reply_clear(&r);
}

static void
test_storing_again_replaces_the_entry(void **state)
{
	struct cache *c = *state;
	const struct rrspec second[] = {
		{ DNS_SECTION_ANSWER, "www.example.com.", DNS_TYPE_A, 900, "192.0.2.99" },
	};
	stored(c, "www.example.com.", DNS_TYPE_A, 0, www_a, 1, T0);
	stored(c, "www.example.com.", DNS_TYPE_A, 0, second, 1, T0 + 10);
	assert_int_equal(stats(c).entries, 1);
	struct reply r;
	lookup(c, &r, "www.example.com.", DNS_TYPE_A, T0 + 10, 0);
	assert_int_equal(rr_at(&r, DNS_SECTION_ANSWER, 0)->ttl, 900);
	assert_int_equal(r.pkt[rr_at(&r, DNS_SECTION_ANSWER, 0)->rdata_off + 3], 99);
	reply_clear(&r);
}

static void
test_answer_that_does_not_fit_sets_tc(void **state)
{
	struct cache *c = *state;
	struct rrspec many[40];
	for (size_t i = 0; i < 40; i++) {
		many[i] = (struct rrspec){ DNS_SECTION_ANSWER, "txt.example.", DNS_TYPE_TXT, 300,
					   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" };
	}
	stored(c, "txt.example.", DNS_TYPE_TXT, 0, many, 40, T0);
	struct reply r;
	lookup_ex(c, &r, "txt.example.", DNS_TYPE_TXT, 0, T0, 0, 512);
	assert_int_equal(r.res, CACHE_HIT);
	assert_true(r.info.truncated);
	assert_true(r.m.flags & DNS_FLAG_TC);
	assert_int_equal(count(&r, DNS_SECTION_ANSWER), 0);
	assert_true(r.len <= 512);
	reply_clear(&r);
	lookup_ex(c, &r, "txt.example.", DNS_TYPE_TXT, 0, T0, 0, 8192);
	assert_false(r.info.truncated);
	assert_int_equal(count(&r, DNS_SECTION_ANSWER), 40);
	reply_clear(&r);
}

/* ---- negative caching, RFC 2308 ----------------------------------------------------------- */

static void
test_nxdomain_cached_for_soa_minimum(void **state)
{
	(void)state;
	struct cache *c = cache_new(1 << 20, 4, 0, 86400, 86400, 0);
	stored(c, "nope.example.com.", DNS_TYPE_A, DNS_RCODE_NXDOMAIN, nx_soa, 1, T0);
	struct reply r;
	lookup_negative(c, &r, "nope.example.com.", DNS_TYPE_A, T0 + 100, 0,
			CACHE_HIT, DNS_RCODE_NXDOMAIN);
	assert_int_equal(r.info.rcode, DNS_RCODE_NXDOMAIN);
	assert_int_equal(count(&r, DNS_SECTION_ANSWER), 0);
	assert_int_equal(count(&r, DNS_SECTION_AUTHORITY), 1);
	/* min(SOA TTL 3600, MINIMUM 300) = 300, counting down (RFC 2308 §5). */
	const struct dns_rr *soa = rr_at(&r, DNS_SECTION_AUTHORITY, 0);
	assert_int_equal(soa->type, DNS_TYPE_SOA);
	assert_int_equal(soa->ttl, 200);
	reply_clear(&r);
	expect_miss(c, "nope.example.com.", DNS_TYPE_A, T0 + 300, 0);
	cache_free(c);
}

static void
test_negative_ttl_is_soa_ttl_when_smaller_and_capped(void **state)
{
	(void)state;
	struct cache *c = cache_new(1 << 20, 4, 0, 86400, 120, 0);
	const struct rrspec soa60[] = {
		{ DNS_SECTION_AUTHORITY, "example.com.", DNS_TYPE_SOA, 60,
		  "ns1.example.com. host.example.com. 1 7200 900 1209600 300" },
	};
	stored(c, "a.example.com.", DNS_TYPE_A, DNS_RCODE_NXDOMAIN, soa60, 1, T0);
	const struct rrspec soa_big[] = {
		{ DNS_SECTION_AUTHORITY, "example.com.", DNS_TYPE_SOA, 86400,
		  "ns1.example.com. host.example.com. 1 7200 900 1209600 86400" },
	};
	stored(c, "b.example.com.", DNS_TYPE_A, DNS_RCODE_NXDOMAIN, soa_big, 1, T0);
	struct reply r;
	lookup(c, &r, "a.example.com.", DNS_TYPE_A, T0, 0);
	assert_int_equal(r.info.ttl_left, 60);
	assert_int_equal(rr_at(&r, DNS_SECTION_AUTHORITY, 0)->ttl, 60);
	reply_clear(&r);
	lookup(c, &r, "b.example.com.", DNS_TYPE_A, T0, 0);
	assert_int_equal(r.info.ttl_left, 120); /* neg_max_ttl */
	assert_int_equal(rr_at(&r, DNS_SECTION_AUTHORITY, 0)->ttl, 120);
	reply_clear(&r);
	expect_miss(c, "b.example.com.", DNS_TYPE_A, T0 + 120, 0);
	cache_free(c);
}

static void
test_nodata_cached_with_soa(void **state)
{
	struct cache *c = *state;
	stored(c, "www.example.com.", DNS_TYPE_AAAA, DNS_RCODE_NOERROR, nx_soa, 1, T0);
	struct reply r;
	lookup_negative(c, &r, "www.example.com.", DNS_TYPE_AAAA, T0 + 1, 0,
			CACHE_HIT, DNS_RCODE_NOERROR);
	assert_int_equal(count(&r, DNS_SECTION_ANSWER), 0);
	assert_int_equal(rr_at(&r, DNS_SECTION_AUTHORITY, 0)->ttl, 299);
	reply_clear(&r);
	/* Another type at the name is another key. */
	expect_miss(c, "www.example.com.", DNS_TYPE_A, T0 + 1, 0);
}

static void
test_cname_to_nodata_is_negative_and_bounded_by_cname(void **state)
{
	struct cache *c = *state;
	const struct rrspec chain[] = {
		{ DNS_SECTION_ANSWER, "www.example.com.", DNS_TYPE_CNAME, 100, "web.example.org." },
		{ DNS_SECTION_AUTHORITY, "example.org.", DNS_TYPE_SOA, 3600,
		  "ns.example.org. host.example.org. 1 7200 900 1209600 300" },
	};
	stored(c, "www.example.com.", DNS_TYPE_AAAA, 0, chain, 2, T0);
	struct reply r;
	lookup(c, &r, "www.example.com.", DNS_TYPE_AAAA, T0, 0);
	assert_int_equal(r.res, CACHE_HIT);
	assert_true(r.info.negative);
	assert_int_equal(r.info.ttl_left, 100); /* the CNAME's TTL is shorter than the SOA's */
	assert_int_equal(count(&r, DNS_SECTION_ANSWER), 1);
	reply_clear(&r);
}

static void
test_negative_without_soa_is_not_cached(void **state)
{
	struct cache *c = *state;
	assert_int_equal(store(c, "x.example.com.", DNS_TYPE_A, DNS_RCODE_NXDOMAIN, NULL, 0, T0),
			 TDNS_ENOENT);
	const struct rrspec referral[] = {
		{ DNS_SECTION_AUTHORITY, "example.com.", DNS_TYPE_NS, 3600, "ns.example.com." },
	};
	assert_int_equal(store(c, "y.example.com.", DNS_TYPE_A, 0, referral, 1, T0), TDNS_ENOENT);
	/* An SOA of a zone the name is not in says nothing about it. */
	const struct rrspec other[] = {
		{ DNS_SECTION_AUTHORITY, "example.net.", DNS_TYPE_SOA, 3600,
		  "ns.example.net. host.example.net. 1 7200 900 1209600 300" },
	};
	assert_int_equal(store(c, "z.example.com.", DNS_TYPE_A, DNS_RCODE_NXDOMAIN, other, 1, T0),
			 TDNS_ENOENT);
	assert_int_equal(stats(c).entries, 0);
}

static void
test_zero_ttl_refused_and_truncated_answers_not_cached(void **state)
{
	struct cache *c = *state;
	const struct rrspec zero[] = {
		{ DNS_SECTION_ANSWER, "z.example.", DNS_TYPE_A, 0, "192.0.2.1" },
	};
	assert_int_equal(store(c, "z.example.", DNS_TYPE_A, 0, zero, 1, T0), TDNS_ENOENT);
	assert_int_equal(store(c, "r.example.", DNS_TYPE_A, DNS_RCODE_REFUSED, NULL, 0, T0),
			 TDNS_ENOENT);
	assert_int_equal(store_ex(c, "www.example.com.", DNS_TYPE_A, 0, DNS_FLAG_TC, 0, www_a, 1,
				  T0),
			 TDNS_ENOENT);
	assert_int_equal(stats(c).entries, 0);
}

static void
test_servfail_cached_only_briefly_when_enabled(void **state)
{
	(void)state;
	struct cache *c = cache_new(1 << 20, 4, 0, 86400, 3600, 3600);
	assert_int_equal(store(c, "sf.example.", DNS_TYPE_A, DNS_RCODE_SERVFAIL, NULL, 0, T0),
			 TDNS_ENOENT);
	cache_set_servfail_ttl(c, 600); /* capped at CACHE_SERVFAIL_TTL_MAX */
	stored(c, "sf.example.", DNS_TYPE_A, DNS_RCODE_SERVFAIL, NULL, 0, T0);
	struct reply r;
	lookup(c, &r, "sf.example.", DNS_TYPE_A, T0 + CACHE_SERVFAIL_TTL_MAX - 1, 0);
	assert_int_equal(r.res, CACHE_HIT);
	assert_int_equal(r.m.rcode, DNS_RCODE_SERVFAIL);
	reply_clear(&r);
	/* A remembered failure is never served stale. */
	expect_miss(c, "sf.example.", DNS_TYPE_A, T0 + CACHE_SERVFAIL_TTL_MAX,
		    CACHE_LOOKUP_ALLOW_STALE);
	cache_free(c);
}

/* ---- serve-stale, RFC 8767 ---------------------------------------------------------------- */

static void
test_stale_answer_within_window_has_ttl_30(void **state)
{
	(void)state;
	struct cache *c = cache_new(1 << 20, 4, 0, 86400, 3600, 1000);
	stored(c, "www.example.com.", DNS_TYPE_A, 0, www_a, 1, T0);
	struct reply r;
	/* stale needs the caller's consent */
	expect_miss(c, "www.example.com.", DNS_TYPE_A, T0 + 300, 0);
	lookup(c, &r, "www.example.com.", DNS_TYPE_A, T0 + 300, CACHE_LOOKUP_ALLOW_STALE);
	assert_int_equal(r.res, CACHE_STALE);
	assert_int_equal(r.info.ttl_left, 0);
	assert_int_equal(rr_at(&r, DNS_SECTION_ANSWER, 0)->ttl, CACHE_STALE_TTL_OUT);
	reply_clear(&r);
	expect_lookup(c, "www.example.com.", DNS_TYPE_A, T0 + 1299, CACHE_LOOKUP_ALLOW_STALE,
		      CACHE_STALE, DNS_SECTION_ANSWER, 30);
	expect_miss(c, "www.example.com.", DNS_TYPE_A, T0 + 1300, CACHE_LOOKUP_ALLOW_STALE);
	struct cache_stats st = stats(c);
	assert_int_equal(st.stale_hits, 2);
	assert_int_equal(st.entries, 0);
	cache_free(c);
}

static void
test_stale_nxdomain_is_served_with_its_rcode(void **state)
{
	(void)state;
	struct cache *c = cache_new(1 << 20, 4, 0, 86400, 3600, 1000);
	stored(c, "nope.example.com.", DNS_TYPE_A, DNS_RCODE_NXDOMAIN, nx_soa, 1, T0);
	struct reply r;
	lookup_negative(c, &r, "nope.example.com.", DNS_TYPE_A, T0 + 400, CACHE_LOOKUP_ALLOW_STALE,
			CACHE_STALE, DNS_RCODE_NXDOMAIN);
	assert_int_equal(rr_at(&r, DNS_SECTION_AUTHORITY, 0)->ttl, 30);
	reply_clear(&r);
	cache_free(c);
}

/* ---- prefetch ----------------------------------------------------------------------------- */

static void
test_prefetch_told_once_for_popular_entry_close_to_expiry(void **state)
{
	struct cache *c = *state;
	const struct rrspec rare[] = {
		{ DNS_SECTION_ANSWER, "rare.example.", DNS_TYPE_A, 300, "192.0.2.2" },
	};
	stored(c, "www.example.com.", DNS_TYPE_A, 0, www_a, 1, T0);
	stored(c, "rare.example.", DNS_TYPE_A, 0, rare, 1, T0);
	struct reply r;
	for (int i = 0; i < 3; i++) {
		lookup(c, &r, "www.example.com.", DNS_TYPE_A, T0 + 10, 0);
		assert_false(r.info.prefetch); /* far from expiry */
		reply_clear(&r);
	}
	lookup(c, &r, "www.example.com.", DNS_TYPE_A, T0 + 271, 0);
	assert_true(r.info.prefetch); /* 29 s left < 10 % of 300 */
	reply_clear(&r);
	lookup(c, &r, "www.example.com.", DNS_TYPE_A, T0 + 272, 0);
	assert_false(r.info.prefetch);
	reply_clear(&r);
	lookup(c, &r, "rare.example.", DNS_TYPE_A, T0 + 290, 0);
	assert_int_equal(r.res, CACHE_HIT);
	assert_false(r.info.prefetch); /* one hit is not popular */
	reply_clear(&r);
}

/* ---- bounds and eviction ------------------------------------------------------------------ */

static void
store_host(struct cache *c, unsigned i, uint32_t ttl, int64_t now)
{
	char qn[64];
	snprintf(qn, sizeof(qn), "h%05u.example.", i);
	const struct rrspec rr[] = {
		{ DNS_SECTION_ANSWER, qn, DNS_TYPE_A, ttl, "192.0.2.1" },
	};
	stored(c, qn, DNS_TYPE_A, 0, rr, 1, now);
}

static enum cache_result
probe_host(struct cache *c, unsigned i, int64_t now)
{
	char qn[64];
	snprintf(qn, sizeof(qn), "h%05u.example.", i);
	struct cache_key k;
	key(&k, qn, DNS_TYPE_A, 0);
	return cache_lookup(c, &k, now, NULL, 0, NULL);
}

/* What a one-shard cache counts with n store_host entries, index and structures included. */
static size_t
counted_with(unsigned n)
{
	struct cache *c = cache_new(1 << 20, 1, 0, 86400, 3600, 0);
	for (unsigned i = 0; i < n; i++) {
		store_host(c, i, 300, T0);
	}
	size_t bytes = stats(c).bytes;
	cache_free(c);
	return bytes;
}

/*
 * The max_bytes of a one-shard cache that holds n store_host entries and not one more.  Half
 * an entry of slack: the allocator may hand out a chunk a granule or two larger than asked
 * (when what is left of a free chunk would be too small to keep), and that is counted.
 */
static size_t
room_for(unsigned n)
{
	size_t with = counted_with(n);
	return with + (counted_with(n + 1) - with) / 2;
}

static void
test_eviction_keeps_bytes_under_budget(void **state)
{
	(void)state;
	size_t max = 32 * 1024;
	struct cache *c = cache_new(max, 4, 0, 86400, 3600, 0);
	for (unsigned i = 0; i < 2000; i++) {
		store_host(c, i, 3600, T0);
		assert_true(stats(c).bytes <= max);
	}
	struct cache_stats st = stats(c);
	assert_true(st.evictions > 0);
	assert_true(st.entries < 2000);
	assert_int_equal(st.entries + st.evictions, 2000);
	assert_int_equal(probe_host(c, 1999, T0), CACHE_HIT); /* the newest survives */
	cache_free(c);
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TDNS_HAS_ASAN 1
#endif
#endif
#ifndef TDNS_HAS_ASAN
#define TDNS_HAS_ASAN 0
#endif

static int
chunk_cb(void *ctx, const struct cache_walk_item *it)
{
	size_t *bytes = ctx;
#if !defined(__SANITIZE_ADDRESS__) && !TDNS_HAS_ASAN
	/*
	 * glibc hands out whole chunks of 16 bytes, header included: that is what is counted.
	 * (A sanitizer's allocator reports the size asked for instead.)
	 */
	assert_int_equal(it->size % (2 * sizeof(size_t)), 0);
#endif
	assert_true(it->size > sizeof(size_t) + it->nrr * 14);
	*bytes += it->size;
	return 0;
}

static void
test_accounted_bytes_include_allocator_overhead_and_the_index(void **state)
{
	(void)state;
	/* Issue 15: max-size bounds what the cache really takes, not what it asked for. */
	struct cache *c = cache_new(1 << 22, 1, 0, 86400, 3600, 0);
	for (unsigned i = 0; i < 1000; i++) {
		store_host(c, i, 3600, T0);
	}
	struct cache_stats st = stats(c);
	assert_int_equal(st.entries, 1000);
	size_t entries = 0;
	assert_int_equal(cache_walk(c, NULL, T0, chunk_cb, &entries), 0);
	/* The bucket array has a slot per entry at least, and so has the expiry heap. */
	assert_true(st.index_bytes >= 2 * 1000 * sizeof(void *));
	assert_int_equal(entries + st.index_bytes, st.bytes);
	cache_free(c);

	/* Eviction keeps the whole, index included, within max-size, with many shards too. */
	size_t max = 64 * 1024;
	c = cache_new(max, 16, 0, 86400, 3600, 0);
	for (unsigned i = 0; i < 5000; i++) {
		store_host(c, i, 3600, T0);
		st = stats(c);
		assert_true(st.bytes <= max);
	}
	assert_true(st.evictions > 0);
	assert_true(st.bytes > max / 2);
	assert_true(st.index_bytes > 16 * 2 * 64 * sizeof(void *));
	cache_free(c);
}

static void
test_eviction_takes_dead_entries_first(void **state)
{
	(void)state;
	struct cache *c = cache_new(room_for(4), 1, 0, 86400, 3600, 0);
	store_host(c, 0, 3600, T0);
	store_host(c, 1, 10, T0); /* dead from T0 + 10 */
	store_host(c, 2, 3600, T0);
	store_host(c, 3, 3600, T0);
	store_host(c, 4, 3600, T0 + 20);
	struct cache_stats st = stats(c);
	assert_int_equal(st.evictions, 0);
	assert_int_equal(st.expired, 1);
	assert_int_equal(probe_host(c, 0, T0 + 20), CACHE_HIT);
	assert_int_equal(probe_host(c, 2, T0 + 20), CACHE_HIT);
	assert_int_equal(probe_host(c, 3, T0 + 20), CACHE_HIT);
	assert_int_equal(probe_host(c, 4, T0 + 20), CACHE_HIT);
	cache_free(c);
}

static void
test_clock_gives_recently_hit_entries_a_second_chance(void **state)
{
	(void)state;
	struct cache *c = cache_new(room_for(4), 1, 0, 86400, 3600, 0);
	for (unsigned i = 0; i < 4; i++) {
		store_host(c, i, 3600, T0);
	}
	assert_int_equal(probe_host(c, 0, T0), CACHE_HIT); /* the oldest, but in use */
	store_host(c, 4, 3600, T0);
	assert_int_equal(stats(c).evictions, 1);
	assert_int_equal(probe_host(c, 1, T0), CACHE_MISS); /* evicted instead of 0 */
	assert_int_equal(probe_host(c, 0, T0), CACHE_HIT);
	assert_int_equal(probe_host(c, 4, T0), CACHE_HIT);
	cache_free(c);
}

static void
test_entry_larger_than_a_shard_is_refused(void **state)
{
	(void)state;
	struct cache *c = cache_new(1024, 4, 0, 86400, 3600, 0); /* 256 bytes a shard */
	struct rrspec many[8];
	for (size_t i = 0; i < 8; i++) {
		many[i] = (struct rrspec){ DNS_SECTION_ANSWER, "big.example.", DNS_TYPE_TXT, 300,
					   "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" };
	}
	assert_int_equal(store(c, "big.example.", DNS_TYPE_TXT, 0, many, 8, T0), TDNS_ESPACE);
	assert_int_equal(stats(c).entries, 0);
	cache_free(c);
}

static void
test_expire_removes_only_dead_entries(void **state)
{
	(void)state;
	struct cache *c = cache_new(1 << 20, 4, 0, 86400, 3600, 50);
	store_host(c, 0, 100, T0);
	store_host(c, 1, 200, T0);
	store_host(c, 2, 300, T0);
	assert_int_equal(cache_expire(c, T0 + 149), 0);
	assert_int_equal(cache_expire(c, T0 + 250), 2);
	assert_int_equal(stats(c).entries, 1);
	assert_int_equal(probe_host(c, 2, T0 + 250), CACHE_HIT);
	cache_free(c);
}

/* ---- administration ----------------------------------------------------------------------- */

static void
test_delete_removes_every_type_at_the_name_only(void **state)
{
	(void)state;
	struct cache *c = cache_new(1 << 20, 8, 0, 86400, 3600, 0);
	const struct rrspec aaaa[] = {
		{ DNS_SECTION_ANSWER, "www.example.com.", DNS_TYPE_AAAA, 300, "2001:db8::1" },
	};
	const struct rrspec sub[] = {
		{ DNS_SECTION_ANSWER, "a.www.example.com.", DNS_TYPE_A, 300, "192.0.2.3" },
	};
	stored(c, "www.example.com.", DNS_TYPE_A, 0, www_a, 1, T0);
	stored(c, "www.example.com.", DNS_TYPE_AAAA, 0, aaaa, 1, T0);
	stored(c, "a.www.example.com.", DNS_TYPE_A, 0, sub, 1, T0);
	uint8_t n[DNS_NAME_MAX];
	name("WWW.example.COM.", n);
	assert_int_equal(cache_delete(c, n), 2);
	assert_int_equal(cache_delete(c, n), 0);
	struct cache_stats st = stats(c);
	assert_int_equal(st.entries, 1);
	struct reply r;
	lookup(c, &r, "a.www.example.com.", DNS_TYPE_A, T0, 0);
	assert_int_equal(r.res, CACHE_HIT);
	reply_clear(&r);
	cache_free(c);
}

static void
test_flush_removes_everything(void **state)
{
	(void)state;
	struct cache *c = cache_new(1 << 20, 8, 0, 86400, 3600, 0);
	for (unsigned i = 0; i < 100; i++) {
		store_host(c, i, 300, T0);
	}
	assert_int_equal(cache_flush(c), 100);
	struct cache_stats st = stats(c);
	assert_int_equal(st.entries, 0);
	assert_int_equal(st.bytes, st.index_bytes); /* the index stays */
	assert_int_equal(probe_host(c, 5, T0), CACHE_MISS);
	store_host(c, 5, 300, T0); /* still usable */
	assert_int_equal(probe_host(c, 5, T0), CACHE_HIT);
	cache_free(c);
}

struct walk_acc {
	size_t n;
	size_t stale;
	size_t bytes;
	bool saw_nx;
	int stop_after;
};

static int
walk_cb(void *ctx, const struct cache_walk_item *it)
{
	struct walk_acc *acc = ctx;
	acc->n++;
	acc->bytes += it->size;
	if (it->ttl_left < 0) {
		acc->stale++;
	}
	if (it->rcode == DNS_RCODE_NXDOMAIN) {
		assert_true(it->negative);
		assert_int_equal(it->nrr, 1);
		acc->saw_nx = true;
	}
	char text[DNS_NAME_TEXT_MAX];
	assert_true(dns_name_to_text(it->name, text, sizeof(text)) > 0);
	assert_non_null(strstr(text, "example"));
	return acc->stop_after > 0 && (int)acc->n >= acc->stop_after ? 7 : 0;
}

static void
test_walk_lists_live_entries_at_or_below_a_name(void **state)
{
	(void)state;
	struct cache *c = cache_new(1 << 20, 8, 0, 86400, 3600, 100);
	stored(c, "www.example.com.", DNS_TYPE_A, 0, www_a, 1, T0);
	stored(c, "nope.example.com.", DNS_TYPE_A, DNS_RCODE_NXDOMAIN, nx_soa, 1, T0);
	for (unsigned i = 0; i < 10; i++) {
		store_host(c, i, 30, T0);
	}
	struct walk_acc acc = { 0 };
	assert_int_equal(cache_walk(c, NULL, T0, walk_cb, &acc), 0);
	assert_int_equal(acc.n, 12);
	assert_int_equal(acc.bytes + stats(c).index_bytes, stats(c).bytes);
	assert_true(acc.saw_nx);

	uint8_t n[DNS_NAME_MAX];
	name("Example.COM.", n);
	memset(&acc, 0, sizeof(acc));
	assert_int_equal(cache_walk(c, n, T0, walk_cb, &acc), 0);
	assert_int_equal(acc.n, 2);

	memset(&acc, 0, sizeof(acc));
	assert_int_equal(cache_walk(c, NULL, T0 + 60, walk_cb, &acc), 0);
	assert_int_equal(acc.n, 12);
	assert_int_equal(acc.stale, 10);
	memset(&acc, 0, sizeof(acc));
	assert_int_equal(cache_walk(c, NULL, T0 + 200, walk_cb, &acc), 0);
	assert_int_equal(acc.n, 2); /* the hosts (30 s + 100 s stale) are dead */

	memset(&acc, 0, sizeof(acc));
	acc.stop_after = 3;
	assert_int_equal(cache_walk(c, NULL, T0, walk_cb, &acc), 7);
	assert_int_equal(acc.n, 3);
	cache_free(c);
}

/* ---- in-flight coalescing ----------------------------------------------------------------- */

static void
test_inflight_coalesces_identical_queries(void **state)
{
	struct cache *c = *state;
	struct cache_key k, other;
	key(&k, "www.example.com.", DNS_TYPE_A, 0);
	key(&other, "www.example.com.", DNS_TYPE_A, CACHE_KEY_DO);
	struct cache_waiter w1 = { 0 }, w2 = { 0 }, w3 = { 0 };
	assert_true(cache_inflight_begin(c, &k, NULL));
	assert_true(cache_inflight_begin(c, &other, NULL)); /* DO makes it another query */
	assert_false(cache_inflight_begin(c, &k, &w1));
	assert_false(cache_inflight_begin(c, &k, &w2));
	assert_false(cache_inflight_begin(c, &k, &w3));
	assert_int_equal(stats(c).inflight, 2);
	assert_true(cache_inflight_cancel(c, &k, &w3)); /* the last one gives up */
	assert_false(cache_inflight_cancel(c, &k, &w3));
	struct cache_waiter w4 = { 0 };
	assert_false(cache_inflight_begin(c, &k, &w4)); /* queued after a cancelled tail */
	assert_true(cache_inflight_cancel(c, &k, &w1));

	struct cache_waiter *list = cache_inflight_end(c, &k);
	assert_ptr_equal(list, &w2);
	assert_ptr_equal(w2.next, &w4);
	assert_null(w4.next);
	assert_null(cache_inflight_end(c, &k));
	assert_null(cache_inflight_end(c, &other));
	assert_int_equal(stats(c).inflight, 0);
	assert_true(cache_inflight_begin(c, &k, NULL)); /* a new round: cache_teardown frees it */
}

/* A request's waiter given up (issue 13 jostling): a queued one takes over, or the record ends. */
static void
test_inflight_take_back_hands_the_request_on_or_ends_it(void **state)
{
	struct cache *c = *state;
	struct cache_key k, other;
	key(&k, "www.example.com.", DNS_TYPE_A, 0);
	key(&other, "www.example.net.", DNS_TYPE_A, 0);
	struct cache_waiter own = { 0 }, q1 = { 0 }, q2 = { 0 }, stranger = { 0 };
	struct cache_waiter *first = &own;
	assert_true(cache_inflight_begin(c, &k, &own));
	assert_false(cache_inflight_begin(c, &k, &q1));
	assert_false(cache_inflight_begin(c, &k, &q2));
	/* Not this request's waiter, nor its key's. */
	assert_int_equal(cache_inflight_take_back(c, &k, &first, &other, &stranger),
			 CACHE_TAKE_NONE);
	assert_int_equal(cache_inflight_take_back(c, &k, &first, &k, &stranger), CACHE_TAKE_NONE);
	/* A queued waiter is unlinked; the request's own is replaced by the first queued. */
	assert_int_equal(cache_inflight_take_back(c, &k, &first, &k, &q2), CACHE_TAKE_OK);
	assert_int_equal(cache_inflight_take_back(c, &k, &first, &k, &own), CACHE_TAKE_OK);
	assert_ptr_equal(first, &q1);
	assert_int_equal(stats(c).inflight, 1);
	/* The last one: the record is ended, the caller stops the request. */
	assert_int_equal(cache_inflight_take_back(c, &k, &first, &k, &q1), CACHE_TAKE_LAST);
	assert_null(first);
	assert_int_equal(stats(c).inflight, 0);
	/* Without a record (out of memory at begin), only the request's own waiter is known. */
	first = &own;
	assert_int_equal(cache_inflight_take_back(NULL, &k, &first, &k, &own), CACHE_TAKE_LAST);
	assert_null(cache_inflight_pop(c, &k));
}

/* ---- threads ------------------------------------------------------------------------------ */

struct worker {
	struct cache *c;
	unsigned id;
	unsigned long ops;
	unsigned long hits;
	unsigned long errors; /* counted, not asserted: cmocka asserts only on the main thread */
};

static double
mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	struct cache_key k;
	uint8_t pkt[512];
	uint32_t x = 2463534242u ^ (w->id * 7919u);
	double end = mono() + 1.0;
	struct resp *up = malloc(sizeof(*up));
	if (up == NULL) {
		w->errors++;
		return NULL;
	}
	for (unsigned long i = 0; i < 2000000 && (i % 256 != 0 || mono() < end); i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		unsigned n = x % 600;
		uint8_t qn[32];
		qn[0] = 5;
		snprintf((char *)qn + 1, sizeof(qn) - 1, "h%04u", n);
		memcpy(qn + 6, "\007example\000", 9);
		cache_key_init(&k, qn, DNS_TYPE_A, DNS_CLASS_IN, n & 1 ? CACHE_KEY_DO : 0);
		int64_t now = T0 + (int64_t)(i / 1000);
		struct dns_build b;
		dns_build_init(&b, pkt, sizeof(pkt), sizeof(pkt), 1, DNS_FLAG_QR);
		if (dns_build_question(&b, qn, DNS_TYPE_A, DNS_CLASS_IN) != TDNS_OK) {
			w->errors++;
		}
		switch (x >> 28) {
		case 0:
		case 1:
		case 2: {
			char text[32];
			snprintf(text, sizeof(text), "h%04u.example.", n);
			const struct rrspec rr[] = {
				{ DNS_SECTION_ANSWER, text, DNS_TYPE_A, 1 + n % 5, "192.0.2.1" },
			};
			resp_make(up, text, DNS_TYPE_A, 0, 0, rr, 1);
			int rc = cache_store_msg(w->c, &up->m, &k, now);
			dns_msg_clear(&up->m);
			if (rc != TDNS_OK) {
				w->errors++;
			}
			break;
		}
		case 3:
			if (cache_inflight_begin(w->c, &k, NULL)) {
				cache_inflight_end(w->c, &k);
			}
			break;
		case 4:
			cache_delete(w->c, qn);
			break;
		default:
			if (cache_lookup(w->c, &k, now, &b, CACHE_LOOKUP_ALLOW_STALE, NULL) !=
			    CACHE_MISS) {
				w->hits++;
				if (dns_build_finish(&b) < DNS_HDR_LEN + 16 + 16) {
					w->errors++; /* no answer record written */
				}
			}
			break;
		}
		w->ops++;
	}
	free(up);
	return NULL;
}

static void
test_four_threads_store_and_look_up_concurrently(void **state)
{
	(void)state;
	size_t max = 48 * 1024; /* small, so eviction runs all the time */
	struct cache *c = cache_new(max, 4, 0, 86400, 3600, 30);
	pthread_t t[4];
	struct worker w[4];
	for (unsigned i = 0; i < 4; i++) {
		w[i] = (struct worker){ .c = c, .id = i + 1 };
		assert_int_equal(pthread_create(&t[i], NULL, worker_run, &w[i]), 0);
	}
	unsigned long ops = 0, hits = 0, errors = 0;
	for (unsigned i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		ops += w[i].ops;
		hits += w[i].hits;
		errors += w[i].errors;
	}
	assert_int_equal(errors, 0);
	print_message("%lu operations, %lu hits\n", ops, hits);
	struct cache_stats st = stats(c);
	assert_true(ops > 0);
	assert_true(hits > 0);
	assert_true(st.bytes <= max);
	assert_int_equal(st.inflight, 0);
	struct walk_acc acc = { 0 };
	assert_int_equal(cache_walk(c, NULL, INT64_MIN / 2, walk_cb, &acc), 0);
	assert_int_equal(acc.n, st.entries);
	assert_int_equal(acc.bytes + st.index_bytes, st.bytes);
	cache_free(c);
}

/* ---- issue 16: the validator's verdict is kept with the entry ----------------------------- */

static const struct rrspec signed_a[] = {
	{ DNS_SECTION_ANSWER, "www.example.com.", DNS_TYPE_A, 300, "192.0.2.1" },
	{ DNS_SECTION_ANSWER, "www.example.com.", DNS_TYPE_RRSIG, 300,
	  "A 13 3 300 20300101000000 20200101000000 12345 example.com. AAAA" },
};

/* Stores a NOERROR response to qname/qtype under the DO key with verdict v (NULL: none). */
static void
store_val(struct cache *c, const char *qname, uint16_t qtype, const struct rrspec *rrs,
	  size_t n, uint16_t hflags, const struct cache_val *v, int64_t now)
{
	struct resp r;
	resp_make(&r, qname, qtype, DNS_RCODE_NOERROR, hflags, rrs, n);
	struct cache_key k;
	key(&k, qname, qtype, CACHE_KEY_DO);
	assert_int_equal(cache_store_val(c, &r.m, &k, now, v), TDNS_OK);
	dns_msg_clear(&r.m);
}

static void
store_verdict(struct cache *c, const struct rrspec *rrs, size_t n, uint16_t hflags,
	      const struct cache_val *v, int64_t now)
{
	store_val(c, "www.example.com.", DNS_TYPE_A, rrs, n, hflags, v, now);
}

static void
test_verdict_is_returned_and_ad_follows_it_not_the_upstream(void **state)
{
	struct cache *c = *state;
	struct cache_val v = { .sec = CACHE_SEC_SECURE, .ede = -1 };
	store_verdict(c, signed_a, 2, 0, &v, T0);
	struct reply r;
	lookup_ex(c, &r, "www.example.com.", DNS_TYPE_A, CACHE_KEY_DO, T0, 0, 8192);
	assert_int_equal(r.res, CACHE_HIT);
	assert_int_equal(r.info.sec, CACHE_SEC_SECURE);
	assert_true(r.m.flags & DNS_FLAG_AD);
	assert_int_equal(count(&r, DNS_SECTION_ANSWER), 2);
	reply_clear(&r);

	/* An upstream's AD means nothing once the validator said insecure. */
	v.sec = CACHE_SEC_INSECURE;
	store_verdict(c, signed_a, 2, DNS_FLAG_AD, &v, T0);
	lookup_ex(c, &r, "www.example.com.", DNS_TYPE_A, CACHE_KEY_DO, T0, 0, 8192);
	assert_int_equal(r.info.sec, CACHE_SEC_INSECURE);
	assert_false(r.m.flags & DNS_FLAG_AD);
	reply_clear(&r);

	/* Stored without a verdict: unchecked, the upstream's AD kept (validation off). */
	store_verdict(c, signed_a, 2, DNS_FLAG_AD, NULL, T0);
	lookup_ex(c, &r, "www.example.com.", DNS_TYPE_A, CACHE_KEY_DO, T0, 0, 8192);
	assert_int_equal(r.info.sec, CACHE_SEC_UNCHECKED);
	assert_int_equal(r.info.ede, -1);
	assert_true(r.m.flags & DNS_FLAG_AD);
	reply_clear(&r);
}

static void
test_bogus_verdict_keeps_its_ede_and_text_and_lives_60s_at_most(void **state)
{
	struct cache *c = *state;
	struct cache_val v = { .sec = CACHE_SEC_BOGUS, .ede = 7 };
	snprintf(v.text, sizeof(v.text), "example.com.: signature expired");
	store_verdict(c, signed_a, 2, 0, &v, T0);
	struct reply r;
	lookup_ex(c, &r, "www.example.com.", DNS_TYPE_A, CACHE_KEY_DO, T0, 0, 8192);
	assert_int_equal(r.res, CACHE_HIT);
	assert_int_equal(r.info.sec, CACHE_SEC_BOGUS);
	assert_int_equal(r.info.ede, 7);
	assert_string_equal(r.info.text, "example.com.: signature expired");
	assert_int_equal(r.info.ttl_left, CACHE_BOGUS_TTL_MAX);
	assert_false(r.m.flags & DNS_FLAG_AD);
	assert_int_equal(count(&r, DNS_SECTION_ANSWER), 2);
	reply_clear(&r);
	lookup_ex(c, &r, "www.example.com.", DNS_TYPE_A, CACHE_KEY_DO, T0 + CACHE_BOGUS_TTL_MAX, 0,
		  8192);
	assert_int_equal(r.res, CACHE_MISS);
	reply_clear(&r);
}

static void
test_nodnssec_lookup_leaves_rrsig_nsec_nsec3_out(void **state)
{
	struct cache *c = *state;
	static const struct rrspec neg[] = {
		{ DNS_SECTION_AUTHORITY, "example.com.", DNS_TYPE_SOA, 300,
		  "ns.example.com. h.example.com. 1 3600 600 86400 300" },
		{ DNS_SECTION_AUTHORITY, "example.com.", DNS_TYPE_RRSIG, 300,
		  "SOA 13 2 300 20300101000000 20200101000000 12345 example.com. AAAA" },
		{ DNS_SECTION_AUTHORITY, "www.example.com.", DNS_TYPE_NSEC, 300,
		  "z.example.com. A RRSIG NSEC" },
	};
	struct cache_val v = { .sec = CACHE_SEC_SECURE, .ede = -1 };
	store_val(c, "www.example.com.", DNS_TYPE_AAAA, neg, 3, 0, &v, T0);
	struct reply r;
	lookup_ex(c, &r, "www.example.com.", DNS_TYPE_AAAA, CACHE_KEY_DO, T0, 0, 8192);
	assert_int_equal(count(&r, DNS_SECTION_AUTHORITY), 3);
	reply_clear(&r);
	/* RFC 4035 §3.2.1: a client without DO gets the SOA alone from the same entry. */
	lookup_ex(c, &r, "www.example.com.", DNS_TYPE_AAAA, CACHE_KEY_DO, T0,
		  CACHE_LOOKUP_NODNSSEC, 8192);
	assert_int_equal(r.res, CACHE_HIT);
	assert_int_equal(count(&r, DNS_SECTION_AUTHORITY), 1);
	assert_int_equal(rr_at(&r, DNS_SECTION_AUTHORITY, 0)->type, DNS_TYPE_SOA);
	reply_clear(&r);
}

static void
test_nodnssec_lookup_keeps_the_type_asked(void **state)
{
	struct cache *c = *state;
	static const struct rrspec nsec[] = {
		{ DNS_SECTION_ANSWER, "www.example.com.", DNS_TYPE_NSEC, 300,
		  "z.example.com. A RRSIG NSEC" },
	};
	store_val(c, "www.example.com.", DNS_TYPE_NSEC, nsec, 1, 0, NULL, T0);
	struct reply r;
	lookup_ex(c, &r, "www.example.com.", DNS_TYPE_NSEC, CACHE_KEY_DO, T0,
		  CACHE_LOOKUP_NODNSSEC, 8192);
	assert_int_equal(count(&r, DNS_SECTION_ANSWER), 1);
	reply_clear(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		CACHE_TEST(test_verdict_is_returned_and_ad_follows_it_not_the_upstream),
		CACHE_TEST(test_bogus_verdict_keeps_its_ede_and_text_and_lives_60s_at_most),
		CACHE_TEST(test_nodnssec_lookup_leaves_rrsig_nsec_nsec3_out),
		CACHE_TEST(test_nodnssec_lookup_keeps_the_type_asked),
		CACHE_TEST(test_positive_answer_is_returned_with_aa_cleared),
		CACHE_TEST(test_miss_leaves_builder_untouched_and_counts),
		CACHE_TEST(test_quiet_lookups_count_in_no_statistic),
		CACHE_TEST(test_ttl_decays_and_entry_expires),
		cmocka_unit_test(test_ttl_clamped_to_min_and_max),
		CACHE_TEST(test_entry_lives_as_long_as_shortest_answer_ttl),
		CACHE_TEST(test_qname_case_ignored_and_reply_keeps_question_case),
		CACHE_TEST(test_do_bit_is_part_of_the_key),
		CACHE_TEST(test_storing_again_replaces_the_entry),
		CACHE_TEST(test_answer_that_does_not_fit_sets_tc),
		cmocka_unit_test(test_nxdomain_cached_for_soa_minimum),
		cmocka_unit_test(test_negative_ttl_is_soa_ttl_when_smaller_and_capped),
		CACHE_TEST(test_nodata_cached_with_soa),
		CACHE_TEST(test_cname_to_nodata_is_negative_and_bounded_by_cname),
		CACHE_TEST(test_negative_without_soa_is_not_cached),
		CACHE_TEST(test_zero_ttl_refused_and_truncated_answers_not_cached),
		cmocka_unit_test(test_servfail_cached_only_briefly_when_enabled),
		cmocka_unit_test(test_stale_answer_within_window_has_ttl_30),
		cmocka_unit_test(test_stale_nxdomain_is_served_with_its_rcode),
		CACHE_TEST(test_prefetch_told_once_for_popular_entry_close_to_expiry),
		cmocka_unit_test(test_eviction_keeps_bytes_under_budget),
		cmocka_unit_test(test_accounted_bytes_include_allocator_overhead_and_the_index),
		cmocka_unit_test(test_eviction_takes_dead_entries_first),
		cmocka_unit_test(test_clock_gives_recently_hit_entries_a_second_chance),
		cmocka_unit_test(test_entry_larger_than_a_shard_is_refused),
		cmocka_unit_test(test_expire_removes_only_dead_entries),
		cmocka_unit_test(test_delete_removes_every_type_at_the_name_only),
		cmocka_unit_test(test_flush_removes_everything),
		cmocka_unit_test(test_walk_lists_live_entries_at_or_below_a_name),
		CACHE_TEST(test_inflight_coalesces_identical_queries),
		CACHE_TEST(test_inflight_take_back_hands_the_request_on_or_ends_it),
		cmocka_unit_test(test_four_threads_store_and_look_up_concurrently),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
