/* cache.c: API documents by key, kept for cache_ttl, with request
 * coalescing and an invalidation counter (see cache.h). */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "partnerfs/cache.h"

/* A doc is handed out as a plain pointer; its reference count sits in front
 * of it so callers see an ordinary struct. */
struct doc_box {
	atomic_int refs;
	struct doc doc;
};

struct entry {
	struct entry *next;
	char *key;
	struct doc *doc; /* NULL while only an error is remembered */
	int err;	 /* remembered -ENOENT / -EACCES, else 0 */
	struct timespec fetched;
	unsigned long gen;     /* bumped by every invalidation of this key */
	unsigned long answers; /* fetches whose answer was stored */
	int fetching;	       /* a thread is fetching; others wait on cond */
	int waiters;	       /* threads waiting for that fetch: keep e */
	int prefetched;	       /* fetched by a prefetch no reader used yet */
};

#define CACHE_BUCKETS 4096

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct entry *buckets[CACHE_BUCKETS];
	double ttl;
	size_t max_entries;
	size_t sweep_at; /* entries count that starts the next sweep */
	size_t entries;
	unsigned long hits, misses, prefetch_used;
} cache = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

struct doc_note {
	struct doc_note *next;
	const struct doc_note_type *type;
	void *value;
};

struct doc *doc_new(const char *data, size_t len, const char *etag,
		    const char *url)
{
	struct doc_box *box = calloc(1, sizeof(*box));
	if (!box)
		return NULL;
	atomic_init(&box->refs, 1);
	box->doc.data = malloc(len + 1);
	box->doc.etag = etag ? strdup(etag) : NULL;
	box->doc.url = url ? strdup(url) : NULL;
	if (!box->doc.data || (etag && !box->doc.etag) ||
	    (url && !box->doc.url)) {
		doc_put(&box->doc);
		return NULL;
	}
	if (len)
		memcpy(box->doc.data, data, len);
	box->doc.data[len] = '\0';
	box->doc.len = len;
	box->doc.mtime = time(NULL);
	return &box->doc;
}

static struct doc_box *box_of(struct doc *d)
{
	return (struct doc_box *)((char *)d - offsetof(struct doc_box, doc));
}

static struct doc *doc_get(struct doc *d)
{
	if (d)
		atomic_fetch_add(&box_of(d)->refs, 1);
	return d;
}

void doc_put(struct doc *d)
{
	if (!d)
		return;
	struct doc_box *box = box_of(d);
	if (atomic_fetch_sub(&box->refs, 1) != 1)
		return;
	free(d->data);
	free(d->etag);
	free(d->url);
	while (d->notes) {
		struct doc_note *n = d->notes;
		d->notes = n->next;
		if (n->type->free)
			n->type->free(n->value);
		free(n);
	}
	free(box);
}

/* One lock for every doc's notes: notes are attached once per fetch and
 * read with a short walk, so it is never held for long. */
static pthread_mutex_t notes_lock = PTHREAD_MUTEX_INITIALIZER;

static struct doc_note *note_find_locked(struct doc *d,
					 const struct doc_note_type *t)
{
	for (struct doc_note *n = d->notes; n; n = n->next)
		if (n->type == t)
			return n;
	return NULL;
}

void *doc_note_get(struct doc *d, const struct doc_note_type *t)
{
	pthread_mutex_lock(&notes_lock);
	struct doc_note *n = note_find_locked(d, t);
	void *v = n ? n->value : NULL;
	pthread_mutex_unlock(&notes_lock);
	return v;
}

void *doc_note_attach(struct doc *d, const struct doc_note_type *t, void *value)
{
	pthread_mutex_lock(&notes_lock);
	struct doc_note *n = note_find_locked(d, t);
	void *kept = n ? n->value : NULL;
	if (!n && (n = calloc(1, sizeof(*n)))) {
		n->type = t;
		n->value = kept = value;
		n->next = d->notes;
		d->notes = n;
		value = NULL;
	}
	pthread_mutex_unlock(&notes_lock);
	if (value && t->free)
		t->free(value);
	return kept;
}

/* Whether a refetch changed nothing a reader cares about: then st_mtime
 * stays and no watcher is told. */
static int doc_same(const struct doc *a, const struct doc *b)
{
	if (a->has_content_key && b->has_content_key)
		return a->content_key == b->content_key;
	return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

static unsigned hash_key(const char *key)
{
	unsigned h = 2166136261u;
	for (; *key; key++)
		h = (h ^ (unsigned char)*key) * 16777619u;
	return h % CACHE_BUCKETS;
}

/* The start of the file-system request this thread is serving, if any. */
static _Thread_local struct timespec scope_start;
static _Thread_local int scope_active;

/* Older answers this thread takes for now (cache_scope_accept_age). */
static _Thread_local double scope_accept_age;

void cache_scope_begin(void)
{
	clock_gettime(CLOCK_MONOTONIC, &scope_start);
	scope_active = 1;
	scope_accept_age = 0;
}

void cache_scope_accept_age(double seconds)
{
	scope_accept_age = seconds;
}

static int timespec_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec ||
	       (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

static double seconds_since(const struct timespec *t)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) +
	       (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

static struct entry *entry_find(const char *key, int create)
{
	struct entry **head = &cache.buckets[hash_key(key)];
	for (struct entry *e = *head; e; e = e->next)
		if (strcmp(e->key, key) == 0)
			return e;
	if (!create)
		return NULL;
	struct entry *e = calloc(1, sizeof(*e));
	if (!e || !(e->key = strdup(key))) {
		free(e);
		return NULL;
	}
	e->next = *head;
	*head = e;
	cache.entries++;
	return e;
}

static void entry_forget(struct entry *e)
{
	doc_put(e->doc);
	e->doc = NULL;
	e->err = 0;
	e->fetched.tv_sec = 0;
	e->fetched.tv_nsec = 0;
	e->gen++;
}

static int entry_is_idle(const struct entry *e)
{
	return !e->fetching && !e->waiters;
}

static void entry_drop(struct entry **p)
{
	struct entry *e = *p;
	*p = e->next;
	doc_put(e->doc);
	free(e->key);
	free(e);
	cache.entries--;
}

static void cache_sweep_expired_locked(void)
{
	for (size_t b = 0; b < CACHE_BUCKETS; b++)
		for (struct entry **p = &cache.buckets[b]; *p;) {
			if (entry_is_idle(*p) &&
			    seconds_since(&(*p)->fetched) >= cache.ttl)
				entry_drop(p);
			else
				p = &(*p)->next;
		}
	cache.sweep_at = cache.entries * 2 > 1024 ? cache.entries * 2 : 1024;
}

/* Bounds memory. An expired entry serves nobody: whenever the count has
 * doubled since the last sweep, one pass drops every idle one (keys asked
 * for once, operations long finished, 404s remembered), so memory follows
 * what was fetched within the ttl, not everything ever fetched. Past
 * cache_max, the stalest go too, one scan each. Linear, but amortised. */
static void cache_evict_locked(void)
{
	if (cache.entries >= cache.sweep_at ||
	    (cache.max_entries && cache.entries > cache.max_entries))
		cache_sweep_expired_locked();
	while (cache.max_entries && cache.entries > cache.max_entries) {
		struct entry **victim = NULL;
		for (size_t b = 0; b < CACHE_BUCKETS; b++)
			for (struct entry **p = &cache.buckets[b]; *p;
			     p = &(*p)->next)
				if (entry_is_idle(*p) &&
				    (!victim ||
				     seconds_since(&(*p)->fetched) >
					     seconds_since(
						     &(*victim)->fetched)))
					victim = p;
		if (!victim)
			return;
		entry_drop(victim);
	}
}

/* Fresh: younger than the ttl, or received after the request this thread
 * serves began, so that one request (a getattr checks that an offer exists,
 * then shows it) never asks twice for one document, even with a ttl of 0. */
static int entry_is_fresh(const struct entry *e)
{
	if (!e->doc && !e->err)
		return 0;
	if (e->fetched.tv_sec == 0 && e->fetched.tv_nsec == 0)
		return 0;
	if (scope_active && !timespec_before(&e->fetched, &scope_start))
		return 1;
	double age = seconds_since(&e->fetched);
	return age < cache.ttl || age < scope_accept_age;
}

/* This thread fetches for prefetch.c, not for a reader. */
static _Thread_local int scope_prefetch;

void cache_scope_prefetch(int on)
{
	scope_prefetch = on;
}

static int entry_answer(struct entry *e, struct doc **out)
{
	cache.hits++;
	if (e->prefetched && !scope_prefetch) {
		cache.prefetch_used++;
		e->prefetched = 0;
	}
	if (!e->err)
		*out = doc_get(e->doc);
	pthread_mutex_unlock(&cache.lock);
	return e->err;
}

int cache_get(const char *key, cache_fetch_fn fetch, void *arg,
	      struct doc **out)
{
	*out = NULL;
	pthread_mutex_lock(&cache.lock);
	struct entry *e = entry_find(key, 1);
	if (!e) {
		pthread_mutex_unlock(&cache.lock);
		return -ENOMEM;
	}
	for (;;) {
		if (entry_is_fresh(e))
			return entry_answer(e, out);
		if (!e->fetching)
			break;
		/* Someone is already asking the API for this key: share
		 * their answer rather than sending a second request. It
		 * arrives after we asked, so it is fresh for us whatever the
		 * ttl, even if the next fetch has begun by the time we wake
		 * (waiting for that one too would queue every reader behind
		 * every fetch). */
		unsigned long gen = e->gen, answers = e->answers;
		e->waiters++;
		while (e->fetching && e->answers == answers)
			pthread_cond_wait(&cache.cond, &cache.lock);
		e->waiters--;
		if (gen == e->gen && e->answers != answers)
			return entry_answer(e, out);
	}
	e->fetching = 1;
	cache.misses++;
	unsigned long gen = e->gen;
	pthread_mutex_unlock(&cache.lock);

	struct doc *fresh = NULL;
	int err = fetch(arg, &fresh);

	pthread_mutex_lock(&cache.lock);
	e->fetching = 0;
	/* An invalidation while we fetched means our answer may predate a
	 * write through the mount: hand it to this caller only. */
	if (gen == e->gen) {
		if (err == 0 || err == -ENOENT || err == -EACCES) {
			if (fresh && e->doc && doc_same(e->doc, fresh))
				fresh->mtime = e->doc->mtime;
			doc_put(e->doc);
			e->doc = err ? NULL : doc_get(fresh);
			e->err = err;
			e->answers++;
			e->prefetched = scope_prefetch;
			clock_gettime(CLOCK_MONOTONIC, &e->fetched);
		}
	}
	pthread_cond_broadcast(&cache.cond);
	cache_evict_locked();
	pthread_mutex_unlock(&cache.lock);
	*out = err ? NULL : fresh;
	if (err)
		doc_put(fresh);
	return err;
}

void cache_invalidate(const char *key, int prefix)
{
	size_t klen = strlen(key);
	pthread_mutex_lock(&cache.lock);
	if (!prefix) {
		struct entry *e = entry_find(key, 0);
		if (e)
			entry_forget(e);
	} else {
		for (size_t b = 0; b < CACHE_BUCKETS; b++)
			for (struct entry *e = cache.buckets[b]; e; e = e->next)
				if (strncmp(e->key, key, klen) == 0)
					entry_forget(e);
	}
	pthread_mutex_unlock(&cache.lock);
}

void cache_init(double ttl_s, size_t max_entries)
{
	cache.ttl = ttl_s;
	cache.max_entries = max_entries;
	cache.sweep_at = 1024;
}

void cache_cleanup(void)
{
	pthread_mutex_lock(&cache.lock);
	for (size_t b = 0; b < CACHE_BUCKETS; b++) {
		struct entry *e = cache.buckets[b];
		while (e) {
			struct entry *next = e->next;
			doc_put(e->doc);
			free(e->key);
			free(e);
			e = next;
		}
		cache.buckets[b] = NULL;
	}
	cache.entries = 0;
	pthread_mutex_unlock(&cache.lock);
}

double cache_ttl_s(void)
{
	return cache.ttl;
}

unsigned long cache_prefetch_used(void)
{
	pthread_mutex_lock(&cache.lock);
	unsigned long n = cache.prefetch_used;
	pthread_mutex_unlock(&cache.lock);
	return n;
}

void cache_stats(unsigned long *hits, unsigned long *misses,
		 unsigned long *entries)
{
	pthread_mutex_lock(&cache.lock);
	*hits = cache.hits;
	*misses = cache.misses;
	*entries = cache.entries;
	pthread_mutex_unlock(&cache.lock);
}
