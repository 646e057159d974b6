/* SPDX-License-Identifier: MIT */
/* The `zone ...` control commands, and the find / edit / commit steps every zone change shares. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cfg/cfg.h"
#include "ctl/cmd-zone.h"
#include "resolver/resolver.h"

/* SOA timers of a zone made by `zone create`: refresh, retry, expire, minimum (RFC 1912 §2.2). */
#define NEW_ZONE_TTL 3600
#define NEW_ZONE_TIMERS "3600 900 1209600 300"

int
ctl_zone_fail(struct ctl_req *req, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(req->err, sizeof(req->err), fmt, ap);
	va_end(ap);
	req->status = status;
	return status;
}

static const struct cfg *
env_cfg(const struct ctl_req *req)
{
	return req->env->cfg(req->env->daemon);
}

static struct zone_catalog *
env_catalog(const struct ctl_req *req)
{
	return req->env->catalog != NULL ? req->env->catalog(req->env->daemon) : NULL;
}

static const struct zone_set *
env_zones(const struct ctl_req *req)
{
	return req->env->zones(req->env->daemon);
}

static const char *
arg_str(const struct ctl_req *req, const char *name)
{
	return json_string_value(json_object_get(req->args, name));
}

/* ------------------------------------------------------------------------------------------ */
/* Finding zones                                                                               */

int
ctl_zone_parse_name(struct ctl_req *req, const char *text, uint8_t *apex)
{
	if (text == NULL || text[0] == '\0') {
		return ctl_zone_fail(req, TDNS_EBADTEXT, "empty zone name");
	}
	/* People write "example.com": every zone name is absolute, so the origin is the root. */
	int len = dns_name_from_text(text, strlen(text), (const uint8_t *)"", apex);
	if (len < 0) {
		return ctl_zone_fail(req, TDNS_EBADTEXT, "bad zone name '%s': %s", text,
				     tdns_status_msg(len));
	}
	return TDNS_OK;
}

static void
ref_fill(struct ctl_req *req, const uint8_t *apex, const struct cfg_zone *cz,
	 const struct zone_catalog_entry *ce, struct ctl_zone_ref *out)
{
	/* apex may be out->apex (a refresh after a change). */
	uint8_t lower[DNS_NAME_MAX];
	memcpy(lower, apex, dns_name_len(apex));
	memset(out, 0, sizeof(*out));
	memcpy(out->apex, lower, dns_name_len(lower));
	apex = out->apex;
	dns_name_lower(lower);
	if (dns_name_to_text(lower, out->name, sizeof(out->name)) < 0) {
		strcpy(out->name, "?");
	}
	out->cz = cz;
	out->ce = ce;
	out->runtime = cz == NULL;
	out->file = cz != NULL ? cz->file : ce != NULL ? ce->file : NULL;
	out->disabled = ce != NULL && ce->disabled;
	out->served = zone_set_find(env_zones(req), apex);
	out->secs = req->env->secondaries != NULL ? req->env->secondaries(req->env->daemon) : NULL;
}

static const struct cfg_zone *
cfg_zone_of(const struct cfg *c, const uint8_t *apex)
{
	for (size_t i = 0; c != NULL && i < c->nzones; i++) {
		if (dns_name_eq(c->zones[i].apex, apex)) {
			return &c->zones[i];
		}
	}
	return NULL;
}

/* The zone's type as configured or created: "primary" or "forwarder". */
static const char *
ref_type(const struct ctl_zone_ref *zr)
{
	return zr->cz != NULL && zr->cz->type != NULL ? zr->cz->type
	       : zr->ce != NULL && zr->ce->type != NULL ? zr->ce->type : "primary";
}

/* Reads zr's zone from path the way the daemon reads a zone of its type. */
static int
load_file(const struct ctl_zone_ref *zr, const char *path, struct zone **out, char *err,
	  size_t errlen)
{
	if (strcmp(ref_type(zr), "forwarder") == 0) {
		return zone_load_forwarder(zr->apex, path, out, err, errlen);
	}
	return zone_load(zr->apex, path, out, err, errlen);
}

int
ctl_zone_find(struct ctl_req *req, const char *text, struct ctl_zone_ref *out)
{
	uint8_t apex[DNS_NAME_MAX];
	int rc = ctl_zone_parse_name(req, text, apex);
	if (rc != TDNS_OK) {
		return rc;
	}
	const struct cfg_zone *cz = cfg_zone_of(env_cfg(req), apex);
	const struct zone_catalog_entry *ce = zone_catalog_find(env_catalog(req), apex);
	if (cz == NULL && (ce == NULL || !ce->runtime)) {
		return ctl_zone_fail(req, TDNS_ENOZONE, "no such zone: %s", text);
	}
	ref_fill(req, apex, cz, ce, out);
	return TDNS_OK;
}

int
ctl_zone_current(struct ctl_req *req, const struct ctl_zone_ref *zr, const struct zone **out,
		 struct zone **loaded)
{
	*loaded = NULL;
	*out = zr->served;
	if (zr->served != NULL) {
		return TDNS_OK;
	}
	if (zr->file == NULL) {
		return ctl_zone_fail(req, TDNS_EINVAL, "zone %s has no zone file", zr->name);
	}
	char err[1024];
	int rc = load_file(zr, zr->file, loaded, err, sizeof(err));
	if (rc != TDNS_OK) {
		return ctl_zone_fail(req, rc, "%s", err);
	}
	*out = *loaded;
	return TDNS_OK;
}

int
ctl_zone_edit(struct ctl_req *req, const struct ctl_zone_ref *zr, struct zone **out)
{
	*out = NULL;
	const struct zone *cur;
	struct zone *loaded;
	int rc = ctl_zone_current(req, zr, &cur, &loaded);
	if (rc != TDNS_OK) {
		return rc;
	}
	if (loaded != NULL) {
		/* Read from the file for this change only: already private. */
		*out = loaded;
		return TDNS_OK;
	}
	*out = zone_clone(cur);
	if (*out == NULL) {
		return ctl_zone_fail(req, TDNS_ENOMEM, "zone %s: out of memory", zr->name);
	}
	return TDNS_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Serials                                                                                     */

bool
ctl_zone_serial_gt(uint32_t a, uint32_t b)
{
	/* RFC 1982 §3.2 with SERIAL_BITS 32; the undefined midpoint counts as not greater. */
	return a != b && (uint32_t)(a - b) < 0x80000000u;
}

uint32_t
ctl_zone_next_serial(unsigned policy, uint32_t old)
{
	uint32_t want = old + 1; /* RFC 1982 §3.1: addition modulo 2^32 */
	time_t now = time(NULL);
	if (policy == CFG_SERIAL_DATE) {
		struct tm tm;
		gmtime_r(&now, &tm);
		uint32_t date = (uint32_t)(tm.tm_year + 1900) * 1000000u +
				(uint32_t)(tm.tm_mon + 1) * 10000u + (uint32_t)tm.tm_mday * 100u;
		if (ctl_zone_serial_gt(date, old)) {
			want = date;
		}
	} else if (policy == CFG_SERIAL_UNIXTIME) {
		if (ctl_zone_serial_gt((uint32_t)now, old)) {
			want = (uint32_t)now;
		}
	}
	return want;
}

static const struct zone_rrset *
apex_soa(const struct zone *z, const uint8_t **rd, uint16_t *rdlen)
{
	const struct zone_rrset *soa = zone_node_rrset(z->apex_node, DNS_TYPE_SOA);
	if (soa == NULL || soa->count == 0) {
		return NULL;
	}
	zone_rdata_next(soa->data, rd, rdlen);
	return *rdlen >= 20 ? soa : NULL;
}

uint32_t
ctl_zone_serial(const struct zone *z)
{
	const uint8_t *rd;
	uint16_t rdlen;
	if (apex_soa(z, &rd, &rdlen) == NULL) {
		return 0;
	}
	/* SERIAL is the first of the five counters after the two names. */
	return tdns_get32(rd + rdlen - 20);
}

int
ctl_zone_set_serial(struct zone *z, uint32_t serial)
{
	const uint8_t *rd;
	uint16_t rdlen;
	const struct zone_rrset *soa = apex_soa(z, &rd, &rdlen);
	if (soa == NULL) {
		return TDNS_ENOSOA;
	}
	if (soa->count != 1) {
		return TDNS_EMULTISOA;
	}
	uint32_t ttl = soa->ttl;
	uint8_t copy[DNS_RDATA_MAX];
	memcpy(copy, rd, rdlen);
	tdns_put32(copy + rdlen - 20, serial);
	int rc = zone_remove_rr(z, z->apex, DNS_TYPE_SOA, NULL, 0);
	if (rc == TDNS_OK) {
		rc = zone_add_rr(z, z->apex, DNS_TYPE_SOA, ttl, copy, rdlen);
	}
	return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Committing a change                                                                         */

/*
 * A new set with z in place of the zone at apex (z NULL: without it) and every other zone of
 * cur shared by reference.  Takes ownership of z.  NULL on out of memory.
 */
static struct zone_set *
set_replace(const struct zone_set *cur, const uint8_t *apex, struct zone *z)
{
	struct zone_set *s = zone_set_new();
	if (s == NULL) {
		zone_free(z);
		return NULL;
	}
	for (size_t i = 0; i < zone_set_count(cur); i++) {
		/* Published zones are never changed, only counted: the cast is for zone_ref. */
		struct zone *o = (struct zone *)zone_set_get(cur, i);
		if (dns_name_eq(o->apex, apex)) {
			continue;
		}
		if (zone_set_add(s, zone_ref(o)) != TDNS_OK) {
			zone_free(o);
			zone_free(z);
			zone_set_free(s);
			return NULL;
		}
	}
	if (z != NULL && zone_set_add(s, z) != TDNS_OK) {
		zone_free(z);
		zone_set_free(s);
		return NULL;
	}
	return s;
}

int
ctl_zone_commit(struct ctl_req *req, const struct ctl_zone_ref *zr, struct zone *z,
		uint32_t *serial)
{
	if (strcmp(ref_type(zr), "secondary") == 0) {
		/* Issue 17: the next transfer would undo it; changes are made at the primary. */
		zone_free(z);
		return ctl_zone_fail(req, TDNS_EINVAL, "zone %s is a secondary zone: change it at "
				     "its primary; nothing changed", zr->name);
	}
	char problem[1024];
	int rc = zone_check_msg(z, problem, sizeof(problem));
	if (rc != TDNS_OK) {
		zone_free(z);
		return ctl_zone_fail(req, rc, "zone %s: %s; nothing changed", zr->name, problem);
	}
	if (serial != NULL) {
		*serial = z->serial;
	}
	if (zr->file == NULL) {
		zone_free(z);
		return ctl_zone_fail(req, TDNS_EINVAL, "zone %s has no zone file", zr->name);
	}
	if (z->file == NULL || strcmp(z->file, zr->file) != 0) {
		free(z->file);
		z->file = strdup(zr->file);
	}
	/* Build the set first: after the file is written, only publishing is left to do. */
	struct zone_set *set = NULL;
	if (!zr->disabled) {
		set = set_replace(env_zones(req), z->apex, zone_ref(z));
		if (set == NULL) {
			zone_free(z);
			return ctl_zone_fail(req, TDNS_ENOMEM, "zone %s: out of memory", zr->name);
		}
	}
	/* DESIGN.md "Persistence": on disk (fsynced, renamed) before it is acknowledged. */
	int err = 0;
	rc = zone_write(z, zr->file, &err);
	zone_free(z);
	if (rc != TDNS_OK) {
		zone_set_free(set);
		const char *why = err != 0 ? strerror(err) : tdns_status_msg(rc);
		return ctl_zone_fail(req, rc, "cannot write zone file %s: %s; nothing changed",
				     zr->file, why);
	}
	if (set != NULL) {
		req->env->publish(req->env->daemon, set);
	}
	if (err != 0) {
		/* The new file is in place and served: committed, but maybe not across a crash. */
		snprintf(req->warning, sizeof(req->warning),
			 "zone %.255s: %.500s was replaced, but its directory could not be synced "
			 "(%s): the change may not survive a crash", zr->name, zr->file,
			 strerror(err));
		tdns_warn("%s", req->warning);
	}
	return TDNS_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Information                                                                                 */

static const char *
zone_state(const struct ctl_zone_ref *zr)
{
	/* A stub zone (issue 5) is never in the served set: its NS set lives in the resolver. */
	bool stub = strcmp(ref_type(zr), "stub") == 0;
	if (!zr->disabled && zr->served != NULL && zr->served->expired) {
		/* Issue 17: a secondary zone without data, answered SERVFAIL. */
		return "expired";
	}
	return zr->disabled ? "disabled" : zr->served != NULL || stub ? "enabled" : "failed";
}

/* UTC time in ISO 8601 form for JSON, or null for 0. */
static json_t *
time_json(time_t t)
{
	if (t == 0) {
		return json_null();
	}
	struct tm tm;
	char buf[32];
	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

/*
 * Issue 17: a secondary zone's transfer state: primaries, last and next refresh, expiry and
 * the last error ("" after a success).
 */
static void
secondary_info(const struct ctl_zone_ref *zr, json_t *o)
{
	struct zone_sec_status st;
	if (!zone_sec_status(zr->secs, zr->apex, &st)) {
		return;
	}
	json_object_set_new(o, "primaries", json_string(st.primaries));
	json_object_set_new(o, "last_refresh", time_json(st.last_refresh));
	json_object_set_new(o, "next_refresh", st.running ? json_string("running")
							   : time_json(st.next_refresh));
	json_object_set_new(o, "expires", time_json(st.expires));
	json_object_set_new(o, "last_error", json_string(st.last_error));
}

static json_t *
zone_info(const struct ctl_zone_ref *zr, bool more)
{
	const struct zone *z = zr->served;
	const char *type = ref_type(zr);
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s?}", "name", zr->name, "type", type,
			      "state", zone_state(zr), "source",
			      zr->runtime ? "runtime" : "config", "file", zr->file);
	if (o == NULL) {
		return NULL;
	}
	json_object_set_new(o, "serial", z != NULL ? json_integer(z->serial) : json_null());
	json_object_set_new(o, "records",
			    z != NULL ? json_integer((json_int_t)z->nrecords) : json_null());
	if (z != NULL && z->expired) {
		json_object_set_new(o, "serial", json_null());
		json_object_set_new(o, "records", json_null());
	}
	if (strcmp(type, "secondary") == 0) {
		secondary_info(zr, o);
	}
	if (more) {
		json_object_set_new(o, "names",
				    z != NULL ? json_integer((json_int_t)z->nnodes) : json_null());
		if (zr->cz != NULL && zr->cz->src_file != NULL) {
			char where[1024];
			snprintf(where, sizeof(where), "%s:%u", zr->cz->src_file, zr->cz->src_line);
			json_object_set_new(o, "declared", json_string(where));
		}
	}
	return o;
}

static int
ref_cmp(const void *a, const void *b)
{
	const struct ctl_zone_ref *x = a;
	const struct ctl_zone_ref *y = b;
	return dns_name_cmp(x->apex, y->apex);
}

/* The zone named by the request's "name" argument, or a failure already answered. */
static int
find_named(struct ctl_req *req, struct ctl_zone_ref *zr)
{
	return ctl_zone_find(req, arg_str(req, "name"), zr);
}

/*
 * Finds the zone named by the request (*zr) and reads its zone file into *z (a new zone for
 * the caller) without publishing it; a zone without a file, or a file that does not load,
 * fails with the reason and then suffix.
 */
static int
load_named(struct ctl_req *req, struct ctl_zone_ref *zr, const char *suffix, struct zone **z)
{
	int rc = find_named(req, zr);
	if (rc != TDNS_OK) {
		return rc;
	}
	if (strcmp(ref_type(zr), "secondary") == 0 && suffix[0] != '\0') {
		return ctl_zone_fail(req, TDNS_EINVAL, "zone %s is a secondary zone: its data comes "
				     "from its primaries; use zone refresh or zone retransfer",
				     zr->name);
	}
	if (zr->file == NULL) {
		return ctl_zone_fail(req, TDNS_EINVAL, "zone %s has no zone file", zr->name);
	}
	char err[1024];
	rc = load_file(zr, zr->file, z, err, sizeof(err));
	if (rc != TDNS_OK) {
		return ctl_zone_fail(req, rc, "%s%s", err, suffix);
	}
	return TDNS_OK;
}

int
ctl_cmd_zone_list(struct ctl_req *req)
{
	const struct cfg *c = env_cfg(req);
	const struct zone_catalog *cat = env_catalog(req);
	size_t max = (c != NULL ? c->nzones : 0) + zone_catalog_count(cat);
	struct ctl_zone_ref *v = calloc(max ? max : 1, sizeof(*v));
	if (v == NULL) {
		return ctl_zone_fail(req, TDNS_ENOMEM, "out of memory");
	}
	size_t n = 0;
	for (size_t i = 0; c != NULL && i < c->nzones; i++) {
		const struct cfg_zone *cz = &c->zones[i];
		ref_fill(req, cz->apex, cz, zone_catalog_find(cat, cz->apex), &v[n++]);
	}
	for (size_t i = 0; i < zone_catalog_count(cat); i++) {
		const struct zone_catalog_entry *e = zone_catalog_get(cat, i);
		/* A [zone] section wins over a run-time zone of the same name. */
		if (e->runtime && cfg_zone_of(c, e->apex) == NULL) {
			ref_fill(req, e->apex, NULL, e, &v[n++]);
		}
	}
	qsort(v, n, sizeof(*v), ref_cmp);
	json_t *a = json_array();
	for (size_t i = 0; a != NULL && i < n; i++) {
		json_array_append_new(a, zone_info(&v[i], false));
	}
	free(v);
	if (a == NULL) {
		return ctl_zone_fail(req, TDNS_ENOMEM, "out of memory");
	}
	req->data = a;
	return TDNS_OK;
}

int
ctl_cmd_zone_show(struct ctl_req *req)
{
	struct ctl_zone_ref zr;
	int rc = find_named(req, &zr);
	if (rc != TDNS_OK) {
		return rc;
	}
	req->data = zone_info(&zr, true);
	return TDNS_OK;
}

int
ctl_cmd_zone_export(struct ctl_req *req)
{
	struct ctl_zone_ref zr;
	int rc = find_named(req, &zr);
	if (rc != TDNS_OK) {
		return rc;
	}
	const struct zone *z;
	struct zone *loaded;
	rc = ctl_zone_current(req, &zr, &z, &loaded);
	if (rc != TDNS_OK) {
		return rc;
	}
	size_t len;
	char *text = zone_to_text(z, &len);
	zone_free(loaded);
	if (text == NULL) {
		return ctl_zone_fail(req, TDNS_ENOMEM, "zone %s: out of memory", zr.name);
	}
	req->data = json_pack("{s:s, s:s%}", "name", zr.name, "text", text, len);
	free(text);
	return TDNS_OK;
}

int
ctl_cmd_zone_check(struct ctl_req *req)
{
	/* What a reload would see, without changing what is served. */
	struct ctl_zone_ref zr;
	struct zone *z = NULL;
	int rc = load_named(req, &zr, "", &z);
	if (rc != TDNS_OK) {
		return rc;
	}
	req->data = json_pack("{s:s, s:s, s:b, s:I, s:I}", "name", zr.name, "file", zr.file,
			      "ok", 1, "serial", (json_int_t)z->serial, "records",
			      (json_int_t)z->nrecords);
	zone_free(z);
	return TDNS_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Changes                                                                                     */

/* Publishes the current set with z (NULL: none) for apex; takes ownership of z. */
static int
publish_zone(struct ctl_req *req, const char *name, const uint8_t *apex, struct zone *z)
{
	struct zone_set *set = set_replace(env_zones(req), apex, z);
	if (set == NULL) {
		return ctl_zone_fail(req, TDNS_ENOMEM, "zone %s: out of memory", name);
	}
	req->env->publish(req->env->daemon, set);
	return TDNS_OK;
}

int
ctl_cmd_zone_reload(struct ctl_req *req)
{
	struct ctl_zone_ref zr;
	struct zone *z = NULL;
	int rc = load_named(req, &zr, "; the served version is unchanged", &z);
	if (rc != TDNS_OK) {
		return rc;
	}
	uint32_t serial = z->serial;
	json_int_t records = (json_int_t)z->nrecords;
	bool publish = !zr.disabled;
	if (publish) {
		rc = publish_zone(req, zr.name, zr.apex, z);
		if (rc != TDNS_OK) {
			return rc;
		}
	} else {
		zone_free(z);
	}
	req->data = json_pack("{s:s, s:I, s:I, s:b}", "name", zr.name, "serial",
			      (json_int_t)serial, "records", records, "published", publish);
	return TDNS_OK;
}

int
ctl_cmd_zone_notify(struct ctl_req *req)
{
	struct ctl_zone_ref zr;
	int rc = find_named(req, &zr);
	if (rc != TDNS_OK) {
		return rc;
	}
	if (zr.served == NULL) {
		return ctl_zone_fail(req, TDNS_ENOZONE, "zone %s is not served (disabled or "
				     "failed to load)", zr.name);
	}
	struct zone_notifier *n = req->env->notifier != NULL ?
				  req->env->notifier(req->env->daemon) : NULL;
	size_t sent = zone_notify_send(n, zr.served);
	if (sent == 0) {
		return ctl_zone_fail(req, TDNS_EINVAL, "zone %s has nobody to notify (no notify "
				     "addresses, and no allow-transfer with in-zone NS addresses)",
				     zr.name);
	}
	req->data = json_pack("{s:s, s:I, s:I}", "name", zr.name, "serial",
			      (json_int_t)zr.served->serial, "servers", (json_int_t)sent);
	return TDNS_OK;
}

/* Records the disabled state in the catalog (a config zone's entry goes when enabled). */
static int
catalog_state(struct ctl_req *req, const struct ctl_zone_ref *zr, bool disabled)
{
	struct zone_catalog *cat = env_catalog(req);
	if (cat == NULL) {
		return ctl_zone_fail(req, TDNS_EIO, "the zone catalog is not available");
	}
	int rc;
	if (!disabled && !zr->runtime) {
		rc = zr->ce != NULL ? zone_catalog_remove(cat, zr->apex) : TDNS_OK;
	} else {
		struct zone_catalog_entry e = {
			.name = (char *)zr->name,
			.type = zr->ce != NULL ? zr->ce->type : NULL,
			.file = (char *)zr->file,
			.runtime = zr->runtime,
			.disabled = disabled,
		};
		memcpy(e.apex, zr->apex, dns_name_len(zr->apex));
		rc = zone_catalog_put(cat, &e);
	}
	if (rc != TDNS_OK) {
		return ctl_zone_fail(req, rc, "cannot write the zone catalog: %s; nothing changed",
				     tdns_status_msg(rc));
	}
	return TDNS_OK;
}

int
ctl_cmd_zone_enable(struct ctl_req *req)
{
	struct ctl_zone_ref zr;
	int rc = find_named(req, &zr);
	if (rc != TDNS_OK) {
		return rc;
	}
	bool changed = zr.disabled || zr.served == NULL;
	if (changed) {
		/* Read the file before recording the state, so a bad file changes nothing. */
		struct zone *z = NULL;
		char err[1024];
		rc = load_file(&zr, zr.file != NULL ? zr.file : "", &z, err, sizeof(err));
		if (rc != TDNS_OK) {
			return ctl_zone_fail(req, rc, "%s; zone %s stays %s", err, zr.name,
					     zone_state(&zr));
		}
		if (zr.disabled && (rc = catalog_state(req, &zr, false)) != TDNS_OK) {
			zone_free(z);
			return rc;
		}
		rc = publish_zone(req, zr.name, zr.apex, z);
		if (rc != TDNS_OK) {
			return rc;
		}
		/* The catalog entry zr pointed into may have been replaced. */
		ref_fill(req, zr.apex, zr.cz, zone_catalog_find(env_catalog(req), zr.apex), &zr);
	}
	req->data = zone_info(&zr, false);
	json_object_set_new(req->data, "changed", json_boolean(changed));
	return TDNS_OK;
}

int
ctl_cmd_zone_disable(struct ctl_req *req)
{
	struct ctl_zone_ref zr;
	int rc = find_named(req, &zr);
	if (rc != TDNS_OK) {
		return rc;
	}
	bool changed = !zr.disabled;
	if (changed) {
		rc = catalog_state(req, &zr, true);
		if (rc != TDNS_OK) {
			return rc;
		}
		if (zr.served != NULL) {
			rc = publish_zone(req, zr.name, zr.apex, NULL);
		}
		if (rc != TDNS_OK) {
			return rc;
		}
		ref_fill(req, zr.apex, zr.cz, zone_catalog_find(env_catalog(req), zr.apex), &zr);
	}
	req->data = zone_info(&zr, false);
	json_object_set_new(req->data, "changed", json_boolean(changed));
	return TDNS_OK;
}

/* Zone names made at run time become file names: letters, digits, '-' and '_' only. */
static bool
name_is_plain(const uint8_t *apex)
{
	for (const uint8_t *p = apex; *p != 0; p += 1 + *p) {
		for (uint8_t i = 1; i <= *p; i++) {
			uint8_t ch = p[i];
			bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
				  (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
			if (!ok) {
				return false;
			}
		}
	}
	return true;
}

/* Is path the file of a zone other than apex (config or catalog)? */
static bool
file_in_use(struct ctl_req *req, const char *path, const uint8_t *apex)
{
	const struct cfg *c = env_cfg(req);
	for (size_t i = 0; c != NULL && i < c->nzones; i++) {
		if (c->zones[i].file != NULL && strcmp(c->zones[i].file, path) == 0 &&
		    !dns_name_eq(c->zones[i].apex, apex)) {
			return true;
		}
	}
	const struct zone_catalog *cat = env_catalog(req);
	for (size_t i = 0; i < zone_catalog_count(cat); i++) {
		const struct zone_catalog_entry *e = zone_catalog_get(cat, i);
		if (e->file != NULL && strcmp(e->file, path) == 0 && !dns_name_eq(e->apex, apex)) {
			return true;
		}
	}
	return false;
}

/*
 * Checks that name can become a new run-time zone and works out its file (file_arg: a file
 * name in the state directory, or NULL for NAME.zone).  Fills zr as the zone will be.
 */
static int
new_zone_ref(struct ctl_req *req, const char *name, const char *file_arg, struct ctl_zone_ref *zr,
	     char *path, size_t pathlen)
{
	uint8_t apex[DNS_NAME_MAX];
	int rc = ctl_zone_parse_name(req, name, apex);
	if (rc != TDNS_OK) {
		return rc;
	}
	const struct zone_catalog_entry *ce = zone_catalog_find(env_catalog(req), apex);
	if (cfg_zone_of(env_cfg(req), apex) != NULL || (ce != NULL && ce->runtime)) {
		return ctl_zone_fail(req, TDNS_EZONEEXISTS, "zone %s already exists", name);
	}
	if (!name_is_plain(apex)) {
		return ctl_zone_fail(req, TDNS_EBADTEXT,
				     "bad zone name '%s': zones created at run time may only use "
				     "letters, digits, '-' and '_' in their labels", name);
	}
	const struct cfg *c = env_cfg(req);
	if (c == NULL || c->state_dir == NULL || c->state_dir[0] == '\0') {
		return ctl_zone_fail(req, TDNS_EINVAL, "no state-dir configured for zone files");
	}
	if (env_catalog(req) == NULL) {
		return ctl_zone_fail(req, TDNS_EIO, "the zone catalog is not available");
	}
	ref_fill(req, apex, NULL, NULL, zr);
	char fname[DNS_NAME_TEXT_MAX + 8];
	if (file_arg != NULL) {
		if (file_arg[0] == '\0' || strchr(file_arg, '/') != NULL || file_arg[0] == '.') {
			return ctl_zone_fail(req, TDNS_EINVAL,
					     "bad file name '%s': a plain file name in the state "
					     "directory is expected", file_arg);
		}
		snprintf(fname, sizeof(fname), "%s", file_arg);
	} else if (apex[0] == 0) {
		snprintf(fname, sizeof(fname), "root.zone");
	} else {
		/* zr->name is lower case with a trailing dot; drop the dot. */
		snprintf(fname, sizeof(fname), "%.*s.zone", (int)strlen(zr->name) - 1, zr->name);
	}
	if (snprintf(path, pathlen, "%s/%s", c->state_dir, fname) >= (int)pathlen) {
		return ctl_zone_fail(req, TDNS_ERANGE, "zone file path too long");
	}
	if (file_in_use(req, path, apex)) {
		return ctl_zone_fail(req, TDNS_EEXIST, "file %s belongs to another zone", path);
	}
	zr->file = path;
	zr->runtime = true;
	return TDNS_OK;
}

/*
 * The default SOA MNAME and NS of a new zone: this host's name, made absolute, into out
 * ("localhost." when it has none); returns its number of labels.
 */
static int
host_name(char *out, size_t cap)
{
	char host[256];
	uint8_t wire[DNS_NAME_MAX];
	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		size_t len = strlen(host);
		if (len > 0 && len < sizeof(host) - 1 && host[len - 1] != '.') {
			host[len++] = '.';
			host[len] = '\0';
		}
		if (len > 1 && dns_name_from_text(host, len, NULL, wire) > 0 &&
		    dns_name_to_text(wire, out, cap) > 0) {
			return dns_name_labels(wire);
		}
	}
	snprintf(out, cap, "localhost.");
	return 1;
}

/* A new empty zone: its SOA and NS name host (absolute), the serial as the policy starts it. */
static int
fresh_zone(struct ctl_req *req, const struct ctl_zone_ref *zr, const char *host,
	   struct zone **out)
{
	const struct cfg *c = env_cfg(req);
	uint32_t serial = ctl_zone_next_serial(c != NULL ? c->serial_policy : CFG_SERIAL_INCREMENT,
					       0);
	char text[6 * DNS_NAME_TEXT_MAX];
	int n = snprintf(text, sizeof(text),
		 "$ORIGIN %s\n"
		 "@ %d IN SOA %s hostmaster%s%s %u " NEW_ZONE_TIMERS "\n"
		 "@ %d IN NS %s\n",
		 zr->name, NEW_ZONE_TTL, host, zr->apex[0] == 0 ? "" : ".",
		 zr->apex[0] == 0 ? "." : zr->name, serial, NEW_ZONE_TTL, host);
	if (n < 0 || (size_t)n >= sizeof(text)) {
		return ctl_zone_fail(req, TDNS_ERANGE, "zone %s: names too long", zr->name);
	}
	char err[1024];
	int rc = zone_load_mem(zr->apex, text, strlen(text), "new zone", out, err, sizeof(err));
	if (rc != TDNS_OK) {
		return ctl_zone_fail(req, rc, "%s", err);
	}
	return TDNS_OK;
}

/* Adds the catalog entry of a new run-time zone whose file is written. */
static int
catalog_add(struct ctl_req *req, const struct ctl_zone_ref *zr, const char *type)
{
	struct zone_catalog_entry e = {
		.name = (char *)zr->name,
		.type = (char *)type,
		.file = (char *)zr->file,
		.runtime = true,
		.disabled = false,
	};
	memcpy(e.apex, zr->apex, dns_name_len(zr->apex));
	int rc = zone_catalog_put(env_catalog(req), &e);
	if (rc != TDNS_OK) {
		return ctl_zone_fail(req, rc, "cannot write the zone catalog: %s",
				     tdns_status_msg(rc));
	}
	return TDNS_OK;
}

/*
 * Makes z a new run-time zone: the file first, then the catalog entry (the file alone is
 * ignored after a crash; the entry without a file would be a zone that fails to load), then
 * the zone set.  Takes ownership of z.
 */
static int
create_commit(struct ctl_req *req, struct ctl_zone_ref *zr, struct zone *z, const char *type)
{
	struct stat st;
	bool existed = stat(zr->file, &st) == 0;
	uint32_t serial;
	/* Not published by commit (disabled), so the catalog entry can come first. */
	zr->disabled = true;
	int rc = ctl_zone_commit(req, zr, zone_ref(z), &serial);
	zr->disabled = false;
	if (rc != TDNS_OK) {
		zone_free(z);
		return rc;
	}
	rc = catalog_add(req, zr, type);
	if (rc != TDNS_OK) {
		if (!existed) {
			unlink(zr->file);
		}
		zone_free(z);
		return rc;
	}
	rc = publish_zone(req, zr->name, zr->apex, z);
	if (rc != TDNS_OK) {
		return rc;
	}
	zr->served = zone_set_find(env_zones(req), zr->apex);
	zr->ce = zone_catalog_find(env_catalog(req), zr->apex);
	return TDNS_OK;
}

/*
 * Adds one FWD record at the apex of a new forwarder zone for each server of list (comma
 * separated URLs, or this-server), as Technitium does when it creates a conditional forwarder.
 */
static int
add_fwd_records(struct ctl_req *req, const struct ctl_zone_ref *zr, struct zone *z,
		const char *list)
{
	char *copy = tdns_xstrdup(list);
	int rc = TDNS_OK;
	for (char *save = NULL, *item = strtok_r(copy, ",", &save); item != NULL && rc == TDNS_OK;
	     item = strtok_r(NULL, ",", &save)) {
		while (*item == ' ' || *item == '\t') {
			item++;
		}
		size_t len = strlen(item);
		while (len > 0 && (item[len - 1] == ' ' || item[len - 1] == '\t')) {
			item[--len] = '\0';
		}
		char msg[256];
		if (resolver_fwd_spec_check(item, msg, sizeof(msg)) != TDNS_OK) {
			rc = ctl_zone_fail(req, TDNS_EINVAL, "invalid forwarder '%s': %s", item, msg);
			break;
		}
		uint8_t rd[256];
		rd[0] = (uint8_t)len;
		memcpy(rd + 1, item, len);
		rc = zone_add_rr(z, zr->apex, DNS_TYPE_FWD, NEW_ZONE_TTL, rd, len + 1);
		if (rc != TDNS_OK) {
			rc = ctl_zone_fail(req, rc, "zone %s: %s", zr->name, tdns_status_msg(rc));
		}
	}
	free(copy);
	return rc;
}

/*
 * Issue 17: a run-time secondary zone: its catalog entry carries the primaries; the daemon's
 * secondaries take it and transfer it at once (served SERVFAIL until the first transfer).
 */
static int
create_secondary(struct ctl_req *req, const char *name, const char *file)
{
	const char *primary = arg_str(req, "primary");
	const char *key = arg_str(req, "key");
	if (primary == NULL || primary[0] == '\0') {
		return ctl_zone_fail(req, TDNS_EINVAL, "a secondary zone needs --primary ADDR[:PORT]");
	}
	if (arg_str(req, "forwarder") != NULL || arg_str(req, "ns") != NULL) {
		return ctl_zone_fail(req, TDNS_EINVAL, "--forwarder and --ns are not for secondary "
				     "zones");
	}
	if (req->env->secondaries == NULL || req->env->secondaries_changed == NULL) {
		return ctl_zone_fail(req, TDNS_EINVAL, "this server has no secondary zones");
	}
	char prim[512];
	if (strchr(primary, ',') != NULL ||
	    snprintf(prim, sizeof(prim), "%s%s%s", primary, key != NULL ? " key " : "",
		     key != NULL ? key : "") >= (int)sizeof(prim)) {
		return ctl_zone_fail(req, TDNS_EINVAL, "bad --primary '%s': one ADDR[:PORT] expected",
				     primary);
	}
	struct zone_sec_primary p;
	size_t n = 0;
	char why[256];
	int prc = zone_sec_parse_primaries(prim, &p, 1, &n, why, sizeof(why));
	if (prc != TDNS_OK || n != 1) {
		return ctl_zone_fail(req, TDNS_EINVAL, "bad --primary/--key: %s",
				     prc != TDNS_OK ? why : "one primary expected");
	}
	const struct cfg *c = env_cfg(req);
	if (p.has_key && crypto_tsig_key_find(c->tsigs, c->ntsigs, p.key) == NULL) {
		return ctl_zone_fail(req, TDNS_EINVAL, "no key %s: expected the name of a [tsig NAME] "
				     "section", key);
	}
	struct ctl_zone_ref zr;
	char path[4096];
	int rc = new_zone_ref(req, name, file, &zr, path, sizeof(path));
	if (rc != TDNS_OK) {
		return rc;
	}
	struct stat st;
	if (file == NULL && stat(path, &st) == 0) {
		return ctl_zone_fail(req, TDNS_EEXIST, "zone file %s already exists; remove it, or "
				     "pass --file %s to start from it", path, strrchr(path, '/') + 1);
	}
	struct zone_catalog_entry e = {
		.name = zr.name, .type = (char *)"secondary", .file = (char *)zr.file,
		.runtime = true, .primaries = prim,
	};
	memcpy(e.apex, zr.apex, dns_name_len(zr.apex));
	rc = zone_catalog_put(env_catalog(req), &e);
	if (rc != TDNS_OK) {
		return ctl_zone_fail(req, rc, "cannot write the zone catalog: %s",
				     tdns_status_msg(rc));
	}
	req->env->secondaries_changed(req->env->daemon, zr.apex);
	ref_fill(req, zr.apex, NULL, zone_catalog_find(env_catalog(req), zr.apex), &zr);
	req->data = zone_info(&zr, false);
	return TDNS_OK;
}

/* zone refresh / retransfer: the refresh of a secondary zone starts now. */
static int
refresh_named(struct ctl_req *req, bool axfr)
{
	struct ctl_zone_ref zr;
	int rc = find_named(req, &zr);
	if (rc != TDNS_OK) {
		return rc;
	}
	if (strcmp(ref_type(&zr), "secondary") != 0 || zr.disabled ||
	    zone_sec_refresh(zr.secs, zr.apex, axfr) != TDNS_OK) {
		return ctl_zone_fail(req, TDNS_EINVAL, "zone %s is not an enabled secondary zone",
				     zr.name);
	}
	req->data = zone_info(&zr, true);
	return TDNS_OK;
}

int
ctl_cmd_zone_refresh(struct ctl_req *req)
{
	return refresh_named(req, false);
}

int
ctl_cmd_zone_retransfer(struct ctl_req *req)
{
	return refresh_named(req, true);
}

int
ctl_cmd_zone_create(struct ctl_req *req)
{
	const char *name = arg_str(req, "name");
	const char *type = arg_str(req, "type");
	const char *file = arg_str(req, "file");
	const char *fwd = arg_str(req, "forwarder");
	if (type == NULL) {
		type = "primary";
	}
	if (strcmp(type, "secondary") == 0) {
		return create_secondary(req, name, file);
	}
	if (arg_str(req, "primary") != NULL || arg_str(req, "key") != NULL) {
		return ctl_zone_fail(req, TDNS_EINVAL, "--primary and --key are for zones of type "
				     "secondary");
	}
	if (strcmp(type, "primary") != 0 && strcmp(type, "forwarder") != 0) {
		return ctl_zone_fail(req, TDNS_EINVAL, "unsupported zone type '%s'; expected primary, "
				     "secondary or forwarder", type);
	}
	bool forwarder = strcmp(type, "forwarder") == 0;
	if (fwd != NULL && !forwarder) {
		return ctl_zone_fail(req, TDNS_EINVAL, "--forwarder is for zones of type forwarder");
	}
	/* The SOA MNAME and NS of a new empty zone: --ns, else this host's name. */
	char host[DNS_NAME_TEXT_MAX];
	const char *ns = arg_str(req, "ns");
	bool one_label = false;
	if (ns != NULL) {
		uint8_t wire[DNS_NAME_MAX];
		size_t nlen = strlen(ns);
		if (nlen == 0 || ns[nlen - 1] != '.' ||
		    dns_name_from_text(ns, nlen, NULL, wire) <= 0 || dns_name_labels(wire) < 1) {
			return ctl_zone_fail(req, TDNS_EINVAL, "--ns '%s' is not an absolute domain "
					     "name (e.g. ns1.example.net.)", ns);
		}
		(void)dns_name_to_text(wire, host, sizeof(host));
	} else {
		one_label = host_name(host, sizeof(host)) < 2;
	}
	struct ctl_zone_ref zr;
	char path[4096];
	int rc = new_zone_ref(req, name, file, &zr, path, sizeof(path));
	if (rc != TDNS_OK) {
		return rc;
	}
	struct zone *z = NULL;
	bool made = false;
	struct stat st;
	if (stat(path, &st) == 0) {
		if (file == NULL) {
			/* A file left behind must not be overwritten or served by surprise. */
			return ctl_zone_fail(req, TDNS_EEXIST,
					     "zone file %s already exists; remove it, or pass "
					     "--file %s to serve it", path, strrchr(path, '/') + 1);
		}
		char err[1024];
		rc = forwarder ? zone_load_forwarder(zr.apex, path, &z, err, sizeof(err))
			       : zone_load(zr.apex, path, &z, err, sizeof(err));
		if (rc != TDNS_OK) {
			return ctl_zone_fail(req, rc, "%s", err);
		}
	} else {
		rc = fresh_zone(req, &zr, host, &z);
		if (rc != TDNS_OK) {
			return rc;
		}
		made = true;
	}
	if (forwarder) {
		z->forwarder = true;
		/* A zone file brought along may name its servers; else this server resolves. */
		const struct zone_node *apex = zone_find(z, zr.apex);
		bool has_fwd = apex != NULL && zone_node_rrset(apex, DNS_TYPE_FWD) != NULL;
		if ((fwd != NULL || !has_fwd) &&
		    (rc = add_fwd_records(req, &zr, z, fwd != NULL ? fwd : "this-server")) != TDNS_OK) {
			zone_free(z);
			return rc;
		}
	}
	rc = create_commit(req, &zr, z, type);
	if (rc != TDNS_OK) {
		return rc;
	}
	req->data = zone_info(&zr, false);
	if (made && one_label) {
		/* A one-label name ("vm.") is no name other servers can reach: say so. */
		char warn[2 * DNS_NAME_TEXT_MAX + 160];
		snprintf(warn, sizeof(warn), "this host's name %s has one label: the zone's SOA "
			 "and NS name %s, which other servers cannot resolve; pass --ns NAME, or "
			 "change them with record update", host, host);
		json_object_set_new(req->data, "warning", json_string(warn));
	}
	return TDNS_OK;
}

int
ctl_cmd_zone_import(struct ctl_req *req)
{
	const char *name = arg_str(req, "name");
	const char *text = arg_str(req, "text");
	size_t textlen = json_string_length(json_object_get(req->args, "text"));
	struct ctl_zone_ref zr;
	char path[4096];
	uint8_t apex[DNS_NAME_MAX];
	int rc = ctl_zone_parse_name(req, name, apex);
	if (rc != TDNS_OK) {
		return rc;
	}
	bool create = cfg_zone_of(env_cfg(req), apex) == NULL &&
		      (zone_catalog_find(env_catalog(req), apex) == NULL ||
		       !zone_catalog_find(env_catalog(req), apex)->runtime);
	rc = create ? new_zone_ref(req, name, NULL, &zr, path, sizeof(path))
		    : ctl_zone_find(req, name, &zr);
	if (rc != TDNS_OK) {
		return rc;
	}
	struct zone *z = NULL;
	char err[1024];
	rc = zone_load_mem(zr.apex, text != NULL ? text : "", textlen, "zone text", &z, err,
			   sizeof(err));
	if (rc != TDNS_OK) {
		return ctl_zone_fail(req, rc, "%s; nothing changed", err);
	}
	/* Secondaries only transfer a larger serial (RFC 1982): never go backwards. */
	const struct zone *cur = zr.served;
	if (cur != NULL && !ctl_zone_serial_gt(z->serial, cur->serial)) {
		const struct cfg *c = env_cfg(req);
		uint32_t serial = ctl_zone_next_serial(c->serial_policy, cur->serial);
		if ((rc = ctl_zone_set_serial(z, serial)) != TDNS_OK) {
			zone_free(z);
			return ctl_zone_fail(req, rc, "zone %s: %s", zr.name, tdns_status_msg(rc));
		}
	}
	if (create) {
		rc = create_commit(req, &zr, z, "primary");
	} else {
		uint32_t serial;
		rc = ctl_zone_commit(req, &zr, z, &serial);
		zr.served = zone_set_find(env_zones(req), zr.apex);
	}
	if (rc != TDNS_OK) {
		return rc;
	}
	req->data = zone_info(&zr, false);
	json_object_set_new(req->data, "created", json_boolean(create));
	return TDNS_OK;
}

int
ctl_cmd_zone_delete(struct ctl_req *req)
{
	struct ctl_zone_ref zr;
	int rc = find_named(req, &zr);
	if (rc != TDNS_OK) {
		return rc;
	}
	if (!zr.runtime) {
		const char *where = zr.cz->src_file != NULL ? zr.cz->src_file : "?";
		return ctl_zone_fail(req, TDNS_EACCES,
				     "zone %s is declared in the configuration file (%s:%u); "
				     "remove its [zone] section there instead", zr.name, where,
				     zr.cz->src_line);
	}
	bool secondary = strcmp(ref_type(&zr), "secondary") == 0;
	/* zr.file is the catalog's, which the removal frees. */
	char file[4096] = "";
	if (zr.file != NULL) {
		snprintf(file, sizeof(file), "%s", zr.file);
	}
	zr.file = NULL;
	zr.ce = NULL;
	/* The catalog decides what exists: once the entry is gone the zone is. */
	rc = zone_catalog_remove(env_catalog(req), zr.apex);
	if (rc != TDNS_OK) {
		return ctl_zone_fail(req, rc, "cannot write the zone catalog: %s; nothing changed",
				     tdns_status_msg(rc));
	}
	if (secondary && req->env->secondaries_changed != NULL) {
		/* Issue 17: the transfers stop and the zone leaves the set. */
		req->env->secondaries_changed(req->env->daemon, zr.apex);
	} else if (zr.served != NULL &&
		   (rc = publish_zone(req, zr.name, zr.apex, NULL)) != TDNS_OK) {
		return rc;
	}
	bool removed = false;
	if (file[0] != '\0') {
		/* A secondary zone's refresh time beside its copy goes with it. */
		char state[4200];
		snprintf(state, sizeof(state), "%s.refreshed", file);
		(void)unlink(state);
	}
	if (file[0] != '\0') {
		removed = unlink(file) == 0;
		if (removed) {
			/* Make the removal as durable as the catalog change. */
			(void)tdns_fsync_parent(file);
		}
	}
	req->data = json_pack("{s:s, s:s, s:b}", "name", zr.name, "file", file,
			      "file_removed", removed);
	return TDNS_OK;
}
