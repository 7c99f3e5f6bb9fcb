/* cpp.h: the Cloud Partner Portal backend's private contract: its rows
 * (rows.c), the show/store/list functions behind them, one source file
 * per family, and how its operations are scoped. Private to fs/cpp/. */
#ifndef PARTNERFS_CPP_H
#define PARTNERFS_CPP_H

#include "partnerfs/backend.h"
#include "partnerfs/nodes.h"

/* The captures of its patterns (nodes.h: in pattern order). */
enum { CPP_PUB, CPP_OFFER, CPP_NAME };

/* Its rows, by name, for the few places that build a path of one. */
enum cpp_row {
	ROW_PUBLISHERS,
	ROW_PUBLISHER,
	ROW_OFFERS,
	ROW_OFFER,
	ROW_OFFER_JSON,
	ROW_STATUS,
	ROW_STATUS_JSON,
	ROW_PUBLISH,
	ROW_GOLIVE,
	ROW_CANCEL,
	ROW_SLOTS,
	ROW_SLOT_DRAFT,
	ROW_SLOT_PREVIEW,
	ROW_SLOT_PRODUCTION,
	ROW_VERSIONS,
	ROW_VERSION,
	ROW_OPERATIONS,
	ROW_LATEST,
	ROW_OPERATION,
	ROW_OP_STATUS,
	ROW_OP_JSON,
	ROW_OP_WAIT,
	CPP_ROW_COUNT
};
extern const struct node_type cpp_rows[CPP_ROW_COUNT];

extern const struct backend cpp_backend;

/* An offer's operations are the tracker's scope "<publisher>/<offer>". */
#define CPP_SCOPE_MAX (2 * IDENT_MAX + 2)
void cpp_scope(const struct node *n, char *scope, size_t size);

/* node_offer.c: publishers, offers and the offer's documents. */
int publisher_exists(const struct node *n);
int publisher_list(const struct node_type *row, const struct node *parent,
		   node_fill_fn fill, void *ctx);
int offer_exists(const struct node *n);
int offer_list(const struct node_type *row, const struct node *parent,
	       node_fill_fn fill, void *ctx);
int offer_dir_show(const struct node *n, struct content *out);
int offer_json_show(const struct node *n, struct content *out);
int offer_json_store(const struct node *n, const struct content *read,
		     const char *data, size_t len);
int offer_status_show(const struct node *n, struct content *out);
int offer_status_json_show(const struct node *n, struct content *out);
int slot_show(const struct node *n, struct content *out);
int slot_exists(const struct node *n);
int version_exists(const struct node *n);
int version_list(const struct node_type *row, const struct node *parent,
		 node_fill_fn fill, void *ctx);
int version_show(const struct node *n, struct content *out);

/* node_control.c: publish, golive, cancel. */
int control_show(const struct node *n, struct content *out);
int control_store(const struct node *n, const struct content *read,
		  const char *data, size_t len);

/* node_ops.c: operations/ and each operation's files. */
int operation_exists(const struct node *n);
int operation_list(const struct node_type *row, const struct node *parent,
		   node_fill_fn fill, void *ctx);
int operations_latest_exists(const struct node *n);
int operations_latest_link(const struct node *n, char *buf, size_t size);
int operation_status_show(const struct node *n, struct content *out);
int operation_json_show(const struct node *n, struct content *out);
int operation_json_exists(const struct node *n);
int operation_wait(const struct node *n, struct content *out);

#endif
