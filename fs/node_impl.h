/* node_impl.h: the show functions behind the shared rows of the node
 * table (nodes.c). Private to fs/. */
#ifndef PARTNERFS_NODE_IMPL_H
#define PARTNERFS_NODE_IMPL_H

#include "partnerfs/nodes.h"

/* node_meta.c: events and .partnerfs/. */
int events_file_show(const struct node *n, struct content *out);
int meta_show(const struct node *n, struct content *out);

#endif
