/* SPDX-License-Identifier: MIT */
/* What every libFuzzer target here shares: its entry point and the property check. */
#ifndef TDNS_TESTS_FUZZ_H
#define TDNS_TESTS_FUZZ_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property that must hold for every input; a violation is a bug, so crash loudly. */
#define require(cond) fuzz_require_at((cond), #cond, __FILE__, __LINE__)

/* Prints "file.c:LINE: property violated: what" and aborts unless cond holds. */
static inline void
fuzz_require_at(bool cond, const char *what, const char *file, int line)
{
	if (!cond) {
		const char *slash = strrchr(file, '/');
		fprintf(stderr, "%s:%d: property violated: %s\n", slash != NULL ? slash + 1 : file,
			line, what);
		abort();
	}
}

#endif
