/* SPDX-License-Identifier: MIT */
/* net client: client-side protocol helpers without I/O (server URLs, answer checks, DoH paths). */
#ifndef TDNS_NET_CLIENT_H
#define TDNS_NET_CLIENT_H

/*
 * What the outgoing transport layer (net/outgoing.h) and its users share: the server URL
 * syntax of forwarder lists and tdns-cli, the status codes of an exchange, the check that an
 * answer belongs to its query, and the request path of a DoH GET.  The DoH-JSON conversions
 * in both directions are in net/doh.h.
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

/* Outcome of one exchange (net_out_result.status); failures come with a message for people. */
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
/* Largest DNS message a client sends or receives: the TCP and DoH limit (RFC 8484 §6). */
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

/*
 * A resolved server for a numeric address: family AF_INET or AF_INET6 with ip (4 or 16 octets,
 * network order), port and transport; name and addr are the address's text.  For the servers
 * that resolution finds (iterator, stub zones), which have no URL.
 */
void client_server_from_addr(struct client_server *out, enum client_proto proto, int family,
			     const uint8_t *ip, uint16_t port);

/*
 * Records one HTTP/2 response header of a DoH exchange: the final :status (1xx are interim,
 * RFC 7540 §8.1) into *status and content-type into ctype.  Other headers are ignored.
 */
void client_h2_header(const uint8_t *name, size_t namelen, const uint8_t *value, size_t valuelen,
		      int *status, char *ctype, size_t ctypelen);

/*
 * The request path of a DoH GET for the query q[0..qlen) to srv: srv's path with
 * ?dns=BASE64URL (RFC 8484 §4.1), or for https+json:// with ?name=NAME&type=N (and do=1, cd=1
 * from the query).  Returns its length, or 0 when it does not fit in cap or (JSON) the query
 * does not parse (or out of memory).
 */
size_t client_doh_path(const struct client_server *srv, const uint8_t *q, size_t qlen,
		       char *path, size_t cap);

/*
 * Checks that resp answers query (RFC 5452 §9.1): 0 when it does, 1 when it is not a response
 * with this ID (someone else's), 2 when the ID matches but the question does not, 3 when the
 * question cannot be parsed.  FORMERR, NOTIMP and REFUSED answers without a question match.
 */
int client_check_response(const uint8_t *query, size_t qlen, const uint8_t *resp, size_t rlen);

#endif
