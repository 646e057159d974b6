/* SPDX-License-Identifier: MIT */
/* DNS over TCP (RFC 7766) and TLS (RFC 7858): framing, pipelining, idle timeout, limits. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "net/net.h"

int
net_tcp_socket(const struct sockaddr *addr, socklen_t addrlen)
{
	int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -1;
	}
	int on = 1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) < 0) {
		goto fail;
	}
	if (addr->sa_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) < 0) {
		goto fail;
	}
	if (bind(fd, addr, addrlen) < 0 || listen(fd, 256) < 0) {
		goto fail;
	}
	return fd;
fail:;
	int saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

static void
conn_free(struct net_tcp_conn *c)
{
	struct net_worker *w = c->w;
	TAILQ_REMOVE(&w->conns, c, link);
	w->nconns--;
	if (c->handshaken) {
		net_tls_close_notify(c->bev);
	}
	bufferevent_free(c->bev);
	c->bev = NULL;
	if (c->pending > 0) {
		/* Forwarded queries still point here; the last answer frees it. */
		c->dead = true;
		return;
	}
	free(c);
}

void
net_tcp_close_all(struct net_worker *w)
{
	struct net_tcp_conn *c;
	while ((c = TAILQ_FIRST(&w->conns)) != NULL) {
		conn_free(c);
	}
}

/* Marks activity: the list stays ordered from least to most recently active. */
static void
conn_touch(struct net_tcp_conn *c)
{
	struct net_worker *w = c->w;
	if (TAILQ_NEXT(c, link) != NULL) {
		TAILQ_REMOVE(&w->conns, c, link);
		TAILQ_INSERT_TAIL(&w->conns, c, link);
	}
}

/* Idle: nothing half-read, no reply waiting to be written (RFC 7766 §6.2.3). */
static bool
conn_idle(struct net_tcp_conn *c)
{
	return c->pending == 0 && evbuffer_get_length(bufferevent_get_input(c->bev)) == 0 &&
	       evbuffer_get_length(bufferevent_get_output(c->bev)) == 0;
}

/*
 * Answers every complete message in the input buffer (RFC 7766 §6.2.1.1 pipelining), stops
 * reading while too many replies wait for the client, and closes once a connection is done.
 * Returns false if the connection was freed.
 */
static bool
conn_process(struct net_tcp_conn *c)
{
	struct net_worker *w = c->w;
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct evbuffer *out = bufferevent_get_output(c->bev);
	c->paused = false;
	while (!c->closing) {
		if (evbuffer_get_length(out) >= NET_TCP_OUT_HIGH) {
			/* The client does not read its replies: stop reading until it does. */
			c->paused = true;
			break;
		}
		size_t avail = evbuffer_get_length(in);
		uint8_t hdr[2];
		if (avail < 2 || evbuffer_copyout(in, hdr, 2) != 2) {
			break;
		}
		size_t mlen = tdns_get16(hdr);
		if (mlen == 0) {
			/* A zero-length message is no DNS message: hang up. */
			c->closing = true;
			break;
		}
		if (avail < 2 + mlen) {
			break;
		}
		evbuffer_drain(in, 2);
		if (evbuffer_remove(in, w->tcp_in, mlen) != (int)mlen) {
			c->closing = true;
			break;
		}
		int rcode;
		struct net_client cl = {
			.conn = c,
			.peer = c->peerlen > 0 ? (const struct sockaddr *)&c->peer : NULL,
			.peerlen = c->peerlen,
			.transport = c->transport,
		};
		size_t rlen = net_query_stream(w, w->tcp_in, mlen, w->tcp_out + 2, DNS_MSG_MAX, &cl,
					       &rcode);
		if (rcode == NET_RCODE_DEFERRED) {
			/* RFC 7766 §6.2.1.1: the reply may come after later ones. */
			continue;
		}
		if (rlen == 0 || rcode == DNS_RCODE_FORMERR) {
			/* A message we cannot trust to be framed right ends the connection. */
			c->closing = true;
		}
		if (rlen > 0) {
			tdns_put16(w->tcp_out, (uint16_t)rlen);
			if (evbuffer_add(out, w->tcp_out, 2 + rlen) != 0) {
				c->closing = true;
			}
		}
	}
	if (c->closing || c->eof) {
		/* Whatever is left half-sent by the client is never answered. */
		bufferevent_disable(c->bev, EV_READ);
		if (!c->paused && evbuffer_get_length(out) == 0 && c->pending == 0) {
			conn_free(c);
			return false;
		}
		return true;
	}
	if (c->paused) {
		bufferevent_disable(c->bev, EV_READ);
	} else {
		bufferevent_enable(c->bev, EV_READ);
	}
	return true;
}

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct net_tcp_conn *c = arg;
	(void)bev;
	conn_touch(c);
	(void)conn_process(c);
}

/* Called when the output buffer has drained completely (low watermark 0). */
static void
conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct net_tcp_conn *c = arg;
	(void)bev;
	conn_touch(c);
	(void)conn_process(c);
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct net_tcp_conn *c = arg;
	(void)bev;
	if ((what & BEV_EVENT_CONNECTED) != 0) {
		/* The TLS handshake of a DoT connection is done. */
		c->handshaken = true;
		return;
	}
	if (c->transport == STATS_TRANSPORT_DOT && !c->handshaken) {
		/* Not TLS, a bad handshake, or a client that never finished one. */
		c->w->stats.tls_failed++;
		conn_free(c);
		return;
	}
	if ((what & BEV_EVENT_EOF) != 0 && (what & BEV_EVENT_READING) != 0) {
		/*
		 * The client closed its sending side; it may still read the replies to what it
		 * sent (a half-close), so answer what is buffered and close after writing.
		 */
		c->eof = true;
		(void)conn_process(c);
		return;
	}
	/* Errors and the idle timeout (RFC 7766 §6.2.3) close the connection. */
	conn_free(c);
}

bool
net_tcp_evict_idle(struct net_worker *w)
{
	struct net_tcp_conn *c;
	TAILQ_FOREACH(c, &w->conns, link) {
		if (conn_idle(c)) {
			conn_free(c);
			w->stats.tcp_evicted++;
			return true;
		}
	}
	return false;
}

/* Starts a TCP or DoT connection on bev (which now belongs to it). */
static void
conn_start(struct net_worker *w, struct bufferevent *bev, enum net_stream_kind kind,
	   const struct sockaddr *sa, socklen_t salen)
{
	const struct net_settings *set = net_server_settings(w);
	struct net_tcp_conn *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		bufferevent_free(bev);
		return;
	}
	c->w = w;
	c->bev = bev;
	c->transport = kind == NET_STREAM_DOT ? STATS_TRANSPORT_DOT : STATS_TRANSPORT_TCP;
	if (sa != NULL && salen > 0 && (size_t)salen <= sizeof(c->peer)) {
		memcpy(&c->peer, sa, (size_t)salen);
		c->peerlen = salen;
	}
	TAILQ_INSERT_TAIL(&w->conns, c, link);
	w->nconns++;
	struct timeval idle = { .tv_sec = set->tcp_idle, .tv_usec = 0 };
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	/*
	 * tcp-idle-timeout = 0 turns the timeout off.  It also bounds a TLS handshake that
	 * never completes (RFC 7858 §3.4 lets servers close idle or stalled sessions).
	 */
	const struct timeval *tv = set->tcp_idle > 0 ? &idle : NULL;
	bufferevent_set_timeouts(c->bev, tv, tv);
	/* Never buffer more than one maximal message plus its length beyond what we parse. */
	bufferevent_setwatermark(c->bev, EV_READ, 0, 4 * (2 + DNS_MSG_MAX));
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

void
net_tcp_accept_cb(struct evconnlistener *l, int fd, struct sockaddr *sa, int salen, void *arg)
{
	struct net_listener *nl = arg;
	struct net_worker *w = nl->w;
	const struct net_settings *set = net_server_settings(w);
	(void)l;
	/* One limit for all stream kinds; an idle connection of any kind makes room. */
	if (w->nconns + w->nhttp >= set->tcp_max && !net_tcp_evict_idle(w) &&
	    !net_http_evict_idle(w)) {
		w->stats.tcp_refused++;
		close(fd);
		return;
	}
	int on = 1;
	/* Replies are written whole; do not hold them back waiting for more. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	struct bufferevent *bev;
	if (nl->kind == NET_STREAM_DOT || nl->kind == NET_STREAM_DOH) {
		SSL *ssl = set->tls != NULL ? net_tls_ssl(set->tls, nl->kind) : NULL;
		if (ssl == NULL) {
			close(fd);
			return;
		}
		/* Frees ssl with the bufferevent, which also closes fd. */
		bev = bufferevent_openssl_socket_new(w->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
						     BEV_OPT_CLOSE_ON_FREE);
		if (bev == NULL) {
			/*
			 * Out of memory.  With BEV_OPT_CLOSE_ON_FREE libevent's error paths free
			 * ssl themselves (some versions, not all): leak it rather than risk a
			 * double free.  Its socket BIO does not own fd.
			 */
			close(fd);
			return;
		}
		w->stats.tls_accepted++;
	} else {
		bev = bufferevent_socket_new(w->base, fd, BEV_OPT_CLOSE_ON_FREE);
		if (bev == NULL) {
			close(fd);
			return;
		}
	}
	w->stats.tcp_accepted++;
	if (nl->kind == NET_STREAM_DOH || nl->kind == NET_STREAM_HTTP) {
		net_http_conn_new(w, bev, nl->kind, sa, (socklen_t)salen);
		return;
	}
	conn_start(w, bev, nl->kind, sa, (socklen_t)salen);
}

void
net_tcp_deferred_reply(struct net_tcp_conn *c, const uint8_t *msg, size_t len)
{
	c->pending--;
	if (c->dead) {
		if (c->pending == 0) {
			free(c);
		}
		return;
	}
	if (msg != NULL && len > 0) {
		uint8_t hdr[2];
		tdns_put16(hdr, (uint16_t)len);
		struct evbuffer *out = bufferevent_get_output(c->bev);
		if (evbuffer_add(out, hdr, 2) != 0 || evbuffer_add(out, msg, len) != 0) {
			c->closing = true;
		}
	}
	conn_touch(c);
	/* Closes a connection that was only waiting for this answer (the write callback will). */
	if ((c->closing || c->eof) && c->pending == 0 &&
	    evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		conn_free(c);
	}
}
