/* backend: the whole contract between the shared machinery and one API.
 *
 * The FUSE layer, inodes, the node-table engine, the cache, http, rest,
 * auth, the tracker and its poller, notify, options and log know no API;
 * a backend (fs/<name>/) is everything they need to know of one:
 *   - its rows of the node table (the tree it shows, with the show/store
 *     functions behind each file kind);
 *   - its options, start-up probe and the auth resource of its tokens;
 *   - how one operation is polled (its URL -> state word, terminal or
 *     not, the document shown), and what a change of an operation touches
 *     (its events line, the paths watchers must see change).
 * Operations are kept by the tracker under a scope, a string the backend
 * chooses ("<publisher>/<offer>" for CPP) and gives back in changed().
 * See doc/architecture.md. */
#ifndef PARTNERFS_BACKEND_H
#define PARTNERFS_BACKEND_H

#include <stddef.h>

#include "partnerfs/buf.h"
#include "partnerfs/config.h"
#include "partnerfs/nodes.h"

#define BACKEND_STATE_MAX 64

/* One poll of one operation. */
struct backend_poll {
	char state[BACKEND_STATE_MAX]; /* the word `status` shows */
	int terminal;
	char *doc; /* the operation's document as shown; malloc'd */
	size_t doc_len;
	long retry_after_s; /* -1: the server said nothing */
};

/* What one state change must make visible. */
struct backend_change {
	struct buf events; /* events lines (after their time stamp), each
			    * ending in NUL: one per directory it concerns */
	struct buf paths;  /* paths below the mountpoint, each ending in NUL */
};

struct backend {
	const char *name;  /* what -o api= names */
	const char *usage; /* its lines of -h: endpoint, own options */
	/* Whether an endpoint is this API's when api= is not given. NULL:
	 * never (it is then the default only if it is the first). */
	int (*claims)(const char *endpoint);
	const struct node_type *rows;
	size_t row_count;
	const char *auth_resource; /* Azure AD resource of its tokens */
	/* Fills what the user left out (api_version, poll_interval,
	 * retention) and checks the backend's own options. 0, or -1 with a one-line reason
	 * in why (nothing has been sent). */
	int (*configure)(struct pfs_config *c, char *why, size_t size);
	int (*init)(const struct pfs_config *c);
	void (*cleanup)(void);
	/* One request that proves endpoint and credentials, before the mount.
	 * 0, or -errno with the reason (one line) in why. */
	int (*probe)(char *why, size_t size);
	/* After the tracker is up, before the first poll: registers again
	 * what a previous mount started (a state file). NULL: nothing. */
	int (*resume)(void);
	/* GETs the operation at url. 0 and out filled, or -errno (the
	 * operation is then polled again later, with backoff). */
	int (*poll)(const char *url, struct backend_poll *out);
	/* The longest wait between polls after errors; 0: 60 s. */
	double poll_backoff_max_s;
	/* Whether a state word (as a listing gives it) is terminal. */
	int (*state_is_terminal)(const char *state);
	/* Operation id of scope went from old_state to new_state: drops the
	 * cached documents that moved with it and fills out. Runs on a
	 * poller thread, without locks. */
	void (*changed)(const char *scope, const char *id,
			const char *old_state, const char *new_state,
			struct backend_change *out);
	/* Its own lines of .partnerfs/config ("publishers=...\n"), after
	 * the endpoint, api_version and auth lines. */
	void (*describe)(struct buf *out);
};

/* Backend i, in the order -h lists them; NULL past the last. */
const struct backend *backend_at(size_t i);
/* The backend -o api=name selects; NULL when there is none of that name. */
const struct backend *backend_by_name(const char *name);
/* The backend an endpoint implies when api= is not given. */
const struct backend *backend_for_endpoint(const char *endpoint);
/* Every backend's name, separated by ", ", for messages and -h. */
const char *backend_names(void);

/* The mounted backend: set once, before the mount. */
extern const struct backend *backend;

#endif
