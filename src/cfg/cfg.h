/* SPDX-License-Identifier: MIT */
/* cfg: the configuration schema table and the INI loader with file:line errors. */
#ifndef TDNS_CFG_H
#define TDNS_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dns/dns.h"

#define CFG_DEFAULT_PATH SYSCONFDIR "/tdns/tdnsd.conf"

/* One listen address ("127.0.0.1:53", "[::1]:5300", "0.0.0.0", "[::]"). */
struct cfg_listen {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char text[64];            /* "ADDR:PORT" or "[V6]:PORT" with the port filled in, for logs */
};

/* A [zone NAME] section. */
struct cfg_zone {
	char *name;               /* text as written */
	uint8_t apex[DNS_NAME_MAX];
	char *type;               /* "primary", "forwarder" (a conditional forwarder zone) or "stub" */
	char *file;               /* absolute, or relative to state-dir resolved by cfg_load */
	/*
	 * type = forwarder: the servers for names at and below the zone, as a comma-separated
	 * list of client_server_parse URLs, or "this-server" (resolve with the server's own
	 * [forwarders]); "" for other zone types.  Added by the forwarder helper (issue 4).
	 */
	char *forwarders;
	/*
	 * type = stub: the addresses (IPv4/IPv6, port 53) asked for the zone's SOA, NS and glue,
	 * comma-separated; "" for other zone types.  Added for stub zones (issue 5).
	 */
	char *primaries;
	char *src_file;           /* config file and line of the section, for errors */
	unsigned src_line;
};

/* SOA serial update policies for changes made at run time (BIND's serial-update-method). */
#define CFG_SERIAL_INCREMENT 0    /* serial + 1 (RFC 1982 arithmetic) */
#define CFG_SERIAL_DATE 1         /* YYYYMMDDnn, or + 1 when that is not larger */
#define CFG_SERIAL_UNIXTIME 2     /* seconds since 1970, or + 1 when that is not larger */

/* [recursion] mode (issue 4; "recursive" comes with the iterator). */
#define CFG_RECURSION_OFF 0       /* names outside our zones get REFUSED */
#define CFG_RECURSION_FORWARD 1   /* answered from the cache and the [forwarders] */
#define CFG_RECURSION_RECURSIVE 2 /* resolved iteratively from the root (issue 5) */

/* [forwarders] mode. */
#define CFG_FORWARD_CONCURRENT 0  /* ask several at once, first good answer wins */
#define CFG_FORWARD_SEQUENTIAL 1  /* one after another by RTT, failing over on timeout */

/* The whole configuration; every field holds its default when the key is absent. */
struct cfg {
	char *path;               /* file it came from, NULL for the embedded defaults */
	/* [server] */
	struct cfg_listen *listen;
	size_t nlisten;
	unsigned workers;         /* 0 = auto (one per core) */
	char *state_dir;
	char *user;               /* NULL or "" = do not drop privileges */
	unsigned tcp_idle_timeout;    /* seconds, RFC 7766 §6.2.3 */
	unsigned tcp_max_connections; /* per worker */
	unsigned udp_max_payload;     /* largest UDP reply we send with EDNS */
	unsigned serial_policy;   /* CFG_SERIAL_*: how record changes bump the SOA serial */
	/* [control] */
	char *control_socket;     /* Unix socket path (default CTL_DEFAULT_SOCKET) */
	char *control_group;      /* NULL: only root and the daemon's user may connect */
	/* [log] */
	int log_level;            /* enum tdns_log_level */
	/* [recursion], [forwarders], [cache] (added by the forwarder helper, issue 4) */
	unsigned recursion_mode;  /* CFG_RECURSION_* */
	char *recursion_allow;    /* CIDR list as written (checked by filter_acl_parse) */
	/* [recursion] keys of the iterator (issue 5) */
	char *root_hints;         /* absolute path of a root hints file; "" = built-in IANA hints */
	unsigned qname_min;       /* 0 or 1: RFC 9156 QNAME minimisation */
	unsigned max_depth;       /* referrals followed for one client query */
	unsigned max_queries;     /* upstream queries one client query may cause */
	unsigned max_time_ms;     /* wall time one client query may take */
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
	/* [tls], [dot], [doh] (issue 6) */
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
	/* zones */
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

/* One key of the schema table, for documentation checks and `config show`. */
struct cfg_key {
	const char *section;      /* "server", "log", "zone" (for [zone NAME]) */
	const char *key;
	const char *def;          /* default in text form; NULL = none */
	const char *help;         /* one line for people */
	int (*parse)(struct cfg *c, void *target, const char *value, char *err, size_t errlen);
	size_t offset;            /* of the target field in struct cfg (or struct cfg_zone) */
	unsigned flags;           /* CFG_KEY_* below */
};

/*
 * def is a description ("NAME.zone"), not a value to parse: the loader derives the default
 * (added by the cfg helper for [zone] file, whose default depends on the zone name).
 */
#define CFG_KEY_DERIVED 0x1u

/* The schema table, terminated by an entry whose key is NULL. */
extern const struct cfg_key cfg_keys[];

/*
 * writer.c (added by the config helper for `config get/set/show`).  Keys are named
 * "section.key" ("log.level"), or "zone.NAME.key" for a [zone NAME] section, NAME possibly
 * containing dots ("zone.example.com.file").
 *
 * cfg_write_set changes key to value in the INI file at path, in place: the value on the
 * key's line is replaced (its trailing comment kept); an absent key is inserted after its
 * commented-out example in the section, else after the section's last key, else after the
 * section header; an absent section is appended.  Every other byte is kept.  The result is
 * written to a temporary file in the same directory and loaded with cfg_load before it
 * replaces the file (fsync, rename, directory fsync).  TDNS_OK; TDNS_EINVAL for an unknown
 * key or a value that cannot be written on one line; TDNS_ECONFIG when the changed file
 * would not load ("path:line: ..." in err, the file untouched); TDNS_EIO.
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
 * The value of the schema key k in c (for a zone key, of c->zones[zone]) in the text form a
 * file uses ("auto", "127.0.0.1:53, [::1]:53").  Caller frees.
 */
char *cfg_value_text(const struct cfg *c, const struct cfg_key *k, size_t zone);

/*
 * Looks up key in c and stores its value in text form in *value (caller frees).  TDNS_OK;
 * TDNS_EINVAL for an unknown key (err lists the valid ones); TDNS_ENOZONE when c has no
 * [zone NAME] of that name.
 */
int cfg_get(const struct cfg *c, const char *key, char **value, char *err, size_t errlen);

#endif
