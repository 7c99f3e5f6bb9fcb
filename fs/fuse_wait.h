/* fuse_wait: reads of files whose content is not ready yet (`wait`),
 * kept without holding a worker thread and answered from whichever
 * thread learns that they can be; and poll(2) on those files. Private to
 * fs/. */
#ifndef PARTNERFS_FUSE_WAIT_H
#define PARTNERFS_FUSE_WAIT_H

#include "fuse_handle.h"

/* A read of h (NODE_BLOCKING) that has no content yet: answered at once
 * when the row's wait() is ready or fails, with EAGAIN when nonblock,
 * else kept until fuse_ops_wake_waiters(), an interrupt (EINTR) or the
 * end of the session (EINTR). */
void pfs_wait_read(fuse_req_t req, struct handle *h, size_t size, off_t off,
		   int nonblock);
void pfs_poll(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
	      struct fuse_pollhandle *ph);
/* The session is over: every kept read is answered (EINTR). */
void pfs_wait_cleanup(void);
/* Its lines of .partnerfs/stats: the reads kept now, the node ids the
 * kernel holds. */
void fuse_wait_render_stats(struct buf *out);

#endif
