/* SPDX-License-Identifier: MIT */
/* The stream-connection base shared by TCP, DoT, DoH and the control socket. */
#ifndef TDNS_NET_CONN_H
#define TDNS_NET_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/queue.h>
#include <sys/socket.h>

struct bufferevent;
struct net_conn;

/*
 * What a protocol adds to the base.  A protocol's connection embeds a struct net_conn and
 * gives these; the base calls them, never the protocol's other code.
 */
struct net_conn_ops {
	/*
	 * Protocol teardown in net_conn_close while the bufferevent still exists (TLS
	 * close_notify, the HTTP/2 session, open streams, a control stream); may be NULL.
	 */
	void (*close)(struct net_conn *c);
	/* Frees the structure that embeds c, once it is closed and the last reference gone. */
	void (*free)(struct net_conn *c);
	/* Whether nothing is half-done at the protocol's level (NULL: nothing to add). */
	bool (*idle)(const struct net_conn *c);
};

/* A list of open connections, least recently active first, and its length. */
TAILQ_HEAD(net_conn_list, net_conn);

struct net_conn_set {
	struct net_conn_list list;
	unsigned n;
};

/*
 * One stream connection.  It is reference-counted: the open connection holds one reference
 * and every deferred reply (a query still being resolved) one more.  net_conn_close frees
 * the bufferevent, takes the connection off its set and marks it dead; the last
 * net_conn_unref frees it.  So a deferred reply always finds its connection, dead or alive.
 */
struct net_conn {
	TAILQ_ENTRY(net_conn) link;   /* in set->list while open */
	struct net_conn_set *set;
	const struct net_conn_ops *ops;
	struct bufferevent *bev;      /* NULL once closed */
	unsigned refs;
	bool dead;                    /* closed; lives on until the last reference goes */
	bool paused;                  /* reading stopped until the client reads its replies */
	bool closing;                 /* no new requests: close once the replies are written */
	bool eof;                     /* the client closed its sending side */
	struct sockaddr_storage peer; /* the client (empty for a Unix socket) */
	socklen_t peerlen;
};

/* Makes set empty. */
void net_conn_set_init(struct net_conn_set *set);

/*
 * Starts c (zeroed by the caller, or embedded in a zeroed structure) on bev, which it now
 * owns, with one reference, at the tail of set.  peer (may be NULL) is copied when it fits.
 * The caller sets the bufferevent's callbacks and enables it.
 */
void net_conn_init(struct net_conn *c, struct net_conn_set *set, const struct net_conn_ops *ops,
		   struct bufferevent *bev, const struct sockaddr *peer, socklen_t peerlen);

/* Sets both timeouts of c's bufferevent to secs (the idle timeout); 0 turns them off. */
void net_conn_set_idle(struct net_conn *c, unsigned secs);

/* Marks activity: c moves to the tail of its set.  Does nothing once c is closed. */
void net_conn_touch(struct net_conn *c);

/* Octets waiting in c's output buffer (0 once closed). */
size_t net_conn_out_len(const struct net_conn *c);

/* Deferred replies that still hold c (references beyond the open connection's own). */
unsigned net_conn_pending(const struct net_conn *c);

/*
 * Idle (RFC 7766 §6.2.3): open, no deferred reply, nothing half-read, no reply waiting to be
 * written, and idle for the protocol.
 */
bool net_conn_idle(const struct net_conn *c);

/* Takes a reference (for a deferred reply); returns c. */
struct net_conn *net_conn_ref(struct net_conn *c);

/* Drops a reference; the last one of a closed connection frees it (ops->free). */
void net_conn_unref(struct net_conn *c);

/*
 * Closes c: takes it off its set, runs ops->close, frees the bufferevent (closing the
 * socket), marks it dead and drops the open connection's reference.  Idempotent.  c may be
 * freed on return unless the caller holds a reference.
 */
void net_conn_close(struct net_conn *c);

/* Closes the least recently active idle connection of set; false when none is idle. */
bool net_conn_evict_idle(struct net_conn_set *set);

/* Closes every connection of set (at shutdown). */
void net_conn_close_all(struct net_conn_set *set);

#endif
