/* node_ops.c: an offer's operations/ directory, `latest`, and each
 * operation's status, operation.json and wait. The tracker holds the
 * state; the API's submissions listing tells which operations exist. */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node_impl.h"
#include "partnerfs/model.h"
#include "partnerfs/remote.h"
#include "partnerfs/tracker.h"

/* Marks a listing doc as merged into the tracker, so that a cached listing
 * is merged once, not at every lookup. */
static char merged_marker;

static int operations_load_listing(const struct node *n)
{
	struct doc *d;
	int err = remote_get(REMOTE_SUBMISSIONS, n->pub, n->offer, NULL, &d);
	if (err)
		return err;
	if (d->aux != &merged_marker) {
		struct submission_list list = {0};
		err = model_parse_submissions(d->data, d->len, &list);
		if (!err)
			err = tracker_merge_listing(n->pub, n->offer, &list);
		submission_list_free(&list);
		if (!err)
			d->aux = &merged_marker;
	}
	doc_put(d);
	return err;
}

int operation_exists(const struct node *n)
{
	struct op_view v;
	int err = tracker_get(n->pub, n->offer, n->name, &v);
	if (err == -ENOENT) {
		err = operations_load_listing(n);
		if (!err)
			err = tracker_get(n->pub, n->offer, n->name, &v);
	}
	if (!err)
		op_view_free(&v);
	return err;
}

struct list_ctx {
	const struct node *parent;
	node_fill_fn fill;
	void *ctx;
};

static int list_one(void *arg, const char *id)
{
	struct list_ctx *lc = arg;
	return node_fill_child(lc->parent,
			       "/publishers/{pub}/offers/{offer}/operations/"
			       "{name}",
			       id, lc->fill, lc->ctx);
}

int operation_list(const struct node *parent, node_fill_fn fill, void *ctx)
{
	int err = operations_load_listing(parent);
	if (err)
		return err;
	struct list_ctx lc = {parent, fill, ctx};
	return tracker_each(parent->pub, parent->offer, list_one, &lc);
}

int operations_latest_exists(const struct node *n)
{
	char id[IDENT_MAX + 1];
	int err = tracker_latest(n->pub, n->offer, id, sizeof(id));
	if (err == -ENOENT) {
		err = operations_load_listing(n);
		if (!err)
			err = tracker_latest(n->pub, n->offer, id, sizeof(id));
	}
	return err;
}

int operations_latest_link(const struct node *n, char *buf, size_t size)
{
	int err = operations_latest_exists(n);
	if (!err)
		err = tracker_latest(n->pub, n->offer, buf, size);
	return err;
}

int operation_status_show(const struct node *n, struct content *out)
{
	struct op_view v;
	int err = tracker_get(n->pub, n->offer, n->name, &v);
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

/* The operation's status word as cpp-api.md 8.3 normalises it (a server
 * speaking the observed dialect says "complete"), so that operation.json
 * agrees with status. Returns a new JSON text, or NULL to show the
 * document unchanged (not JSON, or nothing to change). */
static char *operation_doc_normalise(const char *data, size_t len)
{
	json_tokener *tok = json_tokener_new();
	json_object *doc =
		tok ? json_tokener_parse_ex(tok, data, (int)len) : NULL;
	json_object *top = doc, *st;
	char *r = NULL;
	if (tok)
		json_tokener_free(tok);
	/* The operations page wraps the object in a one-element array. */
	if (json_object_is_type(top, json_type_array) &&
	    json_object_array_length(top) == 1)
		top = json_object_array_get_idx(top, 0);
	if (json_object_is_type(top, json_type_object) &&
	    json_object_object_get_ex(top, "status", &st) &&
	    json_object_is_type(st, json_type_string)) {
		const char *word = json_object_get_string(st);
		const char *normal = model_normalize_status(word);
		if (normal && strcmp(normal, word) != 0) {
			json_object_object_add(top, "status",
					       json_object_new_string(normal));
			const char *s = json_object_to_json_string_ext(
				doc, JSON_C_TO_STRING_PLAIN |
					     JSON_C_TO_STRING_NOSLASHESCAPE);
			r = s ? strdup(s) : NULL;
		}
	}
	json_object_put(doc);
	return r;
}

int operation_json_show(const struct node *n, struct content *out)
{
	/* An operation known only from a listing has no document yet. */
	int err = tracker_fetch_doc(n->pub, n->offer, n->name);
	if (err)
		return err;
	struct op_view v;
	err = tracker_get(n->pub, n->offer, n->name, &v);
	if (err)
		return err;
	char *normal = v.doc ? operation_doc_normalise(v.doc, v.doc_len) : NULL;
	struct doc *d =
		normal ? doc_new(normal, strlen(normal), NULL, v.url)
		       : doc_new(v.doc ? v.doc : "", v.doc_len, NULL, v.url);
	free(normal);
	if (d) {
		d->mtime = v.mtime;
		err = content_from_doc(out, d);
		doc_put(d);
	} else {
		err = -ENOMEM;
	}
	op_view_free(&v);
	return err;
}

int operation_wait(const struct node *n, int nonblock, int (*interrupted)(void),
		   struct content *out)
{
	char state[TRACKER_STATE_MAX + 1];
	int err = tracker_wait_terminal(n->pub, n->offer, n->name, nonblock,
					interrupted, state, sizeof(state) - 1);
	if (err)
		return err;
	strcat(state, "\n");
	return content_set(out, state, strlen(state), time(NULL));
}
