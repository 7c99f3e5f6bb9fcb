/** @file
 * api: the typed calls of the Cloud Partner Portal API (doc/cpp-api.md),
 * each one request through rest with the URL from api_url.c.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "partnerfs/ident.h"
#include "partnerfs/jsonutil.h"
#include "partnerfs/log.h"
#include "partnerfs/rest.h"

void api_result_free(struct api_result *res)
{
	if (!res)
		return;
	buf_free(&res->body);
	free(res->etag);
	free(res->op_url);
	free(res->message);
	memset(res, 0, sizeof(*res));
	res->retry_after_s = -1;
}

static void api_result_init(struct api_result *res)
{
	memset(res, 0, sizeof(*res));
	res->retry_after_s = -1;
}

/* 2018 pages: Operation-Location; 2020 pages: Location (doc/cpp-api.md
 * §6.5). */
static void api_take(struct api_result *res, struct rest_result *r)
{
	const char *loc = r->header ? r->header : r->location;
	struct buf op = BUF_INIT;

	res->status = r->status;
	res->body = r->body;
	r->body = (struct buf)BUF_INIT;
	res->etag = r->etag;
	res->message = r->message;
	r->etag = r->message = NULL;
	res->retry_after_s = r->retry_after_s;
	if (loc && api_resolve_location(loc, &op) == 0)
		res->op_url = buf_steal(&op);
	else if (loc)
		log_warn("ignoring operation location '%.200s': not a path "
			 "or URL on the endpoint",
			 loc);
	buf_free(&op);
	rest_result_free(r);
}

static int api_perform(const char *method, const char *url, const char *body,
		       size_t body_len, const char *if_match,
		       struct api_result *res)
{
	struct rest_request rq = {
		.method = method,
		.url = url,
		.body = body,
		.body_len = body_len,
		.if_match = if_match,
		.want_header = "Operation-Location",
	};
	struct rest_result r;
	int rc;

	rest_result_init(&r);
	rc = rest_perform(&rq, &r);
	api_take(res, &r);
	return rc;
}

static int api_get_doc(enum api_doc doc, const char *const *ids,
		       struct api_result *res)
{
	struct buf url = BUF_INIT;
	int rc;

	api_result_init(res);
	rc = api_doc_url(doc, ids, &url);
	if (rc == -ENOENT)
		res->message = strdup("invalid identifier");
	if (!rc)
		rc = api_perform("GET", url.data, NULL, 0, NULL, res);
	buf_free(&url);
	return rc;
}

int api_list_publishers(struct api_result *res)
{
	return api_get_doc(API_PUBLISHERS, NULL, res);
}

int api_list_offers(const char *pub, struct api_result *res)
{
	const char *ids[] = {pub};

	return api_get_doc(API_OFFERS, ids, res);
}

int api_get_offer(const char *pub, const char *offer, struct api_result *res)
{
	const char *ids[] = {pub, offer};

	return api_get_doc(API_OFFER, ids, res);
}

int api_get_offer_status(const char *pub, const char *offer,
			 struct api_result *res)
{
	const char *ids[] = {pub, offer};

	return api_get_doc(API_STATUS, ids, res);
}

int api_get_slot(const char *pub, const char *offer, const char *slot,
		 struct api_result *res)
{
	const char *ids[] = {pub, offer, slot};

	return api_get_doc(API_SLOT, ids, res);
}

int api_get_version(const char *pub, const char *offer, const char *version,
		    struct api_result *res)
{
	const char *ids[] = {pub, offer, version};

	return api_get_doc(API_VERSION, ids, res);
}

int api_list_submissions(const char *pub, const char *offer,
			 struct api_result *res)
{
	const char *ids[] = {pub, offer};

	return api_get_doc(API_SUBMISSIONS, ids, res);
}

int api_get_url(const char *url, struct api_result *res)
{
	struct buf abs = BUF_INIT;
	int rc;

	api_result_init(res);
	/* Re-resolving is a no-op for a URL we built, and keeps a
	 * server-chosen location from reaching another host with our token. */
	rc = api_resolve_location(url, &abs);
	if (rc) {
		buf_free(&abs);
		res->message = strdup("not a URL on the endpoint");
		return rc;
	}
	rc = api_perform("GET", abs.data, NULL, 0, NULL, res);
	buf_free(&abs);
	return rc;
}

static char *api_action_body(const char *emails)
{
	json_object *root = json_object_new_object();
	json_object *meta = json_object_new_object();
	json_object *list = json_object_new_string(emails);
	char *r = NULL;

	if (root && meta && list) {
		json_object_object_add(meta, "notification-emails", list);
		json_object_object_add(root, "metadata", meta);
		r = jsonutil_render_plain(root);
		json_object_put(root);
		return r;
	}
	json_object_put(root);
	json_object_put(meta);
	json_object_put(list);
	return NULL;
}

/* The offer's own URL, or one of its actions. */
static int api_offer_url(const char *pub, const char *offer, const char *action,
			 struct api_result *res, struct buf *url)
{
	const char *segs[] = {"publishers", pub, "offers", offer, action, NULL};

	api_result_init(res);
	if (!ident_is_valid(pub) || !ident_is_valid(offer)) {
		res->message = strdup("invalid identifier");
		return -ENOENT;
	}
	return api_build_url(url, segs);
}

int api_post_action(const char *pub, const char *offer, const char *action,
		    const char *emails, struct api_result *res)
{
	struct buf url = BUF_INIT;
	char *body = NULL;
	int rc;

	if (!action || (strcmp(action, "publish") && strcmp(action, "golive") &&
			strcmp(action, "cancel"))) {
		api_result_init(res);
		return -EINVAL;
	}
	rc = api_offer_url(pub, offer, action, res, &url);
	if (!rc && emails && !(body = api_action_body(emails)))
		rc = -ENOMEM;
	if (!rc)
		rc = api_perform("POST", url.data, body,
				 body ? strlen(body) : 0, NULL, res);
	buf_free(&url);
	free(body);
	return rc;
}

int api_put_offer(const char *pub, const char *offer, const char *json,
		  size_t len, const char *if_match, struct api_result *res)
{
	struct buf url = BUF_INIT;
	int rc = api_offer_url(pub, offer, NULL, res, &url);

	/* Without an ETag from the GET, last-one-wins is what every client
	 * converged on (doc/cpp-api.md §4.2). */
	if (!rc)
		rc = api_perform("PUT", url.data, json, len,
				 if_match ? if_match : "*", res);
	buf_free(&url);
	return rc;
}
