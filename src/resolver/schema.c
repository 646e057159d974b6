/* SPDX-License-Identifier: MIT */
/* resolver schema: the [recursion], [forwarders] and [cache] section tables. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg/cfg.h"
#include "dnssec/dnssec.h"
#include "core/core.h"
#include "filter/filter.h"
#include "net/schema.h"
#include "resolver/resolver.h"

static const struct cfg_enum recursion_modes[] = {
	{ "recursive", CFG_RECURSION_RECURSIVE },
	{ "forward", CFG_RECURSION_FORWARD },
	{ "off", CFG_RECURSION_OFF },
	{ NULL, 0 },
};

static int
check_allow(const char *value, char *err, size_t errlen)
{
	return filter_acl_check(value, "allow", err, errlen);
}

/* A bad hints file stops start-up (and `tdnsd -t`) here, with its own file:line. */
static int
check_root_hints(const char *value, char *err, size_t errlen)
{
	if (value[0] == '\0') {
		return TDNS_OK;
	}
	struct resolver_hints *h = tdns_xmalloc(sizeof(*h));
	char msg[768];
	int rc = resolver_hints_load(value, h, msg, sizeof(msg));
	free(h);
	if (rc != TDNS_OK) {
		snprintf(err, errlen, "invalid root-hints: %s", msg);
		return TDNS_ECONFIG;
	}
	return TDNS_OK;
}

static const struct cfg_key recursion_keys[] = {
	{
		.key = "mode", .def = "recursive",
		.help = "names outside our zones: recursive (iterate from the root), forward "
			"(cache and [forwarders]) or off (REFUSED)",
		.type = CFG_ENUM, .names = recursion_modes, .what = "recursion mode",
		.offset = offsetof(struct cfg, recursion_mode),
	},
	{
		.key = "allow",
		.def = "127.0.0.0/8, ::1, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, "
		       "100.64.0.0/10, fc00::/7, fe80::/10",
		.help = "clients (CIDR list) whose queries for names outside our zones are "
			"resolved; others get REFUSED with EDE 18",
		.type = CFG_STR, .check = check_allow, .flags = CFG_KEY_LIST,
		.offset = offsetof(struct cfg, recursion_allow),
	},
	{
		.key = "root-hints", .def = "",
		.help = "absolute path of a root hints file (NS records for the root and their "
			"A/AAAA, as IANA's named.root); empty: the built-in IANA hints",
		.type = CFG_PATH, .check = check_root_hints,
		.expect = "an absolute path or nothing (the built-in IANA hints)",
		.offset = offsetof(struct cfg, root_hints),
	},
	{
		/* RFC 9156 */
		.key = "qname-minimisation", .def = "yes",
		.help = "yes: send each server only the labels it needs (RFC 9156), falling back to "
			"the full name for servers that mishandle it; no: full names",
		.type = CFG_BOOL, .offset = offsetof(struct cfg, qname_min),
	},
	{
		.key = "max-depth", .def = "30",
		.help = "referrals followed for one client query (1..100); beyond: SERVFAIL, EDE 22",
		.type = CFG_UINT, .min = 1, .max = 100, .expect = "a number of referrals",
		.offset = offsetof(struct cfg, max_depth),
	},
	{
		.key = "max-queries", .def = "100",
		.help = "queries to other servers one client query may cause, NS address lookups "
			"included (1..1000); beyond: SERVFAIL, EDE 22",
		.type = CFG_UINT, .min = 1, .max = 1000, .expect = "a number of queries",
		.offset = offsetof(struct cfg, max_queries),
	},
	{
		.key = "max-time-ms", .def = "10000",
		.help = "milliseconds one client query may take (100..120000); beyond: SERVFAIL, "
			"EDE 22",
		.type = CFG_UINT, .min = 100, .max = 120000, .expect = "a number of milliseconds",
		.offset = offsetof(struct cfg, max_time_ms),
	},
	{
		/* Unbound's num-queries-per-thread; BIND's recursive-clients. */
		.key = "max-outstanding", .def = "1024",
		.help = "client queries each worker resolves at once (1..65536); when full, the "
			"oldest is dropped if older than jostle-timeout, else the new one (SERVFAIL, "
			"EDE 0)",
		.type = CFG_UINT, .min = 1, .max = 65536, .expect = "a number of queries",
		.offset = offsetof(struct cfg, max_outstanding),
	},
	{
		/* Unbound's jostle-timeout. */
		.key = "jostle-timeout", .def = "200",
		.help = "milliseconds after which the oldest outstanding query may make room for a "
			"new one when max-outstanding is reached (0..120000)",
		.type = CFG_UINT, .min = 0, .max = 120000, .expect = "a number of milliseconds",
		.offset = offsetof(struct cfg, jostle_timeout),
	},
	{
		.key = "case-randomisation", .def = "no",
		.help = "yes: randomise the case of names sent to other servers (0x20) and require "
			"answers to echo it exactly",
		.type = CFG_BOOL, .offset = offsetof(struct cfg, case_random),
	},
	{
		.key = "outgoing-address", .def = "",
		.help = "source addresses (IPv4, IPv6, comma-separated) of queries to other "
			"servers; empty: chosen by the system",
		.type = CFG_ADDRS,
		.expect = "IPv4 or IPv6 addresses separated by commas, or nothing",
		.offset = offsetof(struct cfg, outgoing_address),
	},
	{ .key = NULL },
};

static int
finish_recursion(struct cfg *c, void *inst, char *err, size_t errlen)
{
	(void)inst;
	if (c->recursion_mode == CFG_RECURSION_FORWARD && c->forwarders[0] == '\0') {
		snprintf(err, errlen, "%s: [recursion] mode = forward needs [forwarders] servers; "
			 "expected at least one server URL, or mode = off", c->path);
		return TDNS_ECONFIG;
	}
	return TDNS_OK;
}

const struct cfg_table resolver_schema_recursion = {
	.section = "recursion", .keys = recursion_keys, .finish = finish_recursion,
};

static const struct cfg_enum forward_modes[] = {
	{ "concurrent", CFG_FORWARD_CONCURRENT },
	{ "sequential", CFG_FORWARD_SEQUENTIAL },
	{ NULL, 0 },
};

static int
check_servers(const char *value, char *err, size_t errlen)
{
	return net_schema_check_servers(value, false, err, errlen);
}

static const struct cfg_key forwarders_keys[] = {
	{
		.key = "servers", .def = "",
		.help = "upstream servers: udp://, tcp://, tls://NAME[:PORT][#ADDR], https://, "
			"https+json:// URLs, comma-separated",
		.type = CFG_STR, .check = check_servers, .flags = CFG_KEY_LIST,
		.offset = offsetof(struct cfg, forwarders),
	},
	{
		.key = "mode", .def = "concurrent",
		.help = "concurrent (ask up to three at once, first good answer wins) or "
			"sequential (by RTT, failing over on timeout)",
		.type = CFG_ENUM, .names = forward_modes, .what = "forwarders mode",
		.offset = offsetof(struct cfg, forward_mode),
	},
	{
		.key = "timeout", .def = "2000",
		.help = "milliseconds to wait for one upstream server (50..60000)",
		.type = CFG_UINT, .min = 50, .max = 60000, .expect = "a number of milliseconds",
		.offset = offsetof(struct cfg, forward_timeout),
	},
	{
		.key = "ca-file", .def = "",
		.help = "PEM CA bundle that tls:// and https:// servers are checked against; "
			"empty: the system trust store",
		.type = CFG_PATH, .expect = "an absolute path or nothing",
		.offset = offsetof(struct cfg, forward_ca_file),
	},
	{ .key = NULL },
};

const struct cfg_table resolver_schema_forwarders = {
	.section = "forwarders", .keys = forwarders_keys,
};

/* A week is the longest TTL worth keeping (Unbound's default cache-max-ttl is a day). */
#define TTL .type = CFG_UINT, .min = 0, .max = 604800, .expect = "a number of seconds"

static const struct cfg_key cache_keys[] = {
	{
		.key = "max-size", .def = "256M",
		.help = "largest size of the answer cache in bytes, with K, M or G suffix",
		.type = CFG_SIZE, .min = 64ull * 1024, .max = 1024ull * 1024 * 1024 * 1024,
		.expect = "a number of bytes with an optional K, M or G suffix",
		.offset = offsetof(struct cfg, cache_max_size),
	},
	{
		.key = "min-ttl", .def = "0",
		.help = "seconds: shorter TTLs of positive answers are raised to this",
		TTL, .offset = offsetof(struct cfg, cache_min_ttl),
	},
	{
		.key = "max-ttl", .def = "86400",
		.help = "seconds: longer TTLs of positive answers are lowered to this",
		TTL, .offset = offsetof(struct cfg, cache_max_ttl),
	},
	{
		/* RFC 2308 */
		.key = "negative-max-ttl", .def = "3600",
		.help = "seconds: cap of cached NXDOMAIN and NODATA answers (RFC 2308); 0 = "
			"no negative caching",
		TTL, .offset = offsetof(struct cfg, cache_neg_max_ttl),
	},
	{
		/* RFC 8767 */
		.key = "serve-stale", .def = "86400",
		.help = "seconds after expiry an answer may still be served when every upstream "
			"fails (RFC 8767, EDE 3); 0 = off",
		TTL, .offset = offsetof(struct cfg, cache_serve_stale),
	},
	{
		.key = "prefetch", .def = "yes",
		.help = "refresh popular answers shortly before they expire: yes or no",
		.type = CFG_BOOL, .offset = offsetof(struct cfg, cache_prefetch),
	},
	{ .key = NULL },
};

static int
finish_cache(struct cfg *c, void *inst, char *err, size_t errlen)
{
	(void)inst;
	if (c->cache_min_ttl > c->cache_max_ttl) {
		snprintf(err, errlen, "%s: [cache] min-ttl %u is above max-ttl %u; expected "
			 "min-ttl <= max-ttl", c->path, c->cache_min_ttl, c->cache_max_ttl);
		return TDNS_ECONFIG;
	}
	return TDNS_OK;
}

const struct cfg_table resolver_schema_cache = {
	.section = "cache", .keys = cache_keys, .finish = finish_cache,
};

/* ---- [dnssec] (issue 16) --------------------------------------------------------------- */

/* A bad anchor file stops start-up (and `tdnsd -t`) with its own file:line. */
static int
check_anchor_file(const char *value, char *err, size_t errlen)
{
	if (value[0] == '\0') {
		return TDNS_OK;
	}
	struct dnssec_anchors *a = dnssec_anchors_new();
	if (a == NULL) {
		snprintf(err, errlen, "out of memory");
		return TDNS_ECONFIG;
	}
	struct dns_zf_error zerr;
	memset(&zerr, 0, sizeof(zerr));
	int rc = dnssec_anchors_load(a, value, &zerr);
	size_t n = dnssec_anchors_count(a);
	dnssec_anchors_free(a);
	if (rc != TDNS_OK) {
		snprintf(err, errlen, "invalid trust-anchor-file: %s", zerr.msg);
		return TDNS_ECONFIG;
	}
	if (n == 0) {
		snprintf(err, errlen, "invalid trust-anchor-file: %s holds no DS or DNSKEY record",
			 value);
		return TDNS_ECONFIG;
	}
	return TDNS_OK;
}

static int
check_nta(const char *value, char *err, size_t errlen)
{
	uint8_t (*names)[DNS_NAME_MAX] = NULL;
	size_t n = 0;
	int rc = resolver_nta_parse(value, &names, &n, err, errlen);
	free(names);
	return rc;
}

static const struct cfg_key dnssec_keys[] = {
	{
		.key = "validation", .def = "yes",
		.help = "yes: validate the answers of the iterator and the forwarders (DNSSEC, RFC "
			"4035): AD on secure answers, SERVFAIL with EDE on bogus ones; no: pass "
			"answers on unvalidated",
		.type = CFG_BOOL, .offset = offsetof(struct cfg, dnssec_validation),
	},
	{
		.key = "trust-anchor-file", .def = "",
		.help = "absolute path of a trust anchor file (DS or DNSKEY records in zone-file "
			"syntax, as Unbound's trust-anchor-file) that replaces the built-in root "
			"anchors; empty: the root KSKs 20326 and 38696",
		.type = CFG_PATH, .check = check_anchor_file,
		.expect = "an absolute path or nothing (the built-in root anchors)",
		.offset = offsetof(struct cfg, dnssec_anchor_file),
	},
	{
		/* RFC 8198 */
		.key = "aggressive-nsec", .def = "yes",
		.help = "yes: answer from validated NSEC/NSEC3 ranges in the cache (RFC 8198; "
			"accepted, not yet used: every query still reaches the upstream)",
		.type = CFG_BOOL, .offset = offsetof(struct cfg, dnssec_aggressive_nsec),
	},
	{
		/* RFC 7646 */
		.key = "negative-trust-anchors", .def = "",
		.help = "names (comma-separated) at and below which answers are not validated and "
			"count as insecure (RFC 7646); empty: none",
		.type = CFG_STR, .check = check_nta, .flags = CFG_KEY_LIST,
		.offset = offsetof(struct cfg, dnssec_nta),
	},
	{ .key = NULL },
};

const struct cfg_table resolver_schema_dnssec = { .section = "dnssec", .keys = dnssec_keys };
