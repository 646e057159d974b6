/* SPDX-License-Identifier: MIT */
/* blocklists: downloads of the URL block lists into STATE/blocking/, on the main event base. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/dns.h>
#include <event2/event.h>

#include "block/block.h"
#include "blocklists.h"
#include "core/core.h"
#include "net/fetch.h"
#include "net/outgoing.h"
#include "query/query.h"

/* One URL of the configuration (listed once however many keys name it). */
struct source {
	char *url;
	struct block_meta meta;   /* of the last good copy (url NULL: none yet) */
	struct net_fetch *fetch;  /* in flight, or NULL */
	char *error;              /* of the last attempt, or NULL */
	int64_t next;             /* Unix time the next download is due; 0 while one runs */
	bool listed;              /* named by the configuration being taken */
	struct blocklists *u;
};

struct blocklists {
	struct event_base *base;
	struct evdns_base *dns;   /* NULL: libevent's blocking resolver */
	SSL_CTX *tls;             /* NULL until configured, or when its CAs failed */
	char *ca_file;            /* the tls context's ("" = the system store) */
	char *tls_error;          /* why tls is NULL */
	char *state_dir;
	unsigned interval;
	struct source **src;
	size_t n;
	struct event *timer;
	size_t running;
	bool changed;             /* a copy was replaced since the last changed callback */
	void (*changed_cb)(void *arg);
	void *arg;
};

static int64_t
now_s(void)
{
	return (int64_t)time(NULL);
}

static void
source_free(struct source *s)
{
	net_fetch_cancel(s->fetch);
	block_meta_clear(&s->meta);
	free(s->error);
	free(s->url);
	free(s);
}

static void schedule(struct blocklists *u);

static void
set_error(struct source *s, const char *err)
{
	free(s->error);
	s->error = err != NULL ? tdns_xstrdup(err) : NULL;
}

static void
fetched_cb(void *arg, struct net_fetch_result *r)
{
	struct source *s = arg;
	struct blocklists *u = s->u;
	s->fetch = NULL;
	u->running--;
	s->next = now_s() + u->interval;
	if (r->status != 0) {
		tdns_warn("block list %s; keeping the last good copy", r->err);
		set_error(s, r->err);
		/* A server that is down for a while is asked again before a whole interval. */
		if (u->interval > BLOCKLISTS_RETRY) {
			s->next = now_s() + BLOCKLISTS_RETRY;
		}
	} else {
		struct block_meta m = {
			.url = s->url,
			/* A 304 may leave the validators out (RFC 9110 §15.4.5): keep ours then. */
			.etag = r->etag != NULL ? (char *)r->etag : r->http_status == 304
				? s->meta.etag : NULL,
			.last_modified = r->last_modified != NULL ? (char *)r->last_modified
					 : r->http_status == 304 ? s->meta.last_modified : NULL,
			.fetched = now_s(),
		};
		char err[512];
		if (r->http_status == 304 && s->meta.url == NULL) {
			/* A 304 for a copy we do not have: ask again without validators. */
			snprintf(err, sizeof(err), "%s: HTTP 304 without a copy to keep", s->url);
			tdns_warn("block list %s", err);
			set_error(s, err);
			s->next = now_s();
		} else if (block_store_save(u->state_dir, s->url, r->body, r->len, &m, err,
					    sizeof(err)) != TDNS_OK) {
			tdns_err("block list %s: %s", s->url, err);
			set_error(s, err);
		} else {
			struct block_meta keep = {
				.url = tdns_xstrdup(s->url),
				.etag = m.etag != NULL ? tdns_xstrdup(m.etag) : NULL,
				.last_modified = m.last_modified != NULL
						 ? tdns_xstrdup(m.last_modified) : NULL,
				.fetched = m.fetched,
			};
			block_meta_clear(&s->meta);
			s->meta = keep;
			set_error(s, NULL);
			if (r->http_status == 200) {
				tdns_info("block list %s: downloaded %zu bytes", s->url, r->len);
				u->changed = true;
			} else {
				tdns_info("block list %s: not modified (HTTP 304)", s->url);
			}
		}
	}
	if (u->running == 0 && u->changed) {
		u->changed = false;
		u->changed_cb(u->arg);
	}
	schedule(u);
}

static void
start(struct blocklists *u, struct source *s)
{
	struct net_fetch_opts o = {
		.tls_ctx = u->tls,
		.dns = u->dns,
		.etag = s->meta.url != NULL ? s->meta.etag : NULL,
		.last_modified = s->meta.url != NULL ? s->meta.last_modified : NULL,
		.max_size = BLOCK_DOWNLOAD_MAX,
		.timeout_ms = BLOCKLISTS_TIMEOUT_MS,
	};
	char err[512];
	if (block_source_is_url(s->url) && strncasecmp(s->url, "https:", 6) == 0 &&
	    u->tls == NULL) {
		snprintf(err, sizeof(err), "%s: no TLS context: %s", s->url,
			 u->tls_error != NULL ? u->tls_error : "not configured");
		set_error(s, err);
		s->next = now_s() + u->interval;
		return;
	}
	s->fetch = net_fetch_start(u->base, s->url, &o, fetched_cb, s, err, sizeof(err));
	if (s->fetch == NULL) {
		tdns_warn("block list %s", err);
		set_error(s, err);
		s->next = now_s() + u->interval;
		return;
	}
	s->next = 0;
	u->running++;
}

/* Starts what is due and sets the timer for the next. */
static void
schedule(struct blocklists *u)
{
	int64_t now = now_s(), first = 0;
	for (size_t i = 0; i < u->n; i++) {
		struct source *s = u->src[i];
		if (s->fetch == NULL && s->next <= now) {
			start(u, s);
		}
		if (s->fetch == NULL && (first == 0 || s->next < first)) {
			first = s->next;
		}
	}
	evtimer_del(u->timer);
	if (first != 0) {
		struct timeval tv = { .tv_sec = first > now ? first - now : 0 };
		evtimer_add(u->timer, &tv);
	}
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	schedule(arg);
}

struct blocklists *
blocklists_new(struct event_base *base, void (*changed)(void *arg), void *arg)
{
	struct blocklists *u = calloc(1, sizeof(*u));
	if (u == NULL) {
		return NULL;
	}
	u->base = base;
	u->changed_cb = changed;
	u->arg = arg;
	u->timer = evtimer_new(base, timer_cb, u);
	/* Host names are resolved without blocking the main loop (and the control socket). */
	u->dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
			       EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	if (u->timer == NULL) {
		blocklists_free(u);
		return NULL;
	}
	return u;
}

static struct source *
find(const struct blocklists *u, const char *url)
{
	for (size_t i = 0; i < u->n; i++) {
		if (strcmp(u->src[i]->url, url) == 0) {
			return u->src[i];
		}
	}
	return NULL;
}

/* Marks the URLs of the comma-separated list as listed, adding the new ones. */
static void
take_list(struct blocklists *u, const char *list)
{
	char *copy = tdns_xstrdup(list), *cur = copy;
	bool more = copy[0] != '\0';
	while (more) {
		char *item = cfg_list_next(&cur, &more);
		if (!block_source_is_url(item)) {
			continue;
		}
		struct source *s = find(u, item);
		if (s == NULL) {
			s = tdns_xcalloc(1, sizeof(*s));
			s->url = tdns_xstrdup(item);
			s->u = u;
			/* A copy younger than the interval is used as it is until it is due. */
			if (block_store_load_meta(u->state_dir, item, &s->meta) == TDNS_OK &&
			    s->meta.fetched > 0) {
				s->next = s->meta.fetched + u->interval;
			} else {
				s->next = now_s();
			}
			u->src = tdns_xrealloc(u->src, (u->n + 1) * sizeof(*u->src));
			u->src[u->n++] = s;
		}
		s->listed = true;
	}
	free(copy);
}

int
blocklists_configure(struct blocklists *u, const struct cfg *c, char *err, size_t errlen)
{
	int rc = TDNS_OK;
	const char *ca = c->blocking_ca_file != NULL ? c->blocking_ca_file : "";
	if (u->ca_file == NULL || strcmp(u->ca_file, ca) != 0) {
		SSL_CTX_free(u->tls);
		free(u->tls_error);
		u->tls_error = NULL;
		free(u->ca_file);
		u->ca_file = tdns_xstrdup(ca);
		char why[256];
		u->tls = net_out_tls_ctx_new(ca[0] != '\0' ? ca : NULL, false, why, sizeof(why));
		if (u->tls == NULL) {
			snprintf(err, errlen, "[blocking] ca-file %s: %s", ca[0] != '\0' ? ca
				 : "(the system store)", why);
			u->tls_error = tdns_xstrdup(err);
			rc = TDNS_ECONFIG;
		}
	}
	free(u->state_dir);
	u->state_dir = tdns_xstrdup(c->state_dir != NULL ? c->state_dir : "");
	u->interval = c->blocking_update_interval > 0 ? c->blocking_update_interval
						       : BLOCK_UPDATE_DEFAULT;
	for (size_t i = 0; i < u->n; i++) {
		u->src[i]->listed = false;
	}
	if (c->blocking_enabled) {
		take_list(u, c->blocking_lists);
		take_list(u, c->blocking_allow_lists);
		for (size_t i = 0; i < c->nblock_groups; i++) {
			take_list(u, c->block_groups[i].lists);
			take_list(u, c->block_groups[i].allow_lists);
		}
	}
	size_t keep = 0;
	for (size_t i = 0; i < u->n; i++) {
		struct source *s = u->src[i];
		if (!s->listed) {
			if (s->fetch != NULL) {
				u->running--;
			}
			source_free(s);
			continue;
		}
		/* A shorter interval applies to the copies kept too. */
		if (s->fetch == NULL && s->meta.fetched > 0 &&
		    s->next > s->meta.fetched + u->interval) {
			s->next = s->meta.fetched + u->interval;
		}
		u->src[keep++] = s;
	}
	u->n = keep;
	schedule(u);
	return rc;
}

size_t
blocklists_update_now(struct blocklists *u)
{
	size_t before = u->running;
	for (size_t i = 0; i < u->n; i++) {
		if (u->src[i]->fetch == NULL) {
			u->src[i]->next = now_s();
		}
	}
	schedule(u);
	return u->running - before;
}

bool
blocklists_status(const struct blocklists *u, const char *url, int64_t *updated,
		  int64_t *next, char *err, size_t errlen)
{
	const struct source *s = u != NULL ? find(u, url) : NULL;
	if (s == NULL) {
		return false;
	}
	*updated = s->meta.url != NULL ? s->meta.fetched : 0;
	*next = s->next;
	snprintf(err, errlen, "%s", s->error != NULL ? s->error : "");
	return true;
}

void
blocklists_free(struct blocklists *u)
{
	if (u == NULL) {
		return;
	}
	for (size_t i = 0; i < u->n; i++) {
		source_free(u->src[i]);
	}
	free(u->src);
	if (u->timer != NULL) {
		event_free(u->timer);
	}
	if (u->dns != NULL) {
		evdns_base_free(u->dns, 0);
	}
	SSL_CTX_free(u->tls);
	free(u->ca_file);
	free(u->tls_error);
	free(u->state_dir);
	free(u);
}
