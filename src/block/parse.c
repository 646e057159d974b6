/* SPDX-License-Identifier: MIT */
/* block parse: one line of a hosts file, a plain domain list or Adblock Plus rules. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "block/block.h"

/* Names of hosts-file boilerplate that public lists carry and nobody means to block. */
#define WORD(s) { s, sizeof(s) - 1 }
static const struct {
	const char *name;
	size_t len;
} boilerplate[] = {
	WORD("localhost"), WORD("localhost.localdomain"), WORD("local"), WORD("broadcasthost"),
	WORD("ip6-localhost"), WORD("ip6-loopback"), WORD("ip6-localnet"),
	WORD("ip6-mcastprefix"), WORD("ip6-allnodes"), WORD("ip6-allrouters"),
	WORD("ip6-allhosts"), WORD("0.0.0.0"),
};

/* Names of one hosts line handled in one pass; longer lines are parsed twice. */
#define LINE_NAMES 16

/*
 * The octet a name character stands for in a label (lower case), or 0 when it may not appear
 * in a host name: letters, digits, '-' and '_' (service labels such as _dmarc).
 */
static const uint8_t label_char[256] = {
	['-'] = '-', ['_'] = '_',
	['0'] = '0', ['1'] = '1', ['2'] = '2', ['3'] = '3', ['4'] = '4',
	['5'] = '5', ['6'] = '6', ['7'] = '7', ['8'] = '8', ['9'] = '9',
	['a'] = 'a', ['b'] = 'b', ['c'] = 'c', ['d'] = 'd', ['e'] = 'e', ['f'] = 'f',
	['g'] = 'g', ['h'] = 'h', ['i'] = 'i', ['j'] = 'j', ['k'] = 'k', ['l'] = 'l',
	['m'] = 'm', ['n'] = 'n', ['o'] = 'o', ['p'] = 'p', ['q'] = 'q', ['r'] = 'r',
	['s'] = 's', ['t'] = 't', ['u'] = 'u', ['v'] = 'v', ['w'] = 'w', ['x'] = 'x',
	['y'] = 'y', ['z'] = 'z',
	['A'] = 'a', ['B'] = 'b', ['C'] = 'c', ['D'] = 'd', ['E'] = 'e', ['F'] = 'f',
	['G'] = 'g', ['H'] = 'h', ['I'] = 'i', ['J'] = 'j', ['K'] = 'k', ['L'] = 'l',
	['M'] = 'm', ['N'] = 'n', ['O'] = 'o', ['P'] = 'p', ['Q'] = 'q', ['R'] = 'r',
	['S'] = 's', ['T'] = 't', ['U'] = 'u', ['V'] = 'v', ['W'] = 'w', ['X'] = 'x',
	['Y'] = 'y', ['Z'] = 'z',
};

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/*
 * Converts the host name s[0..len) (letters, digits, '-', '_'; an optional trailing dot) to
 * lower-case wire form in out (DNS_NAME_MAX).  Returns the wire length, or -1 with why.
 */
static int
name_to_wire(const char *s, size_t len, uint8_t *out, char *why, size_t whylen)
{
	if (len > 0 && s[len - 1] == '.') {
		len--;
	}
	if (len == 0) {
		snprintf(why, whylen, "empty name");
		return -1;
	}
	if (len > DNS_NAME_MAX - 2) {
		snprintf(why, whylen, "name longer than 255 octets");
		return -1;
	}
	/* out[0] is the first length octet; label characters follow their length octet. */
	size_t lab = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			if (i - lab == 0) {
				snprintf(why, whylen, "empty label");
				return -1;
			}
			if (i - lab > 63) {
				snprintf(why, whylen, "label longer than 63 characters");
				return -1;
			}
			out[lab] = (uint8_t)(i - lab);
			lab = i + 1;
			continue;
		}
		uint8_t o = label_char[c];
		if (o == 0) {
			snprintf(why, whylen, "character '%c' not allowed in a name",
				 c >= 0x20 && c < 0x7f ? c : '?');
			return -1;
		}
		out[i + 1] = o;
	}
	if (len - lab == 0 || len - lab > 63) {
		snprintf(why, whylen, len - lab == 0 ? "empty label" : "label longer than 63 "
			 "characters");
		return -1;
	}
	out[lab] = (uint8_t)(len - lab);
	out[len + 1] = 0;
	return (int)len + 2;
}

int
block_parse_name(const char *s, size_t len, uint8_t *out, char *why, size_t whylen)
{
	return name_to_wire(s, len, out, why, whylen);
}

static bool
is_boilerplate(const char *s, size_t len)
{
	for (size_t i = 0; i < sizeof(boilerplate) / sizeof(boilerplate[0]); i++) {
		if (boilerplate[i].len == len && strncasecmp(boilerplate[i].name, s, len) == 0) {
			return true;
		}
	}
	return false;
}

static bool
is_address(const char *s, size_t len)
{
	char buf[INET6_ADDRSTRLEN + 8];
	uint8_t a[16];
	/* The two addresses nearly every list uses, without a copy. */
	if ((len == 7 && memcmp(s, "0.0.0.0", 7) == 0) || (len == 9 && memcmp(s, "127.0.0.1", 9) == 0)) {
		return true;
	}
	if (len >= sizeof(buf)) {
		return false;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	/* "fe80::1%lo0" in some hosts files: the zone index does not matter here. */
	char *pct = strchr(buf, '%');
	if (pct != NULL) {
		*pct = '\0';
	}
	return inet_pton(AF_INET, buf, a) == 1 || inet_pton(AF_INET6, buf, a) == 1;
}

/* "||name^" or "@@||name^" (s past the "||"); nothing may follow the '^'. */
static int
parse_abp(const char *s, size_t len, bool allow, block_name_fn fn, void *arg, char *why,
	  size_t whylen)
{
	const char *caret = memchr(s, '^', len);
	if (caret == NULL) {
		snprintf(why, whylen, "Adblock rule without '^' after the name");
		return -1;
	}
	if ((size_t)(caret - s) + 1 != len) {
		snprintf(why, whylen, "Adblock rule with options or a path after '^' (only "
			 "||name^ and @@||name^ are understood)");
		return -1;
	}
	uint8_t wire[DNS_NAME_MAX];
	int n = name_to_wire(s, (size_t)(caret - s), wire, why, whylen);
	if (n < 0) {
		return -1;
	}
	fn(arg, wire, (size_t)n, allow);
	return 1;
}

int
block_parse_line(const char *line, size_t len, block_name_fn fn, void *arg, char *why,
		 size_t whylen)
{
	/* A comment runs from '#' to the end (hosts files and domain lists). */
	const char *hash = memchr(line, '#', len);
	if (hash != NULL) {
		len = (size_t)(hash - line);
	}
	while (len > 0 && is_blank(*line)) {
		line++;
		len--;
	}
	while (len > 0 && is_blank(line[len - 1])) {
		len--;
	}
	if (len == 0 || line[0] == '!' || line[0] == '[') {
		/* Blank, an Adblock comment or header ("[Adblock Plus 2.0]"). */
		return 0;
	}
	if (len >= 4 && memcmp(line, "@@||", 4) == 0) {
		return parse_abp(line + 4, len - 4, true, fn, arg, why, whylen);
	}
	if (len >= 2 && memcmp(line, "||", 2) == 0) {
		return parse_abp(line + 2, len - 2, false, fn, arg, why, whylen);
	}
	/* Split into blank-separated words. */
	size_t wlen = 0;
	while (wlen < len && !is_blank(line[wlen])) {
		wlen++;
	}
	uint8_t wire[DNS_NAME_MAX];
	if (wlen == len) {
		/* A plain domain list: one name. */
		int n = name_to_wire(line, len, wire, why, whylen);
		if (n < 0) {
			return -1;
		}
		fn(arg, wire, (size_t)n, false);
		return 1;
	}
	if (!is_address(line, wlen)) {
		snprintf(why, whylen, "several words and the first is no IP address (expected "
			 "\"ADDRESS NAME...\", a name, or ||name^)");
		return -1;
	}
	/*
	 * RFC 952 hosts line: the address, then one or more names.  All are checked before any
	 * is given: up to LINE_NAMES kept from the checking pass, more parsed again.
	 */
	uint8_t names[LINE_NAMES][DNS_NAME_MAX];
	int lens[LINE_NAMES];
	int count = 0;
	for (int pass = 0; pass < 2; pass++) {
		size_t i = wlen;
		while (i < len) {
			while (i < len && is_blank(line[i])) {
				i++;
			}
			size_t start = i;
			while (i < len && !is_blank(line[i])) {
				i++;
			}
			if (i == start || is_boilerplate(line + start, i - start)) {
				continue;
			}
			bool keep = pass == 0 && count < LINE_NAMES;
			int n = name_to_wire(line + start, i - start, keep ? names[count] : wire,
					     why, whylen);
			if (n < 0) {
				return -1;
			}
			if (keep) {
				lens[count] = n;
			}
			if (pass == 1) {
				fn(arg, wire, (size_t)n, false);
			} else {
				count++;
			}
		}
		if (count <= LINE_NAMES) {
			for (int k = 0; k < count; k++) {
				fn(arg, names[k], (size_t)lens[k], false);
			}
			break;
		}
	}
	return count;
}
