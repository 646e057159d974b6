/* SPDX-License-Identifier: MIT */
/* A strict HTTP/1.1 request-head parser (RFC 9112) and response heads, for DNS over HTTP. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "net/doh.h"

/* RFC 9110 §5.6.2: tchar. */
static bool
is_tchar(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/* RFC 9110 §5.5: field-vchar, SP and HTAB (obs-text allowed), no other control characters. */
static bool
is_field_char(unsigned char ch)
{
	return ch == '\t' || (ch >= 0x20 && ch != 0x7f);
}

static bool
str_is(struct doh_str s, const char *lit)
{
	size_t n = strlen(lit);
	return s.len == n && strncasecmp(s.s, lit, n) == 0;
}

/* One line of the head: [s, s+len) without its line ending. */
struct line {
	const char *s;
	size_t len;
};

/*
 * Finds the next line at buf[*pos..len).  RFC 9112 §2.2: a bare LF also ends a line, but a CR
 * anywhere else is an error.  Returns 1 with *ln set, 0 when the line is incomplete, -400.
 */
static int
next_line(const char *buf, size_t len, size_t *pos, struct line *ln)
{
	const char *start = buf + *pos;
	const char *nl = memchr(start, '\n', len - *pos);
	if (nl == NULL) {
		return 0;
	}
	size_t n = (size_t)(nl - start);
	if (n > 0 && start[n - 1] == '\r') {
		n--;
	}
	if (memchr(start, '\r', n) != NULL) {
		return -400;
	}
	ln->s = start;
	ln->len = n;
	*pos += (size_t)(nl - start) + 1;
	return 1;
}

/* RFC 9112 §3: method SP request-target SP HTTP-version. */
static int
parse_request_line(struct line ln, struct doh_http1_req *req)
{
	size_t i = 0;
	while (i < ln.len && is_tchar((unsigned char)ln.s[i])) {
		i++;
	}
	if (i == 0 || i >= ln.len || ln.s[i] != ' ') {
		return -400;
	}
	req->method = (struct doh_str){ ln.s, i };
	size_t t = ++i;
	while (i < ln.len && ln.s[i] > 0x20 && ln.s[i] < 0x7f) {
		i++;
	}
	if (i == t || i >= ln.len || ln.s[i] != ' ') {
		return -400;
	}
	req->target = (struct doh_str){ ln.s + t, i - t };
	const char *v = ln.s + i + 1;
	size_t vlen = ln.len - i - 1;
	if (vlen != 8 || memcmp(v, "HTTP/", 5) != 0 || v[5] < '0' || v[5] > '9' || v[6] != '.' ||
	    v[7] < '0' || v[7] > '9') {
		return -400;
	}
	if (v[5] != '1') {
		return -505;
	}
	/* RFC 9110 §2.5: a higher minor version is answered as the highest we speak. */
	req->minor = v[7] == '0' ? 0 : 1;
	req->keep_alive = req->minor == 1;
	return 0;
}

/* RFC 9112 §6.3: Content-Length is 1*DIGIT; anything larger than a DNS message is refused. */
static int
parse_length(struct doh_str v, size_t *out)
{
	if (v.len == 0) {
		return -400;
	}
	size_t n = 0;
	for (size_t i = 0; i < v.len; i++) {
		if (v.s[i] < '0' || v.s[i] > '9') {
			return -400;
		}
		n = n * 10 + (size_t)(v.s[i] - '0');
		if (n > DOH_BODY_MAX) {
			return -413;
		}
	}
	*out = n;
	return 0;
}

/* RFC 9110 §7.6.1: Connection is a list of options; close wins over keep-alive. */
static void
parse_connection(struct doh_str v, struct doh_http1_req *req, bool *closed)
{
	size_t i = 0;
	while (i < v.len) {
		while (i < v.len && (v.s[i] == ',' || v.s[i] == ' ' || v.s[i] == '\t')) {
			i++;
		}
		size_t start = i;
		while (i < v.len && v.s[i] != ',' && v.s[i] != ' ' && v.s[i] != '\t') {
			i++;
		}
		struct doh_str tok = { v.s + start, i - start };
		if (str_is(tok, "close")) {
			*closed = true;
		} else if (str_is(tok, "keep-alive")) {
			req->keep_alive = true;
		}
	}
}

/* What the fields seen so far say, beyond *req. */
struct seen {
	bool host, length, closed;
};

/* Applies one field to req. */
static int
apply_field(struct doh_str name, struct doh_str v, struct doh_http1_req *req, struct seen *seen)
{
	if (str_is(name, "host")) {
		/* RFC 9112 §3.2: exactly one Host. */
		if (seen->host) {
			return -400;
		}
		seen->host = true;
		req->host = v;
	} else if (str_is(name, "content-length")) {
		/* RFC 9112 §6.3: repeated lengths are framing errors we do not try to recover. */
		if (seen->length) {
			return -400;
		}
		seen->length = true;
		return parse_length(v, &req->content_length);
	} else if (str_is(name, "transfer-encoding")) {
		/* Not implemented (RFC 9112 §6.1): DNS clients send a Content-Length. */
		return -501;
	} else if (str_is(name, "connection")) {
		parse_connection(v, req, &seen->closed);
	} else if (str_is(name, "expect")) {
		/* RFC 9110 §10.1.1: other expectations are ignored here, the body still comes. */
		req->expect_continue = str_is(v, "100-continue");
	} else if (str_is(name, "content-type")) {
		req->content_type = v;
	} else if (str_is(name, "accept")) {
		req->accept_json = req->accept_json || doh_accept_json(v.s, v.len);
	} else if (str_is(name, "x-real-ip")) {
		req->real_ip = v;
	} else if (str_is(name, "x-forwarded-for")) {
		req->forwarded_for = v;
	}
	return 0;
}

/* RFC 9112 §5: field-name ":" OWS field-value OWS; no space before the colon, no obs-fold. */
static int
parse_field(struct line ln, struct doh_http1_req *req, struct seen *seen)
{
	size_t i = 0;
	while (i < ln.len && is_tchar((unsigned char)ln.s[i])) {
		i++;
	}
	if (i == 0 || i >= ln.len || ln.s[i] != ':') {
		return -400;
	}
	struct doh_str name = { ln.s, i };
	size_t vs = i + 1, ve = ln.len;
	for (size_t k = vs; k < ve; k++) {
		if (!is_field_char((unsigned char)ln.s[k])) {
			return -400;
		}
	}
	while (vs < ve && (ln.s[vs] == ' ' || ln.s[vs] == '\t')) {
		vs++;
	}
	while (ve > vs && (ln.s[ve - 1] == ' ' || ln.s[ve - 1] == '\t')) {
		ve--;
	}
	return apply_field(name, (struct doh_str){ ln.s + vs, ve - vs }, req, seen);
}

/* An incomplete request line that already cannot become one (binary garbage, TLS). */
static bool
partial_line_bad(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '\r' ? i + 1 < len : (ch < 0x20 || ch >= 0x7f)) {
			return true;
		}
	}
	return false;
}

/* Parses the lines of a head that ends within buf[0..len); see doh_http1_parse. */
static int
parse_lines(const char *buf, size_t len, struct doh_http1_req *req)
{
	size_t pos = 0;
	struct line ln;
	int rc;
	/* RFC 9112 §2.2: empty lines before the request line are ignored. */
	while ((rc = next_line(buf, len, &pos, &ln)) == 1 && ln.len == 0) {
	}
	if (rc <= 0) {
		return rc == 0 && partial_line_bad(buf + pos, len - pos) ? -400 : rc;
	}
	rc = parse_request_line(ln, req);
	if (rc < 0) {
		return rc;
	}
	struct seen seen = { 0 };
	for (unsigned n = 0;; n++) {
		rc = next_line(buf, len, &pos, &ln);
		if (rc <= 0) {
			return rc;
		}
		if (ln.len == 0) {
			break;
		}
		if (ln.s[0] == ' ' || ln.s[0] == '\t') {
			return -400; /* RFC 9112 §5.2: obs-fold is rejected */
		}
		if (n >= DOH_HEADERS_MAX) {
			return -431;
		}
		rc = parse_field(ln, req, &seen);
		if (rc < 0) {
			return rc;
		}
	}
	if (req->minor == 1 && !seen.host) {
		return -400; /* RFC 9112 §3.2 */
	}
	if (seen.closed) {
		req->keep_alive = false;
	}
	return (int)pos;
}

int
doh_http1_parse(const char *buf, size_t len, struct doh_http1_req *req)
{
	struct doh_http1_req r;
	memset(&r, 0, sizeof(r));
	size_t n = len < DOH_HEAD_MAX ? len : DOH_HEAD_MAX;
	int rc = parse_lines(buf, n, &r);
	if (rc == 0 && len >= DOH_HEAD_MAX) {
		return -431; /* RFC 6585 §5 */
	}
	if (rc > 0) {
		*req = r;
	}
	return rc;
}

const char *
doh_status_text(int status)
{
	static const struct {
		int status;
		const char *text;
	} texts[] = {
		{ 100, "Continue" },
		{ 200, "OK" },
		{ 400, "Bad Request" },
		{ 404, "Not Found" },
		{ 405, "Method Not Allowed" },
		{ 408, "Request Timeout" },
		{ 413, "Content Too Large" },
		{ 415, "Unsupported Media Type" },
		{ 431, "Request Header Fields Too Large" },
		{ 500, "Internal Server Error" },
		{ 501, "Not Implemented" },
		{ 503, "Service Unavailable" },
		{ 505, "HTTP Version Not Supported" },
	};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		if (texts[i].status == status) {
			return texts[i].text;
		}
	}
	return "Error";
}

size_t
doh_http1_response(char *out, size_t cap, int status, const char *ctype, size_t clen,
		   long max_age, bool keep_alive)
{
	char cache[48];
	if (max_age >= 0) {
		snprintf(cache, sizeof(cache), "max-age=%ld", max_age);
	} else {
		snprintf(cache, sizeof(cache), "no-store");
	}
	int n = snprintf(out, cap,
			 "HTTP/1.1 %d %s\r\n%s%s%sContent-Length: %zu\r\nCache-Control: %s\r\n"
			 "%s%s\r\n",
			 status, doh_status_text(status), ctype != NULL ? "Content-Type: " : "",
			 ctype != NULL ? ctype : "", ctype != NULL ? "\r\n" : "", clen, cache,
			 status == 405 ? "Allow: GET, POST\r\n" : "",
			 keep_alive ? "" : "Connection: close\r\n");
	if (n < 0 || (size_t)n >= cap) {
		return 0;
	}
	return (size_t)n;
}
