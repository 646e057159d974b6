/* SPDX-License-Identifier: MIT */
/* ctl schema: the [control] section table, and where clients find the control socket. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "cfg/cfg.h"
#include "core/core.h"
#include "ctl/ctl.h"

/* sun_path holds 108 octets with the NUL on Linux; the table's limit and message say 107. */
_Static_assert(sizeof(((struct sockaddr_un *)0)->sun_path) == 108, "sun_path size");

/* Group names as useradd(8) accepts them; the daemon looks the group up at start. */
static int
check_group(const char *value, char *err, size_t errlen)
{
	for (const char *s = value; *s != '\0'; s++) {
		bool ok = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			  (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' ||
			  (*s == '-' && s != value) || (*s == '$' && s[1] == '\0');
		if (!ok || s - value >= 32) {
			snprintf(err, errlen, "invalid control group '%s'; expected a group name "
				 "(letters, digits, '_', '.', '-'), or nothing", value);
			return TDNS_ECONFIG;
		}
	}
	return TDNS_OK;
}

static const struct cfg_key control_keys[] = {
	{
		/* Absolute because tdnsd changes to / when it detaches. */
		.key = "socket", .def = CTL_DEFAULT_SOCKET,
		.help = "Unix socket of the control protocol used by tdns-cli; absolute path",
		.type = CFG_PATH, .flags = CFG_KEY_REQUIRED, .max = 107, .what = "control socket",
		.expect = "an absolute path of at most 107 characters",
		.offset = offsetof(struct cfg, control_socket),
	},
	{
		.key = "group", .def = "",
		.help = "group whose members may use the control socket besides root and the "
			"daemon's user; empty: none",
		.type = CFG_STR, .check = check_group, .flags = CFG_KEY_EMPTY_NULL,
		.offset = offsetof(struct cfg, control_group),
	},
	{
		.key = "timeout", .def = "300",
		.help = "seconds a control connection may stay idle after its hello, and at most "
			"10 a request may take to arrive whole (1..86400)",
		.type = CFG_UINT, .min = 1, .max = 86400, .expect = "a number of seconds",
		.offset = offsetof(struct cfg, control_timeout),
	},
	{ .key = NULL },
};

const struct cfg_table ctl_schema_control = { .section = "control", .keys = control_keys };

char *
ctl_schema_socket_path(const char *sock, const char *config, char *err, size_t errlen)
{
	const char *path = sock;
	struct cfg *c = NULL;
	if (path == NULL && config != NULL) {
		if (cfg_load(config, &c, err, errlen) != TDNS_OK) {
			return NULL;
		}
		path = c->control_socket;
	} else if (path == NULL) {
		path = getenv("TDNS_SOCKET");
		path = path != NULL && path[0] == '\0' ? NULL : path;
	}
	char *p = strdup(path != NULL ? path : CTL_DEFAULT_SOCKET);
	cfg_free(c);
	if (p == NULL) {
		snprintf(err, errlen, "out of memory");
	}
	return p;
}
