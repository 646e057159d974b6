/* SPDX-License-Identifier: MIT */
/* Blocking in the query pipeline (issue 18): block lists, bypass, answers by mode, the canary. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter/filter.h"
#include "query/query_int.h"

/* A [blocking-group]: its clients, its lists' table and how it answers. */
struct group {
	const char *name;         /* borrowed from the configuration it was made with */
	struct filter_acl clients;
	struct block_policy policy;
	struct block_table *lists; /* the group's own lists; NULL: none */
	bool replace;             /* without the [blocking] lists */
	bool safe;                /* safe search for its clients */
};

struct query_blocking {
	bool enabled;
	struct block_policy policy;
	struct filter_acl bypass;
	struct block_table *tables[2]; /* the configured lists, the custom names */
	struct block_safe *safe;  /* the safe-search table; NULL when no one has safe search */
	bool safe_search;         /* [blocking] safe-search */
	struct group *groups;
	size_t ngroups;
	char **names;             /* the groups' names, owned */
};

static int
make_group(struct query_blocking *qb, const struct cfg_block_group *cg,
	   struct block_table *lists, struct group *g, char *err, size_t errlen)
{
	g->name = cg->name;
	g->policy = qb->policy;
	g->replace = cg->replace_lists != 0;
	g->safe = cg->safe_search[0] != '\0' ? strcmp(cg->safe_search, "yes") == 0
					      : qb->safe_search;
	int rc = cg->mode[0] != '\0' ? block_mode_parse(cg->mode, &g->policy, err, errlen)
				      : TDNS_OK;
	if (rc == TDNS_OK) {
		rc = filter_acl_parse(cg->clients, &g->clients, err, errlen);
	}
	g->lists = rc == TDNS_OK && lists != NULL ? block_table_ref(lists) : NULL;
	return rc;
}

bool
query_blocking_wants_safe(const struct cfg *c)
{
	bool on = c->blocking_enabled != 0 && c->blocking_safe_search != 0;
	for (size_t i = 0; i < c->nblock_groups && c->blocking_enabled && !on; i++) {
		on = strcmp(c->block_groups[i].safe_search, "yes") == 0;
	}
	return on;
}

int
query_blocking_new(const struct cfg *c, struct block_table *lists, struct block_table *custom,
		   struct block_table *const *group_lists, struct block_safe *safe, bool paused,
		   struct query_blocking **out, char *err, size_t errlen)
{
	*out = NULL;
	struct query_blocking *qb = calloc(1, sizeof(*qb));
	struct group *groups = c->nblock_groups > 0 ? calloc(c->nblock_groups, sizeof(*groups))
						    : NULL;
	char **names = c->nblock_groups > 0 ? calloc(c->nblock_groups, sizeof(*names)) : NULL;
	if (qb == NULL || (c->nblock_groups > 0 && (groups == NULL || names == NULL))) {
		free(qb);
		free(groups);
		free(names);
		snprintf(err, errlen, "out of memory");
		return TDNS_ENOMEM;
	}
	qb->groups = groups;
	qb->names = names;
	qb->enabled = c->blocking_enabled != 0 && !paused;
	qb->policy.ttl = c->blocking_ttl;
	qb->tables[0] = lists != NULL ? block_table_ref(lists) : NULL;
	qb->tables[1] = custom != NULL ? block_table_ref(custom) : NULL;
	qb->safe = safe != NULL ? block_safe_ref(safe) : NULL;
	qb->safe_search = c->blocking_safe_search != 0;
	int rc = block_mode_parse(c->blocking_mode, &qb->policy, err, errlen);
	if (rc == TDNS_OK) {
		rc = filter_acl_parse(c->blocking_bypass, &qb->bypass, err, errlen);
	}
	for (size_t i = 0; i < c->nblock_groups && rc == TDNS_OK; i++) {
		rc = make_group(qb, &c->block_groups[i], group_lists != NULL ? group_lists[i]
										: NULL,
				&groups[i], err, errlen);
		names[i] = tdns_xstrdup(c->block_groups[i].name);
		groups[i].name = names[i];
		qb->ngroups = i + 1;
	}
	if (rc != TDNS_OK) {
		query_blocking_free(qb);
		return rc;
	}
	*out = qb;
	return TDNS_OK;
}

void
query_blocking_free(struct query_blocking *qb)
{
	if (qb == NULL) {
		return;
	}
	for (size_t i = 0; i < qb->ngroups; i++) {
		filter_acl_clear(&qb->groups[i].clients);
		block_table_unref(qb->groups[i].lists);
		free(qb->names[i]);
	}
	free(qb->groups);
	free(qb->names);
	filter_acl_clear(&qb->bypass);
	block_table_unref(qb->tables[0]);
	block_table_unref(qb->tables[1]);
	block_safe_unref(qb->safe);
	free(qb);
}

bool
query_blocking_enabled(const struct query_blocking *qb)
{
	return qb != NULL && qb->enabled;
}

struct block_table *
query_blocking_table(const struct query_blocking *qb, bool custom)
{
	return qb->tables[custom ? 1 : 0];
}

struct block_safe *
query_blocking_safe_table(const struct query_blocking *qb)
{
	return qb->safe;
}

struct block_table *
query_blocking_group_table(const struct query_blocking *qb, size_t i)
{
	return i < qb->ngroups ? qb->groups[i].lists : NULL;
}

/*
 * The tables that apply to client (NULL: none) in the order block_lookup takes them, and its
 * group (NULL: none) with the policy it answers by.
 */
static const struct group *
client_tables(const struct query_blocking *qb, const struct sockaddr *client,
	      const struct block_table *tables[3], const struct block_policy **policy)
{
	const struct group *g = NULL;
	int best = -1;
	for (size_t i = 0; client != NULL && i < qb->ngroups; i++) {
		int len = filter_acl_match_len(&qb->groups[i].clients, client);
		if (len > best) {
			best = len;
			g = &qb->groups[i];
		}
	}
	tables[0] = g != NULL && g->replace ? NULL : qb->tables[0];
	tables[1] = g != NULL ? g->lists : NULL;
	tables[2] = qb->tables[1];
	*policy = g != NULL ? &g->policy : &qb->policy;
	return g;
}

enum block_verdict
query_blocking_check(const struct query_blocking *qb, const uint8_t *qname,
		     const struct sockaddr *client, struct block_hit *hit, bool *bypassed,
		     const char **group)
{
	*bypassed = client != NULL && filter_acl_match(&qb->bypass, client);
	const struct block_table *tables[3];
	const struct block_policy *policy;
	const struct group *g = client_tables(qb, client, tables, &policy);
	*group = g != NULL ? g->name : NULL;
	return block_lookup(tables, 3, qname, hit);
}

const uint8_t *
query_blocking_safe(const struct query_blocking *qb, const uint8_t *qname,
		    const struct sockaddr *client, uint32_t *ttl, unsigned *line)
{
	if (!query_blocking_enabled(qb) || qb->safe == NULL ||
	    (client != NULL && filter_acl_match(&qb->bypass, client))) {
		return NULL;
	}
	const struct block_table *tables[3];
	const struct block_policy *p;
	const struct group *g = client_tables(qb, client, tables, &p);
	if (!(g != NULL ? g->safe : qb->safe_search)) {
		return NULL;
	}
	*ttl = p->ttl;
	return block_safe_lookup(qb->safe, qname, line);
}

/* The synthetic zone's SOA at owner: RFC 2308 §5, its minimum is the negative TTL. */
static void
add_soa(struct dns_build *b, const uint8_t *owner, uint32_t ttl)
{
	static const uint8_t rname[] = "\12hostmaster\7invalid";
	uint8_t rd[DNS_NAME_MAX + sizeof(rname) + 20];
	size_t olen = dns_name_len(owner);
	memcpy(rd, owner, olen);
	memcpy(rd + olen, rname, sizeof(rname));
	size_t off = olen + sizeof(rname);
	const uint32_t times[5] = { 1, 3600, 600, 86400, ttl };
	for (size_t i = 0; i < 5; i++) {
		tdns_put32(rd + off, times[i]);
		off += 4;
	}
	(void)dns_build_rr(b, DNS_SECTION_AUTHORITY, owner, DNS_TYPE_SOA, DNS_CLASS_IN, ttl, rd,
			   off);
}

/* A list's file name without its directories, for the EDE text. */
static const char *
base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash != NULL ? slash + 1 : path;
}

bool
query_blocking_answer(const struct query_blocking *qb, const uint8_t *pkt, size_t len,
		      uint8_t *out, size_t cap, const struct net_client *cl, size_t udp_max,
		      struct stats_worker *sw, int *rcode, size_t *rlen)
{
	struct dns_query q;
	if (dns_query_parse(pkt, len, &q) != DNS_RCODE_NOERROR || q.qclass != DNS_CLASS_IN ||
	    (q.edns.present && (q.edns_count != 1 || q.edns.version > 0)) ||
	    (dns_type_is_meta(q.qtype) && q.qtype != DNS_TYPE_ANY)) {
		/* Errors, transfers and the rest are answered by the pipeline as ever. */
		return false;
	}
	struct block_hit hit = { NULL, 0, 0 };
	bool is_canary = dns_name_eq(q.qname, BLOCK_CANARY);
	const struct block_table *tables[3];
	const struct block_policy *p;
	const struct group *g = client_tables(qb, cl->peer, tables, &p);
	if (!is_canary) {
		if (cl->peer != NULL && filter_acl_match(&qb->bypass, cl->peer)) {
			return false;
		}
		if (block_lookup(tables, 3, q.qname, &hit) != BLOCK_BLOCKED) {
			return false;
		}
	}
	size_t limit = query_reply_limit(&q, cl->stream, udp_max);
	struct dns_build b;
	dns_build_init(&b, out, cap, limit < cap ? limit : cap, q.id,
		       DNS_FLAG_QR | DNS_FLAG_RA | (q.flags & (DNS_FLAG_RD | DNS_FLAG_CD)));
	if (q.edns.present) {
		uint16_t size = udp_max > DNS_MSG_MAX ? DNS_MSG_MAX : (uint16_t)udp_max;
		dns_build_edns(&b, size < DNS_UDP_MIN ? DNS_UDP_MIN : size, q.edns.do_bit);
	}
	(void)dns_build_question(&b, q.qname, q.qtype, q.qclass);
	if (is_canary) {
		/* Not a block of a listed name: the signal Firefox looks for, nothing more. */
		*rcode = DNS_RCODE_NXDOMAIN;
		dns_build_rcode(&b, *rcode);
		add_soa(&b, q.qname, p->ttl);
		*rlen = dns_build_finish(&b);
		stats_note_block(sw, 0, NULL, 0, g != NULL ? g->name : NULL);
		return true;
	}
	char text[64];
	snprintf(text, sizeof(text), "blocked by %s:%u", base_name(hit.list), hit.line);
	/* RFC 8914 §5.16: the server's own policy blocked the name. */
	dns_build_ede(&b, DNS_EDE_BLOCKED, text);
	stats_note_block(sw, DNS_EDE_BLOCKED, hit.list, hit.line, g != NULL ? g->name : NULL);
	*rcode = p->mode == BLOCK_MODE_NXDOMAIN ? DNS_RCODE_NXDOMAIN
		 : p->mode == BLOCK_MODE_REFUSED ? DNS_RCODE_REFUSED : DNS_RCODE_NOERROR;
	dns_build_rcode(&b, *rcode);
	size_t nans = 0;
	if (p->mode == BLOCK_MODE_NULL || p->mode == BLOCK_MODE_ADDRESS) {
		static const uint8_t zero[16];
		bool v4 = q.qtype == DNS_TYPE_A;
		bool v6 = q.qtype == DNS_TYPE_AAAA;
		bool null = p->mode == BLOCK_MODE_NULL;
		size_t n = v4 ? (null ? 1 : p->n4) : v6 ? (null ? 1 : p->n6) : 0;
		for (size_t i = 0; i < n; i++) {
			const uint8_t *rd = null ? zero : v4 ? p->a4[i] : p->a6[i];
			if (dns_build_rr(&b, DNS_SECTION_ANSWER, q.qname, q.qtype, DNS_CLASS_IN,
					 p->ttl, rd, v4 ? 4 : 16) == TDNS_OK) {
				nans++;
			}
		}
	}
	if (nans == 0 && p->mode != BLOCK_MODE_REFUSED) {
		/* NXDOMAIN or NODATA: the SOA of a synthetic zone at the listed name. */
		add_soa(&b, q.qname + hit.offset, p->ttl);
	}
	*rlen = dns_build_finish(&b);
	return true;
}
