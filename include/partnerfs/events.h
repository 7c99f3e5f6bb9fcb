/* events: the log behind the `events` file, one line per state change.
 * Append-only, as `tail -f` needs (GNU tail polls fstat on FUSE and prints
 * the bytes past the old size), and bounded: a mount that lives for months
 * keeps the newest 2-4 MiB. Never blocks for long: any thread. */
#ifndef PARTNERFS_EVENTS_H
#define PARTNERFS_EVENTS_H

#include "partnerfs/nodes.h"

/* Appends "<iso time> <line>\n". */
void events_append(const char *line);
/* The log so far, as a read of `events` returns it. */
int events_show(struct content *out);
void events_cleanup(void);

#endif
