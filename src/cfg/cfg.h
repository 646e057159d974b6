/* SPDX-License-Identifier: MIT */
/* cfg: value types, the schema made of the owners' section tables, the INI loader. */
#ifndef TDNS_CFG_H
#define TDNS_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/core.h"

#define CFG_DEFAULT_PATH SYSCONFDIR "/tdns/tdnsd.conf"

/* One listen address ("127.0.0.1:53", "[::1]:5300", "0.0.0.0", "[::]"). */
struct cfg_listen {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char text[64];            /* "ADDR:PORT" or "[V6]:PORT" with the port filled in, for logs */
};

/* A [zone NAME] section: defined by its owner, zone/zone.h. */
struct cfg_zone;
/* A [tsig NAME] section: defined by its owner, crypto/crypto.h. */
struct cfg_tsig;
/* A [blocking-group NAME] section: defined by its owner, query/query.h. */
struct cfg_block_group;

/*
 * The whole configuration; every field holds its default when the key is absent.  cfg only
 * stores it: each field is filled by the section table of the subsystem that owns it (see
 * cfg_schema below), and that subsystem's header defines the meaning of its values.
 */
struct cfg {
	char *path;               /* file it came from, NULL for the embedded defaults */
	/* [server]: net/schema.c (listen, workers, tcp-*, udp-*, identity, version, nsid),
	 * src/daemon-cfg.c (state-dir, user), zone/schema.c (serial-policy) */
	struct cfg_listen *listen;
	size_t nlisten;
	unsigned workers;         /* 0 = auto (one per core) */
	char *state_dir;
	char *user;               /* NULL or "" = do not drop privileges */
	unsigned tcp_idle_timeout;    /* seconds, RFC 7766 §6.2.3 */
	unsigned tcp_max_connections; /* per worker */
	unsigned udp_max_payload;     /* largest UDP reply we send with EDNS */
	unsigned serial_policy;   /* CFG_SERIAL_*: how record changes bump the SOA serial */
	/* [server] identity, version, nsid: net/schema.c (issue 14) */
	char *identity;           /* CH TXT id.server./hostname.bind.; NULL = REFUSED */
	char *version;            /* CH TXT version.server./version.bind.; NULL = REFUSED */
	char *nsid;               /* EDNS NSID (RFC 5001) as written: TEXT or hex:HEX; NULL = off */
	/* [control]: ctl/schema.c */
	char *control_socket;     /* Unix socket path (default CTL_DEFAULT_SOCKET) */
	char *control_group;      /* NULL: only root and the daemon's user may connect */
	unsigned control_timeout; /* seconds a control client may idle after its hello */
	/* [log]: src/daemon-cfg.c */
	int log_level;            /* enum tdns_log_level */
	/* [recursion], [forwarders], [cache]: resolver/schema.c */
	unsigned recursion_mode;  /* CFG_RECURSION_* */
	char *recursion_allow;    /* CIDR list as written (checked by filter_acl_parse) */
	char *root_hints;         /* absolute path of a root hints file; "" = built-in IANA hints */
	unsigned qname_min;       /* 0 or 1: RFC 9156 QNAME minimisation */
	unsigned max_depth;       /* referrals followed for one client query */
	unsigned max_queries;     /* upstream queries one client query may cause */
	unsigned max_time_ms;     /* wall time one client query may take */
	unsigned max_outstanding; /* client queries a worker resolves at once (issue 13) */
	unsigned jostle_timeout;  /* ms after which the oldest of them may be dropped for a new one */
	unsigned case_random;     /* 0 or 1: 0x20 case randomisation of upstream qnames */
	char *outgoing_address;   /* source addresses of upstream queries, as written; "" = any */
	char *forwarders;         /* server URL list as written (checked by client_server_parse) */
	unsigned forward_mode;    /* CFG_FORWARD_* */
	unsigned forward_timeout; /* ms per upstream try */
	char *forward_ca_file;    /* PEM CA bundle for tls:// and https:// ("" = system store) */
	uint64_t cache_max_size;  /* bytes */
	unsigned cache_min_ttl;   /* seconds */
	unsigned cache_max_ttl;
	unsigned cache_neg_max_ttl;
	unsigned cache_serve_stale; /* seconds after expiry an answer may be served, 0 = off */
	unsigned cache_prefetch;  /* 0 or 1 */
	/* [dnssec]: resolver/schema.c (issue 16) */
	unsigned dnssec_validation;  /* 0 or 1 */
	char *dnssec_anchor_file;    /* absolute path; "" = the built-in root anchors */
	unsigned dnssec_aggressive_nsec; /* 0 or 1 (RFC 8198) */
	char *dnssec_nta;            /* negative trust anchors: names, comma-separated */
	/* [tls], [dot], [doh]: net/schema.c */
	char *tls_certificate;    /* PEM chain (+ key) or PKCS#12 file, absolute; "" = none */
	char *tls_key;            /* PEM private key; "" = in the certificate file */
	char *tls_password_file;  /* password of the PKCS#12 file or PEM key; "" = none */
	struct cfg_listen *dot_listen; /* DNS over TLS, RFC 7858 */
	size_t ndot_listen;
	struct cfg_listen *doh_listen; /* DNS over HTTPS, RFC 8484 (h2 and http/1.1 over TLS) */
	size_t ndoh_listen;
	struct cfg_listen *http_listen; /* DNS over plain HTTP, behind a reverse proxy */
	size_t nhttp_listen;
	char *doh_path;           /* "/dns-query" */
	char *doh_trusted_proxies; /* CIDR list (filter_acl_parse) of proxies on http-listen */
	/* [tsig NAME]: crypto/schema.c, one struct cfg_tsig (crypto/crypto.h) per section */
	struct cfg_tsig *tsigs;
	size_t ntsigs;
	/* [blocking]: block/schema.c (enabled .. ttl), query/schema.c (bypass); issue 18 */
	unsigned blocking_enabled; /* 0 or 1 */
	char *blocking_lists;     /* absolute file names, comma-separated, as written */
	char *blocking_allow_lists;
	char *blocking_mode;      /* as written (block_mode_parse) */
	unsigned blocking_ttl;    /* seconds */
	unsigned blocking_safe_search; /* 0 or 1 */
	char *blocking_safe_search_file; /* the safe-search table (block_safe_load) */
	char *blocking_bypass;    /* CIDR list as written (filter_acl_parse) */
	unsigned blocking_update_interval; /* seconds between downloads of the URL lists */
	char *blocking_ca_file;   /* CAs for https:// lists; "": the system store */
	struct cfg_block_group *block_groups; /* [blocking-group NAME]: query/schema.c */
	size_t nblock_groups;
	/* [zone NAME]: zone/schema.c, one struct cfg_zone (zone/zone.h) per section */
	struct cfg_zone *zones;
	size_t nzones;
};

/*
 * Loads path (NULL: the embedded defaults, no file read).  Unknown sections or keys, bad
 * values and duplicate zones fail with TDNS_ECONFIG and "file:line: what was wrong, what was
 * expected" in err; a missing or unreadable file fails with TDNS_EIO.  Relative zone files
 * are resolved against state-dir.  Caller frees *out with cfg_free.
 */
int cfg_load(const char *path, struct cfg **out, char *err, size_t errlen);

/* Frees a configuration; accepts NULL. */
void cfg_free(struct cfg *c);


/*
 * Parses "ADDR", "ADDR:PORT", "[V6]" or "[V6]:PORT" with default_port into l.  TDNS_OK or
 * TDNS_EINVAL.
 */
int cfg_parse_listen(const char *s, uint16_t default_port, struct cfg_listen *l);

/*
 * One item of a comma-separated list: splits the text at *cursor at the next comma (writing
 * a NUL there), moves *cursor past it, and returns the item without the blanks around it,
 * possibly empty.  *more says whether a comma followed, i.e. whether another item comes.
 */
char *cfg_list_next(char **cursor, bool *more);

/* ------------------------------------------------------------------------------------------ */
/* The schema: section tables declared by their owners (Knot's conf/schema.c is the model)      */

/* Value types the loader knows; the key's offset names the field each fills. */
enum cfg_type {
	CFG_STR,                  /* char *: any text, refused by check when set; NULL never */
	CFG_PATH,                 /* char *: an absolute file name, or empty (see flags) */
	CFG_UINT,                 /* unsigned: decimal min..max ("auto" = 0 with CFG_KEY_AUTO) */
	CFG_BOOL,                 /* unsigned: yes = 1, no = 0 */
	CFG_ENUM,                 /* unsigned (or int): the value of one of names */
	CFG_SIZE,                 /* uint64_t: bytes, with an optional K, M or G suffix, min..max */
	CFG_LISTEN,               /* struct cfg_listen * and a size_t count at count_offset */
	CFG_ADDRS,                /* char *: IPv4 or IPv6 addresses, comma-separated, as written */
	CFG_CUSTOM,               /* parse and fmt are given by the table */
};

/* One word of a CFG_ENUM key; the first entry of a value is its text form. */
struct cfg_enum {
	const char *name;
	unsigned value;
};

/* One key of a section table; fields after help describe the value type. */
struct cfg_key {
	const char *section;      /* filled from the table in cfg_keys(): "server", "zone" */
	const char *key;
	const char *def;          /* default in text form */
	const char *help;         /* one line for people */
	enum cfg_type type;
	size_t offset;            /* of the field in struct cfg (or in a named section's struct) */
	unsigned flags;           /* CFG_KEY_* below */
	const char *what;         /* the value's name in messages; NULL: the key (BOOL: "value") */
	const char *expect;       /* what a good value is, for messages ("a number of seconds") */
	uint64_t min, max;        /* UINT and SIZE bounds; PATH: longest length (0 = any) */
	uint16_t port;            /* LISTEN: the default port */
	size_t count_offset;      /* LISTEN: offset of the size_t count in struct cfg */
	const struct cfg_enum *names; /* ENUM: terminated by a NULL name */
	/*
	 * Validator of the owner, run on the text after the type's own checks (for STR and
	 * PATH): TDNS_OK, or TDNS_ECONFIG with "what was wrong; expected what" in err.
	 */
	int (*check)(const char *value, char *err, size_t errlen);
	/*
	 * Parses value into the field at target; the table sets it only for CFG_CUSTOM, and
	 * cfg_keys() fills in the type's parser for every other key.
	 */
	int (*parse)(const struct cfg_key *k, struct cfg *c, void *target, const char *value,
		     char *err, size_t errlen);
	char *(*fmt)(const void *field); /* CFG_CUSTOM: the text form of the field, caller frees */
};

/*
 * def is a description ("NAME.zone"), not a value to parse: the owner's finish callback
 * derives the default (the [zone] file key, whose default depends on the zone name).
 */
#define CFG_KEY_DERIVED 0x1u
#define CFG_KEY_REQUIRED 0x2u     /* PATH: empty is refused */
#define CFG_KEY_TRIM_SLASH 0x4u   /* PATH: trailing slashes are removed ("/srv/tdns/") */
#define CFG_KEY_EMPTY_NULL 0x8u   /* STR: an empty value is stored as NULL */
#define CFG_KEY_AUTO 0x10u        /* UINT: "auto" is stored as 0 */
#define CFG_KEY_EMPTY_OK 0x20u    /* LISTEN: an empty list (the listener is off) */
#define CFG_KEY_LIST 0x40u        /* STR, CUSTOM: a comma-separated list (see cfg_key_is_list) */
#define CFG_KEY_SECRET 0x80u      /* STR: a set value is shown as "(secret)", never as itself */

/*
 * Whether k takes a comma-separated list (LISTEN and ADDRS keys, and those flagged
 * CFG_KEY_LIST).  Only a list may continue on indented lines, and a list key given again in
 * one section appends to its value; a repeated single-valued key is refused.
 */
bool cfg_key_is_list(const struct cfg_key *k);

/*
 * Whether a physical line continues the value of the key line above it in section ("server",
 * "zone"): it is indented (indented), and its text (text, len: from its first non-blank
 * character, line ending excluded) is neither blank, nor a comment, nor a header of a known
 * section, nor a line naming a key of section before its '=' or ':'.  Comment lines between
 * the continuation lines of a value are skipped; a blank line ends the value.  Shared by the
 * loader and the writer so that both see the same lines as one value.
 */
bool cfg_line_continues(const char *section, const char *text, size_t len, bool indented);

/*
 * Repeated named sections ("[zone NAME]", later "[tsig NAME]"): each instance is a struct of
 * size bytes, collected in a growing array in struct cfg.
 */
struct cfg_named {
	size_t size;              /* of one instance */
	size_t list_offset;       /* of the instance array pointer in struct cfg */
	size_t count_offset;      /* of its size_t count in struct cfg */
	size_t name_offset;       /* of the char * name, as written */
	size_t file_offset;       /* of the char * config file of the section, for messages */
	size_t line_offset;       /* of the unsigned line of the section header */
	const char *name_expect;  /* "a domain name such as example.com" */
	/*
	 * Fills the instance's identity from its name (a zone's apex); TDNS_OK, or a status with
	 * why the name is bad in why.  The instance is zeroed before; it owns nothing yet.
	 */
	int (*open)(void *inst, const char *name, char *why, size_t whylen);
	/* Whether two opened instances name the same thing ("example.com" and "EXAMPLE.com."). */
	bool (*same)(const void *a, const void *b);
};

/*
 * The layout part of a struct cfg_named whose instances are struct type, with the fields
 * name, src_file and src_line, listed in struct cfg's list and counted by its count:
 *     static const struct cfg_named zone_named = {
 *             CFG_NAMED_LAYOUT(cfg_zone, zones, nzones), .name_expect = ..., .open = ...,
 *     };
 */
#define CFG_NAMED_LAYOUT(type, list, count)                                                    \
	.size = sizeof(struct type), .list_offset = offsetof(struct cfg, list),                 \
	.count_offset = offsetof(struct cfg, count), .name_offset = offsetof(struct type, name), \
	.file_offset = offsetof(struct type, src_file),                                         \
	.line_offset = offsetof(struct type, src_line)

/* One section table: a section's keys, or a part of them, declared by the owner. */
struct cfg_table {
	const char *section;      /* "server", or the word before NAME of a named section */
	const struct cfg_key *keys; /* terminated by an entry whose key is NULL */
	const struct cfg_named *named; /* NULL for a plain section */
	/*
	 * Checks that need the whole file (settings that only make sense together) and fills
	 * derived defaults, after a successful parse, in table order; for a named table once
	 * per instance (inst), else with inst NULL.  TDNS_OK, or TDNS_ECONFIG with the whole
	 * message ("file: ..." or "file:line: ...") in err.
	 */
	int (*finish)(struct cfg *c, void *inst, char *err, size_t errlen);
};

/*
 * Every table, in the order of `config show`, the sample file and messages; the tables of one
 * section stand next to each other, in key order (a section may gather keys of several
 * owners: [server] has those of net, the daemon and zone).  Defined above
 * every owner, in src/daemon-cfg.c, because cfg (a leaf) cannot name its users.
 */
struct cfg_schema {
	const struct cfg_table *const *tables; /* NULL-terminated */
	const char *const *later_sections;  /* names a later release will accept, for messages */
	const char *const *later_keys;      /* "section/key" of the same kind */
};
extern const struct cfg_schema cfg_schema;

/*
 * Makes s the schema that cfg_load, cfg_keys and the writer use.  Every program calls it
 * with &cfg_schema (src/daemon-cfg.c, the top layer) before its first cfg call; cfg itself
 * never names the tables above it.
 */
void cfg_use_schema(const struct cfg_schema *s);

/*
 * Every key of cfg_schema in order, section filled in, terminated by an entry whose key is
 * NULL.  Built on first use; borrowed for the life of the program.
 */
const struct cfg_key *cfg_keys(void);

/* The table that holds the named section section ("zone"), or NULL. */
const struct cfg_table *cfg_named_table(const char *section);

/*
 * The instances of section in c: 1 for a plain section, the count for a named one; *name
 * (when not NULL) gets instance i's name as written (NULL for a plain section).
 */
size_t cfg_instances(const struct cfg *c, const char *section, size_t i, const char **name);

/*
 * writer.c (added by the config helper for `config get/set/show`).  Keys are named
 * "section.key" ("log.level"), or "zone.NAME.key" for a [zone NAME] section, NAME possibly
 * containing dots ("zone.example.com.file").
 *
 * cfg_write_set changes key to value in the INI file at path, in place: the value on the
 * key's line is replaced (its trailing comment kept), with the continuation lines of the old
 * value and, for a list key given more than once in the section, its other lines; a list too
 * long for about 100 columns is written one item per indented line; an absent key is
 * inserted after its commented-out example in the section, else after the section's last
 * key, else after the section header; an absent section is appended.  Every other byte is
 * kept.  The result is written to a temporary file in the same directory and loaded with
 * cfg_load before it replaces the file (fsync, rename, directory fsync).  TDNS_OK;
 * TDNS_EINVAL for an unknown key or a value with a line break; TDNS_ECONFIG when the
 * changed file would not load ("path:line: ..." in err, the file untouched); TDNS_EIO.
 */
int cfg_write_set(const char *path, const char *key, const char *value, char *err,
		  size_t errlen);

/*
 * cfg_write_set with a further check of the changed configuration, before it replaces the
 * file: check (when not NULL) gets the loaded new configuration and returns TDNS_OK, or a
 * status with a message in err, which cfg_write_set_check then returns, the file untouched.
 */
int cfg_write_set_check(const char *path, const char *key, const char *value,
			int (*check)(const struct cfg *c, void *arg, char *err, size_t errlen),
			void *arg, char *err, size_t errlen);

/*
 * The value of the schema key k in c (for a key of a named section, of its instance inst:
 * c->zones[inst]) in the text form a file uses ("auto", "127.0.0.1:53, [::1]:53"); NULL when
 * there is no such instance.  Caller frees.
 */
char *cfg_value_text(const struct cfg *c, const struct cfg_key *k, size_t inst);

/*
 * Looks up key in c and stores its value in text form in *value (caller frees).  TDNS_OK;
 * TDNS_EINVAL for an unknown key (err lists the valid ones); TDNS_ENOZONE when c has no
 * [zone NAME] of that name.
 */
int cfg_get(const struct cfg *c, const char *key, char **value, char *err, size_t errlen);

#endif
