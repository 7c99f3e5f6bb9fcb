/* fuse_attr.h: what the low-level callbacks (fuse_ops.c, fuse_dir.c)
 * share: node id -> node, a node's attributes, and how long the kernel
 * may keep them; and the xattr callbacks. Private to fs/. */
#ifndef PARTNERFS_FUSE_ATTR_H
#define PARTNERFS_FUSE_ATTR_H

#include <limits.h>
#include <sys/stat.h>

#include "partnerfs/fuse_ops.h"
#include "partnerfs/nodes.h"

/* Room for any path the kernel can name under the mount. */
#define PFS_PATH_MAX PATH_MAX

/* The node of id (tree_resolve of its path). 0 or -errno. */
int pfs_attr_node(fuse_ino_t id, struct node *out);

/* Full attributes: st_size is exactly what a read returns (of snapshot
 * when given, else of what show() gives now). 0 or -errno. */
int pfs_attr_fill(const struct node *n, const struct content *snapshot,
		  struct stat *st);
/* What a LOOKUP answers: full attributes for directories and symlinks,
 * for files only what needs no document (their attributes expire at
 * once, so the kernel asks GETATTR before using them). */
int pfs_attr_fill_lookup(const struct node *n, struct stat *st);

/* Seconds the kernel may keep id's attributes. */
double pfs_attr_timeout(fuse_ino_t id, const struct node *n);

/* Makes *e the entry of n (attributes st) at path: an id the kernel now
 * holds one reference to, and its timeouts. 0 or -ENOMEM. */
int pfs_attr_entry(const char *path, const struct node *n,
		   const struct stat *st, struct fuse_entry_param *e);

/* user.partnerfs.url and user.partnerfs.etag of files with a document. */
void pfs_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
		  size_t size);
void pfs_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size);

#endif
