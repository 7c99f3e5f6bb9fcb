/* Unit tests: api URL building, operation-location resolution and the
 * HTTP status -> errno table. No request is made. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "api.h"
#include "partnerfs/rest.h"

static const char *url_of(struct buf *b, const char *const *segs)
{
	buf_reset(b);
	if (api_build_url(b, segs))
		return "(error)";
	return b->data;
}

static void test_build_url(void)
{
	struct api_config cfg = {.endpoint = "https://cloudpartner.azure.com/"};
	struct buf b = BUF_INIT;
	const char *pubs[] = {"publishers", NULL};
	const char *offer[] = {"publishers", "contoso", "offers", "vm", NULL};
	const char *legacy[] = {"operations", "contoso$o$2$preview", NULL};
	const char *odd[] = {"publishers", "caf\xc3\xa9 x", NULL};

	CHECK(api_init(&cfg) == 0);
	CHECK_STR(rest_endpoint(), "https://cloudpartner.azure.com");
	CHECK_STR(url_of(&b, pubs), "https://cloudpartner.azure.com/api/"
				    "publishers?api-version=2017-10-31");
	CHECK_STR(url_of(&b, offer),
		  "https://cloudpartner.azure.com/api/publishers/contoso/"
		  "offers/vm?api-version=2017-10-31");
	CHECK_STR(url_of(&b, legacy),
		  "https://cloudpartner.azure.com/api/operations/"
		  "contoso%24o%242%24preview?api-version=2017-10-31");
	CHECK_STR(url_of(&b, odd), "https://cloudpartner.azure.com/api/"
				   "publishers/caf%C3%A9%20x?api-version="
				   "2017-10-31");

	cfg.endpoint = "http://127.0.0.1:8088";
	cfg.api_version = "2099-01-01";
	CHECK(api_init(&cfg) == 0);
	CHECK_STR(
		url_of(&b, pubs),
		"http://127.0.0.1:8088/api/publishers?api-version=2099-01-01");

	cfg.endpoint = "ftp://x";
	CHECK(api_init(&cfg) == -EINVAL);
	cfg.endpoint = NULL;
	CHECK(api_init(&cfg) == -EINVAL);
	cfg.endpoint = "http://x";
	cfg.api_version = "a&b=c/d";
	CHECK(api_init(&cfg) == -EINVAL);
	buf_free(&b);
	api_cleanup();
}

static const char *resolved(struct buf *b, const char *loc)
{
	buf_reset(b);
	if (api_resolve_location(loc, b))
		return "(error)";
	return b->data;
}

static void test_resolve_location(void)
{
	struct api_config cfg = {.endpoint = "https://cloudpartner.azure.com"};
	struct buf b = BUF_INIT;

	CHECK(api_init(&cfg) == 0);
	/* 2020 migrated offer: relative, with api-version. */
	CHECK_STR(resolved(&b, "/api/publishers/contoso/offers/contoso-offer/"
			       "operations/56615b67-2185-49fe-80d2-"
			       "c4ddf77bb2e8?api-version=2017-10-31"),
		  "https://cloudpartner.azure.com/api/publishers/contoso/"
		  "offers/contoso-offer/operations/56615b67-2185-49fe-80d2-"
		  "c4ddf77bb2e8?api-version=2017-10-31");
	/* Legacy ids with '$', relative. */
	CHECK_STR(resolved(&b, "/api/operations/contoso$contoso-offer$2$"
			       "preview?api-version=2017-10-31"),
		  "https://cloudpartner.azure.com/api/operations/contoso$"
		  "contoso-offer$2$preview?api-version=2017-10-31");
	/* 2018 absolute form without api-version. */
	CHECK_STR(resolved(&b, "https://cloudpartner.azure.com/api/publishers/"
			       "contoso/offers/contoso-virtualmachineoffer/"
			       "operations/56615b67"),
		  "https://cloudpartner.azure.com/api/publishers/contoso/"
		  "offers/contoso-virtualmachineoffer/operations/56615b67"
		  "?api-version=2017-10-31");
	/* Same host, spelled differently. */
	CHECK_STR(resolved(&b, "HTTPS://CloudPartner.Azure.com:443/api/x"),
		  "HTTPS://CloudPartner.Azure.com:443/api/x?api-version="
		  "2017-10-31");
	/* Relative without api-version; other parameters kept. */
	CHECK_STR(resolved(&b, "/api/operations/p$o$2$preview"),
		  "https://cloudpartner.azure.com/api/operations/p$o$2$preview"
		  "?api-version=2017-10-31");
	CHECK_STR(resolved(&b, "/api/x/?foo=1"),
		  "https://cloudpartner.azure.com/api/x/?foo=1&api-version="
		  "2017-10-31");
	CHECK_STR(
		resolved(&b, "/api/x?"),
		"https://cloudpartner.azure.com/api/x?api-version=2017-10-31");
	CHECK_STR(resolved(&b, "/api/x?a=1&api-version=2016-08-01"),
		  "https://cloudpartner.azure.com/api/x?a=1&api-version="
		  "2016-08-01");
	/* A parameter that merely ends in api-version is not it. */
	CHECK_STR(resolved(&b, "/api/x?old-api-version=1"),
		  "https://cloudpartner.azure.com/api/x?old-api-version=1"
		  "&api-version=2017-10-31");
	CHECK_STR(
		resolved(&b, "/api/x#frag"),
		"https://cloudpartner.azure.com/api/x?api-version=2017-10-31");

	/* Everything else is refused. */
	CHECK_STR(resolved(&b, NULL), "(error)");
	CHECK_STR(resolved(&b, ""), "(error)");
	CHECK_STR(resolved(&b, "api/operations/x"), "(error)");
	CHECK_STR(resolved(&b, "operations/x"), "(error)");
	CHECK_STR(resolved(&b, "//evil.example/api/x"), "(error)");
	CHECK_STR(resolved(&b, "ftp://cloudpartner.azure.com/api/x"),
		  "(error)");
	CHECK_STR(resolved(&b, "javascript:alert(1)"), "(error)");
	CHECK_STR(resolved(&b, "/api/x y"), "(error)");
	CHECK_STR(resolved(&b, "/api/x\r\nX-Evil: 1"), "(error)");
	/* Our token must not follow a location to another server. */
	CHECK_STR(resolved(&b, "https://evil.example/api/x"), "(error)");
	CHECK_STR(resolved(&b, "http://cloudpartner.azure.com/api/x"),
		  "(error)");
	CHECK_STR(resolved(&b, "https://cloudpartner.azure.com:8443/api/x"),
		  "(error)");
	CHECK_STR(resolved(&b, "https://cloudpartner.azure.com@evil.example/"),
		  "(error)");
	CHECK_STR(resolved(&b, "https://cloudpartner.azure.com.evil.example/"),
		  "(error)");
	api_cleanup();

	/* An emulator endpoint with a port. */
	cfg.endpoint = "http://127.0.0.1:8088/";
	CHECK(api_init(&cfg) == 0);
	CHECK_STR(resolved(&b, "/api/operations/a$b$1$preview?api-version="
			       "2017-10-31"),
		  "http://127.0.0.1:8088/api/operations/a$b$1$preview"
		  "?api-version=2017-10-31");
	CHECK_STR(resolved(&b, "http://127.0.0.1:8088/api/x"),
		  "http://127.0.0.1:8088/api/x?api-version=2017-10-31");
	CHECK_STR(resolved(&b, "http://127.0.0.1:8089/api/x"), "(error)");
	CHECK_STR(resolved(&b, "http://127.0.0.1/api/x"), "(error)");
	api_cleanup();

	cfg.endpoint = "http://[::1]:8088";
	CHECK(api_init(&cfg) == 0);
	CHECK_STR(resolved(&b, "http://[::1]:8088/api/x?api-version=1"),
		  "http://[::1]:8088/api/x?api-version=1");
	CHECK_STR(resolved(&b, "http://[::2]:8088/api/x"), "(error)");
	api_cleanup();
	buf_free(&b);
}

static void test_errno_for_status(void)
{
	long ok[] = {200, 201, 202, 204, 299};
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		CHECK(rest_errno_for_status(ok[i]) == 0);
	CHECK(rest_errno_for_status(400) == -EINVAL);
	CHECK(rest_errno_for_status(422) == -EINVAL);
	CHECK(rest_errno_for_status(401) == -EACCES);
	CHECK(rest_errno_for_status(403) == -EACCES);
	CHECK(rest_errno_for_status(404) == -ENOENT);
	CHECK(rest_errno_for_status(409) == -EBUSY);
	CHECK(rest_errno_for_status(412) == -ESTALE);
	CHECK(rest_errno_for_status(429) == -EAGAIN);
	CHECK(rest_errno_for_status(503) == -EAGAIN);
	CHECK(rest_errno_for_status(500) == -EIO);
	CHECK(rest_errno_for_status(502) == -EIO);
	CHECK(rest_errno_for_status(504) == -EIO);
	CHECK(rest_errno_for_status(599) == -EIO);
	CHECK(rest_errno_for_status(405) == -EINVAL);
	CHECK(rest_errno_for_status(413) == -EINVAL);
	CHECK(rest_errno_for_status(499) == -EINVAL);
	CHECK(rest_errno_for_status(0) == -EIO);
	CHECK(rest_errno_for_status(100) == -EIO);
	CHECK(rest_errno_for_status(302) == -EIO);
}

/* Names that could change the request path are refused before any
 * request (and before a token is even asked for). */
static void test_invalid_idents_refused(void)
{
	struct api_config cfg = {.endpoint = "http://127.0.0.1:1"};
	struct api_result res;

	CHECK(api_init(&cfg) == 0);
	CHECK(api_get_offer("..", "x", &res) == -ENOENT);
	CHECK(res.status == 0 && res.message != NULL);
	api_result_free(&res);
	CHECK(api_list_offers("a/b", &res) == -ENOENT);
	api_result_free(&res);
	CHECK(api_get_slot("p", "o", "%2e", &res) == -ENOENT);
	api_result_free(&res);
	CHECK(api_post_action("p", "o", "delete", NULL, &res) == -EINVAL);
	api_result_free(&res);
	CHECK(api_get_url("https://evil.example/api/x", &res) == -EINVAL);
	api_result_free(&res);
	api_cleanup();
}

int main(void)
{
	RUN(test_build_url);
	RUN(test_resolve_location);
	RUN(test_errno_for_status);
	RUN(test_invalid_idents_refused);
	return check_exit_status();
}
