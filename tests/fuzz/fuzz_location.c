/** @file
 * fuzz_location: an Operation-Location / Location header value -> the
 * operation id (a path component) and the absolute URL partnerfs polls
 * with its bearer token. The URL must stay on the endpoint's origin.
 *
 *   build-fuzz/tests/fuzz/fuzz_location tests/fuzz/corpus/location
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "partnerfs/buf.h"
#include "partnerfs/ident.h"
#include "partnerfs/log.h"
#include "model.h"

#define ENDPOINT "https://cloudpartner.azure.com"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int ready;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api_config cfg = {.endpoint = ENDPOINT};
	struct buf url = BUF_INIT;
	char *loc, id[IDENT_MAX + 1];
	const char *rest;

	if (!ready) {
		log_set_level(LOG_LVL_ERROR);
		if (api_init(&cfg))
			abort();
		ready = 1;
	}
	/* Header values are NUL-free strings by the time curl hands them
	 * over. */
	loc = strndup((const char *)data, size);
	if (!loc)
		return 0;
	if (model_operation_id_from_url(loc, id, sizeof(id)) == 0 &&
	    !ident_is_valid(id))
		abort();
	if (api_resolve_location(loc, &url) == 0) {
		/* Same scheme and host as the endpoint (the port, if any,
		 * the default one: "host:" is the default port too, for
		 * curl as for RFC 3986), then a path or the query. */
		if (!url.data ||
		    strncasecmp(url.data, ENDPOINT, strlen(ENDPOINT)) != 0)
			abort();
		rest = url.data + strlen(ENDPOINT);
		if (*rest == ':')
			rest += strncmp(rest, ":443", 4) == 0 ? 4 : 1;
		if (*rest != '/' && *rest != '?')
			abort();
		if (!strcasestr(url.data, "api-version="))
			abort();
	}
	buf_free(&url);
	free(loc);
	return 0;
}
