/* SPDX-License-Identifier: MIT */
/* block store: the last good copy of each downloaded list and its metadata in the state dir. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "block/block.h"

bool
block_source_is_url(const char *source)
{
	return strncasecmp(source, "http://", 7) == 0 || strncasecmp(source, "https://", 8) == 0;
}

char *
block_store_path(const char *state_dir, const char *url, const char *ext)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	char hex[33];
	if (EVP_Digest(url, strlen(url), md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen < 16) {
		/* SHA-256 is always there; should it fail, every URL shares one name (no copy). */
		memset(md, 0, sizeof(md));
	}
	for (int i = 0; i < 16; i++) {
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	}
	size_t n = strlen(state_dir) + sizeof(BLOCK_STORE_DIR) + sizeof(hex) + strlen(ext) + 4;
	char *p = tdns_xmalloc(n);
	snprintf(p, n, "%s/" BLOCK_STORE_DIR "/%s%s", state_dir, hex, ext);
	return p;
}

void
block_meta_clear(struct block_meta *m)
{
	free(m->url);
	free(m->etag);
	free(m->last_modified);
	*m = (struct block_meta){ 0 };
}

int
block_meta_parse(const char *text, size_t len, struct block_meta *m)
{
	*m = (struct block_meta){ 0 };
	size_t pos = 0;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl != NULL ? (size_t)(nl - text) : len;
		const char *line = text + pos;
		size_t llen = end - pos;
		pos = end + 1;
		if (llen == 0) {
			continue;
		}
		const char *sp = memchr(line, ' ', llen);
		if (sp == NULL || sp == line || memchr(line, '\0', llen) != NULL) {
			return TDNS_EINVAL;
		}
		size_t klen = (size_t)(sp - line);
		size_t vlen = llen - klen - 1;
		char *value = tdns_xmalloc(vlen + 1);
		memcpy(value, sp + 1, vlen);
		value[vlen] = '\0';
		char **slot = NULL;
		if (klen == 3 && memcmp(line, "url", 3) == 0) {
			slot = &m->url;
		} else if (klen == 4 && memcmp(line, "etag", 4) == 0) {
			slot = &m->etag;
		} else if (klen == 13 && memcmp(line, "last-modified", 13) == 0) {
			slot = &m->last_modified;
		} else if (klen == 7 && memcmp(line, "fetched", 7) == 0) {
			char *e;
			errno = 0;
			long long t = strtoll(value, &e, 10);
			bool bad = errno != 0 || *e != '\0' || e == value || t < 0;
			free(value);
			if (bad) {
				return TDNS_EINVAL;
			}
			m->fetched = t;
			continue;
		}
		if (slot == NULL) {
			free(value);
			continue;
		}
		free(*slot);
		*slot = value;
	}
	return TDNS_OK;
}

/* The whole file at path, NUL-terminated; NULL when it cannot be read. */
static char *
read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		return NULL;
	}
	char *text = NULL;
	size_t n = 0, cap = 0;
	for (;;) {
		if (cap - n < 4096) {
			cap = cap != 0 ? cap * 2 : 8192;
			text = tdns_xrealloc(text, cap);
		}
		size_t r = fread(text + n, 1, cap - n - 1, f);
		n += r;
		if (r == 0) {
			break;
		}
	}
	bool bad = ferror(f) != 0;
	fclose(f);
	if (bad) {
		free(text);
		return NULL;
	}
	text[n] = '\0';
	*len = n;
	return text;
}

int
block_store_load_meta(const char *state_dir, const char *url, struct block_meta *m)
{
	*m = (struct block_meta){ 0 };
	char *path = block_store_path(state_dir, url, ".meta");
	size_t len = 0;
	char *text = read_all(path, &len);
	free(path);
	if (text == NULL) {
		return TDNS_ENOENT;
	}
	int rc = block_meta_parse(text, len, m);
	free(text);
	if (rc != TDNS_OK || m->url == NULL || strcmp(m->url, url) != 0) {
		block_meta_clear(m);
		return TDNS_ENOENT;
	}
	return TDNS_OK;
}

/* Appends "key value\n" unless value is NULL or would break the line format. */
static size_t
put_line(char *out, size_t cap, size_t off, const char *key, const char *value)
{
	if (value == NULL || value[strcspn(value, "\r\n")] != '\0' || off >= cap) {
		return off;
	}
	int n = snprintf(out + off, cap - off, "%s %s\n", key, value);
	return n > 0 ? off + (size_t)n : off;
}

int
block_store_save(const char *state_dir, const char *url, const char *body, size_t len,
		 const struct block_meta *m, char *err, size_t errlen)
{
	size_t dn = strlen(state_dir) + sizeof(BLOCK_STORE_DIR) + 2;
	char *dir = tdns_xmalloc(dn);
	snprintf(dir, dn, "%s/" BLOCK_STORE_DIR, state_dir);
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
		free(dir);
		return TDNS_EIO;
	}
	free(dir);
	int rc = TDNS_OK;
	char *path = NULL;
	if (body != NULL) {
		path = block_store_path(state_dir, url, ".list");
		rc = tdns_file_replace(path, body, len, 0644);
	}
	if (rc == TDNS_OK) {
		free(path);
		path = block_store_path(state_dir, url, ".meta");
		size_t cap = strlen(url) + (m->etag ? strlen(m->etag) : 0) +
			     (m->last_modified ? strlen(m->last_modified) : 0) + 96;
		char *text = tdns_xmalloc(cap);
		size_t off = put_line(text, cap, 0, "url", url);
		off = put_line(text, cap, off, "etag", m->etag);
		off = put_line(text, cap, off, "last-modified", m->last_modified);
		off += (size_t)snprintf(text + off, cap - off, "fetched %" PRId64 "\n", m->fetched);
		rc = tdns_file_replace(path, text, off, 0644);
		free(text);
	}
	if (rc != TDNS_OK) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
	}
	free(path);
	return rc;
}
