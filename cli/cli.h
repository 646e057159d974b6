/* SPDX-License-Identifier: MIT */
/* tdns-cli internals shared by its command files. */
#ifndef TDNS_CLI_H
#define TDNS_CLI_H

#include <stdbool.h>

/* Exit codes are part of the scripting contract. */
enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_FAILED = 1,      /* the command ran and said no (bad zone, refused change, no answer) */
	CLI_EXIT_USAGE = 2,       /* the command line is wrong */
	CLI_EXIT_UNREACHABLE = 3, /* the daemon (or the queried server) cannot be reached */
};

/* Options that apply to every command. */
struct cli_opts {
	bool json;
};

/*
 * `tdns-cli query NAME [TYPE] [@SERVER[:PORT]] [+opts]`: the dig-like client (cli/query.c).
 * argv holds the words after "query".  Returns a cli_exit code.
 */
int cli_query_run(const struct cli_opts *o, int argc, char **argv);

#endif
