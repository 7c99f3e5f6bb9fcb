/* Unit tests of the document cache (fs/cache.c): what it keeps, for how
 * long, and that it shares one fetch per request. The fetch function is
 * ours, so every request the cache would send is counted here. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "partnerfs/cache.h"

static int fetches;

static int fetch_key(void *arg, struct doc **out)
{
	const char *key = arg;
	fetches++;
	*out = doc_new(key, strlen(key), NULL, NULL);
	return *out ? 0 : -12;
}

static int get(const char *key)
{
	struct doc *d = NULL;
	int err = cache_get(key, fetch_key, (void *)key, &d);
	doc_put(d);
	return err;
}

static unsigned long entries(void)
{
	unsigned long hits, misses, n;
	cache_stats(&hits, &misses, &n);
	return n;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

static void test_fresh_within_ttl(void)
{
	cache_init(30, 0);
	fetches = 0;
	CHECK(get("a") == 0 && get("a") == 0);
	CHECK(fetches == 1);
	cache_invalidate("a", 0);
	CHECK(get("a") == 0 && fetches == 2);
	cache_cleanup();
}

/* With a ttl of 0 each request asks again, but one request asks once. */
static void test_ttl_0_asks_once_per_request(void)
{
	cache_init(0, 0);
	fetches = 0;
	cache_scope_begin();
	CHECK(get("k") == 0 && get("k") == 0);
	CHECK(fetches == 1);
	sleep_ms(2);
	cache_scope_begin();
	CHECK(get("k") == 0 && fetches == 2);
	cache_cleanup();
}

/* Expired entries go once the count has doubled, bound or not. */
static void test_expired_entries_are_swept(void)
{
	char key[32];
	cache_init(0.05, 0);
	for (int i = 0; i < 600; i++) {
		snprintf(key, sizeof(key), "old-%d", i);
		get(key);
	}
	CHECK(entries() == 600);
	sleep_ms(80);
	for (int i = 0; i < 500; i++) {
		snprintf(key, sizeof(key), "new-%d", i);
		get(key);
	}
	CHECK(entries() < 600);
	cache_cleanup();
}

/* Past cache_max, the stalest go even while fresh. */
static void test_cache_max_evicts_the_stalest(void)
{
	char key[32];
	cache_init(30, 16);
	fetches = 0;
	for (int i = 0; i < 40; i++) {
		snprintf(key, sizeof(key), "doc-%d", i);
		get(key);
		sleep_ms(1);
	}
	CHECK(entries() <= 16);
	get("doc-39");
	CHECK(fetches == 40); /* the newest is still there */
	get("doc-0");
	CHECK(fetches == 41); /* the oldest was dropped */
	cache_cleanup();
}

/* A bound of 16 holds through thousands of inserts, and what stays is
 * the 16 fetched last. */
static void test_bound_holds_through_thousands_of_inserts(void)
{
	char key[32];
	int over = 0;
	cache_init(30, 16);
	fetches = 0;
	for (int i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "doc-%d", i);
		get(key);
		over += entries() > 16;
	}
	CHECK(over == 0);
	CHECK(entries() == 16);
	for (int i = 5000 - 16; i < 5000; i++) {
		snprintf(key, sizeof(key), "doc-%d", i);
		get(key);
	}
	CHECK(fetches == 5000); /* all 16 kept */
	get("doc-4983");
	CHECK(fetches == 5001); /* the 17th newest is gone */
	cache_cleanup();
}

/* Past the bound: the expired go first, then the one fetched longest
 * ago; a refetch makes an entry the newest, and an invalidated one holds
 * nothing and goes before any other. */
static void test_eviction_order(void)
{
	cache_init(0.05, 4);
	fetches = 0;
	get("x1");
	get("x2");
	/* x1 and x2 expire, and are not fresh for this "request" either. */
	sleep_ms(80);
	cache_scope_begin();
	get("y1");
	get("y2");
	get("x1"); /* refetched: the newest */
	CHECK(fetches == 5 && entries() == 4);
	get("z"); /* one too many: x2, the expired one, goes */
	CHECK(entries() == 4);
	fetches = 0;
	get("y1");
	get("y2");
	get("x1");
	get("z");
	CHECK(fetches == 0);
	get("w"); /* then the stalest: y1 */
	CHECK(entries() == 4);
	get("y2");
	get("x1");
	get("z");
	get("w");
	CHECK(fetches == 1);
	cache_invalidate("x1", 0);
	get("v"); /* x1 holds nothing: it goes before y2 */
	get("y2");
	CHECK(fetches == 2);
	get("x1");
	CHECK(fetches == 3);
	cache_cleanup();
}

/* Entries being fetched, or waited on, are never evicted, however many
 * inserts pass them: the fetch's answer is stored and then served. */
static pthread_mutex_t slow_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t slow_cond = PTHREAD_COND_INITIALIZER;
static int slow_started, slow_release;
static atomic_int slow_fetches;

static int fetch_slow(void *arg, struct doc **out)
{
	(void)arg;
	atomic_fetch_add(&slow_fetches, 1);
	pthread_mutex_lock(&slow_lock);
	slow_started = 1;
	pthread_cond_broadcast(&slow_cond);
	while (!slow_release)
		pthread_cond_wait(&slow_cond, &slow_lock);
	pthread_mutex_unlock(&slow_lock);
	*out = doc_new("slow", 4, NULL, NULL);
	return *out ? 0 : -12;
}

static void *get_slow(void *arg)
{
	struct doc *d = NULL;
	int err = cache_get("slow", fetch_slow, NULL, &d);
	CHECK(err == 0 && d && strcmp(d->data, "slow") == 0);
	doc_put(d);
	(void)arg;
	return NULL;
}

static void test_in_flight_entries_are_kept(void)
{
	char key[32];
	pthread_t fetcher, waiter;
	cache_init(0.01, 16);
	slow_started = slow_release = 0;
	atomic_store(&slow_fetches, 0);
	CHECK(pthread_create(&fetcher, NULL, get_slow, NULL) == 0);
	pthread_mutex_lock(&slow_lock);
	while (!slow_started)
		pthread_cond_wait(&slow_cond, &slow_lock);
	pthread_mutex_unlock(&slow_lock);
	CHECK(pthread_create(&waiter, NULL, get_slow, NULL) == 0);
	for (int i = 0; i < 3000; i++) {
		snprintf(key, sizeof(key), "doc-%d", i);
		get(key);
		if (i == 1500)
			sleep_ms(20); /* everything so far has expired */
	}
	CHECK(entries() <= 16);
	pthread_mutex_lock(&slow_lock);
	slow_release = 1;
	pthread_cond_broadcast(&slow_cond);
	pthread_mutex_unlock(&slow_lock);
	pthread_join(fetcher, NULL);
	pthread_join(waiter, NULL);
	/* One fetch for both readers: the waiter's entry was not dropped
	 * under it. */
	CHECK(atomic_load(&slow_fetches) == 1);
	CHECK(entries() <= 16);
	cache_cleanup();
}

int main(void)
{
	RUN(test_fresh_within_ttl);
	RUN(test_ttl_0_asks_once_per_request);
	RUN(test_expired_entries_are_swept);
	RUN(test_cache_max_evicts_the_stalest);
	RUN(test_bound_holds_through_thousands_of_inserts);
	RUN(test_eviction_order);
	RUN(test_in_flight_entries_are_kept);
	return check_exit_status();
}
