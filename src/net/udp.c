/* SPDX-License-Identifier: MIT */
/* UDP listener: batched recvmmsg/sendmmsg, replies sent from the address the query came to. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/net.h"

/* Room for one packet-info control message of either family and the kernel's timestamp. */
#define CTL_SIZE ((CMSG_SPACE(sizeof(struct in6_pktinfo)) > CMSG_SPACE(sizeof(struct in_pktinfo)) \
		   ? CMSG_SPACE(sizeof(struct in6_pktinfo)) : CMSG_SPACE(sizeof(struct in_pktinfo))) \
		  + CMSG_SPACE(sizeof(struct timespec)))
/* Control buffers are spaced so each one stays aligned for struct cmsghdr. */
#define CTL_STRIDE ((CTL_SIZE + 15) & ~(size_t)15)
/* Room for the packet-info control message of a deferred reply. */
#define CTL_KEEP_MAX 64

/* A query in the batch, for the keep callback: the socket and the reply's control message. */
struct udp_src {
	struct net_udp *u;
	const uint8_t *ctl;
	size_t ctllen;
};

/* What a deferred reply needs once the batch is gone. */
struct udp_deferred {
	struct net_udp *u;
	struct sockaddr_storage peer;
	socklen_t peerlen;
	_Alignas(struct cmsghdr) uint8_t ctl[CTL_KEEP_MAX];
	size_t ctllen;
};

static void *udp_keep(const struct net_client *cl);
static void udp_deliver(void *handle, const uint8_t *msg, size_t len);

int
net_udp_buffers_new(struct net_worker *w, size_t udp_max)
{
	size_t n = NET_UDP_BATCH;
	w->sbuf_size = udp_max < DNS_UDP_MIN ? DNS_UDP_MIN : udp_max;
	if (w->sbuf_size > DNS_MSG_MAX) {
		w->sbuf_size = DNS_MSG_MAX;
	}
	w->rmsg = calloc(n, sizeof(*w->rmsg));
	w->smsg = calloc(n, sizeof(*w->smsg));
	w->riov = calloc(n, sizeof(*w->riov));
	w->siov = calloc(n, sizeof(*w->siov));
	w->peer = calloc(n, sizeof(*w->peer));
	w->rctl = aligned_alloc(16, n * CTL_STRIDE);
	w->sctl = aligned_alloc(16, n * CTL_STRIDE);
	w->rbuf = malloc(n * NET_UDP_RECV_MAX);
	w->sbuf = malloc(n * w->sbuf_size);
	if (w->rmsg == NULL || w->smsg == NULL || w->riov == NULL || w->siov == NULL ||
	    w->peer == NULL || w->rctl == NULL || w->sctl == NULL || w->rbuf == NULL ||
	    w->sbuf == NULL) {
		net_udp_buffers_free(w);
		return TDNS_ENOMEM;
	}
	return TDNS_OK;
}

void
net_udp_buffers_free(struct net_worker *w)
{
	free(w->rmsg);
	free(w->smsg);
	free(w->riov);
	free(w->siov);
	free(w->peer);
	free(w->rctl);
	free(w->sctl);
	free(w->rbuf);
	free(w->sbuf);
	w->rmsg = w->smsg = NULL;
	w->riov = w->siov = NULL;
	w->peer = NULL;
	w->rctl = w->sctl = w->rbuf = w->sbuf = NULL;
}

static bool
is_wildcard(const struct sockaddr *addr)
{
	if (addr->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)addr;
		return sin->sin_addr.s_addr == htonl(INADDR_ANY);
	}
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)addr;
	return IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr);
}

int
net_udp_socket(const struct sockaddr *addr, socklen_t addrlen, bool *wildcard)
{
	int fd = net_socket_open(addr, SOCK_DGRAM);
	if (fd < 0) {
		return -1;
	}
	int on = 1;
	*wildcard = is_wildcard(addr);
	if (*wildcard) {
		/* We need the destination address of each query to answer from it. */
		int rc = addr->sa_family == AF_INET
				 ? setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on))
				 : setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof(on));
		if (rc < 0) {
			return net_socket_fail(fd);
		}
	}
	/*
	 * The kernel stamps each datagram as it arrives: the stats count a query in that second
	 * even when the worker reads it later.  Read only for batches that may straddle a second
	 * (net_udp_read_cb); without it, the read time.
	 */
	(void)setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
	/* A bigger receive buffer absorbs bursts; the kernel may cap it, which is fine. */
	int rcvbuf = 1 << 20;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(fd, addr, addrlen) < 0) {
		return net_socket_fail(fd);
	}
	return fd;
}

/* Writes one control message (level, type, len bytes of data) at ctl; returns its space. */
static size_t
put_cmsg(uint8_t *ctl, int level, int type, const void *data, size_t len)
{
	struct cmsghdr *o = (struct cmsghdr *)(void *)ctl;
	memset(ctl, 0, CMSG_SPACE(len));
	o->cmsg_level = level;
	o->cmsg_type = type;
	o->cmsg_len = CMSG_LEN(len);
	memcpy(CMSG_DATA(o), data, len);
	return CMSG_SPACE(len);
}

/*
 * When the datagram rm arrived on CLOCK_MONOTONIC: the kernel's stamp moved by the offset of
 * the two clocks at now/real, never later than now; now without a stamp.
 */
static struct timespec
arrival(const struct msghdr *rm, const struct timespec *now, const struct timespec *real)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(rm); c != NULL;
	     c = CMSG_NXTHDR((struct msghdr *)rm, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS) {
			continue;
		}
		struct timespec ts;
		memcpy(&ts, CMSG_DATA(c), sizeof(ts));
		int64_t ns = ((int64_t)ts.tv_sec - real->tv_sec) * 1000000000 +
			     (ts.tv_nsec - real->tv_nsec);
		if (ns >= 0) {
			return *now;
		}
		int64_t at = (int64_t)now->tv_sec * 1000000000 + now->tv_nsec + ns;
		if (at < 0) {
			return *now;
		}
		return (struct timespec){ .tv_sec = at / 1000000000, .tv_nsec = at % 1000000000 };
	}
	return *now;
}

/*
 * Turns the packet info received with a query into the control message that makes the reply
 * leave from the same address.  Returns the control length to send, 0 if there was none.
 */
static size_t
reply_pktinfo(const struct msghdr *rm, uint8_t *ctl)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(rm); c != NULL;
	     c = CMSG_NXTHDR((struct msghdr *)rm, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			/* Source: the address the query was sent to; the route picks the link. */
			pi.ipi_spec_dst = pi.ipi_addr;
			pi.ipi_ifindex = 0;
			return put_cmsg(ctl, IPPROTO_IP, IP_PKTINFO, &pi, sizeof(pi));
		}
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;
			/* Keep the interface index: link-local sources need it. */
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			return put_cmsg(ctl, IPPROTO_IPV6, IPV6_PKTINFO, &pi, sizeof(pi));
		}
	}
	return 0;
}

static bool
source_port_zero(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		return ((const struct sockaddr_in *)(const void *)ss)->sin_port == 0;
	}
	if (ss->ss_family == AF_INET6) {
		return ((const struct sockaddr_in6 *)(const void *)ss)->sin6_port == 0;
	}
	return true;
}

static void
send_all(struct net_udp *u, struct mmsghdr *msgs, unsigned n)
{
	unsigned done = 0;
	while (done < n) {
		int rc = sendmmsg(u->fd, msgs + done, n - done, 0);
		if (rc < 0) {
			if (errno == EINTR) {
				continue;
			}
			/*
			 * The first remaining datagram failed (EAGAIN when the socket buffer is
			 * full, or a per-destination error): drop it and carry on with the rest,
			 * as a lost UDP reply would be.
			 */
			tdns_debug("udp %s: send: %s", u->text, strerror(errno));
			done++;
			continue;
		}
		done += (unsigned)rc;
	}
}

void
net_udp_read_cb(int fd, short what, void *arg)
{
	struct net_udp *u = arg;
	struct net_worker *w = u->w;
	(void)what;

	/*
	 * One clock read per batch, before the read.  Datagrams still queued arrived in second
	 * u->settled or later; while the clock is still in that second, the batch arrived in it.
	 * Only a batch that may straddle a second boundary (the worker was late, or a second began
	 * since the socket was last empty) asks for the kernel's receive stamps: they cost a
	 * control message per datagram.
	 */
	struct timespec now, real;
	clock_gettime(CLOCK_MONOTONIC, &now);
	bool stamps = u->settled != (int64_t)now.tv_sec;
	bool want_ctl = stamps || u->wildcard;
	for (unsigned i = 0; i < NET_UDP_BATCH; i++) {
		w->riov[i].iov_base = w->rbuf + (size_t)i * NET_UDP_RECV_MAX;
		w->riov[i].iov_len = NET_UDP_RECV_MAX;
		struct msghdr *m = &w->rmsg[i].msg_hdr;
		m->msg_name = &w->peer[i];
		m->msg_namelen = sizeof(w->peer[i]);
		m->msg_iov = &w->riov[i];
		m->msg_iovlen = 1;
		m->msg_control = want_ctl ? w->rctl + (size_t)i * CTL_STRIDE : NULL;
		m->msg_controllen = want_ctl ? CTL_STRIDE : 0;
		m->msg_flags = 0;
	}
	int n = recvmmsg(fd, w->rmsg, NET_UDP_BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* Empty after now: what comes next arrives in now's second or later. */
			u->settled = (int64_t)now.tv_sec;
		} else if (n < 0 && errno != EINTR) {
			tdns_debug("udp %s: receive: %s", u->text, strerror(errno));
		}
		return;
	}
	if (stamps) {
		/* The offset of the kernel's stamps (CLOCK_REALTIME) to the monotonic clock. */
		clock_gettime(CLOCK_REALTIME, &real);
	}
	unsigned nout = 0;
	struct timespec at = now;
	for (int i = 0; i < n; i++) {
		struct msghdr *rm = &w->rmsg[i].msg_hdr;
		at = stamps ? arrival(rm, &now, &real) : now;
		w->qstart = at;
		w->stats.udp++;
		/* Oversized datagrams are cut by the kernel; a port of 0 cannot be answered. */
		if ((rm->msg_flags & MSG_TRUNC) != 0 || source_port_zero(&w->peer[i])) {
			stats_count_rcode(&w->stats, -1);
			stats_note_dropped(w->sw, &w->qstart);
			continue;
		}
		uint8_t *out = w->sbuf + (size_t)nout * w->sbuf_size;
		uint8_t *ctl = w->sctl + (size_t)nout * CTL_STRIDE;
		size_t clen = u->wildcard ? reply_pktinfo(rm, ctl) : 0;
		struct udp_src src = { .u = u, .ctl = ctl, .ctllen = clen };
		struct net_client cl = {
			.peer = (const struct sockaddr *)&w->peer[i], .peerlen = rm->msg_namelen,
			.transport = STATS_TRANSPORT_UDP, .keep = udp_keep, .deliver = udp_deliver,
			.ctx = &src,
		};
		int rcode;
		size_t rlen = w->handler->query(w->qctx, w->riov[i].iov_base, w->rmsg[i].msg_len,
						out, w->sbuf_size, &cl, &rcode);
		if (rcode == NET_RCODE_DEFERRED) {
			/* Answered when the upstream answer arrives, and counted then. */
			continue;
		}
		stats_count_rcode(&w->stats, rcode);
		if (rcode >= 0) {
			stats_count_qtype(&w->stats, w->riov[i].iov_base, w->rmsg[i].msg_len);
			stats_note_reply(w->sw, out, rlen);
			stats_note_packet(w->sw, cl.peer, w->riov[i].iov_base, w->rmsg[i].msg_len,
					  rcode, w->qkind, STATS_TRANSPORT_UDP, &w->qstart);
		} else {
			stats_note_dropped(w->sw, &w->qstart);
		}
		if (rlen == 0) {
			continue;
		}
		if ((tdns_get16(out + 2) & DNS_FLAG_TC) != 0) {
			w->stats.truncated++;
		}
		w->siov[nout].iov_base = out;
		w->siov[nout].iov_len = rlen;
		struct msghdr *sm = &w->smsg[nout].msg_hdr;
		sm->msg_name = &w->peer[i];
		sm->msg_namelen = rm->msg_namelen;
		sm->msg_iov = &w->siov[nout];
		sm->msg_iovlen = 1;
		sm->msg_flags = 0;
		sm->msg_control = NULL;
		sm->msg_controllen = 0;
		if (clen > 0) {
			sm->msg_control = ctl;
			sm->msg_controllen = clen;
		}
		nout++;
	}
	if (n < NET_UDP_BATCH) {
		/* recvmmsg stopped at an empty queue, after now. */
		u->settled = (int64_t)now.tv_sec;
	} else if (stamps) {
		/* The datagrams still queued came after the last one read (the queue is FIFO). */
		u->settled = (int64_t)at.tv_sec;
	}
	if (nout > 0) {
		send_all(u, w->smsg, nout);
	}
}

/* The client's keep callback: copies the address and control message the reply needs. */
static void *
udp_keep(const struct net_client *cl)
{
	const struct udp_src *src = cl->ctx;
	struct udp_deferred *d = calloc(1, sizeof(*d));
	if (d == NULL) {
		return NULL;
	}
	d->u = src->u;
	if (cl->peer != NULL && cl->peerlen <= sizeof(d->peer)) {
		memcpy(&d->peer, cl->peer, cl->peerlen);
		d->peerlen = cl->peerlen;
	}
	if (src->ctllen <= sizeof(d->ctl)) {
		memcpy(d->ctl, src->ctl, src->ctllen);
		d->ctllen = src->ctllen;
	}
	return d;
}

/* A deferred reply (NULL: abandoned, nothing to send) from the socket the query came in on. */
static void
udp_deliver(void *handle, const uint8_t *msg, size_t len)
{
	struct udp_deferred *d = handle;
	struct net_udp *u = d->u;
	if (msg != NULL && len > 0) {
		if ((tdns_get16(msg + 2) & DNS_FLAG_TC) != 0) {
			u->w->stats.truncated++;
		}
		struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
		struct msghdr m = {
			.msg_name = &d->peer, .msg_namelen = d->peerlen, .msg_iov = &iov,
			.msg_iovlen = 1,
		};
		if (d->ctllen > 0) {
			m.msg_control = d->ctl;
			m.msg_controllen = d->ctllen;
		}
		if (sendmsg(u->fd, &m, 0) < 0) {
			tdns_debug("udp %s: send: %s", u->text, strerror(errno));
		}
	}
	free(d);
}
