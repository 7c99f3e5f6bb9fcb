/* fuse_scratch.c: the FUSE side of scratch files (scratch.h), for tools
 * that save a document by writing a new file and renaming it over the old
 * one, or by unlinking it and creating it again.
 * - create in a directory that holds documents makes a scratch file: a
 *   local file in the daemon's memory, never sent anywhere by itself;
 * - rename(scratch, document) is the moment its bytes are sent: the same
 *   as opening the document, writing them whole and closing it, one
 *   store() with the ETag of the version shown now; rename returns its
 *   errno, and on failure the scratch file stays (the edit is not lost).
 *   There is no later moment that could still report an error: the tool
 *   has closed the file and treats the rename as the commit;
 * - unlink(document) only hides its name for a moment (a mark); a create
 *   of that name makes a replacement, stored to the document when it is
 *   flushed (GNU mv across file systems, install). Nothing remote is ever
 *   deleted;
 * - rename(document, new name) leaves the document in place and makes the
 *   new name a scratch copy of it (emacs's backup by rename).
 * Every callback here wraps the one in the base table and passes on what
 * is not a scratch file; no other file needs to know of them. Unlink,
 * rename and a replacement's flush, where documents are replaced, are in
 * fuse_replace.c; what a refused save leaves, in fuse_keep.c. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h> /* RENAME_NOREPLACE, RENAME_EXCHANGE */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuse_attr.h"
#include "fuse_scratch.h"
#include "fuse_scratch_impl.h"
#include "partnerfs/cache.h"
#include "partnerfs/inodes.h"
#include "partnerfs/scratch.h"
#include "partnerfs/tree.h"

struct fuse_lowlevel_ops scratch_base;

/* The row scratch files are listed with: a regular file. */
static const struct node_type scratch_row = {.pattern = "",
					     .mode = S_IFREG | 0600};

void scratch_reply_err(fuse_req_t req, int err)
{
	fuse_reply_err(req, -err);
}

/* fi->fh of an open scratch file is its struct scratch (one reference)
 * with the low bit set. fuse_ops.c's handles come from calloc(), aligned,
 * so the bit tells them apart without either module knowing the other's
 * handles. */
static uint64_t tag(struct scratch *s)
{
	return (uint64_t)(uintptr_t)s | 1;
}

static struct scratch *open_scratch(const struct fuse_file_info *fi)
{
	if (!fi || !(fi->fh & 1))
		return NULL;
	return (struct scratch *)(uintptr_t)(fi->fh & ~(uint64_t)1);
}

/* The scratch file of ino (a new reference), through its open handle when
 * fi is given: NULL when fi is another file's handle or ino is no scratch
 * file. */
static struct scratch *scratch_of(fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct scratch *s = open_scratch(fi);
	if (s) {
		scratch_ref(s);
		return s;
	}
	if (fi)
		return NULL;
	char path[PFS_PATH_MAX];
	if (inodes_path(ino, path, sizeof(path)) != 0)
		return NULL;
	return scratch_get(path);
}

static void fill_stat(struct scratch *s, fuse_ino_t ino, struct stat *st)
{
	struct scratch_attr a;
	scratch_stat(s, &a);
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_mode = S_IFREG | a.mode;
	st->st_nlink = a.named ? 1 : 0;
	st->st_uid = a.uid;
	st->st_gid = a.gid;
	st->st_size = (off_t)a.size;
	st->st_blksize = 4096;
	st->st_blocks = (st->st_size + 511) / 512;
	st->st_atim = a.atime;
	st->st_mtim = a.mtime;
	st->st_ctim = a.ctime;
}

/* The entry of scratch file s at path, with a reference the kernel now
 * holds. Timeouts 0: a rename or an unlink may change what the name
 * means at any moment, and the kernel must ask again. */
static int entry_of(const char *path, struct scratch *s,
		    struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = inodes_ref(path, 0);
	if (!e->ino)
		return -ENOMEM;
	fill_stat(s, e->ino, &e->attr);
	return 0;
}

/* The directory of path: path less its last component. */
static void dir_of(const char *path, char *dir, size_t size)
{
	const char *slash = strrchr(path, '/');
	size_t len = slash && slash != path ? (size_t)(slash - path) : 1;
	if (len >= size)
		len = size - 1;
	memcpy(dir, path, len);
	dir[len] = '\0';
}

int scratch_holds_documents(const char *path)
{
	char dir[PFS_PATH_MAX];
	dir_of(path, dir, sizeof(dir));
	return tree_holds_documents(dir);
}

/* The document at path: 0, -ENOENT when nothing is there, -EPERM when
 * something that is not a document is. */
int scratch_document_at(const char *path, struct node *n)
{
	int err = tree_resolve(path, n);
	if (!err && !tree_is_document(n))
		err = -EPERM;
	return err;
}

static void scratch_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	char path[PFS_PATH_MAX];
	if (inodes_child_path(parent, name, path, sizeof(path)) != 0) {
		scratch_base.lookup(req, parent, name);
		return;
	}
	struct scratch *s = scratch_get(path);
	if (!s) {
		if (scratch_marked(path))
			scratch_reply_err(req, -ENOENT);
		else
			scratch_base.lookup(req, parent, name);
		return;
	}
	struct fuse_entry_param e;
	int err = entry_of(path, s, &e);
	scratch_put(s);
	if (err)
		scratch_reply_err(req, err);
	else if (fuse_reply_entry(req, &e) != 0)
		inodes_forget(e.ino, 1);
}

static void scratch_getattr(fuse_req_t req, fuse_ino_t ino,
			    struct fuse_file_info *fi)
{
	struct scratch *s = scratch_of(ino, fi);
	if (!s) {
		scratch_base.getattr(req, ino, fi);
		return;
	}
	struct stat st;
	fill_stat(s, ino, &st);
	scratch_put(s);
	fuse_reply_attr(req, &st, 0);
}

/* What the tools copy from the original before the rename: mode (by the
 * owner), owner and group (only to what they are: no chown), size, times.
 */
static int set_attr(fuse_req_t req, struct scratch *s, const struct stat *attr,
		    int to_set)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct scratch_attr a;
	scratch_stat(s, &a);
	if ((to_set & FUSE_SET_ATTR_MODE) && ctx->uid != a.uid)
		return -EPERM;
	if (((to_set & FUSE_SET_ATTR_UID) && attr->st_uid != a.uid) ||
	    ((to_set & FUSE_SET_ATTR_GID) && attr->st_gid != a.gid))
		return -EPERM;
	if (to_set & FUSE_SET_ATTR_SIZE) {
		int err = scratch_truncate(s, attr->st_size);
		if (err)
			return err;
	}
	if (to_set & FUSE_SET_ATTR_MODE)
		scratch_set_mode(s, attr->st_mode);
	if (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID))
		scratch_set_owner(s, a.uid, a.gid);
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	const struct timespec *at = NULL, *mt = NULL;
	if (to_set & FUSE_SET_ATTR_ATIME)
		at = &attr->st_atim;
	if (to_set & FUSE_SET_ATTR_ATIME_NOW)
		at = &t;
	if (to_set & FUSE_SET_ATTR_MTIME)
		mt = &attr->st_mtim;
	if (to_set & FUSE_SET_ATTR_MTIME_NOW)
		mt = &t;
	if (at || mt)
		scratch_set_times(s, at, mt);
	return 0;
}

/* The mode and owner bits of to_set that ask for what ino already shows.
 * `install -m 644` chmods the name after closing it, when it is the
 * document again: a chmod that changes nothing is no chmod, and passes;
 * any real change stays refused. */
static int same_attr(fuse_ino_t ino, const struct stat *attr, int to_set)
{
	int ids = FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID;
	struct node n;
	struct stat st;
	if (!(to_set & ids))
		return 0;
	cache_scope_begin();
	if (pfs_attr_node(ino, &n) != 0 || pfs_attr_fill(&n, NULL, &st) != 0)
		return 0;
	int same = 0;
	if ((to_set & FUSE_SET_ATTR_MODE) &&
	    (attr->st_mode & 07777) == (st.st_mode & 07777))
		same |= FUSE_SET_ATTR_MODE;
	if ((to_set & FUSE_SET_ATTR_UID) && attr->st_uid == st.st_uid)
		same |= FUSE_SET_ATTR_UID;
	if ((to_set & FUSE_SET_ATTR_GID) && attr->st_gid == st.st_gid)
		same |= FUSE_SET_ATTR_GID;
	return same;
}

static void scratch_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
			    int to_set, struct fuse_file_info *fi)
{
	struct scratch *s = scratch_of(ino, fi);
	if (!s) {
		scratch_base.setattr(req, ino, attr,
				     to_set & ~same_attr(ino, attr, to_set),
				     fi);
		return;
	}
	int err = set_attr(req, s, attr, to_set);
	struct stat st;
	fill_stat(s, ino, &st);
	scratch_put(s);
	if (err)
		scratch_reply_err(req, err);
	else
		fuse_reply_attr(req, &st, 0);
}

/* Hands the kernel an open scratch file; the handle takes over the
 * reference. */
static void reply_open(fuse_req_t req, struct scratch *s,
		       struct fuse_file_info *fi)
{
	fi->fh = tag(s);
	fi->direct_io = 0;
	fi->keep_cache = 0; /* the name may have meant another file before */
	if (fuse_reply_open(req, fi) != 0)
		scratch_put(s);
}

static void scratch_open(fuse_req_t req, fuse_ino_t ino,
			 struct fuse_file_info *fi)
{
	struct scratch *s = scratch_of(ino, NULL);
	if (!s) {
		scratch_base.open(req, ino, fi);
		return;
	}
	struct scratch_attr a;
	scratch_stat(s, &a);
	int err = fuse_req_ctx(req)->uid == a.uid ? 0 : -EACCES;
	if (!err && (fi->flags & O_TRUNC))
		err = scratch_truncate(s, 0);
	if (err) {
		scratch_put(s);
		scratch_reply_err(req, err);
		return;
	}
	reply_open(req, s, fi);
}

static void scratch_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			 struct fuse_file_info *fi)
{
	struct scratch *s = open_scratch(fi);
	if (!s) {
		scratch_base.read(req, ino, size, off, fi);
		return;
	}
	char *buf = size ? malloc(size) : NULL;
	if (size && !buf) {
		scratch_reply_err(req, -ENOMEM);
		return;
	}
	fuse_reply_buf(req, buf, buf ? scratch_read_at(s, buf, size, off) : 0);
	free(buf);
}

static void scratch_write(fuse_req_t req, fuse_ino_t ino, const char *data,
			  size_t size, off_t off, struct fuse_file_info *fi)
{
	struct scratch *s = open_scratch(fi);
	if (!s) {
		scratch_base.write(req, ino, data, size, off, fi);
		return;
	}
	int err = scratch_write_at(s, data, size, off);
	if (err)
		scratch_reply_err(req, err);
	else
		fuse_reply_write(req, size);
}

static void scratch_flush(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	struct scratch *s = open_scratch(fi);
	if (!s) {
		scratch_base.flush(req, ino, fi);
		return;
	}
	cache_scope_begin();
	scratch_reply_err(req, scratch_flush_replacement(s));
}

static void scratch_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
			  struct fuse_file_info *fi)
{
	if (!open_scratch(fi)) {
		scratch_base.fsync(req, ino, datasync, fi);
		return;
	}
	scratch_flush(req, ino, fi);
}

/* The last word on a replacement that was never flushed with something
 * in it (created, then closed empty): the name is the document's again,
 * unchanged. */
static void scratch_release(fuse_req_t req, fuse_ino_t ino,
			    struct fuse_file_info *fi)
{
	struct scratch *s = open_scratch(fi);
	if (!s) {
		scratch_base.release(req, ino, fi);
		return;
	}
	cache_scope_begin();
	int err = fi->flush ? scratch_flush_replacement(s) : 0;
	struct scratch_attr a;
	scratch_stat(s, &a);
	if (a.replaces)
		scratch_unname(s);
	scratch_put(s);
	scratch_reply_err(req, err);
}

static void scratch_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	struct scratch *s = scratch_of(ino, NULL);
	struct node n;
	if (!s && (mask & W_OK) && pfs_attr_node(ino, &n) == 0 &&
	    tree_row_holds_documents(n.type))
		mask &= ~W_OK; /* files can be made in it: scratch files */
	if (!s) {
		scratch_base.access(req, ino, mask);
		return;
	}
	struct scratch_attr a;
	scratch_stat(s, &a);
	scratch_put(s);
	scratch_reply_err(
		req, fuse_req_ctx(req)->uid == a.uid || !mask ? 0 : -EACCES);
}

static void scratch_poll(fuse_req_t req, fuse_ino_t ino,
			 struct fuse_file_info *fi, struct fuse_pollhandle *ph)
{
	if (!open_scratch(fi)) {
		scratch_base.poll(req, ino, fi, ph);
		return;
	}
	if (ph)
		fuse_pollhandle_destroy(ph);
	fuse_reply_poll(req, POLLIN | POLLOUT); /* a regular file */
}

/* Scratch files have no extended attributes, and take none: ENOTSUP, as
 * a file system without them says, is what lets cp, mv and rsync go on
 * without a warning when they copy a file's attributes onto one. */
static int is_scratch(fuse_ino_t ino)
{
	struct scratch *s = scratch_of(ino, NULL);
	scratch_put(s);
	return s != NULL;
}

static void scratch_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			     size_t size)
{
	if (!is_scratch(ino))
		scratch_base.getxattr(req, ino, name, size);
	else
		scratch_reply_err(req, strncmp(name, "user.", 5) == 0
					       ? -ENODATA
					       : -ENOTSUP);
}

static void scratch_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	if (!is_scratch(ino))
		scratch_base.listxattr(req, ino, size);
	else if (!size)
		fuse_reply_xattr(req, 0);
	else
		fuse_reply_buf(req, NULL, 0);
}

static void scratch_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			     const char *value, size_t size, int flags)
{
	if (!is_scratch(ino))
		scratch_base.setxattr(req, ino, name, value, size, flags);
	else
		scratch_reply_err(req, -ENOTSUP);
}

static void scratch_removexattr(fuse_req_t req, fuse_ino_t ino,
				const char *name)
{
	if (!is_scratch(ino))
		scratch_base.removexattr(req, ino, name);
	else
		scratch_reply_err(req, -ENOTSUP);
}

/* A new scratch file at path, or the replacement of the document there
 * when it was just unlinked. */
static int make_scratch(fuse_req_t req, const char *path, mode_t mode,
			struct scratch **out)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct scratch *s = scratch_get(path);
	int replaces = 0;
	if (s) {
		scratch_put(s);
		return -EEXIST;
	}
	if (scratch_unmark(path)) {
		replaces = 1;
	} else {
		struct node n;
		int err = tree_resolve(path, &n);
		if (err != -ENOENT)
			return err ? err : -EEXIST;
	}
	return scratch_create(path, mode & ~ctx->umask, ctx->uid, ctx->gid,
			      NULL, 0, replaces, out);
}

static void scratch_create_cb(fuse_req_t req, fuse_ino_t parent,
			      const char *name, mode_t mode,
			      struct fuse_file_info *fi)
{
	cache_scope_begin();
	char path[PFS_PATH_MAX];
	if (!S_ISREG(mode) ||
	    inodes_child_path(parent, name, path, sizeof(path)) != 0 ||
	    !scratch_holds_documents(path)) {
		scratch_base.create(req, parent, name, mode, fi);
		return;
	}
	struct scratch *s;
	struct fuse_entry_param e;
	int err = make_scratch(req, path, mode, &s);
	if (err) {
		scratch_reply_err(req, err);
		return;
	}
	err = entry_of(path, s, &e);
	if (err) {
		scratch_unname(s);
		scratch_put(s);
		scratch_reply_err(req, err);
		return;
	}
	fi->fh = tag(s);
	fi->direct_io = 0;
	fi->keep_cache = 0;
	if (fuse_reply_create(req, &e, fi) != 0) {
		/* Interrupted: the kernel knows of neither id nor file. */
		inodes_forget(e.ino, 1);
		scratch_unname(s);
		scratch_put(s);
	}
}

static void scratch_destroy(void *userdata)
{
	scratch_base.destroy(userdata);
	scratch_cleanup();
}

struct list_ctx {
	node_fill_fn fill;
	void *ctx;
};

static int list_one(void *arg, const char *name)
{
	struct list_ctx *lc = arg;
	struct node n = {.type = &scratch_row};
	return lc->fill(lc->ctx, name, &n);
}

int pfs_scratch_list(fuse_ino_t dir, node_fill_fn fill, void *ctx)
{
	char path[PFS_PATH_MAX];
	if (inodes_path(dir, path, sizeof(path)) != 0)
		return 0;
	scratch_unmark_dir(path);
	struct list_ctx lc = {fill, ctx};
	return scratch_list(path, list_one, &lc);
}

void fuse_scratch_ops(const struct fuse_lowlevel_ops *b,
		      struct fuse_lowlevel_ops *out)
{
	scratch_base = *b;
	*out = *b;
	out->lookup = scratch_lookup;
	out->getattr = scratch_getattr;
	out->setattr = scratch_setattr;
	out->open = scratch_open;
	out->read = scratch_read;
	out->write = scratch_write;
	out->flush = scratch_flush;
	out->fsync = scratch_fsync;
	out->release = scratch_release;
	out->access = scratch_access;
	out->poll = scratch_poll;
	out->getxattr = scratch_getxattr;
	out->listxattr = scratch_listxattr;
	out->setxattr = scratch_setxattr;
	out->removexattr = scratch_removexattr;
	out->create = scratch_create_cb;
	out->unlink = scratch_unlink;
	out->rename = scratch_rename;
	out->destroy = scratch_destroy;
}
