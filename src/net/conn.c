/* SPDX-License-Identifier: MIT */
/* The stream-connection base: LRU set, idle test, eviction and the reference-counted lifetime. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "net/net.h"

void
net_conn_set_init(struct net_conn_set *set)
{
	TAILQ_INIT(&set->list);
	set->n = 0;
	set->ndead = 0;
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
	c->msg_secs = secs;
}

void
net_conn_set_msg_limit(struct net_conn *c, unsigned secs)
{
	c->msg_secs = secs;
}

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct net_conn *c = arg;
	(void)fd;
	(void)what;
	/* The message did not arrive whole in time: a slow or stalled client leaves. */
	if (c->ops->late != NULL) {
		c->ops->late(c);
	}
	net_conn_close(c);
}

void
net_conn_msg_begin(struct net_conn *c)
{
	if (c->dead || c->in_msg || c->msg_secs == 0) {
		return;
	}
	if (c->deadline == NULL) {
		c->deadline = evtimer_new(bufferevent_get_base(c->bev), deadline_cb, c);
		if (c->deadline == NULL) {
			return; /* out of memory: the idle timeout still applies */
		}
	}
	struct timeval tv = { .tv_sec = c->msg_secs, .tv_usec = 0 };
	if (evtimer_add(c->deadline, &tv) != 0) {
		return;
	}
	c->in_msg = true;
	clock_gettime(CLOCK_MONOTONIC, &c->msg_start);
}

void
net_conn_msg_end(struct net_conn *c)
{
	if (c->in_msg) {
		evtimer_del(c->deadline);
		c->in_msg = false;
	}
}

bool
net_conn_timeout_pending(struct net_conn *c, short what)
{
	if ((what & BEV_EVENT_TIMEOUT) == 0 || (what & BEV_EVENT_READING) == 0 || c->dead ||
	    net_conn_pending(c) == 0) {
		return false;
	}
	bufferevent_enable(c->bev, EV_READ);
	return true;
}

unsigned
net_conn_count(const struct net_conn_set *set)
{
	return set->n + set->ndead;
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
		if (c->counted_dead) {
			c->set->ndead--;
		}
		if (c->ops->free != NULL) {
			c->ops->free(c);
		} else {
			free(c);
		}
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
	if (c->deadline != NULL) {
		event_free(c->deadline);
		c->deadline = NULL;
	}
	c->in_msg = false;
	if (c->ops->close != NULL) {
		c->ops->close(c);
	}
	bufferevent_free(c->bev);
	c->bev = NULL;
	if (c->refs > 1) {
		/* Its deferred replies still cost memory and resolver work: count it until then. */
		c->counted_dead = true;
		c->set->ndead++;
	}
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

static struct net_conn *
oldest_in(struct net_conn_set *set, struct net_conn *best)
{
	struct net_conn *c;
	TAILQ_FOREACH(c, &set->list, link) {
		if (!c->in_msg) {
			continue;
		}
		if (best == NULL || c->msg_start.tv_sec < best->msg_start.tv_sec ||
		    (c->msg_start.tv_sec == best->msg_start.tv_sec &&
		     c->msg_start.tv_nsec < best->msg_start.tv_nsec)) {
			best = c;
		}
	}
	return best;
}

struct net_conn *
net_conn_oldest_incomplete(struct net_conn_set *a, struct net_conn_set *b)
{
	struct net_conn *best = oldest_in(a, NULL);
	return b != NULL ? oldest_in(b, best) : best;
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
		stats_note_reply(w->sw, out, rlen);
		stats_note_packet(w->sw, cl->peer, pkt, len, *rcode, w->qkind, cl->transport,
				  &w->qstart);
	} else {
		stats_note_dropped(w->sw, &w->qstart);
	}
	return rlen;
}
