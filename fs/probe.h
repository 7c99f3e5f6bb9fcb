/* probe: makes the kernel forget a name it no longer needs. The kernel
 * keeps every name it has looked up until memory runs short, and the node
 * table a path for each (with it, every operation a mount has seen). A
 * daemon thread cannot simply tell the kernel to drop a name
 * (fuse_lowlevel_notify_inval_entry): that waits for the directory's
 * lock, which a LOOKUP in the directory holds until a worker answers it;
 * after a kill -9 no worker does, and the thread, the daemon and the
 * mount hang for good. Instead a helper process, the prober (child.h),
 * walks to the name once its entry has expired; the kernel asks again,
 * the daemon answers the prober alone that it is not there (probe_hides),
 * and the kernel drops the entry and everything below it that is unused,
 * and sends FORGET. Only the prober's lookups are ever answered so: the
 * toucher and users never are. A directory that is some process's
 * working directory (or root) is not probed: the kernel would unhash it
 * under that process, whose getcwd() would fail. Private to fs/. */
#ifndef PARTNERFS_PROBE_H
#define PARTNERFS_PROBE_H

#include <stdbool.h>
#include <sys/types.h>

#include "partnerfs/buf.h"

/* Starts the prober (before any thread exists: it is forked). 0 or
 * -errno (then names are not forgotten; the mount works). */
int probe_init(const char *mountpoint, int fuse_fd);
void probe_stop(void);

/* Probes each of paths (NUL-terminated, below the mountpoint) not being
 * probed already, as far as the prober keeps up; forgets probes long
 * done. Never waits. */
void probe_paths(const struct buf *paths);
/* True when a LOOKUP of path by thread tid is the prober's: answer
 * ENOENT. */
bool probe_hides(pid_t tid, const char *path);

/* Its line of .partnerfs/stats. */
void probe_render_stats(struct buf *out);

#endif
