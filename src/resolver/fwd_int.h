/* SPDX-License-Identifier: MIT */
/* Private to src/resolver: the forwarder's per-worker upstream transports (upstream.c). */
#ifndef TDNS_RESOLVER_FWD_INT_H
#define TDNS_RESOLVER_FWD_INT_H

#include <sys/queue.h>

#include "resolver/resolver.h"

struct fwd_req;
struct up_conn;
struct up_h2;

/* Outcome of one exchange with one server. */
enum up_status {
	UP_OK = 0,
	UP_ETIMEOUT = -1,
	UP_ENET = -2,    /* socket: refused, unreachable, reset */
	UP_ETLS = -3,    /* handshake or certificate */
	UP_EPROTO = -4,  /* unusable answer or unsupported transport */
};

/*
 * One exchange: a query sent to one server over UDP or a stream (a TCP or TLS connection, or
 * an HTTP/2 stream on a DoH connection), waiting for its answer.
 */
struct up_xfer {
	struct fwd_req *req;
	struct up *up;
	TAILQ_ENTRY(up_xfer) link;  /* in its connection's list (streams) */
	struct up_conn *conn;       /* NULL for UDP */
	int fd;                     /* UDP socket, -1 for streams */
	struct event *ev;           /* UDP read event */
	struct event *timer;
	int64_t t0_us;
	uint16_t id;                /* 0 over HTTPS (RFC 8484 §4.1): answers match by stream */
	bool stream;
	struct up_h2 *h2;           /* HTTP/2 stream state for DoH and DoH-JSON, else NULL */
	size_t qlen;
	uint8_t q[512];             /* the query with this exchange's ID, for the answer check */
};

TAILQ_HEAD(up_xfer_list, up_xfer);
LIST_HEAD(up_conn_list, up_conn);

/* One server as a worker sees it. */
struct up {
	struct resolver_fwd *f;
	struct resolver_upstream *info; /* in conf, which this up keeps referenced */
	struct resolver_conf *conf;
	TAILQ_ENTRY(up) link;       /* in f's list of retired servers */
	unsigned refs;              /* requests and exchanges using it, plus one while current */
	double srtt_ms;
	bool measured;              /* srtt_ms comes from an answer, not the initial guess */
	unsigned fails;             /* consecutive */
	struct up_conn *conn;       /* open TCP, TLS or HTTP/2 connection, or NULL */
	struct up_conn_list draining; /* HTTP/2 connections told GOAWAY, finishing their streams */
	void *sess;                 /* SSL_SESSION to resume, or NULL */
};

/* Called by upstream.c when x ends; x is freed by the caller right after. */
void fwd_xfer_done(struct fwd_req *req, struct up_xfer *x, int status, const uint8_t *pkt,
		   size_t len);

/* upstream.c */
struct up *up_new(struct resolver_fwd *f, struct resolver_conf *conf,
		  struct resolver_upstream *info);
void up_ref(struct up *u);
void up_unref(struct up *u);
/* Sends query (its ID overwritten) to u over UDP, or a stream when stream or the server's
 * transport needs one.  NULL when it cannot even start (counted as a failure). */
struct up_xfer *up_send(struct up *u, struct fwd_req *req, const uint8_t *query, size_t qlen,
			bool stream, unsigned timeout_ms);
/* Stops x without a callback and frees it. */
void up_xfer_cancel(struct up_xfer *x);
/* The event base of f (forward.c). */
struct event_base *fwd_base(const struct resolver_fwd *f);
/* Frees an up's connection and session (with its last reference). */
void up_close(struct up *u);

#endif
