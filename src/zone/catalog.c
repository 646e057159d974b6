/* SPDX-License-Identifier: MIT */
/* The zone catalog: run-time zones and enabled/disabled states, kept in state-dir/catalog.json. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "zone/zone.h"

/*
 * The file is one JSON object, small enough to rewrite whole on every change:
 *   {"version": 1, "zones": [{"name": "example.org.", "type": "primary",
 *     "file": "/var/lib/tdns/example.org.zone", "runtime": true, "disabled": false}]}
 */
#define CATALOG_FILE "catalog.json"
#define CATALOG_VERSION 1

struct zone_catalog {
	char *path;                       /* state_dir/catalog.json */
	struct zone_catalog_entry *v;
	size_t n;
	size_t cap;
};

static void
entry_clear(struct zone_catalog_entry *e)
{
	free(e->name);
	free(e->type);
	free(e->file);
	free(e->primaries);
}

/* Deep copy of e into out, with the name derived from the apex when absent. */
static int
entry_copy(const struct zone_catalog_entry *e, struct zone_catalog_entry *out)
{
	memset(out, 0, sizeof(*out));
	char text[DNS_NAME_TEXT_MAX];
	if (e->name == NULL && dns_name_to_text(e->apex, text, sizeof(text)) < 0) {
		return TDNS_EINVAL;
	}
	memcpy(out->apex, e->apex, dns_name_len(e->apex));
	out->name = strdup(e->name != NULL ? e->name : text);
	out->type = strdup(e->type != NULL ? e->type : "primary");
	out->file = e->file != NULL ? strdup(e->file) : NULL;
	out->primaries = e->primaries != NULL ? strdup(e->primaries) : NULL;
	out->runtime = e->runtime;
	out->disabled = e->disabled;
	if (out->name == NULL || out->type == NULL || (e->file != NULL && out->file == NULL) ||
	    (e->primaries != NULL && out->primaries == NULL)) {
		entry_clear(out);
		return TDNS_ENOMEM;
	}
	return TDNS_OK;
}

static ssize_t
find_index(const struct zone_catalog *c, const uint8_t *apex)
{
	for (size_t i = 0; i < c->n; i++) {
		if (dns_name_eq(c->v[i].apex, apex)) {
			return (ssize_t)i;
		}
	}
	return -1;
}

/* ------------------------------------------------------------------------------------------ */
/* Reading                                                                                     */

/* One entry from its JSON object; a message in err when a member is missing or wrong. */
static int
entry_parse(json_t *o, size_t idx, struct zone_catalog_entry *out, char *err, size_t errlen)
{
	json_t *name = json_object_get(o, "name");
	json_t *type = json_object_get(o, "type");
	json_t *file = json_object_get(o, "file");
	json_t *runtime = json_object_get(o, "runtime");
	json_t *disabled = json_object_get(o, "disabled");
	json_t *prim = json_object_get(o, "primaries");
	const char *bad = NULL;
	if (!json_is_string(name)) {
		bad = "\"name\" (a string)";
	} else if (type != NULL && !json_is_string(type)) {
		bad = "\"type\" (a string)";
	} else if (file != NULL && !json_is_null(file) && !json_is_string(file)) {
		bad = "\"file\" (a string)";
	} else if (runtime != NULL && !json_is_boolean(runtime)) {
		bad = "\"runtime\" (true or false)";
	} else if (disabled != NULL && !json_is_boolean(disabled)) {
		bad = "\"disabled\" (true or false)";
	} else if (prim != NULL && !json_is_string(prim)) {
		bad = "\"primaries\" (a string)";
	}
	if (bad != NULL) {
		snprintf(err, errlen, "zone %zu: missing or wrong %s", idx, bad);
		return TDNS_EMALFORMED;
	}
	struct zone_catalog_entry e = {
		.name = (char *)json_string_value(name),
		.type = type != NULL ? (char *)json_string_value(type) : NULL,
		.file = json_is_string(file) ? (char *)json_string_value(file) : NULL,
		.runtime = runtime != NULL && json_is_true(runtime),
		.disabled = disabled != NULL && json_is_true(disabled),
		.primaries = prim != NULL ? (char *)json_string_value(prim) : NULL,
	};
	const char *s = e.name;
	int len = dns_name_from_text(s, strlen(s), (const uint8_t *)"", e.apex);
	if (len < 0) {
		snprintf(err, errlen, "zone %zu: bad name '%s': %s", idx, s, tdns_status_msg(len));
		return TDNS_EMALFORMED;
	}
	int rc = entry_copy(&e, out);
	if (rc != TDNS_OK) {
		snprintf(err, errlen, "%s", tdns_status_msg(rc));
	}
	return rc;
}

static int
catalog_parse(struct zone_catalog *c, json_t *doc, char *err, size_t errlen)
{
	json_t *version = json_object_get(doc, "version");
	json_t *zones = json_object_get(doc, "zones");
	if (!json_is_object(doc) || !json_is_integer(version) || !json_is_array(zones)) {
		snprintf(err, errlen, "expected {\"version\": %d, \"zones\": [...]}",
			 CATALOG_VERSION);
		return TDNS_EMALFORMED;
	}
	if (json_integer_value(version) != CATALOG_VERSION) {
		snprintf(err, errlen, "unsupported version %lld (this tdnsd reads version %d)",
			 (long long)json_integer_value(version), CATALOG_VERSION);
		return TDNS_EMALFORMED;
	}
	size_t count = json_array_size(zones);
	c->v = calloc(count ? count : 1, sizeof(*c->v));
	if (c->v == NULL) {
		snprintf(err, errlen, "%s", tdns_status_msg(TDNS_ENOMEM));
		return TDNS_ENOMEM;
	}
	c->cap = count ? count : 1;
	for (size_t i = 0; i < count; i++) {
		json_t *o = json_array_get(zones, i);
		if (!json_is_object(o)) {
			snprintf(err, errlen, "zone %zu: not an object", i);
			return TDNS_EMALFORMED;
		}
		struct zone_catalog_entry e;
		int rc = entry_parse(o, i, &e, err, errlen);
		if (rc != TDNS_OK) {
			return rc;
		}
		if (find_index(c, e.apex) >= 0) {
			snprintf(err, errlen, "zone %zu: %s is listed twice", i, e.name);
			entry_clear(&e);
			return TDNS_EMALFORMED;
		}
		c->v[c->n++] = e;
	}
	return TDNS_OK;
}

int
zone_catalog_load(const char *state_dir, struct zone_catalog **out, char *err, size_t errlen)
{
	*out = NULL;
	struct zone_catalog *c = calloc(1, sizeof(*c));
	size_t len = strlen(state_dir) + sizeof("/" CATALOG_FILE);
	if (c == NULL || (c->path = malloc(len)) == NULL) {
		free(c);
		snprintf(err, errlen, "%s", tdns_status_msg(TDNS_ENOMEM));
		return TDNS_ENOMEM;
	}
	snprintf(c->path, len, "%s/" CATALOG_FILE, state_dir);
	FILE *f = fopen(c->path, "r");
	if (f == NULL) {
		if (errno == ENOENT) {
			/* No run-time zones yet: the first change creates the file. */
			*out = c;
			return TDNS_OK;
		}
		snprintf(err, errlen, "%s: %s", c->path, strerror(errno));
		zone_catalog_free(c);
		return TDNS_EIO;
	}
	json_error_t je;
	json_t *doc = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
	fclose(f);
	if (doc == NULL) {
		snprintf(err, errlen, "%s:%d: not valid JSON: %s", c->path, je.line, je.text);
		zone_catalog_free(c);
		return TDNS_EMALFORMED;
	}
	char msg[512];
	int rc = catalog_parse(c, doc, msg, sizeof(msg));
	json_decref(doc);
	if (rc != TDNS_OK) {
		snprintf(err, errlen, "%s: %s", c->path, msg);
		zone_catalog_free(c);
		return rc;
	}
	*out = c;
	return TDNS_OK;
}

void
zone_catalog_free(struct zone_catalog *c)
{
	if (c == NULL) {
		return;
	}
	for (size_t i = 0; i < c->n; i++) {
		entry_clear(&c->v[i]);
	}
	free(c->v);
	free(c->path);
	free(c);
}

size_t
zone_catalog_count(const struct zone_catalog *c)
{
	return c != NULL ? c->n : 0;
}

const struct zone_catalog_entry *
zone_catalog_get(const struct zone_catalog *c, size_t i)
{
	return c != NULL && i < c->n ? &c->v[i] : NULL;
}

const struct zone_catalog_entry *
zone_catalog_find(const struct zone_catalog *c, const uint8_t *apex)
{
	if (c == NULL) {
		return NULL;
	}
	ssize_t i = find_index(c, apex);
	return i >= 0 ? &c->v[i] : NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Writing                                                                                     */

static json_t *
entry_json(const struct zone_catalog_entry *e)
{
	json_t *o = json_pack("{s:s, s:s, s:s?, s:b, s:b}", "name", e->name, "type", e->type,
			      "file", e->file, "runtime", e->runtime, "disabled", e->disabled);
	if (o != NULL && e->primaries != NULL &&
	    json_object_set_new(o, "primaries", json_string(e->primaries)) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/*
 * Writes the catalog as it will be after the change: entries of c except skip (an index, or
 * -1), with add (may be NULL) in place of skip or at the end.  The file is replaced
 * atomically: a crash leaves either the old or the new catalog, never a mix.
 */
static int
catalog_write(const struct zone_catalog *c, ssize_t skip, const struct zone_catalog_entry *add)
{
	json_t *zones = json_array();
	json_t *doc = json_pack("{s:i, s:o}", "version", CATALOG_VERSION, "zones", zones);
	if (doc == NULL) {
		return TDNS_ENOMEM;
	}
	int rc = TDNS_ENOMEM;
	for (size_t i = 0; i < c->n; i++) {
		const struct zone_catalog_entry *e = (ssize_t)i == skip ? add : &c->v[i];
		if (e != NULL && json_array_append_new(zones, entry_json(e)) != 0) {
			goto out;
		}
	}
	if (skip < 0 && add != NULL && json_array_append_new(zones, entry_json(add)) != 0) {
		goto out;
	}
	char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (text == NULL) {
		goto out;
	}
	size_t plen = strlen(c->path);
	char *tmp = malloc(plen + 5);
	if (tmp == NULL) {
		free(text);
		goto out;
	}
	memcpy(tmp, c->path, plen);
	memcpy(tmp + plen, ".tmp", 5);
	rc = TDNS_EIO;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd >= 0) {
		bool ok = tdns_write_all(fd, text, strlen(text)) && tdns_write_all(fd, "\n", 1) &&
			  fsync(fd) == 0;
		ok = close(fd) == 0 && ok;
		if (ok && rename(tmp, c->path) == 0) {
			/* The rename is durable only once the directory is (DESIGN.md). */
			rc = tdns_fsync_parent(c->path);
		} else {
			unlink(tmp);
		}
	}
	free(tmp);
	free(text);
out:
	json_decref(doc);
	return rc;
}

int
zone_catalog_put(struct zone_catalog *c, const struct zone_catalog_entry *e)
{
	struct zone_catalog_entry copy;
	int rc = entry_copy(e, &copy);
	if (rc != TDNS_OK) {
		return rc;
	}
	ssize_t i = find_index(c, copy.apex);
	if (i < 0 && c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 8;
		struct zone_catalog_entry *v = realloc(c->v, cap * sizeof(*v));
		if (v == NULL) {
			entry_clear(&copy);
			return TDNS_ENOMEM;
		}
		c->v = v;
		c->cap = cap;
	}
	rc = catalog_write(c, i, &copy);
	if (rc != TDNS_OK) {
		entry_clear(&copy);
		return rc;
	}
	if (i >= 0) {
		entry_clear(&c->v[i]);
		c->v[i] = copy;
	} else {
		c->v[c->n++] = copy;
	}
	return TDNS_OK;
}

int
zone_catalog_remove(struct zone_catalog *c, const uint8_t *apex)
{
	ssize_t i = find_index(c, apex);
	if (i < 0) {
		return TDNS_ENOENT;
	}
	int rc = catalog_write(c, i, NULL);
	if (rc != TDNS_OK) {
		return rc;
	}
	entry_clear(&c->v[i]);
	memmove(&c->v[i], &c->v[i + 1], (c->n - (size_t)i - 1) * sizeof(*c->v));
	c->n--;
	return TDNS_OK;
}
