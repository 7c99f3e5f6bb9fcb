/* docs: the ingestion documents the tree shows, through remote (keyed by
 * the product's externalId, so that a product's documents share a cache
 * prefix), and what is derived from each once, when it arrives: the
 * products of the listing, a tree's files, a product's submissions. Which
 * GUID an externalId names is found here too: from the listing, else by
 * a lookup (?externalId=) for products the listing leaves out. */
#ifndef PARTNERFS_ING_DOCS_H
#define PARTNERFS_ING_DOCS_H

#include <stddef.h>

#include "model.h"
#include "partnerfs/cache.h"

enum ing_doc {
	ING_PRODUCTS,	 /* every page of GET product; ids: none */
	ING_PRODUCT,	 /* GET product/<g>; ids: ext */
	ING_SUBMISSIONS, /* every page of GET submission/<g>; ids: ext */
	ING_TREE,	 /* GET resource-tree/product/<g>?targetType=;
			  * ids: ext, target */
	ING_DETAIL,	 /* GET configure/<job>; ids: job */
};

/* 0 and a referenced doc (doc_put it), or -errno. */
int ing_docs_get(enum ing_doc kind, const char *const *ids, struct doc **out);
/* Forget a product's own documents (after a write, or a job's change). */
void ing_docs_invalidate_product(const char *ext);
/* Forget the product listing (a configure may have made a product). */
void ing_docs_invalidate_listing(void);

/* The GUID of the product named ext (size > 36). 0, -ENOENT, -errno. */
int ing_docs_guid(const char *ext, char *guid, size_t size);
/* The externalId of a product GUID this mount has seen. 0 or -ENOENT. */
int ing_docs_ext_of(const char *guid, char *ext, size_t size);

/* Forgets the (externalId, GUID) pairs seen (at unmount). */
void ing_docs_cleanup(void);

/* The notes of each kind (NULL when the doc had none). */
const struct ing_products *ing_docs_products(struct doc *listing);
const struct ing_tree *ing_docs_tree(struct doc *tree);
const struct ing_submissions *ing_docs_submissions(struct doc *subs);
/* The durable id of an ING_PRODUCT doc, or NULL. */
const char *ing_docs_product_id(struct doc *product);

#endif
