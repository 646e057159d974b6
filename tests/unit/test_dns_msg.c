/* SPDX-License-Identifier: MIT */
/* Unit tests for src/dns/msg.c and src/dns/build.c: golden wire vectors, rejects, compression. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "dns/dns.h"

/* Wire forms used throughout. */
#define W_EXAMPLE_COM 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0
#define W_WWW_EXAMPLE_COM 3, 'w', 'w', 'w', W_EXAMPLE_COM

static int
name(const char *s, uint8_t *out)
{
	int n = dns_name_from_text(s, strlen(s), NULL, out);
	assert_true(n > 0);
	return n;
}

/* dns_query_parse's result for the len octets at pkt. */
static int
query_rcode(const uint8_t *pkt, size_t len)
{
	struct dns_query q;
	return dns_query_parse(pkt, len, &q);
}

/* dns_msg_parse's status for the len octets at pkt (what it parsed is freed). */
static int
msg_status(const uint8_t *pkt, size_t len)
{
	struct dns_msg m;
	int rc = dns_msg_parse(pkt, len, &m);
	dns_msg_clear(&m);
	return rc;
}

/* ---- query parser ---------------------------------------------------------------------- */

/* dig +dnssec +cookie www.Example.com A: RD, EDNS 4096, DO, one COOKIE option. */
static const uint8_t golden_query[] = {
	0x12, 0x34, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	3, 'w', 'w', 'w', 7, 'E', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
	0x00, 0x01, 0x00, 0x01,
	0x00, 0x00, 0x29, 0x10, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x0c,
	0x00, 0x0a, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8,
};

/* A copy of golden_query that a test changes, with room for one more octet. */
static uint8_t patched[sizeof(golden_query) + 1];

/* Copies golden_query into patched and sets patched[at] to value; returns the length. */
static size_t
golden_with(size_t at, uint8_t value)
{
	memcpy(patched, golden_query, sizeof(golden_query));
	patched[at] = value;
	return at < sizeof(golden_query) ? sizeof(golden_query) : at + 1;
}

static void
test_query_parse_golden_edns_query(void **state)
{
	(void)state;
	struct dns_query q;
	int rc = dns_query_parse(golden_query, sizeof(golden_query), &q);
	assert_int_equal(rc, DNS_RCODE_NOERROR);
	assert_int_equal(q.id, 0x1234);
	assert_int_equal(q.flags, 0x0120);
	assert_int_equal(q.qdcount, 1);
	assert_int_equal(q.arcount, 1);
	assert_int_equal(q.qname_len, 17);
	assert_memory_equal(q.qname, golden_query + 12, 17); /* case as sent */
	assert_int_equal(q.qtype, DNS_TYPE_A);
	assert_int_equal(q.qclass, DNS_CLASS_IN);
	assert_true(q.edns.present);
	assert_int_equal(q.edns_count, 1);
	assert_int_equal(q.edns.udp_size, 4096);
	assert_int_equal(q.edns.ext_rcode, 0);
	assert_int_equal(q.edns.version, 0);
	assert_true(q.edns.do_bit);
	assert_int_equal(q.edns.z, 0);
	assert_int_equal(q.edns.options_len, 12);
	assert_ptr_equal(q.edns.options, golden_query + sizeof(golden_query) - 12);
}

static void
test_query_parse_records_small_udp_size_and_version_as_sent(void **state)
{
	(void)state;
	/* udp size 100, version 1, ext rcode 0, DO clear, one z bit */
	size_t opt = 12 + 17 + 4;
	size_t len = golden_with(opt + 3, 0x00);
	patched[opt + 4] = 100;
	patched[opt + 6] = 1;
	patched[opt + 7] = 0x00;
	patched[opt + 8] = 0x01;
	struct dns_query q;
	assert_int_equal(dns_query_parse(patched, len, &q), DNS_RCODE_NOERROR);
	assert_int_equal(q.edns.udp_size, 100);
	assert_int_equal(q.edns.version, 1);
	assert_false(q.edns.do_bit);
	assert_int_equal(q.edns.z, 1);
}

static void
test_query_parse_without_edns(void **state)
{
	(void)state;
	const uint8_t pkt[] = { 0xab, 0xcd, 0x00, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
				W_EXAMPLE_COM, 0x00, 0x0f, 0x00, 0x01 };
	struct dns_query q;
	assert_int_equal(dns_query_parse(pkt, sizeof(pkt), &q), DNS_RCODE_NOERROR);
	assert_false(q.edns.present);
	assert_int_equal(q.edns_count, 0);
	assert_int_equal(q.qtype, DNS_TYPE_MX);
	assert_int_equal(q.qname_len, 13);
}

static void
test_query_parse_drops_short_packets(void **state)
{
	(void)state;
	assert_int_equal(query_rcode(golden_query, 0), -1);
	assert_int_equal(query_rcode(golden_query, 11), -1);
}

static void
test_query_parse_drops_responses(void **state)
{
	(void)state;
	size_t len = golden_with(2, golden_query[2] | 0x80); /* QR */
	assert_int_equal(query_rcode(patched, len), -1);
}

static void
test_query_parse_header_only_is_formerr_with_header_kept(void **state)
{
	(void)state;
	struct dns_query q;
	assert_int_equal(dns_query_parse(golden_query, 12, &q), DNS_RCODE_FORMERR);
	assert_int_equal(q.id, 0x1234);
	assert_int_equal(q.flags, 0x0120);
	assert_int_equal(q.qname_len, 0);
	/* question cut inside the type/class */
	assert_int_equal(dns_query_parse(golden_query, 12 + 17 + 3, &q), DNS_RCODE_FORMERR);
	assert_int_equal(q.qname_len, 0);
}

static void
test_query_parse_qdcount_not_one_is_formerr(void **state)
{
	(void)state;
	size_t len = golden_with(5, 0);
	assert_int_equal(query_rcode(patched, len), DNS_RCODE_FORMERR);
	patched[5] = 2;
	assert_int_equal(query_rcode(patched, len), DNS_RCODE_FORMERR);
}

static void
test_query_parse_other_opcode_is_notimp_with_question(void **state)
{
	(void)state;
	size_t len = golden_with(2, (uint8_t)(DNS_OPCODE_UPDATE << 3));
	struct dns_query q;
	assert_int_equal(dns_query_parse(patched, len, &q), DNS_RCODE_NOTIMP);
	assert_int_equal(q.qname_len, 17);
	assert_int_equal(q.qtype, DNS_TYPE_A);
	/* NOTIMP even when the rest would be FORMERR */
	patched[7] = 0xff;
	assert_int_equal(dns_query_parse(patched, len, &q), DNS_RCODE_NOTIMP);
}

static void
test_query_parse_other_opcode_keeps_edns_for_the_reply(void **state)
{
	(void)state;
	size_t len = golden_with(2, (uint8_t)((golden_query[2] & 0x87) | (DNS_OPCODE_STATUS << 3)));
	struct dns_query q;
	assert_int_equal(dns_query_parse(patched, len, &q), DNS_RCODE_NOTIMP);
	assert_true(q.edns.present); /* RFC 6891 §7: the NOTIMP reply carries an OPT too */
	assert_int_equal(q.edns.udp_size, 4096);
	/* a malformed rest leaves the reply without EDNS rather than half-parsed */
	patched[len - 13] = 0xff;
	assert_int_equal(dns_query_parse(patched, len, &q), DNS_RCODE_NOTIMP);
	assert_false(q.edns.present);
}

static void
test_query_parse_compression_loop_is_formerr(void **state)
{
	(void)state;
	const uint8_t pkt[] = { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c, 0, 1, 0, 1 };
	assert_int_equal(query_rcode(pkt, sizeof(pkt)), DNS_RCODE_FORMERR);
	assert_int_equal(msg_status(pkt, sizeof(pkt)), TDNS_ELOOP);
}

static void
test_query_parse_pointer_past_end_is_formerr(void **state)
{
	(void)state;
	/* answer owner points to 0x3fff, far past the 45-octet packet */
	const uint8_t pkt[] = { 0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, W_EXAMPLE_COM, 0, 1, 0, 1,
				0xff, 0xff, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4 };
	assert_int_equal(query_rcode(pkt, sizeof(pkt)), DNS_RCODE_FORMERR);
	/* a pointer cut after its first octet */
	const uint8_t cut[] = { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 'w', 'w', 'w', 0xc0 };
	assert_int_equal(query_rcode(cut, sizeof(cut)), DNS_RCODE_FORMERR);
	assert_int_equal(msg_status(cut, sizeof(cut)), TDNS_ETRUNC);
}

static void
test_query_parse_forward_pointer_is_formerr(void **state)
{
	(void)state;
	/* answer owner points to its own rdata, which lies after it */
	const uint8_t pkt[] = { 0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, W_EXAMPLE_COM, 0, 1, 0, 1,
				0xc0, 31, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0 };
	assert_int_equal(query_rcode(pkt, sizeof(pkt)), DNS_RCODE_FORMERR);
	struct dns_msg m;
	assert_int_equal(dns_msg_parse(pkt, sizeof(pkt), &m), TDNS_ELOOP);
	assert_null(m.rrs);
}

static void
test_query_parse_huge_counts_are_formerr(void **state)
{
	(void)state;
	size_t len = golden_with(6, 0xff);
	patched[7] = 0xff;
	struct dns_query q;
	assert_int_equal(dns_query_parse(patched, len, &q), DNS_RCODE_FORMERR);
	assert_int_equal(q.qname_len, 17); /* the question still serves the reply */
	struct dns_msg m;
	assert_int_equal(dns_msg_parse(patched, len, &m), TDNS_ETRUNC);
	assert_null(m.rrs);
	/* one more additional than present: 11 octets short */
	len = golden_with(11, 2);
	assert_int_equal(dns_query_parse(patched, len, &q), DNS_RCODE_FORMERR);
}

static void
test_query_parse_rdlen_past_end_is_formerr(void **state)
{
	(void)state;
	size_t len = golden_with(12 + 17 + 4 + 10, 13); /* OPT rdlen one more than present */
	assert_int_equal(query_rcode(patched, len), DNS_RCODE_FORMERR);
}

static void
test_query_parse_two_opts_are_formerr(void **state)
{
	(void)state;
	const uint8_t pkt[] = { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 2, W_EXAMPLE_COM, 0, 1, 0, 1,
				0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0,
				0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0 };
	struct dns_query q;
	assert_int_equal(dns_query_parse(pkt, sizeof(pkt), &q), DNS_RCODE_FORMERR);
	assert_int_equal(q.edns_count, 2);
	assert_int_equal(msg_status(pkt, sizeof(pkt)), TDNS_EMALFORMED);
	/* the same with one OPT is fine */
	uint8_t one[sizeof(pkt) - 11];
	memcpy(one, pkt, sizeof(one));
	one[11] = 1;
	assert_int_equal(dns_query_parse(one, sizeof(one), &q), DNS_RCODE_NOERROR);
	assert_int_equal(q.edns.udp_size, 1232);
}

static void
test_query_parse_opt_not_root_is_formerr(void **state)
{
	(void)state;
	const uint8_t pkt[] = { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, W_EXAMPLE_COM, 0, 1, 0, 1,
				0xc0, 12, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0 };
	assert_int_equal(query_rcode(pkt, sizeof(pkt)), DNS_RCODE_FORMERR);
}

static void
test_query_parse_opt_outside_additional_is_formerr(void **state)
{
	(void)state;
	const uint8_t pkt[] = { 0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, W_EXAMPLE_COM, 0, 1, 0, 1,
				0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0 };
	assert_int_equal(query_rcode(pkt, sizeof(pkt)), DNS_RCODE_FORMERR);
}

static void
test_query_parse_bad_option_tlv_is_formerr(void **state)
{
	(void)state;
	/* option claims 9 data octets where 8 follow */
	size_t len = golden_with(sizeof(golden_query) - 9, 9);
	assert_int_equal(query_rcode(patched, len), DNS_RCODE_FORMERR);
	/* options area of 3 octets: too short for a code and a length */
	const uint8_t stub[] = { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 1,
				 0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 3, 0, 10, 0 };
	assert_int_equal(query_rcode(stub, sizeof(stub)), DNS_RCODE_FORMERR);
	assert_int_equal(msg_status(stub, sizeof(stub)), TDNS_EMALFORMED);
}

static void
test_query_parse_trailing_junk_is_formerr(void **state)
{
	(void)state;
	size_t len = golden_with(sizeof(golden_query), 0);
	assert_int_equal(query_rcode(patched, len), DNS_RCODE_FORMERR);
	assert_int_equal(msg_status(patched, len), TDNS_EMALFORMED);
}

static void
test_query_parse_tsig_not_last_is_formerr(void **state)
{
	(void)state;
	/* TSIG (type 250) followed by OPT in the additional section */
	const uint8_t pkt[] = { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0, 0, 1, 0, 1,
				0, 0, 250, 0, 255, 0, 0, 0, 0, 0, 0,
				0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0 };
	assert_int_equal(query_rcode(pkt, sizeof(pkt)), DNS_RCODE_FORMERR);
}

/* ---- full parser ------------------------------------------------------------------------ */

/* Response: www.example.com CNAME example.com, example.com A 192.0.2.1, OPT with EDE 18. */
static const uint8_t golden_response[] = {
	0xbe, 0xef, 0x84, 0x00, 0, 1, 0, 2, 0, 0, 0, 1,
	W_WWW_EXAMPLE_COM, 0, 1, 0, 1,
	0xc0, 12, 0, 5, 0, 1, 0, 0, 0x0e, 0x10, 0, 2, 0xc0, 16,
	0xc0, 16, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1,
	0, 0, 41, 0x04, 0xd0, 0x01, 0, 0, 0, 0, 12,
	0, 12, 0, 0, /* empty padding option first */
	0, 15, 0, 4, 0, 18, 'n', 'o',
};

static void
test_msg_parse_golden_response(void **state)
{
	(void)state;
	struct dns_msg m;
	assert_int_equal(dns_msg_parse(golden_response, sizeof(golden_response), &m), TDNS_OK);
	assert_int_equal(m.id, 0xbeef);
	assert_int_equal(m.count[1], 2);
	assert_int_equal(m.nrr, 3);
	uint8_t www[DNS_NAME_MAX], ex[DNS_NAME_MAX];
	name("www.example.com.", www);
	name("example.com.", ex);
	assert_memory_equal(m.qname, www, 17);
	assert_int_equal(m.qtype, DNS_TYPE_A);
	assert_memory_equal(m.rrs[0].owner, www, 17);
	assert_int_equal(m.rrs[0].type, DNS_TYPE_CNAME);
	assert_int_equal(m.rrs[0].ttl, 3600);
	assert_int_equal(m.rrs[0].rdlen, 2);
	assert_int_equal(m.rrs[0].section, DNS_SECTION_ANSWER);
	assert_memory_equal(m.rrs[1].owner, ex, 13);
	assert_int_equal(m.rrs[1].type, DNS_TYPE_A);
	assert_memory_equal(golden_response + m.rrs[1].rdata_off, ((uint8_t[]){ 192, 0, 2, 1 }), 4);
	assert_int_equal(m.rrs[2].type, DNS_TYPE_OPT);
	assert_int_equal(m.rrs[2].section, DNS_SECTION_ADDITIONAL);
	/* ext rcode 1 over header rcode 0: BADVERS */
	assert_true(m.edns.present);
	assert_int_equal(m.rcode, DNS_RCODE_BADVERS);
	uint16_t code;
	const uint8_t *text;
	size_t tlen;
	assert_true(dns_edns_find_ede(&m.edns, &code, &text, &tlen));
	assert_int_equal(code, DNS_EDE_PROHIBITED);
	assert_int_equal(tlen, 2);
	assert_memory_equal(text, "no", 2);
	dns_msg_clear(&m);
	assert_null(m.rrs);
	dns_msg_clear(&m); /* twice is harmless */
}

static void
test_msg_parse_short_is_trunc(void **state)
{
	(void)state;
	struct dns_msg m;
	assert_int_equal(dns_msg_parse(golden_response, 11, &m), TDNS_ETRUNC);
	assert_int_equal(dns_msg_parse(golden_response, sizeof(golden_response) - 1, &m),
			 TDNS_ETRUNC);
	assert_null(m.rrs);
}

static void
test_edns_find_ede_absent(void **state)
{
	(void)state;
	struct dns_query q;
	assert_int_equal(dns_query_parse(golden_query, sizeof(golden_query), &q), 0);
	uint16_t code;
	const uint8_t *text;
	size_t tlen;
	assert_false(dns_edns_find_ede(&q.edns, &code, &text, &tlen));
	struct dns_edns none = { 0 };
	assert_false(dns_edns_find_ede(&none, &code, &text, &tlen));
}

/* ---- builder ---------------------------------------------------------------------------- */

static const uint8_t a_rdata[] = { 192, 0, 2, 1 };

static void
test_build_answer_owner_points_to_question(void **state)
{
	(void)state;
	uint8_t buf[512], qn[DNS_NAME_MAX];
	name("www.example.com.", qn);
	struct dns_build b;
	dns_build_init(&b, buf, sizeof(buf), 512, 0x1234, DNS_FLAG_QR | DNS_FLAG_AA);
	assert_int_equal(dns_build_question(&b, qn, DNS_TYPE_A, DNS_CLASS_IN), TDNS_OK);
	assert_int_equal(dns_build_rr(&b, DNS_SECTION_ANSWER, qn, DNS_TYPE_A, DNS_CLASS_IN, 300,
				      a_rdata, 4), TDNS_OK);
	size_t len = dns_build_finish(&b);
	const uint8_t want[] = {
		0x12, 0x34, 0x84, 0x00, 0, 1, 0, 1, 0, 0, 0, 0,
		W_WWW_EXAMPLE_COM, 0, 1, 0, 1,
		0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x01, 0x2c, 0, 4, 192, 0, 2, 1,
	};
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
}

static void
test_build_mx_target_compressed_against_question(void **state)
{
	(void)state;
	uint8_t buf[512], qn[DNS_NAME_MAX], rd[DNS_NAME_MAX + 2];
	name("example.com.", qn);
	rd[0] = 0;
	rd[1] = 10;
	int n = name("mail.example.com.", rd + 2);
	struct dns_build b;
	dns_build_init(&b, buf, sizeof(buf), 512, 1, DNS_FLAG_QR);
	assert_int_equal(dns_build_question(&b, qn, DNS_TYPE_MX, DNS_CLASS_IN), TDNS_OK);
	assert_int_equal(dns_build_rr(&b, DNS_SECTION_ANSWER, qn, DNS_TYPE_MX, DNS_CLASS_IN, 60,
				      rd, 2 + (size_t)n), TDNS_OK);
	/* the additional A for the target points into the MX rdata */
	assert_int_equal(dns_build_rr(&b, DNS_SECTION_ADDITIONAL, rd + 2, DNS_TYPE_A, DNS_CLASS_IN,
				      60, a_rdata, 4), TDNS_OK);
	size_t len = dns_build_finish(&b);
	const uint8_t want[] = {
		0x00, 0x01, 0x80, 0x00, 0, 1, 0, 1, 0, 0, 0, 1,
		W_EXAMPLE_COM, 0, 15, 0, 1,
		0xc0, 0x0c, 0, 15, 0, 1, 0, 0, 0, 60, 0, 9,
		0, 10, 4, 'm', 'a', 'i', 'l', 0xc0, 0x0c,
		0xc0, 43, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1,
	};
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
}

static void
test_build_soa_names_compressed_and_srv_target_not(void **state)
{
	(void)state;
	uint8_t buf[512], qn[DNS_NAME_MAX], soa[600], srv[300];
	name("example.com.", qn);
	size_t n1 = (size_t)name("ns1.example.com.", soa);
	size_t n2 = (size_t)name("hostmaster.example.com.", soa + n1);
	memset(soa + n1 + n2, 0x11, 20);
	const uint8_t srvfix[] = { 0, 1, 0, 2, 0, 53 };
	memcpy(srv, srvfix, 6);
	size_t n3 = (size_t)name("example.com.", srv + 6);
	struct dns_build b;
	dns_build_init(&b, buf, sizeof(buf), 512, 2, DNS_FLAG_QR);
	assert_int_equal(dns_build_question(&b, qn, DNS_TYPE_SOA, DNS_CLASS_IN), TDNS_OK);
	assert_int_equal(dns_build_rr(&b, DNS_SECTION_ANSWER, qn, DNS_TYPE_SOA, DNS_CLASS_IN, 60,
				      soa, n1 + n2 + 20), TDNS_OK);
	assert_int_equal(dns_build_rr(&b, DNS_SECTION_ADDITIONAL, qn, DNS_TYPE_SRV, DNS_CLASS_IN,
				      60, srv, 6 + n3), TDNS_OK);
	size_t len = dns_build_finish(&b);
	const uint8_t want[] = {
		0x00, 0x02, 0x80, 0x00, 0, 1, 0, 1, 0, 0, 0, 1,
		W_EXAMPLE_COM, 0, 6, 0, 1,
		0xc0, 0x0c, 0, 6, 0, 1, 0, 0, 0, 60, 0, 4 + 2 + 11 + 2 + 20,
		3, 'n', 's', '1', 0xc0, 0x0c,
		10, 'h', 'o', 's', 't', 'm', 'a', 's', 't', 'e', 'r', 0xc0, 0x0c,
		0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
		0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
		/* RFC 3597 §4: SRV's target is written in full */
		0xc0, 0x0c, 0, 33, 0, 1, 0, 0, 0, 60, 0, 19, 0, 1, 0, 2, 0, 53, W_EXAMPLE_COM,
	};
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
}

static void
test_build_keeps_question_case_and_matches_names_ignoring_case(void **state)
{
	(void)state;
	uint8_t buf[512], qn[DNS_NAME_MAX], lower[DNS_NAME_MAX], upper[DNS_NAME_MAX];
	name("WwW.ExAmple.COM.", qn);
	name("www.example.com.", lower);
	name("MAIL.EXAMPLE.COM.", upper);
	struct dns_build b;
	dns_build_init(&b, buf, sizeof(buf), 512, 3, DNS_FLAG_QR);
	assert_int_equal(dns_build_question(&b, qn, DNS_TYPE_CNAME, DNS_CLASS_IN), TDNS_OK);
	assert_int_equal(dns_build_rr(&b, DNS_SECTION_ANSWER, lower, DNS_TYPE_CNAME, DNS_CLASS_IN,
				      60, upper, dns_name_len(upper)), TDNS_OK);
	/* an owner equal to a name that itself ends in a pointer */
	assert_int_equal(dns_build_rr(&b, DNS_SECTION_ADDITIONAL, lower + 4, DNS_TYPE_A,
				      DNS_CLASS_IN, 60, a_rdata, 4), TDNS_OK);
	uint8_t mail[DNS_NAME_MAX];
	name("mail.example.com.", mail);
	assert_int_equal(dns_build_rr(&b, DNS_SECTION_ADDITIONAL, mail, DNS_TYPE_A, DNS_CLASS_IN,
				      60, a_rdata, 4), TDNS_OK);
	size_t len = dns_build_finish(&b);
	const uint8_t want[] = {
		0x00, 0x03, 0x80, 0x00, 0, 1, 0, 1, 0, 0, 0, 2,
		3, 'W', 'w', 'W', 7, 'E', 'x', 'A', 'm', 'p', 'l', 'e', 3, 'C', 'O', 'M', 0,
		0, 5, 0, 1,
		0xc0, 0x0c, 0, 5, 0, 1, 0, 0, 0, 60, 0, 7, 4, 'M', 'A', 'I', 'L', 0xc0, 16,
		0xc0, 16, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1,
		0xc0, 45, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1,
	};
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	/* the parsed answer shows the asker's case */
	struct dns_msg m;
	assert_int_equal(dns_msg_parse(buf, len, &m), TDNS_OK);
	assert_memory_equal(m.rrs[0].owner, qn, 17);
	dns_msg_clear(&m);
}

static void
test_build_rr_that_does_not_fit_rolls_back(void **state)
{
	(void)state;
	uint8_t buf[512], qn[DNS_NAME_MAX], other[DNS_NAME_MAX];
	name("example.com.", qn);
	name("a-rather-long-label.example.org.", other);
	struct dns_build b;
	/* header 12 + question 17 + one A answer 16 = 45 */
	dns_build_init(&b, buf, sizeof(buf), 50, 4, DNS_FLAG_QR);
	assert_int_equal(dns_build_question(&b, qn, DNS_TYPE_A, DNS_CLASS_IN), TDNS_OK);
	assert_int_equal(dns_build_rr(&b, DNS_SECTION_ANSWER, qn, DNS_TYPE_A, DNS_CLASS_IN, 60,
				      a_rdata, 4), TDNS_OK);
	size_t len = b.len, ncompr = b.ncompr;
	uint8_t before[512];
	memcpy(before, buf, len);
	assert_int_equal(dns_build_rr(&b, DNS_SECTION_ANSWER, other, DNS_TYPE_A, DNS_CLASS_IN, 60,
				      a_rdata, 4), TDNS_ESPACE);
	assert_int_equal(b.len, len);
	assert_int_equal(b.ncompr, ncompr);
	assert_int_equal(b.count[DNS_SECTION_ANSWER], 1);
	/* an RR whose owner fits but rdata does not also leaves nothing behind */
	uint8_t big[40] = { 0 };
	assert_int_equal(dns_build_rr(&b, DNS_SECTION_ANSWER, qn, DNS_TYPE_TXT, DNS_CLASS_IN, 60,
				      big, sizeof(big)), TDNS_ESPACE);
	assert_int_equal(b.len, len);
	assert_int_equal(b.ncompr, ncompr);
	assert_int_equal(dns_build_finish(&b), len);
	assert_memory_equal(buf + 12, before + 12, len - 12);
	assert_int_equal(buf[7], 1);
}

static void
test_build_edns_reserve_limits_rrs(void **state)
{
	(void)state;
	uint8_t buf[512], qn[DNS_NAME_MAX];
	name("example.com.", qn);
	struct dns_build b;
	/* 45 octets of question and answer fit 56 exactly, but not with the 11 reserved */
	dns_build_init(&b, buf, sizeof(buf), 55, 5, DNS_FLAG_QR);
	dns_build_edns(&b, 1232, false);
	assert_int_equal(b.reserve, 11);
	assert_int_equal(dns_build_question(&b, qn, DNS_TYPE_A, DNS_CLASS_IN), TDNS_OK);
	assert_int_equal(dns_build_rr(&b, DNS_SECTION_ANSWER, qn, DNS_TYPE_A, DNS_CLASS_IN, 60,
				      a_rdata, 4), TDNS_ESPACE);
	dns_build_init(&b, buf, sizeof(buf), 56, 5, DNS_FLAG_QR);
	dns_build_edns(&b, 1232, false);
	assert_int_equal(dns_build_question(&b, qn, DNS_TYPE_A, DNS_CLASS_IN), TDNS_OK);
	assert_int_equal(dns_build_rr(&b, DNS_SECTION_ANSWER, qn, DNS_TYPE_A, DNS_CLASS_IN, 60,
				      a_rdata, 4), TDNS_OK);
	assert_int_equal(dns_build_finish(&b), 56);
}

static void
test_build_truncate_keeps_question_sets_tc(void **state)
{
	(void)state;
	uint8_t buf[512], qn[DNS_NAME_MAX], ns[DNS_NAME_MAX];
	name("example.com.", qn);
	int nslen = name("ns1.example.com.", ns);
	struct dns_build b;
	dns_build_init(&b, buf, sizeof(buf), 512, 6, DNS_FLAG_QR | DNS_FLAG_AA);
	dns_build_edns(&b, 1232, true);
	assert_int_equal(dns_build_question(&b, qn, DNS_TYPE_NS, DNS_CLASS_IN), TDNS_OK);
	size_t qend = b.len, qcompr = b.ncompr;
	assert_int_equal(qcompr, 2); /* example.com and com */
	assert_int_equal(dns_build_rr(&b, DNS_SECTION_ANSWER, qn, DNS_TYPE_NS, DNS_CLASS_IN, 60,
				      ns, (size_t)nslen), TDNS_OK);
	assert_int_equal(dns_build_rr(&b, DNS_SECTION_ADDITIONAL, ns, DNS_TYPE_A, DNS_CLASS_IN, 60,
				      a_rdata, 4), TDNS_OK);
	assert_true(b.ncompr > qcompr);
	dns_build_truncate(&b);
	assert_int_equal(b.len, qend);
	assert_int_equal(b.ncompr, qcompr);
	assert_int_equal(b.count[DNS_SECTION_ANSWER], 0);
	assert_int_equal(b.count[DNS_SECTION_ADDITIONAL], 0);
	/* the next name must not point into the dropped records */
	assert_int_equal(dns_build_rr(&b, DNS_SECTION_ANSWER, ns, DNS_TYPE_A, DNS_CLASS_IN, 60,
				      a_rdata, 4), TDNS_OK);
	assert_int_equal(buf[qend], 3);
	assert_int_equal(buf[qend + 4], 0xc0);
	assert_int_equal(buf[qend + 5], 12);
	dns_build_truncate(&b);
	size_t len = dns_build_finish(&b);
	const uint8_t want[] = {
		0x00, 0x06, 0x86, 0x00, 0, 1, 0, 0, 0, 0, 0, 1,
		W_EXAMPLE_COM, 0, 2, 0, 1,
		0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0, 0, 0,
	};
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
}

static void
test_build_ede_in_opt(void **state)
{
	(void)state;
	uint8_t buf[512], qn[DNS_NAME_MAX];
	name("example.com.", qn);
	struct dns_build b;
	dns_build_init(&b, buf, sizeof(buf), 512, 7, DNS_FLAG_QR);
	dns_build_ede(&b, DNS_EDE_BLOCKED, "ignored"); /* no OPT requested yet */
	assert_int_equal(b.nede, 0);
	dns_build_edns(&b, 1232, false);
	dns_build_ede(&b, DNS_EDE_BLOCKED, "blocked");
	dns_build_ede(&b, DNS_EDE_OTHER, NULL);
	assert_int_equal(b.reserve, 11 + 6 + 7 + 6);
	assert_int_equal(dns_build_question(&b, qn, DNS_TYPE_A, DNS_CLASS_IN), TDNS_OK);
	dns_build_rcode(&b, DNS_RCODE_NXDOMAIN);
	size_t len = dns_build_finish(&b);
	const uint8_t want[] = {
		0x00, 0x07, 0x80, 0x03, 0, 1, 0, 0, 0, 0, 0, 1,
		W_EXAMPLE_COM, 0, 1, 0, 1,
		0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 19,
		0, 15, 0, 9, 0, 15, 'b', 'l', 'o', 'c', 'k', 'e', 'd',
		0, 15, 0, 2, 0, 0,
	};
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	struct dns_msg m;
	assert_int_equal(dns_msg_parse(buf, len, &m), TDNS_OK);
	uint16_t code;
	const uint8_t *text;
	size_t tlen;
	assert_true(dns_edns_find_ede(&m.edns, &code, &text, &tlen));
	assert_int_equal(code, DNS_EDE_BLOCKED);
	assert_int_equal(tlen, 7);
	assert_int_equal(m.rcode, DNS_RCODE_NXDOMAIN);
	dns_msg_clear(&m);
}

static void
test_build_badvers_goes_to_opt(void **state)
{
	(void)state;
	uint8_t buf[512];
	struct dns_build b;
	dns_build_init(&b, buf, sizeof(buf), 512, 8, DNS_FLAG_QR);
	dns_build_edns(&b, 1232, true);
	dns_build_rcode(&b, DNS_RCODE_BADVERS);
	size_t len = dns_build_finish(&b);
	const uint8_t want[] = {
		0x00, 0x08, 0x80, 0x00, 0, 0, 0, 0, 0, 0, 0, 1,
		0, 0, 41, 0x04, 0xd0, 0x01, 0, 0x80, 0, 0, 0,
	};
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	struct dns_msg m;
	assert_int_equal(dns_msg_parse(buf, len, &m), TDNS_OK);
	assert_int_equal(m.rcode, DNS_RCODE_BADVERS);
	dns_msg_clear(&m);
}

static void
test_build_sections_out_of_order_refused(void **state)
{
	(void)state;
	uint8_t buf[512], qn[DNS_NAME_MAX];
	name("example.com.", qn);
	struct dns_build b;
	dns_build_init(&b, buf, sizeof(buf), 512, 9, DNS_FLAG_QR);
	assert_int_equal(dns_build_rr(&b, DNS_SECTION_AUTHORITY, qn, DNS_TYPE_A, DNS_CLASS_IN, 0,
				      a_rdata, 4), TDNS_OK);
	assert_int_equal(dns_build_rr(&b, DNS_SECTION_ANSWER, qn, DNS_TYPE_A, DNS_CLASS_IN, 0,
				      a_rdata, 4), TDNS_EINVAL);
	assert_int_equal(dns_build_rr(&b, DNS_SECTION_QUESTION, qn, DNS_TYPE_A, DNS_CLASS_IN, 0,
				      a_rdata, 4), TDNS_EINVAL);
	assert_int_equal(dns_build_question(&b, qn, DNS_TYPE_A, DNS_CLASS_IN), TDNS_EINVAL);
	assert_int_equal(b.len, 12 + 13 + 10 + 4);
}

static void
test_build_no_pointers_to_offsets_above_0x3fff(void **state)
{
	(void)state;
	static uint8_t buf[DNS_MSG_MAX];
	uint8_t qn[DNS_NAME_MAX], fresh[DNS_NAME_MAX], txt[256];
	name("example.com.", qn);
	name("new.example.com.", fresh);
	memset(txt, 'x', sizeof(txt));
	txt[0] = 255;
	struct dns_build b;
	dns_build_init(&b, buf, sizeof(buf), sizeof(buf), 10, DNS_FLAG_QR);
	assert_int_equal(dns_build_question(&b, qn, DNS_TYPE_TXT, DNS_CLASS_IN), TDNS_OK);
	while (b.len < 0x4000) {
		assert_int_equal(dns_build_rr(&b, DNS_SECTION_ANSWER, qn, DNS_TYPE_TXT,
					      DNS_CLASS_IN, 0, txt, sizeof(txt)), TDNS_OK);
	}
	size_t ncompr = b.ncompr;
	for (int i = 0; i < 2; i++) {
		size_t at = b.len;
		assert_int_equal(dns_build_rr(&b, DNS_SECTION_ANSWER, fresh, DNS_TYPE_A,
					      DNS_CLASS_IN, 0, a_rdata, 4), TDNS_OK);
		/* both times "new" + pointer to the question: the first copy is out of reach */
		assert_int_equal(buf[at], 3);
		assert_int_equal(buf[at + 4], 0xc0);
		assert_int_equal(buf[at + 5], 0x0c);
	}
	assert_int_equal(b.ncompr, ncompr);
	for (size_t k = 0; k < b.ncompr; k++) {
		assert_true(b.compr[k] < 0x4000);
	}
	size_t len = dns_build_finish(&b);
	struct dns_msg m;
	assert_int_equal(dns_msg_parse(buf, len, &m), TDNS_OK);
	dns_msg_clear(&m);
}

static void
test_build_compression_table_capped(void **state)
{
	(void)state;
	static uint8_t buf[DNS_MSG_MAX];
	uint8_t qn[DNS_NAME_MAX], owner[DNS_NAME_MAX];
	name("example.com.", qn);
	struct dns_build b;
	dns_build_init(&b, buf, sizeof(buf), sizeof(buf), 11, DNS_FLAG_QR);
	assert_int_equal(dns_build_question(&b, qn, DNS_TYPE_A, DNS_CLASS_IN), TDNS_OK);
	for (int i = 0; i < 300; i++) {
		char text[64];
		snprintf(text, sizeof(text), "h%d.example.com.", i);
		name(text, owner);
		assert_int_equal(dns_build_rr(&b, DNS_SECTION_ANSWER, owner, DNS_TYPE_A,
					      DNS_CLASS_IN, 0, a_rdata, 4), TDNS_OK);
	}
	assert_int_equal(b.ncompr, DNS_BUILD_MAX_COMPR);
	size_t len = dns_build_finish(&b);
	struct dns_msg m;
	assert_int_equal(dns_msg_parse(buf, len, &m), TDNS_OK);
	assert_int_equal(m.nrr, 300);
	name("h299.example.com.", owner);
	assert_true(dns_name_eq(m.rrs[299].owner, owner));
	dns_msg_clear(&m);
}

static void
test_build_then_query_parse_round_trip(void **state)
{
	(void)state;
	uint8_t buf[512], qn[DNS_NAME_MAX];
	int n = name("www.Example.com.", qn);
	struct dns_build b;
	dns_build_init(&b, buf, sizeof(buf), 512, 0x1234, DNS_FLAG_RD | DNS_FLAG_AD);
	dns_build_edns(&b, 4096, true);
	assert_int_equal(dns_build_question(&b, qn, DNS_TYPE_A, DNS_CLASS_IN), TDNS_OK);
	size_t len = dns_build_finish(&b);
	struct dns_query q;
	assert_int_equal(dns_query_parse(buf, len, &q), DNS_RCODE_NOERROR);
	assert_int_equal(q.qname_len, (size_t)n);
	assert_memory_equal(q.qname, qn, (size_t)n);
	assert_int_equal(q.edns.udp_size, 4096);
	assert_true(q.edns.do_bit);
	assert_int_equal(q.flags, DNS_FLAG_RD | DNS_FLAG_AD);
}

static void
test_build_tiny_buffer_fails_cleanly(void **state)
{
	(void)state;
	uint8_t buf[8], qn[DNS_NAME_MAX];
	name("example.com.", qn);
	struct dns_build b;
	dns_build_init(&b, buf, sizeof(buf), sizeof(buf), 1, 0);
	assert_int_equal(dns_build_question(&b, qn, DNS_TYPE_A, DNS_CLASS_IN), TDNS_ESPACE);
	assert_int_equal(dns_build_finish(&b), 0);
}

static void
test_question_end_walks_plain_labels_only(void **state)
{
	(void)state;
	/* Header, then "a.example." and type and class. */
	static const uint8_t q[] = { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 7, 'e', 'x', 'a',
				     'm', 'p', 'l', 'e', 0, 0, 1, 0, 1 };
	assert_int_equal(dns_msg_question_end(q, sizeof(q)), 22);
	/* Cut inside the name: the walk stops at or past the end. */
	assert_true(dns_msg_question_end(q, 16) >= 16);
	assert_int_equal(dns_msg_question_end(q, DNS_HDR_LEN - 1), -1);
	uint8_t ptr[sizeof(q)];
	memcpy(ptr, q, sizeof(q));
	ptr[DNS_HDR_LEN] = 0xc0;
	assert_int_equal(dns_msg_question_end(ptr, sizeof(ptr)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query_parse_golden_edns_query),
		cmocka_unit_test(test_query_parse_records_small_udp_size_and_version_as_sent),
		cmocka_unit_test(test_query_parse_without_edns),
		cmocka_unit_test(test_query_parse_drops_short_packets),
		cmocka_unit_test(test_query_parse_drops_responses),
		cmocka_unit_test(test_query_parse_header_only_is_formerr_with_header_kept),
		cmocka_unit_test(test_query_parse_qdcount_not_one_is_formerr),
		cmocka_unit_test(test_query_parse_other_opcode_is_notimp_with_question),
		cmocka_unit_test(test_query_parse_other_opcode_keeps_edns_for_the_reply),
		cmocka_unit_test(test_query_parse_compression_loop_is_formerr),
		cmocka_unit_test(test_query_parse_pointer_past_end_is_formerr),
		cmocka_unit_test(test_query_parse_forward_pointer_is_formerr),
		cmocka_unit_test(test_query_parse_huge_counts_are_formerr),
		cmocka_unit_test(test_query_parse_rdlen_past_end_is_formerr),
		cmocka_unit_test(test_query_parse_two_opts_are_formerr),
		cmocka_unit_test(test_query_parse_opt_not_root_is_formerr),
		cmocka_unit_test(test_query_parse_opt_outside_additional_is_formerr),
		cmocka_unit_test(test_query_parse_bad_option_tlv_is_formerr),
		cmocka_unit_test(test_query_parse_trailing_junk_is_formerr),
		cmocka_unit_test(test_query_parse_tsig_not_last_is_formerr),
		cmocka_unit_test(test_msg_parse_golden_response),
		cmocka_unit_test(test_msg_parse_short_is_trunc),
		cmocka_unit_test(test_edns_find_ede_absent),
		cmocka_unit_test(test_build_answer_owner_points_to_question),
		cmocka_unit_test(test_build_mx_target_compressed_against_question),
		cmocka_unit_test(test_build_soa_names_compressed_and_srv_target_not),
		cmocka_unit_test(test_build_keeps_question_case_and_matches_names_ignoring_case),
		cmocka_unit_test(test_build_rr_that_does_not_fit_rolls_back),
		cmocka_unit_test(test_build_edns_reserve_limits_rrs),
		cmocka_unit_test(test_build_truncate_keeps_question_sets_tc),
		cmocka_unit_test(test_build_ede_in_opt),
		cmocka_unit_test(test_build_badvers_goes_to_opt),
		cmocka_unit_test(test_build_sections_out_of_order_refused),
		cmocka_unit_test(test_build_no_pointers_to_offsets_above_0x3fff),
		cmocka_unit_test(test_build_compression_table_capped),
		cmocka_unit_test(test_build_then_query_parse_round_trip),
		cmocka_unit_test(test_build_tiny_buffer_fails_cleanly),
		cmocka_unit_test(test_question_end_walks_plain_labels_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
