/* SPDX-License-Identifier: MIT */
/* placeholder */
#include "cli/cli.h"
int
cli_query_run(const struct cli_opts *o, int argc, char **argv)
{
	(void)o; (void)argc; (void)argv;
	return CLI_EXIT_FAILED;
}
