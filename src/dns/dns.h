/* SPDX-License-Identifier: MIT */
/* dns: names, RR types and rdata, wire messages, EDNS, EDE and zone files (pure, no sockets). */
#ifndef TDNS_DNS_H
#define TDNS_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/core.h"

/* ------------------------------------------------------------------------------------------ */
/* Constants                                                                                   */

#define DNS_NAME_MAX 255        /* octets of an uncompressed wire name, RFC 1035 §2.3.4 */
#define DNS_LABEL_MAX 63
#define DNS_NAME_TEXT_MAX 1024  /* text form incl. \DDD escapes and NUL */
#define DNS_HDR_LEN 12
#define DNS_MSG_MAX 65535
#define DNS_UDP_MIN 512         /* RFC 1035 UDP size without EDNS */
#define DNS_EDNS_MAX_PAYLOAD 1232 /* what we offer and cap to (DNS flag day 2020) */
#define DNS_RDATA_MAX 65535

/* Header flag bits within the 16-bit flags word. */
#define DNS_FLAG_QR 0x8000
#define DNS_FLAG_AA 0x0400
#define DNS_FLAG_TC 0x0200
#define DNS_FLAG_RD 0x0100
#define DNS_FLAG_RA 0x0080
#define DNS_FLAG_AD 0x0020
#define DNS_FLAG_CD 0x0010
#define DNS_OPCODE(flags) (((flags) >> 11) & 0xf)
#define DNS_RCODE(flags) ((flags) & 0xf)

enum dns_opcode {
	DNS_OPCODE_QUERY = 0,
	DNS_OPCODE_IQUERY = 1,
	DNS_OPCODE_STATUS = 2,
	DNS_OPCODE_NOTIFY = 4,
	DNS_OPCODE_UPDATE = 5,
};

enum dns_rcode {
	DNS_RCODE_NOERROR = 0,
	DNS_RCODE_FORMERR = 1,
	DNS_RCODE_SERVFAIL = 2,
	DNS_RCODE_NXDOMAIN = 3,
	DNS_RCODE_NOTIMP = 4,
	DNS_RCODE_REFUSED = 5,
	DNS_RCODE_YXDOMAIN = 6,
	DNS_RCODE_YXRRSET = 7,
	DNS_RCODE_NXRRSET = 8,
	DNS_RCODE_NOTAUTH = 9,
	DNS_RCODE_NOTZONE = 10,
	DNS_RCODE_BADVERS = 16, /* extended, needs EDNS */
};

enum dns_class {
	DNS_CLASS_IN = 1,
	DNS_CLASS_CH = 3,
	DNS_CLASS_HS = 4,
	DNS_CLASS_NONE = 254,
	DNS_CLASS_ANY = 255,
};

enum dns_type {
	DNS_TYPE_A = 1,
	DNS_TYPE_NS = 2,
	DNS_TYPE_CNAME = 5,
	DNS_TYPE_SOA = 6,
	DNS_TYPE_PTR = 12,
	DNS_TYPE_HINFO = 13,
	DNS_TYPE_MX = 15,
	DNS_TYPE_TXT = 16,
	DNS_TYPE_RP = 17,
	DNS_TYPE_AAAA = 28,
	DNS_TYPE_LOC = 29,
	DNS_TYPE_SRV = 33,
	DNS_TYPE_NAPTR = 35,
	DNS_TYPE_DNAME = 39,
	DNS_TYPE_OPT = 41,
	DNS_TYPE_DS = 43,
	DNS_TYPE_SSHFP = 44,
	DNS_TYPE_RRSIG = 46,
	DNS_TYPE_NSEC = 47,
	DNS_TYPE_DNSKEY = 48,
	DNS_TYPE_NSEC3 = 50,
	DNS_TYPE_NSEC3PARAM = 51,
	DNS_TYPE_TLSA = 52,
	DNS_TYPE_SMIMEA = 53,
	DNS_TYPE_CDS = 59,
	DNS_TYPE_CDNSKEY = 60,
	DNS_TYPE_OPENPGPKEY = 61,
	DNS_TYPE_ZONEMD = 63,
	DNS_TYPE_SVCB = 64,
	DNS_TYPE_HTTPS = 65,
	DNS_TYPE_TSIG = 250,
	DNS_TYPE_IXFR = 251,
	DNS_TYPE_AXFR = 252,
	DNS_TYPE_ANY = 255,
	DNS_TYPE_URI = 256,
	DNS_TYPE_CAA = 257,
	/* Private-use types (RFC 6895 §3.1: 65280-65534) with Technitium's numbers. */
	DNS_TYPE_ANAME = 65280,   /* apex alias: one name whose A/AAAA are served as the owner's */
	DNS_TYPE_FWD = 65281,     /* conditional forwarder: one <character-string>, a server URL */
};

/* Extended DNS Error codes, RFC 8914 §4. */
enum dns_ede {
	DNS_EDE_OTHER = 0,
	DNS_EDE_UNSUPPORTED_DNSKEY_ALG = 1,
	DNS_EDE_UNSUPPORTED_DS_DIGEST = 2,
	DNS_EDE_STALE_ANSWER = 3,
	DNS_EDE_FORGED_ANSWER = 4,
	DNS_EDE_DNSSEC_INDETERMINATE = 5,
	DNS_EDE_DNSSEC_BOGUS = 6,
	DNS_EDE_SIGNATURE_EXPIRED = 7,
	DNS_EDE_SIGNATURE_NOT_YET_VALID = 8,
	DNS_EDE_DNSKEY_MISSING = 9,
	DNS_EDE_RRSIGS_MISSING = 10,
	DNS_EDE_NO_ZONE_KEY_BIT = 11,
	DNS_EDE_NSEC_MISSING = 12,
	DNS_EDE_CACHED_ERROR = 13,
	DNS_EDE_NOT_READY = 14,
	DNS_EDE_BLOCKED = 15,
	DNS_EDE_CENSORED = 16,
	DNS_EDE_FILTERED = 17,
	DNS_EDE_PROHIBITED = 18,
	DNS_EDE_STALE_NXDOMAIN = 19,
	DNS_EDE_NOT_AUTHORITATIVE = 20,
	DNS_EDE_NOT_SUPPORTED = 21,
	DNS_EDE_NO_REACHABLE_AUTHORITY = 22,
	DNS_EDE_NETWORK_ERROR = 23,
	DNS_EDE_INVALID_DATA = 24,
};

#define DNS_OPT_CODE_EDE 15
#define DNS_OPT_CODE_EXPIRE 9  /* RFC 7314 */

/* ------------------------------------------------------------------------------------------ */
/* Names (name.c).  A name is uncompressed wire format: length-prefixed labels ending in the   */
/* root label 0.  Case is kept as given; comparisons ignore ASCII case.                        */

/*
 * Reads a possibly compressed name from pkt at *pos into out (DNS_NAME_MAX bytes) and moves
 * *pos past the name as it appears in place.  Pointers must point strictly backwards (which
 * also rules out loops).  Returns the name length (>= 1) or TDNS_ETRUNC, TDNS_ELOOP,
 * TDNS_ENAMELONG, TDNS_ELABELLONG, TDNS_EMALFORMED (label types 01/10).
 */
int dns_name_unpack(const uint8_t *pkt, size_t pktlen, size_t *pos, uint8_t *out);

/* Wire length of a valid uncompressed name (1 for the root). */
size_t dns_name_len(const uint8_t *name);

/*
 * Checks that mem[0..len) starts with a valid uncompressed name; returns its length or a
 * negative status.  Used for names inside rdata.
 */
int dns_name_check(const uint8_t *mem, size_t len);

/*
 * Reads one octet of presentation text at s[*i] (i < len): a plain character, or an RFC 1035
 * §5.1 escape (\X, or \DDD with exactly three decimal digits, at most 255).  Advances *i past
 * it and returns the octet, or -1 for a broken escape (*i unchanged).
 */
int dns_text_octet(const char *s, size_t len, size_t *i);

/*
 * Parses the text form of a name (RFC 1035 §5.1: \X and \DDD escapes) from s[0..slen).  "@"
 * is origin; a name without a trailing dot is relative to origin (TDNS_ERELATIVE if origin is
 * NULL).  Writes the wire form into out (DNS_NAME_MAX bytes); returns its length or
 * TDNS_EBADTEXT, TDNS_ENAMELONG, TDNS_ELABELLONG.
 */
int dns_name_from_text(const char *s, size_t slen, const uint8_t *origin, uint8_t *out);

/*
 * Writes the absolute text form (trailing dot; "." for the root) into out, escaping
 * "().;\\@$ and space with a backslash and non-printable octets as \DDD.  Returns the text
 * length or TDNS_ESPACE.  DNS_NAME_TEXT_MAX bytes are always enough.
 */
int dns_name_to_text(const uint8_t *name, char *out, size_t cap);

/* Canonical order of RFC 4034 §6.1: <0, 0, >0. */
int dns_name_cmp(const uint8_t *a, const uint8_t *b);

/* Equality ignoring ASCII case. */
bool dns_name_eq(const uint8_t *a, const uint8_t *b);

/* Number of labels, not counting the root (so "." is 0, "a.b." is 2). */
int dns_name_labels(const uint8_t *name);

/* True if name equals parent or lies below it. */
bool dns_name_is_sub(const uint8_t *name, const uint8_t *parent);

/* Lower-cases ASCII letters in place. */
void dns_name_lower(uint8_t *name);

/* The name without its first label; the root returns itself. */
static inline const uint8_t *
dns_name_parent(const uint8_t *name)
{
	return name[0] ? name + 1 + name[0] : name;
}

/*
 * Fast hash of the lower-cased name, varied by seed (for tables of names the operator chose,
 * such as a zone's).  Not collision resistant against an attacker who knows how it works:
 * tables of names that clients or remote servers choose use dns_name_siphash.
 */
uint64_t dns_name_hash(const uint8_t *name, uint64_t seed);

#define DNS_SIPHASH_KEY_LEN 16

/*
 * SipHash-2-4 (libsodium's crypto_shorthash) of the lower-cased name in wire form under the
 * secret key: a keyed PRF, so nobody without the key can choose names that collide (hash
 * flooding).  Draw the key at random per process or table (dns_siphash_key_new).
 */
uint64_t dns_name_siphash(const uint8_t *name, const uint8_t key[DNS_SIPHASH_KEY_LEN]);

/* Fills key with fresh random bytes (libsodium; initialises it when needed). */
void dns_siphash_key_new(uint8_t key[DNS_SIPHASH_KEY_LEN]);

/* ------------------------------------------------------------------------------------------ */
/* Types, classes, rcodes (rrtype.c): one table of RR types drives names and rdata forms.      */

/* Mnemonic for a type ("A"), or "TYPEnnn" written into buf (16 bytes).  Never NULL. */
const char *dns_type_to_text(uint16_t type, char *buf);

/* Parses a type mnemonic (case-insensitive) or "TYPEnnn"; returns the type or -1. */
int dns_type_from_text(const char *s, size_t len);

/* "IN", "CH", "HS", "NONE", "ANY" or "CLASSnnn" in buf (16 bytes). */
const char *dns_class_to_text(uint16_t rclass, char *buf);

/* Parses a class mnemonic or "CLASSnnn"; returns the class or -1. */
int dns_class_from_text(const char *s, size_t len);

/* The RFC 8914 §5.2 name of an EDE INFO-CODE ("Stale Answer"), or NULL when it has none. */
const char *dns_ede_name(uint16_t code);

/* "NOERROR", "FORMERR", ... or "RCODEnnn" in buf (16 bytes). */
const char *dns_rcode_to_text(int rcode, char *buf);

/* "QUERY", "NOTIFY", ... or "OPCODEnnn" in buf (16 bytes). */
const char *dns_opcode_to_text(int opcode, char *buf);

/* True for types with a text/wire form of their own (not just RFC 3597). */
bool dns_type_known(uint16_t type);

/* True for meta-types and QTYPEs that cannot appear in zone data (OPT, TSIG, AXFR, ANY...). */
bool dns_type_is_meta(uint16_t type);

/* True for the zone transfer QTYPEs AXFR and IXFR (RFC 5936, RFC 1995). */
bool dns_type_is_xfr(uint16_t type);

/* ------------------------------------------------------------------------------------------ */
/* Rdata (rdata.c).  Rdata is kept in uncompressed wire form; names inside keep their case.    */

/* One token of a zone-file entry; escapes are not yet processed.  quoted: was in "". */
struct dns_tok {
	const char *s;
	size_t len;
	bool quoted;
};

/*
 * Splits one line of rdata text (no parentheses or comments, unlike a zone file) into at most
 * max tokens pointing into s: white space separates them, "..." is one quoted token (quotes
 * removed), a quote inside a word (key="a b") or a backslash keeps white space in the word.
 * Escapes are left for dns_rdata_from_text.  Returns the number of tokens.
 */
size_t dns_rdata_tokenize(const char *s, struct dns_tok *toks, size_t max);

/*
 * Converts the rdata tokens of one RR into wire form.  Relative names use origin.  Handles the
 * RFC 3597 form (\# LEN HEX) for every type.  Writes at most cap bytes to out and the length to
 * *outlen.  On failure returns TDNS_EBADRDATA, TDNS_EBADTEXT, TDNS_ESPACE (or a name error) and
 * writes a message for people (no file:line) into err.
 */
int dns_rdata_from_text(uint16_t type, const struct dns_tok *toks, size_t ntok,
			const uint8_t *origin, uint8_t *out, size_t cap, size_t *outlen,
			char *err, size_t errlen);

/*
 * Writes the presentation form of rdata (names absolute).  Unknown types, and known types
 * whose wire form does not parse, are written in RFC 3597 form.  Returns the text length or
 * TDNS_ESPACE.
 */
int dns_rdata_to_text(uint16_t type, const uint8_t *rd, size_t rdlen, char *out, size_t cap);

/*
 * Copies rdata from a message (rdata at pkt[pos], rdlen octets) into out with embedded names
 * decompressed (only for the types RFC 3597 §4 allows to be compressed; other types are
 * copied as is) and checks it against the type's wire format.  Returns TDNS_OK or
 * TDNS_EBADRDATA / TDNS_ETRUNC / TDNS_ESPACE / name errors.
 */
int dns_rdata_unpack(uint16_t type, const uint8_t *pkt, size_t pktlen, size_t pos,
		     size_t rdlen, uint8_t *out, size_t cap, size_t *outlen);

/* Checks uncompressed rdata against its type's wire format (TDNS_OK or TDNS_EBADRDATA). */
int dns_rdata_check(uint16_t type, const uint8_t *rd, size_t rdlen);

/*
 * Domain name inside rdata that an answer's additional section should resolve: NS and
 * MX/SRV targets (RFC 1035 §3.3.9, RFC 2782), SVCB/HTTPS TargetName (RFC 9460 §4.1; "."
 * is returned as the root name, the caller decides what it stands for).  NULL for other
 * types or when malformed.
 */
const uint8_t *dns_rdata_target(uint16_t type, const uint8_t *rd, size_t rdlen);

/* Compares two rdatas of one type in canonical order (RFC 4034 §6.3), for dedup and sort. */
int dns_rdata_cmp(uint16_t type, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/*
 * Lower-cases, in place, the names inside rdata of the types whose names RFC 4034 §6.2 (as
 * amended by RFC 6840 §5.1: not NSEC, but RRSIG) puts in lower case for the canonical form
 * that DNSSEC signs; other types and the label length octets are left alone.
 */
void dns_rdata_canonical(uint16_t type, uint8_t *rd, size_t rdlen);

/*
 * Formats one RR as a zone-file line (no newline): "owner TTL CLASS TYPE rdata".  Returns the
 * length or TDNS_ESPACE.
 */
int dns_rr_to_text(const uint8_t *owner, uint16_t type, uint16_t rclass, uint32_t ttl,
		   const uint8_t *rd, size_t rdlen, char *out, size_t cap);

/* ------------------------------------------------------------------------------------------ */
/* Messages (msg.c): parsing.                                                                  */

/* EDNS(0) view of an OPT record (RFC 6891 §6). */
struct dns_edns {
	bool present;
	uint16_t udp_size;   /* requester's payload size as sent */
	uint8_t ext_rcode;   /* upper 8 bits of the 12-bit rcode */
	uint8_t version;
	bool do_bit;
	uint16_t z;          /* remaining flag bits */
	const uint8_t *options; /* options area in the packet, borrowed */
	uint16_t options_len;
};

/* What a server needs from a query; name copies are owned by the struct. */
struct dns_query {
	uint16_t id;
	uint16_t flags;
	uint16_t qdcount, ancount, nscount, arcount;
	uint8_t qname[DNS_NAME_MAX]; /* as sent, case preserved */
	size_t qname_len;
	uint16_t qtype;
	uint16_t qclass;
	struct dns_edns edns;
	size_t edns_count;     /* number of OPT records seen (more than one is FORMERR) */
};

/*
 * Parses a query: header, question (qdcount must be 1 for opcode QUERY), the remaining
 * sections walked with every name and length checked, and the OPT record.  Returns:
 *   -1                  drop silently (shorter than a header, or QR set),
 *   DNS_RCODE_NOERROR   parsed,
 *   DNS_RCODE_FORMERR   malformed (q->id and q->flags are still valid for the reply; the
 *                       question is valid if q->qname_len > 0),
 *   DNS_RCODE_NOTIMP    opcode other than QUERY (header and question valid as far as parsed).
 * BADVERS is left to the caller (q->edns.version).
 */
int dns_query_parse(const uint8_t *pkt, size_t len, struct dns_query *q);

/* One resource record of a parsed message; rdata stays in the packet (may hold pointers). */
struct dns_rr {
	uint8_t owner[DNS_NAME_MAX];
	uint16_t type;
	uint16_t rclass;
	uint32_t ttl;
	uint16_t rdlen;
	size_t rdata_off;   /* offset of rdata in pkt */
	int section;        /* DNS_SECTION_* */
};

enum dns_section {
	DNS_SECTION_QUESTION = 0,
	DNS_SECTION_ANSWER = 1,
	DNS_SECTION_AUTHORITY = 2,
	DNS_SECTION_ADDITIONAL = 3,
};

/* A whole parsed message (clients, tests).  rrs is malloc'd; free with dns_msg_clear. */
struct dns_msg {
	const uint8_t *pkt;   /* borrowed */
	size_t len;
	uint16_t id;
	uint16_t flags;
	uint16_t count[4];
	uint8_t qname[DNS_NAME_MAX];
	uint16_t qtype, qclass;
	struct dns_rr *rrs;   /* answer, authority, additional in order (OPT included) */
	size_t nrr;
	struct dns_edns edns;
	int rcode;            /* full 12-bit rcode when EDNS is present */
};

/* Parses every section of pkt; TDNS_OK or a wire error.  On error nothing needs freeing. */
int dns_msg_parse(const uint8_t *pkt, size_t len, struct dns_msg *m);

/* Frees what dns_msg_parse allocated; accepts a zeroed struct. */
void dns_msg_clear(struct dns_msg *m);

/*
 * Walks the name of the first question of pkt without parsing anything else, for the paths
 * that only peek at a packet: returns the offset of the name's root label, which is len or
 * more when the packet ends first, or -1 when pkt is shorter than a header or a label is not
 * a plain one (RFC 1035 §4.1.2: a question name is not compressed).  The caller checks
 * qdcount and that what it reads after the name is within len.
 */
int dns_msg_question_end(const uint8_t *pkt, size_t len);

/*
 * Finds the option code in an OPT options area (struct dns_edns options/options_len): true
 * with its payload in *data (borrowed) and *len.
 */
bool dns_edns_option(const uint8_t *options, size_t options_len, uint16_t code,
		     const uint8_t **data, uint16_t *len);

/*
 * Appends an option (code, data[0..len)) to the OPT record that ends the finished message
 * msg (len octets), within limit.  Returns the new length, or msglen when the message does
 * not end with an OPT or the option does not fit (optional data is left out).
 */
size_t dns_msg_opt_append(uint8_t *msg, size_t msglen, size_t limit, uint16_t code,
			  const uint8_t *data, uint16_t len);

/*
 * Finds the first EDE option in an OPT options area; returns true and sets *code and the text
 * (borrowed, not NUL-terminated) when found.
 */
bool dns_edns_find_ede(const struct dns_edns *e, uint16_t *code, const uint8_t **text,
		       size_t *textlen);

/* ------------------------------------------------------------------------------------------ */
/* Messages (build.c): a builder with name compression, truncation and EDNS.                   */

#define DNS_BUILD_MAX_COMPR 256
#define DNS_BUILD_MAX_EDE 4

/*
 * Builds a message into a caller-owned buffer.  limit is the most the message may use (e.g.
 * the client's UDP size).  An RR that does not fit is rolled back and reported as TDNS_ESPACE
 * so the caller can decide on TC.  Space for the OPT record (and queued EDEs) is reserved
 * once dns_build_edns has been called.
 */
struct dns_build {
	uint8_t *buf;
	size_t cap;      /* size of buf */
	size_t limit;    /* current size limit (<= cap) */
	size_t len;
	uint16_t count[4];
	uint16_t compr[DNS_BUILD_MAX_COMPR]; /* offsets of names (and their suffixes) written */
	size_t ncompr;
	bool edns;       /* an OPT record will be appended by dns_build_finish */
	uint16_t edns_size;
	bool edns_do;
	uint16_t ext_rcode; /* full rcode; upper 8 bits go to OPT */
	struct {
		uint16_t code;
		char text[64];
	} ede[DNS_BUILD_MAX_EDE];
	size_t nede;
	size_t reserve;  /* bytes kept free for OPT + EDE */
};

/* Starts a message with header id and flags (rcode bits included); counts zero. */
void dns_build_init(struct dns_build *b, uint8_t *buf, size_t cap, size_t limit, uint16_t id,
		    uint16_t flags);

/* Adds the question; qname is written as given (case preserved).  TDNS_ESPACE if no room. */
int dns_build_question(struct dns_build *b, const uint8_t *qname, uint16_t qtype,
		       uint16_t qclass);

/*
 * Requests an OPT record in the reply (RFC 6891): our payload size, the DO bit echoed.  Must be
 * called before adding RRs so its space is reserved.
 */
void dns_build_edns(struct dns_build *b, uint16_t udp_size, bool do_bit);

/* Sets the rcode (values above 15 need EDNS; the upper bits go to OPT). */
void dns_build_rcode(struct dns_build *b, int rcode);

/*
 * Queues an Extended DNS Error (RFC 8914) for the OPT record; text may be NULL.  Ignored when
 * no OPT is requested (EDE needs EDNS) or when DNS_BUILD_MAX_EDE are queued.
 */
void dns_build_ede(struct dns_build *b, uint16_t code, const char *text);

/*
 * Appends an RR to section (ANSWER, AUTHORITY, ADDITIONAL; sections must be filled in order).
 * The owner and the names inside NS, CNAME, PTR, MX, SOA (RFC 3597 §4) are compressed.
 * Returns TDNS_OK or TDNS_ESPACE (nothing written).
 */
int dns_build_rr(struct dns_build *b, int section, const uint8_t *owner, uint16_t type,
		 uint16_t rclass, uint32_t ttl, const uint8_t *rd, size_t rdlen);

/* Sets or clears header flags. */
void dns_build_set_flags(struct dns_build *b, uint16_t set, uint16_t clear);

/*
 * Drops every RR after the question and sets TC (what a UDP answer that does not fit gets,
 * RFC 2181 §9).  The OPT is still added by dns_build_finish.
 */
void dns_build_truncate(struct dns_build *b);

/* Appends the OPT record if requested, writes the counts; returns the message length. */
size_t dns_build_finish(struct dns_build *b);

/* ------------------------------------------------------------------------------------------ */
/* TSIG (tsig.c, RFC 8945): the parsing that signed transfers and updates will build on.      */

/* TSIG error codes (RFC 8945 §3, the extended rcodes 16-18 and 22). */
enum dns_tsig_error {
	DNS_TSIG_BADSIG = 16,
	DNS_TSIG_BADKEY = 17,
	DNS_TSIG_BADTIME = 18,
	DNS_TSIG_BADTRUNC = 22,
};

/* A parsed TSIG record; mac and other point into the message (borrowed). */
struct dns_tsig {
	size_t off;                 /* offset of the TSIG RR (its owner name) in the message */
	uint8_t key[DNS_NAME_MAX];  /* key name, decompressed, case as sent */
	uint8_t alg[DNS_NAME_MAX];  /* algorithm name, e.g. hmac-sha256. */
	uint64_t time_signed;       /* 48-bit seconds since the epoch */
	uint16_t fudge;
	uint16_t mac_len;
	const uint8_t *mac;
	uint16_t orig_id;
	uint16_t error;
	uint16_t other_len;
	const uint8_t *other;
};

/*
 * Walks every section of pkt and reports the last RR: *off (its owner's offset) and *type.
 * Returns 1 when there is one, 0 when the message has no RR, TDNS_ETRUNC when it is cut short.
 */
int dns_msg_last_rr(const uint8_t *pkt, size_t len, size_t *off, uint16_t *type);

/*
 * Parses the TSIG RR at pkt[off] (RFC 8945 §4.2: class ANY, TTL 0).  TDNS_OK or
 * TDNS_EMALFORMED.
 */
int dns_tsig_parse(const uint8_t *pkt, size_t len, size_t off, struct dns_tsig *t);

/*
 * Finds the TSIG of a message: it must be the last RR of the additional section (RFC 8945
 * §5.1).  Returns 1 with *t filled, 0 when the message is not signed, TDNS_ETRUNC when the
 * message is cut short, or TDNS_EMALFORMED when a TSIG is not last or cannot be parsed (the
 * message is then FORMERR).
 */
int dns_tsig_find(const uint8_t *pkt, size_t len, struct dns_tsig *t);

/*
 * Appends the TSIG RR t (owner t->key, rdata from the other fields; key and algorithm names
 * written as they are) to the finished message msg of len octets and counts it in ARCOUNT.
 * Returns the new length, or 0 (msg unchanged) when it would pass limit.
 */
size_t dns_tsig_append(uint8_t *msg, size_t len, size_t limit, const struct dns_tsig *t);

/*
 * Appends an unsigned TSIG RR (MAC size 0, RFC 8945 §5.3.2) with error to the finished reply
 * msg of len octets: key, algorithm, time signed, fudge and original ID echo req; BADTIME
 * also carries now.  Returns the new length, or 0 (msg unchanged) when it would pass limit.
 */
size_t dns_tsig_append_unsigned(uint8_t *msg, size_t len, size_t limit,
				const struct dns_tsig *req, uint16_t error, uint64_t now);

/* ------------------------------------------------------------------------------------------ */
/* Server identity (ident.c): CH TXT id.server./version.server., EDNS NSID (RFC 5001).          */

/* What the server tells about itself; empty strings and nsid_len 0 mean "off". */
struct dns_ident {
	char identity[256];   /* id.server. and hostname.bind. (CH TXT) */
	char version[256];    /* version.server. and version.bind. (CH TXT) */
	uint8_t nsid[255];    /* the NSID option's payload */
	size_t nsid_len;
};

/*
 * Fills id from the config values (NULL or "" = off); nsid is text or "hex:HEX".  TDNS_OK, or
 * TDNS_ECONFIG with the reason in err.
 */
int dns_ident_init(struct dns_ident *id, const char *identity, const char *version,
		   const char *nsid, char *err, size_t errlen);

/*
 * Answers the queries that are about the server rather than about zones, before the query
 * pipeline: a TSIG-signed message gets NOTAUTH with an unsigned TSIG carrying BADKEY (no keys
 * are configured; RFC 8945 §5.2.1), an uninterpretable TSIG FORMERR, and CH TXT queries for
 * id.server., hostname.bind., version.server. and version.bind. the configured text when
 * there is one.  Returns true with the reply in out (*outlen octets, *rcode) when it
 * answered; false leaves the query to the pipeline (REFUSED for CH, as without identity).
 */
bool dns_ident_answer(const struct dns_ident *id, const uint8_t *pkt, size_t len, uint8_t *out,
		      size_t cap, bool stream, size_t udp_max, int *rcode, size_t *outlen);

/*
 * Adds the NSID option (RFC 5001 §2.3) to the finished reply out (outlen octets, OPT last)
 * when the query pkt asked for it and an NSID is configured, within the client's size limit.
 * Returns the new length (outlen when nothing was added).
 */
size_t dns_ident_nsid(const struct dns_ident *id, const uint8_t *pkt, size_t len, uint8_t *out,
		      size_t outlen, size_t cap, bool stream, size_t udp_max);

/* True when an NSID is configured and the query pkt carries the NSID option (RFC 5001 §2.1). */
bool dns_ident_nsid_asked(const struct dns_ident *id, const uint8_t *pkt, size_t len);

/*
 * The second half of dns_ident_nsid, for replies built later (deferred resolver answers):
 * appends the NSID option to the OPT that ends the reply out, within limit.  Returns the new
 * length (outlen when nothing was added).
 */
size_t dns_ident_nsid_put(const struct dns_ident *id, uint8_t *out, size_t outlen,
			  size_t limit);

/* ------------------------------------------------------------------------------------------ */
/* Zone files (zonefile.c): RFC 1035 §5 master files plus $TTL, $INCLUDE and $GENERATE.        */

/* One RR read from a zone file; everything is borrowed for the duration of the callback. */
struct dns_zf_rr {
	const uint8_t *owner;
	uint16_t type;
	uint16_t rclass;
	uint32_t ttl;
	const uint8_t *rdata;
	size_t rdlen;
	const char *file;
	unsigned line;
};

/* Return TDNS_OK to go on; anything else stops reading and is returned by the reader. */
typedef int (*dns_zf_cb)(void *ctx, const struct dns_zf_rr *rr);

/* Where and why reading stopped: "file:line: message". */
struct dns_zf_error {
	char file[256];
	unsigned line;
	char msg[512];
};

/*
 * Reads the zone file at path with the given origin (wire), calling cb for every RR.  An RR
 * without a TTL gets $TTL if set, else the last explicit TTL, else default_ttl (RFC 2308 §4).
 * $INCLUDE paths are relative to the including file's directory; nesting is limited to 16.
 * Returns TDNS_OK, TDNS_EIO (this file or an included one cannot be opened; err says why
 * and, for an include, where), TDNS_EZONEFILE (syntax; err has file:line), or what cb
 * returned (err->file/line set to the RR's place).
 */
int dns_zonefile_read(const char *path, const uint8_t *origin, uint32_t default_ttl,
		      dns_zf_cb cb, void *ctx, struct dns_zf_error *err);

/* The same over a memory buffer; $INCLUDE is refused.  name is used in error messages. */
int dns_zonefile_read_mem(const char *text, size_t len, const char *name, const uint8_t *origin,
			  uint32_t default_ttl, dns_zf_cb cb, void *ctx, struct dns_zf_error *err);

/* Parses a TTL with units ("3600", "1h", "1w2d3h4m5s"); TDNS_OK or TDNS_EBADTEXT. */
int dns_ttl_parse(const char *s, size_t len, uint32_t *out);

#endif
