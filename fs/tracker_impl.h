/* tracker_impl.h: what the operation table (tracker.c) and the pollers
 * (tracker_poll.c) share. Private to fs/. The table and its operations
 * are under tracker.lock; be, interval, retention and listener are set by
 * tracker_init before any poller runs, so they are read without it. */
#ifndef PARTNERFS_TRACKER_IMPL_H
#define PARTNERFS_TRACKER_IMPL_H

#include <pthread.h>
#include <stddef.h>
#include <time.h>

#include "partnerfs/backend.h"
#include "partnerfs/list.h"
#include "partnerfs/tracker.h"

#define OP_BUCKETS 4096
#define SCOPE_BUCKETS 1024

struct scope_ops;

struct op {
	struct op *hnext;	   /* in its hash bucket */
	struct list_link in_scope; /* its scope's operations */
	struct list_link by_state; /* tracker.active, or .ended by end time */
	struct scope_ops *scope;
	char *id, *url;
	char state[TRACKER_STATE_MAX];
	int terminal; /* state is terminal; kept so scans compare no words */
	char *doc;
	size_t doc_len;
	time_t mtime;
	double next_poll; /* monotonic seconds */
	double ended_at;  /* monotonic, when it became terminal */
	int errors;
	int polling;
	/* Answers stored from outside the pollers (tracker_report): a poll
	 * that began before one must not overwrite it with older news. */
	unsigned long reports;
	unsigned long started_seq; /* > 0: started by this mount, in order */
};

/* Per scope: its operations, and which one the latest listing put first.
 * Scopes are few (one per offer seen) and kept for the mount's life. */
struct scope_ops {
	struct scope_ops *hnext;
	char *name;
	char *latest_listed;
	struct list_link ops;
};

struct tracker {
	pthread_mutex_t lock;
	pthread_cond_t work; /* new work or stop: wakes pollers */
	struct op *buckets[OP_BUCKETS];
	struct scope_ops *scopes[SCOPE_BUCKETS];
	struct list_link active, ended;
	unsigned long count, active_count;
	const struct backend *be;
	double interval, retention;
	tracker_listener_fn listener;
	unsigned long seq, polls;
};
extern struct tracker tracker;

/* Operations that ended longer than the retention ago: the server's
 * listing still shows them, the mount need not. */
void tracker_sweep_locked(double now);
/* Stores a poll's document and state into the op (taking p->doc);
 * returns whether the state changed (old state copied to old_state). */
int op_update_locked(struct op *o, struct backend_poll *p, char *old_state);
/* One GET of an operation through the backend; called without the lock,
 * which no request holds. A NULL url is a copy the caller could not
 * make: -ENOMEM. */
int tracker_fetch(const char *url, struct backend_poll *p);

#endif
