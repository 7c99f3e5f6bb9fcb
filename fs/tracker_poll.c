/* tracker_poll.c: the poller threads, which follow each non-terminal
 * operation of the table (tracker.c) to its end through the backend's
 * poll(), and give freed memory back now and then. */
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "partnerfs/clock.h"
#include "partnerfs/list.h"
#include "partnerfs/log.h"
#include "partnerfs/tracker.h"
#include "tracker_impl.h"

/* Polls run on a few threads so that one slow operation URL does not hold
 * up the others, while the API sees bounded concurrency. A thread polls at
 * most interval / latency operations per interval: 16 keep 1,000
 * operations within a 5 s interval at 20 ms (plus transfer) per request,
 * where 4 managed 200 per second at best (tests/bench/README.md). */
#define POLL_THREADS 16
/* After errors the interval doubles up to this, unless the backend says. */
#define POLL_BACKOFF_MAX_S 60.0

/* running and trimmed_at are under tracker.lock, since a poller reads them
 * between polls; the threads are only tracker_start's and tracker_stop's. */
static struct {
	int running;
	pthread_t threads[POLL_THREADS];
	int nthreads;
	double trimmed_at;
} pollers;

/* The due, idle, active operation polled longest ago; or NULL and the time
 * until the next one is due. */
static struct op *next_due_locked(double now, double *wait_s)
{
	struct op *best = NULL;
	*wait_s = tracker.interval > 0 ? tracker.interval : 1.0;
	/* The sweep needs a turn now and then even when nothing is due. */
	if (*wait_s > 1.0)
		*wait_s = 1.0;
	for (struct list_link *l = tracker.active.next; l != &tracker.active;
	     l = l->next) {
		struct op *o = list_entry(l, struct op, by_state);
		if (o->polling)
			continue;
		if (o->next_poll <= now) {
			if (!best || o->next_poll < best->next_poll)
				best = o;
		} else if (o->next_poll - now < *wait_s) {
			*wait_s = o->next_poll - now;
		}
	}
	return best;
}

/* How long after this poll the next one is. */
static double poll_delay(const struct op *o, int err, long retry_after)
{
	double delay = tracker.interval;
	if (err) {
		double most = tracker.be->poll_backoff_max_s > 0
				      ? tracker.be->poll_backoff_max_s
				      : POLL_BACKOFF_MAX_S;
		for (int i = 0; i < o->errors && delay < most; i++)
			delay *= 2;
		return delay > most ? most : delay;
	}
	/* The server may ask to come back sooner (doc/design.md §3); a
	 * longer Retry-After must not delay what watchers see past
	 * poll_interval, and 0 would make the poller spin. */
	if (retry_after > 0 && (double)retry_after < delay)
		delay = (double)retry_after;
	return delay;
}

/* base: when this poll was due, so that an operation is polled every
 * interval and not every interval plus the time the request took. Called
 * and returns with the lock held; drops it for the request. */
static void tracker_poll_once(struct op *o, double base)
{
	char *url = strdup(o->url);
	char *scope = strdup(o->scope->name), *id = strdup(o->id);
	unsigned long reports = o->reports;
	pthread_mutex_unlock(&tracker.lock);

	char old[TRACKER_STATE_MAX];
	struct backend_poll p;
	int err = tracker_fetch(url, &p);

	pthread_mutex_lock(&tracker.lock);
	tracker.polls++;
	o->polling = 0;
	int changed = 0;
	if (err) {
		o->errors++;
		log_warn("polling operation %s of %s failed: %s", id,
			 scope ? scope : "?", strerror(-err));
	} else if (o->reports == reports) {
		o->errors = 0;
		changed = op_update_locked(o, &p, old);
	}
	double delay = poll_delay(o, err, p.retry_after_s);
	/* Counted from when the poll was due; but a request slower than the
	 * interval must not make us poll back to back, and a backoff runs
	 * from the failure. */
	double end = clock_mono_s();
	double soonest = err ? end + delay : end + delay / 2;
	o->next_poll = base + delay > soonest ? base + delay : soonest;
	pthread_mutex_unlock(&tracker.lock);

	if (changed && tracker.listener && scope && id)
		tracker.listener(scope, id, old, p.state);
	free(p.doc);
	free(url);
	free(scope);
	free(id);
	pthread_mutex_lock(&tracker.lock);
}

/* Freed memory goes back to the system now and then: a daemon that runs
 * for weeks should use what its live data needs, not its peak (glibc
 * keeps freed heap pages otherwise). */
#define TRIM_EVERY_S 30.0

static void *tracker_poller(void *unused)
{
	(void)unused;
	pthread_mutex_lock(&tracker.lock);
	while (pollers.running) {
		double wait_s;
		double now = clock_mono_s();
		tracker_sweep_locked(now);
		if (now - pollers.trimmed_at > TRIM_EVERY_S) {
			pollers.trimmed_at = now;
			pthread_mutex_unlock(&tracker.lock);
			malloc_trim(0);
			pthread_mutex_lock(&tracker.lock);
			continue;
		}
		struct op *o = next_due_locked(now, &wait_s);
		if (o) {
			o->polling = 1;
			/* Far behind (a busy server): start afresh, rather
			 * than polling back to back to catch up. */
			tracker_poll_once(o,
					  now - o->next_poll < tracker.interval
						  ? o->next_poll
						  : now);
			continue;
		}
		struct timespec until = clock_deadline_in(wait_s);
		pthread_cond_timedwait(&tracker.work, &tracker.lock, &until);
	}
	pthread_mutex_unlock(&tracker.lock);
	return NULL;
}

int tracker_start(void)
{
	pthread_mutex_lock(&tracker.lock);
	pollers.running = 1;
	pthread_mutex_unlock(&tracker.lock);
	for (int i = 0; i < POLL_THREADS; i++) {
		int rc = pthread_create(&pollers.threads[i], NULL,
					tracker_poller, NULL);
		if (rc) {
			tracker_stop();
			return -rc;
		}
		pollers.nthreads++;
	}
	return 0;
}

void tracker_stop(void)
{
	pthread_mutex_lock(&tracker.lock);
	pollers.running = 0;
	pthread_cond_broadcast(&tracker.work);
	pthread_mutex_unlock(&tracker.lock);
	for (int i = 0; i < pollers.nthreads; i++)
		pthread_join(pollers.threads[i], NULL);
	pollers.nthreads = 0;
}
