/* SPDX-License-Identifier: MIT */
/* Small helpers shared across folders: the monotonic clock and hex digits. */
#include <time.h>

#include "core/core.h"

int64_t
tdns_mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

long long
tdns_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
tdns_digit_value(char c, int base)
{
	int v = -1;
	if (c >= '0' && c <= '9') {
		v = c - '0';
	} else if (c >= 'a' && c <= 'z') {
		v = c - 'a' + 10;
	} else if (c >= 'A' && c <= 'Z') {
		v = c - 'A' + 10;
	}
	return v < base ? v : -1;
}

int
tdns_hex_value(char c)
{
	return tdns_digit_value(c, 16);
}
