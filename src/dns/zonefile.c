/* SPDX-License-Identifier: MIT */
/* Zone-file reader: RFC 1035 §5 master files with $ORIGIN, $TTL, $INCLUDE and BIND's $GENERATE. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dns/dns.h"
#include "dns/rrtype_int.h"

#define ZF_INCLUDE_DEPTH 16
#define ZF_GENERATE_MAX 65536   /* iterations of one $GENERATE */
#define ZF_GEN_WIDTH_MAX 255
#define ZF_QUOTE_MAX 200          /* how much of a token an error message repeats */
#define ZF_TYPE_CACHE 8

/* One file (or memory buffer) being read; the text is never modified. */
struct zf_src {
	const char *name;
	const char *text;
	size_t len;
	size_t pos;
	unsigned line;
	void *map;       /* mmap'd file, or NULL */
	size_t maplen;
	char *heap;      /* read() fallback, or NULL */
};

/* Last few type mnemonics seen, so a million "A" tokens do not each walk the type table. */
struct zf_type_cache {
	char text[16];
	size_t len;
	int type;
};

struct zf {
	dns_zf_cb cb;
	void *ctx;
	struct dns_zf_error *err;
	bool mem;                       /* reading from memory: $INCLUDE refused */

	uint8_t origin[DNS_NAME_MAX];
	bool have_origin;
	unsigned origin_gen;            /* bumped whenever origin changes */

	uint8_t owner[DNS_NAME_MAX];    /* previous owner, for entries that omit it */
	bool have_owner;
	char owner_text[256];           /* its text, to skip re-parsing a repeated owner */
	size_t owner_text_len;
	unsigned owner_gen;
	bool owner_cached;

	uint32_t default_ttl;
	uint32_t dollar_ttl;
	bool have_dollar_ttl;
	uint32_t last_ttl;
	bool have_last_ttl;

	/* Tokens of the current entry: they point into the source text. */
	struct dns_tok *toks;
	unsigned *tline;
	size_t ntok;
	size_t captok;
	bool entry_owner;               /* first token started in column 0 */
	unsigned entry_line;

	/* $GENERATE output: substituted text and the tokens that point into it. */
	char *gbuf;
	size_t glen;
	size_t gcap;
	struct dns_tok *gtoks;
	size_t gtcap;

	struct zf_type_cache tcache[ZF_TYPE_CACHE];
	char rderr[256];
	uint8_t rd[DNS_RDATA_MAX];
};

/* ---- errors ---- */

static int
zf_fail(struct zf *z, const struct zf_src *f, unsigned line, int rc, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Records "file:line: message" and returns rc (reading stops at the first error). */
static int
zf_fail(struct zf *z, const struct zf_src *f, unsigned line, int rc, const char *fmt, ...)
{
	struct dns_zf_error *e = z->err;
	va_list ap;

	snprintf(e->file, sizeof(e->file), "%s", f->name);
	e->line = line;
	int n = snprintf(e->msg, sizeof(e->msg), "%.255s:%u: ", f->name, line);
	if (n > 0 && (size_t)n < sizeof(e->msg)) {
		va_start(ap, fmt);
		vsnprintf(e->msg + n, sizeof(e->msg) - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static int
qlen(size_t len)
{
	return (int)(len > ZF_QUOTE_MAX ? ZF_QUOTE_MAX : len);
}

/* Explains why dns_name_from_text refused a token. */
static int
zf_name_error(struct zf *z, const struct zf_src *f, unsigned line, const struct dns_tok *t,
	      int rc)
{
	int ql = qlen(t->len);

	switch (rc) {
	case TDNS_ENAMELONG:
		return zf_fail(z, f, line, TDNS_EZONEFILE, "name '%.*s' is longer than 255 octets",
			       ql, t->s);
	case TDNS_ELABELLONG:
		return zf_fail(z, f, line, TDNS_EZONEFILE,
			       "name '%.*s' has a label longer than 63 octets", ql, t->s);
	case TDNS_ERELATIVE:
		return zf_fail(z, f, line, TDNS_EZONEFILE,
			       "name '%.*s' is relative and no origin is set: end it with a dot "
			       "or set $ORIGIN", ql, t->s);
	default:
		break;
	}
	if (t->len == 0) {
		return zf_fail(z, f, line, TDNS_EZONEFILE, "empty name: expected a domain name");
	}
	/* An unescaped dot at the start (other than "." alone) or after another dot. */
	bool dot = true;
	for (size_t i = 0; i < t->len; i++) {
		if (t->s[i] == '\\') {
			i++;
			dot = false;
			continue;
		}
		if (t->s[i] == '.') {
			if (dot && t->len > 1) {
				return zf_fail(z, f, line, TDNS_EZONEFILE,
					       "name '%.*s' has an empty label", ql, t->s);
			}
			dot = true;
		} else {
			dot = false;
		}
	}
	return zf_fail(z, f, line, TDNS_EZONEFILE,
		       "name '%.*s' has a bad escape: expected \\X or \\DDD with DDD <= 255", ql,
		       t->s);
}

/*
 * $ORIGIN NAME, or $INCLUDE FILE NAME: the token t becomes the origin, read relative to the
 * current one when it is relative (RFC 1035 §5.1).
 */
static int
zf_set_origin(struct zf *z, const struct zf_src *f, unsigned line, const struct dns_tok *t)
{
	uint8_t o[DNS_NAME_MAX];
	int n = dns_name_from_text(t->s, t->len, z->have_origin ? z->origin : NULL, o);
	if (n < 0) {
		return zf_name_error(z, f, line, t, n);
	}
	memcpy(z->origin, o, (size_t)n);
	z->have_origin = true;
	z->origin_gen++;
	return TDNS_OK;
}

/* ---- TTLs ---- */

int
dns_ttl_parse(const char *s, size_t len, uint32_t *out)
{
	uint32_t v;
	if (dns_ttl_units(s, len, &v) != DNS_TTL_OK) {
		return TDNS_EBADTEXT;
	}
	*out = v;
	return TDNS_OK;
}

static int
zf_ttl(struct zf *z, const struct zf_src *f, unsigned line, const struct dns_tok *t,
       uint32_t *out)
{
	int r = t->quoted ? DNS_TTL_BAD : dns_ttl_units(t->s, t->len, out);
	if (r == DNS_TTL_RANGE) {
		/*
		 * RFC 2181 §8: a TTL with the top bit set is out of range.  As BIND does, load
		 * the record with the largest TTL allowed and say so, rather than fail the zone.
		 */
		tdns_warn("%s:%u: TTL '%.*s' is above 2147483647 (RFC 2181 §8), capped to "
			  "2147483647", f->name, line, qlen(t->len), t->s);
		*out = DNS_TTL_MAX;
		return TDNS_OK;
	}
	if (r == DNS_TTL_HUGE) {
		return zf_fail(z, f, line, TDNS_EZONEFILE,
			       "TTL '%.*s' is out of range: expected at most 2147483647 seconds "
			       "(RFC 2181 §8)", qlen(t->len), t->s);
	}
	if (r != DNS_TTL_OK) {
		return zf_fail(z, f, line, TDNS_EZONEFILE,
			       "bad TTL '%.*s': expected seconds or units w d h m s", qlen(t->len),
			       t->s);
	}
	return TDNS_OK;
}

/* ---- sources ---- */

static int
src_open(struct zf_src *s, const char *path)
{
	memset(s, 0, sizeof(*s));
	s->name = path;
	s->line = 1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return -errno;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return -EISDIR;
	}
	if (S_ISREG(st.st_mode) && st.st_size > 0) {
		void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (m != MAP_FAILED) {
			(void)madvise(m, (size_t)st.st_size, MADV_SEQUENTIAL);
			close(fd);
			s->map = m;
			s->maplen = (size_t)st.st_size;
			s->text = m;
			s->len = s->maplen;
			return 0;
		}
	}
	/* Pipes and the like: read everything into one buffer. */
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap);
	if (buf == NULL) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		if (len == cap) {
			char *nb = realloc(buf, cap * 2);
			if (nb == NULL) {
				free(buf);
				close(fd);
				return -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			int e = errno;
			free(buf);
			close(fd);
			return -e;
		}
		if (n == 0) {
			break;
		}
		len += (size_t)n;
	}
	close(fd);
	s->heap = buf;
	s->text = buf;
	s->len = len;
	return 0;
}

static void
src_close(struct zf_src *s)
{
	if (s->map != NULL) {
		munmap(s->map, s->maplen);
	}
	free(s->heap);
}

/* ---- tokeniser ---- */

static int
push_tok(struct zf *z, const char *s, size_t len, bool quoted, unsigned line)
{
	if (z->ntok == z->captok) {
		size_t cap = z->captok ? z->captok * 2 : 64;
		struct dns_tok *t = realloc(z->toks, cap * sizeof(*t));
		if (t == NULL) {
			return TDNS_ENOMEM;
		}
		z->toks = t;
		unsigned *l = realloc(z->tline, cap * sizeof(*l));
		if (l == NULL) {
			return TDNS_ENOMEM;
		}
		z->tline = l;
		z->captok = cap;
	}
	z->toks[z->ntok] = (struct dns_tok){ .s = s, .len = len, .quoted = quoted };
	z->tline[z->ntok] = line;
	z->ntok++;
	return TDNS_OK;
}

static bool
is_delim(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ';' || c == '(' ||
	       c == ')' || c == '"';
}

/*
 * Reads the next non-empty entry: the tokens of one line, or of several lines joined by
 * parentheses (RFC 1035 §5.1).  Returns 1 with z->toks filled, 0 at the end of the source, or
 * an error.
 */
static int
read_entry(struct zf *z, struct zf_src *f)
{
	const char *end = f->text + f->len;
	const char *p = f->text + f->pos;

	for (;;) {
		z->ntok = 0;
		if (p >= end) {
			f->pos = f->len;
			return 0;
		}
		const char *ls = p;
		const char *first = NULL;
		bool open = false;
		unsigned open_line = 0;
		int rc;

		z->entry_line = f->line;
		while (p < end) {
			char c = *p;
			if (c == '\n') {
				f->line++;
				p++;
				if (!open) {
					break;
				}
				continue;
			}
			if (c == ' ' || c == '\t' || c == '\r') {
				p++;
				continue;
			}
			if (c == ';') {
				const char *nl = memchr(p, '\n', (size_t)(end - p));
				p = nl ? nl : end;
				continue;
			}
			if (c == '(') {
				if (open) {
					f->pos = (size_t)(p - f->text);
					return zf_fail(z, f, f->line, TDNS_EZONEFILE,
						       "nested parenthesis: the one opened at line "
						       "%u is still open", open_line);
				}
				open = true;
				open_line = f->line;
				p++;
				continue;
			}
			if (c == ')') {
				if (!open) {
					f->pos = (size_t)(p - f->text);
					return zf_fail(z, f, f->line, TDNS_EZONEFILE,
						       "unbalanced parenthesis: ')' without '('");
				}
				open = false;
				p++;
				continue;
			}
			if (first == NULL) {
				first = p;
			}
			if (c == '"') {
				const char *q = p + 1;
				while (q < end && *q != '"' && *q != '\n') {
					q += (*q == '\\' && q + 1 < end && q[1] != '\n') ? 2 : 1;
				}
				if (q >= end || *q != '"') {
					f->pos = (size_t)(q - f->text);
					return zf_fail(z, f, f->line, TDNS_EZONEFILE,
						       "unterminated quoted string: expected '\"' "
						       "before the end of the line");
				}
				rc = push_tok(z, p + 1, (size_t)(q - p - 1), true, f->line);
				if (rc < 0) {
					return zf_fail(z, f, f->line, rc, "out of memory");
				}
				p = q + 1;
				continue;
			}
			const char *t = p;
			while (p < end) {
				c = *p;
				if (c == '\\') {
					/* A token keeps its escapes; "\ " does not end it. */
					p += (p + 1 < end && p[1] != '\n') ? 2 : 1;
					continue;
				}
				if (is_delim(c)) {
					break;
				}
				p++;
			}
			rc = push_tok(z, t, (size_t)(p - t), false, f->line);
			if (rc < 0) {
				return zf_fail(z, f, f->line, rc, "out of memory");
			}
		}
		f->pos = (size_t)(p - f->text);
		if (open) {
			return zf_fail(z, f, open_line, TDNS_EZONEFILE,
				       "unbalanced parenthesis opened at line %u: expected ')' "
				       "before the end of the file", open_line);
		}
		if (z->ntok > 0) {
			/* Only a token in column 0 is an owner (RFC 1035 §5.1; blank: previous). */
			z->entry_owner = first == ls;
			return 1;
		}
	}
}

/* ---- entries ---- */

static struct zf_type_cache *
type_slot(struct zf *z, const struct dns_tok *t)
{
	if (t->len == 0 || t->len >= sizeof(z->tcache[0].text) || t->quoted) {
		return NULL;
	}
	return &z->tcache[((unsigned char)t->s[0] + t->len) % ZF_TYPE_CACHE];
}

/* A type token seen before, without walking the type and class tables; -1 if not cached. */
static int
type_cached(struct zf *z, const struct dns_tok *t)
{
	const struct zf_type_cache *c = type_slot(z, t);
	if (c != NULL && c->len == t->len && memcmp(c->text, t->s, t->len) == 0) {
		return c->type;
	}
	return -1;
}

static int
type_lookup(struct zf *z, const struct dns_tok *t)
{
	if (t->quoted) {
		return -1;
	}
	struct zf_type_cache *c = type_slot(z, t);
	int type = dns_type_from_text(t->s, t->len);
	if (type >= 0 && c != NULL) {
		memcpy(c->text, t->s, t->len);
		c->len = t->len;
		c->type = type;
	}
	return type;
}

static int
class_lookup(const struct dns_tok *t)
{
	if (t->quoted) {
		return -1;
	}
	if (t->len == 2 && (t->s[0] | 0x20) == 'i' && (t->s[1] | 0x20) == 'n') {
		return DNS_CLASS_IN;
	}
	return dns_class_from_text(t->s, t->len);
}

/*
 * Parses "[ttl] [class] type" in either order from toks[*i] (RFC 1035 §5.1) and applies the
 * TTL defaults: $TTL (RFC 2308 §4), else the last explicit TTL, else default_ttl.
 */
static int
parse_ttl_class_type(struct zf *z, const struct zf_src *f, size_t *i, uint32_t *ttl,
		     uint16_t *type)
{
	const struct dns_tok *toks = z->toks;
	bool have_ttl = false, have_class = false;

	for (;;) {
		if (*i >= z->ntok) {
			return zf_fail(z, f, z->tline[z->ntok - 1], TDNS_EZONEFILE,
				       "missing RR type: expected [TTL] [class] type rdata");
		}
		const struct dns_tok *t = &toks[*i];
		unsigned line = z->tline[*i];
		if (!have_ttl && !t->quoted && t->len > 0 && t->s[0] >= '0' && t->s[0] <= '9') {
			int rc = zf_ttl(z, f, line, t, ttl);
			if (rc < 0) {
				return rc;
			}
			have_ttl = true;
			(*i)++;
			continue;
		}
		int ty = type_cached(z, t);
		if (!have_class && ty < 0) {
			int c = class_lookup(t);
			if (c >= 0) {
				if (c != DNS_CLASS_IN) {
					return zf_fail(z, f, line, TDNS_EZONEFILE,
						       "class '%.*s' is not supported: only "
						       "class IN is served", qlen(t->len), t->s);
				}
				have_class = true;
				(*i)++;
				continue;
			}
		}
		if (ty < 0) {
			ty = type_lookup(z, t);
		}
		if (ty < 0) {
			return zf_fail(z, f, line, TDNS_EZONEFILE, "unknown RR type '%.*s'",
				       qlen(t->len), t->s);
		}
		if (dns_type_is_meta((uint16_t)ty)) {
			return zf_fail(z, f, line, TDNS_EZONEFILE,
				       "type '%.*s' is a meta-type and cannot appear in zone data",
				       qlen(t->len), t->s);
		}
		*type = (uint16_t)ty;
		(*i)++;
		break;
	}
	if (have_ttl) {
		z->last_ttl = *ttl;
		z->have_last_ttl = true;
	} else if (z->have_dollar_ttl) {
		*ttl = z->dollar_ttl;
	} else if (z->have_last_ttl) {
		*ttl = z->last_ttl;
	} else {
		*ttl = z->default_ttl;
	}
	return TDNS_OK;
}

/* The line of the rdata token an rdata error message quotes, else the entry's line. */
static unsigned
rdata_error_line(const struct zf *z, const struct dns_tok *toks, const unsigned *lines,
		 size_t ntok, unsigned dflt)
{
	if (lines == NULL) {
		return dflt;
	}
	const char *m = z->rderr;
	for (size_t i = 0; i < ntok; i++) {
		const struct dns_tok *t = &toks[i];
		if (t->len == 0) {
			continue;
		}
		for (const char *q = strchr(m, '\''); q != NULL; q = strchr(q + 1, '\'')) {
			if (strncmp(q + 1, t->s, t->len) == 0 && q[1 + t->len] == '\'') {
				return lines[i];
			}
		}
	}
	return dflt;
}

/* Converts rdata and hands the RR to the callback. */
static int
emit_rr(struct zf *z, const struct zf_src *f, unsigned line, uint16_t type, uint32_t ttl,
	const struct dns_tok *toks, const unsigned *lines, size_t ntok)
{
	size_t rdlen = 0;

	z->rderr[0] = '\0';
	int rc = dns_rdata_from_text(type, toks, ntok, z->have_origin ? z->origin : NULL, z->rd,
				     sizeof(z->rd), &rdlen, z->rderr, sizeof(z->rderr));
	if (rc < 0) {
		char tb[16];
		unsigned el = rdata_error_line(z, toks, lines, ntok, line);
		if (z->rderr[0] != '\0') {
			return zf_fail(z, f, el, TDNS_EZONEFILE, "%s", z->rderr);
		}
		return zf_fail(z, f, el, TDNS_EZONEFILE, "bad %s rdata: %s",
			       dns_type_to_text(type, tb), tdns_status_msg(rc));
	}
	struct dns_zf_rr rr = {
		.owner = z->owner,
		.type = type,
		.rclass = DNS_CLASS_IN,
		.ttl = ttl,
		.rdata = z->rd,
		.rdlen = rdlen,
		.file = f->name,
		.line = line,
	};
	rc = z->cb(z->ctx, &rr);
	if (rc != TDNS_OK) {
		return zf_fail(z, f, line, rc, "%s", tdns_status_msg(rc));
	}
	return TDNS_OK;
}

static int
set_owner(struct zf *z, const struct zf_src *f, unsigned line, const struct dns_tok *t)
{
	if (z->owner_cached && z->owner_gen == z->origin_gen && t->len == z->owner_text_len &&
	    memcmp(t->s, z->owner_text, t->len) == 0) {
		return TDNS_OK;
	}
	int n = dns_name_from_text(t->s, t->len, z->have_origin ? z->origin : NULL, z->owner);
	if (n < 0) {
		z->have_owner = false;
		z->owner_cached = false;
		return zf_name_error(z, f, line, t, n);
	}
	z->have_owner = true;
	z->owner_cached = t->len <= sizeof(z->owner_text);
	if (z->owner_cached) {
		memcpy(z->owner_text, t->s, t->len);
		z->owner_text_len = t->len;
		z->owner_gen = z->origin_gen;
	}
	return TDNS_OK;
}

static int
read_source(struct zf *z, struct zf_src *f, int depth);

/*
 * Copies a token's text with the <character-string> escapes \X and \DDD resolved (RFC 1035
 * §5.1: the file name of $INCLUDE is one).  False on a bad escape, a NUL, or no room.
 */
static bool
tok_unescape(const struct dns_tok *t, char *out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < t->len; i++) {
		char c = t->s[i];
		if (c == '\\') {
			if (i + 1 >= t->len) {
				return false;
			}
			const char *d = t->s + i + 1;
			if (d[0] >= '0' && d[0] <= '9') {
				if (i + 3 >= t->len || d[1] < '0' || d[1] > '9' || d[2] < '0' ||
				    d[2] > '9') {
					return false;
				}
				int v = (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
				if (v > 255) {
					return false;
				}
				c = (char)v;
				i += 3;
			} else {
				c = d[0];
				i++;
			}
		}
		if (c == '\0' || n + 1 >= cap) {
			return false;
		}
		out[n++] = c;
	}
	out[n] = '\0';
	return n > 0;
}

static int
directive_include(struct zf *z, struct zf_src *f, int depth)
{
	unsigned line = z->entry_line;
	char path[PATH_MAX];
	char name[PATH_MAX];

	if (z->mem) {
		return zf_fail(z, f, line, TDNS_EZONEFILE,
			       "$INCLUDE is not allowed here: the zone is read from memory");
	}
	if (z->ntok < 2 || z->ntok > 3) {
		return zf_fail(z, f, line, TDNS_EZONEFILE,
			       "$INCLUDE needs a file name and an optional origin");
	}
	if (depth + 1 > ZF_INCLUDE_DEPTH) {
		return zf_fail(z, f, line, TDNS_EZONEFILE,
			       "$INCLUDE nested too deeply: at most %d levels", ZF_INCLUDE_DEPTH);
	}
	if (!tok_unescape(&z->toks[1], name, sizeof(name))) {
		return zf_fail(z, f, line, TDNS_EZONEFILE, "bad $INCLUDE file name '%.*s'",
			       qlen(z->toks[1].len), z->toks[1].s);
	}
	/* Relative paths are relative to the including file, not to the working directory. */
	const char *slash = strrchr(f->name, '/');
	int n;
	if (name[0] == '/' || slash == NULL) {
		n = snprintf(path, sizeof(path), "%s", name);
	} else {
		n = snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - f->name), f->name, name);
	}
	if (n < 0 || (size_t)n >= sizeof(path)) {
		return zf_fail(z, f, line, TDNS_EZONEFILE, "$INCLUDE path is too long");
	}

	uint8_t saved_origin[DNS_NAME_MAX], saved_owner[DNS_NAME_MAX];
	bool saved_have_origin = z->have_origin, saved_have_owner = z->have_owner;
	memcpy(saved_origin, z->origin, sizeof(saved_origin));
	memcpy(saved_owner, z->owner, sizeof(saved_owner));

	if (z->ntok == 3) {
		int r = zf_set_origin(z, f, line, &z->toks[2]);
		if (r != TDNS_OK) {
			return r;
		}
	}

	struct zf_src inc;
	int rc = src_open(&inc, path);
	if (rc < 0) {
		return zf_fail(z, f, line, TDNS_EIO, "cannot read $INCLUDE file '%s': %s", path,
			       strerror(-rc));
	}
	rc = read_source(z, &inc, depth + 1);
	src_close(&inc);
	if (rc != TDNS_OK) {
		return rc;
	}
	/* RFC 1035 §5.1: origin and current owner revert after the included file. */
	memcpy(z->origin, saved_origin, sizeof(saved_origin));
	memcpy(z->owner, saved_owner, sizeof(saved_owner));
	z->have_origin = saved_have_origin;
	z->have_owner = saved_have_owner;
	z->origin_gen++;
	z->owner_cached = false;
	return TDNS_OK;
}

/* ---- $GENERATE ---- */

static int
gen_reserve(struct zf *z, size_t n)
{
	if (z->glen + n <= z->gcap) {
		return TDNS_OK;
	}
	size_t cap = z->gcap ? z->gcap : 1024;
	while (cap < z->glen + n) {
		cap *= 2;
	}
	char *b = realloc(z->gbuf, cap);
	if (b == NULL) {
		return TDNS_ENOMEM;
	}
	z->gbuf = b;
	z->gcap = cap;
	return TDNS_OK;
}

static int
gen_put(struct zf *z, const char *s, size_t n)
{
	if (gen_reserve(z, n) < 0) {
		return TDNS_ENOMEM;
	}
	memcpy(z->gbuf + z->glen, s, n);
	z->glen += n;
	return TDNS_OK;
}

/* Parses an optionally signed decimal in s[*i..len) up to a delimiter. */
static bool
gen_num(const char *s, size_t len, size_t *i, bool sign, long long *out)
{
	bool neg = false;
	long long v = 0;
	size_t start;

	if (sign && *i < len && (s[*i] == '-' || s[*i] == '+')) {
		neg = s[*i] == '-';
		(*i)++;
	}
	start = *i;
	while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
		v = v * 10 + (s[*i] - '0');
		if (v > INT32_MAX) {
			return false;
		}
		(*i)++;
	}
	if (*i == start) {
		return false;
	}
	*out = neg ? -v : v;
	return true;
}

/* BIND's nibble form: least significant nibble first, one per label, width counts dots. */
static int
gen_nibbles(struct zf *z, unsigned long long v, unsigned width, bool upper)
{
	static const char hex[] = "0123456789abcdef0123456789ABCDEF";
	do {
		char c = hex[(v & 0xf) + (upper ? 16 : 0)];
		v >>= 4;
		if (gen_put(z, &c, 1) < 0) {
			return TDNS_ENOMEM;
		}
		if (width > 0) {
			width--;
		}
		if (width > 0 || v != 0) {
			if (gen_put(z, ".", 1) < 0) {
				return TDNS_ENOMEM;
			}
			if (width > 0) {
				width--;
			}
		}
	} while (v != 0 || width > 0);
	return TDNS_OK;
}

/* Parses "offset[,width[,base]]}" from s[*i]; on success *i is past the brace. */
static bool
gen_modifier(const char *s, size_t len, size_t *i, long long *offset, long long *width,
	     char *base)
{
	if (!gen_num(s, len, i, true, offset)) {
		return false;
	}
	if (*i < len && s[*i] == ',') {
		(*i)++;
		if (!gen_num(s, len, i, false, width) || *width > ZF_GEN_WIDTH_MAX) {
			return false;
		}
		if (*i < len && s[*i] == ',') {
			(*i)++;
			if (*i >= len || s[*i] == '\0' || strchr("doxXnN", s[*i]) == NULL) {
				return false;
			}
			*base = s[(*i)++];
		}
	}
	if (*i >= len || s[*i] != '}') {
		return false;
	}
	(*i)++;
	return true;
}

/*
 * Substitutes the iterator into one template token: "$" is the value, "${offset,width,base}"
 * modifies it (bases d o x X n N), "\$" and "$$" give a literal dollar.  Other escapes are kept
 * for the name and rdata parsers.
 */
static int
gen_expand(struct zf *z, const struct zf_src *f, unsigned line, const struct dns_tok *t,
	   long long it)
{
	const char *s = t->s;
	size_t len = t->len;

	for (size_t i = 0; i < len;) {
		char c = s[i];
		if (c == '\\' && i + 1 < len) {
			if (s[i + 1] == '$') {
				if (gen_put(z, "$", 1) < 0) {
					return TDNS_ENOMEM;
				}
			} else if (gen_put(z, s + i, 2) < 0) {
				return TDNS_ENOMEM;
			}
			i += 2;
			continue;
		}
		if (c != '$') {
			if (gen_put(z, &c, 1) < 0) {
				return TDNS_ENOMEM;
			}
			i++;
			continue;
		}
		i++;
		if (i < len && s[i] == '$') {
			if (gen_put(z, "$", 1) < 0) {
				return TDNS_ENOMEM;
			}
			i++;
			continue;
		}
		long long offset = 0, width = 0;
		char base = 'd';
		if (i < len && s[i] == '{') {
			size_t m = i + 1;
			if (!gen_modifier(s, len, &m, &offset, &width, &base)) {
				const char *close = memchr(s + i, '}', len - i);
				size_t ml = close ? (size_t)(close - s) + 1 - i : len - i;
				return zf_fail(z, f, line, TDNS_EZONEFILE,
					       "bad $GENERATE modifier '$%.*s': expected "
					       "${offset[,width[,base]]} with base d, o, x, "
					       "X, n or N", qlen(ml), s + i);
			}
			i = m;
		}
		long long v = it + offset;
		if (v < 0) {
			return zf_fail(z, f, line, TDNS_EZONEFILE,
				       "$GENERATE value %lld is negative: the offset is too small",
				       v);
		}
		if (base == 'n' || base == 'N') {
			bool upper = base == 'N';
			if (gen_nibbles(z, (unsigned long long)v, (unsigned)width, upper) < 0) {
				return TDNS_ENOMEM;
			}
			continue;
		}
		char num[ZF_GEN_WIDTH_MAX + 32];
		unsigned long long u = (unsigned long long)v;
		int n;
		switch (base) {
		case 'o': n = snprintf(num, sizeof(num), "%0*llo", (int)width, u); break;
		case 'x': n = snprintf(num, sizeof(num), "%0*llx", (int)width, u); break;
		case 'X': n = snprintf(num, sizeof(num), "%0*llX", (int)width, u); break;
		default: n = snprintf(num, sizeof(num), "%0*llu", (int)width, u); break;
		}
		if (gen_put(z, num, (size_t)n) < 0) {
			return TDNS_ENOMEM;
		}
	}
	return TDNS_OK;
}

/* Parses "start-stop[/step]". */
static bool
gen_range(const struct dns_tok *t, long long *start, long long *stop, long long *step)
{
	size_t i = 0;
	*step = 1;
	if (!gen_num(t->s, t->len, &i, false, start) || i >= t->len || t->s[i] != '-') {
		return false;
	}
	i++;
	if (!gen_num(t->s, t->len, &i, false, stop)) {
		return false;
	}
	if (i < t->len) {
		if (t->s[i] != '/') {
			return false;
		}
		i++;
		if (!gen_num(t->s, t->len, &i, false, step) || i != t->len || *step == 0) {
			return false;
		}
	}
	return true;
}

/* BIND's "$GENERATE range lhs [ttl] [class] type rhs": one RR per value of the range. */
static int
directive_generate(struct zf *z, struct zf_src *f)
{
	unsigned line = z->entry_line;
	long long start, stop, step;
	uint32_t ttl;
	uint16_t type;

	if (z->ntok < 5) {
		return zf_fail(z, f, line, TDNS_EZONEFILE,
			       "$GENERATE needs range lhs [TTL] [class] type rhs");
	}
	const struct dns_tok *rt = &z->toks[1];
	if (rt->quoted || !gen_range(rt, &start, &stop, &step) || stop < start) {
		return zf_fail(z, f, z->tline[1], TDNS_EZONEFILE,
			       "bad $GENERATE range '%.*s': expected start-stop[/step] with "
			       "start <= stop", qlen(rt->len), rt->s);
	}
	if ((stop - start) / step + 1 > ZF_GENERATE_MAX) {
		return zf_fail(z, f, z->tline[1], TDNS_EZONEFILE,
			       "$GENERATE range '%.*s' is too large: at most %d records",
			       qlen(rt->len), rt->s, ZF_GENERATE_MAX);
	}
	size_t i = 3;
	int rc = parse_ttl_class_type(z, f, &i, &ttl, &type);
	if (rc < 0) {
		return rc;
	}
	if (i >= z->ntok) {
		return zf_fail(z, f, line, TDNS_EZONEFILE, "$GENERATE needs a rhs after the type");
	}
	size_t nrhs = z->ntok - i;
	if (nrhs > z->gtcap) {
		struct dns_tok *g = realloc(z->gtoks, nrhs * sizeof(*g));
		if (g == NULL) {
			return zf_fail(z, f, line, TDNS_ENOMEM, "out of memory");
		}
		z->gtoks = g;
		z->gtcap = nrhs;
	}
	size_t offs[2 * 64 + 2];
	size_t *off = nrhs + 1 <= 64 ? offs : malloc(2 * (nrhs + 1) * sizeof(*off));
	if (off == NULL) {
		return zf_fail(z, f, line, TDNS_ENOMEM, "out of memory");
	}
	for (long long it = start; it <= stop; it += step) {
		z->glen = 0;
		/* Offsets, not pointers: gbuf may move while it grows. */
		for (size_t k = 0; k <= nrhs; k++) {
			const struct dns_tok *t = k == 0 ? &z->toks[2] : &z->toks[i + k - 1];
			off[2 * k] = z->glen;
			rc = gen_expand(z, f, line, t, it);
			if (rc == TDNS_ENOMEM) {
				rc = zf_fail(z, f, line, rc, "out of memory");
			}
			if (rc < 0) {
				goto out;
			}
			off[2 * k + 1] = z->glen - off[2 * k];
		}
		struct dns_tok lhs = { .s = z->gbuf + off[0], .len = off[1], .quoted = false };
		for (size_t k = 0; k < nrhs; k++) {
			z->gtoks[k] = (struct dns_tok){
				.s = z->gbuf + off[2 * (k + 1)],
				.len = off[2 * (k + 1) + 1],
				.quoted = z->toks[i + k].quoted,
			};
		}
		int n = dns_name_from_text(lhs.s, lhs.len, z->have_origin ? z->origin : NULL,
					   z->owner);
		if (n < 0) {
			rc = zf_name_error(z, f, line, &lhs, n);
			goto out;
		}
		z->owner_cached = false;
		z->have_owner = true;
		rc = emit_rr(z, f, line, type, ttl, z->gtoks, NULL, nrhs);
		if (rc != TDNS_OK) {
			goto out;
		}
	}
	rc = TDNS_OK;
out:
	if (off != offs) {
		free(off);
	}
	return rc;
}

static int
directive(struct zf *z, struct zf_src *f, int depth)
{
	const struct dns_tok *d = &z->toks[0];
	unsigned line = z->entry_line;

#define IS(word) (d->len == sizeof(word) - 1 && strncasecmp(d->s, word, d->len) == 0)
	if (IS("$ORIGIN")) {
		if (z->ntok != 2) {
			return zf_fail(z, f, line, TDNS_EZONEFILE,
				       "$ORIGIN needs exactly one name");
		}
		return zf_set_origin(z, f, line, &z->toks[1]);
	}
	if (IS("$TTL")) {
		if (z->ntok != 2) {
			return zf_fail(z, f, line, TDNS_EZONEFILE, "$TTL needs exactly one TTL");
		}
		int rc = zf_ttl(z, f, line, &z->toks[1], &z->dollar_ttl);
		if (rc < 0) {
			return rc;
		}
		z->have_dollar_ttl = true;  /* RFC 2308 §4 */
		return TDNS_OK;
	}
	if (IS("$INCLUDE")) {
		return directive_include(z, f, depth);
	}
	if (IS("$GENERATE")) {
		return directive_generate(z, f);
	}
#undef IS
	return zf_fail(z, f, line, TDNS_EZONEFILE,
		       "unknown directive '%.*s': expected $ORIGIN, $TTL, $INCLUDE or $GENERATE",
		       qlen(d->len), d->s);
}

static int
entry(struct zf *z, struct zf_src *f, int depth)
{
	size_t i = 0;
	uint32_t ttl;
	uint16_t type;
	int rc;

	if (z->entry_owner) {
		const struct dns_tok *o = &z->toks[0];
		if (!o->quoted && o->len > 0 && o->s[0] == '$') {
			return directive(z, f, depth);
		}
		rc = set_owner(z, f, z->tline[0], o);
		if (rc < 0) {
			return rc;
		}
		i = 1;
	} else if (!z->have_owner) {
		return zf_fail(z, f, z->entry_line, TDNS_EZONEFILE,
			       "no owner name: the first record must start in column 0 with its "
			       "owner");
	}
	rc = parse_ttl_class_type(z, f, &i, &ttl, &type);
	if (rc < 0) {
		return rc;
	}
	return emit_rr(z, f, z->entry_line, type, ttl, z->toks + i, z->tline + i, z->ntok - i);
}

static int
read_source(struct zf *z, struct zf_src *f, int depth)
{
	for (;;) {
		int rc = read_entry(z, f);
		if (rc <= 0) {
			return rc;
		}
		rc = entry(z, f, depth);
		if (rc != TDNS_OK) {
			return rc;
		}
	}
}

/* ---- public ---- */

static struct zf *
zf_new(const uint8_t *origin, uint32_t default_ttl, dns_zf_cb cb, void *ctx,
       struct dns_zf_error *err)
{
	struct zf *z = malloc(sizeof(*z));
	if (z == NULL) {
		return NULL;
	}
	memset(z, 0, offsetof(struct zf, rd));
	z->cb = cb;
	z->ctx = ctx;
	z->err = err;
	z->default_ttl = default_ttl;
	if (origin != NULL) {
		memcpy(z->origin, origin, dns_name_len(origin));
		z->have_origin = true;
	}
	return z;
}

static void
zf_free(struct zf *z)
{
	free(z->toks);
	free(z->tline);
	free(z->gbuf);
	free(z->gtoks);
	free(z);
}

static int
zf_run(const char *text, size_t len, const char *name, const char *path, const uint8_t *origin,
       uint32_t default_ttl, dns_zf_cb cb, void *ctx, struct dns_zf_error *err)
{
	struct dns_zf_error local;
	if (err == NULL) {
		err = &local;
	}
	memset(err, 0, sizeof(*err));

	struct zf *z = zf_new(origin, default_ttl, cb, ctx, err);
	if (z == NULL) {
		snprintf(err->file, sizeof(err->file), "%s", name);
		snprintf(err->msg, sizeof(err->msg), "%s: out of memory", name);
		return TDNS_ENOMEM;
	}
	struct zf_src src;
	int rc;
	if (path != NULL) {
		z->mem = false;
		rc = src_open(&src, path);
		if (rc < 0) {
			snprintf(err->file, sizeof(err->file), "%s", path);
			snprintf(err->msg, sizeof(err->msg), "%.255s: cannot read zone file: %s",
				 path, strerror(-rc));
			zf_free(z);
			return TDNS_EIO;
		}
	} else {
		z->mem = true;
		memset(&src, 0, sizeof(src));
		src.name = name;
		src.text = text != NULL ? text : "";
		src.len = text != NULL ? len : 0;
		src.line = 1;
	}
	rc = read_source(z, &src, 0);
	src_close(&src);
	zf_free(z);
	return rc;
}

int
dns_zonefile_read(const char *path, const uint8_t *origin, uint32_t default_ttl, dns_zf_cb cb,
		  void *ctx, struct dns_zf_error *err)
{
	return zf_run(NULL, 0, path, path, origin, default_ttl, cb, ctx, err);
}

int
dns_zonefile_read_mem(const char *text, size_t len, const char *name, const uint8_t *origin,
		      uint32_t default_ttl, dns_zf_cb cb, void *ctx, struct dns_zf_error *err)
{
	return zf_run(text, len, name != NULL ? name : "<memory>", NULL, origin, default_ttl, cb,
		      ctx, err);
}
