/* remote: the API documents the tree shows, through the cache. A backend
 * describes each kind of document it reads (its URL from a few ids, what
 * to derive from it once); remote fetches it with rest, parses it once,
 * keeps it as shown (pretty-printed JSON) and lets the kind attach notes
 * (cache.h) from the parsed form. Knows no API. */
#ifndef PARTNERFS_REMOTE_H
#define PARTNERFS_REMOTE_H

#include <json-c/json.h>
#include <stddef.h>

#include "partnerfs/buf.h"
#include "partnerfs/cache.h"
#include "partnerfs/rest.h"

#define REMOTE_IDS_MAX 4

struct remote_kind {
	const char *name; /* in cache keys */
	/* The document's URL for ids. 0, -ENOENT (ids that cannot name
	 * one: nothing is sent) or -ENOMEM. */
	int (*url)(const char *const *ids, size_t nids, struct buf *out);
	/* Once per fetch, with the parsed answer: attach notes to d. NULL,
	 * or why the answer is not the document asked for (it is then EIO,
	 * logged, and not cached). May be NULL: any JSON will do. */
	const char *(*prepare)(struct doc *d, json_object *parsed);
	/* Instead of one GET of url(): makes the doc itself (several pages
	 * merged, ...), notes attached, each page fetched with
	 * remote_fetch_url. 0 or -errno. NULL: one GET. */
	int (*fetch)(const char *const *ids, size_t nids, struct doc **out);
	/* Called when the server answers a fetch of this document with 404
	 * (not when the cache serves a remembered 404): whatever listed it
	 * is out of date, and a listing must not name what does not open.
	 * Runs without the cache lock. May be NULL. */
	void (*gone)(const char *const *ids, size_t nids);
	/* Instead of prepare, for a document no file shows (a listing):
	 * the notes come from the body's text, which is not parsed whole
	 * (jsonutil_array_each) and not kept, only a key of it, so that a
	 * refetch of the same bytes is no change. A long listing then costs
	 * what it names, not its JSON. NULL or why, as prepare. */
	const char *(*prepare_text)(struct doc *d, const char *body,
				    size_t len);
};

/* One GET for a kind's fetch(): as rest_perform, except that a refused
 * token is -EKEYREJECTED (not remembered by the cache, unlike a 403). */
int remote_fetch_url(const char *url, struct rest_result *res);

/* 0 and a referenced doc (doc_put it), or -errno. 404 and 403 answers
 * are remembered for the ttl; a rejected token is not. */
int remote_get(const struct remote_kind *kind, const char *const *ids,
	       size_t nids, struct doc **out);
/* The document the cache holds for ids, fresh or not, without a
 * request: 0 and a referenced doc, or -ENOENT. */
int remote_peek(const struct remote_kind *kind, const char *const *ids,
		size_t nids, struct doc **out);
/* Forgets every document whose leading ids are scope[0..n). */
void remote_invalidate_scope(const char *const *scope, size_t n);
/* Forgets one document. */
void remote_invalidate(const struct remote_kind *kind, const char *const *ids,
		       size_t nids);

#endif
