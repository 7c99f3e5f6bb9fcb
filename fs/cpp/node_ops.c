/* node_ops.c: an offer's operations/ directory, `latest`, and each
 * operation's status, operation.json and wait. The tracker holds the
 * state; the API's submissions listing tells which operations exist. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "cpp.h"
#include "docs.h"
#include "model.h"
#include "partnerfs/tracker.h"

/* The listed operations, with the URL each is polled at. */
static int operations_merge(const struct node *n, const char *scope,
			    const struct submission_list *list)
{
	struct tracker_seen *seen = calloc(list->count + 1, sizeof(*seen));
	struct buf *urls = calloc(list->count + 1, sizeof(*urls));
	int err = seen && urls ? 0 : -ENOMEM;
	for (size_t i = 0; !err && i < list->count; i++) {
		const char *ids[] = {n->cap[CPP_PUB], n->cap[CPP_OFFER],
				     list->items[i].id};
		err = api_doc_url(API_OPERATION, ids, &urls[i]);
		seen[i].id = list->items[i].id;
		seen[i].url = urls[i].data;
		seen[i].state = list->items[i].state;
	}
	if (!err)
		err = tracker_merge_listing(scope, seen, list->count);
	for (size_t i = 0; urls && i < list->count; i++)
		buf_free(&urls[i]);
	free(urls);
	free(seen);
	return err;
}

static int operations_load_listing(const struct node *n)
{
	const char *ids[] = {n->cap[CPP_PUB], n->cap[CPP_OFFER]};
	char scope[CPP_SCOPE_MAX];
	struct doc *d;
	int err = docs_get(API_SUBMISSIONS, ids, &d);
	if (err)
		return err;
	const struct submission_list *list = docs_submissions(d);
	cpp_scope(n, scope, sizeof(scope));
	/* Merged at every load, cached or not: the tracker forgets an
	 * operation that ended longer than `retention` ago, and what the
	 * server still lists must come back (a merge adds only what the
	 * tracker does not know; it is called for a listing and for a
	 * lookup the tracker missed). */
	if (list)
		err = operations_merge(n, scope, list);
	doc_put(d);
	return err;
}

/* The operation node n names: its scope and id. */
#define OP_OF(n, scope)                                                        \
	char scope[CPP_SCOPE_MAX];                                             \
	cpp_scope(n, scope, sizeof(scope))

int operation_exists(const struct node *n)
{
	OP_OF(n, scope);
	struct op_view v;
	int err = tracker_get(scope, n->cap[CPP_NAME], &v);
	if (err == -ENOENT) {
		err = operations_load_listing(n);
		if (!err)
			err = tracker_get(scope, n->cap[CPP_NAME], &v);
	}
	if (!err)
		op_view_free(&v);
	return err;
}

int operation_list(const struct node_type *row, const struct node *parent,
		   node_fill_fn fill, void *ctx)
{
	int err = operations_load_listing(parent);
	if (err)
		return err;
	OP_OF(parent, scope);
	struct node_lister lc = {row, parent, fill, ctx};
	return tracker_each(scope, node_list_id, &lc);
}

int operations_latest_exists(const struct node *n)
{
	OP_OF(n, scope);
	char id[IDENT_MAX + 1];
	int err = tracker_latest(scope, id, sizeof(id));
	if (err == -ENOENT) {
		err = operations_load_listing(n);
		if (!err)
			err = tracker_latest(scope, id, sizeof(id));
	}
	return err;
}

int operations_latest_link(const struct node *n, char *buf, size_t size)
{
	OP_OF(n, scope);
	int err = operations_latest_exists(n);
	if (!err)
		err = tracker_latest(scope, buf, size);
	return err;
}

int operation_status_show(const struct node *n, struct content *out)
{
	OP_OF(n, scope);
	struct op_view v;
	int err = tracker_get(scope, n->cap[CPP_NAME], &v);
	if (err)
		return err;
	char line[TRACKER_STATE_MAX + 1];
	snprintf(line, sizeof(line), "%s\n", v.state);
	err = content_set(out, line, strlen(line), v.mtime);
	if (!err && !(out->url = strdup(v.url)))
		err = -ENOMEM;
	op_view_free(&v);
	return err;
}

/* operation.json is the GET of the operation's location. A server may
 * list an operation (its submissions) that it no longer serves (404): the
 * operation and its status, which the listing gives, are shown, and
 * operation.json is not, rather than listed and then ENOENT to stat, cp
 * and tar. Once the document is in the tracker this asks nothing. */
int operation_json_exists(const struct node *n)
{
	OP_OF(n, scope);
	return tracker_fetch_doc(scope, n->cap[CPP_NAME]);
}

int operation_json_show(const struct node *n, struct content *out)
{
	OP_OF(n, scope);
	/* An operation known only from a listing has no document yet. */
	int err = tracker_fetch_doc(scope, n->cap[CPP_NAME]);
	if (err)
		return err;
	struct op_view v;
	err = tracker_get(scope, n->cap[CPP_NAME], &v);
	if (err)
		return err;
	/* The tracker keeps the document as shown (cpp_poll). */
	err = content_set(out, v.doc ? v.doc : "", v.doc_len, v.mtime);
	if (!err && !(out->url = strdup(v.url)))
		err = -ENOMEM;
	if (err)
		content_free(out);
	op_view_free(&v);
	return err;
}

int operation_wait(const struct node *n, struct content *out)
{
	OP_OF(n, scope);
	char state[TRACKER_STATE_MAX + 1];
	int err = tracker_terminal_state(scope, n->cap[CPP_NAME], state,
					 sizeof(state) - 1);
	if (err)
		return err;
	strcat(state, "\n");
	return content_set(out, state, strlen(state), time(NULL));
}
