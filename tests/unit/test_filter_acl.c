/* SPDX-License-Identifier: MIT */
/* Unit tests of src/filter/acl.c: CIDR parsing and matching for IPv4 and IPv6. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "core/core.h"
#include "filter/filter.h"

static bool
match(const struct filter_acl *acl, const char *addr)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	if (strchr(addr, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, addr, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, addr, &s4->sin_addr), 1);
	}
	return filter_acl_match(acl, (const struct sockaddr *)&ss);
}

/* Parses text into acl; fails the test, with the reason, if it is refused. */
static void
parse_ok(struct filter_acl *acl, const char *text)
{
	char err[256];
	if (filter_acl_parse(text, acl, err, sizeof(err)) != TDNS_OK) {
		fail_msg("'%s' refused: %s", text, err);
	}
}

/* Fails the test unless acl matches each of the nin addresses in and none of the nout in out. */
static void
expect_matches(const struct filter_acl *acl, const char *const *in, size_t nin,
	       const char *const *out, size_t nout)
{
	for (size_t i = 0; i < nin; i++) {
		if (!match(acl, in[i])) {
			fail_msg("%s not matched", in[i]);
		}
	}
	for (size_t i = 0; i < nout; i++) {
		if (match(acl, out[i])) {
			fail_msg("%s matched", out[i]);
		}
	}
}

static void
test_cidr_parse_clears_host_bits_and_defaults_to_a_host_prefix(void **state)
{
	(void)state;
	struct filter_cidr c;
	char err[256];
	assert_int_equal(filter_cidr_parse("10.1.2.3/8", &c, err, sizeof(err)), TDNS_OK);
	assert_int_equal(c.family, AF_INET);
	assert_int_equal(c.prefix, 8);
	static const uint8_t ten[4] = { 10, 0, 0, 0 };
	assert_memory_equal(c.addr, ten, 4);
	assert_int_equal(filter_cidr_parse("172.16.255.1/12", &c, err, sizeof(err)), TDNS_OK);
	static const uint8_t s172[4] = { 172, 16, 0, 0 };
	assert_memory_equal(c.addr, s172, 4);
	assert_int_equal(filter_cidr_parse("192.0.2.7", &c, err, sizeof(err)), TDNS_OK);
	assert_int_equal(c.prefix, 32);
	assert_int_equal(filter_cidr_parse("::1", &c, err, sizeof(err)), TDNS_OK);
	assert_int_equal(c.family, AF_INET6);
	assert_int_equal(c.prefix, 128);
	assert_int_equal(filter_cidr_parse("fe80::1234/10", &c, err, sizeof(err)), TDNS_OK);
	assert_int_equal(c.addr[0], 0xfe);
	assert_int_equal(c.addr[1], 0x80);
	assert_int_equal(c.addr[15], 0);
	assert_int_equal(filter_cidr_parse("0.0.0.0/0", &c, err, sizeof(err)), TDNS_OK);
	assert_int_equal(c.prefix, 0);
}

static void
test_cidr_parse_rejects_bad_addresses_and_lengths_with_a_reason(void **state)
{
	(void)state;
	struct filter_cidr c;
	char err[256];
	static const char *const bad[] = {
		"", "10.1", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "10.0.0.0/-1",
		"example.com", "1.2.3.4/1000", "/8", "10.0.0.0/8/8",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (filter_cidr_parse(bad[i], &c, err, sizeof(err)) != TDNS_EINVAL) {
			fail_msg("accepted '%s'", bad[i]);
		}
		assert_non_null(strstr(err, "expected ADDR or ADDR/LEN"));
	}
}

static void
test_default_allow_list_matches_loopback_and_private_networks_only(void **state)
{
	(void)state;
	struct filter_acl acl = { NULL, 0 };
	parse_ok(&acl, "127.0.0.0/8, ::1, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, "
		 "100.64.0.0/10, fc00::/7, fe80::/10");
	assert_int_equal(acl.n, 8);
	static const char *const in[] = {
		"127.0.0.1", "127.255.255.254", "10.200.1.1", "172.16.0.1", "172.31.255.255",
		"192.168.1.1", "100.64.0.1", "100.127.255.255", "::1", "fd00::1", "fc12::7",
		"fe80::1", "febf::1", "::ffff:192.168.0.9", "::ffff:127.0.0.1",
	};
	static const char *const out[] = {
		"8.8.8.8", "172.32.0.1", "172.15.255.255", "192.169.0.1", "100.128.0.1",
		"11.0.0.1", "::2", "2001:db8::1", "fec0::1", "::ffff:8.8.8.8", "::",
		"0.0.0.0",
	};
	expect_matches(&acl, in, sizeof(in) / sizeof(in[0]), out,
		       sizeof(out) / sizeof(out[0]));
	filter_acl_clear(&acl);
	assert_int_equal(acl.n, 0);
}

static void
test_prefix_lengths_that_are_not_octet_multiples_match_exactly(void **state)
{
	(void)state;
	struct filter_acl acl = { NULL, 0 };
	parse_ok(&acl, "192.0.2.64/27,2001:db8:0:4::/62");
	static const char *const in[] = {
		"192.0.2.64", "192.0.2.95", "2001:db8:0:4::5", "2001:db8:0:7:ffff::5",
	};
	static const char *const out[] = {
		"192.0.2.63", "192.0.2.96", "2001:db8:0:8::5", "2001:db8:0:3::5",
	};
	expect_matches(&acl, in, sizeof(in) / sizeof(in[0]), out,
		       sizeof(out) / sizeof(out[0]));
	filter_acl_clear(&acl);
}

static void
test_empty_and_none_lists_match_nothing_and_everything_prefixes_match_all(void **state)
{
	(void)state;
	struct filter_acl acl = { NULL, 0 };
	parse_ok(&acl, "");
	assert_false(match(&acl, "127.0.0.1"));
	parse_ok(&acl, "none");
	assert_false(match(&acl, "::1"));
	parse_ok(&acl, "0.0.0.0/0, ::/0");
	assert_true(match(&acl, "8.8.8.8"));
	assert_true(match(&acl, "2001:db8::1"));
	filter_acl_clear(&acl);
}

static void
test_bad_list_item_fails_and_keeps_the_previous_list(void **state)
{
	(void)state;
	struct filter_acl acl = { NULL, 0 };
	char err[256];
	parse_ok(&acl, "10.0.0.0/8");
	assert_int_equal(filter_acl_parse("10.0.0.0/8, bogus", &acl, err, sizeof(err)),
			 TDNS_EINVAL);
	assert_non_null(strstr(err, "'bogus'"));
	assert_int_equal(filter_acl_parse("10.0.0.0/8,,::1", &acl, err, sizeof(err)),
			 TDNS_EINVAL);
	assert_int_equal(acl.n, 1);
	assert_true(match(&acl, "10.9.9.9"));
	filter_acl_clear(&acl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cidr_parse_clears_host_bits_and_defaults_to_a_host_prefix),
		cmocka_unit_test(test_cidr_parse_rejects_bad_addresses_and_lengths_with_a_reason),
		cmocka_unit_test(test_default_allow_list_matches_loopback_and_private_networks_only),
		cmocka_unit_test(test_prefix_lengths_that_are_not_octet_multiples_match_exactly),
		cmocka_unit_test(
			test_empty_and_none_lists_match_nothing_and_everything_prefixes_match_all),
		cmocka_unit_test(test_bad_list_item_fails_and_keeps_the_previous_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
