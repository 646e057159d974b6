/* SPDX-License-Identifier: MIT */
/* Unit tests for src/dnssec/nta.c: negative trust anchors, lifetimes and their file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>

#include "dnssec/dnssec.h"
#include "unit.h"

#define T0 1800000000

static void
test_nta_covers_name_and_below_until_it_expires(void **state)
{
	(void)state;
	struct dnssec_ntas *s = dnssec_ntas_new();
	assert_non_null(s);
	assert_false(dnssec_ntas_covers(s, unit_name("www.example.com."), T0));
	assert_false(dnssec_ntas_covers(NULL, unit_name("www.example.com."), T0));
	assert_int_equal(dnssec_ntas_add(s, unit_name("Example.COM."), 60, T0), TDNS_OK);
	assert_true(dnssec_ntas_covers(s, unit_name("example.com."), T0));
	assert_true(dnssec_ntas_covers(s, unit_name("a.b.WWW.example.com."), T0 + 59));
	assert_false(dnssec_ntas_covers(s, unit_name("com."), T0));
	assert_false(dnssec_ntas_covers(s, unit_name("badexample.com."), T0));
	/* Lifetime over: the entry no longer applies, and expire drops it. */
	assert_false(dnssec_ntas_covers(s, unit_name("example.com."), T0 + 60));
	size_t n;
	struct dnssec_nta *v = dnssec_ntas_list(s, T0 + 60, &n);
	assert_null(v);
	assert_int_equal(n, 0);
	assert_int_equal(dnssec_ntas_expire(s, T0 + 30), 0);
	assert_int_equal(dnssec_ntas_expire(s, T0 + 60), 1);
	assert_int_equal(dnssec_ntas_remove(s, unit_name("example.com.")), TDNS_ENOENT);
	dnssec_ntas_free(s);
}

static void
test_nta_lifetime_bounds_renewal_and_removal(void **state)
{
	(void)state;
	struct dnssec_ntas *s = dnssec_ntas_new();
	assert_int_equal(dnssec_ntas_add(s, unit_name("a."), 0, T0), TDNS_EINVAL);
	assert_int_equal(dnssec_ntas_add(s, unit_name("a."), DNSSEC_NTA_LIFETIME_MAX + 1, T0),
			 TDNS_EINVAL);
	assert_int_equal(dnssec_ntas_add(s, unit_name("b."), 10, T0), TDNS_OK);
	assert_int_equal(dnssec_ntas_add(s, unit_name("a."), 10, T0), TDNS_OK);
	/* Adding again renews it. */
	assert_int_equal(dnssec_ntas_add(s, unit_name("a."), 100, T0 + 5), TDNS_OK);
	size_t n;
	struct dnssec_nta *v = dnssec_ntas_list(s, T0 + 50, &n);
	assert_int_equal(n, 1);
	assert_true(dns_name_eq(v[0].name, unit_name("a.")));
	assert_int_equal(v[0].expires, T0 + 105);
	assert_int_equal(v[0].added, T0 + 5);
	assert_false(v[0].config);
	free(v);
	v = dnssec_ntas_list(s, T0, &n);
	assert_int_equal(n, 2); /* sorted: a. before b. */
	assert_true(dns_name_eq(v[0].name, unit_name("a.")));
	free(v);
	assert_int_equal(dnssec_ntas_remove(s, unit_name("A.")), TDNS_OK);
	assert_false(dnssec_ntas_covers(s, unit_name("x.a."), T0));
	assert_true(dnssec_ntas_covers(s, unit_name("x.b."), T0));
	dnssec_ntas_free(s);
}

static void
test_nta_configured_entries_are_permanent_and_replaced(void **state)
{
	(void)state;
	struct dnssec_ntas *s = dnssec_ntas_new();
	assert_int_equal(dnssec_ntas_add(s, unit_name("run.test."), 10, T0), TDNS_OK);
	uint8_t a[DNS_NAME_MAX], b[DNS_NAME_MAX];
	memcpy(a, unit_name("cfg.test."), dns_name_len(unit_name("cfg.test.")));
	memcpy(b, unit_name("run.test."), dns_name_len(unit_name("run.test.")));
	const uint8_t *names[] = { a, b };
	assert_int_equal(dnssec_ntas_set_config(s, names, 2), TDNS_OK);
	/* Configured: never expires, and run.test. became permanent too. */
	assert_true(dnssec_ntas_covers(s, unit_name("x.cfg.test."), T0 + 1000000));
	assert_true(dnssec_ntas_covers(s, unit_name("run.test."), T0 + 1000000));
	assert_int_equal(dnssec_ntas_expire(s, T0 + 1000000), 0);
	/* A run-time add does not shorten a configured one. */
	assert_int_equal(dnssec_ntas_add(s, unit_name("cfg.test."), 5, T0), TDNS_OK);
	assert_true(dnssec_ntas_covers(s, unit_name("cfg.test."), T0 + 10));
	/* A new configuration replaces the old one. */
	assert_int_equal(dnssec_ntas_set_config(s, names, 1), TDNS_OK);
	assert_false(dnssec_ntas_covers(s, unit_name("run.test."), T0));
	size_t n;
	struct dnssec_nta *v = dnssec_ntas_list(s, T0, &n);
	assert_int_equal(n, 1);
	assert_true(v[0].config);
	assert_int_equal(v[0].expires, 0);
	free(v);
	dnssec_ntas_free(s);
}

static void
test_nta_file_keeps_runtime_entries_until_they_expire(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_nta_XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[128], err[256];
	snprintf(path, sizeof(path), "%s/nta.json", dir);
	struct dnssec_ntas *s = dnssec_ntas_new();
	/* No file yet: nothing to load, no error. */
	assert_int_equal(dnssec_ntas_load(s, path, T0, err, sizeof(err)), TDNS_OK);
	assert_int_equal(dnssec_ntas_add(s, unit_name("short.test."), 10, T0), TDNS_OK);
	assert_int_equal(dnssec_ntas_add(s, unit_name("long.test."), 3600, T0), TDNS_OK);
	const uint8_t *cfg[] = { unit_name("cfg.test.") };
	assert_int_equal(dnssec_ntas_set_config(s, cfg, 1), TDNS_OK);
	assert_int_equal(dnssec_ntas_save(s, path, T0), TDNS_OK);
	dnssec_ntas_free(s);

	/* Read back after short.test. ended: only long.test. (configured ones are not kept). */
	s = dnssec_ntas_new();
	assert_int_equal(dnssec_ntas_load(s, path, T0 + 20, err, sizeof(err)), TDNS_OK);
	size_t n;
	struct dnssec_nta *v = dnssec_ntas_list(s, T0 + 20, &n);
	assert_int_equal(n, 1);
	assert_true(dns_name_eq(v[0].name, unit_name("long.test.")));
	assert_int_equal(v[0].expires, T0 + 3600);
	assert_int_equal(v[0].added, T0);
	free(v);
	dnssec_ntas_free(s);

	/* A damaged file is an error naming the file. */
	FILE *f = fopen(path, "w");
	fputs("{\"version\": 1, \"ntas\": [{\"name\": 5}]}\n", f);
	fclose(f);
	s = dnssec_ntas_new();
	assert_int_equal(dnssec_ntas_load(s, path, T0, err, sizeof(err)), TDNS_EMALFORMED);
	unit_says("bad entry", err, "entry 1");
	f = fopen(path, "w");
	fputs("not json", f);
	fclose(f);
	assert_int_equal(dnssec_ntas_load(s, path, T0, err, sizeof(err)), TDNS_EMALFORMED);
	unit_says("not json", err, path);
	dnssec_ntas_free(s);
	unlink(path);
	rmdir(dir);
}

static void
test_nta_set_is_bounded(void **state)
{
	(void)state;
	struct dnssec_ntas *s = dnssec_ntas_new();
	char text[64];
	for (int i = 0; i < DNSSEC_NTA_MAX; i++) {
		snprintf(text, sizeof(text), "n%d.test.", i);
		assert_int_equal(dnssec_ntas_add(s, unit_name(text), 60, T0), TDNS_OK);
	}
	assert_int_equal(dnssec_ntas_add(s, unit_name("one-more.test."), 60, T0), TDNS_ERANGE);
	assert_true(dnssec_ntas_covers(s, unit_name("x.n4095.test."), T0));
	dnssec_ntas_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nta_covers_name_and_below_until_it_expires),
		cmocka_unit_test(test_nta_lifetime_bounds_renewal_and_removal),
		cmocka_unit_test(test_nta_configured_entries_are_permanent_and_replaced),
		cmocka_unit_test(test_nta_file_keeps_runtime_entries_until_they_expire),
		cmocka_unit_test(test_nta_set_is_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
