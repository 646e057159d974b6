/* SPDX-License-Identifier: MIT */
/* Unit tests for src/net/outgoing.c: the per-thread cap on open outgoing UDP queries (issue 13). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include <event2/event.h>

#include "net/client.h"
#include "net/outgoing.h"

/* ". SOA IN" with ID 0 and RD: net_out_send replaces the ID. */
static const uint8_t QUERY[] = {
	0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 1,
};

static void
never_called(void *arg, const struct net_out_result *r)
{
	(void)r;
	(*(int *)arg)++;
}

/* A UDP socket on 127.0.0.1 that never reads: the server the queries wait for. */
static int
silent_server(struct client_server *srv)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	socklen_t len = sizeof(sin);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	client_server_from_addr(srv, CLIENT_UDP, AF_INET, (const uint8_t *)&sin.sin_addr,
				ntohs(sin.sin_port));
	return fd;
}

static void
test_udp_queries_beyond_the_cap_fail_at_once_and_a_freed_slot_is_reused(void **state)
{
	(void)state;
	/* Every query holds a descriptor: room for the cap, the base and the server. */
	struct rlimit rl;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < NET_OUT_UDP_MAX + 64) {
		skip();
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur < NET_OUT_UDP_MAX + 64) {
		rl.rlim_cur = NET_OUT_UDP_MAX + 64;
		assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	}
	struct event_base *base = event_base_new();
	assert_non_null(base);
	struct client_server srv;
	int sfd = silent_server(&srv);
	struct net_out_opts o = { .udp_tries = 1 };
	struct net_out_peer *p = net_out_peer_new(base, &srv, &o);
	assert_non_null(p);

	static struct net_out_query *q[NET_OUT_UDP_MAX];
	int calls = 0;
	for (unsigned i = 0; i < NET_OUT_UDP_MAX; i++) {
		q[i] = net_out_send(p, QUERY, sizeof(QUERY), 0, 60000, never_called, &calls);
		assert_non_null(q[i]);
	}
	/* One more fails at once, with a reason, and opens no socket. */
	int status = 0;
	assert_null(net_out_send(p, QUERY, sizeof(QUERY), 0, 60000, never_called, &calls));
	assert_non_null(strstr(net_out_peer_error(p, &status), "UDP queries already open"));
	assert_int_equal(status, CLIENT_ENET);
	/* A cancelled query gives its slot back. */
	net_out_cancel(q[0]);
	q[0] = net_out_send(p, QUERY, sizeof(QUERY), 0, 60000, never_called, &calls);
	assert_non_null(q[0]);
	for (unsigned i = 0; i < NET_OUT_UDP_MAX; i++) {
		net_out_cancel(q[i]);
	}
	assert_int_equal(calls, 0);
	/* All slots are free again. */
	struct net_out_query *again = net_out_send(p, QUERY, sizeof(QUERY), 0, 60000, never_called,
						   &calls);
	assert_non_null(again);
	net_out_cancel(again);
	net_out_peer_free(p);
	event_base_free(base);
	close(sfd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_udp_queries_beyond_the_cap_fail_at_once_and_a_freed_slot_is_reused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
