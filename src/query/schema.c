/* SPDX-License-Identifier: MIT */
/* query schema: the [blocking] keys the query pipeline owns (bypass). */
#include <stdio.h>

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
