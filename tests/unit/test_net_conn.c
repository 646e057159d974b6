/* SPDX-License-Identifier: MIT */
/* Unit tests for src/net/conn.c: the stream-connection base's LRU set, reference counts, limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "net/net.h"

/* A protocol connection embedding the base, which records what the base did to it. */
struct test_conn {
	struct net_conn base;
	int *closed;              /* incremented by ops->close */
	int *freed;               /* incremented by ops->free */
	bool busy;                /* the protocol says: not idle */
};

static void
t_close(struct net_conn *c)
{
	struct test_conn *t = (struct test_conn *)c;
	assert_non_null(c->bev); /* the teardown still sees the bufferevent */
	(*t->closed)++;
}

static void
t_free(struct net_conn *c)
{
	struct test_conn *t = (struct test_conn *)c;
	(*t->freed)++;
	free(t);
}

static bool
t_idle(const struct net_conn *c)
{
	return !((const struct test_conn *)c)->busy;
}

static const struct net_conn_ops t_ops = { .close = t_close, .free = t_free, .idle = t_idle };

struct fixture {
	struct event_base *base;
	struct net_conn_set set;
	int peer_fd[8];
	size_t npeer;
	int closed, freed;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->base = event_base_new();
	assert_non_null(f->base);
	net_conn_set_init(&f->set);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	net_conn_close_all(&f->set);
	for (size_t i = 0; i < f->npeer; i++) {
		close(f->peer_fd[i]);
	}
	event_base_free(f->base);
	free(f);
	return 0;
}

/* A connection on one end of a socket pair (the other end stays with the fixture). */
static struct test_conn *
make_conn(struct fixture *f)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	f->peer_fd[f->npeer++] = sv[1];
	struct bufferevent *bev = bufferevent_socket_new(f->base, sv[0], BEV_OPT_CLOSE_ON_FREE);
	assert_non_null(bev);
	struct test_conn *t = calloc(1, sizeof(*t));
	assert_non_null(t);
	t->closed = &f->closed;
	t->freed = &f->freed;
	net_conn_init(&t->base, &f->set, &t_ops, bev, NULL, 0);
	return t;
}

static void
test_close_without_references_frees_at_once(void **state)
{
	struct fixture *f = *state;
	struct test_conn *t = make_conn(f);
	assert_int_equal(f->set.n, 1);
	assert_int_equal(net_conn_pending(&t->base), 0);
	net_conn_close(&t->base);
	assert_int_equal(f->closed, 1);
	assert_int_equal(f->freed, 1);
	assert_int_equal(f->set.n, 0);
	assert_null(TAILQ_FIRST(&f->set.list));
}

static void
test_closed_connection_lives_until_its_last_deferred_reply(void **state)
{
	struct fixture *f = *state;
	struct test_conn *t = make_conn(f);
	struct net_conn *c = net_conn_ref(net_conn_ref(&t->base));
	assert_int_equal(net_conn_pending(c), 2);
	assert_false(net_conn_idle(c)); /* deferred replies keep it from being evicted */
	net_conn_close(c);
	assert_int_equal(f->closed, 1);
	assert_int_equal(f->freed, 0);
	assert_true(c->dead);
	assert_null(c->bev);
	assert_int_equal(f->set.n, 0);
	assert_int_equal(net_conn_out_len(c), 0);
	net_conn_close(c); /* idempotent */
	assert_int_equal(f->closed, 1);
	net_conn_touch(c); /* a late reply's touch does nothing to the set */
	assert_null(TAILQ_FIRST(&f->set.list));
	net_conn_unref(c);
	assert_int_equal(f->freed, 0);
	net_conn_unref(c);
	assert_int_equal(f->freed, 1);
}

static void
test_open_connection_survives_its_replies(void **state)
{
	struct fixture *f = *state;
	struct test_conn *t = make_conn(f);
	net_conn_unref(net_conn_ref(&t->base));
	assert_int_equal(f->freed, 0);
	assert_int_equal(net_conn_pending(&t->base), 0);
	assert_true(net_conn_idle(&t->base));
}

static void
test_evict_takes_the_least_recently_active_idle_connection(void **state)
{
	struct fixture *f = *state;
	struct test_conn *a = make_conn(f), *b = make_conn(f), *c = make_conn(f);
	(void)make_conn(f);         /* d */
	net_conn_ref(&a->base);    /* a reply is pending on a */
	b->busy = true;            /* b has a request half-done */
	net_conn_touch(&c->base);  /* c is now the most recently active: order a b d c */
	assert_ptr_equal(TAILQ_LAST(&f->set.list, net_conn_list), &c->base);
	assert_true(net_conn_evict_idle(&f->set));
	assert_int_equal(f->set.n, 3);
	assert_int_equal(f->freed, 1); /* d went, not c */
	assert_ptr_equal(TAILQ_LAST(&f->set.list, net_conn_list), &c->base);
	assert_ptr_equal(TAILQ_NEXT(&b->base, link), &c->base); /* a b c */
	assert_true(net_conn_evict_idle(&f->set));
	assert_int_equal(f->set.n, 2);
	assert_false(net_conn_evict_idle(&f->set)); /* a and b are not idle */
	net_conn_close_all(&f->set);
	assert_int_equal(f->set.n, 0);
	assert_int_equal(f->freed, 3); /* a lives on for its reply */
	net_conn_unref(&a->base);
	assert_int_equal(f->freed, 4);
}

static void
test_queued_output_is_not_idle(void **state)
{
	struct fixture *f = *state;
	struct test_conn *t = make_conn(f);
	assert_int_equal(evbuffer_add(bufferevent_get_output(t->base.bev), "xy", 2), 0);
	assert_int_equal(net_conn_out_len(&t->base), 2);
	assert_false(net_conn_idle(&t->base));
	assert_false(net_conn_evict_idle(&f->set));
}

/* Issue 13: closing with replies pending does not free the connection's slot. */
static void
test_closed_connection_counts_until_its_last_reply(void **state)
{
	struct fixture *f = *state;
	struct test_conn *a = make_conn(f), *b = make_conn(f);
	net_conn_ref(&a->base);
	net_conn_ref(&a->base);
	assert_int_equal(net_conn_count(&f->set), 2);
	net_conn_close(&a->base);
	net_conn_close(&b->base);
	assert_int_equal(f->set.n, 0);
	assert_int_equal(net_conn_count(&f->set), 1); /* a still owes two replies */
	net_conn_unref(&a->base);
	assert_int_equal(net_conn_count(&f->set), 1);
	net_conn_unref(&a->base);
	assert_int_equal(net_conn_count(&f->set), 0);
	assert_int_equal(f->freed, 2);
}

/* Issue 13: the deadline of a message runs from its first octet and is not moved after. */
static void
test_message_deadline_closes_a_slow_connection_and_is_not_rearmed(void **state)
{
	struct fixture *f = *state;
	struct test_conn *slow = make_conn(f), *done = make_conn(f), *later = make_conn(f);
	net_conn_set_idle(&slow->base, 1);
	net_conn_set_idle(&done->base, 1);
	net_conn_set_idle(&later->base, 1);
	assert_null(net_conn_oldest_incomplete(&f->set, NULL));
	net_conn_msg_begin(&slow->base);
	net_conn_msg_begin(&done->base);
	struct timespec first = slow->base.msg_start;
	net_conn_msg_begin(&slow->base); /* more octets of the same message */
	assert_int_equal(slow->base.msg_start.tv_nsec, first.tv_nsec);
	net_conn_msg_end(&done->base);   /* its message completed */
	net_conn_msg_begin(&later->base);
	assert_ptr_equal(net_conn_oldest_incomplete(&f->set, NULL), &slow->base);
	/* After a second the unfinished messages' connections are closed; the other stays. */
	struct timeval tv = { .tv_sec = 1, .tv_usec = 500000 };
	event_base_loopexit(f->base, &tv);
	event_base_dispatch(f->base);
	assert_int_equal(f->freed, 2);
	assert_int_equal(f->set.n, 1);
	assert_ptr_equal(TAILQ_FIRST(&f->set.list), &done->base);
	assert_null(net_conn_oldest_incomplete(&f->set, NULL));
}

#define TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_close_without_references_frees_at_once),
		TEST(test_closed_connection_lives_until_its_last_deferred_reply),
		TEST(test_open_connection_survives_its_replies),
		TEST(test_evict_takes_the_least_recently_active_idle_connection),
		TEST(test_queued_output_is_not_idle),
		TEST(test_closed_connection_counts_until_its_last_reply),
		TEST(test_message_deadline_closes_a_slow_connection_and_is_not_rearmed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
