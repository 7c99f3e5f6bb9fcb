/** @file
 * api: typed calls of the Cloud Partner Portal API (cpp-api.md).
 *
 * Every call is: build the URL (identifiers percent-encoded, api-version
 * appended), fetch a token, perform, and on a 401 drop the token and try
 * exactly once more with a fresh one (a token can expire between the
 * check and the request). The HTTP status -> errno table of DESIGN.md §2
 * lives here and nowhere else.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api_url.h"
#include "partnerfs/api.h"
#include "partnerfs/auth.h"
#include "partnerfs/http.h"
#include "partnerfs/ident.h"
#include "partnerfs/log.h"
#include "partnerfs/model.h"

void api_result_free(struct api_result *res)
{
	if (!res)
		return;
	buf_free(&res->body);
	free(res->etag);
	free(res->op_url);
	free(res->message);
	res->etag = NULL;
	res->op_url = NULL;
	res->message = NULL;
	res->status = 0;
	res->retry_after_s = -1;
}

static void api_result_init(struct api_result *res)
{
	memset(res, 0, sizeof(*res));
	res->retry_after_s = -1;
}

int api_errno_for_status(long status)
{
	if (status >= 200 && status <= 299)
		return 0;
	switch (status) {
	case 400:
	case 422:
		return -EINVAL;
	case 401:
	case 403:
		return -EACCES;
	case 404:
		return -ENOENT;
	case 409:
		return -EBUSY;
	case 412:
		return -ESTALE;
	case 429:
	case 503:
		return -EAGAIN;
	}
	if (status >= 500 && status <= 599)
		return -EIO;
	if (status >= 400 && status <= 499)
		return -EINVAL;
	/* No answer, 1xx, or a 3xx we deliberately do not follow. */
	return -EIO;
}

/* The part of url worth logging: the path below the endpoint, no query. */
static void api_log_path(const char *url, const char **p, int *len)
{
	const char *api_base = api_endpoint();
	size_t base = api_base ? strlen(api_base) : 0;

	if (base && strncmp(url, api_base, base) == 0)
		url += base;
	*p = url;
	*len = (int)strcspn(url, "?#");
}

static char *api_host_of(const char *url)
{
	const char *h = strstr(url, "://");

	h = h ? h + 3 : url;
	return strndup(h, strcspn(h, "/?#"));
}

static void api_set_transport_message(struct api_result *res, const char *url,
				      int err, long elapsed_ms)
{
	struct buf m = BUF_INIT;
	char *host = api_host_of(url);

	switch (err) {
	case -ETIMEDOUT:
		buf_printf(&m, "timed out after %ld ms", elapsed_ms);
		break;
	case -EHOSTUNREACH:
		buf_printf(&m, "cannot connect to %s", host ? host : url);
		break;
	case -EFBIG:
		buf_puts(&m, "response too large");
		break;
	case -EACCES: {
		char why[512];

		buf_puts(&m, "no access token from ");
		auth_describe(&m);
		auth_last_failure(why, sizeof(why));
		if (why[0])
			buf_printf(&m, ": %s", why);
		break;
	}
	default:
		buf_printf(&m, "transport error talking to %s",
			   host ? host : url);
		break;
	}
	free(host);
	free(res->message);
	res->message = m.data ? buf_steal(&m) : NULL;
}

static void api_take_response(struct api_result *res,
			      struct http_response *resp)
{
	struct buf op = BUF_INIT;
	const char *loc;

	res->status = resp->status;
	buf_free(&res->body);
	res->body = resp->body;
	resp->body = (struct buf)BUF_INIT;
	res->etag = resp->etag;
	resp->etag = NULL;
	res->retry_after_s = resp->retry_after_s;
	/* 2018 pages: Operation-Location; 2020 pages: Location (6.5). */
	loc = resp->operation_location ? resp->operation_location
				       : resp->location;
	if (!loc)
		return;
	if (api_resolve_location(loc, &op) == 0)
		res->op_url = buf_steal(&op);
	else
		log_warn("ignoring operation location '%.200s': not a path "
			 "or URL on the endpoint",
			 loc);
	buf_free(&op);
}

static void api_set_status_message(struct api_result *res, bool refreshed)
{
	struct buf m = BUF_INIT;
	char *api_msg;

	api_msg = model_parse_error_message(res->body.data, res->body.len);
	if (api_msg)
		buf_puts(&m, api_msg);
	else
		buf_printf(&m, "HTTP %ld", res->status);
	/* The credential source is what the user must fix after a second
	 * 401; say which one was used. */
	if (res->status == 401 && refreshed) {
		buf_puts(&m, " (token rejected after a refresh; ");
		auth_describe(&m);
		buf_puts(&m, ")");
	}
	free(api_msg);
	free(res->message);
	res->message = m.data ? buf_steal(&m) : NULL;
}

struct api_call {
	const char *method;
	const char *url;
	const char *body;
	size_t body_len;
	const char *if_match;
};

static int api_perform(const struct api_call *c, struct api_result *res)
{
	struct http_request req = {
		.method = c->method,
		.url = c->url,
		.body = c->body,
		.body_len = c->body_len,
		.if_match = c->if_match,
	};
	struct http_response resp;
	const char *path;
	char *token = NULL;
	int attempt, rc, plen;

	api_result_init(res);
	api_log_path(c->url, &path, &plen);
	for (attempt = 0; attempt < 2; attempt++) {
		rc = auth_get_token(&token);
		if (rc) {
			api_set_transport_message(res, c->url, -EACCES, 0);
			log_warn("%s %.*s: %s", c->method, plen, path,
				 res->message ? res->message : "no token");
			return rc;
		}
		req.bearer = token;
		memset(&resp, 0, sizeof(resp));
		rc = http_perform(&req, &resp);
		if (rc == 0 && resp.status == 401 && attempt == 0) {
			auth_reject_token(token);
			free(token);
			token = NULL;
			http_response_free(&resp);
			continue;
		}
		break;
	}
	free(token);
	if (rc) {
		api_set_transport_message(res, c->url, rc, resp.elapsed_ms);
		log_warn("%s %.*s: %s", c->method, plen, path, res->message);
		http_response_free(&resp);
		return rc;
	}
	api_take_response(res, &resp);
	http_response_free(&resp);
	rc = api_errno_for_status(res->status);
	if (rc == 0)
		return 0;
	api_set_status_message(res, attempt > 0);
	/* A 404 is the normal answer to a lookup of a name that does not
	 * exist (shells probe many); it is not worth a warning. A write
	 * that gets one failed, and last-error must say so. */
	if (res->status == 404 && strcmp(c->method, "GET") == 0)
		log_info("%s %.*s -> %ld: %s", c->method, plen, path,
			 res->status, res->message ? res->message : "");
	else
		log_warn("%s %.*s -> %ld: %s", c->method, plen, path,
			 res->status, res->message ? res->message : "");
	return rc;
}

static int api_get_segments(const char *const *segs, bool trailing_slash,
			    struct api_result *res)
{
	struct buf url = BUF_INIT;
	struct api_call c = {.method = "GET"};
	int rc;

	api_result_init(res);
	rc = api_build_url_ex(&url, segs, trailing_slash);
	if (rc) {
		buf_free(&url);
		return rc;
	}
	c.url = url.data;
	rc = api_perform(&c, res);
	buf_free(&url);
	return rc;
}

/* Names reach here from lookups; one that could change the request path
 * is refused before any request (DESIGN.md §1). */
static int api_check_idents(struct api_result *res, const char *a,
			    const char *b, const char *c)
{
	api_result_init(res);
	if ((a && !ident_is_valid(a)) || (b && !ident_is_valid(b)) ||
	    (c && !ident_is_valid(c))) {
		res->message = strdup("invalid identifier");
		return -ENOENT;
	}
	return 0;
}

int api_list_publishers(struct api_result *res)
{
	const char *segs[] = {"publishers", NULL};

	return api_get_segments(segs, false, res);
}

int api_list_offers(const char *pub, struct api_result *res)
{
	const char *segs[] = {"publishers", pub, "offers", NULL};
	int rc = api_check_idents(res, pub, NULL, NULL);

	return rc ? rc : api_get_segments(segs, false, res);
}

int api_get_offer(const char *pub, const char *offer, struct api_result *res)
{
	const char *segs[] = {"publishers", pub, "offers", offer, NULL};
	int rc = api_check_idents(res, pub, offer, NULL);

	return rc ? rc : api_get_segments(segs, false, res);
}

int api_get_offer_status(const char *pub, const char *offer,
			 struct api_result *res)
{
	const char *segs[] = {"publishers", pub,      "offers",
			      offer,	    "status", NULL};
	int rc = api_check_idents(res, pub, offer, NULL);

	return rc ? rc : api_get_segments(segs, false, res);
}

int api_get_slot(const char *pub, const char *offer, const char *slot,
		 struct api_result *res)
{
	const char *segs[] = {"publishers", pub,  "offers", offer,
			      "slot",	    slot, NULL};
	int rc = api_check_idents(res, pub, offer, slot);

	return rc ? rc : api_get_segments(segs, false, res);
}

int api_get_version(const char *pub, const char *offer, const char *version,
		    struct api_result *res)
{
	const char *segs[] = {"publishers", pub,     "offers", offer,
			      "versions",   version, NULL};
	int rc = api_check_idents(res, pub, offer, version);

	return rc ? rc : api_get_segments(segs, false, res);
}

int api_list_submissions(const char *pub, const char *offer,
			 struct api_result *res)
{
	const char *segs[] = {"publishers", pub,	   "offers",
			      offer,	    "submissions", NULL};
	int rc = api_check_idents(res, pub, offer, NULL);

	return rc ? rc : api_get_segments(segs, true, res);
}

int api_get_url(const char *url, struct api_result *res)
{
	struct buf abs = BUF_INIT;
	struct api_call c = {.method = "GET"};
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
	c.url = abs.data;
	rc = api_perform(&c, res);
	buf_free(&abs);
	return rc;
}

static char *api_action_body(const char *emails)
{
	json_object *root = json_object_new_object();
	json_object *meta = json_object_new_object();
	json_object *list = json_object_new_string(emails);
	const char *s;
	char *r = NULL;

	if (!root || !meta || !list) {
		json_object_put(root);
		json_object_put(meta);
		json_object_put(list);
		return NULL;
	}
	json_object_object_add(meta, "notification-emails", list);
	json_object_object_add(root, "metadata", meta);
	s = json_object_to_json_string_ext(
		root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s)
		r = strdup(s);
	json_object_put(root);
	return r;
}

int api_post_action(const char *pub, const char *offer, const char *action,
		    const char *emails, struct api_result *res)
{
	const char *segs[] = {"publishers", pub, "offers", offer, action, NULL};
	struct api_call c = {.method = "POST"};
	struct buf url = BUF_INIT;
	char *body = NULL;
	int rc;

	rc = api_check_idents(res, pub, offer, NULL);
	if (rc)
		return rc;
	if (!action || (strcmp(action, "publish") && strcmp(action, "golive") &&
			strcmp(action, "cancel")))
		return -EINVAL;
	if (emails) {
		body = api_action_body(emails);
		if (!body)
			return -ENOMEM;
		c.body = body;
		c.body_len = strlen(body);
	}
	rc = api_build_url_ex(&url, segs, false);
	if (!rc) {
		c.url = url.data;
		rc = api_perform(&c, res);
	}
	buf_free(&url);
	free(body);
	return rc;
}

int api_put_offer(const char *pub, const char *offer, const char *json,
		  size_t len, const char *if_match, struct api_result *res)
{
	const char *segs[] = {"publishers", pub, "offers", offer, NULL};
	/* Without an ETag from the GET, last-one-wins is what every client
	 * converged on (cpp-api.md 4.2). */
	struct api_call c = {
		.method = "PUT",
		.body = json,
		.body_len = len,
		.if_match = if_match ? if_match : "*",
	};
	struct buf url = BUF_INIT;
	int rc;

	rc = api_check_idents(res, pub, offer, NULL);
	if (rc)
		return rc;
	rc = api_build_url_ex(&url, segs, false);
	if (!rc) {
		c.url = url.data;
		rc = api_perform(&c, res);
	}
	buf_free(&url);
	return rc;
}
