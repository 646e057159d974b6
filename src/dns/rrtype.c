/* SPDX-License-Identifier: MIT */
/* The RR type table (mnemonics and rdata field lists), and class, rcode, EDE and opcode names. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dns/rrtype_int.h"

#define F(k, l) { .kind = (k), .label = (l) }
#define FM(k, m, l) { .kind = (k), .min = (m), .label = (l) }

/*
 * One entry per type we know, indexed by type number.  The field lists drive text->wire,
 * wire->text, wire checks, decompression on receipt and canonical lower-casing in rdata.c.
 */
static const struct dns_rrtype rrtypes[] = {
	/* The obsolete mail types of RFC 1035 §3.3 (WIREONLY): read by name, written as \#. */
	[DNS_TYPE_A] = { "A", 0, { F(DNS_F_A, "address") } },
	[DNS_TYPE_NS] = { "NS", DNS_RRF_DECOMPRESS | DNS_RRF_CANON,
			  { F(DNS_F_NAME, "name server") } },
	[3] = { "MD", DNS_RRF_DECOMPRESS | DNS_RRF_CANON | DNS_RRF_WIREONLY,
		{ F(DNS_F_NAME, "mail destination") } },
	[4] = { "MF", DNS_RRF_DECOMPRESS | DNS_RRF_CANON | DNS_RRF_WIREONLY,
		{ F(DNS_F_NAME, "mail forwarder") } },
	[DNS_TYPE_CNAME] = { "CNAME", DNS_RRF_DECOMPRESS | DNS_RRF_CANON,
			     { F(DNS_F_NAME, "target") } },
	[DNS_TYPE_SOA] = { "SOA", DNS_RRF_DECOMPRESS | DNS_RRF_CANON,
			   { F(DNS_F_NAME, "primary server"), F(DNS_F_NAME, "mailbox"),
			     F(DNS_F_U32, "serial"), F(DNS_F_TTL, "refresh"),
			     F(DNS_F_TTL, "retry"), F(DNS_F_TTL, "expire"),
			     F(DNS_F_TTL, "minimum") } },
	[7] = { "MB", DNS_RRF_DECOMPRESS | DNS_RRF_CANON | DNS_RRF_WIREONLY,
		{ F(DNS_F_NAME, "mailbox host") } },
	[8] = { "MG", DNS_RRF_DECOMPRESS | DNS_RRF_CANON | DNS_RRF_WIREONLY,
		{ F(DNS_F_NAME, "mailbox") } },
	[9] = { "MR", DNS_RRF_DECOMPRESS | DNS_RRF_CANON | DNS_RRF_WIREONLY,
		{ F(DNS_F_NAME, "mailbox") } },
	[DNS_TYPE_PTR] = { "PTR", DNS_RRF_DECOMPRESS | DNS_RRF_CANON,
			   { F(DNS_F_NAME, "target") } },
	[DNS_TYPE_HINFO] = { "HINFO", DNS_RRF_CANON,
			     { F(DNS_F_STR, "CPU"), F(DNS_F_STR, "OS") } },
	[14] = { "MINFO", DNS_RRF_DECOMPRESS | DNS_RRF_CANON,
		 { F(DNS_F_NAME, "responsible mailbox"), F(DNS_F_NAME, "error mailbox") } },
	[DNS_TYPE_MX] = { "MX", DNS_RRF_DECOMPRESS | DNS_RRF_CANON,
			  { F(DNS_F_U16, "preference"), F(DNS_F_NAME, "exchange") } },
	[DNS_TYPE_TXT] = { "TXT", 0, { F(DNS_F_STRS, "text") } },
	[DNS_TYPE_RP] = { "RP", DNS_RRF_DECOMPRESS | DNS_RRF_CANON,
			  { F(DNS_F_NAME, "mailbox"), F(DNS_F_NAME, "TXT name") } },
	[18] = { "AFSDB", DNS_RRF_DECOMPRESS | DNS_RRF_CANON,
		 { F(DNS_F_U16, "subtype"), F(DNS_F_NAME, "hostname") } },
	[21] = { "RT", DNS_RRF_DECOMPRESS | DNS_RRF_CANON,
		 { F(DNS_F_U16, "preference"), F(DNS_F_NAME, "intermediate host") } },
	[11] = { "WKS", 0,
		 { F(DNS_F_A, "address"), F(DNS_F_WKSPROTO, "protocol"),
		   F(DNS_F_WKSMAP, "services") } },
	[19] = { "X25", 0, { F(DNS_F_STR, "PSDN address") } },
	[20] = { "ISDN", 0, { F(DNS_F_STR, "ISDN address"), F(DNS_F_STROPT, "subaddress") } },
	[22] = { "NSAP", 0, { F(DNS_F_NSAP, "NSAP") } },
	[23] = { "NSAP-PTR", 0, { F(DNS_F_NAME, "owner") } },
	/* RFC 2535 §4.1 (RFC 2931 SIG(0)); RFC 3597 §4 lets its signer name be compressed. */
	[24] = { "SIG", DNS_RRF_DECOMPRESS | DNS_RRF_CANON,
		 { F(DNS_F_TYPE, "type covered"), F(DNS_F_ALG, "algorithm"),
		   F(DNS_F_U8, "labels"), F(DNS_F_TTL, "original TTL"),
		   F(DNS_F_TIME, "expiration"), F(DNS_F_TIME, "inception"),
		   F(DNS_F_U16, "key tag"), F(DNS_F_NAME, "signer"),
		   F(DNS_F_B64, "signature") } },
	/* RFC 2535 §3.1: the key may be empty (NOKEY flags). */
	[25] = { "KEY", 0,
		 { F(DNS_F_U16, "flags"), F(DNS_F_U8, "protocol"), F(DNS_F_ALG, "algorithm"),
		   F(DNS_F_B64, "public key") } },
	/* RFC 1712: three decimal strings; like BIND we keep them as written. */
	[27] = { "GPOS", 0,
		 { F(DNS_F_STR, "longitude"), F(DNS_F_STR, "latitude"),
		   F(DNS_F_STR, "altitude") } },
	[DNS_TYPE_AAAA] = { "AAAA", 0, { F(DNS_F_AAAA, "address") } },
	[DNS_TYPE_LOC] = { "LOC", 0, { F(DNS_F_LOC, "location") } },
	[30] = { "NXT", DNS_RRF_DECOMPRESS | DNS_RRF_CANON | DNS_RRF_WIREONLY | DNS_RRF_NOTEXT,
		 { F(DNS_F_NAME, "next name"), F(DNS_F_HEX, "type bitmap") } },
	[DNS_TYPE_SRV] = { "SRV", DNS_RRF_DECOMPRESS | DNS_RRF_CANON,
			   { F(DNS_F_U16, "priority"), F(DNS_F_U16, "weight"),
			     F(DNS_F_U16, "port"), F(DNS_F_NAME, "target") } },
	[DNS_TYPE_NAPTR] = { "NAPTR", DNS_RRF_DECOMPRESS | DNS_RRF_CANON,
			     { F(DNS_F_U16, "order"), F(DNS_F_U16, "preference"),
			       F(DNS_F_STR, "flags"), F(DNS_F_STR, "services"),
			       F(DNS_F_STR, "regexp"), F(DNS_F_NAME, "replacement") } },
	[26] = { "PX", DNS_RRF_DECOMPRESS | DNS_RRF_CANON,
		 { F(DNS_F_U16, "preference"), F(DNS_F_NAME, "MAP822"),
		   F(DNS_F_NAME, "MAPX400") } },
	[31] = { "EID", 0, { FM(DNS_F_HEX, 1, "endpoint identifier") } },
	[32] = { "NIMLOC", 0, { FM(DNS_F_HEX, 1, "nimrod locator") } },
	[36] = { "KX", DNS_RRF_CANON,
		 { F(DNS_F_U16, "preference"), F(DNS_F_NAME, "exchanger") } },
	[37] = { "CERT", 0,
		 { F(DNS_F_CERTTYPE, "certificate type"), F(DNS_F_U16, "key tag"),
		   F(DNS_F_ALG, "algorithm"), F(DNS_F_B64, "certificate") } },
	[DNS_TYPE_DNAME] = { "DNAME", DNS_RRF_CANON, { F(DNS_F_NAME, "target") } },
	[38] = { "A6", 0, { F(DNS_F_A6, "A6 address") } },
	[DNS_TYPE_OPT] = { "OPT", DNS_RRF_META, { F(DNS_F_END, NULL) } },
	[42] = { "APL", 0, { F(DNS_F_APL, "address prefix list") } },
	[DNS_TYPE_DS] = { "DS", 0,
			  { F(DNS_F_U16, "key tag"), F(DNS_F_ALG, "algorithm"),
			    F(DNS_F_U8, "digest type"), FM(DNS_F_HEX, 1, "digest") } },
	[DNS_TYPE_SSHFP] = { "SSHFP", 0,
			     { F(DNS_F_U8, "algorithm"), F(DNS_F_U8, "fingerprint type"),
			       FM(DNS_F_HEX, 1, "fingerprint") } },
	[45] = { "IPSECKEY", 0,
		 { F(DNS_F_U8, "precedence"), F(DNS_F_U8, "gateway type"),
		   F(DNS_F_U8, "algorithm"), F(DNS_F_GATEWAY, "gateway"),
		   F(DNS_F_B64, "public key") } },
	[DNS_TYPE_RRSIG] = { "RRSIG", DNS_RRF_CANON,
			     { F(DNS_F_TYPE, "type covered"), F(DNS_F_ALG, "algorithm"),
			       F(DNS_F_U8, "labels"), F(DNS_F_TTL, "original TTL"),
			       F(DNS_F_TIME, "expiration"), F(DNS_F_TIME, "inception"),
			       F(DNS_F_U16, "key tag"), F(DNS_F_NAME, "signer"),
			       FM(DNS_F_B64, 1, "signature") } },
	/* RFC 6840 §5.1: the next name of NSEC is not lower-cased, so no DNS_RRF_CANON. */
	[DNS_TYPE_NSEC] = { "NSEC", 0,
			    { F(DNS_F_NAME, "next name"), F(DNS_F_BITMAP, "type bitmap") } },
	[DNS_TYPE_DNSKEY] = { "DNSKEY", 0,
			      { F(DNS_F_U16, "flags"), F(DNS_F_U8, "protocol"),
				F(DNS_F_ALG, "algorithm"), FM(DNS_F_B64, 1, "public key") } },
	[49] = { "DHCID", 0, { FM(DNS_F_B64, 1, "digest") } },
	[DNS_TYPE_NSEC3] = { "NSEC3", 0,
			     { F(DNS_F_U8, "hash algorithm"), F(DNS_F_U8, "flags"),
			       F(DNS_F_U16, "iterations"), F(DNS_F_SALT, "salt"),
			       F(DNS_F_B32HEX, "next hashed owner"),
			       F(DNS_F_BITMAP, "type bitmap") } },
	[DNS_TYPE_NSEC3PARAM] = { "NSEC3PARAM", 0,
				  { F(DNS_F_U8, "hash algorithm"), F(DNS_F_U8, "flags"),
				    F(DNS_F_U16, "iterations"), F(DNS_F_SALT, "salt") } },
	[DNS_TYPE_TLSA] = { "TLSA", 0,
			    { F(DNS_F_U8, "certificate usage"), F(DNS_F_U8, "selector"),
			      F(DNS_F_U8, "matching type"),
			      FM(DNS_F_HEX, 1, "certificate association data") } },
	[DNS_TYPE_SMIMEA] = { "SMIMEA", 0,
			      { F(DNS_F_U8, "certificate usage"), F(DNS_F_U8, "selector"),
				F(DNS_F_U8, "matching type"),
				FM(DNS_F_HEX, 1, "certificate association data") } },
	[55] = { "HIP", 0, { F(DNS_F_HIP, "host identity") } },
	[56] = { "NINFO", 0, { F(DNS_F_STRS, "text") } },
	[57] = { "RKEY", 0,
		 { F(DNS_F_U16, "flags"), F(DNS_F_U8, "protocol"), F(DNS_F_ALG, "algorithm"),
		   FM(DNS_F_B64, 1, "public key") } },
	[58] = { "TALINK", 0, { F(DNS_F_NAME, "previous name"), F(DNS_F_NAME, "next name") } },
	[DNS_TYPE_CDS] = { "CDS", 0,
			   { F(DNS_F_U16, "key tag"), F(DNS_F_ALG, "algorithm"),
			     F(DNS_F_U8, "digest type"), FM(DNS_F_HEX, 1, "digest") } },
	[DNS_TYPE_CDNSKEY] = { "CDNSKEY", 0,
			       { F(DNS_F_U16, "flags"), F(DNS_F_U8, "protocol"),
				 F(DNS_F_ALG, "algorithm"), FM(DNS_F_B64, 1, "public key") } },
	[DNS_TYPE_OPENPGPKEY] = { "OPENPGPKEY", 0, { FM(DNS_F_B64, 1, "public key") } },
	/* RFC 7477 §2: SOA serial, flags, type bitmap. */
	[62] = { "CSYNC", 0,
		 { F(DNS_F_U32, "SOA serial"), F(DNS_F_U16, "flags"),
		   F(DNS_F_BITMAP, "type bitmap") } },
	/* RFC 8976 §2.2.4: the digest is at least 12 octets. */
	[DNS_TYPE_ZONEMD] = { "ZONEMD", 0,
			      { F(DNS_F_U32, "serial"), F(DNS_F_U8, "scheme"),
				F(DNS_F_U8, "hash algorithm"), FM(DNS_F_HEX, 12, "digest") } },
	[DNS_TYPE_SVCB] = { "SVCB", 0,
			    { F(DNS_F_U16, "priority"), F(DNS_F_NAME, "target"),
			      F(DNS_F_SVCPARAMS, "parameters") } },
	[DNS_TYPE_HTTPS] = { "HTTPS", 0,
			     { F(DNS_F_U16, "priority"), F(DNS_F_NAME, "target"),
			       F(DNS_F_SVCPARAMS, "parameters") } },
	/* RFC 9859 §2: where to send NOTIFY(CDS/CSYNC) for a child zone. */
	[66] = { "DSYNC", 0,
		 { F(DNS_F_TYPE, "RR type"), F(DNS_F_SCHEME, "scheme"), F(DNS_F_U16, "port"),
		   F(DNS_F_NAME, "target") } },
	[99] = { "SPF", 0, { F(DNS_F_STRS, "text") } },
	[100] = { "UINFO", 0, { F(DNS_F_STR, "user information") } },
	[101] = { "UID", 0, { F(DNS_F_U32, "user id") } },
	[102] = { "GID", 0, { F(DNS_F_U32, "group id") } },
	/* RFC 6742: identifier-locator network protocol records. */
	[104] = { "NID", 0, { F(DNS_F_U16, "preference"), F(DNS_F_ILNP64, "node id") } },
	[105] = { "L32", 0, { F(DNS_F_U16, "preference"), F(DNS_F_A, "locator") } },
	[106] = { "L64", 0, { F(DNS_F_U16, "preference"), F(DNS_F_ILNP64, "locator") } },
	[107] = { "LP", 0, { F(DNS_F_U16, "preference"), F(DNS_F_NAME, "FQDN") } },
	[108] = { "EUI48", 0, { F(DNS_F_EUI48, "address") } },
	[109] = { "EUI64", 0, { F(DNS_F_EUI64, "address") } },
	[249] = { "TKEY", DNS_RRF_META, { F(DNS_F_END, NULL) } },
	[DNS_TYPE_TSIG] = { "TSIG", DNS_RRF_META, { F(DNS_F_END, NULL) } },
	[DNS_TYPE_IXFR] = { "IXFR", DNS_RRF_META, { F(DNS_F_END, NULL) } },
	[DNS_TYPE_AXFR] = { "AXFR", DNS_RRF_META, { F(DNS_F_END, NULL) } },
	[253] = { "MAILB", DNS_RRF_META, { F(DNS_F_END, NULL) } },
	[254] = { "MAILA", DNS_RRF_META, { F(DNS_F_END, NULL) } },
	[DNS_TYPE_ANY] = { "ANY", DNS_RRF_META, { F(DNS_F_END, NULL) } },
	[DNS_TYPE_URI] = { "URI", 0,
			   { F(DNS_F_U16, "priority"), F(DNS_F_U16, "weight"),
			     F(DNS_F_TEXT, "target") } },
	[DNS_TYPE_CAA] = { "CAA", 0,
			   { F(DNS_F_U8, "flags"), F(DNS_F_TAG, "tag"),
			     F(DNS_F_TEXT, "value") } },
	[258] = { "AVC", 0, { F(DNS_F_STRS, "text") } },
	/* draft-durand-doa-over-dns, as BIND reads it. */
	[259] = { "DOA", 0,
		  { F(DNS_F_U32, "enterprise"), F(DNS_F_U32, "type"), F(DNS_F_U8, "location"),
		    F(DNS_F_STR, "media type"), F(DNS_F_B64DASH, "data") } },
	/* RFC 9606 §4: the same form as TXT. */
	[261] = { "RESINFO", 0, { F(DNS_F_STRS, "key-value pairs") } },
	/* IANA WALLET template (2023): the same form as TXT. */
	[262] = { "WALLET", 0, { F(DNS_F_STRS, "currency and address") } },
	[260] = { "AMTRELAY", 0,
		  { F(DNS_F_U8, "precedence"), F(DNS_F_AMTTYPE, "discovery optional and type"),
		    F(DNS_F_RELAY, "relay") } },
};

#define NTYPES (sizeof(rrtypes) / sizeof(rrtypes[0]))

/*
 * Private-use types (RFC 6895 §3.1), numbered as Technitium numbers them.  FWD names one
 * forwarder of a conditional forwarder zone: a server URL (udp://, tcp://, tls://, https://,
 * https+json://) or "this-server", checked where the resolver reads it.
 */
#define PRIVATE_FIRST 65280u
static const struct dns_rrtype private_types[] = {
	/*
	 * ANAME (Technitium's 65280): one domain name, the target whose A/AAAA the server
	 * answers as the owner's own.  Uncompressed on the wire and not lower-cased in canonical
	 * form: neither RFC 3597 §4 nor RFC 4034 §6.2 lists it.
	 */
	[DNS_TYPE_ANAME - PRIVATE_FIRST] = { "ANAME", 0, { F(DNS_F_NAME, "target") } },
	[DNS_TYPE_FWD - PRIVATE_FIRST] = { "FWD", 0, { F(DNS_F_STR, "forwarder") } },
};
#define NPRIVATE (sizeof(private_types) / sizeof(private_types[0]))

/* DNSSEC trust authorities TA and DLV (RFC 4431), IANA's 32768 and 32769: the form of DS. */
#define HIGH_FIRST 32768u
static const struct dns_rrtype high_types[] = {
	{ "TA", 0,
	  { F(DNS_F_U16, "key tag"), F(DNS_F_ALG, "algorithm"), F(DNS_F_U8, "digest type"),
	    FM(DNS_F_HEX, 1, "digest") } },
	{ "DLV", 0,
	  { F(DNS_F_U16, "key tag"), F(DNS_F_ALG, "algorithm"), F(DNS_F_U8, "digest type"),
	    FM(DNS_F_HEX, 1, "digest") } },
};
#define NHIGH (sizeof(high_types) / sizeof(high_types[0]))

const struct dns_rrtype *
dns_rrtype_find(uint16_t type)
{
	if (type >= PRIVATE_FIRST && type - PRIVATE_FIRST < NPRIVATE &&
	    private_types[type - PRIVATE_FIRST].name != NULL) {
		return &private_types[type - PRIVATE_FIRST];
	}
	if (type >= HIGH_FIRST && type - HIGH_FIRST < NHIGH) {
		return &high_types[type - HIGH_FIRST];
	}
	if (type >= NTYPES || rrtypes[type].name == NULL) {
		return NULL;
	}
	return &rrtypes[type];
}

/* Parses "<prefix>nnn" (case-insensitive prefix, decimal 0-65535); -1 if not that form. */
static int
prefixed_number(const char *s, size_t len, const char *prefix)
{
	size_t pl = strlen(prefix);
	if (len <= pl || len > pl + 5 || strncasecmp(s, prefix, pl) != 0) {
		return -1;
	}
	unsigned v = 0;
	for (size_t i = pl; i < len; i++) {
		if (s[i] < '0' || s[i] > '9') {
			return -1;
		}
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	return v > 65535 ? -1 : (int)v;
}

/* Whether the table name n (NULL: a gap in the table) is s, len bytes, in any case. */
static bool
name_is(const char *n, const char *s, size_t len)
{
	return n != NULL && strlen(n) == len && strncasecmp(n, s, len) == 0;
}

/* names[code] when the table of n names has one, else prefix and the number in buf (16 bytes). */
static const char *
name_or_number(const char *const *names, size_t n, int code, const char *prefix, char *buf)
{
	if (code >= 0 && (size_t)code < n && names[code] != NULL) {
		return names[code];
	}
	snprintf(buf, 16, "%s%d", prefix, code);
	return buf;
}

#define NNAMES(names) (sizeof(names) / sizeof(names[0]))

const char *
dns_type_to_text(uint16_t type, char *buf)
{
	const struct dns_rrtype *t = dns_rrtype_find(type);
	if (t != NULL) {
		return t->name;
	}
	/* RFC 3597 §5 */
	snprintf(buf, 16, "TYPE%u", (unsigned)type);
	return buf;
}

int
dns_type_from_text(const char *s, size_t len)
{
	for (size_t i = 0; i < NTYPES; i++) {
		if (name_is(rrtypes[i].name, s, len)) {
			return (int)i;
		}
	}
	for (size_t i = 0; i < NHIGH; i++) {
		if (name_is(high_types[i].name, s, len)) {
			return (int)(HIGH_FIRST + i);
		}
	}
	for (size_t i = 0; i < NPRIVATE; i++) {
		if (name_is(private_types[i].name, s, len)) {
			return (int)(PRIVATE_FIRST + i);
		}
	}
	return prefixed_number(s, len, "TYPE");
}

static const char *const class_names[] = {
	[DNS_CLASS_IN] = "IN",
	[DNS_CLASS_CH] = "CH",
	[DNS_CLASS_HS] = "HS",
	[DNS_CLASS_NONE] = "NONE",
	[DNS_CLASS_ANY] = "ANY",
};

const char *
dns_class_to_text(uint16_t rclass, char *buf)
{
	return name_or_number(class_names, NNAMES(class_names), rclass, "CLASS", buf);
}

int
dns_class_from_text(const char *s, size_t len)
{
	for (size_t i = 0; i < NNAMES(class_names); i++) {
		if (name_is(class_names[i], s, len)) {
			return (int)i;
		}
	}
	/* "CHAOS" and "HESIOD" are the long names of RFC 1035 §3.2.4. */
	if (len == 5 && strncasecmp(s, "CHAOS", 5) == 0) {
		return DNS_CLASS_CH;
	}
	if (len == 6 && strncasecmp(s, "HESIOD", 6) == 0) {
		return DNS_CLASS_HS;
	}
	return prefixed_number(s, len, "CLASS");
}

/* RFC 8914 §5.2 (IANA "Extended DNS Error Codes"): names for the printed INFO-CODEs. */
static const char *const ede_names[] = {
	[DNS_EDE_OTHER] = "Other Error",
	[DNS_EDE_UNSUPPORTED_DNSKEY_ALG] = "Unsupported DNSKEY Algorithm",
	[DNS_EDE_UNSUPPORTED_DS_DIGEST] = "Unsupported DS Digest Type",
	[DNS_EDE_STALE_ANSWER] = "Stale Answer",
	[DNS_EDE_FORGED_ANSWER] = "Forged Answer",
	[DNS_EDE_DNSSEC_INDETERMINATE] = "DNSSEC Indeterminate",
	[DNS_EDE_DNSSEC_BOGUS] = "DNSSEC Bogus",
	[DNS_EDE_SIGNATURE_EXPIRED] = "Signature Expired",
	[DNS_EDE_SIGNATURE_NOT_YET_VALID] = "Signature Not Yet Valid",
	[DNS_EDE_DNSKEY_MISSING] = "DNSKEY Missing",
	[DNS_EDE_RRSIGS_MISSING] = "RRSIGs Missing",
	[DNS_EDE_NO_ZONE_KEY_BIT] = "No Zone Key Bit Set",
	[DNS_EDE_NSEC_MISSING] = "NSEC Missing",
	[DNS_EDE_CACHED_ERROR] = "Cached Error",
	[DNS_EDE_NOT_READY] = "Not Ready",
	[DNS_EDE_BLOCKED] = "Blocked",
	[DNS_EDE_CENSORED] = "Censored",
	[DNS_EDE_FILTERED] = "Filtered",
	[DNS_EDE_PROHIBITED] = "Prohibited",
	[DNS_EDE_STALE_NXDOMAIN] = "Stale NXDomain Answer",
	[DNS_EDE_NOT_AUTHORITATIVE] = "Not Authoritative",
	[DNS_EDE_NOT_SUPPORTED] = "Not Supported",
	[DNS_EDE_NO_REACHABLE_AUTHORITY] = "No Reachable Authority",
	[DNS_EDE_NETWORK_ERROR] = "Network Error",
	[DNS_EDE_INVALID_DATA] = "Invalid Data",
	[25] = "Signature Expired before Valid",
	[26] = "Too Early",
	[27] = "Unsupported NSEC3 Iterations Value",
	[28] = "Unable to conform to policy",
	[29] = "Synthesized",
	[30] = "Invalid Query Type",
};

const char *
dns_ede_name(uint16_t code)
{
	return code < NNAMES(ede_names) ? ede_names[code] : NULL;
}

static const char *const rcode_names[] = {
	[DNS_RCODE_NOERROR] = "NOERROR",
	[DNS_RCODE_FORMERR] = "FORMERR",
	[DNS_RCODE_SERVFAIL] = "SERVFAIL",
	[DNS_RCODE_NXDOMAIN] = "NXDOMAIN",
	[DNS_RCODE_NOTIMP] = "NOTIMP",
	[DNS_RCODE_REFUSED] = "REFUSED",
	[DNS_RCODE_YXDOMAIN] = "YXDOMAIN",
	[DNS_RCODE_YXRRSET] = "YXRRSET",
	[DNS_RCODE_NXRRSET] = "NXRRSET",
	[DNS_RCODE_NOTAUTH] = "NOTAUTH",
	[DNS_RCODE_NOTZONE] = "NOTZONE",
	[DNS_RCODE_BADVERS] = "BADVERS",
	[17] = "BADKEY",
	[18] = "BADTIME",
	[19] = "BADMODE",
	[20] = "BADNAME",
	[21] = "BADALG",
	[22] = "BADTRUNC",
	[23] = "BADCOOKIE",
};

const char *
dns_rcode_to_text(int rcode, char *buf)
{
	return name_or_number(rcode_names, NNAMES(rcode_names), rcode, "RCODE", buf);
}

static const char *const opcode_names[] = {
	[DNS_OPCODE_QUERY] = "QUERY",
	[DNS_OPCODE_IQUERY] = "IQUERY",
	[DNS_OPCODE_STATUS] = "STATUS",
	[DNS_OPCODE_NOTIFY] = "NOTIFY",
	[DNS_OPCODE_UPDATE] = "UPDATE",
	[6] = "DSO",
};

const char *
dns_opcode_to_text(int opcode, char *buf)
{
	return name_or_number(opcode_names, NNAMES(opcode_names), opcode, "OPCODE", buf);
}

bool
dns_type_known(uint16_t type)
{
	const struct dns_rrtype *t = dns_rrtype_find(type);
	return t != NULL && !(t->flags & (DNS_RRF_META | DNS_RRF_WIREONLY));
}

bool
dns_type_is_meta(uint16_t type)
{
	const struct dns_rrtype *t = dns_rrtype_find(type);
	return t != NULL && (t->flags & DNS_RRF_META);
}

bool
dns_type_is_xfr(uint16_t type)
{
	return type == DNS_TYPE_AXFR || type == DNS_TYPE_IXFR;
}
