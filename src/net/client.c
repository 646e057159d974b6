/* SPDX-License-Identifier: MIT */
/* Client-side protocol helpers without I/O: server URLs, answer checks and DoH request paths. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/core.h"
#include "dns/dns.h"
#include "net/client.h"

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

void
client_server_from_addr(struct client_server *out, enum client_proto proto, int family,
			const uint8_t *ip, uint16_t port)
{
	memset(out, 0, sizeof(*out));
	out->proto = proto;
	out->port = port;
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&out->ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, ip, 4);
		out->sslen = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, ip, 16);
		out->sslen = sizeof(*sin6);
	}
	inet_ntop(family, ip, out->addr, sizeof(out->addr));
	snprintf(out->name, sizeof(out->name), "%s", out->addr);
}

/* ------------------------------------------------------------------------------------------ */
/* DoH requests (RFC 8484)                                                                     */

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
		char *b64 = malloc(b64cap);
		if (b64 == NULL) {
			return 0;
		}
		sodium_bin2base64(b64, b64cap, q, qlen, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		n = snprintf(path, cap, "%s%cdns=%s", base, sepch, b64);
		free(b64);
	}
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}
