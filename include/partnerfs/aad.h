/* aad: one Azure AD client-credentials token request, at the v1 or the
 * v2.0 endpoint (doc/cpp-api.md §2.1, doc/ingestion-api.md §1). Holds no
 * state; auth.c decides when to ask and caches the answer. */
#ifndef PARTNERFS_AAD_H
#define PARTNERFS_AAD_H

#include <stdbool.h>
#include <stddef.h>

struct aad_client {
	const char *authority; /* https://login.microsoftonline.com */
	const char *tenant;
	const char *client_id;
	const char *secret;   /* never logged, never in why */
	const char *resource; /* whose token: the backend's resource */
	/* v2.0: POST .../oauth2/v2.0/token with scope=<resource>/.default;
	 * v1: POST .../oauth2/token with resource=<resource>. */
	bool v2;
};

/* POSTs the form and reads the answer. 0, *token malloc'd and *lifetime_s
 * (seconds, -1 when the answer gave none); else -errno (-EACCES when
 * Azure AD refused, the transport errno otherwise) and a one-line reason
 * with AAD's error code and description in why. */
int aad_request_token(const struct aad_client *c, char **token,
		      long long *lifetime_s, char *why, size_t why_size);

#endif
