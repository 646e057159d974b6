/* SPDX-License-Identifier: MIT */
/* DNS over HTTP(S) without I/O: the HTTP/1.1 request-head parser and RFC 8484 request semantics. */
#ifndef TDNS_NET_DOH_H
#define TDNS_NET_DOH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DOH_HEAD_MAX 8192       /* largest HTTP/1.1 request head (request line + fields) */
#define DOH_HEADERS_MAX 64      /* most header fields in one request */
#define DOH_BODY_MAX 65535      /* largest request body: one DNS message (RFC 8484 §4.1) */
#define DOH_PATH_DEFAULT "/dns-query"

/* A piece of a request, borrowed from the buffer it was parsed from (not NUL-terminated). */
struct doh_str {
	const char *s;
	size_t len;
};

/* ------------------------------------------------------------------------------------------ */
/* HTTP/1.1 request heads (http1.c), RFC 9112.                                                  */

/* What a request head says; every doh_str points into the parsed buffer. */
struct doh_http1_req {
	struct doh_str method;
	struct doh_str target;        /* origin-form: path and query */
	int minor;                    /* HTTP/1.<minor>: 0 or 1 */
	struct doh_str host;
	struct doh_str content_type;  /* the last Content-Type field */
	struct doh_str real_ip;       /* X-Real-IP */
	struct doh_str forwarded_for; /* the last X-Forwarded-For field */
	bool accept_json;             /* an Accept field prefers application/dns-json */
	size_t content_length;        /* 0 without a Content-Length field */
	bool keep_alive;              /* Connection: keep-alive/close, else the version's default */
	bool expect_continue;         /* Expect: 100-continue */
};

/*
 * Parses the request head at buf[0..len).  Returns the head's length (through the empty line)
 * when complete, 0 when more bytes are needed (and fewer than DOH_HEAD_MAX have been seen),
 * or minus an HTTP status: -400 malformed (bad request line or field, obs-fold, no Host in
 * HTTP/1.1, bad or repeated Content-Length), -413 Content-Length above DOH_BODY_MAX, -431
 * head longer than DOH_HEAD_MAX or more than DOH_HEADERS_MAX fields, -501 a Transfer-Encoding
 * (chunked bodies are not supported: a DNS message's size is always known), -505 a version
 * other than HTTP/1.0 and 1.1.  *req is filled on success only.
 */
int doh_http1_parse(const char *buf, size_t len, struct doh_http1_req *req);

/* The reason phrase of an HTTP status we send ("Bad Request"); "Error" for others. */
const char *doh_status_text(int status);

/*
 * Writes an HTTP/1.1 response head into out (cap bytes, NUL-terminated): status, a
 * Content-Type (ctype, omitted when NULL), Content-Length clen, Cache-Control (max-age=N when
 * max_age >= 0, else no-store), Allow: GET, POST for 405, and Connection: close when not
 * keep_alive.  Returns its length, or 0 when cap is too small.
 */
size_t doh_http1_response(char *out, size_t cap, int status, const char *ctype, size_t clen,
			  long max_age, bool keep_alive);

/* ------------------------------------------------------------------------------------------ */
/* RFC 8484 requests and replies (doh.c), shared by HTTP/2 and HTTP/1.1.                        */

/* An HTTP request as the transports see it; everything is borrowed. */
struct doh_request {
	struct doh_str method;
	struct doh_str target;        /* path and query (:path in HTTP/2) */
	struct doh_str content_type;  /* s NULL when absent */
	bool accept_json;             /* see doh_accept_json */
	const uint8_t *body;
	size_t body_len;
};

/* How the reply to a request is written. */
enum doh_format {
	DOH_FORMAT_WIRE,              /* application/dns-message */
	DOH_FORMAT_JSON,              /* application/dns-json */
};

/* True when an Accept field value asks for application/dns-json (or application/json). */
bool doh_accept_json(const char *value, size_t len);

/*
 * Turns a request to the endpoint at path (e.g. "/dns-query") into a DNS query in wire form
 * written into out (cap bytes, DOH_BODY_MAX is enough) with its length in *outlen, and the
 * reply format in *fmt.  Accepted: GET ?dns=BASE64URL (RFC 8484 §4.1; trailing '=' padding is
 * tolerated), POST with Content-Type application/dns-message (§4.1), and the JSON API:
 * GET ?name=NAME[&type=TYPE][&do=1][&cd=1] (a query with ID 0 and RD is built), or any of the
 * former with Accept: application/dns-json.  Returns 0, or the HTTP status of the error:
 * 404 another path, 405 a method other than GET and POST (answer with Allow), 413 a body or
 * dns= value above DOH_BODY_MAX, 415 POST of another content type, 400 anything malformed
 * (bad base64url, no dns= or name=, a bad name or type, a message shorter than a DNS header
 * or with QR set).
 */
int doh_request_decode(const struct doh_request *r, const char *path, uint8_t *out, size_t cap,
		       size_t *outlen, enum doh_format *fmt);

/*
 * The Cache-Control max-age for a wire reply (RFC 8484 §5.1): the smallest TTL of the answer
 * section; for a negative answer (NXDOMAIN, or NOERROR without answers) the SOA of the
 * authority section, min(SOA TTL, SOA MINIMUM) as RFC 2308 §5 says; -1 (no-store) for other
 * rcodes, truncated replies, a negative answer without SOA, or a message that does not parse.
 */
long doh_max_age(const uint8_t *msg, size_t len);

/*
 * The application/dns-json form of a wire reply (the format of Google's and Cloudflare's
 * JSON APIs, which tdns-cli's +https-json reads): Status, TC, RD, RA, AD, CD, Question
 * [{name, type}], Answer / Authority / Additional [{name, type, TTL, data}] (sections left
 * out when empty, OPT never shown), data in presentation form, and Comment with the first
 * EDE.  Returns a malloc'd NUL-terminated string the caller frees, or NULL when msg does not
 * parse (or out of memory).
 */
char *doh_json_from_wire(const uint8_t *msg, size_t len);

/*
 * The reverse, for the client side: converts a DoH-JSON answer (Status, TC, RD, RA, AD, CD,
 * Question, Answer, Authority, Additional with name/type/TTL/data members; Google's unquoted
 * TXT data is accepted) into a wire response with the given ID, written into out (cap
 * octets).  Returns the length, or 0 with a message in err when the JSON is not such an
 * answer or a record's data does not parse for its type.
 */
size_t doh_json_to_wire(const char *json, size_t jlen, uint16_t id, uint8_t *out, size_t cap,
			char *err, size_t errlen);

#endif
