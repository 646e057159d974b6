/* SPDX-License-Identifier: MIT */
/* The `record ...` control commands: list, add, delete and update records of a zone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg/cfg.h"
#include "ctl/cmd-zone.h"
#include "resolver/resolver.h"

/* TTL of a new rrset when none is given and the name has none of that type (ISSUE3.md). */
#define RECORD_DEFAULT_TTL 3600

/* Presentation form of one RR can reach 4x the rdata (\DDD escapes) plus the owner. */
#define RECORD_LINE_MAX (4 * DNS_RDATA_MAX + 2 * DNS_NAME_TEXT_MAX + 64)

static const char *
arg_str(const struct ctl_req *req, const char *name)
{
	return json_string_value(json_object_get(req->args, name));
}

static uint32_t
serial_policy(const struct ctl_req *req)
{
	const struct cfg *c = req->env->cfg(req->env->daemon);
	return c != NULL ? c->serial_policy : CFG_SERIAL_INCREMENT;
}

/* ------------------------------------------------------------------------------------------ */
/* Arguments                                                                                   */

/* What a record command names: the zone, the owner, maybe a type and one record. */
struct rec {
	struct ctl_zone_ref zr;
	uint8_t owner[DNS_NAME_MAX];
	char owner_text[DNS_NAME_TEXT_MAX];
	uint16_t type;               /* 0: none given */
	char type_text[16];
	bool has_rdata;
	bool has_ttl;                /* the words started with a TTL */
	uint32_t ttl;
	uint8_t *rd;                 /* DNS_RDATA_MAX bytes, malloc'd */
	size_t rdlen;
};

static int
rec_zone_and_name(struct ctl_req *req, struct rec *r)
{
	int rc = ctl_zone_find(req, arg_str(req, "zone"), &r->zr);
	if (rc != TDNS_OK) {
		return rc;
	}
	const char *name = arg_str(req, "name");
	if (name == NULL || name[0] == '\0') {
		return ctl_zone_fail(req, TDNS_EBADTEXT, "empty owner name");
	}
	/* "@" is the apex; other names are relative to the zone unless they end in a dot. */
	int len = dns_name_from_text(name, strlen(name), r->zr.apex, r->owner);
	if (len < 0) {
		return ctl_zone_fail(req, TDNS_EBADTEXT, "bad name '%s': %s", name,
				     tdns_status_msg(len));
	}
	if (!dns_name_is_sub(r->owner, r->zr.apex)) {
		return ctl_zone_fail(req, TDNS_EOUTOFZONE, "name %s is outside zone %s", name,
				     r->zr.name);
	}
	if (dns_name_to_text(r->owner, r->owner_text, sizeof(r->owner_text)) < 0) {
		return ctl_zone_fail(req, TDNS_EBADTEXT, "bad name '%s'", name);
	}
	return TDNS_OK;
}

static int
rec_type(struct ctl_req *req, struct rec *r, const char *type)
{
	int t = dns_type_from_text(type, strlen(type));
	if (t < 0) {
		return ctl_zone_fail(req, TDNS_EUNKTYPE, "unknown record type '%s'", type);
	}
	if (t == 0 || dns_type_is_meta((uint16_t)t)) {
		return ctl_zone_fail(req, TDNS_EINVAL, "type %s cannot appear in zone data", type);
	}
	r->type = (uint16_t)t;
	char buf[16];
	snprintf(r->type_text, sizeof(r->type_text), "%s", dns_type_to_text(r->type, buf));
	return TDNS_OK;
}

struct one_rr {
	struct rec *r;
	unsigned count;
};

static int
one_rr_cb(void *ctx, const struct dns_zf_rr *rr)
{
	struct one_rr *o = ctx;
	if (++o->count > 1) {
		return TDNS_EINVAL;
	}
	memcpy(o->r->rd, rr->rdata, rr->rdlen);
	o->r->rdlen = rr->rdlen;
	o->r->ttl = rr->ttl;
	return TDNS_OK;
}

/*
 * Parses words[from..] as the rdata of r->type by reading a one-line zone file, so that the
 * syntax (quotes, escapes, relative names, RFC 3597 \#) is exactly the zone file's.
 */
static int
parse_rdata(struct rec *r, json_t *words, size_t from, uint32_t ttl, char *err, size_t errlen)
{
	size_t cap = strlen(r->zr.name) + strlen(r->owner_text) + 64;
	for (size_t i = from; i < json_array_size(words); i++) {
		cap += json_string_length(json_array_get(words, i)) + 1;
	}
	char *text = malloc(cap);
	if (text == NULL) {
		snprintf(err, errlen, "out of memory");
		return TDNS_ENOMEM;
	}
	int n = snprintf(text, cap, "$ORIGIN %s\n%s %u IN %s", r->zr.name, r->owner_text, ttl,
			 r->type_text);
	size_t len = n > 0 ? (size_t)n : 0;
	for (size_t i = from; i < json_array_size(words); i++) {
		const char *w = json_string_value(json_array_get(words, i));
		size_t wl = json_string_length(json_array_get(words, i));
		text[len++] = ' ';
		memcpy(text + len, w, wl);
		len += wl;
	}
	text[len++] = '\n';
	struct one_rr o = { .r = r, .count = 0 };
	struct dns_zf_error ze;
	memset(&ze, 0, sizeof(ze));
	int rc = dns_zonefile_read_mem(text, len, "rdata", r->zr.apex, ttl, one_rr_cb, &o, &ze);
	free(text);
	if (rc == TDNS_OK && o.count == 0) {
		snprintf(err, errlen, "no rdata given");
		return TDNS_EBADRDATA;
	}
	if (rc != TDNS_OK) {
		/* The place in the made-up file means nothing to people: keep the reason. */
		const char *msg = ze.msg;
		const char *p = strncmp(msg, "rdata:", 6) == 0 ? strstr(msg + 6, ": ") : NULL;
		msg = p != NULL ? p + 2 : msg;
		if (o.count > 1) {
			msg = "more than one record given";
		}
		snprintf(err, errlen, "%s", msg);
		return rc == TDNS_EINVAL && o.count > 1 ? TDNS_EBADRDATA : rc;
	}
	return TDNS_OK;
}

/* The TTL of the existing rrset owner/type in z, else the default. */
static uint32_t
default_ttl(const struct zone *z, const struct rec *r)
{
	const struct zone_node *n = zone_find(z, r->owner);
	const struct zone_rrset *rs = n != NULL ? zone_node_rrset(n, r->type) : NULL;
	return rs != NULL ? rs->ttl : RECORD_DEFAULT_TTL;
}

/*
 * Reads the rdata words of a request: a leading word is the TTL when it parses as one AND
 * the remaining words are valid rdata of the type (ISSUE3.md); else every word is rdata.
 */
static int
rec_rdata(struct ctl_req *req, struct rec *r, const struct zone *cur)
{
	json_t *words = json_object_get(req->args, "rdata");
	size_t nw = json_array_size(words);
	for (size_t i = 0; i < nw; i++) {
		const char *w = json_string_value(json_array_get(words, i));
		if (w == NULL || strpbrk(w, "\n\r") != NULL) {
			/* One record is one line: no way to smuggle in a second one. */
			return ctl_zone_fail(req, TDNS_EBADTEXT, "rdata words may not contain "
					     "line breaks");
		}
	}
	if (nw == 0) {
		return ctl_zone_fail(req, TDNS_EBADRDATA, "no rdata given for %s", r->type_text);
	}
	r->rd = malloc(DNS_RDATA_MAX);
	if (r->rd == NULL) {
		return ctl_zone_fail(req, TDNS_ENOMEM, "out of memory");
	}
	char err[600];
	uint32_t ttl;
	const char *w0 = json_string_value(json_array_get(words, 0));
	if (nw >= 2 && dns_ttl_parse(w0, strlen(w0), &ttl) == TDNS_OK &&
	    parse_rdata(r, words, 1, ttl, err, sizeof(err)) == TDNS_OK) {
		r->has_ttl = true;
		r->has_rdata = true;
		return TDNS_OK;
	}
	int rc = parse_rdata(r, words, 0, default_ttl(cur, r), err, sizeof(err));
	if (rc != TDNS_OK && rc != TDNS_ENOMEM && nw >= 2) {
		/* The rest is good rdata: the first word was meant as a TTL and is not one. */
		char err2[600];
		if (parse_rdata(r, words, 1, default_ttl(cur, r), err2, sizeof(err2)) == TDNS_OK) {
			return ctl_zone_fail(req, TDNS_EBADRDATA, "bad TTL '%s': expected seconds "
					     "(0 to 2147483647) or units such as 1h30m", w0);
		}
	}
	if (rc != TDNS_OK) {
		return ctl_zone_fail(req, rc == TDNS_ENOMEM ? rc : TDNS_EBADRDATA,
				     "bad %s rdata: %s", r->type_text, err);
	}
	r->has_rdata = true;
	return TDNS_OK;
}

/*
 * FWD records name the servers of a conditional forwarder zone (issue 4): they belong in such
 * a zone, and their one string must be a server URL or this-server.
 */
static int
rec_check_fwd(struct ctl_req *req, const struct rec *r, const struct zone *cur)
{
	if (r->type != DNS_TYPE_FWD || !r->has_rdata) {
		return TDNS_OK;
	}
	if (!cur->forwarder) {
		return ctl_zone_fail(req, TDNS_EINVAL, "FWD records belong in conditional forwarder "
				     "zones; %s is not one (zone create NAME --type forwarder)",
				     r->zr.name);
	}
	char spec[256], msg[256];
	memcpy(spec, r->rd + 1, r->rd[0]);
	spec[r->rd[0]] = '\0';
	if (resolver_fwd_spec_check(spec, msg, sizeof(msg)) != TDNS_OK) {
		return ctl_zone_fail(req, TDNS_EBADRDATA, "bad FWD rdata: '%s': %s; expected a "
				     "server URL or this-server", spec, msg);
	}
	return TDNS_OK;
}

static bool
rrset_holds(const struct zone_rrset *rs, uint16_t type, const uint8_t *rd, size_t rdlen)
{
	const uint8_t *p = rs->data;
	for (uint16_t i = 0; i < rs->count; i++) {
		const uint8_t *x;
		uint16_t xlen;
		p = zone_rdata_next(p, &x, &xlen);
		if (dns_rdata_cmp(type, x, xlen, rd, rdlen) == 0) {
			return true;
		}
	}
	return false;
}

static const struct zone_rrset *
find_rrset(const struct zone *z, const uint8_t *owner, uint16_t type)
{
	const struct zone_node *n = zone_find(z, owner);
	return n != NULL ? zone_node_rrset(n, type) : NULL;
}

/* Re-adds every record of owner/type with a new TTL (RFC 2181 §5.2: one TTL per rrset). */
static int
retime_rrset(struct zone *z, const uint8_t *owner, uint16_t type, uint32_t ttl)
{
	const struct zone_rrset *rs = find_rrset(z, owner, type);
	if (rs == NULL || rs->ttl == ttl) {
		return TDNS_OK;
	}
	size_t size = rs->size;
	uint16_t count = rs->count;
	uint8_t *copy = malloc(size ? size : 1);
	if (copy == NULL) {
		return TDNS_ENOMEM;
	}
	memcpy(copy, rs->data, size);
	int rc = zone_remove_rr(z, owner, type, NULL, 0);
	const uint8_t *p = copy;
	for (uint16_t i = 0; i < count && rc == TDNS_OK; i++) {
		const uint8_t *rd;
		uint16_t rdlen;
		p = zone_rdata_next(p, &rd, &rdlen);
		rc = zone_add_rr(z, owner, type, ttl, rd, rdlen);
	}
	free(copy);
	return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Replies                                                                                     */

static json_t *
change_data(const struct rec *r, uint32_t serial, bool changed)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:b}", "zone", r->zr.name, "name",
			      r->owner_text, "type", r->type != 0 ? r->type_text : "ANY",
			      "serial", (json_int_t)serial, "changed", changed);
	if (o != NULL && r->has_rdata) {
		char *text = malloc(RECORD_LINE_MAX);
		if (text != NULL && dns_rdata_to_text(r->type, r->rd, r->rdlen, text,
						      RECORD_LINE_MAX) >= 0) {
			json_object_set_new(o, "rdata", json_string(text));
			json_object_set_new(o, "ttl", json_integer(r->ttl));
		}
		free(text);
	}
	return o;
}

static void
rec_free(struct rec *r)
{
	free(r->rd);
}

/* Bumps the serial of z per the policy and commits it (see ctl_zone_commit). */
static int
bump_and_commit(struct ctl_req *req, struct rec *r, struct zone *z, uint32_t old_serial,
		uint32_t *serial)
{
	uint32_t now = ctl_zone_serial(z);
	/*
	 * An explicit new SOA may carry a larger serial of its own; otherwise bump (RFC 1982).
	 * Without exactly one SOA there is nothing to bump, and the check in commit refuses.
	 */
	if (!ctl_zone_serial_gt(now, old_serial)) {
		uint32_t next = ctl_zone_next_serial(serial_policy(req), old_serial);
		int rc = ctl_zone_set_serial(z, next);
		if (rc != TDNS_OK && rc != TDNS_ENOSOA && rc != TDNS_EMULTISOA) {
			zone_free(z);
			return ctl_zone_fail(req, rc, "zone %s: %s; nothing changed", r->zr.name,
					     tdns_status_msg(rc));
		}
	}
	return ctl_zone_commit(req, &r->zr, z, serial);
}

/* ------------------------------------------------------------------------------------------ */
/* Handlers                                                                                    */

struct list_ctx {
	json_t *out;
	const struct zone *z;
	const uint8_t *owner;  /* NULL: every name */
	uint16_t type;         /* 0: every type */
	char *line;
	int rc;
};

static int
type_order(const void *a, const void *b)
{
	const struct zone_rrset *x = *(const struct zone_rrset *const *)a;
	const struct zone_rrset *y = *(const struct zone_rrset *const *)b;
	/* The SOA opens the zone, as in a zone file (RFC 1035 §5.2). */
	int kx = x->type == DNS_TYPE_SOA ? -1 : x->type;
	int ky = y->type == DNS_TYPE_SOA ? -1 : y->type;
	return kx - ky;
}

static int
list_rrset(struct list_ctx *lc, const struct zone_node *n, const struct zone_rrset *rs)
{
	char owner[DNS_NAME_TEXT_MAX], tbuf[16], cbuf[16];
	if (dns_name_to_text(n->name, owner, sizeof(owner)) < 0) {
		return TDNS_ESPACE;
	}
	const char *type = dns_type_to_text(rs->type, tbuf);
	const char *cls = dns_class_to_text(DNS_CLASS_IN, cbuf);
	const uint8_t *p = rs->data;
	for (uint16_t i = 0; i < rs->count; i++) {
		const uint8_t *rd;
		uint16_t rdlen;
		p = zone_rdata_next(p, &rd, &rdlen);
		int len = dns_rdata_to_text(rs->type, rd, rdlen, lc->line, RECORD_LINE_MAX);
		if (len < 0) {
			return len;
		}
		json_t *o = json_pack("{s:s, s:I, s:s, s:s, s:s}", "name", owner, "ttl",
				      (json_int_t)rs->ttl, "class", cls, "type", type, "rdata",
				      lc->line);
		len = dns_rr_to_text(n->name, rs->type, DNS_CLASS_IN, rs->ttl, rd, rdlen,
				     lc->line, RECORD_LINE_MAX);
		if (o == NULL || len < 0) {
			json_decref(o);
			return len < 0 ? len : TDNS_ENOMEM;
		}
		json_object_set_new(o, "text", json_string(lc->line));
		if (json_array_append_new(lc->out, o) != 0) {
			return TDNS_ENOMEM;
		}
	}
	return TDNS_OK;
}

static int
list_node(void *ctx, const struct zone_node *n)
{
	struct list_ctx *lc = ctx;
	if (lc->owner != NULL && !dns_name_eq(n->name, lc->owner)) {
		return 0;
	}
	const struct zone_rrset *v[256];
	size_t k = 0;
	for (const struct zone_rrset *rs = n->rrsets; rs != NULL && k < 256; rs = rs->next) {
		if (lc->type == 0 || rs->type == lc->type) {
			v[k++] = rs;
		}
	}
	qsort(v, k, sizeof(v[0]), type_order);
	for (size_t i = 0; i < k; i++) {
		lc->rc = list_rrset(lc, n, v[i]);
		if (lc->rc != TDNS_OK) {
			return 1;
		}
	}
	return 0;
}

int
ctl_cmd_record_list(struct ctl_req *req)
{
	struct rec r = { .type = 0 };
	int rc = ctl_zone_find(req, arg_str(req, "zone"), &r.zr);
	if (rc != TDNS_OK) {
		return rc;
	}
	const char *name = arg_str(req, "name");
	const char *type = arg_str(req, "type");
	if (name != NULL && (rc = rec_zone_and_name(req, &r)) != TDNS_OK) {
		return rc;
	}
	if (type != NULL && (rc = rec_type(req, &r, type)) != TDNS_OK) {
		return rc;
	}
	const struct zone *z;
	struct zone *loaded;
	rc = ctl_zone_current(req, &r.zr, &z, &loaded);
	if (rc != TDNS_OK) {
		return rc;
	}
	struct list_ctx lc = { .out = json_array(), .z = z, .owner = name ? r.owner : NULL,
			       .type = r.type, .line = malloc(RECORD_LINE_MAX), .rc = TDNS_OK };
	if (lc.out == NULL || lc.line == NULL) {
		lc.rc = TDNS_ENOMEM;
	} else if (name != NULL) {
		/* One name: no need to sort the whole zone. */
		const struct zone_node *n = zone_find(z, r.owner);
		if (n != NULL) {
			list_node(&lc, n);
		}
	} else if (zone_walk(z, list_node, &lc) != 0 && lc.rc == TDNS_OK) {
		lc.rc = TDNS_ENOMEM;
	}
	free(lc.line);
	zone_free(loaded);
	if (lc.rc != TDNS_OK) {
		json_decref(lc.out);
		return ctl_zone_fail(req, lc.rc, "zone %s: %s", r.zr.name, tdns_status_msg(lc.rc));
	}
	req->data = lc.out;
	return TDNS_OK;
}

/*
 * The zone to change: the copy read from the file (*loaded, taken over), else a clone of the
 * served cur.  On success *z is the caller's.
 */
static int
rec_writable(struct ctl_req *req, const struct rec *r, const struct zone *cur,
	     struct zone **loaded, struct zone **z)
{
	if (*loaded != NULL) {
		*z = *loaded;
		*loaded = NULL;
		return TDNS_OK;
	}
	*z = zone_clone(cur);
	if (*z == NULL) {
		return ctl_zone_fail(req, TDNS_ENOMEM, "zone %s: out of memory", r->zr.name);
	}
	return TDNS_OK;
}

/* Bumps the serial of z, commits it (taking ownership) and answers with the change. */
static int
rec_commit(struct ctl_req *req, struct rec *r, struct zone *z, uint32_t old_serial)
{
	uint32_t serial;
	int rc = bump_and_commit(req, r, z, old_serial, &serial);
	if (rc == TDNS_OK) {
		req->data = change_data(r, serial, true);
	}
	return rc;
}

/*
 * The common start of `record add` and `record update`: the zone, the owner, the type and
 * one record's rdata, read against the zone as served (*cur; *loaded when it had to be read
 * from its file, for the caller to free).
 */
static int
rec_read_one(struct ctl_req *req, struct rec *r, const struct zone **cur, struct zone **loaded)
{
	int rc = rec_zone_and_name(req, r);
	if (rc == TDNS_OK) {
		rc = rec_type(req, r, arg_str(req, "type"));
	}
	if (rc == TDNS_OK) {
		rc = ctl_zone_current(req, &r->zr, cur, loaded);
	}
	if (rc == TDNS_OK) {
		rc = rec_rdata(req, r, *cur);
	}
	if (rc == TDNS_OK) {
		rc = rec_check_fwd(req, r, *cur);
	}
	return rc;
}

/*
 * record add (update false) adds one record to its RRset, at the RRset's TTL unless one is
 * given; record update (update true) makes the RRset that one record.  Neither writes when
 * the zone holds that already (the serial stays); add says so with "exists".
 */
static int
rec_put(struct ctl_req *req, bool update)
{
	struct rec r = { .type = 0 };
	const struct zone *cur;
	struct zone *loaded = NULL, *z = NULL;
	int rc = rec_read_one(req, &r, &cur, &loaded);
	if (rc != TDNS_OK) {
		goto out;
	}
	uint32_t old_serial = ctl_zone_serial(cur);
	const struct zone_rrset *rs = find_rrset(cur, r.owner, r.type);
	bool there = rs != NULL && rrset_holds(rs, r.type, r.rd, r.rdlen) &&
		     (update ? rs->count == 1 && rs->ttl == r.ttl : !r.has_ttl || rs->ttl == r.ttl);
	if (there) {
		/* Already there: nothing to write, and the serial stays (no change to announce). */
		req->data = change_data(&r, old_serial, false);
		if (!update) {
			json_object_set_new(req->data, "exists", json_true());
		}
		goto out;
	}
	rc = rec_writable(req, &r, cur, &loaded, &z);
	if (rc != TDNS_OK) {
		goto out;
	}
	if (update) {
		(void)zone_remove_rr(z, r.owner, r.type, NULL, 0);
	}
	rc = zone_add_rr(z, r.owner, r.type, r.ttl, r.rd, r.rdlen);
	if (rc == TDNS_OK && !update && r.has_ttl) {
		rc = retime_rrset(z, r.owner, r.type, r.ttl);
	}
	if (rc != TDNS_OK) {
		zone_free(z);
		rc = ctl_zone_fail(req, rc, "cannot add the record: %s", tdns_status_msg(rc));
		goto out;
	}
	if (!update && !r.has_ttl) {
		r.ttl = find_rrset(z, r.owner, r.type)->ttl;
	}
	rc = rec_commit(req, &r, z, old_serial);
	if (rc == TDNS_OK && !update) {
		json_object_set_new(req->data, "exists", json_false());
	}
out:
	zone_free(loaded);
	rec_free(&r);
	return rc;
}

int
ctl_cmd_record_add(struct ctl_req *req)
{
	return rec_put(req, false);
}

int
ctl_cmd_record_update(struct ctl_req *req)
{
	return rec_put(req, true);
}

int
ctl_cmd_record_delete(struct ctl_req *req)
{
	struct rec r = { .type = 0 };
	const struct zone *cur;
	struct zone *loaded = NULL, *z = NULL;
	const char *type = arg_str(req, "type");
	size_t nwords = json_array_size(json_object_get(req->args, "rdata"));
	int rc = rec_zone_and_name(req, &r);
	if (rc == TDNS_OK && type != NULL) {
		rc = rec_type(req, &r, type);
	}
	if (rc == TDNS_OK && type == NULL && nwords > 0) {
		rc = ctl_zone_fail(req, TDNS_EINVAL, "rdata given without a type");
	}
	if (rc == TDNS_OK) {
		rc = ctl_zone_current(req, &r.zr, &cur, &loaded);
	}
	if (rc == TDNS_OK && nwords > 0) {
		rc = rec_rdata(req, &r, cur);
	}
	if (rc != TDNS_OK) {
		goto out;
	}
	/* The zone must keep its SOA and NS records (RFC 1035 §5.2, RFC 1034 §4.2.1). */
	if (dns_name_eq(r.owner, r.zr.apex)) {
		const struct zone_rrset *ns = find_rrset(cur, r.owner, DNS_TYPE_NS);
		if (r.type == 0) {
			rc = ctl_zone_fail(req, TDNS_EINVAL, "refusing to delete every record at "
					   "the apex of %s (its SOA and NS records); name a type",
					   r.zr.name);
		} else if (r.type == DNS_TYPE_SOA) {
			rc = ctl_zone_fail(req, TDNS_ENOSOA, "the SOA record of %s cannot be "
					   "deleted; use record update to change it", r.zr.name);
		} else if (r.type == DNS_TYPE_NS && ns != NULL &&
			   (!r.has_rdata || (ns->count == 1 &&
					     rrset_holds(ns, r.type, r.rd, r.rdlen)))) {
			rc = ctl_zone_fail(req, TDNS_ENOAPEXNS, "refusing to delete the last NS "
					   "record at the apex of %s", r.zr.name);
		}
		if (rc != TDNS_OK) {
			goto out;
		}
	}
	uint32_t old_serial = ctl_zone_serial(cur);
	rc = rec_writable(req, &r, cur, &loaded, &z);
	if (rc != TDNS_OK) {
		goto out;
	}
	rc = zone_remove_rr(z, r.owner, r.type, r.has_rdata ? r.rd : NULL, r.rdlen);
	if (rc != TDNS_OK) {
		zone_free(z);
		/* Echo the record as asked, rdata too, so that a typo shows. */
		char rdata[512] = "";
		size_t used = 0;
		const json_t *words = json_object_get(req->args, "rdata");
		for (size_t i = 0; r.has_rdata && i < json_array_size(words); i++) {
			int n = snprintf(rdata + used, sizeof(rdata) - used, " %s",
					 json_string_value(json_array_get(words, i)));
			if (n < 0 || (size_t)n >= sizeof(rdata) - used) {
				break;
			}
			used += (size_t)n;
		}
		rc = ctl_zone_fail(req, TDNS_ENOENT, "no such record: %s%s%s%s in zone %s",
				   r.owner_text, r.type != 0 ? " " : "",
				   r.type != 0 ? r.type_text : "", rdata, r.zr.name);
		goto out;
	}
	rc = rec_commit(req, &r, z, old_serial);
out:
	zone_free(loaded);
	rec_free(&r);
	return rc;
}
