/* SPDX-License-Identifier: MIT */
/* Authoritative answers: parse a query, pick the reply size, answer from the zones. */
#include "config.h"

#include <string.h>

#include "query/query_int.h"

size_t
query_reply_limit(const struct dns_query *q, bool tcp, size_t udp_max)
{
	if (tcp) {
		return DNS_MSG_MAX;
	}
	if (!q->edns.present) {
		return DNS_UDP_MIN; /* RFC 1035 §4.2.1 */
	}
	/* RFC 6891 §6.2.5: sizes below 512 are treated as 512; never more than we offer. */
	size_t size = q->edns.udp_size;
	if (size > udp_max) {
		size = udp_max;
	}
	return size < DNS_UDP_MIN ? DNS_UDP_MIN : size;
}

size_t
query_answer_parsed(const struct zone_set *zs, const struct dns_query *q, int rc,
		    uint8_t *out, size_t cap, bool tcp, size_t udp_max, int *rcode)
{
	if (rc < 0 || cap < DNS_HDR_LEN) {
		*rcode = -1;
		return 0;
	}
	size_t limit = query_reply_limit(q, tcp, udp_max);
	if (limit > cap) {
		limit = cap;
	}
	uint16_t flags = DNS_FLAG_QR | (q->flags & (QUERY_OPCODE_MASK | DNS_FLAG_RD));
	if (rc == DNS_RCODE_NOERROR) {
		/* RFC 4035 §3.1.6: the CD bit is copied into the response. */
		flags |= q->flags & DNS_FLAG_CD;
	}
	struct dns_build b;
	dns_build_init(&b, out, cap, limit, q->id, flags);
	/* RFC 6891 §7: with more than one OPT we cannot tell which to answer, so send none. */
	bool edns = q->edns.present && q->edns_count == 1;
	if (edns) {
		uint16_t size = udp_max > DNS_MSG_MAX ? DNS_MSG_MAX : (uint16_t)udp_max;
		dns_build_edns(&b, size < DNS_UDP_MIN ? DNS_UDP_MIN : size, q->edns.do_bit);
	}
	if (rc == DNS_RCODE_NOERROR && edns && q->edns.version > 0) {
		/* RFC 6891 §6.1.3: we implement version 0 only, which our OPT states. */
		rc = DNS_RCODE_BADVERS;
	}
	/* AXFR over UDP is NOTIMP (RFC 5936 §4.2; BIND, Knot, NSD too); IXFR is not (RFC 1995). */
	rc = rc == DNS_RCODE_NOERROR && !tcp && q->qtype == DNS_TYPE_AXFR ? DNS_RCODE_NOTIMP : rc;
	if (rc != DNS_RCODE_NOERROR) {
		/* FORMERR, NOTIMP, BADVERS: the header, the question when we have one, no data. */
		if (q->qname_len > 0) {
			(void)dns_build_question(&b, q->qname, q->qtype, q->qclass);
		}
		dns_build_rcode(&b, rc);
		*rcode = rc;
		return dns_build_finish(&b);
	}
	if (dns_build_question(&b, q->qname, q->qtype, q->qclass) != TDNS_OK) {
		/* Cannot happen with limit >= 512 and a name <= 255, but never send a bad reply. */
		*rcode = -1;
		return 0;
	}
	struct zone_answer_info info;
	memset(&info, 0, sizeof(info));
	zone_answer(zs, q, &b, &info);
	*rcode = info.rcode;
	return dns_build_finish(&b);
}

size_t
query_answer(const struct zone_set *zs, const uint8_t *pkt, size_t len, uint8_t *out,
	     size_t cap, bool tcp, size_t udp_max, int *rcode)
{
	struct dns_query q;
	int rc = dns_query_parse(pkt, len, &q);
	return query_answer_parsed(zs, &q, rc, out, cap, tcp, udp_max, rcode);
}

size_t
query_process(const struct zone_set *zs, const uint8_t *pkt, size_t len, uint8_t *out,
	      size_t cap, bool tcp, size_t udp_max)
{
	int rcode;
	return query_answer(zs, pkt, len, out, cap, tcp, udp_max, &rcode);
}
