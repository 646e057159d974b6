/* SPDX-License-Identifier: MIT */
/* Unit tests of the iterator's pure parts: root hints, QNAME minimisation steps, referrals. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "resolver/iter_int.h"
#include "unit.h"

/* ---- helpers ------------------------------------------------------------------------------ */

/* A response being built: header, question, records, then parsed into msg. */
struct resp {
	uint8_t wire[4096];
	struct dns_build b;
	struct dns_msg msg;
	uint8_t cut[DNS_NAME_MAX]; /* the zone cut classify() found */
};

static void
resp_start(struct resp *r, const char *qname, uint16_t qtype, uint16_t flags, int rcode)
{
	dns_build_init(&r->b, r->wire, sizeof(r->wire), sizeof(r->wire), 1, DNS_FLAG_QR | flags);
	assert_int_equal(dns_build_question(&r->b, unit_name(qname), qtype, DNS_CLASS_IN), TDNS_OK);
	dns_build_rcode(&r->b, rcode);
}

static void
resp_name_rr(struct resp *r, int section, const char *owner, uint16_t type, const char *target)
{
	uint8_t rd[DNS_NAME_MAX];
	const uint8_t *t = unit_name(target);
	size_t len = dns_name_len(t);
	memcpy(rd, t, len);
	assert_int_equal(dns_build_rr(&r->b, section, unit_name(owner), type, DNS_CLASS_IN, 3600, rd, len),
			 TDNS_OK);
}

static void
resp_a(struct resp *r, int section, const char *owner, const char *ip)
{
	uint8_t rd[4];
	assert_int_equal(inet_pton(AF_INET, ip, rd), 1);
	assert_int_equal(dns_build_rr(&r->b, section, unit_name(owner), DNS_TYPE_A, DNS_CLASS_IN, 3600, rd,
				      4), TDNS_OK);
}

static void
resp_soa(struct resp *r, const char *zone)
{
	uint8_t rd[2 * DNS_NAME_MAX + 20];
	const uint8_t *m = unit_name("ns.invalid.");
	size_t len = dns_name_len(m);
	memcpy(rd, m, len);
	memcpy(rd + len, m, dns_name_len(m));
	len += dns_name_len(m);
	memset(rd + len, 0, 20);
	rd[len + 19] = 60;
	len += 20;
	assert_int_equal(dns_build_rr(&r->b, DNS_SECTION_AUTHORITY, unit_name(zone), DNS_TYPE_SOA,
				      DNS_CLASS_IN, 3600, rd, len), TDNS_OK);
}

static struct dns_msg *
resp_parse(struct resp *r)
{
	size_t len = dns_build_finish(&r->b);
	assert_int_equal(dns_msg_parse(r->wire, len, &r->msg), TDNS_OK);
	return &r->msg;
}

static enum iter_kind
classify(struct resp *r, const char *zone, const char *sname, uint16_t stype)
{
	uint8_t z[DNS_NAME_MAX], s[DNS_NAME_MAX];
	memcpy(z, unit_name(zone), dns_name_len(unit_name(zone)));
	memcpy(s, unit_name(sname), dns_name_len(unit_name(sname)));
	enum iter_kind k = iter_classify(resp_parse(r), z, s, stype, r->cut);
	dns_msg_clear(&r->msg);
	return k;
}

/*
 * The kind that a server of zone gives a NOERROR reply without AA to qname A holding only
 * owner NS target in its authority section.
 */
static enum iter_kind
ns_reply_kind(const char *zone, const char *qname, const char *owner, const char *target)
{
	struct resp r;
	resp_start(&r, qname, DNS_TYPE_A, 0, DNS_RCODE_NOERROR);
	resp_name_rr(&r, DNS_SECTION_AUTHORITY, owner, DNS_TYPE_NS, target);
	return classify(&r, zone, qname, DNS_TYPE_A);
}

/* The kind that a server of zone gives a NOERROR reply with flags answering qname A with ip. */
static enum iter_kind
a_reply_kind(const char *zone, const char *qname, uint16_t flags, const char *ip)
{
	struct resp r;
	resp_start(&r, qname, DNS_TYPE_A, flags, DNS_RCODE_NOERROR);
	resp_a(&r, DNS_SECTION_ANSWER, qname, ip);
	return classify(&r, zone, qname, DNS_TYPE_A);
}

/* The kind that a server of zone gives a reply to qname A with flags and rcode and no records. */
static enum iter_kind
bare_reply_kind(const char *zone, const char *qname, uint16_t flags, int rcode)
{
	struct resp r;
	resp_start(&r, qname, DNS_TYPE_A, flags, rcode);
	return classify(&r, zone, qname, DNS_TYPE_A);
}

/* ---- root hints --------------------------------------------------------------------------- */

static void
test_builtin_hints_are_the_13_iana_root_servers_with_both_addresses(void **state)
{
	(void)state;
	struct resolver_hints h;
	char err[512];
	assert_int_equal(resolver_hints_load(NULL, &h, err, sizeof(err)), TDNS_OK);
	assert_int_equal(h.nns, 13);
	assert_true(dns_name_eq(h.ns[0].name, unit_name("a.root-servers.net.")));
	assert_true(dns_name_eq(h.ns[12].name, unit_name("m.root-servers.net.")));
	for (size_t i = 0; i < h.nns; i++) {
		assert_int_equal(h.ns[i].naddr, 2);
		assert_int_equal(h.ns[i].addr[0].family, AF_INET);
		assert_int_equal(h.ns[i].addr[1].family, AF_INET6);
	}
	/* a.root-servers.net 198.41.0.4, from IANA's named.root. */
	const uint8_t a[4] = { 198, 41, 0, 4 };
	assert_memory_equal(h.ns[0].addr[0].ip, a, 4);
	assert_int_equal(resolver_hints_load("", &h, err, sizeof(err)), TDNS_OK);
	assert_int_equal(h.nns, 13);
}

static char *
write_hints(const char *text)
{
	static char path[] = "/tmp/tdns-test-hints-XXXXXX";
	strcpy(path, "/tmp/tdns-test-hints-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void
test_hints_file_gives_servers_and_addresses_in_any_order(void **state)
{
	(void)state;
	char *path = write_hints("; test hints\n"
				 "a.root.test. 3600000 A 127.0.0.1\n"
				 ". 3600000 NS a.root.test.\n"
				 ". 3600000 NS b.root.test.\n"
				 "b.root.test. 3600000 AAAA ::1\n"
				 "other.test. 3600000 A 127.9.9.9\n");
	struct resolver_hints h;
	char err[512];
	assert_int_equal(resolver_hints_load(path, &h, err, sizeof(err)), TDNS_OK);
	assert_int_equal(h.nns, 2);
	assert_int_equal(h.ns[0].naddr, 1);
	assert_int_equal(h.ns[0].addr[0].family, AF_INET);
	assert_int_equal(h.ns[1].naddr, 1);
	assert_int_equal(h.ns[1].addr[0].family, AF_INET6);
	unlink(path);
}

static void
expect_hints_error(const char *text, const char *want_fmt)
{
	char *path = write_hints(text);
	struct resolver_hints h;
	char err[1024], want[1024];
	assert_int_equal(resolver_hints_load(path, &h, err, sizeof(err)), TDNS_ECONFIG);
	snprintf(want, sizeof(want), want_fmt, path);
	assert_string_equal(err, want);
	unlink(path);
}

static void
test_bad_hints_fail_with_file_line_and_what_was_expected(void **state)
{
	(void)state;
	expect_hints_error(". 3600000 NS a.root.test.\nexample. 3600000 NS a.root.test.\n",
			   "%s:2: NS record of a name other than the root in root hints; "
			   "expected NS records of \".\"");
	expect_hints_error(". 3600000 NS a.root.test.\na.root.test. 3600000 TXT \"x\"\n",
			   "%s:2: record of type TXT in root hints; expected NS records of the "
			   "root and A or AAAA records of the servers");
	expect_hints_error(". 3600000 NS a.root.test.\na.root.test. 3600000 A 127.0.0.300\n",
			   "%s:2: bad IPv4 address '127.0.0.300'");
	expect_hints_error("a.root.test. 3600000 A 127.0.0.1\n",
			   "%s:1: no NS records for the root; expected \". NS NAME\" lines with "
			   "A or AAAA records of each NAME");
	expect_hints_error(". 3600000 NS a.root.test.\nb.root.test. 3600000 A 127.0.0.1\n",
			   "%s:1: no root server has an address; expected A or AAAA records for "
			   "the names of the root NS records");
}

/* ---- QNAME minimisation steps (RFC 9156 §3) ----------------------------------------------- */

static void
test_minimisation_adds_one_label_at_a_time_down_to_the_full_name(void **state)
{
	(void)state;
	uint8_t out[DNS_NAME_MAX];
	const char *qname = "a.b.example.test.";
	assert_true(iter_min_next(unit_name(qname), unit_name("."), out));
	assert_true(dns_name_eq(out, unit_name("test.")));
	assert_true(iter_min_next(unit_name(qname), unit_name("test."), out));
	assert_true(dns_name_eq(out, unit_name("example.test.")));
	assert_true(iter_min_next(unit_name(qname), unit_name("example.test."), out));
	assert_true(dns_name_eq(out, unit_name("b.example.test.")));
	assert_true(iter_min_next(unit_name(qname), unit_name("b.example.test."), out));
	assert_true(dns_name_eq(out, unit_name(qname)));
	/* At the name itself, or from a base that is not an ancestor: the full name. */
	assert_false(iter_min_next(unit_name(qname), unit_name(qname), out));
	assert_true(dns_name_eq(out, unit_name(qname)));
	assert_false(iter_min_next(unit_name(qname), unit_name("other.test."), out));
	assert_true(dns_name_eq(out, unit_name(qname)));
}

static void
test_minimisation_keeps_the_case_of_the_question(void **state)
{
	(void)state;
	uint8_t out[DNS_NAME_MAX];
	assert_true(iter_min_next(unit_name("WWW.Example.TEST."), unit_name("test."), out));
	assert_memory_equal(out, "\7Example\4TEST\0", 14);
}

/* ---- classification of answers ------------------------------------------------------------ */

static void
test_referral_to_a_zone_below_is_a_referral_with_its_cut(void **state)
{
	(void)state;
	struct resp r;
	resp_start(&r, "www.example.test.", DNS_TYPE_A, 0, DNS_RCODE_NOERROR);
	resp_name_rr(&r, DNS_SECTION_AUTHORITY, "example.test.", DNS_TYPE_NS, "ns1.example.test.");
	resp_a(&r, DNS_SECTION_ADDITIONAL, "ns1.example.test.", "127.0.0.2");
	assert_int_equal(classify(&r, "test.", "www.example.test.", DNS_TYPE_A), ITER_REFERRAL);
	assert_true(dns_name_eq(r.cut, unit_name("example.test.")));
}

static void
test_upward_or_sideways_referral_is_lame(void **state)
{
	(void)state;
	/* NS of the zone itself (or above): no progress, RFC 1034 §5.3.3 step 4 lame. */
	assert_int_equal(ns_reply_kind("test.", "www.example.test.", "test.", "ns1.nic.test."),
			 ITER_LAME);
	assert_int_equal(ns_reply_kind("test.", "www.example.test.", ".", "a.root.test."),
			 ITER_LAME);
	/* A delegation of a name that is not an ancestor of the question. */
	assert_int_equal(ns_reply_kind("test.", "www.example.test.", "other.test.",
				       "ns.other.test."), ITER_LAME);
}

static void
test_records_outside_the_servers_zone_are_ignored(void **state)
{
	(void)state;
	/* A server of example.test may not delegate or answer for names of other.test. */
	assert_int_equal(a_reply_kind("example.test.", "www.other.test.", DNS_FLAG_AA, "192.0.2.1"),
			 ITER_NODATA);
	assert_int_equal(ns_reply_kind("example.test.", "www.other.test.", "other.test.",
				       "ns.evil.test."), ITER_LAME);
}

static void
test_authoritative_answer_nxdomain_and_nodata(void **state)
{
	(void)state;
	struct resp r;
	assert_int_equal(a_reply_kind("example.test.", "www.example.test.", DNS_FLAG_AA,
				      "192.0.2.1"), ITER_ANSWER);
	resp_start(&r, "www.example.test.", DNS_TYPE_A, DNS_FLAG_AA, DNS_RCODE_NOERROR);
	resp_name_rr(&r, DNS_SECTION_ANSWER, "www.example.test.", DNS_TYPE_CNAME, "x.other.test.");
	assert_int_equal(classify(&r, "example.test.", "www.example.test.", DNS_TYPE_A),
			 ITER_ANSWER);
	resp_start(&r, "nope.example.test.", DNS_TYPE_A, DNS_FLAG_AA, DNS_RCODE_NXDOMAIN);
	resp_soa(&r, "example.test.");
	assert_int_equal(classify(&r, "example.test.", "nope.example.test.", DNS_TYPE_A),
			 ITER_NXDOMAIN);
	resp_start(&r, "www.example.test.", DNS_TYPE_AAAA, DNS_FLAG_AA, DNS_RCODE_NOERROR);
	resp_soa(&r, "example.test.");
	assert_int_equal(classify(&r, "example.test.", "www.example.test.", DNS_TYPE_AAAA),
			 ITER_NODATA);
}

static void
test_bad_rcodes_are_lame(void **state)
{
	(void)state;
	assert_int_equal(bare_reply_kind("example.test.", "www.example.test.", 0,
					 DNS_RCODE_REFUSED), ITER_LAME);
	assert_int_equal(bare_reply_kind("example.test.", "www.example.test.", DNS_FLAG_AA,
					 DNS_RCODE_SERVFAIL), ITER_LAME);
}

/* Issue 20: as Unbound takes them, answers of a server chosen for the zone need no AA. */
static void
test_answers_without_aa_count(void **state)
{
	(void)state;
	struct resp r;
	assert_int_equal(a_reply_kind("example.test.", "www.example.test.", 0, "192.0.2.1"),
			 ITER_ANSWER);
	/* The root's priming answer without AA. */
	resp_start(&r, ".", DNS_TYPE_NS, 0, DNS_RCODE_NOERROR);
	resp_name_rr(&r, DNS_SECTION_ANSWER, ".", DNS_TYPE_NS, "a.root.test.");
	assert_int_equal(classify(&r, ".", ".", DNS_TYPE_NS), ITER_ANSWER);
	/* An empty NOERROR, and NXDOMAIN without an SOA. */
	assert_int_equal(bare_reply_kind("example.test.", "www.example.test.", 0,
					 DNS_RCODE_NOERROR), ITER_NODATA);
	assert_int_equal(bare_reply_kind("example.test.", "www.example.test.", 0,
					 DNS_RCODE_NXDOMAIN), ITER_NXDOMAIN);
	/* Data without AA beside a delegation below the zone is a referral. */
	resp_start(&r, "www.sub.example.test.", DNS_TYPE_A, 0, DNS_RCODE_NOERROR);
	resp_a(&r, DNS_SECTION_ANSWER, "www.sub.example.test.", "192.0.2.1");
	resp_name_rr(&r, DNS_SECTION_AUTHORITY, "sub.example.test.", DNS_TYPE_NS,
		     "ns.sub.example.test.");
	assert_int_equal(classify(&r, "example.test.", "www.sub.example.test.", DNS_TYPE_A),
			 ITER_REFERRAL);
	/* The zone's own NS set without AA, no data, no SOA: a referral to itself. */
	assert_int_equal(ns_reply_kind("example.test.", "www.example.test.", "example.test.",
				       "ns.example.test."), ITER_LAME);
}

/* RA without AA: the server recursed for us; whatever it says is not the zone's. */
static void
test_recursor_answers_are_recursion_lame(void **state)
{
	(void)state;
	assert_int_equal(a_reply_kind("example.test.", "www.example.test.", DNS_FLAG_RA,
				      "192.0.2.1"), ITER_REC_LAME);
	assert_int_equal(bare_reply_kind("example.test.", "www.example.test.", DNS_FLAG_RA,
					 DNS_RCODE_NXDOMAIN), ITER_REC_LAME);
	/* An authoritative server that also offers recursion answers with AA and RA. */
	assert_int_equal(a_reply_kind("example.test.", "www.example.test.",
				      DNS_FLAG_RA | DNS_FLAG_AA, "192.0.2.1"),
			 ITER_ANSWER);
}

static void
test_dname_above_the_question_is_an_answer(void **state)
{
	(void)state;
	struct resp r;
	resp_start(&r, "www.old.alias.test.", DNS_TYPE_A, DNS_FLAG_AA, DNS_RCODE_NOERROR);
	resp_name_rr(&r, DNS_SECTION_ANSWER, "old.alias.test.", DNS_TYPE_DNAME, "example.test.");
	assert_int_equal(classify(&r, "alias.test.", "www.old.alias.test.", DNS_TYPE_A),
			 ITER_ANSWER);
}

/* ---- glue ----------------------------------------------------------------------------------- */

static void
test_glue_only_for_the_delegations_ns_names_inside_the_delegated_zone(void **state)
{
	(void)state;
	uint8_t ns[2][DNS_NAME_MAX];
	memcpy(ns[0], unit_name("ns1.example.test."), dns_name_len(unit_name("ns1.example.test.")));
	memcpy(ns[1], unit_name("ns.other.test."), dns_name_len(unit_name("ns.other.test.")));
	const uint8_t (*names)[DNS_NAME_MAX] = (const uint8_t (*)[DNS_NAME_MAX])ns;
	assert_true(iter_glue_ok(unit_name("NS1.example.test."), unit_name("example.test."), names, 2));
	/* Out of bailiwick of the delegation, though an NS name: looked up, not trusted. */
	assert_false(iter_glue_ok(unit_name("ns.other.test."), unit_name("example.test."), names, 2));
	/* In bailiwick but not an NS name of the delegation. */
	assert_false(iter_glue_ok(unit_name("www.example.test."), unit_name("example.test."), names, 2));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin_hints_are_the_13_iana_root_servers_with_both_addresses),
		cmocka_unit_test(test_hints_file_gives_servers_and_addresses_in_any_order),
		cmocka_unit_test(test_bad_hints_fail_with_file_line_and_what_was_expected),
		cmocka_unit_test(test_minimisation_adds_one_label_at_a_time_down_to_the_full_name),
		cmocka_unit_test(test_minimisation_keeps_the_case_of_the_question),
		cmocka_unit_test(test_referral_to_a_zone_below_is_a_referral_with_its_cut),
		cmocka_unit_test(test_upward_or_sideways_referral_is_lame),
		cmocka_unit_test(test_records_outside_the_servers_zone_are_ignored),
		cmocka_unit_test(test_authoritative_answer_nxdomain_and_nodata),
		cmocka_unit_test(test_bad_rcodes_are_lame),
		cmocka_unit_test(test_answers_without_aa_count),
		cmocka_unit_test(test_recursor_answers_are_recursion_lame),
		cmocka_unit_test(test_dname_above_the_question_is_an_answer),
		cmocka_unit_test(test_glue_only_for_the_delegations_ns_names_inside_the_delegated_zone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
