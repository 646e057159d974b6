/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the block list parser (hosts, plain names, Adblock rules), lookup and the
 * metadata of downloaded lists (block_meta_parse). */
#include <string.h>

#include "block/block.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The last name of a line, as the parser gives it. */
struct first {
	uint8_t name[DNS_NAME_MAX];
	size_t len;
};

static void
first_name(void *arg, const uint8_t *name, size_t len, bool allow)
{
	(void)allow;
	struct first *f = arg;
	memcpy(f->name, name, len);
	f->len = len;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool quiet;
	if (!quiet) {
		/* Malformed lines are logged; keep the fuzzer's output readable. */
		tdns_log_init(true, TDNS_LOG_ERR);
		quiet = true;
	}
	/* The same bytes as the metadata file of a downloaded list, read back at start. */
	struct block_meta m;
	int mrc = block_meta_parse((const char *)data, size, &m);
	if (mrc != TDNS_OK && mrc != TDNS_EINVAL) {
		__builtin_trap();
	}
	block_meta_clear(&m);
	struct block_build *b = block_build_new();
	if (b == NULL) {
		return 0;
	}
	if (block_build_add_text(b, "fuzz", (const char *)data, size, false) != TDNS_OK) {
		block_build_free(b);
		return 0;
	}
	struct block_table *t = NULL;
	if (block_build_finish(b, &t) != TDNS_OK) {
		return 0;
	}
	size_t n;
	const struct block_list_info *li = block_table_lists(t, &n);
	/* Every distinct name came from a line; nothing is counted that was not parsed. */
	if (n != 1 || block_table_count(t, false) + block_table_count(t, true) > li[0].names) {
		__builtin_trap();
	}
	/* The names of the first line must then be found, blocked or allowed. */
	const char *nl = memchr(data, '\n', size);
	size_t len = nl != NULL ? (size_t)(nl - (const char *)data) : size;
	struct first f = { { 0 }, 0 };
	char why[160];
	if (block_parse_line((const char *)data, len, first_name, &f, why, sizeof(why)) > 0 &&
	    block_lookup((const struct block_table *const *)&t, 1, f.name, NULL) == BLOCK_NONE) {
		__builtin_trap();
	}
	block_table_unref(t);
	return 0;
}
