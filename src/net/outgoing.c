/* SPDX-License-Identifier: MIT */
/* The asynchronous outgoing transports: UDP, pipelined TCP, DoT, DoH and DoH-JSON on libevent. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <nghttp2/nghttp2.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include "core/core.h"
#include "dns/dns.h"
#include "net/doh.h"
#include "net/h2.h"
#include "net/outgoing.h"

/* A stream connection with nothing outstanding is closed after this long (RFC 7766 §6.2.3). */
#define CONN_IDLE_SEC 10
/* Most queries outstanding (or queued for a stream) on one stream connection. */
#define CONN_MAX_XFERS 256
/* Largest DoH-JSON answer body accepted (the wire limit of RFC 8484 §6 holds for the rest). */
#define H2_JSON_MAX (1024 * 1024)
/* Times one query is sent again after its stream was refused (GOAWAY, REFUSED_STREAM). */
#define H2_MAX_RETRIES 3
/* HTTP/2 streams we allow the server to open towards us: none are needed (no push). */
#define H2_LOCAL_STREAMS 100
/* Longest :path of a GET: the template's path and a query of a few KB in base64url. */
#define H2_PATH_MAX 8192
#define ERR_MAX 512

struct out_conn;

/* One DoH exchange's HTTP/2 stream. */
struct out_h2 {
	int32_t sid;                /* stream id, 0 while waiting for one */
	bool closed;                /* the stream ended (answer complete, reset or refused) */
	unsigned retries;           /* times refused and sent again */
	uint32_t err;               /* HTTP/2 error code of the stream's end */
	int status;                 /* HTTP :status, 0 before the response headers */
	char ctype[64];             /* content-type of the response */
	struct evbuffer *body;
	bool overflow;
	size_t body_sent;           /* POST body octets given to nghttp2 */
	int submit_rc;              /* why the stream could not be opened, or CLIENT_OK */
	char submit_err[ERR_MAX];
};

/*
 * One exchange: a query sent to one server over UDP or a stream (a TCP or TLS connection, or
 * an HTTP/2 stream on a DoH connection), waiting for its answer.
 */
struct net_out_query {
	struct net_out_peer *p;
	net_out_cb cb;
	void *arg;
	TAILQ_ENTRY(net_out_query) link; /* in its connection's list (streams) */
	struct out_conn *conn;      /* NULL for UDP */
	int fd;                     /* UDP socket, -1 for streams */
	struct event *ev;           /* UDP read event */
	struct event *timer;
	unsigned timeout_ms;
	unsigned tries;             /* UDP sends left after this one */
	int64_t t0_us;
	uint16_t id;                /* 0 over HTTPS (RFC 8484 §4.1): answers match by stream */
	bool stream;
	bool reused;                /* the connection was up when the query was sent */
	bool mismatch;              /* (UDP) an answer with our ID but another question came */
	bool multi;                 /* NET_OUT_MULTI: every message goes to the callback */
	unsigned parts;             /* NET_OUT_MULTI: messages delivered so far */
	unsigned ignored;
	struct out_h2 *h2;          /* HTTP/2 stream state for DoH and DoH-JSON, else NULL */
	size_t qlen;
	uint8_t q[];                /* the query with this exchange's ID, for the answer check */
};

TAILQ_HEAD(out_query_list, net_out_query);

/*
 * One TCP or TLS connection to a server, carrying pipelined queries (RFC 7766 §6.2.1.1), or
 * for DoH an HTTP/2 session over TLS with one stream per query (RFC 8484 §5.2).
 */
struct out_conn {
	struct net_out_peer *p;
	struct bufferevent *bev;
	bool tls;
	bool connected;
	struct out_query_list xfers; /* for HTTP/2 also those waiting for a stream (sid 0) */
	unsigned nxfers;
	struct event *idle;
	/* HTTP/2 only. */
	nghttp2_session *h2s;
	struct event *kick;         /* deferred submit, send and answer handling */
	unsigned nstreams;          /* streams submitted and not yet closed */
	bool settings;              /* the server's SETTINGS arrived: its stream limit is known */
	bool goaway;                /* the server sent GOAWAY: no new streams here */
	bool draining;              /* in p->draining rather than p->conn */
	bool closing;               /* conn_free is running */
	LIST_ENTRY(out_conn) dlink;
};

LIST_HEAD(out_conn_list, out_conn);

struct net_out_peer {
	struct event_base *base;
	struct client_server srv;
	struct net_out_opts o;
	unsigned refs;              /* the owner's, plus one per query in flight and while busy */
	struct out_conn *conn;      /* open TCP, TLS or HTTP/2 connection, or NULL */
	struct out_conn_list draining; /* HTTP/2 connections told GOAWAY, finishing their streams */
	SSL_SESSION *sess;          /* to resume, or NULL */
	int err_status;             /* of the last net_out_send that returned NULL */
	char err[ERR_MAX];
};

static bool
is_h2(enum client_proto p)
{
	return p == CLIENT_HTTPS || p == CLIENT_HTTPS_JSON;
}

static int
fmt_err(char *buf, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
fmt_err(char *buf, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, ERR_MAX, fmt, ap);
	va_end(ap);
	return status;
}

/* "communications error to ADDR#PORT: WHY" for socket failures (tdns-cli prints it). */
static void
comm_error(const struct net_out_peer *p, char *buf, const char *why)
{
	fmt_err(buf, CLIENT_ENET, "communications error to %s#%u: %s", p->srv.addr,
		(unsigned)p->srv.port, why);
}

/* ---- TLS context and sessions ------------------------------------------------------------- */

/* TLS 1.3 hands out tickets after the handshake (RFC 8446 §4.6.1): the peer keeps the latest. */
static int
new_session_cb(SSL *ssl, SSL_SESSION *sess)
{
	struct out_conn *c = SSL_get_app_data(ssl);
	if (c == NULL || !SSL_SESSION_is_resumable(sess)) {
		return 0;
	}
	if (c->p->sess != NULL) {
		SSL_SESSION_free(c->p->sess);
	}
	c->p->sess = sess;
	return 1;
}

static void
ssl_errors(char *buf, size_t cap)
{
	unsigned long e = ERR_get_error();
	if (e == 0) {
		snprintf(buf, cap, "unknown error");
		return;
	}
	ERR_error_string_n(e, buf, cap);
	ERR_clear_error();
}

SSL_CTX *
net_out_tls_ctx_new(const char *ca_file, bool insecure, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL) {
		ssl_errors(err, errlen);
		return NULL;
	}
	/* RFC 7858 §3.2 and RFC 8484 §5.2 ask for current TLS; RFC 8996 retired 1.0 and 1.1. */
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (insecure) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	} else {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		int ok = ca_file != NULL ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL)
					 : SSL_CTX_set_default_verify_paths(ctx);
		if (ok != 1) {
			ssl_errors(err, errlen);
			SSL_CTX_free(ctx);
			return NULL;
		}
	}
	/* The peers keep their sessions themselves (new_session_cb), one per server. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL);
	SSL_CTX_sess_set_new_cb(ctx, new_session_cb);
	return ctx;
}

/* ---- peers -------------------------------------------------------------------------------- */

struct net_out_peer *
net_out_peer_new(struct event_base *base, const struct client_server *srv,
		 const struct net_out_opts *o)
{
	struct net_out_peer *p = calloc(1, sizeof(*p));
	if (p == NULL) {
		return NULL;
	}
	p->base = base;
	p->srv = *srv;
	p->o = *o;
	if (p->o.udp_tries == 0) {
		p->o.udp_tries = 1;
	}
	if (p->o.tls_ctx != NULL) {
		SSL_CTX_up_ref(p->o.tls_ctx);
	}
	LIST_INIT(&p->draining);
	p->refs = 1;
	return p;
}

static void conn_free(struct out_conn *c, int status, const char *err);

void
net_out_peer_close(struct net_out_peer *p)
{
	if (p->conn != NULL) {
		conn_free(p->conn, CLIENT_ENET, "connection closed");
	}
	while (!LIST_EMPTY(&p->draining)) {
		conn_free(LIST_FIRST(&p->draining), CLIENT_ENET, "connection closed");
	}
}

static void
peer_ref(struct net_out_peer *p)
{
	p->refs++;
}

static void
peer_unref(struct net_out_peer *p)
{
	if (--p->refs > 0) {
		return;
	}
	net_out_peer_close(p);
	if (p->sess != NULL) {
		SSL_SESSION_free(p->sess);
	}
	SSL_CTX_free(p->o.tls_ctx);
	free(p);
}

void
net_out_peer_free(struct net_out_peer *p)
{
	if (p != NULL) {
		peer_unref(p);
	}
}

const char *
net_out_peer_error(const struct net_out_peer *p, int *status)
{
	if (status != NULL) {
		*status = p->err_status;
	}
	return p->err;
}

/* ---- results ------------------------------------------------------------------------------ */

static void h2_kick(struct out_conn *c);

/* Unlinks x from its connection, arming the idle timer when it was the last exchange. */
static void
xfer_detach(struct net_out_query *x)
{
	struct out_conn *c = x->conn;
	if (c == NULL) {
		return;
	}
	struct out_h2 *h = x->h2;
	if (h != NULL && h->sid > 0 && !h->closed && c->h2s != NULL && !c->closing) {
		/* RFC 7540 §8.1.4: a request we no longer want is cancelled with RST_STREAM. */
		nghttp2_session_set_stream_user_data(c->h2s, h->sid, NULL);
		nghttp2_submit_rst_stream(c->h2s, NGHTTP2_FLAG_NONE, h->sid, NGHTTP2_CANCEL);
		h2_kick(c);
	}
	TAILQ_REMOVE(&c->xfers, x, link);
	c->nxfers--;
	x->conn = NULL;
	if (c->nxfers == 0 && c->idle != NULL && !c->closing) {
		/* A connection told GOAWAY has no further use once its last stream ends. */
		const struct timeval tv = { .tv_sec = c->goaway ? 0 : CONN_IDLE_SEC };
		event_add(c->idle, &tv);
	}
}

/* UDP sockets of this thread's queries (NET_OUT_UDP_MAX); each event base has one thread. */
static _Thread_local unsigned udp_open;

static void
xfer_free(struct net_out_query *x)
{
	if (x->ev != NULL) {
		event_free(x->ev);
	}
	if (x->timer != NULL) {
		event_free(x->timer);
	}
	if (x->fd >= 0) {
		close(x->fd);
		udp_open--;
	}
	xfer_detach(x);
	if (x->h2 != NULL) {
		if (x->h2->body != NULL) {
			evbuffer_free(x->h2->body);
		}
		free(x->h2);
	}
	struct net_out_peer *p = x->p;
	free(x);
	peer_unref(p);
}

/* What the connection says about itself, for the result. */
static void
conn_describe(const struct out_conn *c, struct net_out_result *r)
{
	if (c == NULL || !c->tls || !c->connected) {
		return;
	}
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
	if (ssl == NULL) {
		return;
	}
	const unsigned char *sel = NULL;
	unsigned sellen = 0;
	SSL_get0_alpn_selected(ssl, &sel, &sellen);
	r->tls_resumed = SSL_session_reused(ssl);
	snprintf(r->tls_version, sizeof(r->tls_version), "%s", SSL_get_version(ssl));
	snprintf(r->alpn, sizeof(r->alpn), "%.*s", (int)sellen,
		 sel != NULL ? (const char *)sel : "");
}

/* Tells the caller how x ended and frees x. */
static void
xfer_end(struct net_out_query *x, int status, const uint8_t *pkt, size_t len, const char *err)
{
	struct net_out_peer *p = x->p;
	struct net_out_result r = {
		.status = status,
		.pkt = status == CLIENT_OK ? pkt : NULL,
		.len = status == CLIENT_OK ? len : 0,
		.rtt_us = tdns_mono_us() - x->t0_us,
		.err = err != NULL ? err : "",
		.proto = x->stream ? (p->srv.proto == CLIENT_UDP ? CLIENT_TCP : p->srv.proto)
				   : CLIENT_UDP,
		.ignored = x->ignored,
		.conn_reused = x->reused,
		.http_status = x->h2 != NULL ? x->h2->status : 0,
	};
	conn_describe(x->conn, &r);
	/* Held so that a callback that frees the owner's reference cannot free p under us. */
	peer_ref(p);
	net_out_cb cb = x->cb;
	void *arg = x->arg;
	/* Unlinked first: the callback may send again on the same connection. */
	if (x->timer != NULL) {
		event_del(x->timer);
	}
	xfer_detach(x);
	cb(arg, &r);
	xfer_free(x);
	peer_unref(p);
}

void
net_out_cancel(struct net_out_query *x)
{
	xfer_free(x);
}

static void
timeout_end(struct net_out_query *x)
{
	char err[ERR_MAX];
	int status = CLIENT_ETIMEOUT;
	if (x->mismatch && x->p->o.diagnose) {
		status = fmt_err(err, CLIENT_EPROTO, "no matching response from %s#%u (question "
				 "section mismatch)", x->p->srv.addr, (unsigned)x->p->srv.port);
	} else {
		fmt_err(err, status, "connection timed out; no servers could be reached");
	}
	xfer_end(x, status, NULL, 0, err);
}

static void
xfer_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct net_out_query *x = arg;
	(void)fd;
	(void)what;
	if (x->tries > 0 && x->fd >= 0) {
		/* RFC 1035 §4.2.1: the same datagram again, waiting the full time once more. */
		x->tries--;
		const struct timeval tv = { .tv_sec = x->timeout_ms / 1000,
					    .tv_usec = (x->timeout_ms % 1000) * 1000 };
		if (send(x->fd, x->q, x->qlen, 0) >= 0) {
			x->t0_us = tdns_mono_us();
			event_add(x->timer, &tv);
			return;
		}
		char err[ERR_MAX];
		comm_error(x->p, err, strerror(errno));
		xfer_end(x, CLIENT_ENET, NULL, 0, err);
		return;
	}
	timeout_end(x);
}

static void
timer_arm(struct net_out_query *x)
{
	const struct timeval tv = { .tv_sec = x->timeout_ms / 1000,
				    .tv_usec = (x->timeout_ms % 1000) * 1000 };
	event_add(x->timer, &tv);
}

/*
 * NET_OUT_MULTI: hands one message of the answer to the caller, which may cancel x (and so
 * free it) from the callback; the timeout starts again for the next message.
 */
static void
xfer_part(struct net_out_query *x, const uint8_t *pkt, size_t len)
{
	struct net_out_result r = {
		.status = CLIENT_OK, .pkt = pkt, .len = len, .err = "",
		.rtt_us = tdns_mono_us() - x->t0_us,
		.proto = x->p->srv.proto == CLIENT_UDP ? CLIENT_TCP : x->p->srv.proto,
		.conn_reused = x->reused, .more = true,
	};
	x->parts++;
	timer_arm(x);
	x->cb(x->arg, &r);
}

/*
 * Checks an answer against x's query (RFC 5452 §9.1) as client_check_response does (0 when
 * it matches), and also as strictly as the peer's options ask.
 */
static int
answer_check(const struct net_out_query *x, const uint8_t *pkt, size_t len)
{
	const struct net_out_opts *o = &x->p->o;
	int k = client_check_response(x->q, x->qlen, pkt, len);
	if (k != 0 || (!o->strict_question && !o->exact_case)) {
		return k;
	}
	if (tdns_get16(pkt + 4) != 1) {
		return 2;
	}
	if (o->exact_case) {
		size_t qn = dns_name_len(x->q + DNS_HDR_LEN) + 4;
		if (len < DNS_HDR_LEN + qn ||
		    memcmp(pkt + DNS_HDR_LEN, x->q + DNS_HDR_LEN, qn) != 0) {
			return 2;
		}
	}
	return 0;
}

/* Binds fd to the peer's source address, if it has one; port 0 lets the kernel choose. */
static bool
bind_source(const struct net_out_peer *p, int fd, uint16_t port)
{
	if (p->o.source_len == 0 || p->o.source.ss_family != p->srv.ss.ss_family) {
		return port == 0;
	}
	struct sockaddr_storage local = p->o.source;
	if (local.ss_family == AF_INET) {
		((struct sockaddr_in *)&local)->sin_port = htons(port);
	} else {
		((struct sockaddr_in6 *)&local)->sin6_port = htons(port);
	}
	return bind(fd, (struct sockaddr *)&local, p->o.source_len) == 0;
}

/* ---- UDP ---------------------------------------------------------------------------------- */

/*
 * A socket bound to a random port (RFC 5452 §9.2: port and ID both random), connected to
 * the server so that the kernel drops datagrams from other sources and an ICMP port
 * unreachable surfaces as ECONNREFUSED.
 */
static int
udp_socket(const struct net_out_peer *p)
{
	const struct client_server *srv = &p->srv;
	int fd = socket(srv->ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -1;
	}
	bool sourced = p->o.source_len != 0 && p->o.source.ss_family == srv->ss.ss_family;
	struct sockaddr_storage local;
	memset(&local, 0, sizeof(local));
	local.ss_family = srv->ss.ss_family;
	socklen_t llen = srv->ss.ss_family == AF_INET ? sizeof(struct sockaddr_in)
						       : sizeof(struct sockaddr_in6);
	bool bound = false;
	for (int i = 0; i < 10 && !bound; i++) {
		uint16_t port = (uint16_t)(1024 + randombytes_uniform(65536 - 1024));
		if (sourced) {
			bound = bind_source(p, fd, port);
			continue;
		}
		if (local.ss_family == AF_INET) {
			((struct sockaddr_in *)&local)->sin_port = htons(port);
		} else {
			((struct sockaddr_in6 *)&local)->sin6_port = htons(port);
		}
		bound = bind(fd, (struct sockaddr *)&local, llen) == 0;
	}
	/*
	 * If ten random ports were taken the kernel's choice (also random on Linux) is used; from
	 * the configured source address all the same.
	 */
	if ((!bound && sourced && !bind_source(p, fd, 0)) ||
	    connect(fd, (const struct sockaddr *)&srv->ss, srv->sslen) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static void
udp_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct net_out_query *x = arg;
	struct net_out_peer *p = x->p;
	uint8_t buf[CLIENT_MSG_MAX];
	char err[ERR_MAX];
	(void)what;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
				return;
			}
			/* ICMP port unreachable and the like (RFC 1122 §4.1.3.3). */
			comm_error(p, err, strerror(errno));
			xfer_end(x, CLIENT_ENET, NULL, 0, err);
			return;
		}
		int k = answer_check(x, buf, (size_t)n);
		if (k == 0) {
			xfer_end(x, CLIENT_OK, buf, (size_t)n, NULL);
			return;
		}
		if (k == 3 && p->o.diagnose) {
			fmt_err(err, CLIENT_EPROTO, "malformed response from %s#%u", p->srv.addr,
				(unsigned)p->srv.port);
			xfer_end(x, CLIENT_EPROTO, NULL, 0, err);
			return;
		}
		if (k == 2) {
			/* RFC 5452 §9.1: our ID but another question; keep waiting. */
			x->mismatch = true;
			x->ignored++;
		}
	}
}

/* ---- streams (TCP, TLS) ------------------------------------------------------------------ */

static void
conn_free(struct out_conn *c, int status, const char *err)
{
	struct net_out_peer *p = c->p;
	if (p->conn == c) {
		p->conn = NULL;
	}
	if (c->draining) {
		LIST_REMOVE(c, dlink);
		c->draining = false;
	}
	c->closing = true;
	/* Fail what is outstanding; each xfer_end unlinks its exchange. */
	struct net_out_query *x;
	while ((x = TAILQ_FIRST(&c->xfers)) != NULL) {
		xfer_end(x, status, NULL, 0, err);
	}
	if (c->idle != NULL) {
		event_free(c->idle);
	}
	if (c->kick != NULL) {
		event_free(c->kick);
	}
	if (c->h2s != NULL) {
		nghttp2_session_del(c->h2s);
	}
	if (c->bev != NULL) {
		SSL *ssl = c->tls ? bufferevent_openssl_get_ssl(c->bev) : NULL;
		if (ssl != NULL) {
			SSL_set_app_data(ssl, NULL);
			if (c->connected) {
				/* A best-effort close_notify (RFC 8446 §6.1); no wait for the reply. */
				SSL_shutdown(ssl);
			}
			ERR_clear_error();
		}
		bufferevent_free(c->bev);
	}
	free(c);
}

static void
conn_idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct out_conn *c = arg;
	(void)fd;
	(void)what;
	if (c->nxfers == 0) {
		conn_free(c, CLIENT_ENET, "connection closed");
	}
}

static void h2_read(struct out_conn *c);

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct out_conn *c = arg;
	if (c->h2s != NULL) {
		h2_read(c);
		return;
	}
	struct evbuffer *in = bufferevent_get_input(bev);
	uint8_t buf[2 + CLIENT_MSG_MAX];
	struct net_out_peer *p = c->p;
	const char *pname = client_proto_name(c->tls ? CLIENT_TLS : CLIENT_TCP);
	/* Held so that an answer that ends the last query cannot free c's peer under us. */
	peer_ref(p);
	for (;;) {
		size_t avail = evbuffer_get_length(in);
		uint8_t hdr[2];
		if (avail < 2 || evbuffer_copyout(in, hdr, 2) != 2) {
			break;
		}
		size_t mlen = tdns_get16(hdr);
		if (avail < 2 + mlen) {
			break;
		}
		if (evbuffer_remove(in, buf, 2 + mlen) != (int)(2 + mlen)) {
			conn_free(c, CLIENT_ENET, "cannot read from the connection");
			break;
		}
		uint16_t id = mlen >= 2 ? tdns_get16(buf + 2) : 0;
		struct net_out_query *x = NULL;
		if (mlen >= 2) {
			TAILQ_FOREACH(x, &c->xfers, link) {
				if (x->id == id) {
					break;
				}
			}
		}
		/* RFC 7766 §7: answers come in any order; unknown IDs (timed out) are dropped. */
		if (x == NULL) {
			struct net_out_query *any = TAILQ_FIRST(&c->xfers);
			if (any != NULL) {
				any->ignored++;
			}
			continue;
		}
		/*
		 * RFC 5936 §2.2.1: the messages after the first of a transfer may leave the
		 * question out; the ID and QR still tie them to the query.
		 */
		bool later = x->multi && x->parts > 0 && mlen >= DNS_HDR_LEN &&
			     tdns_get16(buf + 2 + 4) == 0 && (buf[2 + 2] & 0x80) != 0;
		int k = later ? 0 : answer_check(x, buf + 2, mlen);
		if (k == 0 && x->multi) {
			xfer_part(x, buf + 2, mlen);
		} else if (k == 0) {
			xfer_end(x, CLIENT_OK, buf + 2, mlen, NULL);
		} else if (p->o.diagnose || p->o.strict_streams) {
			char err[ERR_MAX];
			fmt_err(err, CLIENT_EPROTO, "%s response from %s#%u over %s",
				k == 3 ? "malformed" : "mismatched", p->srv.addr,
				(unsigned)p->srv.port, pname);
			xfer_end(x, CLIENT_EPROTO, NULL, 0, err);
		} else {
			x->ignored++;
		}
	}
	peer_unref(p);
}

/* The error of a failed handshake or connection, as tdns-cli reports it. */
static int
conn_error(struct out_conn *c, short what, char *err)
{
	struct net_out_peer *p = c->p;
	if (c->tls) {
		SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
		unsigned long e = bufferevent_get_openssl_error(c->bev);
		long vr = ssl != NULL ? SSL_get_verify_result(ssl) : X509_V_OK;
		if (!c->connected && vr != X509_V_OK && !p->o.insecure) {
			ERR_clear_error();
			return fmt_err(err, CLIENT_ETLS, "TLS certificate of %s#%u not accepted "
				       "for '%s': %s", p->srv.addr, (unsigned)p->srv.port, p->srv.name,
				       X509_verify_cert_error_string(vr));
		}
		/*
		 * libevent records SSL_ERROR_SYSCALL as an error without a library: a socket
		 * failure (refused, reset), reported as such below.
		 */
		if (e != 0 && ERR_GET_LIB(e) != 0) {
			char why[256];
			ERR_error_string_n(e, why, sizeof(why));
			ERR_clear_error();
			return fmt_err(err, CLIENT_ETLS, "TLS %s with %s#%u failed: %s",
				       c->connected ? "read" : "handshake", p->srv.addr,
				       (unsigned)p->srv.port, why);
		}
	}
	int se = EVUTIL_SOCKET_ERROR();
	/*
	 * A refused or reset connection attempt reaches an openssl bufferevent as EOF with the
	 * socket's error in errno: before the connection is up that error is the better reason.
	 */
	bool sock_err = se != 0 && se != EAGAIN && se != EWOULDBLOCK && se != EINPROGRESS;
	if (sock_err && (!c->connected || (what & BEV_EVENT_EOF) == 0)) {
		comm_error(p, err, evutil_socket_error_to_string(se));
	} else {
		comm_error(p, err, c->tls && c->connected ? "TLS connection closed by the server"
							  : "connection closed by the server");
	}
	return CLIENT_ENET;
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct out_conn *c = arg;
	(void)bev;
	char err[ERR_MAX];
	if (what & BEV_EVENT_CONNECTED) {
		c->connected = true;
		if (c->h2s != NULL) {
			/* RFC 8484 §5.2: DoH is HTTP/2 and nothing older; the server must pick h2. */
			const unsigned char *sel = NULL;
			unsigned sellen = 0;
			SSL_get0_alpn_selected(bufferevent_openssl_get_ssl(c->bev), &sel, &sellen);
			if (sellen != 2 || memcmp(sel, "h2", 2) != 0) {
				fmt_err(err, CLIENT_EPROTO, "%s#%u did not agree to HTTP/2 (ALPN h2)",
					c->p->srv.addr, (unsigned)c->p->srv.port);
				conn_free(c, CLIENT_EPROTO, err);
			}
		}
		return;
	}
	int status = conn_error(c, what, err);
	conn_free(c, status, err);
}

bool
net_out_tls_set_host(SSL *ssl, const char *name, bool insecure)
{
	struct in6_addr tmp;
	bool ip = inet_pton(AF_INET, name, &tmp) == 1 || inet_pton(AF_INET6, name, &tmp) == 1;
	/* RFC 6066 §3: literal addresses are not sent as server names. */
	if (!ip && SSL_set_tlsext_host_name(ssl, name) != 1) {
		return false;
	}
	if (!insecure) {
		/* RFC 7858 §4.2 / RFC 8310 §8: authenticate the configured name, or fail closed. */
		X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
		X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(vp, name) : SSL_set1_host(ssl, name);
		if (ok != 1) {
			return false;
		}
		SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
	}
	return true;
}

/* A TLS connection object checking the server's certificate against the configured name. */
static SSL *
tls_new(struct net_out_peer *p, char *err, int *status)
{
	SSL_CTX *ctx = p->o.tls_ctx;
	if (ctx == NULL) {
		*status = fmt_err(err, CLIENT_ETLS, "no TLS context for %s", p->srv.name);
		return NULL;
	}
	SSL *ssl = SSL_new(ctx);
	if (ssl == NULL) {
		*status = fmt_err(err, CLIENT_ETLS, "cannot create a TLS connection");
		return NULL;
	}
	const char *name = p->srv.name;
	if (!net_out_tls_set_host(ssl, name, p->o.insecure)) {
		goto noname;
	}
	/* RFC 7858 has no ALPN id; "dot" is the IANA one (RFC 9461). h2: RFC 8484 §5.2. */
	static const unsigned char alpn_dot[] = { 3, 'd', 'o', 't' };
	static const unsigned char alpn_h2[] = { 2, 'h', '2' };
	bool h2 = is_h2(p->srv.proto);
	if (SSL_set_alpn_protos(ssl, h2 ? alpn_h2 : alpn_dot,
				h2 ? sizeof(alpn_h2) : sizeof(alpn_dot)) != 0) {
		SSL_free(ssl);
		*status = fmt_err(err, CLIENT_ETLS, "cannot set ALPN");
		return NULL;
	}
	if (p->sess != NULL) {
		SSL_set_session(ssl, p->sess);
	}
	return ssl;
noname:
	SSL_free(ssl);
	ERR_clear_error();
	*status = fmt_err(err, CLIENT_EINVAL, "cannot check the certificate for '%s'", name);
	return NULL;
}

static bool h2_start(struct out_conn *c);

/* p's connection, opened if there is none; NULL with p->err set when it cannot be. */
static struct out_conn *
conn_get(struct net_out_peer *p)
{
	if (p->conn != NULL && p->conn->nxfers < CONN_MAX_XFERS) {
		return p->conn;
	}
	if (p->conn != NULL) {
		p->err_status = fmt_err(p->err, CLIENT_ENET, "too many queries outstanding on the "
					"connection to %s#%u", p->srv.addr, (unsigned)p->srv.port);
		return NULL;
	}
	struct out_conn *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		p->err_status = fmt_err(p->err, CLIENT_ENET, "out of memory");
		return NULL;
	}
	c->p = p;
	TAILQ_INIT(&c->xfers);
	c->tls = p->srv.proto == CLIENT_TLS || is_h2(p->srv.proto);
	evutil_socket_t fd = -1;
	if (p->o.source_len != 0 && p->o.source.ss_family == p->srv.ss.ss_family) {
		fd = socket(p->srv.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0 || !bind_source(p, fd, 0)) {
			comm_error(p, p->err, strerror(errno));
			p->err_status = CLIENT_ENET;
			if (fd >= 0) {
				close(fd);
			}
			free(c);
			return NULL;
		}
	}
	if (c->tls) {
		SSL *ssl = tls_new(p, p->err, &p->err_status);
		if (ssl == NULL) {
			if (fd >= 0) {
				close(fd);
			}
			free(c);
			return NULL;
		}
		SSL_set_app_data(ssl, c);
		c->bev = bufferevent_openssl_socket_new(p->base, fd, ssl,
							 BUFFEREVENT_SSL_CONNECTING,
							 BEV_OPT_CLOSE_ON_FREE);
		if (c->bev == NULL) {
			SSL_free(ssl);
			if (fd >= 0) {
				close(fd);
			}
			free(c);
			p->err_status = fmt_err(p->err, CLIENT_ENET, "out of memory");
			return NULL;
		}
		bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	} else {
		c->bev = bufferevent_socket_new(p->base, fd, BEV_OPT_CLOSE_ON_FREE);
		if (c->bev == NULL) {
			if (fd >= 0) {
				close(fd);
			}
			free(c);
			p->err_status = fmt_err(p->err, CLIENT_ENET, "out of memory");
			return NULL;
		}
	}
	c->idle = event_new(p->base, -1, 0, conn_idle_cb, c);
	bufferevent_setcb(c->bev, conn_read_cb, NULL, conn_event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	p->conn = c;
	errno = 0;
	if (c->idle == NULL || (is_h2(p->srv.proto) && !h2_start(c)) ||
	    bufferevent_socket_connect(c->bev, (const struct sockaddr *)&p->srv.ss,
				       p->srv.sslen) < 0) {
		/* No exchanges yet: nothing to fail. */
		comm_error(p, p->err, errno != 0 ? strerror(errno) : "cannot connect");
		p->err_status = CLIENT_ENET;
		conn_free(c, CLIENT_ENET, p->err);
		return NULL;
	}
	fd = bufferevent_getfd(c->bev);
	if (fd >= 0) {
		/* Queries are small and pipelined; Nagle would hold them back. */
		int on = 1;
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	}
	return c;
}

/* An ID not used by another exchange on c. */
static uint16_t
conn_new_id(const struct out_conn *c)
{
	for (;;) {
		uint16_t id = (uint16_t)randombytes_uniform(65536);
		const struct net_out_query *x;
		bool used = false;
		TAILQ_FOREACH(x, &c->xfers, link) {
			used = used || x->id == id;
		}
		if (!used) {
			return id;
		}
	}
}

/* ---- DNS over HTTPS (RFC 8484) and DoH-JSON, HTTP/2 with nghttp2 ------------------------- */

/* Links x to c, at the head when it was waiting longer than the others (a retry). */
static void
xfer_attach(struct net_out_query *x, struct out_conn *c, bool head)
{
	x->conn = c;
	if (head) {
		TAILQ_INSERT_HEAD(&c->xfers, x, link);
	} else {
		TAILQ_INSERT_TAIL(&c->xfers, x, link);
	}
	c->nxfers++;
	event_del(c->idle);
	if (c->h2s != NULL) {
		h2_kick(c);
	}
}

static void
h2_kick(struct out_conn *c)
{
	if (c->kick != NULL && !c->closing) {
		event_active(c->kick, 0, 0);
	}
}

static int
h2_on_header(nghttp2_session *s, const nghttp2_frame *frame, const uint8_t *name,
	     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags, void *user)
{
	(void)flags;
	(void)user;
	if (frame->hd.type != NGHTTP2_HEADERS) {
		return 0;
	}
	struct net_out_query *x = nghttp2_session_get_stream_user_data(s, frame->hd.stream_id);
	if (x != NULL) {
		client_h2_header(name, namelen, value, valuelen, &x->h2->status, x->h2->ctype,
				 sizeof(x->h2->ctype));
	}
	return 0;
}

static int
h2_on_data(nghttp2_session *s, uint8_t flags, int32_t sid, const uint8_t *data, size_t len,
	   void *user)
{
	(void)flags;
	(void)user;
	struct net_out_query *x = nghttp2_session_get_stream_user_data(s, sid);
	if (x == NULL) {
		return 0;
	}
	struct out_h2 *h = x->h2;
	size_t cap = x->p->srv.proto == CLIENT_HTTPS_JSON ? H2_JSON_MAX : CLIENT_MSG_MAX;
	if (h->overflow || evbuffer_get_length(h->body) + len > cap ||
	    evbuffer_add(h->body, data, len) != 0) {
		h->overflow = true;
	}
	return 0;
}

static int
h2_on_close(nghttp2_session *s, int32_t sid, uint32_t error_code, void *user)
{
	struct out_conn *c = user;
	if (c->nstreams > 0) {
		c->nstreams--;
	}
	struct net_out_query *x = nghttp2_session_get_stream_user_data(s, sid);
	if (x != NULL) {
		x->h2->closed = true;
		x->h2->err = error_code;
	}
	return 0;
}

static int
h2_on_frame(nghttp2_session *s, const nghttp2_frame *frame, void *user)
{
	(void)s;
	struct out_conn *c = user;
	if (frame->hd.type == NGHTTP2_SETTINGS && (frame->hd.flags & NGHTTP2_FLAG_ACK) == 0) {
		c->settings = true;
	} else if (frame->hd.type == NGHTTP2_GOAWAY) {
		/* RFC 7540 §6.8: streams above last-stream-id are refused (retried elsewhere). */
		c->goaway = true;
	}
	return 0;
}

/* The POST body: the query (RFC 8484 §4.1). */
static ssize_t
h2_read_body(nghttp2_session *s, int32_t sid, uint8_t *buf, size_t length, uint32_t *data_flags,
	     nghttp2_data_source *source, void *user)
{
	(void)source;
	(void)user;
	/* Looked up rather than kept in source: a cancelled exchange has no user data. */
	struct net_out_query *x = nghttp2_session_get_stream_user_data(s, sid);
	if (x == NULL) {
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	struct out_h2 *h = x->h2;
	return net_h2_body_read(buf, length, data_flags, x->q, x->qlen, &h->body_sent);
}

/*
 * Opens x's stream: POST of the wire query (DoH), GET with ?dns= when the server's URL ends in
 * the template {?dns} (RFC 8484 §4.1), or GET with name and type (DoH-JSON).  0, or a status
 * with a message in err.
 */
static int
h2_submit(struct out_conn *c, struct net_out_query *x, char *err)
{
	const struct client_server *srv = &c->p->srv;
	bool json = srv->proto == CLIENT_HTTPS_JSON;
	bool get = json || srv->get;
	char path[H2_PATH_MAX];
	if (get) {
		if (client_doh_path(srv, x->q, x->qlen, path, sizeof(path)) == 0) {
			return fmt_err(err, CLIENT_EINVAL, json ? "the query does not parse"
							  : "the query is too large for GET");
		}
	} else {
		snprintf(path, sizeof(path), "%s", srv->path);
	}
	char authority[CLIENT_NAME_MAX + 16];
	bool v6 = strchr(srv->name, ':') != NULL;
	if (srv->port == 443) {
		snprintf(authority, sizeof(authority), v6 ? "[%s]" : "%s", srv->name);
	} else {
		snprintf(authority, sizeof(authority), v6 ? "[%s]:%u" : "%s:%u", srv->name,
			 (unsigned)srv->port);
	}
	char clen[16];
	snprintf(clen, sizeof(clen), "%zu", x->qlen);
	const char *type = json ? "application/dns-json" : "application/dns-message";
	nghttp2_nv nva[] = {
		NET_H2_NV(":method", get ? "GET" : "POST"),
		NET_H2_NV(":scheme", "https"),
		NET_H2_NV(":authority", authority),
		NET_H2_NV(":path", path),
		NET_H2_NV("accept", type),
		NET_H2_NV("user-agent", "tdns/" PACKAGE_VERSION),
		NET_H2_NV("content-type", type),
		NET_H2_NV("content-length", clen),
	};
	size_t nnv = sizeof(nva) / sizeof(nva[0]) - (get ? 2 : 0);
	nghttp2_data_provider prd = { .source.ptr = NULL, .read_callback = h2_read_body };
	int32_t sid = nghttp2_submit_request(c->h2s, NULL, nva, nnv, get ? NULL : &prd, x);
	if (sid < 0) {
		return fmt_err(err, CLIENT_EPROTO, "HTTP/2: %s", nghttp2_strerror(sid));
	}
	x->h2->sid = sid;
	c->nstreams++;
	return CLIENT_OK;
}

/* Hands everything nghttp2 has to send to the bufferevent. */
static int
h2_flush(struct out_conn *c, char *err)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	for (;;) {
		const uint8_t *data;
		ssize_t n = nghttp2_session_mem_send(c->h2s, &data);
		if (n < 0) {
			return fmt_err(err, CLIENT_EPROTO, "HTTP/2: %s", nghttp2_strerror((int)n));
		}
		if (n == 0) {
			return CLIENT_OK;
		}
		if (evbuffer_add(out, data, (size_t)n) != 0) {
			return fmt_err(err, CLIENT_ENET, "out of memory");
		}
	}
}

/* Opens streams for waiting exchanges while the server's SETTINGS allow (RFC 7540 §5.1.2). */
static void
h2_pump(struct out_conn *c)
{
	/*
	 * Until the server's SETTINGS say how many streams it takes (RFC 7540 §6.5.2; it is the
	 * first frame it sends, §3.5) no stream is opened: a burst above its limit would be
	 * refused, or taken by a strict server as a connection error.
	 */
	if (c->goaway || !c->settings) {
		return;
	}
	uint32_t max = nghttp2_session_get_remote_settings(c->h2s,
							    NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
	struct net_out_query *x;
	TAILQ_FOREACH(x, &c->xfers, link) {
		if (c->nstreams >= max) {
			break;
		}
		struct out_h2 *h = x->h2;
		if (h->sid == 0 && !h->closed) {
			/* Ended by h2_run: ending it here could free others of the list. */
			char err[ERR_MAX];
			h->submit_rc = h2_submit(c, x, err);
			if (h->submit_rc != CLIENT_OK) {
				snprintf(h->submit_err, sizeof(h->submit_err), "%s", err);
				h->closed = true;
			}
		}
	}
}

/* Checks the HTTP answer of x's ended stream and ends x with it (RFC 8484 §4.2.1). */
static void
h2_complete(struct out_conn *c, struct net_out_query *x)
{
	struct out_h2 *h = x->h2;
	struct net_out_peer *p = c->p;
	const char *addr = p->srv.addr;
	unsigned port = p->srv.port;
	bool json = p->srv.proto == CLIENT_HTTPS_JSON;
	char err[ERR_MAX];
	if (h->err == NGHTTP2_REFUSED_STREAM && h->retries < H2_MAX_RETRIES) {
		/* RFC 7540 §8.1.4: a refused request was not processed; it may go again. */
		xfer_detach(x);
		evbuffer_drain(h->body, evbuffer_get_length(h->body));
		h->sid = 0;
		h->closed = false;
		h->err = 0;
		h->status = 0;
		h->ctype[0] = '\0';
		h->overflow = false;
		h->body_sent = 0;
		h->retries++;
		struct out_conn *n = conn_get(p);
		if (n == NULL) {
			xfer_end(x, p->err_status, NULL, 0, p->err);
		} else {
			xfer_attach(x, n, true);
		}
		return;
	}
	/* RFC 8484 §6: the answer is application/dns-message; JSON APIs use dns-json or json. */
	size_t tl = strcspn(h->ctype, "; ");
	const char *want = json ? "application/dns-json" : "application/dns-message";
	bool type_ok = (tl == strlen(want) && strncasecmp(h->ctype, want, tl) == 0) ||
		       (json && tl == 16 && strncasecmp(h->ctype, "application/json", tl) == 0);
	size_t blen = evbuffer_get_length(h->body);
	int status = CLIENT_EPROTO;
	if (h->submit_rc != CLIENT_OK) {
		status = h->submit_rc;
		fmt_err(err, status, "%s", h->submit_err);
	} else if (h->err != NGHTTP2_NO_ERROR) {
		fmt_err(err, status, "%s#%u reset the HTTP/2 stream: %s", addr, port,
			nghttp2_http2_strerror(h->err));
	} else if (h->status != 200) {
		fmt_err(err, status, "%s#%u answered with HTTP status %d", addr, port, h->status);
	} else if (!type_ok) {
		fmt_err(err, status, "%s#%u answered with content-type '%s', not %s", addr, port,
			h->ctype, want);
	} else if (h->overflow) {
		fmt_err(err, status, "the answer from %s#%u is too large", addr, port);
	} else {
		const uint8_t *body = blen > 0 ? evbuffer_pullup(h->body, -1) : (const uint8_t *)"";
		uint8_t *wire = NULL;
		size_t len = blen;
		const uint8_t *pkt = body;
		if (json) {
			char why[256];
			wire = malloc(CLIENT_MSG_MAX);
			len = wire == NULL ? 0 : doh_json_to_wire((const char *)body, blen, x->id,
								   wire, CLIENT_MSG_MAX, why,
								   sizeof(why));
			if (len == 0) {
				fmt_err(err, status, "bad JSON answer from %s#%u: %s", addr, port,
					wire == NULL ? "out of memory" : why);
				free(wire);
				xfer_end(x, status, NULL, 0, err);
				return;
			}
			pkt = wire;
		}
		/* On its own stream a mismatched answer cannot be someone else's: it fails. */
		int k = answer_check(x, pkt, len);
		if (k == 0) {
			xfer_end(x, CLIENT_OK, pkt, len, NULL);
			free(wire);
			return;
		}
		free(wire);
		fmt_err(err, status, "%s response from %s#%u over HTTPS",
			k == 3 ? "malformed" : "mismatched", addr, port);
	}
	xfer_end(x, status, NULL, 0, err);
}

/* Moves c out of service after GOAWAY; its waiting exchanges go to a new connection. */
static void
h2_retire(struct out_conn *c)
{
	struct net_out_peer *p = c->p;
	if (c->draining) {
		return;
	}
	if (p->conn == c) {
		p->conn = NULL;
	}
	LIST_INSERT_HEAD(&p->draining, c, dlink);
	c->draining = true;
	for (;;) {
		struct net_out_query *x;
		TAILQ_FOREACH(x, &c->xfers, link) {
			if (x->h2->sid == 0 && !x->h2->closed) {
				break;
			}
		}
		if (x == NULL) {
			break;
		}
		xfer_detach(x);
		struct out_conn *n = conn_get(p);
		if (n == NULL) {
			xfer_end(x, p->err_status, NULL, 0, p->err);
		} else {
			xfer_attach(x, n, false);
		}
	}
}

/* Submits, sends, and ends the exchanges whose streams closed.  c may be freed on return. */
static void
h2_run(struct out_conn *c)
{
	struct net_out_peer *p = c->p;
	/* Held so that an answer that ends the last query cannot free c's peer under us. */
	peer_ref(p);
	if (c->goaway) {
		h2_retire(c);
	}
	h2_pump(c);
	for (;;) {
		struct net_out_query *x;
		TAILQ_FOREACH(x, &c->xfers, link) {
			if (x->h2->closed) {
				break;
			}
		}
		if (x == NULL) {
			break;
		}
		/* One at a time: ending one may cancel others on c. */
		h2_complete(c, x);
	}
	h2_pump(c);
	char err[ERR_MAX];
	int rc = h2_flush(c, err);
	if (rc != CLIENT_OK) {
		conn_free(c, rc, err);
	} else if (!nghttp2_session_want_read(c->h2s) && !nghttp2_session_want_write(c->h2s)) {
		/* The session is over (GOAWAY handled, or a fatal error sent). */
		comm_error(p, err, "HTTP/2 connection ended by the server");
		conn_free(c, CLIENT_ENET, err);
	}
	peer_unref(p);
}

static void
h2_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	h2_run(arg);
}

static void
h2_read(struct out_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	while (evbuffer_get_length(in) > 0) {
		struct evbuffer_iovec v;
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1) {
			break;
		}
		ssize_t used = nghttp2_session_mem_recv(c->h2s, v.iov_base, v.iov_len);
		if (used < 0) {
			char err[ERR_MAX];
			fmt_err(err, CLIENT_EPROTO, "HTTP/2 error from %s#%u: %s", c->p->srv.addr,
				(unsigned)c->p->srv.port, nghttp2_strerror((int)used));
			conn_free(c, CLIENT_EPROTO, err);
			return;
		}
		evbuffer_drain(in, (size_t)used);
	}
	h2_run(c);
}

/* The HTTP/2 client session of a new DoH connection; its preface waits in the output. */
static bool
h2_start(struct out_conn *c)
{
	c->kick = event_new(c->p->base, -1, 0, h2_kick_cb, c);
	if (c->kick == NULL) {
		return false;
	}
	nghttp2_session_callbacks *cbs;
	if (nghttp2_session_callbacks_new(&cbs) != 0) {
		return false;
	}
	nghttp2_session_callbacks_set_on_header_callback(cbs, h2_on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, h2_on_data);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, h2_on_close);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, h2_on_frame);
	int rv = nghttp2_session_client_new(&c->h2s, cbs, c);
	nghttp2_session_callbacks_del(cbs);
	if (rv != 0) {
		c->h2s = NULL;
		return false;
	}
	/* RFC 8484 §5.3 allows server push; we have no use for it. */
	nghttp2_settings_entry iv[] = {
		{ NGHTTP2_SETTINGS_ENABLE_PUSH, 0 },
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, H2_LOCAL_STREAMS },
	};
	if (nghttp2_submit_settings(c->h2s, NGHTTP2_FLAG_NONE, iv, sizeof(iv) / sizeof(iv[0])) !=
	    0) {
		return false;
	}
	h2_kick(c);
	return true;
}

/* ---- sending ------------------------------------------------------------------------------ */

struct net_out_query *
net_out_send(struct net_out_peer *p, const uint8_t *q, size_t qlen, unsigned flags,
	     unsigned timeout_ms, net_out_cb cb, void *arg)
{
	enum client_proto proto = p->srv.proto;
	p->err[0] = '\0';
	p->err_status = CLIENT_OK;
	if (qlen < DNS_HDR_LEN || qlen > CLIENT_MSG_MAX) {
		p->err_status = fmt_err(p->err, CLIENT_EINVAL,
					"a query of %zu octets cannot be sent", qlen);
		return NULL;
	}
	if (p->srv.sslen == 0) {
		p->err_status = fmt_err(p->err, CLIENT_EINVAL, "server %s is not resolved",
					p->srv.name);
		return NULL;
	}
	bool multi = (flags & NET_OUT_MULTI) != 0;
	bool stream = proto != CLIENT_UDP || (flags & NET_OUT_STREAM) != 0 || multi;
	if (multi && is_h2(proto)) {
		p->err_status = fmt_err(p->err, CLIENT_EINVAL,
					"DNS over HTTPS has no multi-message answers");
		return NULL;
	}
	struct net_out_query *x = calloc(1, sizeof(*x) + qlen);
	if (x == NULL) {
		p->err_status = fmt_err(p->err, CLIENT_ENET, "out of memory");
		return NULL;
	}
	x->p = p;
	peer_ref(p);
	x->cb = cb;
	x->arg = arg;
	x->fd = -1;
	x->stream = stream;
	x->multi = multi;
	x->timeout_ms = timeout_ms;
	x->qlen = qlen;
	memcpy(x->q, q, qlen);
	x->timer = event_new(p->base, -1, 0, xfer_timeout_cb, x);
	if (x->timer == NULL) {
		p->err_status = fmt_err(p->err, CLIENT_ENET, "out of memory");
		goto fail;
	}
	x->t0_us = tdns_mono_us();
	if (!stream) {
		x->id = (uint16_t)randombytes_uniform(65536);
		tdns_put16(x->q, x->id);
		x->tries = p->o.udp_tries - 1;
		if (udp_open >= NET_OUT_UDP_MAX) {
			p->err_status = fmt_err(p->err, CLIENT_ENET,
						"%u UDP queries already open", udp_open);
			goto fail;
		}
		x->fd = udp_socket(p);
		if (x->fd < 0) {
			comm_error(p, p->err, strerror(errno));
			p->err_status = CLIENT_ENET;
			goto fail;
		}
		udp_open++;
		x->ev = event_new(p->base, x->fd, EV_READ | EV_PERSIST, udp_read_cb, x);
		if (x->ev == NULL || event_add(x->ev, NULL) != 0) {
			p->err_status = fmt_err(p->err, CLIENT_ENET, "out of memory");
			goto fail;
		}
		if (send(x->fd, x->q, qlen, 0) < 0) {
			comm_error(p, p->err, strerror(errno));
			p->err_status = CLIENT_ENET;
			goto fail;
		}
	} else if (is_h2(proto)) {
		struct out_conn *c = conn_get(p);
		if (c == NULL) {
			goto fail;
		}
		x->h2 = calloc(1, sizeof(*x->h2));
		if (x->h2 == NULL || (x->h2->body = evbuffer_new()) == NULL) {
			p->err_status = fmt_err(p->err, CLIENT_ENET, "out of memory");
			goto fail;
		}
		x->reused = c->connected;
		/* RFC 8484 §4.1: ID 0 keeps the query cacheable; the stream tells answers apart. */
		x->id = 0;
		tdns_put16(x->q, 0);
		/* Queued until the connection may open another stream (h2_pump). */
		xfer_attach(x, c, false);
	} else {
		struct out_conn *c = conn_get(p);
		if (c == NULL) {
			goto fail;
		}
		x->reused = c->connected;
		x->id = conn_new_id(c);
		tdns_put16(x->q, x->id);
		uint8_t len[2];
		tdns_put16(len, (uint16_t)qlen);
		struct evbuffer *out = bufferevent_get_output(c->bev);
		if (evbuffer_add(out, len, 2) != 0 || evbuffer_add(out, x->q, qlen) != 0) {
			p->err_status = fmt_err(p->err, CLIENT_ENET, "out of memory");
			goto fail;
		}
		xfer_attach(x, c, false);
	}
	timer_arm(x);
	return x;
fail:
	xfer_free(x);
	return NULL;
}
