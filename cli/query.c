/* SPDX-License-Identifier: MIT */
/* tdns-cli query: a dig-like stub client that sends one query over UDP or TCP and prints it. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "dns/dns.h"

#define QUERY_TIMEOUT_MS 5000   /* per try, as dig's +time=5 */
#define QUERY_TRIES 3           /* one try and two retries, as dig's +tries=3 */
#define QUERY_TIME_MAX 300      /* seconds; keeps +time and +tries bounded */
#define QUERY_TRIES_MAX 10
#define QUERY_PORT 53
#define QUERY_RESOLV_CONF "/etc/resolv.conf"
#define QUERY_FALLBACK_SERVER "127.0.0.1"
/* Rdata text: \DDD escapes make up to four characters per octet, plus spaces and quotes. */
#define QUERY_TEXT_MAX (5 * DNS_RDATA_MAX + 1024)

/* What the command line asked for. */
struct query_opts {
	uint8_t qname[DNS_NAME_MAX];
	uint16_t qtype;
	uint16_t qclass;
	char server[256];   /* host part of @SERVER as given, or from resolv.conf */
	uint16_t port;
	bool tcp;
	bool dnssec;
	bool cd;
	bool recurse;
	bool short_out;
	bool json;
	int timeout_ms;
	int tries;
};

/* Outcome of one exchange with the server; maps onto the exit codes. */
enum xfer {
	XFER_OK,
	XFER_BAD,         /* an answer came but cannot be used */
	XFER_UNREACHABLE, /* no answer: timeout, refused, no route */
};

/* What a received packet is to us. */
enum resp_kind {
	RESP_MATCH,
	RESP_IGNORE,     /* not a response to our ID: stale, or someone else's */
	RESP_MISMATCH,   /* our ID but another question: possibly spoofed */
	RESP_MALFORMED,  /* our ID but the question does not parse */
};

/* A server to talk to: its address and how to name it in output. */
struct query_server {
	struct sockaddr_storage ss;
	socklen_t sslen;
	char addr[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
};

/* Result of the exchange, for printing. */
struct query_result {
	uint8_t *pkt;
	size_t len;
	bool tcp;
	int64_t rtt_ms;
	char err[256];
};

/* RFC 8914 §5.2 (IANA "Extended DNS Error Codes"): names for the printed INFO-CODEs. */
static const char *const ede_names[] = {
	[DNS_EDE_OTHER] = "Other Error",
	[DNS_EDE_UNSUPPORTED_DNSKEY_ALG] = "Unsupported DNSKEY Algorithm",
	[DNS_EDE_UNSUPPORTED_DS_DIGEST] = "Unsupported DS Digest Type",
	[DNS_EDE_STALE_ANSWER] = "Stale Answer",
	[DNS_EDE_FORGED_ANSWER] = "Forged Answer",
	[DNS_EDE_DNSSEC_INDETERMINATE] = "DNSSEC Indeterminate",
	[DNS_EDE_DNSSEC_BOGUS] = "DNSSEC Bogus",
	[DNS_EDE_SIGNATURE_EXPIRED] = "Signature Expired",
	[DNS_EDE_SIGNATURE_NOT_YET_VALID] = "Signature Not Yet Valid",
	[DNS_EDE_DNSKEY_MISSING] = "DNSKEY Missing",
	[DNS_EDE_RRSIGS_MISSING] = "RRSIGs Missing",
	[DNS_EDE_NO_ZONE_KEY_BIT] = "No Zone Key Bit Set",
	[DNS_EDE_NSEC_MISSING] = "NSEC Missing",
	[DNS_EDE_CACHED_ERROR] = "Cached Error",
	[DNS_EDE_NOT_READY] = "Not Ready",
	[DNS_EDE_BLOCKED] = "Blocked",
	[DNS_EDE_CENSORED] = "Censored",
	[DNS_EDE_FILTERED] = "Filtered",
	[DNS_EDE_PROHIBITED] = "Prohibited",
	[DNS_EDE_STALE_NXDOMAIN] = "Stale NXDomain Answer",
	[DNS_EDE_NOT_AUTHORITATIVE] = "Not Authoritative",
	[DNS_EDE_NOT_SUPPORTED] = "Not Supported",
	[DNS_EDE_NO_REACHABLE_AUTHORITY] = "No Reachable Authority",
	[DNS_EDE_NETWORK_ERROR] = "Network Error",
	[DNS_EDE_INVALID_DATA] = "Invalid Data",
	[25] = "Signature Expired before Valid",
	[26] = "Too Early",
	[27] = "Unsupported NSEC3 Iterations Value",
	[28] = "Unable to conform to policy",
	[29] = "Synthesized",
	[30] = "Invalid Query Type",
};

/* RFC 6891 option codes printed by name (IANA "DNS EDNS0 Option Codes"). */
#define OPT_NSID 3
#define OPT_COOKIE 10
#define OPT_PADDING 12

/*
 * Types that get an "rdata<TYPE>" member in JSON output: the ones RFC 8427 §2.3 names.  Every
 * record also carries "rdata", its presentation form, for readability.
 */
static const uint16_t json_rdata_types[] = {
	DNS_TYPE_A, DNS_TYPE_AAAA, DNS_TYPE_CNAME, DNS_TYPE_DNAME, DNS_TYPE_NS, DNS_TYPE_PTR,
	DNS_TYPE_TXT, DNS_TYPE_CDNSKEY, DNS_TYPE_CDS, DNS_TYPE_DNSKEY, DNS_TYPE_MX,
	DNS_TYPE_NSEC, DNS_TYPE_NSEC3, DNS_TYPE_NSEC3PARAM, DNS_TYPE_OPENPGPKEY, DNS_TYPE_RRSIG,
	DNS_TYPE_SMIMEA, DNS_TYPE_SRV, DNS_TYPE_SSHFP, DNS_TYPE_TLSA,
};

static int64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------------------------------ */
/* Command line                                                                                */

/* Parses a decimal number in [lo, hi]; false if s is not one. */
static bool
parse_uint(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
	if (*s < '0' || *s > '9') {
		return false;
	}
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi) {
		return false;
	}
	*out = v;
	return true;
}

/*
 * @ADDR, @ADDR:PORT, @ADDR#PORT, @[V6], @[V6]:PORT or @V6 (a bare IPv6 address has more than
 * one colon, so its last group is never taken for a port).
 */
static int
parse_server(const char *spec, struct query_opts *q)
{
	const char *host = spec;
	size_t hlen = strlen(spec);
	const char *port = NULL;
	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');
		if (close == NULL || (close[1] != '\0' && close[1] != ':' && close[1] != '#')) {
			return -1;
		}
		host = spec + 1;
		hlen = (size_t)(close - host);
		port = close[1] != '\0' ? close + 2 : NULL;
	} else {
		const char *hash = strrchr(spec, '#');
		const char *colon = strchr(spec, ':');
		if (hash != NULL) {
			hlen = (size_t)(hash - spec);
			port = hash + 1;
		} else if (colon != NULL && strchr(colon + 1, ':') == NULL) {
			hlen = (size_t)(colon - spec);
			port = colon + 1;
		}
	}
	if (hlen == 0 || hlen >= sizeof(q->server)) {
		return -1;
	}
	memcpy(q->server, host, hlen);
	q->server[hlen] = '\0';
	if (port != NULL) {
		unsigned long p;
		if (!parse_uint(port, 1, 65535, &p)) {
			return -1;
		}
		q->port = (uint16_t)p;
	}
	return 0;
}

/* Takes the first nameserver of resolv.conf(5), as dig does; 127.0.0.1 if there is none. */
static void
default_server(struct query_opts *q)
{
	snprintf(q->server, sizeof(q->server), "%s", QUERY_FALLBACK_SERVER);
	FILE *f = fopen(QUERY_RESOLV_CONF, "r");
	if (f == NULL) {
		return;
	}
	char line[512];
	while (fgets(line, sizeof(line), f) != NULL) {
		char key[16], value[256];
		if (sscanf(line, " %15s %255s", key, value) == 2 &&
		    strcmp(key, "nameserver") == 0) {
			snprintf(q->server, sizeof(q->server), "%s", value);
			break;
		}
	}
	fclose(f);
}

/* "+[no]option[=value]" as dig spells them. */
static int
parse_plus(const char *word, struct query_opts *q)
{
	const char *w = word + 1;
	bool on = true;
	if (strncmp(w, "no", 2) == 0) {
		on = false;
		w += 2;
	}
	const char *eq = strchr(w, '=');
	size_t klen = eq != NULL ? (size_t)(eq - w) : strlen(w);
	struct {
		const char *name;
		bool *flag;
	} flags[] = {
		{ "tcp", &q->tcp },
		{ "vc", &q->tcp },
		{ "dnssec", &q->dnssec },
		{ "cd", &q->cd },
		{ "cdflag", &q->cd },
		{ "recurse", &q->recurse },
		{ "short", &q->short_out },
		{ "json", &q->json },
	};
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		if (eq == NULL && strlen(flags[i].name) == klen &&
		    strncmp(w, flags[i].name, klen) == 0) {
			*flags[i].flag = on;
			return 0;
		}
	}
	unsigned long v;
	if (on && eq != NULL && klen == 4 && strncmp(w, "time", 4) == 0 &&
	    parse_uint(eq + 1, 1, QUERY_TIME_MAX, &v)) {
		q->timeout_ms = (int)v * 1000;
		return 0;
	}
	if (on && eq != NULL && klen == 5 && strncmp(w, "tries", 5) == 0 &&
	    parse_uint(eq + 1, 1, QUERY_TRIES_MAX, &v)) {
		q->tries = (int)v;
		return 0;
	}
	if (on && eq != NULL && klen == 5 && strncmp(w, "retry", 5) == 0 &&
	    parse_uint(eq + 1, 0, QUERY_TRIES_MAX - 1, &v)) {
		q->tries = (int)v + 1;
		return 0;
	}
	fprintf(stderr, "tdns-cli query: unknown or invalid option '%s'\n", word);
	return -1;
}

/*
 * Like dig: a word that is a type names the type (the first such word), one that is a class
 * the class, anything else the name.  Relative names are taken as absolute.
 */
static int
parse_args(int argc, char **argv, struct query_opts *q)
{
	const char *name = NULL;
	bool have_type = false, have_class = false, have_server = false;
	for (int i = 0; i < argc; i++) {
		const char *w = argv[i];
		if (w[0] == '@') {
			if (have_server || parse_server(w + 1, q) < 0) {
				fprintf(stderr, "tdns-cli query: bad server '%s' (use @ADDR, "
					"@ADDR:PORT, @[V6]:PORT or @V6)\n", w);
				return -1;
			}
			have_server = true;
			continue;
		}
		if (w[0] == '+') {
			if (parse_plus(w, q) < 0) {
				return -1;
			}
			continue;
		}
		if (w[0] == '-') {
			fprintf(stderr, "tdns-cli query: unknown option '%s'\n", w);
			return -1;
		}
		int t = have_type ? -1 : dns_type_from_text(w, strlen(w));
		if (t >= 0) {
			q->qtype = (uint16_t)t;
			have_type = true;
			continue;
		}
		int c = have_class ? -1 : dns_class_from_text(w, strlen(w));
		if (c >= 0) {
			q->qclass = (uint16_t)c;
			have_class = true;
			continue;
		}
		if (name != NULL) {
			fprintf(stderr, "tdns-cli query: more than one name ('%s' and '%s')\n",
				name, w);
			return -1;
		}
		name = w;
	}
	/* dig queries the root when only a type is given ("dig ns"). */
	if (name == NULL) {
		name = ".";
	}
	static const uint8_t root[1] = { 0 };
	int n = dns_name_from_text(name, strlen(name), root, q->qname);
	if (n < 0) {
		fprintf(stderr, "tdns-cli query: bad name '%s': %s\n", name, tdns_status_msg(n));
		return -1;
	}
	/* A zone transfer is a stream of messages (RFC 5936), not one answer. */
	if (q->qtype == DNS_TYPE_AXFR || q->qtype == DNS_TYPE_IXFR) {
		fprintf(stderr, "tdns-cli query: zone transfers (AXFR, IXFR) are not supported\n");
		return -1;
	}
	if (!have_server) {
		default_server(q);
	}
	return 0;
}

/* Numeric addresses only unless the user gave a host name; the port is always numeric. */
static int
resolve_server(const struct query_opts *q, struct query_server *srv)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM,
				  .ai_flags = AI_NUMERICSERV };
	char port[8];
	snprintf(port, sizeof(port), "%u", (unsigned)q->port);
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(q->server, port, &hints, &res);
	if (rc != 0 || res == NULL) {
		fprintf(stderr, "tdns-cli query: cannot use server '%s': %s\n", q->server,
			gai_strerror(rc));
		return -1;
	}
	memcpy(&srv->ss, res->ai_addr, res->ai_addrlen);
	srv->sslen = res->ai_addrlen;
	freeaddrinfo(res);
	if (getnameinfo((struct sockaddr *)&srv->ss, srv->sslen, srv->addr, sizeof(srv->addr),
			NULL, 0, NI_NUMERICHOST) != 0) {
		size_t n = strnlen(q->server, sizeof(srv->addr) - 1);
		memcpy(srv->addr, q->server, n);
		srv->addr[n] = '\0';
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Transport                                                                                   */

/* Builds the query: RD unless +norecurse, CD with +cd, EDNS(0) always, DO with +dnssec. */
static size_t
build_query(const struct query_opts *q, uint16_t id, uint8_t *buf, size_t cap)
{
	uint16_t flags = DNS_OPCODE_QUERY << 11;
	if (q->recurse) {
		flags |= DNS_FLAG_RD;
	}
	if (q->cd) {
		flags |= DNS_FLAG_CD;
	}
	struct dns_build b;
	dns_build_init(&b, buf, cap, cap, id, flags);
	/* RFC 6891 §6.2.5 and DNS flag day 2020: offer 1232 octets, like dig. */
	dns_build_edns(&b, DNS_EDNS_MAX_PAYLOAD, q->dnssec);
	if (dns_build_question(&b, q->qname, q->qtype, q->qclass) != TDNS_OK) {
		return 0;
	}
	return dns_build_finish(&b);
}

/*
 * Decides whether pkt answers our query.  RFC 5452 §9.1: the ID and the question must both
 * match, so a datagram that fails either is not ours.
 */
static enum resp_kind
check_response(const uint8_t *pkt, size_t len, uint16_t id, const struct query_opts *q)
{
	if (len < DNS_HDR_LEN || tdns_get16(pkt) != id) {
		return RESP_IGNORE;
	}
	uint16_t flags = tdns_get16(pkt + 2);
	if (!(flags & DNS_FLAG_QR)) {
		return RESP_IGNORE;
	}
	if (DNS_OPCODE(flags) != DNS_OPCODE_QUERY) {
		return RESP_MISMATCH;
	}
	uint16_t qdcount = tdns_get16(pkt + 4);
	if (qdcount == 0) {
		/* Some servers leave the question out of FORMERR, NOTIMP and REFUSED replies. */
		return DNS_RCODE(flags) != DNS_RCODE_NOERROR ? RESP_MATCH : RESP_MISMATCH;
	}
	if (qdcount != 1) {
		return RESP_MISMATCH;
	}
	size_t pos = DNS_HDR_LEN;
	uint8_t name[DNS_NAME_MAX];
	if (dns_name_unpack(pkt, len, &pos, name) < 0 || len - pos < 4) {
		return RESP_MALFORMED;
	}
	/* dns_name_eq ignores case, so 0x20-mixed names still match (RFC 4343). */
	if (!dns_name_eq(name, q->qname) || tdns_get16(pkt + pos) != q->qtype ||
	    tdns_get16(pkt + pos + 2) != q->qclass) {
		return RESP_MISMATCH;
	}
	return RESP_MATCH;
}

/* Waits for events on fd until deadline: 1 ready, 0 timed out, -1 error (errno). */
static int
wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - now_ms();
		if (left <= 0) {
			return 0;
		}
		struct pollfd p = { .fd = fd, .events = events };
		int n = poll(&p, 1, (int)left);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		return n < 0 ? -1 : (n > 0 ? 1 : 0);
	}
}

/*
 * Binds a UDP socket to a random source port (RFC 5452 §9.2), falling back to the kernel's
 * choice (itself randomised on Linux) when a few random picks are taken.
 */
static void
bind_random_port(int fd, int family)
{
	for (int i = 0; i < 16; i++) {
		uint16_t port = (uint16_t)(1024 + randombytes_uniform(65536 - 1024));
		int rc;
		if (family == AF_INET6) {
			struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port),
						  .sin6_addr = IN6ADDR_ANY_INIT };
			rc = bind(fd, (struct sockaddr *)&a, sizeof(a));
		} else {
			struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
						 .sin_addr.s_addr = htonl(INADDR_ANY) };
			rc = bind(fd, (struct sockaddr *)&a, sizeof(a));
		}
		if (rc == 0 || errno != EADDRINUSE) {
			return;
		}
	}
}

static enum xfer
unreachable(struct query_result *r, const struct query_server *srv, uint16_t port,
	    const char *why)
{
	snprintf(r->err, sizeof(r->err), "communications error to %s#%u: %s", srv->addr,
		 (unsigned)port, why);
	return XFER_UNREACHABLE;
}

/*
 * One query over UDP with retries.  The socket is connected so that only the server's
 * datagrams arrive and an ICMP port-unreachable surfaces as ECONNREFUSED; datagrams that are
 * not our answer are dropped and the wait goes on until the try's deadline.
 */
static enum xfer
udp_exchange(const struct query_opts *q, const struct query_server *srv, uint16_t id,
	     const uint8_t *msg, size_t msglen, struct query_result *r)
{
	enum xfer res = XFER_UNREACHABLE;
	bool mismatch = false;
	int fd = socket(srv->ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return unreachable(r, srv, q->port, strerror(errno));
	}
	bind_random_port(fd, srv->ss.ss_family);
	if (connect(fd, (const struct sockaddr *)&srv->ss, srv->sslen) < 0) {
		res = unreachable(r, srv, q->port, strerror(errno));
		goto out;
	}
	for (int t = 0; t < q->tries; t++) {
		int64_t sent = now_ms();
		int64_t deadline = sent + q->timeout_ms;
		if (send(fd, msg, msglen, 0) < 0) {
			res = unreachable(r, srv, q->port, strerror(errno));
			goto out;
		}
		for (;;) {
			int w = wait_fd(fd, POLLIN, deadline);
			if (w == 0) {
				break;
			}
			ssize_t n = w < 0 ? -1 : recv(fd, r->pkt, DNS_MSG_MAX, 0);
			if (n < 0) {
				if (errno == EINTR) {
					continue;
				}
				res = unreachable(r, srv, q->port, strerror(errno));
				goto out;
			}
			enum resp_kind k = check_response(r->pkt, (size_t)n, id, q);
			if (k == RESP_MATCH) {
				r->len = (size_t)n;
				r->rtt_ms = now_ms() - sent;
				res = XFER_OK;
				goto out;
			}
			if (k == RESP_MALFORMED) {
				snprintf(r->err, sizeof(r->err), "malformed response from %s#%u",
					 srv->addr, (unsigned)q->port);
				res = XFER_BAD;
				goto out;
			}
			if (k == RESP_MISMATCH && !mismatch) {
				mismatch = true;
				fprintf(stderr, ";; Warning: ID matches but question section does "
						"not; ignoring the response from %s#%u\n",
					srv->addr, (unsigned)q->port);
			}
		}
	}
	if (mismatch) {
		snprintf(r->err, sizeof(r->err), "no matching response from %s#%u (question "
			 "section mismatch)", srv->addr, (unsigned)q->port);
		res = XFER_BAD;
	} else {
		snprintf(r->err, sizeof(r->err), "connection timed out; no servers could be "
			 "reached");
	}
out:
	close(fd);
	return res;
}

enum io {
	IO_OK = 0,
	IO_TIMEOUT = 1,
	IO_ERROR = -1, /* errno says why */
	IO_EOF = -2,
};

static enum io
write_all(int fd, const uint8_t *buf, size_t len, int64_t deadline)
{
	size_t off = 0;
	while (off < len) {
		ssize_t n = send(fd, buf + off, len - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int w = wait_fd(fd, POLLOUT, deadline);
			if (w <= 0) {
				return w == 0 ? IO_TIMEOUT : IO_ERROR;
			}
			continue;
		}
		return IO_ERROR;
	}
	return IO_OK;
}

/* Reads exactly len octets; a stream delivers a message in as many pieces as it likes. */
static enum io
read_all(int fd, uint8_t *buf, size_t len, int64_t deadline)
{
	size_t off = 0;
	while (off < len) {
		ssize_t n = recv(fd, buf + off, len - off, 0);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n == 0) {
			return IO_EOF;
		}
		if (errno == EINTR) {
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			int w = wait_fd(fd, POLLIN, deadline);
			if (w <= 0) {
				return w == 0 ? IO_TIMEOUT : IO_ERROR;
			}
			continue;
		}
		return IO_ERROR;
	}
	return IO_OK;
}

/* Connects without blocking past deadline. */
static enum io
connect_by(int fd, const struct query_server *srv, int64_t deadline)
{
	if (connect(fd, (const struct sockaddr *)&srv->ss, srv->sslen) == 0) {
		return IO_OK;
	}
	if (errno != EINPROGRESS) {
		return IO_ERROR;
	}
	int w = wait_fd(fd, POLLOUT, deadline);
	if (w <= 0) {
		return w == 0 ? IO_TIMEOUT : IO_ERROR;
	}
	int err = 0;
	socklen_t elen = sizeof(err);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0) {
		return IO_ERROR;
	}
	if (err != 0) {
		errno = err;
		return IO_ERROR;
	}
	return IO_OK;
}

/* One query over TCP with the two-octet length prefix of RFC 1035 §4.2.2 / RFC 7766 §8. */
static enum xfer
tcp_exchange(const struct query_opts *q, const struct query_server *srv, uint16_t id,
	     const uint8_t *msg, size_t msglen, struct query_result *r)
{
	uint8_t frame[2 + DNS_UDP_MIN];
	if (msglen > DNS_UDP_MIN) {
		snprintf(r->err, sizeof(r->err), "query too large");
		return XFER_BAD;
	}
	tdns_put16(frame, (uint16_t)msglen);
	memcpy(frame + 2, msg, msglen);
	r->tcp = true;
	for (int t = 0; t < q->tries; t++) {
		int64_t sent = now_ms();
		int64_t deadline = sent + q->timeout_ms;
		int fd = socket(srv->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			return unreachable(r, srv, q->port, strerror(errno));
		}
		enum io io = connect_by(fd, srv, deadline);
		if (io == IO_OK) {
			io = write_all(fd, frame, 2 + msglen, deadline);
		}
		uint8_t lenbuf[2];
		if (io == IO_OK) {
			io = read_all(fd, lenbuf, 2, deadline);
		}
		if (io == IO_OK) {
			r->len = tdns_get16(lenbuf);
			io = read_all(fd, r->pkt, r->len, deadline);
		}
		int saved = errno;
		close(fd);
		if (io == IO_TIMEOUT) {
			continue;
		}
		if (io == IO_ERROR) {
			return unreachable(r, srv, q->port, strerror(saved));
		}
		if (io == IO_EOF) {
			snprintf(r->err, sizeof(r->err), "%s#%u closed the connection without a "
				 "complete answer", srv->addr, (unsigned)q->port);
			return XFER_BAD;
		}
		r->rtt_ms = now_ms() - sent;
		/* One query per connection: whatever comes back must be its answer. */
		enum resp_kind k = check_response(r->pkt, r->len, id, q);
		if (k != RESP_MATCH) {
			snprintf(r->err, sizeof(r->err), "%s response from %s#%u over TCP",
				 k == RESP_MALFORMED ? "malformed" : "mismatched", srv->addr,
				 (unsigned)q->port);
			return XFER_BAD;
		}
		return XFER_OK;
	}
	snprintf(r->err, sizeof(r->err), "connection timed out; no servers could be reached");
	return XFER_UNREACHABLE;
}

/* ------------------------------------------------------------------------------------------ */
/* Output                                                                                      */

/* Text of one RR's rdata; names decompressed first.  False if the rdata is malformed. */
static bool
rdata_text(const struct dns_msg *m, const struct dns_rr *rr, uint8_t *rdbuf, char *text)
{
	size_t rdlen = 0;
	int rc = dns_rdata_unpack(rr->type, m->pkt, m->len, rr->rdata_off, rr->rdlen, rdbuf,
				  DNS_RDATA_MAX, &rdlen);
	if (rc == TDNS_OK) {
		rc = dns_rdata_to_text(rr->type, rdbuf, rdlen, text, QUERY_TEXT_MAX);
		if (rc >= 0) {
			return true;
		}
	}
	/* Show the octets as received in RFC 3597 §5 form. */
	int n = snprintf(text, QUERY_TEXT_MAX, "\\# %u", (unsigned)rr->rdlen);
	if (rr->rdlen > 0) {
		text[n++] = ' ';
		for (size_t i = 0; i < rr->rdlen; i++) {
			n += snprintf(text + n, QUERY_TEXT_MAX - (size_t)n, "%02X",
				      m->pkt[rr->rdata_off + i]);
		}
	}
	return false;
}

/* Pads with tabs to column col, at least one tab, as dig lines up its columns. */
static void
pad_to(FILE *f, size_t used, size_t col)
{
	do {
		fputc('\t', f);
		used = (used / 8 + 1) * 8;
	} while (used < col);
}

/* Writes text bytes, escaping what would break a line as \DDD. */
static void
print_escaped(FILE *f, const uint8_t *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] < 0x20 || s[i] == 0x7f) {
			fprintf(f, "\\%03u", s[i]);
		} else {
			fputc(s[i], f);
		}
	}
}

static void
print_opt(FILE *f, const struct dns_edns *e)
{
	fprintf(f, ";; OPT PSEUDOSECTION:\n; EDNS: version: %u, flags:%s;", e->version,
		e->do_bit ? " do" : "");
	if (e->z != 0) {
		fprintf(f, " MBZ: 0x%04x,", e->z);
	}
	fprintf(f, " udp: %u\n", e->udp_size);
	const uint8_t *p = e->options;
	size_t len = e->options_len;
	/* dns_msg_parse checked the option framing (RFC 6891 §6.1.2). */
	for (size_t off = 0; len - off >= 4;) {
		uint16_t code = tdns_get16(p + off);
		size_t olen = tdns_get16(p + off + 2);
		const uint8_t *d = p + off + 4;
		off += 4 + olen;
		if (code == DNS_OPT_CODE_EDE && olen >= 2) {
			/* RFC 8914 §2: INFO-CODE, then optional EXTRA-TEXT. */
			uint16_t info = tdns_get16(d);
			const char *name = info < sizeof(ede_names) / sizeof(ede_names[0]) &&
						   ede_names[info] != NULL ? ede_names[info]
									   : "Unknown";
			fprintf(f, "; EDE: %u (%s)", info, name);
			if (olen > 2) {
				fputs(": (", f);
				print_escaped(f, d + 2, olen - 2);
				fputc(')', f);
			}
			fputc('\n', f);
			continue;
		}
		if (code == OPT_PADDING) {
			fprintf(f, "; PAD: (%zu bytes)\n", olen);
			continue;
		}
		if (code == OPT_NSID) {
			fputs("; NSID: ", f);
		} else if (code == OPT_COOKIE) {
			fputs("; COOKIE: ", f);
		} else {
			fprintf(f, "; OPT=%u: ", code);
		}
		for (size_t i = 0; i < olen; i++) {
			fprintf(f, "%02x", d[i]);
		}
		if (code == OPT_NSID) {
			fputs(" (\"", f);
			print_escaped(f, d, olen);
			fputs("\")", f);
		}
		fputc('\n', f);
	}
}

/* The dig layout; returns false if some rdata was malformed. */
static bool
print_dig(FILE *f, const struct query_opts *q, const struct query_server *srv,
	  const struct query_result *r, const struct dns_msg *m, int argc, char **argv,
	  uint8_t *rdbuf, char *text)
{
	bool ok = true;
	char b1[16], b2[16];
	fprintf(f, "; <<>> tdns-cli %s <<>>", PACKAGE_VERSION);
	for (int i = 0; i < argc; i++) {
		fprintf(f, " %s", argv[i]);
	}
	fprintf(f, "\n;; Got answer:\n");
	fprintf(f, ";; ->>HEADER<<- opcode: %s, status: %s, id: %u\n",
		dns_opcode_to_text(DNS_OPCODE(m->flags), b1), dns_rcode_to_text(m->rcode, b2),
		m->id);
	static const struct {
		uint16_t bit;
		const char *name;
	} flag_names[] = {
		{ DNS_FLAG_QR, "qr" }, { DNS_FLAG_AA, "aa" }, { DNS_FLAG_TC, "tc" },
		{ DNS_FLAG_RD, "rd" }, { DNS_FLAG_RA, "ra" }, { DNS_FLAG_AD, "ad" },
		{ DNS_FLAG_CD, "cd" },
	};
	fprintf(f, ";; flags:");
	for (size_t i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++) {
		if (m->flags & flag_names[i].bit) {
			fprintf(f, " %s", flag_names[i].name);
		}
	}
	fprintf(f, "; QUERY: %u, ANSWER: %u, AUTHORITY: %u, ADDITIONAL: %u\n", m->count[0],
		m->count[1], m->count[2], m->count[3]);
	if ((m->flags & DNS_FLAG_RD) && !(m->flags & DNS_FLAG_RA)) {
		fprintf(f, ";; WARNING: recursion requested but not available\n");
	}
	fputc('\n', f);
	if (m->edns.present) {
		print_opt(f, &m->edns);
	}
	char name[DNS_NAME_TEXT_MAX];
	if (m->count[0] > 0) {
		int n = dns_name_to_text(m->qname, name, sizeof(name));
		fprintf(f, ";; QUESTION SECTION:\n;%s", name);
		pad_to(f, (size_t)n + 1, 32);
		fprintf(f, "%s\t%s\n", dns_class_to_text(m->qclass, b1),
			dns_type_to_text(m->qtype, b2));
	}
	static const char *const titles[] = {
		[DNS_SECTION_ANSWER] = "ANSWER",
		[DNS_SECTION_AUTHORITY] = "AUTHORITY",
		[DNS_SECTION_ADDITIONAL] = "ADDITIONAL",
	};
	int shown = -1;
	for (size_t i = 0; i < m->nrr; i++) {
		const struct dns_rr *rr = &m->rrs[i];
		if (rr->type == DNS_TYPE_OPT) {
			continue;
		}
		if (rr->section != shown) {
			fprintf(f, "\n;; %s SECTION:\n", titles[rr->section]);
			shown = rr->section;
		}
		ok = rdata_text(m, rr, rdbuf, text) && ok;
		int n = dns_name_to_text(rr->owner, name, sizeof(name));
		fputs(name, f);
		pad_to(f, (size_t)n, 24);
		fprintf(f, "%u\t%s\t%s\t%s\n", rr->ttl, dns_class_to_text(rr->rclass, b1),
			dns_type_to_text(rr->type, b2), text);
	}
	char when[64];
	time_t now = time(NULL);
	struct tm tm;
	strftime(when, sizeof(when), "%a %b %d %H:%M:%S %Z %Y", localtime_r(&now, &tm));
	fprintf(f, "\n;; Query time: %lld msec\n", (long long)r->rtt_ms);
	fprintf(f, ";; SERVER: %s#%u(%s) (%s)\n", srv->addr, (unsigned)q->port, q->server,
		r->tcp ? "TCP" : "UDP");
	fprintf(f, ";; WHEN: %s\n;; MSG SIZE  rcvd: %zu\n\n", when, r->len);
	return ok;
}

static bool
print_short(FILE *f, const struct dns_msg *m, uint8_t *rdbuf, char *text)
{
	bool ok = true;
	for (size_t i = 0; i < m->nrr; i++) {
		if (m->rrs[i].section == DNS_SECTION_ANSWER) {
			ok = rdata_text(m, &m->rrs[i], rdbuf, text) && ok;
			fprintf(f, "%s\n", text);
		}
	}
	return ok;
}

/* Octets of one UTF-8 character at s (RFC 3629 §4), or 0 if it is not valid UTF-8. */
static size_t
utf8_len(const uint8_t *s, size_t len)
{
	uint8_t c = s[0];
	size_t n;
	uint8_t lo = 0x80, hi = 0xbf;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		lo = c == 0xe0 ? 0xa0 : 0x80;
		hi = c == 0xed ? 0x9f : 0xbf;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		lo = c == 0xf0 ? 0x90 : 0x80;
		hi = c == 0xf4 ? 0x8f : 0xbf;
	} else {
		return 0;
	}
	if (len < n || s[1] < lo || s[1] > hi) {
		return 0;
	}
	for (size_t i = 2; i < n; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf) {
			return 0;
		}
	}
	return n;
}

/* A JSON string (RFC 8259 §7); octets that are not UTF-8 become U+FFFD. */
static void
json_str(FILE *f, const void *mem, size_t len)
{
	const uint8_t *s = mem;
	fputc('"', f);
	for (size_t i = 0; i < len;) {
		uint8_t c = s[i];
		if (c == '"' || c == '\\') {
			fputc('\\', f);
			fputc(c, f);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
			i++;
		} else if (c < 0x80) {
			fputc(c, f);
			i++;
		} else {
			size_t n = utf8_len(s + i, len - i);
			if (n == 0) {
				fputs("\\ufffd", f);
				i++;
			} else {
				fwrite(s + i, 1, n, f);
				i += n;
			}
		}
	}
	fputc('"', f);
}

/* A small writer that puts the commas in the right places. */
struct jw {
	FILE *f;
	int depth;
	bool more[8]; /* an element was written at this depth */
};

static void
jw_sep(struct jw *w, const char *key)
{
	if (w->more[w->depth]) {
		fputc(',', w->f);
	}
	w->more[w->depth] = true;
	fputc('\n', w->f);
	for (int i = 0; i <= w->depth; i++) {
		fputs("  ", w->f);
	}
	if (key != NULL) {
		json_str(w->f, key, strlen(key));
		fputs(": ", w->f);
	}
}

static void
jw_open(struct jw *w, const char *key, char brace)
{
	if (w->depth >= 0) {
		jw_sep(w, key);
	}
	fputc(brace, w->f);
	w->depth++;
	w->more[w->depth] = false;
}

static void
jw_close(struct jw *w, char brace)
{
	bool any = w->more[w->depth];
	w->depth--;
	if (any) {
		fputc('\n', w->f);
		for (int i = 0; i <= w->depth; i++) {
			fputs("  ", w->f);
		}
	}
	fputc(brace, w->f);
}

static void
jw_int(struct jw *w, const char *key, long long v)
{
	jw_sep(w, key);
	fprintf(w->f, "%lld", v);
}

static void
jw_bool(struct jw *w, const char *key, bool v)
{
	jw_sep(w, key);
	fputs(v ? "true" : "false", w->f);
}

static void
jw_str(struct jw *w, const char *key, const void *s, size_t len)
{
	jw_sep(w, key);
	json_str(w->f, s, len);
}

static void
jw_cstr(struct jw *w, const char *key, const char *s)
{
	jw_str(w, key, s, strlen(s));
}

static void
jw_hex(struct jw *w, const char *key, const uint8_t *p, size_t len)
{
	jw_sep(w, key);
	fputc('"', w->f);
	for (size_t i = 0; i < len; i++) {
		fprintf(w->f, "%02X", p[i]);
	}
	fputc('"', w->f);
}

static bool
json_rr(struct jw *w, const struct dns_msg *m, const struct dns_rr *rr, uint8_t *rdbuf,
	char *text)
{
	char name[DNS_NAME_TEXT_MAX], b[16];
	bool ok = rdata_text(m, rr, rdbuf, text);
	jw_open(w, NULL, '{');
	dns_name_to_text(rr->owner, name, sizeof(name));
	jw_cstr(w, "NAME", name);
	jw_int(w, "TYPE", rr->type);
	jw_cstr(w, "TYPEname", dns_type_to_text(rr->type, b));
	jw_int(w, "CLASS", rr->rclass);
	/* OPT's CLASS is the payload size, not a class (RFC 6891 §6.1.2). */
	if (rr->type != DNS_TYPE_OPT) {
		jw_cstr(w, "CLASSname", dns_class_to_text(rr->rclass, b));
	}
	jw_int(w, "TTL", rr->ttl);
	jw_int(w, "RDLENGTH", rr->rdlen);
	jw_hex(w, "RDATAHEX", m->pkt + rr->rdata_off, rr->rdlen);
	if (rr->type != DNS_TYPE_OPT) {
		jw_cstr(w, "rdata", text);
		size_t ntypes = sizeof(json_rdata_types) / sizeof(json_rdata_types[0]);
		for (size_t i = 0; ok && i < ntypes; i++) {
			if (json_rdata_types[i] == rr->type) {
				char key[32];
				const char *tname = dns_type_to_text(rr->type, b);
				snprintf(key, sizeof(key), "rdata%s", tname);
				jw_cstr(w, key, text);
			}
		}
	}
	jw_close(w, '}');
	return ok;
}

/* RFC 8427 §2.1 message object, plus a few members of our own (EDNS, server, timing). */
static bool
print_json(FILE *f, const struct query_opts *q, const struct query_server *srv,
	   const struct query_result *r, const struct dns_msg *m, uint8_t *rdbuf, char *text)
{
	bool ok = true;
	struct jw w = { .f = f, .depth = -1 };
	char name[DNS_NAME_TEXT_MAX], b[16];
	jw_open(&w, NULL, '{');
	jw_int(&w, "ID", m->id);
	jw_bool(&w, "QR", m->flags & DNS_FLAG_QR);
	jw_int(&w, "Opcode", DNS_OPCODE(m->flags));
	jw_bool(&w, "AA", m->flags & DNS_FLAG_AA);
	jw_bool(&w, "TC", m->flags & DNS_FLAG_TC);
	jw_bool(&w, "RD", m->flags & DNS_FLAG_RD);
	jw_bool(&w, "RA", m->flags & DNS_FLAG_RA);
	jw_bool(&w, "AD", m->flags & DNS_FLAG_AD);
	jw_bool(&w, "CD", m->flags & DNS_FLAG_CD);
	jw_int(&w, "RCODE", DNS_RCODE(m->flags));
	jw_cstr(&w, "RCODEname", dns_rcode_to_text(m->rcode, b));
	jw_int(&w, "QDCOUNT", m->count[0]);
	jw_int(&w, "ANCOUNT", m->count[1]);
	jw_int(&w, "NSCOUNT", m->count[2]);
	jw_int(&w, "ARCOUNT", m->count[3]);
	if (m->count[0] > 0) {
		dns_name_to_text(m->qname, name, sizeof(name));
		jw_cstr(&w, "QNAME", name);
		jw_int(&w, "QTYPE", m->qtype);
		jw_cstr(&w, "QTYPEname", dns_type_to_text(m->qtype, b));
		jw_int(&w, "QCLASS", m->qclass);
		jw_cstr(&w, "QCLASSname", dns_class_to_text(m->qclass, b));
	}
	static const char *const keys[] = {
		[DNS_SECTION_ANSWER] = "answerRRs",
		[DNS_SECTION_AUTHORITY] = "authorityRRs",
		[DNS_SECTION_ADDITIONAL] = "additionalRRs",
	};
	size_t i = 0;
	for (int s = DNS_SECTION_ANSWER; s <= DNS_SECTION_ADDITIONAL; s++) {
		jw_open(&w, keys[s], '[');
		for (; i < m->nrr && m->rrs[i].section == s; i++) {
			ok = json_rr(&w, m, &m->rrs[i], rdbuf, text) && ok;
		}
		jw_close(&w, ']');
	}
	if (m->edns.present) {
		const struct dns_edns *e = &m->edns;
		jw_open(&w, "EDNS", '{');
		jw_int(&w, "version", e->version);
		jw_bool(&w, "DO", e->do_bit);
		jw_int(&w, "udpPayloadSize", e->udp_size);
		jw_int(&w, "extendedRCODE", m->rcode);
		jw_open(&w, "EDE", '[');
		for (size_t off = 0; e->options_len - off >= 4;) {
			uint16_t code = tdns_get16(e->options + off);
			size_t olen = tdns_get16(e->options + off + 2);
			const uint8_t *d = e->options + off + 4;
			off += 4 + olen;
			if (code != DNS_OPT_CODE_EDE || olen < 2) {
				continue;
			}
			uint16_t info = tdns_get16(d);
			jw_open(&w, NULL, '{');
			jw_int(&w, "code", info);
			if (info < sizeof(ede_names) / sizeof(ede_names[0]) && ede_names[info]) {
				jw_cstr(&w, "name", ede_names[info]);
			}
			jw_str(&w, "text", d + 2, olen - 2);
			jw_close(&w, '}');
		}
		jw_close(&w, ']');
		jw_close(&w, '}');
	}
	jw_hex(&w, "messageOctetsHEX", r->pkt, r->len);
	jw_cstr(&w, "server", srv->addr);
	jw_int(&w, "port", q->port);
	jw_cstr(&w, "transport", r->tcp ? "TCP" : "UDP");
	jw_int(&w, "queryTimeMsec", r->rtt_ms);
	jw_close(&w, '}');
	fputc('\n', f);
	return ok;
}

static void
print_error(const struct query_opts *q, const char *msg)
{
	fprintf(stderr, ";; %s\n", msg);
	if (q->json) {
		struct jw w = { .f = stdout, .depth = -1 };
		jw_open(&w, NULL, '{');
		jw_cstr(&w, "error", msg);
		jw_close(&w, '}');
		fputc('\n', stdout);
	}
}

/* ------------------------------------------------------------------------------------------ */

int
cli_query_run(const struct cli_opts *o, int argc, char **argv)
{
	struct query_opts q = {
		.qtype = DNS_TYPE_A,
		.qclass = DNS_CLASS_IN,
		.port = QUERY_PORT,
		.recurse = true,
		.json = o->json,
		.timeout_ms = QUERY_TIMEOUT_MS,
		.tries = QUERY_TRIES,
	};
	if (parse_args(argc, argv, &q) < 0) {
		return CLI_EXIT_USAGE;
	}
	struct query_server srv;
	if (resolve_server(&q, &srv) < 0) {
		return CLI_EXIT_USAGE;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "tdns-cli query: libsodium failed to initialise\n");
		return CLI_EXIT_FAILED;
	}

	int ret = CLI_EXIT_FAILED;
	struct dns_msg m = { 0 };
	struct query_result r = { .pkt = tdns_xmalloc(DNS_MSG_MAX) };
	uint8_t *rdbuf = tdns_xmalloc(DNS_RDATA_MAX);
	char *text = tdns_xmalloc(QUERY_TEXT_MAX);
	uint8_t msg[DNS_UDP_MIN];
	/* RFC 5452 §9.2: an unpredictable ID is half of what stops spoofed answers. */
	uint16_t id = (uint16_t)randombytes_uniform(65536);
	size_t msglen = build_query(&q, id, msg, sizeof(msg));
	if (msglen == 0) {
		fprintf(stderr, "tdns-cli query: cannot build the query\n");
		goto out;
	}

	enum xfer x;
	if (q.tcp) {
		x = tcp_exchange(&q, &srv, id, msg, msglen, &r);
	} else {
		x = udp_exchange(&q, &srv, id, msg, msglen, &r);
		/* RFC 7766 §5: a truncated UDP answer is retried over TCP. */
		if (x == XFER_OK && (tdns_get16(r.pkt + 2) & DNS_FLAG_TC)) {
			fprintf(q.short_out || q.json ? stderr : stdout,
				";; Truncated, retrying in TCP mode.\n");
			x = tcp_exchange(&q, &srv, id, msg, msglen, &r);
		}
	}
	if (x != XFER_OK) {
		print_error(&q, r.err);
		ret = x == XFER_UNREACHABLE ? CLI_EXIT_UNREACHABLE : CLI_EXIT_FAILED;
		goto out;
	}
	int rc = dns_msg_parse(r.pkt, r.len, &m);
	if (rc != TDNS_OK) {
		char why[256];
		snprintf(why, sizeof(why), "malformed response from %s#%u: %s", srv.addr,
			 (unsigned)q.port, tdns_status_msg(rc));
		print_error(&q, why);
		goto out;
	}
	bool ok;
	if (q.json) {
		ok = print_json(stdout, &q, &srv, &r, &m, rdbuf, text);
	} else if (q.short_out) {
		ok = print_short(stdout, &m, rdbuf, text);
	} else {
		ok = print_dig(stdout, &q, &srv, &r, &m, argc, argv, rdbuf, text);
	}
	if (!ok) {
		fprintf(stderr, ";; Warning: malformed rdata shown in RFC 3597 form\n");
	}
	/* Like dig: any rcode is an answer; only a broken one is a failure. */
	ret = ok ? CLI_EXIT_OK : CLI_EXIT_FAILED;
out:
	fflush(stdout);
	dns_msg_clear(&m);
	free(text);
	free(rdbuf);
	free(r.pkt);
	return ret;
}
