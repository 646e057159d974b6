/* SPDX-License-Identifier: MIT */
/* validate helpers: verdicts, negative trust anchors and counters (no I/O; in libtdns). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cfg/cfg.h"
#include "core/core.h"
#include "resolver/val_int.h"
#include "stats/stats.h"

/* ---- small pure helpers -------------------------------------------------------------------- */

void
val_verdict(struct cache_val *v, enum cache_sec sec, int ede, const char *fmt, ...)
{
	v->sec = (uint8_t)sec;
	v->ede = ede;
	v->text[0] = '\0';
	if (fmt != NULL) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(v->text, sizeof(v->text), fmt, ap);
		va_end(ap);
	}
}

int
val_sec_rank(enum cache_sec s)
{
	switch (s) {
	case CACHE_SEC_BOGUS:
		return 4;
	case CACHE_SEC_INDETERMINATE:
		return 3;
	case CACHE_SEC_INSECURE:
		return 2;
	case CACHE_SEC_SECURE:
		return 1;
	default:
		return 0;
	}
}

enum cache_sec
val_sec_worse(enum cache_sec a, enum cache_sec b)
{
	return val_sec_rank(a) >= val_sec_rank(b) ? a : b;
}

bool
val_next_label(const uint8_t *name, const uint8_t *base, uint8_t *out)
{
	int nl = dns_name_labels(name), bl = dns_name_labels(base);
	if (nl <= bl || !dns_name_is_sub(name, base)) {
		return false;
	}
	const uint8_t *p = name;
	for (int i = 0; i < nl - bl - 1; i++) {
		p += 1 + p[0];
	}
	memcpy(out, p, dns_name_len(p));
	return true;
}


/* ---- statistics ---------------------------------------------------------------------------- */

static struct resolver_val_stats g_stats;

void
resolver_val_stats(struct resolver_val_stats *st)
{
	st->secure = __atomic_load_n(&g_stats.secure, __ATOMIC_RELAXED);
	st->insecure = __atomic_load_n(&g_stats.insecure, __ATOMIC_RELAXED);
	st->bogus = __atomic_load_n(&g_stats.bogus, __ATOMIC_RELAXED);
	st->indeterminate = __atomic_load_n(&g_stats.indeterminate, __ATOMIC_RELAXED);
	st->verifies = __atomic_load_n(&g_stats.verifies, __ATOMIC_RELAXED);
}

void
val_stats_add_verifies(uint64_t n)
{
	__atomic_fetch_add(&g_stats.verifies, n, __ATOMIC_RELAXED);
}

void
resolver_val_count(unsigned sec)
{
	uint64_t *c = sec == CACHE_SEC_SECURE ? &g_stats.secure
		      : sec == CACHE_SEC_INSECURE ? &g_stats.insecure
		      : sec == CACHE_SEC_BOGUS ? &g_stats.bogus
		      : sec == CACHE_SEC_INDETERMINATE ? &g_stats.indeterminate : NULL;
	if (c != NULL) {
		__atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
		stats_dnssec_count(sec == CACHE_SEC_SECURE ? STATS_DNSSEC_SECURE
				   : sec == CACHE_SEC_INSECURE ? STATS_DNSSEC_INSECURE
				   : sec == CACHE_SEC_BOGUS ? STATS_DNSSEC_BOGUS
							    : STATS_DNSSEC_INDETERMINATE,
				   1);
	}
}

/* ---- negative trust anchors ------------------------------------------------------------------ */

int
resolver_nta_parse(const char *list, uint8_t (**out)[DNS_NAME_MAX], size_t *n, char *err,
		   size_t errlen)
{
	*out = NULL;
	*n = 0;
	char *copy = strdup(list != NULL ? list : "");
	if (copy == NULL) {
		snprintf(err, errlen, "out of memory");
		return TDNS_ECONFIG;
	}
	int rc = TDNS_OK;
	char *cur = copy;
	bool more = true;
	while (more) {
		char *item = cfg_list_next(&cur, &more);
		if (item[0] == '\0') {
			continue;
		}
		uint8_t name[DNS_NAME_MAX];
		if (dns_name_from_text(item, strlen(item), (const uint8_t *)"", name) < 0) {
			snprintf(err, errlen, "invalid domain name '%s'", item);
			rc = TDNS_ECONFIG;
			break;
		}
		uint8_t (*nn)[DNS_NAME_MAX] = realloc(*out, (*n + 1) * sizeof(**out));
		if (nn == NULL) {
			snprintf(err, errlen, "out of memory");
			rc = TDNS_ECONFIG;
			break;
		}
		*out = nn;
		dns_name_lower(name);
		memcpy(nn[(*n)++], name, dns_name_len(name));
	}
	free(copy);
	if (rc != TDNS_OK) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

bool
resolver_nta_covers(const struct resolver_conf *rc, const uint8_t *name)
{
	for (size_t i = 0; rc != NULL && i < rc->nnta; i++) {
		if (dns_name_is_sub(name, rc->nta[i])) {
			return true;
		}
	}
	return rc != NULL && rc->ntas != NULL &&
	       dnssec_ntas_covers(rc->ntas, name, (int64_t)time(NULL));
}

