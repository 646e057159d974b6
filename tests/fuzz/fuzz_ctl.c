/* SPDX-License-Identifier: MIT */
/* libFuzzer target for control messages: frame payload decoding and request validation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* What tdnsd's control server does with one frame, short of running the handler. */
	json_t *doc = NULL;
	char err[1024];
	if (ctl_frame_decode(data, size, &doc, err, sizeof(err)) != TDNS_OK) {
		if (err[0] == '\0') {
			__builtin_trap(); /* every refusal explains itself */
		}
		return 0;
	}
	const json_t *jcmd = json_object_get(doc, "command");
	const json_t *args = json_object_get(doc, "args");
	if (json_is_string(jcmd) && (args == NULL || json_is_object(args))) {
		const struct ctl_cmd *cmd = ctl_cmd_find(json_string_value(jcmd));
		json_t *empty = args == NULL ? json_object() : NULL;
		if (cmd != NULL) {
			err[0] = '\0';
			int r = ctl_cmd_check_args(cmd, args != NULL ? args : empty, err, sizeof(err));
			if (r != TDNS_OK && err[0] == '\0') {
				__builtin_trap();
			}
		}
		json_decref(empty);
	}
	/* The reply path: whatever was decoded can be framed again. */
	uint8_t *frame = NULL;
	size_t flen = 0;
	if (ctl_frame_encode(doc, &frame, &flen) == TDNS_OK) {
		json_t *again = NULL;
		if (flen < 4 || ctl_frame_decode(frame + 4, flen - 4, &again, err, sizeof(err)) !=
					TDNS_OK || !json_equal(doc, again)) {
			__builtin_trap();
		}
		json_decref(again);
	}
	free(frame);
	json_decref(doc);
	return 0;
}
