/* fuse_refuse.c: the callbacks that always say no. Nothing is created,
 * renamed, linked, removed or re-moded: the API has no such calls, so
 * each answers EPERM at once and sends nothing. */
#include <errno.h>

#include "fuse_refuse.h"

static void refuse(fuse_req_t req)
{
	fuse_reply_err(req, EPERM);
}

void pfs_refuse_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode)
{
	(void)parent;
	(void)name;
	(void)mode;
	refuse(req);
}

void pfs_refuse_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, dev_t rdev)
{
	(void)rdev;
	pfs_refuse_mkdir(req, parent, name, mode);
}

void pfs_refuse_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		       mode_t mode, struct fuse_file_info *fi)
{
	(void)fi;
	pfs_refuse_mkdir(req, parent, name, mode);
}

void pfs_refuse_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	(void)parent;
	(void)name;
	refuse(req);
}

void pfs_refuse_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		       fuse_ino_t newparent, const char *newname,
		       unsigned int flags)
{
	(void)newparent;
	(void)newname;
	(void)flags;
	pfs_refuse_unlink(req, parent, name);
}

void pfs_refuse_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
			const char *name)
{
	(void)link;
	pfs_refuse_unlink(req, parent, name);
}

void pfs_refuse_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		     const char *newname)
{
	(void)ino;
	pfs_refuse_unlink(req, newparent, newname);
}

void pfs_refuse_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			 const char *value, size_t size, int flags)
{
	(void)value;
	(void)size;
	(void)flags;
	pfs_refuse_removexattr(req, ino, name);
}

void pfs_refuse_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	(void)ino;
	(void)name;
	refuse(req);
}

/* chmod and chown. */
int pfs_refuse_setattr(int to_set)
{
	if (to_set &
	    (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID))
		return -EPERM;
	return 0;
}
