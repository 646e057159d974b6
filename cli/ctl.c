/* SPDX-License-Identifier: MIT */
/* tdns-cli's daemon commands: words to arguments, the control socket, and text rendering. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cfg/cfg.h"
#include "cli/cli.h"
#include "ctl/ctl.h"
#include "stats/stats.h"

#define HELLO_TIMEOUT_MS 10000
#define REQUEST_TIMEOUT_MS 300000 /* zone imports of big zones take a while */

/* ------------------------------------------------------------------------------------------ */
/* Synopsis and words                                                                           */

static void
upper(char *dst, size_t len, const char *src)
{
	size_t i = 0;
	for (; src[i] != '\0' && i + 1 < len; i++) {
		dst[i] = src[i] >= 'a' && src[i] <= 'z' ? (char)(src[i] - 'a' + 'A') : src[i];
	}
	dst[i] = '\0';
}

/* The placeholder people see for a: FILE for local files, else the name in upper case. */
static void
placeholder(const struct ctl_arg *a, char *buf, size_t len)
{
	upper(buf, len, a->type == CTL_ARG_FILE ? "file" : a->name);
}

void
cli_ctl_synopsis(const struct ctl_cmd *cmd, char *buf, size_t buflen)
{
	size_t off = 0;
	int n = snprintf(buf, buflen, "%s", cmd->name);
	off = n > 0 ? (size_t)n : 0;
	for (const struct ctl_arg *a = cmd->args; a != NULL && a->name != NULL; a++) {
		if (off >= buflen) {
			return;
		}
		char ph[64];
		placeholder(a, ph, sizeof(ph));
		const char *lb = a->optional ? "[" : "";
		const char *rb = a->optional ? "]" : "";
		if (a->option && a->type == CTL_ARG_FLAG) {
			n = snprintf(buf + off, buflen - off, " %s--%s%s", lb, a->name, rb);
		} else if (a->option) {
			n = snprintf(buf + off, buflen - off, " %s--%s %s%s", lb, a->name, ph, rb);
		} else {
			n = snprintf(buf + off, buflen - off, " %s%s%s%s", lb, ph,
				     a->type == CTL_ARG_WORDS ? "..." : "", rb);
		}
		off += n > 0 ? (size_t)n : 0;
	}
}

static int
usage_error(const struct ctl_cmd *cmd, const char *fmt, const char *what)
{
	char syn[512];
	cli_ctl_synopsis(cmd, syn, sizeof(syn));
	fprintf(stderr, "tdns-cli: ");
	fprintf(stderr, fmt, what);
	fprintf(stderr, "\nusage: tdns-cli %s\n", syn);
	return CLI_EXIT_USAGE;
}

/* Reads a local file for a CTL_ARG_FILE argument.  NULL with a message on stderr. */
static json_t *
read_file_arg(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "tdns-cli: cannot read %s: %s\n", path, strerror(errno));
		return NULL;
	}
	size_t cap = 65536, len = 0;
	char *buf = tdns_xmalloc(cap);
	size_t n;
	while ((n = fread(buf + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len > CTL_FRAME_MAX) {
			break;
		}
		if (len == cap) {
			cap *= 2;
			buf = tdns_xrealloc(buf, cap);
		}
	}
	bool bad = ferror(f);
	fclose(f);
	json_t *s = NULL;
	if (bad) {
		fprintf(stderr, "tdns-cli: cannot read %s: %s\n", path, strerror(errno));
	} else if (len > CTL_FRAME_MAX) {
		fprintf(stderr, "tdns-cli: %s is larger than the %u-byte request limit\n", path,
			CTL_FRAME_MAX);
	} else if ((s = json_stringn(buf, len)) == NULL) {
		fprintf(stderr, "tdns-cli: %s is not UTF-8 text\n", path);
	}
	free(buf);
	return s;
}

/* One word converted for argument a; NULL after a message (usage error in *rc). */
static json_t *
convert(const struct ctl_cmd *cmd, const struct ctl_arg *a, const char *word, int *rc)
{
	if (a->type == CTL_ARG_INT) {
		char *end;
		errno = 0;
		long long v = strtoll(word, &end, 10);
		if (errno != 0 || end == word || *end != '\0') {
			char what[128];
			snprintf(what, sizeof(what), "%s must be an integer", a->name);
			*rc = usage_error(cmd, "%s", what);
			return NULL;
		}
		return json_integer(v);
	}
	if (a->type == CTL_ARG_FILE) {
		json_t *v = read_file_arg(word);
		*rc = CLI_EXIT_FAILED;
		return v;
	}
	json_t *v = json_string(word);
	if (v == NULL) {
		*rc = usage_error(cmd, "%s is not UTF-8 text", word);
	}
	return v;
}

static bool
has_options(const struct ctl_cmd *cmd)
{
	for (const struct ctl_arg *a = cmd->args; a != NULL && a->name != NULL; a++) {
		if (a->option) {
			return true;
		}
	}
	return false;
}

/*
 * Maps the words after the command name onto cmd's arguments: positional ones in table
 * order (a WORDS argument takes every word left), "--name VALUE", "--name=VALUE" and
 * "--flag" for options.  Returns CLI_EXIT_OK with *out (caller frees), or a cli_exit code
 * after a message.
 */
static int
map_words(const struct ctl_cmd *cmd, int argc, char **argv, json_t **out)
{
	json_t *args = json_object();
	const struct ctl_arg *pos = cmd->args;
	bool options = has_options(cmd);
	int rc = CLI_EXIT_OK;
	for (int i = 0; i < argc; i++) {
		const char *w = argv[i];
		if (options && strcmp(w, "--") == 0) {
			options = false;
			continue;
		}
		if (options && strncmp(w, "--", 2) == 0) {
			const char *eq = strchr(w, '=');
			size_t nlen = eq != NULL ? (size_t)(eq - w - 2) : strlen(w + 2);
			const struct ctl_arg *a = cmd->args;
			for (; a->name != NULL; a++) {
				if (a->option && strlen(a->name) == nlen &&
				    strncmp(a->name, w + 2, nlen) == 0) {
					break;
				}
			}
			if (a->name == NULL) {
				rc = usage_error(cmd, "unknown option %s", w);
				goto fail;
			}
			json_t *v;
			if (a->type == CTL_ARG_FLAG) {
				if (eq != NULL) {
					rc = usage_error(cmd, "option %s takes no value", w);
					goto fail;
				}
				v = json_true();
			} else {
				const char *val = eq != NULL ? eq + 1
						  : i + 1 < argc ? argv[++i] : NULL;
				if (val == NULL) {
					rc = usage_error(cmd, "option %s needs a value", w);
					goto fail;
				}
				if ((v = convert(cmd, a, val, &rc)) == NULL) {
					goto fail;
				}
			}
			json_object_set_new(args, a->name, v);
			continue;
		}
		while (pos != NULL && pos->name != NULL && pos->option) {
			pos++;
		}
		if (pos == NULL || pos->name == NULL) {
			rc = usage_error(cmd, "unexpected argument '%s'", w);
			goto fail;
		}
		json_t *v;
		if (pos->type == CTL_ARG_WORDS) {
			v = json_array();
			for (; i < argc; i++) {
				json_t *s = json_string(argv[i]);
				if (s == NULL) {
					json_decref(v);
					rc = usage_error(cmd, "%s is not UTF-8 text", argv[i]);
					goto fail;
				}
				json_array_append_new(v, s);
			}
		} else if ((v = convert(cmd, pos, w, &rc)) == NULL) {
			goto fail;
		}
		json_object_set_new(args, pos->name, v);
		pos++;
	}
	for (const struct ctl_arg *a = cmd->args; a != NULL && a->name != NULL; a++) {
		if (!a->optional && json_object_get(args, a->name) == NULL) {
			char ph[64];
			placeholder(a, ph, sizeof(ph));
			rc = usage_error(cmd, "missing %s", ph);
			goto fail;
		}
	}
	*out = args;
	return CLI_EXIT_OK;
fail:
	json_decref(args);
	return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* The socket                                                                                   */

/* -s, else -c FILE's [control] socket, else $TDNS_SOCKET, else the default (ISSUE3.md). */
static int
socket_path(const struct cli_opts *o, char **out)
{
	char err[1024];
	*out = ctl_schema_socket_path(o->socket, o->config, err, sizeof(err));
	if (*out == NULL) {
		fprintf(stderr, "tdns-cli: %s\n", err);
		return CLI_EXIT_USAGE;
	}
	return CLI_EXIT_OK;
}

static int
connect_socket(const char *path, int *out)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "tdns-cli: cannot connect to %s: %s\n", path,
			strerror(ENAMETOOLONG));
		return CLI_EXIT_UNREACHABLE;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		fprintf(stderr, "tdns-cli: cannot connect to %s: %s\n", path, strerror(errno));
		if (fd >= 0) {
			close(fd);
		}
		return CLI_EXIT_UNREACHABLE;
	}
	*out = fd;
	return CLI_EXIT_OK;
}

/* Sends req and waits for the reply; a cli_exit code after a message on failure. */
static int
exchange(int fd, const char *path, json_t *req, int timeout_ms, json_t **reply)
{
	char err[512];
	if (ctl_frame_send(fd, req) != TDNS_OK) {
		int e = errno;
		/* The daemon may have said why before it hung up (a request too big, say). */
		if ((e == EPIPE || e == ECONNRESET) &&
		    ctl_frame_recv(fd, reply, 1000, err, sizeof(err)) == TDNS_OK &&
		    json_is_boolean(json_object_get(*reply, "ok"))) {
			return CLI_EXIT_OK;
		}
		json_decref(*reply);
		*reply = NULL;
		fprintf(stderr, "tdns-cli: %s: cannot send the request: %s\n", path,
			e == EPIPE ? "the daemon closed the connection" : strerror(e));
		return CLI_EXIT_UNREACHABLE;
	}
	int rc = ctl_frame_recv(fd, reply, timeout_ms, err, sizeof(err));
	if (rc != TDNS_OK) {
		fprintf(stderr, "tdns-cli: %s: %s\n", path, err);
		return rc == TDNS_EIO || rc == TDNS_EAGAIN ? CLI_EXIT_UNREACHABLE : CLI_EXIT_FAILED;
	}
	if (!json_is_boolean(json_object_get(*reply, "ok"))) {
		fprintf(stderr, "tdns-cli: %s: the reply has no \"ok\" member\n", path);
		json_decref(*reply);
		*reply = NULL;
		return CLI_EXIT_FAILED;
	}
	return CLI_EXIT_OK;
}

static void
print_json_doc(FILE *f, const json_t *doc)
{
	char *s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
	if (s != NULL) {
		fprintf(f, "%s\n", s);
		free(s);
	}
}

/* The reply says no: "tdns-cli: <message>" on stderr (and the document with --json). */
static int
refused(const struct cli_opts *o, const json_t *reply)
{
	if (o->json) {
		print_json_doc(stdout, reply);
	}
	const json_t *e = json_object_get(reply, "error");
	const char *msg = json_string_value(json_object_get(e, "message"));
	const char *id = json_string_value(json_object_get(e, "id"));
	fprintf(stderr, "tdns-cli: %s\n", msg != NULL ? msg : id != NULL ? id : "refused");
	return CLI_EXIT_FAILED;
}

/* ------------------------------------------------------------------------------------------ */
/* Text for people                                                                              */

/* A scalar as text in buf (nested values compactly as JSON). */
static const char *
scalar_text(const json_t *v, char *buf, size_t len)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		return json_string_value(v);
	case JSON_INTEGER:
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
		return buf;
	case JSON_REAL:
		snprintf(buf, len, "%.1f", json_real_value(v));
		return buf;
	case JSON_TRUE:
		return "yes";
	case JSON_FALSE:
		return "no";
	case JSON_NULL:
		return "-";
	case JSON_ARRAY: {
		/* Arrays of scalars read best as a list ("127.0.0.1:53, [::1]:53"). */
		size_t off = 0, i;
		const json_t *e;
		buf[0] = '\0';
		json_array_foreach(v, i, e) {
			if (json_is_object(e) || json_is_array(e)) {
				break;
			}
			char one[256];
			int n = snprintf(buf + off, len - off, "%s%s", i ? ", " : "",
					 scalar_text(e, one, sizeof(one)));
			off += n > 0 ? (size_t)n : 0;
			if (off >= len) {
				return buf;
			}
		}
		if (i == json_array_size(v)) {
			return buf;
		}
		break;
	}
	case JSON_OBJECT: {
		/* Small count maps ("rcodes" of a minute) read best as "NOERROR=5 NXDOMAIN=1". */
		size_t off = 0;
		const char *k;
		const json_t *e;
		bool flat = true;
		buf[0] = '\0';
		json_object_foreach((json_t *)v, k, e) {
			if (json_is_object(e) || json_is_array(e)) {
				flat = false;
				break;
			}
			char one[256];
			int n = snprintf(buf + off, len - off, "%s%s=%s", off ? " " : "", k,
					 scalar_text(e, one, sizeof(one)));
			off += n > 0 ? (size_t)n : 0;
			if (off >= len) {
				return buf;
			}
		}
		if (flat) {
			return off > 0 ? buf : "-";
		}
		break;
	}
	default:
		break;
	}
	char *s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
	snprintf(buf, len, "%s", s != NULL ? s : "?");
	free(s);
	return buf;
}


/* "key: value" lines for an object. */
static void
print_kv(const json_t *obj, const char *indent)
{
	const char *key;
	const json_t *v;
	json_object_foreach((json_t *)obj, key, v) {
		char buf[4096];
		printf("%s%s: %s\n", indent, key, scalar_text(v, buf, sizeof(buf)));
	}
}

/*
 * A table of an array of objects: the columns are cols (NULL-terminated), or the members of
 * the first row.  Headers are the member names in upper case.
 */
static void
print_table(const json_t *rows, const char *const *cols)
{
	const char *keys[32];
	size_t ncols = 0;
	if (cols != NULL) {
		for (; cols[ncols] != NULL && ncols < 32; ncols++) {
			keys[ncols] = cols[ncols];
		}
	} else {
		const char *k;
		const json_t *v;
		json_object_foreach(json_array_get(rows, 0), k, v) {
			if (ncols < 32) {
				keys[ncols++] = k;
			}
		}
	}
	size_t width[32];
	for (size_t c = 0; c < ncols; c++) {
		width[c] = strlen(keys[c]);
	}
	size_t i;
	const json_t *row;
	json_array_foreach(rows, i, row) {
		for (size_t c = 0; c < ncols; c++) {
			char buf[512];
			size_t w = strlen(scalar_text(json_object_get(row, keys[c]) != NULL
						      ? json_object_get(row, keys[c]) : json_null(),
						      buf, sizeof(buf)));
			width[c] = w > width[c] ? w : width[c];
		}
	}
	for (size_t c = 0; c < ncols; c++) {
		char h[64];
		upper(h, sizeof(h), keys[c]);
		printf("%-*s%s", c + 1 < ncols ? (int)width[c] : 0, h, c + 1 < ncols ? "  " : "\n");
	}
	json_array_foreach(rows, i, row) {
		for (size_t c = 0; c < ncols; c++) {
			char buf[512];
			const json_t *v = json_object_get(row, keys[c]);
			const char *t = scalar_text(v != NULL ? v : json_null(), buf, sizeof(buf));
			printf("%-*s%s", c + 1 < ncols ? (int)width[c] : 0, t,
			       c + 1 < ncols ? "  " : "\n");
		}
	}
}

/* A sorted two-column table of a {name: count} object, largest first. */
static int
count_cmp(const void *a, const void *b)
{
	const json_t *x = json_object_get(*(json_t *const *)a, "n");
	const json_t *y = json_object_get(*(json_t *const *)b, "n");
	json_int_t dx = json_integer_value(x), dy = json_integer_value(y);
	return dx < dy ? 1 : dx > dy ? -1 : 0;
}

static void
print_counts(const char *title, const json_t *obj)
{
	size_t n = json_object_size(obj);
	if (n == 0) {
		printf("%s: none\n", title);
		return;
	}
	json_t **rows = tdns_xcalloc(n, sizeof(*rows));
	size_t i = 0;
	const char *k;
	const json_t *v;
	size_t w = 0;
	json_object_foreach((json_t *)obj, k, v) {
		rows[i++] = json_pack("{s:s, s:O}", "k", k, "n", (json_t *)v);
		w = strlen(k) > w ? strlen(k) : w;
	}
	qsort(rows, n, sizeof(*rows), count_cmp);
	printf("%s:\n", title);
	for (i = 0; i < n; i++) {
		char buf[128];
		printf("  %-*s  %s\n", (int)w, json_string_value(json_object_get(rows[i], "k")),
		       scalar_text(json_object_get(rows[i], "n"), buf, sizeof(buf)));
		json_decref(rows[i]);
	}
	free(rows);
}

static void
render_stats(const json_t *data)
{
	const char *key;
	const json_t *v;
	bool first = true;
	json_object_foreach((json_t *)data, key, v) {
		if (!first) {
			printf("\n");
		}
		first = false;
		if (strcmp(key, "latency_ms") == 0 && json_is_object(v)) {
			/* Answers take microseconds: tdns_ms_text says µs below a millisecond. */
			char p50[32], p90[32], p99[32];
			printf("latency (last minute, %lld samples): p50 %s, p90 %s, p99 %s\n",
			       (long long)json_integer_value(json_object_get(v, "samples")),
			       tdns_ms_text(json_number_value(json_object_get(v, "p50")), p50,
					    sizeof(p50)),
			       tdns_ms_text(json_number_value(json_object_get(v, "p90")), p90,
					    sizeof(p90)),
			       tdns_ms_text(json_number_value(json_object_get(v, "p99")), p99,
					    sizeof(p99)));
		} else if (json_is_object(v)) {
			print_counts(key, v);
		} else if (json_is_array(v)) {
			/* The series: the last 10 points, oldest first, with local times. */
			size_t n = json_array_size(v), from = n > 10 ? n - 10 : 0;
			json_t *tail = json_array();
			for (size_t i = from; i < n; i++) {
				const json_t *src = json_array_get(v, i);
				json_t *row = json_object();
				const char *k;
				const json_t *e;
				json_object_foreach((json_t *)src, k, e) {
					if (strcmp(k, "t") != 0 || !json_is_integer(e)) {
						json_object_set(row, k, (json_t *)e);
						continue;
					}
					time_t tt = (time_t)json_integer_value(e);
					struct tm tm;
					char ts[32];
					localtime_r(&tt, &tm);
					strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
					json_object_set_new(row, "time", json_string(ts));
				}
				json_array_append_new(tail, row);
			}
			if (n == 0) {
				printf("%s: none yet\n", key);
			} else {
				printf("%s (last %zu of %zu):\n", key, n - from, n);
				print_table(tail, NULL);
			}
			json_decref(tail);
		} else {
			char buf[128];
			printf("%s: %s\n", key, scalar_text(v, buf, sizeof(buf)));
		}
	}
}

/* The array of rows in data: data itself, or its member name. */
static const json_t *
rows_of(const json_t *data, const char *name)
{
	if (json_is_array(data)) {
		return data;
	}
	const json_t *a = json_object_get(data, name);
	return json_is_array(a) ? a : NULL;
}

/* The string member name of obj, or "?". */
static const char *
member(const json_t *obj, const char *name)
{
	const char *s = json_string_value(json_object_get(obj, name));
	return s != NULL ? s : "?";
}

static void
render_records(const json_t *data)
{
	const json_t *rows = rows_of(data, "records");
	if (rows == NULL) {
		const char *text = json_string_value(json_object_get(data, "text"));
		if (text != NULL) {
			fputs(text, stdout);
		} else {
			print_json_doc(stdout, data);
		}
		return;
	}
	size_t i;
	const json_t *r;
	json_array_foreach(rows, i, r) {
		if (json_is_string(r)) {
			printf("%s\n", json_string_value(r));
			continue;
		}
		char ttl[32];
		const char *text = json_string_value(json_object_get(r, "text"));
		if (text != NULL) {
			printf("%s\n", text);
			continue;
		}
		const json_t *t = json_object_get(r, "ttl");
		printf("%-24s %-7s IN %-6s %s\n", member(r, "name"),
		       scalar_text(t != NULL ? t : json_null(), ttl, sizeof(ttl)),
		       member(r, "type"), member(r, "rdata"));
	}
}

static void
render_config(const json_t *data)
{
	const json_t *rows = rows_of(data, "keys");
	if (rows == NULL) {
		print_kv(data, "");
		return;
	}
	size_t i;
	const json_t *r;
	json_array_foreach(rows, i, r) {
		const char *k = json_string_value(json_object_get(r, "key"));
		char buf[4096];
		const json_t *v = json_object_get(r, "value");
		printf("%s = %s\n", k != NULL ? k : "?",
		       v != NULL && !json_is_null(v) ? scalar_text(v, buf, sizeof(buf)) : "");
	}
}

/* Writes text to path through a temporary file and a rename: readers never see half a zone. */
static int
write_file(const char *path, const char *text, size_t len)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp)) {
		fprintf(stderr, "tdns-cli: %s: file name too long\n", path);
		return CLI_EXIT_USAGE;
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "tdns-cli: cannot write %s: %s\n", tmp, strerror(errno));
		return CLI_EXIT_FAILED;
	}
	size_t off = 0;
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			break;
		}
		off += (size_t)n;
	}
	int saved = errno;
	if (off < len || fsync(fd) != 0 || close(fd) != 0) {
		fprintf(stderr, "tdns-cli: cannot write %s: %s\n", tmp,
			strerror(off < len ? saved : errno));
		if (off < len) {
			close(fd);
		}
		unlink(tmp);
		return CLI_EXIT_FAILED;
	}
	if (rename(tmp, path) != 0) {
		fprintf(stderr, "tdns-cli: cannot rename %s to %s: %s\n", tmp, path,
			strerror(errno));
		unlink(tmp);
		return CLI_EXIT_FAILED;
	}
	return CLI_EXIT_OK;
}

static int
render_export(const json_t *data, const char *file)
{
	const json_t *t = json_is_string(data) ? data : json_object_get(data, "text");
	if (!json_is_string(t)) {
		fprintf(stderr, "tdns-cli: the reply to zone export holds no zone text\n");
		return CLI_EXIT_FAILED;
	}
	const char *text = json_string_value(t);
	size_t len = json_string_length(t);
	if (file != NULL && strcmp(file, "-") != 0) {
		return write_file(file, text, len);
	}
	fwrite(text, 1, len, stdout);
	return CLI_EXIT_OK;
}

/* "2026-11-27 04:53:37.123" in local time for a unix time with fractions. */
static const char *
when_text(double t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	localtime_r(&tt, &tm);
	char day[32];
	strftime(day, sizeof(day), "%Y-%m-%d %H:%M:%S", &tm);
	int ms = (int)((t - (double)tt) * 1000.0);
	snprintf(buf, len, "%s.%03d", day, ms < 0 ? 0 : ms > 999 ? 999 : ms);
	return buf;
}

/* One log entry ("query", "server" or "dropped") as one line. */
static void
print_entry(const json_t *e)
{
	const char *type = member(e, "type");
	char when[64];
	when_text(json_number_value(json_object_get(e, "t")), when, sizeof(when));
	if (strcmp(type, "query") == 0) {
		const char *name = member(e, "name");
		char ms[32], ede[32] = "", why[512];
		if (json_is_integer(json_object_get(e, "ede"))) {
			snprintf(ede, sizeof(ede), " EDE %lld",
				 (long long)json_integer_value(json_object_get(e, "ede")));
		}
		stats_log_block_text(e, false, why, sizeof(why));
		printf("%s  query   %-15s %-3s %s %s %s %s %s%s%s%s\n", when, member(e, "client"),
		       member(e, "transport"), name[0] != '\0' ? name : "-", member(e, "qtype"),
		       member(e, "rcode"), member(e, "kind"),
		       tdns_ms_text(json_number_value(json_object_get(e, "ms")), ms, sizeof(ms)), ede,
		       why[0] != '\0' ? " " : "", why);
	} else if (strcmp(type, "server") == 0) {
		printf("%s  server  %-7s %s\n", when, member(e, "level"), member(e, "message"));
	} else if (strcmp(type, "dropped") == 0) {
		printf("-- %lld entries dropped: this client did not keep up --\n",
		       (long long)json_integer_value(json_object_get(e, "count")));
	} else {
		char *txt = json_dumps(e, JSON_COMPACT | JSON_PRESERVE_ORDER);
		printf("%s\n", txt != NULL ? txt : "?");
		free(txt);
	}
}

static void
render_log(const json_t *data)
{
	const json_t *rows = rows_of(data, "entries");
	size_t i;
	const json_t *e;
	json_array_foreach(rows, i, e) {
		print_entry(e);
	}
}

static void
render_top(const json_t *data)
{
	static const struct {
		const char *member, *title, *col;
	} lists[] = {
		{ "clients", "top clients", "CLIENT" },
		{ "names", "top names", "NAME TYPE" },
		{ "blocked", "top blocked names", "NAME" },
		{ "blocked_clients", "top blocked clients", "CLIENT" },
	};
	const char *window = json_string_value(json_object_get(data, "window"));
	for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++) {
		const json_t *rows = json_object_get(data, lists[l].member);
		if (l > 0) {
			printf("\n");
		}
		if (json_array_size(rows) == 0) {
			printf("%s: none\n", lists[l].title);
			continue;
		}
		printf("%s%s%s%s:\n", lists[l].title, window != NULL && l == 0 ? " (" : "",
		       window != NULL && l == 0 ? window : "", window != NULL && l == 0 ? ")" : "");
		printf("  %10s  %s\n", "COUNT", lists[l].col);
		size_t i;
		const json_t *r;
		json_array_foreach(rows, i, r) {
			json_int_t n = json_integer_value(json_object_get(r, "count"));
			printf("  %10lld  %s\n", (long long)n, member(r, "key"));
		}
	}
}

/* Text for people; per command where a shape reads better than JSON. */
/* `cache list`: what the cache holds and how it is used, then its entries. */
static void
render_cache_list(const json_t *data)
{
	static const char *const cols[] = { "name", "type", "ttl_left", "ttl", "hits", "records",
					    "size", "negative", "stale", NULL };
	const json_t *rows = rows_of(data, "entries");
	printf("%lld entries, %lld of %lld bytes; hits %lld, misses %lld\n",
	       (long long)json_integer_value(json_object_get(data, "total")),
	       (long long)json_integer_value(json_object_get(data, "bytes")),
	       (long long)json_integer_value(json_object_get(data, "max_bytes")),
	       (long long)json_integer_value(json_object_get(data, "hits")),
	       (long long)json_integer_value(json_object_get(data, "misses")));
	if (json_array_size(rows) > 0) {
		printf("\n");
		print_table(rows, cols);
	}
	if (json_is_true(json_object_get(data, "truncated"))) {
		printf("(%zu shown; name a domain to see the entries at and below it)\n",
		       json_array_size(rows));
	}
}

/* `forwarder list`: the mode, then a row per server with its health and counters. */
static void
render_forwarder_list(const json_t *data)
{
	static const char *const cols[] = { "server", "transport", "zone", "health", "rtt_ms",
					    "queries", "answers", "timeouts", "errors", NULL };
	const json_t *rows = rows_of(data, "forwarders");
	printf("mode: %s\n", member(data, "mode"));
	if (json_array_size(rows) > 0) {
		printf("\n");
		print_table(rows, cols);
	} else {
		printf("no forwarders\n");
	}
}

/* `block list`, `allow list`: the custom names one a line, then the lists with their counts. */
static void
render_block_list(const json_t *data)
{
	static const char *const cols[] = { "list", "group", "names", "malformed", "status",
					    NULL };
	const json_t *custom = rows_of(data, "custom"), *lists = rows_of(data, "lists");
	json_int_t paused = json_integer_value(json_object_get(data, "paused_seconds"));
	if (paused > 0) {
		printf("blocking: paused for %lld s more", (long long)paused);
	} else {
		printf("blocking: %s", json_is_true(json_object_get(data, "enabled")) ? "on" : "off");
	}
	printf("; %lld distinct names on the lists\n",
	       (long long)json_integer_value(json_object_get(data, "distinct_names")));
	printf("custom names: %s\n", json_array_size(custom) > 0 ? "" : "none");
	size_t i;
	const json_t *v;
	json_array_foreach(custom, i, v) {
		printf("  %s\n", json_string_value(v) != NULL ? json_string_value(v) : "?");
	}
	if (json_array_size(lists) > 0) {
		printf("\n");
		print_table(lists, cols);
	}
}

/* `block lists`: one row per list source, global and per group, block and allow. */
static void
render_block_lists(const json_t *data)
{
	static const char *const cols[] = { "source", "group", "kind", "names", "skipped",
					    "updated", "next_update", "error", NULL };
	const json_t *lists = rows_of(data, "lists");
	if (json_array_size(lists) == 0) {
		printf("no block lists\n");
		return;
	}
	print_table(lists, cols);
}

/* `block check`: one sentence; the exit code says blocked (0) or not (1), see cli_ctl_run. */
static void
render_block_check(const json_t *data)
{
	const char *name = member(data, "name");
	const char *verdict = member(data, "verdict");
	const json_t *line = json_object_get(data, "line");
	char by[2048] = "";
	if (line != NULL) {
		snprintf(by, sizeof(by), " by %s line %lld (entry %s)", member(data, "list"),
			 (long long)json_integer_value(line), member(data, "entry"));
	}
	if (json_object_get(data, "group") != NULL) {
		size_t n = strlen(by);
		snprintf(by + n, sizeof(by) - n, " for group %s", member(data, "group"));
	}
	if (json_integer_value(json_object_get(data, "paused_seconds")) > 0) {
		printf("%s is not blocked: blocking is paused for %lld s more%s%s\n", name,
		       (long long)json_integer_value(json_object_get(data, "paused_seconds")),
		       strcmp(verdict, "none") != 0 ? "; it would be " : "",
		       strcmp(verdict, "none") != 0 ? verdict : "");
	} else if (!json_is_true(json_object_get(data, "enabled"))) {
		printf("%s is not blocked: blocking is off%s%s\n", name,
		       strcmp(verdict, "none") != 0 ? "; it would be " : "",
		       strcmp(verdict, "none") != 0 ? verdict : "");
	} else if (json_is_true(json_object_get(data, "canary"))) {
		printf("%s is blocked: the Firefox canary answers NXDOMAIN\n", name);
	} else if (json_is_true(json_object_get(data, "bypassed"))) {
		printf("%s is not blocked for client %s: the client is in bypass\n", name,
		       member(data, "client"));
	} else if (strcmp(verdict, "blocked") == 0) {
		printf("%s is blocked%s\n", name, by);
	} else if (strcmp(verdict, "allowed") == 0) {
		printf("%s is not blocked: allowed%s\n", name, by);
	} else {
		printf("%s is not blocked: on no list\n", name);
	}
}

/* Replaces the unix time member key of every row by its local time as text (same name). */
static json_t *
rows_with_times(const json_t *rows, const char *key)
{
	json_t *copy = json_deep_copy(rows);
	size_t i;
	json_t *row;
	json_array_foreach(copy, i, row) {
		const json_t *t = json_object_get(row, key);
		if (json_is_integer(t)) {
			char buf[64];
			when_text((double)json_integer_value(t), buf, sizeof(buf));
			buf[19] = '\0'; /* whole seconds */
			json_object_set_new(row, key, json_string(buf));
		}
	}
	return copy;
}

/* The NTA table of `dnssec status` and `dnssec nta list`. */
static void
print_ntas(const json_t *ntas)
{
	static const char *const cols[] = { "name", "source", "expires", NULL };
	if (json_array_size(ntas) == 0) {
		printf("negative trust anchors: none\n");
		return;
	}
	json_t *rows = rows_with_times(ntas, "expires");
	print_table(rows, cols);
	json_decref(rows);
}

/* `dnssec status`: anchors with their RFC 5011 state, NTAs, answers by validation state. */
static void
render_dnssec_status(const json_t *data)
{
	static const char *const cols[] = { "owner", "type", "key_tag", "algorithm", "state",
					    "hold_until", NULL };
	const json_t *anchors = rows_of(data, "anchors");
	if (json_array_size(anchors) > 0) {
		json_t *rows = rows_with_times(anchors, "hold_until");
		print_table(rows, cols);
		json_decref(rows);
	} else {
		printf("trust anchors: none\n");
	}
	printf("\n");
	print_ntas(rows_of(data, "ntas"));
	const json_t *a = json_object_get(data, "answers");
	printf("\nanswers: %lld secure, %lld insecure, %lld bogus, %lld indeterminate\n",
	       (long long)json_integer_value(json_object_get(a, "secure")),
	       (long long)json_integer_value(json_object_get(a, "insecure")),
	       (long long)json_integer_value(json_object_get(a, "bogus")),
	       (long long)json_integer_value(json_object_get(a, "indeterminate")));
}

/* `dnssec nta add|remove|list`. */
static void
render_dnssec_nta(const json_t *data)
{
	const json_t *ntas = json_object_get(data, "ntas");
	if (ntas != NULL) {
		print_ntas(ntas);
		return;
	}
	const char *action = member(data, "action");
	if (strcmp(action, "added") == 0) {
		char buf[64];
		when_text((double)json_integer_value(json_object_get(data, "expires")), buf,
			  sizeof(buf));
		buf[19] = '\0';
		printf("negative trust anchor %s added until %s\n", member(data, "name"), buf);
	} else {
		printf("negative trust anchor %s removed\n", member(data, "name"));
	}
}

/*
 * The commands whose data has a renderer of its own, used when the data has the shape it
 * expects: any data, an object, or an object with the array member rows.
 */
struct renderer {
	const char *command;
	bool any;         /* any data at all */
	const char *rows; /* the array member it needs; NULL (and not any): an object */
	void (*render)(const json_t *data);
};

static const struct renderer renderers[] = {
	{ .command = "record list", .any = true, .render = render_records },
	{ .command = "cache list", .rows = "entries", .render = render_cache_list },
	{ .command = "forwarder list", .rows = "forwarders", .render = render_forwarder_list },
	{ .command = "stats top", .render = render_top },
	{ .command = "log show", .rows = "entries", .render = render_log },
	{ .command = "stats", .render = render_stats },
	{ .command = "config show", .render = render_config },
	{ .command = "block list", .rows = "lists", .render = render_block_list },
	{ .command = "allow list", .rows = "lists", .render = render_block_list },
	{ .command = "block check", .render = render_block_check },
	{ .command = "dnssec status", .rows = "anchors", .render = render_dnssec_status },
	{ .command = "dnssec nta", .render = render_dnssec_nta },
	{ .command = "block lists", .rows = "lists", .render = render_block_lists },
};

static int
render(const struct ctl_cmd *cmd, const json_t *data, const char *out_file)
{
	const char *name = cmd->name;
	if (strcmp(name, "zone export") == 0) {
		return render_export(data, out_file);
	}
	if (data == NULL || json_is_null(data)) {
		return CLI_EXIT_OK;
	}
	if (strcmp(name, "zone list") == 0 && rows_of(data, "zones") != NULL) {
		static const char *const cols[] = { "name", "type", "state", "serial", "records",
						    "source", NULL };
		const json_t *rows = rows_of(data, "zones");
		if (json_array_size(rows) > 0 && json_is_object(json_array_get(rows, 0))) {
			print_table(rows, cols);
		}
		return CLI_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(renderers) / sizeof(renderers[0]); i++) {
		const struct renderer *r = &renderers[i];
		if (strcmp(name, r->command) == 0 &&
		    (r->any || (r->rows != NULL ? rows_of(data, r->rows) != NULL
						 : json_is_object(data)))) {
			r->render(data);
			return CLI_EXIT_OK;
		}
	}
	if (strcmp(name, "config get") == 0 && json_is_object(data) &&
	    json_object_get(data, "value") != NULL) {
		char buf[4096];
		printf("%s\n", scalar_text(json_object_get(data, "value"), buf, sizeof(buf)));
		return CLI_EXIT_OK;
	}
	if (json_is_string(data)) {
		fputs(json_string_value(data), stdout);
		if (json_string_length(data) > 0 &&
		    json_string_value(data)[json_string_length(data) - 1] != '\n') {
			fputc('\n', stdout);
		}
		return CLI_EXIT_OK;
	}
	if (json_is_object(data)) {
		/* Mostly scalars ("status", "zone show", change summaries): key: value lines. */
		const char *k;
		const json_t *v;
		bool flat = true;
		json_object_foreach((json_t *)data, k, v) {
			if (json_is_object(v) ||
			    (json_is_array(v) && json_is_object(json_array_get(v, 0)))) {
				flat = false;
			}
		}
		if (flat) {
			print_kv(data, "");
			return CLI_EXIT_OK;
		}
	}
	print_json_doc(stdout, data);
	return CLI_EXIT_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* The command                                                                                  */

/*
 * A stream (`log follow`): every frame after the ok reply is one entry, printed as it comes
 * (one compact JSON document per line with --json), until the daemon closes or we are
 * interrupted.
 */
static int
follow(const struct cli_opts *o, int fd, const char *path)
{
	for (;;) {
		json_t *doc = NULL;
		char err[512];
		int rc = ctl_frame_recv(fd, &doc, -1, err, sizeof(err));
		if (rc == TDNS_EIO) {
			/* The daemon went away (stopped, or restarted): the stream simply ends. */
			return CLI_EXIT_OK;
		}
		if (rc != TDNS_OK) {
			fprintf(stderr, "tdns-cli: %s: %s\n", path, err);
			return CLI_EXIT_FAILED;
		}
		if (o->json) {
			char *txt = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
			printf("%s\n", txt != NULL ? txt : "{}");
			free(txt);
		} else {
			print_entry(doc);
		}
		json_decref(doc);
		if (fflush(stdout) != 0) {
			/* A reader that left (`| head`): nobody to print to. */
			return CLI_EXIT_OK;
		}
	}
}

int
cli_ctl_run(const struct cli_opts *o, const struct ctl_cmd *cmd, int argc, char **argv)
{
	json_t *args = NULL;
	int rc = map_words(cmd, argc, argv, &args);
	if (rc != CLI_EXIT_OK) {
		return rc;
	}
	/* `zone export NAME FILE`: FILE is written here, the daemon only sends the text. */
	char *out_file = NULL;
	if (strcmp(cmd->name, "zone export") == 0 && json_object_get(args, "file") != NULL) {
		out_file = tdns_xstrdup(json_string_value(json_object_get(args, "file")));
		json_object_del(args, "file");
	}
	char *path = NULL;
	int fd = -1;
	json_t *hello = NULL, *req = NULL, *reply = NULL;
	rc = socket_path(o, &path);
	if (rc != CLI_EXIT_OK || (rc = connect_socket(path, &fd)) != CLI_EXIT_OK) {
		goto out;
	}
	hello = json_pack("{s:s, s:{s:i, s:s}}", "command", "hello", "args", "protocol",
			  CTL_PROTOCOL_VERSION, "client", "tdns-cli " PACKAGE_VERSION);
	if ((rc = exchange(fd, path, hello, HELLO_TIMEOUT_MS, &reply)) != CLI_EXIT_OK) {
		goto out;
	}
	if (!json_is_true(json_object_get(reply, "ok"))) {
		rc = refused(o, reply);
		goto out;
	}
	json_decref(reply);
	reply = NULL;
	req = json_pack("{s:s, s:O}", "command", cmd->name, "args", args);
	if ((rc = exchange(fd, path, req, REQUEST_TIMEOUT_MS, &reply)) != CLI_EXIT_OK) {
		goto out;
	}
	if (!json_is_true(json_object_get(reply, "ok"))) {
		rc = refused(o, reply);
		goto out;
	}
	const char *warning = json_string_value(json_object_get(reply, "warning"));
	if (warning != NULL) {
		/* Done, with a caveat (a zone file that may not survive a crash): exit 0. */
		fprintf(stderr, "tdns-cli: warning: %s\n", warning);
	}
	if (cmd->flags & CTL_CMD_STREAM) {
		rc = follow(o, fd, path);
	} else if (o->json && strcmp(cmd->name, "zone export") != 0) {
		print_json_doc(stdout, reply);
		rc = CLI_EXIT_OK;
	} else if (o->json && out_file == NULL) {
		print_json_doc(stdout, reply);
		rc = CLI_EXIT_OK;
	} else {
		rc = render(cmd, json_object_get(reply, "data"), out_file);
	}
	if (rc == CLI_EXIT_OK && strcmp(cmd->name, "block check") == 0 &&
	    !json_is_true(json_object_get(json_object_get(reply, "data"), "blocked"))) {
		/* Like grep: 0 when blocked, 1 when not, so scripts can test it. */
		rc = CLI_EXIT_FAILED;
	}
	if (fflush(stdout) != 0) {
		fprintf(stderr, "tdns-cli: standard output: %s\n", strerror(errno));
		rc = CLI_EXIT_FAILED;
	}
out:
	if (fd >= 0) {
		close(fd);
	}
	json_decref(hello);
	json_decref(req);
	json_decref(reply);
	json_decref(args);
	free(out_file);
	free(path);
	return rc;
}
