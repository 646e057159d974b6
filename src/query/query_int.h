/* SPDX-License-Identifier: MIT */
/* Private to src/query: what query-resolve.c takes from query-answer.c. */
#ifndef TDNS_QUERY_INT_H
#define TDNS_QUERY_INT_H

#include "query/query.h"

/* Opcode bits of the header flags word. */
#define QUERY_OPCODE_MASK 0x7800

/*
 * The largest reply for q: 65535 octets over a stream (tcp), else 512 without EDNS and the
 * client's EDNS size clamped to [512, udp_max] with it (RFC 6891 §6.2.5).
 */
size_t query_reply_limit(const struct dns_query *q, bool tcp, size_t udp_max);

/*
 * query_answer for a query already parsed by dns_query_parse, which returned rc: the reply to
 * q from zs into out (cap octets), its length, and its full rcode in *rcode (-1: dropped).
 */
size_t query_answer_parsed(const struct zone_set *zs, const struct dns_query *q, int rc,
			   uint8_t *out, size_t cap, bool tcp, size_t udp_max, int *rcode);

/*
 * query-xfr.c: a query carrying a TSIG, or an AXFR/IXFR.  Checks the TSIG with the keys of xc
 * (RFC 8945 §5.2: NOTAUTH with BADKEY, BADSIG, BADTIME or BADTRUNC when it fails), answers a
 * good signed query from zs with a signed reply, and a transfer request by the zone's
 * allow-transfer: REFUSED (logged), or the zone streamed through cl->feed (*rcode
 * NET_RCODE_DEFERRED).  Returns true with the reply in out[0..*rlen) when it answered; false
 * leaves the message to the rest of the pipeline.
 */
bool query_xfr(const struct zone_set *zs, const struct zone_xfr_conf *xc, struct net_worker *nw,
	       const uint8_t *pkt, size_t len, uint8_t *out, size_t cap,
	       const struct net_client *cl, int *rcode, size_t *rlen);

/*
 * Issue 17, RFC 7314 §3.2: adds the EDNS EXPIRE option (the seconds before the zone expires)
 * to the finished reply out[0..n) of an SOA query for a secondary zone that asked for it, an
 * authoritative NOERROR reply, within the client's size limit.  Returns the new length.
 */
size_t query_xfr_expire(const struct zone_xfr_conf *xc, const uint8_t *pkt, size_t len,
			uint8_t *out, size_t n, size_t cap, const struct net_client *cl,
			size_t udp_max);

/*
 * Blocking step of the pipeline (query-block.c): when the query in pkt[0..len) asks for a
 * name that qb blocks for client cl (or the Firefox canary), writes the reply by qb's mode
 * into out (cap octets), its length into *rlen and its rcode into *rcode, and returns true.
 * False when the query goes on through the pipeline (not blocked, bypassed, not a plain IN
 * query).  A blocked answer's reason (list and line, group, EDE) is noted on sw for the
 * query log (stats_note_block; sw may be NULL).
 */
bool query_blocking_answer(const struct query_blocking *qb, const uint8_t *pkt, size_t len,
			   uint8_t *out, size_t cap, const struct net_client *cl, size_t udp_max,
			   struct stats_worker *sw, int *rcode, size_t *rlen);

/*
 * Safe search (issue 18): the endpoint (wire, borrowed from qb) that qname is answered with as
 * a CNAME for client (NULL: none), or NULL when safe search does not apply (blocking off or
 * paused, a bypass client, safe search off for the client's group or [blocking], or qname not
 * in the table).  *ttl gets the TTL of the CNAME ([blocking] ttl or the group's), *line the
 * table line (line may be NULL).
 */
const uint8_t *query_blocking_safe(const struct query_blocking *qb, const uint8_t *qname,
				   const struct sockaddr *client, uint32_t *ttl, unsigned *line);

#endif
