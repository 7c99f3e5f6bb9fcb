/* api.c: the ingestion API's URLs and its calls (see api.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "partnerfs/ident.h"

static char *version; /* the $version of every request */

int ing_api_init(const char *endpoint, const char *v)
{
	ing_api_cleanup();
	int err = rest_init(endpoint);
	if (err)
		return err;
	version = strdup(v ? v : ING_DEFAULT_VERSION);
	if (!version) {
		ing_api_cleanup();
		return -ENOMEM;
	}
	return 0;
}

void ing_api_cleanup(void)
{
	rest_cleanup();
	free(version);
	version = NULL;
}

int ing_api_url(struct buf *out, const char *path, const char *const *query)
{
	const char *base = rest_endpoint();
	if (!base || !version)
		return -EINVAL;
	int err = buf_puts(out, base);
	for (const char *p = path; !err && *p;) {
		size_t n = strcspn(p, "/");
		char seg[IDENT_MAX + 1];
		if (n == 0 || n > IDENT_MAX)
			return -ENOENT;
		memcpy(seg, p, n);
		seg[n] = '\0';
		/* Names reach here from lookups: one that could change the
		 * request path is refused before anything is sent. */
		if (!ident_is_valid(seg))
			return -ENOENT;
		err = buf_puts(out, "/");
		if (!err)
			err = ident_append_encoded(out, seg);
		p += n + (p[n] == '/');
	}
	for (size_t i = 0; !err && query && query[i] && query[i + 1]; i += 2)
		err = rest_query_ensure(out, query[i], query[i + 1]);
	return err ? err : rest_query_ensure(out, "$version", version);
}

int ing_api_next_url(const char *next_link, struct buf *out)
{
	int err = rest_resolve(next_link, out);
	return err ? err : rest_query_ensure(out, "$version", version);
}

int ing_api_get(const char *url, struct rest_result *res)
{
	struct rest_request rq = {.method = "GET", .url = url};
	return rest_perform(&rq, res);
}

static int post(const char *path, const char *body, size_t len,
		struct rest_result *res)
{
	struct buf url = BUF_INIT;
	int err = ing_api_url(&url, path, NULL);
	if (err) {
		rest_result_init(res);
		buf_free(&url);
		return err;
	}
	struct rest_request rq = {.method = "POST",
				  .url = url.data,
				  .body = body,
				  .body_len = len};
	err = rest_perform(&rq, res);
	buf_free(&url);
	return err;
}

int ing_api_configure(const char *body, size_t len, struct rest_result *res)
{
	return post("configure", body, len, res);
}

int ing_api_cancel(const char *job, struct rest_result *res)
{
	struct buf path = BUF_INIT;
	int err = buf_printf(&path, "configure/%s/cancel", job);
	if (!err && strchr(job, '/'))
		err = -ENOENT;
	if (!err)
		err = post(path.data, NULL, 0, res);
	else
		rest_result_init(res);
	buf_free(&path);
	return err;
}

int ing_api_status_url(const char *job, struct buf *out)
{
	struct buf path = BUF_INIT;
	int err = strchr(job, '/') ? -ENOENT : 0;
	if (!err)
		err = buf_printf(&path, "configure/%s/status", job);
	if (!err)
		err = ing_api_url(out, path.data, NULL);
	buf_free(&path);
	return err;
}
