/* op_show.c: an operation's files from the tracker's copy (see
 * op_show.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "partnerfs/op_show.h"
#include "partnerfs/tracker.h"

/* The view's mtime, so that a file changes when the tracker saw it change,
 * not at every read. */
static int show_view(struct content *out, const char *data, size_t len,
		     const struct op_view *v)
{
	int err = content_set(out, data, len, v->mtime);
	if (!err && !(out->url = strdup(v->url)))
		err = -ENOMEM;
	if (err)
		content_free(out);
	return err;
}

int op_show_status(const char *scope, const char *id, struct content *out)
{
	struct op_view v;
	int err = tracker_get(scope, id, &v);
	if (err)
		return err;
	char line[TRACKER_STATE_MAX + 1];
	snprintf(line, sizeof(line), "%s\n", v.state);
	err = show_view(out, line, strlen(line), &v);
	op_view_free(&v);
	return err;
}

int op_show_doc(const char *scope, const char *id, struct content *out)
{
	struct op_view v;
	int err = tracker_fetch_doc(scope, id);
	if (!err)
		err = tracker_get(scope, id, &v);
	if (err)
		return err;
	/* The tracker keeps the document as its backend's poll() shows it. */
	err = show_view(out, v.doc ? v.doc : "", v.doc_len, &v);
	op_view_free(&v);
	return err;
}
