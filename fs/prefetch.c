/* prefetch.c: background fetches of a file kind in the siblings of a
 * directory a reader walks through (see prefetch.h). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "partnerfs/cache.h"
#include "partnerfs/clock.h"
#include "partnerfs/log.h"
#include "partnerfs/prefetch.h"
#include "partnerfs/tree.h"

#define PREFETCH_THREADS_MAX 64
#define PATH_LEN 4096
/* Queued nodes at most: a listing of 10,000 offers is 10,000 statuses. */
#define QUEUE_MAX 20000
/* Recent opens remembered, one per reading thread. */
#define READERS 64
/* A directory and kind is prefetched at most this often (s), at least. */
#define RETRIGGER_MIN_S 5.0
#define TRIGGERS 64

struct reader {
	pid_t tid;
	struct node last;
};

struct trigger {
	const struct node_type *row;
	char dir[PATH_LEN];
	double at;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t work;
	char **queue; /* ring of QUEUE_MAX paths (a node is kilobytes) */
	size_t head, count;
	struct reader readers[READERS];
	size_t next_reader;
	struct trigger triggers[TRIGGERS];
	size_t next_trigger;
	int max, limit, active, running;
	double pause_until; /* monotonic: backing off after EAGAIN */
	pthread_t threads[PREFETCH_THREADS_MAX];
	int nthreads;
	unsigned long done, throttled, dropped;
} pf = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* The capture index in which a and b (same row) differ, when they differ
 * in exactly one; else -1. */
static int sibling_axis(const struct node *a, const struct node *b)
{
	int axis = -1;
	for (int i = 0; i < NODE_CAPS; i++) {
		if (strcmp(a->cap[i], b->cap[i]) == 0)
			continue;
		if (axis >= 0)
			return -1;
		axis = i;
	}
	return axis;
}

/* The path of the directory that lists capture axis of n's row: the
 * row's pattern up to the component holding that capture. */
static int axis_dir(const struct node *n, int axis, char *buf, size_t size)
{
	size_t used = 0;
	int caps = 0;
	const char *p = n->type->pattern;
	while (*p == '/') {
		const char *comp = p + 1, *end = strchr(comp, '/');
		size_t len = end ? (size_t)(end - comp) : strlen(comp);
		const char *brace = memchr(comp, '{', len);
		if (brace && caps == axis)
			break;
		const char *piece = comp;
		size_t piece_len = len;
		if (brace) {
			piece = n->cap[caps++];
			piece_len = strlen(piece);
		}
		if (used + piece_len + 2 > size)
			return -ENAMETOOLONG;
		buf[used++] = '/';
		memcpy(buf + used, piece, piece_len);
		used += piece_len;
		p = comp + len;
	}
	if (used == 0)
		buf[used++] = '/';
	buf[used] = '\0';
	return 0;
}

/* Whether row in dir was prefetched recently; if not, it is now. */
static int trigger_seen_locked(const struct node_type *row, const char *dir)
{
	double now = clock_mono_s();
	double again = cache_ttl_s() > RETRIGGER_MIN_S ? cache_ttl_s()
						       : RETRIGGER_MIN_S;
	for (size_t i = 0; i < TRIGGERS; i++) {
		struct trigger *t = &pf.triggers[i];
		if (t->row == row && strcmp(t->dir, dir) == 0 &&
		    now - t->at < again)
			return 1;
	}
	struct trigger *t = &pf.triggers[pf.next_trigger++ % TRIGGERS];
	t->row = row;
	snprintf(t->dir, sizeof(t->dir), "%s", dir);
	t->at = now;
	return 0;
}

struct fill_ctx {
	const struct node *like; /* the file just opened */
	const struct node *before;
	int axis;
};

static void queue_locked(const struct node *n)
{
	char path[PATH_LEN], *copy = NULL;
	if (pf.count < QUEUE_MAX &&
	    tree_path(n->type, n, path, sizeof(path)) == 0)
		copy = strdup(path);
	if (!copy) {
		pf.dropped++;
		return;
	}
	pf.queue[(pf.head + pf.count++) % QUEUE_MAX] = copy;
}

/* Each sibling directory of the listing: the same file kind in it. */
static int queue_sibling(void *arg, const char *name, const struct node *child)
{
	(void)name;
	struct fill_ctx *fc = arg;
	const char *id = child->cap[fc->axis];
	if (!S_ISDIR(child->type->mode) || !id[0] ||
	    strcmp(id, fc->like->cap[fc->axis]) == 0 ||
	    strcmp(id, fc->before->cap[fc->axis]) == 0)
		return 0;
	struct node n = *fc->like;
	memcpy(n.cap[fc->axis], id, sizeof(n.cap[fc->axis]));
	pthread_mutex_lock(&pf.lock);
	queue_locked(&n);
	pthread_cond_signal(&pf.work);
	pthread_mutex_unlock(&pf.lock);
	return 0;
}

void prefetch_note_read(pid_t tid, const struct node *n)
{
	if (!S_ISDIR(n->type->mode) &&
	    (!n->type->show || (n->type->flags & (NODE_LIVE | NODE_BLOCKING))))
		return;
	struct node before;
	int axis = -1;
	char dir[PATH_LEN];
	pthread_mutex_lock(&pf.lock);
	if (!pf.running) {
		pthread_mutex_unlock(&pf.lock);
		return;
	}
	struct reader *r = NULL;
	for (size_t i = 0; i < READERS && !r; i++)
		if (pf.readers[i].tid == tid)
			r = &pf.readers[i];
	if (!r) {
		r = &pf.readers[pf.next_reader++ % READERS];
		r->tid = tid;
		r->last.type = NULL;
	}
	if (r->last.type == n->type) {
		before = r->last;
		axis = sibling_axis(&before, n);
	}
	r->last = *n;
	if (axis >= 0 && (axis_dir(n, axis, dir, sizeof(dir)) != 0 ||
			  trigger_seen_locked(n->type, dir)))
		axis = -1;
	pthread_mutex_unlock(&pf.lock);
	if (axis < 0)
		return;
	/* The second sibling: list the directory (cached: the reader's shell
	 * just listed it to expand its glob) and queue the rest. */
	struct node d;
	struct fill_ctx fc = {n, &before, axis};
	if (tree_match(dir, &d) == 0)
		tree_list(&d, queue_sibling, &fc);
}

/* A prefetched listing is only wanted in the cache. */
static int ignore_entry(void *ctx, const char *name, const struct node *child)
{
	(void)ctx;
	(void)name;
	(void)child;
	return 0;
}

/* Waits for a node to fetch and a free place under the limit. 0 when
 * stopping. */
static int take_locked(char **out)
{
	for (;;) {
		if (!pf.running)
			return 0;
		double wait = pf.pause_until - clock_mono_s();
		if (pf.count && pf.active < pf.limit && wait <= 0)
			break;
		struct timespec until = clock_deadline_in(wait > 0 ? wait : 1);
		pthread_cond_timedwait(&pf.work, &pf.lock, &until);
	}
	*out = pf.queue[pf.head];
	pf.head = (pf.head + 1) % QUEUE_MAX;
	pf.count--;
	pf.active++;
	return 1;
}

static void *prefetch_worker(void *unused)
{
	(void)unused;
	struct node n;
	char *path;
	pthread_mutex_lock(&pf.lock);
	while (take_locked(&path)) {
		pthread_mutex_unlock(&pf.lock);
		struct content c = {0};
		cache_scope_begin();
		cache_scope_prefetch(1);
		int err = tree_match(path, &n);
		if (!err)
			err = S_ISDIR(n.type->mode)
				      ? tree_list(&n, ignore_entry, NULL)
				      : n.type->show(&n, &c);
		cache_scope_prefetch(0);
		content_free(&c);
		free(path);
		pthread_mutex_lock(&pf.lock);
		pf.active--;
		pf.done++;
		if (err == -EAGAIN) {
			/* The server is throttling: it is not worth a
			 * user's read failing for a read nobody asked for. */
			pf.throttled++;
			pf.limit = pf.limit > 1 ? pf.limit / 2 : 1;
			pf.pause_until = clock_mono_s() + 2.0;
		} else if (!err && pf.limit < pf.max) {
			pf.limit++;
		}
		pthread_cond_broadcast(&pf.work);
	}
	pthread_mutex_unlock(&pf.lock);
	return NULL;
}

int prefetch_start(int max_in_flight)
{
	if (max_in_flight <= 0 || cache_ttl_s() < 1)
		return 0;
	if (max_in_flight > PREFETCH_THREADS_MAX)
		max_in_flight = PREFETCH_THREADS_MAX;
	pf.queue = calloc(QUEUE_MAX, sizeof(*pf.queue));
	if (!pf.queue)
		return -ENOMEM;
	clock_cond_init(&pf.work);
	pf.max = pf.limit = max_in_flight;
	pf.running = 1;
	for (int i = 0; i < max_in_flight; i++) {
		int rc = pthread_create(&pf.threads[i], NULL, prefetch_worker,
					NULL);
		if (rc) {
			prefetch_stop();
			return -rc;
		}
		pf.nthreads++;
	}
	return 0;
}

void prefetch_stop(void)
{
	pthread_mutex_lock(&pf.lock);
	pf.running = 0;
	pthread_cond_broadcast(&pf.work);
	pthread_mutex_unlock(&pf.lock);
	for (int i = 0; i < pf.nthreads; i++)
		pthread_join(pf.threads[i], NULL);
	pf.nthreads = 0;
	for (; pf.queue && pf.count; pf.count--) {
		free(pf.queue[pf.head]);
		pf.head = (pf.head + 1) % QUEUE_MAX;
	}
	free(pf.queue);
	pf.queue = NULL;
}

void prefetch_render_stats(struct buf *out)
{
	pthread_mutex_lock(&pf.lock);
	buf_printf(out,
		   "prefetch_queued %zu\nprefetch_fetched %lu\n"
		   "prefetch_used %lu\nprefetch_throttled %lu\n"
		   "prefetch_dropped %lu\nprefetch_skipped %lu\n",
		   pf.count, pf.done, cache_prefetch_used(), pf.throttled,
		   pf.dropped, cache_prefetch_skipped());
	pthread_mutex_unlock(&pf.lock);
}
