/* SPDX-License-Identifier: MIT */
/* The daemon's own keys (state-dir, user, [log]) and cfg_schema, the list of every table. */
#include <stdio.h>
#include <string.h>

#include "cfg/cfg.h"
#include "core/core.h"
#include "crypto/crypto.h"
#include "block/block.h"
#include "ctl/ctl.h"
#include "net/schema.h"
#include "query/query.h"
#include "resolver/resolver.h"
#include "zone/zone.h"

static const struct cfg_key server_keys[] = {
	{
		/* Absolute, because the daemon changes to "/" when it detaches. */
		.key = "state-dir", .def = LOCALSTATEDIR "/lib/tdns",
		.help = "absolute directory for zone files and other state; relative zone files "
			"are found here",
		.type = CFG_PATH, .flags = CFG_KEY_REQUIRED | CFG_KEY_TRIM_SLASH,
		.expect = "an absolute path", .offset = offsetof(struct cfg, state_dir),
	},
	{
		.key = "user", .def = "",
		.help = "user to switch to after binding the sockets; empty: keep the user "
			"tdnsd was started as",
		.type = CFG_STR, .flags = CFG_KEY_EMPTY_NULL, .offset = offsetof(struct cfg, user),
	},
	{ .key = NULL },
};

static const struct cfg_table daemon_server = { .section = "server", .keys = server_keys };

/* The level words of core's tdns_log_level_parse (case-insensitive, with aliases). */
static int
parse_log_level(const struct cfg_key *k, struct cfg *c, void *target, const char *value,
		char *err, size_t errlen)
{
	(void)k;
	(void)c;
	int lvl = tdns_log_level_parse(value);
	if (lvl < 0) {
		snprintf(err, errlen, "invalid log level '%s'; expected err, warning, notice, info "
			 "or debug", value);
		return TDNS_ECONFIG;
	}
	*(int *)target = lvl;
	return TDNS_OK;
}

static char *
fmt_log_level(const void *field)
{
	switch (*(const int *)field) {
	case TDNS_LOG_ERR:
		return tdns_xstrdup("err");
	case TDNS_LOG_WARNING:
		return tdns_xstrdup("warning");
	case TDNS_LOG_NOTICE:
		return tdns_xstrdup("notice");
	case TDNS_LOG_DEBUG:
		return tdns_xstrdup("debug");
	default:
		return tdns_xstrdup("info");
	}
}

static const struct cfg_key log_keys[] = {
	{
		.key = "level", .def = "info",
		.help = "least important messages logged: err, warning, notice, info or debug",
		.type = CFG_CUSTOM, .parse = parse_log_level, .fmt = fmt_log_level,
		.offset = offsetof(struct cfg, log_level),
	},
	{ .key = NULL },
};

static const struct cfg_table daemon_log = { .section = "log", .keys = log_keys };

/*
 * The order is that of the sample file, the man page, `config show` and the key lists in
 * messages; [server] gathers the keys of net, the daemon and zone in their documented order.
 */
static const struct cfg_table *const tables[] = {
	&net_schema_server,
	&daemon_server,
	&net_schema_server_tcp,
	&zone_schema_server,
	&net_schema_server_ident,
	&ctl_schema_control,
	&daemon_log,
	&resolver_schema_recursion,
	&resolver_schema_forwarders,
	&resolver_schema_cache,
	&resolver_schema_dnssec,
	&net_schema_tls,
	&net_schema_dot,
	&net_schema_doh,
	&block_schema_blocking,
	&query_schema_blocking,
	&crypto_schema_tsig,
	&zone_schema_zone,
	&query_schema_blocking_group,
	NULL,
};

/* Sections and keys of DESIGN.md that later releases will accept, for a clearer error. */
static const char *const later_sections[] = { NULL };
static const char *const later_keys[] = {
	"log/query-log", NULL,
};

const struct cfg_schema cfg_schema = {
	.tables = tables,
	.later_sections = later_sections,
	.later_keys = later_keys,
};
