/* SPDX-License-Identifier: MIT */
/* TSIG (RFC 8945): HMAC signing and verification of requests, replies and reply streams. */
#include "config.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "crypto/crypto.h"

static const struct {
	const char *text;
	const char *digest;           /* OpenSSL's name */
	const uint8_t *wire;
	size_t size;
} algs[] = {
	[CRYPTO_TSIG_HMAC_MD5] = { "hmac-md5", "MD5",
				   (const uint8_t *)"\010hmac-md5\007sig-alg\003reg\003int", 16 },
	[CRYPTO_TSIG_HMAC_SHA1] = { "hmac-sha1", "SHA1", (const uint8_t *)"\011hmac-sha1", 20 },
	[CRYPTO_TSIG_HMAC_SHA256] = { "hmac-sha256", "SHA256",
				      (const uint8_t *)"\013hmac-sha256", 32 },
	[CRYPTO_TSIG_HMAC_SHA384] = { "hmac-sha384", "SHA384",
				      (const uint8_t *)"\013hmac-sha384", 48 },
	[CRYPTO_TSIG_HMAC_SHA512] = { "hmac-sha512", "SHA512",
				      (const uint8_t *)"\013hmac-sha512", 64 },
};
#define NALGS (sizeof(algs) / sizeof(algs[0]))

int
crypto_tsig_alg_parse(const char *text)
{
	static const uint8_t root[1] = { 0 };
	uint8_t wire[DNS_NAME_MAX];
	if (dns_name_from_text(text, strlen(text), root, wire) < 0) {
		return -1;
	}
	for (size_t i = 0; i < NALGS; i++) {
		if (strcasecmp(text, algs[i].text) == 0 || dns_name_eq(wire, algs[i].wire)) {
			return (int)i;
		}
	}
	return -1;
}

const char *
crypto_tsig_alg_text(enum crypto_tsig_alg alg)
{
	return algs[alg].text;
}

const uint8_t *
crypto_tsig_alg_wire(enum crypto_tsig_alg alg)
{
	return algs[alg].wire;
}

size_t
crypto_tsig_mac_size(enum crypto_tsig_alg alg)
{
	return algs[alg].size;
}

size_t
crypto_tsig_size(const struct crypto_tsig_key *key, uint16_t error)
{
	if (key == NULL) {
		return 0;
	}
	/* Owner, type to rdlength, algorithm, timers and MAC size, MAC, ID to other length. */
	return dns_name_len(key->name) + 10 + dns_name_len(algs[key->alg].wire) + 10 +
	       algs[key->alg].size + 6 + (error == DNS_TSIG_BADTIME ? 6 : 0);
}

int
crypto_tsig_key_init(struct crypto_tsig_key *key, const char *name, enum crypto_tsig_alg alg,
		     const char *secret_b64)
{
	static const uint8_t root[1] = { 0 };
	memset(key, 0, sizeof(*key));
	if (dns_name_from_text(name, strlen(name), root, key->name) < 0) {
		return TDNS_EBADTEXT;
	}
	dns_name_lower(key->name);
	key->alg = alg;
	/* Blanks may split a long secret (BIND's and Knot's files allow it). */
	char clean[CRYPTO_TSIG_SECRET_MAX * 4 / 3 + 8];
	size_t n = 0, pad = 0;
	for (const char *p = secret_b64; *p != '\0'; p++) {
		if (isspace((unsigned char)*p)) {
			continue;
		}
		if (n + 1 >= sizeof(clean)) {
			return TDNS_EINVAL;
		}
		bool b64 = isalnum((unsigned char)*p) || *p == '+' || *p == '/';
		if ((!b64 && *p != '=') || (b64 && pad > 0)) {
			return TDNS_EINVAL;
		}
		pad += *p == '=';
		clean[n++] = *p;
	}
	if (n == 0 || n % 4 != 0 || pad > 2) {
		return TDNS_EINVAL;
	}
	clean[n] = '\0';
	uint8_t buf[sizeof(clean)];
	int m = EVP_DecodeBlock(buf, (const unsigned char *)clean, (int)n);
	if (m < 0 || (size_t)m < pad || (size_t)m - pad > CRYPTO_TSIG_SECRET_MAX ||
	    (size_t)m == pad) {
		OPENSSL_cleanse(buf, sizeof(buf));
		return TDNS_EINVAL;
	}
	key->secret_len = (size_t)m - pad;
	memcpy(key->secret, buf, key->secret_len);
	OPENSSL_cleanse(buf, sizeof(buf));
	OPENSSL_cleanse(clean, sizeof(clean));
	return TDNS_OK;
}

/* A keyed digest with key, or NULL when OpenSSL fails. */
static EVP_MAC_CTX *
mac_new(const struct crypto_tsig_key *key)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (mac == NULL) {
		return NULL;
	}
	EVP_MAC_CTX *m = EVP_MAC_CTX_new(mac);
	EVP_MAC_free(mac);
	if (m == NULL) {
		return NULL;
	}
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						 (char *)algs[key->alg].digest, 0),
		OSSL_PARAM_construct_end(),
	};
	if (EVP_MAC_init(m, key->secret, key->secret_len, params) != 1) {
		EVP_MAC_CTX_free(m);
		return NULL;
	}
	return m;
}

static bool
mac_put(EVP_MAC_CTX *m, const void *p, size_t n)
{
	return EVP_MAC_update(m, p, n) == 1;
}

static bool
mac_put16(EVP_MAC_CTX *m, uint16_t v)
{
	uint8_t b[2];
	tdns_put16(b, v);
	return mac_put(m, b, 2);
}

/* The prior MAC as it enters the next digest: its size, then the MAC (RFC 8945 §4.3.1). */
static bool
mac_put_prior(EVP_MAC_CTX *m, const struct crypto_tsig_ctx *ctx)
{
	return mac_put16(m, (uint16_t)ctx->mac_len) && mac_put(m, ctx->mac, ctx->mac_len);
}

/*
 * A message without its TSIG (RFC 8945 §4.3.2): the header with the original ID and ARCOUNT
 * one less, then everything up to the TSIG RR at tsig_off.
 */
static bool
mac_put_msg(EVP_MAC_CTX *m, const uint8_t *pkt, size_t tsig_off, uint16_t orig_id)
{
	uint8_t hdr[DNS_HDR_LEN];
	memcpy(hdr, pkt, DNS_HDR_LEN);
	tdns_put16(hdr, orig_id);
	tdns_put16(hdr + 10, (uint16_t)(tdns_get16(hdr + 10) - 1));
	return mac_put(m, hdr, DNS_HDR_LEN) && mac_put(m, pkt + DNS_HDR_LEN, tsig_off - DNS_HDR_LEN);
}

/* The time signed and fudge (RFC 8945 §4.3.3: the timers, all a later stream message signs). */
static bool
mac_put_timers(EVP_MAC_CTX *m, uint64_t time_signed, uint16_t fudge)
{
	uint8_t b[8];
	tdns_put16(b, (uint16_t)(time_signed >> 32));
	tdns_put32(b + 2, (uint32_t)time_signed);
	tdns_put16(b + 6, fudge);
	return mac_put(m, b, 8);
}

/* The TSIG variables (RFC 8945 §4.3.3), names in canonical form. */
static bool
mac_put_vars(EVP_MAC_CTX *m, const struct crypto_tsig_key *key, uint64_t time_signed,
	     uint16_t fudge, uint16_t error, const uint8_t *other, uint16_t other_len)
{
	uint8_t b[6];
	tdns_put16(b, DNS_CLASS_ANY);
	tdns_put32(b + 2, 0);
	const uint8_t *alg = algs[key->alg].wire;
	return mac_put(m, key->name, dns_name_len(key->name)) && mac_put(m, b, 6) &&
	       mac_put(m, alg, dns_name_len(alg)) && mac_put_timers(m, time_signed, fudge) &&
	       mac_put16(m, error) && mac_put16(m, other_len) && mac_put(m, other, other_len);
}

static bool
mac_final(EVP_MAC_CTX *m, uint8_t *out, size_t *outlen)
{
	return EVP_MAC_final(m, out, outlen, CRYPTO_TSIG_MAC_MAX) == 1;
}

void
crypto_tsig_init(struct crypto_tsig_ctx *ctx, const struct crypto_tsig_key *key)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->key = key;
	ctx->fudge = CRYPTO_TSIG_FUDGE;
}

void
crypto_tsig_clear(struct crypto_tsig_ctx *ctx)
{
	EVP_MAC_CTX_free(ctx->acc);
	ctx->acc = NULL;
	OPENSSL_cleanse(ctx->mac, sizeof(ctx->mac));
}

/*
 * Computes the MAC of the signed message pkt (TSIG t at t->off) as the digest for this
 * position of the exchange asks: request, first reply, or later message of a stream
 * (continuing acc over the unsigned messages before it when there is one).
 */
static bool
compute(struct crypto_tsig_ctx *ctx, const uint8_t *pkt, const struct dns_tsig *t,
	bool timers_only, uint8_t *out, size_t *outlen)
{
	EVP_MAC_CTX *m = ctx->acc;
	ctx->acc = NULL;
	if (m == NULL) {
		m = mac_new(ctx->key);
		if (m == NULL || (ctx->mac_len > 0 && !mac_put_prior(m, ctx))) {
			EVP_MAC_CTX_free(m);
			return false;
		}
	}
	bool ok = mac_put_msg(m, pkt, t->off, t->orig_id) &&
		  (timers_only ? mac_put_timers(m, t->time_signed, t->fudge)
			       : mac_put_vars(m, ctx->key, t->time_signed, t->fudge, t->error,
					      t->other, t->other_len)) &&
		  mac_final(m, out, outlen);
	EVP_MAC_CTX_free(m);
	return ok;
}

/* RFC 8945 §5.2.2.1: a MAC longer than the digest, or shorter than both 10 and half of it. */
static bool
mac_size_ok(const struct crypto_tsig_key *key, uint16_t mac_len)
{
	size_t full = algs[key->alg].size, half = full / 2;
	return mac_len <= full && mac_len >= (half > 10 ? half : 10);
}

/* RFC 8945 §5.2.3: signed within fudge seconds of now, either way. */
static bool
time_ok(const struct dns_tsig *t, uint64_t now)
{
	uint64_t d = now > t->time_signed ? now - t->time_signed : t->time_signed - now;
	return d <= t->fudge;
}

int
crypto_tsig_verify_request(struct crypto_tsig_ctx *ctx, const struct crypto_tsig_key *key,
			   const uint8_t *pkt, const struct dns_tsig *t, uint64_t now,
			   uint16_t *error)
{
	ctx->key = NULL;
	ctx->mac_len = 0;
	ctx->nmsg = 0;
	/* §5.2.1: the key must be known by name and algorithm. */
	if (key != NULL && dns_name_eq(t->key, key->name) &&
	    dns_name_eq(t->alg, algs[key->alg].wire)) {
		ctx->key = key;
	}
	if (ctx->key == NULL) {
		*error = DNS_TSIG_BADKEY;
		return TDNS_OK;
	}
	if (!mac_size_ok(ctx->key, t->mac_len)) {
		ctx->key = NULL;
		return TDNS_EMALFORMED;
	}
	uint8_t mac[CRYPTO_TSIG_MAC_MAX];
	size_t maclen = 0;
	if (!compute(ctx, pkt, t, false, mac, &maclen) ||
	    CRYPTO_memcmp(mac, t->mac, t->mac_len) != 0) {
		/* §5.2.2: BADSIG, and the reply is not signed (the key may be wrong). */
		ctx->key = NULL;
		*error = DNS_TSIG_BADSIG;
		return TDNS_OK;
	}
	/* The reply is chained to the MAC as received (§5.3: the request MAC). */
	memcpy(ctx->mac, t->mac, t->mac_len);
	ctx->mac_len = t->mac_len;
	if (!time_ok(t, now)) {
		*error = DNS_TSIG_BADTIME;
	} else if (t->mac_len < algs[ctx->key->alg].size) {
		/* §5.2.4: our policy accepts only full-length MACs. */
		*error = DNS_TSIG_BADTRUNC;
	} else {
		*error = 0;
	}
	return TDNS_OK;
}

size_t
crypto_tsig_sign(struct crypto_tsig_ctx *ctx, uint8_t *msg, size_t len, size_t limit,
		 uint64_t now, uint16_t error)
{
	const struct crypto_tsig_key *key = ctx->key;
	size_t ms = algs[key->alg].size;
	/* §5.2.3: BADTIME tells the client our time in Other Data. */
	uint8_t other[6];
	uint16_t other_len = 0;
	if (error == DNS_TSIG_BADTIME) {
		tdns_put16(other, (uint16_t)(now >> 32));
		tdns_put32(other + 2, (uint32_t)now);
		other_len = 6;
	}
	if (len < DNS_HDR_LEN || len > limit || limit - len < crypto_tsig_size(key, error)) {
		return 0;
	}
	/* A request has no prior MAC; a reply's later messages sign the timers only (§5.3.1). */
	bool request = ctx->mac_len == 0, timers_only = !request && ctx->nmsg > 0;
	EVP_MAC_CTX *m = mac_new(key);
	uint8_t mac[CRYPTO_TSIG_MAC_MAX];
	size_t maclen = 0;
	bool ok = m != NULL && (ctx->mac_len == 0 || mac_put_prior(m, ctx)) &&
		  mac_put(m, msg, len) &&
		  (timers_only ? mac_put_timers(m, now, ctx->fudge)
			       : mac_put_vars(m, key, now, ctx->fudge, error, other, other_len)) &&
		  mac_final(m, mac, &maclen);
	EVP_MAC_CTX_free(m);
	if (!ok || maclen != ms) {
		return 0;
	}
	struct dns_tsig t = {
		.time_signed = now, .fudge = ctx->fudge, .mac_len = (uint16_t)ms, .mac = mac,
		.orig_id = tdns_get16(msg), /* the message's own ID */
		.error = error, .other_len = other_len, .other = other,
	};
	memcpy(t.key, key->name, dns_name_len(key->name));
	memcpy(t.alg, algs[key->alg].wire, dns_name_len(algs[key->alg].wire));
	size_t n = dns_tsig_append(msg, len, limit, &t);
	if (n == 0) {
		return 0;
	}
	memcpy(ctx->mac, mac, ms);
	ctx->mac_len = ms;
	ctx->nmsg += request ? 0 : 1;
	return n;
}

int
crypto_tsig_verify_reply(struct crypto_tsig_ctx *ctx, const uint8_t *pkt, size_t len,
			 bool stream, uint64_t now, uint16_t *error, bool *sig)
{
	struct dns_tsig t;
	*error = 0;
	*sig = false;
	int r = dns_tsig_find(pkt, len, &t);
	if (r < 0) {
		return TDNS_EMALFORMED;
	}
	if (r == 0) {
		/* §5.3.1: only between signed messages of a stream, and at most 99 in a row. */
		if (!stream || ctx->nmsg == 0 || ctx->nunsigned >= CRYPTO_TSIG_UNSIGNED_MAX) {
			*error = DNS_TSIG_BADSIG;
			return TDNS_OK;
		}
		if (ctx->acc == NULL) {
			ctx->acc = mac_new(ctx->key);
			if (ctx->acc == NULL || !mac_put_prior(ctx->acc, ctx)) {
				return TDNS_ENOMEM;
			}
		}
		if (!mac_put(ctx->acc, pkt, len)) {
			return TDNS_ENOMEM;
		}
		ctx->nunsigned++;
		return TDNS_OK;
	}
	*sig = true;
	if (!dns_name_eq(t.key, ctx->key->name) || !dns_name_eq(t.alg, algs[ctx->key->alg].wire)) {
		*error = DNS_TSIG_BADKEY;
		return TDNS_OK;
	}
	if (t.error != 0 && t.mac_len == 0) {
		/* §5.3.2: the server could not check our request; it reports why, unsigned. */
		*error = t.error;
		return TDNS_OK;
	}
	if (!mac_size_ok(ctx->key, t.mac_len)) {
		return TDNS_EMALFORMED;
	}
	uint8_t mac[CRYPTO_TSIG_MAC_MAX];
	size_t maclen = 0;
	if (!compute(ctx, pkt, &t, stream && ctx->nmsg > 0, mac, &maclen) ||
	    CRYPTO_memcmp(mac, t.mac, t.mac_len) != 0) {
		*error = DNS_TSIG_BADSIG;
		return TDNS_OK;
	}
	memcpy(ctx->mac, t.mac, t.mac_len);
	ctx->mac_len = t.mac_len;
	ctx->nmsg++;
	ctx->nunsigned = 0;
	if (t.error != 0) {
		*error = t.error;
	} else if (!time_ok(&t, now)) {
		*error = DNS_TSIG_BADTIME;
	}
	return TDNS_OK;
}
