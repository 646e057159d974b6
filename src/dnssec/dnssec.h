/* SPDX-License-Identifier: MIT */
/* dnssec: DNSSEC primitives (key tags, DS digests, RRSIG verification, NSEC/NSEC3 proofs). */
#ifndef TDNS_DNSSEC_H
#define TDNS_DNSSEC_H

/*
 * Pure functions over rdata the caller holds (uncompressed wire form, as dns_rdata_unpack
 * gives it): no cache, no network, no clock.  Crypto goes through OpenSSL's libcrypto.  The
 * validator state machine (chain of trust, answer classification, caching of the verdict) is
 * built on these in src/resolver.
 *
 * Work bounds (KeyTrap, CVE-2023-50387; NSEC3 closest encloser, CVE-2023-50868): every
 * signature verification and every NSEC3 hash is charged to a struct dnssec_budget the caller
 * passes; a call that would overspend returns DNSSEC_BUDGET without doing the work.  Give one
 * budget to everything done for one client query.
 *
 * Times are 32-bit seconds since the epoch as in RRSIG (RFC 4034 §3.1.5), compared with
 * serial-number arithmetic (RFC 1982), so the caller passes (uint32_t)time(NULL).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "dns/dns.h"

/* ------------------------------------------------------------------------------------------ */
/* Results                                                                                     */

/*
 * Outcome of a check.  Only DNSSEC_OK proves anything.  UNSUPPORTED_* make the zone insecure,
 * not bogus (RFC 4035 §5.2, RFC 6840 §5.2, RFC 8624); everything from BOGUS to MALFORMED
 * makes the data bogus; BUDGET and ERROR leave it indeterminate (SERVFAIL).
 */
enum dnssec_result {
	DNSSEC_OK = 0,
	DNSSEC_BOGUS,              /* signature or digest does not match, or no proof found */
	DNSSEC_EXPIRED,            /* RRSIG expiration (plus skew) is in the past */
	DNSSEC_NOT_YET_VALID,      /* RRSIG inception (minus skew) is in the future */
	DNSSEC_KEY_MISMATCH,       /* key tag, algorithm, owner/signer or zone-key flag differ */
	DNSSEC_MALFORMED,          /* rdata does not parse, or fields contradict each other */
	DNSSEC_UNSUPPORTED_ALG,    /* DNSKEY/RRSIG algorithm we do not validate */
	DNSSEC_UNSUPPORTED_DIGEST, /* DS digest type we do not compute */
	DNSSEC_UNSUPPORTED_NSEC3,  /* NSEC3 hash algorithm unknown or iterations above the cap */
	DNSSEC_BUDGET,             /* the work budget would be exceeded; nothing was done */
	DNSSEC_ERROR,              /* out of memory or a libcrypto failure */
};

/* Short stable id for logs and control replies ("ok", "bogus", "expired", ...).  Never NULL. */
const char *dnssec_result_str(enum dnssec_result r);

/*
 * The Extended DNS Error (RFC 8914) a failure maps onto: 1 unsupported algorithm, 2 unsupported
 * digest, 7 expired, 8 not yet valid, 6 for the other bogus results, 5 (indeterminate) for
 * BUDGET and ERROR; -1 for DNSSEC_OK and DNSSEC_UNSUPPORTED_NSEC3 (insecure needs no EDE).
 */
int dnssec_result_ede(enum dnssec_result r);

/* ------------------------------------------------------------------------------------------ */
/* Work budget                                                                                 */

/* Defaults a validator may start from: per client query. */
#define DNSSEC_BUDGET_VERIFY_DEFAULT 32   /* signature verifications */
#define DNSSEC_BUDGET_HASH_DEFAULT 1500   /* NSEC3 SHA-1 computations (each iteration is one) */

/*
 * Caps on crypto work.  *_max are the limits, *_used what has been spent; the caller reads
 * the counters for statistics.  A failing verification counts like a passing one (that is
 * what KeyTrap exploits).  An NSEC3 name hash costs iterations + 1.
 */
struct dnssec_budget {
	uint32_t verify_max;
	uint32_t verify_used;
	uint32_t hash_max;
	uint32_t hash_used;
};

/* Sets the limits and zeroes the counters. */
void dnssec_budget_init(struct dnssec_budget *b, uint32_t verify_max, uint32_t hash_max);

/* ------------------------------------------------------------------------------------------ */
/* Algorithms and digests (RFC 8624)                                                           */

enum dnssec_alg {
	DNSSEC_ALG_RSASHA1 = 5,
	DNSSEC_ALG_RSASHA1_NSEC3_SHA1 = 7,
	DNSSEC_ALG_RSASHA256 = 8,
	DNSSEC_ALG_RSASHA512 = 10,
	DNSSEC_ALG_ECDSAP256SHA256 = 13,
	DNSSEC_ALG_ECDSAP384SHA384 = 14,
	DNSSEC_ALG_ED25519 = 15,
	DNSSEC_ALG_ED448 = 16,
};

enum dnssec_digest {
	DNSSEC_DIGEST_SHA1 = 1,
	DNSSEC_DIGEST_SHA256 = 2,
	DNSSEC_DIGEST_SHA384 = 4,
};

#define DNSSEC_DIGEST_MAX 48    /* SHA-384 */
#define DNSSEC_NSEC3_HASH_LEN 20 /* SHA-1, the only NSEC3 hash (RFC 5155 §11) */
#define DNSSEC_NSEC3_ITER_MAX 150 /* RFC 9276 §3.2: above this, treat the zone as insecure */

/*
 * True when RRSIGs of this algorithm can be verified here (the eight of enum dnssec_alg, and
 * the libcrypto in use provides them).  A zone whose DS set names only other algorithms is
 * insecure (RFC 4035 §5.2).
 */
bool dnssec_alg_supported(uint8_t alg);

/* True for the DS digest types computed here (SHA-1, SHA-256, SHA-384). */
bool dnssec_digest_supported(uint8_t digest);

/* Octets of a digest type's output, 0 when unsupported. */
size_t dnssec_digest_len(uint8_t digest);

/* ------------------------------------------------------------------------------------------ */
/* DNSKEY and DS (key.c)                                                                       */

#define DNSSEC_DNSKEY_ZONE 0x0100   /* Zone Key flag, RFC 4034 §2.1.1 */
#define DNSSEC_DNSKEY_REVOKE 0x0080 /* RFC 5011 §3 */
#define DNSSEC_DNSKEY_SEP 0x0001    /* Secure Entry Point */

/* A DNSKEY rdata split into fields; pub points into the rdata (borrowed). */
struct dnssec_dnskey {
	uint16_t flags;
	uint8_t protocol;     /* must be 3 (RFC 4034 §2.1.2) */
	uint8_t alg;
	const uint8_t *pub;
	size_t pub_len;
};

/* Splits DNSKEY rdata (at least 4 octets and a key); TDNS_OK or TDNS_EMALFORMED. */
int dnssec_dnskey_parse(const uint8_t *rd, size_t rdlen, struct dnssec_dnskey *k);

/* Key tag of DNSKEY rdata (RFC 4034 Appendix B, with B.1 for algorithm 1). */
uint16_t dnssec_key_tag(const uint8_t *rd, size_t rdlen);

/* A DS rdata split into fields; digest points into the rdata (borrowed). */
struct dnssec_ds {
	uint16_t key_tag;
	uint8_t alg;
	uint8_t digest_type;
	const uint8_t *digest;
	size_t digest_len;
};

/* Splits DS rdata (4 octets and a non-empty digest); TDNS_OK or TDNS_EMALFORMED. */
int dnssec_ds_parse(const uint8_t *rd, size_t rdlen, struct dnssec_ds *ds);

/*
 * Computes the DS digest of a DNSKEY (RFC 4034 §5.1.4: digest over the lower-cased owner
 * name and the DNSKEY rdata) into out (DNSSEC_DIGEST_MAX octets), length in *outlen.
 * Returns DNSSEC_OK, DNSSEC_UNSUPPORTED_DIGEST, DNSSEC_MALFORMED or DNSSEC_ERROR.
 */
enum dnssec_result dnssec_ds_digest(const uint8_t *owner, const uint8_t *dnskey, size_t dnskey_len,
				    uint8_t digest_type, uint8_t *out, size_t *outlen);

/*
 * Does the DS record (rdata ds) authenticate the DNSKEY (rdata dnskey) owned by owner?
 * Checks key tag and algorithm first (DNSSEC_KEY_MISMATCH, no digest computed), that the
 * key has the Zone Key flag and protocol 3 (DNSSEC_KEY_MISMATCH), then the digest in constant
 * time (DNSSEC_BOGUS).  DNSSEC_UNSUPPORTED_DIGEST or DNSSEC_UNSUPPORTED_ALG when the DS
 * cannot be used: the caller ignores it (RFC 6840 §5.2), and when no usable DS is left
 * treats the child zone as insecure.
 */
enum dnssec_result dnssec_ds_match(const uint8_t *owner, const uint8_t *ds, size_t ds_len,
				   const uint8_t *dnskey, size_t dnskey_len);

/*
 * A DNSKEY parsed for verification: its owner, fields, tag and libcrypto key, built once
 * and reused for every RRSIG it checks (the parse is the costly part for RSA).  Immutable
 * after dnssec_key_new, so one key may be used by several threads at once.  The caller owns
 * it (a validator keeps these beside its cached DNSKEY RRsets) and frees it with
 * dnssec_key_free.
 */
struct dnssec_key;

/*
 * Parses DNSKEY rdata owned by owner into *out.  Returns DNSSEC_OK, DNSSEC_UNSUPPORTED_ALG
 * (unknown algorithm: the key is simply unusable), DNSSEC_MALFORMED (the public key does not
 * decode for its algorithm, e.g. an RSA exponent longer than the key, a point off the curve)
 * or DNSSEC_ERROR (out of memory).  *out is set only on DNSSEC_OK.
 */
enum dnssec_result dnssec_key_new(const uint8_t *owner, const uint8_t *rd, size_t rdlen,
				  struct dnssec_key **out);

/* Frees a key; NULL is fine. */
void dnssec_key_free(struct dnssec_key *k);

/* The key's tag, algorithm, flags and owner (borrowed for the key's lifetime). */
uint16_t dnssec_key_tag_of(const struct dnssec_key *k);
uint8_t dnssec_key_alg(const struct dnssec_key *k);
uint16_t dnssec_key_flags(const struct dnssec_key *k);
const uint8_t *dnssec_key_owner(const struct dnssec_key *k);

/* ------------------------------------------------------------------------------------------ */
/* RRSIG (verify.c)                                                                            */

/* An RRSIG rdata split into fields; signer and sig point into the rdata (borrowed). */
struct dnssec_rrsig {
	uint16_t type_covered;
	uint8_t alg;
	uint8_t labels;
	uint32_t orig_ttl;
	uint32_t expiration;
	uint32_t inception;
	uint16_t key_tag;
	const uint8_t *signer;   /* uncompressed name, as signed (case kept) */
	size_t signer_len;
	const uint8_t *sig;
	size_t sig_len;
	const uint8_t *rd;       /* the whole rdata */
	size_t rdlen;
};

/* Splits RRSIG rdata; TDNS_OK or TDNS_EMALFORMED (short, bad signer name, no signature). */
int dnssec_rrsig_parse(const uint8_t *rd, size_t rdlen, struct dnssec_rrsig *s);

/*
 * Checks the validity window (RFC 4035 §5.3.1) at now with skew seconds of tolerance on
 * both ends, in serial-number arithmetic: DNSSEC_OK, DNSSEC_EXPIRED or DNSSEC_NOT_YET_VALID.
 * An inception after the expiration is DNSSEC_MALFORMED.
 */
enum dnssec_result dnssec_rrsig_time(const struct dnssec_rrsig *s, uint32_t now, uint32_t skew);

/*
 * Could key have made s?  Signer name equals the key's owner, algorithm and key tag equal,
 * the key has the Zone Key flag and protocol 3 (RFC 4035 §5.3.1).  Cheap: use it to pick
 * candidate keys before dnssec_rrsig_verify.
 */
bool dnssec_rrsig_key_matches(const struct dnssec_rrsig *s, const struct dnssec_key *k);

/* One rdata of an RRset (uncompressed wire form). */
struct dnssec_rdata {
	const uint8_t *rd;
	size_t len;
};

/* An RRset as received: owner (case as received), type, class and its rdatas in any order. */
struct dnssec_rrset {
	const uint8_t *owner;
	uint16_t type;
	uint16_t rclass;
	const struct dnssec_rdata *rdata;
	size_t count;
};

/* What a successful verification tells the validator beyond "ok". */
struct dnssec_verify_info {
	bool wildcard;                  /* expanded from a wildcard (RFC 4035 §5.3.4) */
	uint8_t source[DNS_NAME_MAX];   /* then the wildcard name, "*.<closest encloser>" */
	uint8_t closest[DNS_NAME_MAX];  /* and the closest encloser: the wildcard's parent */
	uint32_t ttl_max;               /* min(original TTL, expiration - now): cap for the
					   RRset's TTL in the cache (RFC 4035 §5.3.3) */
};

/* Signers may not sign RRsets bigger than this many rdatas (a validator's sanity bound). */
#define DNSSEC_RRSET_MAX 512

/*
 * Verifies that RRSIG s, made with key, signs set (RFC 4034 §3.1.8.1, RFC 4035 §5.3), in
 * this order, cheapest first:
 *   DNSSEC_MALFORMED      type covered differs from set->type, the labels field exceeds the
 *                         owner's labels (not counting a leading "*"), the owner is not at
 *                         or below the signer, more than DNSSEC_RRSET_MAX rdatas, or an
 *                         rdata too long for the canonical form;
 *   DNSSEC_KEY_MISMATCH   dnssec_rrsig_key_matches fails;
 *   DNSSEC_NOT_YET_VALID / DNSSEC_EXPIRED   from dnssec_rrsig_time(s, now, skew);
 *   DNSSEC_BUDGET         budget->verify_used would pass verify_max (budget may be NULL:
 *                         no limit);
 *   DNSSEC_BOGUS          the signature does not verify over the canonical RRset (owner
 *                         lower-cased or rebuilt as the wildcard, original TTL, rdatas
 *                         with names lower-cased per dns_rdata_canonical, sorted, duplicates
 *                         removed);
 *   DNSSEC_ERROR          out of memory or libcrypto failure;
 *   DNSSEC_OK             info (may be NULL) filled in.
 */
enum dnssec_result dnssec_rrsig_verify(const struct dnssec_rrset *set,
				       const struct dnssec_rrsig *s, const struct dnssec_key *key,
				       uint32_t now, uint32_t skew, struct dnssec_budget *budget,
				       struct dnssec_verify_info *info);

/*
 * Verifies set with any of its RRSIGs (sigs: rdatas of the RRSIGs at set->owner; those
 * covering other types are skipped) under any of keys, stopping at the first success: the
 * loop a validator runs for every RRset.  Only pairs that pass dnssec_rrsig_key_matches
 * and the time check are charged to budget.  Returns DNSSEC_OK with info filled (and
 * *used, when not NULL, the index of the RRSIG in sigs that verified), DNSSEC_BUDGET as
 * soon as the budget runs out, else the most telling failure, in this order: BOGUS (a
 * matching key's signature failed), EXPIRED, NOT_YET_VALID, MALFORMED, KEY_MISMATCH (no
 * key fits any RRSIG: EDE 9 DNSKEY Missing is then the validator's call), UNSUPPORTED_ALG
 * (every RRSIG uses an algorithm not supported here), and BOGUS when sigs holds no RRSIG
 * for the type (EDE 10 RRSIGs Missing, the validator's call too).
 */
enum dnssec_result dnssec_rrset_verify(const struct dnssec_rrset *set,
				       const struct dnssec_rdata *sigs, size_t nsig,
				       struct dnssec_key *const *keys, size_t nkeys, uint32_t now,
				       uint32_t skew, struct dnssec_budget *budget,
				       struct dnssec_verify_info *info, size_t *used);

/* ------------------------------------------------------------------------------------------ */
/* NSEC (nsec.c, RFC 4034 §4, RFC 4035 §5.4)                                                    */

/* An NSEC rdata split; next and bitmap point into the rdata (borrowed). */
struct dnssec_nsec {
	const uint8_t *next;      /* next owner name, case as signed */
	const uint8_t *bitmap;    /* type bitmap windows */
	size_t bitmap_len;
};

/* Splits NSEC rdata and checks the bitmap's windows; TDNS_OK or TDNS_EMALFORMED. */
int dnssec_nsec_parse(const uint8_t *rd, size_t rdlen, struct dnssec_nsec *n);

/*
 * True when the type bitmap (RFC 4034 §4.1.2 windows, as in NSEC and NSEC3) lists type.  A
 * malformed bitmap lists nothing.
 */
bool dnssec_bitmap_has(const uint8_t *bitmap, size_t len, uint16_t type);

/*
 * True when the NSEC at owner with next name next covers name: owner < name < next in
 * canonical order (RFC 4034 §6.1), or, for the last NSEC of the zone (next <= owner, next
 * being the apex), owner < name and name is at or below next.  A name equal to owner is
 * matched, not covered.
 */
bool dnssec_nsec_covers(const uint8_t *owner, const uint8_t *next, const uint8_t *name);

/*
 * True when the NSEC at owner with bitmap proves that name has no RRset of qtype (NODATA,
 * RFC 4035 §5.4): owner equals name, the bitmap has neither qtype nor CNAME, and the NSEC
 * is not the parent side of a delegation (NS without SOA) unless qtype is DS, nor, for DS,
 * the child's apex (SOA set; RFC 6840 §4.4).  Also true when name is an empty non-terminal:
 * the NSEC covers it and its next name lies below it (RFC 4035 §3.1.3.2).  A wildcard
 * NODATA is this at the wildcard's owner plus a proof that qname does not exist.
 */
bool dnssec_nsec_nodata(const uint8_t *owner, const struct dnssec_nsec *n, const uint8_t *name,
			uint16_t qtype);

/*
 * Closest encloser of name that an NSEC covering it shows (RFC 4592 §3.3.1 applied to
 * RFC 4035 §5.4): the longer of the common ancestors of name with owner and with next.
 * Writes it into out (DNS_NAME_MAX octets) and returns its length.
 */
size_t dnssec_nsec_closest_encloser(const uint8_t *owner, const uint8_t *next,
				    const uint8_t *name, uint8_t *out);

/*
 * Writes "*." + parent into out (DNS_NAME_MAX octets): the wildcard whose absence or use
 * must be proved for names below parent.  Returns its length, or 0 when it would be longer
 * than DNS_NAME_MAX.
 */
size_t dnssec_wildcard_name(const uint8_t *parent, uint8_t *out);

/* ------------------------------------------------------------------------------------------ */
/* NSEC3 (nsec3.c, RFC 5155 §8)                                                                 */

#define DNSSEC_NSEC3_OPTOUT 0x01

/* An NSEC3 rdata split; salt, next and bitmap point into the rdata (borrowed). */
struct dnssec_nsec3 {
	uint8_t alg;              /* 1 = SHA-1 */
	uint8_t flags;            /* DNSSEC_NSEC3_OPTOUT */
	uint16_t iterations;
	const uint8_t *salt;
	uint8_t salt_len;
	const uint8_t *next;      /* next hashed owner, raw hash octets */
	uint8_t next_len;
	const uint8_t *bitmap;
	size_t bitmap_len;
};

/* Splits NSEC3 rdata and checks the bitmap; TDNS_OK or TDNS_EMALFORMED. */
int dnssec_nsec3_parse(const uint8_t *rd, size_t rdlen, struct dnssec_nsec3 *n);

/*
 * True when this NSEC3 may be used in a proof: hash algorithm 1, flags 0 or opt-out only
 * (RFC 5155 §8.2), iterations at most DNSSEC_NSEC3_ITER_MAX (RFC 9276 §3.2).  A response
 * whose NSEC3 records all fail this makes the answer insecure, not bogus.
 */
bool dnssec_nsec3_usable(const struct dnssec_nsec3 *n);

/*
 * Hashes name (RFC 5155 §5: SHA-1 of the lower-cased wire name and salt, then iterations
 * more times over the hash and salt) into out (DNSSEC_NSEC3_HASH_LEN octets).  Charges
 * iterations + 1 to budget->hash_used (budget may be NULL: no limit).  Returns DNSSEC_OK,
 * DNSSEC_UNSUPPORTED_NSEC3 (alg not 1, or iterations > DNSSEC_NSEC3_ITER_MAX: nothing
 * computed), DNSSEC_BUDGET (nothing computed) or DNSSEC_ERROR.
 */
enum dnssec_result dnssec_nsec3_hash(const uint8_t *name, uint8_t alg, uint16_t iterations,
				     const uint8_t *salt, size_t salt_len,
				     struct dnssec_budget *budget, uint8_t *out);

/*
 * Decodes the hash in the first label of an NSEC3 owner name (base32hex, RFC 4648 §7, case
 * ignored) into out (DNSSEC_NSEC3_HASH_LEN octets).  Returns its length, or 0 when the label
 * is not a base32hex SHA-1 hash.
 */
size_t dnssec_nsec3_owner_hash(const uint8_t *owner, uint8_t *out);

/*
 * True when the NSEC3 whose owner hash is owner_hash covers hash: owner_hash < hash <
 * n->next, or, for the last NSEC3 of the chain (next <= owner_hash), hash > owner_hash or
 * hash < next.  Hashes are DNSSEC_NSEC3_HASH_LEN octets.
 */
bool dnssec_nsec3_covers(const uint8_t *owner_hash, const struct dnssec_nsec3 *n,
			 const uint8_t *hash);

/* One NSEC3 RR of a response: owner name and rdata (both borrowed). */
struct dnssec_nsec3_rr {
	const uint8_t *owner;
	const uint8_t *rd;
	size_t rdlen;
};

/* Index meaning "none" in the results below. */
#define DNSSEC_NONE SIZE_MAX

/*
 * Hashes name with the parameters of the NSEC3 set (those of the first usable record; records
 * with other parameters, unusable ones and owners outside zone are ignored, RFC 5155 §8.2)
 * and reports which record matches it (*match) and which covers it (*cover), DNSSEC_NONE
 * for neither.  Returns DNSSEC_OK, DNSSEC_UNSUPPORTED_NSEC3 (no usable record: insecure),
 * DNSSEC_BUDGET or DNSSEC_ERROR.
 */
enum dnssec_result dnssec_nsec3_find(const uint8_t *name, const uint8_t *zone,
				     const struct dnssec_nsec3_rr *set, size_t n,
				     struct dnssec_budget *budget, size_t *match, size_t *cover);

/* The closest encloser proof of RFC 5155 §8.3 (and what §8.4-8.7 build on). */
struct dnssec_nsec3_proof {
	uint8_t closest[DNS_NAME_MAX]; /* closest encloser (== qname when qname_matched) */
	const uint8_t *next_closer;    /* suffix of qname one label longer than closest, or NULL
					  when qname_matched */
	size_t ce_match;               /* index of the NSEC3 that matches closest */
	size_t nc_cover;               /* index of the NSEC3 that covers next_closer, or
					  DNSSEC_NONE when qname_matched */
	bool qname_matched;            /* an NSEC3 matches qname itself (NODATA case) */
	bool opt_out;                  /* the NSEC3 covering next_closer has the opt-out flag:
					  an insecure delegation may exist (RFC 5155 §8.6) */
};

/*
 * Finds the closest encloser of qname inside zone from the NSEC3 set (RFC 5155 §8.3): walks
 * from qname up to zone, hashing each name (so a long qname costs one hash per label: give
 * a budget), until one has a matching NSEC3, then checks that the next closer name is
 * covered.  When qname itself matches, that is the result (qname_matched; the caller reads
 * the bitmap of set[ce_match] for NODATA, or for DS at a delegation, RFC 5155 §8.5-8.6).
 * Returns DNSSEC_OK with *p filled; DNSSEC_BOGUS when no proof is there (no name matches,
 * the next closer is not covered, or the closest encloser's NSEC3 has DNAME, or NS without
 * SOA: the parent side of a cut cannot deny names below it); DNSSEC_UNSUPPORTED_NSEC3 (no
 * usable record: insecure, RFC 9276); DNSSEC_MALFORMED (qname not under zone);
 * DNSSEC_BUDGET (a hash would pass the budget) or DNSSEC_ERROR.  To finish an NXDOMAIN
 * proof, hash "*." + closest with dnssec_nsec3_find and require a cover (§8.4); for a
 * wildcard answer, use info.closest from the RRSIG and require the next closer covered.
 */
enum dnssec_result dnssec_nsec3_closest_encloser(const uint8_t *qname, const uint8_t *zone,
						 const struct dnssec_nsec3_rr *set, size_t n,
						 struct dnssec_budget *budget,
						 struct dnssec_nsec3_proof *p);

/* ------------------------------------------------------------------------------------------ */
/* Trust anchors (anchor.c)                                                                    */

/*
 * A set of trust anchors: DS and DNSKEY records by owner name, as the root of every chain of
 * trust.  Owned by the caller; read-only use (lookups) may be shared between threads.
 */
struct dnssec_anchors;

/* The anchors of one owner name (all borrowed from the set, valid until it is freed). */
struct dnssec_anchor_set {
	const uint8_t *owner;              /* lower-cased */
	const struct dnssec_rdata *ds;     /* DS rdatas */
	size_t nds;
	const struct dnssec_rdata *keys;   /* DNSKEY rdatas */
	size_t nkeys;
};

/* An empty set, or NULL when out of memory. */
struct dnssec_anchors *dnssec_anchors_new(void);

/* Frees a set; NULL is fine. */
void dnssec_anchors_free(struct dnssec_anchors *a);

/*
 * Adds one anchor (a copy; an rdata already there is not added twice).  type is DNS_TYPE_DS
 * or DNS_TYPE_DNSKEY (else TDNS_EINVAL); rdata that does not split as its type is
 * TDNS_EBADRDATA.  TDNS_OK or TDNS_ENOMEM otherwise.
 */
int dnssec_anchors_add(struct dnssec_anchors *a, const uint8_t *owner, uint16_t type,
		       const uint8_t *rd, size_t rdlen);

/*
 * Adds the built-in root anchors: the DS records (SHA-256) of the root KSKs with key tags
 * 20326 and 38696 as IANA publishes them.  TDNS_OK or TDNS_ENOMEM.
 */
int dnssec_anchors_add_root(struct dnssec_anchors *a);

/*
 * Reads a trust anchor file in the format of Unbound's trust-anchor-file: zone-file syntax
 * (comments, parentheses, $ORIGIN, $TTL; relative names are relative to the root) holding DS
 * and DNSKEY records only.  Returns TDNS_OK; TDNS_EIO when the file cannot be read;
 * TDNS_EZONEFILE for a syntax error; TDNS_EINVAL for a record of another type and
 * TDNS_EBADRDATA for a DS or DNSKEY whose rdata does not split (err->msg says "file:line:
 * why" in every case; err may be NULL).  Anchors read before the error stay in the set.
 */
int dnssec_anchors_load(struct dnssec_anchors *a, const char *path, struct dns_zf_error *err);

/* The same over text of len octets; name stands for the file in error messages. */
int dnssec_anchors_load_mem(struct dnssec_anchors *a, const char *text, size_t len,
			    const char *name, struct dns_zf_error *err);

/* Number of anchor records in the set. */
size_t dnssec_anchors_count(const struct dnssec_anchors *a);

/*
 * The anchors of the i-th owner name (in the order they were first added): fills *out and
 * returns true, or false when i is past the last owner.  For listing every anchor.
 */
bool dnssec_anchors_at(const struct dnssec_anchors *a, size_t i, struct dnssec_anchor_set *out);

/*
 * The closest anchor of name: the anchors of the deepest owner at or above name (the start
 * of its chain of trust).  Fills *out and returns true, or returns false when no anchor owner
 * encloses name (the name is then insecure, RFC 4035 §4.3).
 */
bool dnssec_anchors_closest(const struct dnssec_anchors *a, const uint8_t *name,
			    struct dnssec_anchor_set *out);

/* ------------------------------------------------------------------------------------------ */
/* DNSKEY RRset against DS records or anchors (keyset.c)                                       */

/* What a chain of trust says of a zone's keys (RFC 4035 §4.3). */
enum dnssec_security {
	DNSSEC_SECURE,        /* the DNSKEY RRset is authenticated */
	DNSSEC_INSECURE,      /* no DS/anchor can be used here: the zone is unsigned for us */
	DNSSEC_BOGUS_KEYS,    /* the DS/anchors should authenticate the keys and do not */
	DNSSEC_INDETERMINATE, /* budget exhausted or libcrypto/memory failure: SERVFAIL */
};

/* The verdict of dnssec_keyset_verify. */
struct dnssec_keyset_verdict {
	enum dnssec_security security;
	enum dnssec_result result; /* DNSSEC_OK when secure, else the reason */
	int ede;                   /* RFC 8914 code for the reason, -1 when secure */
	size_t key;                /* secure: index in the DNSKEY set of the trusted key that
				      signed it; else DNSSEC_NONE */
	struct dnssec_verify_info info; /* secure: of the verifying RRSIG (ttl_max) */
};

/*
 * Authenticates a zone's DNSKEY RRset (keys, with sigs the RRSIG rdatas at its owner) from
 * the DS RRset of the parent (ds, nds) and/or trust-anchor DNSKEYs (anchor_keys,
 * nanchor_keys; a DS anchor is passed as ds): one of the DNSKEYs must be trusted, i.e. match
 * a usable DS (dnssec_ds_match) or equal an anchor DNSKEY, have the Zone Key flag and
 * protocol 3 and not the REVOKE flag (RFC 5011 §2.1; the SEP flag is ignored, RFC 4034
 * §2.1.1), and sign the DNSKEY RRset (dnssec_rrset_verify with budget).
 *
 * A DS is usable when its algorithm and digest type are supported; a SHA-1 DS is ignored when
 * a SHA-256 DS of a supported algorithm is in the set (RFC 4509 §3; Unbound alike).  With
 * DS records but none usable and no anchor keys, the zone is INSECURE (RFC 4035 §5.2, RFC
 * 6840 §5.2) with result UNSUPPORTED_DIGEST (EDE 2) or UNSUPPORTED_ALG (EDE 1).
 *
 * BOGUS_KEYS results: DNSSEC_BOGUS (EDE 6) when a DS names a key by tag and algorithm but no
 * digest matches; DNSSEC_KEY_MISMATCH (EDE 9 DNSKEY Missing) when no DNSKEY fits any usable
 * DS or anchor (also when the only one that does is revoked, and when every anchor key is
 * revoked); DNSSEC_MALFORMED (EDE 6) when no DS or anchor key splits; otherwise the failure of the
 * self-signature: DNSSEC_BOGUS, EXPIRED (7), NOT_YET_VALID (8), MALFORMED (6), or
 * KEY_MISMATCH with EDE 10 RRSIGs Missing when no RRSIG was made by a trusted key.  An empty
 * ds and anchor_keys is BOGUS_KEYS with DNSSEC_MALFORMED (the caller must prove the absence
 * of a DS with NSEC/NSEC3 instead).  INDETERMINATE: DNSSEC_BUDGET or DNSSEC_ERROR (EDE 5).
 * Besides the signature checks, every DS digest computed (a DS and a key with the same tag
 * and algorithm) is charged to budget->hash_used as one hash, so that a set of many keys and
 * DS records sharing a tag (KeyTrap) stops at the budget too.
 * Returns v->security.
 */
enum dnssec_security dnssec_keyset_verify(const struct dnssec_rrset *keys,
					  const struct dnssec_rdata *sigs, size_t nsig,
					  const struct dnssec_rdata *ds, size_t nds,
					  const struct dnssec_rdata *anchor_keys,
					  size_t nanchor_keys, uint32_t now, uint32_t skew,
					  struct dnssec_budget *budget,
					  struct dnssec_keyset_verdict *v);


/* ------------------------------------------------------------------------------------------ */
/* Negative trust anchors (nta.c, RFC 7646)                                                    */

/*
 * A set of negative trust anchors: names at and below which answers are not validated (they
 * are treated as insecure).  Entries from the configuration never expire; entries added at
 * run time (tdns-cli dnssec nta add) expire after their lifetime (BIND's nta-lifetime, 1 h by
 * default) and are kept in a file so that they survive a restart until then.  Thread-safe:
 * the control thread changes the set while workers call dnssec_ntas_covers.  The owner (the
 * daemon) frees it with dnssec_ntas_free.
 */
struct dnssec_ntas;

#define DNSSEC_NTA_MAX 4096                 /* entries; adding more is TDNS_ERANGE */
#define DNSSEC_NTA_LIFETIME_DEFAULT 3600    /* seconds, as BIND's nta-lifetime */
#define DNSSEC_NTA_LIFETIME_MAX 604800      /* one week, as BIND's limit */
#define DNSSEC_NTA_FILE "nta.json"          /* the run-time NTAs, in the state directory */

/* One entry as listed. */
struct dnssec_nta {
	uint8_t name[DNS_NAME_MAX]; /* lower-cased */
	int64_t added;              /* unix time it was added */
	int64_t expires;            /* unix time it ends; 0 for a configured (permanent) one */
	bool config;                /* from [dnssec] negative-trust-anchors */
};

/* An empty set, or NULL when out of memory. */
struct dnssec_ntas *dnssec_ntas_new(void);

/* Frees a set; NULL is fine. */
void dnssec_ntas_free(struct dnssec_ntas *s);

/*
 * Adds (or renews) a run-time NTA for name that ends lifetime seconds (1 ..
 * DNSSEC_NTA_LIFETIME_MAX, else TDNS_EINVAL) after now (unix seconds).  A name that is a
 * configured NTA stays permanent (TDNS_OK, nothing changes).  TDNS_ERANGE when the set
 * holds DNSSEC_NTA_MAX entries.
 */
int dnssec_ntas_add(struct dnssec_ntas *s, const uint8_t *name, int64_t lifetime, int64_t now);

/*
 * Replaces the configured NTAs with names[0..n) (wire form; permanent).  A run-time entry
 * for one of these names is replaced by the configured one.  TDNS_OK, TDNS_ENOMEM or
 * TDNS_ERANGE (nothing changed then).
 */
int dnssec_ntas_set_config(struct dnssec_ntas *s, const uint8_t *const *names, size_t n);

/*
 * Removes the NTA for exactly name (run-time or configured; a configured one comes back at
 * the next dnssec_ntas_set_config).  TDNS_OK, or TDNS_ENOENT when there is none.
 */
int dnssec_ntas_remove(struct dnssec_ntas *s, const uint8_t *name);

/* Drops the entries expired at now; returns how many went. */
size_t dnssec_ntas_expire(struct dnssec_ntas *s, int64_t now);

/*
 * The entries still in force at now, sorted by name (canonical order), as a malloc'd array
 * the caller frees (NULL when there are none or out of memory: *n says which, and is set to
 * (size_t)-1 on out of memory).
 */
struct dnssec_nta *dnssec_ntas_list(const struct dnssec_ntas *s, int64_t now, size_t *n);

/*
 * True when an NTA in force at now is at or above wire_name (RFC 7646 §2: the NTA applies
 * to the name and everything below it).  Takes no lock when the set is empty, and a shared
 * lock otherwise: cheap enough to ask on every validation.  s NULL is false.
 */
bool dnssec_ntas_covers(const struct dnssec_ntas *s, const uint8_t *wire_name, int64_t now);

/*
 * Writes the run-time entries in force at now to path as JSON ({"version": 1, "ntas":
 * [{"name": "example.com.", "added": t, "expires": t}]}), durably (tdns_file_replace).
 * TDNS_OK, TDNS_ENOMEM or TDNS_EIO.
 */
int dnssec_ntas_save(const struct dnssec_ntas *s, const char *path, int64_t now);

/*
 * Adds the entries of a file written by dnssec_ntas_save that are still in force at now.
 * A missing file is TDNS_OK (nothing to add).  TDNS_EIO (unreadable) or TDNS_EMALFORMED
 * (not such a file) with the reason in err; entries read before an error stay.
 */
int dnssec_ntas_load(struct dnssec_ntas *s, const char *path, int64_t now, char *err,
		     size_t errlen);


/* ------------------------------------------------------------------------------------------ */
/* RFC 5011 automated updates of trust anchors (rfc5011.c)                                     */

/*
 * The state of every key with the SEP flag seen at a configured trust point (the root by
 * default), as RFC 5011 §4 tracks it, kept in a file (written temp+fsync+rename) so that a key
 * added or revoked by the zone is followed across restarts.  Feed it every DNSKEY RRset of a
 * trust point that the validator authenticated from the current anchors
 * (dnssec_rfc5011_update); build the validator's anchors from dnssec_rfc5011_anchors.
 * Thread-safe (one mutex); the daemon owns it and frees it with dnssec_rfc5011_free.
 */
struct dnssec_rfc5011;

/* RFC 5011 §4 key states. */
enum dnssec_rfc5011_state {
	DNSSEC_5011_START,    /* not yet seen (not kept: listed only for completeness) */
	DNSSEC_5011_ADDPEND,  /* new key seen, waiting out the add hold-down */
	DNSSEC_5011_VALID,    /* a trust anchor */
	DNSSEC_5011_MISSING,  /* a trust anchor no longer in the zone's DNSKEY set */
	DNSSEC_5011_REVOKED,  /* revoked by the zone (REVOKE bit, self-signed): never trusted */
	DNSSEC_5011_REMOVED,  /* revoked and the remove hold-down is over */
};

#define DNSSEC_5011_ADD_HOLDDOWN (30 * 86400)    /* RFC 5011 §2.4.1: 30 days */
#define DNSSEC_5011_REMOVE_HOLDDOWN (30 * 86400) /* RFC 5011 §2.4.2: 30 days */
#define DNSSEC_5011_FILE "trust-anchors.state" /* in the state directory */
#define DNSSEC_5011_KEYS_MAX 32                  /* keys tracked per trust point; more are
						    ignored (a zone flooding SEP keys) */

/* "Start", "AddPend", "Valid", "Missing", "Revoked", "Removed". */
const char *dnssec_rfc5011_state_str(enum dnssec_rfc5011_state s);

/* One tracked key as dnssec_rfc5011_list gives it. */
struct dnssec_rfc5011_key {
	uint8_t owner[DNS_NAME_MAX];  /* the trust point, lower-cased */
	uint16_t tag;                 /* key tag without the REVOKE bit */
	uint16_t revoked_tag;         /* key tag with it (what the zone publishes once revoked) */
	uint8_t alg;
	enum dnssec_rfc5011_state state;
	int64_t first_seen;           /* unix time the key was first seen */
	int64_t last_seen;            /* last time it was in a validated DNSKEY set */
	int64_t changed;              /* last change of state */
	int64_t hold_until;           /* AddPend: when it becomes Valid; Revoked: when it is
					 Removed; 0 otherwise */
};

/*
 * A tracker whose state lives in path (NULL: in memory only).  An existing file is read;
 * a missing one is an empty state.  TDNS_OK; TDNS_ENOMEM; TDNS_EIO or TDNS_EMALFORMED with
 * "path: why" in err (a damaged file: the caller decides whether to start without it).
 */
int dnssec_rfc5011_new(const char *path, struct dnssec_rfc5011 **out, char *err, size_t errlen);

/* Frees a tracker; NULL is fine. */
void dnssec_rfc5011_free(struct dnssec_rfc5011 *t);

/*
 * Overrides the hold-down times (seconds; for tests and [dnssec] tuning).  Defaults
 * DNSSEC_5011_ADD_HOLDDOWN and DNSSEC_5011_REMOVE_HOLDDOWN.
 */
void dnssec_rfc5011_set_holddown(struct dnssec_rfc5011 *t, int64_t add, int64_t remove);

/*
 * The validator authenticated keys (the DNSKEY RRset of a trust point, with sigs its RRSIG
 * rdatas and ttl its TTL) from the current anchors at unix time now.  For a keys->owner that
 * is not an owner in configured, nothing happens.  Otherwise every SEP key (Zone Key + SEP
 * flags, protocol 3, supported algorithm) moves as RFC 5011 §4.1 says:
 *   new key: AddPend with the hold-down max(add hold-down, ttl) (§2.4.1); but while the
 *            trust point has no Valid or Missing key yet (first use), a key that a
 *            configured DS or DNSKEY names is Valid at once, as Unbound does;
 *   AddPend: Valid once the hold-down is over and the key is still there; back to Start
 *            (forgotten) when it is gone (§4.1 KeyRem);
 *   Valid -> Missing when gone, Missing -> Valid when back;
 *   with the REVOKE bit and a valid self-signature over keys (§2.1): Revoked from any state
 *            (a key first seen revoked is recorded Revoked, so it can never become Valid);
 *   Revoked -> Removed once the remove hold-down is over (§2.4.2).
 * The state is saved when it changed (*changed, may be NULL, says so).  Returns TDNS_OK, or
 * the save's failure (the state in memory is updated all the same).
 */
int dnssec_rfc5011_update(struct dnssec_rfc5011 *t, const struct dnssec_anchors *configured,
			  const struct dnssec_rrset *keys, const struct dnssec_rdata *sigs,
			  size_t nsig, uint32_t ttl, int64_t now, bool *changed);

/*
 * The trust anchors to validate with: a new set (caller frees with dnssec_anchors_free)
 * holding, for every owner of configured, the DNSKEYs the tracker has Valid or Missing there,
 * or the configured DS/DNSKEY records when it has none (not yet seen, or every key revoked:
 * then the configured ones are all there is, and validation under them fails as it should
 * when they are revoked).  TDNS_OK or TDNS_ENOMEM.
 */
int dnssec_rfc5011_anchors(struct dnssec_rfc5011 *t, const struct dnssec_anchors *configured,
			   struct dnssec_anchors **out);

/*
 * Every tracked key (all trust points) as a malloc'd array the caller frees; *n is its
 * length (NULL and 0 when none; NULL and (size_t)-1 on out of memory).
 */
struct dnssec_rfc5011_key *dnssec_rfc5011_list(struct dnssec_rfc5011 *t, size_t *n);

#endif
