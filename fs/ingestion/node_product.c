/* node_product.c: products/ (every page of the listing; a name it leaves
 * out is looked up), and each product's product.json, status and
 * submissions.json. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docs.h"
#include "ing.h"
#include "jobs.h"
#include "partnerfs/log.h"
#include "partnerfs/tracker.h"

int ing_product_exists(const struct node *n)
{
	char guid[IDENT_MAX + 1];
	return ing_docs_guid(n->cap[ING_EXT], guid, sizeof(guid));
}

int ing_product_list(const struct node_type *row, const struct node *parent,
		     node_fill_fn fill, void *ctx)
{
	struct doc *d;
	int err = ing_docs_get(ING_PRODUCTS, NULL, &d);
	if (err)
		return err;
	const struct ing_products *p = ing_docs_products(d);
	for (size_t i = 0; !err && p && i < p->count; i++)
		err = node_fill_child(row, parent, p->items[i].ext, fill, ctx);
	doc_put(d);
	return err;
}

/* A product's directory changes when its listing does. */
int ing_product_dir_show(const struct node *n, struct content *out)
{
	(void)n;
	struct doc *d;
	int err = ing_docs_get(ING_PRODUCTS, NULL, &d);
	if (err)
		return err;
	out->mtime = d->mtime;
	doc_put(d);
	return 0;
}

static int show_doc(enum ing_doc kind, const struct node *n,
		    struct content *out, struct doc **keep)
{
	const char *ids[] = {n->cap[ING_EXT]};
	struct doc *d;
	int err = ing_docs_get(kind, ids, &d);
	if (err)
		return err;
	err = content_from_doc(out, d);
	if (!err && keep) {
		*keep = d;
		return 0;
	}
	doc_put(d);
	return err;
}

int ing_product_json_show(const struct node *n, struct content *out)
{
	struct doc *d = NULL;
	int err = show_doc(ING_PRODUCT, n, out, &d);
	if (err)
		return err;
	const char *id = ing_docs_product_id(d);
	if (id && !(out->id = strdup(id)))
		err = -ENOMEM;
	doc_put(d);
	if (err)
		content_free(out);
	return err;
}

int ing_submissions_show(const struct node *n, struct content *out)
{
	return show_doc(ING_SUBMISSIONS, n, out, NULL);
}

struct jobs_scan {
	int running;
	time_t changed;
};

static int job_scan(void *ctx, const char *id)
{
	struct jobs_scan *scan = ctx;
	struct op_view v;
	if (tracker_get(ING_SCOPE, id, &v) != 0)
		return 0;
	if (!ing_backend.state_is_terminal(v.state))
		scan->running = 1;
	if (v.mtime > scan->changed)
		scan->changed = v.mtime;
	op_view_free(&v);
	return 0;
}

int ing_product_submissions(const char *ext, struct doc **d, int *running,
			    time_t *changed)
{
	const char *ids[] = {ext};
	struct jobs_scan scan = {0, 0};
	ing_jobs_of(ext, job_scan, &scan);
	int err = ing_docs_get(ING_SUBMISSIONS, ids, d);
	const struct ing_submissions *s = err ? NULL : ing_docs_submissions(*d);
	if (s && scan.changed && (long long)scan.changed >= s->fetched) {
		doc_put(*d);
		ing_docs_invalidate_product(ext);
		err = ing_docs_get(ING_SUBMISSIONS, ids, d);
	}
	if (running)
		*running = scan.running;
	if (changed)
		*changed = scan.changed;
	return err;
}

/* running while a submission or a job of this mount is unfinished; else
 * the result of the newest preview/live submission; neverPublished when
 * there is only the draft (doc/design.md §8). */
int ing_status_show(const struct node *n, struct content *out)
{
	struct doc *d;
	int running;
	time_t changed;
	int err = ing_product_submissions(n->cap[ING_EXT], &d, &running,
					  &changed);
	if (err)
		return err;
	const struct ing_submissions *s = ing_docs_submissions(d);
	const char *word = "neverPublished";
	if (running || (s && s->unfinished))
		word = "running";
	else if (s && (s->preview || s->live))
		word = s->result && ident_is_word(s->result) ? s->result
							     : "unknown";
	char line[80];
	snprintf(line, sizeof(line), "%s\n", word);
	err = content_set(out, line, strlen(line),
			  changed > d->mtime ? changed : d->mtime);
	if (!err && d->url && !(out->url = strdup(d->url)))
		err = -ENOMEM;
	doc_put(d);
	if (err)
		content_free(out);
	return err;
}
