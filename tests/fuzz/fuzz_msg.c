/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the wire parsers and the builder: parse, decode rdata, rebuild, reparse. */
#include <stdlib.h>
#include <string.h>

#include "dns/dns.h"
#include "fuzz.h"

/*
 * Build from a build directory with clang -g -O1 -fsanitize=fuzzer,address,undefined
 * -I../src -I. and every .c file in the src core and dns folders, then run
 *   ./fuzz_msg -dict=../tests/fuzz/msg.dict -max_total_time=60 CORPUS_DIR
 */

/*
 * The rebuilt rdata must mean the same: equal after decompression (names compared as
 * canonical order does, since compression may borrow the case of an earlier name), or
 * byte-equal when the original did not decode and was copied as is.
 */
static void
check_rdata(const struct dns_msg *m, const struct dns_rr *rr, const struct dns_msg *r,
	    const struct dns_rr *nrr)
{
	static uint8_t a[DNS_RDATA_MAX], b[DNS_RDATA_MAX];
	size_t alen, blen;
	if (dns_rdata_unpack(rr->type, m->pkt, m->len, rr->rdata_off, rr->rdlen, a, sizeof(a),
			     &alen) == TDNS_OK) {
		require(dns_rdata_unpack(nrr->type, r->pkt, r->len, nrr->rdata_off, nrr->rdlen, b,
					 sizeof(b), &blen) == TDNS_OK);
		require(dns_rdata_cmp(rr->type, a, alen, b, blen) == 0);
		return;
	}
	require(rr->rdlen == nrr->rdlen);
	require(memcmp(m->pkt + rr->rdata_off, r->pkt + nrr->rdata_off, rr->rdlen) == 0);
}

/* Rebuilds a parsed message through the builder and checks the result parses back. */
static void
rebuild(const struct dns_msg *m, size_t limit)
{
	static uint8_t out[DNS_MSG_MAX];
	struct dns_build b;
	dns_build_init(&b, out, sizeof(out), limit, m->id, m->flags);
	if (m->edns.present) {
		dns_build_edns(&b, m->edns.udp_size, m->edns.do_bit);
		uint16_t code;
		const uint8_t *text;
		size_t tlen;
		if (dns_edns_find_ede(&m->edns, &code, &text, &tlen)) {
			char t[64];
			size_t n = tlen < sizeof(t) - 1 ? tlen : sizeof(t) - 1;
			memcpy(t, text, n);
			t[n] = '\0';
			dns_build_ede(&b, code, t);
		}
		dns_build_rcode(&b, m->rcode);
	}
	bool have_q = m->count[DNS_SECTION_QUESTION] > 0 &&
		      dns_build_question(&b, m->qname, m->qtype, m->qclass) == TDNS_OK;
	size_t written = 0;
	for (size_t i = 0; i < m->nrr; i++) {
		const struct dns_rr *rr = &m->rrs[i];
		/* OPT is the builder's own; TSIG must stay last, which the OPT would break. */
		if (rr->type == DNS_TYPE_OPT || rr->type == DNS_TYPE_TSIG) {
			continue;
		}
		const uint8_t *rd = m->pkt + rr->rdata_off;
		size_t rdlen = rr->rdlen;
		static uint8_t plain[DNS_RDATA_MAX];
		size_t plen;
		if (dns_rdata_unpack(rr->type, m->pkt, m->len, rr->rdata_off, rr->rdlen, plain,
				     sizeof(plain), &plen) == TDNS_OK) {
			rd = plain;
			rdlen = plen;
		}
		int rc = dns_build_rr(&b, rr->section, rr->owner, rr->type, rr->rclass, rr->ttl,
				      rd, rdlen);
		if (rc == TDNS_ESPACE) {
			dns_build_truncate(&b);
			written = 0;
			break;
		}
		require(rc == TDNS_OK);
		written++;
	}
	size_t len = dns_build_finish(&b);
	require(len <= limit || limit < DNS_HDR_LEN);
	if (len == 0) {
		return;
	}
	struct dns_msg r;
	require(dns_msg_parse(out, len, &r) == TDNS_OK);
	if (have_q) {
		require(dns_name_eq(r.qname, m->qname));
		/* The question is written as given, case included. */
		require(memcmp(r.qname, m->qname, dns_name_len(m->qname)) == 0);
	}
	size_t k = 0;
	for (size_t i = 0; i < m->nrr && k < written; i++) {
		const struct dns_rr *rr = &m->rrs[i];
		if (rr->type == DNS_TYPE_OPT || rr->type == DNS_TYPE_TSIG) {
			continue;
		}
		require(k < r.nrr);
		require(dns_name_eq(r.rrs[k].owner, rr->owner));
		require(r.rrs[k].type == rr->type && r.rrs[k].section == rr->section);
		require(r.rrs[k].rclass == rr->rclass && r.rrs[k].ttl == rr->ttl);
		check_rdata(m, rr, &r, &r.rrs[k]);
		k++;
	}
	/* The OPT is left out only when even its fixed 11 octets do not fit the limit. */
	require(!r.edns.present || m->edns.present);
	require(r.edns.present || !m->edns.present || len + 11 > limit);
	dns_msg_clear(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_query q;
	int qrc = dns_query_parse(data, size, &q);
	require(qrc >= -1 && qrc <= DNS_RCODE_NOTIMP);
	require(q.qname_len <= DNS_NAME_MAX);

	struct dns_msg m;
	if (dns_msg_parse(data, size, &m) != TDNS_OK) {
		require(m.rrs == NULL);
		return 0;
	}
	/* A query the full parser accepts is one the query parser accepts too. */
	if (qrc != -1 && DNS_OPCODE(m.flags) == DNS_OPCODE_QUERY && m.count[0] == 1) {
		require(qrc == DNS_RCODE_NOERROR);
		require(dns_name_eq(q.qname, m.qname));
	}
	uint16_t code;
	const uint8_t *text;
	size_t tlen;
	if (dns_edns_find_ede(&m.edns, &code, &text, &tlen)) {
		require(text >= m.edns.options &&
			text + tlen <= m.edns.options + m.edns.options_len);
	}
	static uint8_t plain[DNS_RDATA_MAX];
	static char txt[4 * DNS_RDATA_MAX];
	for (size_t i = 0; i < m.nrr; i++) {
		const struct dns_rr *rr = &m.rrs[i];
		size_t plen;
		if (dns_rdata_unpack(rr->type, data, size, rr->rdata_off, rr->rdlen, plain,
				     sizeof(plain), &plen) == TDNS_OK) {
			(void)dns_rdata_check(rr->type, plain, plen);
			(void)dns_rdata_to_text(rr->type, plain, plen, txt, sizeof(txt));
		}
	}
	/* The first octet picks a size limit so truncation and rollback get exercised too. */
	size_t limit = size > 0 ? (size_t)data[0] * 8 + DNS_HDR_LEN : DNS_UDP_MIN;
	rebuild(&m, limit);
	rebuild(&m, DNS_MSG_MAX);
	dns_msg_clear(&m);
	return 0;
}
