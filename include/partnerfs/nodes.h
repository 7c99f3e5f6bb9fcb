/* nodes: the table of file kinds. Each row is one kind of file or
 * directory: its path pattern, mode, and how it is shown (read), stored
 * (written), listed and checked for existence, in the spirit of sysfs
 * attributes. Adding a file is adding a row. Knows nothing of FUSE. */
#ifndef PARTNERFS_NODES_H
#define PARTNERFS_NODES_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "partnerfs/ident.h"

enum node_flag {
	NODE_HIDDEN = 1 << 0,	 /* resolvable by name, never listed */
	NODE_DIRECT_IO = 1 << 1, /* no page cache: content is not fixed */
	NODE_BLOCKING = 1 << 2,	 /* reads may wait (only `wait`) */
	NODE_WRITABLE = 1 << 3,	 /* writes go to store() */
	NODE_LINES = 1 << 5,	 /* store() as soon as a write() completes a
				  * line, inside that write() */
	NODE_LIVE = 1 << 4,	 /* read() shows the current content, not a
				  * snapshot taken at open() (append-only) */
};

struct node {
	const struct node_type *type;
	char pub[IDENT_MAX + 1];
	char offer[IDENT_MAX + 1];
	char name[IDENT_MAX + 1]; /* operation id, version, ... */
};

/* What a read returns; fixed from open() to release(). */
struct content {
	char *data;
	size_t len;
	time_t mtime;
	char *etag; /* for user.partnerfs.etag; NULL when none */
	char *url;  /* for user.partnerfs.url; NULL when none */
};
void content_free(struct content *c);

/* Called for each child when listing: name and its resolved node. */
typedef int (*node_fill_fn)(void *ctx, const char *name,
			    const struct node *child);

struct node_type {
	/* "/publishers/{pub}/offers/{offer}/status": {pub}, {offer} and
	 * {name} capture one component (an optional literal suffix such as
	 * "{name}.json" is part of the pattern, not of the capture). */
	const char *pattern;
	mode_t mode;
	unsigned flags;
	const char *arg; /* row argument: control action, slot name, ... */
	/* For rows with a capture as last component: 0 if the captured name
	 * exists, else -ENOENT/-EACCES/... NULL: always. */
	int (*exists)(const struct node *n);
	/* Names of this row's instances under parent (capture rows). */
	int (*list)(const struct node *parent, node_fill_fn fill, void *ctx);
	/* Files: the content. Directories (optional): its mtime. */
	int (*show)(const struct node *n, struct content *out);
	/* Writable files: one complete input; read is what the writer's
	 * handle showed at open (its etag guards a PUT). 0 or -errno. */
	int (*store)(const struct node *n, const struct content *read,
		     const char *data, size_t len);
	/* Symlinks: the target. */
	int (*link)(const struct node *n, char *buf, size_t size);
	/* Blocking reads (NODE_BLOCKING): wait for content; nonblock gives
	 * -EAGAIN instead of waiting; interrupted() ends the wait with
	 * -EINTR. */
	int (*wait)(const struct node *n, int nonblock,
		    int (*interrupted)(void), struct content *out);
};

extern const struct node_type node_types[];
extern const size_t node_type_count;

/* Time the mount started: the mtime of directories without their own. */
extern time_t node_mount_time;

#endif
