/* SPDX-License-Identifier: MIT */
/* Test-only fault injection: fails the Nth allocation of the code under test. */
#ifndef TDNS_TESTS_FAULT_ALLOC_H
#define TDNS_TESTS_FAULT_ALLOC_H

#include <stdbool.h>
#include <stddef.h>

/*
 * fault_alloc.c wraps malloc, calloc, realloc, strdup and libevent's event_new of the objects
 * linked into a test (ld --wrap; see Makefile.am), so the daemon's code itself is unchanged.
 * Disarmed, the wrappers only count.  Armed with n, the nth allocation from then on fails
 * (returns NULL) and every other one succeeds.
 */
void fault_alloc_arm(size_t n);

/* Disarms; returns true when the armed failure happened. */
bool fault_alloc_disarm(void);

/* Allocations counted since the last fault_alloc_arm. */
size_t fault_alloc_count(void);

#endif
