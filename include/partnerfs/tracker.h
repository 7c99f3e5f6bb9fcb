/* tracker: the operations this mount knows (started here or seen in a
 * listing) and the poller threads that follow each non-terminal one to its
 * end, through the backend's poll(). Each operation has a scope (a string
 * the backend chooses, e.g. "<publisher>/<offer>") and an id unique in its
 * scope. Knows nothing of FUSE nor of any API: state changes are reported
 * to a listener. */
#ifndef PARTNERFS_TRACKER_H
#define PARTNERFS_TRACKER_H

#include <stddef.h>
#include <time.h>

#include "partnerfs/backend.h"

#define TRACKER_STATE_MAX BACKEND_STATE_MAX

/* Called on a poller thread after every state change, without locks. */
typedef void (*tracker_listener_fn)(const char *scope, const char *id,
				    const char *old_state,
				    const char *new_state);

/* retention_s: how long an operation that ended stays known. */
void tracker_init(const struct backend *be, double poll_interval_s,
		  double retention_s, tracker_listener_fn listener);
int tracker_start(void);
/* Stops and joins the pollers. */
void tracker_stop(void);
void tracker_cleanup(void);

/* Registers an operation this mount started. url is absolute. It becomes
 * its scope's latest and is polled at once. */
int tracker_add_started(const char *scope, const char *id, const char *url);

/* One operation of a listing. */
struct tracker_seen {
	const char *id;
	const char *url;
	const char *state;
};
/* Merges a listing of the scope's operations (newest first): unknown ones
 * are added with their listed state and non-terminal ones polled. */
int tracker_merge_listing(const char *scope, const struct tracker_seen *seen,
			  size_t count);
/* An answer about the operation that came another way than a poll (a
 * cancel's answer): stored as a poll's would be, watchers told of a
 * change; takes p->doc. 0, or -ENOENT for an unknown operation. */
int tracker_report(const char *scope, const char *id, struct backend_poll *p);
/* Polls every non-terminal operation of the scope at once. */
void tracker_poll_scope_now(const char *scope);

/* A copy of what is known about one operation. */
struct op_view {
	char state[TRACKER_STATE_MAX];
	time_t mtime; /* last change of state or document */
	char *url;
	char *doc; /* last operation document, NULL if never fetched */
	size_t doc_len;
};
void op_view_free(struct op_view *v);

/* 0, or -ENOENT for an operation the tracker does not know. */
int tracker_get(const char *scope, const char *id, struct op_view *out);
/* Fetches the operation document now when none was fetched yet (an
 * operation seen only in a listing). 0 or -errno. */
int tracker_fetch_doc(const char *scope, const char *id);
/* Calls fn for each known operation of the scope. */
int tracker_each(const char *scope, int (*fn)(void *ctx, const char *id),
		 void *ctx);
/* The newest operation: the last one this mount started, else the first of
 * the latest listing. -ENOENT when there is none. */
int tracker_latest(const char *scope, char *id, size_t size);
/* The state of a terminal operation. 0, -EAGAIN while it is not over
 * (nothing waits here: the listener says when to ask again), -ENOENT. */
int tracker_terminal_state(const char *scope, const char *id, char *state,
			   size_t size);

/* Tracked and active (non-terminal) counts, polls made. */
void tracker_stats(unsigned long *tracked, unsigned long *active,
		   unsigned long *polls);

#endif
