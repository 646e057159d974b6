/* SPDX-License-Identifier: MIT */
/* cfg: the configuration schema table, its value parsers and the inih loader with file:line. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include <ini.h>

#include "cfg/cfg.h"
#include "core/core.h"
#include "ctl/ctl.h"
#include "filter/filter.h"
#include "net/client.h"
#include "resolver/resolver.h"

/* Every message a value parser writes is "what was wrong; expected what". */
#define LISTEN_EXPECT "expected ADDR, ADDR:PORT, [IPV6] or [IPV6]:PORT separated by commas, " \
	"port 1..65535"

static void
set_str(char **target, const char *value)
{
	free(*target);
	*target = tdns_xstrdup(value);
}

/* Strict unsigned decimal: digits only, no sign, no spaces, no overflow. */
static bool
parse_u32(const char *s, unsigned long max, unsigned *out)
{
	unsigned long v = 0;
	if (*s == '\0') {
		return false;
	}
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9') {
			return false;
		}
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > max) {
			return false;
		}
	}
	*out = (unsigned)v;
	return true;
}

static int
parse_range(unsigned *target, const char *value, const char *key, unsigned min, unsigned max,
	    const char *unit, char *err, size_t errlen)
{
	unsigned v;
	if (!parse_u32(value, 0xffffffffUL, &v) || v < min || v > max) {
		snprintf(err, errlen, "invalid %s '%s'; expected %s %u..%u", key, value, unit, min,
			 max);
		return TDNS_ECONFIG;
	}
	*target = v;
	return TDNS_OK;
}

/*
 * Parses one listen address; *why says what was wrong.  IPv4 goes through inet_pton, not
 * getaddrinfo, because the latter accepts inet_aton shorthands such as "127.1".
 */
static int
listen_parse(const char *s, uint16_t default_port, struct cfg_listen *l, const char **why)
{
	char host[128];
	const char *port = NULL;
	bool v6;
	size_t hlen;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL) {
			*why = "missing ']'";
			return TDNS_EINVAL;
		}
		hlen = (size_t)(close - s - 1);
		if (close[1] == ':') {
			port = close + 2;
		} else if (close[1] != '\0') {
			*why = "text after ']'";
			return TDNS_EINVAL;
		}
		s++;
		v6 = true;
	} else {
		const char *colon = strchr(s, ':');
		hlen = strlen(s);
		v6 = colon != NULL;
		if (colon != NULL && strchr(colon + 1, ':') == NULL) {
			/* One colon: IPv4 with a port; an IPv6 address always has two or more. */
			hlen = (size_t)(colon - s);
			port = colon + 1;
			v6 = false;
		}
	}
	if (hlen == 0 || hlen >= sizeof(host)) {
		*why = "not an IP address";
		return TDNS_EINVAL;
	}
	memcpy(host, s, hlen);
	host[hlen] = '\0';

	unsigned portnum = default_port;
	if (port != NULL) {
		unsigned long maxlong = 99999;
		if (!parse_u32(port, maxlong, &portnum)) {
			*why = "port is not a number";
			return TDNS_EINVAL;
		}
		if (portnum == 0 || portnum > 65535) {
			*why = "port out of range";
			return TDNS_EINVAL;
		}
	}

	memset(l, 0, sizeof(*l));
	if (!v6) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&l->addr;
		if (strchr(host, ']') != NULL || inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
			*why = "not an IP address";
			return TDNS_EINVAL;
		}
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)portnum);
		l->addrlen = sizeof(*sin);
		char num[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &sin->sin_addr, num, sizeof(num));
		snprintf(l->text, sizeof(l->text), "%s:%u", num, portnum);
		return TDNS_OK;
	}

	/* getaddrinfo for IPv6 so that a scope ("fe80::1%eth0") is understood. */
	struct addrinfo hints = {
		.ai_family = AF_INET6,
		.ai_socktype = SOCK_DGRAM,
		.ai_flags = AI_NUMERICHOST,
	};
	struct addrinfo *res = NULL;
	if (getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL ||
	    res->ai_addrlen > sizeof(l->addr)) {
		if (res != NULL) {
			freeaddrinfo(res);
		}
		*why = "not an IP address";
		return TDNS_EINVAL;
	}
	memcpy(&l->addr, res->ai_addr, res->ai_addrlen);
	l->addrlen = (socklen_t)res->ai_addrlen;
	freeaddrinfo(res);
	((struct sockaddr_in6 *)&l->addr)->sin6_port = htons((uint16_t)portnum);
	char num[INET6_ADDRSTRLEN + 32];
	if (getnameinfo((struct sockaddr *)&l->addr, l->addrlen, num, sizeof(num), NULL, 0,
			NI_NUMERICHOST) != 0) {
		*why = "not an IP address";
		return TDNS_EINVAL;
	}
	int n = snprintf(l->text, sizeof(l->text), "[%s]:%u", num, portnum);
	if (n < 0 || (size_t)n >= sizeof(l->text)) {
		*why = "address too long";
		return TDNS_EINVAL;
	}
	return TDNS_OK;
}

int
cfg_parse_listen(const char *s, uint16_t default_port, struct cfg_listen *l)
{
	const char *why;
	return listen_parse(s, default_port, l, &why);
}

/*
 * A comma-separated listen list with default_port; the whole list replaces the previous one.
 * An empty value is an empty list (the listener is off) when allow_empty.
 */
static int
parse_listen_list(const char *value, uint16_t default_port, bool allow_empty,
		  struct cfg_listen **target, size_t *count, char *err, size_t errlen)
{
	struct cfg_listen *list = NULL;
	size_t n = 0;
	char *copy = tdns_xstrdup(value);
	char *p = copy;
	int rc = TDNS_ECONFIG;

	while (*p == ' ' || *p == '\t') {
		p++;
	}
	if (*p == '\0' && allow_empty) {
		goto done;
	}
	for (;;) {
		char *comma = strchr(p, ',');
		if (comma != NULL) {
			*comma = '\0';
		}
		while (*p == ' ' || *p == '\t') {
			p++;
		}
		size_t len = strlen(p);
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t')) {
			p[--len] = '\0';
		}
		if (len == 0) {
			snprintf(err, errlen, "%s; %s", n == 0 && comma == NULL ?
				 "listen has no address" : "empty address in the listen list",
				 LISTEN_EXPECT);
			goto out;
		}
		list = tdns_xrealloc(list, (n + 1) * sizeof(*list));
		const char *why = NULL;
		if (listen_parse(p, default_port, &list[n], &why) != TDNS_OK) {
			snprintf(err, errlen, "invalid listen address '%s' (%s); %s", p, why,
				 LISTEN_EXPECT);
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			if (list[i].addrlen == list[n].addrlen &&
			    memcmp(&list[i].addr, &list[n].addr, list[n].addrlen) == 0) {
				snprintf(err, errlen, "listen address %s is listed twice; "
					 "expected each address once", list[n].text);
				goto out;
			}
		}
		n++;
		if (comma == NULL) {
			break;
		}
		p = comma + 1;
	}
done:
	free(*target);
	*target = list;
	*count = n;
	list = NULL;
	rc = TDNS_OK;
out:
	free(list);
	free(copy);
	return rc;
}

/* [server] listen: UDP and TCP, port 53 by default. */
static int
parse_listen(struct cfg *c, void *target, const char *value, char *err, size_t errlen)
{
	return parse_listen_list(value, 53, false, target, &c->nlisten, err, errlen);
}

/* [dot] listen: DNS over TLS (RFC 7858 §3.1: port 853); empty = off. */
static int
parse_dot_listen(struct cfg *c, void *target, const char *value, char *err, size_t errlen)
{
	return parse_listen_list(value, 853, true, target, &c->ndot_listen, err, errlen);
}

/* [doh] listen: DNS over HTTPS (RFC 8484 §1: the https port 443); empty = off. */
static int
parse_doh_listen(struct cfg *c, void *target, const char *value, char *err, size_t errlen)
{
	return parse_listen_list(value, 443, true, target, &c->ndoh_listen, err, errlen);
}

/* [doh] http-listen: DNS over plain HTTP for a reverse proxy (port 80); empty = off. */
static int
parse_http_listen(struct cfg *c, void *target, const char *value, char *err, size_t errlen)
{
	return parse_listen_list(value, 80, true, target, &c->nhttp_listen, err, errlen);
}

/* [tls] certificate, key, password-file: absolute paths, or empty. */
static int
parse_tls_file(struct cfg *c, void *target, const char *value, char *err, size_t errlen)
{
	if (value[0] != '\0' && value[0] != '/') {
		snprintf(err, errlen, "invalid file name '%s'; expected an absolute path or "
			 "nothing", value);
		return TDNS_ECONFIG;
	}
	set_str(target, value);
	return TDNS_OK;
}

/* [doh] path: the URI path of DoH requests (RFC 8484 §3: a URI Template, here fixed). */
static int
parse_doh_path(struct cfg *c, void *target, const char *value, char *err, size_t errlen)
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
	set_str(target, value);
	return TDNS_OK;
}

/* [doh] trusted-proxies: a CIDR list (may be empty). */
static int
parse_trusted_proxies(struct cfg *c, void *target, const char *value, char *err,
		      size_t errlen)
{
	struct filter_acl acl = { NULL, 0 };
	char msg[256];
	if (filter_acl_parse(value, &acl, msg, sizeof(msg)) != TDNS_OK) {
		snprintf(err, errlen, "invalid trusted-proxies list: %s", msg);
		return TDNS_ECONFIG;
	}
	filter_acl_clear(&acl);
	set_str(target, value);
	return TDNS_OK;
}

static int
parse_workers(struct cfg *c, void *target, const char *value, char *err, size_t errlen)
{
	if (strcmp(value, "auto") == 0) {
		*(unsigned *)target = 0;
		return TDNS_OK;
	}
	unsigned v;
	if (!parse_u32(value, 64, &v) || v == 0) {
		snprintf(err, errlen, "invalid workers '%s'; expected 'auto' or a number 1..64",
			 value);
		return TDNS_ECONFIG;
	}
	*(unsigned *)target = v;
	return TDNS_OK;
}

static int
parse_state_dir(struct cfg *c, void *target, const char *value, char *err, size_t errlen)
{
	/* Absolute, because the daemon changes to "/" when it detaches. */
	if (value[0] != '/') {
		snprintf(err, errlen, "invalid state-dir '%s'; expected an absolute path", value);
		return TDNS_ECONFIG;
	}
	set_str(target, value);
	/* "/srv/tdns/" and "/srv/tdns" are one directory; joined file names stay clean. */
	char *dir = *(char **)target;
	for (size_t len = strlen(dir); len > 1 && dir[len - 1] == '/'; len--) {
		dir[len - 1] = '\0';
	}
	return TDNS_OK;
}

static int
parse_user(struct cfg *c, void *target, const char *value, char *err, size_t errlen)
{
	char **t = target;
	free(*t);
	*t = value[0] != '\0' ? tdns_xstrdup(value) : NULL;
	return TDNS_OK;
}

static int
parse_tcp_idle_timeout(struct cfg *c, void *target, const char *value, char *err,
		       size_t errlen)
{
	/* RFC 7766 §6.2.3: idle timeouts of the order of seconds; an hour is plenty. */
	return parse_range(target, value, "tcp-idle-timeout", 1, 3600, "a number of seconds",
			   err, errlen);
}

static int
parse_tcp_max_connections(struct cfg *c, void *target, const char *value, char *err,
			  size_t errlen)
{
	return parse_range(target, value, "tcp-max-connections", 1, 65535, "a number", err,
			   errlen);
}

static int
parse_udp_max_payload(struct cfg *c, void *target, const char *value, char *err,
		      size_t errlen)
{
	/* RFC 6891 §6.2.5: below 512 is treated as 512; 4096 is the customary ceiling. */
	return parse_range(target, value, "udp-max-payload", 512, 4096, "a number of octets",
			   err, errlen);
}

static int
parse_log_level(struct cfg *c, void *target, const char *value, char *err, size_t errlen)
{
	int lvl = tdns_log_level_parse(value);
	if (lvl < 0) {
		snprintf(err, errlen, "invalid log level '%s'; expected err, warning, notice, info "
			 "or debug", value);
		return TDNS_ECONFIG;
	}
	*(int *)target = lvl;
	return TDNS_OK;
}

static int
parse_serial_policy(struct cfg *c, void *target, const char *value, char *err, size_t errlen)
{
	/* The policies of BIND's serial-update-method; RFC 1912 §2.2 recommends the date form. */
	static const struct { const char *name; unsigned policy; } policies[] = {
		{ "increment", CFG_SERIAL_INCREMENT },
		{ "date", CFG_SERIAL_DATE },
		{ "unixtime", CFG_SERIAL_UNIXTIME },
	};
	for (size_t i = 0; i < sizeof(policies) / sizeof(policies[0]); i++) {
		if (strcmp(value, policies[i].name) == 0) {
			*(unsigned *)target = policies[i].policy;
			return TDNS_OK;
		}
	}
	snprintf(err, errlen, "invalid serial-policy '%s'; expected increment, date or unixtime",
		 value);
	return TDNS_ECONFIG;
}

static int
parse_control_socket(struct cfg *c, void *target, const char *value, char *err, size_t errlen)
{
	/* sun_path holds 108 octets with the NUL on Linux; absolute because tdnsd chdirs to /. */
	struct sockaddr_un sun;
	if (value[0] != '/' || strlen(value) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "invalid control socket '%s'; expected an absolute path "
			 "of at most %zu characters", value, sizeof(sun.sun_path) - 1);
		return TDNS_ECONFIG;
	}
	set_str(target, value);
	return TDNS_OK;
}

static int
parse_control_group(struct cfg *c, void *target, const char *value, char *err, size_t errlen)
{
	/* Group names as useradd(8) accepts them; the daemon looks the group up at start. */
	for (const char *s = value; *s != '\0'; s++) {
		bool ok = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			  (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' ||
			  (*s == '-' && s != value) || (*s == '$' && s[1] == '\0');
		if (!ok || s - value >= 32) {
			snprintf(err, errlen, "invalid control group '%s'; expected a group name "
				 "(letters, digits, '_', '.', '-'), or nothing", value);
			return TDNS_ECONFIG;
		}
	}
	char **t = target;
	free(*t);
	*t = value[0] != '\0' ? tdns_xstrdup(value) : NULL;
	return TDNS_OK;
}

static int
parse_zone_type(struct cfg *c, void *target, const char *value, char *err, size_t errlen)
{
	static const char *const later[] = { "secondary", "forward", "slave", "master", NULL };
	if (strcmp(value, "primary") == 0 || strcmp(value, "forwarder") == 0 ||
	    strcmp(value, "stub") == 0) {
		set_str(target, value);
		return TDNS_OK;
	}
	for (size_t i = 0; later[i] != NULL; i++) {
		if (strcmp(value, later[i]) == 0) {
			snprintf(err, errlen, "zone type '%s' is not supported yet; "
				 "expected primary, forwarder or stub", value);
			return TDNS_ECONFIG;
		}
	}
	snprintf(err, errlen, "invalid zone type '%s'; expected primary, forwarder or stub", value);
	return TDNS_ECONFIG;
}

/* Stub zone primaries (issue 5): a list of IPv4 or IPv6 addresses, asked on port 53. */
static int
parse_zone_primaries(struct cfg *c, void *target, const char *value, char *err,
		     size_t errlen)
{
	char *copy = tdns_xstrdup(value);
	int st = TDNS_OK;
	for (char *save = NULL, *tok = strtok_r(copy, ", \t", &save); tok != NULL;
	     tok = strtok_r(NULL, ", \t", &save)) {
		uint8_t ip[16];
		if (inet_pton(AF_INET, tok, ip) != 1 && inet_pton(AF_INET6, tok, ip) != 1) {
			snprintf(err, errlen, "invalid primary '%s'; expected IPv4 or IPv6 "
				 "addresses (port 53)", tok);
			st = TDNS_ECONFIG;
			break;
		}
	}
	free(copy);
	if (st == TDNS_OK) {
		set_str(target, value);
	}
	return st;
}

static int
parse_zone_file(struct cfg *c, void *target, const char *value, char *err, size_t errlen)
{
	if (value[0] == '\0') {
		snprintf(err, errlen, "empty zone file name; expected a file name, relative to "
			 "state-dir or absolute");
		return TDNS_ECONFIG;
	}
	set_str(target, value);
	return TDNS_OK;
}

/* ---- [recursion], [forwarders], [cache] (issue 4) ---------------------------------------- */

static int
parse_recursion_mode(struct cfg *c, void *target, const char *value, char *err, size_t errlen)
{
	if (strcmp(value, "off") == 0) {
		*(unsigned *)target = CFG_RECURSION_OFF;
		return TDNS_OK;
	}
	if (strcmp(value, "forward") == 0) {
		*(unsigned *)target = CFG_RECURSION_FORWARD;
		return TDNS_OK;
	}
	if (strcmp(value, "recursive") == 0) {
		*(unsigned *)target = CFG_RECURSION_RECURSIVE;
		return TDNS_OK;
	}
	snprintf(err, errlen, "invalid recursion mode '%s'; expected recursive, forward or off",
		 value);
	return TDNS_ECONFIG;
}

/* Issue 5: the iterator's keys. */
static int
parse_root_hints(struct cfg *c, void *target, const char *value, char *err, size_t errlen)
{
	if (value[0] != '\0' && value[0] != '/') {
		snprintf(err, errlen, "invalid root-hints '%s'; expected an absolute path or nothing "
			 "(the built-in IANA hints)", value);
		return TDNS_ECONFIG;
	}
	if (value[0] != '\0') {
		/* A bad hints file stops start-up (and `tdnsd -t`) here, with its own file:line. */
		struct resolver_hints *h = tdns_xmalloc(sizeof(*h));
		char msg[768];
		int rc = resolver_hints_load(value, h, msg, sizeof(msg));
		free(h);
		if (rc != TDNS_OK) {
			snprintf(err, errlen, "invalid root-hints: %s", msg);
			return TDNS_ECONFIG;
		}
	}
	set_str(target, value);
	return TDNS_OK;
}

static int
parse_max_depth(struct cfg *c, void *target, const char *value, char *err, size_t errlen)
{
	return parse_range(target, value, "max-depth", 1, 100, "a number of referrals", err,
			   errlen);
}

static int
parse_max_queries(struct cfg *c, void *target, const char *value, char *err, size_t errlen)
{
	return parse_range(target, value, "max-queries", 1, 1000, "a number of queries", err,
			   errlen);
}

static int
parse_max_time(struct cfg *c, void *target, const char *value, char *err, size_t errlen)
{
	return parse_range(target, value, "max-time-ms", 100, 120000, "a number of milliseconds",
			   err, errlen);
}

static int
parse_outgoing(struct cfg *c, void *target, const char *value, char *err, size_t errlen)
{
	char *copy = tdns_xstrdup(value);
	int rc = TDNS_OK;
	for (char *save = NULL, *tok = strtok_r(copy, ", \t", &save); tok != NULL;
	     tok = strtok_r(NULL, ", \t", &save)) {
		uint8_t ip[16];
		if (inet_pton(AF_INET, tok, ip) != 1 && inet_pton(AF_INET6, tok, ip) != 1) {
			snprintf(err, errlen, "invalid outgoing-address '%s'; expected IPv4 or IPv6 "
				 "addresses separated by commas, or nothing", tok);
			rc = TDNS_ECONFIG;
			break;
		}
	}
	free(copy);
	if (rc == TDNS_OK) {
		set_str(target, value);
	}
	return rc;
}

static int
parse_recursion_allow(struct cfg *c, void *target, const char *value, char *err,
		      size_t errlen)
{
	struct filter_acl acl = { NULL, 0 };
	char msg[256];
	if (filter_acl_parse(value, &acl, msg, sizeof(msg)) != TDNS_OK) {
		snprintf(err, errlen, "invalid allow list: %s", msg);
		return TDNS_ECONFIG;
	}
	filter_acl_clear(&acl);
	set_str(target, value);
	return TDNS_OK;
}

/*
 * Checks a comma-separated list of forwarder URLs (client_server_parse syntax); this_server
 * allows the word "this-server" alone.  Empty lists are accepted.
 */
static int
check_servers(const char *value, bool this_server, char *err, size_t errlen)
{
	char *copy = tdns_xstrdup(value);
	char *p = copy;
	int rc = TDNS_OK;
	size_t n = 0;
	for (;;) {
		char *comma = strchr(p, ',');
		if (comma != NULL) {
			*comma = '\0';
		}
		while (*p == ' ' || *p == '\t') {
			p++;
		}
		size_t len = strlen(p);
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t')) {
			p[--len] = '\0';
		}
		if (len == 0) {
			if (comma != NULL || n > 0) {
				snprintf(err, errlen, "empty item in the server list; expected URLs "
					 "such as udp://192.0.2.1, tls://dns.example#192.0.2.1, "
					 "separated by commas");
				rc = TDNS_ECONFIG;
			}
		} else if (strcmp(p, "this-server") == 0) {
			if (!this_server || n > 0 || comma != NULL) {
				snprintf(err, errlen, "'this-server' must stand alone, in a forwarder "
					 "zone; expected server URLs");
				rc = TDNS_ECONFIG;
			}
			n++;
		} else {
			struct client_server srv;
			char msg[256];
			if (client_server_parse(p, &srv, msg, sizeof(msg)) != CLIENT_OK) {
				snprintf(err, errlen, "invalid server '%s': %s; expected udp://ADDR[:PORT], "
					 "tcp://ADDR[:PORT], tls://NAME[:PORT][#ADDR], "
					 "https://NAME[/PATH][#ADDR] or https+json://...", p, msg);
				rc = TDNS_ECONFIG;
			}
			n++;
		}
		if (rc != TDNS_OK || comma == NULL) {
			break;
		}
		p = comma + 1;
	}
	free(copy);
	return rc;
}

static int
parse_forwarders(struct cfg *c, void *target, const char *value, char *err, size_t errlen)
{
	if (check_servers(value, false, err, errlen) != TDNS_OK) {
		return TDNS_ECONFIG;
	}
	set_str(target, value);
	return TDNS_OK;
}

static int
parse_zone_forwarders(struct cfg *c, void *target, const char *value, char *err,
		      size_t errlen)
{
	if (check_servers(value, true, err, errlen) != TDNS_OK) {
		return TDNS_ECONFIG;
	}
	set_str(target, value);
	return TDNS_OK;
}

static int
parse_forward_mode(struct cfg *c, void *target, const char *value, char *err, size_t errlen)
{
	if (strcmp(value, "concurrent") == 0) {
		*(unsigned *)target = CFG_FORWARD_CONCURRENT;
		return TDNS_OK;
	}
	if (strcmp(value, "sequential") == 0) {
		*(unsigned *)target = CFG_FORWARD_SEQUENTIAL;
		return TDNS_OK;
	}
	snprintf(err, errlen, "invalid forwarders mode '%s'; expected concurrent or sequential",
		 value);
	return TDNS_ECONFIG;
}

static int
parse_forward_timeout(struct cfg *c, void *target, const char *value, char *err,
		      size_t errlen)
{
	return parse_range(target, value, "timeout", 50, 60000, "a number of milliseconds", err,
			   errlen);
}

static int
parse_ca_file(struct cfg *c, void *target, const char *value, char *err, size_t errlen)
{
	if (value[0] != '\0' && value[0] != '/') {
		snprintf(err, errlen, "invalid ca-file '%s'; expected an absolute path or nothing",
			 value);
		return TDNS_ECONFIG;
	}
	set_str(target, value);
	return TDNS_OK;
}

static int
parse_cache_size(struct cfg *c, void *target, const char *value, char *err, size_t errlen)
{
	size_t len = strlen(value);
	uint64_t mult = 1;
	char num[24];
	if (len > 0 && strchr("kKmMgG", value[len - 1]) != NULL) {
		char u = value[len - 1];
		mult = (u == 'k' || u == 'K') ? 1024ull : (u == 'm' || u == 'M') ? 1024ull * 1024 :
		       1024ull * 1024 * 1024;
		len--;
	}
	unsigned v;
	if (len == 0 || len >= sizeof(num)) {
		goto bad;
	}
	memcpy(num, value, len);
	num[len] = '\0';
	if (!parse_u32(num, 0xffffffffUL, &v)) {
		goto bad;
	}
	uint64_t bytes = (uint64_t)v * mult;
	if (bytes < 64ull * 1024 || bytes > 1024ull * 1024 * 1024 * 1024) {
		goto bad;
	}
	*(uint64_t *)target = bytes;
	return TDNS_OK;
bad:
	snprintf(err, errlen, "invalid max-size '%s'; expected a number of bytes with an optional "
		 "K, M or G suffix, 64K..1024G", value);
	return TDNS_ECONFIG;
}

static int
parse_ttl_key(void *target, const char *value, const char *key, char *err, size_t errlen)
{
	/* A week is the longest TTL worth keeping (Unbound's default cache-max-ttl is a day). */
	return parse_range(target, value, key, 0, 604800, "a number of seconds", err, errlen);
}

static int
parse_min_ttl(struct cfg *c, void *target, const char *value, char *err, size_t errlen)
{
	return parse_ttl_key(target, value, "min-ttl", err, errlen);
}

static int
parse_max_ttl(struct cfg *c, void *target, const char *value, char *err, size_t errlen)
{
	return parse_ttl_key(target, value, "max-ttl", err, errlen);
}

static int
parse_neg_max_ttl(struct cfg *c, void *target, const char *value, char *err, size_t errlen)
{
	return parse_ttl_key(target, value, "negative-max-ttl", err, errlen);
}

static int
parse_serve_stale(struct cfg *c, void *target, const char *value, char *err, size_t errlen)
{
	return parse_ttl_key(target, value, "serve-stale", err, errlen);
}

static int
parse_yes_no(struct cfg *c, void *target, const char *value, char *err, size_t errlen)
{
	if (strcmp(value, "yes") == 0) {
		*(unsigned *)target = 1;
		return TDNS_OK;
	}
	if (strcmp(value, "no") == 0) {
		*(unsigned *)target = 0;
		return TDNS_OK;
	}
	snprintf(err, errlen, "invalid value '%s'; expected yes or no", value);
	return TDNS_ECONFIG;
}

const struct cfg_key cfg_keys[] = {
	{
		.section = "server", .key = "listen", .def = "127.0.0.1:53, [::1]:53",
		.help = "addresses for UDP and TCP: ADDR[:PORT] or [IPV6][:PORT], comma-separated; "
			"the port defaults to 53",
		.parse = parse_listen, .offset = offsetof(struct cfg, listen),
	},
	{
		.section = "server", .key = "workers", .def = "auto",
		.help = "worker threads: 'auto' (one per core) or 1..64",
		.parse = parse_workers, .offset = offsetof(struct cfg, workers),
	},
	{
		.section = "server", .key = "state-dir", .def = LOCALSTATEDIR "/lib/tdns",
		.help = "absolute directory for zone files and other state; relative zone files "
			"are found here",
		.parse = parse_state_dir, .offset = offsetof(struct cfg, state_dir),
	},
	{
		.section = "server", .key = "user", .def = "",
		.help = "user to switch to after binding the sockets; empty: keep the user "
			"tdnsd was started as",
		.parse = parse_user, .offset = offsetof(struct cfg, user),
	},
	{
		.section = "server", .key = "tcp-idle-timeout", .def = "10",
		.help = "seconds a TCP connection may stay idle before it is closed (1..3600)",
		.parse = parse_tcp_idle_timeout, .offset = offsetof(struct cfg, tcp_idle_timeout),
	},
	{
		.section = "server", .key = "tcp-max-connections", .def = "1024",
		.help = "open TCP connections per worker (1..65535); more are refused",
		.parse = parse_tcp_max_connections,
		.offset = offsetof(struct cfg, tcp_max_connections),
	},
	{
		.section = "server", .key = "udp-max-payload", .def = "1232",
		.help = "largest UDP reply sent to an EDNS client, in octets (512..4096)",
		.parse = parse_udp_max_payload, .offset = offsetof(struct cfg, udp_max_payload),
	},
	{
		.section = "server", .key = "serial-policy", .def = "increment",
		.help = "how changes made with tdns-cli bump a zone's SOA serial: increment, "
			"date (YYYYMMDDnn) or unixtime",
		.parse = parse_serial_policy, .offset = offsetof(struct cfg, serial_policy),
	},
	{
		.section = "control", .key = "socket", .def = CTL_DEFAULT_SOCKET,
		.help = "Unix socket of the control protocol used by tdns-cli; absolute path",
		.parse = parse_control_socket, .offset = offsetof(struct cfg, control_socket),
	},
	{
		.section = "control", .key = "group", .def = "",
		.help = "group whose members may use the control socket besides root and the "
			"daemon's user; empty: none",
		.parse = parse_control_group, .offset = offsetof(struct cfg, control_group),
	},
	{
		.section = "log", .key = "level", .def = "info",
		.help = "least important messages logged: err, warning, notice, info or debug",
		.parse = parse_log_level, .offset = offsetof(struct cfg, log_level),
	},
	{
		.section = "recursion", .key = "mode", .def = "recursive",
		.help = "names outside our zones: recursive (iterate from the root), forward "
			"(cache and [forwarders]) or off (REFUSED)",
		.parse = parse_recursion_mode, .offset = offsetof(struct cfg, recursion_mode),
	},
	{
		.section = "recursion", .key = "allow",
		.def = "127.0.0.0/8, ::1, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, "
		       "100.64.0.0/10, fc00::/7, fe80::/10",
		.help = "clients (CIDR list) whose queries for names outside our zones are "
			"resolved; others get REFUSED with EDE 18",
		.parse = parse_recursion_allow, .offset = offsetof(struct cfg, recursion_allow),
	},
	{
		.section = "recursion", .key = "root-hints", .def = "",
		.help = "absolute path of a root hints file (NS records for the root and their "
			"A/AAAA, as IANA's named.root); empty: the built-in IANA hints",
		.parse = parse_root_hints, .offset = offsetof(struct cfg, root_hints),
	},
	{
		.section = "recursion", .key = "qname-minimisation", .def = "yes",
		.help = "yes: send each server only the labels it needs (RFC 9156), falling back to "
			"the full name for servers that mishandle it; no: full names",
		.parse = parse_yes_no, .offset = offsetof(struct cfg, qname_min),
	},
	{
		.section = "recursion", .key = "max-depth", .def = "30",
		.help = "referrals followed for one client query (1..100); beyond: SERVFAIL, EDE 22",
		.parse = parse_max_depth, .offset = offsetof(struct cfg, max_depth),
	},
	{
		.section = "recursion", .key = "max-queries", .def = "100",
		.help = "queries to other servers one client query may cause, NS address lookups "
			"included (1..1000); beyond: SERVFAIL, EDE 22",
		.parse = parse_max_queries, .offset = offsetof(struct cfg, max_queries),
	},
	{
		.section = "recursion", .key = "max-time-ms", .def = "10000",
		.help = "milliseconds one client query may take (100..120000); beyond: SERVFAIL, "
			"EDE 22",
		.parse = parse_max_time, .offset = offsetof(struct cfg, max_time_ms),
	},
	{
		.section = "recursion", .key = "case-randomisation", .def = "no",
		.help = "yes: randomise the case of names sent to other servers (0x20) and require "
			"answers to echo it exactly",
		.parse = parse_yes_no, .offset = offsetof(struct cfg, case_random),
	},
	{
		.section = "recursion", .key = "outgoing-address", .def = "",
		.help = "source addresses (IPv4, IPv6, comma-separated) of queries to other "
			"servers; empty: chosen by the system",
		.parse = parse_outgoing, .offset = offsetof(struct cfg, outgoing_address),
	},
	{
		.section = "forwarders", .key = "servers", .def = "",
		.help = "upstream servers: udp://, tcp://, tls://NAME[:PORT][#ADDR], https://, "
			"https+json:// URLs, comma-separated",
		.parse = parse_forwarders, .offset = offsetof(struct cfg, forwarders),
	},
	{
		.section = "forwarders", .key = "mode", .def = "concurrent",
		.help = "concurrent (ask up to three at once, first good answer wins) or "
			"sequential (by RTT, failing over on timeout)",
		.parse = parse_forward_mode, .offset = offsetof(struct cfg, forward_mode),
	},
	{
		.section = "forwarders", .key = "timeout", .def = "2000",
		.help = "milliseconds to wait for one upstream server (50..60000)",
		.parse = parse_forward_timeout, .offset = offsetof(struct cfg, forward_timeout),
	},
	{
		.section = "forwarders", .key = "ca-file", .def = "",
		.help = "PEM CA bundle that tls:// and https:// servers are checked against; "
			"empty: the system trust store",
		.parse = parse_ca_file, .offset = offsetof(struct cfg, forward_ca_file),
	},
	{
		.section = "cache", .key = "max-size", .def = "256M",
		.help = "largest size of the answer cache in bytes, with K, M or G suffix",
		.parse = parse_cache_size, .offset = offsetof(struct cfg, cache_max_size),
	},
	{
		.section = "cache", .key = "min-ttl", .def = "0",
		.help = "seconds: shorter TTLs of positive answers are raised to this",
		.parse = parse_min_ttl, .offset = offsetof(struct cfg, cache_min_ttl),
	},
	{
		.section = "cache", .key = "max-ttl", .def = "86400",
		.help = "seconds: longer TTLs of positive answers are lowered to this",
		.parse = parse_max_ttl, .offset = offsetof(struct cfg, cache_max_ttl),
	},
	{
		.section = "cache", .key = "negative-max-ttl", .def = "3600",
		.help = "seconds: cap of cached NXDOMAIN and NODATA answers (RFC 2308); 0 = "
			"no negative caching",
		.parse = parse_neg_max_ttl, .offset = offsetof(struct cfg, cache_neg_max_ttl),
	},
	{
		.section = "cache", .key = "serve-stale", .def = "86400",
		.help = "seconds after expiry an answer may still be served when every upstream "
			"fails (RFC 8767, EDE 3); 0 = off",
		.parse = parse_serve_stale, .offset = offsetof(struct cfg, cache_serve_stale),
	},
	{
		.section = "cache", .key = "prefetch", .def = "yes",
		.help = "refresh popular answers shortly before they expire: yes or no",
		.parse = parse_yes_no, .offset = offsetof(struct cfg, cache_prefetch),
	},
	{
		.section = "tls", .key = "certificate", .def = "",
		.help = "certificate for DoT and DoH: a PEM file (chain, and the key unless key is "
			"set) or a PKCS#12 file (.pfx/.p12); reloaded when it changes",
		.parse = parse_tls_file, .offset = offsetof(struct cfg, tls_certificate),
	},
	{
		.section = "tls", .key = "key", .def = "",
		.help = "PEM private key of the certificate; empty: in the certificate file",
		.parse = parse_tls_file, .offset = offsetof(struct cfg, tls_key),
	},
	{
		.section = "tls", .key = "password-file", .def = "",
		.help = "file (mode 0600) holding the password of the PKCS#12 file or of an "
			"encrypted PEM key; empty: no password",
		.parse = parse_tls_file, .offset = offsetof(struct cfg, tls_password_file),
	},
	{
		.section = "dot", .key = "listen", .def = "",
		.help = "addresses for DNS over TLS (RFC 7858), port 853 by default; empty: off",
		.parse = parse_dot_listen, .offset = offsetof(struct cfg, dot_listen),
	},
	{
		.section = "doh", .key = "listen", .def = "",
		.help = "addresses for DNS over HTTPS (RFC 8484, HTTP/2 and HTTP/1.1), port 443 "
			"by default; empty: off",
		.parse = parse_doh_listen, .offset = offsetof(struct cfg, doh_listen),
	},
	{
		.section = "doh", .key = "http-listen", .def = "",
		.help = "addresses for DNS over plain HTTP behind a reverse proxy, port 80 by "
			"default; empty: off",
		.parse = parse_http_listen, .offset = offsetof(struct cfg, http_listen),
	},
	{
		.section = "doh", .key = "path", .def = "/dns-query",
		.help = "URI path of DoH requests",
		.parse = parse_doh_path, .offset = offsetof(struct cfg, doh_path),
	},
	{
		.section = "doh", .key = "trusted-proxies", .def = "127.0.0.0/8, ::1",
		.help = "proxies (CIDR list) whose X-Real-IP or X-Forwarded-For header names the "
			"client on the http-listen addresses",
		.parse = parse_trusted_proxies, .offset = offsetof(struct cfg, doh_trusted_proxies),
	},
	{
		.section = "zone", .key = "type", .def = "primary",
		.help = "how the zone is served: primary (from its file), forwarder "
			"(a conditional forwarder zone) or stub (its NS set, from primaries)",
		.parse = parse_zone_type, .offset = offsetof(struct cfg_zone, type),
	},
	{
		.section = "zone", .key = "file", .def = "NAME.zone",
		.help = "zone file, absolute or relative to state-dir; default: the zone name "
			"without the trailing dot, plus \".zone\"",
		.parse = parse_zone_file, .offset = offsetof(struct cfg_zone, file),
		.flags = CFG_KEY_DERIVED,
	},
	{
		.section = "zone", .key = "forwarders", .def = "",
		.help = "type forwarder: server URLs for names in the zone, or this-server "
			"(the [forwarders] of the server)",
		.parse = parse_zone_forwarders, .offset = offsetof(struct cfg_zone, forwarders),
	},
	{
		.section = "zone", .key = "primaries", .def = "",
		.help = "type stub: addresses (IPv4 or IPv6, port 53) of the servers asked for the "
			"zone's SOA, NS and glue",
		.parse = parse_zone_primaries, .offset = offsetof(struct cfg_zone, primaries),
	},
	{ .key = NULL },
};

/* Sections and keys of DESIGN.md that later releases will accept, for a clearer error. */
static const char *const later_sections[] = {
	"dnssec", NULL,
};
static const char *const later_keys[] = { "log/query-log", NULL };

/* ------------------------------------------------------------------------------------------ */
/* The loader                                                                                   */

enum section {
	SECT_NONE, SECT_SERVER, SECT_CONTROL, SECT_LOG, SECT_ZONE, SECT_RECURSION,
	SECT_FORWARDERS, SECT_CACHE, SECT_TLS, SECT_DOT, SECT_DOH,
};

/* Sections named in "expected one of" messages. */
#define SECTIONS_EXPECT "[server], [control], [log], [recursion], [forwarders], [cache], " \
	"[tls], [dot], [doh], [zone NAME]"

struct loader {
	const char *path;
	FILE *fp;
	char *buf;                /* getline buffer */
	size_t bufcap;
	unsigned line;            /* of the line inih is working on */
	struct cfg *c;
	enum section sect;
	size_t zone;              /* index into c->zones when sect is SECT_ZONE */
	unsigned *seen;           /* line where each cfg_keys entry was set, 0 = not yet */
	int status;               /* first error, TDNS_OK while none */
	unsigned err_line;
	char msg[768];
};

static void
fail(struct loader *ld, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
fail(struct loader *ld, int status, const char *fmt, ...)
{
	if (ld->status != TDNS_OK) {
		return;
	}
	ld->status = status;
	ld->err_line = ld->line;
	int n = snprintf(ld->msg, sizeof(ld->msg), "%s:%u: ", ld->path, ld->line);
	if (n < 0 || (size_t)n >= sizeof(ld->msg)) {
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ld->msg + n, sizeof(ld->msg) - (size_t)n, fmt, ap);
	va_end(ap);
}

static const char *
sect_name(enum section s)
{
	return s == SECT_SERVER ? "server" : s == SECT_CONTROL ? "control" :
	       s == SECT_LOG ? "log" : s == SECT_RECURSION ? "recursion" :
	       s == SECT_FORWARDERS ? "forwarders" : s == SECT_CACHE ? "cache" :
	       s == SECT_TLS ? "tls" : s == SECT_DOT ? "dot" : s == SECT_DOH ? "doh" : "zone";
}

/* The current section as people wrote it, for messages: "server", "zone example.com". */
static void
sect_label(const struct loader *ld, char *out, size_t cap)
{
	if (ld->sect == SECT_ZONE) {
		snprintf(out, cap, "zone %s", ld->c->zones[ld->zone].name);
	} else {
		snprintf(out, cap, "%s", sect_name(ld->sect));
	}
}

/* Applies the defaults of one section to base; a failure is a bug in the table. */
static int
apply_defaults(struct cfg *c, const char *section, void *base, char *err, size_t errlen)
{
	for (const struct cfg_key *k = cfg_keys; k->key != NULL; k++) {
		if (strcmp(k->section, section) != 0 || k->def == NULL ||
		    (k->flags & CFG_KEY_DERIVED)) {
			continue;
		}
		char msg[256];
		if (k->parse(c, (char *)base + k->offset, k->def, msg, sizeof(msg)) != TDNS_OK) {
			snprintf(err, errlen, "built-in default of [%s] %s: %s", section, k->key,
				 msg);
			return TDNS_ECONFIG;
		}
	}
	return TDNS_OK;
}

static void
list_keys(const char *section, char *out, size_t cap)
{
	size_t off = 0;
	out[0] = '\0';
	for (const struct cfg_key *k = cfg_keys; k->key != NULL; k++) {
		if (strcmp(k->section, section) == 0 && off < cap) {
			int n = snprintf(out + off, cap - off, "%s%s", off ? ", " : "", k->key);
			off += n > 0 ? (size_t)n : 0;
		}
	}
}

static void
begin_zone(struct loader *ld, const char *name)
{
	struct cfg *c = ld->c;
	static const uint8_t root[1] = { 0 };
	uint8_t apex[DNS_NAME_MAX];

	if (name[0] == '\0') {
		fail(ld, TDNS_ECONFIG, "zone section without a name; expected [zone NAME]");
		return;
	}
	/* Names are absolute here: "example.com" and "example.com." are the same zone. */
	int len = dns_name_from_text(name, strlen(name), root, apex);
	if (len < 0) {
		fail(ld, TDNS_ECONFIG, "invalid zone name '%s' (%s); expected a domain name such "
		     "as example.com", name, tdns_status_msg(len));
		return;
	}
	for (size_t i = 0; i < c->nzones; i++) {
		if (dns_name_eq(c->zones[i].apex, apex)) {
			fail(ld, TDNS_ECONFIG, "duplicate zone '%s' (first at line %u); expected "
			     "each zone once", name, c->zones[i].src_line);
			return;
		}
	}
	c->zones = tdns_xrealloc(c->zones, (c->nzones + 1) * sizeof(*c->zones));
	struct cfg_zone *z = &c->zones[c->nzones++];
	memset(z, 0, sizeof(*z));
	z->name = tdns_xstrdup(name);
	memcpy(z->apex, apex, (size_t)len);
	z->src_file = tdns_xstrdup(ld->path);
	z->src_line = ld->line;
	char msg[256];
	if (apply_defaults(c, "zone", z, msg, sizeof(msg)) != TDNS_OK) {
		fail(ld, TDNS_ECONFIG, "%s", msg);
		return;
	}
	for (size_t i = 0; cfg_keys[i].key != NULL; i++) {
		if (strcmp(cfg_keys[i].section, "zone") == 0) {
			ld->seen[i] = 0;
		}
	}
	ld->zone = c->nzones - 1;
	ld->sect = SECT_ZONE;
}

/* A "[...]" line; called by the reader because inih only reports key = value lines. */
static void
begin_section(struct loader *ld, char *name)
{
	while (*name == ' ' || *name == '\t') {
		name++;
	}
	size_t len = strlen(name);
	while (len > 0 && (name[len - 1] == ' ' || name[len - 1] == '\t')) {
		name[--len] = '\0';
	}
	if (strcmp(name, "server") == 0) {
		ld->sect = SECT_SERVER;
		return;
	}
	if (strcmp(name, "control") == 0) {
		ld->sect = SECT_CONTROL;
		return;
	}
	if (strcmp(name, "log") == 0) {
		ld->sect = SECT_LOG;
		return;
	}
	if (strcmp(name, "recursion") == 0) {
		ld->sect = SECT_RECURSION;
		return;
	}
	if (strcmp(name, "forwarders") == 0) {
		ld->sect = SECT_FORWARDERS;
		return;
	}
	if (strcmp(name, "cache") == 0) {
		ld->sect = SECT_CACHE;
		return;
	}
	static const struct { const char *name; enum section sect; } more[] = {
		{ "tls", SECT_TLS }, { "dot", SECT_DOT }, { "doh", SECT_DOH },
	};
	for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++) {
		if (strcmp(name, more[i].name) == 0) {
			ld->sect = more[i].sect;
			return;
		}
	}
	if (strncmp(name, "zone", 4) == 0 && (name[4] == '\0' || name[4] == ' ' ||
					      name[4] == '\t')) {
		name += 4;
		while (*name == ' ' || *name == '\t') {
			name++;
		}
		begin_zone(ld, name);
		return;
	}
	const char *later = "";
	for (size_t i = 0; later_sections[i] != NULL; i++) {
		if (strcmp(name, later_sections[i]) == 0) {
			later = " (not supported by this release yet)";
		}
	}
	fail(ld, TDNS_ECONFIG, "unknown section [%s]%s; expected one of: " SECTIONS_EXPECT, name,
	     later);
}

/*
 * The ini_reader: hands inih one physical line per call, so inih's line numbers are ours, and
 * notices section headers.  Leading blanks are removed because inih would take an indented
 * line for the continuation of the previous value, which is never what a tdnsd.conf means.
 */
static char *
reader(char *str, int num, void *stream)
{
	struct loader *ld = stream;
	if (ld->status != TDNS_OK) {
		return NULL;
	}
	ssize_t n = getline(&ld->buf, &ld->bufcap, ld->fp);
	if (n < 0) {
		if (ferror(ld->fp)) {
			int e = errno;
			ld->line++;
			fail(ld, TDNS_EIO, "cannot read: %s", strerror(e));
		}
		return NULL;
	}
	ld->line++;
	char *s = ld->buf;
	if (ld->line == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
		s += 3;
	}
	while (*s == ' ' || *s == '\t') {
		s++;
	}
	size_t len = (size_t)n - (size_t)(s - ld->buf);
	/* inih reads fgets-style: the line, its newline and the NUL must fit in num. */
	if (num < 3 || len + 1 > (size_t)num) {
		fail(ld, TDNS_ECONFIG, "line too long; expected at most %d characters", num - 2);
		return NULL;
	}
	memcpy(str, s, len + 1);

	if (str[0] == '[') {
		/* As in inih: ']' ends the name unless a ';' after a blank comes first. */
		for (char *p = str + 1; *p != '\0'; p++) {
			if (*p == ';' && (p[-1] == ' ' || p[-1] == '\t')) {
				break;
			}
			if (*p == ']') {
				char name[512];
				size_t nlen = (size_t)(p - str - 1);
				if (nlen >= sizeof(name)) {
					nlen = sizeof(name) - 1;
				}
				memcpy(name, str + 1, nlen);
				name[nlen] = '\0';
				begin_section(ld, name);
				break;
			}
		}
	}
	return str;
}

static int
handler(void *user, const char *section, const char *name, const char *value)
{
	struct loader *ld = user;
	if (ld->status != TDNS_OK) {
		return 0;
	}
	if (ld->sect == SECT_NONE) {
		fail(ld, TDNS_ECONFIG, "key '%s' outside any section; expected a [section] line "
		     "first", name);
		return 0;
	}
	const char *sname = sect_name(ld->sect);
	size_t idx = 0;
	const struct cfg_key *k = NULL;
	for (; cfg_keys[idx].key != NULL; idx++) {
		if (strcmp(cfg_keys[idx].section, sname) == 0 &&
		    strcmp(cfg_keys[idx].key, name) == 0) {
			k = &cfg_keys[idx];
			break;
		}
	}
	if (k == NULL) {
		char keys[256];
		char full[128];
		const char *later = "";
		list_keys(sname, keys, sizeof(keys));
		snprintf(full, sizeof(full), "%s/%s", sname, name);
		for (size_t i = 0; later_keys[i] != NULL; i++) {
			if (strcmp(full, later_keys[i]) == 0) {
				later = " (not supported by this release yet)";
			}
		}
		char label[300];
		sect_label(ld, label, sizeof(label));
		fail(ld, TDNS_ECONFIG, "unknown key '%s' in section [%s]%s; expected one of: %s",
		     name, label, later, keys);
		return 0;
	}
	if (ld->seen[idx] != 0) {
		char label[300];
		sect_label(ld, label, sizeof(label));
		fail(ld, TDNS_ECONFIG, "duplicate key '%s' in section [%s] (first at line %u); "
		     "expected each key once", name, label, ld->seen[idx]);
		return 0;
	}
	ld->seen[idx] = ld->line;
	void *base = ld->sect == SECT_ZONE ? (void *)&ld->c->zones[ld->zone] : (void *)ld->c;
	char msg[512];
	if (k->parse(ld->c, (char *)base + k->offset, value, msg, sizeof(msg)) != TDNS_OK) {
		fail(ld, TDNS_ECONFIG, "%s", msg);
		return 0;
	}
	return 1;
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

/* Fills derived defaults and makes zone files absolute (state-dir may come after the zone). */
static int
finish(struct cfg *c, char *err, size_t errlen)
{
	/* Settings that only make sense together (issue 4). */
	if (c->recursion_mode == CFG_RECURSION_FORWARD && c->forwarders[0] == '\0') {
		snprintf(err, errlen, "%s: [recursion] mode = forward needs [forwarders] servers; "
			 "expected at least one server URL, or mode = off", c->path);
		return TDNS_ECONFIG;
	}
	if (c->cache_min_ttl > c->cache_max_ttl) {
		snprintf(err, errlen, "%s: [cache] min-ttl %u is above max-ttl %u; expected "
			 "min-ttl <= max-ttl", c->path, c->cache_min_ttl, c->cache_max_ttl);
		return TDNS_ECONFIG;
	}
	/* Encrypted listeners need something to encrypt with (issue 6). */
	if ((c->ndot_listen > 0 || c->ndoh_listen > 0) && c->tls_certificate[0] == '\0') {
		snprintf(err, errlen, "%s: [%s] listen needs [tls] certificate; expected a PEM or "
			 "PKCS#12 file, or no listen addresses", c->path,
			 c->ndot_listen > 0 ? "dot" : "doh");
		return TDNS_ECONFIG;
	}
	for (size_t i = 0; i < c->nzones; i++) {
		struct cfg_zone *z = &c->zones[i];
		bool fwd = strcmp(z->type, "forwarder") == 0;
		if (!fwd && z->forwarders[0] != '\0') {
			snprintf(err, errlen, "%s:%u: zone '%s' has forwarders but type %s; expected "
				 "type = forwarder", z->src_file, z->src_line, z->name, z->type);
			return TDNS_ECONFIG;
		}
		bool stub = strcmp(z->type, "stub") == 0;
		if (stub && z->primaries[0] == '\0') {
			snprintf(err, errlen, "%s:%u: stub zone '%s' has no primaries; expected "
				 "primaries = ADDRESS[, ADDRESS...]", z->src_file, z->src_line,
				 z->name);
			return TDNS_ECONFIG;
		}
		if (!stub && z->primaries[0] != '\0') {
			snprintf(err, errlen, "%s:%u: zone '%s' has primaries but type %s; "
				 "expected type = stub", z->src_file, z->src_line, z->name,
				 z->type);
			return TDNS_ECONFIG;
		}
		if (fwd && strcmp(z->forwarders, "this-server") == 0 &&
		    c->forwarders[0] == '\0') {
			snprintf(err, errlen, "%s:%u: zone '%s' forwards to this-server, but "
				 "[forwarders] servers is empty; expected server URLs", z->src_file,
				 z->src_line, z->name);
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
	}
	return TDNS_OK;
}

static void
copy_err(char *err, size_t errlen, const char *msg)
{
	if (err != NULL && errlen > 0) {
		snprintf(err, errlen, "%s", msg);
	}
}

int
cfg_load(const char *path, struct cfg **out, char *err, size_t errlen)
{
	char msg[768];
	struct loader ld = { .path = path, .status = TDNS_OK };
	struct cfg *c = tdns_xcalloc(1, sizeof(*c));
	int rc;

	*out = NULL;
	rc = apply_defaults(c, "server", c, msg, sizeof(msg));
	if (rc == TDNS_OK) {
		rc = apply_defaults(c, "control", c, msg, sizeof(msg));
	}
	if (rc == TDNS_OK) {
		rc = apply_defaults(c, "log", c, msg, sizeof(msg));
	}
	static const char *const more[] = { "recursion", "forwarders", "cache", "tls", "dot",
					    "doh" };
	for (size_t i = 0; i < sizeof(more) / sizeof(more[0]) && rc == TDNS_OK; i++) {
		rc = apply_defaults(c, more[i], c, msg, sizeof(msg));
	}
	if (rc != TDNS_OK || path == NULL) {
		goto out;
	}
	c->path = tdns_xstrdup(path);

	ld.fp = fopen(path, "r");
	if (ld.fp == NULL) {
		snprintf(msg, sizeof(msg), "cannot open %s: %s", path, strerror(errno));
		rc = TDNS_EIO;
		goto out;
	}
	size_t nkeys = 0;
	while (cfg_keys[nkeys].key != NULL) {
		nkeys++;
	}
	ld.seen = tdns_xcalloc(nkeys, sizeof(*ld.seen));
	ld.c = c;
	int line = ini_parse_stream(reader, &ld, handler, &ld);
	if (line > 0 && (ld.status == TDNS_OK || (unsigned)line < ld.err_line)) {
		snprintf(msg, sizeof(msg), "%s:%d: syntax error; expected 'key = value' or "
			 "'[section]'", path, line);
		rc = TDNS_ECONFIG;
	} else if (ld.status != TDNS_OK) {
		snprintf(msg, sizeof(msg), "%s", ld.msg);
		rc = ld.status;
	} else if (line < 0) {
		snprintf(msg, sizeof(msg), "%s: out of memory", path);
		rc = TDNS_ENOMEM;
	} else {
		rc = finish(c, msg, sizeof(msg));
	}
out:
	if (ld.fp != NULL) {
		fclose(ld.fp);
	}
	free(ld.buf);
	free(ld.seen);
	if (rc != TDNS_OK) {
		copy_err(err, errlen, msg);
		cfg_free(c);
		return rc;
	}
	copy_err(err, errlen, "");
	*out = c;
	return TDNS_OK;
}

void
cfg_free(struct cfg *c)
{
	if (c == NULL) {
		return;
	}
	for (size_t i = 0; i < c->nzones; i++) {
		free(c->zones[i].name);
		free(c->zones[i].type);
		free(c->zones[i].file);
		free(c->zones[i].src_file);
		free(c->zones[i].forwarders);
		free(c->zones[i].primaries);
	}
	free(c->recursion_allow);
	free(c->root_hints);
	free(c->outgoing_address);
	free(c->forwarders);
	free(c->forward_ca_file);
	free(c->zones);
	free(c->listen);
	free(c->tls_certificate);
	free(c->tls_key);
	free(c->tls_password_file);
	free(c->dot_listen);
	free(c->doh_listen);
	free(c->http_listen);
	free(c->doh_path);
	free(c->doh_trusted_proxies);
	free(c->state_dir);
	free(c->user);
	free(c->control_socket);
	free(c->control_group);
	free(c->path);
	free(c);
}
