/* nodes.c: the table of file kinds — every file and directory partnerfs
 * shows is one row here — and helpers shared by the rows' functions. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "node_impl.h"
#include "partnerfs/model.h"
#include "partnerfs/nodes.h"

time_t node_mount_time;

#define DIR_MODE (S_IFDIR | 0555)
#define RO_FILE (S_IFREG | 0444)
#define RW_FILE (S_IFREG | 0644)
#define OFFER "/publishers/{pub}/offers/{offer}"
#define OPERATION OFFER "/operations/{name}"

const struct node_type node_types[] = {
	{.pattern = "/", .mode = DIR_MODE},
	{.pattern = "/publishers", .mode = DIR_MODE},
	{.pattern = "/publishers/{pub}",
	 .mode = DIR_MODE,
	 .exists = publisher_exists,
	 .list = publisher_list},
	{.pattern = "/publishers/{pub}/offers", .mode = DIR_MODE},
	{.pattern = OFFER,
	 .mode = DIR_MODE,
	 .exists = offer_exists,
	 .list = offer_list,
	 .show = offer_dir_show},
	{.pattern = OFFER "/offer.json",
	 .mode = RW_FILE,
	 .flags = NODE_WRITABLE,
	 .show = offer_json_show,
	 .store = offer_json_store},
	{.pattern = OFFER "/status",
	 .mode = RO_FILE,
	 .show = offer_status_show},
	{.pattern = OFFER "/status.json",
	 .mode = RO_FILE,
	 .show = offer_status_json_show},
	{.pattern = OFFER "/publish",
	 .mode = RW_FILE,
	 .flags = NODE_WRITABLE | NODE_LINES,
	 .arg = "publish",
	 .show = control_show,
	 .store = control_store},
	{.pattern = OFFER "/golive",
	 .mode = RW_FILE,
	 .flags = NODE_WRITABLE | NODE_LINES,
	 .arg = "golive",
	 .show = control_show,
	 .store = control_store},
	{.pattern = OFFER "/cancel",
	 .mode = RW_FILE,
	 .flags = NODE_WRITABLE | NODE_LINES,
	 .arg = "cancel",
	 .show = control_show,
	 .store = control_store},
	{.pattern = OFFER "/slots", .mode = DIR_MODE},
	{.pattern = OFFER "/slots/draft.json",
	 .mode = RO_FILE,
	 .arg = "draft",
	 .show = slot_show},
	{.pattern = OFFER "/slots/preview.json",
	 .mode = RO_FILE,
	 .arg = "preview",
	 .exists = slot_exists,
	 .show = slot_show},
	{.pattern = OFFER "/slots/production.json",
	 .mode = RO_FILE,
	 .arg = "production",
	 .exists = slot_exists,
	 .show = slot_show},
	{.pattern = OFFER "/versions", .mode = DIR_MODE},
	{.pattern = OFFER "/versions/{name}.json",
	 .mode = RO_FILE,
	 .exists = version_exists,
	 .list = version_list,
	 .show = version_show},
	{.pattern = OFFER "/operations", .mode = DIR_MODE},
	{.pattern = OFFER "/operations/latest",
	 .mode = S_IFLNK | 0777,
	 .exists = operations_latest_exists,
	 .link = operations_latest_link},
	{.pattern = OPERATION,
	 .mode = DIR_MODE,
	 .exists = operation_exists,
	 .list = operation_list},
	{.pattern = OPERATION "/status",
	 .mode = RO_FILE,
	 .show = operation_status_show},
	{.pattern = OPERATION "/operation.json",
	 .mode = RO_FILE,
	 .show = operation_json_show},
	/* Never listed: recursive tools must not block in it. */
	{.pattern = OPERATION "/wait",
	 .mode = RO_FILE,
	 .flags = NODE_HIDDEN | NODE_DIRECT_IO | NODE_BLOCKING,
	 .wait = operation_wait},
	/* Read at each read(), not at open(): `tail -f` keeps it open. */
	{.pattern = "/events",
	 .mode = RO_FILE,
	 .flags = NODE_DIRECT_IO | NODE_LIVE,
	 .show = events_show},
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

const size_t node_type_count = sizeof(node_types) / sizeof(node_types[0]);

void content_free(struct content *c)
{
	free(c->data);
	free(c->etag);
	free(c->url);
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
	struct buf pretty = BUF_INIT;
	int err;
	if (d->is_pretty)
		err = content_set(c, d->data, d->len, d->mtime);
	else if (model_pretty_json(d->data, d->len, &pretty) == 0)
		err = content_set(c, pretty.data, pretty.len, d->mtime);
	else
		err = content_set(c, d->data, d->len, d->mtime);
	buf_free(&pretty);
	if (!err && d->etag && !(c->etag = strdup(d->etag)))
		err = -ENOMEM;
	if (!err && d->url && !(c->url = strdup(d->url)))
		err = -ENOMEM;
	if (err)
		content_free(c);
	return err;
}

int node_fill_child(const struct node *parent, const char *row_pattern,
		    const char *name, node_fill_fn fill, void *ctx)
{
	struct node child = *parent;
	child.type = NULL;
	for (size_t i = 0; i < node_type_count; i++)
		if (strcmp(node_types[i].pattern, row_pattern) == 0)
			child.type = &node_types[i];
	if (!child.type || !ident_is_valid(name))
		return 0; /* an id we cannot show is skipped, not an error */
	if (strstr(row_pattern, "{pub}") &&
	    !strstr(parent->type->pattern, "{pub}"))
		snprintf(child.pub, sizeof(child.pub), "%s", name);
	else if (strstr(row_pattern, "{offer}") &&
		 !strstr(parent->type->pattern, "{offer}"))
		snprintf(child.offer, sizeof(child.offer), "%s", name);
	else
		snprintf(child.name, sizeof(child.name), "%s", name);
	/* The directory entry carries the row's suffix ("3.json"). */
	const char *last = strrchr(row_pattern, '}');
	char entry[IDENT_MAX + 16];
	snprintf(entry, sizeof(entry), "%s%s", name, last ? last + 1 : "");
	return fill(ctx, entry, &child);
}
