/* ing.h: the product ingestion backend's private contract: its rows
 * (rows.c), the show/store/list functions behind them, one source file
 * per family, and how its jobs are scoped. Private to fs/ingestion/. */
#ifndef PARTNERFS_ING_H
#define PARTNERFS_ING_H

#include "partnerfs/backend.h"
#include "partnerfs/nodes.h"

/* The first capture of every row below /products is the product's
 * externalId; the rows of preview/ and live/ capture the target next. */
enum { ING_EXT };

/* How deep a resource file may be below its target directory
 * ("listing-asset/public/main/default/en-us/azurelogosmall/1.json" is 7). */
#define ING_DEPTH 10

/* Every job of this mount is kept by the tracker under this one scope;
 * which products a job concerns is jobs.c's. */
#define ING_SCOPE "jobs"

/* Its rows, by name, for the few places that build a path of one. */
enum ing_row {
	ROW_PRODUCTS,
	ROW_PRODUCT,
	ROW_PRODUCT_JSON,
	ROW_STATUS,
	ROW_SUBMISSIONS,
	ROW_CONFIGURE,
	ROW_PUBLISH,
	ROW_GOLIVE,
	ROW_CANCEL,
	/* products/<x>/operations/ before the target rows: both capture
	 * the third component, and the first row that matches wins. */
	ROW_P_OPERATIONS,
	ROW_P_LATEST,
	ROW_P_OP,
	ROW_P_OP_STATUS,
	ROW_P_OP_JSON,
	ROW_P_OP_DETAIL,
	ROW_P_OP_WAIT,
	ROW_P_OP_CANCEL,
	ROW_DRAFT,
	ROW_DRAFT_TREE,
	ROW_TARGET,
	ROW_TARGET_TREE,
	/* Per depth 1..ING_DEPTH: a file row, then a directory row (none
	 * at the deepest level); draft's rows first, then preview/live's. */
	ROW_DRAFT_RES,
	ROW_TARGET_RES = ROW_DRAFT_RES + 2 * ING_DEPTH - 1,
	ROW_OPERATIONS = ROW_TARGET_RES + 2 * ING_DEPTH - 1,
	ROW_LATEST,
	ROW_OP,
	ROW_OP_STATUS,
	ROW_OP_JSON,
	ROW_OP_DETAIL,
	ROW_OP_WAIT,
	ROW_OP_CANCEL,
	ROW_ROOT_CONFIGURE,
	ING_ROW_COUNT
};
extern const struct node_type ing_rows[ING_ROW_COUNT];

extern const struct backend ing_backend;

/* node_product.c: products/, each product's documents and status. */
int ing_product_exists(const struct node *n);
int ing_product_list(const struct node_type *row, const struct node *parent,
		     node_fill_fn fill, void *ctx);
int ing_product_dir_show(const struct node *n, struct content *out);
int ing_product_json_show(const struct node *n, struct content *out);
int ing_status_show(const struct node *n, struct content *out);
int ing_submissions_show(const struct node *n, struct content *out);
/* The product's submissions doc, read again when one of its jobs changed
 * since it was read (a watcher's touch may have read it while the job
 * was still moving); *running: a job of this mount for it is unfinished;
 * *changed: the last change of one of its jobs (0: none). */
int ing_product_submissions(const char *ext, struct doc **d, int *running,
			    time_t *changed);

/* node_resource.c: draft/ preview/ live/, their resource trees and the
 * resource files and directories inside. */
int ing_target_exists(const struct node *n);
int ing_target_list(const struct node_type *row, const struct node *parent,
		    node_fill_fn fill, void *ctx);
int ing_target_show(const struct node *n, struct content *out);
int ing_tree_show(const struct node *n, struct content *out);
int ing_res_exists(const struct node *n);
int ing_res_list(const struct node_type *row, const struct node *parent,
		 node_fill_fn fill, void *ctx);
int ing_res_show(const struct node *n, struct content *out);
int ing_res_store(const struct node *n, const struct content *read,
		  const char *data, size_t len);

/* node_control.c: configure, publish, golive, cancel (a product's and the
 * root's configure, a job's cancel). */
int ing_control_show(const struct node *n, struct content *out);
int ing_control_store(const struct node *n, const struct content *read,
		      const char *data, size_t len);
/* Records text as what the control file action of product ext (NULL: the
 * root's) shows; a resource file's write shows in its product's
 * configure. Takes text's bytes. */
void ing_control_record(const char *ext, const char *action, struct buf *text);
/* The outcome of a request refused before anything was sent. */
void ing_outcome_refused(struct buf *text, const char *action, const char *what,
			 int err, const char *why);
/* POSTs configure with body for product ext (NULL: the root's), writes
 * the outcome into text and registers the job it answers with (state
 * file first). 0 or -errno. */
int ing_configure_send(const char *ext, const char *action, const char *what,
		       const struct buf *body, struct buf *text);
/* Cancels every unfinished job of product ext (none: -ENOENT), or job id
 * (known to have ended: -EBUSY, nothing sent); an answer that it had
 * already completed is -EBUSY too. */
int ing_cancel_product(const char *ext, struct buf *text, char *why,
		       size_t size);
int ing_cancel_job(const char *id, struct buf *text, char *why, size_t size);

/* node_jobs.c: operations/ (the root's and each product's) and each
 * job's files. */
const char *ing_job_of(const struct node *n);
int ing_op_exists(const struct node *n);
int ing_op_list(const struct node_type *row, const struct node *parent,
		node_fill_fn fill, void *ctx);
int ing_latest_exists(const struct node *n);
int ing_latest_link(const struct node *n, char *buf, size_t size);
int ing_op_status_show(const struct node *n, struct content *out);
int ing_op_json_show(const struct node *n, struct content *out);
int ing_op_detail_exists(const struct node *n);
int ing_op_detail_show(const struct node *n, struct content *out);
int ing_op_wait(const struct node *n, struct content *out);

#endif
