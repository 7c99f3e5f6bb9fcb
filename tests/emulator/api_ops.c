/*
 * api_ops.c - the long-running calls: POST publish / golive / cancel
 * (cpp-api.md 6.5-6.7, 12 rows 6-8, 17, 19), the submissions listing and
 * GET of one operation.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

static void retry_after(struct reply *r)
{
	char n[32];

	if (cfg.retry_after <= 0)
		return;
	snprintf(n, sizeof(n), "%ld", cfg.retry_after);
	reply_header(r, "Retry-After", n);
}

static void accepted(struct reply *r, const struct op *op)
{
	char loc[1024];

	op_location(op, loc, sizeof(loc));
	reply_text(r, 202, "");
	if (cfg.loc_operation)
		reply_header(r, "Operation-Location", loc);
	if (cfg.loc_location)
		reply_header(r, "Location", loc);
	retry_after(r);
}

/*
 * The optional {"metadata":{"notification-emails":"a@x.com,b@y.com"}}.
 * Returns 0 with *emails set (NULL if none given), or -1 after replying.
 */
static int post_body(struct req *q, struct reply *r, char **emails)
{
	struct json_object *doc, *meta, *v;
	const char *p = q->body;

	*emails = NULL;
	if (q->too_big) {
		reply_error(r, 400, "RequestTooLarge",
			    "The request body exceeds 4 MiB.");
		return -1;
	}
	while (*p && isspace((unsigned char)*p))
		p++;
	if (!*p)
		return 0;
	doc = json_tokener_parse(p);
	if (!doc || !json_object_is_type(doc, json_type_object)) {
		json_object_put(doc);
		reply_error(r, 400, "InvalidJson",
			    "The request body is not a valid JSON object.");
		return -1;
	}
	if (json_object_object_get_ex(doc, "metadata", &meta) &&
	    json_object_object_get_ex(meta, "notification-emails", &v)) {
		if (!json_object_is_type(v, json_type_string) ||
		    !emails_valid(json_object_get_string(v))) {
			reply_error(r, 400, "InvalidEmail",
				    "notification-emails must be a "
				    "comma-separated list of e-mail "
				    "addresses.");
			json_object_put(doc);
			return -1;
		}
		*emails = strdup(json_object_get_string(v));
	}
	json_object_put(doc);
	return 0;
}

static void set_emails(struct offer *o, char *emails)
{
	if (!emails)
		return;
	free(o->emails);
	o->emails = emails;
}

static bool has_plans(const struct offer *o)
{
	struct json_object *def, *plans;

	return json_object_object_get_ex(o->doc, "definition", &def) &&
	       json_object_object_get_ex(def, "plans", &plans) &&
	       json_object_is_type(plans, json_type_array) &&
	       json_object_array_length(plans) > 0;
}

/* cpp-api.md 12 row 14 */
static void validation_failed(struct reply *r)
{
	struct json_object *d = json_object_new_object();
	struct json_object *e = json_object_new_object();
	struct json_object *detail = json_object_new_object();
	struct json_object *details = json_object_new_array();

	json_object_object_add(detail, "code",
			       json_object_new_string("MissingPlans"));
	json_object_object_add(detail, "message",
			       json_object_new_string("The offer must define "
						      "at least one plan."));
	json_object_array_add(details, detail);
	json_object_object_add(e, "code",
			       json_object_new_string("ValidationFailed"));
	json_object_object_add(e, "message",
			       json_object_new_string("The offer failed "
						      "validation."));
	json_object_object_add(e, "details", details);
	json_object_object_add(d, "error", e);
	reply_json(r, 422, d);
}

static void in_progress(struct reply *r)
{
	reply_error(r, 409, "OperationInProgress",
		    "An operation is already running on this offer.");
}

void api_publish(struct req *q, struct offer *o, struct reply *r)
{
	struct op *active = op_active(o);
	char *emails;

	if (post_body(q, r, &emails) < 0)
		return;
	if (active) {
		/* publishing the same version again is idempotent [DOC] */
		if (active->type == OT_PUBLISH &&
		    active->offer_version == o->version)
			accepted(r, active);
		else
			in_progress(r);
		free(emails);
		return;
	}
	if (!has_plans(o)) {
		validation_failed(r);
		free(emails);
		return;
	}
	set_emails(o, emails);
	active = op_new(o, OT_PUBLISH, o->emails);
	o->status = OS_NOTSTARTED;
	o->awaiting_signoff = false;
	accepted(r, active);
}

void api_golive(struct req *q, struct offer *o, struct reply *r)
{
	struct op *active = op_active(o);
	char *emails;

	if (post_body(q, r, &emails) < 0)
		return;
	if (active) {
		if (active->type == OT_GOLIVE)
			accepted(r, active);
		else
			in_progress(r);
		free(emails);
		return;
	}
	if (!o->awaiting_signoff) {
		reply_error(r, 400, "InvalidOperation",
			    "There is no preview version awaiting sign-off.");
		free(emails);
		return;
	}
	set_emails(o, emails);
	active = op_new(o, OT_GOLIVE, o->emails);
	accepted(r, active);
}

void api_cancel(struct req *q, struct offer *o, struct reply *r)
{
	struct op *active = op_active(o), *op;
	char *emails;

	if (post_body(q, r, &emails) < 0)
		return;
	if (!active) {
		reply_text(r, 200, "");
	} else if (active->type == OT_CANCEL) {
		accepted(r, active);
	} else if (cfg.cancel_sync) {
		op_cancel_now(active);
		reply_text(r, 200, "");
	} else {
		op = op_new(o, OT_CANCEL, emails ? emails : o->emails);
		op->target = strdup(active->id);
		accepted(r, op);
	}
	free(emails);
}

/* Filter words: any case, and the aliases of cpp-api.md 8.3. */
static int filter_state(const char *f, enum op_state *st)
{
	if (!strcasecmp(f, "not started"))
		f = "notStarted";
	else if (!strcasecmp(f, "inProgress"))
		f = "running";
	else if (!strcasecmp(f, "succeeded"))
		f = "completed";
	else if (!strcasecmp(f, "cancelled"))
		f = "canceled";
	return op_parse_state(f, st);
}

void api_submissions(struct req *q, struct offer *o, struct reply *r)
{
	struct json_object *a = json_object_new_array();
	char *f = query_get(q->query, "status");
	enum op_state want = ST_RUNNING;
	bool filter = false, none = false;
	int i;

	if (!f || !*f) {
		free(f);
		f = query_get(q->query, "submissionState");
	}
	if (f && *f) {
		filter = true;
		none = filter_state(f, &want) < 0;
	}
	free(f);
	for (i = o->nops - 1; i >= 0 && !none; i--)
		if (!filter || o->ops[i]->state == want)
			json_object_array_add(a, op_submission(o->ops[i]));
	reply_json(r, 200, a);
}

void api_get_op(struct op *op, struct reply *r)
{
	reply_json(r, 200, op_doc(op));
	if (!op_terminal(op))
		retry_after(r);
}
