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
int ctl_cmd_stats(struct ctl_req *req);
int ctl_cmd_server_stop(struct ctl_req *req);

/* cmd-zone.c */
int ctl_cmd_zone_list(struct ctl_req *req);
int ctl_cmd_zone_create(struct ctl_req *req);
int ctl_cmd_zone_delete(struct ctl_req *req);
int ctl_cmd_zone_show(struct ctl_req *req);
int ctl_cmd_zone_export(struct ctl_req *req);
int ctl_cmd_zone_import(struct ctl_req *req);
int ctl_cmd_zone_check(struct ctl_req *req);
int ctl_cmd_zone_reload(struct ctl_req *req);
int ctl_cmd_zone_enable(struct ctl_req *req);
int ctl_cmd_zone_disable(struct ctl_req *req);

/* cmd-record.c */
int ctl_cmd_record_list(struct ctl_req *req);
int ctl_cmd_record_add(struct ctl_req *req);
int ctl_cmd_record_delete(struct ctl_req *req);
int ctl_cmd_record_update(struct ctl_req *req);

/* cmd-config.c */
int ctl_cmd_config_show(struct ctl_req *req);
int ctl_cmd_config_get(struct ctl_req *req);
int ctl_cmd_config_set(struct ctl_req *req);
int ctl_cmd_config_reload(struct ctl_req *req);

#endif
