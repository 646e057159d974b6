/* SPDX-License-Identifier: MIT */
/* Unit tests for the zone database, zone checks and writing, and authoritative answers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "zone/zone.h"

/* ------------------------------------------------------------------------------------------ */
/* Helpers                                                                                     */

static void
name(const char *text, uint8_t *out)
{
	assert_true(dns_name_from_text(text, strlen(text), NULL, out) > 0);
}

static int
add_cb(void *ctx, const struct dns_zf_rr *rr)
{
	return zone_add_rr(ctx, rr->owner, rr->type, rr->ttl, rr->rdata, rr->rdlen);
}

/* A zone from zone-file text, not yet checked. */
static struct zone *
zone_text(const char *origin, const char *text)
{
	uint8_t apex[DNS_NAME_MAX];
	name(origin, apex);
	struct zone *z = zone_new(apex);
	assert_non_null(z);
	struct dns_zf_error err;
	int rc = dns_zonefile_read_mem(text, strlen(text), "test", apex, 3600, add_cb, z, &err);
	if (rc != TDNS_OK) {
		fail_msg("%s:%u: %s", err.file, err.line, err.msg);
	}
	return z;
}

/* A zone from text that must pass zone_check. */
static struct zone *
good_zone(const char *origin, const char *text)
{
	struct zone *z = zone_text(origin, text);
	assert_int_equal(zone_check(z, NULL, NULL), TDNS_OK);
	return z;
}

static const char zone_com[] =
	"$ORIGIN example.com.\n"
	"$TTL 3600\n"
	"@ IN SOA ns1.example.com. hostmaster.example.com. 2024010101 7200 3600 1209600 300\n"
	"@ NS ns1\n"
	"@ NS ns2.example.net.\n"
	"@ MX 10 mail\n"
	"@ MX 20 mail.elsewhere.test.\n"
	"ns1 A 192.0.2.53\n"
	"ns1 AAAA 2001:db8::53\n"
	"mail A 192.0.2.25\n"
	"www A 192.0.2.80\n"
	"www A 192.0.2.81\n"
	"alias CNAME www\n"
	"chain1 CNAME chain2\n"
	"chain2 CNAME alias\n"
	"loop1 CNAME loop2\n"
	"loop2 CNAME loop1\n"
	"cross CNAME www.example.org.\n"
	"crossnx CNAME nothere.example.org.\n"
	"outside CNAME www.elsewhere.test.\n"
	"_sip._tcp SRV 0 5 5060 sip\n"
	"sip A 192.0.2.60\n"
	"sip AAAA 2001:db8::60\n"
	"a.b.ent A 192.0.2.1\n"
	"sub NS ns.sub\n"
	"sub NS ns.other.sub2\n"
	"sub DS 12345 8 2 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE8D5B0A5C19A9C3D1 8C1A2B3C\n"
	"ns.sub A 192.0.2.100\n"
	"host.sub A 192.0.2.7\n"
	"sub2 NS ns.other.sub2\n"
	"ns.other.sub2 A 192.0.2.101\n"
	"nods NS ns1.example.com.\n"
	"dn DNAME example.org.\n"
	"*.wild TXT \"wildcard\"\n"
	"*.wild MX 10 mail\n"
	"*.wc CNAME www\n"
	"mxcut MX 10 ns.sub\n"
	"mxout MX 10 www.example.org.\n";

static const char zone_org[] =
	"$ORIGIN example.org.\n"
	"@ 60 IN SOA ns.example.org. admin.example.org. 1 3600 600 86400 3600\n"
	"@ 3600 NS ns\n"
	"ns 3600 A 192.0.2.200\n"
	"www 3600 A 198.51.100.1\n";

/* The zone of RFC 4592 §2.2.1, with concrete SOA and SRV data. */
static const char zone_rfc4592[] =
	"$ORIGIN example.\n"
	"example.                 3600 IN  SOA   ns.example.com. admin.example.com. 1 2 3 4 5\n"
	"example.                 3600     NS    ns.example.com.\n"
	"example.                 3600     NS    ns.example.net.\n"
	"*.example.               3600     TXT   \"this is a wildcard\"\n"
	"*.example.               3600     MX    10 host1.example.\n"
	"sub.*.example.           3600     TXT   \"this is not a wildcard\"\n"
	"host1.example.           3600     A     192.0.2.1\n"
	"_ssh._tcp.host1.example. 3600     SRV   0 0 22 host1.example.\n"
	"_ssh._tcp.host2.example. 3600     SRV   0 0 22 host2.example.\n"
	"subdel.example.          3600     NS    ns.example.com.\n"
	"subdel.example.          3600     NS    ns.example.net.\n";

static struct zone_set *
set_of(const char *origin1, const char *text1, const char *origin2, const char *text2)
{
	struct zone_set *s = zone_set_new();
	assert_non_null(s);
	assert_int_equal(zone_set_add(s, good_zone(origin1, text1)), TDNS_OK);
	if (origin2 != NULL) {
		assert_int_equal(zone_set_add(s, good_zone(origin2, text2)), TDNS_OK);
	}
	return s;
}

struct reply {
	uint8_t pkt[DNS_MSG_MAX];
	size_t len;
	struct dns_msg m;
	struct zone_answer_info info;
	char text[4][16384];  /* each section as "rr\nrr", answer = 1 .. additional = 3 */
};

/* One RR of a parsed message as a zone-file line, rdata decompressed. */
static void
rr_line(const struct dns_msg *m, const struct dns_rr *rr, char *out, size_t cap)
{
	uint8_t rd[DNS_RDATA_MAX];
	size_t rdlen;
	assert_int_equal(dns_rdata_unpack(rr->type, m->pkt, m->len, rr->rdata_off, rr->rdlen, rd,
					  sizeof(rd), &rdlen),
			 TDNS_OK);
	assert_true(dns_rr_to_text(rr->owner, rr->type, rr->rclass, rr->ttl, rd, rdlen, out,
				   cap) > 0);
	/* Fields are tab-separated; tabs inside rdata text are escaped, so this is lossless. */
	for (char *c = out; *c != '\0'; c++) {
		if (*c == '\t') {
			*c = ' ';
		}
	}
}

/*
 * Sends qname/qtype/qclass through the real query parser, answers it into a buffer with the
 * given size limit (as the server would for a UDP client), and parses the reply.
 */
static struct reply *
ask_full(const struct zone_set *s, const char *qname, uint16_t qtype, uint16_t qclass,
	 size_t limit)
{
	uint8_t qpkt[512];
	uint8_t qn[DNS_NAME_MAX];
	name(qname, qn);
	struct dns_build qb;
	dns_build_init(&qb, qpkt, sizeof(qpkt), sizeof(qpkt), 0x1234, DNS_FLAG_RD);
	assert_int_equal(dns_build_question(&qb, qn, qtype, qclass), TDNS_OK);
	size_t qlen = dns_build_finish(&qb);
	struct dns_query q;
	assert_int_equal(dns_query_parse(qpkt, qlen, &q), DNS_RCODE_NOERROR);

	struct reply *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	struct dns_build b;
	dns_build_init(&b, r->pkt, sizeof(r->pkt), limit, q.id,
		       (uint16_t)(DNS_FLAG_QR | (q.flags & DNS_FLAG_RD)));
	assert_int_equal(dns_build_question(&b, q.qname, q.qtype, q.qclass), TDNS_OK);
	zone_answer(s, &q, &b, &r->info);
	r->len = dns_build_finish(&b);
	assert_int_equal(dns_msg_parse(r->pkt, r->len, &r->m), TDNS_OK);
	assert_int_equal(r->m.id, 0x1234);
	assert_int_equal(r->m.rcode, r->info.rcode);
	for (size_t i = 0; i < r->m.nrr; i++) {
		const struct dns_rr *rr = &r->m.rrs[i];
		char line[4096];
		rr_line(&r->m, rr, line, sizeof(line));
		char *t = r->text[rr->section];
		size_t used = strlen(t);
		snprintf(t + used, sizeof(r->text[0]) - used, "%s%s", used ? "\n" : "", line);
	}
	return r;
}

static struct reply *
ask(const struct zone_set *s, const char *qname, uint16_t qtype)
{
	return ask_full(s, qname, qtype, DNS_CLASS_IN, DNS_MSG_MAX);
}

static void
reply_free(struct reply *r)
{
	dns_msg_clear(&r->m);
	free(r);
}

static bool
aa(const struct reply *r)
{
	return (r->m.flags & DNS_FLAG_AA) != 0;
}

#define ANSWER(r) ((r)->text[DNS_SECTION_ANSWER])
#define AUTHORITY(r) ((r)->text[DNS_SECTION_AUTHORITY])
#define ADDITIONAL(r) ((r)->text[DNS_SECTION_ADDITIONAL])

static const char soa_com_neg[] =
	"example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 2024010101 7200 3600 "
	"1209600 300";

static const char soa_org_neg[] =
	"example.org. 60 IN SOA ns.example.org. admin.example.org. 1 3600 600 86400 3600";

/* Fixtures: the zone set of example.com., of example.com. and example.org., of RFC 4592's zone. */
static int
setup_com(void **state)
{
	*state = set_of("example.com.", zone_com, NULL, NULL);
	return 0;
}

static int
setup_com_org(void **state)
{
	*state = set_of("example.com.", zone_com, "example.org.", zone_org);
	return 0;
}

static int
setup_rfc4592(void **state)
{
	*state = set_of("example.", zone_rfc4592, NULL, NULL);
	return 0;
}

static int
set_teardown(void **state)
{
	zone_set_free(*state);
	return 0;
}

#define ZONE_TEST(f, setup) cmocka_unit_test_setup_teardown(f, setup, set_teardown)

/* An rcode or AA value that a struct want leaves unchecked. */
#define NOCHECK (-1)

/*
 * One question and what its answer must hold: the rcode, the AA flag (1 or 0) and the text of
 * each section.  NOCHECK or NULL leaves a part unchecked; a section that starts with '~' need
 * only contain the rest.
 */
struct want {
	const char *qname;
	uint16_t qtype;
	int rcode;
	int aa;
	const char *answer, *authority, *additional;
};

/* Fails the test unless the reply r to the question of w holds what w says. */
static void
check(const struct reply *r, const struct want *w)
{
	if (w->rcode != NOCHECK && r->info.rcode != w->rcode) {
		fail_msg("%s/%u: rcode %d, expected %d", w->qname, w->qtype, r->info.rcode,
			 w->rcode);
	}
	if (w->aa != NOCHECK && aa(r) != (w->aa != 0)) {
		fail_msg("%s/%u: AA is %d, expected %d", w->qname, w->qtype, aa(r), w->aa);
	}
	const char *sections[] = { w->answer, w->authority, w->additional };
	for (int i = 0; i < 3; i++) {
		const char *want = sections[i], *got = r->text[DNS_SECTION_ANSWER + i];
		if (want == NULL) {
			continue;
		}
		bool ok = want[0] == '~' ? strstr(got, want + 1) != NULL : strcmp(got, want) == 0;
		if (!ok) {
			fail_msg("%s/%u: section %d is '%s', expected '%s'", w->qname, w->qtype,
				 DNS_SECTION_ANSWER + i, got, want);
		}
	}
}

/* Asks the question of w in class IN and checks the answer; the caller frees the reply. */
static struct reply *
asked(const struct zone_set *s, const struct want *w)
{
	struct reply *r = ask(s, w->qname, w->qtype);
	check(r, w);
	return r;
}

/* Asks each of the n questions of w in turn and checks its answer. */
static void
expect(const struct zone_set *s, const struct want *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		reply_free(asked(s, &w[i]));
	}
}

#define EXPECT(s, w) expect((s), (w), sizeof(w) / sizeof((w)[0]))

/* ------------------------------------------------------------------------------------------ */
/* Database                                                                                    */

static void
test_add_rr_ignores_duplicates_and_keeps_lowest_ttl(void **state)
{
	(void)state;
	struct zone *z = zone_text("example.com.",
				   "$ORIGIN example.com.\n"
				   "www 300 A 192.0.2.1\n"
				   "www 100 A 192.0.2.2\n"
				   "www 200 A 192.0.2.1\n"
				   "WWW 400 NS ns.EXAMPLE.com.\n"
				   "www 400 NS NS.example.COM.\n");
	uint8_t n[DNS_NAME_MAX];
	name("WwW.Example.Com.", n);
	const struct zone_node *node = zone_find(z, n);
	assert_non_null(node);
	const struct zone_rrset *a = zone_node_rrset(node, DNS_TYPE_A);
	assert_non_null(a);
	assert_int_equal(a->count, 2);
	assert_int_equal(a->ttl, 100);
	/* Names in NS rdata compare without case (RFC 4034 §6.2). */
	const struct zone_rrset *ns = zone_node_rrset(node, DNS_TYPE_NS);
	assert_non_null(ns);
	assert_int_equal(ns->count, 1);
	assert_int_equal(z->nrecords, 3);
	zone_free(z);
}

static void
test_add_rr_creates_empty_non_terminals(void **state)
{
	(void)state;
	struct zone *z = zone_text("example.com.", "a.b.c.example.com. 60 IN A 192.0.2.1\n");
	uint8_t n[DNS_NAME_MAX];
	name("b.c.example.com.", n);
	const struct zone_node *ent = zone_find(z, n);
	assert_non_null(ent);
	assert_null(ent->rrsets);
	name("c.example.com.", n);
	assert_non_null(zone_find(z, n));
	name("x.example.com.", n);
	assert_null(zone_find(z, n));
	assert_int_equal(z->nnodes, 4);
	zone_free(z);
}

static void
test_add_rr_rejects_out_of_zone_and_meta_types(void **state)
{
	(void)state;
	uint8_t apex[DNS_NAME_MAX], n[DNS_NAME_MAX];
	name("example.com.", apex);
	struct zone *z = zone_new(apex);
	const uint8_t rd[4] = { 192, 0, 2, 1 };
	name("www.example.net.", n);
	assert_int_equal(zone_add_rr(z, n, DNS_TYPE_A, 60, rd, 4), TDNS_EOUTOFZONE);
	name("com.", n);
	assert_int_equal(zone_add_rr(z, n, DNS_TYPE_A, 60, rd, 4), TDNS_EOUTOFZONE);
	name("www.example.com.", n);
	assert_int_equal(zone_add_rr(z, n, DNS_TYPE_OPT, 60, rd, 4), TDNS_EINVAL);
	assert_int_equal(zone_add_rr(z, n, DNS_TYPE_A, 60, rd, 4), TDNS_OK);
	zone_free(z);
}

static void
test_large_rrset_grows_and_keeps_every_rdata(void **state)
{
	(void)state;
	uint8_t apex[DNS_NAME_MAX], n1[DNS_NAME_MAX], n2[DNS_NAME_MAX];
	name("example.com.", apex);
	name("a.example.com.", n1);
	name("b.example.com.", n2);
	struct zone *z = zone_new(apex);
	/* Interleaved owners force copies as well as in-place growth. */
	for (unsigned i = 0; i < 3000; i++) {
		const uint8_t rd[4] = { 10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };
		assert_int_equal(zone_add_rr(z, i % 3 ? n1 : n2, DNS_TYPE_A, 60, rd, 4), TDNS_OK);
	}
	const struct zone_rrset *r = zone_node_rrset(zone_find(z, n1), DNS_TYPE_A);
	assert_int_equal(r->count, 2000);
	const uint8_t *p = r->data;
	unsigned expect = 1;
	for (unsigned i = 0; i < r->count; i++) {
		const uint8_t *rd;
		uint16_t len;
		p = zone_rdata_next(p, &rd, &len);
		assert_int_equal(len, 4);
		assert_int_equal(((unsigned)rd[2] << 8) | rd[3], expect);
		expect += expect % 3 == 1 ? 1 : 2;
	}
	assert_int_equal(zone_node_rrset(zone_find(z, n2), DNS_TYPE_A)->count, 1000);
	zone_free(z);
}

struct walk_ctx {
	char names[16][64];
	size_t n;
};

static int
walk_cb(void *ctx, const struct zone_node *n)
{
	struct walk_ctx *w = ctx;
	assert_true(dns_name_to_text(n->name, w->names[w->n++], 64) > 0);
	return 0;
}

static void
test_walk_is_in_canonical_order(void **state)
{
	(void)state;
	/* The example of RFC 4034 §6.1. */
	struct zone *z = zone_text("example.",
				   "$ORIGIN example.\n"
				   "@ 60 A 192.0.2.1\n"
				   "yljkjljk.a 60 A 192.0.2.1\n"
				   "Z.a 60 A 192.0.2.1\n"
				   "zABC.a 60 A 192.0.2.1\n"
				   "z 60 A 192.0.2.1\n"
				   "\\001.z 60 A 192.0.2.1\n"
				   "*.z 60 A 192.0.2.1\n"
				   "\\200.z 60 A 192.0.2.1\n");
	struct walk_ctx w = { .n = 0 };
	assert_int_equal(zone_walk(z, walk_cb, &w), 0);
	const char *want[] = { "example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.",
			       "zABC.a.example.", "z.example.", "\\001.z.example.",
			       "*.z.example.", "\\200.z.example." };
	assert_int_equal(w.n, 9);
	for (size_t i = 0; i < 9; i++) {
		assert_string_equal(w.names[i], want[i]);
	}
	zone_free(z);
}

struct order_ctx {
	const struct zone_node *prev;
	size_t n;
};

static int
order_cb(void *ctx, const struct zone_node *n)
{
	struct order_ctx *o = ctx;
	if (o->prev != NULL) {
		assert_true(dns_name_cmp(o->prev->name, n->name) < 0);
	}
	o->prev = n;
	o->n++;
	return 0;
}

static void
test_walk_order_agrees_with_name_cmp_for_odd_octets(void **state)
{
	(void)state;
	/* Octets 0, 1 and 2, upper case and prefixes are where a sort key could go wrong. */
	struct zone *z = zone_text("example.",
				   "$ORIGIN example.\n"
				   "a 60 TXT x\n"
				   "a\\000 60 TXT x\n"
				   "a\\001 60 TXT x\n"
				   "a\\002 60 TXT x\n"
				   "a\\000\\000 60 TXT x\n"
				   "a\\001\\000 60 TXT x\n"
				   "\\000 60 TXT x\n"
				   "\\000.a 60 TXT x\n"
				   "B 60 TXT x\n"
				   "b\\255 60 TXT x\n"
				   "ab 60 TXT x\n"
				   "A.b 60 TXT x\n"
				   "a.\\000 60 TXT x\n");
	struct order_ctx o = { .prev = NULL, .n = 0 };
	assert_int_equal(zone_walk(z, order_cb, &o), 0);
	assert_int_equal(o.n, z->nnodes);
	assert_int_equal(o.n, 14);
	zone_free(z);
}

static void
test_zone_set_matches_longest_apex(void **state)
{
	(void)state;
	struct zone_set *s = zone_set_new();
	uint8_t n[DNS_NAME_MAX];
	const char *apexes[] = { "com.", "example.com.", "sub.example.com.", "." };
	for (size_t i = 0; i < 4; i++) {
		name(apexes[i], n);
		assert_int_equal(zone_set_add(s, zone_new(n)), TDNS_OK);
	}
	name("example.com.", n);
	struct zone *dup = zone_new(n);
	assert_int_equal(zone_set_add(s, dup), TDNS_EZONEEXISTS);
	zone_free(dup);
	assert_int_equal(zone_set_count(s), 4);
	name("a.b.SUB.example.COM.", n);
	assert_string_equal(zone_set_match(s, n)->name, "sub.example.com.");
	name("ub.example.com.", n);
	assert_string_equal(zone_set_match(s, n)->name, "example.com.");
	name("example.net.", n);
	assert_string_equal(zone_set_match(s, n)->name, ".");
	zone_set_free(s);

	s = zone_set_new();
	name("example.com.", n);
	assert_int_equal(zone_set_add(s, zone_new(n)), TDNS_OK);
	name("example.org.", n);
	assert_null(zone_set_match(s, n));
	name("com.", n);
	assert_null(zone_set_match(s, n));
	zone_set_free(s);
}

/* ------------------------------------------------------------------------------------------ */
/* Checks and loading                                                                          */

struct problems {
	char text[4096];
	int n;
};

static void
problem_cb(void *ctx, int status, const char *msg)
{
	struct problems *p = ctx;
	size_t used = strlen(p->text);
	snprintf(p->text + used, sizeof(p->text) - used, "%s%s: %s", used ? "\n" : "",
		 tdns_status_id(status), msg);
	p->n++;
}

/* Fails unless zone_check of the zone text at origin returns status and reports exactly why. */
static void
check_fails(const char *origin, const char *text, int status, const char *why)
{
	struct zone *z = zone_text(origin, text);
	struct problems p = { .n = 0 };
	assert_int_equal(zone_check(z, problem_cb, &p), status);
	assert_string_equal(p.text, why);
	zone_free(z);
}

static void
test_check_reports_missing_soa_and_apex_ns(void **state)
{
	(void)state;
	check_fails("example.com.", "$ORIGIN example.com.\nwww 60 A 192.0.2.1\n", TDNS_ENOSOA,
		    "ENOSOA: no SOA record at the zone apex\n"
		    "ENOAPEXNS: no NS records at the zone apex");

	struct zone *z = zone_text("example.com.", "$ORIGIN example.com.\n"
						   "@ 60 SOA ns hm 1 2 3 4 5\n");
	assert_int_equal(zone_check(z, NULL, NULL), TDNS_ENOAPEXNS);
	assert_int_equal(z->serial, 1);
	zone_free(z);

	z = zone_text("example.com.", "$ORIGIN example.com.\n"
				      "@ 60 SOA ns hm 1 2 3 4 5\n"
				      "@ 60 SOA ns hm 2 2 3 4 5\n"
				      "@ 60 NS ns.example.net.\n");
	assert_int_equal(zone_check(z, NULL, NULL), TDNS_EMULTISOA);
	zone_free(z);
}

static void
test_check_rejects_cname_beside_other_data_but_not_dnssec(void **state)
{
	(void)state;
	check_fails("example.com.",
		    "$ORIGIN example.com.\n"
		    "@ 60 SOA ns hm 1 2 3 4 5\n"
		    "@ 60 NS ns.example.net.\n"
		    "www 60 CNAME example.net.\n"
		    "www 60 NSEC zzz.example.com. CNAME RRSIG NSEC\n"
		    "bad 60 CNAME example.net.\n"
		    "bad 60 A 192.0.2.1\n",
		    TDNS_ECNAME, "ECNAME: bad.example.com. has a CNAME and other data (A)");
}

static void
test_check_requires_glue_for_in_zone_servers_below_cuts(void **state)
{
	(void)state;
	check_fails("example.com.",
		    "$ORIGIN example.com.\n"
		    "@ 60 SOA ns hm 1 2 3 4 5\n"
		    /* not below a cut: no glue needed */
		    "@ 60 NS ns\n"
		    /* below its own cut, then below another cut: glue needed */
		    "sub 60 NS ns.sub\n"
		    "sub 60 NS ns.other\n"
		    /* out of zone: no glue possible */
		    "sub 60 NS ns.example.net.\n"
		    "other 60 NS ns.other\n"
		    "ns.other 60 AAAA 2001:db8::1\n",
		    TDNS_ENOGLUE,
		    "ENOGLUE: NS ns.sub.example.com. of sub.example.com. has no glue address "
		    "record (A or AAAA)");
}

static void
test_check_sets_delegation_and_wildcard_flags(void **state)
{
	(void)state;
	struct zone *z = good_zone("example.com.", zone_com);
	uint8_t n[DNS_NAME_MAX];
	name("sub.example.com.", n);
	assert_true(zone_find(z, n)->flags & ZONE_NODE_DELEG);
	name("wild.example.com.", n);
	assert_true(zone_find(z, n)->flags & ZONE_NODE_WILDCARD);
	assert_false(z->apex_node->flags & ZONE_NODE_DELEG);
	assert_int_equal(z->serial, 2024010101);
	zone_free(z);
}

static char tmpdir[64];

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static int
setup_tmpdir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/tdns-test-zone-XXXXXX");
	return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static int
teardown_tmpdir(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_load_reports_out_of_zone_record_with_file_and_line(void **state)
{
	(void)state;
	char path[128], err[512];
	snprintf(path, sizeof(path), "%s/ooz.zone", tmpdir);
	write_file(path, "$ORIGIN example.com.\n"
			 "@ 60 SOA ns hm 1 2 3 4 5\n"
			 "@ 60 NS ns.example.net.\n"
			 "x.other. 60 A 192.0.2.1\n");
	uint8_t apex[DNS_NAME_MAX];
	name("example.com.", apex);
	struct zone *z = (struct zone *)1;
	assert_int_equal(zone_load(apex, path, &z, err, sizeof(err)), TDNS_EOUTOFZONE);
	assert_null(z);
	char want[512];
	snprintf(want, sizeof(want), "%s:4: record 'x.other.' is outside zone example.com.", path);
	assert_string_equal(err, want);
}

static void
test_load_reports_syntax_errors_and_check_failures(void **state)
{
	(void)state;
	char path[128], err[512];
	uint8_t apex[DNS_NAME_MAX];
	name("example.com.", apex);
	struct zone *z;

	snprintf(path, sizeof(path), "%s/syntax.zone", tmpdir);
	write_file(path, "$ORIGIN example.com.\n@ 60 SOA ns hm 1 2 3 4 5\nwww 60 A 192.0.2.300\n");
	assert_int_equal(zone_load(apex, path, &z, err, sizeof(err)), TDNS_EZONEFILE);
	char want[256];
	snprintf(want, sizeof(want), "%s:3: ", path);
	assert_memory_equal(err, want, strlen(want));

	snprintf(path, sizeof(path), "%s/nons.zone", tmpdir);
	write_file(path, "$ORIGIN example.com.\n@ 60 SOA ns hm 1 2 3 4 5\n");
	assert_int_equal(zone_load(apex, path, &z, err, sizeof(err)), TDNS_ENOAPEXNS);
	assert_string_equal(err, "zone example.com.: no NS records at the zone apex");

	snprintf(path, sizeof(path), "%s/missing.zone", tmpdir);
	assert_int_equal(zone_load(apex, path, &z, err, sizeof(err)), TDNS_EIO);
	assert_non_null(strstr(err, "missing.zone"));
}

struct dump {
	char *text;
	size_t len;
};

/* Every RR of a zone as text, in canonical node order and type order: a comparable image. */
static int
dump_cb(void *ctx, const struct zone_node *n)
{
	struct dump *d = ctx;
	for (uint32_t type = 0; type <= 65535; type++) {
		const struct zone_rrset *r = zone_node_rrset(n, (uint16_t)type);
		if (r == NULL) {
			continue;
		}
		const uint8_t *p = r->data;
		for (uint16_t i = 0; i < r->count; i++) {
			const uint8_t *rd;
			uint16_t rdlen;
			p = zone_rdata_next(p, &rd, &rdlen);
			char line[4096];
			int len = dns_rr_to_text(n->name, r->type, DNS_CLASS_IN, r->ttl, rd, rdlen,
						 line, sizeof(line));
			assert_true(len > 0);
			d->text = realloc(d->text, d->len + (size_t)len + 2);
			memcpy(d->text + d->len, line, (size_t)len);
			d->len += (size_t)len;
			d->text[d->len++] = '\n';
			d->text[d->len] = '\0';
		}
	}
	return 0;
}

static char *
dump_zone(const struct zone *z)
{
	struct dump d = { .text = NULL, .len = 0 };
	assert_int_equal(zone_walk(z, dump_cb, &d), 0);
	return d.text;
}

static void
run_tool(const char *cmd)
{
	int rc = system(cmd);
	if (rc != 0) {
		fail_msg("'%s' failed with status %d", cmd, rc);
	}
}

static void
test_written_zone_reloads_identically_and_passes_bind_and_knot(void **state)
{
	(void)state;
	static const char extra[] =
		"txt TXT \"a \\\"quoted\\\" string\" \"with; semicolon\"\n"
		"caa CAA 0 issue \"ca.example.net\"\n"
		"unk TYPE65000 \\# 3 010203\n"
		"esc\\.aped A 192.0.2.9\n";
	size_t len = strlen(zone_com) + strlen(extra) + 1;
	char *text = malloc(len);
	snprintf(text, len, "%s%s", zone_com, extra);
	struct zone *z = good_zone("example.com.", text);
	free(text);

	char path[128];
	snprintf(path, sizeof(path), "%s/example.com.zone", tmpdir);
	int werr = -1;
	assert_int_equal(zone_write(z, path, &werr), TDNS_OK);
	assert_int_equal(werr, 0);
	char tmp[160];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(access(tmp, F_OK), -1);

	/* $ORIGIN first, then the SOA. */
	FILE *f = fopen(path, "r");
	char line[512];
	assert_non_null(fgets(line, sizeof(line), f));
	assert_string_equal(line, "$ORIGIN example.com.\n");
	assert_non_null(fgets(line, sizeof(line), f));
	assert_non_null(strstr(line, "\tSOA\t"));
	fclose(f);

	uint8_t apex[DNS_NAME_MAX];
	name("example.com.", apex);
	struct zone *back;
	char err[512];
	assert_int_equal(zone_load(apex, path, &back, err, sizeof(err)), TDNS_OK);
	char *a = dump_zone(z), *b = dump_zone(back);
	assert_string_equal(a, b);
	assert_int_equal(z->nrecords, back->nrecords);
	free(a);
	free(b);
	zone_free(back);
	zone_free(z);

	char cmd[512];
	snprintf(cmd, sizeof(cmd), "named-checkzone -q -i local example.com '%s'", path);
	run_tool(cmd);
	snprintf(cmd, sizeof(cmd), "kzonecheck -o example.com '%s' >/dev/null", path);
	run_tool(cmd);
}

/* ------------------------------------------------------------------------------------------ */
/* Answers                                                                                     */

static void
test_exact_answer_is_authoritative_with_qname_case(void **state)
{
	struct zone_set *s = *state;
	const struct want w = { "WWW.Example.COM.", DNS_TYPE_A, DNS_RCODE_NOERROR, 1,
				"WWW.Example.COM. 3600 IN A 192.0.2.80\n"
				"WWW.Example.COM. 3600 IN A 192.0.2.81", "", "" };
	struct reply *r = asked(s, &w);
	assert_true(r->info.authoritative);
	/* The answer's owner is a pointer to the question (offset 12). */
	assert_int_equal(r->pkt[r->len - 16], 0xc0);
	assert_int_equal(r->pkt[r->len - 15], 12);
	reply_free(r);
}

static void
test_cname_chain_is_followed_inside_the_zone(void **state)
{
	struct zone_set *s = *state;
	const struct want w[] = {
		{ "chain1.example.com.", DNS_TYPE_A, DNS_RCODE_NOERROR, 1,
		  "chain1.example.com. 3600 IN CNAME chain2.example.com.\n"
		  "chain2.example.com. 3600 IN CNAME alias.example.com.\n"
		  "alias.example.com. 3600 IN CNAME www.example.com.\n"
		  "www.example.com. 3600 IN A 192.0.2.80\n"
		  "www.example.com. 3600 IN A 192.0.2.81", NULL, NULL },
		/* Asking for the CNAME itself does not follow it. */
		{ "alias.example.com.", DNS_TYPE_CNAME, NOCHECK, NOCHECK,
		  "alias.example.com. 3600 IN CNAME www.example.com.", NULL, NULL },
		/* A CNAME to a missing type ends in NODATA for the target. */
		{ "alias.example.com.", DNS_TYPE_TXT, DNS_RCODE_NOERROR, NOCHECK,
		  "alias.example.com. 3600 IN CNAME www.example.com.", soa_com_neg, NULL },
	};
	EXPECT(s, w);
}

static void
test_cname_chain_crosses_into_other_zone_of_the_set(void **state)
{
	struct zone_set *s = *state;
	const struct want w[] = {
		{ "cross.example.com.", DNS_TYPE_A, DNS_RCODE_NOERROR, 1,
		  "cross.example.com. 3600 IN CNAME www.example.org.\n"
		  "www.example.org. 3600 IN A 198.51.100.1", NULL, NULL },
		/* RFC 6604: the rcode describes the last name of the chain, with its zone's SOA. */
		{ "crossnx.example.com.", DNS_TYPE_A, DNS_RCODE_NXDOMAIN, 1,
		  "crossnx.example.com. 3600 IN CNAME nothere.example.org.", soa_org_neg, NULL },
	};
	EXPECT(s, w);
}

static void
test_cname_to_foreign_name_is_the_answer(void **state)
{
	struct zone_set *s = *state;
	const struct want w[] = {
		{ "outside.example.com.", DNS_TYPE_A, DNS_RCODE_NOERROR, 1,
		  "outside.example.com. 3600 IN CNAME www.elsewhere.test.", "", NULL },
	};
	EXPECT(s, w);
}

static void
test_cname_loop_stops(void **state)
{
	struct zone_set *s = *state;
	const struct want w[] = {
		{ "loop1.example.com.", DNS_TYPE_A, DNS_RCODE_NOERROR, NOCHECK,
		  "loop1.example.com. 3600 IN CNAME loop2.example.com.\n"
		  "loop2.example.com. 3600 IN CNAME loop1.example.com.", NULL, NULL },
	};
	EXPECT(s, w);
}

static void
test_cname_chain_length_is_limited(void **state)
{
	(void)state;
	char text[8192];
	size_t n = (size_t)snprintf(text, sizeof(text),
				    "$ORIGIN example.com.\n@ 60 SOA ns hm 1 2 3 4 5\n"
				    "@ 60 NS ns.example.net.\n");
	for (int i = 0; i < 40; i++) {
		n += (size_t)snprintf(text + n, sizeof(text) - n, "c%d 60 CNAME c%d\n", i, i + 1);
	}
	snprintf(text + n, sizeof(text) - n, "c40 60 A 192.0.2.1\n");
	struct zone_set *s = set_of("example.com.", text, NULL, NULL);
	struct reply *r = ask(s, "c0.example.com.", DNS_TYPE_A);
	assert_int_equal(r->info.rcode, DNS_RCODE_NOERROR);
	assert_int_equal(r->m.count[DNS_SECTION_ANSWER], 16);
	assert_null(strstr(ANSWER(r), " A "));
	reply_free(r);
	zone_set_free(s);
}


static void
test_dname_answers_with_synthesised_cname(void **state)
{
	struct zone_set *s = *state;
	const struct want w[] = {
		{ "WWW.dn.example.com.", DNS_TYPE_A, DNS_RCODE_NOERROR, 1,
		  "dn.example.com. 3600 IN DNAME example.org.\n"
		  "WWW.dn.example.com. 3600 IN CNAME WWW.example.org.\n"
		  "WWW.example.org. 3600 IN A 198.51.100.1", NULL, NULL },
		/* The DNAME owner itself is answered normally (RFC 6672 §2.3). */
		{ "dn.example.com.", DNS_TYPE_DNAME, NOCHECK, NOCHECK,
		  "dn.example.com. 3600 IN DNAME example.org.", NULL, NULL },
		{ "dn.example.com.", DNS_TYPE_A, NOCHECK, NOCHECK, "", soa_com_neg, NULL },
	};
	EXPECT(s, w);
}

static void
test_dname_overflow_gives_yxdomain(void **state)
{
	(void)state;
	char l63[64];
	memset(l63, 'x', 63);
	l63[63] = '\0';
	char text[2048];
	snprintf(text, sizeof(text),
		 "$ORIGIN example.com.\n@ 60 SOA ns hm 1 2 3 4 5\n@ 60 NS ns.example.net.\n"
		 "long 60 DNAME %s.%s.%s.example.org.\n", l63, l63, l63);
	struct zone_set *s = set_of("example.com.", text, NULL, NULL);
	char q[512];
	snprintf(q, sizeof(q), "%s.%s.%s.long.example.com.", l63, l63, l63);
	const struct want w = { q, DNS_TYPE_A, DNS_RCODE_YXDOMAIN, 1,
				"~long.example.com. 60 IN DNAME ", NULL, NULL };
	struct reply *r = asked(s, &w);
	assert_int_equal(r->m.count[DNS_SECTION_ANSWER], 1);
	reply_free(r);
	zone_set_free(s);
}

static void
test_wildcard_synthesis_follows_rfc4592_examples(void **state)
{
	struct zone_set *s = *state;
	const struct want w[] = {
		/* RFC 4592 §2.2.1: answers synthesised from "*.example." */
		{ "host3.example.", DNS_TYPE_MX, DNS_RCODE_NOERROR, 1,
		  "host3.example. 3600 IN MX 10 host1.example.", NULL,
		  "host1.example. 3600 IN A 192.0.2.1" },
		{ "host3.example.", DNS_TYPE_A, DNS_RCODE_NOERROR, NOCHECK, "",
		  "~example. 5 IN SOA ", NULL },
		{ "foo.bar.example.", DNS_TYPE_TXT, DNS_RCODE_NOERROR, NOCHECK,
		  "foo.bar.example. 3600 IN TXT \"this is a wildcard\"", NULL, NULL },
		/* ...and those that are not. */
		{ "host1.example.", DNS_TYPE_MX, DNS_RCODE_NOERROR, NOCHECK, "", NULL, NULL },
		{ "sub.*.example.", DNS_TYPE_MX, DNS_RCODE_NOERROR, NOCHECK, "", NULL, NULL },
		{ "_telnet._tcp.host1.example.", DNS_TYPE_SRV, DNS_RCODE_NXDOMAIN, NOCHECK, "",
		  NULL, NULL },
		{ "host.subdel.example.", DNS_TYPE_A, DNS_RCODE_NOERROR, 0, NULL,
		  "subdel.example. 3600 IN NS ns.example.com.\n"
		  "subdel.example. 3600 IN NS ns.example.net.", NULL },
		{ "ghost.*.example.", DNS_TYPE_MX, DNS_RCODE_NXDOMAIN, NOCHECK, NULL, NULL, NULL },
		/* The wildcard itself asked for directly is an ordinary name. */
		{ "*.example.", DNS_TYPE_TXT, NOCHECK, NOCHECK,
		  "*.example. 3600 IN TXT \"this is a wildcard\"", NULL, NULL },
	};
	EXPECT(s, w);
}

static void
test_wildcard_does_not_match_existing_empty_non_terminal(void **state)
{
	struct zone_set *s = *state;
	const struct want w[] = {
		/* host2.example. and _tcp.host2.example. exist as empty non-terminals. */
		{ "host2.example.", DNS_TYPE_TXT, DNS_RCODE_NOERROR, NOCHECK, "", "~ SOA ", NULL },
		{ "_tcp.host2.example.", DNS_TYPE_MX, DNS_RCODE_NOERROR, NOCHECK, "", NULL, NULL },
		/* Below an ENT the closest encloser is the ENT, which has no wildcard. */
		{ "x._tcp.host2.example.", DNS_TYPE_TXT, DNS_RCODE_NXDOMAIN, NOCHECK, NULL, NULL,
		  NULL },
	};
	EXPECT(s, w);
}

static void
test_wildcard_cname_is_followed_with_qname_owner(void **state)
{
	struct zone_set *s = *state;
	const struct want w[] = {
		{ "Any.Thing.wc.example.com.", DNS_TYPE_A, DNS_RCODE_NOERROR, 1,
		  "Any.Thing.wc.example.com. 3600 IN CNAME www.example.com.\n"
		  "www.example.com. 3600 IN A 192.0.2.80\n"
		  "www.example.com. 3600 IN A 192.0.2.81", NULL, NULL },
		{ "x.wild.example.com.", DNS_TYPE_MX, NOCHECK, NOCHECK,
		  "x.wild.example.com. 3600 IN MX 10 mail.example.com.", NULL,
		  "mail.example.com. 3600 IN A 192.0.2.25" },
	};
	EXPECT(s, w);
}

static void
test_referral_has_ns_and_glue_and_no_aa(void **state)
{
	struct zone_set *s = *state;
	const char *names[] = { "host.sub.example.com.", "sub.example.com.",
				"deep.er.sub.example.com." };
	for (size_t i = 0; i < 3; i++) {
		/* Glue from below this cut and from below another one. */
		const struct want w = { names[i], DNS_TYPE_A, DNS_RCODE_NOERROR, 0, "",
					"sub.example.com. 3600 IN NS ns.sub.example.com.\n"
					"sub.example.com. 3600 IN NS ns.other.sub2.example.com.",
					"ns.sub.example.com. 3600 IN A 192.0.2.100\n"
					"ns.other.sub2.example.com. 3600 IN A 192.0.2.101" };
		struct reply *r = asked(s, &w);
		assert_false(r->info.authoritative);
		reply_free(r);
	}
	/* NS at the cut is a referral too, not an answer. */
	const struct want ns = { "sub.example.com.", DNS_TYPE_NS, NOCHECK, 0, "", NULL, NULL };
	struct reply *r = asked(s, &ns);
	assert_int_equal(r->m.count[DNS_SECTION_AUTHORITY], 2);
	reply_free(r);
}

static void
test_ds_at_cut_is_answered_by_the_parent(void **state)
{
	struct zone_set *s = *state;
	const struct want ds = { "sub.example.com.", DNS_TYPE_DS, DNS_RCODE_NOERROR, 1,
				 "~sub.example.com. 3600 IN DS 12345 8 2 ", NULL, NULL };
	struct reply *r = asked(s, &ds);
	assert_int_equal(r->m.count[DNS_SECTION_ANSWER], 1);
	reply_free(r);

	const struct want nods[] = {
		{ "nods.example.com.", DNS_TYPE_DS, DNS_RCODE_NOERROR, 1, "", soa_com_neg, NULL },
	};
	EXPECT(s, nods);

	/* DS below a cut is still a referral. */
	const struct want below = { "x.sub.example.com.", DNS_TYPE_DS, NOCHECK, 0, NULL, NULL,
				    NULL };
	r = asked(s, &below);
	assert_int_equal(r->m.count[DNS_SECTION_AUTHORITY], 2);
	reply_free(r);
}

static void
test_ds_for_child_apex_comes_from_parent_zone_in_set(void **state)
{
	(void)state;
	static const char child[] = "$ORIGIN sub.example.com.\n"
				    "@ 60 SOA ns hm 7 2 3 4 5\n"
				    "@ 60 NS ns\n"
				    "ns 60 A 192.0.2.100\n";
	struct zone_set *s = set_of("example.com.", zone_com, "sub.example.com.", child);
	const struct want w[] = {
		{ "sub.example.com.", DNS_TYPE_DS, NOCHECK, 1,
		  "~sub.example.com. 3600 IN DS 12345 ", NULL, NULL },
		/* Everything else at the child apex comes from the child. */
		{ "sub.example.com.", DNS_TYPE_NS, NOCHECK, 1,
		  "sub.example.com. 60 IN NS ns.sub.example.com.", NULL, NULL },
	};
	EXPECT(s, w);
	zone_set_free(s);
}

static void
test_negative_answers_carry_soa_with_rfc2308_ttl(void **state)
{
	struct zone_set *s = *state;
	const struct want w[] = {
		/* SOA TTL 3600, MINIMUM 300: the negative TTL is 300. */
		{ "nope.example.com.", DNS_TYPE_A, DNS_RCODE_NXDOMAIN, 1, "", soa_com_neg, NULL },
		{ "www.example.com.", DNS_TYPE_AAAA, DNS_RCODE_NOERROR, NOCHECK, NULL, soa_com_neg,
		  NULL },
		/* Empty non-terminal: NODATA. */
		{ "b.ent.example.com.", DNS_TYPE_A, DNS_RCODE_NOERROR, NOCHECK, NULL, soa_com_neg,
		  NULL },
		/* SOA TTL 60, MINIMUM 3600: the negative TTL is 60. */
		{ "nope.example.org.", DNS_TYPE_A, DNS_RCODE_NXDOMAIN, NOCHECK, NULL, soa_org_neg,
		  NULL },
	};
	EXPECT(s, w);
}

static void
test_any_returns_a_single_rrset(void **state)
{
	struct zone_set *s = *state;
	const struct want w[] = {
		{ "example.com.", DNS_TYPE_ANY, DNS_RCODE_NOERROR, 1,
		  "example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 2024010101 "
		  "7200 3600 1209600 300", NULL, NULL },
		{ "ns1.example.com.", DNS_TYPE_ANY, NOCHECK, NOCHECK,
		  "ns1.example.com. 3600 IN A 192.0.2.53", NULL, NULL },
		/* A CNAME matches ANY itself and is not followed. */
		{ "alias.example.com.", DNS_TYPE_ANY, NOCHECK, NOCHECK,
		  "alias.example.com. 3600 IN CNAME www.example.com.", NULL, NULL },
		{ "nope.example.com.", DNS_TYPE_ANY, DNS_RCODE_NXDOMAIN, NOCHECK, NULL, NULL,
		  NULL },
	};
	EXPECT(s, w);
}

static void
test_additional_addresses_for_mx_srv_and_ns_targets(void **state)
{
	struct zone_set *s = *state;
	const struct want w[] = {
		{ "example.com.", DNS_TYPE_MX, NOCHECK, NOCHECK,
		  "example.com. 3600 IN MX 10 mail.example.com.\n"
		  "example.com. 3600 IN MX 20 mail.elsewhere.test.", NULL,
		  "mail.example.com. 3600 IN A 192.0.2.25" },
		{ "_sip._tcp.example.com.", DNS_TYPE_SRV, NOCHECK, NOCHECK,
		  "_sip._tcp.example.com. 3600 IN SRV 0 5 5060 sip.example.com.", NULL,
		  "sip.example.com. 3600 IN A 192.0.2.60\n"
		  "sip.example.com. 3600 IN AAAA 2001:db8::60" },
		{ "example.com.", DNS_TYPE_NS, NOCHECK, 1, NULL, NULL,
		  "ns1.example.com. 3600 IN A 192.0.2.53\n"
		  "ns1.example.com. 3600 IN AAAA 2001:db8::53" },
		/* Targets in another zone of the set are ours too. */
		{ "mxout.example.com.", DNS_TYPE_MX, NOCHECK, NOCHECK, NULL, NULL,
		  "www.example.org. 3600 IN A 198.51.100.1" },
		/* A target below a cut is glue, not authoritative data: left out. */
		{ "mxcut.example.com.", DNS_TYPE_MX, NOCHECK, NOCHECK,
		  "mxcut.example.com. 3600 IN MX 10 ns.sub.example.com.", NULL, "" },
	};
	EXPECT(s, w);
}

static void
test_refused_outside_zones_and_for_other_classes_and_transfers(void **state)
{
	struct zone_set *s = *state;
	const struct want net = { "www.example.net.", DNS_TYPE_A, DNS_RCODE_REFUSED, 0, NULL, NULL,
				  NULL };
	struct reply *r = asked(s, &net);
	assert_int_equal(r->m.nrr, 0);
	reply_free(r);
	const struct want w[] = {
		{ "com.", DNS_TYPE_NS, DNS_RCODE_REFUSED, NOCHECK, NULL, NULL, NULL },
		{ "example.com.", DNS_TYPE_AXFR, DNS_RCODE_REFUSED, NOCHECK, NULL, NULL, NULL },
	};
	EXPECT(s, w);
	/* Class CH is refused; class ANY is answered. */
	const struct want ch = { "www.example.com.", DNS_TYPE_A, DNS_RCODE_REFUSED, 0, NULL, NULL,
				 NULL };
	r = ask_full(s, ch.qname, ch.qtype, DNS_CLASS_CH, DNS_MSG_MAX);
	check(r, &ch);
	reply_free(r);
	r = ask_full(s, "www.example.com.", DNS_TYPE_A, DNS_CLASS_ANY, DNS_MSG_MAX);
	assert_int_equal(r->info.rcode, DNS_RCODE_NOERROR);
	assert_int_equal(r->m.count[DNS_SECTION_ANSWER], 2);
	reply_free(r);
}

static void
test_truncation_sets_tc_when_answer_does_not_fit(void **state)
{
	(void)state;
	char text[16384];
	size_t n = (size_t)snprintf(text, sizeof(text),
				    "$ORIGIN example.com.\n@ 60 SOA ns hm 1 2 3 4 5\n"
				    "@ 60 NS ns.example.net.\n");
	for (int i = 0; i < 60; i++) {
		n += (size_t)snprintf(text + n, sizeof(text) - n, "big 60 A 10.0.0.%d\n", i);
	}
	for (int i = 0; i < 40; i++) {
		n += (size_t)snprintf(text + n, sizeof(text) - n, "big 60 MX %d mx%d\n", i, i);
		n += (size_t)snprintf(text + n, sizeof(text) - n, "mx%d 60 A 10.1.0.%d\n", i, i);
	}
	struct zone_set *s = set_of("example.com.", text, NULL, NULL);
	/* 60 A records need 12 + 21 + 60 * 16 = 993 octets. */
	struct reply *r = ask_full(s, "big.example.com.", DNS_TYPE_A, DNS_CLASS_IN, 512);
	assert_true(r->info.truncated);
	assert_true(r->m.flags & DNS_FLAG_TC);
	assert_int_equal(r->m.nrr, 0);
	assert_true(aa(r));
	reply_free(r);
	r = ask_full(s, "big.example.com.", DNS_TYPE_A, DNS_CLASS_IN, 1232);
	assert_false(r->info.truncated);
	assert_false(r->m.flags & DNS_FLAG_TC);
	assert_int_equal(r->m.count[DNS_SECTION_ANSWER], 60);
	reply_free(r);
	/* Additional records that do not fit are left out without TC. */
	r = ask_full(s, "big.example.com.", DNS_TYPE_MX, DNS_CLASS_IN, 1232);
	assert_false(r->info.truncated);
	assert_false(r->m.flags & DNS_FLAG_TC);
	assert_int_equal(r->m.count[DNS_SECTION_ANSWER], 40);
	assert_true(r->m.count[DNS_SECTION_ADDITIONAL] > 0);
	assert_true(r->m.count[DNS_SECTION_ADDITIONAL] < 32);
	assert_true(r->len <= 1232);
	reply_free(r);
	zone_set_free(s);
}

/* ------------------------------------------------------------------------------------------ */
/* References, copies and removal (run-time changes)                                           */

static struct zone_set *
set_with(struct zone *z)
{
	struct zone_set *s = zone_set_new();
	assert_non_null(s);
	assert_int_equal(zone_set_add(s, z), TDNS_OK);
	return s;
}

static void
test_zone_ref_keeps_zone_alive_until_last_reference_is_dropped(void **state)
{
	(void)state;
	struct zone *z = good_zone("example.com.", zone_com);
	assert_int_equal(z->refs, 1);
	assert_ptr_equal(zone_ref(z), z);
	assert_int_equal(z->refs, 2);
	zone_free(z);
	assert_int_equal(z->refs, 1);
	uint8_t n[DNS_NAME_MAX];
	name("www.example.com.", n);
	assert_non_null(zone_find(z, n));
	zone_free(z);
	assert_null(zone_ref(NULL));
}

static void
test_sets_share_zones_and_each_set_drops_its_own_reference(void **state)
{
	(void)state;
	struct zone_set *a = set_of("example.com.", zone_com, "example.org.", zone_org);
	struct zone_set *b = zone_set_new();
	assert_int_equal(zone_set_count(a), 2);
	for (size_t i = 0; i < zone_set_count(a); i++) {
		/* A published zone is never changed; only its count is. */
		struct zone *z = (struct zone *)zone_set_get(a, i);
		assert_int_equal(zone_set_add(b, zone_ref(z)), TDNS_OK);
		assert_int_equal(z->refs, 2);
	}
	assert_null(zone_set_get(a, 2));
	zone_set_free(a);
	struct reply *r = ask(b, "www.example.org.", DNS_TYPE_A);
	assert_string_equal(ANSWER(r), "www.example.org. 3600 IN A 198.51.100.1");
	reply_free(r);
	zone_set_free(b);
}

static void
test_zone_set_find_matches_the_exact_apex_only(void **state)
{
	(void)state;
	struct zone_set *s = set_of("example.com.", zone_com, "sub.example.com.",
				       "$ORIGIN sub.example.com.\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\n"
				       "ns A 192.0.2.1\n");
	uint8_t n[DNS_NAME_MAX];
	name("EXAMPLE.com.", n);
	const struct zone *z = zone_set_find(s, n);
	assert_non_null(z);
	assert_string_equal(z->name, "example.com.");
	name("sub.example.com.", n);
	assert_string_equal(zone_set_find(s, n)->name, "sub.example.com.");
	name("www.example.com.", n);
	assert_null(zone_set_find(s, n));
	name("com.", n);
	assert_null(zone_set_find(s, n));
	assert_null(zone_set_find(NULL, n));
	zone_set_free(s);
}

static void
test_clone_is_an_independent_deep_copy(void **state)
{
	(void)state;
	struct zone *z = good_zone("example.com.", zone_com);
	struct zone *c = zone_clone(z);
	assert_non_null(c);
	assert_int_equal(c->refs, 1);
	assert_int_equal(c->nrecords, z->nrecords);
	assert_int_equal(c->nnodes, z->nnodes);
	assert_int_equal(c->serial, z->serial);
	assert_string_equal(c->name, z->name);
	char *a = dump_zone(z), *b = dump_zone(c);
	assert_string_equal(a, b);
	free(b);

	/* Changing the copy leaves the original as it was. */
	uint8_t n[DNS_NAME_MAX], rd[4] = { 192, 0, 2, 99 };
	name("www.example.com.", n);
	assert_int_equal(zone_add_rr(c, n, DNS_TYPE_A, 3600, rd, 4), TDNS_OK);
	name("new.example.com.", n);
	assert_int_equal(zone_add_rr(c, n, DNS_TYPE_A, 3600, rd, 4), TDNS_OK);
	name("mail.example.com.", n);
	assert_int_equal(zone_remove_rr(c, n, 0, NULL, 0), TDNS_OK);
	assert_int_equal(zone_check(c, NULL, NULL), TDNS_OK);
	b = dump_zone(z);
	assert_string_equal(a, b);
	free(a);
	free(b);
	name("new.example.com.", n);
	assert_null(zone_find(z, n));
	assert_non_null(zone_find(c, n));

	/* The copy answers like the original: cuts, wildcards, CNAMEs. */
	struct zone_set *s = set_with(c);
	struct reply *r = ask(s, "www.example.com.", DNS_TYPE_A);
	assert_int_equal(r->m.count[DNS_SECTION_ANSWER], 3);
	reply_free(r);
	r = ask(s, "host.sub.example.com.", DNS_TYPE_A);
	assert_false(aa(r));
	assert_non_null(strstr(AUTHORITY(r), "sub.example.com. 3600 IN NS ns.sub.example.com."));
	reply_free(r);
	r = ask(s, "x.wild.example.com.", DNS_TYPE_TXT);
	assert_string_equal(ANSWER(r), "x.wild.example.com. 3600 IN TXT \"wildcard\"");
	reply_free(r);
	r = ask(s, "mail.example.com.", DNS_TYPE_A);
	assert_int_equal(r->info.rcode, DNS_RCODE_NXDOMAIN);
	reply_free(r);
	zone_set_free(s);
	zone_free(z);
}

static void
test_remove_rr_removes_one_rdata_an_rrset_or_a_name(void **state)
{
	(void)state;
	struct zone *z = good_zone("example.com.", zone_com);
	size_t nrec = z->nrecords;
	uint8_t n[DNS_NAME_MAX], rd[4] = { 192, 0, 2, 81 };
	name("WWW.example.com.", n);
	assert_int_equal(zone_remove_rr(z, n, DNS_TYPE_A, rd, 4), TDNS_OK);
	assert_int_equal(z->nrecords, nrec - 1);
	assert_int_equal(zone_remove_rr(z, n, DNS_TYPE_A, rd, 4), TDNS_ENOENT);
	assert_int_equal(zone_remove_rr(z, n, DNS_TYPE_AAAA, NULL, 0), TDNS_ENOENT);
	assert_int_equal(z->nrecords, nrec - 1);
	struct zone_set *s = set_with(z);
	struct reply *r = ask(s, "www.example.com.", DNS_TYPE_A);
	assert_string_equal(ANSWER(r), "www.example.com. 3600 IN A 192.0.2.80");
	reply_free(r);

	/* Whole rrset: sip keeps its AAAA. */
	name("sip.example.com.", n);
	assert_int_equal(zone_remove_rr(z, n, DNS_TYPE_A, NULL, 0), TDNS_OK);
	assert_int_equal(z->nrecords, nrec - 2);
	r = ask(s, "sip.example.com.", DNS_TYPE_A);
	assert_int_equal(r->info.rcode, DNS_RCODE_NOERROR);
	assert_int_equal(r->m.count[DNS_SECTION_ANSWER], 0);
	reply_free(r);
	r = ask(s, "sip.example.com.", DNS_TYPE_AAAA);
	assert_int_equal(r->m.count[DNS_SECTION_ANSWER], 1);
	reply_free(r);

	/* Every rrset at a name: the name is gone (NXDOMAIN, not NODATA). */
	assert_int_equal(zone_remove_rr(z, n, 0, NULL, 0), TDNS_OK);
	assert_int_equal(z->nrecords, nrec - 3);
	assert_null(zone_find(z, n));
	r = ask(s, "sip.example.com.", DNS_TYPE_A);
	assert_int_equal(r->info.rcode, DNS_RCODE_NXDOMAIN);
	reply_free(r);
	assert_int_equal(zone_remove_rr(z, n, 0, NULL, 0), TDNS_ENOENT);
	zone_set_free(s);
}

static void
test_remove_rr_prunes_empty_ancestors_but_keeps_empty_non_terminals(void **state)
{
	(void)state;
	struct zone *z = good_zone("example.com.",
				   "$ORIGIN example.com.\n"
				   "@ SOA ns hm 1 2 3 4 5\n"
				   "@ NS ns\n"
				   "ns A 192.0.2.1\n"
				   "a.b.ent A 192.0.2.2\n"
				   "c.b.ent A 192.0.2.3\n"
				   "*.w TXT \"wild\"\n");
	size_t nodes = z->nnodes;
	uint8_t n[DNS_NAME_MAX];
	name("a.b.ent.example.com.", n);
	assert_int_equal(zone_remove_rr(z, n, DNS_TYPE_A, NULL, 0), TDNS_OK);
	assert_int_equal(z->nnodes, nodes - 1);
	name("b.ent.example.com.", n);
	assert_non_null(zone_find(z, n));
	name("c.b.ent.example.com.", n);
	assert_int_equal(zone_remove_rr(z, n, 0, NULL, 0), TDNS_OK);
	/* c.b.ent, b.ent and ent only existed for the records removed. */
	assert_int_equal(z->nnodes, nodes - 4);
	name("ent.example.com.", n);
	assert_null(zone_find(z, n));

	/* A wildcard that is removed no longer synthesises answers. */
	name("*.w.example.com.", n);
	assert_int_equal(zone_remove_rr(z, n, DNS_TYPE_TXT, NULL, 0), TDNS_OK);
	assert_int_equal(zone_check(z, NULL, NULL), TDNS_OK);
	struct zone_set *s = set_with(z);
	struct reply *r = ask(s, "x.w.example.com.", DNS_TYPE_TXT);
	assert_int_equal(r->info.rcode, DNS_RCODE_NXDOMAIN);
	reply_free(r);
	r = ask(s, "b.ent.example.com.", DNS_TYPE_A);
	assert_int_equal(r->info.rcode, DNS_RCODE_NXDOMAIN);
	reply_free(r);
	zone_set_free(s);

	/* The apex is never pruned, and pruned names can come back. */
	z = good_zone("example.com.", "$ORIGIN example.com.\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\n"
				      "ns A 192.0.2.1\n");
	name("example.com.", n);
	assert_int_equal(zone_remove_rr(z, n, 0, NULL, 0), TDNS_OK);
	assert_non_null(zone_find(z, n));
	name("ns.example.com.", n);
	assert_int_equal(zone_remove_rr(z, n, 0, NULL, 0), TDNS_OK);
	uint8_t rd[4] = { 192, 0, 2, 7 };
	assert_int_equal(zone_add_rr(z, n, DNS_TYPE_A, 60, rd, 4), TDNS_OK);
	assert_non_null(zone_find(z, n));
	assert_int_equal(z->nnodes, 2);
	assert_int_equal(z->nrecords, 1);
	struct zone *c = zone_clone(z);
	assert_int_equal(c->nnodes, 2);
	zone_free(c);
	zone_free(z);
}

static void
test_removing_a_delegation_makes_names_below_it_authoritative(void **state)
{
	(void)state;
	struct zone *z = good_zone("example.com.", zone_com);
	uint8_t n[DNS_NAME_MAX];
	name("sub.example.com.", n);
	assert_int_equal(zone_remove_rr(z, n, DNS_TYPE_NS, NULL, 0), TDNS_OK);
	assert_int_equal(zone_remove_rr(z, n, DNS_TYPE_DS, NULL, 0), TDNS_OK);
	assert_int_equal(zone_check(z, NULL, NULL), TDNS_OK);
	struct zone_set *s = set_with(z);
	struct reply *r = ask(s, "host.sub.example.com.", DNS_TYPE_A);
	assert_true(aa(r));
	assert_string_equal(ANSWER(r), "host.sub.example.com. 3600 IN A 192.0.2.7");
	reply_free(r);
	zone_set_free(s);
}

static void
test_zone_to_text_is_what_zone_write_writes(void **state)
{
	(void)state;
	struct zone *z = good_zone("example.com.", zone_com);
	char path[] = "/tmp/tdns-test-totext-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	int werr = -1;
	assert_int_equal(zone_write(z, path, &werr), TDNS_OK);
	assert_int_equal(werr, 0);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	static char file[1 << 16];
	size_t flen = fread(file, 1, sizeof(file) - 1, f);
	fclose(f);
	unlink(path);
	size_t len = 0;
	char *text = zone_to_text(z, &len);
	assert_non_null(text);
	assert_int_equal(len, flen);
	assert_int_equal(strlen(text), len);
	assert_memory_equal(text, file, len);
	free(text);
	zone_free(z);
}

static void
test_load_mem_checks_the_zone_and_reports_name_and_line(void **state)
{
	(void)state;
	uint8_t apex[DNS_NAME_MAX];
	name("example.org.", apex);
	struct zone *z = NULL;
	char err[512];
	assert_int_equal(zone_load_mem(apex, zone_org, strlen(zone_org), "import", &z, err,
				       sizeof(err)),
			 TDNS_OK);
	assert_non_null(z);
	assert_int_equal(z->serial, 1);
	assert_null(z->file);
	zone_free(z);

	static const char bad[] = "$ORIGIN example.org.\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\n"
				  "ns A 192.0.2.300\n";
	assert_int_not_equal(zone_load_mem(apex, bad, strlen(bad), "import", &z, err,
					   sizeof(err)),
			     TDNS_OK);
	assert_null(z);
	assert_true(strncmp(err, "import:4: ", 10) == 0);

	static const char cname[] = "$ORIGIN example.org.\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\n"
				    "ns A 192.0.2.3\nns CNAME www\n";
	assert_int_equal(zone_load_mem(apex, cname, strlen(cname), "import", &z, err,
				       sizeof(err)),
			 TDNS_ECNAME);
	assert_non_null(strstr(err, "CNAME and other data"));
}

/* Milliseconds of CPU time the calling thread has used. */
static double
thread_cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void
test_clone_of_a_100k_record_zone_is_fast_and_complete(void **state)
{
	(void)state;
	uint8_t apex[DNS_NAME_MAX], n[DNS_NAME_MAX];
	name("big.test.", apex);
	struct zone *z = zone_new(apex);
	static const uint8_t soa[] = { 2, 'n', 's', 0, 2, 'h', 'm', 0, 0, 0, 0, 1, 0, 0, 0, 2,
				       0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5 };
	static const uint8_t ns[] = { 2, 'n', 's', 0 };
	assert_int_equal(zone_add_rr(z, apex, DNS_TYPE_SOA, 60, soa, sizeof(soa)), TDNS_OK);
	assert_int_equal(zone_add_rr(z, apex, DNS_TYPE_NS, 60, ns, sizeof(ns)), TDNS_OK);
	/* CPU time of this thread, not wall time: other processes on a busy machine do not count. */
	double build_ms = thread_cpu_ms();
	for (unsigned i = 0; i < 100000; i++) {
		char text[64];
		snprintf(text, sizeof(text), "h%u.big.test.", i);
		name(text, n);
		uint8_t rd[4] = { 10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };
		assert_int_equal(zone_add_rr(z, n, DNS_TYPE_A, 60, rd, 4), TDNS_OK);
	}
	build_ms = thread_cpu_ms() - build_ms;
	assert_int_equal(zone_check(z, NULL, NULL), TDNS_OK);
	double clone_ms = thread_cpu_ms();
	struct zone *c = zone_clone(z);
	clone_ms = thread_cpu_ms() - clone_ms;
	assert_non_null(c);
	/* Fast means a copy of the built structure in linear time, cheaper than adding the records
	 * one by one (about half of it, sanitizers or not); a clone that re-inserts or searches
	 * per record costs more. */
	print_message("build %.1f ms, clone %.1f ms of CPU\n", build_ms, clone_ms);
	assert_true(clone_ms < build_ms);
	assert_int_equal(c->nrecords, 100002);
	assert_int_equal(c->nnodes, 100001);
	name("h99999.big.test.", n);
	const struct zone_node *node = zone_find(c, n);
	assert_non_null(node);
	const struct zone_rrset *r = zone_node_rrset(node, DNS_TYPE_A);
	assert_non_null(r);
	assert_int_equal(r->data[2 + 3], 99999 & 0xff);
	zone_free(z);
	char *a = dump_zone(c);
	assert_non_null(a);
	free(a);
	zone_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_rr_ignores_duplicates_and_keeps_lowest_ttl),
		cmocka_unit_test(test_add_rr_creates_empty_non_terminals),
		cmocka_unit_test(test_add_rr_rejects_out_of_zone_and_meta_types),
		cmocka_unit_test(test_large_rrset_grows_and_keeps_every_rdata),
		cmocka_unit_test(test_walk_is_in_canonical_order),
		cmocka_unit_test(test_walk_order_agrees_with_name_cmp_for_odd_octets),
		cmocka_unit_test(test_zone_set_matches_longest_apex),
		cmocka_unit_test(test_check_reports_missing_soa_and_apex_ns),
		cmocka_unit_test(test_check_rejects_cname_beside_other_data_but_not_dnssec),
		cmocka_unit_test(test_check_requires_glue_for_in_zone_servers_below_cuts),
		cmocka_unit_test(test_check_sets_delegation_and_wildcard_flags),
		cmocka_unit_test(test_load_reports_out_of_zone_record_with_file_and_line),
		cmocka_unit_test(test_load_reports_syntax_errors_and_check_failures),
		cmocka_unit_test(test_written_zone_reloads_identically_and_passes_bind_and_knot),
		ZONE_TEST(test_exact_answer_is_authoritative_with_qname_case, setup_com),
		ZONE_TEST(test_cname_chain_is_followed_inside_the_zone, setup_com),
		ZONE_TEST(test_cname_chain_crosses_into_other_zone_of_the_set, setup_com_org),
		ZONE_TEST(test_cname_to_foreign_name_is_the_answer, setup_com),
		ZONE_TEST(test_cname_loop_stops, setup_com),
		cmocka_unit_test(test_cname_chain_length_is_limited),
		ZONE_TEST(test_dname_answers_with_synthesised_cname, setup_com_org),
		cmocka_unit_test(test_dname_overflow_gives_yxdomain),
		ZONE_TEST(test_wildcard_synthesis_follows_rfc4592_examples, setup_rfc4592),
		ZONE_TEST(test_wildcard_does_not_match_existing_empty_non_terminal, setup_rfc4592),
		ZONE_TEST(test_wildcard_cname_is_followed_with_qname_owner, setup_com),
		ZONE_TEST(test_referral_has_ns_and_glue_and_no_aa, setup_com),
		ZONE_TEST(test_ds_at_cut_is_answered_by_the_parent, setup_com),
		cmocka_unit_test(test_ds_for_child_apex_comes_from_parent_zone_in_set),
		ZONE_TEST(test_negative_answers_carry_soa_with_rfc2308_ttl, setup_com_org),
		ZONE_TEST(test_any_returns_a_single_rrset, setup_com),
		ZONE_TEST(test_additional_addresses_for_mx_srv_and_ns_targets, setup_com_org),
		ZONE_TEST(test_refused_outside_zones_and_for_other_classes_and_transfers,
			  setup_com),
		cmocka_unit_test(test_truncation_sets_tc_when_answer_does_not_fit),
		cmocka_unit_test(test_zone_ref_keeps_zone_alive_until_last_reference_is_dropped),
		cmocka_unit_test(test_sets_share_zones_and_each_set_drops_its_own_reference),
		cmocka_unit_test(test_zone_set_find_matches_the_exact_apex_only),
		cmocka_unit_test(test_clone_is_an_independent_deep_copy),
		cmocka_unit_test(test_remove_rr_removes_one_rdata_an_rrset_or_a_name),
		cmocka_unit_test(
			test_remove_rr_prunes_empty_ancestors_but_keeps_empty_non_terminals),
		cmocka_unit_test(test_removing_a_delegation_makes_names_below_it_authoritative),
		cmocka_unit_test(test_zone_to_text_is_what_zone_write_writes),
		cmocka_unit_test(test_load_mem_checks_the_zone_and_reports_name_and_line),
		cmocka_unit_test(test_clone_of_a_100k_record_zone_is_fast_and_complete),
	};
	return cmocka_run_group_tests(tests, setup_tmpdir, teardown_tmpdir);
}
