/* SPDX-License-Identifier: MIT */
/* tdns-cli query: a dig-like stub client over UDP, TCP, TLS, HTTPS or HTTPS-JSON. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <sodium.h>

#include "cli/cli.h"
#include "dns/dns.h"
#include "net/client.h"
#include "net/outgoing.h"

#define QUERY_TIMEOUT_MS 5000   /* per try, as dig's +time=5 */
#define QUERY_TRIES 3           /* one try and two retries, as dig's +tries=3 */
#define QUERY_TIME_MAX 300      /* seconds; keeps +time and +tries bounded */
#define QUERY_TRIES_MAX 10
#define QUERY_REPEAT_MAX 100
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
	uint16_t port;      /* 0 until given: then the transport's well-known port */
	enum client_proto proto;
	bool dnssec;
	bool cd;
	bool ad;
	bool recurse;
	bool short_out;
	bool json;
	bool https_get;
	bool insecure;
	bool keepopen;
	char tls_host[CLIENT_NAME_MAX]; /* +tls-host: name for SNI and the certificate check */
	char tls_ca[1024];              /* +tls-ca: CA bundle instead of the system store */
	char https_path[CLIENT_PATH_MAX];
	char url[512];                  /* @udp://, @tls://, @https://...: the whole server */
	int timeout_ms;
	int tries;
	int repeat;
};

/* What happened on the wire, for diagnostics (the SERVER and TLS lines, and the JSON form). */
struct query_info {
	enum client_proto proto; /* transport that gave the answer (TCP after a TC retry) */
	bool tc_retry;           /* a UDP answer had TC set and the query was repeated over TCP */
	unsigned ignored;        /* answers dropped: our ID but another question (RFC 5452 §9.1),
				    or over TCP an ID we did not use */
	bool conn_reused;        /* an open connection carried the query */
	bool tls_resumed;        /* the TLS handshake resumed an earlier session */
	char tls_version[16];    /* "TLSv1.3"; "" without TLS */
	char alpn[16];           /* ALPN protocol the server chose ("h2", "dot"), or "" */
	int http_status;         /* HTTP :status of the answer; 0 without HTTP */
};

/* Result of one exchange, for printing. */
struct query_result {
	const uint8_t *pkt;
	size_t len;
	int64_t rtt_ms;
	const struct query_info *info;
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

/* Copies an option's value into dst; false if it is empty or too long. */
static bool
plus_value(const char *v, char *dst, size_t cap)
{
	size_t n = strlen(v);
	if (n == 0 || n >= cap) {
		return false;
	}
	memcpy(dst, v, n + 1);
	return true;
}

/* Sets an HTTPS transport; "+https=PATH" also sets the request path, as in dig. */
static bool
plus_https(struct query_opts *q, enum client_proto proto, bool get, const char *eq)
{
	q->proto = proto;
	q->https_get = get;
	if (eq == NULL) {
		return true;
	}
	return eq[1] == '/' && plus_value(eq + 1, q->https_path, sizeof(q->https_path));
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
#define KEY(k) (klen == sizeof(k) - 1 && strncmp(w, k, klen) == 0)
	struct {
		const char *name;
		bool *flag;
	} flags[] = {
		{ "dnssec", &q->dnssec },
		{ "cd", &q->cd },
		{ "cdflag", &q->cd },
		{ "adflag", &q->ad },
		{ "recurse", &q->recurse },
		{ "short", &q->short_out },
		{ "json", &q->json },
		{ "insecure", &q->insecure },
		{ "keepopen", &q->keepopen },
	};
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		if (eq == NULL && strlen(flags[i].name) == klen &&
		    strncmp(w, flags[i].name, klen) == 0) {
			*flags[i].flag = on;
			return 0;
		}
	}
	/* Transports: the last one given wins; "+no..." goes back to UDP. */
	if (eq == NULL && (KEY("tcp") || KEY("vc") || KEY("tls"))) {
		q->proto = !on ? CLIENT_UDP : KEY("tls") ? CLIENT_TLS : CLIENT_TCP;
		return 0;
	}
	if (!on && eq == NULL && (KEY("https") || KEY("https-json"))) {
		q->proto = CLIENT_UDP;
		return 0;
	}
	if (on && (KEY("https") || KEY("https-post")) && plus_https(q, CLIENT_HTTPS, false, eq)) {
		return 0;
	}
	if (on && KEY("https-get") && plus_https(q, CLIENT_HTTPS, true, eq)) {
		return 0;
	}
	if (on && KEY("https-json") && plus_https(q, CLIENT_HTTPS_JSON, true, eq)) {
		return 0;
	}
	if (on && eq != NULL && (KEY("tls-host") || KEY("tls-hostname")) &&
	    plus_value(eq + 1, q->tls_host, sizeof(q->tls_host))) {
		return 0;
	}
	if (on && eq != NULL && KEY("tls-ca") && plus_value(eq + 1, q->tls_ca, sizeof(q->tls_ca))) {
		return 0;
	}
	unsigned long v;
	if (on && eq != NULL && KEY("time") && parse_uint(eq + 1, 1, QUERY_TIME_MAX, &v)) {
		q->timeout_ms = (int)v * 1000;
		return 0;
	}
	if (on && eq != NULL && KEY("tries") && parse_uint(eq + 1, 1, QUERY_TRIES_MAX, &v)) {
		q->tries = (int)v;
		return 0;
	}
	if (on && eq != NULL && KEY("retry") && parse_uint(eq + 1, 0, QUERY_TRIES_MAX - 1, &v)) {
		q->tries = (int)v + 1;
		return 0;
	}
	if (on && eq != NULL && KEY("repeat") && parse_uint(eq + 1, 1, QUERY_REPEAT_MAX, &v)) {
		q->repeat = (int)v;
		return 0;
	}
#undef KEY
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
		if (w[0] == '@' && strstr(w, "://") != NULL && !have_server) {
			/* @tls://NAME[:PORT][#ADDR] and friends: the forwarder syntax. */
			if (!plus_value(w + 1, q->url, sizeof(q->url))) {
				fprintf(stderr, "tdns-cli query: server '%s' is too long\n", w);
				return -1;
			}
			have_server = true;
			continue;
		}
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

/*
 * The server to talk to: @SERVER (or resolv.conf) is where to connect; for TLS and HTTPS the
 * name checked against the certificate is +tls-host, else SERVER itself.
 */
static int
make_server(const struct query_opts *q, struct client_server *srv)
{
	char err[512];
	if (q->url[0] != '\0') {
		if (client_server_parse(q->url, srv, err, sizeof(err)) != CLIENT_OK) {
			fprintf(stderr, "tdns-cli query: %s\n", err);
			return -1;
		}
		goto resolve;
	}
	memset(srv, 0, sizeof(*srv));
	srv->proto = q->proto;
	srv->port = q->port != 0 ? q->port : client_proto_port(q->proto);
	snprintf(srv->path, sizeof(srv->path), "%s",
		 q->https_path[0] != '\0' ? q->https_path : "/dns-query");
	if (q->tls_host[0] != '\0') {
		snprintf(srv->name, sizeof(srv->name), "%s", q->tls_host);
		snprintf(srv->addr, sizeof(srv->addr), "%.*s", (int)sizeof(srv->addr) - 1,
			 q->server);
	} else {
		snprintf(srv->name, sizeof(srv->name), "%s", q->server);
	}
resolve:
	if (client_server_resolve(srv, err, sizeof(err)) != CLIENT_OK) {
		fprintf(stderr, "tdns-cli query: %s\n", err);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Transport                                                                                   */

/*
 * Builds the query: RD unless +norecurse, CD with +cd, AD with +adflag (RFC 6840 §5.7: asks for
 * the AD bit without DO), EDNS(0) always, DO with +dnssec.
 */
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
	if (q->ad) {
		flags |= DNS_FLAG_AD;
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
			const char *name = dns_ede_name(info);
			fprintf(f, "; EDE: %u (%s)", info, name != NULL ? name : "Unknown");
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
print_dig(FILE *f, const struct query_opts *q, const struct client_server *srv,
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
	const struct query_info *in = r->info;
	fprintf(f, ";; SERVER: %s#%u(%s) (%s)\n", srv->addr, (unsigned)srv->port, q->server,
		client_proto_name(in->proto));
	if (in->tls_version[0] != '\0') {
		fprintf(f, ";; TLS: %s, %s%s%s\n", in->tls_version,
			in->conn_reused ? "connection reused"
					: in->tls_resumed ? "session resumed" : "new session",
			in->alpn[0] != '\0' ? ", ALPN " : "", in->alpn);
	}
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
print_json(FILE *f, const struct client_server *srv,
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
			if (dns_ede_name(info) != NULL) {
				jw_cstr(&w, "name", dns_ede_name(info));
			}
			jw_str(&w, "text", d + 2, olen - 2);
			jw_close(&w, '}');
		}
		jw_close(&w, ']');
		jw_close(&w, '}');
	}
	jw_hex(&w, "messageOctetsHEX", r->pkt, r->len);
	jw_cstr(&w, "server", srv->addr);
	jw_int(&w, "port", srv->port);
	jw_cstr(&w, "transport", client_proto_name(r->info->proto));
	if (r->info->tls_version[0] != '\0') {
		jw_cstr(&w, "tlsVersion", r->info->tls_version);
		jw_bool(&w, "tlsResumed", r->info->tls_resumed);
		jw_bool(&w, "connectionReused", r->info->conn_reused);
	}
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

/* Exit code for a failed exchange: no usable contact is "unreachable" (3), like dig's 9. */
static int
exit_for(int status)
{
	switch (status) {
	case CLIENT_ETIMEOUT:
	case CLIENT_ENET:
	case CLIENT_ETLS:
		return CLI_EXIT_UNREACHABLE;
	case CLIENT_EINVAL:
		return CLI_EXIT_USAGE;
	default:
		return CLI_EXIT_FAILED;
	}
}

/* Parses and prints one answer; returns a cli_exit code. */
static int
show_answer(const struct query_opts *q, const struct client_server *srv,
	    const struct query_result *r, int argc, char **argv, uint8_t *rdbuf, char *text)
{
	const struct query_info *in = r->info;
	if (in->tc_retry) {
		fprintf(q->short_out || q->json ? stderr : stdout,
			";; Truncated, retrying in TCP mode.\n");
	}
	if (in->ignored > 0) {
		fprintf(stderr, ";; Warning: ignored %u response(s) from %s#%u whose ID or "
			"question section did not match the query\n", in->ignored, srv->addr,
			(unsigned)srv->port);
	}
	struct dns_msg m = { 0 };
	int rc = dns_msg_parse(r->pkt, r->len, &m);
	if (rc != TDNS_OK) {
		char why[256];
		snprintf(why, sizeof(why), "malformed response from %s#%u: %s", srv->addr,
			 (unsigned)srv->port, tdns_status_msg(rc));
		print_error(q, why);
		return CLI_EXIT_FAILED;
	}
	bool ok;
	if (q->json) {
		ok = print_json(stdout, srv, r, &m, rdbuf, text);
	} else if (q->short_out) {
		ok = print_short(stdout, &m, rdbuf, text);
	} else {
		ok = print_dig(stdout, q, srv, r, &m, argc, argv, rdbuf, text);
	}
	dns_msg_clear(&m);
	if (!ok) {
		fprintf(stderr, ";; Warning: malformed rdata shown in RFC 3597 form\n");
	}
	/* Like dig: any rcode is an answer; only a broken one is a failure. */
	return ok ? CLI_EXIT_OK : CLI_EXIT_FAILED;
}

/* The exchanges of one tdns-cli query command, on a private event base. */
struct query_run {
	const struct query_opts *q;
	struct event_base *base;
	struct net_out_peer *peer;
	const uint8_t *msg;
	size_t msglen;
	size_t pending;          /* queries sent and not yet called back */
};

/* One query of +repeat and its answer. */
struct query_xfer {
	struct query_run *run;
	int status;              /* CLIENT_OK or a client_status */
	uint8_t *resp;           /* CLIENT_MSG_MAX octets */
	size_t len;
	int64_t rtt_ms;
	struct query_info info;
	char err[512];           /* why it failed */
	int tries;               /* sends so far (streams: one connection each) */
	bool stream;             /* over TCP: a UDP answer was truncated */
	bool retry;              /* to be sent again (run_batch) */
};

static void
xfer_cb(void *arg, const struct net_out_result *r)
{
	struct query_xfer *x = arg;
	x->run->pending--;
	x->status = r->status;
	x->info.proto = r->proto;
	x->info.ignored += r->ignored;
	x->info.conn_reused = r->conn_reused;
	x->info.tls_resumed = r->tls_resumed;
	snprintf(x->info.tls_version, sizeof(x->info.tls_version), "%s", r->tls_version);
	snprintf(x->info.alpn, sizeof(x->info.alpn), "%s", r->alpn);
	x->info.http_status = r->http_status;
	snprintf(x->err, sizeof(x->err), "%s", r->err);
	if (r->status == CLIENT_OK) {
		memcpy(x->resp, r->pkt, r->len);
		x->len = r->len;
		x->rtt_ms = r->rtt_us / 1000;
	}
}

/* Sends x's query; a failure to start is x's result. */
static void
xfer_start(struct query_xfer *x)
{
	struct query_run *run = x->run;
	x->tries++;
	x->len = 0;
	/* What stays if the event loop ends without calling back (it should not). */
	x->status = CLIENT_ENET;
	snprintf(x->err, sizeof(x->err), "the exchange ended without a result");
	if (net_out_send(run->peer, run->msg, run->msglen, x->stream ? NET_OUT_STREAM : 0,
			 (unsigned)run->q->timeout_ms, xfer_cb, x) == NULL) {
		snprintf(x->err, sizeof(x->err), "%s", net_out_peer_error(run->peer, &x->status));
		return;
	}
	run->pending++;
}

/*
 * Sends the n queries of x together and runs the event base until every one has its answer
 * or failure.  A truncated UDP answer is asked again over TCP (RFC 7766 §5); a stream exchange
 * that timed out is tried again on a new connection, up to +tries times (like dig +tcp).
 */
static void
run_batch(struct query_run *run, struct query_xfer *x, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		xfer_start(&x[i]);
	}
	for (;;) {
		while (run->pending > 0) {
			/* 1: nothing left to wait for; -1: an error.  Either way, stop. */
			if (event_base_loop(run->base, EVLOOP_ONCE) != 0) {
				break;
			}
		}
		bool again = false;
		bool stream_proto = run->q->proto != CLIENT_UDP;
		for (size_t i = 0; i < n; i++) {
			struct query_xfer *y = &x[i];
			y->retry = false;
			if (y->status == CLIENT_OK && !y->stream && !stream_proto &&
			    (tdns_get16(y->resp + 2) & DNS_FLAG_TC)) {
				y->info.tc_retry = true;
				y->stream = true;
				y->tries = 0;
				y->retry = true;
			} else if (y->status == CLIENT_ETIMEOUT && (y->stream || stream_proto) &&
				   y->tries < run->q->tries) {
				y->retry = true;
			}
			again = again || y->retry;
		}
		if (!again) {
			return;
		}
		/* Retries start on a fresh connection; nothing is outstanding on the old one. */
		net_out_peer_close(run->peer);
		for (size_t i = 0; i < n; i++) {
			if (x[i].retry) {
				xfer_start(&x[i]);
			}
		}
	}
}

int
cli_query_run(const struct cli_opts *o, int argc, char **argv)
{
	struct query_opts q = {
		.qtype = DNS_TYPE_A,
		.qclass = DNS_CLASS_IN,
		.recurse = true,
		.json = o->json,
		.timeout_ms = QUERY_TIMEOUT_MS,
		.tries = QUERY_TRIES,
		.repeat = 1,
	};
	if (parse_args(argc, argv, &q) < 0) {
		return CLI_EXIT_USAGE;
	}
	struct client_server srv;
	if (make_server(&q, &srv) < 0) {
		return CLI_EXIT_USAGE;
	}
	if (q.url[0] != '\0') {
		q.proto = srv.proto;
		snprintf(q.server, sizeof(q.server), "%s", srv.name);
	}
	/* A server closing a TLS or TCP connection must not kill us while we write. */
	signal(SIGPIPE, SIG_IGN);
	struct query_run run = { .q = &q };
	int ret = CLI_EXIT_OK;
	if (sodium_init() < 0) {
		fprintf(stderr, "tdns-cli query: libsodium failed to initialise\n");
		return CLI_EXIT_FAILED;
	}
	struct net_out_opts no = { .insecure = q.insecure, .udp_tries = (unsigned)q.tries,
				   .diagnose = true };
	if (srv.proto == CLIENT_TLS || srv.proto == CLIENT_HTTPS ||
	    srv.proto == CLIENT_HTTPS_JSON) {
		char why[256];
		const char *ca = q.tls_ca[0] != '\0' ? q.tls_ca : NULL;
		no.tls_ctx = net_out_tls_ctx_new(ca, q.insecure, why, sizeof(why));
		if (no.tls_ctx == NULL) {
			fprintf(stderr, "tdns-cli query: cannot load the CA certificates%s%s: %s\n",
				ca != NULL ? " from " : "", ca != NULL ? ca : "", why);
			return CLI_EXIT_USAGE;
		}
	}
	/* +https-get asks for RFC 8484's GET just as a {?dns} template in the URL does. */
	struct client_server out = srv;
	out.get = srv.get || q.https_get;
	run.base = event_base_new();
	run.peer = run.base != NULL ? net_out_peer_new(run.base, &out, &no) : NULL;
	SSL_CTX_free(no.tls_ctx);
	if (run.peer == NULL) {
		fprintf(stderr, "tdns-cli query: out of memory\n");
		if (run.base != NULL) {
			event_base_free(run.base);
		}
		return CLI_EXIT_FAILED;
	}

	size_t n = (size_t)q.repeat;
	struct query_xfer *x = tdns_xcalloc(n, sizeof(*x));
	uint8_t *rdbuf = tdns_xmalloc(DNS_RDATA_MAX);
	char *text = tdns_xmalloc(QUERY_TEXT_MAX);
	uint8_t msg[DNS_UDP_MIN];
	/* The transport gives the query its ID (random, or 0 for DoH: RFC 8484 §4.1). */
	run.msglen = build_query(&q, 0, msg, sizeof(msg));
	run.msg = msg;
	if (run.msglen == 0) {
		fprintf(stderr, "tdns-cli query: cannot build the query\n");
		ret = CLI_EXIT_FAILED;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		x[i].run = &run;
		x[i].resp = tdns_xmalloc(CLIENT_MSG_MAX);
	}
	/*
	 * +repeat=N sends the query N times: with +keepopen together on one connection
	 * (pipelined over TCP and TLS, concurrent streams over HTTPS), else one after another,
	 * each on a new connection that resumes the TLS session of the one before.
	 */
	size_t batch = q.keepopen ? n : 1;
	for (size_t i = 0; i < n; i += batch) {
		run_batch(&run, &x[i], batch);
		for (size_t j = i; j < i + batch; j++) {
			int r1;
			if (x[j].status != CLIENT_OK) {
				print_error(&q, x[j].err);
				r1 = exit_for(x[j].status);
			} else {
				struct query_result r = { .pkt = x[j].resp, .len = x[j].len,
							  .rtt_ms = x[j].rtt_ms,
							  .info = &x[j].info };
				r1 = show_answer(&q, &srv, &r, argc, argv, rdbuf, text);
			}
			ret = ret == CLI_EXIT_OK ? r1 : ret;
		}
		if (!q.keepopen) {
			/* The next query has a connection of its own, resuming this TLS session. */
			net_out_peer_close(run.peer);
		}
	}
out:
	fflush(stdout);
	for (size_t i = 0; i < n; i++) {
		free(x[i].resp);
	}
	free(x);
	free(text);
	free(rdbuf);
	net_out_peer_free(run.peer);
	event_base_free(run.base);
	return ret;
}
