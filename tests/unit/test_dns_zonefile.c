/* SPDX-License-Identifier: MIT */
/* Unit tests for src/dns/zonefile.c: RFC 1035 §5 syntax, directives, $GENERATE, error places. */
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

#include "dns/dns.h"
#include "unit.h"

/* ---- helpers ---- */

struct rec {
	uint8_t owner[DNS_NAME_MAX];
	uint16_t type;
	uint16_t rclass;
	uint32_t ttl;
	uint8_t rd[1024];
	size_t rdlen;
	char file[256];
	unsigned line;
};

struct coll {
	struct rec *r;
	size_t n;      /* RRs seen */
	size_t cap;    /* RRs kept */
	size_t stop_at; /* return stop_rc for this RR (1-based); 0 never */
	int stop_rc;
};

static int
collect(void *ctx, const struct dns_zf_rr *rr)
{
	struct coll *c = ctx;
	c->n++;
	if (c->stop_at != 0 && c->n == c->stop_at) {
		return c->stop_rc;
	}
	if (c->n > c->cap) {
		return TDNS_OK;
	}
	struct rec *r = &c->r[c->n - 1];
	memcpy(r->owner, rr->owner, dns_name_len(rr->owner));
	r->type = rr->type;
	r->rclass = rr->rclass;
	r->ttl = rr->ttl;
	assert_true(rr->rdlen <= sizeof(r->rd));
	memcpy(r->rd, rr->rdata, rr->rdlen);
	r->rdlen = rr->rdlen;
	snprintf(r->file, sizeof(r->file), "%s", rr->file);
	r->line = rr->line;
	return TDNS_OK;
}

static struct coll *
coll_new(void)
{
	struct coll *c = calloc(1, sizeof(*c));
	assert_non_null(c);
	c->cap = 256;
	c->r = calloc(c->cap, sizeof(*c->r));
	assert_non_null(c->r);
	return c;
}

static void
coll_free(struct coll *c)
{
	free(c->r);
	free(c);
}

#define ORIGIN unit_name("example.com.")

/* Reads text as "t.zone" with origin example.com. and default TTL 86400. */
static int
load(const char *text, struct coll *c, struct dns_zf_error *err)
{
	return dns_zonefile_read_mem(text, strlen(text), "t.zone", ORIGIN, 86400, collect, c, err);
}

static void
load_ok(const char *text, struct coll *c)
{
	struct dns_zf_error err;
	int rc = load(text, c, &err);
	if (rc != TDNS_OK) {
		fail_msg("unexpected error %d: %s", rc, err.msg);
	}
}

/* Loads text, expects TDNS_EZONEFILE and exactly the message msg ("t.zone:LINE: ..."). */
static void
load_err(const char *text, unsigned line, const char *msg)
{
	struct coll *c = coll_new();
	struct dns_zf_error err;
	int rc = load(text, c, &err);
	assert_int_equal(rc, TDNS_EZONEFILE);
	assert_string_equal(err.msg, msg);
	assert_string_equal(err.file, "t.zone");
	assert_int_equal(err.line, line);
	coll_free(c);
}

static void
check_rr(const struct coll *c, size_t i, const char *owner, uint16_t type, uint32_t ttl,
	 const void *rd, size_t rdlen)
{
	assert_true(i < c->n);
	const struct rec *r = &c->r[i];
	uint8_t o[DNS_NAME_MAX]; /* not unit_name(): a table of want_rr may hold its buffers */
	assert_true(dns_name_from_text(owner, strlen(owner), NULL, o) > 0);
	if (!dns_name_eq(r->owner, o) || dns_name_len(r->owner) != dns_name_len(o)) {
		char t[DNS_NAME_TEXT_MAX];
		dns_name_to_text(r->owner, t, sizeof(t));
		fail_msg("RR %zu: owner %s, expected %s", i, t, owner);
	}
	assert_memory_equal(r->owner, o, dns_name_len(o)); /* case kept as written */
	assert_int_equal(r->type, type);
	assert_int_equal(r->rclass, DNS_CLASS_IN);
	assert_int_equal(r->ttl, ttl);
	assert_int_equal(r->rdlen, rdlen);
	assert_memory_equal(r->rd, rd, rdlen);
}

/* One record that a zone text must give: owner, type, TTL and rdata (class IN). */
struct want_rr {
	const char *owner;
	uint16_t type;
	uint32_t ttl;
	const void *rd;
	size_t rdlen;
};

/* Fails unless c holds exactly the n records of w, in that order. */
static void
check_rrs(const struct coll *c, const struct want_rr *w, size_t n)
{
	assert_int_equal(c->n, n);
	for (size_t i = 0; i < n; i++) {
		check_rr(c, i, w[i].owner, w[i].type, w[i].ttl, w[i].rd, w[i].rdlen);
	}
}

/* Loads text as load_ok() does and checks that it gives the n records of w; the caller frees. */
static struct coll *
loaded(const char *text, const struct want_rr *w, size_t n)
{
	struct coll *c = coll_new();
	load_ok(text, c);
	check_rrs(c, w, n);
	return c;
}

#define LOADED(text, w) loaded((text), (w), sizeof(w) / sizeof((w)[0]))

/*
 * Reads the zone file name in directory dir with default TTL 3600 into a new collection and
 * checks that it gives the n records of w; the caller frees.
 */
static struct coll *
read_ok(const char *dir, const char *name, const struct want_rr *w, size_t n)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	struct coll *c = coll_new();
	struct dns_zf_error err;
	int rc = dns_zonefile_read(path, ORIGIN, 3600, collect, c, &err);
	if (rc != TDNS_OK) {
		fail_msg("%s", err.msg);
	}
	check_rrs(c, w, n);
	return c;
}

/*
 * Reads the zone file name in directory dir, expects the status rc and returns how many records
 * came before the error, whose message and place are left in err.
 */
static size_t
read_fails(const char *dir, const char *name, int rc, struct dns_zf_error *err)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	struct coll *c = coll_new();
	assert_int_equal(dns_zonefile_read(path, ORIGIN, 3600, collect, c, err), rc);
	size_t n = c->n;
	coll_free(c);
	return n;
}

static const uint8_t A1[] = { 192, 0, 2, 1 };
static const uint8_t A2[] = { 192, 0, 2, 2 };

/* ---- dns_ttl_parse ---- */

static uint32_t
ttl_ok(const char *s)
{
	uint32_t v = 0xdeadbeef;
	assert_int_equal(dns_ttl_parse(s, strlen(s), &v), TDNS_OK);
	return v;
}

static void
test_ttl_parse_accepts_seconds_and_units_in_any_case(void **state)
{
	(void)state;
	assert_int_equal(ttl_ok("0"), 0);
	assert_int_equal(ttl_ok("3600"), 3600);
	assert_int_equal(ttl_ok("1h"), 3600);
	assert_int_equal(ttl_ok("1H"), 3600);
	assert_int_equal(ttl_ok("1w2d3h4m5s"), 604800 + 2 * 86400 + 3 * 3600 + 4 * 60 + 5);
	assert_int_equal(ttl_ok("1W2D3H4M5S"), 604800 + 2 * 86400 + 3 * 3600 + 4 * 60 + 5);
	assert_int_equal(ttl_ok("90m"), 5400);
	assert_int_equal(ttl_ok("2147483647"), 2147483647u);
	assert_int_equal(ttl_ok("2147483647s"), 2147483647u);
}

static void
test_ttl_parse_rejects_garbage_and_values_above_2_31_minus_1(void **state)
{
	(void)state;
	const char *bad[] = { "", "1x", "h", "1h30", "-1", "1.5", " 1", "2147483648",
			      "3551w", "99999999999999999999", "2147483647s1s" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint32_t v = 7;
		if (dns_ttl_parse(bad[i], strlen(bad[i]), &v) != TDNS_EBADTEXT) {
			fail_msg("'%s' accepted", bad[i]);
		}
		assert_int_equal(v, 7);
	}
}

/* ---- entries ---- */

static void
test_reads_soa_and_address_records_with_rdata(void **state)
{
	(void)state;
	const uint8_t soa[] = { 3, 'n', 's', '1', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o',
				'm', 0, 10, 'h', 'o', 's', 't', 'm', 'a', 's', 't', 'e', 'r', 7,
				'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
				0x78, 0xa3, 0xf1, 0x75, 0, 0, 0x1c, 0x20, 0, 0, 0x0e, 0x10,
				0, 0x12, 0x75, 0, 0, 0, 0x01, 0x2c };
	const uint8_t aaaa[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	const struct want_rr w[] = {
		{ "example.com.", DNS_TYPE_SOA, 3600, soa, sizeof(soa) },
		{ "www.example.com.", DNS_TYPE_A, 300, A1, 4 },
		{ "www.example.com.", DNS_TYPE_AAAA, 300, aaaa, 16 },
	};
	static const char text[] =
		"@ 3600 IN SOA ns1 hostmaster.example.com. 2024010101 7200 3600 1209600 300\n"
		"www 300 IN A 192.0.2.1\n"
		"www 300 IN AAAA 2001:db8::1\n";
	struct coll *c = LOADED(text, w);
	assert_string_equal(c->r[2].file, "t.zone");
	assert_int_equal(c->r[0].line, 1);
	assert_int_equal(c->r[2].line, 3);
	coll_free(c);
}

static void
test_ttl_and_class_in_either_order_or_omitted(void **state)
{
	(void)state;
	const struct want_rr w[] = {
		{ "a.example.com.", DNS_TYPE_A, 300, A1, 4 },
		{ "b.example.com.", DNS_TYPE_A, 301, A1, 4 },
		{ "c.example.com.", DNS_TYPE_A, 302, A1, 4 },
		{ "d.example.com.", DNS_TYPE_A, 303, A1, 4 },
		/* no TTL and no $TTL: the last explicit TTL */
		{ "e.example.com.", DNS_TYPE_A, 303, A1, 4 },
		{ "f.example.com.", DNS_TYPE_A, 3600, A1, 4 },
	};
	struct coll *c = LOADED("a 300 IN A 192.0.2.1\n"
				"b IN 301 A 192.0.2.1\n"
				"c in 302 a 192.0.2.1\n"
				"d 303 A 192.0.2.1\n"
				"e IN A 192.0.2.1\n"
				"f CLASS1 1h A 192.0.2.1\n", w);
	coll_free(c);
}

static void
test_omitted_ttl_uses_default_then_last_explicit_then_dollar_ttl(void **state)
{
	(void)state;
	struct coll *c = coll_new();
	load_ok("a A 192.0.2.1\n"          /* nothing yet: the default_ttl argument */
		"b 60 A 192.0.2.1\n"
		"c A 192.0.2.1\n"          /* last explicit */
		"$TTL 2h\n"
		"d A 192.0.2.1\n"          /* $TTL wins over the last explicit TTL */
		"e 10 A 192.0.2.1\n"
		"f A 192.0.2.1\n"          /* RFC 2308 §4: $TTL for every RR without one */
		"$ttl 7\n"
		"g A 192.0.2.1\n", c);
	assert_int_equal(c->n, 7);
	const uint32_t want[] = { 86400, 60, 60, 7200, 10, 7200, 7 };
	for (size_t i = 0; i < 7; i++) {
		assert_int_equal(c->r[i].ttl, want[i]);
	}
	coll_free(c);
}

static void
test_blank_owner_repeats_previous_owner(void **state)
{
	(void)state;
	const uint8_t mx[] = { 0, 10, 4, 'm', 'a', 'i', 'l', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e',
			       3, 'c', 'o', 'm', 0 };
	const struct want_rr w[] = {
		{ "www.example.com.", DNS_TYPE_A, 300, A1, 4 },
		{ "www.example.com.", DNS_TYPE_A, 300, A2, 4 },
		{ "www.example.com.", DNS_TYPE_MX, 300, mx, sizeof(mx) },
		{ "www.example.com.", DNS_TYPE_TXT, 300, "\001x", 2 },
	};
	struct coll *c = LOADED("www 300 A 192.0.2.1\n"
				"\t300 A 192.0.2.2\n"
				"    MX 10 mail\n"
				"\n"
				"; a comment line keeps the owner too\n"
				"  TXT \"x\"\n", w);
	assert_int_equal(c->r[3].line, 6);
	coll_free(c);
}

static void
test_only_a_token_in_column_zero_is_the_owner(void **state)
{
	(void)state;
	const struct want_rr w[] = {
		{ "3600.example.com.", DNS_TYPE_A, 86400, A1, 4 },
		{ "3600.example.com.", DNS_TYPE_A, 60, A2, 4 },
	};
	/* A number in column 0 is an owner, not a TTL; after a blank it is a TTL. */
	struct coll *c = LOADED("3600 A 192.0.2.1\n"
				" 60 A 192.0.2.2\n", w);
	coll_free(c);
	/* With leading blanks the first token is read as TTL, class or type. */
	load_err("a 1 A 192.0.2.1\n b IN A 192.0.2.1\n", 2, "t.zone:2: unknown RR type 'b'");
}

static void
test_at_sign_relative_and_absolute_names(void **state)
{
	(void)state;
	const struct want_rr w[] = {
		{ "example.com.", DNS_TYPE_NS, 1, unit_name("ns1.example.com."), 17 },
		{ "example.com.", DNS_TYPE_NS, 1, unit_name("ns2.example.net."), 17 },
		{ "Sub.Dom.example.com.", DNS_TYPE_CNAME, 1, unit_name("example.com."), 13 },
		{ "abs.example.org.", DNS_TYPE_A, 1, A1, 4 },
	};
	struct coll *c = LOADED("@ 1 NS ns1\n"
				"@ 1 NS ns2.example.net.\n"
				"Sub.Dom 1 CNAME @\n"
				"abs.example.org. 1 A 192.0.2.1\n", w);
	coll_free(c);
}

static void
test_parentheses_join_lines_and_comments_inside_are_ignored(void **state)
{
	(void)state;
	struct coll *c = coll_new();
	load_ok("$TTL 1h\n"
		"@ IN SOA ns1.example.com. ( ; primary\n"
		"\thostmaster.example.com. ; mailbox\n"
		"\t1 ; serial\n"
		"\t2 3\n"
		"\t4\n"
		"\t5 )\n"
		"www (A\n"
		" 192.0.2.1)\n"
		"after A 192.0.2.2\n", c);
	assert_int_equal(c->n, 3);
	assert_int_equal(c->r[0].type, DNS_TYPE_SOA);
	assert_int_equal(c->r[0].line, 2);
	assert_int_equal(c->r[0].rdlen, 17 + 24 + 20);
	const uint8_t tail[] = { 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5 };
	assert_memory_equal(c->r[0].rd + 41, tail, 20);
	check_rr(c, 1, "www.example.com.", DNS_TYPE_A, 3600, A1, 4);
	assert_int_equal(c->r[1].line, 8);
	check_rr(c, 2, "after.example.com.", DNS_TYPE_A, 3600, A2, 4);
	assert_int_equal(c->r[2].line, 10);
	coll_free(c);
}

static void
test_quoted_strings_keep_semicolons_spaces_and_escapes(void **state)
{
	(void)state;
	const uint8_t txt[] = { 5, 'a', ';', 'b', ' ', 'c', 3, 'q', '"', 'q' };
	const uint8_t txt2[] = { 3, '(', 'x', ')', 5, 'p', 'l', 'a', 'i', 'n' };
	const struct want_rr w[] = {
		{ "t.example.com.", DNS_TYPE_TXT, 1, txt, sizeof(txt) },
		{ "u.example.com.", DNS_TYPE_TXT, 1, txt2, sizeof(txt2) },
	};
	struct coll *c = LOADED("t 1 TXT \"a;b c\" \"q\\\"q\" ; comment \"not a string\n"
				"u 1 TXT \"(x)\" plain\n", w);
	coll_free(c);
}

static void
test_backslash_escaped_space_stays_in_token(void **state)
{
	(void)state;
	struct coll *c = coll_new();
	load_ok("a\\ b 1 A 192.0.2.1\n"
		"semi\\;colon 1 TXT x\\ y\n", c);
	assert_int_equal(c->n, 2);
	const uint8_t o[] = { 3, 'a', ' ', 'b', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o',
			      'm', 0 };
	assert_memory_equal(c->r[0].owner, o, sizeof(o));
	const uint8_t o2[] = { 10, 's', 'e', 'm', 'i', ';', 'c', 'o', 'l', 'o', 'n' };
	assert_memory_equal(c->r[1].owner, o2, sizeof(o2));
	check_rr(c, 1, "semi\\;colon.example.com.", DNS_TYPE_TXT, 1, "\003x y", 4);
	coll_free(c);
}

static void
test_crlf_line_endings_and_missing_final_newline(void **state)
{
	(void)state;
	const struct want_rr w[] = {
		{ "a.example.com.", DNS_TYPE_A, 1, A1, 4 },
		{ "b.example.com.", DNS_TYPE_A, 1, A2, 4 },
	};
	struct coll *c = LOADED("a 1 A 192.0.2.1\r\n\r\nb 1 A 192.0.2.2", w);
	assert_int_equal(c->r[1].line, 3);
	coll_free(c);
}

static void
test_type_nnn_and_rfc3597_rdata(void **state)
{
	(void)state;
	const uint8_t raw[] = { 0xab, 0xcd, 0xef };
	const struct want_rr w[] = {
		{ "x.example.com.", 65300, 1, raw, 3 },
		{ "y.example.com.", DNS_TYPE_A, 1, A1, 4 },
	};
	struct coll *c = LOADED("x 1 TYPE65300 \\# 3 abcdef\n"
				"y 1 type1 \\# 4 C0000201\n", w);
	coll_free(c);
}

/* ---- directives ---- */

static void
test_origin_directive_is_relative_to_current_origin(void **state)
{
	(void)state;
	const struct want_rr w[] = {
		{ "www.sub.example.com.", DNS_TYPE_A, 1, A1, 4 },
		{ "deeper.sub.example.com.", DNS_TYPE_A, 1, A2, 4 },
		{ "x.example.net.", DNS_TYPE_CNAME, 1, unit_name("y.example.net."), 15 },
	};
	struct coll *c = LOADED("$ORIGIN sub\n"
				"www 1 A 192.0.2.1\n"
				"$ORIGIN deeper\n"
				"@ 1 A 192.0.2.2\n"
				"$ORIGIN example.net.\n"
				"x 1 CNAME y\n", w);
	coll_free(c);
}

static void
test_generate_substitutes_iterator_with_step(void **state)
{
	(void)state;
	struct coll *c = coll_new();
	load_ok("$GENERATE 0-10/5 host-$ 60 IN A 192.0.2.$\n"
		"$GENERATE 1-2 $.rev PTR host$.example.com.\n", c);
	assert_int_equal(c->n, 5);
	const uint8_t a0[] = { 192, 0, 2, 0 }, a5[] = { 192, 0, 2, 5 }, a10[] = { 192, 0, 2, 10 };
	check_rr(c, 0, "host-0.example.com.", DNS_TYPE_A, 60, a0, 4);
	check_rr(c, 1, "host-5.example.com.", DNS_TYPE_A, 60, a5, 4);
	check_rr(c, 2, "host-10.example.com.", DNS_TYPE_A, 60, a10, 4);
	assert_int_equal(c->r[2].line, 1);
	/* no TTL on the second $GENERATE: the last explicit one */
	check_rr(c, 3, "1.rev.example.com.", DNS_TYPE_PTR, 60, unit_name("host1.example.com."), 19);
	check_rr(c, 4, "2.rev.example.com.", DNS_TYPE_PTR, 60, unit_name("host2.example.com."), 19);
	assert_int_equal(c->r[4].line, 2);
	coll_free(c);
}

static void
test_generate_modifiers_offset_width_and_bases(void **state)
{
	(void)state;
	const struct want_rr w[] = {
		{ "d0250.example.com.", DNS_TYPE_CNAME, 1,
		  unit_name("o377.x100.XFF.example.com."), 27 },
		/* nibble form: least significant nibble first; width counts the dots */
		{ "2.1.example.com.", DNS_TYPE_PTR, 1, unit_name("2.1.0.example.com."), 19 },
		{ "7.example.com.", DNS_TYPE_PTR, 1, unit_name("10.example.com."), 16 },
	};
	static const char text[] =
		"$GENERATE 255-255 d${-5,4,d} 1 CNAME o${0,0,o}.x${1,3,x}.X${0,0,X}\n"
		"$GENERATE 18-18 ${0,0,n} 1 PTR ${0,5,N}\n"
		"$GENERATE 7-7 ${0} 1 PTR ${3,0}\n";
	struct coll *c = LOADED(text, w);
	coll_free(c);
}

static void
test_generate_escaped_dollar_is_literal(void **state)
{
	(void)state;
	struct coll *c = coll_new();
	load_ok("$GENERATE 3-3 a\\$$ 1 TXT \"cost \\$$ $$\"\n", c);
	assert_int_equal(c->n, 1);
	const uint8_t o[] = { 3, 'a', '$', '3', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o',
			      'm', 0 };
	assert_memory_equal(c->r[0].owner, o, sizeof(o));
	check_rr(c, 0, "a\\$3.example.com.", DNS_TYPE_TXT, 1, "\011cost $3 $", 10);
	coll_free(c);
}

static void
test_generate_allows_65536_iterations_and_refuses_more(void **state)
{
	(void)state;
	struct coll *c = coll_new();
	load_ok("$GENERATE 0-65535 h$ 1 A 10.0.0.1\n", c);
	assert_int_equal(c->n, 65536);
	coll_free(c);
	load_err("$GENERATE 0-65536 h$ 1 A 10.0.0.1\n", 1,
		 "t.zone:1: $GENERATE range '0-65536' is too large: at most 65536 records");
}

static void
test_generate_errors(void **state)
{
	(void)state;
	load_err("$GENERATE 5-1 h$ A 10.0.0.1\n", 1,
		 "t.zone:1: bad $GENERATE range '5-1': expected start-stop[/step] with "
		 "start <= stop");
	load_err("\n$GENERATE 1-2/0 h$ A 10.0.0.1\n", 2,
		 "t.zone:2: bad $GENERATE range '1-2/0': expected start-stop[/step] with "
		 "start <= stop");
	load_err("$GENERATE 1-2 h${1,2,q} A 10.0.0.1\n", 1,
		 "t.zone:1: bad $GENERATE modifier '${1,2,q}': expected ${offset[,width[,base]]} "
		 "with base d, o, x, X, n or N");
	load_err("$GENERATE 1-2 h${1 A 10.0.0.1\n", 1,
		 "t.zone:1: bad $GENERATE modifier '${1': expected ${offset[,width[,base]]} "
		 "with base d, o, x, X, n or N");
	load_err("$GENERATE 1-2 h${-5} A 10.0.0.1\n", 1,
		 "t.zone:1: $GENERATE value -4 is negative: the offset is too small");
	load_err("$GENERATE 1-2 h$ A\n", 1,
		 "t.zone:1: $GENERATE needs range lhs [TTL] [class] type rhs");
	load_err("$GENERATE 1-2 h$ 1 IN A\n", 1,
		 "t.zone:1: $GENERATE needs a rhs after the type");
}

static void
test_unknown_directive_is_an_error(void **state)
{
	(void)state;
	load_err("a 1 A 192.0.2.1\n$FOO bar\n", 2,
		 "t.zone:2: unknown directive '$FOO': expected $ORIGIN, $TTL, $INCLUDE or "
		 "$GENERATE");
	load_err("$ORIGIN a b\n", 1, "t.zone:1: $ORIGIN needs exactly one name");
	load_err("$TTL\n", 1, "t.zone:1: $TTL needs exactly one TTL");
	load_err("$TTL 1x\n", 1, "t.zone:1: bad TTL '1x': expected seconds or units w d h m s");
}

static void
test_include_refused_when_reading_memory(void **state)
{
	(void)state;
	load_err("$INCLUDE other.zone\n", 1,
		 "t.zone:1: $INCLUDE is not allowed here: the zone is read from memory");
}

/* ---- $INCLUDE with real files ---- */

struct tmpdir {
	char path[256];
};

static void
write_file(const char *dir, const char *name, const char *text)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

static void
tmp_make(struct tmpdir *t)
{
	snprintf(t->path, sizeof(t->path), "/tmp/tdns-zf-XXXXXX");
	assert_non_null(mkdtemp(t->path));
}

/* Removes the listed files and folders (children first), then the directory. */
static void
tmp_remove(struct tmpdir *t, const char *const *names)
{
	char p[512];
	for (size_t i = 0; names[i] != NULL; i++) {
		snprintf(p, sizeof(p), "%s/%s", t->path, names[i]);
		assert_int_equal(remove(p), 0);
	}
	assert_int_equal(rmdir(t->path), 0);
}

static int
mkdir_sub(const struct tmpdir *t)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/sub", t->path);
	return mkdir(p, 0700);
}

static void
test_include_resolves_relative_path_and_restores_origin_and_owner(void **state)
{
	(void)state;
	struct tmpdir t;
	tmp_make(&t);
	assert_int_equal(mkdir_sub(&t), 0);
	write_file(t.path, "main.zone",
		   "$TTL 300\n"
		   "www A 192.0.2.1\n"
		   "$INCLUDE sub/inc.zone lab\n"
		   "  A 192.0.2.2\n"          /* owner reverts to www */
		   "tail A 192.0.2.1\n");     /* origin reverts to example.com. */
	write_file(t.path, "sub/inc.zone",
		   "in1 A 192.0.2.1\n"
		   "$INCLUDE deeper.zone\n");
	write_file(t.path, "sub/deeper.zone", "@ TXT \"deep\"\n");

	const struct want_rr w[] = {
		{ "www.example.com.", DNS_TYPE_A, 300, A1, 4 },
		{ "in1.lab.example.com.", DNS_TYPE_A, 300, A1, 4 },
		{ "lab.example.com.", DNS_TYPE_TXT, 300, "\004deep", 5 },
		{ "www.example.com.", DNS_TYPE_A, 300, A2, 4 },
		{ "tail.example.com.", DNS_TYPE_A, 300, A1, 4 },
	};
	struct coll *c = read_ok(t.path, "main.zone", w, 5);
	char want[512];
	snprintf(want, sizeof(want), "%s/sub/inc.zone", t.path);
	assert_string_equal(c->r[1].file, want);
	assert_int_equal(c->r[1].line, 1);
	snprintf(want, sizeof(want), "%s/sub/deeper.zone", t.path);
	assert_string_equal(c->r[2].file, want);
	snprintf(want, sizeof(want), "%s/main.zone", t.path);
	assert_string_equal(c->r[4].file, want);
	assert_int_equal(c->r[4].line, 5);
	coll_free(c);
	const char *names[] = { "main.zone", "sub/inc.zone", "sub/deeper.zone", "sub", NULL };
	tmp_remove(&t, names);
}

static void
test_include_file_name_escapes_are_decoded(void **state)
{
	(void)state;
	/* RFC 1035 §5.1: the file name is a <character-string>; \DDD is decimal. */
	struct tmpdir t;
	tmp_make(&t);
	write_file(t.path, "main.zone", "$INCLUDE \"zone\\040part.db\"\n$INCLUDE a\\050\\ b.db\n");
	write_file(t.path, "zone(part.db", "x A 192.0.2.1\n");
	write_file(t.path, "a2 b.db", "y A 192.0.2.2\n");
	const struct want_rr w[] = {
		{ "x.example.com.", DNS_TYPE_A, 3600, A1, 4 },
		{ "y.example.com.", DNS_TYPE_A, 3600, A2, 4 },
	};
	coll_free(read_ok(t.path, "main.zone", w, 2));
	const char *names[] = { "main.zone", "zone(part.db", "a2 b.db", NULL };
	tmp_remove(&t, names);
}

static void
test_include_errors_carry_the_included_file_and_line(void **state)
{
	(void)state;
	struct tmpdir t;
	tmp_make(&t);
	write_file(t.path, "main.zone", "a A 192.0.2.1\n$INCLUDE bad.zone\n");
	write_file(t.path, "bad.zone", "ok A 192.0.2.1\n\nbad AAA ::1\n");
	write_file(t.path, "missing.zone", "a A 192.0.2.1\n\n$INCLUDE nothere.zone\n");
	write_file(t.path, "loop.zone", "a A 192.0.2.1\n$INCLUDE loop.zone\n");
	char want[1024];
	struct dns_zf_error err;

	assert_int_equal(read_fails(t.path, "main.zone", TDNS_EZONEFILE, &err), 2);
	snprintf(want, sizeof(want), "%s/bad.zone:3: unknown RR type 'AAA'", t.path);
	assert_string_equal(err.msg, want);
	assert_int_equal(err.line, 3);
	snprintf(want, sizeof(want), "%s/bad.zone", t.path);
	assert_string_equal(err.file, want);

	read_fails(t.path, "missing.zone", TDNS_EIO, &err);
	snprintf(want, sizeof(want),
		 "%s/missing.zone:3: cannot read $INCLUDE file '%s/nothere.zone': No such file "
		 "or directory", t.path, t.path);
	assert_string_equal(err.msg, want);
	assert_int_equal(err.line, 3);

	/* A file including itself stops at the depth limit instead of recursing forever. */
	assert_int_equal(read_fails(t.path, "loop.zone", TDNS_EZONEFILE, &err), 17);
	snprintf(want, sizeof(want), "%s/loop.zone:2: $INCLUDE nested too deeply: at most 16 "
		 "levels", t.path);
	assert_string_equal(err.msg, want);

	assert_int_equal(read_fails(t.path, "absent.zone", TDNS_EIO, &err), 0);
	snprintf(want, sizeof(want), "%s/absent.zone: cannot read zone file: No such file or "
		 "directory", t.path);
	assert_string_equal(err.msg, want);

	const char *names[] = { "main.zone", "bad.zone", "missing.zone", "loop.zone", NULL };
	tmp_remove(&t, names);
}

/* ---- errors ---- */

static void
test_unknown_type_reports_line(void **state)
{
	(void)state;
	load_err("a 1 A 192.0.2.1\n\n; c\nb IN AAA ::1\n", 4,
		 "t.zone:4: unknown RR type 'AAA'");
	load_err("x 1 IN\n", 1, "t.zone:1: missing RR type: expected [TTL] [class] type rdata");
	load_err("x 1 AXFR\n", 1,
		 "t.zone:1: type 'AXFR' is a meta-type and cannot appear in zone data");
}

static void
test_bad_ttl_messages(void **state)
{
	(void)state;
	load_err("a 1x A 192.0.2.1\n", 1,
		 "t.zone:1: bad TTL '1x': expected seconds or units w d h m s");
	load_err("a IN 4294967296 A 192.0.2.1\n", 1,
		 "t.zone:1: TTL '4294967296' is out of range: expected at most 2147483647 "
		 "seconds (RFC 2181 §8)");
}

static char warned[512];

static void
keep_warning(enum tdns_log_level level, const char *msg)
{
	if (level == TDNS_LOG_WARNING) {
		snprintf(warned, sizeof(warned), "%s", msg);
	}
}

static void
test_ttl_with_the_top_bit_set_is_capped_with_a_warning(void **state)
{
	(void)state;
	/* RFC 2181 §8, as BIND: the record loads with TTL 2^31-1 and a file:line warning. */
	struct coll *c = coll_new();
	tdns_log_init(true, TDNS_LOG_WARNING);
	tdns_log_set_hook(keep_warning);
	warned[0] = '\0';
	load_ok("a 4294967295 A 192.0.2.1\n", c);
	assert_string_equal(warned, "t.zone:1: TTL '4294967295' is above 2147483647 (RFC 2181 §8), "
			    "capped to 2147483647");
	warned[0] = '\0';
	load_ok("\n$TTL 2147483648\nb A 192.0.2.2\n", c);
	assert_string_equal(warned, "t.zone:2: TTL '2147483648' is above 2147483647 (RFC 2181 §8), "
			    "capped to 2147483647");
	tdns_log_set_hook(NULL);
	assert_int_equal(c->n, 2);
	check_rr(c, 0, "a.example.com.", DNS_TYPE_A, 2147483647u, A1, 4);
	check_rr(c, 1, "b.example.com.", DNS_TYPE_A, 2147483647u, A2, 4);
	coll_free(c);
}

static void
test_other_classes_are_refused(void **state)
{
	(void)state;
	load_err("a CH TXT x\n", 1,
		 "t.zone:1: class 'CH' is not supported: only class IN is served");
	load_err("a 1 HS A 192.0.2.1\n", 1,
		 "t.zone:1: class 'HS' is not supported: only class IN is served");
}

static void
test_unbalanced_parentheses(void **state)
{
	(void)state;
	load_err("a 1 A 192.0.2.1\n"
		 "@ SOA ns1 host (\n"
		 " 1 2 3 4 5\n"
		 "b A 192.0.2.1\n", 2,
		 "t.zone:2: unbalanced parenthesis opened at line 2: expected ')' before the end "
		 "of the file");
	load_err("a 1 A 192.0.2.1 )\n", 1,
		 "t.zone:1: unbalanced parenthesis: ')' without '('");
	load_err("a 1 TXT ( x\n ( y ) )\n", 2,
		 "t.zone:2: nested parenthesis: the one opened at line 1 is still open");
}

static void
test_unterminated_quote(void **state)
{
	(void)state;
	load_err("a 1 TXT (\n \"abc\n def\" )\n", 2,
		 "t.zone:2: unterminated quoted string: expected '\"' before the end of the "
		 "line");
}

static void
test_bad_names(void **state)
{
	(void)state;
	load_err("a..b 1 A 192.0.2.1\n", 1, "t.zone:1: name 'a..b' has an empty label");
	load_err("$ORIGIN x..\n", 1, "t.zone:1: name 'x..' has an empty label");
	load_err("a\\3 1 A 192.0.2.1\n", 1,
		 "t.zone:1: name 'a\\3' has a bad escape: expected \\X or \\DDD with DDD <= 255");
	char text[128], msg[256];
	char label[65];
	memset(label, 'a', 64);
	label[64] = '\0';
	snprintf(text, sizeof(text), "%s 1 A 192.0.2.1\n", label);
	snprintf(msg, sizeof(msg), "t.zone:1: name '%s' has a label longer than 63 octets", label);
	load_err(text, 1, msg);
}

static void
test_first_record_needs_an_owner(void **state)
{
	(void)state;
	load_err("\n  1 A 192.0.2.1\n", 2,
		 "t.zone:2: no owner name: the first record must start in column 0 with its "
		 "owner");
}

static void
test_relative_name_without_origin(void **state)
{
	(void)state;
	struct coll *c = coll_new();
	struct dns_zf_error err;
	const char *text = "abs. 1 A 192.0.2.1\nrel 1 A 192.0.2.1\n";
	assert_int_equal(dns_zonefile_read_mem(text, strlen(text), "n.zone", NULL, 5, collect, c,
					       &err), TDNS_EZONEFILE);
	assert_string_equal(err.msg, "n.zone:2: name 'rel' is relative and no origin is set: end "
			    "it with a dot or set $ORIGIN");
	assert_int_equal(c->n, 1);
	check_rr(c, 0, "abs.", DNS_TYPE_A, 1, A1, 4);
	coll_free(c);
}

static void
test_rdata_errors_come_from_rdata_parser_with_line(void **state)
{
	(void)state;
	struct coll *c = coll_new();
	struct dns_zf_error err;
	const char *text = "a 1 A 192.0.2.1\nmx 1 MX 70000 mail\n";
	assert_int_equal(load(text, c, &err), TDNS_EZONEFILE);
	assert_int_equal(err.line, 2);
	assert_true(strncmp(err.msg, "t.zone:2: ", 10) == 0);
	assert_non_null(strstr(err.msg, "70000"));
	coll_free(c);
}

static void
test_error_inside_parenthesised_soa_points_at_its_line(void **state)
{
	(void)state;
	struct coll *c = coll_new();
	struct dns_zf_error err;
	const char *text = "@ 3600 IN SOA ns1 host (\n"
			   "   2024010101 ; serial\n"
			   "   7x         ; refresh: bad\n"
			   "   3600 1w 300 )\n";
	assert_int_equal(load(text, c, &err), TDNS_EZONEFILE);
	assert_int_equal(err.line, 3);
	assert_true(strncmp(err.msg, "t.zone:3: ", 10) == 0);
	assert_non_null(strstr(err.msg, "7x"));
	assert_int_equal(c->n, 0);
	coll_free(c);
}

static void
test_callback_error_stops_reading_and_is_returned(void **state)
{
	(void)state;
	struct coll *c = coll_new();
	struct dns_zf_error err;
	c->stop_at = 2;
	c->stop_rc = TDNS_ECNAME;
	assert_int_equal(load("a 1 A 192.0.2.1\nb 1 A 192.0.2.1\nc 1 A 192.0.2.1\n", c, &err),
			 TDNS_ECNAME);
	assert_int_equal(c->n, 2);
	assert_int_equal(err.line, 2);
	assert_string_equal(err.file, "t.zone");
	assert_string_equal(err.msg, "t.zone:2: CNAME and other data at the same name");

	/* positive values stop reading too */
	struct coll *d = coll_new();
	d->stop_at = 1;
	d->stop_rc = 1;
	assert_int_equal(load("a 1 A 192.0.2.1\nb 1 A 192.0.2.1\n", d, &err), 1);
	assert_int_equal(d->n, 1);
	coll_free(d);
	coll_free(c);
}

static void
test_empty_and_comment_only_input(void **state)
{
	(void)state;
	struct coll *c = coll_new();
	load_ok("", c);
	load_ok("\n\n; nothing\n   \t\n  ; indented comment\n", c);
	assert_int_equal(c->n, 0);
	assert_int_equal(dns_zonefile_read_mem(NULL, 0, NULL, ORIGIN, 1, collect, c, NULL),
			 TDNS_OK);
	coll_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ttl_parse_accepts_seconds_and_units_in_any_case),
		cmocka_unit_test(test_ttl_parse_rejects_garbage_and_values_above_2_31_minus_1),
		cmocka_unit_test(test_reads_soa_and_address_records_with_rdata),
		cmocka_unit_test(test_ttl_and_class_in_either_order_or_omitted),
		cmocka_unit_test(test_omitted_ttl_uses_default_then_last_explicit_then_dollar_ttl),
		cmocka_unit_test(test_blank_owner_repeats_previous_owner),
		cmocka_unit_test(test_only_a_token_in_column_zero_is_the_owner),
		cmocka_unit_test(test_at_sign_relative_and_absolute_names),
		cmocka_unit_test(test_parentheses_join_lines_and_comments_inside_are_ignored),
		cmocka_unit_test(test_quoted_strings_keep_semicolons_spaces_and_escapes),
		cmocka_unit_test(test_backslash_escaped_space_stays_in_token),
		cmocka_unit_test(test_crlf_line_endings_and_missing_final_newline),
		cmocka_unit_test(test_type_nnn_and_rfc3597_rdata),
		cmocka_unit_test(test_origin_directive_is_relative_to_current_origin),
		cmocka_unit_test(test_generate_substitutes_iterator_with_step),
		cmocka_unit_test(test_generate_modifiers_offset_width_and_bases),
		cmocka_unit_test(test_generate_escaped_dollar_is_literal),
		cmocka_unit_test(test_generate_allows_65536_iterations_and_refuses_more),
		cmocka_unit_test(test_generate_errors),
		cmocka_unit_test(test_unknown_directive_is_an_error),
		cmocka_unit_test(test_include_refused_when_reading_memory),
		cmocka_unit_test(test_include_resolves_relative_path_and_restores_origin_and_owner),
		cmocka_unit_test(test_include_errors_carry_the_included_file_and_line),
		cmocka_unit_test(test_unknown_type_reports_line),
		cmocka_unit_test(test_bad_ttl_messages),
		cmocka_unit_test(test_ttl_with_the_top_bit_set_is_capped_with_a_warning),
		cmocka_unit_test(test_include_file_name_escapes_are_decoded),
		cmocka_unit_test(test_other_classes_are_refused),
		cmocka_unit_test(test_unbalanced_parentheses),
		cmocka_unit_test(test_unterminated_quote),
		cmocka_unit_test(test_bad_names),
		cmocka_unit_test(test_first_record_needs_an_owner),
		cmocka_unit_test(test_relative_name_without_origin),
		cmocka_unit_test(test_rdata_errors_come_from_rdata_parser_with_line),
		cmocka_unit_test(test_error_inside_parenthesised_soa_points_at_its_line),
		cmocka_unit_test(test_callback_error_stops_reading_and_is_returned),
		cmocka_unit_test(test_empty_and_comment_only_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
