/* SPDX-License-Identifier: MIT */
/* cfg: key names for `config get/set`, values in text form, and the in-place INI writer. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg/cfg.h"
#include "core/core.h"

/* ------------------------------------------------------------------------------------------ */
/* Key names                                                                                    */

/* A resolved "section.key" or "WORD.NAME.key" of a named section ("zone.example.com.file"). */
struct keyref {
	const struct cfg_key *k;
	const struct cfg_named *named; /* the key's named section, NULL for a plain one */
	char name[1024];          /* NAME as written, for a named section */
	void *inst;               /* NAME opened by the named section, for comparisons */
};

static void
keyref_clear(struct keyref *r)
{
	free(r->inst);
	r->inst = NULL;
}

static void
valid_keys(char *out, size_t cap)
{
	size_t off = 0;
	out[0] = '\0';
	for (const struct cfg_key *k = cfg_keys(); k->key != NULL && off < cap; k++) {
		bool named = cfg_named_table(k->section) != NULL;
		int n = snprintf(out + off, cap - off, "%s%s.%s%s", off ? ", " : "", k->section,
				 named ? "NAME." : "", k->key);
		off += n > 0 ? (size_t)n : 0;
	}
}

static int
key_resolve(const char *key, struct keyref *r, char *err, size_t errlen)
{
	char section[32];
	const char *name;
	const char *dot = strchr(key, '.');
	memset(r, 0, sizeof(*r));
	if (dot != NULL && (size_t)(dot - key) < sizeof(section)) {
		memcpy(section, key, (size_t)(dot - key));
		section[dot - key] = '\0';
		name = dot + 1;
		const struct cfg_table *t = cfg_named_table(section);
		if (t != NULL) {
			/* The NAME is everything between the first and the last dot. */
			const char *last = strrchr(name, '.');
			if (last == NULL) {
				goto unknown;
			}
			size_t nlen = (size_t)(last - name);
			if (nlen == 0) {
				/* "zone..file" names the root zone. */
				snprintf(r->name, sizeof(r->name), ".");
			} else if (nlen < sizeof(r->name)) {
				memcpy(r->name, name, nlen);
				r->name[nlen] = '\0';
			} else {
				goto unknown;
			}
			char why[256];
			r->named = t->named;
			r->inst = tdns_xcalloc(1, t->named->size);
			if (t->named->open(r->inst, r->name, why, sizeof(why)) != TDNS_OK) {
				snprintf(err, errlen, "invalid %s name '%s' in key '%s' (%s); "
					 "expected %s.NAME.KEY", section, r->name, key, why,
					 section);
				keyref_clear(r);
				return TDNS_EINVAL;
			}
			name = last + 1;
		} else if (strchr(name, '.') != NULL) {
			goto unknown;
		}
		for (const struct cfg_key *k = cfg_keys(); k->key != NULL; k++) {
			if (strcmp(k->section, section) == 0 && strcmp(k->key, name) == 0) {
				r->k = k;
				return TDNS_OK;
			}
		}
	}
unknown:;
	keyref_clear(r);
	char keys[4096]; /* every key of every table */
	valid_keys(keys, sizeof(keys));
	snprintf(err, errlen, "unknown configuration key '%s'; expected one of: %s", key, keys);
	return TDNS_EINVAL;
}

int
cfg_get(const struct cfg *c, const char *key, char **value, char *err, size_t errlen)
{
	struct keyref r;
	*value = NULL;
	int rc = key_resolve(key, &r, err, errlen);
	if (rc != TDNS_OK) {
		return rc;
	}
	size_t inst = 0;
	if (r.named != NULL) {
		size_t n = *(const size_t *)((const char *)c + r.named->count_offset);
		const char *list = *(char *const *)((const char *)c + r.named->list_offset);
		while (inst < n && !r.named->same(list + inst * r.named->size, r.inst)) {
			inst++;
		}
		if (inst == n) {
			snprintf(err, errlen, "no %s '%s' in the configuration; expected one of "
				 "its [%s NAME] sections", r.k->section, r.name, r.k->section);
			keyref_clear(&r);
			return TDNS_ENOZONE;
		}
	}
	keyref_clear(&r);
	*value = cfg_value_text(c, r.k, inst);
	if (*value == NULL) {
		snprintf(err, errlen, "key '%s' has no text form", key);
		return TDNS_EINVAL;
	}
	return TDNS_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* The in-place writer                                                                          */

static bool
blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* One physical line of the file: [start, start + len) including its line ending. */
struct line {
	size_t start;
	size_t len;
	size_t content;           /* first non-blank byte (after a BOM on line 1) */
	size_t end;               /* end of the text, before "\n" or "\r\n" */
};

/*
 * The name of a "[name]" line starting at s (s[0] == '['), trimmed, into out.  As in the
 * loader: ']' ends the name unless a ';' after a blank comes first.  False when not a header.
 */
static bool
header_name(const char *s, size_t len, char *out, size_t cap)
{
	for (size_t i = 1; i < len; i++) {
		if (s[i] == ';' && blank(s[i - 1])) {
			return false;
		}
		if (s[i] == ']') {
			size_t b = 1;
			size_t e = i;
			while (b < e && blank(s[b])) {
				b++;
			}
			while (e > b && blank(s[e - 1])) {
				e--;
			}
			if (e - b >= cap) {
				return false;
			}
			memcpy(out, s + b, e - b);
			out[e - b] = '\0';
			return true;
		}
	}
	return false;
}

/* Whether the section named name ("server", "zone example.com") is the one of r. */
static bool
section_is(const char *name, const struct keyref *r)
{
	const char *word = r->k->section;
	size_t wlen = strlen(word);
	if (r->named == NULL) {
		return strcmp(name, word) == 0;
	}
	if (strncmp(name, word, wlen) != 0 || !blank(name[wlen])) {
		return false;
	}
	name += wlen;
	while (blank(*name)) {
		name++;
	}
	char why[256];
	void *inst = tdns_xcalloc(1, r->named->size);
	bool same = r->named->open(inst, name, why, sizeof(why)) == TDNS_OK &&
		    r->named->same(inst, r->inst);
	free(inst);
	return same;
}

/* The key of a "key = value" line (inih splits at the first '=' or ':'), trimmed. */
static bool
line_key_is(const char *s, size_t len, const char *key, size_t *sep)
{
	size_t i = 0;
	while (i < len && s[i] != '=' && s[i] != ':') {
		i++;
	}
	if (i == len) {
		return false;
	}
	*sep = i;
	size_t e = i;
	while (e > 0 && blank(s[e - 1])) {
		e--;
	}
	return e == strlen(key) && memcmp(s, key, e) == 0;
}

/* Growing output buffer. */
struct out {
	char *p;
	size_t len;
	size_t cap;
};

static void
put(struct out *o, const char *s, size_t n)
{
	if (o->len + n + 1 > o->cap) {
		o->cap = (o->len + n + 1) * 2;
		o->p = tdns_xrealloc(o->p, o->cap);
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static void
puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static int
read_file(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return TDNS_EIO;
	}
	struct out o = { 0 };
	char buf[4096];
	size_t n;
	put(&o, "", 0);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		put(&o, buf, n);
	}
	bool bad = ferror(f);
	fclose(f);
	if (bad) {
		snprintf(err, errlen, "cannot read %s", path);
		free(o.p);
		return TDNS_EIO;
	}
	*text = o.p;
	*len = o.len;
	return TDNS_OK;
}

static struct line *
split_lines(const char *text, size_t len, size_t *nlines)
{
	struct line *lines = NULL;
	size_t n = 0;
	for (size_t pos = 0; pos < len;) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t llen = nl != NULL ? (size_t)(nl - (text + pos)) + 1 : len - pos;
		lines = tdns_xrealloc(lines, (n + 1) * sizeof(*lines));
		struct line *l = &lines[n++];
		l->start = pos;
		l->len = llen;
		l->end = pos + llen;
		if (l->end > pos && text[l->end - 1] == '\n') {
			l->end--;
		}
		if (l->end > pos && text[l->end - 1] == '\r') {
			l->end--;
		}
		l->content = pos;
		if (pos == 0 && len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
			l->content = 3;
		}
		while (l->content < l->end && blank(text[l->content])) {
			l->content++;
		}
		pos += llen;
	}
	*nlines = n;
	return lines;
}

/* A list longer than this on its key line is written one item per indented line. */
#define WRAP_COLUMNS 100

/*
 * Writes value for key k starting at column, then after (the rest of the key line: its
 * comment and line ending).  A list that would pass WRAP_COLUMNS is written in the continued
 * form the loader joins: its first item on the key line, then one item per indented line,
 * each but the last followed by a comma.
 */
static void
put_value(struct out *o, const struct cfg_key *k, size_t column, const char *value,
	  const char *after, size_t afterlen, const char *eol)
{
	if (!cfg_key_is_list(k) || column + strlen(value) <= WRAP_COLUMNS) {
		puts_(o, value);
		put(o, after, afterlen);
		return;
	}
	char *copy = tdns_xstrdup(value);
	char *p = copy;
	bool more;
	bool first = true;
	do {
		char *item = cfg_list_next(&p, &more);
		if (!first) {
			puts_(o, "    ");
		}
		puts_(o, item);
		if (more) {
			puts_(o, ",");
		}
		if (!first) {
			puts_(o, eol);
			continue;
		}
		first = false;
		put(o, after, afterlen);
		if (afterlen == 0 || after[afterlen - 1] != '\n') {
			puts_(o, eol);    /* the key line was the file's last, with no ending */
		}
	} while (more);
	free(copy);
}

/* Replaces the value of the key line l (separator at text[sep]), keeping a trailing comment. */
static void
replace_value(struct out *o, const struct cfg_key *k, const char *text, const struct line *l,
	      size_t sep, const char *value, const char *eol)
{
	size_t vstart = sep + 1;
	while (vstart < l->end && blank(text[vstart])) {
		vstart++;
	}
	/* inih's inline comments: a ';' after a blank ends the value. */
	size_t comment = l->end;
	for (size_t i = vstart + 1; i < l->end; i++) {
		if (text[i] == ';' && blank(text[i - 1])) {
			comment = i;
			break;
		}
	}
	size_t vend = comment;
	while (vend > vstart && blank(text[vend - 1])) {
		vend--;
	}
	put(o, text + l->start, vstart - l->start);
	if (value[0] == '\0' && comment < l->end) {
		/* "key = ; comment" would read back as the value "; comment": drop the comment. */
		put(o, text + l->end, l->start + l->len - l->end);
		return;
	}
	put_value(o, k, vstart - l->start, value, text + vend, l->start + l->len - vend, eol);
}

/* The line ending the file uses: that of its first line, else "\n". */
static const char *
eol_of(const char *text, const struct line *lines, size_t n)
{
	if (n > 0 && lines[0].end < lines[0].start + lines[0].len && text[lines[0].end] == '\r') {
		return "\r\n";
	}
	return "\n";
}

static void
put_key_line(struct out *o, const struct cfg_key *k, const char *value, const char *eol)
{
	puts_(o, k->key);
	puts_(o, value[0] != '\0' ? " = " : " =");
	put_value(o, k, strlen(k->key) + 3, value, eol, strlen(eol), eol);
}

/*
 * Builds the new file text: see cfg_write_set.  A commented-out example ("; key = ..." or
 * "# key = ...") belongs to the real section it is in, unless a commented-out header
 * ("; [zone example.com]") after the real header starts an example section of its own.
 */
static char *
rewrite(const char *text, size_t len, const struct keyref *r, const char *value)
{
	size_t n;
	struct line *lines = split_lines(text, len, &n);
	const char *key = r->k->key;
	const char *eol = eol_of(text, lines, n);
	bool in = false;          /* inside a real section of r */
	bool in_example = false;  /* and not below a commented-out header of another section */
	size_t found = SIZE_MAX, sep = 0, example = SIZE_MAX, last_key = SIZE_MAX;
	size_t header = SIZE_MAX;
	char name[1024 + 40];
	/* Which value the lines below a key line continue: none, another key's, the key's. */
	enum { RUN_NONE, RUN_OTHER, RUN_KEY } run = RUN_NONE;
	bool *drop = tdns_xcalloc(n + 1, sizeof(*drop));

	for (size_t i = 0; i < n; i++) {
		const struct line *l = &lines[i];
		const char *s = text + l->content;
		size_t slen = l->end - l->content;
		if (slen == 0) {
			run = RUN_NONE;   /* a blank line ends a value */
			continue;
		}
		if (in && run != RUN_NONE && cfg_line_continues(r->k->section, s, slen,
								l->content > l->start)) {
			/* A continuation line: of the key's value, it goes with that value. */
			drop[i] = run == RUN_KEY;
			last_key = i;
			continue;
		}
		if (s[0] == '[') {
			run = RUN_NONE;
			if (header_name(s, slen, name, sizeof(name))) {
				in = section_is(name, r);
				in_example = in;
				if (in && header == SIZE_MAX) {
					header = i;
				}
			}
			continue;
		}
		if (s[0] == ';' || s[0] == '#') {
			size_t b = 1;
			while (b < slen && blank(s[b])) {
				b++;
			}
			if (b < slen && s[b] == '[') {
				if (in && header_name(s + b, slen - b, name, sizeof(name))) {
					in_example = section_is(name, r);
				}
				continue;
			}
			size_t csep;
			if (in_example && line_key_is(s + b, slen - b, key, &csep)) {
				example = i;
			}
			continue;
		}
		if (!in) {
			continue;
		}
		size_t ksep;
		run = RUN_OTHER;
		if (line_key_is(s, slen, key, &ksep)) {
			/* A list key given again: the new value replaces every one. */
			run = RUN_KEY;
			drop[i] = found != SIZE_MAX;
			if (found == SIZE_MAX) {
				found = i;
				sep = l->content + ksep;
			}
		}
		last_key = i;
	}

	struct out o = { 0 };
	put(&o, "", 0);
	size_t after = example != SIZE_MAX ? example : last_key != SIZE_MAX ? last_key : header;
	for (size_t i = 0; i < n; i++) {
		const struct line *l = &lines[i];
		if (i == found) {
			replace_value(&o, r->k, text, l, sep, value, eol);
			continue;
		}
		if (drop[i]) {
			continue;
		}
		put(&o, text + l->start, l->len);
		if (found == SIZE_MAX && i == after) {
			if (l->end == l->start + l->len) {
				puts_(&o, eol);   /* the last line had no line ending */
			}
			put_key_line(&o, r->k, value, eol);
		}
	}
	if (found == SIZE_MAX && after == SIZE_MAX) {
		if (o.len > 0) {
			if (o.p[o.len - 1] != '\n') {
				puts_(&o, eol);
			}
			puts_(&o, eol);
		}
		puts_(&o, "[");
		puts_(&o, r->k->section);
		if (r->named != NULL) {
			puts_(&o, " ");
			puts_(&o, r->name);
		}
		puts_(&o, "]");
		puts_(&o, eol);
		put_key_line(&o, r->k, value, eol);
	}
	free(drop);
	free(lines);
	return o.p;
}

/* Replaces every occurrence of from in msg by to (the temporary file's name by the real one). */
static void
rename_in_msg(char *msg, size_t cap, const char *from, const char *to)
{
	char *at = strstr(msg, from);
	if (at == NULL || cap == 0) {
		return;
	}
	char rest[1024];
	snprintf(rest, sizeof(rest), "%s", at + strlen(from));
	*at = '\0';
	size_t used = strlen(msg);
	snprintf(at, cap - used, "%s%s", to, rest);
}

int
cfg_write_set(const char *path, const char *key, const char *value, char *err, size_t errlen)
{
	return cfg_write_set_check(path, key, value, NULL, NULL, err, errlen);
}

int
cfg_write_set_check(const char *path, const char *key, const char *value,
		    int (*check)(const struct cfg *c, void *arg, char *err, size_t errlen),
		    void *arg, char *err, size_t errlen)
{
	struct keyref r;
	char *text = NULL;
	char *newtext = NULL;
	char *real = NULL;
	char *tmp = NULL;
	char *trimmed = NULL;
	int fd = -1;
	int rc = key_resolve(key, &r, err, errlen);
	if (rc != TDNS_OK) {
		return rc;
	}

	/* The file holds one line per key: blanks around the value are not part of it. */
	while (blank(*value)) {
		value++;
	}
	trimmed = tdns_xstrdup(value);
	for (size_t len = strlen(trimmed); len > 0 && blank(trimmed[len - 1]); len--) {
		trimmed[len - 1] = '\0';
	}
	for (const char *s = trimmed; *s != '\0'; s++) {
		if (*s == '\n' || *s == '\r') {
			snprintf(err, errlen, "invalid value for %s: a line break; expected "
				 "one line", key);
			rc = TDNS_EINVAL;
			goto out;
		}
		if (*s == ';' && s > trimmed && blank(s[-1])) {
			snprintf(err, errlen, "invalid value for %s: ';' after a blank starts a "
				 "comment; expected a value without it", key);
			rc = TDNS_EINVAL;
			goto out;
		}
	}

	/* Through a symbolic link, the file it points to is rewritten, not the link. */
	real = realpath(path, NULL);
	if (real == NULL) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		rc = TDNS_EIO;
		goto out;
	}
	size_t len;
	rc = read_file(real, &text, &len, err, errlen);
	if (rc != TDNS_OK) {
		goto out;
	}
	newtext = rewrite(text, len, &r, trimmed);

	struct stat st;
	if (stat(real, &st) != 0) {
		snprintf(err, errlen, "cannot stat %s: %s", path, strerror(errno));
		rc = TDNS_EIO;
		goto out;
	}
	char *slash = strrchr(real, '/');
	size_t dirlen = (size_t)(slash - real);
	size_t tlen = strlen(real) + 16;
	tmp = tdns_xmalloc(tlen);
	snprintf(tmp, tlen, "%.*s/.%s.XXXXXX", (int)dirlen, real, slash + 1);
	fd = mkstemp(tmp);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create a temporary file beside %s: %s", path,
			 strerror(errno));
		free(tmp);
		tmp = NULL;
		rc = TDNS_EIO;
		goto out;
	}
	/* Same mode and owner as the file it replaces (the owner only when we may). */
	if (fchmod(fd, st.st_mode & 07777) != 0 || (fchown(fd, st.st_uid, st.st_gid) != 0 &&
						     errno != EPERM)) {
		snprintf(err, errlen, "cannot set the mode of %s: %s", tmp, strerror(errno));
		rc = TDNS_EIO;
		goto out;
	}
	if (!tdns_write_all(fd, newtext, strlen(newtext)) || fsync(fd) != 0) {
		snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
		rc = TDNS_EIO;
		goto out;
	}
	close(fd);
	fd = -1;

	struct cfg *c = NULL;
	char msg[1024];
	rc = cfg_load(tmp, &c, msg, sizeof(msg));
	if (rc != TDNS_OK) {
		rename_in_msg(msg, sizeof(msg), tmp, path);
		snprintf(err, errlen, "%s", msg);
		rc = rc == TDNS_EIO ? TDNS_EIO : TDNS_ECONFIG;
		goto out;
	}
	rc = check != NULL ? check(c, arg, err, errlen) : TDNS_OK;
	cfg_free(c);
	if (rc != TDNS_OK) {
		goto out;
	}
	if (rename(tmp, real) != 0) {
		snprintf(err, errlen, "cannot replace %s: %s", path, strerror(errno));
		rc = TDNS_EIO;
		goto out;
	}
	free(tmp);
	tmp = NULL;
	if (tdns_fsync_parent(real) != TDNS_OK) {
		real[dirlen > 0 ? dirlen : 1] = '\0';
		snprintf(err, errlen, "cannot sync directory %s: %s", real, strerror(errno));
		rc = TDNS_EIO;
		goto out;
	}
	rc = TDNS_OK;
out:
	keyref_clear(&r);
	if (fd >= 0) {
		close(fd);
	}
	if (tmp != NULL) {
		unlink(tmp);
		free(tmp);
	}
	free(trimmed);
	free(newtext);
	free(text);
	free(real);
	return rc;
}
