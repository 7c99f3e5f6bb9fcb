/* notify: makes state changes visible to file watchers and readers of the
 * events log. The kernel raises no inotify event for changes a FUSE server
 * merely announces, so changes are replayed through the mountpoint: an
 * O_WRONLY open+close (IN_CLOSE_WRITE) and utimensat (IN_ATTRIB, then an
 * mtime-only IN_MODIFY) from the notifying thread, which the FUSE open lets
 * through by thread id.
 *
 * No separate kernel-cache invalidation is sent: files' attributes are
 * never cached (attr_timeout=0, fuse_attr.c), and the replay's own open
 * drops the file's page cache (no keep_cache), so the next reader sees
 * the new content and size; a reader holding the file open keeps its
 * snapshot. */
#ifndef PARTNERFS_NOTIFY_H
#define PARTNERFS_NOTIFY_H

#include <stdbool.h>
#include <sys/types.h>

#include "partnerfs/buf.h"
#include "partnerfs/nodes.h"

void notify_init(const char *mountpoint);
/* Stop touching the mount (before it goes away). */
void notify_stop(void);
void notify_cleanup(void);

/* Logs each of events (NUL-terminated lines), appends them to the events
 * log with a time stamp, and touches each of paths (below the
 * mountpoint, NUL-terminated) and the events log. */
void notify_changed(const struct buf *events, const struct buf *paths);

/* True while thread tid is replaying a change through the mount: only it
 * may write-open read-only files or set their times. */
bool notify_is_toucher(pid_t tid);

/* The events log so far (append-only; its length only grows). */
int notify_events_show(struct content *out);

#endif
