/* SPDX-License-Identifier: MIT */
/* Unit tests of src/block/safe.c: the safe-search table's format, errors by line, lookup. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block/block.h"
#include "core/core.h"
#include "dns/dns.h"

static struct block_safe *
parsed(const char *text)
{
	struct block_safe *s = NULL;
	char err[512] = "";
	int rc = block_safe_parse("t.conf", text, strlen(text), &s, err, sizeof(err));
	if (rc != TDNS_OK) {
		fail_msg("%s", err);
	}
	return s;
}

/* The endpoint qname (text) is answered with, as text; "" when not listed. */
static const char *
endpoint(const struct block_safe *s, const char *qname, unsigned *line)
{
	static char text[DNS_NAME_TEXT_MAX];
	uint8_t wire[DNS_NAME_MAX];
	assert_true(dns_name_from_text(qname, strlen(qname), (const uint8_t *)"", wire) > 0);
	const uint8_t *t = block_safe_lookup(s, wire, line);
	if (t == NULL) {
		return "";
	}
	assert_true(dns_name_to_text(t, text, sizeof(text)) > 0);
	return text;
}

static void
expect_error(const char *text, const char *want)
{
	struct block_safe *s = NULL;
	char err[512] = "";
	assert_int_equal(block_safe_parse("t.conf", text, strlen(text), &s, err, sizeof(err)),
			 TDNS_ECONFIG);
	assert_null(s);
	if (strstr(err, want) == NULL) {
		fail_msg("error '%s' does not contain '%s'", err, want);
	}
}

static void
test_names_are_matched_exactly_in_any_case_and_report_their_line(void **state)
{
	(void)state;
	struct block_safe *s = parsed("# comment\n"
				      "\n"
				      "www.google.com  forcesafesearch.google.com  # Google\n"
				      "WWW.Bing.COM.\tstrict.bing.com.\r\n"
				      "google.co.uk forcesafesearch.google.com");
	assert_int_equal(block_safe_count(s), 3);
	unsigned line = 0;
	assert_string_equal(endpoint(s, "www.google.com", &line), "forcesafesearch.google.com.");
	assert_int_equal(line, 3);
	assert_string_equal(endpoint(s, "WWW.GOOGLE.COM", NULL), "forcesafesearch.google.com.");
	assert_string_equal(endpoint(s, "www.bing.com", &line), "strict.bing.com.");
	assert_int_equal(line, 4);
	assert_string_equal(endpoint(s, "google.co.uk", &line), "forcesafesearch.google.com.");
	assert_int_equal(line, 5);
	/* Neither parents nor subdomains of an exact name. */
	assert_string_equal(endpoint(s, "google.com", NULL), "");
	assert_string_equal(endpoint(s, "x.www.google.com", NULL), "");
	assert_string_equal(endpoint(s, "forcesafesearch.google.com", NULL), "");
	assert_string_equal(endpoint(s, ".", NULL), "");
	block_safe_unref(s);
}

static void
test_wildcards_cover_subdomains_and_the_most_specific_entry_wins(void **state)
{
	(void)state;
	struct block_safe *s = parsed("*.example.com a.endpoint.test\n"
				      "*.deep.example.com b.endpoint.test\n"
				      "exact.deep.example.com c.endpoint.test\n");
	assert_string_equal(endpoint(s, "example.com", NULL), "");
	assert_string_equal(endpoint(s, "www.example.com", NULL), "a.endpoint.test.");
	assert_string_equal(endpoint(s, "x.y.example.com", NULL), "a.endpoint.test.");
	assert_string_equal(endpoint(s, "deep.example.com", NULL), "a.endpoint.test.");
	assert_string_equal(endpoint(s, "x.deep.example.com", NULL), "b.endpoint.test.");
	assert_string_equal(endpoint(s, "exact.deep.example.com", NULL), "c.endpoint.test.");
	assert_string_equal(endpoint(s, "x.exact.deep.example.com", NULL), "b.endpoint.test.");
	assert_string_equal(endpoint(s, "example.org", NULL), "");
	block_safe_unref(s);
}

static void
test_malformed_tables_are_refused_with_file_and_line(void **state)
{
	(void)state;
	expect_error("www.google.com\n", "t.conf:1: one word; expected \"NAME ENDPOINT\"");
	expect_error("# c\na b c\n", "t.conf:2: more than two words");
	expect_error("\n\nwww.goo gle.com x.test y.test\n", "t.conf:3: more than two words");
	expect_error("www.google.com forcesafe..google.com\n",
		     "t.conf:1: endpoint 'forcesafe..google.com': empty label");
	expect_error("ww!w.google.com x.test\n",
		     "t.conf:1: name 'ww!w.google.com': character '!' not allowed");
	expect_error("*. x.test\n", "t.conf:1: name '*.': empty name");
	expect_error("a.*.com x.test\n", "t.conf:1: name 'a.*.com': character '*' not allowed");
	expect_error("a.test x.test\nb.test y.test\nA.TEST. z.test\n",
		     "t.conf:3: a.test. listed again (first at line 1); expected each name once");
	expect_error("*.a.test x.test\n*.A.test y.test\n", "t.conf:2: *.a.test. listed again");
	/* An endpoint the table rewrites would send clients round in circles. */
	expect_error("www.google.com forcesafesearch.google.com\n*.google.com x.test\n",
		     "t.conf:2: endpoint forcesafesearch.google.com. is itself matched");
	expect_error("a.test b.test\nb.test c.test\n", "t.conf:2: endpoint b.test. is itself");
	char label[80];
	memset(label, 'a', 64);
	snprintf(label + 64, sizeof(label) - 64, " x.test\n");
	expect_error(label, "label longer than 63 characters");
}

static void
test_empty_table_and_unreadable_file(void **state)
{
	(void)state;
	struct block_safe *s = parsed("# nothing\n\n");
	assert_int_equal(block_safe_count(s), 0);
	assert_string_equal(endpoint(s, "www.google.com", NULL), "");
	block_safe_unref(s);
	block_safe_unref(NULL);
	char err[512];
	assert_int_equal(block_safe_load("/nonexistent/safe.conf", &s, err, sizeof(err)),
			 TDNS_EIO);
	assert_null(s);
	assert_non_null(strstr(err, "safe-search file /nonexistent/safe.conf: No such file"));
}

/* The shipped table loads and covers what the vendors document. */
static void
test_the_shipped_table_loads_and_maps_every_vendor(void **state)
{
	(void)state;
	struct block_safe *s = NULL;
	char err[512] = "";
	int rc = block_safe_load(SRCDIR "/etc/safe-search.conf", &s, err, sizeof(err));
	if (rc != TDNS_OK) {
		fail_msg("%s", err);
	}
	assert_true(block_safe_count(s) > 300);
	static const char *const cases[][2] = {
		{ "www.google.com", "forcesafesearch.google.com." },
		{ "google.com", "forcesafesearch.google.com." },
		{ "www.google.co.uk", "forcesafesearch.google.com." },
		{ "www.google.de", "forcesafesearch.google.com." },
		{ "www.google.com.au", "forcesafesearch.google.com." },
		{ "www.bing.com", "strict.bing.com." },
		{ "duckduckgo.com", "safe.duckduckgo.com." },
		{ "www.youtube.com", "restrict.youtube.com." },
		{ "m.youtube.com", "restrict.youtube.com." },
		{ "youtubei.googleapis.com", "restrict.youtube.com." },
		{ "youtube.googleapis.com", "restrict.youtube.com." },
		{ "www.youtube-nocookie.com", "restrict.youtube.com." },
		{ "mail.google.com", "" },
		{ "restrict.youtube.com", "" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_string_equal(endpoint(s, cases[i][0], NULL), cases[i][1]);
	}
	block_safe_unref(s);
}

int
main(void)
{
	tdns_log_init(true, TDNS_LOG_ERR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_are_matched_exactly_in_any_case_and_report_their_line),
		cmocka_unit_test(test_wildcards_cover_subdomains_and_the_most_specific_entry_wins),
		cmocka_unit_test(test_malformed_tables_are_refused_with_file_and_line),
		cmocka_unit_test(test_empty_table_and_unreadable_file),
		cmocka_unit_test(test_the_shipped_table_loads_and_maps_every_vendor),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
