/* backend.c: the Partner Center product ingestion API as a backend
 * (backend.h): its options, start-up probe, how a job is polled, what a
 * change of one touches, and the jobs a previous mount started. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "docs.h"
#include "ing.h"
#include "jobs.h"
#include "model.h"
#include "partnerfs/log.h"
#include "partnerfs/tracker.h"
#include "partnerfs/tree.h"
#include "statefile.h"

/* The API asks for one status request per job per minute (§4.5). */
#define POLL_MIN_S 60.0
#define RETENTION_S (7 * 24 * 3600.0)

static char *state_path;

/* Microsoft Graph's hosts, in each national cloud: the API's home. */
static int ing_claims(const char *endpoint)
{
	static const char *const hosts[] = {
		"graph.microsoft.com",	  "graph.microsoft.us",
		"dod-graph.microsoft.us", "microsoftgraph.chinacloudapi.cn",
		"graph.microsoft.de",
	};
	const char *host = strstr(endpoint, "://");
	host = host ? host + 3 : endpoint;
	size_t len = strcspn(host, ":/?#");
	if (len > 0 && host[len - 1] == '.')
		len--; /* a fully qualified spelling */
	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++)
		if (strlen(hosts[i]) == len &&
		    strncasecmp(host, hosts[i], len) == 0)
			return 1;
	return 0;
}

static int ing_configure(struct pfs_config *c, char *why, size_t size)
{
	if (!c->api_version) {
		c->api_version = strdup(ING_DEFAULT_VERSION);
	} else if (!ident_is_version(c->api_version)) {
		snprintf(why, size, "bad api_version: '%s' (e.g. %s)",
			 c->api_version, ING_DEFAULT_VERSION);
		return -1;
	}
	if (c->publishers) {
		snprintf(why, size,
			 "publishers= is an option of api=cpp; "
			 "this API lists products");
		return -1;
	}
	if (!c->poll_interval_set) {
		c->poll_interval = POLL_MIN_S;
	} else if (c->poll_interval < POLL_MIN_S && ing_claims(c->endpoint)) {
		snprintf(why, size,
			 "bad poll_interval: %g (the product ingestion API "
			 "allows one status request per job per minute: "
			 "at least 60 against %s)",
			 c->poll_interval, c->endpoint);
		return -1;
	}
	if (!c->retention_set)
		c->retention = RETENTION_S;
	return 0;
}

static int ing_init(const struct pfs_config *c)
{
	struct buf path = BUF_INIT;
	int err = ing_api_init(c->endpoint, c->api_version);
	if (err)
		return err;
	if (statefile_path(c->state_dir, c->endpoint, &path) == 0)
		state_path = buf_steal(&path);
	else
		log_warn("no state_dir and no HOME: jobs started here are "
			 "not recorded for a remount");
	buf_free(&path);
	ing_jobs_init(state_path, c->retention);
	return 0;
}

static void ing_cleanup(void)
{
	ing_jobs_cleanup();
	ing_docs_cleanup();
	ing_api_cleanup();
	free(state_path);
	state_path = NULL;
}

/* The first page of the product listing proves endpoint and token. */
static int ing_probe(char *why, size_t size)
{
	struct buf url = BUF_INIT;
	struct rest_result res;
	rest_result_init(&res);
	int err = ing_api_url(&url, "product", NULL);
	if (!err)
		err = ing_api_get(url.data, &res);
	if (err)
		snprintf(why, size, "%s",
			 res.message ? res.message : strerror(-err));
	rest_result_free(&res);
	buf_free(&url);
	return err;
}

/* The jobs of the state file, copied (jobs.c hands out its own only
 * during the call). */
struct resumed {
	char *id, *state;
	struct buf url;
};
struct resume_ctx {
	struct resumed *items;
	size_t count, max;
};

static int count_one(void *arg, const char *id, const char *state)
{
	(void)id, (void)state;
	(*(size_t *)arg)++;
	return 0;
}

static int resume_one(void *arg, const char *id, const char *state)
{
	struct resume_ctx *c = arg;
	struct resumed *r = &c->items[c->count];
	if (c->count >= c->max || ing_api_status_url(id, &r->url) != 0)
		return 0;
	r->id = strdup(id);
	r->state = strdup(state[0] ? state : "notStarted");
	c->count++;
	return r->id && r->state ? 0 : -ENOMEM;
}

/* The jobs of the state file, merged as if listed: the unfinished ones
 * are polled to their end, the ended ones show their last state. */
static int ing_resume(void)
{
	struct resume_ctx c = {0};
	ing_jobs_each_state(count_one, &c.max);
	if (!c.max)
		return 0;
	c.items = calloc(c.max, sizeof(*c.items));
	struct tracker_seen *seen = calloc(c.max, sizeof(*seen));
	int err = c.items && seen ? 0 : -ENOMEM;
	if (!err)
		err = ing_jobs_each_state(resume_one, &c);
	for (size_t i = 0; !err && i < c.count; i++)
		seen[i] = (struct tracker_seen){
			c.items[i].id, c.items[i].url.data, c.items[i].state};
	if (!err && c.count)
		err = tracker_merge_listing(ING_SCOPE, seen, c.count);
	if (!err)
		log_info("resumed %zu jobs from %s", c.count, state_path);
	for (size_t i = 0; c.items && i < c.count; i++) {
		free(c.items[i].id);
		free(c.items[i].state);
		buf_free(&c.items[i].url);
	}
	free(c.items);
	free(seen);
	return err;
}

/* A 5xx on a status GET means "still pending" (§6): an error to the
 * tracker, which polls again with backoff, never a failed job. */
static int ing_poll(const char *url, struct backend_poll *out)
{
	struct rest_result res;
	struct buf shown = BUF_INIT;
	int err = ing_api_get(url, &res);
	out->retry_after_s = res.retry_after_s;
	if (!err &&
	    ing_model_job_status(res.body.data ? res.body.data : "",
				 res.body.len, out->state, sizeof(out->state),
				 &out->terminal, &shown) != 0) {
		log_warn("GET %.*s: the answer is no job status",
			 (int)strcspn(url, "?"), url);
		err = -EIO;
	}
	if (!err) {
		out->doc_len = shown.len;
		out->doc = buf_steal(&shown);
	}
	buf_free(&shown);
	rest_result_free(&res);
	return err;
}

static int ing_state_is_terminal(const char *state)
{
	return ing_model_state_is_terminal(state);
}

static void path_of(enum ing_row row, const struct node *n, struct buf *out)
{
	char path[4096];
	if (tree_path(&ing_rows[row], n, path, sizeof(path)) == 0)
		buf_append(out, path, strlen(path) + 1);
}

struct change {
	const char *id, *old_state, *new_state;
	struct backend_change *out;
	int products;
};

static int product_changed(void *arg, const char *ext)
{
	struct change *c = arg;
	struct node n = {0};
	snprintf(n.cap[0], sizeof(n.cap[0]), "%s", ext);
	snprintf(n.cap[1], sizeof(n.cap[1]), "%s", c->id);
	/* Its submissions, trees and draft moved with the job. */
	ing_docs_invalidate_product(ext);
	buf_printf(&c->out->events, "products/%s job %s %s -> %s", ext, c->id,
		   c->old_state, c->new_state);
	buf_append(&c->out->events, "", 1);
	path_of(ROW_P_OP_STATUS, &n, &c->out->paths);
	path_of(ROW_P_OP_JSON, &n, &c->out->paths);
	path_of(ROW_STATUS, &n, &c->out->paths);
	c->products++;
	return 0;
}

static void ing_changed(const char *scope, const char *id,
			const char *old_state, const char *new_state,
			struct backend_change *out)
{
	struct change c = {id, old_state, new_state, out, 0};
	struct node n = {0};
	(void)scope;
	if (ing_model_state_is_terminal(new_state))
		ing_jobs_ended(id, new_state);
	/* A configure may have made a product: the listing shows it now. */
	if (strcmp(new_state, "succeeded") == 0)
		ing_docs_invalidate_listing();
	ing_jobs_products(id, product_changed, &c);
	if (!c.products) {
		buf_printf(&out->events, "operations job %s %s -> %s", id,
			   old_state, new_state);
		buf_append(&out->events, "", 1);
	}
	snprintf(n.cap[0], sizeof(n.cap[0]), "%s", id);
	path_of(ROW_OP_STATUS, &n, &out->paths);
	path_of(ROW_OP_JSON, &n, &out->paths);
}

static void ing_describe(struct buf *out)
{
	buf_printf(out, "state_file=%s\nretention=%g\n",
		   state_path ? state_path : "(none)", pfs_config.retention);
}

const struct backend ing_backend = {
	.name = "ingestion",
	.usage =
		"    the Partner Center product ingestion API "
		"(doc/ingestion-api.md)\n"
		"    -o endpoint=URL        "
		"https://graph.microsoft.com/rp/product-ingestion\n"
		"                           (the default api= for that host)\n"
		"    -o api_version=V       $version of every request, "
		"default " ING_DEFAULT_VERSION "\n"
		"    -o poll_interval=S     default 60; below 60 refused "
		"for a Graph host\n"
		"    -o retention=S         how long a remount still lists "
		"an ended job, 604800\n"
		"    -o state_dir=PATH      where its jobs are kept (default\n"
		"                           $XDG_STATE_HOME/partnerfs, "
		"~/.local/state/partnerfs)\n"
		"    app-only token for https://graph.microsoft.com, of an "
		"Entra app with\n"
		"    the Manager role in Partner Center; control files take "
		"a blank line:\n"
		"      ls products/                               list\n"
		"      cat products/X/status                      read status\n"
		"      echo > products/X/publish                  publish "
		"(golive)\n"
		"      cat products/X/operations/latest/wait      watch\n"
		"      echo > products/X/cancel                   cancel\n",
	.claims = ing_claims,
	.rows = ing_rows,
	.row_count = ING_ROW_COUNT,
	.auth_resource = ING_RESOURCE,
	.configure = ing_configure,
	.init = ing_init,
	.cleanup = ing_cleanup,
	.probe = ing_probe,
	.resume = ing_resume,
	.poll = ing_poll,
	.poll_backoff_max_s = 600,
	.state_is_terminal = ing_state_is_terminal,
	.changed = ing_changed,
	.describe = ing_describe,
};
