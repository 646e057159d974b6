/* SPDX-License-Identifier: MIT */
/* The daemon's handler table: command name to handler, checked against ctl_cmds by test_ctl. */
#include "ctl/cmd.h"

const struct ctl_handler ctl_handlers[] = {
	{ .name = "status", .fn = ctl_cmd_status },
	{ .name = "stats", .fn = ctl_cmd_stats },
	{ .name = "server stop", .fn = ctl_cmd_server_stop },
	{ .name = "stats top", .fn = ctl_cmd_stats_top },
	{ .name = "log show", .fn = ctl_cmd_log_show },
	{ .name = "log follow", .fn = ctl_cmd_log_follow },
	{ .name = "zone list", .fn = ctl_cmd_zone_list },
	{ .name = "zone create", .fn = ctl_cmd_zone_create },
	{ .name = "zone delete", .fn = ctl_cmd_zone_delete },
	{ .name = "zone show", .fn = ctl_cmd_zone_show },
	{ .name = "zone export", .fn = ctl_cmd_zone_export },
	{ .name = "zone import", .fn = ctl_cmd_zone_import },
	{ .name = "zone check", .fn = ctl_cmd_zone_check },
	{ .name = "zone reload", .fn = ctl_cmd_zone_reload },
	{ .name = "zone notify", .fn = ctl_cmd_zone_notify },
	{ .name = "zone refresh", .fn = ctl_cmd_zone_refresh },
	{ .name = "zone retransfer", .fn = ctl_cmd_zone_retransfer },
	{ .name = "zone enable", .fn = ctl_cmd_zone_enable },
	{ .name = "zone disable", .fn = ctl_cmd_zone_disable },
	{ .name = "record list", .fn = ctl_cmd_record_list },
	{ .name = "record add", .fn = ctl_cmd_record_add },
	{ .name = "record delete", .fn = ctl_cmd_record_delete },
	{ .name = "record update", .fn = ctl_cmd_record_update },
	{ .name = "config show", .fn = ctl_cmd_config_show },
	{ .name = "config get", .fn = ctl_cmd_config_get },
	{ .name = "config set", .fn = ctl_cmd_config_set },
	{ .name = "config reload", .fn = ctl_cmd_config_reload },
	{ .name = "cache list", .fn = ctl_cmd_cache_list },
	{ .name = "cache flush", .fn = ctl_cmd_cache_flush },
	{ .name = "cache delete", .fn = ctl_cmd_cache_delete },
	{ .name = "forwarder list", .fn = ctl_cmd_forwarder_list },
	{ .name = "forwarder add", .fn = ctl_cmd_forwarder_add },
	{ .name = "forwarder remove", .fn = ctl_cmd_forwarder_remove },
	{ .name = "block add", .fn = ctl_cmd_block_add },
	{ .name = "block remove", .fn = ctl_cmd_block_remove },
	{ .name = "block list", .fn = ctl_cmd_block_list },
	{ .name = "block lists", .fn = ctl_cmd_block_lists },
	{ .name = "block update", .fn = ctl_cmd_block_update },
	{ .name = "block check", .fn = ctl_cmd_block_check },
	{ .name = "block pause", .fn = ctl_cmd_block_pause },
	{ .name = "block resume", .fn = ctl_cmd_block_resume },
	{ .name = "allow add", .fn = ctl_cmd_allow_add },
	{ .name = "allow remove", .fn = ctl_cmd_allow_remove },
	{ .name = "allow list", .fn = ctl_cmd_allow_list },
	{ .name = "dnssec status", .fn = ctl_cmd_dnssec_status },
	{ .name = "dnssec nta", .fn = ctl_cmd_dnssec_nta },
	{ .name = NULL, .fn = NULL },
};

const struct ctl_stream_handler ctl_stream_handlers[] = {
	{ .name = "log follow", .open = ctl_cmd_log_follow_open,
	  .close = ctl_cmd_log_follow_close },
	{ .name = NULL },
};

const struct ctl_stream_handler *
ctl_stream_handler_table(void)
{
	return ctl_stream_handlers;
}
