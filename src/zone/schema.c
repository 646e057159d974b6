/* SPDX-License-Identifier: MIT */
/* zone schema: the [zone NAME] section table and [server] serial-policy. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg/cfg.h"
#include "core/core.h"
#include "dns/dns.h"
#include "net/client.h"
#include "net/schema.h"
#include "zone/zone.h"

static const struct cfg_enum serial_policies[] = {
	{ "increment", CFG_SERIAL_INCREMENT },
	{ "date", CFG_SERIAL_DATE },
	{ "unixtime", CFG_SERIAL_UNIXTIME },
	{ NULL, 0 },
};

static const struct cfg_key server_keys[] = {
	{
		/* BIND's serial-update-method policies; RFC 1912 §2.2 recommends the date. */
		.key = "serial-policy", .def = "increment",
		.help = "how changes made with tdns-cli bump a zone's SOA serial: increment, "
			"date (YYYYMMDDnn) or unixtime",
		.type = CFG_ENUM, .names = serial_policies,
		.offset = offsetof(struct cfg, serial_policy),
	},
	{ .key = NULL },
};

const struct cfg_table zone_schema_server = { .section = "server", .keys = server_keys };

static int
check_type(const char *value, char *err, size_t errlen)
{
	static const char *const later[] = { "forward", "slave", "master", NULL };
	if (strcmp(value, "primary") == 0 || strcmp(value, "forwarder") == 0 ||
	    strcmp(value, "stub") == 0 || strcmp(value, "secondary") == 0) {
		return TDNS_OK;
	}
	for (size_t i = 0; later[i] != NULL; i++) {
		if (strcmp(value, later[i]) == 0) {
			snprintf(err, errlen, "zone type '%s' is not supported yet; "
				 "expected primary, secondary, forwarder or stub", value);
			return TDNS_ECONFIG;
		}
	}
	snprintf(err, errlen, "invalid zone type '%s'; expected primary, secondary, forwarder or "
		 "stub", value);
	return TDNS_ECONFIG;
}

static int
check_file(const char *value, char *err, size_t errlen)
{
	if (value[0] == '\0') {
		snprintf(err, errlen, "empty zone file name; expected a file name, relative to "
			 "state-dir or absolute");
		return TDNS_ECONFIG;
	}
	return TDNS_OK;
}

static int
check_forwarders(const char *value, char *err, size_t errlen)
{
	return net_schema_check_servers(value, true, err, errlen);
}

/* Issue 17: the primaries of a secondary zone (zone.h); also what stub zones' lists must pass. */
int
zone_sec_parse_primaries(const char *text, struct zone_sec_primary *out, size_t max, size_t *n,
			 char *err, size_t errlen)
{
	char *copy = tdns_xstrdup(text);
	char *cur = copy;
	bool more = true;
	int rc = TDNS_OK;
	*n = 0;
	while (more && rc == TDNS_OK) {
		char *item = cfg_list_next(&cur, &more);
		if (item[0] == '\0') {
			if (more || *n == 0) {
				/* An empty list is fine ("" = none); an empty item is not. */
				if (more || cur != copy + strlen(text)) {
					snprintf(err, errlen, "empty item");
					rc = TDNS_EINVAL;
				}
			}
			continue;
		}
		struct zone_sec_primary p;
		memset(&p, 0, sizeof(p));
		char *save = NULL;
		char *addr = strtok_r(item, " \t", &save);
		char *kw = strtok_r(NULL, " \t", &save);
		char *kname = kw != NULL ? strtok_r(NULL, " \t", &save) : NULL;
		char *extra = kname != NULL ? strtok_r(NULL, " \t", &save) : NULL;
		struct cfg_listen l;
		if (cfg_parse_listen(addr, 53, &l) != TDNS_OK) {
			snprintf(err, errlen, "'%s' is not ADDR or ADDR:PORT", addr);
			rc = TDNS_EINVAL;
			break;
		}
		if (kw != NULL && (strcmp(kw, "key") != 0 || kname == NULL || extra != NULL)) {
			snprintf(err, errlen, "'%s ...' after %s; expected key NAME", kw, addr);
			rc = TDNS_EINVAL;
			break;
		}
		if (kname != NULL) {
			static const uint8_t root[1] = { 0 };
			if (dns_name_from_text(kname, strlen(kname), root, p.key) < 0) {
				snprintf(err, errlen, "bad key name '%s'", kname);
				rc = TDNS_EINVAL;
				break;
			}
			p.has_key = true;
		}
		memcpy(&p.addr, &l.addr, sizeof(p.addr));
		p.addrlen = l.addrlen;
		snprintf(p.text, sizeof(p.text), "%s", l.text);
		if (*n >= max && out != NULL) {
			snprintf(err, errlen, "more than %zu primaries", max);
			rc = TDNS_EINVAL;
			break;
		}
		if (out != NULL) {
			out[*n] = p;
		}
		(*n)++;
	}
	free(copy);
	return rc;
}

static int
check_primaries(const char *value, char *err, size_t errlen)
{
	size_t n;
	char why[256];
	if (zone_sec_parse_primaries(value, NULL, ZONE_SEC_MAX_PRIMARIES, &n, why,
				     sizeof(why)) != TDNS_OK) {
		snprintf(err, errlen, "invalid primaries: %s; expected IPv4 or IPv6 addresses "
			 "(stub zones: port 53), or ADDR[:PORT] [key NAME] items (secondary zones)",
			 why);
		return TDNS_ECONFIG;
	}
	if (n > ZONE_SEC_MAX_PRIMARIES) {
		snprintf(err, errlen, "%zu primaries; expected at most %d", n,
			 ZONE_SEC_MAX_PRIMARIES);
		return TDNS_ECONFIG;
	}
	return TDNS_OK;
}

static int
check_transport(const char *value, char *err, size_t errlen)
{
	if (strcmp(value, "tcp") == 0) {
		return TDNS_OK;
	}
	if (strcmp(value, "tls") == 0) {
		snprintf(err, errlen, "transport tls (XoT) is not supported yet for incoming "
			 "transfers; expected tcp");
		return TDNS_ECONFIG;
	}
	snprintf(err, errlen, "invalid transport '%s'; expected tcp", value);
	return TDNS_ECONFIG;
}

/*
 * The primaries of a secondary zone: every key named has a [tsig NAME] section; a stub zone's
 * primaries are plain addresses (port 53, no key), as they always were.
 */
static int
check_zone_primaries(const struct cfg *c, const struct cfg_zone *z, bool stub, char *err,
		     size_t errlen)
{
	struct zone_sec_primary prim[ZONE_SEC_MAX_PRIMARIES];
	size_t n = 0;
	char why[256];
	if (zone_sec_parse_primaries(z->primaries, prim, ZONE_SEC_MAX_PRIMARIES, &n, why,
				     sizeof(why)) != TDNS_OK) {
		snprintf(err, errlen, "%s:%u: zone '%s': invalid primaries: %s", z->src_file,
			 z->src_line, z->name, why);
		return TDNS_ECONFIG;
	}
	char *copy = tdns_xstrdup(z->primaries), *cur = copy;
	bool more = true;
	while (stub && more) {
		char *item = cfg_list_next(&cur, &more);
		uint8_t ip[16];
		if (inet_pton(AF_INET, item, ip) != 1 && inet_pton(AF_INET6, item, ip) != 1) {
			snprintf(err, errlen, "%s:%u: stub zone '%s': primary '%s' is not an IPv4 or "
				 "IPv6 address (port 53, no key); expected primaries = ADDRESS[, "
				 "ADDRESS...]", z->src_file, z->src_line, z->name, item);
			free(copy);
			return TDNS_ECONFIG;
		}
	}
	free(copy);
	for (size_t i = 0; i < n; i++) {
		if (prim[i].has_key &&
		    crypto_tsig_key_find(c->tsigs, c->ntsigs, prim[i].key) == NULL) {
			char name[DNS_NAME_TEXT_MAX];
			dns_name_to_text(prim[i].key, name, sizeof(name));
			snprintf(err, errlen, "%s:%u: zone '%s': primaries name key %s, which has no "
				 "[tsig %s] section; expected a configured key", z->src_file,
				 z->src_line, z->name, name, name);
			return TDNS_ECONFIG;
		}
	}
	return TDNS_OK;
}

static int
check_allow_transfer(const char *value, char *err, size_t errlen)
{
	uint8_t (*keys)[DNS_NAME_MAX];
	size_t nkeys;
	char why[256];
	if (zone_xfr_parse_allow(value, NULL, &keys, &nkeys, why, sizeof(why)) != TDNS_OK) {
		snprintf(err, errlen, "invalid allow-transfer: %s; expected CIDR prefixes and "
			 "key NAME items", why);
		return TDNS_ECONFIG;
	}
	return TDNS_OK;
}

int
zone_notify_parse(const char *text, struct client_server **out, size_t *n, char *err,
		  size_t errlen)
{
	char *copy = tdns_xstrdup(text), *cursor = copy;
	bool more = true;
	int rc = TDNS_OK;
	*out = NULL;
	*n = 0;
	while (more && rc == TDNS_OK) {
		char *item = cfg_list_next(&cursor, &more);
		if (item[0] == '\0') {
			continue;
		}
		/* A bare IPv6 address has no port: brackets make it a URL host. */
		char spec[CLIENT_ADDR_MAX + 32];
		struct in6_addr a6;
		if (inet_pton(AF_INET6, item, &a6) == 1) {
			snprintf(spec, sizeof(spec), "udp://[%s]", item);
		} else {
			snprintf(spec, sizeof(spec), "udp://%s", item);
		}
		struct client_server srv;
		char why[256];
		if (strchr(item, '/') != NULL ||
		    client_server_parse(spec, &srv, why, sizeof(why)) != CLIENT_OK) {
			snprintf(err, errlen, "'%s'; expected ADDRESS or ADDRESS:PORT ([IPv6]:PORT)",
				 item);
			rc = TDNS_EINVAL;
			break;
		}
		struct in_addr a4;
		if (inet_pton(AF_INET, srv.name, &a4) != 1 &&
		    inet_pton(AF_INET6, srv.name, &a6) != 1) {
			snprintf(err, errlen, "'%s' is not an IP address; expected ADDRESS or "
				 "ADDRESS:PORT", item);
			rc = TDNS_EINVAL;
			break;
		}
		if (client_server_resolve(&srv, why, sizeof(why)) != CLIENT_OK) {
			snprintf(err, errlen, "'%s': %s", item, why);
			rc = TDNS_EINVAL;
			break;
		}
		*out = tdns_xrealloc(*out, (*n + 1) * sizeof(**out));
		(*out)[(*n)++] = srv;
	}
	free(copy);
	if (rc != TDNS_OK) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

static int
check_notify(const char *value, char *err, size_t errlen)
{
	struct client_server *srv;
	size_t n;
	char why[256];
	if (zone_notify_parse(value, &srv, &n, why, sizeof(why)) != TDNS_OK) {
		snprintf(err, errlen, "invalid notify: %s", why);
		return TDNS_ECONFIG;
	}
	free(srv);
	return TDNS_OK;
}

/* Every "key NAME" of allow-transfer names a [tsig NAME] section (loaded before zones). */
static int
check_transfer_keys(const struct cfg *c, const struct cfg_zone *z, char *err, size_t errlen)
{
	struct filter_acl acl = { 0 };
	uint8_t (*keys)[DNS_NAME_MAX] = NULL;
	size_t nkeys = 0;
	char why[256];
	int rc = zone_xfr_parse_allow(z->allow_transfer, &acl, &keys, &nkeys, why, sizeof(why));
	for (size_t i = 0; rc == TDNS_OK && i < nkeys; i++) {
		if (crypto_tsig_key_find(c->tsigs, c->ntsigs, keys[i]) == NULL) {
			char name[DNS_NAME_TEXT_MAX];
			dns_name_to_text(keys[i], name, sizeof(name));
			snprintf(err, errlen, "%s:%u: zone '%s': allow-transfer names key %s, which "
				 "has no [tsig %s] section; expected a configured key", z->src_file,
				 z->src_line, z->name, name, name);
			rc = TDNS_ECONFIG;
		}
	}
	filter_acl_clear(&acl);
	free(keys);
	return rc;
}

static const struct cfg_key zone_keys[] = {
	{
		.key = "type", .def = "primary",
		.help = "how the zone is served: primary (from its file), secondary (transferred "
			"from primaries), forwarder (a conditional forwarder zone) or stub (its NS "
			"set, from primaries)",
		.type = CFG_STR, .check = check_type, .offset = offsetof(struct cfg_zone, type),
	},
	{
		.key = "file", .def = "NAME.zone",
		.help = "zone file, absolute or relative to state-dir; default: the zone name "
			"without the trailing dot, plus \".zone\"",
		.type = CFG_STR, .check = check_file, .offset = offsetof(struct cfg_zone, file),
		.flags = CFG_KEY_DERIVED,
	},
	{
		.key = "forwarders", .def = "",
		.help = "type forwarder: server URLs for names in the zone, or this-server "
			"(the [forwarders] of the server)",
		.type = CFG_STR, .check = check_forwarders, .flags = CFG_KEY_LIST,
		.offset = offsetof(struct cfg_zone, forwarders),
	},
	{
		.key = "primaries", .def = "",
		.help = "type secondary: ADDR[:PORT] [key NAME], ... the servers the zone is "
			"transferred from, with the [tsig NAME] key to sign with; type stub: "
			"addresses (port 53) asked for the zone's SOA, NS and glue",
		.type = CFG_STR, .check = check_primaries, .flags = CFG_KEY_LIST,
		.offset = offsetof(struct cfg_zone, primaries),
	},
	{
		.key = "allow-transfer", .def = "",
		.help = "who may transfer the zone (AXFR, IXFR): CIDR prefixes and key NAME items "
			"naming [tsig NAME] sections; empty: nobody",
		.type = CFG_STR, .check = check_allow_transfer, .flags = CFG_KEY_LIST,
		.offset = offsetof(struct cfg_zone, allow_transfer),
	},
	{
		.key = "notify", .def = "",
		.help = "type primary: ADDRESS[:PORT] items sent a NOTIFY on every new serial, "
			"besides the zone's NS addresses (when allow-transfer is set)",
		.type = CFG_STR, .check = check_notify, .flags = CFG_KEY_LIST,
		.offset = offsetof(struct cfg_zone, notify),
	},
	{
		.key = "journal-size", .def = "1M",
		.help = "bytes of changes kept in the zone's IXFR journal (state-dir/NAME.jnl); "
			"older changes are dropped past it",
		.type = CFG_SIZE, .min = 1024, .max = 1024ull * 1024 * 1024,
		.expect = "a number of bytes with an optional K, M or G suffix (1K to 1G)",
		.offset = offsetof(struct cfg_zone, journal_size),
	},
	{
		.key = "transport", .def = "tcp",
		.help = "type secondary: how transfers are asked for: tcp",
		.type = CFG_STR, .check = check_transport,
		.offset = offsetof(struct cfg_zone, transport),
	},
	{ .key = NULL },
};

/* Names are absolute here: "example.com" and "example.com." are the same zone. */
static int
zone_open(void *inst, const char *name, char *why, size_t whylen)
{
	static const uint8_t root[1] = { 0 };
	struct cfg_zone *z = inst;
	int len = dns_name_from_text(name, strlen(name), root, z->apex);
	if (len < 0) {
		snprintf(why, whylen, "%s", tdns_status_msg(len));
		return len;
	}
	return TDNS_OK;
}

static bool
zone_same(const void *a, const void *b)
{
	return dns_name_eq(((const struct cfg_zone *)a)->apex, ((const struct cfg_zone *)b)->apex);
}

/* The default zone file name: the zone's name in lower case, no trailing dot, ".zone". */
static int
default_zone_file(struct cfg_zone *z, char *err, size_t errlen)
{
	uint8_t lower[DNS_NAME_MAX];
	char text[DNS_NAME_TEXT_MAX];
	memcpy(lower, z->apex, dns_name_len(z->apex));
	dns_name_lower(lower);
	int n = dns_name_to_text(lower, text, sizeof(text));
	if (n < 0) {
		snprintf(err, errlen, "%s:%u: zone '%s': %s", z->src_file, z->src_line, z->name,
			 tdns_status_msg(n));
		return TDNS_ECONFIG;
	}
	if (strcmp(text, ".") == 0) {
		z->file = tdns_xstrdup("root.zone");
		return TDNS_OK;
	}
	text[n - 1] = '\0';
	if (strchr(text, '/') != NULL || text[0] == '.') {
		snprintf(err, errlen, "%s:%u: zone '%s' needs a file key; expected file = NAME",
			 z->src_file, z->src_line, z->name);
		return TDNS_ECONFIG;
	}
	size_t len = strlen(text) + sizeof(".zone");
	z->file = tdns_xmalloc(len);
	snprintf(z->file, len, "%s.zone", text);
	return TDNS_OK;
}

/* Keys that only make sense together; the derived file name, made absolute (state-dir). */
static int
zone_finish(struct cfg *c, void *inst, char *err, size_t errlen)
{
	struct cfg_zone *z = inst;
	bool fwd = strcmp(z->type, "forwarder") == 0;
	if (!fwd && z->forwarders[0] != '\0') {
		snprintf(err, errlen, "%s:%u: zone '%s' has forwarders but type %s; expected "
			 "type = forwarder", z->src_file, z->src_line, z->name, z->type);
		return TDNS_ECONFIG;
	}
	bool stub = strcmp(z->type, "stub") == 0;
	bool sec = strcmp(z->type, "secondary") == 0;
	if ((stub || sec) && z->primaries[0] == '\0') {
		snprintf(err, errlen, "%s:%u: %s zone '%s' has no primaries; expected primaries = "
			 "%s", z->src_file, z->src_line, z->type, z->name,
			 sec ? "ADDR[:PORT] [key NAME][, ...]" : "ADDRESS[, ADDRESS...]");
		return TDNS_ECONFIG;
	}
	if (!stub && !sec && z->primaries[0] != '\0') {
		snprintf(err, errlen, "%s:%u: zone '%s' has primaries but type %s; expected type = "
			 "secondary or stub", z->src_file, z->src_line, z->name, z->type);
		return TDNS_ECONFIG;
	}
	if ((stub || sec) && check_zone_primaries(c, z, stub, err, errlen) != TDNS_OK) {
		return TDNS_ECONFIG;
	}
	if (fwd && strcmp(z->forwarders, "this-server") == 0 && c->forwarders[0] == '\0') {
		snprintf(err, errlen, "%s:%u: zone '%s' forwards to this-server, but [forwarders] "
			 "servers is empty; expected server URLs", z->src_file, z->src_line,
			 z->name);
		return TDNS_ECONFIG;
	}
	if (check_transfer_keys(c, z, err, errlen) != TDNS_OK) {
		return TDNS_ECONFIG;
	}
	if (z->file == NULL && default_zone_file(z, err, errlen) != TDNS_OK) {
		return TDNS_ECONFIG;
	}
	if (z->file[0] != '/') {
		size_t len = strlen(c->state_dir) + 1 + strlen(z->file) + 1;
		char *abs = tdns_xmalloc(len);
		bool root = strcmp(c->state_dir, "/") == 0;
		snprintf(abs, len, "%s/%s", root ? "" : c->state_dir, z->file);
		free(z->file);
		z->file = abs;
	}
	return TDNS_OK;
}

static const struct cfg_named zone_named = {
	CFG_NAMED_LAYOUT(cfg_zone, zones, nzones),
	.name_expect = "a domain name such as example.com",
	.open = zone_open,
	.same = zone_same,
};

const struct cfg_table zone_schema_zone = {
	.section = "zone", .keys = zone_keys, .named = &zone_named, .finish = zone_finish,
};
