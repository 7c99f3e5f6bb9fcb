/*
 * ing_jobs.c - POST configure (checked at once: a bad payload is a 400)
 * and the jobs it starts, which move on the clock (--step-ms or
 * POST /_emulator/tick):
 *   tick 1: notStarted -> running;
 *   tick 2: the resources are applied (ing_apply.c), or the job completes
 *           failed with errors[] when a business rule says no; without a
 *           submission it completes succeeded;
 *   a submission resource makes a submission entry that runs
 *   PREVIEW_TICKS (preview) or LIVE_TICKS (live) more ticks, then
 *   completes, its snapshot becomes the target's tree, and the job
 *   completes succeeded.
 * Cancel is immediate: completed/cancelled, the running submission gone.
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ing.h"

#define PREVIEW_TICKS 2
#define LIVE_TICKS 1
#define NOT_ENDED "0001-01-01T00:00:00"

static struct ing_job *jobs, **jobs_tail = &jobs;

/*
 * A $schema URL: 1 when it names the retired azureedge host, 0 when it is
 * https://schema.mp.microsoft.com/schema/<type>/<version> (type in buf),
 * -1 otherwise.
 */
static int schema_kind(const char *s, char *type, size_t n)
{
	static regex_t re;
	static bool ready;
	regmatch_t m[2];

	if (!ready) {
		regcomp(&re,
			"^https://schema\\.mp\\.microsoft\\.com/schema/"
			"([a-z][a-z0-9]+(-[a-z0-9]+)*)/"
			"[0-9]{4}-[0-9]{2}-[0-9]{2}(-dev|-preview[0-9]+)?$",
			REG_EXTENDED);
		ready = true;
	}
	if (!s)
		return -1;
	if (!strncmp(s, ING_RETIRED_HOST, strlen(ING_RETIRED_HOST)))
		return 1;
	if (regexec(&re, s, 2, m, 0) || (size_t)(m[1].rm_eo - m[1].rm_so) >= n)
		return -1;
	memcpy(type, s + m[1].rm_so, (size_t)(m[1].rm_eo - m[1].rm_so));
	type[m[1].rm_eo - m[1].rm_so] = '\0';
	return 0;
}

bool ing_schema_ok(const char *schema, char *type, size_t n)
{
	return schema_kind(schema, type, n) == 0;
}

/* 400 "schema validation failed", one schemaValidationError detail */
static void invalid(struct reply *r, const char *res, const char *fmt,
		    const char *arg)
{
	struct json_object *doc = json_object_new_object();
	struct json_object *err = json_object_new_object();
	struct json_object *det = json_object_new_array();
	struct json_object *d = json_object_new_object();
	char msg[512];

	snprintf(msg, sizeof(msg), fmt, arg);
	json_object_object_add(d, "code",
			       json_object_new_string("schemaValidationError"));
	json_object_object_add(d, "message", json_object_new_string(msg));
	if (res)
		json_object_object_add(d, "resourceId",
				       json_object_new_string(res));
	json_object_object_add(d, "details", json_object_new_array());
	json_object_array_add(det, d);
	json_object_object_add(err, "code",
			       json_object_new_string("badRequest"));
	json_object_object_add(
		err, "message",
		json_object_new_string(
			"Invalid configuration: schema validation failed"));
	json_object_object_add(err, "details", det);
	json_object_object_add(doc, "error", err);
	reply_json(r, 400, doc);
}

static bool durable_ok(const char *id)
{
	static regex_t re;
	static bool ready;

	if (!ready) {
		regcomp(&re, "^[a-z](-?[a-z0-9]+)*/[a-z0-9-]+(/[a-z0-9-]+)*$",
			REG_EXTENDED | REG_NOSUB);
		ready = true;
	}
	return !regexec(&re, id, 0, NULL, 0);
}

static int check_schema(struct reply *r, const char *s, const char *res,
			char *type, size_t n)
{
	int k = schema_kind(s, type, n);

	if (k == 1)
		ing_error(r, 400, "badRequest",
			  "Schema %s could not be accessed", s);
	else if (k < 0 && !s)
		invalid(r, res, "The property '%s' is required.", "$schema");
	else if (k < 0)
		invalid(r, res, "The $schema '%s' is not a valid schema URI.",
			s);
	return k ? -1 : 0;
}

static int check_resource(struct reply *r, struct json_object *res)
{
	const char *id = ing_str(res, "id"), *name;
	struct json_object *tg;
	char type[64];
	enum ing_target t;

	if (!json_object_is_type(res, json_type_object)) {
		invalid(r, NULL, "%s", "Each resource must be an object.");
		return -1;
	}
	name = id ? id : ing_str(res, "resourceName");
	if (check_schema(r, ing_str(res, "$schema"), name, type, sizeof(type)))
		return -1;
	if (json_object_object_get_ex(res, "id", NULL) &&
	    (!id || !durable_ok(id) || strncmp(id, type, strlen(type)) ||
	     id[strlen(type)] != '/')) {
		invalid(r, name,
			"The id '%s' is not a durable id of this type.",
			id ? id : "");
		return -1;
	}
	if (strcmp(type, "submission"))
		return 0;
	if (!json_object_object_get_ex(res, "target", &tg) ||
	    ing_parse_target(ing_str(tg, "targetType"), &t) < 0 ||
	    t == TGT_DRAFT) {
		invalid(r, name, "%s",
			"A submission needs target.targetType preview or "
			"live.");
		return -1;
	}
	return 0;
}

static int check(struct reply *r, struct json_object *doc)
{
	struct json_object *a;
	char type[64];
	size_t i, n;

	if (!json_object_is_type(doc, json_type_object)) {
		invalid(r, NULL, "%s", "The body must be a JSON object.");
		return -1;
	}
	json_object_object_foreach(doc, key, val)
	{
		(void)val;
		if (strcmp(key, "$schema") && strcmp(key, "resources")) {
			invalid(r, NULL, "The property '%s' is not allowed.",
				key);
			return -1;
		}
	}
	if (check_schema(r, ing_str(doc, "$schema"), NULL, type, sizeof(type)))
		return -1;
	if (strcmp(type, "configure")) {
		invalid(r, NULL, "'%s' is not a configure schema.",
			ing_str(doc, "$schema"));
		return -1;
	}
	if (!json_object_object_get_ex(doc, "resources", &a) ||
	    !json_object_is_type(a, json_type_array) ||
	    !(n = json_object_array_length(a))) {
		invalid(r, NULL, "%s",
			"'resources' must be an array of at least one item.");
		return -1;
	}
	for (i = 0; i < n; i++)
		if (check_resource(r, json_object_array_get_idx(a, i)) < 0)
			return -1;
	return 0;
}

static struct json_object *status_doc(const struct ing_job *j)
{
	struct json_object *d = json_object_new_object();
	char t[48], uri[256];

	json_object_object_add(
		d, "$schema",
		json_object_new_string(ING_SCHEMA_HOST
				       "configure-status/2022-07-01"));
	json_object_object_add(d, ing_cfg.job_id_upper ? "jobID" : "jobId",
			       json_object_new_string(j->id));
	json_object_object_add(
		d, "jobStatus",
		json_object_new_string(ing_status_name(j->status)));
	json_object_object_add(
		d, "jobResult",
		json_object_new_string(ing_result_name(j->result)));
	format_time(&j->start, t, sizeof(t));
	json_object_object_add(d, "jobStart", json_object_new_string(t));
	if (j->status == IS_COMPLETED)
		format_time(&j->end, t, sizeof(t));
	json_object_object_add(d, "jobEnd",
			       json_object_new_string(j->status == IS_COMPLETED
							      ? t
							      : NOT_ENDED));
	if (j->result == IR_SUCCEEDED) {
		snprintf(uri, sizeof(uri),
			 "%s/rp/product-ingestion/configure/%s", server_url(),
			 j->id);
		json_object_object_add(d, "resourceUri",
				       json_object_new_string(uri));
	}
	json_object_object_add(d, "errors", json_object_get(j->errors));
	return d;
}

/*
 * Strict JSON, all of the body (json-c alone would take single quotes and
 * trailing bytes, and hide a client that sends them); false if bad.
 */
static bool parse(const char *s, size_t len, struct json_object **out)
{
	struct json_tokener *tok = json_tokener_new();
	size_t end;
	bool ok;

	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	*out = json_tokener_parse_ex(tok, s, (int)len);
	ok = json_tokener_get_error(tok) == json_tokener_success;
	for (end = json_tokener_get_parse_end(tok); ok && end < len; end++)
		ok = strchr(" \t\r\n", s[end]) != NULL;
	json_tokener_free(tok);
	if (!ok) {
		json_object_put(*out);
		*out = NULL;
	}
	return ok;
}

void ing_configure(struct req *q, struct reply *r)
{
	struct json_object *doc, *a;
	struct ing_job *j;
	bool ok = parse(q->body, q->len, &doc);

	if (q->too_big) {
		invalid(r, NULL, "%s", "The body exceeds 4 MiB.");
	} else if (!ok) {
		invalid(r, NULL, "%s", "The body is not valid JSON.");
	} else if (check(r, doc) == 0) {
		j = calloc(1, sizeof(*j));
		random_guid(j->id);
		now_real(&j->start);
		json_object_object_get_ex(doc, "resources", &a);
		j->resources = json_object_get(a);
		j->errors = json_object_new_array();
		*jobs_tail = j;
		jobs_tail = &j->next;
		reply_json(r, 202, status_doc(j));
	}
	json_object_put(doc);
}

static struct ing_job *job_find(const char *id)
{
	struct ing_job *j;

	for (j = jobs; j; j = j->next)
		if (!strcmp(j->id, id))
			return j;
	return NULL;
}

static void finish(struct ing_job *j, enum ing_result res)
{
	j->status = IS_COMPLETED;
	j->result = res;
	now_real(&j->end);
}

static void cancel(struct ing_job *j, struct reply *r)
{
	if (j->status == IS_COMPLETED) {
		ing_error(r, 400, "badRequest",
			  "Cannot cancel job, job has already completed.");
		return;
	}
	if (j->sub) {
		ing_sub_remove(j->product, j->sub);
		j->sub = NULL;
	}
	finish(j, IR_CANCELLED);
	reply_json(r, 200, status_doc(j));
}

static void detail(const struct ing_job *j, struct reply *r)
{
	struct json_object *d, *res;

	if (j->status != IS_COMPLETED || j->result == IR_FAILED) {
		ing_error(r, 404, "notFound", "Job %s has no detail: it %s.",
			  j->id,
			  j->status != IS_COMPLETED ? "has not completed"
						    : "failed");
		return;
	}
	d = json_object_new_object();
	json_object_object_add(
		d, "$schema",
		json_object_new_string(ING_SCHEMA_HOST
				       "configure-detail/2022-07-01"));
	res = j->applied ? ing_render_list(j->applied)
			 : json_object_new_array();
	ing_shuffle(res);
	json_object_object_add(d, "resources", res);
	reply_json(r, 200, d);
}

/* configure/<jobId>[/status|/cancel] */
void ing_job_route(struct req *q, char **s, int n, struct reply *r)
{
	struct ing_job *j = n >= 1 && n <= 2 ? job_find(s[0]) : NULL;
	const char *want = n == 2 && !strcmp(s[1], "cancel") ? "POST" : "GET";

	if (n < 1 || n > 2 ||
	    (n == 2 && strcmp(s[1], "status") && strcmp(s[1], "cancel"))) {
		ing_error(r, 404, "notFound", "No such resource.");
	} else if (!j) {
		ing_error(r, 404, "notFound",
			  "Job %s was not found. Ensure you're using the "
			  "correct ID.",
			  s[0]);
	} else if (strcmp(q->method, want)) {
		ing_error(r, 405, "methodNotAllowed", "Use %s.", want);
	} else if (n == 1) {
		detail(j, r);
	} else if (!strcmp(s[1], "status")) {
		reply_json(r, 200, status_doc(j));
	} else {
		cancel(j, r);
	}
}

static void sub_done(struct ing_job *j)
{
	struct ing_sub *s = j->sub;

	s->status = IS_COMPLETED;
	s->result = IR_SUCCEEDED;
	json_object_array_add(j->applied, ing_render_sub(j->product, s));
	j->sub = NULL;
	finish(j, IR_SUCCEEDED);
}

static void job_tick(struct ing_job *j)
{
	if (j->status == IS_COMPLETED)
		return;
	j->ticks++;
	if (j->status == IS_NOTSTARTED) {
		j->status = IS_RUNNING;
	} else if (j->ticks == 2) {
		if (ing_apply(j) < 0)
			finish(j, IR_FAILED);
		else if (!j->sub)
			finish(j, IR_SUCCEEDED);
		else
			j->sub->ticks = j->sub->target == TGT_LIVE
						? LIVE_TICKS
						: PREVIEW_TICKS;
	} else if (j->sub && --j->sub->ticks <= 0) {
		sub_done(j);
	}
}

/* Oldest job first: of two racing publishes the older one wins. */
void ing_tick(void)
{
	struct ing_job *j;

	for (j = jobs; j; j = j->next)
		job_tick(j);
}

void ing_jobs_free(void)
{
	while (jobs) {
		struct ing_job *j = jobs;

		jobs = j->next;
		json_object_put(j->resources);
		json_object_put(j->errors);
		json_object_put(j->applied);
		free(j);
	}
	jobs_tail = &jobs;
}

struct json_object *ing_jobs_dump(void)
{
	struct json_object *a = json_object_new_array();
	struct ing_job *j;

	for (j = jobs; j; j = j->next)
		json_object_array_add(a, status_doc(j));
	return a;
}
