/* SPDX-License-Identifier: MIT */
/* tdns-tui internals: the non-blocking control connection, drawing helpers and the screens. */
#ifndef TDNS_TUI_H
#define TDNS_TUI_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>

#include <curses.h>
#include <jansson.h>

/* ------------------------------------------------------------------------------------------ */
/* The control connection (conn.c)                                                              */

/*
 * One connection to the daemon's control socket, driven by the main loop's poll(): it never
 * blocks.  It connects, says hello, and then carries requests whose replies come back in
 * order (DESIGN.md "Control protocol"), or, after a stream command was accepted, a stream of
 * frames.  When the daemon goes away it reconnects once a second.
 */
struct tui_conn;

/*
 * Called with each reply (borrowed for the call): {"ok": true, "data": ...} or {"ok": false,
 * "error": {"id", "message"}}.  When the connection drops with the request unanswered, the
 * callback gets a made-up error reply with the id "EIO".
 */
typedef void (*tui_reply_fn)(void *ctx, json_t *reply);

/* Called with each frame of a stream (borrowed for the call). */
typedef void (*tui_frame_fn)(void *ctx, json_t *frame);

/* Called when the connection becomes usable (up) or drops (!up). */
typedef void (*tui_state_fn)(void *ctx, bool up);

/* Milliseconds of a monotonic clock. */
long long tui_now_ms(void);

/* A new, not yet connected connection to the socket at path; freed with tui_conn_free. */
struct tui_conn *tui_conn_new(const char *path);

/* Closes and frees; pending callbacks are not called.  Accepts NULL. */
void tui_conn_free(struct tui_conn *c);

/* Sets the callback for state changes. */
void tui_conn_on_state(struct tui_conn *c, tui_state_fn fn, void *ctx);

/* Turns reconnecting on (the default) or off; off closes the connection. */
void tui_conn_enable(struct tui_conn *c, bool on);

/* True when connected and the hello was answered. */
bool tui_conn_up(const struct tui_conn *c);

/* "tdnsd 0.1.0" from the hello reply, or "" before it. */
const char *tui_conn_server(const struct tui_conn *c);

/* Why the connection is down (for people), or "". */
const char *tui_conn_error(const struct tui_conn *c);

/*
 * Queues the request {"command": cmd, "args": args} (args stolen; NULL means {}).  tag names
 * the kind of request for tui_conn_pending (may be NULL).  Returns false, calling nothing,
 * when the connection is not up.
 */
bool tui_conn_request(struct tui_conn *c, const char *cmd, json_t *args, const char *tag,
		      tui_reply_fn fn, void *ctx);

/* True when a request with this tag waits for its reply. */
bool tui_conn_pending(const struct tui_conn *c, const char *tag);

/* From now on every frame goes to fn (call it from the reply callback of a stream command). */
void tui_conn_stream(struct tui_conn *c, tui_frame_fn fn, void *ctx);

/* Drops the connection (why is shown to people); it reconnects a second later if enabled. */
void tui_conn_close(struct tui_conn *c, const char *why);

/* Fills p for poll(); returns false when there is no socket to watch. */
bool tui_conn_pollfd(const struct tui_conn *c, struct pollfd *p);

/* Handles poll()'s revents for the socket: writes, reads and dispatches frames. */
void tui_conn_io(struct tui_conn *c, short revents);

/* Connects when a retry is due, and drops a connection whose daemon stopped answering. */
void tui_conn_tick(struct tui_conn *c);

/* ------------------------------------------------------------------------------------------ */
/* Drawing (draw.c)                                                                              */

enum tui_role {
	TUI_NORMAL,
	TUI_TITLE,     /* the top bar */
	TUI_TAB,       /* the current screen's tab */
	TUI_HEADER,    /* section and table headers */
	TUI_KEY,       /* key names in the help line */
	TUI_KEYLABEL,  /* what they do */
	TUI_SELECTED,  /* the selected row */
	TUI_ERROR,
	TUI_OK,
	TUI_BAR,       /* chart bars */
	TUI_DIM,
	TUI_MATCH,     /* search matches */
};

/* Display settings chosen at start-up. */
struct tui_look {
	bool color;
	bool utf8;
};

extern struct tui_look tui_look;

/* Where the terminal cursor goes after drawing (a focused text field); -1: hidden. */
extern int tui_cursor_y, tui_cursor_x;

/* Sets up colour pairs when colour is on (after initscr). */
void tui_draw_init(void);

/* The attributes for a role, in colour or monochrome. */
attr_t tui_attr(enum tui_role role);

/*
 * Writes s at (y, x), at most width columns, control characters shown as spaces (UTF-8 is
 * taken as one column per character).  Returns the columns written.
 */
int tui_put(WINDOW *w, int y, int x, int width, attr_t attr, const char *s);

/*
 * Writes s word-wrapped into at most rows lines of width columns from (y, x); a word longer
 * than a line is cut.  Returns the number of lines used.  With rows 0 it only counts the
 * lines s would need (nothing is drawn).
 */
int tui_put_wrapped(WINDOW *w, int y, int x, int width, int rows, attr_t attr, const char *s);

/* Like tui_put with printf formatting. */
int tui_putf(WINDOW *w, int y, int x, int width, attr_t attr, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* Columns s takes (UTF-8 characters). */
int tui_width(const char *s);

/* A horizontal line of n columns (line drawing or '-'). */
void tui_hline(WINDOW *w, int y, int x, int n);

/* A box with a title in its top border. */
void tui_box(WINDOW *w, int y, int x, int h, int wd, const char *title);

/* Fills a rectangle with spaces in attr (overlays are drawn over the screen). */
void tui_fill(WINDOW *w, int y, int x, int h, int wd, attr_t attr);

/*
 * A bar chart of v[0..n-1] (oldest first) in the rectangle: the newest values on the right,
 * averaged in buckets when there are more values than columns; eighth blocks with UTF-8, else
 * ASCII.  Returns how many values each column holds.
 */
int tui_chart(WINDOW *w, int y, int x, int h, int wd, const double *v, size_t n);

/* A JSON number as text ("-" when missing): integers as is, reals with prec decimals. */
const char *tui_num(const json_t *v, int prec, char *buf, size_t len);

/* The error message of a reply ("id" when there is no message). */
const char *tui_reply_error(const json_t *reply);

/* True when the reply is an error with this id ("EIO": the connection dropped). */
bool tui_reply_is(const json_t *reply, const char *id);

/* True when the reply says the daemon does not know the command (EUNKNOWNCMD). */
bool tui_reply_unknown(const json_t *reply);

/*
 * For the replies that feed a screen: the data of an ok reply replaces *slot (which holds a
 * reference) and clears err; an error other than EIO (a dropped connection, which the status
 * line shows already) goes to err as "what: message", or the message alone when what is NULL.
 */
void tui_reply_keep(const json_t *reply, json_t **slot, char *err, size_t errlen,
		    const char *what);

/* A one-line text field. */
struct tui_input {
	char buf[512];
	size_t len;
	size_t cur;   /* byte offset of the cursor */
};

enum tui_input_result { TUI_INPUT_NONE, TUI_INPUT_CHANGED, TUI_INPUT_ENTER, TUI_INPUT_ESCAPE };

/* Sets the text (truncated to fit) with the cursor at its end. */
void tui_input_set(struct tui_input *in, const char *s);

/* Edits with one key (ch is a character unless fkey, then a KEY_ code). */
enum tui_input_result tui_input_key(struct tui_input *in, int ch, bool fkey);

/* Draws the field in width columns; when focused, says where the cursor goes. */
void tui_input_draw(WINDOW *w, int y, int x, int width, const struct tui_input *in,
		    bool focused);

/* A scrolled list with a selection. */
struct tui_list {
	int sel;
	int top;
};

/* Moves the selection with arrows, pages, Home and End; true when the key was one of them. */
bool tui_list_key(struct tui_list *l, int n, int page, int ch, bool fkey);

/* Keeps the selection inside [0, n) and visible in h rows. */
void tui_list_fit(struct tui_list *l, int n, int h);

/*
 * For row i of l shown on line y: the selected row is filled across wd columns and gets the
 * selection's attributes, which are returned; other rows get A_NORMAL.
 */
attr_t tui_list_row(WINDOW *w, int y, int wd, const struct tui_list *l, int i);

/* ------------------------------------------------------------------------------------------ */
/* The application and its screens (tdns-tui.c, screen-*.c)                                     */

struct tui {
	struct tui_conn *conn;     /* requests and replies */
	struct tui_conn *follow;   /* the log follow stream */
	const char *socket;
	int screen;                /* index into tui_screens */
	bool help;
	bool quit;
	char msg[256];             /* a transient message in the help line ... */
	bool msg_error;
	long long msg_until;       /* ... until then */
	void *dash, *logs, *zones, *cache, *settings, *blocking;  /* per-screen state */
};

struct tui_screen {
	const char *name;          /* tab label */
	const char *keys;          /* the help line: "KEY label" pairs separated by two spaces */
	const char *const *help;   /* lines of the help window, NULL-terminated */
	void (*init)(struct tui *t);
	void (*fini)(struct tui *t);
	void (*enter)(struct tui *t);     /* the screen was switched to */
	void (*tick)(struct tui *t);      /* every loop turn: send due requests */
	void (*draw)(struct tui *t, WINDOW *w, int y, int h, int wd);
	bool (*key)(struct tui *t, int ch, bool fkey);  /* true when used */
	/* True while a text field has the keys (no global keys then); NULL: never. */
	bool (*typing)(struct tui *t);
	void (*conn_state)(struct tui *t, bool up);  /* the connection went up or down */
};

extern const struct tui_screen tui_screen_dash, tui_screen_logs, tui_screen_zones,
	tui_screen_cache, tui_screen_settings, tui_screen_block;

/* Shows msg in the help line for a few seconds. */
void tui_message(struct tui *t, bool error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The key code for Escape. */
#define TUI_ESC 27

#endif
