/* SPDX-License-Identifier: MIT */
/* cfg: the value types, the schema built from the owners' tables, and the inih loader. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "cfg/cfg.h"
#include "core/core.h"

/*
 * The schema in use: the owners' tables, registered by the program (cfg_use_schema) so that
 * cfg, a leaf, never refers to the subsystems above it.
 */
static const struct cfg_schema *schema_in_use;
#define SCHEMA (*current_schema())

static const struct cfg_schema *
current_schema(void)
{
	if (schema_in_use == NULL) {
		/* A programming error: every program registers its schema before loading. */
		fprintf(stderr, "cfg: no schema registered (cfg_use_schema)\n");
		abort();
	}
	return schema_in_use;
}

void
cfg_use_schema(const struct cfg_schema *s)
{
	schema_in_use = s;
}

/* Every message a value parser writes is "what was wrong; expected what". */
#define LISTEN_EXPECT "expected ADDR, ADDR:PORT, [IPV6] or [IPV6]:PORT separated by commas, " \
	"port 1..65535"

/* Strict unsigned decimal: digits only, no sign, no spaces, no overflow. */
static bool
parse_u32(const char *s, unsigned long max, unsigned *out)
{
	unsigned long v = 0;
	if (*s == '\0') {
		return false;
	}
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9') {
			return false;
		}
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > max) {
			return false;
		}
	}
	*out = (unsigned)v;
	return true;
}

/*
 * Parses one listen address; *why says what was wrong.  IPv4 goes through inet_pton, not
 * getaddrinfo, because the latter accepts inet_aton shorthands such as "127.1".
 */
static int
listen_parse(const char *s, uint16_t default_port, struct cfg_listen *l, const char **why)
{
	char host[128];
	const char *port = NULL;
	bool v6;
	size_t hlen;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL) {
			*why = "missing ']'";
			return TDNS_EINVAL;
		}
		hlen = (size_t)(close - s - 1);
		if (close[1] == ':') {
			port = close + 2;
		} else if (close[1] != '\0') {
			*why = "text after ']'";
			return TDNS_EINVAL;
		}
		s++;
		v6 = true;
	} else {
		const char *colon = strchr(s, ':');
		hlen = strlen(s);
		v6 = colon != NULL;
		if (colon != NULL && strchr(colon + 1, ':') == NULL) {
			/* One colon: IPv4 with a port; an IPv6 address always has two or more. */
			hlen = (size_t)(colon - s);
			port = colon + 1;
			v6 = false;
		}
	}
	if (hlen == 0 || hlen >= sizeof(host)) {
		*why = "not an IP address";
		return TDNS_EINVAL;
	}
	memcpy(host, s, hlen);
	host[hlen] = '\0';

	unsigned portnum = default_port;
	if (port != NULL) {
		unsigned long maxlong = 99999;
		if (!parse_u32(port, maxlong, &portnum)) {
			*why = "port is not a number";
			return TDNS_EINVAL;
		}
		if (portnum == 0 || portnum > 65535) {
			*why = "port out of range";
			return TDNS_EINVAL;
		}
	}

	memset(l, 0, sizeof(*l));
	if (!v6) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&l->addr;
		if (strchr(host, ']') != NULL || inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
			*why = "not an IP address";
			return TDNS_EINVAL;
		}
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)portnum);
		l->addrlen = sizeof(*sin);
		char num[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &sin->sin_addr, num, sizeof(num));
		snprintf(l->text, sizeof(l->text), "%s:%u", num, portnum);
		return TDNS_OK;
	}

	/* getaddrinfo for IPv6 so that a scope ("fe80::1%eth0") is understood. */
	struct addrinfo hints = {
		.ai_family = AF_INET6,
		.ai_socktype = SOCK_DGRAM,
		.ai_flags = AI_NUMERICHOST,
	};
	struct addrinfo *res = NULL;
	if (getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL ||
	    res->ai_addrlen > sizeof(l->addr)) {
		if (res != NULL) {
			freeaddrinfo(res);
		}
		*why = "not an IP address";
		return TDNS_EINVAL;
	}
	memcpy(&l->addr, res->ai_addr, res->ai_addrlen);
	l->addrlen = (socklen_t)res->ai_addrlen;
	freeaddrinfo(res);
	((struct sockaddr_in6 *)&l->addr)->sin6_port = htons((uint16_t)portnum);
	char num[INET6_ADDRSTRLEN + 32];
	if (getnameinfo((struct sockaddr *)&l->addr, l->addrlen, num, sizeof(num), NULL, 0,
			NI_NUMERICHOST) != 0) {
		*why = "not an IP address";
		return TDNS_EINVAL;
	}
	int n = snprintf(l->text, sizeof(l->text), "[%s]:%u", num, portnum);
	if (n < 0 || (size_t)n >= sizeof(l->text)) {
		*why = "address too long";
		return TDNS_EINVAL;
	}
	return TDNS_OK;
}

int
cfg_parse_listen(const char *s, uint16_t default_port, struct cfg_listen *l)
{
	const char *why;
	return listen_parse(s, default_port, l, &why);
}

/* Removes the blanks around s in place; returns where it now starts. */
static char *
trim(char *s)
{
	while (*s == ' ' || *s == '\t') {
		s++;
	}
	size_t len = strlen(s);
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t')) {
		s[--len] = '\0';
	}
	return s;
}

char *
cfg_list_next(char **cursor, bool *more)
{
	char *s = *cursor;
	char *comma = strchr(s, ',');
	*more = comma != NULL;
	if (comma != NULL) {
		*comma = '\0';
		*cursor = comma + 1;
	} else {
		*cursor = s + strlen(s);
	}
	return trim(s);
}

/*
 * A comma-separated listen list with default_port; the whole list replaces the previous one.
 * An empty value is an empty list (the listener is off) when allow_empty.
 */
static int
parse_listen_list(const char *value, uint16_t default_port, bool allow_empty,
		  struct cfg_listen **target, size_t *count, char *err, size_t errlen)
{
	struct cfg_listen *list = NULL;
	size_t n = 0;
	char *copy = tdns_xstrdup(value);
	char *p = copy;
	int rc = TDNS_ECONFIG;

	while (*p == ' ' || *p == '\t') {
		p++;
	}
	if (*p == '\0' && allow_empty) {
		goto done;
	}
	for (;;) {
		bool more;
		char *item = cfg_list_next(&p, &more);
		if (item[0] == '\0') {
			snprintf(err, errlen, "%s; %s", n == 0 && !more ?
				 "listen has no address" : "empty address in the listen list",
				 LISTEN_EXPECT);
			goto out;
		}
		list = tdns_xrealloc(list, (n + 1) * sizeof(*list));
		const char *why = NULL;
		if (listen_parse(item, default_port, &list[n], &why) != TDNS_OK) {
			snprintf(err, errlen, "invalid listen address '%s' (%s); %s", item, why,
				 LISTEN_EXPECT);
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			if (list[i].addrlen == list[n].addrlen &&
			    memcmp(&list[i].addr, &list[n].addr, list[n].addrlen) == 0) {
				snprintf(err, errlen, "listen address %s is listed twice; "
					 "expected each address once", list[n].text);
				goto out;
			}
		}
		n++;
		if (!more) {
			break;
		}
	}
done:
	free(*target);
	*target = list;
	*count = n;
	list = NULL;
	rc = TDNS_OK;
out:
	free(list);
	free(copy);
	return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* The value types                                                                              */

/* The value's name in messages. */
static const char *
what_of(const struct cfg_key *k)
{
	return k->what != NULL ? k->what : k->type == CFG_BOOL ? "value" : k->key;
}

static int
bad_value(const struct cfg_key *k, const char *value, char *err, size_t errlen)
{
	snprintf(err, errlen, "invalid %s '%s'; expected %s", what_of(k), value, k->expect);
	return TDNS_ECONFIG;
}

static int
parse_str(const struct cfg_key *k, struct cfg *c, void *target, const char *value, char *err,
	  size_t errlen)
{
	(void)c;
	if (k->check != NULL && k->check(value, err, errlen) != TDNS_OK) {
		return TDNS_ECONFIG;
	}
	char **t = target;
	free(*t);
	*t = value[0] == '\0' && (k->flags & CFG_KEY_EMPTY_NULL) ? NULL : tdns_xstrdup(value);
	return TDNS_OK;
}

static int
parse_path(const struct cfg_key *k, struct cfg *c, void *target, const char *value, char *err,
	   size_t errlen)
{
	bool empty_ok = !(k->flags & CFG_KEY_REQUIRED);
	bool ok = value[0] == '\0' ? empty_ok :
		  value[0] == '/' && (k->max == 0 || strlen(value) <= k->max);
	if (!ok) {
		return bad_value(k, value, err, errlen);
	}
	if (parse_str(k, c, target, value, err, errlen) != TDNS_OK) {
		return TDNS_ECONFIG;
	}
	char *dir = *(char **)target;
	for (size_t len = strlen(dir); (k->flags & CFG_KEY_TRIM_SLASH) && len > 1 &&
	     dir[len - 1] == '/'; len--) {
		dir[len - 1] = '\0';
	}
	return TDNS_OK;
}

static int
parse_uint(const struct cfg_key *k, struct cfg *c, void *target, const char *value, char *err,
	   size_t errlen)
{
	(void)c;
	unsigned v;
	if ((k->flags & CFG_KEY_AUTO) && strcmp(value, "auto") == 0) {
		*(unsigned *)target = 0;
		return TDNS_OK;
	}
	if (!parse_u32(value, 0xffffffffUL, &v) || v < k->min || v > k->max) {
		snprintf(err, errlen, "invalid %s '%s'; expected %s %u..%u", what_of(k), value,
			 k->expect, (unsigned)k->min, (unsigned)k->max);
		return TDNS_ECONFIG;
	}
	*(unsigned *)target = v;
	return TDNS_OK;
}

static const struct cfg_enum yes_no[] = { { "yes", 1 }, { "no", 0 }, { NULL, 0 } };

static const struct cfg_enum *
names_of(const struct cfg_key *k)
{
	return k->type == CFG_BOOL ? yes_no : k->names;
}

static int
parse_enum(const struct cfg_key *k, struct cfg *c, void *target, const char *value, char *err,
	   size_t errlen)
{
	(void)c;
	const struct cfg_enum *names = names_of(k);
	size_t n = 0;
	for (; names[n].name != NULL; n++) {
		if (strcmp(value, names[n].name) == 0) {
			*(unsigned *)target = names[n].value;
			return TDNS_OK;
		}
	}
	/* "expected a, b or c" */
	char list[256] = "";
	size_t off = 0;
	for (size_t i = 0; i < n && off < sizeof(list); i++) {
		const char *sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";
		int w = snprintf(list + off, sizeof(list) - off, "%s%s", sep, names[i].name);
		off += w > 0 ? (size_t)w : 0;
	}
	snprintf(err, errlen, "invalid %s '%s'; expected %s", what_of(k), value, list);
	return TDNS_ECONFIG;
}

/* Sizes in text form: the largest binary unit that divides them ("256M"). */
static void
size_text(uint64_t v, char *buf, size_t cap)
{
	if (v != 0 && v % (1024ull * 1024 * 1024) == 0) {
		snprintf(buf, cap, "%lluG", (unsigned long long)(v >> 30));
	} else if (v != 0 && v % (1024ull * 1024) == 0) {
		snprintf(buf, cap, "%lluM", (unsigned long long)(v >> 20));
	} else if (v != 0 && v % 1024 == 0) {
		snprintf(buf, cap, "%lluK", (unsigned long long)(v >> 10));
	} else {
		snprintf(buf, cap, "%llu", (unsigned long long)v);
	}
}

static int
parse_size(const struct cfg_key *k, struct cfg *c, void *target, const char *value, char *err,
	   size_t errlen)
{
	(void)c;
	size_t len = strlen(value);
	uint64_t mult = 1;
	char num[24];
	if (len > 0 && strchr("kKmMgG", value[len - 1]) != NULL) {
		char u = value[len - 1];
		mult = (u == 'k' || u == 'K') ? 1024ull : (u == 'm' || u == 'M') ? 1024ull * 1024 :
		       1024ull * 1024 * 1024;
		len--;
	}
	unsigned v;
	if (len == 0 || len >= sizeof(num)) {
		goto bad;
	}
	memcpy(num, value, len);
	num[len] = '\0';
	if (!parse_u32(num, 0xffffffffUL, &v)) {
		goto bad;
	}
	uint64_t bytes = (uint64_t)v * mult;
	if (bytes < k->min || bytes > k->max) {
		goto bad;
	}
	*(uint64_t *)target = bytes;
	return TDNS_OK;
bad:;
	char lo[32], hi[32];
	size_text(k->min, lo, sizeof(lo));
	size_text(k->max, hi, sizeof(hi));
	snprintf(err, errlen, "invalid %s '%s'; expected %s, %s..%s", what_of(k), value, k->expect,
		 lo, hi);
	return TDNS_ECONFIG;
}

static int
parse_listen(const struct cfg_key *k, struct cfg *c, void *target, const char *value,
	     char *err, size_t errlen)
{
	size_t *count = (size_t *)((char *)c + k->count_offset);
	return parse_listen_list(value, k->port, (k->flags & CFG_KEY_EMPTY_OK) != 0, target, count,
				 err, errlen);
}

static int
parse_addrs(const struct cfg_key *k, struct cfg *c, void *target, const char *value,
	    char *err, size_t errlen)
{
	char *copy = tdns_xstrdup(value);
	int rc = TDNS_OK;
	for (char *save = NULL, *tok = strtok_r(copy, ", \t", &save); tok != NULL;
	     tok = strtok_r(NULL, ", \t", &save)) {
		uint8_t ip[16];
		if (inet_pton(AF_INET, tok, ip) != 1 && inet_pton(AF_INET6, tok, ip) != 1) {
			rc = bad_value(k, tok, err, errlen);
			break;
		}
	}
	free(copy);
	return rc == TDNS_OK ? parse_str(k, c, target, value, err, errlen) : rc;
}

/* The parser of each type; CFG_CUSTOM keys bring their own. */
static int (*const parsers[])(const struct cfg_key *k, struct cfg *c, void *target,
			      const char *value, char *err, size_t errlen) = {
	[CFG_STR] = parse_str,
	[CFG_PATH] = parse_path,
	[CFG_UINT] = parse_uint,
	[CFG_BOOL] = parse_enum,
	[CFG_ENUM] = parse_enum,
	[CFG_SIZE] = parse_size,
	[CFG_LISTEN] = parse_listen,
	[CFG_ADDRS] = parse_addrs,
};

/* ------------------------------------------------------------------------------------------ */
/* Values in text form                                                                          */

static char *
listen_text(const struct cfg_listen *l, size_t n)
{
	size_t cap = n * (sizeof(l->text) + 2) + 1;
	char *out = tdns_xmalloc(cap);
	size_t off = 0;
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		off += (size_t)snprintf(out + off, cap - off, "%s%s", i ? ", " : "", l[i].text);
	}
	return out;
}

/* The text form of the field of k at base (struct cfg, or a named section's instance). */
static char *
value_text(const struct cfg *c, const struct cfg_key *k, const void *base)
{
	const void *field = (const char *)base + k->offset;
	char buf[32];
	switch (k->type) {
	case CFG_STR:
	case CFG_PATH:
	case CFG_ADDRS: {
		const char *s = *(char *const *)field;
		if ((k->flags & CFG_KEY_SECRET) && s != NULL && s[0] != '\0') {
			return tdns_xstrdup("(secret)");
		}
		return tdns_xstrdup(s != NULL ? s : "");
	}
	case CFG_UINT:
		if ((k->flags & CFG_KEY_AUTO) && *(const unsigned *)field == 0) {
			return tdns_xstrdup("auto");
		}
		snprintf(buf, sizeof(buf), "%u", *(const unsigned *)field);
		return tdns_xstrdup(buf);
	case CFG_BOOL:
	case CFG_ENUM:
		for (const struct cfg_enum *e = names_of(k); e->name != NULL; e++) {
			if (e->value == *(const unsigned *)field) {
				return tdns_xstrdup(e->name);
			}
		}
		return tdns_xstrdup("");
	case CFG_SIZE:
		size_text(*(const uint64_t *)field, buf, sizeof(buf));
		return tdns_xstrdup(buf);
	case CFG_LISTEN:
		return listen_text(*(struct cfg_listen *const *)field,
				   *(const size_t *)((const char *)c + k->count_offset));
	case CFG_CUSTOM:
		return k->fmt != NULL ? k->fmt(field) : NULL;
	}
	return NULL;
}

/* Frees what the field of k at base owns. */
static void
value_free(const struct cfg_key *k, void *base)
{
	void *field = (char *)base + k->offset;
	if (k->type == CFG_STR || k->type == CFG_PATH || k->type == CFG_ADDRS ||
	    k->type == CFG_LISTEN) {
		free(*(void **)field);
		*(void **)field = NULL;
	}
}

/* ------------------------------------------------------------------------------------------ */
/* The schema                                                                                   */

static struct cfg_key *schema_keys;
static pthread_once_t schema_once = PTHREAD_ONCE_INIT;

static void
schema_build(void)
{
	size_t n = 0;
	for (const struct cfg_table *const *t = SCHEMA.tables; *t != NULL; t++) {
		for (const struct cfg_key *k = (*t)->keys; k->key != NULL; k++) {
			n++;
		}
	}
	struct cfg_key *keys = tdns_xcalloc(n + 1, sizeof(*keys));
	n = 0;
	for (const struct cfg_table *const *t = SCHEMA.tables; *t != NULL; t++) {
		for (const struct cfg_key *k = (*t)->keys; k->key != NULL; k++) {
			keys[n] = *k;
			keys[n].section = (*t)->section;
			if (keys[n].parse == NULL && k->type != CFG_CUSTOM) {
				keys[n].parse = parsers[k->type];
			}
			n++;
		}
	}
	schema_keys = keys;
}

const struct cfg_key *
cfg_keys(void)
{
	pthread_once(&schema_once, schema_build);
	return schema_keys;
}

const struct cfg_table *
cfg_named_table(const char *section)
{
	for (const struct cfg_table *const *t = SCHEMA.tables; *t != NULL; t++) {
		if ((*t)->named != NULL && strcmp((*t)->section, section) == 0) {
			return *t;
		}
	}
	return NULL;
}

/* The array of instances of the named table t in c, and their count. */
static char *
named_list(const struct cfg *c, const struct cfg_named *nm, size_t *count)
{
	*count = *(const size_t *)((const char *)c + nm->count_offset);
	return *(char *const *)((const char *)c + nm->list_offset);
}

size_t
cfg_instances(const struct cfg *c, const char *section, size_t i, const char **name)
{
	const struct cfg_table *t = cfg_named_table(section);
	if (name != NULL) {
		*name = NULL;
	}
	if (t == NULL) {
		return 1;
	}
	size_t n;
	char *list = named_list(c, t->named, &n);
	if (name != NULL && i < n) {
		*name = *(char **)(list + i * t->named->size + t->named->name_offset);
	}
	return n;
}

char *
cfg_value_text(const struct cfg *c, const struct cfg_key *k, size_t inst)
{
	const struct cfg_table *t = cfg_named_table(k->section);
	const void *base = c;
	if (t != NULL) {
		size_t n;
		char *list = named_list(c, t->named, &n);
		if (inst >= n) {
			return NULL;
		}
		base = list + inst * t->named->size;
	}
	return value_text(c, k, base);
}

/* ------------------------------------------------------------------------------------------ */
/* The loader                                                                                   */

/* One physical line of the file, as the reader holds it. */
struct phys {
	char *buf;                /* getline buffer */
	size_t cap;
	char *text;               /* after a BOM and the leading blanks */
	size_t len;               /* of text, with its line ending */
	size_t textlen;           /* of text, without its line ending */
	unsigned line;
	bool indented;
};

struct loader {
	const char *path;
	FILE *fp;
	struct phys cur;          /* the line handed to inih last */
	struct phys ahead;        /* the line read ahead to see where a value ends */
	bool have_ahead;
	unsigned nread;           /* physical lines read */
	unsigned line;            /* of the line inih is working on */
	unsigned *phys_of;        /* the physical line of each line handed to inih */
	size_t nlogical;
	size_t phys_cap;
	char *cont;               /* continuation lines of the current key line, joined */
	size_t contlen;
	size_t contcap;
	struct cfg *c;
	const char *sect;         /* the current section's table name, NULL before the first */
	const struct cfg_named *named; /* its named-section description, NULL for a plain one */
	void *base;               /* what its keys fill: c or the current instance */
	const struct cfg_key *keys; /* cfg_keys() */
	unsigned *seen;           /* line where each key was set, 0 = not yet */
	char **acc;               /* the value of each list key so far, for repetitions */
	int status;               /* first error, TDNS_OK while none */
	unsigned err_line;
	char msg[768];
};

static void
fail(struct loader *ld, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
fail(struct loader *ld, int status, const char *fmt, ...)
{
	if (ld->status != TDNS_OK) {
		return;
	}
	ld->status = status;
	ld->err_line = ld->line;
	int n = snprintf(ld->msg, sizeof(ld->msg), "%s:%u: ", ld->path, ld->line);
	if (n < 0 || (size_t)n >= sizeof(ld->msg)) {
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ld->msg + n, sizeof(ld->msg) - (size_t)n, fmt, ap);
	va_end(ap);
}

static const char *
inst_name(const struct cfg_named *nm, const void *inst)
{
	return *(char *const *)((const char *)inst + nm->name_offset);
}

/* The current section as people wrote it, for messages: "server", "zone example.com". */
static void
sect_label(const struct loader *ld, char *out, size_t cap)
{
	if (ld->named != NULL) {
		snprintf(out, cap, "%s %s", ld->sect, inst_name(ld->named, ld->base));
	} else {
		snprintf(out, cap, "%s", ld->sect);
	}
}

/* Applies the defaults of one section to base; a failure is a bug in the table. */
static int
apply_defaults(struct cfg *c, const char *section, void *base, char *err, size_t errlen)
{
	for (const struct cfg_key *k = cfg_keys(); k->key != NULL; k++) {
		if (strcmp(k->section, section) != 0 || (k->flags & CFG_KEY_DERIVED)) {
			continue;
		}
		char msg[256];
		if (k->parse(k, c, (char *)base + k->offset, k->def, msg, sizeof(msg)) != TDNS_OK) {
			snprintf(err, errlen, "built-in default of [%s] %s: %s", section, k->key,
				 msg);
			return TDNS_ECONFIG;
		}
	}
	return TDNS_OK;
}

/* Appends "a, b, c" of items to out. */
static void
append_item(char *out, size_t cap, size_t *off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
append_item(char *out, size_t cap, size_t *off, const char *fmt, ...)
{
	if (*off >= cap) {
		return;
	}
	if (*off > 0) {
		int n = snprintf(out + *off, cap - *off, ", ");
		*off += n > 0 ? (size_t)n : 0;
		if (*off >= cap) {
			return;
		}
	}
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out + *off, cap - *off, fmt, ap);
	va_end(ap);
	*off += n > 0 ? (size_t)n : 0;
}

static void
list_keys(const char *section, char *out, size_t cap)
{
	size_t off = 0;
	out[0] = '\0';
	for (const struct cfg_key *k = cfg_keys(); k->key != NULL; k++) {
		if (strcmp(k->section, section) == 0) {
			append_item(out, cap, &off, "%s", k->key);
		}
	}
}

/* "[server], [control], ..., [zone NAME]": every section once, in table order. */
static void
list_sections(char *out, size_t cap)
{
	size_t off = 0;
	out[0] = '\0';
	for (const struct cfg_table *const *t = SCHEMA.tables; *t != NULL; t++) {
		bool again = false;
		for (const struct cfg_table *const *u = SCHEMA.tables; u < t; u++) {
			again = again || strcmp((*u)->section, (*t)->section) == 0;
		}
		if (!again) {
			append_item(out, cap, &off, "[%s%s]", (*t)->section,
				    (*t)->named != NULL ? " NAME" : "");
		}
	}
}

static bool
in_list(const char *const *list, const char *s)
{
	for (size_t i = 0; list != NULL && list[i] != NULL; i++) {
		if (strcmp(s, list[i]) == 0) {
			return true;
		}
	}
	return false;
}

/* Frees what an instance of the named section owns, not the instance itself. */
static void
inst_clear(const char *section, const struct cfg_named *nm, void *inst)
{
	for (const struct cfg_key *k = cfg_keys(); k->key != NULL; k++) {
		if (strcmp(k->section, section) == 0) {
			value_free(k, inst);
		}
	}
	free(*(char **)((char *)inst + nm->name_offset));
	free(*(char **)((char *)inst + nm->file_offset));
}

/* A "[WORD NAME]" header of a named section: a new instance, checked against the others. */
static void
begin_named(struct loader *ld, const struct cfg_table *t, const char *name)
{
	const struct cfg_named *nm = t->named;
	struct cfg *c = ld->c;
	char why[256];

	ld->sect = NULL;
	if (name[0] == '\0') {
		fail(ld, TDNS_ECONFIG, "%s section without a name; expected [%s NAME]", t->section,
		     t->section);
		return;
	}
	void *inst = tdns_xcalloc(1, nm->size);
	if (nm->open(inst, name, why, sizeof(why)) != TDNS_OK) {
		fail(ld, TDNS_ECONFIG, "invalid %s name '%s' (%s); expected %s", t->section, name,
		     why, nm->name_expect);
		free(inst);
		return;
	}
	size_t n;
	char *list = named_list(c, nm, &n);
	for (size_t i = 0; i < n; i++) {
		char *other = list + i * nm->size;
		if (nm->same(other, inst)) {
			fail(ld, TDNS_ECONFIG, "duplicate %s '%s' (first at line %u); expected "
			     "each %s once", t->section, name,
			     *(unsigned *)(other + nm->line_offset), t->section);
			free(inst);
			return;
		}
	}
	list = tdns_xrealloc(list, (n + 1) * nm->size);
	memcpy(list + n * nm->size, inst, nm->size);
	free(inst);
	*(char **)((char *)c + nm->list_offset) = list;
	*(size_t *)((char *)c + nm->count_offset) = n + 1;
	inst = list + n * nm->size;
	*(char **)((char *)inst + nm->name_offset) = tdns_xstrdup(name);
	*(char **)((char *)inst + nm->file_offset) = tdns_xstrdup(ld->path);
	*(unsigned *)((char *)inst + nm->line_offset) = ld->line;
	char msg[512];
	if (apply_defaults(c, t->section, inst, msg, sizeof(msg)) != TDNS_OK) {
		fail(ld, TDNS_ECONFIG, "%s", msg);
		return;
	}
	for (size_t i = 0; ld->keys[i].key != NULL; i++) {
		if (strcmp(ld->keys[i].section, t->section) == 0) {
			ld->seen[i] = 0;
			free(ld->acc[i]);
			ld->acc[i] = NULL;
		}
	}
	ld->sect = t->section;
	ld->named = nm;
	ld->base = inst;
}

/*
 * The table of the section named name ("server", "zone example.com"), or NULL; for a named
 * section *inst gets the NAME part (possibly empty).
 */
static const struct cfg_table *
section_table(const char *name, const char **inst)
{
	for (const struct cfg_table *const *t = SCHEMA.tables; *t != NULL; t++) {
		const char *word = (*t)->section;
		size_t wlen = strlen(word);
		if ((*t)->named == NULL && strcmp(name, word) == 0) {
			return *t;
		}
		if ((*t)->named != NULL && strncmp(name, word, wlen) == 0 &&
		    (name[wlen] == '\0' || name[wlen] == ' ' || name[wlen] == '\t')) {
			name += wlen;
			while (*name == ' ' || *name == '\t') {
				name++;
			}
			*inst = name;
			return *t;
		}
	}
	return NULL;
}

/*
 * The name of a "[name]" line (text[0] == '['), trimmed, into out; false when not a header.
 * As in inih: ']' ends the name unless a ';' after a blank comes first.
 */
static bool
header_text(const char *text, size_t len, char *out, size_t cap)
{
	for (size_t i = 1; i < len; i++) {
		if (text[i] == ';' && (text[i - 1] == ' ' || text[i - 1] == '\t')) {
			return false;
		}
		if (text[i] == ']') {
			size_t n = i - 1 < cap ? i - 1 : cap - 1;
			memcpy(out, text + 1, n);
			out[n] = '\0';
			char *t = trim(out);
			memmove(out, t, strlen(t) + 1);
			return true;
		}
	}
	return false;
}

/* A "[...]" line; called by the reader because inih only reports key = value lines. */
static void
begin_section(struct loader *ld, char *name)
{
	const char *inst = NULL;
	const struct cfg_table *t = section_table(name, &inst);
	if (t != NULL && t->named == NULL) {
		ld->sect = t->section;
		ld->named = NULL;
		ld->base = ld->c;
		return;
	}
	if (t != NULL) {
		begin_named(ld, t, inst);
		return;
	}
	char sections[512];
	list_sections(sections, sizeof(sections));
	fail(ld, TDNS_ECONFIG, "unknown section [%s]%s; expected one of: %s", name,
	     in_list(SCHEMA.later_sections, name) ? " (not supported by this release yet)" :
	     "", sections);
}

bool
cfg_key_is_list(const struct cfg_key *k)
{
	return k->type == CFG_LISTEN || k->type == CFG_ADDRS || (k->flags & CFG_KEY_LIST);
}

/* The key of section named by a "key = value" line (inih splits at the first '=' or ':'). */
static const struct cfg_key *
line_key(const char *section, const char *text, size_t len)
{
	size_t n = 0;
	while (n < len && text[n] != '=' && text[n] != ':') {
		n++;
	}
	if (n == len) {
		return NULL;
	}
	while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\t')) {
		n--;
	}
	for (const struct cfg_key *k = cfg_keys(); k->key != NULL; k++) {
		if (strcmp(k->section, section) == 0 && strlen(k->key) == n &&
		    memcmp(k->key, text, n) == 0) {
			return k;
		}
	}
	return NULL;
}

bool
cfg_line_continues(const char *section, const char *text, size_t len, bool indented)
{
	if (!indented || section == NULL || len == 0 || text[0] == ';' || text[0] == '#') {
		return false;
	}
	char name[512];
	const char *inst;
	if (text[0] == '[' && header_text(text, len, name, sizeof(name)) &&
	    section_table(name, &inst) != NULL) {
		return false;
	}
	return line_key(section, text, len) == NULL;
}

/* Reads the next physical line into p; false at the end of the file or on an error. */
static bool
read_phys(struct loader *ld, struct phys *p)
{
	ssize_t n = getline(&p->buf, &p->cap, ld->fp);
	if (n < 0) {
		if (ferror(ld->fp)) {
			int e = errno;
			ld->line = ld->nread + 1;
			fail(ld, TDNS_EIO, "cannot read: %s", strerror(e));
		}
		return false;
	}
	p->line = ++ld->nread;
	char *s = p->buf;
	if (p->line == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
		s += 3;
	}
	p->indented = *s == ' ' || *s == '\t';
	while (*s == ' ' || *s == '\t') {
		s++;
	}
	p->text = s;
	p->len = (size_t)n - (size_t)(s - p->buf);
	p->textlen = p->len;
	while (p->textlen > 0 && (s[p->textlen - 1] == '\n' || s[p->textlen - 1] == '\r')) {
		p->textlen--;
	}
	return true;
}

/* Appends the item text of the continuation line p to ld->cont, ", " between items. */
static void
add_continuation(struct loader *ld, const struct phys *p)
{
	size_t len = p->textlen;
	/* inih's inline comments: a ';' after a blank ends the value. */
	for (size_t i = 1; i < len; i++) {
		if (p->text[i] == ';' && (p->text[i - 1] == ' ' || p->text[i - 1] == '\t')) {
			len = i;
			break;
		}
	}
	while (len > 0 && (p->text[len - 1] == ' ' || p->text[len - 1] == '\t')) {
		len--;
	}
	if (len > 0 && p->text[len - 1] == ',') {
		len--;
	}
	if (len == 0) {
		return;
	}
	if (ld->contlen + len + 3 > ld->contcap) {
		ld->contcap = (ld->contlen + len + 3) * 2;
		ld->cont = tdns_xrealloc(ld->cont, ld->contcap);
	}
	if (ld->contlen > 0) {
		memcpy(ld->cont + ld->contlen, ", ", 2);
		ld->contlen += 2;
	}
	memcpy(ld->cont + ld->contlen, p->text, len);
	ld->contlen += len;
	ld->cont[ld->contlen] = '\0';
}

/*
 * After the key line ld->cur: reads ahead the lines that continue its value (skipping the
 * comments among them) into ld->cont, and keeps the first line that does not in ld->ahead.
 */
static void
read_continuations(struct loader *ld)
{
	const struct cfg_key *k = line_key(ld->sect, ld->cur.text, ld->cur.textlen);
	ld->contlen = 0;
	while (ld->status == TDNS_OK && read_phys(ld, &ld->ahead)) {
		const struct phys *a = &ld->ahead;
		if (a->textlen > 0 && (a->text[0] == ';' || a->text[0] == '#')) {
			continue;
		}
		if (!cfg_line_continues(ld->sect, a->text, a->textlen, a->indented)) {
			ld->have_ahead = true;
			return;
		}
		if (k != NULL && !cfg_key_is_list(k)) {
			ld->line = a->line;
			fail(ld, TDNS_ECONFIG, "indented line continues the value of '%s', which "
			     "takes one value; expected 'key = value' (only a list continues on "
			     "indented lines)", k->key);
			return;
		}
		add_continuation(ld, a);
	}
}

/*
 * The ini_reader: hands inih one line per call, the physical line number of each kept in
 * ld->phys_of, and notices section headers.  Leading blanks are removed because inih would
 * take an indented line for the continuation of the previous value: the reader joins the
 * continuation lines of a list itself (ld->cont), with no limit on the value's length.
 */
static char *
reader(char *str, int num, void *stream)
{
	struct loader *ld = stream;
	if (ld->status != TDNS_OK) {
		return NULL;
	}
	if (ld->have_ahead) {
		struct phys t = ld->cur;
		ld->cur = ld->ahead;
		ld->ahead = t;
		ld->have_ahead = false;
	} else if (!read_phys(ld, &ld->cur)) {
		return NULL;
	}
	const struct phys *p = &ld->cur;
	ld->line = p->line;
	ld->contlen = 0;
	/* inih reads fgets-style: the line, its newline and the NUL must fit in num. */
	if (num < 3 || p->len + 1 > (size_t)num) {
		fail(ld, TDNS_ECONFIG, "line too long; expected at most %d characters (a list "
		     "continues on indented lines)", num - 2);
		return NULL;
	}
	memcpy(str, p->text, p->len + 1);
	if (ld->nlogical == ld->phys_cap) {
		ld->phys_cap = ld->phys_cap ? ld->phys_cap * 2 : 64;
		ld->phys_of = tdns_xrealloc(ld->phys_of, ld->phys_cap * sizeof(*ld->phys_of));
	}
	ld->phys_of[ld->nlogical++] = p->line;

	char name[512];
	if (str[0] == '[') {
		if (header_text(str, p->textlen, name, sizeof(name))) {
			begin_section(ld, name);
		}
	} else if (ld->sect != NULL && p->textlen > 0 && str[0] != ';' && str[0] != '#') {
		read_continuations(ld);
		ld->line = p->line;
	}
	return ld->status == TDNS_OK ? str : NULL;
}

static int
handler(void *user, const char *section, const char *name, const char *value)
{
	struct loader *ld = user;
	(void)section;
	if (ld->status != TDNS_OK) {
		return 0;
	}
	if (ld->sect == NULL) {
		fail(ld, TDNS_ECONFIG, "key '%s' outside any section; expected a [section] line "
		     "first", name);
		return 0;
	}
	size_t idx = 0;
	const struct cfg_key *k = NULL;
	for (; ld->keys[idx].key != NULL; idx++) {
		if (strcmp(ld->keys[idx].section, ld->sect) == 0 &&
		    strcmp(ld->keys[idx].key, name) == 0) {
			k = &ld->keys[idx];
			break;
		}
	}
	char label[300];
	sect_label(ld, label, sizeof(label));
	if (k == NULL) {
		char keys[256];
		char full[128];
		list_keys(ld->sect, keys, sizeof(keys));
		snprintf(full, sizeof(full), "%s/%s", ld->sect, name);
		fail(ld, TDNS_ECONFIG, "unknown key '%s' in section [%s]%s; expected one of: %s",
		     name, label, in_list(SCHEMA.later_keys, full) ?
		     " (not supported by this release yet)" : "", keys);
		return 0;
	}
	bool list = cfg_key_is_list(k);
	if (ld->seen[idx] != 0 && !list) {
		fail(ld, TDNS_ECONFIG, "duplicate key '%s' in section [%s] (first at line %u); "
		     "expected each key once", name, label, ld->seen[idx]);
		return 0;
	}
	if (ld->seen[idx] == 0) {
		ld->seen[idx] = ld->line;
	}
	/* The key line's items, then those of its continuation lines, then as a repetition. */
	const char *parts[3] = { ld->seen[idx] != ld->line ? ld->acc[idx] : NULL, value,
				 ld->contlen > 0 ? ld->cont : NULL };
	char *full = NULL;
	size_t fulllen = 0;
	for (size_t i = 0; i < 3; i++) {
		size_t len = parts[i] != NULL ? strlen(parts[i]) : 0;
		if (i == 1 && ld->contlen > 0 && len > 0 && parts[i][len - 1] == ',') {
			len--;            /* "allow = 10.0.0.0/8," before continuation lines */
		}
		if (len == 0 && (i != 1 || parts[0] != NULL)) {
			continue;
		}
		full = tdns_xrealloc(full, fulllen + len + 3);
		if (fulllen > 0) {
			memcpy(full + fulllen, ", ", 2);
			fulllen += 2;
		}
		memcpy(full + fulllen, parts[i], len);
		fulllen += len;
		full[fulllen] = '\0';
	}
	if (full == NULL) {
		full = tdns_xstrdup("");
	}
	char msg[512];
	int rc = k->parse(k, ld->c, (char *)ld->base + k->offset, full, msg, sizeof(msg));
	if (list) {
		free(ld->acc[idx]);
		ld->acc[idx] = full;
	} else {
		free(full);
	}
	if (rc != TDNS_OK) {
		fail(ld, TDNS_ECONFIG, "%s", msg);
		return 0;
	}
	return 1;
}

/* The owners' checks of the whole configuration, in table order, once per named instance. */
static int
finish(struct cfg *c, char *err, size_t errlen)
{
	for (const struct cfg_table *const *t = SCHEMA.tables; *t != NULL; t++) {
		if ((*t)->finish == NULL) {
			continue;
		}
		if ((*t)->named == NULL) {
			if ((*t)->finish(c, NULL, err, errlen) != TDNS_OK) {
				return TDNS_ECONFIG;
			}
			continue;
		}
		size_t n;
		char *list = named_list(c, (*t)->named, &n);
		for (size_t i = 0; i < n; i++) {
			if ((*t)->finish(c, list + i * (*t)->named->size, err, errlen) != TDNS_OK) {
				return TDNS_ECONFIG;
			}
		}
	}
	return TDNS_OK;
}

static void
copy_err(char *err, size_t errlen, const char *msg)
{
	if (err != NULL && errlen > 0) {
		snprintf(err, errlen, "%s", msg);
	}
}

int
cfg_load(const char *path, struct cfg **out, char *err, size_t errlen)
{
	char msg[768];
	char err_buf[512];
	struct loader ld = { .path = path, .status = TDNS_OK };
	struct cfg *c = tdns_xcalloc(1, sizeof(*c));
	int rc;

	*out = NULL;
	/* The defaults of every plain section; a failure is a bug in a table. */
	rc = TDNS_OK;
	for (const struct cfg_key *k = cfg_keys(); k->key != NULL && rc == TDNS_OK; k++) {
		if (cfg_named_table(k->section) == NULL && !(k->flags & CFG_KEY_DERIVED) &&
		    k->parse(k, c, (char *)c + k->offset, k->def, err_buf, sizeof(err_buf)) !=
		    TDNS_OK) {
			snprintf(msg, sizeof(msg), "built-in default of [%s] %s: %s", k->section,
				 k->key, err_buf);
			rc = TDNS_ECONFIG;
		}
	}
	if (rc != TDNS_OK || path == NULL) {
		goto out;
	}
	c->path = tdns_xstrdup(path);

	ld.fp = fopen(path, "r");
	if (ld.fp == NULL) {
		snprintf(msg, sizeof(msg), "cannot open %s: %s", path, strerror(errno));
		rc = TDNS_EIO;
		goto out;
	}
	ld.keys = cfg_keys();
	size_t nkeys = 0;
	while (ld.keys[nkeys].key != NULL) {
		nkeys++;
	}
	ld.seen = tdns_xcalloc(nkeys, sizeof(*ld.seen));
	ld.acc = tdns_xcalloc(nkeys, sizeof(*ld.acc));
	ld.c = c;
	int line = ini_parse_stream(reader, &ld, handler, &ld);
	if (line > 0 && (size_t)line <= ld.nlogical) {
		line = (int)ld.phys_of[line - 1];   /* inih counts the lines it was handed */
	}
	if (line > 0 && (ld.status == TDNS_OK || (unsigned)line < ld.err_line)) {
		snprintf(msg, sizeof(msg), "%s:%d: syntax error; expected 'key = value' or "
			 "'[section]'", path, line);
		rc = TDNS_ECONFIG;
	} else if (ld.status != TDNS_OK) {
		snprintf(msg, sizeof(msg), "%s", ld.msg);
		rc = ld.status;
	} else if (line < 0) {
		snprintf(msg, sizeof(msg), "%s: out of memory", path);
		rc = TDNS_ENOMEM;
	} else {
		rc = finish(c, msg, sizeof(msg));
	}
out:
	if (ld.fp != NULL) {
		fclose(ld.fp);
	}
	free(ld.cur.buf);
	free(ld.ahead.buf);
	free(ld.cont);
	free(ld.phys_of);
	for (size_t i = 0; ld.acc != NULL && ld.keys[i].key != NULL; i++) {
		free(ld.acc[i]);
	}
	free(ld.acc);
	free(ld.seen);
	if (rc != TDNS_OK) {
		copy_err(err, errlen, msg);
		cfg_free(c);
		return rc;
	}
	copy_err(err, errlen, "");
	*out = c;
	return TDNS_OK;
}

void
cfg_free(struct cfg *c)
{
	if (c == NULL) {
		return;
	}
	for (const struct cfg_key *k = cfg_keys(); k->key != NULL; k++) {
		if (cfg_named_table(k->section) == NULL) {
			value_free(k, c);
		}
	}
	for (const struct cfg_table *const *t = SCHEMA.tables; *t != NULL; t++) {
		const struct cfg_named *nm = (*t)->named;
		if (nm == NULL) {
			continue;
		}
		size_t n;
		char *list = named_list(c, nm, &n);
		for (size_t i = 0; i < n; i++) {
			inst_clear((*t)->section, nm, list + i * nm->size);
		}
		free(list);
	}
	free(c->path);
	free(c);
}
