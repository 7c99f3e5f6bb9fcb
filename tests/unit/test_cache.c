/* Unit tests of the document cache (fs/cache.c): what it keeps, for how
 * long, and that it shares one fetch per request. The fetch function is
 * ours, so every request the cache would send is counted here. */
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

int main(void)
{
	RUN(test_fresh_within_ttl);
	RUN(test_ttl_0_asks_once_per_request);
	RUN(test_expired_entries_are_swept);
	RUN(test_cache_max_evicts_the_stalest);
	return check_exit_status();
}
