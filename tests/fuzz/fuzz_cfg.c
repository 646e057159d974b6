/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the INI configuration loader (cfg_load: its reader, which joins the
 * continuation lines of lists, and inih). */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cfg/cfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cfg_use_schema(&cfg_schema);
	/* cfg_load reads a file: hand it an anonymous in-memory one. */
	int fd = memfd_create("fuzz.conf", 0);
	if (fd < 0) {
		return 0;
	}
	if (size > 0 && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	struct cfg *c = NULL;
	char err[1024];
	int r = cfg_load(path, &c, err, sizeof(err));
	if (r == TDNS_OK) {
		/* A loaded configuration is complete: every listen address has its text form. */
		for (size_t i = 0; i < c->nlisten; i++) {
			if (strlen(c->listen[i].text) == 0) {
				__builtin_trap();
			}
		}
	} else if (err[0] == '\0') {
		/* Every failure explains itself. */
		__builtin_trap();
	}
	cfg_free(c);
	close(fd);
	return 0;
}
