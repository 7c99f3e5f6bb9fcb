/* fuse_ops: the FUSE callbacks. Each resolves the path to a node and
 * delegates to the node's row; none knows of HTTP. */
#ifndef PARTNERFS_FUSE_OPS_H
#define PARTNERFS_FUSE_OPS_H

#define FUSE_USE_VERSION 314
#include <fuse.h>

extern const struct fuse_operations partnerfs_ops;

/* An operation changed state: poll(2) callers waiting on a `wait` file
 * whose operation is now over are told it is readable. Call from a thread
 * that is not serving a FUSE request. */
void fuse_ops_wake_pollers(void);

#endif
