/** @file
 * log: one line per event, to stderr in the foreground or to syslog once
 * daemonized:
 *
 *     partnerfs: warn: GET https://.../offers -> 503 (40 ms) (http.c:212)
 *
 * Lines are formatted into a local buffer and written with one call under a
 * mutex, so concurrent FUSE workers never interleave half lines. The last
 * error or warning line is kept for .partnerfs/last-error.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

#include "partnerfs/log.h"

#define LOG_LINE_MAX 2048

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static enum log_level log_threshold = LOG_LVL_INFO;
static bool log_syslog;
static char log_last[LOG_LINE_MAX + 256]; /* stamp + msg + where */

static const char *const log_names[] = {
	[LOG_LVL_ERROR] = "error",
	[LOG_LVL_WARN] = "warn",
	[LOG_LVL_INFO] = "info",
	[LOG_LVL_DEBUG] = "debug",
};

int log_parse_level(const char *word, enum log_level *out)
{
	size_t i;

	if (!word)
		return -EINVAL;
	for (i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++) {
		if (strcasecmp(word, log_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *log_level_name(enum log_level lvl)
{
	if ((unsigned)lvl > LOG_LVL_DEBUG)
		return "?";
	return log_names[lvl];
}

void log_set_level(enum log_level lvl)
{
	pthread_mutex_lock(&log_lock);
	log_threshold = lvl;
	pthread_mutex_unlock(&log_lock);
}

enum log_level log_get_level(void)
{
	enum log_level lvl;

	pthread_mutex_lock(&log_lock);
	lvl = log_threshold;
	pthread_mutex_unlock(&log_lock);
	return lvl;
}

void log_use_syslog(bool on)
{
	pthread_mutex_lock(&log_lock);
	if (on && !log_syslog)
		openlog("partnerfs", LOG_PID, LOG_DAEMON);
	else if (!on && log_syslog)
		closelog();
	log_syslog = on;
	pthread_mutex_unlock(&log_lock);
}

static int log_syslog_priority(enum log_level lvl)
{
	switch (lvl) {
	case LOG_LVL_ERROR:
		return LOG_ERR;
	case LOG_LVL_WARN:
		return LOG_WARNING;
	case LOG_LVL_INFO:
		return LOG_INFO;
	default:
		return LOG_DEBUG;
	}
}

static const char *log_basename(const char *file)
{
	const char *slash = file ? strrchr(file, '/') : NULL;

	return slash ? slash + 1 : (file ? file : "?");
}

/* Keeps one line per message: a message with an embedded newline (an API
 * error text, say) would otherwise forge a second log line. */
static void log_flatten(char *s)
{
	for (; *s; s++)
		if (*s == '\n' || *s == '\r')
			*s = ' ';
}

static void log_remember_error(const char *msg, const char *where)
{
	struct tm tm;
	time_t now = time(NULL);
	char stamp[32];

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(log_last, sizeof(log_last), "%s %s (%s)", stamp, msg, where);
}

void log_msg(enum log_level lvl, const char *file, int line, const char *fmt,
	     ...)
{
	char msg[LOG_LINE_MAX];
	char where[128];
	va_list ap;
	int saved = errno;
	bool print = lvl <= log_get_level();
	/* API failures are logged at warn; .partnerfs/last-error must show
	 * them whatever the log level. */
	bool keep = lvl <= LOG_LVL_WARN;

	if (!print && !keep)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_flatten(msg);
	snprintf(where, sizeof(where), "%s:%d", log_basename(file), line);

	pthread_mutex_lock(&log_lock);
	if (keep)
		log_remember_error(msg, where);
	if (print && log_syslog)
		syslog(log_syslog_priority(lvl), "%s: %s (%s)",
		       log_level_name(lvl), msg, where);
	else if (print)
		fprintf(stderr, "partnerfs: %s: %s (%s)\n", log_level_name(lvl),
			msg, where);
	pthread_mutex_unlock(&log_lock);
	errno = saved;
}

void log_last_error(char *out, size_t size)
{
	if (!size)
		return;
	pthread_mutex_lock(&log_lock);
	snprintf(out, size, "%s", log_last);
	pthread_mutex_unlock(&log_lock);
}
