/* SPDX-License-Identifier: MIT */
/* Unit tests for src/net/client.c: server syntax, response checks and DoH paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "dns/dns.h"
#include "net/client.h"
#include "unit.h"

/* The server spec parsed; fails the test when it is refused. */
static struct client_server
parsed(const char *spec)
{
	struct client_server s;
	char err[256];
	assert_int_equal(client_server_parse(spec, &s, err, sizeof(err)), CLIENT_OK);
	return s;
}

static void
test_tls_spec_with_port_and_address_keeps_name_for_certificate(void **state)
{
	(void)state;
	struct client_server s = parsed("tls://dns.example:8853#192.0.2.1");
	assert_int_equal(s.proto, CLIENT_TLS);
	assert_string_equal(s.name, "dns.example");
	assert_string_equal(s.addr, "192.0.2.1");
	assert_int_equal(s.port, 8853);
	assert_string_equal(s.path, "");
}

static void
test_default_ports_follow_the_transport(void **state)
{
	(void)state;
	struct client_server s = parsed("tls://dns.example");
	assert_int_equal(s.port, 853);
	s = parsed("udp://192.0.2.1");
	assert_int_equal(s.port, 53);
	assert_int_equal(s.proto, CLIENT_UDP);
	s = parsed("tcp://192.0.2.1:5353");
	assert_int_equal(s.port, 5353);
	assert_int_equal(s.proto, CLIENT_TCP);
	s = parsed("192.0.2.9");
	assert_int_equal(s.proto, CLIENT_UDP);
	assert_string_equal(s.name, "192.0.2.9");
}

static void
test_https_spec_has_path_and_default_path(void **state)
{
	(void)state;
	struct client_server s = parsed("https://dns.example/dns-query#2001:db8::1");
	assert_int_equal(s.proto, CLIENT_HTTPS);
	assert_int_equal(s.port, 443);
	assert_string_equal(s.path, "/dns-query");
	assert_string_equal(s.addr, "2001:db8::1");
	s = parsed("https+json://dns.google:8443/resolve?ct=x#[::1]");
	assert_int_equal(s.proto, CLIENT_HTTPS_JSON);
	assert_string_equal(s.name, "dns.google");
	assert_int_equal(s.port, 8443);
	assert_string_equal(s.path, "/resolve?ct=x");
	assert_string_equal(s.addr, "::1");
	s = parsed("https://dns.example");
	assert_string_equal(s.path, "/dns-query");
	assert_false(s.get);
}

static void
test_https_uri_template_asks_for_get(void **state)
{
	(void)state;
	struct client_server s;
	char err[256];
	/* RFC 8484 §4.1: the URI Template form with the variable dns. */
	s = parsed("https://dns.example/q{?dns}#192.0.2.1");
	assert_true(s.get);
	assert_string_equal(s.path, "/q");
	assert_string_equal(s.addr, "192.0.2.1");
	/* A query of ID 0 for "." A IN with ?dns= in base64url without padding. */
	static const uint8_t q[] = { 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1 };
	char path[256];
	assert_int_equal(client_doh_path(&s, q, sizeof(q), path, sizeof(path)),
			 strlen("/q?dns=AAABAAABAAAAAAAAAAABAAE"));
	assert_string_equal(path, "/q?dns=AAABAAABAAAAAAAAAAABAAE");
	assert_int_equal(client_doh_path(&s, q, sizeof(q), path, 10), 0);
	assert_int_not_equal(client_server_parse("https://dns.example/{?name}", &s, err,
						 sizeof(err)), 0);
	assert_non_null(strstr(err, "trailing {?dns}"));
}

static void
test_bracketed_ipv6_with_port(void **state)
{
	(void)state;
	struct client_server s = parsed("udp://[2001:db8::53]:5300");
	assert_string_equal(s.name, "2001:db8::53");
	assert_int_equal(s.port, 5300);
}

static void
test_bad_specs_are_refused_with_a_reason(void **state)
{
	(void)state;
	static const struct unit_refusal bad[] = {
		{ "quic://dns.example", "unknown scheme" },
		{ "udp://192.0.2.1#192.0.2.2", "'#ADDR' applies" },
		{ "tls://dns.example#not-an-address", "must be an IP address" },
		{ "tls://dns.example:0", "port must be" },
		{ "tls://dns.example:70000", "port must be" },
		{ "tls://dns.example:", "port must be" },
		{ "tcp://", "missing host" },
		{ "udp://2001:db8::1", "brackets" },
		{ "udp://[2001:db8::1", "missing ']'" },
		{ "tcp://192.0.2.1/dns-query", "path applies to https" },
		{ "https://:443/dns-query", "missing host" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct client_server s;
		char err[256] = "";
		assert_int_equal(client_server_parse(bad[i].in, &s, err, sizeof(err)),
				 CLIENT_EINVAL);
		unit_says(bad[i].in, err, bad[i].why);
		unit_says(bad[i].in, err, bad[i].in);
	}
}

static void
test_resolve_uses_the_fragment_address(void **state)
{
	(void)state;
	struct client_server s;
	char err[256];
	s = parsed("tls://dns.invalid:853#127.0.0.1");
	assert_int_equal(client_server_resolve(&s, err, sizeof(err)), CLIENT_OK);
	assert_int_equal(s.ss.ss_family, AF_INET);
	assert_string_equal(s.addr, "127.0.0.1");
	assert_string_equal(s.name, "dns.invalid");
}

static size_t
make_query(const char *name, uint16_t type, uint16_t id, uint8_t *buf, size_t cap)
{
	static const uint8_t root[1] = { 0 };
	uint8_t qname[DNS_NAME_MAX];
	assert_true(dns_name_from_text(name, strlen(name), root, qname) > 0);
	struct dns_build b;
	dns_build_init(&b, buf, cap, cap, id, DNS_FLAG_RD);
	assert_int_equal(dns_build_question(&b, qname, type, DNS_CLASS_IN), TDNS_OK);
	return dns_build_finish(&b);
}

static void
test_response_check_matches_id_and_question_ignoring_case(void **state)
{
	(void)state;
	uint8_t q[512], r[512];
	size_t qlen = make_query("www.Example.com", DNS_TYPE_A, 0x1234, q, sizeof(q));
	size_t rlen = make_query("WWW.example.COM", DNS_TYPE_A, 0x1234, r, sizeof(r));
	r[2] |= 0x80; /* QR */
	assert_int_equal(client_check_response(q, qlen, r, rlen), 0);
	tdns_put16(r, 0x1235);
	assert_int_equal(client_check_response(q, qlen, r, rlen), 1);
	rlen = make_query("www.example.com", DNS_TYPE_AAAA, 0x1234, r, sizeof(r));
	r[2] |= 0x80;
	assert_int_equal(client_check_response(q, qlen, r, rlen), 2);
	rlen = make_query("ww2.example.com", DNS_TYPE_A, 0x1234, r, sizeof(r));
	r[2] |= 0x80;
	assert_int_equal(client_check_response(q, qlen, r, rlen), 2);
	/* A query (QR clear) with our ID is not an answer. */
	rlen = make_query("www.example.com", DNS_TYPE_A, 0x1234, r, sizeof(r));
	assert_int_equal(client_check_response(q, qlen, r, rlen), 1);
}

static void
test_proto_names_and_ports(void **state)
{
	(void)state;
	assert_string_equal(client_proto_name(CLIENT_UDP), "UDP");
	assert_string_equal(client_proto_name(CLIENT_TLS), "TLS");
	assert_string_equal(client_proto_name(CLIENT_HTTPS_JSON), "HTTPS-JSON");
	assert_int_equal(client_proto_port(CLIENT_HTTPS), 443);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tls_spec_with_port_and_address_keeps_name_for_certificate),
		cmocka_unit_test(test_default_ports_follow_the_transport),
		cmocka_unit_test(test_https_spec_has_path_and_default_path),
		cmocka_unit_test(test_https_uri_template_asks_for_get),
		cmocka_unit_test(test_bracketed_ipv6_with_port),
		cmocka_unit_test(test_bad_specs_are_refused_with_a_reason),
		cmocka_unit_test(test_resolve_uses_the_fragment_address),
		cmocka_unit_test(test_response_check_matches_id_and_question_ignoring_case),
		cmocka_unit_test(test_proto_names_and_ports),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
