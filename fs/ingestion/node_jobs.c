/* node_jobs.c: operations/ at the root (every job this mount knows) and
 * in each product (its jobs), `latest`, and each job's status,
 * status.json, detail.json and wait. The tracker holds their state;
 * jobs.c which products they belong to. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docs.h"
#include "ing.h"
#include "jobs.h"
#include "model.h"
#include "partnerfs/op_show.h"
#include "partnerfs/tracker.h"

static int is_product_row(const struct node *n)
{
	return strncmp(n->type->pattern, "/products/", 10) == 0;
}

const char *ing_job_of(const struct node *n)
{
	return is_product_row(n) ? n->cap[1] : n->cap[0];
}

int ing_op_exists(const struct node *n)
{
	const char *id = ing_job_of(n);
	struct op_view v;
	if (is_product_row(n) && !ing_jobs_has(n->cap[ING_EXT], id))
		return -ENOENT;
	int err = tracker_get(ING_SCOPE, id, &v);
	if (!err)
		op_view_free(&v);
	return err;
}

struct list_ctx {
	const struct node_type *row;
	const struct node *parent;
	node_fill_fn fill;
	void *ctx;
};

static int list_one(void *arg, const char *id)
{
	struct list_ctx *lc = arg;
	return node_fill_child(lc->row, lc->parent, id, lc->fill, lc->ctx);
}

int ing_op_list(const struct node_type *row, const struct node *parent,
		node_fill_fn fill, void *ctx)
{
	struct list_ctx lc = {row, parent, fill, ctx};
	if (is_product_row(parent))
		return ing_jobs_of(parent->cap[ING_EXT], list_one, &lc);
	return tracker_each(ING_SCOPE, list_one, &lc);
}

struct first {
	char *id;
	size_t size;
};

static int take_first(void *arg, const char *id)
{
	struct first *f = arg;
	snprintf(f->id, f->size, "%s", id);
	return 1;
}

static int latest(const struct node *n, char *id, size_t size)
{
	if (!is_product_row(n))
		return tracker_latest(ING_SCOPE, id, size);
	struct first f = {id, size};
	id[0] = '\0';
	ing_jobs_of(n->cap[ING_EXT], take_first, &f);
	return id[0] ? 0 : -ENOENT;
}

int ing_latest_exists(const struct node *n)
{
	char id[IDENT_MAX + 1];
	return latest(n, id, sizeof(id));
}

int ing_latest_link(const struct node *n, char *buf, size_t size)
{
	return latest(n, buf, size);
}

int ing_op_status_show(const struct node *n, struct content *out)
{
	int err = op_show_status(ING_SCOPE, ing_job_of(n), out);
	if (!err && !(out->id = strdup(ing_job_of(n)))) {
		content_free(out);
		err = -ENOMEM;
	}
	return err;
}

int ing_op_json_show(const struct node *n, struct content *out)
{
	return op_show_doc(ING_SCOPE, ing_job_of(n), out);
}

/* GET configure/<id> answers once the job succeeded or was cancelled,
 * and 404 before and for a failed job (doc/ingestion-api.md §4.6). */
int ing_op_detail_exists(const struct node *n)
{
	struct op_view v;
	int err = tracker_get(ING_SCOPE, ing_job_of(n), &v);
	if (err)
		return err;
	int has = strcmp(v.state, "succeeded") == 0 ||
		  strcmp(v.state, "cancelled") == 0;
	op_view_free(&v);
	return has ? 0 : -ENOENT;
}

int ing_op_detail_show(const struct node *n, struct content *out)
{
	const char *ids[] = {ing_job_of(n)};
	struct doc *d;
	int err = ing_op_detail_exists(n);
	if (!err)
		err = ing_docs_get(ING_DETAIL, ids, &d);
	if (err)
		return err;
	err = content_from_doc(out, d);
	doc_put(d);
	return err;
}

int ing_op_wait(const struct node *n, struct content *out)
{
	char state[TRACKER_STATE_MAX + 1];
	int err = tracker_terminal_state(ING_SCOPE, ing_job_of(n), state,
					 sizeof(state) - 1);
	if (err)
		return err;
	strcat(state, "\n");
	return content_set(out, state, strlen(state), time(NULL));
}
