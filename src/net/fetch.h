/* SPDX-License-Identifier: MIT */
/* net fetch: one HTTP or HTTPS GET of a URL with libevent's HTTP client (block list downloads). */
#ifndef TDNS_NET_FETCH_H
#define TDNS_NET_FETCH_H

/*
 * A download runs on the caller's event base and never blocks it: names are resolved with
 * the evdns base given (or, without one, by libevent's blocking resolver), https:// goes over
 * an OpenSSL bufferevent made from a net_out_tls_ctx_new context with the certificate checked
 * against the URL's host (net_out_tls_set_host, as every other outgoing TLS connection), a
 * few redirects are followed (never from https to http), the body is bounded by a size cap
 * and the whole exchange by one deadline.  A conditional GET (If-None-Match,
 * If-Modified-Since) that the server answers 304 is a success without a body.
 */

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

#include "net/client.h"

struct event_base;
struct evdns_base;

/* Redirects followed at most (RFC 9110 §15.4 leaves the limit to the client). */
#define NET_FETCH_MAX_REDIRECTS 5

/* One download in flight. */
struct net_fetch;

/* What to fetch and how; strings are copied by net_fetch_start. */
struct net_fetch_opts {
	SSL_CTX *tls_ctx;          /* for https:// (net_out_tls_ctx_new); NULL: https fails */
	struct evdns_base *dns;    /* to resolve host names; NULL: blocking getaddrinfo */
	const char *etag;          /* sent as If-None-Match (RFC 9110 §13.1.2), or NULL */
	const char *last_modified; /* sent as If-Modified-Since (§13.1.3), or NULL */
	size_t max_size;           /* largest body accepted; a larger one fails the download */
	unsigned timeout_ms;       /* for the whole exchange, redirects included */
};

/* Outcome of one download, valid only during the callback. */
struct net_fetch_result {
	int status;                /* CLIENT_OK (HTTP 200 or 304) or a client_status */
	int http_status;           /* of the final response; 0 when none came */
	char *body;                /* 200: the body, NUL-terminated (the callback may take it
				      and set it to NULL; else it is freed); else NULL */
	size_t len;
	const char *etag;          /* the final response's ETag, or NULL */
	const char *last_modified; /* its Last-Modified, or NULL */
	const char *url;           /* the URL the final response came from */
	const char *err;           /* for people on failure ("HTTP status 404 ..."), else "" */
};

/* Called once per download that net_fetch_start started, unless it was cancelled first. */
typedef void (*net_fetch_cb)(void *arg, struct net_fetch_result *r);

/*
 * Checks the syntax of an http:// or https:// URL (a host is required).  True when it can
 * be fetched; else false with the reason in err.
 */
bool net_fetch_url_check(const char *url, char *err, size_t errlen);

/*
 * Starts fetching url on base.  cb(arg, result) follows from the event loop, exactly once;
 * the download is freed when it returns.  NULL with the reason in err when it cannot even
 * start (bad URL, out of memory).
 */
struct net_fetch *net_fetch_start(struct event_base *base, const char *url,
				  const struct net_fetch_opts *o, net_fetch_cb cb, void *arg,
				  char *err, size_t errlen);

/* Stops a download without calling its callback and frees it; accepts NULL. */
void net_fetch_cancel(struct net_fetch *f);

#endif
