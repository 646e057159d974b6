/* SPDX-License-Identifier: MIT */
/* Rdata codecs: text <-> wire for every type in the rrtype table, RFC 3597, checks, order. */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns/rrtype_int.h"

/* ------------------------------------------------------------------------------------------ */
/* Small codecs                                                                                */

static const char hexdig[] = "0123456789ABCDEF";
static const char b64dig[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b32hdig[] = "0123456789ABCDEFGHIJKLMNOPQRSTUV";

static int
b64val(char c)
{
	const char *p = c ? strchr(b64dig, c) : NULL;
	return p ? (int)(p - b64dig) : -1;
}

static bool
is_alnum(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* ------------------------------------------------------------------------------------------ */
/* Text output with a sticky "no space" flag; dry mode only validates.                        */

struct out {
	char *p;
	size_t cap;
	size_t len;
	bool space;     /* ran out of room */
	bool dry;       /* check only, write nothing */
	bool sep;       /* next item needs a separating space */
};

static void
o_mem(struct out *o, const char *s, size_t n)
{
	if (o->dry || o->space) {
		return;
	}
	if (o->len + n + 1 > o->cap) {
		o->space = true;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static void
o_str(struct out *o, const char *s)
{
	o_mem(o, s, strlen(s));
}

static void
o_putc(struct out *o, char c)
{
	o_mem(o, &c, 1);
}

static void __attribute__((format(printf, 2, 3)))
o_fmt(struct out *o, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0) {
		o_mem(o, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
	}
}

/* Starts one presentation item: a space before all but the first. */
static void
o_item(struct out *o)
{
	if (o->sep) {
		o_putc(o, ' ');
	}
	o->sep = true;
}

static void
o_hex(struct out *o, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n && !o->space; i++) {
		char h[2] = { hexdig[p[i] >> 4], hexdig[p[i] & 15] };
		o_mem(o, h, 2);
	}
}

static void
o_b64(struct out *o, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n && !o->space; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < n) {
			v |= (uint32_t)p[i + 1] << 8;
		}
		if (i + 2 < n) {
			v |= p[i + 2];
		}
		char q[4] = { b64dig[v >> 18], b64dig[(v >> 12) & 63],
			      i + 1 < n ? b64dig[(v >> 6) & 63] : '=',
			      i + 2 < n ? b64dig[v & 63] : '=' };
		o_mem(o, q, 4);
	}
}

/* base32hex of RFC 4648 §7 without padding, as NSEC3 uses it (RFC 5155 §3.3). */
static void
o_b32hex(struct out *o, const uint8_t *p, size_t n)
{
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8) | p[i];
		bits += 8;
		while (bits >= 5) {
			o_putc(o, b32hdig[(acc >> (bits - 5)) & 31]);
			bits -= 5;
		}
	}
	if (bits > 0) {
		o_putc(o, b32hdig[(acc << (5 - bits)) & 31]);
	}
}

/* Bytes as the inside of a quoted <character-string>. */
static void
o_cstr_body(struct out *o, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n && !o->space; i++) {
		uint8_t c = p[i];
		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };
			o_mem(o, e, 2);
		} else if (c < 0x20 || c > 0x7e) {
			o_fmt(o, "\\%03u", c);
		} else {
			o_putc(o, (char)c);
		}
	}
}

static void
o_cstr(struct out *o, const uint8_t *p, size_t n)
{
	o_putc(o, '"');
	o_cstr_body(o, p, n);
	o_putc(o, '"');
}

/* ------------------------------------------------------------------------------------------ */
/* Text input                                                                                  */

struct pctx {
	const struct dns_tok *toks;
	size_t ntok;
	size_t i;               /* next token */
	const char *tname;      /* type mnemonic for messages */
	const uint8_t *origin;
	struct tdns_buf b;
	char *err;
	size_t errlen;
};

static int __attribute__((format(printf, 3, 4)))
fail(struct pctx *c, int status, const char *fmt, ...)
{
	if (c->err != NULL && c->errlen > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->err, c->errlen, fmt, ap);
		va_end(ap);
	}
	return status;
}

/* Printf arguments for a token: "%.*s". */
#define TOK(t) (int)((t)->len > 200 ? 200 : (t)->len), (t)->s

static const struct dns_tok *
next_tok(struct pctx *c)
{
	return c->i < c->ntok ? &c->toks[c->i++] : NULL;
}

static int
missing(struct pctx *c, const char *label)
{
	return fail(c, TDNS_EBADRDATA, "%s rdata ends early: %s expected", c->tname, label);
}

/* Decimal number without sign; false if not all digits or above max. */
static bool
parse_num(const char *s, size_t len, uint64_t max, uint64_t *v)
{
	if (len == 0 || len > 20) {
		return false;
	}
	uint64_t x = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9') {
			return false;
		}
		x = x * 10 + (uint64_t)(s[i] - '0');
		if (x > max) {
			return false;
		}
	}
	*v = x;
	return true;
}

int
dns_ttl_units(const char *s, size_t len, uint32_t *out)
{
	uint64_t total = 0, num = 0;
	bool digits = false, units = false;

	if (len == 0) {
		return DNS_TTL_BAD;
	}
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c >= '0' && c <= '9') {
			num = num * 10 + (uint64_t)(c - '0');
			if (num > UINT32_MAX) {
				return DNS_TTL_HUGE;
			}
			digits = true;
			continue;
		}
		if (!digits) {
			return DNS_TTL_BAD;
		}
		uint64_t mult;
		switch (c) {
		case 'w': case 'W': mult = 604800; break;
		case 'd': case 'D': mult = 86400; break;
		case 'h': case 'H': mult = 3600; break;
		case 'm': case 'M': mult = 60; break;
		case 's': case 'S': mult = 1; break;
		default: return DNS_TTL_BAD;
		}
		total += num * mult;
		if (total > UINT32_MAX) {
			return DNS_TTL_HUGE;
		}
		num = 0;
		digits = false;
		units = true;
	}
	if (digits) {
		if (units) {
			return DNS_TTL_BAD;  /* "1h30": every number needs a unit once units are used */
		}
		total = num;
	}
	*out = (uint32_t)total;
	return total > DNS_TTL_MAX ? DNS_TTL_RANGE : DNS_TTL_OK;
}

/*
 * Decodes a <character-string> token (RFC 1035 §5.1 escapes \X and \DDD) into out.
 * Returns the length, -1 on a bad escape, -2 when longer than cap.
 */
static long
cstr_decode(const char *s, size_t len, uint8_t *out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < len;) {
		int v = dns_text_octet(s, len, &i);
		if (v < 0) {
			return -1;
		}
		if (n >= cap) {
			return -2;
		}
		out[n++] = (uint8_t)v;
	}
	return (long)n;
}

/* Reads one <character-string> token into the buffer with its length octet. */
static int
put_cstr(struct pctx *c, const struct dns_tok *t, const char *label)
{
	uint8_t tmp[256];
	long n = cstr_decode(t->s, t->len, tmp, 255);
	if (n == -1) {
		return fail(c, TDNS_EBADTEXT, "bad escape in %s %s '%.*s'", c->tname, label,
			    TOK(t));
	}
	if (n == -2) {
		return fail(c, TDNS_EBADRDATA, "%s string longer than 255 octets", c->tname);
	}
	tdns_buf_u8(&c->b, (uint8_t)n);
	tdns_buf_bytes(&c->b, tmp, (size_t)n);
	return TDNS_OK;
}

/* Hex over all remaining tokens (RFC 4034 §5.3 and others allow white space inside). */
static int
put_hex_rest(struct pctx *c, const char *label, size_t min)
{
	size_t start = c->b.len, digits = 0;
	int hi = -1;
	const struct dns_tok *t;
	while ((t = next_tok(c)) != NULL) {
		for (size_t k = 0; k < t->len; k++) {
			int v = tdns_hex_value(t->s[k]);
			if (v < 0) {
				return fail(c, TDNS_EBADRDATA,
					    "bad hex digit '%c' in %s %s, expected 0-9 a-f",
					    t->s[k], c->tname, label);
			}
			digits++;
			if (hi < 0) {
				hi = v;
			} else {
				tdns_buf_u8(&c->b, (uint8_t)(hi << 4 | v));
				hi = -1;
			}
		}
	}
	if (hi >= 0) {
		return fail(c, TDNS_EBADRDATA, "%s %s has an odd number of hex digits", c->tname,
			    label);
	}
	if (digits == 0 && min > 0) {
		return missing(c, label);
	}
	if (!c->b.err && c->b.len - start < min) {
		return fail(c, TDNS_EBADRDATA, "%s %s must be at least %zu octets, got %zu",
			    c->tname, label, min, c->b.len - start);
	}
	return TDNS_OK;
}

/* Hex of one token into tmp (at most cap octets); returns octets or a negative status. */
static long
hex_token(struct pctx *c, const struct dns_tok *t, uint8_t *tmp, size_t cap, const char *label)
{
	if (t->len % 2) {
		return fail(c, TDNS_EBADRDATA, "%s %s has an odd number of hex digits", c->tname,
			    label);
	}
	if (t->len / 2 > cap) {
		return fail(c, TDNS_EBADRDATA, "%s %s longer than %zu octets", c->tname, label,
			    cap);
	}
	for (size_t k = 0; k < t->len; k += 2) {
		int a = tdns_hex_value(t->s[k]), b = tdns_hex_value(t->s[k + 1]);
		if (a < 0 || b < 0) {
			return fail(c, TDNS_EBADRDATA, "bad hex in %s %s '%.*s'", c->tname, label,
				    TOK(t));
		}
		tmp[k / 2] = (uint8_t)(a << 4 | b);
	}
	return (long)(t->len / 2);
}

/* Streaming base64 decoder over several tokens (RFC 4648 §4, padding required). */
struct b64 {
	uint32_t acc;
	int n;          /* sextets in acc */
	int pad;        /* '=' seen */
};

static int
b64_feed(struct pctx *c, struct b64 *d, const struct dns_tok *t, const char *label)
{
	for (size_t k = 0; k < t->len; k++) {
		char ch = t->s[k];
		if (ch == '=') {
			if (d->n < 2 || d->pad + d->n >= 4) {
				goto bad;
			}
			d->pad++;
			if (d->n + d->pad == 4) {
				if (d->n == 2) {
					tdns_buf_u8(&c->b, (uint8_t)(d->acc >> 4));
				} else {
					tdns_buf_u8(&c->b, (uint8_t)(d->acc >> 10));
					tdns_buf_u8(&c->b, (uint8_t)(d->acc >> 2));
				}
				d->n = 4; /* complete: nothing may follow */
			}
			continue;
		}
		int v = b64val(ch);
		if (v < 0 || d->pad > 0 || d->n == 4) {
			goto bad;
		}
		d->acc = (d->acc << 6) | (uint32_t)v;
		d->n++;
		if (d->n == 4) {
			tdns_buf_u8(&c->b, (uint8_t)(d->acc >> 16));
			tdns_buf_u8(&c->b, (uint8_t)(d->acc >> 8));
			tdns_buf_u8(&c->b, (uint8_t)d->acc);
			d->acc = 0;
			d->n = 0;
		}
	}
	if (d->n == 4) {
		/* padding ended a quantum; a following token starts afresh only if none did */
		d->n = 0;
		d->pad = -1;
	}
	return TDNS_OK;
bad:
	return fail(c, TDNS_EBADRDATA, "bad base64 in %s %s near '%.*s'", c->tname, label,
		    TOK(t));
}

static int
put_b64_tokens(struct pctx *c, const struct dns_tok *t, size_t nt, const char *label,
	       size_t min)
{
	struct b64 d = { 0, 0, 0 };
	size_t start = c->b.len;
	for (size_t k = 0; k < nt; k++) {
		if (d.pad < 0) {
			return fail(c, TDNS_EBADRDATA, "base64 %s of %s goes on after its padding",
				    label, c->tname);
		}
		int r = b64_feed(c, &d, &t[k], label);
		if (r != TDNS_OK) {
			return r;
		}
	}
	if (d.n != 0 || d.pad > 0) {
		return fail(c, TDNS_EBADRDATA, "%s %s: base64 length is not a multiple of 4",
			    c->tname, label);
	}
	if (nt == 0 && min > 0) {
		return missing(c, label);
	}
	if (!c->b.err && c->b.len - start < min) {
		return fail(c, TDNS_EBADRDATA, "%s %s must be at least %zu octets", c->tname,
			    label, min);
	}
	return TDNS_OK;
}

static int
put_name(struct pctx *c, const struct dns_tok *t, const char *label)
{
	uint8_t n[DNS_NAME_MAX];
	int r = dns_name_from_text(t->s, t->len, c->origin, n);
	if (r < 0) {
		return fail(c, r, "bad %s %s '%.*s': %s", c->tname, label, TOK(t),
			    tdns_status_msg(r));
	}
	tdns_buf_bytes(&c->b, n, (size_t)r);
	return TDNS_OK;
}

/* A number field's mnemonics: DNSSEC algorithms, certificate types. */
struct mnemonic {
	const char *name;
	uint16_t num;
};

/*
 * A number up to max (written as 8 bits up to 255, else 16), or one of the n mnemonics of tab
 * (case-insensitive); what and choices make the error message.
 */
static int
put_mnemonic(struct pctx *c, const struct dns_tok *t, const struct mnemonic *tab, size_t n,
	     uint64_t max, const char *what, const char *choices)
{
	uint64_t v;
	bool ok = parse_num(t->s, t->len, max, &v);
	for (size_t k = 0; k < n && !ok; k++) {
		if (strlen(tab[k].name) == t->len && strncasecmp(tab[k].name, t->s, t->len) == 0) {
			v = tab[k].num;
			ok = true;
		}
	}
	if (!ok) {
		return fail(c, TDNS_EBADRDATA, "%s %s must be %s, got '%.*s'", c->tname, what,
			    choices, TOK(t));
	}
	if (max > 255) {
		tdns_buf_u16(&c->b, (uint16_t)v);
	} else {
		tdns_buf_u8(&c->b, (uint8_t)v);
	}
	return TDNS_OK;
}

#define MNEMONICS(tab) tab, sizeof(tab) / sizeof(tab[0])

/* One address of family af from text; false if it is not one. */
static bool
addr_from_text(const char *s, size_t len, int af, uint8_t bin[16])
{
	char a[64];
	if (len >= sizeof(a)) {
		return false;
	}
	memcpy(a, s, len);
	a[len] = '\0';
	return inet_pton(af, a, bin) == 1;
}

/* DNSSEC algorithm mnemonics (RFC 8624 §2 names as BIND and Knot accept them). */
static const struct mnemonic algs[] = {
	{ "RSAMD5", 1 }, { "DH", 2 }, { "DSA", 3 }, { "RSASHA1", 5 },
	{ "DSA-NSEC3-SHA1", 6 }, { "RSASHA1-NSEC3-SHA1", 7 }, { "RSASHA256", 8 },
	{ "RSASHA512", 10 }, { "ECC-GOST", 12 }, { "ECDSAP256SHA256", 13 },
	{ "ECDSAP384SHA384", 14 }, { "ED25519", 15 }, { "ED448", 16 },
	{ "INDIRECT", 252 }, { "PRIVATEDNS", 253 }, { "PRIVATEOID", 254 },
};

/* RFC 4398 §2.1 certificate type mnemonics. */
static const struct mnemonic cert_types[] = {
	{ "PKIX", 1 }, { "SPKI", 2 }, { "PGP", 3 }, { "IPKIX", 4 }, { "ISPKI", 5 },
	{ "IPGP", 6 }, { "ACPKIX", 7 }, { "IACPKIX", 8 }, { "URI", 253 }, { "OID", 254 },
};

/* RFC 9859 §4.2 scheme mnemonics. */
static const struct mnemonic schemes[] = {
	{ "NOTIFY", 1 },
};

/* RFC 1035 §3.4.2: WKS protocol names. */
static const struct mnemonic wks_protos[] = {
	{ "tcp", 6 },
	{ "udp", 17 },
};

static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

/* RFC 4034 §3.2: YYYYMMDDHHmmSS (UTC) or a plain number of seconds. */
static bool
parse_time(const char *s, size_t len, uint32_t *out)
{
	uint64_t v;
	if (len != 14) {
		if (!parse_num(s, len, UINT32_MAX, &v)) {
			return false;
		}
		*out = (uint32_t)v;
		return true;
	}
	if (!parse_num(s, len, UINT64_MAX / 10, &v)) {
		return false;
	}
	unsigned f[6];
	int64_t y = 0;
	for (int k = 0; k < 4; k++) {
		y = y * 10 + (s[k] - '0');
	}
	for (int k = 0; k < 5; k++) {
		f[k] = (unsigned)((s[4 + 2 * k] - '0') * 10 + (s[5 + 2 * k] - '0'));
	}
	if (y < 1970 || f[0] < 1 || f[0] > 12 || f[1] < 1 || f[1] > 31 || f[2] > 23 ||
	    f[3] > 59 || f[4] > 60) {
		return false;
	}
	int64_t secs = days_from_civil(y, f[0], f[1]) * 86400 + f[2] * 3600 + f[3] * 60 + f[4];
	/* Serial number arithmetic: times past 2106 wrap modulo 2^32. */
	*out = (uint32_t)((uint64_t)secs & 0xffffffffu);
	return true;
}

static void
o_time(struct out *o, uint32_t t)
{
	int y;
	unsigned m, d;
	civil_from_days((int64_t)(t / 86400), &y, &m, &d);
	uint32_t r = t % 86400;
	o_fmt(o, "%04d%02u%02u%02u%02u%02u", y, m, d, r / 3600, r / 60 % 60, r % 60);
}

/* Type mnemonic safe for other tools: obsolete and meta types as TYPEnnn (RFC 3597 §5). */
static void
o_type(struct out *o, uint16_t type)
{
	const struct dns_rrtype *t = dns_rrtype_find(type);
	if (t != NULL && !(t->flags & DNS_RRF_WIREONLY)) {
		o_str(o, t->name);
	} else {
		o_fmt(o, "TYPE%u", (unsigned)type);
	}
}

/* ------------------------------------------------------------------------------------------ */
/* NSEC type bitmaps (RFC 4034 §4.1.2)                                                          */

static int
put_bitmap(struct pctx *c)
{
	uint8_t bits[8192];
	bool any = false;
	memset(bits, 0, sizeof(bits));
	const struct dns_tok *t;
	while ((t = next_tok(c)) != NULL) {
		int type = dns_type_from_text(t->s, t->len);
		if (type < 0) {
			return fail(c, TDNS_EBADRDATA,
				    "unknown type '%.*s' in %s type bitmap, expected a mnemonic "
				    "or TYPEnnn", TOK(t), c->tname);
		}
		bits[type >> 3] |= (uint8_t)(0x80 >> (type & 7));
		any = true;
	}
	if (!any) {
		return TDNS_OK;
	}
	for (int w = 0; w < 256; w++) {
		const uint8_t *win = bits + w * 32;
		int last = -1;
		for (int k = 0; k < 32; k++) {
			if (win[k]) {
				last = k;
			}
		}
		if (last < 0) {
			continue;
		}
		tdns_buf_u8(&c->b, (uint8_t)w);
		tdns_buf_u8(&c->b, (uint8_t)(last + 1));
		tdns_buf_bytes(&c->b, win, (size_t)last + 1);
	}
	return TDNS_OK;
}

static bool
wire_bitmap(const uint8_t *p, size_t n, struct out *o)
{
	size_t pos = 0;
	int prev = -1;
	while (pos < n) {
		if (pos + 2 > n) {
			return false;
		}
		int w = p[pos];
		size_t bl = p[pos + 1];
		/* Windows ascend, 1-32 octets, trailing zero octets omitted. */
		if (w <= prev || bl < 1 || bl > 32 || pos + 2 + bl > n ||
		    p[pos + 2 + bl - 1] == 0) {
			return false;
		}
		for (size_t k = 0; k < bl; k++) {
			for (int bit = 0; bit < 8; bit++) {
				if (p[pos + 2 + k] & (0x80 >> bit)) {
					o_item(o);
					o_type(o, (uint16_t)(w * 256 + (int)k * 8 + bit));
				}
			}
		}
		prev = w;
		pos += 2 + bl;
	}
	return true;
}

/* ------------------------------------------------------------------------------------------ */
/* LOC (RFC 1876)                                                                              */

/* Centimetres from "[-]M[.CC][m]"; false if malformed or outside [lo, hi]. */
static bool
parse_meters(const struct dns_tok *t, int64_t lo, int64_t hi, int64_t *cm)
{
	const char *s = t->s;
	size_t len = t->len, i = 0;
	bool neg = false;
	if (len > 0 && (s[len - 1] == 'm' || s[len - 1] == 'M')) {
		len--;
	}
	if (i < len && s[i] == '-') {
		neg = true;
		i++;
	}
	int64_t whole = 0, frac = 0;
	size_t nd = 0;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, nd++) {
		whole = whole * 10 + (s[i] - '0');
		if (whole > 100000000) {
			return false;
		}
	}
	if (i < len && s[i] == '.') {
		i++;
		int fd = 0;
		for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, fd++) {
			if (fd >= 2) {
				return false;
			}
			frac = frac * 10 + (s[i] - '0');
		}
		if (fd == 1) {
			frac *= 10;
		}
		nd += (size_t)fd;
	}
	if (i != len || nd == 0) {
		return false;
	}
	int64_t v = whole * 100 + frac;
	if (neg) {
		v = -v;
	}
	if (v < lo || v > hi) {
		return false;
	}
	*cm = v;
	return true;
}

/* RFC 1876 §2: size and precisions as mantissa and power of ten, in centimetres. */
static uint8_t
loc_prec(int64_t cm)
{
	unsigned e = 0;
	while (cm >= 10 && e < 9) {
		cm /= 10;
		e++;
	}
	return (uint8_t)(cm << 4 | e);
}

static uint64_t
loc_prec_cm(uint8_t v)
{
	uint64_t m = v >> 4;
	for (unsigned e = v & 15; e > 0; e--) {
		m *= 10;
	}
	return m;
}

/* One coordinate: "deg [min [sec]] H"; *ms is thousandths of arc seconds, signed. */
static int
parse_coord(struct pctx *c, bool lat, int64_t *ms)
{
	const char *what = lat ? "latitude" : "longitude";
	const char pos = lat ? 'N' : 'E', neg = lat ? 'S' : 'W';
	uint64_t deg, min = 0, sec1000 = 0;
	const struct dns_tok *t = next_tok(c);
	if (t == NULL) {
		return missing(c, what);
	}
	if (!parse_num(t->s, t->len, lat ? 90 : 180, &deg)) {
		return fail(c, TDNS_EBADRDATA, "LOC %s degrees must be 0-%d, got '%.*s'", what,
			    lat ? 90 : 180, TOK(t));
	}
	int part = 0;
	for (;;) {
		t = next_tok(c);
		if (t == NULL) {
			return fail(c, TDNS_EBADRDATA, "LOC %s ends early: %c or %c expected", what,
				    pos, neg);
		}
		if (t->len == 1 && ((t->s[0] | 0x20) == (pos | 0x20) ||
				    (t->s[0] | 0x20) == (neg | 0x20))) {
			break;
		}
		if (part == 0) {
			if (!parse_num(t->s, t->len, 59, &min)) {
				return fail(c, TDNS_EBADRDATA,
					    "LOC %s minutes must be 0-59, got '%.*s'", what,
					    TOK(t));
			}
		} else if (part == 1) {
			/* seconds with up to three decimals */
			const char *dot = memchr(t->s, '.', t->len);
			size_t il = dot ? (size_t)(dot - t->s) : t->len;
			size_t fl = dot ? t->len - il - 1 : 0;
			uint64_t si, sf = 0;
			if (!parse_num(t->s, il, 59, &si) || fl > 3 ||
			    (fl > 0 && !parse_num(dot + 1, fl, 999, &sf)) || (dot && fl == 0)) {
				return fail(c, TDNS_EBADRDATA,
					    "LOC %s seconds must be 0-59.999, got '%.*s'", what,
					    TOK(t));
			}
			for (size_t k = fl; k < 3; k++) {
				sf *= 10;
			}
			sec1000 = si * 1000 + sf;
		} else {
			return fail(c, TDNS_EBADRDATA, "LOC %s: %c or %c expected, got '%.*s'",
				    what, pos, neg, TOK(t));
		}
		part++;
	}
	int64_t v = (int64_t)((deg * 3600 + min * 60) * 1000 + sec1000);
	if (v > (int64_t)(lat ? 90 : 180) * 3600000) {
		return fail(c, TDNS_EBADRDATA, "LOC %s beyond %d degrees", what, lat ? 90 : 180);
	}
	*ms = (t->s[0] | 0x20) == (neg | 0x20) ? -v : v;
	return TDNS_OK;
}

static int
put_loc(struct pctx *c)
{
	int64_t lat, lon, alt;
	int64_t prec[3] = { 100, 1000000, 1000 }; /* RFC 1876 defaults: 1m 10000m 10m */
	static const char *const pname[3] = { "size", "horizontal precision",
					      "vertical precision" };
	int r = parse_coord(c, true, &lat);
	if (r == TDNS_OK) {
		r = parse_coord(c, false, &lon);
	}
	if (r != TDNS_OK) {
		return r;
	}
	const struct dns_tok *t = next_tok(c);
	if (t == NULL) {
		return missing(c, "altitude");
	}
	if (!parse_meters(t, -10000000, 4284967295LL, &alt)) {
		return fail(c, TDNS_EBADRDATA,
			    "LOC altitude must be -100000.00m to 42849672.95m, got '%.*s'", TOK(t));
	}
	for (int k = 0; k < 3 && (t = next_tok(c)) != NULL; k++) {
		if (!parse_meters(t, 0, 9000000000LL, &prec[k])) {
			return fail(c, TDNS_EBADRDATA,
				    "LOC %s must be 0m to 90000000m, got '%.*s'", pname[k], TOK(t));
		}
	}
	if (c->i < c->ntok) {
		t = &c->toks[c->i];
		return fail(c, TDNS_EBADRDATA, "trailing data '%.*s' after LOC rdata", TOK(t));
	}
	tdns_buf_u8(&c->b, 0);
	for (int k = 0; k < 3; k++) {
		tdns_buf_u8(&c->b, loc_prec(prec[k]));
	}
	tdns_buf_u32(&c->b, (uint32_t)((1LL << 31) + lat));
	tdns_buf_u32(&c->b, (uint32_t)((1LL << 31) + lon));
	tdns_buf_u32(&c->b, (uint32_t)(alt + 10000000));
	return TDNS_OK;
}

static void
o_meters(struct out *o, uint64_t cm)
{
	if (cm % 100) {
		o_fmt(o, "%llu.%02llum", (unsigned long long)(cm / 100),
		      (unsigned long long)(cm % 100));
	} else {
		o_fmt(o, "%llum", (unsigned long long)(cm / 100));
	}
}

static void
o_coord(struct out *o, uint32_t w, char pos, char neg)
{
	int64_t v = (int64_t)w - (1LL << 31);
	char h = v < 0 ? neg : pos;
	uint64_t a = (uint64_t)(v < 0 ? -v : v);
	o_item(o);
	o_fmt(o, "%llu %llu %llu.%03llu %c", (unsigned long long)(a / 3600000),
	      (unsigned long long)(a / 60000 % 60), (unsigned long long)(a / 1000 % 60),
	      (unsigned long long)(a % 1000), h);
}

static bool
wire_loc(const uint8_t *p, size_t n, struct out *o)
{
	if (n != 16 || p[0] != 0) {
		return false; /* RFC 1876 §2: only version 0 is defined */
	}
	for (int k = 1; k <= 3; k++) {
		if ((p[k] >> 4) > 9 || (p[k] & 15) > 9) {
			return false;
		}
	}
	uint32_t lat = tdns_get32(p + 4), lon = tdns_get32(p + 8), alt = tdns_get32(p + 12);
	int64_t dlat = (int64_t)lat - (1LL << 31), dlon = (int64_t)lon - (1LL << 31);
	if (dlat > 324000000 || dlat < -324000000 || dlon > 648000000 || dlon < -648000000) {
		return false;
	}
	o_coord(o, lat, 'N', 'S');
	o_coord(o, lon, 'E', 'W');
	int64_t a = (int64_t)alt - 10000000;
	o_item(o);
	o_fmt(o, "%s%lld.%02lldm", a < 0 ? "-" : "", (long long)((a < 0 ? -a : a) / 100),
	      (long long)((a < 0 ? -a : a) % 100));
	for (int k = 1; k <= 3; k++) {
		o_item(o);
		o_meters(o, loc_prec_cm(p[k]));
	}
	return true;
}

/* ------------------------------------------------------------------------------------------ */
/* SVCB / HTTPS parameters (RFC 9460)                                                          */

enum {
	SVC_MANDATORY = 0,
	SVC_ALPN = 1,
	SVC_NODEFALPN = 2,
	SVC_PORT = 3,
	SVC_IPV4HINT = 4,
	SVC_ECH = 5,
	SVC_IPV6HINT = 6,
	SVC_DOHPATH = 7,  /* RFC 9461 */
	SVC_OHTTP = 8,    /* RFC 9540 */
};

static const char *const svc_names[] = {
	[SVC_MANDATORY] = "mandatory", [SVC_ALPN] = "alpn", [SVC_NODEFALPN] = "no-default-alpn",
	[SVC_PORT] = "port", [SVC_IPV4HINT] = "ipv4hint", [SVC_ECH] = "ech",
	[SVC_IPV6HINT] = "ipv6hint",
};

/*
 * Key from "alpn", "dohpath" or "keyNNNNN"; -1 if unknown, -2 for the reserved key65535.
 * RFC 9460 §2.1: keys are lower case ("ALPN" is not a key).
 */
static int
svc_key(const char *s, size_t len)
{
	for (size_t k = 0; k < sizeof(svc_names) / sizeof(svc_names[0]); k++) {
		if (strlen(svc_names[k]) == len && strncmp(s, svc_names[k], len) == 0) {
			return (int)k;
		}
	}
	if (len == 7 && strncmp(s, "dohpath", 7) == 0) {
		return SVC_DOHPATH;
	}
	if (len == 5 && strncmp(s, "ohttp", 5) == 0) {
		return SVC_OHTTP;
	}
	uint64_t v;
	if (len > 3 && strncmp(s, "key", 3) == 0 &&
	    parse_num(s + 3, len - 3, 65535, &v)) {
		/* RFC 9460 §14.3.2: key65535 is reserved ("Invalid key"). */
		return v == 65535 ? -2 : (int)v;
	}
	return -1;
}

/*
 * RFC 9461 §5: dohpath is a relative URI template (RFC 6570) that starts with "/" and has a
 * "dns" variable in one of its expressions.  Returns NULL when v is acceptable, else why not.
 */
static const char *
dohpath_problem(const uint8_t *v, size_t n)
{
	if (n == 0) {
		return "is empty";
	}
	if (v[0] != '/') {
		return "must be a relative URI template starting with '/'";
	}
	bool dns = false;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < 0x21 || v[i] > 0x7e || v[i] == '}') {
			if (v[i] >= 0x80) {
				continue; /* UTF-8 of a URI template literal (RFC 6570 §2.1) */
			}
			return "has a character a URI template does not allow";
		}
		if (v[i] != '{') {
			continue;
		}
		size_t j = i + 1;
		while (j < n && v[j] != '}') {
			j++;
		}
		if (j == n) {
			return "has an unclosed '{' expression";
		}
		size_t k = i + 1;
		if (k < j && strchr("+#./;?&", v[k]) != NULL) {
			k++; /* RFC 6570 §2.2 operator */
		}
		while (k < j) {
			size_t e = k;
			while (e < j && v[e] != ',') {
				e++;
			}
			size_t vl = e - k;
			const uint8_t *mod = memchr(v + k, ':', vl);
			if (mod != NULL) {
				vl = (size_t)(mod - (v + k));
			} else if (vl > 0 && v[k + vl - 1] == '*') {
				vl--;
			}
			if (vl == 3 && memcmp(v + k, "dns", 3) == 0) {
				dns = true;
			}
			k = e + 1;
		}
		i = j;
	}
	return dns ? NULL : "must contain the \"dns\" variable, as in /dns-query{?dns}";
}

static void
o_svc_key(struct out *o, uint16_t key)
{
	if (key < sizeof(svc_names) / sizeof(svc_names[0])) {
		o_str(o, svc_names[key]);
	} else {
		o_fmt(o, "key%u", (unsigned)key);
	}
}

/* Checks and prints one SvcParam value; false if malformed for its key. */
static bool
svc_value(uint16_t key, const uint8_t *v, size_t n, struct out *o)
{
	switch (key) {
	case SVC_MANDATORY:
		if (n == 0 || n % 2) {
			return false;
		}
		o_putc(o, '=');
		for (size_t k = 0; k < n; k += 2) {
			uint16_t mk = tdns_get16(v + k);
			/* RFC 9460 §8: ascending, no duplicates, "mandatory" not listed */
			if (mk == SVC_MANDATORY || (k > 0 && mk <= tdns_get16(v + k - 2))) {
				return false;
			}
			if (k > 0) {
				o_putc(o, ',');
			}
			o_svc_key(o, mk);
		}
		return true;
	case SVC_ALPN: {
		if (n == 0) {
			return false;
		}
		o_str(o, "=\"");
		for (size_t k = 0; k < n;) {
			size_t l = v[k];
			if (l == 0 || k + 1 + l > n) {
				return false;
			}
			if (k > 0) {
				o_putc(o, ',');
			}
			/* RFC 9460 Appendix A.1: value-list escaping, then char-string escaping */
			for (size_t j = 0; j < l; j++) {
				uint8_t ch = v[k + 1 + j];
				if (ch == ',' || ch == '\\') {
					o_str(o, "\\\\");
				}
				o_cstr_body(o, &ch, 1);
			}
			k += 1 + l;
		}
		o_putc(o, '"');
		return true;
	}
	case SVC_NODEFALPN:
	case SVC_OHTTP:
		return n == 0;
	case SVC_PORT:
		if (n != 2) {
			return false;
		}
		o_fmt(o, "=%u", (unsigned)tdns_get16(v));
		return true;
	case SVC_IPV4HINT:
	case SVC_IPV6HINT: {
		size_t al = key == SVC_IPV4HINT ? 4 : 16;
		if (n == 0 || n % al) {
			return false;
		}
		o_putc(o, '=');
		for (size_t k = 0; k < n; k += al) {
			char a[INET6_ADDRSTRLEN];
			inet_ntop(al == 4 ? AF_INET : AF_INET6, v + k, a, sizeof(a));
			if (k > 0) {
				o_putc(o, ',');
			}
			o_str(o, a);
		}
		return true;
	}
	case SVC_ECH:
		if (n == 0) {
			return false;
		}
		o_putc(o, '=');
		o_b64(o, v, n);
		return true;
	default:
		if (key == 65535) {
			return false;
		}
		if (n > 0) {
			o_putc(o, '=');
			o_cstr(o, v, n);
		}
		return true;
	}
}

static bool
wire_svcparams(const uint8_t *p, size_t n, struct out *o)
{
	size_t pos = 0;
	int prev = -1;
	bool have[9] = { false };
	const uint8_t *mand = NULL;
	size_t mandlen = 0;
	while (pos < n) {
		if (pos + 4 > n) {
			return false;
		}
		uint16_t key = tdns_get16(p + pos);
		size_t len = tdns_get16(p + pos + 2);
		/* RFC 9460 §2.2: keys strictly increasing */
		if ((int)key <= prev || pos + 4 + len > n) {
			return false;
		}
		o_item(o);
		o_svc_key(o, key);
		if (!svc_value(key, p + pos + 4, len, o)) {
			return false;
		}
		if (key < 9) {
			have[key] = true;
		}
		if (key == SVC_MANDATORY) {
			mand = p + pos + 4;
			mandlen = len;
		}
		prev = key;
		pos += 4 + len;
	}
	/* RFC 9460 §7.1.1: no-default-alpn needs alpn */
	if (have[SVC_NODEFALPN] && !have[SVC_ALPN]) {
		return false;
	}
	/* RFC 9460 §8: every mandatory key must be present */
	for (size_t k = 0; mand != NULL && k < mandlen; k += 2) {
		uint16_t mk = tdns_get16(mand + k);
		bool found = false;
		for (size_t q = 0; q < n;) {
			uint16_t key = tdns_get16(p + q);
			if (key == mk) {
				found = true;
				break;
			}
			q += 4 + tdns_get16(p + q + 2);
		}
		if (!found) {
			return false;
		}
	}
	return true;
}

struct svc_param {
	uint16_t key;
	size_t off;   /* of the key in the output buffer */
	size_t len;   /* key + length + value */
};

static int
svc_param_cmp(const void *a, const void *b)
{
	const struct svc_param *x = a, *y = b;
	return (int)x->key - (int)y->key;
}

static int
u16_cmp(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* Splits at unescaped commas (value-list, RFC 9460 Appendix A.1); returns item count. */
static int
put_svc_value(struct pctx *c, uint16_t key, const char *s, size_t len, const struct dns_tok *t)
{
	char kname[16];
	snprintf(kname, sizeof(kname), "key%u", (unsigned)key);
	const char *kn = key < sizeof(svc_names) / sizeof(svc_names[0]) ? svc_names[key] : kname;
	uint8_t *raw = malloc(len + 1);
	if (raw == NULL) {
		return TDNS_ENOMEM;
	}
	int r = TDNS_OK;
	long rl = cstr_decode(s, len, raw, len + 1);
	if (rl < 0) {
		r = fail(c, TDNS_EBADTEXT, "bad escape in %s SvcParam %s '%.*s'", c->tname, kn,
			 TOK(t));
		goto out;
	}
	size_t n = (size_t)rl;
	switch (key) {
	case SVC_MANDATORY: {
		uint16_t keys[64];
		size_t nk = 0;
		for (size_t i = 0; i <= n;) {
			size_t j = i;
			while (j < n && raw[j] != ',') {
				j++;
			}
			int k = svc_key((const char *)raw + i, j - i);
			if (k == -2) {
				r = fail(c, TDNS_EBADRDATA, "key65535 in %s mandatory list is "
					 "reserved (RFC 9460 §14.3.2) and cannot be used",
					 c->tname);
				goto out;
			}
			if (k < 0 || k == SVC_MANDATORY || nk == 64) {
				r = fail(c, TDNS_EBADRDATA,
					 "bad key '%.*s' in %s mandatory list, expected SvcParam "
					 "key names", (int)(j - i), (const char *)raw + i,
					 c->tname);
				goto out;
			}
			keys[nk++] = (uint16_t)k;
			i = j + 1;
		}
		qsort(keys, nk, sizeof(keys[0]), u16_cmp);
		for (size_t k = 0; k < nk; k++) {
			if (k > 0 && keys[k] == keys[k - 1]) {
				r = fail(c, TDNS_EBADRDATA, "duplicate key in %s mandatory list",
					 c->tname);
				goto out;
			}
			tdns_buf_u16(&c->b, keys[k]);
		}
		break;
	}
	case SVC_ALPN: {
		/* After char-string decoding, "\," is a comma inside an item, "\\" a backslash. */
		uint8_t item[256];
		size_t il = 0;
		for (size_t i = 0; i <= n; i++) {
			if (i == n || raw[i] == ',') {
				if (il == 0) {
					r = fail(c, TDNS_EBADRDATA, "empty protocol id in %s alpn",
						 c->tname);
					goto out;
				}
				tdns_buf_u8(&c->b, (uint8_t)il);
				tdns_buf_bytes(&c->b, item, il);
				il = 0;
				continue;
			}
			if (raw[i] == '\\') {
				/* Appendix A.1: a backslash escapes the next octet */
				if (i + 1 == n) {
					r = fail(c, TDNS_EBADRDATA, "%s alpn ends in a lone "
						 "backslash; write \\\\\\\\ for a backslash in a "
						 "protocol id", c->tname);
					goto out;
				}
				i++;
			}
			if (il == 255) {
				r = fail(c, TDNS_EBADRDATA, "%s alpn id longer than 255 octets",
					 c->tname);
				goto out;
			}
			item[il++] = raw[i];
		}
		break;
	}
	case SVC_PORT: {
		uint64_t v;
		if (!parse_num((const char *)raw, n, 65535, &v)) {
			r = fail(c, TDNS_EBADRDATA, "%s port must be 0-65535, got '%.*s'", c->tname,
				 (int)n, (const char *)raw);
			goto out;
		}
		tdns_buf_u16(&c->b, (uint16_t)v);
		break;
	}
	case SVC_IPV4HINT:
	case SVC_IPV6HINT: {
		bool v4 = key == SVC_IPV4HINT;
		for (size_t i = 0; i <= n;) {
			size_t j = i;
			while (j < n && raw[j] != ',') {
				j++;
			}
			uint8_t bin[16];
			if (!addr_from_text((const char *)raw + i, j - i, v4 ? AF_INET : AF_INET6,
					    bin)) {
				r = fail(c, TDNS_EBADRDATA, "bad %s address '%.*s' in %s %s",
					 v4 ? "IPv4" : "IPv6", (int)(j - i), (const char *)raw + i,
					 c->tname, kn);
				goto out;
			}
			tdns_buf_bytes(&c->b, bin, v4 ? 4 : 16);
			i = j + 1;
		}
		break;
	}
	case SVC_ECH: {
		struct dns_tok bt = { .s = (const char *)raw, .len = n, .quoted = false };
		r = put_b64_tokens(c, &bt, 1, "ech", 1);
		break;
	}
	case SVC_NODEFALPN:
	case SVC_OHTTP:
		if (n > 0) {
			r = fail(c, TDNS_EBADRDATA, "%s SvcParam %s takes no value", c->tname, kn);
		}
		break;
	case SVC_DOHPATH: {
		const char *why = dohpath_problem(raw, n);
		if (why != NULL) {
			r = fail(c, TDNS_EBADRDATA, "%s dohpath %s (RFC 9461 §5)", c->tname, why);
			goto out;
		}
		tdns_buf_bytes(&c->b, raw, n);
		break;
	}
	default:
		tdns_buf_bytes(&c->b, raw, n);
	}
out:
	free(raw);
	return r;
}

static int
put_svcparams(struct pctx *c)
{
	size_t base = c->b.len;
	struct svc_param *ps = NULL;
	size_t np = 0;
	int r = TDNS_OK;
	if (c->ntok > c->i) {
		ps = malloc((c->ntok - c->i) * sizeof(*ps));
		if (ps == NULL) {
			return TDNS_ENOMEM;
		}
	}
	const struct dns_tok *t;
	while ((t = next_tok(c)) != NULL) {
		const char *eq = memchr(t->s, '=', t->len);
		size_t kl = eq ? (size_t)(eq - t->s) : t->len;
		int key = svc_key(t->s, kl);
		if (key == -2) {
			r = fail(c, TDNS_EBADRDATA, "%s SvcParam key65535 is reserved (RFC 9460 "
				 "§14.3.2) and cannot be used", c->tname);
			goto out;
		}
		if (key < 0) {
			r = fail(c, TDNS_EBADRDATA, "unknown %s SvcParam key '%.*s', expected "
				 "mandatory, alpn, no-default-alpn, port, ipv4hint, ech, ipv6hint, "
				 "dohpath, ohttp or keyNNNNN, in lower case", c->tname, (int)kl,
				 t->s);
			goto out;
		}
		const char *v = eq ? eq + 1 : NULL;
		size_t vl = eq ? t->len - kl - 1 : 0;
		const char *kstr = t->s;
		/* key= "value" as two tokens, or key="value" kept in one */
		if (eq != NULL && vl == 0 && c->i < c->ntok && c->toks[c->i].quoted) {
			t = next_tok(c);
			v = t->s;
			vl = t->len;
		} else if (v != NULL && vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
			v++;
			vl -= 2;
		}
		bool needs = key == SVC_MANDATORY || key == SVC_ALPN || key == SVC_PORT ||
			     key == SVC_IPV4HINT || key == SVC_IPV6HINT || key == SVC_ECH ||
			     key == SVC_DOHPATH;
		if (needs && vl == 0) {
			r = fail(c, TDNS_EBADRDATA, "%s SvcParam '%.*s' needs a value", c->tname,
				 (int)kl, kstr);
			goto out;
		}
		ps[np].key = (uint16_t)key;
		ps[np].off = c->b.len;
		tdns_buf_u16(&c->b, (uint16_t)key);
		tdns_buf_u16(&c->b, 0);
		size_t vstart = c->b.len;
		r = put_svc_value(c, (uint16_t)key, v ? v : "", vl, t);
		if (r != TDNS_OK) {
			goto out;
		}
		if (c->b.err) {
			r = TDNS_ESPACE;
			goto out;
		}
		if (c->b.len - vstart > 65535) {
			r = fail(c, TDNS_EBADRDATA, "%s SvcParam value too long", c->tname);
			goto out;
		}
		tdns_put16(c->b.p + vstart - 2, (uint16_t)(c->b.len - vstart));
		ps[np].len = c->b.len - ps[np].off;
		np++;
	}
	if (np == 0) {
		goto out;
	}
	/* RFC 9460 §2.2: the wire form needs ascending keys; presentation order is free. */
	qsort(ps, np, sizeof(*ps), svc_param_cmp);
	for (size_t k = 1; k < np; k++) {
		if (ps[k].key == ps[k - 1].key) {
			char kn[16];
			snprintf(kn, sizeof(kn), "key%u", (unsigned)ps[k].key);
			r = fail(c, TDNS_EBADRDATA, "duplicate %s SvcParam key %s", c->tname,
				 ps[k].key < sizeof(svc_names) / sizeof(svc_names[0]) ?
				 svc_names[ps[k].key] : kn);
			goto out;
		}
	}
	size_t total = c->b.len - base;
	uint8_t *tmp = malloc(total);
	if (tmp == NULL) {
		r = TDNS_ENOMEM;
		goto out;
	}
	size_t o = 0;
	for (size_t k = 0; k < np; k++) {
		memcpy(tmp + o, c->b.p + ps[k].off, ps[k].len);
		o += ps[k].len;
	}
	memcpy(c->b.p + base, tmp, total);
	free(tmp);
	/* RFC 9460 §8: every key listed in mandatory must be in the record. */
	if (ps[0].key == SVC_MANDATORY) {
		/* After the sort above, mandatory (key 0) comes first, at base. */
		const uint8_t *mv = c->b.p + base + 4;
		size_t ml = tdns_get16(c->b.p + base + 2);
		for (size_t m = 0; m + 1 < ml; m += 2) {
			uint16_t mk = tdns_get16(mv + m);
			bool found = false;
			for (size_t q = 1; q < np && !found; q++) {
				found = ps[q].key == mk;
			}
			if (!found) {
				char kn[16];
				snprintf(kn, sizeof(kn), "key%u", (unsigned)mk);
				r = fail(c, TDNS_EBADRDATA, "%s mandatory lists %s, which the "
					 "record does not have (RFC 9460 §8)", c->tname,
					 mk < sizeof(svc_names) / sizeof(svc_names[0]) ?
					 svc_names[mk] : mk == SVC_DOHPATH ? "dohpath" : kn);
				goto out;
			}
		}
	}
	/* Semantic checks (mandatory keys present, alpn with no-default-alpn). */
	struct out dry = { .dry = true };
	if (!wire_svcparams(c->b.p + base, total, &dry)) {
		r = fail(c, TDNS_EBADRDATA, "%s parameters inconsistent: keys listed in mandatory "
			 "must be present, and no-default-alpn needs alpn", c->tname);
	}
out:
	free(ps);
	return r;
}

/* ------------------------------------------------------------------------------------------ */
/* CERT, EUI48/EUI64, ILNP, APL, IPSECKEY/AMTRELAY gateways, HIP, DSYNC                        */

/* RFC 7043 §3.2/§4.2: n hex pairs joined by "-". */
static int
put_eui(struct pctx *c, const struct dns_tok *t, size_t n)
{
	uint8_t tmp[8];
	if (t->len != n * 3 - 1) {
		goto bad;
	}
	for (size_t k = 0; k < n; k++) {
		const char *p = t->s + k * 3;
		int a = tdns_hex_value(p[0]), b = tdns_hex_value(p[1]);
		if (a < 0 || b < 0 || (k + 1 < n && p[2] != '-')) {
			goto bad;
		}
		tmp[k] = (uint8_t)(a << 4 | b);
	}
	tdns_buf_bytes(&c->b, tmp, n);
	return TDNS_OK;
bad:
	return fail(c, TDNS_EBADRDATA, "%s address must be %zu hex pairs joined by '-', as in %s, "
		    "got '%.*s'", c->tname, n, n == 6 ? "00-00-5e-00-53-2a" :
		    "00-00-5e-ef-10-00-00-2a", TOK(t));
}

/* RFC 6742 §2.1 (and §2.3): four groups of 1-4 hex digits joined by ":". */
static int
put_ilnp64(struct pctx *c, const struct dns_tok *t, const char *label)
{
	uint8_t tmp[8];
	size_t g = 0, i = 0;
	while (g < 4) {
		unsigned v = 0, nd = 0;
		while (i < t->len && tdns_hex_value(t->s[i]) >= 0 && nd < 5) {
			v = v << 4 | (unsigned)tdns_hex_value(t->s[i]);
			i++;
			nd++;
		}
		if (nd == 0 || nd > 4) {
			break;
		}
		tmp[2 * g] = (uint8_t)(v >> 8);
		tmp[2 * g + 1] = (uint8_t)v;
		g++;
		if (g < 4) {
			if (i >= t->len || t->s[i] != ':') {
				break;
			}
			i++;
		}
	}
	if (g != 4 || i != t->len) {
		return fail(c, TDNS_EBADRDATA, "%s %s must be four 16-bit hex groups as in "
			    "0014:4fff:ff20:ee64, got '%.*s'", c->tname, label, TOK(t));
	}
	tdns_buf_bytes(&c->b, tmp, 8);
	return TDNS_OK;
}

/* RFC 3123 §4-5: items "[!]afi:address/prefix"; address octets after the last non-zero
 * one are left out of the wire form. */
static int
put_apl(struct pctx *c)
{
	const struct dns_tok *t;
	while ((t = next_tok(c)) != NULL) {
		const char *s = t->s;
		size_t len = t->len, i = 0;
		bool neg = len > 0 && s[0] == '!';
		i = neg ? 1 : 0;
		const char *colon = memchr(s + i, ':', len - i);
		const char *slash = colon ? memchr(colon, '/', len - (size_t)(colon - s)) : NULL;
		uint64_t afi = 0, prefix = 0;
		if (colon == NULL || slash == NULL ||
		    !parse_num(s + i, (size_t)(colon - s) - i, 65535, &afi) ||
		    (afi != 1 && afi != 2) ||
		    !parse_num(slash + 1, len - (size_t)(slash + 1 - s), afi == 1 ? 32 : 128,
			       &prefix)) {
			goto bad;
		}
		uint8_t bin[16];
		if (!addr_from_text(colon + 1, (size_t)(slash - colon - 1),
				    afi == 1 ? AF_INET : AF_INET6, bin)) {
			goto bad;
		}
		size_t n = afi == 1 ? 4 : 16;
		while (n > 0 && bin[n - 1] == 0) {
			n--;
		}
		tdns_buf_u16(&c->b, (uint16_t)afi);
		tdns_buf_u8(&c->b, (uint8_t)prefix);
		tdns_buf_u8(&c->b, (uint8_t)((neg ? 0x80 : 0) | n));
		tdns_buf_bytes(&c->b, bin, n);
		continue;
bad:
		return fail(c, TDNS_EBADRDATA, "bad APL item '%.*s', expected [!]1:IPv4/0-32 or "
			    "[!]2:IPv6/0-128", TOK(t));
	}
	return TDNS_OK;
}

static bool
wire_apl(const uint8_t *p, size_t n, struct out *o)
{
	for (size_t pos = 0; pos < n;) {
		if (pos + 4 > n) {
			return false;
		}
		uint16_t afi = tdns_get16(p + pos);
		uint8_t prefix = p[pos + 2];
		size_t al = p[pos + 3] & 0x7f;
		bool neg = p[pos + 3] & 0x80;
		size_t max = afi == 1 ? 4 : 16;
		if ((afi != 1 && afi != 2) || al > max || pos + 4 + al > n ||
		    prefix > (afi == 1 ? 32 : 128)) {
			return false;
		}
		uint8_t bin[16] = { 0 };
		memcpy(bin, p + pos + 4, al);
		char a[INET6_ADDRSTRLEN];
		inet_ntop(afi == 1 ? AF_INET : AF_INET6, bin, a, sizeof(a));
		o_item(o);
		o_fmt(o, "%s%u:%s/%u", neg ? "!" : "", (unsigned)afi, a, (unsigned)prefix);
		pos += 4 + al;
	}
	return true;
}

/* RFC 4025 §2.5, RFC 8777 §4.2.3: the gateway or relay whose kind octet 1 of rdata gives. */
static int
put_gateway(struct pctx *c, const struct dns_tok *t, const char *label, unsigned mask)
{
	unsigned gt = c->b.len > 1 ? c->b.p[1] & mask : 255;
	switch (gt) {
	case 0:
		if (t->len != 1 || t->s[0] != '.') {
			return fail(c, TDNS_EBADRDATA, "%s %s must be '.' for type 0, got '%.*s'",
				    c->tname, label, TOK(t));
		}
		return TDNS_OK;
	case 1:
	case 2: {
		uint8_t bin[16];
		if (!addr_from_text(t->s, t->len, gt == 1 ? AF_INET : AF_INET6, bin)) {
			return fail(c, TDNS_EBADRDATA, "%s %s of type %u must be an %s address, "
				    "got '%.*s'", c->tname, label, gt, gt == 1 ? "IPv4" : "IPv6",
				    TOK(t));
		}
		tdns_buf_bytes(&c->b, bin, gt == 1 ? 4 : 16);
		return TDNS_OK;
	}
	case 3:
		return put_name(c, t, label);
	default:
		return fail(c, TDNS_EBADRDATA, "%s %s type must be 0-3, got %u", c->tname, label,
			    gt);
	}
}

/* Wire size of the gateway at rd[off] (type from rd[1]); 0 if malformed. */
static size_t
gateway_len(const uint8_t *rd, size_t rdlen, size_t off, unsigned mask)
{
	unsigned gt = rdlen > 1 ? rd[1] & mask : 255;
	size_t left = rdlen >= off ? rdlen - off : 0;
	switch (gt) {
	case 0:
		return SIZE_MAX; /* nothing */
	case 1:
		return left >= 4 ? 4 : 0;
	case 2:
		return left >= 16 ? 16 : 0;
	case 3: {
		int n = dns_name_check(rd + off, left);
		return n > 0 ? (size_t)n : 0;
	}
	default:
		return 0;
	}
}

static void
o_gateway(struct out *o, const uint8_t *rd, size_t off, size_t len, unsigned mask)
{
	unsigned gt = rd[1] & mask;
	o_item(o);
	if (gt == 0) {
		o_putc(o, '.');
	} else if (gt == 3) {
		if (!o->dry) {
			char txt[DNS_NAME_TEXT_MAX];
			dns_name_to_text(rd + off, txt, sizeof(txt));
			o_str(o, txt);
		}
	} else {
		char a[INET6_ADDRSTRLEN];
		inet_ntop(len == 4 ? AF_INET : AF_INET6, rd + off, a, sizeof(a));
		o_str(o, a);
	}
}

/* RFC 8005 §5: pk-algorithm HIT(hex) public-key(base64) [rendezvous-servers...]. */
static int
put_hip(struct pctx *c)
{
	const struct dns_tok *alg = next_tok(c), *hit = next_tok(c), *pk = next_tok(c);
	uint64_t a;
	if (pk == NULL) {
		return missing(c, alg == NULL   ? "PK algorithm"
				  : hit == NULL ? "HIT"
						: "public key");
	}
	if (!parse_num(alg->s, alg->len, 255, &a)) {
		return fail(c, TDNS_EBADRDATA, "HIP PK algorithm must be 0-255, got '%.*s'",
			    TOK(alg));
	}
	uint8_t h[255];
	long hl = hex_token(c, hit, h, sizeof(h), "HIT");
	if (hl < 0) {
		return (int)hl;
	}
	if (hl == 0) {
		return fail(c, TDNS_EBADRDATA, "HIP HIT must not be empty");
	}
	tdns_buf_u8(&c->b, (uint8_t)hl);
	tdns_buf_u8(&c->b, (uint8_t)a);
	size_t lenpos = c->b.len;
	tdns_buf_u16(&c->b, 0);
	tdns_buf_bytes(&c->b, h, (size_t)hl);
	size_t start = c->b.len;
	int r = put_b64_tokens(c, pk, 1, "public key", 1);
	if (r != TDNS_OK) {
		return r;
	}
	if (c->b.err) {
		return TDNS_ESPACE;
	}
	if (c->b.len - start > 65535) {
		return fail(c, TDNS_EBADRDATA, "HIP public key longer than 65535 octets");
	}
	tdns_put16(c->b.p + lenpos, (uint16_t)(c->b.len - start));
	const struct dns_tok *t;
	while ((t = next_tok(c)) != NULL) {
		r = put_name(c, t, "rendezvous server");
		if (r != TDNS_OK) {
			return r;
		}
	}
	return TDNS_OK;
}

static bool
wire_hip(const uint8_t *p, size_t n, struct out *o)
{
	if (n < 4) {
		return false;
	}
	size_t hl = p[0], pl = tdns_get16(p + 2);
	if (hl == 0 || pl == 0 || 4 + hl + pl > n) {
		return false;
	}
	o_item(o);
	o_fmt(o, "%u", p[1]);
	o_item(o);
	o_hex(o, p + 4, hl);
	o_item(o);
	o_b64(o, p + 4 + hl, pl);
	for (size_t pos = 4 + hl + pl; pos < n;) {
		int l = dns_name_check(p + pos, n - pos);
		if (l < 0) {
			return false;
		}
		if (!o->dry) {
			char txt[DNS_NAME_TEXT_MAX];
			dns_name_to_text(p + pos, txt, sizeof(txt));
			o_item(o);
			o_str(o, txt);
		}
		pos += (size_t)l;
	}
	return true;
}

/* RFC 8777 §4.2: "D type", D is 0 or 1 (discovery optional), type 0-3. */
static int
put_amttype(struct pctx *c, const struct dns_tok *d)
{
	const struct dns_tok *t = next_tok(c);
	uint64_t dv, tv;
	if (t == NULL) {
		return missing(c, "relay type");
	}
	if (!parse_num(d->s, d->len, 1, &dv)) {
		return fail(c, TDNS_EBADRDATA, "AMTRELAY discovery optional must be 0 or 1, got "
			    "'%.*s'", TOK(d));
	}
	if (!parse_num(t->s, t->len, 3, &tv)) {
		return fail(c, TDNS_EBADRDATA, "AMTRELAY relay type must be 0-3, got '%.*s'",
			    TOK(t));
	}
	tdns_buf_u8(&c->b, (uint8_t)(dv << 7 | tv));
	return TDNS_OK;
}

/* RFC 1706 §5: "0x" and an even number of hex digits, with dots anywhere between them. */
static int
put_nsap(struct pctx *c)
{
	const struct dns_tok *t = next_tok(c);
	if (t == NULL) {
		return missing(c, "NSAP address");
	}
	if (c->i < c->ntok || t->len < 3 || t->s[0] != '0' || (t->s[1] | 0x20) != 'x') {
		goto bad;
	}
	int hi = -1;
	for (size_t k = 2; k < t->len; k++) {
		if (t->s[k] == '.') {
			continue;
		}
		int v = tdns_hex_value(t->s[k]);
		if (v < 0) {
			goto bad;
		}
		if (hi < 0) {
			hi = v;
		} else {
			tdns_buf_u8(&c->b, (uint8_t)(hi << 4 | v));
			hi = -1;
		}
	}
	if (hi < 0) {
		return TDNS_OK;
	}
bad:
	return fail(c, TDNS_EBADRDATA, "NSAP address must be 0x and pairs of hex digits, as in "
		    "0x47.0005.80.005a00, got '%.*s'", TOK(t));
}

/* Ports by number or by service name (getservbyname_r for the record's protocol). */
static int
put_wksmap(struct pctx *c)
{
	uint8_t bits[8192];
	size_t used = 0;
	memset(bits, 0, sizeof(bits));
	const char *proto = c->b.len > 4 && c->b.p[4] == 17 ? "udp" : "tcp";
	const struct dns_tok *t;
	while ((t = next_tok(c)) != NULL) {
		uint64_t port;
		if (!parse_num(t->s, t->len, 65535, &port)) {
			char name[64];
			struct servent se, *res = NULL;
			char sbuf[1024];
			if (t->len >= sizeof(name)) {
				goto bad;
			}
			memcpy(name, t->s, t->len);
			name[t->len] = '\0';
			if (getservbyname_r(name, proto, &se, sbuf, sizeof(sbuf), &res) != 0 ||
			    res == NULL) {
				goto bad;
			}
			port = ntohs((uint16_t)res->s_port);
		}
		bits[port >> 3] |= (uint8_t)(0x80 >> (port & 7));
		if (port / 8 + 1 > used) {
			used = port / 8 + 1;
		}
		continue;
bad:
		return fail(c, TDNS_EBADRDATA, "WKS service must be a port 0-65535 or a service "
			    "name, got '%.*s'", TOK(t));
	}
	/* Trailing zero octets are left out, as BIND writes the bitmap. */
	tdns_buf_bytes(&c->b, bits, used);
	return TDNS_OK;
}

static bool
wire_wksmap(const uint8_t *p, size_t n, struct out *o)
{
	for (size_t k = 0; k < n; k++) {
		for (int bit = 0; bit < 8; bit++) {
			if (p[k] & (0x80 >> bit)) {
				o_item(o);
				o_fmt(o, "%zu", k * 8 + (size_t)bit);
			}
		}
	}
	return true;
}

/* RFC 2874 §3.1.1: prefix length, the address bits after it, and the prefix name if any. */
static int
put_a6(struct pctx *c)
{
	const struct dns_tok *pl = next_tok(c), *addr = next_tok(c);
	uint64_t plen;
	if (addr == NULL) {
		return missing(c, pl == NULL ? "prefix length" : "address suffix");
	}
	if (!parse_num(pl->s, pl->len, 128, &plen)) {
		return fail(c, TDNS_EBADRDATA, "A6 prefix length must be 0-128, got '%.*s'",
			    TOK(pl));
	}
	uint8_t bin[16] = { 0 };
	if (plen == 128 && addr->len == 1 && addr->s[0] == '.') {
		/* no suffix: some zone files write "." for it */
	} else if (!addr_from_text(addr->s, addr->len, AF_INET6, bin)) {
		return fail(c, TDNS_EBADRDATA, "bad A6 address suffix '%.*s'", TOK(addr));
	}
	tdns_buf_u8(&c->b, (uint8_t)plen);
	size_t skip = (size_t)plen / 8;
	tdns_buf_bytes(&c->b, bin + skip, 16 - skip);
	if (plen > 0) {
		const struct dns_tok *t = next_tok(c);
		if (t == NULL) {
			return missing(c, "prefix name");
		}
		return put_name(c, t, "prefix name");
	}
	return TDNS_OK;
}

static bool
wire_a6(const uint8_t *p, size_t n, struct out *o)
{
	if (n < 1 || p[0] > 128) {
		return false;
	}
	size_t plen = p[0], sl = 16 - plen / 8;
	if (n < 1 + sl) {
		return false;
	}
	uint8_t bin[16] = { 0 };
	memcpy(bin + 16 - sl, p + 1, sl);
	char a[INET6_ADDRSTRLEN];
	inet_ntop(AF_INET6, bin, a, sizeof(a));
	o_item(o);
	o_fmt(o, "%zu %s", plen, a);
	size_t pos = 1 + sl;
	if (plen == 0) {
		return pos == n;
	}
	int l = dns_name_check(p + pos, n - pos);
	if (l < 0 || pos + (size_t)l != n) {
		return false;
	}
	if (!o->dry) {
		char txt[DNS_NAME_TEXT_MAX];
		dns_name_to_text(p + pos, txt, sizeof(txt));
		o_item(o);
		o_str(o, txt);
	}
	return true;
}

/* ------------------------------------------------------------------------------------------ */
/* Text -> wire                                                                                */

/* RFC 1706 §5: NSAP in its "0x" hex form. */
static bool
wire_nsap(const uint8_t *p, size_t n, struct out *o)
{
	if (n == 0) {
		return false;
	}
	o_item(o);
	o_str(o, "0x");
	for (size_t k = 0; k < n; k++) {
		o_fmt(o, "%02x", p[k]);
	}
	return true;
}

/* The field kinds that take the rest of the rdata, with their own reader and writer. */
static const struct rest_kind {
	int (*put)(struct pctx *c);
	bool (*wire)(const uint8_t *p, size_t n, struct out *o);
} rest_kinds[] = {
	[DNS_F_BITMAP] = { put_bitmap, wire_bitmap },
	[DNS_F_LOC] = { put_loc, wire_loc },
	[DNS_F_SVCPARAMS] = { put_svcparams, wire_svcparams },
	[DNS_F_APL] = { put_apl, wire_apl },
	[DNS_F_HIP] = { put_hip, wire_hip },
	[DNS_F_NSAP] = { put_nsap, wire_nsap },
	[DNS_F_WKSMAP] = { put_wksmap, wire_wksmap },
	[DNS_F_A6] = { put_a6, wire_a6 },
};

/* The entry of kind in rest_kinds, or NULL when kind is read and written in line. */
static const struct rest_kind *
rest_kind(unsigned kind)
{
	bool in = kind < sizeof(rest_kinds) / sizeof(rest_kinds[0]) && rest_kinds[kind].put != NULL;
	return in ? &rest_kinds[kind] : NULL;
}

static int
put_field(struct pctx *c, const struct dns_field *f)
{
	const char *label = f->label;
	const struct dns_tok *t;
	uint64_t v;

	const struct rest_kind *rk = rest_kind(f->kind);
	if (rk != NULL) {
		return rk->put(c);
	}
	switch (f->kind) {
	case DNS_F_STRS: {
		size_t n = 0;
		while ((t = next_tok(c)) != NULL) {
			int r = put_cstr(c, t, label);
			if (r != TDNS_OK) {
				return r;
			}
			n++;
		}
		return n ? TDNS_OK : missing(c, "a string");
	}
	case DNS_F_HEX:
		return put_hex_rest(c, label, f->min);
	case DNS_F_B64: {
		size_t nt = c->ntok - c->i;
		int r = put_b64_tokens(c, c->toks + c->i, nt, label, f->min);
		c->i = c->ntok;
		return r;
	}
	case DNS_F_STROPT:
		t = next_tok(c);
		return t != NULL ? put_cstr(c, t, label) : TDNS_OK;
	case DNS_F_B64DASH: {
		size_t nt = c->ntok - c->i;
		const struct dns_tok *d = c->toks + c->i;
		c->i = c->ntok;
		if (nt == 1 && d->len == 1 && d->s[0] == '-') {
			return TDNS_OK; /* no data */
		}
		return put_b64_tokens(c, d, nt, label, 1);
	}
	default:
		break;
	}

	t = next_tok(c);
	if (t == NULL) {
		return missing(c, label);
	}
	switch (f->kind) {
	case DNS_F_U8:
	case DNS_F_U16:
	case DNS_F_U32: {
		uint64_t max = f->kind == DNS_F_U8    ? 255
			       : f->kind == DNS_F_U16 ? 65535
						      : UINT32_MAX;
		if (!parse_num(t->s, t->len, max, &v)) {
			return fail(c, TDNS_EBADRDATA, "%s %s must be 0-%llu, got '%.*s'", c->tname,
				    label, (unsigned long long)max, TOK(t));
		}
		if (f->kind == DNS_F_U8) {
			tdns_buf_u8(&c->b, (uint8_t)v);
		} else if (f->kind == DNS_F_U16) {
			tdns_buf_u16(&c->b, (uint16_t)v);
		} else {
			tdns_buf_u32(&c->b, (uint32_t)v);
		}
		return TDNS_OK;
	}
	case DNS_F_TTL: {
		/* A TTL field holds 32 bits (RFC 2181 §8's 31 apply to the TTLs of records). */
		uint32_t ttl;
		int r = dns_ttl_units(t->s, t->len, &ttl);
		if (r != DNS_TTL_OK && r != DNS_TTL_RANGE) {
			return fail(c, TDNS_EBADRDATA,
				    "%s %s must be 0-4294967295 seconds or a TTL like 1h30m, "
				    "got '%.*s'", c->tname, label, TOK(t));
		}
		tdns_buf_u32(&c->b, ttl);
		return TDNS_OK;
	}
	case DNS_F_TIME: {
		uint32_t tm;
		if (!parse_time(t->s, t->len, &tm)) {
			return fail(c, TDNS_EBADRDATA,
				    "%s %s must be YYYYMMDDHHmmSS or seconds, got '%.*s'", c->tname,
				    label, TOK(t));
		}
		tdns_buf_u32(&c->b, tm);
		return TDNS_OK;
	}
	case DNS_F_ALG:
		return put_mnemonic(c, t, MNEMONICS(algs), 255, "algorithm",
				    "0-255 or a mnemonic like ECDSAP256SHA256");
	case DNS_F_TYPE: {
		int ty = dns_type_from_text(t->s, t->len);
		if (ty < 0) {
			return fail(c, TDNS_EBADRDATA, "unknown type '%.*s' as %s %s, expected a "
				    "mnemonic or TYPEnnn", TOK(t), c->tname, label);
		}
		tdns_buf_u16(&c->b, (uint16_t)ty);
		return TDNS_OK;
	}
	case DNS_F_NAME:
		return put_name(c, t, label);
	case DNS_F_CERTTYPE:
		return put_mnemonic(c, t, MNEMONICS(cert_types), 65535, "certificate type",
				    "0-65535 or a mnemonic like PKIX or PGP");
	case DNS_F_EUI48:
		return put_eui(c, t, 6);
	case DNS_F_EUI64:
		return put_eui(c, t, 8);
	case DNS_F_ILNP64:
		return put_ilnp64(c, t, label);
	case DNS_F_GATEWAY:
	case DNS_F_RELAY:
		return put_gateway(c, t, label, f->kind == DNS_F_RELAY ? 0x7f : 0xff);
	case DNS_F_AMTTYPE:
		return put_amttype(c, t);
	case DNS_F_SCHEME:
		return put_mnemonic(c, t, MNEMONICS(schemes), 255, "scheme", "0-255 or NOTIFY");
	case DNS_F_WKSPROTO:
		return put_mnemonic(c, t, MNEMONICS(wks_protos), 255, "protocol",
				    "0-255, tcp or udp");
	case DNS_F_A:
	case DNS_F_AAAA: {
		bool v4 = f->kind == DNS_F_A;
		uint8_t bin[16];
		if (!addr_from_text(t->s, t->len, v4 ? AF_INET : AF_INET6, bin)) {
			return fail(c, TDNS_EBADRDATA, "bad %s address '%.*s'",
				    v4 ? "IPv4" : "IPv6", TOK(t));
		}
		tdns_buf_bytes(&c->b, bin, v4 ? 4 : 16);
		return TDNS_OK;
	}
	case DNS_F_STR:
		return put_cstr(c, t, label);
	case DNS_F_SALT: {
		uint8_t tmp[255];
		if (t->len == 1 && t->s[0] == '-') {
			tdns_buf_u8(&c->b, 0); /* RFC 5155 §3.3: "-" is the empty salt */
			return TDNS_OK;
		}
		long n = hex_token(c, t, tmp, sizeof(tmp), label);
		if (n < 0) {
			return (int)n;
		}
		tdns_buf_u8(&c->b, (uint8_t)n);
		tdns_buf_bytes(&c->b, tmp, (size_t)n);
		return TDNS_OK;
	}
	case DNS_F_B32HEX: {
		uint8_t tmp[256];
		size_t n = 0;
		uint32_t acc = 0;
		int bits = 0;
		for (size_t k = 0; k < t->len; k++) {
			int d = tdns_digit_value(t->s[k], 32);
			if (d < 0) {
				return fail(c, TDNS_EBADRDATA, "bad base32hex in %s %s '%.*s', "
					    "expected 0-9 A-V", c->tname, label, TOK(t));
			}
			acc = (acc << 5) | (uint32_t)d;
			bits += 5;
			if (bits >= 8) {
				if (n == 255) {
					return fail(c, TDNS_EBADRDATA, "%s %s longer than 255 "
						    "octets", c->tname, label);
				}
				tmp[n++] = (uint8_t)(acc >> (bits - 8));
				bits -= 8;
			}
		}
		/* leftover bits must be padding zeros (RFC 4648 §6 canonical encoding) */
		if (n == 0 || bits >= 5 || (acc & ((1u << bits) - 1)) != 0) {
			return fail(c, TDNS_EBADRDATA, "bad base32hex length in %s %s '%.*s'",
				    c->tname, label, TOK(t));
		}
		tdns_buf_u8(&c->b, (uint8_t)n);
		tdns_buf_bytes(&c->b, tmp, n);
		return TDNS_OK;
	}
	case DNS_F_TAG: {
		/* RFC 8659 §4.1: tag is 1-15 (we allow up to 255) ASCII letters and digits */
		if (t->len == 0 || t->len > 255) {
			return fail(c, TDNS_EBADRDATA, "%s tag must be 1-255 letters or digits",
				    c->tname);
		}
		for (size_t k = 0; k < t->len; k++) {
			if (!is_alnum((uint8_t)t->s[k])) {
				return fail(c, TDNS_EBADRDATA,
					    "%s tag must be letters and digits only, got '%.*s'",
					    c->tname, TOK(t));
			}
		}
		tdns_buf_u8(&c->b, (uint8_t)t->len);
		tdns_buf_bytes(&c->b, t->s, t->len);
		return TDNS_OK;
	}
	case DNS_F_TEXT: {
		uint8_t *tmp = malloc(t->len + 1);
		if (tmp == NULL) {
			return TDNS_ENOMEM;
		}
		long n = cstr_decode(t->s, t->len, tmp, t->len + 1);
		if (n >= 0) {
			tdns_buf_bytes(&c->b, tmp, (size_t)n);
		}
		free(tmp);
		if (n < 0) {
			return fail(c, TDNS_EBADTEXT, "bad escape in %s %s '%.*s'", c->tname, label,
				    TOK(t));
		}
		return TDNS_OK;
	}
	default:
		return fail(c, TDNS_EBADRDATA, "%s: no text form", c->tname);
	}
}

/*
 * Digest lengths fixed by the digest type (DS RFC 4509/6605, SSHFP RFC 6594, TLSA RFC 6698
 * §2.1.3, ZONEMD RFC 8976 §2.2.3).  Other tools refuse a mismatch, so we do too.  Returns the
 * required length and sets *start (offset of the digest) and *dtype, or returns 0 when the
 * type or digest type leaves the length open.
 */
static size_t
digest_len(uint16_t type, const uint8_t *rd, size_t rdlen, size_t *start, uint8_t *dtype)
{
	static const struct {
		uint16_t type;
		uint8_t off;    /* offset of the digest type octet; the digest follows it */
		uint8_t dtype;
		uint8_t len;
	} tab[] = {
		{ DNS_TYPE_DS, 3, 1, 20 }, { DNS_TYPE_DS, 3, 2, 32 }, { DNS_TYPE_DS, 3, 4, 48 },
		{ DNS_TYPE_CDS, 3, 1, 20 }, { DNS_TYPE_CDS, 3, 2, 32 }, { DNS_TYPE_CDS, 3, 4, 48 },
		{ DNS_TYPE_SSHFP, 1, 1, 20 }, { DNS_TYPE_SSHFP, 1, 2, 32 },
		{ DNS_TYPE_TLSA, 2, 1, 32 }, { DNS_TYPE_TLSA, 2, 2, 64 },
		{ DNS_TYPE_SMIMEA, 2, 1, 32 }, { DNS_TYPE_SMIMEA, 2, 2, 64 },
		{ DNS_TYPE_ZONEMD, 5, 1, 48 }, { DNS_TYPE_ZONEMD, 5, 2, 64 },
	};
	for (size_t k = 0; k < sizeof(tab) / sizeof(tab[0]); k++) {
		if (tab[k].type == type && rdlen > tab[k].off && rd[tab[k].off] == tab[k].dtype) {
			*start = (size_t)tab[k].off + 1;
			*dtype = tab[k].dtype;
			return tab[k].len;
		}
	}
	return 0;
}

/* RFC 3597 §5: \# LEN HEX... */
static int
put_generic(struct pctx *c)
{
	c->i = 1;
	const struct dns_tok *t = next_tok(c);
	uint64_t len;
	if (t == NULL) {
		return fail(c, TDNS_EBADRDATA, "RFC 3597 rdata needs a length 0-65535 after \\#");
	}
	if (!parse_num(t->s, t->len, DNS_RDATA_MAX, &len)) {
		return fail(c, TDNS_EBADRDATA,
			    "RFC 3597 rdata length must be 0-65535, got '%.*s'", TOK(t));
	}
	size_t start = c->b.len;
	int r = put_hex_rest(c, "RFC 3597 data", 0);
	if (r != TDNS_OK) {
		return r;
	}
	if (c->b.err) {
		return TDNS_ESPACE;
	}
	if (c->b.len - start != len) {
		return fail(c, TDNS_EBADRDATA, "RFC 3597 length %llu does not match %zu octets of "
			    "data", (unsigned long long)len, c->b.len - start);
	}
	return TDNS_OK;
}

size_t
dns_rdata_tokenize(const char *s, struct dns_tok *toks, size_t max)
{
	size_t n = 0;
	while (*s != '\0' && n < max) {
		while (*s == ' ' || *s == '\t') {
			s++;
		}
		if (*s == '\0') {
			break;
		}
		const char *b;
		if (*s == '"') {
			b = ++s;
			while (*s != '\0' && *s != '"') {
				s += (*s == '\\' && s[1] != '\0') ? 2 : 1;
			}
			toks[n++] = (struct dns_tok){ .s = b, .len = (size_t)(s - b),
						      .quoted = true };
			if (*s == '"') {
				s++;
			}
			continue;
		}
		b = s;
		bool inq = false;
		while (*s != '\0' && (inq || (*s != ' ' && *s != '\t'))) {
			if (*s == '\\' && s[1] != '\0') {
				s += 2;
				continue;
			}
			if (*s == '"') {
				inq = !inq;
			}
			s++;
		}
		toks[n++] = (struct dns_tok){ .s = b, .len = (size_t)(s - b), .quoted = false };
	}
	return n;
}

int
dns_rdata_from_text(uint16_t type, const struct dns_tok *toks, size_t ntok,
		    const uint8_t *origin, uint8_t *out, size_t cap, size_t *outlen,
		    char *err, size_t errlen)
{
	char tbuf[16];
	struct pctx c = {
		.toks = toks, .ntok = ntok, .i = 0, .origin = origin,
		.tname = dns_type_to_text(type, tbuf), .err = err, .errlen = errlen,
	};
	const struct dns_rrtype *rt = dns_rrtype_find(type);
	int r;

	if (err != NULL && errlen > 0) {
		err[0] = '\0';
	}
	tdns_buf_init(&c.b, out, cap > DNS_RDATA_MAX ? DNS_RDATA_MAX : cap);
	if (rt != NULL && (rt->flags & DNS_RRF_META)) {
		return fail(&c, TDNS_EBADRDATA, "%s is a meta-type and has no rdata in zone data",
			    c.tname);
	}
	bool generic = ntok > 0 && !toks[0].quoted && toks[0].len == 2 &&
		       memcmp(toks[0].s, "\\#", 2) == 0;
	if (generic) {
		r = put_generic(&c);
		if (r == TDNS_OK && rt != NULL && dns_rdata_check(type, out, c.b.len) != TDNS_OK) {
			r = fail(&c, TDNS_EBADRDATA,
				 "RFC 3597 data is not valid %s rdata", c.tname);
		}
	} else if (rt == NULL) {
		return fail(&c, TDNS_EBADRDATA,
			    "unknown type %s needs RFC 3597 rdata (\\# LEN HEX)", c.tname);
	} else if (rt->flags & DNS_RRF_NOTEXT) {
		return fail(&c, TDNS_EBADRDATA, "%s rdata is accepted only in RFC 3597 form "
			    "(\\# LEN HEX)", c.tname);
	} else {
		r = TDNS_OK;
		for (const struct dns_field *f = rt->f; f->kind != DNS_F_END && r == TDNS_OK; f++) {
			r = put_field(&c, f);
		}
		if (r == TDNS_OK && c.i < ntok) {
			r = fail(&c, TDNS_EBADRDATA, "trailing data '%.*s' after %s rdata",
				 TOK(&toks[c.i]), c.tname);
		}
		size_t start = 0;
		uint8_t dtype = 0;
		size_t dl = r == TDNS_OK && !c.b.err ?
			    digest_len(type, out, c.b.len, &start, &dtype) : 0;
		if (dl != 0 && c.b.len - start != dl) {
			r = fail(&c, TDNS_EBADRDATA,
				 "%s digest of type %u must be %zu octets, got %zu", c.tname, dtype,
				 dl, c.b.len - start);
		}
	}
	if (r == TDNS_OK && c.b.err) {
		r = fail(&c, TDNS_ESPACE, "%s rdata longer than %zu octets", c.tname, c.b.cap);
	}
	if (r == TDNS_OK) {
		*outlen = c.b.len;
	}
	return r;
}

/* ------------------------------------------------------------------------------------------ */
/* Wire -> text, and wire checks (the same walk without output)                                */

/* One length-prefixed octet string from r (a <character-string>); NULL past the end. */
static const uint8_t *
rd_counted(struct tdns_rd *r, uint8_t *len)
{
	*len = tdns_rd_u8(r);
	return tdns_rd_bytes(r, *len);
}

/* One <character-string> from r, written as text; false past the end. */
static bool
o_rd_cstr(struct out *o, struct tdns_rd *r)
{
	uint8_t l;
	const uint8_t *s = rd_counted(r, &l);
	if (s == NULL) {
		return false;
	}
	o_item(o);
	o_cstr(o, s, l);
	return true;
}

static bool
wire_fields(const struct dns_rrtype *rt, const uint8_t *rd, size_t rdlen, struct out *o)
{
	struct tdns_rd r;
	tdns_rd_init(&r, rd, rdlen);
	for (const struct dns_field *f = rt->f; f->kind != DNS_F_END; f++) {
		size_t left = tdns_rd_left(&r);
		const uint8_t *p = r.p + r.pos;
		const struct rest_kind *rk = rest_kind(f->kind);
		if (rk != NULL) {
			if (!rk->wire(p, left, o)) {
				return false;
			}
			tdns_rd_bytes(&r, left);
			continue;
		}
		switch (f->kind) {
		case DNS_F_U8:
		case DNS_F_ALG:
		case DNS_F_WKSPROTO: {
			uint8_t v = tdns_rd_u8(&r);
			o_item(o);
			o_fmt(o, "%u", v);
			break;
		}
		case DNS_F_U16: {
			uint16_t v = tdns_rd_u16(&r);
			o_item(o);
			o_fmt(o, "%u", v);
			break;
		}
		case DNS_F_U32:
		case DNS_F_TTL: {
			uint32_t v = tdns_rd_u32(&r);
			o_item(o);
			o_fmt(o, "%lu", (unsigned long)v);
			break;
		}
		case DNS_F_TIME: {
			uint32_t v = tdns_rd_u32(&r);
			o_item(o);
			o_time(o, v);
			break;
		}
		case DNS_F_TYPE: {
			uint16_t v = tdns_rd_u16(&r);
			o_item(o);
			o_type(o, v);
			break;
		}
		case DNS_F_NAME: {
			int n = dns_name_check(p, left);
			if (n < 0) {
				return false;
			}
			if (!o->dry) {
				char txt[DNS_NAME_TEXT_MAX];
				dns_name_to_text(p, txt, sizeof(txt));
				o_item(o);
				o_str(o, txt);
			}
			tdns_rd_bytes(&r, (size_t)n);
			break;
		}
		case DNS_F_A:
		case DNS_F_AAAA: {
			bool v4 = f->kind == DNS_F_A;
			const uint8_t *a = tdns_rd_bytes(&r, v4 ? 4 : 16);
			if (a == NULL) {
				return false;
			}
			char txt[INET6_ADDRSTRLEN];
			inet_ntop(v4 ? AF_INET : AF_INET6, a, txt, sizeof(txt));
			o_item(o);
			o_str(o, txt);
			break;
		}
		case DNS_F_STR:
			if (!o_rd_cstr(o, &r)) {
				return false;
			}
			break;
		case DNS_F_STRS:
			if (left == 0) {
				return false; /* RFC 1035 §3.3.14: one or more strings */
			}
			while (tdns_rd_left(&r) > 0) {
				if (!o_rd_cstr(o, &r)) {
					return false;
				}
			}
			break;
		case DNS_F_HEX:
		case DNS_F_B64:
			if (left < f->min) {
				return false;
			}
			if (left > 0) {
				o_item(o);
				if (f->kind == DNS_F_HEX) {
					o_hex(o, p, left);
				} else {
					o_b64(o, p, left);
				}
			}
			tdns_rd_bytes(&r, left);
			break;
		case DNS_F_SALT: {
			uint8_t l;
			const uint8_t *s = rd_counted(&r, &l);
			if (s == NULL) {
				return false;
			}
			o_item(o);
			if (l == 0) {
				o_putc(o, '-');
			} else {
				o_hex(o, s, l);
			}
			break;
		}
		case DNS_F_B32HEX: {
			uint8_t l;
			const uint8_t *s = rd_counted(&r, &l);
			if (s == NULL || l == 0) {
				return false;
			}
			o_item(o);
			o_b32hex(o, s, l);
			break;
		}
		case DNS_F_TAG: {
			uint8_t l;
			const uint8_t *s = rd_counted(&r, &l);
			if (s == NULL || l == 0) {
				return false;
			}
			for (size_t k = 0; k < l; k++) {
				if (!is_alnum(s[k])) {
					return false;
				}
			}
			o_item(o);
			o_mem(o, (const char *)s, l);
			break;
		}
		case DNS_F_TEXT:
			o_item(o);
			o_cstr(o, p, left);
			tdns_rd_bytes(&r, left);
			break;
		case DNS_F_CERTTYPE:
		case DNS_F_SCHEME: {
			unsigned v = f->kind == DNS_F_SCHEME ? tdns_rd_u8(&r) : tdns_rd_u16(&r);
			o_item(o);
			if (f->kind == DNS_F_SCHEME && v == 1) {
				o_str(o, "NOTIFY");
			} else {
				o_fmt(o, "%u", v);
			}
			break;
		}
		case DNS_F_EUI48:
		case DNS_F_EUI64: {
			size_t n = f->kind == DNS_F_EUI48 ? 6 : 8;
			const uint8_t *a = tdns_rd_bytes(&r, n);
			if (a == NULL) {
				return false;
			}
			o_item(o);
			for (size_t k = 0; k < n; k++) {
				o_fmt(o, k > 0 ? "-%02x" : "%02x", a[k]);
			}
			break;
		}
		case DNS_F_ILNP64: {
			const uint8_t *a = tdns_rd_bytes(&r, 8);
			if (a == NULL) {
				return false;
			}
			o_item(o);
			o_fmt(o, "%04x:%04x:%04x:%04x", tdns_get16(a), tdns_get16(a + 2),
			      tdns_get16(a + 4), tdns_get16(a + 6));
			break;
		}
		case DNS_F_GATEWAY:
		case DNS_F_RELAY: {
			unsigned mask = f->kind == DNS_F_RELAY ? 0x7f : 0xff;
			size_t gl = gateway_len(rd, rdlen, r.pos, mask);
			if (gl == 0) {
				return false;
			}
			o_gateway(o, rd, r.pos, gl, mask);
			if (gl != SIZE_MAX) {
				tdns_rd_bytes(&r, gl);
			}
			break;
		}
		case DNS_F_STROPT:
			if (left > 0 && !o_rd_cstr(o, &r)) {
				return false;
			}
			break;
		case DNS_F_B64DASH:
			o_item(o);
			if (left == 0) {
				o_putc(o, '-');
			} else {
				o_b64(o, p, left);
			}
			tdns_rd_bytes(&r, left);
			break;
		case DNS_F_AMTTYPE: {
			uint8_t v = tdns_rd_u8(&r);
			o_item(o);
			o_fmt(o, "%u %u", v >> 7, v & 0x7f);
			break;
		}
		default:
			return false;
		}
		if (r.err) {
			return false;
		}
	}
	return !r.err && r.pos == rdlen;
}

int
dns_rdata_check(uint16_t type, const uint8_t *rd, size_t rdlen)
{
	const struct dns_rrtype *rt = dns_rrtype_find(type);
	if (rdlen > DNS_RDATA_MAX) {
		return TDNS_EBADRDATA;
	}
	if (rt == NULL || (rt->flags & DNS_RRF_META)) {
		return TDNS_OK; /* RFC 3597: opaque */
	}
	struct out dry = { .dry = true };
	if (!wire_fields(rt, rd, rdlen, &dry)) {
		return TDNS_EBADRDATA;
	}
	size_t start;
	uint8_t dtype;
	size_t dl = digest_len(type, rd, rdlen, &start, &dtype);
	if (dl != 0 && rdlen - start != dl) {
		return TDNS_EBADRDATA;
	}
	return TDNS_OK;
}

static void
o_generic(struct out *o, const uint8_t *rd, size_t rdlen)
{
	o_fmt(o, "\\# %zu", rdlen);
	if (rdlen > 0) {
		o_putc(o, ' ');
		o_hex(o, rd, rdlen);
	}
}

int
dns_rdata_to_text(uint16_t type, const uint8_t *rd, size_t rdlen, char *out, size_t cap)
{
	struct out o = { .p = out, .cap = cap };
	const struct dns_rrtype *rt = dns_rrtype_find(type);
	if (cap == 0) {
		return TDNS_ESPACE;
	}
	out[0] = '\0';
	if (rt != NULL && !(rt->flags & (DNS_RRF_META | DNS_RRF_WIREONLY))) {
		if (wire_fields(rt, rd, rdlen, &o)) {
			return o.space ? TDNS_ESPACE : (int)o.len;
		}
		if (o.space && dns_rdata_check(type, rd, rdlen) == TDNS_OK) {
			return TDNS_ESPACE;
		}
		/* Malformed for its type: show it as it is (RFC 3597 §5). */
		o.len = 0;
		o.space = false;
		out[0] = '\0';
	}
	o_generic(&o, rd, rdlen);
	return o.space ? TDNS_ESPACE : (int)o.len;
}

/* ------------------------------------------------------------------------------------------ */
/* Unpack from a message, target, canonical order                                              */

/* Fixed wire size of a field kind, 0 for names, SIZE_MAX for "the rest". */
static size_t
field_size(uint8_t kind)
{
	switch (kind) {
	case DNS_F_U8:
	case DNS_F_ALG:
		return 1;
	case DNS_F_U16:
	case DNS_F_TYPE:
		return 2;
	case DNS_F_U32:
	case DNS_F_TTL:
	case DNS_F_TIME:
	case DNS_F_A:
		return 4;
	case DNS_F_AAAA:
		return 16;
	case DNS_F_NAME:
		return 0;
	case DNS_F_STR:
	case DNS_F_SALT:
	case DNS_F_B32HEX:
	case DNS_F_TAG:
		return 1; /* plus the length in that octet; handled by the caller */
	default:
		return SIZE_MAX;
	}
}

static bool
has_length_octet(uint8_t kind)
{
	return kind == DNS_F_STR || kind == DNS_F_SALT || kind == DNS_F_B32HEX ||
	       kind == DNS_F_TAG;
}

int
dns_rdata_unpack(uint16_t type, const uint8_t *pkt, size_t pktlen, size_t pos,
		 size_t rdlen, uint8_t *out, size_t cap, size_t *outlen)
{
	if (pos > pktlen || rdlen > pktlen - pos) {
		return TDNS_ETRUNC;
	}
	const struct dns_rrtype *rt = dns_rrtype_find(type);
	size_t end = pos + rdlen;
	struct tdns_buf b;
	tdns_buf_init(&b, out, cap);

	if (rt == NULL || !(rt->flags & DNS_RRF_DECOMPRESS)) {
		tdns_buf_bytes(&b, pkt + pos, rdlen);
	} else {
		/* RFC 3597 §4: these types may carry compressed names; store them expanded. */
		size_t p = pos;
		for (const struct dns_field *f = rt->f; f->kind != DNS_F_END; f++) {
			if (f->kind == DNS_F_NAME) {
				uint8_t name[DNS_NAME_MAX];
				int n = dns_name_unpack(pkt, end, &p, name);
				if (n < 0) {
					return n == TDNS_ETRUNC ? TDNS_EBADRDATA : n;
				}
				tdns_buf_bytes(&b, name, (size_t)n);
				continue;
			}
			size_t sz = field_size(f->kind);
			if (sz == SIZE_MAX) {
				sz = end - p;
			} else if (has_length_octet(f->kind)) {
				if (p >= end) {
					return TDNS_EBADRDATA;
				}
				sz = 1 + (size_t)pkt[p];
			}
			if (sz > end - p) {
				return TDNS_EBADRDATA;
			}
			tdns_buf_bytes(&b, pkt + p, sz);
			p += sz;
		}
		if (p != end) {
			return TDNS_EBADRDATA;
		}
	}
	if (b.err) {
		return TDNS_ESPACE;
	}
	if (b.len > DNS_RDATA_MAX) {
		return TDNS_EBADRDATA;
	}
	int r = dns_rdata_check(type, out, b.len);
	if (r != TDNS_OK) {
		return r;
	}
	*outlen = b.len;
	return TDNS_OK;
}

const uint8_t *
dns_rdata_target(uint16_t type, const uint8_t *rd, size_t rdlen)
{
	size_t off;
	switch (type) {
	case DNS_TYPE_NS:
		off = 0;
		break;
	case DNS_TYPE_MX:
		off = 2;
		break;
	case DNS_TYPE_SRV:
		off = 6;
		break;
	case DNS_TYPE_SVCB:
	case DNS_TYPE_HTTPS:
		off = 2; /* RFC 9460 §2.2: SvcPriority, then TargetName */
		break;
	default:
		return NULL;
	}
	if (rdlen <= off || dns_name_check(rd + off, rdlen - off) < 0) {
		return NULL;
	}
	return rd + off;
}

/* Ranges [start, end) of the names in rdata of a type whose names are lower-cased. */
static size_t
name_ranges(const struct dns_rrtype *rt, const uint8_t *rd, size_t rdlen, size_t rg[][2],
	    size_t max)
{
	size_t p = 0, n = 0;
	for (const struct dns_field *f = rt->f; f->kind != DNS_F_END && p <= rdlen; f++) {
		if (f->kind == DNS_F_NAME) {
			int l = dns_name_check(rd + p, rdlen - p);
			if (l < 0) {
				break;
			}
			if (n < max) {
				rg[n][0] = p;
				rg[n][1] = p + (size_t)l;
				n++;
			}
			p += (size_t)l;
			continue;
		}
		size_t sz = field_size(f->kind);
		if (sz == SIZE_MAX) {
			break;
		}
		if (has_length_octet(f->kind)) {
			if (p >= rdlen) {
				break;
			}
			sz = 1 + (size_t)rd[p];
		}
		p += sz;
	}
	return n;
}

static uint8_t
canon_byte(const uint8_t *rd, size_t i, size_t rg[][2], size_t n)
{
	uint8_t c = rd[i];
	for (size_t k = 0; k < n; k++) {
		if (i >= rg[k][0] && i < rg[k][1]) {
			return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
		}
	}
	return c;
}

int
dns_rdata_cmp(uint16_t type, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	const struct dns_rrtype *rt = dns_rrtype_find(type);
	size_t m = alen < blen ? alen : blen;
	if (rt == NULL || !(rt->flags & DNS_RRF_CANON)) {
		int d = m ? memcmp(a, b, m) : 0;
		if (d != 0) {
			return d;
		}
	} else {
		/* RFC 4034 §6.2 (3): names in these types compare in lower case. */
		size_t ra[4][2], rb[4][2];
		size_t na = name_ranges(rt, a, alen, ra, 4);
		size_t nb = name_ranges(rt, b, blen, rb, 4);
		for (size_t i = 0; i < m; i++) {
			int d = (int)canon_byte(a, i, ra, na) - (int)canon_byte(b, i, rb, nb);
			if (d != 0) {
				return d;
			}
		}
	}
	/* RFC 4034 §6.3: a shorter rdata that is a prefix sorts first. */
	return alen < blen ? -1 : alen > blen ? 1 : 0;
}

void
dns_rdata_canonical(uint16_t type, uint8_t *rd, size_t rdlen)
{
	const struct dns_rrtype *rt = dns_rrtype_find(type);
	if (rt == NULL || !(rt->flags & DNS_RRF_CANON)) {
		return;
	}
	size_t rg[4][2];
	size_t n = name_ranges(rt, rd, rdlen, rg, 4);
	for (size_t k = 0; k < n; k++) {
		for (size_t i = rg[k][0]; i < rg[k][1]; i++) {
			rd[i] = canon_byte(rd, i, rg + k, 1);
		}
	}
}

int
dns_rr_to_text(const uint8_t *owner, uint16_t type, uint16_t rclass, uint32_t ttl,
	       const uint8_t *rd, size_t rdlen, char *out, size_t cap)
{
	char name[DNS_NAME_TEXT_MAX], cbuf[16];
	if (dns_name_to_text(owner, name, sizeof(name)) < 0) {
		return TDNS_ESPACE;
	}
	struct out o = { .p = out, .cap = cap };
	if (cap == 0) {
		return TDNS_ESPACE;
	}
	out[0] = '\0';
	o_str(&o, name);
	o_fmt(&o, "\t%lu\t%s\t", (unsigned long)ttl, dns_class_to_text(rclass, cbuf));
	o_type(&o, type);
	o_putc(&o, '\t');
	if (o.space) {
		return TDNS_ESPACE;
	}
	int n = dns_rdata_to_text(type, rd, rdlen, out + o.len, cap - o.len);
	if (n < 0) {
		return n;
	}
	return (int)(o.len + (size_t)n);
}
