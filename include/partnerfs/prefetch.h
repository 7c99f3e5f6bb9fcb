/* prefetch: cat, grep -l, tar and find -exec cat of the `status` of every
 * offer read one file after another, so over a real network every cold
 * file costs a round trip. When one process opens the same kind of
 * file in a second sibling of a listed directory, the other siblings'
 * files of that kind are fetched concurrently in the background, at most
 * N at once, each through the cache (so at most once per cache_ttl, and a
 * reader that gets there first simply fetches it itself or joins the
 * fetch in flight). Only reads of files start it (an open, or a stat,
 * which needs the document for st_size: a shell expanding a glob stats
 * each match before cat opens one), never a listing or a directory; and
 * not with cache_ttl under 1 s, where what it fetched would be stale
 * before a reader came. On EAGAIN
 * (429/503 after retries) it halves its concurrency and backs off.
 * Knows nothing of FUSE nor of any API: it works on nodes. */
#ifndef PARTNERFS_PREFETCH_H
#define PARTNERFS_PREFETCH_H

#include <sys/types.h>

#include "partnerfs/buf.h"
#include "partnerfs/nodes.h"

/* max_in_flight 0: off. 0 or -errno. */
int prefetch_start(int max_in_flight);
/* Stops and joins the workers; what is queued is dropped. */
void prefetch_stop(void);

/* Thread tid (a reader) opened the file n, or asked its attributes, for
 * which its document was fetched too; or listed the directory n (then the
 * siblings' listings are fetched: a glob through operations/ of every
 * offer). */
void prefetch_note_read(pid_t tid, const struct node *n);

/* Its lines of .partnerfs/stats. */
void prefetch_render_stats(struct buf *out);

#endif
