/* SPDX-License-Identifier: MIT */
/* What the server says about itself: CH TXT identity and version, EDNS NSID, TSIG refusals. */
#include <string.h>
#include <time.h>

#include "dns/dns.h"

#define OPT_CODE_NSID 3 /* RFC 5001 §2.3 */

static int
hexdigit(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int
dns_ident_init(struct dns_ident *id, const char *identity, const char *version,
	       const char *nsid, char *err, size_t errlen)
{
	memset(id, 0, sizeof(*id));
	identity = identity != NULL ? identity : "";
	version = version != NULL ? version : "";
	nsid = nsid != NULL ? nsid : "";
	if (strlen(identity) >= sizeof(id->identity) || strlen(version) >= sizeof(id->version)) {
		snprintf(err, errlen, "identity and version are at most %zu octets",
			 sizeof(id->identity) - 1);
		return TDNS_ECONFIG;
	}
	memcpy(id->identity, identity, strlen(identity) + 1);
	memcpy(id->version, version, strlen(version) + 1);
	if (strncmp(nsid, "hex:", 4) == 0) {
		const char *h = nsid + 4;
		size_t n = strlen(h);
		if (n == 0 || n % 2 != 0 || n / 2 > sizeof(id->nsid)) {
			snprintf(err, errlen, "nsid hex:HEX needs 1-%zu octets as pairs of hex "
				 "digits", sizeof(id->nsid));
			return TDNS_ECONFIG;
		}
		for (size_t i = 0; i < n; i += 2) {
			int a = hexdigit(h[i]), b = hexdigit(h[i + 1]);
			if (a < 0 || b < 0) {
				snprintf(err, errlen, "nsid hex:HEX has a bad hex digit in '%s'",
					 h);
				return TDNS_ECONFIG;
			}
			id->nsid[i / 2] = (uint8_t)(a << 4 | b);
		}
		id->nsid_len = n / 2;
	} else {
		size_t n = strlen(nsid);
		if (n > sizeof(id->nsid)) {
			snprintf(err, errlen, "nsid is at most %zu octets", sizeof(id->nsid));
			return TDNS_ECONFIG;
		}
		memcpy(id->nsid, nsid, n);
		id->nsid_len = n;
	}
	return TDNS_OK;
}

/* The qclass of the first question, or -1 when the message has none or is cut short. */
static int
question_class(const uint8_t *pkt, size_t len)
{
	int end = dns_msg_question_end(pkt, len);
	if (end < 0 || tdns_get16(pkt + 4) == 0 || (size_t)end + 4 >= len) {
		return -1;
	}
	return tdns_get16(pkt + end + 3);
}

static size_t
reply_limit(const struct dns_query *q, bool stream, size_t udp_max, size_t cap)
{
	size_t limit = DNS_MSG_MAX;
	if (!stream) {
		/* RFC 1035 §4.2.1 and RFC 6891 §6.2.5, as the query pipeline does. */
		limit = q->edns.present ? q->edns.udp_size : DNS_UDP_MIN;
		limit = limit > udp_max ? udp_max : limit;
		limit = limit < DNS_UDP_MIN ? DNS_UDP_MIN : limit;
	}
	return limit > cap ? cap : limit;
}

/* Header, question and OPT as the query pipeline writes them; rcode set by the caller. */
static void
start(struct dns_build *b, const struct dns_query *q, uint8_t *out, size_t cap, size_t limit,
      size_t udp_max)
{
	uint16_t flags = DNS_FLAG_QR | (q->flags & (0x7800 | DNS_FLAG_RD));
	dns_build_init(b, out, cap, limit, q->id, flags);
	if (q->edns.present && q->edns_count == 1) {
		size_t size = udp_max > DNS_MSG_MAX ? DNS_MSG_MAX : udp_max;
		dns_build_edns(b, (uint16_t)(size < DNS_UDP_MIN ? DNS_UDP_MIN : size),
			       q->edns.do_bit);
	}
	if (q->qname_len > 0) {
		(void)dns_build_question(b, q->qname, q->qtype, q->qclass);
	}
}

/* RFC 8945 §5.2: a TSIG we cannot check.  No keys are configured yet, so every key is unknown. */
static size_t
tsig_refuse(const struct dns_tsig *t, const struct dns_query *q, uint8_t *out, size_t cap,
	    size_t limit, size_t udp_max, int *rcode)
{
	struct dns_build b;
	start(&b, q, out, cap, limit, udp_max);
	/* §5.2.1: NOTAUTH with error BADKEY, unsigned (§5.3.2). */
	dns_build_rcode(&b, DNS_RCODE_NOTAUTH);
	*rcode = DNS_RCODE_NOTAUTH;
	size_t n = dns_build_finish(&b);
	size_t m = dns_tsig_append_unsigned(out, n, limit, t, DNS_TSIG_BADKEY,
					    (uint64_t)time(NULL));
	return m > 0 ? m : n;
}

/* Which configured text a CH TXT name asks for (NSD's and Knot's names); NULL if none. */
static const char *
ident_text(const struct dns_ident *id, const uint8_t *qname)
{
	static const uint8_t id_server[] = "\002id\006server";
	static const uint8_t hostname_bind[] = "\010hostname\004bind";
	static const uint8_t version_server[] = "\007version\006server";
	static const uint8_t version_bind[] = "\007version\004bind";
	if (dns_name_eq(qname, id_server) || dns_name_eq(qname, hostname_bind)) {
		return id->identity[0] != '\0' ? id->identity : NULL;
	}
	if (dns_name_eq(qname, version_server) || dns_name_eq(qname, version_bind)) {
		return id->version[0] != '\0' ? id->version : NULL;
	}
	return NULL;
}

bool
dns_ident_answer(const struct dns_ident *id, const uint8_t *pkt, size_t len, uint8_t *out,
		 size_t cap, bool stream, size_t udp_max, int *rcode, size_t *outlen)
{
	struct dns_tsig t;
	int tr = len >= DNS_HDR_LEN && tdns_get16(pkt + 10) > 0 ? dns_tsig_find(pkt, len, &t) : 0;
	int qclass = question_class(pkt, len);
	if (tr == 0 && (qclass != DNS_CLASS_CH || (id->identity[0] == '\0' &&
						    id->version[0] == '\0'))) {
		return false; /* the common case: nothing for us */
	}
	if (tr == TDNS_ETRUNC) {
		return false; /* the pipeline answers a message cut short */
	}
	struct dns_query q;
	int prc = dns_query_parse(pkt, len, &q);
	if (prc < 0 || cap < DNS_HDR_LEN) {
		return false;
	}
	size_t limit = reply_limit(&q, stream, udp_max, cap);
	if (tr < 0) {
		/* RFC 8945 §5.2: a TSIG that cannot be interpreted makes the message FORMERR. */
		struct dns_build b;
		start(&b, &q, out, cap, limit, udp_max);
		dns_build_rcode(&b, DNS_RCODE_FORMERR);
		*rcode = DNS_RCODE_FORMERR;
		*outlen = dns_build_finish(&b);
		return true;
	}
	if (tr > 0) {
		*outlen = tsig_refuse(&t, &q, out, cap, limit, udp_max, rcode);
		return true;
	}
	if (prc != DNS_RCODE_NOERROR || q.edns_count > 1 ||
	    (q.edns.present && q.edns.version > 0)) {
		return false; /* the pipeline answers FORMERR, NOTIMP and BADVERS */
	}
	const char *text = ident_text(id, q.qname);
	if (text == NULL || (q.qtype != DNS_TYPE_TXT && q.qtype != DNS_TYPE_ANY)) {
		/* REFUSED by the pipeline, as without identity; Knot and NSD refuse other types. */
		return false;
	}
	/* No AA: no zone holds these names (RFC 1035 §4.1.1), and neither Knot nor NSD sets it. */
	struct dns_build b;
	start(&b, &q, out, cap, limit, udp_max);
	*rcode = DNS_RCODE_NOERROR;
	uint8_t rd[256];
	size_t n = strlen(text);
	rd[0] = (uint8_t)n;
	memcpy(rd + 1, text, n);
	if (dns_build_rr(&b, DNS_SECTION_ANSWER, q.qname, DNS_TYPE_TXT, DNS_CLASS_CH, 0, rd,
			 n + 1) != TDNS_OK) {
		dns_build_truncate(&b);
	}
	*outlen = dns_build_finish(&b);
	return true;
}

bool
dns_ident_nsid_asked(const struct dns_ident *id, const uint8_t *pkt, size_t len)
{
	if (id->nsid_len == 0 || len < DNS_HDR_LEN || tdns_get16(pkt + 10) == 0) {
		return false;
	}
	struct dns_query q;
	if (dns_query_parse(pkt, len, &q) < 0 || !q.edns.present || q.edns_count != 1) {
		return false;
	}
	/* RFC 5001 §2.1: the client asks with an NSID option (empty payload). */
	for (size_t p = 0; p + 4 <= q.edns.options_len;) {
		if (tdns_get16(q.edns.options + p) == OPT_CODE_NSID) {
			return true;
		}
		p += 4 + (size_t)tdns_get16(q.edns.options + p + 2);
	}
	return false;
}

size_t
dns_ident_nsid_put(const struct dns_ident *id, uint8_t *out, size_t outlen, size_t limit)
{
	size_t off;
	uint16_t type;
	if (id->nsid_len == 0 || dns_msg_last_rr(out, outlen, &off, &type) != 1 ||
	    type != DNS_TYPE_OPT || out[off] != 0) {
		return outlen;
	}
	size_t add = 4 + id->nsid_len;
	size_t rdlen = tdns_get16(out + off + 9);
	if (outlen > limit || limit - outlen < add || rdlen + add > UINT16_MAX) {
		return outlen; /* optional data that does not fit is left out */
	}
	/* The OPT is the last record, so its rdata ends the message: append the option. */
	tdns_put16(out + outlen, OPT_CODE_NSID);
	tdns_put16(out + outlen + 2, (uint16_t)id->nsid_len);
	memcpy(out + outlen + 4, id->nsid, id->nsid_len);
	tdns_put16(out + off + 9, (uint16_t)(rdlen + add));
	return outlen + add;
}

size_t
dns_ident_nsid(const struct dns_ident *id, const uint8_t *pkt, size_t len, uint8_t *out,
	       size_t outlen, size_t cap, bool stream, size_t udp_max)
{
	if (!dns_ident_nsid_asked(id, pkt, len)) {
		return outlen;
	}
	struct dns_query q;
	(void)dns_query_parse(pkt, len, &q);
	return dns_ident_nsid_put(id, out, outlen, reply_limit(&q, stream, udp_max, cap));
}
