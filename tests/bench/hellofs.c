/** @file
 * hellofs: the floor the benchmark compares partnerfs against — the
 * smallest libfuse high-level filesystem that serves the same paths.
 *
 * Every path whose last component is "status" is a file holding
 * "succeeded\n"; every other path is a directory. So
 * /publishers/contoso/offers/contoso-vm/status exists here at the same
 * depth as on partnerfs, and a stat or an open of it costs exactly the
 * kernel's round trips and libfuse's path handling, nothing else.
 *
 *   hellofs -f -o attr_timeout=0,entry_timeout=1 /tmp/hello &
 *   stat /tmp/hello/publishers/contoso/offers/contoso-vm/status
 *
 * The timeouts come from the command line (libfuse's own -o options), so
 * the bench can give it partnerfs's consistency policy (attr_timeout=0) or
 * the kernel cache (the default 1 s) and say which one it compared with.
 */
#define FUSE_USE_VERSION 314
#include <errno.h>
#include <fuse.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char content[] = "succeeded\n";

static int is_file(const char *path)
{
	const char *last = strrchr(path, '/');
	return last && strcmp(last + 1, "status") == 0;
}

static int hello_getattr(const char *path, struct stat *st,
			 struct fuse_file_info *fi)
{
	(void)fi;
	memset(st, 0, sizeof(*st));
	st->st_uid = getuid();
	st->st_gid = getgid();
	if (is_file(path)) {
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
		st->st_size = sizeof(content) - 1;
	} else {
		st->st_mode = S_IFDIR | 0555;
		st->st_nlink = 2;
	}
	return 0;
}

static int hello_readdir(const char *path, void *buf, fuse_fill_dir_t filler,
			 off_t off, struct fuse_file_info *fi,
			 enum fuse_readdir_flags flags)
{
	(void)path;
	(void)off;
	(void)fi;
	(void)flags;
	filler(buf, ".", NULL, 0, 0);
	filler(buf, "..", NULL, 0, 0);
	filler(buf, "status", NULL, 0, 0);
	return 0;
}

static int hello_open(const char *path, struct fuse_file_info *fi)
{
	if (!is_file(path))
		return -EISDIR;
	if ((fi->flags & O_ACCMODE) != O_RDONLY)
		return -EACCES;
	return 0;
}

static int hello_read(const char *path, char *buf, size_t size, off_t off,
		      struct fuse_file_info *fi)
{
	(void)path;
	(void)fi;
	size_t len = sizeof(content) - 1;
	if ((size_t)off >= len)
		return 0;
	if (size > len - (size_t)off)
		size = len - (size_t)off;
	memcpy(buf, content + off, size);
	return (int)size;
}

static const struct fuse_operations hello_ops = {
	.getattr = hello_getattr,
	.readdir = hello_readdir,
	.open = hello_open,
	.read = hello_read,
};

int main(int argc, char *argv[])
{
	return fuse_main(argc, argv, &hello_ops, NULL);
}
