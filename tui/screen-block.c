/* SPDX-License-Identifier: MIT */
/* tdns-tui screen 6, blocking: state and pause, the lists, top blocked names, quick allow/block. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "tui/tui.h"

#define STATE_EVERY_MS 2000   /* `block list`, `allow list`: state, pause, custom names */
#define LISTS_EVERY_MS 5000   /* `block lists`: every list with its update and error */
#define TOP_EVERY_MS 2000
#define TOP_COUNT 50

enum typing { TYPING_NONE, TYPING_PAUSE, TYPING_BLOCK };

/* Which top list the selection moves in (Tab): names blocked, or every name asked. */
enum pick { PICK_BLOCKED, PICK_NAMES, NPICKS };

struct blocking {
	json_t *blist, *alist;     /* the last `block list` and `allow list` data */
	json_t *lists;             /* the last `block lists` data */
	bool lists_unknown;        /* the daemon has no `block lists`: lists from `block list` */
	bool unknown;              /* the daemon has no blocking commands at all */
	json_t *top;               /* the last `stats top` data */
	long long state_at;        /* when blist came: the pause's seconds count down from it */
	char err[256];
	enum pick pick;
	struct tui_list sel;
	int rows;                  /* rows of the top list at the last draw */
	enum typing typing;
	struct tui_input in;
	long long next_state, next_lists, next_top;
};

static struct blocking *
B(struct tui *t)
{
	return t->blocking;
}

static void
blk_init(struct tui *t)
{
	t->blocking = tdns_xcalloc(1, sizeof(struct blocking));
}

static void
blk_clear(struct blocking *b)
{
	json_decref(b->blist);
	json_decref(b->alist);
	json_decref(b->lists);
	json_decref(b->top);
	b->blist = b->alist = b->lists = b->top = NULL;
}

static void
blk_fini(struct tui *t)
{
	blk_clear(B(t));
	free(t->blocking);
}

static void
blk_enter(struct tui *t)
{
	struct blocking *b = B(t);
	b->next_state = b->next_lists = b->next_top = 0;
}

static void
blk_conn_state(struct tui *t, bool up)
{
	struct blocking *b = B(t);
	/* A restarted daemon may be another version: ask again; old numbers are not its own. */
	blk_clear(b);
	b->lists_unknown = b->unknown = false;
	if (up) {
		blk_enter(t);
	}
}

static void
blist_reply(void *ctx, json_t *reply)
{
	struct blocking *b = B(ctx);
	if (tui_reply_unknown(reply)) {
		b->unknown = true;
		return;
	}
	tui_reply_keep(reply, &b->blist, b->err, sizeof(b->err), "block list");
	b->state_at = tui_now_ms();
}

/* Keeps an ok reply's data in *slot; true when the daemon does not know the command. */
static bool
keep(struct blocking *b, json_t *reply, json_t **slot, const char *what)
{
	if (tui_reply_unknown(reply)) {
		return true;
	}
	tui_reply_keep(reply, slot, b->err, sizeof(b->err), what);
	return false;
}

static void
alist_reply(void *ctx, json_t *reply)
{
	(void)keep(B(ctx), reply, &B(ctx)->alist, "allow list");
}

static void
lists_reply(void *ctx, json_t *reply)
{
	/* An older daemon: the lists of `block list` and `allow list` stand in. */
	B(ctx)->lists_unknown = keep(B(ctx), reply, &B(ctx)->lists, "block lists");
}

static void
top_reply(void *ctx, json_t *reply)
{
	(void)keep(B(ctx), reply, &B(ctx)->top, "stats top");
}

static void
blk_tick(struct tui *t)
{
	struct blocking *b = B(t);
	long long now = tui_now_ms();
	if (!tui_conn_up(t->conn) || b->unknown) {
		return;
	}
	if (now >= b->next_state && !tui_conn_pending(t->conn, "bstate")) {
		b->next_state = now + STATE_EVERY_MS;
		tui_conn_request(t->conn, "block list", NULL, "bstate", blist_reply, t);
		tui_conn_request(t->conn, "allow list", NULL, "bstate", alist_reply, t);
	}
	if (!b->lists_unknown && now >= b->next_lists && !tui_conn_pending(t->conn, "blists")) {
		b->next_lists = now + LISTS_EVERY_MS;
		tui_conn_request(t->conn, "block lists", NULL, "blists", lists_reply, t);
	}
	if (now >= b->next_top && !tui_conn_pending(t->conn, "btop")) {
		b->next_top = now + TOP_EVERY_MS;
		tui_conn_request(t->conn, "stats top", json_pack("{s:i}", "count", TOP_COUNT),
				 "btop", top_reply, t);
	}
}

/* ------------------------------------------------------------------------------------------ */
/* Actions: pause, resume, allow, block                                                         */

/* The reply to a change: a message, and everything asked again at once. */
static void
change_reply(void *ctx, json_t *reply)
{
	struct tui *t = ctx;
	const char *what = json_string_value(json_object_get(json_object_get(reply, "data"),
							     "action"));
	if (!json_is_true(json_object_get(reply, "ok"))) {
		tui_message(t, true, "%s", tui_reply_unknown(reply) ? "blocking not available in "
				      "this daemon" : tui_reply_error(reply));
	} else if (what != NULL) {
		const json_t *d = json_object_get(reply, "data");
		const char *name = json_string_value(json_object_get(d, "name"));
		const char *list = json_string_value(json_object_get(d, "list"));
		tui_message(t, false, "%s list: %s %s", list != NULL ? list : "?", what,
			    name != NULL ? name : "?");
	} else {
		json_int_t left = json_integer_value(json_object_get(json_object_get(reply, "data"),
								       "paused_seconds"));
		if (left > 0) {
			tui_message(t, false, "blocking paused for %lld s", (long long)left);
		} else {
			tui_message(t, false, "blocking resumed");
		}
	}
	blk_enter(t);
}

static void
send_change(struct tui *t, const char *cmd, json_t *args)
{
	if (!tui_conn_request(t->conn, cmd, args, "bchange", change_reply, t)) {
		tui_message(t, true, "disconnected from the daemon");
	}
}

/* The member of the top lists that the selection moves in. */
static const char *
pick_member(enum pick p)
{
	return p == PICK_BLOCKED ? "blocked" : "names";
}

/* The selected name (no type), into buf; false when nothing is selected. */
static bool
selected_name(struct blocking *b, char *buf, size_t len)
{
	const json_t *rows = json_object_get(b->top, pick_member(b->pick));
	const json_t *e = json_array_get(rows, (size_t)b->sel.sel);
	const char *key = json_string_value(json_object_get(e, "key"));
	if (key == NULL || key[0] == '\0') {
		return false;
	}
	/* The names list says "www.example.com. A": the name is the first word. */
	size_t n = strcspn(key, " ");
	snprintf(buf, len, "%.*s", (int)n, key);
	return true;
}

/* Seconds the pause still lasts, counted down since the state came. */
static long long
paused_left(const struct blocking *b)
{
	json_int_t s = json_integer_value(json_object_get(b->blist, "paused_seconds"));
	long long left = (long long)s - (tui_now_ms() - b->state_at) / 1000;
	return s > 0 && left > 0 ? left : 0;
}

static bool
blk_typing(struct tui *t)
{
	return B(t)->typing != TYPING_NONE;
}

static bool
blk_key(struct tui *t, int ch, bool fkey)
{
	struct blocking *b = B(t);
	if (b->typing != TYPING_NONE) {
		enum tui_input_result r = tui_input_key(&b->in, ch, fkey);
		if (r == TUI_INPUT_ESCAPE) {
			b->typing = TYPING_NONE;
		} else if (r == TUI_INPUT_ENTER) {
			enum typing was = b->typing;
			b->typing = TYPING_NONE;
			if (b->in.buf[0] == '\0') {
				tui_message(t, false, "cancelled");
			} else if (was == TYPING_PAUSE) {
				send_change(t, "block pause", json_pack("{s:s}", "duration",
									b->in.buf));
			} else {
				send_change(t, "block add", json_pack("{s:s}", "name", b->in.buf));
			}
		}
		return true;
	}
	int n = (int)json_array_size(json_object_get(b->top, pick_member(b->pick)));
	if (tui_list_key(&b->sel, n, b->rows > 1 ? b->rows : 10, ch, fkey)) {
		return true;
	}
	if (fkey) {
		return false;
	}
	char name[1100];
	switch (ch) {
	case '\t':
		b->pick = (b->pick + 1) % NPICKS;
		b->sel = (struct tui_list){ 0, 0 };
		return true;
	case 'a':
		if (selected_name(b, name, sizeof(name))) {
			send_change(t, "allow add", json_pack("{s:s}", "name", name));
		} else {
			tui_message(t, true, "no name selected");
		}
		return true;
	case 'b':
		/* The selected name to start with; any other may be typed instead. */
		b->typing = TYPING_BLOCK;
		tui_input_set(&b->in, selected_name(b, name, sizeof(name)) ? name : "");
		return true;
	case 'p':
		if (paused_left(b) > 0) {
			send_change(t, "block resume", NULL);
		} else {
			b->typing = TYPING_PAUSE;
			tui_input_set(&b->in, "15m");
		}
		return true;
	case 'r':
		blk_enter(t);
		return true;
	default:
		return false;
	}
}

/* ------------------------------------------------------------------------------------------ */
/* Drawing                                                                                      */

/* A duration as "14 min 05 s", "2 h 03 min", "45 s". */
static void
left_text(long long s, char *buf, size_t len)
{
	if (s >= 3600) {
		snprintf(buf, len, "%lld h %02lld min", s / 3600, s / 60 % 60);
	} else if (s >= 60) {
		snprintf(buf, len, "%lld min %02lld s", s / 60, s % 60);
	} else {
		snprintf(buf, len, "%lld s", s);
	}
}

static int
draw_state(struct tui *t, WINDOW *w, int y, int wd)
{
	struct blocking *b = B(t);
	int x = tui_put(w, y, 0, wd, tui_attr(TUI_HEADER), "Blocking: ");
	if (b->blist == NULL) {
		tui_put(w, y, x, wd - x, tui_attr(TUI_DIM),
			tui_conn_up(t->conn) ? "loading..." : "disconnected, retrying");
		return 1;
	}
	long long left = paused_left(b);
	if (left > 0) {
		char lt[48];
		left_text(left, lt, sizeof(lt));
		x += tui_putf(w, y, x, wd - x, tui_attr(TUI_ERROR), "PAUSED, %s left", lt);
	} else if (json_is_true(json_object_get(b->blist, "enabled"))) {
		x += tui_put(w, y, x, wd - x, tui_attr(TUI_OK) | A_BOLD, "on");
	} else {
		x += tui_put(w, y, x, wd - x, A_BOLD, "off ([blocking] enabled = no)");
	}
	char num[32];
	x += tui_putf(w, y, x, wd - x, A_NORMAL, "  %s distinct names",
		      tui_num(json_object_get(b->blist, "distinct_names"), 0, num, sizeof(num)));
	tui_putf(w, y, x, wd - x, A_NORMAL, "  custom: %zu blocked, %zu allowed",
		 json_array_size(json_object_get(b->blist, "custom")),
		 json_array_size(json_object_get(b->alist, "custom")));
	return 1;
}

/* "2026-12-08T01:02:03Z" as "12-08 01:02"; "-" for null. */
static void
when_text(const json_t *v, char *buf, size_t len)
{
	const char *s = json_string_value(v);
	if (s == NULL || strlen(s) < 16) {
		snprintf(buf, len, "%s", s != NULL ? s : "-");
		return;
	}
	snprintf(buf, len, "%.5s %.5s", s + 5, s + 11);
}

/* One row of the lists table from a `block lists` row (or one made from `block list`). */
static void
draw_list_row(WINDOW *w, int y, int wd, const json_t *l)
{
	char names[32], skipped[32], upd[40], next[40], line[2048];
	const char *group = json_string_value(json_object_get(l, "group"));
	const char *kind = json_string_value(json_object_get(l, "kind"));
	const char *err = json_string_value(json_object_get(l, "error"));
	const char *src = json_string_value(json_object_get(l, "source"));
	when_text(json_object_get(l, "updated"), upd, sizeof(upd));
	when_text(json_object_get(l, "next_update"), next, sizeof(next));
	int x = tui_putf(w, y, 0, wd, A_NORMAL, "%-5s %-8.8s %9s %7s %-11s %-11s ",
			 kind ? kind : "?", group != NULL ? group : "-",
			 tui_num(json_object_get(l, "names"), 0, names, sizeof(names)),
			 tui_num(json_object_get(l, "skipped"), 0, skipped, sizeof(skipped)), upd,
			 next);
	src = src != NULL ? src : "?";
	/* A long path or URL keeps its end, the file name, in view. */
	int room = wd - x - (err != NULL ? 20 : 0);
	if (tui_width(src) > room && room > 3) {
		snprintf(line, sizeof(line), "...%s", src + strlen(src) - (size_t)(room - 3));
		src = line;
	}
	x += tui_put(w, y, x, wd - x, A_NORMAL, src);
	if (err != NULL && x < wd) {
		tui_putf(w, y, x, wd - x, tui_attr(TUI_ERROR), "  error: %s", err);
	}
}

/*
 * The rows of the lists table: `block lists` when the daemon has it, else the rows of
 * `block list` and `allow list` in its shape (no update times there).  New reference.
 */
static json_t *
list_rows(const struct blocking *b)
{
	if (!b->lists_unknown) {
		return json_incref(json_object_get(b->lists, "lists"));
	}
	json_t *out = json_array();
	const json_t *src[2] = { b->blist, b->alist };
	for (int k = 0; k < 2; k++) {
		size_t i;
		const json_t *l;
		json_array_foreach(json_object_get(src[k], "lists"), i, l) {
			const char *status = json_string_value(json_object_get(l, "status"));
			json_t *row = json_pack("{s:O, s:s, s:O, s:O, s:n, s:n}",
						"source", json_object_get(l, "list"),
						"kind", k == 0 ? "block" : "allow",
						"names", json_object_get(l, "names"),
						"skipped", json_object_get(l, "malformed"),
						"updated", "next_update");
			if (row == NULL) {
				continue;
			}
			json_object_set(row, "group", json_object_get(l, "group"));
			if (status != NULL && strcmp(status, "ok") != 0) {
				json_object_set_new(row, "error", json_string(status));
			}
			json_array_append_new(out, row);
		}
	}
	return out;
}

/* A top list: "count key" rows; with a selection when sel is not NULL. */
static void
draw_top(struct blocking *b, WINDOW *w, int y, int x, int h, int wd, const char *title,
	 const char *member, struct tui_list *sel)
{
	tui_put(w, y, x, wd, tui_attr(TUI_HEADER), title);
	const json_t *rows = json_object_get(b->top, member);
	int n = (int)json_array_size(rows);
	if (!json_is_array(rows)) {
		tui_put(w, y + 1, x, wd, tui_attr(TUI_DIM), b->top == NULL ? "loading..." : "-");
		return;
	}
	if (n == 0) {
		tui_put(w, y + 1, x, wd, tui_attr(TUI_DIM), "(none yet)");
		return;
	}
	int body = h - 1;
	struct tui_list none = { -1, 0 };
	struct tui_list *l = sel != NULL ? sel : &none;
	if (sel != NULL) {
		b->rows = body;
		tui_list_fit(sel, n, body);
	}
	for (int i = l->top; i < n && i - l->top < body; i++) {
		const json_t *e = json_array_get(rows, (size_t)i);
		int ry = y + 1 + i - l->top;
		attr_t a = A_NORMAL;
		if (sel != NULL) {
			/* tui_list_row fills the whole width: fill only this column. */
			a = i == sel->sel ? tui_attr(TUI_SELECTED) : A_NORMAL;
			tui_fill(w, ry, x, 1, wd, a);
		}
		char num[32];
		tui_num(json_object_get(e, "count"), 0, num, sizeof(num));
		const char *k = json_string_value(json_object_get(e, "key"));
		tui_putf(w, ry, x, wd, a, "%8s  %s", num, k != NULL ? k : "-");
	}
}

static void
blk_draw(struct tui *t, WINDOW *w, int y, int h, int wd)
{
	struct blocking *b = B(t);
	if (b->unknown) {
		tui_put(w, y, 0, wd, tui_attr(TUI_HEADER), "Blocking");
		tui_put(w, y + 2, 2, wd - 2, A_BOLD, "blocking not available in this daemon");
		return;
	}
	int r = y + draw_state(t, w, y, wd);
	if (b->err[0] != '\0') {
		tui_put(w, r++, 0, wd, tui_attr(TUI_ERROR), b->err);
	}
	json_t *rows = list_rows(b);
	int n = (int)json_array_size(rows);
	char head[256];
	snprintf(head, sizeof(head), "%-5s %-8s %9s %7s %-11s %-11s %s", "KIND", "GROUP", "NAMES",
		 "SKIPPED", "UPDATED", "NEXT", "SOURCE");
	tui_put(w, r++, 0, wd, tui_attr(TUI_HEADER), head);
	/* The lists take at most a third of the screen; the top lists the rest. */
	int maxl = (h - 4) / 3 > 1 ? (h - 4) / 3 : 1;
	if (n == 0) {
		tui_put(w, r++, 0, wd, tui_attr(TUI_DIM), "no lists configured");
	}
	for (int i = 0; i < n && i < maxl; i++) {
		int left = n - i;
		if (i == maxl - 1 && left > 1) {
			tui_putf(w, r++, 0, wd, tui_attr(TUI_DIM), "... and %d more (tdns-cli block "
				 "lists)", left);
			break;
		}
		draw_list_row(w, r++, wd, json_array_get(rows, (size_t)i));
	}
	json_decref(rows);
	r++;
	int th = y + h - 1 - r;   /* the last row is for the prompt */
	if (th >= 2) {
		int lw = wd >= 60 ? wd * 3 / 5 : wd;
		const char *title = b->pick == PICK_BLOCKED ? "Top blocked names (Tab: all names)"
							     : "Top names (Tab: blocked names)";
		draw_top(b, w, r, 0, th, lw, title, pick_member(b->pick), &b->sel);
		if (lw < wd) {
			draw_top(b, w, r, lw + 2, th, wd - lw - 2, "Top blocked clients",
				 "blocked_clients", NULL);
		}
	}
	int last = y + h - 1;
	if (b->typing != TYPING_NONE) {
		const char *p = b->typing == TYPING_PAUSE ? "Pause blocking for (15m, 1h, 90s): "
							  : "Block name: ";
		int px = tui_put(w, last, 0, wd, A_BOLD, p);
		tui_input_draw(w, last, px, wd - px - 1, &b->in, true);
	}
}

static const char *const blk_help[] = {
	"Blocking: state, lists (`block lists`), top blocked names and clients.",
	"Up Down PgUp PgDn Home End   select a name in the top list",
	"Tab          the top list: blocked names, or every name asked",
	"a            allow the selected name (`allow add`: never blocked again)",
	"b            block a name (`block add`), the selected one to start with",
	"p            pause blocking for a while (asks how long), or resume a pause",
	"r            ask the daemon again now",
	NULL,
};

const struct tui_screen tui_screen_block = {
	.name = "Blocking",
	.keys = "a Allow|b Block|p Pause/Resume|Tab List|r Refresh",
	.help = blk_help,
	.init = blk_init,
	.fini = blk_fini,
	.enter = blk_enter,
	.tick = blk_tick,
	.draw = blk_draw,
	.key = blk_key,
	.typing = blk_typing,
	.conn_state = blk_conn_state,
};
