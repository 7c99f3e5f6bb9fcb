/* fuse_attr.c: attributes, their timeouts, and extended attributes. The
 * kernel keeps names and attributes for as long as each reply says, so the
 * timeout is per kind of node:
 * - files and symlinks: attributes 0 s, because a stale st_size would cut
 *   a read of a status that just grew, and they come from memory anyway;
 *   names 1 s;
 * - directories below the root: attributes and names for cache_ttl, as
 *   long as their listing is cached. They have no size to go stale, and
 *   `ls -l` of 10,000 offers then makes no round trip per entry;
 * - the root: attributes 0 s, so that `stat` of the mountpoint of a dead
 *   daemon says ENOTCONN at once instead of a cached answer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuse_attr.h"
#include "partnerfs/buf.h"
#include "partnerfs/cache.h"
#include "partnerfs/config.h"
#include "partnerfs/inodes.h"
#include "partnerfs/tree.h"

#define XATTR_URL "user.partnerfs.url"
#define XATTR_ETAG "user.partnerfs.etag"
#define XATTR_ID "user.partnerfs.id"

static int is_dir(const struct node *n)
{
	return S_ISDIR(n->type->mode);
}

int pfs_attr_node(fuse_ino_t id, struct node *out)
{
	char path[PFS_PATH_MAX];
	int err = inodes_path(id, path, sizeof(path));
	return err ? err : tree_resolve(path, out);
}

/* Mode, links, owner and the mount time: what needs no document. */
static void pfs_attr_fill_mode(const struct node *n, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = n->type->mode;
	/* Files can be made there (scratch files, fuse_scratch.c). */
	if (tree_row_holds_documents(n->type))
		st->st_mode |= S_IWUSR;
	/* -o umask=, uid=, gid=: as libfuse's high-level layer did them. */
	if (pfs_config.set_mode)
		st->st_mode =
			(st->st_mode & S_IFMT) | (0777 & ~pfs_config.umask);
	st->st_nlink = is_dir(n) ? 2 : 1;
	st->st_uid = pfs_config.set_uid ? pfs_config.uid : getuid();
	st->st_gid = pfs_config.set_gid ? pfs_config.gid : getgid();
	st->st_blksize = 4096;
	st->st_mtime = st->st_ctime = st->st_atime = node_mount_time;
}

int pfs_attr_fill(const struct node *n, const struct content *snapshot,
		  struct stat *st)
{
	pfs_attr_fill_mode(n, st);
	struct content c = {0};
	const struct content *shown = snapshot;
	int err = 0;
	if (S_ISLNK(n->type->mode)) {
		char target[IDENT_MAX + 1];
		err = n->type->link(n, target, sizeof(target));
		st->st_size = err ? 0 : (off_t)strlen(target);
		return err;
	}
	if (n->type->flags & NODE_BLOCKING)
		return 0; /* wait: nothing until it returns */
	if (!shown && n->type->show) {
		/* A directory's attributes are its entry in its parent's
		 * listing: as old as its name may be (tree.h). */
		if (is_dir(n))
			cache_scope_accept_age(TREE_NAME_AGE);
		err = n->type->show(n, &c);
		cache_scope_accept_age(0);
		shown = &c;
	}
	if (!err && shown) {
		if (!is_dir(n))
			st->st_size = (off_t)shown->len;
		if (shown->mtime)
			st->st_mtime = st->st_ctime = shown->mtime;
		st->st_blocks = (st->st_size + 511) / 512;
	}
	content_free(&c);
	return err;
}

/* A LOOKUP reply's attributes. A file's expire at once (timeout 0), so
 * the kernel asks GETATTR before it uses any of them: its document is not
 * fetched just to answer the lookup (`cat f` is LOOKUP + OPEN, and would
 * fetch it twice: a round trip more per file of a glob). */
int pfs_attr_fill_lookup(const struct node *n, struct stat *st)
{
	if (is_dir(n) || S_ISLNK(n->type->mode))
		return pfs_attr_fill(n, NULL, st);
	pfs_attr_fill_mode(n, st);
	return 0;
}

double pfs_attr_timeout(fuse_ino_t id, const struct node *n)
{
	return id != FUSE_ROOT_ID && is_dir(n) ? pfs_config.cache_ttl : 0;
}

/* A name is kept at least the 1 s every name had before per-node
 * timeouts: cache_ttl=0 must not make each path walk ask again. */
static double entry_timeout(const struct node *n)
{
	if (is_dir(n) && pfs_config.cache_ttl > 1)
		return pfs_config.cache_ttl;
	return 1;
}

int pfs_attr_entry(const char *path, const struct node *n,
		   const struct stat *st, struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = inodes_ref(
		path, n->type->flags & NODE_TRANSIENT ? INODES_TRANSIENT : 0);
	if (!e->ino)
		return -ENOMEM;
	e->attr = *st;
	e->attr.st_ino = e->ino;
	e->attr_timeout = pfs_attr_timeout(e->ino, n);
	e->entry_timeout = entry_timeout(n);
	return 0;
}

/* The xattr value of name into value (size 0: its length only). Its
 * length, or -errno. */
static int xattr_get(fuse_ino_t ino, const char *name, char *value, size_t size)
{
	int is_url = strcmp(name, XATTR_URL) == 0;
	int is_id = strcmp(name, XATTR_ID) == 0;
	/* Only the user namespace is served. Saying so for the others
	 * (ENOTSUP, as the kernel does for a namespace a file system has no
	 * handler for) lets `ls -l` stop asking every entry for its SELinux
	 * label and ACL: coreutils remembers an unsupported device. */
	if (strncmp(name, "user.", 5) != 0)
		return -ENOTSUP;
	if (!is_url && !is_id && strcmp(name, XATTR_ETAG) != 0)
		return -ENODATA;
	struct node n;
	int err = pfs_attr_node(ino, &n);
	if (err)
		return err;
	if (!n.type->show || is_dir(&n) || (n.type->flags & NODE_LIVE))
		return -ENODATA;
	struct content c = {0};
	err = n.type->show(&n, &c);
	if (err)
		return err;
	const char *v = is_url ? c.url : is_id ? c.id : c.etag;
	int len = v ? (int)strlen(v) : -ENODATA;
	if (v && size) {
		if ((size_t)len > size)
			len = -ERANGE;
		else
			memcpy(value, v, (size_t)len);
	}
	content_free(&c);
	return len;
}

/* The names of the xattrs set on ino, as listxattr(2) wants them. Their
 * length, or -errno. */
static int xattr_list(fuse_ino_t ino, char *list, size_t size)
{
	struct node n;
	int err = pfs_attr_node(ino, &n);
	if (err)
		return err;
	if (!n.type->show || is_dir(&n) || (n.type->flags & NODE_LIVE))
		return 0;
	struct content c = {0};
	err = n.type->show(&n, &c);
	if (err)
		return err;
	struct buf names = BUF_INIT;
	if (c.url)
		buf_append(&names, XATTR_URL, sizeof(XATTR_URL));
	if (c.etag)
		buf_append(&names, XATTR_ETAG, sizeof(XATTR_ETAG));
	if (c.id)
		buf_append(&names, XATTR_ID, sizeof(XATTR_ID));
	int len = (int)names.len;
	if (size && names.len > size)
		len = -ERANGE;
	else if (size && names.len)
		memcpy(list, names.data, names.len);
	buf_free(&names);
	content_free(&c);
	return len;
}

/* Replies to a getxattr or listxattr that got len (or -errno): with size
 * 0 the caller asked for the length only. */
static void reply_xattr(fuse_req_t req, const char *value, size_t size, int len)
{
	if (len < 0)
		fuse_reply_err(req, -len);
	else if (!size)
		fuse_reply_xattr(req, (size_t)len);
	else
		fuse_reply_buf(req, value, (size_t)len);
}

void pfs_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	cache_scope_begin();
	char *value = size ? malloc(size) : NULL;
	int len = size && !value ? -ENOMEM : xattr_get(ino, name, value, size);
	reply_xattr(req, value, size, len);
	free(value);
}

void pfs_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	cache_scope_begin();
	char *list = size ? malloc(size) : NULL;
	int len = size && !list ? -ENOMEM : xattr_list(ino, list, size);
	reply_xattr(req, list, size, len);
	free(list);
}
