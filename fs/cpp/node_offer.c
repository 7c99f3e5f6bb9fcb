/* node_offer.c: publishers, offers, and the documents of an offer
 * (offer.json, status, status.json, slots, versions). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "cpp.h"
#include "docs.h"
#include "partnerfs/config.h"
#include "partnerfs/jsonutil.h"
#include "partnerfs/log.h"

/* Whether pub is in the comma-separated -o publishers= list. */
static int publisher_is_configured(const char *pub)
{
	const char *list = pfs_config.publishers;
	size_t len = strlen(pub);
	while (list && *list) {
		const char *comma = strchr(list, ',');
		size_t n = comma ? (size_t)(comma - list) : strlen(list);
		if (n == len && memcmp(list, pub, len) == 0)
			return 1;
		list = comma ? comma + 1 : NULL;
	}
	return 0;
}

int publisher_exists(const struct node *n)
{
	if (publisher_is_configured(n->cap[CPP_PUB]))
		return 0;
	struct doc *d;
	const char *ids[] = {n->cap[CPP_PUB], n->cap[CPP_OFFER]};
	if (!pfs_config.publishers && docs_get(API_PUBLISHERS, ids, &d) == 0) {
		int err = docs_listing_has(d, n->cap[CPP_PUB]);
		doc_put(d);
		if (err == 0)
			return 0;
	}
	/* Any other name is looked up on demand: its offer listing answers
	 * 404 (ENOENT) or 403 (EACCES), and is cached for the next ls. */
	int err = docs_get(API_OFFERS, ids, &d);
	doc_put(d);
	return err;
}

int publisher_list(const struct node_type *row, const struct node *parent,
		   node_fill_fn fill, void *ctx)
{
	struct node_lister lc = {row, parent, fill, ctx};
	if (pfs_config.publishers) {
		char *copy = strdup(pfs_config.publishers), *save = NULL;
		if (!copy)
			return -ENOMEM;
		int err = 0;
		for (char *p = strtok_r(copy, ",", &save); p && !err;
		     p = strtok_r(NULL, ",", &save))
			err = node_list_id(&lc, p);
		free(copy);
		return err;
	}
	struct doc *d;
	int err = docs_get(API_PUBLISHERS, NULL, &d);
	if (err)
		return err;
	err = docs_listing_each(d, node_list_id, &lc);
	doc_put(d);
	return err;
}

/* The documents of node n: its publisher, offer and name, as far as the
 * kind takes them. */
static int docs_of(enum api_doc kind, const struct node *n, struct doc **d)
{
	const char *ids[] = {n->cap[CPP_PUB], n->cap[CPP_OFFER],
			     n->cap[CPP_NAME]};
	return docs_get(kind, ids, d);
}

int offer_exists(const struct node *n)
{
	struct doc *d;
	int err = docs_of(API_OFFERS, n, &d);
	if (err)
		return err;
	err = docs_listing_has(d, n->cap[CPP_OFFER]);
	doc_put(d);
	return err;
}

int offer_list(const struct node_type *row, const struct node *parent,
	       node_fill_fn fill, void *ctx)
{
	struct node_lister lc = {row, parent, fill, ctx};
	struct doc *d;
	int err = docs_of(API_OFFERS, parent, &d);
	if (err)
		return err;
	err = docs_listing_each(d, node_list_id, &lc);
	doc_put(d);
	return err;
}

/* An offer directory changes when its listing entry does. */
int offer_dir_show(const struct node *n, struct content *out)
{
	struct doc *d;
	int err = docs_of(API_OFFERS, n, &d);
	if (err)
		return err;
	out->mtime = d->mtime;
	doc_put(d);
	return 0;
}

/* arg: the document's own argument (a slot, a version). */
static int show_remote(enum api_doc kind, const struct node *n, const char *arg,
		       struct content *out)
{
	const char *ids[] = {n->cap[CPP_PUB], n->cap[CPP_OFFER], arg};
	struct doc *d;
	int err = docs_get(kind, ids, &d);
	if (err)
		return err;
	err = content_from_doc(out, d);
	doc_put(d);
	return err;
}

int offer_json_show(const struct node *n, struct content *out)
{
	return show_remote(API_OFFER, n, NULL, out);
}

int offer_status_json_show(const struct node *n, struct content *out)
{
	return show_remote(API_STATUS, n, NULL, out);
}

int slot_show(const struct node *n, struct content *out)
{
	return show_remote(API_SLOT, n, n->type->arg, out);
}

/* A slot the offer never reached answers 404 (doc/cpp-api.md §6.2); listing
 * it anyway would show a name that stat, find and tar then fail on. */
int slot_exists(const struct node *n)
{
	const char *ids[] = {n->cap[CPP_PUB], n->cap[CPP_OFFER], n->type->arg};
	struct doc *d;
	int err = docs_get(API_SLOT, ids, &d);
	doc_put(d);
	return err;
}

int version_show(const struct node *n, struct content *out)
{
	return show_remote(API_VERSION, n, n->cap[CPP_NAME], out);
}

int offer_status_show(const struct node *n, struct content *out)
{
	struct doc *d;
	int err = docs_of(API_STATUS, n, &d);
	if (err)
		return err;
	/* Parsed once, when the document arrived (docs.c). */
	const char *word = docs_status_word(d);
	if (word) {
		char line[MODEL_WORD_MAX + 2];
		snprintf(line, sizeof(line), "%s\n", word);
		err = content_set(out, line, strlen(line), d->mtime);
	} else {
		log_warn("%s/%s: the status document has no status word",
			 n->cap[CPP_PUB], n->cap[CPP_OFFER]);
		err = -EIO;
	}
	if (!err && d->url && !(out->url = strdup(d->url)))
		err = -ENOMEM;
	doc_put(d);
	return err;
}

/* The offer's "version". It bounds the stored versions but is not their
 * count: a new offer is version 1 before anything was published
 * (doc/cpp-api.md §12 #23, #24). */
static int offer_version_field(const struct node *n, long long *version)
{
	struct doc *d;
	int err = docs_of(API_OFFER, n, &d);
	if (err)
		return err;
	*version = docs_offer_version(d);
	doc_put(d);
	return 0;
}

/* 0 when version v is stored, -ENOENT when not, else the error. */
static int version_stored(const struct node *n, long long v)
{
	char name[24];
	struct doc *d;
	snprintf(name, sizeof(name), "%lld", v);
	const char *ids[] = {n->cap[CPP_PUB], n->cap[CPP_OFFER], name};
	int err = docs_get(API_VERSION, ids, &d);
	doc_put(d);
	return err;
}

/* Versions 1..k are stored, k <= version. The API has no listing of
 * them: ask for the newest (the one a reader wants anyway), and only
 * when it is missing search below it. */
static int offer_version_count(const struct node *n, long long *count)
{
	long long hi;
	int err = offer_version_field(n, &hi);
	if (err)
		return err;
	if (hi > 100000)
		hi = 100000;
	long long lo = 0; /* stored (trivially) */
	if (hi > 0) {
		err = version_stored(n, hi);
		if (err == 0)
			lo = hi;
		else if (err != -ENOENT)
			return err;
		hi--;
	}
	while (lo < hi) {
		long long mid = lo + (hi - lo + 1) / 2;
		err = version_stored(n, mid);
		if (err == 0)
			lo = mid;
		else if (err == -ENOENT)
			hi = mid - 1;
		else
			return err;
	}
	*count = lo;
	return 0;
}

int version_exists(const struct node *n)
{
	char *end;
	long long v = strtoll(n->cap[CPP_NAME], &end, 10);
	if (*end || end == n->cap[CPP_NAME] || v < 1 ||
	    n->cap[CPP_NAME][0] == '0')
		return -ENOENT;
	long long version;
	int err = offer_version_field(n, &version);
	if (err)
		return err;
	return v <= version ? version_stored(n, v) : -ENOENT;
}

int version_list(const struct node_type *row, const struct node *parent,
		 node_fill_fn fill, void *ctx)
{
	long long count;
	int err = offer_version_count(parent, &count);
	for (long long v = 1; !err && v <= count; v++) {
		char name[24];
		snprintf(name, sizeof(name), "%lld", v);
		err = node_fill_child(row, parent, name, fill, ctx);
	}
	return err;
}

/* Writing offer.json: a whole document, validated here, PUT with the
 * ETag of the version the writer read (or "*" when the API gave none). */
int offer_json_store(const struct node *n, const struct content *read,
		     const char *data, size_t len)
{
	if (!jsonutil_is_object(data, len)) {
		log_warn("%s/%s/offer.json: not a JSON object; nothing sent",
			 n->cap[CPP_PUB], n->cap[CPP_OFFER]);
		return -EINVAL;
	}
	struct api_result res = {0};
	int err = api_put_offer(n->cap[CPP_PUB], n->cap[CPP_OFFER], data, len,
				read ? read->etag : NULL, &res);
	api_result_free(&res);
	docs_invalidate(n->cap[CPP_PUB], n->cap[CPP_OFFER]);
	return err;
}
