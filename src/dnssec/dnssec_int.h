/* SPDX-License-Identifier: MIT */
/* Private to src/dnssec: the algorithm table and the parts of a parsed key verify.c needs. */
#ifndef TDNS_DNSSEC_INT_H
#define TDNS_DNSSEC_INT_H

#include <stdatomic.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "dnssec/dnssec.h"

enum dnssec_keykind {
	DNSSEC_KT_RSA,   /* RFC 3110, RFC 5702: PKCS#1 v1.5 over the digest md */
	DNSSEC_KT_EC,    /* RFC 6605: r|s of size octets each, over the digest md */
	DNSSEC_KT_EDDSA, /* RFC 8080: pure EdDSA, public key of size octets */
};

struct dnssec_algdef {
	uint8_t alg;
	uint8_t kind;     /* enum dnssec_keykind */
	const char *md;   /* OpenSSL digest name; NULL for EdDSA */
	size_t size;      /* EC coordinate or EdDSA public key octets */
};

/* The table entry for a DNSSEC algorithm, NULL when it is not supported. */
const struct dnssec_algdef *dnssec_algdef(uint8_t alg);

/* True when a key may sign zone data: Zone Key flag and protocol 3 (RFC 4034 §2.1). */
bool dnssec_key_usable(const struct dnssec_key *k);

/* The libcrypto key, borrowed for the key's lifetime. */
EVP_PKEY *dnssec_key_pkey(const struct dnssec_key *k);

/* True when a type bitmap has well-formed windows (RFC 4034 §4.1.2). */
bool dnssec_bitmap_valid(const uint8_t *bm, size_t len);

/*
 * Reads the JSON state file at path into *out (caller frees with json_decref).  A missing
 * file is TDNS_OK with *out NULL; TDNS_EIO or TDNS_EMALFORMED with "path[:line]: why" in err.
 */
int dnssec_state_load(const char *path, json_t **out, char *err, size_t errlen);

/* Writes doc to path durably (tdns_file_replace, mode 0640); TDNS_OK, ENOMEM or EIO. */
int dnssec_state_save(const char *path, const json_t *doc);

/*
 * Crypto work actually done, process-wide (relaxed atomics): signature checks handed to
 * libcrypto, DS digests computed, NSEC3 SHA-1 rounds.  Read by the KeyTrap tests to show
 * that no work escapes the budget; nothing else depends on them.
 */
struct dnssec_work {
	_Atomic uint64_t verify;
	_Atomic uint64_t digest;
	_Atomic uint64_t sha1;
};

extern struct dnssec_work dnssec_work;

/* Adds n to one counter of dnssec_work. */
#define DNSSEC_WORK(field, n) \
	atomic_fetch_add_explicit(&dnssec_work.field, (uint64_t)(n), memory_order_relaxed)

#endif
