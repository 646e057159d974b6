/* SPDX-License-Identifier: MIT */
/* tdns-cli: command lookup, help and completion from the command table, and local commands. */
#include "config.h"

#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cfg/cfg.h"
#include "cli/cli.h"
#include "ctl/ctl.h"
#include "dns/dns.h"
#include "zone/zone.h"

/* A command that runs inside tdns-cli (the daemon's commands are ctl_cmds). */
struct cli_local {
	const char *name;
	const char *synopsis;     /* of the arguments */
	const char *help;
	int (*run)(const struct cli_opts *o, int argc, char **argv);
};

static int cmd_help(const struct cli_opts *o, int argc, char **argv);
static int cmd_query(const struct cli_opts *o, int argc, char **argv);
static int cmd_completion(const struct cli_opts *o, int argc, char **argv);

static const struct cli_local cli_locals[] = {
	{ .name = "help", .synopsis = "[COMMAND...]", .run = cmd_help,
	  .help = "show the commands, or the help of one command" },
	{ .name = "query", .run = cmd_query,
	  .synopsis = "NAME [TYPE] [CLASS] [@SERVER[:PORT]|@URL] [+tcp] [+tls] [+https[=PATH]] "
		      "[+https-get[=PATH]] [+https-json[=PATH]] [+tls-host=NAME] [+tls-ca=FILE] "
		      "[+insecure] [+[no]dnssec] [+[no]cd] [+[no]adflag] [+norecurse] [+short] "
		      "[+json] [+time=N] [+tries=N] [+repeat=N] [+keepopen]",
	  .help = "send one query like dig (works without a daemon)" },
	{ .name = "completion", .synopsis = "bash", .run = cmd_completion,
	  .help = "print the bash completion script for tdns-cli" },
	{ .name = NULL },
};

/* One command of either kind. */
struct cli_cmd {
	const char *name;
	const struct ctl_cmd *ctl;      /* a daemon command, or */
	const struct cli_local *local;  /* a local one */
};

/* Every command, local ones first (they come first in the help too). */
static size_t
all_cmds(struct cli_cmd *out, size_t max)
{
	size_t n = 0;
	for (const struct cli_local *l = cli_locals; l->name != NULL && n < max; l++) {
		out[n++] = (struct cli_cmd){ .name = l->name, .local = l };
	}
	for (const struct ctl_cmd *c = ctl_cmds; c->name != NULL && n < max; c++) {
		out[n++] = (struct cli_cmd){ .name = c->name, .ctl = c };
	}
	return n;
}

#define CLI_MAX_CMDS 128

/* Length of the first word of name. */
static size_t
word0_len(const char *name)
{
	const char *sp = strchr(name, ' ');
	return sp != NULL ? (size_t)(sp - name) : strlen(name);
}

/* The second word of name, or NULL. */
static const char *
word1(const char *name)
{
	const char *sp = strchr(name, ' ');
	return sp != NULL ? sp + 1 : NULL;
}

static bool
word_is(const char *word, size_t len, const char *s)
{
	return strlen(s) == len && strncmp(word, s, len) == 0;
}

/*
 * Resolves one word against candidate words (tmux style): an exact match wins, else a
 * unique prefix.  Returns the index into cand, -1 if none, -2 if ambiguous.
 */
static int
resolve_word(const char *w, const char *const *cand, const size_t *lens, size_t n)
{
	size_t wl = strlen(w);
	int found = -1;
	for (size_t i = 0; i < n; i++) {
		if (word_is(cand[i], lens[i], w)) {
			return (int)i;
		}
	}
	if (wl == 0) {
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (lens[i] >= wl && strncmp(cand[i], w, wl) == 0) {
			if (found >= 0) {
				return -2;
			}
			found = (int)i;
		}
	}
	return found;
}

/* Distinct first words of every command (pointers into the names, with lengths). */
static size_t
first_words(const struct cli_cmd *cmds, size_t n, const char **w, size_t *len)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		size_t l = word0_len(cmds[i].name);
		bool seen = false;
		for (size_t j = 0; j < k && !seen; j++) {
			seen = len[j] == l && strncmp(w[j], cmds[i].name, l) == 0;
		}
		if (!seen) {
			w[k] = cmds[i].name;
			len[k++] = l;
		}
	}
	return k;
}

/* Second words of the commands whose first word is group (w, len). */
static size_t
group_words(const struct cli_cmd *cmds, size_t n, const char *group, size_t glen,
	    const char **w, size_t *len, size_t *idx)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const char *second = word1(cmds[i].name);
		if (second != NULL && word0_len(cmds[i].name) == glen &&
		    strncmp(cmds[i].name, group, glen) == 0) {
			w[k] = second;
			len[k] = strlen(second);
			idx[k++] = i;
		}
	}
	return k;
}

/* Prints the words (those starting with prefix, if given) separated by sep. */
static void
list_words(FILE *f, const char *const *w, const size_t *len, size_t n, const char *prefix,
	   const char *sep)
{
	size_t pl = prefix != NULL ? strlen(prefix) : 0;
	bool first = true;
	for (size_t i = 0; i < n; i++) {
		if (pl == 0 || (len[i] >= pl && strncmp(w[i], prefix, pl) == 0)) {
			fprintf(f, "%s%.*s", first ? "" : sep, (int)len[i], w[i]);
			first = false;
		}
	}
}

enum find_result { FIND_OK, FIND_UNKNOWN, FIND_GROUP };

/*
 * Finds the command named by the first words of argv, a unique prefix of each word being
 * enough (as in tmux).  *used says how many words named it.  FIND_GROUP when argv names only
 * a group ("zone"), with *group_len set; messages for people are printed when loud.
 */
static enum find_result
find_cmd(int argc, char **argv, struct cli_cmd *out, int *used, size_t *group_len, bool loud)
{
	struct cli_cmd cmds[CLI_MAX_CMDS];
	size_t n = all_cmds(cmds, CLI_MAX_CMDS);
	const char *w[CLI_MAX_CMDS];
	size_t len[CLI_MAX_CMDS], idx[CLI_MAX_CMDS];
	size_t nw = first_words(cmds, n, w, len);
	int r = argc > 0 ? resolve_word(argv[0], w, len, nw) : -1;
	if (r < 0) {
		if (loud && r == -2) {
			fprintf(stderr, "tdns-cli: ambiguous command '%s': ", argv[0]);
			list_words(stderr, w, len, nw, argv[0], ", ");
			fprintf(stderr, "\n");
		} else if (loud) {
			fprintf(stderr, "tdns-cli: unknown command '%s'; try 'tdns-cli help'\n",
				argc > 0 ? argv[0] : "");
		}
		return FIND_UNKNOWN;
	}
	const char *group = w[r];
	size_t glen = len[r];
	size_t ns = group_words(cmds, n, group, glen, w, len, idx);
	for (size_t i = 0; i < n; i++) {
		if (word1(cmds[i].name) != NULL || !word_is(group, glen, cmds[i].name)) {
			continue;
		}
		/* A word that is both a command and a group ("stats", "stats top"). */
		r = argc > 1 && ns > 0 ? resolve_word(argv[1], w, len, ns) : -1;
		if (r >= 0) {
			*out = cmds[idx[r]];
			*used = 2;
			return FIND_OK;
		}
		*out = cmds[i];
		*used = 1;
		return FIND_OK;
	}
	*group_len = glen;
	*out = cmds[idx[0]];
	if (argc < 2) {
		if (loud) {
			fprintf(stderr, "tdns-cli: '%.*s' needs one of: ", (int)glen, group);
			list_words(stderr, w, len, ns, NULL, ", ");
			fprintf(stderr, "\n");
		}
		return FIND_GROUP;
	}
	r = resolve_word(argv[1], w, len, ns);
	if (r < 0) {
		if (loud && r == -2) {
			fprintf(stderr, "tdns-cli: ambiguous command '%.*s %s': ", (int)glen, group,
				argv[1]);
			list_words(stderr, w, len, ns, argv[1], ", ");
			fprintf(stderr, "\n");
		} else if (loud) {
			fprintf(stderr, "tdns-cli: unknown command '%.*s %s'; one of: ", (int)glen,
				group, argv[1]);
			list_words(stderr, w, len, ns, NULL, ", ");
			fprintf(stderr, "\n");
		}
		return FIND_UNKNOWN;
	}
	*out = cmds[idx[r]];
	*used = 2;
	return FIND_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Help                                                                                         */

static void
synopsis(const struct cli_cmd *c, char *buf, size_t len)
{
	if (c->ctl != NULL) {
		cli_ctl_synopsis(c->ctl, buf, len);
	} else {
		snprintf(buf, len, "%s %s", c->name, c->local->synopsis);
	}
}

static const char *
cmd_help_text(const struct cli_cmd *c)
{
	return c->ctl != NULL ? c->ctl->help : c->local->help;
}

static void
print_line(FILE *f, const struct cli_cmd *c)
{
	char syn[512];
	synopsis(c, syn, sizeof(syn));
	if (c->local != NULL && strcmp(c->name, "query") == 0) {
		/* The full query synopsis is long; its own help shows it. */
		snprintf(syn, sizeof(syn), "query NAME [TYPE] [@SERVER] [+OPTION...]");
	}
	if (strlen(syn) <= 36) {
		fprintf(f, "  %-36s  %s\n", syn, cmd_help_text(c));
	} else {
		fprintf(f, "  %s\n  %-36s  %s\n", syn, "", cmd_help_text(c));
	}
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: tdns-cli [-c FILE | -s SOCKET] [--json] COMMAND [ARGS...]\n"
		   "       tdns-cli --version\n\ncommands:\n");
	struct cli_cmd cmds[CLI_MAX_CMDS];
	size_t n = all_cmds(cmds, CLI_MAX_CMDS);
	for (size_t i = 0; i < n; i++) {
		print_line(f, &cmds[i]);
	}
	fprintf(f, "\noptions:\n"
		   "  -c, --config FILE    find the control socket in FILE's [control] socket\n"
		   "  -s, --socket SOCKET  the daemon's control socket (default: $TDNS_SOCKET, "
		   "else %s)\n"
		   "  --json               print the daemon's reply document as is\n"
		   "  -h, --help           show this help\n"
		   "  --version            show the version\n\n"
		   "Command words may be abbreviated to a unique prefix ('tdns-cli z l').\n"
		   "exit status: 0 success, 1 refused by the daemon, 2 usage error, "
		   "3 daemon unreachable\n", CTL_DEFAULT_SOCKET);
}

static void
print_cmd_help(const struct cli_cmd *c)
{
	char syn[512];
	synopsis(c, syn, sizeof(syn));
	printf("usage: tdns-cli %s\n\n%s\n", syn, cmd_help_text(c));
	if (c->ctl == NULL || c->ctl->args == NULL) {
		return;
	}
	printf("\narguments:\n");
	for (const struct ctl_arg *a = c->ctl->args; a->name != NULL; a++) {
		char ph[80];
		if (a->option) {
			snprintf(ph, sizeof(ph), "--%s", a->name);
		} else {
			snprintf(ph, sizeof(ph), "%s", a->type == CTL_ARG_FILE ? "file" : a->name);
			for (char *p = ph; *p != '\0'; p++) {
				*p = *p >= 'a' && *p <= 'z' ? (char)(*p - 'a' + 'A') : *p;
			}
		}
		printf("  %-10s %s%s\n", ph, a->help, a->optional ? " (optional)" : "");
	}
}

static int
cmd_help(const struct cli_opts *o, int argc, char **argv)
{
	(void)o;
	if (argc == 0) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	struct cli_cmd c;
	int used = 0;
	size_t glen = 0;
	enum find_result fr = find_cmd(argc, argv, &c, &used, &glen, argc > 1);
	if (fr == FIND_GROUP) {
		/* `help zone`: every zone command. */
		struct cli_cmd cmds[CLI_MAX_CMDS];
		size_t n = all_cmds(cmds, CLI_MAX_CMDS);
		for (size_t i = 0; i < n; i++) {
			if (word0_len(cmds[i].name) == glen &&
			    strncmp(cmds[i].name, c.name, glen) == 0) {
				print_line(stdout, &cmds[i]);
			}
		}
		return CLI_EXIT_OK;
	}
	if (fr != FIND_OK) {
		if (argc == 1) {
			find_cmd(argc, argv, &c, &used, &glen, true);
		}
		return CLI_EXIT_USAGE;
	}
	if (used < argc) {
		fprintf(stderr, "tdns-cli: help: unexpected '%s'\n", argv[used]);
		return CLI_EXIT_USAGE;
	}
	print_cmd_help(&c);
	return CLI_EXIT_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Bash completion, generated from the table                                                   */

static bool
completes_files(const struct ctl_cmd *c)
{
	/* `zone check FILE` is also the offline checker (see run_ctl below). */
	if (strcmp(c->name, "zone check") == 0) {
		return true;
	}
	for (const struct ctl_arg *a = c->args; a != NULL && a->name != NULL; a++) {
		if (a->type == CTL_ARG_FILE || (!a->option && strcmp(a->name, "file") == 0)) {
			return true;
		}
	}
	return false;
}

static int
cmd_completion(const struct cli_opts *o, int argc, char **argv)
{
	(void)o;
	if (argc != 1 || strcmp(argv[0], "bash") != 0) {
		fprintf(stderr, "usage: tdns-cli completion bash\n");
		return CLI_EXIT_USAGE;
	}
	struct cli_cmd cmds[CLI_MAX_CMDS];
	size_t n = all_cmds(cmds, CLI_MAX_CMDS);
	const char *w[CLI_MAX_CMDS], *sw[CLI_MAX_CMDS];
	size_t len[CLI_MAX_CMDS], slen[CLI_MAX_CMDS], idx[CLI_MAX_CMDS];
	size_t nw = first_words(cmds, n, w, len);

	printf("# SPDX-License-Identifier: MIT\n"
	       "# bash completion for tdns-cli(1).\n"
	       "# Generated by 'tdns-cli completion bash' from the command table; do not edit.\n"
	       "_tdns_cli()\n{\n"
	       "\tlocal cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
	       "\tlocal i w cmd opts= files= help=\n"
	       "\tlocal -a cw=()\n"
	       "\tcase $prev in\n"
	       "\t-c|--config|-s|--socket)\n"
	       "\t\tCOMPREPLY=($(compgen -f -- \"$cur\"))\n"
	       "\t\treturn\n"
	       "\t\t;;\n"
	       "\tesac\n"
	       "\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
	       "\t\tw=${COMP_WORDS[i]}\n"
	       "\t\tif ((${#cw[@]} == 0)); then\n"
	       "\t\t\tcase $w in\n"
	       "\t\t\t-c|--config|-s|--socket) ((i++)); continue ;;\n"
	       "\t\t\t-*) continue ;;\n"
	       "\t\t\tesac\n"
	       "\t\tfi\n"
	       "\t\tcw+=(\"$w\")\n"
	       "\tdone\n"
	       "\tif ((${#cw[@]} == 0)); then\n"
	       "\t\tif [[ $cur == -* ]]; then\n"
	       "\t\t\tCOMPREPLY=($(compgen -W \"-c -s -h --config --socket --json --version "
	       "--help\" -- \"$cur\"))\n"
	       "\t\telse\n"
	       "\t\t\tCOMPREPLY=($(compgen -W \"");
	list_words(stdout, w, len, nw, NULL, " ");
	printf("\" -- \"$cur\"))\n"
	       "\t\tfi\n"
	       "\t\treturn\n"
	       "\tfi\n");
	/* Groups: the second word; `help` takes command words too. */
	printf("\tcmd=${cw[0]}\n"
	       "\tif [[ $cmd == help ]]; then\n"
	       "\t\tif ((${#cw[@]} == 1)); then\n"
	       "\t\t\tCOMPREPLY=($(compgen -W \"");
	list_words(stdout, w, len, nw, NULL, " ");
	printf("\" -- \"$cur\"))\n"
	       "\t\t\treturn\n"
	       "\t\tfi\n"
	       "\t\tcmd=${cw[1]}\n"
	       "\t\tunset 'cw[0]'\n"
	       "\t\tcw=(\"${cw[@]}\")\n"
	       "\t\thelp=1\n"
	       "\tfi\n"
	       "\tcase $cmd in\n");
	for (size_t i = 0; i < nw; i++) {
		size_t ns = group_words(cmds, n, w[i], len[i], sw, slen, idx);
		if (ns == 0) {
			continue;
		}
		printf("\t%.*s)\n"
		       "\t\tif ((${#cw[@]} == 1)); then\n"
		       "\t\t\tCOMPREPLY=($(compgen -W \"", (int)len[i], w[i]);
		list_words(stdout, sw, slen, ns, NULL, " ");
		printf("\" -- \"$cur\"))\n"
		       "\t\t\treturn\n"
		       "\t\tfi\n"
		       "\t\tcmd=\"$cmd ${cw[1]}\"\n"
		       "\t\t;;\n");
	}
	printf("\tcompletion)\n"
	       "\t\t((${#cw[@]} == 1)) && COMPREPLY=($(compgen -W \"bash\" -- \"$cur\"))\n"
	       "\t\treturn\n"
	       "\t\t;;\n"
	       "\tquery)\n"
	       "\t\t[[ $cur == +* ]] && COMPREPLY=($(compgen -W \"+tcp +tls +https +https-get "
	       "+https-json +tls-host= +tls-ca= +insecure +dnssec +nodnssec +cd +nocd +adflag "
	       "+noadflag +norecurse +short +json +time= +tries= +repeat= +keepopen\" -- "
	       "\"$cur\"))\n"
	       "\t\treturn\n"
	       "\t\t;;\n"
	       "\tesac\n"
	       "\tcase $cmd in\n");
	for (const struct ctl_cmd *c = ctl_cmds; c->name != NULL; c++) {
		bool any = false;
		for (const struct ctl_arg *a = c->args; a != NULL && a->name != NULL; a++) {
			if (!a->option) {
				continue;
			}
			printf(any ? " --%s" : "\t\"%s\") opts=\"--%s", any ? a->name : c->name,
			       a->name);
			any = true;
		}
		if (any) {
			printf("\" ;;\n");
		}
	}
	printf("\tesac\n\tcase $cmd in\n");
	bool any = false;
	for (const struct ctl_cmd *c = ctl_cmds; c->name != NULL; c++) {
		if (completes_files(c)) {
			printf(any ? "|\"%s\"" : "\t\"%s\"", c->name);
			any = true;
		}
	}
	if (any) {
		printf(") files=1 ;;\n");
	}
	printf("\tesac\n"
	       "\t[[ -n $help ]] && return\n"
	       "\tif [[ $cur == -* && -n $opts ]]; then\n"
	       "\t\tCOMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
	       "\telif [[ -n $files && $prev != --* ]]; then\n"
	       "\t\tCOMPREPLY=($(compgen -f -- \"$cur\"))\n"
	       "\tfi\n"
	       "}\n"
	       "complete -F _tdns_cli tdns-cli\n");
	return CLI_EXIT_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Local commands                                                                               */

static int
cmd_query(const struct cli_opts *o, int argc, char **argv)
{
	return cli_query_run(o, argc, argv);
}

static void
json_string_out(FILE *f, const char *s)
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

/* `zone check FILE [ORIGIN]` offline, like named-checkzone. */
static int
zone_check_offline(const struct cli_opts *o, int argc, char **argv)
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
		json_string_out(stdout, origin_text);
		printf(",\"file\":");
		json_string_out(stdout, path);
		if (r == TDNS_OK) {
			printf(",\"ok\":true,\"serial\":%u,\"records\":%zu,\"names\":%zu}\n",
			       z->serial, z->nrecords, z->nnodes);
		} else {
			printf(",\"ok\":false,\"error\":");
			json_string_out(stdout, err);
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

/* A daemon command, except `zone check` of a local file or with an ORIGIN: that is offline. */
static int
run_ctl(const struct cli_opts *o, const struct ctl_cmd *c, int argc, char **argv)
{
	if (strcmp(c->name, "zone check") == 0 && argc >= 1 && argc <= 2 && argv[0][0] != '-') {
		struct stat st;
		if (argc == 2 || (stat(argv[0], &st) == 0 && S_ISREG(st.st_mode))) {
			return zone_check_offline(o, argc, argv);
		}
	}
	return cli_ctl_run(o, c, argc, argv);
}

int
main(int argc, char **argv)
{
	cfg_use_schema(&cfg_schema);
	struct cli_opts opts = { .json = false };
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;
	/* "+": options end at the command, whose own words may start with '-'. */
	while ((ch = getopt_long(argc, argv, "+c:s:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			opts.json = true;
			break;
		case 'c':
			opts.config = optarg;
			break;
		case 's':
			opts.socket = optarg;
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
	struct cli_cmd c;
	int used = 0;
	size_t glen = 0;
	if (find_cmd(argc, argv, &c, &used, &glen, true) != FIND_OK) {
		return CLI_EXIT_USAGE;
	}
	argc -= used;
	argv += used;
	if (c.local != NULL) {
		if (strcmp(c.name, "query") == 0 && argc == 0) {
			fprintf(stderr, "usage: tdns-cli query %s\n", c.local->synopsis);
			return CLI_EXIT_USAGE;
		}
		return c.local->run(&opts, argc, argv);
	}
	return run_ctl(&opts, c.ctl, argc, argv);
}
