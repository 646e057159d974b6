/* SPDX-License-Identifier: MIT */
/* The forwarder's view of its servers: smoothed RTT, health and counters over net/outgoing.h. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "resolver/fwd_int.h"

struct up *
up_new(struct event_base *base, struct resolver_conf *conf, struct resolver_upstream *info,
       up_done_fn done)
{
	struct up *u = calloc(1, sizeof(*u));
	if (u == NULL) {
		return NULL;
	}
	const struct net_out_opts o = { .tls_ctx = conf->tls_ctx, .udp_tries = 1 };
	u->peer = net_out_peer_new(base, &info->srv, &o);
	u->done = done;
	u->info = info;
	u->conf = resolver_conf_ref(conf);
	u->refs = 1;
	/*
	 * Unmeasured servers start at one guess, so they keep the configured order (the sort is
	 * stable) until answers tell them apart.
	 */
	u->srtt_ms = 50.0;
	return u;
}

void
up_ref(struct up *u)
{
	u->refs++;
}

void
up_unref(struct up *u)
{
	if (--u->refs > 0) {
		return;
	}
	net_out_peer_free(u->peer);
	resolver_conf_unref(u->conf);
	free(u);
}

static void
xfer_free(struct up_xfer *x)
{
	struct up *u = x->up;
	free(x);
	up_unref(u);
}

void
up_xfer_cancel(struct up_xfer *x)
{
	if (x->q != NULL) {
		net_out_cancel(x->q);
	}
	xfer_free(x);
}

/* Records the outcome for RTT and health, tells the request, frees x. */
static void
xfer_done_cb(void *arg, const struct net_out_result *r)
{
	struct up_xfer *x = arg;
	struct up *u = x->up;
	struct resolver_upstream *info = u->info;
	x->q = NULL;
	if (r->status == UP_OK) {
		double rtt = (double)r->rtt_us / 1000.0;
		/* Smoothing as in RFC 6298 §2 (alpha 1/8). */
		/* The first sample (or one after failures) replaces the guess outright. */
		u->srtt_ms = u->fails > 0 || !u->measured ? rtt : u->srtt_ms + (rtt - u->srtt_ms) / 8.0;
		u->measured = true;
		u->fails = 0;
		__atomic_store_n(&info->srtt_ms, (uint32_t)(u->srtt_ms + 0.5), __ATOMIC_RELAXED);
		__atomic_store_n(&info->fails, 0, __ATOMIC_RELAXED);
	} else {
		if (r->status == UP_ETLS) {
			tdns_info("forwarder %s: %s", info->spec, r->err);
		} else {
			tdns_debug("forwarder %s: %s", info->spec, r->err);
		}
		u->fails++;
		/* Back off: a failing server sorts behind the working ones (RFC 6298 §5.5 style). */
		u->srtt_ms = u->srtt_ms * 2 > 10000 ? 10000 : u->srtt_ms * 2;
		__atomic_fetch_add(r->status == UP_ETIMEOUT ? &info->timeouts : &info->errors, 1,
				   __ATOMIC_RELAXED);
		__atomic_store_n(&info->fails, u->fails, __ATOMIC_RELAXED);
	}
	u->done(x->req, x, r->status, r->pkt, r->len);
	xfer_free(x);
}

struct up_xfer *
up_send(struct up *u, struct fwd_req *req, const uint8_t *query, size_t qlen, bool stream,
	unsigned timeout_ms)
{
	/* The forwarder's queries are built in 512 octets; anything else is a bug upstream. */
	if (qlen > 512 || u->peer == NULL) {
		__atomic_fetch_add(&u->info->errors, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	struct up_xfer *x = calloc(1, sizeof(*x));
	if (x == NULL) {
		return NULL;
	}
	x->req = req;
	x->up = u;
	up_ref(u);
	x->stream = stream || u->info->srv.proto != CLIENT_UDP;
	x->q = net_out_send(u->peer, query, qlen, stream ? NET_OUT_STREAM : 0, timeout_ms,
			    xfer_done_cb, x);
	if (x->q == NULL) {
		tdns_debug("forwarder %s: %s", u->info->spec, net_out_peer_error(u->peer, NULL));
		__atomic_fetch_add(&u->info->errors, 1, __ATOMIC_RELAXED);
		u->fails++;
		xfer_free(x);
		return NULL;
	}
	__atomic_fetch_add(&u->info->queries, 1, __ATOMIC_RELAXED);
	return x;
}
