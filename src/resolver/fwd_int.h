/* SPDX-License-Identifier: MIT */
/* Private to src/resolver: the forwarder's per-worker upstream servers (upstream.c). */
#ifndef TDNS_RESOLVER_FWD_INT_H
#define TDNS_RESOLVER_FWD_INT_H

#include <sys/queue.h>

#include "net/outgoing.h"
#include "resolver/resolver.h"

struct fwd_req;

/* Outcome of one exchange with one server: the transport layer's codes. */
enum up_status {
	UP_OK = CLIENT_OK,
	UP_ETIMEOUT = CLIENT_ETIMEOUT,
	UP_ENET = CLIENT_ENET,     /* socket: refused, unreachable, reset */
	UP_ETLS = CLIENT_ETLS,     /* handshake or certificate */
	UP_EPROTO = CLIENT_EPROTO, /* unusable answer or unsupported transport */
};

/* One exchange of a request with one server, carried by the transport layer (net/outgoing.h). */
struct up_xfer {
	struct fwd_req *req;
	struct up *up;
	struct net_out_query *q;    /* NULL once ended */
	bool stream;                /* over TCP (or the server's stream transport) */
};

/*
 * Told when an exchange ends (status UP_*, the checked answer or NULL); x is freed by the
 * caller right after.  The forwarder passes fwd_xfer_done, so that upstream.c never calls
 * back into forward.c by name (issue 12: no call cycles).
 */
typedef void (*up_done_fn)(struct fwd_req *req, struct up_xfer *x, int status,
			   const uint8_t *pkt, size_t len);

/* One server as a worker sees it: the forwarder's health and RTT policy over a transport peer. */
struct up {
	up_done_fn done;
	struct resolver_upstream *info; /* in conf, which this up keeps referenced */
	struct resolver_conf *conf;
	unsigned refs;              /* requests and exchanges using it, plus one while current */
	double srtt_ms;
	bool measured;              /* srtt_ms comes from an answer, not the initial guess */
	unsigned fails;             /* consecutive */
	struct net_out_peer *peer;  /* connections and TLS session, or NULL when out of memory */
};

/* upstream.c: a server on base, whose exchanges end in done. */
struct up *up_new(struct event_base *base, struct resolver_conf *conf,
		  struct resolver_upstream *info, up_done_fn done);
void up_ref(struct up *u);
void up_unref(struct up *u);
/* Sends query (its ID overwritten) to u over UDP, or a stream when stream or the server's
 * transport needs one.  NULL when it cannot even start (counted as a failure). */
struct up_xfer *up_send(struct up *u, struct fwd_req *req, const uint8_t *query, size_t qlen,
			bool stream, unsigned timeout_ms);
/* Stops x without a callback and frees it. */
void up_xfer_cancel(struct up_xfer *x);

#endif
