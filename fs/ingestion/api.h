/* api: the product ingestion API's requests (doc/ingestion-api.md §4):
 * every URL it has, built in one place (segments percent-encoded,
 * $version added to every one), and its few calls on top of rest. Knows
 * nothing of FUSE nor of JSON. */
#ifndef PARTNERFS_ING_API_H
#define PARTNERFS_ING_API_H

#include <stddef.h>

#include "partnerfs/buf.h"
#include "partnerfs/rest.h"

#define ING_DEFAULT_VERSION "2022-07-01"
/* The Azure AD resource of its tokens (doc/ingestion-api.md §1.2). */
#define ING_RESOURCE "https://graph.microsoft.com"

int ing_api_init(const char *endpoint, const char *version);
void ing_api_cleanup(void);

/* <endpoint>/<path>?$version=V. path is '/'-separated segments ("product",
 * "resource-tree/product/<g>"), each percent-encoded; then the query
 * key=value pairs of query (NULL-terminated, may be NULL). 0, -ENOENT
 * (a segment that is not an identifier: nothing may be sent), -ENOMEM. */
int ing_api_url(struct buf *out, const char *path, const char *const *query);
/* The URL a page's @nextLink names, on the endpoint, $version kept. 0 or
 * -EINVAL (another host, not a URL). */
int ing_api_next_url(const char *next_link, struct buf *out);

/* One GET of url. 0 on 2xx, else -errno (res says why). */
int ing_api_get(const char *url, struct rest_result *res);
/* POST configure with body (JSON). Never retried. */
int ing_api_configure(const char *body, size_t len, struct rest_result *res);
/* POST configure/<job>/cancel. */
int ing_api_cancel(const char *job, struct rest_result *res);
/* The URL a job is polled at: configure/<job>/status. */
int ing_api_status_url(const char *job, struct buf *out);

#endif
