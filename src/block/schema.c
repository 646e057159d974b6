/* SPDX-License-Identifier: MIT */
/* block schema: the [blocking] keys owned by block (lists, mode, ttl) and the mode parser. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
		if (item[0] != '/') {
			snprintf(err, errlen, "invalid list '%s'; expected absolute file names, "
				 "comma-separated (URLs are not supported yet)", item);
			rc = TDNS_ECONFIG;
			break;
		}
	}
	free(copy);
	return rc;
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
		.help = "block lists: absolute file names, comma-separated, each line a hosts-file "
			"line, a name, or an Adblock rule ||name^ (@@||name^ allows)",
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
	{ .key = NULL },
};

const struct cfg_table block_schema_blocking = { .section = "blocking", .keys = blocking_keys };
