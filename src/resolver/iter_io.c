/* SPDX-License-Identifier: MIT */
/* The iterator's exchanges: one query to one server over UDP or TCP, through net/outgoing.h. */
#include "config.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/core.h"
#include "net/outgoing.h"
#include "resolver/iter_int.h"

struct iter_io {
	iter_io_cb cb;
	void *arg;
	struct net_out_query *nq;   /* NULL once the transport layer has called back */
};

socklen_t
iter_io_sockaddr(const struct resolver_addr *a, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(ITER_PORT);
		memcpy(&sin->sin_addr, a->ip, 4);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(ITER_PORT);
	memcpy(&sin6->sin6_addr, a->ip, 16);
	return sizeof(*sin6);
}

/* The transport layer's result, told to the iterator in its own terms. */
static void
done_cb(void *arg, const struct net_out_result *r)
{
	struct iter_io *x = arg;
	x->nq = NULL;
	enum iter_io_end end = ITER_IO_ERROR;
	if (r->status == CLIENT_OK) {
		end = ITER_IO_ANSWER;
	} else if (r->status == CLIENT_ETIMEOUT) {
		end = ITER_IO_TIMEOUT;
	}
	/* The callback frees x (iter_io_free); the layer frees its query after this returns. */
	x->cb(x->arg, end, r->pkt, r->len);
}

struct iter_io *
iter_io_start(struct event_base *base, const struct resolver_iter_conf *ic,
	      const struct resolver_addr *a, bool tcp, const uint8_t *q, size_t qlen,
	      unsigned timeout_ms, iter_io_cb cb, void *arg)
{
	if (qlen > ITER_IO_QMAX) {
		return NULL;
	}
	struct iter_io *x = calloc(1, sizeof(*x));
	if (x == NULL) {
		return NULL;
	}
	x->cb = cb;
	x->arg = arg;
	struct client_server srv;
	client_server_from_addr(&srv, CLIENT_UDP, a->family, a->ip, ITER_PORT);
	/*
	 * RFC 5452 §9.1: ID and question must match, with 0x20 case for case; over TCP a wrong
	 * answer ends the exchange.  A random ID and port (§9.2) come from the layer.
	 */
	struct net_out_opts o = { .udp_tries = 1, .strict_streams = true,
				  .strict_question = true, .exact_case = ic->case_random };
	const struct resolver_addr *src = a->family == AF_INET ? &ic->out4 : &ic->out6;
	if (src->family != 0) {
		o.source_len = iter_io_sockaddr(src, &o.source);
	}
	/* A peer per exchange: its query holds it, so no connection outlives the exchange. */
	struct net_out_peer *peer = net_out_peer_new(base, &srv, &o);
	if (peer != NULL) {
		x->nq = net_out_send(peer, q, qlen, tcp ? NET_OUT_STREAM : 0, timeout_ms, done_cb,
				     x);
	}
	net_out_peer_free(peer);
	if (x->nq == NULL) {
		free(x);
		return NULL;
	}
	return x;
}

void
iter_io_free(struct iter_io *x)
{
	if (x == NULL) {
		return;
	}
	if (x->nq != NULL) {
		net_out_cancel(x->nq);
	}
	free(x);
}
