/* api_url.h: what api.c needs of api_url.c beyond the public contract.
 * Private to fs/. */
#ifndef PARTNERFS_API_URL_H
#define PARTNERFS_API_URL_H

#include <stdbool.h>

#include "partnerfs/buf.h"

/* api_build_url, optionally with the slash that the submissions
 * collection is documented with before the query. */
int api_build_url_ex(struct buf *out, const char *const *segments,
		     bool trailing_slash);

#endif
