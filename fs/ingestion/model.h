/* model: the ingestion API's JSON -> what partnerfs shows, and the
 * configure documents it sends (doc/ingestion-api.md §4-§6). Pure
 * functions over untrusted input (fuzzed): never crash, never trust sizes
 * or shapes. Durable ids and submission numbers stay strings. */
#ifndef PARTNERFS_ING_MODEL_H
#define PARTNERFS_ING_MODEL_H

#include <json-c/json.h>
#include <stddef.h>

#include "partnerfs/buf.h"

/* The configure schema every body partnerfs builds carries, and the
 * submission schema of publish and golive (§2, §5.4). */
#define ING_SCHEMA_BASE "https://schema.mp.microsoft.com/schema/"
#define ING_CONFIGURE_SCHEMA ING_SCHEMA_BASE "configure/2022-07-01"
#define ING_SUBMISSION_SCHEMA ING_SCHEMA_BASE "submission/2022-03-01-preview2"

/* One page of a collection ({"value": [...], "@nextLink"?}): its items
 * appended to values (an array), *next the @nextLink (malloc'd) or NULL.
 * 0, or -EIO when the page is not that. */
int ing_model_page(const char *json, size_t len, json_object *values,
		   char **next);

/* Products of a listing: externalId and GUID, those that can be names. */
struct ing_product {
	char *ext;
	char *guid;
};
struct ing_products {
	struct ing_product *items; /* in the API's order */
	size_t count;
};
void ing_products_free(struct ing_products *p);
/* From the merged items of GET product; entries without a usable
 * externalId or product id are skipped (and logged), as are repeats. */
int ing_model_products_of(json_object *values, struct ing_products *out);
const struct ing_product *ing_products_find(const struct ing_products *p,
					    const char *ext);
const struct ing_product *ing_products_find_guid(const struct ing_products *p,
						 const char *guid);

/* The resource files of a tree, sorted by path. */
struct ing_file {
	char *path; /* below the target directory: "plans/gen2/plan.json" */
	char *id;   /* durable id */
	char *text; /* the resource, pretty-printed */
	size_t len;
};
struct ing_tree {
	struct ing_file *files;
	size_t count;
};
void ing_tree_free(struct ing_tree *t);
/* A resource tree of product guid: resources sorted by id (the API's
 * order is not stable) into shown, one file per resource whose durable id
 * makes a name (ING_DEPTH levels at most), and *key: what the tree means,
 * ignoring the order and the SAS query strings of asset URLs. 0, or -EIO
 * when it is no resource tree. */
int ing_model_tree(json_object *tree, const char *guid, size_t depth,
		   struct ing_tree *out, struct buf *shown,
		   unsigned long long *key);
/* The file of path in t, or NULL. */
const struct ing_file *ing_tree_find(const struct ing_tree *t,
				     const char *path);

/* What a product's submissions say. */
struct ing_submissions {
	int preview, live;    /* a submission for the target exists */
	int unfinished;	      /* one is not completed */
	char *newest_preview; /* id of the newest preview (by created) */
	char *result;	      /* result of the newest preview/live one */
	long long fetched;    /* when it was read (docs.c sets it) */
};
void ing_submissions_free(struct ing_submissions *s);
int ing_model_submissions_of(json_object *values, struct ing_submissions *out);

/* A configure-status (§6): its status word (jobStatus until completed,
 * then jobResult), whether that is the end, and the document as
 * status.json shows it. 0 or -EIO. */
int ing_model_job_status(const char *json, size_t len, char *state, size_t size,
			 int *terminal, struct buf *shown);
/* Whether a state word is terminal: succeeded, failed, cancelled. */
int ing_model_state_is_terminal(const char *state);
/* The job id of a 2xx configure answer (jobId, or the 2023 docs' jobID),
 * when it can be a name. 0 or -EIO. */
int ing_model_job_id(const char *json, size_t len, char *id, size_t size);

/* Bodies of POST configure, rendered on one line into body. -EINVAL with
 * the reason in why when the input is not what the file takes. */
/* A whole configure document, or a bare array of resources (wrapped). */
int ing_model_configure_body(const char *data, size_t len, struct buf *body,
			     char *why, size_t why_size);
/* One resource, which must have a $schema and keep its durable id. */
int ing_model_resource_body(const char *data, size_t len, const char *id,
			    struct buf *body, char *why, size_t why_size);
/* A preview submission of the whole draft, and a live one of a preview
 * submission. */
int ing_model_publish_body(const char *guid, struct buf *body);
int ing_model_golive_body(const char *guid, const char *submission,
			  struct buf *body);
/* The products a configure body concerns: for each resource, fn with the
 * product GUID its id or `product` reference gives, or the externalId its
 * identity or reference gives (the other NULL). */
int ing_model_body_products(const char *body, size_t len,
			    void (*fn)(void *ctx, const char *guid,
				       const char *ext),
			    void *ctx);

#endif
