/* SPDX-License-Identifier: MIT */
/* Test-only fault injection: ld --wrap wrappers that fail the Nth allocation when armed. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "fault_alloc.h"

/* The real function (__real_) and this file's replacement (__wrap_) of each wrapped one. */
#define FAULT_WRAP(ret, name, params) \
	ret __real_##name params; \
	ret __wrap_##name params;
FAULT_WRAP(void *, malloc, (size_t n))
FAULT_WRAP(void *, calloc, (size_t n, size_t size))
FAULT_WRAP(void *, realloc, (void *p, size_t n))
FAULT_WRAP(char *, strdup, (const char *s))
FAULT_WRAP(struct event *, event_new, (struct event_base *base, evutil_socket_t fd, short what,
				       event_callback_fn cb, void *arg))
#undef FAULT_WRAP

/* The test is single-threaded while armed. */
static size_t fault_target; /* 0: disarmed */
static size_t fault_seen;
static bool fault_fired;

/* True when this allocation is the one to fail. */
static bool
fault_now(void)
{
	fault_seen++;
	if (fault_target != 0 && fault_seen == fault_target) {
		fault_fired = true;
		return true;
	}
	return false;
}

void
fault_alloc_arm(size_t n)
{
	fault_seen = 0;
	fault_fired = false;
	fault_target = n;
}

bool
fault_alloc_disarm(void)
{
	fault_target = 0;
	return fault_fired;
}

size_t
fault_alloc_count(void)
{
	return fault_seen;
}

void *
__wrap_malloc(size_t n)
{
	return fault_now() ? NULL : __real_malloc(n);
}

void *
__wrap_calloc(size_t n, size_t size)
{
	return fault_now() ? NULL : __real_calloc(n, size);
}

void *
__wrap_realloc(void *p, size_t n)
{
	return fault_now() ? NULL : __real_realloc(p, n);
}

char *
__wrap_strdup(const char *s)
{
	return fault_now() ? NULL : __real_strdup(s);
}

struct event *
__wrap_event_new(struct event_base *base, evutil_socket_t fd, short what, event_callback_fn cb,
		 void *arg)
{
	return fault_now() ? NULL : __real_event_new(base, fd, what, cb, arg);
}
