/* SPDX-License-Identifier: MIT */
/* Control commands config show, get, set and reload. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg/cfg.h"
#include "ctl/cmd.h"
#include "zone/zone.h"

/* Appends s to the growing string *text. */
static void
append(char **text, size_t *len, const char *s)
{
	size_t n = strlen(s);
	*text = tdns_xrealloc(*text, *len + n + 1);
	memcpy(*text + *len, s, n + 1);
	*len += n;
}

/*
 * One section of `config show` (instance inst of a named one): its keys into sections, keys
 * and the INI-like text.
 */
static void
show_section(const struct cfg *c, const char *section, size_t inst, json_t *sections,
	     json_t *keys, char **text, size_t *len)
{
	const char *name;
	cfg_instances(c, section, inst, &name);
	char label[DNS_NAME_TEXT_MAX + 40];
	char prefix[DNS_NAME_TEXT_MAX + 40];
	if (name != NULL) {
		snprintf(label, sizeof(label), "%s %s", section, name);
		snprintf(prefix, sizeof(prefix), "%s.%s.", section, name);
	} else {
		snprintf(label, sizeof(label), "%s", section);
		snprintf(prefix, sizeof(prefix), "%s.", section);
	}
	json_t *obj = json_object();
	append(text, len, *len > 0 ? "\n[" : "[");
	append(text, len, label);
	append(text, len, "]\n");
	for (const struct cfg_key *k = cfg_keys(); k->key != NULL; k++) {
		if (strcmp(k->section, section) != 0) {
			continue;
		}
		char *v = cfg_value_text(c, k, inst);
		if (v == NULL) {
			continue;
		}
		json_object_set_new(obj, k->key, json_string(v));
		char full[DNS_NAME_TEXT_MAX + 64];
		snprintf(full, sizeof(full), "%s%s", prefix, k->key);
		/* A derived default ([zone] file) depends on the instance: no verdict. */
		json_t *is_def = (k->flags & CFG_KEY_DERIVED) ? json_null() :
				 json_boolean(strcmp(v, k->def) == 0);
		json_array_append_new(keys, json_pack("{s:s, s:s, s:o}", "key", full, "value", v,
						      "default", is_def));
		append(text, len, k->key);
		append(text, len, " = ");
		append(text, len, v);
		append(text, len, "\n");
		free(v);
	}
	json_object_set_new(sections, label, obj);
}

/*
 * data: {"file": path or null, "sections": {"server": {"listen": "..."}, ...,
 * "zone example.com": {...}}, "keys": [{"key": "server.listen", "value": "...",
 * "default": true}, ...], "text": INI-like lines}.  Every section of the schema in its order,
 * then each instance of a named section.
 */
int
ctl_cmd_config_show(struct ctl_req *req)
{
	const struct cfg *c = req->env->cfg(req->env->daemon);
	const char *path = req->env->cfg_path(req->env->daemon);
	json_t *sections = json_object();
	json_t *keys = json_array();
	char *text = NULL;
	size_t len = 0;
	const char *prev = "";

	append(&text, &len, "");
	for (const struct cfg_key *k = cfg_keys(); k->key != NULL; k++) {
		/* Keys of one section stand together in cfg_keys(). */
		if (strcmp(k->section, prev) == 0) {
			continue;
		}
		prev = k->section;
		size_t n = cfg_instances(c, k->section, 0, NULL);
		for (size_t i = 0; i < n; i++) {
			show_section(c, k->section, i, sections, keys, &text, &len);
		}
	}
	req->data = json_pack("{s:o, s:o, s:o, s:s}", "file",
			      path != NULL ? json_string(path) : json_null(), "sections", sections,
			      "keys", keys, "text", text);
	free(text);
	return TDNS_OK;
}

int
ctl_cmd_config_get(struct ctl_req *req)
{
	const struct cfg *c = req->env->cfg(req->env->daemon);
	const char *key = json_string_value(json_object_get(req->args, "key"));
	char *value = NULL;
	int rc = cfg_get(c, key, &value, req->err, sizeof(req->err));
	if (rc != TDNS_OK) {
		return rc;
	}
	req->data = json_pack("{s:s, s:s}", "key", key, "value", value);
	free(value);
	return TDNS_OK;
}

/*
 * cfg_write_set_check's check: every zone of the new configuration whose file is not one the
 * running configuration already serves must load, so that `config set zone.X.file` never
 * points a zone at a file that the reload would refuse.
 */
static int
check_zones(const struct cfg *nc, void *arg, char *err, size_t errlen)
{
	const struct cfg *old = arg;
	for (size_t i = 0; i < nc->nzones; i++) {
		const struct cfg_zone *z = &nc->zones[i];
		bool same = false;
		for (size_t j = 0; j < old->nzones && !same; j++) {
			same = dns_name_eq(old->zones[j].apex, z->apex) &&
			       strcmp(old->zones[j].file, z->file) == 0;
		}
		if (same) {
			continue;
		}
		struct zone *zn = NULL;
		char msg[768];
		int rc = zone_load(z->apex, z->file, &zn, msg, sizeof(msg));
		zone_free(zn);
		if (rc != TDNS_OK) {
			snprintf(err, errlen, "zone %s: %s", z->name, msg);
			return rc;
		}
	}
	return TDNS_OK;
}

/* The words of value joined with single spaces. */
static char *
join_words(const json_t *words)
{
	char *s = NULL;
	size_t len = 0;
	size_t i;
	const json_t *w;
	append(&s, &len, "");
	json_array_foreach(words, i, w) {
		if (i > 0) {
			append(&s, &len, " ");
		}
		append(&s, &len, json_string_value(w) != NULL ? json_string_value(w) : "");
	}
	return s;
}

/*
 * Validates and writes first (cfg_write_set_check: the changed file must load, and its new
 * zone files too), then reloads, so a bad value changes nothing and the reload cannot fail
 * on the file's syntax.  data: {"key", "value" (as the reloaded server now has it), "file"}.
 */
const char *
ctl_config_file(struct ctl_req *req, const char *what)
{
	const char *path = req->env->cfg_path(req->env->daemon);
	if (path == NULL) {
		snprintf(req->err, sizeof(req->err), "tdnsd runs with the built-in defaults, "
			 "without a configuration file; start it with -c FILE to change %s", what);
	}
	return path;
}

int
ctl_cmd_config_set(struct ctl_req *req)
{
	struct ctl_env *env = req->env;
	const char *path = ctl_config_file(req, "settings");
	const char *key = json_string_value(json_object_get(req->args, "key"));
	if (path == NULL) {
		return TDNS_EINVAL;
	}
	char *value = join_words(json_object_get(req->args, "value"));
	char *file = tdns_xstrdup(path);
	/* The running configuration is freed by the reload below: used only before it. */
	const struct cfg *old = env->cfg(env->daemon);
	int rc = cfg_write_set_check(file, key, value, check_zones, (void *)old, req->err,
				     sizeof(req->err));
	free(value);
	if (rc != TDNS_OK) {
		free(file);
		return rc;
	}
	char err[768];
	rc = env->reload(env->daemon, err, sizeof(err));
	if (rc != TDNS_OK) {
		snprintf(req->err, sizeof(req->err), "%.200s was changed, but the reload failed: "
			 "%s", file, err);
		free(file);
		return rc;
	}
	char *now = NULL;
	rc = cfg_get(env->cfg(env->daemon), key, &now, req->err, sizeof(req->err));
	if (rc != TDNS_OK) {
		free(file);
		return rc;
	}
	req->data = json_pack("{s:s, s:s, s:s}", "key", key, "value", now, "file", file);
	free(now);
	free(file);
	return TDNS_OK;
}

int
ctl_cmd_config_reload(struct ctl_req *req)
{
	struct ctl_env *env = req->env;
	int rc = env->reload(env->daemon, req->err, sizeof(req->err));
	if (rc != TDNS_OK) {
		return rc;
	}
	const char *path = env->cfg_path(env->daemon);
	req->data = json_pack("{s:o, s:I}", "file", path != NULL ? json_string(path) : json_null(),
			      "zones", (json_int_t)zone_set_count(env->zones(env->daemon)));
	return TDNS_OK;
}
