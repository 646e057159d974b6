/* SPDX-License-Identifier: MIT */
/* blocklists: the daemon's downloads of http(s) block lists, refreshed every update-interval. */
#ifndef TDNS_BLOCKLISTS_H
#define TDNS_BLOCKLISTS_H

/*
 * Every URL in a [blocking] or [blocking-group] lists or allow-lists key is fetched on the
 * main event base (never on a worker), with If-None-Match and If-Modified-Since from the
 * metadata of its last good copy in STATE/blocking/ (block_store_*).  A 200 replaces the copy
 * (temporary file, fsync, rename); a 304 keeps it; a failure keeps it and records the error.
 * The tables themselves are always built from the copies (block_build_add_named_file), so a
 * restart with the network down blocks as before.  When a round of downloads brought a new
 * body, the changed callback asks the daemon to rebuild and publish its tables.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg/cfg.h"

struct event_base;
struct blocklists;

/* Milliseconds the download of one list may take, redirects included. */
#define BLOCKLISTS_TIMEOUT_MS 60000
/* Seconds before a failed download is tried again (or the interval, when shorter). */
#define BLOCKLISTS_RETRY 600

/*
 * A new downloader on base (the daemon's main one); changed(arg) is called from it after
 * new copies were saved.  NULL when out of memory.  Free with blocklists_free.
 */
struct blocklists *blocklists_new(struct event_base *base, void (*changed)(void *arg),
				  void *arg);

/*
 * Takes the URLs and update-interval of c (at start-up and after each reload): URLs no longer
 * listed are dropped (a download in flight cancelled), new ones are due at once unless their
 * copy is younger than the interval.  The TLS context is made again when ca-file changed;
 * TDNS_OK, or TDNS_ECONFIG with the reason in err when its CAs cannot be loaded (https://
 * downloads then fail with that reason until a reload fixes it).  c is only read during the
 * call.
 */
int blocklists_configure(struct blocklists *u, const struct cfg *c, char *err, size_t errlen);

/* Makes every URL due now (`tdns-cli block update`); returns how many downloads started. */
size_t blocklists_update_now(struct blocklists *u);

/*
 * What is known of url: *updated the Unix time of its last good download (200 or 304; 0:
 * none), *next when the next is due (0: none planned, or one is running), and its last
 * error (copied into err, "" for none).  False when url is not one of u's.
 */
bool blocklists_status(const struct blocklists *u, const char *url, int64_t *updated,
		       int64_t *next, char *err, size_t errlen);

/* Cancels every download and frees u; accepts NULL. */
void blocklists_free(struct blocklists *u);

#endif
