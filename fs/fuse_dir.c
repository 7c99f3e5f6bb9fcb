/* fuse_dir.c: the callbacks for names and directories. LOOKUP hands the
 * kernel a node id (inodes.h) for each path it names; FORGET gives it
 * back. A directory is listed once per opendir (and again on a rewind),
 * and the kernel reads that listing in chunks at offsets into it.
 * readdirplus carries full entries for directories only: their attributes
 * cost nothing, while a file's size may need its document, which `ls`
 * without -l never asks for. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "fuse_attr.h"
#include "fuse_dir.h"
#include "fuse_scratch.h"
#include "partnerfs/buf.h"
#include "partnerfs/cache.h"
#include "partnerfs/inodes.h"
#include "partnerfs/list.h"
#include "partnerfs/prefetch.h"
#include "partnerfs/tree.h"
#include "probe.h"

/* d_ino of an entry handed without attributes, as libfuse's high-level
 * layer gives it: the kernel looks the name up when it needs more. */
#define UNKNOWN_INO 0xffffffffu

struct dir_entry {
	size_t name; /* offset into dir_handle.names */
	struct stat st;
	const struct node_type *type;
	int plus; /* full attributes in st: hand the kernel an entry */
};

/* One open directory: its listing, fixed at the first readdir. */
struct dir_handle {
	struct buf names;
	struct dir_entry *entries;
	size_t count, cap;
	int listed;
	struct list_link link; /* in open_dirs */
};

static pthread_mutex_t dirs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct list_link open_dirs = LIST_INIT(open_dirs);

static void reply_err(fuse_req_t req, int err)
{
	fuse_reply_err(req, -err);
}

void pfs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	cache_scope_begin();
	char path[PFS_PATH_MAX];
	struct node n;
	struct stat st;
	struct fuse_entry_param e;
	int err = inodes_child_path(parent, name, path, sizeof(path));
	if (!err && probe_hides(fuse_req_ctx(req)->pid, path))
		err = -ENOENT;
	if (!err)
		err = tree_resolve(path, &n);
	if (!err)
		err = pfs_attr_fill_lookup(&n, &st);
	if (!err)
		err = pfs_attr_entry(path, &n, &st, &e);
	if (err) {
		reply_err(req, err);
		return;
	}
	/* No reply reached the kernel (the lookup was interrupted): it holds
	 * no reference. */
	if (fuse_reply_entry(req, &e) != 0)
		inodes_forget(e.ino, 1);
}

void pfs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	inodes_forget(ino, nlookup);
	fuse_reply_none(req);
}

void pfs_forget_multi(fuse_req_t req, size_t count,
		      struct fuse_forget_data *forgets)
{
	for (size_t i = 0; i < count; i++)
		inodes_forget(forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

void pfs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	struct dir_handle *d = calloc(1, sizeof(*d));
	if (!d) {
		reply_err(req, -ENOMEM);
		return;
	}
	pthread_mutex_lock(&dirs_lock);
	list_add(&open_dirs, &d->link);
	pthread_mutex_unlock(&dirs_lock);
	fi->fh = (uintptr_t)d;
	if (fuse_reply_open(req, fi) != 0)
		pfs_releasedir(NULL, ino, fi);
}

static void dir_clear(struct dir_handle *d)
{
	buf_free(&d->names);
	free(d->entries);
	d->entries = NULL;
	d->count = d->cap = 0;
	d->listed = 0;
}

/* want_plus: the child's attributes are wanted, if it is a directory. */
static int dir_add(struct dir_handle *d, const char *name,
		   const struct node *child, int want_plus)
{
	if (d->count == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		struct dir_entry *e = realloc(d->entries, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		d->entries = e;
		d->cap = cap;
	}
	struct dir_entry *e = &d->entries[d->count];
	e->name = d->names.len;
	if (buf_append(&d->names, name, strlen(name) + 1))
		return -ENOMEM;
	e->type = child->type;
	e->plus = want_plus && S_ISDIR(child->type->mode) &&
		  pfs_attr_fill(child, NULL, &e->st) == 0;
	if (!e->plus) {
		memset(&e->st, 0, sizeof(e->st));
		e->st.st_mode = child->type->mode & S_IFMT;
	}
	/* What a plain READDIR sends as d_ino, which the kernel may ask for
	 * after a READDIRPLUS of the first entries: never 0, which readdir(3)
	 * skips as a deleted entry (a listing of 250 lost the last 63). */
	e->st.st_ino = UNKNOWN_INO;
	d->count++;
	return 0;
}

static int dir_fill(void *arg, const char *name, const struct node *child)
{
	return dir_add(arg, name, child, 1);
}

static int dir_list(struct dir_handle *d, fuse_ino_t ino, pid_t reader)
{
	struct node n;
	int err = pfs_attr_node(ino, &n);
	if (err)
		return err;
	if (!S_ISDIR(n.type->mode))
		return -ENOTDIR;
	dir_clear(d);
	/* "." and ".." are the kernel's own business: no entry for them. */
	if (dir_add(d, ".", &n, 0) || dir_add(d, "..", &n, 0))
		return -ENOMEM;
	err = tree_list(&n, dir_fill, d);
	if (!err)
		err = pfs_scratch_list(ino, dir_fill, d);
	d->listed = !err;
	if (!err)
		prefetch_note_read(reader, &n);
	return err;
}

/* One chunk of the listing from off, as much as size holds. With plus,
 * each directory goes as a full entry the kernel then holds a reference
 * to; every other entry gets node id 0, which the kernel takes as "name
 * and type only" (not as a negative entry). */
static void dir_reply(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		      struct fuse_file_info *fi, int plus)
{
	cache_scope_begin();
	struct dir_handle *d = (struct dir_handle *)(uintptr_t)fi->fh;
	int err = 0;
	if (off == 0 || !d->listed)
		err = dir_list(d, ino, fuse_req_ctx(req)->pid);
	char *buf = err ? NULL : malloc(size);
	fuse_ino_t *given = err ? NULL : calloc(size / 32 + 1, sizeof(*given));
	if (!err && (!buf || !given))
		err = -ENOMEM;
	if (err) {
		free(buf);
		free(given);
		reply_err(req, err);
		return;
	}
	size_t used = 0, ngiven = 0;
	for (size_t i = (size_t)off; i < d->count; i++) {
		struct dir_entry *de = &d->entries[i];
		const char *name = d->names.data + de->name;
		size_t left = size - used, need;
		if (!plus) {
			need = fuse_add_direntry(req, buf + used, left, name,
						 &de->st, (off_t)(i + 1));
		} else {
			need = fuse_add_direntry_plus(req, NULL, 0, name, NULL,
						      0);
			struct fuse_entry_param e = {.attr = de->st};
			char path[PFS_PATH_MAX];
			struct node child = {.type = de->type};
			if (need <= left && de->plus &&
			    inodes_child_path(ino, name, path, sizeof(path)) ==
				    0 &&
			    pfs_attr_entry(path, &child, &de->st, &e) == 0)
				given[ngiven++] = e.ino;
			if (need <= left)
				fuse_add_direntry_plus(req, buf + used, left,
						       name, &e,
						       (off_t)(i + 1));
		}
		if (need > left)
			break;
		used += need;
	}
	if (fuse_reply_buf(req, buf, used) != 0)
		for (size_t i = 0; i < ngiven; i++)
			inodes_forget(given[i], 1);
	free(buf);
	free(given);
}

void pfs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		 struct fuse_file_info *fi)
{
	dir_reply(req, ino, size, off, fi, 0);
}

void pfs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	dir_reply(req, ino, size, off, fi, 1);
}

void pfs_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	struct dir_handle *d = (struct dir_handle *)(uintptr_t)fi->fh;
	pthread_mutex_lock(&dirs_lock);
	list_del(&d->link);
	pthread_mutex_unlock(&dirs_lock);
	dir_clear(d);
	free(d);
	if (req)
		fuse_reply_err(req, 0);
}

void pfs_dir_cleanup(void)
{
	pthread_mutex_lock(&dirs_lock);
	while (!list_empty(&open_dirs)) {
		struct dir_handle *d =
			list_entry(open_dirs.next, struct dir_handle, link);
		list_del(&d->link);
		dir_clear(d);
		free(d);
	}
	pthread_mutex_unlock(&dirs_lock);
}

void pfs_readlink(fuse_req_t req, fuse_ino_t ino)
{
	cache_scope_begin();
	struct node n;
	char target[PFS_PATH_MAX + 1];
	int err = pfs_attr_node(ino, &n);
	if (!err && !n.type->link)
		err = -EINVAL;
	if (!err)
		err = n.type->link(&n, target, sizeof(target));
	if (err) {
		reply_err(req, err);
		return;
	}
	target[PFS_PATH_MAX] = '\0';
	fuse_reply_readlink(req, target);
}

void pfs_statfs(fuse_req_t req, fuse_ino_t ino)
{
	(void)ino;
	struct statvfs sv;
	memset(&sv, 0, sizeof(sv));
	sv.f_bsize = sv.f_frsize = 4096;
	sv.f_namemax = IDENT_MAX;
	fuse_reply_statfs(req, &sv);
}
