/* SPDX-License-Identifier: MIT */
/* HTTP/2 pieces shared by the DoH server (http.c) and the outgoing DoH client (outgoing.c). */
#ifndef TDNS_NET_H2_H
#define TDNS_NET_H2_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include <nghttp2/nghttp2.h>

/* One header field from a string literal name and a NUL-terminated value (copied by nghttp2). */
#define NET_H2_NV(n, v)                                                                       \
	{ (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE }

/*
 * The body of an nghttp2 data-source read callback that sends the len bytes at body: copies the
 * next at most length bytes after *sent into buf, advances *sent, and sets
 * NGHTTP2_DATA_FLAG_EOF in *data_flags once the whole body is out.  Returns the bytes copied.
 */
static inline ssize_t
net_h2_body_read(uint8_t *buf, size_t length, uint32_t *data_flags, const uint8_t *body,
		 size_t len, size_t *sent)
{
	size_t n = len - *sent;
	if (n > length) {
		n = length;
	}
	memcpy(buf, body + *sent, n);
	*sent += n;
	if (*sent == len) {
		*data_flags |= NGHTTP2_DATA_FLAG_EOF;
	}
	return (ssize_t)n;
}

#endif
