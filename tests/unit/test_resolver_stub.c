/* SPDX-License-Identifier: MIT */
/* Unit tests of the local root zone's freshness rule and of an empty stub zone table. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <time.h>

#include "cfg/cfg.h"
#include "resolver/iter_int.h"

/* A root zone whose SOA expire is 100 s. */
static struct zone *
root_zone(void)
{
	static const char text[] = ". 3600 IN SOA a.root.test. hostmaster.test. 1 10 5 100 300\n"
				   ". 3600 IN NS a.root.test.\n"
				   "a.root.test. 3600 IN A 192.0.2.1\n";
	static const uint8_t root[1] = { 0 };
	struct zone *z = NULL;
	char err[256];
	assert_int_equal(zone_load_mem(root, text, strlen(text), "root.zone", &z, err,
				       sizeof(err)), TDNS_OK);
	return z;
}

static void
test_loaded_root_zone_records_its_load_time(void **state)
{
	(void)state;
	time_t before = time(NULL);
	struct zone *z = root_zone();
	assert_true(z->loaded >= before && z->loaded <= time(NULL));
	zone_free(z);
}

static void
test_local_root_is_fresh_until_its_soa_expire_has_passed_since_loading(void **state)
{
	(void)state;
	struct zone *z = root_zone();
	z->loaded = 1000000;
	assert_true(iter_local_root_fresh(z, 1000000));
	assert_true(iter_local_root_fresh(z, 1000100));
	assert_false(iter_local_root_fresh(z, 1000101));
	/* A clock set back proves no age. */
	assert_true(iter_local_root_fresh(z, 999000));
	/* Unknown load time (changed at run time): fresh. */
	z->loaded = 0;
	assert_true(iter_local_root_fresh(z, 1000101));
	zone_free(z);
}

static void
test_empty_stub_table_covers_no_name(void **state)
{
	(void)state;
	uint8_t apex[DNS_NAME_MAX];
	struct iter_stub_ns ns[ITER_MAX_NS];
	static const uint8_t name[] = { 3, 'w', 'w', 'w', 4, 't', 'e', 's', 't', 0 };
	assert_int_equal(iter_stub_lookup(NULL, name, 0, apex, ns), 0);
	struct resolver_stubs *s = resolver_stubs_new();
	assert_non_null(s);
	assert_int_equal(iter_stub_lookup(s, name, 0, apex, ns), 0);
	/* Configured but never fetched (no event base runs here): still nothing. */
	struct cfg *c = NULL;
	char err[256];
	assert_int_equal(cfg_load(NULL, &c, err, sizeof(err)), TDNS_OK);
	resolver_stubs_configure(s, c, NULL);
	assert_int_equal(iter_stub_lookup(s, name, 0, apex, ns), 0);
	cfg_free(c);
	resolver_stubs_free(s);
}

int
main(void)
{
	cfg_use_schema(&cfg_schema);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loaded_root_zone_records_its_load_time),
		cmocka_unit_test(
			test_local_root_is_fresh_until_its_soa_expire_has_passed_since_loading),
		cmocka_unit_test(test_empty_stub_table_covers_no_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
