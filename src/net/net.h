/* SPDX-License-Identifier: MIT */
/* net: the server side of DNS over UDP, TCP, TLS and HTTP: workers, listeners, streams. */
#ifndef TDNS_NET_H
#define TDNS_NET_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include "cfg/cfg.h"
#include "core/core.h"
#include "dns/dns.h"
#include "filter/filter.h"
#include "net/conn.h"
#include "stats/stats.h"

/* ------------------------------------------------------------------------------------------ */
/* The query handler: how listeners hand packets to the query layer (src/query), set at start-up. */

/* A handler's *rcode when the reply will be sent later (a query forwarded upstream). */
#define NET_RCODE_DEFERRED (-2)

struct net_worker;
struct net_client;

/*
 * Sends a deferred reply msg[0..len) through the handle that the client's keep callback
 * returned, or with (NULL, 0) abandons it (the worker stops, or no reply could be built).
 * Called exactly once per handle, on the worker's thread; the handle is invalid afterwards.
 */
typedef void (*net_deliver_fn)(void *handle, const uint8_t *msg, size_t len);

/*
 * Makes the reply to cl's query deferrable: returns a handle for cl->deliver that stays
 * valid (keeping what the transport needs: the UDP address, a connection reference, the DoH
 * stream) until deliver is called, or NULL when out of memory (the query is then dropped).
 */
typedef void *(*net_keep_fn)(const struct net_client *cl);

/*
 * A reply of many messages (a zone transfer, RFC 5936) that a stream transport pulls as its
 * output drains, so that a large one neither fills memory nor holds the worker.
 */
struct net_feed {
	/*
	 * Writes the next message into out (at most cap octets); returns its length (0: nothing
	 * more to send, or a failure that ends the connection) and sets *more when others
	 * follow.  Called on the worker's thread.
	 */
	size_t (*next)(void *arg, uint8_t *out, size_t cap, bool *more);
	/* Frees arg, once the last message is out or the connection has closed. */
	void (*free)(void *arg);
	void *arg;
};

/*
 * Hands f to the client's connection, which sends its messages in order, reading no further
 * requests until the last is out; the feed counts as a deferred reply of that connection
 * (the connection limits see it, idle eviction skips it).  Returns false when the connection
 * cannot take it (f->free is then not called: the caller still owns f->arg).
 */
typedef bool (*net_feed_fn)(const struct net_client *cl, const struct net_feed *f);

/* Where a query came from, and how its transport answers it later. */
struct net_client {
	const struct sockaddr *peer;  /* for ACLs, stats and logs (a proxy's client for DoH) */
	socklen_t peerlen;
	enum stats_transport transport; /* for the counters and the query log */
	bool stream;                  /* TCP, DoT or DoH: replies up to 65535 octets */
	net_keep_fn keep;             /* the transport's reply callbacks */
	net_deliver_fn deliver;
	net_feed_fn feed;             /* TCP and DoT: multi-message replies; NULL elsewhere */
	void *ctx;                    /* the transport's own, for keep */
};

/*
 * The query layer's entry points, given to net_server_new.  Every call is made on the
 * worker's own thread except worker_new and worker_free (on the thread that creates or frees
 * the server, while the worker does not run).
 */
struct net_handler {
	/* Creates the query state of worker w (its base exists); NULL when out of memory. */
	void *(*worker_new)(void *arg, struct net_worker *w);
	/*
	 * Frees it; called first when the worker is freed, so deferred replies are abandoned
	 * (through their deliver callbacks) while the connections still exist.
	 */
	void (*worker_free)(void *wctx);
	/*
	 * Answers the query pkt[0..len) from cl into out (cap octets): returns the reply length,
	 * or 0 with *rcode = -1 to drop it, or 0 with *rcode = NET_RCODE_DEFERRED when the reply
	 * goes later through cl->keep/cl->deliver (and is counted then).  Otherwise *rcode is the
	 * reply's full rcode and the worker's qkind says where the answer came from.
	 */
	size_t (*query)(void *wctx, const uint8_t *pkt, size_t len, uint8_t *out, size_t cap,
			const struct net_client *cl, int *rcode);
	void *arg;
};

/* ------------------------------------------------------------------------------------------ */
/* The server (server.c): public interface used by tdnsd.c.                                     */

struct net_server;

/*
 * Creates the worker event bases (the caller has enabled libevent's locking with
 * evthread_use_pthreads, which net_server_run_all relies on), the query state of each
 * worker through h (copied), and binds, for every listen address of c and every worker, one
 * UDP socket and one TCP listening socket (SO_REUSEPORT, so the kernel spreads the load).
 * Run it before dropping privileges.  nworkers must be at least 1.  The configuration is
 * only read during the call.  On failure returns TDNS_EIO (bind, socket) or TDNS_ENOMEM with
 * a message naming the address in err.  Caller frees with net_server_free.
 */
int net_server_new(const struct cfg *c, unsigned nworkers, const struct net_handler *h,
		   struct net_server **out, char *err, size_t errlen);

/*
 * Starts the worker threads.  TDNS_OK or TDNS_ENOMEM (thread creation failed; the threads
 * already started are stopped again).
 */
int net_server_start(struct net_server *s);

/*
 * Runs fn(wctx, arg) for every worker with its query state: on the worker's own event base
 * between two queries while the server runs, blocking until all have run it (so on return
 * nothing published before is referenced any more), or directly before net_server_start.
 * Workers never lock on the query path.  Also refreshes the counters net_server_stats reads.
 */
void net_server_run_all(struct net_server *s, void (*fn)(void *wctx, void *arg), void *arg);

/* Stops the workers and joins their threads; idempotent.  Connections are closed. */
void net_server_stop(struct net_server *s);

/*
 * Sums the workers' counters into *total.  While running, each worker's counters are those
 * it had at its last copy (once a second, and at every publish); after net_server_stop, the
 * final ones.
 */
void net_server_stats(struct net_server *s, struct stats_counters *total);

/*
 * Fills *out so that a stats recorder reads s's workers (their query notes and summed
 * counters); valid until net_server_free.
 */
void net_server_stats_source(struct net_server *s, struct stats_source *out);

/* Number of worker threads. */
unsigned net_server_workers(const struct net_server *s);

/*
 * Worker i's query notes (kinds, latency, query ring) for the stats recorder; owned by the
 * server, valid until net_server_free.
 */
struct stats_worker *net_server_stats_worker(struct net_server *s, unsigned i);

/* Stops the server if needed and frees it with all its sockets; accepts NULL. */
void net_server_free(struct net_server *s);

/* ------------------------------------------------------------------------------------------ */
/* The worker shared by server.c, udp.c, tcp.c and http.c (and read by the query handler).      */

struct event_base;
struct event;
struct evconnlistener;
struct bufferevent;
struct mmsghdr;
struct iovec;

#define NET_UDP_BATCH 32          /* datagrams per recvmmsg / sendmmsg */
#define NET_UDP_RECV_MAX 4096     /* largest query datagram we accept */
#define NET_TCP_OUT_HIGH 65536    /* stop reading a connection while this much output waits */

/* One UDP socket of a worker. */
struct net_udp {
	struct net_worker *w;
	int fd;
	int family;
	bool wildcard;            /* bound to 0.0.0.0 or ::, replies need the query's address */
	/*
	 * A CLOCK_MONOTONIC second no datagram still queued on fd arrived before: while the
	 * clock is in it, every queued datagram arrived in it and needs no kernel stamp.
	 */
	int64_t settled;
	struct event *ev;
	const char *text;         /* listen address, for logs (owned by the server) */
};

/* Stream listeners: what an accepted connection speaks. */
enum net_stream_kind {
	NET_STREAM_TCP,           /* DNS over TCP, RFC 7766 */
	NET_STREAM_DOT,           /* DNS over TLS, RFC 7858 (TLS, then TCP framing) */
	NET_STREAM_DOH,           /* DNS over HTTPS, RFC 8484 (TLS, then h2 or http/1.1) */
	NET_STREAM_HTTP,          /* DNS over plain HTTP behind a reverse proxy */
};

/* One listening stream socket of a worker. */
struct net_listener {
	struct net_worker *w;
	enum net_stream_kind kind;
	struct evconnlistener *l;
};

/* Per-worker state; everything here is touched only by the worker's thread while it runs. */
struct net_worker {
	struct net_server *srv;
	const struct net_settings *set; /* the server's, fixed while it runs */
	const struct net_handler *handler; /* the query layer (the server's copy) */
	void *qctx;                /* the handler's state for this worker */
	unsigned id;
	pthread_t thread;
	bool started;
	bool stopping;             /* being freed: its event loop runs no more */
	struct event_base *base;
	struct event *switch_ev;   /* activated by net_server_run_all from the main thread */
	struct net_udp *udp;       /* one per listen address */
	size_t nsock;             /* UDP sockets */
	struct net_listener *streams; /* TCP, DoT, DoH and HTTP listeners */
	size_t nstreams;
	struct net_conn_set conns; /* TCP and DoT connections */
	struct net_conn_set http_conns; /* DoH connections; conns.n + http_conns.n <= tcp_max */
	struct stats_counters stats;
	struct stats_counters stats_shown; /* copied every second and at publish, under srv->lock */
	struct event *stats_ev;    /* the once-a-second copy */
	struct stats_worker *sw;   /* query notes for `stats`, `stats top` and `log` */
	struct timespec qstart;    /* CLOCK_MONOTONIC when the query being answered arrived */
	enum stats_kind qkind;     /* where the handler's last reply came from */
	/* UDP batch: one receive set and one reply set, allocated once. */
	struct mmsghdr *rmsg, *smsg;
	struct iovec *riov, *siov;
	struct sockaddr_storage *peer;
	uint8_t *rctl, *sctl;     /* NET_UDP_BATCH control buffers each */
	uint8_t *rbuf, *sbuf;     /* NET_UDP_BATCH buffers each */
	size_t sbuf_size;         /* bytes per reply buffer */
	/* Streams: one query and one framed reply at a time (also the handler's scratch). */
	uint8_t *tcp_in;          /* DNS_MSG_MAX */
	uint8_t *tcp_out;         /* 2 + DNS_MSG_MAX */
};

/* Settings every worker reads (fixed while the server runs). */
struct net_settings {
	size_t udp_max;           /* cfg udp-max-payload */
	unsigned tcp_idle;        /* seconds */
	unsigned tcp_max;         /* connections per worker, of all stream kinds together */
	char doh_path[256];       /* [doh] path */
	struct filter_acl proxies; /* [doh] trusted-proxies */
	struct net_tls *tls;      /* certificates for DoT and DoH; NULL when neither listens */
	struct dns_ident ident;   /* [server] identity, version, nsid (issue 14) */
};

/* udp.c: allocates w's batch buffers; TDNS_OK or TDNS_ENOMEM. */
int net_udp_buffers_new(struct net_worker *w, size_t udp_max);

/* udp.c: frees what net_udp_buffers_new allocated; accepts a zeroed worker. */
void net_udp_buffers_free(struct net_worker *w);

/*
 * socket.c: a non-blocking, close-on-exec socket of type (SOCK_DGRAM, SOCK_STREAM) for a
 * listener on addr, with SO_REUSEPORT (one socket per worker) and, for IPv6, IPV6_V6ONLY; not
 * bound yet.  Returns the fd or -1 with errno set.
 */
int net_socket_open(const struct sockaddr *addr, int type);

/* socket.c: closes fd after a failed set-up, keeping errno for the caller; returns -1. */
int net_socket_fail(int fd);

/*
 * udp.c: opens and binds one UDP socket for addr with SO_REUSEPORT (and IPV6_V6ONLY, and
 * packet info for wildcard addresses).  Returns the fd or -1 with errno set.
 */
int net_udp_socket(const struct sockaddr *addr, socklen_t addrlen, bool *wildcard);

/* udp.c: the read callback of a UDP socket's event; arg is the struct net_udp. */
void net_udp_read_cb(int fd, short what, void *arg);

/*
 * tcp.c: opens, binds and listens on one TCP socket for addr with SO_REUSEPORT.  Returns the
 * fd or -1 with errno set.
 */
int net_tcp_socket(const struct sockaddr *addr, socklen_t addrlen);

/*
 * tcp.c: the accept callback of every stream listener; arg is its struct net_listener.  Applies
 * the connection limit (evicting an idle connection of the worker when full), then starts a
 * TCP or DoT connection here, or hands a DoH or HTTP one to net_http_conn_new.
 */
void net_tcp_accept_cb(struct evconnlistener *l, int fd, struct sockaddr *sa, int salen,
		       void *arg);

/* ------------------------------------------------------------------------------------------ */
/* TLS (tls.c): the server certificate for DoT and DoH.                                         */

struct net_tls;
struct ssl_st;

/*
 * Loads [tls] certificate (PEM chain with key, or PKCS#12 with [tls] password-file) and key
 * of c into a new context set up for TLS 1.2 and 1.3 with session resumption.  TDNS_OK, or
 * TDNS_ECONFIG / TDNS_EIO with "FILE: what is wrong" in err.
 */
int net_tls_new(const struct cfg *c, struct net_tls **out, char *err, size_t errlen);

/* Frees t; accepts NULL.  SSL objects made from it keep their own references. */
void net_tls_free(struct net_tls *t);

/*
 * A server-side SSL object for one accepted connection of kind (DOT offers ALPN "dot", DOH
 * "h2" and "http/1.1"), made from the current certificate; NULL when out of memory.
 * Thread-safe: workers call it on accept while net_tls_check may swap the certificate.
 */
struct ssl_st *net_tls_ssl(struct net_tls *t, enum net_stream_kind kind);

/*
 * Sends the TLS close_notify (RFC 8446 §6.1) on bev, a TLS bufferevent whose handshake is
 * done, before the caller frees it.  It also keeps the session resumable: OpenSSL drops from
 * its cache the session of an SSL freed without one.
 */
void net_tls_close_notify(struct bufferevent *bev);

/*
 * Reloads the certificate when a file of it changed (mtime or size) since it was loaded;
 * new connections then get the new one, open ones keep theirs.  A file that does not load is
 * logged (once per change) and the old certificate stays.  Returns 1 when reloaded, 0 when
 * nothing changed, a negative status when the new files failed.  Called once a second.
 */
int net_tls_check(struct net_tls *t);

/* ------------------------------------------------------------------------------------------ */
/* DNS over HTTP(S) (http.c)                                                                    */

/*
 * Takes over bev, a new connection of w accepted on a DoH listener (a TLS bufferevent in
 * accepting state, ALPN deciding between h2 and http/1.1) or an HTTP listener (plain socket;
 * HTTP/1.1, or h2 with prior knowledge).  peer is the TCP peer.  Counts in w->http_conns.
 * On failure frees bev.
 */
void net_http_conn_new(struct net_worker *w, struct bufferevent *bev, enum net_stream_kind kind,
		       const struct sockaddr *peer, socklen_t peerlen);

/*
 * conn.c: one query that came over a stream (TCP, DoT, DoH): counts it for cl->transport,
 * hands it to the worker's query handler with the reply into out (cap octets, 65535 at most
 * used) and notes the result in the counters and the query log.  Returns the reply length; 0
 * with *rcode = -1 means drop (and, for a stream, hang up), 0 with *rcode =
 * NET_RCODE_DEFERRED means the reply comes later through cl->deliver (counted then).  Sets
 * w->qstart.
 */
size_t net_conn_query(struct net_worker *w, const uint8_t *pkt, size_t len, uint8_t *out,
		      size_t cap, const struct net_client *cl, int *rcode);

#endif
