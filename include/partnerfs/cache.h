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
	char *etag;   /* NULL when the API gave none */
	char *url;    /* the URL it came from */
	time_t mtime; /* wall clock time the content last changed */
	/* What the content means, when bytes differ for nothing (resources
	 * listed in another order, re-signed URLs): a refetch with the same
	 * key is no change. Set by whoever made the doc; else bytes count. */
	unsigned long long content_key;
	int has_content_key;
	struct doc_note *notes; /* see doc_note_get; guarded by the cache */
};

/* A note is what a reader derived from a doc once (a parsed listing, a
 * status word, "merged into the tracker"), kept with it and freed with
 * it. Notes are told apart by their type, so that two readers of one doc
 * never take each other's note for their own; the list is locked, so
 * two threads attaching at once keep one note. */
struct doc_note_type {
	const char *name;
	void (*free)(void *value); /* NULL: nothing to free */
};
/* The value of d's note of type t, or NULL. */
void *doc_note_get(struct doc *d, const struct doc_note_type *t);
/* Attaches value as d's note of type t unless one is there already; then
 * value is freed and that one returned. Returns NULL only when out of
 * memory (value freed). */
void *doc_note_attach(struct doc *d, const struct doc_note_type *t,
		      void *value);

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
/* The doc key holds now, fresh or not, without fetching: 0 and *out
 * referenced, or -ENOENT when it holds none. */
int cache_peek(const char *key, struct doc **out);
/* Marks the start of one file-system request on this thread: documents
 * received from now on are fresh for the rest of it whatever the ttl.
 * Threads that never call it (the poller) only see the ttl. */
void cache_scope_begin(void);
/* Until the next call (or cache_scope_begin), this thread also takes
 * answers up to seconds old, whatever the ttl: for checking that the
 * ancestors of a name exist, which the kernel itself keeps for as long. */
void cache_scope_accept_age(double seconds);
/* This thread fetches ahead of readers (prefetch.c): what it stores is
 * counted as used when a reader first takes it. */
void cache_scope_prefetch(int on);
/* Documents a prefetch stored that a reader then took. */
unsigned long cache_prefetch_used(void);
/* Prefetches not made: the previous prefetch of that document was never
 * taken by a reader (cache_get answers such a prefetch -ECANCELED). */
unsigned long cache_prefetch_skipped(void);
double cache_ttl_s(void);
/* The scope of this thread, for a helper thread that works for the same
 * request (fanout.c) to enter: the documents the request already has stay
 * fresh for it too, even with a ttl of 0. */
struct cache_scope {
	struct timespec start;
	int active;
	double accept_age;
};
struct cache_scope cache_scope_current(void);
void cache_scope_enter(const struct cache_scope *s);
/* Drops key, and every key starting with key when prefix is nonzero. */
void cache_invalidate(const char *key, int prefix);

struct doc *doc_new(const char *data, size_t len, const char *etag,
		    const char *url);
void doc_put(struct doc *d);

/* The bytes of the documents kept, for .partnerfs/stats. */
size_t cache_bytes(void);
/* hits, misses, entries: for .partnerfs/stats. */
void cache_stats(unsigned long *hits, unsigned long *misses,
		 unsigned long *entries);

#endif
