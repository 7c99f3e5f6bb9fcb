/* remote.c: API reads through the cache, and parsed listings attached to
 * the docs they came from. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "partnerfs/api.h"
#include "partnerfs/buf.h"
#include "partnerfs/log.h"
#include "partnerfs/model.h"
#include "partnerfs/remote.h"

struct remote_req {
	enum remote_kind kind;
	const char *pub, *offer, *arg;
};

static int remote_call(const struct remote_req *r, struct api_result *res)
{
	switch (r->kind) {
	case REMOTE_PUBLISHERS:
		return api_list_publishers(res);
	case REMOTE_OFFERS:
		return api_list_offers(r->pub, res);
	case REMOTE_OFFER:
		return api_get_offer(r->pub, r->offer, res);
	case REMOTE_STATUS:
		return api_get_offer_status(r->pub, r->offer, res);
	case REMOTE_SLOT:
		return api_get_slot(r->pub, r->offer, r->arg, res);
	case REMOTE_VERSION:
		return api_get_version(r->pub, r->offer, r->arg, res);
	case REMOTE_SUBMISSIONS:
		return api_list_submissions(r->pub, r->offer, res);
	}
	return -EINVAL;
}

static int remote_url(enum remote_kind kind, const char *pub, const char *offer,
		      const char *arg, struct buf *out)
{
	const char *segs[8] = {"publishers", pub, "offers", offer};
	switch (kind) {
	case REMOTE_PUBLISHERS:
		segs[1] = NULL;
		break;
	case REMOTE_OFFERS:
		segs[3] = NULL;
		break;
	case REMOTE_OFFER:
		break;
	case REMOTE_STATUS:
		segs[4] = "status";
		break;
	case REMOTE_SLOT:
		segs[4] = "slot";
		segs[5] = arg;
		break;
	case REMOTE_VERSION:
		segs[4] = "versions";
		segs[5] = arg;
		break;
	case REMOTE_SUBMISSIONS:
		segs[4] = "submissions";
		break;
	}
	return api_build_url(out, segs);
}

struct id_index;
static int listing_index(struct doc *d, struct id_index **out);

/* Done once per fetch, so that getattr and open only copy: the document
 * as shown (pretty-printed, which also proves it is JSON), and the parsed
 * form its readers need (the id index of a listing, the status word). */
static int remote_prepare(enum remote_kind kind, struct api_result *res,
			  const char *url, struct doc **out)
{
	const char *data = res->body.data ? res->body.data : "";
	struct buf pretty = BUF_INIT;
	const char *why = NULL;
	if (model_pretty_json(data, res->body.len, &pretty) != 0) {
		why = "is not JSON";
		goto fail;
	}
	*out = doc_new(pretty.data, pretty.len, res->etag, url);
	if (!*out) {
		buf_free(&pretty);
		return -ENOMEM;
	}
	(*out)->is_pretty = 1;
	struct id_index *ix;
	struct id_list ids;
	char word[MODEL_WORD_MAX];
	switch (kind) {
	case REMOTE_PUBLISHERS:
	case REMOTE_OFFERS:
		if (listing_index(*out, &ix) != 0)
			why = "is not a JSON array";
		break;
	case REMOTE_SUBMISSIONS:
		/* Its aux is node_ops.c's: only check the shape here. */
		if (model_parse_id_list(pretty.data, pretty.len, &ids) != 0)
			why = "is not a JSON array";
		else
			id_list_free(&ids);
		break;
	case REMOTE_STATUS:
		if (model_parse_offer_status(pretty.data, pretty.len, word,
					     sizeof(word)) == 0 &&
		    ((*out)->aux = strdup(word)))
			(*out)->aux_free = free;
		break;
	default:
		break;
	}
	buf_free(&pretty);
	if (!why)
		return 0;
	doc_put(*out);
	*out = NULL;
fail:
	/* A 2xx answer that is not the document asked for (malformed, or an
	 * object where a listing array belongs) is the server's fault, not
	 * the caller's: EIO, logged with the path, and not cached. */
	buf_free(&pretty);
	log_warn("GET %.*s: the response (%zu bytes) %s",
		 (int)strcspn(url, "?"), url, res->body.len, why);
	return -EIO;
}

static int remote_fetch(void *arg, struct doc **out)
{
	const struct remote_req *r = arg;
	struct api_result res = {0};
	struct buf url = BUF_INIT;
	int err = remote_call(r, &res);
	/* A 403 is about this document and is remembered for the ttl; a
	 * rejected or missing token is about the credential, which the user
	 * may fix at once (rotate the token file): not remembered. */
	if (err == -EACCES && res.status != 403)
		err = -EKEYREJECTED;
	if (!err)
		err = remote_url(r->kind, r->pub, r->offer, r->arg, &url);
	if (!err)
		err = remote_prepare(r->kind, &res, url.data, out);
	buf_free(&url);
	api_result_free(&res);
	return err;
}

static const char *const kind_names[] = {
	[REMOTE_PUBLISHERS] = "publishers",
	[REMOTE_OFFERS] = "offers",
	[REMOTE_OFFER] = "offer",
	[REMOTE_STATUS] = "status",
	[REMOTE_SLOT] = "slot",
	[REMOTE_VERSION] = "version",
	[REMOTE_SUBMISSIONS] = "submissions",
};

/* Keys start with "<pub>/<offer>/" so that an offer's documents can be
 * dropped by prefix; '/' cannot occur inside an identifier. */
int remote_get(enum remote_kind kind, const char *pub, const char *offer,
	       const char *arg, struct doc **out)
{
	char key[1024];
	snprintf(key, sizeof(key), "%s/%s/%s/%s", pub ? pub : "",
		 offer ? offer : "", kind_names[kind], arg ? arg : "");
	struct remote_req r = {kind, pub, offer, arg};
	int err = cache_get(key, remote_fetch, &r, out);
	return err == -EKEYREJECTED ? -EACCES : err;
}

void remote_invalidate_offer(const char *pub, const char *offer)
{
	char key[1024];
	snprintf(key, sizeof(key), "%s/%s/", pub, offer);
	cache_invalidate(key, 1);
}

void remote_invalidate(const char *pub, const char *offer)
{
	char key[1024];
	if (offer) {
		remote_invalidate_offer(pub, offer);
		/* The listing shows the offer's status and version too. */
		snprintf(key, sizeof(key), "%s//%s/", pub,
			 kind_names[REMOTE_OFFERS]);
		cache_invalidate(key, 0);
	} else {
		snprintf(key, sizeof(key), "%s/", pub);
		cache_invalidate(key, 1);
	}
}

/* The ids of a listing, in API order plus a sorted copy for lookups. */
struct id_index {
	struct id_list list;
	char **sorted;
};

static void id_index_free(void *p)
{
	struct id_index *ix = p;
	if (!ix)
		return;
	free(ix->sorted);
	id_list_free(&ix->list);
	free(ix);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static pthread_mutex_t index_lock = PTHREAD_MUTEX_INITIALIZER;

static int listing_index(struct doc *d, struct id_index **out)
{
	pthread_mutex_lock(&index_lock);
	if (!d->aux) {
		struct id_index *ix = calloc(1, sizeof(*ix));
		if (!ix) {
			pthread_mutex_unlock(&index_lock);
			return -ENOMEM;
		}
		int err = model_parse_id_list(d->data, d->len, &ix->list);
		if (err) {
			free(ix);
			pthread_mutex_unlock(&index_lock);
			return err;
		}
		ix->sorted = malloc((ix->list.count + 1) * sizeof(char *));
		if (!ix->sorted) {
			id_index_free(ix);
			pthread_mutex_unlock(&index_lock);
			return -ENOMEM;
		}
		memcpy(ix->sorted, ix->list.ids,
		       ix->list.count * sizeof(char *));
		qsort(ix->sorted, ix->list.count, sizeof(char *), cmp_str);
		d->aux = ix;
		d->aux_free = id_index_free;
	}
	*out = d->aux;
	pthread_mutex_unlock(&index_lock);
	return 0;
}

int remote_listing_has(struct doc *listing, const char *id)
{
	struct id_index *ix;
	int err = listing_index(listing, &ix);
	if (err)
		return err;
	return bsearch(&id, ix->sorted, ix->list.count, sizeof(char *), cmp_str)
		       ? 0
		       : -ENOENT;
}

int remote_listing_each(struct doc *listing,
			int (*fn)(void *ctx, const char *id), void *ctx)
{
	struct id_index *ix;
	int err = listing_index(listing, &ix);
	if (err)
		return err;
	for (size_t i = 0; i < ix->list.count; i++) {
		err = fn(ctx, ix->list.ids[i]);
		if (err)
			return err;
	}
	return 0;
}
