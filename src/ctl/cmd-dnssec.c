/* SPDX-License-Identifier: MIT */
/* Control commands of DNSSEC (issue 16): dnssec status and dnssec nta add|remove|list. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cfg/cfg.h"
#include "ctl/cmd.h"
#include "dnssec/dnssec.h"
#include "stats/stats.h"

/* The name of wire name n as text ("?" when it cannot be written). */
static const char *
name_text(const uint8_t *n, char *buf, size_t len)
{
	return dns_name_to_text(n, buf, len) >= 0 ? buf : "?";
}

/* The NTAs in force now: [{"name", "source": "config"|"ctl", "added", "expires", "left"}]. */
static json_t *
nta_rows(const struct dnssec_ntas *s, int64_t now)
{
	json_t *rows = json_array();
	size_t n = 0;
	struct dnssec_nta *v = s != NULL ? dnssec_ntas_list(s, now, &n) : NULL;
	for (size_t i = 0; v != NULL && i < n; i++) {
		char text[DNS_NAME_TEXT_MAX];
		json_t *row = json_pack("{s:s, s:s, s:I}", "name",
					name_text(v[i].name, text, sizeof(text)), "source",
					v[i].config ? "config" : "ctl", "added",
					(json_int_t)v[i].added);
		if (!v[i].config) {
			json_object_set_new(row, "expires", json_integer(v[i].expires));
			json_object_set_new(row, "seconds_left", json_integer(v[i].expires - now));
		}
		json_array_append_new(rows, row);
	}
	free(v);
	return rows;
}

/* The RFC 5011 state of the key of owner with tag (unrevoked or revoked), or NULL. */
static const struct dnssec_rfc5011_key *
tracked(const struct dnssec_rfc5011_key *v, size_t n, const uint8_t *owner, uint16_t tag)
{
	for (size_t i = 0; i < n; i++) {
		if (dns_name_eq(v[i].owner, owner) && (v[i].tag == tag || v[i].revoked_tag == tag)) {
			return &v[i];
		}
	}
	return NULL;
}

/* One anchor row: owner, type, tag, algorithm, and its RFC 5011 state when tracked. */
static json_t *
anchor_row(const uint8_t *owner, const char *type, uint16_t tag, uint8_t alg,
	   const struct dnssec_rfc5011_key *k)
{
	char text[DNS_NAME_TEXT_MAX];
	json_t *row = json_pack("{s:s, s:s, s:i, s:i, s:s}", "owner",
				name_text(owner, text, sizeof(text)), "type", type, "key_tag", tag,
				"algorithm", alg, "state",
				k != NULL ? dnssec_rfc5011_state_str(k->state) : "configured");
	if (k != NULL && k->hold_until != 0) {
		json_object_set_new(row, "hold_until", json_integer(k->hold_until));
	}
	return row;
}

/*
 * The configured anchors, each with the state RFC 5011 gives its key, then the keys RFC 5011
 * tracks that no configured record names (a new KSK in AddPend, say).
 */
static json_t *
anchor_rows(const struct dnssec_anchors *a, struct dnssec_rfc5011 *t)
{
	json_t *rows = json_array();
	size_t n = 0;
	struct dnssec_rfc5011_key *v = t != NULL ? dnssec_rfc5011_list(t, &n) : NULL;
	if (v == NULL) {
		n = 0;
	}
	bool *listed = n > 0 ? calloc(n, sizeof(*listed)) : NULL;
	struct dnssec_anchor_set as;
	for (size_t z = 0; a != NULL && dnssec_anchors_at(a, z, &as); z++) {
		for (size_t j = 0; j < as.nds; j++) {
			struct dnssec_ds ds;
			if (dnssec_ds_parse(as.ds[j].rd, as.ds[j].len, &ds) != TDNS_OK) {
				continue;
			}
			const struct dnssec_rfc5011_key *k = tracked(v, n, as.owner, ds.key_tag);
			if (k != NULL && listed != NULL) {
				listed[k - v] = true;
			}
			json_array_append_new(rows, anchor_row(as.owner, "DS", ds.key_tag, ds.alg, k));
		}
		for (size_t j = 0; j < as.nkeys; j++) {
			uint16_t tag = dnssec_key_tag(as.keys[j].rd, as.keys[j].len);
			const struct dnssec_rfc5011_key *k = tracked(v, n, as.owner, tag);
			if (k != NULL && listed != NULL) {
				listed[k - v] = true;
			}
			json_array_append_new(rows, anchor_row(as.owner, "DNSKEY", tag,
							       as.keys[j].rd[3], k));
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (listed == NULL || !listed[i]) {
			json_array_append_new(rows, anchor_row(v[i].owner, "DNSKEY", v[i].tag,
							       v[i].alg, &v[i]));
		}
	}
	free(listed);
	free(v);
	return rows;
}

int
ctl_cmd_dnssec_status(struct ctl_req *req)
{
	const struct ctl_env *env = req->env;
	int64_t now = (int64_t)time(NULL);
	json_t *counters = stats_dnssec_json();
	req->data = json_pack("{s:o, s:o, s:o}", "anchors", anchor_rows(env->anchors,
									 env->rfc5011),
			      "ntas", nta_rows(env->ntas, now), "answers",
			      counters != NULL ? counters : json_object());
	return req->data != NULL ? TDNS_OK : TDNS_ENOMEM;
}

/* Writes the run-time NTAs to the state directory; TDNS_OK or the reason in req->err. */
static int
nta_save(struct ctl_req *req, int64_t now)
{
	const struct cfg *c = req->env->cfg(req->env->daemon);
	if (c->state_dir == NULL || c->state_dir[0] == '\0') {
		return TDNS_OK; /* nothing to keep them in: they last until the daemon stops */
	}
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", c->state_dir, DNSSEC_NTA_FILE);
	int rc = dnssec_ntas_save(req->env->ntas, path, now);
	if (rc != TDNS_OK) {
		snprintf(req->err, sizeof(req->err), "cannot write %.1900s: %s", path,
			 tdns_status_msg(rc));
	}
	return rc;
}

/* True when an NTA for exactly name is in force at now. */
static bool
nta_listed(const struct dnssec_ntas *s, const uint8_t *name, int64_t now)
{
	size_t n;
	struct dnssec_nta *v = dnssec_ntas_list(s, now, &n);
	bool found = false;
	for (size_t i = 0; v != NULL && i < n && !found; i++) {
		found = dns_name_eq(v[i].name, name);
	}
	free(v);
	return found;
}

/* `dnssec nta add NAME [--lifetime L]`. */
static int
nta_add(struct ctl_req *req, const uint8_t *name, const char *text, int64_t now)
{
	const char *life = json_string_value(json_object_get(req->args, "lifetime"));
	long secs = life != NULL ? ctl_cmd_duration(life) : DNSSEC_NTA_LIFETIME_DEFAULT;
	if (secs < 0) {
		snprintf(req->err, sizeof(req->err), "invalid lifetime '%s'; expected seconds or a "
			 "number with s, m, h or d (such as 1h), at most 7d", life);
		return TDNS_EINVAL;
	}
	bool existed = nta_listed(req->env->ntas, name, now);
	int rc = dnssec_ntas_add(req->env->ntas, name, secs, now);
	if (rc == TDNS_ERANGE) {
		snprintf(req->err, sizeof(req->err), "too many negative trust anchors (at most %d)",
			 DNSSEC_NTA_MAX);
	}
	if (rc == TDNS_OK && (rc = nta_save(req, now)) != TDNS_OK && !existed) {
		(void)dnssec_ntas_remove(req->env->ntas, name); /* not durable: not done */
	}
	if (rc != TDNS_OK) {
		return rc;
	}
	req->data = json_pack("{s:s, s:s, s:I, s:I}", "name", text, "action", "added",
			      "lifetime", (json_int_t)secs, "expires", (json_int_t)(now + secs));
	return TDNS_OK;
}

int
ctl_cmd_dnssec_nta(struct ctl_req *req)
{
	const char *action = json_string_value(json_object_get(req->args, "action"));
	int64_t now = (int64_t)time(NULL);
	if (req->env->ntas == NULL) {
		snprintf(req->err, sizeof(req->err), "this tdnsd keeps no negative trust anchors");
		return TDNS_ENOENT;
	}
	/* Expired ones are gone for every action (remove of one says there is none). */
	(void)dnssec_ntas_expire(req->env->ntas, now);
	if (strcmp(action, "list") == 0) {
		req->data = json_pack("{s:o}", "ntas", nta_rows(req->env->ntas, now));
		return TDNS_OK;
	}
	if (strcmp(action, "add") != 0 && strcmp(action, "remove") != 0) {
		snprintf(req->err, sizeof(req->err), "unknown action '%s'; expected add NAME, "
			 "remove NAME or list", action);
		return TDNS_EINVAL;
	}
	uint8_t name[DNS_NAME_MAX];
	if (json_object_get(req->args, "name") == NULL) {
		snprintf(req->err, sizeof(req->err), "'dnssec nta %s' needs a NAME", action);
		return TDNS_EINVAL;
	}
	if (!ctl_cmd_arg_name(req, name)) {
		return TDNS_EINVAL;
	}
	char text[DNS_NAME_TEXT_MAX];
	name_text(name, text, sizeof(text));
	if (strcmp(action, "add") == 0) {
		return nta_add(req, name, text, now);
	}
	if (json_object_get(req->args, "lifetime") != NULL) {
		snprintf(req->err, sizeof(req->err), "--lifetime goes with add, not remove");
		return TDNS_EINVAL;
	}
	if (dnssec_ntas_remove(req->env->ntas, name) != TDNS_OK) {
		snprintf(req->err, sizeof(req->err), "no negative trust anchor for %s", text);
		return TDNS_ENOENT;
	}
	int rc = nta_save(req, now);
	if (rc != TDNS_OK) {
		return rc;
	}
	req->data = json_pack("{s:s, s:s}", "name", text, "action", "removed");
	return TDNS_OK;
}
