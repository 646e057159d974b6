/* SPDX-License-Identifier: MIT */
/* The iterator's exchanges: one query to one server over UDP or TCP, with a timeout. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <sodium.h>

#include "core/core.h"
#include "resolver/iter_int.h"

struct iter_io {
	iter_io_cb cb;
	void *arg;
	bool exact;                 /* 0x20: the answer's question must match case for case */
	int fd;
	struct event *ev;
	struct event *timer;
	struct bufferevent *bev;
	size_t qlen;
	uint8_t q[ITER_IO_QMAX];
};

socklen_t
iter_io_sockaddr(const struct resolver_addr *a, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(ITER_PORT);
		memcpy(&sin->sin_addr, a->ip, 4);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(ITER_PORT);
	memcpy(&sin6->sin6_addr, a->ip, 16);
	return sizeof(*sin6);
}

/* RFC 5452 §9.1: the answer must match ID, question and (with 0x20) the exact case sent. */
static bool
answer_matches(const struct iter_io *x, const uint8_t *pkt, size_t len)
{
	if (len < DNS_HDR_LEN || memcmp(pkt, x->q, 2) != 0 || (pkt[2] & 0x80) == 0 ||
	    tdns_get16(pkt + 4) != 1) {
		return false;
	}
	/* The question of our query runs from the header to its OPT (if any). */
	size_t qn = dns_name_len(x->q + DNS_HDR_LEN) + 4;
	size_t qend = DNS_HDR_LEN + qn;
	if (len < qend) {
		return false;
	}
	if (x->exact) {
		return memcmp(pkt + DNS_HDR_LEN, x->q + DNS_HDR_LEN, qn) == 0;
	}
	size_t pos = DNS_HDR_LEN;
	uint8_t name[DNS_NAME_MAX];
	if (dns_name_unpack(pkt, len, &pos, name) < 0 || pos + 4 > len) {
		return false;
	}
	return dns_name_eq(name, x->q + DNS_HDR_LEN) &&
	       memcmp(pkt + pos, x->q + qend - 4, 4) == 0;
}

static void
timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct iter_io *x = arg;
	(void)fd;
	(void)what;
	x->cb(x->arg, ITER_IO_TIMEOUT, NULL, 0);
}

static void
udp_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct iter_io *x = arg;
	uint8_t buf[DNS_MSG_MAX];
	(void)what;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
				return;
			}
			/* ICMP port unreachable and the like (RFC 1122 §4.1.3.3). */
			x->cb(x->arg, ITER_IO_ERROR, NULL, 0);
			return;
		}
		if (answer_matches(x, buf, (size_t)n)) {
			x->cb(x->arg, ITER_IO_ANSWER, buf, (size_t)n);
			return;
		}
		/* RFC 5452 §9.1: anything else is ignored; the real answer may still come. */
	}
}

static void
tcp_read_cb(struct bufferevent *bev, void *arg)
{
	struct iter_io *x = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	uint8_t hdr[2];
	if (evbuffer_copyout(in, hdr, 2) != 2) {
		return;
	}
	size_t mlen = tdns_get16(hdr);
	if (evbuffer_get_length(in) < 2 + mlen) {
		return;
	}
	uint8_t *buf = malloc(2 + mlen);
	if (buf == NULL || evbuffer_remove(in, buf, 2 + mlen) != (int)(2 + mlen) ||
	    !answer_matches(x, buf + 2, mlen)) {
		free(buf);
		x->cb(x->arg, ITER_IO_ERROR, NULL, 0);
		return;
	}
	/* The callback may free x (and with it bev): buf is ours until then. */
	x->cb(x->arg, ITER_IO_ANSWER, buf + 2, mlen);
	free(buf);
}

static void
tcp_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if ((what & (BEV_EVENT_ERROR | BEV_EVENT_EOF)) != 0) {
		struct iter_io *x = arg;
		x->cb(x->arg, ITER_IO_ERROR, NULL, 0);
	}
}

/* A UDP socket on a random port (RFC 5452 §9.2), from the outgoing address if configured. */
static int
udp_socket(const struct resolver_iter_conf *ic, const struct resolver_addr *a)
{
	int fd = socket(a->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -1;
	}
	const struct resolver_addr *src = a->family == AF_INET ? &ic->out4 : &ic->out6;
	struct sockaddr_storage local;
	socklen_t llen;
	if (src->family != 0) {
		llen = iter_io_sockaddr(src, &local);
	} else {
		memset(&local, 0, sizeof(local));
		local.ss_family = a->family;
		llen = a->family == AF_INET ? sizeof(struct sockaddr_in)
					    : sizeof(struct sockaddr_in6);
	}
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
	struct sockaddr_storage ss;
	socklen_t sslen = iter_io_sockaddr(a, &ss);
	/* Connected: the kernel drops datagrams from other sources. */
	if (connect(fd, (struct sockaddr *)&ss, sslen) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A TCP socket bound to the outgoing address, if one is configured; else -1 (libevent's). */
static evutil_socket_t
tcp_socket(const struct resolver_iter_conf *ic, const struct resolver_addr *a)
{
	const struct resolver_addr *src = a->family == AF_INET ? &ic->out4 : &ic->out6;
	if (src->family == 0) {
		return -1;
	}
	int fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -1;
	}
	struct sockaddr_storage local;
	socklen_t llen = iter_io_sockaddr(src, &local);
	if (local.ss_family == AF_INET) {
		((struct sockaddr_in *)&local)->sin_port = 0;
	} else {
		((struct sockaddr_in6 *)&local)->sin6_port = 0;
	}
	if (bind(fd, (struct sockaddr *)&local, llen) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool
udp_start(struct iter_io *x, struct event_base *base, const struct resolver_iter_conf *ic,
	  const struct resolver_addr *a)
{
	x->fd = udp_socket(ic, a);
	return x->fd >= 0 && send(x->fd, x->q, x->qlen, 0) == (ssize_t)x->qlen &&
	       (x->ev = event_new(base, x->fd, EV_READ | EV_PERSIST, udp_read_cb, x)) != NULL &&
	       event_add(x->ev, NULL) == 0;
}

static bool
tcp_start(struct iter_io *x, struct event_base *base, const struct resolver_iter_conf *ic,
	  const struct resolver_addr *a)
{
	struct sockaddr_storage ss;
	socklen_t sslen = iter_io_sockaddr(a, &ss);
	uint8_t len[2];
	tdns_put16(len, (uint16_t)x->qlen);
	x->bev = bufferevent_socket_new(base, tcp_socket(ic, a), BEV_OPT_CLOSE_ON_FREE);
	if (x->bev == NULL ||
	    bufferevent_socket_connect(x->bev, (struct sockaddr *)&ss, (int)sslen) != 0) {
		return false;
	}
	bufferevent_setcb(x->bev, tcp_read_cb, NULL, tcp_event_cb, x);
	return bufferevent_write(x->bev, len, 2) == 0 &&
	       bufferevent_write(x->bev, x->q, x->qlen) == 0 &&
	       bufferevent_enable(x->bev, EV_READ) == 0;
}

struct iter_io *
iter_io_start(struct event_base *base, const struct resolver_iter_conf *ic,
	      const struct resolver_addr *a, bool tcp, const uint8_t *q, size_t qlen,
	      unsigned timeout_ms, iter_io_cb cb, void *arg)
{
	if (qlen > ITER_IO_QMAX) {
		return NULL;
	}
	struct iter_io *x = calloc(1, sizeof(*x));
	if (x == NULL) {
		return NULL;
	}
	x->cb = cb;
	x->arg = arg;
	x->exact = ic->case_random;
	x->fd = -1;
	x->qlen = qlen;
	memcpy(x->q, q, qlen);
	x->timer = evtimer_new(base, timeout_cb, x);
	bool ok = x->timer != NULL && (tcp ? tcp_start(x, base, ic, a) : udp_start(x, base, ic, a));
	if (!ok) {
		iter_io_free(x);
		return NULL;
	}
	const struct timeval tv = { .tv_sec = timeout_ms / 1000,
				    .tv_usec = (timeout_ms % 1000) * 1000 };
	evtimer_add(x->timer, &tv);
	return x;
}

void
iter_io_free(struct iter_io *x)
{
	if (x == NULL) {
		return;
	}
	if (x->ev != NULL) {
		event_free(x->ev);
	}
	if (x->timer != NULL) {
		event_free(x->timer);
	}
	if (x->fd >= 0) {
		close(x->fd);
	}
	if (x->bev != NULL) {
		bufferevent_free(x->bev);
	}
	free(x);
}
