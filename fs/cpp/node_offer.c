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
#include "partnerfs/fanout.h"
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

/* A publisher is found through its offer listing: 404 (ENOENT), 403
 * (EACCES), else it is there; the listing is cached for the next ls. */
static int publisher_lookup(const char *pub)
{
	struct doc *d;
	const char *ids[] = {pub};
	int err = docs_get(API_OFFERS, ids, &d);
	doc_put(d);
	return err;
}

/* A name of -o publishers= is taken on trust, except that one the API
 * says does not exist (404) is not there: listing it would name a
 * directory whose offers/ then fails (cp -r, rsync). Any other error is
 * the offers/ listing's to report. */
static int configured_publisher_exists(const char *pub)
{
	return publisher_lookup(pub) == -ENOENT ? -ENOENT : 0;
}

int publisher_exists(const struct node *n)
{
	if (publisher_is_configured(n->cap[CPP_PUB]))
		return configured_publisher_exists(n->cap[CPP_PUB]);
	struct doc *d;
	if (!pfs_config.publishers && docs_get(API_PUBLISHERS, NULL, &d) == 0) {
		int err = docs_listing_has(d, n->cap[CPP_PUB]);
		doc_put(d);
		if (err == 0)
			return 0;
	}
	/* Any other name is looked up on demand. */
	return publisher_lookup(n->cap[CPP_PUB]);
}

/* The names of -o publishers=, each looked up (FANOUT_MAX at a time). */
struct configured {
	char **names;
	int *err;
};

static void configured_probe_one(void *arg, size_t i)
{
	struct configured *c = arg;
	c->err[i] = configured_publisher_exists(c->names[i]);
}

static int configured_list(struct node_lister *lc)
{
	char *copy = strdup(pfs_config.publishers), *save = NULL;
	size_t n = 0, cap = 1;
	for (const char *p = pfs_config.publishers; *p; p++)
		cap += *p == ',';
	struct configured c = {calloc(cap, sizeof(char *)),
			       calloc(cap, sizeof(int))};
	int err = copy && c.names && c.err ? 0 : -ENOMEM;
	for (char *p = err ? NULL : strtok_r(copy, ",", &save); p && n < cap;
	     p = strtok_r(NULL, ",", &save))
		c.names[n++] = p;
	if (!err)
		fanout(n, configured_probe_one, &c);
	for (size_t i = 0; !err && i < n; i++)
		if (c.err[i] == 0)
			err = node_list_id(lc, c.names[i]);
	free(c.err);
	free(c.names);
	free(copy);
	return err;
}

int publisher_list(const struct node_type *row, const struct node *parent,
		   node_fill_fn fill, void *ctx)
{
	struct node_lister lc = {row, parent, fill, ctx};
	if (pfs_config.publishers)
		return configured_list(&lc);
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
 * it anyway would show a name that stat, find and tar then fail on. The
 * draft is asked too: every offer has one, but a listing names only what
 * answered, and a reader of slots/ wants the document anyway. */
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

/* Versions looked for at most: a bound on a number the server sends. */
#define VERSIONS_MAX 100000

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
	if (v > version || v > VERSIONS_MAX)
		return -ENOENT;
	return version_stored(n, v);
}

/* The candidates 1..version of one listing and what each GET answered. */
struct version_probe {
	const struct node *parent;
	int *err; /* [v - 1] */
};

static void version_probe_one(void *arg, size_t i)
{
	struct version_probe *vp = arg;
	vp->err[i] = version_stored(vp->parent, (long long)i + 1);
}

/* The API has no listing of versions, and a server need not keep every
 * old one (a version it no longer serves answers 404): so each of
 * 1..version is asked for, through the cache, and only those that answer
 * are listed, the very test version_exists makes. A listing never names
 * what stat or open would then deny, and cp -r, rsync and tar of an offer
 * do not fail on a hole. That is one GET per version where a search for
 * the newest took log(version), but a recursive tool stats and reads every
 * listed version anyway, and now finds each in the cache; a names-only ls
 * pays for them, FANOUT_MAX at a time. */
int version_list(const struct node_type *row, const struct node *parent,
		 node_fill_fn fill, void *ctx)
{
	long long hi;
	int err = offer_version_field(parent, &hi);
	if (err || hi < 1)
		return err;
	if (hi > VERSIONS_MAX)
		hi = VERSIONS_MAX;
	struct version_probe vp = {parent, calloc((size_t)hi, sizeof(int))};
	if (!vp.err)
		return -ENOMEM;
	fanout((size_t)hi, version_probe_one, &vp);
	for (long long v = 1; !err && v <= hi; v++) {
		char name[24];
		snprintf(name, sizeof(name), "%lld", v);
		if (vp.err[v - 1] == 0)
			err = node_fill_child(row, parent, name, fill, ctx);
		else if (vp.err[v - 1] != -ENOENT)
			err = vp.err[v - 1]; /* not known: say so, not less */
	}
	free(vp.err);
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
