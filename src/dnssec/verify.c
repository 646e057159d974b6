/* SPDX-License-Identifier: MIT */
/* RRSIG parsing, validity windows and verification of an RRset in canonical form. */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>

#include "dnssec/dnssec.h"
#include "dnssec/dnssec_int.h"

#define RRSIG_FIXED 18 /* octets before the signer's name */

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int
dnssec_rrsig_parse(const uint8_t *rd, size_t rdlen, struct dnssec_rrsig *s)
{
	if (rdlen <= RRSIG_FIXED) {
		return TDNS_EMALFORMED;
	}
	int nl = dns_name_check(rd + RRSIG_FIXED, rdlen - RRSIG_FIXED);
	if (nl < 0 || RRSIG_FIXED + (size_t)nl >= rdlen) {
		return TDNS_EMALFORMED;
	}
	s->type_covered = (uint16_t)(rd[0] << 8 | rd[1]);
	s->alg = rd[2];
	s->labels = rd[3];
	s->orig_ttl = get32(rd + 4);
	s->expiration = get32(rd + 8);
	s->inception = get32(rd + 12);
	s->key_tag = (uint16_t)(rd[16] << 8 | rd[17]);
	s->signer = rd + RRSIG_FIXED;
	s->signer_len = (size_t)nl;
	s->sig = rd + RRSIG_FIXED + nl;
	s->sig_len = rdlen - RRSIG_FIXED - (size_t)nl;
	s->rd = rd;
	s->rdlen = rdlen;
	return TDNS_OK;
}

enum dnssec_result
dnssec_rrsig_time(const struct dnssec_rrsig *s, uint32_t now, uint32_t skew)
{
	/* RFC 4034 §3.1.5: serial-number arithmetic (RFC 1982), so 2106 wraps harmlessly. */
	if ((int32_t)(s->expiration - s->inception) < 0) {
		return DNSSEC_MALFORMED;
	}
	if ((int32_t)(now - (s->expiration + skew)) > 0) {
		return DNSSEC_EXPIRED;
	}
	if ((int32_t)((s->inception - skew) - now) > 0) {
		return DNSSEC_NOT_YET_VALID;
	}
	return DNSSEC_OK;
}

bool
dnssec_rrsig_key_matches(const struct dnssec_rrsig *s, const struct dnssec_key *k)
{
	return s->alg == dnssec_key_alg(k) && s->key_tag == dnssec_key_tag_of(k) &&
	       dns_name_eq(s->signer, dnssec_key_owner(k)) && dnssec_key_usable(k);
}

/* ------------------------------------------------------------------------------------------ */
/* Canonical form.                                                                             */

struct canon_rd {
	const uint8_t *p; /* lower-cased copy */
	size_t len;
};

static int
canon_cmp(const void *a, const void *b)
{
	const struct canon_rd *x = a, *y = b;
	size_t m = x->len < y->len ? x->len : y->len;
	int d = m ? memcmp(x->p, y->p, m) : 0;
	if (d != 0) {
		return d;
	}
	/* RFC 4034 §6.3: a shorter rdata that is a prefix sorts first. */
	return x->len < y->len ? -1 : x->len > y->len ? 1 : 0;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/*
 * Builds the data RFC 4034 §3.1.8.1 signs: RRSIG rdata without the signature (signer
 * lower-cased), then every RR of the set in canonical order with owner name (the wildcard
 * form when expanded), original TTL.  Returns a malloc'd buffer, length in *len, or NULL.
 */
static uint8_t *
signed_data(const struct dnssec_rrset *set, const struct dnssec_rrsig *s, const uint8_t *name,
	    size_t *len)
{
	size_t nlen = dns_name_len(name);
	size_t head = RRSIG_FIXED + s->signer_len;
	size_t total = head, rdtotal = 0;
	for (size_t i = 0; i < set->count; i++) {
		total += nlen + 10 + set->rdata[i].len;
		rdtotal += set->rdata[i].len;
	}
	uint8_t *buf = malloc(total);
	uint8_t *rdcopy = malloc(rdtotal ? rdtotal : 1);
	struct canon_rd *v = calloc(set->count, sizeof(*v));
	if (buf == NULL || rdcopy == NULL || v == NULL) {
		free(buf);
		free(rdcopy);
		free(v);
		return NULL;
	}
	memcpy(buf, s->rd, head);
	dns_name_lower(buf + RRSIG_FIXED);
	uint8_t *q = rdcopy;
	for (size_t i = 0; i < set->count; i++) {
		memcpy(q, set->rdata[i].rd, set->rdata[i].len);
		dns_rdata_canonical(set->type, q, set->rdata[i].len);
		v[i] = (struct canon_rd){ q, set->rdata[i].len };
		q += set->rdata[i].len;
	}
	qsort(v, set->count, sizeof(*v), canon_cmp);
	uint8_t owner[DNS_NAME_MAX];
	memcpy(owner, name, nlen);
	dns_name_lower(owner);
	size_t off = head;
	for (size_t i = 0; i < set->count; i++) {
		/* RFC 4034 §6.3: duplicate RRs are dropped from the canonical set. */
		if (i > 0 && canon_cmp(&v[i - 1], &v[i]) == 0) {
			continue;
		}
		memcpy(buf + off, owner, nlen);
		off += nlen;
		put16(buf + off, set->type);
		put16(buf + off + 2, set->rclass);
		memcpy(buf + off + 4, s->rd + 4, 4); /* original TTL */
		put16(buf + off + 8, (uint16_t)v[i].len);
		off += 10;
		memcpy(buf + off, v[i].p, v[i].len);
		off += v[i].len;
	}
	free(v);
	free(rdcopy);
	*len = off;
	return buf;
}

/* RFC 6605 §4: r|s into the DER SEQUENCE libcrypto verifies; NULL on failure. */
static uint8_t *
ecdsa_der(const uint8_t *sig, size_t size, int *derlen)
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, (int)size, NULL);
	BIGNUM *sv = BN_bin2bn(sig + size, (int)size, NULL);
	uint8_t *der = NULL;
	if (es == NULL || r == NULL || sv == NULL || ECDSA_SIG_set0(es, r, sv) != 1) {
		BN_free(r);
		BN_free(sv);
		ECDSA_SIG_free(es);
		return NULL;
	}
	*derlen = i2d_ECDSA_SIG(es, &der);
	ECDSA_SIG_free(es);
	if (*derlen <= 0) {
		return NULL;
	}
	return der;
}

/* The signature check itself: DNSSEC_OK, DNSSEC_BOGUS or DNSSEC_ERROR. */
static enum dnssec_result
verify_sig(const struct dnssec_algdef *def, EVP_PKEY *pkey, const uint8_t *sig, size_t siglen,
	   const uint8_t *data, size_t len)
{
	uint8_t *der = NULL;
	if (def->kind == DNSSEC_KT_EC) {
		if (siglen != 2 * def->size) {
			return DNSSEC_BOGUS;
		}
		int dl;
		der = ecdsa_der(sig, def->size, &dl);
		if (der == NULL) {
			return DNSSEC_ERROR;
		}
		sig = der;
		siglen = (size_t)dl;
	}
	enum dnssec_result r = DNSSEC_ERROR;
	DNSSEC_WORK(verify, 1);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (ctx != NULL &&
	    EVP_DigestVerifyInit_ex(ctx, NULL, def->md, NULL, NULL, pkey, NULL) == 1) {
		r = EVP_DigestVerify(ctx, sig, siglen, data, len) == 1 ? DNSSEC_OK : DNSSEC_BOGUS;
	}
	EVP_MD_CTX_free(ctx);
	OPENSSL_free(der);
	return r;
}

enum dnssec_result
dnssec_rrsig_verify(const struct dnssec_rrset *set, const struct dnssec_rrsig *s,
		    const struct dnssec_key *key, uint32_t now, uint32_t skew,
		    struct dnssec_budget *budget, struct dnssec_verify_info *info)
{
	if (s->type_covered != set->type || set->count == 0 || set->count > DNSSEC_RRSET_MAX ||
	    !dns_name_is_sub(set->owner, s->signer)) {
		return DNSSEC_MALFORMED;
	}
	for (size_t i = 0; i < set->count; i++) {
		if (set->rdata[i].len > DNS_RDATA_MAX) {
			return DNSSEC_MALFORMED;
		}
	}
	/* RFC 4035 §5.3.2: a leading "*" label is not counted in the labels field. */
	int labels = dns_name_labels(set->owner);
	if (labels > 0 && set->owner[0] == 1 && set->owner[1] == '*') {
		labels--;
	}
	if (s->labels > labels) {
		return DNSSEC_MALFORMED;
	}
	if (!dnssec_rrsig_key_matches(s, key)) {
		return DNSSEC_KEY_MISMATCH;
	}
	enum dnssec_result r = dnssec_rrsig_time(s, now, skew);
	if (r != DNSSEC_OK) {
		return r;
	}
	if (budget != NULL) {
		if (budget->verify_used >= budget->verify_max) {
			return DNSSEC_BUDGET;
		}
		budget->verify_used++;
	}
	/* RFC 4035 §5.3.2: rebuild the wildcard "*." + the rightmost labels-field labels. */
	const uint8_t *closest = set->owner;
	for (int i = labels; i > s->labels; i--) {
		closest = dns_name_parent(closest);
	}
	bool wild = s->labels < labels;
	uint8_t wname[DNS_NAME_MAX];
	if (wild && dnssec_wildcard_name(closest, wname) == 0) {
		return DNSSEC_MALFORMED;
	}
	size_t len;
	uint8_t *data = signed_data(set, s, wild ? wname : set->owner, &len);
	if (data == NULL) {
		return DNSSEC_ERROR;
	}
	r = verify_sig(dnssec_algdef(s->alg), dnssec_key_pkey(key), s->sig, s->sig_len, data, len);
	free(data);
	if (r == DNSSEC_OK && info != NULL) {
		info->wildcard = wild;
		info->source[0] = 0;
		info->closest[0] = 0;
		if (wild) {
			memcpy(info->source, wname, dns_name_len(wname));
			memcpy(info->closest, closest, dns_name_len(closest));
		}
		/* RFC 4035 §5.3.3: never cache past the original TTL or the expiration. */
		uint32_t left = s->expiration - now;
		if ((int32_t)left < 0) {
			left = 0; /* within the skew allowance */
		}
		info->ttl_max = s->orig_ttl < left ? s->orig_ttl : left;
	}
	return r;
}

/* How much a failure tells, for dnssec_rrset_verify: higher wins. */
static int
failure_rank(enum dnssec_result r)
{
	switch (r) {
	case DNSSEC_BOGUS:
		return 6;
	case DNSSEC_EXPIRED:
		return 5;
	case DNSSEC_NOT_YET_VALID:
		return 4;
	case DNSSEC_MALFORMED:
		return 3;
	case DNSSEC_KEY_MISMATCH:
		return 2;
	case DNSSEC_UNSUPPORTED_ALG:
		return 1;
	default:
		return 0;
	}
}

enum dnssec_result
dnssec_rrset_verify(const struct dnssec_rrset *set, const struct dnssec_rdata *sigs, size_t nsig,
		    struct dnssec_key *const *keys, size_t nkeys, uint32_t now, uint32_t skew,
		    struct dnssec_budget *budget, struct dnssec_verify_info *info, size_t *used)
{
	enum dnssec_result worst = DNSSEC_OK;
	bool any = false;
	for (size_t i = 0; i < nsig; i++) {
		struct dnssec_rrsig s;
		enum dnssec_result r;
		const uint8_t *rd = sigs[i].rd;
		if (sigs[i].len < 2 || (uint16_t)(rd[0] << 8 | rd[1]) != set->type) {
			continue;
		}
		any = true;
		if (dnssec_rrsig_parse(sigs[i].rd, sigs[i].len, &s) != TDNS_OK) {
			r = DNSSEC_MALFORMED;
		} else if (!dnssec_alg_supported(s.alg)) {
			r = DNSSEC_UNSUPPORTED_ALG;
		} else {
			r = DNSSEC_KEY_MISMATCH;
			for (size_t k = 0; k < nkeys && r != DNSSEC_OK; k++) {
				if (!dnssec_rrsig_key_matches(&s, keys[k])) {
					continue;
				}
				/* KeyTrap: colliding tags are tried in turn, each one charged. */
				enum dnssec_result kr;
				kr = dnssec_rrsig_verify(set, &s, keys[k], now, skew, budget, info);
				if (kr == DNSSEC_OK || kr == DNSSEC_BUDGET || kr == DNSSEC_ERROR) {
					r = kr;
					break;
				}
				if (failure_rank(kr) > failure_rank(r)) {
					r = kr;
				}
			}
		}
		if (r == DNSSEC_OK) {
			if (used != NULL) {
				*used = i;
			}
			return DNSSEC_OK;
		}
		if (r == DNSSEC_BUDGET || r == DNSSEC_ERROR) {
			return r;
		}
		if (worst == DNSSEC_OK || failure_rank(r) > failure_rank(worst)) {
			worst = r;
		}
	}
	return any ? worst : DNSSEC_BOGUS;
}
