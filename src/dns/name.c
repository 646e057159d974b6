/* SPDX-License-Identifier: MIT */
/* Domain names: wire decompression and checks, text form, canonical order and hashing. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "dns/dns.h"

/* ASCII-only case folding (RFC 4343 §3: DNS case-insensitivity covers A-Z only). */
static const uint8_t lower_tab[256] = {
#define L1(i) [(i)] = (uint8_t)((i) >= 'A' && (i) <= 'Z' ? (i) + 32 : (i))
#define L4(i) L1(i), L1((i) + 1), L1((i) + 2), L1((i) + 3)
#define L16(i) L4(i), L4((i) + 4), L4((i) + 8), L4((i) + 12)
#define L64(i) L16(i), L16((i) + 16), L16((i) + 32), L16((i) + 48)
	L64(0), L64(64), L64(128), L64(192),
#undef L64
#undef L16
#undef L4
#undef L1
};

/*
 * Checks the label whose length octet c stands at pos in a message of len octets, once the
 * name so far is namelen octets: TDNS_EMALFORMED for label types other than 00 (RFC 6891 §5
 * retired the extended ones, 01 and 10), TDNS_ENAMELONG, TDNS_ETRUNC, or TDNS_OK.
 */
static int
label_check(uint8_t c, size_t namelen, size_t pos, size_t len)
{
	if (c & 0xc0) {
		return TDNS_EMALFORMED;
	}
	if (namelen + 1 + c > DNS_NAME_MAX) {
		return TDNS_ENAMELONG;
	}
	if (pos + 1 + c > len) {
		return TDNS_ETRUNC;
	}
	return TDNS_OK;
}

int
dns_name_unpack(const uint8_t *pkt, size_t pktlen, size_t *pos, uint8_t *out)
{
	size_t p = *pos;
	size_t seg = p;         /* start of the label run being read; pointers must go below it */
	size_t end = 0;         /* where the name ends in place (after the first pointer) */
	bool jumped = false;
	size_t n = 0;

	for (;;) {
		if (p >= pktlen) {
			return TDNS_ETRUNC;
		}
		uint8_t c = pkt[p];
		if ((c & 0xc0) == 0xc0) {
			if (p + 1 >= pktlen) {
				return TDNS_ETRUNC;
			}
			size_t target = ((size_t)(c & 0x3f) << 8) | pkt[p + 1];
			/*
			 * RFC 1035 §4.1.4 allows any earlier occurrence.  Requiring the target
			 * to lie before the start of the current label run makes every jump
			 * strictly decrease, so a loop is impossible and needs no counter.
			 */
			if (target >= seg) {
				return TDNS_ELOOP;
			}
			if (!jumped) {
				end = p + 2;
				jumped = true;
			}
			p = target;
			seg = target;
			continue;
		}
		int rc = label_check(c, n, p, pktlen);
		if (rc != TDNS_OK) {
			return rc;
		}
		memcpy(out + n, pkt + p, 1 + (size_t)c);
		n += 1 + (size_t)c;
		p += 1 + (size_t)c;
		if (c == 0) {
			break;
		}
	}
	*pos = jumped ? end : p;
	return (int)n;
}

size_t
dns_name_len(const uint8_t *name)
{
	const uint8_t *p = name;
	while (*p) {
		p += 1 + *p;
	}
	return (size_t)(p - name) + 1;
}

int
dns_name_check(const uint8_t *mem, size_t len)
{
	size_t p = 0;
	for (;;) {
		if (p >= len) {
			return TDNS_ETRUNC;
		}
		/* Compression pointers have no place in stored rdata either. */
		uint8_t c = mem[p];
		int rc = label_check(c, p, p, len);
		if (rc != TDNS_OK) {
			return rc;
		}
		p += 1 + (size_t)c;
		if (c == 0) {
			return (int)p;
		}
	}
}

static int
digit(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : -1;
}

int
dns_text_octet(const char *s, size_t len, size_t *i)
{
	size_t k = *i;
	if (s[k] != '\\') {
		*i = k + 1;
		return (uint8_t)s[k];
	}
	if (k + 1 >= len) {
		return -1;
	}
	int d0 = digit(s[k + 1]);
	if (d0 < 0) {
		*i = k + 2;
		return (uint8_t)s[k + 1];
	}
	/* RFC 1035 §5.1: \DDD is exactly three decimal digits. */
	if (k + 3 >= len) {
		return -1;
	}
	int d1 = digit(s[k + 2]);
	int d2 = digit(s[k + 3]);
	if (d1 < 0 || d2 < 0 || d0 * 100 + d1 * 10 + d2 > 255) {
		return -1;
	}
	*i = k + 4;
	return d0 * 100 + d1 * 10 + d2;
}

int
dns_name_from_text(const char *s, size_t slen, const uint8_t *origin, uint8_t *out)
{
	if (slen == 0) {
		return TDNS_EBADTEXT;
	}
	if (slen == 1 && s[0] == '@') {
		if (origin == NULL) {
			return TDNS_ERELATIVE;
		}
		size_t olen = dns_name_len(origin);
		memcpy(out, origin, olen);
		return (int)olen;
	}
	if (slen == 1 && s[0] == '.') {
		out[0] = 0;
		return 1;
	}

	uint8_t tmp[DNS_NAME_MAX + 64];
	size_t n = 0;           /* bytes written to tmp */
	size_t lab = 0;         /* offset of the current label's length byte */
	size_t i = 0;
	bool absolute = false;

	tmp[0] = 0;
	n = 1;
	while (i < slen) {
		char c = s[i];
		if (c == '.') {
			if (tmp[lab] == 0) {
				return TDNS_EBADTEXT; /* empty label: "a..b" or ".a" */
			}
			i++;
			if (i == slen) {
				absolute = true;
				break;
			}
			lab = n;
			tmp[n++] = 0;
			continue;
		}
		int v = dns_text_octet(s, slen, &i);
		if (v < 0) {
			return TDNS_EBADTEXT;
		}
		if (tmp[lab] == DNS_LABEL_MAX) {
			return TDNS_ELABELLONG;
		}
		if (n >= DNS_NAME_MAX) {
			return TDNS_ENAMELONG;
		}
		tmp[n++] = (uint8_t)v;
		tmp[lab]++;
	}
	if (!absolute && tmp[lab] == 0) {
		return TDNS_EBADTEXT;
	}
	if (absolute) {
		if (n + 1 > DNS_NAME_MAX) {
			return TDNS_ENAMELONG;
		}
		tmp[n++] = 0;
		memcpy(out, tmp, n);
		return (int)n;
	}
	if (origin == NULL) {
		return TDNS_ERELATIVE;
	}
	size_t olen = dns_name_len(origin);
	if (n + olen > DNS_NAME_MAX) {
		return TDNS_ENAMELONG;
	}
	memcpy(out, tmp, n);
	memcpy(out + n, origin, olen);
	return (int)(n + olen);
}

int
dns_name_to_text(const uint8_t *name, char *out, size_t cap)
{
	size_t n = 0;
	const uint8_t *p = name;

	if (*p == 0) {
		if (cap < 2) {
			return TDNS_ESPACE;
		}
		out[0] = '.';
		out[1] = '\0';
		return 1;
	}
	while (*p) {
		uint8_t len = *p++;
		for (uint8_t k = 0; k < len; k++, p++) {
			uint8_t c = *p;
			/* Room for the longest form (\DDD) plus the label dot and the NUL. */
			if (n + 6 > cap) {
				return TDNS_ESPACE;
			}
			switch (c) {
			case '"': case '(': case ')': case '.': case ';': case '\\': case '@':
			case '$': case ' ':
				out[n++] = '\\';
				out[n++] = (char)c;
				break;
			default:
				if (c < 0x21 || c > 0x7e) {
					out[n++] = '\\';
					out[n++] = (char)('0' + c / 100);
					out[n++] = (char)('0' + c / 10 % 10);
					out[n++] = (char)('0' + c % 10);
				} else {
					out[n++] = (char)c;
				}
			}
		}
		if (n + 2 > cap) {
			return TDNS_ESPACE;
		}
		out[n++] = '.';
	}
	out[n] = '\0';
	return (int)n;
}

/* Offsets of the label length bytes of name, at most 128 labels; returns their number. */
static int
label_offsets(const uint8_t *name, uint8_t off[128])
{
	int k = 0;
	size_t p = 0;
	while (name[p] && k < 128) {
		off[k++] = (uint8_t)p;
		p += 1 + (size_t)name[p];
	}
	return k;
}

int
dns_name_cmp(const uint8_t *a, const uint8_t *b)
{
	uint8_t oa[128], ob[128];
	int na = label_offsets(a, oa);
	int nb = label_offsets(b, ob);

	/* RFC 4034 §6.1: compare label by label from the most significant (rightmost) one. */
	while (na > 0 && nb > 0) {
		const uint8_t *la = a + oa[--na];
		const uint8_t *lb = b + ob[--nb];
		size_t m = la[0] < lb[0] ? la[0] : lb[0];
		for (size_t k = 1; k <= m; k++) {
			int d = (int)lower_tab[la[k]] - (int)lower_tab[lb[k]];
			if (d != 0) {
				return d;
			}
		}
		if (la[0] != lb[0]) {
			return (int)la[0] - (int)lb[0];
		}
	}
	return na - nb;
}

bool
dns_name_eq(const uint8_t *a, const uint8_t *b)
{
	for (;;) {
		if (*a != *b) {
			return false;
		}
		uint8_t len = *a;
		if (len == 0) {
			return true;
		}
		a++;
		b++;
		for (uint8_t k = 0; k < len; k++) {
			if (lower_tab[a[k]] != lower_tab[b[k]]) {
				return false;
			}
		}
		a += len;
		b += len;
	}
}

int
dns_name_labels(const uint8_t *name)
{
	int k = 0;
	while (*name) {
		name += 1 + *name;
		k++;
	}
	return k;
}

bool
dns_name_is_sub(const uint8_t *name, const uint8_t *parent)
{
	int nl = dns_name_labels(name);
	int pl = dns_name_labels(parent);
	if (nl < pl) {
		return false;
	}
	while (nl > pl) {
		name += 1 + *name;
		nl--;
	}
	return dns_name_eq(name, parent);
}

void
dns_name_lower(uint8_t *name)
{
	while (*name) {
		uint8_t len = *name++;
		for (uint8_t k = 0; k < len; k++) {
			name[k] = lower_tab[name[k]];
		}
		name += len;
	}
}

uint64_t
dns_name_hash(const uint8_t *name, uint64_t seed)
{
	/*
	 * Multiply-xorshift over 8-byte words of the lower-cased name (length octets
	 * included, so "a.bc" and "ab.c" differ).  Not collision resistant against an
	 * attacker who knows the seed; tables keyed by it must bound their chains.
	 */
	const uint64_t m = 0x9e3779b97f4a7c15ull;
	uint64_t h = seed ^ 0x6a09e667f3bcc909ull;
	size_t len = dns_name_len(name);
	size_t i = 0;

	while (i + 8 <= len) {
		uint64_t w = 0;
		for (int k = 0; k < 8; k++) {
			w |= (uint64_t)lower_tab[name[i + (size_t)k]] << (8 * k);
		}
		h = (h ^ w) * m;
		h ^= h >> 29;
		i += 8;
	}
	uint64_t w = len;
	for (int k = 0; i < len; i++, k++) {
		w |= (uint64_t)lower_tab[name[i]] << (8 * k + 8);
	}
	h = (h ^ w) * m;
	h ^= h >> 32;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 31;
	return h;
}

uint64_t
dns_name_siphash(const uint8_t *name, const uint8_t key[DNS_SIPHASH_KEY_LEN])
{
	uint8_t lname[DNS_NAME_MAX];
	size_t len = dns_name_len(name);
	for (size_t i = 0; i < len; i++) {
		lname[i] = lower_tab[name[i]];
	}
	uint8_t out[crypto_shorthash_BYTES];
	crypto_shorthash(out, lname, len, key);
	uint64_t h;
	memcpy(&h, out, sizeof(h));
	return h;
}

void
dns_siphash_key_new(uint8_t key[DNS_SIPHASH_KEY_LEN])
{
	/* sodium_init is idempotent and thread-safe; -1 only when no entropy source exists. */
	if (sodium_init() < 0) {
		abort();
	}
	crypto_shorthash_keygen(key);
}
