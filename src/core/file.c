/* SPDX-License-Identifier: MIT */
/* File helpers for durable writes: whole writes and directory fsync after a rename. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"

bool
tdns_write_all(int fd, const void *mem, size_t n)
{
	const uint8_t *p = mem;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR) {
			continue;
		}
		if (w <= 0) {
			return false;
		}
		p += w;
		n -= (size_t)w;
	}
	return true;
}

int
tdns_fsync_parent(const char *path)
{
	char *dir = strdup(path);
	if (dir == NULL) {
		return TDNS_ENOMEM;
	}
	char *slash = strrchr(dir, '/');
	if (slash == NULL) {
		strcpy(dir, ".");
	} else if (slash == dir) {
		dir[1] = '\0';
	} else {
		*slash = '\0';
	}
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int saved = errno;
	free(dir);
	if (fd < 0) {
		errno = saved;
		return TDNS_EIO;
	}
	/* A rename is durable only once the directory entry is on disk. */
	int rc = fsync(fd) == 0 ? TDNS_OK : TDNS_EIO;
	saved = errno;
	close(fd);
	errno = saved; /* fsync's reason, not close's */
	return rc;
}

int
tdns_file_replace(const char *path, const void *data, size_t len, unsigned mode)
{
	size_t plen = strlen(path);
	char *tmp = malloc(plen + 5);
	if (tmp == NULL) {
		return TDNS_ENOMEM;
	}
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".tmp", 5);
	int rc = TDNS_EIO;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);
	if (fd >= 0) {
		bool ok = tdns_write_all(fd, data, len) && fsync(fd) == 0;
		ok = close(fd) == 0 && ok;
		if (ok && rename(tmp, path) == 0) {
			rc = tdns_fsync_parent(path);
		} else {
			int saved = errno;
			unlink(tmp);
			errno = saved;
		}
	}
	free(tmp);
	return rc;
}
