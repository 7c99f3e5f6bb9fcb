/* fuse_refuse.c: the callbacks that always say no. Nothing is created,
 * renamed, linked, removed or re-moded: the API has no such calls, so
 * each answers EPERM at once and sends nothing. */
#include <errno.h>

#include "fuse_refuse.h"

int pfs_refuse_path(const char *path, mode_t mode)
{
	(void)path;
	(void)mode;
	return -EPERM;
}

int pfs_refuse_unlink(const char *path)
{
	(void)path;
	return -EPERM;
}

int pfs_refuse_rename(const char *from, const char *to, unsigned int flags)
{
	(void)from;
	(void)to;
	(void)flags;
	return -EPERM;
}

/* link, symlink (two paths) and removexattr (path, name). */
int pfs_refuse_two_names(const char *a, const char *b)
{
	(void)a;
	(void)b;
	return -EPERM;
}

int pfs_refuse_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	(void)fi;
	return pfs_refuse_path(path, mode);
}

int pfs_refuse_mknod(const char *path, mode_t mode, dev_t dev)
{
	(void)dev;
	return pfs_refuse_path(path, mode);
}

int pfs_refuse_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	(void)fi;
	return pfs_refuse_path(path, mode);
}

int pfs_refuse_chown(const char *path, uid_t uid, gid_t gid,
		     struct fuse_file_info *fi)
{
	(void)path;
	(void)uid;
	(void)gid;
	(void)fi;
	return -EPERM;
}

int pfs_refuse_setxattr(const char *path, const char *name, const char *value,
			size_t size, int flags)
{
	(void)path;
	(void)name;
	(void)value;
	(void)size;
	(void)flags;
	return -EPERM;
}
