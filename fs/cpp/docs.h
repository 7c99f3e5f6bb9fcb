/* docs: the CPP documents the tree shows, through remote (one kind per
 * API read, keyed by publisher, offer and argument), and what is derived
 * from each once, when it arrives: the id index of a listing, the offer's
 * status word and version, the parsed submissions. */
#ifndef PARTNERFS_CPP_DOCS_H
#define PARTNERFS_CPP_DOCS_H

#include "api.h"
#include "model.h"
#include "partnerfs/cache.h"

/* 0 and a referenced doc (doc_put it), or -errno. ids as api_doc_url
 * takes them. */
int docs_get(enum api_doc kind, const char *const *ids, struct doc **out);
/* Forget what the cache holds for this offer (after a write): its own
 * documents and its publisher's listing, which shows it too. */
void docs_invalidate(const char *pub, const char *offer);
/* Forget the offer's own documents only, not the publisher's listing:
 * what an operation's progress changes (a listing of 10,000 offers is not
 * worth fetching again for it; it expires with cache_ttl). */
void docs_invalidate_offer(const char *pub, const char *offer);

/* Whether a listing doc holds id: 0, -ENOENT. */
int docs_listing_has(struct doc *listing, const char *id);
/* Calls fn for each id of a listing doc, in the API's order. */
int docs_listing_each(struct doc *listing, int (*fn)(void *ctx, const char *id),
		      void *ctx);

/* The status word of an API_STATUS doc; NULL when it had none. */
const char *docs_status_word(struct doc *status);
/* The "version" of an API_OFFER doc (0 when absent). */
long long docs_offer_version(struct doc *offer);
/* The submissions of an API_SUBMISSIONS doc. */
const struct submission_list *docs_submissions(struct doc *submissions);

#endif
