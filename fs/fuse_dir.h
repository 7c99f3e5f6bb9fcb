/* fuse_dir.h: fuse_ops.c's table entries for names and directories
 * (fuse_dir.c). Private to fs/. */
#ifndef PARTNERFS_FUSE_DIR_H
#define PARTNERFS_FUSE_DIR_H

#include "partnerfs/fuse_ops.h"

void pfs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name);
void pfs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup);
void pfs_forget_multi(fuse_req_t req, size_t count,
		      struct fuse_forget_data *forgets);
void pfs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void pfs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		 struct fuse_file_info *fi);
void pfs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		     struct fuse_file_info *fi);
void pfs_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void pfs_readlink(fuse_req_t req, fuse_ino_t ino);
void pfs_statfs(fuse_req_t req, fuse_ino_t ino);

/* Frees the directory handles the kernel did not release (the session
 * ended with a directory open). After the loop's workers are joined. */
void pfs_dir_cleanup(void);

#endif
