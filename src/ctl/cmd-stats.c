/* SPDX-License-Identifier: MIT */
/* Control commands about traffic: stats, stats top, log show and the log follow stream. */
#include <stdio.h>
#include <stdlib.h>

#include "ctl/cmd.h"
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

/* The integer argument name, default def, within 1..max; -1 with a message if outside. */
static long long
count_arg(struct ctl_req *req, const char *name, long long def, long long max)
{
	json_t *v = json_object_get(req->args, name);
	if (v == NULL) {
		return def;
	}
	long long n = (long long)json_integer_value(v);
	if (n < 1 || n > max) {
		snprintf(req->err, sizeof(req->err), "--%s must be between 1 and %lld", name, max);
		return -1;
	}
	return n;
}

int
ctl_cmd_stats_top(struct ctl_req *req)
{
	long long n = count_arg(req, "count", TOP_DEFAULT, TOP_MAX);
	if (n < 0) {
		return TDNS_EINVAL;
	}
	struct stats_recorder *r = recorder(req);
	if (r == NULL) {
		return TDNS_EAGAIN;
	}
	req->data = stats_recorder_top_json(r, (size_t)n);
	return req->data != NULL ? TDNS_OK : TDNS_ENOMEM;
}

/* Which logs --queries and --server select: neither flag means both. */
static void
which_logs(struct ctl_req *req, bool *queries, bool *server)
{
	*queries = json_is_true(json_object_get(req->args, "queries"));
	*server = json_is_true(json_object_get(req->args, "server"));
	if (!*queries && !*server) {
		*queries = *server = true;
	}
}

int
ctl_cmd_log_show(struct ctl_req *req)
{
	long long n = count_arg(req, "count", LOG_DEFAULT, LOG_MAX);
	if (n < 0) {
		return TDNS_EINVAL;
	}
	struct stats_recorder *r = recorder(req);
	if (r == NULL) {
		return TDNS_EAGAIN;
	}
	bool queries, server;
	which_logs(req, &queries, &server);
	req->data = stats_recorder_log_json(r, (size_t)n, queries, server);
	return req->data != NULL ? TDNS_OK : TDNS_ENOMEM;
}

int
ctl_cmd_log_follow(struct ctl_req *req)
{
	if (recorder(req) == NULL) {
		return TDNS_EAGAIN;
	}
	bool queries, server;
	which_logs(req, &queries, &server);
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
	which_logs(req, &queries, &server);
	fw->r = r;
	fw->st = st;
	fw->f = stats_recorder_follow(r, queries, server, follow_cb, fw);
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
