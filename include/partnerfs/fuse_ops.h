/* fuse_ops: the FUSE callbacks (libfuse's low-level API). Each resolves
 * the node id to a path (inodes.h), the path to a node, and delegates to
 * the node's row; none knows of HTTP. */
#ifndef PARTNERFS_FUSE_OPS_H
#define PARTNERFS_FUSE_OPS_H

#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>

extern const struct fuse_lowlevel_ops partnerfs_ops;

/* The session the callbacks serve: a blocked `wait` ends when it exits.
 * Call before the loop starts. */
void fuse_ops_bind_session(struct fuse_session *se);

/* An operation changed state: poll(2) callers waiting on a `wait` file
 * whose operation is now over are told it is readable. Call from a thread
 * that is not serving a FUSE request. */
void fuse_ops_wake_pollers(void);

#endif
