/* SPDX-License-Identifier: MIT */
/* Out-of-line parts of the sticky-error buffer and cursor, and abort-on-OOM helpers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

void
tdns_buf_bytes(struct tdns_buf *b, const void *mem, size_t n)
{
	if (b->err || n > b->cap - b->len) {
		b->err = true;
		return;
	}
	if (n > 0) {
		memcpy(b->p + b->len, mem, n);
	}
	b->len += n;
}

const uint8_t *
tdns_rd_bytes(struct tdns_rd *r, size_t n)
{
	if (r->err || n > r->len - r->pos) {
		r->err = true;
		return NULL;
	}
	const uint8_t *p = r->p + r->pos;
	r->pos += n;
	return p;
}

static void
oom(void)
{
	fputs("tdns: out of memory\n", stderr);
	abort();
}

void *
tdns_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL) {
		oom();
	}
	return p;
}

void *
tdns_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (p == NULL) {
		oom();
	}
	return p;
}

void *
tdns_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (q == NULL) {
		oom();
	}
	return q;
}

char *
tdns_xstrdup(const char *s)
{
	char *p = strdup(s);
	if (p == NULL) {
		oom();
	}
	return p;
}
