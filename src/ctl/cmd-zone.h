/* SPDX-License-Identifier: MIT */
/* Private to src/ctl: finding, changing and publishing zones (cmd-zone.c, cmd-record.c). */
#ifndef TDNS_CTL_CMD_ZONE_H
#define TDNS_CTL_CMD_ZONE_H

#include "ctl/cmd.h"
#include "zone/zone.h"

/*
 * A zone the daemon knows: declared in the configuration, or created at run time (catalog).
 * Every pointer is borrowed from the daemon until the next publish or catalog change.
 */
struct ctl_zone_ref {
	uint8_t apex[DNS_NAME_MAX];
	char name[DNS_NAME_TEXT_MAX];     /* absolute text form, trailing dot */
	const struct cfg_zone *cz;        /* its [zone] section, or NULL */
	const struct zone_catalog_entry *ce; /* its catalog entry, or NULL */
	const char *file;                 /* the zone file */
	bool runtime;                     /* created at run time (no [zone] section) */
	bool disabled;                    /* disabled in the catalog */
	const struct zone *served;        /* the version the workers answer from, or NULL */
	struct zone_secondaries *secs;    /* the daemon's secondary zones (issue 17), or NULL */
};

/*
 * Sets req->status and req->err (printf-style) and returns status, so that handlers can
 * `return ctl_zone_fail(req, TDNS_ENOZONE, "no such zone: %s", name);`.
 */
int ctl_zone_fail(struct ctl_req *req, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Parses a zone name as people write it ("example.com", "example.com.", "." for the root)
 * into apex.  TDNS_OK, or the status with a message in req.
 */
int ctl_zone_parse_name(struct ctl_req *req, const char *text, uint8_t *apex);

/*
 * Finds the zone named text.  TDNS_OK; TDNS_EBADTEXT for a bad name, TDNS_ENOZONE ("no such
 * zone: X") for a name the daemon does not know; the message is in req.
 */
int ctl_zone_find(struct ctl_req *req, const char *text, struct ctl_zone_ref *out);

/*
 * A private, changeable copy of the zone: of the served version, or read from its file when
 * the zone is not served (disabled, or its file failed to load).  Caller frees with
 * zone_free or hands it to ctl_zone_commit.  TDNS_OK or the status with a message in req.
 */
int ctl_zone_edit(struct ctl_req *req, const struct ctl_zone_ref *zr, struct zone **out);

/*
 * The current contents without copying: the served version, or else *loaded is read from
 * the file (caller frees *loaded, which is NULL when the served version was returned).
 */
int ctl_zone_current(struct ctl_req *req, const struct ctl_zone_ref *zr,
		     const struct zone **out, struct zone **loaded);

/*
 * Makes z the zone's new version: zone_check, zone_write to the zone file (temp file, fsync,
 * rename, directory fsync), then, unless the zone is disabled, publishes a zone set in which
 * z replaces the old version and every other zone is shared.  Takes ownership of z.  On
 * failure nothing has changed.  *serial (may be NULL) gets the new SOA serial.
 */
int ctl_zone_commit(struct ctl_req *req, const struct ctl_zone_ref *zr, struct zone *z,
		    uint32_t *serial);

/*
 * The SOA serial that follows old under policy (CFG_SERIAL_*): RFC 1982 §3.1 increment,
 * YYYYMMDDnn, or seconds since 1970; a date or time that is not larger than old (in serial
 * arithmetic, RFC 1982 §3.2) gives old + 1 instead.
 */
uint32_t ctl_zone_next_serial(unsigned policy, uint32_t old);

/* True when a is larger than b in serial number arithmetic (RFC 1982 §3.2). */
bool ctl_zone_serial_gt(uint32_t a, uint32_t b);

/* Replaces the serial of z's apex SOA.  TDNS_OK, TDNS_ENOSOA or TDNS_ENOMEM. */
int ctl_zone_set_serial(struct zone *z, uint32_t serial);

/* The serial of z's apex SOA (0 without one). */
uint32_t ctl_zone_serial(const struct zone *z);

#endif
