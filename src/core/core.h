/* SPDX-License-Identifier: MIT */
/* core: status codes, byte buffers with sticky errors, a region allocator and logging. */
#ifndef TDNS_CORE_H
#define TDNS_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * One status enum for the whole library.  TDNS_OK is zero, generic failures are negative
 * errno-like codes, then one block per subsystem.  Every value has a message and a stable
 * string id in the table of status.c (see tdns_status_msg / tdns_status_id).
 */
enum tdns_status {
	TDNS_OK = 0,
	TDNS_ENOENT = -2,
	TDNS_EIO = -5,
	TDNS_EAGAIN = -11,
	TDNS_ENOMEM = -12,
	TDNS_EACCES = -13,
	TDNS_EEXIST = -17,
	TDNS_EINVAL = -22,
	TDNS_ERANGE = -34,

	/* DNS wire and text forms */
	TDNS_EMALFORMED = -1000, /* wire data does not follow the format */
	TDNS_ETRUNC = -1001,     /* wire data ends before the item does */
	TDNS_ELOOP = -1002,      /* compression pointer loops or points forward */
	TDNS_ENAMELONG = -1003,  /* name longer than 255 octets */
	TDNS_ELABELLONG = -1004, /* label longer than 63 octets */
	TDNS_ESPACE = -1005,     /* output buffer too small */
	TDNS_EBADTEXT = -1006,   /* text form cannot be parsed */
	TDNS_EUNKTYPE = -1007,   /* unknown RR type mnemonic */
	TDNS_EBADRDATA = -1008,  /* rdata invalid for its type */
	TDNS_ERELATIVE = -1009,  /* relative name and no origin */

	/* zones */
	TDNS_ENOZONE = -1100,    /* no such zone */
	TDNS_EZONEEXISTS = -1101,
	TDNS_ENOSOA = -1102,     /* zone has no SOA at its apex */
	TDNS_ENOAPEXNS = -1103,  /* zone has no NS at its apex */
	TDNS_ECNAME = -1104,     /* CNAME beside other data */
	TDNS_EOUTOFZONE = -1105, /* record outside the zone */
	TDNS_ENOGLUE = -1106,    /* in-zone NS target below a cut without address */
	TDNS_EZONEFILE = -1107,  /* zone file syntax error */
	TDNS_EMULTISOA = -1108,  /* more than one SOA */

	/* configuration */
	TDNS_ECONFIG = -1200,    /* configuration file error */
};

/* Human message for a status ("name longer than 255 octets"); never NULL. */
const char *tdns_status_msg(int status);

/* Stable identifier for a status ("ENAMELONG"), used in control replies; never NULL. */
const char *tdns_status_id(int status);

/*
 * Write buffer with a sticky error: appends past the capacity set err and are ignored, so a
 * sequence of puts is checked once at the end.  The memory is borrowed from the caller.
 */
struct tdns_buf {
	uint8_t *p;
	size_t len;
	size_t cap;
	bool err;
};

static inline void
tdns_buf_init(struct tdns_buf *b, uint8_t *mem, size_t cap)
{
	b->p = mem;
	b->len = 0;
	b->cap = cap;
	b->err = false;
}

static inline void
tdns_buf_u8(struct tdns_buf *b, uint8_t v)
{
	if (b->err || b->len + 1 > b->cap) {
		b->err = true;
		return;
	}
	b->p[b->len++] = v;
}

static inline void
tdns_buf_u16(struct tdns_buf *b, uint16_t v)
{
	if (b->err || b->len + 2 > b->cap) {
		b->err = true;
		return;
	}
	b->p[b->len++] = (uint8_t)(v >> 8);
	b->p[b->len++] = (uint8_t)v;
}

static inline void
tdns_buf_u32(struct tdns_buf *b, uint32_t v)
{
	tdns_buf_u16(b, (uint16_t)(v >> 16));
	tdns_buf_u16(b, (uint16_t)v);
}

/* Appends n bytes; mem may be NULL only when n is 0. */
void tdns_buf_bytes(struct tdns_buf *b, const void *mem, size_t n);

/*
 * Read cursor with a sticky error: reads past the end set err and return zero, so a parser
 * reads a whole structure and checks err once.
 */
struct tdns_rd {
	const uint8_t *p;
	size_t len;
	size_t pos;
	bool err;
};

static inline void
tdns_rd_init(struct tdns_rd *r, const uint8_t *mem, size_t len)
{
	r->p = mem;
	r->len = len;
	r->pos = 0;
	r->err = false;
}

static inline uint8_t
tdns_rd_u8(struct tdns_rd *r)
{
	if (r->err || r->pos + 1 > r->len) {
		r->err = true;
		return 0;
	}
	return r->p[r->pos++];
}

static inline uint16_t
tdns_rd_u16(struct tdns_rd *r)
{
	if (r->err || r->pos + 2 > r->len) {
		r->err = true;
		return 0;
	}
	uint16_t v = (uint16_t)((r->p[r->pos] << 8) | r->p[r->pos + 1]);
	r->pos += 2;
	return v;
}

static inline uint32_t
tdns_rd_u32(struct tdns_rd *r)
{
	uint32_t hi = tdns_rd_u16(r);
	return (hi << 16) | tdns_rd_u16(r);
}

/* Returns a pointer to the next n bytes and skips them, or NULL (and err) if fewer remain. */
const uint8_t *tdns_rd_bytes(struct tdns_rd *r, size_t n);

static inline size_t
tdns_rd_left(const struct tdns_rd *r)
{
	return r->err ? 0 : r->len - r->pos;
}

static inline uint16_t
tdns_get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t
tdns_get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline void
tdns_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
tdns_put32(uint8_t *p, uint32_t v)
{
	tdns_put16(p, (uint16_t)(v >> 16));
	tdns_put16(p + 2, (uint16_t)v);
}

/*
 * Region allocator: many small allocations freed together by tdns_region_reset or
 * tdns_region_free.  Not thread-safe; one region per worker or per job.
 */
struct tdns_region;

/* New region whose chunks are chunk_size bytes (0 = 64 KiB).  NULL on out of memory. */
struct tdns_region *tdns_region_new(size_t chunk_size);

/* size bytes aligned to 16, or NULL on out of memory.  Valid until reset or free. */
void *tdns_region_alloc(struct tdns_region *r, size_t size);

/* Copy of mem in the region, or NULL on out of memory. */
void *tdns_region_dup(struct tdns_region *r, const void *mem, size_t size);

/* Frees all allocations but keeps the first chunk for reuse. */
void tdns_region_reset(struct tdns_region *r);

/* Frees the region and everything in it; accepts NULL. */
void tdns_region_free(struct tdns_region *r);

/* abort-on-OOM helpers for start-up code, the CLI and the TUI; never on the query path. */
void *tdns_xmalloc(size_t n);
void *tdns_xcalloc(size_t n, size_t size);
void *tdns_xrealloc(void *p, size_t n);
char *tdns_xstrdup(const char *s);

/* Writes all n bytes to fd, retrying short writes and EINTR; false on error (errno set). */
bool tdns_write_all(int fd, const void *mem, size_t n);

/*
 * fsyncs the directory that holds path, so that a rename into it survives a crash.
 * TDNS_OK, TDNS_ENOMEM or TDNS_EIO (errno set).
 */
int tdns_fsync_parent(const char *path);

/*
 * Replaces the file at path with data[0..len) durably: written to path + ".tmp" (mode
 * mode), fsynced, renamed over path, then the directory fsynced (DESIGN.md "Persistence").
 * On failure the old file is untouched and the temporary file removed.  TDNS_OK, TDNS_ENOMEM
 * or TDNS_EIO (errno set).
 */
int tdns_file_replace(const char *path, const void *data, size_t len, unsigned mode);

/* CLOCK_MONOTONIC in microseconds: for deadlines and durations, never for wall-clock time. */
int64_t tdns_mono_us(void);

/* CLOCK_MONOTONIC in milliseconds. */
long long tdns_mono_ms(void);

/*
 * The value of c as a digit of base (2..36: 0-9, then letters in either case), or -1 if c is
 * not one.  Base 16 is hex, base 32 base32hex (RFC 4648 §7).
 */
int tdns_digit_value(char c, int base);

/* The value of one hex digit (either case), or -1 if c is not one. */
int tdns_hex_value(char c);

/* Log levels, in syslog order. */
enum tdns_log_level {
	TDNS_LOG_ERR = 3,
	TDNS_LOG_WARNING = 4,
	TDNS_LOG_NOTICE = 5,
	TDNS_LOG_INFO = 6,
	TDNS_LOG_DEBUG = 7,
};

/*
 * Sets where the log goes: to stderr when to_stderr, else to syslog with ident "tdnsd".
 * Messages above level are dropped.  Thread-safe after this call.
 */
void tdns_log_init(bool to_stderr, enum tdns_log_level level);

/* Changes the level at run time (SIGHUP reload). */
void tdns_log_set_level(enum tdns_log_level level);

/* Parses "err", "warning", "notice", "info", "debug"; -1 if unknown. */
int tdns_log_level_parse(const char *s);

/* The name of a level as tdns_log_level_parse reads it ("err" ... "debug"); "info" if unknown. */
const char *tdns_log_level_name(int level);

/*
 * Writes a duration of ms milliseconds for people into buf and returns buf: whole
 * microseconds under a millisecond ("7 µs", so that fast answers do not read 0.00 ms), two
 * decimals below 100 ms ("2.35 ms"), whole milliseconds above ("135 ms").
 */
const char *tdns_ms_text(double ms, char *buf, size_t len);

/* Logs one line (no newline needed). */
void tdns_log(enum tdns_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Also hands every line that passes the level to hook (NULL removes it), from whatever
 * thread logs it, after stderr or syslog.  Added for tdnsd's `log show --server` ring
 * (src/stats); the hook must not log.
 */
void tdns_log_set_hook(void (*hook)(enum tdns_log_level level, const char *msg));

#define tdns_err(...) tdns_log(TDNS_LOG_ERR, __VA_ARGS__)
#define tdns_warn(...) tdns_log(TDNS_LOG_WARNING, __VA_ARGS__)
#define tdns_notice(...) tdns_log(TDNS_LOG_NOTICE, __VA_ARGS__)
#define tdns_info(...) tdns_log(TDNS_LOG_INFO, __VA_ARGS__)
#define tdns_debug(...) tdns_log(TDNS_LOG_DEBUG, __VA_ARGS__)

#endif
