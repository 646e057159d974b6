/* SPDX-License-Identifier: MIT */
/* Unit tests for src/dns/rdata.c and rrtype.c: golden wire, round trips, RFC 3597, errors. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns.h"
#include "unit.h"

static uint8_t origin[DNS_NAME_MAX];

static int
setup(void **state)
{
	(void)state;
	return dns_name_from_text("example.", 8, NULL, origin) > 0 ? 0 : -1;
}

static int
type_of(const char *mnemonic)
{
	int t = dns_type_from_text(mnemonic, strlen(mnemonic));
	assert_true(t >= 0);
	return t;
}

static int
parse(const char *type, const char *text, uint8_t *wire, size_t cap, size_t *len, char *err,
      size_t errlen)
{
	struct dns_tok toks[256];
	size_t nt = dns_rdata_tokenize(text, toks, 256);
	return dns_rdata_from_text((uint16_t)type_of(type), toks, nt, origin, wire, cap, len, err,
				   errlen);
}

/* Text -> wire (compared with golden hex when given) -> text (compared) -> same wire. */
static void
round_trip(const char *type, const char *in, const char *want_text, const char *golden_hex)
{
	static uint8_t wire[DNS_RDATA_MAX], wire2[DNS_RDATA_MAX], gold[DNS_RDATA_MAX];
	static char text[200000];
	char err[256];
	size_t len = 0, len2 = 0;
	int r = parse(type, in, wire, sizeof(wire), &len, err, sizeof(err));
	if (r != TDNS_OK) {
		fail_msg("%s '%s': %d %s", type, in, r, err);
	}
	if (golden_hex != NULL) {
		size_t gl = unit_unhex(golden_hex, gold);
		if (gl != len || memcmp(gold, wire, gl) != 0) {
			fail_msg("%s '%s': wire differs from golden", type, in);
		}
	}
	uint16_t t = (uint16_t)type_of(type);
	assert_int_equal(dns_rdata_check(t, wire, len), TDNS_OK);
	int tl = dns_rdata_to_text(t, wire, len, text, sizeof(text));
	assert_true(tl > 0);
	assert_int_equal((size_t)tl, strlen(text));
	if (want_text != NULL && strcmp(text, want_text) != 0) {
		fail_msg("%s '%s': text '%s', expected '%s'", type, in, text, want_text);
	}
	r = parse(type, text, wire2, sizeof(wire2), &len2, err, sizeof(err));
	if (r != TDNS_OK || len2 != len || memcmp(wire, wire2, len) != 0) {
		fail_msg("%s '%s': re-reading '%s' gives other wire (%s)", type, in, text, err);
	}
}

/* Expects parsing to fail with a message containing want. */
static void
bad(const char *type, const char *in, const char *want)
{
	uint8_t wire[4096];
	size_t len;
	char err[256] = "";
	int r = parse(type, in, wire, sizeof(wire), &len, err, sizeof(err));
	if (r == TDNS_OK) {
		fail_msg("%s '%s' was accepted", type, in);
	}
	if (strstr(err, want) == NULL) {
		fail_msg("%s '%s': message '%s' lacks '%s'", type, in, err, want);
	}
}

static void
test_golden_wire_for_common_types(void **state)
{
	(void)state;
	round_trip("A", "192.0.2.1", "192.0.2.1", "c0000201");
	round_trip("AAAA", "2001:db8::1", "2001:db8::1", "20010db8000000000000000000000001");
	round_trip("AAAA", "::ffff:1.2.3.4", "::ffff:1.2.3.4", "00000000000000000000ffff01020304");
	round_trip("MX", "10 mail", "10 mail.example.", "000a046d61696c076578616d706c6500");
	round_trip("MX", "0 .", "0 .", "000000");
	round_trip("SOA", "ns1 hostmaster 2024010101 1h 15m 1w 300",
		   "ns1.example. hostmaster.example. 2024010101 3600 900 604800 300",
		   "036e7331076578616d706c65000a686f73746d6173746572076578616d706c650078a3f175"
		   "00000e100000038400093a800000012c");
	round_trip("TXT", "\"hello world\" \"second\" unquoted",
		   "\"hello world\" \"second\" \"unquoted\"",
		   "0b68656c6c6f20776f726c64067365636f6e6408756e71756f746564");
	round_trip("TXT", "\"a \\\"quoted\\\" \\\\ back\\010slash\" \"\"",
		   "\"a \\\"quoted\\\" \\\\ back\\010slash\" \"\"",
		   "1761202271756f74656422205c206261636b0a736c61736800");
	round_trip("TXT", "\"caf\\195\\169\"", "\"caf\\195\\169\"", "05636166c3a9");
	round_trip("SRV", "10 20 443 srv.example.", "10 20 443 srv.example.",
		   "000a001401bb03737276076578616d706c6500");
	round_trip("CAA", "0 issue \"letsencrypt.org\"", "0 issue \"letsencrypt.org\"",
		   "000569737375656c657473656e63727970742e6f7267");
	round_trip("CAA", "128 tbs \"Unknown\"", "128 tbs \"Unknown\"", "8003746273556e6b6e6f776e");
	round_trip("CAA", "0 issue \"\"", "0 issue \"\"", "00056973737565");
	round_trip("LOC", "52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m",
		   "52 22 23.000 N 4 53 32.000 E -2.00m 0m 10000m 10m",
		   "000016138b3cf018810cbce0009895b8");
	round_trip("LOC", "42 21 54 N 71 06 18 W -24m 30m",
		   "42 21 54.000 N 71 6 18.000 W -24.00m 30m 10000m 10m",
		   "0033161389172dd070be15f000988d20");
	round_trip("LOC", "42 21 43.952 N 71 5 6.344 W -24m 1m 200m 10m",
		   "42 21 43.952 N 71 5 6.344 W -24.00m 1m 200m 10m",
		   "001224138917069070bf2dd800988d20");
	round_trip("LOC", "0 S 0 W 0m", "0 0 0.000 N 0 0 0.000 E 0.00m 1m 10000m 10m",
		   "00121613800000008000000000989680");
	round_trip("LOC", "90 N 180 W 42849672.95m 90000000m 90000000m 90000000m",
		   "90 0 0.000 N 180 0 0.000 W 42849672.95m 90000000m 90000000m 90000000m",
		   "00999999934fd90059604e00ffffffff");
	round_trip("NSEC", "host.example. A MX RRSIG NSEC TYPE1234",
		   "host.example. A MX RRSIG NSEC TYPE1234",
		   "04686f7374076578616d706c65000006400100000003041b0000000000000000000000000000"
		   "00000000000000000000000020");
	round_trip("NSEC", "host A AAAA NS SOA MX TXT CAA TYPE65534",
		   "host.example. A NS SOA MX TXT AAAA CAA TYPE65534",
		   "04686f7374076578616d706c6500000462018008010140ff2000000000000000000000000000"
		   "00000000000000000000000000000000000002");
	round_trip("SVCB", "0 svc.example.", "0 svc.example.", "000003737663076578616d706c6500");
	round_trip("SVCB", "1 . alpn=h2,h3 port=8443 ipv4hint=192.0.2.1,192.0.2.2",
		   "1 . alpn=\"h2,h3\" port=8443 ipv4hint=192.0.2.1,192.0.2.2",
		   "000100000100060268320268330003000220fb00040008c0000201c0000202");
	round_trip("SVCB",
		   "16 foo mandatory=alpn,ipv4hint alpn=h2 ipv4hint=192.0.2.1 key667=\"hello\"",
		   "16 foo.example. mandatory=alpn,ipv4hint alpn=\"h2\" ipv4hint=192.0.2.1 "
		   "key667=\"hello\"",
		   "001003666f6f076578616d706c650000000004000100040001000302683200040004c0000201"
		   "029b000568656c6c6f");
	/* presentation order is free; the wire needs ascending keys (RFC 9460 §2.2) */
	round_trip("HTTPS", "1 . ipv6hint=2001:db8::1,2001:db8::2 alpn=\"h3,h2\" no-default-alpn "
		   "ech=AEb+DQBCAAAgACDg",
		   "1 . alpn=\"h3,h2\" no-default-alpn ech=AEb+DQBCAAAgACDg "
		   "ipv6hint=2001:db8::1,2001:db8::2",
		   "00010000010006026833026832000200000005000c0046fe0d00420000200020e00006002020"
		   "010db800000000000000000000000120010db8000000000000000000000002");
	/* RFC 9460 Appendix A.1: value-list escaping inside char-string escaping */
	round_trip("HTTPS", "1 . port=443 key9999 alpn=\"f\\\\\\\\oo\\\\,bar,h2\"",
		   "1 . alpn=\"f\\\\\\\\oo\\\\,bar,h2\" port=443 key9999",
		   "0001000001000c08665c6f6f2c6261720268320003000201bb270f0000");
	round_trip("SVCB", "1 . key7=\"/dns-query{?dns}\"", "1 . key7=\"/dns-query{?dns}\"",
		   "000100000700102f646e732d71756572797b3f646e737d");
	round_trip("SVCB", "1 . dohpath=/q{&x,dns:4}", "1 . key7=\"/q{&x,dns:4}\"", NULL);
	/* a trailing escaped backslash in alpn: "\\\\" is one backslash in the protocol id */
	round_trip("HTTPS", "1 . alpn=\"h2,h3\\\\\\\\\"", "1 . alpn=\"h2,h3\\\\\\\\\"",
		   "000100000100070268320368335c");
	round_trip("NSEC3PARAM", "1 0 10 D399EAAB", "1 0 10 D399EAAB", "0100000a04d399eaab");
}

static void
test_round_trip_every_type(void **state)
{
	(void)state;
	round_trip("NS", "ns1", "ns1.example.", NULL);
	round_trip("CNAME", "www.example.com.", "www.example.com.", NULL);
	round_trip("DNAME", "other.example.net.", "other.example.net.", NULL);
	round_trip("PTR", "@", "example.", NULL);
	round_trip("SOA", "ns1 host\\.master 1 3600 900 604800 86400",
		   "ns1.example. host\\.master.example. 1 3600 900 604800 86400", NULL);
	round_trip("HINFO", "INTEL \"Redhat Linux 7.1\"", "\"INTEL\" \"Redhat Linux 7.1\"", NULL);
	round_trip("RP", "mbox txt.example.", "mbox.example. txt.example.", NULL);
	round_trip("NAPTR", "100 50 \"u\" \"E2U+sip\" \"!^.*$!sip:info@example.com!\" .",
		   "100 50 \"u\" \"E2U+sip\" \"!^.*$!sip:info@example.com!\" .", NULL);
	round_trip("NAPTR", "100 10 S SIP+D2U \"\" _sip._udp",
		   "100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp.example.", NULL);
	round_trip("SSHFP", "1 1 123456789abcdef67890123456789abcdef67890",
		   "1 1 123456789ABCDEF67890123456789ABCDEF67890", NULL);
	round_trip("SSHFP", "4 2 123456789abcdef67890123456789abcdef67890123456789abcdef 678901234",
		   "4 2 123456789ABCDEF67890123456789ABCDEF67890123456789ABCDEF678901234", NULL);
	round_trip("TLSA", "3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6",
		   "3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6", NULL);
	round_trip("SMIMEA", "3 0 0 308203",
		   "3 0 0 308203", NULL);
	round_trip("URI", "10 1 \"ftp://ftp1.example.com/public\"",
		   "10 1 \"ftp://ftp1.example.com/public\"", NULL);
	round_trip("DS", "60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118",
		   "60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118", NULL);
	round_trip("DS", "60485 RSASHA256 2 2BB183AF5F22588179A53B0A98631FAD1A292118 "
		   "2bb183af5f22588179a53b0a",
		   "60485 8 2 2BB183AF5F22588179A53B0A98631FAD1A2921182BB183AF5F22588179A53B0A",
		   NULL);
	round_trip("CDS", "0 0 0 00", "0 0 0 00", NULL);
	round_trip("CDNSKEY", "0 3 0 AA==", "0 3 0 AA==", NULL);
	round_trip("DNSKEY", "257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+ "
		   "KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==",
		   "257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILf"
		   "DLUT0rAK9iUzy1L53eKGQ==", NULL);
	round_trip("RRSIG", "A ECDSAP256SHA256 2 300 20240201000000 20240101000000 12345 example. "
		   "mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+ "
		   "KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==",
		   "A 13 2 300 20240201000000 20240101000000 12345 example. "
		   "mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9"
		   "iUzy1L53eKGQ==", NULL);
	/* plain seconds and TTL units are accepted, output is normalised */
	round_trip("RRSIG", "TYPE65534 8 3 1h 1700000000 1690000000 1 example. AAAA",
		   "TYPE65534 8 3 3600 20231114221320 20230722042640 1 example. AAAA", NULL);
	round_trip("NSEC", "host.example.", "host.example.", NULL);
	round_trip("NSEC3", "1 1 12 aabbccdd 2vptu5timamqttgl4luu9kg21e0aor3s A RRSIG",
		   "1 1 12 AABBCCDD 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3S A RRSIG",
		   "0101000c04aabbccdd1417f3df17b2b2adaef615257de4d2020b80ac6c7c0006400000000002");
	round_trip("NSEC3", "1 0 0 - 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3S",
		   "1 0 0 - 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3S", NULL);
	round_trip("NSEC3PARAM", "1 0 10 -", "1 0 10 -", "0100000a00");
	round_trip("ZONEMD", "2018031500 1 1 FEBE3D4CE2EC2FFA4BA99D46CD69D6D29711E55217057BEE7E"
		   "B1A7B641A47BA7FED2DD5B97AE499FAFA4F22C6BD647DE",
		   "2018031500 1 1 FEBE3D4CE2EC2FFA4BA99D46CD69D6D29711E55217057BEE7EB1A7B641A47"
		   "BA7FED2DD5B97AE499FAFA4F22C6BD647DE", NULL);
	round_trip("ZONEMD", "1 1 240 00112233445566778899AABB", "1 1 240 00112233445566778899AABB",
		   NULL);
	round_trip("OPENPGPKEY", "mQINBFit2jsBEADrbl5vjVxYeAE0g0IDYCBpHirv1Sjlqxx5gjtPhb2YhvyDMXjq",
		   "mQINBFit2jsBEADrbl5vjVxYeAE0g0IDYCBpHirv1Sjlqxx5gjtPhb2YhvyDMXjq", NULL);
	round_trip("AFSDB", "1 afs", "1 afs.example.", NULL);
	round_trip("RT", "10 relay.example.", "10 relay.example.", NULL);
	round_trip("KX", "10 kx.example.", "10 kx.example.", NULL);
	round_trip("MINFO", "rm em", "rm.example. em.example.", NULL);
	round_trip("SPF", "\"v=spf1 -all\"", "\"v=spf1 -all\"", NULL);
	round_trip("HTTPS", "1 . alpn=h2 mandatory=alpn", "1 . mandatory=alpn alpn=\"h2\"", NULL);
	round_trip("HTTPS", "1 . dohpath=/q{?dns} ohttp", "1 . key7=\"/q{?dns}\" key8", NULL);
	/* The private FWD type of conditional forwarder zones (Technitium's 65281): one string. */
	round_trip("FWD", "udp://192.0.2.1", "\"udp://192.0.2.1\"",
		   "0f7564703a2f2f3139322e302e322e31");
	round_trip("FWD", "\"tls://dns.example#192.0.2.1\"", "\"tls://dns.example#192.0.2.1\"",
		   NULL);
	assert_int_equal(type_of("FWD"), 65281);
	assert_int_equal(type_of("fwd"), 65281);
	assert_int_equal(type_of("TYPE65281"), 65281);
	/* The private ANAME type (Technitium's 65280): one uncompressed name, case kept. */
	round_trip("ANAME", "Target.Example.NET.", "Target.Example.NET.",
		   "06546172676574074578616d706c65034e455400");
	round_trip("ANAME", "www", "www.example.", NULL);
	assert_int_equal(type_of("ANAME"), 65280);
	assert_int_equal(type_of("aname"), 65280);
	assert_int_equal(type_of("TYPE65280"), 65280);
}

static void
test_round_trip_types_of_issue_14(void **state)
{
	(void)state;
	/*
	 * Golden wire from dnspython 2.3 (and Knot 3.2 in test_conformance.py) for the types it
	 * reads; TA, RKEY, TALINK, UINFO, UID, GID, EID, NIMLOC, MB, RESINFO, WALLET and DSYNC are
	 * computed from the RFC layouts (DS, DNSKEY, two names, TXT, u32, hex, TXT, RFC 9859 §2).
	 */
	round_trip("CERT", "PGP 0 0 AQIDBA==",
		   "3 0 0 AQIDBA==",
		   "000300000001020304");
	round_trip("CERT", "1 12345 8 AQIDBAUG",
		   "1 12345 8 AQIDBAUG",
		   "0001303908010203040506");
	round_trip("KEY", "256 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLb"
		   "xILfDLUT0rAK9iUzy1L53eKGQ==",
		   "256 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLb"
		   "xILfDLUT0rAK9iUzy1L53eKGQ==",
		   "0100030d99db2cc14cabdc33d6d77da63a2f15f71112584f234e8d1dc428e39e8a4a97"
		   "e1aa271a555dc90701e17e2a4c4b6f120b7c32d44f4ac02bd894cf2d4be7778a19");
	round_trip("SIG", "A 13 2 300 20240201000000 20240101000000 12345 example. AQIDBA==",
		   "A 13 2 300 20240201000000 20240101000000 12345 example. AQIDBA==",
		   "00010d020000012c65badf00659200803039076578616d706c650001020304");
	round_trip("APL", "1:192.168.32.0/21 !1:192.168.38.0/28 2:2001:db8::/32 1:0.0.0.0/0",
		   "1:192.168.32.0/21 !1:192.168.38.0/28 2:2001:db8::/32 1:0.0.0.0/0",
		   "00011503c0a82000011c83c0a8260002200420010db800010000");
	round_trip("IPSECKEY", "10 0 2 . AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==",
		   "10 0 2 . AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==",
		   "0a0002010351537986ed35533b6064478eeeb27b5bd74dae149b6e81ba3a0521af82ab"
		   "7801");
	round_trip("IPSECKEY", "10 1 2 192.0.2.38 AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==",
		   "10 1 2 192.0.2.38 AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==",
		   "0a0102c0000226010351537986ed35533b6064478eeeb27b5bd74dae149b6e81ba3a05"
		   "21af82ab7801");
	round_trip("IPSECKEY", "10 2 2 2001:db8:0:8002::2000:1 "
		   "AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSG"
		   "vgqt4AQ==",
		   "10 2 2 2001:db8:0:8002::2000:1 AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSG"
		   "vgqt4AQ==",
		   "0a020220010db8000080020000000020000001010351537986ed35533b6064478eeeb2"
		   "7b5bd74dae149b6e81ba3a0521af82ab7801");
	round_trip("IPSECKEY", "10 3 2 mygateway.example.com. "
		   "AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGv"
		   "gqt4AQ==",
		   "10 3 2 mygateway.example.com. AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGv"
		   "gqt4AQ==",
		   "0a0302096d7967617465776179076578616d706c6503636f6d00010351537986ed3553"
		   "3b6064478eeeb27b5bd74dae149b6e81ba3a0521af82ab7801");
	round_trip("DHCID", "AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=",
		   "AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=",
		   "000201636fc0b8271c82825bb1ac5c41cf5351aa69b4febd94e8f17cdb95000da48c40");
	round_trip("HIP", "2 200100107B1A74DF365639CC39F1D578 AwEAAbdxyhNuSutc5EMzxTs9LBPCIkOFH8c"
		   "IvM4p9+LrV4e19WzK00+CI6zBCQTdtWsuxKbWIy87UOoJTwkUs7lBu+Upr1gsNrut79ryr"
		   "a+bSRGQb1slImA8YVJyuIDsj7kwzG7jnERNqnWxZ48AWkskmdHaVDP4BcelrTI3rMXdXF5"
		   "D rvs1.example.com. rvs2.example.com.",
		   "2 200100107B1A74DF365639CC39F1D578 AwEAAbdxyhNuSutc5EMzxTs9LBPCIkOFH8c"
		   "IvM4p9+LrV4e19WzK00+CI6zBCQTdtWsuxKbWIy87UOoJTwkUs7lBu+Upr1gsNrut79ryr"
		   "a+bSRGQb1slImA8YVJyuIDsj7kwzG7jnERNqnWxZ48AWkskmdHaVDP4BcelrTI3rMXdXF5"
		   "D rvs1.example.com. rvs2.example.com.",
		   "10020084200100107b1a74df365639cc39f1d57803010001b771ca136e4aeb5ce44333"
		   "c53b3d2c13c22243851fc708bcce29f7e2eb5787b5f56ccad34f8223acc10904ddb56b"
		   "2ec4a6d6232f3b50ea094f0914b3b941bbe529af582c36bbadefdaf2adaf9b4911906f"
		   "5b2522603c615272b880ec8fb930cc6ee39c444daa75b1678f005a4b2499d1da5433f8"
		   "05c7a5ad3237acc5dd5c5e430472767331076578616d706c6503636f6d000472767332"
		   "076578616d706c6503636f6d00");
	round_trip("EUI48", "00-00-5e-00-53-2a",
		   "00-00-5e-00-53-2a",
		   "00005e00532a");
	round_trip("EUI64", "00-00-5e-ef-10-00-00-2a",
		   "00-00-5e-ef-10-00-00-2a",
		   "00005eef1000002a");
	round_trip("NID", "10 0014:4fff:ff20:ee64",
		   "10 0014:4fff:ff20:ee64",
		   "000a00144fffff20ee64");
	round_trip("L32", "10 10.1.2.0",
		   "10 10.1.2.0",
		   "000a0a010200");
	round_trip("L64", "10 2001:0DB8:1140:1000",
		   "10 2001:0db8:1140:1000",
		   "000a20010db811401000");
	round_trip("LP", "10 l64-subnet1.example.com.",
		   "10 l64-subnet1.example.com.",
		   "000a0b6c36342d7375626e657431076578616d706c6503636f6d00");
	round_trip("CSYNC", "66 3 A NS AAAA",
		   "66 3 A NS AAAA",
		   "000000420003000460000008");
	round_trip("SMIMEA", "3 0 0 308203",
		   "3 0 0 308203",
		   "030000308203");
	round_trip("DLV", "60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118",
		   "60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118",
		   "ec4505012bb183af5f22588179a53b0a98631fad1a292118");
	round_trip("NINFO", "\"hello\" \"world\"",
		   "\"hello\" \"world\"",
		   "0568656c6c6f05776f726c64");
	round_trip("AVC", "\"app-name:WOLFGANG|app-class:OAM\"",
		   "\"app-name:WOLFGANG|app-class:OAM\"",
		   "1f6170702d6e616d653a574f4c4647414e477c6170702d636c6173733a4f414d");
	round_trip("X25", "\"311061700956\"",
		   "\"311061700956\"",
		   "0c333131303631373030393536");
	round_trip("NSAP-PTR", "foo.example.",
		   "foo.example.",
		   "03666f6f076578616d706c6500");
	round_trip("AMTRELAY", "10 0 0 .",
		   "10 0 0 .",
		   "0a00");
	round_trip("AMTRELAY", "10 1 1 203.0.113.15",
		   "10 1 1 203.0.113.15",
		   "0a81cb00710f");
	round_trip("AMTRELAY", "10 0 2 2001:db8::15",
		   "10 0 2 2001:db8::15",
		   "0a0220010db8000000000000000000000015");
	round_trip("AMTRELAY", "128 1 3 amtrelays.example.com.",
		   "128 1 3 amtrelays.example.com.",
		   "808309616d7472656c617973076578616d706c6503636f6d00");
	round_trip("PX", "10 a.example. b.example.",
		   "10 a.example. b.example.",
		   "000a0161076578616d706c65000162076578616d706c6500");
	round_trip("TA", "60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118",
		   "60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118",
		   "ec4505012bb183af5f22588179a53b0a98631fad1a292118");
	round_trip("RKEY", "0 3 13 AQIDBA==",
		   "0 3 13 AQIDBA==",
		   "0000030d01020304");
	round_trip("TALINK", "a.example. b.example.",
		   "a.example. b.example.",
		   "0161076578616d706c65000162076578616d706c6500");
	round_trip("UINFO", "\"info\"",
		   "\"info\"",
		   "04696e666f");
	round_trip("UID", "1000",
		   "1000",
		   "000003e8");
	round_trip("GID", "1000",
		   "1000",
		   "000003e8");
	round_trip("EID", "8C20",
		   "8C20",
		   "8c20");
	round_trip("NIMLOC", "8C20",
		   "8C20",
		   "8c20");
	round_trip("MB", "mbox.example.",
		   "\\# 14 046D626F78076578616D706C6500",
		   "046d626f78076578616d706c6500");
	round_trip("RESINFO",
		   "qnamemin exterr=15,16,17 \"infourl=https://resolver.example.com/guide\"",
		   "\"qnamemin\" \"exterr=15,16,17\" \"infourl=https://resolver.example.co"
		   "m/guide\"",
		   "08716e616d656d696e0f6578746572723d31352c31362c31372a696e666f75726c3d68"
		   "747470733a2f2f7265736f6c7665722e6578616d706c652e636f6d2f6775696465");
	round_trip("WALLET", "\"BTC\" \"bc1q\"",
		   "\"BTC\" \"bc1q\"",
		   "034254430462633171");
	round_trip("DSYNC", "CDS NOTIFY 5359 cds-scanner.example.net.",
		   "CDS NOTIFY 5359 cds-scanner.example.net.",
		   "003b0114ef0b6364732d7363616e6e6572076578616d706c65036e657400");
	/* golden wire of GPOS, ISDN, NSAP, WKS from dnspython 2.3; A6, DOA by their layouts */
	round_trip("GPOS", "-32.6882 116.8652 10.0", "\"-32.6882\" \"116.8652\" \"10.0\"",
		   "082d33322e36383832083131362e383635320431302e30");
	round_trip("ISDN", "\"150862028003217\" \"004\"", "\"150862028003217\" \"004\"",
		   "0f31353038363230323830303332313703303034");
	round_trip("ISDN", "150862028003217", "\"150862028003217\"",
		   "0f313530383632303238303033323137");
	round_trip("NSAP", "0x47.0005.80.005a00.0000.0001.e133.ffffff000161.00",
		   "0x47000580005a0000000001e133ffffff00016100",
		   "47000580005a0000000001e133ffffff00016100");
	round_trip("WKS", "10.0.0.1 tcp 25 80 443", "10.0.0.1 6 25 80 443",
		   "0a000001060000004000000000000080000000000000000000000000000000000000000000"
		   "000000000000000000000000000000000000000000000010");
	round_trip("A6", "64 ::1234:5678:9abc:def0 subnet.example.",
		   "64 ::1234:5678:9abc:def0 subnet.example.",
		   "40123456789abcdef0067375626e6574076578616d706c6500");
	round_trip("A6", "0 2001:db8::1", "0 2001:db8::1", "0020010db8000000000000000000000001");
	round_trip("A6", "128 . sub", "128 :: sub.example.", "8003737562076578616d706c6500");
	round_trip("DOA", "0 1 2 \"\" aHR0cHM6Ly93d3cuaXNjLm9yZy8=",
		   "0 1 2 \"\" aHR0cHM6Ly93d3cuaXNjLm9yZy8=",
		   "0000000000000001020068747470733a2f2f7777772e6973632e6f72672f");
	round_trip("DOA", "1 2 3 \"text/plain\" -", "1 2 3 \"text/plain\" -",
		   "0000000100000002030a746578742f706c61696e");
	bad("NSAP", "47.0005", "NSAP address must be 0x and pairs of hex digits");
	bad("NSAP", "0x470", "NSAP address must be 0x and pairs of hex digits");
	bad("WKS", "10.0.0.1 tcp nosuchservice", "WKS service must be a port 0-65535 or a service");
	bad("WKS", "10.0.0.1 icmp 1", "WKS protocol must be 0-255, tcp or udp");
	bad("A6", "129 ::1 x.", "A6 prefix length must be 0-128");
	bad("A6", "64 ::1", "A6 rdata ends early: prefix name expected");
	/* obsolete mail types: read by name as BIND does, written in RFC 3597 form */
	round_trip("MD", "m", "\\# 11 016D076578616D706C6500", "016d076578616d706c6500");
	round_trip("MF", "m", "\\# 11 016D076578616D706C6500", "016d076578616d706c6500");
	round_trip("MG", "m", "\\# 11 016D076578616D706C6500", "016d076578616d706c6500");
	round_trip("MR", "m", "\\# 11 016D076578616D706C6500", "016d076578616d706c6500");
	round_trip("IPSECKEY", "1 0 3 .", "1 0 3 .", "010003");
	round_trip("HIP", "2 ab AQID", "2 AB AQID", "01020003ab010203");
	assert_int_equal(type_of("DSYNC"), 66);
	assert_int_equal(type_of("TA"), 32768);
	assert_int_equal(type_of("DLV"), 32769);
	assert_int_equal(type_of("NSAP-PTR"), 23);
	bad("EUI48", "00-00-5e-00-53", "EUI48 address must be 6 hex pairs joined by '-'");
	bad("EUI64", "00:00:5e:ef:10:00:00:2a", "EUI64 address must be 8 hex pairs");
	bad("NID", "10 0014:4fff:ff20", "NID node id must be four 16-bit hex groups");
	bad("L64", "10 1:2:3:12345", "L64 locator must be four 16-bit hex groups");
	bad("L32", "10 10.1.2", "bad IPv4 address '10.1.2'");
	bad("CERT", "FOO 0 0 AA==", "CERT certificate type must be 0-65535 or a mnemonic");
	bad("APL", "3:1.2.3.4/8", "bad APL item '3:1.2.3.4/8'");
	bad("APL", "1:1.2.3.4/33", "bad APL item");
	bad("APL", "2:2001:db8::/129", "bad APL item");
	bad("IPSECKEY", "10 1 2 2001:db8::1 AA==", "IPSECKEY gateway of type 1 must be an IPv4");
	bad("IPSECKEY", "10 0 2 host. AA==", "IPSECKEY gateway must be '.' for type 0");
	bad("IPSECKEY", "10 4 2 . AA==", "IPSECKEY gateway type must be 0-3, got 4");
	bad("IPSECKEY", "10 129 2 192.0.2.1 AA==", "IPSECKEY gateway type must be 0-3, got 129");
	bad("AMTRELAY", "10 2 1 192.0.2.1", "AMTRELAY discovery optional must be 0 or 1");
	bad("HIP", "2 AB", "HIP rdata ends early: public key expected");
	bad("DHCID", "", "DHCID rdata ends early");
	bad("DSYNC", "CDS PULL 5359 x.", "DSYNC scheme must be 0-255 or NOTIFY");
	bad("CSYNC", "1 3 A BOGUS", "unknown type 'BOGUS' in CSYNC type bitmap");
}

static void
test_table_has_round_trip_for_every_known_type(void **state)
{
	(void)state;
	/* The types the round-trip tests above cover; a new table entry must be added here. */
	static const char *const covered[] = {
		"A", "NS", "CNAME", "SOA", "PTR", "HINFO", "MINFO", "MX", "TXT", "RP", "AFSDB",
		"RT", "AAAA", "LOC", "SRV", "NAPTR", "KX", "DNAME", "DS", "SSHFP", "RRSIG", "NSEC",
		"DNSKEY", "NSEC3", "NSEC3PARAM", "TLSA", "SMIMEA", "CDS", "CDNSKEY",
		"OPENPGPKEY", "ZONEMD", "SVCB", "HTTPS", "SPF", "URI", "CAA", "FWD", "ANAME",
		/* issue 14 */
		"X25", "NSAP-PTR", "SIG", "KEY", "PX", "EID",
		"NIMLOC", "CERT", "APL", "IPSECKEY", "DHCID", "HIP", "NINFO", "RKEY", "TALINK",
		"CSYNC", "DSYNC", "UINFO", "UID", "GID", "NID", "L32", "L64", "LP", "EUI48",
		"EUI64", "AVC", "AMTRELAY", "RESINFO", "WALLET", "TA", "DLV", "GPOS", "ISDN",
		"NSAP", "WKS", "A6", "DOA",
	};
	size_t ncov = sizeof(covered) / sizeof(covered[0]), known = 0;
	for (unsigned t = 0; t < 65536; t++) {
		if (!dns_type_known((uint16_t)t)) {
			continue;
		}
		known++;
		char buf[16];
		const char *name = dns_type_to_text((uint16_t)t, buf);
		bool found = false;
		for (size_t k = 0; k < ncov; k++) {
			found = found || strcmp(covered[k], name) == 0;
		}
		if (!found) {
			fail_msg("type %s has no round-trip test", name);
		}
	}
	assert_int_equal(known, ncov);
}

static void
test_rfc3597_generic_form(void **state)
{
	(void)state;
	/* unknown types: in and out in \# form */
	round_trip("TYPE65300", "\\# 3 abcdef", "\\# 3 ABCDEF", "abcdef");
	round_trip("TYPE65300", "\\# 4 0a00 0001", "\\# 4 0A000001", "0a000001");
	round_trip("TYPE65300", "\\# 0", "\\# 0", "");
	/* known types: \# accepted when the wire form is valid, printed natively */
	round_trip("A", "\\# 4 c0000201", "192.0.2.1", "c0000201");
	round_trip("MX", "\\# 7 000a016d016e00", "10 m.n.", "000a016d016e00");
	bad("A", "\\# 3 c00002", "RFC 3597 data is not valid A rdata");
	bad("MX", "\\# 4 000ac00c", "not valid MX rdata"); /* compressed name */
	bad("TYPE65300", "\\# 4 abcdef", "RFC 3597 length 4 does not match 3 octets");
	bad("TYPE65300", "\\# x", "length must be 0-65535, got 'x'");
	bad("TYPE65300", "\\# 1 zz", "bad hex digit 'z'");
	bad("TYPE65300", "abc", "unknown type TYPE65300 needs RFC 3597 rdata");
	/* obsolete types are written only in \# form; NXT is read only in that form */
	round_trip("MD", "\\# 3 016100", "\\# 3 016100", "016100");
	bad("NXT", "a.example. A", "only in RFC 3597 form");
	bad("OPT", "\\# 0", "meta-type");
}

static void
test_tokenize_keeps_quoted_values_and_escaped_spaces_in_one_token(void **state)
{
	(void)state;
	struct dns_tok t[8];
	size_t n = dns_rdata_tokenize(" 1\t. alpn=\"h2 h3\" \"a \\\" b\" x\\ y ", t, 8);
	assert_int_equal(n, 5);
	static const char *const want[] = { "1", ".", "alpn=\"h2 h3\"", "a \\\" b", "x\\ y" };
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(t[i].len, strlen(want[i]));
		assert_memory_equal(t[i].s, want[i], t[i].len);
		assert_int_equal(t[i].quoted, i == 3);
	}
	assert_int_equal(dns_rdata_tokenize("a b c", t, 2), 2);
	assert_int_equal(dns_rdata_tokenize("  ", t, 8), 0);
}

static void
test_malformed_known_type_prints_generic(void **state)
{
	(void)state;
	char text[256];
	const uint8_t a5[] = { 1, 2, 3, 4, 5 };
	assert_int_equal(dns_rdata_to_text(DNS_TYPE_A, a5, 5, text, sizeof(text)), 15);
	assert_string_equal(text, "\\# 5 0102030405");
	const uint8_t txt0[] = { 0 };
	dns_rdata_to_text(DNS_TYPE_TXT, txt0, 0, text, sizeof(text));
	assert_string_equal(text, "\\# 0");
	const uint8_t bad_mx[] = { 0, 10, 0xc0, 0x0c };
	dns_rdata_to_text(DNS_TYPE_MX, bad_mx, sizeof(bad_mx), text, sizeof(text));
	assert_string_equal(text, "\\# 4 000AC00C");
	const uint8_t ok[] = { 192, 0, 2, 1 };
	assert_int_equal(dns_rdata_to_text(DNS_TYPE_A, ok, 4, text, 9), TDNS_ESPACE);
	assert_int_equal(dns_rdata_to_text(DNS_TYPE_A, ok, 4, text, 10), 9);
}

static void
test_bad_inputs_say_what_was_expected(void **state)
{
	(void)state;
	bad("A", "1.2.3", "bad IPv4 address '1.2.3'");
	bad("AAAA", "2001:db8:::1", "bad IPv6 address '2001:db8:::1'");
	bad("A", "", "A rdata ends early: address expected");
	bad("A", "1.2.3.4 5", "trailing data '5' after A rdata");
	bad("MX", "70000 mail", "MX preference must be 0-65535, got '70000'");
	bad("MX", "-1 mail", "MX preference must be 0-65535, got '-1'");
	bad("MX", "10", "MX rdata ends early: exchange expected");
	bad("MX", "10 a..b", "bad MX exchange 'a..b'");
	char longstr[300];
	memset(longstr, 'x', 256);
	longstr[256] = '\0';
	bad("TXT", longstr, "TXT string longer than 255 octets");
	bad("TXT", "\"bad \\25 escape\"", "bad escape in TXT");
	bad("TXT", "", "TXT rdata ends early");
	bad("SOA", "ns hm 1 2 3 4", "SOA rdata ends early: minimum expected");
	bad("SOA", "ns hm 1 1x 3 4 5", "SOA refresh must be 0-4294967295 seconds or a TTL like");
	bad("SOA", "ns hm 4294967296 2 3 4 5", "SOA serial must be 0-4294967295, got '4294967296'");
	bad("SRV", "1 2 65536 t", "SRV port must be 0-65535, got '65536'");
	bad("CAA", "0 is-sue \"x\"", "CAA tag must be letters and digits only, got 'is-sue'");
	bad("CAA", "256 issue \"x\"", "CAA flags must be 0-255, got '256'");
	bad("CAA", "0 issue \"a\" \"b\"", "trailing data 'b' after CAA rdata");
	bad("DS", "1 8 2 abcd", "DS digest of type 2 must be 32 octets, got 2");
	bad("DS", "1 8 1 abc", "DS digest has an odd number of hex digits");
	bad("DS", "1 8 1 xyz0", "bad hex digit 'x' in DS digest");
	bad("DS", "1 8 1", "DS rdata ends early: digest expected");
	bad("DS", "1 NOSUCHALG 1 00", "DS algorithm must be 0-255 or a mnemonic");
	bad("SSHFP", "1 1 abcd", "SSHFP digest of type 1 must be 20 octets, got 2");
	bad("DNSKEY", "257 3 13 abc", "base64 length is not a multiple of 4");
	bad("DNSKEY", "257 3 13 ab!d", "bad base64 in DNSKEY public key");
	bad("DNSKEY", "257 3 13 AA== AAAA", "goes on after its padding");
	bad("ZONEMD", "1 1 240 0011", "ZONEMD digest must be at least 12 octets, got 2");
	bad("RRSIG", "A 13 2 300 20241301000000 20240101000000 1 example. AA==",
	    "RRSIG expiration must be YYYYMMDDHHmmSS or seconds, got '20241301000000'");
	bad("RRSIG", "NOPE 13 2 300 1 2 1 example. AA==", "unknown type 'NOPE' as RRSIG");
	bad("NSEC", "next. A BOGUS", "unknown type 'BOGUS' in NSEC type bitmap");
	bad("NSEC3", "1 0 0 - 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3W", "bad base32hex in NSEC3");
	bad("NSEC3", "1 0 0 abc 2VPTU5TIM", "NSEC3 salt has an odd number of hex digits");
	bad("LOC", "91 N 0 E 0m", "LOC latitude degrees must be 0-90, got '91'");
	bad("LOC", "10 60 N 0 E 0m", "LOC latitude minutes must be 0-59, got '60'");
	bad("LOC", "10 1 1.5555 N 0 E 0m", "LOC latitude seconds must be 0-59.999");
	bad("LOC", "10 X 0 E 0m", "LOC latitude minutes must be 0-59, got 'X'");
	bad("LOC", "10 N 0 E", "LOC rdata ends early: altitude expected");
	bad("LOC", "10 N 0 E -100000.01m", "LOC altitude must be -100000.00m to 42849672.95m");
	bad("LOC", "10 N 0 E 0m 90000001m", "LOC size must be 0m to 90000000m");
	bad("SVCB", "1 . alpn=h2 alpn=h3", "duplicate SVCB SvcParam key alpn");
	bad("SVCB", "1 . mandatory=port alpn=h2",
	    "SVCB mandatory lists port, which the record does not have (RFC 9460 §8)");
	bad("SVCB", "1 . no-default-alpn", "SVCB parameters inconsistent");
	bad("SVCB", "1 . port=99999", "SVCB port must be 0-65535, got '99999'");
	bad("SVCB", "1 . ipv4hint=1.2.3", "bad IPv4 address '1.2.3' in SVCB ipv4hint");
	bad("SVCB", "1 . frob=1", "unknown SVCB SvcParam key 'frob'");
	bad("SVCB", "1 . alpn", "SVCB SvcParam 'alpn' needs a value");
	bad("SVCB", "1 . key65535", "SVCB SvcParam key65535 is reserved (RFC 9460 §14.3.2)");
	bad("SVCB", "1 . key65535=x", "SVCB SvcParam key65535 is reserved");
	bad("SVCB", "1 . mandatory=key65535 alpn=h2",
	    "key65535 in SVCB mandatory list is reserved");
	/* RFC 9460 §2.1: keys are lower case */
	bad("HTTPS", "1 . ALPN=h2", "unknown HTTPS SvcParam key 'ALPN'");
	bad("HTTPS", "1 . Port=443", "unknown HTTPS SvcParam key 'Port'");
	bad("HTTPS", "1 . KEY9=x", "unknown HTTPS SvcParam key 'KEY9'");
	bad("HTTPS", "1 . mandatory=ALPN alpn=h2", "bad key 'ALPN' in HTTPS mandatory list");
	/* Appendix A.1: after char-string decoding, a backslash must escape something */
	bad("HTTPS", "1 . alpn=\"h2\\\\\"", "HTTPS alpn ends in a lone backslash");
	/* RFC 9461 §5: dohpath is a relative URI template with the dns variable */
	bad("HTTPS", "1 . dohpath=\"\"", "HTTPS SvcParam 'dohpath' needs a value");
	bad("HTTPS", "1 . dohpath=/q", "HTTPS dohpath must contain the \"dns\" variable");
	bad("HTTPS", "1 . dohpath=/q{?dnsx}", "HTTPS dohpath must contain the \"dns\" variable");
	bad("HTTPS", "1 . dohpath=https://x/q{?dns}", "must be a relative URI template");
	bad("HTTPS", "1 . dohpath=/q{?dns", "has an unclosed '{' expression");
	bad("HTTPS", "1 . alpn=h2,,h3", "empty protocol id in HTTPS alpn");
	bad("URI", "10 1", "URI rdata ends early: target expected");
}

static void
test_unpack_decompresses_only_rfc3597_types(void **state)
{
	(void)state;
	/* 12-byte header, then at 12: "example." and an MX rdata with a pointer to it */
	uint8_t pkt[64] = { 0 };
	size_t n = 12;
	const uint8_t ex[] = { 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0 };
	memcpy(pkt + n, ex, sizeof(ex));
	n += sizeof(ex);
	size_t rd = n;
	const uint8_t mx[] = { 0, 10, 4, 'm', 'a', 'i', 'l', 0xc0, 12 };
	memcpy(pkt + n, mx, sizeof(mx));
	n += sizeof(mx);
	uint8_t out[512];
	size_t outlen = 0;
	assert_int_equal(dns_rdata_unpack(DNS_TYPE_MX, pkt, n, rd, sizeof(mx), out, sizeof(out),
					  &outlen), TDNS_OK);
	const uint8_t want[] = { 0, 10, 4, 'm', 'a', 'i', 'l', 7, 'e', 'x', 'a', 'm', 'p', 'l',
				 'e', 0 };
	assert_int_equal(outlen, sizeof(want));
	assert_memory_equal(out, want, sizeof(want));

	/* SRV: RFC 3597 §4 asks receivers to decompress it too */
	const uint8_t srv[] = { 0, 1, 0, 2, 0, 3, 0xc0, 12 };
	memcpy(pkt + rd, srv, sizeof(srv));
	assert_int_equal(dns_rdata_unpack(DNS_TYPE_SRV, pkt, rd + sizeof(srv), rd, sizeof(srv),
					  out, sizeof(out), &outlen), TDNS_OK);
	assert_int_equal(outlen, 6 + sizeof(ex));

	/* NSEC must not be compressed: copied as is, then rejected by the check */
	const uint8_t nsec[] = { 0xc0, 12, 0, 1, 0x40 };
	memcpy(pkt + rd, nsec, sizeof(nsec));
	assert_int_equal(dns_rdata_unpack(DNS_TYPE_NSEC, pkt, rd + sizeof(nsec), rd, sizeof(nsec),
					  out, sizeof(out), &outlen), TDNS_EBADRDATA);

	/* unknown types are opaque */
	assert_int_equal(dns_rdata_unpack(65300, pkt, rd + sizeof(nsec), rd, sizeof(nsec), out,
					  sizeof(out), &outlen), TDNS_OK);
	assert_int_equal(outlen, sizeof(nsec));

	/* an A with 3 octets, rdata past the packet, a pointer loop, no room */
	assert_int_equal(dns_rdata_unpack(DNS_TYPE_A, pkt, rd + 3, rd, 3, out, sizeof(out),
					  &outlen), TDNS_EBADRDATA);
	assert_int_equal(dns_rdata_unpack(DNS_TYPE_A, pkt, rd + 3, rd, 4, out, sizeof(out),
					  &outlen), TDNS_ETRUNC);
	const uint8_t loop[] = { 0xc0, (uint8_t)rd };
	memcpy(pkt + rd, loop, sizeof(loop));
	assert_int_equal(dns_rdata_unpack(DNS_TYPE_NS, pkt, rd + 2, rd, 2, out, sizeof(out),
					  &outlen), TDNS_ELOOP);
	memcpy(pkt + rd, mx, sizeof(mx));
	assert_int_equal(dns_rdata_unpack(DNS_TYPE_MX, pkt, rd + sizeof(mx), rd, sizeof(mx), out,
					  8, &outlen), TDNS_ESPACE);
	/* a name running past the end of its rdata */
	assert_int_equal(dns_rdata_unpack(DNS_TYPE_MX, pkt, rd + sizeof(mx), rd, 5, out,
					  sizeof(out), &outlen), TDNS_EBADRDATA);
}

static void
test_check_rejects_bad_wire(void **state)
{
	(void)state;
	const uint8_t a5[] = { 1, 2, 3, 4, 5 };
	assert_int_equal(dns_rdata_check(DNS_TYPE_A, a5, 5), TDNS_EBADRDATA);
	assert_int_equal(dns_rdata_check(DNS_TYPE_A, a5, 4), TDNS_OK);
	assert_int_equal(dns_rdata_check(DNS_TYPE_AAAA, a5, 4), TDNS_EBADRDATA);
	/* NSEC bitmap: trailing zero octet, windows out of order, block length 33 */
	const uint8_t n1[] = { 0, 0, 2, 0x40, 0x00 };
	const uint8_t n2[] = { 0, 1, 1, 0x40, 0, 1, 0x40 };
	uint8_t n3[40] = { 0, 0, 33 };
	n3[35] = 1;
	const uint8_t n4[] = { 0, 0, 1, 0x40 };
	assert_int_equal(dns_rdata_check(DNS_TYPE_NSEC, n1, sizeof(n1)), TDNS_EBADRDATA);
	assert_int_equal(dns_rdata_check(DNS_TYPE_NSEC, n2, sizeof(n2)), TDNS_EBADRDATA);
	assert_int_equal(dns_rdata_check(DNS_TYPE_NSEC, n3, 36), TDNS_EBADRDATA);
	assert_int_equal(dns_rdata_check(DNS_TYPE_NSEC, n4, sizeof(n4)), TDNS_OK);
	/* SVCB keys must ascend */
	const uint8_t s1[] = { 0, 1, 0, 0, 3, 0, 2, 1, 187, 0, 1, 0, 3, 2, 'h', '2' };
	assert_int_equal(dns_rdata_check(DNS_TYPE_SVCB, s1, sizeof(s1)), TDNS_EBADRDATA);
	/* TXT with a string running past the end; CAA with an empty tag */
	const uint8_t t1[] = { 5, 'a', 'b' };
	assert_int_equal(dns_rdata_check(DNS_TYPE_TXT, t1, sizeof(t1)), TDNS_EBADRDATA);
	const uint8_t c1[] = { 0, 0, 'x' };
	assert_int_equal(dns_rdata_check(DNS_TYPE_CAA, c1, sizeof(c1)), TDNS_EBADRDATA);
	/* LOC: wrong length, version 1, latitude beyond 90 degrees */
	uint8_t loc[16] = { 0, 0x12, 0x16, 0x13, 0x80, 0, 0, 0,
			    0x80, 0, 0, 0, 0, 0x98, 0x96, 0x80 };
	assert_int_equal(dns_rdata_check(DNS_TYPE_LOC, loc, 16), TDNS_OK);
	assert_int_equal(dns_rdata_check(DNS_TYPE_LOC, loc, 15), TDNS_EBADRDATA);
	loc[0] = 1;
	assert_int_equal(dns_rdata_check(DNS_TYPE_LOC, loc, 16), TDNS_EBADRDATA);
	loc[0] = 0;
	loc[4] = 0xff;
	assert_int_equal(dns_rdata_check(DNS_TYPE_LOC, loc, 16), TDNS_EBADRDATA);
	/* ZONEMD digest shorter than 12 octets */
	const uint8_t z[] = { 0, 0, 0, 1, 1, 240, 1, 2, 3 };
	assert_int_equal(dns_rdata_check(DNS_TYPE_ZONEMD, z, sizeof(z)), TDNS_EBADRDATA);
	/* unknown types are opaque */
	assert_int_equal(dns_rdata_check(65300, a5, 5), TDNS_OK);
}

static void
test_target_of_ns_mx_srv(void **state)
{
	(void)state;
	const uint8_t ns[] = { 1, 'a', 0 };
	const uint8_t mx[] = { 0, 5, 1, 'b', 0 };
	const uint8_t srv[] = { 0, 1, 0, 2, 0, 3, 1, 'c', 0 };
	assert_ptr_equal(dns_rdata_target(DNS_TYPE_NS, ns, sizeof(ns)), ns);
	assert_ptr_equal(dns_rdata_target(DNS_TYPE_MX, mx, sizeof(mx)), mx + 2);
	assert_ptr_equal(dns_rdata_target(DNS_TYPE_SRV, srv, sizeof(srv)), srv + 6);
	assert_null(dns_rdata_target(DNS_TYPE_CNAME, ns, sizeof(ns)));
	assert_null(dns_rdata_target(DNS_TYPE_MX, mx, 4));
	assert_null(dns_rdata_target(DNS_TYPE_SRV, srv, 6));
}

/* The sign (-1, 0 or 1) of dns_rdata_cmp of the rdata a and b of type, read from text. */
static int
cmp_sign(const char *type, const char *a, const char *b)
{
	uint8_t wa[512], wb[512];
	size_t al, bl;
	char err[128];
	assert_int_equal(parse(type, a, wa, sizeof(wa), &al, err, sizeof(err)), TDNS_OK);
	assert_int_equal(parse(type, b, wb, sizeof(wb), &bl, err, sizeof(err)), TDNS_OK);
	int r = dns_rdata_cmp((uint16_t)type_of(type), wa, al, wb, bl);
	return (r > 0) - (r < 0);
}

static void
test_canonical_rdata_order(void **state)
{
	(void)state;
	static const struct {
		const char *type, *a, *b;
		int sign;
	} cases[] = {
		/* names in NS compare case-insensitively (RFC 4034 §6.2) */
		{ "NS", "NS1.Example.", "ns1.example.", 0 },
		/* but TXT is compared as octets */
		{ "TXT", "ABC", "abc", -1 },
		/* shorter first when one is a prefix of the other */
		{ "TXT", "abc", "abc d", -1 },
		{ "TXT", "abc d", "abc", 1 },
		/* MX: preference first, then the lower-cased exchange */
		{ "MX", "10 B.example.", "10 a.example.", 1 },
		/* RRSIG signer is lowered; the signature is not */
		{ "RRSIG", "A 8 2 300 1 0 1 EXAMPLE. AAAA", "A 8 2 300 1 0 1 example. AAAA", 0 },
		/* RFC 6840 §5.1: NSEC next names keep their case */
		{ "NSEC", "A.example. A", "a.example. A", -1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cmp_sign(cases[i].type, cases[i].a, cases[i].b) != cases[i].sign) {
			fail_msg("%s '%s' vs '%s': expected %d", cases[i].type, cases[i].a,
				 cases[i].b, cases[i].sign);
		}
	}
	/* A records */
	const uint8_t x[] = { 10, 0, 0, 1 }, y[] = { 10, 0, 0, 2 };
	assert_true(dns_rdata_cmp(DNS_TYPE_A, x, 4, y, 4) < 0);
	assert_int_equal(dns_rdata_cmp(DNS_TYPE_A, x, 4, x, 4), 0);
}

/* dns_rdata_canonical lowers exactly what dns_rdata_cmp compares in lower case. */
static void
test_canonical_rdata_lowers_names_in_place(void **state)
{
	(void)state;
	uint8_t a[512], b[512];
	size_t al, bl;
	char err[128];
	static const char *const cases[][3] = {
		{ "MX", "10 MAIL.Example.NET.", "10 mail.example.net." },
		{ "SOA", "NS.X. Host.X. 1 2 3 4 5", "ns.x. host.x. 1 2 3 4 5" },
		{ "RRSIG", "A 8 2 300 1 0 1 EXAMPLE. AAAA", "A 8 2 300 1 0 1 example. AAAA" },
		{ "SRV", "0 0 53 NS.Example.", "0 0 53 ns.example." },
		{ "NSEC", "A.example. A", "A.example. A" },   /* RFC 6840 §5.1 */
		{ "TXT", "ABC", "ABC" },
		{ "HINFO", "CPU OS", "CPU OS" },               /* strings, not names */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint16_t type = (uint16_t)dns_type_from_text(cases[i][0], strlen(cases[i][0]));
		parse(cases[i][0], cases[i][1], a, sizeof(a), &al, err, sizeof(err));
		parse(cases[i][0], cases[i][2], b, sizeof(b), &bl, err, sizeof(err));
		dns_rdata_canonical(type, a, al);
		assert_int_equal(al, bl);
		assert_memory_equal(a, b, al);
	}
}

static void
test_rr_to_text_line(void **state)
{
	(void)state;
	uint8_t owner[DNS_NAME_MAX], rd[64];
	size_t rl;
	char err[128], line[512];
	dns_name_from_text("www.example.", 12, NULL, owner);
	parse("MX", "10 mail", rd, sizeof(rd), &rl, err, sizeof(err));
	int n = dns_rr_to_text(owner, DNS_TYPE_MX, DNS_CLASS_IN, 3600, rd, rl, line, sizeof(line));
	assert_string_equal(line, "www.example.\t3600\tIN\tMX\t10 mail.example.");
	assert_int_equal(n, (int)strlen(line));
	const uint8_t opaque[] = { 0xab };
	dns_rr_to_text(owner, 65300, 3, 0, opaque, 1, line, sizeof(line));
	assert_string_equal(line, "www.example.\t0\tCH\tTYPE65300\t\\# 1 AB");
	/* obsolete types go out as TYPEnnn so other tools read them */
	const uint8_t md[] = { 0 };
	dns_rr_to_text(owner, 3, 1, 1, md, 1, line, sizeof(line));
	assert_string_equal(line, "www.example.\t1\tIN\tTYPE3\t\\# 1 00");
	assert_int_equal(dns_rr_to_text(owner, DNS_TYPE_MX, 1, 1, rd, rl, line, 20), TDNS_ESPACE);
}

static void
test_type_class_rcode_opcode_names(void **state)
{
	(void)state;
	char buf[16];
	assert_string_equal(dns_type_to_text(DNS_TYPE_NSEC3PARAM, buf), "NSEC3PARAM");
	assert_string_equal(dns_type_to_text(65300, buf), "TYPE65300");
	assert_int_equal(dns_type_from_text("aaaa", 4), DNS_TYPE_AAAA);
	assert_int_equal(dns_type_from_text("Type257", 7), DNS_TYPE_CAA);
	assert_int_equal(dns_type_from_text("TYPE65536", 9), -1);
	assert_int_equal(dns_type_from_text("TYPE", 4), -1);
	assert_int_equal(dns_type_from_text("FOO", 3), -1);
	assert_string_equal(dns_class_to_text(DNS_CLASS_IN, buf), "IN");
	assert_string_equal(dns_class_to_text(42, buf), "CLASS42");
	assert_int_equal(dns_class_from_text("ch", 2), DNS_CLASS_CH);
	assert_int_equal(dns_class_from_text("CLASS1", 6), DNS_CLASS_IN);
	assert_int_equal(dns_class_from_text("XX", 2), -1);
	assert_string_equal(dns_rcode_to_text(DNS_RCODE_NXDOMAIN, buf), "NXDOMAIN");
	assert_string_equal(dns_rcode_to_text(DNS_RCODE_BADVERS, buf), "BADVERS");
	assert_string_equal(dns_rcode_to_text(3841, buf), "RCODE3841");
	assert_string_equal(dns_opcode_to_text(DNS_OPCODE_NOTIFY, buf), "NOTIFY");
	assert_string_equal(dns_opcode_to_text(15, buf), "OPCODE15");
	const uint16_t meta[] = { 41, 249, 250, 251, 252, 253, 254, 255 };
	for (size_t k = 0; k < sizeof(meta) / sizeof(meta[0]); k++) {
		assert_true(dns_type_is_meta(meta[k]));
		assert_false(dns_type_known(meta[k]));
	}
	assert_false(dns_type_is_meta(DNS_TYPE_A));
	assert_false(dns_type_is_meta(DNS_TYPE_CAA));
	assert_true(dns_type_known(DNS_TYPE_SVCB));
	assert_false(dns_type_known(65300));
	assert_false(dns_type_known(3)); /* MD: obsolete, RFC 3597 text only */
}

static void
test_svcb_value_in_separate_quoted_token(void **state)
{
	(void)state;
	/* The zone-file reader ends a token at '"': alpn="h2,h3" arrives as two tokens. */
	const struct dns_tok toks[] = {
		{ .s = "1", .len = 1 }, { .s = ".", .len = 1 },
		{ .s = "alpn=", .len = 5 }, { .s = "h2,h3", .len = 5, .quoted = true },
		{ .s = "key667=", .len = 7 }, { .s = "a b", .len = 3, .quoted = true },
	};
	uint8_t wire[256];
	size_t len = 0;
	char err[128], text[256];
	assert_int_equal(dns_rdata_from_text(DNS_TYPE_SVCB, toks, 6, origin, wire, sizeof(wire),
					     &len, err, sizeof(err)), TDNS_OK);
	assert_true(dns_rdata_to_text(DNS_TYPE_SVCB, wire, len, text, sizeof(text)) > 0);
	assert_string_equal(text, "1 . alpn=\"h2,h3\" key667=\"a b\"");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_wire_for_common_types),
		cmocka_unit_test(test_round_trip_every_type),
		cmocka_unit_test(test_round_trip_types_of_issue_14),
		cmocka_unit_test(test_table_has_round_trip_for_every_known_type),
		cmocka_unit_test(test_svcb_value_in_separate_quoted_token),
		cmocka_unit_test(test_rfc3597_generic_form),
		cmocka_unit_test(test_tokenize_keeps_quoted_values_and_escaped_spaces_in_one_token),
		cmocka_unit_test(test_malformed_known_type_prints_generic),
		cmocka_unit_test(test_bad_inputs_say_what_was_expected),
		cmocka_unit_test(test_unpack_decompresses_only_rfc3597_types),
		cmocka_unit_test(test_check_rejects_bad_wire),
		cmocka_unit_test(test_target_of_ns_mx_srv),
		cmocka_unit_test(test_canonical_rdata_order),
		cmocka_unit_test(test_canonical_rdata_lowers_names_in_place),
		cmocka_unit_test(test_rr_to_text_line),
		cmocka_unit_test(test_type_class_rcode_opcode_names),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
