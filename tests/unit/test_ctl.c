/* SPDX-License-Identifier: MIT */
/* Unit tests for src/ctl: the command and handler tables, framing, and the control server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <event2/thread.h>

#include "ctl/ctl.h"

/* ------------------------------------------------------------------------------------------ */
/* Tables                                                                                       */

static size_t
handler_count(const char *name)
{
	size_t n = 0;
	for (const struct ctl_handler *h = ctl_handlers; h->name != NULL; h++) {
		n += strcmp(h->name, name) == 0;
	}
	return n;
}

static void
test_every_daemon_command_has_exactly_one_handler(void **state)
{
	(void)state;
	for (const struct ctl_cmd *c = ctl_cmds; c->name != NULL; c++) {
		size_t want = (c->flags & CTL_CMD_LOCAL) ? 0 : 1;
		if (handler_count(c->name) != want) {
			fail_msg("command '%s' has %zu handlers, expected %zu", c->name,
				 handler_count(c->name), want);
		}
	}
}

static void
test_every_handler_names_a_daemon_command(void **state)
{
	(void)state;
	for (const struct ctl_handler *h = ctl_handlers; h->name != NULL; h++) {
		const struct ctl_cmd *c = ctl_cmd_find(h->name);
		if (c == NULL || (c->flags & CTL_CMD_LOCAL)) {
			fail_msg("handler '%s' has no daemon command in ctl_cmds", h->name);
		}
		assert_non_null(h->fn);
	}
}

static void
test_command_names_are_unique_and_well_formed(void **state)
{
	(void)state;
	for (const struct ctl_cmd *c = ctl_cmds; c->name != NULL; c++) {
		assert_ptr_equal(ctl_cmd_find(c->name), c);
		/* One or two lower-case words: the CLI's prefix matching relies on it. */
		size_t spaces = 0;
		for (const char *p = c->name; *p != '\0'; p++) {
			spaces += *p == ' ';
			if (*p != ' ' && *p != '-' && (*p < 'a' || *p > 'z')) {
				fail_msg("command '%s' has a character outside [a-z -]", c->name);
			}
		}
		assert_true(spaces <= 1);
		assert_non_null(c->help);
		assert_true(strlen(c->help) > 0);
		assert_string_not_equal(c->name, "hello"); /* the hello is the protocol's own */
	}
	assert_null(ctl_cmd_find("no such command"));
	assert_null(ctl_cmd_find("zone"));
}

static void
test_every_argument_has_help_and_a_unique_name(void **state)
{
	(void)state;
	for (const struct ctl_cmd *c = ctl_cmds; c->name != NULL; c++) {
		bool seen_optional_positional = false, seen_words = false;
		for (const struct ctl_arg *a = c->args; a != NULL && a->name != NULL; a++) {
			if (a->help == NULL || a->help[0] == '\0') {
				fail_msg("argument '%s' of '%s' has no help", a->name, c->name);
			}
			for (const struct ctl_arg *b = c->args; b != a; b++) {
				if (strcmp(a->name, b->name) == 0) {
					fail_msg("'%s' has two arguments '%s'", c->name, a->name);
				}
			}
			if (a->option) {
				continue;
			}
			/* Words map onto positions: nothing may follow WORDS, nor a required one an
			 * optional one. */
			if (seen_words || (seen_optional_positional && !a->optional)) {
				fail_msg("'%s': positional '%s' cannot be mapped from words",
					 c->name, a->name);
			}
			seen_words = a->type == CTL_ARG_WORDS;
			seen_optional_positional |= a->optional;
		}
	}
}

/* ------------------------------------------------------------------------------------------ */
/* Framing                                                                                      */

static void
test_frame_encode_prefixes_the_compact_json_length(void **state)
{
	(void)state;
	json_t *doc = json_pack("{s:s, s:{s:i}}", "command", "status", "args", "x", 1);
	uint8_t *frame;
	size_t len;
	assert_int_equal(ctl_frame_encode(doc, &frame, &len), TDNS_OK);
	const char *want = "{\"command\":\"status\",\"args\":{\"x\":1}}";
	assert_int_equal(len, 4 + strlen(want));
	assert_int_equal(tdns_get32(frame), strlen(want));
	assert_memory_equal(frame + 4, want, strlen(want));
	json_t *back = NULL;
	char err[128];
	assert_int_equal(ctl_frame_decode(frame + 4, len - 4, &back, err, sizeof(err)), TDNS_OK);
	assert_true(json_equal(doc, back));
	json_decref(back);
	json_decref(doc);
	free(frame);
}

static void
test_frame_decode_rejects_bad_json_non_objects_and_duplicates(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"{\"command\":", "[1,2]", "\"text\"", "", "{\"a\":1,\"a\":2}", "{\"a\":1} x",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *doc = (json_t *)1;
		char err[128] = "";
		int rc = ctl_frame_decode((const uint8_t *)bad[i], strlen(bad[i]), &doc, err,
					  sizeof(err));
		assert_int_equal(rc, TDNS_EMALFORMED);
		assert_null(doc);
		assert_true(strlen(err) > 0);
	}
}

static void
test_reply_helpers_build_the_documented_shapes(void **state)
{
	(void)state;
	json_t *ok = ctl_reply_ok(json_integer(7));
	assert_true(json_is_true(json_object_get(ok, "ok")));
	assert_int_equal(json_integer_value(json_object_get(ok, "data")), 7);
	json_decref(ok);
	json_t *null_ok = ctl_reply_ok(NULL);
	assert_true(json_is_null(json_object_get(null_ok, "data")));
	json_decref(null_ok);
	json_t *e = ctl_reply_error(TDNS_ENOZONE, "no such zone: example.org");
	assert_true(json_is_false(json_object_get(e, "ok")));
	json_t *err = json_object_get(e, "error");
	assert_string_equal(json_string_value(json_object_get(err, "id")), "ENOZONE");
	assert_string_equal(json_string_value(json_object_get(err, "message")),
			    "no such zone: example.org");
	json_decref(e);
}

struct slow_writer {
	int fd;
	const uint8_t *data;
	size_t len;
	size_t written; /* octets written; the main thread asserts it (cmocka asserts there only) */
	int err;        /* errno of a failed write, 0 when none failed */
};

/* Writes one byte at a time with pauses, so the reader sees many partial reads. */
static void *
slow_write(void *arg)
{
	struct slow_writer *w = arg;
	for (; w->written < w->len; w->written++) {
		if (write(w->fd, w->data + w->written, 1) != 1) {
			w->err = errno ? errno : EIO;
			break;
		}
		usleep(200);
	}
	return NULL;
}

static void
test_frame_recv_reassembles_partial_reads(void **state)
{
	(void)state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	json_t *doc = json_pack("{s:b, s:{s:s}}", "ok", 1, "data", "k", "a value");
	uint8_t *frame;
	size_t len;
	assert_int_equal(ctl_frame_encode(doc, &frame, &len), TDNS_OK);
	struct slow_writer w = { .fd = sv[0], .data = frame, .len = len };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, slow_write, &w), 0);
	json_t *got = NULL;
	char err[128];
	int rc = ctl_frame_recv(sv[1], &got, 5000, err, sizeof(err));
	pthread_join(t, NULL);
	assert_int_equal(w.err, 0);
	assert_int_equal(w.written, len);
	assert_int_equal(rc, TDNS_OK);
	assert_true(json_equal(doc, got));
	json_decref(got);
	json_decref(doc);
	free(frame);
	close(sv[0]);
	close(sv[1]);
}

/*
 * Writes the n octets at bytes into one end of a new socket pair (closing that end after them
 * when eof) and returns ctl_frame_recv's status on the other within timeout_ms; *got as it
 * leaves it.
 */
static int
recv_of(const void *bytes, size_t n, bool eof, int timeout_ms, json_t **got)
{
	int sv[2];
	char err[128];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[0], bytes, n), (ssize_t)n);
	if (eof) {
		close(sv[0]);
	}
	int rc = ctl_frame_recv(sv[1], got, timeout_ms, err, sizeof(err));
	if (!eof) {
		close(sv[0]);
	}
	close(sv[1]);
	return rc;
}

static void
test_frame_recv_reports_timeout_close_and_oversize(void **state)
{
	(void)state;
	json_t *got = (json_t *)1;
	/* Half a header, then silence: a timeout, not a hang. */
	assert_int_equal(recv_of("\0\0", 2, false, 50, &got), TDNS_EAGAIN);
	assert_null(got);
	const uint8_t huge[4] = { 0xff, 0xff, 0xff, 0xff };
	assert_int_equal(recv_of(huge, sizeof(huge), false, 1000, &got), TDNS_ERANGE);
	const uint8_t part[6] = { 0, 0, 0, 10, '{', '}' };
	assert_int_equal(recv_of(part, sizeof(part), true, 1000, &got), TDNS_EIO);
	const uint8_t notjson[7] = { 0, 0, 0, 3, 'a', 'b', 'c' };
	assert_int_equal(recv_of(notjson, sizeof(notjson), false, 1000, &got), TDNS_EMALFORMED);
}

static void
test_frame_send_then_recv_round_trips(void **state)
{
	(void)state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	json_t *doc = json_pack("{s:s, s:[s,s]}", "command", "record add", "rdata", "10",
				"mail.example.com.");
	assert_int_equal(ctl_frame_send(sv[0], doc), TDNS_OK);
	json_t *got = NULL;
	char err[128];
	assert_int_equal(ctl_frame_recv(sv[1], &got, 1000, err, sizeof(err)), TDNS_OK);
	assert_true(json_equal(doc, got));
	json_decref(got);
	json_decref(doc);
	close(sv[0]);
	close(sv[1]);
}

/* ------------------------------------------------------------------------------------------ */
/* The server, with a daemon made of test doubles running on its own thread                     */

struct fake_daemon {
	int stops;
};

static json_t *
fake_status(void *daemon)
{
	(void)daemon;
	return json_pack("{s:i, s:[s]}", "workers", 3, "listeners", "127.0.0.1:5353");
}

static void
fake_stop(void *daemon)
{
	((struct fake_daemon *)daemon)->stops++;
}

struct srv_fixture {
	char dir[64];
	char path[128];
	struct event_base *base;
	struct ctl_server *srv;
	struct ctl_env env;
	struct fake_daemon daemon;
	pthread_t thread;
	volatile int running;     /* the loop thread has entered the loop */
};

static void
started_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	((struct srv_fixture *)arg)->running = 1;
}

static void *
loop_thread(void *arg)
{
	struct srv_fixture *f = arg;
	event_base_dispatch(f->base);
	return NULL;
}

static int
srv_setup(void **state)
{
	struct srv_fixture *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/tdns-test-ctl-XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/run/ctl.sock", f->dir);
	f->base = event_base_new();
	f->env = (struct ctl_env){ .daemon = &f->daemon, .status = fake_status,
				   .handlers = ctl_handlers, .stream_handlers = ctl_stream_handler_table(),
				   .stop = fake_stop };
	char err[256];
	if (ctl_server_new(f->base, f->path, (gid_t)-1, &f->env, &f->srv, err, sizeof(err)) !=
	    TDNS_OK) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	/* A loopbreak before the loop starts is forgotten: wait until it runs. */
	const struct timeval zero = { 0, 0 };
	event_base_once(f->base, -1, EV_TIMEOUT, started_cb, f, &zero);
	pthread_create(&f->thread, NULL, loop_thread, f);
	while (!f->running) {
		usleep(1000);
	}
	*state = f;
	return 0;
}

static int
srv_teardown(void **state)
{
	struct srv_fixture *f = *state;
	event_base_loopbreak(f->base);
	pthread_join(f->thread, NULL);
	ctl_server_free(f->srv);
	event_base_free(f->base);
	char run[160];
	snprintf(run, sizeof(run), "%s/run", f->dir);
	rmdir(run);
	rmdir(f->dir);
	free(f);
	return 0;
}

static int
client(const struct srv_fixture *f)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	assert_true(strlen(f->path) < sizeof(sun.sun_path));
	memcpy(sun.sun_path, f->path, strlen(f->path) + 1);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

/* Sends a request document given as JSON text and returns the reply. */
static json_t *
ask(int fd, const char *text)
{
	json_error_t je;
	json_t *doc = json_loads(text, 0, &je);
	assert_non_null(doc);
	assert_int_equal(ctl_frame_send(fd, doc), TDNS_OK);
	json_decref(doc);
	json_t *reply = NULL;
	char err[256];
	int rc = ctl_frame_recv(fd, &reply, 5000, err, sizeof(err));
	if (rc != TDNS_OK) {
		fail_msg("no reply to %s: %s", text, err);
	}
	return reply;
}

static const char *
error_id(const json_t *reply)
{
	assert_true(json_is_false(json_object_get(reply, "ok")));
	return json_string_value(json_object_get(json_object_get(reply, "error"), "id"));
}

static void
assert_closed(int fd)
{
	char b;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	assert_int_equal(poll(&p, 1, 5000), 1);
	assert_int_equal(read(fd, &b, 1), 0);
}

#define HELLO "{\"command\":\"hello\",\"args\":{\"protocol\":1,\"client\":\"test\"}}"

static void
test_server_socket_has_mode_0660_in_a_created_directory(void **state)
{
	struct srv_fixture *f = *state;
	struct stat st;
	assert_int_equal(lstat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);
	char run[160];
	snprintf(run, sizeof(run), "%s/run", f->dir);
	assert_int_equal(stat(run, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0750);
}

/*
 * Sends the request text on fd and expects the error reply of the stable id, with word in its
 * message unless word is NULL.
 */
static void
expect_error_naming(int fd, const char *text, const char *id, const char *word)
{
	json_t *r = ask(fd, text);
	assert_string_equal(error_id(r), id);
	if (word != NULL) {
		const json_t *msg = json_object_get(json_object_get(r, "error"), "message");
		assert_non_null(strstr(json_string_value(msg), word));
	}
	json_decref(r);
}

/* Sends the request text on fd and expects the error reply of the stable id. */
static void
expect_error(int fd, const char *text, const char *id)
{
	expect_error_naming(fd, text, id, NULL);
}

/* A new connection that has said hello (the reply is not looked at). */
static int
hello_client(const struct srv_fixture *f)
{
	int fd = client(f);
	json_decref(ask(fd, HELLO));
	return fd;
}

/* On a new connection, sends the request text and expects the error id, then the close. */
static void
expect_error_then_close(const struct srv_fixture *f, const char *text, const char *id)
{
	int fd = client(f);
	expect_error(fd, text, id);
	assert_closed(fd);
	close(fd);
}

/* The next reply on fd; fails the test when none comes within 5 s. */
static json_t *
reply(int fd)
{
	json_t *r = NULL;
	char err[256];
	if (ctl_frame_recv(fd, &r, 5000, err, sizeof(err)) != TDNS_OK) {
		fail_msg("no reply: %s", err);
	}
	return r;
}

/* On a new connection, writes the n octets at bytes and expects EFRAME, then the close. */
static void
expect_eframe_then_close(const struct srv_fixture *f, const void *bytes, size_t n)
{
	int fd = client(f);
	assert_int_equal(write(fd, bytes, n), (ssize_t)n);
	json_t *r = reply(fd);
	assert_string_equal(error_id(r), "EFRAME");
	json_decref(r);
	assert_closed(fd);
	close(fd);
}

/* Sends the request text on fd and expects a successful reply. */
static void
expect_ok(int fd, const char *text)
{
	json_t *r = ask(fd, text);
	assert_true(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
}

static void
test_server_answers_hello_then_status(void **state)
{
	struct srv_fixture *f = *state;
	int fd = client(f);
	json_t *r = ask(fd, HELLO);
	assert_true(json_is_true(json_object_get(r, "ok")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "data"),
							    "protocol")), CTL_PROTOCOL_VERSION);
	json_decref(r);
	r = ask(fd, "{\"command\":\"status\"}");
	assert_true(json_is_true(json_object_get(r, "ok")));
	json_t *data = json_object_get(r, "data");
	assert_int_equal(json_integer_value(json_object_get(data, "workers")), 3);
	assert_int_equal(json_integer_value(json_object_get(data, "pid")), getpid());
	assert_non_null(json_string_value(json_object_get(data, "version")));
	json_decref(r);
	close(fd);
}

static void
test_server_requires_hello_first(void **state)
{
	expect_error_then_close(*state, "{\"command\":\"status\"}", "EHELLO");
}

static void
test_server_refuses_another_protocol_version(void **state)
{
	expect_error_then_close(*state, "{\"command\":\"hello\",\"args\":{\"protocol\":99}}",
				"EPROTO");
}

static void
test_server_keeps_the_connection_after_unknown_command_and_bad_args(void **state)
{
	struct srv_fixture *f = *state;
	int fd = hello_client(f);
	expect_error(fd, "{\"command\":\"zone frobnicate\"}", "EUNKNOWNCMD");
	expect_error_naming(fd, "{\"command\":\"status\",\"args\":{\"bogus\":1}}", "EARGS",
			    "bogus");
	/* Wrong types and missing required arguments name the argument. */
	expect_error_naming(fd, "{\"command\":\"zone show\",\"args\":{\"name\":5}}", "EARGS",
			    "name");
	expect_error(fd, "{\"command\":\"zone show\",\"args\":{}}", "EARGS");
	expect_error(fd, "{\"command\":\"record add\",\"args\":{\"zone\":\"a.\",\"name\":\"b\","
		     "\"type\":\"A\",\"rdata\":[1]}}", "EARGS");
	expect_ok(fd, "{\"command\":\"status\"}");
	close(fd);
}

static void
test_server_closes_oversized_and_malformed_frames_but_serves_others(void **state)
{
	struct srv_fixture *f = *state;
	int good = hello_client(f);

	const uint8_t huge[4] = { 0xff, 0xff, 0xff, 0xff };
	expect_eframe_then_close(f, huge, sizeof(huge));
	const uint8_t junk[9] = { 0, 0, 0, 5, '{', 'x', 'y', 'z', '!' };
	expect_eframe_then_close(f, junk, sizeof(junk));

	expect_ok(good, "{\"command\":\"status\"}");
	close(good);
}

static void
test_server_reassembles_a_request_split_across_writes(void **state)
{
	int fd = client(*state);
	json_t *hello = json_loads(HELLO, 0, NULL);
	uint8_t *frame;
	size_t len;
	assert_int_equal(ctl_frame_encode(hello, &frame, &len), TDNS_OK);
	json_decref(hello);
	struct slow_writer w = { .fd = fd, .data = frame, .len = len };
	slow_write(&w);
	free(frame);
	json_t *r = reply(fd);
	assert_true(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	close(fd);
}

static void
test_server_stop_replies_and_asks_the_daemon_to_stop(void **state)
{
	struct srv_fixture *f = *state;
	int fd = hello_client(f);
	expect_ok(fd, "{\"command\":\"server stop\"}");
	assert_int_equal(f->daemon.stops, 1);
	close(fd);
}

static void
test_server_survives_a_client_leaving_mid_request(void **state)
{
	struct srv_fixture *f = *state;
	int fd = client(f);
	const uint8_t part[6] = { 0, 0, 0, 50, '{', '"' };
	assert_int_equal(write(fd, part, sizeof(part)), (ssize_t)sizeof(part));
	close(fd);
	fd = client(f);
	expect_ok(fd, HELLO);
	close(fd);
}

static void
test_server_replaces_a_stale_socket_but_not_a_live_one(void **state)
{
	struct srv_fixture *f = *state;
	/* The fixture's server is live: a second one on the same path must fail. */
	struct ctl_server *second = NULL;
	char err[256] = "";
	assert_int_equal(ctl_server_new(f->base, f->path, (gid_t)-1, &f->env, &second, err,
					sizeof(err)), TDNS_EIO);
	assert_non_null(strstr(err, "in use"));
	assert_null(second);

	/* A socket file nobody listens on is stale and replaced. */
	char stale[160];
	snprintf(stale, sizeof(stale), "%s/stale.sock", f->dir);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	assert_true(strlen(stale) < sizeof(sun.sun_path));
	memcpy(sun.sun_path, stale, strlen(stale) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	struct event_base *b2 = event_base_new();
	assert_int_equal(ctl_server_new(b2, stale, (gid_t)-1, &f->env, &second, err, sizeof(err)),
			 TDNS_OK);
	ctl_server_free(second);
	struct stat st;
	assert_int_equal(lstat(stale, &st), -1); /* unlinked by ctl_server_free */
	event_base_free(b2);

	/* A regular file is never removed. */
	FILE *reg = fopen(stale, "w");
	fclose(reg);
	b2 = event_base_new();
	assert_int_equal(ctl_server_new(b2, stale, (gid_t)-1, &f->env, &second, err, sizeof(err)),
			 TDNS_EIO);
	assert_int_equal(lstat(stale, &st), 0);
	unlink(stale);
	event_base_free(b2);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	evthread_use_pthreads();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_daemon_command_has_exactly_one_handler),
		cmocka_unit_test(test_every_handler_names_a_daemon_command),
		cmocka_unit_test(test_command_names_are_unique_and_well_formed),
		cmocka_unit_test(test_every_argument_has_help_and_a_unique_name),
		cmocka_unit_test(test_frame_encode_prefixes_the_compact_json_length),
		cmocka_unit_test(test_frame_decode_rejects_bad_json_non_objects_and_duplicates),
		cmocka_unit_test(test_reply_helpers_build_the_documented_shapes),
		cmocka_unit_test(test_frame_recv_reassembles_partial_reads),
		cmocka_unit_test(test_frame_recv_reports_timeout_close_and_oversize),
		cmocka_unit_test(test_frame_send_then_recv_round_trips),
		cmocka_unit_test_setup_teardown(
			test_server_socket_has_mode_0660_in_a_created_directory, srv_setup,
			srv_teardown),
		cmocka_unit_test_setup_teardown(test_server_answers_hello_then_status, srv_setup,
						srv_teardown),
		cmocka_unit_test_setup_teardown(test_server_requires_hello_first, srv_setup,
						srv_teardown),
		cmocka_unit_test_setup_teardown(test_server_refuses_another_protocol_version,
						srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(
			test_server_keeps_the_connection_after_unknown_command_and_bad_args,
			srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(
			test_server_closes_oversized_and_malformed_frames_but_serves_others,
			srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(
			test_server_reassembles_a_request_split_across_writes, srv_setup,
			srv_teardown),
		cmocka_unit_test_setup_teardown(
			test_server_stop_replies_and_asks_the_daemon_to_stop, srv_setup,
			srv_teardown),
		cmocka_unit_test_setup_teardown(test_server_survives_a_client_leaving_mid_request,
						srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(
			test_server_replaces_a_stale_socket_but_not_a_live_one, srv_setup,
			srv_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
