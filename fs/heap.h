/* heap: what the daemon's malloc holds, and giving back what it freed.
 * glibc returns freed memory to the kernel only from the top of a heap;
 * pages freed below a block still in use stay resident, so after a burst
 * (a long listing, a wave of operations) RSS would stay at the burst's
 * peak. Private to fs/. */
#ifndef PARTNERFS_HEAP_H
#define PARTNERFS_HEAP_H

#include "partnerfs/buf.h"

/* First thing in main, before any thread: sets malloc up so that RSS
 * follows what is live (see heap.c). May re-execute the program (argv)
 * once to do so; returns when it did not or could not. */
void heap_setup(char *argv[]);

/* Gives the free pages of every arena back to the kernel when more than
 * HEAP_TRIM_SLACK bytes are free; cheap enough for a tick of seconds.
 * Returns 1 when it trimmed. */
int heap_trim_slack(void);

/* heap_in_use, heap_free, heap_mapped, heap_trims for .partnerfs/stats. */
void heap_render_stats(struct buf *out);

#endif
