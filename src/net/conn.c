/* SPDX-License-Identifier: MIT */
/* The stream-connection base: LRU set, idle test, eviction and the reference-counted lifetime. */
#include "config.h"

#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "net/net.h"

void
net_conn_set_init(struct net_conn_set *set)
{
	TAILQ_INIT(&set->list);
	set->n = 0;
}

void
net_conn_init(struct net_conn *c, struct net_conn_set *set, const struct net_conn_ops *ops,
	      struct bufferevent *bev, const struct sockaddr *peer, socklen_t peerlen)
{
	c->set = set;
	c->ops = ops;
	c->bev = bev;
	c->refs = 1;
	if (peer != NULL && peerlen > 0 && (size_t)peerlen <= sizeof(c->peer)) {
		memcpy(&c->peer, peer, (size_t)peerlen);
		c->peerlen = peerlen;
	}
	TAILQ_INSERT_TAIL(&set->list, c, link);
	set->n++;
}

void
net_conn_set_idle(struct net_conn *c, unsigned secs)
{
	struct timeval idle = { .tv_sec = secs, .tv_usec = 0 };
	const struct timeval *tv = secs > 0 ? &idle : NULL;
	bufferevent_set_timeouts(c->bev, tv, tv);
}

void
net_conn_touch(struct net_conn *c)
{
	if (!c->dead && TAILQ_NEXT(c, link) != NULL) {
		TAILQ_REMOVE(&c->set->list, c, link);
		TAILQ_INSERT_TAIL(&c->set->list, c, link);
	}
}

size_t
net_conn_out_len(const struct net_conn *c)
{
	return c->bev != NULL ? evbuffer_get_length(bufferevent_get_output(c->bev)) : 0;
}

unsigned
net_conn_pending(const struct net_conn *c)
{
	return c->dead ? c->refs : c->refs - 1;
}

bool
net_conn_idle(const struct net_conn *c)
{
	return !c->dead && c->refs == 1 &&
	       evbuffer_get_length(bufferevent_get_input(c->bev)) == 0 &&
	       net_conn_out_len(c) == 0 && (c->ops->idle == NULL || c->ops->idle(c));
}

struct net_conn *
net_conn_ref(struct net_conn *c)
{
	c->refs++;
	return c;
}

void
net_conn_unref(struct net_conn *c)
{
	if (--c->refs == 0) {
		c->ops->free(c);
	}
}

void
net_conn_close(struct net_conn *c)
{
	if (c->dead) {
		return;
	}
	TAILQ_REMOVE(&c->set->list, c, link);
	c->set->n--;
	c->dead = true;
	if (c->ops->close != NULL) {
		c->ops->close(c);
	}
	bufferevent_free(c->bev);
	c->bev = NULL;
	/* Deferred replies still holding c keep it; the last of them frees it. */
	net_conn_unref(c);
}

bool
net_conn_evict_idle(struct net_conn_set *set)
{
	struct net_conn *c;
	TAILQ_FOREACH(c, &set->list, link) {
		if (net_conn_idle(c)) {
			net_conn_close(c);
			return true;
		}
	}
	return false;
}

void
net_conn_close_all(struct net_conn_set *set)
{
	struct net_conn *c;
	while ((c = TAILQ_FIRST(&set->list)) != NULL) {
		net_conn_close(c);
	}
}

size_t
net_conn_query(struct net_worker *w, const uint8_t *pkt, size_t len, uint8_t *out, size_t cap,
	       const struct net_client *cl, int *rcode)
{
	switch (cl->transport) {
	case STATS_TRANSPORT_DOT:
		w->stats.dot++;
		break;
	case STATS_TRANSPORT_DOH:
		w->stats.doh++;
		break;
	default:
		w->stats.tcp++;
		break;
	}
	clock_gettime(CLOCK_MONOTONIC, &w->qstart);
	size_t rlen = w->handler->query(w->qctx, pkt, len, out,
					cap > DNS_MSG_MAX ? DNS_MSG_MAX : cap, cl, rcode);
	if (*rcode == NET_RCODE_DEFERRED) {
		return 0;
	}
	stats_count_rcode(&w->stats, *rcode);
	if (*rcode >= 0) {
		stats_count_qtype(&w->stats, pkt, len);
		stats_note_packet(w->sw, cl->peer, pkt, len, *rcode, w->qkind, cl->transport,
				  &w->qstart);
	}
	return rlen;
}
