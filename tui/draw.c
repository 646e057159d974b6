/* SPDX-License-Identifier: MIT */
/* tdns-tui drawing helpers: clipped text, lines, boxes, bar charts, text fields and lists. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "tui/tui.h"

struct tui_look tui_look;
int tui_cursor_y = -1, tui_cursor_x = -1;

enum {
	PAIR_TITLE = 1,
	PAIR_TAB,
	PAIR_HEADER,
	PAIR_KEYLABEL,
	PAIR_SELECTED,
	PAIR_ERROR,
	PAIR_OK,
	PAIR_BAR,
	PAIR_MATCH,
};

void
tui_draw_init(void)
{
	if (!tui_look.color) {
		return;
	}
	start_color();
	use_default_colors();
	init_pair(PAIR_TITLE, COLOR_BLACK, COLOR_CYAN);
	init_pair(PAIR_TAB, COLOR_BLACK, COLOR_YELLOW);
	init_pair(PAIR_HEADER, COLOR_CYAN, -1);
	init_pair(PAIR_KEYLABEL, COLOR_BLACK, COLOR_CYAN);
	init_pair(PAIR_SELECTED, COLOR_BLACK, COLOR_GREEN);
	init_pair(PAIR_ERROR, COLOR_RED, -1);
	init_pair(PAIR_OK, COLOR_GREEN, -1);
	init_pair(PAIR_BAR, COLOR_GREEN, -1);
	init_pair(PAIR_MATCH, COLOR_BLACK, COLOR_YELLOW);
}

attr_t
tui_attr(enum tui_role role)
{
	bool c = tui_look.color;
	switch (role) {
	case TUI_TITLE:
		return c ? COLOR_PAIR(PAIR_TITLE) : A_REVERSE;
	case TUI_TAB:
		return c ? COLOR_PAIR(PAIR_TAB) | A_BOLD : A_BOLD | A_UNDERLINE;
	case TUI_HEADER:
		return c ? COLOR_PAIR(PAIR_HEADER) | A_BOLD : A_BOLD;
	case TUI_KEY:
		return A_BOLD;
	case TUI_KEYLABEL:
		return c ? COLOR_PAIR(PAIR_KEYLABEL) : A_REVERSE;
	case TUI_SELECTED:
		return c ? COLOR_PAIR(PAIR_SELECTED) : A_REVERSE;
	case TUI_ERROR:
		return c ? COLOR_PAIR(PAIR_ERROR) | A_BOLD : A_BOLD;
	case TUI_OK:
		return c ? COLOR_PAIR(PAIR_OK) : A_NORMAL;
	case TUI_BAR:
		return c ? COLOR_PAIR(PAIR_BAR) : A_NORMAL;
	case TUI_DIM:
		return A_DIM;
	case TUI_MATCH:
		return c ? COLOR_PAIR(PAIR_MATCH) : A_UNDERLINE | A_BOLD;
	case TUI_NORMAL:
	default:
		return A_NORMAL;
	}
}

/* Bytes of the UTF-8 character that starts with byte b (1 for stray bytes). */
static size_t
u8len(unsigned char b)
{
	return b >= 0xf0 && b < 0xf8 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
}

int
tui_put_wrapped(WINDOW *w, int y, int x, int width, int rows, attr_t attr, const char *s)
{
	int used = 0;
	while (*s != '\0' && width > 0 && (rows == 0 || used < rows)) {
		/* The longest run of whole words that fits (byte count is a safe upper bound). */
		size_t n = strlen(s), cut = n;
		if (tui_width(s) > width) {
			cut = 0;
			for (size_t i = 1; i <= n; i++) {
				if (s[i] == ' ' || s[i] == '\0') {
					char part[1024];
					size_t l = i < sizeof(part) ? i : sizeof(part) - 1;
					memcpy(part, s, l);
					part[l] = '\0';
					if (tui_width(part) > width) {
						break;
					}
					cut = i;
				}
			}
			if (cut == 0) {
				cut = (size_t)width; /* one long word: cut it */
			}
		}
		if (rows != 0) {
			char line[1024];
			size_t l = cut < sizeof(line) ? cut : sizeof(line) - 1;
			memcpy(line, s, l);
			line[l] = '\0';
			tui_put(w, y + used, x, width, attr, line);
		}
		used++;
		s += cut;
		while (*s == ' ') {
			s++;
		}
	}
	return used;
}

int
tui_width(const char *s)
{
	int n = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		n += (*p & 0xc0) != 0x80;
	}
	return n;
}

int
tui_put(WINDOW *w, int y, int x, int width, attr_t attr, const char *s)
{
	int maxx = getmaxx(w), maxy = getmaxy(w);
	if (y < 0 || y >= maxy || x < 0 || x >= maxx || width <= 0 || s == NULL) {
		return 0;
	}
	if (width > maxx - x) {
		width = maxx - x;
	}
	char buf[4096];
	size_t o = 0;
	int cols = 0;
	const unsigned char *p = (const unsigned char *)s;
	while (*p != '\0' && cols < width && o + 5 < sizeof(buf)) {
		size_t l = u8len(*p);
		if (*p < 0x20 || *p == 0x7f) {
			buf[o++] = ' ';
			p++;
		} else if (*p < 0x80) {
			buf[o++] = (char)*p++;
		} else if (!tui_look.utf8 || l == 1 || strnlen((const char *)p, l) < l) {
			/* Not displayable in this locale (or broken): one placeholder column. */
			buf[o++] = '?';
			p += l == 1 || strnlen((const char *)p, l) < l ? 1 : l;
		} else {
			memcpy(buf + o, p, l);
			o += l;
			p += l;
		}
		cols++;
	}
	buf[o] = '\0';
	wattrset(w, attr);
	mvwaddstr(w, y, x, buf);
	wattrset(w, A_NORMAL);
	return cols;
}

int
tui_putf(WINDOW *w, int y, int x, int width, attr_t attr, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return tui_put(w, y, x, width, attr, buf);
}

void
tui_hline(WINDOW *w, int y, int x, int n)
{
	if (n <= 0) {
		return;
	}
	if (tui_look.utf8) {
		mvwhline(w, y, x, ACS_HLINE, n);
	} else {
		mvwhline(w, y, x, '-', n);
	}
}

void
tui_fill(WINDOW *w, int y, int x, int h, int wd, attr_t attr)
{
	wattrset(w, attr);
	for (int r = 0; r < h; r++) {
		mvwhline(w, y + r, x, ' ', wd);
	}
	wattrset(w, A_NORMAL);
}

void
tui_box(WINDOW *w, int y, int x, int h, int wd, const char *title)
{
	if (h < 2 || wd < 2) {
		return;
	}
	bool u = tui_look.utf8;
	chtype hl = u ? ACS_HLINE : '-', vl = u ? ACS_VLINE : '|';
	mvwaddch(w, y, x, u ? ACS_ULCORNER : '+');
	mvwhline(w, y, x + 1, hl, wd - 2);
	mvwaddch(w, y, x + wd - 1, u ? ACS_URCORNER : '+');
	for (int r = 1; r < h - 1; r++) {
		mvwaddch(w, y + r, x, vl);
		mvwaddch(w, y + r, x + wd - 1, vl);
	}
	mvwaddch(w, y + h - 1, x, u ? ACS_LLCORNER : '+');
	mvwhline(w, y + h - 1, x + 1, hl, wd - 2);
	mvwaddch(w, y + h - 1, x + wd - 1, u ? ACS_LRCORNER : '+');
	if (title != NULL && title[0] != '\0') {
		tui_putf(w, y, x + 2, wd - 4, tui_attr(TUI_HEADER), " %s ", title);
	}
}

int
tui_chart(WINDOW *w, int y, int x, int h, int wd, const double *v, size_t n)
{
	static const char *const eighths[9] = { " ", "\u2581", "\u2582", "\u2583", "\u2584",
						"\u2585", "\u2586", "\u2587", "\u2588" };
	static const char *const ascii[9] = { " ", ".", ".", ".", ":", ":", ":", ":", "#" };
	if (h <= 0 || wd <= 0) {
		return 1;
	}
	size_t per = n > (size_t)wd ? (n + (size_t)wd - 1) / (size_t)wd : 1;
	size_t cols = (n + per - 1) / per;
	double col[1024];
	if (cols > 1024) {
		cols = 1024;
	}
	double max = 0;
	/* Buckets are aligned on the newest value, so the right edge is always "now". */
	for (size_t c = 0; c < cols; c++) {
		size_t end = n - c * per, start = end >= per ? end - per : 0;
		double sum = 0;
		for (size_t i = start; i < end; i++) {
			sum += v[i];
		}
		col[cols - 1 - c] = end > start ? sum / (double)(end - start) : 0;
		max = col[cols - 1 - c] > max ? col[cols - 1 - c] : max;
	}
	attr_t bar = tui_attr(TUI_BAR);
	for (size_t c = 0; c < cols; c++) {
		int level = 0;
		if (max > 0 && col[c] > 0) {
			level = (int)(col[c] / max * h * 8 + 0.5);
			level = level < 1 ? 1 : level;
		}
		int cx = x + wd - (int)cols + (int)c;
		for (int r = 0; r < h; r++) {
			int cell = level - r * 8;
			cell = cell < 0 ? 0 : cell > 8 ? 8 : cell;
			const char *glyph = tui_look.utf8 ? eighths[cell] : ascii[cell];
			tui_put(w, y + h - 1 - r, cx, 1, bar, glyph);
		}
	}
	return (int)per;
}

const char *
tui_num(const json_t *v, int prec, char *buf, size_t len)
{
	if (json_is_integer(v)) {
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	} else if (json_is_real(v)) {
		snprintf(buf, len, "%.*f", prec, json_real_value(v));
	} else if (json_is_string(v)) {
		snprintf(buf, len, "%s", json_string_value(v));
	} else {
		snprintf(buf, len, "-");
	}
	return buf;
}

const char *
tui_reply_error(const json_t *reply)
{
	const json_t *e = json_object_get(reply, "error");
	const char *msg = json_string_value(json_object_get(e, "message"));
	const char *id = json_string_value(json_object_get(e, "id"));
	return msg != NULL ? msg : id != NULL ? id : "the daemon said no";
}

bool
tui_reply_is(const json_t *reply, const char *id)
{
	const char *e = json_string_value(json_object_get(json_object_get(reply, "error"), "id"));
	return e != NULL && strcmp(e, id) == 0;
}

bool
tui_reply_unknown(const json_t *reply)
{
	return tui_reply_is(reply, "EUNKNOWNCMD");
}

void
tui_reply_keep(const json_t *reply, json_t **slot, char *err, size_t errlen, const char *what)
{
	if (json_is_true(json_object_get(reply, "ok"))) {
		json_decref(*slot);
		*slot = json_incref(json_object_get(reply, "data"));
		err[0] = '\0';
	} else if (!tui_reply_is(reply, "EIO")) {
		snprintf(err, errlen, "%s%s%s", what != NULL ? what : "", what != NULL ? ": " : "",
			 tui_reply_error(reply));
	}
}

/* ------------------------------------------------------------------------------------------ */
/* Text fields                                                                                  */

void
tui_input_set(struct tui_input *in, const char *s)
{
	size_t l = strlen(s);
	if (l >= sizeof(in->buf)) {
		l = sizeof(in->buf) - 1;
		while (l > 0 && ((unsigned char)s[l] & 0xc0) == 0x80) {
			l--;
		}
	}
	memcpy(in->buf, s, l);
	in->buf[l] = '\0';
	in->len = in->cur = l;
}

static size_t
prev_char(const struct tui_input *in, size_t at)
{
	while (at > 0) {
		at--;
		if (((unsigned char)in->buf[at] & 0xc0) != 0x80) {
			break;
		}
	}
	return at;
}

static size_t
next_char(const struct tui_input *in, size_t at)
{
	if (at < in->len) {
		at++;
	}
	while (at < in->len && ((unsigned char)in->buf[at] & 0xc0) == 0x80) {
		at++;
	}
	return at;
}

static void
erase_range(struct tui_input *in, size_t from, size_t to)
{
	memmove(in->buf + from, in->buf + to, in->len - to + 1);
	in->len -= to - from;
	in->cur = from;
}

enum tui_input_result
tui_input_key(struct tui_input *in, int ch, bool fkey)
{
	if (fkey) {
		switch (ch) {
		case KEY_LEFT:
			in->cur = prev_char(in, in->cur);
			return TUI_INPUT_NONE;
		case KEY_RIGHT:
			in->cur = next_char(in, in->cur);
			return TUI_INPUT_NONE;
		case KEY_HOME:
			in->cur = 0;
			return TUI_INPUT_NONE;
		case KEY_END:
			in->cur = in->len;
			return TUI_INPUT_NONE;
		case KEY_BACKSPACE:
			if (in->cur > 0) {
				erase_range(in, prev_char(in, in->cur), in->cur);
				return TUI_INPUT_CHANGED;
			}
			return TUI_INPUT_NONE;
		case KEY_DC:
			if (in->cur < in->len) {
				erase_range(in, in->cur, next_char(in, in->cur));
				return TUI_INPUT_CHANGED;
			}
			return TUI_INPUT_NONE;
		case KEY_ENTER:
			return TUI_INPUT_ENTER;
		default:
			return TUI_INPUT_NONE;
		}
	}
	switch (ch) {
	case '\n':
	case '\r':
		return TUI_INPUT_ENTER;
	case TUI_ESC:
		return TUI_INPUT_ESCAPE;
	case 127:
	case 8:
		return tui_input_key(in, KEY_BACKSPACE, true);
	case 1: /* ^A */
		return tui_input_key(in, KEY_HOME, true);
	case 5: /* ^E */
		return tui_input_key(in, KEY_END, true);
	case 21: /* ^U: erase to the start, as in a shell */
		erase_range(in, 0, in->cur);
		return TUI_INPUT_CHANGED;
	default:
		break;
	}
	if (ch < 0x20 || ch > 0x10ffff || (ch >= 0xd800 && ch < 0xe000)) {
		return TUI_INPUT_NONE;
	}
	char u[4];
	size_t l;
	if (ch < 0x80) {
		u[0] = (char)ch;
		l = 1;
	} else if (ch < 0x800) {
		u[0] = (char)(0xc0 | (ch >> 6));
		u[1] = (char)(0x80 | (ch & 0x3f));
		l = 2;
	} else if (ch < 0x10000) {
		u[0] = (char)(0xe0 | (ch >> 12));
		u[1] = (char)(0x80 | ((ch >> 6) & 0x3f));
		u[2] = (char)(0x80 | (ch & 0x3f));
		l = 3;
	} else {
		u[0] = (char)(0xf0 | (ch >> 18));
		u[1] = (char)(0x80 | ((ch >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((ch >> 6) & 0x3f));
		u[3] = (char)(0x80 | (ch & 0x3f));
		l = 4;
	}
	if (in->len + l >= sizeof(in->buf)) {
		return TUI_INPUT_NONE;
	}
	memmove(in->buf + in->cur + l, in->buf + in->cur, in->len - in->cur + 1);
	memcpy(in->buf + in->cur, u, l);
	in->len += l;
	in->cur += l;
	return TUI_INPUT_CHANGED;
}

void
tui_input_draw(WINDOW *w, int y, int x, int width, const struct tui_input *in, bool focused)
{
	if (width <= 0) {
		return;
	}
	/* Characters before the cursor, and the first one shown so that the cursor is visible. */
	int curcol = 0;
	for (size_t i = 0; i < in->cur; i++) {
		curcol += ((unsigned char)in->buf[i] & 0xc0) != 0x80;
	}
	int skip = curcol >= width ? curcol - width + 1 : 0;
	const char *p = in->buf;
	for (int s = 0; s < skip && *p != '\0'; s++) {
		p += u8len((unsigned char)*p);
	}
	attr_t a = focused ? tui_attr(TUI_SELECTED) : A_UNDERLINE;
	tui_fill(w, y, x, 1, width, a);
	tui_put(w, y, x, width, a, p);
	if (focused) {
		tui_cursor_y = y;
		tui_cursor_x = x + curcol - skip;
	}
}

/* ------------------------------------------------------------------------------------------ */
/* Lists                                                                                        */

bool
tui_list_key(struct tui_list *l, int n, int page, int ch, bool fkey)
{
	page = page > 1 ? page - 1 : 1;
	if (fkey) {
		switch (ch) {
		case KEY_UP:
			l->sel--;
			break;
		case KEY_DOWN:
			l->sel++;
			break;
		case KEY_PPAGE:
			l->sel -= page;
			break;
		case KEY_NPAGE:
			l->sel += page;
			break;
		case KEY_HOME:
			l->sel = 0;
			break;
		case KEY_END:
			l->sel = n - 1;
			break;
		default:
			return false;
		}
	} else if (ch == 'k') {
		l->sel--;
	} else if (ch == 'j') {
		l->sel++;
	} else {
		return false;
	}
	l->sel = l->sel >= n ? n - 1 : l->sel;
	l->sel = l->sel < 0 ? 0 : l->sel;
	return true;
}

void
tui_list_fit(struct tui_list *l, int n, int h)
{
	if (n <= 0 || h <= 0) {
		l->sel = l->top = 0;
		return;
	}
	l->sel = l->sel >= n ? n - 1 : l->sel < 0 ? 0 : l->sel;
	if (l->sel < l->top) {
		l->top = l->sel;
	}
	if (l->sel >= l->top + h) {
		l->top = l->sel - h + 1;
	}
	if (l->top > n - h) {
		l->top = n - h > 0 ? n - h : 0;
	}
}

attr_t
tui_list_row(WINDOW *w, int y, int wd, const struct tui_list *l, int i)
{
	if (i != l->sel) {
		return A_NORMAL;
	}
	attr_t a = tui_attr(TUI_SELECTED);
	tui_fill(w, y, 0, 1, wd, a);
	return a;
}
