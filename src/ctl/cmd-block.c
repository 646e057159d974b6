/* SPDX-License-Identifier: MIT */
/* Control commands of blocking (issue 18): block|allow add, remove, list; block check, lists. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "block/block.h"
#include "ctl/cmd.h"
#include "query/query.h"

static const struct query_blocking *
blocking(struct ctl_req *req)
{
	return req->env->blocking != NULL ? req->env->blocking(req->env->daemon) : NULL;
}

/* Seconds a `block pause` still lasts; 0 when blocking is not paused. */
static long
paused_left(struct ctl_req *req)
{
	char err[256];
	long left = req->env->blocking_pause != NULL
		    ? req->env->blocking_pause(req->env->daemon, -1, err, sizeof(err)) : 0;
	return left > 0 ? left : 0;
}

/* `block|allow add|remove NAME`: the file first (durable), then the workers' table. */
static int
edit(struct ctl_req *req, bool allow, bool add)
{
	const char *name = json_string_value(json_object_get(req->args, "name"));
	const struct cfg *c = req->env->cfg(req->env->daemon);
	if (req->env->blocking_custom_changed == NULL || c->state_dir == NULL) {
		snprintf(req->err, sizeof(req->err), "this tdnsd keeps no custom block names");
		return TDNS_ENOENT;
	}
	int rc = block_custom_edit(c->state_dir, allow, add, name, req->err, sizeof(req->err));
	if (rc != TDNS_OK) {
		return rc;
	}
	rc = req->env->blocking_custom_changed(req->env->daemon, req->err, sizeof(req->err));
	if (rc != TDNS_OK) {
		return rc;
	}
	if (!c->blocking_enabled) {
		snprintf(req->warning, sizeof(req->warning), "blocking is off ([blocking] enabled "
			 "= no): the name is kept but nothing is blocked");
	}
	req->data = json_pack("{s:s, s:s, s:s}", "name", name, "list", allow ? "allow" : "block",
			      "action", add ? "added" : "removed");
	return TDNS_OK;
}

int
ctl_cmd_block_add(struct ctl_req *req)
{
	return edit(req, false, true);
}

int
ctl_cmd_block_remove(struct ctl_req *req)
{
	return edit(req, false, false);
}

int
ctl_cmd_allow_add(struct ctl_req *req)
{
	return edit(req, true, true);
}

int
ctl_cmd_allow_remove(struct ctl_req *req)
{
	return edit(req, true, false);
}

/* `block|allow list`: the custom names, then the configured lists of that kind. */
static int
list(struct ctl_req *req, bool allow)
{
	const struct cfg *c = req->env->cfg(req->env->daemon);
	const struct query_blocking *qb = blocking(req);
	json_t *custom = json_array(), *lists = json_array();
	char **names = c->state_dir != NULL ? block_custom_names(c->state_dir, allow) : NULL;
	for (size_t i = 0; names != NULL && names[i] != NULL; i++) {
		json_array_append_new(custom, json_string(names[i]));
	}
	block_custom_names_free(names);
	const struct block_table *t = qb != NULL ? query_blocking_table(qb, false) : NULL;
	/* The [blocking] lists, then those of each [blocking-group]. */
	for (size_t g = 0; g <= c->nblock_groups; g++) {
		const struct block_table *gt = g == 0 ? t : qb != NULL
				? query_blocking_group_table(qb, g - 1) : NULL;
		size_t n = 0;
		const struct block_list_info *li = gt != NULL ? block_table_lists(gt, &n) : NULL;
		for (size_t i = 0; i < n; i++) {
			if (li[i].allow != allow) {
				continue;
			}
			json_t *row = json_pack("{s:s, s:I, s:I, s:s}", "list", li[i].name,
						"names", (json_int_t)li[i].names,
						"malformed", (json_int_t)li[i].malformed,
						"status", li[i].status == TDNS_OK ? "ok"
						: tdns_status_msg(li[i].status));
			if (g > 0) {
				json_object_set_new(row, "group",
						    json_string(c->block_groups[g - 1].name));
			}
			json_array_append_new(lists, row);
		}
	}
	req->data = json_pack("{s:b, s:I, s:o, s:o, s:I}", "enabled", query_blocking_enabled(qb),
			      "paused_seconds", (json_int_t)paused_left(req), "custom", custom,
			      "lists", lists, "distinct_names",
			      (json_int_t)(t != NULL ? block_table_count(t, allow) : 0));
	return TDNS_OK;
}

int
ctl_cmd_block_list(struct ctl_req *req)
{
	return list(req, false);
}

int
ctl_cmd_allow_list(struct ctl_req *req)
{
	return list(req, true);
}

/* Unix time t as ISO 8601 in UTC ("2026-12-08T01:02:03Z"), or JSON null for 0. */
static json_t *
iso_time(int64_t t)
{
	if (t <= 0) {
		return json_null();
	}
	time_t tt = (time_t)t;
	struct tm tm;
	char buf[32];
	gmtime_r(&tt, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

/* One row of `block lists` for list li of the table of group (NULL: [blocking]). */
static json_t *
source_row(struct ctl_req *req, const struct block_list_info *li, const char *group)
{
	int64_t updated = li->status == TDNS_OK ? li->loaded : 0, next = 0;
	char err[512];
	snprintf(err, sizeof(err), "%s", li->error != NULL ? li->error : "");
	if (block_source_is_url(li->name)) {
		char ferr[512] = "";
		if (req->env->blocking_source != NULL &&
		    req->env->blocking_source(req->env->daemon, li->name, &updated, &next, ferr,
					      sizeof(ferr))) {
			/* The download's error says more than the missing copy's. */
			if (ferr[0] != '\0' || li->status == TDNS_OK) {
				snprintf(err, sizeof(err), "%s", ferr);
			} else {
				snprintf(err, sizeof(err), "not downloaded yet");
			}
		}
	}
	return json_pack("{s:s, s:s?, s:s, s:I, s:I, s:o, s:o, s:s?}", "source", li->name,
			 "group", group, "kind", li->allow ? "allow" : "block",
			 "names", (json_int_t)li->names, "skipped", (json_int_t)li->malformed,
			 "updated", iso_time(updated), "next_update", iso_time(next),
			 "error", err[0] != '\0' ? err : NULL);
}

int
ctl_cmd_block_lists(struct ctl_req *req)
{
	const struct cfg *c = req->env->cfg(req->env->daemon);
	const struct query_blocking *qb = blocking(req);
	json_t *rows = json_array();
	for (size_t g = 0; qb != NULL && g <= c->nblock_groups; g++) {
		const struct block_table *t = g == 0 ? query_blocking_table(qb, false)
					      : query_blocking_group_table(qb, g - 1);
		size_t n = 0;
		const struct block_list_info *li = t != NULL ? block_table_lists(t, &n) : NULL;
		for (size_t i = 0; i < n; i++) {
			json_array_append_new(rows, source_row(req, &li[i], g == 0 ? NULL
								: c->block_groups[g - 1].name));
		}
	}
	req->data = json_pack("{s:o, s:I}", "lists", rows, "update_interval",
			      (json_int_t)c->blocking_update_interval);
	return TDNS_OK;
}

int
ctl_cmd_block_update(struct ctl_req *req)
{
	if (req->env->blocking_update == NULL) {
		snprintf(req->err, sizeof(req->err), "this tdnsd downloads no block lists");
		return TDNS_ENOENT;
	}
	long n = req->env->blocking_update(req->env->daemon);
	req->data = json_pack("{s:I}", "started", (json_int_t)n);
	return TDNS_OK;
}

int
ctl_cmd_block_check(struct ctl_req *req)
{
	uint8_t name[DNS_NAME_MAX];
	if (!ctl_cmd_arg_name(req, name)) {
		return TDNS_EINVAL;
	}
	const char *client = json_string_value(json_object_get(req->args, "client"));
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	if (client != NULL) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		if (inet_pton(AF_INET, client, &s4->sin_addr) == 1) {
			s4->sin_family = AF_INET;
		} else if (inet_pton(AF_INET6, client, &s6->sin6_addr) == 1) {
			s6->sin6_family = AF_INET6;
		} else {
			snprintf(req->err, sizeof(req->err), "invalid client address '%s'; expected "
				 "an IPv4 or IPv6 address", client);
			return TDNS_EINVAL;
		}
	}
	const struct query_blocking *qb = blocking(req);
	bool enabled = query_blocking_enabled(qb), bypassed = false;
	struct block_hit hit = { NULL, 0, 0 };
	const char *group = NULL;
	enum block_verdict v = qb != NULL
			       ? query_blocking_check(qb, name, client != NULL ? (struct sockaddr *)&ss
								     : NULL, &hit, &bypassed, &group)
			       : BLOCK_NONE;
	static const char *const verdicts[] = {
		[BLOCK_NONE] = "none", [BLOCK_BLOCKED] = "blocked", [BLOCK_ALLOWED] = "allowed",
	};
	char text[DNS_NAME_TEXT_MAX], entry[DNS_NAME_TEXT_MAX] = "";
	(void)dns_name_to_text(name, text, sizeof(text));
	if (hit.list != NULL) {
		(void)dns_name_to_text(name + hit.offset, entry, sizeof(entry));
	}
	bool canary = dns_name_eq(name, BLOCK_CANARY);
	json_t *d = json_pack("{s:s, s:b, s:s, s:b, s:b, s:b}", "name", text, "blocked",
			      enabled && ((v == BLOCK_BLOCKED && !bypassed) || canary), "verdict",
			      verdicts[v], "enabled", enabled, "bypassed", bypassed, "canary",
			      canary);
	if (hit.list != NULL) {
		json_object_set_new(d, "list", json_string(hit.list));
		json_object_set_new(d, "line", json_integer(hit.line));
		json_object_set_new(d, "entry", json_string(entry));
	}
	if (client != NULL) {
		json_object_set_new(d, "client", json_string(client));
	}
	if (group != NULL) {
		json_object_set_new(d, "group", json_string(group));
	}
	json_object_set_new(d, "paused_seconds", json_integer(paused_left(req)));
	req->data = d;
	return TDNS_OK;
}

long
ctl_cmd_duration(const char *text)
{
	char *end;
	long n = strtol(text, &end, 10);
	long unit = 1;
	if (end == text || n <= 0) {
		return -1;
	}
	if (*end != '\0') {
		switch (*end) {
		case 's':
			break;
		case 'm':
			unit = 60;
			break;
		case 'h':
			unit = 3600;
			break;
		case 'd':
			unit = 86400;
			break;
		default:
			return -1;
		}
		if (end[1] != '\0') {
			return -1;
		}
	}
	return n <= 7 * 86400 / unit ? n * unit : -1;
}

/* `block pause DURATION` (seconds > 0) and `block resume` (0). */
static int
pause_resume(struct ctl_req *req, long seconds)
{
	if (req->env->blocking_pause == NULL) {
		snprintf(req->err, sizeof(req->err), "this tdnsd cannot pause blocking");
		return TDNS_ENOENT;
	}
	long left = req->env->blocking_pause(req->env->daemon, seconds, req->err,
					     sizeof(req->err));
	if (left < 0) {
		return (int)left;
	}
	req->data = json_pack("{s:b, s:I}", "paused", left > 0, "paused_seconds",
			      (json_int_t)left);
	return TDNS_OK;
}

int
ctl_cmd_block_pause(struct ctl_req *req)
{
	const char *text = json_string_value(json_object_get(req->args, "duration"));
	long seconds = text != NULL ? ctl_cmd_duration(text) : -1;
	if (seconds < 0) {
		snprintf(req->err, sizeof(req->err), "invalid duration '%s'; expected seconds or a "
			 "number with s, m, h or d (such as 15m), at most 7d", text ? text : "");
		return TDNS_EINVAL;
	}
	return pause_resume(req, seconds);
}

int
ctl_cmd_block_resume(struct ctl_req *req)
{
	return pause_resume(req, 0);
}
