/* SPDX-License-Identifier: MIT */
/* Unit tests for src/crypto/tsig.c: TSIG signing and verification against dnspython's vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/crypto.h"
#include "unit.h"

/*
 * Made once by dnspython 2.3 (dns.message with a dns.tsig.Key, time fixed at 1700000000,
 * fudge 300): key k1. with this secret, "ns.example. A" id 0x1234 signed, and its reply
 * (ns.example. 3600 A 192.0.2.1) signed with the request MAC, for each algorithm.
 */
#define SECRET "c2VjcmV0LWtleS1mb3ItdGRucy10c2lnLXRlc3Rz"
#define NOW 1700000000u

struct vector {
	enum crypto_tsig_alg alg;
	const char *query;
	const char *reply;
};

static const struct vector vectors[] = {
	{ CRYPTO_TSIG_HMAC_MD5,
		"123401000001000000000001026e73076578616d706c650000010001026b310000fa00ff00000000003a0868"
		"6d61632d6d6435077369672d616c670372656703696e740000006553f100012c00107c988b86b317f88ffd97"
		"482cef5e8906123400000000",
		"123481000001000100000001026e73076578616d706c650000010001c00c0001000100000e100004c0000201"
		"026b310000fa00ff00000000003a08686d61632d6d6435077369672d616c670372656703696e740000006553"
		"f100012c00106f06acffc61ec6f39c71bf902ba39ee2123400000000" },
	{ CRYPTO_TSIG_HMAC_SHA1,
		"123401000001000000000001026e73076578616d706c650000010001026b310000fa00ff00000000002f0968"
		"6d61632d736861310000006553f100012c00143db209da9310f387684518b01693abeabb4a5b1c1234000000"
		"00",
		"123481000001000100000001026e73076578616d706c650000010001c00c0001000100000e100004c0000201"
		"026b310000fa00ff00000000002f09686d61632d736861310000006553f100012c0014e064964019e0170cae"
		"4b61cd64a0f8155428a3b4123400000000" },
	{ CRYPTO_TSIG_HMAC_SHA256,
		"123401000001000000000001026e73076578616d706c650000010001026b310000fa00ff00000000003d0b68"
		"6d61632d7368613235360000006553f100012c00205a5474ce743880927d0408a3c267800dc9d1c4e171dc53"
		"ec9aef8bb10c7e7d1d123400000000",
		"123481000001000100000001026e73076578616d706c650000010001c00c0001000100000e100004c0000201"
		"026b310000fa00ff00000000003d0b686d61632d7368613235360000006553f100012c00209fee1bddac246c"
		"4db804854a8bd6e1b3a909736941151c44ad22d0f980f1d4c5123400000000" },
	{ CRYPTO_TSIG_HMAC_SHA384,
		"123401000001000000000001026e73076578616d706c650000010001026b310000fa00ff00000000004d0b68"
		"6d61632d7368613338340000006553f100012c0030cea3db795998d3a879c5ef1972434423b4ab4b5ec796cd"
		"ab7ab549c8e272924eeaff2fbb5edb4153710a58ee26d3d2b6123400000000",
		"123481000001000100000001026e73076578616d706c650000010001c00c0001000100000e100004c0000201"
		"026b310000fa00ff00000000004d0b686d61632d7368613338340000006553f100012c0030d9423ee639bc70"
		"7a10e1ab88ca10b6f186bfba25ba603f50419ef55f2b8bc7d4631e89e12d42969cdaaab34f9b5ad7a6123400"
		"000000" },
	{ CRYPTO_TSIG_HMAC_SHA512,
		"123401000001000000000001026e73076578616d706c650000010001026b310000fa00ff00000000005d0b68"
		"6d61632d7368613531320000006553f100012c004018ecabdfd78cbb75d8e5cc411dfb1a14d73a796c732e6f"
		"787a59ee3245ee4692f36cc1ddc68587c570a04d188012cbca4369cede73e91e0537ca780c6d898b76123400"
		"000000",
		"123481000001000100000001026e73076578616d706c650000010001c00c0001000100000e100004c0000201"
		"026b310000fa00ff00000000005d0b686d61632d7368613531320000006553f100012c0040ab2c164323f6a8"
		"3651062bb17cf58466c80a3a8616f690d4c6b14197a52c2f66937762efc3af32daa8b754983b5aa55a50bd47"
		"9283319483a50aba3acdd6b96f123400000000" },
};
static const char axfr_query[] =
	"432101000001000000000001076578616d706c650000fc0001026b310000fa00ff00000000003d0b686d6163"
	"2d7368613235360000006553f100012c00208b72478eadbc2e63105ef7d7bc911963430d96b77879a0cee813"
	"8e4f2f66f549432100000000";
static const char *const axfr_stream[] = {
		"432181000001000100000001076578616d706c650000fc0001026830c00c0001000100000e100004c0000201"
		"026b310000fa00ff00000000003d0b686d61632d7368613235360000006553f100012c002068cec6cb34ef06"
		"ac2ba53e11502a20cfd1ae761105633770aa5cb653ac368367432100000000",
		"432181000001000100000001076578616d706c650000fc0001026831c00c0001000100000e100004c0000202"
		"026b310000fa00ff00000000003d0b686d61632d7368613235360000006553f100012c0020af91500d51fd62"
		"7cdbd24acaa838f1835bdf15f460967ad137f403e135840760432100000000",
		"432181000001000100000001076578616d706c650000fc0001026832c00c0001000100000e100004c0000203"
		"026b310000fa00ff00000000003d0b686d61632d7368613235360000006553f100012c002062f9b30f64781a"
		"fa7f76e4fdd788c36238212950ebcf1a9e5fd7413112f8cfe7432100000000",
};
/*
 * The same stream with its second message unsigned (RFC 8945 §5.3.1), the third MAC made by
 * Python's hmac over the prior MAC, the unsigned message, the third and the timers.
 */
static const char stream_unsigned[] =
	"432181000001000100000000076578616d706c650000fc0001026831c00c0001000100000e100004c0000202";
static const char stream_after_unsigned[] =
	"432181000001000100000001076578616d706c650000fc0001026832c00c0001000100000e100004c0000203"
	"026b310000fa00ff00000000003d0b686d61632d7368613235360000006553f100012c0020891da0eb47025c"
	"08b4252d1f7a5203ffbbbe74dda5a49a01af8abeb42bb800d6432100000000";

static void
key_for(struct crypto_tsig_key *key, enum crypto_tsig_alg alg)
{
	assert_int_equal(crypto_tsig_key_init(key, "K1", alg, SECRET), TDNS_OK);
}

/* The message without its TSIG: what we sign ourselves to compare with dnspython. */
static size_t
unsigned_part(uint8_t *pkt, size_t len)
{
	struct dns_tsig t;
	assert_int_equal(dns_tsig_find(pkt, len, &t), 1);
	tdns_put16(pkt + 10, (uint16_t)(tdns_get16(pkt + 10) - 1));
	return t.off;
}

static void
test_tsig_request_and_reply_match_dnspython_for_every_algorithm(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		struct crypto_tsig_key key;
		key_for(&key, vectors[i].alg);
		uint8_t q[512], r[512], mine[512];
		size_t qlen = unit_unhex(vectors[i].query, q), rlen = unit_unhex(vectors[i].reply, r);
		/* Server: the request verifies, and our signed reply is dnspython's, octet for octet. */
		struct dns_tsig t;
		assert_int_equal(dns_tsig_find(q, qlen, &t), 1);
		struct crypto_tsig_ctx srv;
		crypto_tsig_init(&srv, NULL);
		uint16_t error = 99;
		assert_int_equal(crypto_tsig_verify_request(&srv, &key, q, &t, NOW, &error),
				 TDNS_OK);
		assert_int_equal(error, 0);
		assert_ptr_equal(srv.key, &key);
		memcpy(mine, r, rlen);
		size_t base = unsigned_part(mine, rlen);
		assert_int_equal(crypto_tsig_sign(&srv, mine, base, sizeof(mine), NOW, 0), rlen);
		assert_memory_equal(mine, r, rlen);
		crypto_tsig_clear(&srv);
		/* Client: our signed request is dnspython's, and its reply verifies. */
		struct crypto_tsig_ctx cl;
		crypto_tsig_init(&cl, &key);
		memcpy(mine, q, qlen);
		base = unsigned_part(mine, qlen);
		assert_int_equal(crypto_tsig_sign(&cl, mine, base, sizeof(mine), NOW, 0), qlen);
		assert_memory_equal(mine, q, qlen);
		bool sig = false;
		assert_int_equal(crypto_tsig_verify_reply(&cl, r, rlen, false, NOW, &error, &sig),
				 TDNS_OK);
		assert_int_equal(error, 0);
		assert_true(sig);
		crypto_tsig_clear(&cl);
	}
}

static void
test_tsig_request_errors_follow_rfc8945_5_2(void **state)
{
	(void)state;
	struct crypto_tsig_key key, other;
	key_for(&key, CRYPTO_TSIG_HMAC_SHA256);
	uint8_t q[512];
	size_t qlen = unit_unhex(vectors[2].query, q);
	struct dns_tsig t;
	struct crypto_tsig_ctx ctx;
	crypto_tsig_init(&ctx, NULL);
	uint16_t error;
	assert_int_equal(dns_tsig_find(q, qlen, &t), 1);
	/* §5.2.1: an unknown name, or the right name with another algorithm: BADKEY. */
	assert_int_equal(crypto_tsig_key_init(&other, "k2", CRYPTO_TSIG_HMAC_SHA256, SECRET), 0);
	assert_int_equal(crypto_tsig_verify_request(&ctx, &other, q, &t, NOW, &error), 0);
	assert_int_equal(error, DNS_TSIG_BADKEY);
	key_for(&other, CRYPTO_TSIG_HMAC_SHA512);
	assert_int_equal(crypto_tsig_verify_request(&ctx, &other, q, &t, NOW, &error), 0);
	assert_int_equal(error, DNS_TSIG_BADKEY);
	/* §5.2.2: another secret: BADSIG, and no key for the reply (it goes unsigned). */
	assert_int_equal(crypto_tsig_key_init(&other, "k1", CRYPTO_TSIG_HMAC_SHA256,
					      "b3RoZXItc2VjcmV0"), 0);
	assert_int_equal(crypto_tsig_verify_request(&ctx, &other, q, &t, NOW, &error), 0);
	assert_int_equal(error, DNS_TSIG_BADSIG);
	assert_null(ctx.key);
	/* §5.2.3: outside the fudge: BADTIME, after the MAC checked (the reply is signed). */
	assert_int_equal(crypto_tsig_verify_request(&ctx, &key, q, &t, NOW + 301, &error),
			 0);
	assert_int_equal(error, DNS_TSIG_BADTIME);
	assert_ptr_equal(ctx.key, &key);
	assert_int_equal(crypto_tsig_verify_request(&ctx, &key, q, &t, NOW - 300, &error),
			 0);
	assert_int_equal(error, 0);
	/* The BADTIME reply carries our time in Other Data and verifies at the client. */
	assert_int_equal(crypto_tsig_verify_request(&ctx, &key, q, &t, NOW + 1000, &error),
			 0);
	uint8_t r[512];
	size_t rlen = unit_unhex(vectors[2].reply, r);
	rlen = unsigned_part(r, rlen);
	rlen = crypto_tsig_sign(&ctx, r, rlen, sizeof(r), NOW + 1000, DNS_TSIG_BADTIME);
	assert_true(rlen > 0);
	struct dns_tsig rt;
	assert_int_equal(dns_tsig_find(r, rlen, &rt), 1);
	assert_int_equal(rt.error, DNS_TSIG_BADTIME);
	assert_int_equal(rt.other_len, 6);
	assert_true(((uint64_t)tdns_get16(rt.other) << 32 | tdns_get32(rt.other + 2)) ==
		    NOW + 1000);
	struct crypto_tsig_ctx cl;
	crypto_tsig_init(&cl, &key);
	memcpy(cl.mac, t.mac, t.mac_len);
	cl.mac_len = t.mac_len;
	bool sig;
	assert_int_equal(crypto_tsig_verify_reply(&cl, r, rlen, false, NOW + 1000, &error, &sig), 0);
	assert_int_equal(error, DNS_TSIG_BADTIME);
	crypto_tsig_clear(&cl);
	/* §5.2.2.1: a MAC longer than the digest or below 16 octets is FORMERR ... */
	assert_int_equal(dns_tsig_find(q, qlen, &t), 1);
	t.mac_len = 15;
	assert_int_equal(crypto_tsig_verify_request(&ctx, &key, q, &t, NOW, &error),
			 TDNS_EMALFORMED);
	t.mac_len = 33;
	assert_int_equal(crypto_tsig_verify_request(&ctx, &key, q, &t, NOW, &error),
			 TDNS_EMALFORMED);
	/* ... and a good truncated MAC is BADTRUNC under our full-length policy (§5.2.4). */
	t.mac_len = 16;
	assert_int_equal(crypto_tsig_verify_request(&ctx, &key, q, &t, NOW, &error), 0);
	assert_int_equal(error, DNS_TSIG_BADTRUNC);
	crypto_tsig_clear(&ctx);
}

/* Verifies the dnspython request as a server and returns ctx ready to sign the stream. */
static void
serve_axfr(struct crypto_tsig_ctx *ctx, const struct crypto_tsig_key *key, uint8_t *q,
	   size_t *qlen)
{
	*qlen = unit_unhex(axfr_query, q);
	struct dns_tsig t;
	assert_int_equal(dns_tsig_find(q, *qlen, &t), 1);
	uint16_t error = 99;
	crypto_tsig_init(ctx, NULL);
	assert_int_equal(crypto_tsig_verify_request(ctx, key, q, &t, NOW, &error), 0);
	assert_int_equal(error, 0);
}

/*
 * The client of the dnspython AXFR request: key is k1 (HMAC-SHA256), cl holds the request's
 * MAC, ready for the reply stream.
 */
static void
axfr_client(struct crypto_tsig_ctx *cl, struct crypto_tsig_key *key)
{
	key_for(key, CRYPTO_TSIG_HMAC_SHA256);
	uint8_t q[512];
	size_t qlen;
	struct crypto_tsig_ctx srv;
	serve_axfr(&srv, key, q, &qlen);
	crypto_tsig_init(cl, key);
	memcpy(cl->mac, srv.mac, srv.mac_len);
	cl->mac_len = srv.mac_len;
	crypto_tsig_clear(&srv);
}

static void
test_tsig_stream_every_message_signed_matches_dnspython(void **state)
{
	(void)state;
	struct crypto_tsig_key key;
	key_for(&key, CRYPTO_TSIG_HMAC_SHA256);
	uint8_t q[512];
	size_t qlen;
	struct crypto_tsig_ctx srv, cl;
	serve_axfr(&srv, &key, q, &qlen);
	crypto_tsig_init(&cl, &key);
	struct dns_tsig t;
	assert_int_equal(dns_tsig_find(q, qlen, &t), 1);
	memcpy(cl.mac, t.mac, t.mac_len);
	cl.mac_len = t.mac_len;
	for (size_t i = 0; i < 3; i++) {
		uint8_t r[512], mine[512];
		size_t rlen = unit_unhex(axfr_stream[i], r);
		memcpy(mine, r, rlen);
		size_t base = unsigned_part(mine, rlen);
		assert_int_equal(crypto_tsig_sign(&srv, mine, base, sizeof(mine), NOW, 0), rlen);
		assert_memory_equal(mine, r, rlen);
		uint16_t error = 99;
		bool sig = false;
		assert_int_equal(crypto_tsig_verify_reply(&cl, r, rlen, true, NOW, &error, &sig), 0);
		assert_int_equal(error, 0);
		assert_true(sig);
	}
	crypto_tsig_clear(&srv);
	crypto_tsig_clear(&cl);
}

/* Verifies the stream message hex (its last octet flipped when flip); returns the error. */
static uint16_t
stream_verify(struct crypto_tsig_ctx *cl, const char *hex, bool flip, bool *sig)
{
	uint8_t r[512];
	size_t rlen = unit_unhex(hex, r);
	r[rlen - 1] ^= flip ? 1 : 0;
	uint16_t error = 99;
	assert_int_equal(crypto_tsig_verify_reply(cl, r, rlen, true, NOW, &error, sig), 0);
	return error;
}

static void
test_tsig_stream_accepts_unsigned_messages_between_signed_ones(void **state)
{
	(void)state;
	struct crypto_tsig_key key;
	struct crypto_tsig_ctx cl;
	axfr_client(&cl, &key);
	bool sig;
	/* The first message must be signed. */
	assert_int_equal(stream_verify(&cl, stream_unsigned, false, &sig), DNS_TSIG_BADSIG);
	assert_int_equal(stream_verify(&cl, axfr_stream[0], false, &sig), 0);
	assert_int_equal(stream_verify(&cl, stream_unsigned, false, &sig), 0);
	assert_false(sig);
	assert_int_equal(stream_verify(&cl, stream_after_unsigned, false, &sig), 0);
	assert_true(sig);
	/* A flipped octet in the unsigned part makes the next MAC fail. */
	assert_int_equal(stream_verify(&cl, stream_unsigned, true, &sig), 0);
	assert_int_equal(stream_verify(&cl, stream_after_unsigned, false, &sig), DNS_TSIG_BADSIG);
	crypto_tsig_clear(&cl);
}

static void
test_tsig_stream_refuses_a_hundredth_unsigned_message(void **state)
{
	(void)state;
	struct crypto_tsig_key key;
	struct crypto_tsig_ctx cl;
	axfr_client(&cl, &key);
	bool sig;
	assert_int_equal(stream_verify(&cl, axfr_stream[0], false, &sig), 0);
	for (unsigned i = 0; i < CRYPTO_TSIG_UNSIGNED_MAX; i++) {
		assert_int_equal(stream_verify(&cl, stream_unsigned, false, &sig), 0);
	}
	assert_int_equal(stream_verify(&cl, stream_unsigned, false, &sig), DNS_TSIG_BADSIG);
	/* Outside a stream an unsigned reply to a signed request is refused at once. */
	struct crypto_tsig_ctx one;
	crypto_tsig_init(&one, &key);
	one.mac_len = 32;
	uint8_t r[512];
	size_t rlen = unit_unhex(stream_unsigned, r);
	uint16_t error;
	assert_int_equal(crypto_tsig_verify_reply(&one, r, rlen, false, NOW, &error, &sig), 0);
	assert_int_equal(error, DNS_TSIG_BADSIG);
	crypto_tsig_clear(&one);
	crypto_tsig_clear(&cl);
}

static void
test_tsig_algorithm_names_and_secrets_parse(void **state)
{
	(void)state;
	assert_int_equal(crypto_tsig_alg_parse("hmac-sha256"), CRYPTO_TSIG_HMAC_SHA256);
	assert_int_equal(crypto_tsig_alg_parse("HMAC-SHA512."), CRYPTO_TSIG_HMAC_SHA512);
	assert_int_equal(crypto_tsig_alg_parse("hmac-md5"), CRYPTO_TSIG_HMAC_MD5);
	assert_int_equal(crypto_tsig_alg_parse("hmac-md5.sig-alg.reg.int"), CRYPTO_TSIG_HMAC_MD5);
	assert_int_equal(crypto_tsig_alg_parse("hmac-sha224"), -1);
	assert_string_equal(crypto_tsig_alg_text(CRYPTO_TSIG_HMAC_SHA1), "hmac-sha1");
	struct crypto_tsig_key key;
	assert_int_equal(crypto_tsig_key_init(&key, "k", CRYPTO_TSIG_HMAC_SHA1, "YWJj"), TDNS_OK);
	assert_int_equal(key.secret_len, 3);
	assert_int_equal(crypto_tsig_key_init(&key, "k", CRYPTO_TSIG_HMAC_SHA1, "YWI= "), TDNS_OK);
	assert_int_equal(key.secret_len, 2);
	assert_memory_equal(key.secret, "ab", 2);
	assert_int_equal(crypto_tsig_key_init(&key, "k", CRYPTO_TSIG_HMAC_SHA1, "YW Jj"), TDNS_OK);
	assert_int_equal(crypto_tsig_key_init(&key, "k", CRYPTO_TSIG_HMAC_SHA1, "YWJ"), TDNS_EINVAL);
	assert_int_equal(crypto_tsig_key_init(&key, "k", CRYPTO_TSIG_HMAC_SHA1, "Y=Jj"),
			 TDNS_EINVAL);
	assert_int_equal(crypto_tsig_key_init(&key, "k", CRYPTO_TSIG_HMAC_SHA1, "YW!j"),
			 TDNS_EINVAL);
	assert_int_equal(crypto_tsig_key_init(&key, "k", CRYPTO_TSIG_HMAC_SHA1, ""), TDNS_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tsig_request_and_reply_match_dnspython_for_every_algorithm),
		cmocka_unit_test(test_tsig_request_errors_follow_rfc8945_5_2),
		cmocka_unit_test(test_tsig_stream_every_message_signed_matches_dnspython),
		cmocka_unit_test(test_tsig_stream_accepts_unsigned_messages_between_signed_ones),
		cmocka_unit_test(test_tsig_stream_refuses_a_hundredth_unsigned_message),
		cmocka_unit_test(test_tsig_algorithm_names_and_secrets_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
