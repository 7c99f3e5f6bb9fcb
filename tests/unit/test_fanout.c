/* Unit tests of fanout (fs/fanout.c): every index once, a few at a time,
 * and helpers that see the caller's cache scope. */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "partnerfs/cache.h"
#include "partnerfs/fanout.h"

#define N 200

struct probe {
	atomic_int calls[N];
	atomic_int in_flight, peak, off_caller;
	pthread_t caller;
};

static void probe_one(void *arg, size_t i)
{
	struct probe *p = arg;
	int now = atomic_fetch_add(&p->in_flight, 1) + 1;
	int peak = atomic_load(&p->peak);
	while (now > peak &&
	       !atomic_compare_exchange_weak(&p->peak, &peak, now))
		;
	if (!pthread_equal(pthread_self(), p->caller))
		atomic_fetch_add(&p->off_caller, 1);
	struct timespec ts = {0, 200000};
	nanosleep(&ts, NULL); /* a lookup takes a while */
	atomic_fetch_add(&p->calls[i], 1);
	atomic_fetch_sub(&p->in_flight, 1);
}

static struct probe *probe_new(void)
{
	static struct probe p;
	memset(&p, 0, sizeof(p));
	p.caller = pthread_self();
	return &p;
}

static void test_every_index_once_a_few_at_a_time(void)
{
	struct probe *p = probe_new();
	fanout(N, probe_one, p);
	int once = 0;
	for (int i = 0; i < N; i++)
		once += atomic_load(&p->calls[i]) == 1;
	CHECK(once == N);
	CHECK(atomic_load(&p->peak) <= FANOUT_MAX);
	CHECK(atomic_load(&p->peak) >= 2);
	CHECK(atomic_load(&p->in_flight) == 0);
}

static void test_none_and_one_stay_on_the_caller(void)
{
	struct probe *p = probe_new();
	fanout(0, probe_one, p);
	CHECK(atomic_load(&p->peak) == 0);
	fanout(1, probe_one, p);
	CHECK(atomic_load(&p->calls[0]) == 1);
	CHECK(atomic_load(&p->off_caller) == 0);
}

static atomic_int fetches;

static int fetch_key(void *arg, struct doc **out)
{
	const char *key = arg;
	atomic_fetch_add(&fetches, 1);
	*out = doc_new(key, strlen(key), NULL, NULL);
	return *out ? 0 : -12;
}

static void get_a(void *arg, size_t i)
{
	struct doc *d = NULL;
	(void)arg;
	(void)i;
	CHECK(cache_get("a", fetch_key, (void *)"a", &d) == 0);
	doc_put(d);
}

/* With a ttl of 0, what the request already fetched is fresh for the
 * helpers working for it, as it is for the caller. */
static void test_helpers_share_the_callers_scope(void)
{
	cache_init(0, 0);
	atomic_store(&fetches, 0);
	cache_scope_begin();
	get_a(NULL, 0);
	fanout(16, get_a, NULL);
	CHECK(atomic_load(&fetches) == 1);
	cache_cleanup();
}

int main(void)
{
	RUN(test_every_index_once_a_few_at_a_time);
	RUN(test_none_and_one_stay_on_the_caller);
	RUN(test_helpers_share_the_callers_scope);
	return check_exit_status();
}
