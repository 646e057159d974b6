/* SPDX-License-Identifier: MIT */
/* Unit tests for src/net/client.c: server syntax, response checks and DoH-JSON conversion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "dns/dns.h"
#include "net/client.h"

static void
test_tls_spec_with_port_and_address_keeps_name_for_certificate(void **state)
{
	(void)state;
	struct client_server s;
	char err[256];
	assert_int_equal(client_server_parse("tls://dns.example:8853#192.0.2.1", &s, err,
					     sizeof(err)), CLIENT_OK);
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
	struct client_server s;
	char err[256];
	assert_int_equal(client_server_parse("tls://dns.example", &s, err, sizeof(err)), 0);
	assert_int_equal(s.port, 853);
	assert_int_equal(client_server_parse("udp://192.0.2.1", &s, err, sizeof(err)), 0);
	assert_int_equal(s.port, 53);
	assert_int_equal(s.proto, CLIENT_UDP);
	assert_int_equal(client_server_parse("tcp://192.0.2.1:5353", &s, err, sizeof(err)), 0);
	assert_int_equal(s.port, 5353);
	assert_int_equal(s.proto, CLIENT_TCP);
	assert_int_equal(client_server_parse("192.0.2.9", &s, err, sizeof(err)), 0);
	assert_int_equal(s.proto, CLIENT_UDP);
	assert_string_equal(s.name, "192.0.2.9");
}

static void
test_https_spec_has_path_and_default_path(void **state)
{
	(void)state;
	struct client_server s;
	char err[256];
	assert_int_equal(client_server_parse("https://dns.example/dns-query#2001:db8::1", &s, err,
					     sizeof(err)), 0);
	assert_int_equal(s.proto, CLIENT_HTTPS);
	assert_int_equal(s.port, 443);
	assert_string_equal(s.path, "/dns-query");
	assert_string_equal(s.addr, "2001:db8::1");
	assert_int_equal(client_server_parse("https+json://dns.google:8443/resolve?ct=x#[::1]", &s,
					     err, sizeof(err)), 0);
	assert_int_equal(s.proto, CLIENT_HTTPS_JSON);
	assert_string_equal(s.name, "dns.google");
	assert_int_equal(s.port, 8443);
	assert_string_equal(s.path, "/resolve?ct=x");
	assert_string_equal(s.addr, "::1");
	assert_int_equal(client_server_parse("https://dns.example", &s, err, sizeof(err)), 0);
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
	assert_int_equal(client_server_parse("https://dns.example/q{?dns}#192.0.2.1", &s, err,
					     sizeof(err)), 0);
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
	struct client_server s;
	char err[256];
	assert_int_equal(client_server_parse("udp://[2001:db8::53]:5300", &s, err, sizeof(err)), 0);
	assert_string_equal(s.name, "2001:db8::53");
	assert_int_equal(s.port, 5300);
}

static void
test_bad_specs_are_refused_with_a_reason(void **state)
{
	(void)state;
	static const struct {
		const char *spec;
		const char *why;
	} bad[] = {
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
		assert_int_equal(client_server_parse(bad[i].spec, &s, err, sizeof(err)),
				 CLIENT_EINVAL);
		if (strstr(err, bad[i].why) == NULL || strstr(err, bad[i].spec) == NULL) {
			fail_msg("%s: '%s' does not say '%s'", bad[i].spec, err, bad[i].why);
		}
	}
}

static void
test_resolve_uses_the_fragment_address(void **state)
{
	(void)state;
	struct client_server s;
	char err[256];
	assert_int_equal(client_server_parse("tls://dns.invalid:853#127.0.0.1", &s, err,
					     sizeof(err)), 0);
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
test_json_answer_becomes_a_wire_message(void **state)
{
	(void)state;
	static const char json[] =
		"{\"Status\":0,\"TC\":false,\"RD\":true,\"RA\":true,\"AD\":false,\"CD\":false,"
		"\"Question\":[{\"name\":\"www.example.com.\",\"type\":1}],"
		"\"Answer\":[{\"name\":\"www.example.com.\",\"type\":5,\"TTL\":300,"
		"\"data\":\"web.example.com.\"},"
		"{\"name\":\"web.example.com.\",\"type\":1,\"TTL\":60,\"data\":\"192.0.2.80\"},"
		"{\"name\":\"web.example.com.\",\"type\":16,\"TTL\":60,"
		"\"data\":\"\\\"two words\\\" \\\"and more\\\"\"},"
		"{\"name\":\"web.example.com.\",\"type\":16,\"TTL\":60,"
		"\"data\":\"v=spf1 -all\"}],"
		"\"Comment\":\"ignored\"}";
	uint8_t out[4096], rd[512];
	char err[256] = "";
	size_t len = client_json_to_wire(json, strlen(json), 0, out, sizeof(out), err,
					 sizeof(err));
	assert_true(len > 0);
	struct dns_msg m = { 0 };
	assert_int_equal(dns_msg_parse(out, len, &m), TDNS_OK);
	assert_int_equal(m.id, 0);
	assert_true(m.flags & DNS_FLAG_QR);
	assert_true(m.flags & DNS_FLAG_RD);
	assert_true(m.flags & DNS_FLAG_RA);
	assert_false(m.flags & DNS_FLAG_AD);
	assert_int_equal(m.rcode, 0);
	assert_int_equal(m.qtype, DNS_TYPE_A);
	assert_int_equal(m.count[1], 4);
	assert_int_equal(m.rrs[0].type, DNS_TYPE_CNAME);
	assert_int_equal(m.rrs[0].ttl, 300);
	assert_int_equal(m.rrs[1].type, DNS_TYPE_A);
	assert_memory_equal(out + m.rrs[1].rdata_off, "\xc0\x00\x02\x50", 4);
	char text[256];
	size_t rdlen;
	assert_int_equal(dns_rdata_unpack(DNS_TYPE_TXT, out, len, m.rrs[2].rdata_off,
					  m.rrs[2].rdlen, rd, sizeof(rd), &rdlen), TDNS_OK);
	assert_true(dns_rdata_to_text(DNS_TYPE_TXT, rd, rdlen, text, sizeof(text)) > 0);
	assert_string_equal(text, "\"two words\" \"and more\"");
	/* Unquoted TXT (Google's style) is one string. */
	assert_int_equal(dns_rdata_unpack(DNS_TYPE_TXT, out, len, m.rrs[3].rdata_off,
					  m.rrs[3].rdlen, rd, sizeof(rd), &rdlen), TDNS_OK);
	assert_true(dns_rdata_to_text(DNS_TYPE_TXT, rd, rdlen, text, sizeof(text)) > 0);
	assert_string_equal(text, "\"v=spf1 -all\"");
	dns_msg_clear(&m);
}

static void
test_json_nxdomain_keeps_status_and_authority(void **state)
{
	(void)state;
	static const char json[] =
		"{\"Status\":3,\"TC\":false,\"RD\":true,\"RA\":true,\"AD\":true,\"CD\":false,"
		"\"Question\":[{\"name\":\"nx.example.\",\"type\":28}],"
		"\"Authority\":[{\"name\":\"example.\",\"type\":6,\"TTL\":900,\"data\":"
		"\"ns.example. host.example. 1 7200 3600 1209600 300\"}]}";
	uint8_t out[4096];
	char err[256];
	size_t len = client_json_to_wire(json, strlen(json), 7, out, sizeof(out), err,
					 sizeof(err));
	assert_true(len > 0);
	struct dns_msg m = { 0 };
	assert_int_equal(dns_msg_parse(out, len, &m), TDNS_OK);
	assert_int_equal(m.id, 7);
	assert_int_equal(m.rcode, DNS_RCODE_NXDOMAIN);
	assert_true(m.flags & DNS_FLAG_AD);
	assert_int_equal(m.count[1], 0);
	assert_int_equal(m.count[2], 1);
	assert_int_equal(m.rrs[0].type, DNS_TYPE_SOA);
	assert_int_equal(m.rrs[0].section, DNS_SECTION_AUTHORITY);
	dns_msg_clear(&m);
}

static void
test_bad_json_is_refused_with_a_reason(void **state)
{
	(void)state;
	static const struct {
		const char *json;
		const char *why;
	} bad[] = {
		{ "not json", "not a JSON object" },
		{ "[1,2]", "not a JSON object" },
		{ "{\"Question\":[{\"name\":\"a.\",\"type\":1}]}", "Status" },
		{ "{\"Status\":0}", "Question" },
		{ "{\"Status\":0,\"Question\":[{\"name\":\"a.\",\"type\":1}],"
		  "\"Answer\":[{\"name\":\"a.\",\"type\":1,\"TTL\":1,\"data\":\"300.1.1.1\"}]}",
		  "A data '300.1.1.1'" },
		{ "{\"Status\":0,\"Question\":[{\"name\":\"a.\",\"type\":1}],"
		  "\"Answer\":[{\"name\":\"a.\",\"type\":1,\"data\":\"192.0.2.1\"}]}",
		  "TTL" },
		{ "{\"Status\":0,\"Question\":[{\"name\":\"a.\",\"type\":1}],\"Answer\":{}}",
		  "not an array" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t out[1024];
		char err[256] = "";
		assert_int_equal(client_json_to_wire(bad[i].json, strlen(bad[i].json), 0, out,
						     sizeof(out), err, sizeof(err)), 0);
		if (strstr(err, bad[i].why) == NULL) {
			fail_msg("%s: '%s' does not say '%s'", bad[i].json, err, bad[i].why);
		}
	}
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
		cmocka_unit_test(test_json_answer_becomes_a_wire_message),
		cmocka_unit_test(test_json_nxdomain_keeps_status_and_authority),
		cmocka_unit_test(test_bad_json_is_refused_with_a_reason),
		cmocka_unit_test(test_proto_names_and_ports),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
