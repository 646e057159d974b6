/* SPDX-License-Identifier: MIT */
/* tdns-tui: the full-screen dashboard; options, the poll() main loop, screens and key routing. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg/cfg.h"
#include "ctl/ctl.h"
#include "tui/tui.h"

#define POLL_MS 200      /* the loop wakes at least this often: redraws stay under a second */
#define MESSAGE_MS 4000

static const struct tui_screen *const screens[] = {
	&tui_screen_dash, &tui_screen_logs, &tui_screen_zones, &tui_screen_cache,
	&tui_screen_settings, &tui_screen_block,
};
#define NSCREENS ((int)(sizeof(screens) / sizeof(screens[0])))

static volatile sig_atomic_t got_signal;
static volatile sig_atomic_t curses_on;

/* Every exit path gives the terminal back: q, SIGINT, SIGTERM, fatal errors and exit(). */
static void
restore_terminal(void)
{
	if (curses_on) {
		curses_on = 0;
		endwin();
	}
}

static void
on_quit_signal(int sig)
{
	got_signal = sig;
}

static void
on_fatal_signal(int sig)
{
	/* Not async-signal-safe, but a crashed TUI that leaves the terminal raw is worse. */
	restore_terminal();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
setup_signals(void)
{
	struct sigaction sa = { .sa_handler = on_quit_signal };
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: poll() returns EINTR and the loop sees the flag at once. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = on_fatal_signal;
	sa.sa_flags = SA_RESETHAND;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGFPE, &sa, NULL);
	sigaction(SIGABRT, &sa, NULL);
}

void
tui_message(struct tui *t, bool error, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t->msg, sizeof(t->msg), fmt, ap);
	va_end(ap);
	t->msg_error = error;
	t->msg_until = tui_now_ms() + MESSAGE_MS;
}

/* ------------------------------------------------------------------------------------------ */
/* Drawing                                                                                      */

static void
draw_top(struct tui *t, WINDOW *w, int wd)
{
	tui_fill(w, 0, 0, 1, wd, tui_attr(TUI_TITLE));
	int x = 0;
	for (int i = 0; i < NSCREENS; i++) {
		char tab[64];
		snprintf(tab, sizeof(tab), " %d %s ", i + 1, screens[i]->name);
		x += tui_put(w, 0, x, wd - x, tui_attr(i == t->screen ? TUI_TAB : TUI_TITLE), tab);
	}
	char right[256];
	if (tui_conn_up(t->conn)) {
		snprintf(right, sizeof(right), " %s ", tui_conn_server(t->conn));
	} else {
		snprintf(right, sizeof(right), " disconnected %s retrying ",
			 tui_look.utf8 ? "\u2014" : "--");
	}
	int rw = tui_width(right);
	if (x + rw >= wd && !tui_conn_up(t->conn)) {
		/* Six tabs leave 80 columns too few for the whole notice: its first word. */
		snprintf(right, sizeof(right), " disconnected ");
		rw = tui_width(right);
	}
	if (x + rw < wd) {
		attr_t a = tui_conn_up(t->conn) ? tui_attr(TUI_TITLE)
						: tui_attr(TUI_ERROR) | A_REVERSE;
		tui_put(w, 0, wd - rw, rw, a, right);
	}
}

/* "KEY label" items separated by '|', drawn like htop's function-key bar. */
static int
draw_keys(WINDOW *w, int y, int x, int wd, const char *keys)
{
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", keys);
	char *save = NULL;
	for (char *item = strtok_r(buf, "|", &save); item != NULL && x < wd;
	     item = strtok_r(NULL, "|", &save)) {
		char *sp = strchr(item, ' ');
		if (sp != NULL) {
			*sp = '\0';
		}
		x += tui_put(w, y, x, wd - x, tui_attr(TUI_KEY), item);
		if (sp != NULL) {
			char label[128];
			snprintf(label, sizeof(label), " %s ", sp + 1);
			x += tui_put(w, y, x, wd - x, tui_attr(TUI_KEYLABEL), label);
		}
	}
	return x;
}

static void
draw_bottom(struct tui *t, WINDOW *w, int y, int wd)
{
	if (t->msg[0] != '\0' && tui_now_ms() < t->msg_until) {
		tui_put(w, y, 0, wd, tui_attr(t->msg_error ? TUI_ERROR : TUI_OK), t->msg);
		return;
	}
	int x = draw_keys(w, y, 0, wd, screens[t->screen]->keys);
	draw_keys(w, y, x, wd, "h Help|q Quit");
}

static const char *const global_help[] = {
	"1-6, F1-F6   switch screens: Dashboard, Logs, Zones, Cache, Settings, Blocking",
	"h, ?         this help (any key closes it)",
	"q            quit (also Ctrl-C)",
	"",
	NULL,
};

static void
draw_help(struct tui *t, WINDOW *w, int lines, int cols)
{
	const char *const *sh = screens[t->screen]->help;
	int n = 0, mw = 0;
	for (int i = 0; global_help[i] != NULL; i++, n++) {
		mw = tui_width(global_help[i]) > mw ? tui_width(global_help[i]) : mw;
	}
	for (int i = 0; sh != NULL && sh[i] != NULL; i++, n++) {
		mw = tui_width(sh[i]) > mw ? tui_width(sh[i]) : mw;
	}
	int h = n + 2 > lines - 2 ? lines - 2 : n + 2;
	int wd = mw + 4 > cols - 2 ? cols - 2 : mw + 4;
	int y = (lines - h) / 2, x = (cols - wd) / 2;
	tui_fill(w, y, x, h, wd, A_NORMAL);
	char title[64];
	snprintf(title, sizeof(title), "Help: %s", screens[t->screen]->name);
	tui_box(w, y, x, h, wd, title);
	int r = 1;
	for (int i = 0; global_help[i] != NULL && r < h - 1; i++, r++) {
		tui_put(w, y + r, x + 2, wd - 4, A_NORMAL, global_help[i]);
	}
	for (int i = 0; sh != NULL && sh[i] != NULL && r < h - 1; i++, r++) {
		tui_put(w, y + r, x + 2, wd - 4, A_NORMAL, sh[i]);
	}
}

static void
draw(struct tui *t)
{
	WINDOW *w = stdscr;
	int lines = getmaxy(w), cols = getmaxx(w);
	tui_cursor_y = tui_cursor_x = -1;
	/* werase + wnoutrefresh + doupdate: curses sends only what changed, so nothing flickers. */
	werase(w);
	if (lines < 8 || cols < 30) {
		tui_put(w, 0, 0, cols, A_NORMAL, "terminal too small");
	} else {
		draw_top(t, w, cols);
		screens[t->screen]->draw(t, w, 1, lines - 2, cols);
		draw_bottom(t, w, lines - 1, cols);
		if (t->help) {
			tui_cursor_y = -1;
			draw_help(t, w, lines, cols);
		}
	}
	if (tui_cursor_y >= 0) {
		curs_set(1);
		wmove(w, tui_cursor_y, tui_cursor_x);
	} else {
		curs_set(0);
		wmove(w, lines - 1, cols - 1);
	}
	wnoutrefresh(w);
	doupdate();
}

/* ------------------------------------------------------------------------------------------ */
/* Keys and the loop                                                                            */

static void
switch_to(struct tui *t, int screen)
{
	if (screen < 0 || screen >= NSCREENS) {
		return;
	}
	t->screen = screen;
	t->msg[0] = '\0';
	if (screens[screen]->enter != NULL) {
		screens[screen]->enter(t);
	}
}

static void
handle_key(struct tui *t, int ch, bool fkey)
{
	const struct tui_screen *s = screens[t->screen];
	if (fkey && ch == KEY_RESIZE) {
		return; /* the next draw uses the new size */
	}
	if (t->help) {
		t->help = false;
		return;
	}
	bool typing = s->typing != NULL && s->typing(t);
	if (fkey && ch >= KEY_F(1) && ch <= KEY_F(NSCREENS)) {
		switch_to(t, ch - KEY_F(1));
		return;
	}
	if (!typing && !fkey) {
		if (ch == 'q' || ch == 'Q') {
			t->quit = true;
			return;
		}
		if (ch == 'h' || ch == '?') {
			t->help = true;
			return;
		}
		if (ch >= '1' && ch < '1' + NSCREENS) {
			switch_to(t, ch - '1');
			return;
		}
	}
	s->key(t, ch, fkey);
}

static void
conn_state(void *ctx, bool up)
{
	struct tui *t = ctx;
	for (int i = 0; i < NSCREENS; i++) {
		if (screens[i]->conn_state != NULL) {
			screens[i]->conn_state(t, up);
		}
	}
}

static int
run(struct tui *t)
{
	long long last_draw = 0;
	bool dirty = true;
	while (!t->quit && !got_signal) {
		tui_conn_tick(t->conn);
		tui_conn_tick(t->follow);
		screens[t->screen]->tick(t);
		for (int i = 0; i < NSCREENS; i++) {
			/* The logs keep collecting while another screen is shown. */
			if (i != t->screen && screens[i] == &tui_screen_logs) {
				screens[i]->tick(t);
			}
		}
		long long now = tui_now_ms();
		if (dirty || now - last_draw >= POLL_MS) {
			draw(t);
			last_draw = now;
			dirty = false;
		}
		struct pollfd p[3] = { { .fd = STDIN_FILENO, .events = POLLIN } };
		int n = 1, ic = -1, iff = -1;
		if (tui_conn_pollfd(t->conn, &p[n])) {
			ic = n++;
		}
		if (tui_conn_pollfd(t->follow, &p[n])) {
			iff = n++;
		}
		int r = poll(p, (nfds_t)n, POLL_MS);
		if (r < 0 && errno != EINTR) {
			return 1;
		}
		if (r > 0 && ic >= 0 && p[ic].revents != 0) {
			tui_conn_io(t->conn, p[ic].revents);
		}
		if (r > 0 && iff >= 0 && p[iff].revents != 0) {
			tui_conn_io(t->follow, p[iff].revents);
		}
		wint_t wch;
		int kr;
		while (!t->quit && (kr = wget_wch(stdscr, &wch)) != ERR) {
			handle_key(t, (int)wch, kr == KEY_CODE_YES);
			dirty = true;
		}
		if (r > 0 && (p[0].revents & (POLLHUP | POLLERR))) {
			return 1; /* the terminal went away */
		}
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Start-up                                                                                     */

static void
usage(FILE *f)
{
	fprintf(f, "usage: tdns-tui [-c FILE | -s SOCKET] [--no-color] [--ascii]\n"
		   "  -c, --config FILE   find the control socket in FILE's [control] socket\n"
		   "  -s, --socket PATH   the daemon's control socket\n"
		   "      --no-color      monochrome (also when NO_COLOR is set)\n"
		   "      --ascii         ASCII line drawing and charts\n"
		   "  -h, --help          this help\n"
		   "  -V, --version       print the version\n"
		   "Without -s or -c the socket is $TDNS_SOCKET, else %s.\n",
		CTL_DEFAULT_SOCKET);
}

int
main(int argc, char **argv)
{
	cfg_use_schema(&cfg_schema);
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "no-color", no_argument, NULL, 'C' },
		{ "no-colour", no_argument, NULL, 'C' },
		{ "ascii", no_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sock = NULL, *config = NULL;
	const char *nc = getenv("NO_COLOR");
	bool no_color = nc != NULL && nc[0] != '\0', ascii = false;
	int opt;
	while ((opt = getopt_long(argc, argv, "c:s:hV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config = optarg;
			break;
		case 's':
			sock = optarg;
			break;
		case 'C':
			no_color = true;
			break;
		case 'A':
			ascii = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("tdns-tui %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc || (sock != NULL && config != NULL)) {
		usage(stderr);
		return 2;
	}
	char err[1024];
	char *path = ctl_schema_socket_path(sock, config, err, sizeof(err));
	if (path == NULL) {
		fprintf(stderr, "tdns-tui: %s\n", err);
		return 2;
	}
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "tdns-tui: needs a terminal; use tdns-cli for scripts\n");
		free(path);
		return 2;
	}
	setlocale(LC_ALL, "");
	tui_look.utf8 = !ascii && strcmp(nl_langinfo(CODESET), "UTF-8") == 0;

	struct tui t = { .socket = path, .screen = 0 };
	t.conn = tui_conn_new(path);
	t.follow = tui_conn_new(path);
	tui_conn_on_state(t.conn, conn_state, &t);

	setup_signals();
	atexit(restore_terminal);
	if (initscr() == NULL) {
		fprintf(stderr, "tdns-tui: cannot initialise the terminal\n");
		return 1;
	}
	curses_on = 1;
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	tui_look.color = !no_color && has_colors();
	tui_draw_init();
	for (int i = 0; i < NSCREENS; i++) {
		screens[i]->init(&t);
	}
	switch_to(&t, 0);

	int rc = run(&t);
	restore_terminal();

	for (int i = 0; i < NSCREENS; i++) {
		screens[i]->fini(&t);
	}
	tui_conn_free(t.conn);
	tui_conn_free(t.follow);
	free(path);
	if (got_signal == SIGINT || got_signal == SIGTERM) {
		return 128 + got_signal;
	}
	return rc;
}
