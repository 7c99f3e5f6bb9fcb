/* notify.c: the events log, and replaying state changes through the
 * mountpoint so that inotify-based watchers see them (see notify.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "partnerfs/buf.h"
#include "partnerfs/log.h"
#include "partnerfs/notify.h"

#define MAX_TOUCHERS 8

static struct {
	pthread_mutex_t lock;
	char *mountpoint;
	atomic_bool stopped;
	pid_t touchers[MAX_TOUCHERS]; /* threads replaying a change now */
	pthread_cond_t slot_freed;
	struct buf events;
	time_t events_mtime;
} nt = {.lock = PTHREAD_MUTEX_INITIALIZER,
	.slot_freed = PTHREAD_COND_INITIALIZER};

void notify_init(const char *mountpoint)
{
	nt.mountpoint = strdup(mountpoint);
	nt.events_mtime = time(NULL);
	atomic_store(&nt.stopped, false);
}

void notify_stop(void)
{
	pthread_mutex_lock(&nt.lock);
	atomic_store(&nt.stopped, true);
	pthread_cond_broadcast(&nt.slot_freed);
	pthread_mutex_unlock(&nt.lock);
}

void notify_cleanup(void)
{
	pthread_mutex_lock(&nt.lock);
	free(nt.mountpoint);
	nt.mountpoint = NULL;
	buf_free(&nt.events);
	pthread_mutex_unlock(&nt.lock);
}

bool notify_is_toucher(pid_t tid)
{
	bool found = false;
	pthread_mutex_lock(&nt.lock);
	for (int i = 0; i < MAX_TOUCHERS; i++)
		found |= tid != 0 && nt.touchers[i] == tid;
	pthread_mutex_unlock(&nt.lock);
	return found;
}

/* More pollers than slots may change files at once: wait for a slot
 * rather than drop the touch (a watcher would miss the change). A touch
 * takes a few FUSE round trips, so the wait is short. */
static int toucher_enter(pid_t tid)
{
	int slot = -1;
	pthread_mutex_lock(&nt.lock);
	while (slot < 0 && !atomic_load(&nt.stopped)) {
		for (int i = 0; i < MAX_TOUCHERS && slot < 0; i++)
			if (nt.touchers[i] == 0) {
				nt.touchers[i] = tid;
				slot = i;
			}
		if (slot < 0)
			pthread_cond_wait(&nt.slot_freed, &nt.lock);
	}
	pthread_mutex_unlock(&nt.lock);
	return slot;
}

static void toucher_leave(int slot)
{
	pthread_mutex_lock(&nt.lock);
	nt.touchers[slot] = 0;
	pthread_cond_signal(&nt.slot_freed);
	pthread_mutex_unlock(&nt.lock);
}

/* One file, through the mount: what an editor saving it would cause. */
static void touch_path(const char *rel)
{
	char path[4352];
	snprintf(path, sizeof(path), "%s%s", nt.mountpoint, rel);
	int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0)
		close(fd);
	else
		log_debug("touch %s: open: %s", rel, strerror(errno));
	const struct timespec both[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
	const struct timespec mtime_only[2] = {{0, UTIME_OMIT}, {0, UTIME_NOW}};
	if (utimensat(AT_FDCWD, path, both, 0) != 0 ||
	    utimensat(AT_FDCWD, path, mtime_only, 0) != 0)
		log_debug("touch %s: utimensat: %s", rel, strerror(errno));
}

/* The log is append-only, as `tail -f` needs, but a mount that lives for
 * months must not grow without end: past this the older half goes at once
 * (the file shrinks once, which `tail -F` notices and follows). 4 MiB is
 * some 30,000 changes. */
#define EVENTS_MAX ((size_t)4 << 20)

static void events_append(const char *event)
{
	char stamp[32];
	struct timespec now;
	struct tm tm;
	/* The time is read under the lock: pollers on several threads append
	 * here, and the log's stamps must not go back. */
	pthread_mutex_lock(&nt.lock);
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	buf_printf(&nt.events, "%s.%03ldZ %s\n", stamp, now.tv_nsec / 1000000,
		   event);
	if (nt.events.len > EVENTS_MAX)
		buf_drop_head_lines(&nt.events, nt.events.len / 2);
	nt.events_mtime = now.tv_sec;
	pthread_mutex_unlock(&nt.lock);
}

void notify_changed(const struct buf *events, const struct buf *paths)
{
	for (size_t off = 0; events->data && off < events->len;
	     off += strlen(events->data + off) + 1) {
		log_info("%s", events->data + off);
		events_append(events->data + off);
	}
	if (atomic_load(&nt.stopped) || !nt.mountpoint)
		return;
	pid_t tid = (pid_t)syscall(SYS_gettid);
	int slot = toucher_enter(tid);
	if (slot < 0)
		return;
	for (size_t off = 0; paths->data && off < paths->len;
	     off += strlen(paths->data + off) + 1)
		touch_path(paths->data + off);
	touch_path("/events");
	toucher_leave(slot);
}

int notify_events_show(struct content *out)
{
	pthread_mutex_lock(&nt.lock);
	out->len = nt.events.len;
	out->data = malloc(out->len + 1);
	if (out->data && out->len)
		memcpy(out->data, nt.events.data, out->len);
	if (out->data)
		out->data[out->len] = '\0';
	out->mtime = nt.events_mtime;
	pthread_mutex_unlock(&nt.lock);
	return out->data ? 0 : -ENOMEM;
}
