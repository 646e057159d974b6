/* SPDX-License-Identifier: MIT */
/* libFuzzer target: arbitrary text through the zone-file reader with origin example.com. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dns/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checks what the reader hands out, so a bad owner or rdata length shows up under ASan. */
static int
check_rr(void *ctx, const struct dns_zf_rr *rr)
{
	size_t *n = ctx;
	size_t olen = dns_name_len(rr->owner);
	if (olen == 0 || olen > DNS_NAME_MAX || rr->rdlen > DNS_RDATA_MAX ||
	    rr->rclass != DNS_CLASS_IN) {
		__builtin_trap();
	}
	/* Touch every byte of the rdata and round-trip it through the text form. */
	char text[4 * DNS_RDATA_MAX + 64];
	(void)dns_rdata_to_text(rr->type, rr->rdata, rr->rdlen, text, sizeof(text));
	(*n)++;
	return TDNS_OK;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t origin[] = { 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e',
					  3, 'c', 'o', 'm', 0 };
	struct dns_zf_error err;
	size_t n = 0;

	int rc = dns_zonefile_read_mem((const char *)data, size, "fuzz.zone", origin, 3600,
				       check_rr, &n, &err);
	if (rc != TDNS_OK) {
		/* Every failure must say where and why. */
		if (err.msg[0] == '\0' || strncmp(err.msg, "fuzz.zone:", 10) != 0) {
			__builtin_trap();
		}
	}
	return 0;
}
