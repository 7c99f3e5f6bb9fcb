/* tracker.c: known operations and the poller threads that follow the
 * non-terminal ones (see tracker.h). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "partnerfs/buf.h"
#include "partnerfs/clock.h"
#include "partnerfs/log.h"
#include "partnerfs/tracker.h"

/* Polls run on a few threads so that one slow operation URL does not hold
 * up the others, while the API sees bounded concurrency. A thread polls at
 * most interval / latency operations per interval: 16 keep 1,000
 * operations within a 5 s interval at 20 ms (plus transfer) per request,
 * where 4 managed 200 per second at best (tests/bench/README.md). */
#define POLL_THREADS 16
/* After errors the interval doubles up to this, unless the backend says. */
#define POLL_BACKOFF_MAX_S 60.0

struct op {
	struct op *next;
	char *scope, *id, *url;
	char state[TRACKER_STATE_MAX];
	int terminal; /* state is terminal; kept so scans compare no words */
	char *doc;
	size_t doc_len;
	time_t mtime;
	double next_poll; /* monotonic seconds */
	int errors;
	int polling;
	unsigned long started_seq; /* > 0: started by this mount, in order */
};

/* Per scope: which operation the latest listing put first. */
struct scope_ops {
	struct scope_ops *next;
	char *scope;
	char *latest_listed;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t changed; /* state changes: wakes waiters */
	pthread_cond_t work;	/* new work or stop: wakes pollers */
	struct op *ops;
	struct scope_ops *scopes;
	const struct backend *be;
	double interval;
	tracker_listener_fn listener;
	int running;
	pthread_t threads[POLL_THREADS];
	int nthreads;
	unsigned long seq, polls;
} tr = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int op_is_terminal(const struct op *o)
{
	return o->terminal;
}

static void op_set_state(struct op *o, const char *state, int terminal)
{
	snprintf(o->state, sizeof(o->state), "%s", state);
	o->terminal = terminal;
}

static int op_is(const struct op *o, const char *scope)
{
	return strcmp(o->scope, scope) == 0;
}

static struct op *op_find_locked(const char *scope, const char *id)
{
	for (struct op *o = tr.ops; o; o = o->next)
		if (op_is(o, scope) && strcmp(o->id, id) == 0)
			return o;
	return NULL;
}

static void op_free(struct op *o)
{
	free(o->scope);
	free(o->id);
	free(o->url);
	free(o->doc);
	free(o);
}

static struct op *op_new_locked(const char *scope, const char *id,
				const char *url, const char *state)
{
	struct op *o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	o->scope = strdup(scope);
	o->id = strdup(id);
	o->url = strdup(url);
	if (!o->scope || !o->id || !o->url) {
		op_free(o);
		return NULL;
	}
	op_set_state(o, state, tr.be->state_is_terminal(state));
	o->mtime = time(NULL);
	o->next_poll = clock_mono_s();
	o->next = tr.ops;
	tr.ops = o;
	return o;
}

static struct scope_ops *scope_find_locked(const char *scope, int create)
{
	for (struct scope_ops *f = tr.scopes; f; f = f->next)
		if (strcmp(f->scope, scope) == 0)
			return f;
	if (!create)
		return NULL;
	struct scope_ops *f = calloc(1, sizeof(*f));
	if (!f || !(f->scope = strdup(scope))) {
		free(f);
		return NULL;
	}
	f->next = tr.scopes;
	tr.scopes = f;
	return f;
}

int tracker_add_started(const char *scope, const char *id, const char *url)
{
	pthread_mutex_lock(&tr.lock);
	struct op *o = op_find_locked(scope, id);
	if (!o)
		o = op_new_locked(scope, id, url, "notStarted");
	if (!o) {
		pthread_mutex_unlock(&tr.lock);
		return -ENOMEM;
	}
	/* An idempotent publish answers with the running operation's URL:
	 * same operation, now also the latest one started here. */
	o->started_seq = ++tr.seq;
	o->next_poll = clock_mono_s();
	pthread_cond_broadcast(&tr.work);
	pthread_mutex_unlock(&tr.lock);
	return 0;
}

int tracker_merge_listing(const char *scope, const struct tracker_seen *seen,
			  size_t count)
{
	int err = 0;
	pthread_mutex_lock(&tr.lock);
	struct scope_ops *f = scope_find_locked(scope, 1);
	if (!f) {
		err = -ENOMEM;
		goto out;
	}
	free(f->latest_listed);
	f->latest_listed = count ? strdup(seen[0].id) : NULL;
	for (size_t i = 0; i < count; i++) {
		if (op_find_locked(scope, seen[i].id))
			continue; /* the poller's state is newer */
		if (!op_new_locked(scope, seen[i].id, seen[i].url,
				   seen[i].state)) {
			err = -ENOMEM;
			break;
		}
	}
	pthread_cond_broadcast(&tr.work);
out:
	pthread_mutex_unlock(&tr.lock);
	return err;
}

void tracker_poll_scope_now(const char *scope)
{
	pthread_mutex_lock(&tr.lock);
	for (struct op *o = tr.ops; o; o = o->next)
		if (op_is(o, scope) && !op_is_terminal(o))
			o->next_poll = clock_mono_s();
	pthread_cond_broadcast(&tr.work);
	pthread_mutex_unlock(&tr.lock);
}

void op_view_free(struct op_view *v)
{
	free(v->url);
	free(v->doc);
	v->url = v->doc = NULL;
}

int tracker_get(const char *scope, const char *id, struct op_view *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&tr.lock);
	struct op *o = op_find_locked(scope, id);
	if (!o) {
		pthread_mutex_unlock(&tr.lock);
		return -ENOENT;
	}
	memcpy(out->state, o->state, sizeof(out->state));
	out->mtime = o->mtime;
	out->url = strdup(o->url);
	int nomem = !out->url;
	if (o->doc) {
		out->doc = malloc(o->doc_len + 1);
		nomem |= !out->doc;
		if (out->doc) {
			memcpy(out->doc, o->doc, o->doc_len + 1);
			out->doc_len = o->doc_len;
		}
	}
	/* Decided under the lock: the poller may give o a document the
	 * moment it is released. */
	pthread_mutex_unlock(&tr.lock);
	if (nomem) {
		op_view_free(out);
		return -ENOMEM;
	}
	return 0;
}

int tracker_each(const char *scope, int (*fn)(void *ctx, const char *id),
		 void *ctx)
{
	/* Copy the ids first: fn may be slow (it fills a FUSE buffer). */
	pthread_mutex_lock(&tr.lock);
	size_t n = 0, count = 0;
	for (struct op *o = tr.ops; o; o = o->next)
		n += op_is(o, scope);
	char **ids = calloc(n + 1, sizeof(char *));
	for (struct op *o = tr.ops; o && ids; o = o->next)
		if (op_is(o, scope))
			ids[count++] = strdup(o->id);
	pthread_mutex_unlock(&tr.lock);
	if (!ids)
		return -ENOMEM;
	int err = 0;
	for (size_t i = 0; i < count && !err; i++)
		if (ids[i])
			err = fn(ctx, ids[i]);
	for (size_t i = 0; i < count; i++)
		free(ids[i]);
	free(ids);
	return err;
}

int tracker_latest(const char *scope, char *id, size_t size)
{
	const char *best = NULL;
	unsigned long best_seq = 0;
	pthread_mutex_lock(&tr.lock);
	for (struct op *o = tr.ops; o; o = o->next)
		if (op_is(o, scope) && o->started_seq > best_seq) {
			best_seq = o->started_seq;
			best = o->id;
		}
	if (!best) {
		struct scope_ops *f = scope_find_locked(scope, 0);
		if (f)
			best = f->latest_listed;
	}
	int err = best ? 0 : -ENOENT;
	if (best)
		snprintf(id, size, "%s", best);
	pthread_mutex_unlock(&tr.lock);
	return err;
}

int tracker_wait_terminal(const char *scope, const char *id, int nonblock,
			  int (*interrupted)(void), char *state, size_t size)
{
	int err = 0;
	pthread_mutex_lock(&tr.lock);
	for (;;) {
		struct op *o = op_find_locked(scope, id);
		if (!o) {
			err = -ENOENT;
			break;
		}
		if (op_is_terminal(o)) {
			snprintf(state, size, "%s", o->state);
			break;
		}
		if (nonblock) {
			err = -EAGAIN;
			break;
		}
		if (!tr.running) {
			err = -ESHUTDOWN;
			break;
		}
		if (interrupted && interrupted()) {
			err = -EINTR;
			break;
		}
		/* Wake up now and then to notice an interrupt: FUSE tells
		 * us of one only through interrupted(). */
		struct timespec until = clock_deadline_in(0.1);
		pthread_cond_timedwait(&tr.changed, &tr.lock, &until);
	}
	pthread_mutex_unlock(&tr.lock);
	return err;
}

/* Stores a poll's document and state into the op (taking p->doc);
 * returns whether the state changed (old state copied to old_state). */
static int op_update_locked(struct op *o, struct backend_poll *p,
			    char *old_state)
{
	int changed = strcmp(o->state, p->state) != 0;
	int doc_changed = !o->doc || o->doc_len != p->doc_len ||
			  memcmp(o->doc, p->doc, p->doc_len) != 0;
	memcpy(old_state, o->state, TRACKER_STATE_MAX);
	op_set_state(o, p->state, p->terminal);
	free(o->doc);
	o->doc = p->doc;
	o->doc_len = p->doc_len;
	p->doc = NULL;
	if (changed || doc_changed)
		o->mtime = time(NULL);
	return changed;
}

static int tracker_fetch(const char *url, struct backend_poll *p)
{
	memset(p, 0, sizeof(*p));
	p->retry_after_s = -1;
	return url ? tr.be->poll(url, p) : -ENOMEM;
}

int tracker_fetch_doc(const char *scope, const char *id)
{
	pthread_mutex_lock(&tr.lock);
	struct op *o = op_find_locked(scope, id);
	char *url = o && !o->doc ? strdup(o->url) : NULL;
	pthread_mutex_unlock(&tr.lock);
	if (!o)
		return -ENOENT;
	if (!url)
		return 0;
	char old[TRACKER_STATE_MAX];
	struct backend_poll p;
	int err = tracker_fetch(url, &p);
	free(url);
	if (err) {
		free(p.doc);
		return err;
	}
	pthread_mutex_lock(&tr.lock);
	o = op_find_locked(scope, id);
	int changed = 0;
	/* Only fill in what the poller has not: never move its state. */
	if (o && !o->doc)
		changed = op_update_locked(o, &p, old);
	free(p.doc);
	if (changed)
		pthread_cond_broadcast(&tr.changed);
	pthread_mutex_unlock(&tr.lock);
	if (changed && tr.listener)
		tr.listener(scope, id, old, p.state);
	return 0;
}

int tracker_report(const char *scope, const char *id, struct backend_poll *p)
{
	char old[TRACKER_STATE_MAX];
	pthread_mutex_lock(&tr.lock);
	struct op *o = op_find_locked(scope, id);
	int changed = o ? op_update_locked(o, p, old) : 0;
	if (changed)
		pthread_cond_broadcast(&tr.changed);
	pthread_mutex_unlock(&tr.lock);
	free(p->doc);
	p->doc = NULL;
	if (changed && tr.listener)
		tr.listener(scope, id, old, p->state);
	return o ? 0 : -ENOENT;
}

/* The due, idle, non-terminal operation polled longest ago; or NULL and
 * the time until the next one is due. */
static struct op *next_due_locked(double now, double *wait_s)
{
	struct op *best = NULL;
	*wait_s = tr.interval > 0 ? tr.interval : 1.0;
	for (struct op *o = tr.ops; o; o = o->next) {
		if (o->polling || op_is_terminal(o))
			continue;
		if (o->next_poll <= now) {
			if (!best || o->next_poll < best->next_poll)
				best = o;
		} else if (o->next_poll - now < *wait_s) {
			*wait_s = o->next_poll - now;
		}
	}
	return best;
}

/* base: when this poll was due, so that an operation is polled every
 * interval and not every interval plus the time the request took. */
static void tracker_poll_once(struct op *o, double base)
{
	char *url = strdup(o->url);
	char *scope = strdup(o->scope), *id = strdup(o->id);
	pthread_mutex_unlock(&tr.lock);

	char old[TRACKER_STATE_MAX];
	struct backend_poll p;
	int err = tracker_fetch(url, &p);
	long retry_after = p.retry_after_s;

	pthread_mutex_lock(&tr.lock);
	tr.polls++;
	o->polling = 0;
	int changed = 0;
	double delay = tr.interval;
	if (err) {
		o->errors++;
		double most = tr.be->poll_backoff_max_s > 0
				      ? tr.be->poll_backoff_max_s
				      : POLL_BACKOFF_MAX_S;
		for (int i = 0; i < o->errors && delay < most; i++)
			delay *= 2;
		if (delay > most)
			delay = most;
		log_warn("polling operation %s of %s failed: %s", id,
			 scope ? scope : "?", strerror(-err));
	} else {
		o->errors = 0;
		changed = op_update_locked(o, &p, old);
		/* The server may ask to come back sooner (doc/design.md §3); a
		 * longer Retry-After must not delay what watchers see past
		 * poll_interval, and 0 would make the poller spin. */
		if (retry_after > 0 && (double)retry_after < delay)
			delay = (double)retry_after;
	}
	/* Counted from when the poll was due; but a request slower than the
	 * interval must not make us poll back to back, and a backoff runs
	 * from the failure. */
	double end = clock_mono_s();
	double soonest = err ? end + delay : end + delay / 2;
	o->next_poll = base + delay > soonest ? base + delay : soonest;
	if (changed)
		pthread_cond_broadcast(&tr.changed);
	pthread_mutex_unlock(&tr.lock);

	if (changed && tr.listener && scope && id)
		tr.listener(scope, id, old, p.state);
	free(p.doc);
	free(url);
	free(scope);
	free(id);
	pthread_mutex_lock(&tr.lock);
}

static void *tracker_poller(void *unused)
{
	(void)unused;
	pthread_mutex_lock(&tr.lock);
	while (tr.running) {
		double wait_s;
		double now = clock_mono_s();
		struct op *o = next_due_locked(now, &wait_s);
		if (o) {
			o->polling = 1;
			/* Far behind (a busy server): start afresh, rather
			 * than polling back to back to catch up. */
			tracker_poll_once(o, now - o->next_poll < tr.interval
						     ? o->next_poll
						     : now);
			continue;
		}
		struct timespec until = clock_deadline_in(wait_s);
		pthread_cond_timedwait(&tr.work, &tr.lock, &until);
	}
	pthread_mutex_unlock(&tr.lock);
	return NULL;
}

void tracker_init(const struct backend *be, double poll_interval_s,
		  tracker_listener_fn listener)
{
	clock_cond_init(&tr.changed);
	clock_cond_init(&tr.work);
	tr.be = be;
	tr.interval = poll_interval_s;
	tr.listener = listener;
}

int tracker_start(void)
{
	pthread_mutex_lock(&tr.lock);
	tr.running = 1;
	pthread_mutex_unlock(&tr.lock);
	for (int i = 0; i < POLL_THREADS; i++) {
		int rc = pthread_create(&tr.threads[i], NULL, tracker_poller,
					NULL);
		if (rc) {
			tracker_stop();
			return -rc;
		}
		tr.nthreads++;
	}
	return 0;
}

void tracker_stop(void)
{
	pthread_mutex_lock(&tr.lock);
	tr.running = 0;
	pthread_cond_broadcast(&tr.work);
	pthread_cond_broadcast(&tr.changed);
	pthread_mutex_unlock(&tr.lock);
	for (int i = 0; i < tr.nthreads; i++)
		pthread_join(tr.threads[i], NULL);
	tr.nthreads = 0;
}

void tracker_cleanup(void)
{
	pthread_mutex_lock(&tr.lock);
	while (tr.ops) {
		struct op *o = tr.ops;
		tr.ops = o->next;
		op_free(o);
	}
	while (tr.scopes) {
		struct scope_ops *f = tr.scopes;
		tr.scopes = f->next;
		free(f->scope);
		free(f->latest_listed);
		free(f);
	}
	pthread_mutex_unlock(&tr.lock);
}

void tracker_stats(unsigned long *tracked, unsigned long *active,
		   unsigned long *polls)
{
	*tracked = *active = 0;
	pthread_mutex_lock(&tr.lock);
	for (struct op *o = tr.ops; o; o = o->next) {
		(*tracked)++;
		*active += !op_is_terminal(o);
	}
	*polls = tr.polls;
	pthread_mutex_unlock(&tr.lock);
}
