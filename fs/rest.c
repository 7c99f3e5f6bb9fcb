/** @file
 * rest: one authenticated request to the endpoint, and the endpoint's
 * URLs (see rest.h).
 *
 * A request is: fetch a token, perform, and on a 401 drop the token and
 * try exactly once more with a fresh one (a token can expire between the
 * check and the request). The HTTP status -> errno table of
 * doc/design.md §2 lives here and nowhere else.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "partnerfs/auth.h"
#include "partnerfs/http.h"
#include "partnerfs/ident.h"
#include "partnerfs/jsonutil.h"
#include "partnerfs/log.h"
#include "partnerfs/rest.h"

#define REST_ORIGIN_MAX 512

static char *rest_base; /* endpoint without trailing '/' */

static bool rest_has_http_scheme(const char *url)
{
	return strncasecmp(url, "http://", 7) == 0 ||
	       strncasecmp(url, "https://", 8) == 0;
}

int rest_init(const char *endpoint)
{
	size_t len;

	if (!endpoint || !rest_has_http_scheme(endpoint))
		return -EINVAL;
	rest_cleanup();
	len = strlen(endpoint);
	while (len > 0 && endpoint[len - 1] == '/')
		len--;
	rest_base = strndup(endpoint, len);
	return rest_base ? 0 : -ENOMEM;
}

void rest_cleanup(void)
{
	free(rest_base);
	rest_base = NULL;
}

const char *rest_endpoint(void)
{
	return rest_base;
}

void rest_result_init(struct rest_result *res)
{
	memset(res, 0, sizeof(*res));
	res->retry_after_s = -1;
}

void rest_result_free(struct rest_result *res)
{
	if (!res)
		return;
	buf_free(&res->body);
	free(res->etag);
	free(res->location);
	free(res->header);
	free(res->message);
	rest_result_init(res);
}

int rest_errno_for_status(long status)
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
static void rest_log_path(const char *url, const char **p, int *len)
{
	size_t base = rest_base ? strlen(rest_base) : 0;

	if (base && strncmp(url, rest_base, base) == 0)
		url += base;
	*p = url;
	*len = (int)strcspn(url, "?#");
}

static char *rest_host_of(const char *url)
{
	const char *h = strstr(url, "://");

	h = h ? h + 3 : url;
	return strndup(h, strcspn(h, "/?#"));
}

static void rest_set_transport_message(struct rest_result *res, const char *url,
				       int err, long elapsed_ms)
{
	struct buf m = BUF_INIT;
	char *host = rest_host_of(url);

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

static void rest_take_response(struct rest_result *res,
			       struct http_response *resp)
{
	res->status = resp->status;
	buf_free(&res->body);
	res->body = resp->body;
	resp->body = (struct buf)BUF_INIT;
	res->etag = resp->etag;
	res->location = resp->location;
	res->header = resp->header;
	resp->etag = resp->location = resp->header = NULL;
	res->retry_after_s = resp->retry_after_s;
}

static void rest_set_status_message(struct rest_result *res, bool refreshed)
{
	struct buf m = BUF_INIT;
	char *api_msg;

	api_msg = jsonutil_error_message(res->body.data, res->body.len);
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

int rest_perform(const struct rest_request *c, struct rest_result *res)
{
	struct http_request req = {
		.method = c->method,
		.url = c->url,
		.body = c->body,
		.body_len = c->body_len,
		.if_match = c->if_match,
		.want_header = c->want_header,
	};
	struct http_response resp;
	const char *path;
	char *token = NULL;
	int attempt, rc, plen;

	rest_result_init(res);
	rest_log_path(c->url, &path, &plen);
	for (attempt = 0; attempt < 2; attempt++) {
		rc = auth_get_token(&token);
		if (rc) {
			rest_set_transport_message(res, c->url, -EACCES, 0);
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
		rest_set_transport_message(res, c->url, rc, resp.elapsed_ms);
		log_warn("%s %.*s: %s", c->method, plen, path, res->message);
		http_response_free(&resp);
		return rc;
	}
	rest_take_response(res, &resp);
	http_response_free(&resp);
	rc = rest_errno_for_status(res->status);
	if (rc == 0)
		return 0;
	rest_set_status_message(res, attempt > 0);
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

/* scheme://host:port, lower-cased, default port made explicit, so that two
 * spellings of the same server compare equal. -EINVAL for anything with
 * userinfo or without a host. */
static int rest_origin_of(const char *url, char *out, size_t size)
{
	const char *auth, *end, *colon, *host_end;
	bool https = strncasecmp(url, "https://", 8) == 0;
	size_t i, n;
	int len;

	auth = url + (https ? 8 : 7);
	end = auth + strcspn(auth, "/?#");
	if (end == auth || memchr(auth, '@', (size_t)(end - auth)))
		return -EINVAL;
	host_end = end;
	colon = NULL;
	if (*auth == '[') {
		host_end = memchr(auth, ']', (size_t)(end - auth));
		if (!host_end)
			return -EINVAL;
		host_end++;
		if (host_end < end && *host_end == ':')
			colon = host_end;
		else if (host_end != end)
			return -EINVAL;
	} else {
		colon = memchr(auth, ':', (size_t)(end - auth));
		if (colon)
			host_end = colon;
	}
	if (host_end == auth)
		return -EINVAL;
	if (colon && colon + 1 < end)
		len = snprintf(out, size, "%s://%.*s:%.*s",
			       https ? "https" : "http", (int)(host_end - auth),
			       auth, (int)(end - colon - 1), colon + 1);
	else
		len = snprintf(out, size, "%s://%.*s:%s",
			       https ? "https" : "http", (int)(host_end - auth),
			       auth, https ? "443" : "80");
	if (len < 0 || (size_t)len >= size)
		return -EINVAL;
	n = (size_t)len;
	for (i = 0; i < n; i++)
		if (out[i] >= 'A' && out[i] <= 'Z')
			out[i] = (char)(out[i] - 'A' + 'a');
	return 0;
}

/* Whether url has the endpoint's scheme, host and port. */
static bool rest_same_origin(const char *url)
{
	char a[REST_ORIGIN_MAX], b[REST_ORIGIN_MAX];

	return rest_origin_of(url, a, sizeof(a)) == 0 &&
	       rest_origin_of(rest_base, b, sizeof(b)) == 0 &&
	       strcmp(a, b) == 0;
}

int rest_resolve(const char *location, struct buf *out)
{
	const char *p;
	size_t len;

	if (!location || !rest_base)
		return -EINVAL;
	for (p = location; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return -EINVAL;
	/* The fragment never reaches a server; drop it before a caller adds
	 * query parameters after it. */
	len = strcspn(location, "#");
	if (rest_has_http_scheme(location)) {
		/* The location's request carries our bearer token: a server
		 * must not be able to send it to another host. */
		if (!rest_same_origin(location))
			return -EINVAL;
		return buf_append(out, location, len);
	}
	if (location[0] == '/' && location[1] != '/') {
		int rc = buf_puts(out, rest_base);
		return rc ? rc : buf_append(out, location, len);
	}
	return -EINVAL;
}

static bool rest_query_has(const char *query, size_t len, const char *key)
{
	const char *p = query, *end = query + len, *amp;
	size_t klen = strlen(key);

	while (p < end) {
		amp = memchr(p, '&', (size_t)(end - p));
		if (!amp)
			amp = end;
		if ((size_t)(amp - p) > klen && p[klen] == '=' &&
		    strncasecmp(p, key, klen) == 0)
			return true;
		p = amp + 1;
	}
	return false;
}

int rest_query_ensure(struct buf *url, const char *key, const char *value)
{
	const char *data = url->data ? url->data : "";
	const char *q = strchr(data, '?');
	const char *sep = "?";
	int rc;

	if (q) {
		if (rest_query_has(q + 1, strlen(q + 1), key))
			return 0;
		sep = (url->len &&
		       (data[url->len - 1] == '?' || data[url->len - 1] == '&'))
			      ? ""
			      : "&";
	}
	rc = buf_printf(url, "%s%s=", sep, key);
	return rc ? rc : ident_append_encoded(url, value);
}
