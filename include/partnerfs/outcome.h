/* outcome: what reading a control file shows — the outcome of the last
 * request made through it on this mount (or of the local refusal), by a
 * key its backend chooses. Shared by every backend's control files. */
#ifndef PARTNERFS_OUTCOME_H
#define PARTNERFS_OUTCOME_H

#include "partnerfs/buf.h"
#include "partnerfs/nodes.h"

/* The outcome of key is now text (taken), as of now. */
void outcome_record(const char *key, struct buf *text);
/* key's last outcome; empty, with the mount's time, before the first. */
int outcome_show(const char *key, struct content *out);

#endif
