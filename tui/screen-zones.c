/* SPDX-License-Identifier: MIT */
/* tdns-tui screen 3, the zones: zone list, a zone's records, and a form to add, edit, delete. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/core.h"
#include "dns/dns.h"
#include "tui/tui.h"

#define REFRESH_MS 5000

enum { F_NAME, F_TYPE, F_TTL, F_RDATA, NFIELDS };

struct zones {
	json_t *zones;             /* `zone list` data */
	struct tui_list zl;
	char zerr[256];
	bool in_zone;              /* showing the records of zone */
	char zone[256];
	json_t *records;           /* `record list ZONE` data */
	struct tui_list rl;
	char rerr[256];
	long long next_zones, next_records;
	int rows;
	/* The form */
	bool form;
	bool edit;                 /* editing old_* rather than adding */
	int field;
	struct tui_input f[NFIELDS];
	char ferr[1024];
	int ferr_field;            /* the field a local check blames, -1: the daemon's error */
	bool busy;
	char old_name[256], old_type[32], old_rdata[2048];
	/* Delete confirmation */
	bool confirm;
	char del_name[256], del_type[32], del_rdata[2048];
};

static struct zones *
Z(struct tui *t)
{
	return t->zones;
}

static void
zones_init(struct tui *t)
{
	t->zones = tdns_xcalloc(1, sizeof(struct zones));
}

static void
zones_fini(struct tui *t)
{
	struct zones *z = Z(t);
	json_decref(z->zones);
	json_decref(z->records);
	free(z);
}

static void
zones_enter(struct tui *t)
{
	Z(t)->next_zones = Z(t)->next_records = 0;
}

static const json_t *
rows_of(const json_t *data, const char *member)
{
	return json_is_array(data) ? data : json_object_get(data, member);
}

static void
zone_list_reply(void *ctx, json_t *reply)
{
	struct zones *z = Z(ctx);
	tui_reply_keep(reply, &z->zones, z->zerr, sizeof(z->zerr), "zone list");
}

static void
record_list_reply(void *ctx, json_t *reply)
{
	struct zones *z = Z(ctx);
	tui_reply_keep(reply, &z->records, z->rerr, sizeof(z->rerr), NULL);
}

static void
ask_records(struct tui *t)
{
	struct zones *z = Z(t);
	z->next_records = tui_now_ms() + REFRESH_MS;
	tui_conn_request(t->conn, "record list", json_pack("{s:s}", "zone", z->zone), "records",
			 record_list_reply, t);
}

static void
zones_tick(struct tui *t)
{
	struct zones *z = Z(t);
	long long now = tui_now_ms();
	if (!tui_conn_up(t->conn)) {
		return;
	}
	if (!z->in_zone && now >= z->next_zones && !tui_conn_pending(t->conn, "zones")) {
		z->next_zones = now + REFRESH_MS;
		tui_conn_request(t->conn, "zone list", NULL, "zones", zone_list_reply, t);
	}
	/* No refresh under an open form: the selection it edits must not move. */
	if (z->in_zone && !z->form && now >= z->next_records &&
	    !tui_conn_pending(t->conn, "records")) {
		ask_records(t);
	}
}

static void
zones_conn_state(struct tui *t, bool up)
{
	struct zones *z = Z(t);
	if (up) {
		zones_enter(t);
	}
	if (!up && z->busy) {
		z->busy = false;
	}
}

/* ------------------------------------------------------------------------------------------ */
/* The form                                                                                     */

static const char *
member(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s != NULL ? s : "";
}

static void
form_open(struct tui *t, const json_t *rec)
{
	struct zones *z = Z(t);
	z->form = true;
	z->edit = rec != NULL;
	z->field = rec != NULL ? F_RDATA : F_NAME;
	z->ferr[0] = '\0';
	z->ferr_field = -1;
	z->busy = false;
	if (rec == NULL) {
		tui_input_set(&z->f[F_NAME], "");
		tui_input_set(&z->f[F_TYPE], "A");
		tui_input_set(&z->f[F_TTL], "");
		tui_input_set(&z->f[F_RDATA], "");
		return;
	}
	char ttl[32];
	tui_input_set(&z->f[F_NAME], member(rec, "name"));
	tui_input_set(&z->f[F_TYPE], member(rec, "type"));
	tui_input_set(&z->f[F_TTL], tui_num(json_object_get(rec, "ttl"), 0, ttl, sizeof(ttl)));
	tui_input_set(&z->f[F_RDATA], member(rec, "rdata"));
	snprintf(z->old_name, sizeof(z->old_name), "%s", member(rec, "name"));
	snprintf(z->old_type, sizeof(z->old_type), "%s", member(rec, "type"));
	snprintf(z->old_rdata, sizeof(z->old_rdata), "%s", member(rec, "rdata"));
}

static void
form_done(struct tui *t, const char *what, const json_t *reply)
{
	struct zones *z = Z(t);
	const json_t *d = json_object_get(reply, "data");
	const json_t *serial = json_object_get(d, "serial");
	char sb[32];
	tui_message(t, false, "%s %s %s %s (serial %s)", what, member(d, "name"), member(d, "type"),
		    member(d, "rdata"), tui_num(serial, 0, sb, sizeof(sb)));
	z->form = false;
	z->busy = false;
	ask_records(t);
}

static void
form_fail(struct tui *t, const char *prefix, const json_t *reply)
{
	struct zones *z = Z(t);
	snprintf(z->ferr, sizeof(z->ferr), "%s%s", prefix, tui_reply_error(reply));
	z->ferr_field = -1;
	z->busy = false;
}

static void
delete_old_reply(void *ctx, json_t *reply)
{
	struct tui *t = ctx;
	if (!json_is_true(json_object_get(reply, "ok"))) {
		form_fail(t, "the new record was added, but the old one stays: ", reply);
		ask_records(t);
		return;
	}
	struct zones *z = Z(t);
	char sb[32];
	tui_message(t, false, "changed %s %s %s to %s (serial %s)", z->old_name, z->old_type,
		    z->old_rdata, z->f[F_RDATA].buf,
		    tui_num(json_object_get(json_object_get(reply, "data"), "serial"), 0, sb,
			    sizeof(sb)));
	z->form = false;
	z->busy = false;
	ask_records(t);
}

/* Edits that add the new record first delete the old one only once the add succeeded. */
static void
edit_add_reply(void *ctx, json_t *reply)
{
	struct tui *t = ctx;
	struct zones *z = Z(t);
	if (!json_is_true(json_object_get(reply, "ok"))) {
		form_fail(t, "", reply);
		return;
	}
	json_t *args = json_pack("{s:s, s:s, s:s, s:[s]}", "zone", z->zone, "name", z->old_name,
				 "type", z->old_type, "rdata", z->old_rdata);
	if (!tui_conn_request(t->conn, "record delete", args, "change", delete_old_reply, t)) {
		snprintf(z->ferr, sizeof(z->ferr), "disconnected: the new record was added, the "
			 "old one stays");
		z->busy = false;
	}
}

/* The reply to an add or an update: the message "what ...", or the error in the form. */
static void
form_reply(struct tui *t, const json_t *reply, const char *what)
{
	if (!json_is_true(json_object_get(reply, "ok"))) {
		form_fail(t, "", reply);
		return;
	}
	form_done(t, what, reply);
}

static void
add_reply(void *ctx, json_t *reply)
{
	form_reply(ctx, reply, "added");
}

static void
update_reply(void *ctx, json_t *reply)
{
	form_reply(ctx, reply, "changed");
}

static bool
blank(const char *s)
{
	return s[strspn(s, " \t")] == '\0';
}

/* Records of the shown zone at name with type. */
static int
rrset_size(const struct zones *z, const char *name, const char *type)
{
	const json_t *rows = rows_of(z->records, "records");
	size_t i;
	const json_t *r;
	int n = 0;
	json_array_foreach(rows, i, r) {
		n += strcasecmp(member(r, "name"), name) == 0 &&
		     strcasecmp(member(r, "type"), type) == 0;
	}
	return n;
}

static int
count_rr(void *ctx, const struct dns_zf_rr *rr)
{
	(void)rr;
	(*(int *)ctx)++;
	return TDNS_OK;
}

/*
 * Reads "TYPE rdata" as a one-line zone file, as the daemon does, so that a bad address is
 * reported as such: the daemon, given a TTL word and bad rdata, also tries the TTL as rdata
 * and then blames it.  False with a message in err.
 */
static bool
rdata_ok(const char *zone, const char *type, const char *rdata, char *err, size_t errlen)
{
	uint8_t origin[DNS_NAME_MAX];
	if (dns_name_from_text(zone, strlen(zone), NULL, origin) < 0) {
		return true; /* the daemon will say what is wrong with the zone */
	}
	size_t cap = strlen(type) + strlen(rdata) + 32;
	char *text = tdns_xmalloc(cap);
	int len = snprintf(text, cap, "@ 0 IN %s %s\n", type, rdata);
	struct dns_zf_error ze;
	memset(&ze, 0, sizeof(ze));
	int n = 0;
	int rc = dns_zonefile_read_mem(text, (size_t)len, "rdata", origin, 0, count_rr, &n, &ze);
	free(text);
	if (rc == TDNS_OK && n == 1) {
		return true;
	}
	/* "rdata:1: why" names a made-up file: keep the reason only. */
	const char *why = n > 1 ? "more than one record given" : ze.msg;
	const char *p = strncmp(why, "rdata:", 6) == 0 ? strstr(why + 6, ": ") : NULL;
	snprintf(err, errlen, "bad %s rdata: %s", type, p != NULL ? p + 2 : why);
	return false;
}

static void
form_error(struct zones *z, int field, const char *msg)
{
	snprintf(z->ferr, sizeof(z->ferr), "%s", msg);
	z->ferr_field = field;
	z->field = field;
}

static void
form_submit(struct tui *t)
{
	struct zones *z = Z(t);
	if (z->busy) {
		return;
	}
	const char *name = z->f[F_NAME].buf, *type = z->f[F_TYPE].buf, *ttl = z->f[F_TTL].buf;
	const char *rdata = z->f[F_RDATA].buf;
	/* What can be checked here is; the rdata is checked by the daemon, as for tdns-cli. */
	uint32_t ttlv;
	if (blank(name)) {
		form_error(z, F_NAME, "a name is needed (@ for the zone's apex)");
		return;
	}
	if (blank(type) || strpbrk(type, " \t") != NULL) {
		form_error(z, F_TYPE, "a type is needed, e.g. A, AAAA, MX, TXT");
		return;
	}
	if (!blank(ttl) && dns_ttl_parse(ttl, strlen(ttl), &ttlv) != TDNS_OK) {
		form_error(z, F_TTL, "the TTL must be seconds (or like 1h30m), or empty");
		return;
	}
	if (blank(rdata)) {
		form_error(z, F_RDATA, "the record data is needed, e.g. 192.0.2.1");
		return;
	}
	if (dns_type_from_text(type, strlen(type)) < 0) {
		char msg[128];
		snprintf(msg, sizeof(msg), "unknown record type '%.40s'", type);
		form_error(z, F_TYPE, msg);
		return;
	}
	char why[600];
	if (!rdata_ok(z->zone, type, rdata, why, sizeof(why))) {
		form_error(z, F_RDATA, why);
		return;
	}
	json_t *words = json_array();
	if (!blank(ttl)) {
		json_array_append_new(words, json_string(ttl));
	}
	json_array_append_new(words, json_string(rdata));
	json_t *args = json_pack("{s:s, s:s, s:s, s:o}", "zone", z->zone, "name", name, "type",
				 type, "rdata", words);
	const char *cmd = "record add";
	tui_reply_fn fn = add_reply;
	if (z->edit) {
		bool same_set = strcasecmp(name, z->old_name) == 0 &&
				strcasecmp(type, z->old_type) == 0;
		if (same_set && rrset_size(z, z->old_name, z->old_type) == 1) {
			/* The only record of its rrset: replace it in one step. */
			cmd = "record update";
			fn = update_reply;
		} else if (same_set && strcmp(rdata, z->old_rdata) == 0) {
			/* Only the TTL changed: an add with it retimes the rrset, RFC 2181 5.2. */
			fn = update_reply;
		} else {
			fn = edit_add_reply;
		}
	}
	if (!tui_conn_request(t->conn, cmd, args, "change", fn, t)) {
		form_error(z, z->field, "disconnected from the daemon: not saved");
		z->ferr_field = -1;
		return;
	}
	z->busy = true;
	z->ferr[0] = '\0';
}

static void
form_key(struct tui *t, int ch, bool fkey)
{
	struct zones *z = Z(t);
	if ((fkey && (ch == KEY_DOWN || ch == KEY_BTAB || ch == KEY_UP)) || (!fkey && ch == '\t')) {
		int d = fkey && (ch == KEY_UP || ch == KEY_BTAB) ? NFIELDS - 1 : 1;
		z->field = (z->field + d) % NFIELDS;
		return;
	}
	enum tui_input_result r = tui_input_key(&z->f[z->field], ch, fkey);
	if (r == TUI_INPUT_ESCAPE) {
		z->form = false;
	} else if (r == TUI_INPUT_ENTER) {
		form_submit(t);
	} else if (r == TUI_INPUT_CHANGED && z->ferr_field == z->field) {
		z->ferr[0] = '\0';
		z->ferr_field = -1;
	}
}

/*
 * The record form, centred.  With room (13 rows) each field has a line for its hint below
 * it; on a small terminal the fields stand on consecutive lines and the rows left over go,
 * in this order, to the error, the current field's hint (word-wrapped) and the key help,
 * so that every field and the error stay visible down to 40x12.
 */
static void
form_draw(struct tui *t, WINDOW *w, int y, int h, int wd)
{
	struct zones *z = Z(t);
	static const char *const labels[NFIELDS] = { "Name", "Type", "TTL", "Rdata" };
	static const char *const hints[NFIELDS] = {
		"relative name, @ for the apex, or absolute with a final dot",
		"A, AAAA, CNAME, MX, NS, TXT, SRV, CAA, ...",
		"seconds or 1h30m; empty: the zone's default",
		"zone-file syntax, e.g. 10 mail.example.com. for MX",
	};
	int fw = wd - 4 > 76 ? 76 : wd - 4;
	int fh = 13 > h ? h : 13;
	int fx = (wd - fw) / 2, fy = y + (h - fh) / 2;
	tui_fill(w, fy, fx, fh, fw, A_NORMAL);
	char title[320];
	snprintf(title, sizeof(title), "%s record in %s", z->edit ? "Edit" : "Add", z->zone);
	tui_box(w, fy, fx, fh, fw, title);
	int inw = fw - 11;              /* the width of inputs and hints */
	int top = fy + 1, bottom = fy + fh - 1; /* rows inside the box: [top, bottom) */
	bool roomy = fh >= 13;
	int r = roomy ? top + 1 : top;
	int hint_row = -1;
	for (int i = 0; i < NFIELDS && r < bottom; i++) {
		attr_t la = i == z->ferr_field ? tui_attr(TUI_ERROR) : A_BOLD;
		tui_put(w, r, fx + 2, 7, la, labels[i]);
		tui_input_draw(w, r, fx + 9, fw - 11, &z->f[i], i == z->field && !z->busy);
		if (roomy && i == z->field) {
			hint_row = r + 1;
		}
		r += roomy ? 2 : 1;
	}
	char err[sizeof(z->ferr) + 16] = "";
	if (z->busy) {
		snprintf(err, sizeof(err), "saving...");
	} else if (z->ferr[0] != '\0') {
		snprintf(err, sizeof(err), "Error: %s", z->ferr);
	}
	const char *help = "Enter save   Tab/Up/Down field   Esc cancel";
	if (roomy) {
		if (hint_row >= 0) {
			tui_put(w, hint_row, fx + 9, inw, tui_attr(TUI_DIM), hints[z->field]);
		}
		if (err[0] != '\0') {
			tui_put_wrapped(w, bottom - 2, fx + 2, fw - 4, 1, z->busy ? A_BOLD
							     : tui_attr(TUI_ERROR), err);
		}
		tui_put(w, bottom - 1, fx + 2, fw - 4, tui_attr(TUI_DIM), help);
		return;
	}
	/* Compact: what is left below the fields, most important first. */
	int left = bottom - r;
	if (err[0] != '\0' && left > 0) {
		int need = tui_put_wrapped(w, 0, 0, fw - 4, 0, 0, err);
		int n = need < left ? need : left;
		n = tui_put_wrapped(w, r, fx + 2, fw - 4, n, z->busy ? A_BOLD : tui_attr(TUI_ERROR),
				    err);
		r += n;
		left -= n;
	}
	bool show_help = left >= 2;
	int hint_rows = left - (show_help ? 1 : 0);
	if (hint_rows > 0) {
		r += tui_put_wrapped(w, r, fx + 2, fw - 4, hint_rows, tui_attr(TUI_DIM),
				     hints[z->field]);
	}
	if (show_help) {
		tui_put(w, bottom - 1, fx + 2, fw - 4, tui_attr(TUI_DIM), help);
	}
}

/* ------------------------------------------------------------------------------------------ */
/* Delete                                                                                       */

static void
delete_reply(void *ctx, json_t *reply)
{
	struct tui *t = ctx;
	if (!json_is_true(json_object_get(reply, "ok"))) {
		tui_message(t, true, "not deleted: %s", tui_reply_error(reply));
		return;
	}
	const json_t *d = json_object_get(reply, "data");
	char sb[32];
	tui_message(t, false, "deleted %s %s %s (serial %s)", member(d, "name"), member(d, "type"),
		    member(d, "rdata"), tui_num(json_object_get(d, "serial"), 0, sb, sizeof(sb)));
	ask_records(t);
}

static void
confirm_key(struct tui *t, int ch)
{
	struct zones *z = Z(t);
	z->confirm = false;
	if (ch != 'y' && ch != 'Y') {
		tui_message(t, false, "not deleted");
		return;
	}
	json_t *args = json_pack("{s:s, s:s, s:s, s:[s]}", "zone", z->zone, "name", z->del_name,
				 "type", z->del_type, "rdata", z->del_rdata);
	if (!tui_conn_request(t->conn, "record delete", args, "change", delete_reply, t)) {
		tui_message(t, true, "disconnected from the daemon: not deleted");
	}
}

/* ------------------------------------------------------------------------------------------ */
/* Keys and drawing                                                                             */

static bool
zones_typing(struct tui *t)
{
	return Z(t)->form || Z(t)->confirm;
}

static bool
is_enter(int ch, bool fkey)
{
	return fkey ? ch == KEY_ENTER : ch == '\r' || ch == '\n';
}

static bool
zones_key(struct tui *t, int ch, bool fkey)
{
	struct zones *z = Z(t);
	if (z->form) {
		form_key(t, ch, fkey);
		return true;
	}
	if (z->confirm) {
		confirm_key(t, fkey ? 0 : ch);
		return true;
	}
	int page = z->rows > 1 ? z->rows : 10;
	if (!z->in_zone) {
		const json_t *rows = rows_of(z->zones, "zones");
		int n = (int)json_array_size(rows);
		if (tui_list_key(&z->zl, n, page, ch, fkey)) {
			return true;
		}
		if ((is_enter(ch, fkey) || (fkey && ch == KEY_RIGHT)) && n > 0) {
			const json_t *zone = json_array_get(rows, (size_t)z->zl.sel);
			snprintf(z->zone, sizeof(z->zone), "%s", member(zone, "name"));
			z->in_zone = true;
			z->rl = (struct tui_list){ 0, 0 };
			json_decref(z->records);
			z->records = NULL;
			z->rerr[0] = '\0';
			ask_records(t);
			return true;
		}
		if (!fkey && ch == 'r') {
			z->next_zones = 0;
			return true;
		}
		return false;
	}
	const json_t *rows = rows_of(z->records, "records");
	int n = (int)json_array_size(rows);
	if (tui_list_key(&z->rl, n, page, ch, fkey)) {
		return true;
	}
	if ((fkey && (ch == KEY_LEFT || ch == KEY_BACKSPACE)) ||
	    (!fkey && (ch == TUI_ESC || ch == 127 || ch == 8))) {
		z->in_zone = false;
		z->next_zones = 0;
		return true;
	}
	if (fkey) {
		return false;
	}
	const json_t *rec = n > 0 ? json_array_get(rows, (size_t)z->rl.sel) : NULL;
	switch (ch) {
	case 'a':
		form_open(t, NULL);
		return true;
	case 'e':
	case '\r':
	case '\n':
		if (rec != NULL) {
			form_open(t, rec);
		}
		return true;
	case 'd':
		if (rec != NULL) {
			snprintf(z->del_name, sizeof(z->del_name), "%s", member(rec, "name"));
			snprintf(z->del_type, sizeof(z->del_type), "%s", member(rec, "type"));
			snprintf(z->del_rdata, sizeof(z->del_rdata), "%s", member(rec, "rdata"));
			z->confirm = true;
		}
		return true;
	case 'r':
		ask_records(t);
		return true;
	default:
		return false;
	}
}

/*
 * Under the title on line y: the column headings hdr, then err, or when there is none the
 * note (NULL: none) over the empty rows.  Returns the first line for rows; an error line
 * takes one from *rows_h.
 */
static int
draw_list_head(WINDOW *w, int y, int wd, const char *hdr, const char *err, const char *note,
	       int *rows_h)
{
	tui_put(w, y + 1, 0, wd, tui_attr(TUI_HEADER), hdr);
	int top = y + 2;
	if (err[0] != '\0') {
		tui_put(w, top++, 0, wd, tui_attr(TUI_ERROR), err);
		(*rows_h)--;
	} else if (note != NULL) {
		tui_put(w, top, 0, wd, tui_attr(TUI_DIM), note);
	}
	return top;
}

static void
draw_zone_list(struct tui *t, WINDOW *w, int y, int h, int wd)
{
	struct zones *z = Z(t);
	const json_t *rows = rows_of(z->zones, "zones");
	int n = (int)json_array_size(rows);
	tui_putf(w, y, 0, wd, tui_attr(TUI_HEADER), "Zones (%d)", n);
	char hdr[256];
	snprintf(hdr, sizeof(hdr), "%-28s %-9s %-9s %10s %8s  %s", "NAME", "TYPE", "STATE",
		 "SERIAL", "RECORDS", "SOURCE");
	const char *note = NULL;
	if (z->zones == NULL) {
		note = tui_conn_up(t->conn) ? "loading..." : "disconnected, retrying";
	} else if (n == 0) {
		note = "no zones (tdns-cli zone create NAME)";
	}
	int rows_h = h - 2;
	int top = draw_list_head(w, y, wd, hdr, z->zerr, note, &rows_h);
	z->rows = rows_h;
	tui_list_fit(&z->zl, n, rows_h);
	for (int i = z->zl.top; i < n && i - z->zl.top < rows_h; i++) {
		const json_t *e = json_array_get(rows, (size_t)i);
		char serial[32], recs[32], line[512];
		snprintf(line, sizeof(line), "%-28s %-9s %-9s %10s %8s  %s", member(e, "name"),
			 member(e, "type"), member(e, "state"),
			 tui_num(json_object_get(e, "serial"), 0, serial, sizeof(serial)),
			 tui_num(json_object_get(e, "records"), 0, recs, sizeof(recs)),
			 member(e, "source"));
		int ry = top + i - z->zl.top;
		tui_put(w, ry, 0, wd, tui_list_row(w, ry, wd, &z->zl, i), line);
	}
}

static void
draw_records(struct tui *t, WINDOW *w, int y, int h, int wd)
{
	struct zones *z = Z(t);
	const json_t *rows = rows_of(z->records, "records");
	int n = (int)json_array_size(rows);
	tui_putf(w, y, 0, wd, tui_attr(TUI_HEADER), "Zone %s: %d records", z->zone, n);
	char hdr[256];
	snprintf(hdr, sizeof(hdr), "%-30s %7s %-6s %s", "NAME", "TTL", "TYPE", "RDATA");
	int rows_h = h - 3;
	int top = draw_list_head(w, y, wd, hdr, z->rerr, z->records == NULL ? "loading..." : NULL,
				 &rows_h);
	z->rows = rows_h;
	tui_list_fit(&z->rl, n, rows_h);
	for (int i = z->rl.top; i < n && i - z->rl.top < rows_h; i++) {
		const json_t *e = json_array_get(rows, (size_t)i);
		char ttl[32], line[4096];
		snprintf(line, sizeof(line), "%-30s %7s %-6s %s", member(e, "name"),
			 tui_num(json_object_get(e, "ttl"), 0, ttl, sizeof(ttl)), member(e, "type"),
			 member(e, "rdata"));
		int ry = top + i - z->rl.top;
		tui_put(w, ry, 0, wd, tui_list_row(w, ry, wd, &z->rl, i), line);
	}
	if (z->confirm) {
		tui_putf(w, y + h - 1, 0, wd, tui_attr(TUI_ERROR) | A_REVERSE,
			 "Delete %s %s %s? (y/n)", z->del_name, z->del_type, z->del_rdata);
	}
}

static void
zones_draw(struct tui *t, WINDOW *w, int y, int h, int wd)
{
	struct zones *z = Z(t);
	if (!z->in_zone) {
		draw_zone_list(t, w, y, h, wd);
		return;
	}
	draw_records(t, w, y, h, wd);
	if (z->form) {
		form_draw(t, w, y, h, wd);
	}
}

static const char *const zones_help[] = {
	"Zones: the daemon's zones; Enter shows a zone's records.",
	"Up Down PgUp PgDn Home End   move the selection",
	"Enter        open the zone (zone list) / edit the record (records)",
	"a            add a record: name, type, TTL, rdata (`record add`)",
	"e            edit the selected record (`record update`, or add + delete)",
	"d            delete the selected record after a y/n question",
	"r            reload the list from the daemon",
	"Esc, Left    back to the zone list",
	"In the form: Tab/Up/Down move between fields, Enter saves, Esc cancels;",
	"the daemon's errors are shown in the form.",
	NULL,
};

const struct tui_screen tui_screen_zones = {
	.name = "Zones",
	.keys = "Enter Open|a Add|e Edit|d Delete|Esc Back|r Reload",
	.help = zones_help,
	.init = zones_init,
	.fini = zones_fini,
	.enter = zones_enter,
	.tick = zones_tick,
	.draw = zones_draw,
	.key = zones_key,
	.typing = zones_typing,
	.conn_state = zones_conn_state,
};
