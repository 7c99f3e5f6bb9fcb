/* fuse_evict.c: the thread that hands idle transient directories to the
 * prober (see fuse_evict.h). It never waits for the mount: probe_paths
 * only sends. */
#include <errno.h>
#include <pthread.h>

#include "fuse_evict.h"
#include "heap.h"
#include "partnerfs/buf.h"
#include "partnerfs/clock.h"
#include "partnerfs/inodes.h"
#include "probe.h"

#define EVICT_TICK_S 5.0
/* Probes per tick, at most. */
#define EVICT_BATCH 256

static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int running, started;
	long idle_ms;
	pthread_t thread;
} ev = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void *evict_main(void *unused)
{
	(void)unused;
	pthread_mutex_lock(&ev.lock);
	while (ev.running) {
		struct timespec at = clock_deadline_in(EVICT_TICK_S);
		pthread_cond_timedwait(&ev.wake, &ev.lock, &at);
		if (!ev.running)
			break;
		pthread_mutex_unlock(&ev.lock);
		struct buf paths = BUF_INIT;
		inodes_take_idle(clock_mono_ms() - ev.idle_ms, EVICT_BATCH,
				 &paths);
		probe_paths(&paths);
		buf_free(&paths);
		heap_trim_slack();
		pthread_mutex_lock(&ev.lock);
	}
	pthread_mutex_unlock(&ev.lock);
	return NULL;
}

int fuse_evict_start(double idle_s)
{
	clock_cond_init(&ev.wake);
	ev.idle_ms = (long)(idle_s * 1000);
	ev.running = 1;
	int err = pthread_create(&ev.thread, NULL, evict_main, NULL);
	ev.started = err == 0;
	return -err;
}

void fuse_evict_stop(void)
{
	pthread_mutex_lock(&ev.lock);
	ev.running = 0;
	pthread_cond_broadcast(&ev.wake);
	pthread_mutex_unlock(&ev.lock);
	if (ev.started)
		pthread_join(ev.thread, NULL);
	ev.started = 0;
}
