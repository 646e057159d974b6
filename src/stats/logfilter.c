/* SPDX-License-Identifier: MIT */
/* The query-log filter of `log show`, `log follow` and tdns-tui's logs screen (in libtdns). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "dns/dns.h"
#include "stats/stats.h"

/* "ADDR" or "ADDR/LEN" into f's client prefix; false when it is neither. */
static bool
parse_client(struct stats_log_filter *f, const char *text)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(text, '/');
	size_t alen = slash != NULL ? (size_t)(slash - text) : strlen(text);
	if (alen == 0 || alen >= sizeof(addr)) {
		return false;
	}
	memcpy(addr, text, alen);
	addr[alen] = '\0';
	int family = strchr(addr, ':') != NULL ? AF_INET6 : AF_INET;
	unsigned max = family == AF_INET ? 32 : 128, prefix = max;
	if (slash != NULL) {
		char *end;
		unsigned long n = strtoul(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end != '\0' || n > max) {
			return false;
		}
		prefix = (unsigned)n;
	}
	memset(f->addr, 0, sizeof(f->addr));
	if (inet_pton(family, addr, f->addr) != 1) {
		return false;
	}
	f->family = family;
	f->prefix = (uint8_t)prefix;
	return true;
}

int
stats_log_filter_parse(struct stats_log_filter *f, const char *key, const char *value,
		       char *err, size_t errlen)
{
	size_t len = strlen(value);
	if (strcmp(key, "client") == 0) {
		if (!parse_client(f, value)) {
			snprintf(err, errlen, "\"%s\" is not an address or prefix (ADDR or ADDR/LEN)",
				 value);
			return TDNS_EINVAL;
		}
	} else if (strcmp(key, "name") == 0) {
		/* "example.com" and "example.com." alike: relative to the root. */
		static const uint8_t root[1] = { 0 };
		uint8_t wire[DNS_NAME_MAX];
		if (dns_name_from_text(value, len, root, wire) < 0) {
			snprintf(err, errlen, "\"%s\" is not a domain name", value);
			return TDNS_EINVAL;
		}
		dns_name_lower(wire);
		dns_name_to_text(wire, f->name, sizeof(f->name));
	} else if (strcmp(key, "type") == 0) {
		int t = dns_type_from_text(value, len);
		if (t < 0) {
			snprintf(err, errlen, "\"%s\" is not an RR type (A, AAAA, MX, TYPE65, ...)",
				 value);
			return TDNS_EINVAL;
		}
		char buf[16];
		snprintf(f->qtype, sizeof(f->qtype), "%s", dns_type_to_text((uint16_t)t, buf));
	} else if (strcmp(key, "rcode") == 0) {
		/* Names as dns_rcode_to_text writes them, or RCODEn. */
		f->rcode[0] = '\0';
		for (int rc = 0; rc < 4096 && f->rcode[0] == '\0'; rc++) {
			char buf[16];
			const char *text = dns_rcode_to_text(rc, buf);
			if (strcasecmp(text, value) == 0) {
				snprintf(f->rcode, sizeof(f->rcode), "%s", text);
			}
		}
		if (f->rcode[0] == '\0') {
			snprintf(err, errlen, "\"%s\" is not an rcode (NOERROR, NXDOMAIN, SERVFAIL, "
				 "REFUSED, ...)", value);
			return TDNS_EINVAL;
		}
	} else {
		snprintf(err, errlen, "unknown filter \"%s\"; expected client, name, type or rcode",
			 key);
		return TDNS_EINVAL;
	}
	return TDNS_OK;
}

bool
stats_log_filter_active(const struct stats_log_filter *f)
{
	return f != NULL && (f->family != 0 || f->name[0] != '\0' || f->qtype[0] != '\0' ||
			     f->rcode[0] != '\0');
}

/* Whether the client address text is inside the prefix of f. */
static bool
client_match(const struct stats_log_filter *f, const char *text)
{
	uint8_t a[16];
	if (text == NULL || inet_pton(f->family, text, a) != 1) {
		return false;
	}
	size_t whole = f->prefix / 8u;
	if (memcmp(a, f->addr, whole) != 0) {
		return false;
	}
	unsigned rest = f->prefix % 8u;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return rest == 0 || (a[whole] & mask) == (f->addr[whole] & mask);
}

/* Whether name (text, any case) is want (lower case) or below it. */
static bool
name_match(const char *want, const char *name)
{
	if (name == NULL) {
		return false;
	}
	if (strcmp(want, ".") == 0) {
		return true;
	}
	size_t n = strlen(name), w = strlen(want);
	return n >= w && strcasecmp(name + n - w, want) == 0 && (n == w || name[n - w - 1] == '.');
}

bool
stats_log_filter_match(const struct stats_log_filter *f, const json_t *e)
{
	if (!stats_log_filter_active(f)) {
		return true;
	}
	const char *type = json_string_value(json_object_get(e, "type"));
	if (type == NULL || strcmp(type, "query") != 0) {
		return false;
	}
	const char *qtype = json_string_value(json_object_get(e, "qtype"));
	const char *rcode = json_string_value(json_object_get(e, "rcode"));
	return (f->family == 0 ||
		client_match(f, json_string_value(json_object_get(e, "client")))) &&
	       (f->name[0] == '\0' ||
		name_match(f->name, json_string_value(json_object_get(e, "name")))) &&
	       (f->qtype[0] == '\0' || (qtype != NULL && strcasecmp(qtype, f->qtype) == 0)) &&
	       (f->rcode[0] == '\0' || (rcode != NULL && strcasecmp(rcode, f->rcode) == 0));
}

void
stats_log_block_text(const json_t *e, bool short_list, char *buf, size_t len)
{
	buf[0] = '\0';
	const json_t *b = json_object_get(e, "block");
	if (!json_is_object(b) || len == 0) {
		return;
	}
	const char *list = json_string_value(json_object_get(b, "list"));
	const char *group = json_string_value(json_object_get(b, "group"));
	const json_t *line = json_object_get(b, "line");
	const char *slash = list != NULL && short_list ? strrchr(list, '/') : NULL;
	if (slash != NULL && slash[1] != '\0') {
		list = slash + 1;
	}
	size_t n = 0;
	if (list == NULL) {
		n = (size_t)snprintf(buf, len, "by the Firefox canary");
	} else if (json_is_integer(line)) {
		n = (size_t)snprintf(buf, len, "by %s:%lld", list, (long long)json_integer_value(line));
	} else {
		n = (size_t)snprintf(buf, len, "by %s", list);
	}
	if (group != NULL && n < len) {
		snprintf(buf + n, len - n, ", group %s", group);
	}
}
