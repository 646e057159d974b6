/* SPDX-License-Identifier: MIT */
/* block schema: the [blocking] keys owned by block (lists, mode, ttl) and the mode parser. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "block/block.h"

#define MODE_EXPECT "expected nxdomain, nodata, null, refused or address:IP[,IP...]"

int
block_mode_parse(const char *text, struct block_policy *p, char *err, size_t errlen)
{
	static const struct { const char *name; enum block_mode mode; } words[] = {
		{ "nxdomain", BLOCK_MODE_NXDOMAIN }, { "nodata", BLOCK_MODE_NODATA },
		{ "null", BLOCK_MODE_NULL }, { "refused", BLOCK_MODE_REFUSED },
	};
	p->n4 = p->n6 = 0;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (strcasecmp(text, words[i].name) == 0) {
			p->mode = words[i].mode;
			return TDNS_OK;
		}
	}
	if (strncasecmp(text, "address:", 8) != 0) {
		snprintf(err, errlen, "invalid blocking mode '%s'; " MODE_EXPECT, text);
		return TDNS_ECONFIG;
	}
	p->mode = BLOCK_MODE_ADDRESS;
	char *copy = tdns_xstrdup(text + 8), *cur = copy;
	int rc = TDNS_OK;
	bool more = true;
	while (more) {
		char *item = cfg_list_next(&cur, &more);
		uint8_t a[16];
		if (inet_pton(AF_INET, item, a) == 1 && p->n4 < BLOCK_MAX_ADDRS) {
			memcpy(p->a4[p->n4++], a, 4);
		} else if (inet_pton(AF_INET6, item, a) == 1 && p->n6 < BLOCK_MAX_ADDRS) {
			memcpy(p->a6[p->n6++], a, 16);
		} else {
			snprintf(err, errlen, "invalid address '%s' in blocking mode (at most %d "
				 "of each family); " MODE_EXPECT, item, BLOCK_MAX_ADDRS);
			rc = TDNS_ECONFIG;
			break;
		}
	}
	free(copy);
	return rc;
}

/* [blocking] mode: one of the words, never empty. */
static int
check_mode(const char *value, char *err, size_t errlen)
{
	struct block_policy p;
	return block_mode_parse(value, &p, err, errlen);
}

int
block_schema_check_mode(const char *value, char *err, size_t errlen)
{
	struct block_policy p;
	/* Empty: a [blocking-group] that answers as [blocking] does. */
	return value[0] == '\0' ? TDNS_OK : block_mode_parse(value, &p, err, errlen);
}

int
block_schema_check_lists(const char *value, char *err, size_t errlen)
{
	char *copy = tdns_xstrdup(value), *cur = copy;
	int rc = TDNS_OK;
	bool more = value[0] != '\0';
	while (more) {
		char *item = cfg_list_next(&cur, &more);
		const char *host = block_source_is_url(item) ? strstr(item, "://") + 3 : NULL;
		if (host != NULL ? host[0] == '\0' || host[0] == '/' || strpbrk(item, " \t") != NULL
				 : item[0] != '/') {
			snprintf(err, errlen, "invalid list '%s'; expected absolute file names or "
				 "http:// or https:// URLs with a host, comma-separated", item);
			rc = TDNS_ECONFIG;
			break;
		}
	}
	free(copy);
	return rc;
}

/* [blocking] update-interval: a duration as in zone files ("1d", "6h", "90s"). */
static int
parse_interval(const struct cfg_key *k, struct cfg *c, void *target, const char *value,
	       char *err, size_t errlen)
{
	(void)k;
	(void)c;
	uint32_t secs = 0;
	if (dns_ttl_parse(value, strlen(value), &secs) != TDNS_OK || secs < BLOCK_UPDATE_MIN ||
	    secs > 365 * 86400) {
		snprintf(err, errlen, "invalid update-interval '%s'; expected a duration from 1s "
			 "to 365d such as 1d, 6h, 30m or 90s", value);
		return TDNS_ECONFIG;
	}
	*(unsigned *)target = secs;
	return TDNS_OK;
}

static char *
fmt_interval(const void *field)
{
	unsigned s = *(const unsigned *)field;
	static const struct { unsigned secs; char unit; } units[] = {
		{ 86400, 'd' }, { 3600, 'h' }, { 60, 'm' },
	};
	char buf[32];
	snprintf(buf, sizeof(buf), "%us", s);
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (s % units[i].secs == 0) {
			snprintf(buf, sizeof(buf), "%u%c", s / units[i].secs, units[i].unit);
			break;
		}
	}
	return tdns_xstrdup(buf);
}

int
block_schema_check_yes_no(const char *value, char *err, size_t errlen)
{
	if (value[0] == '\0' || strcmp(value, "yes") == 0 || strcmp(value, "no") == 0) {
		return TDNS_OK;
	}
	snprintf(err, errlen, "invalid value '%s'; expected yes, no, or nothing (as [blocking])",
		 value);
	return TDNS_ECONFIG;
}

static const struct cfg_key blocking_keys[] = {
	{
		.key = "enabled", .def = "no",
		.help = "yes: answer names on the block lists by mode (and the Firefox canary "
			"use-application-dns.net with NXDOMAIN); no: block nothing",
		.type = CFG_BOOL, .offset = offsetof(struct cfg, blocking_enabled),
	},
	{
		.key = "lists", .def = "",
		.help = "block lists: absolute file names or http:// and https:// URLs, "
			"comma-separated, each line a hosts-file line, a name, or an Adblock rule "
			"||name^ (@@||name^ allows)",
		.type = CFG_STR, .check = block_schema_check_lists, .flags = CFG_KEY_LIST,
		.offset = offsetof(struct cfg, blocking_lists),
	},
	{
		.key = "allow-lists", .def = "",
		.help = "allow lists in the same formats: their names and subdomains are never "
			"blocked",
		.type = CFG_STR, .check = block_schema_check_lists, .flags = CFG_KEY_LIST,
		.offset = offsetof(struct cfg, blocking_allow_lists),
	},
	{
		.key = "mode", .def = "nxdomain",
		.help = "answer to blocked names: nxdomain, nodata, null (0.0.0.0 and ::), refused "
			"or address:IP[,IP...]; all carry EDE 15 (Blocked)",
		.type = CFG_STR, .check = check_mode,
		.offset = offsetof(struct cfg, blocking_mode),
	},
	{
		.key = "ttl", .def = "60",
		.help = "TTL of blocked answers and of the SOA in negative ones (0..86400)",
		.type = CFG_UINT, .min = 0, .max = 86400, .expect = "a number of seconds",
		.offset = offsetof(struct cfg, blocking_ttl),
	},
	{
		.key = "update-interval", .def = "1d",
		.help = "how often the URL lists are downloaded again (If-None-Match, "
			"If-Modified-Since); a duration from 1s to 365d such as 1d, 6h or 30m",
		.type = CFG_CUSTOM, .parse = parse_interval, .fmt = fmt_interval,
		.offset = offsetof(struct cfg, blocking_update_interval),
	},
	{
		.key = "ca-file", .def = "",
		.help = "PEM file of the CAs that https:// lists are checked against; empty: the "
			"system's CA store",
		.type = CFG_PATH, .what = "file name", .expect = "an absolute path or nothing",
		.offset = offsetof(struct cfg, blocking_ca_file),
	},
	{
		.key = "safe-search", .def = "no",
		.help = "yes: answer the search engines' names of safe-search-file with a CNAME to "
			"their safe endpoint (SafeSearch, restricted mode) and EDE 17 (Filtered)",
		.type = CFG_BOOL, .offset = offsetof(struct cfg, blocking_safe_search),
	},
	{
		.key = "safe-search-file", .def = SYSCONFDIR "/tdns/safe-search.conf",
		.help = "the safe-search table: lines \"NAME ENDPOINT\" or \"*.DOMAIN ENDPOINT\"; "
			"read when safe search is on for [blocking] or a group",
		.type = CFG_PATH, .flags = CFG_KEY_REQUIRED, .expect = "an absolute path",
		.offset = offsetof(struct cfg, blocking_safe_search_file),
	},
	{ .key = NULL },
};

const struct cfg_table block_schema_blocking = { .section = "blocking", .keys = blocking_keys };
