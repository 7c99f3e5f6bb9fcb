/* events.c: the events log (see events.h). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "partnerfs/buf.h"
#include "partnerfs/events.h"

/* Past this the older half goes at once (the file shrinks once, which
 * `tail -F` notices and follows). 4 MiB is some 30,000 changes. */
#define EVENTS_MAX ((size_t)4 << 20)

static struct {
	pthread_mutex_t lock;
	struct buf log;
	time_t mtime;
} ev = {.lock = PTHREAD_MUTEX_INITIALIZER};

void events_append(const char *line)
{
	char stamp[32];
	struct timespec now;
	struct tm tm;
	/* The time is read under the lock: pollers on several threads append
	 * here, and the log's stamps must not go back. */
	pthread_mutex_lock(&ev.lock);
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	buf_printf(&ev.log, "%s.%03ldZ %s\n", stamp, now.tv_nsec / 1000000,
		   line);
	if (ev.log.len > EVENTS_MAX)
		buf_drop_head_lines(&ev.log, ev.log.len / 2);
	ev.mtime = now.tv_sec;
	pthread_mutex_unlock(&ev.lock);
}

int events_show(struct content *out)
{
	pthread_mutex_lock(&ev.lock);
	out->len = ev.log.len;
	out->data = malloc(out->len + 1);
	if (out->data && out->len)
		memcpy(out->data, ev.log.data, out->len);
	if (out->data)
		out->data[out->len] = '\0';
	out->mtime = ev.mtime ? ev.mtime : node_mount_time;
	pthread_mutex_unlock(&ev.lock);
	return out->data ? 0 : -ENOMEM;
}

void events_cleanup(void)
{
	pthread_mutex_lock(&ev.lock);
	buf_free(&ev.log);
	pthread_mutex_unlock(&ev.lock);
}
