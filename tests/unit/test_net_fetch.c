/* SPDX-License-Identifier: MIT */
/* Unit tests for src/net/fetch.c against an evhttp server on loopback in the same event base. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "core/core.h"
#include "net/fetch.h"

struct fixture {
	struct event_base *base;
	struct evhttp *http;
	int port;
	int silent_fd;            /* a listening socket that never accepts */
	int silent_port;
	char last_inm[128];       /* If-None-Match of the last request */
	/* The result of the last download. */
	int calls;
	int status;
	int http_status;
	char *body;
	char etag[64];
	char url[256];
	char err[512];
};

static void
serve(struct evhttp_request *req, void *arg)
{
	struct fixture *fx = arg;
	const char *uri = evhttp_request_get_uri(req);
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	const char *inm = evhttp_find_header(in, "If-None-Match");
	snprintf(fx->last_inm, sizeof(fx->last_inm), "%s", inm != NULL ? inm : "");
	struct evbuffer *b = evbuffer_new();
	if (strcmp(uri, "/list") == 0) {
		evhttp_add_header(out, "ETag", "\"v1\"");
		if (inm != NULL && strcmp(inm, "\"v1\"") == 0) {
			evhttp_send_reply(req, 304, "Not Modified", NULL);
		} else {
			evbuffer_add_printf(b, "ads.test\n");
			evhttp_send_reply(req, 200, "OK", b);
		}
	} else if (strncmp(uri, "/hop/", 5) == 0) {
		/* /hop/N redirects to /hop/N-1, and /hop/0 to /list (relative forms alike). */
		int n = atoi(uri + 5);
		char loc[64];
		snprintf(loc, sizeof(loc), n > 0 ? "%d" : "/list", n - 1);
		evhttp_add_header(out, "Location", loc);
		evhttp_send_reply(req, 302, "Found", NULL);
	} else if (strcmp(uri, "/big") == 0) {
		for (int i = 0; i < 1000; i++) {
			evbuffer_add_printf(b, "name%d.test\n", i);
		}
		evhttp_send_reply(req, 200, "OK", b);
	} else {
		evhttp_send_reply(req, 404, "Not Found", NULL);
	}
	evbuffer_free(b);
}

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	fx->base = event_base_new();
	fx->http = evhttp_new(fx->base);
	struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(fx->http, "127.0.0.1", 0);
	assert_non_null(bs);
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	assert_int_equal(getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sin, &len),
			 0);
	fx->port = ntohs(sin.sin_port);
	evhttp_set_gencb(fx->http, serve, fx);
	fx->silent_fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in s2 = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	assert_int_equal(bind(fx->silent_fd, (struct sockaddr *)&s2, sizeof(s2)), 0);
	assert_int_equal(listen(fx->silent_fd, 4), 0);
	len = sizeof(s2);
	assert_int_equal(getsockname(fx->silent_fd, (struct sockaddr *)&s2, &len), 0);
	fx->silent_port = ntohs(s2.sin_port);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;
	free(fx->body);
	close(fx->silent_fd);
	evhttp_free(fx->http);
	event_base_free(fx->base);
	free(fx);
	return 0;
}

static void
done(void *arg, struct net_fetch_result *r)
{
	struct fixture *fx = arg;
	fx->calls++;
	fx->status = r->status;
	fx->http_status = r->http_status;
	free(fx->body);
	fx->body = r->body;
	r->body = NULL;
	snprintf(fx->etag, sizeof(fx->etag), "%s", r->etag != NULL ? r->etag : "");
	snprintf(fx->url, sizeof(fx->url), "%s", r->url);
	snprintf(fx->err, sizeof(fx->err), "%s", r->err);
	event_base_loopexit(fx->base, NULL);
}

/* Fetches path from the fixture's server (or port) and runs the loop until the callback. */
static void
fetch(struct fixture *fx, int port, const char *path, const char *etag, size_t max,
      unsigned timeout_ms)
{
	char url[256], err[256];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	struct net_fetch_opts o = { .etag = etag, .max_size = max, .timeout_ms = timeout_ms };
	int before = fx->calls;
	struct net_fetch *f = net_fetch_start(fx->base, url, &o, done, fx, err, sizeof(err));
	assert_non_null(f);
	event_base_dispatch(fx->base);
	assert_int_equal(fx->calls, before + 1);
}

static void
test_get_conditional_get_and_redirects(void **state)
{
	struct fixture *fx = *state;
	fetch(fx, fx->port, "/list", NULL, 1 << 20, 5000);
	assert_int_equal(fx->status, CLIENT_OK);
	assert_int_equal(fx->http_status, 200);
	assert_string_equal(fx->body, "ads.test\n");
	assert_string_equal(fx->etag, "\"v1\"");
	/* RFC 9110 §13.1.2: the ETag sent back; 304 is a success without a body. */
	fetch(fx, fx->port, "/list", "\"v1\"", 1 << 20, 5000);
	assert_string_equal(fx->last_inm, "\"v1\"");
	assert_int_equal(fx->status, CLIENT_OK);
	assert_int_equal(fx->http_status, 304);
	assert_null(fx->body);
	/* Five redirects (relative and absolute-path Locations) are followed ... */
	fetch(fx, fx->port, "/hop/4", NULL, 1 << 20, 5000);
	assert_int_equal(fx->status, CLIENT_OK);
	assert_string_equal(fx->body, "ads.test\n");
	assert_non_null(strstr(fx->url, "/list"));
	/* ... a sixth is not. */
	fetch(fx, fx->port, "/hop/5", NULL, 1 << 20, 5000);
	assert_int_equal(fx->status, CLIENT_EPROTO);
	assert_non_null(strstr(fx->err, "more than 5 redirects"));
}

static void
test_errors_size_cap_and_deadline(void **state)
{
	struct fixture *fx = *state;
	fetch(fx, fx->port, "/missing", NULL, 1 << 20, 5000);
	assert_int_equal(fx->status, CLIENT_EPROTO);
	assert_int_equal(fx->http_status, 404);
	assert_non_null(strstr(fx->err, "HTTP status 404"));
	fetch(fx, fx->port, "/big", NULL, 100, 5000);
	assert_int_not_equal(fx->status, CLIENT_OK);
	assert_null(fx->body);
	fetch(fx, fx->silent_port, "/list", NULL, 1 << 20, 200);
	assert_int_equal(fx->status, CLIENT_ETIMEOUT);
	assert_non_null(strstr(fx->err, "within 200 ms"));
	char err[256];
	struct net_fetch_opts o = { .max_size = 10, .timeout_ms = 100 };
	assert_null(net_fetch_start(fx->base, "ftp://x.test/", &o, done, fx, err, sizeof(err)));
	assert_non_null(strstr(err, "expected http:// or https://"));
	assert_false(net_fetch_url_check("https:///x", err, sizeof(err)));
	assert_true(net_fetch_url_check("https://[2001:db8::1]:8443/l.txt?x=1", err, sizeof(err)));
	/* https without a TLS context cannot start. */
	assert_null(net_fetch_start(fx->base, "https://127.0.0.1:1/", &o, done, fx, err,
				    sizeof(err)));
	assert_non_null(strstr(err, "no TLS context"));
}

int
main(void)
{
	tdns_log_init(true, TDNS_LOG_ERR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_get_conditional_get_and_redirects, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_errors_size_cap_and_deadline, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
