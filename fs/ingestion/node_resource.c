/* node_resource.c: draft/ preview/ live/, each one resource tree: its
 * resource-tree.json, and one file per resource at the path its durable
 * id names (durable.h), with the directories between. A draft file
 * written whole is sent as a configure of that one resource. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api.h"
#include "docs.h"
#include "ing.h"
#include "partnerfs/log.h"

/* The targets besides the draft, which exist once a submission does. */
static int is_published_target(const char *t)
{
	return strcmp(t, "preview") == 0 || strcmp(t, "live") == 0;
}

/* Draft rows name their target in arg; the others capture it. */
static const char *target_of(const struct node *n)
{
	return n->type->arg ? n->type->arg : n->cap[1];
}

static size_t captures_of(const struct node_type *row)
{
	size_t k = 0;
	for (const char *p = row->pattern; (p = strchr(p, '{')); p++)
		k++;
	return k;
}

/* The path below the target directory that n names ("" for the target
 * itself), with ".json" for a file. */
static int res_path(const struct node *n, struct buf *out)
{
	size_t first = n->type->arg ? 1 : 2, k = captures_of(n->type);
	int err = buf_puts(out, "");
	for (size_t i = first; i < k && !err; i++)
		err = buf_printf(out, "%s%s", i > first ? "/" : "", n->cap[i]);
	if (!err && S_ISREG(n->type->mode))
		err = buf_puts(out, ".json");
	return err;
}

static int tree_of(const struct node *n, struct doc **d)
{
	const char *target = target_of(n);
	const char *ids[] = {n->cap[ING_EXT], target};
	if (strcmp(target, "draft") != 0 && !is_published_target(target))
		return -ENOENT;
	return ing_docs_get(ING_TREE, ids, d);
}

int ing_target_exists(const struct node *n)
{
	struct doc *d;
	if (!is_published_target(n->cap[1]))
		return -ENOENT;
	int err = ing_product_submissions(n->cap[ING_EXT], &d, NULL, NULL);
	if (err)
		return err;
	const struct ing_submissions *s = ing_docs_submissions(d);
	int has =
		s && (strcmp(n->cap[1], "preview") == 0 ? s->preview : s->live);
	doc_put(d);
	return has ? 0 : -ENOENT;
}

int ing_target_list(const struct node_type *row, const struct node *parent,
		    node_fill_fn fill, void *ctx)
{
	static const char *const targets[] = {"preview", "live"};
	int err = 0;
	for (size_t i = 0; i < 2 && !err; i++) {
		struct node child = *parent;
		snprintf(child.cap[1], sizeof(child.cap[1]), "%s", targets[i]);
		if (ing_target_exists(&child) == 0)
			err = node_fill_child(row, parent, targets[i], fill,
					      ctx);
	}
	return err;
}

/* A target's directories change when its tree does. */
int ing_target_show(const struct node *n, struct content *out)
{
	struct doc *d;
	int err = tree_of(n, &d);
	if (err)
		return err;
	out->mtime = d->mtime;
	doc_put(d);
	return 0;
}

int ing_tree_show(const struct node *n, struct content *out)
{
	struct doc *d;
	int err = tree_of(n, &d);
	if (err)
		return err;
	err = content_from_doc(out, d);
	doc_put(d);
	return err;
}

/* Whether some file of t lies below dir ("plans/gen2"). */
static int has_below(const struct ing_tree *t, const char *dir)
{
	size_t len = strlen(dir);
	for (size_t i = 0; t && i < t->count; i++)
		if (strncmp(t->files[i].path, dir, len) == 0 &&
		    t->files[i].path[len] == '/')
			return 1;
	return 0;
}

int ing_res_exists(const struct node *n)
{
	struct buf path = BUF_INIT;
	struct doc *d;
	int err = tree_of(n, &d);
	if (err)
		return err;
	const struct ing_tree *t = ing_docs_tree(d);
	err = res_path(n, &path);
	if (!err)
		err = (S_ISREG(n->type->mode)
			       ? ing_tree_find(t, path.data) != NULL
			       : has_below(t, path.data))
			      ? 0
			      : -ENOENT;
	buf_free(&path);
	doc_put(d);
	return err;
}

/* The entries of row (files or directories) in parent's directory:
 * the next component of every path below it, each once. */
int ing_res_list(const struct node_type *row, const struct node *parent,
		 node_fill_fn fill, void *ctx)
{
	struct buf prefix = BUF_INIT;
	struct doc *d;
	int want_file = S_ISREG(row->mode);
	int err = tree_of(parent, &d);
	if (err)
		return err;
	const struct ing_tree *t = ing_docs_tree(d);
	int top = parent->type == &ing_rows[ROW_DRAFT] ||
		  parent->type == &ing_rows[ROW_TARGET];
	err = top ? buf_puts(&prefix, "") : res_path(parent, &prefix);
	if (!err && !top)
		err = buf_puts(&prefix, "/");
	char last[IDENT_MAX + 1] = "";
	for (size_t i = 0; !err && t && i < t->count; i++) {
		const char *p = t->files[i].path;
		if (strncmp(p, prefix.data, prefix.len) != 0)
			continue;
		p += prefix.len;
		size_t n = strcspn(p, "/");
		int is_file = p[n] == '\0';
		if (is_file != want_file)
			continue;
		if (is_file)
			n -= strlen(".json");
		char name[IDENT_MAX + 1];
		if (n > IDENT_MAX)
			continue;
		memcpy(name, p, n);
		name[n] = '\0';
		if (strcmp(name, last) == 0)
			continue;
		snprintf(last, sizeof(last), "%s", name);
		err = node_fill_child(row, parent, name, fill, ctx);
	}
	buf_free(&prefix);
	doc_put(d);
	return err;
}

/* Where a draft resource is read by itself (GET <durable id>); the
 * other targets' resources only come in their tree (§4.2). */
static int res_url(const struct node *n, const char *id, const char *tree,
		   char **out)
{
	struct buf url = BUF_INIT;
	int err = strcmp(target_of(n), "draft") == 0
			  ? ing_api_url(&url, id, NULL)
			  : buf_puts(&url, tree ? tree : "");
	*out = err ? NULL : buf_steal(&url);
	buf_free(&url);
	return err == -ENOENT ? 0 : err;
}

/* The file n names, with its doc (doc_put it). */
static int res_find(const struct node *n, struct doc **d,
		    const struct ing_file **f)
{
	struct buf path = BUF_INIT;
	int err = tree_of(n, d);
	if (err)
		return err;
	err = res_path(n, &path);
	*f = err ? NULL : ing_tree_find(ing_docs_tree(*d), path.data);
	buf_free(&path);
	if (!err && !*f)
		err = -ENOENT;
	if (err) {
		doc_put(*d);
		*d = NULL;
	}
	return err;
}

int ing_res_show(const struct node *n, struct content *out)
{
	struct doc *d;
	const struct ing_file *f;
	int err = res_find(n, &d, &f);
	if (err)
		return err;
	err = content_set(out, f->text, f->len, d->mtime);
	if (!err && !(out->id = strdup(f->id)))
		err = -ENOMEM;
	if (!err)
		err = res_url(n, f->id, d->url, &out->url);
	if (err)
		content_free(out);
	doc_put(d);
	return err;
}

/* Checked here first (a JSON object, a $schema, the same durable id), so
 * that a typo costs no job; the outcome shows in the product's
 * configure file. */
int ing_res_store(const struct node *n, const struct content *read,
		  const char *data, size_t len)
{
	(void)read;
	struct doc *d;
	const struct ing_file *f;
	int err = res_find(n, &d, &f);
	if (err)
		return err;
	struct buf body = BUF_INIT, text = BUF_INIT;
	char why[1024] = "";
	char *id = strdup(f->id);
	doc_put(d);
	if (!id)
		return -ENOMEM;
	err = ing_model_resource_body(data, len, id, &body, why, sizeof(why));
	if (err) {
		ing_outcome_refused(&text, "configure", id, err, why);
		log_warn("products/%s: %s: %s; nothing sent", n->cap[ING_EXT],
			 id, why);
	} else {
		err = ing_configure_send(n->cap[ING_EXT], "configure", id,
					 &body, &text);
	}
	ing_control_record(n->cap[ING_EXT], "configure", &text);
	free(id);
	buf_free(&body);
	buf_free(&text);
	return err;
}
