/* SPDX-License-Identifier: MIT */
/* Helpers shared by the cmocka unit tests: names and hex dumps turned into wire bytes. */
#ifndef TDNS_TESTS_UNIT_H
#define TDNS_TESTS_UNIT_H

/* Include after <cmocka.h> and "dns/dns.h" (or an umbrella header that includes it). */
#include <stdio.h>
#include <string.h>

/*
 * The wire form of a name in presentation format (absolute, or relative to the root); fails the
 * test if it does not parse.  Returns one of eight rotating static buffers, so that one call
 * can use several names; the buffer is overwritten eight calls later.
 */
static inline const uint8_t *
unit_name(const char *text)
{
	static uint8_t bufs[8][DNS_NAME_MAX];
	static unsigned next;
	uint8_t *out = bufs[next++ % 8];
	assert_true(dns_name_from_text(text, strlen(text), NULL, out) > 0);
	return out;
}

/* Decodes the hex dump h (pairs of digits, no separators) into out; returns the byte count. */
static inline size_t
unit_unhex(const char *h, uint8_t *out)
{
	size_t n = 0;
	for (; h[0] != '\0' && h[1] != '\0'; h += 2) {
		unsigned v;
		sscanf(h, "%2x", &v);
		out[n++] = (uint8_t)v;
	}
	return n;
}

/* An input that must be refused (in), and words that the error message must hold (why). */
struct unit_refusal {
	const char *in;
	const char *why;
};

/* Fails the test unless the error message err, given for the input in, holds why. */
static inline void
unit_says(const char *in, const char *err, const char *why)
{
	if (strstr(err, why) == NULL) {
		fail_msg("%s: '%s' does not say '%s'", in, err, why);
	}
}

#endif
