/* SPDX-License-Identifier: MIT */
/* Unit tests of src/resolver/val_util.c: verdicts, label walking, negative trust anchors. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "resolver/val_int.h"

static void
name(const char *s, uint8_t *out)
{
	assert_true(dns_name_from_text(s, strlen(s), NULL, out) > 0);
}

static void
test_worse_state_orders_bogus_over_indeterminate_over_insecure_over_secure(void **state)
{
	(void)state;
	assert_int_equal(val_sec_worse(CACHE_SEC_SECURE, CACHE_SEC_INSECURE), CACHE_SEC_INSECURE);
	assert_int_equal(val_sec_worse(CACHE_SEC_BOGUS, CACHE_SEC_INSECURE), CACHE_SEC_BOGUS);
	assert_int_equal(val_sec_worse(CACHE_SEC_INDETERMINATE, CACHE_SEC_BOGUS), CACHE_SEC_BOGUS);
	assert_int_equal(val_sec_worse(CACHE_SEC_INSECURE, CACHE_SEC_INDETERMINATE),
			 CACHE_SEC_INDETERMINATE);
	assert_int_equal(val_sec_worse(CACHE_SEC_UNCHECKED, CACHE_SEC_SECURE), CACHE_SEC_SECURE);
	assert_string_equal(cache_sec_str(CACHE_SEC_BOGUS), "bogus");
	assert_string_equal(cache_sec_str(99), "?");
}

static void
test_next_label_walks_down_one_label_at_a_time(void **state)
{
	(void)state;
	uint8_t n[DNS_NAME_MAX], base[DNS_NAME_MAX], out[DNS_NAME_MAX], want[DNS_NAME_MAX];
	name("www.example.com.", n);
	name(".", base);
	assert_true(val_next_label(n, base, out));
	name("com.", want);
	assert_true(dns_name_eq(out, want));
	name("example.com.", base);
	assert_true(val_next_label(n, base, out));
	assert_true(dns_name_eq(out, n));
	/* Not a proper ancestor: nothing to walk. */
	assert_false(val_next_label(n, n, out));
	name("example.org.", base);
	assert_false(val_next_label(n, base, out));
}

static void
test_verdict_text_is_formatted_and_bounded(void **state)
{
	(void)state;
	struct cache_val v;
	val_verdict(&v, CACHE_SEC_BOGUS, 7, "%s: %s", "expired.example.", "signature expired");
	assert_int_equal(v.sec, CACHE_SEC_BOGUS);
	assert_int_equal(v.ede, 7);
	assert_string_equal(v.text, "expired.example.: signature expired");
	char longtext[300];
	memset(longtext, 'x', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = '\0';
	val_verdict(&v, CACHE_SEC_BOGUS, 6, "%s", longtext);
	assert_int_equal(strlen(v.text), CACHE_VAL_TEXT - 1);
	val_verdict(&v, CACHE_SEC_SECURE, -1, NULL);
	assert_string_equal(v.text, "");
}

static void
test_nta_list_parses_and_covers_names_at_and_below(void **state)
{
	(void)state;
	uint8_t (*names)[DNS_NAME_MAX] = NULL;
	size_t n = 0;
	char err[128];
	assert_int_equal(resolver_nta_parse(" Broken.Example , test. ,", &names, &n, err,
					    sizeof(err)),
			 TDNS_OK);
	assert_int_equal(n, 2);
	struct resolver_conf rc;
	memset(&rc, 0, sizeof(rc));
	rc.nta = names;
	rc.nnta = n;
	uint8_t q[DNS_NAME_MAX];
	name("www.broken.example.", q);
	assert_true(resolver_nta_covers(&rc, q));
	name("BROKEN.example.", q);
	dns_name_lower(q);
	assert_true(resolver_nta_covers(&rc, q));
	name("a.test.", q);
	assert_true(resolver_nta_covers(&rc, q));
	name("example.", q);
	assert_false(resolver_nta_covers(&rc, q));
	name("notbroken.example.", q);
	assert_false(resolver_nta_covers(&rc, q));
	assert_false(resolver_nta_covers(NULL, q));
	free(names);

	assert_int_equal(resolver_nta_parse("", &names, &n, err, sizeof(err)), TDNS_OK);
	assert_int_equal(n, 0);
	free(names);
	assert_int_equal(resolver_nta_parse("ok.example, bad..name", &names, &n, err, sizeof(err)),
			 TDNS_ECONFIG);
	assert_null(names);
	assert_non_null(strstr(err, "bad..name"));
}

static void
test_counters_count_each_state(void **state)
{
	(void)state;
	struct resolver_val_stats a, b;
	resolver_val_stats(&a);
	resolver_val_count(CACHE_SEC_SECURE);
	resolver_val_count(CACHE_SEC_BOGUS);
	resolver_val_count(CACHE_SEC_BOGUS);
	resolver_val_count(CACHE_SEC_UNCHECKED);
	val_stats_add_verifies(5);
	resolver_val_stats(&b);
	assert_int_equal(b.secure - a.secure, 1);
	assert_int_equal(b.bogus - a.bogus, 2);
	assert_int_equal(b.insecure - a.insecure, 0);
	assert_int_equal(b.verifies - a.verifies, 5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_worse_state_orders_bogus_over_indeterminate_over_insecure_over_secure),
		cmocka_unit_test(test_next_label_walks_down_one_label_at_a_time),
		cmocka_unit_test(test_verdict_text_is_formatted_and_bounded),
		cmocka_unit_test(test_nta_list_parses_and_covers_names_at_and_below),
		cmocka_unit_test(test_counters_count_each_state),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
