/* http: libcurl transport. One easy handle per thread (kept alive, so a
 * connection is reused), a CURLSH sharing DNS and TLS sessions only.
 * Knows nothing of the API's JSON or of FUSE. */
#ifndef PARTNERFS_HTTP_H
#define PARTNERFS_HTTP_H

#include "partnerfs/buf.h"
#include <stdbool.h>
#include <stddef.h>

struct http_config {
	long timeout_ms; /* whole request, default 30000 */
	int retries;	 /* extra attempts for idempotent requests, default 3 */
	const char *cafile; /* NULL: system store */
	bool insecure;	    /* only when the user asks: skips TLS checks */
	size_t max_body;    /* responses larger than this fail with EFBIG */
};

int http_init(const struct http_config *cfg);
void http_cleanup(void);

struct http_request {
	const char *method; /* "GET", "PUT", "POST" */
	const char *url;
	const char *
		bearer; /* token, sent as Authorization: Bearer; never logged */
	const char *body; /* NULL: no body */
	size_t body_len;
	const char *content_type; /* for form posts; default application/json */
	const char *if_match;	  /* NULL: no If-Match header */
	/* One more response header the caller wants (its name), kept in
	 * http_response.header; NULL: none. */
	const char *want_header;
};

struct http_response {
	long status; /* 0 when no response arrived */
	struct buf body;
	char *etag; /* response headers, NULL when absent */
	char *location;
	char *header;	    /* the value of http_request.want_header */
	long retry_after_s; /* -1 when absent */
	long elapsed_ms;
};

/* Performs the request. GET is retried on 429/503/connection errors with
 * backoff honouring Retry-After (bounded by timeout); PUT/POST only when the
 * connection was refused before anything was sent. Returns 0 when an HTTP
 * response arrived (any status), else -ETIMEDOUT, -EHOSTUNREACH (cannot
 * connect / resolve), -EFBIG, -EIO. Output is valid after either return and
 * must be released with http_response_free. */
int http_perform(const struct http_request *req, struct http_response *resp);
void http_response_free(struct http_response *resp);

/* Counters for .partnerfs/stats: appends "requests GET 200 12\n" lines. */
void http_stats_render(struct buf *out);

#endif
