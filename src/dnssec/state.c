/* SPDX-License-Identifier: MIT */
/* The state files of src/dnssec (NTAs, RFC 5011): JSON read, and written durably. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnssec/dnssec.h"
#include "dnssec/dnssec_int.h"

int
dnssec_state_load(const char *path, json_t **out, char *err, size_t errlen)
{
	*out = NULL;
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		if (errno == ENOENT) {
			return TDNS_OK;
		}
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return TDNS_EIO;
	}
	json_error_t je;
	*out = json_loadf(f, 0, &je);
	fclose(f);
	if (*out == NULL) {
		snprintf(err, errlen, "%s:%d: %s", path, je.line, je.text);
		return TDNS_EMALFORMED;
	}
	return TDNS_OK;
}

int
dnssec_state_save(const char *path, const json_t *doc)
{
	char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (text == NULL) {
		return TDNS_ENOMEM;
	}
	size_t len = strlen(text);
	text[len] = '\n'; /* json_dumps ends with the NUL, which the file does not need */
	int rc = tdns_file_replace(path, text, len + 1, 0640);
	free(text);
	return rc;
}
