/* statefile: where the ingestion backend keeps what must outlive the
 * mount (the jobs it started: the API has no job listing), and writing it
 * so that a crash leaves the old file or the new one, never half of one.
 * Knows nothing of what the file says. */
#ifndef PARTNERFS_ING_STATEFILE_H
#define PARTNERFS_ING_STATEFILE_H

#include "partnerfs/buf.h"

/* The file of endpoint: under state_dir, else $XDG_STATE_HOME/partnerfs,
 * else ~/.local/state/partnerfs; named after the endpoint, one per API
 * account a user mounts. 0, or -ENOENT when there is no home to put it. */
int statefile_path(const char *state_dir, const char *endpoint,
		   struct buf *out);
/* The whole file into out; a missing file is empty. 0 or -errno. */
int statefile_read(const char *path, struct buf *out);
/* Replaces the file with data (mode 0600, its directories 0700 made as
 * needed): written to a temporary file, fsync'd, renamed over, the
 * directory fsync'd. 0 or -errno. */
int statefile_write(const char *path, const char *data, size_t len);

#endif
