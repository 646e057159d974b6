/* SPDX-License-Identifier: MIT */
/* Unit tests for src/net/http1.c and src/net/doh.c: HTTP/1.1 heads, RFC 8484 requests, JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "dns/dns.h"
#include "net/doh.h"
#include "unit.h"

#define S(lit) ((struct doh_str){ (lit), sizeof(lit) - 1 })

static int
parse(const char *head, struct doh_http1_req *r)
{
	return doh_http1_parse(head, strlen(head), r);
}

/* ---- HTTP/1.1 heads ---- */

static void
test_get_head_is_parsed_with_its_fields(void **state)
{
	(void)state;
	const char *h = "GET /dns-query?dns=AAAB HTTP/1.1\r\nHost: dns.test\r\n"
			"Accept: application/dns-json\r\nX-Forwarded-For: 192.0.2.1, 192.0.2.7\r\n"
			"X-Real-IP:198.51.100.1 \r\n\r\nBODY";
	struct doh_http1_req r;
	assert_int_equal(parse(h, &r), (int)(strstr(h, "BODY") - h));
	assert_int_equal(r.method.len, 3);
	assert_memory_equal(r.method.s, "GET", 3);
	assert_int_equal(r.target.len, strlen("/dns-query?dns=AAAB"));
	assert_memory_equal(r.target.s, "/dns-query?dns=AAAB", r.target.len);
	assert_int_equal(r.minor, 1);
	assert_true(r.keep_alive);
	assert_true(r.accept_json);
	assert_int_equal(r.real_ip.len, strlen("198.51.100.1"));
	assert_memory_equal(r.forwarded_for.s, "192.0.2.1, 192.0.2.7", r.forwarded_for.len);
	assert_int_equal(r.content_length, 0);
}

static void
test_incomplete_head_needs_more(void **state)
{
	(void)state;
	struct doh_http1_req r;
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\n", &r), 0);
	assert_int_equal(parse("GET /dns-qu", &r), 0);
	assert_int_equal(parse("", &r), 0);
}

static void
test_post_head_with_length_and_close(void **state)
{
	(void)state;
	struct doh_http1_req r;
	const char *h = "POST /dns-query HTTP/1.1\r\nHost: x\r\n"
			"Content-Type: application/dns-message\r\nContent-Length: 33\r\n"
			"Connection: close\r\nExpect: 100-continue\r\n\r\n";
	assert_int_equal(parse(h, &r), (int)strlen(h));
	assert_int_equal(r.content_length, 33);
	assert_false(r.keep_alive);
	assert_true(r.expect_continue);
	assert_memory_equal(r.content_type.s, "application/dns-message", r.content_type.len);
}

static void
test_http10_closes_unless_keep_alive(void **state)
{
	(void)state;
	struct doh_http1_req r;
	assert_true(parse("GET / HTTP/1.0\r\n\r\n", &r) > 0);
	assert_false(r.keep_alive);
	assert_int_equal(r.minor, 0);
	assert_true(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &r) > 0);
	assert_true(r.keep_alive);
}

static void
test_bare_lf_lines_are_accepted(void **state)
{
	(void)state;
	struct doh_http1_req r;
	assert_int_equal(parse("GET / HTTP/1.1\nHost: a\n\n", &r), 24);
}

static void
test_malformed_heads_are_400(void **state)
{
	(void)state;
	struct doh_http1_req r;
	assert_int_equal(parse("GET / HTTP/1.1\r\n\r\n", &r), -400);              /* no Host */
	assert_int_equal(parse("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", &r), -400);
	assert_int_equal(parse("GET / HTTP/1.1 \r\nHost: a\r\n\r\n", &r), -400);
	assert_int_equal(parse("GET / FTP/1.1\r\nHost: a\r\n\r\n", &r), -400);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost : a\r\n\r\n", &r), -400);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", &r), -400);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", &r), -400);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", &r), -400);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nX: a\001b\r\n\r\n", &r), -400);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n", &r),
			 -400);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n"
			       "Content-Length: 1\r\n\r\n", &r), -400);
	assert_int_equal(parse("hello garbage\r\n\r\n", &r), -400);
}

static void
test_binary_garbage_is_400_before_a_line_ends(void **state)
{
	(void)state;
	struct doh_http1_req r;
	/* A TLS ClientHello sent to the plain-HTTP port. */
	static const char hello[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";
	assert_int_equal(doh_http1_parse(hello, sizeof(hello) - 1, &r), -400);
}

static void
test_limits_give_413_431_501_505(void **state)
{
	(void)state;
	struct doh_http1_req r;
	assert_int_equal(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 65536\r\n\r\n", &r),
			 -413);
	assert_true(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 65535\r\n\r\n", &r) > 0);
	assert_int_equal(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
			       &r), -501);
	assert_int_equal(parse("GET / HTTP/2.0\r\nHost: a\r\n\r\n", &r), -505);
	char *big = malloc(DOH_HEAD_MAX + 64);
	assert_non_null(big);
	strcpy(big, "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: ");
	size_t n = strlen(big);
	memset(big + n, 'a', DOH_HEAD_MAX);
	big[n + DOH_HEAD_MAX] = '\0';
	assert_int_equal(parse(big, &r), -431);
	free(big);
	char many[DOH_HEADERS_MAX * 8 + 64];
	n = (size_t)snprintf(many, sizeof(many), "GET / HTTP/1.1\r\nHost: a\r\n");
	for (int i = 0; i < DOH_HEADERS_MAX; i++) {
		n += (size_t)snprintf(many + n, sizeof(many) - n, "X%d: 1\r\n", i);
	}
	snprintf(many + n, sizeof(many) - n, "\r\n");
	assert_int_equal(parse(many, &r), -431);
}

static void
test_response_head_has_cache_control_allow_and_close(void **state)
{
	(void)state;
	char buf[512];
	size_t n = doh_http1_response(buf, sizeof(buf), 200, "application/dns-message", 49, 600,
				      true);
	assert_int_equal(n, strlen(buf));
	assert_string_equal(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/dns-message\r\n"
				 "Content-Length: 49\r\nCache-Control: max-age=600\r\n\r\n");
	doh_http1_response(buf, sizeof(buf), 405, NULL, 0, -1, false);
	assert_string_equal(buf, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n"
				 "Cache-Control: no-store\r\nAllow: GET, POST\r\n"
				 "Connection: close\r\n\r\n");
	assert_int_equal(doh_http1_response(buf, 10, 200, NULL, 0, -1, true), 0);
}

/* ---- RFC 8484 requests ---- */

/* www.example.com A, ID 0, RD. */
static const uint8_t QUERY[] = {
	0x00, 0x00, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x03, 'w', 'w', 'w', 0x07, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0x03, 'c', 'o', 'm', 0x00,
	0x00, 0x01, 0x00, 0x01,
};
/* base64url of QUERY, without padding (33 octets: none needed) and of its first 32. */
#define QUERY_B64 "AAABAAABAAAAAAAAA3d3dwdleGFtcGxlA2NvbQAAAQAB"
#define QUERY32_B64 "AAABAAABAAAAAAAAA3d3dwdleGFtcGxlA2NvbQAAAQA"

/* What the last decode() produced: the wire query and the format of the answer asked for. */
static struct {
	uint8_t wire[DOH_BODY_MAX];
	size_t len;
	enum doh_format fmt;
} got;

/* Decodes one request (json: Accept prefers JSON) into got; the HTTP status, 0 if fine. */
static int
decode(const char *method, const char *target, const char *ctype, const uint8_t *body,
       size_t blen, bool json)
{
	struct doh_request r = {
		.method = { method, strlen(method) },
		.target = { target, strlen(target) },
		.content_type = { ctype, ctype != NULL ? strlen(ctype) : 0 },
		.accept_json = json,
		.body = body,
		.body_len = blen,
	};
	return doh_request_decode(&r, "/dns-query", got.wire, DOH_BODY_MAX, &got.len, &got.fmt);
}

/* A GET of target without a body, as a browser or curl sends it. */
static int
get(const char *target)
{
	return decode("GET", target, NULL, NULL, 0, false);
}

/* Every target in the NULL-terminated list is refused with status. */
static void
expect_get_status(const char *const *targets, int status)
{
	for (size_t i = 0; targets[i] != NULL; i++) {
		if (get(targets[i]) != status) {
			fail_msg("GET %s: want %d, got %d", targets[i], status, get(targets[i]));
		}
	}
}

static void
test_get_dns_param_decodes_base64url(void **state)
{
	(void)state;
	assert_int_equal(get("/dns-query?dns=" QUERY_B64), 0);
	assert_int_equal(got.len, sizeof(QUERY));
	assert_memory_equal(got.wire, QUERY, sizeof(QUERY));
	assert_int_equal(got.fmt, DOH_FORMAT_WIRE);
	/* Other parameters around it are ignored. */
	assert_int_equal(get("/dns-query?ct=x&dns=" QUERY_B64 "&z"), 0);
	assert_int_equal(got.len, sizeof(QUERY));
}

static void
test_base64url_padding_is_tolerated(void **state)
{
	(void)state;
	/* 32 octets need one '=' of padding, sent plain or percent-encoded. */
	assert_int_equal(get("/dns-query?dns=" QUERY32_B64 "="), 0);
	assert_int_equal(got.len, 32);
	assert_int_equal(get("/dns-query?dns=" QUERY32_B64 "%3D"), 0);
	assert_int_equal(got.len, 32);
	assert_int_equal(get("/dns-query?dns=" QUERY32_B64), 0);
	assert_memory_equal(got.wire, QUERY, 32);
}

static void
test_bad_base64_and_missing_param_are_400(void **state)
{
	(void)state;
	static const char *const bad[] = {
		/* '+' and '/' belong to standard base64, not to base64url. */
		"/dns-query?dns=AAAB+AAB/AAAAAAAA",
		"/dns-query?dns=A",
		"/dns-query?dns=",
		"/dns-query",
		"/dns-query?dns=%zz",
		/* Decodes, but is shorter than a DNS header. */
		"/dns-query?dns=AAAB",
		NULL,
	};
	expect_get_status(bad, 400);
}

static void
test_response_instead_of_query_is_400(void **state)
{
	(void)state;
	uint8_t resp[sizeof(QUERY)];
	memcpy(resp, QUERY, sizeof(QUERY));
	resp[2] |= 0x80;
	assert_int_equal(decode("POST", "/dns-query", "application/dns-message", resp,
				sizeof(resp), false), 400);
}

static void
test_post_takes_the_body_as_the_query(void **state)
{
	(void)state;
	assert_int_equal(decode("POST", "/dns-query", "application/dns-message; charset=x", QUERY,
				sizeof(QUERY), false), 0);
	assert_int_equal(got.len, sizeof(QUERY));
	assert_memory_equal(got.wire, QUERY, got.len);
	assert_int_equal(got.fmt, DOH_FORMAT_WIRE);
	assert_int_equal(decode("POST", "/dns-query", "Application/DNS-Message", QUERY,
				sizeof(QUERY), true), 0);
	assert_int_equal(got.fmt, DOH_FORMAT_JSON);
}

static void
test_wrong_content_type_is_415(void **state)
{
	(void)state;
	assert_int_equal(decode("POST", "/dns-query", "application/x-www-form-urlencoded", QUERY,
				sizeof(QUERY), false), 415);
	assert_int_equal(decode("POST", "/dns-query", NULL, QUERY, sizeof(QUERY), false), 415);
}

static void
test_oversized_body_is_413(void **state)
{
	(void)state;
	static uint8_t body[DOH_BODY_MAX + 1];
	memcpy(body, QUERY, sizeof(QUERY));
	assert_int_equal(decode("POST", "/dns-query", "application/dns-message", body,
				sizeof(body), false), 413);
}

static void
test_wrong_path_is_404_and_other_methods_405(void **state)
{
	(void)state;
	assert_int_equal(get("/resolve?dns=" QUERY_B64), 404);
	assert_int_equal(get("/dns-query/x?dns=" QUERY_B64), 404);
	assert_int_equal(decode("PUT", "/dns-query", "application/dns-message", QUERY,
				sizeof(QUERY), false), 405);
	assert_int_equal(decode("HEAD", "/dns-query?dns=" QUERY_B64, NULL, NULL, 0, false), 405);
}

static void
test_json_api_builds_the_query(void **state)
{
	(void)state;
	assert_int_equal(get("/dns-query?name=www.example.com&type=AAAA&do=1&cd=true"), 0);
	assert_int_equal(got.fmt, DOH_FORMAT_JSON);
	struct dns_msg m;
	assert_int_equal(dns_msg_parse(got.wire, got.len, &m), TDNS_OK);
	assert_int_equal(m.id, 0);
	assert_true(m.flags & DNS_FLAG_RD);
	assert_true(m.flags & DNS_FLAG_CD);
	assert_false(m.flags & DNS_FLAG_QR);
	assert_int_equal(m.qtype, DNS_TYPE_AAAA);
	assert_true(m.edns.present && m.edns.do_bit);
	uint8_t want[DNS_NAME_MAX];
	assert_true(dns_name_from_text("www.example.com.", 16, NULL, want) > 0);
	assert_true(dns_name_eq(m.qname, want));
	dns_msg_clear(&m);
	/* Type by number, percent-encoded name, A by default. */
	assert_int_equal(get("/dns-query?name=w%77w.example.com.&type=28"), 0);
	assert_int_equal(dns_msg_parse(got.wire, got.len, &m), TDNS_OK);
	assert_int_equal(m.qtype, 28);
	assert_false(m.edns.do_bit);
	assert_false(m.flags & DNS_FLAG_CD);
	dns_msg_clear(&m);
	assert_int_equal(get("/dns-query?name=example.com"), 0);
	assert_int_equal(dns_msg_parse(got.wire, got.len, &m), TDNS_OK);
	assert_int_equal(m.qtype, DNS_TYPE_A);
	dns_msg_clear(&m);
}

static void
test_json_api_bad_name_or_type_is_400(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"/dns-query?name=a&type=NOSUCHTYPE",
		"/dns-query?name=a&type=70000",
		"/dns-query?name=",
		/* A label of 68 octets (RFC 1035 §2.3.4: 63 at most). */
		"/dns-query?name=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com",
		NULL,
	};
	expect_get_status(bad, 400);
}

static void
test_accept_header_picks_json_only_when_preferred(void **state)
{
	(void)state;
	assert_true(doh_accept_json("application/dns-json", 20));
	assert_true(doh_accept_json("text/html, application/json;q=0.9", 33));
	assert_false(doh_accept_json("application/dns-message", 23));
	assert_false(doh_accept_json("application/dns-json, application/dns-message", 45));
	assert_false(doh_accept_json("*/*", 3));
	assert_false(doh_accept_json("", 0));
	assert_int_equal(decode("GET", "/dns-query?dns=" QUERY_B64, NULL, NULL, 0, true), 0);
	assert_int_equal(got.fmt, DOH_FORMAT_JSON);
}

/* ---- replies ---- */

/* A reply built with the builder: rcode, answers (owner www.example.com) and a SOA. */
static size_t
make_reply(uint8_t *buf, int rcode, const uint32_t *ttls, size_t nttl, bool soa, uint16_t flags)
{
	uint8_t name[DNS_NAME_MAX], apex[DNS_NAME_MAX];
	assert_true(dns_name_from_text("www.example.com.", 16, NULL, name) > 0);
	assert_true(dns_name_from_text("example.com.", 12, NULL, apex) > 0);
	struct dns_build b;
	dns_build_init(&b, buf, DNS_MSG_MAX, DNS_MSG_MAX, 0x1234,
		       DNS_FLAG_QR | DNS_FLAG_AA | DNS_FLAG_RD | flags);
	dns_build_edns(&b, 1232, false);
	assert_int_equal(dns_build_question(&b, name, DNS_TYPE_A, DNS_CLASS_IN), TDNS_OK);
	dns_build_rcode(&b, rcode);
	for (size_t i = 0; i < nttl; i++) {
		uint8_t a[4] = { 192, 0, 2, (uint8_t)(i + 1) };
		int rc = dns_build_rr(&b, DNS_SECTION_ANSWER, name, DNS_TYPE_A, DNS_CLASS_IN,
				      ttls[i], a, 4);
		assert_int_equal(rc, TDNS_OK);
	}
	if (soa) {
		struct dns_tok toks[7];
		const char *f[] = { "ns1.example.com.", "h.example.com.", "1", "7200", "3600",
				    "1209600", "300" };
		for (int i = 0; i < 7; i++) {
			toks[i] = (struct dns_tok){ f[i], strlen(f[i]), false };
		}
		uint8_t rd[512];
		size_t rdlen;
		char err[128];
		assert_int_equal(dns_rdata_from_text(DNS_TYPE_SOA, toks, 7, NULL, rd, sizeof(rd),
						     &rdlen, err, sizeof(err)), TDNS_OK);
		assert_int_equal(dns_build_rr(&b, DNS_SECTION_AUTHORITY, apex, DNS_TYPE_SOA,
					      DNS_CLASS_IN, 3600, rd, rdlen), TDNS_OK);
	}
	dns_build_ede(&b, DNS_EDE_PROHIBITED, "no");
	return dns_build_finish(&b);
}

static void
test_max_age_is_the_smallest_answer_ttl(void **state)
{
	(void)state;
	static uint8_t buf[DNS_MSG_MAX];
	uint32_t ttls[] = { 600, 120, 3600 };
	size_t n = make_reply(buf, DNS_RCODE_NOERROR, ttls, 3, true, 0);
	assert_int_equal(doh_max_age(buf, n), 120);
}

static void
test_max_age_of_negative_answers_comes_from_the_soa(void **state)
{
	(void)state;
	static uint8_t buf[DNS_MSG_MAX];
	/* SOA TTL 3600, MINIMUM 300: RFC 2308 §5 takes the smaller. */
	size_t n = make_reply(buf, DNS_RCODE_NXDOMAIN, NULL, 0, true, 0);
	assert_int_equal(doh_max_age(buf, n), 300);
	n = make_reply(buf, DNS_RCODE_NOERROR, NULL, 0, true, 0);
	assert_int_equal(doh_max_age(buf, n), 300);
}

static void
test_no_max_age_for_errors_truncation_or_no_soa(void **state)
{
	(void)state;
	static uint8_t buf[DNS_MSG_MAX];
	uint32_t ttls[] = { 60 };
	size_t n = make_reply(buf, DNS_RCODE_SERVFAIL, NULL, 0, false, 0);
	assert_int_equal(doh_max_age(buf, n), -1);
	n = make_reply(buf, DNS_RCODE_REFUSED, ttls, 1, false, 0);
	assert_int_equal(doh_max_age(buf, n), -1);
	n = make_reply(buf, DNS_RCODE_NXDOMAIN, NULL, 0, false, 0);
	assert_int_equal(doh_max_age(buf, n), -1);
	n = make_reply(buf, DNS_RCODE_NOERROR, ttls, 1, false, DNS_FLAG_TC);
	assert_int_equal(doh_max_age(buf, n), -1);
	assert_int_equal(doh_max_age(buf, 5), -1);
}

static void
test_json_reply_has_every_field(void **state)
{
	(void)state;
	static uint8_t buf[DNS_MSG_MAX];
	uint32_t ttls[] = { 600, 120 };
	size_t n = make_reply(buf, DNS_RCODE_NOERROR, ttls, 2, true, DNS_FLAG_AD);
	char *text = doh_json_from_wire(buf, n);
	assert_non_null(text);
	json_error_t je;
	json_t *root = json_loads(text, 0, &je);
	assert_non_null(root);
	assert_int_equal(json_integer_value(json_object_get(root, "Status")), 0);
	assert_true(json_is_false(json_object_get(root, "TC")));
	assert_true(json_is_true(json_object_get(root, "RD")));
	assert_true(json_is_false(json_object_get(root, "RA")));
	assert_true(json_is_true(json_object_get(root, "AD")));
	assert_true(json_is_false(json_object_get(root, "CD")));
	json_t *q = json_array_get(json_object_get(root, "Question"), 0);
	assert_string_equal(json_string_value(json_object_get(q, "name")), "www.example.com.");
	assert_int_equal(json_integer_value(json_object_get(q, "type")), 1);
	json_t *ans = json_object_get(root, "Answer");
	assert_int_equal(json_array_size(ans), 2);
	json_t *a1 = json_array_get(ans, 1);
	assert_string_equal(json_string_value(json_object_get(a1, "name")), "www.example.com.");
	assert_int_equal(json_integer_value(json_object_get(a1, "type")), 1);
	assert_int_equal(json_integer_value(json_object_get(a1, "TTL")), 120);
	assert_string_equal(json_string_value(json_object_get(a1, "data")), "192.0.2.2");
	json_t *soa = json_array_get(json_object_get(root, "Authority"), 0);
	assert_int_equal(json_integer_value(json_object_get(soa, "type")), 6);
	assert_string_equal(json_string_value(json_object_get(soa, "data")),
			    "ns1.example.com. h.example.com. 1 7200 3600 1209600 300");
	/* The OPT record is not shown; its EDE is the comment. */
	assert_null(json_object_get(root, "Additional"));
	assert_string_equal(json_string_value(json_object_get(root, "Comment")), "EDE 18: no");
	json_decref(root);
	free(text);
}

static void
test_json_reply_of_nxdomain_has_status_3_and_no_answer(void **state)
{
	(void)state;
	static uint8_t buf[DNS_MSG_MAX];
	size_t n = make_reply(buf, DNS_RCODE_NXDOMAIN, NULL, 0, true, 0);
	char *text = doh_json_from_wire(buf, n);
	assert_non_null(text);
	json_t *root = json_loads(text, 0, NULL);
	assert_non_null(root);
	assert_int_equal(json_integer_value(json_object_get(root, "Status")), 3);
	assert_null(json_object_get(root, "Answer"));
	assert_int_equal(json_array_size(json_object_get(root, "Authority")), 1);
	json_decref(root);
	free(text);
	assert_null(doh_json_from_wire(buf, 7));
}

static void
test_status_texts(void **state)
{
	(void)state;
	assert_string_equal(doh_status_text(415), "Unsupported Media Type");
	assert_string_equal(doh_status_text(413), "Content Too Large");
	assert_string_equal(doh_status_text(299), "Error");
}

/* DoH-JSON answers read back into wire form (doh_json_to_wire), moved from test_net_client.c. */

/* Converts a DoH-JSON answer with query ID id into out and parses it into m; returns its length. */
static size_t
json_to_msg(const char *json, uint16_t id, uint8_t *out, size_t cap, struct dns_msg *m)
{
	char err[256] = "";
	size_t len = doh_json_to_wire(json, strlen(json), id, out, cap, err, sizeof(err));
	if (len == 0) {
		fail_msg("doh_json_to_wire: %s", err);
	}
	memset(m, 0, sizeof(*m));
	assert_int_equal(dns_msg_parse(out, len, m), TDNS_OK);
	return len;
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
	struct dns_msg m;
	size_t len = json_to_msg(json, 0, out, sizeof(out), &m);
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
	struct dns_msg m;
	(void)json_to_msg(json, 7, out, sizeof(out), &m);
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
	static const struct unit_refusal bad[] = {
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
		assert_int_equal(doh_json_to_wire(bad[i].in, strlen(bad[i].in), 0, out, sizeof(out),
						  err, sizeof(err)), 0);
		unit_says(bad[i].in, err, bad[i].why);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_head_is_parsed_with_its_fields),
		cmocka_unit_test(test_incomplete_head_needs_more),
		cmocka_unit_test(test_post_head_with_length_and_close),
		cmocka_unit_test(test_http10_closes_unless_keep_alive),
		cmocka_unit_test(test_bare_lf_lines_are_accepted),
		cmocka_unit_test(test_malformed_heads_are_400),
		cmocka_unit_test(test_binary_garbage_is_400_before_a_line_ends),
		cmocka_unit_test(test_limits_give_413_431_501_505),
		cmocka_unit_test(test_response_head_has_cache_control_allow_and_close),
		cmocka_unit_test(test_get_dns_param_decodes_base64url),
		cmocka_unit_test(test_base64url_padding_is_tolerated),
		cmocka_unit_test(test_bad_base64_and_missing_param_are_400),
		cmocka_unit_test(test_response_instead_of_query_is_400),
		cmocka_unit_test(test_post_takes_the_body_as_the_query),
		cmocka_unit_test(test_wrong_content_type_is_415),
		cmocka_unit_test(test_oversized_body_is_413),
		cmocka_unit_test(test_wrong_path_is_404_and_other_methods_405),
		cmocka_unit_test(test_json_api_builds_the_query),
		cmocka_unit_test(test_json_api_bad_name_or_type_is_400),
		cmocka_unit_test(test_accept_header_picks_json_only_when_preferred),
		cmocka_unit_test(test_max_age_is_the_smallest_answer_ttl),
		cmocka_unit_test(test_max_age_of_negative_answers_comes_from_the_soa),
		cmocka_unit_test(test_no_max_age_for_errors_truncation_or_no_soa),
		cmocka_unit_test(test_json_reply_has_every_field),
		cmocka_unit_test(test_json_reply_of_nxdomain_has_status_3_and_no_answer),
		cmocka_unit_test(test_status_texts),
		cmocka_unit_test(test_json_answer_becomes_a_wire_message),
		cmocka_unit_test(test_json_nxdomain_keeps_status_and_authority),
		cmocka_unit_test(test_bad_json_is_refused_with_a_reason),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
