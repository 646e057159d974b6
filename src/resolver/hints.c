/* SPDX-License-Identifier: MIT */
/* Root hints: the built-in copy of IANA's named.root and the reader of hints files. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "resolver/resolver.h"

/*
 * IANA's named.root (https://www.internic.net/domain/named.root), last update April 18, 2024,
 * related version of the root zone 2024041801.  Only the records; the comments are dropped.
 * RFC 8109 §3: the hints only need to reach one root server, whose NS set (the priming
 * answer) is authoritative from then on.
 */
const char resolver_hints_builtin[] =
	". 3600000 NS A.ROOT-SERVERS.NET.\n"
	"A.ROOT-SERVERS.NET. 3600000 A 198.41.0.4\n"
	"A.ROOT-SERVERS.NET. 3600000 AAAA 2001:503:ba3e::2:30\n"
	". 3600000 NS B.ROOT-SERVERS.NET.\n"
	"B.ROOT-SERVERS.NET. 3600000 A 170.247.170.2\n"
	"B.ROOT-SERVERS.NET. 3600000 AAAA 2801:1b8:10::b\n"
	". 3600000 NS C.ROOT-SERVERS.NET.\n"
	"C.ROOT-SERVERS.NET. 3600000 A 192.33.4.12\n"
	"C.ROOT-SERVERS.NET. 3600000 AAAA 2001:500:2::c\n"
	". 3600000 NS D.ROOT-SERVERS.NET.\n"
	"D.ROOT-SERVERS.NET. 3600000 A 199.7.91.13\n"
	"D.ROOT-SERVERS.NET. 3600000 AAAA 2001:500:2d::d\n"
	". 3600000 NS E.ROOT-SERVERS.NET.\n"
	"E.ROOT-SERVERS.NET. 3600000 A 192.203.230.10\n"
	"E.ROOT-SERVERS.NET. 3600000 AAAA 2001:500:a8::e\n"
	". 3600000 NS F.ROOT-SERVERS.NET.\n"
	"F.ROOT-SERVERS.NET. 3600000 A 192.5.5.241\n"
	"F.ROOT-SERVERS.NET. 3600000 AAAA 2001:500:2f::f\n"
	". 3600000 NS G.ROOT-SERVERS.NET.\n"
	"G.ROOT-SERVERS.NET. 3600000 A 192.112.36.4\n"
	"G.ROOT-SERVERS.NET. 3600000 AAAA 2001:500:12::d0d\n"
	". 3600000 NS H.ROOT-SERVERS.NET.\n"
	"H.ROOT-SERVERS.NET. 3600000 A 198.97.190.53\n"
	"H.ROOT-SERVERS.NET. 3600000 AAAA 2001:500:1::53\n"
	". 3600000 NS I.ROOT-SERVERS.NET.\n"
	"I.ROOT-SERVERS.NET. 3600000 A 192.36.148.17\n"
	"I.ROOT-SERVERS.NET. 3600000 AAAA 2001:7fe::53\n"
	". 3600000 NS J.ROOT-SERVERS.NET.\n"
	"J.ROOT-SERVERS.NET. 3600000 A 192.58.128.30\n"
	"J.ROOT-SERVERS.NET. 3600000 AAAA 2001:503:c27::2:30\n"
	". 3600000 NS K.ROOT-SERVERS.NET.\n"
	"K.ROOT-SERVERS.NET. 3600000 A 193.0.14.129\n"
	"K.ROOT-SERVERS.NET. 3600000 AAAA 2001:7fd::1\n"
	". 3600000 NS L.ROOT-SERVERS.NET.\n"
	"L.ROOT-SERVERS.NET. 3600000 A 199.7.83.42\n"
	"L.ROOT-SERVERS.NET. 3600000 AAAA 2001:500:9f::42\n"
	". 3600000 NS M.ROOT-SERVERS.NET.\n"
	"M.ROOT-SERVERS.NET. 3600000 A 202.12.27.33\n"
	"M.ROOT-SERVERS.NET. 3600000 AAAA 2001:dc3::35\n"
;

struct hints_ctx {
	struct resolver_hints *h;
	/* Addresses read before their NS record: named.root lists each NS before its addresses,
	 * but nothing requires it, so every A/AAAA is kept until the end. */
	struct {
		uint8_t name[DNS_NAME_MAX];
		struct resolver_addr addr;
	} pend[RESOLVER_HINTS_MAX_NS * RESOLVER_HINTS_MAX_ADDR * 2];
	size_t npend;
	char msg[256];
};

static int
hints_rr(void *arg, const struct dns_zf_rr *rr)
{
	struct hints_ctx *x = arg;
	struct resolver_hints *h = x->h;
	char tbuf[16];
	if (rr->rclass != DNS_CLASS_IN) {
		snprintf(x->msg, sizeof(x->msg), "class %s in root hints; expected IN",
			 dns_class_to_text(rr->rclass, tbuf));
		return TDNS_ECONFIG;
	}
	switch (rr->type) {
	case DNS_TYPE_NS: {
		if (rr->owner[0] != 0) {
			snprintf(x->msg, sizeof(x->msg), "NS record of a name other than the "
				 "root in root hints; expected NS records of \".\"");
			return TDNS_ECONFIG;
		}
		for (size_t i = 0; i < h->nns; i++) {
			if (dns_name_eq(h->ns[i].name, rr->rdata)) {
				return TDNS_OK;
			}
		}
		if (h->nns < RESOLVER_HINTS_MAX_NS) {
			memcpy(h->ns[h->nns].name, rr->rdata, dns_name_len(rr->rdata));
			h->ns[h->nns].naddr = 0;
			h->nns++;
		}
		return TDNS_OK;
	}
	case DNS_TYPE_A:
	case DNS_TYPE_AAAA:
		if (x->npend < sizeof(x->pend) / sizeof(x->pend[0])) {
			memcpy(x->pend[x->npend].name, rr->owner, dns_name_len(rr->owner));
			x->pend[x->npend].addr.family =
				(uint8_t)(rr->type == DNS_TYPE_A ? AF_INET : AF_INET6);
			memset(x->pend[x->npend].addr.ip, 0, 16);
			memcpy(x->pend[x->npend].addr.ip, rr->rdata,
			       rr->rdlen > 16 ? 16 : rr->rdlen);
			x->npend++;
		}
		return TDNS_OK;
	default:
		snprintf(x->msg, sizeof(x->msg), "record of type %s in root hints; expected NS "
			 "records of the root and A or AAAA records of the servers",
			 dns_type_to_text(rr->type, tbuf));
		return TDNS_ECONFIG;
	}
}

int
resolver_hints_load(const char *path, struct resolver_hints *h, char *err, size_t errlen)
{
	memset(h, 0, sizeof(*h));
	struct hints_ctx *x = calloc(1, sizeof(*x));
	if (x == NULL) {
		snprintf(err, errlen, "out of memory");
		return TDNS_ENOMEM;
	}
	x->h = h;
	struct dns_zf_error zerr;
	memset(&zerr, 0, sizeof(zerr));
	const uint8_t root[1] = { 0 };
	bool builtin = path == NULL || path[0] == '\0';
	const char *name = builtin ? "built-in root hints" : path;
	/* The TTL does not matter: hints never expire (RFC 8109 §2: they find a root server). */
	int rc = builtin ? dns_zonefile_read_mem(resolver_hints_builtin,
						 strlen(resolver_hints_builtin), name, root,
						 3600000, hints_rr, x, &zerr)
			 : dns_zonefile_read(path, root, 3600000, hints_rr, x, &zerr);
	if (rc != TDNS_OK) {
		if (x->msg[0] != '\0') {
			snprintf(err, errlen, "%s:%u: %s", zerr.file[0] ? zerr.file : name,
				 zerr.line, x->msg);
		} else {
			/* The reader's message carries its own file:line. */
			snprintf(err, errlen, "%s",
				 zerr.msg[0] ? zerr.msg : "cannot read root hints");
		}
		rc = rc == TDNS_EIO ? TDNS_EIO : TDNS_ECONFIG;
		goto out;
	}
	for (size_t i = 0; i < x->npend; i++) {
		for (size_t k = 0; k < h->nns; k++) {
			struct resolver_hints_ns *ns = &h->ns[k];
			if (dns_name_eq(ns->name, x->pend[i].name) &&
			    ns->naddr < RESOLVER_HINTS_MAX_ADDR) {
				ns->addr[ns->naddr++] = x->pend[i].addr;
			}
		}
	}
	size_t with_addr = 0;
	for (size_t k = 0; k < h->nns; k++) {
		with_addr += h->ns[k].naddr > 0;
	}
	if (h->nns == 0) {
		snprintf(err, errlen, "%s:1: no NS records for the root; expected \". NS NAME\" "
			 "lines with A or AAAA records of each NAME", name);
		rc = TDNS_ECONFIG;
	} else if (with_addr == 0) {
		snprintf(err, errlen, "%s:1: no root server has an address; expected A or AAAA "
			 "records for the names of the root NS records", name);
		rc = TDNS_ECONFIG;
	}
out:
	free(x);
	return rc;
}
