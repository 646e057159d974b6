/* SPDX-License-Identifier: MIT */
/* Private to src/dns: the RR type table whose field lists drive rdata text and wire forms. */
#ifndef TDNS_DNS_RRTYPE_INT_H
#define TDNS_DNS_RRTYPE_INT_H

#include "dns/dns.h"

/* Kinds of rdata fields.  Kinds marked "rest" take the remainder of the rdata. */
enum dns_fkind {
	DNS_F_END = 0,  /* end of the field list */
	DNS_F_U8,       /* decimal 0-255 */
	DNS_F_U16,      /* decimal 0-65535 */
	DNS_F_U32,      /* decimal 0-4294967295 */
	DNS_F_TTL,      /* u32 that also takes TTL units in text (1h30m); printed as a number */
	DNS_F_TIME,     /* u32 seconds, YYYYMMDDHHmmSS in text (RRSIG, RFC 4034 §3.2) */
	DNS_F_ALG,      /* u8 DNSSEC algorithm: number or mnemonic in text, number out */
	DNS_F_TYPE,     /* u16 RR type mnemonic (RRSIG type covered) */
	DNS_F_NAME,     /* uncompressed domain name */
	DNS_F_A,        /* 4-octet IPv4 address */
	DNS_F_AAAA,     /* 16-octet IPv6 address */
	DNS_F_STR,      /* <character-string>: length octet + up to 255 octets */
	DNS_F_STRS,     /* rest: one or more <character-string> (TXT) */
	DNS_F_HEX,      /* rest: hex, may be split over tokens; min = least octets */
	DNS_F_B64,      /* rest: base64, may be split over tokens; min = least octets */
	DNS_F_SALT,     /* length octet + hex, "-" for empty (NSEC3, RFC 5155 §3.3) */
	DNS_F_B32HEX,   /* length octet + base32hex without padding (NSEC3 next hashed owner) */
	DNS_F_BITMAP,   /* rest: type bitmap windows (RFC 4034 §4.1.2) */
	DNS_F_LOC,      /* whole rdata: RFC 1876 */
	DNS_F_SVCPARAMS,/* rest: SvcParams (RFC 9460 §2.2) */
	DNS_F_TAG,      /* CAA tag: length octet + 1-255 alphanumerics (RFC 8659 §4.1) */
	DNS_F_TEXT,     /* rest: one string without length octet (CAA value, URI target) */
	DNS_F_CERTTYPE, /* u16 certificate type: number or mnemonic PKIX... (RFC 4398 §2.1) */
	DNS_F_EUI48,    /* 6 octets as xx-xx-xx-xx-xx-xx (RFC 7043 §3.2) */
	DNS_F_EUI64,    /* 8 octets as xx-xx-xx-xx-xx-xx-xx-xx (RFC 7043 §4.2) */
	DNS_F_ILNP64,   /* 8 octets as four 16-bit hex groups x:x:x:x (RFC 6742 §2.1) */
	DNS_F_APL,      /* rest: [!]afi:address/prefix items (RFC 3123 §5) */
	DNS_F_GATEWAY,  /* IPSECKEY gateway; its type is rdata octet 1: 0 none ".", 1 IPv4,
			   2 IPv6, 3 name (RFC 4025 §2.5) */
	DNS_F_RELAY,    /* AMTRELAY relay: the same, typed by the low 7 bits of octet 1 */
	DNS_F_AMTTYPE,  /* AMTRELAY "D type" as two tokens into one octet (RFC 8777 §4.2) */
	DNS_F_HIP,      /* whole rdata: pk-alg HIT public-key [rendezvous...] (RFC 8005 §5) */
	DNS_F_SCHEME,   /* DSYNC u8 scheme: number or NOTIFY (RFC 9859 §2.1) */
	DNS_F_STROPT,   /* rest: an optional <character-string> (ISDN subaddress) */
	DNS_F_NSAP,     /* rest: "0x" then hex, dots allowed between digits (RFC 1706 §5) */
	DNS_F_WKSPROTO, /* u8 IP protocol: number, tcp or udp (RFC 1035 §3.4.2) */
	DNS_F_WKSMAP,   /* rest: ports (numbers or service names) as a bitmap */
	DNS_F_A6,       /* whole rdata: prefix length, address suffix, prefix name (RFC 2874) */
	DNS_F_B64DASH,  /* rest: base64, or "-" for none (DOA data) */
};

struct dns_field {
	uint8_t kind;       /* enum dns_fkind */
	uint8_t min;        /* least octets for HEX/B64 fields */
	const char *label;  /* for messages: "preference", "digest" */
};

/* Type flags. */
#define DNS_RRF_DECOMPRESS 0x01 /* names may arrive compressed (RFC 3597 §4) */
#define DNS_RRF_CANON 0x02      /* names are lower-cased in canonical form (RFC 4034 §6.2) */
#define DNS_RRF_WIREONLY 0x04   /* obsolete: read by name as BIND does, written in RFC 3597
				   form (TYPEnnn \#) so that every other tool reads it */
#define DNS_RRF_NOTEXT 0x10     /* no text form known here: RFC 3597 in and out (NXT) */
#define DNS_RRF_META 0x08       /* meta-type or QTYPE: no rdata in zone data */

#define DNS_MAX_FIELDS 9

struct dns_rrtype {
	const char *name;   /* NULL: unknown type */
	uint8_t flags;
	struct dns_field f[DNS_MAX_FIELDS + 1]; /* terminated by DNS_F_END */
};

/* Entry for type, or NULL when the table has no entry (unknown type). */
const struct dns_rrtype *dns_rrtype_find(uint16_t type);

/* RFC 2181 §8: the TTL of a record is 31 bits. */
#define DNS_TTL_MAX 0x7fffffffu

/*
 * What dns_ttl_units finds (rdata.c): RANGE is above DNS_TTL_MAX but within 32 bits (RFC 2181
 * §8 caps it), HUGE beyond 32 bits.
 */
enum dns_ttl_result { DNS_TTL_OK, DNS_TTL_BAD, DNS_TTL_RANGE, DNS_TTL_HUGE };

/*
 * Parses a TTL: RFC 1035 §5.1 decimal seconds, or BIND's units (1w2d3h4m5s, any case), for
 * zone files and for the rdata fields that hold a TTL.  Sets *out (to the 32-bit value, also
 * for DNS_TTL_RANGE) and returns an enum dns_ttl_result.
 */
int dns_ttl_units(const char *s, size_t len, uint32_t *out);

#endif
