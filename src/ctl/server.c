/* SPDX-License-Identifier: MIT */
/* The control socket server: Unix listener, peer credentials, framing, hello and dispatch. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "ctl/cmd.h"
#include "ctl/ctl.h"
#include "net/net.h"

/* More clients than this are answered with an error and closed: the table is for people. */
#define CTL_MAX_CLIENTS 64
/* How long ctl_server_free waits for replies still queued (e.g. the reply to `server stop`). */
#define CTL_FLUSH_MS 2000
/* A peer must say hello within this many seconds. */
#define CTL_HELLO_TIMEOUT 10
/* A request must arrive whole within this many seconds of its first byte (or the timeout). */
#define CTL_FRAME_TIMEOUT 10
/* After a last reply, how long we read and discard what the peer still sends. */
#define CTL_DRAIN_TIMEOUT 2
/* A client with this much unread reply data is not read from until it catches up. */
#define CTL_OUT_HIGH (1024u * 1024u)

/* A client in streaming mode (after the ok reply to a CTL_CMD_STREAM command). */
struct ctl_stream {
	struct ctl_client *c;
	const struct ctl_stream_handler *h;
	void *state;              /* from h->open; h->close(state) when the client goes */
};

/*
 * A control client on the stream-connection base (src/net/conn.h), whose closing flag means
 * "close once the queued output is written" and paused "not reading: the client does not read
 * its replies".
 */
struct ctl_client {
	struct net_conn base;     /* first: a struct net_conn * is a struct ctl_client * */
	struct ctl_server *srv;
	uid_t uid;
	gid_t gid;
	bool hello;               /* the hello has been accepted */
	bool failed;              /* a reply could not be queued: free at the next chance */
	bool draining;            /* last reply sent; discarding input until the peer closes */
	bool streaming;           /* stream.h is set: requests are discarded */
	struct ctl_stream stream;
};

struct ctl_server {
	struct event_base *base;
	struct evconnlistener *lev;
	struct ctl_env *env;
	char *path;
	gid_t group;
	unsigned timeout;         /* [control] timeout: idle seconds allowed after the hello */
	struct net_conn_set clients;
};

/* ------------------------------------------------------------------------------------------ */
/* Replies                                                                                      */

/* An error reply whose id is not a tdns_status (the protocol's own: EFRAME, EHELLO, ...). */
static json_t *
reply_error_id(const char *id, const char *msg)
{
	return json_pack("{s:b, s:{s:s, s:s}}", "ok", 0, "error", "id", id, "message", msg);
}

/* The base's teardown: a client that leaves ends its stream. */
static void
client_close(struct net_conn *base)
{
	struct ctl_client *c = (struct ctl_client *)base;
	if (c->streaming && c->stream.h != NULL) {
		c->stream.h->close(c->stream.state);
	}
}

/* The frame's deadline (net_conn_msg_begin) passed: say so before the base closes c. */
static void
client_late(struct net_conn *base)
{
	struct ctl_client *c = (struct ctl_client *)base;
	tdns_info("control: uid %u: a request did not arrive whole within %u s; closing",
		  (unsigned)c->uid, base->msg_secs);
}

static const struct net_conn_ops client_ops = {
	.close = client_close,
	.late = client_late,
};

/* Closes c (its socket, its stream) and frees it: nothing holds a control client longer. */
static void
client_free(struct ctl_client *c)
{
	net_conn_close(&c->base);
}

/*
 * Queues reply (consumed) for c; with close_after, c is freed once it has been written.  When
 * the reply cannot be queued, c is marked failed for the caller to free (never freed here, so
 * callers may still look at c).
 */
static void
client_send(struct ctl_client *c, json_t *reply, bool close_after)
{
	uint8_t *frame = NULL;
	size_t len = 0;
	int rc = reply != NULL ? ctl_frame_encode(reply, &frame, &len) : TDNS_ENOMEM;
	json_decref(reply);
	if (rc != TDNS_OK) {
		/* The reply itself could not be framed (too large): say so instead. */
		json_t *e = ctl_reply_error(rc, rc == TDNS_ERANGE ? "reply exceeds the frame limit"
								  : "out of memory");
		rc = e != NULL ? ctl_frame_encode(e, &frame, &len) : TDNS_ENOMEM;
		json_decref(e);
		if (rc != TDNS_OK) {
			c->failed = c->base.closing = true;
			return;
		}
	}
	int w = bufferevent_write(c->base.bev, frame, len);
	free(frame);
	if (w != 0) {
		c->failed = c->base.closing = true;
		return;
	}
	if (close_after) {
		c->base.closing = true;
		/* Nothing more is read from a client we are dropping. */
		bufferevent_disable(c->base.bev, EV_READ);
	}
}

static void client_write_cb(struct bufferevent *bev, void *arg);

bool
ctl_stream_send(struct ctl_stream *st, const json_t *doc)
{
	struct ctl_client *c = st->c;
	if (c->base.closing || c->failed ||
	    evbuffer_get_length(bufferevent_get_output(c->base.bev)) > CTL_STREAM_HIGH) {
		return false;
	}
	uint8_t *frame = NULL;
	size_t len = 0;
	if (ctl_frame_encode(doc, &frame, &len) != TDNS_OK) {
		return false;
	}
	int w = bufferevent_write(c->base.bev, frame, len);
	free(frame);
	return w == 0;
}

void
ctl_stream_end(struct ctl_stream *st)
{
	struct ctl_client *c = st->c;
	st->h = NULL;
	st->state = NULL;
	c->base.closing = true;
	bufferevent_disable(c->base.bev, EV_READ);
	/* With nothing queued, no write callback would come to close it. */
	if (evbuffer_get_length(bufferevent_get_output(c->base.bev)) == 0) {
		client_write_cb(c->base.bev, c);
	}
}

static const struct ctl_stream_handler *
stream_handler_find(const struct ctl_env *env, const char *name)
{
	const struct ctl_stream_handler *h = env->stream_handlers;
	for (; h != NULL && h->name != NULL; h++) {
		if (strcmp(h->name, name) == 0) {
			return h;
		}
	}
	return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Requests                                                                                     */

static ctl_handler_fn
handler_find(const struct ctl_env *env, const char *name)
{
	for (const struct ctl_handler *h = env->handlers; h != NULL && h->name != NULL; h++) {
		if (strcmp(h->name, name) == 0) {
			return h->fn;
		}
	}
	return NULL;
}

/* The hello (tmux-style version check): a peer speaking another protocol is answered, dropped. */
static void
handle_hello(struct ctl_client *c, json_t *args)
{
	json_t *proto = json_object_get(args, "protocol");
	if (!json_is_integer(proto)) {
		client_send(c, reply_error_id("EPROTO", "hello needs an integer 'protocol'"), true);
		return;
	}
	if (json_integer_value(proto) != CTL_PROTOCOL_VERSION) {
		char msg[128];
		snprintf(msg, sizeof(msg), "protocol version %lld is not supported; tdnsd "
			 "speaks %d", (long long)json_integer_value(proto), CTL_PROTOCOL_VERSION);
		client_send(c, reply_error_id("EPROTO", msg), true);
		return;
	}
	c->hello = true;
	/* Idle (nothing to read) or not reading its replies for that long: the client is gone. */
	const struct timeval tv = { c->srv->timeout, 0 };
	bufferevent_set_timeouts(c->base.bev, &tv, &tv);
	client_send(c, ctl_reply_ok(json_pack("{s:i, s:s}", "protocol", CTL_PROTOCOL_VERSION,
					      "server", "tdnsd " PACKAGE_VERSION)), false);
}

/* Handles one decoded request; the reply (or a close) is queued on c. */
static void
handle_request(struct ctl_client *c, json_t *doc)
{
	json_t *jcmd = json_object_get(doc, "command");
	json_t *args = json_object_get(doc, "args");
	if (!json_is_string(jcmd)) {
		client_send(c, reply_error_id("EFRAME", "a request needs a string 'command'"),
			    true);
		return;
	}
	const char *name = json_string_value(jcmd);
	if (args != NULL && !json_is_object(args) && !json_is_null(args)) {
		client_send(c, reply_error_id("EARGS", "'args' must be an object"), false);
		return;
	}
	json_t *empty = NULL;
	if (args == NULL || json_is_null(args)) {
		args = empty = json_object();
		if (args == NULL) {
			client_send(c, ctl_reply_error(TDNS_ENOMEM, NULL), true);
			return;
		}
	}
	if (strcmp(name, "hello") == 0) {
		handle_hello(c, args);
		goto out;
	}
	if (!c->hello) {
		client_send(c, reply_error_id("EHELLO", "the first request must be the hello"),
			    true);
		goto out;
	}
	const struct ctl_cmd *cmd = ctl_cmd_find(name);
	ctl_handler_fn fn = cmd != NULL && !(cmd->flags & CTL_CMD_LOCAL)
				    ? handler_find(c->srv->env, name) : NULL;
	if (fn == NULL) {
		char msg[256];
		snprintf(msg, sizeof(msg), "unknown command: %.200s", name);
		client_send(c, reply_error_id("EUNKNOWNCMD", msg), false);
		goto out;
	}
	struct ctl_req req = {
		.env = c->srv->env,
		.cmd = cmd,
		.args = args,
		.uid = c->uid,
		.gid = c->gid,
	};
	if (ctl_cmd_check_args(cmd, args, req.err, sizeof(req.err)) != TDNS_OK) {
		client_send(c, reply_error_id("EARGS", req.err), false);
		goto out;
	}
	int rc = fn(&req);
	if (rc == TDNS_OK && (cmd->flags & CTL_CMD_STREAM)) {
		/* Opened before the ok reply, so a client told ok is really following. */
		const struct ctl_stream_handler *h = stream_handler_find(c->srv->env, name);
		c->stream.c = c;
		c->stream.state = h != NULL ? h->open(&req, &c->stream) : NULL;
		if (c->stream.state == NULL) {
			json_decref(req.data);
			req.data = NULL;
			rc = TDNS_ENOMEM;
			snprintf(req.err, sizeof(req.err), "cannot start the stream");
		} else {
			c->stream.h = h;
			c->streaming = true;
			/* A follower sends nothing more; only its not reading times it out. */
			const struct timeval tv = { c->srv->timeout, 0 };
			bufferevent_set_timeouts(c->base.bev, NULL, &tv);
		}
	}
	if (rc == TDNS_OK) {
		json_t *reply = ctl_reply_ok(req.data);
		if (reply != NULL && req.warning[0] != '\0') {
			json_object_set_new(reply, "warning", json_string(req.warning));
		}
		client_send(c, reply, false);
	} else {
		json_decref(req.data);
		client_send(c, ctl_reply_error(rc, req.err[0] != '\0' ? req.err : NULL), false);
	}
	if (cmd->flags & CTL_CMD_MUTATES) {
		tdns_info("control: uid %u: %s: %s", (unsigned)c->uid, name,
			  rc == TDNS_OK ? "done" : req.err[0] ? req.err : tdns_status_msg(rc));
	}
out:
	json_decref(empty);
}

/* ------------------------------------------------------------------------------------------ */
/* Connections                                                                                  */

/*
 * A request that has arrived in part must be complete within CTL_FRAME_TIMEOUT of when we saw
 * its first bytes: the read timeout restarts with every byte, so a client trickling one byte at
 * a time would otherwise hold its connection for ever.
 */
static void
frame_deadline(struct ctl_client *c)
{
	bool partial = !c->base.closing && !c->draining && !c->streaming &&
		       evbuffer_get_length(bufferevent_get_input(c->base.bev)) > 0;
	if (!partial) {
		net_conn_msg_end(&c->base);
		return;
	}
	if (!c->base.in_msg) {
		/* The limit as the deadline is armed: [control] timeout may have changed. */
		net_conn_set_msg_limit(&c->base, c->srv->timeout < CTL_FRAME_TIMEOUT
							 ? c->srv->timeout : CTL_FRAME_TIMEOUT);
	}
	net_conn_msg_begin(&c->base);
}

static void
client_read_cb(struct bufferevent *bev, void *arg)
{
	struct ctl_client *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	if (c->draining || c->streaming) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	/* One frame per loop; a reply that closes the client ends the loop. */
	while (!c->base.closing && !c->streaming) {
		/* A client that sends requests without reading the replies cannot make us queue
		 * without bound: stop reading until its replies are written. */
		if (evbuffer_get_length(bufferevent_get_output(bev)) > CTL_OUT_HIGH) {
			c->base.paused = true;
			bufferevent_disable(bev, EV_READ);
			return;
		}
		size_t have = evbuffer_get_length(in);
		if (have < 4) {
			break;
		}
		uint8_t hdr[4];
		evbuffer_copyout(in, hdr, sizeof(hdr));
		uint32_t len = tdns_get32(hdr);
		/* Checked before the payload is buffered, so a huge length costs nothing. */
		if (len > CTL_FRAME_MAX) {
			char msg[128];
			snprintf(msg, sizeof(msg), "frame of %u bytes exceeds the limit of %u "
				 "bytes", len, CTL_FRAME_MAX);
			evbuffer_drain(in, have);
			client_send(c, reply_error_id("EFRAME", msg), true);
			break;
		}
		if (have < 4 + (size_t)len) {
			/* Read no more than the rest of this frame before it is handled. */
			bufferevent_setwatermark(bev, EV_READ, 0, 4 + (size_t)len);
			break;
		}
		bufferevent_setwatermark(bev, EV_READ, 0, 0);
		const uint8_t *p = evbuffer_pullup(in, 4 + (ssize_t)len);
		if (p == NULL) {
			client_send(c, ctl_reply_error(TDNS_ENOMEM, NULL), true);
			break;
		}
		json_t *doc = NULL;
		char err[256];
		int rc = ctl_frame_decode(p + 4, len, &doc, err, sizeof(err));
		evbuffer_drain(in, 4 + (size_t)len);
		if (rc != TDNS_OK) {
			client_send(c, reply_error_id("EFRAME", err), true);
			break;
		}
		handle_request(c, doc);
		json_decref(doc);
	}
	if (c->failed) {
		client_free(c);
		return;
	}
	frame_deadline(c);
}

/*
 * The last reply is out: half-close and discard what the peer still sends until it closes.
 * Closing at once would make the kernel reset the connection when unread requests are
 * queued, and the peer would lose the reply that explains why it is dropped.
 */
static void
client_write_cb(struct bufferevent *bev, void *arg)
{
	struct ctl_client *c = arg;
	if (c->streaming && !c->base.closing) {
		return;
	}
	if (c->base.paused && !c->base.closing) {
		/* Every reply is out: handle what was left in the input, then read again. */
		c->base.paused = false;
		bufferevent_enable(bev, EV_READ);
		client_read_cb(bev, c);
		return;
	}
	if (!c->base.closing || c->draining || evbuffer_get_length(bufferevent_get_output(bev)) > 0) {
		return;
	}
	c->draining = true;
	if (shutdown(bufferevent_getfd(bev), SHUT_WR) != 0) {
		client_free(c);
		return;
	}
	const struct timeval tv = { CTL_DRAIN_TIMEOUT, 0 };
	struct evbuffer *in = bufferevent_get_input(bev);
	evbuffer_drain(in, evbuffer_get_length(in));
	bufferevent_setwatermark(bev, EV_READ, 0, 0);
	bufferevent_set_timeouts(bev, &tv, NULL);
	bufferevent_enable(bev, EV_READ);
}

static void
client_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	struct ctl_client *c = arg;
	/* A client that leaves, even in the middle of a reply, is simply forgotten. */
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
		client_free(c);
	}
}

/*
 * Whether the peer on fd, whose primary group is gid, holds group: its credentials as the
 * kernel recorded them at connect() (SO_PEERGROUPS, Linux 4.13), never the group database,
 * whose lookups (NSS: LDAP, sssd...) could block the main loop and need not match what the
 * process really holds.
 */
static bool
peer_in_group(int fd, gid_t gid, gid_t group)
{
	if (gid == group) {
		return true;
	}
#ifdef SO_PEERGROUPS
	gid_t some[64];
	gid_t *groups = some;
	socklen_t len = sizeof(some);
	int rc = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len);
	if (rc != 0 && errno == ERANGE && (groups = malloc(len)) != NULL) {
		/* More groups than fit: len now says how many there are. */
		rc = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len);
	}
	bool found = false;
	if (rc != 0 || groups == NULL) {
		tdns_warn("control: cannot read the peer's groups: %s",
			  groups == NULL ? "out of memory" : strerror(errno));
	}
	for (size_t i = 0; rc == 0 && groups != NULL && i < len / sizeof(gid_t); i++) {
		found = found || groups[i] == group;
	}
	if (groups != some) {
		free(groups);
	}
	return found;
#else
	(void)fd;
	return false;
#endif
}

static void
accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa, int salen,
	  void *arg)
{
	(void)lev;
	(void)sa;
	(void)salen;
	struct ctl_server *s = arg;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0) {
		tdns_warn("control: cannot read peer credentials: %s", strerror(errno));
		evutil_closesocket(fd);
		return;
	}
	struct ctl_client *c = calloc(1, sizeof(*c));
	struct bufferevent *bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c == NULL || bev == NULL) {
		free(c);
		if (bev != NULL) {
			bufferevent_free(bev);
		} else {
			evutil_closesocket(fd);
		}
		return;
	}
	c->srv = s;
	c->uid = cred.uid;
	c->gid = cred.gid;
	net_conn_init(&c->base, &s->clients, &client_ops, bev, NULL, 0);
	bufferevent_setcb(bev, client_read_cb, client_write_cb, client_event_cb, c);
	const struct timeval hello_tv = { CTL_HELLO_TIMEOUT, 0 };
	bufferevent_set_timeouts(bev, &hello_tv, NULL);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	/* The socket mode is the first gate; this is the second (DESIGN.md "Control protocol"). */
	bool allowed = cred.uid == 0 || cred.uid == geteuid() ||
		       (s->group != (gid_t)-1 && peer_in_group(fd, cred.gid, s->group));
	if (!allowed) {
		tdns_notice("control: refused peer uid %u gid %u pid %d", (unsigned)cred.uid,
			    (unsigned)cred.gid, (int)cred.pid);
		client_send(c, ctl_reply_error(TDNS_EACCES, "permission denied: not root, the "
					       "daemon's user or a member of the control group"),
			    true);
	} else if (s->clients.n > CTL_MAX_CLIENTS) {
		client_send(c, ctl_reply_error(TDNS_EAGAIN, "too many control clients; try again"),
			    true);
	}
	if (c->failed) {
		client_free(c);
	}
}

static void
accept_error_cb(struct evconnlistener *lev, void *arg)
{
	(void)lev;
	(void)arg;
	/* EMFILE and friends: log and keep listening; the next accept may succeed. */
	tdns_warn("control: accept: %s", strerror(errno));
}

/* ------------------------------------------------------------------------------------------ */
/* The socket                                                                                   */

/* mkdir -p; the directories created get mode. */
static int
make_dirs(const char *dir, mode_t mode)
{
	char buf[PATH_MAX];
	if (snprintf(buf, sizeof(buf), "%s", dir) >= (int)sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *p = buf + 1; ; p++) {
		bool end = *p == '\0';
		if (*p == '/' || end) {
			*p = '\0';
			if (buf[0] != '\0' && mkdir(buf, mode) != 0 && errno != EEXIST) {
				return -1;
			}
			if (end) {
				return 0;
			}
			*p = '/';
		}
	}
}

/*
 * A socket file left by a daemon that died is removed; one that still accepts connections
 * belongs to a running daemon and is left alone.
 */
static int
remove_stale(const struct sockaddr_un *sun, char *err, size_t errlen)
{
	struct stat st;
	if (lstat(sun->sun_path, &st) != 0) {
		return errno == ENOENT ? TDNS_OK : TDNS_EIO;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "control socket %s: exists and is not a socket",
			 sun->sun_path);
		return TDNS_EIO;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return TDNS_EIO;
	}
	int r = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	close(fd);
	if (r == 0) {
		snprintf(err, errlen, "control socket %s is in use by another running daemon",
			 sun->sun_path);
		return TDNS_EIO;
	}
	if (unlink(sun->sun_path) != 0 && errno != ENOENT) {
		snprintf(err, errlen, "cannot remove stale control socket %s: %s", sun->sun_path,
			 strerror(errno));
		return TDNS_EIO;
	}
	return TDNS_OK;
}

static int
open_socket(const char *path, gid_t group, int *out, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "control socket path too long (max %zu bytes): %s",
			 sizeof(sun.sun_path) - 1, path);
		return TDNS_EIO;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if (make_dirs(dir, 0750) != 0) {
			snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
			return TDNS_EIO;
		}
	}
	int rc = remove_stale(&sun, err, errlen);
	if (rc != TDNS_OK) {
		if (err[0] == '\0') {
			snprintf(err, errlen, "control socket %s: %s", path, strerror(errno));
		}
		return rc;
	}
	/*
	 * Bound under a temporary name and renamed once it listens with its final mode and
	 * group, so a client that sees the path can connect at once.
	 */
	struct sockaddr_un tmp = sun;
	const char *bound = path;
	if (strlen(path) + 4 < sizeof(tmp.sun_path)) {
		snprintf(tmp.sun_path, sizeof(tmp.sun_path), "%s.new", path);
		bound = tmp.sun_path;
		unlink(bound);
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return TDNS_EIO;
	}
	/* The umask keeps the socket closed to others between bind and chmod. */
	mode_t old = umask(0117);
	int b = bind(fd, (const struct sockaddr *)&tmp, sizeof(tmp));
	int saved = errno;
	umask(old);
	if (b != 0) {
		snprintf(err, errlen, "cannot bind control socket %s: %s", path, strerror(saved));
		close(fd);
		return TDNS_EIO;
	}
	if (chmod(bound, 0660) != 0 ||
	    (group != (gid_t)-1 && chown(bound, (uid_t)-1, group) != 0) ||
	    listen(fd, 16) != 0 || (bound != path && rename(bound, path) != 0)) {
		snprintf(err, errlen, "control socket %s: %s", path, strerror(errno));
		close(fd);
		unlink(bound);
		return TDNS_EIO;
	}
	*out = fd;
	return TDNS_OK;
}

int
ctl_server_new(struct event_base *base, const char *path, gid_t group, struct ctl_env *env,
	       struct ctl_server **out, char *err, size_t errlen)
{
	*out = NULL;
	if (err != NULL && errlen > 0) {
		err[0] = '\0';
	}
	int fd;
	int rc = open_socket(path, group, &fd, err, errlen);
	if (rc != TDNS_OK) {
		return rc;
	}
	struct ctl_server *s = calloc(1, sizeof(*s));
	char *p = strdup(path);
	if (s == NULL || p == NULL) {
		goto nomem;
	}
	s->base = base;
	s->env = env;
	s->path = p;
	s->group = group;
	s->timeout = 300;
	net_conn_set_init(&s->clients);
	s->lev = evconnlistener_new(base, accept_cb, s,
				    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
	if (s->lev == NULL) {
		goto nomem;
	}
	evconnlistener_set_error_cb(s->lev, accept_error_cb);
	*out = s;
	return TDNS_OK;
nomem:
	snprintf(err, errlen, "control socket %s: out of memory", path);
	close(fd);
	unlink(path);
	free(p);
	free(s);
	return TDNS_EIO;
}

void
ctl_server_set_timeout(struct ctl_server *s, unsigned secs)
{
	if (s != NULL && secs > 0) {
		s->timeout = secs; /* clients greeted from now on */
	}
}

int
ctl_server_set_group(struct ctl_server *s, gid_t group, char *err, size_t errlen)
{
	if (s == NULL || group == s->group) {
		return TDNS_OK;
	}
	/* Without a group the file goes back to the daemon's own, as a fresh socket has it. */
	gid_t file_group = group != (gid_t)-1 ? group : getegid();
	if (chown(s->path, (uid_t)-1, file_group) != 0) {
		snprintf(err, errlen, "control socket %s: %s", s->path, strerror(errno));
		return TDNS_EIO;
	}
	s->group = group;
	return TDNS_OK;
}

/*
 * Writes what is still queued for c, waiting at most until deadline (the last replies).  The
 * bufferevent owns the draining of its output, so the bytes are copied, not removed.
 */
static void
client_flush(struct ctl_client *c, long long deadline)
{
	struct evbuffer *outb = bufferevent_get_output(c->base.bev);
	evutil_socket_t fd = bufferevent_getfd(c->base.bev);
	size_t len = evbuffer_get_length(outb), off = 0;
	const uint8_t *p = len > 0 ? evbuffer_pullup(outb, -1) : NULL;
	while (p != NULL && off < len) {
		long long left = deadline - tdns_mono_ms();
		if (left <= 0) {
			return;
		}
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		int r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r <= 0 || (pfd.revents & (POLLERR | POLLHUP))) {
			return;
		}
		ssize_t n = send(fd, p + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			return;
		}
		off += n > 0 ? (size_t)n : 0;
	}
	if (fd >= 0) {
		shutdown(fd, SHUT_WR);
	}
}

void
ctl_server_free(struct ctl_server *s)
{
	if (s == NULL) {
		return;
	}
	if (s->lev != NULL) {
		evconnlistener_free(s->lev);
	}
	long long deadline = tdns_mono_ms() + CTL_FLUSH_MS;
	struct net_conn *b;
	while ((b = TAILQ_FIRST(&s->clients.list)) != NULL) {
		client_flush((struct ctl_client *)b, deadline);
		client_free((struct ctl_client *)b);
	}
	if (s->path != NULL) {
		unlink(s->path);
	}
	free(s->path);
	free(s);
}
