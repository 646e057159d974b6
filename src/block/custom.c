/* SPDX-License-Identifier: MIT */
/* block custom: the names of `tdns-cli block|allow add|remove`, kept in the state directory. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block/block.h"

char *
block_custom_path(const char *state_dir, bool allow)
{
	size_t n = strlen(state_dir) + 40;
	char *p = tdns_xmalloc(n);
	snprintf(p, n, "%s/blocking-custom-%s.txt", state_dir, allow ? "allow" : "block");
	return p;
}

static void
count_name(void *arg, const uint8_t *name, size_t len, bool allow)
{
	(void)name;
	(void)len;
	(void)allow;
	(*(int *)arg)++;
}

/* The lines of the file at path (without line endings), NULL-terminated; missing: none. */
static char **
read_lines(const char *path)
{
	char **v = tdns_xcalloc(1, sizeof(*v));
	size_t n = 0;
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		return v;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	while ((len = getline(&line, &cap, f)) >= 0) {
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) {
			line[--len] = '\0';
		}
		if (len == 0) {
			continue;
		}
		v = tdns_xrealloc(v, (n + 2) * sizeof(*v));
		v[n++] = tdns_xstrdup(line);
		v[n] = NULL;
	}
	free(line);
	fclose(f);
	return v;
}

void
block_custom_names_free(char **names)
{
	for (size_t i = 0; names != NULL && names[i] != NULL; i++) {
		free(names[i]);
	}
	free(names);
}

char **
block_custom_names(const char *state_dir, bool allow)
{
	char *path = block_custom_path(state_dir, allow);
	char **v = read_lines(path);
	free(path);
	return v;
}

/* The names one a line, as the file holds them; *len its length.  Caller frees. */
static char *
join_lines(char *const *names, size_t *len)
{
	size_t n = 0;
	for (size_t i = 0; names[i] != NULL; i++) {
		n += strlen(names[i]) + 1;
	}
	char *text = tdns_xmalloc(n + 1), *p = text;
	for (size_t i = 0; names[i] != NULL; i++) {
		p += sprintf(p, "%s\n", names[i]);
	}
	*len = (size_t)(p - text);
	return text;
}

/* Writes names to path through a temporary file, fsynced and renamed (then the directory). */
static int
write_names(const char *path, char *const *names)
{
	size_t len;
	char *text = join_lines(names, &len);
	int rc = tdns_file_replace(path, text, len, 0644);
	free(text);
	return rc;
}

int
block_custom_edit(const char *state_dir, bool allow, bool add, const char *name, char *why,
		  size_t whylen)
{
	/* The name as a plain-list line: one valid host name, stored lower case, no dot. */
	size_t len = strlen(name);
	int count = 0;
	if (len == 0 || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			       "0123456789-_.") != len) {
		snprintf(why, whylen, "invalid name '%s'; expected a host name such as "
			 "ads.example.com", name);
		return TDNS_EINVAL;
	}
	char msg[160] = "a placeholder name of hosts files";
	if (block_parse_line(name, len, count_name, &count, msg, sizeof(msg)) != 1) {
		snprintf(why, whylen, "invalid name '%s': %s", name, msg);
		return TDNS_EINVAL;
	}
	char *canon = tdns_xstrdup(name);
	if (len > 1 && canon[len - 1] == '.') {
		canon[--len] = '\0';
	}
	for (char *s = canon; *s != '\0'; s++) {
		*s = (char)(*s >= 'A' && *s <= 'Z' ? *s - 'A' + 'a' : *s);
	}
	char *path = block_custom_path(state_dir, allow);
	char **names = read_lines(path);
	size_t n = 0, at = (size_t)-1;
	for (; names[n] != NULL; n++) {
		if (strcmp(names[n], canon) == 0) {
			at = n;
		}
	}
	int rc;
	if (add && at != (size_t)-1) {
		snprintf(why, whylen, "%s is already on the custom %s list", canon,
			 allow ? "allow" : "block");
		rc = TDNS_EEXIST;
	} else if (!add && at == (size_t)-1) {
		snprintf(why, whylen, "%s is not on the custom %s list", canon,
			 allow ? "allow" : "block");
		rc = TDNS_ENOENT;
	} else {
		if (add) {
			names = tdns_xrealloc(names, (n + 2) * sizeof(*names));
			names[n++] = canon;
			names[n] = NULL;
			canon = NULL;
		} else {
			free(names[at]);
			memmove(&names[at], &names[at + 1], (n - at) * sizeof(*names));
		}
		rc = write_names(path, names);
		if (rc != TDNS_OK) {
			snprintf(why, whylen, "cannot write %s: %s", path, strerror(errno));
		}
	}
	free(canon);
	block_custom_names_free(names);
	free(path);
	return rc;
}

int
block_custom_load(const char *state_dir, struct block_table **out)
{
	struct block_build *b = block_build_new();
	if (b == NULL) {
		return TDNS_ENOMEM;
	}
	for (int allow = 0; allow <= 1; allow++) {
		char *path = block_custom_path(state_dir, allow);
		char **names = read_lines(path);
		free(path);
		/* One text of the names, so that lines are numbered as in the file. */
		size_t len;
		char *text = join_lines(names, &len);
		int rc = block_build_add_text(b, allow ? "custom allow" : "custom block", text, len,
					      allow);
		free(text);
		block_custom_names_free(names);
		if (rc != TDNS_OK) {
			block_build_free(b);
			return rc;
		}
	}
	return block_build_finish(b, out);
}
