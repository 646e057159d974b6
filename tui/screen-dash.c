/* SPDX-License-Identifier: MIT */
/* tdns-tui screen 1, the dashboard: qps charts, answers by kind, latency, top lists, transports. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/core.h"
#include "tui/tui.h"

#define STATS_EVERY_MS 1000
#define TOP_EVERY_MS 2000
#define STATUS_EVERY_MS 5000
#define TOP_COUNT 10

/* What the charts show: every query, or the answers of one kind (k cycles). */
static const char *const chart_series[] = {
	"queries", "authoritative", "cached", "forwarded", "recursive", "blocked", "failed",
};
#define NSERIES (sizeof(chart_series) / sizeof(chart_series[0]))

/* The ranges of the top lists (t cycles): `stats top --range`. */
static const char *const top_ranges[] = { "all", "1m", "5m", "1h" };
#define NRANGES (sizeof(top_ranges) / sizeof(top_ranges[0]))

struct dash {
	size_t series;     /* index in chart_series */
	size_t range;      /* index in top_ranges */
	json_t *stats;     /* the last `stats` data, NULL before one came */
	json_t *top;       /* the last `stats top` data */
	json_t *status;    /* the last `status` data */
	bool top_unknown;  /* the daemon has no `stats top` */
	long long next_stats, next_top, next_status;
};

static struct dash *
D(struct tui *t)
{
	return t->dash;
}

static void
dash_init(struct tui *t)
{
	t->dash = tdns_xcalloc(1, sizeof(struct dash));
}

static void
dash_clear(struct dash *d)
{
	json_decref(d->stats);
	json_decref(d->top);
	json_decref(d->status);
	d->stats = d->top = d->status = NULL;
}

static void
dash_fini(struct tui *t)
{
	dash_clear(D(t));
	free(t->dash);
}

static void
dash_enter(struct tui *t)
{
	D(t)->next_stats = D(t)->next_top = D(t)->next_status = 0;
}

/* Keeps the data member of an ok reply in *slot. */
static void
keep_data(json_t **slot, json_t *reply)
{
	if (!json_is_true(json_object_get(reply, "ok"))) {
		return;
	}
	json_decref(*slot);
	*slot = json_incref(json_object_get(reply, "data"));
}

static void
stats_reply(void *ctx, json_t *reply)
{
	keep_data(&D(ctx)->stats, reply);
}

static void
status_reply(void *ctx, json_t *reply)
{
	keep_data(&D(ctx)->status, reply);
}

static void
top_reply(void *ctx, json_t *reply)
{
	struct dash *d = D(ctx);
	if (tui_reply_unknown(reply)) {
		d->top_unknown = true;
	}
	keep_data(&d->top, reply);
}

static void
dash_tick(struct tui *t)
{
	struct dash *d = D(t);
	long long now = tui_now_ms();
	if (!tui_conn_up(t->conn)) {
		return;
	}
	if (now >= d->next_stats && !tui_conn_pending(t->conn, "stats")) {
		tui_conn_request(t->conn, "stats", NULL, "stats", stats_reply, t);
		d->next_stats = now + STATS_EVERY_MS;
	}
	if (!d->top_unknown && now >= d->next_top && !tui_conn_pending(t->conn, "top")) {
		json_t *args = json_pack("{s:i}", "count", TOP_COUNT);
		if (d->range > 0) {
			json_object_set_new(args, "range", json_string(top_ranges[d->range]));
		}
		tui_conn_request(t->conn, "stats top", args, "top", top_reply, t);
		d->next_top = now + TOP_EVERY_MS;
	}
	if (now >= d->next_status && !tui_conn_pending(t->conn, "status")) {
		tui_conn_request(t->conn, "status", NULL, "status", status_reply, t);
		d->next_status = now + STATUS_EVERY_MS;
	}
}

static void
dash_conn_state(struct tui *t, bool up)
{
	struct dash *d = D(t);
	/* A restarted daemon may be another version: ask again; old numbers are not its own. */
	dash_clear(d);
	d->top_unknown = false;
	if (up) {
		dash_enter(t);
	}
}

static bool
dash_key(struct tui *t, int ch, bool fkey)
{
	(void)fkey;
	struct dash *d = D(t);
	if (ch == 'r') {
		dash_enter(t);
		return true;
	}
	if (ch == 'k') {
		d->series = (d->series + 1) % NSERIES;
		tui_message(t, false, "charts: %s", d->series == 0 ? "every query"
								   : chart_series[d->series]);
		return true;
	}
	if (ch == 't') {
		/* The lists shown are of the old range until the new one comes: ask now. */
		d->range = (d->range + 1) % NRANGES;
		json_decref(d->top);
		d->top = NULL;
		d->next_top = 0;
		tui_message(t, false, "top lists: %s%s", d->range > 0 ? "last " : "since start",
			    d->range > 0 ? top_ranges[d->range] : "");
		return true;
	}
	return false;
}

/* ------------------------------------------------------------------------------------------ */
/* Drawing                                                                                      */

static const json_t *
path2(const json_t *o, const char *a, const char *b)
{
	return json_object_get(json_object_get(o, a), b);
}

/* A duration as "45 s", "5 min", "2 h". */
static void
span_text(long long sec, char *buf, size_t len)
{
	if (sec < 120) {
		snprintf(buf, len, "%lld s", sec);
	} else if (sec < 2 * 3600) {
		snprintf(buf, len, "%lld min", (sec + 30) / 60);
	} else {
		snprintf(buf, len, "%lld h", (sec + 1800) / 3600);
	}
}

/*
 * One chart of series (per_second or per_minute entries) as queries per second.  step is
 * the seconds one entry covers; the newest per-minute entry covers only the seconds so far.
 */
static void
draw_chart(WINDOW *w, int y, int x, int h, int wd, const json_t *series, int step,
	   const char *what, const char *kind)
{
	size_t n = json_array_size(series);
	double *v = tdns_xcalloc(n ? n : 1, sizeof(double));
	double max = 0;
	long long now = (long long)time(NULL);
	for (size_t i = 0; i < n; i++) {
		const json_t *e = json_array_get(series, i);
		double q = (double)json_integer_value(json_object_get(e, kind));
		double secs = step;
		long long t0 = json_integer_value(json_object_get(e, "t"));
		if (i + 1 == n && step > 1 && t0 > 0 && now - t0 < step) {
			secs = now - t0 > 0 ? (double)(now - t0) : 1;
		}
		v[i] = q / secs;
		max = v[i] > max ? v[i] : max;
	}
	char title[128], span[32], label[32];
	if (strcmp(kind, "queries") == 0) {
		snprintf(label, sizeof(label), "Queries/s");
	} else {
		snprintf(label, sizeof(label), "%c%s/s", kind[0] - 'a' + 'A', kind + 1);
	}
	if (series == NULL) {
		snprintf(title, sizeof(title), "%s, %s: -", label, what);
	} else {
		snprintf(title, sizeof(title), "%s, %s  max %.1f", label, what, max);
	}
	tui_put(w, y, x, wd, tui_attr(TUI_HEADER), title);
	int per = tui_chart(w, y + 1, x, h, wd, v, n);
	int cols = n > 0 ? (int)((n + (size_t)per - 1) / (size_t)per) : 0;
	tui_hline(w, y + 1 + h, x, wd);
	if (n > 0) {
		span_text((long long)cols * per * step, span, sizeof(span));
		char left[40];
		snprintf(left, sizeof(left), "-%s", span);
		int lx = x + wd - cols;
		lx = lx + tui_width(left) + 4 > x + wd ? x : lx;
		tui_put(w, y + 1 + h, lx, wd, tui_attr(TUI_DIM), left);
	}
	tui_put(w, y + 1 + h, x + wd - 3, 3, tui_attr(TUI_DIM), "now");
	free(v);
}

/* "label ..... value" in wd columns. */
static void
draw_row(WINDOW *w, int y, int x, int wd, const char *label, const char *value, attr_t va)
{
	int vw = tui_width(value);
	tui_put(w, y, x, wd - vw - 1, A_NORMAL, label);
	tui_put(w, y, x + wd - vw > x ? x + wd - vw : x, wd, va, value);
}

static void
draw_kinds(WINDOW *w, int y, int x, int h, int wd, const json_t *stats)
{
	static const struct {
		const char *key, *label;
	} kinds[] = {
		{ "authoritative", "authoritative" }, { "cached", "cached" },
		{ "forwarded", "forwarded" }, { "recursive", "recursive" },
		{ "blocked", "blocked" }, { "nxdomain", "NXDOMAIN" },
		{ "servfail", "SERVFAIL" }, { "refused", "REFUSED" },
	};
	tui_put(w, y, x, wd, tui_attr(TUI_HEADER), "Answers by kind");
	const json_t *k = json_object_get(stats, "kinds");
	for (int i = 0; i < 8 && i + 1 < h; i++) {
		char buf[32];
		draw_row(w, y + 1 + i, x, wd, kinds[i].label,
			 tui_num(json_object_get(k, kinds[i].key), 0, buf, sizeof(buf)), A_BOLD);
	}
}

static void
draw_latency_transports(WINDOW *w, int y, int x, int h, int wd, const json_t *stats)
{
	static const char *const pct[] = { "p50", "p90", "p99" };
	tui_put(w, y, x, wd, tui_attr(TUI_HEADER), "Latency, last min");
	int r = 1;
	for (int i = 0; i < 3 && r < h; i++, r++) {
		const json_t *v = path2(stats, "latency_ms", pct[i]);
		char val[48];
		if (json_is_number(v)) {
			tdns_ms_text(json_number_value(v), val, sizeof(val));
		} else {
			tui_num(v, 2, val, sizeof(val));
		}
		draw_row(w, y + r, x, wd, pct[i], val, A_BOLD);
	}
	if (r >= h) {
		return;
	}
	tui_put(w, y + r++, x, wd, tui_attr(TUI_HEADER), "Transports");
	const json_t *tr = json_object_get(stats, "transports");
	double total = 0;
	const char *key;
	const json_t *v;
	json_object_foreach((json_t *)tr, key, v) {
		total += (double)json_integer_value(v);
	}
	if (json_object_size(tr) == 0) {
		tui_put(w, y + r, x, wd, A_BOLD, "-");
		return;
	}
	json_object_foreach((json_t *)tr, key, v) {
		if (r >= h) {
			break;
		}
		char val[64];
		long long n = json_integer_value(v);
		snprintf(val, sizeof(val), "%lld %3.0f%%", n, total > 0 ? 100.0 * n / total : 0.0);
		draw_row(w, y + r++, x, wd, key, val, A_BOLD);
	}
}

/* Issue 16: answers by validation state, on one line ("-" when the daemon has none). */
static void
draw_dnssec(WINDOW *w, int y, int wd, const json_t *stats)
{
	static const char *const states[] = { "secure", "insecure", "bogus", "indeterminate" };
	const json_t *v = json_object_get(stats, "dnssec");
	int x = tui_put(w, y, 0, wd, tui_attr(TUI_HEADER), "DNSSEC");
	for (int i = 0; i < 4 && x < wd; i++) {
		char buf[32];
		x += tui_put(w, y, x, wd - x, A_NORMAL, "  ");
		x += tui_put(w, y, x, wd - x, A_NORMAL, states[i]);
		x += tui_put(w, y, x, wd - x, A_NORMAL, " ");
		const json_t *n = json_object_get(v, states[i]);
		attr_t a = i == 2 && json_integer_value(n) > 0 ? tui_attr(TUI_ERROR) : A_BOLD;
		x += tui_put(w, y, x, wd - x, a, tui_num(n, 0, buf, sizeof(buf)));
	}
}

/* A top list: [{"key", "count"}], "-" when the daemon has none. */
static void
draw_top(WINDOW *w, int y, int x, int h, int wd, const char *title, const json_t *top,
	 const char *member)
{
	tui_put(w, y, x, wd, tui_attr(TUI_HEADER), title);
	const json_t *rows = json_object_get(top, member);
	if (!json_is_array(rows)) {
		tui_put(w, y + 1, x, wd, A_BOLD, "-");
		return;
	}
	if (json_array_size(rows) == 0 && h > 1) {
		tui_put(w, y + 1, x, wd, tui_attr(TUI_DIM), "(none yet)");
	}
	for (int i = 0; i + 1 < h && (size_t)i < json_array_size(rows); i++) {
		const json_t *e = json_array_get(rows, (size_t)i);
		char buf[32];
		const char *k = json_string_value(json_object_get(e, "key"));
		draw_row(w, y + 1 + i, x, wd, k != NULL ? k : "-",
			 tui_num(json_object_get(e, "count"), 0, buf, sizeof(buf)), A_BOLD);
	}
}

static void
draw_summary(struct tui *t, WINDOW *w, int y, int wd)
{
	struct dash *d = D(t);
	if (!tui_conn_up(t->conn)) {
		const char *why = tui_conn_error(t->conn);
		tui_putf(w, y, 0, wd, tui_attr(TUI_ERROR), "disconnected %s retrying%s%s",
			 tui_look.utf8 ? "\u2014" : "--", why[0] != '\0' ? ": " : "", why);
		return;
	}
	const json_t *tot = json_object_get(d->stats, "totals");
	char q[32], qps[32], drop[32], trunc[32], up[32] = "-";
	tui_num(json_object_get(tot, "queries"), 0, q, sizeof(q));
	tui_num(json_object_get(tot, "qps"), 1, qps, sizeof(qps));
	tui_num(json_object_get(tot, "dropped"), 0, drop, sizeof(drop));
	tui_num(json_object_get(tot, "truncated"), 0, trunc, sizeof(trunc));
	const json_t *u = json_object_get(d->status, "uptime_seconds");
	if (json_is_integer(u)) {
		long long s = json_integer_value(u);
		snprintf(up, sizeof(up), "%lldd %02lld:%02lld:%02lld", s / 86400, s / 3600 % 24,
			 s / 60 % 60, s % 60);
	}
	int x = 0;
	x += tui_put(w, y, x, wd - x, A_NORMAL, "Queries ");
	x += tui_put(w, y, x, wd - x, A_BOLD, q);
	x += tui_put(w, y, x, wd - x, A_NORMAL, "  qps ");
	x += tui_put(w, y, x, wd - x, A_BOLD, qps);
	/* Issue 18: how much of the traffic blocking turns away, at a glance. */
	const json_t *bl = path2(d->stats, "kinds", "blocked");
	if (json_is_integer(bl)) {
		long long nb = json_integer_value(bl);
		long long nq = json_integer_value(json_object_get(tot, "queries"));
		char blk[48];
		snprintf(blk, sizeof(blk), "%lld (%.1f%%)", nb, nq > 0 ? 100.0 * nb / nq : 0.0);
		x += tui_put(w, y, x, wd - x, A_NORMAL, "  blocked ");
		x += tui_put(w, y, x, wd - x, A_BOLD, blk);
	}
	x += tui_put(w, y, x, wd - x, A_NORMAL, "  dropped ");
	x += tui_put(w, y, x, wd - x, A_BOLD, drop);
	x += tui_put(w, y, x, wd - x, A_NORMAL, "  truncated ");
	x += tui_put(w, y, x, wd - x, A_BOLD, trunc);
	x += tui_put(w, y, x, wd - x, A_NORMAL, "  up ");
	tui_put(w, y, x, wd - x, A_BOLD, up);
}

static void
dash_draw(struct tui *t, WINDOW *w, int y, int h, int wd)
{
	struct dash *d = D(t);
	draw_summary(t, w, y, wd);
	/* 80x24 gives 22 rows: summary, charts of 4 rows (+ title, axis), a gap, 9 + 5 rows. */
	int ch = 4 + (h > 22 ? (h - 22) / 3 : 0);
	ch = ch > 12 ? 12 : ch;
	int lw = (wd - 2) / 2, rw = wd - 2 - lw - 1;
	const json_t *ps = json_object_get(d->stats, "per_second");
	const json_t *pm = json_object_get(d->stats, "per_minute");
	const char *kind = chart_series[d->series];
	draw_chart(w, y + 1, 0, ch, lw, ps, 1, "recent", kind);
	draw_chart(w, y + 1, lw + 2, ch, rw, pm, 60, "last hour", kind);
	draw_dnssec(w, y + 1 + ch + 2, wd, d->stats); /* the row between charts and tables */
	int py = y + 1 + ch + 2 + 1;
	int ph = 9;
	int left = y + h - py;
	if (left < ph) {
		ph = left;
	}
	int c1 = wd * 3 / 10, c2 = wd * 3 / 10, c3 = wd - c1 - c2 - 4;
	draw_kinds(w, py, 0, ph, c1, d->stats);
	draw_latency_transports(w, py, c1 + 2, ph, c2, d->stats);
	const json_t *top = d->top_unknown ? NULL : d->top;
	char tc[40], tn[40], tb[40], tbc[48];
	snprintf(tc, sizeof(tc), "Top clients%s%s", d->range > 0 ? ", last " : "",
		 d->range > 0 ? top_ranges[d->range] : "");
	snprintf(tn, sizeof(tn), "Top names%s%s", d->range > 0 ? ", last " : "",
		 d->range > 0 ? top_ranges[d->range] : "");
	snprintf(tb, sizeof(tb), "Top blocked%s%s", d->range > 0 ? ", last " : "",
		 d->range > 0 ? top_ranges[d->range] : "");
	snprintf(tbc, sizeof(tbc), "Blocked clients%s%s", d->range > 0 ? ", last " : "",
		 d->range > 0 ? top_ranges[d->range] : "");
	draw_top(w, py, c1 + c2 + 4, ph, c3, tc, top, "clients");
	int by = py + ph;
	int bh = y + h - by;
	if (bh >= 2 && wd >= 60) {
		/* Names, blocked names and the clients of blocked answers (issue 18). */
		int n3 = wd / 4, n1 = (wd - n3 - 4) / 2, n2 = wd - n3 - n1 - 4;
		draw_top(w, by, 0, bh, n1, tn, top, "names");
		draw_top(w, by, n1 + 2, bh, n2, tb, top, "blocked");
		draw_top(w, by, n1 + n2 + 4, bh, n3, tbc, top, "blocked_clients");
	} else if (bh >= 2) {
		int n1 = (wd - 2) / 2;
		draw_top(w, by, 0, bh, n1, tn, top, "names");
		draw_top(w, by, n1 + 2, bh, wd - n1 - 2, tb, top, "blocked");
	}
}

static const char *const dash_help[] = {
	"Dashboard: refreshed every second from `stats`, `stats top` and `status`.",
	"r            ask the daemon again now",
	"k            charts: every query, or one kind of answer (authoritative, cached,",
	"             forwarded, recursive, blocked, failed = SERVFAIL), in turn",
	"t            top lists: since start, or the last 1 min, 5 min, 1 h, in turn",
	"Charts: queries per second, the newest on the right; a column averages",
	"several seconds (or minutes) when the window is narrow.",
	"DNSSEC: answers the validator found secure, insecure, bogus (SERVFAIL,",
	"shown in red when any) or indeterminate since start.",
	"A \"-\" means the daemon does not report that number.",
	NULL,
};

const struct tui_screen tui_screen_dash = {
	.name = "Dashboard",
	.keys = "1-6 Screens|k Kind|t Range|r Refresh",
	.help = dash_help,
	.init = dash_init,
	.fini = dash_fini,
	.enter = dash_enter,
	.tick = dash_tick,
	.draw = dash_draw,
	.key = dash_key,
	.conn_state = dash_conn_state,
};
