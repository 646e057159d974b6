/* SPDX-License-Identifier: MIT */
/* tdns-tui screen 5, the settings: the running configuration (`config show`), read-only. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "tui/tui.h"

#define REFRESH_MS 10000

struct settings {
	json_t *data;
	char err[256];
	int top;            /* first line shown */
	int rows;
	long long next;
};

static struct settings *
S(struct tui *t)
{
	return t->settings;
}

static void
settings_init(struct tui *t)
{
	t->settings = tdns_xcalloc(1, sizeof(struct settings));
}

static void
settings_fini(struct tui *t)
{
	json_decref(S(t)->data);
	free(t->settings);
}

static void
settings_enter(struct tui *t)
{
	S(t)->next = 0;
}

static void
settings_conn_state(struct tui *t, bool up)
{
	if (up) {
		settings_enter(t);
	}
}

static void
show_reply(void *ctx, json_t *reply)
{
	struct settings *s = S(ctx);
	tui_reply_keep(reply, &s->data, s->err, sizeof(s->err), "config show");
}

static void
settings_tick(struct tui *t)
{
	struct settings *s = S(t);
	long long now = tui_now_ms();
	if (tui_conn_up(t->conn) && now >= s->next && !tui_conn_pending(t->conn, "config")) {
		s->next = now + REFRESH_MS;
		tui_conn_request(t->conn, "config show", NULL, "config", show_reply, t);
	}
}

/* A value as text: strings as they are, arrays as "a, b", the rest as JSON. */
static void
value_text(const json_t *v, char *buf, size_t len)
{
	if (json_is_string(v)) {
		snprintf(buf, len, "%s", json_string_value(v));
	} else if (v == NULL || json_is_null(v)) {
		buf[0] = '\0';
	} else {
		char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		snprintf(buf, len, "%s", s != NULL ? s : "?");
		free(s);
	}
}

/*
 * The lines to show: "[section]" headings and "key = value" rows from "keys" (SECTION.KEY)
 * grouped by section, or from "sections" when the daemon sends only those.
 */
/* Appends the line "key = value" to out, the key padded to width. */
static void
add_setting(json_t *out, int width, const char *key, const json_t *value)
{
	char line[4200], val[4096];
	value_text(value, val, sizeof(val));
	snprintf(line, sizeof(line), "%-*s = %s", width, key, val);
	json_array_append_new(out, json_string(line));
}

static json_t *
build_lines(const json_t *data)
{
	json_t *out = json_array();
	const json_t *keys = json_object_get(data, "keys");
	const json_t *secs = json_object_get(data, "sections");
	if (json_is_object(secs)) {
		const char *sec;
		const json_t *kv;
		json_object_foreach((json_t *)secs, sec, kv) {
			if (json_array_size(out) > 0) {
				json_array_append_new(out, json_string(""));
			}
			char head[4200];
			snprintf(head, sizeof(head), "[%s]", sec);
			json_array_append_new(out, json_string(head));
			const char *k;
			const json_t *v;
			json_object_foreach((json_t *)kv, k, v) {
				add_setting(out, 24, k, v);
			}
		}
	} else if (json_is_array(keys)) {
		size_t i;
		const json_t *e;
		json_array_foreach(keys, i, e) {
			const char *k = json_string_value(json_object_get(e, "key"));
			add_setting(out, 32, k != NULL ? k : "?", json_object_get(e, "value"));
		}
	} else if (json_is_object(data)) {
		const char *k;
		const json_t *v;
		json_object_foreach((json_t *)data, k, v) {
			add_setting(out, 32, k, v);
		}
	}
	return out;
}

static bool
settings_key(struct tui *t, int ch, bool fkey)
{
	struct settings *s = S(t);
	if (!fkey && ch == ' ') {
		s->top += s->rows > 1 ? s->rows - 1 : 1;
		return true;
	}
	/* The first line shown moves as a list's selection would; drawing keeps it in range. */
	struct tui_list l = { .sel = s->top };
	if (tui_list_key(&l, 1 << 30, s->rows, ch, fkey)) {
		s->top = l.sel;
		return true;
	}
	if (!fkey && ch == 'r') {
		s->next = 0;
		return true;
	}
	return false;
}

static void
settings_draw(struct tui *t, WINDOW *w, int y, int h, int wd)
{
	struct settings *s = S(t);
	const char *file = json_string_value(json_object_get(s->data, "file"));
	tui_putf(w, y, 0, wd, tui_attr(TUI_HEADER), "Running configuration (read-only)%s%s",
		 file != NULL ? ": " : "", file != NULL ? file : "");
	int top = y + 1, rows = h - 1;
	if (s->err[0] != '\0') {
		tui_put(w, top++, 0, wd, tui_attr(TUI_ERROR), s->err);
		rows--;
	}
	if (s->data == NULL) {
		tui_put(w, top, 0, wd, tui_attr(TUI_DIM),
			tui_conn_up(t->conn) ? "loading..." : "disconnected, retrying");
		return;
	}
	json_t *lines = build_lines(s->data);
	int n = (int)json_array_size(lines);
	s->rows = rows;
	int max = n - rows > 0 ? n - rows : 0;
	s->top = s->top > max ? max : s->top < 0 ? 0 : s->top;
	for (int i = s->top; i < n && i - s->top < rows; i++) {
		const char *text = json_string_value(json_array_get(lines, (size_t)i));
		attr_t a = text[0] == '[' ? tui_attr(TUI_HEADER) : A_NORMAL;
		tui_put(w, top + i - s->top, 0, wd, a, text);
	}
	if (n > rows) {
		char pos[64];
		snprintf(pos, sizeof(pos), " %d-%d of %d ", s->top + 1,
			 s->top + rows < n ? s->top + rows : n, n);
		tui_put(w, y, wd - tui_width(pos), tui_width(pos), tui_attr(TUI_DIM), pos);
	}
	json_decref(lines);
}

static const char *const settings_help[] = {
	"Settings: the running configuration from `config show`, read-only.",
	"Change it with `tdns-cli config set SECTION.KEY VALUE` (comments kept).",
	"Up Down PgUp PgDn Home End, j k space   scroll",
	"r            reload from the daemon",
	NULL,
};

const struct tui_screen tui_screen_settings = {
	.name = "Settings",
	.keys = "Up/Down Scroll|PgUp/PgDn Page|r Reload",
	.help = settings_help,
	.init = settings_init,
	.fini = settings_fini,
	.enter = settings_enter,
	.tick = settings_tick,
	.draw = settings_draw,
	.key = settings_key,
	.conn_state = settings_conn_state,
};
