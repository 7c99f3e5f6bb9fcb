/* backend.c: the Cloud Partner Portal API as a backend (backend.h): its
 * options, start-up probe, how an operation is polled and what a change
 * of one touches. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "cpp.h"
#include "docs.h"
#include "model.h"
#include "partnerfs/log.h"
#include "partnerfs/tree.h"

void cpp_scope(const struct node *n, char *scope, size_t size)
{
	snprintf(scope, size, "%s/%s", n->cap[CPP_PUB], n->cap[CPP_OFFER]);
}

static int cpp_scope_split(const char *scope, struct node *n)
{
	const char *slash = strchr(scope, '/');
	size_t len = slash ? (size_t)(slash - scope) : 0;
	if (!slash || len > IDENT_MAX || strlen(slash + 1) > IDENT_MAX)
		return -EINVAL;
	memset(n, 0, sizeof(*n));
	memcpy(n->cap[CPP_PUB], scope, len);
	snprintf(n->cap[CPP_OFFER], sizeof(n->cap[CPP_OFFER]), "%s", slash + 1);
	return 0;
}

/* `-o publishers=a,b`: ids separated by single commas. */
static int publishers_check(const char *list, char *why, size_t size)
{
	if (!*list || strstr(list, ",,") || list[0] == ',' ||
	    list[strlen(list) - 1] == ',') {
		snprintf(why, size,
			 "bad publishers: '%s' (ids separated by commas)",
			 list);
		return -1;
	}
	char *copy = strdup(list), *save = NULL;
	int rc = copy ? 0 : -1;
	for (char *p = copy ? strtok_r(copy, ",", &save) : NULL; p && !rc;
	     p = strtok_r(NULL, ",", &save))
		if (!ident_is_valid(p)) {
			snprintf(why, size,
				 "bad publishers: %s is not a publisher id", p);
			rc = -1;
		}
	free(copy);
	return rc;
}

static int cpp_configure(struct pfs_config *c, char *why, size_t size)
{
	if (!c->api_version) {
		c->api_version = strdup(API_DEFAULT_VERSION);
	} else if (!ident_is_version(c->api_version)) {
		snprintf(why, size, "bad api_version: '%s' (e.g. %s)",
			 c->api_version, API_DEFAULT_VERSION);
		return -1;
	}
	if (!c->poll_interval_set)
		c->poll_interval = 5;
	return c->publishers ? publishers_check(c->publishers, why, size) : 0;
}

static int cpp_init(const struct pfs_config *c)
{
	struct api_config apc = {c->endpoint, c->api_version};
	return api_init(&apc);
}

static void cpp_cleanup(void)
{
	api_cleanup();
}

/* The listing the tree starts from: the first configured publisher's
 * offers, else the publishers. */
static int cpp_probe(char *why, size_t size)
{
	struct api_result res = {0};
	int err;
	if (pfs_config.publishers) {
		char first[IDENT_MAX + 1];
		snprintf(first, sizeof(first), "%.*s",
			 (int)strcspn(pfs_config.publishers, ","),
			 pfs_config.publishers);
		err = api_list_offers(first, &res);
	} else {
		err = api_list_publishers(&res);
	}
	if (err)
		snprintf(why, size, "%s",
			 res.message ? res.message : strerror(-err));
	api_result_free(&res);
	return err;
}

static int cpp_poll(const char *url, struct backend_poll *out)
{
	struct api_result res = {0};
	struct buf shown = BUF_INIT;
	int err = api_get_url(url, &res);
	out->retry_after_s = res.retry_after_s;
	if (!err)
		err = model_operation_shown(res.body.data ? res.body.data : "",
					    res.body.len, out->state,
					    sizeof(out->state), &shown);
	if (!err) {
		out->terminal = model_status_is_terminal(out->state);
		out->doc_len = shown.len;
		out->doc = buf_steal(&shown);
	}
	buf_free(&shown);
	api_result_free(&res);
	return err;
}

static int cpp_state_is_terminal(const char *state)
{
	return model_status_is_terminal(model_normalize_status(state));
}

static void path_of(enum cpp_row row, const struct node *n, struct buf *out)
{
	char path[4096];
	if (tree_path(&cpp_rows[row], n, path, sizeof(path)) == 0)
		buf_append(out, path, strlen(path) + 1);
}

static void cpp_changed(const char *scope, const char *id,
			const char *old_state, const char *new_state,
			struct backend_change *out)
{
	struct node n;
	if (cpp_scope_split(scope, &n) != 0)
		return;
	snprintf(n.cap[CPP_NAME], sizeof(n.cap[CPP_NAME]), "%s", id);
	/* The offer's status and its submissions moved with the operation. */
	docs_invalidate_offer(n.cap[CPP_PUB], n.cap[CPP_OFFER]);
	buf_printf(&out->events, "%s operation %s %s -> %s", scope, id,
		   old_state, new_state);
	buf_append(&out->events, "", 1);
	path_of(ROW_OP_STATUS, &n, &out->paths);
	path_of(ROW_OP_JSON, &n, &out->paths);
	path_of(ROW_STATUS, &n, &out->paths);
}

static void cpp_describe(struct buf *out)
{
	const struct pfs_config *c = &pfs_config;
	buf_printf(out, "publishers=%s\n",
		   c->publishers ? c->publishers : "(from the API)");
}

const struct backend cpp_backend = {
	.name = "cpp",
	.usage =
		"    the Cloud Partner Portal API (doc/cpp-api.md)\n"
		"    -o endpoint=URL        https://cloudpartner.azure.com\n"
		"    -o api_version=V       default " API_DEFAULT_VERSION "\n"
		"    -o publishers=a,b      publishers to list (default: ask "
		"the API)\n"
		"    -o poll_interval=S     default 5\n"
		"    -o retention=S         default 3600 (1 hour)\n"
		"    token for https://cloudpartner.azure.com, of an app that "
		"is "
		"a user of\n"
		"    each publisher account; control files take addresses:\n"
		"      ls publishers/P/offers/                    list\n"
		"      cat publishers/P/offers/O/status           read status\n"
		"      echo a@x.com > publishers/P/offers/O/publish   publish "
		"(golive)\n"
		"      cat publishers/P/offers/O/operations/latest/wait   "
		"watch\n"
		"      echo a@x.com > publishers/P/offers/O/cancel    cancel\n",
	.rows = cpp_rows,
	.row_count = CPP_ROW_COUNT,
	.auth_resource = API_RESOURCE,
	.configure = cpp_configure,
	.init = cpp_init,
	.cleanup = cpp_cleanup,
	.probe = cpp_probe,
	.poll = cpp_poll,
	.state_is_terminal = cpp_state_is_terminal,
	.changed = cpp_changed,
	.describe = cpp_describe,
};
