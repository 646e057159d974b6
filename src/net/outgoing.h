/* SPDX-License-Identifier: MIT */
/* net outgoing: the one asynchronous transport layer for queries to other servers (libevent). */
#ifndef TDNS_NET_OUTGOING_H
#define TDNS_NET_OUTGOING_H

/*
 * Every DNS query that leaves tdns goes through here: the forwarder's queries on a worker's
 * event base, and tdns-cli's on a private one that it dispatches until its callbacks have fired.
 * Transports: UDP (random port and ID, RFC 5452 §9.2), TCP with pipelining (RFC 7766 §6.2.1.1),
 * DNS over TLS (RFC 7858), DNS over HTTPS on HTTP/2 (RFC 8484: POST, or GET for a server URL
 * ending in the {?dns} template) and the DoH-JSON API.  Connection reuse, idle close, timeouts,
 * the TLS certificate and name checks and session resumption are done here and nowhere else.
 * Nothing here knows who asks: results go to a callback with a user pointer.
 */

#include <openssl/ssl.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>

#include "net/client.h"

struct event_base;

/* One server on one event base: its open connection(s) and its TLS session. */
struct net_out_peer;

/* One query in flight; the handle net_out_send returns and net_out_cancel takes. */
struct net_out_query;

/* How a peer behaves; zero-initialise and set what matters. */
struct net_out_opts {
	/*
	 * TLS context for tls:// and https:// servers (net_out_tls_ctx_new); the peer takes a
	 * reference.  NULL makes every TLS query fail with CLIENT_ETLS.
	 */
	SSL_CTX *tls_ctx;
	bool insecure;       /* no certificate or name check (tdns-cli +tls-insecure, tests) */
	unsigned udp_tries;  /* UDP sends of one query, each waiting the full timeout; 0 means 1 */
	/*
	 * tdns-cli's diagnostics: a datagram with our ID whose question does not parse, or (at the
	 * deadline) only answers with our ID but another question, and a stream answer with our
	 * ID that does not match, end the query with CLIENT_EPROTO.  Without it such answers are
	 * dropped (someone else's must not end the exchange) and the query times out.
	 */
	bool diagnose;
	/* A stream answer with our ID that does not match ends the query (CLIENT_EPROTO). */
	bool strict_streams;
	/*
	 * The answer must repeat the question (no question-less FORMERR, NOTIMP or REFUSED), and
	 * with exact_case in the very case it was sent (0x20, draft-vixie-dnsext-dns0x20).
	 */
	bool strict_question;
	bool exact_case;
	/* Source address of the sockets (port ignored: random for UDP), or source_len 0. */
	struct sockaddr_storage source;
	socklen_t source_len;
};

/* Outcome of one query, valid only during the callback. */
struct net_out_result {
	int status;               /* CLIENT_OK or a client_status */
	const uint8_t *pkt;       /* the answer, checked against the query (RFC 5452 §9.1) */
	size_t len;
	int64_t rtt_us;           /* from sending to the complete answer */
	const char *err;          /* for people: "connection timed out; ...", "" on success */
	enum client_proto proto;  /* transport used: TCP for a stream query to a udp:// server */
	unsigned ignored;         /* answers dropped: another question, or an ID not ours */
	bool conn_reused;         /* the stream connection was already up when the query was sent */
	bool tls_resumed;         /* the TLS handshake resumed an earlier session */
	char tls_version[16];     /* "TLSv1.3"; "" without TLS */
	char alpn[16];            /* ALPN protocol the server chose ("h2", "dot"), or "" */
	int http_status;          /* HTTP :status of the answer; 0 without HTTP */
	/*
	 * NET_OUT_MULTI: one message of a multi-message answer (a zone transfer, RFC 5936
	 * §2.2); the query stays in flight until the caller cancels it.
	 */
	bool more;
};

/*
 * Called once per query that net_out_send started, unless it was cancelled first.  The query
 * handle is freed when the callback returns; the callback may send and cancel other queries
 * and free its own peer reference.
 */
typedef void (*net_out_cb)(void *arg, const struct net_out_result *r);

/* net_out_send flag: use a stream (TCP) even when the server is udp:// (RFC 7766 §5, TC). */
#define NET_OUT_STREAM 0x1u

/*
 * net_out_send flag: a stream query answered by several messages (AXFR, IXFR; implies
 * NET_OUT_STREAM).  The callback hears every message with the query's ID (result.more set;
 * the messages after the first may have no question, RFC 5936 §2.2.1), and the timeout
 * starts again with each; the query ends only when the caller cancels it (net_out_cancel, also
 * from within the callback, once it has the last message) or on a failure or timeout, which
 * the callback hears as usual (more false) before the query is freed.
 */
#define NET_OUT_MULTI 0x2u

/*
 * UDP queries open at once per thread (each has its own socket on a random port, RFC 5452
 * §9.2).  Beyond it net_out_send fails at once (CLIENT_ENET), so a flood of queries that miss
 * the cache cannot take every descriptor of the process (issue 13).  With [recursion]
 * max-outstanding at its default a worker stays well below it.
 */
#define NET_OUT_UDP_MAX 4096

/*
 * A client TLS context: TLS 1.2 at least (RFC 8996), peers verified against ca_file (a PEM
 * bundle) or the system store unless insecure, and sessions kept by the peers for resumption.
 * Returns NULL with OpenSSL's reason in err when the CA certificates cannot be loaded.  Free
 * with SSL_CTX_free.
 */
SSL_CTX *net_out_tls_ctx_new(const char *ca_file, bool insecure, char *err, size_t errlen);

/*
 * Sets up ssl (a client connection of a net_out_tls_ctx_new context) for the server name:
 * SNI unless name is an IP address, and unless insecure, the certificate must be valid for
 * that name or address (no partial wildcards) or the handshake fails.  False when OpenSSL
 * refuses the name.  Every outgoing TLS connection (DoT, DoH, downloads) is made this way.
 */
bool net_out_tls_set_host(SSL *ssl, const char *name, bool insecure);

/*
 * A peer for srv (which must be resolved: client_server_resolve) on base.  Connections are
 * opened on first use and closed when idle (10 s, RFC 7766 §6.2.3).  NULL when out of memory.
 * Release with net_out_peer_free.
 */
struct net_out_peer *net_out_peer_new(struct event_base *base, const struct client_server *srv,
				      const struct net_out_opts *o);

/*
 * Releases the caller's reference: the peer, its connections and TLS session go once no query
 * of it is in flight.  Accepts NULL.
 */
void net_out_peer_free(struct net_out_peer *p);

/*
 * Closes p's connections now, keeping the TLS session for resumption; queries still on them
 * end with CLIENT_ENET.  Not to be called from one of p's callbacks.
 */
void net_out_peer_close(struct net_out_peer *p);

/*
 * Sends the query q[0..qlen) (copied; its ID is replaced: random over UDP and streams, unique
 * per connection, 0 over HTTPS, RFC 8484 §4.1) to p, over UDP or, with NET_OUT_STREAM or a
 * stream transport, on p's connection (opened if needed, pipelined).  cb(arg, result) follows
 * from the event loop with the answer or a failure after at most timeout_ms (per UDP try).
 * Returns the query's handle, or NULL when it cannot even start; net_out_peer_error then says
 * why.  OpenSSL writes with write(2): the process must ignore SIGPIPE.
 */
struct net_out_query *net_out_send(struct net_out_peer *p, const uint8_t *q, size_t qlen,
				   unsigned flags, unsigned timeout_ms, net_out_cb cb, void *arg);

/* Stops a query without calling its callback and frees it. */
void net_out_cancel(struct net_out_query *x);

/* Why the last net_out_send on p returned NULL, with its status in *status (may be NULL). */
const char *net_out_peer_error(const struct net_out_peer *p, int *status);

#endif
