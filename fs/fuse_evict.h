/* fuse_evict: keeps the node table to what is in use. The kernel keeps
 * each name it has looked up until memory runs short, and the node table
 * a path for each; for the operations and jobs a mount sees over weeks
 * that is memory without end. Every few seconds the directories of
 * transient rows (NODE_TRANSIENT) that the kernel has not looked up for a
 * while are handed to the prober (probe.h), after which the kernel
 * forgets them and what is below them. A name still in use is
 * looked up again by whoever uses it: the cost is one LOOKUP. Private to
 * fs/. */
#ifndef PARTNERFS_FUSE_EVICT_H
#define PARTNERFS_FUSE_EVICT_H

/* Starts the thread (after daemonizing). idle_s: how long a directory
 * must have gone without a LOOKUP, more than the kernel keeps its entry
 * (the probe needs an expired entry). 0 or -errno. */
int fuse_evict_start(double idle_s);
void fuse_evict_stop(void);

#endif
