/* fuse_ops: the FUSE callbacks (libfuse's low-level API). Each resolves
 * the node id to a path (inodes.h), the path to a node, and delegates to
 * the node's row; none knows of HTTP. */
#ifndef PARTNERFS_FUSE_OPS_H
#define PARTNERFS_FUSE_OPS_H

#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>

extern const struct fuse_lowlevel_ops partnerfs_ops;

/* Something a `wait` file waits for changed (an operation's state): kept
 * reads that can be answered now are, and poll(2) callers are told the
 * file is readable. Never waits for the kernel; any thread. */
void fuse_ops_wake_waiters(void);

#endif
