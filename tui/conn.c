/* SPDX-License-Identifier: MIT */
/* tdns-tui's control connection: non-blocking frames over the Unix socket, with reconnects. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "tui/tui.h"

#define RETRY_MS 1000      /* "disconnected — retrying" once a second */
#define REPLY_TIMEOUT_MS 15000  /* a daemon that stops answering is treated as gone */

struct pending {
	char *tag;
	tui_reply_fn fn;
	void *ctx;
	long long sent;
};

struct tui_conn {
	char *path;
	int fd;
	bool connecting;   /* non-blocking connect in progress */
	bool up;           /* hello answered */
	bool enabled;
	long long next_try;
	tui_frame_fn stream_fn;  /* non-NULL: every frame is a stream frame */
	void *stream_ctx;
	tui_state_fn state_fn;
	void *state_ctx;
	uint8_t *out;
	size_t outlen, outoff, outcap;
	uint8_t *in;
	size_t inlen, incap;
	struct pending *q; /* FIFO of requests waiting for replies: replies come in order */
	size_t qhead, qlen, qcap;
	char server[128];
	char err[256];
};

long long
tui_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct tui_conn *
tui_conn_new(const char *path)
{
	struct tui_conn *c = tdns_xcalloc(1, sizeof(*c));
	c->path = tdns_xstrdup(path);
	c->fd = -1;
	c->enabled = true;
	return c;
}

static void
pending_push(struct tui_conn *c, const char *tag, tui_reply_fn fn, void *ctx)
{
	if (c->qlen == c->qcap) {
		size_t ncap = c->qcap ? c->qcap * 2 : 16;
		struct pending *nq = tdns_xcalloc(ncap, sizeof(*nq));
		for (size_t i = 0; i < c->qlen; i++) {
			nq[i] = c->q[(c->qhead + i) % c->qcap];
		}
		free(c->q);
		c->q = nq;
		c->qcap = ncap;
		c->qhead = 0;
	}
	c->q[(c->qhead + c->qlen) % c->qcap] = (struct pending){
		.tag = tag != NULL ? tdns_xstrdup(tag) : NULL, .fn = fn, .ctx = ctx,
		.sent = tui_now_ms() };
	c->qlen++;
}

static bool
pending_pop(struct tui_conn *c, struct pending *out)
{
	if (c->qlen == 0) {
		return false;
	}
	*out = c->q[c->qhead];
	c->qhead = (c->qhead + 1) % c->qcap;
	c->qlen--;
	return true;
}

static void
conn_reset(struct tui_conn *c)
{
	if (c->fd >= 0) {
		close(c->fd);
	}
	c->fd = -1;
	c->connecting = false;
	c->up = false;
	c->stream_fn = NULL;
	c->outlen = c->outoff = 0;
	c->inlen = 0;
}

void
tui_conn_close(struct tui_conn *c, const char *why)
{
	bool was_up = c->up;
	bool had_fd = c->fd >= 0;
	conn_reset(c);
	if (why != NULL) {
		snprintf(c->err, sizeof(c->err), "%s", why);
	}
	c->next_try = tui_now_ms() + RETRY_MS;
	/* Every unanswered request learns that it will never be answered. */
	json_t *err = json_pack("{s:b, s:{s:s, s:s}}", "ok", 0, "error", "id", "EIO", "message",
				c->err[0] != '\0' ? c->err : "disconnected");
	struct pending p;
	while (pending_pop(c, &p)) {
		if (p.fn != NULL && had_fd) {
			p.fn(p.ctx, err);
		}
		free(p.tag);
	}
	json_decref(err);
	if (was_up && c->state_fn != NULL) {
		c->state_fn(c->state_ctx, false);
	}
}

void
tui_conn_free(struct tui_conn *c)
{
	if (c == NULL) {
		return;
	}
	conn_reset(c);
	struct pending p;
	while (pending_pop(c, &p)) {
		free(p.tag);
	}
	free(c->q);
	free(c->in);
	free(c->out);
	free(c->path);
	free(c);
}

void
tui_conn_on_state(struct tui_conn *c, tui_state_fn fn, void *ctx)
{
	c->state_fn = fn;
	c->state_ctx = ctx;
}

void
tui_conn_enable(struct tui_conn *c, bool on)
{
	c->enabled = on;
	if (!on && c->fd >= 0) {
		tui_conn_close(c, NULL);
	}
	if (on) {
		c->next_try = 0;
	}
}

bool
tui_conn_up(const struct tui_conn *c)
{
	return c->up;
}

const char *
tui_conn_server(const struct tui_conn *c)
{
	return c->up ? c->server : "";
}

const char *
tui_conn_error(const struct tui_conn *c)
{
	return c->up ? "" : c->err;
}

/* Appends one frame to the output buffer; the main loop writes it when the socket allows. */
static bool
queue_frame(struct tui_conn *c, const json_t *doc)
{
	uint8_t *frame;
	size_t len;
	if (ctl_frame_encode(doc, &frame, &len) != TDNS_OK) {
		return false;
	}
	if (c->outoff > 0) {
		memmove(c->out, c->out + c->outoff, c->outlen - c->outoff);
		c->outlen -= c->outoff;
		c->outoff = 0;
	}
	if (c->outlen + len > c->outcap) {
		c->outcap = (c->outlen + len) * 2;
		c->out = tdns_xrealloc(c->out, c->outcap);
	}
	memcpy(c->out + c->outlen, frame, len);
	c->outlen += len;
	free(frame);
	return true;
}

static void
hello_reply(void *ctx, json_t *reply)
{
	struct tui_conn *c = ctx;
	if (c->fd < 0) {
		return;
	}
	if (!json_is_true(json_object_get(reply, "ok"))) {
		char why[256];
		snprintf(why, sizeof(why), "the daemon refused the hello: %s",
			 tui_reply_error(reply));
		tui_conn_close(c, why);
		return;
	}
	const char *server = json_string_value(json_object_get(json_object_get(reply, "data"),
								"server"));
	snprintf(c->server, sizeof(c->server), "%s", server != NULL ? server : "tdnsd");
	c->up = true;
	c->err[0] = '\0';
	if (c->state_fn != NULL) {
		c->state_fn(c->state_ctx, true);
	}
}

static void
send_hello(struct tui_conn *c)
{
	json_t *hello = json_pack("{s:s, s:{s:i, s:s}}", "command", "hello", "args", "protocol",
				  CTL_PROTOCOL_VERSION, "client", "tdns-tui " PACKAGE_VERSION);
	queue_frame(c, hello);
	json_decref(hello);
	pending_push(c, "hello", hello_reply, c);
}

static void
try_connect(struct tui_conn *c)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	c->next_try = tui_now_ms() + RETRY_MS;
	if (strlen(c->path) >= sizeof(sun.sun_path)) {
		snprintf(c->err, sizeof(c->err), "%s: %s", c->path, strerror(ENAMETOOLONG));
		return;
	}
	memcpy(sun.sun_path, c->path, strlen(c->path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(c->err, sizeof(c->err), "socket: %s", strerror(errno));
		return;
	}
	bool in_progress = false;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		if (errno != EINPROGRESS) {
			snprintf(c->err, sizeof(c->err), "%s: %s", c->path, strerror(errno));
			close(fd);
			return;
		}
		in_progress = true;
	}
	c->fd = fd;
	c->connecting = in_progress;
	c->inlen = c->outlen = c->outoff = 0;
	send_hello(c);
}

bool
tui_conn_request(struct tui_conn *c, const char *cmd, json_t *args, const char *tag,
		 tui_reply_fn fn, void *ctx)
{
	if (!c->up || c->stream_fn != NULL) {
		json_decref(args);
		return false;
	}
	json_t *req = json_pack("{s:s, s:o}", "command", cmd, "args",
				args != NULL ? args : json_object());
	bool ok = req != NULL && queue_frame(c, req);
	json_decref(req);
	if (ok) {
		pending_push(c, tag, fn, ctx);
	}
	return ok;
}

bool
tui_conn_pending(const struct tui_conn *c, const char *tag)
{
	for (size_t i = 0; i < c->qlen; i++) {
		const struct pending *p = &c->q[(c->qhead + i) % c->qcap];
		if (p->tag != NULL && tag != NULL && strcmp(p->tag, tag) == 0) {
			return true;
		}
	}
	return false;
}

void
tui_conn_stream(struct tui_conn *c, tui_frame_fn fn, void *ctx)
{
	c->stream_fn = fn;
	c->stream_ctx = ctx;
}

bool
tui_conn_pollfd(const struct tui_conn *c, struct pollfd *p)
{
	if (c->fd < 0) {
		return false;
	}
	p->fd = c->fd;
	p->events = POLLIN;
	if (c->connecting || c->outoff < c->outlen) {
		p->events |= POLLOUT;
	}
	p->revents = 0;
	return true;
}

/* Hands every complete frame in the input buffer to its reader. */
static void
dispatch(struct tui_conn *c)
{
	size_t off = 0;
	while (c->fd >= 0 && c->inlen - off >= 4) {
		uint32_t len = tdns_get32(c->in + off);
		if (len > CTL_FRAME_MAX) {
			tui_conn_close(c, "the daemon sent an oversized frame");
			return;
		}
		if (c->inlen - off - 4 < len) {
			break;
		}
		json_t *doc = NULL;
		char err[256];
		int rc = ctl_frame_decode(c->in + off + 4, len, &doc, err, sizeof(err));
		off += 4 + (size_t)len;
		if (rc != TDNS_OK) {
			char why[300];
			snprintf(why, sizeof(why), "bad frame from the daemon: %s", err);
			tui_conn_close(c, why);
			return;
		}
		/* Consume first: the callback may close this connection or queue on it. */
		memmove(c->in, c->in + off, c->inlen - off);
		c->inlen -= off;
		off = 0;
		struct pending p;
		if (c->stream_fn != NULL) {
			c->stream_fn(c->stream_ctx, doc);
		} else if (pending_pop(c, &p)) {
			if (p.fn != NULL) {
				p.fn(p.ctx, doc);
			}
			free(p.tag);
		}
		json_decref(doc);
	}
	if (c->fd >= 0 && off > 0) {
		memmove(c->in, c->in + off, c->inlen - off);
		c->inlen -= off;
	}
}

void
tui_conn_io(struct tui_conn *c, short revents)
{
	if (c->fd < 0) {
		return;
	}
	if (c->connecting && (revents & (POLLOUT | POLLERR | POLLHUP))) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
		if (soerr != 0) {
			char why[300];
			snprintf(why, sizeof(why), "%s: %s", c->path, strerror(soerr));
			tui_conn_close(c, why);
			return;
		}
		c->connecting = false;
	}
	if ((revents & POLLOUT) && c->outoff < c->outlen) {
		ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			c->outoff += (size_t)n;
		} else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			char why[300];
			snprintf(why, sizeof(why), "send: %s", strerror(errno));
			tui_conn_close(c, why);
			return;
		}
	}
	if (!(revents & (POLLIN | POLLHUP | POLLERR))) {
		return;
	}
	for (;;) {
		if (c->incap - c->inlen < 65536) {
			c->incap = c->incap ? c->incap * 2 : 131072;
			c->in = tdns_xrealloc(c->in, c->incap);
		}
		ssize_t n = recv(c->fd, c->in + c->inlen, c->incap - c->inlen, MSG_DONTWAIT);
		if (n > 0) {
			c->inlen += (size_t)n;
			/* Dispatch as we go: a stream's backlog must not grow the buffer. */
			if (c->inlen > 1u << 20) {
				dispatch(c);
				if (c->fd < 0) {
					return;
				}
			}
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			break;
		}
		if (n < 0 && errno == EINTR) {
			continue;
		}
		char why[300];
		snprintf(why, sizeof(why), "%s", n == 0 ? "connection closed by the daemon"
							: strerror(errno));
		dispatch(c); /* the last replies before the close still count */
		if (c->fd >= 0) {
			tui_conn_close(c, why);
		}
		return;
	}
	dispatch(c);
}

void
tui_conn_tick(struct tui_conn *c)
{
	long long now = tui_now_ms();
	if (c->fd < 0) {
		if (c->enabled && now >= c->next_try) {
			try_connect(c);
		}
		return;
	}
	if (c->qlen > 0 && c->stream_fn == NULL && now - c->q[c->qhead].sent > REPLY_TIMEOUT_MS) {
		tui_conn_close(c, "the daemon stopped answering");
	}
}
