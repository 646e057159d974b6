/* SPDX-License-Identifier: MIT */
/* tdns-cli: the scripting tool; this release has the offline zone-file checker. */
#include "config.h"

#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "dns/dns.h"
#include "zone/zone.h"


struct cli_cmd {
	const char *group;     /* "zone"; NULL for a top-level command */
	const char *name;
	const char *args;      /* synopsis of the arguments */
	const char *help;
	int min_args;
	int max_args;
	int (*run)(const struct cli_opts *o, int argc, char **argv);
};

static int cmd_help(const struct cli_opts *o, int argc, char **argv);
static int cmd_zone_check(const struct cli_opts *o, int argc, char **argv);
static int cmd_query(const struct cli_opts *o, int argc, char **argv);

/* The one command table: parsing, help and completion come from it. */
static const struct cli_cmd cli_cmds[] = {
	{
		.group = NULL,
		.name = "help",
		.args = "[COMMAND]",
		.help = "show the commands, or the help of one command",
		.min_args = 0,
		.max_args = 2,
		.run = cmd_help,
	},
	{
		.group = NULL,
		.name = "query",
		.args = "NAME [TYPE] [CLASS] [@SERVER[:PORT]] [+tcp] [+dnssec] [+cd] [+norecurse] "
			"[+short] [+json] [+time=N] [+tries=N]",
		.help = "send one query like dig (works without a daemon)",
		.min_args = 1,
		.max_args = 16,
		.run = cmd_query,
	},
	{
		.group = "zone",
		.name = "check",
		.args = "FILE [ORIGIN]",
		.help = "check a zone file offline like named-checkzone; ORIGIN defaults to the file "
			"name without .zone",
		.min_args = 1,
		.max_args = 2,
		.run = cmd_zone_check,
	},
};

#define CLI_NCMDS (sizeof(cli_cmds) / sizeof(cli_cmds[0]))

static void
print_cmd(FILE *f, const struct cli_cmd *c)
{
	char synopsis[128];
	snprintf(synopsis, sizeof(synopsis), "%s%s%s %s", c->group ? c->group : "",
		 c->group ? " " : "", c->name, c->args);
	fprintf(f, "  %-28s %s\n", synopsis, c->help);
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: tdns-cli [--json] COMMAND [ARGS...]\n"
		   "       tdns-cli --version\n\ncommands:\n");
	for (size_t i = 0; i < CLI_NCMDS; i++) {
		print_cmd(f, &cli_cmds[i]);
	}
	fprintf(f, "\nexit status: 0 success, 1 failure, 2 usage error, 3 daemon unreachable\n");
}

/*
 * Finds a command from the words of the command line; a unique prefix of a word is enough
 * (as in tmux).  *used says how many words named the command.  NULL if none or ambiguous.
 */
static const struct cli_cmd *
find_cmd(int argc, char **argv, int *used)
{
	const struct cli_cmd *found = NULL;
	int matches = 0;
	for (size_t i = 0; i < CLI_NCMDS; i++) {
		const struct cli_cmd *c = &cli_cmds[i];
		int n = c->group ? 2 : 1;
		if (argc < n) {
			continue;
		}
		const char *want[2] = { c->group ? c->group : c->name, c->name };
		bool ok = true;
		for (int k = 0; k < n; k++) {
			if (strncmp(argv[k], want[k], strlen(argv[k])) != 0 || argv[k][0] == '\0') {
				ok = false;
			}
		}
		if (ok) {
			/* An exact match wins over prefix matches. */
			if (strcmp(argv[n - 1], c->name) == 0 && (n == 1 || strcmp(argv[0], want[0]) == 0)) {
				*used = n;
				return c;
			}
			found = c;
			*used = n;
			matches++;
		}
	}
	return matches == 1 ? found : NULL;
}

static int
cmd_help(const struct cli_opts *o, int argc, char **argv)
{
	(void)o;
	if (argc == 0) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	int used = 0;
	const struct cli_cmd *c = find_cmd(argc, argv, &used);
	if (c == NULL) {
		fprintf(stderr, "tdns-cli: unknown command '%s'\n", argv[0]);
		return CLI_EXIT_USAGE;
	}
	print_cmd(stdout, c);
	return CLI_EXIT_OK;
}

static void
json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\') {
			fprintf(f, "\\%c", ch);
		} else if (ch < 0x20) {
			fprintf(f, "\\u%04x", ch);
		} else {
			fputc(ch, f);
		}
	}
	fputc('"', f);
}

static int
cmd_query(const struct cli_opts *o, int argc, char **argv)
{
	return cli_query_run(o, argc, argv);
}

static int
cmd_zone_check(const struct cli_opts *o, int argc, char **argv)
{
	const char *path = argv[0];
	char origin_text[DNS_NAME_TEXT_MAX];
	if (argc > 1) {
		snprintf(origin_text, sizeof(origin_text), "%s", argv[1]);
	} else {
		/* named-checkzone needs the origin; derive it from "example.com.zone". */
		char tmp[4096];
		snprintf(tmp, sizeof(tmp), "%s", path);
		snprintf(origin_text, sizeof(origin_text), "%s", basename(tmp));
		size_t n = strlen(origin_text);
		if (n > 5 && strcmp(origin_text + n - 5, ".zone") == 0) {
			origin_text[n - 5] = '\0';
		}
	}
	uint8_t origin[DNS_NAME_MAX];
	size_t olen = strlen(origin_text);
	if (olen == 0 || origin_text[olen - 1] != '.') {
		if (olen + 2 > sizeof(origin_text)) {
			fprintf(stderr, "tdns-cli: origin too long\n");
			return CLI_EXIT_USAGE;
		}
		origin_text[olen] = '.';
		origin_text[olen + 1] = '\0';
	}
	int r = dns_name_from_text(origin_text, strlen(origin_text), NULL, origin);
	if (r < 0) {
		fprintf(stderr, "tdns-cli: bad origin '%s': %s\n", origin_text, tdns_status_msg(r));
		return CLI_EXIT_USAGE;
	}
	struct zone *z = NULL;
	char err[1024];
	r = zone_load(origin, path, &z, err, sizeof(err));
	if (o->json) {
		printf("{\"zone\":");
		json_string(stdout, origin_text);
		printf(",\"file\":");
		json_string(stdout, path);
		if (r == TDNS_OK) {
			printf(",\"ok\":true,\"serial\":%u,\"records\":%zu,\"names\":%zu}\n",
			       z->serial, z->nrecords, z->nnodes);
		} else {
			printf(",\"ok\":false,\"error\":");
			json_string(stdout, err);
			printf(",\"id\":\"%s\"}\n", tdns_status_id(r));
		}
	} else if (r == TDNS_OK) {
		printf("zone %s/IN: loaded serial %u, %zu records\nOK\n", origin_text, z->serial,
		       z->nrecords);
	} else {
		fprintf(stderr, "%s\n", err);
		fprintf(stderr, "zone %s/IN: not loaded due to errors.\n", origin_text);
	}
	zone_free(z);
	return r == TDNS_OK ? CLI_EXIT_OK : CLI_EXIT_FAILED;
}

int
main(int argc, char **argv)
{
	struct cli_opts opts = { .json = false };
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;
	while ((ch = getopt_long(argc, argv, "+hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			opts.json = true;
			break;
		case 'V':
			printf("tdns-cli %s\n", PACKAGE_VERSION);
			return CLI_EXIT_OK;
		case 'h':
			usage(stdout);
			return CLI_EXIT_OK;
		default:
			usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	int used = 0;
	const struct cli_cmd *c = find_cmd(argc, argv, &used);
	if (c == NULL) {
		fprintf(stderr, "tdns-cli: unknown or ambiguous command '%s'; try 'tdns-cli help'\n",
			argv[0]);
		return CLI_EXIT_USAGE;
	}
	argc -= used;
	argv += used;
	if (argc < c->min_args || argc > c->max_args) {
		fprintf(stderr, "usage: tdns-cli %s%s%s %s\n", c->group ? c->group : "",
			c->group ? " " : "", c->name, c->args);
		return CLI_EXIT_USAGE;
	}
	return c->run(&opts, argc, argv);
}
