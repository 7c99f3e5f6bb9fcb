/** @file
 * api_url: every URL of the Cloud Partner Portal API, in one place —
 * built from identifiers (percent-encoded, api-version appended) or
 * resolved from an operation location, which must stay on the endpoint
 * (rest_resolve).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "partnerfs/ident.h"
#include "partnerfs/rest.h"

static char *api_version; /* api-version query value */

int api_init(const struct api_config *cfg)
{
	const char *ver = cfg && cfg->api_version ? cfg->api_version
						  : API_DEFAULT_VERSION;

	if (!cfg || !ident_is_valid(ver))
		return -EINVAL;
	api_cleanup();
	int rc = rest_init(cfg->endpoint);
	if (rc)
		return rc;
	api_version = strdup(ver);
	if (!api_version) {
		api_cleanup();
		return -ENOMEM;
	}
	return 0;
}

void api_cleanup(void)
{
	rest_cleanup();
	free(api_version);
	api_version = NULL;
}

/* The submissions collection is documented (and was used) with a slash
 * after "submissions" (doc/cpp-api.md §6.8), hence trailing_slash. */
static int api_build_url_ex(struct buf *out, const char *const *segments,
			    bool trailing_slash)
{
	const char *base = rest_endpoint();
	int rc;

	if (!base || !api_version)
		return -EINVAL;
	rc = buf_puts(out, base);
	if (!rc)
		rc = buf_puts(out, "/api");
	for (; !rc && *segments; segments++) {
		rc = buf_puts(out, "/");
		if (!rc)
			rc = ident_append_encoded(out, *segments);
	}
	if (!rc && trailing_slash)
		rc = buf_puts(out, "/");
	return rc ? rc : rest_query_ensure(out, "api-version", api_version);
}

int api_build_url(struct buf *out, const char *const *segments)
{
	return api_build_url_ex(out, segments, false);
}

/* Per doc: how many ids it takes, and its path after .../offers/<offer>
 * (NULL: it ends before). */
static const struct {
	int nids;
	const char *tail;
	bool trailing_slash;
} api_docs[] = {
	[API_PUBLISHERS] = {0, NULL, false},
	[API_OFFERS] = {1, NULL, false},
	[API_OFFER] = {2, NULL, false},
	[API_STATUS] = {2, "status", false},
	[API_SLOT] = {3, "slot", false},
	[API_VERSION] = {3, "versions", false},
	[API_SUBMISSIONS] = {2, "submissions", true},
	[API_OPERATION] = {3, "operations", false},
};

int api_doc_url(enum api_doc doc, const char *const *ids, struct buf *out)
{
	const char *segs[8] = {"publishers"};
	int n = api_docs[doc].nids, k = 1;

	/* Names reach here from lookups; one that could change the request
	 * path is refused before any request (doc/design.md §1). */
	for (int i = 0; i < n; i++)
		if (!ids[i] || !ident_is_valid(ids[i]))
			return -ENOENT;
	if (n >= 1) {
		segs[k++] = ids[0];
		segs[k++] = "offers";
	}
	if (n >= 2)
		segs[k++] = ids[1];
	if (api_docs[doc].tail)
		segs[k++] = api_docs[doc].tail;
	if (n >= 3)
		segs[k++] = ids[2];
	segs[k] = NULL;
	return api_build_url_ex(out, segs, api_docs[doc].trailing_slash);
}

int api_resolve_location(const char *location, struct buf *out)
{
	int rc = rest_resolve(location, out);

	return rc ? rc : rest_query_ensure(out, "api-version", api_version);
}
