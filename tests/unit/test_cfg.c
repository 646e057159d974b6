/* SPDX-License-Identifier: MIT */
/* Unit tests for src/cfg: schema table, defaults, every key, every error, get and in-place set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dirent.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "cfg/cfg.h"
#include "core/core.h"
#include "crypto/crypto.h"
#include "resolver/resolver.h"
#include "zone/zone.h"

#ifndef SRCDIR
#error "SRCDIR must name the top source directory"
#endif

#define LISTEN_EXPECT "expected ADDR, ADDR:PORT, [IPV6] or [IPV6]:PORT separated by commas, " \
	"port 1..65535"

static char tmpdir[64];
static char conf[128];

static int
group_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/tdns-test-cfg-XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		return -1;
	}
	snprintf(conf, sizeof(conf), "%s/tdnsd.conf", tmpdir);
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	unlink(conf);
	rmdir(tmpdir);
	return 0;
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

/* Writes text to the test's tdnsd.conf and loads it. */
static int
load_text(const char *text, struct cfg **c, char *err, size_t errlen)
{
	write_file(conf, text);
	return cfg_load(conf, c, err, errlen);
}

/* Writes text to the test's tdnsd.conf and returns it loaded; fails the test if it is refused. */
static struct cfg *
loaded(const char *text)
{
	struct cfg *c = NULL;
	char err[1024];
	if (load_text(text, &c, err, sizeof(err)) != TDNS_OK) {
		fail_msg("refused: %s", err);
	}
	return c;
}

/* loaded() of the text that the format fmt makes of value. */
static struct cfg *
loaded_with(const char *fmt, const char *value)
{
	char text[512];
	snprintf(text, sizeof(text), fmt, value);
	return loaded(text);
}

/* Loads text, which must fail with TDNS_ECONFIG and exactly "CONF:" + line + ": " + msg. */
static void
expect_error(const char *text, unsigned line, const char *msg)
{
	struct cfg *c = (struct cfg *)1;
	char err[1024];
	char want[1024];
	assert_int_equal(load_text(text, &c, err, sizeof(err)), TDNS_ECONFIG);
	assert_null(c);
	snprintf(want, sizeof(want), "%s:%u: %s", conf, line, msg);
	assert_string_equal(err, want);
}

static char *
read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char *buf = NULL;
	size_t len = 0;
	size_t cap = 0;
	for (;;) {
		if (len + 4096 + 1 > cap) {
			cap = (cap + 4096) * 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		size_t n = fread(buf + len, 1, 4096, f);
		len += n;
		if (n == 0) {
			break;
		}
	}
	fclose(f);
	buf[len] = '\0';
	return buf;
}

static uint16_t
port_of(const struct cfg_listen *l)
{
	if (l->addr.ss_family == AF_INET) {
		return ntohs(((const struct sockaddr_in *)&l->addr)->sin_port);
	}
	return ntohs(((const struct sockaddr_in6 *)&l->addr)->sin6_port);
}

static void
assert_defaults(const struct cfg *c)
{
	assert_int_equal(c->nlisten, 2);
	assert_string_equal(c->listen[0].text, "127.0.0.1:53");
	assert_int_equal(c->listen[0].addr.ss_family, AF_INET);
	assert_int_equal(c->listen[0].addrlen, sizeof(struct sockaddr_in));
	assert_int_equal(port_of(&c->listen[0]), 53);
	assert_int_equal(((const struct sockaddr_in *)&c->listen[0].addr)->sin_addr.s_addr,
			 htonl(INADDR_LOOPBACK));
	assert_string_equal(c->listen[1].text, "[::1]:53");
	assert_int_equal(c->listen[1].addr.ss_family, AF_INET6);
	assert_int_equal(c->listen[1].addrlen, sizeof(struct sockaddr_in6));
	assert_int_equal(port_of(&c->listen[1]), 53);
	assert_true(IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)&c->listen[1].addr)->
					 sin6_addr));
	assert_int_equal(c->workers, 0);
	assert_string_equal(c->state_dir, LOCALSTATEDIR "/lib/tdns");
	assert_true(c->user == NULL || c->user[0] == '\0');
	assert_int_equal(c->tcp_idle_timeout, 10);
	assert_int_equal(c->tcp_max_connections, 1024);
	assert_int_equal(c->udp_max_payload, 1232);
	assert_int_equal(c->serial_policy, CFG_SERIAL_INCREMENT);
	assert_string_equal(c->control_socket, "/run/tdns/control.sock");
	assert_null(c->control_group);
	assert_int_equal(c->log_level, TDNS_LOG_INFO);
	assert_int_equal(c->nzones, 0);
}

/* ------------------------------------------------------------------------------------------ */
/* Defaults and values                                                                          */

/* Setup of the tests that read the defaults: *state is the configuration without a file. */
static int
setup_defaults(void **state)
{
	struct cfg *c = NULL;
	char err[512];
	if (cfg_load(NULL, &c, err, sizeof(err)) != TDNS_OK) {
		fail_msg("defaults: %s", err);
	}
	*state = c;
	return 0;
}

static int
teardown_defaults(void **state)
{
	cfg_free(*state);
	return 0;
}

static void
test_no_file_gives_defaults_listening_on_loopback_port_53(void **state)
{
	(void)state;
	struct cfg *c = NULL;
	char err[256] = "x";
	assert_int_equal(cfg_load(NULL, &c, err, sizeof(err)), TDNS_OK);
	assert_non_null(c);
	assert_null(c->path);
	assert_string_equal(err, "");
	assert_defaults(c);
	cfg_free(c);
	cfg_free(NULL);
}

static void
test_empty_file_and_empty_sections_give_defaults(void **state)
{
	(void)state;
	struct cfg *c = loaded("");
	assert_string_equal(c->path, conf);
	assert_defaults(c);
	cfg_free(c);
	c = loaded("# comment\n; other comment\n\n[server]\n[log]\n");
	assert_defaults(c);
	cfg_free(c);
}

static void
test_every_server_and_log_key_is_parsed(void **state)
{
	(void)state;
	struct cfg *c = loaded("[server]\n"
			       "listen = 192.0.2.1, [2001:db8::5]:5300 ,0.0.0.0:5301,[::], ::1\n"
			       "workers = 64\n"
			       "state-dir = /srv/tdns\n"
			       "user = tdns\n"
			       "tcp-idle-timeout = 3600\n"
			       "tcp-max-connections = 7\n"
			       "udp-max-payload = 4096\n"
			       "[log]\n"
			       "level = debug\n");
	assert_int_equal(c->nlisten, 5);
	assert_string_equal(c->listen[0].text, "192.0.2.1:53");
	assert_string_equal(c->listen[1].text, "[2001:db8::5]:5300");
	assert_int_equal(port_of(&c->listen[1]), 5300);
	assert_string_equal(c->listen[2].text, "0.0.0.0:5301");
	assert_string_equal(c->listen[3].text, "[::]:53");
	assert_string_equal(c->listen[4].text, "[::1]:53");
	assert_int_equal(c->workers, 64);
	assert_string_equal(c->state_dir, "/srv/tdns");
	assert_string_equal(c->user, "tdns");
	assert_int_equal(c->tcp_idle_timeout, 3600);
	assert_int_equal(c->tcp_max_connections, 7);
	assert_int_equal(c->udp_max_payload, 4096);
	assert_int_equal(c->log_level, TDNS_LOG_DEBUG);
	assert_int_equal(c->nzones, 0);
	cfg_free(c);
}

static void
test_range_limits_are_accepted(void **state)
{
	(void)state;
	struct cfg *c = NULL;
	char err[256];
	assert_int_equal(load_text("[server]\nworkers = 1\ntcp-idle-timeout = 1\n"
				   "tcp-max-connections = 65535\nudp-max-payload = 512\n", &c,
				   err, sizeof(err)), TDNS_OK);
	assert_int_equal(c->workers, 1);
	assert_int_equal(c->tcp_idle_timeout, 1);
	assert_int_equal(c->tcp_max_connections, 65535);
	assert_int_equal(c->udp_max_payload, 512);
	cfg_free(c);
	c = loaded("[server]\nworkers = auto\nuser =\n");
	assert_int_equal(c->workers, 0);
	assert_true(c->user == NULL || c->user[0] == '\0');
	cfg_free(c);
}

static void
test_every_log_level_name_is_parsed(void **state)
{
	(void)state;
	static const struct { const char *name; int level; } levels[] = {
		{ "err", TDNS_LOG_ERR }, { "warning", TDNS_LOG_WARNING },
		{ "notice", TDNS_LOG_NOTICE }, { "info", TDNS_LOG_INFO },
		{ "debug", TDNS_LOG_DEBUG },
	};
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		struct cfg *c = loaded_with("[log]\nlevel = %s\n", levels[i].name);
		assert_int_equal(c->log_level, levels[i].level);
		cfg_free(c);
	}
}

static void
test_comments_blanks_crlf_bom_and_indentation_are_tolerated(void **state)
{
	(void)state;
	struct cfg *c = loaded("\xEF\xBB\xBF# sample\r\n"
			       "  [server]   ; the server\r\n"
			       "\tworkers = 4 ; four threads\r\n"
			       "   listen=127.0.0.1:5300\r\n"
			       "\r\n"
			       "[log]\n"
			       "level = notice");
	assert_int_equal(c->workers, 4);
	assert_int_equal(c->nlisten, 1);
	assert_string_equal(c->listen[0].text, "127.0.0.1:5300");
	assert_int_equal(c->log_level, TDNS_LOG_NOTICE);
	cfg_free(c);
}

static void
test_zone_section_gets_defaults_and_file_relative_to_state_dir(void **state)
{
	(void)state;
	/* state-dir comes after the zone: relative files are resolved once the file is read. */
	struct cfg *c = loaded("[zone Example.COM.]\n"
			       "\n"
			       "[zone example.net]\n"
			       "type = primary\n"
			       "file = nets/example.net.db\n"
			       "[zone example.org]\n"
			       "file = /etc/tdns/org.zone\n"
			       "[zone .]\n"
			       "[server]\n"
			       "state-dir = /srv/tdns//\n");
	assert_string_equal(c->state_dir, "/srv/tdns");
	assert_int_equal(c->nzones, 4);

	const struct cfg_zone *z = &c->zones[0];
	static const uint8_t apex[] = "\7Example\3COM";
	assert_string_equal(z->name, "Example.COM.");
	assert_memory_equal(z->apex, apex, sizeof(apex));
	assert_string_equal(z->type, "primary");
	assert_string_equal(z->file, "/srv/tdns/example.com.zone");
	assert_string_equal(z->src_file, conf);
	assert_int_equal(z->src_line, 1);

	z = &c->zones[1];
	assert_string_equal(z->name, "example.net");
	assert_string_equal(z->type, "primary");
	assert_string_equal(z->file, "/srv/tdns/nets/example.net.db");
	assert_int_equal(z->src_line, 3);

	z = &c->zones[2];
	assert_string_equal(z->file, "/etc/tdns/org.zone");
	assert_int_equal(z->src_line, 6);

	z = &c->zones[3];
	assert_int_equal(z->apex[0], 0);
	assert_string_equal(z->file, "/srv/tdns/root.zone");
	cfg_free(c);
}

static void
test_parse_listen_accepts_every_documented_form(void **state)
{
	(void)state;
	static const struct { const char *in; const char *text; int family; } ok[] = {
		{ "127.0.0.1", "127.0.0.1:5353", AF_INET },
		{ "192.0.2.7:53", "192.0.2.7:53", AF_INET },
		{ "0.0.0.0:65535", "0.0.0.0:65535", AF_INET },
		{ "[::1]", "[::1]:5353", AF_INET6 },
		{ "[2001:DB8::1]:1", "[2001:db8::1]:1", AF_INET6 },
		{ "::", "[::]:5353", AF_INET6 },
		{ "fe80::1%1", NULL, AF_INET6 },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct cfg_listen l;
		assert_int_equal(cfg_parse_listen(ok[i].in, 5353, &l), TDNS_OK);
		assert_int_equal(l.addr.ss_family, ok[i].family);
		if (ok[i].text != NULL) {
			assert_string_equal(l.text, ok[i].text);
		}
	}
	struct cfg_listen l;
	assert_int_equal(cfg_parse_listen("fe80::1%1", 53, &l), TDNS_OK);
	assert_int_equal(((struct sockaddr_in6 *)&l.addr)->sin6_scope_id, 1);
}

static void
test_parse_listen_rejects_bad_addresses_and_ports(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"", "1.2.3", "127.1", "1.2.3.4.5", "256.1.1.1", "1.2.3.4:0", "1.2.3.4:65536",
		"1.2.3.4:70000", "1.2.3.4:", "1.2.3.4:5a", "1.2.3.4:-1", "1.2.3.4: 53", "[::1",
		"[::1]x", "[::1]:", "[1.2.3.4]", "[]", "[]:53", "localhost", "ns.example:53",
		"::g", " 1.2.3.4",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cfg_listen l;
		if (cfg_parse_listen(bad[i], 53, &l) != TDNS_EINVAL) {
			fail_msg("accepted '%s'", bad[i]);
		}
	}
}

/* ------------------------------------------------------------------------------------------ */
/* Errors, each with its file:line                                                              */

static void
test_bad_listen_values_fail_with_file_line(void **state)
{
	(void)state;
	expect_error("[server]\nlisten = 127.0.0.1:70000\n", 2,
		     "invalid listen address '127.0.0.1:70000' (port out of range); "
		     LISTEN_EXPECT);
	expect_error("\n\n[server]\nlisten = 127.0.0.1, 1.2.3:53\n", 4,
		     "invalid listen address '1.2.3:53' (not an IP address); " LISTEN_EXPECT);
	expect_error("[server]\nlisten = [::1\n", 2,
		     "invalid listen address '[::1' (missing ']'); " LISTEN_EXPECT);
	expect_error("[server]\nlisten = 127.0.0.1:x\n", 2,
		     "invalid listen address '127.0.0.1:x' (port is not a number); "
		     LISTEN_EXPECT);
	expect_error("[server]\nlisten = 127.0.0.1,,[::1]\n", 2,
		     "empty address in the listen list; " LISTEN_EXPECT);
	expect_error("[server]\nlisten =\n", 2, "listen has no address; " LISTEN_EXPECT);
	expect_error("[server]\nlisten = 127.0.0.1, 127.0.0.1:53\n", 2,
		     "listen address 127.0.0.1:53 is listed twice; expected each address once");
}

static void
test_bad_numbers_fail_with_file_line(void **state)
{
	(void)state;
	expect_error("[server]\nworkers = 0\n", 2,
		     "invalid workers '0'; expected 'auto' or a number 1..64");
	expect_error("[server]\nworkers = 65\n", 2,
		     "invalid workers '65'; expected 'auto' or a number 1..64");
	expect_error("[server]\nworkers = many\n", 2,
		     "invalid workers 'many'; expected 'auto' or a number 1..64");
	expect_error("[server]\ntcp-idle-timeout = 0\n", 2,
		     "invalid tcp-idle-timeout '0'; expected a number of seconds 1..3600");
	expect_error("[server]\ntcp-idle-timeout = 3601\n", 2,
		     "invalid tcp-idle-timeout '3601'; expected a number of seconds 1..3600");
	expect_error("[server]\ntcp-idle-timeout = -1\n", 2,
		     "invalid tcp-idle-timeout '-1'; expected a number of seconds 1..3600");
	expect_error("[server]\ntcp-max-connections = 99999999999999999999\n", 2,
		     "invalid tcp-max-connections '99999999999999999999'; expected a number "
		     "1..65535");
	expect_error("[server]\ntcp-max-connections = 0\n", 2,
		     "invalid tcp-max-connections '0'; expected a number 1..65535");
	expect_error("[server]\nudp-max-payload = 511\n", 2,
		     "invalid udp-max-payload '511'; expected a number of octets 512..4096");
	expect_error("[server]\nudp-max-payload = 4097\n", 2,
		     "invalid udp-max-payload '4097'; expected a number of octets 512..4096");
	expect_error("[server]\nudp-max-payload = 1232 bytes\n", 2,
		     "invalid udp-max-payload '1232 bytes'; expected a number of octets "
		     "512..4096");
}

static void
test_bad_words_and_paths_fail_with_file_line(void **state)
{
	(void)state;
	expect_error("[log]\nlevel = loud\n", 2,
		     "invalid log level 'loud'; expected err, warning, notice, info or debug");
	expect_error("[server]\nstate-dir = var/lib/tdns\n", 2,
		     "invalid state-dir 'var/lib/tdns'; expected an absolute path");
	expect_error("[zone example.com]\ntype = slave\n", 2,
		     "zone type 'slave' is not supported yet; expected primary, secondary, "
		     "forwarder or stub");
	expect_error("[zone example.com]\ntype = authoritative\n", 2,
		     "invalid zone type 'authoritative'; expected primary, secondary, forwarder or "
		     "stub");
	expect_error("[zone example.com]\nfile =\n", 2,
		     "empty zone file name; expected a file name, relative to state-dir or "
		     "absolute");
}

static void
test_unknown_keys_name_the_section_and_the_expected_keys(void **state)
{
	(void)state;
	expect_error("[server]\nlisten = 127.0.0.1\n\n\n\n\nfoo = 1\n", 7,
		     "unknown key 'foo' in section [server]; expected one of: listen, workers, "
		     "state-dir, user, tcp-idle-timeout, tcp-max-connections, udp-max-payload, "
		     "serial-policy, identity, version, nsid");
	expect_error("[log]\nquery-log = off\n", 2,
		     "unknown key 'query-log' in section [log] (not supported by this release "
		     "yet); expected one of: level");
	expect_error("[zone example.com]\nmasters = 192.0.2.1\n", 2,
		     "unknown key 'masters' in section [zone example.com]; expected one of: "
		     "type, file, forwarders, primaries, allow-transfer, notify, journal-size, "
		     "transport");
	/* Keys are case-sensitive, as documented. */
	expect_error("[server]\nWorkers = 2\n", 2,
		     "unknown key 'Workers' in section [server]; expected one of: listen, "
		     "workers, state-dir, user, tcp-idle-timeout, tcp-max-connections, "
		     "udp-max-payload, serial-policy, identity, version, nsid");
	expect_error("# no section yet\nworkers = 2\n", 2,
		     "key 'workers' outside any section; expected a [section] line first");
}

static void
test_unknown_sections_fail_even_when_empty(void **state)
{
	(void)state;
	/* [dnssec] exists since issue 16. */
	struct cfg *d = loaded("[log]\nlevel = info\n[ dnssec ]\nvalidation = no\n");
	assert_int_equal(d->dnssec_validation, 0);
	cfg_free(d);
	expect_error("[servers]\n", 1,
		     "unknown section [servers]; expected one of: [server], [control], [log], [recursion], [forwarders], [cache], [dnssec], [tls], [dot], [doh], [blocking], [tsig NAME], [zone NAME], [blocking-group NAME]");
	expect_error("[zoneexample.com]\n", 1,
		     "unknown section [zoneexample.com]; expected one of: [server], [control], [log], [recursion], [forwarders], [cache], [dnssec], [tls], [dot], [doh], [blocking], [tsig NAME], [zone NAME], [blocking-group NAME]");
	/* The sections of the encrypted listeners exist now, empty or not (issue 6). */
	struct cfg *c = loaded("[server]\n[tls]\n[dot]\n[doh]\n");
	assert_int_equal(c->ndot_listen, 0);
	assert_int_equal(c->ndoh_listen, 0);
	assert_string_equal(c->doh_path, "/dns-query");
	cfg_free(c);
}

static void
test_encrypted_listeners_take_their_own_default_ports(void **state)
{
	(void)state;
	struct cfg *c = loaded("[tls]\ncertificate = /etc/tdns/server.pfx\n"
			       "password-file = /etc/tdns/pw\n"
			       "[dot]\nlisten = 127.0.0.1, [::1]:8853\n"
			       "[doh]\nlisten = 127.0.0.1\nhttp-listen = 127.0.0.1\n"
			       "path = /q\ntrusted-proxies = 10.0.0.0/8\n");
	assert_int_equal(c->ndot_listen, 2);
	assert_string_equal(c->dot_listen[0].text, "127.0.0.1:853");
	assert_string_equal(c->dot_listen[1].text, "[::1]:8853");
	assert_int_equal(c->ndoh_listen, 1);
	assert_string_equal(c->doh_listen[0].text, "127.0.0.1:443");
	assert_int_equal(c->nhttp_listen, 1);
	assert_string_equal(c->http_listen[0].text, "127.0.0.1:80");
	assert_string_equal(c->doh_path, "/q");
	assert_string_equal(c->tls_certificate, "/etc/tdns/server.pfx");
	assert_string_equal(c->tls_key, "");
	assert_string_equal(c->tls_password_file, "/etc/tdns/pw");
	assert_string_equal(c->doh_trusted_proxies, "10.0.0.0/8");
	cfg_free(c);

	expect_error("[doh]\npath = dns-query\n", 2, "invalid path 'dns-query'; expected an "
		     "absolute URI path such as /dns-query, without query, fragment or escapes");
	expect_error("[doh]\ntrusted-proxies = 10.0.0.0/33\n", 2,
		     "invalid trusted-proxies list: prefix length 33 too long in '10.0.0.0/33'; "
		     "expected ADDR or ADDR/LEN (IPv4 /0..32, IPv6 /0..128)");
	expect_error("[tls]\ncertificate = server.pem\n", 2, "invalid file name 'server.pem'; "
		     "expected an absolute path or nothing");
	expect_error("[dot]\nlisten = 127.0.0.1:99999\n", 2, "invalid listen address "
		     "'127.0.0.1:99999' (port out of range); expected ADDR, ADDR:PORT, [IPV6] or "
		     "[IPV6]:PORT separated by commas, port 1..65535");

	/* An encrypted listener without a certificate is an error of the whole file. */
	char err[512];
	assert_int_equal(load_text("[dot]\nlisten = 127.0.0.1\n", &c, err, sizeof(err)),
			 TDNS_ECONFIG);
	char want[512];
	snprintf(want, sizeof(want), "%s: [dot] listen needs [tls] certificate; expected a PEM "
		 "or PKCS#12 file, or no listen addresses", conf);
	assert_string_equal(err, want);
}

static void
test_duplicate_keys_fail_with_both_lines(void **state)
{
	(void)state;
	expect_error("[server]\nworkers = 2\nuser = tdns\nworkers = 3\n", 4,
		     "duplicate key 'workers' in section [server] (first at line 2); expected "
		     "each key once");
	expect_error("[server]\nworkers = 2\n[log]\nlevel = info\n[server]\nworkers = 2\n", 6,
		     "duplicate key 'workers' in section [server] (first at line 2); expected "
		     "each key once");
	expect_error("[zone example.com]\nfile = a\nfile = b\n", 3,
		     "duplicate key 'file' in section [zone example.com] (first at line 2); "
		     "expected each key once");
}

static void
test_same_key_in_different_zones_is_not_a_duplicate(void **state)
{
	(void)state;
	struct cfg *c = NULL;
	char err[256];
	assert_int_equal(load_text("[zone a.example]\nfile = /a\n[zone b.example]\nfile = /b\n",
				   &c, err, sizeof(err)), TDNS_OK);
	assert_int_equal(c->nzones, 2);
	assert_string_equal(c->zones[0].file, "/a");
	assert_string_equal(c->zones[1].file, "/b");
	cfg_free(c);
}

static void
test_duplicate_and_invalid_zones_fail_with_file_line(void **state)
{
	(void)state;
	expect_error("[zone example.com]\n[server]\n[zone EXAMPLE.com.]\n", 3,
		     "duplicate zone 'EXAMPLE.com.' (first at line 1); expected each zone once");
	expect_error("[zone]\n", 1, "zone section without a name; expected [zone NAME]");
	expect_error("[server]\n[zone   ]\n", 2,
		     "zone section without a name; expected [zone NAME]");

	char msg[512];
	char text[256];
	char label[80];
	memset(label, 'a', 64);
	label[64] = '\0';
	snprintf(text, sizeof(text), "[server]\n[zone %s.example]\n", label);
	snprintf(msg, sizeof(msg), "invalid zone name '%s.example' (%s); expected a domain "
		 "name such as example.com", label, tdns_status_msg(TDNS_ELABELLONG));
	expect_error(text, 2, msg);
	snprintf(msg, sizeof(msg), "invalid zone name 'a..example' (%s); expected a domain "
		 "name such as example.com", tdns_status_msg(TDNS_EBADTEXT));
	expect_error("[zone a..example]\n", 1, msg);
}

static void
test_syntax_errors_name_their_line(void **state)
{
	(void)state;
	static const char want[] = "syntax error; expected 'key = value' or '[section]'";
	expect_error("[server]\nworkers = 2\nlisten\n", 3, want);
	expect_error("[server\nworkers = 2\n", 1, want);
	/* The first error in the file wins, whichever kind it is. */
	expect_error("[server]\njunk\nworkers = 0\n", 2, want);
	expect_error("[server]\nworkers = 0\njunk\n", 2,
		     "invalid workers '0'; expected 'auto' or a number 1..64");
	/* Lines handed on after continuation lines keep their own numbers. */
	expect_error("[server]\nlisten = 127.0.0.1:5300,\n  ; comment\n    [::1]:5300\njunk\n",
		     5, want);
	expect_error("[server]\nlisten = 127.0.0.1,\n\n    [::1]\n", 2,
		     "empty address in the listen list; " LISTEN_EXPECT);
}

/* "10.N.M.0/24, ..." of n networks into buf. */
static void
networks(char *buf, size_t cap, unsigned n, const char *sep)
{
	size_t off = 0;
	buf[0] = '\0';
	for (unsigned i = 0; i < n; i++) {
		off += (size_t)snprintf(buf + off, cap - off, "%s10.%u.%u.0/24", i ? sep : "",
					i / 256, i % 256);
	}
}

static void
test_list_keys_continue_on_indented_lines(void **state)
{
	(void)state;
	struct cfg *c = loaded("[server]\nlisten = 127.0.0.1:5300,\n    [::1]:5300\n"
			       "  workers = 2\n");
	assert_int_equal(c->nlisten, 2);
	assert_string_equal(c->listen[1].text, "[::1]:5300");
	assert_int_equal(c->workers, 2);
	cfg_free(c);

	/* One item or more per line, with or without a trailing comma, comments among them. */
	c = loaded("[recursion]\n"
		   "allow = 10.0.0.0/8,\n"
		   "    192.168.0.0/16, 172.16.0.0/12 ; private ; really\n"
		   "; 127.0.0.0/8,\n"
		   "\t100.64.0.0/10,\n"
		   "    fc00::/7\n"
		   "qname-minimisation = no\n"
		   "[forwarders]\nservers =\n  udp://127.0.0.1:5301,\n"
		   "  udp://[::1]:5301,\n");
	assert_string_equal(c->recursion_allow, "10.0.0.0/8, 192.168.0.0/16, 172.16.0.0/12, "
			    "100.64.0.0/10, fc00::/7");
	assert_int_equal(c->qname_min, 0);
	assert_string_equal(c->forwarders, "udp://127.0.0.1:5301, udp://[::1]:5301");
	cfg_free(c);

	/* No limit on the joined value, nor on a continuation line. */
	char items[2048];
	char text[4096];
	char want[2048];
	networks(items, sizeof(items), 60, ",\n    ");
	snprintf(text, sizeof(text), "[recursion]\nallow =\n    %s\n", items);
	c = loaded(text);
	networks(want, sizeof(want), 60, ", ");
	assert_true(strlen(want) > 700);
	assert_string_equal(c->recursion_allow, want);
	cfg_free(c);
	networks(items, sizeof(items), 30, ", ");
	snprintf(text, sizeof(text), "[recursion]\nallow = ::1,\n  %s\n", items);
	c = loaded(text);
	assert_true(strlen(c->recursion_allow) > 400);
	cfg_free(c);
}

static void
test_repeated_list_keys_append_and_single_values_refuse_continuations(void **state)
{
	(void)state;
	struct cfg *c = NULL;
	char err[512];
	assert_int_equal(load_text("[recursion]\nallow = 10.0.0.0/8\nqname-minimisation = no\n"
				   "allow = ::1,\n    fc00::/7\n"
				   "[server]\nlisten = 127.0.0.1:5300\nlisten = [::1]:5300\n"
				   "[zone a.example]\ntype = stub\nprimaries = 192.0.2.1\n"
				   "primaries = 192.0.2.2\n"
				   "[zone b.example]\ntype = stub\nprimaries = 192.0.2.3\n",
				   &c, err, sizeof(err)), TDNS_OK);
	assert_string_equal(c->recursion_allow, "10.0.0.0/8, ::1, fc00::/7");
	assert_int_equal(c->nlisten, 2);
	assert_string_equal(c->zones[0].primaries, "192.0.2.1, 192.0.2.2");
	assert_string_equal(c->zones[1].primaries, "192.0.2.3");
	cfg_free(c);

	/* The repeated list is checked whole, and its errors name the repeating line. */
	expect_error("[server]\nlisten = 127.0.0.1:5300\nworkers = 2\nlisten = 127.0.0.1:5300\n",
		     4, "listen address 127.0.0.1:5300 is listed twice; expected each address "
		     "once");
	expect_error("[server]\nworkers = 2\n    3\n", 3,
		     "indented line continues the value of 'workers', which takes one value; "
		     "expected 'key = value' (only a list continues on indented lines)");
	expect_error("[zone a.example]\nfile = /a\n\t/b\n", 3,
		     "indented line continues the value of 'file', which takes one value; "
		     "expected 'key = value' (only a list continues on indented lines)");
	/* An indented known header is a header, an indented key line a key line. */
	c = loaded("[server]\nlisten = 127.0.0.1:5300,\n  [::1]:5300\n"
		   "  [log]\n  level = debug\n");
	assert_int_equal(c->nlisten, 2);
	assert_int_equal(c->log_level, TDNS_LOG_DEBUG);
	cfg_free(c);
}

static void
test_overlong_line_fails_with_file_line(void **state)
{
	(void)state;
	char text[1200];
	int n = snprintf(text, sizeof(text), "[server]\n; ");
	memset(text + n, 'x', 1000);
	text[n + 1000] = '\n';
	text[n + 1001] = '\0';
	struct cfg *c = (struct cfg *)1;
	char err[256];
	char want[256];
	assert_int_equal(load_text(text, &c, err, sizeof(err)), TDNS_ECONFIG);
	assert_null(c);
	snprintf(want, sizeof(want), "%s:2: line too long; expected at most ", conf);
	assert_memory_equal(err, want, strlen(want));
}

static void
test_missing_file_is_an_io_error_naming_the_file(void **state)
{
	(void)state;
	struct cfg *c = (struct cfg *)1;
	char err[256];
	char want[256];
	char path[160];
	snprintf(path, sizeof(path), "%s/absent.conf", tmpdir);
	assert_int_equal(cfg_load(path, &c, err, sizeof(err)), TDNS_EIO);
	assert_null(c);
	snprintf(want, sizeof(want), "cannot open %s: No such file or directory", path);
	assert_string_equal(err, want);
}

/* ------------------------------------------------------------------------------------------ */
/* serial-policy and [control]                                                                  */

static void
test_serial_policy_and_control_keys_are_parsed(void **state)
{
	(void)state;
	static const struct { const char *name; unsigned policy; } policies[] = {
		{ "increment", CFG_SERIAL_INCREMENT }, { "date", CFG_SERIAL_DATE },
		{ "unixtime", CFG_SERIAL_UNIXTIME },
	};
	for (size_t i = 0; i < sizeof(policies) / sizeof(policies[0]); i++) {
		struct cfg *c = loaded_with("[server]\nserial-policy = %s\n", policies[i].name);
		assert_int_equal(c->serial_policy, policies[i].policy);
		cfg_free(c);
	}
	struct cfg *c = loaded("[control]\nsocket = /tmp/tdns test/ctl.sock\n"
			       "group = tdns-admin\n");
	assert_string_equal(c->control_socket, "/tmp/tdns test/ctl.sock");
	assert_string_equal(c->control_group, "tdns-admin");
	cfg_free(c);
	c = loaded("[control]\ngroup =\n");
	assert_null(c->control_group);
	cfg_free(c);
}

static void
test_bad_serial_policy_and_control_values_fail_with_file_line(void **state)
{
	(void)state;
	expect_error("[server]\nserial-policy = Date\n", 2,
		     "invalid serial-policy 'Date'; expected increment, date or unixtime");
	expect_error("[control]\nsocket = run/ctl.sock\n", 2,
		     "invalid control socket 'run/ctl.sock'; expected an absolute path of at "
		     "most 107 characters");
	char text[256];
	char msg[512];
	char path[120];
	memset(path, 'x', sizeof(path));
	path[0] = '/';
	path[108] = '\0';
	snprintf(text, sizeof(text), "[control]\nsocket = %s\n", path);
	snprintf(msg, sizeof(msg), "invalid control socket '%s'; expected an absolute path of at "
		 "most 107 characters", path);
	expect_error(text, 2, msg);
	expect_error("[control]\n\ngroup = a b\n", 3,
		     "invalid control group 'a b'; expected a group name (letters, digits, '_', "
		     "'.', '-'), or nothing");
	expect_error("[control]\nuser = x\n", 2,
		     "unknown key 'user' in section [control]; expected one of: socket, group, "
		     "timeout");
}

/* ------------------------------------------------------------------------------------------ */
/* [tsig NAME] (crypto/schema.c)                                                                */

static void
test_tsig_sections_load_keys_from_secret_or_secret_file(void **state)
{
	(void)state;
	char key_file[160], text[512], err[512];
	snprintf(key_file, sizeof(key_file), "%s/k.secret", tmpdir);
	write_file(key_file, "c2VjcmV0LWtleS1m\nb3ItdGRucy10c2lnLXRlc3Rz\n");
	assert_int_equal(chmod(key_file, 0600), 0);
	snprintf(text, sizeof(text), "[tsig Transfer-Key.]\nalgorithm = hmac-sha512\n"
		 "secret = YWJj\n\n[tsig other]\nsecret-file = %s\n", key_file);
	struct cfg *c = loaded(text);
	assert_int_equal(c->ntsigs, 2);
	const struct crypto_tsig_key *k =
		crypto_tsig_key_find(c->tsigs, c->ntsigs, (const uint8_t *)"\014transfer-key");
	assert_non_null(k);
	assert_int_equal(k->alg, CRYPTO_TSIG_HMAC_SHA512);
	assert_int_equal(k->secret_len, 3);
	k = crypto_tsig_key_find(c->tsigs, c->ntsigs, (const uint8_t *)"\005OTHER");
	assert_non_null(k);
	assert_int_equal(k->alg, CRYPTO_TSIG_HMAC_SHA256);
	assert_int_equal(k->secret_len, 30);
	assert_memory_equal(k->secret, "secret-key-for-tdns-tsig-tests", 30);
	/* The secret is never shown, by config show nor by config get. */
	char *v = NULL;
	assert_int_equal(cfg_get(c, "tsig.transfer-key.secret", &v, err, sizeof(err)), TDNS_OK);
	assert_string_equal(v, "(secret)");
	free(v);
	assert_int_equal(cfg_get(c, "tsig.other.secret-file", &v, err, sizeof(err)), TDNS_OK);
	assert_string_equal(v, key_file);
	free(v);
	cfg_free(c);

	/* A secret file others may read is refused at the section's line. */
	assert_int_equal(chmod(key_file, 0644), 0);
	snprintf(text, sizeof(text), "[server]\n\n[tsig other]\nsecret-file = %s\n", key_file);
	char msg[512];
	snprintf(msg, sizeof(msg), "tsig 'other': secret-file %s has mode 0644; expected a "
		 "regular file of mode 0600 (chmod 600 %s)", key_file, key_file);
	expect_error(text, 3, msg);
	unlink(key_file);
	snprintf(msg, sizeof(msg), "tsig 'other': cannot read secret-file %s: No such file or "
		 "directory; expected a file holding the secret in base64", key_file);
	expect_error(text, 3, msg);
}

static void
test_tsig_sections_refuse_bad_keys_without_quoting_the_secret(void **state)
{
	(void)state;
	expect_error("[tsig k]\nalgorithm = hmac-sha224\nsecret = YWJj\n", 2,
		     "invalid algorithm 'hmac-sha224'; expected hmac-sha256, hmac-sha384, "
		     "hmac-sha512, hmac-sha1, hmac-md5 or hmac-md5.sig-alg.reg.int");
	expect_error("[tsig k]\n", 1, "tsig 'k' has no secret; expected secret = BASE64 or "
		     "secret-file = FILE");
	expect_error("[tsig k]\nsecret = YWJj\nsecret-file = /x\n", 1, "tsig 'k' has both "
		     "secret and secret-file; expected secret = BASE64 or secret-file = FILE");
	expect_error("[tsig k]\nsecret = not!base64\n", 1, "tsig 'k': the secret is not valid; "
		     "expected 1-512 octets in base64");
	expect_error("[tsig k]\nsecret = YWJj\n[tsig K.]\nsecret = YWJj\n", 3,
		     "duplicate tsig 'K.' (first at line 1); expected each tsig once");
}

/* ------------------------------------------------------------------------------------------ */
/* cfg_get and cfg_value_text                                                                   */

static void
test_every_key_has_a_text_form_equal_to_its_default(void **state)
{
	(void)state;
	/* A [tsig] section needs its secret, which is shown as "(secret)", never as itself. */
	struct cfg *c = loaded("[tsig k]\nsecret = YWJj\n[zone example.com]\n[blocking-group kids]\n");
	for (size_t i = 0; cfg_keys()[i].key != NULL; i++) {
		const struct cfg_key *k = &cfg_keys()[i];
		char *v = cfg_value_text(c, k, 0);
		if (v == NULL) {
			fail_msg("[%s] %s has no text form", k->section, k->key);
		}
		if (k->flags & CFG_KEY_SECRET) {
			assert_string_equal(v, "(secret)");
		} else if (!(k->flags & CFG_KEY_DERIVED) && strcmp(v, k->def) != 0) {
			fail_msg("[%s] %s shows '%s', its default is '%s'", k->section, k->key, v,
				 k->def);
		}
		free(v);
	}
	char *v = NULL;
	char err[256];
	assert_int_equal(cfg_get(c, "zone.example.com.file", &v, err, sizeof(err)), TDNS_OK);
	assert_string_equal(v, LOCALSTATEDIR "/lib/tdns/example.com.zone");
	free(v);
	cfg_free(c);
}

static void
test_get_shows_values_in_the_form_a_file_uses(void **state)
{
	(void)state;
	struct cfg *c = NULL;
	char err[256];
	assert_int_equal(load_text("[server]\nlisten = 127.0.0.1:5300,[::1]\nworkers = 3\n"
				   "user = tdns\nserial-policy = unixtime\n"
				   "[control]\ngroup = wheel\n[log]\nlevel = debug\n"
				   "[zone Example.COM.]\nfile = /srv/ex.zone\n[zone .]\n",
				   &c, err, sizeof(err)), TDNS_OK);
	static const struct { const char *key; const char *value; } want[] = {
		{ "server.listen", "127.0.0.1:5300, [::1]:53" },
		{ "server.workers", "3" },
		{ "server.user", "tdns" },
		{ "server.serial-policy", "unixtime" },
		{ "server.udp-max-payload", "1232" },
		{ "control.socket", "/run/tdns/control.sock" },
		{ "control.group", "wheel" },
		{ "log.level", "debug" },
		{ "zone.example.com.file", "/srv/ex.zone" },
		{ "zone.EXAMPLE.com..type", "primary" },
		{ "zone..file", LOCALSTATEDIR "/lib/tdns/root.zone" },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char *v = NULL;
		if (cfg_get(c, want[i].key, &v, err, sizeof(err)) != TDNS_OK) {
			fail_msg("%s: %s", want[i].key, err);
		}
		assert_string_equal(v, want[i].value);
		free(v);
	}
	cfg_free(c);
}

static void
test_get_refuses_unknown_keys_and_zones(void **state)
{
	(void)state;
	struct cfg *c = NULL;
	char err[2048]; /* the list of every key */
	char *v = (char *)1;
	c = loaded("[zone example.com]\n");
	static const char *const bad[] = {
		"log.lvl", "log", "level", "server.listen.x", "zone.file", "zone.example.com.level",
		"recursion.recursive", "", ".", "log.",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[128];
		if (cfg_get(c, bad[i], &v, err, sizeof(err)) != TDNS_EINVAL) {
			fail_msg("accepted '%s'", bad[i]);
		}
		assert_null(v);
		snprintf(want, sizeof(want), "unknown configuration key '%s'; expected one of: "
			 "server.listen, server.workers, ", bad[i]);
		assert_memory_equal(err, want, strlen(want));
		assert_non_null(strstr(err, ", control.socket, control.group, control.timeout, "
				       "log.level, recursion.mode, "));
		assert_non_null(strstr(err, ", cache.prefetch, dnssec.validation, "
				       "dnssec.trust-anchor-file, dnssec.aggressive-nsec, "
				       "dnssec.negative-trust-anchors, tls.certificate, "));
		assert_non_null(strstr(err, ", doh.trusted-proxies, blocking.enabled, "
				       "blocking.lists, blocking.allow-lists, blocking.mode, "
				       "blocking.ttl, blocking.update-interval, "
				       "blocking.ca-file, blocking.safe-search, "
				       "blocking.safe-search-file, blocking.bypass, "
				       "tsig.NAME.algorithm, "
				       "tsig.NAME.secret, tsig.NAME.secret-file, zone.NAME.type, "
				       "zone.NAME.file, zone.NAME.forwarders, "
				       "zone.NAME.primaries, zone.NAME.allow-transfer, "
				       "zone.NAME.notify, zone.NAME.journal-size, "
				       "zone.NAME.transport"));
	}
	assert_int_equal(cfg_get(c, "zone.example.org.file", &v, err, sizeof(err)),
			 TDNS_ENOZONE);
	assert_string_equal(err, "no zone 'example.org' in the configuration; expected one of "
			    "its [zone NAME] sections");
	assert_int_equal(cfg_get(c, "zone.a..b.file", &v, err, sizeof(err)), TDNS_EINVAL);
	cfg_free(c);
}

/* ------------------------------------------------------------------------------------------ */
/* cfg_write_set                                                                                */

/* Entries of tmpdir, to check that no temporary file is left behind. */
static size_t
dir_entries(void)
{
	size_t n = 0;
	DIR *d = opendir(tmpdir);
	assert_non_null(d);
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		n += e->d_name[0] != '.' || (e->d_name[1] != '\0' && strcmp(e->d_name, "..") != 0);
	}
	closedir(d);
	return n;
}

/* Writes before to the test's file, sets key to value, and expects after byte for byte. */
static void
expect_set(const char *before, const char *key, const char *value, const char *after)
{
	char err[1024];
	write_file(conf, before);
	size_t entries = dir_entries();
	if (cfg_write_set(conf, key, value, err, sizeof(err)) != TDNS_OK) {
		fail_msg("set %s %s: %s", key, value, err);
	}
	char *text = read_all(conf);
	assert_string_equal(text, after);
	free(text);
	assert_int_equal(dir_entries(), entries);
}

/* Writes before, sets key to value, which must fail with status and msg; file unchanged. */
static void
expect_set_error(const char *before, const char *key, const char *value, int status,
		 const char *msg)
{
	char err[2048]; /* the list of every key */
	write_file(conf, before);
	size_t entries = dir_entries();
	assert_int_equal(cfg_write_set(conf, key, value, err, sizeof(err)), status);
	assert_string_equal(err, msg);
	char *text = read_all(conf);
	assert_string_equal(text, before);
	free(text);
	assert_int_equal(dir_entries(), entries);
}

static void
test_set_replaces_the_value_and_keeps_every_other_byte(void **state)
{
	(void)state;
	static const char head[] = "# tdnsd.conf\n\n[server]\n; workers = auto\n";
	static const char tail[] = "\n# the end\n[log]\n  level   =   info   ; chatty\n";
	char before[512];
	char after[512];
	snprintf(before, sizeof(before), "%sworkers=2\n%s", head, tail);
	snprintf(after, sizeof(after), "%sworkers=4\n%s", head, tail);
	expect_set(before, "server.workers", "4", after);

	snprintf(after, sizeof(after), "%sworkers=2\n%s", head,
		 "\n# the end\n[log]\n  level   =   debug   ; chatty\n");
	expect_set(before, "log.level", "  debug ", after);

	/* An empty value cannot keep an inline comment, which would become the value. */
	expect_set("[server]\nuser = tdns ; drop privileges\n", "server.user", "",
		   "[server]\nuser = \n");
	expect_set("[server]\r\nlisten = 127.0.0.1\r\n", "server.listen",
		   "127.0.0.1:5300, [::1]:5300",
		   "[server]\r\nlisten = 127.0.0.1:5300, [::1]:5300\r\n");
	expect_set("[server]\nworkers = 2", "server.workers", "auto", "[server]\nworkers = auto");
}

static void
test_set_writes_long_lists_continued_and_replaces_every_line_of_the_old_value(void **state)
{
	(void)state;
	/* The old value's continuation lines and repetitions go; comments among them stay. */
	expect_set("[recursion]\nallow = 10.0.0.0/8, ; nets\n    ::1\n; keep\n  fc00::/7\n"
		   "qname-minimisation = no\nallow = 192.0.2.0/24\n[server]\nworkers = 2\n",
		   "recursion.allow", "127.0.0.0/8",
		   "[recursion]\nallow = 127.0.0.0/8 ; nets\n; keep\nqname-minimisation = no\n"
		   "[server]\nworkers = 2\n");

	char value[2048];
	char want[4096];
	char items[2048];
	networks(value, sizeof(value), 60, ", ");
	networks(items, sizeof(items), 60, ",\n    ");
	/* The first item stays on the key line, before its comment. */
	memmove(items + strlen("10.0.0.0/24,"), items + strlen("10.0.0.0/24,\n"),
		strlen(items + strlen("10.0.0.0/24,\n")) + 1);
	snprintf(want, sizeof(want), "[recursion]\nallow = 10.0.0.0/24, ; nets\n%s\n"
		 "[server]\nworkers = 2\n", items + strlen("10.0.0.0/24,"));
	expect_set("[recursion]\nallow = ::1 ; nets\n[server]\nworkers = 2\n",
		   "recursion.allow", value, want);
	struct cfg *c = NULL;
	char err[256];
	assert_int_equal(cfg_load(conf, &c, err, sizeof(err)), TDNS_OK);
	assert_string_equal(c->recursion_allow, value);
	cfg_free(c);
	char *text = read_all(conf);
	for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		assert_true(strlen(line) <= 100);
	}
	free(text);

	/* An absent long list is inserted in the continued form too, and read back. */
	write_file(conf, "[recursion]\nqname-minimisation = no\n");
	assert_int_equal(cfg_write_set(conf, "recursion.allow", value, err, sizeof(err)),
			 TDNS_OK);
	text = read_all(conf);
	assert_non_null(strstr(text, "allow = 10.0.0.0/24,\n    10.0.1.0/24,\n"));
	assert_non_null(strstr(text, "    10.0.59.0/24\n"));
	free(text);
	assert_int_equal(cfg_load(conf, &c, err, sizeof(err)), TDNS_OK);
	assert_string_equal(c->recursion_allow, value);
	cfg_free(c);
}

static void
test_set_inserts_an_absent_key_into_its_section(void **state)
{
	(void)state;
	static const struct {
		const char *before, *key, *value, *after;
	} cases[] = {
		/* After the section's last key, before the blank line and the comments after it. */
		{ "[server]\nworkers = 2\nuser = tdns\n\n# logging\n[log]\nlevel = info\n",
		  "server.udp-max-payload", "1400",
		  "[server]\nworkers = 2\nuser = tdns\nudp-max-payload = 1400\n\n# logging\n"
		  "[log]\nlevel = info\n" },
		/* After its commented-out example, which documents it. */
		{ "[server]\n# Threads.\n; workers = auto\n\n# User.\nuser = tdns\n",
		  "server.workers", "2",
		  "[server]\n# Threads.\n; workers = auto\nworkers = 2\n\n# User.\n"
		  "user = tdns\n" },
		/* Right after the header of a section without keys. */
		{ "[log]\n\n# nothing yet\n", "log.level", "debug",
		  "[log]\nlevel = debug\n\n# nothing yet\n" },
		/* CRLF files get CRLF lines; a last line without a line ending gets one. */
		{ "[server]\r\nworkers = 2\r\n[log]\r\nlevel = info", "log.level", "err",
		  "[server]\r\nworkers = 2\r\n[log]\r\nlevel = err" },
		{ "[server]\r\nworkers = 2", "server.user", "tdns",
		  "[server]\r\nworkers = 2\r\nuser = tdns\r\n" },
		/* A commented-out example of another (commented-out) section is not used. */
		{ "[log]\n; level = info\n; [zone example.com]\n; file = example.com.zone\n"
		  "[zone example.com]\ntype = primary\n", "zone.example.com.file", "x.zone",
		  "[log]\n; level = info\n; [zone example.com]\n; file = example.com.zone\n"
		  "[zone example.com]\ntype = primary\nfile = x.zone\n" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		expect_set(cases[i].before, cases[i].key, cases[i].value, cases[i].after);
	}
}

static void
test_set_appends_an_absent_section(void **state)
{
	(void)state;
	expect_set("[server]\nworkers = 2\n", "control.group", "tdns",
		   "[server]\nworkers = 2\n\n[control]\ngroup = tdns\n");
	expect_set("# only a comment", "log.level", "debug",
		   "# only a comment\n\n[log]\nlevel = debug\n");
	expect_set("", "server.serial-policy", "date", "[server]\nserial-policy = date\n");
	expect_set("[zone example.com]\nfile = a.zone\n", "zone.example.net.file", "b.zone",
		   "[zone example.com]\nfile = a.zone\n\n[zone example.net]\nfile = b.zone\n");
}

static void
test_set_zone_keys_change_only_their_zone(void **state)
{
	(void)state;
	static const char before[] =
		"[zone example.net]\nfile = net.zone\n"
		"[zone Example.COM.]   ; main zone\nfile = com.zone\n"
		"[zone .]\nfile = root.zone\n";
	expect_set(before, "zone.example.com.file", "/srv/other.zone",
		   "[zone example.net]\nfile = net.zone\n"
		   "[zone Example.COM.]   ; main zone\nfile = /srv/other.zone\n"
		   "[zone .]\nfile = root.zone\n");
	expect_set(before, "zone..file", "r.zone",
		   "[zone example.net]\nfile = net.zone\n"
		   "[zone Example.COM.]   ; main zone\nfile = com.zone\n"
		   "[zone .]\nfile = r.zone\n");
	expect_set(before, "zone.example.net.type", "primary",
		   "[zone example.net]\nfile = net.zone\ntype = primary\n"
		   "[zone Example.COM.]   ; main zone\nfile = com.zone\n"
		   "[zone .]\nfile = root.zone\n");

	struct cfg *c = NULL;
	char err[256];
	assert_int_equal(cfg_load(conf, &c, err, sizeof(err)), TDNS_OK);
	assert_int_equal(c->nzones, 3);
	cfg_free(c);
}

static void
test_set_invalid_value_leaves_the_file_untouched(void **state)
{
	(void)state;
	static const char before[] = "# keep me\n[server]\nworkers = 2\n\n[log]\nlevel = info\n";
	char msg[512];
	snprintf(msg, sizeof(msg), "%s:6: invalid log level 'loud'; expected err, warning, "
		 "notice, info or debug", conf);
	expect_set_error(before, "log.level", "loud", TDNS_ECONFIG, msg);
	snprintf(msg, sizeof(msg), "%s:3: invalid workers '0'; expected 'auto' or a number "
		 "1..64", conf);
	expect_set_error(before, "server.workers", "0", TDNS_ECONFIG, msg);
	/* The inserted line is line 4, right after workers. */
	snprintf(msg, sizeof(msg), "%s:4: invalid serial-policy 'weekly'; expected increment, "
		 "date or unixtime", conf);
	expect_set_error(before, "server.serial-policy", "weekly", TDNS_ECONFIG, msg);
	/* An error elsewhere in the file is reported too, and nothing is written. */
	snprintf(msg, sizeof(msg), "%s:3: invalid workers '0'; expected 'auto' or a number "
		 "1..64", conf);
	expect_set_error("[server]\n\nworkers = 0\n", "log.level", "debug", TDNS_ECONFIG, msg);

	expect_set_error(before, "log.lvl", "debug", TDNS_EINVAL,
			 "unknown configuration key 'log.lvl'; expected one of: server.listen, "
			 "server.workers, server.state-dir, server.user, server.tcp-idle-timeout, "
			 "server.tcp-max-connections, server.udp-max-payload, "
			 "server.serial-policy, server.identity, server.version, server.nsid, "
			 "control.socket, control.group, control.timeout, log.level, "
			 "recursion.mode, recursion.allow, recursion.root-hints, "
			 "recursion.qname-minimisation, recursion.max-depth, recursion.max-queries, "
			 "recursion.max-time-ms, recursion.max-outstanding, "
			 "recursion.jostle-timeout, recursion.case-randomisation, "
			 "recursion.outgoing-address, forwarders.servers, forwarders.mode, "
			 "forwarders.timeout, forwarders.ca-file, cache.max-size, cache.min-ttl, "
			 "cache.max-ttl, cache.negative-max-ttl, cache.serve-stale, "
			 "cache.prefetch, dnssec.validation, dnssec.trust-anchor-file, "
			 "dnssec.aggressive-nsec, dnssec.negative-trust-anchors, "
			 "tls.certificate, tls.key, tls.password-file, "
			 "dot.listen, doh.listen, doh.http-listen, doh.path, doh.trusted-proxies, "
			 "blocking.enabled, blocking.lists, blocking.allow-lists, blocking.mode, "
			 "blocking.ttl, blocking.update-interval, blocking.ca-file, "
			 "blocking.safe-search, blocking.safe-search-file, blocking.bypass, "
			 "tsig.NAME.algorithm, tsig.NAME.secret, tsig.NAME.secret-file, "
			 "zone.NAME.type, zone.NAME.file, zone.NAME.forwarders, "
			 "zone.NAME.primaries, zone.NAME.allow-transfer, zone.NAME.notify, "
			 "zone.NAME.journal-size, zone.NAME.transport, blocking-group.NAME.clients, "
			 "blocking-group.NAME.lists, "
			 "blocking-group.NAME.allow-lists, blocking-group.NAME.replace-lists, "
			 "blocking-group.NAME.mode, blocking-group.NAME.safe-search");
	expect_set_error(before, "server.user", "a\nb", TDNS_EINVAL,
			 "invalid value for server.user: a line break; expected one line");
	expect_set_error(before, "server.user", "tdns ; x", TDNS_EINVAL,
			 "invalid value for server.user: ';' after a blank starts a comment; "
			 "expected a value without it");
}

static void
test_set_keeps_the_mode_and_follows_symbolic_links(void **state)
{
	(void)state;
	char err[512];
	char link[160];
	write_file(conf, "[log]\nlevel = info\n");
	assert_int_equal(chmod(conf, 0640), 0);
	snprintf(link, sizeof(link), "%s/link.conf", tmpdir);
	assert_int_equal(symlink("tdnsd.conf", link), 0);
	assert_int_equal(cfg_write_set(link, "log.level", "notice", err, sizeof(err)), TDNS_OK);
	struct stat st;
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(stat(conf, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	char *text = read_all(conf);
	assert_string_equal(text, "[log]\nlevel = notice\n");
	free(text);
	unlink(link);

	snprintf(link, sizeof(link), "%s/absent.conf", tmpdir);
	assert_int_equal(cfg_write_set(link, "log.level", "notice", err, sizeof(err)), TDNS_EIO);
	char want[256];
	snprintf(want, sizeof(want), "cannot open %s: No such file or directory", link);
	assert_string_equal(err, want);
}

/* The shipped sample, changed key by key, keeps its comments and loads the new values. */
static void
test_set_on_the_sample_config_keeps_its_documentation(void **state)
{
	(void)state;
	char *sample = read_all(SRCDIR "/etc/tdnsd.conf");
	write_file(conf, sample);
	char err[512];
	assert_int_equal(cfg_write_set(conf, "log.level", "debug", err, sizeof(err)), TDNS_OK);
	assert_int_equal(cfg_write_set(conf, "control.socket", "/tmp/t.sock", err, sizeof(err)),
			 TDNS_OK);
	assert_int_equal(cfg_write_set(conf, "zone.example.com.file", "/srv/ex.zone", err,
				       sizeof(err)), TDNS_OK);
	char *text = read_all(conf);
	assert_non_null(strstr(text, "; level = info\nlevel = debug\n"));
	assert_non_null(strstr(text, "; socket = /run/tdns/control.sock\nsocket = /tmp/t.sock\n"));
	assert_non_null(strstr(text, "\n\n[zone example.com]\nfile = /srv/ex.zone\n"));
	/* Removing the three added lines and the appended section gives the sample back. */
	char *p = strstr(text, "level = debug\n");
	memmove(p, p + strlen("level = debug\n"), strlen(p + strlen("level = debug\n")) + 1);
	p = strstr(text, "socket = /tmp/t.sock\n");
	memmove(p, p + strlen("socket = /tmp/t.sock\n"),
		strlen(p + strlen("socket = /tmp/t.sock\n")) + 1);
	p = strstr(text, "\n\n[zone example.com]\n");
	*p = '\0';
	size_t slen = strlen(sample);
	assert_true(sample[slen - 1] == '\n');
	sample[slen - 1] = '\0';
	assert_string_equal(text, sample);
	free(text);
	free(sample);

	struct cfg *c = NULL;
	assert_int_equal(cfg_load(conf, &c, err, sizeof(err)), TDNS_OK);
	assert_int_equal(c->log_level, TDNS_LOG_DEBUG);
	assert_string_equal(c->control_socket, "/tmp/t.sock");
	assert_int_equal(c->nzones, 1);
	assert_string_equal(c->zones[0].file, "/srv/ex.zone");
	cfg_free(c);
}

/* ------------------------------------------------------------------------------------------ */
/* The table, the sample file and the man page agree                                            */

static size_t
key_count(void)
{
	size_t n = 0;
	while (cfg_keys()[n].key != NULL) {
		n++;
	}
	return n;
}

static void
test_every_key_has_default_help_parser_and_known_section(void **state)
{
	(void)state;
	assert_true(key_count() >= 10);
	for (size_t i = 0; cfg_keys()[i].key != NULL; i++) {
		const struct cfg_key *k = &cfg_keys()[i];
		assert_non_null(k->section);
		assert_true(strcmp(k->section, "server") == 0 ||
			    strcmp(k->section, "control") == 0 ||
			    strcmp(k->section, "log") == 0 || strcmp(k->section, "zone") == 0 ||
			    strcmp(k->section, "recursion") == 0 ||
			    strcmp(k->section, "forwarders") == 0 ||
			    strcmp(k->section, "cache") == 0 || strcmp(k->section, "tls") == 0 ||
			    strcmp(k->section, "dnssec") == 0 ||
			    strcmp(k->section, "dot") == 0 || strcmp(k->section, "doh") == 0 ||
			    strcmp(k->section, "tsig") == 0 ||
			    strcmp(k->section, "blocking") == 0 ||
			    strcmp(k->section, "blocking-group") == 0);
		assert_non_null(k->def);
		assert_non_null(k->help);
		assert_true(strlen(k->help) > 10);
		assert_non_null(k->parse);
		for (size_t j = 0; j < i; j++) {
			if (strcmp(cfg_keys()[j].section, k->section) == 0 &&
			    strcmp(cfg_keys()[j].key, k->key) == 0) {
				fail_msg("key [%s] %s listed twice", k->section, k->key);
			}
		}
	}
}

/* The loader knows value types: each key brings what its type needs, in messages too. */
static void
test_every_key_carries_the_arguments_of_its_type(void **state)
{
	(void)state;
	for (size_t i = 0; cfg_keys()[i].key != NULL; i++) {
		const struct cfg_key *k = &cfg_keys()[i];
		switch (k->type) {
		case CFG_UINT:
		case CFG_SIZE:
			assert_true(k->min <= k->max && k->max > 0);
			assert_non_null(k->expect);
			break;
		case CFG_ENUM:
			assert_non_null(k->names);
			assert_non_null(k->names[0].name);
			break;
		case CFG_LISTEN:
			assert_true(k->port > 0 && k->count_offset > 0);
			break;
		case CFG_PATH:
		case CFG_ADDRS:
			assert_non_null(k->expect);
			break;
		case CFG_CUSTOM:
			assert_non_null(k->fmt);
			break;
		case CFG_STR:
		case CFG_BOOL:
			break;
		}
		if (cfg_named_table(k->section) != NULL) {
			const struct cfg_named *nm = cfg_named_table(k->section)->named;
			assert_true(nm->size > 0 && nm->open != NULL && nm->same != NULL);
			assert_true(k->offset < nm->size);
		} else {
			assert_true(k->offset < sizeof(struct cfg));
		}
	}
}

/* Each default, written into a file, gives the same configuration as no file at all. */
static void
test_every_default_written_explicitly_gives_the_defaults(void **state)
{
	(void)state;
	char text[2048] = "";
	const char *sect = "";
	for (size_t i = 0; cfg_keys()[i].key != NULL; i++) {
		const struct cfg_key *k = &cfg_keys()[i];
		if (cfg_named_table(k->section) != NULL) {
			continue; /* named sections: below for zones, tests of their own otherwise */
		}
		size_t off = strlen(text);
		if (strcmp(sect, k->section) != 0) {
			off += (size_t)snprintf(text + off, sizeof(text) - off, "[%s]\n",
						k->section);
			sect = k->section;
		}
		snprintf(text + off, sizeof(text) - off, "%s = %s\n", k->key, k->def);
	}
	struct cfg *c = loaded(text);
	assert_defaults(c);
	cfg_free(c);

	/* Zone keys: the non-derived defaults parse too. */
	snprintf(text, sizeof(text), "[zone example.com]\n");
	for (size_t i = 0; cfg_keys()[i].key != NULL; i++) {
		const struct cfg_key *k = &cfg_keys()[i];
		if (strcmp(k->section, "zone") == 0 && !(k->flags & CFG_KEY_DERIVED)) {
			size_t off = strlen(text);
			snprintf(text + off, sizeof(text) - off, "%s = %s\n", k->key, k->def);
		}
	}
	c = loaded(text);
	assert_int_equal(c->nzones, 1);
	assert_string_equal(c->zones[0].type, "primary");
	cfg_free(c);
}

/* Looks for "; KEY = VALUE" in the sample, under the section header [SECTION] or ; [zone ...]. */
static const char *
sample_value(const char *text, const char *section, const char *key, char *out, size_t cap)
{
	char cur[64] = "";
	const char *p = text;
	while (*p != '\0') {
		const char *eol = strchr(p, '\n');
		size_t len = eol != NULL ? (size_t)(eol - p) : strlen(p);
		char line[512];
		if (len >= sizeof(line)) {
			len = sizeof(line) - 1;
		}
		memcpy(line, p, len);
		line[len] = '\0';
		p += len + (eol != NULL);

		const char *s = line;
		if (s[0] == ';') {
			s += 1 + (s[1] == ' ');
		}
		if (s[0] == '[') {
			snprintf(cur, sizeof(cur), "%.*s", (int)strcspn(s + 1, " ]"), s + 1);
			continue;
		}
		size_t klen = strlen(key);
		if (line[0] == ';' && strcmp(cur, section) == 0 && strncmp(s, key, klen) == 0 &&
		    strncmp(s + klen, " =", 2) == 0) {
			s += klen + 2;
			s += s[0] == ' ';
			snprintf(out, cap, "%s", s);
			return out;
		}
	}
	return NULL;
}

static void
test_sample_config_documents_every_key_with_its_default(void **state)
{
	(void)state;
	char *text = read_all(SRCDIR "/etc/tdnsd.conf");
	for (size_t i = 0; cfg_keys()[i].key != NULL; i++) {
		const struct cfg_key *k = &cfg_keys()[i];
		char val[256];
		if (sample_value(text, k->section, k->key, val, sizeof(val)) == NULL) {
			fail_msg("etc/tdnsd.conf lacks '; %s = ...' in [%s]", k->key, k->section);
		}
		if (k->flags & CFG_KEY_DERIVED) {
			continue;
		}
		if (strcmp(k->key, "state-dir") == 0) {
			/* The built-in default follows --localstatedir; the sample shows /var. */
			assert_string_equal(val, "/var/lib/tdns");
			continue;
		}
		if (strcmp(k->key, "safe-search-file") == 0) {
			/* The built-in default follows --sysconfdir; the sample shows /etc. */
			assert_string_equal(val, "/etc/tdns/safe-search.conf");
			continue;
		}
		if (strcmp(val, k->def) != 0) {
			fail_msg("etc/tdnsd.conf shows %s = '%s', the default is '%s'", k->key, val,
				 k->def);
		}
	}
	assert_non_null(strstr(text, "example.com.zone"));
	free(text);
}

static void
test_sample_config_as_shipped_loads_to_the_defaults(void **state)
{
	(void)state;
	struct cfg *c = NULL;
	char err[512];
	int rc = cfg_load(SRCDIR "/etc/tdnsd.conf", &c, err, sizeof(err));
	if (rc != TDNS_OK) {
		fail_msg("%s", err);
	}
	assert_defaults(c);
	cfg_free(c);
}

/* The zone example of the sample, enabled, loads etc/example.com.zone as a valid zone. */
static void
test_sample_zone_example_uncommented_loads_the_example_zone(void **state)
{
	(void)state;
	char *text = read_all(SRCDIR "/etc/tdnsd.conf");
	char *zone = strstr(text, "; [zone example.com]");
	assert_non_null(zone);
	/* Uncomment the zone lines by blanking their leading ';'. */
	for (char *p = zone; p != NULL; p = strchr(p, '\n') != NULL ? strchr(p, '\n') + 1 : NULL) {
		if (p[0] == ';') {
			p[0] = ' ';
		}
	}
	char *full = malloc(strlen(text) + 256);
	assert_non_null(full);
	snprintf(full, strlen(text) + 256, "%s\n[server]\nstate-dir = %s/etc\n", text, SRCDIR);
	struct cfg *c = loaded(full);
	assert_int_equal(c->nzones, 1);
	assert_string_equal(c->zones[0].file, SRCDIR "/etc/example.com.zone");

	struct zone *z = NULL;
	char err[512];
	int rc = zone_load(c->zones[0].apex, c->zones[0].file, &z, err, sizeof(err));
	if (rc != TDNS_OK) {
		fail_msg("%s", err);
	}
	assert_int_equal(z->serial, 2024010101);
	zone_free(z);
	cfg_free(c);
	free(full);
	free(text);
}

/* roff escapes the hyphen of a key name: "state\-dir". */
static void
test_man_page_documents_every_section_and_key(void **state)
{
	(void)state;
	char *text = read_all(SRCDIR "/doc/tdnsd.conf.5");
	for (size_t i = 0; cfg_keys()[i].key != NULL; i++) {
		const struct cfg_key *k = &cfg_keys()[i];
		char want[128] = "\n.B ";
		size_t off = strlen(want);
		for (const char *s = k->key; *s != '\0' && off + 3 < sizeof(want); s++) {
			if (*s == '-') {
				want[off++] = '\\';
			}
			want[off++] = *s;
		}
		want[off++] = '\n';
		want[off] = '\0';
		if (strstr(text, want) == NULL) {
			fail_msg("doc/tdnsd.conf.5 has no '.B %s' entry", k->key);
		}
		char sect[64];
		snprintf(sect, sizeof(sect), ".SH SECTION [%s", k->section);
		if (strstr(text, sect) == NULL) {
			fail_msg("doc/tdnsd.conf.5 has no section [%s]", k->section);
		}
	}
	free(text);
}

/* Appends text to the growing listing *out ("section: key, key\n" lines). */
static void
listing_add(char *out, size_t cap, const char *text)
{
	size_t off = strlen(out);
	snprintf(out + off, cap - off, "%s", text);
}

/* The sections and keys of the registered tables: "server: listen, workers, ...\n...". */
static void
table_listing(char *out, size_t cap)
{
	const char *sect = "";
	out[0] = '\0';
	for (size_t i = 0; cfg_keys()[i].key != NULL; i++) {
		const struct cfg_key *k = &cfg_keys()[i];
		if (strcmp(sect, k->section) != 0) {
			listing_add(out, cap, out[0] != '\0' ? "\n" : "");
			listing_add(out, cap, k->section);
			listing_add(out, cap, ":");
			sect = k->section;
		}
		listing_add(out, cap, " ");
		listing_add(out, cap, k->key);
	}
	listing_add(out, cap, "\n");
}

/* The same listing from a text: headers give sections, key lines give keys. */
static void
text_listing(const char *text, bool (*header)(const char *line, char *name, size_t cap),
	     bool (*key)(const char *line, char *name, size_t cap), char *out, size_t cap)
{
	char name[128];
	bool in = false;
	out[0] = '\0';
	for (const char *p = text; *p != '\0';) {
		const char *eol = strchr(p, '\n');
		size_t len = eol != NULL ? (size_t)(eol - p) : strlen(p);
		char line[512];
		snprintf(line, sizeof(line), "%.*s", (int)(len < sizeof(line) ? len :
							   sizeof(line) - 1), p);
		p += len + (eol != NULL);
		if (header(line, name, sizeof(name))) {
			listing_add(out, cap, out[0] != '\0' ? "\n" : "");
			listing_add(out, cap, name);
			listing_add(out, cap, ":");
			in = true;
		} else if (in && key(line, name, sizeof(name))) {
			listing_add(out, cap, " ");
			listing_add(out, cap, name);
		}
	}
	listing_add(out, cap, "\n");
}

/* "[server]" or "; [zone example.com]": the section's first word. */
static bool
sample_header(const char *line, char *name, size_t cap)
{
	if (strncmp(line, "; [", 3) == 0) {
		line += 2;
	}
	if (line[0] != '[') {
		return false;
	}
	snprintf(name, cap, "%.*s", (int)strcspn(line + 1, " ]"), line + 1);
	return true;
}

/* "; key = value" or "; key =": a documented key. */
static bool
sample_key(const char *line, char *name, size_t cap)
{
	if (strncmp(line, "; ", 2) != 0) {
		return false;
	}
	size_t n = strspn(line + 2, "abcdefghijklmnopqrstuvwxyz0123456789-");
	if (n == 0 || strncmp(line + 2 + n, " =", 2) != 0) {
		return false;
	}
	snprintf(name, cap, "%.*s", (int)n, line + 2);
	return true;
}

/* ".SH SECTION [server]" or ".SH SECTION [zone NAME]"; any other .SH ends the key list. */
static bool
man_header(const char *line, char *name, size_t cap)
{
	if (strncmp(line, ".SH SECTION [", 13) != 0) {
		return false;
	}
	snprintf(name, cap, "%.*s", (int)strcspn(line + 13, " ]"), line + 13);
	return true;
}

static bool man_after_tp;

/* ".B key" right after ".TP" (roff's "\-" for '-'); ".SH" lines end a section. */
static bool
man_key(const char *line, char *name, size_t cap)
{
	bool after = man_after_tp;
	man_after_tp = strcmp(line, ".TP") == 0;
	if (!after || strncmp(line, ".B ", 3) != 0) {
		return false;
	}
	size_t off = 0;
	for (const char *s = line + 3; *s != '\0' && off + 1 < cap; s++) {
		if (s[0] == '\\' && s[1] == '-') {
			continue;
		}
		name[off++] = *s;
	}
	name[off] = '\0';
	return true;
}

static bool
man_section_or_end(const char *line, char *name, size_t cap)
{
	if (man_header(line, name, cap)) {
		return true;
	}
	if (strncmp(line, ".SH", 3) == 0) {
		/* Later headings ("SECTIONS OF LATER RELEASES") carry no keys: mark and drop. */
		snprintf(name, cap, "-");
		return true;
	}
	return false;
}

/* Keeps the lines of listing that do not start with "-:" (headings without keys). */
static void
drop_marked(char *listing)
{
	char *out = listing;
	for (char *p = listing; *p != '\0';) {
		char *eol = strchr(p, '\n');
		size_t len = eol != NULL ? (size_t)(eol - p) + 1 : strlen(p);
		if (strncmp(p, "-:", 2) != 0) {
			memmove(out, p, len);
			out += len;
		}
		p += len;
	}
	*out = '\0';
}

static void
test_sample_config_documents_exactly_the_keys_of_the_tables_in_their_order(void **state)
{
	(void)state;
	char want[4096], got[4096];
	char *text = read_all(SRCDIR "/etc/tdnsd.conf");
	table_listing(want, sizeof(want));
	text_listing(text, sample_header, sample_key, got, sizeof(got));
	assert_string_equal(got, want);
	free(text);
}

static void
test_man_page_documents_exactly_the_keys_of_the_tables_in_their_order(void **state)
{
	(void)state;
	char want[4096], got[4096];
	char *text = read_all(SRCDIR "/doc/tdnsd.conf.5");
	table_listing(want, sizeof(want));
	man_after_tp = false;
	text_listing(text, man_section_or_end, man_key, got, sizeof(got));
	drop_marked(got);
	assert_string_equal(got, want);
	free(text);
}

/* ------------------------------------------------------------------------------------------ */
/* [recursion], [forwarders], [cache] and forwarder zones (issue 4)                             */

static void
test_resolver_keys_default_to_recursion_and_a_256m_cache(void **state)
{
	/* DESIGN.md: without a file, a caching recursive resolver for private networks. */
	const struct cfg *c = *state;
	assert_int_equal(c->recursion_mode, CFG_RECURSION_RECURSIVE);
	assert_string_equal(c->recursion_allow, "127.0.0.0/8, ::1, 10.0.0.0/8, 172.16.0.0/12, "
			    "192.168.0.0/16, 100.64.0.0/10, fc00::/7, fe80::/10");
	assert_string_equal(c->forwarders, "");
	assert_int_equal(c->forward_mode, CFG_FORWARD_CONCURRENT);
	assert_int_equal(c->forward_timeout, 2000);
	assert_true(c->cache_max_size == 256ull * 1024 * 1024);
	assert_int_equal(c->cache_min_ttl, 0);
	assert_int_equal(c->cache_max_ttl, 86400);
	assert_int_equal(c->cache_neg_max_ttl, 3600);
	assert_int_equal(c->cache_serve_stale, 86400);
	assert_int_equal(c->cache_prefetch, 1);
}

/* Issue 5: the iterator's keys. */
static void
test_iterator_keys_default_to_builtin_hints_minimisation_and_limits(void **state)
{
	const struct cfg *c = *state;
	assert_string_equal(c->root_hints, "");
	assert_int_equal(c->qname_min, 1);
	assert_int_equal(c->max_depth, 30);
	assert_int_equal(c->max_queries, 100);
	assert_int_equal(c->max_time_ms, 10000);
	assert_int_equal(c->case_random, 0);
	assert_string_equal(c->outgoing_address, "");
}

static void
test_iterator_keys_are_parsed_and_shown(void **state)
{
	(void)state;
	char hints[600];
	snprintf(hints, sizeof(hints), "%s.hints", conf);
	write_file(hints, ". 3600000 NS a.root.test.\na.root.test. 3600000 A 127.0.0.1\n");
	char text[2048];
	snprintf(text, sizeof(text), "[recursion]\nmode = recursive\nroot-hints = %s\n"
		 "qname-minimisation = no\nmax-depth = 5\nmax-queries = 20\n"
		 "max-time-ms = 3000\ncase-randomisation = yes\n"
		 "outgoing-address = 127.0.0.1, ::1\n", hints);
	struct cfg *c = NULL;
	char err[1024];
	if (load_text(text, &c, err, sizeof(err)) != TDNS_OK) {
		fail_msg("%s", err);
	}
	assert_int_equal(c->recursion_mode, CFG_RECURSION_RECURSIVE);
	assert_string_equal(c->root_hints, hints);
	assert_int_equal(c->qname_min, 0);
	assert_int_equal(c->max_depth, 5);
	assert_int_equal(c->max_queries, 20);
	assert_int_equal(c->max_time_ms, 3000);
	assert_int_equal(c->case_random, 1);
	assert_string_equal(c->outgoing_address, "127.0.0.1, ::1");
	char *v = NULL;
	assert_int_equal(cfg_get(c, "recursion.mode", &v, err, sizeof(err)), TDNS_OK);
	assert_string_equal(v, "recursive");
	free(v);
	assert_int_equal(cfg_get(c, "recursion.qname-minimisation", &v, err, sizeof(err)),
			 TDNS_OK);
	assert_string_equal(v, "no");
	free(v);
	assert_int_equal(cfg_get(c, "recursion.max-queries", &v, err, sizeof(err)), TDNS_OK);
	assert_string_equal(v, "20");
	free(v);
	cfg_free(c);
	unlink(hints);
}

static void
test_iterator_keys_reject_bad_values_and_bad_hints_files_with_file_and_line(void **state)
{
	(void)state;
	expect_error("[recursion]\nroot-hints = hints.txt\n", 2,
		     "invalid root-hints 'hints.txt'; expected an absolute path or nothing "
		     "(the built-in IANA hints)");
	expect_error("[recursion]\nmax-depth = 0\n", 2,
		     "invalid max-depth '0'; expected a number of referrals 1..100");
	expect_error("[recursion]\nmax-queries = 5000\n", 2,
		     "invalid max-queries '5000'; expected a number of queries 1..1000");
	expect_error("[recursion]\nmax-time-ms = 10\n", 2,
		     "invalid max-time-ms '10'; expected a number of milliseconds 100..120000");
	expect_error("[recursion]\ncase-randomisation = maybe\n", 2,
		     "invalid value 'maybe'; expected yes or no");
	expect_error("[recursion]\noutgoing-address = 127.0.0.1, nowhere\n", 2,
		     "invalid outgoing-address 'nowhere'; expected IPv4 or IPv6 addresses "
		     "separated by commas, or nothing");
	char hints[600];
	snprintf(hints, sizeof(hints), "%s.hints", conf);
	write_file(hints, ". 3600000 NS a.root.test.\na.root.test. 3600000 MX 1 a.root.test.\n");
	char text[1024], msg[2048];
	snprintf(text, sizeof(text), "[recursion]\nroot-hints = %s\n", hints);
	snprintf(msg, sizeof(msg), "invalid root-hints: %s:2: record of type MX in root hints; "
		 "expected NS records of the root and A or AAAA records of the servers", hints);
	expect_error(text, 2, msg);
	unlink(hints);
	snprintf(text, sizeof(text), "[recursion]\nroot-hints = %s\n", hints);
	snprintf(msg, sizeof(msg), "invalid root-hints: %s: cannot read zone file: No such file "
		 "or directory", hints);
	expect_error(text, 2, msg);
}

static void
test_resolver_keys_are_parsed(void **state)
{
	(void)state;
	struct cfg *c = loaded("[recursion]\nmode = forward\nallow = 192.0.2.0/24, 2001:db8::/32\n"
			       "[forwarders]\n"
			       "servers = udp://127.0.0.1:5399, tls://dns.example#192.0.2.1\n"
			       "mode = sequential\ntimeout = 750\nca-file = /etc/ssl/ca.pem\n"
			       "[cache]\nmax-size = 64M\nmin-ttl = 5\nmax-ttl = 3600\n"
			       "negative-max-ttl = 60\nserve-stale = 0\nprefetch = no\n"
			       "[zone corp.example]\ntype = forwarder\n"
			       "forwarders = tcp://10.0.0.53\n"
			       "[zone google.com]\ntype = forwarder\nforwarders = this-server\n");
	assert_int_equal(c->recursion_mode, CFG_RECURSION_FORWARD);
	assert_string_equal(c->recursion_allow, "192.0.2.0/24, 2001:db8::/32");
	assert_string_equal(c->forwarders, "udp://127.0.0.1:5399, tls://dns.example#192.0.2.1");
	assert_int_equal(c->forward_mode, CFG_FORWARD_SEQUENTIAL);
	assert_int_equal(c->forward_timeout, 750);
	assert_string_equal(c->forward_ca_file, "/etc/ssl/ca.pem");
	assert_true(c->cache_max_size == 64ull * 1024 * 1024);
	assert_int_equal(c->cache_min_ttl, 5);
	assert_int_equal(c->cache_max_ttl, 3600);
	assert_int_equal(c->cache_neg_max_ttl, 60);
	assert_int_equal(c->cache_serve_stale, 0);
	assert_int_equal(c->cache_prefetch, 0);
	assert_int_equal(c->nzones, 2);
	assert_string_equal(c->zones[0].type, "forwarder");
	assert_string_equal(c->zones[0].forwarders, "tcp://10.0.0.53");
	assert_string_equal(c->zones[1].forwarders, "this-server");
	char *v = NULL;
	char err[512];
	assert_int_equal(cfg_get(c, "cache.max-size", &v, err, sizeof(err)), TDNS_OK);
	assert_string_equal(v, "64M");
	free(v);
	assert_int_equal(cfg_get(c, "recursion.mode", &v, err, sizeof(err)), TDNS_OK);
	assert_string_equal(v, "forward");
	free(v);
	assert_int_equal(cfg_get(c, "forwarders.mode", &v, err, sizeof(err)), TDNS_OK);
	assert_string_equal(v, "sequential");
	free(v);
	assert_int_equal(cfg_get(c, "cache.prefetch", &v, err, sizeof(err)), TDNS_OK);
	assert_string_equal(v, "no");
	free(v);
	cfg_free(c);
}

static void
test_resolver_keys_reject_bad_values_with_what_was_expected(void **state)
{
	(void)state;
	expect_error("[recursion]\nmode = on\n", 2,
		     "invalid recursion mode 'on'; expected recursive, forward or off");
	expect_error("[recursion]\nallow = 10.0.0.0/33\n", 2,
		     "invalid allow list: prefix length 33 too long in '10.0.0.0/33'; expected "
		     "ADDR or ADDR/LEN (IPv4 /0..32, IPv6 /0..128)");
	expect_error("[forwarders]\nmode = random\n", 2,
		     "invalid forwarders mode 'random'; expected concurrent or sequential");
	expect_error("[forwarders]\ntimeout = 10\n", 2,
		     "invalid timeout '10'; expected a number of milliseconds 50..60000");
	expect_error("[cache]\nmax-size = 12X\n", 2,
		     "invalid max-size '12X'; expected a number of bytes with an optional K, M "
		     "or G suffix, 64K..1024G");
	expect_error("[cache]\nprefetch = maybe\n", 2,
		     "invalid value 'maybe'; expected yes or no");
	expect_error("[zone example.com]\nforwarders = this-server, udp://192.0.2.1\n", 2,
		     "'this-server' must stand alone, in a forwarder zone; expected server URLs");
}

static void
test_resolver_settings_that_contradict_each_other_fail(void **state)
{
	(void)state;
	struct cfg *c = NULL;
	char err[512];
	char want[512];
	assert_int_equal(load_text("[recursion]\nmode = forward\n", &c, err, sizeof(err)),
			 TDNS_ECONFIG);
	snprintf(want, sizeof(want), "%s: [recursion] mode = forward needs [forwarders] servers; "
		 "expected at least one server URL, or mode = off", conf);
	assert_string_equal(err, want);
	/* Without a forwarders key, the FWD records of the zone's file name the servers. */
	c = loaded("[zone a.example]\ntype = forwarder\n");
	assert_string_equal(c->zones[0].forwarders, "");
	cfg_free(c);
	assert_int_equal(load_text("[zone a.example]\nforwarders = udp://192.0.2.1\n", &c, err,
				   sizeof(err)), TDNS_ECONFIG);
	assert_int_equal(load_text("[zone a.example]\ntype = forwarder\nforwarders = "
				   "this-server\n", &c, err, sizeof(err)), TDNS_ECONFIG);
	assert_non_null(strstr(err, "forwards to this-server, but [forwarders] servers is empty"));
	assert_int_equal(load_text("[cache]\nmin-ttl = 100\nmax-ttl = 10\n", &c, err,
				   sizeof(err)), TDNS_ECONFIG);
	assert_non_null(strstr(err, "min-ttl 100 is above max-ttl 10"));
}

/* Issue 5: stub zones need primaries, and primaries need a stub zone. */
static void
test_stub_zones_take_primaries_and_need_them(void **state)
{
	(void)state;
	struct cfg *c = loaded("[zone stub.example]\ntype = stub\n"
			       "primaries = 192.0.2.53, 2001:db8::53\n");
	assert_string_equal(c->zones[0].type, "stub");
	assert_string_equal(c->zones[0].primaries, "192.0.2.53, 2001:db8::53");
	char *v = NULL;
	char err[512];
	assert_int_equal(cfg_get(c, "zone.stub.example.primaries", &v, err, sizeof(err)),
			 TDNS_OK);
	assert_string_equal(v, "192.0.2.53, 2001:db8::53");
	free(v);
	cfg_free(c);
	c = NULL;
	c = loaded("[zone a.example]\nfile = /a\n");
	assert_string_equal(c->zones[0].primaries, "");
	cfg_free(c);
	c = NULL;
	assert_int_equal(load_text("[zone stub.example]\ntype = stub\n", &c, err, sizeof(err)),
			 TDNS_ECONFIG);
	assert_non_null(strstr(err, "stub zone 'stub.example' has no primaries; expected "
			       "primaries = ADDRESS[, ADDRESS...]"));
	assert_int_equal(load_text("[zone a.example]\nprimaries = 192.0.2.1\n", &c, err,
				   sizeof(err)), TDNS_ECONFIG);
	assert_non_null(strstr(err, "zone 'a.example' has primaries but type primary; expected "
			       "type = secondary or stub"));
	expect_error("[zone stub.example]\ntype = stub\nprimaries = ns1.example\n", 3,
		     "invalid primaries: 'ns1.example' is not ADDR or ADDR:PORT; expected IPv4 or "
		     "IPv6 addresses (stub zones: port 53), or ADDR[:PORT] [key NAME] items "
		     "(secondary zones)");
	/* Issue 17: a port or key is for secondary zones; a stub zone asks port 53. */
	expect_error("[zone stub.example]\ntype = stub\nprimaries = 192.0.2.1:53\n", 1,
		     "stub zone 'stub.example': primary '192.0.2.1:53' is not an IPv4 or IPv6 "
		     "address (port 53, no key); expected primaries = ADDRESS[, ADDRESS...]");
}

int
main(void)
{
	cfg_use_schema(&cfg_schema);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_resolver_keys_default_to_recursion_and_a_256m_cache,
			setup_defaults, teardown_defaults),
		cmocka_unit_test_setup_teardown(
			test_iterator_keys_default_to_builtin_hints_minimisation_and_limits,
			setup_defaults, teardown_defaults),
		cmocka_unit_test(test_iterator_keys_are_parsed_and_shown),
		cmocka_unit_test(
			test_iterator_keys_reject_bad_values_and_bad_hints_files_with_file_and_line),
		cmocka_unit_test(test_resolver_keys_are_parsed),
		cmocka_unit_test(test_resolver_keys_reject_bad_values_with_what_was_expected),
		cmocka_unit_test(test_resolver_settings_that_contradict_each_other_fail),
		cmocka_unit_test(test_stub_zones_take_primaries_and_need_them),
		cmocka_unit_test(test_no_file_gives_defaults_listening_on_loopback_port_53),
		cmocka_unit_test(test_empty_file_and_empty_sections_give_defaults),
		cmocka_unit_test(test_every_server_and_log_key_is_parsed),
		cmocka_unit_test(test_range_limits_are_accepted),
		cmocka_unit_test(test_every_log_level_name_is_parsed),
		cmocka_unit_test(test_comments_blanks_crlf_bom_and_indentation_are_tolerated),
		cmocka_unit_test(test_zone_section_gets_defaults_and_file_relative_to_state_dir),
		cmocka_unit_test(test_parse_listen_accepts_every_documented_form),
		cmocka_unit_test(test_parse_listen_rejects_bad_addresses_and_ports),
		cmocka_unit_test(test_bad_listen_values_fail_with_file_line),
		cmocka_unit_test(test_bad_numbers_fail_with_file_line),
		cmocka_unit_test(test_bad_words_and_paths_fail_with_file_line),
		cmocka_unit_test(test_unknown_keys_name_the_section_and_the_expected_keys),
		cmocka_unit_test(test_unknown_sections_fail_even_when_empty),
		cmocka_unit_test(test_encrypted_listeners_take_their_own_default_ports),
		cmocka_unit_test(test_duplicate_keys_fail_with_both_lines),
		cmocka_unit_test(test_same_key_in_different_zones_is_not_a_duplicate),
		cmocka_unit_test(test_duplicate_and_invalid_zones_fail_with_file_line),
		cmocka_unit_test(test_syntax_errors_name_their_line),
		cmocka_unit_test(test_overlong_line_fails_with_file_line),
		cmocka_unit_test(test_list_keys_continue_on_indented_lines),
		cmocka_unit_test(
			test_repeated_list_keys_append_and_single_values_refuse_continuations),
		cmocka_unit_test(
		    test_set_writes_long_lists_continued_and_replaces_every_line_of_the_old_value),
		cmocka_unit_test(test_missing_file_is_an_io_error_naming_the_file),
		cmocka_unit_test(test_serial_policy_and_control_keys_are_parsed),
		cmocka_unit_test(test_bad_serial_policy_and_control_values_fail_with_file_line),
		cmocka_unit_test(test_tsig_sections_load_keys_from_secret_or_secret_file),
		cmocka_unit_test(test_tsig_sections_refuse_bad_keys_without_quoting_the_secret),
		cmocka_unit_test(test_every_key_has_a_text_form_equal_to_its_default),
		cmocka_unit_test(test_get_shows_values_in_the_form_a_file_uses),
		cmocka_unit_test(test_get_refuses_unknown_keys_and_zones),
		cmocka_unit_test(test_set_replaces_the_value_and_keeps_every_other_byte),
		cmocka_unit_test(test_set_inserts_an_absent_key_into_its_section),
		cmocka_unit_test(test_set_appends_an_absent_section),
		cmocka_unit_test(test_set_zone_keys_change_only_their_zone),
		cmocka_unit_test(test_set_invalid_value_leaves_the_file_untouched),
		cmocka_unit_test(test_set_keeps_the_mode_and_follows_symbolic_links),
		cmocka_unit_test(test_set_on_the_sample_config_keeps_its_documentation),
		cmocka_unit_test(test_every_key_has_default_help_parser_and_known_section),
		cmocka_unit_test(test_every_default_written_explicitly_gives_the_defaults),
		cmocka_unit_test(test_sample_config_documents_every_key_with_its_default),
		cmocka_unit_test(test_sample_config_as_shipped_loads_to_the_defaults),
		cmocka_unit_test(test_sample_zone_example_uncommented_loads_the_example_zone),
		cmocka_unit_test(test_man_page_documents_every_section_and_key),
		cmocka_unit_test(test_every_key_carries_the_arguments_of_its_type),
		cmocka_unit_test(test_sample_config_documents_exactly_the_keys_of_the_tables_in_their_order),
		cmocka_unit_test(test_man_page_documents_exactly_the_keys_of_the_tables_in_their_order),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
