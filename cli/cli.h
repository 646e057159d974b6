/* SPDX-License-Identifier: MIT */
/* tdns-cli internals shared by its command files. */
#ifndef TDNS_CLI_H
#define TDNS_CLI_H

#include <stdbool.h>
#include <stddef.h>

struct ctl_cmd;

/* Exit codes are part of the scripting contract. */
enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_FAILED = 1,      /* the command ran and said no (bad zone, refused, no answer) */
	CLI_EXIT_USAGE = 2,       /* the command line is wrong */
	CLI_EXIT_UNREACHABLE = 3, /* the daemon (or the queried server) cannot be reached */
};

/* Options that apply to every command. */
struct cli_opts {
	bool json;                /* --json: print the reply document as is */
	const char *config;       /* -c FILE: find the control socket in this config file */
	const char *socket;       /* -s SOCKET: the control socket itself */
};

/*
 * `tdns-cli query NAME [TYPE] [@SERVER[:PORT]] [+opts]`: the dig-like client (cli/query.c).
 * argv holds the words after "query".  Returns a cli_exit code.
 */
int cli_query_run(const struct cli_opts *o, int argc, char **argv);

/*
 * Writes the synopsis of cmd built from its arguments into buf ("zone create NAME
 * [--type TYPE] [--file FILE]"): positional NAME, optional [NAME], options [--name NAME],
 * words RDATA..., local files FILE.  Truncates to buflen.
 */
void cli_ctl_synopsis(const struct ctl_cmd *cmd, char *buf, size_t buflen);

/*
 * Runs a daemon command (cli/ctl.c): maps the words after the command's name onto its
 * arguments, finds the socket (-s, -c's [control] socket, $TDNS_SOCKET, the default),
 * connects, says hello, sends the request and prints the reply (text for people, or the
 * reply document with --json).  Returns a cli_exit code.
 */
int cli_ctl_run(const struct cli_opts *o, const struct ctl_cmd *cmd, int argc, char **argv);

#endif
