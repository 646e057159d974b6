/* SPDX-License-Identifier: MIT */
/* DNSKEY and DS: key tags, DS digests, algorithm tables and public keys as libcrypto keys. */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "dnssec/dnssec.h"
#include "dnssec/dnssec_int.h"

struct dnssec_work dnssec_work;

static const char *const result_str[] = {
	[DNSSEC_OK] = "ok",
	[DNSSEC_BOGUS] = "bogus",
	[DNSSEC_EXPIRED] = "expired",
	[DNSSEC_NOT_YET_VALID] = "not-yet-valid",
	[DNSSEC_KEY_MISMATCH] = "key-mismatch",
	[DNSSEC_MALFORMED] = "malformed",
	[DNSSEC_UNSUPPORTED_ALG] = "unsupported-algorithm",
	[DNSSEC_UNSUPPORTED_DIGEST] = "unsupported-digest",
	[DNSSEC_UNSUPPORTED_NSEC3] = "unsupported-nsec3",
	[DNSSEC_BUDGET] = "budget-exceeded",
	[DNSSEC_ERROR] = "error",
};

const char *
dnssec_result_str(enum dnssec_result r)
{
	if ((size_t)r >= sizeof(result_str) / sizeof(result_str[0]) || result_str[r] == NULL) {
		return "unknown";
	}
	return result_str[r];
}

int
dnssec_result_ede(enum dnssec_result r)
{
	switch (r) {
	case DNSSEC_OK:
	case DNSSEC_UNSUPPORTED_NSEC3:
		return -1;
	case DNSSEC_UNSUPPORTED_ALG:
		return DNS_EDE_UNSUPPORTED_DNSKEY_ALG;
	case DNSSEC_UNSUPPORTED_DIGEST:
		return DNS_EDE_UNSUPPORTED_DS_DIGEST;
	case DNSSEC_EXPIRED:
		return DNS_EDE_SIGNATURE_EXPIRED;
	case DNSSEC_NOT_YET_VALID:
		return DNS_EDE_SIGNATURE_NOT_YET_VALID;
	case DNSSEC_BUDGET:
	case DNSSEC_ERROR:
		return DNS_EDE_DNSSEC_INDETERMINATE;
	default:
		return DNS_EDE_DNSSEC_BOGUS;
	}
}

void
dnssec_budget_init(struct dnssec_budget *b, uint32_t verify_max, uint32_t hash_max)
{
	*b = (struct dnssec_budget){ .verify_max = verify_max, .hash_max = hash_max };
}

/* ------------------------------------------------------------------------------------------ */

const struct dnssec_algdef *
dnssec_algdef(uint8_t alg)
{
	static const struct dnssec_algdef defs[] = {
		{ DNSSEC_ALG_RSASHA1, DNSSEC_KT_RSA, "SHA1", 0 },
		{ DNSSEC_ALG_RSASHA1_NSEC3_SHA1, DNSSEC_KT_RSA, "SHA1", 0 },
		{ DNSSEC_ALG_RSASHA256, DNSSEC_KT_RSA, "SHA256", 0 },
		{ DNSSEC_ALG_RSASHA512, DNSSEC_KT_RSA, "SHA512", 0 },
		{ DNSSEC_ALG_ECDSAP256SHA256, DNSSEC_KT_EC, "SHA256", 32 },
		{ DNSSEC_ALG_ECDSAP384SHA384, DNSSEC_KT_EC, "SHA384", 48 },
		{ DNSSEC_ALG_ED25519, DNSSEC_KT_EDDSA, NULL, 32 },
		{ DNSSEC_ALG_ED448, DNSSEC_KT_EDDSA, NULL, 57 },
	};
	for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++) {
		if (defs[i].alg == alg) {
			return &defs[i];
		}
	}
	return NULL;
}

bool
dnssec_alg_supported(uint8_t alg)
{
	return dnssec_algdef(alg) != NULL;
}

static const char *
digest_md(uint8_t digest)
{
	switch (digest) {
	case DNSSEC_DIGEST_SHA1:
		return "SHA1";
	case DNSSEC_DIGEST_SHA256:
		return "SHA256";
	case DNSSEC_DIGEST_SHA384:
		return "SHA384";
	default:
		return NULL;
	}
}

bool
dnssec_digest_supported(uint8_t digest)
{
	return digest_md(digest) != NULL;
}

size_t
dnssec_digest_len(uint8_t digest)
{
	switch (digest) {
	case DNSSEC_DIGEST_SHA1:
		return 20;
	case DNSSEC_DIGEST_SHA256:
		return 32;
	case DNSSEC_DIGEST_SHA384:
		return 48;
	default:
		return 0;
	}
}

/* ------------------------------------------------------------------------------------------ */

int
dnssec_dnskey_parse(const uint8_t *rd, size_t rdlen, struct dnssec_dnskey *k)
{
	if (rdlen < 5) {
		return TDNS_EMALFORMED;
	}
	k->flags = (uint16_t)(rd[0] << 8 | rd[1]);
	k->protocol = rd[2];
	k->alg = rd[3];
	k->pub = rd + 4;
	k->pub_len = rdlen - 4;
	return TDNS_OK;
}

uint16_t
dnssec_key_tag(const uint8_t *rd, size_t rdlen)
{
	/* RFC 4034 Appendix B.1: RSA/MD5 keys use the modulus' next-to-last two octets. */
	if (rdlen >= 7 && rd[3] == 1) {
		return (uint16_t)(rd[rdlen - 3] << 8 | rd[rdlen - 2]);
	}
	/* RFC 4034 Appendix B: ones-complement-like sum of the rdata as 16-bit words. */
	uint32_t ac = 0;
	for (size_t i = 0; i < rdlen; i++) {
		ac += (i & 1) ? rd[i] : (uint32_t)rd[i] << 8;
	}
	ac += (ac >> 16) & 0xffff;
	return (uint16_t)(ac & 0xffff);
}

int
dnssec_ds_parse(const uint8_t *rd, size_t rdlen, struct dnssec_ds *ds)
{
	if (rdlen < 5) {
		return TDNS_EMALFORMED;
	}
	ds->key_tag = (uint16_t)(rd[0] << 8 | rd[1]);
	ds->alg = rd[2];
	ds->digest_type = rd[3];
	ds->digest = rd + 4;
	ds->digest_len = rdlen - 4;
	return TDNS_OK;
}

enum dnssec_result
dnssec_ds_digest(const uint8_t *owner, const uint8_t *dnskey, size_t dnskey_len,
		 uint8_t digest_type, uint8_t *out, size_t *outlen)
{
	const char *md = digest_md(digest_type);
	if (md == NULL) {
		return DNSSEC_UNSUPPORTED_DIGEST;
	}
	if (dnskey_len > DNS_RDATA_MAX || dns_name_check(owner, DNS_NAME_MAX) < 0) {
		return DNSSEC_MALFORMED;
	}
	/* RFC 4034 §5.1.4: digest = hash(canonical owner name | DNSKEY rdata). */
	uint8_t name[DNS_NAME_MAX];
	size_t nlen = dns_name_len(owner);
	memcpy(name, owner, nlen);
	dns_name_lower(name);
	unsigned int len = 0;
	DNSSEC_WORK(digest, 1);
	EVP_MD *alg = EVP_MD_fetch(NULL, md, NULL);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool ok = alg != NULL && ctx != NULL && EVP_DigestInit_ex(ctx, alg, NULL) == 1 &&
		  EVP_DigestUpdate(ctx, name, nlen) == 1 &&
		  EVP_DigestUpdate(ctx, dnskey, dnskey_len) == 1 &&
		  EVP_DigestFinal_ex(ctx, out, &len) == 1;
	EVP_MD_CTX_free(ctx);
	EVP_MD_free(alg);
	if (!ok) {
		return DNSSEC_ERROR;
	}
	*outlen = len;
	return DNSSEC_OK;
}

enum dnssec_result
dnssec_ds_match(const uint8_t *owner, const uint8_t *ds, size_t ds_len, const uint8_t *dnskey,
		size_t dnskey_len)
{
	struct dnssec_ds d;
	struct dnssec_dnskey k;
	if (dnssec_ds_parse(ds, ds_len, &d) != TDNS_OK ||
	    dnssec_dnskey_parse(dnskey, dnskey_len, &k) != TDNS_OK) {
		return DNSSEC_MALFORMED;
	}
	if (!dnssec_digest_supported(d.digest_type)) {
		return DNSSEC_UNSUPPORTED_DIGEST;
	}
	if (!dnssec_alg_supported(d.alg)) {
		return DNSSEC_UNSUPPORTED_ALG;
	}
	if (d.key_tag != dnssec_key_tag(dnskey, dnskey_len) || d.alg != k.alg) {
		return DNSSEC_KEY_MISMATCH;
	}
	/* RFC 4034 §5.2: the key must be a zone key of protocol 3. */
	if (!(k.flags & DNSSEC_DNSKEY_ZONE) || k.protocol != 3) {
		return DNSSEC_KEY_MISMATCH;
	}
	if (d.digest_len != dnssec_digest_len(d.digest_type)) {
		return DNSSEC_MALFORMED;
	}
	uint8_t dig[DNSSEC_DIGEST_MAX];
	size_t dlen;
	enum dnssec_result r = dnssec_ds_digest(owner, dnskey, dnskey_len, d.digest_type, dig,
						&dlen);
	if (r != DNSSEC_OK) {
		return r;
	}
	return CRYPTO_memcmp(dig, d.digest, dlen) == 0 ? DNSSEC_OK : DNSSEC_BOGUS;
}

/* ------------------------------------------------------------------------------------------ */
/* Public keys into EVP_PKEY.                                                                  */

struct dnssec_key {
	uint8_t owner[DNS_NAME_MAX];
	uint16_t tag;
	uint16_t flags;
	uint8_t protocol;
	uint8_t alg;
	EVP_PKEY *pkey;
};

/* Builds a key from OSSL_PARAMs made by fill (NULL on failure). */
static EVP_PKEY *
pkey_from_params(const char *type, OSSL_PARAM_BLD *bld)
{
	EVP_PKEY *pkey = NULL;
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	if (params != NULL && ctx != NULL && EVP_PKEY_fromdata_init(ctx) == 1 &&
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		pkey = NULL;
	}
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return pkey;
}

#define RSA_EXP_BITS_MAX 35

/* RFC 3110 §2: exponent length (1 octet, or 0 and 2 octets), exponent, modulus. */
static EVP_PKEY *
rsa_key(const uint8_t *p, size_t len)
{
	size_t elen, off;
	if (len < 1) {
		return NULL;
	}
	if (p[0] != 0) {
		elen = p[0];
		off = 1;
	} else {
		if (len < 3) {
			return NULL;
		}
		elen = (size_t)p[1] << 8 | p[2];
		off = 3;
	}
	/* RFC 3110 / RFC 5702: modulus 512-4096 bits, no leading zero exponent octet. */
	if (elen == 0 || elen > len - off || len - off - elen < 64 || len - off - elen > 512 ||
	    p[off] == 0) {
		return NULL;
	}
	size_t mlen = len - off - elen;
	BIGNUM *e = BN_bin2bn(p + off, (int)elen, NULL);
	BIGNUM *n = BN_bin2bn(p + off + elen, (int)mlen, NULL);
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	EVP_PKEY *pkey = NULL;
	/*
	 * A huge public exponent makes every verification as slow as signing: a cheap way to
	 * burn a validator's CPU.  Real keys use 3 or 65537; cap at 35 bits as BIND does.
	 */
	if (e != NULL && n != NULL && bld != NULL && BN_num_bits(e) <= RSA_EXP_BITS_MAX &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) == 1 &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) == 1) {
		pkey = pkey_from_params("RSA", bld);
	}
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	return pkey;
}

/* RFC 6605 §4: the point's x and y, each of the curve's size, without the 0x04 prefix. */
static EVP_PKEY *
ec_key(const char *curve, size_t size, const uint8_t *p, size_t len)
{
	if (len != 2 * size) {
		return NULL;
	}
	uint8_t pt[1 + 2 * 48];
	pt[0] = 0x04;
	memcpy(pt + 1, p, len);
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	EVP_PKEY *pkey = NULL;
	if (bld != NULL &&
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, curve, 0) == 1 &&
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, 1 + len) == 1) {
		pkey = pkey_from_params("EC", bld);
	}
	OSSL_PARAM_BLD_free(bld);
	if (pkey != NULL) {
		/* fromdata does not check that the point is on the curve; a check ctx does. */
		EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
		bool ok = c != NULL && EVP_PKEY_public_check(c) == 1;
		EVP_PKEY_CTX_free(c);
		if (!ok) {
			EVP_PKEY_free(pkey);
			pkey = NULL;
		}
	}
	return pkey;
}

enum dnssec_result
dnssec_key_new(const uint8_t *owner, const uint8_t *rd, size_t rdlen, struct dnssec_key **out)
{
	struct dnssec_dnskey dk;
	if (dns_name_check(owner, DNS_NAME_MAX) < 0 || dnssec_dnskey_parse(rd, rdlen, &dk) != 0) {
		return DNSSEC_MALFORMED;
	}
	const struct dnssec_algdef *def = dnssec_algdef(dk.alg);
	if (def == NULL) {
		return DNSSEC_UNSUPPORTED_ALG;
	}
	EVP_PKEY *pkey = NULL;
	switch (def->kind) {
	case DNSSEC_KT_RSA:
		pkey = rsa_key(dk.pub, dk.pub_len);
		break;
	case DNSSEC_KT_EC:
		pkey = ec_key(def->size == 32 ? "P-256" : "P-384", def->size, dk.pub, dk.pub_len);
		break;
	case DNSSEC_KT_EDDSA:
		/* RFC 8080 §3: the raw public key. */
		if (dk.pub_len == def->size) {
			pkey = EVP_PKEY_new_raw_public_key(dk.alg == DNSSEC_ALG_ED25519 ?
							       EVP_PKEY_ED25519 : EVP_PKEY_ED448,
							   NULL, dk.pub, dk.pub_len);
		}
		break;
	}
	if (pkey == NULL) {
		return DNSSEC_MALFORMED;
	}
	struct dnssec_key *k = calloc(1, sizeof(*k));
	if (k == NULL) {
		EVP_PKEY_free(pkey);
		return DNSSEC_ERROR;
	}
	memcpy(k->owner, owner, dns_name_len(owner));
	k->tag = dnssec_key_tag(rd, rdlen);
	k->flags = dk.flags;
	k->protocol = dk.protocol;
	k->alg = dk.alg;
	k->pkey = pkey;
	*out = k;
	return DNSSEC_OK;
}

void
dnssec_key_free(struct dnssec_key *k)
{
	if (k == NULL) {
		return;
	}
	EVP_PKEY_free(k->pkey);
	free(k);
}

uint16_t
dnssec_key_tag_of(const struct dnssec_key *k)
{
	return k->tag;
}

uint8_t
dnssec_key_alg(const struct dnssec_key *k)
{
	return k->alg;
}

uint16_t
dnssec_key_flags(const struct dnssec_key *k)
{
	return k->flags;
}

const uint8_t *
dnssec_key_owner(const struct dnssec_key *k)
{
	return k->owner;
}

bool
dnssec_key_usable(const struct dnssec_key *k)
{
	return (k->flags & DNSSEC_DNSKEY_ZONE) && k->protocol == 3;
}

EVP_PKEY *
dnssec_key_pkey(const struct dnssec_key *k)
{
	return k->pkey;
}
