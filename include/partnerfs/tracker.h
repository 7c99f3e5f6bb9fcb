/* tracker: the operations this mount knows (started here or seen in a
 * listing) and the poller thread that follows each non-terminal one to its
 * end through its operation URL. Knows nothing of FUSE: state changes are
 * reported to a listener. */
#ifndef PARTNERFS_TRACKER_H
#define PARTNERFS_TRACKER_H

#include <stddef.h>
#include <time.h>

#include "partnerfs/model.h"

#define TRACKER_STATE_MAX 64

/* Called on the poller thread after every state change, without locks. */
typedef void (*tracker_listener_fn)(const char *pub, const char *offer,
				    const char *id, const char *old_state,
				    const char *new_state);

void tracker_init(double poll_interval_s, tracker_listener_fn listener);
int tracker_start(void);
/* Stops and joins the poller; waiters return. */
void tracker_stop(void);
void tracker_cleanup(void);

/* Registers an operation this mount started (a 202). url is absolute.
 * It becomes the offer's latest and is polled at once. */
int tracker_add_started(const char *pub, const char *offer, const char *id,
			const char *url);
/* Merges a submissions listing (newest first): unknown operations are
 * added with their listed state and non-terminal ones polled. */
int tracker_merge_listing(const char *pub, const char *offer,
			  const struct submission_list *list);
/* Polls every non-terminal operation of the offer at once (after a
 * synchronous cancel). */
void tracker_poll_offer_now(const char *pub, const char *offer);

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
int tracker_get(const char *pub, const char *offer, const char *id,
		struct op_view *out);
/* Fetches the operation document now when none was fetched yet (an
 * operation seen only in a listing). 0 or -errno. */
int tracker_fetch_doc(const char *pub, const char *offer, const char *id);
/* Calls fn for each known operation of the offer. */
int tracker_each(const char *pub, const char *offer,
		 int (*fn)(void *ctx, const char *id), void *ctx);
/* The newest operation: the last one this mount started, else the first of
 * the latest listing. -ENOENT when there is none. */
int tracker_latest(const char *pub, const char *offer, char *id, size_t size);
/* Blocks until the operation is terminal and copies its state. -EAGAIN if
 * nonblock and not terminal, -EINTR when interrupted() says so, -ESHUTDOWN
 * when the tracker stops. */
int tracker_wait_terminal(const char *pub, const char *offer, const char *id,
			  int nonblock, int (*interrupted)(void), char *state,
			  size_t size);

/* Tracked and active (non-terminal) counts, polls made. */
void tracker_stats(unsigned long *tracked, unsigned long *active,
		   unsigned long *polls);

#endif
