/* SPDX-License-Identifier: MIT */
/* Unit tests of src/block: list formats, malformed lines, subdomains, allow beats block. */
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

#include "block/block.h"
#include "core/core.h"
#include "dns/dns.h"

/* Collects the names one line gives, as text. */
struct names {
	char text[8][DNS_NAME_TEXT_MAX];
	bool allow[8];
	int n;
};

static void
collect(void *arg, const uint8_t *name, size_t len, bool allow)
{
	struct names *ns = arg;
	assert_int_equal(dns_name_len(name), len);
	assert_true(ns->n < 8);
	assert_true(dns_name_to_text(name, ns->text[ns->n], DNS_NAME_TEXT_MAX) > 0);
	ns->allow[ns->n++] = allow;
}

/* Counts names without keeping them (for lines with more than 8). */
static void
count_names(void *arg, const uint8_t *name, size_t len, bool allow)
{
	(void)name;
	(void)len;
	(void)allow;
	((struct names *)arg)->n++;
}

static int
parse(const char *line, struct names *ns, char *why)
{
	memset(ns, 0, sizeof(*ns));
	why[0] = '\0';
	return block_parse_line(line, strlen(line), collect, ns, why, 160);
}

static void
test_hosts_lines_give_every_name_after_the_address_in_lower_case(void **state)
{
	(void)state;
	struct names ns;
	char why[160];
	assert_int_equal(parse("0.0.0.0 Ads.Example.COM", &ns, why), 1);
	assert_string_equal(ns.text[0], "ads.example.com.");
	assert_false(ns.allow[0]);
	assert_int_equal(parse("127.0.0.1\tone.test two.test. # comment", &ns, why), 2);
	assert_string_equal(ns.text[0], "one.test.");
	assert_string_equal(ns.text[1], "two.test.");
	assert_int_equal(parse(":: ipv6.test", &ns, why), 1);
	/* More names than one pass keeps: parsed again, every one given. */
	struct names many;
	memset(&many, 0, sizeof(many));
	char line[512] = "0.0.0.0";
	for (int i = 0; i < 20; i++) {
		snprintf(line + strlen(line), sizeof(line) - strlen(line), " n%d.test", i);
	}
	assert_int_equal(block_parse_line(line, strlen(line), count_names, &many, why,
					  sizeof(why)), 20);
	assert_int_equal(many.n, 20);
	/* Hosts-file boilerplate blocks nothing. */
	assert_int_equal(parse("127.0.0.1 localhost", &ns, why), 0);
	assert_int_equal(parse("0.0.0.0 0.0.0.0", &ns, why), 0);
	assert_int_equal(parse("::1 ip6-localhost ip6-loopback", &ns, why), 0);
}

static void
test_plain_names_comments_and_blank_lines(void **state)
{
	(void)state;
	struct names ns;
	char why[160];
	assert_int_equal(parse("tracker.example.net", &ns, why), 1);
	assert_string_equal(ns.text[0], "tracker.example.net.");
	assert_int_equal(parse("  under_score.test.  \r", &ns, why), 1);
	assert_string_equal(ns.text[0], "under_score.test.");
	assert_int_equal(parse("", &ns, why), 0);
	assert_int_equal(parse("   # only a comment", &ns, why), 0);
	assert_int_equal(parse("! Adblock comment", &ns, why), 0);
	assert_int_equal(parse("[Adblock Plus 2.0]", &ns, why), 0);
}

static void
test_adblock_rules_and_exceptions(void **state)
{
	(void)state;
	struct names ns;
	char why[160];
	assert_int_equal(parse("||ads.example.org^", &ns, why), 1);
	assert_string_equal(ns.text[0], "ads.example.org.");
	assert_false(ns.allow[0]);
	assert_int_equal(parse("@@||good.example.org^", &ns, why), 1);
	assert_string_equal(ns.text[0], "good.example.org.");
	assert_true(ns.allow[0]);
}

static void
test_malformed_lines_are_refused_with_a_reason(void **state)
{
	(void)state;
	struct names ns;
	char why[160];
	const char *bad[] = {
		"||ads.example.org",              /* no caret */
		"||ads.example.org^$third-party", /* options */
		"||ads.example.org^/path",
		"bad name here",                  /* words, no address */
		"0.0.0.0 bad!name.test",
		"a..b.test",
		"0.0.0.0 good.test bad..test",    /* one bad name spoils the line */
		"x.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.test",
		"/regex/",
		"*.wildcard.test",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i], &ns, why), -1);
		assert_int_equal(ns.n, 0);
		assert_true(why[0] != '\0');
	}
	/* Longer than 255 octets in wire form. */
	char longname[400] = "";
	for (int i = 0; i < 30; i++) {
		strcat(longname, "abcdefghij.");
	}
	assert_int_equal(parse(longname, &ns, why), -1);
}

static struct block_table *
build(const char *blocks, const char *allows)
{
	struct block_build *b = block_build_new();
	assert_non_null(b);
	assert_int_equal(block_build_add_text(b, "block.txt", blocks, strlen(blocks), false),
			 TDNS_OK);
	if (allows != NULL) {
		assert_int_equal(block_build_add_text(b, "allow.txt", allows, strlen(allows), true),
				 TDNS_OK);
	}
	struct block_table *t = NULL;
	assert_int_equal(block_build_finish(b, &t), TDNS_OK);
	return t;
}

static enum block_verdict
lookup(const struct block_table *t, const char *text, struct block_hit *hit)
{
	uint8_t name[DNS_NAME_MAX];
	assert_true(dns_name_from_text(text, strlen(text), (const uint8_t *)"", name) > 0);
	return block_lookup(&t, 1, name, hit);
}

static void
test_blocked_names_block_their_subdomains_and_report_list_and_line(void **state)
{
	(void)state;
	struct block_table *t = build("# header\n0.0.0.0 ads.example.com\n||track.test^\n"
				      "not a line\nplain.test\nplain.test\n", NULL);
	struct block_hit hit;
	assert_int_equal(lookup(t, "ads.example.com.", &hit), BLOCK_BLOCKED);
	assert_string_equal(hit.list, "block.txt");
	assert_int_equal(hit.line, 2);
	assert_int_equal(hit.offset, 0);
	assert_int_equal(lookup(t, "X.Deep.ADS.example.com.", &hit), BLOCK_BLOCKED);
	assert_int_equal(hit.line, 2);
	assert_int_equal(hit.offset, 7); /* "ads.example.com" within the question */
	assert_int_equal(lookup(t, "a.track.test.", &hit), BLOCK_BLOCKED);
	assert_int_equal(hit.line, 3);
	/* The parent of a blocked name and unrelated names are not blocked. */
	assert_int_equal(lookup(t, "example.com.", NULL), BLOCK_NONE);
	assert_int_equal(lookup(t, "xads.example.com.", NULL), BLOCK_NONE);
	assert_int_equal(lookup(t, "test.", NULL), BLOCK_NONE);
	/* Duplicates count once, and the first line is the one reported. */
	assert_int_equal(block_table_count(t, false), 3);
	assert_int_equal(lookup(t, "plain.test.", &hit), BLOCK_BLOCKED);
	assert_int_equal(hit.line, 5);
	size_t n;
	const struct block_list_info *li = block_table_lists(t, &n);
	assert_int_equal(n, 1);
	assert_int_equal(li[0].names, 4);
	assert_int_equal(li[0].malformed, 1);
	block_table_unref(t);
}

static void
test_allow_entries_beat_blocks_at_any_level_and_in_any_table(void **state)
{
	(void)state;
	struct block_table *t = build("example.com\n||ads.test^\n@@||fine.ads.test^\n",
				      "www.example.com\n");
	struct block_hit hit;
	assert_int_equal(lookup(t, "example.com.", NULL), BLOCK_BLOCKED);
	assert_int_equal(lookup(t, "www.example.com.", &hit), BLOCK_ALLOWED);
	assert_string_equal(hit.list, "allow.txt");
	assert_int_equal(hit.line, 1);
	assert_int_equal(lookup(t, "img.www.example.com.", NULL), BLOCK_ALLOWED);
	assert_int_equal(lookup(t, "mail.example.com.", NULL), BLOCK_BLOCKED);
	assert_int_equal(lookup(t, "fine.ads.test.", NULL), BLOCK_ALLOWED);
	assert_int_equal(lookup(t, "x.fine.ads.test.", NULL), BLOCK_ALLOWED);
	assert_int_equal(lookup(t, "bad.ads.test.", NULL), BLOCK_BLOCKED);
	/* An allow entry in a second table beats a block in the first. */
	struct block_table *other = build("", "mail.example.com\n");
	const struct block_table *both[] = { t, NULL, other };
	uint8_t name[DNS_NAME_MAX];
	assert_true(dns_name_from_text("mail.example.com.", 17, NULL, name) > 0);
	assert_int_equal(block_lookup(both, 3, name, NULL), BLOCK_ALLOWED);
	/* A reference keeps the table alive after its builder's owner lets go. */
	block_table_ref(other);
	block_table_unref(other);
	assert_int_equal(block_table_count(other, true), 1);
	block_table_unref(other);
	block_table_unref(t);
}

static void
test_empty_table_and_unreadable_file(void **state)
{
	(void)state;
	struct block_build *b = block_build_new();
	assert_int_equal(block_build_add_file(b, "/nonexistent/tdns/list.txt", false), TDNS_OK);
	struct block_table *t = NULL;
	assert_int_equal(block_build_finish(b, &t), TDNS_OK);
	size_t n;
	const struct block_list_info *li = block_table_lists(t, &n);
	assert_int_equal(n, 1);
	assert_int_equal(li[0].status, TDNS_EIO);
	assert_int_equal(lookup(t, "anything.test.", NULL), BLOCK_NONE);
	block_table_unref(t);
}

static void
test_mode_parse(void **state)
{
	(void)state;
	struct block_policy p;
	char err[256];
	assert_int_equal(block_mode_parse("NXDOMAIN", &p, err, sizeof(err)), TDNS_OK);
	assert_int_equal(p.mode, BLOCK_MODE_NXDOMAIN);
	assert_int_equal(block_mode_parse("refused", &p, err, sizeof(err)), TDNS_OK);
	assert_int_equal(p.mode, BLOCK_MODE_REFUSED);
	assert_int_equal(block_mode_parse("address:192.0.2.1, 2001:db8::1,192.0.2.2", &p, err,
					  sizeof(err)), TDNS_OK);
	assert_int_equal(p.mode, BLOCK_MODE_ADDRESS);
	assert_int_equal(p.n4, 2);
	assert_int_equal(p.n6, 1);
	assert_int_equal(block_mode_parse("address:", &p, err, sizeof(err)), TDNS_ECONFIG);
	assert_int_equal(block_mode_parse("drop", &p, err, sizeof(err)), TDNS_ECONFIG);
	assert_non_null(strstr(err, "nxdomain"));
}

static void
test_custom_names_are_persisted_and_loaded(void **state)
{
	(void)state;
	char dir[] = "/tmp/tdns-test-block.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char why[256];
	assert_int_equal(block_custom_edit(dir, false, true, "Ads.Custom.test.", why, sizeof(why)),
			 TDNS_OK);
	assert_int_equal(block_custom_edit(dir, false, true, "ads.custom.test", why, sizeof(why)),
			 TDNS_EEXIST);
	assert_int_equal(block_custom_edit(dir, false, true, "two.test", why, sizeof(why)), TDNS_OK);
	assert_int_equal(block_custom_edit(dir, true, true, "ok.ads.custom.test", why, sizeof(why)),
			 TDNS_OK);
	assert_int_equal(block_custom_edit(dir, false, true, "bad name", why, sizeof(why)),
			 TDNS_EINVAL);
	assert_int_equal(block_custom_edit(dir, false, false, "none.test", why, sizeof(why)),
			 TDNS_ENOENT);
	char **names = block_custom_names(dir, false);
	assert_string_equal(names[0], "ads.custom.test");
	assert_string_equal(names[1], "two.test");
	assert_null(names[2]);
	block_custom_names_free(names);
	struct block_table *t = NULL;
	assert_int_equal(block_custom_load(dir, &t), TDNS_OK);
	struct block_hit hit;
	assert_int_equal(lookup(t, "x.two.test.", &hit), BLOCK_BLOCKED);
	assert_string_equal(hit.list, "custom block");
	assert_int_equal(hit.line, 2);
	assert_int_equal(lookup(t, "ok.ads.custom.test.", NULL), BLOCK_ALLOWED);
	block_table_unref(t);
	assert_int_equal(block_custom_edit(dir, false, false, "ads.custom.test", why, sizeof(why)),
			 TDNS_OK);
	names = block_custom_names(dir, false);
	assert_string_equal(names[0], "two.test");
	assert_null(names[1]);
	block_custom_names_free(names);
	for (int allow = 0; allow <= 1; allow++) {
		char *p = block_custom_path(dir, allow);
		unlink(p);
		free(p);
	}
	rmdir(dir);
}

static void
test_store_keeps_a_copy_and_its_metadata_per_url(void **state)
{
	(void)state;
	char dir[] = "/tmp/tdns-test-store-XXXXXX";
	assert_non_null(mkdtemp(dir));
	const char *url = "https://example.net/hosts.txt";
	char *p1 = block_store_path(dir, url, ".list");
	char *p2 = block_store_path(dir, "https://example.net/other.txt", ".list");
	/* STATE/blocking/ and 32 hex digits: one file per URL. */
	assert_int_equal(strlen(p1), strlen(dir) + strlen("/blocking/") + 32 + 5);
	assert_string_not_equal(p1, p2);
	struct block_meta m;
	assert_int_equal(block_store_load_meta(dir, url, &m), TDNS_ENOENT);
	char err[256];
	struct block_meta w = { .url = (char *)url, .etag = "\"v1\"",
				.last_modified = "Tue, 01 Dec 2026 10:00:00 GMT", .fetched = 1234 };
	assert_int_equal(block_store_save(dir, url, "ads.test\n", 9, &w, err, sizeof(err)),
			 TDNS_OK);
	assert_int_equal(block_store_load_meta(dir, url, &m), TDNS_OK);
	assert_string_equal(m.url, url);
	assert_string_equal(m.etag, "\"v1\"");
	assert_string_equal(m.last_modified, "Tue, 01 Dec 2026 10:00:00 GMT");
	assert_int_equal(m.fetched, 1234);
	block_meta_clear(&m);
	/* A 304 keeps the body and rewrites the metadata; a value with a line break is left out. */
	w.fetched = 5678;
	w.etag = "bad\nvalue";
	assert_int_equal(block_store_save(dir, url, NULL, 0, &w, err, sizeof(err)), TDNS_OK);
	assert_int_equal(block_store_load_meta(dir, url, &m), TDNS_OK);
	assert_null(m.etag);
	assert_int_equal(m.fetched, 5678);
	block_meta_clear(&m);
	/* The copy is read as the URL's list. */
	struct block_build *b = block_build_new();
	assert_int_equal(block_build_add_named_file(b, url, p1, false), TDNS_OK);
	struct block_table *t = NULL;
	assert_int_equal(block_build_finish(b, &t), TDNS_OK);
	struct block_hit hit;
	assert_int_equal(lookup(t, "x.ads.test.", &hit), BLOCK_BLOCKED);
	assert_string_equal(hit.list, url);
	block_table_unref(t);
	/* Another URL's metadata (a hash collision) is no copy of this one. */
	assert_int_equal(block_store_load_meta(dir, "https://example.net/other.txt", &m),
			 TDNS_ENOENT);
	char *meta = block_store_path(dir, url, ".meta");
	unlink(meta);
	unlink(p1);
	free(meta);
	free(p1);
	free(p2);
	char sub[300];
	snprintf(sub, sizeof(sub), "%s/blocking", dir);
	rmdir(sub);
	rmdir(dir);
}

static void
test_meta_parse_refuses_broken_lines_and_ignores_unknown_keys(void **state)
{
	(void)state;
	struct block_meta m;
	const char ok[] = "url http://a.test/x\nfuture-key 1\netag W/\"x y\"\nfetched 42\n";
	assert_int_equal(block_meta_parse(ok, sizeof(ok) - 1, &m), TDNS_OK);
	assert_string_equal(m.url, "http://a.test/x");
	assert_string_equal(m.etag, "W/\"x y\"");
	assert_null(m.last_modified);
	assert_int_equal(m.fetched, 42);
	block_meta_clear(&m);
	static const char *const bad[] = { "novalue\n", " leading\n", "fetched x\n",
					   "fetched -1\n", "fetched 99999999999999999999\n" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(block_meta_parse(bad[i], strlen(bad[i]), &m), TDNS_EINVAL);
		block_meta_clear(&m);
	}
	assert_true(block_source_is_url("HTTPS://x.test/"));
	assert_true(block_source_is_url("http://x.test/"));
	assert_false(block_source_is_url("/etc/hosts"));
	assert_false(block_source_is_url("ftp://x.test/"));
}

int
main(void)
{
	tdns_log_init(true, TDNS_LOG_ERR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hosts_lines_give_every_name_after_the_address_in_lower_case),
		cmocka_unit_test(test_plain_names_comments_and_blank_lines),
		cmocka_unit_test(test_adblock_rules_and_exceptions),
		cmocka_unit_test(test_malformed_lines_are_refused_with_a_reason),
		cmocka_unit_test(test_blocked_names_block_their_subdomains_and_report_list_and_line),
		cmocka_unit_test(test_allow_entries_beat_blocks_at_any_level_and_in_any_table),
		cmocka_unit_test(test_empty_table_and_unreadable_file),
		cmocka_unit_test(test_mode_parse),
		cmocka_unit_test(test_custom_names_are_persisted_and_loaded),
		cmocka_unit_test(test_store_keeps_a_copy_and_its_metadata_per_url),
		cmocka_unit_test(test_meta_parse_refuses_broken_lines_and_ignores_unknown_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
