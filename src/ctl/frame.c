/* SPDX-License-Identifier: MIT */
/* Control protocol framing: a 4-byte big-endian length, then one compact JSON object. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctl/ctl.h"

int
ctl_frame_encode(const json_t *doc, uint8_t **out, size_t *outlen)
{
	*out = NULL;
	*outlen = 0;
	/* JSON_COMPACT keeps frames small; object order is kept so output is reproducible. */
	char *text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (text == NULL) {
		return TDNS_ENOMEM;
	}
	size_t len = strlen(text);
	if (len > CTL_FRAME_MAX) {
		free(text);
		return TDNS_ERANGE;
	}
	uint8_t *frame = malloc(4 + len);
	if (frame == NULL) {
		free(text);
		return TDNS_ENOMEM;
	}
	tdns_put32(frame, (uint32_t)len);
	memcpy(frame + 4, text, len);
	free(text);
	*out = frame;
	*outlen = 4 + len;
	return TDNS_OK;
}

int
ctl_frame_decode(const uint8_t *payload, size_t len, json_t **out, char *err, size_t errlen)
{
	*out = NULL;
	json_error_t je;
	/* Duplicate members would let two readers of one request see different arguments. */
	json_t *doc = json_loadb((const char *)payload, len, JSON_REJECT_DUPLICATES, &je);
	if (doc == NULL) {
		snprintf(err, errlen, "malformed JSON at offset %d: %s", je.position, je.text);
		return TDNS_EMALFORMED;
	}
	if (!json_is_object(doc)) {
		json_decref(doc);
		snprintf(err, errlen, "a frame must hold a JSON object");
		return TDNS_EMALFORMED;
	}
	*out = doc;
	return TDNS_OK;
}

int
ctl_frame_send(int fd, const json_t *doc)
{
	uint8_t *frame;
	size_t len;
	if (ctl_frame_encode(doc, &frame, &len) != TDNS_OK) {
		return TDNS_EIO;
	}
	size_t off = 0;
	int rc = TDNS_OK;
	while (off < len) {
		/* A peer that hung up is an error to report (EPIPE), not a SIGPIPE to die of. */
		ssize_t n = send(fd, frame + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == ENOTSOCK) {
			n = write(fd, frame + off, len - off);
		}
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			rc = TDNS_EIO;
			break;
		}
		off += (size_t)n;
	}
	free(frame);
	return rc;
}

/*
 * Reads exactly len bytes, waiting until deadline (< 0: forever).  TDNS_OK, TDNS_EAGAIN on
 * timeout, TDNS_EIO on error or end of stream (message in err).
 */
static int
read_full(int fd, uint8_t *buf, size_t len, long long deadline, char *err, size_t errlen)
{
	size_t off = 0;
	while (off < len) {
		int wait = -1;
		if (deadline >= 0) {
			long long left = deadline - tdns_mono_ms();
			if (left <= 0) {
				snprintf(err, errlen, "timed out waiting for the reply");
				return TDNS_EAGAIN;
			}
			wait = left > 1000000 ? 1000000 : (int)left;
		}
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r = poll(&p, 1, wait);
		if (r < 0) {
			if (errno == EINTR) {
				continue;
			}
			snprintf(err, errlen, "poll: %s", strerror(errno));
			return TDNS_EIO;
		}
		if (r == 0) {
			continue; /* the deadline check above reports the timeout */
		}
		ssize_t n = read(fd, buf + off, len - off);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				continue;
			}
			snprintf(err, errlen, "read: %s", strerror(errno));
			return TDNS_EIO;
		}
		if (n == 0) {
			snprintf(err, errlen, "connection closed by the daemon");
			return TDNS_EIO;
		}
		off += (size_t)n;
	}
	return TDNS_OK;
}

int
ctl_frame_recv(int fd, json_t **out, int timeout_ms, char *err, size_t errlen)
{
	*out = NULL;
	long long deadline = timeout_ms < 0 ? -1 : tdns_mono_ms() + timeout_ms;
	uint8_t hdr[4];
	int rc = read_full(fd, hdr, sizeof(hdr), deadline, err, errlen);
	if (rc != TDNS_OK) {
		return rc;
	}
	uint32_t len = tdns_get32(hdr);
	/* Checked before allocating: a hostile length must not make us reserve 4 GiB. */
	if (len > CTL_FRAME_MAX) {
		snprintf(err, errlen, "frame of %u bytes exceeds the limit of %u", len,
			 CTL_FRAME_MAX);
		return TDNS_ERANGE;
	}
	uint8_t *payload = malloc(len ? len : 1);
	if (payload == NULL) {
		snprintf(err, errlen, "out of memory");
		return TDNS_EIO;
	}
	rc = read_full(fd, payload, len, deadline, err, errlen);
	if (rc == TDNS_OK) {
		rc = ctl_frame_decode(payload, len, out, err, errlen);
	}
	free(payload);
	return rc;
}

json_t *
ctl_reply_ok(json_t *data)
{
	json_t *r = json_object();
	if (r == NULL) {
		json_decref(data);
		return NULL;
	}
	json_object_set_new(r, "ok", json_true());
	json_object_set_new(r, "data", data != NULL ? data : json_null());
	return r;
}

json_t *
ctl_reply_error(int status, const char *msg)
{
	json_t *r = json_pack("{s:b, s:{s:s, s:s}}", "ok", 0, "error", "id",
			      tdns_status_id(status), "message", msg != NULL ? msg
									: tdns_status_msg(status));
	return r;
}
