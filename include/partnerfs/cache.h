/* cache: API documents by key, each kept for cache_ttl. Concurrent misses
 * of one key make one request; an invalidation makes a fetch that started
 * before it drop its (older) answer instead of storing it. */
#ifndef PARTNERFS_CACHE_H
#define PARTNERFS_CACHE_H

#include <stddef.h>
#include <time.h>

/* An immutable snapshot of one API answer; shared, reference counted. */
struct doc {
	char *data; /* response body, NUL-terminated */
	size_t len;
	char *etag;    /* NULL when the API gave none */
	char *url;     /* the URL it came from */
	time_t mtime;  /* wall clock time the content last changed */
	int is_pretty; /* data is already the pretty-printed JSON shown */
	/* A parsed form of data its user may attach once (see remote.c),
	 * freed with the doc. */
	void *aux;
	void (*aux_free)(void *aux);
};

/* Fills res-like outputs: 0 and *out (a new doc the cache takes), or -errno
 * with a message for the log. */
typedef int (*cache_fetch_fn)(void *arg, struct doc **out);

void cache_init(double ttl_s, size_t max_entries);
void cache_cleanup(void);

/* Fresh doc for key, fetching it with fetch(arg) when missing or older
 * than the ttl. 0 and *out referenced (release with doc_put), or -errno
 * (404/403 answers are remembered for the ttl too). */
int cache_get(const char *key, cache_fetch_fn fetch, void *arg,
	      struct doc **out);
/* Marks the start of one file-system request on this thread: documents
 * received from now on are fresh for the rest of it whatever the ttl.
 * Threads that never call it (the poller) only see the ttl. */
void cache_scope_begin(void);
/* Drops key, and every key starting with key when prefix is nonzero. */
void cache_invalidate(const char *key, int prefix);

struct doc *doc_new(const char *data, size_t len, const char *etag,
		    const char *url);
struct doc *doc_get(struct doc *d);
void doc_put(struct doc *d);

/* hits, misses, entries: for .partnerfs/stats. */
void cache_stats(unsigned long *hits, unsigned long *misses,
		 unsigned long *entries);

#endif
