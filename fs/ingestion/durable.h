/* durable: the file name of a resource, from its durable id (doc/design.md
 * §8, doc/ingestion-api.md §3.1). "<type>/<productGuid>[/<seg>...]": the
 * product GUID is dropped (it is the directory), a segment that is one of
 * the product's plan GUIDs becomes "plans/<plan externalId>/" at the
 * front, then come the type, the other segments as directories, and
 * ".json". Pure functions over untrusted input (fuzzed). */
#ifndef PARTNERFS_ING_DURABLE_H
#define PARTNERFS_ING_DURABLE_H

#include <stddef.h>

#include "partnerfs/buf.h"

/* A plan of the tree: its GUID (the last segment of "plan/<g>/<p>") and
 * the externalId its files are named by. */
struct durable_plan {
	const char *guid;
	const char *external_id;
};

/* Whether s may be one component of a shown path: 1..200 bytes of
 * [A-Za-z0-9._-], not starting with '.' (so never "." or ".."). */
int durable_is_name(const char *s);

/* The path of id below its target directory ("plans/gen2/plan.json"),
 * into out. 0; -EINVAL when id is not a durable id of product_guid or has
 * a segment that cannot be a name; -E2BIG when it is deeper than depth
 * components. */
int durable_path(const char *id, const char *product_guid,
		 const struct durable_plan *plans, size_t nplans, size_t depth,
		 struct buf *out);

/* The product GUID of a durable id ("product/<g>", "plan/<g>/...") into
 * out (size > 36). 0, or -EINVAL when it has no usable second segment. */
int durable_product_guid(const char *id, char *out, size_t size);

#endif
