/* fuse_refuse.h: fuse_ops.c's table entries for what partnerfs refuses
 * (EPERM). Private to fs/. */
#ifndef PARTNERFS_FUSE_REFUSE_H
#define PARTNERFS_FUSE_REFUSE_H

#include "partnerfs/fuse_ops.h"

void pfs_refuse_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode);
void pfs_refuse_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, dev_t rdev);
void pfs_refuse_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		       mode_t mode, struct fuse_file_info *fi);
/* unlink and rmdir. */
void pfs_refuse_unlink(fuse_req_t req, fuse_ino_t parent, const char *name);
void pfs_refuse_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		       fuse_ino_t newparent, const char *newname,
		       unsigned int flags);
void pfs_refuse_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
			const char *name);
void pfs_refuse_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		     const char *newname);
void pfs_refuse_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			 const char *value, size_t size, int flags);
void pfs_refuse_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name);

/* For setattr: -EPERM when to_set changes the mode or the owner, else 0
 * (sizes and times are fuse_ops.c's). */
int pfs_refuse_setattr(int to_set);

#endif
