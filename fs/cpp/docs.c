/* docs.c: the CPP document kinds and what each derives once (see
 * docs.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "docs.h"
#include "partnerfs/remote.h"

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

static const struct doc_note_type listing_note = {"listing", id_index_free};
static const struct doc_note_type word_note = {"status word", free};
static const struct doc_note_type version_note = {"version", free};

static void submissions_free(void *p)
{
	submission_list_free(p);
	free(p);
}

static const struct doc_note_type submissions_note = {"submissions",
						      submissions_free};

static const char *prepare_listing(struct doc *d, const char *body, size_t len)
{
	struct id_index *ix = calloc(1, sizeof(*ix));
	if (!ix || model_parse_id_list(body, len, &ix->list) != 0) {
		free(ix);
		return "is not a JSON array";
	}
	ix->sorted = malloc((ix->list.count + 1) * sizeof(char *));
	if (!ix->sorted) {
		id_index_free(ix);
		return "could not be indexed (out of memory)";
	}
	memcpy(ix->sorted, ix->list.ids, ix->list.count * sizeof(char *));
	qsort(ix->sorted, ix->list.count, sizeof(char *), cmp_str);
	return doc_note_attach(d, &listing_note, ix) ? NULL : "out of memory";
}

static const char *prepare_status(struct doc *d, json_object *parsed)
{
	char word[MODEL_WORD_MAX];
	/* A status without a word is still shown as status.json. */
	if (model_offer_status_of(parsed, word, sizeof(word)) == 0) {
		char *w = strdup(word);
		if (w)
			doc_note_attach(d, &word_note, w);
	}
	return NULL;
}

static const char *prepare_offer(struct doc *d, json_object *parsed)
{
	long long *v = malloc(sizeof(*v));
	if (v) {
		*v = model_offer_version_of(parsed);
		doc_note_attach(d, &version_note, v);
	}
	return NULL;
}

static const char *prepare_submissions(struct doc *d, const char *body,
				       size_t len)
{
	struct submission_list *l = calloc(1, sizeof(*l));
	if (!l || model_parse_submissions(body, len, l) != 0) {
		free(l);
		return "is not a JSON array";
	}
	return doc_note_attach(d, &submissions_note, l) ? NULL
							: "out of memory";
}

/* An operation's document as operation.json shows it (its status word
 * normalised like status): its own fetch, since what is shown is not the
 * answer pretty-printed. */
static int fetch_operation(const char *const *ids, size_t n, struct doc **out)
{
	(void)n;
	struct buf url = BUF_INIT, shown = BUF_INIT;
	struct rest_result res;
	char state[MODEL_WORD_MAX];
	rest_result_init(&res);
	int err = api_doc_url(API_OPERATION, ids, &url);
	if (!err)
		err = remote_fetch_url(url.data, &res);
	if (!err && model_operation_shown(res.body.data ? res.body.data : "",
					  res.body.len, state, sizeof(state),
					  &shown) != 0)
		err = -EIO;
	if (!err &&
	    !(*out = doc_new(shown.data, shown.len, res.etag, url.data)))
		err = -ENOMEM;
	buf_free(&shown);
	buf_free(&url);
	rest_result_free(&res);
	return err;
}

#define KIND_URL(fn, doc)                                                      \
	static int fn(const char *const *ids, size_t n, struct buf *out)       \
	{                                                                      \
		(void)n;                                                       \
		return api_doc_url(doc, ids, out);                             \
	}
KIND_URL(url_publishers, API_PUBLISHERS)
KIND_URL(url_offers, API_OFFERS)
KIND_URL(url_offer, API_OFFER)
KIND_URL(url_status, API_STATUS)
KIND_URL(url_slot, API_SLOT)
KIND_URL(url_version, API_VERSION)
KIND_URL(url_submissions, API_SUBMISSIONS)

/* An offer that answers 404 has gone since its publisher's listing was
 * fetched (or the listing is wrong): when the listing in the cache names
 * it, that listing goes, so that the next ls asks again instead of naming
 * it until the ttl runs out. The same for a publisher whose offer listing
 * answers 404 and /api/publishers. The 404 itself stays remembered, so an
 * inconsistent server costs one listing per ttl, not one per stat, and a
 * name that no listing had (a typo looked up) costs nothing. */
static void offer_gone(const char *const *ids, size_t n);
static void publisher_gone(const char *const *ids, size_t n);

/* Per API document: its kind, and how many ids key it. */
static const struct {
	struct remote_kind kind;
	size_t nids;
} kinds[] = {
	/* Listings: no file shows them, only the names they hold. */
	[API_PUBLISHERS] = {{.name = "publishers",
			     .url = url_publishers,
			     .prepare_text = prepare_listing},
			    0},
	[API_OFFERS] = {{.name = "offers",
			 .url = url_offers,
			 .prepare_text = prepare_listing,
			 .gone = publisher_gone},
			1},
	[API_OFFER] = {{"offer", url_offer, prepare_offer, NULL, offer_gone},
		       2},
	[API_STATUS] = {{"status", url_status, prepare_status, NULL,
			 offer_gone},
			2},
	[API_SLOT] = {{"slot", url_slot, NULL}, 3},
	[API_VERSION] = {{"version", url_version, NULL}, 3},
	[API_SUBMISSIONS] = {{.name = "submissions",
			      .url = url_submissions,
			      .prepare_text = prepare_submissions},
			     2},
	[API_OPERATION] = {{"operation", NULL, NULL, fetch_operation}, 3},
};

/* Drops the listing of kind keyed by ids[0..nids) if it names id. */
static void listing_drop_if_named(enum api_doc kind, const char *const *ids,
				  size_t nids, const char *id)
{
	struct doc *d;
	if (remote_peek(&kinds[kind].kind, ids, nids, &d) != 0)
		return;
	int named = docs_listing_has(d, id) == 0;
	doc_put(d);
	if (named)
		remote_invalidate(&kinds[kind].kind, ids, nids);
}

static void offer_gone(const char *const *ids, size_t n)
{
	(void)n;
	listing_drop_if_named(API_OFFERS, ids, 1, ids[1]);
}

static void publisher_gone(const char *const *ids, size_t n)
{
	(void)n;
	listing_drop_if_named(API_PUBLISHERS, ids, 0, ids[0]);
}

int docs_get(enum api_doc kind, const char *const *ids, struct doc **out)
{
	if ((size_t)kind >= sizeof(kinds) / sizeof(kinds[0]) ||
	    (!kinds[kind].kind.url && !kinds[kind].kind.fetch))
		return -EINVAL;
	return remote_get(&kinds[kind].kind, ids, kinds[kind].nids, out);
}

void docs_invalidate_offer(const char *pub, const char *offer)
{
	const char *scope[] = {pub, offer};
	remote_invalidate_scope(scope, 2);
}

void docs_invalidate(const char *pub, const char *offer)
{
	const char *ids[] = {pub};
	docs_invalidate_offer(pub, offer);
	/* The listing shows the offer's status and version too. */
	remote_invalidate(&kinds[API_OFFERS].kind, ids, 1);
}

int docs_listing_has(struct doc *listing, const char *id)
{
	struct id_index *ix = doc_note_get(listing, &listing_note);
	if (!ix)
		return -EINVAL;
	return bsearch(&id, ix->sorted, ix->list.count, sizeof(char *), cmp_str)
		       ? 0
		       : -ENOENT;
}

int docs_listing_each(struct doc *listing, int (*fn)(void *ctx, const char *id),
		      void *ctx)
{
	struct id_index *ix = doc_note_get(listing, &listing_note);
	if (!ix)
		return -EINVAL;
	for (size_t i = 0; i < ix->list.count; i++) {
		int err = fn(ctx, ix->list.ids[i]);
		if (err)
			return err;
	}
	return 0;
}

const char *docs_status_word(struct doc *status)
{
	return doc_note_get(status, &word_note);
}

long long docs_offer_version(struct doc *offer)
{
	long long *v = doc_note_get(offer, &version_note);
	return v ? *v : 0;
}

const struct submission_list *docs_submissions(struct doc *submissions)
{
	return doc_note_get(submissions, &submissions_note);
}
