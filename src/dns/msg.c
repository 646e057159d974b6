/* SPDX-License-Identifier: MIT */
/* Wire message parsing: a malloc-free query parser for the server and a full parser for clients. */
#include <stdlib.h>
#include <string.h>

#include "dns/dns.h"

/* Smallest question: root name (1) + type + class; smallest RR: root + 10 fixed octets. */
#define QUESTION_MIN 5
#define RR_MIN 11

/* The fixed part of one RR as read from the wire. */
struct rr_view {
	uint8_t owner[DNS_NAME_MAX];
	uint16_t type;
	uint16_t rclass;
	uint32_t ttl;
	uint16_t rdlen;
	size_t rdata_off;
};

/*
 * Rejects header counts that could not fit in len octets, so a packet claiming 65535 records
 * costs nothing to refuse (and dns_msg_parse never allocates for records that cannot exist).
 */
static bool
counts_fit(size_t len, uint32_t qd, uint32_t rrs)
{
	uint64_t need = (uint64_t)qd * QUESTION_MIN + (uint64_t)rrs * RR_MIN;
	return need <= len - DNS_HDR_LEN;
}

static int
read_question(const uint8_t *pkt, size_t len, size_t *pos, uint8_t *name, uint16_t *qtype,
	      uint16_t *qclass)
{
	int n = dns_name_unpack(pkt, len, pos, name);
	if (n < 0) {
		return n;
	}
	if (len - *pos < 4) {
		return TDNS_ETRUNC;
	}
	*qtype = tdns_get16(pkt + *pos);
	*qclass = tdns_get16(pkt + *pos + 2);
	*pos += 4;
	return n;
}

/* Reads one RR's owner and fixed fields and skips its rdata, all within len. */
static int
read_rr(const uint8_t *pkt, size_t len, size_t *pos, struct rr_view *rr)
{
	int n = dns_name_unpack(pkt, len, pos, rr->owner);
	if (n < 0) {
		return n;
	}
	if (len - *pos < 10) {
		return TDNS_ETRUNC;
	}
	const uint8_t *p = pkt + *pos;
	rr->type = tdns_get16(p);
	rr->rclass = tdns_get16(p + 2);
	rr->ttl = tdns_get32(p + 4);
	rr->rdlen = tdns_get16(p + 8);
	*pos += 10;
	if (len - *pos < rr->rdlen) {
		return TDNS_ETRUNC;
	}
	rr->rdata_off = *pos;
	*pos += rr->rdlen;
	return TDNS_OK;
}

/* RFC 6891 §6.1.2: the options area is a sequence of {code, length, data}. */
static bool
options_valid(const uint8_t *opt, size_t len)
{
	size_t off = 0;
	while (off < len) {
		if (len - off < 4) {
			return false;
		}
		size_t olen = tdns_get16(opt + off + 2);
		off += 4;
		if (len - off < olen) {
			return false;
		}
		off += olen;
	}
	return true;
}

/*
 * Checks the placement rules for meta records and fills e from an OPT.  seen counts the OPT
 * records so far.  i is the index of the record within the additional section, nar its size.
 */
static int
check_rr(const uint8_t *pkt, const struct rr_view *rr, int section, size_t i, size_t nar,
	 struct dns_edns *e, size_t *seen)
{
	if (rr->type == DNS_TYPE_OPT) {
		/* RFC 6891 §6.1.1: one OPT, in the additional section, owned by the root. */
		(*seen)++;
		if (section != DNS_SECTION_ADDITIONAL || *seen > 1 || rr->owner[0] != 0) {
			return TDNS_EMALFORMED;
		}
		if (!options_valid(pkt + rr->rdata_off, rr->rdlen)) {
			return TDNS_EMALFORMED;
		}
		e->present = true;
		e->udp_size = rr->rclass;
		e->ext_rcode = (uint8_t)(rr->ttl >> 24);
		e->version = (uint8_t)(rr->ttl >> 16);
		e->do_bit = (rr->ttl & 0x8000) != 0;
		e->z = (uint16_t)(rr->ttl & 0x7fff);
		e->options = pkt + rr->rdata_off;
		e->options_len = rr->rdlen;
	} else if (rr->type == DNS_TYPE_TSIG) {
		/* RFC 8945 §5.1: TSIG must be the last record of the additional section. */
		if (section != DNS_SECTION_ADDITIONAL || i + 1 != nar) {
			return TDNS_EMALFORMED;
		}
	}
	return TDNS_OK;
}

static int
section_of(size_t i, const uint16_t *count, size_t *idx)
{
	if (i < count[1]) {
		*idx = i;
		return DNS_SECTION_ANSWER;
	}
	i -= count[1];
	if (i < count[2]) {
		*idx = i;
		return DNS_SECTION_AUTHORITY;
	}
	*idx = i - count[2];
	return DNS_SECTION_ADDITIONAL;
}

int
dns_query_parse(const uint8_t *pkt, size_t len, struct dns_query *q)
{
	/* Every field is defined on every return; the 255-octet qname is left alone. */
	q->id = q->flags = 0;
	q->qdcount = q->ancount = q->nscount = q->arcount = 0;
	q->qname_len = 0;
	q->qname[0] = 0;
	q->qtype = 0;
	q->qclass = 0;
	memset(&q->edns, 0, sizeof(q->edns));
	q->edns_count = 0;
	if (len < DNS_HDR_LEN) {
		return -1;
	}
	q->id = tdns_get16(pkt);
	q->flags = tdns_get16(pkt + 2);
	q->qdcount = tdns_get16(pkt + 4);
	q->ancount = tdns_get16(pkt + 6);
	q->nscount = tdns_get16(pkt + 8);
	q->arcount = tdns_get16(pkt + 10);
	/* Never answer a response: that would let two servers bounce packets forever. */
	if (q->flags & DNS_FLAG_QR) {
		return -1;
	}

	size_t pos = DNS_HDR_LEN;
	if (DNS_OPCODE(q->flags) != DNS_OPCODE_QUERY) {
		/* Parse the question so the NOTIMP reply can echo it ... */
		if (q->qdcount >= 1) {
			int n = read_question(pkt, len, &pos, q->qname, &q->qtype, &q->qclass);
			if (n > 0) {
				q->qname_len = (size_t)n;
			}
		}
		/*
		 * ... and, when the message is well formed, its OPT record, so the reply carries
		 * one too (RFC 6891 §7).  Anything odd just leaves the reply without EDNS.
		 */
		if (q->qdcount == 1 && q->qname_len > 0) {
			uint16_t count[4] = { q->qdcount, q->ancount, q->nscount, q->arcount };
			size_t nrr = (size_t)count[1] + count[2] + count[3];
			bool ok = counts_fit(len, count[0], (uint32_t)nrr);
			struct rr_view rr;
			for (size_t i = 0; ok && i < nrr; i++) {
				size_t idx;
				int section = section_of(i, count, &idx);
				ok = read_rr(pkt, len, &pos, &rr) == TDNS_OK &&
				     check_rr(pkt, &rr, section, idx, count[3], &q->edns,
					      &q->edns_count) == TDNS_OK;
			}
			if (!ok || pos != len) {
				memset(&q->edns, 0, sizeof(q->edns));
				q->edns_count = 0;
			}
		}
		return DNS_RCODE_NOTIMP;
	}
	/* RFC 9619: a QUERY carries exactly one question. */
	if (q->qdcount != 1) {
		return DNS_RCODE_FORMERR;
	}
	int n = read_question(pkt, len, &pos, q->qname, &q->qtype, &q->qclass);
	if (n < 0) {
		return DNS_RCODE_FORMERR;
	}
	q->qname_len = (size_t)n;

	uint16_t count[4] = { q->qdcount, q->ancount, q->nscount, q->arcount };
	size_t nrr = (size_t)count[1] + count[2] + count[3];
	if (!counts_fit(len, count[0], (uint32_t)nrr)) {
		return DNS_RCODE_FORMERR;
	}
	struct rr_view rr;
	for (size_t i = 0; i < nrr; i++) {
		size_t idx;
		int section = section_of(i, count, &idx);
		if (read_rr(pkt, len, &pos, &rr) != TDNS_OK) {
			return DNS_RCODE_FORMERR;
		}
		if (check_rr(pkt, &rr, section, idx, count[3], &q->edns, &q->edns_count) !=
		    TDNS_OK) {
			return DNS_RCODE_FORMERR;
		}
	}
	/* Octets after the last counted record mean the counts or the packet are wrong. */
	if (pos != len) {
		return DNS_RCODE_FORMERR;
	}
	return DNS_RCODE_NOERROR;
}

int
dns_msg_parse(const uint8_t *pkt, size_t len, struct dns_msg *m)
{
	memset(m, 0, sizeof(*m));
	if (len < DNS_HDR_LEN) {
		return TDNS_ETRUNC;
	}
	m->pkt = pkt;
	m->len = len;
	m->id = tdns_get16(pkt);
	m->flags = tdns_get16(pkt + 2);
	for (int i = 0; i < 4; i++) {
		m->count[i] = tdns_get16(pkt + 4 + 2 * i);
	}
	size_t nrr = (size_t)m->count[1] + m->count[2] + m->count[3];
	if (!counts_fit(len, m->count[0], (uint32_t)nrr)) {
		memset(m, 0, sizeof(*m));
		return TDNS_ETRUNC;
	}

	int rc;
	size_t pos = DNS_HDR_LEN;
	uint8_t name[DNS_NAME_MAX];
	uint16_t qtype, qclass;
	for (size_t i = 0; i < m->count[0]; i++) {
		rc = read_question(pkt, len, &pos, name, &qtype, &qclass);
		if (rc < 0) {
			goto fail;
		}
		if (i == 0) {
			memcpy(m->qname, name, (size_t)rc);
			m->qtype = qtype;
			m->qclass = qclass;
		}
	}
	if (nrr > 0) {
		m->rrs = malloc(nrr * sizeof(*m->rrs));
		if (m->rrs == NULL) {
			rc = TDNS_ENOMEM;
			goto fail;
		}
	}
	size_t seen = 0;
	struct rr_view rr;
	for (size_t i = 0; i < nrr; i++) {
		size_t idx;
		int section = section_of(i, m->count, &idx);
		rc = read_rr(pkt, len, &pos, &rr);
		if (rc != TDNS_OK) {
			goto fail;
		}
		rc = check_rr(pkt, &rr, section, idx, m->count[3], &m->edns, &seen);
		if (rc != TDNS_OK) {
			goto fail;
		}
		struct dns_rr *out = &m->rrs[i];
		memcpy(out->owner, rr.owner, dns_name_len(rr.owner));
		out->type = rr.type;
		out->rclass = rr.rclass;
		out->ttl = rr.ttl;
		out->rdlen = rr.rdlen;
		out->rdata_off = rr.rdata_off;
		out->section = section;
		m->nrr = i + 1;
	}
	if (pos != len) {
		rc = TDNS_EMALFORMED;
		goto fail;
	}
	/* RFC 6891 §6.1.3: the OPT TTL carries the upper 8 bits of a 12-bit rcode. */
	m->rcode = DNS_RCODE(m->flags);
	if (m->edns.present) {
		m->rcode |= (int)m->edns.ext_rcode << 4;
	}
	return TDNS_OK;
fail:
	free(m->rrs);
	memset(m, 0, sizeof(*m));
	return rc;
}

int
dns_msg_question_end(const uint8_t *pkt, size_t len)
{
	if (len < DNS_HDR_LEN) {
		return -1;
	}
	size_t pos = DNS_HDR_LEN;
	while (pos < len && pkt[pos] != 0) {
		if (pkt[pos] > 63) {
			return -1;
		}
		pos += 1u + pkt[pos];
	}
	return (int)pos;
}

void
dns_msg_clear(struct dns_msg *m)
{
	free(m->rrs);
	m->rrs = NULL;
	m->nrr = 0;
}

bool
dns_edns_find_ede(const struct dns_edns *e, uint16_t *code, const uint8_t **text,
		  size_t *textlen)
{
	if (!e->present || e->options == NULL) {
		return false;
	}
	const uint8_t *p = e->options;
	size_t len = e->options_len;
	size_t off = 0;
	while (len - off >= 4) {
		uint16_t ocode = tdns_get16(p + off);
		size_t olen = tdns_get16(p + off + 2);
		off += 4;
		if (len - off < olen) {
			return false;
		}
		/* RFC 8914 §2: INFO-CODE is two octets, EXTRA-TEXT the rest (may be empty). */
		if (ocode == DNS_OPT_CODE_EDE && olen >= 2) {
			*code = tdns_get16(p + off);
			*text = p + off + 2;
			*textlen = olen - 2;
			return true;
		}
		off += olen;
	}
	return false;
}

bool
dns_edns_option(const uint8_t *options, size_t options_len, uint16_t code,
		const uint8_t **data, uint16_t *len)
{
	for (size_t p = 0; options != NULL && p + 4 <= options_len;) {
		uint16_t olen = tdns_get16(options + p + 2);
		if (p + 4 + olen > options_len) {
			return false;
		}
		if (tdns_get16(options + p) == code) {
			*data = options + p + 4;
			*len = olen;
			return true;
		}
		p += 4 + (size_t)olen;
	}
	return false;
}

size_t
dns_msg_opt_append(uint8_t *msg, size_t msglen, size_t limit, uint16_t code,
		   const uint8_t *data, uint16_t len)
{
	size_t off;
	uint16_t type;
	if (dns_msg_last_rr(msg, msglen, &off, &type) != 1 || type != DNS_TYPE_OPT ||
	    msg[off] != 0) {
		return msglen;
	}
	size_t add = 4 + (size_t)len;
	size_t rdlen = tdns_get16(msg + off + 9);
	if (msglen > limit || limit - msglen < add || rdlen + add > UINT16_MAX) {
		return msglen;
	}
	/* The OPT is the last record, so its rdata ends the message. */
	tdns_put16(msg + msglen, code);
	tdns_put16(msg + msglen + 2, len);
	if (len > 0) {
		memcpy(msg + msglen + 4, data, len);
	}
	tdns_put16(msg + off + 9, (uint16_t)(rdlen + add));
	return msglen + add;
}
