/* SPDX-License-Identifier: MIT */
/* block: block and allow lists of names by the million (issue 18), their parsers and lookup. */
#ifndef TDNS_BLOCK_H
#define TDNS_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg/cfg.h"
#include "core/core.h"
#include "dns/dns.h"

/*
 * The structure.  A block table is one open-addressing hash set (linear probing, load factor at
 * most 3/4) of 16-octet slots: a 64-bit fingerprint of the lower-cased wire name, the line it
 * came from and the index of its list.  The fingerprint is SipHash-2-4 under a key drawn at
 * random for each table (dns_name_siphash), with its lowest bit saying block (1) or allow (0),
 * so the same name may be both.  No name text is kept: 1,000,000 names take about 21 MB
 * (16 octets / 0.75), where a sorted arena of reversed names needs 12 octets of index plus
 * the name itself (about 25 octets for a typical list entry), and the build is one pass of
 * hashing and inserting with no sort.  A lookup hashes the question name and each of its
 * parent suffixes (a blocked name blocks its subdomains) and probes about two slots for each.
 * Two different names share a fingerprint with probability 2^-63 per pair; with a million
 * names a query is wrongly matched with probability below 10^-12, and because the key is
 * secret and fresh per table nobody can pick names that collide on purpose.
 *
 * Tables are built off the query path (block_build_*) and never change once built; the
 * daemon publishes them to the workers and frees an old one only after every worker has let
 * go of it (query_publish_blocking), so queries never wait for a reload.
 */
struct block_table;
struct block_build;

/*
 * The Firefox canary domain use-application-dns.net in wire form: while blocking is on it
 * answers NXDOMAIN, which tells Firefox not to turn on its own DNS over HTTPS.
 */
#define BLOCK_CANARY ((const uint8_t *)"\x13use-application-dns\x03net")

/* At most this many lists (files) in one table. */
#define BLOCK_MAX_LISTS 4096
/* Malformed lines logged one by one for each list; the rest are only counted. */
#define BLOCK_LOG_MALFORMED 10

/* What one list contributed to a table, for `block list` and the log. */
struct block_list_info {
	char *name;               /* the file as configured */
	bool allow;               /* an allow list (names never blocked) */
	size_t names;             /* names taken from it (duplicates included) */
	size_t malformed;         /* lines skipped */
	int status;               /* TDNS_OK, or why the file could not be read (TDNS_EIO) */
	char *error;              /* status as text for people ("No such file ..."), or NULL */
	int64_t loaded;           /* wall clock (Unix seconds) when it was read; 0: not read */
};

/* Which entry decided a lookup. */
struct block_hit {
	const char *list;         /* the list's name, borrowed from the table */
	unsigned line;            /* 1-based line in that list */
	size_t offset;            /* the matching entry is qname + offset (a suffix of it) */
};

enum block_verdict {
	BLOCK_NONE = 0,           /* on no list */
	BLOCK_BLOCKED,            /* the name or a parent is blocked and none is allowed */
	BLOCK_ALLOWED,            /* the name or a parent is on an allow list (beats any block) */
};

/* ------------------------------------------------------------------------------------------ */
/* Parsing (parse.c)                                                                             */

/* Receives one name of a line: wire form, lower case; allow for an exception (@@||name^). */
typedef void (*block_name_fn)(void *arg, const uint8_t *name, size_t len, bool allow);

/*
 * Parses one line of a list (no line ending) in whichever format it is written: a hosts-file
 * line ("0.0.0.0 ads.example.com [more names]"), a plain name ("ads.example.com"), or an
 * Adblock Plus rule ("||ads.example.com^", exception "@@||ads.example.com^").  Blank lines,
 * comments ('#', '!') and ABP headers ("[Adblock Plus 2.0]") give no name, and so do the
 * hosts-file boilerplate names (localhost, broadcasthost, ...).  Calls fn once per name.
 * Returns the number of names (0 or more), or -1 for a malformed line with the reason in why.
 */
int block_parse_line(const char *line, size_t len, block_name_fn fn, void *arg, char *why,
		     size_t whylen);

/*
 * Converts the host name s[0..len) (letters, digits, '-', '_', dot-separated; an optional
 * trailing dot) to lower-case wire form in out (DNS_NAME_MAX octets).  Returns the wire
 * length, or -1 with the reason in why.
 */
int block_parse_name(const char *s, size_t len, uint8_t *out, char *why, size_t whylen);

/* ------------------------------------------------------------------------------------------ */
/* Building and looking up (table.c)                                                            */

/* A new, empty builder; NULL on out of memory.  Free with block_build_free. */
struct block_build *block_build_new(void);

/* Frees a builder that was not finished; accepts NULL. */
void block_build_free(struct block_build *b);

/*
 * Adds the lines of text[0..len) as the list name (used in messages and hits); allow makes
 * every name of it an allow entry (an allow list), else only "@@" rules are.  Malformed lines
 * are skipped, counted and the first BLOCK_LOG_MALFORMED logged as "name:line: why".  TDNS_OK,
 * TDNS_ENOMEM, or TDNS_ERANGE past BLOCK_MAX_LISTS lists.
 */
int block_build_add_text(struct block_build *b, const char *name, const char *text, size_t len,
			 bool allow);

/*
 * The same for the file at path (the list's name).  A file that cannot be read is recorded
 * in the list's info with TDNS_EIO and logged; the build goes on without it.  TDNS_OK,
 * TDNS_ENOMEM, TDNS_ERANGE.
 */
int block_build_add_file(struct block_build *b, const char *path, bool allow);

/*
 * The same for the file at path under the name name: a downloaded list (name its URL) read
 * from its last good copy in the state directory (block_store_path).
 */
int block_build_add_named_file(struct block_build *b, const char *name, const char *path,
			       bool allow);

/*
 * Turns the builder into a table (the builder is freed in every case).  *out gets the table
 * with one reference, freed with block_table_unref.  TDNS_OK or TDNS_ENOMEM.
 */
int block_build_finish(struct block_build *b, struct block_table **out);

/* Takes one more reference to t (not NULL); returns t.  Atomic: any thread may call it. */
struct block_table *block_table_ref(struct block_table *t);

/* Drops a reference; the last one frees the table.  Accepts NULL. */
void block_table_unref(struct block_table *t);

/* Distinct entries of t: names blocked and allowed (a name on several lists counts once). */
size_t block_table_count(const struct block_table *t, bool allow);

/* The lists of t and their count; borrowed for the life of t. */
const struct block_list_info *block_table_lists(const struct block_table *t, size_t *n);

/*
 * Looks up qname (wire form, any case) and its parents in the tables (NULL entries are
 * skipped): BLOCK_ALLOWED when any of them is allowed in any table, else BLOCK_BLOCKED when
 * one is blocked (hit tells the most specific entry: list, line and which suffix), else
 * BLOCK_NONE.  hit may be NULL.  Reads only; safe from any number of threads at once.
 */
enum block_verdict block_lookup(const struct block_table *const *tables, size_t ntables,
				const uint8_t *qname, struct block_hit *hit);

/* ------------------------------------------------------------------------------------------ */
/* Responses ([blocking] mode) and the schema (schema.c)                                        */

enum block_mode {
	BLOCK_MODE_NXDOMAIN = 0,  /* NXDOMAIN with the synthetic SOA */
	BLOCK_MODE_NODATA,        /* NOERROR, no answer, the synthetic SOA */
	BLOCK_MODE_NULL,          /* A 0.0.0.0 / AAAA ::, NODATA for other types */
	BLOCK_MODE_ADDRESS,       /* the configured addresses, NODATA for the missing family */
	BLOCK_MODE_REFUSED,       /* REFUSED */
};

#define BLOCK_MAX_ADDRS 8

/* How blocked names are answered: [blocking] mode and ttl, parsed. */
struct block_policy {
	enum block_mode mode;
	size_t n4, n6;
	uint8_t a4[BLOCK_MAX_ADDRS][4];
	uint8_t a6[BLOCK_MAX_ADDRS][16];
	uint32_t ttl;             /* of answers and of the synthetic SOA (its minimum too) */
};

/*
 * Parses a mode: "nxdomain", "nodata", "null", "refused" or "address:IP[,IP...]" (at most
 * BLOCK_MAX_ADDRS of each family) into p (ttl untouched).  TDNS_OK or TDNS_ECONFIG with
 * "what was wrong; expected what" in err.
 */
int block_mode_parse(const char *text, struct block_policy *p, char *err, size_t errlen);

/*
 * Config checks of a list of lists (absolute file names, comma-separated; empty is none) and
 * of a mode (block_mode_parse's words; empty is accepted, for [blocking-group] mode, which
 * then follows [blocking]): TDNS_OK or TDNS_ECONFIG with the reason in err.
 */
int block_schema_check_lists(const char *value, char *err, size_t errlen);
int block_schema_check_mode(const char *value, char *err, size_t errlen);

/* Config check of a [blocking-group] yes/no key that may be empty (follow [blocking]). */
int block_schema_check_yes_no(const char *value, char *err, size_t errlen);

/*
 * The [blocking] keys owned by block: enabled, lists, allow-lists, mode, ttl, safe-search,
 * safe-search-file.
 */
extern const struct cfg_table block_schema_blocking;

/* ------------------------------------------------------------------------------------------ */
/* Downloaded lists (store.c): the last good copy of each URL in STATE/blocking/             */

/* Folder of the copies under the state directory. */
#define BLOCK_STORE_DIR "blocking"
/* Largest list body accepted from a server (a public list of a million names is ~30 MB). */
#define BLOCK_DOWNLOAD_MAX ((size_t)128 << 20)
/* Shortest and default [blocking] update-interval, in seconds. */
#define BLOCK_UPDATE_MIN 1
#define BLOCK_UPDATE_DEFAULT 86400

/* What is kept beside a copy: where it came from and what to send for a conditional GET. */
struct block_meta {
	char *url;                /* the list's URL (a check against hash collisions) */
	char *etag;               /* the response's ETag, or NULL */
	char *last_modified;      /* its Last-Modified, or NULL */
	int64_t fetched;          /* Unix seconds of the last 200 or 304; 0: unknown */
};

/* True when a list entry is a URL (http:// or https://, any case) rather than a file. */
bool block_source_is_url(const char *source);

/*
 * The file of url's copy (ext ".list") or metadata (ext ".meta") under state_dir:
 * STATE/blocking/ and 32 hex digits of the URL's SHA-256.  Caller frees.
 */
char *block_store_path(const char *state_dir, const char *url, const char *ext);

/*
 * Parses a metadata file's text[0..len) ("key value" lines: url, etag, last-modified,
 * fetched; unknown keys are ignored for later versions) into *m (cleared first; free with
 * block_meta_clear).  TDNS_OK, or TDNS_EINVAL for a line without a key and value or a bad
 * fetched time (m then holds what came before it).
 */
int block_meta_parse(const char *text, size_t len, struct block_meta *m);

/* Frees the strings of m and zeroes it; accepts a zeroed m. */
void block_meta_clear(struct block_meta *m);

/*
 * Reads the metadata of url's copy in state_dir into *m (free with block_meta_clear).
 * TDNS_OK; TDNS_ENOENT when there is none, or it is another URL's, or does not parse.
 */
int block_store_load_meta(const char *state_dir, const char *url, struct block_meta *m);

/*
 * Saves url's copy: body[0..len) (unless body is NULL: a 304 keeps the copy) and then m,
 * each written to a temporary file, fsynced and renamed, in STATE/blocking/ (made when
 * missing).  TDNS_OK or TDNS_EIO with the reason in err.
 */
int block_store_save(const char *state_dir, const char *url, const char *body, size_t len,
		     const struct block_meta *m, char *err, size_t errlen);

/* ------------------------------------------------------------------------------------------ */
/* Safe search (safe.c): search engine names answered with their vendors' safe endpoints       */

/*
 * A safe-search table: each line "NAME ENDPOINT" (a host name answered with a CNAME to
 * ENDPOINT) or "*.DOMAIN ENDPOINT" (every name below DOMAIN, not DOMAIN itself); '#' starts a
 * comment.  Immutable once parsed and shared by reference between the blockings published
 * to the workers.
 */
struct block_safe;

/* At most this many names in a table, and octets in its file. */
#define BLOCK_SAFE_MAX 65536
#define BLOCK_SAFE_FILE_MAX (4 * 1024 * 1024)

/*
 * Parses the table text[0..len) named name (in messages).  *out gets it with one reference
 * (block_safe_unref).  TDNS_OK; TDNS_ECONFIG with "name:line: what was wrong; expected what"
 * in err for a malformed line, a name listed twice, or an endpoint that the table itself
 * matches (it would loop); TDNS_ENOMEM.
 */
int block_safe_parse(const char *name, const char *text, size_t len, struct block_safe **out,
		     char *err, size_t errlen);

/* The same for the file at path; TDNS_EIO (with path and why in err) when it cannot be read. */
int block_safe_load(const char *path, struct block_safe **out, char *err, size_t errlen);

/* Takes one more reference to s (not NULL); returns s.  Atomic: any thread may call it. */
struct block_safe *block_safe_ref(struct block_safe *s);

/* Drops a reference; the last one frees the table.  Accepts NULL. */
void block_safe_unref(struct block_safe *s);

/* Names (exact and wildcard) in s. */
size_t block_safe_count(const struct block_safe *s);

/*
 * The endpoint (wire form, borrowed for the life of s) that qname (wire, any case) is
 * answered with, or NULL when s does not list it; *line (when line is not NULL) gets the
 * table line that matched.  Reads only; safe from any number of threads at once.
 */
const uint8_t *block_safe_lookup(const struct block_safe *s, const uint8_t *qname,
				 unsigned *line);

/* ------------------------------------------------------------------------------------------ */
/* Custom names of `tdns-cli block|allow add|remove` (custom.c), kept in the state directory  */

/*
 * The file of the custom block (allow false) or allow names under state_dir:
 * STATE/blocking-custom-block.txt or STATE/blocking-custom-allow.txt.  Caller frees.
 */
char *block_custom_path(const char *state_dir, bool allow);

/*
 * Adds (add true) or removes name (text, any case, trailing dot optional) to or from the
 * custom list of state_dir: the file is rewritten to a temporary file, fsynced and renamed
 * before this returns.  TDNS_OK; TDNS_EINVAL for a bad name (why says what); TDNS_EEXIST when
 * adding a name already there; TDNS_ENOENT when removing one that is not; TDNS_EIO.
 */
int block_custom_edit(const char *state_dir, bool allow, bool add, const char *name, char *why,
		      size_t whylen);

/*
 * The custom names of state_dir as a NULL-terminated array of strings (lower case, no
 * trailing dot), in file order; NULL on out of memory.  A missing file is an empty list.
 * Caller frees with block_custom_names_free.
 */
char **block_custom_names(const char *state_dir, bool allow);

/* Frees what block_custom_names returned; accepts NULL. */
void block_custom_names_free(char **names);

/*
 * Builds the table of the custom names of state_dir (both files; the block file as list
 * "custom block", the allow file as "custom allow").  TDNS_OK or TDNS_ENOMEM.
 */
int block_custom_load(const char *state_dir, struct block_table **out);

#endif
