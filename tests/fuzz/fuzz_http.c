/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the HTTP/1.1 request-head parser and the RFC 8484 request decoder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns.h"
#include "fuzz.h"
#include "net/doh.h"

/*
 * Built by tests/fuzz/run.sh with src/net/doh.c and src/net/http1.c; run as
 *   FUZZ_SECONDS=60 FUZZ_TARGETS=fuzz_http sh tests/fuzz/run.sh
 */

static bool
inside(struct doh_str s, const char *buf, size_t len)
{
	return s.s == NULL || (s.s >= buf && s.s + s.len <= buf + len);
}

/* Every borrowed piece lies inside the head; a complete head parses the same when cut there. */
static void
check_head(const char *buf, size_t len, int n, const struct doh_http1_req *r)
{
	require((size_t)n <= len && n <= DOH_HEAD_MAX);
	require(inside(r->method, buf, (size_t)n) && inside(r->target, buf, (size_t)n));
	require(inside(r->host, buf, (size_t)n) && inside(r->content_type, buf, (size_t)n));
	require(inside(r->real_ip, buf, (size_t)n) && inside(r->forwarded_for, buf, (size_t)n));
	require(r->content_length <= DOH_BODY_MAX);
	require(r->minor == 0 || r->minor == 1);
	struct doh_http1_req again;
	require(doh_http1_parse(buf, (size_t)n, &again) == n);
	/* A prefix is incomplete or already wrong, never complete with another length. */
	int p = doh_http1_parse(buf, (size_t)n - 1, &again);
	require(p <= 0);
}

/* Decodes the request the head describes, the rest of the input being its body. */
static void
check_decode(const struct doh_http1_req *r, const uint8_t *body, size_t blen)
{
	static uint8_t out[DOH_BODY_MAX];
	struct doh_request d = {
		.method = r->method,
		.target = r->target,
		.content_type = r->content_type,
		.accept_json = r->accept_json,
		.body = body,
		.body_len = blen,
	};
	size_t outlen = 0;
	enum doh_format fmt;
	int st = doh_request_decode(&d, "/dns-query", out, sizeof(out), &outlen, &fmt);
	require(st == 0 || st == 400 || st == 404 || st == 405 || st == 413 || st == 415 ||
		st == 500);
	if (st != 0) {
		return;
	}
	require(outlen >= DNS_HDR_LEN && outlen <= sizeof(out));
	require((tdns_get16(out + 2) & DNS_FLAG_QR) == 0);
	/* The reply side sees arbitrary messages too. */
	(void)doh_max_age(out, outlen);
	char *json = doh_json_from_wire(out, outlen);
	free(json);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct doh_http1_req r;
	int n = doh_http1_parse(buf, size, &r);
	require(n == 0 || n > 0 || n == -400 || n == -413 || n == -431 || n == -501 ||
		n == -505);
	if (n == 0) {
		require(size < DOH_HEAD_MAX);
	}
	if (n > 0) {
		check_head(buf, size, n, &r);
		check_decode(&r, data + n, size - (size_t)n);
	}
	/* The whole input as a DNS message: what a reply may be turned into. */
	long age = doh_max_age(data, size);
	require(age >= -1 && age <= (long)UINT32_MAX);
	free(doh_json_from_wire(data, size));
	require(!doh_accept_json(buf, 0));
	(void)doh_accept_json(buf, size);
	return 0;
}
