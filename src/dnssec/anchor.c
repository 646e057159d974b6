/* SPDX-License-Identifier: MIT */
/* Trust anchors: the built-in root KSKs, anchor files in Unbound's format, closest lookup. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnssec/dnssec.h"

/*
 * The root zone's KSKs as IANA publishes them (https://data.iana.org/root-anchors/
 * root-anchors.xml): KSK-2017 (tag 20326) and KSK-2024 (tag 38696), SHA-256 digests.  The
 * same records are in Debian's dns-root-data (/usr/share/dns/root.ds).
 */
static const char anchor_root_text[] =
	". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n"
	". IN DS 38696 8 2 683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16\n";

/* The anchors of one owner name. */
struct anchor_zone {
	uint8_t owner[DNS_NAME_MAX];
	struct dnssec_rdata *ds;
	size_t nds;
	struct dnssec_rdata *keys;
	size_t nkeys;
};

struct dnssec_anchors {
	struct anchor_zone *zones;
	size_t n;
};

struct dnssec_anchors *
dnssec_anchors_new(void)
{
	return calloc(1, sizeof(struct dnssec_anchors));
}

static void
anchor_rdatas_free(struct dnssec_rdata *rd, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free((void *)rd[i].rd);
	}
	free(rd);
}

void
dnssec_anchors_free(struct dnssec_anchors *a)
{
	if (a == NULL) {
		return;
	}
	for (size_t i = 0; i < a->n; i++) {
		anchor_rdatas_free(a->zones[i].ds, a->zones[i].nds);
		anchor_rdatas_free(a->zones[i].keys, a->zones[i].nkeys);
	}
	free(a->zones);
	free(a);
}

/* The zone entry for owner, created when create is set; NULL when absent or out of memory. */
static struct anchor_zone *
anchor_zone_get(struct dnssec_anchors *a, const uint8_t *owner, bool create)
{
	for (size_t i = 0; i < a->n; i++) {
		if (dns_name_eq(a->zones[i].owner, owner)) {
			return &a->zones[i];
		}
	}
	if (!create) {
		return NULL;
	}
	struct anchor_zone *z = realloc(a->zones, (a->n + 1) * sizeof(*z));
	if (z == NULL) {
		return NULL;
	}
	a->zones = z;
	z = &a->zones[a->n++];
	memset(z, 0, sizeof(*z));
	memcpy(z->owner, owner, dns_name_len(owner));
	dns_name_lower(z->owner);
	return z;
}

/* Appends a copy of rd to *set unless an equal rdata is there already. */
static int
anchor_rdata_add(struct dnssec_rdata **set, size_t *n, const uint8_t *rd, size_t rdlen)
{
	for (size_t i = 0; i < *n; i++) {
		if ((*set)[i].len == rdlen && memcmp((*set)[i].rd, rd, rdlen) == 0) {
			return TDNS_OK;
		}
	}
	struct dnssec_rdata *s = realloc(*set, (*n + 1) * sizeof(*s));
	if (s == NULL) {
		return TDNS_ENOMEM;
	}
	*set = s;
	uint8_t *copy = malloc(rdlen);
	if (copy == NULL) {
		return TDNS_ENOMEM;
	}
	memcpy(copy, rd, rdlen);
	s[(*n)++] = (struct dnssec_rdata){ copy, rdlen };
	return TDNS_OK;
}

int
dnssec_anchors_add(struct dnssec_anchors *a, const uint8_t *owner, uint16_t type,
		   const uint8_t *rd, size_t rdlen)
{
	if (type == DNS_TYPE_DS) {
		struct dnssec_ds ds;
		if (dnssec_ds_parse(rd, rdlen, &ds) != TDNS_OK) {
			return TDNS_EBADRDATA;
		}
	} else if (type == DNS_TYPE_DNSKEY) {
		struct dnssec_dnskey k;
		if (dnssec_dnskey_parse(rd, rdlen, &k) != TDNS_OK) {
			return TDNS_EBADRDATA;
		}
	} else {
		return TDNS_EINVAL;
	}
	struct anchor_zone *z = anchor_zone_get(a, owner, true);
	if (z == NULL) {
		return TDNS_ENOMEM;
	}
	if (type == DNS_TYPE_DS) {
		return anchor_rdata_add(&z->ds, &z->nds, rd, rdlen);
	}
	return anchor_rdata_add(&z->keys, &z->nkeys, rd, rdlen);
}

/* What the zone-file reader's callback needs. */
struct anchor_load {
	struct dnssec_anchors *a;
	char why[128];
};

static int
anchor_load_cb(void *ctx, const struct dns_zf_rr *rr)
{
	struct anchor_load *l = ctx;
	int rc = dnssec_anchors_add(l->a, rr->owner, rr->type, rr->rdata, rr->rdlen);
	if (rc == TDNS_EINVAL) {
		char tb[16];
		snprintf(l->why, sizeof(l->why), "%s record in a trust anchor file (only DS and "
			 "DNSKEY)", dns_type_to_text(rr->type, tb));
	} else if (rc == TDNS_EBADRDATA) {
		snprintf(l->why, sizeof(l->why), "malformed %s trust anchor",
			 rr->type == DNS_TYPE_DS ? "DS" : "DNSKEY");
	}
	return rc;
}

/* Runs the zone-file reader (path, or text/len named name) into a. */
static int
anchor_load(struct dnssec_anchors *a, const char *path, const char *text, size_t len,
	    const char *name, struct dns_zf_error *err)
{
	struct dns_zf_error local;
	if (err == NULL) {
		err = &local;
	}
	struct anchor_load l = { .a = a };
	static const uint8_t root[] = { 0 };
	int rc;
	if (path != NULL) {
		rc = dns_zonefile_read(path, root, 3600, anchor_load_cb, &l, err);
	} else {
		rc = dns_zonefile_read_mem(text, len, name, root, 3600, anchor_load_cb, &l, err);
	}
	if (rc != TDNS_OK && l.why[0] != '\0') {
		snprintf(err->msg, sizeof(err->msg), "%.255s:%u: %s", err->file, err->line, l.why);
	}
	return rc;
}

int
dnssec_anchors_load(struct dnssec_anchors *a, const char *path, struct dns_zf_error *err)
{
	return anchor_load(a, path, NULL, 0, path, err);
}

int
dnssec_anchors_load_mem(struct dnssec_anchors *a, const char *text, size_t len, const char *name,
			struct dns_zf_error *err)
{
	return anchor_load(a, NULL, text, len, name, err);
}

int
dnssec_anchors_add_root(struct dnssec_anchors *a)
{
	return anchor_load(a, NULL, anchor_root_text, sizeof(anchor_root_text) - 1,
			   "<built-in root anchors>", NULL);
}

size_t
dnssec_anchors_count(const struct dnssec_anchors *a)
{
	size_t n = 0;
	for (size_t i = 0; i < a->n; i++) {
		n += a->zones[i].nds + a->zones[i].nkeys;
	}
	return n;
}

bool
dnssec_anchors_closest(const struct dnssec_anchors *a, const uint8_t *name,
		       struct dnssec_anchor_set *out)
{
	/* From name up to the root, one label at a time: the first owner found is the deepest. */
	for (const uint8_t *n = name;; n += 1 + n[0]) {
		for (size_t i = 0; i < a->n; i++) {
			const struct anchor_zone *z = &a->zones[i];
			if (dns_name_eq(z->owner, n)) {
				*out = (struct dnssec_anchor_set){ z->owner, z->ds, z->nds, z->keys,
								   z->nkeys };
				return true;
			}
		}
		if (n[0] == 0) {
			return false;
		}
	}
}

bool
dnssec_anchors_at(const struct dnssec_anchors *a, size_t i, struct dnssec_anchor_set *out)
{
	if (i >= a->n) {
		return false;
	}
	const struct anchor_zone *z = &a->zones[i];
	*out = (struct dnssec_anchor_set){ z->owner, z->ds, z->nds, z->keys, z->nkeys };
	return true;
}
