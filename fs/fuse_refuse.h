/* fuse_refuse.h: fuse_ops.c's table entries for what partnerfs refuses
 * (EPERM). Private to fs/. */
#ifndef PARTNERFS_FUSE_REFUSE_H
#define PARTNERFS_FUSE_REFUSE_H

#include "partnerfs/fuse_ops.h"

int pfs_refuse_path(const char *path, mode_t mode);
int pfs_refuse_unlink(const char *path);
int pfs_refuse_rename(const char *from, const char *to, unsigned int flags);
int pfs_refuse_two_names(const char *a, const char *b);
int pfs_refuse_create(const char *path, mode_t mode, struct fuse_file_info *fi);
int pfs_refuse_mknod(const char *path, mode_t mode, dev_t dev);
int pfs_refuse_chmod(const char *path, mode_t mode, struct fuse_file_info *fi);
int pfs_refuse_chown(const char *path, uid_t uid, gid_t gid,
		     struct fuse_file_info *fi);
int pfs_refuse_setxattr(const char *path, const char *name, const char *value,
			size_t size, int flags);

#endif
