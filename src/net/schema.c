/* SPDX-License-Identifier: MIT */
/* net schema: the keys of the UDP, TCP, DoT and DoH listeners and their validators. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg/cfg.h"
#include "core/core.h"
#include "filter/filter.h"
#include "net/client.h"
#include "net/schema.h"

int
net_schema_check_servers(const char *value, bool this_server, char *err, size_t errlen)
{
	char *copy = tdns_xstrdup(value);
	char *p = copy;
	int rc = TDNS_OK;
	size_t n = 0;
	for (;;) {
		bool more;
		char *item = cfg_list_next(&p, &more);
		if (item[0] == '\0') {
			if (more || n > 0) {
				snprintf(err, errlen, "empty item in the server list; expected URLs "
					 "such as udp://192.0.2.1, tls://dns.example#192.0.2.1, "
					 "separated by commas");
				rc = TDNS_ECONFIG;
			}
		} else if (strcmp(item, "this-server") == 0) {
			if (!this_server || n > 0 || more) {
				snprintf(err, errlen, "'this-server' must stand alone, in a forwarder "
					 "zone; expected server URLs");
				rc = TDNS_ECONFIG;
			}
			n++;
		} else {
			struct client_server srv;
			char msg[256];
			if (client_server_parse(item, &srv, msg, sizeof(msg)) != CLIENT_OK) {
				snprintf(err, errlen, "invalid server '%s': %s; expected udp://ADDR[:PORT], "
					 "tcp://ADDR[:PORT], tls://NAME[:PORT][#ADDR], "
					 "https://NAME[/PATH][#ADDR] or https+json://...", item, msg);
				rc = TDNS_ECONFIG;
			}
			n++;
		}
		if (rc != TDNS_OK || !more) {
			break;
		}
	}
	free(copy);
	return rc;
}

/* [doh] path: the URI path of DoH requests (RFC 8484 §3: a URI Template, here fixed). */
static int
check_doh_path(const char *value, char *err, size_t errlen)
{
	bool ok = value[0] == '/' && strlen(value) < 256;
	for (const char *p = value; ok && *p != '\0'; p++) {
		ok = *p > ' ' && *p < 0x7f && *p != '?' && *p != '#' && *p != '%';
	}
	if (!ok) {
		snprintf(err, errlen, "invalid path '%s'; expected an absolute URI path such as "
			 "/dns-query, without query, fragment or escapes", value);
		return TDNS_ECONFIG;
	}
	return TDNS_OK;
}

/* [doh] trusted-proxies: a CIDR list (may be empty). */
static int
check_trusted_proxies(const char *value, char *err, size_t errlen)
{
	struct filter_acl acl = { NULL, 0 };
	char msg[256];
	if (filter_acl_parse(value, &acl, msg, sizeof(msg)) != TDNS_OK) {
		snprintf(err, errlen, "invalid trusted-proxies list: %s", msg);
		return TDNS_ECONFIG;
	}
	filter_acl_clear(&acl);
	return TDNS_OK;
}

static const struct cfg_key server_keys[] = {
	{
		.key = "listen", .def = "127.0.0.1:53, [::1]:53",
		.help = "addresses for UDP and TCP: ADDR[:PORT] or [IPV6][:PORT], comma-separated; "
			"the port defaults to 53",
		.type = CFG_LISTEN, .port = 53, .offset = offsetof(struct cfg, listen),
		.count_offset = offsetof(struct cfg, nlisten),
	},
	{
		.key = "workers", .def = "auto",
		.help = "worker threads: 'auto' (one per core) or 1..64",
		.type = CFG_UINT, .min = 1, .max = 64, .flags = CFG_KEY_AUTO,
		.expect = "'auto' or a number", .offset = offsetof(struct cfg, workers),
	},
	{ .key = NULL },
};

const struct cfg_table net_schema_server = { .section = "server", .keys = server_keys };

static const struct cfg_key server_tcp_keys[] = {
	{
		/* RFC 7766 §6.2.3: idle timeouts of the order of seconds; an hour is plenty. */
		.key = "tcp-idle-timeout", .def = "10",
		.help = "seconds a TCP connection may stay idle before it is closed (1..3600)",
		.type = CFG_UINT, .min = 1, .max = 3600, .expect = "a number of seconds",
		.offset = offsetof(struct cfg, tcp_idle_timeout),
	},
	{
		.key = "tcp-max-connections", .def = "1024",
		.help = "open TCP connections per worker (1..65535); at the limit a new one closes "
			"the least recently active idle one, else the slowest unfinished one, or is "
			"refused",
		.type = CFG_UINT, .min = 1, .max = 65535, .expect = "a number",
		.offset = offsetof(struct cfg, tcp_max_connections),
	},
	{
		/* RFC 6891 §6.2.5: below 512 is treated as 512; 4096 is the customary ceiling. */
		.key = "udp-max-payload", .def = "1232",
		.help = "largest UDP reply sent to an EDNS client, in octets (512..4096)",
		.type = CFG_UINT, .min = 512, .max = 4096, .expect = "a number of octets",
		.offset = offsetof(struct cfg, udp_max_payload),
	},
	{ .key = NULL },
};

const struct cfg_table net_schema_server_tcp = { .section = "server", .keys = server_tcp_keys };

/* [server] identity and version: one CH TXT string, so at most 255 octets. */
static int
check_ident_text(const char *value, char *err, size_t errlen)
{
	if (strlen(value) > 255) {
		snprintf(err, errlen, "text of %zu octets is too long; expected at most 255 (one "
			 "TXT string), or nothing for off", strlen(value));
		return TDNS_ECONFIG;
	}
	return TDNS_OK;
}

/* [server] nsid: TEXT or hex:HEX, 1-255 octets (RFC 5001 §2.3). */
static int
check_nsid(const char *value, char *err, size_t errlen)
{
	if (strncmp(value, "hex:", 4) == 0) {
		const char *h = value + 4;
		bool ok = strlen(h) > 0 && strlen(h) % 2 == 0 && strlen(h) <= 510;
		for (const char *p = h; ok && *p != '\0'; p++) {
			ok = strchr("0123456789abcdefABCDEF", *p) != NULL;
		}
		if (!ok) {
			snprintf(err, errlen, "invalid nsid '%s'; expected hex: followed by 1-255 "
				 "octets as pairs of hex digits", value);
			return TDNS_ECONFIG;
		}
	} else if (strlen(value) > 255) {
		snprintf(err, errlen, "nsid of %zu octets is too long; expected at most 255",
			 strlen(value));
		return TDNS_ECONFIG;
	}
	return TDNS_OK;
}

static const struct cfg_key server_ident_keys[] = {
	{
		.key = "identity", .def = "",
		.help = "text answered to CH TXT id.server. and hostname.bind. queries (at most "
			"255 octets); empty: those queries are REFUSED",
		.type = CFG_STR, .flags = CFG_KEY_EMPTY_NULL, .check = check_ident_text,
		.offset = offsetof(struct cfg, identity),
	},
	{
		.key = "version", .def = "",
		.help = "text answered to CH TXT version.server. and version.bind. queries (at "
			"most 255 octets); empty: those queries are REFUSED",
		.type = CFG_STR, .flags = CFG_KEY_EMPTY_NULL, .check = check_ident_text,
		.offset = offsetof(struct cfg, version),
	},
	{
		.key = "nsid", .def = "",
		.help = "EDNS NSID (RFC 5001) sent to clients that ask: TEXT or hex:HEX, at most "
			"255 octets; empty: no NSID",
		.type = CFG_STR, .flags = CFG_KEY_EMPTY_NULL, .check = check_nsid,
		.offset = offsetof(struct cfg, nsid),
	},
	{ .key = NULL },
};

const struct cfg_table net_schema_server_ident = { .section = "server",
						   .keys = server_ident_keys };

#define TLS_FILE .type = CFG_PATH, .what = "file name", .expect = "an absolute path or nothing"

static const struct cfg_key tls_keys[] = {
	{
		.key = "certificate", .def = "",
		.help = "certificate for DoT and DoH: a PEM file (chain, and the key unless key is "
			"set) or a PKCS#12 file (.pfx/.p12); reloaded when it changes",
		TLS_FILE, .offset = offsetof(struct cfg, tls_certificate),
	},
	{
		.key = "key", .def = "",
		.help = "PEM private key of the certificate; empty: in the certificate file",
		TLS_FILE, .offset = offsetof(struct cfg, tls_key),
	},
	{
		.key = "password-file", .def = "",
		.help = "file (mode 0600) holding the password of the PKCS#12 file or of an "
			"encrypted PEM key; empty: no password",
		TLS_FILE, .offset = offsetof(struct cfg, tls_password_file),
	},
	{ .key = NULL },
};

const struct cfg_table net_schema_tls = { .section = "tls", .keys = tls_keys };

static const struct cfg_key dot_keys[] = {
	{
		/* RFC 7858 §3.1: port 853. */
		.key = "listen", .def = "",
		.help = "addresses for DNS over TLS (RFC 7858), port 853 by default; empty: off",
		.type = CFG_LISTEN, .port = 853, .flags = CFG_KEY_EMPTY_OK,
		.offset = offsetof(struct cfg, dot_listen),
		.count_offset = offsetof(struct cfg, ndot_listen),
	},
	{ .key = NULL },
};

const struct cfg_table net_schema_dot = { .section = "dot", .keys = dot_keys };

static const struct cfg_key doh_keys[] = {
	{
		/* RFC 8484 §1: the https port 443. */
		.key = "listen", .def = "",
		.help = "addresses for DNS over HTTPS (RFC 8484, HTTP/2 and HTTP/1.1), port 443 "
			"by default; empty: off",
		.type = CFG_LISTEN, .port = 443, .flags = CFG_KEY_EMPTY_OK,
		.offset = offsetof(struct cfg, doh_listen),
		.count_offset = offsetof(struct cfg, ndoh_listen),
	},
	{
		.key = "http-listen", .def = "",
		.help = "addresses for DNS over plain HTTP behind a reverse proxy, port 80 by "
			"default; empty: off",
		.type = CFG_LISTEN, .port = 80, .flags = CFG_KEY_EMPTY_OK,
		.offset = offsetof(struct cfg, http_listen),
		.count_offset = offsetof(struct cfg, nhttp_listen),
	},
	{
		.key = "path", .def = "/dns-query",
		.help = "URI path of DoH requests",
		.type = CFG_STR, .check = check_doh_path, .offset = offsetof(struct cfg, doh_path),
	},
	{
		.key = "trusted-proxies", .def = "127.0.0.0/8, ::1",
		.help = "proxies (CIDR list) whose X-Real-IP or X-Forwarded-For header names the "
			"client on the http-listen addresses",
		.type = CFG_STR, .check = check_trusted_proxies, .flags = CFG_KEY_LIST,
		.offset = offsetof(struct cfg, doh_trusted_proxies),
	},
	{ .key = NULL },
};

/* Encrypted listeners need something to encrypt with. */
static int
finish_encrypted(struct cfg *c, void *inst, char *err, size_t errlen)
{
	(void)inst;
	if ((c->ndot_listen > 0 || c->ndoh_listen > 0) && c->tls_certificate[0] == '\0') {
		snprintf(err, errlen, "%s: [%s] listen needs [tls] certificate; expected a PEM or "
			 "PKCS#12 file, or no listen addresses", c->path,
			 c->ndot_listen > 0 ? "dot" : "doh");
		return TDNS_ECONFIG;
	}
	return TDNS_OK;
}

const struct cfg_table net_schema_doh = {
	.section = "doh", .keys = doh_keys, .finish = finish_encrypted,
};
