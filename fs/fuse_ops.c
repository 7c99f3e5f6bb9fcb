/* fuse_ops.c: FUSE callbacks only (libfuse's low-level API). Each one
 * resolves its node id to a node (inodes.c, tree.c) and asks the node's
 * row (nodes.c) to show, store, list or wait. Here live only the rules
 * every file shares: snapshots fixed from open() to release(), when a
 * write is handed to store(), who may write what. Names and directories
 * are in fuse_dir.c, attributes, their timeouts and xattrs in
 * fuse_attr.c, the refusals in fuse_refuse.c.
 * Every callback that may reach a document starts with cache_scope_begin(),
 * so that one request fetches one document at most once. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuse_attr.h"
#include "fuse_dir.h"
#include "fuse_handle.h"
#include "fuse_refuse.h"
#include "fuse_scratch.h"
#include "fuse_wait.h"
#include "partnerfs/buf.h"
#include "partnerfs/cache.h"
#include "partnerfs/clock.h"
#include "partnerfs/inodes.h"
#include "partnerfs/list.h"
#include "partnerfs/log.h"
#include "partnerfs/notify.h"
#include "partnerfs/prefetch.h"
#include "partnerfs/tree.h"

/* Every open handle. The kernel sends no release for files still open
 * when the session ends (SIGTERM with `tail -f events` running):
 * pfs_destroy frees what is left. */
/* How long after an open a stat by the opener is taken for its fstat. */
#define OPENER_WINDOW_S 0.1

pthread_mutex_t handles_lock = PTHREAD_MUTEX_INITIALIZER;
struct list_link open_handles = LIST_INIT(open_handles);

void reply_err(fuse_req_t req, int err)
{
	fuse_reply_err(req, -err);
}

static void handle_link(struct handle *h)
{
	pthread_mutex_lock(&handles_lock);
	list_add(&open_handles, &h->link);
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
	list_del(&h->link);
	pthread_mutex_unlock(&handles_lock);
	handle_free(h);
}

static pid_t pid_of(fuse_req_t req)
{
	return req ? fuse_req_ctx(req)->pid : 0;
}

struct handle *handle_of(struct fuse_file_info *fi)
{
	return fi ? (struct handle *)(uintptr_t)fi->fh : NULL;
}

/* The node of an open file, else of the node id. */
static int node_of(fuse_ino_t ino, struct fuse_file_info *fi, struct node *out)
{
	struct handle *h = handle_of(fi);
	if (!h)
		return pfs_attr_node(ino, out);
	*out = h->node;
	return 0;
}

/* fstat(2) reaches us as a GETATTR without the file handle, as a stat(2)
 * does. The thread that opened ino just now (the open and the fstat of
 * one `cat`) is shown its own snapshot, so that the size it is told is
 * what its reads return, and nothing is fetched again for it (with
 * cache_ttl=0, `cat f` would fetch f twice); later stats show the file as
 * it is now. 1 and st filled, or 0. */
static int attr_of_opener(fuse_ino_t ino, pid_t pid, struct node *n,
			  struct stat *st)
{
	int found = 0;
	pthread_mutex_lock(&handles_lock);
	for (struct list_link *l = open_handles.next; l != &open_handles;
	     l = l->next) {
		struct handle *h = list_entry(l, struct handle, link);
		if (h->ino != ino || h->opener != pid || !h->have_content ||
		    (h->node.type->flags & NODE_LIVE) ||
		    clock_mono_s() - h->opened_at > OPENER_WINDOW_S)
			continue;
		*n = h->node;
		found = pfs_attr_fill(n, &h->content, st) == 0;
		break;
	}
	pthread_mutex_unlock(&handles_lock);
	return found;
}

/* The attributes of ino, from the snapshot of an open file (fstat) while
 * it is open, as a read of it returns. */
static int attr_of(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
		   struct node *n, struct stat *st)
{
	struct handle *h = handle_of(fi);
	int err;
	if (!h && pid_of(req) && attr_of_opener(ino, pid_of(req), n, st)) {
		err = 0;
	} else if (h && !(h->node.type->flags & NODE_LIVE)) {
		*n = h->node;
		err = pfs_attr_fill(n, h->have_content ? &h->content : NULL,
				    st);
	} else {
		err = pfs_attr_node(ino, n);
		if (!err)
			err = pfs_attr_fill(n, NULL, st);
		if (!err)
			prefetch_note_read(pid_of(req), n);
	}
	st->st_ino = ino;
	return err;
}

static void reply_attr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct node n;
	struct stat st;
	int err = attr_of(req, ino, fi, &n, &st);
	if (err)
		reply_err(req, err);
	else
		fuse_reply_attr(req, &st, pfs_attr_timeout(ino, &n));
}

static void pfs_getattr(fuse_req_t req, fuse_ino_t ino,
			struct fuse_file_info *fi)
{
	cache_scope_begin();
	reply_attr(req, ino, fi);
}

static int caller_is_toucher(fuse_req_t req)
{
	return notify_is_toucher(fuse_req_ctx(req)->pid);
}

/* O_TRUNC before a rewrite: the document starts empty. Nothing is sent
 * for an open that then writes nothing (`: > cancel`). */
static int set_size(fuse_req_t req, const struct node *n, struct handle *h,
		    off_t size)
{
	if (!(n->type->flags & NODE_WRITABLE))
		return caller_is_toucher(req) ? 0 : -EACCES;
	if (h && (size_t)size < h->input.len)
		h->input.len = (size_t)size;
	return 0;
}

/* Times are the content's; setting them only signals watchers. */
static int set_times(fuse_req_t req, const struct node *n)
{
	if ((n->type->flags & NODE_WRITABLE) || caller_is_toucher(req))
		return 0;
	return -EACCES;
}

/* In the order libfuse's high-level layer applied them: mode and owner
 * are refused, then the size, then the times; the answer is the
 * attributes after. */
static void pfs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
			int to_set, struct fuse_file_info *fi)
{
	cache_scope_begin();
	struct node n;
	int err = pfs_refuse_setattr(to_set);
	if (!err)
		err = node_of(ino, fi, &n);
	if (!err && (to_set & FUSE_SET_ATTR_SIZE))
		err = set_size(req, &n, handle_of(fi), attr->st_size);
	if (!err && (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME)))
		err = set_times(req, &n);
	if (err)
		reply_err(req, err);
	else
		reply_attr(req, ino, fi);
}

static int open_handle(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct node n;
	int err = pfs_attr_node(ino, &n);
	if (err)
		return err;
	int writing = (fi->flags & O_ACCMODE) != O_RDONLY;
	int toucher = 0;
	if (writing && !(n.type->flags & NODE_WRITABLE)) {
		if (!caller_is_toucher(req))
			return -EACCES;
		toucher = 1;
	}
	struct handle *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->node = n;
	h->toucher = toucher;
	h->ino = ino;
	h->opener = pid_of(req);
	h->uid = fuse_req_ctx(req)->uid;
	h->gid = fuse_req_ctx(req)->gid;
	h->opened_at = clock_mono_s();
	/* Snapshot now, so a reader never sees half of two versions. */
	if (!toucher && n.type->show && !(n.type->flags & NODE_LIVE)) {
		err = n.type->show(&n, &h->content);
		if (err) {
			free(h);
			return err;
		}
		h->have_content = 1;
		prefetch_note_read(h->opener, &n);
	}
	fi->direct_io = !!(n.type->flags & NODE_DIRECT_IO);
	fi->keep_cache = 0;
	fi->fh = (uintptr_t)h;
	handle_link(h);
	return 0;
}

static void pfs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	cache_scope_begin();
	int err = open_handle(req, ino, fi);
	if (err)
		reply_err(req, err);
	else if (fuse_reply_open(req, fi) != 0)
		handle_unlink_free(handle_of(fi)); /* open was interrupted */
}

/* Replies with a copy, not the handle's own bytes: the kernel ends the
 * read inside fuse_reply_buf()'s writev(), and may send the release at
 * once, which another worker serves by freeing the handle before that
 * writev() has returned (AddressSanitizer checks the buffer after it). */
void reply_slice(fuse_req_t req, const struct content *c, size_t size,
		 off_t off)
{
	size_t n = 0;
	if ((size_t)off < c->len) {
		n = c->len - (size_t)off;
		if (n > size)
			n = size;
	}
	char *copy = n ? malloc(n) : NULL;
	if (n && !copy) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (n)
		memcpy(copy, c->data + off, n);
	fuse_reply_buf(req, copy, n);
	free(copy);
}

static void pfs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	cache_scope_begin();
	(void)ino;
	struct handle *h = handle_of(fi);
	const struct node_type *t = h->node.type;
	struct content live = {0};
	int err = 0;
	if ((t->flags & NODE_BLOCKING) && !h->have_content) {
		/* Answered now or later, from whichever thread sees it end. */
		pfs_wait_read(req, h, size, off, !!(fi->flags & O_NONBLOCK));
		return;
	}
	if (t->flags & NODE_LIVE)
		err = t->show(&h->node, &live);
	if (err)
		reply_err(req, err);
	else if (t->flags & NODE_LIVE)
		reply_slice(req, &live, size, off);
	else if (!h->have_content)
		fuse_reply_buf(req, NULL, 0);
	else
		reply_slice(req, &h->content, size, off);
	content_free(&live);
}

/* A document that refused what was written: the text is kept beside it
 * (close()'s error is all the writer hears, and shells ignore it). */
static void keep_refused(const struct handle *h, int err)
{
	char path[PFS_PATH_MAX];
	/* The document's own path: its node id may have moved to another
	 * name meanwhile (a rename away, an unlink). */
	if (tree_path(h->node.type, &h->node, path, sizeof(path)) == 0)
		pfs_keep_refused(path, h->input.data, h->input.len, h->uid,
				 h->gid, err);
	else
		log_warn("a refused save of %zu bytes could not be kept: its "
			 "path is too long",
			 h->input.len);
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
	} else if (err) {
		keep_refused(h, err);
	} else if (h->have_content) {
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

static int handle_write(struct handle *h, const char *data, size_t size,
			off_t off)
{
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
		return handle_store(h);
	}
	return 0;
}

static void pfs_write(fuse_req_t req, fuse_ino_t ino, const char *data,
		      size_t size, off_t off, struct fuse_file_info *fi)
{
	cache_scope_begin();
	(void)ino;
	int err = handle_write(handle_of(fi), data, size, off);
	if (err)
		reply_err(req, err);
	else
		fuse_reply_write(req, size);
}

static void pfs_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	cache_scope_begin();
	(void)ino;
	struct handle *h = handle_of(fi);
	reply_err(req, h ? handle_store(h) : 0);
}

static void pfs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		      struct fuse_file_info *fi)
{
	(void)datasync;
	pfs_flush(req, ino, fi);
}

static void pfs_release(fuse_req_t req, fuse_ino_t ino,
			struct fuse_file_info *fi)
{
	cache_scope_begin();
	(void)ino;
	struct handle *h = handle_of(fi);
	int err = 0;
	if (h && fi->flush)
		err = handle_store(h); /* the kernel asked: flush first */
	if (h)
		handle_unlink_free(h);
	reply_err(req, err);
}

static void pfs_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	cache_scope_begin();
	struct node n;
	int err = pfs_attr_node(ino, &n);
	if (!err && (mask & W_OK) && !(n.type->mode & 0200))
		err = -EACCES;
	reply_err(req, err);
}

/* The capabilities stay libfuse's defaults (no writeback cache: writes
 * reach store() as they are made). */
static void pfs_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	(void)conn;
	if (inodes_init() != 0)
		log_error("out of memory for the node table");
	node_meta_add_stats(fuse_wait_render_stats);
}

/* After the loop has joined its workers: no callback runs any more. */
static void pfs_destroy(void *userdata)
{
	(void)userdata;
	pfs_wait_cleanup();
	pthread_mutex_lock(&handles_lock);
	while (!list_empty(&open_handles)) {
		struct handle *h =
			list_entry(open_handles.next, struct handle, link);
		list_del(&h->link);
		handle_free(h);
	}
	pthread_mutex_unlock(&handles_lock);
	pfs_dir_cleanup();
	inodes_cleanup();
}

const struct fuse_lowlevel_ops partnerfs_ops = {
	.init = pfs_init,
	.destroy = pfs_destroy,
	.lookup = pfs_lookup,
	.forget = pfs_forget,
	.forget_multi = pfs_forget_multi,
	.getattr = pfs_getattr,
	.setattr = pfs_setattr,
	.readlink = pfs_readlink,
	.opendir = pfs_opendir,
	.readdir = pfs_readdir,
	.readdirplus = pfs_readdirplus,
	.releasedir = pfs_releasedir,
	.open = pfs_open,
	.read = pfs_read,
	.write = pfs_write,
	.flush = pfs_flush,
	.fsync = pfs_fsync,
	.release = pfs_release,
	.access = pfs_access,
	.getxattr = pfs_getxattr,
	.listxattr = pfs_listxattr,
	.statfs = pfs_statfs,
	.poll = pfs_poll,
	.mkdir = pfs_refuse_mkdir,
	.mknod = pfs_refuse_mknod,
	.create = pfs_refuse_create,
	.unlink = pfs_refuse_unlink,
	.rmdir = pfs_refuse_unlink,
	.rename = pfs_refuse_rename,
	.symlink = pfs_refuse_symlink,
	.link = pfs_refuse_link,
	.setxattr = pfs_refuse_setxattr,
	.removexattr = pfs_refuse_removexattr,
};
