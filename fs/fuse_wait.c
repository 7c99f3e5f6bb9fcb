/* fuse_wait.c: reads that wait (see fuse_wait.h).
 *
 * A reader of `wait` must not hold one of libfuse's workers while its
 * operation runs: 500 readers (a shell loop of `cat .../wait &`)
 * would take every worker, and nothing else would be answered. The
 * low-level API lets a request be answered from any thread, later: a read
 * that cannot be answered yet is kept on a list, and the poller that sees
 * an operation change (fuse_ops_wake_waiters) answers those that are now
 * ready. Ctrl-C arrives as an INTERRUPT for the kept request, answered
 * with EINTR from the thread that reads it.
 *
 * Who answers is decided under handles_lock: the first to take a kept
 * read off the list answers it, no one else. fuse_req_interrupt_func may
 * call its callback at once (the request was interrupted already), so it
 * is never called with the lock held. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>

#include "fuse_wait.h"
#include "partnerfs/cache.h"
#include "partnerfs/fuse_ops.h"
#include "partnerfs/inodes.h"
#include "partnerfs/log.h"

struct kept_read {
	struct list_link link; /* in kept_reads */
	fuse_req_t req;
	struct handle *h;
	size_t size;
	off_t off;
	int err; /* once taken off the list: what the read answers */
};

static struct list_link kept_reads = LIST_INIT(kept_reads);
static unsigned long kept_count;

/* Whether h's content is ready; if so it is kept for every read of h.
 * 0, -EAGAIN, or the error the read gives. Under handles_lock. */
static int handle_try_wait(struct handle *h)
{
	if (h->have_content)
		return 0;
	int err = h->node.type->wait(&h->node, &h->content);
	if (!err)
		h->have_content = 1;
	return err;
}

static void kept_free(struct kept_read *k)
{
	list_del(&k->link);
	kept_count--;
	free(k);
}

/* Answers a read that is off the list (it is ours alone now). */
static void answer(fuse_req_t req, struct handle *h, size_t size, off_t off,
		   int err)
{
	if (err)
		reply_err(req, err);
	else
		reply_slice(req, &h->content, size, off);
}

static void on_interrupt(fuse_req_t req, void *unused)
{
	(void)unused;
	struct kept_read *k = NULL;
	pthread_mutex_lock(&handles_lock);
	for (struct list_link *l = kept_reads.next; l != &kept_reads;
	     l = l->next)
		if (list_entry(l, struct kept_read, link)->req == req) {
			k = list_entry(l, struct kept_read, link);
			kept_free(k);
			break;
		}
	pthread_mutex_unlock(&handles_lock);
	/* Not found: answered already, or not yet kept (pfs_wait_read sees
	 * the interrupt itself). */
	if (k)
		fuse_reply_err(req, EINTR);
}

void pfs_wait_read(fuse_req_t req, struct handle *h, size_t size, off_t off,
		   int nonblock)
{
	struct kept_read *k = nonblock ? NULL : calloc(1, sizeof(*k));
	if (k) {
		k->req = req;
		k->h = h;
		k->size = size;
		k->off = off;
		fuse_req_interrupt_func(req, on_interrupt, NULL);
	}
	pthread_mutex_lock(&handles_lock);
	int err = handle_try_wait(h);
	if (err == -EAGAIN && k) {
		if (fuse_req_interrupted(req)) {
			err = -EINTR;
		} else {
			list_add(&kept_reads, &k->link);
			kept_count++;
			k = NULL;
		}
	} else if (err == -EAGAIN && !nonblock) {
		err = -ENOMEM;
	}
	int kept = err == -EAGAIN && !nonblock;
	pthread_mutex_unlock(&handles_lock);
	free(k);
	if (!kept)
		answer(req, h, size, off, err);
}

/* poll(2)/select(2) on `wait` report readable once it is over; every other
 * file is always ready, as a regular file is. */
void pfs_poll(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
	      struct fuse_pollhandle *ph)
{
	cache_scope_begin();
	(void)ino;
	struct handle *h = handle_of(fi);
	if (!(h->node.type->flags & NODE_BLOCKING)) {
		if (ph)
			fuse_pollhandle_destroy(ph);
		fuse_reply_poll(req, POLLIN | POLLOUT);
		return;
	}
	pthread_mutex_lock(&handles_lock);
	int err = handle_try_wait(h);
	unsigned revents = err == 0 ? POLLIN : err == -EAGAIN ? 0 : POLLERR;
	if (ph && err == -EAGAIN) {
		if (h->poll)
			fuse_pollhandle_destroy(h->poll);
		h->poll = ph; /* fuse_ops_wake_waiters answers it */
	} else if (ph) {
		fuse_pollhandle_destroy(ph);
	}
	pthread_mutex_unlock(&handles_lock);
	fuse_reply_poll(req, revents);
}

/* The kept reads that can be answered now move to ready. */
static void take_ready_locked(struct list_link *ready)
{
	for (struct list_link *l = kept_reads.next, *next; l != &kept_reads;
	     l = next) {
		next = l->next;
		struct kept_read *k = list_entry(l, struct kept_read, link);
		k->err = handle_try_wait(k->h);
		if (k->err == -EAGAIN)
			continue;
		list_del(&k->link);
		kept_count--;
		list_add(ready, &k->link);
	}
}

/* poll(2) callers of a file that is ready now are told so: the kernel
 * asks pfs_poll again, which then says POLLIN. */
static void wake_pollers_locked(void)
{
	for (struct list_link *l = open_handles.next; l != &open_handles;
	     l = l->next) {
		struct handle *h = list_entry(l, struct handle, link);
		if (!h->poll || handle_try_wait(h) == -EAGAIN)
			continue;
		fuse_lowlevel_notify_poll(h->poll);
		fuse_pollhandle_destroy(h->poll);
		h->poll = NULL;
	}
}

void fuse_ops_wake_waiters(void)
{
	struct list_link ready = LIST_INIT(ready);
	pthread_mutex_lock(&handles_lock);
	take_ready_locked(&ready);
	wake_pollers_locked();
	pthread_mutex_unlock(&handles_lock);
	/* Answered without the lock: a reply is a write to /dev/fuse. */
	while (!list_empty(&ready)) {
		struct kept_read *k =
			list_entry(ready.next, struct kept_read, link);
		list_del(&k->link);
		answer(k->req, k->h, k->size, k->off, k->err);
		free(k);
	}
}

void pfs_wait_cleanup(void)
{
	pthread_mutex_lock(&handles_lock);
	while (!list_empty(&kept_reads)) {
		struct kept_read *k =
			list_entry(kept_reads.next, struct kept_read, link);
		/* The kernel has gone; the answer only frees the request. */
		fuse_reply_err(k->req, EINTR);
		kept_free(k);
	}
	pthread_mutex_unlock(&handles_lock);
}

void fuse_wait_render_stats(struct buf *out)
{
	pthread_mutex_lock(&handles_lock);
	unsigned long n = kept_count;
	pthread_mutex_unlock(&handles_lock);
	buf_printf(out, "reads_waiting %lu\nnodes_known %zu\n", n,
		   inodes_count());
}
