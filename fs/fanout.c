/* fanout.c: one caller's lookups on a few short-lived helper threads (see
 * fanout.h). Helpers are started per call, not kept in a pool: a warm
 * listing answers from the cache and costs only their start (tens of
 * microseconds each), and nothing is left running that the session's end
 * would have to stop. */
#include <pthread.h>
#include <stdatomic.h>

#include "partnerfs/cache.h"
#include "partnerfs/fanout.h"

struct fanout_job {
	void (*fn)(void *arg, size_t i);
	void *arg;
	size_t n;
	atomic_size_t next;
	struct cache_scope scope;
};

/* Takes indexes until none are left, so a slow lookup holds up only its
 * own thread. */
static void fanout_work(struct fanout_job *job)
{
	for (;;) {
		size_t i = atomic_fetch_add(&job->next, 1);
		if (i >= job->n)
			return;
		job->fn(job->arg, i);
	}
}

static void *fanout_helper(void *p)
{
	struct fanout_job *job = p;
	cache_scope_enter(&job->scope);
	fanout_work(job);
	return NULL;
}

void fanout(size_t n, void (*fn)(void *arg, size_t i), void *arg)
{
	struct fanout_job job = {.fn = fn, .arg = arg, .n = n};
	pthread_t helpers[FANOUT_MAX - 1];
	size_t started = 0;
	atomic_init(&job.next, 0);
	job.scope = cache_scope_current();
	while (started + 1 < FANOUT_MAX && started + 1 < n &&
	       pthread_create(&helpers[started], NULL, fanout_helper, &job) ==
		       0)
		started++;
	fanout_work(&job);
	for (size_t i = 0; i < started; i++)
		pthread_join(helpers[i], NULL);
}
