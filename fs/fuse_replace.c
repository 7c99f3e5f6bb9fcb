/* fuse_replace.c: where scratch files meet documents (see fuse_scratch.c):
 * unlink of a document marks it as being replaced, a replacement's flush
 * and the rename of a scratch file onto a document send it, rename of a
 * document away copies it.
 * Nothing remote is ever deleted. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h> /* RENAME_NOREPLACE, RENAME_EXCHANGE */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuse_attr.h"
#include "fuse_scratch_impl.h"
#include "partnerfs/cache.h"
#include "partnerfs/inodes.h"
#include "partnerfs/scratch.h"
#include "partnerfs/tree.h"

/* Writes s's bytes whole to the document at path, as a writer that opens
 * it, writes and closes would: show() gives the version it would have
 * read (whose ETag guards the store), then one store(). 0 or -errno. */
int scratch_store_document(const char *path, struct scratch *s)
{
	struct node n;
	int err = scratch_document_at(path, &n);
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
 * between must not see bytes the document does not hold. Refused, the
 * replacement itself is kept beside the document, so that writes after
 * a failed fsync() are not lost either. */
int scratch_flush_replacement(struct scratch *s)
{
	struct scratch_attr a;
	char path[PFS_PATH_MAX];
	scratch_stat(s, &a);
	if (!a.replaces || !a.named || !scratch_take_dirty(s) ||
	    scratch_path(s, path, sizeof(path)) != 0)
		return 0;
	int err = scratch_store_document(path, s);
	int kept = err && a.size ? scratch_keep_replacement(path, s, a.uid,
							    a.gid, err)
				 : -1;
	/* -ENOENT: it was unlinked or renamed meanwhile; its name is not
	 * the document's to take back. */
	if (kept != 0 && kept != -ENOENT)
		scratch_unname(s);
	return err;
}

void scratch_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	char path[PFS_PATH_MAX];
	struct node n;
	if (inodes_child_path(parent, name, path, sizeof(path)) != 0) {
		scratch_base.unlink(req, parent, name);
		return;
	}
	if (scratch_remove(path) == 0) {
		inodes_detach(path);
		scratch_reply_err(req, 0);
		return;
	}
	if (scratch_document_at(path, &n) != 0) {
		scratch_base.unlink(req, parent, name);
		return;
	}
	/* Nothing is deleted: the name waits a moment for its replacement,
	 * and a new id is made for it (the kernel now counts the old one as
	 * unlinked). */
	scratch_mark(path);
	inodes_detach(path);
	scratch_reply_err(req, 0);
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
	if (!scratch_holds_documents(to))
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
	err = scratch_store_document(to, s);
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
	if (!scratch_holds_documents(to))
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

void scratch_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		    fuse_ino_t newparent, const char *newname,
		    unsigned int flags)
{
	cache_scope_begin();
	char from[PFS_PATH_MAX], to[PFS_PATH_MAX];
	struct node n;
	if ((flags & RENAME_EXCHANGE) ||
	    inodes_child_path(parent, name, from, sizeof(from)) != 0 ||
	    inodes_child_path(newparent, newname, to, sizeof(to)) != 0) {
		scratch_base.rename(req, parent, name, newparent, newname,
				    flags);
		return;
	}
	struct scratch *s = scratch_get(from);
	int err;
	if (s)
		err = rename_scratch(s, from, to, flags);
	else if (!scratch_marked(from) && scratch_document_at(from, &n) == 0)
		err = rename_document(req, &n, from, to, flags);
	else {
		scratch_base.rename(req, parent, name, newparent, newname,
				    flags);
		return;
	}
	scratch_put(s);
	scratch_reply_err(req, err);
}
