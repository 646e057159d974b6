/* SPDX-License-Identifier: MIT */
/* Negative trust anchors (RFC 7646): a locked set of names with lifetimes, kept in a file. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "dnssec/dnssec.h"
#include "dnssec/dnssec_int.h"

struct dnssec_ntas {
	pthread_rwlock_t lock;
	_Atomic size_t n;          /* read without the lock: 0 means nothing to look at */
	struct dnssec_nta *v;      /* under lock */
	size_t cap;
};

struct dnssec_ntas *
dnssec_ntas_new(void)
{
	struct dnssec_ntas *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		return NULL;
	}
	if (pthread_rwlock_init(&s->lock, NULL) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

void
dnssec_ntas_free(struct dnssec_ntas *s)
{
	if (s == NULL) {
		return;
	}
	pthread_rwlock_destroy(&s->lock);
	free(s->v);
	free(s);
}

/* Index of exactly name, or -1.  Under lock. */
static ssize_t
nta_find(const struct dnssec_ntas *s, const uint8_t *name)
{
	size_t n = atomic_load_explicit(&s->n, memory_order_relaxed);
	for (size_t i = 0; i < n; i++) {
		if (dns_name_eq(s->v[i].name, name)) {
			return (ssize_t)i;
		}
	}
	return -1;
}

/* Makes room for one more entry.  Under the write lock. */
static int
nta_grow(struct dnssec_ntas *s, size_t want)
{
	if (want > DNSSEC_NTA_MAX) {
		return TDNS_ERANGE;
	}
	if (want <= s->cap) {
		return TDNS_OK;
	}
	size_t cap = s->cap ? s->cap * 2 : 8;
	while (cap < want) {
		cap *= 2;
	}
	struct dnssec_nta *v = realloc(s->v, cap * sizeof(*v));
	if (v == NULL) {
		return TDNS_ENOMEM;
	}
	s->v = v;
	s->cap = cap;
	return TDNS_OK;
}

/* Removes entry i.  Under the write lock. */
static void
nta_drop(struct dnssec_ntas *s, size_t i)
{
	size_t n = atomic_load_explicit(&s->n, memory_order_relaxed);
	s->v[i] = s->v[n - 1];
	atomic_store_explicit(&s->n, n - 1, memory_order_release);
}

/* Adds or renews an entry.  Under the write lock. */
static int
nta_put(struct dnssec_ntas *s, const uint8_t *name, int64_t added, int64_t expires)
{
	ssize_t i = nta_find(s, name);
	if (i >= 0) {
		if (!s->v[i].config) {
			s->v[i].added = added;
			s->v[i].expires = expires;
		}
		return TDNS_OK;
	}
	size_t n = atomic_load_explicit(&s->n, memory_order_relaxed);
	int rc = nta_grow(s, n + 1);
	if (rc != TDNS_OK) {
		return rc;
	}
	struct dnssec_nta *e = &s->v[n];
	memset(e, 0, sizeof(*e));
	memcpy(e->name, name, dns_name_len(name));
	dns_name_lower(e->name);
	e->added = added;
	e->expires = expires;
	atomic_store_explicit(&s->n, n + 1, memory_order_release);
	return TDNS_OK;
}

int
dnssec_ntas_add(struct dnssec_ntas *s, const uint8_t *name, int64_t lifetime, int64_t now)
{
	if (lifetime < 1 || lifetime > DNSSEC_NTA_LIFETIME_MAX) {
		return TDNS_EINVAL;
	}
	pthread_rwlock_wrlock(&s->lock);
	int rc = nta_put(s, name, now, now + lifetime);
	pthread_rwlock_unlock(&s->lock);
	return rc;
}

int
dnssec_ntas_set_config(struct dnssec_ntas *s, const uint8_t *const *names, size_t n)
{
	pthread_rwlock_wrlock(&s->lock);
	/* Room first, so that a failure changes nothing. */
	size_t have = atomic_load_explicit(&s->n, memory_order_relaxed);
	int rc = nta_grow(s, have + n);
	if (rc == TDNS_OK) {
		for (size_t i = have; i-- > 0;) {
			if (s->v[i].config) {
				nta_drop(s, i);
			}
		}
		for (size_t i = 0; i < n; i++) {
			ssize_t j = nta_find(s, names[i]);
			if (j >= 0) {
				s->v[j].config = true;
				s->v[j].expires = 0;
				continue;
			}
			(void)nta_put(s, names[i], 0, 0); /* room was made above */
			s->v[atomic_load_explicit(&s->n, memory_order_relaxed) - 1].config = true;
		}
	}
	pthread_rwlock_unlock(&s->lock);
	return rc;
}

int
dnssec_ntas_remove(struct dnssec_ntas *s, const uint8_t *name)
{
	pthread_rwlock_wrlock(&s->lock);
	ssize_t i = nta_find(s, name);
	if (i >= 0) {
		nta_drop(s, (size_t)i);
	}
	pthread_rwlock_unlock(&s->lock);
	return i >= 0 ? TDNS_OK : TDNS_ENOENT;
}

/* True when e is in force at now. */
static bool
nta_live(const struct dnssec_nta *e, int64_t now)
{
	return e->config || e->expires > now;
}

size_t
dnssec_ntas_expire(struct dnssec_ntas *s, int64_t now)
{
	size_t gone = 0;
	pthread_rwlock_wrlock(&s->lock);
	for (size_t i = atomic_load_explicit(&s->n, memory_order_relaxed); i-- > 0;) {
		if (!nta_live(&s->v[i], now)) {
			nta_drop(s, i);
			gone++;
		}
	}
	pthread_rwlock_unlock(&s->lock);
	return gone;
}

static int
nta_cmp(const void *a, const void *b)
{
	return dns_name_cmp(((const struct dnssec_nta *)a)->name,
			    ((const struct dnssec_nta *)b)->name);
}

struct dnssec_nta *
dnssec_ntas_list(const struct dnssec_ntas *s, int64_t now, size_t *n)
{
	struct dnssec_ntas *w = (struct dnssec_ntas *)s; /* the lock is not part of the value */
	*n = 0;
	pthread_rwlock_rdlock(&w->lock);
	size_t have = atomic_load_explicit(&s->n, memory_order_relaxed);
	struct dnssec_nta *out = have > 0 ? malloc(have * sizeof(*out)) : NULL;
	if (have > 0 && out == NULL) {
		*n = (size_t)-1;
	}
	for (size_t i = 0; out != NULL && i < have; i++) {
		if (nta_live(&s->v[i], now)) {
			out[(*n)++] = s->v[i];
		}
	}
	pthread_rwlock_unlock(&w->lock);
	if (out != NULL && *n == 0) {
		free(out);
		return NULL;
	}
	if (out != NULL) {
		qsort(out, *n, sizeof(*out), nta_cmp);
	}
	return out;
}

bool
dnssec_ntas_covers(const struct dnssec_ntas *s, const uint8_t *wire_name, int64_t now)
{
	if (s == NULL || atomic_load_explicit(&s->n, memory_order_acquire) == 0) {
		return false;
	}
	struct dnssec_ntas *w = (struct dnssec_ntas *)s;
	bool hit = false;
	pthread_rwlock_rdlock(&w->lock);
	size_t have = atomic_load_explicit(&s->n, memory_order_relaxed);
	for (size_t i = 0; i < have && !hit; i++) {
		hit = nta_live(&s->v[i], now) && dns_name_is_sub(wire_name, s->v[i].name);
	}
	pthread_rwlock_unlock(&w->lock);
	return hit;
}

int
dnssec_ntas_save(const struct dnssec_ntas *s, const char *path, int64_t now)
{
	size_t n;
	struct dnssec_nta *v = dnssec_ntas_list(s, now, &n);
	if (n == (size_t)-1) {
		return TDNS_ENOMEM;
	}
	int rc = TDNS_ENOMEM;
	json_t *arr = json_array();
	json_t *doc = json_pack("{s:i, s:o}", "version", 1, "ntas", arr);
	if (doc == NULL) {
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (v[i].config) {
			continue;
		}
		char text[DNS_NAME_TEXT_MAX];
		if (dns_name_to_text(v[i].name, text, sizeof(text)) < 0 ||
		    json_array_append_new(arr, json_pack("{s:s, s:I, s:I}", "name", text, "added",
							 (json_int_t)v[i].added, "expires",
							 (json_int_t)v[i].expires)) != 0) {
			goto out;
		}
	}
	rc = dnssec_state_save(path, doc);
out:
	json_decref(doc);
	free(v);
	return rc;
}

int
dnssec_ntas_load(struct dnssec_ntas *s, const char *path, int64_t now, char *err, size_t errlen)
{
	json_t *doc;
	int rc = dnssec_state_load(path, &doc, err, errlen);
	if (rc != TDNS_OK || doc == NULL) {
		return rc;
	}
	json_t *arr = json_object_get(doc, "ntas");
	if (!json_is_array(arr)) {
		snprintf(err, errlen, "%s: no \"ntas\" array", path);
		rc = TDNS_EMALFORMED;
		goto out;
	}
	size_t i;
	json_t *e;
	json_array_foreach(arr, i, e) {
		const char *name = json_string_value(json_object_get(e, "name"));
		json_t *added = json_object_get(e, "added"), *expires = json_object_get(e, "expires");
		uint8_t wire[DNS_NAME_MAX];
		if (name == NULL || !json_is_integer(added) || !json_is_integer(expires) ||
		    dns_name_from_text(name, strlen(name), NULL, wire) < 0) {
			snprintf(err, errlen, "%s: entry %zu is not {\"name\": \"NAME.\", \"added\": "
				 "T, \"expires\": T}", path, i + 1);
			rc = TDNS_EMALFORMED;
			goto out;
		}
		if (json_integer_value(expires) <= now) {
			continue;
		}
		pthread_rwlock_wrlock(&s->lock);
		rc = nta_put(s, wire, json_integer_value(added), json_integer_value(expires));
		pthread_rwlock_unlock(&s->lock);
		if (rc != TDNS_OK) {
			snprintf(err, errlen, "%s: %s", path, tdns_status_msg(rc));
			goto out;
		}
	}
out:
	json_decref(doc);
	return rc;
}
