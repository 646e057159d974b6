/* SPDX-License-Identifier: MIT */
/* RFC 5011 automated trust anchor updates: the key state machine and its state file. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "dnssec/dnssec.h"
#include "dnssec/dnssec_int.h"

/* DNSKEY rdata longer than this (an RSA key of more than 16000 bits) is not tracked. */
#define KEY_MAX 2048

/* One tracked key: its rdata with the REVOKE bit cleared (the key's identity). */
struct tkey {
	struct dnssec_rfc5011_key k;
	uint8_t *rd;
	size_t len;
};

struct dnssec_rfc5011 {
	pthread_mutex_t lock;
	char *path;               /* state file, NULL: none */
	int64_t add_hold, remove_hold;
	struct tkey *v;
	size_t n;
};

static const char *const state_names[] = {
	[DNSSEC_5011_START] = "Start",     [DNSSEC_5011_ADDPEND] = "AddPend",
	[DNSSEC_5011_VALID] = "Valid",     [DNSSEC_5011_MISSING] = "Missing",
	[DNSSEC_5011_REVOKED] = "Revoked", [DNSSEC_5011_REMOVED] = "Removed",
};

const char *
dnssec_rfc5011_state_str(enum dnssec_rfc5011_state s)
{
	return (unsigned)s <= DNSSEC_5011_REMOVED ? state_names[s] : "Unknown";
}

static int
state_parse(const char *text)
{
	for (int i = 0; i <= DNSSEC_5011_REMOVED; i++) {
		if (text != NULL && strcmp(text, state_names[i]) == 0) {
			return i;
		}
	}
	return -1;
}

/* The key's identity: its rdata with the REVOKE flag cleared, into out (len octets). */
static void
identity(const uint8_t *rd, size_t len, uint8_t *out)
{
	memcpy(out, rd, len);
	out[1] &= (uint8_t)~DNSSEC_DNSKEY_REVOKE;
}

/* Index of the key of owner whose identity is id[0..len), or -1.  Under lock. */
static ssize_t
tkey_find(const struct dnssec_rfc5011 *t, const uint8_t *owner, const uint8_t *id, size_t len)
{
	for (size_t i = 0; i < t->n; i++) {
		if (t->v[i].len == len && memcmp(t->v[i].rd, id, len) == 0 &&
		    dns_name_eq(t->v[i].k.owner, owner)) {
			return (ssize_t)i;
		}
	}
	return -1;
}

/* Keys of owner tracked now.  Under lock. */
static size_t
tkey_count(const struct dnssec_rfc5011 *t, const uint8_t *owner, bool trusted_only)
{
	size_t c = 0;
	for (size_t i = 0; i < t->n; i++) {
		enum dnssec_rfc5011_state s = t->v[i].k.state;
		if (dns_name_eq(t->v[i].k.owner, owner) &&
		    (!trusted_only || s == DNSSEC_5011_VALID || s == DNSSEC_5011_MISSING)) {
			c++;
		}
	}
	return c;
}

/* Adds a key in state st.  Under lock.  NULL on out of memory. */
static struct tkey *
tkey_add(struct dnssec_rfc5011 *t, const uint8_t *owner, const uint8_t *id, size_t len,
	 enum dnssec_rfc5011_state st, int64_t now)
{
	uint8_t *rd = malloc(len);
	struct tkey *v = realloc(t->v, (t->n + 1) * sizeof(*v));
	if (rd == NULL || v == NULL) {
		free(rd);
		if (v != NULL) {
			t->v = v;
		}
		return NULL;
	}
	t->v = v;
	struct tkey *e = &t->v[t->n++];
	memset(e, 0, sizeof(*e));
	memcpy(rd, id, len);
	e->rd = rd;
	e->len = len;
	memcpy(e->k.owner, owner, dns_name_len(owner));
	dns_name_lower(e->k.owner);
	e->k.tag = dnssec_key_tag(rd, len);
	rd[1] |= DNSSEC_DNSKEY_REVOKE;
	e->k.revoked_tag = dnssec_key_tag(rd, len);
	rd[1] &= (uint8_t)~DNSSEC_DNSKEY_REVOKE;
	e->k.alg = len > 3 ? rd[3] : 0;
	e->k.state = st;
	e->k.first_seen = e->k.last_seen = e->k.changed = now;
	return e;
}

static void
tkey_drop(struct dnssec_rfc5011 *t, size_t i)
{
	free(t->v[i].rd);
	t->v[i] = t->v[--t->n];
}

static void
set_state(struct tkey *e, enum dnssec_rfc5011_state st, int64_t hold, int64_t now)
{
	e->k.state = st;
	e->k.hold_until = hold;
	e->k.changed = now;
}

void
dnssec_rfc5011_set_holddown(struct dnssec_rfc5011 *t, int64_t add, int64_t remove)
{
	pthread_mutex_lock(&t->lock);
	t->add_hold = add;
	t->remove_hold = remove;
	pthread_mutex_unlock(&t->lock);
}

void
dnssec_rfc5011_free(struct dnssec_rfc5011 *t)
{
	if (t == NULL) {
		return;
	}
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].rd);
	}
	free(t->v);
	free(t->path);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

/* ------------------------------------------------------------------------------------------ */
/* The state file                                                                               */

static int
hex_decode(const char *h, uint8_t *out, size_t cap, size_t *len)
{
	size_t n = strlen(h);
	if (n % 2 != 0 || n / 2 > cap) {
		return TDNS_EMALFORMED;
	}
	for (size_t i = 0; i < n / 2; i++) {
		int hi = tdns_hex_value(h[2 * i]), lo = tdns_hex_value(h[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			return TDNS_EMALFORMED;
		}
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*len = n / 2;
	return TDNS_OK;
}

/* Writes the whole state.  Under lock. */
static int
save(const struct dnssec_rfc5011 *t)
{
	if (t->path == NULL) {
		return TDNS_OK;
	}
	int rc = TDNS_ENOMEM;
	json_t *keys = json_array();
	json_t *doc = json_pack("{s:i, s:o}", "version", 1, "keys", keys);
	char *hex = NULL;
	for (size_t i = 0; doc != NULL && i < t->n; i++) {
		const struct tkey *e = &t->v[i];
		char owner[DNS_NAME_TEXT_MAX];
		free(hex);
		hex = malloc(2 * e->len + 1);
		if (hex == NULL || dns_name_to_text(e->k.owner, owner, sizeof(owner)) < 0) {
			goto out;
		}
		for (size_t j = 0; j < e->len; j++) {
			snprintf(hex + 2 * j, 3, "%02x", e->rd[j]);
		}
		json_t *row = json_pack("{s:s, s:i, s:i, s:s, s:I, s:I, s:I, s:I, s:s}", "owner",
					owner, "tag", e->k.tag, "alg", e->k.alg, "state",
					state_names[e->k.state], "first_seen",
					(json_int_t)e->k.first_seen, "last_seen",
					(json_int_t)e->k.last_seen, "changed",
					(json_int_t)e->k.changed, "hold_until",
					(json_int_t)e->k.hold_until, "dnskey", hex);
		if (json_array_append_new(keys, row) != 0) {
			goto out;
		}
	}
	if (doc != NULL) {
		rc = dnssec_state_save(t->path, doc);
	}
out:
	free(hex);
	json_decref(doc);
	return rc;
}

/* Reads the state file into t (empty).  A missing file is an empty state. */
static int
load(struct dnssec_rfc5011 *t, char *err, size_t errlen)
{
	json_t *doc;
	int rc = dnssec_state_load(t->path, &doc, err, errlen);
	if (rc != TDNS_OK || doc == NULL) {
		return rc;
	}
	json_t *keys = json_object_get(doc, "keys");
	size_t i;
	json_t *row;
	if (!json_is_array(keys)) {
		snprintf(err, errlen, "%s: no \"keys\" array", t->path);
		rc = TDNS_EMALFORMED;
		goto out;
	}
	json_array_foreach(keys, i, row) {
		const char *owner = json_string_value(json_object_get(row, "owner"));
		const char *hex = json_string_value(json_object_get(row, "dnskey"));
		int st = state_parse(json_string_value(json_object_get(row, "state")));
		uint8_t name[DNS_NAME_MAX], rd[KEY_MAX];
		size_t len = 0;
		struct dnssec_dnskey dk;
		if (owner == NULL || hex == NULL || st < 0 ||
		    dns_name_from_text(owner, strlen(owner), NULL, name) < 0 ||
		    hex_decode(hex, rd, sizeof(rd), &len) != TDNS_OK ||
		    dnssec_dnskey_parse(rd, len, &dk) != TDNS_OK) {
			snprintf(err, errlen, "%s: key %zu is not {\"owner\", \"state\", \"dnskey\", "
				 "...} with a DNSKEY in hex", t->path, i + 1);
			rc = TDNS_EMALFORMED;
			goto out;
		}
		struct tkey *e = tkey_add(t, name, rd, len, (enum dnssec_rfc5011_state)st, 0);
		if (e == NULL) {
			rc = TDNS_ENOMEM;
			goto out;
		}
		e->k.first_seen = json_integer_value(json_object_get(row, "first_seen"));
		e->k.last_seen = json_integer_value(json_object_get(row, "last_seen"));
		e->k.changed = json_integer_value(json_object_get(row, "changed"));
		e->k.hold_until = json_integer_value(json_object_get(row, "hold_until"));
	}
out:
	json_decref(doc);
	return rc;
}

int
dnssec_rfc5011_new(const char *path, struct dnssec_rfc5011 **out, char *err, size_t errlen)
{
	*out = NULL;
	struct dnssec_rfc5011 *t = calloc(1, sizeof(*t));
	if (t == NULL || (path != NULL && (t->path = strdup(path)) == NULL)) {
		free(t);
		snprintf(err, errlen, "out of memory");
		return TDNS_ENOMEM;
	}
	pthread_mutex_init(&t->lock, NULL);
	t->add_hold = DNSSEC_5011_ADD_HOLDDOWN;
	t->remove_hold = DNSSEC_5011_REMOVE_HOLDDOWN;
	int rc = path != NULL ? load(t, err, errlen) : TDNS_OK;
	if (rc != TDNS_OK) {
		dnssec_rfc5011_free(t);
		return rc;
	}
	*out = t;
	return TDNS_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* The state machine (RFC 5011 §4)                                                              */

/* True when the DNSKEY rdata is a key RFC 5011 tracks: Zone Key + SEP, protocol 3, usable. */
static bool
sep_key(const struct dnssec_rdata *rd)
{
	struct dnssec_dnskey k;
	return dnssec_dnskey_parse(rd->rd, rd->len, &k) == TDNS_OK && k.protocol == 3 &&
	       (k.flags & DNSSEC_DNSKEY_ZONE) && (k.flags & DNSSEC_DNSKEY_SEP) &&
	       dnssec_alg_supported(k.alg);
}

/* RFC 5011 §2.1: a revocation counts only when the revoked key signed the DNSKEY RRset. */
static bool
self_signed(const struct dnssec_rrset *keys, const struct dnssec_rdata *rd,
	    const struct dnssec_rdata *sigs, size_t nsig, int64_t now)
{
	struct dnssec_key *key = NULL;
	if (dnssec_key_new(keys->owner, rd->rd, rd->len, &key) != DNSSEC_OK) {
		return false;
	}
	/* At most a few signatures per revoked key: the set was verified already. */
	struct dnssec_budget b;
	dnssec_budget_init(&b, 4, 0);
	enum dnssec_result r = dnssec_rrset_verify(keys, sigs, nsig, &key, 1, (uint32_t)now, 0, &b,
						   NULL, NULL);
	dnssec_key_free(key);
	return r == DNSSEC_OK;
}

/* True when a configured DS or DNSKEY of the trust point names this key (identity id). */
static bool
configured_key(const struct dnssec_anchor_set *as, const uint8_t *owner, const uint8_t *id,
	       size_t len)
{
	for (size_t j = 0; j < as->nds; j++) {
		if (dnssec_ds_match(owner, as->ds[j].rd, as->ds[j].len, id, len) == DNSSEC_OK) {
			return true;
		}
	}
	for (size_t j = 0; j < as->nkeys; j++) {
		if (as->keys[j].len == len && memcmp(as->keys[j].rd, id, len) == 0) {
			return true;
		}
	}
	return false;
}

/* One validated key of the set: §4.1 NewKey, AddTime, ReAdd, RevBit.  Under lock. */
static bool
see_key(struct dnssec_rfc5011 *t, const struct dnssec_anchor_set *as,
	const struct dnssec_rrset *keys, const struct dnssec_rdata *rd,
	const struct dnssec_rdata *sigs, size_t nsig, uint32_t ttl, int64_t now, bool first_use)
{
	uint8_t id[KEY_MAX];
	identity(rd->rd, rd->len, id);
	bool revoked = (rd->rd[1] & DNSSEC_DNSKEY_REVOKE) != 0;
	ssize_t i = tkey_find(t, keys->owner, id, rd->len);
	struct tkey *e = i >= 0 ? &t->v[i] : NULL;
	if (revoked) {
		if ((e != NULL && (e->k.state == DNSSEC_5011_REVOKED ||
				   e->k.state == DNSSEC_5011_REMOVED)) ||
		    !self_signed(keys, rd, sigs, nsig, now)) {
			/* Not a revocation, and not the key itself either: it may go Missing. */
			return false;
		}
		if (e == NULL) {
			if (tkey_count(t, keys->owner, false) >= DNSSEC_5011_KEYS_MAX) {
				return false;
			}
			e = tkey_add(t, keys->owner, id, rd->len, DNSSEC_5011_REVOKED, now);
			if (e == NULL) {
				return false;
			}
		}
		set_state(e, DNSSEC_5011_REVOKED, now + t->remove_hold, now);
		e->k.last_seen = now;
		return true;
	}
	if (e == NULL) {
		if (tkey_count(t, keys->owner, false) >= DNSSEC_5011_KEYS_MAX) {
			return false;
		}
		bool trusted = first_use && configured_key(as, keys->owner, id, rd->len);
		int64_t hold = t->add_hold > (int64_t)ttl ? t->add_hold : (int64_t)ttl;
		e = tkey_add(t, keys->owner, id, rd->len,
			     trusted ? DNSSEC_5011_VALID : DNSSEC_5011_ADDPEND, now);
		if (e != NULL && !trusted) {
			e->k.hold_until = now + hold;
		}
		return e != NULL;
	}
	e->k.last_seen = now;
	switch (e->k.state) {
	case DNSSEC_5011_ADDPEND:
		if (now >= e->k.hold_until) {
			set_state(e, DNSSEC_5011_VALID, 0, now);
			return true;
		}
		return false;
	case DNSSEC_5011_MISSING:
		set_state(e, DNSSEC_5011_VALID, 0, now);
		return true;
	default:
		return false;
	}
}

/* §4.1 KeyRem and RemTime for the keys of owner missing from the set.  Under lock. */
static bool
unseen_keys(struct dnssec_rfc5011 *t, const struct dnssec_rrset *keys, int64_t now)
{
	bool changed = false;
	for (size_t i = t->n; i-- > 0;) {
		struct tkey *e = &t->v[i];
		if (!dns_name_eq(e->k.owner, keys->owner)) {
			continue;
		}
		if (e->k.state == DNSSEC_5011_REVOKED && now >= e->k.hold_until) {
			set_state(e, DNSSEC_5011_REMOVED, 0, now);
			changed = true;
		}
		if (e->k.last_seen == now) {
			continue;
		}
		if (e->k.state == DNSSEC_5011_ADDPEND) {
			tkey_drop(t, i); /* back to Start: the hold-down begins again */
			changed = true;
		} else if (e->k.state == DNSSEC_5011_VALID) {
			set_state(e, DNSSEC_5011_MISSING, 0, now);
			changed = true;
		}
	}
	return changed;
}

int
dnssec_rfc5011_update(struct dnssec_rfc5011 *t, const struct dnssec_anchors *configured,
		      const struct dnssec_rrset *keys, const struct dnssec_rdata *sigs, size_t nsig,
		      uint32_t ttl, int64_t now, bool *changed)
{
	bool ch = false;
	int rc = TDNS_OK;
	struct dnssec_anchor_set as;
	if (changed != NULL) {
		*changed = false;
	}
	if (!dnssec_anchors_closest(configured, keys->owner, &as) ||
	    !dns_name_eq(as.owner, keys->owner)) {
		return TDNS_OK;
	}
	pthread_mutex_lock(&t->lock);
	bool first_use = tkey_count(t, keys->owner, true) == 0;
	/* Mark what this set holds first, so that KeyRem sees only what is really gone. */
	for (size_t i = 0; i < keys->count; i++) {
		if (keys->rdata[i].len <= KEY_MAX && sep_key(&keys->rdata[i])) {
			ch |= see_key(t, &as, keys, &keys->rdata[i], sigs, nsig, ttl, now, first_use);
		}
	}
	/* A key seen again at the same second still counts as seen: last_seen == now. */
	ch |= unseen_keys(t, keys, now);
	if (ch) {
		rc = save(t);
	}
	pthread_mutex_unlock(&t->lock);
	if (changed != NULL) {
		*changed = ch;
	}
	return rc;
}

int
dnssec_rfc5011_anchors(struct dnssec_rfc5011 *t, const struct dnssec_anchors *configured,
		       struct dnssec_anchors **out)
{
	struct dnssec_anchors *a = dnssec_anchors_new();
	if (a == NULL) {
		return TDNS_ENOMEM;
	}
	int rc = TDNS_OK;
	struct dnssec_anchor_set as;
	pthread_mutex_lock(&t->lock);
	for (size_t z = 0; rc == TDNS_OK && dnssec_anchors_at(configured, z, &as); z++) {
		if (tkey_count(t, as.owner, true) > 0) {
			for (size_t i = 0; rc == TDNS_OK && i < t->n; i++) {
				const struct tkey *e = &t->v[i];
				if (dns_name_eq(e->k.owner, as.owner) &&
				    (e->k.state == DNSSEC_5011_VALID ||
				     e->k.state == DNSSEC_5011_MISSING)) {
					rc = dnssec_anchors_add(a, as.owner, DNS_TYPE_DNSKEY, e->rd,
								e->len);
				}
			}
			continue;
		}
		for (size_t j = 0; rc == TDNS_OK && j < as.nds; j++) {
			rc = dnssec_anchors_add(a, as.owner, DNS_TYPE_DS, as.ds[j].rd, as.ds[j].len);
		}
		for (size_t j = 0; rc == TDNS_OK && j < as.nkeys; j++) {
			rc = dnssec_anchors_add(a, as.owner, DNS_TYPE_DNSKEY, as.keys[j].rd,
						as.keys[j].len);
		}
	}
	pthread_mutex_unlock(&t->lock);
	if (rc != TDNS_OK) {
		dnssec_anchors_free(a);
		return rc;
	}
	*out = a;
	return TDNS_OK;
}

struct dnssec_rfc5011_key *
dnssec_rfc5011_list(struct dnssec_rfc5011 *t, size_t *n)
{
	pthread_mutex_lock(&t->lock);
	struct dnssec_rfc5011_key *v = t->n > 0 ? malloc(t->n * sizeof(*v)) : NULL;
	*n = v != NULL ? t->n : t->n > 0 ? (size_t)-1 : 0;
	for (size_t i = 0; v != NULL && i < t->n; i++) {
		v[i] = t->v[i].k;
	}
	pthread_mutex_unlock(&t->lock);
	return v;
}
