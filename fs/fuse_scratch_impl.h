/* fuse_scratch_impl.h: what fuse_scratch.c and fuse_replace.c share.
 * Private to fs/. */
#ifndef PARTNERFS_FUSE_SCRATCH_IMPL_H
#define PARTNERFS_FUSE_SCRATCH_IMPL_H

#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>

#include "partnerfs/nodes.h"
#include "partnerfs/scratch.h"

/* The callbacks scratch files wrap: what is not theirs goes there. */
extern struct fuse_lowlevel_ops scratch_base;

void scratch_reply_err(fuse_req_t req, int err);
/* Whether path's directory holds writable documents. */
int scratch_holds_documents(const char *path);
/* The document at path: 0, -ENOENT when nothing is there, -EPERM when
 * something that is not a document is. */
int scratch_document_at(const char *path, struct node *n);
/* Writes s's bytes whole to the document at path, as a writer that opens
 * it, writes and closes would: show() gives the version it would have
 * read (whose ETag guards the store), then one store(). 0 or -errno. */
int scratch_store_document(const char *path, struct scratch *s);

/* fuse_keep.c: s, the replacement at path that the document refused
 * with err, becomes the kept copy beside it (pfs_keep_refused, for a
 * file of its own). 0 or -errno (-ENOENT: s was unlinked or renamed
 * meanwhile); logs where it went. */
int scratch_keep_replacement(const char *path, struct scratch *s, uid_t uid,
			     gid_t gid, int err);

/* fuse_replace.c */
/* Stores a replacement's bytes, when it is one and was written to, to
 * the document it replaces; its name is the document's again after.
 * 0 or the store's -errno (the bytes are then kept beside it). */
int scratch_flush_replacement(struct scratch *s);
void scratch_unlink(fuse_req_t req, fuse_ino_t parent, const char *name);
void scratch_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		    fuse_ino_t newparent, const char *newname,
		    unsigned int flags);

#endif
