/* SPDX-License-Identifier: MIT */
/* Private to src/ctl: the daemon's command handlers, one group per file (tmux style). */
#ifndef TDNS_CTL_CMD_H
#define TDNS_CTL_CMD_H

#include "ctl/ctl.h"

/*
 * Every handler runs on the daemon's main thread, reads its arguments from req->args (named
 * as in the command table of commands.c), and either sets req->data and returns TDNS_OK, or
 * writes a message for people into req->err and returns the status.  A handler of a command
 * flagged CTL_CMD_MUTATES has made its change durable (temp file, fsync, rename) before it
 * returns TDNS_OK; a change that fails validation changes nothing.
 */

/* cmd-server.c */
int ctl_cmd_status(struct ctl_req *req);
int ctl_cmd_server_stop(struct ctl_req *req);

/*
 * Streams (server.c).  A command flagged CTL_CMD_STREAM has, besides its handler, an entry
 * in ctl_stream_handlers: once the handler succeeded, open is called with the request and
 * the client's stream and returns the stream's state (NULL: out of memory, the client gets
 * an error instead of the ok reply).  Then the ok reply goes out, and whatever the state
 * sends with ctl_stream_send follows it, until the client leaves; close(state) is called
 * then (or when the server is freed).  What the client sends meanwhile is discarded.
 */
struct ctl_stream;

#define CTL_STREAM_HIGH (256u * 1024u) /* unread bytes beyond which stream frames are dropped */

struct ctl_stream_handler {
	const char *name;         /* exactly a ctl_cmds name */
	void *(*open)(struct ctl_req *req, struct ctl_stream *st);
	void (*close)(void *state);
};

/* Every stream handler, terminated by {NULL}. */
extern const struct ctl_stream_handler ctl_stream_handlers[];

/*
 * Queues doc (borrowed) as one frame to st's client.  False, queueing nothing, when the
 * client already has more than CTL_STREAM_HIGH bytes unread (the caller counts a drop) or
 * the frame cannot be made: the daemon never waits for a slow client.
 */
bool ctl_stream_send(struct ctl_stream *st, const json_t *doc);

/* Ends the stream from the daemon's side: close is not called; the client is closed. */
void ctl_stream_end(struct ctl_stream *st);

/* cmd-stats.c */
int ctl_cmd_stats(struct ctl_req *req);
int ctl_cmd_stats_top(struct ctl_req *req);
int ctl_cmd_log_show(struct ctl_req *req);
int ctl_cmd_log_follow(struct ctl_req *req);
void *ctl_cmd_log_follow_open(struct ctl_req *req, struct ctl_stream *st);
void ctl_cmd_log_follow_close(void *state);

/* cmd-resolver.c: parses the "name" argument into wire form; false with req->err set. */
bool ctl_cmd_arg_name(struct ctl_req *req, uint8_t *out);

/* cmd-block.c (issue 18) */
int ctl_cmd_block_add(struct ctl_req *req);
int ctl_cmd_block_remove(struct ctl_req *req);
int ctl_cmd_block_list(struct ctl_req *req);
int ctl_cmd_block_check(struct ctl_req *req);
int ctl_cmd_block_lists(struct ctl_req *req);
int ctl_cmd_block_update(struct ctl_req *req);
int ctl_cmd_block_pause(struct ctl_req *req);
int ctl_cmd_block_resume(struct ctl_req *req);
int ctl_cmd_allow_add(struct ctl_req *req);
int ctl_cmd_allow_remove(struct ctl_req *req);
int ctl_cmd_allow_list(struct ctl_req *req);

/* cmd-zone.c */
int ctl_cmd_zone_list(struct ctl_req *req);
int ctl_cmd_zone_create(struct ctl_req *req);
int ctl_cmd_zone_delete(struct ctl_req *req);
int ctl_cmd_zone_show(struct ctl_req *req);
int ctl_cmd_zone_export(struct ctl_req *req);
int ctl_cmd_zone_import(struct ctl_req *req);
int ctl_cmd_zone_check(struct ctl_req *req);
int ctl_cmd_zone_reload(struct ctl_req *req);
int ctl_cmd_zone_notify(struct ctl_req *req);
/* Issue 17: a secondary zone's SOA check now, or a whole AXFR now (cmd-zone.c). */
int ctl_cmd_zone_refresh(struct ctl_req *req);
int ctl_cmd_zone_retransfer(struct ctl_req *req);
int ctl_cmd_zone_enable(struct ctl_req *req);
int ctl_cmd_zone_disable(struct ctl_req *req);

/* cmd-record.c */
int ctl_cmd_record_list(struct ctl_req *req);
int ctl_cmd_record_add(struct ctl_req *req);
int ctl_cmd_record_delete(struct ctl_req *req);
int ctl_cmd_record_update(struct ctl_req *req);

/* cmd-config.c */

/*
 * The daemon's configuration file, for the commands that change it; NULL, with a message in
 * req saying that what (e.g. "settings") cannot change, when tdnsd runs without one.
 */
const char *ctl_config_file(struct ctl_req *req, const char *what);

int ctl_cmd_config_show(struct ctl_req *req);
int ctl_cmd_config_get(struct ctl_req *req);
int ctl_cmd_config_set(struct ctl_req *req);
int ctl_cmd_config_reload(struct ctl_req *req);

/* cmd-resolver.c (issue 4) */
int ctl_cmd_cache_list(struct ctl_req *req);
int ctl_cmd_cache_flush(struct ctl_req *req);
int ctl_cmd_cache_delete(struct ctl_req *req);
int ctl_cmd_forwarder_list(struct ctl_req *req);
int ctl_cmd_forwarder_add(struct ctl_req *req);
int ctl_cmd_forwarder_remove(struct ctl_req *req);

/* cmd-block.c: "900", "15m", "2h", "1d" as seconds (1 .. 7 days); -1 for anything else. */
long ctl_cmd_duration(const char *text);

/* cmd-dnssec.c (issue 16) */
int ctl_cmd_dnssec_status(struct ctl_req *req);
int ctl_cmd_dnssec_nta(struct ctl_req *req);

#endif
