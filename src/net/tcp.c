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
	int fd = net_socket_open(addr, SOCK_STREAM);
	if (fd < 0) {
		return -1;
	}
	int on = 1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0 ||
	    bind(fd, addr, addrlen) < 0 || listen(fd, 256) < 0) {
		return net_socket_fail(fd);
	}
	return fd;
}

/* One TCP or DoT connection (RFC 7766, RFC 7858) on the stream-connection base. */
struct tcp_conn {
	struct net_conn base;         /* first: a struct net_conn * is a struct tcp_conn * */
	struct net_worker *w;
	enum stats_transport transport; /* TCP or DOT */
	bool handshaken;              /* DoT: the TLS handshake is done */
	bool feeding;                 /* feed holds a multi-message reply (and a reference) */
	struct net_feed feed;
};

/* The feed is over: frees it and drops the reference it held (c stays open). */
static void
feed_end(struct tcp_conn *c)
{
	c->feeding = false;
	c->feed.free(c->feed.arg);
	net_conn_unref(&c->base);
}

static void
conn_close(struct net_conn *base)
{
	struct tcp_conn *c = (struct tcp_conn *)base;
	if (c->handshaken) {
		net_tls_close_notify(base->bev);
	}
	if (c->feeding) {
		/* The client left in the middle of a transfer. */
		feed_end(c);
	}
}

static const struct net_conn_ops conn_ops = {
	.close = conn_close,
};

static void *conn_keep(const struct net_client *cl);
static void conn_deliver(void *handle, const uint8_t *msg, size_t len);
static bool conn_feed(const struct net_client *cl, const struct net_feed *f);

/*
 * Writes messages of the feed until the output holds NET_TCP_OUT_HIGH octets: the rest comes
 * when the client has read them (the write callback), so a transfer of any size takes one
 * buffer's worth of memory and the worker serves other connections in between.  False when
 * the feed failed and the connection must close.
 */
static bool
feed_fill(struct tcp_conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->base.bev);
	uint8_t *buf = c->w->tcp_out;
	while (c->feeding && evbuffer_get_length(out) < NET_TCP_OUT_HIGH) {
		bool more = false;
		size_t n = c->feed.next(c->feed.arg, buf + 2, DNS_MSG_MAX, &more);
		if (n > 0) {
			tdns_put16(buf, (uint16_t)n);
			if (evbuffer_add(out, buf, 2 + n) != 0) {
				more = false;
				n = 0;
			}
		}
		if (!more) {
			feed_end(c);
			if (n == 0) {
				return false;
			}
		}
	}
	return true;
}

/*
 * Slowloris (issue 13): the deadline of a message runs from its first octet, whatever comes
 * after.  Plain TCP sees the frame's octets: a new frame begins when one was taken (took) and
 * octets are left.  DoT sees only whole TLS records, so there the deadline runs from the
 * moment the connection waits for the client.  It is off while the server owes replies.
 */
static void
message_deadline(struct tcp_conn *c, bool took)
{
	struct net_conn *b = &c->base;
	bool waits = !b->paused && net_conn_pending(b) == 0 && net_conn_out_len(b) == 0;
	size_t avail = evbuffer_get_length(bufferevent_get_input(b->bev));
	if (c->transport == STATS_TRANSPORT_DOT ? !waits : (b->paused || avail == 0 || took)) {
		net_conn_msg_end(b);
	}
	if (c->transport == STATS_TRANSPORT_DOT ? waits : (!b->paused && avail > 0)) {
		net_conn_msg_begin(b);
	}
}

/*
 * Answers every complete message in the input buffer (RFC 7766 §6.2.1.1 pipelining), stops
 * reading while too many replies wait for the client, and closes once a connection is done.
 * Returns false if the connection was freed.
 */
static bool
conn_process(struct tcp_conn *c)
{
	struct net_worker *w = c->w;
	struct net_conn *b = &c->base;
	struct evbuffer *in = bufferevent_get_input(b->bev);
	struct evbuffer *out = bufferevent_get_output(b->bev);
	b->paused = false;
	bool took = false;
	while (!b->closing) {
		if (c->feeding && !feed_fill(c)) {
			b->closing = true;
			break;
		}
		if (c->feeding) {
			/* RFC 5936 §4.2: later requests wait until the transfer is out. */
			b->paused = true;
			break;
		}
		if (evbuffer_get_length(out) >= NET_TCP_OUT_HIGH) {
			/* The client does not read its replies: stop reading until it does. */
			b->paused = true;
			break;
		}
		if (net_conn_pending(b) >= NET_CONN_PENDING_MAX) {
			/* Issue 13: enough deferred replies; read on as they go out (conn_deliver). */
			b->paused = true;
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
			b->closing = true;
			break;
		}
		if (avail < 2 + mlen) {
			break;
		}
		evbuffer_drain(in, 2);
		took = true;
		if (evbuffer_remove(in, w->tcp_in, mlen) != (int)mlen) {
			b->closing = true;
			break;
		}
		int rcode;
		struct net_client cl = {
			.peer = b->peerlen > 0 ? (const struct sockaddr *)&b->peer : NULL,
			.peerlen = b->peerlen,
			.transport = c->transport,
			.stream = true,
			.keep = conn_keep,
			.deliver = conn_deliver,
			.feed = conn_feed,
			.ctx = c,
		};
		size_t rlen = net_conn_query(w, w->tcp_in, mlen, w->tcp_out + 2, DNS_MSG_MAX, &cl,
					     &rcode);
		if (rcode == NET_RCODE_DEFERRED) {
			/* RFC 7766 §6.2.1.1: the reply may come after later ones. */
			continue;
		}
		if (rlen == 0 || rcode == DNS_RCODE_FORMERR) {
			/* A message we cannot trust to be framed right ends the connection. */
			b->closing = true;
		}
		if (rlen > 0) {
			tdns_put16(w->tcp_out, (uint16_t)rlen);
			if (evbuffer_add(out, w->tcp_out, 2 + rlen) != 0) {
				b->closing = true;
			}
		}
	}
	message_deadline(c, took);
	if (b->closing || b->eof) {
		/* Whatever is left half-sent by the client is never answered. */
		bufferevent_disable(b->bev, EV_READ);
		if (!b->paused && evbuffer_get_length(out) == 0 && net_conn_pending(b) == 0) {
			net_conn_close(b);
			return false;
		}
		return true;
	}
	if (b->paused) {
		bufferevent_disable(b->bev, EV_READ);
	} else {
		bufferevent_enable(b->bev, EV_READ);
	}
	return true;
}

/*
 * Both the read callback and the write callback, called when the output buffer has drained
 * completely (low watermark 0): either may let the connection take its next query.
 */
static void
conn_io_cb(struct bufferevent *bev, void *arg)
{
	struct tcp_conn *c = arg;
	(void)bev;
	net_conn_touch(&c->base);
	(void)conn_process(c);
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct tcp_conn *c = arg;
	if ((what & BEV_EVENT_CONNECTED) != 0) {
		/* The TLS handshake of a DoT connection is done; its deadline goes on. */
		c->handshaken = true;
		return;
	}
	if (c->transport == STATS_TRANSPORT_DOT && !c->handshaken) {
		/* Not TLS, a bad handshake, or a client that never finished one. */
		c->w->stats.tls_failed++;
		net_conn_close(&c->base);
		return;
	}
	if ((what & BEV_EVENT_EOF) != 0 && (what & BEV_EVENT_READING) != 0) {
		/*
		 * The client closed its sending side; it may still read the replies to what it
		 * sent (a half-close), so answer what is buffered and close after writing.
		 */
		c->base.eof = true;
		(void)conn_process(c);
		return;
	}
	if (net_conn_timeout_pending(&c->base, what)) {
		return;
	}
	/* Errors and the idle timeout (RFC 7766 §6.2.3) close the connection. */
	net_conn_close(&c->base);
}

/* Starts a TCP or DoT connection on bev (which now belongs to it). */
static void
conn_start(struct net_worker *w, struct bufferevent *bev, enum net_stream_kind kind,
	   const struct sockaddr *sa, socklen_t salen)
{
	struct tcp_conn *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		bufferevent_free(bev);
		return;
	}
	c->w = w;
	c->transport = kind == NET_STREAM_DOT ? STATS_TRANSPORT_DOT : STATS_TRANSPORT_TCP;
	net_conn_init(&c->base, &w->conns, &conn_ops, bev, sa, salen);
	bufferevent_setcb(bev, conn_io_cb, conn_io_cb, conn_event_cb, c);
	/*
	 * tcp-idle-timeout = 0 turns the timeout off.  It also bounds a TLS handshake that
	 * never completes (RFC 7858 §3.4 lets servers close idle or stalled sessions).
	 */
	net_conn_set_idle(&c->base, w->set->tcp_idle);
	if (kind == NET_STREAM_DOT) {
		/* The handshake is the first message: a client that stalls in it leaves. */
		net_conn_msg_begin(&c->base);
	}
	/* Never buffer more than one maximal message plus its length beyond what we parse. */
	bufferevent_setwatermark(bev, EV_READ, 0, 4 * (2 + DNS_MSG_MAX));
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

void
net_tcp_accept_cb(struct evconnlistener *l, int fd, struct sockaddr *sa, int salen, void *arg)
{
	struct net_listener *nl = arg;
	struct net_worker *w = nl->w;
	const struct net_settings *set = w->set;
	(void)l;
	/*
	 * One limit for all stream kinds, closed connections still owed replies included; an
	 * idle connection of any kind makes room, else the one whose unfinished message began
	 * first (a slow or stalled client: issue 13).
	 */
	if (net_conn_count(&w->conns) + net_conn_count(&w->http_conns) >= set->tcp_max) {
		struct net_conn *slow = NULL;
		if (net_conn_evict_idle(&w->conns) || net_conn_evict_idle(&w->http_conns) ||
		    (slow = net_conn_oldest_incomplete(&w->conns, &w->http_conns)) != NULL) {
			if (slow != NULL) {
				net_conn_close(slow);
			}
			w->stats.tcp_evicted++;
		}
		if (net_conn_count(&w->conns) + net_conn_count(&w->http_conns) >= set->tcp_max) {
			/* Closed ones still owed replies hold their slots. */
			w->stats.tcp_refused++;
			close(fd);
			return;
		}
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

/* The client's keep callback: a deferred reply holds a reference to the connection. */
static void *
conn_keep(const struct net_client *cl)
{
	struct tcp_conn *c = cl->ctx;
	net_conn_ref(&c->base);
	return c;
}

/* The client's feed callback: the connection sends f's messages before reading on. */
static bool
conn_feed(const struct net_client *cl, const struct net_feed *f)
{
	struct tcp_conn *c = cl->ctx;
	if (c->feeding || c->base.dead) {
		return false;
	}
	c->feed = *f;
	c->feeding = true;
	net_conn_ref(&c->base);
	return true;
}

/*
 * The deferred reply msg[0..len) (NULL: abandoned): written framed unless the connection has
 * been closed meanwhile; then the reference that kept it is dropped.
 */
static void
conn_deliver(void *handle, const uint8_t *msg, size_t len)
{
	struct tcp_conn *c = handle;
	struct net_conn *b = &c->base;
	if (b->dead) {
		net_conn_unref(b);
		return;
	}
	/* The open connection's own reference stays: b outlives this call. */
	net_conn_unref(b);
	if (msg != NULL && len > 0) {
		uint8_t hdr[2];
		tdns_put16(hdr, (uint16_t)len);
		struct evbuffer *out = bufferevent_get_output(b->bev);
		if (evbuffer_add(out, hdr, 2) != 0 || evbuffer_add(out, msg, len) != 0) {
			b->closing = true;
		}
	}
	net_conn_touch(b);
	/* Closes a connection that was only waiting for this answer (the write callback will). */
	if ((b->closing || b->eof) && net_conn_pending(b) == 0 && net_conn_out_len(b) == 0) {
		net_conn_close(b);
		return;
	}
	if (b->paused && !b->closing && !b->eof && !c->w->stopping &&
	    net_conn_pending(b) < NET_CONN_PENDING_MAX && net_conn_out_len(b) < NET_TCP_OUT_HIGH) {
		/*
		 * Below the cap again: read on from the event loop, not from inside the resolver
		 * that called us (bufferevent_trigger with deferred callbacks, which hold the
		 * bufferevent until they run: never once the loop has stopped).
		 */
		bufferevent_trigger(b->bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS |
						   BEV_TRIG_DEFER_CALLBACKS);
	}
}
