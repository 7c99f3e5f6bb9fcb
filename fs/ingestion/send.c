/* send.c: what the writes send (POST configure, POST .../cancel), how
 * their outcomes read in the control files, and the registration of the
 * job a configure answers with: recorded in the state file before the
 * write returns, then polled by the tracker. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api.h"
#include "docs.h"
#include "ing.h"
#include "jobs.h"
#include "model.h"
#include "partnerfs/log.h"
#include "partnerfs/tracker.h"

#define PRODUCTS_MAX 64

static void header(struct buf *t, const char *request, const char *what)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	buf_printf(t, "time: %s\nrequest: %s\n", stamp, request);
	if (what && strcmp(what, request) != 0)
		buf_printf(t, "resource: %s\n", what);
}

static void error_lines(struct buf *t, int err, const char *message)
{
	buf_printf(t, "error: %s (%s)\n", strerrorname_np(-err),
		   strerror(-err));
	if (message && *message)
		buf_printf(t, "message: %s\n", message);
}

void ing_outcome_refused(struct buf *text, const char *action, const char *what,
			 int err, const char *why)
{
	header(text, action, what);
	buf_printf(text, "status: not sent\n");
	error_lines(text, err, why);
}

static void status_line(struct buf *t, const struct rest_result *res)
{
	if (res->status)
		buf_printf(t, "status: %ld\n", res->status);
	else
		buf_printf(t, "status: no response\n");
}

/* The products a job concerns, each once. */
struct products {
	char names[PRODUCTS_MAX][IDENT_MAX + 1];
	const char *list[PRODUCTS_MAX];
	size_t count;
};

static void products_add(struct products *p, const char *ext)
{
	if (!ext || !ident_is_valid(ext) || p->count >= PRODUCTS_MAX)
		return;
	for (size_t i = 0; i < p->count; i++)
		if (strcmp(p->names[i], ext) == 0)
			return;
	snprintf(p->names[p->count], sizeof(p->names[0]), "%s", ext);
	p->list[p->count] = p->names[p->count];
	p->count++;
}

static void body_product(void *ctx, const char *guid, const char *ext)
{
	char name[IDENT_MAX + 1];
	if (guid && ing_docs_ext_of(guid, name, sizeof(name)) == 0)
		ext = name;
	products_add(ctx, ext);
}

/* Registers job id: the state file first, so that it outlives a crash
 * right after this write returns; then the tracker polls it. */
static void job_register(const char *id, struct products *p, struct buf *t)
{
	struct buf url = BUF_INIT;
	buf_printf(t, "job: %s\n", id);
	if (ing_jobs_add(id, p->list, p->count) != 0)
		buf_printf(t, "warning: the job is not in the state file; a "
			      "remount will not know it\n");
	if (ing_api_status_url(id, &url) != 0 ||
	    tracker_add_started(ING_SCOPE, id, url.data) != 0)
		log_error("cannot track job %s", id);
	for (size_t i = 0; i < p->count; i++)
		buf_printf(t, "operation: products/%s/operations/%s\n",
			   p->list[i], id);
	if (!p->count)
		buf_printf(t, "operation: operations/%s\n", id);
	buf_free(&url);
}

int ing_configure_send(const char *ext, const char *action, const char *what,
		       const struct buf *body, struct buf *text)
{
	struct rest_result res;
	struct products p = {.count = 0};
	header(text, "POST configure", what ? what : action);
	int err = ing_api_configure(body->data, body->len, &res);
	status_line(text, &res);
	products_add(&p, ext);
	if (err) {
		error_lines(text, err, res.message);
	} else {
		char id[IDENT_MAX + 1];
		ing_model_body_products(body->data, body->len, body_product,
					&p);
		if (ing_model_job_id(res.body.data ? res.body.data : "",
				     res.body.len, id, sizeof(id)) == 0) {
			job_register(id, &p, text);
		} else {
			buf_printf(text, "warning: the answer names no job\n");
			log_warn("POST configure: the answer names no job");
		}
	}
	/* What it changes shows once the job has run; the draft may move
	 * at once (and a root configure may make a product). */
	for (size_t i = 0; i < p.count; i++)
		ing_docs_invalidate_product(p.list[i]);
	if (!ext)
		ing_docs_invalidate_listing();
	rest_result_free(&res);
	return err;
}

/* The API refuses a cancel that comes too late with a 400 (§4.7). */
static int too_late(const struct rest_result *res)
{
	return res->status == 400 && res->message &&
	       strcasestr(res->message, "already completed");
}

static int cancel_one(const char *id, struct buf *text)
{
	struct rest_result res;
	char request[IDENT_MAX + 32];
	snprintf(request, sizeof(request), "POST configure/%s/cancel", id);
	header(text, request, NULL);
	int err = ing_api_cancel(id, &res);
	status_line(text, &res);
	if (err && too_late(&res))
		err = -EBUSY;
	if (err) {
		error_lines(text, err, res.message);
	} else {
		/* The answer is the job's status: stored as a poll's. */
		struct backend_poll poll = {.retry_after_s = -1};
		struct buf shown = BUF_INIT;
		if (ing_model_job_status(res.body.data ? res.body.data : "",
					 res.body.len, poll.state,
					 sizeof(poll.state), &poll.terminal,
					 &shown) == 0) {
			poll.doc_len = shown.len;
			poll.doc = buf_steal(&shown);
			tracker_report(ING_SCOPE, id, &poll);
			buf_printf(text, "job: %s %s\n", id, poll.state);
		}
		/* No poll of the others now: one status request per job per
		 * minute is all the API allows (§4.5). */
		buf_free(&shown);
	}
	rest_result_free(&res);
	return err;
}

/* 1 when the tracker knows job id has ended, 0 when not, -ENOENT. */
static int job_ended(const char *id)
{
	struct op_view v;
	int err = tracker_get(ING_SCOPE, id, &v);
	if (err)
		return err;
	int ended = ing_model_state_is_terminal(v.state);
	op_view_free(&v);
	return ended;
}

int ing_cancel_job(const char *id, struct buf *text, char *why, size_t size)
{
	int ended = job_ended(id);
	if (ended < 0)
		return ended;
	if (ended) {
		snprintf(why, size, "job %s has already ended", id);
		return -EBUSY;
	}
	return cancel_one(id, text);
}

struct cancel_ctx {
	struct buf *text;
	int sent, err;
};

static int cancel_each(void *arg, const char *id)
{
	struct cancel_ctx *c = arg;
	if (job_ended(id) != 0)
		return 0;
	int err = cancel_one(id, c->text);
	c->sent++;
	if (err && !c->err)
		c->err = err;
	return 0;
}

int ing_cancel_product(const char *ext, struct buf *text, char *why,
		       size_t size)
{
	struct cancel_ctx c = {text, 0, 0};
	int err = ing_jobs_of(ext, cancel_each, &c);
	if (err)
		return err;
	if (!c.sent) {
		snprintf(why, size, "no unfinished job of this mount for %s",
			 ext);
		return -ENOENT;
	}
	return c.err;
}
