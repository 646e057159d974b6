/* SPDX-License-Identifier: MIT */
/* libFuzzer target: arbitrary text through the trust anchor file reader, then the anchors used. */
#include <stdlib.h>
#include <string.h>

#include "dnssec/dnssec.h"
#include "fuzz.h"

/* Every anchor of a set splits as its type. */
static void
check_set(const struct dnssec_anchor_set *set)
{
	for (size_t i = 0; i < set->nds; i++) {
		struct dnssec_ds d;
		require(dnssec_ds_parse(set->ds[i].rd, set->ds[i].len, &d) == TDNS_OK);
	}
	for (size_t i = 0; i < set->nkeys; i++) {
		struct dnssec_dnskey k;
		require(dnssec_dnskey_parse(set->keys[i].rd, set->keys[i].len, &k) == TDNS_OK);
	}
}

/*
 * The reader must accept or refuse with a "name:line: " message; what it accepts must be
 * found again by the closest-anchor lookup, and authenticating a DNSKEY RRset made of the
 * anchor keys (without signatures) must end in a verdict within the budget.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dnssec_anchors *a = dnssec_anchors_new();
	require(a != NULL);
	struct dns_zf_error err;
	int rc = dnssec_anchors_load_mem(a, (const char *)data, size, "fuzz", &err);
	if (rc != TDNS_OK) {
		require(rc == TDNS_EZONEFILE || rc == TDNS_EINVAL || rc == TDNS_EBADRDATA);
		require(strncmp(err.msg, "fuzz:", 5) == 0);
	}
	struct dnssec_anchor_set set;
	static const uint8_t below[] = { 1, 'x', 4, 't', 'e', 's', 't', 0 };
	if (dnssec_anchors_closest(a, below, &set)) {
		require(dns_name_is_sub(below, set.owner));
		require(set.nds + set.nkeys > 0);
		check_set(&set);
		struct dnssec_rrset keys = { set.owner, DNS_TYPE_DNSKEY, DNS_CLASS_IN, set.keys,
					     set.nkeys };
		struct dnssec_budget b;
		dnssec_budget_init(&b, 4, 0);
		struct dnssec_keyset_verdict v;
		enum dnssec_security s = dnssec_keyset_verify(&keys, NULL, 0, set.ds, set.nds,
							      set.keys, set.nkeys, 1893456000u, 300,
							      &b, &v);
		require(s != DNSSEC_SECURE && s == v.security && b.verify_used <= b.verify_max);
	}
	require(dnssec_anchors_add_root(a) == TDNS_OK);
	require(dnssec_anchors_closest(a, below, &set));
	check_set(&set);
	dnssec_anchors_free(a);
	return 0;
}
