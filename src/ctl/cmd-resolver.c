/* SPDX-License-Identifier: MIT */
/* Control commands of the resolver: cache list, flush, delete; forwarder list, add, remove. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cfg/cfg.h"
#include "core/core.h"
#include "ctl/cmd.h"
#include "resolver/resolver.h"

/* Most entries `cache list` returns; the reply says when there were more. */
#define LIST_MAX 10000

static struct cache *
need_cache(struct ctl_req *req)
{
	struct cache *c = req->env->cache != NULL ? req->env->cache(req->env->daemon) : NULL;
	if (c == NULL) {
		snprintf(req->err, sizeof(req->err), "this tdnsd has no cache");
	}
	return c;
}

bool
ctl_cmd_arg_name(struct ctl_req *req, uint8_t *out)
{
	static const uint8_t root[1] = { 0 };
	const char *text = json_string_value(json_object_get(req->args, "name"));
	if (text == NULL) {
		return false;
	}
	int len = dns_name_from_text(text, strlen(text), root, out);
	if (len < 0) {
		snprintf(req->err, sizeof(req->err), "invalid name '%s' (%s); expected a domain name",
			 text, tdns_status_msg(len));
		return false;
	}
	return true;
}

struct list_ctx {
	json_t *arr;
	size_t n;
	bool more;
};

static int
list_cb(void *arg, const struct cache_walk_item *it)
{
	struct list_ctx *l = arg;
	if (l->n >= LIST_MAX) {
		l->more = true;
		return 1;
	}
	char name[DNS_NAME_TEXT_MAX];
	char tbuf[32];
	if (dns_name_to_text(it->name, name, sizeof(name)) < 0) {
		return 0;
	}
	const char *type = dns_type_to_text(it->qtype, tbuf);
	json_t *o = json_pack("{s:s, s:s, s:i, s:i, s:b, s:I, s:i, s:i, s:I, s:I, s:b, s:b, s:b}",
			      "name", name, "type", type, "class", it->qclass, "rcode", it->rcode,
			      "negative", it->negative, "ttl_left", (json_int_t)it->ttl_left,
			      "ttl", (int)it->ttl, "hits", (int)it->hits,
			      "size", (json_int_t)it->size, "records", (json_int_t)it->nrr,
			      "stale", it->ttl_left < 0, "dnssec_ok",
			      (it->flags & CACHE_KEY_DO) != 0, "delegation",
			      (it->flags & CACHE_KEY_DELEG) != 0);
	if (o != NULL) {
		json_array_append_new(l->arr, o);
		l->n++;
	}
	return 0;
}

int
ctl_cmd_cache_list(struct ctl_req *req)
{
	struct cache *c = need_cache(req);
	if (c == NULL) {
		return TDNS_ENOENT;
	}
	uint8_t name[DNS_NAME_MAX];
	bool have = json_object_get(req->args, "name") != NULL;
	if (have && !ctl_cmd_arg_name(req, name)) {
		return TDNS_EINVAL;
	}
	struct list_ctx l = { .arr = json_array() };
	(void)cache_walk(c, have ? name : NULL, cache_now(), list_cb, &l);
	struct cache_stats st;
	cache_stats(c, &st);
	req->data = json_pack("{s:o, s:b, s:I, s:I, s:I, s:I, s:I}", "entries", l.arr,
			      "truncated", l.more, "total", (json_int_t)st.entries,
			      "bytes", (json_int_t)st.bytes, "max_bytes", (json_int_t)st.max_bytes,
			      "hits", (json_int_t)st.hits, "misses", (json_int_t)st.misses);
	return TDNS_OK;
}

int
ctl_cmd_cache_flush(struct ctl_req *req)
{
	struct cache *c = need_cache(req);
	if (c == NULL) {
		return TDNS_ENOENT;
	}
	req->data = json_pack("{s:I}", "removed", (json_int_t)cache_flush(c));
	return TDNS_OK;
}

int
ctl_cmd_cache_delete(struct ctl_req *req)
{
	struct cache *c = need_cache(req);
	if (c == NULL) {
		return TDNS_ENOENT;
	}
	uint8_t name[DNS_NAME_MAX];
	if (!ctl_cmd_arg_name(req, name)) {
		return TDNS_EINVAL;
	}
	req->data = json_pack("{s:I}", "removed", (json_int_t)cache_delete(c, name));
	return TDNS_OK;
}

/* ---- forwarders --------------------------------------------------------------------------- */

int
ctl_cmd_forwarder_list(struct ctl_req *req)
{
	struct resolver_conf *rc = req->env->resolver != NULL
					   ? req->env->resolver(req->env->daemon) : NULL;
	json_t *arr = json_array();
	for (size_t i = 0; rc != NULL && i < rc->nups; i++) {
		struct resolver_upstream *u = &rc->ups[i];
		char zone[DNS_NAME_TEXT_MAX] = "";
		for (size_t z = 0; z < rc->nzones; z++) {
			const struct resolver_servers *s = &rc->zones[z].servers;
			if (i >= s->first && i < s->first + s->n && s->first >= rc->global.n) {
				(void)dns_name_to_text(rc->zones[z].apex, zone, sizeof(zone));
			}
		}
		uint32_t fails = __atomic_load_n(&u->fails, __ATOMIC_RELAXED);
		json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:s, s:I, s:I, s:I, s:I, s:i, s:i, s:s}",
			"server", u->spec, "transport", client_proto_name(u->srv.proto),
			"address", u->srv.addr, "port", u->srv.port, "zone", zone[0] ? zone : ".",
			"queries", (json_int_t)__atomic_load_n(&u->queries, __ATOMIC_RELAXED),
			"answers", (json_int_t)__atomic_load_n(&u->answers, __ATOMIC_RELAXED),
			"timeouts", (json_int_t)__atomic_load_n(&u->timeouts, __ATOMIC_RELAXED),
			"errors", (json_int_t)__atomic_load_n(&u->errors, __ATOMIC_RELAXED),
			"rtt_ms", (int)__atomic_load_n(&u->srtt_ms, __ATOMIC_RELAXED),
			"failures", (int)fails, "health", fails == 0 ? "up" : fails < 3 ? "degraded"
											: "down");
		if (o != NULL) {
			json_array_append_new(arr, o);
		}
	}
	req->data = json_pack("{s:o, s:s}", "forwarders", arr, "mode",
			      rc != NULL && rc->forward_mode == CFG_FORWARD_SEQUENTIAL
				      ? "sequential" : "concurrent");
	return TDNS_OK;
}

/* Appends or removes url in the list text; returns the new list (caller frees) or NULL. */
static char *
edit_list(const char *list, const char *url, bool add, bool *found)
{
	size_t cap = strlen(list) + strlen(url) + 4;
	char *out = tdns_xmalloc(cap);
	out[0] = '\0';
	char *copy = tdns_xstrdup(list);
	*found = false;
	struct client_server want;
	char err[128];
	bool want_ok = client_server_parse(url, &want, err, sizeof(err)) == CLIENT_OK;
	for (char *p = strtok(copy, ","); p != NULL; p = strtok(NULL, ",")) {
		while (*p == ' ' || *p == '\t') {
			p++;
		}
		size_t len = strlen(p);
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t')) {
			p[--len] = '\0';
		}
		if (len == 0) {
			continue;
		}
		struct client_server have;
		bool same = strcmp(p, url) == 0;
		if (!same && want_ok && client_server_parse(p, &have, err, sizeof(err)) == CLIENT_OK) {
			same = have.proto == want.proto && have.port == want.port &&
			       strcasecmp(have.name, want.name) == 0 &&
			       strcmp(have.addr, want.addr) == 0 && strcmp(have.path, want.path) == 0;
		}
		if (same) {
			*found = true;
			if (!add) {
				continue;
			}
		}
		size_t off = strlen(out);
		snprintf(out + off, cap - off, "%s%s", off ? ", " : "", p);
	}
	if (add && !*found) {
		size_t off = strlen(out);
		snprintf(out + off, cap - off, "%s%s", off ? ", " : "", url);
	}
	free(copy);
	return out;
}

static int
forwarder_change(struct ctl_req *req, bool add)
{
	struct ctl_env *env = req->env;
	const char *path = ctl_config_file(req, "forwarders");
	const char *url = json_string_value(json_object_get(req->args, "url"));
	if (path == NULL) {
		return TDNS_EINVAL;
	}
	if (url == NULL) {
		snprintf(req->err, sizeof(req->err), "missing URL");
		return TDNS_EINVAL;
	}
	struct client_server srv;
	char msg[256];
	if (client_server_parse(url, &srv, msg, sizeof(msg)) != CLIENT_OK) {
		snprintf(req->err, sizeof(req->err), "invalid forwarder '%s': %s", url, msg);
		return TDNS_EINVAL;
	}
	const struct cfg *c = env->cfg(env->daemon);
	bool found;
	char *list = edit_list(c->forwarders != NULL ? c->forwarders : "", url, add, &found);
	if (add && found) {
		snprintf(req->err, sizeof(req->err), "forwarder %s is already configured", url);
		free(list);
		return TDNS_EEXIST;
	}
	if (!add && !found) {
		snprintf(req->err, sizeof(req->err), "no forwarder %s in [forwarders] servers", url);
		free(list);
		return TDNS_ENOENT;
	}
	char *file = tdns_xstrdup(path);
	/* Written, checked by loading, then applied with a reload, as `config set` does. */
	int rc = cfg_write_set(file, "forwarders.servers", list, req->err, sizeof(req->err));
	if (rc == TDNS_OK) {
		char err[768];
		rc = env->reload(env->daemon, err, sizeof(err));
		if (rc != TDNS_OK) {
			snprintf(req->err, sizeof(req->err), "%.200s was changed, but the reload "
				 "failed: %s", file, err);
		}
	}
	if (rc == TDNS_OK) {
		req->data = json_pack("{s:s, s:s, s:s}", "servers", list, "file", file,
				      add ? "added" : "removed", url);
	}
	free(file);
	free(list);
	return rc;
}

int
ctl_cmd_forwarder_add(struct ctl_req *req)
{
	return forwarder_change(req, true);
}

int
ctl_cmd_forwarder_remove(struct ctl_req *req)
{
	return forwarder_change(req, false);
}
