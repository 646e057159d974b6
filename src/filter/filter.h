/* SPDX-License-Identifier: MIT */
/* filter: address access lists (and, in later work, block and allow lists of names). */
#ifndef TDNS_FILTER_H
#define TDNS_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* ------------------------------------------------------------------------------------------ */
/* Address ACLs (acl.c): lists of CIDR prefixes, e.g. [recursion] allow.                        */

/* One prefix: family AF_INET (4 address octets used) or AF_INET6 (16). */
struct filter_cidr {
	int family;
	uint8_t prefix;           /* 0..32 or 0..128 */
	uint8_t addr[16];         /* network byte order, bits past the prefix zeroed */
};

/* A list of prefixes; zero-initialised it is empty and matches nothing. */
struct filter_acl {
	struct filter_cidr *cidrs; /* owned; free with filter_acl_clear */
	size_t n;
};

/*
 * Parses one prefix: "ADDR" (a host: /32 or /128) or "ADDR/LEN", IPv4 dotted quad or IPv6
 * text.  Host bits past the prefix are cleared ("10.1.2.3/8" is 10.0.0.0/8).  TDNS_OK or
 * TDNS_EINVAL with "what was wrong; expected what" in err.
 */
int filter_cidr_parse(const char *text, struct filter_cidr *out, char *err, size_t errlen);

/*
 * Parses a comma-separated list of prefixes (blanks around items ignored; an empty string
 * or "none" gives an empty list) into acl, replacing its contents only on success.  TDNS_OK,
 * or TDNS_EINVAL with the offending item named in err.
 */
int filter_acl_parse(const char *text, struct filter_acl *acl, char *err, size_t errlen);

/*
 * Config check of a CIDR list key (what: "allow", "bypass"): TDNS_OK, or TDNS_ECONFIG with
 * "invalid WHAT list: why" in err.
 */
int filter_acl_check(const char *value, const char *what, char *err, size_t errlen);

/* Frees the prefixes of acl and empties it; accepts an empty acl. */
void filter_acl_clear(struct filter_acl *acl);

/* True when the address of addr (AF_INET or AF_INET6; port ignored) is in a prefix of acl.
 * IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) match IPv4 prefixes too. */
bool filter_acl_match(const struct filter_acl *acl, const struct sockaddr *addr);

/*
 * The length of the longest prefix of acl that addr is in (an IPv4 prefix matched by an
 * IPv4-mapped IPv6 address counts 96 more), or -1 when none: "the most specific" of several
 * lists is the one with the longest match.
 */
int filter_acl_match_len(const struct filter_acl *acl, const struct sockaddr *addr);

/* The same for a raw address of family (AF_INET: 4 octets, AF_INET6: 16 octets). */
bool filter_acl_match_addr(const struct filter_acl *acl, int family, const uint8_t *addr);

#endif
