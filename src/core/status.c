/* SPDX-License-Identifier: MIT */
/* The status table: one message and one stable id for every enum tdns_status value. */
#include "core/core.h"

struct status_entry {
	int status;
	const char *id;
	const char *msg;
};

static const struct status_entry status_table[] = {
	{ .status = TDNS_OK, .id = "OK", .msg = "success" },
	{ .status = TDNS_ENOENT, .id = "ENOENT", .msg = "no such file or entry" },
	{ .status = TDNS_EIO, .id = "EIO", .msg = "input/output error" },
	{ .status = TDNS_EAGAIN, .id = "EAGAIN", .msg = "try again" },
	{ .status = TDNS_ENOMEM, .id = "ENOMEM", .msg = "out of memory" },
	{ .status = TDNS_EACCES, .id = "EACCES", .msg = "permission denied" },
	{ .status = TDNS_EEXIST, .id = "EEXIST", .msg = "already exists" },
	{ .status = TDNS_EINVAL, .id = "EINVAL", .msg = "invalid argument" },
	{ .status = TDNS_ERANGE, .id = "ERANGE", .msg = "value out of range" },
	{ .status = TDNS_EMALFORMED, .id = "EMALFORMED", .msg = "malformed wire data" },
	{ .status = TDNS_ETRUNC, .id = "ETRUNC", .msg = "wire data truncated" },
	{ .status = TDNS_ELOOP, .id = "ELOOP", .msg = "bad compression pointer" },
	{ .status = TDNS_ENAMELONG, .id = "ENAMELONG", .msg = "name longer than 255 octets" },
	{ .status = TDNS_ELABELLONG, .id = "ELABELLONG", .msg = "label longer than 63 octets" },
	{ .status = TDNS_ESPACE, .id = "ESPACE", .msg = "no space left in buffer" },
	{ .status = TDNS_EBADTEXT, .id = "EBADTEXT", .msg = "bad text syntax" },
	{ .status = TDNS_EUNKTYPE, .id = "EUNKTYPE", .msg = "unknown RR type" },
	{ .status = TDNS_EBADRDATA, .id = "EBADRDATA", .msg = "bad rdata" },
	{ .status = TDNS_ERELATIVE, .id = "ERELATIVE", .msg = "relative name without origin" },
	{ .status = TDNS_ENOZONE, .id = "ENOZONE", .msg = "no such zone" },
	{ .status = TDNS_EZONEEXISTS, .id = "EZONEEXISTS", .msg = "zone already exists" },
	{ .status = TDNS_ENOSOA, .id = "ENOSOA", .msg = "zone has no SOA record at its apex" },
	{ .status = TDNS_ENOAPEXNS, .id = "ENOAPEXNS", .msg = "zone has no NS records at its apex" },
	{ .status = TDNS_ECNAME, .id = "ECNAME", .msg = "CNAME and other data at the same name" },
	{ .status = TDNS_EOUTOFZONE, .id = "EOUTOFZONE", .msg = "record is outside the zone" },
	{ .status = TDNS_ENOGLUE, .id = "ENOGLUE", .msg = "delegation lacks required glue" },
	{ .status = TDNS_EZONEFILE, .id = "EZONEFILE", .msg = "zone file syntax error" },
	{ .status = TDNS_EMULTISOA, .id = "EMULTISOA", .msg = "more than one SOA record" },
	{ .status = TDNS_ECONFIG, .id = "ECONFIG", .msg = "configuration error" },
};

static const struct status_entry *
status_find(int status)
{
	for (size_t i = 0; i < sizeof(status_table) / sizeof(status_table[0]); i++) {
		if (status_table[i].status == status) {
			return &status_table[i];
		}
	}
	return NULL;
}

const char *
tdns_status_msg(int status)
{
	const struct status_entry *e = status_find(status);
	return e ? e->msg : "unknown error";
}

const char *
tdns_status_id(int status)
{
	const struct status_entry *e = status_find(status);
	return e ? e->id : "EUNKNOWN";
}
