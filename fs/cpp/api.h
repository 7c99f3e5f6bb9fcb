/* api: the Cloud Partner Portal API's requests (doc/cpp-api.md): every URL
 * it has, built in one place (identifiers percent-encoded, api-version
 * added), and its typed calls on top of rest. Knows nothing of FUSE. */
#ifndef PARTNERFS_CPP_API_H
#define PARTNERFS_CPP_API_H

#include "partnerfs/buf.h"

struct api_config {
	const char *endpoint;	 /* e.g. https://cloudpartner.azure.com */
	const char *api_version; /* default API_DEFAULT_VERSION */
};

#define API_DEFAULT_VERSION "2017-10-31"
/* The Azure AD resource of CPP tokens (doc/cpp-api.md §2.1). */
#define API_RESOURCE "https://cloudpartner.azure.com"

int api_init(const struct api_config *cfg);
void api_cleanup(void);

struct api_result {
	long status;	    /* HTTP status, 0 if none */
	struct buf body;    /* response body as received */
	char *etag;	    /* ETag header, verbatim */
	char *op_url;	    /* absolute operation URL from Operation-Location,
			     * else Location (202 answers) */
	char *message;	    /* API error message or transport reason, for the
			     * user; NULL on success */
	long retry_after_s; /* Retry-After of the answer, -1 when absent */
};

void api_result_free(struct api_result *res);

/* The documents of the API, each a GET. ids: the publisher, the offer and
 * the doc's own argument (slot, version, operation id), as many as the
 * doc takes. */
enum api_doc {
	API_PUBLISHERS,	 /* /api/publishers */
	API_OFFERS,	 /* .../<pub>/offers */
	API_OFFER,	 /* .../offers/<offer> */
	API_STATUS,	 /* .../offers/<offer>/status */
	API_SLOT,	 /* .../offers/<offer>/slot/<slot> */
	API_VERSION,	 /* .../offers/<offer>/versions/<n> */
	API_SUBMISSIONS, /* .../offers/<offer>/submissions/ */
	API_OPERATION,	 /* .../offers/<offer>/operations/<id> */
};
/* The URL of doc. 0, -ENOENT for ids that are not identifiers (nothing
 * may be sent), -ENOMEM. */
int api_doc_url(enum api_doc doc, const char *const *ids, struct buf *out);

/* URL of /api/<seg>/<seg>...?api-version=V; segments percent-encoded.
 * The list ends with NULL. 0 or -ENOMEM. */
int api_build_url(struct buf *out, const char *const *segments);
/* Absolute URL of an operation location (absolute, or relative to the
 * endpoint); adds api-version when the location has none. 0 or -EINVAL. */
int api_resolve_location(const char *location, struct buf *out);

/* Every call returns 0 on 2xx, else -errno (res->status and res->message
 * say why; the message is also logged). */
int api_list_publishers(struct api_result *res);
int api_list_offers(const char *pub, struct api_result *res);
int api_get_offer(const char *pub, const char *offer, struct api_result *res);
int api_get_offer_status(const char *pub, const char *offer,
			 struct api_result *res);
int api_get_slot(const char *pub, const char *offer, const char *slot,
		 struct api_result *res);
int api_get_version(const char *pub, const char *offer, const char *version,
		    struct api_result *res);
int api_list_submissions(const char *pub, const char *offer,
			 struct api_result *res);
int api_get_url(const char *url, struct api_result *res);
/* action: "publish", "golive" or "cancel"; emails: "a@x,b@y" (may be NULL
 * for no body). Never retried once the request may have been sent. */
int api_post_action(const char *pub, const char *offer, const char *action,
		    const char *emails, struct api_result *res);
/* if_match NULL sends "*". */
int api_put_offer(const char *pub, const char *offer, const char *json,
		  size_t len, const char *if_match, struct api_result *res);

#endif
