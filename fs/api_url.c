/** @file
 * api_url: the endpoint and the URLs of the API — built from identifiers
 * (percent-encoded, api-version appended) or resolved from an operation
 * location, which must stay on the endpoint's origin: the bearer token
 * goes with every request, so a location elsewhere is refused.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api_url.h"
#include "partnerfs/api.h"
#include "partnerfs/ident.h"
#define API_DEFAULT_VERSION "2017-10-31"
#define API_ORIGIN_MAX 512

static char *api_base;	  /* endpoint without trailing '/' */
static char *api_version; /* api-version query value */

static bool api_has_http_scheme(const char *url)
{
	return strncasecmp(url, "http://", 7) == 0 ||
	       strncasecmp(url, "https://", 8) == 0;
}

int api_init(const struct api_config *cfg)
{
	const char *ep = cfg ? cfg->endpoint : NULL;
	const char *ver = cfg && cfg->api_version ? cfg->api_version
						  : API_DEFAULT_VERSION;
	size_t len;

	if (!ep || !api_has_http_scheme(ep) || !ident_is_valid(ver))
		return -EINVAL;
	api_cleanup();
	len = strlen(ep);
	while (len > 0 && ep[len - 1] == '/')
		len--;
	api_base = strndup(ep, len);
	api_version = strdup(ver);
	if (!api_base || !api_version) {
		api_cleanup();
		return -ENOMEM;
	}
	return 0;
}

void api_cleanup(void)
{
	free(api_base);
	free(api_version);
	api_base = NULL;
	api_version = NULL;
}

const char *api_endpoint(void)
{
	return api_base;
}

static int api_append_version(struct buf *out, const char *sep)
{
	int rc = buf_printf(out, "%sapi-version=", sep);

	return rc ? rc : ident_append_encoded(out, api_version);
}

/* The submissions collection is documented (and was used) with a slash
 * after "submissions" (cpp-api.md 6.8), hence trailing_slash. */
int api_build_url_ex(struct buf *out, const char *const *segments,
		     bool trailing_slash)
{
	int rc;

	if (!api_base)
		return -EINVAL;
	rc = buf_puts(out, api_base);
	if (!rc)
		rc = buf_puts(out, "/api");
	for (; !rc && *segments; segments++) {
		rc = buf_puts(out, "/");
		if (!rc)
			rc = ident_append_encoded(out, *segments);
	}
	if (!rc && trailing_slash)
		rc = buf_puts(out, "/");
	return rc ? rc : api_append_version(out, "?");
}

int api_build_url(struct buf *out, const char *const *segments)
{
	return api_build_url_ex(out, segments, false);
}

/* scheme://host:port, lower-cased, default port made explicit, so that two
 * spellings of the same server compare equal. -EINVAL for anything with
 * userinfo or without a host. */
static int api_origin_of(const char *url, char *out, size_t size)
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
static bool api_same_origin(const char *url)
{
	char a[API_ORIGIN_MAX], b[API_ORIGIN_MAX];

	return api_origin_of(url, a, sizeof(a)) == 0 &&
	       api_origin_of(api_base, b, sizeof(b)) == 0 && strcmp(a, b) == 0;
}

static bool api_query_has_version(const char *query, size_t len)
{
	const char *p = query, *end = query + len, *amp;
	static const char key[] = "api-version=";

	while (p < end) {
		amp = memchr(p, '&', (size_t)(end - p));
		if (!amp)
			amp = end;
		if ((size_t)(amp - p) >= sizeof(key) - 1 &&
		    strncasecmp(p, key, sizeof(key) - 1) == 0)
			return true;
		p = amp + 1;
	}
	return false;
}

int api_resolve_location(const char *location, struct buf *out)
{
	const char *p, *q, *end;
	size_t len;
	int rc;

	if (!location || !api_base)
		return -EINVAL;
	for (p = location; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return -EINVAL;
	/* The fragment never reaches a server; drop it before adding query
	 * parameters after it. */
	len = strcspn(location, "#");
	if (api_has_http_scheme(location)) {
		/* The location's request carries our bearer token: a server
		 * must not be able to send it to another host. */
		if (!api_same_origin(location))
			return -EINVAL;
		rc = buf_append(out, location, len);
	} else if (location[0] == '/' && location[1] != '/') {
		rc = buf_puts(out, api_base);
		if (!rc)
			rc = buf_append(out, location, len);
	} else {
		return -EINVAL;
	}
	if (rc)
		return rc;
	q = memchr(location, '?', len);
	if (!q)
		return api_append_version(out, "?");
	end = location + len;
	if (api_query_has_version(q + 1, (size_t)(end - q - 1)))
		return 0;
	if (end[-1] == '?' || end[-1] == '&')
		return api_append_version(out, "");
	return api_append_version(out, "&");
}
