/* SPDX-License-Identifier: MIT */
/* zone: the zone database, zone loading and checks, and authoritative answers. */
#ifndef TDNS_ZONE_H
#define TDNS_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "cfg/cfg.h"
#include "crypto/crypto.h"
#include "dns/dns.h"
#include "filter/filter.h"

struct event_base;

/*
 * Data model.  A zone is a hash table of nodes keyed by the lower-cased owner name; every
 * ancestor of a node up to the apex exists as a node too (empty non-terminals have no
 * rrsets), so closest-encloser and delegation searches are a walk up the name with one hash
 * lookup per label.  A loaded zone is never mutated: a reload builds a new zone and a new
 * zone set, published to the workers by the server.
 */

/* One rdata of an rrset: a 2-byte length followed by the wire rdata, packed in rrset->data. */
struct zone_rrset {
	struct zone_rrset *next;
	uint16_t type;
	uint16_t count;
	uint32_t ttl;
	uint32_t size;   /* bytes used in data */
	uint32_t cap;    /* bytes allocated for data (fills padding; lets rrsets grow in place) */
	uint8_t data[];  /* count x (u16 rdlen, rdata) */
};

struct zone_node {
	struct zone_node *hnext;     /* hash chain */
	struct zone_rrset *rrsets;   /* NULL for an empty non-terminal */
	uint64_t hash;
	uint8_t flags;               /* ZONE_NODE_* */
	uint8_t name[];              /* owner, wire form, case as loaded */
};

#define ZONE_NODE_DELEG 0x01    /* has NS and is not the apex: a zone cut */
#define ZONE_NODE_WILDCARD 0x02 /* has a child "*" */

struct zone {
	uint8_t apex[DNS_NAME_MAX];
	size_t apex_len;
	char *name;                  /* text form, for logs */
	char *file;                  /* path it was loaded from, may be NULL */
	struct zone_node **table;
	size_t table_size;           /* power of two */
	size_t nnodes;
	size_t nrecords;
	struct zone_node *apex_node;
	uint32_t serial;
	uint64_t seed;
	void *mem;                   /* allocator state owned by the zone */
	unsigned refs;               /* references (zone_ref / zone_free), atomic */
	bool forwarder;              /* a conditional forwarder zone (issue 4): its FWD records
					name the servers, its other records override them */
	/*
	 * Wall-clock time its file (or text) was read by zone_load*, kept by zone_clone (a
	 * change at run time does not make the data younger); 0 for a zone created at run
	 * time.  Issue 5: a local root zone is expired once its SOA expire has passed since.
	 */
	time_t loaded;
	bool has_aname;              /* an ANAME record was added: A/AAAA answers may need it */
	/*
	 * Issue 17: the changes that led to this version, for IXFR (journal.c); a reference,
	 * set before the zone is published, NULL without history.  zone_clone leaves it NULL.
	 */
	struct zone_journal *journal;
	/*
	 * Issue 17: a secondary zone with no data to serve (never transferred, or expired,
	 * RFC 1035 §3.3.13): an empty placeholder answered SERVFAIL (as BIND, Knot and NSD do).
	 */
	bool expired;
};

/* One change of a zone: its records in IXFR order (old SOA, deleted, new SOA, added). */
struct zone_diff {
	unsigned refs;               /* atomic: journals share their diffs */
	uint32_t from, to;           /* the serials before and after */
	size_t len;
	/* Records, each: owner (wire, uncompressed), type, TTL, rdlength, rdata. */
	uint8_t data[];
};

/* The changes that lead to a zone version, oldest first, each diff's to the next's from. */
struct zone_journal {
	unsigned refs;               /* atomic: zone versions and transfers share it */
	size_t n;
	struct zone_diff **diffs;
	size_t bytes;                /* sum of the diffs' len */
};

/* Iterates the rdatas of an rrset: for (p = rrset->data; ...; ) see zone_rdata_next. */
static inline const uint8_t *
zone_rdata_next(const uint8_t *p, const uint8_t **rd, uint16_t *rdlen)
{
	*rdlen = (uint16_t)((p[0] << 8) | p[1]);
	*rd = p + 2;
	return p + 2 + *rdlen;
}

/*
 * The name held by the first rdata of a one-name rrset (CNAME, DNAME, ANAME), borrowed from
 * the zone, with its length in *len; NULL when that rdata is not a valid name.
 */
static inline const uint8_t *
zone_rrset_target(const struct zone_rrset *r, size_t *len)
{
	const uint8_t *rd;
	uint16_t rdlen;
	zone_rdata_next(r->data, &rd, &rdlen);
	int n = dns_name_check(rd, rdlen);
	if (n < 0) {
		return NULL;
	}
	*len = (size_t)n;
	return rd;
}

/* New empty zone for apex (wire).  Caller frees with zone_free.  NULL on out of memory. */
struct zone *zone_new(const uint8_t *apex);

/* Frees a zone and all its nodes; accepts NULL. */
void zone_free(struct zone *z);

/*
 * Adds one RR.  Duplicates (same type and rdata) are ignored; a different TTL within an rrset
 * takes the lowest (RFC 2181 §5.2).  TDNS_EOUTOFZONE if owner is not at or below the apex,
 * TDNS_EINVAL for meta types, TDNS_ENOMEM.
 */
int zone_add_rr(struct zone *z, const uint8_t *owner, uint16_t type, uint32_t ttl,
		const uint8_t *rd, size_t rdlen);

/* The node with exactly this name (case-insensitive), or NULL. */
const struct zone_node *zone_find(const struct zone *z, const uint8_t *name);

/* The rrset of type at node, or NULL. */
const struct zone_rrset *zone_node_rrset(const struct zone_node *n, uint16_t type);

/* Called by zone_check for every problem found; file/line unknown there. */
typedef void (*zone_problem_cb)(void *ctx, int status, const char *msg);

/*
 * Checks a zone after loading: exactly one SOA at the apex, NS at the apex, no CNAME beside
 * other data (RFC 1034 §3.6.2; RRSIG/NSEC allowed), glue present for in-zone NS targets below
 * a cut.  Sets z->serial and delegation/wildcard flags.  Returns TDNS_OK or the status of the
 * first problem; cb (may be NULL) hears about each.
 */
int zone_check(struct zone *z, zone_problem_cb cb, void *ctx);

/*
 * zone_check without a callback: on failure writes the first problem found (or the status's
 * message) into msg (cap bytes) and returns its status.
 */
int zone_check_msg(struct zone *z, char *msg, size_t cap);

/*
 * Loads a zone file into a new zone and checks it.  On failure returns the status, frees what
 * it built, and writes "file:line: message" (or "zone NAME: message") into err.
 */
int zone_load(const uint8_t *apex, const char *path, struct zone **out, char *err,
	      size_t errlen);

/*
 * Loads the file of a conditional forwarder zone (marked forwarder).  Such a file holds FWD
 * records and overrides and need not have the SOA and NS a primary zone must have: when it
 * fails to load as it is, it is read again with a placeholder SOA and NS at the apex (TTL 0;
 * the resolver forwards apex SOA and NS queries rather than answering them from here).  The
 * first error is kept if that fails too (a file with its own SOA, or a syntax error).
 */
int zone_load_forwarder(const uint8_t *apex, const char *path, struct zone **out, char *err,
			size_t errlen);

/*
 * Writes the zone as a canonical zone file ($ORIGIN, then names in canonical order, SOA
 * first) to path via a temporary file, fsync and rename, then fsyncs path's directory.
 * TDNS_ENOMEM, or TDNS_EIO with *errnum the errno where it failed: path was not replaced.
 * TDNS_OK: path holds the zone; *errnum is 0, or the errno of the directory fsync that failed
 * (the rename is done but may not survive a crash).
 */
int zone_write(const struct zone *z, const char *path, int *errnum);

/*
 * The same canonical zone-file text as zone_write writes, in a malloc'd NUL-terminated
 * string (length in *len when len is not NULL); caller frees.  NULL on out of memory.
 * Added for `zone export`.
 */
char *zone_to_text(const struct zone *z, size_t *len);

/*
 * Like zone_load but from zone-file text in memory ($INCLUDE refused); name stands for the
 * file in messages ("name:line: message").  Added for `zone import`.
 */
int zone_load_mem(const uint8_t *apex, const char *text, size_t textlen, const char *name,
		  struct zone **out, char *err, size_t errlen);

/* Calls cb for every node in canonical (RFC 4034 §6.1) order; stops if cb returns non-zero. */
int zone_walk(const struct zone *z, int (*cb)(void *ctx, const struct zone_node *n), void *ctx);

/*
 * Zones are reference-counted so that a new zone set can share every unchanged zone with the
 * set it replaces (run-time changes copy only the zone they change).  zone_new returns a zone
 * with one reference; zone_free drops one and frees the zone when none is left.  Counts are
 * atomic: a worker takes a reference to a zone of its current set to stream a transfer
 * across later sets, and may drop the last one.
 */
struct zone *zone_ref(struct zone *z);

/*
 * A deep copy of z (same apex, file, records; a fresh reference count) that the caller may
 * change and check before publishing.  NULL on out of memory.
 */
struct zone *zone_clone(const struct zone *z);

/*
 * Removes records at owner: every rrset when type is 0, else the rrset of that type, or only
 * the one rdata when rd is not NULL.  Returns TDNS_OK, or TDNS_ENOENT when nothing matched.
 * Empty nodes stay as empty non-terminals (harmless for answers).
 */
int zone_remove_rr(struct zone *z, const uint8_t *owner, uint16_t type, const uint8_t *rd,
		   size_t rdlen);

/* ------------------------------------------------------------------------------------------ */
/* The catalog (catalog.c): zones created at run time and the enabled/disabled state of every  */
/* zone, persisted as state-dir/catalog.json so that they survive restarts.                    */

struct zone_catalog_entry {
	char *name;               /* text form with trailing dot */
	uint8_t apex[DNS_NAME_MAX];
	char *type;               /* "primary" */
	char *file;               /* absolute path of the zone file */
	bool runtime;             /* created with `zone create` (false: declared in the config) */
	char *primaries;          /* type secondary: the primaries value (see zone_sec_parse_primaries),
				     else NULL */
	bool disabled;            /* not answered for */
};

struct zone_catalog;

/*
 * Reads state_dir/catalog.json; a missing file is an empty catalog.  Caller frees with
 * zone_catalog_free.  TDNS_EIO / TDNS_EMALFORMED with "file: message" in err.
 */
int zone_catalog_load(const char *state_dir, struct zone_catalog **out, char *err,
		      size_t errlen);

/* Frees a catalog; accepts NULL. */
void zone_catalog_free(struct zone_catalog *c);

/* Number of entries, and entry i (borrowed until the catalog changes). */
size_t zone_catalog_count(const struct zone_catalog *c);
const struct zone_catalog_entry *zone_catalog_get(const struct zone_catalog *c, size_t i);

/* The entry for apex, or NULL. */
const struct zone_catalog_entry *zone_catalog_find(const struct zone_catalog *c,
						   const uint8_t *apex);

/*
 * Adds or replaces the entry for e->apex (strings are copied), or removes it; then writes the
 * catalog (temp file, fsync, rename, fsync of the directory) before returning.  TDNS_OK,
 * TDNS_ENOENT (remove of an unknown zone) or TDNS_EIO (nothing changed in memory either).
 */
int zone_catalog_put(struct zone_catalog *c, const struct zone_catalog_entry *e);
int zone_catalog_remove(struct zone_catalog *c, const uint8_t *apex);

/* ------------------------------------------------------------------------------------------ */
/* Zone sets: every zone a server answers for, found by longest match.                          */

struct zone_set;

/* New empty set; caller frees with zone_set_free. */
struct zone_set *zone_set_new(void);

/* Frees the set and every zone in it; accepts NULL. */
void zone_set_free(struct zone_set *s);

/*
 * Adds a zone; the set owns the caller's reference afterwards (use zone_ref to keep one).
 * TDNS_EZONEEXISTS if the apex is taken.
 */
int zone_set_add(struct zone_set *s, struct zone *z);

/* The zone with the longest apex that qname is at or below, or NULL. */
const struct zone *zone_set_match(const struct zone_set *s, const uint8_t *qname);

/*
 * True when a zone of s has ANAME records, so that the query path can skip the ANAME lookup
 * for every A and AAAA query of servers that have none.
 */
bool zone_set_has_aname(const struct zone_set *s);

/* Number of zones. */
size_t zone_set_count(const struct zone_set *s);

/* Zone i (0 <= i < zone_set_count) in no particular order, borrowed. */
const struct zone *zone_set_get(const struct zone_set *s, size_t i);

/* The zone whose apex is exactly apex, or NULL. */
const struct zone *zone_set_find(const struct zone_set *s, const uint8_t *apex);

/* ------------------------------------------------------------------------------------------ */
/* Authoritative answers (answer.c).                                                            */

/* What the answering code tells the caller, for stats and logs. */
struct zone_answer_info {
	int rcode;
	bool authoritative;
	bool truncated;
};

/*
 * Answers the query q (parsed from pkt) from the zones in s into b (already initialised with
 * the reply header, the question and EDNS as the caller wants).  Implements RFC 1034 §4.3.2
 * with CNAME chains inside and across zones, DNAME (RFC 6672), wildcards (RFC 4592),
 * referrals with glue, NODATA/NXDOMAIN with the SOA (TTL = min(SOA TTL, minimum), RFC 2308
 * §3), ANY per RFC 8482, and additional addresses for NS/MX/SRV targets.  Names outside every
 * zone get REFUSED.  When the answer or authority does not fit, the builder is truncated (TC).
 */
void zone_answer(const struct zone_set *s, const struct dns_query *q, struct dns_build *b,
		 struct zone_answer_info *info);

/* ------------------------------------------------------------------------------------------ */
/* Outgoing transfers (xfr.c, RFC 5936): allow-transfer, and a zone as a stream of messages.    */

/* The allow-transfer lists of every configured zone and the [tsig NAME] keys, for workers. */
struct zone_xfr_conf;

/*
 * Parses an allow-transfer value: CIDR prefixes into acl (NULL: check only) and "key NAME"
 * items into *keys (an array of *nkeys canonical names, caller frees; NULL when acl is
 * NULL).  TDNS_OK, or TDNS_EINVAL with the bad item in err.
 */
int zone_xfr_parse_allow(const char *text, struct filter_acl *acl,
			 uint8_t (**keys)[DNS_NAME_MAX], size_t *nkeys, char *err, size_t errlen);

/*
 * Builds the transfer settings of c (copies: c may be freed afterwards).  TDNS_OK, or
 * TDNS_ECONFIG with why in err.  Caller frees *out with zone_xfr_conf_free.
 */
int zone_xfr_conf_new(const struct cfg *c, struct zone_xfr_conf **out, char *err, size_t errlen);

/* Frees xc (its copies of the secrets wiped); accepts NULL. */
void zone_xfr_conf_free(struct zone_xfr_conf *xc);

/*
 * Issue 17: the secondary zones that NOTIFYs reaching the workers are handed to (borrowed;
 * they outlive every xc), set by the daemon before it publishes xc; NULL until set.
 */
struct zone_secondaries;
void zone_xfr_conf_set_secondaries(struct zone_xfr_conf *xc, struct zone_secondaries *secs);
struct zone_secondaries *zone_xfr_conf_secondaries(const struct zone_xfr_conf *xc);

/* The key named name (wire, any case), or NULL; borrowed from xc. */
const struct crypto_tsig_key *zone_xfr_conf_key(const struct zone_xfr_conf *xc,
						 const uint8_t *name);

/*
 * Whether the zone at apex may be transferred to peer (may be NULL) by a request that was
 * signed with key (NULL: unsigned or not verified): the address is in the zone's
 * allow-transfer, or the key is named there.  False for zones without allow-transfer.
 */
bool zone_xfr_allowed(const struct zone_xfr_conf *xc, const uint8_t *apex,
		      const struct sockaddr *peer, const struct crypto_tsig_key *key);

/* One outgoing AXFR (or IXFR answered AXFR-style, RFC 1995 §4): a cursor over a zone version. */
struct zone_xfr;

/*
 * Starts the transfer of z for the query q (its ID, question and RD are echoed), taking a
 * reference to z, so that the version sent lives on when a new set replaces it.  When q had
 * an OPT, every message carries one stating edns as our UDP size (RFC 5936 §3, RFC 6891 §7).
 * NULL when out of memory or z has no SOA.  Free with zone_xfr_free.
 */
struct zone_xfr *zone_xfr_new(const struct zone *z, const struct dns_query *q, uint16_t edns);

/*
 * Writes the next message of the transfer into out (at most limit octets, >= 512; keep room
 * for a TSIG): the first carries the question and starts with the SOA, the last ends with
 * it (RFC 5936 §2.2), names compressed within each message.  Returns its length and sets
 * *more when messages follow; 0 when the transfer is over or failed.
 */
size_t zone_xfr_next(struct zone_xfr *x, uint8_t *out, size_t limit, bool *more);

/*
 * Starts an IXFR of z for a client at serial (RFC 1995 §4): the SOA alone when serial is
 * z's or newer, else the journal's changes from serial on, between two copies of the
 * current SOA.  NULL with *fallback set when the journal does not reach back to serial (the
 * caller sends the whole zone, zone_xfr_new); NULL alone when out of memory.
 */
struct zone_xfr *zone_xfr_new_ixfr(const struct zone *z, const struct dns_query *q,
				   uint16_t edns, uint32_t serial, bool *fallback);

/* True for an incremental transfer (zone_xfr_new_ixfr), for logs. */
bool zone_xfr_incremental(const struct zone_xfr *x);

/* Records and messages written so far (both SOA copies count), for logs. */
size_t zone_xfr_records(const struct zone_xfr *x);
unsigned zone_xfr_messages(const struct zone_xfr *x);

/* The zone being sent (borrowed). */
const struct zone *zone_xfr_zone(const struct zone_xfr *x);

/* Ends the transfer and drops its zone reference (possibly the last); accepts NULL. */
void zone_xfr_free(struct zone_xfr *x);

/*
 * The key NOTIFYs of the zone at apex are signed with: the first "key NAME" of its
 * allow-transfer (the key its secondaries transfer with), borrowed from xc; NULL when the
 * zone's allow-transfer names no key.
 */
const struct crypto_tsig_key *zone_xfr_notify_key(const struct zone_xfr_conf *xc,
						  const uint8_t *apex);

/* ------------------------------------------------------------------------------------------ */
/* The IXFR journal (journal.c, RFC 1995)                                                       */

/* Bytes of changes kept for a zone without a [zone NAME] journal-size (a run-time zone). */
#define ZONE_JOURNAL_LIMIT (1024u * 1024u)

/* Takes a reference to j (may be NULL) and returns it. */
struct zone_journal *zone_journal_ref(struct zone_journal *j);

/* Drops a reference; the last frees the journal and its diffs.  Accepts NULL. */
void zone_journal_unref(struct zone_journal *j);

/*
 * Gives each zone of set that is not shared with old its journal, before set is published:
 * the old version's plus the difference from it, appended to c's state-dir/NAME.jnl and
 * fsynced (the file written anew when older changes are dropped past the zone's
 * journal-size, or ZONE_JOURNAL_LIMIT for a zone c lacks); for a zone old
 * lacks (start, a zone added), the file's entries when they lead to the zone's serial.  A
 * change without a newer serial empties the journal (IXFR falls back to AXFR).  Failures
 * are logged; the zone is then published without a journal.
 */
void zone_journal_update(const struct cfg *c, const struct zone_set *old,
			 const struct zone_set *set);

/* ------------------------------------------------------------------------------------------ */
/* NOTIFY out (notify.c, RFC 1996): primary zones tell their secondaries of a new serial.      */

struct event_base;
struct client_server;
struct zone_notifier;

/*
 * Parses a notify value: comma-separated ADDRESS, ADDRESS:PORT or [IPv6]:PORT items (port 53
 * when not given) into *out (an array of *n resolved UDP servers, caller frees).  TDNS_OK, or
 * TDNS_EINVAL with the bad item in err.
 */
int zone_notify_parse(const char *text, struct client_server **out, size_t *n, char *err,
		      size_t errlen);

/* A notifier whose NOTIFYs run on base (the main thread's).  Free with zone_notifier_free. */
struct zone_notifier *zone_notifier_new(struct event_base *base);

/* Cancels every NOTIFY in flight and frees n; accepts NULL. */
void zone_notifier_free(struct zone_notifier *n);

/*
 * Takes the targets of c's primary zones (copies): the notify addresses, the NS addresses
 * the zone holds itself when allow-transfer is set (a zone nobody may transfer has no
 * secondaries), and the key of zone_xfr_notify_key(xc).  NOTIFYs in flight go on.  TDNS_OK,
 * or TDNS_ECONFIG with why in err (nothing changed).
 */
int zone_notifier_configure(struct zone_notifier *n, const struct cfg *c,
			    const struct zone_xfr_conf *xc, char *err, size_t errlen);

/*
 * Sends a NOTIFY for z's current serial to each of its targets over UDP (once per address),
 * each retried 5 times, waiting 2 s doubling each time, until a NOERROR answer (signed when
 * the NOTIFY was); a NOTIFY still in flight to the same server for that zone is replaced.
 * Results are logged.  Returns the number of servers told; 0 for a zone without targets.
 */
size_t zone_notify_send(struct zone_notifier *n, const struct zone *z);

/*
 * Calls zone_notify_send for every zone of set that old (may be NULL: start-up) does not
 * have, or has with another serial.
 */
void zone_notify_changes(struct zone_notifier *n, const struct zone_set *old,
			 const struct zone_set *set);

/* ------------------------------------------------------------------------------------------ */
/* Configuration (schema.c): the [zone NAME] sections and [server] serial-policy                */

/* A [zone NAME] section, one instance of the named table zone_schema_zone. */
struct cfg_zone {
	char *name;               /* text as written */
	uint8_t apex[DNS_NAME_MAX];
	char *type;               /* "primary", "forwarder" (a conditional forwarder zone) or "stub" */
	char *file;               /* absolute, or relative to state-dir resolved by cfg_load */
	/*
	 * type = forwarder: the servers for names at and below the zone, as a comma-separated
	 * list of client_server_parse URLs, or "this-server" (resolve with the server's own
	 * [forwarders]); "" for other zone types.
	 */
	char *forwarders;
	/*
	 * type = stub: the addresses (IPv4/IPv6, port 53) asked for the zone's SOA, NS and glue,
	 * comma-separated; type = secondary: ADDR[:PORT] [key NAME] items (issue 17, see
	 * zone_sec_parse_primaries); "" for other zone types.
	 */
	char *primaries;
	char *transport;          /* type secondary: "tcp" (issue 17) */
	/*
	 * Who may transfer the zone (RFC 5936 §4): CIDR prefixes and "key NAME" items naming a
	 * [tsig NAME], comma-separated; "" (the default) lets nobody.
	 */
	char *allow_transfer;
	/*
	 * type = primary: servers sent a NOTIFY (RFC 1996) on every new serial, besides the
	 * zone's NS addresses; ADDRESS[:PORT] items, comma-separated (zone_notify_parse).
	 */
	char *notify;
	/* Bytes of changes kept in the zone's IXFR journal (journal.c) before compaction. */
	uint64_t journal_size;
	char *src_file;           /* config file and line of the section, for errors */
	unsigned src_line;
};

/* SOA serial update policies for changes made at run time (BIND's serial-update-method). */
#define CFG_SERIAL_INCREMENT 0    /* serial + 1 (RFC 1982 arithmetic) */
#define CFG_SERIAL_DATE 1         /* YYYYMMDDnn, or + 1 when that is not larger */
#define CFG_SERIAL_UNIXTIME 2     /* seconds since 1970, or + 1 when that is not larger */

struct cfg_table;

/*
 * The section tables of the zone subsystem, registered in cfg_schema (src/daemon-cfg.c):
 * [server] serial-policy (struct cfg serial_policy), and the named section [zone NAME]
 * (struct cfg zones/nzones, one struct cfg_zone each), whose finish callback checks the keys
 * against each other and makes the zone file absolute (state-dir).
 */
extern const struct cfg_table zone_schema_server;
extern const struct cfg_table zone_schema_zone;

/* ------------------------------------------------------------------------------------------ */
/* Secondary zones (secondary.c, issue 17): incoming AXFR/IXFR on the SOA timers, NOTIFY in.    */

#define ZONE_SEC_MAX_PRIMARIES 8

/* One primary of a secondary zone: where to ask, and the [tsig NAME] key to sign with. */
struct zone_sec_primary {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char text[64];               /* "ADDR:PORT" or "[V6]:PORT", for logs */
	bool has_key;
	uint8_t key[DNS_NAME_MAX];   /* key name, wire */
};

/*
 * Parses a primaries value: comma-separated "ADDR[:PORT] [key NAME]" items (IPv6 with a port
 * as [V6]:PORT; port 53 by default).  Fills at most max items of out (may be NULL: check
 * only) and *n.  TDNS_OK, or TDNS_EINVAL with the bad item in err.
 */
int zone_sec_parse_primaries(const char *text, struct zone_sec_primary *out, size_t max,
			     size_t *n, char *err, size_t errlen);

/* The secondary zones of the daemon, run on the main thread's event base. */
struct zone_secondaries;

/*
 * Called on the main thread when the version of the secondary zone at apex to serve changed
 * (a transfer, an expiry): the daemon publishes a zone set with zone_sec_zone(apex).
 */
typedef void (*zone_sec_publish_cb)(void *arg, const uint8_t *apex);

/* New empty table on base.  NULL on out of memory.  Free with zone_sec_free. */
struct zone_secondaries *zone_sec_new(struct event_base *base, zone_sec_publish_cb publish,
				      void *arg);

/* Stops every transfer and timer and frees the table; accepts NULL. */
void zone_sec_free(struct zone_secondaries *s);

/*
 * Takes the secondary zones of c ([zone] type = secondary) and of the catalog cat (run-time
 * zones of type secondary, not overridden by c): a new zone is loaded from its file in
 * state-dir when that copy has not expired (the time of its last refresh is kept beside it,
 * FILE.refreshed) and refreshed at once; a zone gone from both stops.  Keys are copied from c.
 * Main thread only.
 */
void zone_sec_configure(struct zone_secondaries *s, const struct cfg *c,
			const struct zone_catalog *cat);

/*
 * The version of the secondary zone at apex to serve, with a new reference (the caller
 * frees it or hands it to a set): the transferred zone, or while there is none (never
 * transferred, expired) an empty placeholder marked expired.  NULL when apex is not a
 * secondary zone or out of memory.  Main thread only.
 */
struct zone *zone_sec_zone(struct zone_secondaries *s, const uint8_t *apex);

/*
 * A NOTIFY (RFC 1996) for apex from peer, signed with key (NULL: unsigned; its MAC already
 * checked): when apex is a secondary zone and peer one of its primaries (with that primary's
 * key when it has one), a refresh is scheduled on the main thread and DNS_RCODE_NOERROR
 * returned; otherwise DNS_RCODE_REFUSED, or DNS_RCODE_NOTAUTH for a key other than the
 * primary's.  Any thread.
 */
int zone_sec_notify(struct zone_secondaries *s, const uint8_t *apex, const struct sockaddr *peer,
		    const uint8_t *key);

/* The seconds left before apex expires (RFC 7314), or -1 when it is not a secondary zone. */
long zone_sec_expire_left(struct zone_secondaries *s, const uint8_t *apex);

/*
 * Starts a refresh of apex now: an SOA check then IXFR or AXFR as needed, or with axfr a full
 * AXFR whatever the serial.  TDNS_OK, or TDNS_ENOZONE when apex is not a secondary zone.
 * Main thread only.
 */
int zone_sec_refresh(struct zone_secondaries *s, const uint8_t *apex, bool axfr);

/* What `zone list` and `zone show` tell about a secondary zone. */
struct zone_sec_status {
	uint32_t serial;             /* of the zone served (0: none) */
	bool loaded;                 /* has data (false: never transferred, or expired) */
	bool expired;
	bool running;                /* a refresh or transfer is going on */
	time_t last_refresh;         /* wall clock of the last successful refresh, 0: never */
	time_t next_refresh;         /* when the timer fires next, 0: not armed */
	time_t expires;              /* when the data expires, 0: no data */
	char primaries[512];         /* as configured */
	char last_error[320];        /* "" after a success */
};

/* Fills st for apex; false when apex is not a secondary zone.  Main thread only. */
bool zone_sec_status(struct zone_secondaries *s, const uint8_t *apex, struct zone_sec_status *st);

#endif
