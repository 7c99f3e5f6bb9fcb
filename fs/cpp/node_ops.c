/* node_ops.c: an offer's operations/ directory, `latest`, and each
 * operation's status, operation.json and wait. The API's submissions
 * listing tells which operations exist and what state an ended one is
 * in; the tracker holds the live ones (started here, or listed as not
 * ended), and an ended one only for `retention` after it ended: memory
 * follows what is live, however long the server's history. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "cpp.h"
#include "docs.h"
#include "model.h"
#include "partnerfs/op_show.h"
#include "partnerfs/tracker.h"

/* The listed operations, with the URL each is polled at. */
static int operations_merge(const struct node *n, const char *scope,
			    const struct submission_list *list)
{
	struct tracker_seen *seen = calloc(list->count + 1, sizeof(*seen));
	struct buf *urls = calloc(list->count + 1, sizeof(*urls));
	int err = seen && urls ? 0 : -ENOMEM;
	size_t k = 0;
	for (size_t i = 0; !err && i < list->count; i++) {
		const struct submission *s = &list->items[i];
		/* The newest names `latest`; the ended others are shown from
		 * the listing itself. */
		if (i > 0 && cpp_backend.state_is_terminal(s->state))
			continue;
		const char *ids[] = {n->cap[CPP_PUB], n->cap[CPP_OFFER], s->id};
		err = api_doc_url(API_OPERATION, ids, &urls[k]);
		seen[k].id = s->id;
		seen[k].url = urls[k].data;
		seen[k++].state = s->state;
	}
	if (!err)
		err = tracker_merge_listing(scope, seen, k);
	for (size_t i = 0; urls && i < k; i++)
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

/* The listing's entry for n's operation in *out: 0, -ENOENT when it is
 * not listed, or the listing's error. The entry lives in the listing,
 * which *d holds (doc_put it; NULL on failure). */
static int listed_entry(const struct node *n, struct doc **d,
			const struct submission **out)
{
	const char *ids[] = {n->cap[CPP_PUB], n->cap[CPP_OFFER]};
	*d = NULL;
	int err = docs_get(API_SUBMISSIONS, ids, d);
	if (err)
		return err;
	const struct submission_list *list = docs_submissions(*d);
	for (size_t i = 0; list && i < list->count; i++)
		if (strcmp(list->items[i].id, n->cap[CPP_NAME]) == 0) {
			*out = &list->items[i];
			return 0;
		}
	doc_put(*d);
	*d = NULL;
	return -ENOENT;
}

/* Whether the tracker knows n's operation, after merging the listing
 * when it did not. 0, -ENOENT, or the listing's error. */
static int operation_tracked(const struct node *n, const char *scope)
{
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

int operation_exists(const struct node *n)
{
	OP_OF(n, scope);
	int err = operation_tracked(n, scope);
	if (err == -ENOENT) {
		struct doc *d;
		const struct submission *s;
		err = listed_entry(n, &d, &s);
		doc_put(d);
	}
	return err;
}

struct unlisted_ctx {
	struct node_lister *lister;
	const struct submission_list *list;
};

static int list_unlisted(void *arg, const char *id)
{
	struct unlisted_ctx *uc = arg;
	for (size_t i = 0; uc->list && i < uc->list->count; i++)
		if (strcmp(uc->list->items[i].id, id) == 0)
			return 0;
	return node_list_id(uc->lister, id);
}

int operation_list(const struct node_type *row, const struct node *parent,
		   node_fill_fn fill, void *ctx)
{
	int err = operations_load_listing(parent);
	if (err)
		return err;
	OP_OF(parent, scope);
	struct node_lister lc = {row, parent, fill, ctx};
	const char *ids[] = {parent->cap[CPP_PUB], parent->cap[CPP_OFFER]};
	struct doc *d;
	err = docs_get(API_SUBMISSIONS, ids, &d);
	if (err)
		return err;
	/* What the server lists, then what only this mount knows of yet (a
	 * publish the listing does not show yet). */
	const struct submission_list *list = docs_submissions(d);
	for (size_t i = 0; list && i < list->count && !err; i++)
		err = node_list_id(&lc, list->items[i].id);
	struct unlisted_ctx uc = {&lc, list};
	if (!err)
		err = tracker_each(scope, list_unlisted, &uc);
	doc_put(d);
	return err;
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
	int err = operation_tracked(n, scope);
	if (!err)
		err = op_show_status(scope, n->cap[CPP_NAME], out);
	if (err != -ENOENT)
		return err;
	/* Ended and forgotten: the listing says how it ended. */
	struct doc *d;
	const struct submission *s;
	err = listed_entry(n, &d, &s);
	if (err)
		return err;
	char line[TRACKER_STATE_MAX + 1];
	snprintf(line, sizeof(line), "%s\n", s->state);
	err = content_set(out, line, strlen(line), d->mtime);
	doc_put(d);
	return err;
}

/* operation.json of an ended operation the tracker forgot: its GET,
 * through the cache. */
static int operation_json_listed(const struct node *n, struct content *out)
{
	const char *ids[] = {n->cap[CPP_PUB], n->cap[CPP_OFFER],
			     n->cap[CPP_NAME]};
	struct doc *d;
	int err = docs_get(API_OPERATION, ids, &d);
	if (!err)
		err = content_from_doc(out, d);
	doc_put(d);
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
	int err = operation_tracked(n, scope);
	if (err != -ENOENT)
		return err ? err : tracker_fetch_doc(scope, n->cap[CPP_NAME]);
	struct content c = {0};
	err = operation_json_listed(n, &c);
	content_free(&c);
	return err;
}

int operation_json_show(const struct node *n, struct content *out)
{
	OP_OF(n, scope);
	int err = operation_tracked(n, scope);
	if (err == -ENOENT)
		return operation_json_listed(n, out);
	/* The document as cpp_poll() shows it. */
	return err ? err : op_show_doc(scope, n->cap[CPP_NAME], out);
}

int operation_wait(const struct node *n, struct content *out)
{
	OP_OF(n, scope);
	char state[TRACKER_STATE_MAX + 1];
	int err = tracker_terminal_state(scope, n->cap[CPP_NAME], state,
					 sizeof(state) - 1);
	if (err == -ENOENT) {
		/* Ended and forgotten (or never tracked): as listed. */
		struct doc *d;
		const struct submission *s;
		err = listed_entry(n, &d, &s);
		if (!err && !cpp_backend.state_is_terminal(s->state))
			err = -EAGAIN;
		if (!err)
			snprintf(state, sizeof(state) - 1, "%s", s->state);
		doc_put(d);
	}
	if (err)
		return err;
	strcat(state, "\n");
	return content_set(out, state, strlen(state), time(NULL));
}
