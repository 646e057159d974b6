/* SPDX-License-Identifier: MIT */
/* crypto: the keyed digests of TSIG (RFC 8945) over OpenSSL; more algorithms join here. */
#ifndef TDNS_CRYPTO_H
#define TDNS_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dns.h"

/* ------------------------------------------------------------------------------------------ */
/* TSIG (tsig.c, RFC 8945): keys, signing and verification of messages and message streams.   */

/* The HMAC algorithms of RFC 8945 §6 that we sign and verify with. */
enum crypto_tsig_alg {
	CRYPTO_TSIG_HMAC_MD5,
	CRYPTO_TSIG_HMAC_SHA1,
	CRYPTO_TSIG_HMAC_SHA256,
	CRYPTO_TSIG_HMAC_SHA384,
	CRYPTO_TSIG_HMAC_SHA512,
};

#define CRYPTO_TSIG_MAC_MAX 64        /* HMAC-SHA512 */
#define CRYPTO_TSIG_SECRET_MAX 512    /* octets of a shared secret */
/* RFC 8945 §5.3.1: a client accepts up to 99 unsigned messages between signed ones. */
#define CRYPTO_TSIG_UNSIGNED_MAX 99
/* RFC 8945 §10: 300 seconds is the recommended fudge. */
#define CRYPTO_TSIG_FUDGE 300

/* One shared key. */
struct crypto_tsig_key {
	uint8_t name[DNS_NAME_MAX];   /* key name in canonical (lower-case) wire form */
	enum crypto_tsig_alg alg;
	size_t secret_len;
	uint8_t secret[CRYPTO_TSIG_SECRET_MAX];
};

/*
 * Parses an algorithm as the configuration writes it ("hmac-sha256", case-insensitive, the
 * wire name with or without its trailing dot, "hmac-md5" for hmac-md5.sig-alg.reg.int.).
 * Returns the algorithm, or -1 for one we do not know.
 */
int crypto_tsig_alg_parse(const char *text);

/* The configuration's name of alg ("hmac-sha256"). */
const char *crypto_tsig_alg_text(enum crypto_tsig_alg alg);

/* The wire name of alg (RFC 8945 §6: "hmac-md5.sig-alg.reg.int." for MD5); static. */
const uint8_t *crypto_tsig_alg_wire(enum crypto_tsig_alg alg);

/* Octets of alg's full MAC. */
size_t crypto_tsig_mac_size(enum crypto_tsig_alg alg);

/* Octets the TSIG RR that crypto_tsig_sign appends with key takes (NULL: 0), with error. */
size_t crypto_tsig_size(const struct crypto_tsig_key *key, uint16_t error);

/*
 * Fills key: name (text, absolute or relative to the root), alg, and the secret decoded from
 * base64 (blanks allowed).  TDNS_OK; TDNS_EBADTEXT for a bad name; TDNS_EINVAL for a secret
 * that is not base64, empty or longer than CRYPTO_TSIG_SECRET_MAX.
 */
int crypto_tsig_key_init(struct crypto_tsig_key *key, const char *name, enum crypto_tsig_alg alg,
			 const char *secret_b64);

/*
 * The state of one signed exchange: a request and its reply, or a request and the stream of
 * messages answering it (a zone transfer, RFC 8945 §5.3.1).  Zero it with crypto_tsig_init
 * and end it with crypto_tsig_clear.
 */
struct crypto_tsig_ctx {
	const struct crypto_tsig_key *key; /* borrowed; NULL until one is chosen */
	uint8_t mac[CRYPTO_TSIG_MAC_MAX];  /* the last MAC: the prior MAC of the next message */
	size_t mac_len;
	unsigned nmsg;                /* messages of the reply signed or verified so far */
	unsigned nunsigned;           /* verification: unsigned messages since the last MAC */
	void *acc;                    /* verification: the digest running over those (EVP_MAC_CTX) */
	uint16_t fudge;               /* what we sign with (CRYPTO_TSIG_FUDGE) */
};

/* Starts ctx for key (may be NULL: a server picks it in crypto_tsig_verify_request). */
void crypto_tsig_init(struct crypto_tsig_ctx *ctx, const struct crypto_tsig_key *key);

/* Frees what ctx holds; ctx may be reused after crypto_tsig_init. */
void crypto_tsig_clear(struct crypto_tsig_ctx *ctx);

/*
 * Server side, RFC 8945 §5.2: checks the TSIG t (found by dns_tsig_find) of the request pkt
 * against key, the key of t's name (NULL when there is none).  Returns TDNS_OK with *error 0 (the request is good) or a TSIG
 * error: DNS_TSIG_BADKEY (no key of that name and algorithm), DNS_TSIG_BADSIG (the MAC does
 * not match), DNS_TSIG_BADTIME (signed more than fudge away from now), DNS_TSIG_BADTRUNC (a
 * MAC shorter than we accept; our policy is the full length).  TDNS_EMALFORMED when the MAC
 * size is out of range (§5.2.2.1: the message is FORMERR).  On TDNS_OK, ctx holds the key
 * (for BADTIME and BADTRUNC too, whose replies are signed) and the request's MAC, ready to
 * sign the reply.
 */
int crypto_tsig_verify_request(struct crypto_tsig_ctx *ctx, const struct crypto_tsig_key *key,
			       const uint8_t *pkt, const struct dns_tsig *t, uint64_t now,
			       uint16_t *error);

/*
 * Signs the finished message msg[0..len) with ctx's key, appending a TSIG RR (error, and for
 * BADTIME the time now in Other Data, RFC 8945 §5.2.3).  With no prior MAC it is a request;
 * after one it is a reply chained to it (§5.3), and after the first message of a reply the
 * next ones sign only the timers (§5.3.1, every message signed).  ctx then holds the new MAC.
 * Returns the new length, or 0 (msg unchanged) when the TSIG would pass limit or the digest
 * fails.
 */
size_t crypto_tsig_sign(struct crypto_tsig_ctx *ctx, uint8_t *msg, size_t len, size_t limit,
			uint64_t now, uint16_t error);

/*
 * Client side: verifies one reply message pkt[0..len) to the request ctx signed (the first
 * message of a reply, or the next one of a stream when stream is true).  RFC 8945 §5.3.1: in
 * a stream up to CRYPTO_TSIG_UNSIGNED_MAX unsigned messages may come between signed ones;
 * the first and the last must be signed (the caller checks the last).  Returns TDNS_OK with
 * *error 0 for a good MAC or an allowed unsigned message (*sig false), or *error set: the
 * TSIG error the server reported, or DNS_TSIG_BADKEY / BADSIG / BADTIME found here; for
 * TDNS_EMALFORMED the message is unusable.
 */
int crypto_tsig_verify_reply(struct crypto_tsig_ctx *ctx, const uint8_t *pkt, size_t len,
			     bool stream, uint64_t now, uint16_t *error, bool *sig);

/* ------------------------------------------------------------------------------------------ */
/* [tsig NAME] sections (schema.c): the keys the server signs and verifies with.                */

/*
 * One [tsig NAME] section.  The secret is never shown: `config show` and `config get` print
 * "(secret)" for it (CFG_KEY_SECRET), and no message quotes it.
 */
struct cfg_tsig {
	char *name;               /* the key's name as written */
	unsigned algorithm;       /* enum crypto_tsig_alg */
	char *secret;             /* base64 as written, or "" when secret-file gives it */
	char *secret_file;        /* absolute, or relative to state-dir; "" when secret is given */
	char *src_file;           /* config file and line of the section, for errors */
	unsigned src_line;
	struct crypto_tsig_key key; /* filled once the section is complete */
};

struct cfg_table;

/* The [tsig NAME] table (RFC 8945 keys), listed in cfg_schema by src/daemon-cfg.c. */
extern const struct cfg_table crypto_schema_tsig;

/* The key of c's [tsig NAME] sections named name (wire form, any case); NULL if none. */
const struct crypto_tsig_key *crypto_tsig_key_find(const struct cfg_tsig *keys, size_t nkeys,
						   const uint8_t *name);

#endif
