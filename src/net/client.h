/* SPDX-License-Identifier: MIT */
/* net client: blocking DNS client transports (UDP, TCP, DoT, DoH, DoH-JSON) shared by the tools. */
#ifndef TDNS_NET_CLIENT_H
#define TDNS_NET_CLIENT_H

/*
 * These transports block the calling thread (poll() with deadlines) and use no event library,
 * so they live in libtdns and serve tdns-cli, the tests, and start-up code.  The forwarder's
 * asynchronous transports reuse the parts that do not block: the server syntax, the TLS
 * context set-up, the response check and the DoH-JSON conversion.
 */

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum client_proto {
	CLIENT_UDP,        /* RFC 1035 §4.2.1, falling back to TCP on TC */
	CLIENT_TCP,        /* RFC 7766 */
	CLIENT_TLS,        /* DNS over TLS, RFC 7858 */
	CLIENT_HTTPS,      /* DNS over HTTPS (HTTP/2), RFC 8484 */
	CLIENT_HTTPS_JSON, /* the application/dns-json format of Google and Cloudflare, HTTP/2 */
};

/* Failures of a client call; each comes with a message from client_error(). */
enum client_status {
	CLIENT_OK = 0,
	CLIENT_ETIMEOUT = -1, /* nothing usable arrived before the deadline */
	CLIENT_ENET = -2,     /* socket failure: refused, unreachable, reset, closed early */
	CLIENT_ETLS = -3,     /* TLS handshake failed or the certificate was not accepted */
	CLIENT_EPROTO = -4,   /* the server answered, but not usably (malformed, mismatched,
				 HTTP status other than 200, wrong content type, bad JSON) */
	CLIENT_EINVAL = -5,   /* the query or a setting cannot be used */
};

#define CLIENT_NAME_MAX 256
#define CLIENT_ADDR_MAX (INET6_ADDRSTRLEN + IF_NAMESIZE + 2)
#define CLIENT_PATH_MAX 256
/* Largest DNS message a client receives: the TCP and DoH limit (RFC 8484 §6). */
#define CLIENT_MSG_MAX 65535

/* A server to talk to, as written in a forwarder list or on the tdns-cli command line. */
struct client_server {
	enum client_proto proto;
	/*
	 * Host as written: for TLS and HTTPS the name sent as SNI, checked against the certificate
	 * and sent as :authority; for UDP and TCP the address or host name to resolve.
	 */
	char name[CLIENT_NAME_MAX];
	/* Numeric address from "#ADDR", or "" until client_server_resolve fills it in. */
	char addr[CLIENT_ADDR_MAX];
	uint16_t port;                 /* 53, or 853 for TLS, or 443 for HTTPS unless given */
	char path[CLIENT_PATH_MAX];    /* HTTPS request path; "/dns-query" unless given */
	bool get;                      /* the path ended in the URI template {?dns}: use GET */
	struct sockaddr_storage ss;    /* set by client_server_resolve */
	socklen_t sslen;               /* 0 until resolved */
};

/* "UDP", "TCP", "TLS", "HTTPS" or "HTTPS-JSON": the transport as tdns-cli prints it. */
const char *client_proto_name(enum client_proto proto);

/* The well-known port of a transport: 53, 853 (RFC 7858 §3.1) or 443 (RFC 8484 §8). */
uint16_t client_proto_port(enum client_proto proto);

/*
 * Parses a server specification without touching the network:
 *   udp://ADDR[:PORT]  tcp://ADDR[:PORT]  tls://NAME[:PORT][#ADDR]
 *   https://NAME[:PORT][/PATH][#ADDR]  https+json://NAME[:PORT][/PATH][#ADDR]
 * (https://NAME/PATH{?dns} is RFC 8484's URI Template form: queries then go by GET.)
 * IPv6 addresses are written in brackets ("udp://[2001:db8::1]:53", "#[2001:db8::1]"; a bare
 * IPv6 address after '#' is accepted too).  A spec without a scheme is taken as udp://.
 * Returns CLIENT_OK, or CLIENT_EINVAL with a message for people in err ("tls://: missing host
 * name").
 */
int client_server_parse(const char *spec, struct client_server *out, char *err, size_t errlen);

/*
 * Fills srv->ss/sslen (and srv->addr when empty) from srv->addr if set, else from srv->name
 * with getaddrinfo (which may block on the system resolver), taking the first address.
 * Returns CLIENT_OK or CLIENT_EINVAL with a message in err.
 */
int client_server_resolve(struct client_server *srv, char *err, size_t errlen);

/* How queries are sent; zero-initialise and set what matters. */
struct client_opts {
	int timeout_ms;      /* per UDP try, and per TCP/TLS/HTTPS exchange; 0 means 5000 */
	int tries;           /* UDP sends before giving up; also TCP connection attempts; 0 = 3 */
	const char *ca_file; /* PEM CA bundle to trust instead of the system store */
	bool insecure;       /* TLS without certificate checks (tests only; never the default) */
	bool https_get;      /* DoH: GET ?dns=BASE64URL instead of POST (RFC 8484 §4.1) */
	bool keepopen;       /* keep TCP/TLS/HTTPS connections open between calls */
};

/* One query and its answer. */
struct client_xfer {
	const uint8_t *query;  /* in: a wire query with exactly one question */
	size_t qlen;
	uint8_t *resp;         /* in: buffer of CLIENT_MSG_MAX octets for the answer */
	size_t len;            /* out: answer length */
	int status;            /* out: CLIENT_OK or a client_status */
	int64_t rtt_ms;        /* out: from sending to the complete answer */
};

/* What happened on the wire, for diagnostics (the SERVER and TLS lines of tdns-cli). */
struct client_info {
	enum client_proto proto; /* transport that gave the answer (TCP after a TC retry) */
	bool tc_retry;           /* a UDP answer had TC set and the query was repeated over TCP */
	unsigned ignored;        /* answers dropped: our ID but another question (RFC 5452 §9.1),
				    or over TCP an ID we did not use */
	bool conn_reused;        /* an open connection from an earlier call carried the query */
	bool tls_resumed;        /* the TLS handshake resumed an earlier session */
	char tls_version[16];    /* "TLSv1.3"; "" without TLS */
	char alpn[16];           /* ALPN protocol the server chose ("h2", "dot"), or "" */
	int http_status;         /* HTTP :status of the (last) answer; 0 without HTTP */
};

struct client;

/*
 * A client for one server; srv must be resolved (client_server_resolve).  Sets up TLS (system
 * trust store or o->ca_file, TLS 1.2 at least) but does not connect.  Returns NULL with a
 * message in err when the TLS context cannot be made (an unreadable CA file, for instance).
 * Free with client_free.
 */
struct client *client_new(const struct client_server *srv, const struct client_opts *o,
			  char *err, size_t errlen);

/* Closes any connection and frees the client; accepts NULL. */
void client_free(struct client *c);

/*
 * Sends the n queries of x and waits for their answers.  Each query keeps its question but
 * gets a new ID: a random one from libsodium over UDP, TCP and TLS (RFC 5452 §9.2; distinct
 * within one call), 0 over HTTPS (RFC 8484 §4.1).  Every answer is checked: its ID, QR and
 * question (name case-insensitively, type, class) must match its query, else it is ignored
 * (UDP) or the exchange fails (streams).  Over TCP and TLS the queries are pipelined on one
 * connection (RFC 7766 §6.2.1.1), over HTTPS sent as concurrent streams on one connection;
 * over UDP one after another.  DoH-JSON answers are converted into wire messages (see
 * client_json_to_wire).  A connection is reused from the previous call when o->keepopen;
 * otherwise it is closed on return, but the TLS session is kept and offered for resumption.
 * Returns CLIENT_OK when every x[i].status is CLIENT_OK, else the first failure; info (may be
 * NULL) describes the last exchange.  OpenSSL writes with write(2), so the process must ignore
 * SIGPIPE (tdnsd and tdns-cli do).
 */
int client_exchange(struct client *c, struct client_xfer *x, size_t n, struct client_info *info);

/* client_exchange for one query: the answer goes to resp (CLIENT_MSG_MAX octets). */
int client_query(struct client *c, const uint8_t *query, size_t qlen, uint8_t *resp,
		 size_t *resp_len, struct client_info *info);

/* Closes the open connection, if any, keeping the TLS session for resumption. */
void client_close(struct client *c);

/*
 * Records one HTTP/2 response header of a DoH exchange: the final :status (1xx are interim,
 * RFC 7540 §8.1) into *status and content-type into ctype.  Other headers are ignored.  Used
 * by this blocking client and by the forwarder's asynchronous DoH upstreams.
 */
void client_h2_header(const uint8_t *name, size_t namelen, const uint8_t *value, size_t valuelen,
		      int *status, char *ctype, size_t ctypelen);

/*
 * The request path of a DoH GET for the query q[0..qlen) to srv: srv's path with
 * ?dns=BASE64URL (RFC 8484 §4.1), or for https+json:// with ?name=NAME&type=N (and do=1, cd=1
 * from the query).  Returns its length, or 0 when it does not fit in cap or (JSON) the query
 * does not parse.  Shared by tdns-cli and the forwarder.
 */
size_t client_doh_path(const struct client_server *srv, const uint8_t *q, size_t qlen,
		       char *path, size_t cap);

/* Message for the last failure of c ("TLS certificate of dns.test not accepted: ..."). */
const char *client_error(const struct client *c);

/*
 * Checks that resp answers query (RFC 5452 §9.1): 0 when it does, 1 when it is not a response
 * with this ID (someone else's), 2 when the ID matches but the question does not, 3 when the
 * question cannot be parsed.  FORMERR, NOTIMP and REFUSED answers without a question match.
 */
int client_check_response(const uint8_t *query, size_t qlen, const uint8_t *resp, size_t rlen);

/*
 * Converts a DoH-JSON answer (the format of Google's and Cloudflare's JSON APIs: Status, TC,
 * RD, RA, AD, CD, Question, Answer, Authority, Additional with name/type/TTL/data members)
 * into a wire response with the given ID, written into out (cap octets).  Returns the length,
 * or 0 with a message in err when the JSON is not such an answer or a record's data does not
 * parse for its type.
 */
size_t client_json_to_wire(const char *json, size_t jlen, uint16_t id, uint8_t *out, size_t cap,
			   char *err, size_t errlen);

#endif
