/* SPDX-License-Identifier: MIT */
/* tdns-tui screen 2, the logs: the query and server logs as they happen, filter, search, pause. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/core.h"
#include "dns/dns.h"
#include "stats/stats.h"
#include "tui/tui.h"

#define RING_LINES 5000
#define SHOW_QUERIES 1000   /* history asked for with `log show` when the stream starts */
#define SHOW_SERVER 300
#define POLL_EVERY_MS 1000  /* when the daemon has `log show` but no `log follow` */
#define HSCROLL_STEP 10     /* columns Left and Right move the view by */

enum { VIEW_QUERIES, VIEW_SERVER, NVIEWS };
enum { TYPING_NONE, TYPING_FILTER, TYPING_SEARCH };

struct line {
	unsigned long long seq;
	char *text;
	json_t *fields;     /* a query's {"type", "client", "name", "qtype", "rcode"}, or NULL */
};

struct ring {
	struct line *v;
	size_t head, n;
	double last_t;      /* newest entry time, to merge polled `log show` replies */
};

struct logs {
	struct ring ring[NVIEWS];
	unsigned long long next_seq;
	int view;
	bool paused;
	unsigned long long pause_seq;   /* lines newer than this wait while paused */
	int scroll;                     /* lines scrolled up from the newest */
	int hscroll;                    /* columns scrolled right (Left, Right) */
	bool streaming;                 /* `log follow` runs */
	bool follow_unknown, show_unknown;
	long long next_poll;
	int typing;
	struct tui_input in;
	char filter[512], search[512];
	/* The filter parsed: client:, name:, type:, rcode: fields, and the rest as text. */
	struct stats_log_filter ff;
	char ftext[512];
	char ferr[256];
	unsigned long long match_seq;   /* the current search match, 0: none */
	char err[256];
	int rows;                       /* lines shown at the last draw (for paging) */
};

static struct logs *
L(struct tui *t)
{
	return t->logs;
}

static void
ring_clear(struct ring *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[(r->head + i) % RING_LINES].text);
		json_decref(r->v[(r->head + i) % RING_LINES].fields);
	}
	r->head = r->n = 0;
	r->last_t = 0;
}

static const struct line *
ring_at(const struct ring *r, size_t i)
{
	return &r->v[(r->head + i) % RING_LINES];
}

/* Appends a line of text with its fields (owned from now on; NULL for none). */
static void
ring_push(struct logs *l, struct ring *r, const char *text, json_t *fields)
{
	if (r->n == RING_LINES) {
		free(r->v[r->head].text);
		json_decref(r->v[r->head].fields);
		r->head = (r->head + 1) % RING_LINES;
		r->n--;
	}
	struct line *ln = &r->v[(r->head + r->n) % RING_LINES];
	ln->seq = ++l->next_seq;
	ln->text = tdns_xstrdup(text);
	ln->fields = fields;
	r->n++;
}

/* "HH:MM:SS" of a unix time with fractions. */
static void
clock_text(const json_t *t, char *buf, size_t len)
{
	if (!json_is_number(t)) {
		snprintf(buf, len, "--:--:--");
		return;
	}
	time_t tt = (time_t)json_number_value(t);
	struct tm tm;
	localtime_r(&tt, &tm);
	strftime(buf, len, "%H:%M:%S", &tm);
}

static const char *
str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s != NULL ? s : "-";
}

/* Formats one entry into its ring; entries older than since are skipped (polled merges). */
static void
add_entry(struct logs *l, const json_t *e, bool merge)
{
	const char *type = json_string_value(json_object_get(e, "type"));
	if (type == NULL) {
		return;
	}
	char line[2048], ts[32];
	if (strcmp(type, "dropped") == 0) {
		snprintf(line, sizeof(line), "--- %lld entries dropped: the stream was too fast "
			 "---", (long long)json_integer_value(json_object_get(e, "count")));
		ring_push(l, &l->ring[VIEW_QUERIES], line, NULL);
		return;
	}
	int view = strcmp(type, "query") == 0 ? VIEW_QUERIES
		   : strcmp(type, "server") == 0 ? VIEW_SERVER : -1;
	if (view < 0) {
		return;
	}
	struct ring *r = &l->ring[view];
	double t = json_number_value(json_object_get(e, "t"));
	if (merge && t <= r->last_t) {
		return;
	}
	r->last_t = t > r->last_t ? t : r->last_t;
	clock_text(json_object_get(e, "t"), ts, sizeof(ts));
	if (view == VIEW_QUERIES) {
		char ms[32];
		const json_t *msv = json_object_get(e, "ms");
		if (json_is_number(msv)) {
			tdns_ms_text(json_number_value(msv), ms, sizeof(ms));
		} else {
			tui_num(msv, 2, ms, sizeof(ms));
		}
		/*
		 * Issue 16: a failed answer (a bogus one is SERVFAIL with EDE 6 to 12) shows its
		 * Extended DNS Error where the transport and time are, so that it fits 80 columns.
		 * Issue 18: a blocked answer ends with the list and line (or group) that blocked it.
		 */
		char why[256];
		stats_log_block_text(e, true, why, sizeof(why));
		const json_t *ev = json_object_get(e, "ede");
		if (json_is_integer(ev)) {
			const char *en = dns_ede_name((uint16_t)json_integer_value(ev));
			snprintf(line, sizeof(line), "%s %-15s %-22s %-5s %-8s EDE %lld%s%s%s %s%s%s",
				 ts, str(e, "client"), str(e, "name"), str(e, "qtype"), str(e, "rcode"),
				 (long long)json_integer_value(ev), en != NULL ? " (" : "",
				 en != NULL ? en : "", en != NULL ? ")" : "", str(e, "kind"),
				 why[0] != '\0' ? " " : "", why);
		} else {
			snprintf(line, sizeof(line), "%s %-15s %-22s %-5s %-8s %-4s %8s %s%s%s", ts,
				 str(e, "client"), str(e, "name"), str(e, "qtype"),
				 str(e, "rcode"), str(e, "transport"), ms, str(e, "kind"),
				 why[0] != '\0' ? " " : "", why);
		}
	} else {
		snprintf(line, sizeof(line), "%s %-7s %s", ts, str(e, "level"), str(e, "message"));
	}
	json_t *fields = view != VIEW_QUERIES ? NULL
			 : json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", "query", "client",
				     str(e, "client"), "name", str(e, "name"), "qtype",
				     str(e, "qtype"), "rcode", str(e, "rcode"));
	ring_push(l, r, line, fields);
}

static void
add_entries(struct logs *l, const json_t *reply, bool merge)
{
	const json_t *data = json_object_get(reply, "data");
	const json_t *rows = json_is_array(data) ? data : json_object_get(data, "entries");
	size_t i;
	const json_t *e;
	json_array_foreach(rows, i, e) {
		add_entry(l, e, merge);
	}
}

/* ------------------------------------------------------------------------------------------ */
/* The follow stream (on its own connection) and the polling fallback                           */

static void
follow_frame(void *ctx, json_t *frame)
{
	add_entry(L(ctx), frame, false);
}

static void
follow_reply(void *ctx, json_t *reply)
{
	struct tui *t = ctx;
	struct logs *l = L(t);
	if (json_is_true(json_object_get(reply, "ok"))) {
		l->streaming = true;
		tui_conn_stream(t->follow, follow_frame, t);
		return;
	}
	if (tui_reply_unknown(reply)) {
		/* An older daemon: poll `log show` on the main connection instead. */
		l->follow_unknown = true;
		tui_conn_enable(t->follow, false);
		return;
	}
	snprintf(l->err, sizeof(l->err), "log follow: %s", tui_reply_error(reply));
}

static void
show_reply(void *ctx, json_t *reply)
{
	struct logs *l = L(ctx);
	if (json_is_true(json_object_get(reply, "ok"))) {
		add_entries(l, reply, true);
		l->err[0] = '\0';
	} else if (tui_reply_unknown(reply)) {
		l->show_unknown = true;
	} else if (!tui_reply_is(reply, "EIO")) {
		snprintf(l->err, sizeof(l->err), "log show: %s", tui_reply_error(reply));
	}
}

static void
follow_state(void *ctx, bool up)
{
	struct tui *t = ctx;
	struct logs *l = L(t);
	l->streaming = false;
	if (!up) {
		return;
	}
	/* A new daemon (or a restarted one): its history replaces what we had. */
	for (int v = 0; v < NVIEWS; v++) {
		ring_clear(&l->ring[v]);
	}
	l->show_unknown = false;
	l->match_seq = 0;
	tui_conn_request(t->follow, "log show", json_pack("{s:i, s:b}", "count", SHOW_QUERIES,
							  "queries", 1), "show", show_reply, t);
	tui_conn_request(t->follow, "log show", json_pack("{s:i, s:b}", "count", SHOW_SERVER,
							  "server", 1), "show", show_reply, t);
	tui_conn_request(t->follow, "log follow", NULL, "follow", follow_reply, t);
}

static void
logs_init(struct tui *t)
{
	struct logs *l = tdns_xcalloc(1, sizeof(*l));
	for (int v = 0; v < NVIEWS; v++) {
		l->ring[v].v = tdns_xcalloc(RING_LINES, sizeof(struct line));
	}
	t->logs = l;
	tui_conn_on_state(t->follow, follow_state, t);
}

static void
logs_fini(struct tui *t)
{
	struct logs *l = L(t);
	for (int v = 0; v < NVIEWS; v++) {
		ring_clear(&l->ring[v]);
		free(l->ring[v].v);
	}
	free(l);
}

static void
logs_conn_state(struct tui *t, bool up)
{
	struct logs *l = L(t);
	if (up && l->follow_unknown) {
		/* Maybe the restarted daemon streams; try the follow connection again. */
		l->follow_unknown = false;
		tui_conn_enable(t->follow, true);
	}
}

static void
logs_tick(struct tui *t)
{
	struct logs *l = L(t);
	long long now = tui_now_ms();
	if (!l->follow_unknown || l->show_unknown || !tui_conn_up(t->conn) ||
	    now < l->next_poll || tui_conn_pending(t->conn, "logpoll")) {
		return;
	}
	l->next_poll = now + POLL_EVERY_MS;
	tui_conn_request(t->conn, "log show", json_pack("{s:i, s:b}", "count", SHOW_QUERIES,
							"queries", 1), "logpoll", show_reply, t);
	tui_conn_request(t->conn, "log show", json_pack("{s:i, s:b}", "count", SHOW_SERVER,
							"server", 1), "logpoll", show_reply, t);
}

static void
logs_enter(struct tui *t)
{
	L(t)->next_poll = 0;
}

/* ------------------------------------------------------------------------------------------ */
/* The view: the lines of the current log that pass the filter (and the pause)                  */

/*
 * Splits the filter into client:, name:, type: and rcode: words (the query log's fields, as
 * `log show --client` etc. take them) and the rest, a text the lines must hold.
 */
static void
filter_parse(struct logs *l)
{
	memset(&l->ff, 0, sizeof(l->ff));
	l->ftext[0] = l->ferr[0] = '\0';
	char buf[sizeof(l->filter)];
	snprintf(buf, sizeof(buf), "%s", l->filter);
	bool fields = false;
	size_t tl = 0;
	for (char *save = NULL, *w = strtok_r(buf, " ", &save); w != NULL;
	     w = strtok_r(NULL, " ", &save)) {
		char *colon = strchr(w, ':');
		static const char *const keys[] = { "client", "name", "type", "rcode" };
		size_t k = 0;
		for (; colon != NULL && k < 4; k++) {
			if ((size_t)(colon - w) == strlen(keys[k]) &&
			    strncmp(w, keys[k], strlen(keys[k])) == 0) {
				break;
			}
		}
		if (colon != NULL && k < 4) {
			fields = true;
			char why[200];
			if (colon[1] != '\0' &&
			    stats_log_filter_parse(&l->ff, keys[k], colon + 1, why, sizeof(why)) !=
			    TDNS_OK) {
				snprintf(l->ferr, sizeof(l->ferr), "%s: %s", keys[k], why);
			}
			continue;
		}
		tl += (size_t)snprintf(l->ftext + tl, sizeof(l->ftext) - tl, "%s%s",
				       tl > 0 ? " " : "", w);
		tl = tl < sizeof(l->ftext) ? tl : sizeof(l->ftext) - 1;
	}
	if (!fields) {
		/* Plain text, spaces and all, as before fields existed. */
		snprintf(l->ftext, sizeof(l->ftext), "%s", l->filter);
	}
}

struct view {
	const struct line **v;
	int n;
	int held;   /* lines that passed the filter but wait for the end of the pause */
};

static void
view_build(struct logs *l, struct view *out)
{
	const struct ring *r = &l->ring[l->view];
	out->v = tdns_xcalloc(r->n ? r->n : 1, sizeof(*out->v));
	out->n = 0;
	out->held = 0;
	bool holding = false;   /* from the first line newer than the pause on */
	for (size_t i = 0; i < r->n; i++) {
		const struct line *ln = ring_at(r, i);
		holding = holding || (l->paused && ln->seq > l->pause_seq);
		if (l->ftext[0] != '\0' && strstr(ln->text, l->ftext) == NULL) {
			continue;
		}
		if (l->view == VIEW_QUERIES && stats_log_filter_active(&l->ff) &&
		    (ln->fields == NULL || !stats_log_filter_match(&l->ff, ln->fields))) {
			continue;
		}
		if (holding) {
			out->held++;
		} else {
			out->v[out->n++] = ln;
		}
	}
}

static void
pause_now(struct logs *l)
{
	if (!l->paused) {
		l->paused = true;
		l->pause_seq = l->next_seq;
	}
}

static void
resume(struct logs *l)
{
	l->paused = false;
	l->scroll = 0;
	l->match_seq = 0;
}

/* n (dir -1, older) and N (dir +1, newer): the next line holding the search text. */
static void
search_step(struct tui *t, int dir)
{
	struct logs *l = L(t);
	const char *s = l->search[0] != '\0' ? l->search : l->ftext;
	if (s[0] == '\0') {
		tui_message(t, true, "no search text: press s to type one");
		return;
	}
	pause_now(l);
	struct view v;
	view_build(l, &v);
	int cur = dir < 0 ? v.n : -1;
	for (int i = 0; i < v.n; i++) {
		if (v.v[i]->seq == l->match_seq) {
			cur = i;
			break;
		}
	}
	int found = -1;
	for (int i = cur + dir; i >= 0 && i < v.n; i += dir) {
		if (strstr(v.v[i]->text, s) != NULL) {
			found = i;
			break;
		}
	}
	if (found < 0) {
		tui_message(t, true, "no %s match for \"%s\"", dir < 0 ? "older" : "newer", s);
	} else {
		l->match_seq = v.v[found]->seq;
		/* Scroll so that the match sits in the middle of the window. */
		int rows = l->rows > 0 ? l->rows : 10;
		int sc = v.n - 1 - found - rows / 2;
		l->scroll = sc < 0 ? 0 : sc;
	}
	free(v.v);
}

static bool
logs_typing(struct tui *t)
{
	return L(t)->typing != TYPING_NONE;
}

static bool
logs_key(struct tui *t, int ch, bool fkey)
{
	struct logs *l = L(t);
	if (l->typing != TYPING_NONE) {
		enum tui_input_result r = tui_input_key(&l->in, ch, fkey);
		char *dst = l->typing == TYPING_FILTER ? l->filter : l->search;
		if (r == TUI_INPUT_ESCAPE) {
			l->typing = TYPING_NONE;
		} else if (r == TUI_INPUT_CHANGED || r == TUI_INPUT_ENTER) {
			/* The filter applies as it is typed; Enter closes the field. */
			snprintf(dst, sizeof(l->filter), "%s", l->in.buf);
			filter_parse(l);
			l->scroll = 0;
			if (r == TUI_INPUT_ENTER) {
				int was = l->typing;
				l->typing = TYPING_NONE;
				if (was == TYPING_SEARCH && l->search[0] != '\0') {
					l->match_seq = 0;
					search_step(t, -1);
				}
			}
		}
		return true;
	}
	int page = l->rows > 1 ? l->rows : 10;
	if (fkey) {
		switch (ch) {
		case KEY_UP:
		case KEY_PPAGE:
			pause_now(l);
			l->scroll += ch == KEY_UP ? 1 : page - 1;
			return true;
		case KEY_DOWN:
		case KEY_NPAGE:
			l->scroll -= ch == KEY_DOWN ? 1 : page - 1;
			l->scroll = l->scroll < 0 ? 0 : l->scroll;
			return true;
		case KEY_HOME:
			pause_now(l);
			l->scroll = 1 << 30;
			return true;
		case KEY_END:
			resume(l);
			return true;
		case KEY_LEFT:
		case KEY_RIGHT:
			/* Lines wider than the terminal (a blocked query's reason) come into view. */
			l->hscroll += ch == KEY_RIGHT ? HSCROLL_STEP : -HSCROLL_STEP;
			l->hscroll = l->hscroll < 0 ? 0 : l->hscroll > 2000 ? 2000 : l->hscroll;
			return true;
		default:
			return false;
		}
	}
	switch (ch) {
	case '\t':
		l->view = (l->view + 1) % NVIEWS;
		l->scroll = 0;
		l->match_seq = 0;
		return true;
	case '/':
	case 's':
		l->typing = ch == '/' ? TYPING_FILTER : TYPING_SEARCH;
		tui_input_set(&l->in, ch == '/' ? l->filter : l->search);
		return true;
	case 'n':
		search_step(t, -1);
		return true;
	case 'N':
		search_step(t, +1);
		return true;
	case 'p':
	case ' ':
		if (l->paused) {
			resume(l);
		} else {
			pause_now(l);
		}
		return true;
	case 'c':
	{
		/* Polled merges must not bring the cleared lines back: keep the newest time. */
		double last = l->ring[l->view].last_t;
		ring_clear(&l->ring[l->view]);
		l->ring[l->view].last_t = last;
		return true;
	}
	case TUI_ESC:
		l->filter[0] = l->search[0] = '\0';
		filter_parse(l);
		resume(l);
		l->hscroll = 0;
		return true;
	default:
		return false;
	}
}

/* s without its first n characters (UTF-8), "" when it is shorter. */
static const char *
skip_cols(const char *s, int n)
{
	for (; *s != '\0' && n > 0; n--) {
		s++;
		while (((unsigned char)*s & 0xc0) == 0x80) {
			s++;
		}
	}
	return s;
}

/* One line from column hs on, with the search text highlighted. */
static void
draw_line(WINDOW *w, int y, int wd, int hs, const char *text, const char *search, bool current)
{
	text = skip_cols(text, hs);
	if (current) {
		tui_fill(w, y, 0, 1, wd, tui_attr(TUI_SELECTED));
		tui_put(w, y, 0, wd, tui_attr(TUI_SELECTED), text);
		return;
	}
	const char *m = search[0] != '\0' ? strstr(text, search) : NULL;
	if (m == NULL) {
		tui_put(w, y, 0, wd, A_NORMAL, text);
		return;
	}
	char pre[2048];
	snprintf(pre, sizeof(pre), "%.*s", (int)(m - text), text);
	char hit[512];
	snprintf(hit, sizeof(hit), "%.*s", (int)strlen(search), m);
	int x = tui_put(w, y, 0, wd, A_NORMAL, pre);
	x += tui_put(w, y, x, wd - x, tui_attr(TUI_MATCH), hit);
	tui_put(w, y, x, wd - x, A_NORMAL, m + strlen(search));
}

static void
logs_draw(struct tui *t, WINDOW *w, int y, int h, int wd)
{
	struct logs *l = L(t);
	static const char *const names[NVIEWS] = { "Query log", "Server log" };
	struct view v;
	view_build(l, &v);
	int x = tui_put(w, y, 0, wd, tui_attr(TUI_HEADER), names[l->view]);
	x += tui_putf(w, y, x, wd - x, A_NORMAL, "  %d lines", v.n);
	if (l->paused) {
		x += tui_put(w, y, x, wd - x, tui_attr(TUI_ERROR), "  PAUSED");
		if (v.held > 0) {
			x += tui_putf(w, y, x, wd - x, tui_attr(TUI_ERROR), ", %d new", v.held);
		}
	}
	if (l->filter[0] != '\0') {
		x += tui_putf(w, y, x, wd - x, l->ferr[0] != '\0' ? tui_attr(TUI_ERROR) : A_NORMAL,
			      "  filter \"%s\"", l->filter);
	}
	if (l->search[0] != '\0') {
		tui_putf(w, y, x, wd - x, A_NORMAL, "  search \"%s\"", l->search);
	}
	int top = y + 1;
	if (l->view == VIEW_QUERIES) {
		char hdr[256];
		snprintf(hdr, sizeof(hdr), "%-8s %-15s %-22s %-5s %-8s %-4s %5s %s", "TIME",
			 "CLIENT", "NAME", "TYPE", "RCODE", "VIA", "MS", "KIND");
		tui_put(w, top++, 0, wd, tui_attr(TUI_HEADER), skip_cols(hdr, l->hscroll));
	}
	int rows = y + h - 1 - top;   /* the last row is for the filter/search field */
	l->rows = rows;
	const char *note = NULL;
	if (l->show_unknown && !l->streaming) {
		note = "log not available in this daemon";
	} else if (!tui_conn_up(t->conn)) {
		note = "disconnected, retrying";
	} else if (l->err[0] != '\0') {
		note = l->err;
	} else if (l->ferr[0] != '\0') {
		note = l->ferr;
	} else if (v.n == 0) {
		note = l->filter[0] != '\0' ? "no line matches the filter" : "no entries yet";
	}
	if (note != NULL) {
		tui_put(w, top, 0, wd, tui_attr(v.n == 0 ? TUI_DIM : TUI_ERROR), note);
		top++;
		rows--;
	}
	int maxscroll = v.n - rows > 0 ? v.n - rows : 0;
	l->scroll = l->scroll > maxscroll ? maxscroll : l->scroll;
	int end = v.n - l->scroll, start = end - rows > 0 ? end - rows : 0;
	const char *hl = l->search[0] != '\0' ? l->search : l->ftext;
	for (int i = start; i < end; i++) {
		draw_line(w, top + (i - start), wd, l->hscroll, v.v[i]->text, hl,
			  l->match_seq != 0 && v.v[i]->seq == l->match_seq);
	}
	free(v.v);
	if (l->typing != TYPING_NONE) {
		const char *p = l->typing == TYPING_FILTER ? "Filter: " : "Search: ";
		int px = tui_put(w, y + h - 1, 0, wd, A_BOLD, p);
		tui_input_draw(w, y + h - 1, px, wd - px - 1, &l->in, true);
	}
}

static const char *const logs_help[] = {
	"Logs: the daemon's query log and server log as they happen (`log follow`).",
	"Tab          switch between the query log and the server log",
	"A failed answer with an Extended DNS Error (a bogus one: SERVFAIL, EDE 6 to",
	"12) shows \"EDE code (name)\" in place of its transport and time.",
	"/            filter: show only lines holding the text (as you type; Enter);",
	"             client:ADDR[/LEN] name:NAME type:TYPE rcode:RCODE match those",
	"             fields of a query (a name also matches the names below it)",
	"s            search text: highlighted; Enter jumps to the newest match",
	"n / N        the previous (older) / next (newer) match",
	"p, space     pause / resume; scrolling up pauses too",
	"Up Down PgUp PgDn Home End   scroll (End follows the newest again)",
	"Left Right   scroll sideways: the end of long lines (why a query was blocked)",
	"c            clear this log on screen",
	"Esc          clear the filter and the search, resume",
	NULL,
};

const struct tui_screen tui_screen_logs = {
	.name = "Logs",
	.keys = "Tab Query/Server|/ Filter|s Search|n/N Match|p Pause",
	.help = logs_help,
	.init = logs_init,
	.fini = logs_fini,
	.enter = logs_enter,
	.tick = logs_tick,
	.draw = logs_draw,
	.key = logs_key,
	.typing = logs_typing,
	.conn_state = logs_conn_state,
};
