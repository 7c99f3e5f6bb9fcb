/* rest: one authenticated request to the mounted API's endpoint, for any
 * backend. Adds the bearer token, retries once after a 401 with a
 * refreshed one, maps the outcome to an errno (the one table of
 * doc/design.md §2) and puts a message for the user in the result. Also
 * the endpoint's URLs: a location a server hands back is only followed
 * on the endpoint's own origin, since the token goes with it. Knows
 * nothing of FUSE, nor of any API's paths or JSON shapes. */
#ifndef PARTNERFS_REST_H
#define PARTNERFS_REST_H

#include <stddef.h>

#include "partnerfs/buf.h"

/* endpoint: an http:// or https:// base URL. 0, -EINVAL or -ENOMEM. */
int rest_init(const char *endpoint);
void rest_cleanup(void);
/* The endpoint without a trailing '/'; NULL before rest_init. */
const char *rest_endpoint(void);

struct rest_request {
	const char *method; /* "GET", "PUT", "POST" */
	const char *url;    /* absolute, on the endpoint */
	const char *body;   /* NULL: none */
	size_t body_len;
	const char *if_match;	 /* NULL: no If-Match */
	const char *want_header; /* one more response header to keep */
};

struct rest_result {
	long status;	    /* HTTP status, 0 if none */
	struct buf body;    /* as received */
	char *etag;	    /* ETag, verbatim */
	char *location;	    /* Location */
	char *header;	    /* the value of want_header */
	char *message;	    /* for the user (API message or transport
			     * reason); NULL on success */
	long retry_after_s; /* -1 when absent */
};
void rest_result_init(struct rest_result *res);
void rest_result_free(struct rest_result *res);

/* 0 on 2xx, else -errno; res says why, and the message is logged (a 404
 * of a GET at info level: shells probe names that do not exist). */
int rest_perform(const struct rest_request *rq, struct rest_result *res);

/* HTTP status -> errno: 0 for 2xx. */
int rest_errno_for_status(long status);

/* The absolute URL of location, which is absolute on the endpoint's
 * origin or a path relative to the endpoint; its fragment dropped. 0, or
 * -EINVAL for anything else (another host, control bytes, "//host"). */
int rest_resolve(const char *location, struct buf *out);
/* Appends "key=value" (value percent-encoded) to url's query unless the
 * query already has key. 0 or -ENOMEM. */
int rest_query_ensure(struct buf *url, const char *key, const char *value);

#endif
