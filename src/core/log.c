/* SPDX-License-Identifier: MIT */
/* Server log: stderr in the foreground, syslog otherwise. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

#include "core/core.h"

static bool log_stderr = true;
static _Atomic int log_level = TDNS_LOG_INFO;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static void (*_Atomic log_hook)(enum tdns_log_level, const char *);

static const char *const level_names[] = {
	[TDNS_LOG_ERR] = "err",
	[TDNS_LOG_WARNING] = "warning",
	[TDNS_LOG_NOTICE] = "notice",
	[TDNS_LOG_INFO] = "info",
	[TDNS_LOG_DEBUG] = "debug",
};

void
tdns_log_init(bool to_stderr, enum tdns_log_level level)
{
	log_stderr = to_stderr;
	atomic_store(&log_level, (int)level);
	if (!to_stderr) {
		openlog("tdnsd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	}
}

void
tdns_log_set_level(enum tdns_log_level level)
{
	atomic_store(&log_level, (int)level);
}

const char *
tdns_log_level_name(int level)
{
	if (level < TDNS_LOG_ERR || level > TDNS_LOG_DEBUG) {
		return "info";
	}
	return level_names[level];
}

int
tdns_log_level_parse(const char *s)
{
	for (int i = TDNS_LOG_ERR; i <= TDNS_LOG_DEBUG; i++) {
		if (strcasecmp(s, level_names[i]) == 0) {
			return i;
		}
	}
	if (strcasecmp(s, "error") == 0) {
		return TDNS_LOG_ERR;
	}
	if (strcasecmp(s, "warn") == 0) {
		return TDNS_LOG_WARNING;
	}
	return -1;
}

void
tdns_log_set_hook(void (*hook)(enum tdns_log_level level, const char *msg))
{
	atomic_store(&log_hook, hook);
}

void
tdns_log(enum tdns_log_level level, const char *fmt, ...)
{
	if ((int)level > atomic_load(&log_level)) {
		return;
	}
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	void (*hook)(enum tdns_log_level, const char *) = atomic_load(&log_hook);
	if (!log_stderr) {
		syslog((int)level, "%s", msg);
		if (hook != NULL) {
			hook(level, msg);
		}
		return;
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char when[32];
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	/* One locked write per line so lines from workers never interleave. */
	pthread_mutex_lock(&log_lock);
	fprintf(stderr, "%s.%03ldZ tdnsd[%s]: %s\n", when, ts.tv_nsec / 1000000,
		level_names[level], msg);
	pthread_mutex_unlock(&log_lock);
	if (hook != NULL) {
		hook(level, msg);
	}
}

const char *
tdns_ms_text(double ms, char *buf, size_t len)
{
	if (ms < 0.9995) {
		snprintf(buf, len, "%.0f µs", ms < 0 ? 0.0 : ms * 1000.0);
	} else if (ms < 99.995) {
		snprintf(buf, len, "%.2f ms", ms);
	} else {
		snprintf(buf, len, "%.0f ms", ms);
	}
	return buf;
}
