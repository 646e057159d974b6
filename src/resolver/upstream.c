/* SPDX-License-Identifier: MIT */
/* Asynchronous upstream transports of the forwarder: UDP, pipelined TCP, DoT, DoH and DoH-JSON. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <nghttp2/nghttp2.h>
#include <sodium.h>

#include "core/core.h"
#include "dns/dns.h"
#include "resolver/fwd_int.h"

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

/*
 * One TCP or TLS connection to a server, carrying pipelined queries (RFC 7766 §6.2.1.1), or
 * for DoH an HTTP/2 session over TLS with one stream per query (RFC 8484 §5.2).
 */
struct up_conn {
	struct up *up;
	struct bufferevent *bev;
	bool tls;
	bool connected;
	struct up_xfer_list xfers;  /* for HTTP/2 also those waiting for a stream (sid 0) */
	unsigned nxfers;
	struct event *idle;
	/* HTTP/2 only. */
	nghttp2_session *h2s;
	struct event *kick;         /* deferred submit, send and answer handling */
	unsigned nstreams;          /* streams submitted and not yet closed */
	bool settings;              /* the server's SETTINGS arrived: its stream limit is known */
	bool goaway;                /* the server sent GOAWAY: no new streams here */
	bool draining;              /* in up->draining rather than up->conn */
	bool closing;               /* conn_free is running */
	LIST_ENTRY(up_conn) dlink;
};

/* One DoH exchange's HTTP/2 stream. */
struct up_h2 {
	int32_t sid;                /* stream id, 0 while waiting for one */
	bool closed;                /* the stream ended (answer complete, reset or refused) */
	unsigned retries;           /* times refused and sent again */
	uint32_t err;               /* HTTP/2 error code of the stream's end */
	int status;                 /* HTTP :status, 0 before the response headers */
	char ctype[64];             /* content-type of the response */
	struct evbuffer *body;
	bool overflow;
	size_t body_sent;           /* POST body octets given to nghttp2 */
};

static bool
is_h2(enum client_proto p)
{
	return p == CLIENT_HTTPS || p == CLIENT_HTTPS_JSON;
}

static int64_t
now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

struct up *
up_new(struct resolver_fwd *f, struct resolver_conf *conf, struct resolver_upstream *info)
{
	struct up *u = calloc(1, sizeof(*u));
	if (u == NULL) {
		return NULL;
	}
	u->f = f;
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

static void conn_free(struct up_conn *c, int status);

void
up_close(struct up *u)
{
	if (u->conn != NULL) {
		conn_free(u->conn, UP_ENET);
	}
	while (!LIST_EMPTY(&u->draining)) {
		conn_free(LIST_FIRST(&u->draining), UP_ENET);
	}
	if (u->sess != NULL) {
		SSL_SESSION_free(u->sess);
		u->sess = NULL;
	}
}

void
up_unref(struct up *u)
{
	if (--u->refs > 0) {
		return;
	}
	up_close(u);
	resolver_conf_unref(u->conf);
	free(u);
}

/* ---- results and RTT ---------------------------------------------------------------------- */

static void h2_kick(struct up_conn *c);

/* Unlinks x from its connection, arming the idle timer when it was the last exchange. */
static void
xfer_detach(struct up_xfer *x)
{
	struct up_conn *c = x->conn;
	if (c == NULL) {
		return;
	}
	struct up_h2 *h = x->h2;
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

static void
xfer_free(struct up_xfer *x)
{
	if (x->ev != NULL) {
		event_free(x->ev);
	}
	if (x->timer != NULL) {
		event_free(x->timer);
	}
	if (x->fd >= 0) {
		close(x->fd);
	}
	xfer_detach(x);
	if (x->h2 != NULL) {
		if (x->h2->body != NULL) {
			evbuffer_free(x->h2->body);
		}
		free(x->h2);
	}
	struct up *u = x->up;
	free(x);
	up_unref(u);
}

/* Records the outcome for RTT and health, tells the request, frees x. */
static void
xfer_end(struct up_xfer *x, int status, const uint8_t *pkt, size_t len)
{
	struct up *u = x->up;
	struct resolver_upstream *info = u->info;
	if (status == UP_OK) {
		double rtt = (double)(now_us() - x->t0_us) / 1000.0;
		/* Smoothing as in RFC 6298 §2 (alpha 1/8). */
		/* The first sample (or one after failures) replaces the guess outright. */
		u->srtt_ms = u->fails > 0 || !u->measured ? rtt : u->srtt_ms + (rtt - u->srtt_ms) / 8.0;
		u->measured = true;
		u->fails = 0;
		__atomic_store_n(&info->srtt_ms, (uint32_t)(u->srtt_ms + 0.5), __ATOMIC_RELAXED);
		__atomic_store_n(&info->fails, 0, __ATOMIC_RELAXED);
	} else {
		u->fails++;
		/* Back off: a failing server sorts behind the working ones (RFC 6298 §5.5 style). */
		u->srtt_ms = u->srtt_ms * 2 > 10000 ? 10000 : u->srtt_ms * 2;
		__atomic_fetch_add(status == UP_ETIMEOUT ? &info->timeouts : &info->errors, 1,
				   __ATOMIC_RELAXED);
		__atomic_store_n(&info->fails, u->fails, __ATOMIC_RELAXED);
	}
	up_ref(u);
	fwd_xfer_done(x->req, x, status, pkt, len);
	xfer_free(x);
	up_unref(u);
}

void
up_xfer_cancel(struct up_xfer *x)
{
	xfer_free(x);
}

static void
xfer_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	xfer_end(arg, UP_ETIMEOUT, NULL, 0);
}

/* Checks an answer against x's query (RFC 5452 §9.1); false to ignore it. */
static bool
answer_matches(const struct up_xfer *x, const uint8_t *pkt, size_t len)
{
	int rc = client_check_response(x->q, x->qlen, pkt, len);
	if (rc != 0) {
		tdns_debug("forwarder %s: ignored an answer that does not match the query (%d)",
			   x->up->info->spec, rc);
	}
	return rc == 0;
}

/* ---- UDP ---------------------------------------------------------------------------------- */

/*
 * A socket bound to a random port (RFC 5452 §9.2: port and ID both random), connected to
 * the server so that the kernel drops datagrams from other sources.
 */
static int
udp_socket(const struct client_server *srv)
{
	int fd = socket(srv->ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -1;
	}
	struct sockaddr_storage local;
	memset(&local, 0, sizeof(local));
	local.ss_family = srv->ss.ss_family;
	socklen_t llen = srv->ss.ss_family == AF_INET ? sizeof(struct sockaddr_in)
						       : sizeof(struct sockaddr_in6);
	for (int i = 0; i < 10; i++) {
		uint16_t port = (uint16_t)(1024 + randombytes_uniform(65536 - 1024));
		if (local.ss_family == AF_INET) {
			((struct sockaddr_in *)&local)->sin_port = htons(port);
		} else {
			((struct sockaddr_in6 *)&local)->sin6_port = htons(port);
		}
		if (bind(fd, (struct sockaddr *)&local, llen) == 0) {
			break;
		}
	}
	/* If ten random ports were taken the kernel's choice (also random on Linux) is used. */
	if (connect(fd, (const struct sockaddr *)&srv->ss, srv->sslen) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
udp_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct up_xfer *x = arg;
	uint8_t buf[CLIENT_MSG_MAX];
	(void)what;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
				return;
			}
			/* ICMP port unreachable and the like (RFC 1122 §4.1.3.3). */
			xfer_end(x, UP_ENET, NULL, 0);
			return;
		}
		if (answer_matches(x, buf, (size_t)n)) {
			xfer_end(x, UP_OK, buf, (size_t)n);
			return;
		}
	}
}

/* ---- streams (TCP, TLS) ------------------------------------------------------------------ */

static void
conn_free(struct up_conn *c, int status)
{
	struct up *u = c->up;
	if (u->conn == c) {
		u->conn = NULL;
	}
	if (c->draining) {
		LIST_REMOVE(c, dlink);
		c->draining = false;
	}
	c->closing = true;
	/* Fail what is outstanding; each xfer_end unlinks its exchange. */
	struct up_xfer *x;
	while ((x = TAILQ_FIRST(&c->xfers)) != NULL) {
		xfer_end(x, status, NULL, 0);
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
		bufferevent_free(c->bev);
	}
	free(c);
}

static void
conn_idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct up_conn *c = arg;
	(void)fd;
	(void)what;
	if (c->nxfers == 0) {
		conn_free(c, UP_ENET);
	}
}

static void
save_session(struct up_conn *c)
{
	if (!c->tls) {
		return;
	}
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
	SSL_SESSION *s = ssl != NULL ? SSL_get1_session(ssl) : NULL;
	if (s == NULL) {
		return;
	}
	if (!SSL_SESSION_is_resumable(s)) {
		SSL_SESSION_free(s);
		return;
	}
	if (c->up->sess != NULL) {
		SSL_SESSION_free(c->up->sess);
	}
	c->up->sess = s;
}

static void h2_read(struct up_conn *c);

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct up_conn *c = arg;
	if (c->h2s != NULL) {
		h2_read(c);
		return;
	}
	struct evbuffer *in = bufferevent_get_input(bev);
	uint8_t buf[2 + CLIENT_MSG_MAX];
	struct up *u = c->up;
	save_session(c);
	/* Held so that an answer that ends the server's last use cannot free c under us. */
	up_ref(u);
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
			conn_free(c, UP_ENET);
			break;
		}
		if (mlen < DNS_HDR_LEN) {
			continue;
		}
		uint16_t id = tdns_get16(buf + 2);
		struct up_xfer *x;
		TAILQ_FOREACH(x, &c->xfers, link) {
			if (x->id == id) {
				break;
			}
		}
		/* RFC 7766 §7: answers come in any order; unknown IDs (timed out) are dropped. */
		if (x != NULL && answer_matches(x, buf + 2, mlen)) {
			xfer_end(x, UP_OK, buf + 2, mlen);
		}
	}
	up_unref(u);
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct up_conn *c = arg;
	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		c->connected = true;
		save_session(c);
		if (c->h2s != NULL) {
			/* RFC 8484 §5.2: DoH is HTTP/2 and nothing older; the server must pick h2. */
			const unsigned char *sel = NULL;
			unsigned sellen = 0;
			SSL_get0_alpn_selected(bufferevent_openssl_get_ssl(c->bev), &sel, &sellen);
			if (sellen != 2 || memcmp(sel, "h2", 2) != 0) {
				tdns_info("forwarder %s: the server did not agree to HTTP/2 (ALPN h2)",
					  c->up->info->spec);
				conn_free(c, UP_EPROTO);
			}
		}
		return;
	}
	int status = UP_ENET;
	if (c->tls) {
		unsigned long e = bufferevent_get_openssl_error(c->bev);
		if (e != 0) {
			char msg[256];
			ERR_error_string_n(e, msg, sizeof(msg));
			tdns_info("forwarder %s: TLS: %s", c->up->info->spec, msg);
			status = UP_ETLS;
		}
	}
	conn_free(c, status);
}

static SSL *
tls_new(struct up *u)
{
	SSL_CTX *ctx = u->conf->tls_ctx;
	if (ctx == NULL) {
		return NULL;
	}
	SSL *ssl = SSL_new(ctx);
	if (ssl == NULL) {
		return NULL;
	}
	const char *name = u->info->srv.name;
	/* RFC 7858 §4.2 (strict privacy): the certificate must be valid for the name we know. */
	X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
	struct in6_addr tmp;
	bool ip = inet_pton(AF_INET, name, &tmp) == 1 || inet_pton(AF_INET6, name, &tmp) == 1;
	if (ip) {
		X509_VERIFY_PARAM_set1_ip_asc(vp, name);
	} else {
		SSL_set_tlsext_host_name(ssl, name);
		X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		SSL_set1_host(ssl, name);
	}
	SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
	/* RFC 7858 §3.2 suggests "dot" as the ALPN token (RFC 9461 registers it); DoH is h2. */
	static const unsigned char alpn_dot[] = { 3, 'd', 'o', 't' };
	static const unsigned char alpn_h2[] = { 2, 'h', '2' };
	if (is_h2(u->info->srv.proto)) {
		SSL_set_alpn_protos(ssl, alpn_h2, sizeof(alpn_h2));
	} else {
		SSL_set_alpn_protos(ssl, alpn_dot, sizeof(alpn_dot));
	}
	if (u->sess != NULL) {
		SSL_set_session(ssl, u->sess);
	}
	return ssl;
}

static bool h2_start(struct up_conn *c);

static struct up_conn *
conn_get(struct up *u)
{
	if (u->conn != NULL && u->conn->nxfers < CONN_MAX_XFERS) {
		return u->conn;
	}
	if (u->conn != NULL) {
		return NULL;
	}
	struct up_conn *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		return NULL;
	}
	c->up = u;
	TAILQ_INIT(&c->xfers);
	struct event_base *base = fwd_base(u->f);
	c->tls = u->info->srv.proto == CLIENT_TLS || is_h2(u->info->srv.proto);
	if (c->tls) {
		SSL *ssl = tls_new(u);
		if (ssl == NULL) {
			free(c);
			return NULL;
		}
		c->bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
							 BEV_OPT_CLOSE_ON_FREE);
		if (c->bev == NULL) {
			SSL_free(ssl);
			free(c);
			return NULL;
		}
		bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	} else {
		c->bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
		if (c->bev == NULL) {
			free(c);
			return NULL;
		}
	}
	c->idle = event_new(base, -1, 0, conn_idle_cb, c);
	bufferevent_setcb(c->bev, conn_read_cb, NULL, conn_event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	u->conn = c;
	if (c->idle == NULL || (is_h2(u->info->srv.proto) && !h2_start(c)) ||
	    bufferevent_socket_connect(c->bev,
				(const struct sockaddr *)&u->info->srv.ss, u->info->srv.sslen) < 0) {
		/* No exchanges yet: nothing to fail. */
		conn_free(c, UP_ENET);
		return NULL;
	}
	int fd = bufferevent_getfd(c->bev);
	if (fd >= 0) {
		int on = 1;
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	}
	return c;
}

/* An ID not used by another exchange on c. */
static uint16_t
conn_new_id(const struct up_conn *c)
{
	for (;;) {
		uint16_t id = (uint16_t)randombytes_uniform(65536);
		const struct up_xfer *x;
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
xfer_attach(struct up_xfer *x, struct up_conn *c, bool head)
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
h2_kick(struct up_conn *c)
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
	struct up_xfer *x = nghttp2_session_get_stream_user_data(s, frame->hd.stream_id);
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
	struct up_xfer *x = nghttp2_session_get_stream_user_data(s, sid);
	if (x == NULL) {
		return 0;
	}
	struct up_h2 *h = x->h2;
	size_t cap = x->up->info->srv.proto == CLIENT_HTTPS_JSON ? H2_JSON_MAX : CLIENT_MSG_MAX;
	if (h->overflow || evbuffer_get_length(h->body) + len > cap ||
	    evbuffer_add(h->body, data, len) != 0) {
		h->overflow = true;
	}
	return 0;
}

static int
h2_on_close(nghttp2_session *s, int32_t sid, uint32_t error_code, void *user)
{
	struct up_conn *c = user;
	if (c->nstreams > 0) {
		c->nstreams--;
	}
	struct up_xfer *x = nghttp2_session_get_stream_user_data(s, sid);
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
	struct up_conn *c = user;
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
	struct up_xfer *x = nghttp2_session_get_stream_user_data(s, sid);
	if (x == NULL) {
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	struct up_h2 *h = x->h2;
	size_t n = x->qlen - h->body_sent;
	if (n > length) {
		n = length;
	}
	memcpy(buf, x->q + h->body_sent, n);
	h->body_sent += n;
	if (h->body_sent == x->qlen) {
		*data_flags |= NGHTTP2_DATA_FLAG_EOF;
	}
	return (ssize_t)n;
}

#define NV(n, v)                                                                              \
	{ (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE }

/*
 * Opens x's stream: POST of the wire query (DoH), GET with ?dns= when the server's URL ends in
 * the template {?dns} (RFC 8484 §4.1), or GET with name and type (DoH-JSON).
 */
static bool
h2_submit(struct up_conn *c, struct up_xfer *x)
{
	const struct client_server *srv = &c->up->info->srv;
	bool json = srv->proto == CLIENT_HTTPS_JSON;
	bool get = json || srv->get;
	char path[CLIENT_PATH_MAX + 4096]; /* GET: a query of up to 3 KB in base64url */
	if (get) {
		if (client_doh_path(srv, x->q, x->qlen, path, sizeof(path)) == 0) {
			return false;
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
		NV(":method", get ? "GET" : "POST"),
		NV(":scheme", "https"),
		NV(":authority", authority),
		NV(":path", path),
		NV("accept", type),
		NV("user-agent", "tdns/" PACKAGE_VERSION),
		NV("content-type", type),
		NV("content-length", clen),
	};
	size_t nnv = sizeof(nva) / sizeof(nva[0]) - (get ? 2 : 0);
	nghttp2_data_provider prd = { .source.ptr = NULL, .read_callback = h2_read_body };
	int32_t sid = nghttp2_submit_request(c->h2s, NULL, nva, nnv, get ? NULL : &prd, x);
	if (sid < 0) {
		tdns_debug("forwarder %s: HTTP/2: %s", c->up->info->spec, nghttp2_strerror(sid));
		return false;
	}
	x->h2->sid = sid;
	c->nstreams++;
	return true;
}

/* Hands everything nghttp2 has to send to the bufferevent. */
static bool
h2_flush(struct up_conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	for (;;) {
		const uint8_t *data;
		ssize_t n = nghttp2_session_mem_send(c->h2s, &data);
		if (n < 0) {
			tdns_info("forwarder %s: HTTP/2: %s", c->up->info->spec,
				  nghttp2_strerror((int)n));
			return false;
		}
		if (n == 0) {
			return true;
		}
		if (evbuffer_add(out, data, (size_t)n) != 0) {
			return false;
		}
	}
}

/* Opens streams for waiting exchanges while the server's SETTINGS allow (RFC 7540 §5.1.2). */
static void
h2_pump(struct up_conn *c)
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
	struct up_xfer *x;
	TAILQ_FOREACH(x, &c->xfers, link) {
		if (c->nstreams >= max) {
			break;
		}
		struct up_h2 *h = x->h2;
		if (h->sid == 0 && !h->closed && !h2_submit(c, x)) {
			h->closed = true;
			h->err = NGHTTP2_INTERNAL_ERROR;
		}
	}
}

/* Checks the HTTP answer of x's ended stream and ends x with it (RFC 8484 §4.2.1). */
static void
h2_complete(struct up_conn *c, struct up_xfer *x)
{
	struct up_h2 *h = x->h2;
	struct up *u = c->up;
	bool json = u->info->srv.proto == CLIENT_HTTPS_JSON;
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
		struct up_conn *n = conn_get(u);
		if (n == NULL) {
			xfer_end(x, UP_ENET, NULL, 0);
		} else {
			xfer_attach(x, n, true);
		}
		return;
	}
	const char *spec = u->info->spec;
	size_t tl = strcspn(h->ctype, "; ");
	const char *want = json ? "application/dns-json" : "application/dns-message";
	/* The JSON APIs label their answers application/dns-json or application/json. */
	bool type_ok = (tl == strlen(want) && strncasecmp(h->ctype, want, tl) == 0) ||
		       (json && tl == 16 && strncasecmp(h->ctype, "application/json", tl) == 0);
	size_t blen = evbuffer_get_length(h->body);
	if (h->err != NGHTTP2_NO_ERROR) {
		tdns_debug("forwarder %s: HTTP/2 stream reset: %s", spec,
			   nghttp2_http2_strerror(h->err));
	} else if (h->status != 200) {
		tdns_debug("forwarder %s: HTTP status %d", spec, h->status);
	} else if (!type_ok) {
		tdns_debug("forwarder %s: content-type '%s', not %s", spec, h->ctype, want);
	} else if (h->overflow || blen == 0) {
		tdns_debug("forwarder %s: answer body empty or too large", spec);
	} else {
		const uint8_t *body = evbuffer_pullup(h->body, -1);
		uint8_t *wire = NULL;
		size_t len = blen;
		const uint8_t *pkt = body;
		if (json) {
			char why[256];
			wire = malloc(CLIENT_MSG_MAX);
			len = wire == NULL ? 0 : client_json_to_wire((const char *)body, blen, x->id,
								      wire, CLIENT_MSG_MAX, why,
								      sizeof(why));
			if (len == 0) {
				tdns_debug("forwarder %s: bad JSON answer: %s", spec,
					   wire == NULL ? "out of memory" : why);
			}
			pkt = wire;
		}
		/* On its own stream a mismatched answer cannot be someone else's: it fails. */
		if (len > 0 && answer_matches(x, pkt, len)) {
			xfer_end(x, UP_OK, pkt, len);
			free(wire);
			return;
		}
		free(wire);
	}
	xfer_end(x, UP_EPROTO, NULL, 0);
}

/* Moves c out of service after GOAWAY; its waiting exchanges go to a new connection. */
static void
h2_retire(struct up_conn *c)
{
	struct up *u = c->up;
	if (c->draining) {
		return;
	}
	if (u->conn == c) {
		u->conn = NULL;
	}
	LIST_INSERT_HEAD(&u->draining, c, dlink);
	c->draining = true;
	for (;;) {
		struct up_xfer *x;
		TAILQ_FOREACH(x, &c->xfers, link) {
			if (x->h2->sid == 0 && !x->h2->closed) {
				break;
			}
		}
		if (x == NULL) {
			break;
		}
		xfer_detach(x);
		struct up_conn *n = conn_get(u);
		if (n == NULL) {
			xfer_end(x, UP_ENET, NULL, 0);
		} else {
			xfer_attach(x, n, false);
		}
	}
}

/* Submits, sends, and ends the exchanges whose streams closed.  c may be freed on return. */
static void
h2_run(struct up_conn *c)
{
	struct up *u = c->up;
	/* Held so that an answer that ends the server's last use cannot free c under us. */
	up_ref(u);
	if (c->goaway) {
		h2_retire(c);
	}
	h2_pump(c);
	for (;;) {
		struct up_xfer *x;
		TAILQ_FOREACH(x, &c->xfers, link) {
			if (x->h2->closed) {
				break;
			}
		}
		if (x == NULL) {
			break;
		}
		/* One at a time: ending one may cancel others on c (the same request's). */
		h2_complete(c, x);
	}
	h2_pump(c);
	if (!h2_flush(c)) {
		conn_free(c, UP_EPROTO);
	} else if (!nghttp2_session_want_read(c->h2s) && !nghttp2_session_want_write(c->h2s)) {
		/* The session is over (GOAWAY handled, or a fatal error sent). */
		conn_free(c, UP_ENET);
	}
	up_unref(u);
}

static void
h2_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	h2_run(arg);
}

static void
h2_read(struct up_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	save_session(c);
	while (evbuffer_get_length(in) > 0) {
		struct evbuffer_iovec v;
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1) {
			break;
		}
		ssize_t used = nghttp2_session_mem_recv(c->h2s, v.iov_base, v.iov_len);
		if (used < 0) {
			tdns_info("forwarder %s: HTTP/2 error: %s", c->up->info->spec,
				  nghttp2_strerror((int)used));
			conn_free(c, UP_EPROTO);
			return;
		}
		evbuffer_drain(in, (size_t)used);
	}
	h2_run(c);
}

/* The HTTP/2 client session of a new DoH connection; its preface waits in the output. */
static bool
h2_start(struct up_conn *c)
{
	c->kick = event_new(fwd_base(c->up->f), -1, 0, h2_kick_cb, c);
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

struct up_xfer *
up_send(struct up *u, struct fwd_req *req, const uint8_t *query, size_t qlen, bool stream,
	unsigned timeout_ms)
{
	enum client_proto proto = u->info->srv.proto;
	if (qlen > sizeof(((struct up_xfer *)0)->q)) {
		__atomic_fetch_add(&u->info->errors, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	if (proto != CLIENT_UDP) {
		stream = true;
	}
	struct up_xfer *x = calloc(1, sizeof(*x));
	if (x == NULL) {
		return NULL;
	}
	x->req = req;
	x->up = u;
	up_ref(u);
	x->fd = -1;
	x->stream = stream;
	x->qlen = qlen;
	memcpy(x->q, query, qlen);
	struct event_base *base = fwd_base(u->f);
	x->timer = event_new(base, -1, 0, xfer_timeout_cb, x);
	if (x->timer == NULL) {
		goto fail;
	}
	if (!stream) {
		x->id = (uint16_t)randombytes_uniform(65536);
		tdns_put16(x->q, x->id);
		x->fd = udp_socket(&u->info->srv);
		if (x->fd < 0) {
			goto fail;
		}
		x->ev = event_new(base, x->fd, EV_READ | EV_PERSIST, udp_read_cb, x);
		if (x->ev == NULL || event_add(x->ev, NULL) != 0 || send(x->fd, x->q, qlen, 0) < 0) {
			goto fail;
		}
	} else if (is_h2(proto)) {
		struct up_conn *c = conn_get(u);
		x->h2 = calloc(1, sizeof(*x->h2));
		if (c == NULL || x->h2 == NULL || (x->h2->body = evbuffer_new()) == NULL) {
			goto fail;
		}
		/* RFC 8484 §4.1: ID 0 keeps the query cacheable; the stream tells answers apart. */
		x->id = 0;
		tdns_put16(x->q, 0);
		/* Queued until the connection may open another stream (h2_pump). */
		xfer_attach(x, c, false);
	} else {
		struct up_conn *c = conn_get(u);
		if (c == NULL) {
			goto fail;
		}
		x->id = conn_new_id(c);
		tdns_put16(x->q, x->id);
		uint8_t len[2];
		tdns_put16(len, (uint16_t)qlen);
		struct evbuffer *out = bufferevent_get_output(c->bev);
		if (evbuffer_add(out, len, 2) != 0 || evbuffer_add(out, x->q, qlen) != 0) {
			goto fail;
		}
		x->conn = c;
		TAILQ_INSERT_TAIL(&c->xfers, x, link);
		c->nxfers++;
		event_del(c->idle);
	}
	x->t0_us = now_us();
	const struct timeval tv = { .tv_sec = timeout_ms / 1000,
				    .tv_usec = (timeout_ms % 1000) * 1000 };
	event_add(x->timer, &tv);
	__atomic_fetch_add(&u->info->queries, 1, __ATOMIC_RELAXED);
	return x;
fail:
	__atomic_fetch_add(&u->info->errors, 1, __ATOMIC_RELAXED);
	u->fails++;
	xfer_free(x);
	return NULL;
}
