/* docs.c: the ingestion document kinds, each fetched by itself (pages
 * merged, GUIDs resolved first) and what each derives once (see docs.h). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "docs.h"
#include "ing.h"
#include "partnerfs/ident.h"
#include "partnerfs/jsonutil.h"
#include "partnerfs/log.h"
#include "partnerfs/remote.h"

/* A listing of 100,000 products at 100 a page is 1,000 pages; a server
 * whose @nextLink never ends must not keep a request going forever. */
#define PAGES_MAX 10000

static void products_note_free(void *p)
{
	ing_products_free(p);
	free(p);
}

static void tree_note_free(void *p)
{
	ing_tree_free(p);
	free(p);
}

static void submissions_note_free(void *p)
{
	ing_submissions_free(p);
	free(p);
}

static const struct doc_note_type products_note = {"products",
						   products_note_free};
static const struct doc_note_type tree_note = {"tree files", tree_note_free};
static const struct doc_note_type submissions_note = {"submissions",
						      submissions_note_free};
static const struct doc_note_type id_note = {"durable id", free};
static const struct doc_note_type guid_note = {"looked-up guid", free};

/* The (externalId, GUID) pairs this mount has seen, listed or looked up:
 * what names a job's products in its events lines. */
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ing_products seen;

static void learn(const char *ext, const char *guid)
{
	pthread_mutex_lock(&seen_lock);
	if (!ing_products_find(&seen, ext)) {
		struct ing_product *grown = realloc(
			seen.items, (seen.count + 1) * sizeof(*seen.items));
		char *e = strdup(ext), *g = strdup(guid);
		if (grown && e && g) {
			seen.items = grown;
			seen.items[seen.count++] = (struct ing_product){e, g};
		} else {
			if (grown)
				seen.items = grown;
			free(e);
			free(g);
		}
	}
	pthread_mutex_unlock(&seen_lock);
}

void ing_docs_cleanup(void)
{
	pthread_mutex_lock(&seen_lock);
	ing_products_free(&seen);
	pthread_mutex_unlock(&seen_lock);
}

int ing_docs_ext_of(const char *guid, char *ext, size_t size)
{
	pthread_mutex_lock(&seen_lock);
	const struct ing_product *p = ing_products_find_guid(&seen, guid);
	if (p)
		snprintf(ext, size, "%s", p->ext);
	pthread_mutex_unlock(&seen_lock);
	return p ? 0 : -ENOENT;
}

/* Every page from url on, following @nextLink, into a new array. */
static int fetch_pages(const char *url, json_object **values)
{
	struct buf next = BUF_INIT;
	char *prev = strdup(url);
	int err = prev ? 0 : -ENOMEM;
	*values = json_object_new_array();
	if (!*values)
		err = -ENOMEM;
	for (int page = 0; !err && prev; page++) {
		struct rest_result res;
		char *link = NULL;
		rest_result_init(&res);
		if (page >= PAGES_MAX) {
			log_warn("GET %.200s: more than %d pages", url,
				 PAGES_MAX);
			err = -EIO;
			break;
		}
		err = remote_fetch_url(prev, &res);
		if (!err && ing_model_page(res.body.data ? res.body.data : "",
					   res.body.len, *values, &link)) {
			log_warn("GET %.200s: page %d is not a collection", url,
				 page + 1);
			err = -EIO;
		}
		rest_result_free(&res);
		free(prev);
		prev = NULL;
		buf_reset(&next);
		if (!err && link && ing_api_next_url(link, &next) != 0) {
			log_warn("GET %.200s: ignoring @nextLink %.200s: not "
				 "on the endpoint",
				 url, link);
			err = -EIO;
		} else if (!err && link && !(prev = strdup(next.data))) {
			err = -ENOMEM;
		}
		free(link);
	}
	free(prev);
	buf_free(&next);
	if (err) {
		json_object_put(*values);
		*values = NULL;
	}
	return err;
}

/* A doc of text as shown, from url, with note attached (freed on error). */
static int doc_with_note(struct buf *text, const char *url,
			 const struct doc_note_type *type, void *note,
			 struct doc **out)
{
	*out = doc_new(text->data ? text->data : "", text->len, NULL, url);
	if (!*out) {
		type->free(note);
		return -ENOMEM;
	}
	if (note && !doc_note_attach(*out, type, note)) {
		doc_put(*out);
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* {"value": [every item]}, pretty, as submissions.json shows them. */
static int render_values(json_object *values, struct buf *text)
{
	json_object *doc = json_object_new_object();
	if (!doc)
		return -ENOMEM;
	json_object_object_add(doc, "value", json_object_get(values));
	int err = jsonutil_render_pretty(doc, text);
	json_object_put(doc);
	return err;
}

static int fetch_products(const char *const *ids, size_t n, struct doc **out)
{
	(void)ids, (void)n;
	struct buf url = BUF_INIT, text = BUF_INIT;
	json_object *values = NULL;
	struct ing_products *p = calloc(1, sizeof(*p));
	int err = p ? ing_api_url(&url, "product", NULL) : -ENOMEM;
	if (!err)
		err = fetch_pages(url.data, &values);
	if (!err)
		err = ing_model_products_of(values, p);
	if (!err)
		err = render_values(values, &text);
	for (size_t i = 0; !err && i < p->count; i++)
		learn(p->items[i].ext, p->items[i].guid);
	if (!err)
		err = doc_with_note(&text, url.data, &products_note, p, out);
	else
		products_note_free(p);
	json_object_put(values);
	buf_free(&url);
	buf_free(&text);
	return err;
}

/* GET product?externalId=: finds a product the listing leaves out (as
 * migrated offers were in 2026, §8). Only an exact match names it. */
static int fetch_lookup(const char *const *ids, size_t n, struct doc **out)
{
	(void)n;
	const char *query[] = {"externalId", ids[0], NULL};
	struct buf url = BUF_INIT, text = BUF_INIT;
	json_object *values = NULL;
	struct ing_products p = {0};
	int err = ing_api_url(&url, "product", query);
	if (!err)
		err = fetch_pages(url.data, &values);
	if (!err)
		err = ing_model_products_of(values, &p);
	const struct ing_product *hit =
		err ? NULL : ing_products_find(&p, ids[0]);
	if (!err && !hit)
		err = -ENOENT;
	char *guid = hit ? strdup(hit->guid) : NULL;
	if (hit && !guid)
		err = -ENOMEM;
	if (!err) {
		learn(hit->ext, hit->guid);
		err = render_values(values, &text);
		if (!err)
			err = doc_with_note(&text, url.data, &guid_note, guid,
					    out);
		else
			free(guid);
	}
	ing_products_free(&p);
	json_object_put(values);
	buf_free(&url);
	buf_free(&text);
	return err;
}

static const struct remote_kind lookup_kind = {"lookup", NULL, NULL,
					       fetch_lookup};

int ing_docs_guid(const char *ext, char *guid, size_t size)
{
	struct doc *d;
	int err = ing_docs_get(ING_PRODUCTS, NULL, &d);
	if (err)
		return err;
	const struct ing_product *p =
		ing_products_find(ing_docs_products(d), ext);
	if (p)
		snprintf(guid, size, "%s", p->guid);
	doc_put(d);
	if (p)
		return 0;
	const char *ids[] = {ext};
	err = remote_get(&lookup_kind, ids, 1, &d);
	if (err)
		return err;
	const char *g = doc_note_get(d, &guid_note);
	if (g)
		snprintf(guid, size, "%s", g);
	doc_put(d);
	return g ? 0 : -ENOENT;
}

/* One GET of path (a durable id, say) of the product ids[0] names. */
static int fetch_one(const char *path, const char *const *query,
		     struct buf *url, json_object **parsed)
{
	struct rest_result res;
	rest_result_init(&res);
	int err = ing_api_url(url, path, query);
	if (!err)
		err = remote_fetch_url(url->data, &res);
	if (!err &&
	    !(*parsed = jsonutil_parse(res.body.data ? res.body.data : "",
				       res.body.len))) {
		log_warn("GET %.*s: the response is not JSON",
			 (int)strcspn(url->data, "?"), url->data);
		err = -EIO;
	}
	rest_result_free(&res);
	return err;
}

static int fetch_product(const char *const *ids, size_t n, struct doc **out)
{
	(void)n;
	char guid[IDENT_MAX + 1] = "", path[IDENT_MAX + 16];
	struct buf url = BUF_INIT, text = BUF_INIT;
	json_object *parsed = NULL;
	int err = ing_docs_guid(ids[0], guid, sizeof(guid));
	snprintf(path, sizeof(path), "product/%s", guid);
	if (!err)
		err = fetch_one(path, NULL, &url, &parsed);
	if (!err)
		err = jsonutil_render_pretty(parsed, &text);
	const char *id = jsonutil_get_string(parsed, "id");
	char *note = strdup(id ? id : path);
	if (!err)
		err = doc_with_note(&text, url.data, &id_note, note, out);
	else
		free(note);
	json_object_put(parsed);
	buf_free(&url);
	buf_free(&text);
	return err;
}

static int fetch_submissions(const char *const *ids, size_t n, struct doc **out)
{
	(void)n;
	char guid[IDENT_MAX + 1] = "", path[IDENT_MAX + 16];
	struct buf url = BUF_INIT, text = BUF_INIT;
	json_object *values = NULL;
	struct ing_submissions *s = calloc(1, sizeof(*s));
	int err = s ? ing_docs_guid(ids[0], guid, sizeof(guid)) : -ENOMEM;
	snprintf(path, sizeof(path), "submission/%s", guid);
	if (!err)
		err = ing_api_url(&url, path, NULL);
	if (!err)
		err = fetch_pages(url.data, &values);
	if (!err)
		err = ing_model_submissions_of(values, s);
	if (!err)
		s->fetched = (long long)time(NULL);
	if (!err)
		err = render_values(values, &text);
	if (!err)
		err = doc_with_note(&text, url.data, &submissions_note, s, out);
	else
		free(s);
	json_object_put(values);
	buf_free(&url);
	buf_free(&text);
	return err;
}

static int fetch_tree(const char *const *ids, size_t n, struct doc **out)
{
	(void)n;
	char guid[IDENT_MAX + 1] = "", path[IDENT_MAX + 32];
	const char *query[] = {"targetType", ids[1], NULL};
	struct buf url = BUF_INIT, text = BUF_INIT;
	json_object *parsed = NULL;
	unsigned long long key = 0;
	struct ing_tree *t = calloc(1, sizeof(*t));
	int err = t ? ing_docs_guid(ids[0], guid, sizeof(guid)) : -ENOMEM;
	snprintf(path, sizeof(path), "resource-tree/product/%s", guid);
	if (!err)
		err = fetch_one(path, query, &url, &parsed);
	if (!err && ing_model_tree(parsed, guid, ING_DEPTH, t, &text, &key)) {
		log_warn("GET %.*s: the response is not a resource tree",
			 (int)strcspn(url.data, "?"), url.data);
		err = -EIO;
	}
	if (!err)
		err = doc_with_note(&text, url.data, &tree_note, t, out);
	else
		free(t);
	/* Not yet shared: the key is set before anyone compares it. */
	if (!err) {
		(*out)->content_key = key;
		(*out)->has_content_key = 1;
	}
	json_object_put(parsed);
	buf_free(&url);
	buf_free(&text);
	return err;
}

static int url_detail(const char *const *ids, size_t n, struct buf *out)
{
	(void)n;
	char path[IDENT_MAX + 16];
	if (!ident_is_valid(ids[0]))
		return -ENOENT;
	snprintf(path, sizeof(path), "configure/%s", ids[0]);
	return ing_api_url(out, path, NULL);
}

static const struct {
	struct remote_kind kind;
	size_t nids;
} kinds[] = {
	[ING_PRODUCTS] = {{"products", NULL, NULL, fetch_products}, 0},
	[ING_PRODUCT] = {{"product", NULL, NULL, fetch_product}, 1},
	[ING_SUBMISSIONS] = {{"submissions", NULL, NULL, fetch_submissions}, 1},
	[ING_TREE] = {{"tree", NULL, NULL, fetch_tree}, 2},
	[ING_DETAIL] = {{"detail", url_detail, NULL, NULL}, 1},
};

int ing_docs_get(enum ing_doc kind, const char *const *ids, struct doc **out)
{
	if ((size_t)kind >= sizeof(kinds) / sizeof(kinds[0]))
		return -EINVAL;
	return remote_get(&kinds[kind].kind, ids, kinds[kind].nids, out);
}

void ing_docs_invalidate_product(const char *ext)
{
	const char *scope[] = {ext};
	remote_invalidate_scope(scope, 1);
}

void ing_docs_invalidate_listing(void)
{
	remote_invalidate(&kinds[ING_PRODUCTS].kind, NULL, 0);
}

const struct ing_products *ing_docs_products(struct doc *listing)
{
	return doc_note_get(listing, &products_note);
}

const struct ing_tree *ing_docs_tree(struct doc *tree)
{
	return doc_note_get(tree, &tree_note);
}

const struct ing_submissions *ing_docs_submissions(struct doc *subs)
{
	return doc_note_get(subs, &submissions_note);
}

const char *ing_docs_product_id(struct doc *product)
{
	return doc_note_get(product, &id_note);
}
