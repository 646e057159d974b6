/* SPDX-License-Identifier: MIT */
/* Private to src/resolver: the DNSSEC validator that the iterator and the forwarder run. */
#ifndef TDNS_RESOLVER_VAL_INT_H
#define TDNS_RESOLVER_VAL_INT_H

#include "resolver/resolver.h"

/*
 * The validator (validate.c, issue 16) checks one upstream answer before it is cached:
 *
 *   1. the answer and authority records are grouped into RRsets, each with its RRSIGs;
 *   2. for each RRset the zone keys are found (FIND KEY): from the closest trust anchor
 *      down to the RRSIG's signer (or to the owner of an unsigned RRset), one label at a
 *      time, asking DS of the next name and, where a DS exists, the DNSKEY of that zone.
 *      Both are fetched through the resolver itself (resolver_iter_query or
 *      resolver_fwd_query), so they are validated by their own requests and cached with
 *      their own state; a validated NODATA for DS with a delegation (NS in the NSEC or
 *      NSEC3 bitmap, or an NSEC3 opt-out span) makes everything below insecure;
 *   3. each RRset is verified with its zone's keys (dnssec_rrset_verify);
 *   4. the response as a whole is checked: NXDOMAIN and NODATA need an NSEC or NSEC3
 *      proof, a wildcard expansion a proof that the name itself does not exist, a CNAME
 *      synthesised from a DNAME takes the DNAME's state.
 *
 * The verdict is the worst state of what was checked: bogus > indeterminate > insecure >
 * secure.  A DNSKEY answer for zone Z is verified against Z's DS (or the anchor) itself,
 * never fetched again, so no request waits for itself; a sub-query with the request's own
 * key is indeterminate for the same reason.
 */

struct val_req;

/*
 * How the validator asks for the DS and DNSKEY sets it needs: the worker's resolver and its
 * query functions, handed in by forward.c so that validate.c never calls back into the files
 * that call it (the files of src/resolver call each other one way; tests/check-layering.sh).
 */
struct val_io {
	struct resolver_fwd *f;
	void (*query)(struct resolver_fwd *f, const struct cache_key *k,
		      const struct resolver_servers *servers, struct cache_waiter *w);
	void (*iter_query)(struct resolver_fwd *f, const struct cache_key *k,
			   struct cache_waiter *w);
	bool (*cancel)(struct resolver_fwd *f, const struct cache_key *k, struct cache_waiter *w);
};

/* Called once with the verdict (valid during the call), unless the request was cancelled. */
typedef void (*val_done_fn)(void *arg, const struct cache_val *v);

/*
 * Validates m, the answer to k, with rc's anchors on io's worker (io stays the caller's).  *handle is set to the
 * request before anything else happens and reset to NULL just before done is called, which
 * may happen inside this call (everything needed already cached) or later from the event
 * loop.  m is copied.  Out of memory gives an indeterminate verdict.
 */
void val_start(const struct val_io *io, struct resolver_conf *rc, const struct cache_key *k,
	       const struct dns_msg *m, val_done_fn done, void *arg, struct val_req **handle);

/* Stops v (done is never called) and takes back its sub-queries.  Accepts NULL. */
void val_cancel(struct val_req *v);

/*
 * What the iterator and the forwarder do with a verdict v (kept by the caller, as text is
 * borrowed) on answer m to k: stores m with it in c (who names the caller in the debug log
 * of a failure) and fills *res as RESOLVER_OK for the waiters.
 */
void val_store_result(struct cache *c, const struct dns_msg *m, const struct cache_key *k,
		      const struct cache_val *v, const char *who, struct resolver_result *res);

/* Fills a verdict; text is printf-like and should name the zone. */
void val_verdict(struct cache_val *v, enum cache_sec sec, int ede, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * The worse of two states (bogus > indeterminate > insecure > secure > unchecked), for
 * combining the verdicts of RRsets.  Pure.
 */
enum cache_sec val_sec_worse(enum cache_sec a, enum cache_sec b);

/* The order val_sec_worse uses: 0 unchecked .. 4 bogus. */
int val_sec_rank(enum cache_sec s);

/* Adds n signature verifications to the counters of resolver_val_stats. */
void val_stats_add_verifies(uint64_t n);

/*
 * The name one label longer than base on the way to name (base an ancestor of name), into
 * out; false when base is not a proper ancestor.  Pure.
 */
bool val_next_label(const uint8_t *name, const uint8_t *base, uint8_t *out);

#endif
