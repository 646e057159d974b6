/* SPDX-License-Identifier: MIT */
/* NSEC3 proofs (RFC 5155 §8): hashing under a budget, covering and the closest encloser. */
#include <string.h>

#include <openssl/sha.h>

#include "dnssec/dnssec.h"
#include "dnssec/dnssec_int.h"

int
dnssec_nsec3_parse(const uint8_t *rd, size_t rdlen, struct dnssec_nsec3 *n)
{
	/* RFC 5155 §3.2: alg, flags, iterations, salt len + salt, hash len + hash, bitmap. */
	if (rdlen < 5 || rdlen - 5 < rd[4]) {
		return TDNS_EMALFORMED;
	}
	size_t p = 5 + (size_t)rd[4];
	if (p >= rdlen || rd[p] == 0 || rdlen - p - 1 < rd[p]) {
		return TDNS_EMALFORMED;
	}
	size_t bm = p + 1 + (size_t)rd[p];
	if (!dnssec_bitmap_valid(rd + bm, rdlen - bm)) {
		return TDNS_EMALFORMED;
	}
	n->alg = rd[0];
	n->flags = rd[1];
	n->iterations = (uint16_t)(rd[2] << 8 | rd[3]);
	n->salt_len = rd[4];
	n->salt = rd + 5;
	n->next_len = rd[p];
	n->next = rd + p + 1;
	n->bitmap = rd + bm;
	n->bitmap_len = rdlen - bm;
	return TDNS_OK;
}

bool
dnssec_nsec3_usable(const struct dnssec_nsec3 *n)
{
	return n->alg == 1 && (n->flags & ~DNSSEC_NSEC3_OPTOUT) == 0 &&
	       n->iterations <= DNSSEC_NSEC3_ITER_MAX && n->next_len == DNSSEC_NSEC3_HASH_LEN;
}

enum dnssec_result
dnssec_nsec3_hash(const uint8_t *name, uint8_t alg, uint16_t iterations, const uint8_t *salt,
		  size_t salt_len, struct dnssec_budget *budget, uint8_t *out)
{
	if (alg != 1 || iterations > DNSSEC_NSEC3_ITER_MAX) {
		return DNSSEC_UNSUPPORTED_NSEC3;
	}
	if (salt_len > 255 || dns_name_check(name, DNS_NAME_MAX) < 0) {
		return DNSSEC_MALFORMED;
	}
	uint32_t cost = (uint32_t)iterations + 1;
	if (budget != NULL) {
		if (budget->hash_used > budget->hash_max ||
		    budget->hash_max - budget->hash_used < cost) {
			return DNSSEC_BUDGET;
		}
		budget->hash_used += cost;
	}
	/* RFC 5155 §5: IH(salt, x, 0) = H(x | salt), IH(salt, x, k) = H(IH(.., k-1) | salt). */
	uint8_t buf[DNS_NAME_MAX + 255];
	size_t nlen = dns_name_len(name);
	memcpy(buf, name, nlen);
	dns_name_lower(buf);
	if (salt_len > 0) {
		memcpy(buf + nlen, salt, salt_len);
	}
	DNSSEC_WORK(sha1, cost);
	SHA1(buf, nlen + salt_len, out);
	for (uint16_t i = 0; i < iterations; i++) {
		/* The salt stays behind the hash once copied there. */
		memcpy(buf, out, DNSSEC_NSEC3_HASH_LEN);
		if (salt_len > 0 && i == 0) {
			memcpy(buf + DNSSEC_NSEC3_HASH_LEN, salt, salt_len);
		}
		SHA1(buf, DNSSEC_NSEC3_HASH_LEN + salt_len, out);
	}
	return DNSSEC_OK;
}

size_t
dnssec_nsec3_owner_hash(const uint8_t *owner, uint8_t *out)
{
	/* 20 octets are exactly 32 digits of 5 bits: no padding, no spare bits. */
	if (owner[0] != 32) {
		return 0;
	}
	uint64_t acc = 0;
	int bits = 0;
	size_t o = 0;
	for (int i = 1; i <= 32; i++) {
		int v = tdns_digit_value((char)owner[i], 32);
		if (v < 0) {
			return 0;
		}
		acc = acc << 5 | (uint64_t)v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	return o;
}

bool
dnssec_nsec3_covers(const uint8_t *owner_hash, const struct dnssec_nsec3 *n, const uint8_t *hash)
{
	if (n->next_len != DNSSEC_NSEC3_HASH_LEN) {
		return false;
	}
	int after_owner = memcmp(hash, owner_hash, DNSSEC_NSEC3_HASH_LEN) > 0;
	int before_next = memcmp(hash, n->next, DNSSEC_NSEC3_HASH_LEN) < 0;
	if (memcmp(owner_hash, n->next, DNSSEC_NSEC3_HASH_LEN) < 0) {
		return after_owner && before_next;
	}
	/* The last NSEC3 of the chain wraps around to the first (RFC 5155 §3.1.7). */
	return after_owner || before_next;
}

/* The usable NSEC3 records of zone with the given parameters, parsed, with their hashes. */
static bool
member(const struct dnssec_nsec3_rr *rr, const uint8_t *zone, const struct dnssec_nsec3 *params,
       struct dnssec_nsec3 *n, uint8_t *owner_hash)
{
	if (dnssec_nsec3_parse(rr->rd, rr->rdlen, n) != TDNS_OK || !dnssec_nsec3_usable(n) ||
	    dns_name_labels(rr->owner) == 0 || !dns_name_eq(dns_name_parent(rr->owner), zone) ||
	    dnssec_nsec3_owner_hash(rr->owner, owner_hash) != DNSSEC_NSEC3_HASH_LEN) {
		return false;
	}
	/* RFC 5155 §8.2: records with other parameters than the chain's are ignored. */
	return params == NULL ||
	       (n->alg == params->alg && n->iterations == params->iterations &&
		n->salt_len == params->salt_len && memcmp(n->salt, params->salt, n->salt_len) == 0);
}

enum dnssec_result
dnssec_nsec3_find(const uint8_t *name, const uint8_t *zone, const struct dnssec_nsec3_rr *set,
		  size_t n, struct dnssec_budget *budget, size_t *match, size_t *cover)
{
	*match = *cover = DNSSEC_NONE;
	struct dnssec_nsec3 params, x;
	uint8_t oh[DNSSEC_NSEC3_HASH_LEN];
	size_t first = 0;
	while (first < n && !member(&set[first], zone, NULL, &params, oh)) {
		first++;
	}
	if (first == n) {
		return DNSSEC_UNSUPPORTED_NSEC3;
	}
	uint8_t hash[DNSSEC_NSEC3_HASH_LEN];
	enum dnssec_result r = dnssec_nsec3_hash(name, params.alg, params.iterations, params.salt,
						 params.salt_len, budget, hash);
	if (r != DNSSEC_OK) {
		return r;
	}
	for (size_t i = first; i < n; i++) {
		if (!member(&set[i], zone, &params, &x, oh)) {
			continue;
		}
		if (*match == DNSSEC_NONE && memcmp(oh, hash, sizeof(hash)) == 0) {
			*match = i;
		} else if (*cover == DNSSEC_NONE && dnssec_nsec3_covers(oh, &x, hash)) {
			*cover = i;
		}
	}
	return DNSSEC_OK;
}

enum dnssec_result
dnssec_nsec3_closest_encloser(const uint8_t *qname, const uint8_t *zone,
			      const struct dnssec_nsec3_rr *set, size_t n,
			      struct dnssec_budget *budget, struct dnssec_nsec3_proof *p)
{
	if (!dns_name_is_sub(qname, zone)) {
		return DNSSEC_MALFORMED;
	}
	const uint8_t *name = qname, *prev = NULL;
	size_t prev_cover = DNSSEC_NONE;
	for (int l = dns_name_labels(qname), zl = dns_name_labels(zone); l >= zl; l--) {
		size_t m, c;
		enum dnssec_result r = dnssec_nsec3_find(name, zone, set, n, budget, &m, &c);
		if (r != DNSSEC_OK) {
			return r;
		}
		if (m != DNSSEC_NONE) {
			memcpy(p->closest, name, dns_name_len(name));
			p->ce_match = m;
			p->qname_matched = prev == NULL;
			p->next_closer = prev;
			p->nc_cover = prev_cover;
			p->opt_out = false;
			if (prev == NULL) {
				return DNSSEC_OK;
			}
			/*
			 * RFC 5155 §8.3: an encloser with DNAME, or NS without SOA, is the
			 * parent side of a cut or a redirection: it cannot deny names below it.
			 */
			struct dnssec_nsec3 ce;
			(void)dnssec_nsec3_parse(set[m].rd, set[m].rdlen, &ce);
			bool soa = dnssec_bitmap_has(ce.bitmap, ce.bitmap_len, DNS_TYPE_SOA);
			if (dnssec_bitmap_has(ce.bitmap, ce.bitmap_len, DNS_TYPE_DNAME) ||
			    (!soa && dnssec_bitmap_has(ce.bitmap, ce.bitmap_len, DNS_TYPE_NS))) {
				return DNSSEC_BOGUS;
			}
			if (prev_cover == DNSSEC_NONE) {
				return DNSSEC_BOGUS;
			}
			struct dnssec_nsec3 nc;
			(void)dnssec_nsec3_parse(set[prev_cover].rd, set[prev_cover].rdlen, &nc);
			p->opt_out = (nc.flags & DNSSEC_NSEC3_OPTOUT) != 0;
			return DNSSEC_OK;
		}
		prev = name;
		prev_cover = c;
		name = dns_name_parent(name);
	}
	return DNSSEC_BOGUS;
}
