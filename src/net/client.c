/* SPDX-License-Identifier: MIT */
/* Blocking DNS client transports: UDP, TCP, DNS over TLS, DNS over HTTPS and DoH-JSON. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/core.h"
#include "dns/dns.h"
#include "net/client.h"

#define CLIENT_TIMEOUT_MS 5000
#define CLIENT_TRIES 3
#define CLIENT_JSON_MAX (1024 * 1024) /* a DoH-JSON body larger than this is refused */
#define CLIENT_MAX_TOKENS 512
#define CLIENT_UA "tdns/" PACKAGE_VERSION

/* Per-query state of one client_exchange call. */
struct pend {
	struct client_xfer *x;
	uint8_t *q;          /* copy of the query with our ID */
	size_t qlen;
	uint16_t id;
	bool done;
	int64_t sent;
	/* HTTPS */
	int32_t stream;
	size_t body_sent;    /* POST body octets handed to nghttp2 */
	uint8_t *body;       /* response body */
	size_t blen, bcap;
	bool overflow;
	int status;          /* :status */
	char ctype[64];      /* content-type */
	bool closed;
	uint32_t h2_error;
};

struct client {
	struct client_server srv;
	struct client_opts o;
	char err[512];
	int fd;              /* open TCP/TLS connection, or -1 */
	bool fd_tls;
	SSL_CTX *ctx;
	SSL *ssl;
	SSL_SESSION *sess;   /* last session the server gave us, for resumption */
	nghttp2_session *h2;
	bool h2_goaway;
};

static int64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
fail(struct client *c, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
fail(struct client *c, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return status;
}

/* ------------------------------------------------------------------------------------------ */
/* Server syntax                                                                               */

const char *
client_proto_name(enum client_proto proto)
{
	static const char *const names[] = {
		[CLIENT_UDP] = "UDP",
		[CLIENT_TCP] = "TCP",
		[CLIENT_TLS] = "TLS",
		[CLIENT_HTTPS] = "HTTPS",
		[CLIENT_HTTPS_JSON] = "HTTPS-JSON",
	};
	return (unsigned)proto < sizeof(names) / sizeof(names[0]) ? names[proto] : "?";
}

uint16_t
client_proto_port(enum client_proto proto)
{
	switch (proto) {
	case CLIENT_TLS:
		return 853;
	case CLIENT_HTTPS:
	case CLIENT_HTTPS_JSON:
		return 443;
	default:
		return 53;
	}
}

static bool
is_https(enum client_proto p)
{
	return p == CLIENT_HTTPS || p == CLIENT_HTTPS_JSON;
}

static bool
is_ip_literal(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];
	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static int
perr(char *err, size_t errlen, const char *spec, const char *what)
{
	snprintf(err, errlen, "bad server '%s': %s", spec, what);
	return CLIENT_EINVAL;
}

/* Copies [s, s+len) into dst (cap octets) if it fits and is non-empty. */
static bool
copy_part(char *dst, size_t cap, const char *s, size_t len)
{
	if (len == 0 || len >= cap) {
		return false;
	}
	memcpy(dst, s, len);
	dst[len] = '\0';
	return true;
}

int
client_server_parse(const char *spec, struct client_server *out, char *err, size_t errlen)
{
	static const struct {
		const char *scheme;
		enum client_proto proto;
	} schemes[] = {
		{ "udp", CLIENT_UDP },
		{ "tcp", CLIENT_TCP },
		{ "tls", CLIENT_TLS },
		{ "https", CLIENT_HTTPS },
		{ "https+json", CLIENT_HTTPS_JSON },
	};
	memset(out, 0, sizeof(*out));
	const char *p = spec;
	out->proto = CLIENT_UDP;
	const char *sep = strstr(spec, "://");
	if (sep != NULL) {
		size_t slen = (size_t)(sep - spec);
		size_t i;
		for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
			if (strlen(schemes[i].scheme) == slen &&
			    strncasecmp(schemes[i].scheme, spec, slen) == 0) {
				break;
			}
		}
		if (i == sizeof(schemes) / sizeof(schemes[0])) {
			return perr(err, errlen, spec, "unknown scheme (use udp://, tcp://, "
				    "tls://, https:// or https+json://)");
		}
		out->proto = schemes[i].proto;
		p = sep + 3;
	}
	out->port = client_proto_port(out->proto);

	/* The fragment names the address to connect to, the rest the name to check. */
	const char *hash = strchr(p, '#');
	const char *end = hash != NULL ? hash : p + strlen(p);
	if (hash != NULL) {
		if (!is_https(out->proto) && out->proto != CLIENT_TLS) {
			return perr(err, errlen, spec, "'#ADDR' applies to tls:// and https:// "
				    "only (write udp://ADDR:PORT)");
		}
		const char *a = hash + 1;
		size_t alen = strlen(a);
		if (alen >= 2 && a[0] == '[' && a[alen - 1] == ']') {
			a++;
			alen -= 2;
		}
		if (!copy_part(out->addr, sizeof(out->addr), a, alen) ||
		    !is_ip_literal(out->addr)) {
			return perr(err, errlen, spec, "the part after '#' must be an IP address");
		}
	}
	const char *slash = memchr(p, '/', (size_t)(end - p));
	const char *auth_end = slash != NULL ? slash : end;
	if (slash != NULL) {
		if (!is_https(out->proto)) {
			return perr(err, errlen, spec, "a path applies to https:// only");
		}
		if (!copy_part(out->path, sizeof(out->path), slash, (size_t)(end - slash))) {
			return perr(err, errlen, spec, "path too long");
		}
		/* RFC 8484 §4.1: a URI Template with the variable dns asks for GET. */
		size_t plen = strlen(out->path);
		static const char tmpl[] = "{?dns}";
		if (plen >= sizeof(tmpl) - 1 &&
		    strcmp(out->path + plen - (sizeof(tmpl) - 1), tmpl) == 0) {
			out->path[plen - (sizeof(tmpl) - 1)] = '\0';
			out->get = true;
		}
		if (strchr(out->path, '{') != NULL || strchr(out->path, '}') != NULL) {
			return perr(err, errlen, spec, "the only URI template understood is a "
				    "trailing {?dns}");
		}
		if (out->path[0] == '\0') {
			snprintf(out->path, sizeof(out->path), "/dns-query");
		}
	} else if (is_https(out->proto)) {
		/* RFC 8484 §3 leaves the path to the server; /dns-query is what everyone uses. */
		snprintf(out->path, sizeof(out->path), "/dns-query");
	}

	const char *host = p;
	size_t hlen = (size_t)(auth_end - p);
	const char *port = NULL;
	if (hlen > 0 && host[0] == '[') {
		const char *close = memchr(host, ']', hlen);
		if (close == NULL) {
			return perr(err, errlen, spec, "missing ']' after an IPv6 address");
		}
		if (close + 1 < auth_end) {
			if (close[1] != ':') {
				return perr(err, errlen, spec, "expected ':PORT' after ']'");
			}
			port = close + 2;
		}
		host++;
		hlen = (size_t)(close - host);
	} else {
		const char *colon = memchr(host, ':', hlen);
		if (colon != NULL) {
			if (memchr(colon + 1, ':', (size_t)(auth_end - colon - 1)) != NULL) {
				return perr(err, errlen, spec, "write IPv6 addresses in brackets: "
					    "[2001:db8::1]:53");
			}
			port = colon + 1;
			hlen = (size_t)(colon - host);
		}
	}
	if (hlen == 0) {
		return perr(err, errlen, spec, "missing host");
	}
	if (!copy_part(out->name, sizeof(out->name), host, hlen)) {
		return perr(err, errlen, spec, "host name too long");
	}
	for (size_t i = 0; i < hlen; i++) {
		if ((unsigned char)out->name[i] <= ' ' || strchr("/?#@[]", out->name[i]) != NULL) {
			return perr(err, errlen, spec, "invalid character in the host");
		}
	}
	if (port != NULL) {
		size_t plen = (size_t)(auth_end - port);
		unsigned long v = 0;
		bool ok = plen > 0 && plen <= 5;
		for (size_t i = 0; ok && i < plen; i++) {
			ok = port[i] >= '0' && port[i] <= '9';
			v = v * 10 + (unsigned long)(port[i] - '0');
		}
		if (!ok || v == 0 || v > 65535) {
			return perr(err, errlen, spec, "the port must be a number from 1 to 65535");
		}
		out->port = (uint16_t)v;
	}
	return CLIENT_OK;
}

int
client_server_resolve(struct client_server *srv, char *err, size_t errlen)
{
	const char *host = srv->addr[0] != '\0' ? srv->addr : srv->name;
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV };
	char port[8];
	snprintf(port, sizeof(port), "%u", (unsigned)srv->port);
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0 || res == NULL) {
		snprintf(err, errlen, "cannot use server '%s': %s", host,
			 rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return CLIENT_EINVAL;
	}
	memcpy(&srv->ss, res->ai_addr, res->ai_addrlen);
	srv->sslen = res->ai_addrlen;
	freeaddrinfo(res);
	char text[CLIENT_ADDR_MAX];
	if (getnameinfo((struct sockaddr *)&srv->ss, srv->sslen, text, sizeof(text), NULL, 0,
			NI_NUMERICHOST) == 0) {
		snprintf(srv->addr, sizeof(srv->addr), "%s", text);
	} else if (srv->addr[0] == '\0') {
		snprintf(srv->addr, sizeof(srv->addr), "%.*s", (int)sizeof(srv->addr) - 1, host);
	}
	return CLIENT_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Client object and TLS context                                                              */

/* TLS 1.3 hands out tickets after the handshake (RFC 8446 §4.6.1), so we keep the latest. */
static int
new_session_cb(SSL *ssl, SSL_SESSION *sess)
{
	struct client *c = SSL_get_app_data(ssl);
	if (c == NULL) {
		return 0;
	}
	SSL_SESSION_free(c->sess);
	c->sess = sess;
	return 1;
}

static void
ssl_errors(char *buf, size_t cap)
{
	unsigned long e = ERR_get_error();
	if (e == 0) {
		snprintf(buf, cap, "unknown error");
		return;
	}
	ERR_error_string_n(e, buf, cap);
	ERR_clear_error();
}

struct client *
client_new(const struct client_server *srv, const struct client_opts *o, char *err,
	   size_t errlen)
{
	if (srv->sslen == 0) {
		snprintf(err, errlen, "server %s is not resolved", srv->name);
		return NULL;
	}
	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium failed to initialise");
		return NULL;
	}
	struct client *c = tdns_xcalloc(1, sizeof(*c));
	c->srv = *srv;
	c->o = *o;
	c->fd = -1;
	if (c->o.timeout_ms <= 0) {
		c->o.timeout_ms = CLIENT_TIMEOUT_MS;
	}
	if (c->o.tries <= 0) {
		c->o.tries = CLIENT_TRIES;
	}
	if (srv->proto != CLIENT_TLS && !is_https(srv->proto)) {
		return c;
	}
	char why[256];
	c->ctx = SSL_CTX_new(TLS_client_method());
	if (c->ctx == NULL) {
		ssl_errors(why, sizeof(why));
		snprintf(err, errlen, "cannot create a TLS context: %s", why);
		goto fail;
	}
	/* RFC 7858 §3.2 and RFC 8484 §5.2 ask for current TLS; RFC 8996 retired 1.0 and 1.1. */
	SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
	if (c->o.insecure) {
		SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, NULL);
	} else {
		SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
		int ok = c->o.ca_file != NULL
				 ? SSL_CTX_load_verify_locations(c->ctx, c->o.ca_file, NULL)
				 : SSL_CTX_set_default_verify_paths(c->ctx);
		if (ok != 1) {
			ssl_errors(why, sizeof(why));
			snprintf(err, errlen, "cannot load the CA certificates%s%s: %s",
				 c->o.ca_file != NULL ? " from " : "",
				 c->o.ca_file != NULL ? c->o.ca_file : "", why);
			goto fail;
		}
	}
	/* Keep sessions ourselves: one server per client, so one session to offer. */
	SSL_CTX_set_session_cache_mode(c->ctx, SSL_SESS_CACHE_CLIENT |
					       SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(c->ctx, new_session_cb);
	return c;
fail:
	client_free(c);
	return NULL;
}

/* Ends the connection; a best-effort close_notify, no waiting for the server's. */
void
client_close(struct client *c)
{
	if (c == NULL || c->fd < 0) {
		return;
	}
	if (c->h2 != NULL) {
		nghttp2_session_del(c->h2);
		c->h2 = NULL;
	}
	if (c->ssl != NULL) {
		SSL_shutdown(c->ssl);
		SSL_set_app_data(c->ssl, NULL);
		SSL_free(c->ssl);
		c->ssl = NULL;
		ERR_clear_error();
	}
	close(c->fd);
	c->fd = -1;
	c->h2_goaway = false;
}

void
client_free(struct client *c)
{
	if (c == NULL) {
		return;
	}
	client_close(c);
	SSL_SESSION_free(c->sess);
	SSL_CTX_free(c->ctx);
	free(c);
}

const char *
client_error(const struct client *c)
{
	return c->err;
}

/* ------------------------------------------------------------------------------------------ */
/* Sockets with deadlines                                                                      */

/* 1 when fd is ready, 0 at the deadline, -1 on a poll error. */
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

static int
comm_error(struct client *c, const char *why)
{
	return fail(c, CLIENT_ENET, "communications error to %s#%u: %s", c->srv.addr,
		    (unsigned)c->srv.port, why);
}

static int
timed_out(struct client *c)
{
	return fail(c, CLIENT_ETIMEOUT, "connection timed out; no servers could be reached");
}

/* Waits for what an SSL call asked for, or reports its failure. */
static int
ssl_wait(struct client *c, int rc, int64_t deadline, const char *what)
{
	int e = SSL_get_error(c->ssl, rc);
	short ev;
	if (e == SSL_ERROR_WANT_READ) {
		ev = POLLIN;
	} else if (e == SSL_ERROR_WANT_WRITE) {
		ev = POLLOUT;
	} else if (e == SSL_ERROR_ZERO_RETURN) {
		return comm_error(c, "TLS connection closed by the server");
	} else if (e == SSL_ERROR_SYSCALL) {
		ERR_clear_error();
		return comm_error(c, errno != 0 ? strerror(errno)
						: "connection closed by the server");
	} else {
		char why[256];
		ssl_errors(why, sizeof(why));
		return fail(c, CLIENT_ETLS, "TLS %s with %s#%u failed: %s", what, c->srv.addr,
			    (unsigned)c->srv.port, why);
	}
	int w = wait_fd(c->fd, ev, deadline);
	if (w == 0) {
		return timed_out(c);
	}
	return w < 0 ? comm_error(c, strerror(errno)) : CLIENT_OK;
}

static int
conn_write(struct client *c, const uint8_t *buf, size_t len, int64_t deadline)
{
	size_t off = 0;
	while (off < len) {
		if (c->ssl != NULL) {
			size_t w = 0;
			errno = 0;
			int rc = SSL_write_ex(c->ssl, buf + off, len - off, &w);
			if (rc == 1) {
				off += w;
				continue;
			}
			rc = ssl_wait(c, rc, deadline, "write");
			if (rc != CLIENT_OK) {
				return rc;
			}
			continue;
		}
		ssize_t n = send(c->fd, buf + off, len - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int w = wait_fd(c->fd, POLLOUT, deadline);
			if (w == 0) {
				return timed_out(c);
			}
			if (w < 0) {
				return comm_error(c, strerror(errno));
			}
			continue;
		}
		return comm_error(c, strerror(errno));
	}
	return CLIENT_OK;
}

/* Reads what is there (at least one octet) into buf; *got is set. */
static int
conn_read(struct client *c, uint8_t *buf, size_t cap, size_t *got, int64_t deadline)
{
	for (;;) {
		if (c->ssl != NULL) {
			errno = 0;
			int rc = SSL_read_ex(c->ssl, buf, cap, got);
			if (rc == 1) {
				return CLIENT_OK;
			}
			rc = ssl_wait(c, rc, deadline, "read");
			if (rc != CLIENT_OK) {
				return rc;
			}
			continue;
		}
		ssize_t n = recv(c->fd, buf, cap, 0);
		if (n > 0) {
			*got = (size_t)n;
			return CLIENT_OK;
		}
		if (n == 0) {
			return comm_error(c, "connection closed by the server");
		}
		if (errno == EINTR) {
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			int w = wait_fd(c->fd, POLLIN, deadline);
			if (w == 0) {
				return timed_out(c);
			}
			if (w < 0) {
				return comm_error(c, strerror(errno));
			}
			continue;
		}
		return comm_error(c, strerror(errno));
	}
}

static int
conn_read_exact(struct client *c, uint8_t *buf, size_t len, int64_t deadline)
{
	size_t off = 0;
	while (off < len) {
		size_t got = 0;
		int rc = conn_read(c, buf + off, len - off, &got, deadline);
		if (rc != CLIENT_OK) {
			return rc;
		}
		off += got;
	}
	return CLIENT_OK;
}

static int
tcp_connect(struct client *c, int64_t deadline)
{
	int fd = socket(c->srv.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return comm_error(c, strerror(errno));
	}
	if (connect(fd, (const struct sockaddr *)&c->srv.ss, c->srv.sslen) < 0) {
		if (errno != EINPROGRESS) {
			int rc = comm_error(c, strerror(errno));
			close(fd);
			return rc;
		}
		int w = wait_fd(fd, POLLOUT, deadline);
		int soerr = 0;
		socklen_t elen = sizeof(soerr);
		if (w > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &elen) < 0) {
			soerr = errno;
		}
		if (w <= 0 || soerr != 0) {
			int rc = w == 0 ? timed_out(c)
					: comm_error(c, strerror(w < 0 ? errno : soerr));
			close(fd);
			return rc;
		}
	}
	/* Queries are small and pipelined; Nagle would hold them back behind the TLS Finished. */
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->fd = fd;
	return CLIENT_OK;
}

/* TLS on the connected c->fd with SNI, certificate and name checks, and ALPN. */
static int
tls_handshake(struct client *c, int64_t deadline, struct client_info *info)
{
	c->ssl = SSL_new(c->ctx);
	if (c->ssl == NULL) {
		return fail(c, CLIENT_ETLS, "cannot create a TLS connection");
	}
	SSL_set_app_data(c->ssl, c);
	SSL_set_fd(c->ssl, c->fd);
	const char *name = c->srv.name;
	bool ip = is_ip_literal(name);
	/* RFC 6066 §3: literal addresses are not sent as server names. */
	if (!ip) {
		SSL_set_tlsext_host_name(c->ssl, name);
	}
	if (!c->o.insecure) {
		/* RFC 7858 §4.2 / RFC 8310 §8: authenticate the configured name. */
		int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), name)
			    : SSL_set1_host(c->ssl, name);
		if (ok != 1) {
			return fail(c, CLIENT_EINVAL, "cannot check the certificate for '%s'",
				    name);
		}
	}
	/* RFC 7858 has no ALPN id; "dot" is the IANA one (RFC 9461). h2: RFC 8484 §5.2. */
	static const unsigned char alpn_dot[] = "\x03" "dot";
	static const unsigned char alpn_h2[] = "\x02" "h2";
	bool h2 = is_https(c->srv.proto);
	if (SSL_set_alpn_protos(c->ssl, h2 ? alpn_h2 : alpn_dot,
				(unsigned)(h2 ? sizeof(alpn_h2) : sizeof(alpn_dot)) - 1) != 0) {
		return fail(c, CLIENT_ETLS, "cannot set ALPN");
	}
	if (c->sess != NULL) {
		SSL_set_session(c->ssl, c->sess);
	}
	ERR_clear_error();
	for (;;) {
		errno = 0;
		int rc = SSL_connect(c->ssl);
		if (rc == 1) {
			break;
		}
		long vr = SSL_get_verify_result(c->ssl);
		if (vr != X509_V_OK && SSL_get_error(c->ssl, rc) == SSL_ERROR_SSL) {
			ERR_clear_error();
			return fail(c, CLIENT_ETLS, "TLS certificate of %s#%u not accepted for "
				    "'%s': %s", c->srv.addr, (unsigned)c->srv.port, name,
				    X509_verify_cert_error_string(vr));
		}
		rc = ssl_wait(c, rc, deadline, "handshake");
		if (rc != CLIENT_OK) {
			return rc;
		}
	}
	const unsigned char *sel = NULL;
	unsigned sellen = 0;
	SSL_get0_alpn_selected(c->ssl, &sel, &sellen);
	if (h2 && (sellen != 2 || memcmp(sel, "h2", 2) != 0)) {
		return fail(c, CLIENT_EPROTO, "%s#%u did not agree to HTTP/2 (ALPN h2)",
			    c->srv.addr, (unsigned)c->srv.port);
	}
	if (info != NULL) {
		info->tls_resumed = SSL_session_reused(c->ssl);
		snprintf(info->tls_version, sizeof(info->tls_version), "%s",
			 SSL_get_version(c->ssl));
		snprintf(info->alpn, sizeof(info->alpn), "%.*s", (int)sellen,
			 sel != NULL ? (const char *)sel : "");
	}
	return CLIENT_OK;
}

static int h2_start(struct client *c);

/* Opens TCP, then TLS and HTTP/2 as the transport needs.  Closes everything on failure. */
static int
conn_open(struct client *c, enum client_proto proto, int64_t deadline, struct client_info *info)
{
	int rc = tcp_connect(c, deadline);
	if (rc == CLIENT_OK && proto != CLIENT_TCP) {
		rc = tls_handshake(c, deadline, info);
	}
	if (rc == CLIENT_OK && is_https(proto)) {
		rc = h2_start(c);
	}
	if (rc != CLIENT_OK) {
		client_close(c);
	}
	return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Response check                                                                              */

int
client_check_response(const uint8_t *query, size_t qlen, const uint8_t *resp, size_t rlen)
{
	if (qlen < DNS_HDR_LEN || rlen < DNS_HDR_LEN || tdns_get16(resp) != tdns_get16(query)) {
		return 1;
	}
	uint16_t flags = tdns_get16(resp + 2);
	if (!(flags & DNS_FLAG_QR)) {
		return 1;
	}
	if (DNS_OPCODE(flags) != DNS_OPCODE(tdns_get16(query + 2))) {
		return 2;
	}
	uint16_t qdcount = tdns_get16(resp + 4);
	if (qdcount == 0) {
		/* Some servers leave the question out of FORMERR, NOTIMP and REFUSED replies. */
		return DNS_RCODE(flags) != DNS_RCODE_NOERROR ? 0 : 2;
	}
	if (qdcount != 1) {
		return 2;
	}
	size_t qpos = DNS_HDR_LEN, rpos = DNS_HDR_LEN;
	uint8_t qname[DNS_NAME_MAX], rname[DNS_NAME_MAX];
	if (dns_name_unpack(query, qlen, &qpos, qname) < 0 || qlen - qpos < 4) {
		return 2;
	}
	if (dns_name_unpack(resp, rlen, &rpos, rname) < 0 || rlen - rpos < 4) {
		return 3;
	}
	/* dns_name_eq ignores case, so 0x20-mixed names still match (RFC 4343). */
	if (!dns_name_eq(qname, rname) || memcmp(query + qpos, resp + rpos, 4) != 0) {
		return 2;
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* UDP                                                                                         */

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

/*
 * One query over UDP with retries.  The socket is connected so that only the server's
 * datagrams arrive and an ICMP port-unreachable surfaces as ECONNREFUSED; datagrams that are
 * not our answer are dropped and the wait goes on until the try's deadline.
 */
static int
udp_one(struct client *c, struct pend *p, struct client_info *info)
{
	int res;
	bool mismatch = false;
	int fd = socket(c->srv.ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return comm_error(c, strerror(errno));
	}
	bind_random_port(fd, c->srv.ss.ss_family);
	if (connect(fd, (const struct sockaddr *)&c->srv.ss, c->srv.sslen) < 0) {
		res = comm_error(c, strerror(errno));
		goto out;
	}
	for (int t = 0; t < c->o.tries; t++) {
		p->sent = now_ms();
		int64_t deadline = p->sent + c->o.timeout_ms;
		if (send(fd, p->q, p->qlen, 0) < 0) {
			res = comm_error(c, strerror(errno));
			goto out;
		}
		for (;;) {
			int w = wait_fd(fd, POLLIN, deadline);
			if (w == 0) {
				break;
			}
			ssize_t n = w < 0 ? -1 : recv(fd, p->x->resp, CLIENT_MSG_MAX, 0);
			if (n < 0) {
				if (errno == EINTR) {
					continue;
				}
				res = comm_error(c, strerror(errno));
				goto out;
			}
			int k = client_check_response(p->q, p->qlen, p->x->resp, (size_t)n);
			if (k == 0) {
				p->x->len = (size_t)n;
				p->x->rtt_ms = now_ms() - p->sent;
				res = CLIENT_OK;
				goto out;
			}
			if (k == 3) {
				res = fail(c, CLIENT_EPROTO, "malformed response from %s#%u",
					   c->srv.addr, (unsigned)c->srv.port);
				goto out;
			}
			if (k == 2) {
				mismatch = true;
				if (info != NULL) {
					info->ignored++;
				}
			}
		}
	}
	if (mismatch) {
		res = fail(c, CLIENT_EPROTO, "no matching response from %s#%u (question section "
			   "mismatch)", c->srv.addr, (unsigned)c->srv.port);
	} else {
		res = timed_out(c);
	}
out:
	close(fd);
	return res;
}

/* ------------------------------------------------------------------------------------------ */
/* TCP and TLS: two-octet framing (RFC 1035 §4.2.2), pipelined (RFC 7766 §6.2.1.1)            */

static int
stream_try(struct client *c, enum client_proto proto, struct pend *p, size_t n,
	   struct client_info *info)
{
	int64_t start = now_ms();
	int64_t deadline = start + c->o.timeout_ms;
	int rc;
	bool reused = c->fd >= 0;
	if (!reused) {
		rc = conn_open(c, proto, deadline, info);
		if (rc != CLIENT_OK) {
			return rc;
		}
	} else if (info != NULL) {
		info->conn_reused = true;
	}
	size_t total = 0;
	for (size_t i = 0; i < n; i++) {
		total += 2 + p[i].qlen;
	}
	uint8_t *frames = tdns_xmalloc(total);
	size_t off = 0;
	for (size_t i = 0; i < n; i++) {
		tdns_put16(frames + off, (uint16_t)p[i].qlen);
		memcpy(frames + off + 2, p[i].q, p[i].qlen);
		off += 2 + p[i].qlen;
		p[i].sent = now_ms();
	}
	rc = conn_write(c, frames, total, deadline);
	free(frames);
	uint8_t *buf = tdns_xmalloc(CLIENT_MSG_MAX);
	size_t left = n;
	while (rc == CLIENT_OK && left > 0) {
		uint8_t lenbuf[2];
		rc = conn_read_exact(c, lenbuf, 2, deadline);
		size_t len = tdns_get16(lenbuf);
		if (rc == CLIENT_OK) {
			rc = conn_read_exact(c, buf, len, deadline);
		}
		if (rc != CLIENT_OK) {
			break;
		}
		/* RFC 7766 §7: answers may come in any order; the ID says which query it is. */
		struct pend *hit = NULL;
		for (size_t i = 0; i < n && hit == NULL; i++) {
			if (!p[i].done && len >= 2 && tdns_get16(buf) == p[i].id) {
				hit = &p[i];
			}
		}
		if (hit == NULL) {
			if (info != NULL) {
				info->ignored++;
			}
			continue;
		}
		hit->done = true;
		left--;
		int k = client_check_response(hit->q, hit->qlen, buf, len);
		if (k != 0) {
			hit->x->status = fail(c, CLIENT_EPROTO, "%s response from %s#%u over %s",
					      k == 3 ? "malformed" : "mismatched", c->srv.addr,
					      (unsigned)c->srv.port, client_proto_name(proto));
			continue;
		}
		memcpy(hit->x->resp, buf, len);
		hit->x->len = len;
		hit->x->rtt_ms = now_ms() - hit->sent;
		hit->x->status = CLIENT_OK;
	}
	free(buf);
	if (rc != CLIENT_OK) {
		client_close(c);
		/* RFC 7766 §6.2.3: a server may close an idle connection; one fresh try. */
		if (reused && rc == CLIENT_ENET) {
			for (size_t i = 0; i < n; i++) {
				p[i].done = false;
			}
			if (info != NULL) {
				info->conn_reused = false;
			}
			return stream_try(c, proto, p, n, info);
		}
	}
	return rc;
}

/* Retries a timed-out exchange on a new connection, up to o.tries times (like dig +tcp). */
static int
stream_exchange(struct client *c, enum client_proto proto, struct pend *p, size_t n,
		struct client_info *info)
{
	if (c->fd >= 0 && c->fd_tls != (proto != CLIENT_TCP)) {
		client_close(c);
	}
	c->fd_tls = proto != CLIENT_TCP;
	int rc = CLIENT_ETIMEOUT;
	for (int t = 0; t < c->o.tries; t++) {
		for (size_t i = 0; i < n; i++) {
			p[i].done = false;
			p[i].x->status = CLIENT_ETIMEOUT;
		}
		rc = stream_try(c, proto, p, n, info);
		if (rc != CLIENT_ETIMEOUT) {
			break;
		}
		client_close(c);
	}
	return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* HTTPS: HTTP/2 with nghttp2 (RFC 8484 §5.2), POST or GET, JSON                               */

void
client_h2_header(const uint8_t *name, size_t namelen, const uint8_t *value, size_t valuelen,
		 int *status, char *ctype, size_t ctypelen)
{
	if (namelen == 7 && memcmp(name, ":status", 7) == 0) {
		int st = 0;
		for (size_t i = 0; i < valuelen && i < 3; i++) {
			st = st * 10 + (value[i] - '0');
		}
		/* RFC 7540 §8.1: 1xx responses are interim; the final one follows. */
		if (st >= 200) {
			*status = st;
		}
	} else if (namelen == 12 && memcmp(name, "content-type", 12) == 0) {
		snprintf(ctype, ctypelen, "%.*s", (int)valuelen, (const char *)value);
	}
}

static int
h2_on_header(nghttp2_session *s, const nghttp2_frame *frame, const uint8_t *name,
	     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags, void *user)
{
	(void)flags;
	(void)user;
	if (frame->hd.type != NGHTTP2_HEADERS) {
		return 0;
	}
	struct pend *p = nghttp2_session_get_stream_user_data(s, frame->hd.stream_id);
	if (p != NULL) {
		client_h2_header(name, namelen, value, valuelen, &p->status, p->ctype,
				 sizeof(p->ctype));
	}
	return 0;
}

static int
h2_on_data(nghttp2_session *s, uint8_t flags, int32_t stream_id, const uint8_t *data,
	   size_t len, void *user)
{
	(void)flags;
	(void)user;
	struct pend *p = nghttp2_session_get_stream_user_data(s, stream_id);
	if (p == NULL) {
		return 0;
	}
	if (p->overflow || p->blen + len > p->bcap) {
		p->overflow = true;
		return 0;
	}
	memcpy(p->body + p->blen, data, len);
	p->blen += len;
	return 0;
}

static int
h2_on_close(nghttp2_session *s, int32_t stream_id, uint32_t error_code, void *user)
{
	(void)user;
	struct pend *p = nghttp2_session_get_stream_user_data(s, stream_id);
	if (p != NULL) {
		p->closed = true;
		p->h2_error = error_code;
	}
	return 0;
}

static int
h2_on_frame(nghttp2_session *s, const nghttp2_frame *frame, void *user)
{
	(void)s;
	struct client *c = user;
	if (frame->hd.type == NGHTTP2_GOAWAY) {
		c->h2_goaway = true;
	}
	return 0;
}

static ssize_t
h2_read_body(nghttp2_session *s, int32_t stream_id, uint8_t *buf, size_t length,
	     uint32_t *data_flags, nghttp2_data_source *source, void *user)
{
	(void)s;
	(void)stream_id;
	(void)user;
	struct pend *p = source->ptr;
	size_t n = p->qlen - p->body_sent;
	if (n > length) {
		n = length;
	}
	memcpy(buf, p->q + p->body_sent, n);
	p->body_sent += n;
	if (p->body_sent == p->qlen) {
		*data_flags |= NGHTTP2_DATA_FLAG_EOF;
	}
	return (ssize_t)n;
}

static int
h2_start(struct client *c)
{
	nghttp2_session_callbacks *cbs;
	if (nghttp2_session_callbacks_new(&cbs) != 0) {
		return fail(c, CLIENT_EINVAL, "out of memory");
	}
	nghttp2_session_callbacks_set_on_header_callback(cbs, h2_on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, h2_on_data);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, h2_on_close);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, h2_on_frame);
	int rv = nghttp2_session_client_new(&c->h2, cbs, c);
	nghttp2_session_callbacks_del(cbs);
	if (rv != 0) {
		c->h2 = NULL;
		return fail(c, CLIENT_EINVAL, "HTTP/2: %s", nghttp2_strerror(rv));
	}
	/* No server push (RFC 8484 §5.3 allows it, we have no use for it). */
	nghttp2_settings_entry iv[] = {
		{ NGHTTP2_SETTINGS_ENABLE_PUSH, 0 },
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100 },
	};
	nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, iv, sizeof(iv) / sizeof(iv[0]));
	return CLIENT_OK;
}

/* Writes everything nghttp2 has queued. */
static int
h2_flush(struct client *c, int64_t deadline)
{
	for (;;) {
		const uint8_t *data;
		ssize_t n = nghttp2_session_mem_send(c->h2, &data);
		if (n < 0) {
			return fail(c, CLIENT_EPROTO, "HTTP/2: %s", nghttp2_strerror((int)n));
		}
		if (n == 0) {
			return CLIENT_OK;
		}
		int rc = conn_write(c, data, (size_t)n, deadline);
		if (rc != CLIENT_OK) {
			return rc;
		}
	}
}

/* Percent-encodes s for a query string (RFC 3986 §2.1), keeping the unreserved characters. */
static void
url_encode(const char *s, char *out, size_t cap)
{
	size_t n = 0;
	for (; *s != '\0' && n + 4 < cap; s++) {
		unsigned char ch = (unsigned char)*s;
		bool keep = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			    (ch >= '0' && ch <= '9') || strchr("-._~", ch) != NULL;
		if (keep) {
			out[n++] = (char)ch;
		} else {
			n += (size_t)snprintf(out + n, cap - n, "%%%02X", ch);
		}
	}
	out[n] = '\0';
}

size_t
client_doh_path(const struct client_server *srv, const uint8_t *q, size_t qlen, char *path,
		size_t cap)
{
	const char *base = srv->path;
	char sepch = strchr(base, '?') != NULL ? '&' : '?';
	int n;
	if (srv->proto == CLIENT_HTTPS_JSON) {
		struct dns_msg m = { 0 };
		if (dns_msg_parse(q, qlen, &m) != TDNS_OK) {
			return 0;
		}
		char name[DNS_NAME_TEXT_MAX], enc[3 * DNS_NAME_TEXT_MAX + 1];
		dns_name_to_text(m.qname, name, sizeof(name));
		url_encode(name, enc, sizeof(enc));
		/* The JSON APIs take the type as a number or mnemonic; the flags as do=1, cd=1. */
		n = snprintf(path, cap, "%s%cname=%s&type=%u%s%s", base, sepch, enc,
			     (unsigned)m.qtype, m.edns.present && m.edns.do_bit ? "&do=1" : "",
			     (m.flags & DNS_FLAG_CD) ? "&cd=1" : "");
		dns_msg_clear(&m);
	} else {
		/* RFC 8484 §4.1: base64url without padding (RFC 4648 §5). */
		size_t b64cap = sodium_base64_ENCODED_LEN(qlen,
							  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		char *b64 = tdns_xmalloc(b64cap);
		sodium_bin2base64(b64, b64cap, q, qlen, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		n = snprintf(path, cap, "%s%cdns=%s", base, sepch, b64);
		free(b64);
	}
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

#define NV(n, v)                                                                              \
	{ (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE }

static int
h2_submit(struct client *c, struct pend *p)
{
	bool json = c->srv.proto == CLIENT_HTTPS_JSON;
	bool get = json || c->o.https_get || c->srv.get;
	char path[8192];
	if (get) {
		if (client_doh_path(&c->srv, p->q, p->qlen, path, sizeof(path)) == 0) {
			return fail(c, CLIENT_EINVAL, json ? "the query does not parse"
						       : "the query is too large for GET");
		}
	} else {
		snprintf(path, sizeof(path), "%s", c->srv.path);
	}
	char authority[CLIENT_NAME_MAX + 16];
	bool v6 = strchr(c->srv.name, ':') != NULL;
	if (c->srv.port == 443) {
		snprintf(authority, sizeof(authority), v6 ? "[%s]" : "%s", c->srv.name);
	} else {
		snprintf(authority, sizeof(authority), v6 ? "[%s]:%u" : "%s:%u", c->srv.name,
			 (unsigned)c->srv.port);
	}
	char clen[16];
	snprintf(clen, sizeof(clen), "%zu", p->qlen);
	const char *type = json ? "application/dns-json" : "application/dns-message";
	nghttp2_nv nva[] = {
		NV(":method", get ? "GET" : "POST"),
		NV(":scheme", "https"),
		NV(":authority", authority),
		NV(":path", path),
		NV("accept", type),
		NV("user-agent", CLIENT_UA),
		NV("content-type", type),
		NV("content-length", clen),
	};
	size_t nnv = sizeof(nva) / sizeof(nva[0]) - (get ? 2 : 0);
	nghttp2_data_provider prd = { .source.ptr = p, .read_callback = h2_read_body };
	p->body_sent = 0;
	p->blen = 0;
	p->overflow = false;
	p->status = 0;
	p->ctype[0] = '\0';
	p->closed = false;
	p->h2_error = 0;
	int32_t id = nghttp2_submit_request(c->h2, NULL, nva, nnv, get ? NULL : &prd, p);
	if (id < 0) {
		return fail(c, CLIENT_EPROTO, "HTTP/2: %s", nghttp2_strerror(id));
	}
	p->stream = id;
	return CLIENT_OK;
}

/* Checks the HTTP answer of one stream and turns it into x->resp. */
static int
h2_finish(struct client *c, struct pend *p)
{
	bool json = c->srv.proto == CLIENT_HTTPS_JSON;
	if (p->h2_error != NGHTTP2_NO_ERROR) {
		return fail(c, CLIENT_EPROTO, "%s#%u reset the HTTP/2 stream: %s", c->srv.addr,
			    (unsigned)c->srv.port, nghttp2_http2_strerror(p->h2_error));
	}
	if (p->status != 200) {
		return fail(c, CLIENT_EPROTO, "%s#%u answered with HTTP status %d", c->srv.addr,
			    (unsigned)c->srv.port, p->status);
	}
	/* RFC 8484 §6: the answer is application/dns-message; JSON APIs use dns-json or json. */
	size_t tl = strcspn(p->ctype, "; ");
	const char *want = json ? "application/dns-json" : "application/dns-message";
	bool type_ok = (tl == strlen(want) && strncasecmp(p->ctype, want, tl) == 0) ||
		       (json && tl == 16 && strncasecmp(p->ctype, "application/json", tl) == 0);
	if (!type_ok) {
		return fail(c, CLIENT_EPROTO, "%s#%u answered with content-type '%s', not %s",
			    c->srv.addr, (unsigned)c->srv.port, p->ctype, want);
	}
	if (p->overflow) {
		return fail(c, CLIENT_EPROTO, "the answer from %s#%u is too large", c->srv.addr,
			    (unsigned)c->srv.port);
	}
	if (json) {
		char why[256];
		size_t len = client_json_to_wire((const char *)p->body, p->blen, p->id, p->x->resp,
						 CLIENT_MSG_MAX, why, sizeof(why));
		if (len == 0) {
			return fail(c, CLIENT_EPROTO, "bad JSON answer from %s#%u: %s", c->srv.addr,
				    (unsigned)c->srv.port, why);
		}
		p->x->len = len;
	} else {
		memcpy(p->x->resp, p->body, p->blen);
		p->x->len = p->blen;
	}
	int k = client_check_response(p->q, p->qlen, p->x->resp, p->x->len);
	if (k != 0) {
		return fail(c, CLIENT_EPROTO, "%s response from %s#%u over HTTPS",
			    k == 3 ? "malformed" : "mismatched", c->srv.addr,
			    (unsigned)c->srv.port);
	}
	return CLIENT_OK;
}

static int
h2_try(struct client *c, struct pend *p, size_t n, struct client_info *info)
{
	int64_t deadline = now_ms() + c->o.timeout_ms;
	int rc = CLIENT_OK;
	bool reused = c->fd >= 0 && c->h2 != NULL && !c->h2_goaway;
	if (!reused) {
		client_close(c);
		rc = conn_open(c, c->srv.proto, deadline, info);
		if (rc != CLIENT_OK) {
			return rc;
		}
	} else if (info != NULL) {
		info->conn_reused = true;
	}
	size_t bcap = c->srv.proto == CLIENT_HTTPS_JSON ? CLIENT_JSON_MAX : CLIENT_MSG_MAX;
	for (size_t i = 0; i < n; i++) {
		p[i].bcap = bcap;
		p[i].body = tdns_xmalloc(bcap);
	}
	/* RFC 8484 §5.2 / RFC 7540 §5: every query is its own stream on the one connection. */
	for (size_t i = 0; i < n && rc == CLIENT_OK; i++) {
		p[i].sent = now_ms();
		rc = h2_submit(c, &p[i]);
	}
	size_t left = n;
	while (rc == CLIENT_OK) {
		rc = h2_flush(c, deadline);
		left = 0;
		for (size_t i = 0; i < n; i++) {
			if (p[i].closed && !p[i].done) {
				p[i].done = true;
				p[i].x->rtt_ms = now_ms() - p[i].sent;
				p[i].x->status = h2_finish(c, &p[i]);
				if (info != NULL) {
					info->http_status = p[i].status;
				}
			}
			left += !p[i].done;
		}
		if (rc != CLIENT_OK || left == 0) {
			break;
		}
		if (!nghttp2_session_want_read(c->h2)) {
			rc = comm_error(c, "HTTP/2 connection ended by the server");
			break;
		}
		uint8_t buf[16384];
		size_t got = 0;
		rc = conn_read(c, buf, sizeof(buf), &got, deadline);
		if (rc == CLIENT_OK) {
			ssize_t used = nghttp2_session_mem_recv(c->h2, buf, got);
			if (used < 0) {
				rc = fail(c, CLIENT_EPROTO, "HTTP/2 error from %s#%u: %s",
					  c->srv.addr, (unsigned)c->srv.port,
					  nghttp2_strerror((int)used));
			}
		}
	}
	for (size_t i = 0; i < n; i++) {
		free(p[i].body);
		p[i].body = NULL;
	}
	if (rc != CLIENT_OK || c->h2_goaway) {
		/* Streams still point at p; the session must not outlive this call. */
		client_close(c);
		if (rc == CLIENT_ENET && reused) {
			for (size_t i = 0; i < n; i++) {
				p[i].done = false;
			}
			if (info != NULL) {
				info->conn_reused = false;
			}
			return h2_try(c, p, n, info);
		}
	}
	return rc;
}

static int
h2_exchange(struct client *c, struct pend *p, size_t n, struct client_info *info)
{
	int rc = CLIENT_ETIMEOUT;
	for (int t = 0; t < c->o.tries; t++) {
		for (size_t i = 0; i < n; i++) {
			p[i].done = false;
			p[i].x->status = CLIENT_ETIMEOUT;
		}
		rc = h2_try(c, p, n, info);
		if (rc != CLIENT_ETIMEOUT) {
			break;
		}
	}
	return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* DoH-JSON answers                                                                            */

/* Splits rdata text into tokens: "quoted strings" (escapes kept) and words. */
static size_t
tokenize(const char *s, struct dns_tok *toks, size_t max)
{
	size_t n = 0;
	while (*s != '\0' && n < max) {
		if (*s == ' ' || *s == '\t') {
			s++;
			continue;
		}
		if (*s == '"') {
			const char *start = ++s;
			while (*s != '\0' && *s != '"') {
				s += s[0] == '\\' && s[1] != '\0' ? 2 : 1;
			}
			toks[n++] = (struct dns_tok){ start, (size_t)(s - start), true };
			if (*s == '"') {
				s++;
			}
			continue;
		}
		const char *start = s;
		while (*s != '\0' && *s != ' ' && *s != '\t') {
			s++;
		}
		toks[n++] = (struct dns_tok){ start, (size_t)(s - start), false };
	}
	return n;
}

static bool
json_name(json_t *v, uint8_t *out)
{
	static const uint8_t root[1] = { 0 };
	const char *s = json_string_value(v);
	return s != NULL && dns_name_from_text(s, strlen(s), root, out) >= 0;
}

static bool
json_uint(json_t *v, unsigned long max, unsigned long *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (unsigned long long)json_integer_value(v) > max) {
		return false;
	}
	*out = (unsigned long)json_integer_value(v);
	return true;
}

static bool
json_rr(json_t *rr, int section, struct dns_build *b, uint8_t *rd, char *err, size_t errlen)
{
	static const uint8_t root[1] = { 0 };
	uint8_t owner[DNS_NAME_MAX];
	unsigned long type, ttl;
	const char *data = json_string_value(json_object_get(rr, "data"));
	if (!json_is_object(rr) || !json_name(json_object_get(rr, "name"), owner) ||
	    !json_uint(json_object_get(rr, "type"), 65535, &type) ||
	    !json_uint(json_object_get(rr, "TTL"), UINT32_MAX, &ttl) || data == NULL) {
		snprintf(err, errlen, "a record lacks a valid name, type, TTL or data");
		return false;
	}
	struct dns_tok toks[CLIENT_MAX_TOKENS];
	size_t ntok;
	size_t dlen = strlen(data);
	bool txt = type == DNS_TYPE_TXT || type == 99; /* 99: SPF, RFC 4408 */
	if (txt && dlen > 0 && data[0] != '"') {
		/* Google sends TXT data unquoted: one string, cut into 255-octet pieces. */
		ntok = 0;
		for (size_t off = 0; off < dlen && ntok < CLIENT_MAX_TOKENS; off += 255) {
			size_t l = dlen - off < 255 ? dlen - off : 255;
			toks[ntok++] = (struct dns_tok){ data + off, l, true };
		}
	} else {
		ntok = tokenize(data, toks, CLIENT_MAX_TOKENS);
	}
	size_t rdlen = 0;
	char why[256];
	int rc = dns_rdata_from_text((uint16_t)type, toks, ntok, root, rd, DNS_RDATA_MAX, &rdlen,
				     why, sizeof(why));
	if (rc != TDNS_OK) {
		char tb[16];
		snprintf(err, errlen, "%s data '%s': %s", dns_type_to_text((uint16_t)type, tb),
			 data, why);
		return false;
	}
	if (dns_build_rr(b, section, owner, (uint16_t)type, DNS_CLASS_IN, (uint32_t)ttl, rd,
			 rdlen) != TDNS_OK) {
		snprintf(err, errlen, "the answer does not fit in a DNS message");
		return false;
	}
	return true;
}

size_t
client_json_to_wire(const char *json, size_t jlen, uint16_t id, uint8_t *out, size_t cap,
		    char *err, size_t errlen)
{
	json_error_t je;
	size_t len = 0;
	uint8_t *rd = NULL;
	json_t *root = json_loadb(json, jlen, 0, &je);
	if (root == NULL || !json_is_object(root)) {
		snprintf(err, errlen, "not a JSON object%s%s", root == NULL ? ": " : "",
			 root == NULL ? je.text : "");
		goto out;
	}
	unsigned long status;
	if (!json_uint(json_object_get(root, "Status"), 4095, &status)) {
		snprintf(err, errlen, "no valid \"Status\"");
		goto out;
	}
	static const struct {
		const char *key;
		uint16_t bit;
	} bits[] = {
		{ "TC", DNS_FLAG_TC }, { "RD", DNS_FLAG_RD }, { "RA", DNS_FLAG_RA },
		{ "AD", DNS_FLAG_AD }, { "CD", DNS_FLAG_CD },
	};
	uint16_t flags = DNS_FLAG_QR | (DNS_OPCODE_QUERY << 11) | (uint16_t)(status & 0xf);
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		if (json_is_true(json_object_get(root, bits[i].key))) {
			flags |= bits[i].bit;
		}
	}
	struct dns_build b;
	dns_build_init(&b, out, cap, cap, id, flags);
	if (status > 15) {
		/* Extended rcodes need an OPT record (RFC 6891 §6.1.3). */
		dns_build_edns(&b, DNS_EDNS_MAX_PAYLOAD, false);
		dns_build_rcode(&b, (int)status);
	}
	json_t *q = json_array_get(json_object_get(root, "Question"), 0);
	uint8_t qname[DNS_NAME_MAX];
	unsigned long qtype;
	if (!json_is_object(q) || !json_name(json_object_get(q, "name"), qname) ||
	    !json_uint(json_object_get(q, "type"), 65535, &qtype)) {
		snprintf(err, errlen, "no valid \"Question\"");
		goto out;
	}
	if (dns_build_question(&b, qname, (uint16_t)qtype, DNS_CLASS_IN) != TDNS_OK) {
		snprintf(err, errlen, "no room for the question");
		goto out;
	}
	static const struct {
		const char *key;
		int section;
	} sections[] = {
		{ "Answer", DNS_SECTION_ANSWER },
		{ "Authority", DNS_SECTION_AUTHORITY },
		{ "Additional", DNS_SECTION_ADDITIONAL },
	};
	rd = tdns_xmalloc(DNS_RDATA_MAX);
	for (size_t s = 0; s < sizeof(sections) / sizeof(sections[0]); s++) {
		json_t *arr = json_object_get(root, sections[s].key);
		if (arr == NULL) {
			continue;
		}
		if (!json_is_array(arr)) {
			snprintf(err, errlen, "\"%s\" is not an array", sections[s].key);
			goto out;
		}
		size_t i;
		json_t *rr;
		json_array_foreach(arr, i, rr) {
			if (!json_rr(rr, sections[s].section, &b, rd, err, errlen)) {
				goto out;
			}
		}
	}
	len = dns_build_finish(&b);
	if (len == 0) {
		snprintf(err, errlen, "the answer does not fit in a DNS message");
	}
out:
	free(rd);
	json_decref(root);
	return len;
}

/* ------------------------------------------------------------------------------------------ */

int
client_exchange(struct client *c, struct client_xfer *x, size_t n, struct client_info *info)
{
	if (info != NULL) {
		memset(info, 0, sizeof(*info));
		info->proto = c->srv.proto;
	}
	c->err[0] = '\0';
	if (n == 0) {
		return CLIENT_OK;
	}
	enum client_proto proto = c->srv.proto;
	struct pend *p = tdns_xcalloc(n, sizeof(*p));
	int rc = CLIENT_OK;
	for (size_t i = 0; i < n; i++) {
		p[i].x = &x[i];
		x[i].len = 0;
		x[i].status = CLIENT_ETIMEOUT;
		if (x[i].qlen < DNS_HDR_LEN || x[i].qlen > CLIENT_MSG_MAX ||
		    tdns_get16(x[i].query + 4) != 1) {
			rc = fail(c, CLIENT_EINVAL, "a query must have exactly one question");
			goto out;
		}
		/* RFC 8484 §4.1: ID 0 makes DoH answers cacheable; RFC 5452 §9.2 otherwise. */
		uint16_t id = 0;
		bool unique;
		do {
			id = is_https(proto) ? 0 : (uint16_t)randombytes_uniform(65536);
			unique = true;
			for (size_t j = 0; j < i && !is_https(proto); j++) {
				unique = unique && p[j].id != id;
			}
		} while (!unique);
		p[i].id = id;
		p[i].qlen = x[i].qlen;
		p[i].q = tdns_xmalloc(x[i].qlen);
		memcpy(p[i].q, x[i].query, x[i].qlen);
		tdns_put16(p[i].q, id);
	}
	switch (proto) {
	case CLIENT_UDP:
		for (size_t i = 0; i < n; i++) {
			int r = udp_one(c, &p[i], info);
			x[i].status = r;
			/* RFC 7766 §5: a truncated UDP answer is retried over TCP. */
			if (r == CLIENT_OK && (tdns_get16(x[i].resp + 2) & DNS_FLAG_TC)) {
				if (info != NULL) {
					info->tc_retry = true;
					info->proto = CLIENT_TCP;
				}
				r = stream_exchange(c, CLIENT_TCP, &p[i], 1, info);
				x[i].status = r == CLIENT_OK ? x[i].status : r;
				client_close(c);
			}
			if (rc == CLIENT_OK) {
				rc = x[i].status;
			}
		}
		break;
	case CLIENT_TCP:
	case CLIENT_TLS:
		rc = stream_exchange(c, proto, p, n, info);
		break;
	case CLIENT_HTTPS:
	case CLIENT_HTTPS_JSON:
		rc = h2_exchange(c, p, n, info);
		break;
	}
	if (rc == CLIENT_OK) {
		for (size_t i = 0; i < n && rc == CLIENT_OK; i++) {
			rc = x[i].status;
		}
	}
	if (!c->o.keepopen) {
		client_close(c);
	}
out:
	for (size_t i = 0; i < n; i++) {
		free(p[i].q);
	}
	free(p);
	return rc;
}

int
client_query(struct client *c, const uint8_t *query, size_t qlen, uint8_t *resp,
	     size_t *resp_len, struct client_info *info)
{
	struct client_xfer x = { .query = query, .qlen = qlen, .resp = resp };
	int rc = client_exchange(c, &x, 1, info);
	*resp_len = x.len;
	return rc;
}
