/* SPDX-License-Identifier: MIT */
/* tdns-tui screen 4, the cache: browse and look up entries (`cache list`), flush, delete. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "ctl/ctl.h"
#include "tui/tui.h"

#define REFRESH_MS 3000
#define MAX_COLS 12

enum confirm { CONFIRM_NONE, CONFIRM_FLUSH, CONFIRM_DELETE };

struct cache {
	json_t *data;          /* the last `cache list` data */
	bool unknown;          /* the daemon has no cache commands */
	char err[256];
	char lookup[512];      /* the NAME given to `cache list`, "" for every entry */
	bool typing;
	struct tui_input in;
	enum confirm confirm;
	char del_name[512];
	struct tui_list sel;
	int rows;
	long long next;
};

static struct cache *
C(struct tui *t)
{
	return t->cache;
}

static void
cache_init(struct tui *t)
{
	t->cache = tdns_xcalloc(1, sizeof(struct cache));
}

static void
cache_fini(struct tui *t)
{
	json_decref(C(t)->data);
	free(t->cache);
}

static void
cache_enter(struct tui *t)
{
	C(t)->next = 0;
}

static void
cache_conn_state(struct tui *t, bool up)
{
	/* A restarted daemon may have been built with a cache: ask again. */
	C(t)->unknown = false;
	if (up) {
		cache_enter(t);
	}
}

static void
list_reply(void *ctx, json_t *reply)
{
	struct cache *c = C(ctx);
	if (tui_reply_unknown(reply)) {
		c->unknown = true;
		return;
	}
	tui_reply_keep(reply, &c->data, c->err, sizeof(c->err), NULL);
}

static void
ask_list(struct tui *t)
{
	struct cache *c = C(t);
	c->next = tui_now_ms() + REFRESH_MS;
	json_t *args = json_object();
	if (c->lookup[0] != '\0') {
		json_object_set_new(args, "name", json_string(c->lookup));
	}
	tui_conn_request(t->conn, "cache list", args, "cache", list_reply, t);
}

static void
cache_tick(struct tui *t)
{
	struct cache *c = C(t);
	/* Our own command table says whether this build knows the cache commands at all. */
	if (ctl_cmd_find("cache list") == NULL) {
		c->unknown = true;
		return;
	}
	if (c->unknown || !tui_conn_up(t->conn) || tui_now_ms() < c->next ||
	    tui_conn_pending(t->conn, "cache")) {
		return;
	}
	ask_list(t);
}

/* "flushed 12" from a reply's data, whatever its shape. */
static void
change_reply(void *ctx, json_t *reply)
{
	struct tui *t = ctx;
	if (!json_is_true(json_object_get(reply, "ok"))) {
		tui_message(t, true, "%s", tui_reply_unknown(reply) ? "cache not available in this "
				      "daemon" : tui_reply_error(reply));
		return;
	}
	const json_t *d = json_object_get(reply, "data");
	char text[256] = "done";
	if (json_is_object(d)) {
		size_t off = 0;
		const char *k;
		const json_t *v;
		json_object_foreach((json_t *)d, k, v) {
			char num[64];
			int n = snprintf(text + off, sizeof(text) - off, "%s%s %s", off ? ", " : "",
					 k, tui_num(v, 0, num, sizeof(num)));
			off += n > 0 ? (size_t)n : 0;
			if (off >= sizeof(text)) {
				break;
			}
		}
	}
	tui_message(t, false, "cache: %s", text);
	ask_list(t);
}

/* The rows of a `cache list` reply: the array itself or its first array member. */
static const json_t *
entries(const json_t *data)
{
	if (json_is_array(data)) {
		return data;
	}
	const char *k;
	const json_t *v;
	json_object_foreach((json_t *)data, k, v) {
		if (json_is_array(v)) {
			return v;
		}
	}
	return NULL;
}

static const char *
entry_name(const json_t *e)
{
	const char *s = json_string_value(json_object_get(e, "name"));
	return s != NULL ? s : json_string_value(json_object_get(e, "key"));
}

static bool
cache_typing(struct tui *t)
{
	return C(t)->typing || C(t)->confirm != CONFIRM_NONE;
}

static bool
cache_key(struct tui *t, int ch, bool fkey)
{
	struct cache *c = C(t);
	if (c->typing) {
		enum tui_input_result r = tui_input_key(&c->in, ch, fkey);
		if (r == TUI_INPUT_ESCAPE) {
			c->typing = false;
		} else if (r == TUI_INPUT_ENTER) {
			c->typing = false;
			snprintf(c->lookup, sizeof(c->lookup), "%s", c->in.buf);
			c->sel = (struct tui_list){ 0, 0 };
			ask_list(t);
		}
		return true;
	}
	if (c->confirm != CONFIRM_NONE) {
		enum confirm what = c->confirm;
		c->confirm = CONFIRM_NONE;
		if (fkey || (ch != 'y' && ch != 'Y')) {
			tui_message(t, false, "cancelled");
			return true;
		}
		bool sent;
		if (what == CONFIRM_FLUSH) {
			sent = tui_conn_request(t->conn, "cache flush", NULL, "cachechg",
						change_reply, t);
		} else {
			sent = tui_conn_request(t->conn, "cache delete",
						json_pack("{s:s}", "name", c->del_name), "cachechg",
						change_reply, t);
		}
		if (!sent) {
			tui_message(t, true, "disconnected from the daemon");
		}
		return true;
	}
	if (c->unknown) {
		return false;
	}
	const json_t *rows = entries(c->data);
	int n = (int)json_array_size(rows);
	if (tui_list_key(&c->sel, n, c->rows > 1 ? c->rows : 10, ch, fkey)) {
		return true;
	}
	if (fkey) {
		return false;
	}
	switch (ch) {
	case '/':
		c->typing = true;
		tui_input_set(&c->in, c->lookup);
		return true;
	case 'f':
		c->confirm = CONFIRM_FLUSH;
		return true;
	case 'd': {
		const json_t *e = n > 0 ? json_array_get(rows, (size_t)c->sel.sel) : NULL;
		const char *name = e != NULL ? entry_name(e) : NULL;
		if (name != NULL) {
			snprintf(c->del_name, sizeof(c->del_name), "%s", name);
			c->confirm = CONFIRM_DELETE;
		}
		return true;
	}
	case 'r':
		ask_list(t);
		return true;
	case TUI_ESC:
		c->lookup[0] = '\0';
		ask_list(t);
		return true;
	default:
		return false;
	}
}

/* A scalar member as table text. */
static const char *
cell(const json_t *v, char *buf, size_t len)
{
	if (json_is_boolean(v)) {
		return json_is_true(v) ? "yes" : "no";
	}
	if (json_is_object(v) || json_is_array(v)) {
		char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		snprintf(buf, len, "%s", s != NULL ? s : "?");
		free(s);
		return buf;
	}
	return tui_num(v, 1, buf, len);
}

/* A table of an array of objects, the columns from the first row's members. */
static void
draw_table(struct cache *c, WINDOW *w, int y, int h, int wd, const json_t *rows)
{
	/* The columns people look at first, then whatever else the daemon sends. */
	static const char *const preferred[] = { "name", "type", "ttl_left", "ttl", "hits",
						 "records", "size", "negative", "stale", "rcode",
						 NULL };
	const char *keys[MAX_COLS];
	int width[MAX_COLS], ncols = 0;
	const json_t *first = json_array_get(rows, 0);
	for (int i = 0; preferred[i] != NULL && ncols < MAX_COLS; i++) {
		if (json_object_get(first, preferred[i]) != NULL) {
			keys[ncols++] = preferred[i];
		}
	}
	const char *k;
	const json_t *v;
	json_object_foreach((json_t *)first, k, v) {
		bool seen = false;
		for (int j = 0; j < ncols && !seen; j++) {
			seen = strcmp(keys[j], k) == 0;
		}
		if (!seen && ncols < MAX_COLS) {
			keys[ncols++] = k;
		}
	}
	for (int j = 0; j < ncols; j++) {
		width[j] = tui_width(keys[j]);
	}
	int n = (int)json_array_size(rows);
	for (int i = 0; i < n && i < 500; i++) {
		for (int j = 0; j < ncols; j++) {
			char buf[512];
			const json_t *row = json_array_get(rows, (size_t)i);
			int cw = tui_width(cell(json_object_get(row, keys[j]), buf, sizeof(buf)));
			width[j] = cw > width[j] ? (cw > 40 ? 40 : cw) : width[j];
		}
	}
	int x = 0;
	for (int j = 0; j < ncols && x < wd; j++) {
		char h1[64];
		snprintf(h1, sizeof(h1), "%s", keys[j]);
		for (char *p = h1; *p != '\0'; p++) {
			*p = *p >= 'a' && *p <= 'z' ? (char)(*p - 'a' + 'A') : *p;
		}
		tui_put(w, y, x, width[j], tui_attr(TUI_HEADER), h1);
		x += width[j] + 2;
	}
	int rows_h = h - 1;
	c->rows = rows_h;
	tui_list_fit(&c->sel, n, rows_h);
	for (int i = c->sel.top; i < n && i - c->sel.top < rows_h; i++) {
		int ry = y + 1 + i - c->sel.top;
		attr_t a = tui_list_row(w, ry, wd, &c->sel, i);
		x = 0;
		for (int j = 0; j < ncols && x < wd; j++) {
			char buf[512];
			tui_put(w, ry, x, width[j] < wd - x ? width[j] : wd - x, a,
				cell(json_object_get(json_array_get(rows, (size_t)i), keys[j]), buf,
				     sizeof(buf)));
			x += width[j] + 2;
		}
	}
}

static void
cache_draw(struct tui *t, WINDOW *w, int y, int h, int wd)
{
	struct cache *c = C(t);
	if (c->unknown) {
		tui_put(w, y, 0, wd, tui_attr(TUI_HEADER), "Cache");
		tui_put(w, y + 2, 2, wd - 2, A_BOLD, "cache not available in this daemon");
		return;
	}
	const json_t *rows = entries(c->data);
	int n = (int)json_array_size(rows);
	int x = tui_putf(w, y, 0, wd, tui_attr(TUI_HEADER), "Cache%s%s: %d entries",
			 c->lookup[0] != '\0' ? " at and below " : "", c->lookup, n);
	/* The cache's own counters, when the reply has them. */
	static const char *const counters[] = { "total", "bytes", "max_bytes", "hits", "misses",
						NULL };
	for (int i = 0; counters[i] != NULL && json_is_object(c->data); i++) {
		const json_t *cv = json_object_get(c->data, counters[i]);
		char num[32];
		if (json_is_integer(cv)) {
			x += tui_putf(w, y, x, wd - x, A_NORMAL, "  %s %s", counters[i],
				      tui_num(cv, 0, num, sizeof(num)));
		}
	}
	int top = y + 1, body = h - 2;
	if (c->err[0] != '\0') {
		tui_put(w, top++, 0, wd, tui_attr(TUI_ERROR), c->err);
		body--;
	}
	if (c->data == NULL) {
		tui_put(w, top, 0, wd, tui_attr(TUI_DIM),
			tui_conn_up(t->conn) ? "loading..." : "disconnected, retrying");
	} else if (n == 0) {
		tui_put(w, top, 0, wd, tui_attr(TUI_DIM), "no entries");
	} else {
		draw_table(c, w, top, body, wd, rows);
	}
	int last = y + h - 1;
	if (c->typing) {
		int px = tui_put(w, last, 0, wd, A_BOLD, "Look up name: ");
		tui_input_draw(w, last, px, wd - px - 1, &c->in, true);
	} else if (c->confirm == CONFIRM_FLUSH) {
		tui_put(w, last, 0, wd, tui_attr(TUI_ERROR) | A_REVERSE,
			"Flush the whole cache? (y/n)");
	} else if (c->confirm == CONFIRM_DELETE) {
		tui_putf(w, last, 0, wd, tui_attr(TUI_ERROR) | A_REVERSE,
			 "Delete the cache entries of %s? (y/n)", c->del_name);
	}
}

static const char *const cache_help[] = {
	"Cache: the resolver cache's entries (`cache list [NAME]`).",
	"/            look up a name: its entries and those below it (empty: all)",
	"f            flush the whole cache, after a y/n question",
	"d            delete the selected name's entries, after a y/n question",
	"r            reload;  Esc: back to every entry",
	"Up Down PgUp PgDn Home End   move the selection",
	NULL,
};

const struct tui_screen tui_screen_cache = {
	.name = "Cache",
	.keys = "/ Lookup|f Flush|d Delete|r Reload",
	.help = cache_help,
	.init = cache_init,
	.fini = cache_fini,
	.enter = cache_enter,
	.tick = cache_tick,
	.draw = cache_draw,
	.key = cache_key,
	.typing = cache_typing,
	.conn_state = cache_conn_state,
};
