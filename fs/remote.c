/* remote.c: documents through the cache, fetched with rest and parsed
 * once (see remote.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "partnerfs/hash.h"
#include "partnerfs/jsonutil.h"
#include "partnerfs/log.h"
#include "partnerfs/remote.h"
#include "partnerfs/rest.h"

int remote_fetch_url(const char *url, struct rest_result *res)
{
	struct rest_request rq = {.method = "GET", .url = url};
	int err = rest_perform(&rq, res);
	/* A 403 is about this document and is remembered for the ttl; a
	 * rejected or missing token is about the credential, which the user
	 * may fix at once (rotate the token file): not remembered. */
	if (err == -EACCES && res->status != 403)
		err = -EKEYREJECTED;
	return err;
}

struct remote_req {
	const struct remote_kind *kind;
	const char *const *ids;
	size_t nids;
};

/* Done once per fetch, so that getattr and open only copy: the document
 * as shown (pretty-printed) and what its kind derives from it. */
static int remote_prepare(const struct remote_kind *kind,
			  struct rest_result *res, const char *url,
			  struct doc **out)
{
	const char *data = res->body.data ? res->body.data : "";
	json_object *parsed = NULL;
	struct buf shown = BUF_INIT;
	const char *why = NULL;
	int err = 0;
	*out = NULL;
	if (kind->prepare_text) {
		*out = doc_new(NULL, 0, res->etag, url);
		if (!*out)
			return -ENOMEM;
		(*out)->content_key = hash_bytes(data, res->body.len);
		(*out)->has_content_key = 1;
		why = kind->prepare_text(*out, data, res->body.len);
		if (why && !(parsed = jsonutil_parse(data, res->body.len)))
			why = "is not JSON";
	} else if (!(parsed = jsonutil_parse(data, res->body.len))) {
		why = "is not JSON";
	} else if ((err = jsonutil_render_pretty(parsed, &shown)) == 0) {
		*out = doc_new(shown.data, shown.len, res->etag, url);
		if (!*out)
			err = -ENOMEM;
		else if (kind->prepare)
			why = kind->prepare(*out, parsed);
	}
	if (why) {
		doc_put(*out);
		*out = NULL;
	}
	json_object_put(parsed);
	buf_free(&shown);
	if (!why)
		return err;
	/* A 2xx answer that is not the document asked for (malformed, or an
	 * object where a listing belongs) is the server's fault, not the
	 * caller's: EIO, logged with the path, and not cached. */
	log_warn("GET %.*s: the response (%zu bytes) %s",
		 (int)strcspn(url, "?"), url, res->body.len, why);
	return -EIO;
}

static int remote_fetch(void *arg, struct doc **out)
{
	const struct remote_req *r = arg;
	int err;
	if (r->kind->fetch) {
		err = r->kind->fetch(r->ids, r->nids, out);
	} else {
		struct rest_result res;
		struct buf url = BUF_INIT;
		rest_result_init(&res);
		err = r->kind->url(r->ids, r->nids, &url);
		if (!err)
			err = remote_fetch_url(url.data, &res);
		if (!err)
			err = remote_prepare(r->kind, &res, url.data, out);
		buf_free(&url);
		rest_result_free(&res);
	}
	if (err == -ENOENT && r->kind->gone)
		r->kind->gone(r->ids, r->nids);
	return err;
}

/* "<id>/<id>/.../#<kind>": a scope's documents share the prefix of its
 * ids, which cannot contain '/', and a kind name cannot be an id. */
static int remote_key(const char *const *ids, size_t n, const char *kind,
		      struct buf *key)
{
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++)
		rc = buf_printf(key, "%s/", ids[i] ? ids[i] : "");
	if (!rc && kind)
		rc = buf_printf(key, "#%s", kind);
	return rc;
}

int remote_get(const struct remote_kind *kind, const char *const *ids,
	       size_t nids, struct doc **out)
{
	struct buf key = BUF_INIT;
	struct remote_req r = {kind, ids, nids};
	*out = NULL;
	int err = remote_key(ids, nids, kind->name, &key);
	if (!err)
		err = cache_get(key.data, remote_fetch, &r, out);
	buf_free(&key);
	return err == -EKEYREJECTED ? -EACCES : err;
}

int remote_peek(const struct remote_kind *kind, const char *const *ids,
		size_t nids, struct doc **out)
{
	struct buf key = BUF_INIT;
	*out = NULL;
	int err = remote_key(ids, nids, kind->name, &key);
	if (!err)
		err = cache_peek(key.data, out);
	buf_free(&key);
	return err;
}

void remote_invalidate_scope(const char *const *scope, size_t n)
{
	struct buf key = BUF_INIT;
	if (remote_key(scope, n, NULL, &key) == 0)
		cache_invalidate(key.data ? key.data : "", 1);
	buf_free(&key);
}

void remote_invalidate(const struct remote_kind *kind, const char *const *ids,
		       size_t nids)
{
	struct buf key = BUF_INIT;
	if (remote_key(ids, nids, kind->name, &key) == 0)
		cache_invalidate(key.data, 0);
	buf_free(&key);
}
