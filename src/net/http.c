/* SPDX-License-Identifier: MIT */
/* DNS over HTTPS (RFC 8484) and plain HTTP behind a proxy: HTTP/2 (nghttp2) and HTTP/1.1. */
#include "config.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>

#include "net/doh.h"
#include "net/h2.h"
#include "net/net.h"

#define H2_STREAMS_MAX 100   /* concurrent streams we allow a client (RFC 9113 §6.5.2) */
#define H2_PATH_MAX 16384    /* longest :path kept */
#define H2_WINDOW 4096       /* initial stream window we announce: a POST body's first bytes */
#define H2_BUFFER_MAX 65536  /* unfinished request bodies one connection may hold (octets) */
#define H2_RESETS_MAX 100    /* RST_STREAMs a client may send per second (CVE-2023-44487) */
#define H1_QUEUE_MAX 32      /* pipelined HTTP/1.1 requests answered in order at most */
#define LINGER_SECS 2        /* time to read what a client still sends after our last reply */
#define READ_HIGH (2 * (DOH_HEAD_MAX + DOH_BODY_MAX))

static const char H2_PREFACE[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
#define H2_PREFACE_LEN (sizeof(H2_PREFACE) - 1)

enum proto { PROTO_UNKNOWN, PROTO_H1, PROTO_H2 };

/* One request: an HTTP/1.1 request in the pipeline or an HTTP/2 stream. */
struct req {
	TAILQ_ENTRY(req) link;        /* in the connection's list, in arrival order */
	struct net_http_conn *c;
	int32_t stream;               /* HTTP/2 stream, 0 for HTTP/1.1 */
	bool waiting;                 /* a deferred reply comes through req_deliver */
	bool ready;                   /* the response is built */
	bool gone;                    /* the connection or stream ended while waiting */
	bool keep_alive;              /* HTTP/1.1: the connection stays open afterwards */
	enum doh_format fmt;
	struct sockaddr_storage client; /* the client the query is for */
	socklen_t clientlen;
	/* HTTP/2: the request as its frames arrive. */
	char method[16];
	char *target;
	size_t target_len;
	char ctype[128];
	bool has_ctype, accept_json, too_large;
	char real_ip[INET6_ADDRSTRLEN + 8];
	char fwd_for[INET6_ADDRSTRLEN + 8]; /* the last address of X-Forwarded-For */
	uint8_t *body;
	size_t body_len;
	/* The response. */
	int status;
	const char *ctype_out;
	uint8_t *resp;
	size_t resp_len, resp_sent;
	long max_age;
};

TAILQ_HEAD(req_list, req);

/* A DoH or plain-HTTP connection on the stream-connection base. */
struct net_http_conn {
	struct net_conn base;         /* first: a struct net_conn * is a struct net_http_conn * */
	struct net_worker *w;
	enum net_stream_kind kind;
	bool trusted;                 /* HTTP: the peer is a trusted proxy */
	bool handshaken;              /* DoH: the TLS handshake is done */
	bool alpn_h2;
	enum proto proto;
	nghttp2_session *h2;
	struct req_list reqs;
	unsigned nreqs;
	bool lingering;               /* our side is shut; reading what is left, then close */
	bool continued;               /* HTTP/1.1: 100 Continue sent for the request at hand */
	bool freeing;                 /* being closed: nghttp2 callbacks do nothing */
	size_t buffered;              /* HTTP/2: octets of request bodies held, <= H2_BUFFER_MAX */
	time_t reset_sec;             /* HTTP/2: the second the client's resets are counted in */
	unsigned resets;              /* HTTP/2: RST_STREAMs received in reset_sec */
};

static void conn_process(struct net_http_conn *c);

/* ------------------------------------------------------------------------------------------ */
/* Requests                                                                                     */

static struct req *
req_new(struct net_http_conn *c, int32_t stream)
{
	struct req *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		return NULL;
	}
	r->c = c;
	r->stream = stream;
	r->max_age = -1;
	memcpy(&r->client, &c->base.peer, sizeof(r->client));
	r->clientlen = c->base.peerlen;
	TAILQ_INSERT_TAIL(&c->reqs, r, link);
	c->nreqs++;
	return r;
}

static void
req_free(struct req *r)
{
	free(r->target);
	free(r->body);
	free(r->resp);
	free(r);
}

/* Frees r's request body, which its connection no longer holds. */
static void
req_drop_body(struct req *r)
{
	r->c->buffered -= r->body_len;
	free(r->body);
	r->body = NULL;
	r->body_len = 0;
}

/* Takes r off its connection's list; a waiting request lives on until its reply comes. */
static void
req_detach(struct req *r)
{
	struct net_http_conn *c = r->c;
	TAILQ_REMOVE(&c->reqs, r, link);
	c->nreqs--;
	req_drop_body(r);
	if (r->waiting) {
		r->gone = true;
		return;
	}
	req_free(r);
}

/* A short text body for an error status, so people with curl see what went wrong. */
static void
req_error(struct req *r, int status)
{
	r->c->w->stats.http_errors++;
	r->status = status;
	r->ctype_out = "text/plain";
	char text[64];
	int n = snprintf(text, sizeof(text), "%d %s\n", status, doh_status_text(status));
	r->resp = (uint8_t *)strdup(text);
	r->resp_len = r->resp != NULL ? (size_t)n : 0;
	r->max_age = -1;
	r->ready = true;
}

/* The 200 response carrying reply msg in r's format; 500 when it cannot be made. */
static void
req_reply(struct req *r, const uint8_t *msg, size_t len)
{
	r->max_age = doh_max_age(msg, len);
	if (r->fmt == DOH_FORMAT_JSON) {
		char *json = doh_json_from_wire(msg, len);
		if (json == NULL) {
			req_error(r, 500);
			return;
		}
		r->resp = (uint8_t *)json;
		r->resp_len = strlen(json);
		r->ctype_out = "application/dns-json";
	} else {
		r->resp = malloc(len);
		if (r->resp == NULL) {
			req_error(r, 500);
			return;
		}
		memcpy(r->resp, msg, len);
		r->resp_len = len;
		r->ctype_out = "application/dns-message";
	}
	r->status = 200;
	r->ready = true;
}

/*
 * X-Real-IP, else the last address of X-Forwarded-For (the one the proxy added), from a
 * trusted proxy becomes the client; a value that is no address leaves the proxy's.
 */
static void
req_set_client(struct req *r, const char *real_ip, const char *fwd_for)
{
	const char *s = real_ip[0] != '\0' ? real_ip : fwd_for;
	if (!r->c->trusted || s[0] == '\0') {
		return;
	}
	struct sockaddr_in *sin = (struct sockaddr_in *)&r->client;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&r->client;
	struct in_addr a4;
	struct in6_addr a6;
	if (inet_pton(AF_INET, s, &a4) == 1) {
		memset(&r->client, 0, sizeof(r->client));
		sin->sin_family = AF_INET;
		sin->sin_addr = a4;
		r->clientlen = sizeof(*sin);
	} else if (inet_pton(AF_INET6, s, &a6) == 1) {
		memset(&r->client, 0, sizeof(r->client));
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = a6;
		r->clientlen = sizeof(*sin6);
	}
}

/* Copies the last element of a comma-separated X-Forwarded-For value, trimmed, into out. */
static void
last_forwarded(const char *v, size_t len, char *out, size_t cap)
{
	out[0] = '\0';
	if (v == NULL) {
		return;
	}
	const char *comma = NULL;
	for (size_t i = 0; i < len; i++) {
		if (v[i] == ',') {
			comma = v + i;
		}
	}
	const char *s = comma != NULL ? comma + 1 : v;
	size_t n = (size_t)(v + len - s);
	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) {
		n--;
	}
	snprintf(out, cap, "%.*s", (int)(n < cap ? n : 0), s);
}

static void req_deliver(void *handle, const uint8_t *msg, size_t len);

/* The client's keep callback: a waiting request holds a reference to its connection. */
static void *
req_keep(const struct net_client *cl)
{
	struct req *r = cl->ctx;
	r->waiting = true;
	net_conn_ref(&r->c->base);
	return r;
}

/* Decodes request d and answers it now, or later through req_deliver. */
static void
req_run(struct req *r, const struct doh_request *d)
{
	struct net_http_conn *c = r->c;
	struct net_worker *w = c->w;
	const struct net_settings *set = w->set;
	size_t qlen;
	int status = doh_request_decode(d, set->doh_path, w->tcp_in, DNS_MSG_MAX, &qlen, &r->fmt);
	if (status != 0) {
		req_error(r, status);
		return;
	}
	struct net_client cl = {
		.peer = r->clientlen > 0 ? (const struct sockaddr *)&r->client : NULL,
		.peerlen = r->clientlen,
		.transport = STATS_TRANSPORT_DOH,
		.stream = true,
		.keep = req_keep,
		.deliver = req_deliver,
		.ctx = r,
	};
	int rcode;
	size_t rlen = net_conn_query(w, w->tcp_in, qlen, w->tcp_out + 2, DNS_MSG_MAX, &cl, &rcode);
	if (rcode == NET_RCODE_DEFERRED) {
		return; /* req_keep marked r waiting */
	}
	if (rlen == 0) {
		req_error(r, 400); /* a message the DNS layer drops is no query */
		return;
	}
	req_reply(r, w->tcp_out + 2, rlen);
}

/* ------------------------------------------------------------------------------------------ */
/* Connections                                                                                  */

/* Protocol teardown before the base frees the bufferevent: h2 session, requests, TLS. */
static void
conn_close(struct net_conn *base)
{
	struct net_http_conn *c = (struct net_http_conn *)base;
	c->freeing = true;
	if (c->h2 != NULL) {
		nghttp2_session_del(c->h2);
		c->h2 = NULL;
	}
	struct req *r;
	while ((r = TAILQ_FIRST(&c->reqs)) != NULL) {
		req_detach(r);
	}
	if (c->kind == NET_STREAM_DOH && c->handshaken) {
		net_tls_close_notify(base->bev);
	}
}

/* Idle for HTTP: no request in progress either. */
static bool
conn_idle(const struct net_conn *base)
{
	return ((const struct net_http_conn *)base)->nreqs == 0;
}

static const struct net_conn_ops conn_ops = {
	.close = conn_close,
	.idle = conn_idle,
};

static size_t
out_len(const struct net_http_conn *c)
{
	return net_conn_out_len(&c->base);
}

/* Our last reply is written: shut our side, read (and drop) what the client still sends. */
static void
conn_linger(struct net_http_conn *c)
{
	c->lingering = true;
	int fd = bufferevent_getfd(c->base.bev);
	if (fd >= 0) {
		(void)shutdown(fd, SHUT_WR);
	}
	struct timeval tv = { .tv_sec = LINGER_SECS, .tv_usec = 0 };
	bufferevent_set_timeouts(c->base.bev, &tv, NULL);
	bufferevent_setwatermark(c->base.bev, EV_READ, 0, 0);
	bufferevent_enable(c->base.bev, EV_READ);
	evbuffer_drain(bufferevent_get_input(c->base.bev), evbuffer_get_length(
							      bufferevent_get_input(c->base.bev)));
}

/* ------------------------------------------------------------------------------------------ */
/* HTTP/1.1 (RFC 9112): keep-alive, pipelined requests answered in order                        */

/* Writes the responses at the head of the queue that are ready, in request order. */
static void
h1_flush(struct net_http_conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->base.bev);
	struct req *r;
	while ((r = TAILQ_FIRST(&c->reqs)) != NULL && r->ready) {
		char head[512];
		size_t n = doh_http1_response(head, sizeof(head), r->status, r->ctype_out,
					      r->resp_len, r->max_age, r->keep_alive);
		if (evbuffer_add(out, head, n) != 0 ||
		    evbuffer_add(out, r->resp, r->resp_len) != 0 || !r->keep_alive) {
			/* RFC 9112 §9.6: nothing after a response that closes the connection. */
			c->base.closing = true;
			while (TAILQ_FIRST(&c->reqs) != NULL) {
				req_detach(TAILQ_FIRST(&c->reqs));
			}
			return;
		}
		req_detach(r);
	}
}

/* An error that ends the connection: answered in turn, then closed (RFC 9112 §9.6). */
static void
h1_fatal(struct net_http_conn *c, int status)
{
	struct req *r = req_new(c, 0);
	c->base.closing = true;
	if (r != NULL) {
		req_error(r, status);
	}
}

/* Runs one complete request whose head hr is n octets of buf, the body following. */
static void
h1_request(struct net_http_conn *c, const struct doh_http1_req *hr, const char *buf, size_t n)
{
	struct req *r = req_new(c, 0);
	if (r == NULL) {
		c->base.closing = true;
		return;
	}
	r->keep_alive = hr->keep_alive;
	if (!hr->keep_alive) {
		c->base.closing = true;
	}
	char real_ip[INET6_ADDRSTRLEN + 8], fwd[INET6_ADDRSTRLEN + 8];
	snprintf(real_ip, sizeof(real_ip), "%.*s",
		 hr->real_ip.len < sizeof(real_ip) ? (int)hr->real_ip.len : 0,
		 hr->real_ip.s != NULL ? hr->real_ip.s : "");
	last_forwarded(hr->forwarded_for.s, hr->forwarded_for.len, fwd, sizeof(fwd));
	req_set_client(r, real_ip, fwd);
	struct doh_request d = {
		.method = hr->method,
		.target = hr->target,
		.content_type = hr->content_type,
		.accept_json = hr->accept_json,
		.body = (const uint8_t *)buf + n,
		.body_len = hr->content_length,
	};
	req_run(r, &d);
}

/* Parses and runs every complete request in the input, as far as the limits allow. */
static void
h1_process(struct net_http_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->base.bev);
	while (!c->base.closing) {
		size_t avail = evbuffer_get_length(in);
		if (out_len(c) >= NET_TCP_OUT_HIGH || c->nreqs >= H1_QUEUE_MAX) {
			c->base.paused = true;
			break;
		}
		if (avail == 0) {
			break;
		}
		size_t look = avail < DOH_HEAD_MAX ? avail : DOH_HEAD_MAX;
		const char *buf = (const char *)evbuffer_pullup(in, (ssize_t)look);
		struct doh_http1_req hr;
		int n = buf != NULL ? doh_http1_parse(buf, look, &hr) : -500;
		if (n < 0) {
			h1_fatal(c, -n);
			break;
		}
		if (n == 0 || avail < (size_t)n + hr.content_length) {
			/* RFC 9110 §10.1.1: ask for the body once earlier replies are out. */
			if (n > 0 && hr.expect_continue && !c->continued && c->nreqs == 0) {
				static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
				(void)evbuffer_add(bufferevent_get_output(c->base.bev), cont,
						   sizeof(cont) - 1);
				c->continued = true;
			}
			break;
		}
		size_t total = (size_t)n + hr.content_length;
		buf = (const char *)evbuffer_pullup(in, (ssize_t)total);
		if (buf == NULL || doh_http1_parse(buf, total, &hr) != n) {
			h1_fatal(c, 500);
			break;
		}
		h1_request(c, &hr, buf, (size_t)n);
		evbuffer_drain(in, total);
		c->continued = false;
	}
	h1_flush(c);
}

/* ------------------------------------------------------------------------------------------ */
/* HTTP/2 (RFC 9113) through nghttp2, one stream per query (RFC 8484 §5.2)                       */

static ssize_t
h2_send_cb(nghttp2_session *s, const uint8_t *data, size_t len, int flags, void *user)
{
	struct net_http_conn *c = user;
	(void)s;
	(void)flags;
	if (out_len(c) >= NET_TCP_OUT_HIGH) {
		return NGHTTP2_ERR_WOULDBLOCK; /* resumed by the write callback */
	}
	if (evbuffer_add(bufferevent_get_output(c->base.bev), data, len) != 0) {
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	}
	return (ssize_t)len;
}

static ssize_t
h2_body_cb(nghttp2_session *s, int32_t stream, uint8_t *buf, size_t length,
	   uint32_t *data_flags, nghttp2_data_source *source, void *user)
{
	struct req *r = source->ptr;
	(void)s;
	(void)stream;
	(void)user;
	return net_h2_body_read(buf, length, data_flags, r->resp, r->resp_len, &r->resp_sent);
}

/* Submits r's response on its stream; sent by the next h2_send. */
static void
h2_respond(struct net_http_conn *c, struct req *r)
{
	char status[8], clen[24], cache[32];
	snprintf(status, sizeof(status), "%d", r->status);
	snprintf(clen, sizeof(clen), "%zu", r->resp_len);
	if (r->max_age >= 0) {
		snprintf(cache, sizeof(cache), "max-age=%ld", r->max_age);
	} else {
		snprintf(cache, sizeof(cache), "no-store");
	}
	nghttp2_nv nva[] = {
		NET_H2_NV(":status", status),
		NET_H2_NV("content-type", r->ctype_out),
		NET_H2_NV("content-length", clen),
		NET_H2_NV("cache-control", cache),
		NET_H2_NV("allow", "GET, POST"),
	};
	size_t nnv = sizeof(nva) / sizeof(nva[0]) - (r->status == 405 ? 0 : 1);
	nghttp2_data_provider prd = { .source.ptr = r, .read_callback = h2_body_cb };
	if (nghttp2_submit_response(c->h2, r->stream, nva, nnv, r->resp_len > 0 ? &prd : NULL) !=
	    0) {
		(void)nghttp2_submit_rst_stream(c->h2, NGHTTP2_FLAG_NONE, r->stream,
						NGHTTP2_INTERNAL_ERROR);
	}
}

/* The request of stream r is complete: decode it and answer now or when the reply comes. */
static void
h2_request(struct net_http_conn *c, struct req *r)
{
	if (r->too_large) {
		req_error(r, 413);
	} else if (r->target == NULL) {
		req_error(r, 400);
	} else {
		req_set_client(r, r->real_ip, r->fwd_for);
		struct doh_request d = {
			.method = { r->method, strlen(r->method) },
			.target = { r->target, r->target_len },
			.content_type = { r->has_ctype ? r->ctype : NULL, strlen(r->ctype) },
			.accept_json = r->accept_json,
			.body = r->body,
			.body_len = r->body_len,
		};
		req_run(r, &d);
	}
	/* The query is decoded (or refused): the body's octets are free for other streams. */
	req_drop_body(r);
	if (r->ready) {
		h2_respond(c, r);
	}
}

static int
h2_begin_headers_cb(nghttp2_session *s, const nghttp2_frame *frame, void *user)
{
	struct net_http_conn *c = user;
	if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) {
		return 0;
	}
	if (net_conn_pending(&c->base) >= H2_STREAMS_MAX) {
		/*
		 * Streams reset by the client free their slot while their query is still being
		 * resolved: without this bound one connection could start any number of them.
		 */
		(void)nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, frame->hd.stream_id,
						NGHTTP2_REFUSED_STREAM);
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	struct req *r = req_new(c, frame->hd.stream_id);
	if (r == NULL) {
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* resets this stream only */
	}
	(void)nghttp2_session_set_stream_user_data(s, frame->hd.stream_id, r);
	return 0;
}

static bool
name_is(const uint8_t *name, size_t len, const char *lit)
{
	return len == strlen(lit) && memcmp(name, lit, len) == 0;
}

/* Keeps what doh_request_decode needs (nghttp2 has checked the fields, RFC 9113 §8.2). */
static int
h2_header_cb(nghttp2_session *s, const nghttp2_frame *frame, const uint8_t *name, size_t nlen,
	     const uint8_t *value, size_t vlen, uint8_t flags, void *user)
{
	(void)flags;
	(void)user;
	struct req *r = nghttp2_session_get_stream_user_data(s, frame->hd.stream_id);
	if (frame->hd.type != NGHTTP2_HEADERS || r == NULL) {
		return 0;
	}
	const char *v = (const char *)value;
	if (name_is(name, nlen, ":method")) {
		snprintf(r->method, sizeof(r->method), "%.*s", (int)vlen, v);
	} else if (name_is(name, nlen, ":path") && r->target == NULL) {
		if (vlen > H2_PATH_MAX || (r->target = malloc(vlen + 1)) == NULL) {
			r->too_large = true;
			return 0;
		}
		memcpy(r->target, v, vlen);
		r->target[vlen] = '\0';
		r->target_len = vlen;
	} else if (name_is(name, nlen, "content-type")) {
		r->has_ctype = true;
		snprintf(r->ctype, sizeof(r->ctype), "%.*s", (int)vlen, v);
	} else if (name_is(name, nlen, "accept")) {
		r->accept_json = r->accept_json || doh_accept_json(v, vlen);
	} else if (name_is(name, nlen, "content-length")) {
		r->too_large = r->too_large || vlen > 5 || strtoul(v, NULL, 10) > DOH_BODY_MAX;
	} else if (name_is(name, nlen, "x-real-ip")) {
		snprintf(r->real_ip, sizeof(r->real_ip), "%.*s",
			 vlen < sizeof(r->real_ip) ? (int)vlen : 0, v);
	} else if (name_is(name, nlen, "x-forwarded-for")) {
		last_forwarded(v, vlen, r->fwd_for, sizeof(r->fwd_for));
	}
	return 0;
}

/*
 * RFC 8484 §4.1: the body is at most one DNS message; more gets 413 at once.  Without
 * automatic window updates the window reopens only for what is consumed here: kept or dropped,
 * every octet is consumed, but no connection holds more than H2_BUFFER_MAX octets of unfinished
 * bodies; the stream whose data would pass that is refused (RFC 9113 §8.7, REFUSED_STREAM).
 */
static int
h2_data_cb(nghttp2_session *s, uint8_t flags, int32_t stream, const uint8_t *data, size_t len,
	   void *user)
{
	struct net_http_conn *c = user;
	(void)flags;
	(void)nghttp2_session_consume(s, stream, len);
	struct req *r = nghttp2_session_get_stream_user_data(s, stream);
	if (r == NULL || r->ready || r->waiting) {
		return 0;
	}
	if (r->body_len + len > DOH_BODY_MAX) {
		r->too_large = true;
		h2_request(c, r);
		return 0;
	}
	uint8_t *nb = c->buffered + len <= H2_BUFFER_MAX ? realloc(r->body, r->body_len + len)
							 : NULL;
	if (nb == NULL) {
		c->w->stats.http_errors++;
		req_drop_body(r);
		r->ready = true; /* ignore the rest; the reset closes the stream */
		(void)nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, stream,
						NGHTTP2_REFUSED_STREAM);
		return 0;
	}
	memcpy(nb + r->body_len, data, len);
	r->body = nb;
	r->body_len += len;
	c->buffered += len;
	return 0;
}

/*
 * Counts a stream reset by the client; past H2_RESETS_MAX in one second (the "rapid reset"
 * attack, CVE-2023-44487: streams opened and cancelled at once, each costing us a query) the
 * connection ends with GOAWAY ENHANCE_YOUR_CALM.  False then.
 */
static bool
h2_reset_counted(struct net_http_conn *c)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec != c->reset_sec) {
		c->reset_sec = now.tv_sec;
		c->resets = 0;
	}
	if (++c->resets <= H2_RESETS_MAX) {
		return true;
	}
	tdns_info("doh: a client reset more than %d streams in a second: closing its connection",
		  H2_RESETS_MAX);
	(void)nghttp2_session_terminate_session(c->h2, NGHTTP2_ENHANCE_YOUR_CALM);
	c->base.closing = true;
	return false;
}

static int
h2_frame_cb(nghttp2_session *s, const nghttp2_frame *frame, void *user)
{
	struct net_http_conn *c = user;
	if (frame->hd.type == NGHTTP2_RST_STREAM) {
		(void)h2_reset_counted(c);
		return 0;
	}
	if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) {
		return 0;
	}
	struct req *r = nghttp2_session_get_stream_user_data(s, frame->hd.stream_id);
	if (r == NULL || r->ready || r->waiting) {
		return 0;
	}
	/* A request is complete with END_STREAM; an announced oversized body is refused now. */
	if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0 || r->too_large) {
		h2_request(c, r);
	}
	return 0;
}

static int
h2_close_cb(nghttp2_session *s, int32_t stream, uint32_t error, void *user)
{
	struct net_http_conn *c = user;
	(void)error;
	struct req *r = nghttp2_session_get_stream_user_data(s, stream);
	if (r != NULL && !c->freeing) {
		(void)nghttp2_session_set_stream_user_data(s, stream, NULL);
		req_detach(r);
	}
	return 0;
}

/* Starts the HTTP/2 server session: our SETTINGS go out first (RFC 9113 §3.4). */
static bool
h2_start(struct net_http_conn *c)
{
	nghttp2_session_callbacks *cbs;
	if (nghttp2_session_callbacks_new(&cbs) != 0) {
		return false;
	}
	nghttp2_session_callbacks_set_send_callback(cbs, h2_send_cb);
	nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, h2_begin_headers_cb);
	nghttp2_session_callbacks_set_on_header_callback(cbs, h2_header_cb);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, h2_data_cb);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, h2_frame_cb);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, h2_close_cb);
	nghttp2_option *opt;
	if (nghttp2_option_new(&opt) != 0) {
		nghttp2_session_callbacks_del(cbs);
		return false;
	}
	/* Windows reopen only for the request data h2_data_cb consumed. */
	nghttp2_option_set_no_auto_window_update(opt, 1);
	int rv = nghttp2_session_server_new2(&c->h2, cbs, c, opt);
	nghttp2_option_del(opt);
	nghttp2_session_callbacks_del(cbs);
	if (rv != 0) {
		c->h2 = NULL;
		return false;
	}
	nghttp2_settings_entry iv[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, H2_STREAMS_MAX },
		{ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, 2 * H2_PATH_MAX },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, H2_WINDOW },
	};
	return nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, iv,
				       sizeof(iv) / sizeof(iv[0])) == 0;
}

/* Feeds the input to nghttp2; a connection error sends GOAWAY (RFC 9113 §5.4.1) and closes. */
static void
h2_process(struct net_http_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->base.bev);
	size_t len;
	while (!c->base.closing && out_len(c) < NET_TCP_OUT_HIGH &&
	       (len = evbuffer_get_length(in)) > 0) {
		size_t n = len < 16384 ? len : 16384;
		const uint8_t *p = evbuffer_pullup(in, (ssize_t)n);
		ssize_t used = p != NULL ? nghttp2_session_mem_recv(c->h2, p, n) : -1;
		if (used < 0) {
			(void)nghttp2_session_terminate_session(c->h2, NGHTTP2_PROTOCOL_ERROR);
			c->base.closing = true;
			evbuffer_drain(in, len);
			break;
		}
		evbuffer_drain(in, (size_t)used);
	}
	c->base.paused = out_len(c) >= NET_TCP_OUT_HIGH;
}

/* Writes what nghttp2 has queued; after GOAWAY both ways the connection is done. */
static void
h2_send(struct net_http_conn *c)
{
	if (nghttp2_session_send(c->h2) != 0) {
		c->base.closing = true;
		return;
	}
	if (!nghttp2_session_want_read(c->h2) && !nghttp2_session_want_write(c->h2)) {
		c->base.closing = true;
	}
}

/* ------------------------------------------------------------------------------------------ */
/* The connection's state machine                                                               */

/* h2 by ALPN (RFC 7301) or by prior knowledge (RFC 9113 §3.3); else HTTP/1.1. */
static bool
conn_pick_proto(struct net_http_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->base.bev);
	size_t len = evbuffer_get_length(in);
	bool h2 = c->alpn_h2;
	if (!h2) {
		size_t n = len < H2_PREFACE_LEN ? len : H2_PREFACE_LEN;
		if (n == 0) {
			return false;
		}
		const uint8_t *p = evbuffer_pullup(in, (ssize_t)n);
		if (p == NULL || memcmp(p, H2_PREFACE, n) != 0) {
			c->proto = PROTO_H1;
			return true;
		}
		if (n < H2_PREFACE_LEN) {
			return false; /* could still be the preface */
		}
		h2 = true;
	}
	c->proto = PROTO_H2;
	if (!h2_start(c)) {
		c->base.closing = true;
	}
	return true;
}

/*
 * Whether c is done: true (and c freed, or lingering) once closing or at EOF with every
 * reply written and none pending.
 */
static bool
conn_finish(struct net_http_conn *c)
{
	/*
	 * After the client's EOF an HTTP/2 stream still waiting for request data can never
	 * complete: only replies already deferred to the resolver keep the connection.
	 */
	bool done = c->base.closing || (c->base.eof && (c->proto != PROTO_H2 ||
						     net_conn_pending(&c->base) == 0));
	if (!done || out_len(c) > 0) {
		return false;
	}
	if (c->nreqs > 0 && c->proto != PROTO_H2) {
		return false; /* an HTTP/1.1 reply is still to come */
	}
	if (c->base.eof || net_conn_pending(&c->base) > 0 || c->nreqs > 0) {
		net_conn_close(&c->base);
	} else {
		conn_linger(c);
	}
	return true;
}

static void
conn_process(struct net_http_conn *c)
{
	c->base.paused = false;
	if (c->proto == PROTO_UNKNOWN && !conn_pick_proto(c)) {
		if (c->base.eof) {
			net_conn_close(&c->base); /* the client left in the middle of a preface */
		}
		return;
	}
	if (c->proto == PROTO_H2 && c->h2 != NULL) {
		h2_process(c);
		h2_send(c);
	} else if (c->proto == PROTO_H1) {
		h1_process(c);
	}
	if (conn_finish(c)) {
		return;
	}
	/*
	 * Slowloris (issue 13): behind TLS and nghttp2 the octets of a request are not seen one by
	 * one, so its deadline runs from the moment the connection waits for the client, and
	 * stops while the server owes it replies.  Incoming octets do not move it.
	 */
	if (!c->base.paused && net_conn_pending(&c->base) == 0 && out_len(c) == 0) {
		net_conn_msg_begin(&c->base);
	} else {
		net_conn_msg_end(&c->base);
	}
	if (c->base.closing || c->base.eof || c->base.paused) {
		bufferevent_disable(c->base.bev, EV_READ);
	} else {
		bufferevent_enable(c->base.bev, EV_READ);
	}
}

/* The reply of a forwarded query: sent if its connection and stream are still there. */
static void
req_deliver(void *handle, const uint8_t *msg, size_t len)
{
	struct req *r = handle;
	struct net_http_conn *c = r->c;
	r->waiting = false;
	if (r->gone) {
		req_free(r);
		net_conn_unref(&c->base); /* the last reference frees a closed connection */
		return;
	}
	/* A request not gone is still on its open connection, which holds its own reference. */
	net_conn_unref(&c->base);
	if (msg != NULL && len > 0) {
		req_reply(r, msg, len);
	} else {
		req_error(r, 503); /* the worker stops, or no reply could be made */
	}
	if (c->proto == PROTO_H2) {
		h2_respond(c, r);
	}
	net_conn_touch(&c->base);
	conn_process(c);
}

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct net_http_conn *c = arg;
	if (c->lingering) {
		struct evbuffer *in = bufferevent_get_input(bev);
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	net_conn_touch(&c->base);
	conn_process(c);
}

/* The output has drained completely (low watermark 0). */
static void
conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct net_http_conn *c = arg;
	(void)bev;
	if (!c->lingering) {
		net_conn_touch(&c->base);
		conn_process(c);
	}
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct net_http_conn *c = arg;
	if ((what & BEV_EVENT_CONNECTED) != 0) {
		/* The TLS handshake is done: ALPN says whether the client speaks h2. */
		const unsigned char *alpn = NULL;
		unsigned alen = 0;
		SSL *ssl = bufferevent_openssl_get_ssl(bev);
		if (ssl != NULL) {
			SSL_get0_alpn_selected(ssl, &alpn, &alen);
		}
		c->alpn_h2 = alen == 2 && memcmp(alpn, "h2", 2) == 0;
		c->handshaken = true;
		return;
	}
	if (c->kind == NET_STREAM_DOH && !c->handshaken) {
		c->w->stats.tls_failed++;
		net_conn_close(&c->base);
		return;
	}
	if ((what & BEV_EVENT_EOF) != 0 && (what & BEV_EVENT_READING) != 0 && !c->lingering) {
		/* A half-close: answer what was asked, then close. */
		c->base.eof = true;
		conn_process(c);
		return;
	}
	/* Not idle while requests are being resolved (lingering has sent its last reply). */
	if (!c->lingering && net_conn_timeout_pending(&c->base, what)) {
		return;
	}
	/* Errors, the idle timeout and the end of lingering close the connection. */
	net_conn_close(&c->base);
}

void
net_http_conn_new(struct net_worker *w, struct bufferevent *bev, enum net_stream_kind kind,
		  const struct sockaddr *peer, socklen_t peerlen)
{
	const struct net_settings *set = w->set;
	struct net_http_conn *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		bufferevent_free(bev);
		return;
	}
	c->w = w;
	c->kind = kind;
	TAILQ_INIT(&c->reqs);
	net_conn_init(&c->base, &w->http_conns, &conn_ops, bev, peer, peerlen);
	/* Only a plain-HTTP listener sits behind a proxy; DoH clients come directly. */
	c->trusted = kind == NET_STREAM_HTTP && c->base.peerlen > 0 &&
		     filter_acl_match(&set->proxies, (const struct sockaddr *)&c->base.peer);
	bufferevent_setcb(bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	net_conn_set_idle(&c->base, set->tcp_idle);
	net_conn_msg_begin(&c->base); /* the TLS handshake and the first request */
	bufferevent_setwatermark(bev, EV_READ, 0, READ_HIGH);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}
