/* fuse_handle.h: an open file, as the FUSE callbacks (fuse_ops.c) and the
 * reads that wait (fuse_wait.c) share it. Private to fs/. */
#ifndef PARTNERFS_FUSE_HANDLE_H
#define PARTNERFS_FUSE_HANDLE_H

#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>
#include <pthread.h>

#include "partnerfs/buf.h"
#include "partnerfs/list.h"
#include "partnerfs/nodes.h"

/* One open file. */
struct handle {
	struct node node;
	struct content content; /* what reads return; fixed at open */
	int have_content;
	struct buf input;	      /* bytes written, not yet stored */
	int input_pending;	      /* input holds something to store */
	int toucher;		      /* notify.c replaying a change */
	struct fuse_pollhandle *poll; /* a poll(2) waiting for `wait` */
	fuse_ino_t ino;
	pid_t opener;	       /* the thread that opened it */
	uid_t uid;	       /* and whose it is: a refused save */
	gid_t gid;	       /* is kept for them */
	double opened_at;      /* monotonic */
	struct list_link link; /* in open_handles */
};

/* Guards every handle's content, poll handle and the list of them. */
extern pthread_mutex_t handles_lock;
/* Every open handle. */
extern struct list_link open_handles;

struct handle *handle_of(struct fuse_file_info *fi);
void reply_err(fuse_req_t req, int err);
/* Replies to a read with bytes [off, off + size) of c, copied. */
void reply_slice(fuse_req_t req, const struct content *c, size_t size,
		 off_t off);

#endif
