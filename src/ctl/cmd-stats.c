/* SPDX-License-Identifier: MIT */
/* Control commands about traffic: stats, stats top, log show and the log follow stream. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/cmd.h"
#include "dns/dns.h"
#include "stats/stats.h"

#define TOP_DEFAULT 10
#define TOP_MAX 1000
#define LOG_DEFAULT 50
#define LOG_MAX 10000

int
ctl_cmd_stats(struct ctl_req *req)
{
	struct ctl_env *env = req->env;
	json_t *data = env->stats != NULL ? env->stats(env->daemon) : NULL;
	if (data == NULL) {
		snprintf(req->err, sizeof(req->err), "statistics are not available");
		return TDNS_EAGAIN;
	}
	req->data = data;
	return TDNS_OK;
}

/* The daemon's recorder, or NULL with a message in req. */
static struct stats_recorder *
recorder(struct ctl_req *req)
{
	struct stats_recorder *r = stats_recorder_get();
	if (r == NULL) {
		snprintf(req->err, sizeof(req->err), "statistics are not available");
	}
	return r;
}

/*
 * For the commands that show the last entries of something: the --count argument (default
 * def, within 1..max) in *n and the daemon's recorder in *r.  TDNS_OK, or TDNS_EINVAL (count
 * outside) or TDNS_EAGAIN (no statistics) with a message in req.
 */
static int
count_and_recorder(struct ctl_req *req, long long def, long long max, size_t *n,
		   struct stats_recorder **r)
{
	json_t *v = json_object_get(req->args, "count");
	long long c = v != NULL ? (long long)json_integer_value(v) : def;
	if (c < 1 || c > max) {
		snprintf(req->err, sizeof(req->err), "--count must be between 1 and %lld", max);
		return TDNS_EINVAL;
	}
	*r = recorder(req);
	if (*r == NULL) {
		return TDNS_EAGAIN;
	}
	*n = (size_t)c;
	return TDNS_OK;
}

int
ctl_cmd_stats_top(struct ctl_req *req)
{
	size_t n;
	struct stats_recorder *r;
	int rc = count_and_recorder(req, TOP_DEFAULT, TOP_MAX, &n, &r);
	if (rc != TDNS_OK) {
		return rc;
	}
	/* A duration as in zone files ("5m", "1h", "90s"), or "all". */
	uint32_t range = 0;
	const char *rt = json_string_value(json_object_get(req->args, "range"));
	if (rt != NULL && strcmp(rt, "all") != 0 &&
	    (dns_ttl_parse(rt, strlen(rt), &range) != TDNS_OK || range < 15 ||
	     range > STATS_TOP_RANGE_MAX)) {
		snprintf(req->err, sizeof(req->err), "--range must be all or a duration from 15s to "
			 "1h, like 1m, 5m or 1h; got \"%s\"", rt);
		return TDNS_EINVAL;
	}
	req->data = stats_recorder_top_json(r, n, (int64_t)range);
	return req->data != NULL ? TDNS_OK : TDNS_ENOMEM;
}

/*
 * Which logs --queries and --server select: neither flag means both, or only the query log
 * when a filter is given.  Reads the filter options into f; TDNS_EINVAL with a message in req
 * when one is not understood.
 */
static int
which_logs(struct ctl_req *req, bool *queries, bool *server, struct stats_log_filter *f)
{
	memset(f, 0, sizeof(*f));
	static const char *const keys[] = { "client", "name", "type", "rcode" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = json_string_value(json_object_get(req->args, keys[i]));
		char why[200];
		if (v != NULL && stats_log_filter_parse(f, keys[i], v, why, sizeof(why)) != TDNS_OK) {
			snprintf(req->err, sizeof(req->err), "--%s: %s", keys[i], why);
			return TDNS_EINVAL;
		}
	}
	*queries = json_is_true(json_object_get(req->args, "queries"));
	*server = json_is_true(json_object_get(req->args, "server"));
	if (!*queries && !*server) {
		*queries = true;
		*server = !stats_log_filter_active(f);
	}
	return TDNS_OK;
}

int
ctl_cmd_log_show(struct ctl_req *req)
{
	size_t n;
	struct stats_recorder *r;
	int rc = count_and_recorder(req, LOG_DEFAULT, LOG_MAX, &n, &r);
	if (rc != TDNS_OK) {
		return rc;
	}
	bool queries, server;
	struct stats_log_filter f;
	rc = which_logs(req, &queries, &server, &f);
	if (rc != TDNS_OK) {
		return rc;
	}
	req->data = stats_recorder_log_json(r, n, queries, server, &f);
	return req->data != NULL ? TDNS_OK : TDNS_ENOMEM;
}

int
ctl_cmd_log_follow(struct ctl_req *req)
{
	bool queries, server;
	struct stats_log_filter f;
	int rc = which_logs(req, &queries, &server, &f);
	if (rc != TDNS_OK) {
		return rc;
	}
	if (recorder(req) == NULL) {
		return TDNS_EAGAIN;
	}
	req->data = json_pack("{s:b, s:b}", "queries", queries, "server", server);
	return req->data != NULL ? TDNS_OK : TDNS_ENOMEM;
}

/* One `log follow` client. */
struct follow {
	struct stats_recorder *r;
	struct stats_follower *f;
	struct ctl_stream *st;
};

static bool
follow_cb(void *arg, json_t *entry)
{
	struct follow *fw = arg;
	if (entry == NULL) {
		/* The recorder is going away (daemon shutdown): so does the stream. */
		fw->f = NULL;
		ctl_stream_end(fw->st);
		free(fw);
		return false;
	}
	return ctl_stream_send(fw->st, entry);
}

void *
ctl_cmd_log_follow_open(struct ctl_req *req, struct ctl_stream *st)
{
	struct stats_recorder *r = stats_recorder_get();
	struct follow *fw = calloc(1, sizeof(*fw));
	if (r == NULL || fw == NULL) {
		free(fw);
		return NULL;
	}
	bool queries, server;
	struct stats_log_filter f;
	if (which_logs(req, &queries, &server, &f) != TDNS_OK) {
		free(fw);
		return NULL;
	}
	fw->r = r;
	fw->st = st;
	fw->f = stats_recorder_follow(r, queries, server, &f, follow_cb, fw);
	if (fw->f == NULL) {
		free(fw);
		return NULL;
	}
	return fw;
}

void
ctl_cmd_log_follow_close(void *state)
{
	struct follow *fw = state;
	if (fw == NULL) {
		return;
	}
	stats_recorder_unfollow(fw->r, fw->f);
	free(fw);
}
