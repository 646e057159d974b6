/* SPDX-License-Identifier: MIT */
/* Control commands about the daemon itself: status and server stop (stats: cmd-stats.c). */
#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include "ctl/cmd.h"
#include "zone/zone.h"

/* Sets key in obj to v (consumed) unless the daemon's own data already has it. */
static void
set_default(json_t *obj, const char *key, json_t *v)
{
	if (json_object_get(obj, key) == NULL) {
		json_object_set_new(obj, key, v);
	} else {
		json_decref(v);
	}
}

int
ctl_cmd_status(struct ctl_req *req)
{
	struct ctl_env *env = req->env;
	json_t *data = env->status != NULL ? env->status(env->daemon) : json_object();
	if (!json_is_object(data)) {
		json_decref(data);
		snprintf(req->err, sizeof(req->err), "the daemon could not report its status");
		return TDNS_ENOMEM;
	}
	/* What the handler knows by itself; tdnsd fills uptime, workers, listeners, qps. */
	set_default(data, "version", json_string(PACKAGE_VERSION));
	set_default(data, "pid", json_integer((json_int_t)getpid()));
	if (env->zones != NULL) {
		const struct zone_set *zs = env->zones(env->daemon);
		set_default(data, "zones", json_integer((json_int_t)(zs ? zone_set_count(zs) : 0)));
	}
	if (env->cfg_path != NULL) {
		const char *path = env->cfg_path(env->daemon);
		set_default(data, "config", path != NULL ? json_string(path) : json_null());
	}
	req->data = data;
	return TDNS_OK;
}

int
ctl_cmd_server_stop(struct ctl_req *req)
{
	struct ctl_env *env = req->env;
	if (env->stop == NULL) {
		snprintf(req->err, sizeof(req->err), "this daemon cannot be stopped from here");
		return TDNS_EINVAL;
	}
	/*
	 * The daemon leaves its event loop once this callback returns; the reply queued after
	 * us is flushed by ctl_server_free before the process exits.
	 */
	env->stop(env->daemon);
	tdns_notice("control: uid %u asked the daemon to stop", (unsigned)req->uid);
	req->data = json_pack("{s:b}", "stopping", 1);
	return TDNS_OK;
}
