/* SPDX-License-Identifier: MIT */
/* NSEC proofs (RFC 4035 §5.4): type bitmaps, covering ranges, NODATA and closest enclosers. */
#include <string.h>

#include "dnssec/dnssec.h"
#include "dnssec/dnssec_int.h"

/* RFC 4034 §4.1.2: windows in increasing order, each 1-32 octets long. */
bool
dnssec_bitmap_valid(const uint8_t *bm, size_t len)
{
	int last = -1;
	for (size_t p = 0; p < len;) {
		if (len - p < 2 || bm[p + 1] == 0 || bm[p + 1] > 32 || bm[p] <= last ||
		    len - p - 2 < bm[p + 1]) {
			return false;
		}
		last = bm[p];
		p += 2 + (size_t)bm[p + 1];
	}
	return true;
}

bool
dnssec_bitmap_has(const uint8_t *bm, size_t len, uint16_t type)
{
	if (!dnssec_bitmap_valid(bm, len)) {
		return false;
	}
	uint8_t win = (uint8_t)(type >> 8), octet = (uint8_t)((type & 0xff) >> 3);
	for (size_t p = 0; p < len; p += 2 + (size_t)bm[p + 1]) {
		if (bm[p] == win) {
			return octet < bm[p + 1] && (bm[p + 2 + octet] & (0x80 >> (type & 7)));
		}
	}
	return false;
}

int
dnssec_nsec_parse(const uint8_t *rd, size_t rdlen, struct dnssec_nsec *n)
{
	int l = dns_name_check(rd, rdlen);
	if (l < 0 || !dnssec_bitmap_valid(rd + l, rdlen - (size_t)l)) {
		return TDNS_EMALFORMED;
	}
	n->next = rd;
	n->bitmap = rd + l;
	n->bitmap_len = rdlen - (size_t)l;
	return TDNS_OK;
}

bool
dnssec_nsec_covers(const uint8_t *owner, const uint8_t *next, const uint8_t *name)
{
	if (dns_name_cmp(owner, name) >= 0) {
		return false;
	}
	if (dns_name_cmp(owner, next) < 0) {
		return dns_name_cmp(name, next) < 0;
	}
	/* The last NSEC of the zone points back to the apex (RFC 4034 §4.1.1). */
	return dns_name_is_sub(name, next);
}

bool
dnssec_nsec_nodata(const uint8_t *owner, const struct dnssec_nsec *n, const uint8_t *name,
		   uint16_t qtype)
{
	if (!dns_name_eq(owner, name)) {
		/* An empty non-terminal has no NSEC: the one before it points below it. */
		return dnssec_nsec_covers(owner, n->next, name) && dns_name_is_sub(n->next, name);
	}
	if (dnssec_bitmap_has(n->bitmap, n->bitmap_len, qtype) ||
	    dnssec_bitmap_has(n->bitmap, n->bitmap_len, DNS_TYPE_CNAME)) {
		return false;
	}
	bool soa = dnssec_bitmap_has(n->bitmap, n->bitmap_len, DNS_TYPE_SOA);
	if (qtype == DNS_TYPE_DS) {
		/* RFC 6840 §4.4: the child's apex NSEC says nothing about the parent's DS. */
		return !soa;
	}
	/* RFC 6840 §4.4: the parent side of a cut cannot deny the child's data. */
	return soa || !dnssec_bitmap_has(n->bitmap, n->bitmap_len, DNS_TYPE_NS);
}

/* The longest common ancestor of a and b (the root at least). */
static const uint8_t *
common_ancestor(const uint8_t *a, const uint8_t *b)
{
	int la = dns_name_labels(a), lb = dns_name_labels(b);
	for (; la > lb; la--) {
		a = dns_name_parent(a);
	}
	for (; lb > la; lb--) {
		b = dns_name_parent(b);
	}
	while (!dns_name_eq(a, b)) {
		a = dns_name_parent(a);
		b = dns_name_parent(b);
	}
	return a;
}

size_t
dnssec_nsec_closest_encloser(const uint8_t *owner, const uint8_t *next, const uint8_t *name,
			     uint8_t *out)
{
	const uint8_t *x = common_ancestor(name, owner);
	const uint8_t *y = common_ancestor(name, next);
	/* Both are suffixes of name: the one with more labels is the closer. */
	const uint8_t *ce = dns_name_labels(x) >= dns_name_labels(y) ? x : y;
	size_t len = dns_name_len(ce);
	memcpy(out, ce, len);
	return len;
}

size_t
dnssec_wildcard_name(const uint8_t *parent, uint8_t *out)
{
	size_t len = dns_name_len(parent);
	if (len + 2 > DNS_NAME_MAX) {
		return 0;
	}
	out[0] = 1;
	out[1] = '*';
	memcpy(out + 2, parent, len);
	return len + 2;
}
