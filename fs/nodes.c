/* nodes.c: the shared rows of the node table — the root, the events log
 * and .partnerfs/ — joined with the backend's rows, and the helpers
 * every row's functions use. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "node_impl.h"
#include "partnerfs/nodes.h"

time_t node_mount_time;

#define DIR_MODE (S_IFDIR | 0555)
#define RO_FILE (S_IFREG | 0444)

static const struct node_type shared_rows[] = {
	{.pattern = "/", .mode = DIR_MODE},
	/* Read at each read(), not at open(): `tail -f` keeps it open. */
	{.pattern = "/events",
	 .mode = RO_FILE,
	 .flags = NODE_DIRECT_IO | NODE_LIVE,
	 .show = events_file_show},
	{.pattern = "/.partnerfs", .mode = DIR_MODE},
	{.pattern = "/.partnerfs/version",
	 .mode = RO_FILE,
	 .arg = "version",
	 .show = meta_show},
	{.pattern = "/.partnerfs/config",
	 .mode = RO_FILE,
	 .arg = "config",
	 .show = meta_show},
	{.pattern = "/.partnerfs/stats",
	 .mode = RO_FILE,
	 .flags = NODE_DIRECT_IO,
	 .arg = "stats",
	 .show = meta_show},
	{.pattern = "/.partnerfs/last-error",
	 .mode = RO_FILE,
	 .arg = "last-error",
	 .show = meta_show},
};

#define SHARED_COUNT (sizeof(shared_rows) / sizeof(shared_rows[0]))

static const struct node_type *backend_rows;
static size_t backend_count;

void nodes_set_backend_rows(const struct node_type *rows, size_t count)
{
	backend_rows = rows;
	backend_count = count;
}

size_t nodes_count(void)
{
	return SHARED_COUNT + backend_count;
}

/* The backend's rows come right after the root, so that a listing of the
 * root names the API's directories before events and .partnerfs. */
const struct node_type *nodes_row(size_t i)
{
	if (i == 0)
		return &shared_rows[0];
	if (i <= backend_count)
		return &backend_rows[i - 1];
	return &shared_rows[i - backend_count];
}

void content_free(struct content *c)
{
	free(c->data);
	free(c->etag);
	free(c->url);
	free(c->id);
	memset(c, 0, sizeof(*c));
}

int content_set(struct content *c, const char *data, size_t len, time_t mtime)
{
	c->data = malloc(len + 1);
	if (!c->data)
		return -ENOMEM;
	memcpy(c->data, data, len);
	c->data[len] = '\0';
	c->len = len;
	c->mtime = mtime;
	return 0;
}

int content_from_doc(struct content *c, const struct doc *d)
{
	int err = content_set(c, d->data, d->len, d->mtime);
	if (!err && d->etag && !(c->etag = strdup(d->etag)))
		err = -ENOMEM;
	if (!err && d->url && !(c->url = strdup(d->url)))
		err = -ENOMEM;
	if (err)
		content_free(c);
	return err;
}

static size_t node_capture_count(const struct node_type *row)
{
	size_t n = 0;
	for (const char *p = row->pattern; (p = strchr(p, '{')); p++)
		n++;
	return n;
}

int node_fill_child(const struct node_type *row, const struct node *parent,
		    const char *id, node_fill_fn fill, void *ctx)
{
	size_t k = node_capture_count(row);
	if (k == 0 || k > NODE_CAPS || !ident_is_valid(id))
		return 0; /* an id we cannot show is skipped, not an error */
	struct node child = *parent;
	child.type = row;
	snprintf(child.cap[k - 1], sizeof(child.cap[k - 1]), "%s", id);
	/* The directory entry carries the row's suffix ("3.json"). */
	const char *last = strrchr(row->pattern, '}');
	char entry[IDENT_MAX + 16];
	snprintf(entry, sizeof(entry), "%s%s", id, last ? last + 1 : "");
	return fill(ctx, entry, &child);
}

int node_list_id(void *lister, const char *id)
{
	struct node_lister *l = lister;
	return node_fill_child(l->row, l->parent, id, l->fill, l->ctx);
}
