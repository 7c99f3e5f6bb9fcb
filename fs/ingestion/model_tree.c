/* model_tree.c: a resource tree -> its files, and what it means (see
 * model.h). The API lists resources in any order and re-signs asset URLs
 * on every call (doc/ingestion-api.md §4.1): the tree is shown sorted by
 * id, and its key ignores the SAS query strings, so a refetch that
 * differs only in those is no change. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "durable.h"
#include "model.h"
#include "partnerfs/hash.h"
#include "partnerfs/jsonutil.h"
#include "partnerfs/log.h"

void ing_tree_free(struct ing_tree *t)
{
	for (size_t i = 0; t && i < t->count; i++) {
		free(t->files[i].path);
		free(t->files[i].id);
		free(t->files[i].text);
	}
	if (t) {
		free(t->files);
		t->files = NULL;
		t->count = 0;
	}
}

static int cmp_resource(const void *a, const void *b)
{
	json_object *x = *(json_object *const *)a;
	json_object *y = *(json_object *const *)b;
	const char *ix = jsonutil_get_string(x, "id");
	const char *iy = jsonutil_get_string(y, "id");
	int c = strcmp(ix ? ix : "", iy ? iy : "");
	if (c)
		return c;
	/* Two resources with one id (or none): order them by content, so
	 * that the order the API chose still does not show. */
	return strcmp(
		json_object_to_json_string_ext(x, JSON_C_TO_STRING_PLAIN),
		json_object_to_json_string_ext(y, JSON_C_TO_STRING_PLAIN));
}

static int cmp_file(const void *a, const void *b)
{
	return strcmp(((const struct ing_file *)a)->path,
		      ((const struct ing_file *)b)->path);
}

/* A signed storage URL: its query (st=, se=, sig=) changes per call. */
static size_t unsigned_len(const char *s)
{
	const char *q = strchr(s, '?');
	if (q && strncmp(s, "http", 4) == 0 && strstr(q, "sig="))
		return (size_t)(q - s);
	return strlen(s);
}

static void hash_json(unsigned long long *h, json_object *v)
{
	char tag = (char)json_object_get_type(v);
	*h = hash_more(*h, &tag, 1);
	switch (json_object_get_type(v)) {
	case json_type_object: {
		json_object_object_foreach(v, key, child)
		{
			*h = hash_more(*h, key, strlen(key) + 1);
			hash_json(h, child);
		}
		break;
	}
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(v); i++)
			hash_json(h, json_object_array_get_idx(v, i));
		break;
	case json_type_string: {
		const char *s = json_object_get_string(v);
		*h = hash_more(*h, s, unsigned_len(s) + 1);
		break;
	}
	default: {
		const char *s = json_object_to_json_string(v);
		*h = hash_more(*h, s, strlen(s) + 1);
	}
	}
}

/* The tree's plans: GUID and externalId of each "plan/<g>/<p>". */
static size_t plans_of(json_object *resources, struct durable_plan *plans,
		       size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < json_object_array_length(resources) && n < max;
	     i++) {
		json_object *r = json_object_array_get_idx(resources, i), *idn;
		const char *id = jsonutil_get_string(r, "id");
		const char *last = id ? strrchr(id, '/') : NULL;
		if (!id || strncmp(id, "plan/", 5) != 0 || !last ||
		    !json_object_object_get_ex(r, "identity", &idn))
			continue;
		const char *ext = jsonutil_get_string(idn, "externalId");
		if (!ext)
			ext = jsonutil_get_string(idn, "externalID");
		if (ext) {
			plans[n].guid = last + 1;
			plans[n].external_id = ext;
			n++;
		}
	}
	return n;
}

static int add_file(struct ing_tree *t, json_object *r, const char *id,
		    struct buf *path)
{
	struct buf text = BUF_INIT;
	struct ing_file *f = &t->files[t->count];
	int err = jsonutil_render_pretty(r, &text);
	if (err)
		return err;
	f->len = text.len;
	f->text = buf_steal(&text);
	f->path = buf_steal(path);
	f->id = strdup(id);
	t->count++;
	return f->id ? 0 : -ENOMEM;
}

/* One file per resource with a usable durable id; the first of two that
 * name one path wins (the tree is sorted by id by now). */
static int files_of(json_object *resources, const char *guid, size_t depth,
		    struct ing_tree *t)
{
	size_t n = json_object_array_length(resources);
	struct durable_plan *plans = calloc(n + 1, sizeof(*plans));
	t->files = calloc(n + 1, sizeof(*t->files));
	if (!plans || !t->files) {
		free(plans);
		return -ENOMEM;
	}
	size_t nplans = plans_of(resources, plans, n);
	int err = 0;
	for (size_t i = 0; i < n && !err; i++) {
		json_object *r = json_object_array_get_idx(resources, i);
		const char *id = jsonutil_get_string(r, "id");
		struct buf path = BUF_INIT;
		if (!id ||
		    durable_path(id, guid, plans, nplans, depth, &path) != 0 ||
		    strcmp(path.data, "resource-tree.json") == 0) {
			log_info("resource tree: no file for resource %zu "
				 "(id %.80s)",
				 i, id ? id : "missing");
			buf_free(&path);
			continue;
		}
		err = add_file(t, r, id, &path);
		buf_free(&path);
	}
	free(plans);
	qsort(t->files, t->count, sizeof(*t->files), cmp_file);
	size_t kept = 0;
	for (size_t i = 0; i < t->count; i++) {
		if (kept &&
		    strcmp(t->files[kept - 1].path, t->files[i].path) == 0) {
			log_info("resource tree: %s and %s are both %s",
				 t->files[kept - 1].id, t->files[i].id,
				 t->files[i].path);
			free(t->files[i].path);
			free(t->files[i].id);
			free(t->files[i].text);
			continue;
		}
		t->files[kept++] = t->files[i];
	}
	t->count = kept;
	return err;
}

int ing_model_tree(json_object *tree, const char *guid, size_t depth,
		   struct ing_tree *out, struct buf *shown,
		   unsigned long long *key)
{
	json_object *resources;
	memset(out, 0, sizeof(*out));
	if (!json_object_object_get_ex(tree, "resources", &resources) ||
	    !json_object_is_type(resources, json_type_array))
		return -EIO;
	json_object_array_sort(resources, cmp_resource);
	int err = files_of(resources, guid, depth, out);
	if (!err)
		err = jsonutil_render_pretty(tree, shown);
	*key = HASH_START;
	if (!err)
		hash_json(key, tree);
	if (err)
		ing_tree_free(out);
	return err;
}

const struct ing_file *ing_tree_find(const struct ing_tree *t, const char *path)
{
	struct ing_file want = {.path = (char *)path};
	return t && t->count ? bsearch(&want, t->files, t->count,
				       sizeof(*t->files), cmp_file)
			     : NULL;
}
