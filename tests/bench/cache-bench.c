/** @file
 * cache-bench: the cost of one insert into fs/cache.c once it is past
 * cache_max, with a small bound and with a large one (tests/bench/run,
 * mode "cache"). Eviction that is O(1) per insert makes the two about
 * equal; a scan of every entry per insert makes the large one cost about
 * bound times more.
 *
 *   cache-bench ROUNDS    prints "small_insert_us X", "large_insert_us Y":
 *                         medians over ROUNDS rounds of 1,000 inserts of
 *                         new keys into a full cache of 16 and of 16,384
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchtime.h"
#include "partnerfs/cache.h"

#define PER_ROUND 1000

static int fetch_key(void *arg, struct doc **out)
{
	const char *key = arg;
	*out = doc_new(key, strlen(key), NULL, NULL);
	return *out ? 0 : -12;
}

static void insert(unsigned long k)
{
	char key[32];
	struct doc *d = NULL;
	snprintf(key, sizeof(key), "pub/offer-%lu/#offer", k);
	cache_get(key, fetch_key, key, &d);
	doc_put(d);
}

/* The median per-insert time, in microseconds, past a bound of max. */
static double per_insert_us(size_t max, long rounds)
{
	double *t = calloc((size_t)rounds, sizeof(*t));
	unsigned long k = 0;
	if (!t)
		exit(1);
	cache_init(3600, max);
	while (k < 2 * max) /* full, and evicting */
		insert(k++);
	for (long r = 0; r < rounds; r++) {
		double t0 = now_us();
		for (int i = 0; i < PER_ROUND; i++)
			insert(k++);
		t[r] = (now_us() - t0) / PER_ROUND;
	}
	cache_cleanup();
	qsort(t, (size_t)rounds, sizeof(*t), cmp_double);
	double m = t[rounds / 2];
	free(t);
	return m;
}

int main(int argc, char **argv)
{
	long rounds = argc > 1 ? atol(argv[1]) : 0;
	if (rounds < 1) {
		fprintf(stderr, "usage: cache-bench ROUNDS\n");
		return 2;
	}
	printf("small_insert_us %.4f\n", per_insert_us(16, rounds));
	printf("large_insert_us %.4f\n", per_insert_us(16384, rounds));
	return 0;
}
