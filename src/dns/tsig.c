/* SPDX-License-Identifier: MIT */
/* TSIG records (RFC 8945): finding and parsing the TSIG of a message, unsigned error replies. */
#include <string.h>

#include "dns/dns.h"

/* Moves *pos past a possibly compressed name; false if it runs off the message. */
static bool
skip_name(const uint8_t *pkt, size_t len, size_t *pos)
{
	size_t p = *pos;
	while (p < len) {
		uint8_t l = pkt[p];
		if ((l & 0xc0) == 0xc0) {
			if (p + 2 > len) {
				return false;
			}
			*pos = p + 2;
			return true;
		}
		if (l & 0xc0) {
			return false;
		}
		p += 1u + l;
		if (l == 0) {
			*pos = p;
			return true;
		}
	}
	return false;
}

/* dns_msg_last_rr; *tsigs counts the TSIG RRs met before the last one. */
static int
last_rr(const uint8_t *pkt, size_t len, size_t *off, uint16_t *type, unsigned *tsigs)
{
	if (len < DNS_HDR_LEN) {
		return TDNS_ETRUNC;
	}
	size_t pos = DNS_HDR_LEN;
	unsigned qd = tdns_get16(pkt + 4);
	unsigned rrs = (unsigned)tdns_get16(pkt + 6) + tdns_get16(pkt + 8) + tdns_get16(pkt + 10);
	for (unsigned i = 0; i < qd; i++) {
		if (!skip_name(pkt, len, &pos) || len - pos < 4) {
			return TDNS_ETRUNC;
		}
		pos += 4;
	}
	*off = 0;
	*type = 0;
	*tsigs = 0;
	for (unsigned i = 0; i < rrs; i++) {
		if (i > 0 && *type == DNS_TYPE_TSIG) {
			(*tsigs)++;
		}
		size_t start = pos;
		if (!skip_name(pkt, len, &pos) || len - pos < 10) {
			return TDNS_ETRUNC;
		}
		uint16_t t = tdns_get16(pkt + pos);
		size_t rdlen = tdns_get16(pkt + pos + 8);
		pos += 10;
		if (len - pos < rdlen) {
			return TDNS_ETRUNC;
		}
		pos += rdlen;
		*off = start;
		*type = t;
	}
	return rrs > 0 ? 1 : 0;
}

int
dns_msg_last_rr(const uint8_t *pkt, size_t len, size_t *off, uint16_t *type)
{
	unsigned tsigs;
	return last_rr(pkt, len, off, type, &tsigs);
}

int
dns_tsig_parse(const uint8_t *pkt, size_t len, size_t off, struct dns_tsig *t)
{
	memset(t, 0, sizeof(*t));
	size_t pos = off;
	int n = dns_name_unpack(pkt, len, &pos, t->key);
	if (n < 0) {
		return TDNS_EMALFORMED;
	}
	if (len - pos < 10 || tdns_get16(pkt + pos) != DNS_TYPE_TSIG) {
		return TDNS_EMALFORMED;
	}
	/* RFC 8945 §4.2: CLASS ANY, TTL 0. */
	uint16_t rclass = tdns_get16(pkt + pos + 2);
	uint32_t ttl = tdns_get32(pkt + pos + 4);
	size_t rdlen = tdns_get16(pkt + pos + 8);
	pos += 10;
	if (rclass != DNS_CLASS_ANY || ttl != 0 || len - pos < rdlen) {
		return TDNS_EMALFORMED;
	}
	size_t end = pos + rdlen;
	/* The algorithm name is not compressed (RFC 8945 §4.2), so read it within the rdata. */
	int al = dns_name_check(pkt + pos, rdlen);
	if (al < 0) {
		return TDNS_EMALFORMED;
	}
	memcpy(t->alg, pkt + pos, (size_t)al);
	pos += (size_t)al;
	if (end - pos < 10) {
		return TDNS_EMALFORMED;
	}
	t->time_signed = (uint64_t)tdns_get16(pkt + pos) << 32 | tdns_get32(pkt + pos + 2);
	t->fudge = tdns_get16(pkt + pos + 6);
	t->mac_len = tdns_get16(pkt + pos + 8);
	pos += 10;
	if (end - pos < (size_t)t->mac_len + 6) {
		return TDNS_EMALFORMED;
	}
	t->mac = pkt + pos;
	pos += t->mac_len;
	t->orig_id = tdns_get16(pkt + pos);
	t->error = tdns_get16(pkt + pos + 2);
	t->other_len = tdns_get16(pkt + pos + 4);
	pos += 6;
	if (end - pos != t->other_len) {
		return TDNS_EMALFORMED;
	}
	t->other = pkt + pos;
	t->off = off;
	return TDNS_OK;
}

int
dns_tsig_find(const uint8_t *pkt, size_t len, struct dns_tsig *t)
{
	if (len < DNS_HDR_LEN || tdns_get16(pkt + 10) == 0) {
		return 0;
	}
	size_t off;
	uint16_t type;
	unsigned tsigs;
	int r = last_rr(pkt, len, &off, &type, &tsigs);
	if (r < 0) {
		return r;
	}
	if (tsigs > 0) {
		/* RFC 8945 §5.1: a TSIG anywhere but last makes the message FORMERR. */
		return TDNS_EMALFORMED;
	}
	if (r == 0 || type != DNS_TYPE_TSIG) {
		return 0;
	}
	r = dns_tsig_parse(pkt, len, off, t);
	return r == TDNS_OK ? 1 : r;
}

size_t
dns_tsig_append(uint8_t *msg, size_t len, size_t limit, const struct dns_tsig *t)
{
	size_t kl = dns_name_len(t->key), al = dns_name_len(t->alg);
	size_t rdlen = al + 16 + (size_t)t->mac_len + t->other_len;
	if (len < DNS_HDR_LEN || len > limit || limit - len < kl + 10 + rdlen ||
	    tdns_get16(msg + 10) == UINT16_MAX) {
		return 0;
	}
	uint8_t *p = msg + len;
	memcpy(p, t->key, kl);
	p += kl;
	tdns_put16(p, DNS_TYPE_TSIG);
	tdns_put16(p + 2, DNS_CLASS_ANY);
	tdns_put32(p + 4, 0);
	tdns_put16(p + 8, (uint16_t)rdlen);
	p += 10;
	memcpy(p, t->alg, al);
	p += al;
	tdns_put16(p, (uint16_t)(t->time_signed >> 32));
	tdns_put32(p + 2, (uint32_t)t->time_signed);
	tdns_put16(p + 6, t->fudge);
	tdns_put16(p + 8, t->mac_len);
	memcpy(p + 10, t->mac, t->mac_len);
	p += 10 + t->mac_len;
	tdns_put16(p, t->orig_id);
	tdns_put16(p + 2, t->error);
	tdns_put16(p + 4, t->other_len);
	memcpy(p + 6, t->other, t->other_len);
	tdns_put16(msg + 10, (uint16_t)(tdns_get16(msg + 10) + 1));
	return len + kl + 10 + rdlen;
}

size_t
dns_tsig_append_unsigned(uint8_t *msg, size_t len, size_t limit, const struct dns_tsig *req,
			 uint16_t error, uint64_t now)
{
	/* RFC 8945 §5.3.2: an unsigned error reply echoes the request's time and fudge. */
	struct dns_tsig t = *req;
	uint8_t other[6];
	t.mac_len = 0;
	t.mac = other; /* no octet read: memcpy wants a pointer even for none */
	t.error = error;
	t.other_len = 0;
	t.other = other;
	if (error == DNS_TSIG_BADTIME) {
		/* BADTIME carries the server's time in Other Data (RFC 8945 §5.2.3). */
		tdns_put16(other, (uint16_t)(now >> 32));
		tdns_put32(other + 2, (uint32_t)now);
		t.other_len = 6;
	}
	return dns_tsig_append(msg, len, limit, &t);
}
