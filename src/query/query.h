/* SPDX-License-Identifier: MIT */
/* query: the pipeline listeners hand packets to (ACL -> zones -> resolver -> response). */
#ifndef TDNS_QUERY_H
#define TDNS_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "block/block.h"
#include "cfg/cfg.h"
#include "core/core.h"
#include "dns/dns.h"
#include "net/net.h"
#include "resolver/resolver.h"
#include "zone/zone.h"

/* ------------------------------------------------------------------------------------------ */
/* Authoritative answers (query-answer.c): one wire query in, one wire reply out, no I/O.       */

/*
 * Answers the query pkt[0..len) from the zones in zs into out (cap bytes) and returns the
 * reply length, or 0 when the packet must be dropped (shorter than a header, or a response).
 * Malformed queries get FORMERR, opcodes other than QUERY NOTIMP, EDNS versions above 0
 * BADVERS (RFC 6891 §6.1.3).  The reply is limited to 65535 octets over TCP and, over UDP, to
 * max(512, min(client EDNS size, udp_max)) with EDNS and to 512 without (RFC 6891 §6.2.5);
 * udp_max is also the payload size our OPT record advertises.
 */
size_t query_process(const struct zone_set *zs, const uint8_t *pkt, size_t len, uint8_t *out,
		     size_t cap, bool tcp, size_t udp_max);

/*
 * The same, also storing the reply's full rcode (BADVERS included) in *rcode, or -1 when the
 * packet is dropped.  Used by the listeners for their counters.
 */
size_t query_answer(const struct zone_set *zs, const uint8_t *pkt, size_t len, uint8_t *out,
		    size_t cap, bool tcp, size_t udp_max, int *rcode);

/* ------------------------------------------------------------------------------------------ */
/* The server's query handler (query-resolve.c): zones, cache, forwarders, iterator, ANAME.     */

/*
 * Creates the listeners (net_server_new) with this layer as their query handler: each worker
 * gets a forwarder on its event base, and answers with query_answer's rules plus the
 * resolver (issue 4): names outside the zones are answered from the cache or resolved (when
 * the configuration says so and the client is in [recursion] allow; else REFUSED, with EDE 18
 * for clients outside the ACL), conditional forwarder zones and ANAME apply.  Arguments,
 * result and errors are net_server_new's.  Publish zones with query_publish_zones before
 * net_server_start.
 */
int query_server_new(const struct cfg *c, unsigned nworkers, struct net_server **out, char *err,
		     size_t errlen);

/*
 * Publishes a new zone set: every worker switches to zs on its own event base, between two
 * queries.  Blocks until all workers have switched, so on return the previous set is no
 * longer referenced and the caller may free it.  Before net_server_start it only records zs
 * (borrowed until a later publish returns or the server is freed).
 */
void query_publish_zones(struct net_server *s, const struct zone_set *zs);

/*
 * Publishes a resolver configuration (a reference is taken for each worker; NULL stops
 * forwarding) the way query_publish_zones publishes zones; blocks until every worker has
 * switched.  Before net_server_start it only records rc.
 */
void query_publish_resolver(struct net_server *s, struct resolver_conf *rc);

/*
 * Makes xc (allow-transfer lists and TSIG keys) the one every worker uses; blocks until all
 * have switched, so the previous one may be freed on return.  xc is borrowed until then.
 */
void query_publish_xfr(struct net_server *s, const struct zone_xfr_conf *xc);

/* ------------------------------------------------------------------------------------------ */
/* Blocking (query-block.c, issue 18): block lists, bypass, answers by [blocking] mode.        */

/* What the workers block with: the tables, the policy and the bypass networks of a config. */
struct query_blocking;

/*
 * Makes the blocking of c ([blocking] enabled, mode, ttl, bypass, safe-search) with the
 * tables lists (the configured lists) and custom (the custom names), either NULL,
 * group_lists (NULL, or one table or NULL for each [blocking-group] of c, in order) and the
 * safe-search table safe (NULL: no safe search); a reference is taken on each.
 * paused (`tdns-cli block pause`): nothing is blocked, as with enabled = no, until a new
 * blocking is published.
 * TDNS_OK, or TDNS_ECONFIG / TDNS_EINVAL / TDNS_ENOMEM with the reason in err.  Free with
 * query_blocking_free (after it is no longer published).
 */
int query_blocking_new(const struct cfg *c, struct block_table *lists, struct block_table *custom,
		       struct block_table *const *group_lists, struct block_safe *safe, bool paused,
		       struct query_blocking **out, char *err, size_t errlen);

/*
 * Whether c has safe search on anywhere ([blocking] enabled, and safe-search = yes in
 * [blocking] or in a [blocking-group]): the safe-search table is then needed.
 */
bool query_blocking_wants_safe(const struct cfg *c);

/* The safe-search table of qb; borrowed, maybe NULL. */
struct block_safe *query_blocking_safe_table(const struct query_blocking *qb);

/* Frees qb and drops its table references; accepts NULL. */
void query_blocking_free(struct query_blocking *qb);

/* Whether qb blocks at all ([blocking] enabled and not paused); false for NULL. */
bool query_blocking_enabled(const struct query_blocking *qb);

/* The configured lists' table (custom false) or the custom names' one; borrowed, maybe NULL. */
struct block_table *query_blocking_table(const struct query_blocking *qb, bool custom);

/* The table of the lists of [blocking-group] number i; borrowed, maybe NULL. */
struct block_table *query_blocking_group_table(const struct query_blocking *qb, size_t i);

/*
 * What the workers decide for qname asked by client (NULL: no client): block_lookup's
 * verdict and hit over the tables that apply to it; *bypassed says the client is in
 * [blocking] bypass (and so never blocked, whatever the verdict); *group gets the name of
 * the client's [blocking-group] (borrowed from qb) or NULL.  `tdns-cli block check` uses it.
 */
enum block_verdict query_blocking_check(const struct query_blocking *qb, const uint8_t *qname,
					const struct sockaddr *client, struct block_hit *hit,
					bool *bypassed, const char **group);

/*
 * Publishes qb (NULL: nothing blocked) the way query_publish_zones publishes zones: every
 * worker switches between two queries, and on return none refers to the previous one, which
 * the caller may free.  Before net_server_start it only records qb.
 */
void query_publish_blocking(struct net_server *s, const struct query_blocking *qb);

/* A [blocking-group NAME] section: clients with lists and a mode of their own. */
struct cfg_block_group {
	char *name;               /* as written */
	char id[64];              /* the name in lower case, which tells groups apart */
	char *clients;            /* CIDR list (filter_acl_parse); a client takes the group
				     with its longest matching prefix */
	char *lists;              /* block lists, as [blocking] lists */
	char *allow_lists;
	unsigned replace_lists;   /* 1: only the group's lists; 0: the [blocking] ones too */
	char *mode;               /* "" = [blocking] mode */
	char *safe_search;        /* "" = [blocking] safe-search, else "yes" or "no" */
	char *src_file;           /* config file and line of the section, for errors */
	unsigned src_line;
};

/* The [blocking] keys owned by query (bypass) and the [blocking-group NAME] table. */
extern const struct cfg_table query_schema_blocking;
extern const struct cfg_table query_schema_blocking_group;

#endif
