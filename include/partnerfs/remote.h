/* remote: the API documents the tree shows, through the cache. One kind per
 * API read; the key of each document is its kind and identifiers. */
#ifndef PARTNERFS_REMOTE_H
#define PARTNERFS_REMOTE_H

#include "partnerfs/buf.h"
#include "partnerfs/cache.h"

enum remote_kind {
	REMOTE_PUBLISHERS,  /* GET /api/publishers */
	REMOTE_OFFERS,	    /* GET .../offers (pub) */
	REMOTE_OFFER,	    /* GET .../offers/<offer> */
	REMOTE_STATUS,	    /* GET .../status */
	REMOTE_SLOT,	    /* GET .../slot/<arg> */
	REMOTE_VERSION,	    /* GET .../versions/<arg> */
	REMOTE_SUBMISSIONS, /* GET .../submissions/ */
};

/* 0 and a referenced doc (doc_put it), or -errno. pub/offer/arg may be
 * NULL where the kind does not use them. */
int remote_get(enum remote_kind kind, const char *pub, const char *offer,
	       const char *arg, struct doc **out);
/* Forget what the cache holds for this offer (after a write), or for the
 * whole publisher when offer is NULL. */
void remote_invalidate(const char *pub, const char *offer);
/* Forget the offer's own documents only, not the publisher's listing:
 * what an operation's progress changes (a listing of 10,000 offers is not
 * worth fetching again for it; it expires with cache_ttl). */
void remote_invalidate_offer(const char *pub, const char *offer);

/* Whether a listing doc (JSON array of objects with "id") holds id. The
 * parsed id set is built once per doc. 0, -ENOENT, or -EINVAL for a doc
 * that is not a listing. */
int remote_listing_has(struct doc *listing, const char *id);
/* Calls fn for each id of a listing doc, in the API's order. */
int remote_listing_each(struct doc *listing,
			int (*fn)(void *ctx, const char *id), void *ctx);

#endif
