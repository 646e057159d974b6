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

#endif
