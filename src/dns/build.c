/* SPDX-License-Identifier: MIT */
/* Wire message builder: name compression, size limits with rollback, truncation, EDNS and EDE. */
#include <string.h>

#include "dns/dns.h"

/* Compression pointers carry 14 bits of offset (RFC 1035 §4.1.4). */
#define PTR_MAX 0x4000
/* OPT with root owner and no options: 1 + 2 + 2 + 4 + 2 (RFC 6891 §6.1.2). */
#define OPT_FIXED 11
/* EDE option: code, length, info-code (RFC 8914 §2). */
#define EDE_FIXED 6

static inline uint8_t
lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

/*
 * The end the message may grow to before the reserved OPT space.  Every write below is
 * checked against it, so an RR that does not fit leaves len untouched except for what the
 * caller rolls back.
 */
static size_t
room_end(const struct dns_build *b)
{
	return b->limit > b->reserve ? b->limit - b->reserve : 0;
}

/*
 * Compares the name written at off in the output (following our own pointers, which always
 * point backwards) with the uncompressed name, ignoring ASCII case (RFC 4343 §3).
 */
static bool
packet_name_eq(const struct dns_build *b, size_t off, const uint8_t *name)
{
	size_t hops = 0;
	for (;;) {
		if (off >= b->len) {
			return false;
		}
		uint8_t c = b->buf[off];
		if ((c & 0xc0) == 0xc0) {
			if (off + 1 >= b->len || ++hops > DNS_NAME_MAX) {
				return false;
			}
			off = ((size_t)(c & 0x3f) << 8) | b->buf[off + 1];
			continue;
		}
		if (c != *name) {
			return false;
		}
		if (c == 0) {
			return true;
		}
		if (off + 1 + c > b->len) {
			return false;
		}
		for (size_t i = 1; i <= c; i++) {
			if (lower(b->buf[off + i]) != lower(name[i])) {
				return false;
			}
		}
		off += 1 + c;
		name += 1 + c;
	}
}

static void
compr_add(struct dns_build *b, size_t off)
{
	if (off < PTR_MAX && b->ncompr < DNS_BUILD_MAX_COMPR) {
		b->compr[b->ncompr++] = (uint16_t)off;
	}
}

/*
 * Writes name at b->len, replacing its longest suffix already in the message by a pointer
 * when compress is set, and remembers where the newly written labels start.  Returns false
 * (nothing remembered, len unchanged) when it does not fit before end.
 */
static bool
put_name(struct dns_build *b, const uint8_t *name, size_t end, bool compress)
{
	size_t nlen = dns_name_len(name);
	size_t prefix = nlen; /* octets written as labels; nlen means no pointer */
	size_t target = 0;
	if (compress) {
		/* Longest suffix first, so the first hit saves the most. */
		for (size_t i = 0; name[i] != 0 && prefix == nlen; i += 1 + name[i]) {
			for (size_t k = 0; k < b->ncompr; k++) {
				if (packet_name_eq(b, b->compr[k], name + i)) {
					prefix = i;
					target = b->compr[k];
					break;
				}
			}
		}
	}
	size_t need = prefix == nlen ? nlen : prefix + 2;
	if (b->len > end || end - b->len < need) {
		return false;
	}
	size_t start = b->len;
	memcpy(b->buf + start, name, prefix);
	if (prefix == nlen) {
		b->len += nlen;
	} else {
		tdns_put16(b->buf + start + prefix, (uint16_t)(0xc000 | target));
		b->len += prefix + 2;
	}
	if (compress) {
		for (size_t i = 0; i < prefix && name[i] != 0; i += 1 + name[i]) {
			compr_add(b, start + i);
		}
	}
	return true;
}

static bool
put_bytes(struct dns_build *b, const void *mem, size_t n, size_t end)
{
	if (b->len > end || end - b->len < n) {
		return false;
	}
	if (n > 0) {
		memcpy(b->buf + b->len, mem, n);
	}
	b->len += n;
	return true;
}

static bool
put_u16(struct dns_build *b, uint16_t v, size_t end)
{
	uint8_t w[2];
	tdns_put16(w, v);
	return put_bytes(b, w, 2, end);
}

/* Is rd exactly one uncompressed name starting at off and taking the rest (or more)? */
static bool
name_at(const uint8_t *rd, size_t rdlen, size_t off, size_t *nlen)
{
	if (off >= rdlen) {
		return false;
	}
	int n = dns_name_check(rd + off, rdlen - off);
	if (n < 0) {
		return false;
	}
	*nlen = (size_t)n;
	return true;
}

/*
 * Writes rdata, compressing the names of the types RFC 3597 §4 allows (those of RFC 1035);
 * every other type, and rdata that does not parse as its type, is copied as is.
 */
static bool
put_rdata(struct dns_build *b, uint16_t type, const uint8_t *rd, size_t rdlen, size_t end)
{
	size_t n1, n2;
	switch (type) {
	case DNS_TYPE_NS:
	case DNS_TYPE_CNAME:
	case DNS_TYPE_PTR:
		if (name_at(rd, rdlen, 0, &n1) && n1 == rdlen) {
			return put_name(b, rd, end, true);
		}
		break;
	case DNS_TYPE_MX:
		if (rdlen > 2 && name_at(rd, rdlen, 2, &n1) && 2 + n1 == rdlen) {
			return put_bytes(b, rd, 2, end) && put_name(b, rd + 2, end, true);
		}
		break;
	case DNS_TYPE_SOA:
		if (name_at(rd, rdlen, 0, &n1) && name_at(rd, rdlen, n1, &n2) &&
		    n1 + n2 + 20 == rdlen) {
			return put_name(b, rd, end, true) && put_name(b, rd + n1, end, true) &&
			       put_bytes(b, rd + n1 + n2, 20, end);
		}
		break;
	default:
		break;
	}
	return put_bytes(b, rd, rdlen, end);
}

void
dns_build_init(struct dns_build *b, uint8_t *buf, size_t cap, size_t limit, uint16_t id,
	       uint16_t flags)
{
	memset(b, 0, sizeof(*b));
	b->buf = buf;
	b->cap = cap;
	if (limit > cap) {
		limit = cap;
	}
	if (limit > DNS_MSG_MAX) {
		limit = DNS_MSG_MAX;
	}
	b->limit = limit;
	b->ext_rcode = DNS_RCODE(flags);
	if (cap < DNS_HDR_LEN) {
		/* No room for a header: every later call fails and finish returns 0. */
		b->limit = 0;
		return;
	}
	memset(buf, 0, DNS_HDR_LEN);
	tdns_put16(buf, id);
	tdns_put16(buf + 2, flags);
	b->len = DNS_HDR_LEN;
}

int
dns_build_question(struct dns_build *b, const uint8_t *qname, uint16_t qtype, uint16_t qclass)
{
	/* The question section comes first; a question behind records would shift them. */
	for (int s = DNS_SECTION_ANSWER; s <= DNS_SECTION_ADDITIONAL; s++) {
		if (b->count[s] > 0) {
			return TDNS_EINVAL;
		}
	}
	size_t end = room_end(b);
	size_t start = b->len;
	size_t ncompr = b->ncompr;
	/* Written uncompressed, case as given; it becomes the first compression target. */
	if (b->len < DNS_HDR_LEN || !put_name(b, qname, end, true) || !put_u16(b, qtype, end) ||
	    !put_u16(b, qclass, end)) {
		b->len = start;
		b->ncompr = ncompr;
		return TDNS_ESPACE;
	}
	b->count[DNS_SECTION_QUESTION]++;
	return TDNS_OK;
}

/* Bytes the OPT record and the queued EDE options will take. */
static size_t
opt_size(const struct dns_build *b)
{
	size_t n = OPT_FIXED;
	for (size_t i = 0; i < b->nede; i++) {
		n += EDE_FIXED + strlen(b->ede[i].text);
	}
	return n;
}

void
dns_build_edns(struct dns_build *b, uint16_t udp_size, bool do_bit)
{
	b->edns = true;
	b->edns_size = udp_size;
	b->edns_do = do_bit;
	b->reserve = opt_size(b);
}

void
dns_build_rcode(struct dns_build *b, int rcode)
{
	/* RFC 6891 §6.1.3: the low 4 bits stay in the header, the upper 8 go to OPT. */
	b->ext_rcode = (uint16_t)(rcode & 0xfff);
	if (b->len >= DNS_HDR_LEN) {
		uint16_t flags = tdns_get16(b->buf + 2);
		flags = (uint16_t)((flags & ~0xf) | (rcode & 0xf));
		tdns_put16(b->buf + 2, flags);
	}
}

void
dns_build_ede(struct dns_build *b, uint16_t code, const char *text)
{
	/* RFC 8914 §2: EDE is an EDNS option, so without OPT there is nowhere to put it. */
	if (!b->edns || b->nede >= DNS_BUILD_MAX_EDE) {
		return;
	}
	b->ede[b->nede].code = code;
	size_t n = text != NULL ? strlen(text) : 0;
	if (n >= sizeof(b->ede[0].text)) {
		n = sizeof(b->ede[0].text) - 1;
	}
	if (n > 0) {
		memcpy(b->ede[b->nede].text, text, n);
	}
	b->ede[b->nede].text[n] = '\0';
	b->nede++;
	b->reserve += EDE_FIXED + n;
}

int
dns_build_rr(struct dns_build *b, int section, const uint8_t *owner, uint16_t type,
	     uint16_t rclass, uint32_t ttl, const uint8_t *rd, size_t rdlen)
{
	if (section < DNS_SECTION_ANSWER || section > DNS_SECTION_ADDITIONAL ||
	    b->len < DNS_HDR_LEN || rdlen > DNS_RDATA_MAX) {
		return TDNS_EINVAL;
	}
	/* Sections are written in order; a record behind a later section would land there. */
	for (int s = section + 1; s <= DNS_SECTION_ADDITIONAL; s++) {
		if (b->count[s] > 0) {
			return TDNS_EINVAL;
		}
	}
	if (b->count[section] == UINT16_MAX) {
		return TDNS_ESPACE;
	}
	size_t end = room_end(b);
	size_t start = b->len;
	size_t ncompr = b->ncompr;
	uint8_t fixed[10];
	tdns_put16(fixed, type);
	tdns_put16(fixed + 2, rclass);
	tdns_put32(fixed + 4, ttl);
	tdns_put16(fixed + 8, 0);
	if (!put_name(b, owner, end, true) || !put_bytes(b, fixed, sizeof(fixed), end)) {
		goto rollback;
	}
	size_t rdstart = b->len;
	if (!put_rdata(b, type, rd, rdlen, end)) {
		goto rollback;
	}
	tdns_put16(b->buf + rdstart - 2, (uint16_t)(b->len - rdstart));
	b->count[section]++;
	return TDNS_OK;
rollback:
	b->len = start;
	b->ncompr = ncompr;
	return TDNS_ESPACE;
}

void
dns_build_set_flags(struct dns_build *b, uint16_t set, uint16_t clear)
{
	if (b->len < DNS_HDR_LEN) {
		return;
	}
	uint16_t flags = tdns_get16(b->buf + 2);
	flags = (uint16_t)((flags & ~clear) | set);
	tdns_put16(b->buf + 2, flags);
}

void
dns_build_truncate(struct dns_build *b)
{
	if (b->len < DNS_HDR_LEN) {
		return;
	}
	/* The question section is what dns_build_question wrote: uncompressed names. */
	size_t off = DNS_HDR_LEN;
	for (size_t i = 0; i < b->count[DNS_SECTION_QUESTION]; i++) {
		while (off < b->len && b->buf[off] != 0 && (b->buf[off] & 0xc0) != 0xc0) {
			off += 1 + b->buf[off];
		}
		off += (off < b->len && b->buf[off] != 0) ? 2 : 1;
		off += 4;
	}
	if (off < b->len) {
		b->len = off;
	}
	size_t keep = 0;
	for (size_t k = 0; k < b->ncompr; k++) {
		if (b->compr[k] < b->len) {
			b->compr[keep++] = b->compr[k];
		}
	}
	b->ncompr = keep;
	b->count[DNS_SECTION_ANSWER] = 0;
	b->count[DNS_SECTION_AUTHORITY] = 0;
	b->count[DNS_SECTION_ADDITIONAL] = 0;
	/* RFC 2181 §9: TC tells the client to retry over TCP. */
	dns_build_set_flags(b, DNS_FLAG_TC, 0);
}

/* Appends the OPT record with as many queued EDE options as fit within the limit. */
static void
put_opt(struct dns_build *b)
{
	if (b->len > b->limit || b->limit - b->len < OPT_FIXED ||
	    b->count[DNS_SECTION_ADDITIONAL] == UINT16_MAX) {
		return;
	}
	size_t avail = b->limit - b->len - OPT_FIXED;
	uint8_t *p = b->buf + b->len;
	p[0] = 0; /* root owner, RFC 6891 §6.1.2 */
	tdns_put16(p + 1, DNS_TYPE_OPT);
	tdns_put16(p + 3, b->edns_size);
	uint32_t ttl = (uint32_t)((b->ext_rcode >> 4) & 0xff) << 24;
	if (b->edns_do) {
		/* RFC 3225 §3: the DO bit is copied from the query into the response. */
		ttl |= 0x8000;
	}
	tdns_put32(p + 5, ttl);
	size_t rdlen = 0;
	uint8_t *o = p + OPT_FIXED;
	for (size_t i = 0; i < b->nede; i++) {
		size_t tlen = strlen(b->ede[i].text);
		if (avail - rdlen < EDE_FIXED + tlen) {
			break;
		}
		tdns_put16(o, DNS_OPT_CODE_EDE);
		tdns_put16(o + 2, (uint16_t)(2 + tlen));
		tdns_put16(o + 4, b->ede[i].code);
		memcpy(o + 6, b->ede[i].text, tlen);
		o += EDE_FIXED + tlen;
		rdlen += EDE_FIXED + tlen;
	}
	tdns_put16(p + 9, (uint16_t)rdlen);
	b->len += OPT_FIXED + rdlen;
	b->count[DNS_SECTION_ADDITIONAL]++;
}

size_t
dns_build_finish(struct dns_build *b)
{
	if (b->len < DNS_HDR_LEN) {
		return 0;
	}
	if (b->edns) {
		put_opt(b);
	}
	for (int i = 0; i < 4; i++) {
		tdns_put16(b->buf + 4 + 2 * i, b->count[i]);
	}
	return b->len;
}
