/* SPDX-License-Identifier: MIT */
/* Unit tests for src/query/query-answer.c: drop, FORMERR, NOTIMP, BADVERS, size limits, EDNS. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "query/query.h"

static const char zone_text[] =
	"$ORIGIN example.com.\n"
	"$TTL 3600\n"
	"@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300\n"
	"@ IN NS ns1\n"
	"ns1 IN A 192.0.2.1\n"
	"www IN A 192.0.2.10\n"
	"mid IN TXT \"pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp\"\n"
	"mid IN TXT \"qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq\"\n"
	"mid IN TXT \"rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr\"\n"
	"mid IN TXT \"ssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssss\"\n"
	"big IN TXT \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\n"
	"big IN TXT \"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"\n"
	"big IN TXT \"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc\"\n"
	"big IN TXT \"dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd\"\n"
	"big IN TXT \"eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee\"\n"
	"big IN TXT \"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\"\n"
	"big IN TXT \"gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg\"\n"
	"big IN TXT \"hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh\"\n"
	"big IN TXT \"iiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiii\"\n"
	"big IN TXT \"jjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjj\"\n"
	"big IN TXT \"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk\"\n"
	"big IN TXT \"llllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllll\"\n"
	"big IN TXT \"mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm\"\n"
	"big IN TXT \"nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn\"\n"
	"big IN TXT \"oooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooo\"\n";

/* Size of all of big's TXT records in one reply: well above 1232, well below 65535. */
#define BIG_MIN 1250

struct fixture {
	struct zone_set *zs;
	uint8_t out[DNS_MSG_MAX];
	uint8_t q[512];
	size_t qlen;
	struct dns_msg m;
};

static int
setup(void **state)
{
	static struct fixture f;
	memset(&f, 0, sizeof(f));
	uint8_t apex[DNS_NAME_MAX];
	assert_true(dns_name_from_text("example.com.", 12, NULL, apex) > 0);
	struct zone *z = NULL;
	char err[256];
	int rc = zone_load_mem(apex, zone_text, strlen(zone_text), "test", &z, err, sizeof(err));
	if (rc != TDNS_OK) {
		fail_msg("%s", err);
	}
	f.zs = zone_set_new();
	assert_non_null(f.zs);
	assert_int_equal(zone_set_add(f.zs, z), TDNS_OK);
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	dns_msg_clear(&f->m);
	zone_set_free(f->zs);
	return 0;
}

/* Builds a query into f->q; edns_size 0 = no OPT. */
static void
make_query(struct fixture *f, const char *qname, uint16_t qtype, uint16_t flags,
	   uint16_t edns_size, bool do_bit)
{
	uint8_t name[DNS_NAME_MAX];
	assert_true(dns_name_from_text(qname, strlen(qname), NULL, name) > 0);
	struct dns_build b;
	dns_build_init(&b, f->q, sizeof(f->q), sizeof(f->q), 0x1234, flags);
	if (edns_size > 0) {
		dns_build_edns(&b, edns_size, do_bit);
	}
	assert_int_equal(dns_build_question(&b, name, qtype, DNS_CLASS_IN), TDNS_OK);
	f->qlen = dns_build_finish(&b);
}

/* Processes f->q and parses the reply into f->m; returns the reply length. */
static size_t
run(struct fixture *f, bool tcp, size_t udp_max)
{
	dns_msg_clear(&f->m);
	memset(&f->m, 0, sizeof(f->m));
	size_t n = query_process(f->zs, f->q, f->qlen, f->out, sizeof(f->out), tcp, udp_max);
	if (n > 0) {
		assert_int_equal(dns_msg_parse(f->out, n, &f->m), TDNS_OK);
	}
	return n;
}

static void
test_answer_is_authoritative_with_question_and_id(void **state)
{
	struct fixture *f = *state;
	make_query(f, "www.example.com.", DNS_TYPE_A, DNS_FLAG_RD, 0, false);
	assert_true(run(f, false, 1232) > 0);
	assert_int_equal(f->m.id, 0x1234);
	assert_true(f->m.flags & DNS_FLAG_QR);
	assert_true(f->m.flags & DNS_FLAG_AA);
	assert_true(f->m.flags & DNS_FLAG_RD);
	assert_int_equal(f->m.rcode, DNS_RCODE_NOERROR);
	assert_int_equal(f->m.count[DNS_SECTION_ANSWER], 1);
	assert_false(f->m.edns.present);
}

static void
test_response_is_dropped(void **state)
{
	struct fixture *f = *state;
	make_query(f, "www.example.com.", DNS_TYPE_A, DNS_FLAG_QR, 0, false);
	assert_int_equal(run(f, false, 1232), 0);
}

static void
test_packet_shorter_than_header_is_dropped(void **state)
{
	struct fixture *f = *state;
	make_query(f, "www.example.com.", DNS_TYPE_A, 0, 0, false);
	f->qlen = DNS_HDR_LEN - 1;
	assert_int_equal(run(f, false, 1232), 0);
}

static void
test_cut_question_gets_formerr_with_id_opcode_rd_and_no_aa(void **state)
{
	struct fixture *f = *state;
	/* Opcode QUERY, RD, one question that ends after "www". */
	static const uint8_t q[] = { 0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
				     3, 'w', 'w', 'w' };
	memcpy(f->q, q, sizeof(q));
	f->qlen = sizeof(q);
	assert_true(run(f, false, 1232) > 0);
	assert_int_equal(f->m.id, 0xbeef);
	assert_int_equal(f->m.rcode, DNS_RCODE_FORMERR);
	assert_true(f->m.flags & DNS_FLAG_RD);
	assert_false(f->m.flags & DNS_FLAG_AA);
	assert_int_equal(DNS_OPCODE(f->m.flags), DNS_OPCODE_QUERY);
	assert_int_equal(f->m.count[DNS_SECTION_ANSWER], 0);
}

static void
test_no_question_gets_formerr(void **state)
{
	struct fixture *f = *state;
	static const uint8_t q[] = { 0, 7, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0 };
	memcpy(f->q, q, sizeof(q));
	f->qlen = sizeof(q);
	assert_true(run(f, false, 1232) > 0);
	assert_int_equal(f->m.rcode, DNS_RCODE_FORMERR);
	assert_int_equal(f->m.count[DNS_SECTION_QUESTION], 0);
}

static void
test_status_opcode_gets_notimp_with_opcode_copied(void **state)
{
	struct fixture *f = *state;
	make_query(f, "www.example.com.", DNS_TYPE_A, DNS_OPCODE_STATUS << 11, 0, false);
	assert_true(run(f, false, 1232) > 0);
	assert_int_equal(f->m.rcode, DNS_RCODE_NOTIMP);
	assert_int_equal(DNS_OPCODE(f->m.flags), DNS_OPCODE_STATUS);
	assert_false(f->m.flags & DNS_FLAG_AA);
	assert_int_equal(f->m.count[DNS_SECTION_ANSWER], 0);
}

static void
test_edns_version_1_gets_badvers_with_version_0_opt(void **state)
{
	struct fixture *f = *state;
	make_query(f, "www.example.com.", DNS_TYPE_A, 0, 1232, false);
	/* The OPT TTL's second byte is the version: OPT is the last 11 bytes of the query. */
	f->q[f->qlen - 11 + 6] = 1;
	assert_true(run(f, false, 1232) > 0);
	assert_true(f->m.edns.present);
	assert_int_equal(f->m.edns.version, 0);
	assert_int_equal(f->m.rcode, DNS_RCODE_BADVERS);
	assert_int_equal(f->m.count[DNS_SECTION_ANSWER], 0);
	assert_int_equal(f->m.count[DNS_SECTION_QUESTION], 1);
}

/*
 * Asks big.example.com TXT over UDP with EDNS size edns (0: no OPT) of a server whose UDP
 * maximum is udp_max: the reply is truncated (TC) to at most limit octets.
 */
static void
expect_truncated(struct fixture *f, uint16_t edns, size_t udp_max, size_t limit)
{
	make_query(f, "big.example.com.", DNS_TYPE_TXT, 0, edns, false);
	size_t n = run(f, false, udp_max);
	assert_true(n > 0 && n <= limit);
	assert_true(f->m.flags & DNS_FLAG_TC);
}

/*
 * Asks big.example.com TXT with EDNS size edns (0: no OPT), over TCP or over UDP of a server
 * whose UDP maximum is udp_max: the whole answer comes, not truncated.
 */
static void
expect_whole(struct fixture *f, uint16_t edns, bool tcp, size_t udp_max)
{
	make_query(f, "big.example.com.", DNS_TYPE_TXT, 0, edns, false);
	size_t n = run(f, tcp, udp_max);
	assert_true(n >= BIG_MIN);
	assert_false(f->m.flags & DNS_FLAG_TC);
}

/* query_answer's result for qname A with the header flags, over UDP; its rcode in *rcode. */
static size_t
answer_rcode(struct fixture *f, const char *qname, uint16_t flags, int *rcode)
{
	make_query(f, qname, DNS_TYPE_A, flags, 0, false);
	return query_answer(f->zs, f->q, f->qlen, f->out, sizeof(f->out), false, 1232, rcode);
}

static void
test_udp_without_edns_is_limited_to_512_and_truncated(void **state)
{
	struct fixture *f = *state;
	expect_truncated(f, 0, 1232, DNS_UDP_MIN);
}

static void
test_udp_limit_is_client_size_when_below_udp_max(void **state)
{
	struct fixture *f = *state;
	expect_truncated(f, 800, 4096, 800);
}

static void
test_udp_limit_is_udp_max_when_client_offers_more(void **state)
{
	struct fixture *f = *state;
	expect_truncated(f, 4096, 1232, 1232);
	expect_whole(f, 4096, false, 4096);
}

static void
test_client_size_below_512_counts_as_512(void **state)
{
	struct fixture *f = *state;
	/* mid's four TXT records need about 370 octets. */
	make_query(f, "mid.example.com.", DNS_TYPE_TXT, 0, 100, false);
	size_t n = run(f, false, 1232);
	assert_true(n > 300);
	assert_int_equal(f->m.count[DNS_SECTION_ANSWER], 4);
	assert_false(f->m.flags & DNS_FLAG_TC);
}

static void
test_tcp_reply_is_not_truncated(void **state)
{
	struct fixture *f = *state;
	expect_whole(f, 0, true, 1232);
	assert_int_equal(f->m.count[DNS_SECTION_ANSWER], 15);
}

static void
test_do_bit_is_echoed_and_opt_offers_udp_max(void **state)
{
	struct fixture *f = *state;
	make_query(f, "www.example.com.", DNS_TYPE_A, 0, 4096, true);
	assert_true(run(f, false, 1400) > 0);
	assert_true(f->m.edns.present);
	assert_true(f->m.edns.do_bit);
	assert_int_equal(f->m.edns.udp_size, 1400);
	make_query(f, "www.example.com.", DNS_TYPE_A, 0, 4096, false);
	assert_true(run(f, false, 1400) > 0);
	assert_false(f->m.edns.do_bit);
}

static void
test_answer_rcode_is_reported_for_stats(void **state)
{
	struct fixture *f = *state;
	int rcode = 99;
	assert_true(answer_rcode(f, "nope.example.com.", 0, &rcode) > 0);
	assert_int_equal(rcode, DNS_RCODE_NXDOMAIN);
	assert_true(answer_rcode(f, "www.example.org.", 0, &rcode) > 0);
	assert_int_equal(rcode, DNS_RCODE_REFUSED);
	assert_int_equal(answer_rcode(f, "www.example.com.", DNS_FLAG_QR, &rcode), 0);
	assert_int_equal(rcode, -1);

	struct stats_counters st;
	memset(&st, 0, sizeof(st));
	stats_count_rcode(&st, DNS_RCODE_NXDOMAIN);
	stats_count_rcode(&st, -1);
	stats_count_rcode(&st, 4000);
	assert_int_equal(st.queries, 3);
	assert_int_equal(st.dropped, 1);
	assert_int_equal(st.rcode[DNS_RCODE_NXDOMAIN], 1);
	assert_int_equal(st.rcode[STATS_RCODES - 1], 1);
}

/* Every test gets a fresh zone set and buffers. */
#define TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_answer_is_authoritative_with_question_and_id),
		TEST(test_response_is_dropped),
		TEST(test_packet_shorter_than_header_is_dropped),
		TEST(test_cut_question_gets_formerr_with_id_opcode_rd_and_no_aa),
		TEST(test_no_question_gets_formerr),
		TEST(test_status_opcode_gets_notimp_with_opcode_copied),
		TEST(test_edns_version_1_gets_badvers_with_version_0_opt),
		TEST(test_udp_without_edns_is_limited_to_512_and_truncated),
		TEST(test_udp_limit_is_client_size_when_below_udp_max),
		TEST(test_udp_limit_is_udp_max_when_client_offers_more),
		TEST(test_client_size_below_512_counts_as_512),
		TEST(test_tcp_reply_is_not_truncated),
		TEST(test_do_bit_is_echoed_and_opt_offers_udp_max),
		TEST(test_answer_rcode_is_reported_for_stats),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
