/* aad.c: one Azure AD client-credentials token request (see aad.h).
 * The form carries the secret: it is wiped from memory once sent. */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "partnerfs/aad.h"
#include "partnerfs/buf.h"
#include "partnerfs/http.h"
#include "partnerfs/ident.h"
#include "partnerfs/jsonutil.h"

/* AAD v1 sends lifetimes as JSON strings; accept numbers too. */
static int aad_json_seconds(json_object *doc, const char *key, long long *out)
{
	json_object *v;
	const char *s;
	char *end;

	if (!json_object_object_get_ex(doc, key, &v))
		return 0;
	if (json_object_is_type(v, json_type_int)) {
		*out = json_object_get_int64(v);
		return 1;
	}
	if (!json_object_is_type(v, json_type_string))
		return 0;
	s = json_object_get_string(v);
	errno = 0;
	*out = strtoll(s, &end, 10);
	return !errno && end != s && *end == '\0';
}

static int aad_build_url(const struct aad_client *c, struct buf *url)
{
	size_t alen = strlen(c->authority);
	int rc;

	while (alen && c->authority[alen - 1] == '/')
		alen--;
	rc = buf_append(url, c->authority, alen);
	if (!rc)
		rc = buf_puts(url, "/");
	if (!rc)
		rc = ident_append_encoded(url, c->tenant);
	if (!rc)
		rc = buf_puts(url,
			      c->v2 ? "/oauth2/v2.0/token" : "/oauth2/token");
	return rc;
}

/* v1 names the resource; v2 a scope: the resource's ".default", all the
 * application permissions it was granted. Appended as is: Azure AD wants
 * the '/' doubled for a resource whose id ends in one. */
static int aad_append_target(struct buf *form, const struct aad_client *c)
{
	int rc = ident_append_encoded(form, c->resource);

	if (!rc && c->v2)
		rc = ident_append_encoded(form, "/.default");
	return rc;
}

static int aad_build_form(const struct aad_client *c, struct buf *form)
{
	int rc = buf_puts(form, "grant_type=client_credentials&client_id=");

	if (!rc)
		rc = ident_append_encoded(form, c->client_id);
	if (!rc)
		rc = buf_puts(form, "&client_secret=");
	if (!rc)
		rc = ident_append_encoded(form, c->secret);
	if (!rc)
		rc = buf_puts(form, c->v2 ? "&scope=" : "&resource=");
	if (!rc)
		rc = aad_append_target(form, c);
	return rc;
}

/* The access token and its lifetime from a 200 answer; -EACCES if none. */
static int aad_parse_token(const struct buf *body, char **token,
			   long long *lifetime_s)
{
	json_object *doc = json_tokener_parse(body->data ? body->data : "");
	json_object *v;
	long long on;

	*token = NULL;
	*lifetime_s = -1;
	if (json_object_object_get_ex(doc, "access_token", &v) &&
	    json_object_is_type(v, json_type_string))
		*token = strdup(json_object_get_string(v));
	if (*token && !aad_json_seconds(doc, "expires_in", lifetime_s) &&
	    aad_json_seconds(doc, "expires_on", &on))
		*lifetime_s = on - (long long)time(NULL);
	json_object_put(doc);
	return *token ? 0 : -EACCES;
}

/* "invalid_client: AADSTS7000215: Invalid client secret is provided." —
 * the error code and the first line of the description; the rest is
 * trace and correlation ids. */
static char *aad_reason(const struct buf *body)
{
	json_object *doc = json_tokener_parse(body->data ? body->data : "");
	const char *code = NULL, *desc = NULL;
	struct buf b = BUF_INIT;
	json_object *v;
	char *r = NULL;

	if (json_object_object_get_ex(doc, "error", &v) &&
	    json_object_is_type(v, json_type_string))
		code = json_object_get_string(v);
	if (json_object_object_get_ex(doc, "error_description", &v) &&
	    json_object_is_type(v, json_type_string))
		desc = json_object_get_string(v);
	if (code || desc) {
		if (code)
			buf_puts(&b, code);
		if (code && desc)
			buf_puts(&b, ": ");
		if (desc)
			buf_append(&b, desc, strcspn(desc, "\r\n"));
		r = b.data ? buf_steal(&b) : NULL;
	} else {
		r = jsonutil_error_message(body->data, body->len);
	}
	buf_free(&b);
	json_object_put(doc);
	return r;
}

int aad_request_token(const struct aad_client *c, char **token,
		      long long *lifetime_s, char *why, size_t why_size)
{
	struct http_request req = {
		.method = "POST",
		.content_type = "application/x-www-form-urlencoded",
	};
	struct http_response resp;
	struct buf url = BUF_INIT, form = BUF_INIT;
	char *msg;
	int rc;

	*token = NULL;
	why[0] = '\0';
	rc = aad_build_url(c, &url);
	if (!rc)
		rc = aad_build_form(c, &form);
	if (rc)
		goto out;
	req.url = url.data;
	req.body = form.data;
	req.body_len = form.len;
	rc = http_perform(&req, &resp);
	if (rc) {
		snprintf(why, why_size, "token request to %s failed: %s",
			 url.data, strerror(-rc));
	} else if (resp.status != 200 ||
		   aad_parse_token(&resp.body, token, lifetime_s)) {
		msg = aad_reason(&resp.body);
		snprintf(why, why_size,
			 "Azure AD at %s refused the client credentials "
			 "(HTTP %ld): %s",
			 url.data, resp.status,
			 msg ? msg : "no access_token in the answer");
		free(msg);
		rc = -EACCES;
	}
	http_response_free(&resp);
out:
	if (form.data)
		explicit_bzero(form.data, form.cap);
	buf_free(&form);
	buf_free(&url);
	return rc;
}
