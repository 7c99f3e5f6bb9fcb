/* fuse_ops.c: FUSE callbacks only. Each one resolves its path to a node
 * (tree.c) and asks the node's row (nodes.c) to show, store, list or wait.
 * Here live only the rules every file shares: snapshots fixed from open()
 * to release(), when a write is handed to store(), who may write what.
 * Every callback that may reach a document starts with cache_scope_begin(),
 * so that one request fetches one document at most once. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "fuse_refuse.h"
#include "partnerfs/buf.h"
#include "partnerfs/cache.h"
#include "partnerfs/fuse_ops.h"
#include "partnerfs/notify.h"
#include "partnerfs/tree.h"
#include <fuse_lowlevel.h> /* fuse_session_exited */

#define XATTR_URL "user.partnerfs.url"
#define XATTR_ETAG "user.partnerfs.etag"

/* One open file. */
struct handle {
	struct node node;
	struct content content; /* what reads return; fixed at open */
	int have_content;
	struct buf input;	      /* bytes written, not yet stored */
	int input_pending;	      /* input holds something to store */
	int toucher;		      /* notify.c replaying a change */
	struct fuse_pollhandle *poll; /* a poll(2) waiting for `wait` */
	struct handle *prev, *next;   /* open_handles */
};

/* Every open handle. The kernel sends no release for files still open
 * when the session ends (SIGTERM with `tail -f events` running):
 * pfs_destroy frees what is left. */
static pthread_mutex_t handles_lock = PTHREAD_MUTEX_INITIALIZER;
static struct handle *open_handles;

static void handle_link(struct handle *h)
{
	pthread_mutex_lock(&handles_lock);
	h->next = open_handles;
	if (h->next)
		h->next->prev = h;
	open_handles = h;
	pthread_mutex_unlock(&handles_lock);
}

static void handle_free(struct handle *h)
{
	if (h->poll)
		fuse_pollhandle_destroy(h->poll);
	content_free(&h->content);
	buf_free(&h->input);
	free(h);
}

static void handle_unlink_free(struct handle *h)
{
	pthread_mutex_lock(&handles_lock);
	if (h->prev)
		h->prev->next = h->next;
	else
		open_handles = h->next;
	if (h->next)
		h->next->prev = h->prev;
	pthread_mutex_unlock(&handles_lock);
	handle_free(h);
}

static struct handle *handle_of(struct fuse_file_info *fi)
{
	return fi ? (struct handle *)(uintptr_t)fi->fh : NULL;
}

/* The node of an open file, else of the path. */
static int node_of(const char *path, struct fuse_file_info *fi,
		   struct node *out)
{
	struct handle *h = handle_of(fi);
	if (!h)
		return tree_resolve(path, out);
	*out = h->node;
	return 0;
}

static int is_dir(const struct node *n)
{
	return S_ISDIR(n->type->mode);
}

static void stat_fill_mode(const struct node *n, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = n->type->mode;
	st->st_nlink = is_dir(n) ? 2 : 1;
	st->st_uid = getuid();
	st->st_gid = getgid();
	st->st_blksize = 4096;
	st->st_mtime = st->st_ctime = st->st_atime = node_mount_time;
}

/* Full attributes: st_size is exactly what a read returns. */
static int stat_fill(const struct node *n, const struct content *snapshot,
		     struct stat *st)
{
	stat_fill_mode(n, st);
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
		err = n->type->show(n, &c);
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

static int pfs_getattr(const char *path, struct stat *st,
		       struct fuse_file_info *fi)
{
	cache_scope_begin();
	struct handle *h = handle_of(fi);
	if (h && !(h->node.type->flags & NODE_LIVE))
		return stat_fill(&h->node, h->have_content ? &h->content : NULL,
				 st);
	struct node n;
	int err = tree_resolve(path, &n);
	return err ? err : stat_fill(&n, NULL, st);
}

struct readdir_ctx {
	void *buf;
	fuse_fill_dir_t filler;
};

static int readdir_fill(void *arg, const char *name, const struct node *child)
{
	struct readdir_ctx *rc = arg;
	struct stat st;
	stat_fill_mode(child, &st);
	/* Directories' attributes cost nothing: hand them to the kernel
	 * (readdirplus). A file's size may need its document, which
	 * `ls` without -l never asks for. */
	enum fuse_fill_dir_flags flags = 0;
	if (is_dir(child) && child->type->show &&
	    stat_fill(child, NULL, &st) == 0)
		flags = FUSE_FILL_DIR_PLUS;
	return rc->filler(rc->buf, name, &st, 0, flags) ? -ENOBUFS : 0;
}

static int pfs_readdir(const char *path, void *buf, fuse_fill_dir_t filler,
		       off_t off, struct fuse_file_info *fi,
		       enum fuse_readdir_flags flags)
{
	cache_scope_begin();
	(void)off;
	(void)fi;
	(void)flags;
	struct node n;
	int err = tree_resolve(path, &n);
	if (err)
		return err;
	if (!is_dir(&n))
		return -ENOTDIR;
	filler(buf, ".", NULL, 0, 0);
	filler(buf, "..", NULL, 0, 0);
	struct readdir_ctx rc = {buf, filler};
	err = tree_list(&n, readdir_fill, &rc);
	return err == -ENOBUFS ? 0 : err;
}

static int pfs_readlink(const char *path, char *buf, size_t size)
{
	cache_scope_begin();
	struct node n;
	int err = tree_resolve(path, &n);
	if (err)
		return err;
	if (!n.type->link)
		return -EINVAL;
	return n.type->link(&n, buf, size);
}

static int caller_is_toucher(void)
{
	return notify_is_toucher(fuse_get_context()->pid);
}

static int pfs_open(const char *path, struct fuse_file_info *fi)
{
	cache_scope_begin();
	struct node n;
	int err = tree_resolve(path, &n);
	if (err)
		return err;
	int writing = (fi->flags & O_ACCMODE) != O_RDONLY;
	int toucher = 0;
	if (writing && !(n.type->flags & NODE_WRITABLE)) {
		if (!caller_is_toucher())
			return -EACCES;
		toucher = 1;
	}
	struct handle *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->node = n;
	h->toucher = toucher;
	/* Snapshot now, so a reader never sees half of two versions. */
	if (!toucher && n.type->show && !(n.type->flags & NODE_LIVE)) {
		err = n.type->show(&n, &h->content);
		if (err) {
			free(h);
			return err;
		}
		h->have_content = 1;
	}
	fi->direct_io = !!(n.type->flags & NODE_DIRECT_IO);
	fi->keep_cache = 0;
	fi->fh = (uintptr_t)h;
	handle_link(h);
	return 0;
}

/* A blocked `wait` ends on an interrupt (Ctrl-C) and also when the
 * session is going away: the loop joins its workers before main() stops
 * the tracker, so a wait left blocked there would hang the unmount. */
static int wait_interrupted(void)
{
	struct fuse_context *ctx = fuse_get_context();
	return fuse_interrupted() ||
	       (ctx && ctx->fuse &&
		fuse_session_exited(fuse_get_session(ctx->fuse)));
}

static int pfs_read(const char *path, char *buf, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	cache_scope_begin();
	(void)path;
	struct handle *h = handle_of(fi);
	const struct node_type *t = h->node.type;
	struct content live = {0};
	const struct content *c = &h->content;
	int err = 0;
	if ((t->flags & NODE_BLOCKING) && !h->have_content) {
		struct content got = {0};
		err = t->wait(&h->node, !!(fi->flags & O_NONBLOCK),
			      wait_interrupted, &got);
		if (err)
			return err;
		/* A poll(2) on this handle may have filled it meanwhile. */
		pthread_mutex_lock(&handles_lock);
		if (!h->have_content) {
			h->content = got;
			h->have_content = 1;
		} else {
			content_free(&got);
		}
		pthread_mutex_unlock(&handles_lock);
	} else if (t->flags & NODE_LIVE) {
		err = t->show(&h->node, &live);
		if (err)
			return err;
		c = &live;
	} else if (!h->have_content) {
		return 0;
	}
	size_t n = 0;
	if ((size_t)off < c->len) {
		n = c->len - (size_t)off;
		if (n > size)
			n = size;
		memcpy(buf, c->data + off, n);
	}
	content_free(&live);
	return (int)n;
}

/* Hands the pending input to the row's store(). */
static int handle_store(struct handle *h)
{
	if (!h->input_pending)
		return 0;
	h->input_pending = 0;
	int err = h->node.type->store(
		&h->node, h->have_content ? &h->content : NULL,
		h->input.data ? h->input.data : "", h->input.len);
	if (h->node.type->flags & NODE_LINES) {
		buf_reset(&h->input); /* each list is sent once */
	} else if (!err && h->have_content) {
		/* A document stays whole in the handle: writes after an
		 * fsync() make a new version of it, which must be sent with
		 * the ETag the first one got, not the one read at open. */
		struct content now = {0};
		if (h->node.type->show(&h->node, &now) == 0) {
			content_free(&h->content);
			h->content = now;
		}
	}
	return err;
}

static int pfs_write(const char *path, const char *data, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	cache_scope_begin();
	(void)path;
	struct handle *h = handle_of(fi);
	if (h->toucher || !(h->node.type->flags & NODE_WRITABLE))
		return -EBADF;
	if (h->node.type->flags & NODE_LINES) {
		/* Control files take a stream of lines: offsets do not
		 * matter, each completed line sends what came before it. */
		if (buf_append(&h->input, data, size))
			return -ENOMEM;
	} else {
		/* Documents are files: honour the offset (editors rewrite). */
		size_t end = (size_t)off + size;
		if (end > h->input.len) {
			size_t grow = end - h->input.len;
			char *zeros = calloc(1, grow);
			int nomem =
				!zeros || buf_append(&h->input, zeros, grow);
			free(zeros);
			if (nomem)
				return -ENOMEM;
		}
		memcpy(h->input.data + off, data, size);
	}
	h->input_pending = 1;
	if ((h->node.type->flags & NODE_LINES) && h->input.len &&
	    h->input.data[h->input.len - 1] == '\n') {
		/* The request is made inside write() and write() returns its
		 * outcome: shells do not report errors from close(). */
		int err = handle_store(h);
		if (err)
			return err;
	}
	return (int)size;
}

static int pfs_flush(const char *path, struct fuse_file_info *fi)
{
	cache_scope_begin();
	(void)path;
	struct handle *h = handle_of(fi);
	return h ? handle_store(h) : 0;
}

static int pfs_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	cache_scope_begin();
	(void)datasync;
	return pfs_flush(path, fi);
}

static int pfs_release(const char *path, struct fuse_file_info *fi)
{
	cache_scope_begin();
	(void)path;
	struct handle *h = handle_of(fi);
	if (h)
		handle_unlink_free(h);
	return 0;
}

static int pfs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	cache_scope_begin();
	struct handle *h = handle_of(fi);
	struct node n;
	int err = node_of(path, fi, &n);
	if (err)
		return err;
	if (!(n.type->flags & NODE_WRITABLE))
		return caller_is_toucher() ? 0 : -EACCES;
	/* O_TRUNC before a rewrite: the document starts empty. Nothing is
	 * sent for an open that then writes nothing (`: > cancel`). */
	if (h && (size_t)size < h->input.len)
		h->input.len = (size_t)size;
	return 0;
}

static int pfs_utimens(const char *path, const struct timespec tv[2],
		       struct fuse_file_info *fi)
{
	cache_scope_begin();
	(void)tv;
	struct node n;
	int err = node_of(path, fi, &n);
	if (err)
		return err;
	/* Times are the content's; setting them only signals watchers. */
	if ((n.type->flags & NODE_WRITABLE) || caller_is_toucher())
		return 0;
	return -EACCES;
}

static int pfs_access(const char *path, int mask)
{
	cache_scope_begin();
	struct node n;
	int err = tree_resolve(path, &n);
	if (err)
		return err;
	if ((mask & W_OK) && !(n.type->mode & 0200))
		return -EACCES;
	return 0;
}

static int pfs_getxattr(const char *path, const char *name, char *value,
			size_t size)
{
	cache_scope_begin();
	int is_url = strcmp(name, XATTR_URL) == 0;
	/* Only the user namespace is served. Saying so for the others
	 * (ENOTSUP, as the kernel does for a namespace a file system has no
	 * handler for) lets `ls -l` stop asking every entry for its SELinux
	 * label and ACL: coreutils remembers an unsupported device. */
	if (strncmp(name, "user.", 5) != 0)
		return -ENOTSUP;
	if (!is_url && strcmp(name, XATTR_ETAG) != 0)
		return -ENODATA;
	struct node n;
	int err = tree_resolve(path, &n);
	if (err)
		return err;
	if (!n.type->show || is_dir(&n) || (n.type->flags & NODE_LIVE))
		return -ENODATA;
	struct content c = {0};
	err = n.type->show(&n, &c);
	if (err)
		return err;
	const char *v = is_url ? c.url : c.etag;
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

static int pfs_listxattr(const char *path, char *list, size_t size)
{
	cache_scope_begin();
	struct node n;
	int err = tree_resolve(path, &n);
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
	int len = (int)names.len;
	if (size && names.len > size)
		len = -ERANGE;
	else if (size && names.len)
		memcpy(list, names.data, names.len);
	buf_free(&names);
	content_free(&c);
	return len;
}

static int pfs_statfs(const char *path, struct statvfs *sv)
{
	(void)path;
	memset(sv, 0, sizeof(*sv));
	sv->f_bsize = sv->f_frsize = 4096;
	sv->f_namemax = IDENT_MAX;
	return 0;
}

/* Whether a blocking read would return now; if so the content is kept
 * for that read. 0, -EAGAIN, or the error the read would give. */
static int handle_try_wait(struct handle *h)
{
	if (h->have_content)
		return 0;
	int err = h->node.type->wait(&h->node, 1, NULL, &h->content);
	if (!err)
		h->have_content = 1;
	return err;
}

/* poll(2)/select(2) on `wait` report readable once the operation is over;
 * every other file is always ready, as a regular file is. */
static int pfs_poll(const char *path, struct fuse_file_info *fi,
		    struct fuse_pollhandle *ph, unsigned *reventsp)
{
	cache_scope_begin();
	(void)path;
	struct handle *h = handle_of(fi);
	if (!(h->node.type->flags & NODE_BLOCKING)) {
		*reventsp = POLLIN | POLLOUT;
		if (ph)
			fuse_pollhandle_destroy(ph);
		return 0;
	}
	pthread_mutex_lock(&handles_lock);
	int err = handle_try_wait(h);
	*reventsp = err == 0 ? POLLIN : err == -EAGAIN ? 0 : POLLERR;
	if (ph && err == -EAGAIN) {
		if (h->poll)
			fuse_pollhandle_destroy(h->poll);
		h->poll = ph; /* fuse_ops_wake_pollers answers it */
	} else if (ph) {
		fuse_pollhandle_destroy(ph);
	}
	pthread_mutex_unlock(&handles_lock);
	return 0;
}

void fuse_ops_wake_pollers(void)
{
	pthread_mutex_lock(&handles_lock);
	for (struct handle *h = open_handles; h; h = h->next) {
		if (!h->poll || handle_try_wait(h) == -EAGAIN)
			continue;
		/* The kernel asks pfs_poll again, which now says POLLIN. */
		fuse_notify_poll(h->poll);
		fuse_pollhandle_destroy(h->poll);
		h->poll = NULL;
	}
	pthread_mutex_unlock(&handles_lock);
}

static void *pfs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	(void)conn;
	/* Attributes come from memory, so asking costs little, and a stale
	 * st_size would cut a read of a status that just grew. */
	cfg->attr_timeout = 0;
	cfg->entry_timeout = 1;
	cfg->negative_timeout = 0;
	cfg->kernel_cache = 0;
	cfg->nullpath_ok = 0;
	return NULL;
}

/* After the loop has joined its workers: no callback runs any more. */
static void pfs_destroy(void *private_data)
{
	(void)private_data;
	pthread_mutex_lock(&handles_lock);
	while (open_handles) {
		struct handle *h = open_handles;
		open_handles = h->next;
		handle_free(h);
	}
	pthread_mutex_unlock(&handles_lock);
}

const struct fuse_operations partnerfs_ops = {
	.init = pfs_init,
	.destroy = pfs_destroy,
	.getattr = pfs_getattr,
	.readdir = pfs_readdir,
	.readlink = pfs_readlink,
	.open = pfs_open,
	.read = pfs_read,
	.write = pfs_write,
	.flush = pfs_flush,
	.fsync = pfs_fsync,
	.release = pfs_release,
	.truncate = pfs_truncate,
	.utimens = pfs_utimens,
	.access = pfs_access,
	.getxattr = pfs_getxattr,
	.listxattr = pfs_listxattr,
	.statfs = pfs_statfs,
	.poll = pfs_poll,
	.mkdir = pfs_refuse_path,
	.mknod = pfs_refuse_mknod,
	.create = pfs_refuse_create,
	.unlink = pfs_refuse_unlink,
	.rmdir = pfs_refuse_unlink,
	.rename = pfs_refuse_rename,
	.symlink = pfs_refuse_two_names,
	.link = pfs_refuse_two_names,
	.chmod = pfs_refuse_chmod,
	.chown = pfs_refuse_chown,
	.setxattr = pfs_refuse_setxattr,
	.removexattr = pfs_refuse_two_names,
};
