/* notify.c: the queue of changed paths, the notifier thread that drains
 * it, and the toucher process that replays each change through the
 * mountpoint (see notify.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "child.h"
#include "partnerfs/clock.h"
#include "partnerfs/events.h"
#include "partnerfs/hash.h"
#include "partnerfs/log.h"
#include "partnerfs/notify.h"

/* Distinct paths waiting for a touch. A change touches 3-4 files, so this
 * is a thousand operations changing at once while the toucher is stuck;
 * past it a touch is dropped (counted) rather than a poller kept waiting. */
#define QUEUE_MAX 4096

static struct {
	pthread_mutex_t lock;
	pthread_cond_t work;
	char *paths[QUEUE_MAX]; /* queued, oldest first */
	uint64_t hashes[QUEUE_MAX];
	size_t count;
	unsigned long touched, dropped;
	int running;
	pthread_t notifier;
	int have_notifier;
	struct child toucher;
} nt = {.lock = PTHREAD_MUTEX_INITIALIZER, .toucher = CHILD_INIT};

/* One file, through the mount: what an editor saving it would cause. */
static void toucher_touch(const char *path)
{
	static const struct timespec both[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
	static const struct timespec mtime_only[2] = {{0, UTIME_OMIT},
						      {0, UTIME_NOW}};
	int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0)
		close(fd);
	utimensat(AT_FDCWD, path, both, 0);
	utimensat(AT_FDCWD, path, mtime_only, 0);
}

/* Sends the batch to the toucher; a touch is not worth blocking the
 * notifier forever on a toucher that is gone. */
static void notifier_send(char **paths, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (child_send(&nt.toucher, paths[i], false) != 0) {
			log_warn("the toucher is gone: watchers are no longer "
				 "told of changes");
			return;
		}
	}
}

static void *notifier_main(void *unused)
{
	(void)unused;
	char *batch[QUEUE_MAX];
	pthread_mutex_lock(&nt.lock);
	while (nt.running) {
		if (!nt.count) {
			pthread_cond_wait(&nt.work, &nt.lock);
			continue;
		}
		size_t count = nt.count;
		memcpy(batch, nt.paths, count * sizeof(char *));
		nt.count = 0;
		nt.touched += count;
		pthread_mutex_unlock(&nt.lock);
		notifier_send(batch, count);
		for (size_t i = 0; i < count; i++)
			free(batch[i]);
		pthread_mutex_lock(&nt.lock);
	}
	pthread_mutex_unlock(&nt.lock);
	return NULL;
}

int notify_init(const char *mountpoint, int fuse_fd)
{
	int err = child_start(&nt.toucher, mountpoint, fuse_fd, toucher_touch);
	if (err) {
		log_warn("cannot start the toucher: %s; watchers will not be "
			 "told of changes",
			 strerror(-err));
		return err;
	}
	nt.running = 1;
	err = -pthread_create(&nt.notifier, NULL, notifier_main, NULL);
	nt.have_notifier = err == 0;
	return err;
}

void notify_stop(void)
{
	pthread_mutex_lock(&nt.lock);
	nt.running = 0;
	pthread_cond_broadcast(&nt.work);
	pthread_mutex_unlock(&nt.lock);
	if (nt.have_notifier)
		pthread_join(nt.notifier, NULL);
	nt.have_notifier = 0;
	child_stop(&nt.toucher, "toucher");
}

void notify_cleanup(void)
{
	pthread_mutex_lock(&nt.lock);
	for (size_t i = 0; i < nt.count; i++)
		free(nt.paths[i]);
	nt.count = 0;
	pthread_mutex_unlock(&nt.lock);
	events_cleanup();
}

bool notify_is_toucher(pid_t tid)
{
	return child_is(&nt.toucher, tid);
}

/* Under the lock. A path already waiting is not queued again. */
static void queue_path_locked(const char *path)
{
	uint64_t h = hash_str(path);
	for (size_t i = 0; i < nt.count; i++)
		if (nt.hashes[i] == h && strcmp(nt.paths[i], path) == 0)
			return;
	char *copy = nt.count < QUEUE_MAX ? strdup(path) : NULL;
	if (!copy) {
		nt.dropped++;
		return;
	}
	nt.paths[nt.count] = copy;
	nt.hashes[nt.count++] = h;
}

void notify_changed(const struct buf *events, const struct buf *paths)
{
	for (size_t off = 0; events->data && off < events->len;
	     off += strlen(events->data + off) + 1) {
		log_info("%s", events->data + off);
		events_append(events->data + off);
	}
	pthread_mutex_lock(&nt.lock);
	if (nt.running) {
		for (size_t off = 0; paths->data && off < paths->len;
		     off += strlen(paths->data + off) + 1)
			queue_path_locked(paths->data + off);
		queue_path_locked("/events");
		pthread_cond_signal(&nt.work);
	}
	pthread_mutex_unlock(&nt.lock);
}

void notify_stats(unsigned long *queued, unsigned long *touched,
		  unsigned long *dropped)
{
	pthread_mutex_lock(&nt.lock);
	*queued = nt.count;
	*touched = nt.touched;
	*dropped = nt.dropped;
	pthread_mutex_unlock(&nt.lock);
}
