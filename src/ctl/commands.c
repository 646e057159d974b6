/* SPDX-License-Identifier: MIT */
/* The control command table: the one definition of every tdns-cli / tdnsd command. */
#include <stdio.h>
#include <string.h>

#include "ctl/ctl.h"

static const struct ctl_arg args_zone_name[] = {
	{ .name = "name", .type = CTL_ARG_STRING, .help = "zone name, e.g. example.com" },
	{ .name = NULL },
};

static const struct ctl_arg args_zone_create[] = {
	{ .name = "name", .type = CTL_ARG_STRING, .help = "zone name, e.g. example.com" },
	{ .name = "type", .type = CTL_ARG_STRING, .optional = true, .option = true,
	  .help = "zone type: primary (the default), secondary (transferred from --primary) or "
		  "forwarder (a conditional forwarder)" },
	{ .name = "file", .type = CTL_ARG_STRING, .optional = true, .option = true,
	  .help = "zone file name in the state directory (default NAME.zone)" },
	{ .name = "forwarder", .type = CTL_ARG_STRING, .optional = true, .option = true,
	  .help = "type forwarder: server URLs (comma-separated) or this-server, stored as FWD "
		  "records at the apex (default this-server)" },
	{ .name = "ns", .type = CTL_ARG_STRING, .optional = true, .option = true,
	  .help = "the name server of a new empty zone, for its SOA and NS records (default: "
		  "this host's name)" },
	{ .name = "primary", .type = CTL_ARG_STRING, .optional = true, .option = true,
	  .help = "type secondary: the primary server, ADDR or ADDR:PORT ([V6]:PORT)" },
	{ .name = "key", .type = CTL_ARG_STRING, .optional = true, .option = true,
	  .help = "type secondary: the [tsig NAME] key that signs the transfers from --primary" },
	{ .name = NULL },
};

static const struct ctl_arg args_zone_export[] = {
	{ .name = "name", .type = CTL_ARG_STRING, .help = "zone name" },
	{ .name = "file", .type = CTL_ARG_STRING, .optional = true,
	  .help = "local file to write (default: standard output); written by tdns-cli" },
	{ .name = NULL },
};

static const struct ctl_arg args_zone_import[] = {
	{ .name = "name", .type = CTL_ARG_STRING, .help = "zone name (created if missing)" },
	{ .name = "text", .type = CTL_ARG_FILE,
	  .help = "local zone file; tdns-cli sends its contents, which replace the zone's" },
	{ .name = NULL },
};

static const struct ctl_arg args_zone_check[] = {
	{ .name = "name", .type = CTL_ARG_STRING,
	  .help = "zone name (re-reads and checks its file), or a local FILE to check offline" },
	{ .name = "origin", .type = CTL_ARG_STRING, .optional = true,
	  .help = "origin for an offline check of FILE (default: FILE without .zone)" },
	{ .name = NULL },
};

static const struct ctl_arg args_record_list[] = {
	{ .name = "zone", .type = CTL_ARG_STRING, .help = "zone name" },
	{ .name = "name", .type = CTL_ARG_STRING, .optional = true,
	  .help = "owner name, relative to the zone or absolute with a trailing dot" },
	{ .name = "type", .type = CTL_ARG_STRING, .optional = true, .help = "RR type" },
	{ .name = NULL },
};

static const struct ctl_arg args_record_add[] = {
	{ .name = "zone", .type = CTL_ARG_STRING, .help = "zone name" },
	{ .name = "name", .type = CTL_ARG_STRING,
	  .help = "owner name, relative to the zone (@ for the apex) or absolute" },
	{ .name = "type", .type = CTL_ARG_STRING, .help = "RR type, e.g. A, MX, TXT" },
	{ .name = "rdata", .type = CTL_ARG_WORDS,
	  .help = "[TTL] RDATA in zone-file syntax; a leading TTL is taken as the TTL when the "
		  "rest is valid rdata" },
	{ .name = NULL },
};

static const struct ctl_arg args_record_delete[] = {
	{ .name = "zone", .type = CTL_ARG_STRING, .help = "zone name" },
	{ .name = "name", .type = CTL_ARG_STRING, .help = "owner name" },
	{ .name = "type", .type = CTL_ARG_STRING, .optional = true,
	  .help = "RR type (default: every type at the name)" },
	{ .name = "rdata", .type = CTL_ARG_WORDS, .optional = true,
	  .help = "RDATA of the one record to delete (default: the whole rrset)" },
	{ .name = NULL },
};

static const struct ctl_arg args_config_key[] = {
	{ .name = "key", .type = CTL_ARG_STRING,
	  .help = "SECTION.KEY, e.g. log.level or zone.example.com.file" },
	{ .name = NULL },
};

static const struct ctl_arg args_config_set[] = {
	{ .name = "key", .type = CTL_ARG_STRING,
	  .help = "SECTION.KEY, e.g. log.level or zone.example.com.file" },
	{ .name = "value", .type = CTL_ARG_WORDS, .help = "new value" },
	{ .name = NULL },
};

static const struct ctl_arg args_stats_top[] = {
	{ .name = "count", .type = CTL_ARG_INT, .optional = true, .option = true,
	  .help = "entries in each list (default 10)" },
	{ .name = "range", .type = CTL_ARG_STRING, .optional = true, .option = true,
	  .help = "only the queries of the last 1m, 5m, 1h (any duration from 15s to 1h), or all "
		  "since start (the default)" },
	{ .name = NULL },
};

/* The options of log show and log follow: which log, and the query-log filters. */
#define LOG_ARGS \
	{ .name = "queries", .type = CTL_ARG_FLAG, .optional = true, .option = true, \
	  .help = "only the query log" }, \
	{ .name = "server", .type = CTL_ARG_FLAG, .optional = true, .option = true, \
	  .help = "only the server log" }, \
	{ .name = "client", .type = CTL_ARG_STRING, .optional = true, .option = true, \
	  .help = "only queries from this address or prefix (ADDR or ADDR/LEN)" }, \
	{ .name = "name", .type = CTL_ARG_STRING, .optional = true, .option = true, \
	  .help = "only queries for this name or names below it" }, \
	{ .name = "type", .type = CTL_ARG_STRING, .optional = true, .option = true, \
	  .help = "only queries of this type (A, AAAA, ...)" }, \
	{ .name = "rcode", .type = CTL_ARG_STRING, .optional = true, .option = true, \
	  .help = "only answers with this rcode (NOERROR, NXDOMAIN, SERVFAIL, ...)" },

static const struct ctl_arg args_log_show[] = {
	{ .name = "count", .type = CTL_ARG_INT, .optional = true, .option = true,
	  .help = "most recent entries to show (default 50)" },
	LOG_ARGS
	{ .name = NULL },
};

static const struct ctl_arg args_log_follow[] = {
	LOG_ARGS
	{ .name = NULL },
};

static const struct ctl_arg args_cache_list[] = {
	{ .name = "name", .type = CTL_ARG_STRING, .optional = true,
	  .help = "only entries at or below this name" },
	{ .name = NULL },
};

static const struct ctl_arg args_cache_name[] = {
	{ .name = "name", .type = CTL_ARG_STRING, .help = "name whose entries (every type) go" },
	{ .name = NULL },
};

static const struct ctl_arg args_forwarder_url[] = {
	{ .name = "url", .type = CTL_ARG_STRING,
	  .help = "udp://ADDR[:PORT], tcp://..., tls://NAME[:PORT][#ADDR], https://..." },
	{ .name = NULL },
};

static const struct ctl_arg args_block_name[] = {
	{ .name = "name", .type = CTL_ARG_STRING, .help = "domain name; its subdomains follow it" },
	{ .name = NULL },
};

static const struct ctl_arg args_block_check[] = {
	{ .name = "name", .type = CTL_ARG_STRING, .help = "domain name to check" },
	{ .name = "client", .type = CTL_ARG_STRING, .optional = true, .option = true,
	  .help = "client address (IPv4 or IPv6) asking; [blocking] bypass applies to it" },
	{ .name = NULL },
};

static const struct ctl_arg args_block_pause[] = {
	{ .name = "duration", .type = CTL_ARG_STRING,
	  .help = "how long: seconds, or a number with s, m, h or d (15m); at most 7d" },
	{ .name = NULL },
};

static const struct ctl_arg args_dnssec_nta[] = {
	{ .name = "action", .type = CTL_ARG_STRING,
	  .help = "add NAME, remove NAME or list" },
	{ .name = "name", .type = CTL_ARG_STRING, .optional = true,
	  .help = "domain name: validation is off at and below it" },
	{ .name = "lifetime", .type = CTL_ARG_STRING, .optional = true, .option = true,
	  .help = "add: how long the NTA lasts: seconds, or a number with s, m, h or d (default "
		  "1h, at most 7d)" },
	{ .name = NULL },
};

const struct ctl_cmd ctl_cmds[] = {
	{ .name = "status", .help = "version, uptime, workers, listeners, zones, queries per second" },
	{ .name = "zone list", .help = "list the zones with type, state, serial and record count" },
	{ .name = "zone create", .args = args_zone_create, .flags = CTL_CMD_MUTATES,
	  .help = "create an empty primary zone (SOA and NS made up from the server's name), a "
		  "secondary zone, or a conditional forwarder zone" },
	{ .name = "zone delete", .args = args_zone_name, .flags = CTL_CMD_MUTATES,
	  .help = "delete a zone created at run time, and its file" },
	{ .name = "zone show", .args = args_zone_name,
	  .help = "show a zone's settings and counts" },
	{ .name = "zone export", .args = args_zone_export,
	  .help = "print the zone in canonical zone-file form, or write it to FILE" },
	{ .name = "zone import", .args = args_zone_import, .flags = CTL_CMD_MUTATES,
	  .help = "replace a zone's contents with a local zone file (checked first)" },
	{ .name = "zone check", .args = args_zone_check,
	  .help = "check a zone's file as the daemon would load it, or a local FILE offline" },
	{ .name = "zone reload", .args = args_zone_name, .flags = CTL_CMD_MUTATES,
	  .help = "re-read a zone's file from disk" },
	{ .name = "zone notify", .args = args_zone_name,
	  .help = "send a NOTIFY of the zone's serial to its secondaries now" },
	{ .name = "zone refresh", .args = args_zone_name, .flags = CTL_CMD_MUTATES,
	  .help = "secondary zone: ask the primaries for the SOA now, transfer when it changed" },
	{ .name = "zone retransfer", .args = args_zone_name, .flags = CTL_CMD_MUTATES,
	  .help = "secondary zone: transfer the whole zone (AXFR) from the primaries now" },
	{ .name = "zone enable", .args = args_zone_name, .flags = CTL_CMD_MUTATES,
	  .help = "answer for a disabled zone again" },
	{ .name = "zone disable", .args = args_zone_name, .flags = CTL_CMD_MUTATES,
	  .help = "stop answering for a zone without deleting it" },
	{ .name = "record list", .args = args_record_list,
	  .help = "list records of a zone, optionally of one name and type" },
	{ .name = "record add", .args = args_record_add, .flags = CTL_CMD_MUTATES,
	  .help = "add a record; the SOA serial is bumped" },
	{ .name = "record delete", .args = args_record_delete, .flags = CTL_CMD_MUTATES,
	  .help = "delete a record, an rrset or every record at a name; the SOA serial is bumped" },
	{ .name = "record update", .args = args_record_add, .flags = CTL_CMD_MUTATES,
	  .help = "replace the rrset NAME TYPE with one record; the SOA serial is bumped" },
	{ .name = "config show", .help = "show the running configuration, every key with its value" },
	{ .name = "config get", .args = args_config_key, .help = "show one configuration key" },
	{ .name = "config set", .args = args_config_set, .flags = CTL_CMD_MUTATES,
	  .help = "change a key in the configuration file (comments kept), then reload" },
	{ .name = "config reload", .flags = CTL_CMD_MUTATES,
	  .help = "re-read the configuration file and every zone (like SIGHUP)" },
	{ .name = "stats", .help = "counters by rcode, qtype and transport; per-minute series "
				   "for the last hour" },
	{ .name = "stats top", .args = args_stats_top,
	  .help = "top clients, names, blocked names and blocked clients since start (halved "
		  "every hour) or over a recent range" },
	{ .name = "log show", .args = args_log_show,
	  .help = "recent query log entries and server log lines, oldest first" },
	{ .name = "log follow", .args = args_log_follow, .flags = CTL_CMD_STREAM,
	  .help = "print query log entries and server log lines as they happen, until "
		  "interrupted" },
	{ .name = "server stop", .flags = CTL_CMD_MUTATES, .help = "stop the daemon" },
	{ .name = "cache list", .args = args_cache_list,
	  .help = "list cached answers with TTL left, hits and size" },
	{ .name = "cache flush", .flags = CTL_CMD_MUTATES, .help = "empty the answer cache" },
	{ .name = "cache delete", .args = args_cache_name, .flags = CTL_CMD_MUTATES,
	  .help = "remove the cached answers for one name" },
	{ .name = "forwarder list",
	  .help = "list the forwarders with queries, RTT and health" },
	{ .name = "forwarder add", .args = args_forwarder_url, .flags = CTL_CMD_MUTATES,
	  .help = "add a server to [forwarders] servers (the file is rewritten), then reload" },
	{ .name = "forwarder remove", .args = args_forwarder_url, .flags = CTL_CMD_MUTATES,
	  .help = "remove a server from [forwarders] servers, then reload" },
	{ .name = "block add", .args = args_block_name, .flags = CTL_CMD_MUTATES,
	  .help = "block a name and its subdomains (kept in the state directory)" },
	{ .name = "block remove", .args = args_block_name, .flags = CTL_CMD_MUTATES,
	  .help = "remove a name added with block add" },
	{ .name = "block list",
	  .help = "list the names added with block add, and the block lists with their counts" },
	{ .name = "block lists",
	  .help = "list every block and allow list (files and URLs, global and per group) with "
		  "its names, skipped lines, last update, next download and last error" },
	{ .name = "block update", .flags = CTL_CMD_MUTATES,
	  .help = "download every URL list now (If-None-Match / If-Modified-Since) instead of "
		  "at its next update-interval" },
	{ .name = "block check", .args = args_block_check,
	  .help = "say whether a name is blocked, by which list and line; exit 0 when blocked, "
		  "1 when not" },
	{ .name = "block pause", .args = args_block_pause, .flags = CTL_CMD_MUTATES,
	  .help = "block nothing for a while (not kept across a restart)" },
	{ .name = "block resume", .flags = CTL_CMD_MUTATES, .help = "end a pause now" },
	{ .name = "allow add", .args = args_block_name, .flags = CTL_CMD_MUTATES,
	  .help = "never block a name and its subdomains (kept in the state directory)" },
	{ .name = "allow remove", .args = args_block_name, .flags = CTL_CMD_MUTATES,
	  .help = "remove a name added with allow add" },
	{ .name = "allow list",
	  .help = "list the names added with allow add, and the allow lists with their counts" },
	{ .name = "dnssec status",
	  .help = "trust anchors with key tag, algorithm and RFC 5011 state, negative trust "
		  "anchors, and answers by validation state" },
	{ .name = "dnssec nta", .args = args_dnssec_nta, .flags = CTL_CMD_MUTATES,
	  .help = "negative trust anchors (RFC 7646): add NAME [--lifetime 1h], remove NAME, or "
		  "list; added ones are kept in the state directory until they expire" },
	{ .name = NULL },
};

const struct ctl_cmd *
ctl_cmd_find(const char *name)
{
	for (const struct ctl_cmd *c = ctl_cmds; c->name != NULL; c++) {
		if (strcmp(c->name, name) == 0) {
			return c;
		}
	}
	return NULL;
}

static const struct ctl_arg *
cmd_arg(const struct ctl_cmd *cmd, const char *name)
{
	for (const struct ctl_arg *a = cmd->args; a != NULL && a->name != NULL; a++) {
		if (strcmp(a->name, name) == 0) {
			return a;
		}
	}
	return NULL;
}

static bool
words_ok(const json_t *v)
{
	if (!json_is_array(v)) {
		return false;
	}
	size_t i;
	const json_t *w;
	json_array_foreach(v, i, w) {
		if (!json_is_string(w)) {
			return false;
		}
	}
	return true;
}

int
ctl_cmd_check_args(const struct ctl_cmd *cmd, const json_t *args, char *err, size_t errlen)
{
	const char *key;
	json_t *v;
	/* jansson iterates through a non-const pointer but changes nothing. */
	json_t *obj = (json_t *)args;
	json_object_foreach(obj, key, v) {
		const struct ctl_arg *a = cmd_arg(cmd, key);
		if (a == NULL) {
			snprintf(err, errlen, "'%s' takes no argument '%s'", cmd->name, key);
			return TDNS_EINVAL;
		}
		bool ok;
		const char *want;
		switch (a->type) {
		case CTL_ARG_INT:
			ok = json_is_integer(v);
			want = "an integer";
			break;
		case CTL_ARG_WORDS:
			ok = words_ok(v);
			want = "an array of strings";
			break;
		case CTL_ARG_FLAG:
			ok = json_is_boolean(v);
			want = "true or false";
			break;
		case CTL_ARG_STRING:
		case CTL_ARG_FILE:
		default:
			ok = json_is_string(v);
			want = "a string";
			break;
		}
		if (!ok) {
			snprintf(err, errlen, "argument '%s' of '%s' must be %s", key, cmd->name,
				 want);
			return TDNS_EINVAL;
		}
	}
	for (const struct ctl_arg *a = cmd->args; a != NULL && a->name != NULL; a++) {
		if (a->optional) {
			continue;
		}
		json_t *got = json_object_get(args, a->name);
		if (got == NULL || (a->type == CTL_ARG_WORDS && json_array_size(got) == 0)) {
			snprintf(err, errlen, "'%s' needs the argument '%s' (%s)", cmd->name,
				 a->name, a->help);
			return TDNS_EINVAL;
		}
	}
	return TDNS_OK;
}
