/* SPDX-License-Identifier: MIT */
/* A zone's DNSKEY RRset authenticated from its parent's DS records or from trust anchors. */
#include <string.h>

#include "dnssec/dnssec.h"

/* Why the DS and anchor records that cannot be used were left out. */
struct keyset_scan {
	bool unsup_alg;
	bool unsup_digest;
	bool malformed;
	size_t usable;
};

/* True when ds holds a usable SHA-256 DS (a SHA-1 DS beside it is then ignored). */
static bool
keyset_has_sha256(const struct dnssec_rdata *ds, size_t nds)
{
	struct dnssec_ds e;
	for (size_t j = 0; j < nds; j++) {
		if (dnssec_ds_parse(ds[j].rd, ds[j].len, &e) == TDNS_OK &&
		    e.digest_type == DNSSEC_DIGEST_SHA256 && dnssec_alg_supported(e.alg) &&
		    e.digest_len == dnssec_digest_len(DNSSEC_DIGEST_SHA256)) {
			return true;
		}
	}
	return false;
}

/*
 * True when ds can authenticate a key (split into *d): it splits, its algorithm and digest
 * are supported, and it is not a SHA-1 DS in a set that holds a SHA-256 one (sha256, from
 * keyset_has_sha256 once per set, so that a set of many DS costs linear time; RFC 4509 §3).
 */
static bool
keyset_ds_usable(const struct dnssec_rdata *ds, bool sha256, struct dnssec_ds *d,
		 struct keyset_scan *sc)
{
	if (dnssec_ds_parse(ds->rd, ds->len, d) != TDNS_OK) {
		sc->malformed = true;
		return false;
	}
	if (!dnssec_alg_supported(d->alg)) {
		sc->unsup_alg = true;
		return false;
	}
	if (!dnssec_digest_supported(d->digest_type)) {
		sc->unsup_digest = true;
		return false;
	}
	return d->digest_type != DNSSEC_DIGEST_SHA1 || !sha256;
}

/* True when the DNSKEY rdata may be trusted at all: Zone Key, protocol 3, not revoked. */
static bool
keyset_key_usable(const uint8_t *rd, size_t len, struct keyset_scan *sc)
{
	struct dnssec_dnskey k;
	if (dnssec_dnskey_parse(rd, len, &k) != TDNS_OK) {
		if (sc != NULL) {
			sc->malformed = true;
		}
		return false;
	}
	if (k.protocol != 3 ||
	    !(k.flags & DNSSEC_DNSKEY_ZONE) || (k.flags & DNSSEC_DNSKEY_REVOKE)) {
		return false;
	}
	if (!dnssec_alg_supported(k.alg)) {
		if (sc != NULL) {
			sc->unsup_alg = true;
		}
		return false;
	}
	return true;
}

/*
 * 1 when keys->rdata[k] matches a usable DS or equals an anchor key (*digest_bad set when a
 * digest differed), 0 when not, -1 when a digest would pass the budget: each DS digest
 * computed counts as one hash (KeyTrap: many keys and DS records with one tag would
 * otherwise cost keys x DS digests unbounded).
 */
static int
keyset_trusted(const struct dnssec_rrset *keys, size_t k, const struct dnssec_rdata *ds,
	       size_t nds, bool sha256, const struct dnssec_rdata *anchor_keys,
	       size_t nanchor_keys, struct dnssec_budget *budget, bool *digest_bad)
{
	const struct dnssec_rdata *rd = &keys->rdata[k];
	if (!keyset_key_usable(rd->rd, rd->len, NULL)) {
		return 0;
	}
	uint16_t tag = dnssec_key_tag(rd->rd, rd->len);
	struct keyset_scan sc = { 0 };
	for (size_t j = 0; j < nds; j++) {
		struct dnssec_ds d;
		if (!keyset_ds_usable(&ds[j], sha256, &d, &sc) || d.key_tag != tag ||
		    d.alg != rd->rd[3]) {
			continue;
		}
		if (budget != NULL) {
			if (budget->hash_used >= budget->hash_max) {
				return -1;
			}
			budget->hash_used++;
		}
		enum dnssec_result r = dnssec_ds_match(keys->owner, ds[j].rd, ds[j].len, rd->rd,
						       rd->len);
		if (r == DNSSEC_OK) {
			return 1;
		}
		if (r == DNSSEC_BOGUS) {
			*digest_bad = true;
		}
	}
	for (size_t j = 0; j < nanchor_keys; j++) {
		const struct dnssec_rdata *a = &anchor_keys[j];
		if (a->len == rd->len && memcmp(a->rd, rd->rd, rd->len) == 0) {
			return 1;
		}
	}
	return 0;
}

/* Order of the self-signature failures, most telling last (as in dnssec_rrset_verify). */
static int
keyset_rank(enum dnssec_result r)
{
	switch (r) {
	case DNSSEC_BOGUS:
		return 5;
	case DNSSEC_EXPIRED:
		return 4;
	case DNSSEC_NOT_YET_VALID:
		return 3;
	case DNSSEC_MALFORMED:
		return 2;
	case DNSSEC_KEY_MISMATCH:
		return 1;
	default:
		return 0;
	}
}

/* True when sigs holds an RRSIG covering DNSKEY. */
static bool
keyset_has_rrsig(const struct dnssec_rdata *sigs, size_t nsig)
{
	struct dnssec_rrsig s;
	for (size_t i = 0; i < nsig; i++) {
		if (dnssec_rrsig_parse(sigs[i].rd, sigs[i].len, &s) == TDNS_OK &&
		    s.type_covered == DNS_TYPE_DNSKEY) {
			return true;
		}
	}
	return false;
}

static enum dnssec_security
keyset_set(struct dnssec_keyset_verdict *v, enum dnssec_security sec, enum dnssec_result r,
	   int ede)
{
	v->security = sec;
	v->result = r;
	v->ede = ede;
	return sec;
}

enum dnssec_security
dnssec_keyset_verify(const struct dnssec_rrset *keys, const struct dnssec_rdata *sigs,
		     size_t nsig, const struct dnssec_rdata *ds, size_t nds,
		     const struct dnssec_rdata *anchor_keys, size_t nanchor_keys, uint32_t now,
		     uint32_t skew, struct dnssec_budget *budget, struct dnssec_keyset_verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->key = DNSSEC_NONE;
	if (nds == 0 && nanchor_keys == 0) {
		return keyset_set(v, DNSSEC_BOGUS_KEYS, DNSSEC_MALFORMED, DNS_EDE_DNSSEC_BOGUS);
	}

	/* Is anything usable?  If not, and only for want of support, the zone is insecure. */
	struct keyset_scan sc = { 0 };
	bool sha256 = keyset_has_sha256(ds, nds);
	for (size_t j = 0; j < nds; j++) {
		struct dnssec_ds d;
		sc.usable += keyset_ds_usable(&ds[j], sha256, &d, &sc);
	}
	for (size_t j = 0; j < nanchor_keys; j++) {
		sc.usable += keyset_key_usable(anchor_keys[j].rd, anchor_keys[j].len, &sc);
	}
	if (sc.usable == 0) {
		if (sc.unsup_digest) {
			return keyset_set(v, DNSSEC_INSECURE, DNSSEC_UNSUPPORTED_DIGEST,
					  DNS_EDE_UNSUPPORTED_DS_DIGEST);
		}
		if (sc.unsup_alg) {
			return keyset_set(v, DNSSEC_INSECURE, DNSSEC_UNSUPPORTED_ALG,
					  DNS_EDE_UNSUPPORTED_DNSKEY_ALG);
		}
		if (sc.malformed) {
			return keyset_set(v, DNSSEC_BOGUS_KEYS, DNSSEC_MALFORMED,
					  DNS_EDE_DNSSEC_BOGUS);
		}
		return keyset_set(v, DNSSEC_BOGUS_KEYS, DNSSEC_KEY_MISMATCH,
				  DNS_EDE_DNSKEY_MISSING);
	}

	bool digest_bad = false, trusted_any = false;
	enum dnssec_result fail = DNSSEC_KEY_MISMATCH;
	for (size_t k = 0; k < keys->count; k++) {
		int t = keyset_trusted(keys, k, ds, nds, sha256, anchor_keys, nanchor_keys, budget,
				       &digest_bad);
		if (t < 0) {
			return keyset_set(v, DNSSEC_INDETERMINATE, DNSSEC_BUDGET,
					  dnssec_result_ede(DNSSEC_BUDGET));
		}
		if (t == 0) {
			continue;
		}
		trusted_any = true;
		struct dnssec_key *key = NULL;
		enum dnssec_result r = dnssec_key_new(keys->owner, keys->rdata[k].rd,
						      keys->rdata[k].len, &key);
		if (r == DNSSEC_OK) {
			r = dnssec_rrset_verify(keys, sigs, nsig, &key, 1, now, skew, budget,
						&v->info, NULL);
			dnssec_key_free(key);
		}
		if (r == DNSSEC_OK) {
			v->key = k;
			return keyset_set(v, DNSSEC_SECURE, DNSSEC_OK, -1);
		}
		if (r == DNSSEC_BUDGET || r == DNSSEC_ERROR) {
			return keyset_set(v, DNSSEC_INDETERMINATE, r, dnssec_result_ede(r));
		}
		if (keyset_rank(r) > keyset_rank(fail)) {
			fail = r;
		}
	}
	if (!trusted_any) {
		if (digest_bad) {
			return keyset_set(v, DNSSEC_BOGUS_KEYS, DNSSEC_BOGUS, DNS_EDE_DNSSEC_BOGUS);
		}
		return keyset_set(v, DNSSEC_BOGUS_KEYS, DNSSEC_KEY_MISMATCH,
				  DNS_EDE_DNSKEY_MISSING);
	}
	if (fail == DNSSEC_KEY_MISMATCH || !keyset_has_rrsig(sigs, nsig)) {
		return keyset_set(v, DNSSEC_BOGUS_KEYS, fail, DNS_EDE_RRSIGS_MISSING);
	}
	return keyset_set(v, DNSSEC_BOGUS_KEYS, fail, dnssec_result_ede(fail));
}
