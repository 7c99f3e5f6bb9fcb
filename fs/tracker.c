/* tracker.c: the operations this mount knows (see tracker.h); the
 * pollers that follow the non-terminal ones are in tracker_poll.c.
 *
 * Memory follows what is live: an operation is found by (scope, id) in a
 * hash table, lives on its scope's list, and on one of two lists by
 * state: the active ones (what the pollers scan) or the ended ones in
 * the order they ended, from whose head the retention sweep drops those
 * older than `retention` seconds. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "partnerfs/buf.h"
#include "partnerfs/clock.h"
#include "partnerfs/list.h"
#include "partnerfs/tracker.h"
#include "tracker_impl.h"

struct tracker tracker = {.lock = PTHREAD_MUTEX_INITIALIZER,
			  .active = LIST_INIT(tracker.active),
			  .ended = LIST_INIT(tracker.ended)};

static unsigned hash_str(unsigned h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return (h ^ 0xff) * 16777619u; /* ends a string: "a"+"bc" != "ab"+"c" */
}

static struct op **op_bucket(const char *scope, const char *id)
{
	return &tracker.buckets[hash_str(hash_str(2166136261u, scope), id) %
				OP_BUCKETS];
}

static struct scope_ops **scope_bucket(const char *scope)
{
	return &tracker.scopes[hash_str(2166136261u, scope) % SCOPE_BUCKETS];
}

static struct scope_ops *scope_find_locked(const char *scope, int create)
{
	struct scope_ops **b = scope_bucket(scope);
	for (struct scope_ops *f = *b; f; f = f->hnext)
		if (strcmp(f->name, scope) == 0)
			return f;
	if (!create)
		return NULL;
	struct scope_ops *f = calloc(1, sizeof(*f));
	if (!f || !(f->name = strdup(scope))) {
		free(f);
		return NULL;
	}
	f->ops = (struct list_link)LIST_INIT(f->ops);
	f->hnext = *b;
	*b = f;
	return f;
}

static struct op *op_find_locked(const char *scope, const char *id)
{
	for (struct op *o = *op_bucket(scope, id); o; o = o->hnext)
		if (strcmp(o->id, id) == 0 &&
		    strcmp(o->scope->name, scope) == 0)
			return o;
	return NULL;
}

/* Moves o to the list its state belongs on. */
static void op_set_state(struct op *o, const char *state, int terminal)
{
	snprintf(o->state, sizeof(o->state), "%s", state);
	if (terminal == o->terminal)
		return;
	o->terminal = terminal;
	list_del(&o->by_state);
	if (terminal) {
		o->ended_at = clock_mono_s();
		list_add(tracker.ended.prev, &o->by_state); /* at the tail */
		tracker.active_count--;
	} else {
		list_add(&tracker.active, &o->by_state);
		tracker.active_count++;
	}
}

static void op_free(struct op *o)
{
	free(o->id);
	free(o->url);
	free(o->doc);
	free(o);
}

static struct op *op_new_locked(const char *scope, const char *id,
				const char *url, const char *state)
{
	struct scope_ops *f = scope_find_locked(scope, 1);
	struct op *o = f ? calloc(1, sizeof(*o)) : NULL;
	if (!o)
		return NULL;
	o->id = strdup(id);
	o->url = strdup(url);
	if (!o->id || !o->url) {
		op_free(o);
		return NULL;
	}
	o->scope = f;
	list_add(f->ops.prev, &o->in_scope);
	struct op **b = op_bucket(scope, id);
	o->hnext = *b;
	*b = o;
	/* Start as active, then move to where the state says. */
	list_add(&tracker.active, &o->by_state);
	tracker.count++;
	tracker.active_count++;
	op_set_state(o, state, tracker.be->state_is_terminal(state));
	o->mtime = time(NULL);
	o->next_poll = clock_mono_s();
	return o;
}

static void op_drop_locked(struct op *o)
{
	struct op **p = op_bucket(o->scope->name, o->id);
	while (*p != o)
		p = &(*p)->hnext;
	*p = o->hnext;
	list_del(&o->in_scope);
	list_del(&o->by_state);
	tracker.count--;
	op_free(o);
}

void tracker_sweep_locked(double now)
{
	while (!list_empty(&tracker.ended)) {
		struct op *o =
			list_entry(tracker.ended.next, struct op, by_state);
		if (o->ended_at + tracker.retention > now || o->polling)
			break;
		op_drop_locked(o);
	}
}

int tracker_add_started(const char *scope, const char *id, const char *url)
{
	pthread_mutex_lock(&tracker.lock);
	struct op *o = op_find_locked(scope, id);
	if (!o)
		o = op_new_locked(scope, id, url, "notStarted");
	if (!o) {
		pthread_mutex_unlock(&tracker.lock);
		return -ENOMEM;
	}
	/* An idempotent publish answers with the running operation's URL:
	 * same operation, now also the latest one started here. */
	o->started_seq = ++tracker.seq;
	o->next_poll = clock_mono_s();
	pthread_cond_broadcast(&tracker.work);
	pthread_mutex_unlock(&tracker.lock);
	return 0;
}

int tracker_merge_listing(const char *scope, const struct tracker_seen *seen,
			  size_t count)
{
	int err = 0;
	pthread_mutex_lock(&tracker.lock);
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
	pthread_cond_broadcast(&tracker.work);
out:
	pthread_mutex_unlock(&tracker.lock);
	return err;
}

void tracker_poll_scope_now(const char *scope)
{
	pthread_mutex_lock(&tracker.lock);
	struct scope_ops *f = scope_find_locked(scope, 0);
	for (struct list_link *l = f ? f->ops.next : NULL; l && l != &f->ops;
	     l = l->next) {
		struct op *o = list_entry(l, struct op, in_scope);
		if (!o->terminal)
			o->next_poll = clock_mono_s();
	}
	pthread_cond_broadcast(&tracker.work);
	pthread_mutex_unlock(&tracker.lock);
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
	pthread_mutex_lock(&tracker.lock);
	struct op *o = op_find_locked(scope, id);
	if (!o) {
		pthread_mutex_unlock(&tracker.lock);
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
	pthread_mutex_unlock(&tracker.lock);
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
	struct buf ids = BUF_INIT;
	int err = 0;
	pthread_mutex_lock(&tracker.lock);
	struct scope_ops *f = scope_find_locked(scope, 0);
	for (struct list_link *l = f ? f->ops.next : NULL;
	     l && l != &f->ops && !err; l = l->next) {
		struct op *o = list_entry(l, struct op, in_scope);
		err = buf_append(&ids, o->id, strlen(o->id) + 1);
	}
	pthread_mutex_unlock(&tracker.lock);
	for (size_t off = 0; !err && off < ids.len;
	     off += strlen(ids.data + off) + 1)
		err = fn(ctx, ids.data + off);
	buf_free(&ids);
	return err;
}

int tracker_latest(const char *scope, char *id, size_t size)
{
	const char *best = NULL;
	unsigned long best_seq = 0;
	pthread_mutex_lock(&tracker.lock);
	struct scope_ops *f = scope_find_locked(scope, 0);
	for (struct list_link *l = f ? f->ops.next : NULL; l && l != &f->ops;
	     l = l->next) {
		struct op *o = list_entry(l, struct op, in_scope);
		if (o->started_seq > best_seq) {
			best_seq = o->started_seq;
			best = o->id;
		}
	}
	if (!best && f)
		best = f->latest_listed;
	int err = best ? 0 : -ENOENT;
	if (best)
		snprintf(id, size, "%s", best);
	pthread_mutex_unlock(&tracker.lock);
	return err;
}

int tracker_terminal_state(const char *scope, const char *id, char *state,
			   size_t size)
{
	pthread_mutex_lock(&tracker.lock);
	struct op *o = op_find_locked(scope, id);
	int err = !o ? -ENOENT : !o->terminal ? -EAGAIN : 0;
	if (!err)
		snprintf(state, size, "%s", o->state);
	pthread_mutex_unlock(&tracker.lock);
	return err;
}

int op_update_locked(struct op *o, struct backend_poll *p, char *old_state)
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

/* Stores an answer that came from outside the pollers and tells the
 * listener of a change. only_first: keep what a poll has stored. */
static int tracker_store(const char *scope, const char *id,
			 struct backend_poll *p, int only_first)
{
	char old[TRACKER_STATE_MAX];
	pthread_mutex_lock(&tracker.lock);
	struct op *o = op_find_locked(scope, id);
	int changed =
		o && !(only_first && o->doc) ? op_update_locked(o, p, old) : 0;
	if (o && !only_first)
		o->reports++;
	pthread_mutex_unlock(&tracker.lock);
	free(p->doc);
	p->doc = NULL;
	if (changed && tracker.listener)
		tracker.listener(scope, id, old, p->state);
	return o ? 0 : -ENOENT;
}

int tracker_report(const char *scope, const char *id, struct backend_poll *p)
{
	return tracker_store(scope, id, p, 0);
}

int tracker_fetch(const char *url, struct backend_poll *p)
{
	memset(p, 0, sizeof(*p));
	p->retry_after_s = -1;
	return url ? tracker.be->poll(url, p) : -ENOMEM;
}

int tracker_fetch_doc(const char *scope, const char *id)
{
	pthread_mutex_lock(&tracker.lock);
	struct op *o = op_find_locked(scope, id);
	char *url = o && !o->doc ? strdup(o->url) : NULL;
	pthread_mutex_unlock(&tracker.lock);
	if (!o)
		return -ENOENT;
	if (!url)
		return 0;
	struct backend_poll p;
	int err = tracker_fetch(url, &p);
	free(url);
	if (err) {
		free(p.doc);
		return err;
	}
	/* Only fill in what the poller has not: never move its state. */
	tracker_store(scope, id, &p, 1);
	return 0;
}

void tracker_init(const struct backend *be, double poll_interval_s,
		  double retention_s, tracker_listener_fn listener)
{
	clock_cond_init(&tracker.work);
	tracker.be = be;
	tracker.interval = poll_interval_s;
	tracker.retention = retention_s;
	tracker.listener = listener;
}

void tracker_cleanup(void)
{
	pthread_mutex_lock(&tracker.lock);
	for (size_t b = 0; b < OP_BUCKETS; b++)
		while (tracker.buckets[b])
			op_drop_locked(tracker.buckets[b]);
	for (size_t b = 0; b < SCOPE_BUCKETS; b++)
		while (tracker.scopes[b]) {
			struct scope_ops *f = tracker.scopes[b];
			tracker.scopes[b] = f->hnext;
			free(f->name);
			free(f->latest_listed);
			free(f);
		}
	tracker.active_count = 0;
	pthread_mutex_unlock(&tracker.lock);
}

void tracker_stats(unsigned long *tracked, unsigned long *active,
		   unsigned long *polls)
{
	pthread_mutex_lock(&tracker.lock);
	*tracked = tracker.count;
	*active = tracker.active_count;
	*polls = tracker.polls;
	pthread_mutex_unlock(&tracker.lock);
}
