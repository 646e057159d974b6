/* SPDX-License-Identifier: MIT */
/* stats: query counters sampled from the workers into per-second and per-minute series. */
#ifndef TDNS_STATS_H
#define TDNS_STATS_H

#include <jansson.h>

struct event_base;
struct net_server;
struct stats_recorder;

/*
 * Starts sampling the workers' counters of srv once a second on base (the daemon's main
 * event base): per-second series for the last 5 minutes and per-minute series for the last
 * hour, of queries by rcode, qtype and transport.  Caller frees with stats_recorder_free.
 * NULL on out of memory.
 */
struct stats_recorder *stats_recorder_new(struct event_base *base, struct net_server *srv);

/* Stops sampling and frees; accepts NULL. */
void stats_recorder_free(struct stats_recorder *r);

/* Queries per second averaged over the last 10 seconds (fewer right after start). */
double stats_recorder_qps(const struct stats_recorder *r);

/*
 * The `stats` reply: {"totals": {"queries", "udp", "tcp", "dropped", "truncated", ...},
 * "rcodes": {"NOERROR": n, ...}, "qtypes": {"A": n, ...}, "transports": {"udp": n, "tcp": n},
 * "per_second": [{"t": unix time, "queries": n}, ...], "per_minute": [{"t": ..., "queries": n,
 * "rcodes": {...}}, ...]}.  New reference owned by the caller.
 */
json_t *stats_recorder_json(const struct stats_recorder *r);

#endif
