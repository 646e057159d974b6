/* SPDX-License-Identifier: MIT */
/* Unit tests for the zone catalog (src/zone/catalog.c): persistence, atomic updates, errors. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zone/zone.h"

struct dir {
	char path[64];
	char file[96];
	struct zone_catalog_entry e; /* the test's scratch entry, filled by put() */
	struct zone_catalog *c;      /* the catalog as loaded last, by setup or reload() */
};

/* Loads d's catalog again into d->c (freeing the one before); fails the test if it fails. */
static struct zone_catalog *
reload(struct dir *d)
{
	char err[512];
	zone_catalog_free(d->c);
	d->c = NULL;
	if (zone_catalog_load(d->path, &d->c, err, sizeof(err)) != TDNS_OK) {
		fail_msg("load: %s", err);
	}
	return d->c;
}

static int
setup(void **state)
{
	struct dir *d = calloc(1, sizeof(*d));
	snprintf(d->path, sizeof(d->path), "/tmp/tdns-test-catalog-XXXXXX");
	assert_non_null(mkdtemp(d->path));
	snprintf(d->file, sizeof(d->file), "%s/catalog.json", d->path);
	reload(d);
	*state = d;
	return 0;
}

static int
teardown(void **state)
{
	struct dir *d = *state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->path);
	assert_int_equal(system(cmd), 0);
	zone_catalog_free(d->c);
	free(d);
	return 0;
}

static void
entry(struct zone_catalog_entry *e, const char *name, const char *file, bool runtime,
      bool disabled)
{
	memset(e, 0, sizeof(*e));
	assert_true(dns_name_from_text(name, strlen(name), NULL, e->apex) > 0);
	e->name = (char *)name;
	e->file = (char *)file;
	e->runtime = runtime;
	e->disabled = disabled;
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Puts the entry that entry() makes in d->e into d->c; returns zone_catalog_put's status. */
static int
put(struct dir *d, const char *name, const char *file, bool runtime, bool disabled)
{
	entry(&d->e, name, file, runtime, disabled);
	return zone_catalog_put(d->c, &d->e);
}

/* Writes text as d's catalog file: loading it fails as malformed, with why in the message. */
static void
load_fails(const struct dir *d, const char *text, const char *why)
{
	struct zone_catalog *c = NULL;
	char err[512];
	write_file(d->file, text);
	assert_int_equal(zone_catalog_load(d->path, &c, err, sizeof(err)), TDNS_EMALFORMED);
	assert_null(c);
	assert_non_null(strstr(err, why));
}

static void
test_missing_file_is_an_empty_catalog(void **state)
{
	struct dir *d = *state;
	assert_int_equal(zone_catalog_count(d->c), 0);
	assert_null(zone_catalog_get(d->c, 0));
	assert_int_equal(access(d->file, F_OK), -1);
	zone_catalog_free(NULL);
}

static void
test_put_persists_entries_that_a_new_load_reads_back(void **state)
{
	struct dir *d = *state;
	assert_int_equal(put(d, "example.org.", "/srv/example.org.zone", true, false), TDNS_OK);
	assert_int_equal(zone_catalog_count(d->c), 1);
	assert_int_equal(put(d, "example.com.", "/etc/example.com.zone", false, true), TDNS_OK);
	assert_int_equal(zone_catalog_count(d->c), 2);
	/* Only the new file is left: the temporary one was renamed. */
	assert_int_equal(access(d->file, F_OK), 0);
	char tmp[128];
	snprintf(tmp, sizeof(tmp), "%s.tmp", d->file);
	assert_int_equal(access(tmp, F_OK), -1);

	reload(d);
	assert_int_equal(zone_catalog_count(d->c), 2);
	uint8_t apex[DNS_NAME_MAX];
	assert_true(dns_name_from_text("EXAMPLE.ORG.", 12, NULL, apex) > 0);
	const struct zone_catalog_entry *got = zone_catalog_find(d->c, apex);
	assert_non_null(got);
	assert_string_equal(got->name, "example.org.");
	assert_string_equal(got->type, "primary");
	assert_string_equal(got->file, "/srv/example.org.zone");
	assert_true(got->runtime);
	assert_false(got->disabled);
	got = zone_catalog_get(d->c, 1);
	assert_string_equal(got->name, "example.com.");
	assert_false(got->runtime);
	assert_true(got->disabled);
}

static void
test_put_replaces_and_remove_deletes_an_entry(void **state)
{
	struct dir *d = *state;
	assert_int_equal(put(d, "a.test.", "/x/a.zone", true, false), TDNS_OK);
	assert_int_equal(put(d, "b.test.", "/x/b.zone", true, false), TDNS_OK);
	assert_int_equal(put(d, "A.test.", "/x/a.zone", true, true), TDNS_OK);
	assert_int_equal(zone_catalog_count(d->c), 2);
	assert_true(zone_catalog_get(d->c, 0)->disabled);
	assert_int_equal(zone_catalog_remove(d->c, d->e.apex), TDNS_OK);
	assert_int_equal(zone_catalog_remove(d->c, d->e.apex), TDNS_ENOENT);
	assert_int_equal(zone_catalog_count(d->c), 1);
	assert_string_equal(zone_catalog_get(d->c, 0)->name, "b.test.");
	reload(d);
	assert_int_equal(zone_catalog_count(d->c), 1);
	assert_string_equal(zone_catalog_get(d->c, 0)->name, "b.test.");
	assert_null(zone_catalog_find(d->c, d->e.apex));
}

static void
test_failed_write_changes_neither_file_nor_memory(void **state)
{
	struct dir *d = *state;
	assert_int_equal(put(d, "a.test.", "/x/a.zone", true, false), TDNS_OK);
	/* A directory where the temporary file goes makes the write fail (also as root). */
	char tmp[128];
	snprintf(tmp, sizeof(tmp), "%s.tmp", d->file);
	assert_int_equal(mkdir(tmp, 0700), 0);
	assert_int_equal(put(d, "b.test.", "/x/b.zone", true, false), TDNS_EIO);
	entry(&d->e, "a.test.", NULL, true, false);
	assert_int_equal(zone_catalog_remove(d->c, d->e.apex), TDNS_EIO);
	assert_int_equal(zone_catalog_count(d->c), 1);
	assert_string_equal(zone_catalog_get(d->c, 0)->name, "a.test.");
	assert_int_equal(rmdir(tmp), 0);
	reload(d);
	assert_int_equal(zone_catalog_count(d->c), 1);
}

static void
test_corrupt_file_fails_with_path_line_and_reason(void **state)
{
	struct dir *d = *state;
	struct zone_catalog *c = NULL;
	char err[512];
	write_file(d->file, "{\"version\": 1,\n \"zones\": [\n{\"name\": \"a.test.\",,}]}\n");
	assert_int_equal(zone_catalog_load(d->path, &c, err, sizeof(err)), TDNS_EMALFORMED);
	assert_null(c);
	char want[128];
	snprintf(want, sizeof(want), "%s:3: not valid JSON", d->file);
	assert_true(strncmp(err, want, strlen(want)) == 0);

	load_fails(d, "{\"version\": 1, \"zones\": [{\"name\": \"a.test.\", \"runtime\": 1}]}",
		   "zone 0: missing or wrong \"runtime\"");
	load_fails(d, "{\"version\": 2, \"zones\": []}", "unsupported version 2");
	load_fails(d, "[]", "");
	load_fails(d, "{\"version\": 1, \"zones\": [{\"name\": \"a.test\"}, "
		   "{\"name\": \"A.TEST.\"}]}", "listed twice");
	load_fails(d, "{\"version\": 1, \"zones\": [{\"name\": \"a..b\"}]}", "bad name 'a..b'");
}

static void
test_unreadable_catalog_is_an_io_error(void **state)
{
	struct dir *d = *state;
	struct zone_catalog *c = NULL;
	char err[512];
	/* A directory in place of the file cannot be read as one. */
	assert_int_equal(mkdir(d->file, 0700), 0);
	assert_int_not_equal(zone_catalog_load(d->path, &c, err, sizeof(err)), TDNS_OK);
	assert_null(c);
	assert_non_null(strstr(err, d->file));
	assert_int_equal(rmdir(d->file), 0);
}

/* Every test gets a fresh directory. */
#define TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_missing_file_is_an_empty_catalog),
		TEST(test_put_persists_entries_that_a_new_load_reads_back),
		TEST(test_put_replaces_and_remove_deletes_an_entry),
		TEST(test_failed_write_changes_neither_file_nor_memory),
		TEST(test_corrupt_file_fails_with_path_line_and_reason),
		TEST(test_unreadable_catalog_is_an_io_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
