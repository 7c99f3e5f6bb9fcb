/* nodes: the table of file kinds, and what a row's functions may use.
 * Each row is one kind of file or directory: its path pattern, mode, and
 * how it is shown (read), stored (written), listed and checked for
 * existence, in the spirit of sysfs attributes. The rows of a mount are
 * the shared ones (the root, events, .partnerfs/) and its backend's
 * (backend.h). Adding a file is adding a row. Knows nothing of FUSE. */
#ifndef PARTNERFS_NODES_H
#define PARTNERFS_NODES_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "partnerfs/buf.h"
#include "partnerfs/cache.h"
#include "partnerfs/ident.h"

enum node_flag {
	NODE_HIDDEN = 1 << 0,	 /* resolvable by name, never listed */
	NODE_DIRECT_IO = 1 << 1, /* no page cache: content is not fixed */
	NODE_BLOCKING = 1 << 2,	 /* reads wait until wait() is ready */
	NODE_WRITABLE = 1 << 3,	 /* writes go to store() */
	NODE_LIVE = 1 << 4,	 /* read() shows the current content, not a
				  * snapshot taken at open() (append-only) */
	NODE_LINES = 1 << 5,	 /* store() as soon as a write() completes a
				  * line, inside that write() */
	NODE_TRANSIENT = 1 << 6, /* a directory whose instances come and go
				  * for good (an operation, a job): the
				  * kernel is made to drop one it has not
				  * looked up for a while (fuse_evict.h) */
};

/* Captures per path: a pattern has at most this many "{...}" (a resource
 * file of the ingestion backend is a few levels below its product). */
#define NODE_CAPS 12

struct node {
	const struct node_type *type;
	/* The captured components, in the order of the pattern's
	 * "{...}": in "/publishers/{pub}/offers/{offer}", cap[0] is the
	 * publisher and cap[1] the offer. */
	char cap[NODE_CAPS][IDENT_MAX + 1];
};

/* What a read returns; fixed from open() to release(). */
struct content {
	char *data;
	size_t len;
	time_t mtime;
	char *etag; /* for user.partnerfs.etag; NULL when none */
	char *url;  /* for user.partnerfs.url; NULL when none */
	char *id;   /* for user.partnerfs.id (the API's own id of what the
		     * file shows); NULL when none */
};
void content_free(struct content *c);
/* A copy of data (NUL-terminated). 0 or -ENOMEM. */
int content_set(struct content *c, const char *data, size_t len, time_t mtime);
/* The doc's text as shown, with its mtime, etag and url. */
int content_from_doc(struct content *c, const struct doc *d);

/* Called for each child when listing: name and its resolved node. */
typedef int (*node_fill_fn)(void *ctx, const char *name,
			    const struct node *child);

struct node_type {
	/* "/publishers/{pub}/offers/{offer}/status": each "{...}" captures
	 * one component (a literal suffix such as "{name}.json" is part of
	 * the pattern, not of the capture); the name inside the braces is
	 * for the reader. */
	const char *pattern;
	mode_t mode;
	unsigned flags;
	const char *arg; /* row argument: control action, slot name, ... */
	/* For rows with a capture as last component: 0 if the captured name
	 * exists, else -ENOENT/-EACCES/... NULL: always. */
	int (*exists)(const struct node *n);
	/* Capture rows: the instances of row under parent, each handed to
	 * node_fill_child(row, parent, id, fill, ctx). */
	int (*list)(const struct node_type *row, const struct node *parent,
		    node_fill_fn fill, void *ctx);
	/* Files: the content. Directories (optional): its mtime. */
	int (*show)(const struct node *n, struct content *out);
	/* Writable files: one complete input; read is what the writer's
	 * handle showed at open (its etag guards a PUT). 0 or -errno. */
	int (*store)(const struct node *n, const struct content *read,
		     const char *data, size_t len);
	/* Symlinks: the target. */
	int (*link)(const struct node *n, char *buf, size_t size);
	/* Blocking reads (NODE_BLOCKING): the content once it is ready,
	 * else -EAGAIN. Never blocks: the FUSE layer keeps the read and
	 * asks again when fuse_ops_wake_waiters() says something changed. */
	int (*wait)(const struct node *n, struct content *out);
};

/* The backend's rows join the shared ones (before the mount). */
void nodes_set_backend_rows(const struct node_type *rows, size_t count);
/* Row i of the mounted tree, i < nodes_count(): the root first, then the
 * backend's rows, then the other shared ones. */
size_t nodes_count(void);
const struct node_type *nodes_row(size_t i);

/* For list(): hands fill the child of parent that row names with id (the
 * row's last capture), its entry named id plus the row's suffix. An id
 * that cannot be a name is skipped (0), never turned into a path. */
int node_fill_child(const struct node_type *row, const struct node *parent,
		    const char *id, node_fill_fn fill, void *ctx);

/* For a list() that walks ids with a callback: node_list_id(&lister, id)
 * is node_fill_child(lister.row, lister.parent, id, ...). */
struct node_lister {
	const struct node_type *row;
	const struct node *parent;
	node_fill_fn fill;
	void *ctx;
};
int node_list_id(void *lister, const char *id);

/* Lines a layer above adds to .partnerfs/stats (the FUSE layer's). */
void node_meta_add_stats(void (*render)(struct buf *out));

/* Time the mount started: the mtime of directories without their own. */
extern time_t node_mount_time;

#endif
