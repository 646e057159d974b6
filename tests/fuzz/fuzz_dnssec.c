/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the DNSSEC rdata parsers: DNSKEY (to libcrypto), RRSIG, DS, NSEC, NSEC3. */
#include <stdlib.h>
#include <string.h>

#include "dnssec/dnssec.h"
#include "fuzz.h"

/* True when [p, p + len) lies inside [base, base + size). */
static bool
inside(const uint8_t *base, size_t size, const uint8_t *p, size_t len)
{
	return p >= base && len <= size && (size_t)(p - base) <= size - len;
}

/*
 * The first octet picks the parser, the rest is the rdata.  Every parser must accept or
 * refuse without reading outside the rdata, and what it accepts must point inside it.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1) {
		return 0;
	}
	/* A copy of exactly the rdata's size, so that ASan sees any read past its end. */
	size_t len = size - 1;
	uint8_t *rd = malloc(len ? len : 1);
	require(rd != NULL);
	memcpy(rd, data + 1, len);
	static const uint8_t owner[] = { 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0 };
	switch (data[0] % 5) {
	case 0: {
		struct dnssec_dnskey k;
		struct dnssec_key *key = NULL;
		if (dnssec_dnskey_parse(rd, len, &k) == TDNS_OK) {
			require(inside(rd, len, k.pub, k.pub_len));
		}
		(void)dnssec_key_tag(rd, len);
		enum dnssec_result r = dnssec_key_new(owner, rd, len, &key);
		require(r == DNSSEC_OK || r == DNSSEC_UNSUPPORTED_ALG || r == DNSSEC_MALFORMED);
		require((r == DNSSEC_OK) == (key != NULL));
		if (key != NULL) {
			require(dnssec_key_tag_of(key) == dnssec_key_tag(rd, len));
			require(dnssec_alg_supported(dnssec_key_alg(key)));
		}
		uint8_t dig[DNSSEC_DIGEST_MAX];
		size_t dlen;
		enum dnssec_result dr;
		dr = dnssec_ds_digest(owner, rd, len, DNSSEC_DIGEST_SHA256, dig, &dlen);
		if (dr == DNSSEC_OK) {
			require(dlen == 32);
		}
		dnssec_key_free(key);
		break;
	}
	case 1: {
		struct dnssec_rrsig s;
		if (dnssec_rrsig_parse(rd, len, &s) == TDNS_OK) {
			require(inside(rd, len, s.signer, s.signer_len));
			require(inside(rd, len, s.sig, s.sig_len) && s.sig_len > 0);
			require(dns_name_len(s.signer) == s.signer_len);
			(void)dnssec_rrsig_time(&s, 1893456000u, 300);
		}
		/* The canonical form RRSIGs sign: any type over any rdata, in place. */
		if (len >= 2) {
			uint16_t type = (uint16_t)(rd[0] << 8 | rd[1]);
			dns_rdata_canonical(type, rd + 2, len - 2);
			require(rd[0] << 8 == (type & 0xff00) && rd[1] == (type & 0xff));
		}
		break;
	}
	case 2: {
		struct dnssec_nsec3 n;
		if (dnssec_nsec3_parse(rd, len, &n) == TDNS_OK) {
			require(inside(rd, len, n.salt, n.salt_len));
			require(inside(rd, len, n.next, n.next_len) && n.next_len > 0);
			require(inside(rd, len, n.bitmap, n.bitmap_len));
			(void)dnssec_bitmap_has(n.bitmap, n.bitmap_len, DNS_TYPE_A);
			struct dnssec_budget b;
			dnssec_budget_init(&b, 0, 200);
			uint8_t h[DNSSEC_NSEC3_HASH_LEN];
			enum dnssec_result r = dnssec_nsec3_hash(owner, n.alg, n.iterations, n.salt,
								 n.salt_len, &b, h);
			require(b.hash_used <= b.hash_max);
			require(r != DNSSEC_OK ||
				(n.alg == 1 && n.iterations <= DNSSEC_NSEC3_ITER_MAX));
			if (r == DNSSEC_OK) {
				(void)dnssec_nsec3_covers(h, &n, h);
			}
			struct dnssec_nsec3_rr rr = { owner, rd, len };
			struct dnssec_nsec3_proof p;
			(void)dnssec_nsec3_closest_encloser(owner, owner, &rr, 1, &b, &p);
			require(b.hash_used <= b.hash_max);
		}
		break;
	}
	case 3: {
		struct dnssec_nsec n;
		if (dnssec_nsec_parse(rd, len, &n) == TDNS_OK) {
			require(inside(rd, len, n.next, dns_name_len(n.next)));
			require(inside(rd, len, n.bitmap, n.bitmap_len));
			for (uint16_t t = 0; t < 300; t++) {
				(void)dnssec_bitmap_has(n.bitmap, n.bitmap_len, t);
			}
			(void)dnssec_nsec_nodata(owner, &n, owner, DNS_TYPE_DS);
			(void)dnssec_nsec_covers(owner, n.next, owner);
		}
		/* An NSEC3 owner label: any 32 base32hex digits decode to 20 octets. */
		uint8_t nm[DNS_NAME_MAX], h[DNSSEC_NSEC3_HASH_LEN];
		if (dns_name_check(rd, len) > 0) {
			memcpy(nm, rd, dns_name_len(rd));
			size_t hl = dnssec_nsec3_owner_hash(nm, h);
			require(hl == 0 || hl == DNSSEC_NSEC3_HASH_LEN);
		}
		break;
	}
	default: {
		struct dnssec_ds d;
		if (dnssec_ds_parse(rd, len, &d) == TDNS_OK) {
			require(inside(rd, len, d.digest, d.digest_len));
		}
		break;
	}
	}
	free(rd);
	return 0;
}
