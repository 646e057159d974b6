/* SPDX-License-Identifier: MIT */
/* net schema: the section tables of the listeners ([server], [tls], [dot], [doh]). */
#ifndef TDNS_NET_SCHEMA_H
#define TDNS_NET_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include "cfg/cfg.h"

/*
 * The tables, registered in cfg_schema (src/daemon-cfg.c).  [server] is split in two so that
 * its keys keep their documented order around the daemon's state-dir and user: listen and
 * workers, then tcp-idle-timeout, tcp-max-connections and udp-max-payload.  net_schema_doh's
 * finish callback refuses encrypted listeners without a [tls] certificate.
 */
extern const struct cfg_table net_schema_server;
extern const struct cfg_table net_schema_server_tcp;
/* identity, version and nsid (issue 14): what the server tells about itself */
extern const struct cfg_table net_schema_server_ident;
extern const struct cfg_table net_schema_tls;
extern const struct cfg_table net_schema_dot;
extern const struct cfg_table net_schema_doh;

/*
 * Checks a comma-separated list of server URLs (client_server_parse syntax); this_server
 * allows the word "this-server" alone (a forwarder zone that uses the [forwarders]).  Empty
 * lists are accepted.  TDNS_OK, or TDNS_ECONFIG with "what was wrong; expected what" in err.
 */
int net_schema_check_servers(const char *value, bool this_server, char *err, size_t errlen);

#endif
