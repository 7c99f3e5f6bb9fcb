/* notify: makes state changes visible to file watchers. The kernel raises
 * no inotify event for changes a FUSE server merely announces, so each
 * changed file is touched through the mountpoint: an O_WRONLY open+close
 * (IN_CLOSE_WRITE: entr, systemd PathChanged=) and utimensat (IN_ATTRIB,
 * then an mtime-only IN_MODIFY), which the FUSE open lets through for the
 * toucher alone (recognised by its pid).
 *
 * Pollers never wait for the mount: notify_changed() only appends to the
 * events log and puts the paths on a bounded queue (a path already queued
 * is not queued twice: many changes of one file before it is touched are
 * one touch). A notifier thread hands them to the toucher, a small child
 * process: a daemon thread blocked in a request on its own mount could not
 * be ended by SIGKILL (the kernel waits for an answer only the dying daemon
 * could give), a separate process is ended when the connection goes.
 *
 * No kernel-cache invalidation is needed: files' attributes are never
 * cached (attr_timeout 0, fuse_attr.c), and the touch's open drops the
 * file's page cache (no keep_cache), so the next reader sees the new
 * content and size; a reader holding the file open keeps its snapshot. */
#ifndef PARTNERFS_NOTIFY_H
#define PARTNERFS_NOTIFY_H

#include <stdbool.h>
#include <sys/types.h>

#include "partnerfs/buf.h"

/* Starts the toucher (before any other thread exists: it is forked) and
 * the notifier. fuse_fd is the session's /dev/fuse descriptor, which the
 * toucher must not keep open. 0 or -errno (watchers are then not told;
 * the mount works). */
int notify_init(const char *mountpoint, int fuse_fd);
/* Stops touching the mount (before it goes away): the queue is dropped,
 * the toucher ended. */
void notify_stop(void);
void notify_cleanup(void);

/* Appends each of events (NUL-terminated lines) to the events log, logs
 * them, and queues each of paths (below the mountpoint, NUL-terminated)
 * and /events for a touch. Never waits for the mount. */
void notify_changed(const struct buf *events, const struct buf *paths);

/* True for the toucher: only it may write-open read-only files or set
 * their times. */
bool notify_is_toucher(pid_t tid);

/* Paths queued now, touched and dropped (queue full) so far. */
void notify_stats(unsigned long *queued, unsigned long *touched,
		  unsigned long *dropped);

#endif
