/* node_impl.h: the show/store/list functions behind the rows of the node
 * table (nodes.c), one source file per family. Private to fs/. */
#ifndef PARTNERFS_NODE_IMPL_H
#define PARTNERFS_NODE_IMPL_H

#include "partnerfs/cache.h"
#include "partnerfs/nodes.h"

/* Helpers (nodes.c). */
int content_set(struct content *c, const char *data, size_t len, time_t mtime);
/* The doc's JSON pretty-printed with a trailing newline (raw when it is
 * not JSON), with the doc's mtime, etag and url. */
int content_from_doc(struct content *c, const struct doc *d);
/* Fills a child node of row under parent with captured name. */
int node_fill_child(const struct node *parent, const char *row_pattern,
		    const char *name, node_fill_fn fill, void *ctx);

/* node_offer.c: publishers, offers and the offer's documents. */
int publisher_exists(const struct node *n);
int publisher_list(const struct node *parent, node_fill_fn fill, void *ctx);
int offer_exists(const struct node *n);
int offer_list(const struct node *parent, node_fill_fn fill, void *ctx);
int offer_dir_show(const struct node *n, struct content *out);
int offer_json_show(const struct node *n, struct content *out);
int offer_json_store(const struct node *n, const struct content *read,
		     const char *data, size_t len);
int offer_status_show(const struct node *n, struct content *out);
int offer_status_json_show(const struct node *n, struct content *out);
int slot_show(const struct node *n, struct content *out);
int slot_exists(const struct node *n);
int version_exists(const struct node *n);
int version_list(const struct node *parent, node_fill_fn fill, void *ctx);
int version_show(const struct node *n, struct content *out);

/* node_control.c: publish, golive, cancel. */
int control_show(const struct node *n, struct content *out);
int control_store(const struct node *n, const struct content *read,
		  const char *data, size_t len);

/* node_ops.c: operations/ and each operation's files. */
int operation_exists(const struct node *n);
int operation_list(const struct node *parent, node_fill_fn fill, void *ctx);
int operations_latest_exists(const struct node *n);
int operations_latest_link(const struct node *n, char *buf, size_t size);
int operation_status_show(const struct node *n, struct content *out);
int operation_json_show(const struct node *n, struct content *out);
int operation_wait(const struct node *n, int nonblock, int (*interrupted)(void),
		   struct content *out);

/* node_meta.c: events and .partnerfs/. */
int events_show(const struct node *n, struct content *out);
int meta_show(const struct node *n, struct content *out);

#endif
