/* SPDX-License-Identifier: MIT */
/* Signed queries (TSIG, RFC 8945) and outgoing zone transfers (RFC 5936) on the query path. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "query/query_int.h"

/* The client's address for logs ("192.0.2.1", "2001:db8::1"), or "-". */
static const char *
peer_text(const struct net_client *cl, char *buf, size_t len)
{
	const struct sockaddr *sa = cl->peer;
	const void *a = NULL;
	if (sa != NULL && sa->sa_family == AF_INET) {
		a = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	}
	if (a == NULL || inet_ntop(sa->sa_family, a, buf, (socklen_t)len) == NULL) {
		snprintf(buf, len, "-");
	}
	return buf;
}

static const char *
name_text(const uint8_t *name, char *buf, size_t len)
{
	if (dns_name_to_text(name, buf, len) < 0) {
		snprintf(buf, len, "?");
	}
	return buf;
}

/* The zone's name as the loader's logs write it: "example.com", without the final dot. */
static const char *
zone_label(const struct zone *z, char *buf, size_t len)
{
	name_text(z->apex, buf, len);
	size_t n = strlen(buf);
	if (n > 1 && buf[n - 1] == '.') {
		buf[n - 1] = '\0';
	}
	return buf;
}

/*
 * Starts a reply to q in b as the pipeline does: header (flags set and RD echoed), question,
 * and an OPT when the query had one (RFC 6891 §7, with our UDP size).
 */
static void
reply_start(struct dns_build *b, const struct dns_query *q, uint16_t edns, uint8_t *out,
	    size_t cap, uint16_t flags)
{
	dns_build_init(b, out, cap, cap, q->id, DNS_FLAG_QR | flags |
		       (q->flags & (QUERY_OPCODE_MASK | DNS_FLAG_RD)));
	if (q->edns.present && q->edns_count == 1) {
		dns_build_edns(b, edns, q->edns.do_bit);
	}
	if (q->qname_len > 0) {
		(void)dns_build_question(b, q->qname, q->qtype, q->qclass);
	}
}

/* A reply with header, question, OPT and rcode only (errors and refusals). */
static size_t
reply_rcode(const struct dns_query *q, uint16_t edns, uint8_t *out, size_t cap, int rcode)
{
	struct dns_build b;
	reply_start(&b, q, edns, out, cap, 0);
	dns_build_rcode(&b, rcode);
	return dns_build_finish(&b);
}

/*
 * Signs the reply out[0..n) with ctx (error as the TSIG error) when the request was signed;
 * a reply that cannot take its TSIG is not sent unsigned (RFC 8945 §5.3: SERVFAIL instead).
 */
static size_t
sign_reply(struct crypto_tsig_ctx *ctx, const struct dns_query *q, uint16_t edns, uint8_t *out,
	   size_t n, size_t limit, uint16_t error, int *rcode)
{
	if (ctx->key == NULL || n == 0) {
		return n;
	}
	size_t m = crypto_tsig_sign(ctx, out, n, limit, (uint64_t)time(NULL), error);
	if (m > 0) {
		return m;
	}
	*rcode = DNS_RCODE_SERVFAIL;
	n = reply_rcode(q, edns, out, limit, DNS_RCODE_SERVFAIL);
	m = crypto_tsig_sign(ctx, out, n, limit, (uint64_t)time(NULL), error);
	return m > 0 ? m : n;
}

/* ------------------------------------------------------------------------------------------ */
/* A transfer in progress: the feed a stream connection pulls                                  */

struct xfr_stream {
	struct zone_xfr *x;
	bool sign;
	struct crypto_tsig_key key;   /* a copy: the configuration may be replaced meanwhile */
	struct crypto_tsig_ctx ctx;
	char peer[INET6_ADDRSTRLEN];
	char zone[DNS_NAME_TEXT_MAX];
	const char *kind;             /* "AXFR", or "IXFR" answered as a full transfer */
	bool done;
};

static size_t
stream_next(void *arg, uint8_t *out, size_t cap, bool *more)
{
	struct xfr_stream *s = arg;
	size_t limit = s->sign ? cap - crypto_tsig_size(&s->key, 0) : cap;
	size_t n = zone_xfr_next(s->x, out, limit, more);
	if (n > 0 && s->sign) {
		/* RFC 8945 §5.3.1: we sign every message. */
		n = crypto_tsig_sign(&s->ctx, out, n, cap, (uint64_t)time(NULL), 0);
		*more = n > 0 && *more;
	}
	s->done = n > 0 && !*more;
	return n;
}

static void
stream_free(void *arg)
{
	struct xfr_stream *s = arg;
	if (s->done) {
		tdns_info("zone %s: %s to %s done: %zu records in %u messages", s->zone, s->kind,
			  s->peer, zone_xfr_records(s->x), zone_xfr_messages(s->x));
	} else {
		tdns_notice("zone %s: %s to %s ended early after %zu records (client gone or "
			    "failure)", s->zone, s->kind, s->peer, zone_xfr_records(s->x));
	}
	zone_xfr_free(s->x);
	crypto_tsig_clear(&s->ctx);
	explicit_bzero(&s->key, sizeof(s->key));
	free(s);
}

/*
 * The serial of the SOA in the authority section of an IXFR request (RFC 1995 §3); false
 * when there is none.
 */
static bool
ixfr_serial(const uint8_t *pkt, size_t len, uint32_t *serial)
{
	int end = dns_msg_question_end(pkt, len);
	if (end < 0 || (size_t)end + 5 > len || tdns_get16(pkt + 4) != 1 ||
	    tdns_get16(pkt + 6) != 0 || tdns_get16(pkt + 8) == 0) {
		return false;
	}
	size_t pos = (size_t)end + 5; /* the root label, QTYPE and QCLASS */
	uint8_t owner[DNS_NAME_MAX];
	if (dns_name_unpack(pkt, len, &pos, owner) < 0 || pos + 10 > len) {
		return false;
	}
	uint16_t type = tdns_get16(pkt + pos), rdlen = tdns_get16(pkt + pos + 8);
	if (type != DNS_TYPE_SOA || rdlen < 22 || pos + 10 + rdlen > len) {
		return false;
	}
	*serial = tdns_get32(pkt + pos + 10 + rdlen - 20);
	return true;
}

/* Starts the transfer of z on the client's stream; false when it could not start. */
static bool
stream_start(const struct zone *z, const struct dns_query *q, uint16_t edns,
	     const struct net_client *cl, const struct crypto_tsig_ctx *ctx, const uint8_t *pkt,
	     size_t len)
{
	struct xfr_stream *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		return false;
	}
	uint32_t serial;
	bool fallback = true;
	if (q->qtype == DNS_TYPE_IXFR && ixfr_serial(pkt, len, &serial)) {
		s->x = zone_xfr_new_ixfr(z, q, edns, serial, &fallback);
	}
	if (s->x == NULL && fallback) {
		s->x = zone_xfr_new(z, q, edns);
	}
	if (s->x == NULL) {
		free(s);
		return false;
	}
	if (ctx->key != NULL) {
		s->sign = true;
		s->key = *ctx->key;
		s->ctx = *ctx;
		s->ctx.key = &s->key;
	}
	peer_text(cl, s->peer, sizeof(s->peer));
	zone_label(z, s->zone, sizeof(s->zone));
	s->kind = q->qtype == DNS_TYPE_AXFR ? "AXFR" : zone_xfr_incremental(s->x) ? "IXFR" :
		  "IXFR (full)";
	struct net_feed f = { .next = stream_next, .free = stream_free, .arg = s };
	if (!cl->feed(cl, &f)) {
		s->done = true;
		zone_xfr_free(s->x);
		free(s);
		return false;
	}
	tdns_info("zone %s: %s to %s%s%s started, serial %u", s->zone, s->kind, s->peer,
		  s->sign ? " with key " : "", s->sign ? name_text(s->key.name, (char[256]){ 0 },
								 256) : "", z->serial);
	return true;
}

/* ------------------------------------------------------------------------------------------ */
/* The entry point                                                                              */

/* An AXFR or IXFR request (RFC 5936 §4, RFC 1995 §4), TSIG already checked into ctx. */
static size_t
transfer(const struct zone_set *zs, const struct zone_xfr_conf *xc, const struct dns_query *q,
	 const uint8_t *pkt, size_t len, uint16_t edns, uint8_t *out, size_t limit,
	 const struct net_client *cl, struct crypto_tsig_ctx *ctx, int *rcode)
{
	char peer[INET6_ADDRSTRLEN], zname[DNS_NAME_TEXT_MAX];
	const struct zone *z = zone_set_match(zs, q->qname);
	if (z == NULL || !dns_name_eq(z->apex, q->qname) || z->forwarder) {
		/* Not a zone of ours (RFC 2136 §2.2 NOTAUTH, as Knot and NSD answer). */
		*rcode = DNS_RCODE_NOTAUTH;
		return sign_reply(ctx, q, edns, out, reply_rcode(q, edns, out, limit, *rcode),
				  limit, 0, rcode);
	}
	if (!zone_xfr_allowed(xc, z->apex, cl->peer, ctx->key)) {
		tdns_notice("zone %s: %s from %s%s refused (not in allow-transfer)",
			    zone_label(z, zname, sizeof(zname)),
			    q->qtype == DNS_TYPE_AXFR ? "AXFR" : "IXFR", peer_text(cl, peer, sizeof(peer)),
			    ctx->key != NULL ? " with a good key" : "");
		*rcode = DNS_RCODE_REFUSED;
		return sign_reply(ctx, q, edns, out, reply_rcode(q, edns, out, limit, *rcode),
				  limit, 0, rcode);
	}
	if (z->expired) {
		/* Issue 17: a secondary zone without data has nothing to send. */
		*rcode = DNS_RCODE_SERVFAIL;
		return sign_reply(ctx, q, edns, out, reply_rcode(q, edns, out, limit, *rcode),
				  limit, 0, rcode);
	}
	if (!cl->stream || cl->feed == NULL) {
		/*
		 * IXFR over UDP (RFC 1995 §2): the zone does not fit, so the SOA alone tells the
		 * client to come over TCP.  DoH has no multi-message replies.
		 */
		if (q->qtype == DNS_TYPE_AXFR) {
			*rcode = DNS_RCODE_NOTIMP;
			return sign_reply(ctx, q, edns, out, reply_rcode(q, edns, out, limit,
									 *rcode), limit, 0, rcode);
		}
		struct dns_build b;
		reply_start(&b, q, edns, out, limit, DNS_FLAG_AA);
		const struct zone_rrset *soa = zone_node_rrset(z->apex_node, DNS_TYPE_SOA);
		const uint8_t *rd;
		uint16_t rdlen;
		zone_rdata_next(soa->data, &rd, &rdlen);
		(void)dns_build_rr(&b, DNS_SECTION_ANSWER, z->apex_node->name, DNS_TYPE_SOA,
				   DNS_CLASS_IN, soa->ttl, rd, rdlen);
		*rcode = DNS_RCODE_NOERROR;
		return sign_reply(ctx, q, edns, out, dns_build_finish(&b), limit, 0, rcode);
	}
	if (!stream_start(z, q, edns, cl, ctx, pkt, len)) {
		*rcode = DNS_RCODE_SERVFAIL;
		return sign_reply(ctx, q, edns, out, reply_rcode(q, edns, out, limit, *rcode),
				  limit, 0, rcode);
	}
	*rcode = NET_RCODE_DEFERRED;
	return 0;
}

/*
 * NOTIFY (RFC 1996 §3.7): accepted for a secondary zone from one of its primaries (signed with
 * the primary's key when it has one), answered NOERROR with AA; the refresh runs on the main
 * thread.  REFUSED from elsewhere or for another zone, NOTAUTH for the wrong key.
 */
static size_t
query_notify(const struct zone_set *zs, const struct zone_xfr_conf *xc, const struct dns_query *q,
	     uint16_t edns, uint8_t *out, size_t limit, const struct net_client *cl,
	     struct crypto_tsig_ctx *ctx, int *rcode)
{
	(void)zs;
	char peer[INET6_ADDRSTRLEN], zname[DNS_NAME_TEXT_MAX];
	*rcode = zone_sec_notify(zone_xfr_conf_secondaries(xc), q->qname, cl->peer,
				 ctx->key != NULL ? ctx->key->name : NULL);
	if (*rcode == DNS_RCODE_NOERROR) {
		tdns_info("zone %s: NOTIFY from %s", name_text(q->qname, zname, sizeof(zname)),
			  peer_text(cl, peer, sizeof(peer)));
		struct dns_build b;
		reply_start(&b, q, edns, out, limit, DNS_FLAG_AA);
		return sign_reply(ctx, q, edns, out, dns_build_finish(&b), limit, 0, rcode);
	}
	tdns_notice("zone %s: NOTIFY from %s refused (%s)", name_text(q->qname, zname,
		    sizeof(zname)), peer_text(cl, peer, sizeof(peer)),
		    *rcode == DNS_RCODE_NOTAUTH ? "not signed with the primary's key"
						: "not a secondary zone of that primary");
	return sign_reply(ctx, q, edns, out, reply_rcode(q, edns, out, limit, *rcode), limit, 0,
			  rcode);
}

bool
query_xfr(const struct zone_set *zs, const struct zone_xfr_conf *xc, struct net_worker *nw,
	  const uint8_t *pkt, size_t len, uint8_t *out, size_t cap, const struct net_client *cl,
	  int *rcode, size_t *rlen)
{
	struct dns_tsig t;
	int tr = len >= DNS_HDR_LEN && tdns_get16(pkt + 10) > 0 ? dns_tsig_find(pkt, len, &t) : 0;
	if (tr < 0) {
		return false; /* FORMERR (dns_ident_answer), or a message cut short (the pipeline) */
	}
	if (tr == 0) {
		/*
		 * Every query comes through here: an unsigned one that plainly asks for another
		 * type is the pipeline's, without a parse it would make a second time.
		 */
		int end = dns_msg_question_end(pkt, len);
		bool notify = len >= DNS_HDR_LEN && DNS_OPCODE(tdns_get16(pkt + 2)) ==
			      DNS_OPCODE_NOTIFY;
		if (end >= 0 && (size_t)end + 2 < len && !notify) {
			uint16_t qtype = tdns_get16(pkt + end + 1);
			if (qtype != DNS_TYPE_AXFR && qtype != DNS_TYPE_IXFR) {
				return false;
			}
		}
	}
	struct dns_query q;
	int prc = dns_query_parse(pkt, len, &q);
	bool xfr = prc == DNS_RCODE_NOERROR && (q.qtype == DNS_TYPE_AXFR ||
						q.qtype == DNS_TYPE_IXFR);
	/* Issue 17: NOTIFY (RFC 1996), parsed as far as its question (dns_query_parse). */
	bool notify = prc == DNS_RCODE_NOTIMP && DNS_OPCODE(q.flags) == DNS_OPCODE_NOTIFY &&
		      q.qdcount == 1 && q.qname_len > 0 && q.qclass == DNS_CLASS_IN;
	if (notify) {
		prc = DNS_RCODE_NOERROR;
		q.flags &= (uint16_t)~QUERY_OPCODE_MASK;
	}
	if (prc != DNS_RCODE_NOERROR || (tr == 0 && !xfr && !notify) ||
	    (xfr && !cl->stream && q.qtype == DNS_TYPE_AXFR && tr == 0) ||
	    (q.flags & QUERY_OPCODE_MASK) != 0 || q.qclass != DNS_CLASS_IN) {
		/* Not ours: the pipeline answers (AXFR over UDP is NOTIMP there). */
		return false;
	}
	size_t limit = query_reply_limit(&q, cl->stream, nw->set->udp_max);
	limit = limit > cap ? cap : limit;
	/* Our EDNS UDP size, as the pipeline states it (query-answer.c). */
	size_t um = nw->set->udp_max;
	uint16_t edns = um > DNS_MSG_MAX ? DNS_MSG_MAX : um < DNS_UDP_MIN ? DNS_UDP_MIN : (uint16_t)um;
	struct crypto_tsig_ctx ctx;
	crypto_tsig_init(&ctx, NULL);
	nw->qkind = STATS_KIND_AUTHORITATIVE;
	if (tr > 0) {
		uint16_t terr = 0;
		const struct crypto_tsig_key *key = zone_xfr_conf_key(xc, t.key);
		if (crypto_tsig_verify_request(&ctx, key, pkt, &t, (uint64_t)time(NULL), &terr) !=
		    TDNS_OK) {
			/* RFC 8945 §5.2.2.1: a MAC size out of range makes the message FORMERR. */
			*rcode = DNS_RCODE_FORMERR;
			*rlen = reply_rcode(&q, edns, out, limit, *rcode);
			return true;
		}
		if (terr != 0) {
			char peer[INET6_ADDRSTRLEN], kname[DNS_NAME_TEXT_MAX];
			static const char *const names[] = {
				[DNS_TSIG_BADSIG] = "BADSIG", [DNS_TSIG_BADKEY] = "BADKEY",
				[DNS_TSIG_BADTIME] = "BADTIME", [DNS_TSIG_BADTRUNC] = "BADTRUNC",
			};
			tdns_notice("tsig: query from %s with key %s: %s", peer_text(cl, peer,
				    sizeof(peer)), name_text(t.key, kname, sizeof(kname)),
				    names[terr]);
			/* §5.2: NOTAUTH with the TSIG error; BADKEY and BADSIG unsigned (§5.3.2). */
			*rcode = DNS_RCODE_NOTAUTH;
			size_t n = reply_rcode(&q, edns, out, limit, *rcode);
			if (ctx.key == NULL) {
				size_t m = dns_tsig_append_unsigned(out, n, limit, &t, terr,
								    (uint64_t)time(NULL));
				*rlen = m > 0 ? m : n;
			} else {
				*rlen = sign_reply(&ctx, &q, edns, out, n, limit, terr, rcode);
			}
			crypto_tsig_clear(&ctx);
			return true;
		}
	}
	if (notify) {
		q.flags |= (uint16_t)(DNS_OPCODE_NOTIFY << 11);
		*rlen = query_notify(zs, xc, &q, edns, out, limit, cl, &ctx, rcode);
	} else if (xfr) {
		*rlen = transfer(zs, xc, &q, pkt, len, edns, out, limit, cl, &ctx, rcode);
	} else {
		/* A good signed query: answered from our zones, and the answer signed. */
		size_t room = crypto_tsig_size(ctx.key, 0);
		size_t n = query_answer_parsed(zs, &q, prc, out, limit > room + DNS_UDP_MIN ?
					       limit - room : DNS_UDP_MIN, cl->stream,
					       nw->set->udp_max, rcode);
		*rlen = sign_reply(&ctx, &q, edns, out, n, limit, 0, rcode);
	}
	crypto_tsig_clear(&ctx);
	return true;
}


size_t
query_xfr_expire(const struct zone_xfr_conf *xc, const uint8_t *pkt, size_t len, uint8_t *out,
		 size_t n, size_t cap, const struct net_client *cl, size_t udp_max)
{
	struct zone_secondaries *secs = zone_xfr_conf_secondaries(xc);
	if (secs == NULL || n < DNS_HDR_LEN || len < DNS_HDR_LEN || tdns_get16(pkt + 10) == 0 ||
	    (out[3] & 0x0f) != DNS_RCODE_NOERROR || (tdns_get16(out + 2) & DNS_FLAG_AA) == 0) {
		return n;
	}
	/* Only SOA queries carry it (RFC 7314 §2); a peek spares the others a parse. */
	int end = dns_msg_question_end(pkt, len);
	if (end < 0 || (size_t)end + 3 > len || tdns_get16(pkt + end + 1) != DNS_TYPE_SOA) {
		return n;
	}
	struct dns_query q;
	const uint8_t *d;
	uint16_t dlen;
	if (dns_query_parse(pkt, len, &q) != DNS_RCODE_NOERROR || !q.edns.present ||
	    !dns_edns_option(q.edns.options, q.edns.options_len, DNS_OPT_CODE_EXPIRE, &d, &dlen)) {
		return n;
	}
	long left = zone_sec_expire_left(secs, q.qname);
	if (left <= 0) {
		return n;
	}
	uint8_t v[4];
	tdns_put32(v, (uint32_t)left);
	size_t limit = query_reply_limit(&q, cl->stream, udp_max);
	return dns_msg_opt_append(out, n, limit > cap ? cap : limit, DNS_OPT_CODE_EXPIRE, v, 4);
}
