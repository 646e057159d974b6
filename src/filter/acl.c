/* SPDX-License-Identifier: MIT */
/* Address ACLs: CIDR prefix lists parsed from the configuration and matched per query. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg/cfg.h"
#include "core/core.h"
#include "filter/filter.h"

#define CIDR_EXPECT "expected ADDR or ADDR/LEN (IPv4 /0..32, IPv6 /0..128)"

static void
clear_host_bits(struct filter_cidr *c)
{
	size_t total = c->family == AF_INET ? 4 : 16;
	for (size_t i = 0; i < total; i++) {
		unsigned bits = i * 8 >= c->prefix ? 0 : c->prefix - i * 8;
		if (bits >= 8) {
			continue;
		}
		c->addr[i] &= (uint8_t)(0xff00u >> bits);
	}
}

int
filter_cidr_parse(const char *text, struct filter_cidr *out, char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(text, '/');
	size_t hlen = slash != NULL ? (size_t)(slash - text) : strlen(text);
	if (hlen == 0 || hlen >= sizeof(host)) {
		snprintf(err, errlen, "invalid address '%s'; %s", text, CIDR_EXPECT);
		return TDNS_EINVAL;
	}
	memcpy(host, text, hlen);
	host[hlen] = '\0';
	memset(out, 0, sizeof(*out));
	unsigned max;
	/* inet_pton, unlike inet_aton, refuses shorthands such as "10.1". */
	if (inet_pton(AF_INET, host, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, host, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else {
		snprintf(err, errlen, "invalid address '%s'; %s", text, CIDR_EXPECT);
		return TDNS_EINVAL;
	}
	unsigned len = max;
	if (slash != NULL) {
		const char *p = slash + 1;
		if (*p == '\0' || strlen(p) > 3) {
			snprintf(err, errlen, "invalid prefix length in '%s'; %s", text, CIDR_EXPECT);
			return TDNS_EINVAL;
		}
		len = 0;
		for (; *p != '\0'; p++) {
			if (*p < '0' || *p > '9') {
				snprintf(err, errlen, "invalid prefix length in '%s'; %s", text,
					 CIDR_EXPECT);
				return TDNS_EINVAL;
			}
			len = len * 10 + (unsigned)(*p - '0');
		}
		if (len > max) {
			snprintf(err, errlen, "prefix length %u too long in '%s'; %s", len, text,
				 CIDR_EXPECT);
			return TDNS_EINVAL;
		}
	}
	out->prefix = (uint8_t)len;
	clear_host_bits(out);
	return TDNS_OK;
}

int
filter_acl_check(const char *value, const char *what, char *err, size_t errlen)
{
	struct filter_acl acl = { NULL, 0 };
	char msg[256];
	if (filter_acl_parse(value, &acl, msg, sizeof(msg)) != TDNS_OK) {
		snprintf(err, errlen, "invalid %s list: %s", what, msg);
		return TDNS_ECONFIG;
	}
	filter_acl_clear(&acl);
	return TDNS_OK;
}

int
filter_acl_parse(const char *text, struct filter_acl *acl, char *err, size_t errlen)
{
	struct filter_acl n = { NULL, 0 };
	char *copy = tdns_xstrdup(text);
	int rc = TDNS_OK;
	bool more = true;
	for (char *rest = copy; more;) {
		char *p = cfg_list_next(&rest, &more);
		if (*p == '\0' || strcmp(p, "none") == 0) {
			if (more || n.n > 0) {
				snprintf(err, errlen, "empty item in the address list; %s, "
					 "separated by commas", CIDR_EXPECT);
				rc = TDNS_EINVAL;
				goto out;
			}
		} else {
			n.cidrs = tdns_xrealloc(n.cidrs, (n.n + 1) * sizeof(*n.cidrs));
			rc = filter_cidr_parse(p, &n.cidrs[n.n], err, errlen);
			if (rc != TDNS_OK) {
				goto out;
			}
			n.n++;
		}
	}
	filter_acl_clear(acl);
	*acl = n;
	n.cidrs = NULL;
out:
	free(n.cidrs);
	free(copy);
	return rc;
}

void
filter_acl_clear(struct filter_acl *acl)
{
	free(acl->cidrs);
	acl->cidrs = NULL;
	acl->n = 0;
}

static bool
prefix_match(const struct filter_cidr *c, const uint8_t *addr)
{
	unsigned full = c->prefix / 8u;
	unsigned rest = c->prefix % 8u;
	if (memcmp(c->addr, addr, full) != 0) {
		return false;
	}
	if (rest == 0) {
		return true;
	}
	uint8_t mask = (uint8_t)(0xff00u >> rest);
	return (addr[full] & mask) == c->addr[full];
}

/* The longest prefix of acl that addr is in, -1 for none; the first one found when !longest. */
static int
match_prefix(const struct filter_acl *acl, int family, const uint8_t *addr, bool longest)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	const uint8_t *v4 = NULL;
	if (family == AF_INET) {
		v4 = addr;
	} else if (memcmp(addr, mapped, sizeof(mapped)) == 0) {
		/* RFC 4291 §2.5.5.2: a v4 client seen through a dual-stack socket. */
		v4 = addr + 12;
	}
	int best = -1;
	for (size_t i = 0; i < acl->n; i++) {
		const struct filter_cidr *c = &acl->cidrs[i];
		if ((c->family == AF_INET && v4 != NULL && prefix_match(c, v4)) ||
		    (c->family == AF_INET6 && family == AF_INET6 && prefix_match(c, addr))) {
			/* An IPv4 prefix of a mapped address counts as its IPv6 length. */
			int len = c->family == AF_INET && family == AF_INET6 ? c->prefix + 96
									     : c->prefix;
			best = len > best ? len : best;
			if (!longest) {
				break;
			}
		}
	}
	return best;
}

bool
filter_acl_match_addr(const struct filter_acl *acl, int family, const uint8_t *addr)
{
	return match_prefix(acl, family, addr, false) >= 0;
}

/* addr's family and address octets; false for other families. */
static bool
sockaddr_octets(const struct sockaddr *addr, int *family, const uint8_t **octets)
{
	if (addr->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)addr;
		*family = AF_INET;
		*octets = (const uint8_t *)&sin->sin_addr;
		return true;
	}
	if (addr->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)addr;
		*family = AF_INET6;
		*octets = s6->sin6_addr.s6_addr;
		return true;
	}
	return false;
}

bool
filter_acl_match(const struct filter_acl *acl, const struct sockaddr *addr)
{
	int family;
	const uint8_t *octets;
	return sockaddr_octets(addr, &family, &octets) &&
	       match_prefix(acl, family, octets, false) >= 0;
}

int
filter_acl_match_len(const struct filter_acl *acl, const struct sockaddr *addr)
{
	int family;
	const uint8_t *octets;
	return sockaddr_octets(addr, &family, &octets) ? match_prefix(acl, family, octets, true)
						       : -1;
}
