/* SPDX-License-Identifier: MIT */
/* net: the server side of DNS over UDP and TCP — worker threads, listeners, query glue. */
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
#include "resolver/resolver.h"
#include "stats/stats.h"
#include "zone/zone.h"

/* ------------------------------------------------------------------------------------------ */
/* Query processing (query.c): one wire query in, one wire reply out, no I/O, no allocation.   */

/*
 * Answers the query pkt[0..len) from the zones in zs into out (cap bytes) and returns the
 * reply length, or 0 when the packet must be dropped (shorter than a header, or a response).
 * Malformed queries get FORMERR, opcodes other than QUERY NOTIMP, EDNS versions above 0
 * BADVERS (RFC 6891 §6.1.3).  The reply is limited to 65535 octets over TCP and, over UDP, to
 * max(512, min(client EDNS size, udp_max)) with EDNS and to 512 without (RFC 6891 §6.2.5);
 * udp_max is also the payload size our OPT record advertises.
 */
size_t net_query_process(const struct zone_set *zs, const uint8_t *pkt, size_t len, uint8_t *out,
			 size_t cap, bool tcp, size_t udp_max);

/*
 * The same, also storing the reply's full rcode (BADVERS included) in *rcode, or -1 when the
 * packet is dropped.  Used by the listeners for their counters.
 */
size_t net_query_answer(const struct zone_set *zs, const uint8_t *pkt, size_t len, uint8_t *out,
			size_t cap, bool tcp, size_t udp_max, int *rcode);

/* net_query_worker's *rcode when the reply will be sent later (a query forwarded upstream). */
#define NET_RCODE_DEFERRED (-2)

struct net_worker;
struct net_udp;
struct net_tcp_conn;

/*
 * A deferred reply for a transport other than UDP and DNS-over-TCP framing (DoH): called once
 * with the reply, or with (NULL, 0) when the query is abandoned (the worker stops, or no reply
 * could be built).  ctx must stay valid until then.
 */
typedef void (*net_deliver_fn)(void *ctx, const uint8_t *msg, size_t len);

/* Where a query came from, so that a forwarded query can be answered later. */
struct net_client {
	const struct sockaddr *peer;  /* for ACLs, stats and logs (a proxy's client for DoH) */
	socklen_t peerlen;
	struct net_udp *udp;          /* UDP: the socket it came in on ... */
	const uint8_t *ctl;           /* ... and the packet-info control message for the reply */
	size_t ctllen;
	struct net_tcp_conn *conn;    /* TCP and DoT: the connection */
	net_deliver_fn deliver;       /* DoH: where a deferred reply goes */
	void *ctx;
	enum stats_transport transport; /* for the counters and the query log */
};

/*
 * net_query_answer with the resolver (issue 4): on a worker, names outside the zones are
 * answered from the cache or forwarded (when the configuration says so and the client is in
 * [recursion] allow; else REFUSED, with EDE 18 for clients outside the ACL), and conditional
 * forwarder zones apply.  Returns the reply length as net_query_answer does, or 0 with
 * *rcode = NET_RCODE_DEFERRED when the query went upstream: the reply is then sent to cl
 * by the worker when the answer arrives (and counted then).
 */
size_t net_query_worker(struct net_worker *w, const uint8_t *pkt, size_t len, uint8_t *out,
			size_t cap, const struct net_client *cl, int *rcode);

/*
 * One query that came over a stream (TCP, DoT, DoH): counts it for cl->transport, answers it
 * with net_query_worker into out (cap octets, 65535 at most used) and notes the result in the
 * counters and the query log.  Returns the reply length; 0 with *rcode = -1 means drop (and,
 * for a stream, hang up), 0 with *rcode = NET_RCODE_DEFERRED means the reply comes later
 * through cl (counted then).  Sets w->qstart.
 */
size_t net_query_stream(struct net_worker *w, const uint8_t *pkt, size_t len, uint8_t *out,
			size_t cap, const struct net_client *cl, int *rcode);

/* ------------------------------------------------------------------------------------------ */
/* The server (server.c): public interface used by tdnsd.c.                                     */

struct net_server;

/*
 * Creates the worker event bases (the caller has enabled libevent's locking with
 * evthread_use_pthreads, which net_server_publish relies on) and binds, for every listen
 * address of c and every worker, one UDP socket and one TCP listening socket (SO_REUSEPORT,
 * so the kernel spreads the load).  Run it before dropping privileges.  nworkers must be at
 * least 1.  The configuration is only read during the call.  On failure returns TDNS_EIO
 * (bind, socket) or TDNS_ENOMEM with a message naming the address in err.  Caller frees
 * with net_server_free.
 */
int net_server_new(const struct cfg *c, unsigned nworkers, struct net_server **out, char *err,
		   size_t errlen);

/*
 * Starts the worker threads, each answering from zs (borrowed until a later
 * net_server_publish returns or the server is stopped).  TDNS_OK or TDNS_ENOMEM (thread
 * creation failed; the threads already started are stopped again).
 */
int net_server_start(struct net_server *s, const struct zone_set *zs);

/*
 * Publishes a new zone set: every worker switches to zs on its own event base, between two
 * queries.  Blocks until all workers have switched, so on return the previous set is no
 * longer referenced and the caller may free it.  Workers never lock on the query path.
 */
void net_server_publish(struct net_server *s, const struct zone_set *zs);

/*
 * Publishes a resolver configuration (a reference is taken for each worker; NULL stops
 * forwarding) the way net_server_publish publishes zones; blocks until every worker has
 * switched.  Before net_server_start it only records rc.
 */
void net_server_publish_resolver(struct net_server *s, struct resolver_conf *rc);

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
/* Internal to src/net: the worker shared by server.c, udp.c and tcp.c.                          */

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

/* One TCP or DoT connection (RFC 7766, RFC 7858). */
struct net_tcp_conn {
	TAILQ_ENTRY(net_tcp_conn) link; /* in the worker's list, least recently active first */
	struct net_worker *w;
	struct bufferevent *bev;
	enum stats_transport transport; /* TCP or DOT */
	struct sockaddr_storage peer;   /* the client */
	socklen_t peerlen;
	bool paused;              /* reading stopped until the client reads its replies */
	bool closing;             /* close once the pending replies are written */
	bool eof;                 /* client closed its side */
	bool dead;                /* closed while forwarded queries were pending */
	bool handshaken;          /* DoT: the TLS handshake is done */
	unsigned pending;         /* forwarded queries not answered yet; the struct lives on */
};

TAILQ_HEAD(net_tcp_list, net_tcp_conn);

/* A DoH connection (http.c); the worker keeps them in a list like TCP connections. */
struct net_http_conn;
TAILQ_HEAD(net_http_list, net_http_conn);

/* Per-worker state; everything here is touched only by the worker's thread while it runs. */
struct net_worker {
	struct net_server *srv;
	unsigned id;
	pthread_t thread;
	bool started;
	struct event_base *base;
	const struct zone_set *zs; /* current zones; replaced only by the switch event */
	struct resolver_fwd *fwd;  /* the worker's forwarder (issue 4) */
	struct event *switch_ev;   /* activated by net_server_publish from the main thread */
	struct net_udp *udp;       /* one per listen address */
	size_t nsock;             /* UDP sockets */
	struct net_listener *streams; /* TCP, DoT, DoH and HTTP listeners */
	size_t nstreams;
	struct net_tcp_list conns;
	unsigned nconns;          /* TCP and DoT connections */
	struct net_http_list http_conns;
	unsigned nhttp;           /* DoH connections; nconns + nhttp <= tcp_max */
	struct stats_counters stats;
	struct stats_counters stats_shown; /* copy taken every second and at publish, under srv->lock */
	struct event *stats_ev;    /* the once-a-second copy */
	struct stats_worker *sw;   /* query notes for `stats`, `stats top` and `log` */
	struct timespec qstart;    /* CLOCK_MONOTONIC when the query being answered arrived */
	enum stats_kind qkind;     /* where net_query_worker's reply came from */
	/* UDP batch: one receive set and one reply set, allocated once. */
	struct mmsghdr *rmsg, *smsg;
	struct iovec *riov, *siov;
	struct sockaddr_storage *peer;
	uint8_t *rctl, *sctl;     /* NET_UDP_BATCH control buffers each */
	uint8_t *rbuf, *sbuf;     /* NET_UDP_BATCH buffers each */
	size_t sbuf_size;         /* bytes per reply buffer */
	/* TCP: one query and one framed reply at a time. */
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
};

/* The settings of w's server. */
const struct net_settings *net_server_settings(const struct net_worker *w);

/* udp.c: allocates w's batch buffers; TDNS_OK or TDNS_ENOMEM. */
int net_udp_buffers_new(struct net_worker *w, size_t udp_max);

/* udp.c: frees what net_udp_buffers_new allocated; accepts a zeroed worker. */
void net_udp_buffers_free(struct net_worker *w);

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

/*
 * tcp.c: frees the least recently active idle TCP or DoT connection of w to make room;
 * false when none is idle.  http.c has net_http_evict_idle for its own.
 */
bool net_tcp_evict_idle(struct net_worker *w);

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
 * HTTP/1.1, or h2 with prior knowledge).  peer is the TCP peer.  Counts toward w->nhttp.
 * On failure frees bev.
 */
void net_http_conn_new(struct net_worker *w, struct bufferevent *bev, enum net_stream_kind kind,
		       const struct sockaddr *peer, socklen_t peerlen);

/* Frees the least recently active idle DoH connection of w; false when none is idle. */
bool net_http_evict_idle(struct net_worker *w);

/* Closes every DoH connection of w (at shutdown, after the forwarder is gone). */
void net_http_close_all(struct net_worker *w);

/* tcp.c: closes every connection of w (at shutdown). */
void net_tcp_close_all(struct net_worker *w);

/*
 * tcp.c: writes a deferred reply msg[0..len) on c (framed), unless c has been closed
 * meanwhile, and drops the pending count that kept c alive (freeing a closed c).
 */
void net_tcp_deferred_reply(struct net_tcp_conn *c, const uint8_t *msg, size_t len);

/* udp.c: sends a deferred reply from u to peer, with the packet-info ctl (may be empty). */
void net_udp_deferred_reply(struct net_udp *u, const struct sockaddr *peer, socklen_t peerlen,
			    const uint8_t *ctl, size_t ctllen, const uint8_t *msg, size_t len);

/* udp.c: room for the packet-info control message of a reply. */
#define NET_UDP_CTL_MAX 64

#endif
