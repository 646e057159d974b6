/* SPDX-License-Identifier: MIT */
/* Allocation failures in whole resolutions (issue 13): every waiter answered, nothing leaked. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "cfg/cfg.h"
#include "fault_alloc.h"
#include "resolver/iter_int.h"

/* Three client queries per run: two coalesced for one name, one for another. */
#define NWAITERS 3
/* A run whose waiters are not all answered by then has lost one. */
#define GUARD_SEC 20

struct run;

struct waiter {
	struct cache_waiter w;
	struct run *run;
	int calls;
	int status;
};

struct run {
	struct event_base *base;
	int fd;                    /* the fake server's UDP socket */
	struct event *srv;
	struct waiter ws[NWAITERS];
	int answered;
	bool guard_hit;
};

/*
 * The fake server, authoritative for everything: an A query gets 192.0.2.1, any other type no
 * data.  Good enough for the forwarder and for the iterator (whose root server it is).
 */
static void
server_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	(void)arg;
	uint8_t pkt[1500];
	struct sockaddr_storage from;
	socklen_t fromlen = sizeof(from);
	ssize_t n = recvfrom(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&from, &fromlen);
	if (n < 12 + 5) {
		return;
	}
	size_t pos = 12;
	while (pos < (size_t)n && pkt[pos] != 0) {
		pos += 1u + pkt[pos];
	}
	if (pos + 5 > (size_t)n) {
		return;
	}
	pos += 5;
	uint16_t qtype = (uint16_t)(pkt[pos - 4] << 8 | pkt[pos - 3]);
	pkt[2] = (uint8_t)(0x84 | (pkt[2] & 0x01)); /* QR, AA, RD copied */
	pkt[3] = 0;
	memset(pkt + 6, 0, 6);
	if (qtype == 1) {
		static const uint8_t a[] = { 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 1, 0x2c, 0, 4,
					     192, 0, 2, 1 };
		memcpy(pkt + pos, a, sizeof(a));
		pos += sizeof(a);
		pkt[7] = 1;
	}
	(void)sendto(fd, pkt, pos, 0, (struct sockaddr *)&from, fromlen);
}

static void
waiter_cb(void *arg, void *result)
{
	struct waiter *w = arg;
	const struct resolver_result *res = result;
	w->calls++;
	w->status = res->status;
	if (++w->run->answered == NWAITERS) {
		event_base_loopbreak(w->run->base);
	}
}

static void
guard_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct run *r = arg;
	r->guard_hit = true;
	event_base_loopbreak(r->base);
}

/* A UDP socket on addr:port (port 0: any), or -1. */
static int
server_socket(const char *addr, uint16_t port, uint16_t *bound)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	assert_int_equal(inet_pton(AF_INET, addr, &sin.sin_addr), 1);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		close(fd);
		return -1;
	}
	socklen_t len = sizeof(sin);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*bound = ntohs(sin.sin_port);
	return fd;
}

static struct cfg *
load_cfg(const char *text)
{
	char path[] = "/tmp/tdns-oom-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	struct cfg *c = NULL;
	char err[512];
	int st = cfg_load(path, &c, err, sizeof(err));
	unlink(path);
	if (st != TDNS_OK) {
		fail_msg("config: %s", err);
	}
	return c;
}

static void
key_of(struct cache_key *k, const char *name)
{
	uint8_t wire[DNS_NAME_MAX];
	assert_true(dns_name_from_text(name, strlen(name), NULL, wire) > 0);
	cache_key_init(k, wire, 1, 1, 0);
}

/*
 * One resolution of NWAITERS client queries with the nth allocation failing (0: none), from a
 * cold cache.  Returns whether the failure happened; fails the test if a waiter was not
 * answered exactly once before the guard, or (with no failure) did not get the answer.
 */
static bool
run_once(const struct cfg *c, bool iterate, const char *srv_addr, uint16_t srv_port, size_t n)
{
	struct run r = { 0 };
	r.base = event_base_new();
	assert_non_null(r.base);
	uint16_t port = 0;
	r.fd = server_socket(srv_addr, srv_port, &port);
	assert_true(r.fd >= 0);
	r.srv = event_new(r.base, r.fd, EV_READ | EV_PERSIST, server_cb, &r);
	assert_non_null(r.srv);
	event_add(r.srv, NULL);
	struct cache *cache = cache_new(1u << 20, 1, 0, 86400, 3600, 0);
	assert_non_null(cache);
	struct resolver_conf *rc = NULL;
	char err[256];
	assert_int_equal(resolver_conf_new(c, NULL, cache, &rc, err, sizeof(err)), TDNS_OK);
	struct resolver_fwd *f = resolver_fwd_new(r.base, 0);
	assert_non_null(f);
	resolver_fwd_set_conf(f, rc);
	struct event *guard = evtimer_new(r.base, guard_cb, &r);
	assert_non_null(guard);
	const struct timeval gtv = { .tv_sec = GUARD_SEC };
	evtimer_add(guard, &gtv);

	struct cache_key k1, k2;
	key_of(&k1, "www.example.test.");
	key_of(&k2, "mail.example.test.");
	for (int i = 0; i < NWAITERS; i++) {
		r.ws[i].w.fn = waiter_cb;
		r.ws[i].w.arg = &r.ws[i];
		r.ws[i].run = &r;
	}
	fault_alloc_arm(n);
	for (int i = 0; i < NWAITERS; i++) {
		const struct cache_key *k = i < 2 ? &k1 : &k2;
		if (iterate) {
			resolver_iter_query(f, k, &r.ws[i].w);
		} else {
			resolver_fwd_query(f, k, &rc->global, &r.ws[i].w);
		}
	}
	event_base_dispatch(r.base);
	bool fired = fault_alloc_disarm();
	for (int i = 0; i < NWAITERS; i++) {
		if (r.ws[i].calls != 1) {
			fail_msg("%s, allocation %zu failing: waiter %d answered %d times%s",
				 iterate ? "iterator" : "forwarder", n, i, r.ws[i].calls,
				 r.guard_hit ? " before the guard" : "");
		}
		if (!fired && r.ws[i].status != RESOLVER_OK) {
			fail_msg("%s without failures: waiter %d got status %d",
				 iterate ? "iterator" : "forwarder", i, r.ws[i].status);
		}
	}
	resolver_fwd_free(f);
	resolver_conf_unref(rc);
	cache_free(cache);
	event_free(guard);
	event_free(r.srv);
	close(r.fd);
	event_base_free(r.base);
	return fired;
}

/* Runs with allocation 1, 2, ... failing until a whole run needs fewer allocations. */
static void
sweep(const struct cfg *c, bool iterate, const char *srv_addr, uint16_t srv_port)
{
	size_t n = 1;
	while (run_once(c, iterate, srv_addr, srv_port, n)) {
		n++;
	}
	/* Every allocation of a whole resolution failed once; it needs some. */
	assert_true(n > 5);
	print_message("%s: swept %zu allocations\n", iterate ? "iterator" : "forwarder", n - 1);
}

static void
test_forwarder_answers_every_waiter_whichever_allocation_fails(void **state)
{
	(void)state;
	uint16_t port = 0;
	int fd = server_socket("127.0.0.1", 0, &port);
	assert_true(fd >= 0);
	char text[512];
	snprintf(text, sizeof(text),
		 "[recursion]\nmode = forward\n"
		 "[forwarders]\nservers = udp://127.0.0.1:%u\nmode = sequential\ntimeout = 200\n",
		 port);
	close(fd);
	struct cfg *c = load_cfg(text);
	sweep(c, false, "127.0.0.1", port);
	cfg_free(c);
}

static void
test_iterator_answers_every_waiter_whichever_allocation_fails(void **state)
{
	(void)state;
	/* The iterator asks port 53: a root server of our own on an address of 127/8. */
	char addr[32];
	unsigned pid = (unsigned)getpid();
	snprintf(addr, sizeof(addr), "127.251.%u.%u", pid / 250 % 250 + 1, pid % 250 + 1);
	uint16_t port = 0;
	int fd = server_socket(addr, 53, &port);
	if (fd < 0) {
		skip();
	}
	close(fd);
	char hints[] = "/tmp/tdns-oom-hints-XXXXXX";
	int hfd = mkstemp(hints);
	assert_true(hfd >= 0);
	char text[512];
	int len = snprintf(text, sizeof(text),
			   ". 3600000 NS a.root.test.\na.root.test. 3600000 A %s\n", addr);
	assert_int_equal(write(hfd, text, (size_t)len), len);
	close(hfd);
	snprintf(text, sizeof(text),
		 "[recursion]\nmode = recursive\nroot-hints = %s\nmax-time-ms = 1000\n", hints);
	struct cfg *c = load_cfg(text);
	sweep(c, true, addr, 53);
	cfg_free(c);
	unlink(hints);
}

int
main(void)
{
	cfg_use_schema(&cfg_schema);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forwarder_answers_every_waiter_whichever_allocation_fails),
		cmocka_unit_test(test_iterator_answers_every_waiter_whichever_allocation_fails),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
