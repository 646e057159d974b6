/* SPDX-License-Identifier: MIT */
/* query schema: the [blocking] keys the query pipeline owns (bypass), [blocking-group NAME]. */
#include <stdio.h>
#include <string.h>

#include "cfg/cfg.h"
#include "core/core.h"
#include "filter/filter.h"
#include "query/query.h"

static int
check_bypass(const char *value, char *err, size_t errlen)
{
	return filter_acl_check(value, "bypass", err, errlen);
}

static const struct cfg_key blocking_keys[] = {
	{
		.key = "bypass", .def = "",
		.help = "clients (CIDR list) that are never blocked; empty: none",
		.type = CFG_STR, .check = check_bypass, .flags = CFG_KEY_LIST,
		.offset = offsetof(struct cfg, blocking_bypass),
	},
	{ .key = NULL },
};

const struct cfg_table query_schema_blocking = { .section = "blocking", .keys = blocking_keys };

static int
check_clients(const char *value, char *err, size_t errlen)
{
	return filter_acl_check(value, "clients", err, errlen);
}

static const struct cfg_key group_keys[] = {
	{
		.key = "clients", .def = "",
		.help = "clients (CIDR list) of the group; a client belongs to the group with its "
			"longest matching prefix; empty: nobody",
		.type = CFG_STR, .check = check_clients, .flags = CFG_KEY_LIST,
		.offset = offsetof(struct cfg_block_group, clients),
	},
	{
		.key = "lists", .def = "",
		.help = "block lists of the group (absolute file names or URLs), added to the "
			"[blocking] lists",
		.type = CFG_STR, .check = block_schema_check_lists, .flags = CFG_KEY_LIST,
		.offset = offsetof(struct cfg_block_group, lists),
	},
	{
		.key = "allow-lists", .def = "",
		.help = "allow lists of the group, added to the [blocking] allow lists",
		.type = CFG_STR, .check = block_schema_check_lists, .flags = CFG_KEY_LIST,
		.offset = offsetof(struct cfg_block_group, allow_lists),
	},
	{
		.key = "replace-lists", .def = "no",
		.help = "yes: the group's lists instead of the [blocking] lists and allow lists",
		.type = CFG_BOOL, .offset = offsetof(struct cfg_block_group, replace_lists),
	},
	{
		.key = "mode", .def = "",
		.help = "answer to the group's blocked names, as [blocking] mode; empty: that mode",
		.type = CFG_STR, .check = block_schema_check_mode,
		.offset = offsetof(struct cfg_block_group, mode),
	},
	{
		.key = "safe-search", .def = "",
		.help = "yes or no: safe search for the group's clients, as [blocking] "
			"safe-search; empty: as [blocking]",
		.type = CFG_STR, .check = block_schema_check_yes_no,
		.offset = offsetof(struct cfg_block_group, safe_search),
	},
	{ .key = NULL },
};

/* Group names: letters, digits, '-', '_' and '.', as they appear in `block check`. */
static int
group_open(void *inst, const char *name, char *why, size_t whylen)
{
	struct cfg_block_group *g = inst;
	size_t len = strlen(name);
	if (len == 0 || len > 63 || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
						 "0123456789-_.") != len) {
		snprintf(why, whylen, "invalid group name");
		return TDNS_ECONFIG;
	}
	for (size_t i = 0; i <= len; i++) {
		g->id[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] - 'A' + 'a' : name[i]);
	}
	return TDNS_OK;
}

static bool
group_same(const void *a, const void *b)
{
	return strcmp(((const struct cfg_block_group *)a)->id,
		      ((const struct cfg_block_group *)b)->id) == 0;
}

static const struct cfg_named group_named = {
	CFG_NAMED_LAYOUT(cfg_block_group, block_groups, nblock_groups),
	.name_expect = "a group name (letters, digits, '-', '_', '.') such as kids",
	.open = group_open,
	.same = group_same,
};

const struct cfg_table query_schema_blocking_group = {
	.section = "blocking-group", .keys = group_keys, .named = &group_named,
};
