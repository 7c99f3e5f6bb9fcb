/* fuse_ops: the FUSE callbacks. Each resolves the path to a node and
 * delegates to the node's row; none knows of HTTP. */
#ifndef PARTNERFS_FUSE_OPS_H
#define PARTNERFS_FUSE_OPS_H

#define FUSE_USE_VERSION 314
#include <fuse.h>

extern const struct fuse_operations partnerfs_ops;

#endif
