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
 * is not a scratch file; no other file needs to know of them. */
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
#include "partnerfs/cache.h"
#include "partnerfs/inodes.h"
#include "partnerfs/scratch.h"
#include "partnerfs/tree.h"

static struct fuse_lowlevel_ops base;

/* The row scratch files are listed with: a regular file. */
static const struct node_type scratch_row = {.pattern = "",
					     .mode = S_IFREG | 0600};

static void reply_err(fuse_req_t req, int err)
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
	e->ino = inodes_ref(path);
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

static int holds_documents(const char *path)
{
	char dir[PFS_PATH_MAX];
	dir_of(path, dir, sizeof(dir));
	return tree_holds_documents(dir);
}

/* The document at path: 0, -ENOENT when nothing is there, -EPERM when
 * something that is not a document is. */
static int document_at(const char *path, struct node *n)
{
	int err = tree_resolve(path, n);
	if (!err && !tree_is_document(n))
		err = -EPERM;
	return err;
}

/* Writes s's bytes whole to the document at path, as a writer that opens
 * it, writes and closes would: show() gives the version it would have
 * read (whose ETag guards the store), then one store(). 0 or -errno. */
static int store_document(const char *path, struct scratch *s)
{
	struct node n;
	int err = document_at(path, &n);
	if (err)
		return err;
	char *data;
	size_t len;
	err = scratch_copy(s, &data, &len);
	if (err)
		return err;
	struct content read = {0};
	if (n.type->show)
		err = n.type->show(&n, &read);
	if (!err)
		err = n.type->store(&n, n.type->show ? &read : NULL, data, len);
	content_free(&read);
	free(data);
	return err;
}

/* A replacement sends what was written to it when it is flushed. Sent or
 * refused (close() returns why), the name is the document's again at
 * once: the release that follows close() comes later, and a read in
 * between must not see bytes the document does not hold. */
static int flush_replacement(struct scratch *s)
{
	struct scratch_attr a;
	char path[PFS_PATH_MAX];
	scratch_stat(s, &a);
	if (!a.replaces || !a.named || !scratch_take_dirty(s) ||
	    scratch_path(s, path, sizeof(path)) != 0)
		return 0;
	int err = store_document(path, s);
	scratch_unname(s);
	return err;
}

static void scratch_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	char path[PFS_PATH_MAX];
	if (inodes_child_path(parent, name, path, sizeof(path)) != 0) {
		base.lookup(req, parent, name);
		return;
	}
	struct scratch *s = scratch_get(path);
	if (!s) {
		if (scratch_marked(path))
			reply_err(req, -ENOENT);
		else
			base.lookup(req, parent, name);
		return;
	}
	struct fuse_entry_param e;
	int err = entry_of(path, s, &e);
	scratch_put(s);
	if (err)
		reply_err(req, err);
	else if (fuse_reply_entry(req, &e) != 0)
		inodes_forget(e.ino, 1);
}

static void scratch_getattr(fuse_req_t req, fuse_ino_t ino,
			    struct fuse_file_info *fi)
{
	struct scratch *s = scratch_of(ino, fi);
	if (!s) {
		base.getattr(req, ino, fi);
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
		base.setattr(req, ino, attr,
			     to_set & ~same_attr(ino, attr, to_set), fi);
		return;
	}
	int err = set_attr(req, s, attr, to_set);
	struct stat st;
	fill_stat(s, ino, &st);
	scratch_put(s);
	if (err)
		reply_err(req, err);
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
		base.open(req, ino, fi);
		return;
	}
	struct scratch_attr a;
	scratch_stat(s, &a);
	int err = fuse_req_ctx(req)->uid == a.uid ? 0 : -EACCES;
	if (!err && (fi->flags & O_TRUNC))
		err = scratch_truncate(s, 0);
	if (err) {
		scratch_put(s);
		reply_err(req, err);
		return;
	}
	reply_open(req, s, fi);
}

static void scratch_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			 struct fuse_file_info *fi)
{
	struct scratch *s = open_scratch(fi);
	if (!s) {
		base.read(req, ino, size, off, fi);
		return;
	}
	char *buf = size ? malloc(size) : NULL;
	if (size && !buf) {
		reply_err(req, -ENOMEM);
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
		base.write(req, ino, data, size, off, fi);
		return;
	}
	int err = scratch_write_at(s, data, size, off);
	if (err)
		reply_err(req, err);
	else
		fuse_reply_write(req, size);
}

static void scratch_flush(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	struct scratch *s = open_scratch(fi);
	if (!s) {
		base.flush(req, ino, fi);
		return;
	}
	cache_scope_begin();
	reply_err(req, flush_replacement(s));
}

static void scratch_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
			  struct fuse_file_info *fi)
{
	if (!open_scratch(fi)) {
		base.fsync(req, ino, datasync, fi);
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
		base.release(req, ino, fi);
		return;
	}
	cache_scope_begin();
	int err = fi->flush ? flush_replacement(s) : 0;
	struct scratch_attr a;
	scratch_stat(s, &a);
	if (a.replaces)
		scratch_unname(s);
	scratch_put(s);
	reply_err(req, err);
}

static void scratch_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	struct scratch *s = scratch_of(ino, NULL);
	struct node n;
	if (!s && (mask & W_OK) && pfs_attr_node(ino, &n) == 0 &&
	    tree_row_holds_documents(n.type))
		mask &= ~W_OK; /* files can be made in it: scratch files */
	if (!s) {
		base.access(req, ino, mask);
		return;
	}
	struct scratch_attr a;
	scratch_stat(s, &a);
	scratch_put(s);
	reply_err(req, fuse_req_ctx(req)->uid == a.uid || !mask ? 0 : -EACCES);
}

static void scratch_poll(fuse_req_t req, fuse_ino_t ino,
			 struct fuse_file_info *fi, struct fuse_pollhandle *ph)
{
	if (!open_scratch(fi)) {
		base.poll(req, ino, fi, ph);
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
		base.getxattr(req, ino, name, size);
	else
		reply_err(req,
			  strncmp(name, "user.", 5) == 0 ? -ENODATA : -ENOTSUP);
}

static void scratch_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	if (!is_scratch(ino))
		base.listxattr(req, ino, size);
	else if (!size)
		fuse_reply_xattr(req, 0);
	else
		fuse_reply_buf(req, NULL, 0);
}

static void scratch_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			     const char *value, size_t size, int flags)
{
	if (!is_scratch(ino))
		base.setxattr(req, ino, name, value, size, flags);
	else
		reply_err(req, -ENOTSUP);
}

static void scratch_removexattr(fuse_req_t req, fuse_ino_t ino,
				const char *name)
{
	if (!is_scratch(ino))
		base.removexattr(req, ino, name);
	else
		reply_err(req, -ENOTSUP);
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
	    !holds_documents(path)) {
		base.create(req, parent, name, mode, fi);
		return;
	}
	struct scratch *s;
	struct fuse_entry_param e;
	int err = make_scratch(req, path, mode, &s);
	if (err) {
		reply_err(req, err);
		return;
	}
	err = entry_of(path, s, &e);
	if (err) {
		scratch_unname(s);
		scratch_put(s);
		reply_err(req, err);
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

static void scratch_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	char path[PFS_PATH_MAX];
	struct node n;
	if (inodes_child_path(parent, name, path, sizeof(path)) != 0) {
		base.unlink(req, parent, name);
		return;
	}
	if (scratch_remove(path) == 0) {
		inodes_detach(path);
		reply_err(req, 0);
		return;
	}
	if (document_at(path, &n) != 0) {
		base.unlink(req, parent, name);
		return;
	}
	/* Nothing is deleted: the name waits a moment for its replacement,
	 * and a new id is made for it (the kernel now counts the old one as
	 * unlinked). */
	scratch_mark(path);
	inodes_detach(path);
	reply_err(req, 0);
}

/* The file at path stops being known as that: rename onto it replaces it.
 * 0, or -EEXIST when flags forbid that. */
static int replace_target(const char *path, unsigned flags)
{
	struct scratch *t = scratch_get(path);
	if (!t)
		return 0;
	scratch_put(t);
	if (flags & RENAME_NOREPLACE)
		return -EEXIST;
	scratch_remove(path);
	return 0;
}

/* The kernel retries a rename that failed with ESTALE once, at once, with
 * its lookups revalidated (retry_estale in fs/namei.c). Sent again, the
 * store would go out with the ETag a 412 just made current and overwrite
 * the change it was refused for. So the retry of a rename refused with
 * ESTALE gets ESTALE again, and nothing is sent: the same names within a
 * second, once. A few records, for renames failing side by side. */
#define STALE_RECORDS 8

static pthread_mutex_t stale_lock = PTHREAD_MUTEX_INITIALIZER;
static struct stale {
	char from[PFS_PATH_MAX], to[PFS_PATH_MAX];
	struct timespec at; /* CLOCK_MONOTONIC; tv_sec 0 when free */
} stale[STALE_RECORDS];

static int stale_fresh(const struct stale *r, const struct timespec *t)
{
	return r->at.tv_sec && t->tv_sec - r->at.tv_sec <= 1;
}

/* Whether this rename repeats one just refused with ESTALE (that record
 * is then used up). */
static int stale_retry(const char *from, const char *to)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	int retry = 0;
	pthread_mutex_lock(&stale_lock);
	for (int i = 0; i < STALE_RECORDS && !retry; i++) {
		struct stale *r = &stale[i];
		if (stale_fresh(r, &t) && strcmp(r->from, from) == 0 &&
		    strcmp(r->to, to) == 0) {
			r->at.tv_sec = 0;
			retry = 1;
		}
	}
	pthread_mutex_unlock(&stale_lock);
	return retry;
}

static void stale_note(const char *from, const char *to)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	pthread_mutex_lock(&stale_lock);
	struct stale *r = &stale[0];
	for (int i = 0; i < STALE_RECORDS; i++) {
		if (!stale_fresh(&stale[i], &t)) {
			r = &stale[i];
			break;
		}
		if (stale[i].at.tv_sec < r->at.tv_sec)
			r = &stale[i]; /* all in use: the oldest goes */
	}
	snprintf(r->from, sizeof(r->from), "%s", from);
	snprintf(r->to, sizeof(r->to), "%s", to);
	r->at = t;
	pthread_mutex_unlock(&stale_lock);
}

/* rename(scratch, to): a new name for it, or writing the document at to.
 */
static int rename_scratch(struct scratch *s, const char *from, const char *to,
			  unsigned flags)
{
	if (!holds_documents(to))
		return -EPERM;
	if (strcmp(from, to) == 0)
		return 0; /* the VFS answers this itself; never remove s */
	struct scratch *t = scratch_get(to);
	struct scratch_attr ta = {0};
	if (t) {
		scratch_stat(t, &ta);
		scratch_put(t);
	}
	int marked = !t && scratch_marked(to);
	struct node n;
	int err = 0;
	if ((t && !ta.replaces) ||
	    (!t && !marked && (err = tree_resolve(to, &n)) == -ENOENT)) {
		err = replace_target(to, flags);
		if (!err)
			err = scratch_move(from, to);
		if (!err)
			inodes_rename(from, to);
		return err;
	}
	if (err)
		return err;
	if ((flags & RENAME_NOREPLACE) && !marked)
		return -EEXIST;
	if (stale_retry(from, to))
		return -ESTALE;
	err = store_document(to, s);
	if (err == -ESTALE)
		stale_note(from, to);
	if (err)
		return err;
	/* Sent: the name is the document's, holding these bytes. */
	scratch_unmark(to);
	if (t)
		scratch_remove(to);
	scratch_remove(from);
	inodes_rename(from, to);
	return 0;
}

/* rename(document, to): the document stays; to becomes a scratch copy of
 * what it shows. */
static int rename_document(fuse_req_t req, const struct node *n,
			   const char *from, const char *to, unsigned flags)
{
	if (!holds_documents(to))
		return -EPERM;
	struct node other;
	struct scratch *t = scratch_get(to);
	scratch_put(t);
	/* Onto another document (even one being replaced): no. */
	if (!t) {
		int err = tree_resolve(to, &other);
		if (err != -ENOENT)
			return err ? err : -EPERM;
	}
	struct content c = {0};
	int err = n->type->show ? n->type->show(n, &c) : 0;
	if (!err)
		err = replace_target(to, flags);
	struct scratch *s = NULL;
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	if (!err)
		err = scratch_create(to, n->type->mode & 0777, ctx->uid,
				     ctx->gid, c.data, c.len, 0, &s);
	content_free(&c);
	if (err)
		return err;
	scratch_put(s);
	/* The kernel moved the document's dentry: its id now is the copy's,
	 * and the document gets a new one at its next lookup. */
	inodes_rename(from, to);
	return 0;
}

static void scratch_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
			   fuse_ino_t newparent, const char *newname,
			   unsigned int flags)
{
	cache_scope_begin();
	char from[PFS_PATH_MAX], to[PFS_PATH_MAX];
	struct node n;
	if ((flags & RENAME_EXCHANGE) ||
	    inodes_child_path(parent, name, from, sizeof(from)) != 0 ||
	    inodes_child_path(newparent, newname, to, sizeof(to)) != 0) {
		base.rename(req, parent, name, newparent, newname, flags);
		return;
	}
	struct scratch *s = scratch_get(from);
	int err;
	if (s)
		err = rename_scratch(s, from, to, flags);
	else if (!scratch_marked(from) && document_at(from, &n) == 0)
		err = rename_document(req, &n, from, to, flags);
	else {
		base.rename(req, parent, name, newparent, newname, flags);
		return;
	}
	scratch_put(s);
	reply_err(req, err);
}

static void scratch_destroy(void *userdata)
{
	base.destroy(userdata);
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
	base = *b;
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
