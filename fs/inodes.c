/* inodes.c: node id <-> path, as two chained hash tables over one set of
 * entries (by id for every request, by path for LOOKUP and readdirplus),
 * under one mutex. A listing of 10,000 offers makes 10,000 ids at once:
 * the tables double as they fill, so a chain stays short. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "partnerfs/buf.h"
#include "partnerfs/clock.h"
#include "partnerfs/hash.h"
#include "partnerfs/inodes.h"
#include "partnerfs/list.h"

struct entry {
	uint64_t id;
	uint64_t refs; /* lookups the kernel has not forgotten */
	size_t path_hash;
	int detached; /* in by_id only: its path now names another file */
	long used_ms; /* the last LOOKUP (or offer to inodes_take_idle) */
	struct list_link idle; /* in `transient`, least recently used first,
				* when INODES_TRANSIENT; else unlinked */
	struct entry *next_by_id, *next_by_path;
	char path[];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry **by_id, **by_path;
static size_t nbuckets; /* a power of two */
static size_t count;
/* 64 bits do not wrap in the life of a mount, so an id is never given
 * twice: the kernel may still send requests for one it is forgetting. */
static uint64_t next_id = INODES_ROOT + 1;
static struct list_link transient = LIST_INIT(transient);

static size_t hash_id(uint64_t id)
{
	return (size_t)(id * 0x9e3779b97f4a7c15ULL);
}

static struct entry *find_id(uint64_t id)
{
	if (!nbuckets)
		return NULL;
	struct entry *e = by_id[hash_id(id) & (nbuckets - 1)];
	while (e && e->id != id)
		e = e->next_by_id;
	return e;
}

static struct entry *find_path(const char *path, size_t h)
{
	if (!nbuckets)
		return NULL;
	struct entry *e = by_path[h & (nbuckets - 1)];
	while (e && (e->path_hash != h || strcmp(e->path, path) != 0))
		e = e->next_by_path;
	return e;
}

static void link_entry(struct entry *e)
{
	size_t i = hash_id(e->id) & (nbuckets - 1);
	e->next_by_id = by_id[i];
	by_id[i] = e;
	if (e->detached)
		return;
	size_t j = e->path_hash & (nbuckets - 1);
	e->next_by_path = by_path[j];
	by_path[j] = e;
}

/* Rehashes into twice the buckets. On ENOMEM the old tables stay: they
 * are only slower. */
static void grow(void)
{
	size_t n = nbuckets ? nbuckets * 2 : 1024;
	struct entry **ids = calloc(n, sizeof(*ids));
	struct entry **paths = calloc(n, sizeof(*paths));
	if (!ids || !paths) {
		free(ids);
		free(paths);
		return;
	}
	struct entry **old = by_id, **old_paths = by_path;
	size_t old_n = nbuckets;
	by_id = ids;
	by_path = paths;
	nbuckets = n;
	for (size_t i = 0; i < old_n; i++) {
		struct entry *e = old[i];
		while (e) {
			struct entry *next = e->next_by_id;
			link_entry(e);
			e = next;
		}
	}
	free(old);
	free(old_paths);
}

static void unlink_entry(struct entry *e)
{
	list_del(&e->idle);
	struct entry **p = &by_id[hash_id(e->id) & (nbuckets - 1)];
	while (*p != e)
		p = &(*p)->next_by_id;
	*p = e->next_by_id;
	if (e->detached)
		return;
	p = &by_path[e->path_hash & (nbuckets - 1)];
	while (*p != e)
		p = &(*p)->next_by_path;
	*p = e->next_by_path;
}

/* A new entry for path with refs references; NULL when out of memory. */
static struct entry *add(const char *path, size_t h, uint64_t id, uint64_t refs)
{
	if (count >= nbuckets)
		grow();
	if (!nbuckets)
		return NULL;
	size_t len = strlen(path);
	struct entry *e = malloc(sizeof(*e) + len + 1);
	if (!e)
		return NULL;
	e->id = id;
	e->refs = refs;
	e->path_hash = h;
	e->detached = 0;
	e->used_ms = clock_mono_ms();
	e->idle.prev = e->idle.next = &e->idle;
	memcpy(e->path, path, len + 1);
	link_entry(e);
	count++;
	return e;
}

int inodes_init(void)
{
	pthread_mutex_lock(&lock);
	/* The kernel never forgets the root: its count never reaches 0. */
	struct entry *root = find_id(INODES_ROOT);
	if (!root)
		root = add("/", hash_str("/"), INODES_ROOT, UINT64_MAX);
	pthread_mutex_unlock(&lock);
	return root ? 0 : -ENOMEM;
}

void inodes_cleanup(void)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < nbuckets; i++) {
		struct entry *e = by_id[i];
		while (e) {
			struct entry *next = e->next_by_id;
			free(e);
			e = next;
		}
	}
	free(by_id);
	free(by_path);
	by_id = by_path = NULL;
	transient.prev = transient.next = &transient;
	nbuckets = count = 0;
	pthread_mutex_unlock(&lock);
}

/* Newest at the tail: the head is the one unused the longest. */
static void mark_used(struct entry *e, long now)
{
	e->used_ms = now;
	list_del(&e->idle);
	list_add(transient.prev, &e->idle);
}

int inodes_path(uint64_t id, char *buf, size_t size)
{
	return inodes_child_path(id, NULL, buf, size);
}

int inodes_child_path(uint64_t parent, const char *name, char *buf, size_t size)
{
	int err = 0;
	pthread_mutex_lock(&lock);
	struct entry *e = find_id(parent);
	/* A request about it or inside it (a process working in it) is a
	 * use as much as a LOOKUP of its name. */
	if (e && !list_empty(&e->idle))
		mark_used(e, clock_mono_ms());
	if (!e) {
		err = -ESTALE;
	} else {
		size_t plen = strlen(e->path);
		/* "/" + "x" is "/x", not "//x". */
		if (name && plen == 1)
			plen = 0;
		size_t nlen = name ? strlen(name) + 1 : 0;
		if (plen + nlen + 1 > size) {
			err = -ENAMETOOLONG;
		} else {
			memcpy(buf, e->path, plen);
			if (name) {
				buf[plen] = '/';
				memcpy(buf + plen + 1, name, nlen - 1);
			}
			buf[plen + nlen] = '\0';
		}
	}
	pthread_mutex_unlock(&lock);
	return err;
}

uint64_t inodes_ref(const char *path, unsigned flags)
{
	size_t h = hash_str(path);
	uint64_t id = 0;
	pthread_mutex_lock(&lock);
	struct entry *e = find_path(path, h);
	if (e) {
		if (e->refs != UINT64_MAX)
			e->refs++;
		id = e->id;
	} else if ((e = add(path, h, next_id, 1))) {
		id = next_id++;
	}
	if (e && (flags & INODES_TRANSIENT))
		mark_used(e, clock_mono_ms());
	pthread_mutex_unlock(&lock);
	return id;
}

size_t inodes_take_idle(long unused_since_ms, size_t max, struct buf *paths)
{
	size_t n = 0;
	long now = clock_mono_ms();
	/* What is offered counts as used now: past now, it would be met
	 * again in this walk. */
	if (unused_since_ms > now)
		unused_since_ms = now;
	pthread_mutex_lock(&lock);
	while (n < max && !list_empty(&transient)) {
		struct entry *e =
			list_entry(transient.next, struct entry, idle);
		if (e->used_ms >= unused_since_ms)
			break;
		/* Offered once per idle period: if the kernel keeps it (a
		 * process works in it), it is offered again after another. */
		mark_used(e, now);
		if (e->detached)
			continue;
		if (buf_append(paths, e->path, strlen(e->path) + 1))
			break;
		n++;
	}
	pthread_mutex_unlock(&lock);
	return n;
}

void inodes_forget(uint64_t id, uint64_t n)
{
	pthread_mutex_lock(&lock);
	struct entry *e = find_id(id);
	if (e && e->refs != UINT64_MAX) {
		e->refs = n < e->refs ? e->refs - n : 0;
		if (!e->refs) {
			unlink_entry(e);
			count--;
			free(e);
		}
	}
	pthread_mutex_unlock(&lock);
}

/* Takes e out of by_path: lookups of its path no longer find it, while
 * requests for its id still name that path. Under lock. */
static void detach(struct entry *e)
{
	struct entry **p = &by_path[e->path_hash & (nbuckets - 1)];
	while (*p != e)
		p = &(*p)->next_by_path;
	*p = e->next_by_path;
	e->detached = 1;
}

void inodes_detach(const char *path)
{
	pthread_mutex_lock(&lock);
	struct entry *e = find_path(path, hash_str(path));
	if (e && e->refs != UINT64_MAX)
		detach(e);
	pthread_mutex_unlock(&lock);
}

int inodes_rename(const char *from, const char *to)
{
	size_t h = hash_str(to), len = strlen(to);
	struct entry *moved = malloc(sizeof(*moved) + len + 1);
	if (!moved)
		return -ENOMEM;
	int err = 0;
	pthread_mutex_lock(&lock);
	struct entry *e = find_path(from, hash_str(from));
	struct entry *old = find_path(to, h);
	if (!e || e->refs == UINT64_MAX) {
		err = -ENOENT;
	} else if (e != old) {
		if (old && old->refs != UINT64_MAX)
			detach(old);
		/* Same id and count under the new path: the kernel moved its
		 * dentry and keeps the inode. */
		unlink_entry(e);
		*moved = *e;
		moved->idle.prev = moved->idle.next = &moved->idle;
		moved->path_hash = h;
		moved->detached = 0;
		memcpy(moved->path, to, len + 1);
		link_entry(moved);
		free(e);
		moved = NULL;
	}
	pthread_mutex_unlock(&lock);
	free(moved);
	return err;
}

size_t inodes_count(void)
{
	pthread_mutex_lock(&lock);
	size_t n = count;
	pthread_mutex_unlock(&lock);
	return n;
}
