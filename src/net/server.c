/* SPDX-License-Identifier: MIT */
/* Worker threads with one event base each, their sockets, and lock-free zone publication. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "net/net.h"

struct net_server {
	struct net_settings set;
	struct net_handler handler;
	struct net_worker *workers;
	unsigned nworkers;
	char (*texts)[64];        /* listen addresses as configured, for logs */
	size_t nlisten;
	bool running;
	/* Publication handshake; never taken on the query path. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	void (*run_fn)(void *wctx, void *arg); /* what the switch event runs on each worker */
	void *run_arg;
	unsigned acks;
};

unsigned
net_server_workers(const struct net_server *s)
{
	return s->nworkers;
}

struct stats_worker *
net_server_stats_worker(struct net_server *s, unsigned i)
{
	return i < s->nworkers ? s->workers[i].sw : NULL;
}

/* Runs on the worker's thread: run what net_server_run_all published, and acknowledge. */
static void
switch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct net_worker *w = arg;
	struct net_server *s = w->srv;
	(void)fd;
	(void)what;
	pthread_mutex_lock(&s->lock);
	s->run_fn(w->qctx, s->run_arg);
	w->stats_shown = w->stats;
	stats_worker_read(w->sw, &w->stats_shown);
	s->acks++;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

/*
 * Runs on the worker's thread once a second: copies its counters where net_server_stats
 * reads them, so `stats` is at most a second old while the query path never takes a lock.
 */
static void
stats_cb(evutil_socket_t fd, short what, void *arg)
{
	struct net_worker *w = arg;
	pthread_mutex_lock(&w->srv->lock);
	w->stats_shown = w->stats;
	stats_worker_read(w->sw, &w->stats_shown);
	pthread_mutex_unlock(&w->srv->lock);
	if (w->id == 0 && w->srv->set.tls != NULL) {
		/* A renewed certificate (certbot) is picked up within a second or so. */
		(void)net_tls_check(w->srv->set.tls);
	}
}

/*
 * SO_REUSEPORT would let us share a port with another server running as the same user and
 * silently split its traffic; a plain bind first tells us the address is really free.
 */
static int
probe_free(const struct cfg_listen *l, int type)
{
	int fd = socket(l->addr.ss_family, type | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -1;
	}
	int on = 1;
	if (type == SOCK_STREAM) {
		/* Connections of an earlier run in TIME_WAIT must not count as in use. */
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	}
	if (l->addr.ss_family == AF_INET6) {
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	}
	int rc = bind(fd, (const struct sockaddr *)&l->addr, l->addrlen);
	int saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

/* The stream listeners of a configuration, in the order worker_init binds them. */
struct stream_spec {
	enum net_stream_kind kind;
	const struct cfg_listen *l;
};

static size_t
stream_specs(const struct cfg *c, struct stream_spec *out)
{
	size_t n = 0;
	for (size_t i = 0; i < c->nlisten; i++) {
		out[n++] = (struct stream_spec){ NET_STREAM_TCP, &c->listen[i] };
	}
	for (size_t i = 0; i < c->ndot_listen; i++) {
		out[n++] = (struct stream_spec){ NET_STREAM_DOT, &c->dot_listen[i] };
	}
	for (size_t i = 0; i < c->ndoh_listen; i++) {
		out[n++] = (struct stream_spec){ NET_STREAM_DOH, &c->doh_listen[i] };
	}
	for (size_t i = 0; i < c->nhttp_listen; i++) {
		out[n++] = (struct stream_spec){ NET_STREAM_HTTP, &c->http_listen[i] };
	}
	return n;
}

static size_t
stream_count(const struct cfg *c)
{
	return c->nlisten + c->ndot_listen + c->ndoh_listen + c->nhttp_listen;
}

static const char *
stream_name(enum net_stream_kind kind)
{
	return kind == NET_STREAM_DOT ? "DoT" : kind == NET_STREAM_DOH ? "DoH" :
	       kind == NET_STREAM_HTTP ? "HTTP" : "TCP";
}

static int
worker_init(struct net_server *s, struct net_worker *w, const struct cfg *c, char *err,
	    size_t errlen)
{
	w->srv = s;
	w->set = &s->set;
	w->handler = &s->handler;
	net_conn_set_init(&w->conns);
	net_conn_set_init(&w->http_conns);
	w->base = event_base_new();
	if (w->base == NULL) {
		snprintf(err, errlen, "cannot create an event base for worker %u", w->id);
		return TDNS_ENOMEM;
	}
	w->switch_ev = event_new(w->base, -1, 0, switch_cb, w);
	w->stats_ev = event_new(w->base, -1, EV_PERSIST, stats_cb, w);
	const struct timeval second = { .tv_sec = 1 };
	size_t nstreams = stream_count(c);
	w->udp = calloc(c->nlisten ? c->nlisten : 1, sizeof(*w->udp));
	w->streams = calloc(nstreams ? nstreams : 1, sizeof(*w->streams));
	w->tcp_in = malloc(DNS_MSG_MAX);
	w->tcp_out = malloc(2 + DNS_MSG_MAX);
	w->qctx = s->handler.worker_new(s->handler.arg, w);
	w->sw = stats_worker_new();
	if (w->qctx == NULL || w->sw == NULL || w->switch_ev == NULL || w->stats_ev == NULL ||
	    event_add(w->stats_ev, &second) != 0 ||
	    w->udp == NULL || w->streams == NULL || w->tcp_in == NULL ||
	    w->tcp_out == NULL || net_udp_buffers_new(w, s->set.udp_max) != TDNS_OK) {
		snprintf(err, errlen, "out of memory");
		return TDNS_ENOMEM;
	}
	for (size_t i = 0; i < c->nlisten; i++) {
		w->udp[i].fd = -1;
	}
	for (size_t i = 0; i < c->nlisten; i++) {
		const struct cfg_listen *l = &c->listen[i];
		const struct sockaddr *sa = (const struct sockaddr *)&l->addr;
		struct net_udp *u = &w->udp[i];
		u->w = w;
		u->family = sa->sa_family;
		u->text = s->texts[i];
		u->fd = net_udp_socket(sa, l->addrlen, &u->wildcard);
		w->nsock = i + 1;
		if (u->fd < 0) {
			snprintf(err, errlen, "cannot bind UDP %s: %s", l->text, strerror(errno));
			return TDNS_EIO;
		}
		u->ev = event_new(w->base, u->fd, EV_READ | EV_PERSIST, net_udp_read_cb, u);
		if (u->ev == NULL || event_add(u->ev, NULL) != 0) {
			snprintf(err, errlen, "cannot watch UDP %s", l->text);
			return TDNS_ENOMEM;
		}
	}
	struct stream_spec *specs = calloc(nstreams ? nstreams : 1, sizeof(*specs));
	if (specs == NULL) {
		snprintf(err, errlen, "out of memory");
		return TDNS_ENOMEM;
	}
	stream_specs(c, specs);
	int rc = TDNS_OK;
	for (size_t i = 0; i < nstreams && rc == TDNS_OK; i++) {
		const struct cfg_listen *l = specs[i].l;
		struct net_listener *nl = &w->streams[i];
		nl->w = w;
		nl->kind = specs[i].kind;
		w->nstreams = i + 1;
		int fd = net_tcp_socket((const struct sockaddr *)&l->addr, l->addrlen);
		if (fd < 0) {
			snprintf(err, errlen, "cannot bind %s %s: %s", stream_name(nl->kind), l->text,
				 strerror(errno));
			rc = TDNS_EIO;
			break;
		}
		/* Backlog 0: the socket already listens. */
		nl->l = evconnlistener_new(w->base, net_tcp_accept_cb, nl, LEV_OPT_CLOSE_ON_FREE, 0,
					   fd);
		if (nl->l == NULL) {
			close(fd);
			snprintf(err, errlen, "cannot watch %s %s", stream_name(nl->kind), l->text);
			rc = TDNS_ENOMEM;
		}
	}
	free(specs);
	return rc;
}

static void
worker_free(struct net_worker *w)
{
	/* First: deferred replies still hold connections, which then close normally. */
	w->stopping = true;
	if (w->qctx != NULL) {
		w->handler->worker_free(w->qctx);
		w->qctx = NULL;
	}
	net_conn_close_all(&w->conns);
	net_conn_close_all(&w->http_conns);
	for (size_t i = 0; i < w->nstreams; i++) {
		if (w->streams[i].l != NULL) {
			evconnlistener_free(w->streams[i].l);
		}
	}
	for (size_t i = 0; i < w->nsock; i++) {
		if (w->udp[i].ev != NULL) {
			event_free(w->udp[i].ev);
		}
		if (w->udp[i].fd >= 0) {
			close(w->udp[i].fd);
		}
	}
	if (w->switch_ev != NULL) {
		event_free(w->switch_ev);
	}
	if (w->stats_ev != NULL) {
		event_free(w->stats_ev);
	}
	if (w->base != NULL) {
		event_base_free(w->base);
	}
	free(w->udp);
	free(w->streams);
	free(w->tcp_in);
	free(w->tcp_out);
	net_udp_buffers_free(w);
	stats_worker_free(w->sw);
}

int
net_server_new(const struct cfg *c, unsigned nworkers, const struct net_handler *h,
	       struct net_server **out, char *err, size_t errlen)
{
	*out = NULL;
	struct net_server *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return TDNS_ENOMEM;
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	s->handler = *h;
	s->set.udp_max = c->udp_max_payload ? c->udp_max_payload : DNS_EDNS_MAX_PAYLOAD;
	if (s->set.udp_max < DNS_UDP_MIN) {
		s->set.udp_max = DNS_UDP_MIN;
	}
	if (s->set.udp_max > DNS_MSG_MAX) {
		s->set.udp_max = DNS_MSG_MAX;
	}
	s->set.tcp_idle = c->tcp_idle_timeout;
	s->set.tcp_max = c->tcp_max_connections ? c->tcp_max_connections : 1;
	snprintf(s->set.doh_path, sizeof(s->set.doh_path), "%s",
		 c->doh_path != NULL ? c->doh_path : "/dns-query");
	char msg[256];
	if (dns_ident_init(&s->set.ident, c->identity, c->version, c->nsid, msg, sizeof(msg)) !=
	    TDNS_OK) {
		snprintf(err, errlen, "[server] %s", msg);
		net_server_free(s);
		return TDNS_ECONFIG;
	}
	if (filter_acl_parse(c->doh_trusted_proxies != NULL ? c->doh_trusted_proxies : "",
			     &s->set.proxies, msg, sizeof(msg)) != TDNS_OK) {
		snprintf(err, errlen, "[doh] trusted-proxies: %s", msg);
		net_server_free(s);
		return TDNS_ECONFIG;
	}
	if (c->ndot_listen > 0 || c->ndoh_listen > 0) {
		int rc = net_tls_new(c, &s->set.tls, err, errlen);
		if (rc != TDNS_OK) {
			net_server_free(s);
			return rc;
		}
	}
	s->nlisten = c->nlisten;
	s->texts = calloc(c->nlisten ? c->nlisten : 1, sizeof(*s->texts));
	s->workers = calloc(nworkers ? nworkers : 1, sizeof(*s->workers));
	if (s->texts == NULL || s->workers == NULL) {
		snprintf(err, errlen, "out of memory");
		net_server_free(s);
		return TDNS_ENOMEM;
	}
	for (size_t i = 0; i < c->nlisten; i++) {
		snprintf(s->texts[i], sizeof(s->texts[i]), "%s", c->listen[i].text);
		if (probe_free(&c->listen[i], SOCK_DGRAM) < 0) {
			snprintf(err, errlen, "cannot bind UDP %s: %s", c->listen[i].text,
				 strerror(errno));
			net_server_free(s);
			return TDNS_EIO;
		}
	}
	size_t nstreams = stream_count(c);
	struct stream_spec *specs = calloc(nstreams ? nstreams : 1, sizeof(*specs));
	if (specs == NULL) {
		snprintf(err, errlen, "out of memory");
		net_server_free(s);
		return TDNS_ENOMEM;
	}
	stream_specs(c, specs);
	for (size_t i = 0; i < nstreams; i++) {
		if (probe_free(specs[i].l, SOCK_STREAM) < 0) {
			snprintf(err, errlen, "cannot bind %s %s: %s", stream_name(specs[i].kind),
				 specs[i].l->text, strerror(errno));
			free(specs);
			net_server_free(s);
			return TDNS_EIO;
		}
	}
	free(specs);
	for (unsigned i = 0; i < nworkers; i++) {
		struct net_worker *w = &s->workers[i];
		w->id = i;
		s->nworkers = i + 1;
		int rc = worker_init(s, w, c, err, errlen);
		if (rc != TDNS_OK) {
			net_server_free(s);
			return rc;
		}
	}
	*out = s;
	return TDNS_OK;
}

static void *
worker_main(void *arg)
{
	struct net_worker *w = arg;
	/* The base must not return just because no event is pending at some moment. */
	event_base_loop(w->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

int
net_server_start(struct net_server *s)
{
	/* Signals are for the main thread's event base; workers never see them. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = TDNS_OK;
	for (unsigned i = 0; i < s->nworkers; i++) {
		struct net_worker *w = &s->workers[i];
		if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
			rc = TDNS_ENOMEM;
			break;
		}
		w->started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	s->running = true;
	if (rc != TDNS_OK) {
		net_server_stop(s);
	}
	return rc;
}

void
net_server_run_all(struct net_server *s, void (*fn)(void *wctx, void *arg), void *arg)
{
	if (!s->running) {
		for (unsigned i = 0; i < s->nworkers; i++) {
			fn(s->workers[i].qctx, arg);
		}
		return;
	}
	pthread_mutex_lock(&s->lock);
	s->run_fn = fn;
	s->run_arg = arg;
	s->acks = 0;
	pthread_mutex_unlock(&s->lock);
	/* event_active is thread-safe since tdnsd enabled libevent's pthreads locking. */
	for (unsigned i = 0; i < s->nworkers; i++) {
		event_active(s->workers[i].switch_ev, 0, 0);
	}
	pthread_mutex_lock(&s->lock);
	while (s->acks < s->nworkers) {
		pthread_cond_wait(&s->cond, &s->lock);
	}
	s->run_fn = NULL;
	s->run_arg = NULL;
	pthread_mutex_unlock(&s->lock);
}

void
net_server_stop(struct net_server *s)
{
	if (!s->running) {
		return;
	}
	for (unsigned i = 0; i < s->nworkers; i++) {
		if (s->workers[i].started) {
			/* loopexit, unlike loopbreak, is not lost if the loop has not started. */
			event_base_loopexit(s->workers[i].base, NULL);
		}
	}
	for (unsigned i = 0; i < s->nworkers; i++) {
		if (s->workers[i].started) {
			pthread_join(s->workers[i].thread, NULL);
			s->workers[i].started = false;
		}
	}
	s->running = false;
}

void
net_server_stats(struct net_server *s, struct stats_counters *total)
{
	memset(total, 0, sizeof(*total));
	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < s->nworkers; i++) {
		const struct net_worker *w = &s->workers[i];
		if (s->running) {
			stats_counters_add(total, &w->stats_shown);
			continue;
		}
		/* Stopped workers: their notes are final, read them now. */
		struct stats_counters c = w->stats;
		stats_worker_read(w->sw, &c);
		stats_counters_add(total, &c);
	}
	pthread_mutex_unlock(&s->lock);
}

static struct stats_worker *
source_worker(void *arg, unsigned i)
{
	return net_server_stats_worker(arg, i);
}

static void
source_totals(void *arg, struct stats_counters *out)
{
	net_server_stats(arg, out);
}

static void
nothing(void *wctx, void *arg)
{
	(void)wctx;
	(void)arg;
}

static void
source_refresh(void *arg)
{
	/* Each worker copies its counters as it acknowledges (switch_cb). */
	net_server_run_all(arg, nothing, NULL);
}

void
net_server_stats_source(struct net_server *s, struct stats_source *out)
{
	*out = (struct stats_source){
		.nworkers = s->nworkers, .worker = source_worker, .totals = source_totals,
		.refresh = source_refresh, .arg = s,
	};
}

void
net_server_free(struct net_server *s)
{
	if (s == NULL) {
		return;
	}
	net_server_stop(s);
	for (unsigned i = 0; i < s->nworkers; i++) {
		worker_free(&s->workers[i]);
	}
	free(s->workers);
	free(s->texts);
	filter_acl_clear(&s->set.proxies);
	net_tls_free(s->set.tls);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	free(s);
}
