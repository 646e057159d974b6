/* SPDX-License-Identifier: MIT */
/* RFC 8484 request semantics (GET, POST, JSON API) and reply forms, shared by HTTP/2 and 1.1. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "dns/dns.h"
#include "net/doh.h"

#define JSON_MAX_TOKENS 512 /* rdata tokens of one DoH-JSON record */
#define QUERY_VALUE_MAX (DOH_BODY_MAX / 3 * 4 + 8) /* base64 of the largest message */

static bool
str_is(struct doh_str s, const char *lit)
{
	size_t n = strlen(lit);
	return s.len == n && strncasecmp(s.s, lit, n) == 0;
}

/* The media type of a Content-Type or Accept element, without parameters or spaces. */
static struct doh_str
media_type(const char *s, size_t len)
{
	while (len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	size_t n = 0;
	while (n < len && s[n] != ';' && s[n] != ',' && s[n] != ' ' && s[n] != '\t') {
		n++;
	}
	return (struct doh_str){ s, n };
}

bool
doh_accept_json(const char *value, size_t len)
{
	bool json = false, wire = false;
	size_t i = 0;
	while (i < len) {
		size_t end = i;
		while (end < len && value[end] != ',') {
			end++;
		}
		struct doh_str t = media_type(value + i, end - i);
		json = json || str_is(t, "application/dns-json") || str_is(t, "application/json");
		wire = wire || str_is(t, "application/dns-message");
		i = end + 1;
	}
	/* A client that accepts both gets the RFC 8484 form. */
	return json && !wire;
}

/* RFC 3986 §2.1: percent-decodes s into out (cap bytes, NUL added); false if malformed. */
static bool
pct_decode(struct doh_str s, char *out, size_t cap, size_t *outlen)
{
	size_t n = 0;
	for (size_t i = 0; i < s.len; i++) {
		if (n + 1 >= cap) {
			return false;
		}
		if (s.s[i] != '%') {
			out[n++] = s.s[i];
			continue;
		}
		int hi = i + 2 < s.len ? tdns_hex_value(s.s[i + 1]) : -1;
		int lo = hi >= 0 ? tdns_hex_value(s.s[i + 2]) : -1;
		if (lo < 0 || (hi == 0 && lo == 0)) {
			return false;
		}
		out[n++] = (char)(hi * 16 + lo);
		i += 2;
	}
	out[n] = '\0';
	*outlen = n;
	return true;
}

static int
b64url_value(char ch)
{
	if (ch >= 'A' && ch <= 'Z') {
		return ch - 'A';
	}
	if (ch >= 'a' && ch <= 'z') {
		return ch - 'a' + 26;
	}
	if (ch >= '0' && ch <= '9') {
		return ch - '0' + 52;
	}
	return ch == '-' ? 62 : ch == '_' ? 63 : -1;
}

/*
 * RFC 4648 §5 base64url.  RFC 8484 §4.1 says without padding; up to two '=' at the end are
 * tolerated since some clients add them.  Returns the decoded length, -400 or -413.
 */
static long
b64url_decode(const char *s, size_t len, uint8_t *out, size_t cap)
{
	for (int pad = 0; pad < 2 && len > 0 && s[len - 1] == '='; pad++) {
		len--;
	}
	if (len % 4 == 1 || len == 0) {
		return -400;
	}
	if (len * 3 / 4 > cap) {
		return -413;
	}
	size_t n = 0;
	uint32_t acc = 0;
	unsigned bits = 0;
	for (size_t i = 0; i < len; i++) {
		int v = b64url_value(s[i]);
		if (v < 0) {
			return -400;
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	return (long)n;
}

/* The query parameters a DoH endpoint reads; values are percent-decoded. */
struct params {
	char dns[QUERY_VALUE_MAX];
	char name[DNS_NAME_TEXT_MAX];
	char type[16];
	bool has_dns, has_name, has_type, do_bit, cd_bit;
};

static bool
flag_value(const char *v)
{
	return strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0;
}

/* One key=value pair of the query string. */
static int
param(struct doh_str key, struct doh_str val, struct params *p)
{
	char tmp[16];
	size_t n;
	if (str_is(key, "dns")) {
		p->has_dns = true;
		return pct_decode(val, p->dns, sizeof(p->dns), &n) ? 0 : val.len >= sizeof(p->dns)
									   ? 413 : 400;
	}
	if (str_is(key, "name")) {
		p->has_name = true;
		return pct_decode(val, p->name, sizeof(p->name), &n) && n > 0 ? 0 : 400;
	}
	if (str_is(key, "type")) {
		p->has_type = true;
		return pct_decode(val, p->type, sizeof(p->type), &n) && n > 0 ? 0 : 400;
	}
	if (str_is(key, "do") || str_is(key, "cd")) {
		if (!pct_decode(val, tmp, sizeof(tmp), &n)) {
			return 400;
		}
		*(key.s[0] == 'd' || key.s[0] == 'D' ? &p->do_bit : &p->cd_bit) = flag_value(tmp);
	}
	/* Other parameters (ct, edns_client_subnet, random_padding) are ignored. */
	return 0;
}

/* Splits the query string q into parameters. */
static int
parse_query(struct doh_str q, struct params *p)
{
	size_t i = 0;
	while (i < q.len) {
		size_t end = i;
		while (end < q.len && q.s[end] != '&') {
			end++;
		}
		const char *eq = memchr(q.s + i, '=', end - i);
		struct doh_str key = { q.s + i, eq != NULL ? (size_t)(eq - q.s) - i : end - i };
		struct doh_str val = { eq != NULL ? eq + 1 : q.s + end,
				       eq != NULL ? (size_t)(q.s + end - eq - 1) : 0 };
		int rc = param(key, val, p);
		if (rc != 0) {
			return rc;
		}
		i = end + 1;
	}
	return 0;
}

/* The JSON API's question: ?name=NAME&type=TYPE (number or mnemonic, default A). */
static int
build_json_query(const struct params *p, uint8_t *out, size_t cap, size_t *outlen)
{
	static const uint8_t root[1] = { 0 };
	uint8_t qname[DNS_NAME_MAX];
	if (dns_name_from_text(p->name, strlen(p->name), root, qname) < 0) {
		return 400;
	}
	long type = DNS_TYPE_A;
	if (p->has_type) {
		char *end;
		type = strtol(p->type, &end, 10);
		if (*end != '\0' || p->type[0] < '0' || p->type[0] > '9') {
			type = dns_type_from_text(p->type, strlen(p->type));
		}
		if (type <= 0 || type > 65535) {
			return 400;
		}
	}
	/* RFC 8484 §4.1: ID 0.  RD, as the JSON APIs of public resolvers assume. */
	struct dns_build b;
	dns_build_init(&b, out, cap, cap, 0, DNS_FLAG_RD | (p->cd_bit ? DNS_FLAG_CD : 0));
	dns_build_edns(&b, DNS_EDNS_MAX_PAYLOAD, p->do_bit);
	if (dns_build_question(&b, qname, (uint16_t)type, DNS_CLASS_IN) != TDNS_OK) {
		return 400;
	}
	*outlen = dns_build_finish(&b);
	return *outlen > 0 ? 0 : 400;
}

/* GET: ?dns= (RFC 8484 §4.1) or the JSON API's ?name=. */
static int
decode_get(struct doh_str query, uint8_t *out, size_t cap, size_t *outlen, enum doh_format *fmt)
{
	struct params *p = calloc(1, sizeof(*p));
	if (p == NULL) {
		return 500;
	}
	int rc = parse_query(query, p);
	if (rc == 0 && p->has_dns) {
		long n = b64url_decode(p->dns, strlen(p->dns), out, cap);
		rc = n < 0 ? (int)-n : 0;
		*outlen = n < 0 ? 0 : (size_t)n;
	} else if (rc == 0 && p->has_name) {
		*fmt = DOH_FORMAT_JSON;
		rc = build_json_query(p, out, cap, outlen);
	} else if (rc == 0) {
		rc = 400;
	}
	free(p);
	return rc;
}

/* POST: the body is the message (RFC 8484 §4.1), typed application/dns-message. */
static int
decode_post(const struct doh_request *r, uint8_t *out, size_t cap, size_t *outlen)
{
	struct doh_str t = r->content_type.s != NULL
				   ? media_type(r->content_type.s, r->content_type.len)
				   : (struct doh_str){ "", 0 };
	if (!str_is(t, "application/dns-message")) {
		return 415;
	}
	if (r->body_len > DOH_BODY_MAX || r->body_len > cap) {
		return 413;
	}
	memcpy(out, r->body, r->body_len);
	*outlen = r->body_len;
	return 0;
}

int
doh_request_decode(const struct doh_request *r, const char *path, uint8_t *out, size_t cap,
		   size_t *outlen, enum doh_format *fmt)
{
	const char *q = memchr(r->target.s, '?', r->target.len);
	size_t plen = q != NULL ? (size_t)(q - r->target.s) : r->target.len;
	if (plen != strlen(path) || memcmp(r->target.s, path, plen) != 0) {
		return 404;
	}
	*fmt = r->accept_json ? DOH_FORMAT_JSON : DOH_FORMAT_WIRE;
	*outlen = 0;
	int rc;
	if (str_is(r->method, "GET")) {
		struct doh_str query = { q != NULL ? q + 1 : r->target.s + plen,
					 q != NULL ? r->target.len - plen - 1 : 0 };
		rc = decode_get(query, out, cap, outlen, fmt);
	} else if (str_is(r->method, "POST")) {
		rc = decode_post(r, out, cap, outlen);
	} else {
		return 405; /* RFC 9110 §15.5.6: with Allow: GET, POST */
	}
	if (rc != 0) {
		return rc;
	}
	/* A query has at least a header and QR clear (RFC 1035 §4.1.1). */
	if (*outlen < DNS_HDR_LEN || (tdns_get16(out + 2) & DNS_FLAG_QR) != 0) {
		return 400;
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Replies                                                                                      */

/* RFC 2308 §5: a negative answer lives min(SOA TTL, SOA MINIMUM). */
static long
negative_ttl(const struct dns_msg *m)
{
	uint8_t rd[2 * DNS_NAME_MAX + 20];
	for (size_t i = 0; i < m->nrr; i++) {
		const struct dns_rr *rr = &m->rrs[i];
		size_t rdlen;
		if (rr->section != DNS_SECTION_AUTHORITY || rr->type != DNS_TYPE_SOA ||
		    dns_rdata_unpack(rr->type, m->pkt, m->len, rr->rdata_off, rr->rdlen, rd,
				     sizeof(rd), &rdlen) != TDNS_OK || rdlen < 20) {
			continue;
		}
		uint32_t minimum = tdns_get32(rd + rdlen - 4);
		return rr->ttl < minimum ? rr->ttl : minimum;
	}
	return -1;
}

long
doh_max_age(const uint8_t *msg, size_t len)
{
	struct dns_msg m;
	if (dns_msg_parse(msg, len, &m) != TDNS_OK) {
		return -1;
	}
	long age = -1;
	if ((m.flags & DNS_FLAG_TC) != 0) {
		age = -1;
	} else if (m.rcode == DNS_RCODE_NOERROR && m.count[DNS_SECTION_ANSWER] > 0) {
		/* RFC 8484 §5.1: no longer than the smallest TTL of the answer section. */
		for (size_t i = 0; i < m.nrr; i++) {
			if (m.rrs[i].section == DNS_SECTION_ANSWER &&
			    (age < 0 || m.rrs[i].ttl < (uint32_t)age)) {
				age = m.rrs[i].ttl;
			}
		}
	} else if (m.rcode == DNS_RCODE_NOERROR || m.rcode == DNS_RCODE_NXDOMAIN) {
		age = negative_ttl(&m);
	}
	dns_msg_clear(&m);
	return age;
}

/* {name, type, TTL, data} of one RR; NULL when out of memory. */
static json_t *
json_rr(const struct dns_msg *m, const struct dns_rr *rr, uint8_t *rd, char *text,
	size_t textcap)
{
	char name[DNS_NAME_TEXT_MAX];
	size_t rdlen;
	(void)dns_name_to_text(rr->owner, name, sizeof(name));
	if (dns_rdata_unpack(rr->type, m->pkt, m->len, rr->rdata_off, rr->rdlen, rd,
			     DNS_RDATA_MAX, &rdlen) != TDNS_OK) {
		/* Shown in the RFC 3597 form, as dns_rdata_to_text does for bad rdata. */
		memcpy(rd, m->pkt + rr->rdata_off, rr->rdlen);
		rdlen = rr->rdlen;
	}
	if (dns_rdata_to_text(rr->type, rd, rdlen, text, textcap) < 0) {
		text[0] = '\0';
	}
	return json_pack("{s:s,s:i,s:I,s:s}", "name", name, "type", (int)rr->type, "TTL",
			 (json_int_t)rr->ttl, "data", text);
}

/* Adds Answer, Authority and Additional (OPT left out) to root. */
static bool
json_sections(json_t *root, const struct dns_msg *m)
{
	static const char *const keys[] = { NULL, "Answer", "Authority", "Additional" };
	size_t textcap = 4 * DNS_RDATA_MAX + 64;
	uint8_t *rd = malloc(DNS_RDATA_MAX);
	char *text = malloc(textcap);
	json_t *arr[4] = { NULL, json_array(), json_array(), json_array() };
	bool ok = rd != NULL && text != NULL && arr[1] != NULL && arr[2] != NULL && arr[3] != NULL;
	for (size_t i = 0; ok && i < m->nrr; i++) {
		const struct dns_rr *rr = &m->rrs[i];
		if (rr->type != DNS_TYPE_OPT && rr->section >= 1 && rr->section <= 3) {
			ok = json_array_append_new(arr[rr->section],
						   json_rr(m, rr, rd, text, textcap)) == 0;
		}
	}
	for (int s = 1; s <= 3; s++) {
		if (ok && json_array_size(arr[s]) > 0) {
			ok = json_object_set(root, keys[s], arr[s]) == 0;
		}
		json_decref(arr[s]);
	}
	free(rd);
	free(text);
	return ok;
}

/* The first EDE as "EDE n: text" (RFC 8914), where the JSON APIs put remarks. */
static bool
json_comment(json_t *root, const struct dns_msg *m)
{
	uint16_t code;
	const uint8_t *t;
	size_t tlen;
	if (!m->edns.present || !dns_edns_find_ede(&m->edns, &code, &t, &tlen)) {
		return true;
	}
	char buf[320];
	snprintf(buf, sizeof(buf), "EDE %u%s%.*s", (unsigned)code, tlen > 0 ? ": " : "",
		 (int)(tlen < 256 ? tlen : 256), (const char *)t);
	/* EDE text is UTF-8 by RFC 8914 §2; a string jansson refuses is left out. */
	json_t *s = json_string(buf);
	return s == NULL || json_object_set_new(root, "Comment", s) == 0;
}

char *
doh_json_from_wire(const uint8_t *msg, size_t len)
{
	struct dns_msg m;
	if (dns_msg_parse(msg, len, &m) != TDNS_OK) {
		return NULL;
	}
	char *out = NULL;
	char qname[DNS_NAME_TEXT_MAX] = ".";
	if (m.count[DNS_SECTION_QUESTION] > 0) {
		(void)dns_name_to_text(m.qname, qname, sizeof(qname));
	}
	json_t *root = json_pack("{s:i,s:b,s:b,s:b,s:b,s:b}", "Status", m.rcode, "TC",
				 (m.flags & DNS_FLAG_TC) != 0, "RD", (m.flags & DNS_FLAG_RD) != 0,
				 "RA", (m.flags & DNS_FLAG_RA) != 0, "AD",
				 (m.flags & DNS_FLAG_AD) != 0, "CD", (m.flags & DNS_FLAG_CD) != 0);
	if (root == NULL) {
		goto out;
	}
	json_t *q = m.count[DNS_SECTION_QUESTION] > 0
			    ? json_pack("[{s:s,s:i}]", "name", qname, "type", (int)m.qtype)
			    : NULL;
	if (q != NULL && json_object_set_new(root, "Question", q) != 0) {
		goto out;
	}
	if (json_sections(root, &m) && json_comment(root, &m)) {
		out = json_dumps(root, JSON_COMPACT);
	}
out:
	json_decref(root);
	dns_msg_clear(&m);
	return out;
}

/* ------------------------------------------------------------------------------------------ */
/* DoH-JSON answers read back into wire form (the client side of doh_json_from_wire)         */

static bool
json_name(json_t *v, uint8_t *out)
{
	static const uint8_t root[1] = { 0 };
	const char *s = json_string_value(v);
	return s != NULL && dns_name_from_text(s, strlen(s), root, out) >= 0;
}

static bool
json_uint(json_t *v, unsigned long max, unsigned long *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (unsigned long long)json_integer_value(v) > max) {
		return false;
	}
	*out = (unsigned long)json_integer_value(v);
	return true;
}

static bool
json_rr_to_wire(json_t *rr, int section, struct dns_build *b, uint8_t *rd, char *err,
		size_t errlen)
{
	static const uint8_t root[1] = { 0 };
	uint8_t owner[DNS_NAME_MAX];
	unsigned long type, ttl;
	const char *data = json_string_value(json_object_get(rr, "data"));
	if (!json_is_object(rr) || !json_name(json_object_get(rr, "name"), owner) ||
	    !json_uint(json_object_get(rr, "type"), 65535, &type) ||
	    !json_uint(json_object_get(rr, "TTL"), UINT32_MAX, &ttl) || data == NULL) {
		snprintf(err, errlen, "a record lacks a valid name, type, TTL or data");
		return false;
	}
	struct dns_tok toks[JSON_MAX_TOKENS];
	size_t ntok;
	size_t dlen = strlen(data);
	bool txt = type == DNS_TYPE_TXT || type == 99; /* 99: SPF, RFC 4408 */
	if (txt && dlen > 0 && data[0] != '"') {
		/* Google sends TXT data unquoted: one string, cut into 255-octet pieces. */
		ntok = 0;
		for (size_t off = 0; off < dlen && ntok < JSON_MAX_TOKENS; off += 255) {
			size_t l = dlen - off < 255 ? dlen - off : 255;
			toks[ntok++] = (struct dns_tok){ data + off, l, true };
		}
	} else {
		ntok = dns_rdata_tokenize(data, toks, JSON_MAX_TOKENS);
	}
	size_t rdlen = 0;
	char why[256];
	int rc = dns_rdata_from_text((uint16_t)type, toks, ntok, root, rd, DNS_RDATA_MAX, &rdlen,
				     why, sizeof(why));
	if (rc != TDNS_OK) {
		char tb[16];
		snprintf(err, errlen, "%s data '%s': %s", dns_type_to_text((uint16_t)type, tb),
			 data, why);
		return false;
	}
	if (dns_build_rr(b, section, owner, (uint16_t)type, DNS_CLASS_IN, (uint32_t)ttl, rd,
			 rdlen) != TDNS_OK) {
		snprintf(err, errlen, "the answer does not fit in a DNS message");
		return false;
	}
	return true;
}

size_t
doh_json_to_wire(const char *json, size_t jlen, uint16_t id, uint8_t *out, size_t cap,
		    char *err, size_t errlen)
{
	json_error_t je;
	size_t len = 0;
	uint8_t *rd = NULL;
	json_t *root = json_loadb(json, jlen, 0, &je);
	if (root == NULL || !json_is_object(root)) {
		snprintf(err, errlen, "not a JSON object%s%s", root == NULL ? ": " : "",
			 root == NULL ? je.text : "");
		goto out;
	}
	unsigned long status;
	if (!json_uint(json_object_get(root, "Status"), 4095, &status)) {
		snprintf(err, errlen, "no valid \"Status\"");
		goto out;
	}
	static const struct {
		const char *key;
		uint16_t bit;
	} bits[] = {
		{ "TC", DNS_FLAG_TC }, { "RD", DNS_FLAG_RD }, { "RA", DNS_FLAG_RA },
		{ "AD", DNS_FLAG_AD }, { "CD", DNS_FLAG_CD },
	};
	uint16_t flags = DNS_FLAG_QR | (DNS_OPCODE_QUERY << 11) | (uint16_t)(status & 0xf);
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		if (json_is_true(json_object_get(root, bits[i].key))) {
			flags |= bits[i].bit;
		}
	}
	struct dns_build b;
	dns_build_init(&b, out, cap, cap, id, flags);
	if (status > 15) {
		/* Extended rcodes need an OPT record (RFC 6891 §6.1.3). */
		dns_build_edns(&b, DNS_EDNS_MAX_PAYLOAD, false);
		dns_build_rcode(&b, (int)status);
	}
	json_t *q = json_array_get(json_object_get(root, "Question"), 0);
	uint8_t qname[DNS_NAME_MAX];
	unsigned long qtype;
	if (!json_is_object(q) || !json_name(json_object_get(q, "name"), qname) ||
	    !json_uint(json_object_get(q, "type"), 65535, &qtype)) {
		snprintf(err, errlen, "no valid \"Question\"");
		goto out;
	}
	if (dns_build_question(&b, qname, (uint16_t)qtype, DNS_CLASS_IN) != TDNS_OK) {
		snprintf(err, errlen, "no room for the question");
		goto out;
	}
	static const struct {
		const char *key;
		int section;
	} sections[] = {
		{ "Answer", DNS_SECTION_ANSWER },
		{ "Authority", DNS_SECTION_AUTHORITY },
		{ "Additional", DNS_SECTION_ADDITIONAL },
	};
	rd = malloc(DNS_RDATA_MAX);
	if (rd == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (size_t s = 0; s < sizeof(sections) / sizeof(sections[0]); s++) {
		json_t *arr = json_object_get(root, sections[s].key);
		if (arr == NULL) {
			continue;
		}
		if (!json_is_array(arr)) {
			snprintf(err, errlen, "\"%s\" is not an array", sections[s].key);
			goto out;
		}
		size_t i;
		json_t *rr;
		json_array_foreach(arr, i, rr) {
			if (!json_rr_to_wire(rr, sections[s].section, &b, rd, err, errlen)) {
				goto out;
			}
		}
	}
	len = dns_build_finish(&b);
	if (len == 0) {
		snprintf(err, errlen, "the answer does not fit in a DNS message");
	}
out:
	free(rd);
	json_decref(root);
	return len;
}
