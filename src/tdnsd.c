/* SPDX-License-Identifier: MIT */
/* tdnsd: configuration, zones, worker threads, privilege drop, signals and reload. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "block/block.h"
#include "blocklists.h"
#include "cfg/cfg.h"
#include "core/core.h"
#include "ctl/ctl.h"
#include "dnssec/dnssec.h"
#include "net/net.h"
#include "query/query.h"
#include "resolver/resolver.h"
#include "stats/stats.h"
#include "zone/zone.h"

/* What was bound and started with; changing it needs a restart. */
struct boot {
	struct cfg_listen *listen;
	size_t nlisten;
	unsigned workers;
	unsigned tcp_idle_timeout;
	unsigned tcp_max_connections;
	unsigned udp_max_payload;
	char *user;
	char *ident[3];           /* [server] identity, version, nsid as written ("" = off) */
};

struct daemon {
	char *cfg_path;           /* NULL: embedded defaults */
	bool foreground;
	struct cfg *cfg;          /* current configuration */
	struct boot boot;
	struct zone_set *zones;   /* published to the workers */
	struct resolver_stubs *stubs; /* stub zones' NS sets (issue 5), refreshed on base */
	struct zone_secondaries *secs; /* secondary zones (issue 17), transferred on base */
	struct net_server *srv;
	struct event_base *base;
	int ready_fd;             /* pipe to the waiting parent, -1 in the foreground */
	struct zone_catalog *catalog; /* run-time zones and enabled states (state-dir) */
	struct stats_recorder *stats;
	struct ctl_server *ctl;   /* the control socket, NULL when it could not be opened */
	struct ctl_env env;       /* what control commands may do (filled by ctl_start) */
	double started_ms;        /* now_ms() at start, for the uptime */
	struct cache *cache;      /* the answer cache shared by the workers (issue 4) */
	struct resolver_conf *rconf; /* forwarding setup published to the workers */
	struct zone_xfr_conf *xfr; /* allow-transfer and TSIG keys published to the workers */
	struct zone_notifier *notifier; /* NOTIFY out (issue 17), on base */
	struct query_blocking *blocking; /* block lists published to the workers (issue 18) */
	struct event *pause_ev;   /* ends a `block pause`; NULL until the first */
	long long pause_end_ms;   /* tdns_mono_ms() when a pause ends; 0: not paused */
	/* Issue 16: what the validator is to be given (const) and `dnssec ...` shows. */
	struct dnssec_ntas *ntas; /* negative trust anchors; ctl ones kept in state-dir */
	struct dnssec_anchors *anchors; /* configured trust anchors (built-in root) */
	struct dnssec_rfc5011 *rfc5011; /* RFC 5011 state of the anchors, in state-dir */
	struct blocklists *dl;    /* downloads of the URL lists (issue 18) */
	struct block_job *refresh; /* the lists read again after downloads; NULL: none runs */
	struct event *refresh_ev; /* activated once that build is done */
	bool refresh_again;       /* more downloads came in meanwhile */
};

/* Counts of one zone-set build, for the log. */
struct load_sum {
	unsigned loaded;
	unsigned kept;            /* failed to reload, previous version kept */
	unsigned failed;          /* failed, no previous version: not served */
	size_t records;
};

static void
usage(FILE *f)
{
	fputs("usage: tdnsd [-c FILE] [-f] [-t] [-h] [-V]\n"
	      "  -c FILE  configuration file (default " CFG_DEFAULT_PATH
	      " if it exists,\n"
	      "           else the built-in defaults)\n"
	      "  -f       stay in the foreground and log to stderr\n"
	      "  -t       check the configuration and every zone, then exit\n"
	      "  -h       show this help\n"
	      "  -V       show the version\n",
	      f);
}

static double
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/*
 * Start-up failure: people see it on stderr (still the terminal, also when daemonising: the
 * parent waits), and the log gets it too when it is syslog.
 */
static void __attribute__((format(printf, 2, 3)))
startup_error(const struct daemon *d, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "tdnsd: %s\n", msg);
	if (!d->foreground) {
		tdns_err("%s", msg);
	}
}

/* ------------------------------------------------------------------------------------------ */
/* Zones                                                                                       */

/*
 * Loads one zone into set.  On failure the version in old (when there is one) is kept by
 * sharing it, else the zone is skipped: one bad zone never stops the others.
 */
static void
load_one(struct zone_set *set, const struct zone_set *old, const char *name,
	 const uint8_t *apex, const char *file, bool forwarder, struct load_sum *sum)
{
	char err[1024];
	struct zone *z = NULL;
	double t0 = now_ms();
	int rc = file == NULL ? TDNS_EINVAL
		 : forwarder ? zone_load_forwarder(apex, file, &z, err, sizeof(err))
			     : zone_load(apex, file, &z, err, sizeof(err));
	if (file == NULL) {
		snprintf(err, sizeof(err), "no zone file");
	}
	if (rc == TDNS_OK) {
		size_t nrec = z->nrecords;
		uint32_t serial = z->serial;
		rc = zone_set_add(set, z);
		if (rc != TDNS_OK) {
			tdns_err("zone %s: %s", name, tdns_status_msg(rc));
			zone_free(z);
			sum->failed++;
			return;
		}
		tdns_info("zone %s: %zu records, serial %u, loaded in %.1f ms", name, nrec, serial,
			  now_ms() - t0);
		sum->loaded++;
		sum->records += nrec;
		return;
	}
	/* Zones are reference-counted: the new set shares the version it keeps. */
	struct zone *prev = (struct zone *)zone_set_find(old, apex);
	if (prev != NULL && zone_set_add(set, zone_ref(prev)) == TDNS_OK) {
		tdns_err("zone %s: %s; keeping serial %u", name, err, prev->serial);
		sum->kept++;
		sum->records += prev->nrecords;
		return;
	}
	if (prev != NULL) {
		zone_free(prev);
	}
	tdns_err("zone %s: %s; zone not served", name, err);
	sum->failed++;
}

/*
 * Loads every zone to serve into a new set: the configured zones, then the zones created at
 * run time (the catalog); zones disabled in the catalog are left out.  A zone that fails is
 * logged and skipped, or, on reload, keeps its version in old.
 */
/*
 * Adds the version of the secondary zone at apex that secs serves (issue 17); none before the
 * main event base runs (secs NULL): the zones are added by start-up once it does.
 */
static void
add_secondary(struct zone_set *set, struct zone_secondaries *secs, const uint8_t *apex,
	      struct load_sum *sum)
{
	struct zone *z = zone_sec_zone(secs, apex);
	if (z == NULL) {
		return;
	}
	if (zone_set_add(set, z) != TDNS_OK) {
		zone_free(z);
		return;
	}
	sum->loaded += !z->expired;
	sum->records += z->nrecords;
}

static struct zone_set *
load_zones(const struct cfg *c, const struct zone_catalog *cat, const struct zone_set *old,
	   struct zone_secondaries *secs, struct load_sum *sum)
{
	memset(sum, 0, sizeof(*sum));
	struct zone_set *set = zone_set_new();
	if (set == NULL) {
		return NULL;
	}
	for (size_t i = 0; i < c->nzones; i++) {
		const struct cfg_zone *cz = &c->zones[i];
		const struct zone_catalog_entry *e = zone_catalog_find(cat, cz->apex);
		if (e != NULL && e->disabled) {
			tdns_info("zone %s: disabled", cz->name);
			continue;
		}
		if (strcmp(cz->type, "forwarder") == 0 && access(cz->file, F_OK) != 0) {
			/* A forwarder zone's file only holds overrides; it may well not exist. */
			continue;
		}
		if (strcmp(cz->type, "stub") == 0) {
			/* No data: its NS set is fetched by the resolver (stub.c, issue 5). */
			continue;
		}
		if (strcmp(cz->type, "secondary") == 0) {
			add_secondary(set, secs, cz->apex, sum);
			continue;
		}
		load_one(set, old, cz->name, cz->apex, cz->file,
			 strcmp(cz->type, "forwarder") == 0, sum);
	}
	for (size_t i = 0; i < zone_catalog_count(cat); i++) {
		const struct zone_catalog_entry *e = zone_catalog_get(cat, i);
		bool in_cfg = false;
		for (size_t k = 0; k < c->nzones && !in_cfg; k++) {
			in_cfg = dns_name_eq(c->zones[k].apex, e->apex);
		}
		if (!e->runtime || in_cfg) {
			/* A [zone] section of the same name wins over the run-time zone. */
			continue;
		}
		if (e->disabled) {
			tdns_info("zone %s: disabled", e->name);
			continue;
		}
		if (e->type != NULL && strcmp(e->type, "secondary") == 0) {
			add_secondary(set, secs, e->apex, sum);
			continue;
		}
		load_one(set, old, e->name, e->apex, e->file,
			 e->type != NULL && strcmp(e->type, "forwarder") == 0, sum);
	}
	return set;
}

/* -t: checks every zone; prints the errors and returns the exit status. */
static int
check_zones(const struct cfg *c)
{
	int status = 0;
	for (size_t i = 0; i < c->nzones; i++) {
		char err[1024];
		struct zone *z = NULL;
		const struct cfg_zone *cz = &c->zones[i];
		bool fwd = strcmp(cz->type, "forwarder") == 0;
		if ((fwd && access(cz->file, F_OK) != 0) || strcmp(cz->type, "stub") == 0 ||
		    strcmp(cz->type, "secondary") == 0) {
			/* A stub or secondary zone's data comes from its primaries. */
			continue;
		}
		int rc = fwd ? zone_load_forwarder(cz->apex, cz->file, &z, err, sizeof(err))
			     : zone_load(cz->apex, cz->file, &z, err, sizeof(err));
		if (rc != TDNS_OK && cz->src_file != NULL) {
			/* Which section asked for it, as well as what is wrong with the file. */
			fprintf(stderr, "tdnsd: %s:%u: [zone %s]: %s\n", cz->src_file,
				cz->src_line, cz->name, err);
			status = 1;
		} else if (rc != TDNS_OK) {
			fprintf(stderr, "tdnsd: %s\n", err);
			status = 1;
		}
		zone_free(z);
	}
	if (c->ndot_listen > 0 || c->ndoh_listen > 0) {
		/* The certificate the encrypted listeners would present must load (issue 6). */
		struct net_tls *t = NULL;
		char err[1024];
		if (net_tls_new(c, &t, err, sizeof(err)) != TDNS_OK) {
			fprintf(stderr, "tdnsd: %s\n", err);
			status = 1;
		}
		net_tls_free(t);
	}
	return status;
}

/* ------------------------------------------------------------------------------------------ */
/* Process set-up                                                                               */

/* mkdir -p with mode for every directory created; *created tells if the last one was new. */
static int
mkdir_p(const char *path, mode_t mode, bool *created)
{
	char buf[PATH_MAX];
	*created = false;
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	size_t len = strlen(buf);
	while (len > 1 && buf[len - 1] == '/') {
		buf[--len] = '\0';
	}
	for (char *p = buf + 1; ; p++) {
		bool end = *p == '\0';
		if (*p == '/' || end) {
			*p = '\0';
			if (mkdir(buf, mode) == 0) {
				*created = end;
			} else if (errno != EEXIST) {
				return -1;
			} else {
				struct stat st;
				if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) {
					errno = ENOTDIR;
					return -1;
				}
			}
			if (end) {
				return 0;
			}
			*p = '/';
		}
	}
}

static bool
zone_in_dir(const struct cfg *c, const char *dir)
{
	size_t n = strlen(dir);
	for (size_t i = 0; i < c->nzones; i++) {
		const char *f = c->zones[i].file;
		if (f != NULL && strncmp(f, dir, n) == 0 && (f[n] == '/' || dir[n - 1] == '/')) {
			return true;
		}
	}
	return false;
}

/*
 * Creates the state directory (0750, owned by the service user when we start as root).  If it
 * cannot be created and no zone lives in it, the server can still run: warn and continue.
 */
static int
make_state_dir(const struct daemon *d, const struct cfg *c)
{
	if (c->state_dir == NULL || c->state_dir[0] == '\0') {
		return TDNS_OK;
	}
	bool created;
	if (mkdir_p(c->state_dir, 0750, &created) != 0) {
		if (!zone_in_dir(c, c->state_dir)) {
			tdns_warn("cannot create state-dir %s: %s; continuing without it",
				  c->state_dir, strerror(errno));
			return TDNS_OK;
		}
		startup_error(d, "cannot create state-dir %s: %s", c->state_dir, strerror(errno));
		return TDNS_EIO;
	}
	if (created && c->user != NULL && c->user[0] != '\0' && geteuid() == 0) {
		struct passwd *pw = getpwnam(c->user);
		if (pw != NULL && chown(c->state_dir, pw->pw_uid, pw->pw_gid) != 0) {
			tdns_warn("cannot give state-dir %s to %s: %s", c->state_dir, c->user,
				  strerror(errno));
		}
	}
	return TDNS_OK;
}

/* After binding: become user (groups first, then gid, then uid, so nothing is left behind). */
static int
drop_privileges(const struct daemon *d, const char *user)
{
	if (user == NULL || user[0] == '\0') {
		return TDNS_OK;
	}
	errno = 0;
	struct passwd *pw = getpwnam(user);
	if (pw == NULL) {
		startup_error(d, "unknown user %s%s%s", user, errno ? ": " : "",
			      errno ? strerror(errno) : "");
		return TDNS_EINVAL;
	}
	if (getuid() == pw->pw_uid && geteuid() == pw->pw_uid && getgid() == pw->pw_gid) {
		return TDNS_OK;
	}
	gid_t gid = pw->pw_gid;
	if (setgroups(1, &gid) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
		startup_error(d, "cannot drop privileges to user %s: %s", user, strerror(errno));
		return TDNS_EACCES;
	}
	if (pw->pw_uid != 0 && setuid(0) == 0) {
		startup_error(d, "privileges could be regained after switching to %s", user);
		return TDNS_EACCES;
	}
	tdns_info("running as user %s (uid %u, gid %u)", user, (unsigned)pw->pw_uid,
		  (unsigned)pw->pw_gid);
	return TDNS_OK;
}

/*
 * Forks; the parent waits until the child reports that it is up (one zero byte on the pipe)
 * and exits 0, or 1 if the child failed first.  The child keeps stderr until then, so start-up
 * errors still reach the terminal.
 */
static int
daemonise(struct daemon *d)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0) {
		startup_error(d, "pipe: %s", strerror(errno));
		return TDNS_EIO;
	}
	pid_t pid = fork();
	if (pid < 0) {
		startup_error(d, "fork: %s", strerror(errno));
		return TDNS_EIO;
	}
	if (pid > 0) {
		close(p[1]);
		char c = 1;
		ssize_t n;
		do {
			n = read(p[0], &c, 1);
		} while (n < 0 && errno == EINTR);
		_exit(n == 1 && c == 0 ? 0 : 1);
	}
	close(p[0]);
	d->ready_fd = p[1];
	if (setsid() < 0) {
		startup_error(d, "setsid: %s", strerror(errno));
		return TDNS_EIO;
	}
	return TDNS_OK;
}

/* Tells the waiting parent we are up and lets go of the terminal. */
static void
detach(struct daemon *d)
{
	if (d->ready_fd < 0) {
		return;
	}
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO) {
			close(fd);
		}
	}
	char c = 0;
	ssize_t n;
	do {
		n = write(d->ready_fd, &c, 1);
	} while (n < 0 && errno == EINTR);
	close(d->ready_fd);
	d->ready_fd = -1;
}

static void
boot_save(struct boot *b, const struct cfg *c, unsigned workers)
{
	b->listen = tdns_xcalloc(c->nlisten ? c->nlisten : 1, sizeof(*b->listen));
	if (c->nlisten > 0) {
		memcpy(b->listen, c->listen, c->nlisten * sizeof(*b->listen));
	}
	b->nlisten = c->nlisten;
	b->workers = workers;
	b->tcp_idle_timeout = c->tcp_idle_timeout;
	b->tcp_max_connections = c->tcp_max_connections;
	b->udp_max_payload = c->udp_max_payload;
	b->user = c->user != NULL ? tdns_xstrdup(c->user) : NULL;
	const char *ident[3] = { c->identity, c->version, c->nsid };
	for (int i = 0; i < 3; i++) {
		b->ident[i] = tdns_xstrdup(ident[i] != NULL ? ident[i] : "");
	}
}

static void
boot_free(struct boot *b)
{
	free(b->listen);
	free(b->user);
	for (int i = 0; i < 3; i++) {
		free(b->ident[i]);
	}
}

static unsigned
worker_count(const struct cfg *c)
{
	if (c->workers > 0) {
		return c->workers;
	}
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 256 ? 256 : (unsigned)n;
}

/* ------------------------------------------------------------------------------------------ */
/* Reload (SIGHUP)                                                                              */

static bool
listen_has(const struct cfg_listen *set, size_t n, const struct cfg_listen *l)
{
	for (size_t i = 0; i < n; i++) {
		if (set[i].addrlen == l->addrlen &&
		    memcmp(&set[i].addr, &l->addr, l->addrlen) == 0) {
			return true;
		}
	}
	return false;
}

static void
warn_restart_needed(const struct boot *b, const struct cfg *c)
{
	bool same = b->nlisten == c->nlisten;
	for (size_t i = 0; same && i < c->nlisten; i++) {
		same = listen_has(b->listen, b->nlisten, &c->listen[i]) &&
		       listen_has(c->listen, c->nlisten, &b->listen[i]);
	}
	if (!same) {
		tdns_warn("reload: listen addresses changed; restart tdnsd to apply");
	}
	if (worker_count(c) != b->workers) {
		tdns_warn("reload: workers changed; restart tdnsd to apply");
	}
	if (c->tcp_idle_timeout != b->tcp_idle_timeout ||
	    c->tcp_max_connections != b->tcp_max_connections ||
	    c->udp_max_payload != b->udp_max_payload) {
		tdns_warn("reload: tcp-idle-timeout, tcp-max-connections and udp-max-payload "
			  "changes need a restart");
	}
	const char *nu = c->user != NULL ? c->user : "";
	const char *ou = b->user != NULL ? b->user : "";
	if (strcmp(nu, ou) != 0) {
		tdns_warn("reload: user changed; restart tdnsd to apply");
	}
	const char *ident[3] = { c->identity, c->version, c->nsid };
	for (int i = 0; i < 3; i++) {
		if (strcmp(ident[i] != NULL ? ident[i] : "", b->ident[i]) != 0) {
			tdns_warn("reload: identity, version and nsid changes need a restart");
			break;
		}
	}
}

static bool
cfg_has_zone(const struct cfg *c, const uint8_t *apex)
{
	for (size_t i = 0; i < c->nzones; i++) {
		if (dns_name_eq(c->zones[i].apex, apex)) {
			return true;
		}
	}
	return false;
}

/* The gid of [control] group gname, (gid_t)-1 (logged) when it is unset or unknown. */
static gid_t
control_gid(const char *gname)
{
	if (gname == NULL || gname[0] == '\0') {
		return (gid_t)-1;
	}
	errno = 0;
	struct group *gr = getgrnam(gname);
	if (gr == NULL) {
		tdns_err("control: unknown group %s%s%s; only root and the daemon's user may connect",
			 gname, errno ? ": " : "", errno ? strerror(errno) : "");
		return (gid_t)-1;
	}
	return gr->gr_gid;
}

/*
 * Builds the table of the block lists lists and allow lists allow (comma-separated files and
 * URLs, a URL read from its last good copy under state_dir) for the log's label (issue 18),
 * off the query path: the workers keep the previous table until it is published.  NULL on
 * out of memory (logged).
 */
static struct block_table *
build_lists(const char *label, const char *state_dir, const char *lists, const char *allow)
{
	double t0 = now_ms();
	struct block_build *b = block_build_new();
	int rc = b != NULL ? TDNS_OK : TDNS_ENOMEM;
	for (int a = 0; a <= 1 && rc == TDNS_OK; a++) {
		char *copy = tdns_xstrdup(a ? allow : lists);
		char *cur = copy;
		bool more = copy[0] != '\0';
		while (more && rc == TDNS_OK) {
			char *item = cfg_list_next(&cur, &more);
			if (block_source_is_url(item)) {
				char *copy_path = block_store_path(state_dir, item, ".list");
				rc = block_build_add_named_file(b, item, copy_path, a);
				free(copy_path);
			} else {
				rc = block_build_add_file(b, item, a);
			}
		}
		free(copy);
	}
	struct block_table *t = NULL;
	if (rc == TDNS_OK) {
		rc = block_build_finish(b, &t);
	} else {
		block_build_free(b);
	}
	if (rc != TDNS_OK) {
		tdns_err("%s: %s; not used", label, tdns_status_msg(rc));
		return NULL;
	}
	size_t n;
	const struct block_list_info *li = block_table_lists(t, &n);
	size_t malformed = 0;
	for (size_t i = 0; i < n; i++) {
		malformed += li[i].malformed;
	}
	tdns_info("%s: %zu blocked and %zu allowed names from %zu lists (%zu malformed lines "
		  "skipped) in %.1f ms", label, block_table_count(t, false),
		  block_table_count(t, true), n, malformed, now_ms() - t0);
	return t;
}

/* The tables of a configuration's lists: [blocking] and one per [blocking-group]. */
struct block_sets {
	struct block_table *lists;
	struct block_table **groups; /* ngroups entries, each maybe NULL */
	size_t ngroups;
	struct block_safe *safe;  /* the safe-search table, when safe search is on anywhere */
	int safe_rc;              /* why it could not be read (safe_err), else TDNS_OK */
	char safe_err[512];
	bool owned;               /* references held, dropped by block_sets_clear */
};

/* Builds the tables of c's lists (none when blocking is off). */
static void
block_sets_load(struct block_sets *s, const struct cfg *c)
{
	*s = (struct block_sets){ .owned = true };
	if (!c->blocking_enabled) {
		return;
	}
	s->lists = build_lists("block lists", c->state_dir, c->blocking_lists,
			       c->blocking_allow_lists);
	s->groups = tdns_xcalloc(c->nblock_groups + 1, sizeof(*s->groups));
	s->ngroups = c->nblock_groups;
	for (size_t i = 0; i < c->nblock_groups; i++) {
		const struct cfg_block_group *g = &c->block_groups[i];
		if (g->lists[0] != '\0' || g->allow_lists[0] != '\0') {
			char label[128];
			snprintf(label, sizeof(label), "blocking group %s", g->name);
			s->groups[i] = build_lists(label, c->state_dir, g->lists, g->allow_lists);
		}
	}
	if (query_blocking_wants_safe(c)) {
		s->safe_rc = block_safe_load(c->blocking_safe_search_file, &s->safe, s->safe_err,
					     sizeof(s->safe_err));
		if (s->safe_rc == TDNS_OK) {
			tdns_info("safe search: %zu names from %s", block_safe_count(s->safe),
				  c->blocking_safe_search_file);
		}
	}
}

/* The running tables, borrowed (d->cfg is the configuration they were made for). */
static void
block_sets_running(struct daemon *d, struct block_sets *s)
{
	*s = (struct block_sets){ .owned = false };
	if (d->blocking == NULL) {
		return;
	}
	s->lists = query_blocking_table(d->blocking, false);
	s->ngroups = d->cfg->nblock_groups;
	s->groups = tdns_xcalloc(s->ngroups + 1, sizeof(*s->groups));
	for (size_t i = 0; i < s->ngroups; i++) {
		s->groups[i] = query_blocking_group_table(d->blocking, i);
	}
	s->safe = query_blocking_safe_table(d->blocking);
}

static void
block_sets_clear(struct block_sets *s)
{
	if (s->owned) {
		block_table_unref(s->lists);
		for (size_t i = 0; i < s->ngroups; i++) {
			block_table_unref(s->groups[i]);
		}
		block_safe_unref(s->safe);
	}
	free(s->groups);
	*s = (struct block_sets){ .owned = false };
}

/*
 * A build of the block lists on a thread of its own, beside the reload's zone loading, or
 * after downloads (then done, an event of the main base, is activated when it is built).
 */
struct block_job {
	const struct cfg *c;
	struct block_sets sets;
	pthread_t thread;
	bool threaded;
	struct event *done;
};

static void *
block_job_run(void *arg)
{
	struct block_job *j = arg;
	block_sets_load(&j->sets, j->c);
	if (j->done != NULL) {
		/* Thread-safe: libevent's locking is on (evthread_use_pthreads). */
		event_active(j->done, 0, 0);
	}
	return NULL;
}

/* Starts building c's lists; on a thread when one can be made, else at once. */
static void
block_job_start(struct block_job *j, const struct cfg *c, struct event *done)
{
	*j = (struct block_job){ .c = c, .done = done };
	j->threaded = pthread_create(&j->thread, NULL, block_job_run, j) == 0;
	if (!j->threaded) {
		(void)block_job_run(j);
	}
}

/* Waits for the build; its tables are then in j->sets (free with block_sets_clear). */
static void
block_job_finish(struct block_job *j)
{
	if (j->threaded) {
		(void)pthread_join(j->thread, NULL);
		j->threaded = false;
	}
}

/*
 * Publishes the blocking of c with the tables of sets and custom (references taken) to the
 * workers and frees the previous one.  TDNS_OK, or the status with the reason in err.
 */
static int
publish_blocking(struct daemon *d, const struct cfg *c, const struct block_sets *sets,
		 struct block_table *custom, char *err, size_t errlen)
{
	struct query_blocking *qb = NULL;
	if (sets->safe_rc != TDNS_OK) {
		snprintf(err, errlen, "%s", sets->safe_err);
		return sets->safe_rc;
	}
	int rc = query_blocking_new(c, sets->lists, custom,
				    sets->ngroups == c->nblock_groups ? sets->groups : NULL,
				    sets->safe, d->pause_end_ms != 0, &qb, err, errlen);
	if (rc != TDNS_OK) {
		return rc;
	}
	/* Blocks until every worker has switched, so nobody uses the old one after it. */
	query_publish_blocking(d->srv, qb);
	query_blocking_free(d->blocking);
	d->blocking = qb;
	return TDNS_OK;
}

/* tdnsd -t: the safe-search table, when safe search is on anywhere; 0, or 1 after the error. */
static int
check_safe_search(const struct cfg *c)
{
	if (!query_blocking_wants_safe(c)) {
		return 0;
	}
	struct block_safe *s = NULL;
	char err[1024];
	if (block_safe_load(c->blocking_safe_search_file, &s, err, sizeof(err)) != TDNS_OK) {
		fprintf(stderr, "tdnsd: %s\n", err);
		return 1;
	}
	block_safe_unref(s);
	return 0;
}

/* The custom names' table of c's state directory; NULL on out of memory (logged). */
static struct block_table *
load_block_custom(const struct cfg *c)
{
	struct block_table *t = NULL;
	if (block_custom_load(c->state_dir, &t) != TDNS_OK) {
		tdns_err("custom block names: out of memory; not used");
	}
	return t;
}

/*
 * Waits for a rebuild after downloads and drops it: a reload reads every list again with
 * the new configuration, and the old one must not be read after it is freed.
 */
static void
block_sets_refresh_cancel(struct daemon *d)
{
	if (d->refresh == NULL) {
		return;
	}
	block_job_finish(d->refresh);
	block_sets_clear(&d->refresh->sets);
	free(d->refresh);
	d->refresh = NULL;
	d->refresh_again = false;
}

/*
 * Re-reads the configuration and every zone (SIGHUP, `config reload`).  TDNS_OK with a summary
 * in msg, or the status with the reason in msg; on failure nothing changed.
 */
static int
reload(struct daemon *d, char *msg, size_t msglen)
{
	double t0 = now_ms();
	tdns_info("reload: reading %s", d->cfg_path != NULL ? d->cfg_path : "built-in defaults");
	struct cfg *nc = NULL;
	char err[1024];
	int rc = cfg_load(d->cfg_path, &nc, err, sizeof(err));
	if (rc != TDNS_OK) {
		tdns_err("reload: %s; keeping the running configuration and zones", err);
		snprintf(msg, msglen, "%s; keeping the running configuration and zones", err);
		return rc;
	}
	warn_restart_needed(&d->boot, nc);
	tdns_log_set_level((enum tdns_log_level)nc->log_level);
	if (nc->state_dir != NULL && (d->cfg->state_dir == NULL ||
				      strcmp(nc->state_dir, d->cfg->state_dir) != 0)) {
		(void)make_state_dir(d, nc);
	}
	unsigned added = 0, removed = 0;
	for (size_t i = 0; i < nc->nzones; i++) {
		added += !cfg_has_zone(d->cfg, nc->zones[i].apex);
	}
	for (size_t i = 0; i < d->cfg->nzones; i++) {
		removed += !cfg_has_zone(nc, d->cfg->zones[i].apex);
	}
	if (nc->cache_max_size != d->cfg->cache_max_size ||
	    nc->cache_min_ttl != d->cfg->cache_min_ttl ||
	    nc->cache_max_ttl != d->cfg->cache_max_ttl ||
	    nc->cache_neg_max_ttl != d->cfg->cache_neg_max_ttl ||
	    nc->cache_serve_stale != d->cfg->cache_serve_stale) {
		tdns_warn("reload: [cache] changes need a restart");
	}
	/* Issue 18: the block lists are read again off the main thread while zones load. */
	struct block_job job;
	block_sets_refresh_cancel(d);
	block_job_start(&job, nc, NULL);
	struct load_sum sum;
	if (d->secs != NULL) {
		zone_sec_configure(d->secs, nc, d->catalog);
	}
	struct zone_set *set = load_zones(nc, d->catalog, d->zones, d->secs, &sum);
	if (set == NULL) {
		tdns_err("reload: out of memory; keeping the running zones");
		snprintf(msg, msglen, "out of memory; keeping the running configuration and zones");
		block_job_finish(&job);
		block_sets_clear(&job.sets);
		cfg_free(nc);
		return TDNS_ENOMEM;
	}
	/* The forwarder zones' FWD records are part of the forwarding setup. */
	struct resolver_conf *nrc = NULL;
	rc = resolver_conf_new(nc, set, d->cache, &nrc, err, sizeof(err));
	if (rc != TDNS_OK) {
		tdns_err("reload: %s; keeping the running configuration and zones", err);
		snprintf(msg, msglen, "%s; keeping the running configuration and zones", err);
		zone_set_free(set);
		block_job_finish(&job);
		block_sets_clear(&job.sets);
		cfg_free(nc);
		return rc;
	}
	struct zone_xfr_conf *nxfr = NULL;
	rc = zone_xfr_conf_new(nc, &nxfr, err, sizeof(err));
	if (rc != TDNS_OK) {
		tdns_err("reload: %s; keeping the running configuration and zones", err);
		snprintf(msg, msglen, "%s; keeping the running configuration and zones", err);
		resolver_conf_unref(nrc);
		zone_set_free(set);
		cfg_free(nc);
		return rc;
	}
	zone_xfr_conf_set_secondaries(nxfr, d->secs);
	nrc->stubs = d->stubs;
	nrc->ntas = d->ntas;
	query_publish_resolver(d->srv, nrc);
	resolver_conf_unref(d->rconf);
	d->rconf = nrc;
	/* Running transfers keep copies of their keys: the old settings go at once. */
	query_publish_xfr(d->srv, nxfr);
	zone_xfr_conf_free(d->xfr);
	d->xfr = nxfr;
	if (d->stubs != NULL) {
		resolver_stubs_configure(d->stubs, nc, d->base);
	}
	if (zone_notifier_configure(d->notifier, nc, nxfr, err, sizeof(err)) != TDNS_OK) {
		tdns_err("reload: %s; keeping the previous NOTIFY targets", err);
	}
	/* Issue 17: the changes of reloaded zones are journaled for IXFR before they are served. */
	zone_journal_update(nc, d->zones, set);
	/* Queries are answered from the old set until every worker has switched. */
	query_publish_zones(d->srv, set);
	zone_notify_changes(d->notifier, d->zones, set);
	zone_set_free(d->zones);
	d->zones = set;
	/* The new lists are swapped in whole: a query sees the old table or the new one. */
	block_job_finish(&job);
	struct block_table *custom = load_block_custom(nc);
	if (publish_blocking(d, nc, &job.sets, custom, err, sizeof(err)) != TDNS_OK) {
		tdns_err("reload: blocking: %s; keeping the previous block lists", err);
	}
	block_sets_clear(&job.sets);
	block_table_unref(custom);
	if (d->dl != NULL && blocklists_configure(d->dl, nc, err, sizeof(err)) != TDNS_OK) {
		tdns_err("reload: %s", err);
	}
	cfg_free(d->cfg);
	d->cfg = nc;
	ctl_server_set_timeout(d->ctl, nc->control_timeout);
	if (ctl_server_set_group(d->ctl, control_gid(nc->control_group), err, sizeof(err)) !=
	    TDNS_OK) {
		tdns_err("reload: %s; the control socket keeps its group", err);
	}
	struct stats_counters st;
	net_server_stats(d->srv, &st);
	snprintf(msg, msglen, "reload done in %.1f ms: %zu zones served (%u loaded, %u kept "
		 "after errors, %u failed, %u added, %u removed), %zu records", now_ms() - t0,
		 zone_set_count(set), sum.loaded, sum.kept, sum.failed, added, removed,
		 sum.records);
	tdns_info("%s; %llu queries so far", msg, (unsigned long long)st.queries);
	return TDNS_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Control socket (tdns-cli)                                                                    */

static const struct cfg *
env_cfg(void *daemon)
{
	return ((struct daemon *)daemon)->cfg;
}

static const char *
env_cfg_path(void *daemon)
{
	return ((struct daemon *)daemon)->cfg_path;
}

static const struct zone_set *
env_zones(void *daemon)
{
	return ((struct daemon *)daemon)->zones;
}

static void
env_publish(void *daemon, struct zone_set *set)
{
	struct daemon *d = daemon;
	/* RFC 1995: the change is in the journal (on disk) before it is served or acknowledged. */
	zone_journal_update(d->cfg, d->zones, set);
	/* Blocks until every worker has switched, so the old set is unreferenced after it. */
	query_publish_zones(d->srv, set);
	/* A record edit or a zone reload through ctl: a new serial is told to the secondaries. */
	zone_notify_changes(d->notifier, d->zones, set);
	zone_set_free(d->zones);
	d->zones = set;
	if (!resolver_conf_fwd_changed(d->rconf, set)) {
		return;
	}
	/* A forwarder zone or its FWD records changed: rebuild the forwarding setup. */
	struct resolver_conf *nrc = NULL;
	char err[512];
	if (resolver_conf_new(d->cfg, set, d->cache, &nrc, err, sizeof(err)) != TDNS_OK) {
		tdns_err("forwarder zones: %s; keeping the previous forwarders", err);
		return;
	}
	nrc->stubs = d->stubs;
	nrc->ntas = d->ntas;
	query_publish_resolver(d->srv, nrc);
	resolver_conf_unref(d->rconf);
	d->rconf = nrc;
	tdns_info("forwarder zones changed: %zu forwarded domains", nrc->nzones);
}

static struct zone_notifier *
env_notifier(void *daemon)
{
	return ((struct daemon *)daemon)->notifier;
}

/*
 * A secondary zone got a new version, or expired (issue 17): the set is published again with
 * that zone's version from the secondaries and every other zone shared.
 */
static void
sec_publish(void *daemon, const uint8_t *apex)
{
	struct daemon *d = daemon;
	const struct zone_catalog_entry *e = zone_catalog_find(d->catalog, apex);
	struct zone *z = e != NULL && e->disabled ? NULL : zone_sec_zone(d->secs, apex);
	struct zone_set *set = zone_set_new();
	if (set == NULL) {
		tdns_err("secondary zone: out of memory; the new version is not served");
		zone_free(z);
		return;
	}
	for (size_t i = 0; i < zone_set_count(d->zones); i++) {
		struct zone *o = (struct zone *)zone_set_get(d->zones, i);
		if (!dns_name_eq(o->apex, apex) && zone_set_add(set, zone_ref(o)) != TDNS_OK) {
			zone_free(o);
		}
	}
	if (z != NULL && zone_set_add(set, z) != TDNS_OK) {
		zone_free(z);
	}
	env_publish(d, set);
}

static struct zone_secondaries *
env_secondaries(void *daemon)
{
	return ((struct daemon *)daemon)->secs;
}

/* `zone create|delete` of a run-time secondary zone changed the catalog. */
static void
env_secondaries_changed(void *daemon, const uint8_t *apex)
{
	struct daemon *d = daemon;
	zone_sec_configure(d->secs, d->cfg, d->catalog);
	sec_publish(d, apex);
}

static struct zone_catalog *
env_catalog(void *daemon)
{
	return ((struct daemon *)daemon)->catalog;
}

static int
env_reload(void *daemon, char *err, size_t errlen)
{
	return reload(daemon, err, errlen);
}

static void
env_stop(void *daemon)
{
	struct daemon *d = daemon;
	tdns_info("stop requested over the control socket, shutting down");
	/* The loop ends after this callback; ctl_server_free then flushes the reply. */
	event_base_loopexit(d->base, NULL);
}

static json_t *
env_status(void *daemon)
{
	struct daemon *d = daemon;
	json_t *listeners = json_array();
	for (size_t i = 0; i < d->boot.nlisten; i++) {
		json_array_append_new(listeners, json_string(d->boot.listen[i].text));
	}
	struct stats_counters st;
	net_server_stats(d->srv, &st);
	return json_pack("{s:s, s:I, s:I, s:s?, s:I, s:o, s:I, s:I, s:f, s:s?}",
			 "version", PACKAGE_VERSION,
			 "pid", (json_int_t)getpid(),
			 "uptime_seconds", (json_int_t)((now_ms() - d->started_ms) / 1000.0),
			 "config", d->cfg_path,
			 "workers", (json_int_t)d->boot.workers,
			 "listeners", listeners,
			 "zones", (json_int_t)zone_set_count(d->zones),
			 "queries", (json_int_t)st.queries,
			 "queries_per_second",
			 d->stats != NULL ? stats_recorder_qps(d->stats) : 0.0,
			 "state_dir", d->cfg->state_dir);
}

/* The resident set size of the process from /proc/self/statm, 0 when unknown. */
static uint64_t
process_rss(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long long size = 0, resident = 0;
	if (f == NULL) {
		return 0;
	}
	int n = fscanf(f, "%llu %llu", &size, &resident);
	fclose(f);
	long page = sysconf(_SC_PAGESIZE);
	return n == 2 && page > 0 ? (uint64_t)resident * (uint64_t)page : 0;
}

/*
 * The stats reply, with "memory": the bytes the cache counts against [cache] max-size (its
 * entries as the allocator holds them, its index and structures) beside the process's RSS,
 * so that an operator sees both as the process sees them (issue 15).
 */
static json_t *
env_stats(void *daemon)
{
	struct daemon *d = daemon;
	json_t *data = d->stats != NULL ? stats_recorder_json(d->stats) : NULL;
	if (data == NULL || !json_is_object(data)) {
		return data;
	}
	json_t *mem = json_pack("{s:I}", "rss_bytes", (json_int_t)process_rss());
	if (d->cache != NULL) {
		struct cache_stats st;
		cache_stats(d->cache, &st);
		json_object_set_new(mem, "cache_bytes", json_integer((json_int_t)st.bytes));
		json_object_set_new(mem, "cache_index_bytes",
				    json_integer((json_int_t)st.index_bytes));
		json_object_set_new(mem, "cache_max_bytes", json_integer((json_int_t)st.max_bytes));
		json_object_set_new(mem, "cache_entries", json_integer((json_int_t)st.entries));
	}
	json_object_set_new(data, "memory", mem);
	return data;
}

/* The socket path of c ([control] socket, else the default). */
static const char *
control_path(const struct cfg *c)
{
	return c->control_socket != NULL && c->control_socket[0] != '\0' ? c->control_socket
									    : CTL_DEFAULT_SOCKET;
}

/*
 * Before dropping privileges: the socket's directory (/run/tdns) is created for the service
 * user, who could not create it under /run afterwards.
 */
static void
prepare_control_dir(const struct cfg *c)
{
	if (geteuid() != 0 || c->user == NULL || c->user[0] == '\0') {
		return;
	}
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", control_path(c));
	char *slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir) {
		return;
	}
	*slash = '\0';
	bool created;
	struct passwd *pw = getpwnam(c->user);
	if (mkdir_p(dir, 0750, &created) == 0 && created && pw != NULL &&
	    chown(dir, pw->pw_uid, pw->pw_gid) != 0) {
		tdns_warn("cannot give %s to %s: %s", dir, c->user, strerror(errno));
	}
}

static const struct query_blocking *
env_blocking(void *daemon)
{
	return ((struct daemon *)daemon)->blocking;
}

static int
env_blocking_custom_changed(void *daemon, char *err, size_t errlen)
{
	struct daemon *d = daemon;
	struct block_table *custom = load_block_custom(d->cfg);
	if (custom == NULL) {
		snprintf(err, errlen, "out of memory");
		return TDNS_ENOMEM;
	}
	/* The configured lists are shared with the running blocking, not read again. */
	struct block_sets sets;
	block_sets_running(d, &sets);
	int rc = publish_blocking(d, d->cfg, &sets, custom, err, errlen);
	block_sets_clear(&sets);
	block_table_unref(custom);
	return rc;
}

/*
 * New copies of URL lists were saved: every list is read again on a thread of its own (a
 * million names take about half a second, which the control socket need not wait for), then
 * refresh_done swaps the tables in.
 */
static void
blocklists_changed(void *arg)
{
	struct daemon *d = arg;
	if (d->refresh != NULL) {
		d->refresh_again = true;
		return;
	}
	if (d->refresh_ev == NULL) {
		tdns_err("blocking: no event to rebuild the block lists; keeping them");
		return;
	}
	d->refresh = tdns_xcalloc(1, sizeof(*d->refresh));
	block_job_start(d->refresh, d->cfg, d->refresh_ev);
}

static void
refresh_done(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct daemon *d = arg;
	struct block_job *j = d->refresh;
	if (j == NULL) {
		/* A reload took its place (block_sets_refresh_cancel). */
		return;
	}
	block_job_finish(j);
	d->refresh = NULL;
	char err[512];
	struct block_table *custom = d->blocking != NULL ? query_blocking_table(d->blocking, true)
							 : NULL;
	if (publish_blocking(d, d->cfg, &j->sets, custom, err, sizeof(err)) != TDNS_OK) {
		tdns_err("blocking: %s; keeping the previous block lists", err);
	}
	block_sets_clear(&j->sets);
	free(j);
	if (d->refresh_again) {
		d->refresh_again = false;
		blocklists_changed(d);
	}
}

static bool
env_blocking_source(void *daemon, const char *url, int64_t *updated, int64_t *next, char *err,
		    size_t errlen)
{
	return blocklists_status(((struct daemon *)daemon)->dl, url, updated, next, err, errlen);
}

static long
env_blocking_update(void *daemon)
{
	struct daemon *d = daemon;
	return d->dl != NULL ? (long)blocklists_update_now(d->dl) : 0;
}

/* Publishes the running tables again (after a pause began or ended). */
static void
republish_blocking(struct daemon *d)
{
	char err[512];
	struct block_sets sets;
	block_sets_running(d, &sets);
	struct block_table *custom = d->blocking != NULL ? query_blocking_table(d->blocking, true)
							 : NULL;
	if (publish_blocking(d, d->cfg, &sets, custom, err, sizeof(err)) != TDNS_OK) {
		tdns_err("blocking: %s", err);
	}
	block_sets_clear(&sets);
}

static void
pause_end_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct daemon *d = arg;
	d->pause_end_ms = 0;
	republish_blocking(d);
	tdns_notice("blocking resumed: the pause is over");
}

static long
env_blocking_pause(void *daemon, long seconds, char *err, size_t errlen)
{
	struct daemon *d = daemon;
	if (seconds > 0) {
		if (d->pause_ev == NULL && (d->pause_ev = evtimer_new(d->base, pause_end_cb, d)) ==
		    NULL) {
			snprintf(err, errlen, "out of memory");
			return TDNS_ENOMEM;
		}
		struct timeval tv = { .tv_sec = seconds };
		if (evtimer_add(d->pause_ev, &tv) != 0) {
			snprintf(err, errlen, "cannot set the timer that ends the pause");
			return TDNS_ENOMEM;
		}
		bool was = d->pause_end_ms != 0;
		d->pause_end_ms = tdns_mono_ms() + seconds * 1000LL;
		if (!was) {
			republish_blocking(d);
		}
		tdns_notice("blocking paused for %ld s", seconds);
	} else if (seconds == 0 && d->pause_end_ms != 0) {
		evtimer_del(d->pause_ev);
		d->pause_end_ms = 0;
		republish_blocking(d);
		tdns_notice("blocking resumed");
	}
	if (d->pause_end_ms == 0) {
		return 0;
	}
	long long left = (d->pause_end_ms - tdns_mono_ms() + 999) / 1000;
	return left > 0 ? (long)left : 1;
}

static struct cache *
env_cache(void *daemon)
{
	return ((struct daemon *)daemon)->cache;
}

static struct resolver_conf *
env_resolver(void *daemon)
{
	return ((struct daemon *)daemon)->rconf;
}

/*
 * Opens the control socket.  Like BIND's command channel, a socket that cannot be opened is
 * logged and the daemon serves DNS without it.
 */
static void
ctl_start(struct daemon *d)
{
	d->env = (struct ctl_env){
		.daemon = d,
		.cfg = env_cfg,
		.cfg_path = env_cfg_path,
		.zones = env_zones,
		.publish = env_publish,
		.notifier = env_notifier,
		.secondaries = env_secondaries,
		.secondaries_changed = env_secondaries_changed,
		.catalog = env_catalog,
		.reload = env_reload,
		.stop = env_stop,
		.status = env_status,
		.handlers = ctl_handlers,
		.stream_handlers = ctl_stream_handler_table(),
		.stats = env_stats,
		.cache = env_cache,
		.resolver = env_resolver,
		.blocking = env_blocking,
		.blocking_custom_changed = env_blocking_custom_changed,
		.blocking_pause = env_blocking_pause,
		.ntas = d->ntas,
		.anchors = d->anchors,
		.rfc5011 = d->rfc5011,
		.blocking_source = env_blocking_source,
		.blocking_update = env_blocking_update,
	};
	gid_t group = control_gid(d->cfg->control_group);
	char err[512];
	const char *path = control_path(d->cfg);
	if (ctl_server_new(d->base, path, group, &d->env, &d->ctl, err, sizeof(err)) != TDNS_OK) {
		tdns_err("%s; running without the control socket", err);
		return;
	}
	ctl_server_set_timeout(d->ctl, d->cfg->control_timeout);
	tdns_info("control socket %s", path);
}

/*
 * Issue 16: the negative trust anchors (with those added over the control socket that have
 * not expired yet), the configured trust anchors and their RFC 5011 state.  A damaged state
 * file is logged and left alone: starting without it is safe (no NTA, the configured
 * anchors).
 */
static int
dnssec_start(struct daemon *d)
{
	const char *dir = d->cfg->state_dir;
	char path[4096], err[1024];
	d->ntas = dnssec_ntas_new();
	d->anchors = dnssec_anchors_new();
	if (d->ntas == NULL || d->anchors == NULL ||
	    dnssec_anchors_add_root(d->anchors) != TDNS_OK) {
		startup_error(d, "out of memory");
		return TDNS_ENOMEM;
	}
	if (dir == NULL || dir[0] == '\0') {
		return dnssec_rfc5011_new(NULL, &d->rfc5011, err, sizeof(err));
	}
	snprintf(path, sizeof(path), "%s/%s", dir, DNSSEC_NTA_FILE);
	if (dnssec_ntas_load(d->ntas, path, (int64_t)time(NULL), err, sizeof(err)) != TDNS_OK) {
		tdns_err("negative trust anchors: %s; starting without those", err);
	}
	snprintf(path, sizeof(path), "%s/%s", dir, DNSSEC_5011_FILE);
	if (dnssec_rfc5011_new(path, &d->rfc5011, err, sizeof(err)) != TDNS_OK) {
		tdns_err("RFC 5011 state: %s; starting from the configured anchors", err);
		return dnssec_rfc5011_new(NULL, &d->rfc5011, err, sizeof(err));
	}
	return TDNS_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Main                                                                                         */

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	(void)what;
	if (sig == SIGHUP) {
		char msg[1024];
		(void)reload(d, msg, sizeof(msg)); /* logged by reload */
		return;
	}
	tdns_info("received %s, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	event_base_loopexit(d->base, NULL);
}

static void
log_stats(struct net_server *srv)
{
	struct stats_counters st;
	net_server_stats(srv, &st);
	char line[512];
	int n = snprintf(line, sizeof(line), "%llu queries (%llu UDP, %llu TCP, %llu DoT, %llu DoH, "
			 "%llu dropped, %llu truncated)", (unsigned long long)st.queries,
			 (unsigned long long)st.udp, (unsigned long long)st.tcp,
			 (unsigned long long)st.dot, (unsigned long long)st.doh,
			 (unsigned long long)st.dropped, (unsigned long long)st.truncated);
	for (int rc = 0; rc < STATS_RCODES && n > 0 && (size_t)n < sizeof(line); rc++) {
		if (st.rcode[rc] == 0) {
			continue;
		}
		char name[16];
		const char *txt = rc == STATS_RCODES - 1 ? "other"
							      : dns_rcode_to_text(rc, name);
		n += snprintf(line + n, sizeof(line) - (size_t)n, " %s=%llu", txt,
			      (unsigned long long)st.rcode[rc]);
	}
	tdns_info("%s; TCP connections: %llu accepted (%llu TLS, %llu failed handshakes), %llu "
		  "refused, %llu evicted; %llu HTTP errors", line,
		  (unsigned long long)st.tcp_accepted, (unsigned long long)st.tls_accepted,
		  (unsigned long long)st.tls_failed, (unsigned long long)st.tcp_refused,
		  (unsigned long long)st.tcp_evicted, (unsigned long long)st.http_errors);
}

static int
run(struct daemon *d)
{
	struct event *sigs[3] = { NULL, NULL, NULL };
	const int signos[3] = { SIGTERM, SIGINT, SIGHUP };
	int status = 1;
	double t0 = now_ms();

	signal(SIGPIPE, SIG_IGN);
	d->started_ms = t0;
	if (make_state_dir(d, d->cfg) != TDNS_OK) {
		return 1;
	}
	if (d->cfg->state_dir != NULL && d->cfg->state_dir[0] != '\0') {
		char cerr[1024];
		if (zone_catalog_load(d->cfg->state_dir, &d->catalog, cerr, sizeof(cerr)) !=
		    TDNS_OK) {
			/* Starting without it would lose the run-time zones at the next change. */
			startup_error(d, "zone catalog: %s", cerr);
			return 1;
		}
	}
	if (dnssec_start(d) != TDNS_OK) {
		return 1;
	}
	struct load_sum sum;
	d->zones = load_zones(d->cfg, d->catalog, NULL, NULL, &sum);
	if (d->zones == NULL) {
		startup_error(d, "out of memory");
		return 1;
	}
	/* Before any event base exists: workers are switched from the main thread. */
	if (evthread_use_pthreads() != 0) {
		startup_error(d, "libevent has no pthreads support");
		return 1;
	}
	unsigned nworkers = worker_count(d->cfg);
	char err[512];
	if (query_server_new(d->cfg, nworkers, &d->srv, err, sizeof(err)) != TDNS_OK) {
		startup_error(d, "%s", err);
		return 1;
	}
	/* The cache and the forwarders (issue 4); server names are resolved now. */
	const struct cfg *c = d->cfg;
	d->cache = cache_new((size_t)c->cache_max_size, 0, c->cache_min_ttl, c->cache_max_ttl,
			     c->cache_neg_max_ttl, c->cache_serve_stale);
	if (d->cache == NULL) {
		startup_error(d, "cannot create the cache of %llu bytes",
			      (unsigned long long)c->cache_max_size);
		return 1;
	}
	cache_set_prefetch_hits(d->cache, c->cache_prefetch ? CACHE_DEFAULT_PREFETCH_HITS : 0);
	if (resolver_conf_new(c, d->zones, d->cache, &d->rconf, err, sizeof(err)) != TDNS_OK) {
		startup_error(d, "%s", err);
		return 1;
	}
	/* Stub zones (issue 5): fetched once the main event base runs. */
	d->stubs = resolver_stubs_new();
	if (d->stubs == NULL) {
		startup_error(d, "out of memory");
		return 1;
	}
	d->rconf->stubs = d->stubs;
	d->rconf->ntas = d->ntas;
	query_publish_resolver(d->srv, d->rconf);
	if (zone_xfr_conf_new(c, &d->xfr, err, sizeof(err)) != TDNS_OK) {
		startup_error(d, "%s", err);
		return 1;
	}
	query_publish_xfr(d->srv, d->xfr);
	prepare_control_dir(d->cfg);
	if (drop_privileges(d, d->cfg->user) != TDNS_OK) {
		return 1;
	}
	boot_save(&d->boot, d->cfg, nworkers);
	d->base = event_base_new();
	if (d->base == NULL) {
		startup_error(d, "cannot create the main event base");
		return 1;
	}
	/* Secondary zones (issue 17): their copies on disk are served at once, then refreshed. */
	d->secs = zone_sec_new(d->base, sec_publish, d);
	if (d->secs == NULL) {
		startup_error(d, "out of memory");
		return 1;
	}
	zone_sec_configure(d->secs, d->cfg, d->catalog);
	zone_xfr_conf_set_secondaries(d->xfr, d->secs);
	/* Into the set the workers get first: nothing is published yet. */
	struct load_sum ssum = { 0 };
	for (size_t i = 0; i < d->cfg->nzones; i++) {
		const struct zone_catalog_entry *e = zone_catalog_find(d->catalog,
								       d->cfg->zones[i].apex);
		if (strcmp(d->cfg->zones[i].type, "secondary") == 0 && (e == NULL || !e->disabled)) {
			add_secondary(d->zones, d->secs, d->cfg->zones[i].apex, &ssum);
		}
	}
	for (size_t i = 0; i < zone_catalog_count(d->catalog); i++) {
		const struct zone_catalog_entry *e = zone_catalog_get(d->catalog, i);
		if (e->runtime && !e->disabled && e->type != NULL &&
		    strcmp(e->type, "secondary") == 0 && !cfg_has_zone(d->cfg, e->apex)) {
			add_secondary(d->zones, d->secs, e->apex, &ssum);
		}
	}
	for (int i = 0; i < 3; i++) {
		sigs[i] = evsignal_new(d->base, signos[i], signal_cb, d);
		if (sigs[i] == NULL || event_add(sigs[i], NULL) != 0) {
			startup_error(d, "cannot watch signal %d", signos[i]);
			goto out;
		}
	}
	zone_journal_update(d->cfg, NULL, d->zones);
	query_publish_zones(d->srv, d->zones);
	struct block_sets bsets;
	block_sets_load(&bsets, c);
	struct block_table *bcustom = load_block_custom(c);
	int brc = publish_blocking(d, c, &bsets, bcustom, err, sizeof(err));
	block_sets_clear(&bsets);
	block_table_unref(bcustom);
	if (brc != TDNS_OK) {
		startup_error(d, "blocking: %s", err);
		goto out;
	}
	if (net_server_start(d->srv) != TDNS_OK) {
		startup_error(d, "cannot start the worker threads");
		goto out;
	}
	resolver_stubs_configure(d->stubs, d->cfg, d->base);
	/* RFC 1996: the secondaries hear of every primary zone's serial at start. */
	d->notifier = zone_notifier_new(d->base);
	if (zone_notifier_configure(d->notifier, d->cfg, d->xfr, err, sizeof(err)) != TDNS_OK) {
		startup_error(d, "%s", err);
		goto out;
	}
	zone_notify_changes(d->notifier, NULL, d->zones);
	struct stats_source src;
	net_server_stats_source(d->srv, &src);
	d->stats = stats_recorder_new(d->base, &src);
	if (d->stats == NULL) {
		startup_error(d, "out of memory");
		goto out;
	}
	ctl_start(d);
	/* The copies of the URL lists are in the tables already; downloads refresh them. */
	d->refresh_ev = event_new(d->base, -1, 0, refresh_done, d);
	d->dl = blocklists_new(d->base, blocklists_changed, d);
	if (d->dl == NULL || d->refresh_ev == NULL) {
		startup_error(d, "out of memory");
		goto out;
	}
	if (blocklists_configure(d->dl, c, err, sizeof(err)) != TDNS_OK) {
		tdns_err("blocking: %s", err);
	}
	char addrs[1024] = "";
	size_t off = 0;
	const struct { const struct cfg_listen *l; size_t n; const char *what; } lists[] = {
		{ d->cfg->listen, d->cfg->nlisten, "UDP and TCP" },
		{ d->cfg->dot_listen, d->cfg->ndot_listen, "DoT" },
		{ d->cfg->doh_listen, d->cfg->ndoh_listen, "DoH" },
		{ d->cfg->http_listen, d->cfg->nhttp_listen, "DNS over HTTP" },
	};
	for (size_t k = 0; k < sizeof(lists) / sizeof(lists[0]); k++) {
		for (size_t i = 0; i < lists[k].n && off < sizeof(addrs); i++) {
			bool last = i + 1 == lists[k].n;
			int n = snprintf(addrs + off, sizeof(addrs) - off, "%s%s%s%s%s",
					 off > 0 && i == 0 ? "; " : i > 0 ? ", " : "",
					 lists[k].l[i].text, last ? " (" : "",
					 last ? lists[k].what : "", last ? ")" : "");
			off += n > 0 ? (size_t)n : 0;
		}
	}
	tdns_info("tdnsd %s started: %u worker%s, listening on %s, %zu zone%s (%zu records, %u "
		  "failed) loaded in %.1f ms", PACKAGE_VERSION, nworkers, nworkers == 1 ? "" : "s",
		  off > 0 ? addrs : "nothing", zone_set_count(d->zones),
		  zone_set_count(d->zones) == 1 ? "" : "s", sum.records, sum.failed, now_ms() - t0);
	detach(d);
	event_base_dispatch(d->base);
	/* First, so that a client waiting for the reply to `server stop` gets it at once. */
	ctl_server_free(d->ctl);
	d->ctl = NULL;
	net_server_stop(d->srv);
	log_stats(d->srv);
	status = 0;
out:
	ctl_server_free(d->ctl);
	d->ctl = NULL;
	stats_recorder_free(d->stats);
	d->stats = NULL;
	for (int i = 0; i < 3; i++) {
		if (sigs[i] != NULL) {
			event_free(sigs[i]);
		}
	}
	return status;
}

int
main(int argc, char **argv)
{
	cfg_use_schema(&cfg_schema);
	struct daemon d = { .ready_fd = -1 };
	const char *path = NULL;
	bool check = false;
	int opt;
	while ((opt = getopt(argc, argv, "c:fthV")) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'f':
			d.foreground = true;
			break;
		case 't':
			check = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("tdnsd %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tdnsd: unexpected argument %s\n", argv[optind]);
		usage(stderr);
		return 1;
	}
	if (path == NULL && access(CFG_DEFAULT_PATH, F_OK) == 0) {
		path = CFG_DEFAULT_PATH;
	}
	char err[1024];
	if (cfg_load(path, &d.cfg, err, sizeof(err)) != TDNS_OK) {
		fprintf(stderr, "tdnsd: %s\n", err);
		return 1;
	}
	if (check) {
		int rc = check_zones(d.cfg);
		if (rc == 0) {
			rc = check_safe_search(d.cfg);
		}
		if (rc == 0) {
			printf("configuration OK\n");
		}
		cfg_free(d.cfg);
		return rc;
	}
	if (path != NULL) {
		/* Reloads must find the file after the daemon changed directory. */
		char abs[PATH_MAX];
		d.cfg_path = tdns_xstrdup(realpath(path, abs) != NULL ? abs : path);
	}
	tdns_log_init(d.foreground, (enum tdns_log_level)d.cfg->log_level);
	/* Keep the start-up lines (zone loads) for `log show --server` too. */
	(void)stats_slog_capture();
	int status = 1;
	if (!d.foreground) {
		if (daemonise(&d) != TDNS_OK) {
			goto out;
		}
		if (d.cfg->state_dir != NULL && d.cfg->state_dir[0] == '/' && chdir("/") != 0) {
			tdns_warn("chdir /: %s", strerror(errno));
		}
	}
	status = run(&d);
	if (status == 0) {
		tdns_info("tdnsd %s stopped", PACKAGE_VERSION);
	}
out:
	net_server_free(d.srv);
	query_blocking_free(d.blocking);
	resolver_conf_unref(d.rconf);
	zone_xfr_conf_free(d.xfr);
	cache_free(d.cache);
	zone_set_free(d.zones);
	zone_catalog_free(d.catalog);
	dnssec_ntas_free(d.ntas);
	dnssec_anchors_free(d.anchors);
	dnssec_rfc5011_free(d.rfc5011);
	/* After the workers (net_server_free), before the base its events live on. */
	resolver_stubs_free(d.stubs);
	zone_notifier_free(d.notifier);
	zone_sec_free(d.secs);
	if (d.pause_ev != NULL) {
		event_free(d.pause_ev);
	}
	blocklists_free(d.dl);
	block_sets_refresh_cancel(&d);
	if (d.refresh_ev != NULL) {
		event_free(d.refresh_ev);
	}
	if (d.base != NULL) {
		event_base_free(d.base);
	}
	boot_free(&d.boot);
	cfg_free(d.cfg);
	free(d.cfg_path);
	libevent_global_shutdown();
	return status;
}
