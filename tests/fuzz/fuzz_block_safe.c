/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the safe-search table parser (src/block/safe.c) and its lookup. */
#include <string.h>

#include "block/block.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct block_safe *s = NULL;
	char err[512];
	int rc = block_safe_parse("fuzz", (const char *)data, size, &s, err, sizeof(err));
	if (rc != TDNS_OK) {
		/* Every refusal says where: the name and a line, or out of memory. */
		if (s != NULL || (rc == TDNS_ECONFIG && strncmp(err, "fuzz:", 5) != 0)) {
			__builtin_trap();
		}
		return 0;
	}
	/* The first word of the first line, when it is an exact name, must be found. */
	size_t end = 0;
	while (end < size && data[end] != ' ' && data[end] != '\t' && data[end] != '\n' &&
	       data[end] != '#') {
		end++;
	}
	uint8_t wire[DNS_NAME_MAX];
	char why[128];
	if (end > 0 && data[0] != '*' &&
	    block_parse_name((const char *)data, end, wire, why, sizeof(why)) > 0) {
		const uint8_t *t = block_safe_lookup(s, wire, NULL);
		/* Its endpoint is never itself rewritten (that would loop). */
		if (t == NULL || block_safe_lookup(s, t, NULL) != NULL) {
			__builtin_trap();
		}
	}
	block_safe_unref(s);
	return 0;
}
