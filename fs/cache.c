/* cache.c: API documents by key, kept for cache_ttl, with request
 * coalescing and an invalidation counter (see cache.h). */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "partnerfs/cache.h"
#include "partnerfs/hash.h"
#include "partnerfs/list.h"

/* A doc is handed out as a plain pointer; its reference count sits in front
 * of it so callers see an ordinary struct. */
struct doc_box {
	atomic_int refs;
	struct doc doc;
};

struct entry {
	struct entry *next, **pprev; /* its bucket's chain */
	/* On cache.age, oldest fetch first (see cache_evict_locked). */
	struct list_link age;
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
	/* Every entry, ordered by `fetched`: never answered or forgotten
	 * ones (fetched 0) at the head, the last answer stored at the tail.
	 * Each change of `fetched` is to 0 or to now, so moving the entry to
	 * the head or the tail keeps the order without a search. */
	struct list_link age;
	double ttl;
	size_t max_entries;
	size_t sweep_at; /* entries count that starts the next sweep */
	size_t entries;
	size_t bytes; /* of the documents kept */
	unsigned long hits, misses, prefetch_used, prefetch_skipped;
} cache = {.lock = PTHREAD_MUTEX_INITIALIZER,
	   .cond = PTHREAD_COND_INITIALIZER,
	   .age = LIST_INIT(cache.age)};

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
	return (unsigned)(hash_str(key) % CACHE_BUCKETS);
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

struct cache_scope cache_scope_current(void)
{
	struct cache_scope s = {scope_start, scope_active, scope_accept_age};
	return s;
}

void cache_scope_enter(const struct cache_scope *s)
{
	scope_start = s->start;
	scope_active = s->active;
	scope_accept_age = s->accept_age;
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

/* The stalest first: an entry that now holds nothing goes to the head. */
static void entry_age_reset(struct entry *e)
{
	list_del(&e->age);
	list_add(&cache.age, &e->age);
}

/* An answer stored now is the newest: the tail. */
static void entry_age_now(struct entry *e)
{
	list_del(&e->age);
	list_add(cache.age.prev, &e->age);
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
	if (e->next)
		e->next->pprev = &e->next;
	e->pprev = head;
	*head = e;
	e->age.prev = e->age.next = &e->age;
	entry_age_reset(e);
	cache.entries++;
	return e;
}

/* Under the lock: e keeps d (a reference the caller hands over) instead
 * of what it kept. */
static void entry_set_doc(struct entry *e, struct doc *d)
{
	if (e->doc)
		cache.bytes -= e->doc->len;
	doc_put(e->doc);
	e->doc = d;
	if (d)
		cache.bytes += d->len;
}

static void entry_forget(struct entry *e)
{
	entry_set_doc(e, NULL);
	e->err = 0;
	e->fetched.tv_sec = 0;
	e->fetched.tv_nsec = 0;
	e->gen++;
	entry_age_reset(e);
}

static int entry_is_idle(const struct entry *e)
{
	return !e->fetching && !e->waiters;
}

static void entry_drop(struct entry *e)
{
	*e->pprev = e->next;
	if (e->next)
		e->next->pprev = e->pprev;
	list_del(&e->age);
	entry_set_doc(e, NULL);
	free(e->key);
	free(e);
	cache.entries--;
}

static int entry_is_expired(const struct entry *e, const struct timespec *now)
{
	double age = (double)(now->tv_sec - e->fetched.tv_sec) +
		     (double)(now->tv_nsec - e->fetched.tv_nsec) / 1e9;
	return age >= cache.ttl;
}

/* The expired entries are the head of cache.age, up to the first that is
 * not: only those are looked at. The busy ones among them (a fetch or its
 * waiters hold them) are stepped over, and there are at most as many of
 * those as threads. */
static void cache_sweep_expired_locked(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	for (struct list_link *l = cache.age.next, *next; l != &cache.age;
	     l = next) {
		struct entry *e = list_entry(l, struct entry, age);
		next = l->next;
		if (!entry_is_expired(e, &now))
			break;
		if (entry_is_idle(e))
			entry_drop(e);
	}
	cache.sweep_at = cache.entries * 2 > 1024 ? cache.entries * 2 : 1024;
}

/* Bounds memory. An expired entry serves nobody: whenever the count has
 * doubled since the last sweep, the expired ones go (keys asked for once,
 * operations long finished, 404s remembered), so memory follows what was
 * fetched within the ttl, not everything ever fetched. Past cache_max the
 * head of cache.age goes, one entry per entry too many: that is the
 * expired ones first (they are the head), then the stalest. Entries being
 * fetched or waited on are stepped over, never dropped. Each entry is
 * dropped once, so this is O(1) amortised per insert. */
static void cache_evict_locked(void)
{
	if (cache.entries >= cache.sweep_at)
		cache_sweep_expired_locked();
	struct list_link *l = cache.age.next;
	while (cache.max_entries && cache.entries > cache.max_entries &&
	       l != &cache.age) {
		struct entry *e = list_entry(l, struct entry, age);
		l = l->next;
		if (entry_is_idle(e))
			entry_drop(e);
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
	/* What the last prefetch brought and no reader took is not fetched
	 * again by a prefetch: a guess that proved wrong costs the API one
	 * request and the mount its memory once, not every cache_ttl (a
	 * listing walked in 4 offers of 100 made the 96 others' listings be
	 * fetched and kept as they grew). A reader's own fetch clears it. */
	if (scope_prefetch && e->prefetched) {
		cache.prefetch_skipped++;
		pthread_mutex_unlock(&cache.lock);
		return -ECANCELED;
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
			entry_set_doc(e, err ? NULL : doc_get(fresh));
			e->err = err;
			e->answers++;
			e->prefetched = scope_prefetch;
			clock_gettime(CLOCK_MONOTONIC, &e->fetched);
			entry_age_now(e);
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

int cache_peek(const char *key, struct doc **out)
{
	pthread_mutex_lock(&cache.lock);
	struct entry *e = entry_find(key, 0);
	*out = e ? doc_get(e->doc) : NULL;
	pthread_mutex_unlock(&cache.lock);
	return *out ? 0 : -ENOENT;
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
	cache.age.prev = cache.age.next = &cache.age;
	cache.entries = 0;
	cache.bytes = 0;
	pthread_mutex_unlock(&cache.lock);
}

double cache_ttl_s(void)
{
	return cache.ttl;
}

unsigned long cache_prefetch_skipped(void)
{
	pthread_mutex_lock(&cache.lock);
	unsigned long n = cache.prefetch_skipped;
	pthread_mutex_unlock(&cache.lock);
	return n;
}

unsigned long cache_prefetch_used(void)
{
	pthread_mutex_lock(&cache.lock);
	unsigned long n = cache.prefetch_used;
	pthread_mutex_unlock(&cache.lock);
	return n;
}

size_t cache_bytes(void)
{
	pthread_mutex_lock(&cache.lock);
	size_t n = cache.bytes;
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
