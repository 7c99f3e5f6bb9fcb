/* fuse_scratch.h: scratch files in the FUSE layer (fuse_scratch.c). The
 * callbacks that create, rename and unlink, and those that serve a file,
 * wrap fuse_ops.c's: a scratch file or a document being replaced is
 * served here, everything else goes on to the wrapped callback unchanged.
 * Private to fs/. */
#ifndef PARTNERFS_FUSE_SCRATCH_H
#define PARTNERFS_FUSE_SCRATCH_H

#include "partnerfs/fuse_ops.h"
#include "partnerfs/nodes.h"

/* *out is *base with the wrapping callbacks in place; base is copied, and
 * out must be what the session is made with (it is copied too). */
void fuse_scratch_ops(const struct fuse_lowlevel_ops *base,
		      struct fuse_lowlevel_ops *out);

/* The document at path refused a save of data with err: keeps data
 * beside it as "<name>.rejected", a scratch file of uid's (mode 0600),
 * so that nothing written is lost (a shell ignores close()'s error).
 * Renaming it onto the document saves it again. Logs where it went. */
void pfs_keep_refused(const char *path, const char *data, size_t len, uid_t uid,
		      gid_t gid, int err);

/* For a listing of directory dir (fuse_dir.c): calls fill for each scratch
 * file in it. The names of documents unlinked there show again from now:
 * a listing ends the wait for their replacement. 0 or the first error. */
int pfs_scratch_list(fuse_ino_t dir, node_fill_fn fill, void *ctx);

#endif
