/* SPDX-License-Identifier: MIT */
/* net fetch: HTTP/1.1 GET over libevent's evhttp client, plain or over an OpenSSL bufferevent. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "core/core.h"
#include "net/fetch.h"
#include "net/outgoing.h"

#define ERR_LEN 384

struct net_fetch {
	struct event_base *base;
	struct net_fetch_opts o;
	char *etag_req, *lm_req;  /* the copies o points at */
	char *url;                /* being fetched (after redirects) */
	char *next_url;           /* a redirect to follow, or NULL */
	unsigned redirects;
	bool tls;
	struct evhttp_connection *evcon;
	struct evhttp_request *req; /* in flight; NULL once its callback ran */
	enum evhttp_request_error req_err;
	bool have_req_err;
	int sock_err;             /* errno when evhttp reported the error */
	struct event *deadline;
	struct event *finish;     /* the callback and the cleanup, outside libevent's own */
	net_fetch_cb cb;
	void *arg;
	/* The result being made. */
	int status;
	int http_status;
	char *body;
	size_t len;
	char *etag, *last_modified;
	char err[ERR_LEN];
};

static void __attribute__((format(printf, 3, 4)))
fail(struct net_fetch *f, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->err, sizeof(f->err), fmt, ap);
	va_end(ap);
	f->status = status;
}

/* Splits url into its parts; the caller frees *uri with evhttp_uri_free.  False: err says. */
static bool
parse_url(const char *url, struct evhttp_uri **uri, bool *tls, char *err, size_t errlen)
{
	*uri = evhttp_uri_parse_with_flags(url, 0);
	if (*uri == NULL) {
		snprintf(err, errlen, "invalid URL '%s'", url);
		return false;
	}
	const char *scheme = evhttp_uri_get_scheme(*uri);
	const char *host = evhttp_uri_get_host(*uri);
	if (scheme == NULL ||
	    (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0)) {
		snprintf(err, errlen, "invalid URL '%s'; expected http:// or https://", url);
	} else if (host == NULL || host[0] == '\0') {
		snprintf(err, errlen, "invalid URL '%s': no host", url);
	} else {
		*tls = strcasecmp(scheme, "https") == 0;
		return true;
	}
	evhttp_uri_free(*uri);
	*uri = NULL;
	return false;
}

bool
net_fetch_url_check(const char *url, char *err, size_t errlen)
{
	struct evhttp_uri *uri;
	bool tls;
	if (!parse_url(url, &uri, &tls, err, errlen)) {
		return false;
	}
	evhttp_uri_free(uri);
	return true;
}

/* Ends the download from the event loop: the callback runs outside evhttp's own callbacks. */
static void
finish_soon(struct net_fetch *f)
{
	event_active(f->finish, 0, 0);
}

static void
close_conn(struct net_fetch *f)
{
	if (f->req != NULL) {
		/* Frees the request without its callback and resets the connection. */
		evhttp_cancel_request(f->req);
		f->req = NULL;
	}
	if (f->evcon != NULL) {
		evhttp_connection_free(f->evcon);
		f->evcon = NULL;
	}
}

static void
free_fetch(struct net_fetch *f)
{
	close_conn(f);
	if (f->deadline != NULL) {
		event_free(f->deadline);
	}
	if (f->finish != NULL) {
		event_free(f->finish);
	}
	free(f->etag_req);
	free(f->lm_req);
	free(f->url);
	free(f->next_url);
	free(f->body);
	free(f->etag);
	free(f->last_modified);
	free(f);
}

void
net_fetch_cancel(struct net_fetch *f)
{
	if (f != NULL) {
		free_fetch(f);
	}
}

static const char *
req_error_text(enum evhttp_request_error e)
{
	switch (e) {
	case EVREQ_HTTP_TIMEOUT:
		return "timed out";
	case EVREQ_HTTP_EOF:
		return "connection closed before the response was complete";
	case EVREQ_HTTP_INVALID_HEADER:
		return "invalid response header";
	case EVREQ_HTTP_BUFFER_ERROR:
		return "connection failed";
	case EVREQ_HTTP_REQUEST_CANCEL:
		return "cancelled";
	case EVREQ_HTTP_DATA_TOO_LONG:
		return "response larger than the size limit";
	}
	return "failed";
}

static void
error_cb(enum evhttp_request_error e, void *arg)
{
	struct net_fetch *f = arg;
	f->req_err = e;
	f->have_req_err = true;
	/* evhttp reports from the bufferevent's error event: errno is the socket's reason. */
	f->sock_err = EVUTIL_SOCKET_ERROR();
}

/* Why a request ended without a response: the TLS check, the socket, or evhttp's reason. */
static void
fail_connection(struct net_fetch *f)
{
	struct bufferevent *bev = f->evcon != NULL ? evhttp_connection_get_bufferevent(f->evcon)
						   : NULL;
	if (f->tls && bev != NULL) {
		SSL *ssl = bufferevent_openssl_get_ssl(bev);
		long vr = ssl != NULL ? SSL_get_verify_result(ssl) : X509_V_OK;
		unsigned long e = bufferevent_get_openssl_error(bev);
		if (vr != X509_V_OK) {
			ERR_clear_error();
			fail(f, CLIENT_ETLS, "%s: TLS certificate not accepted: %s", f->url,
			     X509_verify_cert_error_string(vr));
			return;
		}
		if (e != 0 && ERR_GET_LIB(e) != 0) {
			char why[256];
			ERR_error_string_n(e, why, sizeof(why));
			ERR_clear_error();
			fail(f, CLIENT_ETLS, "%s: TLS handshake failed: %s", f->url, why);
			return;
		}
	}
	if (f->have_req_err && f->req_err == EVREQ_HTTP_DATA_TOO_LONG) {
		fail(f, CLIENT_EPROTO, "%s: response larger than %zu bytes", f->url,
		     f->o.max_size);
		return;
	}
	int se = f->have_req_err ? f->sock_err : EVUTIL_SOCKET_ERROR();
	/* evhttp has already disconnected a socket that failed to connect: no reason is left. */
	if (se == ENOTCONN || se == EAGAIN || se == EINPROGRESS) {
		se = 0;
	}
	fail(f, CLIENT_ENET, "%s: %s%s%s", f->url,
	     f->have_req_err ? req_error_text(f->req_err) : "connection failed",
	     se != 0 ? ": " : "", se != 0 ? evutil_socket_error_to_string(se) : "");
}

static char *
header_copy(struct evkeyvalq *h, const char *name)
{
	const char *v = evhttp_find_header(h, name);
	return v != NULL ? tdns_xstrdup(v) : NULL;
}

/* The absolute URL of a Location value relative to the URL base (RFC 3986 §5, simply). */
static char *
resolve_location(const char *base, const char *loc)
{
	if (strncasecmp(loc, "http://", 7) == 0 || strncasecmp(loc, "https://", 8) == 0) {
		return tdns_xstrdup(loc);
	}
	const char *colon = strstr(base, "://");
	if (colon == NULL) {
		return NULL;
	}
	size_t scheme_len = (size_t)(colon - base);
	const char *auth = colon + 3;
	const char *path = auth + strcspn(auth, "/?#");
	size_t keep;
	if (loc[0] == '/' && loc[1] == '/') {
		keep = scheme_len + 1;        /* "https:" then the new authority */
	} else if (loc[0] == '/') {
		keep = (size_t)(path - base); /* scheme and authority */
	} else {
		/* Relative to the directory of the current path. */
		const char *end = path + strcspn(path, "?#");
		const char *slash = end;
		while (slash > path && slash[-1] != '/') {
			slash--;
		}
		keep = (size_t)(slash - base);
		if (slash == path) {
			size_t n = keep + 1 + strlen(loc) + 1;
			char *out = tdns_xmalloc(n);
			snprintf(out, n, "%.*s/%s", (int)keep, base, loc);
			return out;
		}
	}
	size_t n = keep + strlen(loc) + 1;
	char *out = tdns_xmalloc(n);
	snprintf(out, n, "%.*s%s", (int)keep, base, loc);
	return out;
}

static void
done_cb(struct evhttp_request *req, void *arg)
{
	struct net_fetch *f = arg;
	int code = req != NULL ? evhttp_request_get_response_code(req) : 0;
	if (code == 0) {
		fail_connection(f);
		f->req = NULL;
		finish_soon(f);
		return;
	}
	f->http_status = code;
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	if (code == 301 || code == 302 || code == 303 || code == 307 || code == 308) {
		const char *loc = evhttp_find_header(h, "Location");
		char *next = loc != NULL ? resolve_location(f->url, loc) : NULL;
		if (next == NULL) {
			fail(f, CLIENT_EPROTO, "%s: HTTP status %d without a usable Location",
			     f->url, code);
		} else if (f->redirects >= NET_FETCH_MAX_REDIRECTS) {
			fail(f, CLIENT_EPROTO, "%s: more than %d redirects", f->url,
			     NET_FETCH_MAX_REDIRECTS);
			free(next);
		} else if (f->tls && strncasecmp(next, "https://", 8) != 0) {
			fail(f, CLIENT_EPROTO, "%s: redirect from https to %s refused", f->url,
			     next);
			free(next);
		} else {
			f->next_url = next;
		}
	} else if (code == 200 || code == 304) {
		struct evbuffer *in = evhttp_request_get_input_buffer(req);
		size_t len = code == 200 ? evbuffer_get_length(in) : 0;
		if (len > f->o.max_size) {
			fail(f, CLIENT_EPROTO, "%s: response larger than %zu bytes", f->url,
			     f->o.max_size);
		} else {
			f->status = CLIENT_OK;
			f->err[0] = '\0';
			if (code == 200) {
				f->body = malloc(len + 1);
				if (f->body == NULL) {
					fail(f, CLIENT_ENET, "%s: out of memory for %zu "
					     "bytes", f->url, len);
				} else {
					f->len = (size_t)evbuffer_remove(in, f->body, len);
					f->body[f->len] = '\0';
				}
			}
			f->etag = header_copy(h, "ETag");
			f->last_modified = header_copy(h, "Last-Modified");
		}
	} else {
		const char *reason = evhttp_request_get_response_code_line(req);
		fail(f, CLIENT_EPROTO, "%s: HTTP status %d%s%s", f->url, code,
		     reason != NULL ? " " : "", reason != NULL ? reason : "");
	}
	/* evhttp frees the request when this returns. */
	f->req = NULL;
	finish_soon(f);
}

/* Sends the GET of f->url on a new connection; false with f's error set. */
static bool
start_request(struct net_fetch *f)
{
	struct evhttp_uri *uri;
	if (!parse_url(f->url, &uri, &f->tls, f->err, sizeof(f->err))) {
		f->status = CLIENT_EINVAL;
		return false;
	}
	char host[256];
	snprintf(host, sizeof(host), "%s", evhttp_uri_get_host(uri));
	/* "[2001:db8::1]": the address without its brackets, for the socket and the check. */
	if (host[0] == '[') {
		size_t n = strlen(host);
		memmove(host, host + 1, n);
		if (n >= 2 && host[n - 2] == ']') {
			host[n - 2] = '\0';
		}
	}
	int port = evhttp_uri_get_port(uri);
	if (port <= 0) {
		port = f->tls ? 443 : 80;
	}
	const char *path = evhttp_uri_get_path(uri);
	const char *query = evhttp_uri_get_query(uri);
	char target[4096];
	snprintf(target, sizeof(target), "%s%s%s", path != NULL && path[0] != '\0' ? path : "/",
		 query != NULL ? "?" : "", query != NULL ? query : "");
	evhttp_uri_free(uri);

	struct bufferevent *bev;
	if (f->tls) {
		SSL *ssl = f->o.tls_ctx != NULL ? SSL_new(f->o.tls_ctx) : NULL;
		if (ssl == NULL || !net_out_tls_set_host(ssl, host, false)) {
			SSL_free(ssl);
			ERR_clear_error();
			fail(f, CLIENT_ETLS, "%s: no TLS context for '%s'", f->url, host);
			return false;
		}
		bev = bufferevent_openssl_socket_new(f->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
						     BEV_OPT_CLOSE_ON_FREE |
						     BEV_OPT_DEFER_CALLBACKS);
		if (bev == NULL) {
			SSL_free(ssl);
		} else {
			/* Servers that close without close_notify still sent a whole body. */
			bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
		}
	} else {
		bev = bufferevent_socket_new(f->base, -1, BEV_OPT_CLOSE_ON_FREE);
	}
	f->evcon = bev != NULL ? evhttp_connection_base_bufferevent_new(f->base, f->o.dns, bev,
									host, (unsigned short)port)
			       : NULL;
	if (f->evcon == NULL) {
		if (bev != NULL) {
			bufferevent_free(bev);
		}
		fail(f, CLIENT_ENET, "%s: out of memory", f->url);
		return false;
	}
	evhttp_connection_set_max_body_size(f->evcon, (ev_ssize_t)f->o.max_size);
	evhttp_connection_set_retries(f->evcon, 0);
	f->req = evhttp_request_new(done_cb, f);
	if (f->req == NULL) {
		fail(f, CLIENT_ENET, "%s: out of memory", f->url);
		return false;
	}
	evhttp_request_set_error_cb(f->req, error_cb);
	struct evkeyvalq *out = evhttp_request_get_output_headers(f->req);
	char hosthdr[300];
	bool v6 = strchr(host, ':') != NULL;
	bool default_port = port == (f->tls ? 443 : 80);
	snprintf(hosthdr, sizeof(hosthdr), "%s%s%s", v6 ? "[" : "", host, v6 ? "]" : "");
	if (!default_port) {
		size_t n = strlen(hosthdr);
		snprintf(hosthdr + n, sizeof(hosthdr) - n, ":%d", port);
	}
	evhttp_add_header(out, "Host", hosthdr);
	evhttp_add_header(out, "User-Agent", "tdns/" PACKAGE_VERSION);
	evhttp_add_header(out, "Accept", "text/plain, */*");
	evhttp_add_header(out, "Connection", "close");
	if (f->o.etag != NULL) {
		evhttp_add_header(out, "If-None-Match", f->o.etag);
	}
	if (f->o.last_modified != NULL) {
		evhttp_add_header(out, "If-Modified-Since", f->o.last_modified);
	}
	if (evhttp_make_request(f->evcon, f->req, EVHTTP_REQ_GET, target) != 0) {
		/* evhttp freed the request. */
		f->req = NULL;
		fail(f, CLIENT_ENET, "%s: cannot send the request", f->url);
		return false;
	}
	return true;
}

static void
finish_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct net_fetch *f = arg;
	close_conn(f);
	if (f->next_url != NULL) {
		free(f->url);
		f->url = f->next_url;
		f->next_url = NULL;
		f->redirects++;
		f->http_status = 0;
		f->have_req_err = false;
		f->sock_err = 0;
		if (start_request(f)) {
			return;
		}
		close_conn(f);
	}
	struct net_fetch_result r = {
		.status = f->status,
		.http_status = f->http_status,
		.body = f->body,
		.len = f->len,
		.etag = f->etag,
		.last_modified = f->last_modified,
		.url = f->url,
		.err = f->status == CLIENT_OK ? "" : f->err,
	};
	f->cb(f->arg, &r);
	f->body = r.body;
	free_fetch(f);
}

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct net_fetch *f = arg;
	/* A response may have just arrived: its finish must not run after this one. */
	event_del(f->finish);
	free(f->next_url);
	f->next_url = NULL;
	fail(f, CLIENT_ETIMEOUT, "%s: no complete response within %u ms", f->url,
	     f->o.timeout_ms);
	finish_cb(-1, 0, f);
}

struct net_fetch *
net_fetch_start(struct event_base *base, const char *url, const struct net_fetch_opts *o,
		net_fetch_cb cb, void *arg, char *err, size_t errlen)
{
	struct net_fetch *f = calloc(1, sizeof(*f));
	if (f == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	f->base = base;
	f->o = *o;
	f->etag_req = o->etag != NULL ? tdns_xstrdup(o->etag) : NULL;
	f->lm_req = o->last_modified != NULL ? tdns_xstrdup(o->last_modified) : NULL;
	f->o.etag = f->etag_req;
	f->o.last_modified = f->lm_req;
	f->url = tdns_xstrdup(url);
	f->cb = cb;
	f->arg = arg;
	f->status = CLIENT_ENET;
	f->deadline = evtimer_new(base, deadline_cb, f);
	f->finish = event_new(base, -1, 0, finish_cb, f);
	struct timeval tv = { .tv_sec = o->timeout_ms / 1000,
			      .tv_usec = (o->timeout_ms % 1000) * 1000 };
	if (f->deadline == NULL || f->finish == NULL || evtimer_add(f->deadline, &tv) != 0) {
		snprintf(err, errlen, "out of memory");
		free_fetch(f);
		return NULL;
	}
	if (!start_request(f)) {
		snprintf(err, errlen, "%s", f->err);
		free_fetch(f);
		return NULL;
	}
	return f;
}
