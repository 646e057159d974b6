/* SPDX-License-Identifier: MIT */
/* The stream-connection base shared by TCP, DoT, DoH and the control socket. */
#ifndef TDNS_NET_CONN_H
#define TDNS_NET_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>

struct bufferevent;
struct event;
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
	/*
	 * Frees the structure that embeds c, once it is closed and the last reference gone; NULL
	 * when that is a plain free() of c (the structure begins with c and owns nothing more).
	 */
	void (*free)(struct net_conn *c);
	/* Whether nothing is half-done at the protocol's level (NULL: nothing to add). */
	bool (*idle)(const struct net_conn *c);
	/* A message missed its deadline (net_conn_msg_begin); c is closed next.  May be NULL. */
	void (*late)(struct net_conn *c);
};

/* A list of open connections, least recently active first, and its length. */
TAILQ_HEAD(net_conn_list, net_conn);

struct net_conn_set {
	struct net_conn_list list;
	unsigned n;
	unsigned ndead;               /* closed but still held by deferred replies */
};

/*
 * Deferred replies one stream connection may have outstanding (RFC 7766 §6.2.1.1 lets a
 * client pipeline; nothing obliges us to read without bound).  At the cap the connection
 * stops reading and resumes as replies go out, as an HTTP/2 client is refused streams.
 */
#define NET_CONN_PENDING_MAX 100

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
	bool counted_dead;            /* closed with replies pending: in set->ndead */
	struct event *deadline;       /* the current message's deadline, or NULL */
	bool in_msg;                  /* deadline armed: a message is begun and unfinished */
	unsigned msg_secs;            /* seconds a message may take (0: no deadline) */
	struct timespec msg_start;    /* CLOCK_MONOTONIC when the current message began */
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

/*
 * Sets both timeouts of c's bufferevent to secs (the idle timeout) and the time a message may
 * take from its first octet (net_conn_msg_begin) to the same; 0 turns them off.
 */
void net_conn_set_idle(struct net_conn *c, unsigned secs);

/*
 * Sets only the time a message may take (net_conn_msg_begin) to secs, 0: none; the
 * bufferevent's timeouts stay as they are.  For a protocol that sets those itself per state
 * (the control socket); takes effect from the next message.
 */
void net_conn_set_msg_limit(struct net_conn *c, unsigned secs);

/*
 * Slowloris (issue 13): a message (a frame, a request head, a TLS handshake) has begun.  The
 * first call arms a deadline of the idle timeout from now; later calls do not move it, so a
 * client that sends one octet at a time cannot hold the connection.  When it passes, c is
 * closed.  Does nothing without a timeout or once c is closed.
 */
void net_conn_msg_begin(struct net_conn *c);

/* The message is complete (or the server owes the client something): disarms the deadline. */
void net_conn_msg_end(struct net_conn *c);

/*
 * For a protocol's event callback: what (BEV_EVENT_*) is the read (idle) timeout while c
 * still owes deferred replies.  RFC 7766 §6.2.3: a connection with queries outstanding is not
 * idle; their resolution is bounded in time, and an unfinished message by its own deadline.
 * Then reading is enabled again (libevent disables it on a timeout) and true is returned:
 * the caller keeps c open.  false for anything else.
 */
bool net_conn_timeout_pending(struct net_conn *c, short what);

/* Connections of set, open or closed with replies pending: what the connection limit counts. */
unsigned net_conn_count(const struct net_conn_set *set);

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
 * socket), marks it dead and drops the open connection's reference.  Until its last deferred
 * reply drops the last reference it still counts in net_conn_count, so closing and
 * reconnecting does not get round the connection limit.  Idempotent.  c may be freed on
 * return unless the caller holds a reference.
 */
void net_conn_close(struct net_conn *c);

/* Closes the least recently active idle connection of set; false when none is idle. */
bool net_conn_evict_idle(struct net_conn_set *set);

/*
 * The connection of the sets a and b (b may be NULL) whose unfinished message began first,
 * or NULL when none has one.  The caller closes it to make room (slowloris, issue 13).
 */
struct net_conn *net_conn_oldest_incomplete(struct net_conn_set *a, struct net_conn_set *b);

/* Closes every connection of set (at shutdown). */
void net_conn_close_all(struct net_conn_set *set);

#endif
