/* op_show: the files of an operation the tracker knows, as every backend
 * shows them (its status line, its document), each with the tracker's
 * mtime and the operation's URL. What a backend shows of one the tracker
 * does not know (from a listing, say) stays the backend's own. */
#ifndef PARTNERFS_OP_SHOW_H
#define PARTNERFS_OP_SHOW_H

#include "partnerfs/nodes.h"

/* The state word and a newline. 0, -ENOENT for an operation the tracker
 * does not know, or -ENOMEM. */
int op_show_status(const char *scope, const char *id, struct content *out);
/* The last document poll() gave, fetched now when there is none yet (an
 * operation known from a listing or a state file). 0 or -errno. */
int op_show_doc(const char *scope, const char *id, struct content *out);

#endif
