/* SPDX-License-Identifier: MIT */
/* Unit tests for src/dns/tsig.c and src/dns/ident.c: TSIG parsing and replies, identity, NSID. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dns/dns.h"
#include "unit.h"

/* ns.example. A signed by dnspython 2.3 with key k1. (hmac-sha256) at 1700000000, fudge 300. */
static const char signed_query[] =
	"123401000001000000000001026e73076578616d706c650000010001026b310000fa00ff00000000003d0b"
	"686d61632d7368613235360000006553f100012c0020c9e17d960ece482bad737c64280ee7791b3c1bf7"
	"07d6f5d32b6f4e133aa9fcf7123400000000";

static void
test_tsig_find_parses_the_last_record(void **state)
{
	(void)state;
	uint8_t pkt[512];
	size_t len = unit_unhex(signed_query, pkt);
	struct dns_tsig t;
	assert_int_equal(dns_tsig_find(pkt, len, &t), 1);
	assert_int_equal(t.off, 28);
	assert_memory_equal(t.key, "\002k1", 4);
	assert_memory_equal(t.alg, "\013hmac-sha256", 13);
	assert_true(t.time_signed == 1700000000u);
	assert_int_equal(t.fudge, 300);
	assert_int_equal(t.mac_len, 32);
	assert_ptr_equal(t.mac, pkt + len - 6 - 32);
	assert_int_equal(t.orig_id, 0x1234);
	assert_int_equal(t.error, 0);
	assert_int_equal(t.other_len, 0);
	/* Not signed: nothing found. */
	pkt[11] = 0;
	assert_int_equal(dns_tsig_find(pkt, 28, &t), 0);
}

static void
test_tsig_that_cannot_be_parsed_is_an_error(void **state)
{
	(void)state;
	uint8_t pkt[512];
	size_t len = unit_unhex(signed_query, pkt);
	struct dns_tsig t;
	pkt[28 + 4 + 4] = 1; /* class IN instead of ANY (RFC 8945 §4.2) */
	assert_int_equal(dns_tsig_find(pkt, len, &t), TDNS_EMALFORMED);
	len = unit_unhex(signed_query, pkt);
	pkt[len - 1] = 1; /* other length 1, no data */
	assert_int_equal(dns_tsig_find(pkt, len, &t), TDNS_EMALFORMED);
	len = unit_unhex(signed_query, pkt);
	assert_int_equal(dns_tsig_find(pkt, len - 1, &t), TDNS_ETRUNC);
	/* RFC 8945 §5.1: a TSIG followed by another record is FORMERR. */
	len = unit_unhex(signed_query, pkt);
	const uint8_t opt[] = { 0, 0, 41, 4, 208, 0, 0, 0, 0, 0, 0 };
	memcpy(pkt + len, opt, sizeof(opt));
	pkt[11] = 2;
	assert_int_equal(dns_tsig_find(pkt, len + sizeof(opt), &t), TDNS_EMALFORMED);
}

static void
test_unsigned_badkey_reply_echoes_the_request(void **state)
{
	(void)state;
	uint8_t pkt[512], out[512];
	size_t len = unit_unhex(signed_query, pkt);
	struct dns_ident id;
	char err[128];
	assert_int_equal(dns_ident_init(&id, NULL, NULL, NULL, err, sizeof(err)), TDNS_OK);
	int rcode = -1;
	size_t n = 0;
	assert_true(dns_ident_answer(&id, pkt, len, out, sizeof(out), false, 1232, &rcode, &n));
	assert_int_equal(rcode, DNS_RCODE_NOTAUTH);
	/* RFC 8945 §5.2.1 and §5.3.2: NOTAUTH, the question, an unsigned TSIG with BADKEY. */
	uint8_t want[512];
	size_t wl = unit_unhex("123481090001000000000001026e73076578616d706c650000010001026b310000fa00ff"
			  "00000000001d0b686d61632d7368613235360000006553f100012c000012340011"
			  "0000", want);
	assert_int_equal(n, wl);
	assert_memory_equal(out, want, wl);
	/* No room: the reply goes without its TSIG rather than past the limit. */
	struct dns_tsig t;
	assert_int_equal(dns_tsig_find(pkt, len, &t), 1);
	assert_int_equal(dns_tsig_append_unsigned(out, 28, 40, &t, DNS_TSIG_BADKEY, 0), 0);
	/* BADTIME carries the server's time in Other Data (RFC 8945 §5.2.3). */
	size_t m = dns_tsig_append_unsigned(out, 28, sizeof(out), &t, DNS_TSIG_BADTIME,
					    0x0102030405ull);
	assert_int_equal(m, wl + 6);
	assert_memory_equal(out + m - 8, "\000\006\000\001\002\003\004\005", 8);
}

static void
test_identity_answers_ch_txt_only_when_configured(void **state)
{
	(void)state;
	struct dns_ident id;
	char err[128];
	assert_int_equal(dns_ident_init(&id, "ns1", "", "hex:6e7331", err, sizeof(err)), TDNS_OK);
	assert_int_equal(id.nsid_len, 3);
	assert_memory_equal(id.nsid, "ns1", 3);
	/* id.server. CH TXT, id 7 */
	uint8_t q[] = { 0, 7, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 2, 'i', 'd', 6, 's', 'e', 'r', 'v',
			'e', 'r', 0, 0, 16, 0, 3 };
	uint8_t out[512];
	int rcode = -1;
	size_t n = 0;
	assert_true(dns_ident_answer(&id, q, sizeof(q), out, sizeof(out), false, 1232, &rcode,
				     &n));
	assert_int_equal(rcode, DNS_RCODE_NOERROR);
	struct dns_msg m;
	memset(&m, 0, sizeof(m));
	assert_int_equal(dns_msg_parse(out, n, &m), TDNS_OK);
	/* As Knot and NSD: no zone holds the name, so no AA. */
	assert_false(m.flags & DNS_FLAG_AA);
	assert_int_equal(m.nrr, 1);
	assert_int_equal(m.rrs[0].type, DNS_TYPE_TXT);
	assert_int_equal(m.rrs[0].rclass, DNS_CLASS_CH);
	assert_memory_equal(out + m.rrs[0].rdata_off, "\003ns1", 4);
	dns_msg_clear(&m);
	/* version.bind.: no version configured, so the pipeline refuses it as before. */
	uint8_t v[] = { 0, 7, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 7, 'v', 'e', 'r', 's', 'i', 'o', 'n',
			4, 'b', 'i', 'n', 'd', 0, 0, 16, 0, 3 };
	assert_false(dns_ident_answer(&id, v, sizeof(v), out, sizeof(out), false, 1232, &rcode,
				      &n));
	/* Other types are refused by the pipeline, as Knot and NSD do. */
	q[sizeof(q) - 3] = 1;
	assert_false(dns_ident_answer(&id, q, sizeof(q), out, sizeof(out), false, 1232, &rcode,
				      &n));
	q[sizeof(q) - 3] = 16;
	/* Class IN is never ours. */
	q[sizeof(q) - 1] = 1;
	assert_false(dns_ident_answer(&id, q, sizeof(q), out, sizeof(out), false, 1232, &rcode,
				      &n));
	assert_int_equal(dns_ident_init(&id, NULL, NULL, "hex:6e7", err, sizeof(err)),
			 TDNS_ECONFIG);
}

static void
test_nsid_is_added_to_the_opt_of_a_reply_when_asked(void **state)
{
	(void)state;
	struct dns_ident id;
	char err[128];
	assert_int_equal(dns_ident_init(&id, NULL, NULL, "ns1", err, sizeof(err)), TDNS_OK);
	/* ". NS" with an OPT carrying an empty NSID option */
	const uint8_t q[] = { 0, 9, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 2, 0, 1,
			      0, 0, 41, 4, 208, 0, 0, 0, 0, 0, 4, 0, 3, 0, 0 };
	uint8_t out[512];
	struct dns_build b;
	dns_build_init(&b, out, sizeof(out), 1232, 9, DNS_FLAG_QR);
	dns_build_edns(&b, 1232, false);
	assert_int_equal(dns_build_question(&b, (const uint8_t *)"", 2, 1), TDNS_OK);
	size_t n = dns_build_finish(&b);
	size_t m = dns_ident_nsid(&id, q, sizeof(q), out, n, sizeof(out), false, 1232);
	assert_int_equal(m, n + 7);
	assert_memory_equal(out + n - 2, "\000\007\000\003\000\003ns1", 9);
	/* Not asked (no option): unchanged. */
	uint8_t q2[sizeof(q)];
	memcpy(q2, q, sizeof(q));
	q2[sizeof(q2) - 4] = 0;
	q2[sizeof(q2) - 3] = 10; /* a COOKIE-numbered option instead */
	n = dns_build_finish(&b);
	assert_int_equal(dns_ident_nsid(&id, q2, sizeof(q2), out, n, sizeof(out), false, 1232), n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tsig_find_parses_the_last_record),
		cmocka_unit_test(test_tsig_that_cannot_be_parsed_is_an_error),
		cmocka_unit_test(test_unsigned_badkey_reply_echoes_the_request),
		cmocka_unit_test(test_identity_answers_ch_txt_only_when_configured),
		cmocka_unit_test(test_nsid_is_added_to_the_opt_of_a_reply_when_asked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
