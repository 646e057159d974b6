/* SPDX-License-Identifier: MIT */
/* ctl: the control protocol (framing, command table) shared by tdnsd, tdns-cli and tdns-tui. */
#ifndef TDNS_CTL_H
#define TDNS_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "core/core.h"

/*
 * Protocol (DESIGN.md "Control protocol").  A Unix stream socket; every frame is a 4-byte
 * big-endian length followed by that many bytes of one JSON document (UTF-8, an object).
 *
 * The client's first request must be the hello:
 *   {"command": "hello", "args": {"protocol": 1, "client": "tdns-cli 0.1.0"}}
 * answered with {"ok": true, "data": {"protocol": 1, "server": "tdnsd 0.1.0"}}.  A peer
 * with another protocol version gets an error reply (id "EPROTO") and is disconnected.
 *
 * Requests:  {"command": "zone create", "args": {...named arguments...}}
 * Replies:   {"ok": true, "data": <any JSON>}
 *            {"ok": false, "error": {"id": "ENOZONE", "message": "no such zone: example.org"}}
 * A malformed or oversized frame gets an error reply (id "EFRAME") and the connection is
 * closed; the daemon and other clients are unaffected.
 */
#define CTL_PROTOCOL_VERSION 1
#define CTL_FRAME_MAX (16u * 1024u * 1024u) /* largest JSON document accepted */
#define CTL_DEFAULT_SOCKET "/run/tdns/control.sock"

/* ------------------------------------------------------------------------------------------ */
/* Framing (frame.c), used by both sides.                                                       */

/*
 * Serialises doc compactly into a new malloc'd frame (length prefix included).  Caller frees
 * *out.  TDNS_OK, TDNS_ENOMEM, or TDNS_ERANGE when the document exceeds CTL_FRAME_MAX.
 */
int ctl_frame_encode(const json_t *doc, uint8_t **out, size_t *outlen);

/*
 * Parses one frame payload (without the length prefix) into a JSON object.  Caller owns
 * *out (json_decref).  TDNS_EMALFORMED with a message in err when it is not a JSON object.
 */
int ctl_frame_decode(const uint8_t *payload, size_t len, json_t **out, char *err, size_t errlen);

/*
 * Blocking write of a whole frame to fd (EINTR handled; a socket whose peer hung up raises no
 * SIGPIPE).  TDNS_OK, or TDNS_EIO with errno set (EPIPE: the peer closed).
 */
int ctl_frame_send(int fd, const json_t *doc);

/*
 * Blocking read of one frame from fd, waiting at most timeout_ms (< 0: forever).  Caller owns
 * *out.  TDNS_OK, TDNS_EIO (closed or error, message in err), TDNS_EAGAIN (timeout),
 * TDNS_ERANGE (oversized), TDNS_EMALFORMED (bad JSON).
 */
int ctl_frame_recv(int fd, json_t **out, int timeout_ms, char *err, size_t errlen);

/* A new reply object {"ok": true, "data": data}; steals the reference to data (may be NULL). */
json_t *ctl_reply_ok(json_t *data);

/* A new reply object {"ok": false, "error": {"id": tdns_status_id(status), "message": msg}}. */
json_t *ctl_reply_error(int status, const char *msg);

/* ------------------------------------------------------------------------------------------ */
/* The command table (commands.c): one entry per command; tdnsd's handlers, tdns-cli's parsing, */
/* help and bash completion all come from it.                                                  */

enum ctl_arg_type {
	CTL_ARG_STRING,   /* one word, sent as a JSON string */
	CTL_ARG_INT,      /* one word, sent as a JSON integer */
	CTL_ARG_WORDS,    /* the rest of the words, sent as a JSON array of strings */
	CTL_ARG_FLAG,     /* "--name" without a value, sent as true */
	CTL_ARG_FILE,     /* a local file whose contents the CLI sends as a string */
};

struct ctl_arg {
	const char *name;        /* JSON member name, and the option name for "--name VALUE" */
	enum ctl_arg_type type;
	bool optional;
	bool option;             /* given as --name VALUE rather than by position */
	const char *help;
};

#define CTL_CMD_MUTATES 0x1u  /* changes state: the daemon persists before replying */
#define CTL_CMD_LOCAL 0x2u    /* runs inside tdns-cli, no daemon (query, zone check) */
#define CTL_CMD_STREAM 0x4u   /* the reply is a stream of frames until the client leaves */

struct ctl_cmd {
	const char *name;         /* words that name it: "status", "zone create" */
	const struct ctl_arg *args; /* terminated by an entry with name NULL; NULL = none */
	const char *help;         /* one line */
	unsigned flags;           /* CTL_CMD_* */
};

/* The command table, terminated by an entry whose name is NULL. */
extern const struct ctl_cmd ctl_cmds[];

/* The command named exactly name, or NULL. */
const struct ctl_cmd *ctl_cmd_find(const char *name);

/*
 * Checks a request's args object against cmd's entry in the table: every member is a known
 * argument of the right JSON type, and every required one is present (a required WORDS
 * argument is not empty).  TDNS_OK, or TDNS_EINVAL with a message naming the argument.
 */
int ctl_cmd_check_args(const struct ctl_cmd *cmd, const json_t *args, char *err, size_t errlen);

/* ------------------------------------------------------------------------------------------ */
/* The daemon side (server.c, cmd-*.c).  Needs libevent; linked into tdnsd only.                */

struct event_base;
struct zone_set;
struct zone;
struct cfg;
struct zone_catalog;
struct ctl_server;
struct cache;
struct resolver_conf;
struct dnssec_ntas;
struct dnssec_anchors;
struct dnssec_rfc5011;

/*
 * What command handlers may see and do in the daemon; filled in by tdnsd.c.  Every function
 * runs on the main thread, as do all handlers, so control commands are serialised: two
 * clients editing one zone are applied one after the other.
 */
struct query_blocking;

struct ctl_env {
	void *daemon;
	/* The running configuration and the file it came from (NULL: embedded defaults). */
	const struct cfg *(*cfg)(void *daemon);
	const char *(*cfg_path)(void *daemon);
	/* The zone set the workers answer from (borrowed until the next publish). */
	const struct zone_set *(*zones)(void *daemon);
	/*
	 * Publishes a new zone set to the workers and frees the old one (zones are
	 * reference-counted, so the new set may share unchanged zones with the old).
	 * Takes ownership of set.
	 */
	void (*publish)(void *daemon, struct zone_set *set);
	/*
	 * The zone catalog (zones created at run time, enabled/disabled states), owned by the
	 * daemon; handlers change it only through zone_catalog_put/remove, which persist.
	 */
	struct zone_catalog *(*catalog)(void *daemon);
	/* Reloads configuration and zones like SIGHUP; TDNS_OK or an error message in err. */
	int (*reload)(void *daemon, char *err, size_t errlen);
	/* Asks the daemon to stop after the current reply has been sent. */
	void (*stop)(void *daemon);
	/* Fills data for `status` and `stats` (see cmd-server.c / cmd-stats.c). */
	json_t *(*status)(void *daemon);
	json_t *(*stats)(void *daemon);
	/*
	 * The answer cache and the running forwarding setup, for `cache ...` and `forwarder ...`
	 * (added by the forwarder helper, issue 4; borrowed; the setup may be NULL).
	 */
	struct cache *(*cache)(void *daemon);
	struct resolver_conf *(*resolver)(void *daemon);
	/*
	 * The command handlers and stream handlers (ctl_handlers and ctl_stream_handlers from
	 * handlers.c), given by the daemon so that the server, which the handlers' streams call
	 * into, does not call back up into the command files (issue 12: no call cycles).
	 */
	const struct ctl_handler *handlers;
	const struct ctl_stream_handler *stream_handlers;
	/*
	 * Issue 18: the blocking the workers use (borrowed until the next publish; NULL before
	 * any), and the rebuild and publication of the custom names' table after `block|allow
	 * add|remove` changed their files: TDNS_OK, or a status with the reason in err.
	 */
	const struct query_blocking *(*blocking)(void *daemon);
	int (*blocking_custom_changed)(void *daemon, char *err, size_t errlen);
	/*
	 * `block pause|resume`: seconds > 0 pauses blocking for that long (a later pause
	 * replaces it), 0 resumes now, -1 changes nothing.  Returns the seconds the pause still
	 * lasts (0: not paused), or a negative status with the reason in err.
	 */
	long (*blocking_pause)(void *daemon, long seconds, char *err, size_t errlen);
	/*
	 * Issue 16: the negative trust anchors (owned by the daemon, which gives the validator
	 * the same object as const; `dnssec nta` changes it and keeps the run-time entries in
	 * state-dir/nta.json), the configured trust anchors and the RFC 5011 tracker (both
	 * borrowed; each may be NULL).
	 */
	struct dnssec_ntas *ntas;
	const struct dnssec_anchors *anchors;
	struct dnssec_rfc5011 *rfc5011;
	/*
	 * `block lists`: what the downloader knows of the list URL url (*updated: Unix time of
	 * the last good download, *next: of the next one, 0 for none; its last error in err, ""
	 * for none); false when url is not downloaded.  `block update`: starts every download
	 * now and returns how many started.
	 */
	bool (*blocking_source)(void *daemon, const char *url, int64_t *updated, int64_t *next,
				char *err, size_t errlen);
	long (*blocking_update)(void *daemon);
	/* Issue 17: NOTIFY out, for `zone notify` (borrowed; NULL before the daemon runs). */
	struct zone_notifier *(*notifier)(void *daemon);
	/*
	 * Issue 17: the secondary zones (borrowed; NULL before the main base runs), and what
	 * `zone create|delete` of a run-time secondary zone calls once the catalog changed: the
	 * secondaries take the catalog again and the zone set is published with apex's version.
	 */
	struct zone_secondaries *(*secondaries)(void *daemon);
	void (*secondaries_changed)(void *daemon, const uint8_t *apex);
};

struct ctl_handler;
struct ctl_stream_handler;

/* One request being handled. */
struct ctl_req {
	struct ctl_env *env;
	const struct ctl_cmd *cmd;
	json_t *args;             /* the request's "args" object (borrowed; never NULL) */
	uid_t uid;                /* peer credentials */
	gid_t gid;
	json_t *data;             /* set by the handler on success (owned by the request) */
	int status;               /* set by the handler on failure ... */
	char err[2048];           /* ... with a message for people */
	char warning[1024];       /* on success, something people must know: the reply's
				     "warning" member ("" for none) */
};

/* Handler: fills req->data and returns TDNS_OK, or sets req->err and returns the status. */
typedef int (*ctl_handler_fn)(struct ctl_req *req);

struct ctl_handler {
	const char *name;         /* exactly a ctl_cmds name */
	ctl_handler_fn fn;
};

/* Every daemon handler, terminated by {NULL, NULL}; a unit test checks it covers ctl_cmds. */
extern const struct ctl_handler ctl_handlers[];

/* The stream handlers (cmd.h's ctl_stream_handlers), for ctl_env.stream_handlers. */
const struct ctl_stream_handler *ctl_stream_handler_table(void);

/*
 * Listens on the Unix socket at path (directories created, a stale socket replaced, mode
 * 0660, group changed to group when it is not (gid_t)-1) on the main event base.  Peers are
 * accepted when their uid is 0 or the daemon's, or their gid (or a supplementary group) is
 * group.  Caller frees with ctl_server_free.  TDNS_EIO with a message in err.
 */
int ctl_server_new(struct event_base *base, const char *path, gid_t group, struct ctl_env *env,
		   struct ctl_server **out, char *err, size_t errlen);

/*
 * Sets how long (seconds, > 0; 300 until set) a client greeted from now on may stay idle, or
 * not read its replies, before it is closed ([control] timeout); a request must also arrive
 * whole within 10 s (or that timeout, if shorter) of its first bytes.  Accepts NULL.
 */
void ctl_server_set_timeout(struct ctl_server *s, unsigned secs);

/*
 * Gives the socket to group ((gid_t)-1: none besides root and the daemon's user; [control]
 * group at reload): its file's group changes, and clients connecting from now on are checked
 * against it.  TDNS_OK, or TDNS_EIO with the reason in err (nothing changed).  Accepts NULL.
 */
int ctl_server_set_group(struct ctl_server *s, gid_t group, char *err, size_t errlen);

/* Closes every client and the socket (unlinking it); accepts NULL. */
void ctl_server_free(struct ctl_server *s);

struct cfg_table;

/*
 * The [control] section table (schema.c), registered in cfg_schema (src/daemon-cfg.c): the
 * socket path and the group allowed to use it (struct cfg control_socket, control_group).
 */
extern const struct cfg_table ctl_schema_control;

/*
 * The control socket a client uses (schema.c; tdns-cli and tdns-tui): sock when given, else
 * the [control] socket of the config file config, else $TDNS_SOCKET, else CTL_DEFAULT_SOCKET.
 * Returns a malloc'd path the caller frees, or NULL with the reason in err (the config file
 * does not load, or out of memory).
 */
char *ctl_schema_socket_path(const char *sock, const char *config, char *err, size_t errlen);

#endif
